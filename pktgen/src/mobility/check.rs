//! The receive side of the mobility workloads: what a received frame is (one of our data
//! probes, a malformed frame that came through, a registration reply, a binding
//! acknowledgement, or someone else's frame) and, for a data probe, whether the device
//! under test did to it what it should: the expected encapsulation, with the tunnel
//! source, the mobile's care-of address and the TTL / hop limit the agent uses outside,
//! and the packet the generator sent intact inside (addresses, length, TTL minus one,
//! checksums, payload).
//!
//! [`Expectation::classify`] reads the frame once, checks every length before it reads,
//! allocates nothing and never panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mipdp_dataplane::wire::checksum;

use super::build::{
    MalformedKind, Tunnel, Workload, WorkloadKind, DATA_MAGIC, DATA_PORT, MALFORMED_MAGIC,
    PROBE_LEN, REGISTRATION_PORT, SEND_TTL,
};
use super::plan::Family;
use super::wire::*;

/// Most IPv6 extension headers walked before giving up on a frame.
const MAX_EXTENSION_HEADERS: usize = 8;
/// The longest IPv4 header: 15 words. RFC 791 §3.1.
const MAX_IPV4_HEADER_LEN: usize = 60;
/// Original Source Address Present, in the minimal forwarding header. RFC 2004 §3.
const MINIMAL_S: u8 = 0x80;

/// How the data should come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encapsulation {
    /// As sent, without a tunnel (a foreign agent delivering to the mobile, a router).
    Plain,
    /// In a tunnel of this kind.
    Tunnel(Tunnel),
}

/// Why a received data probe is not what was expected: one counter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// A different encapsulation (or none where one was expected, or one where none was).
    Encapsulation,
    /// The outer source is not the expected tunnel source.
    OuterSource,
    /// The outer destination is neither care-of address of the mobile.
    OuterDestination,
    /// The outer TTL / hop limit is not the expected one.
    OuterTtl,
    /// The outer IPv4 header checksum is wrong, a GRE header has fields the sender does
    /// not use, or a minimal forwarding header's checksum or reserved bits are wrong.
    OuterHeader,
    /// The inner packet is truncated or its headers are malformed.
    InnerHeader,
    /// The inner source is not the correspondent, or the destination is not the home
    /// address of the mobile that probe was sent to.
    InnerAddress,
    /// The inner TTL / hop limit is not the expected one.
    InnerTtl,
    /// The inner packet's length differs from what was sent.
    InnerLength,
    /// An inner IPv4 header or UDP checksum is wrong.
    InnerChecksum,
}

impl Mismatch {
    /// Every reason, in counter order.
    pub const ALL: [Mismatch; 10] = [
        Mismatch::Encapsulation,
        Mismatch::OuterSource,
        Mismatch::OuterDestination,
        Mismatch::OuterTtl,
        Mismatch::OuterHeader,
        Mismatch::InnerHeader,
        Mismatch::InnerAddress,
        Mismatch::InnerTtl,
        Mismatch::InnerLength,
        Mismatch::InnerChecksum,
    ];

    /// The counter name.
    pub fn name(self) -> &'static str {
        match self {
            Mismatch::Encapsulation => "encapsulation",
            Mismatch::OuterSource => "outer_source",
            Mismatch::OuterDestination => "outer_destination",
            Mismatch::OuterTtl => "outer_ttl",
            Mismatch::OuterHeader => "outer_header",
            Mismatch::InnerHeader => "inner_header",
            Mismatch::InnerAddress => "inner_address",
            Mismatch::InnerTtl => "inner_ttl",
            Mismatch::InnerLength => "inner_length",
            Mismatch::InnerChecksum => "inner_checksum",
        }
    }
}

/// What a received frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A data probe that passed every check.
    Data {
        /// Its sequence number.
        sequence: u64,
        /// Its transmit time, ns since the run's epoch.
        tx_ns: u64,
        /// Which care-of address of the mobile it was tunnelled to (0 or 1; 0 when plain).
        care_of: u32,
    },
    /// A data probe that failed a check (the first one failed).
    Mismatch {
        /// Its sequence number.
        sequence: u64,
        /// Why.
        reason: Mismatch,
    },
    /// A malformed frame of ours that the device forwarded.
    Malformed(MalformedKind),
    /// A Mobile IPv4 Registration Reply (RFC 5944 §3.4).
    RegistrationReply {
        /// Its Code.
        code: u8,
        /// The low 32 bits of its Identification (copied from the request, §5.7.1).
        identification_low: u32,
    },
    /// A Mobile IPv6 Binding Acknowledgement (RFC 6275 §6.1.8).
    BindingAck {
        /// Its Status.
        status: u8,
    },
    /// Not ours.
    Other,
}

/// What the receive side expects of the data; built from the workload.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The workload (its plan, sizes and sequence → mobile mapping; keys left out).
    pub workload: Workload,
    /// How the data comes back.
    pub encapsulation: Encapsulation,
    /// The outer source of the tunnel (the agent's address by default).
    pub tunnel_source: IpAddr,
    /// The outer TTL / hop limit (mipdp's `node.outer_ttl`, 64 by default).
    pub outer_ttl: u8,
    /// The inner TTL / hop limit; `None`: not checked.
    pub inner_ttl: Option<u8>,
}

/// The outer header of a received frame.
#[derive(Debug, Clone, Copy)]
struct Outer {
    tunnel: Tunnel,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    checksum_ok: bool,
}

/// The inner (or only) IP packet of a received frame, located.
#[derive(Debug, Clone, Copy)]
struct Inner {
    family: Family,
    /// Offset of the IP header in the frame (minimal encapsulation: where it would start
    /// if it were there, `header_len` before the payload).
    at: usize,
    /// Where the IP packet ends (by its own length field).
    end: usize,
    header_len: usize,
    /// Minimal encapsulation: the original IPv4 header rebuilt from the outer one and the
    /// minimal forwarding header (its first `header_len` bytes), as the exit point would.
    rebuilt: Option<[u8; MAX_IPV4_HEADER_LEN]>,
}

impl Expectation {
    /// The default expectation for `workload`: the data workloads of a home agent come
    /// back in the tunnel of the care-of family (IPv4 in the bindings' tunnel, IPv4 in
    /// IPv4 unless told otherwise; IPv6 in IPv6) from the agent; the encapsulated workload comes back plain (a foreign agent delivering)
    /// when sent over IPv4, and re-encapsulated IPv6 in IPv6 (a MAP) when sent over
    /// IPv6. TTLs: 64 outside, the sent 64 minus one inside.
    pub fn for_workload(workload: &Workload) -> Expectation {
        let encapsulation = match (workload.kind, workload.send_tunnel, workload.family) {
            (WorkloadKind::Encapsulated, Tunnel::Ip6ip6, _) => {
                Encapsulation::Tunnel(Tunnel::Ip6ip6)
            }
            (WorkloadKind::Encapsulated, _, _) => Encapsulation::Plain,
            (_, _, Family::V4) => Encapsulation::Tunnel(workload.binding_tunnel),
            (_, _, Family::V6) => Encapsulation::Tunnel(Tunnel::Ip6ip6),
        };
        let tunnel_source = match encapsulation {
            Encapsulation::Tunnel(Tunnel::Ip6ip6) => IpAddr::V6(workload.plan.agent6),
            _ => IpAddr::V4(workload.plan.agent4),
        };
        // The receive side needs the plan and sizes, not the keys (a key file may be
        // large): it keeps a copy without them.
        let mut workload = workload.clone();
        workload.keys = super::keys::Keys::Seed(0);
        Expectation {
            workload,
            encapsulation,
            tunnel_source,
            outer_ttl: 64,
            inner_ttl: Some(SEND_TTL - 1),
        }
    }

    /// Reads and checks one received frame.
    pub fn classify(&self, frame: &[u8]) -> Received {
        let Some(ethertype) = get_u16(frame, 12) else {
            return Received::Other;
        };
        let ip = ETHERNET_LEN;
        let located = match ethertype {
            ETHERTYPE_IPV4 => self.locate_v4(frame, ip),
            ETHERTYPE_IPV6 => self.locate_v6(frame, ip),
            _ => return Received::Other,
        };
        let (outer, inner) = match located {
            Located::Packet { outer, inner } => (outer, inner),
            Located::Reply(r) => return r,
            Located::Other => return Received::Other,
        };
        self.check_data(frame, outer, inner)
    }

    fn locate_v4(&self, frame: &[u8], ip: usize) -> Located {
        let Some(h) = ipv4_header(frame, ip) else {
            return Located::Other;
        };
        match h.protocol {
            protocol::UDP => {
                if get_u16(frame, ip + h.header_len) == Some(REGISTRATION_PORT) {
                    return registration_reply(frame, ip + h.header_len, h.end);
                }
                Located::Packet {
                    outer: None,
                    inner: Inner {
                        family: Family::V4,
                        at: ip,
                        end: h.end,
                        header_len: h.header_len,
                        rebuilt: None,
                    },
                }
            }
            protocol::MINIMAL => minimal_at(frame, ip, &h),
            protocol::IPV4 | protocol::IPV6 | protocol::GRE => {
                let mut at = ip + h.header_len;
                let mut tunnel = Tunnel::Ipip;
                let mut inner_protocol = h.protocol;
                let mut gre_ok = true;
                if h.protocol == protocol::GRE {
                    tunnel = Tunnel::Gre;
                    let (Some(flags), Some(ptype)) = (get_u16(frame, at), get_u16(frame, at + 2))
                    else {
                        return Located::Other;
                    };
                    // Checksum, Key and Sequence Number present (RFC 2890) each add 4.
                    let optional = [0x8000u16, 0x2000, 0x1000]
                        .iter()
                        .filter(|f| flags & **f != 0)
                        .count();
                    // Anything besides C, K and S (reserved bits, a version) is not what mipdp sends.
                    gre_ok = flags & !0xb000 == 0;
                    at += GRE_LEN + 4 * optional;
                    inner_protocol = match ptype {
                        ETHERTYPE_IPV4 => protocol::IPV4,
                        ETHERTYPE_IPV6 => protocol::IPV6,
                        _ => return Located::Other,
                    };
                }
                let outer = Outer {
                    tunnel,
                    src: IpAddr::V4(h.src),
                    dst: IpAddr::V4(h.dst),
                    ttl: h.ttl,
                    checksum_ok: h.checksum_ok && gre_ok,
                };
                match inner_at(frame, at, inner_protocol, h.end) {
                    Some(inner) => Located::Packet {
                        outer: Some(outer),
                        inner,
                    },
                    None => Located::Other,
                }
            }
            _ => Located::Other,
        }
    }

    fn locate_v6(&self, frame: &[u8], ip: usize) -> Located {
        let Some(h) = ipv6_header(frame, ip) else {
            return Located::Other;
        };
        match h.upper {
            protocol::UDP => Located::Packet {
                outer: None,
                inner: Inner {
                    family: Family::V6,
                    at: ip,
                    end: h.end,
                    header_len: h.upper_at - ip,
                    rebuilt: None,
                },
            },
            protocol::MOBILITY => binding_ack(frame, h.upper_at, h.end),
            protocol::IPV4 | protocol::IPV6 => {
                let outer = Outer {
                    tunnel: Tunnel::Ip6ip6,
                    src: IpAddr::V6(h.src),
                    dst: IpAddr::V6(h.dst),
                    ttl: h.hop_limit,
                    checksum_ok: true,
                };
                match inner_at(frame, h.upper_at, h.upper, h.end) {
                    Some(inner) => Located::Packet {
                        outer: Some(outer),
                        inner,
                    },
                    None => Located::Other,
                }
            }
            _ => Located::Other,
        }
    }

    /// Checks a located data packet, inner first (is it ours at all?), then outer.
    fn check_data(&self, frame: &[u8], outer: Option<Outer>, inner: Inner) -> Received {
        let udp = inner.at + inner.header_len;
        let (Some(magic), Some(sequence), Some(tx_ns)) = (
            get_u32(frame, udp + UDP_LEN),
            get_u64(frame, udp + UDP_LEN + 4),
            get_u64(frame, udp + UDP_LEN + 12),
        ) else {
            return Received::Other;
        };
        if get_u16(frame, udp) != Some(DATA_PORT) || get_u16(frame, udp + 2) != Some(DATA_PORT) {
            return Received::Other;
        }
        if magic == MALFORMED_MAGIC {
            return match self.workload.frame_kind(sequence) {
                super::build::FrameKind::Malformed(k) => Received::Malformed(k),
                _ => Received::Other,
            };
        }
        if magic != DATA_MAGIC {
            return Received::Other;
        }
        let mismatch = |reason| Received::Mismatch { sequence, reason };
        let mobile = self.workload.plan.mobile_of(sequence);
        let encapsulation_ok = match (self.encapsulation, outer) {
            (Encapsulation::Plain, None) => true,
            (Encapsulation::Tunnel(want), Some(o)) => o.tunnel == want,
            _ => false,
        };
        if !encapsulation_ok {
            return mismatch(Mismatch::Encapsulation);
        }
        if let Err(reason) = self.check_inner(frame, inner, sequence, mobile) {
            return mismatch(reason);
        }
        let care_of = match self.check_outer(outer, mobile) {
            Ok(w) => w,
            Err(reason) => return mismatch(reason),
        };
        Received::Data {
            sequence,
            tx_ns,
            care_of,
        }
    }

    fn check_inner(
        &self,
        frame: &[u8],
        inner: Inner,
        sequence: u64,
        mobile: u32,
    ) -> Result<(), Mismatch> {
        let w = &self.workload;
        if inner.family != w.family {
            return Err(Mismatch::Encapsulation);
        }
        let sent_len = w.data_len(sequence) - w.send_overhead();
        if inner.end - inner.at != sent_len {
            return Err(Mismatch::InnerLength);
        }
        let header = match &inner.rebuilt {
            Some(h) => h.get(..inner.header_len),
            None => frame.get(inner.at..inner.at + inner.header_len),
        }
        .ok_or(Mismatch::InnerHeader)?;
        // The UDP datagram.
        let p = frame
            .get(inner.at + inner.header_len..inner.end)
            .ok_or(Mismatch::InnerHeader)?;
        let (ttl, addresses_ok, pseudo) = match inner.family {
            Family::V4 => {
                if !checksum::verifies(header) {
                    return Err(Mismatch::InnerChecksum);
                }
                let (src, dst) = (
                    get_ipv4(header, 12).ok_or(Mismatch::InnerHeader)?,
                    get_ipv4(header, 16).ok_or(Mismatch::InnerHeader)?,
                );
                let ok = src == w.plan.correspondent4 && dst == w.plan.home4(mobile);
                let pseudo = checksum::pseudo_header_v4(
                    src.octets(),
                    dst.octets(),
                    protocol::UDP,
                    p.len() as u16,
                );
                (header[8], ok, pseudo)
            }
            Family::V6 => {
                let (src, dst) = (
                    get_ipv6(header, 8).ok_or(Mismatch::InnerHeader)?,
                    get_ipv6(header, 24).ok_or(Mismatch::InnerHeader)?,
                );
                let ok = src == w.plan.correspondent6 && dst == w.plan.home6(mobile);
                let pseudo = checksum::pseudo_header_v6(
                    src.octets(),
                    dst.octets(),
                    protocol::UDP,
                    p.len() as u32,
                );
                (header[7], ok, pseudo)
            }
        };
        if !addresses_ok {
            return Err(Mismatch::InnerAddress);
        }
        if self.inner_ttl.is_some_and(|t| t != ttl) {
            return Err(Mismatch::InnerTtl);
        }
        let udp_len = get_u16(p, 4).ok_or(Mismatch::InnerHeader)?;
        if usize::from(udp_len) != p.len() || p.len() < UDP_LEN + PROBE_LEN {
            return Err(Mismatch::InnerLength);
        }
        let sum = checksum::combine(&[pseudo, checksum::sum(p)]);
        if checksum::finish(sum) != 0 {
            return Err(Mismatch::InnerChecksum);
        }
        // The padding after the probe is zero as sent.
        if p[UDP_LEN + PROBE_LEN..].iter().any(|b| *b != 0) {
            return Err(Mismatch::InnerChecksum);
        }
        Ok(())
    }

    /// Checks the tunnel; returns which care-of address of the mobile it goes to.
    fn check_outer(&self, outer: Option<Outer>, mobile: u32) -> Result<u32, Mismatch> {
        let (want, outer) = match (self.encapsulation, outer) {
            (Encapsulation::Plain, None) => return Ok(0),
            (Encapsulation::Tunnel(want), Some(o)) if o.tunnel == want => (want, o),
            _ => return Err(Mismatch::Encapsulation),
        };
        if !outer.checksum_ok {
            return Err(Mismatch::OuterHeader);
        }
        if outer.src != self.tunnel_source {
            return Err(Mismatch::OuterSource);
        }
        let plan = &self.workload.plan;
        let which = match (want, outer.dst) {
            (Tunnel::Ipip | Tunnel::Gre | Tunnel::Minimal, IpAddr::V4(d)) => {
                plan.which_care_of4(mobile, d)
            }
            (Tunnel::Ip6ip6, IpAddr::V6(d)) => plan.which_care_of6(mobile, d),
            _ => None,
        };
        let Some(which) = which else {
            return Err(Mismatch::OuterDestination);
        };
        // Minimal encapsulation has one IP header: its TTL is checked as the inner one.
        if want != Tunnel::Minimal && outer.ttl != self.outer_ttl {
            return Err(Mismatch::OuterTtl);
        }
        Ok(which)
    }
}

/// Where a frame's IP packet(s) are.
enum Located {
    Packet { outer: Option<Outer>, inner: Inner },
    Reply(Received),
    Other,
}

/// An IPv4 header read from a frame.
struct V4Header {
    header_len: usize,
    /// Where the packet ends (IP total length).
    end: usize,
    protocol: u8,
    ttl: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    checksum_ok: bool,
}

fn ipv4_header(frame: &[u8], ip: usize) -> Option<V4Header> {
    let version_ihl = *frame.get(ip)?;
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    if version_ihl >> 4 != 4 || header_len < IPV4_LEN {
        return None;
    }
    let total = usize::from(get_u16(frame, ip + 2)?);
    let end = ip + total;
    if total < header_len || end > frame.len() {
        return None;
    }
    // Fragments are not probes.
    if get_u16(frame, ip + 6)? & 0x3fff != 0 {
        return None;
    }
    Some(V4Header {
        header_len,
        end,
        protocol: frame[ip + 9],
        ttl: frame[ip + 8],
        src: get_ipv4(frame, ip + 12)?,
        dst: get_ipv4(frame, ip + 16)?,
        checksum_ok: checksum::verifies(&frame[ip..ip + header_len]),
    })
}

/// An IPv6 header read from a frame, with its extension headers walked.
struct V6Header {
    end: usize,
    /// The upper-layer protocol after the extension headers, and where it starts.
    upper: u8,
    upper_at: usize,
    hop_limit: u8,
    src: Ipv6Addr,
    dst: Ipv6Addr,
}

fn ipv6_header(frame: &[u8], ip: usize) -> Option<V6Header> {
    if *frame.get(ip)? >> 4 != 6 {
        return None;
    }
    let end = ip + IPV6_LEN + usize::from(get_u16(frame, ip + 4)?);
    if end > frame.len() {
        return None;
    }
    let mut next = *frame.get(ip + 6)?;
    let mut at = ip + IPV6_LEN;
    for _ in 0..MAX_EXTENSION_HEADERS {
        if !matches!(
            next,
            protocol::HOP_BY_HOP | protocol::ROUTING | protocol::DESTINATION_OPTIONS
        ) {
            break;
        }
        let len = (usize::from(*frame.get(at + 1)?) + 1) * 8;
        next = *frame.get(at)?;
        at += len;
        if at > end {
            return None;
        }
    }
    Some(V6Header {
        end,
        upper: next,
        upper_at: at,
        hop_limit: frame[ip + 7],
        src: get_ipv6(frame, ip + 8)?,
        dst: get_ipv6(frame, ip + 24)?,
    })
}

/// The inner packet of a tunnel starting at `at` (protocol 4 or 41), within `end`.
fn inner_at(frame: &[u8], at: usize, inner_protocol: u8, end: usize) -> Option<Inner> {
    let bounded = frame.get(..end)?;
    match inner_protocol {
        protocol::IPV4 => {
            let h = ipv4_header(bounded, at)?;
            (h.protocol == protocol::UDP).then_some(Inner {
                family: Family::V4,
                at,
                end: h.end,
                header_len: h.header_len,
                rebuilt: None,
            })
        }
        protocol::IPV6 => {
            let h = ipv6_header(bounded, at)?;
            (h.upper == protocol::UDP).then_some(Inner {
                family: Family::V6,
                at,
                end: h.end,
                header_len: h.upper_at - at,
                rebuilt: None,
            })
        }
        _ => None,
    }
}

/// A minimally encapsulated packet (RFC 2004 §3) whose IPv4 header `h` is at `ip`: the
/// outer header is the original one with protocol 55, the encapsulator's source and the
/// care-of address as destination; the minimal forwarding header after it holds the
/// original protocol, destination and (S set) source and its own checksum. The original
/// header is rebuilt as the exit point would (the outer one with those fields put back,
/// total length less the forwarding header, checksum recomputed); a bad forwarding
/// header checksum or reserved bits set count against the outer header.
fn minimal_at(frame: &[u8], ip: usize, h: &V4Header) -> Located {
    let at = ip + h.header_len;
    let Some(&flags) = frame.get(at + 1) else {
        return Located::Other;
    };
    let with_source = flags & MINIMAL_S != 0;
    let len = if with_source {
        MINIMAL_WITH_SOURCE_LEN
    } else {
        MINIMAL_LEN
    };
    let (Some(forwarding), Some(outer_header)) = (
        frame.get(at..at + len).filter(|_| at + len <= h.end),
        frame.get(ip..at),
    ) else {
        return Located::Other;
    };
    if forwarding[0] != protocol::UDP || outer_header.len() > MAX_IPV4_HEADER_LEN {
        return Located::Other;
    }
    let (Some(dst), Some(src)) = (
        get_ipv4(forwarding, 4),
        if with_source {
            get_ipv4(forwarding, 8)
        } else {
            Some(h.src)
        },
    ) else {
        return Located::Other;
    };
    let mut header = [0u8; MAX_IPV4_HEADER_LEN];
    header[..h.header_len].copy_from_slice(outer_header);
    header[9] = forwarding[0];
    header[12..16].copy_from_slice(&src.octets());
    header[16..20].copy_from_slice(&dst.octets());
    put_u16(&mut header, 2, (h.end - ip - len) as u16);
    put_u16(&mut header, 10, 0);
    let sum = checksum::checksum(&header[..h.header_len]);
    put_u16(&mut header, 10, sum);
    let forwarding_ok = flags & !MINIMAL_S == 0 && checksum::verifies(forwarding);
    Located::Packet {
        outer: Some(Outer {
            tunnel: Tunnel::Minimal,
            src: IpAddr::V4(h.src),
            dst: IpAddr::V4(h.dst),
            ttl: h.ttl,
            checksum_ok: h.checksum_ok && forwarding_ok,
        }),
        inner: Inner {
            family: Family::V4,
            at: at + len - h.header_len,
            end: h.end,
            header_len: h.header_len,
            rebuilt: Some(header),
        },
    }
}

/// A UDP datagram from port 434 at `udp`: a Registration Reply (type 3) or not ours.
fn registration_reply(frame: &[u8], udp: usize, end: usize) -> Located {
    let m = udp + UDP_LEN;
    // Type, Code, Lifetime, Home Address, Home Agent, Identification: 20 bytes.
    if m + 20 > end || frame.get(m) != Some(&3) {
        return Located::Other;
    }
    match (frame.get(m + 1), get_u32(frame, m + 16)) {
        (Some(code), Some(identification_low)) => Located::Reply(Received::RegistrationReply {
            code: *code,
            identification_low,
        }),
        _ => Located::Other,
    }
}

/// A Mobility Header at `mh`: a Binding Acknowledgement (type 6) or not ours.
fn binding_ack(frame: &[u8], mh: usize, end: usize) -> Located {
    if mh + 12 > end || frame.get(mh + 2) != Some(&6) {
        return Located::Other;
    }
    match frame.get(mh + 6) {
        Some(status) => Located::Reply(Received::BindingAck { status: *status }),
        None => Located::Other,
    }
}
