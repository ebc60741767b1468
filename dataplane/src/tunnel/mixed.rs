//! Tunnels across address families, for dual-stack mobiles: IPv4-in-IPv6 (RFC 2473, Next
//! Header 4, the original packet is IPv4) and IPv6-in-IPv4 (RFC 4213 §3, protocol 41).
//!
//! The IPv6 outer header is the one of [`super::ip6ip6`] (same Tunnel Encapsulation Limit
//! handling, same checks on decapsulation). On any error the packet is left as it was.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::ip6ip6::{
    inner_ecn, keep_range, outer_traffic_class, push_outer6, read_outer6, Decapsulated,
    Encapsulated, Outer6, IPV6_MIN_MTU,
};
use super::{
    ecn, Endpoints4, Endpoints6, Result, TunnelError, TunnelSettings, DEFAULT_NESTING_LIMIT,
};
use crate::port::PacketBuf;
use crate::wire;
use crate::wire::checksum::ChecksumMode;
use crate::wire::ipv4::{self, IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use crate::wire::ipv6::{self, next_header, Ipv6Packet};

/// An inner IPv4 packet checked as a router forwarding it would: lengths, version and
/// header checksum (RFC 791 §3.1, RFC 1812 §5.2.2).
fn checked_ipv4(data: &[u8]) -> Result<Ipv4Packet<&[u8]>> {
    let packet = Ipv4Packet::new_checked(data)?;
    if !packet.verify_checksum() {
        return Err(TunnelError::Malformed(wire::Error::BadChecksum));
    }
    Ok(packet)
}

/// Whether an inner IPv4 packet of `inner_len` bytes goes through an IPv6 tunnel, RFC 2473
/// §7.2: it fits the tunnel MTU; or DF is clear and the outer IPv6 packet is fragmented;
/// or DF is set and it is refused with the tunnel MTU (ICMPv4 fragmentation needed).
fn fit_ipv4_inner(
    path_mtu: u16,
    overhead: usize,
    inner_len: usize,
    dont_frag: bool,
) -> Result<Encapsulated> {
    let tunnel_mtu = usize::from(path_mtu).saturating_sub(overhead);
    match (inner_len <= tunnel_mtu, dont_frag) {
        (true, _) => Ok(Encapsulated::Ready),
        (false, false) => Ok(Encapsulated::FragmentOuter { path_mtu }),
        (false, true) => Err(TunnelError::TooBig {
            mtu: u16::try_from(tunnel_mtu).unwrap_or(u16::MAX),
        }),
    }
}

/// Encapsulates the IPv4 packet at the start of `packet` in IPv6 (Next Header 4), RFC 2473
/// §3–§7 with an IPv4 original packet. The inner TTL is decremented first (`TtlExpired` at
/// zero, the header checksum patched, RFC 1624). The configured Tunnel Encapsulation Limit
/// goes in the outer header (an IPv4 packet carries none of its own). Over the tunnel MTU:
/// DF set is `TooBig` with the tunnel MTU (§7.2(a)); DF clear is encapsulated and the
/// result says to fragment the outer packet (§7.2(b)). `flow_label` as in
/// [`super::ip6ip6::encapsulate`].
pub fn encapsulate_4in6<P: PacketBuf>(
    packet: &mut P,
    ends: &Endpoints6,
    settings: &TunnelSettings,
    flow_label: u32,
) -> Result<Encapsulated> {
    let inner = checked_ipv4(packet.data())?;
    if inner.ttl() <= 1 {
        return Err(TunnelError::TtlExpired);
    }
    let outer = Outer6 {
        next_header: next_header::IPV4,
        traffic_class: outer_traffic_class((inner.dscp() << 2) | inner.ecn()),
        limit: settings.encapsulation_limit,
        inner_len: usize::from(inner.total_len()),
    };
    let fit = fit_ipv4_inner(
        settings.path_mtu,
        outer.overhead(),
        outer.inner_len,
        inner.dont_frag(),
    )?;
    if packet.headroom() < outer.overhead() {
        return Err(TunnelError::NoRoom);
    }
    outer.payload_len()?;
    Ipv4Packet::new_unchecked(packet.data_mut()).decrement_ttl();
    push_outer6(packet, ends, settings, flow_label, &outer)?;
    Ok(fit)
}

/// Decapsulates an IPv4-in-IPv6 packet, RFC 2473 §3.2: the outer checks of
/// [`super::ip6ip6::decapsulate`] with Next Header 4, the inner IPv4 packet checked
/// (checksum included), its ECN field set by RFC 6040 §4.2 (checksum patched) and its TTL
/// untouched. Leaves the data at the inner IPv4 header.
pub fn decapsulate_4in6<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(&Ipv6Addr) -> bool,
    nesting: u8,
) -> Result<Decapsulated<Ipv6Addr>> {
    let seen = read_outer6(packet.data(), ours, nesting, next_header::IPV4)?;
    let carried = packet
        .data()
        .get(seen.inner_start..seen.end)
        .ok_or(TunnelError::Malformed(wire::Error::Truncated))?;
    let inner = checked_ipv4(carried)?;
    let dscp = inner.dscp();
    let ecn = inner_ecn(inner.ecn(), seen.ecn)?;
    let inner_end = seen.inner_start + usize::from(inner.total_len());
    keep_range(packet, seen.inner_start, inner_end)?;
    Ipv4Packet::new_unchecked(packet.data_mut()).set_dscp_ecn(dscp, ecn);
    Ok(Decapsulated {
        entry: seen.entry,
        exit: seen.exit,
        nesting: nesting.saturating_add(1),
    })
}

/// How an IPv6 packet of `inner_len` bytes crosses an IPv4 tunnel, RFC 4213 §3.2.2: with
/// a tunnel MTU (path MTU − 20) of at least 1280, DF set and Packet Too Big above it;
/// below 1280, Packet Too Big with 1280 above 1280 bytes, else DF clear and the IPv4
/// layer fragments the outer packet if it must. Returns the outcome and the DF flag.
fn fit_over_ipv4(path_mtu: u16, inner_len: usize) -> Result<(Encapsulated, bool)> {
    let tunnel_mtu = usize::from(path_mtu).saturating_sub(ipv4::HEADER_LEN);
    let min = usize::from(IPV6_MIN_MTU);
    if tunnel_mtu >= min {
        if inner_len > tunnel_mtu {
            let mtu = u16::try_from(tunnel_mtu).unwrap_or(u16::MAX);
            return Err(TunnelError::TooBig { mtu });
        }
        return Ok((Encapsulated::Ready, true));
    }
    if inner_len > min {
        return Err(TunnelError::TooBig { mtu: IPV6_MIN_MTU });
    }
    if inner_len > tunnel_mtu {
        return Ok((Encapsulated::FragmentOuter { path_mtu }, false));
    }
    Ok((Encapsulated::Ready, false))
}

/// Encapsulates the IPv6 packet at the start of `packet` in IPv4 (protocol 41), RFC 4213
/// §3. The tunnel is one IPv6 hop, so the inner hop limit is decremented first (§3.3;
/// `TtlExpired` at zero). Outer TTL from the settings (§3.3), DSCP copied from the inner
/// traffic class and ECN by RFC 6040 §4.1 (§3.5 allows other than 0 when specified), DF
/// and MTU by §3.2.2 ([`Encapsulated`] says when the IPv4 layer must fragment).
/// `identification` is the outer Identification: RFC 6864 §4 wants it unique per source,
/// destination and protocol whenever DF is clear, so the caller keeps that counter.
pub fn encapsulate_6in4<P: PacketBuf>(
    packet: &mut P,
    ends: &Endpoints4,
    settings: &TunnelSettings,
    identification: u16,
) -> Result<Encapsulated> {
    let inner = Ipv6Packet::new_checked(packet.data())?;
    if inner.hop_limit() <= 1 {
        return Err(TunnelError::TtlExpired);
    }
    let inner_len = ipv6::HEADER_LEN + usize::from(inner.payload_len());
    let (fit, dont_frag) = fit_over_ipv4(settings.path_mtu, inner_len)?;
    let traffic_class = inner.traffic_class();
    let outer = Ipv4Repr {
        src_addr: ends.entry,
        dst_addr: ends.exit,
        protocol: IpProtocol::IPV6,
        payload_len: inner_len,
        ttl: settings.outer_ttl,
        dscp: traffic_class >> 2,
        ecn: ecn::encapsulate(traffic_class),
        ident: identification,
        dont_frag,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    if outer.buffer_len() > usize::from(u16::MAX) {
        return Err(TunnelError::Malformed(wire::Error::Oversized));
    }
    let overhead = outer.header_len();
    if packet.headroom() < overhead {
        return Err(TunnelError::NoRoom);
    }
    Ipv6Packet::new_unchecked(packet.data_mut()).decrement_hop_limit();
    let extra = packet.data().len().saturating_sub(inner_len);
    packet.trim(extra)?;
    let buf = packet.prepend(overhead)?;
    let header = buf
        .get_mut(..overhead)
        .ok_or(TunnelError::Malformed(wire::Error::Truncated))?;
    outer.emit(&mut Ipv4Packet::new_unchecked(header));
    Ok(fit)
}

/// Decapsulates an IPv6-in-IPv4 packet, RFC 4213 §3.6: the outer IPv4 header checked
/// (checksum included; a fragment needs reassembly first: `Malformed`), its destination
/// ours (`NotOurs`), protocol 41 (`WrongProtocol`), fewer than [`DEFAULT_NESTING_LIMIT`]
/// tunnel headers already stripped (`NestingLimit`), the inner IPv6 packet well formed;
/// its ECN field set by RFC 6040 §4.2, its hop limit untouched. The caller checks the
/// returned entry point against its configuration (§3.6 ingress filtering).
pub fn decapsulate_6in4<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(&Ipv4Addr) -> bool,
    nesting: u8,
) -> Result<Decapsulated<Ipv4Addr>> {
    let outer = Ipv4Packet::new_checked(packet.data())?;
    let repr = Ipv4Repr::parse(&outer, ChecksumMode::Verify)?;
    if !ours(&repr.dst_addr) {
        return Err(TunnelError::NotOurs);
    }
    if repr.protocol != IpProtocol::IPV6 {
        return Err(TunnelError::WrongProtocol);
    }
    if repr.more_frags || repr.frag_offset != 0 {
        return Err(TunnelError::Malformed(wire::Error::Unsupported));
    }
    if nesting >= DEFAULT_NESTING_LIMIT {
        return Err(TunnelError::NestingLimit);
    }
    let inner_start = repr.header_len();
    let inner = Ipv6Packet::new_checked(outer.payload())?;
    let traffic_class = (inner.traffic_class() & !0b11) | inner_ecn(inner.ecn(), repr.ecn)?;
    let inner_end = inner_start + ipv6::HEADER_LEN + usize::from(inner.payload_len());
    keep_range(packet, inner_start, inner_end)?;
    Ipv6Packet::new_unchecked(packet.data_mut()).set_traffic_class(traffic_class);
    Ok(Decapsulated {
        entry: repr.src_addr,
        exit: repr.dst_addr,
        nesting: nesting.saturating_add(1),
    })
}
