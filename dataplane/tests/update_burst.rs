//! A burst of a million binding installs reaches every worker while RX keeps being polled:
//! a worker applies at most its update budget before each RX poll, so no RX gap is longer
//! than one budget of updates. Shown with the engine's counters, without timing.

use core::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mipdp_dataplane::engine::{Engine, EngineSnapshot, NodeConfig};
use mipdp_dataplane::port::memory::{memory_port, MemPool, MemPortHandle, MemRx, MemTx};
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::profile::{AddrMatch, Class, Edit, Match, Profile, ProfileId, TableRef};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{Binding, CareOfList, Encap, Route, TableLimits};
use mipdp_dataplane::update::{channels, Update, UpdateReceiver};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Packet};
use mipdp_dataplane::Worker;

mod frames;
use frames::{eth, ipv4, udp};

const PORT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0x10];
const ROUTER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xfe];
const NODE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const ROUTER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
const CN: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
/// UDP source port of the frames whose tunnelled copies the test checks one by one.
const SAMPLE_PORT: u16 = 7777;

/// Home address `i`: 10.0.0.0/8 is the home network, served by one prefix profile.
fn home(i: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(0x0a00_0000 + i)
}

/// The index of a home address.
fn home_index(addr: Ipv4Addr) -> u32 {
    addr.to_bits() - 0x0a00_0000
}

/// Care-of address of home address `i`, in 100.64.0.0/10.
fn care_of(i: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(0x6440_0000 + i)
}

fn install(i: u32) -> Update {
    Update::Binding {
        home: IpAddr::V4(home(i)),
        binding: Binding {
            care_of: CareOfList::one(IpAddr::V4(care_of(i))),
            encap: Encap::IpInIp,
            source: IpAddr::V4(NODE),
            tos: None,
        },
    }
}

/// A CN → home address `i` frame arriving on the node's port.
fn to_home(i: u32, sport: u16) -> Vec<u8> {
    eth(
        PORT_MAC,
        ROUTER_MAC,
        0x0800,
        &ipv4(
            CN,
            home(i),
            IpProtocol::UDP,
            64,
            0,
            &udp(sport, 9, &[0x5a; 18]),
        ),
    )
}

/// A home agent on one port whose home network 10.0.0.0/8 is looked up in the bindings
/// table through one node-default-destination prefix profile (so a million bindings need
/// no per-mobile profile); everything else goes by the default route to the router.
fn home_agent(bindings: usize, receiver: UpdateReceiver) -> Engine {
    let mut node = NodeConfig::new(vec![PORT_MAC], vec![NODE], vec![]);
    node.limits = TableLimits {
        bindings,
        ..TableLimits::default()
    };
    let mut engine = Engine::new(node).with_updates(receiver);
    let t = engine.tables_mut();
    let mut profiles = roles::home_agent(&[IpAddr::V4(NODE)]);
    profiles.push(Profile {
        id: ProfileId {
            session: roles::DEFAULTS,
            number: 300,
        },
        class: Class::NodeDefaultDestination,
        matches: Match {
            dst: AddrMatch::Prefix("10.0.0.0/8".parse().unwrap()),
            ..Match::ANY
        },
        edit: Edit::NONE,
        table: TableRef::Bindings,
    });
    for p in profiles {
        t.insert_profile(p).unwrap();
    }
    t.routes
        .insert(
            "0.0.0.0/0".parse().unwrap(),
            Route {
                port: 0,
                next_hop: Some(IpAddr::V4(ROUTER)),
            },
        )
        .unwrap();
    t.neighbours
        .insert(0, IpAddr::V4(ROUTER), ROUTER_MAC)
        .unwrap();
    engine
}

type HomeAgentWorker = Worker<MemRx, MemTx, Engine>;

fn worker(index: usize, pool: &MemPool, engine: Engine) -> (MemPortHandle, HomeAgentWorker) {
    let (port, rx, tx) = memory_port(pool, 1024);
    let w = Worker::new(index, vec![rx], vec![tx], engine, Duration::from_micros(50)).unwrap();
    (port, w)
}

/// Checks a frame the home agent sent: IP-in-IP from the node to the care-of address of
/// the inner destination; returns the inner destination's index and UDP source port.
fn tunnelled(frame: &[u8]) -> (u32, u16) {
    assert_eq!(&frame[..6], &ROUTER_MAC, "to the router");
    let outer = Ipv4Packet::new_checked(&frame[14..]).unwrap();
    assert_eq!(outer.protocol(), IpProtocol::IPIP);
    assert_eq!(outer.src_addr(), NODE);
    let inner = Ipv4Packet::new_checked(outer.payload()).unwrap();
    let i = home_index(inner.dst_addr());
    assert_eq!(
        outer.dst_addr(),
        care_of(i),
        "tunnelled to home {i}'s care-of"
    );
    let sport = u16::from_be_bytes([inner.payload()[0], inner.payload()[1]]);
    (i, sport)
}

#[test]
fn a_worker_applies_one_budget_of_updates_per_rx_poll_and_keeps_receiving() {
    const BUDGET: usize = 16;
    let pool = MemPool::new(64);
    let (mut updates, mut receivers) = channels(1, 1024, BUDGET);
    let (port, mut w) = worker(0, &pool, home_agent(1024, receivers.pop().unwrap()));
    let mut last = 0;
    for i in 0..100 {
        last = updates.send(install(i));
    }
    let snapshot = |w: &HomeAgentWorker| -> EngineSnapshot { w.processor().snapshot().clone() };

    // A poll with packets: one budget applied, 84 left, the packets still handled.
    port.inject(&to_home(0, 1));
    assert_eq!(w.poll_once(), BUDGET + 1);
    let s = snapshot(&w);
    assert_eq!(
        (
            s.updates,
            s.max_updates_per_poll,
            s.rx_polls_with_updates_pending
        ),
        (16, 16, 1)
    );
    assert_eq!(tunnelled(port.take_sent().unwrap().data()), (0, 1));
    // A poll without packets: another budget, no RX poll with packets to count.
    assert_eq!(w.poll_once(), BUDGET);
    assert_eq!(snapshot(&w).rx_polls_with_updates_pending, 1);
    // Polls with packets until the queue is empty: 100 = 6 × 16 + 4.
    let mut polls = 2;
    while !updates.is_visible(last) {
        port.inject(&to_home(0, 1));
        w.poll_once();
        polls += 1;
        assert!(port.take_sent().is_some());
    }
    let s = snapshot(&w);
    assert_eq!(polls, 7);
    assert_eq!(s.updates, 100);
    assert_eq!(s.max_updates_per_poll, BUDGET as u64);
    // Polls 1 and 3 to 6 received packets with updates left queued; poll 7 applied the
    // last 4 and emptied the queue.
    assert_eq!(s.rx_polls_with_updates_pending, 5);
    assert_eq!(w.processor().tables().bindings().len(), 100);
}

/// Stops the worker threads when the test ends, also when it fails.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn a_million_binding_installs_reach_both_workers_while_rx_is_polled_within_the_budget() {
    const WORKERS: usize = 2;
    const BINDINGS: u32 = 1_000_000;
    const BUDGET: usize = 256;
    const QUEUE: usize = 65_536;
    const CHUNK: u32 = 8_192;
    let started = Instant::now();

    let pool = MemPool::new(4 * 1024 * WORKERS);
    let (mut updates, receivers) = channels(WORKERS, QUEUE, BUDGET);
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(stop.clone());
    let mut ports = Vec::new();
    let mut threads = Vec::new();
    for (index, receiver) in receivers.into_iter().enumerate() {
        let (port, mut w) = worker(index, &pool, home_agent(BINDINGS as usize, receiver));
        ports.push(port);
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || {
            w.run(&stop);
            w
        }));
    }

    // Background traffic to home addresses spread over the range: dropped (no binding)
    // until their binding arrives, then tunnelled.
    let background: Vec<Vec<u8>> = (0..64u32)
        .map(|k| to_home(k * (BINDINGS / 64) + k, 1))
        .collect();
    let mut next_frame = 0;
    let mut offer_traffic = |ports: &[MemPortHandle]| {
        for port in ports {
            for _ in 0..8 {
                port.inject(&background[next_frame % background.len()]);
                next_frame += 1;
            }
            while let Some(p) = port.take_sent() {
                tunnelled(p.data());
            }
        }
    };

    // Traffic flows until every worker has applied the burst, or `wait_visible` below
    // reports the one that fell behind.
    let burst = Instant::now();
    let give_up = burst + Duration::from_secs(120);
    let mut sent = 0;
    let mut last = 0;
    while sent < BINDINGS || (!updates.is_visible(last) && Instant::now() < give_up) {
        if sent < BINDINGS {
            let end = (sent + CHUNK).min(BINDINGS);
            for i in sent..end {
                last = updates.send(install(i));
            }
            sent = end;
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
        updates.flush();
        offer_traffic(&ports);
    }
    updates
        .wait_visible(last, Duration::from_secs(1))
        .expect("every worker reached the last epoch");
    let visible = burst.elapsed();
    assert_eq!(last, u64::from(BINDINGS));
    assert_eq!(updates.reached(), vec![last; WORKERS]);
    assert_eq!(updates.refused(), vec![0; WORKERS], "no install refused");

    // Through traffic: a sample of home addresses over the whole range, including the
    // first and the last, is tunnelled by every worker to each one's own care-of address.
    let sample: Vec<u32> = (0..BINDINGS)
        .step_by(4_999)
        .chain([1, BINDINGS - 1])
        .collect();
    for port in &ports {
        let mut seen = vec![false; sample.len()];
        let deadline = Instant::now() + Duration::from_secs(60);
        for chunk in sample.chunks(128) {
            for i in chunk {
                assert!(port.inject(&to_home(*i, SAMPLE_PORT)), "RX ring has room");
            }
            let mut missing = chunk.len();
            while missing > 0 {
                assert!(Instant::now() < deadline, "sample packets came back");
                let Some(p) = port.take_sent() else {
                    std::thread::yield_now();
                    continue;
                };
                let (i, sport) = tunnelled(p.data());
                let k = sample.iter().position(|s| *s == i);
                if let (SAMPLE_PORT, Some(k)) = (sport, k) {
                    assert!(!seen[k], "home {i} tunnelled once");
                    seen[k] = true;
                    missing -= 1;
                }
            }
        }
        assert!(seen.iter().all(|s| *s));
    }

    stop.store(true, Ordering::Relaxed);
    for (index, thread) in threads.into_iter().enumerate() {
        let worker = thread.join().unwrap();
        let e = worker.processor().snapshot().clone();
        let c = worker.counters().snapshot();
        println!(
            "worker {index}: {} updates, {} polls, most updates per poll {} (budget {BUDGET}), \
             {} RX polls with packets while updates were pending, rx {:?}, tx {:?}",
            e.updates, c.polls, e.max_updates_per_poll, e.rx_polls_with_updates_pending, c.rx, c.tx
        );
        assert_eq!(
            worker.processor().tables().bindings().len(),
            BINDINGS as usize
        );
        assert_eq!(e.updates, u64::from(BINDINGS));
        assert!(e.max_updates_per_poll <= BUDGET as u64, "{e:?}");
        assert!(
            e.rx_polls_with_updates_pending > 0,
            "RX was polled and received packets during the burst: {e:?}"
        );
        // A poll is counted as pending only after a full budget.
        assert_eq!(e.max_updates_per_poll, BUDGET as u64);
    }
    println!(
        "{BINDINGS} installs visible on {WORKERS} workers {visible:?} after the first was sent; \
         the test took {:?}",
        started.elapsed()
    );
}
