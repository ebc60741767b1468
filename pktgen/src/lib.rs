//! mipdp-pktgen: a DPDK traffic generator that measures what a device under test does to
//! its traffic: loss, reordering, duplication and one-way latency.
//!
//! [`frame`] builds and parses the probe frames (pure functions), [`sequence`] and
//! [`report`] account for what came back, [`pacing`] holds the transmit rate, and
//! [`generator`] runs it all on DPDK ports. The binary `mipdp-pktgen` is its command line.

pub mod frame;
pub mod generator;
pub mod mobility;
pub mod pacing;
pub mod report;
pub mod sequence;
