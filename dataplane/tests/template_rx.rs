//! The template RX wrapper (a benchmark aid) under the worker loop: whatever arrives, the
//! processor sees the templates in turn, with their lengths, and nothing on the packet
//! path allocates.

use std::sync::Arc;
use std::time::Duration;

use mipdp_dataplane::port::memory::{memory_port, MemPool};
use mipdp_dataplane::port::template::{TemplateRx, Templates};
use mipdp_dataplane::{Forwarder, ForwarderPort, PacketBuf, Worker};
use mipdp_dpdk::alloc_count::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

fn frame(len: usize, tag: u8) -> Vec<u8> {
    let mut f = vec![tag; len];
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f
}

#[test]
fn the_forwarder_sees_the_templates_in_turn_and_nothing_allocates() {
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
    let frames = [frame(60, 0xa1), frame(118, 0xb2), frame(1514, 0xc3)];
    let templates = Arc::new(Templates::new(frames.iter().map(Vec::as_slice)).unwrap());
    let mut worker = Worker::new(
        0,
        vec![
            TemplateRx::new(rx_a, templates.clone(), 0),
            TemplateRx::plain(rx_b),
        ],
        vec![tx_a, tx_b],
        Forwarder::new(&ports),
        Duration::from_micros(10),
    )
    .unwrap();

    // Port a's frames become the templates; port b's pass through unchanged.
    for _ in 0..5 {
        assert!(a.inject(&[0u8; 64]));
    }
    assert!(b.inject(&frame(70, 0x77)));
    while worker.poll_once() > 0 {}
    let mut out = Vec::new();
    while let Some(p) = b.take_sent() {
        out.push((p.data().len(), p.data()[20], p.data()[..6].to_vec()));
    }
    let tags: Vec<(usize, u8)> = out.iter().map(|(l, t, _)| (*l, *t)).collect();
    assert_eq!(
        tags,
        [
            (60, 0xa1),
            (118, 0xb2),
            (1514, 0xc3),
            (60, 0xa1),
            (118, 0xb2)
        ]
    );
    assert!(out.iter().all(|(_, _, dst)| dst == &[2, 0, 0, 0, 0, 4]));
    let back = a.take_sent().unwrap();
    assert_eq!((back.data().len(), back.data()[20]), (70, 0x77));

    // Thousands more, counting allocations.
    let mut allocations = 0;
    for _ in 0..200 {
        for _ in 0..40 {
            a.inject(&[0u8; 64]);
        }
        let before = GLOBAL.allocations();
        while worker.poll_once() > 0 {}
        allocations += GLOBAL.allocations() - before;
        while b.take_sent().is_some() {}
    }
    let c = worker.counters().snapshot();
    assert!(c.tx[1] > 7_000, "packets did flow: {c:?}");
    assert_eq!(allocations, 0, "allocations on the packet path");
}
