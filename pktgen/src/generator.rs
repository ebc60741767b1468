//! One generator run on DPDK: bring up the EAL and the ports, transmit probes on the
//! calling thread (DPDK's main lcore), receive and account for them on a second thread,
//! drain, and summarise.
//!
//! Neither loop allocates per packet: buffers come from the mempool, frames are written
//! from a [`FrameTemplate`], and the sequence bitmap and latency histogram are sized once.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use hdrhistogram::Histogram;
use mipdp_dataplane::IdleBackoff;
use mipdp_dpdk::{
    register_thread, Eal, MbufBatch, Mempool, Port, PortConfig, RxQueue, TxQueue, BURST_SIZE,
};

use crate::frame::{parse_probe, FrameSpec, FrameTemplate};
use crate::mobility::wire::ntp_from_unix_ns;
use crate::mobility::{
    Expectation, FrameKind, MobilityCounts, MobilitySummary, Received, Workload,
};
use crate::pacing::TokenBucket;
use crate::report::{
    latency_histogram, packets_per_second, progress_line, LatencySummary, Summary,
};
use crate::sequence::{SequenceCounts, SequenceTracker};

/// Buffers in the pool: enough for the RX and TX descriptor rings of two ports, a
/// net_ring in between, and the per-lcore caches (2^14 - 1, the size DPDK's ring-backed
/// mempool uses best).
const POOL_SIZE: u32 = 16_383;
/// Buffers each lcore caches.
const POOL_CACHE: u32 = 256;
/// Data room per buffer: DPDK's default (2048 bytes after the 128-byte headroom).
const DATA_ROOM: u16 = 2176;
/// Tries of a TX burst that the NIC refused entirely before the rest is dropped (and
/// counted in `tx_dropped`): on the order of 100 µs of a full queue. Long enough that a
/// receiver or NIC draining the queue at full speed never makes the generator drop; short
/// enough that when the receiver shares this core (a loaded 2-core machine) the generator
/// soon yields to it instead of spinning for milliseconds.
const TX_RETRIES: u32 = 10_000;
/// Sequence numbers the receiver remembers for duplicate and reorder checks.
const SEQUENCE_WINDOW: usize = 1 << 20;
/// How long the RX thread may take to register with DPDK.
const RX_START_TIMEOUT: Duration = Duration::from_secs(10);
/// Progress line period.
const PROGRESS_PERIOD_NS: u64 = 1_000_000_000;

/// When transmission ends (besides SIGINT/SIGTERM, which always end it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// After this many probes were accepted by the TX port.
    Count(u64),
    /// After this much time.
    Duration(Duration),
    /// Only on a signal.
    UntilStopped,
}

/// How the RX thread waits when its queue is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxPolling {
    /// Spin, then yield, then sleep up to 50 µs: gentle on a shared machine, but an idle
    /// receiver may add up to one sleep to the latency of the next probe.
    BackOff,
    /// Spin and yield, never sleep: best latency figures, one core busy.
    Busy,
}

/// The frames to send; unset MACs default to the ports' own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameOptions {
    /// Ethernet source; default: the TX port's MAC.
    pub src_mac: Option<[u8; 6]>,
    /// Ethernet destination; default: the RX port's MAC.
    pub dst_mac: Option<[u8; 6]>,
    /// IPv4 source.
    pub src_ip: Ipv4Addr,
    /// IPv4 destination of flow 0.
    pub dst_ip: Ipv4Addr,
    /// UDP source and destination port.
    pub udp_port: u16,
    /// Frame size without FCS.
    pub size: usize,
    /// Number of flows.
    pub flows: u32,
}

/// A mobility workload and what its receive side expects (the MACs of the workload are
/// replaced by the ports' own unless [`FrameOptions`] sets them).
#[derive(Debug, Clone)]
pub struct MobilityRun {
    /// What is sent.
    pub workload: Workload,
    /// What is checked on receipt.
    pub expectation: Expectation,
}

/// Everything a run needs besides the EAL arguments.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// DPDK device name of the TX port.
    pub tx_port: String,
    /// DPDK device name of the RX port (may equal `tx_port`).
    pub rx_port: String,
    /// The frames (of the plain probe run; the MACs apply to a mobility workload too).
    pub frame: FrameOptions,
    /// A mobility workload instead of the plain probes.
    pub mobility: Option<MobilityRun>,
    /// When to stop sending.
    pub limit: Limit,
    /// Packets per second; 0 = as fast as possible.
    pub rate_pps: u64,
    /// How long to keep receiving after the last probe was sent.
    pub drain: Duration,
    /// How the receiver waits.
    pub rx_polling: RxPolling,
}

/// Counters both threads see.
#[derive(Default)]
struct Shared {
    /// Probes received so far (published once per burst).
    rx_probes: AtomicU64,
    /// The RX thread is registered and polling.
    rx_ready: AtomicBool,
    /// Transmission is over; `tx_sent` is final.
    tx_done: AtomicBool,
    /// Probes (data probes of a mobility workload) the TX port accepted.
    tx_sent: AtomicU64,
    /// Valid requests of a mobility workload the TX port accepted (a reply is expected
    /// for each).
    tx_requests: AtomicU64,
    /// The receive side's latency p99 in ns, published about once a second.
    rx_p99_ns: AtomicU64,
}

/// What the main thread hands the RX thread once DPDK is up.
struct RxStart {
    eal: Eal,
    queue: RxQueue,
    epoch: Instant,
    drain: Duration,
    polling: RxPolling,
    /// The mobility receive check, and the Unix time of the epoch in ns.
    mobility: Option<(Expectation, u64)>,
}

/// What the RX thread measured.
struct RxOutcome {
    counts: SequenceCounts,
    probes: u64,
    ignored: u64,
    latency: Histogram<u64>,
    last_rx_ns: u64,
    mobility: MobilityCounts,
    reply_latency: Histogram<u64>,
}

/// What the TX loop did.
struct TxOutcome {
    sent: u64,
    dropped: u64,
    begin_ns: u64,
    end_ns: u64,
    mobility: MobilityCounts,
}

/// Runs the generator: DPDK is initialised with `eal_args` (without the program name);
/// `stop` ends transmission early (set it from a signal handler).
pub fn run(config: &RunConfig, eal_args: &[String], stop: Arc<AtomicBool>) -> Result<Summary> {
    // The RX thread is started before the EAL pins this thread to the main lcore's CPU,
    // so that it does not inherit that pinning and can run on another core.
    let shared = Arc::new(Shared::default());
    let (start_tx, start_rx) = mpsc::sync_channel::<RxStart>(1);
    let rx_shared = shared.clone();
    let rx_thread = std::thread::Builder::new()
        .name("pktgen-rx".into())
        .spawn(move || rx_thread(start_rx, rx_shared))
        .context("cannot start the RX thread")?;

    let result = run_with_rx_thread(config, eal_args, &stop, &shared, start_tx, &rx_thread);
    // Whatever happened, let the RX thread finish (it drains at most `drain`).
    shared.tx_done.store(true, Ordering::Release);
    let (tx, template_len, eal_ports) = match result {
        Ok(v) => v,
        Err(e) => {
            return match rx_thread.join() {
                // The RX thread's own failure (registering with DPDK) is the cause.
                Ok(Err(rx_error)) => Err(rx_error.context("the RX thread failed to start")),
                _ => Err(e),
            };
        }
    };
    let rx = wait_for_rx(rx_thread, &shared, &tx)?;
    drop(eal_ports);
    Ok(summarise(config, template_len, &tx, &rx))
}

/// The DPDK objects that must outlive both loops, dropped in field order.
struct Resources {
    _tx_port: Port,
    _rx_port: Port,
    _pool: Mempool,
    _eal: Eal,
}

fn run_with_rx_thread(
    config: &RunConfig,
    eal_args: &[String],
    stop: &AtomicBool,
    shared: &Shared,
    start_tx: mpsc::SyncSender<RxStart>,
    rx_thread: &JoinHandle<Result<Option<RxOutcome>>>,
) -> Result<(TxOutcome, usize, Resources)> {
    let mut args = vec!["mipdp-pktgen".to_string()];
    args.extend(eal_args.iter().cloned());
    let eal = match Eal::init(&args) {
        Ok(eal) => eal,
        Err(e) if eal_args.is_empty() => {
            return Err(anyhow::Error::new(e).context(
                "no EAL arguments were given after `--` (for example: -- --no-huge -m 512 \
                 --no-pci --file-prefix pktgen --vdev net_ring0)",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let pool = Mempool::new(&eal, "pktgen", POOL_SIZE, POOL_CACHE, DATA_ROOM)?;
    let port_config = PortConfig {
        rx_queues: 1,
        tx_queues: 1,
        tx_retries: TX_RETRIES,
        ..PortConfig::default()
    };
    let tx_port = Port::open(&eal, &config.tx_port, &port_config, &pool)
        .with_context(|| format!("cannot start TX port {:?}", config.tx_port))?;
    // One port for both directions is opened once: a net_ring's TX queue 0 feeds its own
    // RX queue 0, and a device cannot be configured twice.
    let rx_port = if config.rx_port == config.tx_port {
        tx_port.clone()
    } else {
        Port::open(&eal, &config.rx_port, &port_config, &pool)
            .with_context(|| format!("cannot start RX port {:?}", config.rx_port))?
    };
    let txq = tx_port.tx_queue(0)?;
    let rxq = rx_port.rx_queue(0)?;

    let f = &config.frame;
    let src_mac = f.src_mac.unwrap_or_else(|| tx_port.mac());
    let dst_mac = f.dst_mac.unwrap_or_else(|| rx_port.mac());
    let spec = FrameSpec {
        src_mac,
        dst_mac,
        src_ip: f.src_ip,
        dst_ip: f.dst_ip,
        src_port: f.udp_port,
        dst_port: f.udp_port,
        frame_len: f.size,
        flows: f.flows,
    };
    let template = FrameTemplate::new(&spec)?;
    let epoch = Instant::now();
    let unix_epoch_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut workload = config.mobility.as_ref().map(|m| {
        let mut w = m.workload.clone();
        w.src_mac = src_mac;
        w.dst_mac = dst_mac;
        w.unix_epoch_ns = unix_epoch_ns;
        w
    });
    if let Some(w) = &workload {
        log::info!(
            "workload {}: {} mobiles, {} → {}",
            w.name(),
            w.plan.mobiles,
            mac_text(src_mac),
            mac_text(dst_mac)
        );
    }
    log::info!(
        "tx {} (port {}) → rx {} (port {}), {} → {} ({} flows), {} bytes",
        config.tx_port,
        tx_port.id(),
        config.rx_port,
        rx_port.id(),
        mac_text(spec.src_mac),
        mac_text(spec.dst_mac),
        spec.flows,
        spec.frame_len
    );

    start_tx
        .send(RxStart {
            eal: eal.clone(),
            queue: rxq,
            epoch,
            drain: config.drain,
            polling: config.rx_polling,
            mobility: config
                .mobility
                .as_ref()
                .map(|m| (m.expectation.clone(), unix_epoch_ns)),
        })
        .map_err(|_| anyhow!("the RX thread ended before it was started"))?;
    wait_for_rx_ready(shared, rx_thread)?;

    let mut tx = Transmitter {
        queue: txq,
        pool: &pool,
        traffic: match workload.as_mut() {
            Some(w) => Traffic::Mobility(w),
            None => Traffic::Probe(&template),
        },
        epoch,
        stop,
        shared,
    };
    let outcome = tx.run(config.limit, config.rate_pps)?;
    if config.mobility.is_some() {
        shared
            .tx_requests
            .store(outcome.mobility.requests, Ordering::Release);
        shared
            .tx_sent
            .store(outcome.mobility.data, Ordering::Release);
    } else {
        shared.tx_sent.store(outcome.sent, Ordering::Release);
    }
    let len = match &config.mobility {
        Some(m) => m.workload.data_len(0),
        None => template.frame_len(),
    };
    drop(tx);
    Ok((
        outcome,
        len,
        Resources {
            _tx_port: tx_port,
            _rx_port: rx_port,
            _pool: pool,
            _eal: eal,
        },
    ))
}

fn wait_for_rx_ready(
    shared: &Shared,
    rx_thread: &JoinHandle<Result<Option<RxOutcome>>>,
) -> Result<()> {
    let deadline = Instant::now() + RX_START_TIMEOUT;
    while !shared.rx_ready.load(Ordering::Acquire) {
        if rx_thread.is_finished() {
            bail!("the RX thread failed to start");
        }
        if Instant::now() > deadline {
            bail!("the RX thread did not start within {RX_START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// What the TX side writes.
enum Traffic<'a> {
    /// The plain probes.
    Probe(&'a FrameTemplate),
    /// A mobility workload.
    Mobility(&'a mut Workload),
}

/// The TX side: the main thread's loop.
struct Transmitter<'a> {
    queue: TxQueue,
    pool: &'a Mempool,
    traffic: Traffic<'a>,
    epoch: Instant,
    stop: &'a AtomicBool,
    shared: &'a Shared,
}

impl Transmitter<'_> {
    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn run(&mut self, limit: Limit, rate_pps: u64) -> Result<TxOutcome> {
        let begin_ns = self.now_ns();
        let mut bucket = (rate_pps > 0).then(|| {
            let burst = BURST_SIZE as u32;
            TokenBucket::new(
                rate_pps,
                TokenBucket::default_capacity(rate_pps, burst),
                begin_ns,
            )
        });
        let end_ns = match limit {
            Limit::Duration(d) => begin_ns.saturating_add(d.as_nanos() as u64),
            _ => u64::MAX,
        };
        let count = match limit {
            Limit::Count(n) => n,
            _ => u64::MAX,
        };
        let mut progress = Progress::new(begin_ns);
        let mut batch = MbufBatch::new();
        let mut sequence: u64 = 0;
        let mut sent: u64 = 0;
        let mut dropped: u64 = 0;
        let mut mobility = MobilityCounts::default();
        // What each frame of the batch is, to count only those the port took.
        let mut kinds = [FrameKind::Data; BURST_SIZE];
        loop {
            let now = self.now_ns();
            if self.stop.load(Ordering::Relaxed) || now >= end_ns || sent >= count {
                break;
            }
            let tx_expected = match self.traffic {
                Traffic::Probe(_) => sent,
                Traffic::Mobility(_) => mobility.data + mobility.requests,
            };
            progress.tick(
                now,
                sent,
                tx_expected,
                self.shared.rx_probes.load(Ordering::Relaxed),
                self.shared.rx_p99_ns.load(Ordering::Relaxed),
            );
            let mut want = (count - sent).min(BURST_SIZE as u64) as u32;
            if let Some(b) = bucket.as_mut() {
                want = b.take(now, want);
                if want == 0 {
                    pace_wait(b.wait_ns());
                    continue;
                }
            }
            for kind in kinds.iter_mut().take(want as usize) {
                let Ok(mut m) = self.pool.alloc() else {
                    break; // every buffer is in flight: send what we have, then retry
                };
                match &mut self.traffic {
                    Traffic::Probe(template) => {
                        let frame = m
                            .append(template.frame_len())
                            .context("mbuf too small for the frame")?;
                        template.write(frame, sequence, now)?;
                    }
                    Traffic::Mobility(workload) => {
                        let frame = m
                            .append(workload.frame_len(sequence))
                            .context("mbuf too small for the frame")?;
                        *kind = workload.write(frame, sequence, now)?;
                    }
                }
                sequence += 1;
                // The batch has room: `want` is at most BURST_SIZE and it starts empty.
                if let Err(m) = batch.push(m) {
                    drop(m);
                    break;
                }
            }
            if batch.is_empty() {
                std::thread::yield_now();
                continue;
            }
            let s = self.queue.burst(&mut batch);
            if let Traffic::Mobility(_) = self.traffic {
                // The port takes a burst's frames from the front; the rest were dropped.
                for k in &kinds[..s.sent as usize] {
                    mobility.sent(*k);
                }
            }
            sent += u64::from(s.sent);
            dropped += u64::from(s.dropped);
            if s.dropped > 0 {
                // The queue stayed full through every retry: whoever empties it (the RX
                // thread, on a net_ring) may be waiting for this core.
                std::thread::yield_now();
            }
        }
        Ok(TxOutcome {
            sent,
            dropped,
            begin_ns,
            end_ns: self.now_ns(),
            mobility,
        })
    }
}

/// Waits for the next token: sleeps unless it is imminent. The bucket makes up for a
/// sleep that overshoots (timer slack is ~50 µs). No `yield_now`: on a contended core the
/// scheduler may push a thread that yields thousands of times a second far back.
fn pace_wait(wait_ns: u64) {
    if wait_ns >= 10_000 {
        std::thread::sleep(Duration::from_nanos(wait_ns));
    } else {
        std::hint::spin_loop();
    }
}

/// The once-a-second progress line on stderr.
struct Progress {
    next_ns: u64,
    last_ns: u64,
    last_tx: u64,
    last_rx: u64,
}

impl Progress {
    fn new(now_ns: u64) -> Progress {
        Progress {
            next_ns: now_ns + PROGRESS_PERIOD_NS,
            last_ns: now_ns,
            last_tx: 0,
            last_rx: 0,
        }
    }

    /// `tx` frames sent, `expected` of them to come back, `rx` back so far, `p99_ns` the
    /// receive side's latency p99.
    #[inline]
    fn tick(&mut self, now_ns: u64, tx: u64, expected: u64, rx: u64, p99_ns: u64) {
        if now_ns < self.next_ns {
            return;
        }
        let ns = now_ns - self.last_ns;
        eprintln!(
            "{}",
            progress_line(
                packets_per_second(tx - self.last_tx, ns),
                packets_per_second(rx.saturating_sub(self.last_rx), ns),
                tx,
                rx,
                expected.saturating_sub(rx),
                p99_ns,
            )
        );
        self.next_ns = now_ns + PROGRESS_PERIOD_NS;
        self.last_ns = now_ns;
        self.last_tx = tx;
        self.last_rx = rx;
    }
}

/// Waits for the RX thread to drain, printing progress, and takes its outcome.
fn wait_for_rx(
    rx_thread: JoinHandle<Result<Option<RxOutcome>>>,
    shared: &Shared,
    tx: &TxOutcome,
) -> Result<RxOutcome> {
    let epoch = Instant::now();
    let mut progress = Progress::new(0);
    progress.last_tx = tx.sent;
    progress.last_rx = shared.rx_probes.load(Ordering::Relaxed);
    let expected =
        shared.tx_sent.load(Ordering::Acquire) + shared.tx_requests.load(Ordering::Acquire);
    while !rx_thread.is_finished() {
        std::thread::sleep(Duration::from_millis(10));
        let now = epoch.elapsed().as_nanos() as u64;
        progress.tick(
            now,
            tx.sent,
            expected,
            shared.rx_probes.load(Ordering::Relaxed),
            shared.rx_p99_ns.load(Ordering::Relaxed),
        );
    }
    match rx_thread.join() {
        Ok(Ok(Some(outcome))) => Ok(outcome),
        Ok(Ok(None)) => bail!("the RX thread was never started"),
        Ok(Err(e)) => Err(e.context("RX thread")),
        Err(_) => bail!("the RX thread panicked"),
    }
}

/// The RX thread: waits for its queue, then counts probes until the drain is over.
fn rx_thread(start: mpsc::Receiver<RxStart>, shared: Arc<Shared>) -> Result<Option<RxOutcome>> {
    let Ok(start) = start.recv() else {
        return Ok(None); // the main thread failed before handing over a queue
    };
    register_thread(&start.eal)?;
    let mut receiver = Receiver {
        queue: start.queue,
        tracker: SequenceTracker::new(SEQUENCE_WINDOW),
        latency: latency_histogram(),
        probes: 0,
        ignored: 0,
        last_rx_ns: 0,
        epoch: start.epoch,
        mobility: start.mobility,
        counts: MobilityCounts::default(),
        reply_latency: latency_histogram(),
        next_p99_ns: 0,
    };
    shared.rx_ready.store(true, Ordering::Release);
    receiver.run(&shared, start.drain, start.polling);
    Ok(Some(RxOutcome {
        counts: receiver.tracker.counts(),
        probes: receiver.probes,
        ignored: receiver.ignored,
        latency: receiver.latency,
        last_rx_ns: receiver.last_rx_ns,
        mobility: receiver.counts,
        reply_latency: receiver.reply_latency,
    }))
}

/// The RX side's state.
struct Receiver {
    queue: RxQueue,
    tracker: SequenceTracker,
    latency: Histogram<u64>,
    probes: u64,
    ignored: u64,
    last_rx_ns: u64,
    epoch: Instant,
    /// The mobility check and the epoch's Unix time (ns), for a mobility workload.
    mobility: Option<(Expectation, u64)>,
    counts: MobilityCounts,
    /// Request → reply latency of Registration Replies (from the Identification's
    /// fraction of a second, which the reply copies).
    reply_latency: Histogram<u64>,
    /// When the p99 is published next.
    next_p99_ns: u64,
}

impl Receiver {
    fn run(&mut self, shared: &Shared, drain: Duration, polling: RxPolling) {
        let mut backoff = IdleBackoff::new(match polling {
            RxPolling::BackOff => Duration::from_micros(50),
            RxPolling::Busy => Duration::ZERO,
        });
        let mut batch = MbufBatch::new();
        let mut drain_deadline: Option<Instant> = None;
        loop {
            let n = self.queue.burst(&mut batch);
            if n > 0 {
                let now = self.epoch.elapsed().as_nanos() as u64;
                match self.mobility.take() {
                    Some(m) => {
                        self.account_mobility(&mut batch, &m, now);
                        self.mobility = Some(m);
                    }
                    None => self.account(&mut batch, now),
                }
                shared
                    .rx_probes
                    .store(self.probes + self.counts.replies(), Ordering::Relaxed);
                if now >= self.next_p99_ns {
                    // About once a second: a quantile walks the whole histogram.
                    self.next_p99_ns = now + PROGRESS_PERIOD_NS;
                    shared
                        .rx_p99_ns
                        .store(self.latency.value_at_quantile(0.99), Ordering::Relaxed);
                }
            }
            if shared.tx_done.load(Ordering::Acquire) {
                let data_back =
                    self.tracker.counts().unique >= shared.tx_sent.load(Ordering::Acquire);
                let replies_back =
                    self.counts.replies() >= shared.tx_requests.load(Ordering::Acquire);
                if data_back && replies_back {
                    break;
                }
                let deadline = *drain_deadline.get_or_insert_with(|| Instant::now() + drain);
                if Instant::now() >= deadline {
                    break;
                }
            }
            backoff.after_poll(n);
        }
    }

    #[inline]
    fn account(&mut self, batch: &mut MbufBatch, now: u64) {
        for m in batch.drain() {
            match parse_probe(m.data()) {
                Ok(probe) => {
                    self.probes += 1;
                    self.tracker.record(probe.sequence);
                    self.latency
                        .saturating_record(now.saturating_sub(probe.tx_ns));
                    self.last_rx_ns = now;
                }
                Err(_) => self.ignored += 1,
            }
        }
    }

    #[inline]
    fn account_mobility(
        &mut self,
        batch: &mut MbufBatch,
        (expectation, unix_epoch_ns): &(Expectation, u64),
        now: u64,
    ) {
        for m in batch.drain() {
            let r = expectation.classify(m.data());
            self.counts.received(&r);
            match r {
                Received::Data {
                    sequence, tx_ns, ..
                } => {
                    self.probes += 1;
                    self.tracker.record(sequence);
                    self.latency.saturating_record(now.saturating_sub(tx_ns));
                    self.last_rx_ns = now;
                }
                Received::RegistrationReply {
                    identification_low, ..
                } => {
                    // RFC 5944 §5.7.1: the reply's low-order 32 bits of Identification are
                    // the request's, a fraction of a second in units of 2^-32 s.
                    let rx_low = ntp_from_unix_ns(unix_epoch_ns + now) as u32;
                    let units = u64::from(rx_low.wrapping_sub(identification_low));
                    if units < 1 << 31 {
                        self.reply_latency
                            .saturating_record((units * 1_000_000_000) >> 32);
                    }
                    self.last_rx_ns = now;
                }
                Received::BindingAck { .. } => self.last_rx_ns = now,
                Received::Other => self.ignored += 1,
                Received::Mismatch { .. } | Received::Malformed(_) => {}
            }
        }
    }
}

fn summarise(config: &RunConfig, size: usize, tx: &TxOutcome, rx: &RxOutcome) -> Summary {
    let tx_ns = tx.end_ns.saturating_sub(tx.begin_ns);
    let rx_ns = rx.last_rx_ns.saturating_sub(tx.begin_ns);
    let expected = match &config.mobility {
        Some(_) => tx.mobility.data,
        None => tx.sent,
    };
    let mobility = config
        .mobility
        .as_ref()
        .map(|m| MobilitySummary::new(&m.workload, &tx.mobility, &rx.mobility));
    Summary {
        tx_packets: tx.sent,
        tx_dropped: tx.dropped,
        rx_packets: rx.probes,
        rx_ignored: rx.ignored,
        lost: expected.saturating_sub(rx.counts.unique),
        reordered: rx.counts.reordered,
        duplicates: rx.counts.duplicates,
        tx_pps: packets_per_second(tx.sent, tx_ns),
        rx_pps: packets_per_second(rx.probes, rx_ns),
        latency_ns: LatencySummary::from_histogram(&rx.latency),
        size,
        flows: config.frame.flows,
        rate_pps: config.rate_pps,
        duration_s: tx_ns as f64 / 1e9,
        reply_latency_ns: (!rx.reply_latency.is_empty())
            .then(|| LatencySummary::from_histogram(&rx.reply_latency)),
        mobility,
    }
}

fn mac_text(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}
