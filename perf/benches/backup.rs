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

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mipdp_control::backup::{Backup, Change, Record, ReplayState, Role};
use mipdp_control::state::bindings::Expiry;
use mipdp_dataplane::profile::ProfileId;
use mipdp_dataplane::tables::Encap;

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

criterion_group!(benches, group_commit, load_million);
criterion_main!(benches);
