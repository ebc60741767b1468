//! The control thread's side of Mobile IPv6 home registration (RFC 6275 §10.3, §10.4.1):
//! punted frames carrying a Mobility Header to the node's addresses in, the binding
//! changes (an IPv6-in-IPv6 tunnel to the care-of address and the interception profile)
//! out to every worker, and the Binding Acknowledgement out only once every worker has
//! applied them; unsolicited Neighbor Advertisements when a home address is taken over or
//! given back; the lifetime timer; a Binding Refresh Request when a binding nears expiry
//! and on demand; error acknowledgements and Binding Errors answered at a configured rate.
//!
//! The same shape as Mobile IPv4 registration ([`super`]), with its held replies, token
//! bucket, interception profiles and announcements. Frames leave through the `send`
//! function the control thread passes in; where they go (port and next hop's MAC) comes
//! from its `toward` function (routes and the neighbours the control thread knows), else
//! back to the neighbour the Binding Update came from.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use mipdp_dataplane::profile::ProfileId;
use mipdp_dataplane::tables::{Encap, Prefix};
use mipdp_dataplane::update::{Update, UpdateSender};

use super::{
    backed_up, link_of, Announcer, Change, Frame, HeldReplies, Interception, ReplyCounters,
    TokenBucket, FIRST_PROFILE6, FIRST_PROFILE_MAP,
};
use crate::backup::{
    self, Journal, MulticastState, Record, ReplayState, RestoredBinding, Role, RoleData,
};
use crate::mobility::{Nd, ND_FRAME_LEN};
use crate::signalling::mip6::{Answer, HomeAgent6, HomeAgent6Config, MmaEntry, Reason, Role6};
use crate::state::bindings::Expiry;
use crate::state::bindings6::HomeBinding;

/// The backup record of the binding of `home` in `role` (issue 6), with the
/// association's last accepted `timestamp` and the interception `profile`.
pub(crate) fn record_of(
    role: Role,
    home: Ipv6Addr,
    b: &HomeBinding,
    timestamp: Option<u64>,
    profile: Option<ProfileId>,
) -> Record {
    Record {
        role,
        home_address: IpAddr::V6(home),
        care_of: vec![IpAddr::V6(b.care_of)],
        encap: Encap::IpInIp,
        tunnel_source: IpAddr::V6(b.home_agent),
        lifetime: b.lifetime,
        expires: Expiry::At(b.expires),
        replay: ReplayState {
            last_sequence: Some(b.sequence),
            last_timestamp: timestamp,
            ..ReplayState::default()
        },
        spi: Some(b.spi),
        nai: None,
        profiles: profile.into_iter().collect(),
        role_data: RoleData::None,
    }
}

/// The binding a Mobile IPv6 record describes; None when it is not one (an IPv4
/// address, no care-of address, no expiry).
pub(crate) fn binding_of(r: &Record) -> Option<(Ipv6Addr, HomeBinding)> {
    let (IpAddr::V6(home), IpAddr::V6(home_agent), Some(IpAddr::V6(care_of)), Expiry::At(expires)) = (
        r.home_address,
        r.tunnel_source,
        r.care_of.first().copied(),
        r.expires,
    ) else {
        return None;
    };
    let registered = expires
        .checked_sub(Duration::from_secs(u64::from(r.lifetime)))
        .unwrap_or(expires);
    Some((
        home,
        HomeBinding {
            care_of,
            home_agent,
            lifetime: r.lifetime,
            registered,
            expires,
            sequence: r.replay.last_sequence.unwrap_or(0),
            // Not stored: link-local compatibility only matters while the binding
            // changes, and the mobile node's next Binding Update sets it again.
            link_local_compatibility: false,
            spi: r.spi.unwrap_or(0),
        },
    ))
}

/// The backup record of what an MMA holds for `home` (issue 6): a registration is a
/// binding record (home → assigned care-of address, its sequence number, timestamp and
/// SPI) with the mobile's group; forwarding to a new MMA keeps the care-of address,
/// names the new MMA and lapses when forwarding ends. `mma` is the MMA's own address,
/// the tunnel source of the forwarding (a registration has its own).
pub(crate) fn mma_record_of(
    home: Ipv6Addr,
    entry: &MmaEntry,
    timestamp: Option<u64>,
    mma: Ipv6Addr,
) -> Record {
    match *entry {
        MmaEntry::Registered { binding, group } => Record {
            role_data: RoleData::Multicast(MulticastState {
                group: Some(IpAddr::V6(group)),
                forward: None,
            }),
            ..record_of(Role::MulticastAgent, home, &binding, timestamp, None)
        },
        MmaEntry::Forwarding {
            care_of,
            new_mma,
            until,
        } => Record {
            role: Role::MulticastAgent,
            home_address: IpAddr::V6(home),
            care_of: vec![IpAddr::V6(care_of)],
            encap: Encap::IpInIp,
            tunnel_source: IpAddr::V6(mma),
            lifetime: 0,
            expires: Expiry::At(until),
            replay: ReplayState {
                last_timestamp: timestamp,
                ..ReplayState::default()
            },
            spi: None,
            nai: None,
            profiles: Vec::new(),
            role_data: RoleData::Multicast(MulticastState {
                group: None,
                forward: Some((IpAddr::V6(new_mma), until)),
            }),
        },
    }
}

/// What an MMA record describes; None when it is not one (another role's, IPv4
/// addresses, no care-of address or group).
pub(crate) fn mma_entry_of(r: &Record) -> Option<(Ipv6Addr, MmaEntry)> {
    let RoleData::Multicast(m) = r.role_data else {
        return None;
    };
    if r.role != Role::MulticastAgent {
        return None;
    }
    match (m.forward, m.group) {
        (Some((IpAddr::V6(new_mma), until)), _) => {
            let (IpAddr::V6(home), Some(IpAddr::V6(care_of))) =
                (r.home_address, r.care_of.first().copied())
            else {
                return None;
            };
            Some((
                home,
                MmaEntry::Forwarding {
                    care_of,
                    new_mma,
                    until,
                },
            ))
        }
        (None, Some(IpAddr::V6(group))) => {
            let (home, binding) = binding_of(r)?;
            Some((home, MmaEntry::Registered { binding, group }))
        }
        _ => None,
    }
}

/// Bytes of the Ethernet header of the frames handled here (untagged).
const ETHERNET_LEN: usize = 14;
/// The IPv6 EtherType.
const IPV6: [u8; 2] = [0x86, 0xdd];
/// The link-local all-nodes multicast address, and its Ethernet group. RFC 4291 §2.7.1,
/// RFC 2464 §7.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];

/// Why a punted frame was not handed to the home agent: one counter each
/// (`mip6_frame_<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError6 {
    /// Shorter than an Ethernet and an IPv6 header.
    Truncated,
    /// Not an untagged IPv6 frame.
    NotIpv6,
    /// The arrival port is not one of the node's.
    UnknownPort,
}

impl FrameError6 {
    /// Every reason, in counter order.
    pub const ALL: [FrameError6; 3] = [
        FrameError6::Truncated,
        FrameError6::NotIpv6,
        FrameError6::UnknownPort,
    ];

    /// Name for counters.
    pub fn name(self) -> &'static str {
        match self {
            FrameError6::Truncated => "truncated",
            FrameError6::NotIpv6 => "not_ipv6",
            FrameError6::UnknownPort => "unknown_port",
        }
    }
}

/// What Mobile IPv6 home registration did, for `mipdp ctl show stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Registration6Stats {
    /// Packets by how they ended, indexed by `Reason as usize`: the silent drops are
    /// counted here too.
    pub reasons: [u64; Reason::ALL.len()],
    /// Frames not handed to the home agent, indexed by `FrameError6 as usize`.
    pub frame_errors: [u64; FrameError6::ALL.len()],
    /// Binding Acknowledgements and Binding Errors sent.
    pub replies: u64,
    /// Error acknowledgements and Binding Errors not sent: the rate limit was reached.
    pub replies_limited: u64,
    /// Replies that could not be sent (not framed, no buffer, TX queue full).
    pub replies_unsent: u64,
    /// Acknowledgements dropped because the workers did not apply their binding change
    /// within `home_agent6.reply_wait_ms`.
    pub replies_abandoned: u64,
    /// Unsolicited Neighbor Advertisements sent (each repetition counts).
    pub neighbour_advertisements: u64,
    /// Those that could not be sent.
    pub neighbour_advertisements_unsent: u64,
    /// Home addresses given back without an advertisement: the mobile node's MAC was not
    /// known.
    pub returns_unannounced: u64,
    /// Bindings removed by lifetime expiry. RFC 6275 §10.3.1.
    pub expiries: u64,
    /// Binding Refresh Requests sent (timer and on demand).
    pub refreshes: u64,
    /// Binding Refresh Requests that could not be sent.
    pub refreshes_unsent: u64,
    /// Home addresses bound now.
    pub bindings: u64,
}

impl Registration6Stats {
    /// The counters as `key=value` words, each key starting `mip6_`.
    pub fn text(&self) -> String {
        self.text_as("mip6")
    }

    /// The same with another prefix than `mip6` (the MAP's `map`, the MMA's `mma`:
    /// [`Role6::counter_prefix`]).
    pub fn text_as(&self, p: &str) -> String {
        let mut parts = Vec::new();
        for r in Reason::ALL {
            parts.push(format!("{p}_{}={}", r.name(), self.reasons[r as usize]));
        }
        for e in FrameError6::ALL {
            parts.push(format!(
                "{p}_frame_{}={}",
                e.name(),
                self.frame_errors[e as usize]
            ));
        }
        parts.push(format!(
            "{p}_replies={} {p}_replies_limited={} {p}_replies_unsent={} {p}_replies_abandoned={}",
            self.replies, self.replies_limited, self.replies_unsent, self.replies_abandoned
        ));
        parts.push(format!(
            "{p}_neighbour_advertisements={} {p}_neighbour_advertisements_unsent={} {p}_returns_unannounced={}",
            self.neighbour_advertisements,
            self.neighbour_advertisements_unsent,
            self.returns_unannounced
        ));
        parts.push(format!(
            "{p}_expiries={} {p}_refreshes={} {p}_refreshes_unsent={} {p}_bindings={}",
            self.expiries, self.refreshes, self.refreshes_unsent, self.bindings
        ));
        parts.join(" ")
    }
}

/// Where a frame leaves: (port index, the next hop's MAC).
pub type Toward = (u16, [u8; 6]);

/// A neighbour the control thread should learn: (port index, address, MAC).
pub type Learnt6 = (u16, Ipv6Addr, [u8; 6]);

/// A Binding Refresh Request due at `due` for the registration of `home` that lapses at
/// `expires` (a later registration makes it stale); `via` is where the Binding Update
/// came from.
type Refresh = Reverse<(SystemTime, Ipv6Addr, SystemTime, Toward)>;

/// Why an on-demand Binding Refresh Request was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshError {
    /// The home address has no binding.
    NotBound,
    /// It could not be built or sent (no route, no buffer, TX queue full).
    Unsent,
}

/// The Mobile IPv6 home agent as the control thread runs it.
#[derive(Debug)]
pub struct Registrar6 {
    ha: HomeAgent6,
    port_macs: Vec<[u8; 6]>,
    /// Connected prefixes and their ports: where each home link is.
    links: Vec<(Prefix, u16)>,
    limiter: TokenBucket,
    replies: HeldReplies,
    announcer: Announcer,
    interception: Interception,
    /// When expiry may have work next (never later than the true next expiry).
    next_expiry: Option<SystemTime>,
    refreshes: BinaryHeap<Refresh>,
    /// `<section>.reply_wait_ms`, for the log of an abandoned reply.
    reply_wait_key: String,
    /// Home addresses whose Binding Update was accepted since the last
    /// [`take_accepted`](Self::take_accepted): what confirms a restored binding (issue 6).
    accepted: Vec<Ipv6Addr>,
    /// Where every binding change goes before the answer that reports it.
    journal: Journal,
    /// The counters.
    pub stats: Registration6Stats,
}

impl Registrar6 {
    /// A home agent with `config`, on ports with `port_macs`, whose connected prefixes
    /// (routes without a next hop) are `links`.
    pub fn new(
        config: HomeAgent6Config,
        port_macs: Vec<[u8; 6]>,
        links: Vec<(Prefix, u16)>,
    ) -> Registrar6 {
        // Each role numbers its interception profiles apart (an MMA installs none: its
        // tunnel ends and multicast map do the work).
        let first = match config.role {
            Role6::HomeAgent => FIRST_PROFILE6,
            Role6::MobilityAnchorPoint | Role6::MulticastAgent(_) => FIRST_PROFILE_MAP,
        };
        Registrar6 {
            reply_wait_key: format!("{}.reply_wait_ms", config.role.section()),
            limiter: TokenBucket::new(config.operation.error_replies),
            ha: HomeAgent6::new(config),
            port_macs,
            links,
            replies: HeldReplies::default(),
            announcer: Announcer::default(),
            interception: Interception::new(first),
            next_expiry: None,
            refreshes: BinaryHeap::new(),
            accepted: Vec::new(),
            journal: Journal::disabled(),
            stats: Registration6Stats::default(),
        }
    }

    /// The role its bindings have in the backup.
    pub fn backup_role(&self) -> Role {
        match self.ha.config().role {
            Role6::HomeAgent => Role::HomeAgent,
            Role6::MobilityAnchorPoint => Role::MobilityAnchorPoint,
            Role6::MulticastAgent(_) => Role::MulticastAgent,
        }
    }

    /// Backs every binding change up through `journal` before its answer leaves (issue
    /// 6); without it (the default) nothing is stored.
    pub fn set_journal(&mut self, journal: Journal) {
        self.replies.set_journal(journal.clone());
        self.journal = journal;
    }

    /// Puts the bindings of its role among `records` (restored from the backup, none of
    /// them lapsed) back into its binding cache and every worker, with the replay state
    /// that refuses Binding Updates captured before the restart, announces each home
    /// address on its link and schedules its Binding Refresh Request as for a new
    /// registration. An MMA puts back its registrations (home and care-of address →
    /// the group) and its forwarding to new MMAs (→ the new MMA, until its time is up)
    /// into its multicast map instead.
    ///
    /// Returns the bindings it restored, for the verification (an MMA's forwarding is
    /// none: it ends at its time) and how many records it put back in all; a record the
    /// cache refuses is logged and left out.
    pub fn restore(
        &mut self,
        updates: &mut UpdateSender,
        records: &[Record],
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        (now, at): (SystemTime, Instant),
    ) -> (Vec<RestoredBinding>, usize) {
        let role = self.backup_role();
        if role == Role::MulticastAgent {
            return self.restore_mma(updates, records, toward, now);
        }
        let mut list = Vec::new();
        let mut restored = Vec::new();
        for r in records.iter().filter(|r| r.role == role) {
            let Some((home, binding)) = binding_of(r) else {
                continue;
            };
            match self.ha.restore(home, binding, r.replay.last_timestamp) {
                Ok(u) => {
                    list.push(u);
                    restored.push(RestoredBinding::of(r));
                }
                Err(e) => log::error!("backup: binding of {home} not restored: {e}"),
            }
        }
        // Already in the backup: to the workers only.
        let (epoch, changes) = self.install(updates, list, toward, None, now);
        // One series for all of them (RFC 6275 §10.4.1), not an entry each.
        let homes = changes
            .into_iter()
            .filter_map(|change| match change {
                Change::Taken(home @ IpAddr::V6(_)) => Some(home),
                _ => None,
            })
            .collect();
        let count = self.ha.config().operation.neighbour_advertisements;
        self.announcer.schedule_bulk(homes, (epoch, at), count);
        self.next_expiry = self.ha.next_expiry();
        let count = restored.len();
        (restored, count)
    }

    /// [`restore`](Self::restore) for an MMA.
    fn restore_mma(
        &mut self,
        updates: &mut UpdateSender,
        records: &[Record],
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        now: SystemTime,
    ) -> (Vec<RestoredBinding>, usize) {
        let mut list = Vec::new();
        let mut restored = Vec::new();
        let mut count = 0;
        for r in records.iter().filter(|r| r.role == Role::MulticastAgent) {
            let Some((home, entry)) = mma_entry_of(r) else {
                log::error!(
                    "backup: MMA record of {} not restored: it holds neither a registration \
                     nor forwarding to a new MMA",
                    r.home_address
                );
                continue;
            };
            match self.ha.restore_mma(home, entry, r.replay.last_timestamp) {
                Ok(u) => {
                    list.extend(u);
                    count += 1;
                    if matches!(entry, MmaEntry::Registered { .. }) {
                        restored.push(RestoredBinding::of(r));
                    }
                }
                Err(e) => log::error!("backup: MMA registration of {home} not restored: {e}"),
            }
        }
        // Restoring is no change to store again.
        self.ha.take_mma_changed();
        // Already in the backup: to the workers only (an MMA schedules no Binding
        // Refresh Requests of its own: `[mma]` has no `binding_refresh_before_s`).
        self.install(updates, list, toward, None, now);
        self.next_expiry = self.ha.next_expiry();
        (restored, count)
    }

    /// Makes room for `n` more bindings at once: a restore from the backup of that many.
    pub fn reserve(&mut self, n: usize) {
        let n = n.min(self.ha.config().max_bindings);
        self.ha.reserve(n);
        self.interception.reserve(n);
    }

    /// The home agent (its bindings, its configuration).
    pub fn home_agent(&self) -> &HomeAgent6 {
        &self.ha
    }

    /// The counters with the prefix of its role (`mip6`, `map`, `mma`).
    pub fn counted(&self) -> (&'static str, Registration6Stats) {
        (self.ha.config().role.counter_prefix(), self.stats)
    }

    /// Handles one punted frame carrying a Mobility Header that arrived on port index
    /// `port`: the home agent decides, its binding changes go to every worker at once, and
    /// the answer waits until they are applied. `toward` finds the port and next hop's MAC
    /// for a destination; `mac_of` a neighbour the control thread knows on a port.
    /// Returns the mobile node's MAC on the home link to learn when it deregistered from
    /// home. Never panics, whatever the bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn binding_update(
        &mut self,
        frame: &[u8],
        port: u16,
        updates: &mut UpdateSender,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        mac_of: &dyn Fn(u16, Ipv6Addr) -> Option<[u8; 6]>,
        now: SystemTime,
        at: Instant,
    ) -> Option<Learnt6> {
        let (sender_mac, packet) = match split(frame) {
            Ok(parts) => parts,
            Err(e) => {
                self.stats.frame_errors[e as usize] += 1;
                return None;
            }
        };
        if usize::from(port) >= self.port_macs.len() {
            self.stats.frame_errors[FrameError6::UnknownPort as usize] += 1;
            return None;
        }
        let source = address_at(packet, 8);
        let outcome = self.ha.handle_binding_update(packet, now);
        self.stats.reasons[outcome.reason as usize] += 1;
        log::debug!("mobility header from {source:?}: {}", outcome.reason.name());
        let came_from = (port, sender_mac);
        if matches!(outcome.reason, Reason::Registered | Reason::Deregistered) {
            self.accepted
                .extend(outcome.updates.iter().filter_map(bound_home));
        }
        let (epoch, changes) = self.apply(updates, outcome.updates, toward, Some(came_from), now);
        if let Some(reply) = outcome.reply {
            let denial = match outcome.reason.answer() {
                Answer::Acknowledgement(status) => status >= 128,
                Answer::Error(_) | Answer::Nothing => true,
            };
            if denial && !self.limiter.take(at) {
                self.stats.replies_limited += 1;
            } else {
                match self.frame(&reply, toward, Some(came_from)) {
                    Some((out, frame)) => {
                        let wait = self.ha.config().operation.reply_wait;
                        self.replies.hold(epoch, at + wait, out, frame);
                    }
                    None => self.stats.replies_unsent += 1,
                }
            }
        }
        let mut learnt = None;
        for change in changes {
            match change {
                Change::Taken(IpAddr::V6(home)) => self.announce_takeover(home, epoch, at),
                Change::Returned(IpAddr::V6(home)) => {
                    // A mobile node back home deregisters from its home address on the
                    // home link (RFC 6275 §11.5.4): the frame came from its own MAC.
                    let link = link_of(&self.links, IpAddr::V6(home));
                    let at_home = source == Some(home) && link == Some(port);
                    let mac = if at_home {
                        learnt = Some((port, home, sender_mac));
                        Some(sender_mac)
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

    /// One pass of the timers: lifetime expiry, Binding Refresh Requests that are due,
    /// then the answers and advertisements whose binding changes every worker has applied.
    pub fn poll(
        &mut self,
        updates: &mut UpdateSender,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        mac_of: &dyn Fn(u16, Ipv6Addr) -> Option<[u8; 6]>,
        (now, at): (SystemTime, Instant),
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) {
        if self.next_expiry.is_some_and(|t| t <= now) {
            let expired = self.ha.expire(now);
            self.stats.expiries += expired.len() as u64;
            let (epoch, changes) = self.apply(updates, expired, toward, None, now);
            for change in changes {
                if let Change::Returned(IpAddr::V6(home)) = change {
                    log::info!("binding of {home} expired");
                    let mac = link_of(&self.links, IpAddr::V6(home)).and_then(|l| mac_of(l, home));
                    self.announce_return(home, mac, epoch, at);
                }
            }
            self.next_expiry = self.ha.next_expiry();
        }
        self.refresh_due(toward, now, send);
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
            &self.reply_wait_key,
        );
        let (links, port_macs) = (&self.links, &self.port_macs);
        let addresses = &self.ha.config().addresses;
        self.announcer.poll(
            updates,
            at,
            self.ha.config().operation.neighbour_advertisement_interval,
            send,
            (
                &mut stats.neighbour_advertisements,
                &mut stats.neighbour_advertisements_unsent,
            ),
            &|home| {
                let IpAddr::V6(v6) = home else {
                    return None;
                };
                let port = link_of(links, home)?;
                let mac = port_macs.get(usize::from(port)).copied()?;
                Some((
                    port,
                    advertisement(links, port_macs, addresses, v6, port, mac)?,
                ))
            },
        );
        self.stats.bindings = self.ha.bindings().len() as u64;
    }

    /// Sends a Binding Refresh Request for the binding of `home` now (`mipdp ctl refresh
    /// binding`). RFC 6275 §9.5.5: the home agent may ask at any time.
    pub fn refresh(
        &mut self,
        home: Ipv6Addr,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) -> Result<(), RefreshError> {
        if self.ha.bindings().get(home).is_none() {
            return Err(RefreshError::NotBound);
        }
        if self.send_refresh(home, toward, None, send) {
            Ok(())
        } else {
            Err(RefreshError::Unsent)
        }
    }

    /// The home addresses whose authenticated Binding Update was accepted (registered,
    /// refreshed, moved or deregistered) since the last call: each confirms that its
    /// mobile node is alive (the verification after a restart, issue 6).
    pub fn take_accepted(&mut self) -> Vec<Ipv6Addr> {
        std::mem::take(&mut self.accepted)
    }

    /// Removes the binding of `home` from the state and every worker, as its expiry would
    /// (the home address is given back on its link): its mobile node did not answer the
    /// verification after a restart (issue 6). Returns whether there was one.
    pub fn remove(
        &mut self,
        home: Ipv6Addr,
        updates: &mut UpdateSender,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        mac_of: &dyn Fn(u16, Ipv6Addr) -> Option<[u8; 6]>,
        (now, at): (SystemTime, Instant),
    ) -> bool {
        let list = self.ha.remove(home);
        if list.is_empty() {
            return false;
        }
        let (epoch, changes) = self.apply(updates, list, toward, None, now);
        for change in changes {
            if let Change::Returned(IpAddr::V6(home)) = change {
                let mac = link_of(&self.links, IpAddr::V6(home)).and_then(|l| mac_of(l, home));
                self.announce_return(home, mac, epoch, at);
            }
        }
        self.next_expiry = self.ha.next_expiry();
        true
    }

    /// Sends the Binding Refresh Requests that are due: one per registration, `refresh
    /// before` its expiry (at most half its lifetime before), if it is still the binding.
    fn refresh_due(
        &mut self,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        now: SystemTime,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) {
        while let Some(Reverse((due, home, expires, via))) = self.refreshes.peek().copied() {
            if due > now {
                break;
            }
            self.refreshes.pop();
            let current = self
                .ha
                .bindings()
                .get(home)
                .is_some_and(|b| b.expires == expires);
            if current {
                log::info!("binding of {home} nears expiry: Binding Refresh Request");
                self.send_refresh(home, toward, Some(via), send);
            }
        }
    }

    fn send_refresh(
        &mut self,
        home: Ipv6Addr,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        via: Option<Toward>,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) -> bool {
        let sent = self
            .ha
            .binding_refresh_request(home)
            .and_then(|packet| self.frame(&packet, toward, via))
            .is_some_and(|(port, frame)| send(port, &frame));
        if sent {
            self.stats.refreshes += 1;
        } else {
            self.stats.refreshes_unsent += 1;
        }
        sent
    }

    /// Sends `list` to every worker with the interception profiles, notes when expiry has
    /// work next and schedules each new registration's Binding Refresh Request.
    fn apply(
        &mut self,
        updates: &mut UpdateSender,
        list: Vec<Update>,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        came_from: Option<Toward>,
        now: SystemTime,
    ) -> (u64, Vec<Change>) {
        // The records are written after the install, which numbers a new home
        // address's interception profile.
        let touched: Vec<Update> = if self.journal.is_enabled() {
            list.iter().filter(|u| backed_up(u)).cloned().collect()
        } else {
            Vec::new()
        };
        let applied = self.install(updates, list, toward, came_from, now);
        // Drained whether or not there is a backup, so the list never grows.
        let mma_changed = self.ha.take_mma_changed();
        if !self.journal.is_enabled() {
            return applied;
        }
        let role = self.backup_role();
        if role == Role::MulticastAgent {
            // An MMA's registration is its multicast map: the records follow what
            // changed, registered or forwarding (stored) or gone (deleted).
            let mma = self.ha.config().addresses.first().copied();
            let changes = mma_changed
                .into_iter()
                .map(|home| match self.ha.mma_entry(home) {
                    Some(entry) => {
                        let timestamp = match entry {
                            MmaEntry::Registered { binding, .. } => {
                                self.ha.last_timestamp(home, binding.spi)
                            }
                            MmaEntry::Forwarding { .. } => None,
                        };
                        backup::Change::Put(mma_record_of(
                            home,
                            &entry,
                            timestamp,
                            mma.unwrap_or(Ipv6Addr::UNSPECIFIED),
                        ))
                    }
                    None => backup::Change::Delete(role, IpAddr::V6(home)),
                })
                .collect();
            self.journal.submit(changes);
        } else {
            let changes = touched
                .iter()
                .filter_map(|u| match u {
                    Update::Binding {
                        home: IpAddr::V6(home),
                        ..
                    } => {
                        let b = self.ha.bindings().get(*home)?;
                        let profile = self.interception.profile_of(IpAddr::V6(*home));
                        let timestamp = self.ha.last_timestamp(*home, b.spi);
                        Some(backup::Change::Put(record_of(
                            role, *home, b, timestamp, profile,
                        )))
                    }
                    Update::RemoveBinding { home } => Some(backup::Change::Delete(role, *home)),
                    _ => None,
                })
                .collect();
            self.journal.submit(changes);
        }
        applied
    }

    /// [`apply`](Self::apply) without the backup: for bindings restored from it.
    fn install(
        &mut self,
        updates: &mut UpdateSender,
        list: Vec<Update>,
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        came_from: Option<Toward>,
        now: SystemTime,
    ) -> (u64, Vec<Change>) {
        let before = self.ha.config().operation.refresh_before;
        for u in &list {
            // An MMA's registrations and forwarding to a new MMA lapse too.
            if let Update::Multicast {
                key: IpAddr::V6(key),
                ..
            } = u
            {
                let until = self.ha.bindings().get(*key).map(|b| b.expires);
                if let Some(t) = until.or_else(|| self.ha.forwarding_until(*key)) {
                    self.next_expiry = Some(self.next_expiry.map_or(t, |n| n.min(t)));
                }
            }
            let Update::Binding {
                home: IpAddr::V6(home),
                ..
            } = u
            else {
                continue;
            };
            let Some(b) = self.ha.bindings().get(*home) else {
                continue;
            };
            self.next_expiry = Some(self.next_expiry.map_or(b.expires, |n| n.min(b.expires)));
            let via = toward(b.care_of).or(came_from);
            if let (Some(before), Some(via)) = (before, via) {
                let ahead = before.min(Duration::from_secs(u64::from(b.lifetime / 2)));
                let due = b.expires.checked_sub(ahead).unwrap_or(now);
                self.refreshes.push(Reverse((due, *home, b.expires, via)));
            }
        }
        let applied = self.interception.apply(updates, list);
        self.stats.bindings = self.ha.bindings().len() as u64;
        applied
    }

    /// `packet` (a whole IPv6 packet) in an Ethernet frame toward its destination: by
    /// `toward`, else to `fallback` (where the packet it answers came from).
    fn frame(
        &self,
        packet: &[u8],
        toward: &dyn Fn(Ipv6Addr) -> Option<Toward>,
        fallback: Option<Toward>,
    ) -> Option<(u16, Vec<u8>)> {
        let destination = address_at(packet, 24)?;
        let (port, mac) = toward(destination).or(fallback)?;
        let eth_src = self.port_macs.get(usize::from(port)).copied()?;
        let mut f = Vec::with_capacity(ETHERNET_LEN + packet.len());
        f.extend_from_slice(&mac);
        f.extend_from_slice(&eth_src);
        f.extend_from_slice(&IPV6);
        f.extend_from_slice(packet);
        Some((port, f))
    }

    /// RFC 6275 §10.4.1: on a binding for a home address that had none, the home agent
    /// multicasts an unsolicited Neighbor Advertisement on the home link for it with its
    /// own link-layer address (Override set, Solicited and Router clear), repeated a few
    /// times; from then on the workers answer solicitations for it (proxy ND).
    fn announce_takeover(&mut self, home: Ipv6Addr, epoch: u64, at: Instant) {
        let Some(port) = link_of(&self.links, IpAddr::V6(home)) else {
            return;
        };
        let Some(mac) = self.port_macs.get(usize::from(port)).copied() else {
            return;
        };
        self.schedule(home, port, mac, epoch, at);
    }

    /// When the binding ends the workers stop answering for the home address, and an
    /// advertisement gives it back to the mobile node's own MAC when the home agent knows
    /// it (as Mobile IPv4 does with gratuitous ARP; RFC 6275 §11.5.4 has the mobile node
    /// send one itself too). Without it nothing is announced: a guessed MAC would be worse
    /// than the home link's caches going stale.
    fn announce_return(&mut self, home: Ipv6Addr, mac: Option<[u8; 6]>, epoch: u64, at: Instant) {
        self.announcer.cancel(IpAddr::V6(home));
        let (Some(port), Some(mac)) = (link_of(&self.links, IpAddr::V6(home)), mac) else {
            self.stats.returns_unannounced += 1;
            log::info!(
                "home address {home} given back without a Neighbor Advertisement: the mobile node's MAC is not known"
            );
            return;
        };
        self.schedule(home, port, mac, epoch, at);
    }

    fn schedule(&mut self, home: Ipv6Addr, port: u16, hardware: [u8; 6], epoch: u64, at: Instant) {
        let Some(frame) = self.advertisement(home, port, hardware) else {
            return;
        };
        let count = self.ha.config().operation.neighbour_advertisements;
        self.announcer
            .schedule(IpAddr::V6(home), port, frame, (epoch, at), count);
    }

    /// The unsolicited Neighbor Advertisement out of port index `port` binding `home` to
    /// `hardware`; None where the port or an address to send it from is missing.
    fn advertisement(&self, home: Ipv6Addr, port: u16, hardware: [u8; 6]) -> Option<Frame> {
        advertisement(
            &self.links,
            &self.port_macs,
            &self.ha.config().addresses,
            home,
            port,
            hardware,
        )
    }
}

/// The home address a binding change is for (a MAP: the regional care-of address; an
/// MMA: the home address or the care-of address its multicast-map entry is keyed by).
fn bound_home(u: &Update) -> Option<Ipv6Addr> {
    match u {
        Update::Binding {
            home: IpAddr::V6(home),
            ..
        }
        | Update::RemoveBinding {
            home: IpAddr::V6(home),
        }
        | Update::Multicast {
            key: IpAddr::V6(home),
            ..
        }
        | Update::RemoveMulticast {
            key: IpAddr::V6(home),
        } => Some(*home),
        _ => None,
    }
}

/// The sender's MAC and the IPv6 packet of an untagged Ethernet frame.
pub(crate) fn split(frame: &[u8]) -> Result<([u8; 6], &[u8]), FrameError6> {
    let (Some(eth), Some(packet)) = (frame.get(..ETHERNET_LEN), frame.get(ETHERNET_LEN..)) else {
        return Err(FrameError6::Truncated);
    };
    if eth[12..14] != IPV6 {
        return Err(FrameError6::NotIpv6);
    }
    if packet.len() < 40 {
        return Err(FrameError6::Truncated);
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&eth[6..12]);
    Ok((mac, packet))
}

/// The IPv6 address at byte `at` of `packet` (8: source, 24: destination).
pub(crate) fn address_at(packet: &[u8], at: usize) -> Option<Ipv6Addr> {
    let bytes: [u8; 16] = packet.get(at..at + 16)?.try_into().ok()?;
    Some(Ipv6Addr::from(bytes))
}

/// The unsolicited Neighbor Advertisement out of port index `port` binding `home` to
/// `hardware`, from the home agent's address on that port's link (else its first);
/// None where the port or an address is missing.
fn advertisement(
    links: &[(Prefix, u16)],
    port_macs: &[[u8; 6]],
    addresses: &[Ipv6Addr],
    home: Ipv6Addr,
    port: u16,
    hardware: [u8; 6],
) -> Option<Frame> {
    let eth_src = port_macs.get(usize::from(port)).copied()?;
    // RFC 4861 §7.2.4: from an address of the interface it leaves by.
    let source = addresses
        .iter()
        .find(|a| link_of(links, IpAddr::V6(**a)) == Some(port))
        .or(addresses.first())
        .copied()?;
    Some(Frame::Na {
        eth_src,
        source,
        home,
        hardware,
    })
}

/// An unsolicited Neighbor Advertisement for `home` to all nodes, from `source`, with
/// Target Link-Layer Address `hardware`, in a frame from `eth_src`: Override set,
/// Solicited and Router clear. RFC 6275 §10.4.1, RFC 4861 §4.4, §7.2.6.
pub(crate) fn unsolicited_advertisement(
    eth_src: [u8; 6],
    source: Ipv6Addr,
    home: Ipv6Addr,
    hardware: [u8; 6],
) -> Vec<u8> {
    let mut f = vec![0u8; ND_FRAME_LEN];
    let nd = Nd {
        eth_dst: ALL_NODES_MAC,
        src: source,
        dst: ALL_NODES,
        icmp_type: 136,
        flags: 0x20,
        target: home,
        option: 2,
    };
    nd.write(&mut f, hardware);
    // The option names `hardware`; the frame comes from the home agent's port.
    f[6..12].copy_from_slice(&eth_src);
    f
}

#[cfg(test)]
mod tests;
