//! The per-packet decision of a mobility node: classify → search the service profiles →
//! edit → consult the profile's table → emit.
//!
//! Every packet is an Ethernet frame. ARP requests for the node's addresses, and (as a
//! proxy) for the home addresses of away mobiles it holds bindings for, are answered in
//! place; other ARP goes to the control thread. An IP packet's [`FlowKey`] is searched in
//! the profile classes ([`crate::profile`]); the hit's edit is applied (DSCP, then
//! decapsulation, after which a `profiles` table searches again, bounded by the nesting
//! limit) and its table decides the rest: tunnel to a binding's care-of address (home
//! agent), deliver to a visitor (foreign agent), follow the binding cache (correspondent
//! node: a type 2 routing header or a tunnel), re-encapsulate to a mobile's multicast group
//! (MMA), tunnel to an online anycast target, tunnel to the profile's transfer
//! destination, route, or punt. A table without an entry for the packet is a fault:
//! dropped and counted by reason ([`DropReason`]), never a silent fall-through.
//!
//! Nothing here allocates, locks, logs or makes a syscall.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;

use crate::counters::DropReason;
use crate::port::PacketBuf;
use crate::profile::{AddrMatch, Class, FlowKey, Step, TableRef, MAX_TRANSFER};
use crate::tables::multicast::multicast_mac;
use crate::tables::{Encap, TableLimits, Tables};
use crate::tunnel::icmp::{icmp_error_v4, IcmpErrorKind, IcmpRateLimiter};
use crate::tunnel::ip6ip6::{Icmpv6Error, IPV6_MIN_MTU};
use crate::tunnel::ipip::InnerChecksum;
use crate::tunnel::{
    gre, ip6ip6, ipip, minimal, mixed, Encapsulated, Endpoints4, Endpoints6, TunnelError,
    TunnelSettings, DEFAULT_NESTING_LIMIT,
};
use crate::update::UpdateReceiver;
use crate::wire::checksum;
use crate::wire::ethernet::{EtherType, EthernetFrame, HEADER_LEN as ETH_LEN};
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::Ipv6Packet;
use crate::wire::ipv6ext::walk_chain;
use crate::worker::{Action, Processor};

/// What the engine knows about the node it runs on.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The MAC of each port, by port index.
    pub port_macs: Vec<[u8; 6]>,
    /// The node's IPv4 addresses; the first is the source of tunnels the node starts
    /// itself (binding cache, multicast map, anycast, transfer).
    pub addrs4: Vec<Ipv4Addr>,
    /// The node's IPv6 addresses; the first is the source of tunnels it starts itself.
    pub addrs6: Vec<Ipv6Addr>,
    /// Outer TTL, tunnel MTU and encapsulation limit of the tunnels it starts.
    pub tunnel: TunnelSettings,
    /// How many tunnel headers one packet may have stripped.
    pub nesting_limit: u8,
    /// Answer ARP for the home addresses the node holds bindings for (home agent).
    pub proxy_arp: bool,
    /// Sizes of the per-core tables.
    pub limits: TableLimits,
    /// ICMP errors a worker sends per second at most (RFC 1812 §4.3.2.8), and the burst.
    pub icmp_per_second: u32,
    /// Burst of the ICMP rate limit.
    pub icmp_burst: u32,
    /// Copies for [`crate::profile::Edit::notify`] a worker makes per second at most, and
    /// the burst.
    pub notify: (u32, u32),
}

impl NodeConfig {
    /// A node with these port MACs and addresses and default settings.
    pub fn new(port_macs: Vec<[u8; 6]>, addrs4: Vec<Ipv4Addr>, addrs6: Vec<Ipv6Addr>) -> Self {
        NodeConfig {
            port_macs,
            addrs4,
            addrs6,
            tunnel: TunnelSettings::default(),
            nesting_limit: DEFAULT_NESTING_LIMIT,
            proxy_arp: true,
            limits: TableLimits::default(),
            icmp_per_second: 100,
            icmp_burst: 20,
            notify: (100, 20),
        }
    }
}

/// Tunnel methods as counted: the method and the families it joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum TunnelKind {
    /// IPv4 in IPv4 (RFC 2003).
    Ipip = 0,
    /// Minimal encapsulation (RFC 2004).
    Minimal = 1,
    /// GRE (RFC 2784).
    Gre = 2,
    /// IPv6 in IPv6 (RFC 2473).
    Ip6ip6 = 3,
    /// IPv4 in IPv6 (RFC 2473).
    FourIn6 = 4,
    /// IPv6 in IPv4 (RFC 4213).
    SixIn4 = 5,
}

impl TunnelKind {
    /// Every kind, in counter order.
    pub const ALL: [TunnelKind; 6] = [
        TunnelKind::Ipip,
        TunnelKind::Minimal,
        TunnelKind::Gre,
        TunnelKind::Ip6ip6,
        TunnelKind::FourIn6,
        TunnelKind::SixIn4,
    ];

    /// Name used in counters.
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Ipip => "ipip",
            TunnelKind::Minimal => "minimal",
            TunnelKind::Gre => "gre",
            TunnelKind::Ip6ip6 => "ip6ip6",
            TunnelKind::FourIn6 => "4in6",
            TunnelKind::SixIn4 => "6in4",
        }
    }
}

const KINDS: usize = TunnelKind::ALL.len();
const CLASSES: usize = Class::ALL.len();

/// The engine's own counts, kept plainly by the worker and published once per poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineSnapshot {
    /// Profile hits per class, in [`Class::ALL`] order.
    pub hits: [u64; CLASSES],
    /// Encapsulations per [`TunnelKind`].
    pub encaps: [u64; KINDS],
    /// Decapsulations per [`TunnelKind`].
    pub decaps: [u64; KINDS],
    /// ARP requests answered (own addresses and proxied home addresses).
    pub arp_replies: u64,
    /// Neighbour solicitations answered (own addresses and proxied home addresses).
    pub nd_replies: u64,
    /// Packets handed to the control thread.
    pub punts: u64,
    /// Next hops whose resolution was requested.
    pub resolutions: u64,
    /// Table updates applied.
    pub updates: u64,
    /// ICMP errors sent (Time Exceeded, Fragmentation Needed / Packet Too Big, ...).
    pub icmp_errors: u64,
    /// ICMP errors not sent because of the rate limit.
    pub icmp_limited: u64,
    /// Outer fragments made beyond the first.
    pub fragments: u64,
    /// The most updates applied before one RX poll: how long, in updates, the worker went
    /// without polling RX on account of updates (never more than the update budget).
    pub max_updates_per_poll: u64,
    /// RX polls that received packets while updates still waited in the queue, left for
    /// later polls by the budget: the worker kept receiving during a burst of updates.
    pub rx_polls_with_updates_pending: u64,
    /// Copies made for simultaneous bindings and multiple transfer destinations.
    pub copies: u64,
    /// Copies made but not sent: the buffer pool was empty, or the caller takes no extra
    /// packets (plain `process`).
    pub copies_unsent: u64,
    /// Copies handed to the control thread by notifying profiles.
    pub notify_copies: u64,
    /// Copies not made for notifying profiles: the rate limit was reached.
    pub notify_limited: u64,
}

/// The shared, readable copy of one engine's counters.
#[derive(Debug, Default)]
pub struct EngineCounters {
    hits: [AtomicU64; CLASSES],
    encaps: [AtomicU64; KINDS],
    decaps: [AtomicU64; KINDS],
    arp_replies: AtomicU64,
    nd_replies: AtomicU64,
    punts: AtomicU64,
    resolutions: AtomicU64,
    updates: AtomicU64,
    max_updates_per_poll: AtomicU64,
    rx_polls_with_updates_pending: AtomicU64,
    copies: AtomicU64,
    copies_unsent: AtomicU64,
    icmp_errors: AtomicU64,
    icmp_limited: AtomicU64,
    fragments: AtomicU64,
    notify_copies: AtomicU64,
    notify_limited: AtomicU64,
}

impl EngineCounters {
    /// Reads the counters.
    pub fn snapshot(&self) -> EngineSnapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        EngineSnapshot {
            hits: core::array::from_fn(|i| load(&self.hits[i])),
            encaps: core::array::from_fn(|i| load(&self.encaps[i])),
            decaps: core::array::from_fn(|i| load(&self.decaps[i])),
            arp_replies: load(&self.arp_replies),
            nd_replies: load(&self.nd_replies),
            punts: load(&self.punts),
            resolutions: load(&self.resolutions),
            updates: load(&self.updates),
            max_updates_per_poll: load(&self.max_updates_per_poll),
            rx_polls_with_updates_pending: load(&self.rx_polls_with_updates_pending),
            copies: load(&self.copies),
            copies_unsent: load(&self.copies_unsent),
            icmp_errors: load(&self.icmp_errors),
            icmp_limited: load(&self.icmp_limited),
            fragments: load(&self.fragments),
            notify_copies: load(&self.notify_copies),
            notify_limited: load(&self.notify_limited),
        }
    }

    fn publish(&self, s: &EngineSnapshot) {
        let store = |a: &AtomicU64, v: u64| a.store(v, Ordering::Relaxed);
        for (a, v) in self.hits.iter().zip(s.hits) {
            store(a, v);
        }
        for (a, v) in self.encaps.iter().zip(s.encaps) {
            store(a, v);
        }
        for (a, v) in self.decaps.iter().zip(s.decaps) {
            store(a, v);
        }
        store(&self.arp_replies, s.arp_replies);
        store(&self.nd_replies, s.nd_replies);
        store(&self.punts, s.punts);
        store(&self.resolutions, s.resolutions);
        store(&self.updates, s.updates);
        store(&self.max_updates_per_poll, s.max_updates_per_poll);
        store(
            &self.rx_polls_with_updates_pending,
            s.rx_polls_with_updates_pending,
        );
        store(&self.copies, s.copies);
        store(&self.copies_unsent, s.copies_unsent);
        store(&self.icmp_errors, s.icmp_errors);
        store(&self.icmp_limited, s.icmp_limited);
        store(&self.fragments, s.fragments);
        store(&self.notify_copies, s.notify_copies);
        store(&self.notify_limited, s.notify_limited);
    }
}

/// The queue of next hops a worker wants resolved: (port index, address).
pub type ResolveQueue = Arc<ArrayQueue<(u16, IpAddr)>>;

/// The mobility engine of one worker core.
#[derive(Debug)]
pub struct Engine {
    node: NodeConfig,
    tables: Tables,
    updates: Option<UpdateReceiver>,
    /// Updates were left in the queue before this poll's RX burst.
    updates_pending: bool,
    /// Whether the tables are large enough for [`Processor::prefetch`] to pay (set before
    /// each poll).
    warm: bool,
    resolve: Option<ResolveQueue>,
    local: EngineSnapshot,
    shared: Arc<CachePadded<EngineCounters>>,
    ident: u16,
    fragment_id: u32,
    pending_icmp: Option<PendingIcmp>,
    icmp_limiter: IcmpRateLimiter,
    notify_limiter: IcmpRateLimiter,
}

/// The ICMP error a refused packet calls for.
#[derive(Debug, Clone, Copy)]
enum PendingIcmp {
    V4(IcmpErrorKind),
    V6(Icmpv6Error),
}

type Verdict = Result<Action, DropReason>;

impl Engine {
    /// An engine with empty tables sized by `node.limits`.
    pub fn new(node: NodeConfig) -> Engine {
        Engine {
            tables: Tables::new(&node.limits),
            updates: None,
            updates_pending: false,
            warm: false,
            resolve: None,
            local: EngineSnapshot::default(),
            shared: Arc::new(CachePadded::new(EngineCounters::default())),
            ident: 0,
            fragment_id: 0,
            pending_icmp: None,
            icmp_limiter: IcmpRateLimiter::new(node.icmp_per_second, node.icmp_burst),
            notify_limiter: IcmpRateLimiter::new(node.notify.0, node.notify.1),
            node,
        }
    }

    /// Applies table updates from `receiver` before each poll.
    pub fn with_updates(mut self, receiver: UpdateReceiver) -> Engine {
        self.updates = Some(receiver);
        self
    }

    /// Asks for unresolved next hops on `queue` (the control thread resolves them).
    pub fn with_resolver(mut self, queue: ResolveQueue) -> Engine {
        self.resolve = Some(queue);
        self
    }

    /// The tables (tests and start-up loading only: at run time updates go through
    /// [`crate::update`]).
    pub fn tables_mut(&mut self) -> &mut Tables {
        &mut self.tables
    }

    /// The tables.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The shared counters, readable from any thread.
    pub fn counters(&self) -> Arc<CachePadded<EngineCounters>> {
        self.shared.clone()
    }

    /// The counts so far, as the worker sees them.
    pub fn snapshot(&self) -> &EngineSnapshot {
        &self.local
    }

    fn ours4(&self, a: Ipv4Addr) -> bool {
        self.node.addrs4.contains(&a)
    }

    /// Whether the node answers ARP / neighbour discovery for `addr` as a proxy: a bound
    /// home address (RFC 5944 §4.6, RFC 6275 §10.4.1) or an anycast address it serves.
    fn proxies(&self, addr: IpAddr) -> bool {
        self.node.proxy_arp
            && (self.tables.bindings.get(addr).is_some() || self.tables.anycast.get(addr).is_some())
    }

    fn own_source(&self, toward: IpAddr) -> Option<IpAddr> {
        match toward {
            IpAddr::V4(_) => self.node.addrs4.first().copied().map(IpAddr::V4),
            IpAddr::V6(_) => self.node.addrs6.first().copied().map(IpAddr::V6),
        }
    }

    /// Answers an ARP request for one of ours (or a bound home address) in place.
    ///
    /// The control thread learns neighbours from ARP: every request answered here is also
    /// handed to it as a copy (through `emit`), the rest is punted.
    fn arp<P: PacketBuf>(
        &mut self,
        in_port: usize,
        packet: &mut P,
        eth_len: usize,
        emit: &mut dyn FnMut(P, Action),
    ) -> Verdict {
        let Some(port_mac) = self.node.port_macs.get(in_port).copied() else {
            return Err(DropReason::NoEgress);
        };
        let data = packet.data();
        let arp = data
            .get(eth_len..eth_len + 28)
            .ok_or(DropReason::Malformed)?;
        // Ethernet/IPv4 ARP only (RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4.
        if arp.get(..6) != Some(&[0, 1, 8, 0, 6, 4]) {
            return Err(DropReason::Malformed);
        }
        let op = u16::from_be_bytes([arp[6], arp[7]]);
        let target = Ipv4Addr::new(arp[24], arp[25], arp[26], arp[27]);
        let answer = op == 1 && (self.ours4(target) || self.proxies(IpAddr::V4(target)));
        if !answer {
            self.local.punts += 1;
            return Ok(Action::Punt);
        }
        let mut sender = [0u8; 10];
        sender.copy_from_slice(&arp[8..18]);
        if let Some(copy) = packet.duplicate() {
            self.local.punts += 1;
            emit(copy, Action::Punt);
        }
        let d = packet.data_mut();
        let (eth, rest) = d.split_at_mut(eth_len);
        let src_mac = [eth[6], eth[7], eth[8], eth[9], eth[10], eth[11]];
        eth[..6].copy_from_slice(&src_mac);
        eth[6..12].copy_from_slice(&port_mac);
        let arp = rest.get_mut(..28).ok_or(DropReason::Malformed)?;
        arp[6..8].copy_from_slice(&2u16.to_be_bytes());
        arp[8..14].copy_from_slice(&port_mac);
        arp[14..18].copy_from_slice(&target.octets());
        arp[18..28].copy_from_slice(&sender);
        self.local.arp_replies += 1;
        Ok(Action::Forward(in_port as u16))
    }

    /// Answers a neighbour solicitation (RFC 4861 §7.2.3) for one of ours, or as a proxy
    /// for a bound IPv6 home address (RFC 6275 §10.4.1), with a neighbour advertisement
    /// built in place; hands a copy of the solicitation to the control thread so it
    /// learns the asker. None when the packet is not a solicitation to answer here.
    fn neighbour_solicitation<P: PacketBuf>(
        &mut self,
        in_port: usize,
        packet: &mut P,
        eth_len: usize,
        emit: &mut dyn FnMut(P, Action),
    ) -> Option<Verdict> {
        let d = packet.data();
        let ip = d.get(eth_len..)?;
        // IPv6, Next Header ICMPv6, Hop Limit 255 (§7.1.1), ICMPv6 type 135 code 0.
        if ip.len() < 64 || ip[6] != 58 || ip[7] != 255 || ip[40] != 135 || ip[41] != 0 {
            return None;
        }
        let mut target = [0u8; 16];
        target.copy_from_slice(&ip[48..64]);
        let target = Ipv6Addr::from(target);
        let own = self.node.addrs6.contains(&target);
        let proxied = !own && self.proxies(IpAddr::V6(target));
        if !own && !proxied {
            return None;
        }
        let port_mac = *self.node.port_macs.get(in_port)?;
        let icmp_len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        if icmp_len < 24 || ip.len() < 40 + icmp_len {
            return Some(Err(DropReason::Malformed));
        }
        let mut src = [0u8; 16];
        src.copy_from_slice(&ip[8..24]);
        let asker = Ipv6Addr::from(src);
        let mut asker_mac = [0u8; 6];
        asker_mac.copy_from_slice(d.get(6..12)?);
        if let Some(copy) = packet.duplicate() {
            self.local.punts += 1;
            emit(copy, Action::Punt);
        }
        // §7.2.4: to the solicitation's source, or all-nodes when it was unspecified (DAD).
        let (dst, solicited) = if asker.is_unspecified() {
            (Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), false)
        } else {
            (asker, true)
        };
        // The advertisement comes from the target itself, or from the node for a proxied
        // home address.
        let from = if own {
            target
        } else {
            *self.node.addrs6.first().unwrap_or(&target)
        };
        let eth_dst = if solicited {
            asker_mac
        } else {
            [0x33, 0x33, 0, 0, 0, 1]
        };
        // R: this node routes; S: solicited; O: override, not for a proxy (§7.2.8).
        let flags = (if own { 0x80 } else { 0 })
            | (if solicited { 0x40 } else { 0 })
            | (if own { 0x20 } else { 0 });
        const NA_LEN: usize = 32;
        let total = eth_len + 40 + NA_LEN;
        let have = packet.data().len();
        let resized = if have < total {
            packet.append(total - have).map(|_| ())
        } else {
            packet.trim(have - total)
        };
        if resized.is_err() {
            return Some(Err(DropReason::Malformed));
        }
        let d = packet.data_mut();
        let (eth, ip) = d.split_at_mut(eth_len);
        eth[..6].copy_from_slice(&eth_dst);
        eth[6..12].copy_from_slice(&port_mac);
        let ip = ip.get_mut(..40 + NA_LEN)?;
        ip[..4].copy_from_slice(&[0x60, 0, 0, 0]);
        ip[4..6].copy_from_slice(&(NA_LEN as u16).to_be_bytes());
        ip[6] = 58;
        ip[7] = 255;
        ip[8..24].copy_from_slice(&from.octets());
        ip[24..40].copy_from_slice(&dst.octets());
        let na = &mut ip[40..];
        na[..8].copy_from_slice(&[136, 0, 0, 0, flags, 0, 0, 0]);
        na[8..24].copy_from_slice(&target.octets());
        // Target Link-Layer Address option (§4.6.1).
        na[24] = 2;
        na[25] = 1;
        na[26..32].copy_from_slice(&port_mac);
        let sum = checksum::combine(&[
            checksum::pseudo_header_v6(from.octets(), dst.octets(), 58, NA_LEN as u32),
            checksum::sum(na),
        ]);
        na[2..4].copy_from_slice(&checksum::finish(sum).to_be_bytes());
        self.local.nd_replies += 1;
        Some(Ok(Action::Forward(in_port as u16)))
    }

    /// The fields profiles match on; also checks the IP header and trims link padding.
    /// Inlined: returned through memory, the key is written and read back in pieces of
    /// different widths, which stalls on store forwarding every packet.
    #[inline(always)]
    fn flow_key<P: PacketBuf>(packet: &mut P) -> Result<FlowKey, DropReason> {
        let data = packet.data();
        let (key, len) = match data.first().map(|b| b >> 4) {
            Some(4) => {
                let ip = Ipv4Packet::new_checked(data).map_err(|_| DropReason::Malformed)?;
                let header = data.get(..ip.header_len()).ok_or(DropReason::Malformed)?;
                if !crate::wire::checksum::verifies(header) {
                    return Err(DropReason::Malformed);
                }
                let proto = ip.protocol().0;
                let (sport, dport) = if ip.frag_offset() == 0 {
                    ports(proto, ip.payload())
                } else {
                    (None, None)
                };
                let key = FlowKey::v4(ip.src_addr(), ip.dst_addr(), proto, sport, dport);
                (key, usize::from(ip.total_len()))
            }
            Some(6) => {
                let ip = Ipv6Packet::new_checked(data).map_err(|_| DropReason::Malformed)?;
                let chain = walk_chain(ip.next_header(), ip.payload())
                    .map_err(|_| DropReason::Malformed)?;
                let first = chain.fragment.is_none_or(|f| f.fragment_offset == 0);
                let (sport, dport) = match ip.payload().get(chain.upper_layer_offset..) {
                    Some(upper) if first => ports(chain.upper_layer, upper),
                    _ => (None, None),
                };
                let key = FlowKey::new(
                    IpAddr::V6(ip.src_addr()),
                    IpAddr::V6(ip.dst_addr()),
                    chain.upper_layer,
                    sport,
                    dport,
                );
                (key, 40 + usize::from(ip.payload_len()))
            }
            _ => return Err(DropReason::Malformed),
        };
        let padding = packet.data().len().saturating_sub(len);
        if padding > 0 {
            packet.trim(padding).map_err(|_| DropReason::Malformed)?;
        }
        Ok(key)
    }

    /// Writes `dscp` into the packet's DS field, keeping ECN (RFC 2474 §3, RFC 3168 §5).
    fn mark<P: PacketBuf>(packet: &mut P, dscp: u8) {
        let data = packet.data_mut();
        match data.first().map(|b| b >> 4) {
            Some(4) => {
                let mut ip = Ipv4Packet::new_unchecked(data);
                let ecn = ip.ecn();
                ip.set_dscp_ecn(dscp, ecn);
            }
            Some(6) => {
                let mut ip = Ipv6Packet::new_unchecked(data);
                let ecn = ip.ecn();
                ip.set_traffic_class((dscp << 2) | ecn);
            }
            _ => {}
        }
    }

    /// Strips one tunnel header addressed to this node: to one of its addresses, or to one
    /// that `ends`, the decapsulating profile's destination, names (an MMA's care-of
    /// prefixes hold addresses it hands out, not its own). A wildcard names none.
    fn decapsulate<P: PacketBuf>(
        &mut self,
        packet: &mut P,
        key: &FlowKey,
        ends: AddrMatch,
        depth: u8,
    ) -> Result<(), DropReason> {
        let named = |a: IpAddr| ends != AddrMatch::Any && ends.matches(a);
        let result = match key.dst() {
            IpAddr::V4(_) => {
                let ours = |a: Ipv4Addr| self.node.addrs4.contains(&a) || named(IpAddr::V4(a));
                match key.proto() {
                    4 => ipip::decapsulate_nested(packet, ours, depth).map(|_| TunnelKind::Ipip),
                    55 => minimal::decapsulate_nested(packet, ours, depth)
                        .map(|_| TunnelKind::Minimal),
                    47 => gre::decapsulate_nested(packet, ours, depth).map(|_| TunnelKind::Gre),
                    41 => mixed::decapsulate_6in4(packet, |a| ours(*a), depth)
                        .map(|_| TunnelKind::SixIn4),
                    _ => return Err(DropReason::NotTunnelled),
                }
            }
            IpAddr::V6(_) => {
                let ours = |a: &Ipv6Addr| self.node.addrs6.contains(a) || named(IpAddr::V6(*a));
                match key.proto() {
                    41 => ip6ip6::decapsulate(packet, ours, depth).map(|_| TunnelKind::Ip6ip6),
                    4 => mixed::decapsulate_4in6(packet, ours, depth).map(|_| TunnelKind::FourIn6),
                    _ => return Err(DropReason::NotTunnelled),
                }
            }
        };
        match result {
            Ok(kind) => {
                self.local.decaps[kind as usize] += 1;
                Ok(())
            }
            Err(TunnelError::NestingLimit) => Err(DropReason::NestingLimit),
            Err(TunnelError::TtlExpired) => Err(DropReason::TtlExpired),
            Err(TunnelError::EcnDrop) => Err(DropReason::TunnelRefused),
            Err(_) => Err(DropReason::NotTunnelled),
        }
    }

    /// Tunnels the packet from `src` to `dst` with `method` and sends it toward `dst`,
    /// fragmenting the outer packet when the inner one allows it; a packet that cannot be
    /// tunnelled because of its TTL, its size or its encapsulation limit is answered with
    /// the ICMP error the RFCs call for (rate-limited).
    fn tunnel<P: PacketBuf>(
        &mut self,
        packet: &mut P,
        method: Encap,
        src: IpAddr,
        dst: IpAddr,
        emit: &mut dyn FnMut(P, Action),
    ) -> Verdict {
        match self.encapsulate(packet, method, src, dst) {
            Ok(None) => self.egress(packet, dst),
            Ok(Some(mtu)) => {
                self.fragment(packet, mtu, dst, emit)?;
                self.egress(packet, dst)
            }
            Err(reason) => self.refuse(packet, reason, emit),
        }
    }

    /// Answers a refused packet with its pending ICMP error, if any and if the rate
    /// limit allows; else drops it for `reason`.
    fn refuse<P: PacketBuf>(
        &mut self,
        packet: &mut P,
        reason: DropReason,
        _emit: &mut dyn FnMut(P, Action),
    ) -> Verdict {
        let Some(kind) = self.pending_icmp.take() else {
            return Err(reason);
        };
        let mut original = [0u8; IPV6_MIN_MTU as usize];
        let n = packet.data().len().min(original.len());
        original[..n].copy_from_slice(&packet.data()[..n]);
        let mut reply = [0u8; IPV6_MIN_MTU as usize];
        let (built, to) = match kind {
            PendingIcmp::V4(k) => {
                let Some(from) = self.node.addrs4.first().copied() else {
                    return Err(reason);
                };
                self.ident = self.ident.wrapping_add(1);
                let to = Ipv4Packet::new_checked(&original[..n]).map(|p| IpAddr::V4(p.src_addr()));
                (
                    icmp_error_v4(&original[..n], &mut reply, k, from, self.ident),
                    to,
                )
            }
            PendingIcmp::V6(k) => {
                let Some(from) = self.node.addrs6.first().copied() else {
                    return Err(reason);
                };
                let to = Ipv6Packet::new_checked(&original[..n]).map(|p| IpAddr::V6(p.src_addr()));
                (
                    ip6ip6::icmp_error_v6(&original[..n], &mut reply, from, k),
                    to,
                )
            }
        };
        let (Ok(len), Ok(to)) = (built, to) else {
            return Err(reason);
        };
        if len == 0 {
            return Err(reason);
        }
        // Only errors that may be sent take a token.
        if !self.icmp_limiter.allow(Instant::now()) {
            self.local.icmp_limited += 1;
            return Err(reason);
        }
        let have = packet.data().len();
        let resized = if have < len {
            packet.append(len - have).map(|_| ())
        } else {
            packet.trim(have - len)
        };
        if resized.is_err() {
            return Err(reason);
        }
        packet.data_mut().copy_from_slice(&reply[..len]);
        self.local.icmp_errors += 1;
        self.egress(packet, to)
    }

    /// Splits an outer packet longer than `mtu` into fragments (IPv4: RFC 791 §3.2,
    /// RFC 2003 §5.1; IPv6: RFC 8200 §4.5, RFC 2473 §7): `packet` keeps the first, the
    /// others go to `emit`, each routed toward `dst`.
    fn fragment<P: PacketBuf>(
        &mut self,
        packet: &mut P,
        mtu: u16,
        dst: IpAddr,
        emit: &mut dyn FnMut(P, Action),
    ) -> Result<(), DropReason> {
        self.fragment_id = self.fragment_id.wrapping_add(1);
        let id = self.fragment_id;
        let split = |piece: &mut P| -> Result<Option<P>, DropReason> {
            if piece.data().len() <= usize::from(mtu) {
                return Ok(None);
            }
            let mut rest = piece.duplicate().ok_or(DropReason::NeedsFragmentation)?;
            let split = if dst.is_ipv6() {
                ip6ip6::fragment_outer(piece, mtu, id, &mut rest)
            } else {
                ipip::fragment_outer(piece, mtu, &mut rest)
            };
            match split {
                Ok(true) => Ok(Some(rest)),
                Ok(false) => Ok(None),
                Err(TunnelError::TooBig { .. }) => Err(DropReason::TooBig),
                Err(_) => Err(DropReason::NeedsFragmentation),
            }
        };
        let mut next = split(packet)?;
        while let Some(mut piece) = next.take() {
            next = split(&mut piece)?;
            let verdict = self.egress(&mut piece, dst);
            self.local.fragments += 1;
            emit(piece, verdict.unwrap_or_else(Action::Drop));
        }
        Ok(())
    }

    /// Encapsulates the packet from `src` to `dst` with `method`; Some(mtu) when the
    /// outer packet must be fragmented at `mtu`.
    fn encapsulate<P: PacketBuf>(
        &mut self,
        packet: &mut P,
        method: Encap,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<Option<u16>, DropReason> {
        let inner_v6 = packet.data().first().map(|b| b >> 4) == Some(6);
        let settings = self.node.tunnel;
        self.ident = self.ident.wrapping_add(1);
        let ident = self.ident;
        let (result, kind) = match (src, dst) {
            (IpAddr::V4(entry), IpAddr::V4(exit)) => {
                let ends = Endpoints4 { entry, exit };
                match (method, inner_v6) {
                    (Encap::Gre, _) => (
                        gre::encapsulate(packet, ends, &settings, ident),
                        TunnelKind::Gre,
                    ),
                    (Encap::IpInIp, true) | (Encap::Minimal, true) => (
                        mixed::encapsulate_6in4(packet, &ends, &settings, ident),
                        TunnelKind::SixIn4,
                    ),
                    (Encap::Minimal, false) => {
                        match minimal::encapsulate(packet, ends, &settings) {
                            // Fragments go IP in IP (RFC 2004 §3).
                            Err(TunnelError::UseIpInIp) => (
                                ipip::encapsulate(packet, ends, &settings, ident),
                                TunnelKind::Ipip,
                            ),
                            other => (other, TunnelKind::Minimal),
                        }
                    }
                    // Every packet tunnelled here passed `flow_key`, which verified its
                    // header checksum, since its last change.
                    (Encap::IpInIp, false) => (
                        ipip::encapsulate_with(
                            packet,
                            ends,
                            &settings,
                            ident,
                            InnerChecksum::Verified,
                        ),
                        TunnelKind::Ipip,
                    ),
                }
            }
            (IpAddr::V6(entry), IpAddr::V6(exit)) if method == Encap::IpInIp => {
                let ends = Endpoints6 { entry, exit };
                if inner_v6 {
                    (
                        ip6ip6::encapsulate(packet, &ends, &settings, 0),
                        TunnelKind::Ip6ip6,
                    )
                } else {
                    (
                        mixed::encapsulate_4in6(packet, &ends, &settings, 0),
                        TunnelKind::FourIn6,
                    )
                }
            }
            _ => return Err(DropReason::TunnelRefused),
        };
        let error = match result {
            Ok(outcome) => {
                self.local.encaps[kind as usize] += 1;
                return Ok(match outcome {
                    Encapsulated::Ready => None,
                    Encapsulated::Fragment { mtu } => Some(mtu),
                });
            }
            Err(e) => e,
        };
        self.pending_icmp = if inner_v6 {
            Icmpv6Error::for_error(&error).map(PendingIcmp::V6)
        } else {
            IcmpErrorKind::for_error(error).map(PendingIcmp::V4)
        };
        Err(match error {
            TunnelError::TtlExpired => DropReason::TtlExpired,
            TunnelError::TooBig { .. } => DropReason::TooBig,
            TunnelError::Malformed(_) => DropReason::Malformed,
            _ => DropReason::TunnelRefused,
        })
    }

    /// Decrements the TTL / hop limit of a packet this node routes; at 1 the packet is
    /// not forwarded and a Time Exceeded is due (RFC 1812 §5.3.1, RFC 8200 §3).
    fn hop<P: PacketBuf>(&mut self, packet: &mut P) -> Result<(), DropReason> {
        let data = packet.data_mut();
        match data.first().map(|b| b >> 4) {
            Some(4) => {
                let mut ip = Ipv4Packet::new_unchecked(data);
                if ip.ttl() <= 1 {
                    self.pending_icmp = Some(PendingIcmp::V4(IcmpErrorKind::TimeExceeded));
                    return Err(DropReason::TtlExpired);
                }
                ip.decrement_ttl();
            }
            Some(6) => {
                let mut ip = Ipv6Packet::new_unchecked(data);
                let h = ip.hop_limit();
                if h <= 1 {
                    self.pending_icmp = Some(PendingIcmp::V6(Icmpv6Error::HopLimitExceeded));
                    return Err(DropReason::TtlExpired);
                }
                ip.set_hop_limit(h - 1);
            }
            _ => return Err(DropReason::Malformed),
        }
        Ok(())
    }

    /// Puts an Ethernet header on the IP packet and sends it out of `port` to `mac`.
    fn frame<P: PacketBuf>(&self, packet: &mut P, port: u16, mac: [u8; 6]) -> Verdict {
        let src = *self
            .node
            .port_macs
            .get(usize::from(port))
            .ok_or(DropReason::NoEgress)?;
        let ethertype = match packet.data().first().map(|b| b >> 4) {
            Some(6) => EtherType::IPV6,
            _ => EtherType::IPV4,
        };
        let data = packet
            .prepend(ETH_LEN)
            .map_err(|_| DropReason::TunnelRefused)?;
        let header = data.get_mut(..ETH_LEN).ok_or(DropReason::TunnelRefused)?;
        header[..6].copy_from_slice(&mac);
        header[6..12].copy_from_slice(&src);
        header[12..14].copy_from_slice(&ethertype.0.to_be_bytes());
        Ok(Action::Forward(port))
    }

    /// Routes the IP packet toward `dst` (its outer destination) and frames it.
    fn egress<P: PacketBuf>(&mut self, packet: &mut P, dst: IpAddr) -> Verdict {
        let route = *self.tables.routes.lookup(dst).ok_or(DropReason::NoRoute)?;
        let mac = if dst.is_multicast() {
            multicast_mac(dst).ok_or(DropReason::NoRoute)?
        } else {
            let hop = route.next_hop_for(dst);
            match self.tables.neighbours.get(route.port, hop) {
                Some(mac) => mac,
                None => {
                    if let Some(q) = &self.resolve {
                        if q.push((route.port, hop)).is_ok() {
                            self.local.resolutions += 1;
                        }
                    }
                    return Err(DropReason::NoNeighbour);
                }
            }
        };
        self.frame(packet, route.port, mac)
    }

    /// Inserts a type 2 routing header carrying the home address (the packet's
    /// destination) and sends the packet to the care-of address (RFC 6275 §6.4, §9.3.2).
    /// The upper-layer checksum stays valid: it is computed over the final destination,
    /// the home address.
    fn route_optimise<P: PacketBuf>(packet: &mut P, care_of: Ipv6Addr) -> Result<(), DropReason> {
        let data = packet.prepend(24).map_err(|_| DropReason::TunnelRefused)?;
        if data.len() < 64 {
            return Err(DropReason::Malformed);
        }
        data.copy_within(24..64, 0);
        let mut ip = Ipv6Packet::new_unchecked(&mut data[..40]);
        let next = ip.next_header();
        let home = ip.dst_addr();
        let payload = ip.payload_len().saturating_add(24);
        ip.set_payload_len(payload);
        ip.set_next_header(43);
        ip.set_dst_addr(care_of);
        let rh = &mut data[40..64];
        rh[0] = next;
        rh[1] = 2; // Hdr Ext Len: 2 units of 8 octets after the first 8.
        rh[2] = 2; // Routing Type 2.
        rh[3] = 1; // Segments Left.
        rh[4..8].fill(0);
        rh[8..24].copy_from_slice(&home.octets());
        Ok(())
    }

    /// Tunnels a copy of `packet` (as it is now) to each of `dests` from `src`, handing
    /// each copy to `emit` with its action.
    fn copies<P: PacketBuf>(
        &mut self,
        packet: &P,
        method: Encap,
        src: Option<IpAddr>,
        dests: &[IpAddr],
        emit: &mut dyn FnMut(P, Action),
    ) {
        for &dst in dests {
            let Some(mut copy) = packet.duplicate() else {
                self.local.copies_unsent += 1;
                continue;
            };
            let src = src.or_else(|| self.own_source(dst));
            let verdict = match src {
                Some(src) => self.tunnel(&mut copy, method, src, dst, emit),
                None => Err(DropReason::TunnelRefused),
            };
            self.local.copies += 1;
            emit(copy, verdict.unwrap_or_else(Action::Drop));
        }
    }

    /// Hands a copy of the frame as it arrived (its Ethernet header is still in the
    /// headroom) to the control thread, within the rate limit.
    fn notify<P: PacketBuf>(&mut self, packet: &mut P, emit: &mut dyn FnMut(P, Action)) {
        if !self.notify_limiter.allow(Instant::now()) {
            self.local.notify_limited += 1;
            return;
        }
        let copy = match packet.prepend(ETH_LEN) {
            Ok(_) => {
                let copy = packet.duplicate();
                let _ = packet.adj(ETH_LEN);
                copy
            }
            Err(_) => None,
        };
        match copy {
            Some(copy) => {
                self.local.notify_copies += 1;
                self.local.punts += 1;
                emit(copy, Action::Punt);
            }
            None => self.local.copies_unsent += 1,
        }
    }

    /// The direct path ([`crate::tables::direct`]): an untagged IPv4 frame without
    /// options to a home address with a direct entry, whose TTL and length let it be
    /// tunnelled as is, is tunnelled IPv4-in-IPv4 to the entry's care-of address and
    /// routed, with the same bytes, counters and outcome as the profile search would
    /// give it. None, with the packet and the counters untouched, hands it to the search
    /// (also when its header checksum is bad: the search counts that drop).
    #[inline(always)]
    fn direct4<P: PacketBuf>(&mut self, packet: &mut P) -> Option<Verdict> {
        let d = packet.data();
        let h = Self::header4(d)?;
        let entry = self.tables.direct.get(Self::destination_of(h))?;
        let len = usize::from(u16::from_be_bytes([h[16], h[17]]));
        let ttl = h[22];
        let fits = len + ipip::OVERHEAD <= usize::from(self.node.tunnel.path_mtu);
        if len < 20 || len > d.len() - ETH_LEN || ttl <= 1 || !fits {
            return None;
        }
        let header: &[u8; 20] = h[ETH_LEN..].try_into().ok()?;
        if !checksum::verifies20(header) {
            return None;
        }
        let inner = ipip::InnerFields {
            dscp: h[15] >> 2,
            ecn: h[15] & 0b11,
            dont_frag: h[20] & 0x40 != 0,
            len,
        };
        let padding = d.len() - ETH_LEN - len;
        // From here on the packet is the direct path's.
        if packet.adj(ETH_LEN).is_err() || (padding > 0 && packet.trim(padding).is_err()) {
            return Some(Err(DropReason::Malformed));
        }
        self.local.hits[Class::NodeDestination as usize] += 1;
        self.ident = self.ident.wrapping_add(1);
        Ipv4Packet::new_unchecked(packet.data_mut()).decrement_ttl();
        let ends = Endpoints4 {
            entry: entry.source,
            exit: entry.care_of,
        };
        let header = ipip::outer_header(ends, &self.node.tunnel, self.ident, &inner);
        match packet.prepend(ipip::OVERHEAD) {
            Ok(data) => match data.get_mut(..ipip::OVERHEAD) {
                Some(out) => out.copy_from_slice(&header),
                None => return Some(Err(DropReason::TunnelRefused)),
            },
            Err(_) => return Some(Err(DropReason::TunnelRefused)),
        }
        self.local.encaps[TunnelKind::Ipip as usize] += 1;
        Some(self.egress(packet, IpAddr::V4(entry.care_of)))
    }

    /// One IP packet (the Ethernet header already stripped).
    fn ip<P: PacketBuf>(&mut self, packet: &mut P, emit: &mut dyn FnMut(P, Action)) -> Verdict {
        let mut depth = 0u8;
        loop {
            let key = Self::flow_key(packet)?;
            if depth == 0 && link_scoped(key.dst()) {
                // Never routed (RFC 4291 §2.5.6, §2.7; RFC 1812 §5.3.5): neighbour discovery,
                // router solicitations and the like go to the control thread.
                packet.prepend(ETH_LEN).map_err(|_| DropReason::Malformed)?;
                self.local.punts += 1;
                return Ok(Action::Punt);
            }
            // What the rest needs, not the whole profile: a copy of it per packet costs
            // more than the search. Only a transfer reads its destination list.
            let step = self
                .tables
                .profiles
                .search_step(&key)
                .ok_or(DropReason::NoProfile)?;
            self.local.hits[step.class as usize] += 1;
            if step.notify && depth == 0 {
                self.notify(packet, emit);
            }
            if let Some(dscp) = step.dscp {
                Self::mark(packet, dscp);
            }
            if step.decapsulate {
                if depth >= self.node.nesting_limit {
                    return Err(DropReason::NestingLimit);
                }
                self.decapsulate(packet, &key, step.ends, depth)?;
                depth += 1;
                if step.table == TableRef::Profiles {
                    continue;
                }
                // The table looks at the inner packet.
                let inner = Self::flow_key(packet)?;
                return self.table(packet, &step, &inner, emit);
            }
            return self.table(packet, &step, &key, emit);
        }
    }

    /// Hands the packet to the profile's table.
    fn table<P: PacketBuf>(
        &mut self,
        packet: &mut P,
        step: &Step,
        key: &FlowKey,
        emit: &mut dyn FnMut(P, Action),
    ) -> Verdict {
        let edit = step;
        match step.table {
            TableRef::Bindings => {
                // The fields used, not the whole binding (its care-of list is most of it).
                let b = self
                    .tables
                    .bindings
                    .get(key.dst())
                    .ok_or(DropReason::NoBinding)?;
                let coa = *b.care_of.as_slice().first().ok_or(DropReason::NoBinding)?;
                let (source, tos, encap) = (b.source, b.tos, b.encap);
                // Simultaneous bindings: a copy to every further care-of address.
                let further = (b.care_of.len() > 1).then_some(b.care_of);
                if let Some(tos) = tos {
                    Self::mark(packet, tos >> 2);
                }
                let method = edit.encap.unwrap_or(encap);
                if let Some(list) = further {
                    let more = list.as_slice().get(1..).unwrap_or(&[]);
                    self.copies(packet, method, Some(source), more, emit);
                }
                self.tunnel(packet, method, source, coa, emit)
            }
            TableRef::Visitors => {
                let v = *self
                    .tables
                    .visitors
                    .get(key.dst())
                    .ok_or(DropReason::NoVisitor)?;
                if let Err(reason) = self.hop(packet) {
                    return self.refuse(packet, reason, emit);
                }
                self.frame(packet, v.port, v.mac)
            }
            TableRef::BindingCache => {
                let e = *self
                    .tables
                    .cache
                    .get(key.dst())
                    .ok_or(DropReason::NoCacheEntry)?;
                match (e.encap.or(edit.encap), e.care_of) {
                    (None, IpAddr::V6(coa)) => {
                        if let Err(reason) = self.hop(packet) {
                            return self.refuse(packet, reason, emit);
                        }
                        Self::route_optimise(packet, coa)?;
                        self.egress(packet, e.care_of)
                    }
                    (None, IpAddr::V4(_)) => Err(DropReason::TunnelRefused),
                    (Some(method), coa) => {
                        let src = self.own_source(coa).ok_or(DropReason::TunnelRefused)?;
                        self.tunnel(packet, method, src, coa, emit)
                    }
                }
            }
            TableRef::Multicast => {
                let m = *self
                    .tables
                    .multicast
                    .get(key.dst())
                    .ok_or(DropReason::NoMulticast)?;
                let dst = m.destination();
                let src = self.own_source(dst).ok_or(DropReason::TunnelRefused)?;
                // A group's Ethernet address is derived from it by egress (RFC 2464 §7,
                // RFC 1112 §6.4), the same the entry was checked against.
                self.tunnel(packet, edit.encap.unwrap_or(m.encap), src, dst, emit)
            }
            TableRef::Anycast => {
                let target = self
                    .tables
                    .anycast
                    .select(key.dst())
                    .ok_or(DropReason::NotAnycast)?
                    .ok_or(DropReason::NoAnycastTarget)?;
                let src = self.own_source(target).ok_or(DropReason::TunnelRefused)?;
                self.tunnel(
                    packet,
                    edit.encap.unwrap_or(Encap::IpInIp),
                    src,
                    target,
                    emit,
                )
            }
            TableRef::Transfer => {
                let mut dests = [IpAddr::V4(Ipv4Addr::UNSPECIFIED); MAX_TRANSFER];
                let mut n = 0;
                let profile = self
                    .tables
                    .profiles
                    .class(step.class)
                    .get(step.id)
                    .ok_or(DropReason::NoProfile)?;
                for (slot, d) in dests.iter_mut().zip(profile.edit.transfer.iter()) {
                    *slot = d;
                    n += 1;
                }
                let (to, more) = dests
                    .get(..n)
                    .and_then(<[IpAddr]>::split_first)
                    .ok_or(DropReason::NoRoute)?;
                let method = edit.encap.unwrap_or(Encap::IpInIp);
                self.copies(packet, method, None, more, emit);
                let src = self.own_source(*to).ok_or(DropReason::TunnelRefused)?;
                self.tunnel(packet, method, src, *to, emit)
            }
            TableRef::Routes => {
                if let Err(reason) = self.hop(packet) {
                    return self.refuse(packet, reason, emit);
                }
                self.egress(packet, key.dst())
            }
            TableRef::Profiles => Err(DropReason::NestingLimit),
            TableRef::Punt => {
                // The control thread sees the frame as it arrived.
                let frame = packet.prepend(ETH_LEN).map(|_| ());
                if frame.is_err() {
                    return Err(DropReason::Malformed);
                }
                self.local.punts += 1;
                Ok(Action::Punt)
            }
        }
    }
}

/// Table entries (bindings plus profiles) from which [`Processor::prefetch`] reads a
/// burst's entries ahead: about where the entries outgrow a core's L2 cache.
const WARM_ABOVE: usize = 16 * 1024;

impl Engine {
    /// The outer source and destination of an IPv4 or IPv6 packet in an untagged Ethernet
    /// frame, for the read-ahead (the packet is not checked further).
    #[inline(always)]
    fn addresses<P: PacketBuf>(packet: &P) -> Option<(IpAddr, IpAddr)> {
        let d = packet.data();
        match d.get(12..14) {
            Some([0x08, 0x00]) => d.get(26..34).and_then(|a| {
                let src: [u8; 4] = a.get(..4)?.try_into().ok()?;
                let dst: [u8; 4] = a.get(4..)?.try_into().ok()?;
                Some((IpAddr::from(src), IpAddr::from(dst)))
            }),
            Some([0x86, 0xdd]) => d.get(22..54).and_then(|a| {
                let src: [u8; 16] = a.get(..16)?.try_into().ok()?;
                let dst: [u8; 16] = a.get(16..)?.try_into().ok()?;
                Some((IpAddr::from(src), IpAddr::from(dst)))
            }),
            _ => None,
        }
    }
}

impl Engine {
    /// The Ethernet and IPv4 headers of an untagged frame carrying IPv4 without options:
    /// what [`Self::direct4`] takes.
    #[inline(always)]
    fn header4(frame: &[u8]) -> Option<&[u8; ETH_LEN + 20]> {
        let h: &[u8; ETH_LEN + 20] = frame.get(..ETH_LEN + 20)?.try_into().ok()?;
        (h[12..14] == [0x08, 0x00] && h[14] == 0x45).then_some(h)
    }

    /// The IPv4 destination in [`Self::header4`]'s headers.
    #[inline(always)]
    fn destination_of(h: &[u8; ETH_LEN + 20]) -> u32 {
        u32::from_be_bytes([h[30], h[31], h[32], h[33]])
    }

    /// The destination of a frame [`Self::direct4`] would take, for the read-ahead.
    #[inline(always)]
    fn destination4<P: PacketBuf>(packet: &P) -> Option<u32> {
        Self::header4(packet.data()).map(Self::destination_of)
    }
}

/// Whether `dst` never leaves the link: IPv6 link-local unicast, link- or interface-local
/// multicast; IPv4 limited broadcast and the local network control block 224.0.0.0/24.
fn link_scoped(dst: IpAddr) -> bool {
    match dst {
        IpAddr::V6(a) => {
            let s = a.segments();
            (s[0] & 0xffc0) == 0xfe80 || (a.is_multicast() && (s[0] & 0x000f) <= 2)
        }
        IpAddr::V4(a) => a.is_broadcast() || a.octets()[..3] == [224, 0, 0],
    }
}

/// The transport ports of TCP, UDP, UDP-Lite, SCTP and DCCP (first 4 bytes of each).
fn ports(proto: u8, upper: &[u8]) -> (Option<u16>, Option<u16>) {
    match (proto, upper.get(..4)) {
        (6 | 17 | 33 | 132 | 136, Some(p)) => (
            Some(u16::from_be_bytes([p[0], p[1]])),
            Some(u16::from_be_bytes([p[2], p[3]])),
        ),
        _ => (None, None),
    }
}

impl Processor for Engine {
    /// Without an emitter for copies: only the first care-of address of a simultaneous
    /// binding gets the packet, and the rest are counted in `copies_unsent`.
    #[inline]
    fn process<P: PacketBuf>(&mut self, in_port: usize, packet: &mut P) -> Action {
        let mut unsent = 0u64;
        let action = self.process_with(in_port, packet, &mut |_copy: P, _| unsent += 1);
        self.local.copies_unsent += unsent;
        action
    }

    #[inline]
    fn process_with<P: PacketBuf>(
        &mut self,
        in_port: usize,
        packet: &mut P,
        emit: &mut dyn FnMut(P, Action),
    ) -> Action {
        self.pending_icmp = None;
        if let Some(verdict) = self.direct4(packet) {
            return verdict.unwrap_or_else(Action::Drop);
        }
        let (ethertype, eth_len) = match EthernetFrame::new_checked(packet.data()) {
            Ok(f) => (f.ethertype(), f.header_len()),
            Err(_) => return Action::Drop(DropReason::Runt),
        };
        let verdict = match ethertype {
            EtherType::ARP => self.arp(in_port, packet, eth_len, emit),
            EtherType::IPV6 => match self.neighbour_solicitation(in_port, packet, eth_len, emit) {
                Some(verdict) => verdict,
                None => match packet.adj(eth_len) {
                    Ok(()) => self.ip(packet, emit),
                    Err(_) => Err(DropReason::Runt),
                },
            },
            EtherType::IPV4 => match packet.adj(eth_len) {
                Ok(()) => self.ip(packet, emit),
                Err(_) => Err(DropReason::Runt),
            },
            _ => Err(DropReason::UnknownEthertype),
        };
        verdict.unwrap_or_else(Action::Drop)
    }

    /// Starts loading the exact-profile and binding hash slots of the packet's addresses
    /// (IPv4 or IPv6 in an untagged Ethernet frame; anything else is left to `process`):
    /// their places follow from the addresses' hashes, so the burst's misses overlap.
    #[inline]
    fn prefetch<P: PacketBuf>(&self, packet: &P) {
        if !self.warm {
            return;
        }
        if self.tables.direct.active() {
            // A home with a direct entry needs its slot and nothing else.
            if let Some(home) = Self::destination4(packet) {
                self.tables.direct.prefetch(home);
                return;
            }
        }
        if let Some((src, dst)) = Self::addresses(packet) {
            self.tables.profiles.prefetch(src, dst);
            self.tables.bindings.prefetch(dst);
        }
    }

    /// Starts loading the binding of the packet's destination, found through the hash
    /// slot [`Self::prefetch`] loaded.
    #[inline]
    fn prefetch_next<P: PacketBuf>(&self, packet: &P) {
        if !self.warm || self.tables.bindings.is_empty() {
            return;
        }
        if self.tables.direct.active() && Self::destination4(packet).is_some() {
            // Reading the slot here would wait for it; the search's loads for the few
            // packets without a direct entry are not worth that.
            return;
        }
        if let Some((_, dst)) = Self::addresses(packet) {
            self.tables.bindings.prefetch_binding(dst);
        }
    }

    #[inline]
    fn before_poll(&mut self) -> usize {
        self.warm = self.tables.bindings.len() + self.tables.profiles.len() >= WARM_ABOVE;
        let Some(r) = &mut self.updates else {
            return 0;
        };
        let n = r.apply(&mut self.tables);
        // Fewer than the budget means the queue ran dry: only a full budget can leave some.
        self.updates_pending = n == r.budget() && r.pending();
        self.local.updates += n as u64;
        self.local.max_updates_per_poll = self.local.max_updates_per_poll.max(n as u64);
        n
    }

    #[inline]
    fn after_poll(&mut self, received: usize) {
        if received > 0 && self.updates_pending {
            self.local.rx_polls_with_updates_pending += 1;
        }
        self.shared.publish(&self.local);
    }
}
