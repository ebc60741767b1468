//! A burst of binding installs against two home-agent workers under traffic: how long a
//! million installs take to become visible on both workers, and how long one poll of a
//! worker lasts meanwhile (the part of the gap between two RX polls that the worker
//! itself spends: its update budget, then one RX burst processed and sent), next to the
//! same polls without updates. Figures for several update budgets go to stdout as a
//! markdown table for RESULTS.md.
//!
//! Not a criterion bench: one sample is a whole burst and the figures wanted are a
//! distribution of poll times and counters, not a mean time per iteration.
//!
//! ```sh
//! cargo bench -p mipdp-perf --bench update_burst
//! cargo bench -p mipdp-perf --bench update_burst -- --bindings 1000000 --queue 65536 --rounds 3 --budgets 64,256,1024
//! ```
//!
//! Workers 0 and 1 are pinned to cores 0 and 1 when those exist; the control side (this
//! program's main thread, sending the updates and waiting for them) is not pinned. Each
//! worker thread injects one burst of 32 frames before each poll and takes what it sent
//! after, both outside the timed region; only `Worker::poll_once` is timed, with
//! `Instant` in this harness, never inside the library.
//!
//! One run: the workers poll traffic for 200 ms, then hold (no polling) while the control
//! side sends the whole burst (by default each worker's queue holds all of it, so the
//! control side only waits during the burst: with `--queue N` smaller, the rest waits in
//! its backlog and `wait_visible` moves it on); then they poll again and the clock runs
//! until every worker has applied the last install. The burst's poll times are
//! those of a worker's polls until its own last install; the baseline's are taken after,
//! with the same traffic and no updates.

use core::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mipdp_dataplane::engine::{Engine, EngineSnapshot, NodeConfig};
use mipdp_dataplane::port::memory::{memory_port, MemPool, MemRx, MemTx};
use mipdp_dataplane::profile::{AddrMatch, Class, Edit, Match, Profile, ProfileId, TableRef};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{Binding, CareOfList, Encap, Route, TableLimits};
use mipdp_dataplane::update::{channels, Update, UpdateReceiver};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::Worker;

const WORKERS: usize = 2;
/// Frames injected before each poll (one RX burst).
const FRAMES_PER_POLL: usize = 32;
/// Poll times kept per worker and phase (more are only counted in the maximum).
const KEEP: usize = 1 << 23;

const PORT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0x10];
const ROUTER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xfe];
const NODE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const ROUTER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
const CN: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);

/// What the worker threads are doing, set by the control side.
const WARM_UP: u8 = 0;
/// Not polling, while the control side queues the burst.
const HOLD: u8 = 1;
const BURST: u8 = 2;
const SETTLE: u8 = 3;
const BASELINE: u8 = 4;
const STOP: u8 = 5;

fn home(i: u32) -> Ipv4Addr {
    Ipv4Addr::from_bits(0x0a00_0000 + i)
}

fn install(i: u32) -> Update {
    Update::Binding {
        home: IpAddr::V4(home(i)),
        binding: Binding {
            care_of: CareOfList::one(IpAddr::V4(Ipv4Addr::from_bits(0x6440_0000 + i))),
            encap: Encap::IpInIp,
            source: IpAddr::V4(NODE),
            tos: None,
        },
    }
}

/// An Ethernet frame from the router carrying CN → home address `i`, UDP, 64 bytes of IP.
fn to_home(i: u32) -> Vec<u8> {
    let payload_len = 44;
    let repr = Ipv4Repr {
        src_addr: CN,
        dst_addr: home(i),
        protocol: IpProtocol::UDP,
        payload_len,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    let mut frame = Vec::new();
    frame.extend_from_slice(&PORT_MAC);
    frame.extend_from_slice(&ROUTER_MAC);
    frame.extend_from_slice(&0x0800u16.to_be_bytes());
    let mut ip = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut ip[..]));
    // UDP 1 → 9, length 44, checksum 0 (allowed over IPv4).
    ip[20..28].copy_from_slice(&[0, 1, 0, 9, 0, 44, 0, 0]);
    frame.extend_from_slice(&ip);
    frame
}

/// A home agent whose home network 10.0.0.0/8 goes to the bindings table through one
/// node-default-destination profile; the rest by the default route.
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
            dst: AddrMatch::Prefix("10.0.0.0/8".parse().expect("prefix")),
            ..Match::ANY
        },
        edit: Edit::NONE,
        table: TableRef::Bindings,
    });
    for p in profiles {
        t.insert_profile(p).expect("profile fits");
    }
    t.routes
        .insert(
            "0.0.0.0/0".parse().expect("prefix"),
            Route {
                port: 0,
                next_hop: Some(IpAddr::V4(ROUTER)),
            },
        )
        .expect("route fits");
    t.neighbours
        .insert(0, IpAddr::V4(ROUTER), ROUTER_MAC)
        .expect("neighbour fits");
    engine
}

/// Times the calling thread was descheduled against its will so far (Linux), if known.
fn preemptions() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))?
        .trim()
        .parse()
        .ok()
}

/// Poll times of one phase of one worker, in nanoseconds, and how often the worker's
/// thread was preempted meanwhile (what explains the longest ones on a shared machine).
#[derive(Default)]
struct PollTimes {
    kept: Vec<u32>,
    polls: u64,
    max: u64,
    preemptions_at_start: Option<u64>,
    preempted: u64,
}

impl PollTimes {
    fn with_capacity(n: usize) -> PollTimes {
        PollTimes {
            kept: Vec::with_capacity(n),
            ..PollTimes::default()
        }
    }

    fn record(&mut self, d: Duration) {
        if self.polls == 0 {
            self.preemptions_at_start = preemptions();
        }
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.polls += 1;
        self.max = self.max.max(ns);
        if self.kept.len() < self.kept.capacity() {
            self.kept.push(u32::try_from(ns).unwrap_or(u32::MAX));
        }
    }

    /// Ends the phase (once): counts the preemptions since its first poll.
    fn close(&mut self) {
        if let (Some(start), Some(now)) = (self.preemptions_at_start.take(), preemptions()) {
            self.preempted = now.saturating_sub(start);
        }
    }

    fn merge(&mut self, other: PollTimes) {
        self.preempted += other.preempted;
        self.polls += other.polls;
        self.max = self.max.max(other.max);
        self.kept.extend(other.kept);
    }

    /// p50, p99, p99.9 and max, in microseconds.
    fn summary(&mut self) -> String {
        self.kept.sort_unstable();
        let q = |p: f64| -> f64 {
            let n = self.kept.len();
            if n == 0 {
                return 0.0;
            }
            let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
            f64::from(self.kept[i]) / 1e3
        };
        format!(
            "{:.1} / {:.1} / {:.1} / {:.0}",
            q(0.50),
            q(0.99),
            q(0.999),
            self.max as f64 / 1e3
        )
    }
}

/// What one worker thread measured.
struct WorkerRun {
    burst: PollTimes,
    baseline: PollTimes,
    engine: EngineSnapshot,
}

type HomeAgentWorker = Worker<MemRx, MemTx, Engine>;

/// The bench's own loop around `poll_once`: traffic in, one timed poll, traffic out.
fn drive(
    mut worker: HomeAgentWorker,
    port: mipdp_dataplane::port::memory::MemPortHandle,
    frames: &[Vec<u8>],
    phase: &AtomicU8,
    bindings: u64,
) -> WorkerRun {
    let mut burst = PollTimes::with_capacity(KEEP);
    let mut baseline = PollTimes::with_capacity(KEEP);
    let mut next = 0;
    loop {
        let now = phase.load(Ordering::Relaxed);
        if now == STOP {
            break;
        }
        if now == HOLD {
            std::thread::sleep(Duration::from_micros(100));
            continue;
        }
        for _ in 0..FRAMES_PER_POLL {
            port.inject(&frames[next % frames.len()]);
            next += 1;
        }
        let before = worker.processor().snapshot().updates;
        let start = Instant::now();
        worker.poll_once();
        let took = start.elapsed();
        // The burst lasts, for this worker, until its own last install.
        if now == BURST && before < bindings {
            burst.record(took);
        } else {
            burst.close();
        }
        if now == BASELINE {
            baseline.record(took);
        }
        while port.take_sent().is_some() {}
    }
    burst.close();
    baseline.close();
    WorkerRun {
        burst,
        baseline,
        engine: worker.processor().snapshot().clone(),
    }
}

/// One burst of installs with `budget` updates per poll.
struct Run {
    send: Duration,
    visible: Duration,
    workers: Vec<WorkerRun>,
}

fn run(o: &Options, budget: usize, pinned: &[Option<core_affinity::CoreId>]) -> Run {
    let bindings = o.bindings;
    let (mut updates, receivers) = channels(WORKERS, o.queue, budget);
    let phase = Arc::new(AtomicU8::new(WARM_UP));
    // Traffic to 1024 home addresses over the whole range: dropped for want of a binding
    // until theirs arrives, tunnelled after.
    let frames: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..1024u32)
            .map(|k| to_home(k * (bindings / 1024).max(1) % bindings))
            .collect(),
    );
    let mut threads = Vec::new();
    for (index, receiver) in receivers.into_iter().enumerate() {
        let pool = MemPool::new(4 * FRAMES_PER_POLL);
        let (port, rx, tx) = memory_port(&pool, 2 * FRAMES_PER_POLL);
        let engine = home_agent(bindings as usize, receiver);
        let worker = Worker::new(index, vec![rx], vec![tx], engine, Duration::ZERO)
            .expect("one port, one queue each way");
        let (phase, frames) = (phase.clone(), frames.clone());
        let core = pinned.get(index).copied().flatten();
        threads.push(std::thread::spawn(move || {
            if let Some(core) = core {
                core_affinity::set_for_current(core);
            }
            drive(worker, port, &frames, &phase, u64::from(bindings))
        }));
    }
    std::thread::sleep(Duration::from_millis(200));

    // The control side queues the whole burst while the workers hold (on 2 cores it would
    // otherwise take its CPU from a worker); then the workers meet a full queue at once.
    phase.store(HOLD, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(10));
    let start = Instant::now();
    let mut last = 0;
    for i in 0..bindings {
        last = updates.send(install(i));
    }
    let send = start.elapsed();
    phase.store(BURST, Ordering::Relaxed);
    let start = Instant::now();
    updates
        .wait_visible(last, Duration::from_secs(600))
        .expect("the burst becomes visible");
    let visible = start.elapsed();
    assert_eq!(updates.refused(), vec![0; WORKERS], "no install refused");

    phase.store(SETTLE, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(50));
    phase.store(BASELINE, Ordering::Relaxed);
    std::thread::sleep(visible.max(Duration::from_millis(500)));
    phase.store(STOP, Ordering::Relaxed);
    let workers = threads
        .into_iter()
        .map(|t| t.join().expect("worker thread"))
        .collect();
    Run {
        send,
        visible,
        workers,
    }
}

struct Options {
    bindings: u32,
    /// Each worker's update queue; what does not fit waits in the control side's backlog.
    queue: usize,
    rounds: usize,
    /// No filter given, or one that matches this bench.
    selected: bool,
    budgets: Vec<usize>,
}

fn options() -> Options {
    let mut o = Options {
        bindings: 1_000_000,
        queue: 0,
        rounds: 3,
        selected: true,
        budgets: vec![64, 256, 1024],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--bindings" => o.bindings = value().parse().expect("--bindings N"),
            "--queue" => o.queue = value().parse().expect("--queue N"),
            "--rounds" => o.rounds = value().parse().expect("--rounds N"),
            "--budgets" => {
                o.budgets = value()
                    .split(',')
                    .map(|b| b.parse().expect("--budgets A,B,C"))
                    .collect()
            }
            // A filter as criterion takes it (`cargo bench -- forwarder`): run only when
            // it names this bench.
            filter if !filter.starts_with('-') => o.selected &= "update_burst".contains(filter),
            // cargo bench passes --bench.
            _ => {}
        }
    }
    if o.queue == 0 {
        o.queue = o.bindings as usize;
    }
    o
}

fn main() {
    let o = options();
    if !o.selected {
        return;
    }
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let pinned: Vec<Option<core_affinity::CoreId>> = (0..WORKERS)
        .map(|i| cores.iter().find(|c| c.id == i).copied())
        .collect();
    println!(
        "{} installs, {WORKERS} workers pinned to cores {:?} (control thread unpinned), \
         queue {}, {FRAMES_PER_POLL} frames per poll, {} rounds per budget; \
         poll times over all rounds and both workers",
        o.bindings,
        pinned.iter().map(|c| c.map(|c| c.id)).collect::<Vec<_>>(),
        o.queue,
        o.rounds
    );
    println!();
    println!(
        "| budget | visible on both workers after release, median (min–max) | installs/s per worker | control queues the burst | \
         poll µs during burst p50 / p99 / p99.9 / max | poll µs without updates p50 / p99 / p99.9 / max | \
         worker preemptions during burst / baseline (all runs) | most updates per poll | \
         RX polls with packets while updates pending (per run) |"
    );
    println!("|---:|---|---:|---:|---|---|---:|---:|---:|");
    for &budget in &o.budgets {
        let mut visible = Vec::new();
        let mut send = Vec::new();
        let mut burst = PollTimes::default();
        let mut baseline = PollTimes::default();
        let mut most = 0;
        let mut pending_polls = 0;
        for _ in 0..o.rounds {
            let r = run(&o, budget, &pinned);
            visible.push(r.visible);
            send.push(r.send);
            for w in r.workers {
                assert_eq!(w.engine.updates, u64::from(o.bindings));
                burst.merge(w.burst);
                baseline.merge(w.baseline);
                most = most.max(w.engine.max_updates_per_poll);
                pending_polls += w.engine.rx_polls_with_updates_pending;
            }
        }
        visible.sort();
        send.sort();
        let median = visible[visible.len() / 2];
        println!(
            "| {budget} | {:.0} ms ({:.0}–{:.0}) | {:.2} M | {:.0} ms | {} | {} | {} / {} | {most} | {} |",
            median.as_secs_f64() * 1e3,
            visible[0].as_secs_f64() * 1e3,
            visible[visible.len() - 1].as_secs_f64() * 1e3,
            f64::from(o.bindings) / median.as_secs_f64() / 1e6,
            send[send.len() / 2].as_secs_f64() * 1e3,
            burst.summary(),
            baseline.summary(),
            burst.preempted,
            baseline.preempted,
            pending_polls / o.rounds as u64,
        );
    }
}
