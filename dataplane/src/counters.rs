//! Per-worker counters. The worker keeps plain local counts and publishes them with
//! relaxed stores once per poll; the control thread reads the shared copy at any time.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a worker dropped a packet. Every drop is counted by its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum DropReason {
    /// Shorter than an Ethernet header.
    Runt = 0,
    /// The processor has no egress for the packet's ingress port.
    NoEgress = 1,
    /// The NIC did not take the packet within the TX retry bound.
    TxFull = 2,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 3] = [DropReason::Runt, DropReason::NoEgress, DropReason::TxFull];

    /// Name used in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Runt => "runt",
            DropReason::NoEgress => "no_egress",
            DropReason::TxFull => "tx_full",
        }
    }
}

/// Number of drop reasons.
pub const DROP_REASONS: usize = DropReason::ALL.len();

/// The shared, readable copy of one worker's counters.
#[derive(Debug)]
pub struct WorkerCounters {
    rx: Box<[AtomicU64]>,
    tx: Box<[AtomicU64]>,
    drops: [AtomicU64; DROP_REASONS],
    polls: AtomicU64,
    idle_sleeps: AtomicU64,
}

/// A plain copy of a worker's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerSnapshot {
    /// Packets received, by port index.
    pub rx: Vec<u64>,
    /// Packets sent, by port index.
    pub tx: Vec<u64>,
    /// Packets dropped, by [`DropReason`] order.
    pub drops: [u64; DROP_REASONS],
    /// Polls of all RX queues.
    pub polls: u64,
    /// Times the worker slept because it was idle.
    pub idle_sleeps: u64,
}

impl WorkerSnapshot {
    /// All drops together.
    pub fn dropped(&self) -> u64 {
        self.drops.iter().sum()
    }

    /// Drops for one reason.
    pub fn drops_for(&self, reason: DropReason) -> u64 {
        self.drops[reason as usize]
    }
}

impl WorkerCounters {
    /// Zeroed counters for a worker serving `ports` ports.
    pub fn new(ports: usize) -> WorkerCounters {
        WorkerCounters {
            rx: (0..ports).map(|_| AtomicU64::new(0)).collect(),
            tx: (0..ports).map(|_| AtomicU64::new(0)).collect(),
            drops: Default::default(),
            polls: AtomicU64::new(0),
            idle_sleeps: AtomicU64::new(0),
        }
    }

    /// Reads the counters.
    pub fn snapshot(&self) -> WorkerSnapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        WorkerSnapshot {
            rx: self.rx.iter().map(load).collect(),
            tx: self.tx.iter().map(load).collect(),
            drops: std::array::from_fn(|i| load(&self.drops[i])),
            polls: load(&self.polls),
            idle_sleeps: load(&self.idle_sleeps),
        }
    }
}

/// The worker's own counts; published to [`WorkerCounters`] without any atomic RMW.
#[derive(Debug)]
pub(crate) struct LocalCounters {
    pub rx: Box<[u64]>,
    pub tx: Box<[u64]>,
    pub drops: [u64; DROP_REASONS],
    pub polls: u64,
}

impl LocalCounters {
    pub fn new(ports: usize) -> LocalCounters {
        LocalCounters {
            rx: vec![0; ports].into_boxed_slice(),
            tx: vec![0; ports].into_boxed_slice(),
            drops: [0; DROP_REASONS],
            polls: 0,
        }
    }

    #[inline]
    pub fn publish(&self, shared: &WorkerCounters, idle_sleeps: u64) {
        for (s, v) in shared.rx.iter().zip(self.rx.iter()) {
            s.store(*v, Ordering::Relaxed);
        }
        for (s, v) in shared.tx.iter().zip(self.tx.iter()) {
            s.store(*v, Ordering::Relaxed);
        }
        for (s, v) in shared.drops.iter().zip(self.drops.iter()) {
            s.store(*v, Ordering::Relaxed);
        }
        shared.polls.store(self.polls, Ordering::Relaxed);
        shared.idle_sleeps.store(idle_sleeps, Ordering::Relaxed);
    }
}
