//! Nothing on the per-packet path allocates: a counting global allocator watches the
//! worker loop forward thousands of packets on in-memory ports after a warm-up.

use std::time::Duration;

use mipdp_dataplane::port::memory::{memory_port, MemPool};
use mipdp_dataplane::{Forwarder, ForwarderPort, Worker};
use mipdp_dpdk::alloc_count::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

#[test]
fn forwarding_allocates_nothing_per_packet() {
    let pool = MemPool::new(512);
    let (a, rx_a, tx_a) = memory_port(&pool, 256);
    let (b, rx_b, tx_b) = memory_port(&pool, 256);
    let ports = [
        ForwarderPort {
            mac: [2, 0, 0, 0, 0, 1],
            peer_mac: [2, 0, 0, 0, 0, 2],
            forward_to: 1,
        },
        ForwarderPort {
            mac: [2, 0, 0, 0, 0, 3],
            peer_mac: [2, 0, 0, 0, 0, 4],
            forward_to: 0,
        },
    ];
    let mut worker = Worker::new(
        0,
        vec![rx_a, rx_b],
        vec![tx_a, tx_b],
        Forwarder::new(&ports),
        Duration::from_micros(10),
    )
    .unwrap();
    let frame = [0x5au8; 128];
    let runt = [0u8; 10];
    let cycle = |worker: &mut Worker<_, _, _>| {
        for i in 0..40 {
            a.inject(if i % 9 == 0 { &runt[..] } else { &frame[..] });
            b.inject(&frame);
        }
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
    let c = worker.counters().snapshot();
    assert!(c.tx.iter().sum::<u64>() > 10_000, "packets did flow: {c:?}");
    assert_eq!(total, 0, "allocations on the packet path");
}
