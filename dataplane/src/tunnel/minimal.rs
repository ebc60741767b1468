//! Minimal Encapsulation within IP, RFC 2004: no second IP header; the original header is
//! modified to become the outer one (protocol 55, destination the exit point, source the
//! encapsulator) and a minimal forwarding header holding what it replaced is inserted
//! between it and the unchanged payload. Decapsulation puts the fields back.

use core::net::Ipv4Addr;

use super::ipip;
use super::{Encapsulated, Endpoints4, Result, TunnelError, TunnelSettings};
use crate::port::PacketBuf;
use crate::wire::checksum::ChecksumMode;
use crate::wire::ipv4::{IpProtocol, Ipv4Packet};
use crate::wire::minimal::{self, MinimalPacket, MinimalRepr};
use crate::wire::Error;

/// Largest minimal forwarding header: with the original source. RFC 2004 §3.
pub const MAX_OVERHEAD: usize = minimal::HEADER_WITH_SOURCE_LEN;

/// What decapsulation found: the same as for IPv4-in-IPv4.
pub use super::ipip::Decapsulated;

/// Encapsulates the IPv4 packet at the start of `packet` with a minimal forwarding header,
/// from `ends.entry` to `ends.exit`. The original source goes into the forwarding header
/// (S set) only when it is not `ends.entry`. A fragment is refused with `UseIpInIp`
/// (RFC 2004 §3: the forwarding header has no room for fragment information). The TTL is
/// decremented once as by forwarding and otherwise kept, as are TOS, ECN, Identification
/// and DF, since there is only one IP header (`settings.outer_ttl` is unused); the tunnel
/// MTU applies as for [`ipip`]. RFC 2004 §3.
pub fn encapsulate<P: PacketBuf>(
    packet: &mut P,
    ends: Endpoints4,
    settings: &TunnelSettings,
) -> Result<Encapsulated> {
    let original = Ipv4Packet::new_checked(packet.data())?;
    if original.more_frags() || original.frag_offset() != 0 {
        return Err(TunnelError::UseIpInIp);
    }
    let (protocol, src, dst) = (
        original.protocol(),
        original.src_addr(),
        original.dst_addr(),
    );
    let header_len = original.header_len();
    let forwarding = MinimalRepr {
        protocol,
        dst_addr: dst,
        src_addr: (src != ends.entry).then_some(src),
        payload_len: 0,
    };
    let added = forwarding.header_len();
    let (inner, outcome) = ipip::prepare_inner(packet, ends, settings, added)?;

    let data = packet.prepend(added)?;
    let ip_end = added + header_len;
    if data.len() < ip_end {
        return Err(Error::Truncated.into());
    }
    data.copy_within(added..ip_end, 0);
    let forwarding_bytes = data.get_mut(header_len..ip_end).ok_or(Error::Truncated)?;
    forwarding.emit(&mut MinimalPacket::new_unchecked(forwarding_bytes));
    let mut ip = Ipv4Packet::new_unchecked(data);
    ip.set_protocol(IpProtocol::MINIMAL_ENCAP);
    ip.set_src_addr(ends.entry);
    ip.set_dst_addr(ends.exit);
    ip.set_total_len((inner.len + added) as u16);
    ip.fill_checksum();
    Ok(outcome)
}

/// Decapsulates a minimally encapsulated packet addressed to one of `ours`, restoring the
/// original header. Same as [`decapsulate_nested`] at depth 0. RFC 2004 §3.
pub fn decapsulate<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(Ipv4Addr) -> bool,
) -> Result<Decapsulated> {
    decapsulate_nested(packet, ours, 0)
}

/// Decapsulates a minimally encapsulated packet that has already had `depth` tunnel
/// headers stripped (at [`super::DEFAULT_NESTING_LIMIT`]: `NestingLimit`): the forwarding
/// header's checksum is verified, its protocol, destination and (if S) source are put back
/// into the IP header, Total Length shrinks by its size and the header checksum is
/// recomputed. RFC 2004 §3.
pub fn decapsulate_nested<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(Ipv4Addr) -> bool,
    depth: u8,
) -> Result<Decapsulated> {
    let outer = ipip::check_outer(packet.data(), ours, IpProtocol::MINIMAL_ENCAP, depth)?;
    let forwarding_bytes = packet
        .data()
        .get(outer.header_len..outer.total_len)
        .ok_or(Error::Truncated)?;
    let forwarding = MinimalRepr::parse(
        &MinimalPacket::new_checked(forwarding_bytes)?,
        ChecksumMode::Verify,
    )?;
    let removed = forwarding.header_len();
    let original_len = outer.total_len - removed;

    let data = packet.data_mut();
    let mut ip = Ipv4Packet::new_unchecked(&mut *data);
    ip.set_protocol(forwarding.protocol);
    ip.set_dst_addr(forwarding.dst_addr);
    if let Some(src) = forwarding.src_addr {
        ip.set_src_addr(src);
    }
    ip.set_total_len(original_len as u16);
    ip.fill_checksum();
    data.copy_within(..outer.header_len, removed);
    ipip::strip(packet, removed, original_len)?;
    Ok(Decapsulated {
        entry: outer.src,
        exit: outer.dst,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::tunnel::DEFAULT_NESTING_LIMIT;
    use proptest::prelude::*;

    fn settings() -> TunnelSettings {
        TunnelSettings::default()
    }

    fn ours(a: Ipv4Addr) -> bool {
        a == CARE_OF
    }

    fn ttl_decremented(original: &[u8]) -> Vec<u8> {
        let mut expected = original.to_vec();
        Ipv4Packet::new_unchecked(&mut expected[..]).decrement_ttl();
        expected
    }

    #[test]
    fn header_becomes_the_outer_one_with_the_original_source_in_the_forwarding_header() {
        let pool = pool();
        let original = inner(64, 3, 1, true, 30);
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate(&mut p, ends(), &settings()),
            Ok(Encapsulated::Ready)
        );
        let ip = parse(p.data());
        assert_eq!(
            (ip.protocol, ip.src_addr, ip.dst_addr),
            (IpProtocol::MINIMAL_ENCAP, HOME_AGENT, CARE_OF)
        );
        assert_eq!(
            (ip.ttl, ip.dscp, ip.ecn, ip.ident, ip.dont_frag),
            (63, 3, 1, 0x4321, true)
        );
        assert_eq!(ip.payload_len, 12 + 30);
        let fwd = MinimalPacket::new_checked(&p.data()[20..]).unwrap();
        assert!(fwd.verify_checksum());
        let repr = MinimalRepr::parse(&fwd, ChecksumMode::Verify).unwrap();
        assert_eq!(repr.protocol, IpProtocol::UDP);
        assert_eq!(repr.dst_addr, HOME_ADDRESS);
        assert_eq!(repr.src_addr, Some(CORRESPONDENT));
        assert_eq!(&p.data()[32..], &original[20..], "payload unchanged");
    }

    #[test]
    fn encapsulator_that_is_the_original_source_sends_no_source_address() {
        let pool = pool();
        let e = Endpoints4 {
            entry: CORRESPONDENT,
            exit: CARE_OF,
        };
        let original = inner(64, 0, 0, false, 10);
        let mut p = packet(&pool, &original);
        encapsulate(&mut p, e, &settings()).unwrap();
        let ip = parse(p.data());
        assert_eq!((ip.src_addr, ip.payload_len), (CORRESPONDENT, 8 + 10));
        let fwd = MinimalPacket::new_checked(&p.data()[20..]).unwrap();
        assert!(!fwd.source_present());
        decapsulate(&mut p, ours).unwrap();
        assert_eq!(p.data(), &ttl_decremented(&original)[..]);
    }

    #[test]
    fn original_header_with_options_moves_whole_and_comes_back() {
        let pool = pool();
        let plain = parse(&inner(64, 0, 0, false, 12));
        let repr = crate::wire::ipv4::Ipv4Repr {
            options: crate::wire::ipv4::Ipv4Options::new(&[0x94, 0x04, 0, 0]).unwrap(),
            ..plain
        };
        let mut original = vec![0x5a; repr.buffer_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut original[..]));
        let mut p = packet(&pool, &original);
        encapsulate(&mut p, ends(), &settings()).unwrap();
        let outer = parse(p.data());
        assert_eq!(outer.options.as_slice(), &[0x94, 0x04, 0, 0]);
        assert!(MinimalPacket::new_checked(&p.data()[24..])
            .unwrap()
            .verify_checksum());
        decapsulate(&mut p, ours).unwrap();
        assert_eq!(p.data(), &ttl_decremented(&original)[..]);
    }

    #[test]
    fn fragments_are_sent_back_to_ip_in_ip() {
        let pool = pool();
        let mut original = inner(64, 0, 0, false, 16);
        let mut ip = Ipv4Packet::new_unchecked(&mut original[..]);
        ip.set_more_frags(true);
        ip.fill_checksum();
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate(&mut p, ends(), &settings()),
            Err(TunnelError::UseIpInIp)
        );
        let mut later = inner(64, 0, 0, false, 16);
        let mut ip = Ipv4Packet::new_unchecked(&mut later[..]);
        ip.set_frag_offset(3);
        ip.fill_checksum();
        let mut p = packet(&pool, &later);
        assert_eq!(
            encapsulate(&mut p, ends(), &settings()),
            Err(TunnelError::UseIpInIp)
        );
    }

    #[test]
    fn ttl_exit_point_and_mtu_rules_apply() {
        let pool = pool();
        let mut p = packet(&pool, &inner(1, 0, 0, false, 8));
        assert_eq!(
            encapsulate(&mut p, ends(), &settings()),
            Err(TunnelError::TtlExpired)
        );
        let e = Endpoints4 {
            entry: HOME_AGENT,
            exit: HOME_ADDRESS,
        };
        let mut p = packet(&pool, &inner(64, 0, 0, false, 8));
        assert_eq!(
            encapsulate(&mut p, e, &settings()),
            Err(TunnelError::ToTunnelEndpoint)
        );
        let mut p = packet(&pool, &inner(64, 0, 0, true, 1480));
        assert_eq!(
            encapsulate(&mut p, ends(), &settings()),
            Err(TunnelError::TooBig { mtu: 1488 })
        );
        let mut p = packet(&pool, &inner(64, 0, 0, false, 1480));
        assert_eq!(
            encapsulate(&mut p, ends(), &settings()),
            Ok(Encapsulated::Fragment { mtu: 1500 })
        );
    }

    #[test]
    fn decapsulation_refuses_bad_checksum_not_ours_wrong_protocol_and_nesting() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, 0, false, 8));
        encapsulate(&mut p, ends(), &settings()).unwrap();
        assert_eq!(decapsulate(&mut p, |_| false), Err(TunnelError::NotOurs));
        assert_eq!(
            decapsulate_nested(&mut p, ours, DEFAULT_NESTING_LIMIT),
            Err(TunnelError::NestingLimit)
        );
        p.data_mut()[22] ^= 1;
        assert_eq!(
            decapsulate(&mut p, ours),
            Err(TunnelError::Malformed(Error::BadChecksum))
        );
        let mut udp = packet(&pool, &inner(64, 0, 0, false, 8));
        assert_eq!(
            decapsulate(&mut udp, |_| true),
            Err(TunnelError::WrongProtocol)
        );
    }

    proptest! {
        #[test]
        fn encapsulate_then_decapsulate_gives_the_inner_packet_back(
            ttl in 2u8.., dscp in 0u8..64, e in 0u8..4, df: bool, len in 0usize..1400,
            own_source: bool,
        ) {
            let pool = pool();
            let original = inner(ttl, dscp, e, df, len);
            let mut p = packet(&pool, &original);
            let ends = if own_source {
                Endpoints4 { entry: CORRESPONDENT, exit: CARE_OF }
            } else {
                ends()
            };
            encapsulate(&mut p, ends, &settings()).unwrap();
            decapsulate(&mut p, ours).unwrap();
            prop_assert_eq!(p.data(), &ttl_decremented(&original)[..]);
        }

        #[test]
        fn decapsulate_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let pool = pool();
            let mut p = packet(&pool, &bytes);
            let _ = decapsulate(&mut p, |_| true);
        }
            #[test]
        fn decapsulate_never_panics_behind_a_valid_outer_header(
            mut payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            if payload.len() >= 12 {
                payload[1] &= 0x80;
                let len = if payload[1] != 0 { 12 } else { 8 };
                payload[2..4].fill(0);
                let c = crate::wire::checksum::checksum(&payload[..len]);
                payload[2..4].copy_from_slice(&c.to_be_bytes());
            }
            let pool = pool();
            let mut p = packet(&pool, &outer_over(IpProtocol::MINIMAL_ENCAP, CARE_OF, &payload));
            let _ = decapsulate(&mut p, ours);
        }
    }
}
