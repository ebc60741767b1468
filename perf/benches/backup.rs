#![allow(missing_docs)] // criterion_group! generates undocumented items
//! The durable binding backup (control::backup, issue 6): binding changes per second
//! acknowledged after a durable commit, with group commit at several batch sizes, and
//! how long opening and loading a backup of 1,000,000 bindings takes.
//!
//! ```sh
//! cargo bench -p mipdp-perf --bench backup
//! ```
//!
//! The file lives in the system temporary directory (`TMPDIR`), so the figures are that
//! disk's. Every `apply` returns only after redb's `Durability::Immediate` commit
//! (fsync); throughput is changes per second, each change a Put refreshing one of
//! 100,000 bindings.
//!
//! Through the journal (the control thread's path): single-change submissions, each
//! acknowledged only once its ticket is committed, group-committed by the writer thread;
//! and restore + install of 1,000,000 bindings at start-up.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::time::Instant;

use mipdp_control::backup::{
    split_lapsed, Backup, Change, Journal, Record, ReplayState, Role, RoleData,
};
use mipdp_control::mobility::{hand_over, installing_meanwhile, RESTORE_CHUNK};
use mipdp_control::registration::Registrar;
use mipdp_control::signalling::mip4::{HomeAgentConfig, ReplyLimit};
use mipdp_control::state::bindings::Expiry;
use mipdp_dataplane::engine::{Engine, NodeConfig};
use mipdp_dataplane::profile::ProfileId;
use mipdp_dataplane::tables::Encap;
use mipdp_dataplane::tables::TableLimits;
use mipdp_dataplane::update::channels;

/// The allocator of the `mipdp` binary, so restore costs what it costs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REFRESHED: u32 = 100_000;
const LOADED: u32 = 1_000_000;

fn record(n: u32) -> Record {
    Record {
        role: Role::HomeAgent,
        home_address: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)),
        care_of: vec![IpAddr::V4(Ipv4Addr::from(0x6440_0000 + n))],
        encap: Encap::IpInIp,
        tunnel_source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        lifetime: 1800,
        expires: Expiry::At(SystemTime::now() + Duration::from_secs(1800)),
        replay: ReplayState {
            last_identification: Some(u64::from(n) << 32),
            last_sequence: None,
            last_timestamp: None,
        },
        spi: Some(256),
        nai: Some(format!("mn{n}@example.net")),
        profiles: vec![ProfileId {
            session: 1,
            number: 1,
        }],
        role_data: RoleData::None,
    }
}

fn group_commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut backup = Backup::open(dir.path().join("bindings.redb")).expect("open");
    let mut group = c.benchmark_group("backup_group_commit");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let mut next = 0u32;
    for batch in [1u32, 64, 1024] {
        group.throughput(Throughput::Elements(u64::from(batch)));
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter_batched(
                || {
                    (0..batch)
                        .map(|_| {
                            next = (next + 1) % REFRESHED;
                            Change::Put(record(next))
                        })
                        .collect::<Vec<_>>()
                },
                |changes| backup.apply(&changes).expect("apply"),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn load_million(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("bindings.redb");
    {
        let mut backup = Backup::open(&path).expect("open");
        for chunk in (0..LOADED).collect::<Vec<_>>().chunks(10_000) {
            let changes: Vec<Change> = chunk.iter().map(|n| Change::Put(record(*n))).collect();
            backup.apply(&changes).expect("fill");
        }
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!("backup of {LOADED} bindings: {size} bytes");
    let mut group = c.benchmark_group("backup_restore_1m");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    // open: checks every record through the read-only overlay, then opens for writing.
    group.bench_function("open_and_load", |b| {
        b.iter(|| {
            let backup = Backup::open(&path).expect("open");
            let records = backup.load().expect("load");
            assert_eq!(records.len(), LOADED as usize);
            black_box(records)
        });
    });
    let backup = Backup::open(&path).expect("open");
    group.bench_function("load", |b| {
        b.iter(|| black_box(backup.load().expect("load")));
    });
    group.finish();
}

/// Single-change submissions (one registration each) a burst; the burst is over when
/// the last one's ticket is committed, so every change in it is acknowledged only after
/// its durable commit.
const BURST: u32 = 10_000;

/// Durable binding changes per second through the journal: the control thread submits
/// one change per registration without waiting, the writer thread commits whatever has
/// queued in one transaction while the previous commit is on the disk (group commit).
fn journal_group_commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let backup = Backup::open(dir.path().join("bindings.redb")).expect("open");
    let (journal, writer) = Journal::start(backup).expect("start the journal");
    let mut group = c.benchmark_group("backup_journal");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(u64::from(BURST)));
    let mut next = 0u32;
    group.bench_function("single_change_submissions", |b| {
        b.iter(|| {
            let mut last = 0;
            for _ in 0..BURST {
                next = (next + 1) % REFRESHED;
                last = journal.submit(vec![Change::Put(record(next))]);
            }
            while !journal.is_committed(last) {
                journal.flush();
                std::thread::sleep(Duration::from_micros(50));
            }
        });
    });
    group.finish();
    let stats = journal.stats();
    eprintln!(
        "journal: {} changes in {} commits ({:.0} changes per commit), {} failures",
        stats.changes,
        stats.commits,
        stats.changes as f64 / stats.commits.max(1) as f64,
        stats.failures
    );
    writer.close();
}

/// Restore on start (recovery step 1) of 1,000,000 Mobile IPv4 bindings, as `mipdp run`
/// does it before its workers start (`Control::start_backup`): open and check the file
/// (reading every record), drop the lapsed, then chunk by chunk put the bindings back into
/// the home agent's state while the engine applies their updates (binding and interception
/// profile) on a thread of its own, until the last one is applied.
fn restore_and_install_million(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("bindings.redb");
    {
        let mut backup = Backup::open(&path).expect("open");
        for chunk in (0..LOADED).collect::<Vec<_>>().chunks(10_000) {
            let changes: Vec<Change> = chunk.iter().map(|n| Change::Put(record(*n))).collect();
            backup.apply(&changes).expect("fill");
        }
    }
    let limits = TableLimits {
        bindings: 2 * LOADED as usize,
        profiles: 2 * LOADED as usize,
        ..TableLimits::default()
    };
    let mut group = c.benchmark_group("backup_restore_1m");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("restore_and_install", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut updates, mut receivers) = channels(1, 65_536, 65_536);
                let mut node = NodeConfig::new(
                    vec![[2, 0, 0, 0, 0, 1]],
                    vec![Ipv4Addr::new(192, 0, 2, 1)],
                    Vec::new(),
                );
                node.limits = limits;
                let engine = Engine::new(node).with_updates(receivers.pop().expect("one worker"));
                let mut registrar =
                    Registrar::new(home_agent(), vec![[2, 0, 0, 0, 0, 1]], Vec::new());
                let start = Instant::now();
                let (_backup, records) = Backup::open_loaded(&path).expect("open");
                let (alive, lapsed) = split_lapsed(records, SystemTime::now());
                assert!(lapsed.is_empty());
                let loaded = start.elapsed();
                let cpu_before = process_cpu();
                registrar.reserve(alive.len());
                let mut engines = [engine];
                let restored = installing_meanwhile(&mut engines, &[], || {
                    let mut restored = 0;
                    for chunk in alive.chunks(RESTORE_CHUNK) {
                        restored += registrar
                            .restore(&mut updates, chunk, SystemTime::now(), Instant::now())
                            .len();
                        hand_over(&mut updates, RESTORE_CHUNK);
                    }
                    hand_over(&mut updates, 0);
                    restored
                })
                .expect("restore threads");
                let [engine] = engines;
                total += start.elapsed();
                let cpu = process_cpu().saturating_sub(cpu_before);
                assert!(updates.is_visible(updates.epoch()));
                assert_eq!(restored, LOADED as usize);
                assert_eq!(updates.refused().iter().sum::<u64>(), 0, "tables full");
                eprintln!(
                    "restore phases: opened and loaded {loaded:.2?}, restored and installed \
                     {:.2?} (CPU time of that part, all threads: {cpu:.2?})",
                    start.elapsed()
                );
                drop(black_box(engine));
            }
            total
        });
    });
    group.finish();
}

/// CPU time this process's threads have used (user + system, from /proc; zero where
/// unreadable): what the restore costs apart from the other processes sharing the cores.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // After the command name in parentheses: fields 3.. ; utime and stime are 14 and 15.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// A home agent for the restored bindings (their home addresses, 10.0.0.0/8).
fn home_agent() -> HomeAgentConfig {
    HomeAgentConfig {
        addresses: vec![Ipv4Addr::new(192, 0, 2, 1)],
        home_prefixes: vec!["10.0.0.0/8".parse().expect("prefix")],
        max_lifetime: 3600,
        max_care_of: 1,
        max_bindings: 2 * LOADED as usize,
        security_associations: Vec::new(),
        foreign_agents: Vec::new(),
        error_replies: ReplyLimit::default(),
        gratuitous_arps: 0,
        gratuitous_arp_interval: Duration::from_secs(1),
        reply_wait: Duration::from_secs(1),
    }
}

criterion_group!(
    benches,
    group_commit,
    load_million,
    journal_group_commit,
    restore_and_install_million
);
criterion_main!(benches);
