//! mipdp-control: the control thread and the `mipdp` command line.
//!
//! Today: the validated configuration ([`config`]) and the runtime that brings up DPDK,
//! the ports and the pinned workers, prints counters, and stops cleanly on SIGINT/SIGTERM
//! ([`runtime`]); the mobility signalling as pure decision logic ([`signalling`]) over the
//! authoritative binding state ([`state`]). Backup and redundancy come with their issues.

pub mod api;
pub mod config;
pub mod mobility;
pub mod node;
pub mod registration;
pub mod runtime;
pub mod signalling;
pub mod state;
