//! The IPv4-family wire parsers against frames built by scapy (tests/vectors/gen_v4.py):
//! every frame parses with the fields scapy put there, and re-emitting the Reprs gives the
//! same bytes, checksums included.

use std::net::Ipv4Addr;

use mipdp_dataplane::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::ethernet::{EtherType, EthernetFrame, EthernetRepr, MacAddress};
use mipdp_dataplane::wire::icmpv4::{DstUnreachable, Icmpv4Packet, Icmpv4Repr};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::udp::{PseudoHeader, UdpPacket, UdpRepr};

const VECTORS: &str = include_str!("vectors/v4.txt");

const HOST: MacAddress = MacAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const ROUTER: MacAddress = MacAddress([0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x10]);

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

/// Parses every layer of `frame` and emits it again from the Reprs alone.
fn re_emit(frame: &[u8]) -> Vec<u8> {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let eth_repr = EthernetRepr::parse(&eth).unwrap();
    let mut out = vec![0u8; frame.len()];
    eth_repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
    let l3 = &mut out[eth_repr.header_len()..];
    match eth_repr.ethertype {
        EtherType::ARP => {
            let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
            arp.emit(&mut ArpPacket::new_unchecked(&mut l3[..arp.buffer_len()]));
        }
        EtherType::IPV4 => re_emit_ipv4(eth.payload(), l3),
        other => panic!("unexpected ethertype {other}"),
    }
    out
}

fn re_emit_ipv4(packet: &[u8], out: &mut [u8]) {
    let ip = Ipv4Packet::new_checked(packet).unwrap();
    let ip_repr = Ipv4Repr::parse(&ip, ChecksumMode::Verify).unwrap();
    let out = &mut out[..ip_repr.buffer_len()];
    ip_repr.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
    let l4 = &mut out[ip_repr.header_len()..];
    match ip_repr.protocol {
        IpProtocol::UDP => {
            let pseudo = PseudoHeader::V4 {
                src: ip_repr.src_addr,
                dst: ip_repr.dst_addr,
            };
            let udp = UdpPacket::new_checked(ip.payload()).unwrap();
            let udp_repr = UdpRepr::parse(&udp, &pseudo, ChecksumMode::Verify).unwrap();
            l4[udp_repr.header_len()..udp_repr.buffer_len()].copy_from_slice(udp.payload());
            udp_repr.emit(&mut UdpPacket::new_unchecked(&mut l4[..]), &pseudo);
        }
        IpProtocol::ICMP => {
            let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
            let icmp_repr = Icmpv4Repr::parse(&icmp, ChecksumMode::Verify).unwrap();
            icmp_repr.emit(&mut Icmpv4Packet::new_unchecked(
                &mut l4[..icmp_repr.buffer_len()],
            ));
        }
        other => panic!("unexpected protocol {other}"),
    }
}

#[test]
fn every_vector_re_emits_byte_for_byte() {
    let mut count = 0;
    for line in VECTORS.lines().filter(|l| !l.trim().is_empty()) {
        let name = line.split_whitespace().next().unwrap();
        let frame = vector(name);
        assert_eq!(re_emit(&frame), frame, "{name}");
        count += 1;
    }
    assert_eq!(count, 7);
}

fn ipv4_of(frame: &[u8]) -> (EthernetRepr, Ipv4Repr) {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    (
        EthernetRepr::parse(&eth).unwrap(),
        Ipv4Repr::parse(&ip, ChecksumMode::Verify).unwrap(),
    )
}

#[test]
fn ipv4_with_router_alert_and_udp_fields() {
    let frame = vector("ipv4_options_udp");
    let (eth, ip) = ipv4_of(&frame);
    assert_eq!((eth.src_addr, eth.dst_addr, eth.vlan), (HOST, ROUTER, None));
    assert_eq!(ip.src_addr, Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(ip.dst_addr, Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!((ip.dscp, ip.ecn), (46, 0));
    assert_eq!((ip.ident, ip.ttl, ip.dont_frag), (0x1234, 64, true));
    assert_eq!(ip.options.as_slice(), &[0x94, 0x04, 0x00, 0x00]);
    assert_eq!(ip.protocol, IpProtocol::UDP);
    let packet = &frame[14..];
    let udp = UdpPacket::new_checked(&packet[24..]).unwrap();
    let pseudo = PseudoHeader::V4 {
        src: ip.src_addr,
        dst: ip.dst_addr,
    };
    let udp_repr = UdpRepr::parse(&udp, &pseudo, ChecksumMode::Verify).unwrap();
    assert_eq!((udp_repr.src_port, udp_repr.dst_port), (434, 434));
    assert_eq!(udp.payload(), b"\x01\x00\x07\x08registration");
}

#[test]
fn icmp_echo_request_and_reply_fields() {
    for (name, request) in [("icmp_echo_request", true), ("icmp_echo_reply", false)] {
        let frame = vector(name);
        let (_, ip) = ipv4_of(&frame);
        assert_eq!(ip.protocol, IpProtocol::ICMP);
        let icmp = Icmpv4Packet::new_checked(&frame[34..]).unwrap();
        let data: &[u8] = b"abcdefghijklmnopqrstuvwabcdefghi";
        let expected = if request {
            Icmpv4Repr::EchoRequest {
                ident: 1,
                seq_no: 7,
                data,
            }
        } else {
            Icmpv4Repr::EchoReply {
                ident: 1,
                seq_no: 7,
                data,
            }
        };
        assert_eq!(
            Icmpv4Repr::parse(&icmp, ChecksumMode::Verify).unwrap(),
            expected
        );
    }
}

#[test]
fn icmp_frag_needed_fields_and_quoted_header() {
    let frame = vector("icmp_frag_needed");
    let (_, ip) = ipv4_of(&frame);
    assert_eq!(ip.ttl, 255);
    let icmp = Icmpv4Packet::new_checked(&frame[34..]).unwrap();
    let Icmpv4Repr::DstUnreachable {
        reason,
        next_hop_mtu,
        data,
    } = Icmpv4Repr::parse(&icmp, ChecksumMode::Verify).unwrap()
    else {
        panic!("not a destination unreachable");
    };
    assert_eq!((reason, next_hop_mtu), (DstUnreachable::FRAG_NEEDED, 1400));
    // The quoted header says 1500 bytes but only 28 are quoted: a view still reads its
    // fields once the length check is skipped.
    let quoted = Ipv4Packet::new_unchecked(data);
    assert_eq!(quoted.total_len(), 1500);
    assert!(quoted.dont_frag());
    assert_eq!(quoted.dst_addr(), Ipv4Addr::new(198, 51, 100, 7));
    assert_eq!(
        Ipv4Packet::new_checked(data).unwrap_err(),
        mipdp_dataplane::wire::Error::Truncated
    );
}

#[test]
fn arp_request_and_reply_fields() {
    let frame = vector("arp_request");
    let eth = EthernetFrame::new_checked(&frame[..]).unwrap();
    assert!(eth.dst_addr().is_broadcast());
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
    assert_eq!(arp.operation, ArpOperation::REQUEST);
    assert_eq!(arp.source_hardware_addr, HOST);
    assert_eq!(arp.source_protocol_addr, Ipv4Addr::new(10, 0, 2, 15));
    assert_eq!(arp.target_protocol_addr, Ipv4Addr::new(10, 0, 2, 2));

    let frame = vector("arp_reply");
    let eth = EthernetFrame::new_checked(&frame[..]).unwrap();
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
    assert_eq!(arp.operation, ArpOperation::REPLY);
    assert_eq!(
        (arp.source_hardware_addr, arp.target_hardware_addr),
        (ROUTER, HOST)
    );
}

#[test]
fn vlan_tagged_ipv4_fields() {
    let frame = vector("vlan_ipv4_udp");
    let (eth, ip) = ipv4_of(&frame);
    let tag = eth.vlan.unwrap();
    assert_eq!(
        (tag.tpid, tag.pcp, tag.dei, tag.vid),
        (EtherType::VLAN, 5, false, 100)
    );
    assert_eq!(eth.ethertype, EtherType::IPV4);
    assert_eq!(ip.ident, 0xbeef);
    assert_eq!(ip.src_addr, Ipv4Addr::new(10, 1, 0, 5));
    let udp = UdpPacket::new_checked(&frame[18 + 20..]).unwrap();
    assert_eq!((udp.src_port(), udp.dst_port()), (5000, 6000));
    assert_eq!(udp.payload(), b"tagged");
}
