//! The template RX wrapper on DPDK mbufs (a net_ring port, whose TX feeds its own RX):
//! received frames get each template's bytes and length (the mbuf grows with append and
//! shrinks with trim), and nothing allocates.

use std::sync::Arc;

use mipdp_dataplane::port::template::{TemplateRx, Templates};
use mipdp_dataplane::RxPort;
use mipdp_dpdk::alloc_count::CountingAlloc;
use mipdp_dpdk::{register_thread, Eal, MbufBatch, Mempool, Port, PortConfig};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

/// Removes this test's DPDK runtime directory when dropped, also when the test fails
/// (EAL cleanup leaves it behind).
struct RuntimeDir(std::path::PathBuf);

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn runtime_dir(prefix: &str) -> RuntimeDir {
    let base = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !is_root() => std::path::PathBuf::from(d).join("dpdk"),
        _ => std::path::PathBuf::from("/var/run/dpdk"),
    };
    RuntimeDir(base.join(prefix))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn ring_frames_become_the_templates_with_their_lengths() {
    let name = format!("mipdp-trx-{}", std::process::id());
    let _cleanup = runtime_dir(&name);
    let prefix = format!("--file-prefix={name}");
    let eal = Eal::init(&[
        "template_rx_dpdk",
        "--no-huge",
        "-m",
        "256",
        "--no-pci",
        "--no-shconf",
        "--log-level=lib.eal:error",
        prefix.as_str(),
        "--vdev=net_ring0",
    ])
    .expect("EAL starts with --no-huge --no-pci");
    register_thread(&eal).expect("test thread registered with DPDK");
    let pool = Mempool::new(&eal, "trx_pool", 1023, 32, 2176).unwrap();
    let config = PortConfig {
        rx_queues: 1,
        tx_queues: 1,
        rx_descriptors: 256,
        tx_descriptors: 256,
        ..PortConfig::default()
    };
    let port = Port::open(&eal, "net_ring0", &config, &pool).unwrap();
    let mut tx = port.tx_queue(0).unwrap();
    let lens = [60usize, 118, 1514, 64];
    let frames: Vec<Vec<u8>> = lens
        .iter()
        .enumerate()
        .map(|(i, len)| vec![0x10 + i as u8; *len])
        .collect();
    let templates = Arc::new(Templates::new(frames.iter().map(Vec::as_slice)).unwrap());
    let mut rx = TemplateRx::new(port.rx_queue(0).unwrap(), templates, 1);

    let mut allocations = 0;
    let mut seen = Vec::new();
    for round in 0..50 {
        let mut seed = MbufBatch::new();
        for _ in 0..8 {
            let mut m = pool.alloc().unwrap();
            m.append(64).unwrap().fill(0xee);
            seed.push(m).map_err(|_| ()).unwrap();
        }
        assert_eq!(tx.burst(&mut seed).sent, 8);
        let mut batch = MbufBatch::new();
        let before = GLOBAL.allocations();
        let n = rx.rx_burst(&mut batch);
        allocations += GLOBAL.allocations() - before;
        assert_eq!(n, 8);
        if round == 0 {
            for m in batch.as_slice() {
                seen.push((m.len(), m.pkt_len(), m.data()[0], m.data()[m.len() - 1]));
            }
        }
        // Dropping the batch frees the mbufs.
    }
    let expect: Vec<(usize, usize, u8, u8)> = (0..8)
        .map(|k| {
            let i = (1 + k) % lens.len();
            (lens[i], lens[i], 0x10 + i as u8, 0x10 + i as u8)
        })
        .collect();
    assert_eq!(seen, expect);
    assert_eq!(allocations, 0, "allocations on the packet path");
    assert_eq!(
        pool.size() - pool.available(),
        0,
        "every mbuf went back to the pool"
    );
}
