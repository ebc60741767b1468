//! IPv6, extension header and ICMPv6 vectors built by scapy (`tests/vectors/gen_v6.py`):
//! every vector parses, its checksums verify, and re-emitting it from the Reprs gives the
//! same bytes.

use mipdp_dataplane::wire::checksum;
use mipdp_dataplane::wire::icmpv6::{
    HomeAgentInformation, Icmpv6Packet, Icmpv6Repr, PrefixInformation, RouterAdvertRepr,
};
use mipdp_dataplane::wire::ipv6::{
    multicast_mac, next_header, solicited_node, Ipv6Packet, Ipv6Repr, HEADER_LEN,
};
use mipdp_dataplane::wire::ipv6ext::{
    walk_chain, ExtensionChain, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6OptionsHeader,
    Ipv6OptionsRepr, Ipv6RoutingHeader, Type2RoutingRepr,
};
use std::net::Ipv6Addr;

const VECTORS: &str = include_str!("vectors/v6.txt");

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vector(name: &str) -> Vec<u8> {
    VECTORS
        .lines()
        .find_map(|l| {
            let (n, hex) = l.split_once(' ')?;
            (n == name).then(|| unhex(hex.trim()))
        })
        .unwrap_or_else(|| panic!("no vector {name}"))
}

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const HOA: &str = "2001:db8:1::100";
const COA: &str = "2001:db8:2::100";
const CN: &str = "2001:db8:3::3";

struct Parsed {
    ip: Ipv6Repr,
    chain: ExtensionChain,
    /// Upper layer bytes.
    upper: Vec<u8>,
    /// Addresses of the upper-layer pseudo-header (RFC 8200 §8.1, RFC 6275 §6.3).
    pseudo_src: Ipv6Addr,
    pseudo_dst: Ipv6Addr,
}

fn parse(bytes: &[u8]) -> Parsed {
    let packet = Ipv6Packet::new_checked(bytes).unwrap();
    let ip = Ipv6Repr::parse(&packet).unwrap();
    assert_eq!(ip.buffer_len(), bytes.len());
    let chain = walk_chain(ip.next_header, packet.payload()).unwrap();
    let upper = packet.payload()[chain.upper_layer_offset..].to_vec();
    Parsed {
        ip,
        chain,
        upper,
        pseudo_src: chain.home_address.unwrap_or(ip.src_addr),
        pseudo_dst: chain.type2_home_address.unwrap_or(ip.dst_addr),
    }
}

fn upper_checksum_verifies(p: &Parsed, upper_layer: u8) -> bool {
    let pseudo = checksum::pseudo_header_v6(
        p.pseudo_src.octets(),
        p.pseudo_dst.octets(),
        upper_layer,
        p.upper.len() as u32,
    );
    checksum::finish(checksum::combine(&[pseudo, checksum::sum(&p.upper)])) == 0
}

/// Emits the packet again from the Reprs: fixed header, each extension header, and the
/// ICMPv6 message (any other upper layer is copied).
fn reemit(bytes: &[u8]) -> Vec<u8> {
    let p = parse(bytes);
    let mut out = vec![0u8; bytes.len()];
    p.ip.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]))
        .unwrap();
    let payload = &bytes[HEADER_LEN..];
    let mut nh = p.ip.next_header;
    let mut at = HEADER_LEN;
    for _ in 0..p.chain.extension_headers {
        let input = &payload[at - HEADER_LEN..];
        let (next, len) = match nh {
            next_header::HOP_BY_HOP | next_header::DEST_OPTS => {
                let h = Ipv6OptionsHeader::new_checked(input).unwrap();
                let r = Ipv6OptionsRepr::parse(&h).unwrap();
                r.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut out[at..]))
                    .unwrap();
                (r.next_header, r.header_len())
            }
            next_header::ROUTING => {
                let h = Ipv6RoutingHeader::new_checked(input).unwrap();
                let r = Type2RoutingRepr::parse(&h).unwrap();
                r.emit(&mut Ipv6RoutingHeader::new_unchecked(&mut out[at..]))
                    .unwrap();
                (r.next_header, r.header_len())
            }
            next_header::FRAGMENT => {
                let h = Ipv6FragmentHeader::new_checked(input).unwrap();
                let r = Ipv6FragmentRepr::parse(&h).unwrap();
                r.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut out[at..]))
                    .unwrap();
                (r.next_header, r.header_len())
            }
            other => panic!("unexpected extension header {other}"),
        };
        nh = next;
        at += len;
    }
    assert_eq!(at, HEADER_LEN + p.chain.upper_layer_offset);
    if nh == next_header::ICMPV6 && p.chain.fragment.is_none() {
        let packet = Icmpv6Packet::new_checked(&p.upper[..]).unwrap();
        let repr = Icmpv6Repr::parse(&p.pseudo_src, &p.pseudo_dst, &packet).unwrap();
        assert_eq!(repr.buffer_len(), p.upper.len());
        repr.emit(
            &p.pseudo_src,
            &p.pseudo_dst,
            &mut Icmpv6Packet::new_unchecked(&mut out[at..]),
        )
        .unwrap();
    } else {
        out[at..].copy_from_slice(&p.upper);
    }
    out
}

#[test]
fn every_vector_reemits_byte_for_byte() {
    let mut count = 0;
    for line in VECTORS.lines() {
        let (name, hex) = line.split_once(' ').unwrap();
        let bytes = unhex(hex.trim());
        assert_eq!(reemit(&bytes), bytes, "vector {name}");
        count += 1;
    }
    assert_eq!(count, 9);
}

#[test]
fn hop_by_hop_padn_is_skipped_to_udp() {
    let p = parse(&vector("hbh_padn_udp"));
    assert_eq!(p.ip.next_header, next_header::HOP_BY_HOP);
    assert_eq!(p.chain.upper_layer, next_header::UDP);
    assert_eq!(p.chain.upper_layer_offset, 8);
    assert_eq!(p.chain.extension_headers, 1);
    assert!(upper_checksum_verifies(&p, next_header::UDP));
}

#[test]
fn home_address_option_is_found_and_used_in_the_udp_checksum() {
    let p = parse(&vector("dest_hoa_udp"));
    assert_eq!(p.ip.src_addr, addr(COA));
    assert_eq!(p.chain.home_address, Some(addr(HOA)));
    assert_eq!(p.chain.upper_layer, next_header::UDP);
    assert_eq!(p.chain.upper_layer_offset, 24);
    assert!(upper_checksum_verifies(&p, next_header::UDP));
    let with_care_of = Parsed {
        pseudo_src: addr(COA),
        ..p
    };
    assert!(!upper_checksum_verifies(&with_care_of, next_header::UDP));
}

#[test]
fn type2_routing_header_gives_the_home_address() {
    let p = parse(&vector("rh2_echo_reply"));
    assert_eq!(p.chain.type2_home_address, Some(addr(HOA)));
    assert_eq!(p.chain.upper_layer, next_header::ICMPV6);
    let packet = Icmpv6Packet::new_checked(&p.upper[..]).unwrap();
    assert!(packet.verify_checksum(&addr(CN), &addr(HOA)));
    assert_eq!(
        Icmpv6Repr::parse(&addr(CN), &addr(HOA), &packet).unwrap(),
        Icmpv6Repr::EchoReply {
            ident: 0x4242,
            seq_no: 3,
            data: b"pong"
        }
    );
}

#[test]
fn fragment_headers_are_read() {
    let p = parse(&vector("fragment_udp"));
    let f = p.chain.fragment.unwrap();
    assert_eq!((f.fragment_offset, f.more_fragments), (0, true));
    assert_eq!(f.identification, 0xdead_beef);
    assert_eq!(p.chain.upper_layer, next_header::UDP);
    assert!(upper_checksum_verifies(&p, next_header::UDP));

    let p = parse(&vector("fragment_later"));
    let f = p.chain.fragment.unwrap();
    assert_eq!((f.fragment_offset, f.more_fragments), (3, false));
    assert_eq!(p.chain.upper_layer_offset, 8);
    assert_eq!(p.upper, b"yyyyyyyy");
}

#[test]
fn echo_request_fields_and_traffic_class() {
    let p = parse(&vector("echo_request"));
    assert_eq!(p.ip.traffic_class, 0xb8);
    assert_eq!(p.ip.flow_label, 0x12345);
    let packet = Icmpv6Packet::new_checked(&p.upper[..]).unwrap();
    assert_eq!(
        Icmpv6Repr::parse(&addr(HOA), &addr(CN), &packet).unwrap(),
        Icmpv6Repr::EchoRequest {
            ident: 0x1234,
            seq_no: 1,
            data: b"abcdefgh"
        }
    );
}

#[test]
fn packet_too_big_carries_mtu_and_the_invoking_packet() {
    let p = parse(&vector("packet_too_big"));
    let packet = Icmpv6Packet::new_checked(&p.upper[..]).unwrap();
    let Icmpv6Repr::PacketTooBig { mtu, invoking } =
        Icmpv6Repr::parse(&p.pseudo_src, &p.pseudo_dst, &packet).unwrap()
    else {
        panic!("not packet too big");
    };
    assert_eq!(mtu, 1280);
    let inner = Ipv6Repr::parse(&Ipv6Packet::new_checked(invoking).unwrap()).unwrap();
    assert_eq!(inner.dst_addr, addr(HOA));
    assert_eq!(inner.hop_limit, 63);
}

#[test]
fn neighbor_solicitation_goes_to_the_solicited_node_address() {
    let p = parse(&vector("neighbor_solicit"));
    assert_eq!(p.ip.dst_addr, solicited_node(&addr(HOA)));
    assert_eq!(
        multicast_mac(&p.ip.dst_addr),
        [0x33, 0x33, 0xff, 0x00, 0x01, 0x00]
    );
    let packet = Icmpv6Packet::new_checked(&p.upper[..]).unwrap();
    assert_eq!(
        Icmpv6Repr::parse(&p.pseudo_src, &p.pseudo_dst, &packet).unwrap(),
        Icmpv6Repr::NeighborSolicit {
            target: addr(HOA),
            source_lladdr: Some([2, 0, 0, 0, 0, 1]),
        }
    );
}

#[test]
fn home_agent_router_advertisement_is_read() {
    let p = parse(&vector("router_advert_home_agent"));
    let packet = Icmpv6Packet::new_checked(&p.upper[..]).unwrap();
    let expected = RouterAdvertRepr {
        hop_limit: 64,
        managed: false,
        other: true,
        home_agent: true,
        router_lifetime: 1800,
        reachable_time: 30_000,
        retrans_time: 1000,
        source_lladdr: Some([2, 0, 0, 0, 0, 1]),
        prefix_info: Some(PrefixInformation {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            router_address: true,
            valid_lifetime: 86_400,
            preferred_lifetime: 14_400,
            prefix: addr("2001:db8:1::1"),
        }),
        mtu: Some(1500),
        advertisement_interval: Some(3000),
        home_agent_info: Some(HomeAgentInformation {
            preference: 10,
            lifetime: 1800,
        }),
    };
    assert_eq!(
        Icmpv6Repr::parse(&p.pseudo_src, &p.pseudo_dst, &packet).unwrap(),
        Icmpv6Repr::RouterAdvert(expected)
    );
}
