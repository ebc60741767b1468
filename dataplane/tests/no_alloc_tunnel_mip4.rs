//! Parsing and re-emitting GRE, minimal encapsulation and Mobile IPv4 messages allocates
//! nothing: a counting global allocator watches every parser, iterator and emitter run over
//! the scapy vectors (tests/vectors/tunnel_mip4.txt) into buffers allocated beforehand.

use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::gre::{GrePacket, GreRepr};
use mipdp_dataplane::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::minimal::{MinimalPacket, MinimalRepr};
use mipdp_dataplane::wire::mip4::{
    self, AgentExtensions, MessageType, RegistrationReplyPacket, RegistrationReplyRepr,
    RegistrationRequestPacket, RegistrationRequestRepr,
};
use mipdp_dataplane::wire::udp::UdpPacket;
use mipdp_dpdk::alloc_count::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

const VECTORS: &str = include_str!("vectors/tunnel_mip4.txt");

fn decode(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Parses every layer below IPv4 and emits it into `out`; returns how many pieces parsed.
fn parse_and_emit(packet: &[u8], out: &mut [u8]) -> usize {
    let ip = Ipv4Repr::parse(
        &Ipv4Packet::new_checked(packet).unwrap(),
        ChecksumMode::Verify,
    )
    .unwrap();
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
    let l4 = &packet[ip.header_len()..ip.buffer_len()];
    let out = &mut out[ip.header_len()..ip.buffer_len()];
    match ip.protocol {
        IpProtocol::GRE => {
            let gre = GrePacket::new_checked(l4).unwrap();
            let repr = GreRepr::parse(&gre, ChecksumMode::Verify).unwrap();
            out[repr.header_len()..].copy_from_slice(gre.payload());
            repr.emit(&mut GrePacket::new_unchecked(&mut out[..]));
            1 + parse_and_emit(gre.payload(), &mut out[repr.header_len()..])
        }
        IpProtocol::MINIMAL_ENCAP => {
            let minimal = MinimalPacket::new_checked(l4).unwrap();
            let repr = MinimalRepr::parse(&minimal, ChecksumMode::Verify).unwrap();
            repr.emit(&mut MinimalPacket::new_unchecked(&mut out[..]));
            2
        }
        IpProtocol::UDP => {
            if UdpPacket::new_checked(l4).unwrap().dst_port() != mip4::PORT {
                return 1;
            }
            let message = &l4[8..];
            let out = &mut out[8..];
            match MessageType(message[0]) {
                MessageType::REGISTRATION_REQUEST => {
                    let p = RegistrationRequestPacket::new_checked(message).unwrap();
                    let repr = RegistrationRequestRepr::parse(&p).unwrap();
                    repr.emit(&mut RegistrationRequestPacket::new_unchecked(out));
                    2 + repr.extensions.iter().filter(|e| e.is_ok()).count()
                }
                MessageType::REGISTRATION_REPLY => {
                    let p = RegistrationReplyPacket::new_checked(message).unwrap();
                    let repr = RegistrationReplyRepr::parse(&p).unwrap();
                    repr.emit(&mut RegistrationReplyPacket::new_unchecked(out));
                    2 + repr.extensions.iter().filter(|e| e.is_ok()).count()
                }
                other => panic!("unexpected message type {other:?}"),
            }
        }
        IpProtocol::ICMP => {
            let icmp = Icmpv4Packet::new_checked(l4).unwrap();
            let repr = Icmpv4Repr::parse(&icmp, ChecksumMode::Verify).unwrap();
            let Icmpv4Repr::RouterAdvertisement { extensions, .. } = repr else {
                return 2;
            };
            let mut at = 0;
            let mut count = 2;
            let ext_out = &mut out[repr.buffer_len() - extensions.len()..];
            for ext in AgentExtensions::new(extensions).flatten() {
                ext.emit(&mut ext_out[at..]).unwrap();
                at += ext.buffer_len();
                count += 1;
            }
            count
        }
        other => panic!("unexpected protocol {other}"),
    }
}

#[test]
fn tunnel_and_registration_parsing_allocates_nothing() {
    let packets: Vec<Vec<u8>> = VECTORS
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(decode)
        .collect();
    let mut outs: Vec<Vec<u8>> = packets.iter().map(|p| vec![0u8; p.len()]).collect();
    let before = GLOBAL.allocations();
    let mut parsed = 0;
    for (packet, out) in packets.iter().zip(outs.iter_mut()) {
        parsed += parse_and_emit(packet, out);
    }
    let during = GLOBAL.allocations() - before;
    assert_eq!(during, 0, "allocations while parsing");
    assert!(parsed >= 7 * 2, "every vector parsed: {parsed}");
    for (packet, out) in packets.iter().zip(outs.iter()) {
        assert_eq!(&out[..20], &packet[..20]);
    }
}
