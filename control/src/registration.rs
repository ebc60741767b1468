//! The control thread's side of Mobile IPv4 registration at a home agent (RFC 5944
//! §3.8, §4.6): punted frames to UDP 434 of the node's addresses in, the binding changes
//! out to every worker, and the Registration Reply out only once every worker has
//! applied them; gratuitous ARP when a home address is taken over or given back; the
//! lifetime timer; denials answered at a configured rate.
//!
//! Nothing here blocks: a reply whose binding change the workers have not applied yet
//! waits in a list checked on every control tick ([`Registrar::poll`]), and is dropped
//! (counted, the mobile node retransmits) when the workers take longer than
//! `home_agent.reply_wait_ms`. Frames leave through the `send` function the control
//! thread passes in, so this module has no DPDK in it and is tested with plain buffers.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::{Instant, SystemTime};

use mipdp_dataplane::profile::{Class, ProfileId};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::Prefix;
use mipdp_dataplane::update::{Update, UpdateSender};
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::mip4::{RegistrationFlags, PORT};
use mipdp_dataplane::wire::udp::{PseudoHeader, UdpPacket, UdpRepr};

use crate::backup::{self, Journal, Record, ReplayState, RestoredBinding, Role, RoleData};
use crate::signalling::mip4::{HomeAgent, HomeAgentConfig, Reason, ReplyLimit};
use crate::state::bindings::{CareOfBinding, Expiry, MobilityBinding};

/// The first profile number (session [`roles::PER_MOBILE`]) of registered home
/// addresses: static bindings number theirs from 0 and binding-cache entries from
/// 100 000, so registered ones start well clear of both.
pub const FIRST_PROFILE: u32 = 1 << 24;

/// The first profile number of home addresses registered by Mobile IPv6 Binding Updates:
/// the Mobile IPv4 ones (from [`FIRST_PROFILE`]) never reach it, as both home agents
/// together bind at most `node.max_profiles` home addresses.
pub const FIRST_PROFILE6: u32 = 2 << 24;

/// The first profile number of regional care-of addresses bound by HMIPv6 local binding
/// updates at a MAP (RFC 5380): clear of the home agents' numbers as those are of each
/// other's.
pub const FIRST_PROFILE_MAP: u32 = 3 << 24;

/// Bytes of the Ethernet header of the frames handled here (untagged).
const ETHERNET_LEN: usize = 14;
/// The shortest Ethernet frame without its FCS; shorter frames are padded with zeros.
const MIN_FRAME: usize = 60;
/// TTL of the replies the home agent sends.
const REPLY_TTL: u8 = 64;

/// Why a punted frame to UDP port 434 was not handed to the home agent: one counter
/// each (`mip4_frame_<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Shorter than its Ethernet, IPv4 or UDP header says.
    Truncated,
    /// The IPv4 header is malformed (version, header length, total length, options).
    BadIpv4,
    /// The IPv4 or UDP checksum does not verify.
    BadChecksum,
    /// A fragment: registration messages are small and never fragmented here.
    Fragment,
    /// Not UDP to port 434.
    NotRegistration,
    /// The arrival port is not one of the node's.
    UnknownPort,
}

impl FrameError {
    /// Every reason, in counter order.
    pub const ALL: [FrameError; 6] = [
        FrameError::Truncated,
        FrameError::BadIpv4,
        FrameError::BadChecksum,
        FrameError::Fragment,
        FrameError::NotRegistration,
        FrameError::UnknownPort,
    ];

    /// Name for counters.
    pub fn name(self) -> &'static str {
        match self {
            FrameError::Truncated => "truncated",
            FrameError::BadIpv4 => "bad_ipv4",
            FrameError::BadChecksum => "bad_checksum",
            FrameError::Fragment => "fragment",
            FrameError::NotRegistration => "not_registration",
            FrameError::UnknownPort => "unknown_port",
        }
    }
}

/// What registration did, for `mipdp ctl show stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistrationStats {
    /// Requests by how they ended, indexed by `Reason as usize`.
    pub reasons: [u64; Reason::ALL.len()],
    /// Frames not handed to the home agent, indexed by `FrameError as usize`.
    pub frame_errors: [u64; FrameError::ALL.len()],
    /// Replies sent.
    pub replies: u64,
    /// Denials not answered: the error reply rate limit was reached.
    pub replies_limited: u64,
    /// Replies that could not be sent (no buffer, TX queue full).
    pub replies_unsent: u64,
    /// Replies dropped because the workers did not apply their binding change within
    /// `home_agent.reply_wait_ms`.
    pub replies_abandoned: u64,
    /// Gratuitous ARPs sent (each retransmission counts).
    pub gratuitous_arps: u64,
    /// Gratuitous ARPs that could not be sent.
    pub gratuitous_arps_unsent: u64,
    /// Home addresses given back without a gratuitous ARP: the mobile node's MAC was not
    /// known (it deregistered from away, or its binding expired, and it never spoke ARP
    /// on the home link).
    pub returns_unannounced: u64,
    /// Care-of addresses removed by lifetime expiry (RFC 5944 §3.8.1), counted per
    /// change of a binding.
    pub expiries: u64,
    /// Home addresses bound now.
    pub bindings: u64,
}

impl RegistrationStats {
    /// The counters as `key=value` words.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        for r in Reason::ALL {
            parts.push(format!("mip4_{}={}", r.name(), self.reasons[r as usize]));
        }
        for e in FrameError::ALL {
            parts.push(format!(
                "mip4_frame_{}={}",
                e.name(),
                self.frame_errors[e as usize]
            ));
        }
        parts.push(format!(
            "mip4_replies={} mip4_replies_limited={} mip4_replies_unsent={} mip4_replies_abandoned={}",
            self.replies, self.replies_limited, self.replies_unsent, self.replies_abandoned
        ));
        parts.push(format!(
            "mip4_gratuitous_arps={} mip4_gratuitous_arps_unsent={} mip4_returns_unannounced={} mip4_expiries={} mip4_bindings={}",
            self.gratuitous_arps,
            self.gratuitous_arps_unsent,
            self.returns_unannounced,
            self.expiries,
            self.bindings
        ));
        parts.join(" ")
    }
}

/// A neighbour the control thread should learn: (port index, address, MAC).
pub type Learnt = (u16, Ipv4Addr, [u8; 6]);

/// A token bucket: `per_second` tokens a second up to `burst`.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    limit: ReplyLimit,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    pub(crate) fn new(limit: ReplyLimit) -> TokenBucket {
        TokenBucket {
            limit,
            tokens: f64::from(limit.burst),
            last: None,
        }
    }

    /// Takes a token at `at` if there is one.
    pub(crate) fn take(&mut self, at: Instant) -> bool {
        if self.limit.per_second == 0 {
            return false;
        }
        if let Some(last) = self.last {
            let earned =
                at.saturating_duration_since(last).as_secs_f64() * f64::from(self.limit.per_second);
            self.tokens = (self.tokens + earned).min(f64::from(self.limit.burst));
        }
        self.last = Some(at);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A reply waiting for every worker to reach `epoch` and the backup to commit `ticket`.
#[derive(Debug)]
struct Waiting {
    epoch: u64,
    ticket: u64,
    deadline: Instant,
    port: u16,
    frame: Vec<u8>,
}

/// What happened to held replies: counters of the protocol's statistics.
pub(crate) struct ReplyCounters<'a> {
    /// Sent.
    pub sent: &'a mut u64,
    /// Could not be sent.
    pub unsent: &'a mut u64,
    /// Dropped: the workers did not reach the epoch in time.
    pub abandoned: &'a mut u64,
}

/// Replies (whole frames) held until every worker has applied the binding change they
/// report and the backup has committed it (issue 6: no reply precedes its commit), or
/// dropped at their deadline (the mobile node retransmits).
#[derive(Debug, Default)]
pub(crate) struct HeldReplies {
    waiting: VecDeque<Waiting>,
    /// Where the binding changes go; disabled (nothing to wait for) without a backup.
    journal: Journal,
}

impl HeldReplies {
    /// Makes every reply held from now on wait for the backup too.
    pub(crate) fn set_journal(&mut self, journal: Journal) {
        self.journal = journal;
    }

    /// Holds `frame` for port index `port` until every worker reached `epoch` (0: none
    /// to wait for) and every binding change submitted to the journal so far is
    /// committed, at most until `deadline`.
    pub(crate) fn hold(&mut self, epoch: u64, deadline: Instant, port: u16, frame: Vec<u8>) {
        self.waiting.push_back(Waiting {
            epoch,
            ticket: self.journal.submitted(),
            deadline,
            port,
            frame,
        });
    }

    /// Sends the replies every worker is ready for and drops the late ones; `key` names
    /// the setting of the wait in the log.
    pub(crate) fn poll(
        &mut self,
        updates: &UpdateSender,
        at: Instant,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
        counters: ReplyCounters<'_>,
        key: &str,
    ) {
        let journal = &self.journal;
        self.waiting.retain(|w| {
            let visible = updates.is_visible(w.epoch);
            let committed = journal.is_committed(w.ticket);
            if visible && committed {
                if send(w.port, &w.frame) {
                    *counters.sent += 1;
                } else {
                    *counters.unsent += 1;
                }
                false
            } else if at >= w.deadline {
                *counters.abandoned += 1;
                if visible {
                    log::warn!(
                        "reply dropped: the binding backup did not commit its binding change \
                         (ticket {}, committed {}) within {key}",
                        w.ticket,
                        journal.committed()
                    );
                } else {
                    log::warn!(
                        "reply dropped: the workers did not apply its binding change \
                         (update epoch {}) within {key}; reached: {:?}",
                        w.epoch,
                        updates.reached()
                    );
                }
                false
            } else {
                true
            }
        });
    }
}

/// Frames announcing a home address on its link (gratuitous ARP, RFC 5944 §4.6;
/// unsolicited Neighbor Advertisement, RFC 6275 §10.4.1), sent once every worker reached
/// `epoch`, `left` times.
#[derive(Debug)]
struct Announcement {
    port: u16,
    frame: Frame,
    epoch: u64,
    left: u32,
    /// Which [`Announcer::schedule`] made it: entries of `due` from an earlier one are stale.
    series: u64,
}

/// What an announcement says, built into a frame only when it is sent (a restart that
/// takes a million home addresses back keeps no million frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A gratuitous ARP from `eth_src` binding `home` to `hardware` (RFC 5944 §4.6).
    Arp {
        eth_src: [u8; 6],
        hardware: [u8; 6],
        home: Ipv4Addr,
    },
    /// An unsolicited Neighbor Advertisement from `source` on `eth_src` binding `home` to
    /// `hardware` (RFC 6275 §10.4.1).
    Na {
        eth_src: [u8; 6],
        source: std::net::Ipv6Addr,
        home: std::net::Ipv6Addr,
        hardware: [u8; 6],
    },
}

impl Frame {
    /// The frame's bytes.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        match *self {
            Frame::Arp {
                eth_src,
                hardware,
                home,
            } => gratuitous_arp(eth_src, hardware, home).to_vec(),
            Frame::Na {
                eth_src,
                source,
                home,
                hardware,
            } => mip6::unsolicited_advertisement(eth_src, source, home, hardware),
        }
    }
}

/// Announcements sent per [`Announcer::poll`] at most: a restart that takes a million
/// home addresses back announces them over many polls, not in one burst the TX queue
/// cannot hold.
pub(crate) const ANNOUNCE_BUDGET: usize = 256;

/// What one [`Announcer::poll`] of the bulks works with.
struct Pass<'a> {
    updates: &'a UpdateSender,
    at: Instant,
    interval: std::time::Duration,
    takeover: &'a dyn Fn(IpAddr) -> Option<(u16, Frame)>,
}

/// One series for many home addresses at once (a restore from the backup): a list, not
/// a hash map entry and a heap entry each.
#[derive(Debug)]
struct Bulk {
    homes: Vec<IpAddr>,
    epoch: u64,
    left: u32,
    next: Instant,
    /// The next of `homes` to announce in this round.
    cursor: usize,
}

/// The announcements to make, at most one series per home address. Scheduling,
/// cancelling and sending cost O(log n) each, whatever the number of home addresses.
#[derive(Debug, Default)]
pub(crate) struct Announcer {
    by_home: HashMap<IpAddr, Announcement>,
    /// When each series sends next (time, series, home address), earliest first.
    due: BinaryHeap<Reverse<(Instant, u64, IpAddr)>>,
    series: u64,
    bulks: Vec<Bulk>,
    /// Home addresses scheduled again or cancelled since the bulks that hold them were
    /// made: the bulks skip them.
    superseded: HashSet<IpAddr>,
}

impl Announcer {
    /// Announces `home` with `frame` on port index `port`, `count` times, once every
    /// worker reached `epoch`; replaces what was still to be announced for it.
    pub(crate) fn schedule(
        &mut self,
        home: IpAddr,
        port: u16,
        frame: Frame,
        (epoch, at): (u64, Instant),
        count: u32,
    ) {
        if count == 0 {
            self.cancel(home);
            return;
        }
        if !self.bulks.is_empty() {
            self.superseded.insert(home);
        }
        self.series += 1;
        self.by_home.insert(
            home,
            Announcement {
                port,
                frame,
                epoch,
                left: count,
                series: self.series,
            },
        );
        self.due.push(Reverse((at, self.series, home)));
    }

    /// Forgets what was still to be announced for `home`.
    pub(crate) fn cancel(&mut self, home: IpAddr) {
        self.by_home.remove(&home);
        if !self.bulks.is_empty() {
            self.superseded.insert(home);
        }
    }

    /// Announces each of `homes` `count` times, once every worker reached `epoch`, as
    /// one series: what [`schedule`](Self::schedule) does for each, without a hash map
    /// and heap entry each; the frame (and port) of each comes from `poll`'s `takeover`
    /// when it is sent. A later `schedule` or [`cancel`](Self::cancel) of one of them
    /// replaces its part.
    pub(crate) fn schedule_bulk(
        &mut self,
        homes: Vec<IpAddr>,
        (epoch, at): (u64, Instant),
        count: u32,
    ) {
        if count == 0 || homes.is_empty() {
            return;
        }
        if !self.superseded.is_empty() {
            for home in &homes {
                self.superseded.remove(home);
            }
        }
        if !self.by_home.is_empty() {
            for home in &homes {
                self.by_home.remove(home);
            }
        }
        self.bulks.push(Bulk {
            homes,
            epoch,
            left: count,
            next: at,
            cursor: 0,
        });
    }

    /// Sends the announcements that are due, `interval` apart, at most
    /// [`ANNOUNCE_BUDGET`] of them; `takeover` gives a bulk's home address its port and
    /// frame (None: no longer announced).
    pub(crate) fn poll(
        &mut self,
        updates: &UpdateSender,
        at: Instant,
        interval: std::time::Duration,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
        (sent, unsent): (&mut u64, &mut u64),
        takeover: &dyn Fn(IpAddr) -> Option<(u16, Frame)>,
    ) {
        let mut budget = ANNOUNCE_BUDGET;
        while budget > 0 {
            let Some(&Reverse((next, series, home))) = self.due.peek() else {
                break;
            };
            if next > at {
                break;
            }
            let Some(a) = self.by_home.get_mut(&home).filter(|a| a.series == series) else {
                // Cancelled or scheduled again since.
                self.due.pop();
                continue;
            };
            if !updates.is_visible(a.epoch) {
                // Epochs grow with time: what is due after it waits for the workers too.
                break;
            }
            self.due.pop();
            budget -= 1;
            if send(a.port, &a.frame.bytes()) {
                *sent += 1;
            } else {
                *unsent += 1;
            }
            a.left = a.left.saturating_sub(1);
            if a.left > 0 {
                self.due.push(Reverse((at + interval, series, home)));
            } else {
                self.by_home.remove(&home);
            }
        }
        let bulk = Pass {
            updates,
            at,
            interval,
            takeover,
        };
        self.poll_bulks(&bulk, send, (sent, unsent), budget);
    }

    /// [`poll`](Self::poll) for the bulks, with what is left of the budget.
    fn poll_bulks(
        &mut self,
        pass: &Pass<'_>,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
        (sent, unsent): (&mut u64, &mut u64),
        mut budget: usize,
    ) {
        let at = pass.at;
        for b in &mut self.bulks {
            if b.next > at || !pass.updates.is_visible(b.epoch) {
                continue;
            }
            while budget > 0 && b.cursor < b.homes.len() {
                let home = b.homes[b.cursor];
                b.cursor += 1;
                if self.superseded.contains(&home) {
                    continue;
                }
                let Some((port, frame)) = (pass.takeover)(home) else {
                    continue;
                };
                budget -= 1;
                if send(port, &frame.bytes()) {
                    *sent += 1;
                } else {
                    *unsent += 1;
                }
            }
            if b.cursor == b.homes.len() {
                b.left = b.left.saturating_sub(1);
                b.cursor = 0;
                b.next = at + pass.interval;
            }
            if budget == 0 {
                break;
            }
        }
        self.bulks.retain(|b| b.left > 0);
        if self.bulks.is_empty() {
            self.superseded.clear();
        }
    }
}

/// What a set of updates did to the home addresses the node intercepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Bound with no binding before: the home agent now intercepts it.
    Taken(IpAddr),
    /// No care-of address left: interception ended.
    Returned(IpAddr),
}

/// The node-destination profiles that make the workers intercept bound home addresses:
/// one per home address, numbered from `first` in session [`roles::PER_MOBILE`].
#[derive(Debug)]
pub(crate) struct Interception {
    profiles: HashMap<IpAddr, u32>,
    free: Vec<u32>,
    next: u32,
}

impl Interception {
    pub(crate) fn new(first: u32) -> Interception {
        Interception {
            profiles: HashMap::new(),
            free: Vec::new(),
            next: first,
        }
    }

    /// Makes room for `n` more home addresses at once (a restore from the backup).
    pub(crate) fn reserve(&mut self, n: usize) {
        self.profiles.reserve(n);
    }

    /// The interception profile of `home`, if it has one.
    pub(crate) fn profile_of(&self, home: IpAddr) -> Option<ProfileId> {
        self.profiles.get(&home).map(|number| ProfileId {
            session: roles::PER_MOBILE,
            number: *number,
        })
    }

    /// Sends `list` to every worker with the interception profile of each home address
    /// that gains or loses its binding: installed after the binding and removed before
    /// it, so no worker ever has the profile without the binding (a fault drop).
    /// Returns the epoch of the last update (0: none) and what changed.
    pub(crate) fn apply(
        &mut self,
        updates: &mut UpdateSender,
        list: Vec<Update>,
    ) -> (u64, Vec<Change>) {
        let mut epoch = 0;
        let mut changes = Vec::new();
        for u in list {
            match u {
                Update::Binding { home, .. } => {
                    epoch = updates.send(u);
                    if !self.profiles.contains_key(&home) {
                        let number = self.free.pop().unwrap_or_else(|| {
                            let n = self.next;
                            self.next = self.next.saturating_add(1);
                            n
                        });
                        self.profiles.insert(home, number);
                        epoch = updates.send(Update::Profile(roles::home_address(number, home)));
                        changes.push(Change::Taken(home));
                    }
                }
                Update::RemoveBinding { home } => {
                    if let Some(number) = self.profiles.remove(&home) {
                        updates.send(Update::RemoveProfile {
                            class: Class::NodeDestination,
                            id: ProfileId {
                                session: roles::PER_MOBILE,
                                number,
                            },
                        });
                        self.free.push(number);
                        changes.push(Change::Returned(home));
                    }
                    epoch = updates.send(u);
                }
                other => epoch = updates.send(other),
            }
        }
        (epoch, changes)
    }
}

/// Whether an update changes a binding the backup holds (a binding or a correspondent
/// cache entry, made or removed).
pub(crate) fn backed_up(u: &Update) -> bool {
    matches!(
        u,
        Update::Binding { .. }
            | Update::RemoveBinding { .. }
            | Update::CacheEntry { .. }
            | Update::RemoveCacheEntry { .. }
    )
}

/// What a home agent announces for an IPv4 home address it takes over (RFC 5944 §4.6):
/// the port of its home link and the gratuitous ARP naming the port's MAC; None where
/// `home` is on no link of `links` or the port is unknown.
fn takeover_arp(
    links: &[(Prefix, u16)],
    port_macs: &[[u8; 6]],
    home: IpAddr,
) -> Option<(u16, Frame)> {
    let IpAddr::V4(v4) = home else {
        return None;
    };
    let port = link_of(links, home)?;
    let mac = port_macs.get(usize::from(port)).copied()?;
    Some((
        port,
        Frame::Arp {
            eth_src: mac,
            hardware: mac,
            home: v4,
        },
    ))
}

/// The port of the link `addr` is on (longest connected prefix).
pub(crate) fn link_of(links: &[(Prefix, u16)], addr: IpAddr) -> Option<u16> {
    links
        .iter()
        .filter(|(p, _)| p.contains(addr))
        .max_by_key(|(p, _)| p.prefix_len())
        .map(|(_, port)| *port)
}

/// The home agent as the control thread runs it.
#[derive(Debug)]
pub struct Registrar {
    ha: HomeAgent,
    port_macs: Vec<[u8; 6]>,
    /// Connected prefixes and their ports: where each home network's link is.
    links: Vec<(Prefix, u16)>,
    limiter: TokenBucket,
    replies: HeldReplies,
    announcer: Announcer,
    interception: Interception,
    /// When expiry may have work next (never later than the true next expiry).
    next_expiry: Option<SystemTime>,
    ident: u16,
    /// Where every binding change goes before the reply that reports it.
    journal: Journal,
    /// The counters.
    pub stats: RegistrationStats,
}

impl Registrar {
    /// A home agent with `config`, on ports with `port_macs`, whose connected prefixes
    /// (routes without a next hop) are `links`.
    pub fn new(
        config: HomeAgentConfig,
        port_macs: Vec<[u8; 6]>,
        links: Vec<(Prefix, u16)>,
    ) -> Registrar {
        Registrar::with_home_agent(HomeAgent::new(config), port_macs, links)
    }

    /// The same around a home agent made elsewhere (tests fix its nonces).
    pub fn with_home_agent(
        ha: HomeAgent,
        port_macs: Vec<[u8; 6]>,
        links: Vec<(Prefix, u16)>,
    ) -> Registrar {
        Registrar {
            limiter: TokenBucket::new(ha.config().error_replies),
            ha,
            port_macs,
            links,
            replies: HeldReplies::default(),
            announcer: Announcer::default(),
            interception: Interception::new(FIRST_PROFILE),
            next_expiry: None,
            ident: 0,
            journal: Journal::disabled(),
            stats: RegistrationStats::default(),
        }
    }

    /// Backs every binding change up through `journal` before its reply leaves (issue
    /// 6); without it (the default) nothing is stored.
    pub fn set_journal(&mut self, journal: Journal) {
        self.replies.set_journal(journal.clone());
        self.journal = journal;
    }

    /// Puts the home agent's bindings among `records` (restored from the backup, none
    /// of them lapsed) back into its binding list and every worker, with the replay
    /// state that refuses registrations captured before the restart; announces each
    /// home address on its link again. Returns what it restored, for the recovery that
    /// verifies them; a record the binding list refuses (full, unusable) is logged and
    /// left out.
    pub fn restore(
        &mut self,
        updates: &mut UpdateSender,
        records: &[Record],
        now: SystemTime,
        at: Instant,
    ) -> Vec<RestoredBinding> {
        let mut list = Vec::new();
        let mut restored = Vec::new();
        for r in records {
            let Some((home, binding)) = binding_of(r, now) else {
                continue;
            };
            match self.ha.restore(home, binding) {
                Ok(u) => {
                    list.push(u);
                    restored.push(RestoredBinding::of(r));
                }
                Err(e) => log::error!("backup: binding of {home} not restored: {e}"),
            }
        }
        // Already in the backup: to the workers only.
        let (epoch, changes) = self.install(updates, list);
        // One series for all of them (RFC 5944 §4.6), not an entry each.
        let homes = changes
            .into_iter()
            .filter_map(|change| match change {
                Change::Taken(home @ IpAddr::V4(_)) => Some(home),
                _ => None,
            })
            .collect();
        let count = self.ha.config().gratuitous_arps;
        self.announcer.schedule_bulk(homes, (epoch, at), count);
        self.next_expiry = self.ha.next_expiry();
        restored
    }

    /// Makes room for `n` more bindings at once: a restore from the backup of that many.
    pub fn reserve(&mut self, n: usize) {
        let n = n.min(self.ha.config().max_bindings);
        self.ha.reserve(n);
        self.interception.reserve(n);
    }

    /// The home agent (its bindings, its configuration).
    pub fn home_agent(&self) -> &HomeAgent {
        &self.ha
    }

    /// Handles one punted frame to UDP port 434 that arrived on port index `port`:
    /// the home agent decides, its binding changes go to every worker at once, and the
    /// reply waits until they are applied. `mac_of` looks up a neighbour the control
    /// thread knows. Returns the mobile node's MAC on the home link to learn when it
    /// deregistered from home. Never panics, whatever the bytes.
    pub fn request(
        &mut self,
        frame: &[u8],
        port: u16,
        updates: &mut UpdateSender,
        mac_of: &dyn Fn(u16, Ipv4Addr) -> Option<[u8; 6]>,
        now: SystemTime,
        at: Instant,
    ) -> Option<Learnt> {
        let request = match parse(frame) {
            Ok(r) => r,
            Err(e) => {
                self.stats.frame_errors[e as usize] += 1;
                return None;
            }
        };
        let Some(port_mac) = self.port_macs.get(usize::from(port)).copied() else {
            self.stats.frame_errors[FrameError::UnknownPort as usize] += 1;
            return None;
        };
        let outcome = self
            .ha
            .handle_request(request.payload, request.from, request.to, now);
        self.stats.reasons[outcome.reason as usize] += 1;
        log::debug!(
            "registration request from {}: {}",
            request.from,
            outcome.reason.name()
        );
        let (epoch, changes) = self.apply(updates, outcome.updates);
        if let Some(reply) = outcome.reply {
            let denial = outcome.reason.code().is_none_or(|c| !c.is_accepted());
            if denial && !self.limiter.take(at) {
                self.stats.replies_limited += 1;
            } else {
                self.ident = self.ident.wrapping_add(1);
                match udp_frame(
                    port_mac,
                    request.sender_mac,
                    reply.source,
                    reply.destination,
                    self.ident,
                    &reply.bytes,
                ) {
                    Some(frame) => {
                        self.replies
                            .hold(epoch, at + self.ha.config().reply_wait, port, frame)
                    }
                    None => self.stats.replies_unsent += 1,
                }
            }
        }
        let mut learnt = None;
        for change in changes {
            match change {
                Change::Taken(IpAddr::V4(home)) => self.announce_takeover(home, epoch, at),
                Change::Returned(IpAddr::V4(home)) => {
                    // A mobile node back home deregisters from its home address on the
                    // home link: the frame came from its own MAC. RFC 5944 §4.6.
                    let link = self.link_of(home);
                    let at_home = *request.from.ip() == home && link == Some(port);
                    let mac = if at_home {
                        learnt = Some((port, home, request.sender_mac));
                        Some(request.sender_mac)
                    } else {
                        link.and_then(|l| mac_of(l, home))
                    };
                    self.announce_return(home, mac, epoch, at);
                }
                _ => {}
            }
        }
        learnt
    }

    /// One pass of the timers: lifetime expiry, then the replies and gratuitous ARPs
    /// whose binding changes every worker has applied. `send` transmits a frame out of a
    /// port index and says whether it went.
    pub fn poll(
        &mut self,
        updates: &mut UpdateSender,
        mac_of: &dyn Fn(u16, Ipv4Addr) -> Option<[u8; 6]>,
        now: SystemTime,
        at: Instant,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) {
        if self.next_expiry.is_some_and(|t| t <= now) {
            let expired = self.ha.expire(now);
            self.stats.expiries += expired.len() as u64;
            let (epoch, changes) = self.apply(updates, expired);
            for change in changes {
                if let Change::Returned(IpAddr::V4(home)) = change {
                    log::info!("binding of {home} expired");
                    let mac = self.link_of(home).and_then(|l| mac_of(l, home));
                    self.announce_return(home, mac, epoch, at);
                }
            }
            self.next_expiry = self.ha.next_expiry();
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
            "home_agent.reply_wait_ms",
        );
        let (links, port_macs) = (&self.links, &self.port_macs);
        self.announcer.poll(
            updates,
            at,
            self.ha.config().gratuitous_arp_interval,
            send,
            (
                &mut stats.gratuitous_arps,
                &mut stats.gratuitous_arps_unsent,
            ),
            &|home| takeover_arp(links, port_macs, home),
        );
        self.stats.bindings = self.ha.bindings().len() as u64;
    }

    /// Sends `list` to every worker with the interception profiles
    /// ([`Interception::apply`]) and notes when expiry has work next. Returns the epoch
    /// of the last update (0: none) and what changed.
    fn apply(&mut self, updates: &mut UpdateSender, list: Vec<Update>) -> (u64, Vec<Change>) {
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
                    Update::Binding {
                        home: IpAddr::V4(home),
                        ..
                    } => {
                        let b = self.ha.bindings().get(*home)?;
                        let profile = self.interception.profile_of(IpAddr::V4(*home));
                        Some(backup::Change::Put(record_of(*home, b, profile)))
                    }
                    Update::RemoveBinding { home } => {
                        Some(backup::Change::Delete(Role::HomeAgent, *home))
                    }
                    _ => None,
                })
                .collect();
            self.journal.submit(changes);
        }
        applied
    }

    /// [`apply`](Self::apply) without the backup: for bindings restored from it.
    fn install(&mut self, updates: &mut UpdateSender, list: Vec<Update>) -> (u64, Vec<Change>) {
        for u in &list {
            if let Update::Binding {
                home: IpAddr::V4(home),
                ..
            } = u
            {
                if let Some(t) = self.ha.bindings().get(*home).and_then(|b| b.next_expiry()) {
                    self.next_expiry = Some(self.next_expiry.map_or(t, |n| n.min(t)));
                }
            }
        }
        let applied = self.interception.apply(updates, list);
        self.stats.bindings = self.ha.bindings().len() as u64;
        applied
    }

    /// The port of the link the home address is on (longest connected prefix).
    fn link_of(&self, home: Ipv4Addr) -> Option<u16> {
        link_of(&self.links, IpAddr::V4(home))
    }

    /// RFC 5944 §4.6: on a binding for a mobile node that had none, a broadcast
    /// gratuitous ARP on the home link with the home agent's MAC, retransmitted a small
    /// number of times.
    fn announce_takeover(&mut self, home: Ipv4Addr, epoch: u64, at: Instant) {
        let Some(port) = self.link_of(home) else {
            return;
        };
        let Some(mac) = self.port_macs.get(usize::from(port)).copied() else {
            return;
        };
        self.schedule(home, port, mac, epoch, at);
    }

    /// RFC 5944 §4.6: when the binding ends, proxy ARP stops (the binding is gone from
    /// every worker) and a gratuitous ARP gives the home address back to the mobile
    /// node's own MAC. Without that MAC nothing is announced: a MAC the home agent does
    /// not know would be a guess, and the home link's caches then age out.
    fn announce_return(&mut self, home: Ipv4Addr, mac: Option<[u8; 6]>, epoch: u64, at: Instant) {
        // Whatever was still to be announced for the address is out of date.
        self.announcer.cancel(IpAddr::V4(home));
        let (Some(port), Some(mac)) = (self.link_of(home), mac) else {
            self.stats.returns_unannounced += 1;
            log::info!(
                "home address {home} given back without a gratuitous ARP: the mobile node's MAC is not known"
            );
            return;
        };
        self.schedule(home, port, mac, epoch, at);
    }

    fn schedule(&mut self, home: Ipv4Addr, port: u16, hardware: [u8; 6], epoch: u64, at: Instant) {
        let Some(eth_src) = self.port_macs.get(usize::from(port)).copied() else {
            return;
        };
        self.announcer.schedule(
            IpAddr::V4(home),
            port,
            Frame::Arp {
                eth_src,
                hardware,
                home,
            },
            (epoch, at),
            self.ha.config().gratuitous_arps,
        );
    }
}

/// The backup record of the home agent's binding of `home` (issue 6). The record
/// holds one lifetime and expiry for the binding: those of the care-of address that
/// lapses last. `profile`: its interception profile.
pub(crate) fn record_of(home: Ipv4Addr, b: &MobilityBinding, profile: Option<ProfileId>) -> Record {
    // Never lapsing sorts after any time.
    let last = b.care_of.iter().max_by_key(|c| match c.expires {
        Expiry::At(t) => (false, t),
        Expiry::Never => (true, SystemTime::UNIX_EPOCH),
    });
    Record {
        role: Role::HomeAgent,
        home_address: IpAddr::V4(home),
        care_of: b.care_of.iter().map(|c| IpAddr::V4(c.care_of)).collect(),
        encap: b.encap,
        tunnel_source: IpAddr::V4(b.home_agent),
        lifetime: last.map_or(0, |c| u32::from(c.lifetime)),
        expires: last.map_or(Expiry::Never, |c| c.expires),
        replay: ReplayState {
            last_identification: Some(b.identification),
            ..ReplayState::default()
        },
        spi: Some(b.spi),
        nai: b
            .nai
            .as_deref()
            .map(|n| String::from_utf8_lossy(n).into_owned()),
        profiles: profile.into_iter().collect(),
        role_data: RoleData::None,
    }
}

/// The Mobile IPv4 binding a home agent's record describes, each care-of address with
/// the record's lifetime and expiry; None for another role's record.
pub(crate) fn binding_of(r: &Record, now: SystemTime) -> Option<(Ipv4Addr, MobilityBinding)> {
    let (Role::HomeAgent, IpAddr::V4(home), IpAddr::V4(home_agent)) =
        (r.role, r.home_address, r.tunnel_source)
    else {
        return None;
    };
    let lifetime = u16::try_from(r.lifetime).unwrap_or(u16::MAX);
    let registered = match r.expires {
        Expiry::At(t) => t
            .checked_sub(std::time::Duration::from_secs(u64::from(r.lifetime)))
            .unwrap_or(now),
        Expiry::Never => now,
    };
    let care_of = r
        .care_of
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(CareOfBinding {
                care_of: *a,
                lifetime,
                registered,
                expires: r.expires,
            }),
            IpAddr::V6(_) => None,
        })
        .collect();
    Some((
        home,
        MobilityBinding {
            care_of,
            encap: r.encap,
            home_agent,
            flags: RegistrationFlags::default(),
            identification: r.replay.last_identification.unwrap_or(0),
            nai: r.nai.as_ref().map(|n| Box::from(n.as_bytes())),
            spi: r.spi.unwrap_or(0),
        },
    ))
}

/// A registration request as it arrived.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) sender_mac: [u8; 6],
    pub(crate) from: SocketAddrV4,
    pub(crate) to: Ipv4Addr,
    pub(crate) payload: &'a [u8],
}

/// Reads an untagged Ethernet frame carrying IPv4/UDP to port 434, checksums verified.
pub(crate) fn parse(frame: &[u8]) -> Result<Request<'_>, FrameError> {
    let (Some(eth), Some(ip)) = (frame.get(..ETHERNET_LEN), frame.get(ETHERNET_LEN..)) else {
        return Err(FrameError::Truncated);
    };
    if eth[12..14] != [0x08, 0x00] {
        return Err(FrameError::NotRegistration);
    }
    let mut sender_mac = [0u8; 6];
    sender_mac.copy_from_slice(&eth[6..12]);
    let packet = Ipv4Packet::new_checked(ip).map_err(ip_error)?;
    let repr = Ipv4Repr::parse(&packet, ChecksumMode::Verify).map_err(ip_error)?;
    if repr.more_frags || repr.frag_offset != 0 {
        return Err(FrameError::Fragment);
    }
    if repr.protocol != IpProtocol::UDP {
        return Err(FrameError::NotRegistration);
    }
    let udp = UdpPacket::new_checked(packet.payload()).map_err(ip_error)?;
    let pseudo = PseudoHeader::V4 {
        src: repr.src_addr,
        dst: repr.dst_addr,
    };
    let u = UdpRepr::parse(&udp, &pseudo, ChecksumMode::Verify).map_err(ip_error)?;
    if u.dst_port != PORT {
        return Err(FrameError::NotRegistration);
    }
    // The views borrow locally; the same bytes again from the frame, bounds as checked.
    let start = packet.header_len() + u.header_len();
    let payload = ip
        .get(start..start + u.payload_len)
        .ok_or(FrameError::Truncated)?;
    Ok(Request {
        sender_mac,
        from: SocketAddrV4::new(repr.src_addr, u.src_port),
        to: repr.dst_addr,
        payload,
    })
}

fn ip_error(e: mipdp_dataplane::wire::Error) -> FrameError {
    use mipdp_dataplane::wire::Error;
    match e {
        Error::Truncated => FrameError::Truncated,
        Error::BadChecksum => FrameError::BadChecksum,
        _ => FrameError::BadIpv4,
    }
}

/// An Ethernet/IPv4/UDP frame from `src` to `dst` carrying `payload`, padded to the
/// minimum frame length. RFC 768, RFC 791.
pub(crate) fn udp_frame(
    eth_src: [u8; 6],
    eth_dst: [u8; 6],
    src: SocketAddrV4,
    dst: SocketAddrV4,
    ident: u16,
    payload: &[u8],
) -> Option<Vec<u8>> {
    let udp = UdpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        payload_len: payload.len(),
    };
    let ip = Ipv4Repr {
        src_addr: *src.ip(),
        dst_addr: *dst.ip(),
        protocol: IpProtocol::UDP,
        payload_len: udp.buffer_len(),
        ttl: REPLY_TTL,
        dscp: 0,
        ecn: 0,
        ident,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::new(&[]).ok()?,
    };
    if ip.buffer_len() > usize::from(u16::MAX) {
        return None;
    }
    let end = ETHERNET_LEN + ip.buffer_len();
    let mut f = vec![0u8; end.max(MIN_FRAME)];
    f.get_mut(..6)?.copy_from_slice(&eth_dst);
    f.get_mut(6..12)?.copy_from_slice(&eth_src);
    f.get_mut(12..14)?.copy_from_slice(&[0x08, 0x00]);
    let udp_start = ETHERNET_LEN + ip.header_len();
    f.get_mut(udp_start + udp.header_len()..end)?
        .copy_from_slice(payload);
    let pseudo = PseudoHeader::V4 {
        src: *src.ip(),
        dst: *dst.ip(),
    };
    udp.emit(
        &mut UdpPacket::new_unchecked(f.get_mut(udp_start..end)?),
        &pseudo,
    );
    ip.emit(&mut Ipv4Packet::new_unchecked(
        f.get_mut(ETHERNET_LEN..end)?,
    ));
    Some(f)
}

/// A broadcast gratuitous ARP (an ARP Request whose Sender and Target Protocol
/// Addresses are both `home`) with Sender Hardware Address `hardware`, sent from
/// `eth_src`. RFC 5944 §4.6; RFC 826.
fn gratuitous_arp(eth_src: [u8; 6], hardware: [u8; 6], home: Ipv4Addr) -> [u8; MIN_FRAME] {
    let mut f = [0u8; MIN_FRAME];
    f[..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&eth_src);
    f[12..14].copy_from_slice(&[0x08, 0x06]);
    f[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    f[22..28].copy_from_slice(&hardware);
    f[28..32].copy_from_slice(&home.octets());
    f[38..42].copy_from_slice(&home.octets());
    f
}

pub mod cn;
pub mod fa;
pub mod mip6;
pub mod mma;

#[cfg(test)]
mod tests;
