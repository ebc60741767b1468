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
    /// A header does not parse (bad length, version, checksum, option).
    Malformed = 3,
    /// An EtherType the node does not handle.
    UnknownEthertype = 4,
    /// No service profile matches.
    NoProfile = 5,
    /// A profile sent the packet to the mobility bindings, which have no entry (fault).
    NoBinding = 6,
    /// A profile sent the packet to the visitor list, which has no entry (fault).
    NoVisitor = 7,
    /// A profile sent the packet to the binding cache, which has no entry (fault).
    NoCacheEntry = 8,
    /// A profile sent the packet to the multicast map, which has no entry (fault).
    NoMulticast = 9,
    /// A profile sent the packet to the anycast table, which does not know the address
    /// (fault).
    NotAnycast = 10,
    /// The anycast address has no online target.
    NoAnycastTarget = 11,
    /// No route to the destination.
    NoRoute = 12,
    /// The next hop is not resolved yet (resolution was requested).
    NoNeighbour = 13,
    /// TTL / hop limit exhausted.
    TtlExpired = 14,
    /// Too big for the tunnel and may not be fragmented.
    TooBig = 15,
    /// The outer packet needs fragmenting, which this path does not do yet.
    NeedsFragmentation = 16,
    /// A profile asked for decapsulation but the packet is not a tunnel packet to this
    /// node (wrong protocol, outer destination not ours, malformed tunnel header).
    NotTunnelled = 17,
    /// More nested tunnel headers than the nesting limit.
    NestingLimit = 18,
    /// Encapsulation refused the packet (method cannot carry it, inner destination is the
    /// tunnel end, RFC 2473 encapsulation limit, no headroom, ECN).
    TunnelRefused = 19,
    /// The queue to the control thread was full.
    PuntFull = 20,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 21] = [
        DropReason::Runt,
        DropReason::NoEgress,
        DropReason::TxFull,
        DropReason::Malformed,
        DropReason::UnknownEthertype,
        DropReason::NoProfile,
        DropReason::NoBinding,
        DropReason::NoVisitor,
        DropReason::NoCacheEntry,
        DropReason::NoMulticast,
        DropReason::NotAnycast,
        DropReason::NoAnycastTarget,
        DropReason::NoRoute,
        DropReason::NoNeighbour,
        DropReason::TtlExpired,
        DropReason::TooBig,
        DropReason::NeedsFragmentation,
        DropReason::NotTunnelled,
        DropReason::NestingLimit,
        DropReason::TunnelRefused,
        DropReason::PuntFull,
    ];

    /// Name used in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Runt => "runt",
            DropReason::NoEgress => "no_egress",
            DropReason::TxFull => "tx_full",
            DropReason::Malformed => "malformed",
            DropReason::UnknownEthertype => "unknown_ethertype",
            DropReason::NoProfile => "no_profile",
            DropReason::NoBinding => "no_binding",
            DropReason::NoVisitor => "no_visitor",
            DropReason::NoCacheEntry => "no_cache_entry",
            DropReason::NoMulticast => "no_multicast",
            DropReason::NotAnycast => "not_anycast",
            DropReason::NoAnycastTarget => "no_anycast_target",
            DropReason::NoRoute => "no_route",
            DropReason::NoNeighbour => "no_neighbour",
            DropReason::TtlExpired => "ttl_expired",
            DropReason::TooBig => "too_big",
            DropReason::NeedsFragmentation => "needs_fragmentation",
            DropReason::NotTunnelled => "not_tunnelled",
            DropReason::NestingLimit => "nesting_limit",
            DropReason::TunnelRefused => "tunnel_refused",
            DropReason::PuntFull => "punt_full",
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
