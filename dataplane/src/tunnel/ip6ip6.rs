//! IPv6-in-IPv6 tunnels, RFC 2473: the entry point prepends an IPv6 header (and, when a
//! Tunnel Encapsulation Limit applies, a Destination Options header carrying it, §5.1);
//! the exit point strips them. Also what every IPv6 outer header shares (the IPv4-in-IPv6
//! method of [`super::mixed`] uses it too): the fragmentation of an outer packet over the
//! tunnel MTU (RFC 2473 §7, RFC 8200 §4.5, [`fragment_outer`]) and the ICMPv6 errors the
//! entry point sends.
//!
//! On any error the packet is left as it was, so the caller can quote it in the ICMP error.

use core::net::Ipv6Addr;

use super::{
    ecn, Encapsulated, Endpoints6, Result, TunnelError, TunnelSettings, DEFAULT_NESTING_LIMIT,
};
use crate::port::PacketBuf;
use crate::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use crate::wire::ipv6::{next_header, Ipv6Packet, Ipv6Repr, HEADER_LEN};
use crate::wire::ipv6ext::{
    walk_chain, ExtensionChain, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6OptionsHeader,
    Ipv6OptionsRepr, Ipv6RoutingHeader, FRAGMENT_HEADER_LEN, MAX_EXTENSION_HEADERS,
};
use crate::wire::{self, icmpv6, ipv4};

/// The IPv6 minimum link MTU, RFC 8200 §5.
pub const IPV6_MIN_MTU: u16 = 1280;

/// Hop limit of the ICMPv6 errors built here (RFC 4443 leaves it to the node).
pub const ICMP_HOP_LIMIT: u8 = 64;

/// What decapsulation found in the stripped outer header, for the caller's checks (e.g.
/// that the entry point is the care-of address a binding names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decapsulated<A> {
    /// Outer source: the tunnel entry point.
    pub entry: A,
    /// Outer destination: this node's address the tunnel ended at.
    pub exit: A,
    /// Tunnel headers stripped from this packet so far, this one included; pass it to
    /// the next decapsulation of the same packet.
    pub nesting: u8,
}

/// The new outer IPv6 header, decided before anything is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outer6 {
    /// 41 for an IPv6 inner packet, 4 for IPv4.
    pub next_header: u8,
    /// Traffic class: the inner one, ECN by RFC 6040 §4.1.
    pub traffic_class: u8,
    /// Tunnel Encapsulation Limit to carry, if any.
    pub limit: Option<u8>,
    /// Length of the inner packet.
    pub inner_len: usize,
}

impl Outer6 {
    fn options(&self) -> Option<Ipv6OptionsRepr> {
        self.limit.map(|limit| Ipv6OptionsRepr {
            next_header: self.next_header,
            tunnel_encapsulation_limit: Some(limit),
            ..Default::default()
        })
    }

    /// Bytes prepended: the IPv6 header and the Destination Options header if any.
    pub fn overhead(&self) -> usize {
        HEADER_LEN + self.options().map_or(0, |o| o.header_len())
    }

    /// Payload length of the outer header; `Oversized` if it would need a jumbogram.
    pub fn payload_len(&self) -> Result<u16> {
        let len = self.overhead() - HEADER_LEN + self.inner_len;
        u16::try_from(len).map_err(|_| TunnelError::Malformed(wire::Error::Oversized))
    }
}

/// The outer traffic class: the inner DSCP copied (RFC 2473 §6.5 lets the entry point
/// copy it) and the ECN field by RFC 6040 §4.1 normal mode.
pub(crate) fn outer_traffic_class(inner: u8) -> u8 {
    (inner & !0b11) | ecn::encapsulate(inner)
}

/// Trims bytes past the inner packet (link padding), then prepends the outer IPv6 header
/// and its Destination Options header, RFC 2473 §5, §5.1. Checks room before writing.
pub(crate) fn push_outer6<P: PacketBuf>(
    packet: &mut P,
    ends: &Endpoints6,
    settings: &TunnelSettings,
    flow_label: u32,
    outer: &Outer6,
) -> Result<()> {
    let payload_len = outer.payload_len()?;
    let overhead = outer.overhead();
    if packet.headroom() < overhead {
        return Err(TunnelError::NoRoom);
    }
    let extra = packet.data().len().saturating_sub(outer.inner_len);
    packet.trim(extra)?;
    let buf = packet.prepend(overhead)?;
    let (ip, rest) = buf.split_at_mut(HEADER_LEN.min(buf.len()));
    Ipv6Repr {
        src_addr: ends.entry,
        dst_addr: ends.exit,
        next_header: match outer.options() {
            Some(_) => next_header::DEST_OPTS,
            None => outer.next_header,
        },
        payload_len: usize::from(payload_len),
        hop_limit: settings.outer_ttl,
        traffic_class: outer.traffic_class,
        flow_label: flow_label & 0x000f_ffff,
    }
    .emit(&mut Ipv6Packet::new_unchecked(ip))?;
    if let Some(options) = outer.options() {
        options.emit(&mut Ipv6OptionsHeader::new_unchecked(rest))?;
    }
    Ok(())
}

/// The Tunnel Encapsulation Limit of the new outer header, RFC 2473 §4.1.1, §5.1: the
/// inner packet's limit less one; 0 refuses with a pointer at the limit value (offset in
/// the inner packet); without one, the configured limit.
fn outer_limit(chain: &ExtensionChain, settings: &TunnelSettings) -> Result<Option<u8>> {
    match chain.tunnel_encapsulation_limit {
        Some(0) => {
            let offset = chain.tunnel_encapsulation_limit_offset.unwrap_or(0) + HEADER_LEN;
            Err(TunnelError::EncapsulationLimit {
                pointer: u32::try_from(offset).unwrap_or(u32::MAX),
            })
        }
        Some(limit) => Ok(Some(limit - 1)),
        None => Ok(settings.encapsulation_limit),
    }
}

/// Whether an inner IPv6 packet of `inner_len` bytes goes through, RFC 2473 §7.1: it fits
/// the tunnel MTU; or it is at most 1280 bytes and the outer packet is fragmented; or
/// Packet Too Big with MAX(tunnel MTU, 1280).
fn fit_ipv6_inner(path_mtu: u16, overhead: usize, inner_len: usize) -> Result<Encapsulated> {
    let tunnel_mtu = usize::from(path_mtu).saturating_sub(overhead);
    if inner_len <= tunnel_mtu {
        Ok(Encapsulated::Ready)
    } else if inner_len <= usize::from(IPV6_MIN_MTU) {
        Ok(Encapsulated::Fragment { mtu: path_mtu })
    } else {
        let mtu = u16::try_from(tunnel_mtu).unwrap_or(u16::MAX);
        Err(TunnelError::TooBig {
            mtu: mtu.max(IPV6_MIN_MTU),
        })
    }
}

/// Encapsulates the IPv6 packet at the start of `packet` for the tunnel `ends`, RFC 2473
/// §3–§7. The entry point forwards the inner packet onto the tunnel link, so its hop limit
/// is decremented first (§3.1; `TtlExpired` at zero). Refused: a packet for the exit
/// point itself (`ToTunnelEndpoint`), a Tunnel Encapsulation Limit of 0
/// (`EncapsulationLimit`, §4.1.1), a packet over the tunnel MTU and 1280 bytes (`TooBig`,
/// §7.1). A packet of at most 1280 bytes over the tunnel MTU is encapsulated whole and the
/// result says to split it with [`fragment_outer`] (§7.1(b)). `flow_label` goes into the
/// outer header: 0 (unlabelled, RFC 6437 §2) or a configured value, low 20 bits.
pub fn encapsulate<P: PacketBuf>(
    packet: &mut P,
    ends: &Endpoints6,
    settings: &TunnelSettings,
    flow_label: u32,
) -> Result<Encapsulated> {
    let inner = Ipv6Packet::new_checked(packet.data())?;
    if inner.hop_limit() <= 1 {
        return Err(TunnelError::TtlExpired);
    }
    if inner.dst_addr() == ends.exit {
        return Err(TunnelError::ToTunnelEndpoint);
    }
    let chain = walk_chain(inner.next_header(), inner.payload())?;
    let outer = Outer6 {
        next_header: next_header::IPV6,
        traffic_class: outer_traffic_class(inner.traffic_class()),
        limit: outer_limit(&chain, settings)?,
        inner_len: HEADER_LEN + usize::from(inner.payload_len()),
    };
    let fit = fit_ipv6_inner(settings.path_mtu, outer.overhead(), outer.inner_len)?;
    outer.payload_len()?;
    if packet.headroom() < outer.overhead() {
        return Err(TunnelError::NoRoom);
    }
    Ipv6Packet::new_unchecked(packet.data_mut()).decrement_hop_limit();
    push_outer6(packet, ends, settings, flow_label, &outer)?;
    Ok(fit)
}

/// What the outer IPv6 header of a tunnel packet says, read without changing anything.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeenOuter6 {
    pub entry: Ipv6Addr,
    pub exit: Ipv6Addr,
    /// ECN field of the outer header.
    pub ecn: u8,
    /// Offset of the inner packet.
    pub inner_start: usize,
    /// End of the outer packet (its payload length).
    pub end: usize,
}

/// Checks the outer IPv6 header of a tunnel packet for `protocol` (41 or 4), RFC 2473
/// §3.2, §4: destination ours (`NotOurs`), the chain well formed (a fragment needs
/// reassembly first and an option to discard on is refused: `Malformed`) and leading to
/// `protocol` (`WrongProtocol`), fewer than [`DEFAULT_NESTING_LIMIT`] tunnel headers
/// already stripped (`NestingLimit`). The Destination Options header of the entry point's
/// Tunnel Encapsulation Limit is skipped with the rest of the chain.
pub(crate) fn read_outer6(
    data: &[u8],
    ours: impl Fn(&Ipv6Addr) -> bool,
    nesting: u8,
    protocol: u8,
) -> Result<SeenOuter6> {
    let outer = Ipv6Packet::new_checked(data)?;
    if !ours(&outer.dst_addr()) {
        return Err(TunnelError::NotOurs);
    }
    let chain = walk_chain(outer.next_header(), outer.payload())?;
    if chain.fragment.is_some() {
        return Err(TunnelError::Malformed(wire::Error::Unsupported));
    }
    if chain.unrecognized_option.is_some() {
        return Err(TunnelError::Malformed(wire::Error::BadOption));
    }
    if chain.upper_layer != protocol {
        return Err(TunnelError::WrongProtocol);
    }
    if nesting >= DEFAULT_NESTING_LIMIT {
        return Err(TunnelError::NestingLimit);
    }
    Ok(SeenOuter6 {
        entry: outer.src_addr(),
        exit: outer.dst_addr(),
        ecn: outer.ecn(),
        inner_start: HEADER_LEN + chain.upper_layer_offset,
        end: HEADER_LEN + usize::from(outer.payload_len()),
    })
}

/// Removes everything before `start` and after `end` of the packet data.
pub(crate) fn keep_range<P: PacketBuf>(packet: &mut P, start: usize, end: usize) -> Result<()> {
    let extra = packet.data().len().saturating_sub(end);
    packet.trim(extra)?;
    packet.adj(start)?;
    Ok(())
}

/// The inner ECN field after decapsulation, RFC 6040 §4.2; `EcnDrop` when the outer says
/// CE on a Not-ECT inner packet.
pub(crate) fn inner_ecn(inner: u8, outer: u8) -> Result<u8> {
    match ecn::decapsulate(inner, outer) {
        ecn::Decapsulated::Forward(e) => Ok(e),
        ecn::Decapsulated::Drop => Err(TunnelError::EcnDrop),
    }
}

/// Decapsulates an IPv6-in-IPv6 packet, RFC 2473 §3.2, leaving the data at the inner IPv6
/// header, its ECN field set by RFC 6040 §4.2 and its hop limit untouched (the exit point
/// decrements it if it forwards the packet). `ours` says whether an address is this
/// node's; `nesting` is how many tunnel headers were already stripped from this packet.
pub fn decapsulate<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(&Ipv6Addr) -> bool,
    nesting: u8,
) -> Result<Decapsulated<Ipv6Addr>> {
    let seen = read_outer6(packet.data(), ours, nesting, next_header::IPV6)?;
    let carried = packet
        .data()
        .get(seen.inner_start..seen.end)
        .ok_or(TunnelError::Malformed(wire::Error::Truncated))?;
    let inner = Ipv6Packet::new_checked(carried)?;
    let traffic_class = (inner.traffic_class() & !0b11) | inner_ecn(inner.ecn(), seen.ecn)?;
    let inner_end = seen.inner_start + HEADER_LEN + usize::from(inner.payload_len());
    keep_range(packet, seen.inner_start, inner_end)?;
    Ipv6Packet::new_unchecked(packet.data_mut()).set_traffic_class(traffic_class);
    Ok(Decapsulated {
        entry: seen.entry,
        exit: seen.exit,
        nesting: nesting.saturating_add(1),
    })
}

/// Where an outer IPv6 packet splits into fragments, RFC 8200 §4.5.
#[derive(Debug, Clone, Copy)]
struct FragmentLayout {
    /// Length of the Per-Fragment headers: the IPv6 header and the extension headers nodes
    /// on the path process (up to the Routing header if any, else the Hop-by-Hop header if
    /// any), copied into every fragment. In a packet already split, everything before its
    /// Fragment header.
    per_fragment: usize,
    /// Offset of the Next Header field that names what follows the Per-Fragment headers;
    /// it says 44 (Fragment) in every fragment.
    next_header_at: usize,
    /// The Fragment header of the packet as a whole: the one an earlier split left, or a
    /// new one (offset 0, M clear).
    header: Ipv6FragmentRepr,
    /// Whether that Fragment header is already in the packet.
    present: bool,
    /// Offset of the fragment data: the Fragmentable Part, or the piece of it an earlier
    /// split left in this packet.
    data_start: usize,
    /// End of the packet (its payload length).
    end: usize,
    /// Bytes of fragment data the first fragment must carry: the extension headers of the
    /// Fragmentable Part and the upper-layer (inner) header, RFC 8200 §4.5 (3). 0 when the
    /// data does not start at offset 0.
    first_needs: usize,
}

/// Offset of the Next Header field in the IPv6 header, RFC 8200 §3.
const NEXT_HEADER_FIELD: usize = 6;

/// Length of the upper-layer header a tunnel's outer IPv6 packet carries: the fixed inner
/// IPv6 or IPv4 header; 0 for anything else.
fn upper_header_len(next: u8) -> usize {
    match next {
        next_header::IPV6 => HEADER_LEN,
        next_header::IPV4 => ipv4::HEADER_LEN,
        _ => 0,
    }
}

/// Walks the extension headers of `data` for its [`FragmentLayout`], RFC 8200 §4.5. A
/// Destination Options header is per-fragment only before a Routing header, so the one
/// carrying a Tunnel Encapsulation Limit (RFC 2473 §4.1.1, no Routing header after it)
/// belongs to the Fragmentable Part and travels in the first fragment only.
fn fragment_layout(data: &[u8], identification: u32) -> Result<FragmentLayout> {
    let ip = Ipv6Packet::new_checked(data)?;
    let mut layout = FragmentLayout {
        per_fragment: HEADER_LEN,
        next_header_at: NEXT_HEADER_FIELD,
        header: Ipv6FragmentRepr {
            next_header: ip.next_header(),
            fragment_offset: 0,
            more_fragments: false,
            identification,
        },
        present: false,
        data_start: HEADER_LEN,
        end: HEADER_LEN + usize::from(ip.payload_len()),
        first_needs: 0,
    };
    // `next` is the header at `at`, named by the Next Header field at `named_at`.
    let (mut next, mut named_at, mut at) = (ip.next_header(), NEXT_HEADER_FIELD, HEADER_LEN);
    for _ in 0..=MAX_EXTENSION_HEADERS {
        let rest = data.get(at..layout.end).ok_or(wire::Error::Truncated)?;
        let (following, len) = match next {
            next_header::HOP_BY_HOP | next_header::DEST_OPTS => {
                let header = Ipv6OptionsHeader::new_checked(rest)?;
                (header.next_header(), header.header_len())
            }
            next_header::ROUTING => {
                let header = Ipv6RoutingHeader::new_checked(rest)?;
                (header.next_header(), header.header_len())
            }
            next_header::FRAGMENT => {
                let header = Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_checked(rest)?)?;
                if !layout.present {
                    layout.per_fragment = at;
                    layout.next_header_at = named_at;
                    layout.header = header;
                    layout.present = true;
                    layout.data_start = at + FRAGMENT_HEADER_LEN;
                }
                (header.next_header, FRAGMENT_HEADER_LEN)
            }
            _ => {
                if layout.header.fragment_offset == 0 {
                    layout.first_needs = at + upper_header_len(next) - layout.data_start;
                }
                return Ok(layout);
            }
        };
        if !layout.present && matches!(next, next_header::HOP_BY_HOP | next_header::ROUTING) {
            layout.per_fragment = at + len;
            layout.next_header_at = at;
            layout.header.next_header = following;
            layout.data_start = at + len;
        }
        (next, named_at, at) = (following, at, at + len);
        if layout.header.fragment_offset != 0 {
            // A later fragment: what follows its Fragment header is data, not headers.
            return Ok(layout);
        }
    }
    Err(wire::Error::Oversized.into())
}

/// A Fragment header as bytes, written before any buffer is touched so that an offset
/// past 13 bits (`Oversized`) leaves everything as it was.
fn fragment_header(repr: &Ipv6FragmentRepr) -> Result<[u8; FRAGMENT_HEADER_LEN]> {
    let mut bytes = [0u8; FRAGMENT_HEADER_LEN];
    repr.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut bytes[..]))?;
    Ok(bytes)
}

/// What makes Per-Fragment headers copied from the whole packet into a fragment's: the
/// Next Header field before the Fragment header says 44 and the Payload Length counts
/// this fragment only, RFC 8200 §4.5.
fn seal_fragment(fragment: &mut [u8], next_header_at: usize) -> Result<()> {
    let payload_len = fragment
        .len()
        .checked_sub(HEADER_LEN)
        .and_then(|n| u16::try_from(n).ok())
        .ok_or(wire::Error::BadLength)?;
    *fragment
        .get_mut(next_header_at)
        .ok_or(wire::Error::Truncated)? = next_header::FRAGMENT;
    Ipv6Packet::new_unchecked(fragment).set_payload_len(payload_len);
    Ok(())
}

/// Writes into `second` (its old contents discarded) the fragment carrying the data of
/// `data` past the first `chunk` bytes.
fn write_tail<P: PacketBuf>(
    data: &[u8],
    layout: &FragmentLayout,
    chunk: usize,
    header: &[u8; FRAGMENT_HEADER_LEN],
    second: &mut P,
) -> Result<()> {
    let per_fragment = data
        .get(..layout.per_fragment)
        .ok_or(wire::Error::Truncated)?;
    let rest = data
        .get(layout.data_start + chunk..layout.end)
        .ok_or(wire::Error::Truncated)?;
    let old = second.data().len();
    second.trim(old)?;
    let out = second.append(layout.per_fragment + FRAGMENT_HEADER_LEN + rest.len())?;
    let (fixed, tail) = out
        .split_at_mut_checked(layout.per_fragment)
        .ok_or(TunnelError::NoRoom)?;
    let (fragment_header, payload) = tail
        .split_at_mut_checked(FRAGMENT_HEADER_LEN)
        .ok_or(TunnelError::NoRoom)?;
    fixed.copy_from_slice(per_fragment);
    fragment_header.copy_from_slice(header);
    payload.copy_from_slice(rest);
    seal_fragment(second.data_mut(), layout.next_header_at)
}

/// Cuts `packet` to its first `chunk` bytes of data and makes it a fragment: the Fragment
/// header inserted after the Per-Fragment headers (moved 8 bytes forward into the
/// headroom) unless an earlier split left one.
fn write_head<P: PacketBuf>(
    packet: &mut P,
    layout: &FragmentLayout,
    chunk: usize,
    header: &[u8; FRAGMENT_HEADER_LEN],
) -> Result<()> {
    let keep = layout.data_start + chunk;
    let extra = packet.data().len().saturating_sub(keep);
    packet.trim(extra)?;
    if !layout.present {
        let data = packet.prepend(FRAGMENT_HEADER_LEN)?;
        let moved = FRAGMENT_HEADER_LEN..FRAGMENT_HEADER_LEN + layout.per_fragment;
        if data.len() < moved.end {
            return Err(wire::Error::Truncated.into());
        }
        data.copy_within(moved, 0);
    }
    let data = packet.data_mut();
    data.get_mut(layout.per_fragment..layout.per_fragment + FRAGMENT_HEADER_LEN)
        .ok_or(wire::Error::Truncated)?
        .copy_from_slice(header);
    seal_fragment(data, layout.next_header_at)
}

/// Splits the outer IPv6 packet in `packet` so that it fits `mtu`, RFC 8200 §4.5, as the
/// tunnel entry point must on [`Encapsulated::Fragment`] (RFC 2473 §7.1(b): an IPv6
/// packet of at most 1280 bytes over a tunnel MTU below 1280; §7.2(b): an IPv4 packet
/// with DF clear, from [`super::mixed::encapsulate_4in6`]).
///
/// `packet` keeps the first fragment, in place: a Fragment header goes in after the
/// Per-Fragment headers (the IPv6 header here: the Destination Options header of the
/// Tunnel Encapsulation Limit is in the Fragmentable Part), which move 8 bytes into the
/// headroom. `second` (its old contents discarded) receives the rest of the data as one
/// fragment behind a copy of the Per-Fragment headers. Every fragment but the last
/// carries a multiple of 8 bytes of data, as many as fit `mtu`; the Fragment Offset
/// counts 8-byte units from the start of the Fragmentable Part; M is set on all but the
/// last; each Payload Length counts its own fragment.
///
/// When `second` is still longer than `mtu`, call again on `second` with another buffer:
/// a packet that already carries a Fragment header is split further under that header's
/// Identification and offset (`identification` is then unused), so each call adds one
/// fragment and the fragments go out in the order packet, second, third... Two always
/// suffice for what RFC 2473 §7.1 fragments (at most 1280 + 48 bytes over a path MTU of
/// at least 1280); an IPv4 inner packet (§7.2) or a path MTU configured below 1280 can
/// need more.
///
/// `identification` is the caller's: RFC 8200 §4.5 wants it different from that of any
/// other fragmented packet sent recently between the same two addresses (a counter per
/// tunnel will do; RFC 7739 prefers it hard to predict).
///
/// Returns false, leaving both buffers untouched, when `packet` already fits. Refused,
/// with `packet` untouched: an `mtu` too small to carry the Per-Fragment headers, a
/// Fragment header, 8 bytes of data and, in the first fragment, the extension headers and
/// the inner header (`Malformed(Unsupported)`, RFC 8200 §4.5); fewer than 8 bytes of
/// headroom (`NoRoom`); a malformed packet. No allocation.
pub fn fragment_outer<P: PacketBuf>(
    packet: &mut P,
    mtu: u16,
    identification: u32,
    second: &mut P,
) -> Result<bool> {
    let layout = fragment_layout(packet.data(), identification)?;
    if layout.end <= usize::from(mtu) {
        return Ok(false);
    }
    let chunk = usize::from(mtu).saturating_sub(layout.per_fragment + FRAGMENT_HEADER_LEN) & !7;
    if chunk == 0 || chunk < layout.first_needs {
        return Err(wire::Error::Unsupported.into());
    }
    if !layout.present && packet.headroom() < FRAGMENT_HEADER_LEN {
        return Err(TunnelError::NoRoom);
    }
    let head = fragment_header(&Ipv6FragmentRepr {
        more_fragments: true,
        ..layout.header
    })?;
    let tail = fragment_header(&Ipv6FragmentRepr {
        fragment_offset: layout.header.fragment_offset + (chunk / 8) as u16,
        ..layout.header
    })?;
    write_tail(packet.data(), &layout, chunk, &tail, second)?;
    write_head(packet, &layout, chunk, &head)?;
    Ok(true)
}

/// An ICMPv6 error a tunnel entry point sends to the source of an IPv6 packet it refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Error {
    /// Packet Too Big with the MTU to use, RFC 4443 §3.2.
    PacketTooBig {
        /// The MTU.
        mtu: u32,
    },
    /// Time Exceeded, code 0: hop limit exceeded in transit, RFC 4443 §3.3.
    HopLimitExceeded,
    /// Parameter Problem, code 0: erroneous header field, RFC 4443 §3.4.
    ParameterProblem {
        /// Offset in the original packet of the field in error.
        pointer: u32,
    },
}

impl Icmpv6Error {
    /// The ICMPv6 error that answers a refused IPv6 inner packet, if any: RFC 2473 §4.1.1
    /// (limit 0), §7.1 (too big), RFC 4443 §3.3 (hop limit).
    pub fn for_error(error: &TunnelError) -> Option<Icmpv6Error> {
        match *error {
            TunnelError::TooBig { mtu } => Some(Icmpv6Error::PacketTooBig {
                mtu: u32::from(mtu),
            }),
            TunnelError::TtlExpired => Some(Icmpv6Error::HopLimitExceeded),
            TunnelError::EncapsulationLimit { pointer } => {
                Some(Icmpv6Error::ParameterProblem { pointer })
            }
            _ => None,
        }
    }

    fn repr<'a>(&self, invoking: &'a [u8]) -> Icmpv6Repr<'a> {
        match *self {
            Icmpv6Error::PacketTooBig { mtu } => Icmpv6Repr::PacketTooBig { mtu, invoking },
            Icmpv6Error::HopLimitExceeded => Icmpv6Repr::TimeExceeded { code: 0, invoking },
            Icmpv6Error::ParameterProblem { pointer } => Icmpv6Repr::ParamProblem {
                code: 0,
                pointer,
                invoking,
            },
        }
    }
}

/// Whether RFC 4443 §2.4(e) allows an error about `original`: not about an ICMPv6 error
/// message, not to a multicast destination (Packet Too Big excepted), not to a source that
/// names no single node.
fn may_answer(original: &Ipv6Packet<&[u8]>, kind: &Icmpv6Error) -> bool {
    let source = original.src_addr();
    if source.is_unspecified() || source.is_multicast() {
        return false;
    }
    if original.dst_addr().is_multicast() && !matches!(kind, Icmpv6Error::PacketTooBig { .. }) {
        return false;
    }
    let payload = original.payload();
    match walk_chain(original.next_header(), payload) {
        Ok(c) if c.upper_layer == next_header::ICMPV6 => {
            payload.get(c.upper_layer_offset).is_some_and(|&t| t >= 128)
        }
        _ => true,
    }
}

/// Builds in `reply` the IPv6 packet carrying the ICMPv6 error `kind` about `original`,
/// from `src` to the original source, quoting as much of the original as fits in 1280
/// bytes (RFC 4443 §2.4(c)) and `reply`, checksum filled (§2.3). Returns the length
/// written; 0 when RFC 4443 §2.4(e) forbids an answer (send nothing). `NoRoom` when
/// `reply` cannot hold the headers.
pub fn icmp_error_v6(
    original: &[u8],
    reply: &mut [u8],
    src: Ipv6Addr,
    kind: Icmpv6Error,
) -> Result<usize> {
    let packet = Ipv6Packet::new_checked(original)?;
    if !may_answer(&packet, &kind) {
        return Ok(0);
    }
    let dst = packet.src_addr();
    let quoted_len = HEADER_LEN + usize::from(packet.payload_len());
    let room = reply.len().min(usize::from(IPV6_MIN_MTU));
    let headers = HEADER_LEN + icmpv6::header_len(icmpv6::message_type::PACKET_TOO_BIG);
    let quoted = original
        .get(..quoted_len.min(room.saturating_sub(headers)))
        .ok_or(TunnelError::Malformed(wire::Error::Truncated))?;
    let message = kind.repr(quoted);
    let total = HEADER_LEN + message.buffer_len();
    let out = reply.get_mut(..total).ok_or(TunnelError::NoRoom)?;
    let (ip, icmp) = out.split_at_mut(HEADER_LEN);
    Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: next_header::ICMPV6,
        payload_len: message.buffer_len(),
        hop_limit: ICMP_HOP_LIMIT,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut Ipv6Packet::new_unchecked(ip))?;
    message.emit(&src, &dst, &mut Icmpv6Packet::new_unchecked(icmp))?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::memory::{MemPacket, MemPool};
    use crate::tunnel::ecn::codepoint::{CE, ECT0, ECT1, NOT_ECT};
    use crate::tunnel::testutil::{fragment_all_v6, reassemble_v6};
    use proptest::prelude::*;

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn ends() -> Endpoints6 {
        Endpoints6 {
            entry: addr("2001:db8:a::1"),
            exit: addr("2001:db8:c0a::1"),
        }
    }

    fn settings() -> TunnelSettings {
        TunnelSettings::default()
    }

    /// An inner IPv6 packet: `ext` (extension headers, first next header given) then a
    /// UDP-numbered payload of `body` bytes.
    fn inner_with(first: u8, ext: &[u8], body: usize, hop_limit: u8, tc: u8) -> Vec<u8> {
        let payload_len = ext.len() + body;
        let mut b = vec![0u8; HEADER_LEN + payload_len];
        Ipv6Repr {
            src_addr: addr("2001:db8:cafe::9"),
            dst_addr: addr("2001:db8:1::100"),
            next_header: first,
            payload_len,
            hop_limit,
            traffic_class: tc,
            flow_label: 0x12345,
        }
        .emit(&mut Ipv6Packet::new_unchecked(&mut b[..]))
        .unwrap();
        b[HEADER_LEN..HEADER_LEN + ext.len()].copy_from_slice(ext);
        for (i, x) in b[HEADER_LEN + ext.len()..].iter_mut().enumerate() {
            *x = i as u8;
        }
        b
    }

    fn inner(body: usize, hop_limit: u8, tc: u8) -> Vec<u8> {
        inner_with(next_header::UDP, &[], body, hop_limit, tc)
    }

    /// Destination Options carrying a Tunnel Encapsulation Limit, then UDP.
    fn tel_header(limit: u8) -> [u8; 8] {
        [next_header::UDP, 0, 4, 1, limit, 1, 1, 0]
    }

    fn packet(pool: &MemPool, bytes: &[u8]) -> MemPacket {
        pool.packet(bytes).unwrap()
    }

    fn ours(a: &Ipv6Addr) -> bool {
        *a == ends().exit
    }

    #[test]
    fn outer_header_has_endpoints_outer_hop_limit_and_inner_traffic_class() {
        let pool = MemPool::new(4);
        let original = inner(20, 64, 0xb8 | ECT0);
        let mut p = packet(&pool, &original);
        let s = TunnelSettings {
            outer_ttl: 17,
            encapsulation_limit: None,
            ..settings()
        };
        assert_eq!(encapsulate(&mut p, &ends(), &s, 0), Ok(Encapsulated::Ready));
        let outer = Ipv6Packet::new_checked(p.data()).unwrap();
        assert_eq!(outer.src_addr(), ends().entry);
        assert_eq!(outer.dst_addr(), ends().exit);
        assert_eq!(outer.hop_limit(), 17);
        assert_eq!(outer.traffic_class(), 0xb8 | ECT0);
        assert_eq!(outer.flow_label(), 0);
        assert_eq!(outer.next_header(), next_header::IPV6);
        assert_eq!(usize::from(outer.payload_len()), original.len());
    }

    #[test]
    fn entry_point_decrements_the_inner_hop_limit_once() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner(8, 64, 0));
        encapsulate(&mut p, &ends(), &settings(), 0).unwrap();
        let inner = Ipv6Packet::new_checked(&p.data()[HEADER_LEN + 8..]).unwrap();
        assert_eq!(inner.hop_limit(), 63);
    }

    #[test]
    fn hop_limit_reaching_zero_is_ttl_expired_and_not_tunnelled() {
        let pool = MemPool::new(4);
        for hop_limit in [0, 1] {
            let original = inner(8, hop_limit, 0);
            let mut p = packet(&pool, &original);
            let r = encapsulate(&mut p, &ends(), &settings(), 0);
            assert_eq!(r, Err(TunnelError::TtlExpired));
            assert_eq!(p.data(), &original[..], "left as it was");
        }
    }

    #[test]
    fn configured_flow_label_is_used_on_the_outer_header() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner(8, 64, 0));
        encapsulate(&mut p, &ends(), &settings(), 0xfff_abcde).unwrap();
        assert_eq!(
            Ipv6Packet::new_checked(p.data()).unwrap().flow_label(),
            0xabcde
        );
    }

    #[test]
    fn configured_encapsulation_limit_is_put_in_a_destination_options_header() {
        let pool = MemPool::new(4);
        let original = inner(8, 64, 0);
        let mut p = packet(&pool, &original);
        encapsulate(&mut p, &ends(), &settings(), 0).unwrap();
        let d = p.data();
        assert_eq!(d[6], next_header::DEST_OPTS);
        let opts = Ipv6OptionsHeader::new_checked(&d[HEADER_LEN..]).unwrap();
        let repr = Ipv6OptionsRepr::parse(&opts).unwrap();
        assert_eq!(repr.next_header, next_header::IPV6);
        assert_eq!(repr.tunnel_encapsulation_limit, Some(4));
        assert_eq!(d.len(), HEADER_LEN + 8 + original.len());
    }

    #[test]
    fn inner_encapsulation_limit_less_one_goes_to_the_outer_header() {
        let pool = MemPool::new(4);
        let original = inner_with(next_header::DEST_OPTS, &tel_header(3), 8, 64, 0);
        let mut p = packet(&pool, &original);
        let s = TunnelSettings {
            encapsulation_limit: None,
            ..settings()
        };
        encapsulate(&mut p, &ends(), &s, 0).unwrap();
        let chain = walk_chain(p.data()[6], &p.data()[HEADER_LEN..]).unwrap();
        assert_eq!(chain.tunnel_encapsulation_limit, Some(2));
        assert_eq!(chain.upper_layer, next_header::IPV6);
    }

    #[test]
    fn inner_encapsulation_limit_zero_is_refused_pointing_at_the_value() {
        let pool = MemPool::new(4);
        let original = inner_with(next_header::DEST_OPTS, &tel_header(0), 8, 64, 0);
        let mut p = packet(&pool, &original);
        let r = encapsulate(&mut p, &ends(), &settings(), 0);
        assert_eq!(r, Err(TunnelError::EncapsulationLimit { pointer: 44 }));
        assert_eq!(original[44], 0);
        assert_eq!(p.data(), &original[..]);
        let e = Icmpv6Error::for_error(&r.unwrap_err()).unwrap();
        assert_eq!(e, Icmpv6Error::ParameterProblem { pointer: 44 });
    }

    #[test]
    fn packet_over_the_tunnel_mtu_is_too_big_with_the_tunnel_mtu() {
        let pool = MemPool::new(4);
        // 1500 − 48 = 1452 fits; 1453 does not.
        let mut p = packet(&pool, &inner(1452 - 40, 64, 0));
        assert_eq!(
            encapsulate(&mut p, &ends(), &settings(), 0),
            Ok(Encapsulated::Ready)
        );
        let original = inner(1453 - 40, 64, 0);
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate(&mut p, &ends(), &settings(), 0),
            Err(TunnelError::TooBig { mtu: 1452 })
        );
        assert_eq!(p.data(), &original[..]);
    }

    #[test]
    fn too_big_never_advertises_less_than_1280() {
        let pool = MemPool::new(4);
        let s = TunnelSettings {
            path_mtu: 1300,
            ..settings()
        };
        let mut p = packet(&pool, &inner(1300 - 40, 64, 0));
        assert_eq!(
            encapsulate(&mut p, &ends(), &s, 0),
            Err(TunnelError::TooBig { mtu: 1280 })
        );
    }

    #[test]
    fn packet_of_at_most_1280_over_a_small_tunnel_mtu_asks_for_outer_fragmentation() {
        let pool = MemPool::new(4);
        let s = TunnelSettings {
            path_mtu: 1300,
            ..settings()
        };
        let mut p = packet(&pool, &inner(1280 - 40, 64, 0));
        assert_eq!(
            encapsulate(&mut p, &ends(), &s, 0),
            Ok(Encapsulated::Fragment { mtu: 1300 })
        );
        assert_eq!(p.data().len(), 1280 + 48);
    }

    #[test]
    fn packet_for_the_exit_point_itself_is_not_tunnelled() {
        let pool = MemPool::new(4);
        let mut original = inner(8, 64, 0);
        original[24..40].copy_from_slice(&ends().exit.octets());
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate(&mut p, &ends(), &settings(), 0),
            Err(TunnelError::ToTunnelEndpoint)
        );
    }

    #[test]
    fn malformed_inner_is_refused() {
        let pool = MemPool::new(4);
        let mut original = inner(8, 64, 0);
        original[0] = 0x45;
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate(&mut p, &ends(), &settings(), 0),
            Err(TunnelError::Malformed(wire::Error::BadVersion))
        );
    }

    #[test]
    fn no_headroom_is_no_room_and_leaves_the_packet() {
        let pool = MemPool::new(4);
        let original = inner(8, 64, 0);
        // Move the data start to the buffer start, then put the inner packet there.
        let mut p = packet(&pool, &[]);
        let room = p.headroom();
        p.prepend(room).unwrap().fill(0);
        p.trim(room).unwrap();
        p.append(original.len()).unwrap().copy_from_slice(&original);
        assert_eq!(p.headroom(), 0);
        assert_eq!(
            encapsulate(&mut p, &ends(), &settings(), 0),
            Err(TunnelError::NoRoom)
        );
        assert_eq!(p.data(), &original[..]);
    }

    #[test]
    fn link_padding_after_the_inner_packet_is_not_tunnelled() {
        let pool = MemPool::new(4);
        let original = inner(8, 64, 0);
        let mut padded = original.clone();
        padded.extend_from_slice(&[0xee; 6]);
        let mut p = packet(&pool, &padded);
        encapsulate(&mut p, &ends(), &settings(), 0).unwrap();
        assert_eq!(p.data().len(), 48 + original.len());
    }

    #[test]
    fn decapsulation_skips_the_limit_header_and_leaves_the_inner_packet() {
        let pool = MemPool::new(4);
        let original = inner(30, 64, 0);
        let mut p = packet(&pool, &original);
        encapsulate(&mut p, &ends(), &settings(), 0).unwrap();
        let d = decapsulate(&mut p, ours, 0).unwrap();
        assert_eq!(
            d,
            Decapsulated {
                entry: ends().entry,
                exit: ends().exit,
                nesting: 1
            }
        );
        let mut want = original.clone();
        want[7] = 63;
        assert_eq!(p.data(), &want[..]);
    }

    fn tunnelled(pool: &MemPool, tc: u8) -> MemPacket {
        let mut p = packet(pool, &inner(8, 64, tc));
        encapsulate(&mut p, &ends(), &settings(), 0).unwrap();
        p
    }

    #[test]
    fn outer_not_for_us_is_not_ours() {
        let pool = MemPool::new(4);
        let mut p = tunnelled(&pool, 0);
        let before = p.data().to_vec();
        assert_eq!(decapsulate(&mut p, |_| false, 0), Err(TunnelError::NotOurs));
        assert_eq!(p.data(), &before[..]);
    }

    #[test]
    fn outer_leading_to_another_protocol_is_wrong_protocol() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner(8, 64, 0));
        let mut o = Ipv6Packet::new_unchecked(p.data_mut());
        o.set_dst_addr(ends().exit);
        assert_eq!(
            decapsulate(&mut p, ours, 0),
            Err(TunnelError::WrongProtocol)
        );
        let mut p = tunnelled(&pool, 0);
        p.data_mut()[HEADER_LEN] = next_header::IPV4;
        assert_eq!(
            decapsulate(&mut p, ours, 0),
            Err(TunnelError::WrongProtocol)
        );
    }

    #[test]
    fn malformed_inner_is_refused_on_decapsulation() {
        let pool = MemPool::new(4);
        let mut p = tunnelled(&pool, 0);
        p.data_mut()[48] = 0x45;
        assert_eq!(
            decapsulate(&mut p, ours, 0),
            Err(TunnelError::Malformed(wire::Error::BadVersion))
        );
        let mut p = tunnelled(&pool, 0);
        // Inner payload length past the outer packet.
        p.data_mut()[48 + 5] = 9;
        assert_eq!(
            decapsulate(&mut p, ours, 0),
            Err(TunnelError::Malformed(wire::Error::Truncated))
        );
    }

    #[test]
    fn nesting_at_the_limit_is_refused() {
        let pool = MemPool::new(4);
        let mut p = tunnelled(&pool, 0);
        assert_eq!(
            decapsulate(&mut p, ours, DEFAULT_NESTING_LIMIT),
            Err(TunnelError::NestingLimit)
        );
        assert!(decapsulate(&mut p, ours, DEFAULT_NESTING_LIMIT - 1).is_ok());
    }

    #[test]
    fn nested_tunnels_decapsulate_one_level_at_a_time() {
        let pool = MemPool::new(4);
        let mut p = tunnelled(&pool, 0);
        let outer_ends = Endpoints6 {
            entry: addr("2001:db8:5::1"),
            exit: addr("2001:db8:c0a::2"),
        };
        assert_eq!(
            encapsulate(&mut p, &outer_ends, &settings(), 0),
            Ok(Encapsulated::Ready)
        );
        let chain = walk_chain(p.data()[6], &p.data()[HEADER_LEN..]).unwrap();
        // The first tunnel's limit 4 became 3 in the second outer header.
        assert_eq!(chain.tunnel_encapsulation_limit, Some(3));
        let all = |a: &Ipv6Addr| *a == ends().exit || *a == outer_ends.exit;
        let d = decapsulate(&mut p, all, 0).unwrap();
        assert_eq!(d.exit, outer_ends.exit);
        let d = decapsulate(&mut p, all, d.nesting).unwrap();
        assert_eq!(d.nesting, 2);
        assert_eq!(Ipv6Packet::new_checked(p.data()).unwrap().hop_limit(), 63);
    }

    #[test]
    fn decapsulation_applies_rfc6040_to_the_inner_ecn() {
        let pool = MemPool::new(4);
        for (inner_ecn, outer_ecn, want) in [
            (ECT0, CE, Ok(CE)),
            (ECT0, ECT1, Ok(ECT1)),
            (ECT1, ECT0, Ok(ECT1)),
            (NOT_ECT, ECT0, Ok(NOT_ECT)),
            (NOT_ECT, CE, Err(TunnelError::EcnDrop)),
        ] {
            let mut p = tunnelled(&pool, 0xb8 | inner_ecn);
            let mut o = Ipv6Packet::new_unchecked(p.data_mut());
            o.set_traffic_class(0xb8 | outer_ecn);
            let got = decapsulate(&mut p, ours, 0)
                .map(|_| Ipv6Packet::new_checked(p.data()).unwrap().traffic_class());
            assert_eq!(
                got,
                want.map(|e| 0xb8 | e),
                "{inner_ecn:02b}/{outer_ecn:02b}"
            );
        }
    }

    #[test]
    fn fragmented_outer_is_not_decapsulated() {
        let pool = MemPool::new(4);
        let mut b = vec![0u8; 48];
        Ipv6Repr {
            src_addr: ends().entry,
            dst_addr: ends().exit,
            next_header: next_header::FRAGMENT,
            payload_len: 8,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(&mut Ipv6Packet::new_unchecked(&mut b[..]))
        .unwrap();
        b[40..48].copy_from_slice(&[41, 0, 0, 1, 0, 0, 0, 1]);
        let mut p = packet(&pool, &b);
        assert_eq!(
            decapsulate(&mut p, ours, 0),
            Err(TunnelError::Malformed(wire::Error::Unsupported))
        );
    }

    fn icmp_of(original: &[u8], kind: Icmpv6Error) -> Vec<u8> {
        let mut reply = [0u8; 1500];
        let n = icmp_error_v6(original, &mut reply, ends().entry, kind).unwrap();
        reply[..n].to_vec()
    }

    #[test]
    fn packet_too_big_goes_to_the_source_with_the_mtu_and_a_good_checksum() {
        let original = inner(100, 64, 0);
        let r = icmp_of(&original, Icmpv6Error::PacketTooBig { mtu: 1452 });
        let ip = Ipv6Packet::new_checked(&r[..]).unwrap();
        assert_eq!(ip.dst_addr(), addr("2001:db8:cafe::9"));
        assert_eq!(ip.src_addr(), ends().entry);
        assert_eq!(ip.next_header(), next_header::ICMPV6);
        let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
        assert_eq!(icmp.msg_type(), icmpv6::message_type::PACKET_TOO_BIG);
        assert_eq!(icmp.mtu(), 1452);
        assert!(icmp.verify_checksum(&ends().entry, &addr("2001:db8:cafe::9")));
        assert_eq!(icmp.payload(), &original[..]);
    }

    #[test]
    fn error_quotes_as_much_of_the_original_as_fits_in_1280_bytes() {
        let original = inner(1400, 64, 0);
        let r = icmp_of(&original, Icmpv6Error::HopLimitExceeded);
        assert_eq!(r.len(), 1280);
        let icmp = Icmpv6Packet::new_checked(&r[HEADER_LEN..]).unwrap();
        assert_eq!(icmp.msg_type(), icmpv6::message_type::TIME_EXCEEDED);
        assert_eq!(icmp.msg_code(), 0);
        assert_eq!(icmp.payload(), &original[..1280 - 48]);
    }

    #[test]
    fn parameter_problem_points_at_the_limit_value() {
        let original = inner_with(next_header::DEST_OPTS, &tel_header(0), 8, 64, 0);
        let r = icmp_of(&original, Icmpv6Error::ParameterProblem { pointer: 44 });
        let icmp = Icmpv6Packet::new_checked(&r[HEADER_LEN..]).unwrap();
        assert_eq!(icmp.msg_type(), icmpv6::message_type::PARAM_PROBLEM);
        assert_eq!((icmp.msg_code(), icmp.pointer()), (0, 44));
    }

    #[test]
    fn no_error_about_an_icmp_error_or_to_a_multicast_destination() {
        let mut about_error = inner(8, 64, 0);
        about_error[6] = next_header::ICMPV6;
        about_error[40] = icmpv6::message_type::TIME_EXCEEDED;
        let mut reply = [0u8; 1280];
        let src = ends().entry;
        let n = icmp_error_v6(&about_error, &mut reply, src, Icmpv6Error::HopLimitExceeded);
        assert_eq!(n, Ok(0));
        let mut multicast = inner(8, 64, 0);
        multicast[24] = 0xff;
        let n = icmp_error_v6(&multicast, &mut reply, src, Icmpv6Error::HopLimitExceeded);
        assert_eq!(n, Ok(0));
        let n = icmp_error_v6(
            &multicast,
            &mut reply,
            src,
            Icmpv6Error::PacketTooBig { mtu: 1280 },
        );
        assert!(n.unwrap() > 0, "Packet Too Big is the exception");
        let mut echo = about_error.clone();
        echo[40] = icmpv6::message_type::ECHO_REQUEST;
        let n = icmp_error_v6(&echo, &mut reply, src, Icmpv6Error::HopLimitExceeded);
        assert!(n.unwrap() > 0);
    }

    #[test]
    fn reply_buffer_too_small_is_no_room() {
        let mut reply = [0u8; 47];
        assert_eq!(
            icmp_error_v6(
                &inner(8, 64, 0),
                &mut reply,
                ends().entry,
                Icmpv6Error::HopLimitExceeded
            ),
            Err(TunnelError::NoRoom)
        );
    }

    fn tunnelled_over(pool: &MemPool, body: usize, path_mtu: u16) -> (MemPacket, Encapsulated) {
        let mut p = packet(pool, &inner(body, 64, 0));
        let s = TunnelSettings {
            path_mtu,
            ..settings()
        };
        let fit = encapsulate(&mut p, &ends(), &s, 0).unwrap();
        (p, fit)
    }

    fn fragment_header_of(fragment: &[u8], at: usize) -> Ipv6FragmentRepr {
        Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_checked(&fragment[at..]).unwrap()).unwrap()
    }

    #[test]
    fn ipv6_packet_of_1280_over_a_1280_path_goes_out_in_two_rfc8200_fragments() {
        let pool = MemPool::new(4);
        let (p, fit) = tunnelled_over(&pool, 1280 - 40, 1280);
        assert_eq!(fit, Encapsulated::Fragment { mtu: 1280 });
        let whole = p.data().to_vec();
        let fragments = fragment_all_v6(&pool, p, 1280, 0x8000_0001);
        assert_eq!(fragments.len(), 2);
        let (first, last) = (&fragments[0], &fragments[1]);
        // 40 + 8 + 1232 (the most data under 1280 that is a multiple of 8), then the rest
        // of the 8 + 1280 bytes of Fragmentable Part.
        assert_eq!((first.len(), last.len()), (1280, 40 + 8 + 1288 - 1232));
        for f in &fragments {
            assert_eq!(f[6], next_header::FRAGMENT);
            assert_eq!(f[..4], whole[..4], "version, class, label kept");
            assert_eq!(f[7..40], whole[7..40], "hop limit and addresses kept");
        }
        let h = fragment_header_of(first, HEADER_LEN);
        assert_eq!(
            (h.next_header, h.fragment_offset, h.more_fragments),
            (next_header::DEST_OPTS, 0, true)
        );
        assert_eq!(h.identification, 0x8000_0001);
        let h = fragment_header_of(last, HEADER_LEN);
        assert_eq!((h.fragment_offset, h.more_fragments), (1232 / 8, false));
        // The limit's Destination Options header is in the Fragmentable Part: only the
        // first fragment has it, right after the Fragment header.
        let chain = walk_chain(first[6], &first[HEADER_LEN..]).unwrap();
        assert_eq!(chain.tunnel_encapsulation_limit, Some(4));
        assert_eq!(chain.upper_layer, next_header::IPV6);
        assert_eq!(&last[48..], &whole[40 + 1232..]);
        assert_eq!(reassemble_v6(&fragments), whole);
    }

    #[test]
    fn reassembled_fragments_decapsulate_to_the_inner_packet() {
        let pool = MemPool::new(4);
        let (p, fit) = tunnelled_over(&pool, 1100, 1100);
        assert_eq!(fit, Encapsulated::Fragment { mtu: 1100 });
        let fragments = fragment_all_v6(&pool, p, 1100, 7);
        assert_eq!(fragments.len(), 2);
        let mut whole = packet(&pool, &reassemble_v6(&fragments));
        decapsulate(&mut whole, ours, 0).unwrap();
        let mut want = inner(1100, 64, 0);
        want[7] = 63;
        assert_eq!(whole.data(), &want[..]);
    }

    #[test]
    fn packet_within_the_mtu_is_not_fragmented_and_nothing_changes() {
        let pool = MemPool::new(4);
        let (mut p, _) = tunnelled_over(&pool, 100, 1500);
        let before = p.data().to_vec();
        let mut second = packet(&pool, &[0xee; 3]);
        assert_eq!(fragment_outer(&mut p, 1500, 1, &mut second), Ok(false));
        let fits = u16::try_from(before.len()).unwrap();
        assert_eq!(fragment_outer(&mut p, fits, 1, &mut second), Ok(false));
        assert_eq!((p.data(), second.data()), (&before[..], &[0xee; 3][..]));
    }

    /// An outer packet whose Hop-by-Hop, Destination Options and Routing headers are all
    /// Per-Fragment, then the limit's Destination Options header and an inner packet.
    fn outer_with_routing(body: usize) -> Vec<u8> {
        let hop_by_hop = [next_header::DEST_OPTS, 0, 1, 4, 0, 0, 0, 0];
        let before_routing = [next_header::ROUTING, 0, 1, 4, 0, 0, 0, 0];
        let mut routing = [0u8; 24];
        routing[..4].copy_from_slice(&[next_header::DEST_OPTS, 2, 2, 0]);
        let limit = [next_header::IPV6, 0, 4, 1, 3, 1, 1, 0];
        let original = inner(body, 64, 0);
        let ext = [
            &hop_by_hop[..],
            &before_routing,
            &routing,
            &limit,
            &original,
        ]
        .concat();
        let mut b = vec![0u8; HEADER_LEN];
        Ipv6Repr {
            src_addr: ends().entry,
            dst_addr: ends().exit,
            next_header: next_header::HOP_BY_HOP,
            payload_len: ext.len(),
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(&mut Ipv6Packet::new_unchecked(&mut b[..]))
        .unwrap();
        b.extend_from_slice(&ext);
        b
    }

    #[test]
    fn headers_up_to_the_routing_header_go_in_every_fragment_and_the_rest_in_the_first() {
        let pool = MemPool::new(4);
        let whole = outer_with_routing(200);
        let fragments = fragment_all_v6(&pool, packet(&pool, &whole), 200, 9);
        // Per-Fragment: 40 + 8 + 8 + 24 = 80; data per fragment (200 − 88) & !7 = 112;
        // Fragmentable Part 8 + 240.
        let lens: Vec<usize> = fragments.iter().map(Vec::len).collect();
        assert_eq!(lens, [200, 200, 88 + 248 - 224]);
        for f in &fragments {
            assert_eq!(f[6], next_header::HOP_BY_HOP);
            assert_eq!(f[56], next_header::FRAGMENT, "the Routing header names it");
            let h = fragment_header_of(f, 80);
            assert_eq!(
                (h.next_header, h.identification),
                (next_header::DEST_OPTS, 9)
            );
        }
        assert_eq!(&fragments[0][88..96], &whole[80..88], "limit header first");
        assert_eq!(reassemble_v6(&fragments), whole);
    }

    #[test]
    fn mtu_without_room_for_the_headers_is_unsupported_and_leaves_the_packet() {
        let pool = MemPool::new(4);
        let (mut p, _) = tunnelled_over(&pool, 1240, 1500);
        let before = p.data().to_vec();
        let mut second = packet(&pool, &[]);
        // The first fragment needs 48 + 8 (limit header) + 40 (inner header) bytes: at 95
        // only 40 bytes of data fit.
        assert_eq!(
            fragment_outer(&mut p, 95, 1, &mut second),
            Err(TunnelError::Malformed(wire::Error::Unsupported))
        );
        assert_eq!(p.data(), &before[..]);
        assert_eq!(fragment_outer(&mut p, 96, 1, &mut second), Ok(true));
        assert_eq!(p.data().len(), 96);
    }

    #[test]
    fn no_headroom_for_the_fragment_header_is_no_room_and_leaves_the_packet() {
        let pool = MemPool::new(4);
        let (p, _) = tunnelled_over(&pool, 1240, 1500);
        let whole = p.data().to_vec();
        drop(p);
        let mut p = packet(&pool, &[]);
        let room = p.headroom();
        p.prepend(room).unwrap().fill(0);
        p.trim(room).unwrap();
        p.append(whole.len()).unwrap().copy_from_slice(&whole);
        let mut second = packet(&pool, &[]);
        assert_eq!(
            fragment_outer(&mut p, 1280, 1, &mut second),
            Err(TunnelError::NoRoom)
        );
        assert_eq!(p.data(), &whole[..]);
    }

    proptest! {
        #[test]
        fn encapsulate_then_decapsulate_returns_the_inner_packet(
            body in 0usize..1400, hop_limit in 2u8..=255, tc in any::<u8>(),
            limit in proptest::option::of(1u8..=255), configured in proptest::option::of(any::<u8>()),
            outer_ecn in 0u8..4, flow in any::<u32>(),
        ) {
            let pool = MemPool::new(4);
            let original = match limit {
                Some(l) => inner_with(next_header::DEST_OPTS, &tel_header(l), body, hop_limit, tc),
                None => inner(body, hop_limit, tc),
            };
            let mut p = packet(&pool, &original);
            let s = TunnelSettings { encapsulation_limit: configured, ..settings() };
            let fit = encapsulate(&mut p, &ends(), &s, flow).unwrap();
            let outer = Ipv6Packet::new_checked(p.data()).unwrap();
            prop_assert_eq!(outer.ecn(), tc & 0b11);
            prop_assert_eq!(fit == Encapsulated::Ready, p.data().len() <= 1500);
            // A router on the way may mark congestion on the outer header.
            let outer_tc = (outer.traffic_class() & !0b11) | outer_ecn;
            Ipv6Packet::new_unchecked(p.data_mut()).set_traffic_class(outer_tc);
            let r = decapsulate(&mut p, ours, 0);
            let mut want = original.clone();
            want[7] = hop_limit - 1;
            match ecn::decapsulate(tc, outer_ecn) {
                ecn::Decapsulated::Forward(e) => {
                    prop_assert!(r.is_ok());
                    Ipv6Packet::new_unchecked(&mut want[..]).set_traffic_class((tc & !0b11) | e);
                    prop_assert_eq!(p.data(), &want[..]);
                }
                ecn::Decapsulated::Drop => prop_assert_eq!(r, Err(TunnelError::EcnDrop)),
            }
        }

        #[test]
        fn fragments_fit_the_mtu_and_reassemble_into_the_outer_packet(
            body in 0usize..1500, limit in proptest::option::of(1u8..=255),
            mtu in 96u16..1600, identification in any::<u32>(),
        ) {
            let pool = MemPool::new(4);
            let mut p = packet(&pool, &inner(body, 64, 0));
            let s = TunnelSettings { path_mtu: 1600, encapsulation_limit: limit, ..settings() };
            encapsulate(&mut p, &ends(), &s, 0).unwrap();
            let whole = p.data().to_vec();
            let fragments = fragment_all_v6(&pool, p, mtu, identification);
            if whole.len() <= usize::from(mtu) {
                prop_assert_eq!(&fragments[..], &[whole][..]);
            } else {
                prop_assert!(fragments.len() >= 2);
                prop_assert!(fragments.iter().all(|f| f.len() <= usize::from(mtu)));
                let h = fragment_header_of(&fragments[0], HEADER_LEN);
                prop_assert_eq!(h.identification, identification);
                prop_assert_eq!(reassemble_v6(&fragments), whole);
            }
        }

        #[test]
        fn decapsulate_and_fragment_never_panic_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
            nesting in any::<u8>(), make_v6 in any::<bool>(),
        ) {
            let pool = MemPool::new(4);
            let mut bytes = bytes;
            if make_v6 && bytes.len() >= 40 {
                bytes[0] = 0x60;
                let plen = (bytes.len() - 40) as u16;
                bytes[4..6].copy_from_slice(&plen.to_be_bytes());
                bytes[6] = [41u8, 60, 0, 44, 43][usize::from(bytes[6] % 5)];
            }
            let mut p = packet(&pool, &bytes);
            let _ = decapsulate(&mut p, |_| true, nesting);
            let mut p = packet(&pool, &bytes);
            let mut second = packet(&pool, &[]);
            let _ = fragment_outer(&mut p, u16::from(nesting) * 2, 0, &mut second);
            let mut p = packet(&pool, &bytes);
            let _ = encapsulate(&mut p, &ends(), &settings(), 0);
            let mut reply = [0u8; 1280];
            let _ = icmp_error_v6(&bytes, &mut reply, ends().entry, Icmpv6Error::HopLimitExceeded);
        }
    }
}
