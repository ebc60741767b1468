//! mipdp-dataplane: everything a worker core does per packet.
//!
//! A worker owns one RX queue and one TX queue on every port, polls them run to completion
//! (rx burst → process → tx burst per egress port) and backs off when idle. The processing
//! step is a [`Processor`]; today that is the diagnostic [`forwarder::Forwarder`] (port to
//! port with MAC rewrite, testpmd's mac mode), which stays as mipdp's own performance floor
//! once the mobility engine lands. Nothing here allocates, locks, logs or makes a syscall per
//! packet; only an idle worker sleeps.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod backoff;
pub mod counters;
pub mod engine;
pub mod forwarder;
pub mod port;
pub mod profile;
pub mod roles;
pub mod tables;
pub mod tunnel;
pub mod update;
pub mod wire;
pub mod worker;

pub use backoff::IdleBackoff;
pub use counters::{DropReason, WorkerCounters, WorkerSnapshot};
pub use forwarder::{Forwarder, ForwarderPort};
pub use port::{PacketBatch, PacketBuf, RxPort, TxOutcome, TxPort};
pub use worker::{Action, Processor, Worker, WorkerError};
