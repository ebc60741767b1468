#![no_main]
//! The IPv4 side of the wire layer on arbitrary bytes: the IPv4 header and its option
//! check, UDP over the IPv4 and IPv6 pseudo-headers, ICMPv4 (echo, errors, router
//! advertisement entries), each with `ChecksumMode::Verify` and `Ignore`. The input is
//! parsed as it is, then again with its checksum filled in so that `Verify` gets past it;
//! a UDP or ICMP payload of a valid IPv4 packet is parsed with that packet's addresses.
//! Every parsed repr must emit and parse back to itself, and the in-place TTL and DSCP/ECN
//! rewrites must keep a valid header checksum valid (RFC 1624).

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr, RouterAddresses};
use mipdp_dataplane::wire::ipv4::{check_options, IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::udp::{PseudoHeader, UdpPacket, UdpRepr};
use mipdp_dataplane::wire::Error;
use std::net::{Ipv4Addr, Ipv6Addr};

const V4: PseudoHeader = PseudoHeader::V4 {
    src: Ipv4Addr::new(192, 0, 2, 1),
    dst: Ipv4Addr::new(198, 51, 100, 2),
};
const V6: PseudoHeader = PseudoHeader::V6 {
    src: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
    dst: Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2),
};

fuzz_target!(|data: &[u8]| {
    let _ = check_options(data);
    let _ = Ipv4Options::new(data);
    ipv4(data);
    udp(data, &V4);
    udp(data, &V6);
    icmpv4(data);
    let entry_words = data.first().copied().unwrap_or(0);
    if let Ok(entries) = RouterAddresses::new(data.get(1..).unwrap_or(&[]), entry_words) {
        router_addresses(&entries);
    }
});

fn ipv4(data: &[u8]) {
    let Ok(packet) = Ipv4Packet::new_checked(data) else {
        return;
    };
    let _ = (
        packet.version(),
        packet.dscp(),
        packet.ecn(),
        packet.ident(),
        packet.dont_frag(),
        packet.more_frags(),
        packet.frag_offset(),
        packet.ttl(),
        packet.checksum(),
        packet.src_addr(),
        packet.dst_addr(),
        packet.options(),
        packet.verify_checksum(),
    );
    assert_eq!(
        packet.header_len() + packet.payload().len(),
        usize::from(packet.total_len())
    );

    let ignored = Ipv4Repr::parse(&packet, ChecksumMode::Ignore);
    let verified = Ipv4Repr::parse(&packet, ChecksumMode::Verify);
    if verified.is_ok() {
        assert_eq!(verified, ignored);
    }
    if ignored.is_err() {
        assert!(verified.is_err());
    }

    let mut fixed = data.to_vec();
    Ipv4Packet::new_unchecked(&mut fixed[..]).fill_checksum();
    let fixed_packet = Ipv4Packet::new_checked(&fixed[..]).expect("same lengths still check");
    assert!(fixed_packet.verify_checksum());
    assert_eq!(
        Ipv4Repr::parse(&fixed_packet, ChecksumMode::Verify),
        ignored,
        "only the checksum changed"
    );

    let Ok(repr) = ignored else {
        return;
    };
    assert_eq!(repr.header_len(), packet.header_len());
    let mut buf = vec![0u8; repr.buffer_len()];
    buf[repr.header_len()..].copy_from_slice(packet.payload());
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
    let again = Ipv4Packet::new_checked(&buf[..]).expect("an emitted header checks");
    assert_eq!(Ipv4Repr::parse(&again, ChecksumMode::Verify), Ok(repr));

    rewrites_keep_checksum(&fixed);

    let pseudo = PseudoHeader::V4 {
        src: repr.src_addr,
        dst: repr.dst_addr,
    };
    match repr.protocol {
        IpProtocol::UDP => udp(packet.payload(), &pseudo),
        IpProtocol::ICMP => icmpv4(packet.payload()),
        _ => {}
    }
}

/// RFC 1624: an incremental update of a valid checksum leaves it valid.
fn rewrites_keep_checksum(valid: &[u8]) {
    let mut buf = valid.to_vec();
    let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
    let ttl = packet.ttl();
    assert_eq!(packet.decrement_ttl(), ttl.saturating_sub(1));
    assert!(packet.verify_checksum(), "TTL decrement broke the checksum");
    let (dscp, ecn) = (packet.dscp(), packet.ecn());
    packet.set_dscp_ecn(dscp ^ 0x2a, ecn ^ 0b11);
    assert!(
        packet.verify_checksum(),
        "DSCP/ECN rewrite broke the checksum"
    );
    assert_eq!((packet.dscp(), packet.ecn()), (dscp ^ 0x2a, ecn ^ 0b11));
}

fn udp(data: &[u8], pseudo: &PseudoHeader) {
    let Ok(packet) = UdpPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.src_port(),
        packet.dst_port(),
        packet.is_empty(),
        packet.verify_checksum(pseudo),
    );
    assert_eq!(packet.payload().len() + 8, usize::from(packet.len()));

    let ignored = UdpRepr::parse(&packet, pseudo, ChecksumMode::Ignore);
    let verified = UdpRepr::parse(&packet, pseudo, ChecksumMode::Verify);
    if verified.is_ok() {
        assert_eq!(verified, ignored);
    }
    let over_v6 = matches!(pseudo, PseudoHeader::V6 { .. });
    if packet.checksum() == 0 && over_v6 {
        assert_eq!(
            ignored,
            Err(Error::BadChecksum),
            "RFC 8200 §8.1: zero is invalid"
        );
        assert_eq!(verified, Err(Error::BadChecksum));
    }

    let mut fixed = data.to_vec();
    UdpPacket::new_unchecked(&mut fixed[..]).fill_checksum(pseudo);
    let fixed_packet = UdpPacket::new_checked(&fixed[..]).expect("same lengths still check");
    assert_ne!(
        fixed_packet.checksum(),
        0,
        "a computed zero is sent as 0xffff"
    );
    let repr = UdpRepr::parse(&fixed_packet, pseudo, ChecksumMode::Verify)
        .expect("a filled checksum verifies");
    if let Ok(r) = ignored {
        assert_eq!(r, repr);
    }

    let mut buf = vec![0u8; repr.buffer_len()];
    buf[repr.header_len()..].copy_from_slice(packet.payload());
    repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), pseudo);
    let again = UdpPacket::new_checked(&buf[..]).expect("an emitted datagram checks");
    assert_eq!(
        UdpRepr::parse(&again, pseudo, ChecksumMode::Verify),
        Ok(repr)
    );
}

fn icmpv4(data: &[u8]) {
    let Ok(packet) = Icmpv4Packet::new_checked(data) else {
        return;
    };
    let _ = (
        packet.msg_type(),
        packet.msg_code(),
        packet.checksum(),
        packet.echo_ident(),
        packet.echo_seq_no(),
        packet.next_hop_mtu(),
        packet.num_addrs(),
        packet.addr_entry_size(),
        packet.lifetime(),
        packet.router_extensions(),
        packet.verify_checksum(),
        packet.payload(),
    );
    if let Ok(entries) = packet.router_addresses() {
        assert_eq!(entries.len(), usize::from(packet.num_addrs()));
        router_addresses(&entries);
    }

    let ignored = Icmpv4Repr::parse(&packet, ChecksumMode::Ignore);
    let verified = Icmpv4Repr::parse(&packet, ChecksumMode::Verify);
    if verified.is_ok() {
        assert_eq!(verified, ignored);
    }
    if ignored.is_err() {
        assert!(verified.is_err());
    }

    let mut fixed = data.to_vec();
    Icmpv4Packet::new_unchecked(&mut fixed[..]).fill_checksum();
    let fixed_packet = Icmpv4Packet::new_checked(&fixed[..]).expect("same length still checks");
    let fixed_repr = Icmpv4Repr::parse(&fixed_packet, ChecksumMode::Verify);
    // The repr borrows its data from the buffer it came from: compare what it says.
    assert_eq!(
        fixed_repr.map(|r| r.buffer_len()),
        ignored.map(|r| r.buffer_len())
    );
    assert_eq!(fixed_repr.err(), ignored.err());

    let Ok(repr) = ignored else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    let again = Icmpv4Packet::new_checked(&buf[..]).expect("an emitted message checks");
    assert_eq!(Icmpv4Repr::parse(&again, ChecksumMode::Verify), Ok(repr));
}

fn router_addresses(entries: &RouterAddresses<'_>) {
    let n = entries.iter().count();
    assert_eq!(n, entries.len());
    assert_eq!(entries.is_empty(), n == 0);
    assert!(entries.get(n).is_none());
    assert!(entries.get(usize::MAX).is_none());
}
