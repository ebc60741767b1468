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

use super::mip6::{address_at, split, FrameError6, Toward};
use super::{HeldReplies, ReplyCounters, TokenBucket};
use crate::signalling::cn::{Correspondent, CorrespondentConfig, Reason, Secrets};

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
            "cn_replies={} cn_replies_limited={} cn_replies_unsent={} cn_replies_abandoned={} cn_expiries={} cn_bindings={}",
            self.replies,
            self.replies_limited,
            self.replies_unsent,
            self.replies_abandoned,
            self.expiries,
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
            stats: CorrespondentStats::default(),
        }
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
