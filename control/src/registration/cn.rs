//! The control thread's side of the correspondent node (RFC 6275 §9.4, §9.5): punted
//! frames carrying a Home Test Init, a Care-of Test Init or a correspondent registration
//! in, the binding cache changes (the cache entry and the node-destination profile that
//! sends the home address's packets by it, with a type 2 routing header) out to every
//! worker, and the Binding Acknowledgement out only once every worker has applied them;
//! Home Tests and Care-of Tests at once; the lifetime timer; error acknowledgements
//! answered at a configured rate.
//!
//! The same shape as the home agents' ([`super`], [`super::mip6`]): held replies, token
//! bucket, counters; frames leave through the `send` function the control thread passes
//! in, toward the destination's route, else back to the neighbour the packet came from.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Instant, SystemTime};

use mipdp_dataplane::profile::{Class, ProfileId};
use mipdp_dataplane::roles;
use mipdp_dataplane::update::{Update, UpdateSender};

use super::mip6::{address_at, split, FrameError6, RefreshError, Toward};
use super::{backed_up, HeldReplies, ReplyCounters, TokenBucket};
use crate::backup::{self, Journal, Record, ReplayState, RestoredBinding, Role, RoleData};
use crate::signalling::cn::{CachedBinding, Correspondent, CorrespondentConfig, Reason, Secrets};
use crate::state::bindings::Expiry;
use mipdp_dataplane::tables::Encap;

/// The first profile number (session [`roles::PER_MOBILE`]) of home addresses cached by
/// correspondent registrations: clear of the home agents' ([`super::FIRST_PROFILE`],
/// [`super::FIRST_PROFILE6`]) and of the static `[[cache]]` entries' (100 000 on).
pub const FIRST_CACHE_PROFILE: u32 = 3 << 24;

/// Bytes of the Ethernet header of the frames handled here (untagged).
const ETHERNET_LEN: usize = 14;

/// What the correspondent node did, for `mipdp ctl show stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorrespondentStats {
    /// Packets by how they ended, indexed by `Reason as usize` (silent drops too).
    pub reasons: [u64; Reason::ALL.len()],
    /// Frames not handed to the correspondent node, indexed by `FrameError6 as usize`.
    pub frame_errors: [u64; FrameError6::ALL.len()],
    /// Home Tests, Care-of Tests, Binding Acknowledgements and Binding Errors sent.
    pub replies: u64,
    /// Error replies not sent: the rate limit was reached.
    pub replies_limited: u64,
    /// Replies that could not be sent (not framed, no buffer, TX queue full).
    pub replies_unsent: u64,
    /// Acknowledgements dropped: the workers did not apply the cache change in time.
    pub replies_abandoned: u64,
    /// Cache entries removed by lifetime expiry.
    pub expiries: u64,
    /// Binding Refresh Requests sent (the verification after a restart).
    pub refreshes: u64,
    /// Those that could not be sent (no route or neighbour, no buffer).
    pub refreshes_unsent: u64,
    /// Home addresses cached now.
    pub bindings: u64,
}

impl CorrespondentStats {
    /// The counters as `key=value` words, all `cn_`.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        for r in Reason::ALL {
            parts.push(format!("cn_{}={}", r.name(), self.reasons[r as usize]));
        }
        for e in FrameError6::ALL {
            parts.push(format!(
                "cn_frame_{}={}",
                e.name(),
                self.frame_errors[e as usize]
            ));
        }
        parts.push(format!(
            "cn_replies={} cn_replies_limited={} cn_replies_unsent={} cn_replies_abandoned={} cn_expiries={} cn_refreshes={} cn_refreshes_unsent={} cn_bindings={}",
            self.replies,
            self.replies_limited,
            self.replies_unsent,
            self.replies_abandoned,
            self.expiries,
            self.refreshes,
            self.refreshes_unsent,
            self.bindings
        ));
        parts.join(" ")
    }
}

/// The correspondent node as the control thread runs it.
#[derive(Debug)]
pub struct CorrespondentRegistrar {
    cn: Correspondent,
    port_macs: Vec<[u8; 6]>,
    limiter: TokenBucket,
    replies: HeldReplies,
    /// The profile number of each cached home address.
    profiles: HashMap<Ipv6Addr, u32>,
    free: Vec<u32>,
    next_profile: u32,
    next_expiry: Option<SystemTime>,
    /// Home addresses whose Binding Update was accepted since the last
    /// [`take_accepted`](Self::take_accepted): what confirms a restored binding (issue 6).
    accepted: Vec<Ipv6Addr>,
    /// Where every cache change goes before the answer that reports it.
    journal: Journal,
    /// The counters.
    pub stats: CorrespondentStats,
}

impl CorrespondentRegistrar {
    /// A correspondent node with `config` and `secrets`, on ports with `port_macs`.
    pub fn new(
        config: CorrespondentConfig,
        secrets: Secrets,
        port_macs: Vec<[u8; 6]>,
    ) -> CorrespondentRegistrar {
        CorrespondentRegistrar {
            limiter: TokenBucket::new(config.error_replies),
            cn: Correspondent::new(config, secrets),
            port_macs,
            replies: HeldReplies::default(),
            profiles: HashMap::new(),
            free: Vec::new(),
            next_profile: FIRST_CACHE_PROFILE,
            next_expiry: None,
            accepted: Vec::new(),
            journal: Journal::disabled(),
            stats: CorrespondentStats::default(),
        }
    }

    /// Backs every cache change up through `journal` before its answer leaves (issue
    /// 6); without it (the default) nothing is stored.
    pub fn set_journal(&mut self, journal: Journal) {
        self.replies.set_journal(journal.clone());
        self.journal = journal;
    }

    /// Puts the correspondent bindings among `records` (restored from the backup, none
    /// of them lapsed) back into the binding cache and every worker. Returns what it
    /// restored.
    pub fn restore(
        &mut self,
        updates: &mut UpdateSender,
        records: &[Record],
    ) -> Vec<RestoredBinding> {
        let mut list = Vec::new();
        let mut restored = Vec::new();
        for r in records.iter().filter(|r| r.role == Role::Correspondent) {
            let Some((home, binding)) = cached_of(r) else {
                continue;
            };
            list.push(self.cn.restore(home, binding));
            restored.push(RestoredBinding::of(r));
        }
        // Already in the backup: to the workers only.
        self.install(updates, list);
        self.next_expiry = self.cn.next_expiry();
        restored
    }

    /// The correspondent node (its cache, its configuration).
    pub fn correspondent(&self) -> &Correspondent {
        &self.cn
    }

    /// Handles one punted frame carrying a Mobility Header for the correspondent node
    /// that arrived on port index `port`. `toward` finds the port and next hop's MAC for
    /// a destination; `home_registered` whether the node's home agent holds a home
    /// registration for a home address. Never panics, whatever the bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn handle(
        &mut self,
        frame: &[u8],
        port: u16,
        updates: &mut UpdateSender,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        home_registered: &dyn Fn(Ipv6Addr) -> bool,
        now: SystemTime,
        at: Instant,
    ) {
        let (sender_mac, packet) = match split(frame) {
            Ok(parts) => parts,
            Err(e) => {
                self.stats.frame_errors[e as usize] += 1;
                return;
            }
        };
        if usize::from(port) >= self.port_macs.len() {
            self.stats.frame_errors[FrameError6::UnknownPort as usize] += 1;
            return;
        }
        let outcome = self.cn.handle(packet, now, home_registered);
        self.stats.reasons[outcome.reason as usize] += 1;
        log::debug!(
            "mobility header from {:?} to the correspondent: {}",
            address_at(packet, 8),
            outcome.reason.name()
        );
        if matches!(outcome.reason, Reason::Registered | Reason::Deregistered) {
            self.accepted
                .extend(outcome.updates.iter().filter_map(|u| match u {
                    Update::CacheEntry {
                        dst: IpAddr::V6(home),
                        ..
                    }
                    | Update::RemoveCacheEntry {
                        dst: IpAddr::V6(home),
                    } => Some(*home),
                    _ => None,
                }));
        }
        let epoch = self.apply(updates, outcome.updates);
        let Some(reply) = outcome.reply else {
            return;
        };
        if outcome.reason.is_error() && !self.limiter.take(at) {
            self.stats.replies_limited += 1;
            return;
        }
        match self.frame(&reply, toward, (port, sender_mac)) {
            Some((out, frame)) => {
                let wait = self.cn.config().reply_wait;
                self.replies.hold(epoch, at + wait, out, frame);
            }
            None => self.stats.replies_unsent += 1,
        }
    }

    /// The home addresses whose authorised Binding Update was accepted since the last
    /// call: each confirms that its mobile node is alive (issue 6).
    pub fn take_accepted(&mut self) -> Vec<Ipv6Addr> {
        std::mem::take(&mut self.accepted)
    }

    /// Sends a Binding Refresh Request for the cached binding of `home` now: the
    /// verification after a restart (issue 6). RFC 6275 §9.5.5.
    pub fn refresh(
        &mut self,
        home: Ipv6Addr,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) -> Result<(), RefreshError> {
        let Some(packet) = self.cn.binding_refresh_request(home) else {
            return Err(RefreshError::NotBound);
        };
        let sent = toward(home)
            .and_then(|via| self.frame(&packet, toward, via))
            .is_some_and(|(port, frame)| send(port, &frame));
        if sent {
            self.stats.refreshes += 1;
            Ok(())
        } else {
            self.stats.refreshes_unsent += 1;
            Err(RefreshError::Unsent)
        }
    }

    /// Removes the cached binding of `home` from the cache and every worker: its mobile
    /// node did not answer the verification after a restart (issue 6). Returns whether
    /// there was one.
    pub fn remove(&mut self, home: Ipv6Addr, updates: &mut UpdateSender) -> bool {
        let Some(update) = self.cn.remove(home) else {
            return false;
        };
        self.apply(updates, vec![update]);
        true
    }

    /// One pass of the timers: lifetime expiry, then the replies whose cache changes
    /// every worker has applied.
    pub fn poll(
        &mut self,
        updates: &mut UpdateSender,
        (now, at): (SystemTime, Instant),
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) {
        if self.next_expiry.is_some_and(|t| t <= now) {
            let expired = self.cn.expire(now);
            self.stats.expiries += expired.len() as u64;
            for u in &expired {
                log::info!("correspondent binding expired: {u:?}");
            }
            self.apply(updates, expired);
            self.next_expiry = self.cn.next_expiry();
        }
        let stats = &mut self.stats;
        self.replies.poll(
            updates,
            at,
            send,
            ReplyCounters {
                sent: &mut stats.replies,
                unsent: &mut stats.replies_unsent,
                abandoned: &mut stats.replies_abandoned,
            },
            "correspondent.reply_wait_ms",
        );
    }

    /// Sends the cache changes to every worker with the profile of each home address that
    /// gains or loses its entry: installed after the entry and removed before it, so no
    /// worker ever has the profile without the entry (a fault drop). Returns the epoch of
    /// the last update (0: none).
    fn apply(&mut self, updates: &mut UpdateSender, list: Vec<Update>) -> u64 {
        // The records are written after the install, which numbers a new home
        // address's interception profile.
        let touched: Vec<Update> = if self.journal.is_enabled() {
            list.iter().filter(|u| backed_up(u)).cloned().collect()
        } else {
            Vec::new()
        };
        let applied = self.install(updates, list);
        if self.journal.is_enabled() {
            let changes = touched
                .iter()
                .filter_map(|u| match u {
                    Update::CacheEntry {
                        dst: IpAddr::V6(home),
                        ..
                    } => {
                        let b = self.cn.binding(*home)?;
                        let profile = self.profiles.get(home).map(|number| ProfileId {
                            session: roles::PER_MOBILE,
                            number: *number,
                        });
                        Some(backup::Change::Put(record_of(*home, b, profile)))
                    }
                    Update::RemoveCacheEntry { dst } => {
                        Some(backup::Change::Delete(Role::Correspondent, *dst))
                    }
                    _ => None,
                })
                .collect();
            self.journal.submit(changes);
        }
        applied
    }

    /// [`apply`](Self::apply) without the backup: for entries restored from it.
    fn install(&mut self, updates: &mut UpdateSender, list: Vec<Update>) -> u64 {
        let mut epoch = 0;
        for u in list {
            match u {
                Update::CacheEntry {
                    dst: IpAddr::V6(home),
                    ..
                } => {
                    epoch = updates.send(u);
                    if !self.profiles.contains_key(&home) {
                        let number = self.free.pop().unwrap_or_else(|| {
                            let n = self.next_profile;
                            self.next_profile = self.next_profile.saturating_add(1);
                            n
                        });
                        self.profiles.insert(home, number);
                        epoch = updates.send(Update::Profile(roles::cached_destination(
                            number,
                            IpAddr::V6(home),
                        )));
                    }
                }
                Update::RemoveCacheEntry {
                    dst: IpAddr::V6(home),
                } => {
                    if let Some(number) = self.profiles.remove(&home) {
                        updates.send(Update::RemoveProfile {
                            class: Class::NodeDestination,
                            id: ProfileId {
                                session: roles::PER_MOBILE,
                                number,
                            },
                        });
                        self.free.push(number);
                    }
                    epoch = updates.send(u);
                }
                other => epoch = updates.send(other),
            }
        }
        self.next_expiry = self.cn.next_expiry();
        self.stats.bindings = self.cn.len() as u64;
        epoch
    }

    /// `packet` (a whole IPv6 packet) in an Ethernet frame toward its destination: by
    /// `toward`, else back where the packet it answers came from.
    fn frame(
        &self,
        packet: &[u8],
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        came_from: Toward,
    ) -> Option<(u16, Vec<u8>)> {
        let destination = address_at(packet, 24)?;
        let (port, mac) = toward(destination).unwrap_or(came_from);
        let eth_src = self.port_macs.get(usize::from(port)).copied()?;
        let mut f = Vec::with_capacity(ETHERNET_LEN + packet.len());
        f.extend_from_slice(&mac);
        f.extend_from_slice(&eth_src);
        f.extend_from_slice(&[0x86, 0xdd]);
        f.extend_from_slice(packet);
        Some((port, f))
    }
}

/// The backup record of the correspondent binding of `home` (issue 6).
fn record_of(home: Ipv6Addr, b: &CachedBinding, profile: Option<ProfileId>) -> Record {
    Record {
        role: Role::Correspondent,
        home_address: IpAddr::V6(home),
        care_of: vec![IpAddr::V6(b.care_of)],
        encap: Encap::IpInIp,
        tunnel_source: IpAddr::V6(b.correspondent),
        lifetime: b.lifetime,
        expires: Expiry::At(b.expires),
        replay: ReplayState {
            last_sequence: Some(b.sequence),
            ..ReplayState::default()
        },
        spi: None,
        nai: None,
        profiles: profile.into_iter().collect(),
        role_data: RoleData::None,
    }
}

/// The cache entry a correspondent record describes; None when it is not one.
fn cached_of(r: &Record) -> Option<(Ipv6Addr, CachedBinding)> {
    let (
        IpAddr::V6(home),
        IpAddr::V6(correspondent),
        Some(IpAddr::V6(care_of)),
        Expiry::At(expires),
    ) = (
        r.home_address,
        r.tunnel_source,
        r.care_of.first().copied(),
        r.expires,
    )
    else {
        return None;
    };
    Some((
        home,
        CachedBinding {
            care_of,
            correspondent,
            sequence: r.replay.last_sequence.unwrap_or(0),
            lifetime: r.lifetime,
            expires,
        },
    ))
}
