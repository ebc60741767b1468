//! The run-to-completion poll loop of one worker core: rx burst of 32 on every port →
//! process each packet → tx burst per egress port; adaptive back-off when idle.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::backoff::IdleBackoff;
use crate::counters::{DropReason, LocalCounters, WorkerCounters};
use crossbeam_queue::ArrayQueue;

use crate::port::{PacketBatch, PacketBuf, RxPort, TxPort};

/// Packets per RX burst.
pub const BURST: usize = 32;

/// What the worker does with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send it out of the port with this index.
    Forward(u16),
    /// Drop it and count the reason.
    Drop(DropReason),
    /// Hand it to the control thread (signalling, ARP/ND the dataplane does not answer):
    /// a bounded queue, full = dropped and counted.
    Punt,
}

/// The per-packet decision: pure logic over a packet, no I/O (boringtun's shape).
pub trait Processor: Send {
    /// Decides what happens to `packet`, which came in on port index `in_port`, editing it
    /// in place as needed.
    fn process<P: PacketBuf>(&mut self, in_port: usize, packet: &mut P) -> Action;

    /// Like [`Self::process`], and may add packets of its own (copies of `packet`, e.g.
    /// one per care-of address of a simultaneous binding) with `emit`, each with its
    /// action. The worker calls this one; the default adds none.
    #[inline]
    fn process_with<P: PacketBuf>(
        &mut self,
        in_port: usize,
        packet: &mut P,
        emit: &mut dyn FnMut(P, Action),
    ) -> Action {
        let _ = emit;
        self.process(in_port, packet)
    }

    /// Called for every packet of an RX burst before any of them is processed, e.g. to
    /// read the table entries the packets will need so that their cache misses overlap
    /// (a lookup at a time stalls on each miss in turn). It must not change the packet or
    /// any state a packet's processing depends on. The default does nothing.
    #[inline]
    fn prefetch<P: PacketBuf>(&self, packet: &P) {
        let _ = packet;
    }

    /// Called for every packet of an RX burst after [`Self::prefetch`] ran on all of them:
    /// a second read-ahead pass that may follow what the first one loaded (a hash slot
    /// naming where an entry is). The same rules hold; the default does nothing.
    #[inline]
    fn prefetch_next<P: PacketBuf>(&self, packet: &P) {
        let _ = packet;
    }

    /// Called before each poll of the RX queues (e.g. to apply a bounded number of table
    /// updates); returns the work done, so the worker does not back off while busy.
    #[inline]
    fn before_poll(&mut self) -> usize {
        0
    }

    /// Called after each poll with the packets it received on all RX queues (e.g. to
    /// publish counters).
    #[inline]
    fn after_poll(&mut self, received: usize) {
        let _ = received;
    }
}

/// Why a worker could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// RX and TX queue lists differ in length.
    #[error("worker {worker}: {rx} RX queues but {tx} TX queues (one of each per port)")]
    QueueMismatch {
        /// Worker index.
        worker: usize,
        /// RX queues given.
        rx: usize,
        /// TX queues given.
        tx: usize,
    },
    /// The configured core does not exist on this machine.
    #[error("core {core} does not exist: this machine has cores {available}; change dataplane.workers in the configuration")]
    NoSuchCore {
        /// Core asked for.
        core: usize,
        /// Cores present.
        available: String,
    },
    /// The thread could not be pinned or set up.
    #[error("worker {worker} on core {core}: {reason}")]
    Start {
        /// Worker index.
        worker: usize,
        /// Core.
        core: usize,
        /// What failed.
        reason: String,
    },
}

/// Checks that `core` exists and may be used by this process.
pub fn check_core(core: usize) -> Result<core_affinity::CoreId, WorkerError> {
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    cores
        .iter()
        .find(|c| c.id == core)
        .copied()
        .ok_or_else(|| WorkerError::NoSuchCore {
            core,
            available: if cores.is_empty() {
                "none visible".into()
            } else {
                cores
                    .iter()
                    .map(|c| c.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })
}

/// One worker: its queues on every port, its processor, its counters.
pub struct Worker<R, T, P>
where
    R: RxPort,
    T: TxPort<Batch = R::Batch>,
    P: Processor,
{
    index: usize,
    rx: Vec<R>,
    tx: Vec<T>,
    pending: Vec<R::Batch>,
    actions: [Action; BURST],
    processor: P,
    punt: Option<PuntQueue<R>>,
    inject: Option<InjectQueue<R>>,
    local: LocalCounters,
    shared: Arc<WorkerCounters>,
    backoff: IdleBackoff,
}

/// The bounded queue a worker hands punted packets to (the control thread pops them).
pub type PuntQueue<R> = Arc<ArrayQueue<<<R as RxPort>::Batch as PacketBatch>::Packet>>;

/// Packets the control thread asks a worker to send, with their port index (for ports
/// where the control thread has no TX queue of its own).
pub type InjectQueue<R> = Arc<ArrayQueue<(<<R as RxPort>::Batch as PacketBatch>::Packet, u16)>>;

impl<R, T, P> Worker<R, T, P>
where
    R: RxPort + 'static,
    T: TxPort<Batch = R::Batch> + 'static,
    P: Processor + 'static,
{
    /// A worker polling `rx[i]` and sending on `tx[i]` for port index i.
    pub fn new(
        index: usize,
        rx: Vec<R>,
        tx: Vec<T>,
        processor: P,
        max_idle_sleep: Duration,
    ) -> Result<Self, WorkerError> {
        if rx.len() != tx.len() {
            return Err(WorkerError::QueueMismatch {
                worker: index,
                rx: rx.len(),
                tx: tx.len(),
            });
        }
        let ports = rx.len();
        Ok(Worker {
            index,
            pending: (0..ports).map(|_| R::Batch::default()).collect(),
            rx,
            tx,
            actions: [Action::Drop(DropReason::NoEgress); BURST],
            processor,
            punt: None,
            inject: None,
            local: LocalCounters::new(ports),
            shared: Arc::new(WorkerCounters::new(ports)),
            backoff: IdleBackoff::new(max_idle_sleep),
        })
    }

    /// Sends punted packets to `queue`; without one they are dropped and counted.
    pub fn with_punt(mut self, queue: PuntQueue<R>) -> Self {
        self.punt = Some(queue);
        self
    }

    /// Sends what the control thread puts on `queue` (at most a burst per poll).
    pub fn with_inject(mut self, queue: InjectQueue<R>) -> Self {
        self.inject = Some(queue);
        self
    }

    /// The worker's index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The shared counters, readable from any thread.
    pub fn counters(&self) -> Arc<WorkerCounters> {
        self.shared.clone()
    }

    /// The processor (for tests and reports).
    pub fn processor(&self) -> &P {
        &self.processor
    }

    /// One pass over every RX queue; returns the work done: the packets received, the
    /// control thread's frames sent, and what [`Processor::before_poll`] did (e.g. updates
    /// applied).
    #[inline]
    pub fn poll_once(&mut self) -> usize {
        let Worker {
            rx,
            tx,
            pending,
            actions,
            processor,
            punt,
            inject,
            local,
            ..
        } = self;
        let work = processor.before_poll();
        let mut received = 0;
        // Frames the control thread sends through this worker.
        let mut injected = 0;
        if let Some(q) = inject {
            for _ in 0..BURST {
                let Some((packet, port)) = q.pop() else { break };
                dispatch(packet, Action::Forward(port), pending, tx, punt, local);
                injected += 1;
            }
        }
        for (port, queue) in rx.iter_mut().enumerate() {
            let mut batch = R::Batch::default();
            let n = queue.rx_burst(&mut batch);
            if n == 0 {
                continue;
            }
            received += n;
            local.rx[port] += n as u64;
            {
                // Packets the processor adds (copies) are queued like forwarded ones.
                let mut emit = |packet: <R::Batch as PacketBatch>::Packet, action: Action| {
                    dispatch(packet, action, pending, tx, punt, local);
                };
                batch.for_each_mut(|_, packet| processor.prefetch(packet));
                batch.for_each_mut(|_, packet| processor.prefetch_next(packet));
                batch.for_each_mut(|i, packet| {
                    if let Some(slot) = actions.get_mut(i) {
                        *slot = processor.process_with(port, packet, &mut emit);
                    }
                });
            }
            // Fast path: the whole burst leaves by one port with nothing queued there yet, so
            // the RX batch itself is the TX batch (no per-packet move).
            if let Some(out) = single_egress(actions.get(..n).unwrap_or(&[])) {
                if let (Some(queue), Some(txq)) = (pending.get(out), tx.get_mut(out)) {
                    if queue.is_empty() {
                        send(txq, &mut batch, out, local);
                        continue;
                    }
                }
            }
            let mut i = 0;
            batch.drain_each(|packet| {
                let action = actions
                    .get(i)
                    .copied()
                    .unwrap_or(Action::Drop(DropReason::NoEgress));
                i += 1;
                dispatch(packet, action, pending, tx, punt, local);
            });
        }
        for (out, (queue, txq)) in pending.iter_mut().zip(tx.iter_mut()).enumerate() {
            if !queue.is_empty() {
                send(txq, queue, out, local);
            }
        }
        processor.after_poll(received);
        local.polls += 1;
        local.publish(&self.shared, self.backoff.sleeps());
        work + received + injected
    }

    /// Polls until `stop` is set, backing off when idle; then publishes final counters.
    pub fn run(&mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            let n = self.poll_once();
            self.backoff.after_poll(n);
        }
        self.local.publish(&self.shared, self.backoff.sleeps());
    }

    /// Runs the worker on its own thread pinned to `core` (checked with [`check_core`] before
    /// DPDK narrows the process's affinity), after `init` (e.g. registering the thread with
    /// DPDK) succeeds there. The thread returns the worker when `stop` is set.
    pub fn spawn<I>(
        mut self,
        core_id: core_affinity::CoreId,
        init: I,
        stop: Arc<AtomicBool>,
    ) -> Result<JoinHandle<Self>, WorkerError>
    where
        I: FnOnce() -> Result<(), String> + Send + 'static,
    {
        let core = core_id.id;
        let index = self.index;
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<(), String>>(1);
        let handle = std::thread::Builder::new()
            .name(format!("mipdp-worker-{index}"))
            .spawn(move || {
                let started = if core_affinity::set_for_current(core_id) {
                    init()
                } else {
                    Err(format!("cannot pin the thread to core {core}"))
                };
                let ok = started.is_ok();
                let _ = ready_tx.send(started);
                if ok {
                    self.run(&stop);
                }
                self
            })
            .map_err(|e| WorkerError::Start {
                worker: index,
                core,
                reason: e.to_string(),
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(reason)) => {
                let _ = handle.join();
                Err(WorkerError::Start {
                    worker: index,
                    core,
                    reason,
                })
            }
            Err(_) => Err(WorkerError::Start {
                worker: index,
                core,
                reason: "the worker thread ended before it started".into(),
            }),
        }
    }
}

/// Queues one packet by its action: on its egress port's pending batch (sending that
/// batch first when full), to the punt queue, or dropped and counted.
#[inline]
fn dispatch<B: PacketBatch, T: TxPort<Batch = B>>(
    packet: B::Packet,
    action: Action,
    pending: &mut [B],
    tx: &mut [T],
    punt: &Option<Arc<ArrayQueue<B::Packet>>>,
    local: &mut LocalCounters,
) {
    match action {
        Action::Forward(out) => {
            let out = out as usize;
            let (Some(queue), Some(txq)) = (pending.get_mut(out), tx.get_mut(out)) else {
                local.drops[DropReason::NoEgress as usize] += 1;
                return;
            };
            if let Err(packet) = queue.push(packet) {
                send(txq, queue, out, local);
                if queue.push(packet).is_err() {
                    local.drops[DropReason::TxFull as usize] += 1;
                }
            }
        }
        Action::Drop(reason) => local.drops[reason as usize] += 1,
        Action::Punt => {
            if punt.as_ref().is_none_or(|q| q.push(packet).is_err()) {
                local.drops[DropReason::PuntFull as usize] += 1;
            }
        }
    }
}

/// The egress port when every action of a burst forwards to the same one.
#[inline]
fn single_egress(actions: &[Action]) -> Option<usize> {
    let Some(Action::Forward(first)) = actions.first() else {
        return None;
    };
    actions
        .iter()
        .all(|a| *a == Action::Forward(*first))
        .then_some(*first as usize)
}

#[inline]
fn send<T: TxPort>(txq: &mut T, batch: &mut T::Batch, out: usize, local: &mut LocalCounters) {
    let outcome = txq.tx_burst(batch);
    if let Some(tx) = local.tx.get_mut(out) {
        *tx += u64::from(outcome.sent);
    }
    local.drops[DropReason::TxFull as usize] += u64::from(outcome.dropped);
}
