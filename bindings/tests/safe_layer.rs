//! Unit tests of the safe layer against a real EAL (no hugepages, no PCI, memory only).
//! DPDK initialises once per process, so every test shares one Eal.

use std::sync::OnceLock;

use mipdp_dpdk::{Eal, Mbuf, MbufBatch, MbufError, Mempool, Port, PortConfig, BURST_SIZE};

fn eal() -> &'static Eal {
    static EAL: OnceLock<Eal> = OnceLock::new();
    EAL.get_or_init(|| {
        let prefix = format!("--file-prefix=mipdp-safe-{}", std::process::id());
        Eal::init(&[
            "safe_layer",
            "--no-huge",
            "-m",
            "256",
            "--no-pci",
            "--no-shconf",
            "--log-level=lib.eal:error",
            prefix.as_str(),
            "--vdev=net_ring0",
            "--vdev=net_ring1",
            "--vdev=net_null0",
            "--vdev=net_null1",
        ])
        .expect("EAL starts with --no-huge --no-pci")
    })
}

fn pool(name: &str, size: u32) -> Mempool {
    Mempool::new(eal(), name, size, 0, 2176).expect("pool")
}

#[test]
fn pool_exhaustion_is_an_error_not_a_crash() {
    let p = pool("exhaust", 8);
    let held: Vec<Mbuf> = (0..8).map(|_| p.alloc().expect("8 buffers")).collect();
    assert_eq!(p.available(), 0);
    assert_eq!(p.alloc().err(), Some(MbufError::PoolExhausted));
    drop(held);
    assert_eq!(p.available(), 8);
    assert!(p.alloc().is_ok());
}

#[test]
fn prepend_is_bounded_by_headroom() {
    let p = pool("prepend", 4);
    let mut m = p.alloc().unwrap();
    let head = m.headroom();
    assert_eq!(head, 128, "RTE_PKTMBUF_HEADROOM");
    assert_eq!(m.prepend(head + 1).err(), Some(MbufError::NoHeadroom));
    assert_eq!(m.len(), 0, "a refused prepend changes nothing");
    let data = m.prepend(20).unwrap();
    assert_eq!(data.len(), 20);
    data.copy_from_slice(&[0x45; 20]);
    assert_eq!(m.headroom(), head - 20);
    assert_eq!(m.data(), &[0x45; 20]);
    assert_eq!(
        m.pkt_len(),
        20,
        "DPDK's packet length follows the data length"
    );
    m.prepend(head - 20).unwrap();
    assert_eq!(m.headroom(), 0);
    assert_eq!(m.pkt_len(), head);
    assert_eq!(m.prepend(1).err(), Some(MbufError::NoHeadroom));
}

#[test]
fn adj_and_trim_cannot_remove_more_than_the_packet() {
    let p = pool("adj", 4);
    let mut m = p.alloc().unwrap();
    m.append(10)
        .unwrap()
        .copy_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(m.adj(11).err(), Some(MbufError::TooShort));
    assert_eq!(m.trim(11).err(), Some(MbufError::TooShort));
    let (head, tail) = (m.headroom(), m.tailroom());
    m.adj(2).unwrap();
    assert_eq!(m.data(), &[2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(
        (m.headroom(), m.tailroom(), m.pkt_len()),
        (head + 2, tail, 8)
    );
    m.trim(3).unwrap();
    assert_eq!(m.data(), &[2, 3, 4, 5, 6]);
    assert_eq!(
        (m.headroom(), m.tailroom(), m.pkt_len()),
        (head + 2, tail + 3, 5)
    );
    m.adj(5).unwrap();
    assert!(m.is_empty());
    assert_eq!(m.pkt_len(), 0);
    assert_eq!(m.adj(1).err(), Some(MbufError::TooShort));
}

#[test]
fn append_is_bounded_by_tailroom() {
    let p = pool("append", 4);
    let mut m = p.alloc().unwrap();
    let tail = m.tailroom();
    assert_eq!(tail, 2176 - 128);
    assert_eq!(m.append(tail + 1).err(), Some(MbufError::NoTailroom));
    m.append(tail).unwrap();
    assert_eq!(m.len(), tail);
    assert_eq!(m.pkt_len(), tail);
    assert_eq!(m.tailroom(), 0);
    assert_eq!(m.append(1).err(), Some(MbufError::NoTailroom));
}

#[test]
fn batch_holds_at_most_a_burst_and_frees_on_drop() {
    let p = pool("batch", 64);
    let mut b = MbufBatch::new();
    for _ in 0..BURST_SIZE {
        b.push(p.alloc().unwrap()).map_err(|_| ()).unwrap();
    }
    let extra = p.alloc().unwrap();
    assert!(b.push(extra).is_err(), "the 33rd buffer is handed back");
    assert_eq!(p.available(), 64 - BURST_SIZE as u32);
    drop(b);
    assert_eq!(p.available(), 64);
}

#[test]
fn ring_port_loops_packets_back_and_counts() {
    // net_ring0 is a ring-backed port whose TX feeds its own RX.
    let p = pool("ringport", 512);
    let cfg = PortConfig {
        rx_descriptors: 128,
        tx_descriptors: 128,
        ..PortConfig::default()
    };
    let port = Port::open(eal(), "net_ring0", &cfg, &p).unwrap();
    assert!(Port::open(eal(), "net_ring9", &cfg, &p)
        .err()
        .unwrap()
        .to_string()
        .contains("no DPDK port named \"net_ring9\""));
    let mut rx = port.rx_queue(0).unwrap();
    let mut tx = port.tx_queue(0).unwrap();
    assert!(port.rx_queue(0).is_err(), "a queue is taken once");
    assert!(port.tx_queue(1).is_err(), "no such queue");

    let mut out = MbufBatch::new();
    for i in 0..10u8 {
        let mut m = p.alloc().unwrap();
        m.append(60).unwrap().fill(i);
        out.push(m).map_err(|_| ()).unwrap();
    }
    let sent = tx.burst(&mut out);
    assert_eq!(sent.sent, 10);
    assert!(out.is_empty());
    let mut got = MbufBatch::new();
    assert_eq!(rx.burst(&mut got), 10);
    for (i, m) in got.as_slice().iter().enumerate() {
        assert_eq!(m.data(), &[i as u8; 60][..]);
    }
    let stats = port.stats();
    assert_eq!(stats.opackets, 10);
    assert_eq!(stats.ipackets, 10);
}

#[test]
fn several_rx_queues_turn_on_rss_over_ip_addresses() {
    let p = pool("rss", 2047);
    let cfg = PortConfig {
        rx_queues: 2,
        tx_queues: 3,
        rx_descriptors: 128,
        tx_descriptors: 128,
        ..PortConfig::default()
    };
    let multi = Port::open(eal(), "net_null0", &cfg, &p).unwrap();
    assert_ne!(multi.rss_hash_functions(), 0, "RSS on with 2 RX queues");
    assert!(multi.rx_queue(1).is_ok() && multi.tx_queue(2).is_ok());
    let single = Port::open(
        eal(),
        "net_null1",
        &PortConfig {
            rx_queues: 1,
            ..cfg.clone()
        },
        &p,
    )
    .unwrap();
    assert_eq!(single.rss_hash_functions(), 0, "no RSS with one RX queue");
    assert!(single.link().up);
}

#[test]
fn tx_that_the_port_cannot_take_is_retried_then_freed_and_counted() {
    // Nobody drains net_ring1's RX, so its ring fills; the rest must come back to the pool.
    let p = pool("txfull", 4095);
    let cfg = PortConfig {
        rx_descriptors: 128,
        tx_descriptors: 128,
        tx_retries: 3,
        ..PortConfig::default()
    };
    let port = Port::open(eal(), "net_ring1", &cfg, &p).unwrap();
    let mut tx = port.tx_queue(0).unwrap();
    let (mut sent, mut dropped) = (0u32, 0u32);
    for _ in 0..100 {
        let mut b = MbufBatch::new();
        for _ in 0..32 {
            let mut m = p.alloc().unwrap();
            m.append(64).unwrap();
            b.push(m).map_err(|_| ()).unwrap();
        }
        let s = tx.burst(&mut b);
        assert!(b.is_empty(), "the batch is always emptied");
        sent += s.sent;
        dropped += s.dropped;
    }
    assert_eq!(sent + dropped, 3200);
    assert!(dropped > 0 && sent > 0, "sent {sent}, dropped {dropped}");
    assert_eq!(tx.dropped(), u64::from(dropped));
    assert_eq!(tx.sent(), u64::from(sent));
    assert_eq!(
        p.size() - p.available(),
        sent,
        "dropped buffers went back to the pool; sent ones sit in the ring"
    );
}
