//! The GRE, minimal encapsulation and Mobile IPv4 parsers against packets built by scapy
//! (tests/vectors/gen_tunnel_mip4.py): every packet parses with the fields scapy put there,
//! and re-emitting the Reprs layer by layer gives the same bytes, checksums included.

use std::net::Ipv4Addr;

use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::ethernet::EtherType;
use mipdp_dataplane::wire::gre::{GrePacket, GreRepr};
use mipdp_dataplane::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr, RouterAdvertisementCode};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::minimal::{MinimalPacket, MinimalRepr};
use mipdp_dataplane::wire::mip4::{
    self, AgentAdvertisementFlags, AgentExtension, AgentExtensions, MessageType,
    RegistrationExtension, RegistrationExtensionType, RegistrationFlags, RegistrationReplyPacket,
    RegistrationReplyRepr, RegistrationRequestPacket, RegistrationRequestRepr, ReplyCode,
};
use mipdp_dataplane::wire::udp::{PseudoHeader, UdpPacket, UdpRepr};

const VECTORS: &str = include_str!("vectors/tunnel_mip4.txt");

const HOME_AGENT: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const HOME_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
const CARE_OF: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CORRESPONDENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
const IDENTIFICATION: u64 = 0xe7a1_b2c3_0000_0001;

fn vector(name: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no vector {name}"));
    let hex = line.split_whitespace().nth(1).unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn ipv4(packet: &[u8]) -> (Ipv4Repr, &[u8]) {
    let ip = Ipv4Packet::new_checked(packet).unwrap();
    let repr = Ipv4Repr::parse(&ip, ChecksumMode::Verify).unwrap();
    let header_len = repr.header_len();
    (repr, &packet[header_len..repr.buffer_len()])
}

fn udp_payload(packet: &[u8]) -> (Ipv4Repr, UdpRepr, &[u8]) {
    let (ip, l4) = ipv4(packet);
    assert_eq!(ip.protocol, IpProtocol::UDP);
    let pseudo = PseudoHeader::V4 {
        src: ip.src_addr,
        dst: ip.dst_addr,
    };
    let udp = UdpPacket::new_checked(l4).unwrap();
    let repr = UdpRepr::parse(&udp, &pseudo, ChecksumMode::Verify).unwrap();
    (ip, repr, &l4[8..repr.buffer_len()])
}

/// Parses every layer of an IPv4 packet and emits it again from the Reprs alone.
fn re_emit_ipv4(packet: &[u8]) -> Vec<u8> {
    let (ip, l4) = ipv4(packet);
    let mut out = vec![0u8; ip.buffer_len()];
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
    let payload = re_emit_l4(&ip, l4);
    out[ip.header_len()..].copy_from_slice(&payload);
    out
}

fn re_emit_l4(ip: &Ipv4Repr, l4: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; l4.len()];
    match ip.protocol {
        IpProtocol::GRE => {
            let gre = GrePacket::new_checked(l4).unwrap();
            let repr = GreRepr::parse(&gre, ChecksumMode::Verify).unwrap();
            assert_eq!(repr.protocol_type, EtherType::IPV4);
            out[repr.header_len()..].copy_from_slice(&re_emit_ipv4(gre.payload()));
            repr.emit(&mut GrePacket::new_unchecked(&mut out[..]));
        }
        IpProtocol::MINIMAL_ENCAP => {
            let minimal = MinimalPacket::new_checked(l4).unwrap();
            let repr = MinimalRepr::parse(&minimal, ChecksumMode::Verify).unwrap();
            let pseudo = PseudoHeader::V4 {
                src: repr.src_addr.unwrap_or(ip.src_addr),
                dst: repr.dst_addr,
            };
            let payload = re_emit_udp(minimal.payload(), &pseudo);
            out[repr.header_len()..].copy_from_slice(&payload);
            repr.emit(&mut MinimalPacket::new_unchecked(&mut out[..]));
        }
        IpProtocol::UDP => {
            let pseudo = PseudoHeader::V4 {
                src: ip.src_addr,
                dst: ip.dst_addr,
            };
            out.copy_from_slice(&re_emit_udp(l4, &pseudo));
        }
        IpProtocol::ICMP => out.copy_from_slice(&re_emit_icmp(l4)),
        other => panic!("unexpected protocol {other}"),
    }
    out
}

fn re_emit_udp(datagram: &[u8], pseudo: &PseudoHeader) -> Vec<u8> {
    let udp = UdpPacket::new_checked(datagram).unwrap();
    let repr = UdpRepr::parse(&udp, pseudo, ChecksumMode::Verify).unwrap();
    let mut out = vec![0u8; repr.buffer_len()];
    let payload = udp.payload();
    let body = if repr.dst_port == mip4::PORT {
        re_emit_registration(payload)
    } else {
        payload.to_vec()
    };
    out[8..].copy_from_slice(&body);
    repr.emit(&mut UdpPacket::new_unchecked(&mut out[..]), pseudo);
    out
}

fn re_emit_registration(message: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; message.len()];
    match MessageType(message[0]) {
        MessageType::REGISTRATION_REQUEST => {
            let p = RegistrationRequestPacket::new_checked(message).unwrap();
            let repr = RegistrationRequestRepr::parse(&p).unwrap();
            repr.emit(&mut RegistrationRequestPacket::new_unchecked(&mut out[..]));
        }
        MessageType::REGISTRATION_REPLY => {
            let p = RegistrationReplyPacket::new_checked(message).unwrap();
            let repr = RegistrationReplyRepr::parse(&p).unwrap();
            repr.emit(&mut RegistrationReplyPacket::new_unchecked(&mut out[..]));
        }
        other => panic!("unexpected message type {other:?}"),
    }
    out
}

fn re_emit_agent_extensions(extensions: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; extensions.len()];
    let mut at = 0;
    for ext in AgentExtensions::new(extensions) {
        let ext = ext.unwrap();
        ext.emit(&mut out[at..]).unwrap();
        at += ext.buffer_len();
    }
    assert_eq!(at, extensions.len());
    out
}

fn re_emit_icmp(message: &[u8]) -> Vec<u8> {
    let icmp = Icmpv4Packet::new_checked(message).unwrap();
    let repr = Icmpv4Repr::parse(&icmp, ChecksumMode::Verify).unwrap();
    let Icmpv4Repr::RouterAdvertisement {
        code,
        lifetime,
        addresses,
        extensions,
    } = repr
    else {
        panic!("unexpected ICMP message {repr:?}");
    };
    let extensions = re_emit_agent_extensions(extensions);
    let repr = Icmpv4Repr::RouterAdvertisement {
        code,
        lifetime,
        addresses,
        extensions: &extensions,
    };
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
    out
}

#[test]
fn every_vector_re_emits_byte_for_byte() {
    let mut count = 0;
    for line in VECTORS.lines().filter(|l| !l.trim().is_empty()) {
        let name = line.split_whitespace().next().unwrap();
        let packet = vector(name);
        assert_eq!(re_emit_ipv4(&packet), packet, "{name}");
        count += 1;
    }
    assert_eq!(count, 7);
}

#[test]
fn gre_with_checksum_key_and_sequence_number_fields() {
    let packet = vector("gre_checksum_key_sequence");
    let (ip, l4) = ipv4(&packet);
    assert_eq!(ip.protocol, IpProtocol::GRE);
    let gre = GrePacket::new_checked(l4).unwrap();
    assert!(gre.verify_checksum());
    let repr = GreRepr::parse(&gre, ChecksumMode::Verify).unwrap();
    assert!(repr.checksum_present);
    assert_eq!(repr.key, Some(0x0a01_0064));
    assert_eq!(repr.sequence_number, Some(7));
    assert_eq!(repr.header_len(), 16);
    let (inner, _) = ipv4(gre.payload());
    assert_eq!(
        (inner.src_addr, inner.dst_addr),
        (CORRESPONDENT, HOME_ADDRESS)
    );
}

#[test]
fn plain_gre_fields() {
    let packet = vector("gre_plain");
    let (_, l4) = ipv4(&packet);
    let gre = GrePacket::new_checked(l4).unwrap();
    let repr = GreRepr::parse(&gre, ChecksumMode::Verify).unwrap();
    assert_eq!(
        (repr.checksum_present, repr.key, repr.sequence_number),
        (false, None, None)
    );
    assert_eq!(repr.protocol_type, EtherType::IPV4);
    assert_eq!(repr.header_len(), 4);
}

#[test]
fn minimal_encapsulation_with_and_without_source() {
    for (name, src) in [
        ("minimal_without_source", None),
        ("minimal_with_source", Some(CORRESPONDENT)),
    ] {
        let packet = vector(name);
        let (ip, l4) = ipv4(&packet);
        assert_eq!(ip.protocol, IpProtocol::MINIMAL_ENCAP);
        let minimal = MinimalPacket::new_checked(l4).unwrap();
        let repr = MinimalRepr::parse(&minimal, ChecksumMode::Verify).unwrap();
        assert_eq!(repr.protocol, IpProtocol::UDP, "{name}");
        assert_eq!(repr.dst_addr, HOME_ADDRESS, "{name}");
        assert_eq!(repr.src_addr, src, "{name}");
        // The original UDP datagram follows, its checksum over the original addresses.
        let pseudo = PseudoHeader::V4 {
            src: src.unwrap_or(ip.src_addr),
            dst: repr.dst_addr,
        };
        let udp = UdpPacket::new_checked(minimal.payload()).unwrap();
        assert!(udp.verify_checksum(&pseudo), "{name}");
        assert_eq!(udp.payload(), b"tunnelled payload");
    }
}

#[test]
fn registration_request_fields_nai_and_authenticated_range() {
    let packet = vector("registration_request");
    let (_, udp, message) = udp_payload(&packet);
    assert_eq!((udp.src_port, udp.dst_port), (434, 434));
    let p = RegistrationRequestPacket::new_checked(message).unwrap();
    let r = RegistrationRequestRepr::parse(&p).unwrap();
    assert_eq!(
        r.flags,
        RegistrationFlags(
            RegistrationFlags::GRE_ENCAPSULATION.0 | RegistrationFlags::REVERSE_TUNNELING.0
        )
    );
    assert_eq!(r.lifetime, 300);
    assert_eq!(
        (r.home_address, r.home_agent, r.care_of_address),
        (HOME_ADDRESS, HOME_AGENT, CARE_OF)
    );
    assert_eq!(r.identification, IDENTIFICATION);
    assert_eq!(r.extensions.nai(), Some(&b"mn1@example.com"[..]));
    let (offset, auth) = r
        .extensions
        .authentication(RegistrationExtensionType::MN_HA_AUTHENTICATION)
        .unwrap();
    let RegistrationExtension::Authentication {
        spi, authenticator, ..
    } = auth
    else {
        panic!("{auth:?}");
    };
    assert_eq!((spi, authenticator.len()), (256, 16));
    // The authenticator is the last 16 bytes; it covers everything before it.
    assert_eq!(
        p.authenticated_bytes(offset),
        Some(&message[..message.len() - 16])
    );
}

#[test]
fn registration_reply_fields() {
    let packet = vector("registration_reply");
    let (_, _, message) = udp_payload(&packet);
    let p = RegistrationReplyPacket::new_checked(message).unwrap();
    let r = RegistrationReplyRepr::parse(&p).unwrap();
    assert_eq!(r.code, ReplyCode::ACCEPTED);
    assert_eq!(r.lifetime, 300);
    assert_eq!((r.home_address, r.home_agent), (HOME_ADDRESS, HOME_AGENT));
    assert_eq!(r.identification, IDENTIFICATION);
    let (offset, _) = r
        .extensions
        .authentication(RegistrationExtensionType::MN_HA_AUTHENTICATION)
        .unwrap();
    assert_eq!(offset, 20);
    assert_eq!(p.authenticated_bytes(offset), Some(&message[..26]));
}

#[test]
fn agent_advertisement_extension_fields() {
    let packet = vector("agent_advertisement");
    let (ip, l4) = ipv4(&packet);
    assert_eq!(ip.dst_addr, Ipv4Addr::new(224, 0, 0, 1));
    let icmp = Icmpv4Packet::new_checked(l4).unwrap();
    let Icmpv4Repr::RouterAdvertisement {
        code,
        lifetime,
        extensions,
        ..
    } = Icmpv4Repr::parse(&icmp, ChecksumMode::Verify).unwrap()
    else {
        panic!("not a router advertisement");
    };
    assert_eq!(
        (code, lifetime),
        (RouterAdvertisementCode::MOBILITY_AGENT_ONLY, 1800)
    );
    let exts: Vec<_> = AgentExtensions::new(extensions)
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(exts.len(), 3);
    let AgentExtension::AgentAdvertisement(adv) = exts[0] else {
        panic!("{:?}", exts[0]);
    };
    assert_eq!((adv.sequence_number, adv.registration_lifetime), (7, 600));
    for flag in [
        AgentAdvertisementFlags::FOREIGN_AGENT,
        AgentAdvertisementFlags::MINIMAL_ENCAPSULATION,
        AgentAdvertisementFlags::GRE_ENCAPSULATION,
        AgentAdvertisementFlags::REVERSE_TUNNELING,
    ] {
        assert!(adv.flags.contains(flag), "{flag:?}");
    }
    assert!(!adv.flags.contains(AgentAdvertisementFlags::HOME_AGENT));
    assert_eq!(
        adv.care_of_addresses.iter().collect::<Vec<_>>(),
        vec![CARE_OF, Ipv4Addr::new(192, 0, 2, 2)]
    );
    assert_eq!(exts[1], AgentExtension::PrefixLengths(&[24]));
    assert_eq!(exts[2], AgentExtension::Padding);
}
