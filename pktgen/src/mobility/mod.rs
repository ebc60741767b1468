//! Mobility workloads: the traffic a home agent, foreign agent, MAP or MMA sees, generated
//! live for up to 10,000,000 mobiles, and the receive side that checks what the device
//! under test made of it.
//!
//! [`plan`] computes every address from a mobile's index, [`keys`] the mobiles' MN-HA
//! keys (and writes the matching mipdp configuration), [`build`] writes each frame in
//! place, [`check`] reads what comes back, [`counts`] adds it all up for the summary.

pub mod build;
pub mod check;
pub mod counts;
pub mod keys;
pub mod plan;
pub mod wire;

pub use build::{FrameKind, MalformedKind, Sizes, Tunnel, Workload, WorkloadKind};
pub use check::{Encapsulation, Expectation, Mismatch, Received};
pub use counts::{MobilityCounts, MobilitySummary};
pub use keys::Keys;
pub use plan::{AddressPlan, Family};

#[cfg(test)]
mod tests;
