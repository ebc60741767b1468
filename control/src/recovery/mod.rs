//! Paced verification of the bindings restored from the backup after a restart.
//! Binding-cache backup design; issue 6, "Recovery" steps 2 to 4.
//!
//! Pure logic, no DPDK and no clock: the control thread builds a [`Recovery`] from the
//! restored bindings once they are installed (forwarding has resumed), then calls
//! [`Recovery::poll`] every tick with the time and carries out the [`Action`]s it returns
//! (send a Binding Refresh Request, remove a binding), tells it of every accepted binding
//! update with [`Recovery::confirm`], and shows [`Recovery::progress`].
//!
//! - The work table is ordered by [`order::work_order`]: grouped by care-of prefix, the
//!   groups interleaved, random inside a group, so that no access network takes a burst.
//! - Requests leave at a configured rate and burst (a token bucket), retries first.
//! - A request waits `timeout` for its answer, and is sent `retries` more times; a binding
//!   update that is accepted for the binding confirms it (verified); no answer after the
//!   last retry removes it (removed).
//! - Mobile IPv4 bindings (home agent and foreign agent) are sent nothing: Mobile IPv4 has
//!   no agent-initiated request. They stay until their stored lifetime runs out and are
//!   counted as unverified.
//!
//! The request itself follows RFC 6275 where issue 6 words it differently: the issue asks
//! for a Binding Refresh Request to the care-of address "carrying the home address in a
//! type 2 routing header", but RFC 6275 §6.1 forbids a type 2 routing header on every
//! Mobility Header message but a Binding Acknowledgement. So a home agent, MAP or MMA
//! sends it to the home address from its own address, tunnelled (IPv6 in IPv6, RFC 2473)
//! to the care-of address, as any packet for a bound home address (§10.4.1; the existing
//! [`crate::signalling::mip6::HomeAgent6::binding_refresh_request`]); a correspondent
//! node sends it to the home address (§9.5.5), which reaches the mobile node through its
//! home agent.

pub mod config;
pub mod order;
pub mod pacer;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::backup::{RestoredBinding, Role};
pub use config::{PrefixLengths, RecoverySection, RecoverySettings};
use pacer::Pacer;

/// A binding: the role that owns it and its home address (as the backup keys it).
pub type Key = (Role, IpAddr);

/// How long the request rate in [`Progress::rate`] is averaged over.
pub const RATE_WINDOW: Duration = Duration::from_secs(1);

/// How a restored binding is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// A Binding Refresh Request; a binding update answers it. RFC 6275 §9.5.5, §10.4.1
    /// (home agent, MAP, MMA), §9.5.5 (correspondent node).
    RefreshRequest,
    /// None exists: Mobile IPv4 has no request an agent can send to make a mobile node
    /// register again (RFC 5944). Kept until its lifetime lapses, counted as unverified.
    Unverifiable,
}

/// How the binding of `role` for `home` is verified.
pub fn verification(role: Role, home: IpAddr) -> Verification {
    match (role, home) {
        (Role::ForeignAgent, _) | (_, IpAddr::V4(_)) => Verification::Unverifiable,
        (
            Role::HomeAgent
            | Role::MobilityAnchorPoint
            | Role::MulticastAgent
            | Role::Correspondent,
            IpAddr::V6(_),
        ) => Verification::RefreshRequest,
    }
}

/// What the control thread is to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the verification request for this binding (`attempt` 1 is the first).
    Request {
        /// The binding.
        key: Key,
        /// 1 for the first request, 2 for the first retry, ...
        attempt: u32,
    },
    /// Nothing answered: remove this binding from every worker, the state and the backup.
    Remove(Key),
}

/// Where one binding is in its verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In the work table, not asked yet.
    Queued,
    /// Asked `attempts` times; the last one unanswered until `deadline`.
    Asked { attempts: u32, deadline: Instant },
    /// Its last request went unanswered; a retry waits for a token.
    Retry { attempts: u32 },
    /// A binding update confirmed it.
    Verified,
    /// Nothing answered: removed.
    Removed,
    /// It ended otherwise while it waited (lifetime, deregistration seen as such, removed
    /// by hand): nothing to verify any more.
    Ended,
    /// Not verifiable (Mobile IPv4).
    Unverified,
}

/// Recovery progress. RFC-free: issue 6, "Recovery progress".
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    /// Restored bindings.
    pub total: u64,
    /// Confirmed by a binding update.
    pub verified: u64,
    /// Still to confirm: not asked yet, or waiting for an answer or a retry.
    pub pending: u64,
    /// Removed: nothing answered the last retry.
    pub removed: u64,
    /// Kept unverified until their lifetime lapses (Mobile IPv4).
    pub unverified: u64,
    /// Ended otherwise while pending (lifetime, removed by other means).
    pub ended: u64,
    /// Requests sent, retries included.
    pub requests: u64,
    /// Requests per second over the last [`RATE_WINDOW`].
    pub rate: f64,
}

impl Progress {
    /// Whether every binding's verification is over.
    pub fn done(&self) -> bool {
        self.pending == 0
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "recovery total={} verified={} pending={} removed={} unverified={} ended={} \
             requests={} rate={:.1}/s{}",
            self.total,
            self.verified,
            self.pending,
            self.removed,
            self.unverified,
            self.ended,
            self.requests,
            self.rate,
            if self.done() { " done" } else { "" }
        )
    }
}

/// A progress bar line for a terminal (no newline): `[#####-----] 50% ` and the counts
/// of `p`, `width` characters of bar. What is decided (verified, removed, unverified,
/// ended) fills the bar.
pub fn progress_bar(p: &Progress, width: usize) -> String {
    let decided = p.total.saturating_sub(p.pending);
    let filled = if p.total == 0 {
        width
    } else {
        (decided as u128 * width as u128 / u128::from(p.total)) as usize
    };
    let percent = (decided * 100).checked_div(p.total).unwrap_or(100);
    format!(
        "[{}{}] {percent:>3}% verified={} pending={} removed={} unverified={} {:.0}/s",
        "#".repeat(filled.min(width)),
        "-".repeat(width - filled.min(width)),
        p.verified,
        p.pending,
        p.removed,
        p.unverified,
        p.rate
    )
}

/// The verification of the restored bindings: work table, pacer, timers, counts.
#[derive(Debug)]
pub struct Recovery {
    settings: RecoverySettings,
    states: HashMap<Key, State>,
    /// Not asked yet, in work order.
    queue: VecDeque<Key>,
    /// Unanswered, waiting for a token to be asked again (before the queue).
    retries: VecDeque<Key>,
    /// When each asked binding's request times out (stale entries are skipped).
    deadlines: BinaryHeap<Reverse<(Instant, Key)>>,
    bucket: Pacer,
    /// When the requests of the last [`RATE_WINDOW`] were sent.
    recent: VecDeque<Instant>,
    progress: Progress,
}

impl Recovery {
    /// The verification of `restored` (each (role, home address) once: a later duplicate
    /// is ignored) with `settings`; `seed` shuffles each care-of group.
    pub fn new(restored: &[RestoredBinding], settings: RecoverySettings, seed: u64) -> Recovery {
        let mut states = HashMap::with_capacity(restored.len());
        let mut verifiable = Vec::new();
        let mut progress = Progress::default();
        for r in restored {
            let key = (r.role, r.home);
            if states.contains_key(&key) {
                continue;
            }
            progress.total += 1;
            match verification(r.role, r.home) {
                Verification::Unverifiable => {
                    states.insert(key, State::Unverified);
                    progress.unverified += 1;
                }
                Verification::RefreshRequest => {
                    states.insert(key, State::Queued);
                    verifiable.push((key, r.care_of));
                    progress.pending += 1;
                }
            }
        }
        let care_of: Vec<Option<IpAddr>> = verifiable.iter().map(|(_, c)| *c).collect();
        let queue = order::work_order(&care_of, settings.prefixes, seed)
            .into_iter()
            .map(|i| verifiable[i].0)
            .collect();
        Recovery {
            bucket: Pacer::new(settings.rate, settings.burst),
            settings,
            states,
            queue,
            retries: VecDeque::new(),
            deadlines: BinaryHeap::new(),
            recent: VecDeque::new(),
            progress,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &RecoverySettings {
        &self.settings
    }

    /// One pass at `now`: requests that timed out are retried or their bindings removed,
    /// then as many requests leave as the token bucket allows (retries first). Appends
    /// what to do to `actions`.
    pub fn poll(&mut self, now: Instant, actions: &mut Vec<Action>) {
        self.time_out(now, actions);
        while self.has_work() && self.bucket.take(now) {
            let Some(key) = self.next_to_ask() else {
                break;
            };
            let attempts = match self.states.get(&key) {
                Some(State::Retry { attempts }) => *attempts,
                _ => 0,
            };
            let deadline = now + self.settings.timeout;
            self.states.insert(
                key,
                State::Asked {
                    attempts: attempts + 1,
                    deadline,
                },
            );
            self.deadlines.push(Reverse((deadline, key)));
            self.recent.push_back(now);
            self.progress.requests += 1;
            actions.push(Action::Request {
                key,
                attempt: attempts + 1,
            });
        }
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= RATE_WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// An accepted binding update for `key` arrived (a registration, a refresh or a
    /// deregistration: the mobile node is alive and answered). Returns whether this
    /// verified a restored binding that was pending.
    pub fn confirm(&mut self, key: Key) -> bool {
        self.settle(key, State::Verified)
    }

    /// The binding of `key` ended while pending for another reason (its lifetime lapsed,
    /// it was removed by hand, or its request cannot be built because the state no
    /// longer holds it): it is no longer verified. Returns whether it was pending.
    pub fn end(&mut self, key: Key) -> bool {
        self.settle(key, State::Ended)
    }

    /// Whether `key` is a restored binding still waiting for its verification.
    pub fn is_pending(&self, key: Key) -> bool {
        matches!(
            self.states.get(&key),
            Some(State::Queued | State::Asked { .. } | State::Retry { .. })
        )
    }

    /// The counts now; the rate over the last [`RATE_WINDOW`] before `now`.
    pub fn progress(&self, now: Instant) -> Progress {
        // Oldest first: those still inside the window are a suffix.
        let old = self
            .recent
            .partition_point(|t| now.saturating_duration_since(*t) >= RATE_WINDOW);
        let recent = self.recent.len() - old;
        Progress {
            rate: recent as f64 / RATE_WINDOW.as_secs_f64(),
            ..self.progress
        }
    }

    /// Whether every binding's verification is over.
    pub fn done(&self) -> bool {
        self.progress.done()
    }

    /// Once [`done`](Self::done), frees the per-binding state (a million restored
    /// bindings hold tens of megabytes) and keeps the counts; nothing is pending then, so
    /// nothing changes but the rate, which falls to 0.
    pub fn release(&mut self) {
        if !self.done() {
            return;
        }
        self.states = HashMap::new();
        self.queue = VecDeque::new();
        self.retries = VecDeque::new();
        self.deadlines = BinaryHeap::new();
    }

    fn settle(&mut self, key: Key, to: State) -> bool {
        if !self.is_pending(key) {
            return false;
        }
        self.states.insert(key, to);
        self.progress.pending -= 1;
        match to {
            State::Verified => self.progress.verified += 1,
            State::Removed => self.progress.removed += 1,
            _ => self.progress.ended += 1,
        }
        true
    }

    fn time_out(&mut self, now: Instant, actions: &mut Vec<Action>) {
        while let Some(Reverse((deadline, key))) = self.deadlines.peek().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            // Stale when the binding was confirmed or asked again since.
            let Some(State::Asked {
                attempts,
                deadline: current,
            }) = self.states.get(&key).copied()
            else {
                continue;
            };
            if current != deadline {
                continue;
            }
            if attempts > self.settings.retries {
                self.settle(key, State::Removed);
                actions.push(Action::Remove(key));
            } else {
                self.states.insert(key, State::Retry { attempts });
                self.retries.push_back(key);
            }
        }
    }

    fn has_work(&mut self) -> bool {
        self.drop_settled();
        !self.retries.is_empty() || !self.queue.is_empty()
    }

    /// Drops confirmed or ended bindings from the fronts of the queues, so that no token
    /// is taken for them.
    fn drop_settled(&mut self) {
        while let Some(k) = self.retries.front() {
            if matches!(self.states.get(k), Some(State::Retry { .. })) {
                break;
            }
            self.retries.pop_front();
        }
        while let Some(k) = self.queue.front() {
            if matches!(self.states.get(k), Some(State::Queued)) {
                break;
            }
            self.queue.pop_front();
        }
    }

    fn next_to_ask(&mut self) -> Option<Key> {
        self.drop_settled();
        self.retries.pop_front().or_else(|| self.queue.pop_front())
    }
}
