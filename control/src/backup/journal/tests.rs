use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant, UNIX_EPOCH};

use mipdp_dataplane::tables::Encap;
use proptest::prelude::*;

use super::*;
use crate::backup::{Record, ReplayState, Role, RoleData};
use crate::state::bindings::Expiry;

fn record(home: u8, care_of: u8, identification: u64) -> Record {
    Record {
        role: Role::HomeAgent,
        home_address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, home)),
        care_of: vec![IpAddr::V4(Ipv4Addr::new(198, 51, 100, care_of))],
        encap: Encap::IpInIp,
        tunnel_source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        lifetime: 600,
        expires: Expiry::At(UNIX_EPOCH + Duration::from_secs(1_900_000_000)),
        replay: ReplayState {
            last_identification: Some(identification),
            ..ReplayState::default()
        },
        spi: Some(256),
        nai: None,
        profiles: Vec::new(),
        role_data: RoleData::None,
    }
}

/// Waits (without asserting on how long) until `ticket` is committed; false when the
/// writer has not got there after a generous minute.
fn wait_committed(journal: &Journal, ticket: u64) -> bool {
    let give_up = Instant::now() + Duration::from_secs(60);
    while !journal.is_committed(ticket) {
        if Instant::now() > give_up {
            return false;
        }
        journal.flush();
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

#[test]
fn a_disabled_journal_counts_everything_as_committed_and_stores_nothing() {
    let j = Journal::disabled();
    assert!(!j.is_enabled());
    assert_eq!(j.submit(vec![Change::Put(record(1, 1, 1))]), 0);
    assert!(j.is_committed(j.submitted()));
    assert_eq!(j.stats(), JournalStats::default());
}

#[test]
fn tickets_count_up_and_an_empty_submission_names_the_last_one() {
    let dir = tempfile::tempdir().unwrap();
    let (j, writer) = Journal::start(Backup::open(dir.path().join("b.redb")).unwrap()).unwrap();
    assert_eq!(j.submitted(), 0);
    assert!(j.is_committed(0));
    assert_eq!(j.submit(vec![Change::Put(record(1, 1, 1))]), 1);
    assert_eq!(j.submit(Vec::new()), 1);
    assert_eq!(
        j.submit(vec![Change::Delete(
            Role::HomeAgent,
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
        )]),
        2
    );
    assert_eq!(j.submitted(), 2);
    assert!(wait_committed(&j, 2));
    writer.close();
    let s = j.stats();
    assert_eq!((s.submitted, s.committed, s.changes), (2, 2, 2));
    assert!(s.commits >= 1 && s.commits <= 2, "{s:?}");
}

#[test]
fn a_full_channel_keeps_batches_in_the_backlog_and_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.redb");
    // A channel of one batch: most submissions of a quick burst must wait.
    let (j, writer) = Journal::start_with(Backup::open(&path).unwrap(), 1).unwrap();
    let mut last = 0;
    for n in 0..200u8 {
        last = j.submit(vec![Change::Put(record(n, n, u64::from(n)))]);
    }
    assert_eq!(last, 200);
    assert!(j.stats().backlogged > 0, "{:?}", j.stats());
    assert!(wait_committed(&j, last));
    writer.close();
    assert_eq!(j.stats().backlog, 0);
    assert_eq!(j.stats().changes, 200);
    let stored = Backup::open(&path).unwrap().load().unwrap();
    assert_eq!(stored.len(), 200);
}

#[test]
fn closing_stores_what_is_still_queued() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.redb");
    let (j, writer) = Journal::start_with(Backup::open(&path).unwrap(), 1).unwrap();
    for n in 0..50u8 {
        j.submit(vec![Change::Put(record(n, 1, 1))]);
    }
    writer.close();
    assert!(j.is_committed(50));
    assert_eq!(Backup::open(&path).unwrap().load().unwrap().len(), 50);
}

#[test]
fn a_failing_commit_is_counted_retried_and_its_ticket_never_published() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.redb");
    let (j, writer) = Journal::start(Backup::open(&path).unwrap()).unwrap();
    let good = j.submit(vec![Change::Put(record(1, 1, 1))]);
    assert!(wait_committed(&j, good));
    // 256 care-of addresses cannot be encoded: every attempt of this commit fails.
    let mut bad = record(2, 2, 2);
    bad.care_of = vec![IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)); 256];
    let ticket = j.submit(vec![Change::Put(bad), Change::Put(record(3, 3, 3))]);
    let give_up = Instant::now() + Duration::from_secs(60);
    while j.stats().failures < 2 && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(j.stats().failures >= 2, "retried: {:?}", j.stats());
    assert!(!j.is_committed(ticket));
    assert_eq!(j.committed(), good);
    writer.close();
    assert!(!j.is_committed(ticket));
    // All or nothing: the good change beside the bad one was not stored either.
    let stored = Backup::open(&path).unwrap().load().unwrap();
    assert_eq!(stored, vec![record(1, 1, 1)]);
}

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u8),
    Delete(u8),
    Flush,
    Pause,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..8, any::<u8>()).prop_map(|(h, c)| Op::Put(h, c)),
        2 => (0u8..8).prop_map(Op::Delete),
        1 => Just(Op::Flush),
        1 => Just(Op::Pause),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Whatever the batches and however the channel fills: tickets go up by one per
    /// non-empty batch, every change is committed exactly once (the writer's count),
    /// and the store ends as the changes applied in order per key say.
    #[test]
    fn group_commit_stores_every_change_once_in_order(
        batches in prop::collection::vec(prop::collection::vec(op(), 0..6), 1..30),
        capacity in 1usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.redb");
        let (j, writer) = Journal::start_with(Backup::open(&path).unwrap(), capacity).unwrap();
        let mut model: BTreeMap<u8, Record> = BTreeMap::new();
        let mut expected_ticket = 0;
        let mut submitted_changes = 0u64;
        let mut n = 0u64;
        for batch in batches {
            let mut changes = Vec::new();
            for op in batch {
                n += 1;
                match op {
                    Op::Put(h, c) => {
                        model.insert(h, record(h, c, n));
                        changes.push(Change::Put(record(h, c, n)));
                    }
                    Op::Delete(h) => {
                        model.remove(&h);
                        changes.push(Change::Delete(
                            Role::HomeAgent,
                            IpAddr::V4(Ipv4Addr::new(192, 0, 2, h)),
                        ));
                    }
                    Op::Flush => j.flush(),
                    Op::Pause => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            if !changes.is_empty() {
                expected_ticket += 1;
            }
            submitted_changes += changes.len() as u64;
            let ticket = j.submit(changes);
            prop_assert_eq!(ticket, expected_ticket);
            prop_assert!(j.committed() <= ticket);
        }
        prop_assert!(wait_committed(&j, expected_ticket));
        writer.close();
        prop_assert_eq!(j.stats().changes, submitted_changes);
        let stored = Backup::open(&path).unwrap().load().unwrap();
        let want: Vec<Record> = model.into_values().collect();
        prop_assert_eq!(stored, want);
    }
}
