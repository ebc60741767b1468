//! Encapsulating, fragmenting, decapsulating and building ICMP errors allocates nothing: a
//! counting global allocator watches every tunnel function run over the scapy vectors
//! (tests/vectors/tunnels_v4.txt) in pooled buffers taken beforehand.

use std::net::Ipv4Addr;
use std::time::Instant;

use mipdp_dataplane::port::memory::MemPool;
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::tunnel::icmp::{icmp_error_v4, IcmpErrorKind, IcmpRateLimiter};
use mipdp_dataplane::tunnel::{gre, ipip, minimal, Endpoints4, TunnelSettings};
use mipdp_dpdk::alloc_count::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

const VECTORS: &str = include_str!("vectors/tunnels_v4.txt");

fn vector(name: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap();
    let hex = line.split_whitespace().nth(1).unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn tunnel_entry_and_exit_allocate_nothing() {
    let ends = Endpoints4 {
        entry: Ipv4Addr::new(10, 1, 0, 1),
        exit: Ipv4Addr::new(192, 0, 2, 1),
    };
    let ours = |a: Ipv4Addr| a == ends.exit;
    let settings = TunnelSettings::default();
    let (v4, v6, big) = (
        vector("inner_v4"),
        vector("inner_v6"),
        vector("inner_v4_big"),
    );
    let expiring = vector("inner_v4_expiring");
    let pool = MemPool::new(8);
    let mut packets: Vec<_> = (0..5).map(|_| pool.packet(&[]).unwrap()).collect();
    let mut reply = [0u8; 576];
    let start = Instant::now();
    let mut limiter = IcmpRateLimiter::new(100, 10);

    let before = GLOBAL.allocations();
    let [a, b, c, d, e] = &mut packets[..] else {
        unreachable!()
    };
    for (p, bytes) in [
        (&mut *a, &v4),
        (&mut *b, &v6),
        (&mut *c, &v4),
        (&mut *d, &big),
    ] {
        let len = p.data().len();
        p.trim(len).unwrap();
        p.append(bytes.len()).unwrap().copy_from_slice(bytes);
    }
    ipip::encapsulate(a, ends, &settings, 1).unwrap();
    ipip::decapsulate(a, ours).unwrap();
    gre::encapsulate(b, ends, &settings, 2).unwrap();
    gre::decapsulate(b, ours).unwrap();
    minimal::encapsulate(c, ends, &settings).unwrap();
    minimal::decapsulate(c, ours).unwrap();
    ipip::encapsulate(d, ends, &settings, 3).unwrap();
    assert!(ipip::fragment_outer(d, 1500, e).unwrap());
    let n = icmp_error_v4(
        &expiring,
        &mut reply,
        IcmpErrorKind::TimeExceeded,
        ends.entry,
        4,
    )
    .unwrap();
    let allowed = limiter.allow(start);
    let during = GLOBAL.allocations() - before;

    assert_eq!(during, 0, "allocations in the tunnel functions");
    assert!(n > 28 && allowed);
}
