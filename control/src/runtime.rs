//! Brings the dataplane up from a configuration, runs the control loop until SIGINT or
//! SIGTERM, and prints final counters.
//!
//! Threads: the calling thread is the control thread (DPDK's main lcore); one worker per
//! configured core, pinned and registered with DPDK. Each port gets one RX queue per worker
//! and one TX queue per worker plus one reserved for the control thread.

use crate::backup::{Backup, BackupStart, DISCARD_OPTION};
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mipdp_dataplane::counters::{DropReason, WorkerSnapshot};
use mipdp_dataplane::port::template::TemplateRx;
use mipdp_dataplane::worker::check_core;
use mipdp_dataplane::{Forwarder, ForwarderPort, Worker, WorkerCounters};
use mipdp_dpdk::{register_thread, Eal, Mempool, Port, PortConfig, RxQueue, TxQueue};

use crate::config::{Config, Mode};
use crate::mobility::{engine_text, Control, Processors};

/// A worker. Its RX queues are always wrapped for the benchmark aid `rx_template_pcap`
/// (passed through untouched on a port without templates: one predictable branch per
/// burst). A second worker type for the usual case would be free per burst but not per
/// packet: with two instantiations of the worker loop LLVM stopped inlining the
/// processor into it, which cost the forwarder 8-15 % (perf/mobility.sh fwd-plain, same
/// run); with one, the forwarder is within the noise of the build before the wrapper.
type DpdkWorker = Worker<TemplateRx<RxQueue>, TxQueue, Processors>;

/// What starting one worker takes besides its RX queues.
struct WorkerStart<'a> {
    index: usize,
    core: core_affinity::CoreId,
    tx: Vec<TxQueue>,
    processor: Processors,
    idle: Duration,
    control: Option<&'a Control>,
    eal: &'a Eal,
    stop: &'a Arc<AtomicBool>,
}

impl WorkerStart<'_> {
    /// Builds the worker on `rx` and starts its thread (registered with DPDK).
    fn spawn(
        self,
        rx: Vec<TemplateRx<RxQueue>>,
    ) -> Result<(JoinHandle<DpdkWorker>, Arc<WorkerCounters>)> {
        let mut worker = Worker::new(self.index, rx, self.tx, self.processor, self.idle)?;
        if let Some(c) = self.control {
            worker = worker.with_punt(c.punt_queue());
            if self.index == 0 {
                worker = worker.with_inject(c.inject_queue());
            }
        }
        let counters = worker.counters();
        let eal = self.eal.clone();
        let handle = worker.spawn(
            self.core,
            move || register_thread(&eal).map(|_| ()).map_err(|e| e.to_string()),
            self.stop.clone(),
        )?;
        Ok((handle, counters))
    }
}

/// Drivers that need as many RX as TX queues: DPDK's tap driver refuses unequal counts, and
/// net_af_xdp has one socket per queue pair, as many as the `queue_count` it was given.
const EQUAL_QUEUE_DRIVERS: [&str; 2] = ["net_tap", "net_af_xdp"];

/// How often the control loop wakes to check for a stop request.
const TICK: Duration = Duration::from_millis(50);
/// How often it wakes in mobility mode, where it also moves updates and punts on.
const CONTROL_TICK: Duration = Duration::from_millis(1);

/// A running dataplane: EAL, pool, ports, workers.
pub struct Dataplane {
    config: Config,
    ports: Vec<Port>,
    workers: Vec<JoinHandle<DpdkWorker>>,
    counters: Vec<Arc<WorkerCounters>>,
    stop: Arc<AtomicBool>,
    // The control thread's own TX queue on every port that can have one (signalling and
    // ARP requests go out here).
    control_tx: Vec<Option<TxQueue>>,
    // Mobility mode's control side.
    control: Option<Control>,
    ctl: Option<crate::api::ControlSocket>,
    pool: Mempool,
    _eal: Eal,
}

/// Lines `mipdp ctl show bindings` prints at most unless told otherwise.
pub const BINDINGS_SHOWN: usize = 1000;

impl Dataplane {
    /// Initialises DPDK with `eal_args`, opens the configured ports and starts the workers.
    pub fn start(
        mut config: Config,
        eal_args: &[String],
        stop: Arc<AtomicBool>,
        backup_start: BackupStart,
    ) -> Result<Dataplane> {
        // Before DPDK: a backup that cannot be used stops start-up at once, untouched.
        let backup = match &config.backup {
            // Read and checked on a thread of its own while DPDK starts and the control
            // thread restores ([`Control::start_backup`]).
            Some(b) => Some(Backup::streamed(
                &b.path,
                backup_start,
                crate::mobility::RESTORE_CHUNK,
            )?),
            None => {
                if backup_start == BackupStart::Discard {
                    log::warn!(
                        "{DISCARD_OPTION}: there is no [backup] in the configuration, nothing to discard"
                    );
                }
                None
            }
        };
        // Before the EAL pins this thread and narrows what it sees.
        let cores = config
            .dataplane
            .workers
            .iter()
            .map(|c| check_core(*c))
            .collect::<Result<Vec<_>, _>>()?;
        let mut args = vec!["mipdp".to_string()];
        args.extend(eal_args.iter().cloned());
        let eal = match Eal::init(&args) {
            Ok(eal) => eal,
            Err(e) if eal_args.is_empty() => {
                return Err(anyhow::Error::new(e).context("no EAL arguments were given after `--`"))
            }
            Err(e) => return Err(e.into()),
        };
        // Made when the configuration was checked (Config::load).
        let checked_plan = config.take_checked_plan();
        let dp = &config.dataplane;
        let pool = Mempool::new(&eal, "mipdp_pkt", dp.mbufs, dp.mbuf_cache, 2176)?;
        let workers = dp.workers.len() as u16;
        let mut ports = Vec::with_capacity(config.ports.len());
        let mut control_queue = Vec::with_capacity(config.ports.len());
        for p in &config.ports {
            let info = Port::device_info(&eal, &p.device)
                .with_context(|| format!("cannot start port {:?}", p.device))?;
            // Some drivers (net_tap: one kernel queue pair per queue) need as many RX as TX
            // queues, and an RX queue nobody polls would lose the flows the kernel hashes
            // onto it. On those the control thread gets no TX queue of its own.
            let reserve_control = !EQUAL_QUEUE_DRIVERS.contains(&info.driver.as_str());
            if !reserve_control {
                log::warn!(
                    "port {}: driver {} needs equal RX and TX queue counts; \
                     no TX queue is reserved for the control thread on it",
                    p.device,
                    info.driver
                );
            }
            control_queue.push(reserve_control);
            let pc = PortConfig {
                rx_queues: workers,
                tx_queues: workers + u16::from(reserve_control),
                rx_descriptors: dp.rx_descriptors,
                tx_descriptors: dp.tx_descriptors,
                mtu: p.mtu,
                promiscuous: p.promiscuous,
                tx_retries: dp.tx_retries,
            };
            let port = Port::open(&eal, &p.device, &pc, &pool)
                .with_context(|| format!("cannot start port {:?}", p.device))?;
            let link = port.link();
            log::info!(
                "port {} ({}): id {}, mac {}, link {} {} Mb/s",
                ports.len(),
                p.device,
                port.id(),
                crate::config::MacAddr(port.mac()),
                if link.up { "up" } else { "down" },
                link.speed_mbps
            );
            ports.push(port);
        }

        let forwarder_ports: Vec<ForwarderPort> = config
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| ForwarderPort {
                mac: ports[i].mac(),
                peer_mac: p.peer_mac.map(|m| m.0).unwrap_or(default_peer_mac(i)),
                forward_to: config.egress_of(i),
            })
            .collect();
        for (i, fp) in forwarder_ports.iter().enumerate() {
            if dp.mode != Mode::Forwarder {
                break;
            }
            log::info!(
                "forwarder: {} → {} (dst {})",
                config.ports[i].device,
                config.ports[fp.forward_to as usize].device,
                crate::config::MacAddr(forwarder_ports[fp.forward_to as usize].peer_mac)
            );
        }

        let (mut control, mut engines) = match dp.mode {
            Mode::Forwarder => (None, Vec::new()),
            Mode::Mobility => {
                let plan = match checked_plan {
                    Some(plan) => plan,
                    None => config
                        .plan()
                        .map_err(|b| anyhow::anyhow!("{} = {}: {}", b.key, b.value, b.expected))?,
                };
                let (mut control, mut engines) = Control::new(
                    plan,
                    ports.iter().map(|p| p.id()).collect(),
                    ports.iter().map(|p| p.mac()).collect(),
                    &cores,
                )?;
                // Restored bindings are queued with the configured tables, before any
                // worker runs; wait_loaded below waits for both.
                if let Some(backup) = backup {
                    control.start_backup(backup, &mut engines, &cores)?;
                }
                (Some(control), engines)
            }
        };
        engines.reverse();
        let mut handles = Vec::new();
        let mut counters = Vec::new();
        if config.rx_templates.iter().any(Option::is_some) {
            log::warn!(
                "rx_template_pcap: received frames are overwritten with template frames \
                 (a benchmark aid: do not use with real traffic)"
            );
        }
        for (w, core) in cores.iter().enumerate() {
            let q = w as u16;
            let rx = ports
                .iter()
                .map(|p| p.rx_queue(q))
                .collect::<Result<Vec<_>, _>>()?;
            let tx = ports
                .iter()
                .map(|p| p.tx_queue(q))
                .collect::<Result<Vec<_>, _>>()?;
            let processor = match engines.pop() {
                Some(engine) => Processors::Mobility(Box::new(engine)),
                None => Processors::Forwarder(Forwarder::new(&forwarder_ports)),
            };
            let start = WorkerStart {
                index: w,
                core: *core,
                tx,
                processor,
                idle: Duration::from_micros(dp.idle_sleep_max_us),
                control: control.as_ref(),
                eal: &eal,
                stop: &stop,
            };
            let rx = rx
                .into_iter()
                .zip(&config.rx_templates)
                .map(|(q, t)| match t {
                    // Workers sharing a list start at different frames.
                    Some(t) => {
                        let first = t.len() / cores.len() * w;
                        TemplateRx::new(q, t.clone(), first)
                    }
                    None => TemplateRx::plain(q),
                })
                .collect();
            let started = start.spawn(rx);
            match started {
                Ok((h, c)) => {
                    handles.push(h);
                    counters.push(c);
                }
                Err(e) => {
                    stop.store(true, Ordering::SeqCst);
                    for h in handles {
                        let _ = h.join();
                    }
                    return Err(e);
                }
            }
            log::info!("worker {w} running on core {}", core.id);
        }
        let mut control_tx = Vec::with_capacity(ports.len());
        for (port, reserved) in ports.iter().zip(&control_queue) {
            control_tx.push(if *reserved {
                Some(port.tx_queue(workers)?)
            } else {
                None
            });
        }
        if let Some(c) = &mut control {
            if let Err(e) = c.wait_loaded(Duration::from_secs(30)) {
                stop.store(true, Ordering::SeqCst);
                for h in handles {
                    let _ = h.join();
                }
                return Err(e);
            }
            log::info!("mobility tables loaded on {} worker(s)", cores.len());
            c.announce_home_addresses(&pool, &mut control_tx);
            // Every worker forwards for the restored bindings now: verify them.
            let restored = c.restored().to_vec();
            c.start_recovery(&restored);
        }
        let ctl = match &config.dataplane.control_socket {
            Some(path) => match crate::api::ControlSocket::bind(std::path::Path::new(path)) {
                Ok(s) => Some(s),
                Err(e) => {
                    stop.store(true, Ordering::SeqCst);
                    for h in handles {
                        let _ = h.join();
                    }
                    return Err(e);
                }
            },
            None => None,
        };
        Ok(Dataplane {
            config,
            ctl,
            ports,
            workers: handles,
            counters,
            stop,
            control_tx,
            control,
            pool,
            _eal: eal,
        })
    }

    /// Sums the workers' counters.
    pub fn totals(&self) -> WorkerSnapshot {
        let mut total = WorkerSnapshot {
            rx: vec![0; self.ports.len()],
            tx: vec![0; self.ports.len()],
            ..Default::default()
        };
        for c in &self.counters {
            add(&mut total, &c.snapshot());
        }
        total
    }

    /// Runs the control loop until a stop is requested, printing counters every
    /// `dataplane.stats_interval_ms`.
    pub fn run_until_stopped(&mut self) {
        let interval = Duration::from_millis(self.config.dataplane.stats_interval_ms);
        let mut last = Instant::now();
        let started = last;
        let mut prev = self.totals();
        let tick = if self.control.is_some() {
            CONTROL_TICK
        } else {
            TICK
        };
        let mut backlog = false;
        while !self.stop.load(Ordering::Relaxed) {
            // No pause while punted packets wait: under a flood the control thread works
            // through them at full speed, a bounded batch per tick.
            if !backlog {
                std::thread::sleep(tick);
            }
            if let Some(c) = &mut self.control {
                backlog = c.tick(&self.pool, &mut self.control_tx);
            }
            if let Some(ctl) = self.ctl.take() {
                ctl.serve(|command| self.answer(command));
                self.ctl = Some(ctl);
            }
            if interval.is_zero() || last.elapsed() < interval {
                continue;
            }
            let now = Instant::now();
            let cur = self.totals();
            let secs = now.duration_since(last).as_secs_f64();
            let mut out = String::new();
            for (i, p) in self.config.ports.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "stats elapsed={:.3} port={} rx={} tx={} rx_pps={:.0} tx_pps={:.0}",
                    now.duration_since(started).as_secs_f64(),
                    p.device,
                    cur.rx[i],
                    cur.tx[i],
                    (cur.rx[i] - prev.rx[i]) as f64 / secs,
                    (cur.tx[i] - prev.tx[i]) as f64 / secs,
                );
            }
            let _ = writeln!(out, "stats drops {}", drops_text(&cur));
            if let Some(c) = &self.control {
                let _ = writeln!(
                    out,
                    "stats engine {}",
                    engine_text(&c.engine_totals(), &c.stats)
                );
            }
            print_flush(&out);
            prev = cur;
            last = now;
        }
    }

    /// The answer to one control-socket command.
    fn answer(&mut self, command: &str) -> String {
        match command.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["show", "stats"] => self.stats_text(),
            ["show", "recovery"] => match &self.control {
                Some(c) => c.recovery_text(),
                None => "error: mode = \"forwarder\" has no bindings to recover\n".into(),
            },
            ["show", "bindings"] => self.bindings_text(BINDINGS_SHOWN),
            ["show", "bindings", limit] => match limit.parse() {
                Ok(limit) => self.bindings_text(limit),
                Err(_) => format!("error: {limit:?} is not a number of lines\n"),
            },
            ["refresh", "binding", home] => {
                let Ok(home) = home.parse::<std::net::Ipv6Addr>() else {
                    return format!(
                        "error: {home:?} is not an IPv6 home address, e.g. 2001:db8:1::100\n"
                    );
                };
                match &mut self.control {
                    Some(c) => c.refresh_binding(&self.pool, &mut self.control_tx, home),
                    None => "error: mode = \"forwarder\" has no bindings\n".into(),
                }
            }
            _ => format!(
                "error: unknown command {command:?}; commands: show stats, show bindings [LIMIT], \
                 show recovery, refresh binding HOME\n"
            ),
        }
    }

    /// Every binding the roles hold, at most `limit` lines, then the count.
    fn bindings_text(&self, limit: usize) -> String {
        match &self.control {
            Some(c) => c.bindings_text(limit),
            None => "error: mode = \"forwarder\" has no bindings\n".into(),
        }
    }

    /// Every counter: per port, per worker, drops, and the engine's.
    pub fn stats_text(&self) -> String {
        let mut out = String::new();
        let total = self.totals();
        for (i, p) in self.config.ports.iter().enumerate() {
            let nic = self.ports[i].stats();
            let _ = writeln!(
                out,
                "port={} rx={} tx={} nic_ipackets={} nic_opackets={} imissed={} ierrors={} oerrors={} rx_nombuf={}",
                p.device,
                total.rx[i],
                total.tx[i],
                nic.ipackets,
                nic.opackets,
                nic.imissed,
                nic.ierrors,
                nic.oerrors,
                nic.rx_nombuf
            );
        }
        for (w, c) in self.counters.iter().enumerate() {
            let s = c.snapshot();
            let _ = writeln!(
                out,
                "worker={} core={} rx={} tx={} polls={} idle_sleeps={}",
                w,
                self.config.dataplane.workers[w],
                s.rx.iter().sum::<u64>(),
                s.tx.iter().sum::<u64>(),
                s.polls,
                s.idle_sleeps
            );
        }
        let _ = writeln!(out, "drops {}", drops_text(&total));
        if let Some(c) = &self.control {
            let _ = writeln!(out, "engine {}", engine_text(&c.engine_totals(), &c.stats));
        }
        out
    }

    /// Stops the workers, prints the final counters and closes the ports.
    pub fn shutdown(self) -> Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        let mut out = String::new();
        let mut total = WorkerSnapshot {
            rx: vec![0; self.ports.len()],
            tx: vec![0; self.ports.len()],
            ..Default::default()
        };
        let mut panicked = 0;
        for (w, h) in self.workers.into_iter().enumerate() {
            match h.join() {
                Ok(worker) => {
                    let s = worker.counters().snapshot();
                    let _ = writeln!(
                        out,
                        "final worker={} core={} rx={} tx={} {} polls={} idle_sleeps={}",
                        w,
                        self.config.dataplane.workers[w],
                        s.rx.iter().sum::<u64>(),
                        s.tx.iter().sum::<u64>(),
                        drops_text(&s),
                        s.polls,
                        s.idle_sleeps
                    );
                    add(&mut total, &s);
                }
                Err(_) => panicked += 1,
            }
        }
        for (i, port) in self.ports.iter().enumerate() {
            port.stop();
            let nic = port.stats();
            let _ = writeln!(
                out,
                "final port={} rx={} tx={} nic_ipackets={} nic_opackets={} imissed={} ierrors={} oerrors={} rx_nombuf={}",
                port.name(),
                total.rx[i],
                total.tx[i],
                nic.ipackets,
                nic.opackets,
                nic.imissed,
                nic.ierrors,
                nic.oerrors,
                nic.rx_nombuf
            );
        }
        let _ = writeln!(out, "final drops {}", drops_text(&total));
        if let Some(c) = &self.control {
            let _ = writeln!(
                out,
                "final engine {}",
                engine_text(&c.engine_totals(), &c.stats)
            );
        }
        print_flush(&out);
        if panicked > 0 {
            anyhow::bail!("{panicked} worker thread(s) ended abnormally");
        }
        Ok(())
    }
}

/// The peer MAC used when a port names none: testpmd's default 02:00:00:00:00:<port>.
fn default_peer_mac(i: usize) -> [u8; 6] {
    [2, 0, 0, 0, 0, i as u8]
}

fn add(total: &mut WorkerSnapshot, s: &WorkerSnapshot) {
    for (t, v) in total.rx.iter_mut().zip(&s.rx) {
        *t += v;
    }
    for (t, v) in total.tx.iter_mut().zip(&s.tx) {
        *t += v;
    }
    for (t, v) in total.drops.iter_mut().zip(&s.drops) {
        *t += v;
    }
    total.polls += s.polls;
    total.idle_sleeps += s.idle_sleeps;
}

fn drops_text(s: &WorkerSnapshot) -> String {
    DropReason::ALL
        .iter()
        .map(|r| format!("{}={}", r.name(), s.drops_for(*r)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_flush(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
