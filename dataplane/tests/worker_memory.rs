//! Engine-level tests of the worker loop on in-memory ports: packets in, packets out.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mipdp_dataplane::port::memory::{memory_port, MemPool, MemPortHandle, MemRx, MemTx};
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::worker::check_core;
use mipdp_dataplane::{DropReason, Forwarder, ForwarderPort, Worker, WorkerError};

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 0xa0];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 0xa1];
const PEER_A: [u8; 6] = [2, 0, 0, 0, 0, 0xb0];
const PEER_B: [u8; 6] = [2, 0, 0, 0, 0, 0xb1];

struct Rig {
    worker: Worker<MemRx, MemTx, Forwarder>,
    a: MemPortHandle,
    b: MemPortHandle,
}

fn rig(tx_ring: usize) -> Rig {
    let pool = MemPool::new(1024);
    let (a, rx_a, tx_a) = memory_port(&pool, tx_ring);
    let (b, rx_b, tx_b) = memory_port(&pool, tx_ring);
    let forwarder = Forwarder::new(&[
        ForwarderPort {
            mac: MAC_A,
            peer_mac: PEER_A,
            forward_to: 1,
        },
        ForwarderPort {
            mac: MAC_B,
            peer_mac: PEER_B,
            forward_to: 0,
        },
    ]);
    let worker = Worker::new(
        0,
        vec![rx_a, rx_b],
        vec![tx_a, tx_b],
        forwarder,
        Duration::from_micros(100),
    )
    .unwrap();
    Rig { worker, a, b }
}

fn frame(seq: u16, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    f[12..14].copy_from_slice(&[0x88, 0xb5]);
    for (i, b) in f[14..].iter_mut().enumerate() {
        *b = (seq as usize * 7 + i) as u8;
    }
    if len >= 16 {
        f[14..16].copy_from_slice(&seq.to_be_bytes());
    }
    f
}

fn drain(h: &MemPortHandle) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| h.take_sent().map(|p| p.data().to_vec())).collect()
}

#[test]
fn frames_cross_in_order_with_mac_rewrite_both_ways() {
    let mut r = rig(256);
    let sent: Vec<Vec<u8>> = (0..100).map(|i| frame(i, 60 + i as usize * 9)).collect();
    for f in &sent {
        assert!(r.a.inject(f));
    }
    assert!(r.b.inject(&frame(999, 64)));
    while r.worker.poll_once() > 0 {}
    let got = drain(&r.b);
    assert_eq!(got.len(), sent.len());
    for (g, s) in got.iter().zip(&sent) {
        assert_eq!(&g[..6], &PEER_B);
        assert_eq!(&g[6..12], &MAC_B);
        assert_eq!(&g[12..], &s[12..]);
    }
    let back = drain(&r.a);
    assert_eq!(back.len(), 1);
    assert_eq!(&back[0][..12], &[PEER_A, MAC_A].concat()[..]);
    let c = r.worker.counters().snapshot();
    assert_eq!(c.rx, vec![100, 1]);
    assert_eq!(c.tx, vec![1, 100]);
    assert_eq!(c.dropped(), 0);
}

#[test]
fn runts_in_a_burst_are_counted_and_the_rest_keep_their_order() {
    let mut r = rig(256);
    let mut expect = Vec::new();
    for i in 0..32u16 {
        if i % 5 == 0 {
            assert!(r.a.inject(&[0u8; 13]));
        } else {
            let f = frame(i, 64);
            expect.push(f[14..16].to_vec());
            assert!(r.a.inject(&f));
        }
    }
    r.worker.poll_once();
    let got: Vec<Vec<u8>> = drain(&r.b).iter().map(|g| g[14..16].to_vec()).collect();
    assert_eq!(got, expect);
    let c = r.worker.counters().snapshot();
    assert_eq!(c.drops_for(DropReason::Runt), 7);
    assert_eq!(c.tx[1], 25);
}

#[test]
fn a_full_tx_ring_drops_and_counts_instead_of_stalling() {
    let mut r = rig(4);
    for i in 0..4 {
        assert!(r.a.inject(&frame(i, 64)));
    }
    r.worker.poll_once();
    // The TX ring of port b now holds 4 that nobody took; 4 more cannot go out.
    for i in 4..8 {
        assert!(r.a.inject(&frame(i, 64)));
    }
    r.worker.poll_once();
    let c = r.worker.counters().snapshot();
    assert_eq!(c.tx[1], 4);
    assert_eq!(c.drops_for(DropReason::TxFull), 4);
    assert_eq!(drain(&r.b).len(), 4);
}

#[test]
fn spawned_worker_forwards_until_stopped_and_returns_its_counters() {
    let r = rig(256);
    let stop = Arc::new(AtomicBool::new(false));
    let counters = r.worker.counters();
    let core = check_core(0).unwrap();
    let handle = r.worker.spawn(core, || Ok(()), stop.clone()).unwrap();
    for i in 0..50 {
        assert!(r.a.inject(&frame(i, 100)));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while counters.snapshot().tx[1] < 50 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let worker = handle.join().unwrap();
    assert_eq!(worker.counters().snapshot().tx[1], 50);
    assert_eq!(r.b.sent_len(), 50);
}

#[test]
fn failed_thread_init_is_reported_not_run() {
    let r = rig(16);
    let stop = Arc::new(AtomicBool::new(false));
    let core = check_core(0).unwrap();
    let err = r
        .worker
        .spawn(core, || Err("no lcore left".to_string()), stop)
        .err()
        .unwrap();
    assert!(matches!(err, WorkerError::Start { .. }));
    assert!(err.to_string().contains("no lcore left"));
}

#[test]
fn a_core_that_does_not_exist_is_named_with_the_ones_that_do() {
    let err = check_core(4096).unwrap_err().to_string();
    assert!(err.contains("core 4096 does not exist"), "{err}");
    assert!(err.contains("this machine has cores 0"), "{err}");
}
