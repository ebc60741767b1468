//! mipdp-control: the control thread and the `mipdp` command line.
//!
//! Today: the validated configuration ([`config`]) and the runtime that brings up DPDK,
//! the ports and the pinned workers, prints counters, and stops cleanly on SIGINT/SIGTERM
//! ([`runtime`]). Signalling, state, backup and redundancy come with their issues.

pub mod api;
pub mod config;
pub mod mobility;
pub mod node;
pub mod runtime;
