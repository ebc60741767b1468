//! Generic Routing Encapsulation over IPv4, RFC 2784: an outer IPv4 header, a 4-byte GRE
//! header whose Protocol Type names the payload (IPv4 0x0800 or IPv6 0x86dd, RFC 2784
//! §2.4), then the unchanged inner packet. The outer header follows RFC 2003 §3.1 as for
//! [`super::ipip`]; an IPv6 payload follows RFC 4213 §3.2 for the tunnel MTU.

use core::net::Ipv4Addr;

use super::ipip::{self, InnerFields};
use super::{ecn, Encapsulated, Endpoints4, Result, TunnelError, TunnelSettings};
use crate::port::PacketBuf;
use crate::wire::checksum::ChecksumMode;
use crate::wire::ethernet::EtherType;
use crate::wire::gre::{self, GrePacket, GreRepr};
use crate::wire::ipv4::{self, IpProtocol};
use crate::wire::ipv6::{self, Ipv6Packet};
use crate::wire::Error;

/// Bytes the outer IPv4 and GRE headers add. RFC 2784 §2.
pub const OVERHEAD: usize = ipv4::HEADER_LEN + gre::BASE_HEADER_LEN;

/// The smallest MTU an IPv6 link may have; below it the IPv4 outer packet is fragmented
/// instead of sending Packet Too Big. RFC 8200 §5; RFC 4213 §3.2.
pub const IPV6_MIN_MTU: u16 = 1280;

/// Where a decapsulated packet came from and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decapsulated {
    /// Outer source: the tunnel entry point.
    pub entry: Ipv4Addr,
    /// Outer destination: the address of ours the tunnel ended at.
    pub exit: Ipv4Addr,
    /// The inner packet's protocol type (IPv4 or IPv6). RFC 2784 §2.4.
    pub protocol_type: EtherType,
    /// The RFC 2890 Key, if the entry point sent one.
    pub key: Option<u32>,
}

/// Checks and forwards an inner IPv6 packet: hop limit (RFC 8200 §3), tunnel MTU with
/// Packet Too Big down to 1280 bytes and outer fragmentation below (RFC 4213 §3.2).
fn prepare_inner_v6<P: PacketBuf>(
    packet: &mut P,
    settings: &TunnelSettings,
) -> Result<(InnerFields, Encapsulated)> {
    let inner = Ipv6Packet::new_checked(packet.data())?;
    if inner.hop_limit() <= 1 {
        return Err(TunnelError::TtlExpired);
    }
    let len = ipv6::HEADER_LEN + usize::from(inner.payload_len());
    let fields = InnerFields {
        dscp: inner.dscp(),
        ecn: inner.ecn(),
        dont_frag: false,
        len,
    };
    let inner_mtu = usize::from(settings.path_mtu).saturating_sub(OVERHEAD);
    let outcome = match ipip::mtu_outcome(len + OVERHEAD, OVERHEAD, false, settings)? {
        Encapsulated::Fragment { .. } if inner_mtu >= usize::from(IPV6_MIN_MTU) => {
            return Err(TunnelError::TooBig {
                mtu: u16::try_from(inner_mtu).unwrap_or(u16::MAX),
            })
        }
        o => o,
    };
    let padding = packet.data().len() - len;
    packet.trim(padding)?;
    Ipv6Packet::new_unchecked(packet.data_mut()).decrement_hop_limit();
    Ok((fields, outcome))
}

/// Encapsulates the IPv4 or IPv6 packet at the start of `packet` (told apart by its
/// version) in GRE over IPv4 from `ends.entry` to `ends.exit`, with outer Identification
/// `ident`. No checksum, key or sequence number. On [`Encapsulated::Fragment`] split the
/// outer packet with [`ipip::fragment_outer`]. RFC 2784 §2; RFC 2003 §3.1, §5.1.
pub fn encapsulate<P: PacketBuf>(
    packet: &mut P,
    ends: Endpoints4,
    settings: &TunnelSettings,
    ident: u16,
) -> Result<Encapsulated> {
    let version = packet.data().first().map(|b| b >> 4);
    let (inner, outcome, protocol_type) = match version {
        Some(4) => {
            let (inner, outcome) = ipip::prepare_inner(packet, ends, settings, OVERHEAD)?;
            (inner, outcome, EtherType::IPV4)
        }
        Some(6) => {
            let (inner, outcome) = prepare_inner_v6(packet, settings)?;
            (inner, outcome, EtherType::IPV6)
        }
        Some(_) => return Err(Error::BadVersion.into()),
        None => return Err(Error::Truncated.into()),
    };
    let gre = GreRepr {
        protocol_type,
        checksum_present: false,
        key: None,
        sequence_number: None,
        payload_len: inner.len,
    };
    let data = packet.prepend(gre.header_len())?;
    let gre_bytes = data
        .get_mut(..gre.buffer_len())
        .ok_or(TunnelError::NoRoom)?;
    gre.emit(&mut GrePacket::new_unchecked(gre_bytes));
    let repr = ipip::outer_repr(
        ends,
        settings,
        ident,
        IpProtocol::GRE,
        &inner,
        gre.buffer_len(),
    );
    ipip::emit_outer(packet, &repr)?;
    Ok(outcome)
}

/// Checks the inner IPv6 packet at the start of `inner` and rewrites its ECN field from
/// the outer one; returns its length. A hop limit of 0 is `TtlExpired` (discarded, as
/// RFC 2003 §3.1 says of an IPv4 inner TTL). RFC 6040 §4.2.
fn decapsulate_inner_v6(inner: &mut [u8], outer_ecn: u8) -> Result<usize> {
    let mut packet = Ipv6Packet::new_checked(inner)?;
    if packet.hop_limit() == 0 {
        return Err(TunnelError::TtlExpired);
    }
    let len = ipv6::HEADER_LEN + usize::from(packet.payload_len());
    match ecn::decapsulate(packet.ecn(), outer_ecn) {
        ecn::Decapsulated::Drop => Err(TunnelError::EcnDrop),
        ecn::Decapsulated::Forward(e) => {
            let tc = packet.traffic_class();
            packet.set_traffic_class((tc & !0b11) | e);
            Ok(len)
        }
    }
}

/// Decapsulates a GRE packet addressed to one of `ours`, leaving the inner packet. Same as
/// [`decapsulate_nested`] at depth 0. RFC 2784 §2.
pub fn decapsulate<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(Ipv4Addr) -> bool,
) -> Result<Decapsulated> {
    decapsulate_nested(packet, ours, 0)
}

/// Decapsulates a GRE packet that has already had `depth` tunnel headers stripped (at
/// [`super::DEFAULT_NESTING_LIMIT`]: `NestingLimit`). The GRE checksum is verified when
/// present (RFC 2784 §2.5); a payload other than IPv4 or IPv6 is `Unsupported`. The inner
/// ECN field is rewritten per RFC 6040 §4.2. RFC 2784 §2.
pub fn decapsulate_nested<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(Ipv4Addr) -> bool,
    depth: u8,
) -> Result<Decapsulated> {
    let outer = ipip::check_outer(packet.data(), ours, IpProtocol::GRE, depth)?;
    let gre_bytes = packet
        .data_mut()
        .get_mut(outer.header_len..outer.total_len)
        .ok_or(Error::Truncated)?;
    let gre = GreRepr::parse(&GrePacket::new_checked(&*gre_bytes)?, ChecksumMode::Verify)?;
    let inner = gre_bytes
        .get_mut(gre.header_len()..)
        .ok_or(Error::Truncated)?;
    let inner_len = match gre.protocol_type {
        EtherType::IPV4 => ipip::decapsulate_inner(inner, outer.ecn)?,
        EtherType::IPV6 => decapsulate_inner_v6(inner, outer.ecn)?,
        _ => return Err(Error::Unsupported.into()),
    };
    ipip::strip(packet, outer.header_len + gre.header_len(), inner_len)?;
    Ok(Decapsulated {
        entry: outer.src,
        exit: outer.dst,
        protocol_type: gre.protocol_type,
        key: gre.key,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::tunnel::ecn::codepoint::*;
    use crate::tunnel::DEFAULT_NESTING_LIMIT;
    use crate::wire::ipv4::Ipv4Packet;
    use proptest::prelude::*;

    fn settings() -> TunnelSettings {
        TunnelSettings::default()
    }

    fn ours(a: Ipv4Addr) -> bool {
        a == CARE_OF
    }

    fn inner_v6(hop_limit: u8, tc: u8, payload_len: usize) -> Vec<u8> {
        let mut b = vec![0u8; 40 + payload_len];
        b[0] = 0x60 | (tc >> 4);
        b[1] = tc << 4;
        b[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
        b[6] = 59;
        b[7] = hop_limit;
        b[8] = 0x20;
        b[24] = 0x20;
        b[39] = 1;
        for (i, x) in b.iter_mut().enumerate().skip(40) {
            *x = i as u8;
        }
        b
    }

    #[test]
    fn ipv4_payload_gets_protocol_type_0800_behind_an_rfc2003_outer_header() {
        let pool = pool();
        let original = inner(64, 12, ECT1, true, 20);
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate(&mut p, ends(), &settings(), 5),
            Ok(Encapsulated::Ready)
        );
        let outer = parse(p.data());
        assert_eq!(outer.protocol, IpProtocol::GRE);
        assert_eq!((outer.ttl, outer.dscp, outer.ecn), (64, 12, ECT1));
        assert_eq!((outer.ident, outer.dont_frag), (5, true));
        assert_eq!(&p.data()[20..24], &[0, 0, 0x08, 0x00]);
        assert_eq!(parse(&p.data()[24..]).ttl, 63);
    }

    #[test]
    fn ipv6_payload_gets_protocol_type_86dd_and_its_hop_limit_decremented() {
        let pool = pool();
        let original = inner_v6(10, 0b1010_0010, 16);
        let mut p = packet(&pool, &original);
        encapsulate(&mut p, ends(), &settings(), 5).unwrap();
        let outer = parse(p.data());
        assert_eq!(
            (outer.dscp, outer.ecn, outer.dont_frag),
            (0b101000, ECT0, false)
        );
        assert_eq!(&p.data()[20..24], &[0, 0, 0x86, 0xdd]);
        assert_eq!(p.data()[24 + 7], 9);
        let d = decapsulate(&mut p, ours).unwrap();
        assert_eq!(d.protocol_type, EtherType::IPV6);
        let mut expected = original;
        expected[7] = 9;
        assert_eq!(p.data(), &expected[..]);
    }

    #[test]
    fn ipv6_hop_limit_of_one_expires() {
        let pool = pool();
        let mut p = packet(&pool, &inner_v6(1, 0, 8));
        assert_eq!(
            encapsulate(&mut p, ends(), &settings(), 1),
            Err(TunnelError::TtlExpired)
        );
    }

    #[test]
    fn ipv6_too_big_is_packet_too_big_above_1280() {
        let pool = pool();
        let mut p = packet(&pool, &inner_v6(64, 0, 1460));
        assert_eq!(
            encapsulate(&mut p, ends(), &settings(), 1),
            Err(TunnelError::TooBig { mtu: 1476 })
        );
    }

    #[test]
    fn ipv4_too_big_with_df_and_to_exit_point_are_refused() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, 0, true, 1460));
        assert_eq!(
            encapsulate(&mut p, ends(), &settings(), 1),
            Err(TunnelError::TooBig { mtu: 1476 })
        );
        let e = Endpoints4 {
            entry: HOME_AGENT,
            exit: HOME_ADDRESS,
        };
        let mut p = packet(&pool, &inner(64, 0, 0, false, 8));
        assert_eq!(
            encapsulate(&mut p, e, &settings(), 1),
            Err(TunnelError::ToTunnelEndpoint)
        );
    }

    #[test]
    fn ce_on_the_outer_header_drops_a_not_ect_inner_and_marks_an_ect_one() {
        let pool = pool();
        for (inner_ecn, want) in [(NOT_ECT, Err(TunnelError::EcnDrop)), (ECT0, Ok(CE))] {
            let mut p = packet(&pool, &inner(64, 0, inner_ecn, false, 8));
            encapsulate(&mut p, ends(), &settings(), 1).unwrap();
            let mut outer = Ipv4Packet::new_unchecked(p.data_mut());
            outer.set_dscp_ecn(0, CE);
            let got = decapsulate(&mut p, ours).map(|_| parse(p.data()).ecn);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn decapsulation_refuses_not_ours_wrong_protocol_and_nesting() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, 0, false, 8));
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        assert_eq!(decapsulate(&mut p, |_| false), Err(TunnelError::NotOurs));
        assert_eq!(
            decapsulate_nested(&mut p, ours, DEFAULT_NESTING_LIMIT),
            Err(TunnelError::NestingLimit)
        );
        let mut ipip = packet(&pool, &inner(64, 0, 0, false, 8));
        crate::tunnel::ipip::encapsulate(&mut ipip, ends(), &settings(), 1).unwrap();
        assert_eq!(
            decapsulate(&mut ipip, ours),
            Err(TunnelError::WrongProtocol)
        );
    }

    #[test]
    fn unknown_protocol_type_is_unsupported() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, 0, false, 8));
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        p.data_mut()[22..24].copy_from_slice(&[0x88, 0x47]);
        assert_eq!(
            decapsulate(&mut p, ours),
            Err(TunnelError::Malformed(Error::Unsupported))
        );
    }

    proptest! {
        #[test]
        fn encapsulate_then_decapsulate_gives_the_inner_packet_back(
            ttl in 2u8.., dscp in 0u8..64, e in 0u8..4, df: bool, len in 0usize..1400, ident: u16,
        ) {
            let pool = pool();
            let original = inner(ttl, dscp, e, df, len);
            let mut p = packet(&pool, &original);
            encapsulate(&mut p, ends(), &settings(), ident).unwrap();
            let d = decapsulate(&mut p, ours).unwrap();
            prop_assert_eq!(d.protocol_type, EtherType::IPV4);
            let mut expected = original.clone();
            Ipv4Packet::new_unchecked(&mut expected[..]).decrement_ttl();
            prop_assert_eq!(p.data(), &expected[..]);
        }

        #[test]
        fn decapsulate_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let pool = pool();
            let mut p = packet(&pool, &bytes);
            let _ = decapsulate(&mut p, |_| true);
        }
            #[test]
        fn decapsulate_never_panics_behind_valid_outer_and_gre_headers(
            v6: bool, mut payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            fix_ipv4_checksum(&mut payload);
            let mut gre = vec![0, 0, 0x08, 0x00];
            if v6 {
                gre[2..4].copy_from_slice(&[0x86, 0xdd]);
            }
            gre.extend_from_slice(&payload);
            let pool = pool();
            let mut p = packet(&pool, &outer_over(IpProtocol::GRE, CARE_OF, &gre));
            let _ = decapsulate(&mut p, ours);
        }
    }
}
