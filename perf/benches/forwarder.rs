#![allow(missing_docs)] // criterion_group! generates undocumented items
//! The forwarder's per-packet cost on in-memory ports: one worker poll moving a burst of
//! 32 frames from port 0 to port 1 with MAC rewrite.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mipdp_dataplane::port::memory::{memory_port, MemPool};
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::{Forwarder, ForwarderPort, Processor, Worker};

fn ports() -> [ForwarderPort; 2] {
    [
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
    ]
}

fn forwarder_process(c: &mut Criterion) {
    let pool = MemPool::new(4);
    let mut f = Forwarder::new(&ports());
    let mut packet = pool.packet(&[0x5a; 64]).expect("pool has buffers");
    let mut g = c.benchmark_group("forwarder");
    g.throughput(Throughput::Elements(1));
    g.bench_function("process_one_64B", |b| {
        b.iter(|| f.process(std::hint::black_box(0), &mut packet))
    });
    g.finish();
    std::hint::black_box(packet.data());
}

fn worker_burst(c: &mut Criterion) {
    let pool = MemPool::new(256);
    let (a, rx_a, tx_a) = memory_port(&pool, 64);
    let (b, rx_b, tx_b) = memory_port(&pool, 64);
    let mut worker = Worker::new(
        0,
        vec![rx_a, rx_b],
        vec![tx_a, tx_b],
        Forwarder::new(&ports()),
        Duration::ZERO,
    )
    .expect("worker");
    let frame = [0x5au8; 64];
    let mut g = c.benchmark_group("worker");
    g.throughput(Throughput::Elements(32));
    // Includes the memory ports' own cost (copying frames in, taking them out), which a
    // NIC does not add; the figure is an upper bound on the worker's cost per packet.
    g.bench_function("inject_poll_take_32x64B_memory_ports", |bench| {
        bench.iter(|| {
            for _ in 0..32 {
                a.inject(&frame);
            }
            let n = worker.poll_once();
            let mut out = 0;
            while b.take_sent().is_some() {
                out += 1;
            }
            assert_eq!((n, out), (32, 32), "every frame crossed");
        })
    });
    g.finish();
}

criterion_group!(benches, forwarder_process, worker_burst);
criterion_main!(benches);
