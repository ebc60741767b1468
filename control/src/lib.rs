//! mipdp-control: the control thread and the `mipdp` command line.
//!
//! Today: the validated configuration ([`config`]) and the runtime that brings up DPDK,
//! the ports and the pinned workers, prints counters, and stops cleanly on SIGINT/SIGTERM
//! ([`runtime`]); the mobility signalling as pure decision logic ([`signalling`]) over the
//! authoritative binding state ([`state`]). The durable binding store ([`backup`]); redundancy comes with its issue.

pub mod api;
pub mod backup;
pub mod config;
pub mod mobility;
pub mod node;
pub mod recovery;
pub mod registration;
pub mod runtime;
pub mod signalling;
pub mod state;
