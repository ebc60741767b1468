//! The control thread's side of the Mobile IPv4 foreign agent (RFC 5944 §2.3, §3.7):
//! agent advertisements every interval and in answer to agent solicitations, punted
//! Registration Requests from the visited links relayed to the home agents, their
//! Registration Replies relayed to the mobiles once every worker has applied the visitor
//! change they report, and the visitor and pending lifetimes. The decisions are
//! [`crate::signalling::fa`]'s; this module frames, rate-limits and counts. Frames leave
//! through the `send` function the control thread passes in.

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant, SystemTime};

use mipdp_dataplane::update::{Update, UpdateSender};
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::icmpv4::{Icmpv4Message, Icmpv4Packet};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::mip4::MessageType;

use mipdp_dataplane::tables::{Encap, Visitor};

use crate::backup::{
    self, Journal, Record, ReplayState, RestoredBinding, Role, RoleData, VisitorState,
};
use crate::state::bindings::Expiry;

use super::{parse, udp_frame, FrameError, HeldReplies, ReplyCounters, TokenBucket};
use crate::signalling::fa::{
    Arrival, ForeignAgent, ForeignAgentConfig, Reason, ToMobile, VisitorEntry,
};

/// Bytes of the Ethernet header (untagged).
const ETHERNET_LEN: usize = 14;
/// The shortest Ethernet frame without its FCS.
const MIN_FRAME: usize = 60;

/// Where a frame toward an IPv4 destination leaves: port index and next hop's MAC.
pub type Toward4 = (u16, [u8; 6]);

/// What the foreign agent did, for `mipdp ctl show stats` (`fa_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForeignAgentStats {
    /// Registration messages by how they ended, indexed by `Reason as usize`.
    pub reasons: [u64; Reason::ALL.len()],
    /// Frames not handed to the foreign agent, indexed by `FrameError as usize`.
    pub frame_errors: [u64; FrameError::ALL.len()],
    /// Agent solicitations answered or limited.
    pub solicitations: u64,
    /// Punted ICMP that was not a well-formed agent solicitation.
    pub solicitations_malformed: u64,
    /// Unsolicited advertisements sent.
    pub advertisements: u64,
    /// Advertisements sent in answer to solicitations.
    pub advertisements_solicited: u64,
    /// Solicitations not answered: the rate limit was reached.
    pub advertisements_limited: u64,
    /// Advertisements that could not be sent.
    pub advertisements_unsent: u64,
    /// Requests relayed to the home agent.
    pub relays: u64,
    /// Requests not relayed: no route or next-hop MAC toward the home agent, or no buffer.
    pub relays_unsent: u64,
    /// Replies sent to mobiles (relayed or the agent's own).
    pub replies: u64,
    /// Denials of the agent's own not sent: the rate limit was reached.
    pub replies_limited: u64,
    /// Replies that could not be sent.
    pub replies_unsent: u64,
    /// Replies dropped: the workers did not apply the visitor change in time.
    pub replies_abandoned: u64,
    /// Visitors removed by lifetime expiry.
    pub expiries: u64,
    /// Visitors listed now.
    pub visitors: u64,
    /// Requests pending now.
    pub pending: u64,
}

impl ForeignAgentStats {
    /// The counters as `key=value` words.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        for r in Reason::ALL {
            parts.push(format!("fa_{}={}", r.name(), self.reasons[r as usize]));
        }
        for e in FrameError::ALL {
            parts.push(format!(
                "fa_frame_{}={}",
                e.name(),
                self.frame_errors[e as usize]
            ));
        }
        parts.push(format!(
            "fa_solicitations={} fa_solicitations_malformed={} fa_advertisements={} fa_advertisements_solicited={} fa_advertisements_limited={} fa_advertisements_unsent={}",
            self.solicitations,
            self.solicitations_malformed,
            self.advertisements,
            self.advertisements_solicited,
            self.advertisements_limited,
            self.advertisements_unsent
        ));
        parts.push(format!(
            "fa_relays={} fa_relays_unsent={} fa_replies={} fa_replies_limited={} fa_replies_unsent={} fa_replies_abandoned={} fa_expiries={} fa_visitors={} fa_pending={}",
            self.relays,
            self.relays_unsent,
            self.replies,
            self.replies_limited,
            self.replies_unsent,
            self.replies_abandoned,
            self.expiries,
            self.visitors,
            self.pending
        ));
        parts.join(" ")
    }
}

/// The foreign agent as the control thread runs it.
#[derive(Debug)]
pub struct ForeignAgentRelay {
    fa: ForeignAgent,
    port_macs: Vec<[u8; 6]>,
    errors: TokenBucket,
    solicited: TokenBucket,
    replies: HeldReplies,
    /// When each link's next unsolicited advertisement is due.
    next_advertisement: Vec<Instant>,
    next_expiry: Option<Instant>,
    ident: u16,
    /// Where every visitor change goes before the reply that reports it (issue 6).
    journal: Journal,
    /// One moment on both clocks: the visitor list runs on the monotonic clock, the
    /// backup stores wall-clock expiries.
    clock: (SystemTime, Instant),
    /// The counters.
    pub stats: ForeignAgentStats,
}

/// The backup record of the visitor `home` (issue 6): its care-of address, its home
/// agent as the tunnel's far end, the granted lifetime and expiry (`clock` converts the
/// monotonic one), the accepted request's Identification, its NAI (when it is UTF-8, as
/// RFC 4282 has it) and where it is on the visited link.
pub(crate) fn visitor_record_of(
    home: Ipv4Addr,
    v: &VisitorEntry,
    (now, at): (SystemTime, Instant),
) -> Record {
    let expires = match v.expires {
        None => Expiry::Never,
        Some(t) => Expiry::At(match t.checked_duration_since(at) {
            Some(ahead) => now.checked_add(ahead).unwrap_or(now),
            None => now.checked_sub(at.duration_since(t)).unwrap_or(now),
        }),
    };
    Record {
        role: Role::ForeignAgent,
        home_address: IpAddr::V4(home),
        care_of: vec![IpAddr::V4(v.care_of)],
        // The foreign agent decapsulates whichever the home agent uses; not stored.
        encap: Encap::IpInIp,
        tunnel_source: IpAddr::V4(v.home_agent),
        lifetime: u32::from(v.lifetime),
        expires,
        replay: ReplayState {
            last_identification: Some(v.identification),
            ..ReplayState::default()
        },
        spi: None,
        nai: v
            .nai
            .as_deref()
            .and_then(|n| std::str::from_utf8(n).ok())
            .map(str::to_string),
        profiles: Vec::new(),
        role_data: RoleData::Visitor(VisitorState {
            mac: v.visitor.mac,
            port: v.visitor.port,
        }),
    }
}

/// The visitor a foreign agent's record describes, its expiry on the monotonic clock
/// (`clock` converts it); None for another role's record or one without the visitor's
/// link-layer address and port.
pub(crate) fn visitor_entry_of(
    r: &Record,
    (now, at): (SystemTime, Instant),
) -> Option<(Ipv4Addr, VisitorEntry)> {
    let (
        Role::ForeignAgent,
        IpAddr::V4(home),
        IpAddr::V4(home_agent),
        Some(IpAddr::V4(care_of)),
        RoleData::Visitor(v),
    ) = (
        r.role,
        r.home_address,
        r.tunnel_source,
        r.care_of.first().copied(),
        r.role_data,
    )
    else {
        return None;
    };
    let expires = match r.expires {
        Expiry::Never => None,
        // An expiry beyond the monotonic clock's range is no visitor's.
        Expiry::At(t) => Some(at.checked_add(t.duration_since(now).unwrap_or(Duration::ZERO))?),
    };
    Some((
        home,
        VisitorEntry {
            visitor: Visitor {
                mac: v.mac,
                port: v.port,
            },
            home_agent,
            care_of,
            nai: r.nai.as_ref().map(|n| n.as_bytes().to_vec()),
            identification: r.replay.last_identification.unwrap_or(0),
            lifetime: u16::try_from(r.lifetime).unwrap_or(u16::MAX),
            expires,
        },
    ))
}

impl ForeignAgentRelay {
    /// A foreign agent with `config` on ports with `port_macs`; the first advertisements
    /// are due at `at`.
    pub fn new(config: ForeignAgentConfig, port_macs: Vec<[u8; 6]>, at: Instant) -> Self {
        ForeignAgentRelay {
            errors: TokenBucket::new(config.error_replies),
            solicited: TokenBucket::new(config.solicited_advertisements),
            next_advertisement: vec![at; config.links.len()],
            fa: ForeignAgent::new(config),
            port_macs,
            replies: HeldReplies::default(),
            next_expiry: None,
            ident: 0,
            journal: Journal::disabled(),
            clock: (SystemTime::now(), at),
            stats: ForeignAgentStats::default(),
        }
    }

    /// Backs every visitor change (listed, refreshed, moved, de-registered, expired)
    /// up through `journal` before the reply that reports it leaves (issue 6); without
    /// it (the default) nothing is stored.
    pub fn set_journal(&mut self, journal: Journal) {
        self.replies.set_journal(journal.clone());
        self.journal = journal;
    }

    /// Puts the visitors among `records` (restored from the backup, none of them
    /// lapsed) back into the visitor list and every worker, so that packets for them
    /// are delivered at once, each until its stored lifetime (Mobile IPv4 has no request
    /// the agent could send to verify one). Returns what it restored; a record the list
    /// refuses is logged and left out.
    pub fn restore(
        &mut self,
        updates: &mut UpdateSender,
        records: &[Record],
        clock: (SystemTime, Instant),
    ) -> Vec<RestoredBinding> {
        let mut restored = Vec::new();
        for r in records.iter().filter(|r| r.role == Role::ForeignAgent) {
            let Some((home, entry)) = visitor_entry_of(r, clock) else {
                log::error!(
                    "backup: foreign agent record of {} not restored: it holds no visitor",
                    r.home_address
                );
                continue;
            };
            match self.fa.restore(home, entry) {
                // Already in the backup: to the workers only.
                Some(u) => {
                    updates.send(u);
                    restored.push(RestoredBinding::of(r));
                }
                None => log::error!(
                    "backup: visitor {home} not restored: the visitor list is full \
                     (foreign_agent.max_visitors) or its MAC is a group address"
                ),
            }
        }
        self.count();
        restored
    }

    /// The foreign agent.
    pub fn foreign_agent(&self) -> &ForeignAgent {
        &self.fa
    }

    /// Whether a punted IPv4 frame to UDP port 434 is the foreign agent's: a request
    /// arriving on a visited link, or a reply to one of its care-of addresses.
    pub fn wants(&self, frame: &[u8], port: u16) -> bool {
        let Ok(r) = parse(frame) else {
            return false;
        };
        match r.payload.first().map(|t| MessageType(*t)) {
            Some(MessageType::REGISTRATION_REQUEST) => {
                self.fa.config().links.iter().any(|l| l.port == port)
            }
            Some(MessageType::REGISTRATION_REPLY) => self.fa.offers(r.to),
            _ => false,
        }
    }

    /// Handles a punted registration frame (see [`wants`](Self::wants)) that arrived on
    /// port index `port`. `toward` finds the way to an IPv4 address. Never panics.
    pub fn registration(
        &mut self,
        frame: &[u8],
        port: u16,
        updates: &mut UpdateSender,
        toward: &dyn Fn(Ipv4Addr) -> Option<Toward4>,
        at: Instant,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) {
        let r = match parse(frame) {
            Ok(r) => r,
            Err(e) => {
                self.stats.frame_errors[e as usize] += 1;
                return;
            }
        };
        let outcome = match r.payload.first().map(|t| MessageType(*t)) {
            Some(MessageType::REGISTRATION_REPLY) => {
                self.fa.handle_reply(r.payload, *r.from.ip(), at)
            }
            _ => {
                let arrival = Arrival {
                    mac: r.sender_mac,
                    port,
                    from: r.from,
                    to: r.to,
                };
                self.fa.handle_request(r.payload, arrival, at)
            }
        };
        if let Some(reason) = outcome.reason {
            self.stats.reasons[reason as usize] += 1;
            log::debug!("registration message from {}: {}", r.from, reason.name());
        }
        let epoch = self.apply(updates, outcome.updates);
        if let Some(relay) = outcome.relay {
            self.relay(&relay.bytes, relay.from, relay.to, toward, send);
        }
        if let Some(reply) = outcome.reply {
            self.reply(reply, epoch, at);
        }
        self.count();
    }

    /// Answers a punted agent solicitation (ICMP type 10, RFC 5944 §2.2, §2.3) with an
    /// advertisement, link-layer unicast to the soliciting node, at the configured rate.
    pub fn solicitation(
        &mut self,
        frame: &[u8],
        port: u16,
        at: Instant,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) {
        let Some((mac, src)) = solicitation(frame) else {
            self.stats.solicitations_malformed += 1;
            return;
        };
        let Some(link) = self
            .fa
            .config()
            .links
            .iter()
            .find(|l| l.port == port)
            .copied()
        else {
            self.stats.frame_errors[FrameError::UnknownPort as usize] += 1;
            return;
        };
        self.stats.solicitations += 1;
        if !self.solicited.take(at) {
            self.stats.advertisements_limited += 1;
            return;
        }
        let dst = if src.is_unspecified() {
            self.fa.config().destination.address()
        } else {
            src
        };
        if self.advertise(&link, mac, dst, send) {
            self.stats.advertisements_solicited += 1;
        } else {
            self.stats.advertisements_unsent += 1;
        }
    }

    /// One pass of the timers: the unsolicited advertisements that are due, lifetime
    /// and pending expiry, and the replies every worker is ready for.
    pub fn poll(
        &mut self,
        updates: &mut UpdateSender,
        at: Instant,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) {
        let links = self.fa.config().links.clone();
        let interval = self.fa.config().advertisement_interval;
        for (i, link) in links.iter().enumerate() {
            if self.next_advertisement.get(i).is_some_and(|t| *t <= at) {
                let dst = self.fa.config().destination.address();
                if self.advertise(link, multicast_mac(dst), dst, send) {
                    self.stats.advertisements += 1;
                } else {
                    self.stats.advertisements_unsent += 1;
                }
                self.next_advertisement[i] = at + interval;
            }
        }
        if self.next_expiry.is_some_and(|t| t <= at) {
            let (removed, timeouts) = self.fa.expire(at);
            for u in &removed {
                if let Update::RemoveVisitor { home } = u {
                    log::info!("visitor {home} expired");
                }
            }
            self.stats.expiries += removed.len() as u64;
            self.stats.reasons[Reason::Timeout as usize] += timeouts.len() as u64;
            let epoch = self.apply(updates, removed);
            for t in timeouts {
                self.reply(t, epoch, at);
            }
            self.next_expiry = self.fa.next_expiry();
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
            "foreign_agent.reply_wait_ms",
        );
        self.count();
    }

    fn count(&mut self) {
        self.stats.visitors = self.fa.visitors().len() as u64;
        self.stats.pending = self.fa.pending().len() as u64;
        self.next_expiry = self.fa.next_expiry();
    }

    /// Sends `list` to every worker and its visitor changes to the backup (before any
    /// reply is held, so each reply waits for its change's commit); the epoch to wait for.
    fn apply(&mut self, updates: &mut UpdateSender, list: Vec<Update>) -> u64 {
        if self.journal.is_enabled() {
            let changes: Vec<backup::Change> = list
                .iter()
                .filter_map(|u| match u {
                    Update::Visitor {
                        home: IpAddr::V4(home),
                        ..
                    } => {
                        let entry = self.fa.visitors().get(home)?;
                        Some(backup::Change::Put(visitor_record_of(
                            *home, entry, self.clock,
                        )))
                    }
                    Update::RemoveVisitor { home } => {
                        Some(backup::Change::Delete(Role::ForeignAgent, *home))
                    }
                    _ => None,
                })
                .collect();
            if !changes.is_empty() {
                self.journal.submit(changes);
            }
        }
        let mut epoch = 0;
        for u in list {
            epoch = updates.send(u);
        }
        epoch
    }

    fn relay(
        &mut self,
        bytes: &[u8],
        from: SocketAddrV4,
        to: SocketAddrV4,
        toward: &dyn Fn(Ipv4Addr) -> Option<Toward4>,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) {
        let Some((port, mac)) = toward(*to.ip()) else {
            self.stats.relays_unsent += 1;
            log::info!(
                "request not relayed: no route or next-hop MAC toward home agent {}",
                to.ip()
            );
            return;
        };
        let Some(port_mac) = self.port_macs.get(usize::from(port)).copied() else {
            self.stats.relays_unsent += 1;
            return;
        };
        self.ident = self.ident.wrapping_add(1);
        match udp_frame(port_mac, mac, from, to, self.ident, bytes) {
            Some(f) if send(port, &f) => self.stats.relays += 1,
            _ => self.stats.relays_unsent += 1,
        }
    }

    /// Holds a reply for the mobile until every worker reached `epoch`; the agent's own
    /// denials only as the rate limit allows.
    fn reply(&mut self, reply: ToMobile, epoch: u64, at: Instant) {
        if reply.denial && !self.errors.take(at) {
            self.stats.replies_limited += 1;
            return;
        }
        let Some(port_mac) = self.port_macs.get(usize::from(reply.port)).copied() else {
            self.stats.replies_unsent += 1;
            return;
        };
        self.ident = self.ident.wrapping_add(1);
        match udp_frame(
            port_mac,
            reply.mac,
            reply.from,
            reply.to,
            self.ident,
            &reply.bytes,
        ) {
            Some(frame) => {
                self.replies
                    .hold(epoch, at + self.fa.config().reply_wait, reply.port, frame)
            }
            None => self.stats.replies_unsent += 1,
        }
    }

    /// Builds and sends an advertisement on `link` to `dst` framed to `mac`.
    fn advertise(
        &mut self,
        link: &crate::signalling::fa::VisitedLink,
        mac: [u8; 6],
        dst: Ipv4Addr,
        send: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) -> bool {
        let Some(port_mac) = self.port_macs.get(usize::from(link.port)).copied() else {
            return false;
        };
        let Some(icmp) = self.fa.advertisement(link) else {
            return false;
        };
        self.ident = self.ident.wrapping_add(1);
        match icmp_frame(port_mac, mac, link.address, dst, self.ident, &icmp) {
            Some(f) => send(link.port, &f),
            None => false,
        }
    }
}

/// The Ethernet address of an IPv4 multicast group (RFC 1112 §6.4), or broadcast.
fn multicast_mac(dst: Ipv4Addr) -> [u8; 6] {
    if dst.is_multicast() {
        let o = dst.octets();
        [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
    } else {
        [0xff; 6]
    }
}

/// The sender's MAC and IP source of a well-formed agent solicitation (ICMP type 10,
/// code 0, checksum verified). RFC 1256 §3.2; RFC 5944 §2.2.
fn solicitation(frame: &[u8]) -> Option<([u8; 6], Ipv4Addr)> {
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(frame.get(6..12)?);
    let packet = Ipv4Packet::new_checked(frame.get(ETHERNET_LEN..)?).ok()?;
    let ip = Ipv4Repr::parse(&packet, ChecksumMode::Verify).ok()?;
    if ip.protocol != IpProtocol::ICMP || ip.more_frags || ip.frag_offset != 0 {
        return None;
    }
    let icmp = Icmpv4Packet::new_checked(packet.payload()).ok()?;
    if icmp.msg_type() != Icmpv4Message::ROUTER_SOLICITATION
        || icmp.msg_code() != 0
        || !icmp.verify_checksum()
    {
        return None;
    }
    Some((mac, ip.src_addr))
}

/// An Ethernet/IPv4 frame carrying the ICMP message `icmp`, TTL 1 (RFC 5944 §2.3.1:
/// advertisements never leave the link), padded to the minimum frame length.
fn icmp_frame(
    eth_src: [u8; 6],
    eth_dst: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ident: u16,
    icmp: &[u8],
) -> Option<Vec<u8>> {
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IpProtocol::ICMP,
        payload_len: icmp.len(),
        ttl: 1,
        dscp: 0,
        ecn: 0,
        ident,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::new(&[]).ok()?,
    };
    let end = ETHERNET_LEN + ip.buffer_len();
    let mut f = vec![0u8; end.max(MIN_FRAME)];
    f.get_mut(..6)?.copy_from_slice(&eth_dst);
    f.get_mut(6..12)?.copy_from_slice(&eth_src);
    f.get_mut(12..14)?.copy_from_slice(&[0x08, 0x00]);
    let start = ETHERNET_LEN + ip.header_len();
    f.get_mut(start..end)?.copy_from_slice(icmp);
    ip.emit(&mut Ipv4Packet::new_unchecked(
        f.get_mut(ETHERNET_LEN..end)?,
    ));
    Some(f)
}

/// Whether a punted IPv4 frame is ICMP (a solicitation candidate for the foreign agent).
pub fn is_icmp(frame: &[u8]) -> bool {
    frame.get(12..14) == Some(&[0x08, 0x00][..]) && frame.get(23) == Some(&1)
}

#[cfg(test)]
mod tests;
