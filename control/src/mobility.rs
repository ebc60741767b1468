//! The mobility mode's control-thread side: starts every worker's engine from the
//! configuration's plan, and each tick moves table updates on, learns neighbours from the
//! ARP the workers punt, asks for unresolved next hops with ARP requests on the control
//! TX queue (where the port has one), answers Mobile IPv4 registrations as a home agent
//! when `[home_agent]` is configured ([`crate::registration`]) and Mobile IPv6 binding
//! updates when `[home_agent6]` is ([`crate::registration::mip6`]), and counts the
//! signalling it cannot handle yet.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use crossbeam_queue::ArrayQueue;
use mipdp_dataplane::engine::{Engine, EngineCounters, EngineSnapshot, NodeConfig, TunnelKind};
use mipdp_dataplane::profile::Class;
use mipdp_dataplane::update::{channels, Update, UpdateReceiver, UpdateSender};
use mipdp_dataplane::wire::checksum;
use mipdp_dataplane::worker::Processor;
use mipdp_dataplane::{Action, Forwarder, PacketBuf};
use mipdp_dpdk::{Mbuf, MbufBatch, Mempool, TxQueue};

use crate::backup::{
    split_lapsed, Journal, JournalStats, JournalWriter, Record, RestoredBinding, StreamedBackup,
};
use crate::node::NodePlan;
use crate::registration::cn::{CorrespondentRegistrar, CorrespondentStats};
use crate::registration::fa::{ForeignAgentRelay, ForeignAgentStats};
use crate::registration::mip6::{RefreshError, Registrar6, Registration6Stats, Toward};
use crate::registration::mma::{CorrespondentNotifier, CorrespondentUpdateStats};
use crate::registration::{Registrar, RegistrationStats};

mod verify;

/// What a worker runs: the forwarder or the engine.
pub enum Processors {
    /// Forwarder mode.
    Forwarder(Forwarder),
    /// Mobility mode.
    Mobility(Box<Engine>),
}

impl Processor for Processors {
    #[inline]
    fn process<P: PacketBuf>(&mut self, in_port: usize, packet: &mut P) -> Action {
        match self {
            Processors::Forwarder(f) => f.process(in_port, packet),
            Processors::Mobility(e) => e.process(in_port, packet),
        }
    }

    #[inline]
    fn process_with<P: PacketBuf>(
        &mut self,
        in_port: usize,
        packet: &mut P,
        emit: &mut dyn FnMut(P, Action),
    ) -> Action {
        match self {
            Processors::Forwarder(f) => f.process(in_port, packet),
            Processors::Mobility(e) => e.process_with(in_port, packet, emit),
        }
    }

    #[inline]
    fn prefetch<P: PacketBuf>(&self, packet: &P) {
        if let Processors::Mobility(e) = self {
            e.prefetch(packet);
        }
    }

    #[inline]
    fn prefetch_next<P: PacketBuf>(&self, packet: &P) {
        if let Processors::Mobility(e) = self {
            e.prefetch_next(packet);
        }
    }

    #[inline]
    fn before_poll(&mut self) -> usize {
        match self {
            Processors::Forwarder(_) => 0,
            Processors::Mobility(e) => e.before_poll(),
        }
    }

    #[inline]
    fn after_poll(&mut self, received: usize) {
        if let Processors::Mobility(e) = self {
            e.after_poll(received);
        }
    }
}

/// How often the control thread asks for one unresolved next hop at most.
pub const RESOLVE_INTERVAL: Duration = Duration::from_secs(1);

/// Restored bindings put back and installed on the engines at a time at start-up: the
/// update backlog then holds one chunk's updates, not two per restored binding (a
/// million bindings at once cost seconds of copying as the backlog grew).
pub const RESTORE_CHUNK: usize = 8192;

/// Runs `restore` (which queues updates and hands them over with [`hand_over`], ending
/// with `hand_over(updates, 0)`) on this thread while each of `engines` applies what
/// reaches its queue on a thread of its own: start-up puts a backup's bindings back into
/// the roles' state and into every worker's tables at once, before the workers start,
/// instead of one after the other. Returns once every update `restore` queued is applied.
/// Engine `i`'s thread runs on `cores[i]` where given (its worker's core, idle until the
/// workers start; this thread's own affinity may be narrowed to one core by the EAL).
/// A thread that cannot be started is an error, and then `restore` does not run.
pub fn installing_meanwhile<R>(
    engines: &mut [Engine],
    cores: &[core_affinity::CoreId],
    restore: impl FnOnce() -> R,
) -> std::io::Result<R> {
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for (i, engine) in engines.iter_mut().enumerate() {
            let done = &done;
            let core = cores.get(i).copied();
            let started = std::thread::Builder::new()
                .name("mipdp-restore".into())
                .spawn_scoped(s, move || {
                    if let Some(core) = core {
                        // Unpinned, it still works: on whichever core it is given.
                        core_affinity::set_for_current(core);
                    }
                    loop {
                        // Read before polling: once `done` is seen, every update was in
                        // the queue before this poll, and an empty poll means all are
                        // applied.
                        let finished = done.load(std::sync::atomic::Ordering::Acquire);
                        if engine.before_poll() == 0 {
                            if finished {
                                return;
                            }
                            std::thread::yield_now();
                        }
                    }
                });
            if let Err(e) = started {
                // Those already started see `done` with empty queues and return.
                done.store(true, std::sync::atomic::Ordering::Release);
                return Err(e);
            }
        }
        let out = restore();
        done.store(true, std::sync::atomic::Ordering::Release);
        Ok(out)
    })
}

/// Moves queued updates into the workers' queues until at most `keep` are still waiting
/// (the restore's backlog stays bounded instead of growing to every binding's updates).
pub fn hand_over(updates: &mut UpdateSender, keep: usize) {
    while updates.flush() > keep {
        std::thread::yield_now();
    }
}

/// Punted packets waiting for the control thread, from every worker.
pub const PUNT_QUEUE: usize = 4096;

/// Punted packets the control thread handles at most per tick. Under a flood the workers
/// refill the queue as fast as it is drained: without a bound one tick would never end,
/// and the replies, gratuitous ARPs, lifetimes, `mipdp ctl` and the stats waiting for the
/// next tick would wait for the flood to end.
pub const PUNT_BUDGET: usize = PUNT_QUEUE;

/// The control side of mobility mode.
pub struct Control {
    updates: UpdateSender,
    punts: Arc<ArrayQueue<Mbuf>>,
    inject: Arc<ArrayQueue<(Mbuf, u16)>>,
    /// The settings of the plan the control side was made from (its start-up updates
    /// are in the workers' tables, not kept here).
    plan: NodePlan,
    /// The home addresses of the static bindings, until
    /// [`Self::announce_home_addresses`] has announced them.
    static_homes: Vec<IpAddr>,
    resolve: Arc<ArrayQueue<(u16, IpAddr)>>,
    engines: Vec<Arc<crossbeam_utils::CachePadded<EngineCounters>>>,
    port_ids: Vec<u16>,
    port_macs: Vec<[u8; 6]>,
    known: std::collections::HashMap<(u16, IpAddr), [u8; 6]>,
    asked: std::collections::HashMap<(u16, IpAddr), std::time::Instant>,
    later: Vec<(std::time::Instant, Update)>,
    /// The Mobile IPv4 home agent, when `[home_agent]` is configured.
    registrar: Option<Registrar>,
    /// The Mobile IPv6 home agent, when `[home_agent6]` is configured.
    registrar6: Option<Registrar6>,
    /// The HMIPv6 MAP (`[map]`) and the MMA (`[mma]`): the same binding logic in their
    /// roles, each answering binding updates to its own addresses.
    anchors: Vec<Registrar6>,
    /// The MMA's binding updates to correspondents whose packets its peers forward, when
    /// `[mma]` is configured.
    mma_correspondents: Option<CorrespondentNotifier>,
    /// The correspondent node, when `[correspondent]` is configured.
    correspondent: Option<CorrespondentRegistrar>,
    /// The Mobile IPv4 foreign agent, when `[foreign_agent]` is configured.
    foreign_agent: Option<ForeignAgentRelay>,
    /// The configured routes, for the frames the control thread originates.
    routes: Vec<(
        mipdp_dataplane::tables::Prefix,
        mipdp_dataplane::tables::Route,
    )>,
    /// The verification of the bindings restored from the backup (issue 6), once
    /// started.
    recovery: Option<verify::Verifier>,
    /// Where every accepted binding change is backed up (disabled without `[backup]`).
    journal: Journal,
    /// The backup's writer thread, closed (what is queued stored) when the control
    /// side is dropped.
    journal_writer: Option<JournalWriter>,
    /// The bindings restored from the backup at start-up.
    restored: Vec<RestoredBinding>,
    /// Counts of what the control thread did.
    pub stats: ControlStats,
}

/// What the control thread did with punts and resolution requests.
#[derive(Debug, Clone, Default)]
pub struct ControlStats {
    /// ARP packets seen.
    pub arp: u64,
    /// Neighbour solicitations and advertisements seen.
    pub nd: u64,
    /// Neighbours learnt or changed from them.
    pub learnt: u64,
    /// Mobile IPv4 registrations and Mobility Header messages punted. They go to the home
    /// agent where `[home_agent]` / `[home_agent6]` is configured (its counters: `mip4`,
    /// `mip6`); otherwise they are counted and dropped.
    pub signalling: u64,
    /// Other punted packets (link-scoped traffic such as router solicitations and MLD).
    pub other: u64,
    /// ARP requests and neighbour solicitations sent for unresolved next hops.
    pub arp_requests: u64,
    /// Gratuitous ARPs / unsolicited neighbour advertisements sent for home addresses.
    pub announcements: u64,
    /// Scheduled table changes applied (e.g. the end of forwarding to a new MMA).
    pub scheduled: u64,
    /// Resolution requests that could not be sent (no address of the next hop's family,
    /// no buffer, or the inject queue full).
    pub unresolved: u64,
    /// The home agent's registration counters (None: no `[home_agent]`).
    pub mip4: Option<RegistrationStats>,
    /// The Mobile IPv6 home agent's counters (None: no `[home_agent6]`).
    pub mip6: Option<Registration6Stats>,
    /// The MAP's and MMA's counters, each with its counter prefix (`map`, `mma`).
    pub anchors: Vec<(&'static str, Registration6Stats)>,
    /// The MMA's binding updates to correspondents (None: no `[mma]`).
    pub mma_correspondent: Option<CorrespondentUpdateStats>,
    /// The correspondent node's counters (None: no `[correspondent]`).
    pub cn: Option<CorrespondentStats>,
    /// The foreign agent's counters (None: no `[foreign_agent]`).
    pub fa: Option<ForeignAgentStats>,
    /// The binding backup's counters (None: no `[backup]`).
    pub backup: Option<JournalStats>,
}

impl Control {
    /// Engines for a worker on each of `cores` from `plan`, with the start-up tables
    /// already in them, and the control side. Each engine applies the start-up updates on
    /// a thread of its own on its worker's core ([`installing_meanwhile`]) while they are
    /// queued a chunk at a time: a million static bindings never wait in a backlog all at
    /// once. The plan's updates are consumed; the control side keeps the rest of it.
    /// A thread that cannot be started is an error.
    pub fn new(
        mut plan: NodePlan,
        port_ids: Vec<u16>,
        port_macs: Vec<[u8; 6]>,
        cores: &[core_affinity::CoreId],
    ) -> Result<(Control, Vec<Engine>)> {
        let start_up = std::mem::take(&mut plan.updates);
        let (mut updates, receivers) = channels(cores.len(), plan.update_queue, plan.update_budget);
        let punts = Arc::new(ArrayQueue::new(PUNT_QUEUE));
        let inject = Arc::new(ArrayQueue::new(PUNT_QUEUE));
        let resolve = Arc::new(ArrayQueue::new(PUNT_QUEUE));
        let engines: Vec<Engine> = receivers
            .into_iter()
            .map(|r: UpdateReceiver| {
                let mut node =
                    NodeConfig::new(port_macs.clone(), plan.addrs4.clone(), plan.addrs6.clone());
                node.tunnel = plan.tunnel;
                node.nesting_limit = plan.nesting_limit;
                node.proxy_arp = plan.proxy_arp;
                node.limits = plan.limits;
                (node.icmp_per_second, node.icmp_burst) = plan.icmp;
                node.notify = plan.notify;
                Engine::new(node)
                    .with_updates(r)
                    .with_resolver(resolve.clone())
            })
            .collect();
        let counters = engines.iter().map(Engine::counters).collect();
        let routes: Vec<_> = start_up
            .iter()
            .filter_map(|u| match u {
                Update::Route { prefix, route } => Some((*prefix, *route)),
                _ => None,
            })
            .collect();
        let links: Vec<_> = routes
            .iter()
            .filter(|(_, route)| route.next_hop.is_none())
            .map(|(prefix, route)| (*prefix, route.port))
            .collect();
        let registrar = plan
            .home_agent
            .clone()
            .map(|ha| Registrar::new(ha, port_macs.clone(), links.clone()));
        let registrar6 = plan
            .home_agent6
            .clone()
            .map(|ha| Registrar6::new(ha, port_macs.clone(), links.clone()));
        let anchors: Vec<Registrar6> = [plan.map.clone(), plan.mma.clone()]
            .into_iter()
            .flatten()
            .map(|c| Registrar6::new(c, port_macs.clone(), links.clone()))
            .collect();
        let mma_correspondents = plan
            .mma
            .as_ref()
            .and_then(|c| CorrespondentNotifier::new(c, port_macs.clone()));
        let correspondent = plan.correspondent.clone().map(|c| {
            CorrespondentRegistrar::new(
                c,
                crate::signalling::cn::Secrets::generate(),
                port_macs.clone(),
            )
        });
        let foreign_agent = plan
            .foreign_agent
            .clone()
            .map(|fa| ForeignAgentRelay::new(fa, port_macs.clone(), std::time::Instant::now()));
        let stats = ControlStats {
            mip4: registrar.as_ref().map(|r| r.stats),
            mip6: registrar6.as_ref().map(|r| r.stats),
            anchors: anchors.iter().map(Registrar6::counted).collect(),
            cn: correspondent.as_ref().map(|r| r.stats),
            mma_correspondent: mma_correspondents.as_ref().map(|r| r.stats),
            fa: foreign_agent.as_ref().map(|r| r.stats),
            ..ControlStats::default()
        };
        // The configured neighbours are known from the start (the workers have them).
        let known = start_up
            .iter()
            .filter_map(|u| match u {
                Update::Neighbour { port, ip, mac } => Some(((*port, *ip), *mac)),
                _ => None,
            })
            .collect();
        // The static home addresses announced at start: those on a connected prefix.
        let connected = |home: IpAddr| {
            routes
                .iter()
                .any(|(prefix, route)| route.next_hop.is_none() && prefix.contains(home))
        };
        let mut static_homes: Vec<IpAddr> = start_up
            .iter()
            .filter_map(|u| match u {
                Update::Binding { home, .. } if connected(*home) => Some(*home),
                _ => None,
            })
            .collect();
        let start = std::time::Instant::now();
        let mut later: Vec<(std::time::Instant, Update)> = plan
            .later
            .iter()
            .map(|(d, u)| (start + *d, u.clone()))
            .collect();
        let mut engines = engines;
        let file = plan.bindings_file.clone();
        let multicast_file = plan.multicast_file.clone();
        let (addrs4, addrs6) = (plan.addrs4.clone(), plan.addrs6.clone());
        let (loaded, multicast_loaded) = installing_meanwhile(&mut engines, cores, || {
            for chunk in start_up.chunks(RESTORE_CHUNK) {
                for u in chunk {
                    updates.send(u.clone());
                }
                hand_over(&mut updates, RESTORE_CHUNK);
            }
            let loaded = file.as_ref().map(|f| {
                let mut number = f.first_number;
                crate::node::bindings_file::read(&f.path, &addrs4, &addrs6, |home, binding| {
                    if connected(home) {
                        static_homes.push(home);
                    }
                    updates.send(Update::Binding { home, binding });
                    updates.send(Update::Profile(mipdp_dataplane::roles::home_address(
                        number, home,
                    )));
                    number = number.wrapping_add(1);
                    if number % (RESTORE_CHUNK as u32 / 2) == 0 {
                        hand_over(&mut updates, RESTORE_CHUNK);
                    }
                })
            });
            let multicast_loaded = multicast_file.as_ref().map(|f| {
                let mut sent = 0usize;
                crate::node::multicast_file::read(&f.path, |_, line| {
                    if let Some(after) = line.remove_after {
                        later.push((start + after, Update::RemoveMulticast { key: line.mobile }));
                    }
                    updates.send(Update::Multicast {
                        key: line.mobile,
                        entry: line.entry,
                    });
                    sent += 1;
                    if sent % RESTORE_CHUNK == 0 {
                        hand_over(&mut updates, RESTORE_CHUNK);
                    }
                })
            });
            hand_over(&mut updates, 0);
            (loaded, multicast_loaded)
        })
        .context("starting the threads that load the configured tables")?;
        let unchanged = |what: &str,
                         loaded: Option<Result<usize, crate::node::Bad>>,
                         checked: Option<(&std::path::Path, usize)>| {
            match (loaded.transpose(), checked) {
                (Err(b), _) => Err(anyhow::anyhow!("{} = {}: {}", b.key, b.value, b.expected)),
                (Ok(Some(n)), Some((path, count))) if n != count => Err(anyhow::anyhow!(
                    "{what} {} held {count} entries when the configuration was checked \
                     and {n} when loaded: do not change it while mipdp starts",
                    path.display(),
                )),
                _ => Ok(()),
            }
        };
        unchanged(
            "node.bindings_file",
            loaded,
            file.as_ref().map(|f| (f.path.as_path(), f.count)),
        )?;
        unchanged(
            "node.multicast_file",
            multicast_loaded,
            multicast_file.as_ref().map(|f| (f.path.as_path(), f.count)),
        )?;
        // Latest first: tick takes the due ones off the end.
        later.sort_by_key(|l| std::cmp::Reverse(l.0));
        drop(start_up);
        Ok((
            Control {
                updates,
                punts,
                inject,
                plan,
                resolve,
                engines: counters,
                port_ids,
                port_macs,
                known,
                asked: Default::default(),
                later,
                registrar,
                registrar6,
                foreign_agent,
                anchors,
                mma_correspondents,
                correspondent,
                routes,
                recovery: None,
                journal: Journal::disabled(),
                journal_writer: None,
                restored: Vec::new(),
                static_homes,
                stats,
            },
            engines,
        ))
    }

    /// Recovery step 1 of issue 6, then the journal: with the `records` loaded from
    /// `backup` ([`Backup::open_loaded`]), deletes from it
    /// the bindings that lapsed while the node was down, puts the rest back into each
    /// role's state (replay state included) and queues them for every worker at once
    /// (before any worker starts, applied to their `engines` here chunk by chunk;
    /// [`wait_loaded`](Self::wait_loaded) then checks every worker has them, and the
    /// node answers and forwards only after that), and
    /// starts the writer thread that backs up every change from now on. Call once,
    /// before the workers start.
    pub fn start_backup(
        &mut self,
        mut backup: StreamedBackup,
        engines: &mut [Engine],
        cores: &[core_affinity::CoreId],
    ) -> Result<()> {
        let (now, at) = (std::time::SystemTime::now(), std::time::Instant::now());
        let opened = backup.opened();
        let (mut stored, mut lapsed, mut alive) = (0, Vec::new(), 0);
        let mut restored = Vec::new();
        let mut put_back = 0;
        installing_meanwhile(engines, cores, || {
            while let Some(chunk) = backup.next_chunk() {
                if stored == 0 {
                    self.reserve(backup.expected());
                    restored.reserve(backup.expected());
                }
                stored += chunk.len();
                let (chunk, gone) = split_lapsed(chunk, now);
                lapsed.extend(gone);
                alive += chunk.len();
                let (bindings, records) = self.restore_chunk(&chunk, now, at);
                restored.extend(bindings);
                put_back += records;
                hand_over(&mut self.updates, RESTORE_CHUNK);
            }
            hand_over(&mut self.updates, 0);
        })
        .context("cannot start the threads that install the restored bindings")?;
        // Only an intact file is restored from: a damaged one stops start-up here,
        // before any worker forwards or anything is written to it.
        let mut backup = backup.finish()?;
        if !lapsed.is_empty() {
            backup.apply(&lapsed)?;
        }
        let unowned = alive.saturating_sub(put_back);
        log::info!(
            "binding backup {}: {stored} stored, {} lapsed while down (deleted), {put_back} \
             restored; read, checked and installed into every worker {:.2?} after opening the \
             file (restore {:.2?}){}",
            backup.path().display(),
            lapsed.len(),
            opened.elapsed(),
            at.elapsed(),
            if unowned > 0 {
                format!(
                    ", {unowned} kept but not restored (no configured role takes them, or refused)"
                )
            } else {
                String::new()
            }
        );
        let (journal, writer) =
            Journal::start(backup).context("cannot start the binding backup writer thread")?;
        if let Some(r) = &mut self.registrar {
            r.set_journal(journal.clone());
        }
        for r in self.registrar6.iter_mut().chain(self.anchors.iter_mut()) {
            r.set_journal(journal.clone());
        }
        if let Some(r) = &mut self.correspondent {
            r.set_journal(journal.clone());
        }
        if let Some(r) = &mut self.foreign_agent {
            r.set_journal(journal.clone());
        }
        self.stats.backup = Some(journal.stats());
        self.journal = journal;
        self.journal_writer = Some(writer);
        self.restored = restored;
        Ok(())
    }

    /// Makes room in the home agents', MAP's and MMA's binding lists for `n` restored
    /// bindings (each role's own limit caps it), before restoring them.
    fn reserve(&mut self, n: usize) {
        if let Some(r) = &mut self.registrar {
            r.reserve(n);
        }
        for r in self.registrar6.iter_mut().chain(self.anchors.iter_mut()) {
            r.reserve(n);
        }
    }

    /// Puts the bindings among `records` back into the role that owns each (none of
    /// them lapsed) and queues their updates. Returns the bindings for the recovery and
    /// how many records were put back (an MMA's forwarding to a new MMA is put back but
    /// not verified).
    fn restore_chunk(
        &mut self,
        records: &[Record],
        now: std::time::SystemTime,
        at: std::time::Instant,
    ) -> (Vec<RestoredBinding>, usize) {
        let mut restored = Vec::new();
        let mut put_back = 0;
        if let Some(r) = &mut self.registrar {
            restored.extend(r.restore(&mut self.updates, records, now, at));
        }
        let (known, routes) = (&self.known, &self.routes);
        for r in self.registrar6.iter_mut().chain(self.anchors.iter_mut()) {
            let (bindings, records) = r.restore(
                &mut self.updates,
                records,
                &|dst| toward(routes, known, dst),
                (now, at),
            );
            // Counted below with the others.
            put_back += records.saturating_sub(bindings.len());
            restored.extend(bindings);
        }
        if let Some(r) = &mut self.correspondent {
            restored.extend(r.restore(&mut self.updates, records));
        }
        if let Some(r) = &mut self.foreign_agent {
            restored.extend(r.restore(&mut self.updates, records, (now, at)));
        }
        put_back += restored.len();
        (restored, put_back)
    }

    /// The bindings restored from the backup at start-up (role, home address, care-of
    /// addresses, expiry): the work list of the recovery that verifies them.
    pub fn restored(&self) -> &[RestoredBinding] {
        &self.restored
    }

    /// Stores what the journal still holds and stops its writer (also done on drop).
    pub fn close_backup(&mut self) {
        if let Some(w) = self.journal_writer.take() {
            w.close();
        }
    }

    /// Every binding the roles hold, one line each (role, home address, care-of
    /// addresses, expiry in seconds from now), at most `limit` lines, then the count.
    pub fn bindings_text(&self, limit: usize) -> String {
        use std::fmt::Write as _;
        let now = std::time::SystemTime::now();
        let left = |t: std::time::SystemTime| match t.duration_since(now) {
            Ok(d) => format!("{}s", d.as_secs()),
            Err(_) => "0s".to_string(),
        };
        let mut lines: Vec<String> = Vec::new();
        if let Some(r) = &self.registrar {
            for (home, b) in r.home_agent().bindings().iter() {
                let care_of: Vec<String> =
                    b.care_of.iter().map(|c| c.care_of.to_string()).collect();
                let expires = match b
                    .care_of
                    .iter()
                    .filter_map(|c| match c.expires {
                        crate::state::bindings::Expiry::At(t) => Some(t),
                        crate::state::bindings::Expiry::Never => None,
                    })
                    .max()
                {
                    Some(t)
                        if b.care_of
                            .iter()
                            .all(|c| c.expires != crate::state::bindings::Expiry::Never) =>
                    {
                        left(t)
                    }
                    _ => "never".to_string(),
                };
                lines.push(format!(
                    "binding role=home-agent home={home} care_of={} expires_in={expires}",
                    care_of.join(",")
                ));
            }
        }
        for r in self.registrar6.iter().chain(self.anchors.iter()) {
            let role = r.home_agent().config().role.section().replace('_', "-");
            for (home, b) in r.home_agent().bindings().iter() {
                lines.push(format!(
                    "binding role={role} home={home} care_of={} expires_in={}",
                    b.care_of,
                    left(b.expires)
                ));
            }
        }
        if let Some(r) = &self.correspondent {
            for (home, b) in r.correspondent().bindings() {
                lines.push(format!(
                    "binding role=correspondent home={home} care_of={} expires_in={}",
                    b.care_of,
                    left(b.expires)
                ));
            }
        }
        lines.sort();
        let mut out = String::new();
        for l in lines.iter().take(limit) {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(
            out,
            "bindings total={} shown={}",
            lines.len(),
            lines.len().min(limit)
        );
        out
    }

    /// The queue workers punt to.
    pub fn punt_queue(&self) -> Arc<ArrayQueue<Mbuf>> {
        self.punts.clone()
    }

    /// The queue the first worker sends the control thread's frames from, on ports where
    /// the control thread has no TX queue.
    pub fn inject_queue(&self) -> Arc<ArrayQueue<(Mbuf, u16)>> {
        self.inject.clone()
    }

    /// Sends a frame of `len` bytes that `fill` writes, out of `port`: on the control
    /// thread's own TX queue when the port has one, else through the first worker.
    fn send_frame(
        &self,
        pool: &Mempool,
        control_tx: &mut [Option<TxQueue>],
        port: u16,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> bool {
        send_frame(pool, control_tx, &self.inject, port, len, fill)
    }

    /// Announces that this node now answers for the statically bound home addresses on
    /// their links (once, at start):
    /// a gratuitous ARP (RFC 5944 §4.6) or an unsolicited neighbour advertisement with
    /// the Override flag (RFC 6275 §10.4.1) per home address whose prefix is connected
    /// to a port.
    pub fn announce_home_addresses(&mut self, pool: &Mempool, control_tx: &mut [Option<TxQueue>]) {
        let connected: Vec<(mipdp_dataplane::tables::Prefix, u16)> = self
            .routes
            .iter()
            .filter(|(_, route)| route.next_hop.is_none())
            .map(|(prefix, route)| (*prefix, route.port))
            .collect();
        let homes = std::mem::take(&mut self.static_homes);
        // Each port's own address, once per port and family (not a scan of the whole plan
        // per home address: a million static bindings would take hours).
        let mut sources: std::collections::HashMap<u16, Option<std::net::Ipv6Addr>> =
            std::collections::HashMap::new();
        let (mut sent_count, mut unsent) = (0u64, 0u64);
        for home in homes {
            let Some((_, port)) = connected
                .iter()
                .filter(|(p, _)| p.contains(home))
                .max_by_key(|(p, _)| p.prefix_len())
            else {
                continue;
            };
            let Some(mac) = self.port_macs.get(usize::from(*port)).copied() else {
                continue;
            };
            let sent = match home {
                // Sender and target protocol address both the home address.
                IpAddr::V4(h) => self.send_frame(pool, control_tx, *port, 60, |f| {
                    write_arp_request(f, mac, h, h)
                }),
                IpAddr::V6(h) => {
                    // As `link_address` chooses: the node's address on the port's link,
                    // else the one sharing the longest prefix with the home address.
                    let on_link = *sources.entry(*port).or_insert_with(|| {
                        self.plan.addrs6.iter().copied().find(|a| {
                            connected
                                .iter()
                                .any(|(p, q)| q == port && p.contains(IpAddr::V6(*a)))
                        })
                    });
                    let closest = || {
                        self.plan
                            .addrs6
                            .iter()
                            .enumerate()
                            .max_by_key(|(i, a)| {
                                (
                                    (a.to_bits() ^ h.to_bits()).leading_zeros(),
                                    std::cmp::Reverse(*i),
                                )
                            })
                            .map(|(_, a)| *a)
                    };
                    let Some(from) = on_link.or_else(closest) else {
                        continue;
                    };
                    let all_nodes = std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
                    self.send_frame(pool, control_tx, *port, ND_FRAME_LEN, |f| {
                        let nd = Nd {
                            eth_dst: [0x33, 0x33, 0, 0, 0, 1],
                            src: from,
                            dst: all_nodes,
                            icmp_type: 136,
                            // Override; not Router, not Solicited.
                            flags: 0x20,
                            target: h,
                            option: 2,
                        };
                        nd.write(f, mac)
                    })
                }
            };
            if sent {
                self.stats.announcements += 1;
                sent_count += 1;
                log::debug!("announced home address {home} on port {port}");
            } else {
                unsent += 1;
            }
        }
        if sent_count + unsent > 0 {
            log::info!(
                "announced {sent_count} bound home addresses on their links{}",
                if unsent > 0 {
                    format!(" ({unsent} not sent: no buffer or the TX queue was full)")
                } else {
                    String::new()
                }
            );
        }
    }

    /// Waits until every worker has the start-up tables.
    pub fn wait_loaded(&mut self, timeout: Duration) -> Result<()> {
        let epoch = self.updates.epoch();
        self.updates
            .wait_visible(epoch, timeout)
            .context("the workers did not load the configured tables")?;
        let refused: u64 = self.updates.refused().iter().sum();
        if refused > 0 {
            anyhow::bail!("the workers refused {refused} configured table entries (tables full?)");
        }
        Ok(())
    }

    /// One pass of the control thread's work. Returns whether punted packets are left
    /// over (the next pass should come without a pause).
    pub fn tick(&mut self, pool: &Mempool, control_tx: &mut [Option<TxQueue>]) -> bool {
        let now = std::time::Instant::now();
        // Latest first (sorted at start): the due ones are at the end.
        let mut due = 0u64;
        while self.later.last().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, update)) = self.later.pop() {
                log::debug!("scheduled table change: {update:?}");
                self.updates.send(update);
                due += 1;
            }
        }
        if due > 0 {
            self.stats.scheduled += due;
            log::info!(
                "{due} scheduled table change(s) made (forwarding to a new MMA ended); {} left",
                self.later.len()
            );
        }
        self.updates.flush();
        self.journal.flush();
        for _ in 0..PUNT_BUDGET {
            let Some(m) = self.punts.pop() else { break };
            self.punted(&m, pool, control_tx);
        }
        if let Some(r) = &mut self.registrar {
            let known = &self.known;
            let inject = &self.inject;
            r.poll(
                &mut self.updates,
                &|port, ip| known.get(&(port, IpAddr::V4(ip))).copied(),
                std::time::SystemTime::now(),
                std::time::Instant::now(),
                &mut |port, bytes| {
                    send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                        f.copy_from_slice(bytes)
                    })
                },
            );
            self.stats.mip4 = Some(r.stats);
        }
        if let Some(r) = &mut self.registrar6 {
            let (known, routes, inject) = (&self.known, &self.routes, &self.inject);
            r.poll(
                &mut self.updates,
                &|dst| toward(routes, known, dst),
                &|port, ip| known.get(&(port, IpAddr::V6(ip))).copied(),
                (std::time::SystemTime::now(), std::time::Instant::now()),
                &mut |port, bytes| {
                    send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                        f.copy_from_slice(bytes)
                    })
                },
            );
            self.stats.mip6 = Some(r.stats);
        }
        for r in &mut self.anchors {
            let (known, routes, inject) = (&self.known, &self.routes, &self.inject);
            r.poll(
                &mut self.updates,
                &|dst| toward(routes, known, dst),
                &|port, ip| known.get(&(port, IpAddr::V6(ip))).copied(),
                (std::time::SystemTime::now(), std::time::Instant::now()),
                &mut |port, bytes| {
                    send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                        f.copy_from_slice(bytes)
                    })
                },
            );
        }
        self.stats.anchors = self.anchors.iter().map(Registrar6::counted).collect();
        if let Some(r) = &mut self.correspondent {
            let inject = &self.inject;
            r.poll(
                &mut self.updates,
                (std::time::SystemTime::now(), std::time::Instant::now()),
                &mut |port, bytes| {
                    send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                        f.copy_from_slice(bytes)
                    })
                },
            );
            self.stats.cn = Some(r.stats);
        }
        if let Some(r) = &mut self.foreign_agent {
            let inject = &self.inject;
            r.poll(
                &mut self.updates,
                std::time::Instant::now(),
                &mut |port, bytes| {
                    send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                        f.copy_from_slice(bytes)
                    })
                },
            );
            self.stats.fa = Some(r.stats);
        }
        self.recover(pool, control_tx);
        if self.journal.is_enabled() {
            self.stats.backup = Some(self.journal.stats());
        }
        let now = std::time::Instant::now();
        while let Some((port, hop)) = self.resolve.pop() {
            // Every packet to an unresolved next hop asks; the wire sees one request per
            // next hop per RESOLVE_INTERVAL.
            if self
                .asked
                .get(&(port, hop))
                .is_some_and(|t| now.duration_since(*t) < RESOLVE_INTERVAL)
            {
                continue;
            }
            if self.asked.len() > 65_536 {
                self.asked
                    .retain(|_, t| now.duration_since(*t) < RESOLVE_INTERVAL);
            }
            self.asked.insert((port, hop), now);
            let sent = match hop {
                IpAddr::V4(target) => self.arp_request(pool, control_tx, port, target),
                IpAddr::V6(target) => self.neighbour_solicitation(pool, control_tx, port, target),
            };
            if sent {
                self.stats.arp_requests += 1;
            } else {
                self.stats.unresolved += 1;
            }
        }
        !self.punts.is_empty()
    }

    /// The port index a punted frame arrived on (u16::MAX: not one of the node's).
    fn port_index(&self, m: &Mbuf) -> u16 {
        self.port_ids
            .iter()
            .position(|p| *p == m.port())
            .map_or(u16::MAX, |p| p as u16)
    }

    /// Hands a punted registration frame to the foreign agent: a request from a visited
    /// link relayed to its home agent (toward which the route and a known neighbour
    /// lead; an unknown next hop is asked for with ARP), or a home agent's reply.
    fn foreign_agent_message(
        &mut self,
        m: &Mbuf,
        pool: &Mempool,
        control_tx: &mut [Option<TxQueue>],
    ) {
        let port = self.port_index(m);
        let Some(fa) = &mut self.foreign_agent else {
            return;
        };
        let (known, routes, inject, resolve) =
            (&self.known, &self.routes, &self.inject, &self.resolve);
        fa.registration(
            m.data(),
            port,
            &mut self.updates,
            &|dst| {
                let found = toward_ip(routes, known, IpAddr::V4(dst));
                if found.is_none() {
                    if let Some((port, hop)) = next_hop(routes, IpAddr::V4(dst)) {
                        let _ = resolve.push((port, hop));
                    }
                }
                found
            },
            std::time::Instant::now(),
            &mut |port, bytes| {
                send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                    f.copy_from_slice(bytes)
                })
            },
        );
        self.stats.fa = Some(fa.stats);
    }

    fn punted(&mut self, m: &Mbuf, pool: &Mempool, control_tx: &mut [Option<TxQueue>]) {
        let d = m.data();
        let ethertype = d.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
        match ethertype {
            Some(0x0806) => {
                self.stats.arp += 1;
                let Some(arp) = d.get(14..42) else { return };
                if arp.get(..6) != Some(&[0, 1, 8, 0, 6, 4]) {
                    return;
                }
                let mut mac = [0u8; 6];
                mac.copy_from_slice(&arp[8..14]);
                let ip = IpAddr::V4(Ipv4Addr::new(arp[14], arp[15], arp[16], arp[17]));
                if ip != IpAddr::V4(Ipv4Addr::UNSPECIFIED) {
                    self.learn(m, ip, mac);
                }
            }
            Some(0x86dd)
                if d.get(20) == Some(&58) && matches!(d.get(54), Some(135) | Some(136)) =>
            {
                self.stats.nd += 1;
                self.learn_nd(m, d);
            }
            Some(0x0800)
                if d.get(23) == Some(&17) && {
                    let ihl = usize::from(d.get(14).map_or(5, |b| b & 0x0f)) * 4;
                    d.get(14 + ihl + 2..14 + ihl + 4) == Some(&434u16.to_be_bytes()[..])
                } =>
            {
                self.stats.signalling += 1;
                let port = self.port_index(m);
                match &self.foreign_agent {
                    Some(fa) if fa.wants(d, port) => {
                        self.foreign_agent_message(m, pool, control_tx)
                    }
                    _ => self.registration(m),
                }
            }
            Some(0x0800) if self.foreign_agent.is_some() && crate::registration::fa::is_icmp(d) => {
                self.stats.signalling += 1;
                let port = self.port_index(m);
                if let Some(fa) = &mut self.foreign_agent {
                    let inject = &self.inject;
                    fa.solicitation(d, port, std::time::Instant::now(), &mut |port, bytes| {
                        send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                            f.copy_from_slice(bytes)
                        })
                    });
                    self.stats.fa = Some(fa.stats);
                }
            }
            Some(0x86dd) if carries_mobility_header(d) => {
                self.stats.signalling += 1;
                self.binding_update(m);
            }
            Some(0x86dd)
                if self.mma_correspondents.is_some() && CorrespondentNotifier::wants(d) =>
            {
                self.mma_forwarded(d, pool, control_tx);
            }
            _ => self.stats.other += 1,
        }
    }

    /// Hands a tunnel from a peer MMA (a notifying profile's copy) to the MMA, which may
    /// tell the correspondent to send to it directly; an unknown next hop toward the
    /// correspondent is asked for (the next copy finds it).
    fn mma_forwarded(&mut self, d: &[u8], pool: &Mempool, control_tx: &mut [Option<TxQueue>]) {
        let Some(n) = &mut self.mma_correspondents else {
            return;
        };
        let mma = self.anchors.iter().find(|r| {
            matches!(
                r.home_agent().config().role,
                crate::signalling::mip6::Role6::MulticastAgent(_)
            )
        });
        let Some(mma) = mma else { return };
        let (known, routes, inject, resolve) =
            (&self.known, &self.routes, &self.inject, &self.resolve);
        let outcome = n.forwarded(
            d,
            mma.home_agent(),
            &|dst| {
                let found = toward(routes, known, dst);
                if found.is_none() {
                    if let Some((port, hop)) = next_hop(routes, IpAddr::V6(dst)) {
                        let _ = resolve.push((port, hop));
                    }
                }
                found
            },
            std::time::SystemTime::now(),
            &mut |port, bytes| {
                send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                    f.copy_from_slice(bytes)
                })
            },
        );
        log::debug!("tunnel from a peer MMA: {}", outcome.name());
        self.stats.mma_correspondent = Some(n.stats);
    }

    /// Hands a punted Mobility Header message to the MAP or MMA whose address it is sent
    /// to; else to the correspondent node when it is one of its messages (or there is no
    /// home agent); else to the Mobile IPv6 home agent.
    fn binding_update(&mut self, m: &Mbuf) {
        let destination = m
            .data()
            .get(38..54)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(std::net::Ipv6Addr::from);
        let to_anchor = destination.is_some_and(|d| {
            self.anchors
                .iter()
                .any(|r| r.home_agent().config().addresses.contains(&d))
        });
        if !to_anchor
            && self.correspondent.is_some()
            && (self.registrar6.is_none()
                || m.data().get(14..).is_some_and(crate::signalling::cn::wants))
        {
            self.correspondent_message(m);
            return;
        }
        self.home_agent_message(m, destination);
    }

    /// Hands a punted Mobility Header message to the correspondent node.
    fn correspondent_message(&mut self, m: &Mbuf) {
        let Some(r) = &mut self.correspondent else {
            return;
        };
        let port = self
            .port_ids
            .iter()
            .position(|p| *p == m.port())
            .map_or(u16::MAX, |p| p as u16);
        let (known, routes, ha) = (&self.known, &self.routes, &self.registrar6);
        r.handle(
            m.data(),
            port,
            &mut self.updates,
            &|dst| toward(routes, known, dst),
            &|home| {
                ha.as_ref()
                    .is_some_and(|h| h.home_agent().bindings().get(home).is_some())
            },
            std::time::SystemTime::now(),
            std::time::Instant::now(),
        );
        self.stats.cn = Some(r.stats);
    }

    /// Hands a punted Mobility Header message to the MAP or MMA whose address
    /// (`destination`) it is sent to, else to the Mobile IPv6 home agent, if there is one,
    /// and learns a mobile node that came home and deregistered.
    fn home_agent_message(&mut self, m: &Mbuf, destination: Option<std::net::Ipv6Addr>) {
        let anchor = self
            .anchors
            .iter_mut()
            .find(|r| destination.is_some_and(|d| r.home_agent().config().addresses.contains(&d)));
        let Some(r) = anchor.or(self.registrar6.as_mut()) else {
            return;
        };
        let port = self
            .port_ids
            .iter()
            .position(|p| *p == m.port())
            .map_or(u16::MAX, |p| p as u16);
        let (known, routes) = (&self.known, &self.routes);
        let learnt = r.binding_update(
            m.data(),
            port,
            &mut self.updates,
            &|dst| toward(routes, known, dst),
            &|port, ip| known.get(&(port, IpAddr::V6(ip))).copied(),
            std::time::SystemTime::now(),
            std::time::Instant::now(),
        );
        self.stats.mip6 = self.registrar6.as_ref().map(|r| r.stats);
        self.stats.anchors = self.anchors.iter().map(Registrar6::counted).collect();
        if let Some((port, ip, mac)) = learnt {
            self.learn_on(port, IpAddr::V6(ip), mac);
        }
    }

    /// Sends a Binding Refresh Request to the mobile node of `home` now (`mipdp ctl
    /// refresh binding HOME`); the answer is the control socket's reply line.
    pub fn refresh_binding(
        &mut self,
        pool: &Mempool,
        control_tx: &mut [Option<TxQueue>],
        home: std::net::Ipv6Addr,
    ) -> String {
        let Some(r) = &mut self.registrar6 else {
            return "error: no [home_agent6] in the configuration: no Mobile IPv6 bindings\n"
                .into();
        };
        let (known, routes, inject) = (&self.known, &self.routes, &self.inject);
        let result = r.refresh(
            home,
            &|dst| toward(routes, known, dst),
            &mut |port, bytes| {
                send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                    f.copy_from_slice(bytes)
                })
            },
        );
        self.stats.mip6 = Some(r.stats);
        match result {
            Ok(()) => format!("ok: binding refresh request sent for {home}\n"),
            Err(RefreshError::NotBound) => {
                format!("error: {home} has no Mobile IPv6 binding: nothing to refresh\n")
            }
            Err(RefreshError::Unsent) => format!(
                "error: the binding refresh request for {home} could not be sent \
                 (no route or neighbour toward its care-of address, or no buffer): see mip6_refreshes_unsent\n"
            ),
        }
    }

    /// Hands a punted registration request to the home agent, if there is one, and
    /// learns a mobile node that came home and deregistered.
    fn registration(&mut self, m: &Mbuf) {
        let Some(r) = &mut self.registrar else {
            return;
        };
        let port = self
            .port_ids
            .iter()
            .position(|p| *p == m.port())
            .map_or(u16::MAX, |p| p as u16);
        let known = &self.known;
        let learnt = r.request(
            m.data(),
            port,
            &mut self.updates,
            &|port, ip| known.get(&(port, IpAddr::V4(ip))).copied(),
            std::time::SystemTime::now(),
            std::time::Instant::now(),
        );
        self.stats.mip4 = Some(r.stats);
        if let Some((port, ip, mac)) = learnt {
            self.learn_on(port, IpAddr::V4(ip), mac);
        }
    }

    /// Learns the sender of a solicitation (its Source Link-Layer Address option) or the
    /// target of an advertisement (its Target Link-Layer Address option), RFC 4861 §4.3,
    /// §4.4, §4.6.1.
    fn learn_nd(&mut self, m: &Mbuf, d: &[u8]) {
        let Some(icmp) = d.get(54..) else { return };
        let (ip, want) = match icmp.first() {
            Some(135) => (d.get(22..38), 1u8),
            Some(136) => (icmp.get(8..24), 2u8),
            _ => return,
        };
        let Some(ip) = ip else { return };
        let mut a = [0u8; 16];
        a.copy_from_slice(ip);
        let ip = IpAddr::V6(std::net::Ipv6Addr::from(a));
        if ip.is_unspecified() {
            return;
        }
        let mut opts = icmp.get(24..).unwrap_or(&[]);
        while opts.len() >= 8 {
            let len = usize::from(opts[1]) * 8;
            if len == 0 || len > opts.len() {
                return;
            }
            if opts[0] == want && len == 8 {
                let mut mac = [0u8; 6];
                mac.copy_from_slice(&opts[2..8]);
                self.learn(m, ip, mac);
                return;
            }
            opts = &opts[len..];
        }
    }

    fn learn(&mut self, m: &Mbuf, ip: IpAddr, mac: [u8; 6]) {
        let Some(port) = self.port_ids.iter().position(|p| *p == m.port()) else {
            return;
        };
        self.learn_on(port as u16, ip, mac);
    }

    /// Records `ip` at `mac` on port index `port` and tells the workers when it is new
    /// or changed.
    fn learn_on(&mut self, port: u16, ip: IpAddr, mac: [u8; 6]) {
        if mac[0] & 1 != 0 || mac == [0; 6] {
            return;
        }
        if self.known.get(&(port, ip)) != Some(&mac) {
            self.known.insert((port, ip), mac);
            self.updates.send(Update::Neighbour { port, ip, mac });
            self.stats.learnt += 1;
            log::info!(
                "neighbour {ip} is {} on port {port}",
                crate::config::MacAddr(mac)
            );
        }
    }

    /// The node's address to speak from on `port` to `toward`: one inside a prefix
    /// connected to that port, else the one sharing the longest prefix with `toward`.
    fn link_address(&self, port: u16, toward: IpAddr) -> Option<IpAddr> {
        let v6 = toward.is_ipv6();
        let ours: Vec<IpAddr> = if v6 {
            self.plan.addrs6.iter().copied().map(IpAddr::V6).collect()
        } else {
            self.plan.addrs4.iter().copied().map(IpAddr::V4).collect()
        };
        let on_link = ours.iter().copied().find(|a| {
            self.routes.iter().any(|(prefix, route)| {
                route.next_hop.is_none() && route.port == port && prefix.contains(*a)
            })
        });
        let common = |a: &IpAddr| match (a, toward) {
            (IpAddr::V4(a), IpAddr::V4(t)) => (a.to_bits() ^ t.to_bits()).leading_zeros(),
            (IpAddr::V6(a), IpAddr::V6(t)) => (a.to_bits() ^ t.to_bits()).leading_zeros(),
            _ => 0,
        };
        // Ties go to the address listed first.
        on_link.or_else(|| {
            ours.iter()
                .enumerate()
                .max_by_key(|(i, a)| (common(a), std::cmp::Reverse(*i)))
                .map(|(_, a)| *a)
        })
    }

    /// Sends an ARP request for `target` out of `port` (RFC 826).
    fn arp_request(
        &self,
        pool: &Mempool,
        control_tx: &mut [Option<TxQueue>],
        port: u16,
        target: Ipv4Addr,
    ) -> bool {
        let (Some(mac), Some(IpAddr::V4(src))) = (
            self.port_macs.get(usize::from(port)).copied(),
            self.link_address(port, IpAddr::V4(target)),
        ) else {
            return false;
        };
        self.send_frame(pool, control_tx, port, 60, |f| {
            write_arp_request(f, mac, src, target)
        })
    }

    /// Sends a neighbour solicitation for `target` out of `port` to its solicited-node
    /// multicast address, with this node's link-layer address (RFC 4861 §7.2.2, §4.3).
    fn neighbour_solicitation(
        &self,
        pool: &Mempool,
        control_tx: &mut [Option<TxQueue>],
        port: u16,
        target: std::net::Ipv6Addr,
    ) -> bool {
        let (Some(mac), Some(IpAddr::V6(src))) = (
            self.port_macs.get(usize::from(port)).copied(),
            self.link_address(port, IpAddr::V6(target)),
        ) else {
            return false;
        };
        let t = target.octets();
        let group = std::net::Ipv6Addr::new(
            0xff02,
            0,
            0,
            0,
            0,
            1,
            0xff00 | u16::from(t[13]),
            u16::from_be_bytes([t[14], t[15]]),
        );
        self.send_frame(pool, control_tx, port, ND_FRAME_LEN, |f| {
            let nd = Nd {
                eth_dst: [0x33, 0x33, 0xff, t[13], t[14], t[15]],
                src,
                dst: group,
                icmp_type: 135,
                flags: 0,
                target,
                option: 1,
            };
            nd.write(f, mac)
        })
    }

    /// The engines' counters summed.
    pub fn engine_totals(&self) -> EngineSnapshot {
        let mut t = EngineSnapshot::default();
        for c in &self.engines {
            let s = c.snapshot();
            for (a, b) in t.hits.iter_mut().zip(s.hits) {
                *a += b;
            }
            for (a, b) in t.encaps.iter_mut().zip(s.encaps) {
                *a += b;
            }
            for (a, b) in t.decaps.iter_mut().zip(s.decaps) {
                *a += b;
            }
            t.arp_replies += s.arp_replies;
            t.nd_replies += s.nd_replies;
            t.punts += s.punts;
            t.resolutions += s.resolutions;
            t.updates += s.updates;
            t.copies += s.copies;
            t.copies_unsent += s.copies_unsent;
            t.icmp_errors += s.icmp_errors;
            t.max_updates_per_poll = t.max_updates_per_poll.max(s.max_updates_per_poll);
            t.rx_polls_with_updates_pending += s.rx_polls_with_updates_pending;
            t.icmp_limited += s.icmp_limited;
            t.fragments += s.fragments;
            t.notify_copies += s.notify_copies;
            t.notify_limited += s.notify_limited;
        }
        t
    }
}

/// Whether the IPv6 packet in the untagged frame `d` ends in a Mobility Header (RFC
/// 6275 §6.1), possibly after extension headers such as the Destination Options header
/// with the Home Address option.
fn carries_mobility_header(d: &[u8]) -> bool {
    use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet};
    let Some(Ok(ip)) = d.get(14..).map(Ipv6Packet::new_checked) else {
        return false;
    };
    mipdp_dataplane::wire::ipv6ext::walk_chain(ip.next_header(), ip.payload())
        .is_ok_and(|c| c.upper_layer == next_header::MOBILITY)
}

/// Where a frame the control thread originates for `dst` leaves: the port of the longest
/// configured route and the MAC of its next hop (or of `dst` on a connected prefix) as
/// the control thread knows it.
fn toward(
    routes: &[(
        mipdp_dataplane::tables::Prefix,
        mipdp_dataplane::tables::Route,
    )],
    known: &std::collections::HashMap<(u16, IpAddr), [u8; 6]>,
    dst: std::net::Ipv6Addr,
) -> Option<Toward> {
    toward_ip(routes, known, IpAddr::V6(dst))
}

/// The port of the longest configured route to `dst` and its next hop (`dst` itself on
/// a connected prefix).
fn next_hop(
    routes: &[(
        mipdp_dataplane::tables::Prefix,
        mipdp_dataplane::tables::Route,
    )],
    dst: IpAddr,
) -> Option<(u16, IpAddr)> {
    let (_, route) = routes
        .iter()
        .filter(|(p, _)| p.contains(dst))
        .max_by_key(|(p, _)| p.prefix_len())?;
    Some((route.port, route.next_hop.unwrap_or(dst)))
}

/// [`toward`] for either family.
fn toward_ip(
    routes: &[(
        mipdp_dataplane::tables::Prefix,
        mipdp_dataplane::tables::Route,
    )],
    known: &std::collections::HashMap<(u16, IpAddr), [u8; 6]>,
    dst: IpAddr,
) -> Option<Toward> {
    let (port, hop) = next_hop(routes, dst)?;
    // A group has no neighbour entry: its frames go to the group's Ethernet address
    // (an MMA's Binding Refresh Request to a mobile's group, issue 6).
    if let Some(mac) = mipdp_dataplane::tables::multicast::multicast_mac(hop) {
        return Some((port, mac));
    }
    known.get(&(port, hop)).map(|mac| (port, *mac))
}

/// Sends a frame of `len` bytes that `fill` writes (into zeros), out of port index
/// `port`: on the control thread's own TX queue when the port has one, else through the
/// first worker's inject queue.
fn send_frame(
    pool: &Mempool,
    control_tx: &mut [Option<TxQueue>],
    inject: &ArrayQueue<(Mbuf, u16)>,
    port: u16,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> bool {
    let Ok(mut m) = pool.alloc() else {
        return false;
    };
    let Ok(frame) = m.append(len) else {
        return false;
    };
    frame.fill(0);
    fill(frame);
    match control_tx.get_mut(usize::from(port)) {
        Some(Some(txq)) => {
            let mut batch = MbufBatch::default();
            if batch.push(m).is_err() {
                return false;
            }
            txq.burst(&mut batch).sent == 1
        }
        _ => inject.push((m, port)).is_ok(),
    }
}

/// Writes a broadcast Ethernet/IPv4 ARP request (RFC 826) from `mac` / `sender` for
/// `target` into the 60-byte frame `f` (zeroed by the caller).
fn write_arp_request(f: &mut [u8], mac: [u8; 6], sender: Ipv4Addr, target: Ipv4Addr) {
    f[..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&[0x08, 0x06]);
    f[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&sender.octets());
    f[38..42].copy_from_slice(&target.octets());
}

/// Bytes of a neighbour solicitation or advertisement frame with one link-layer address
/// option: Ethernet, IPv6, 24 bytes of message and 8 of option.
pub(crate) const ND_FRAME_LEN: usize = 14 + 40 + 32;

/// A neighbour solicitation (type 135, Source Link-Layer Address option 1) or
/// advertisement (type 136, Target Link-Layer Address option 2), RFC 4861 §4.3, §4.4.
pub(crate) struct Nd {
    pub(crate) eth_dst: [u8; 6],
    pub(crate) src: std::net::Ipv6Addr,
    pub(crate) dst: std::net::Ipv6Addr,
    pub(crate) icmp_type: u8,
    pub(crate) flags: u8,
    pub(crate) target: std::net::Ipv6Addr,
    pub(crate) option: u8,
}

impl Nd {
    /// Writes the frame from `mac` into `f` (ND_FRAME_LEN bytes, zeroed by the caller):
    /// hop limit 255 (§7.1), the option carrying `mac`, the ICMPv6 checksum.
    pub(crate) fn write(&self, f: &mut [u8], mac: [u8; 6]) {
        f[..6].copy_from_slice(&self.eth_dst);
        f[6..12].copy_from_slice(&mac);
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        let ip = &mut f[14..];
        ip[0] = 0x60;
        ip[4..6].copy_from_slice(&32u16.to_be_bytes());
        ip[6] = 58;
        ip[7] = 255;
        ip[8..24].copy_from_slice(&self.src.octets());
        ip[24..40].copy_from_slice(&self.dst.octets());
        let m = &mut ip[40..72];
        m[0] = self.icmp_type;
        m[4] = self.flags;
        m[8..24].copy_from_slice(&self.target.octets());
        m[24] = self.option;
        m[25] = 1;
        m[26..32].copy_from_slice(&mac);
        let sum = checksum::combine(&[
            checksum::pseudo_header_v6(self.src.octets(), self.dst.octets(), 58, 32),
            checksum::sum(m),
        ]);
        m[2..4].copy_from_slice(&checksum::finish(sum).to_be_bytes());
    }
}

/// The engine counters as one line of `key=value`.
pub fn engine_text(s: &EngineSnapshot, c: &ControlStats) -> String {
    let mut parts = Vec::new();
    for class in Class::ALL {
        parts.push(format!("hits_{}={}", class.name(), s.hits[class as usize]));
    }
    for k in TunnelKind::ALL {
        parts.push(format!("encap_{}={}", k.name(), s.encaps[k as usize]));
    }
    for k in TunnelKind::ALL {
        parts.push(format!("decap_{}={}", k.name(), s.decaps[k as usize]));
    }
    parts.push(format!("arp_replies={}", s.arp_replies));
    parts.push(format!("nd_replies={}", s.nd_replies));
    parts.push(format!("punts={}", s.punts));
    parts.push(format!(
        "copies={} copies_unsent={}",
        s.copies, s.copies_unsent
    ));
    parts.push(format!(
        "updates={} max_updates_per_poll={} rx_polls_with_updates_pending={}",
        s.updates, s.max_updates_per_poll, s.rx_polls_with_updates_pending
    ));
    parts.push(format!(
        "icmp_errors={} icmp_limited={} fragments={}",
        s.icmp_errors, s.icmp_limited, s.fragments
    ));
    parts.push(format!(
        "notify_copies={} notify_limited={}",
        s.notify_copies, s.notify_limited
    ));
    parts.push(format!("resolutions={}", s.resolutions));
    parts.push(format!(
        "ctl_arp={} ctl_nd={} ctl_learnt={} ctl_signalling={} ctl_other={} ctl_arp_requests={} ctl_unresolved={} ctl_announcements={} ctl_scheduled={}",
        c.arp, c.nd, c.learnt, c.signalling, c.other, c.arp_requests, c.unresolved, c.announcements, c.scheduled
    ));
    if let Some(mip4) = &c.mip4 {
        parts.push(mip4.text());
    }
    if let Some(mip6) = &c.mip6 {
        parts.push(mip6.text());
    }
    for (prefix, stats) in &c.anchors {
        parts.push(stats.text_as(prefix));
    }
    if let Some(mma) = &c.mma_correspondent {
        parts.push(mma.text());
    }
    if let Some(cn) = &c.cn {
        parts.push(cn.text());
    }
    if let Some(fa) = &c.fa {
        parts.push(fa.text());
    }
    if let Some(backup) = &c.backup {
        parts.push(backup.text());
    }
    parts.join(" ")
}
