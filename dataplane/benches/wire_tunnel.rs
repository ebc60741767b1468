#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Per-packet cost of the wire parsers and of each tunnel method (issue 3), in ns per
//! packet (`Throughput::Elements(1)`: criterion's elem/s is packets per second).
//!
//! What each group measures:
//!
//! - `parse/*`: one packet taken apart the way the engine will, every `Repr` built and
//!   every checksum verified, from bytes already in cache (scapy vectors from
//!   tests/vectors/). `eth_ipv4_udp`: Ethernet, IPv4 (header checksum), UDP (checksum).
//!   `eth_ipv6_ext_chain`: Ethernet, IPv6, a Hop-by-Hop and a Destination Options header
//!   with a Home Address option walked by `walk_chain`, UDP with its checksum over the
//!   home address. `mip4_registration_request`: IPv4, UDP, a Registration Request with its
//!   NAI and MN-HA authentication extensions found. `mh_binding_update_options`: IPv6, a
//!   Destination Options header with a Home Address option, a Binding Update with
//!   Alternate Care-of Address, Nonce Indices and Binding Authorization Data options,
//!   checksum verified.
//! - `tunnel/encap/<method>/<inner bytes>`: one `encapsulate` of an inner packet in place on a
//!   pooled buffer (`MemPacket`, the `PacketBuf` the DPDK `Mbuf` also implements). To
//!   start the next iteration from the same inner packet, the outer header is stripped
//!   with `adj` and the inner header (20 or 40 bytes: the TTL / hop limit the entry point
//!   decremented) copied back from a saved copy.
//! - `tunnel/decap/<method>/<inner bytes>`: one `decapsulate` of the outer packet the method
//!   built, in place. To start the next iteration, the outer headers are put back with
//!   `prepend` and a copy of the saved prefix (outer headers plus inner header).
//! - `bookkeeping/*`: those undo steps alone (prepend, adj and the copy), to subtract by
//!   eye; a few ns.
//!
//! Methods: `ipip` (RFC 2003), `minimal` (RFC 2004), `gre` (RFC 2784, IPv4 payload) over
//! IPv4; `ip6ip6` and `4in6` (RFC 2473, with the default Tunnel Encapsulation Limit
//! option: 48 bytes of outer headers) and `6in4` (RFC 4213). Inner packets are 64 and
//! 1400 bytes (IP header included), all within the default 1500-byte tunnel MTU, so no
//! fragmentation.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use mipdp_dataplane::port::memory::{MemPacket, MemPool};
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::tunnel::{
    self, gre, ip6ip6, ipip, minimal, mixed, Encapsulated, Endpoints4, Endpoints6, TunnelSettings,
};
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::ethernet::{EthernetFrame, EthernetRepr};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet, Ipv6Repr};
use mipdp_dataplane::wire::ipv6ext::walk_chain;
use mipdp_dataplane::wire::mh::{MhRepr, MobilityHeader};
use mipdp_dataplane::wire::mip4::{
    RegistrationExtensionType, RegistrationRequestPacket, RegistrationRequestRepr,
};
use mipdp_dataplane::wire::udp::{PseudoHeader, UdpPacket, UdpRepr};

const TUNNELS_V4: &str = include_str!("../tests/vectors/tunnels_v4.txt");
const TUNNEL_MIP4: &str = include_str!("../tests/vectors/tunnel_mip4.txt");
const V6: &str = include_str!("../tests/vectors/v6.txt");
const MH: &str = include_str!("../tests/vectors/mh.txt");

fn vector(file: &str, name: &str) -> Vec<u8> {
    let line = file
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no vector {name}"));
    let hex = line.split_whitespace().nth(1).expect("hex");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// `packet` behind an untagged Ethernet header of `ethertype`.
fn ethernet(ethertype: u16, packet: &[u8]) -> Vec<u8> {
    let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(packet);
    frame
}

fn parse_eth_ipv4_udp(frame: &[u8]) -> Option<UdpRepr> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    EthernetRepr::parse(&eth).ok()?;
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    let repr = Ipv4Repr::parse(&ip, ChecksumMode::Verify).ok()?;
    let pseudo = PseudoHeader::V4 {
        src: repr.src_addr,
        dst: repr.dst_addr,
    };
    let udp = UdpPacket::new_checked(ip.payload()).ok()?;
    UdpRepr::parse(&udp, &pseudo, ChecksumMode::Verify).ok()
}

fn parse_eth_ipv6_chain_udp(frame: &[u8]) -> Option<UdpRepr> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    EthernetRepr::parse(&eth).ok()?;
    let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
    let repr = Ipv6Repr::parse(&ip).ok()?;
    let chain = walk_chain(repr.next_header, ip.payload()).ok()?;
    if chain.upper_layer != next_header::UDP {
        return None;
    }
    let pseudo = PseudoHeader::V6 {
        src: chain.home_address.unwrap_or(repr.src_addr),
        dst: chain.type2_home_address.unwrap_or(repr.dst_addr),
    };
    let udp = UdpPacket::new_checked(ip.payload().get(chain.upper_layer_offset..)?).ok()?;
    UdpRepr::parse(&udp, &pseudo, ChecksumMode::Verify).ok()
}

fn parse_registration_request(packet: &[u8]) -> Option<(u64, usize)> {
    let ip = Ipv4Packet::new_checked(packet).ok()?;
    let repr = Ipv4Repr::parse(&ip, ChecksumMode::Verify).ok()?;
    let pseudo = PseudoHeader::V4 {
        src: repr.src_addr,
        dst: repr.dst_addr,
    };
    let udp = UdpPacket::new_checked(ip.payload()).ok()?;
    UdpRepr::parse(&udp, &pseudo, ChecksumMode::Verify).ok()?;
    let request = RegistrationRequestPacket::new_checked(udp.payload()).ok()?;
    let r = RegistrationRequestRepr::parse(&request).ok()?;
    let nai = r.extensions.nai()?;
    let (auth_at, _) = r
        .extensions
        .authentication(RegistrationExtensionType::MN_HA_AUTHENTICATION)?;
    Some((r.identification, nai.len() + auth_at))
}

fn parse_binding_update(packet: &[u8]) -> Option<u16> {
    let ip = Ipv6Packet::new_checked(packet).ok()?;
    let repr = Ipv6Repr::parse(&ip).ok()?;
    let chain = walk_chain(repr.next_header, ip.payload()).ok()?;
    let src = chain.home_address.unwrap_or(repr.src_addr);
    let header = MobilityHeader::new_checked(ip.payload().get(chain.upper_layer_offset..)?).ok()?;
    match MhRepr::parse(&src, &repr.dst_addr, &header, ChecksumMode::Verify).ok()? {
        MhRepr::BindingUpdate(bu) => Some(bu.sequence),
        _ => None,
    }
}

fn parse(c: &mut Criterion) {
    let eth_ipv4 = ethernet(0x0800, &vector(TUNNELS_V4, "inner_v4"));
    // Hop-by-Hop (one PadN) spliced in front of the Destination Options header: the UDP
    // checksum does not cover extension headers, so it still verifies.
    let mut chain = vector(V6, "dest_hoa_udp");
    let first = chain[6];
    chain[6] = next_header::HOP_BY_HOP;
    let payload_len = u16::from_be_bytes([chain[4], chain[5]]) + 8;
    chain[4..6].copy_from_slice(&payload_len.to_be_bytes());
    chain.splice(40..40, [first, 0, 1, 4, 0, 0, 0, 0]);
    let eth_ipv6 = ethernet(0x86dd, &chain);
    let request = vector(TUNNEL_MIP4, "registration_request");
    let binding_update = vector(MH, "bu_altcoa_nonce_auth");
    assert!(parse_eth_ipv4_udp(&eth_ipv4).is_some());
    assert!(parse_eth_ipv6_chain_udp(&eth_ipv6).is_some());
    assert!(parse_registration_request(&request).is_some());
    assert!(parse_binding_update(&binding_update).is_some());

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("eth_ipv4_udp", |b| {
        b.iter(|| parse_eth_ipv4_udp(black_box(&eth_ipv4)))
    });
    g.bench_function("eth_ipv6_ext_chain", |b| {
        b.iter(|| parse_eth_ipv6_chain_udp(black_box(&eth_ipv6)))
    });
    g.bench_function("mip4_registration_request", |b| {
        b.iter(|| parse_registration_request(black_box(&request)))
    });
    g.bench_function("mh_binding_update_options", |b| {
        b.iter(|| parse_binding_update(black_box(&binding_update)))
    });
    g.finish();
}

const ENDS4: Endpoints4 = Endpoints4 {
    entry: Ipv4Addr::new(10, 1, 0, 1),
    exit: Ipv4Addr::new(192, 0, 2, 1),
};

fn ends6() -> Endpoints6 {
    Endpoints6 {
        entry: "2001:db8:a::1".parse().expect("address"),
        exit: "2001:db8:c0a::1".parse().expect("address"),
    }
}

/// A UDP-numbered IPv4 packet of `len` bytes from a correspondent to a home address.
fn inner4(len: usize) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: Ipv4Addr::new(198, 51, 100, 9),
        dst_addr: Ipv4Addr::new(10, 1, 0, 100),
        protocol: IpProtocol::UDP,
        payload_len: len - 20,
        ttl: 64,
        dscp: 10,
        ecn: 0b10,
        ident: 0x4321,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    let mut b = vec![0u8; len];
    for (i, x) in b.iter_mut().enumerate().skip(20) {
        *x = i as u8;
    }
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b
}

/// An IPv6 packet of `len` bytes with a UDP-numbered payload.
fn inner6(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    for (i, x) in b.iter_mut().enumerate().skip(40) {
        *x = i as u8;
    }
    Ipv6Repr {
        src_addr: "2001:db8:cafe::9".parse().expect("address"),
        dst_addr: "2001:db8:1::100".parse().expect("address"),
        next_header: next_header::UDP,
        payload_len: len - 40,
        hop_limit: 64,
        traffic_class: 0x2a,
        flow_label: 0x12345,
    }
    .emit(&mut Ipv6Packet::new_unchecked(&mut b[..]))
    .expect("emit");
    b
}

/// Benches `tunnel/encap/<name>` and `tunnel/decap/<name>` for one method on `inner`
/// (whose IP header is `header_len` bytes), with the undo steps of the module comment.
fn bench_method(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    inner: &[u8],
    header_len: usize,
    mut encap: impl FnMut(&mut MemPacket) -> bool,
    mut decap: impl FnMut(&mut MemPacket) -> bool,
) {
    let pool = MemPool::new(4);
    let mut p = pool.packet(inner).expect("buffer");
    assert!(encap(&mut p), "{name}: encapsulate");
    let encapsulated = p.data().to_vec();
    let overhead = encapsulated.len() - inner.len();
    let prefix = encapsulated[..overhead + header_len].to_vec();
    let header = &inner[..header_len];
    assert!(decap(&mut p), "{name}: decapsulate");
    assert_eq!(&p.data()[header_len..], &inner[header_len..], "{name}");

    let mut encap_once = |p: &mut MemPacket| {
        let ok = encap(p);
        let _ = p.adj(overhead);
        p.data_mut()[..header_len].copy_from_slice(header);
        ok
    };
    let mut p = pool.packet(inner).expect("buffer");
    for _ in 0..300 {
        assert!(encap_once(&mut p), "{name}: encapsulate again");
    }
    assert_eq!(
        p.data(),
        inner,
        "{name}: the encap undo restores the inner packet"
    );
    group.bench_function(format!("encap/{name}"), |b| {
        b.iter(|| encap_once(black_box(&mut p)))
    });

    let mut decap_once = |p: &mut MemPacket| {
        let ok = decap(p);
        if let Ok(data) = p.prepend(overhead) {
            data[..prefix.len()].copy_from_slice(&prefix);
        }
        ok
    };
    let mut p = pool.packet(&encapsulated).expect("buffer");
    for _ in 0..300 {
        assert!(decap_once(&mut p), "{name}: decapsulate again");
    }
    assert_eq!(
        p.data(),
        &encapsulated[..],
        "{name}: the decap undo restores"
    );
    group.bench_function(format!("decap/{name}"), |b| {
        b.iter(|| decap_once(black_box(&mut p)))
    });
}

fn tunnels(c: &mut Criterion) {
    let settings = TunnelSettings::default();
    let ends6 = ends6();
    let ours4 = |a: Ipv4Addr| a == ENDS4.exit;
    let ours6 = |a: &Ipv6Addr| *a == ends6.exit;
    let ready = |r: tunnel::Result<Encapsulated>| r == Ok(Encapsulated::Ready);
    let mut g = c.benchmark_group("tunnel");
    g.throughput(Throughput::Elements(1));
    for size in [64, 1400] {
        let (v4, v6) = (inner4(size), inner6(size));
        bench_method(
            &mut g,
            &format!("ipip/{size}"),
            &v4,
            20,
            |p| ready(ipip::encapsulate(p, ENDS4, &settings, 1)),
            |p| ipip::decapsulate(p, ours4).is_ok(),
        );
        bench_method(
            &mut g,
            &format!("minimal/{size}"),
            &v4,
            20,
            |p| ready(minimal::encapsulate(p, ENDS4, &settings)),
            |p| minimal::decapsulate(p, ours4).is_ok(),
        );
        bench_method(
            &mut g,
            &format!("gre/{size}"),
            &v4,
            20,
            |p| ready(gre::encapsulate(p, ENDS4, &settings, 1)),
            |p| gre::decapsulate(p, ours4).is_ok(),
        );
        bench_method(
            &mut g,
            &format!("ip6ip6/{size}"),
            &v6,
            40,
            |p| ready(ip6ip6::encapsulate(p, &ends6, &settings, 0)),
            |p| ip6ip6::decapsulate(p, ours6, 0).is_ok(),
        );
        bench_method(
            &mut g,
            &format!("4in6/{size}"),
            &v4,
            20,
            |p| ready(mixed::encapsulate_4in6(p, &ends6, &settings, 0)),
            |p| mixed::decapsulate_4in6(p, ours6, 0).is_ok(),
        );
        bench_method(
            &mut g,
            &format!("6in4/{size}"),
            &v6,
            40,
            |p| ready(mixed::encapsulate_6in4(p, &ENDS4, &settings, 1)),
            |p| mixed::decapsulate_6in4(p, |a: &Ipv4Addr| *a == ENDS4.exit, 0).is_ok(),
        );
    }
    g.finish();
}

/// The undo steps of the encap and decap benches alone, at their largest: 48 bytes of
/// outer headers and a 40-byte inner header.
fn bookkeeping(c: &mut Criterion) {
    let pool = MemPool::new(2);
    let inner = inner6(1400);
    let saved = [0x5au8; 88];
    let mut g = c.benchmark_group("bookkeeping");
    g.throughput(Throughput::Elements(1));
    let mut p = pool.packet(&inner).expect("buffer");
    g.bench_function("encap_undo_adj_copy_40", |b| {
        b.iter(|| {
            let p = black_box(&mut p);
            let _ = p.prepend(48);
            let _ = p.adj(48);
            p.data_mut()[..40].copy_from_slice(&saved[..40]);
        })
    });
    g.bench_function("decap_undo_prepend_copy_88", |b| {
        b.iter(|| {
            let p = black_box(&mut p);
            let _ = p.adj(48);
            if let Ok(data) = p.prepend(48) {
                data[..88].copy_from_slice(&saved);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, parse, tunnels, bookkeeping);
criterion_main!(benches);
