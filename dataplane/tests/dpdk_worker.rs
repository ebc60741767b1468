//! The worker loop on real DPDK ports (net_ring, whose TX feeds its own RX): frames keep
//! circulating port 0 → port 1 → port 0 through the forwarder, with a counting allocator
//! showing that the DPDK path allocates nothing per packet either.

use std::time::Duration;

use mipdp_dataplane::{Forwarder, ForwarderPort, Worker};
use mipdp_dpdk::alloc_count::CountingAlloc;
use mipdp_dpdk::{register_thread, Eal, MbufBatch, Mempool, Port, PortConfig};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

#[test]
fn frames_circulate_between_ring_ports_without_allocating() {
    let prefix = format!("--file-prefix=mipdp-dw-{}", std::process::id());
    let eal = Eal::init(&[
        "dpdk_worker",
        "--no-huge",
        "-m",
        "256",
        "--no-pci",
        "--no-shconf",
        "--log-level=lib.eal:error",
        prefix.as_str(),
        "--vdev=net_ring0",
        "--vdev=net_ring1",
    ])
    .expect("EAL starts with --no-huge --no-pci");
    register_thread(&eal).expect("test thread registered with DPDK");
    let pool = Mempool::new(&eal, "dw_pool", 4095, 32, 2176).unwrap();
    let config = PortConfig {
        rx_queues: 1,
        tx_queues: 1,
        rx_descriptors: 256,
        tx_descriptors: 256,
        ..PortConfig::default()
    };
    let p0 = Port::open(&eal, "net_ring0", &config, &pool).unwrap();
    let p1 = Port::open(&eal, "net_ring1", &config, &pool).unwrap();
    let ports = [
        ForwarderPort {
            mac: p0.mac(),
            peer_mac: [2, 0, 0, 0, 0, 0],
            forward_to: 1,
        },
        ForwarderPort {
            mac: p1.mac(),
            peer_mac: [2, 0, 0, 0, 0, 1],
            forward_to: 0,
        },
    ];
    // Seed 64 frames into port 0 (a net_ring's TX queue 0 feeds its RX queue 0).
    let mut control = p0.tx_queue(0).unwrap();
    for _ in 0..2 {
        let mut seed = MbufBatch::new();
        for i in 0..32u8 {
            let mut m = pool.alloc().unwrap();
            let f = m.append(64).unwrap();
            f.fill(i);
            seed.push(m).map_err(|_| ()).unwrap();
        }
        assert_eq!(control.burst(&mut seed).sent, 32);
    }
    let mut worker = Worker::new(
        0,
        vec![p0.rx_queue(0).unwrap(), p1.rx_queue(0).unwrap()],
        vec![control, p1.tx_queue(0).unwrap()],
        Forwarder::new(&ports),
        Duration::from_micros(10),
    )
    .unwrap();
    for _ in 0..100 {
        worker.poll_once();
    }
    let before = GLOBAL.allocations();
    for _ in 0..10_000 {
        worker.poll_once();
    }
    let allocations = GLOBAL.allocations() - before;
    let c = worker.counters().snapshot();
    assert!(c.tx[0] + c.tx[1] > 100_000, "frames circulated: {c:?}");
    assert_eq!(c.dropped(), 0);
    assert_eq!(allocations, 0, "allocations on the DPDK packet path");
    assert_eq!(
        pool.size() - pool.available(),
        64,
        "no buffer leaked or lost"
    );
}
