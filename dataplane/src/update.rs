//! Control → worker updates and the epoch handshake.
//!
//! The control thread is the only writer of the per-core tables. Every change is one
//! [`Update`], numbered with the next epoch and sent to every worker down that worker's
//! own bounded lock-free queue (a crossbeam `ArrayQueue`: single producer, single
//! consumer here). A worker applies at most its budget of updates before each RX burst
//! ([`UpdateReceiver::apply`]) and then publishes the epoch of the last one it applied.
//! The control side never blocks on a slow worker: what does not fit in a queue waits in
//! that worker's backlog on the control side, in order, and moves on with
//! [`UpdateSender::flush`]. [`UpdateSender::wait_visible`] waits until every worker has
//! reached an epoch, e.g. before a registration reply says "accepted".

use core::net::IpAddr;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;

use crate::profile::{Class, Policy, Profile, ProfileId};
use crate::tables::{
    AnycastGroup, Binding, CacheEntry, MulticastEntry, Prefix, Route, TableError, Tables,
    TargetState, Visitor,
};

/// One change to the per-core tables.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Install or replace the binding of a home address.
    Binding {
        /// Home address.
        home: IpAddr,
        /// Its binding.
        binding: Binding,
    },
    /// Remove the binding of a home address.
    RemoveBinding {
        /// Home address.
        home: IpAddr,
    },
    /// Add or update a visitor.
    Visitor {
        /// The visitor's home address.
        home: IpAddr,
        /// Where it is on the link.
        visitor: Visitor,
    },
    /// Remove a visitor.
    RemoveVisitor {
        /// The visitor's home address.
        home: IpAddr,
    },
    /// Add or replace a binding-cache entry.
    CacheEntry {
        /// Destination.
        dst: IpAddr,
        /// Entry.
        entry: CacheEntry,
    },
    /// Remove a binding-cache entry.
    RemoveCacheEntry {
        /// Destination.
        dst: IpAddr,
    },
    /// Add or replace a multicast-map entry.
    Multicast {
        /// The mobile's home or care-of address.
        key: IpAddr,
        /// Entry.
        entry: MulticastEntry,
    },
    /// Remove a multicast-map entry.
    RemoveMulticast {
        /// The mobile's home or care-of address.
        key: IpAddr,
    },
    /// Install or replace the targets of an anycast address.
    Anycast {
        /// The anycast address.
        addr: IpAddr,
        /// Its targets.
        group: AnycastGroup,
    },
    /// Change the state of one anycast target.
    AnycastState {
        /// The anycast address.
        addr: IpAddr,
        /// The target.
        target: IpAddr,
        /// Its new state.
        state: TargetState,
    },
    /// Remove an anycast address.
    RemoveAnycast {
        /// The anycast address.
        addr: IpAddr,
    },
    /// Add or replace a route.
    Route {
        /// Prefix.
        prefix: Prefix,
        /// Route.
        route: Route,
    },
    /// Remove a route.
    RemoveRoute {
        /// Prefix.
        prefix: Prefix,
    },
    /// Record a resolved neighbour.
    Neighbour {
        /// Port index.
        port: u16,
        /// Its IP address.
        ip: IpAddr,
        /// Its MAC.
        mac: [u8; 6],
    },
    /// Forget a neighbour.
    RemoveNeighbour {
        /// Port index.
        port: u16,
        /// Its IP address.
        ip: IpAddr,
    },
    /// Add or replace a service profile (in its class).
    Profile(Profile),
    /// Remove a service profile.
    RemoveProfile {
        /// Its class.
        class: Class,
        /// Its id.
        id: ProfileId,
    },
    /// Set the order the profile classes are searched in.
    Policy(Policy),
}

/// What applying an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The table changed (or a removal found nothing to remove).
    Done,
    /// The table refused it.
    Refused(TableError),
}

impl Tables {
    /// Applies one update to these tables.
    pub fn apply(&mut self, update: &Update) -> Applied {
        let result = match *update {
            Update::Binding { home, binding } => self.insert_binding(home, binding),
            Update::RemoveBinding { home } => {
                self.remove_binding(home);
                Ok(())
            }
            Update::Visitor { home, visitor } => self.visitors.insert(home, visitor),
            Update::RemoveVisitor { home } => {
                self.visitors.remove(home);
                Ok(())
            }
            Update::CacheEntry { dst, entry } => self.cache.insert(dst, entry),
            Update::RemoveCacheEntry { dst } => {
                self.cache.remove(dst);
                Ok(())
            }
            Update::Multicast { key, entry } => self.multicast.insert(key, entry),
            Update::RemoveMulticast { key } => {
                self.multicast.remove(key);
                Ok(())
            }
            Update::Anycast { addr, group } => self.anycast.insert(addr, group),
            Update::AnycastState {
                addr,
                target,
                state,
            } => {
                self.anycast.set_state(addr, target, state);
                Ok(())
            }
            Update::RemoveAnycast { addr } => {
                self.anycast.remove(addr);
                Ok(())
            }
            Update::Route { prefix, route } => self.routes.insert(prefix, route),
            Update::RemoveRoute { prefix } => {
                self.routes.remove(prefix);
                Ok(())
            }
            Update::Neighbour { port, ip, mac } => self.neighbours.insert(port, ip, mac),
            Update::RemoveNeighbour { port, ip } => {
                self.neighbours.remove(port, ip);
                Ok(())
            }
            Update::Profile(profile) => self.insert_profile(profile),
            Update::RemoveProfile { class, id } => {
                self.remove_profile(class, id);
                Ok(())
            }
            Update::Policy(policy) => {
                self.set_policy(policy);
                Ok(())
            }
        };
        match result {
            Ok(()) => Applied::Done,
            Err(e) => Applied::Refused(e),
        }
    }
}

/// One worker's end of the channel, shared by both sides.
#[derive(Debug)]
struct Channel {
    queue: ArrayQueue<(u64, Update)>,
    /// The epoch of the last update the worker applied.
    reached: CachePadded<AtomicU64>,
    /// Updates the worker's tables refused (full or invalid); the control thread checks
    /// its limits first, so a non-zero count is a bug or a configuration mismatch.
    refused: CachePadded<AtomicU64>,
}

/// The control thread's side: sends each update to every worker, in order.
#[derive(Debug)]
pub struct UpdateSender {
    channels: Vec<Arc<Channel>>,
    backlog: Vec<VecDeque<(u64, Update)>>,
    epoch: u64,
}

/// A worker's side.
#[derive(Debug)]
pub struct UpdateReceiver {
    channel: Arc<Channel>,
    budget: usize,
    reached: u64,
    refused: u64,
}

/// Creates the channels for `workers` workers, each queue holding `capacity` updates, each
/// worker applying at most `budget` updates per poll.
pub fn channels(
    workers: usize,
    capacity: usize,
    budget: usize,
) -> (UpdateSender, Vec<UpdateReceiver>) {
    let channels: Vec<Arc<Channel>> = (0..workers)
        .map(|_| {
            Arc::new(Channel {
                queue: ArrayQueue::new(capacity.max(1)),
                reached: CachePadded::new(AtomicU64::new(0)),
                refused: CachePadded::new(AtomicU64::new(0)),
            })
        })
        .collect();
    let receivers = channels
        .iter()
        .map(|c| UpdateReceiver {
            channel: c.clone(),
            budget: budget.max(1),
            reached: 0,
            refused: 0,
        })
        .collect();
    let sender = UpdateSender {
        backlog: (0..workers).map(|_| VecDeque::new()).collect(),
        channels,
        epoch: 0,
    };
    (sender, receivers)
}

/// Not every worker reached an epoch in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("worker {worker} reached update epoch {reached} of {wanted} within {waited:?}; it may be stalled or its queue too small for the update rate")]
pub struct NotVisible {
    /// The first worker behind.
    pub worker: usize,
    /// The epoch it reached.
    pub reached: u64,
    /// The epoch waited for.
    pub wanted: u64,
    /// How long the wait lasted.
    pub waited: Duration,
}

/// Room a drained backlog keeps; a larger one is freed ([`UpdateSender::flush`]).
const BACKLOG_KEPT: usize = 4096;

impl UpdateSender {
    /// Sends `update` to every worker and returns its epoch. Never blocks: what a full
    /// queue does not take waits in the backlog, in order, until [`Self::flush`].
    pub fn send(&mut self, update: Update) -> u64 {
        self.epoch += 1;
        let epoch = self.epoch;
        let last = self.channels.len().saturating_sub(1);
        let mut update = Some(update);
        for (i, (channel, backlog)) in self.channels.iter().zip(&mut self.backlog).enumerate() {
            let item = if i == last {
                update.take()
            } else {
                update.clone()
            };
            let Some(item) = item else { break };
            if backlog.is_empty() {
                if let Err(rejected) = channel.queue.push((epoch, item)) {
                    backlog.push_back(rejected);
                }
            } else {
                backlog.push_back((epoch, item));
            }
        }
        epoch
    }

    /// Moves what the queues have room for from the backlogs into them; returns the
    /// updates still waiting, over all workers.
    pub fn flush(&mut self) -> usize {
        let mut waiting = 0;
        for (channel, backlog) in self.channels.iter().zip(&mut self.backlog) {
            while let Some(item) = backlog.pop_front() {
                if let Err(rejected) = channel.queue.push(item) {
                    backlog.push_front(rejected);
                    break;
                }
            }
            // A burst (a storm of registrations, a large restore) can grow a backlog to
            // millions of updates; once drained it gives that memory back.
            if backlog.is_empty() && backlog.capacity() > BACKLOG_KEPT {
                *backlog = VecDeque::new();
            }
            waiting += backlog.len();
        }
        waiting
    }

    /// The epoch of the last update sent.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The epoch each worker has reached.
    pub fn reached(&self) -> Vec<u64> {
        self.channels
            .iter()
            .map(|c| c.reached.load(Ordering::Acquire))
            .collect()
    }

    /// Updates refused by the workers' tables, per worker.
    pub fn refused(&self) -> Vec<u64> {
        self.channels
            .iter()
            .map(|c| c.refused.load(Ordering::Relaxed))
            .collect()
    }

    /// Whether every worker has applied every update up to `epoch`.
    pub fn is_visible(&self, epoch: u64) -> bool {
        self.channels
            .iter()
            .all(|c| c.reached.load(Ordering::Acquire) >= epoch)
    }

    /// Flushes the backlogs and waits until every worker has applied `epoch`, or
    /// `timeout` passes.
    pub fn wait_visible(&mut self, epoch: u64, timeout: Duration) -> Result<(), NotVisible> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(20);
        loop {
            self.flush();
            if self.is_visible(epoch) {
                return Ok(());
            }
            let waited = start.elapsed();
            if waited >= timeout {
                let (worker, reached) = self
                    .reached()
                    .into_iter()
                    .enumerate()
                    .find(|(_, r)| *r < epoch)
                    .unwrap_or((0, 0));
                return Err(NotVisible {
                    worker,
                    reached,
                    wanted: epoch,
                    waited,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(1));
        }
    }
}

impl UpdateReceiver {
    /// Applies at most the budget of waiting updates to `tables` and publishes the epoch
    /// reached; returns how many it applied. Called by the worker before each RX burst.
    #[inline]
    pub fn apply(&mut self, tables: &mut Tables) -> usize {
        let mut n = 0;
        while n < self.budget {
            let Some((epoch, update)) = self.channel.queue.pop() else {
                break;
            };
            if let Applied::Refused(_) = tables.apply(&update) {
                self.refused += 1;
            }
            self.reached = epoch;
            n += 1;
        }
        if n > 0 {
            self.channel.reached.store(self.reached, Ordering::Release);
            self.channel.refused.store(self.refused, Ordering::Relaxed);
        }
        n
    }

    /// Whether updates wait in the queue (for the next calls of [`Self::apply`]).
    #[inline]
    pub fn pending(&self) -> bool {
        !self.channel.queue.is_empty()
    }

    /// The most updates applied per call.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The epoch of the last update applied.
    pub fn reached(&self) -> u64 {
        self.reached
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{CareOfList, Encap, TableLimits};

    fn binding(coa: u32) -> Binding {
        Binding {
            care_of: CareOfList::one(IpAddr::V4(core::net::Ipv4Addr::from_bits(coa))),
            encap: Encap::IpInIp,
            source: "192.0.2.1".parse().unwrap(),
            tos: None,
        }
    }

    fn home(i: u32) -> IpAddr {
        IpAddr::V4(core::net::Ipv4Addr::from_bits(0x0a00_0000 + i))
    }

    #[test]
    fn a_drained_backlog_gives_its_memory_back() {
        let (mut tx, mut rx) = channels(1, 64, 1024);
        let mut tables = Tables::new(&TableLimits::default());
        let n = 3 * BACKLOG_KEPT as u32;
        for i in 0..n {
            tx.send(Update::Binding {
                home: home(i),
                binding: binding(0xc633_6400 + i),
            });
        }
        assert!(tx.backlog[0].capacity() >= n as usize - 64);
        while tx.flush() > 0 {
            rx[0].apply(&mut tables);
        }
        assert!(tx.backlog[0].capacity() <= BACKLOG_KEPT);
        while rx[0].apply(&mut tables) > 0 {}
        assert!(tx.is_visible(u64::from(n)));
        assert_eq!(tables.bindings().len(), n as usize);
    }

    #[test]
    fn updates_reach_every_worker_in_order_within_the_budget() {
        let (mut tx, mut rx) = channels(2, 8, 3);
        let mut tables: Vec<Tables> = (0..2)
            .map(|_| Tables::new(&TableLimits::default()))
            .collect();
        for i in 0..20 {
            tx.send(Update::Binding {
                home: home(i),
                binding: binding(0xc633_6400 + i),
            });
        }
        // 8 fit in each queue, 12 wait on the control side.
        assert_eq!(tx.flush(), 24);
        assert!(!tx.is_visible(20));
        // Worker 0 applies 3 per poll; worker 1 is stalled.
        assert_eq!(rx[0].apply(&mut tables[0]), 3);
        assert_eq!(rx[0].reached(), 3);
        assert_eq!(tx.reached(), vec![3, 0]);
        for _ in 0..10 {
            tx.flush();
            let n = rx[0].apply(&mut tables[0]);
            assert!(n <= 3);
        }
        assert_eq!(tx.reached(), vec![20, 0]);
        let err = tx.wait_visible(20, Duration::from_millis(5)).unwrap_err();
        assert_eq!((err.worker, err.reached, err.wanted), (1, 0, 20));
        loop {
            let waiting = tx.flush();
            if rx[1].apply(&mut tables[1]) == 0 && waiting == 0 {
                break;
            }
        }
        tx.wait_visible(20, Duration::from_millis(5)).unwrap();
        for t in &tables {
            assert_eq!(t.bindings.len(), 20);
            assert_eq!(t.bindings.get(home(7)), Some(&binding(0xc633_6407)));
        }
    }

    #[test]
    fn a_later_update_overrides_an_earlier_one_and_refusals_are_counted() {
        let (mut tx, mut rx) = channels(1, 16, 16);
        let limits = TableLimits {
            bindings: 1,
            ..TableLimits::default()
        };
        let mut t = Tables::new(&limits);
        tx.send(Update::Binding {
            home: home(1),
            binding: binding(1),
        });
        tx.send(Update::Binding {
            home: home(1),
            binding: binding(2),
        });
        tx.send(Update::Binding {
            home: home(2),
            binding: binding(3),
        });
        let last = tx.send(Update::RemoveBinding { home: home(3) });
        assert_eq!(rx[0].apply(&mut t), 4);
        assert!(tx.is_visible(last));
        assert_eq!(t.bindings.get(home(1)), Some(&binding(2)));
        assert_eq!(t.bindings.get(home(2)), None);
        assert_eq!(tx.refused(), vec![1]);
    }

    #[test]
    fn updates_cross_threads() {
        let (mut tx, mut rx) = channels(1, 64, 16);
        let mut r = rx.pop().unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let worker = std::thread::spawn(move || {
            let mut t = Tables::new(&TableLimits::default());
            while !s.load(Ordering::Relaxed) {
                if r.apply(&mut t) == 0 {
                    std::thread::yield_now();
                }
            }
            t
        });
        let mut last = 0;
        for i in 0..10_000 {
            last = tx.send(Update::Binding {
                home: home(i),
                binding: binding(i + 1),
            });
            tx.flush();
        }
        tx.wait_visible(last, Duration::from_secs(10)).unwrap();
        stop.store(true, Ordering::Relaxed);
        let t = worker.join().unwrap();
        assert_eq!(t.bindings.len(), 10_000);
    }
}
