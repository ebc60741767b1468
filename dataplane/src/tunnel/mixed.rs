//! Tunnels across address families, for dual-stack mobiles: IPv4-in-IPv6 (RFC 2473, Next
//! Header 4, the original packet is IPv4) and IPv6-in-IPv4 (RFC 4213 §3, protocol 41).
//!
//! The IPv6 outer header is the one of [`super::ip6ip6`] (same Tunnel Encapsulation Limit
//! handling, same checks on decapsulation). On any error the packet is left as it was.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::ip6ip6::{
    inner_ecn, keep_range, outer_traffic_class, push_outer6, read_outer6, Decapsulated, Outer6,
    IPV6_MIN_MTU,
};
use super::{
    ecn, Encapsulated, Endpoints4, Endpoints6, Result, TunnelError, TunnelSettings,
    DEFAULT_NESTING_LIMIT,
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
        (false, false) => Ok(Encapsulated::Fragment { mtu: path_mtu }),
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
/// result says to fragment the outer packet (§7.2(b)) with
/// [`super::ip6ip6::fragment_outer`]. `flow_label` as in [`super::ip6ip6::encapsulate`].
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
        return Ok((Encapsulated::Fragment { mtu: path_mtu }, false));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::memory::{MemPacket, MemPool};
    use crate::tunnel::ecn::codepoint::{CE, ECT0, ECT1, NOT_ECT};
    use crate::tunnel::ip6ip6::fragment_outer;
    use crate::tunnel::testutil::{fragment_all_v6, reassemble_v6};
    use crate::wire::ipv6::Ipv6Repr;
    use crate::wire::ipv6ext::{walk_chain, Ipv6FragmentHeader, Ipv6FragmentRepr};
    use proptest::prelude::*;

    fn ends6() -> Endpoints6 {
        Endpoints6 {
            entry: "2001:db8:a::1".parse().unwrap(),
            exit: "2001:db8:c0a::1".parse().unwrap(),
        }
    }

    fn ends4() -> Endpoints4 {
        Endpoints4 {
            entry: Ipv4Addr::new(10, 1, 0, 1),
            exit: Ipv4Addr::new(192, 0, 2, 1),
        }
    }

    fn ours6(a: &Ipv6Addr) -> bool {
        *a == ends6().exit
    }

    fn ours4(a: &Ipv4Addr) -> bool {
        *a == ends4().exit
    }

    fn inner4(body: usize, ttl: u8, tos: u8, dont_frag: bool) -> Vec<u8> {
        let repr = Ipv4Repr {
            src_addr: Ipv4Addr::new(198, 51, 100, 9),
            dst_addr: Ipv4Addr::new(10, 1, 0, 100),
            protocol: IpProtocol::UDP,
            payload_len: body,
            ttl,
            dscp: tos >> 2,
            ecn: tos & 3,
            ident: 0x4321,
            dont_frag,
            more_frags: false,
            frag_offset: 0,
            options: Ipv4Options::EMPTY,
        };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
        for (i, x) in b[20..].iter_mut().enumerate() {
            *x = i as u8;
        }
        b
    }

    fn inner6(body: usize, hop_limit: u8, tc: u8) -> Vec<u8> {
        let mut b = vec![0u8; 40 + body];
        Ipv6Repr {
            src_addr: "2001:db8:cafe::9".parse().unwrap(),
            dst_addr: "2001:db8:1::100".parse().unwrap(),
            next_header: next_header::UDP,
            payload_len: body,
            hop_limit,
            traffic_class: tc,
            flow_label: 7,
        }
        .emit(&mut Ipv6Packet::new_unchecked(&mut b[..]))
        .unwrap();
        for (i, x) in b[40..].iter_mut().enumerate() {
            *x = i as u8;
        }
        b
    }

    fn packet(pool: &MemPool, bytes: &[u8]) -> MemPacket {
        pool.packet(bytes).unwrap()
    }

    fn no_limit() -> TunnelSettings {
        TunnelSettings {
            encapsulation_limit: None,
            ..TunnelSettings::default()
        }
    }

    #[test]
    fn ipv4_in_ipv6_has_next_header_4_inner_tos_and_decremented_ttl() {
        let pool = MemPool::new(4);
        let original = inner4(20, 64, 0xb8 | ECT1, true);
        let mut p = packet(&pool, &original);
        let r = encapsulate_4in6(&mut p, &ends6(), &no_limit(), 0);
        assert_eq!(r, Ok(Encapsulated::Ready));
        let outer = Ipv6Packet::new_checked(p.data()).unwrap();
        assert_eq!(outer.next_header(), next_header::IPV4);
        assert_eq!(outer.traffic_class(), 0xb8 | ECT1);
        assert_eq!(outer.hop_limit(), 64);
        assert_eq!(
            (outer.src_addr(), outer.dst_addr()),
            (ends6().entry, ends6().exit)
        );
        let inner = Ipv4Packet::new_checked(&p.data()[40..]).unwrap();
        assert_eq!(inner.ttl(), 63);
        assert!(inner.verify_checksum(), "checksum patched with the TTL");
    }

    #[test]
    fn ipv4_in_ipv6_carries_the_configured_encapsulation_limit() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner4(20, 64, 0, true));
        encapsulate_4in6(&mut p, &ends6(), &TunnelSettings::default(), 0).unwrap();
        let chain = walk_chain(p.data()[6], &p.data()[40..]).unwrap();
        assert_eq!(chain.tunnel_encapsulation_limit, Some(4));
        assert_eq!(chain.upper_layer, next_header::IPV4);
        assert!(decapsulate_4in6(&mut p, ours6, 0).is_ok());
    }

    #[test]
    fn ipv4_ttl_reaching_zero_is_ttl_expired() {
        let pool = MemPool::new(4);
        let original = inner4(20, 1, 0, true);
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate_4in6(&mut p, &ends6(), &no_limit(), 0),
            Err(TunnelError::TtlExpired)
        );
        assert_eq!(p.data(), &original[..]);
    }

    #[test]
    fn ipv4_with_df_over_the_tunnel_mtu_is_too_big_with_the_tunnel_mtu() {
        let pool = MemPool::new(4);
        let original = inner4(1461 - 20, 64, 0, true);
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate_4in6(&mut p, &ends6(), &no_limit(), 0),
            Err(TunnelError::TooBig { mtu: 1460 })
        );
        assert_eq!(p.data(), &original[..]);
    }

    #[test]
    fn ipv4_without_df_over_the_tunnel_mtu_asks_for_outer_ipv6_fragmentation() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner4(1461 - 20, 64, 0, false));
        assert_eq!(
            encapsulate_4in6(&mut p, &ends6(), &no_limit(), 0),
            Ok(Encapsulated::Fragment { mtu: 1500 })
        );
        assert_eq!(p.data().len(), 1501);
    }

    #[test]
    fn ipv4_without_df_is_fragmented_in_ipv6_and_a_second_split_keeps_the_identification() {
        let pool = MemPool::new(4);
        let original = inner4(1900 - 20, 64, 0, false);
        let mut p = packet(&pool, &original);
        let s = TunnelSettings {
            path_mtu: 700,
            ..TunnelSettings::default()
        };
        assert_eq!(
            encapsulate_4in6(&mut p, &ends6(), &s, 0),
            Ok(Encapsulated::Fragment { mtu: 700 })
        );
        let whole = p.data().to_vec();
        let mut second = packet(&pool, &[]);
        let mut third = packet(&pool, &[]);
        assert_eq!(fragment_outer(&mut p, 700, 0x1111, &mut second), Ok(true));
        // The caller's identification only names a new fragment series.
        assert_eq!(
            fragment_outer(&mut second, 700, 0x2222, &mut third),
            Ok(true)
        );
        assert_eq!(fragment_outer(&mut third, 700, 0x3333, &mut p), Ok(false));
        let fragments = [
            p.data().to_vec(),
            second.data().to_vec(),
            third.data().to_vec(),
        ];
        // 8 + 1900 bytes of Fragmentable Part in pieces of (700 − 48) & !7 = 648.
        let lens: Vec<usize> = fragments.iter().map(Vec::len).collect();
        assert_eq!(lens, [696, 696, 48 + 1908 - 1296]);
        for f in &fragments {
            let h = Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_checked(&f[40..]).unwrap());
            assert_eq!(h.unwrap().identification, 0x1111);
        }
        assert_eq!(reassemble_v6(&fragments), whole);
        let mut back = packet(&pool, &whole);
        decapsulate_4in6(&mut back, ours6, 0).unwrap();
        assert_eq!(&back.data()[20..], &original[20..]);
    }

    #[test]
    fn ipv4_with_a_bad_checksum_is_malformed() {
        let pool = MemPool::new(4);
        let mut original = inner4(8, 64, 0, true);
        original[10] ^= 0xff;
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate_4in6(&mut p, &ends6(), &no_limit(), 0),
            Err(TunnelError::Malformed(wire::Error::BadChecksum))
        );
    }

    #[test]
    fn ipv4_in_ipv6_decapsulation_checks_outer_and_inner() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner4(8, 64, 0, true));
        encapsulate_4in6(&mut p, &ends6(), &no_limit(), 0).unwrap();
        let mut q = packet(&pool, p.data());
        assert_eq!(
            decapsulate_4in6(&mut q, |_| false, 0),
            Err(TunnelError::NotOurs)
        );
        assert_eq!(
            crate::tunnel::ip6ip6::decapsulate(&mut q, ours6, 0),
            Err(TunnelError::WrongProtocol)
        );
        assert_eq!(
            decapsulate_4in6(&mut q, ours6, DEFAULT_NESTING_LIMIT),
            Err(TunnelError::NestingLimit)
        );
        q.data_mut()[40 + 10] ^= 1;
        assert_eq!(
            decapsulate_4in6(&mut q, ours6, 0),
            Err(TunnelError::Malformed(wire::Error::BadChecksum))
        );
    }

    #[test]
    fn ipv4_in_ipv6_decapsulation_applies_rfc6040_and_patches_the_checksum() {
        let pool = MemPool::new(4);
        for (inner, outer, want) in [
            (ECT0, CE, Ok(CE)),
            (ECT0, ECT1, Ok(ECT1)),
            (NOT_ECT, CE, Err(TunnelError::EcnDrop)),
        ] {
            let mut p = packet(&pool, &inner4(8, 64, 0x28 | inner, true));
            encapsulate_4in6(&mut p, &ends6(), &no_limit(), 0).unwrap();
            Ipv6Packet::new_unchecked(p.data_mut()).set_traffic_class(0x28 | outer);
            let got = decapsulate_4in6(&mut p, ours6, 0).map(|_| {
                let ip = Ipv4Packet::new_checked(p.data()).unwrap();
                assert!(ip.verify_checksum());
                (ip.dscp() << 2) | ip.ecn()
            });
            assert_eq!(got, want.map(|e| 0x28 | e));
        }
    }

    #[test]
    fn ipv6_in_ipv4_has_protocol_41_df_and_inner_traffic_class() {
        let pool = MemPool::new(4);
        let original = inner6(20, 64, 0xb8 | ECT0);
        let mut p = packet(&pool, &original);
        let r = encapsulate_6in4(&mut p, &ends4(), &TunnelSettings::default(), 77);
        assert_eq!(r, Ok(Encapsulated::Ready));
        let outer = Ipv4Packet::new_checked(p.data()).unwrap();
        let repr = Ipv4Repr::parse(&outer, ChecksumMode::Verify).unwrap();
        assert_eq!(repr.protocol, IpProtocol::IPV6);
        assert_eq!(
            (repr.src_addr, repr.dst_addr),
            (ends4().entry, ends4().exit)
        );
        assert_eq!((repr.dscp, repr.ecn), (0xb8 >> 2, ECT0));
        assert_eq!((repr.ttl, repr.ident, repr.dont_frag), (64, 77, true));
        assert_eq!(
            Ipv6Packet::new_checked(outer.payload())
                .unwrap()
                .hop_limit(),
            63
        );
    }

    #[test]
    fn ipv6_in_ipv4_hop_limit_reaching_zero_is_ttl_expired() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner6(8, 1, 0));
        assert_eq!(
            encapsulate_6in4(&mut p, &ends4(), &no_limit(), 0),
            Err(TunnelError::TtlExpired)
        );
    }

    #[test]
    fn ipv6_over_ipv4_tunnel_mtu_is_too_big_with_path_mtu_less_20() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner6(1481 - 40, 64, 0));
        assert_eq!(
            encapsulate_6in4(&mut p, &ends4(), &no_limit(), 0),
            Err(TunnelError::TooBig { mtu: 1480 })
        );
        let mut p = packet(&pool, &inner6(1480 - 40, 64, 0));
        assert!(encapsulate_6in4(&mut p, &ends4(), &no_limit(), 0).is_ok());
    }

    #[test]
    fn small_ipv4_path_clears_df_and_asks_for_ipv4_fragmentation_up_to_1280() {
        let pool = MemPool::new(4);
        let s = TunnelSettings {
            path_mtu: 1000,
            ..no_limit()
        };
        let mut p = packet(&pool, &inner6(1281 - 40, 64, 0));
        assert_eq!(
            encapsulate_6in4(&mut p, &ends4(), &s, 0),
            Err(TunnelError::TooBig { mtu: 1280 })
        );
        let mut p = packet(&pool, &inner6(1280 - 40, 64, 0));
        assert_eq!(
            encapsulate_6in4(&mut p, &ends4(), &s, 0),
            Ok(Encapsulated::Fragment { mtu: 1000 })
        );
        assert!(!Ipv4Packet::new_checked(p.data()).unwrap().dont_frag());
        let mut p = packet(&pool, &inner6(100, 64, 0));
        assert_eq!(
            encapsulate_6in4(&mut p, &ends4(), &s, 0),
            Ok(Encapsulated::Ready)
        );
        assert!(!Ipv4Packet::new_checked(p.data()).unwrap().dont_frag());
    }

    #[test]
    fn ipv6_in_ipv4_decapsulation_checks_the_outer_header() {
        let pool = MemPool::new(4);
        let mut p = packet(&pool, &inner6(8, 64, 0));
        encapsulate_6in4(&mut p, &ends4(), &no_limit(), 0).unwrap();
        let tunnelled = p.data().to_vec();
        assert_eq!(
            decapsulate_6in4(&mut p, |_| false, 0),
            Err(TunnelError::NotOurs)
        );
        assert_eq!(
            decapsulate_6in4(&mut p, ours4, DEFAULT_NESTING_LIMIT),
            Err(TunnelError::NestingLimit)
        );
        let mut gre = tunnelled.clone();
        gre[9] = 47;
        Ipv4Packet::new_unchecked(&mut gre[..]).fill_checksum();
        let mut q = packet(&pool, &gre);
        assert_eq!(
            decapsulate_6in4(&mut q, ours4, 0),
            Err(TunnelError::WrongProtocol)
        );
        let mut fragment = tunnelled.clone();
        fragment[6] = 0x20;
        Ipv4Packet::new_unchecked(&mut fragment[..]).fill_checksum();
        let mut q = packet(&pool, &fragment);
        assert_eq!(
            decapsulate_6in4(&mut q, ours4, 0),
            Err(TunnelError::Malformed(wire::Error::Unsupported))
        );
        let mut bad = tunnelled.clone();
        bad[20] = 0x40;
        Ipv4Packet::new_unchecked(&mut bad[..]).fill_checksum();
        let mut q = packet(&pool, &bad);
        assert_eq!(
            decapsulate_6in4(&mut q, ours4, 0),
            Err(TunnelError::Malformed(wire::Error::BadVersion))
        );
        assert_eq!(
            p.data(),
            &tunnelled[..],
            "refused packets are left as they were"
        );
    }

    proptest! {
        #[test]
        fn ipv4_in_ipv6_round_trip_returns_the_inner_packet(
            body in 0usize..1400, ttl in 2u8..=255, tos in any::<u8>(), df in any::<bool>(),
            limit in proptest::option::of(any::<u8>()), outer_ecn in 0u8..4,
        ) {
            let pool = MemPool::new(2);
            let original = inner4(body, ttl, tos, df);
            let mut p = packet(&pool, &original);
            let s = TunnelSettings { encapsulation_limit: limit, ..TunnelSettings::default() };
            encapsulate_4in6(&mut p, &ends6(), &s, 0).unwrap();
            let outer = Ipv6Packet::new_checked(p.data()).unwrap();
            prop_assert_eq!(outer.ecn(), tos & 3);
            let tc = (outer.traffic_class() & !3) | outer_ecn;
            Ipv6Packet::new_unchecked(p.data_mut()).set_traffic_class(tc);
            let r = decapsulate_4in6(&mut p, ours6, 0);
            let mut want = original.clone();
            match ecn::decapsulate(tos, outer_ecn) {
                ecn::Decapsulated::Forward(e) => {
                    prop_assert!(r.is_ok());
                    let mut w = Ipv4Packet::new_unchecked(&mut want[..]);
                    w.decrement_ttl();
                    w.set_dscp_ecn(tos >> 2, e);
                    prop_assert_eq!(p.data(), &want[..]);
                }
                ecn::Decapsulated::Drop => prop_assert_eq!(r, Err(TunnelError::EcnDrop)),
            }
        }

        #[test]
        fn ipv6_in_ipv4_round_trip_returns_the_inner_packet(
            body in 0usize..1400, hop_limit in 2u8..=255, tc in any::<u8>(),
            outer_ecn in 0u8..4, ident in any::<u16>(),
        ) {
            let pool = MemPool::new(2);
            let original = inner6(body, hop_limit, tc);
            let mut p = packet(&pool, &original);
            encapsulate_6in4(&mut p, &ends4(), &TunnelSettings::default(), ident).unwrap();
            let mut outer = Ipv4Packet::new_checked(p.data_mut()).unwrap();
            prop_assert_eq!(outer.ecn(), tc & 3);
            let dscp = outer.dscp();
            outer.set_dscp_ecn(dscp, outer_ecn);
            let r = decapsulate_6in4(&mut p, ours4, 0);
            let mut want = original.clone();
            want[7] = hop_limit - 1;
            match ecn::decapsulate(tc, outer_ecn) {
                ecn::Decapsulated::Forward(e) => {
                    prop_assert!(r.is_ok());
                    Ipv6Packet::new_unchecked(&mut want[..]).set_traffic_class((tc & !3) | e);
                    prop_assert_eq!(p.data(), &want[..]);
                }
                ecn::Decapsulated::Drop => prop_assert_eq!(r, Err(TunnelError::EcnDrop)),
            }
        }

        #[test]
        fn ipv4_in_ipv6_fragments_fit_the_mtu_and_reassemble(
            body in 0usize..1980, limit in proptest::option::of(any::<u8>()),
            mtu in 96u16..1500, identification in any::<u32>(),
        ) {
            let pool = MemPool::new(4);
            let mut p = packet(&pool, &inner4(body, 64, 0, false));
            let s = TunnelSettings { path_mtu: mtu, encapsulation_limit: limit, ..TunnelSettings::default() };
            let fit = encapsulate_4in6(&mut p, &ends6(), &s, 0).unwrap();
            let whole = p.data().to_vec();
            let fragments = fragment_all_v6(&pool, p, mtu, identification);
            prop_assert_eq!(fit == Encapsulated::Ready, fragments.len() == 1);
            if fragments.len() > 1 {
                prop_assert!(fragments.iter().all(|f| f.len() <= usize::from(mtu)));
                prop_assert_eq!(reassemble_v6(&fragments), whole);
            }
        }

        #[test]
        fn decapsulation_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..200), nesting in any::<u8>(),
            shape in 0u8..3,
        ) {
            let pool = MemPool::new(2);
            let mut bytes = bytes;
            if bytes.len() >= 40 {
                match shape {
                    0 => {
                        bytes[0] = 0x60;
                        let plen = (bytes.len() - 40) as u16;
                        bytes[4..6].copy_from_slice(&plen.to_be_bytes());
                        bytes[6] = 4;
                    }
                    1 => {
                        bytes[0] = 0x45;
                        let len = bytes.len() as u16;
                        bytes[2..4].copy_from_slice(&len.to_be_bytes());
                        bytes[9] = 41;
                        Ipv4Packet::new_unchecked(&mut bytes[..]).fill_checksum();
                    }
                    _ => {}
                }
            }
            let mut p = packet(&pool, &bytes);
            let _ = decapsulate_4in6(&mut p, |_| true, nesting);
            let _ = decapsulate_6in4(&mut p, |_| true, nesting);
            let mut p = packet(&pool, &bytes);
            let _ = encapsulate_4in6(&mut p, &ends6(), &TunnelSettings::default(), 0);
            let _ = encapsulate_6in4(&mut p, &ends4(), &TunnelSettings::default(), 0);
        }
    }
}
