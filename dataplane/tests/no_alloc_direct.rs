//! The direct path (`tables::direct`) allocates nothing per packet or per update: a
//! counting global allocator watches a worker running a plain home agent, whose bound
//! home addresses take the direct path, while bindings move between care-of addresses and
//! in and out of the direct index (IP in IP ↔ GRE).

use core::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use mipdp_dataplane::engine::{Engine, NodeConfig, TunnelKind};
use mipdp_dataplane::port::memory::{memory_port, MemPool};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{Binding, CareOfList, Encap, Route};
use mipdp_dataplane::update::{channels, Update};
use mipdp_dataplane::wire::ipv4::IpProtocol;
use mipdp_dataplane::Worker;
use mipdp_dpdk::alloc_count::CountingAlloc;

mod frames;
use frames::{eth, ipv4, udp};

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

fn binding(i: u32, round: u32) -> Binding {
    Binding {
        care_of: CareOfList::one(IpAddr::V4(Ipv4Addr::from_bits(
            0xcb00_7100 + (i + round) % 200,
        ))),
        // Every fourth round a binding leaves the direct index (GRE), then comes back.
        encap: if (i + round) % 4 == 0 {
            Encap::Gre
        } else {
            Encap::IpInIp
        },
        source: IpAddr::V4(NODE),
        tos: None,
    }
}

#[test]
fn the_direct_path_allocates_nothing_per_packet_or_per_update() {
    let pool = MemPool::new(1024);
    let (a, rx_a, tx_a) = memory_port(&pool, 512);
    let (b, rx_b, tx_b) = memory_port(&pool, 512);
    let (mut updates, mut receivers) = channels(1, 256, 16);
    let mut engine = Engine::new(NodeConfig::new(vec![MAC0, MAC1], vec![NODE], vec![]))
        .with_updates(receivers.pop().unwrap());
    let t = engine.tables_mut();
    let mut profiles = roles::home_agent(&[IpAddr::V4(NODE)]);
    for i in 0..16 {
        profiles.push(roles::home_address(i, IpAddr::V4(home(i))));
        t.insert_binding(IpAddr::V4(home(i)), binding(i, 1))
            .unwrap();
    }
    for p in profiles {
        t.insert_profile(p).unwrap();
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
        .insert(1, "192.0.2.254".parse().unwrap(), ROUTER_MAC)
        .unwrap();
    assert!(t.direct().len() >= 12, "{}", t.direct().len());
    let mut worker = Worker::new(
        0,
        vec![rx_a, rx_b],
        vec![tx_a, tx_b],
        engine,
        Duration::from_micros(10),
    )
    .unwrap();

    let frames: Vec<Vec<u8>> = (0..16)
        .map(|i| {
            eth(
                MAC1,
                ROUTER_MAC,
                0x0800,
                &ipv4(CN, home(i), IpProtocol::UDP, 64, 0, &udp(1, 2, &[7; 64])),
            )
        })
        .collect();
    let mut round = 0u32;
    let mut cycle = |worker: &mut Worker<_, _, _>| {
        for _ in 0..4 {
            for f in &frames {
                b.inject(f);
            }
        }
        for k in 0..4 {
            let i = (round * 4 + k) % 16;
            updates.send(Update::Binding {
                home: IpAddr::V4(home(i)),
                binding: binding(i, round),
            });
        }
        round += 1;
        let before = GLOBAL.allocations();
        while worker.poll_once() > 0 {}
        worker.poll_once();
        let during = GLOBAL.allocations() - before;
        while a.take_sent().is_some() {}
        while b.take_sent().is_some() {}
        during
    };
    cycle(&mut worker);
    let mut total = 0;
    for _ in 0..200 {
        total += cycle(&mut worker);
    }
    let e = worker.processor().snapshot().clone();
    let ipip = e.encaps[TunnelKind::Ipip as usize];
    let gre = e.encaps[TunnelKind::Gre as usize];
    assert!(ipip > 8_000 && gre > 1_000, "both paths ran: {e:?}");
    assert!(e.updates >= 800, "updates were applied: {e:?}");
    assert_eq!(total, 0, "allocations on the direct path or its updates");
}
