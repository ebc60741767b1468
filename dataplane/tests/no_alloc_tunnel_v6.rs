//! Encapsulating, decapsulating, fragmenting the outer IPv6 packet and building ICMPv6
//! errors allocates nothing: a counting global allocator watches the IPv6 tunnel methods
//! run over the scapy vectors (tests/vectors/tunnels_v6.txt) in packet buffers taken from a
//! pool beforehand.

use std::net::Ipv4Addr;

use mipdp_dataplane::port::memory::MemPool;
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::tunnel::ip6ip6::{self, Icmpv6Error};
use mipdp_dataplane::tunnel::{mixed, Encapsulated, Endpoints4, Endpoints6, TunnelSettings};
use mipdp_dpdk::alloc_count::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

const VECTORS: &str = include_str!("vectors/tunnels_v6.txt");

fn decode(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn ipv6_tunnels_allocate_nothing() {
    let inners: Vec<(String, Vec<u8>)> = VECTORS
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.strip_suffix("_inner")?.to_string();
            Some((name, decode(w.next()?)))
        })
        .collect();
    let pool = MemPool::new(inners.len() + 5);
    let mut packets: Vec<_> = inners
        .iter()
        .map(|(_, b)| pool.packet(b).unwrap())
        .collect();
    let find = |case: &str| &inners.iter().find(|(n, _)| n == case).unwrap().1;
    let mut fragmented6 = pool.packet(find("ip6ip6_fragmented")).unwrap();
    let mut fragmented4 = pool.packet(find("ip4ip6_fragmented_three")).unwrap();
    let mut spares: Vec<_> = (0..3).map(|_| pool.packet(&[]).unwrap()).collect();
    let ends6 = Endpoints6 {
        entry: "2001:db8:a::1".parse().unwrap(),
        exit: "2001:db8:c0a::1".parse().unwrap(),
    };
    let ends4 = Endpoints4 {
        entry: Ipv4Addr::new(10, 1, 0, 1),
        exit: Ipv4Addr::new(192, 0, 2, 1),
    };
    let settings = TunnelSettings::default();
    let mut reply = [0u8; 1280];
    let before = GLOBAL.allocations();
    let mut round_trips = 0;
    for ((name, _), p) in inners.iter().zip(packets.iter_mut()) {
        let ok = if name.starts_with("ip6ip6") {
            let n = ip6ip6::icmp_error_v6(
                p.data(),
                &mut reply,
                ends6.entry,
                Icmpv6Error::PacketTooBig { mtu: 1280 },
            );
            assert!(n.unwrap() > 0);
            ip6ip6::encapsulate(p, &ends6, &settings, 0).is_ok()
                && ip6ip6::decapsulate(p, |a| *a == ends6.exit, 0).is_ok()
        } else if name.starts_with("ip4ip6") {
            mixed::encapsulate_4in6(p, &ends6, &settings, 0).is_ok()
                && mixed::decapsulate_4in6(p, |a| *a == ends6.exit, 0).is_ok()
        } else {
            mixed::encapsulate_6in4(p, &ends4, &settings, 1).is_ok()
                && mixed::decapsulate_6in4(p, |a| *a == ends4.exit, 0).is_ok()
        };
        round_trips += usize::from(ok);
    }
    let small = |path_mtu| TunnelSettings {
        path_mtu,
        ..settings
    };
    let fragmenting = [
        ip6ip6::encapsulate(&mut fragmented6, &ends6, &small(1280), 0),
        mixed::encapsulate_4in6(&mut fragmented4, &ends6, &small(700), 0),
    ];
    let (first, rest) = spares.split_first_mut().unwrap();
    let two = ip6ip6::fragment_outer(&mut fragmented6, 1280, 1, first);
    let mut fragments = 1;
    let mut current = &mut fragmented4;
    for spare in rest.iter_mut() {
        if !ip6ip6::fragment_outer(current, 700, 2, spare).unwrap() {
            break;
        }
        fragments += 1;
        current = spare;
    }
    let during = GLOBAL.allocations() - before;
    assert_eq!(during, 0, "allocations while tunnelling");
    assert_eq!(round_trips, inners.len());
    assert!(fragmenting
        .iter()
        .all(|r| matches!(r, Ok(Encapsulated::Fragment { .. }))));
    assert_eq!((two, fragments), (Ok(true), 3));
}
