#![no_main]
//! The whole per-packet decision on arbitrary frames: an engine holding every role's
//! default profiles (home agent, foreign agent, MAP, MMA, correspondent, anycast, router),
//! a binding of each method, visitors, cache, multicast and anycast entries, routes and
//! neighbours, handles each input as a frame arriving on port 0 or 1 (the first byte
//! picks which, and whether the input is taken as an IPv4 or IPv6 packet behind a fixed
//! Ethernet header with its IPv4 header checksum filled in, so most inputs get past it).
//! Nothing may panic; every packet ends forwarded to a real port, punted or dropped with a
//! reason; a forwarded frame has an Ethernet header and at most the buffer's length.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::engine::{Engine, NodeConfig};
use mipdp_dataplane::port::memory::MemPool;
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{
    AnycastGroup, AnycastTarget, Binding, CacheEntry, CareOfList, Encap, MulticastEntry, Route,
    TargetState, Visitor,
};
use mipdp_dataplane::wire::ipv4::Ipv4Packet;
use mipdp_dataplane::{Action, Processor};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn engine() -> Engine {
    let own4 = Ipv4Addr::new(10, 1, 0, 1);
    let own6: Ipv6Addr = "2001:db8:1::1".parse().unwrap();
    let mut node = NodeConfig::new(
        vec![[2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]],
        vec![own4, Ipv4Addr::new(192, 0, 2, 1)],
        vec![own6],
    );
    node.tunnel.path_mtu = 1280;
    let mut e = Engine::new(node);
    let t = e.tables_mut();
    let own = [IpAddr::V4(own4), IpAddr::V6(own6)];
    let mut profiles = roles::home_agent(&own);
    profiles.extend(roles::map(&own, &["2001:db8:aaaa::/64".parse().unwrap()]));
    profiles.extend(roles::anycast(&[ip("10.1.0.200")]));
    for (i, (home, coa, encap)) in [
        ("10.1.0.100", "203.0.113.7", Encap::IpInIp),
        ("10.1.0.101", "203.0.113.8", Encap::Gre),
        ("10.1.0.102", "203.0.113.9", Encap::Minimal),
        ("2001:db8:1::100", "2001:db8:2::7", Encap::IpInIp),
        ("2001:db8:aaaa::42", "2001:db8:2::42", Encap::IpInIp),
    ]
    .into_iter()
    .enumerate()
    {
        let coa = ip(coa);
        let source = if coa.is_ipv4() {
            IpAddr::V4(own4)
        } else {
            IpAddr::V6(own6)
        };
        let mut care_of = CareOfList::one(coa);
        if coa.is_ipv4() {
            care_of.push(ip("203.0.113.99"));
        }
        t.insert_binding(
            ip(home),
            Binding {
                care_of,
                encap,
                source,
                tos: Some(0xb8),
            },
        )
        .unwrap();
        profiles.push(roles::home_address(i as u32, ip(home)));
    }
    profiles.push(roles::cached_destination(100, ip("2001:db8:5::100")));
    for p in profiles {
        let _ = t.insert_profile(p);
    }
    t.visitors
        .insert(
            ip("10.9.0.5"),
            Visitor {
                mac: [2, 0, 0, 0, 0, 5],
                port: 0,
            },
        )
        .unwrap();
    t.cache
        .insert(
            ip("2001:db8:5::100"),
            CacheEntry {
                care_of: ip("2001:db8:99::7"),
                encap: None,
            },
        )
        .unwrap();
    t.multicast
        .insert(
            ip("2001:db8:1::101"),
            MulticastEntry::to_group(ip("ff3e:30:2001:db8:211:22ff:fe33:4455"), Encap::IpInIp)
                .unwrap(),
        )
        .unwrap();
    t.anycast
        .insert(
            ip("10.1.0.200"),
            AnycastGroup::new(&[
                AnycastTarget {
                    addr: ip("203.0.113.50"),
                    state: TargetState::Online,
                },
                AnycastTarget {
                    addr: ip("203.0.113.51"),
                    state: TargetState::Faulty,
                },
            ])
            .unwrap(),
        )
        .unwrap();
    for (prefix, port, hop) in [
        ("10.1.0.0/24", 0, None),
        ("0.0.0.0/0", 1, Some("192.0.2.254")),
        ("2001:db8:1::/64", 0, None),
        ("::/0", 1, Some("fe80::fe")),
        ("ff00::/8", 0, None),
    ] {
        t.routes
            .insert(
                prefix.parse().unwrap(),
                Route {
                    port,
                    next_hop: hop.map(ip),
                },
            )
            .unwrap();
    }
    t.neighbours
        .insert(1, ip("192.0.2.254"), [2, 0, 0, 0, 0, 0xfe])
        .unwrap();
    t.neighbours
        .insert(1, ip("fe80::fe"), [2, 0, 0, 0, 0, 0xfe])
        .unwrap();
    e
}

struct State {
    engine: Engine,
    pool: MemPool,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn check(action: Action, frame: &[u8]) {
    match action {
        Action::Forward(port) => {
            assert!(port < 2, "forwarded to port {port}");
            assert!(
                frame.len() >= 14,
                "forwarded a frame of {} bytes",
                frame.len()
            );
        }
        Action::Punt | Action::Drop(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut guard = STATE.lock().unwrap();
    let state = guard.get_or_insert_with(|| State {
        engine: engine(),
        pool: MemPool::new(64),
    });
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let port = usize::from(first & 1);
    let frame: Vec<u8> = match (first >> 1) & 3 {
        // As an IPv4 packet, header checksum filled in.
        0 => {
            let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 9, 0x08, 0x00];
            let mut ip = rest.to_vec();
            if Ipv4Packet::new_checked(&ip[..]).is_ok() {
                Ipv4Packet::new_unchecked(&mut ip[..]).fill_checksum();
            }
            f.extend_from_slice(&ip);
            f
        }
        // As an IPv6 packet.
        1 => {
            let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 9, 0x86, 0xdd];
            f.extend_from_slice(rest);
            f
        }
        // As a whole frame.
        _ => rest.to_vec(),
    };
    let Some(mut packet) = state.pool.packet(&frame) else {
        return;
    };
    let mut extra = Vec::new();
    let action = state
        .engine
        .process_with(port, &mut packet, &mut |p, a| extra.push((p, a)));
    check(action, packet.data());
    for (p, a) in &extra {
        check(*a, p.data());
    }
});
