//! The engine allocates nothing per packet: a counting global allocator watches a worker
//! running the home agent role (simultaneous bindings with copies, reverse tunnels,
//! proxy ARP, punted registration, unresolved next hops, a notifying profile's copies)
//! and applying binding updates.

use core::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use mipdp_dataplane::engine::{Engine, NodeConfig};
use mipdp_dataplane::port::memory::{memory_port, MemPool};
use mipdp_dataplane::profile::{AddrMatch, Class, Edit, Match, Profile, ProfileId, TableRef};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{Binding, CareOfList, Encap, Route};
use mipdp_dataplane::update::{channels, Update};
use mipdp_dataplane::wire::ipv4::IpProtocol;
use mipdp_dataplane::Worker;
use mipdp_dpdk::alloc_count::CountingAlloc;

mod frames;
use frames::{arp, eth, ipv4, udp};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

const MAC0: [u8; 6] = [2, 0, 0, 0, 0, 0x10];
const MAC1: [u8; 6] = [2, 0, 0, 0, 0, 0x11];
const ROUTER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xfe];
const NODE: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const CN: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);

fn home(i: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(0x0a01_0064 + i)
}

fn binding(i: u32) -> Binding {
    let coa = |k: u32| IpAddr::V4(Ipv4Addr::from_bits(0xcb00_7100 + k));
    Binding {
        care_of: CareOfList::from_slice(&[coa(i % 50), coa(100 + i % 50)]).unwrap(),
        encap: if i % 2 == 0 {
            Encap::IpInIp
        } else {
            Encap::Gre
        },
        source: IpAddr::V4(NODE),
        tos: None,
    }
}

#[test]
fn the_engine_allocates_nothing_per_packet_or_per_update() {
    let pool = MemPool::new(1024);
    let (a, rx_a, tx_a) = memory_port(&pool, 512);
    let (b, rx_b, tx_b) = memory_port(&pool, 512);
    let (mut updates, mut receivers) = channels(1, 256, 16);
    let punts = Arc::new(ArrayQueue::new(256));
    let resolve = Arc::new(ArrayQueue::new(256));
    let mut engine = Engine::new(NodeConfig::new(vec![MAC0, MAC1], vec![NODE], vec![]))
        .with_updates(receivers.pop().unwrap())
        .with_resolver(resolve.clone());
    let t = engine.tables_mut();
    let mut profiles = roles::home_agent(&[IpAddr::V4(NODE)]);
    for i in 0..16 {
        profiles.push(roles::home_address(i, IpAddr::V4(home(i))));
        t.insert_binding(IpAddr::V4(home(i)), binding(i)).unwrap();
    }
    // Reverse tunnels from one care-of address are also copied to the control thread.
    profiles.push(Profile {
        id: ProfileId {
            session: 0,
            number: 900,
        },
        class: Class::NodeSource,
        matches: Match {
            src: AddrMatch::Exact(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
            dst: AddrMatch::Exact(IpAddr::V4(NODE)),
            proto: Some(4),
            ..Match::ANY
        },
        edit: Edit {
            decapsulate: true,
            notify: true,
            ..Edit::NONE
        },
        table: TableRef::Profiles,
    });
    for p in profiles {
        t.insert_profile(p).unwrap();
    }
    t.routes
        .insert(
            "10.1.0.0/24".parse().unwrap(),
            Route {
                port: 0,
                next_hop: None,
            },
        )
        .unwrap();
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
        .insert(1, "192.0.2.254".parse().unwrap(), ROUTER_MAC)
        .unwrap();
    let mut worker = Worker::new(
        0,
        vec![rx_a, rx_b],
        vec![tx_a, tx_b],
        engine,
        Duration::from_micros(10),
    )
    .unwrap()
    .with_punt(punts.clone());

    let frames: Vec<(bool, Vec<u8>)> = vec![
        // To bound home addresses: tunnelled to two care-of addresses each.
        (
            false,
            eth(
                MAC1,
                ROUTER_MAC,
                0x0800,
                &ipv4(CN, home(3), IpProtocol::UDP, 64, 0, &udp(1, 2, &[7; 200])),
            ),
        ),
        (
            false,
            eth(
                MAC1,
                ROUTER_MAC,
                0x0800,
                &ipv4(CN, home(4), IpProtocol::UDP, 64, 0, &udp(1, 2, &[7; 64])),
            ),
        ),
        // A reverse tunnel from a mobile: decapsulated and routed.
        (
            false,
            eth(
                MAC1,
                ROUTER_MAC,
                0x0800,
                &ipv4(
                    Ipv4Addr::new(203, 0, 113, 7),
                    NODE,
                    IpProtocol::IPIP,
                    60,
                    0,
                    &ipv4(home(3), CN, IpProtocol::UDP, 64, 0, &udp(2, 1, b"up")),
                ),
            ),
        ),
        // Proxy ARP for a bound home address, on the home link.
        (
            true,
            eth(
                [0xff; 6],
                [2, 0, 0, 0, 0, 0x77],
                0x0806,
                &arp(
                    1,
                    [2, 0, 0, 0, 0, 0x77],
                    Ipv4Addr::new(10, 1, 0, 50),
                    [0; 6],
                    home(5),
                ),
            ),
        ),
        // A registration request to the home agent: punted.
        (
            false,
            eth(
                MAC1,
                ROUTER_MAC,
                0x0800,
                &ipv4(
                    Ipv4Addr::new(203, 0, 113, 7),
                    NODE,
                    IpProtocol::UDP,
                    60,
                    0,
                    &udp(434, 434, &[1; 24]),
                ),
            ),
        ),
        // An unresolved on-link destination: dropped, resolution requested.
        (
            false,
            eth(
                MAC1,
                ROUTER_MAC,
                0x0800,
                &ipv4(
                    CN,
                    Ipv4Addr::new(10, 1, 0, 200),
                    IpProtocol::UDP,
                    64,
                    0,
                    &udp(1, 2, b"?"),
                ),
            ),
        ),
    ];
    let mut round = 0u32;
    let mut cycle = |worker: &mut Worker<_, _, _>| {
        for _ in 0..8 {
            for (home_link, f) in &frames {
                if *home_link {
                    a.inject(f);
                } else {
                    b.inject(f);
                }
            }
        }
        // Re-bind a few home addresses (new care-of addresses) while traffic flows.
        for k in 0..4 {
            let i = (round * 4 + k) % 16;
            updates.send(Update::Binding {
                home: IpAddr::V4(home(i)),
                binding: binding(i + round),
            });
        }
        round += 1;
        let before = GLOBAL.allocations();
        while worker.poll_once() > 0 {}
        worker.poll_once();
        let during = GLOBAL.allocations() - before;
        while a.take_sent().is_some() {}
        while b.take_sent().is_some() {}
        while punts.pop().is_some() {}
        while resolve.pop().is_some() {}
        during
    };
    cycle(&mut worker);
    let mut total = 0;
    for _ in 0..200 {
        total += cycle(&mut worker);
    }
    let c = worker.counters().snapshot();
    let e = worker.processor().snapshot().clone();
    assert!(c.tx.iter().sum::<u64>() > 5_000, "packets did flow: {c:?}");
    assert!(
        e.copies > 3_000 && e.copies_unsent == 0,
        "copies were made: {e:?}"
    );
    assert!(
        e.punts > 1_000 && e.arp_replies > 1_000 && e.resolutions > 1_000,
        "{e:?}"
    );
    assert!(e.updates >= 800, "updates were applied: {e:?}");
    assert!(
        e.notify_copies >= 20 && e.notify_limited > 1_000,
        "notifying copies were made and limited: {e:?}"
    );
    assert_eq!(total, 0, "allocations on the packet or update path");
}
