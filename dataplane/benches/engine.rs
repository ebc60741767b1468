#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Per-packet cost of the engine's decisions (issue 4), in ns per packet
//! (`Throughput::Elements(1)`).
//!
//! - `profile_search/<kind>/<n>`: one `ProfileTables::search` among `n` profiles of one
//!   class, all exact addresses (a hash probe whatever `n`) or all /24 wildcards like
//!   `172.27.180.*` (a probe per distinct prefix length whatever `n`), for a key that hits
//!   one of them (a different one each iteration).
//! - `home_agent/<n>_bindings`: the whole home agent path on a 64-byte UDP frame: Ethernet
//!   and IPv4 checks, the profile search (one exact profile per home address), the binding
//!   lookup, IP-in-IP encapsulation (inner TTL and checksum, outer header), route and
//!   neighbour lookup and the new Ethernet header, for a packet to one of `n` bound home
//!   addresses (cycling through 4096 different ones, so that a large table is not all in
//!   cache). To start the next iteration the frame's first bytes are copied back (the
//!   "reset" bench measures that copy alone).
//! - `forwarder`: the forwarder's per-packet work on the same buffer, for comparison.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mipdp_dataplane::engine::{Engine, NodeConfig};
use mipdp_dataplane::port::memory::{MemPacket, MemPool, HEADROOM};
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::profile::{
    AddrMatch, Class, Edit, FlowKey, Match, Profile, ProfileId, ProfileTables, TableRef,
};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{Binding, CareOfList, Encap, Route, TableLimits};
use mipdp_dataplane::{Action, Forwarder, ForwarderPort, Processor};

fn profile(n: u32, dst: AddrMatch) -> Profile {
    Profile {
        id: ProfileId {
            session: 1,
            number: n,
        },
        class: Class::AaaDestination,
        matches: Match { dst, ..Match::ANY },
        edit: Edit {
            dscp: Some(46),
            ..Edit::NONE
        },
        table: TableRef::Routes,
    }
}

fn profile_search(c: &mut Criterion) {
    let mut g = c.benchmark_group("profile_search");
    g.throughput(Throughput::Elements(1));
    for n in [10u32, 1_000, 10_000] {
        let mut exact = ProfileTables::new(20_000);
        let mut wild = ProfileTables::new(20_000);
        for i in 0..n {
            let a = Ipv4Addr::from_bits(0x0a00_0000 + i);
            exact
                .insert(profile(i, AddrMatch::Exact(IpAddr::V4(a))))
                .unwrap();
            let w = format!("172.{}.{}.*", 16 + i / 256, i % 256);
            wild.insert(profile(i, w.parse().unwrap())).unwrap();
        }
        let key = |dst: Ipv4Addr| {
            FlowKey::v4(
                Ipv4Addr::new(198, 51, 100, 9),
                dst,
                17,
                Some(1000),
                Some(2000),
            )
        };
        let mut i = 0u32;
        g.bench_with_input(BenchmarkId::new("exact", n), &n, |b, &n| {
            b.iter(|| {
                i = (i + 7919) % n;
                black_box(exact.search(&key(Ipv4Addr::from_bits(0x0a00_0000 + i))))
            })
        });
        g.bench_with_input(BenchmarkId::new("wildcard_24", n), &n, |b, &n| {
            b.iter(|| {
                i = (i + 7919) % n;
                let dst = Ipv4Addr::new(172, (16 + i / 256) as u8, (i % 256) as u8, 9);
                black_box(wild.search(&key(dst)))
            })
        });
    }
    g.finish();
}

const MAC0: [u8; 6] = [2, 0, 0, 0, 0, 0x10];
const MAC1: [u8; 6] = [2, 0, 0, 0, 0, 0x11];

fn home(i: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(0x0a00_0000 + i)
}

fn home_agent(n: u32) -> Engine {
    let node4 = Ipv4Addr::new(192, 0, 2, 1);
    let mut node = NodeConfig::new(vec![MAC0, MAC1], vec![node4], vec![]);
    node.limits = TableLimits {
        bindings: n as usize,
        profiles: n as usize + 64,
        ..TableLimits::default()
    };
    let mut e = Engine::new(node);
    let t = e.tables_mut();
    for p in roles::home_agent(&[IpAddr::V4(node4)]) {
        t.insert_profile(p).unwrap();
    }
    for i in 0..n {
        t.insert_profile(roles::home_address(i, IpAddr::V4(home(i))))
            .unwrap();
        t.insert_binding(
            IpAddr::V4(home(i)),
            Binding {
                care_of: CareOfList::one(IpAddr::V4(Ipv4Addr::from_bits(0xcb00_7100 + i % 200))),
                encap: Encap::IpInIp,
                source: IpAddr::V4(node4),
                tos: None,
            },
        )
        .unwrap();
    }
    t.routes
        .insert(
            "0.0.0.0/0".parse().unwrap(),
            Route {
                port: 1,
                next_hop: Some("192.0.2.254".parse().unwrap()),
            },
        )
        .unwrap();
    t.neighbours
        .insert(1, "192.0.2.254".parse().unwrap(), [2, 0, 0, 0, 0, 0xfe])
        .unwrap();
    e
}

/// A 64-byte Ethernet + IPv4 + UDP frame to `dst`.
fn frame(dst: Ipv4Addr) -> [u8; 64] {
    let mut f = [0u8; 64];
    f[..6].copy_from_slice(&MAC1);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 0x99]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = &mut f[14..34];
    ip.copy_from_slice(&[
        0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 9, 0, 0, 0, 0,
    ]);
    ip[16..20].copy_from_slice(&dst.octets());
    let sum = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f[34..42].copy_from_slice(&[0x03, 0xe8, 0x07, 0xd0, 0, 30, 0, 0]);
    f
}

/// Puts `frame` back into `p` with the pool's default headroom.
fn reset(p: &mut MemPacket, frame: &[u8]) {
    let head = p.headroom();
    if head < HEADROOM {
        let _ = p.adj(HEADROOM - head);
    } else if head > HEADROOM {
        let _ = p.prepend(head - HEADROOM);
    }
    let len = p.data().len();
    if len > frame.len() {
        let _ = p.trim(len - frame.len());
    } else if len < frame.len() {
        let _ = p.append(frame.len() - len);
    }
    p.data_mut().copy_from_slice(frame);
}

fn per_packet(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));
    let pool = MemPool::new(4);
    let frames: Vec<[u8; 64]> = (0..4096).map(|i| frame(home(i * 251 % 1_000))).collect();
    let mut p = pool.packet(&frames[0]).unwrap();
    let mut i = 0usize;
    g.bench_function("reset", |b| {
        b.iter(|| {
            i = (i + 1) % frames.len();
            reset(&mut p, &frames[i]);
        })
    });
    let mut fw = Forwarder::new(&[
        ForwarderPort {
            mac: MAC0,
            peer_mac: [2, 0, 0, 0, 0, 0x98],
            forward_to: 1,
        },
        ForwarderPort {
            mac: MAC1,
            peer_mac: [2, 0, 0, 0, 0, 0x99],
            forward_to: 0,
        },
    ]);
    g.bench_function("forwarder", |b| {
        b.iter(|| {
            i = (i + 1) % frames.len();
            reset(&mut p, &frames[i]);
            black_box(fw.process(1, &mut p))
        })
    });
    for n in [1_000u32, 1_000_000] {
        let mut e = home_agent(n);
        let frames: Vec<[u8; 64]> = (0..4096u32)
            .map(|k| frame(home(k.wrapping_mul(2_654_435_761) % n)))
            .collect();
        // The path measured is the tunnelling one, not a drop.
        for f in &frames {
            reset(&mut p, f);
            assert_eq!(e.process(1, &mut p), Action::Forward(1));
        }
        g.bench_function(format!("home_agent/{n}_bindings"), |b| {
            b.iter(|| {
                i = (i + 1) % frames.len();
                reset(&mut p, &frames[i]);
                black_box(e.process(1, &mut p))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, profile_search, per_packet);
criterion_main!(benches);
