use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use mipdp_dataplane::profile::ProfileId;
use mipdp_dataplane::tables::Encap;
use proptest::prelude::*;

use super::*;
use crate::state::bindings::Expiry;

const MARKER: &str = "flip-me-marker@example.net";

fn record(n: u32) -> Record {
    Record {
        role: Role::HomeAgent,
        home_address: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)),
        care_of: vec![IpAddr::V4(Ipv4Addr::from(0xc633_6400 + n))],
        encap: Encap::IpInIp,
        tunnel_source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        lifetime: 600,
        expires: Expiry::At(UNIX_EPOCH + Duration::new(1_800_000_000 + u64::from(n), 5)),
        replay: ReplayState {
            last_identification: Some(0x1234_5678_9abc_def0 + u64::from(n)),
            last_sequence: None,
            last_timestamp: None,
        },
        spi: Some(256),
        nai: Some(MARKER.to_string()),
        profiles: vec![ProfileId {
            session: 1,
            number: n,
        }],
        role_data: RoleData::None,
    }
}

fn sorted(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by_key(Record::key);
    records
}

fn filled(path: &Path, n: u32) -> Vec<Record> {
    let mut backup = Backup::open(path).unwrap();
    let records: Vec<Record> = (0..n).map(record).collect();
    let changes: Vec<Change> = records.iter().cloned().map(Change::Put).collect();
    backup.apply(&changes).unwrap();
    sorted(records)
}

fn assert_refused_unchanged(path: &Path) -> BackupError {
    let before = fs::read(path).unwrap();
    let err = Backup::open(path).unwrap_err();
    assert_eq!(
        fs::read(path).unwrap(),
        before,
        "a refused backup was modified"
    );
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains(DISCARD_OPTION), "{text}");
    err
}

// --- the record format ---

fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

fn arb_time() -> impl Strategy<Value = std::time::SystemTime> {
    (any::<u32>(), 0..1_000_000_000u32)
        .prop_map(|(s, n)| UNIX_EPOCH + Duration::new(u64::from(s), n))
}

/// Every kind of role data (format version 2), whatever the role: the format does not
/// tie them together.
fn arb_role_data() -> impl Strategy<Value = RoleData> {
    prop_oneof![
        Just(RoleData::None),
        (
            prop::option::of(addr()),
            prop::option::of((addr(), arb_time()))
        )
            .prop_map(|(group, forward)| RoleData::Multicast(MulticastState { group, forward })),
        (any::<[u8; 6]>(), any::<u16>())
            .prop_map(|(mac, port)| RoleData::Visitor(VisitorState { mac, port })),
    ]
}

fn arb_record() -> impl Strategy<Value = Record> {
    (
        (
            prop::sample::select(Role::ALL.to_vec()),
            addr(),
            prop::collection::vec(addr(), 0..4),
            prop::sample::select(Encap::ALL.to_vec()),
            addr(),
            any::<u32>(),
        ),
        (
            prop_oneof![
                Just(Expiry::Never),
                (any::<u32>(), 0..1_000_000_000u32)
                    .prop_map(|(s, n)| Expiry::At(UNIX_EPOCH + Duration::new(u64::from(s), n))),
            ],
            any::<(Option<u64>, Option<u16>, Option<u64>)>(),
            any::<Option<u32>>(),
            prop::option::of("\\PC{0,40}"),
            prop::collection::vec(any::<(u32, u32)>(), 0..4),
            arb_role_data(),
        ),
    )
        .prop_map(
            |(
                (role, home_address, care_of, encap, tunnel_source, lifetime),
                (expires, (id, seq, ts), spi, nai, profiles, role_data),
            )| Record {
                role,
                home_address,
                care_of,
                encap,
                tunnel_source,
                lifetime,
                expires,
                replay: ReplayState {
                    last_identification: id,
                    last_sequence: seq,
                    last_timestamp: ts,
                },
                spi,
                nai,
                profiles: profiles
                    .into_iter()
                    .map(|(session, number)| ProfileId { session, number })
                    .collect(),
                role_data,
            },
        )
}

proptest! {
    #[test]
    fn record_round_trips(r in arb_record()) {
        let bytes = r.encode().unwrap();
        prop_assert_eq!(Record::decode(&bytes), Ok(r));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Record::decode(&bytes);
    }

    #[test]
    fn a_flipped_bit_is_refused(r in arb_record(), at in any::<prop::sample::Index>(), bit in 0..8u8) {
        let mut bytes = r.encode().unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(Record::decode(&bytes).is_err());
    }

    #[test]
    fn every_truncation_is_refused(r in arb_record()) {
        let bytes = r.encode().unwrap();
        for len in 0..bytes.len() {
            prop_assert!(Record::decode(&bytes[..len]).is_err());
        }
    }
}

#[test]
fn record_errors_name_the_reason() {
    let bytes = record(1).encode().unwrap();
    assert_eq!(Record::decode(&[]), Err(DecodeError::Truncated));
    let mut v0 = bytes.clone();
    v0[0] = 0;
    assert_eq!(Record::decode(&v0), Err(DecodeError::BadVersion));
    let mut v3 = bytes.clone();
    v3[0] = RECORD_FORMAT_VERSION + 1;
    assert_eq!(
        Record::decode(&v3),
        Err(DecodeError::NewerVersion(RECORD_FORMAT_VERSION + 1))
    );
    let mut tag = record(1);
    tag.role_data = RoleData::Visitor(VisitorState {
        mac: [2, 0, 0, 0, 0, 1],
        port: 0,
    });
    let mut bad_tag = tag.encode().unwrap();
    bad_tag.truncate(bad_tag.len() - 4);
    // The role data tag sits 8 bytes (MAC, port) before the end.
    let at = bad_tag.len() - 9;
    assert_eq!(bad_tag[at], 2);
    bad_tag[at] = 9;
    let crc = crc32fast::hash(&bad_tag);
    bad_tag.extend_from_slice(&crc.to_be_bytes());
    assert_eq!(Record::decode(&bad_tag), Err(DecodeError::BadTag(9)));
    let mut flipped = bytes.clone();
    flipped[5] ^= 0x40;
    assert_eq!(Record::decode(&flipped), Err(DecodeError::BadChecksum));
    let mut longer = bytes[..bytes.len() - 4].to_vec();
    longer.push(0);
    let crc = crc32fast::hash(&longer);
    longer.extend_from_slice(&crc.to_be_bytes());
    assert_eq!(Record::decode(&longer), Err(DecodeError::TrailingBytes(1)));
}

/// A version-1 record, byte for byte as the build before format version 2 wrote it (a
/// Mobile IPv4 home binding: two care-of addresses, GRE, an identification, an SPI, a NAI
/// and a profile), still decodes, with no role data; written again it is version 2.
#[test]
fn a_version_1_record_still_decodes() {
    #[rustfmt::skip]
    let body: &[u8] = &[
        1,                                  // version 1
        1,                                  // role: home agent
        4, 10, 1, 0, 7,                     // home address 10.1.0.7
        2, 4, 192, 0, 2, 20, 4, 198, 51, 100, 9, // two care-of addresses
        3,                                  // GRE
        4, 192, 0, 2, 1,                    // tunnel source 192.0.2.1
        0, 0, 2, 88,                        // lifetime 600
        1, 0, 0, 0, 0, 0x6b, 0x49, 0xd2, 0x00, 0, 0, 0, 5, // expiry 1800000000 s + 5 ns
        1, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, // identification
        1, 0, 0, 1, 0,                      // SPI 256
        1, 0, 14, b'm', b'n', b'@', b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'n', b'e', b't',
        0, 1, 0, 0, 0, 1, 0, 0, 0, 3,       // one profile: session 1, number 3
    ];
    let mut bytes = body.to_vec();
    bytes.extend_from_slice(&crc32fast::hash(body).to_be_bytes());
    let r = Record::decode(&bytes).unwrap();
    assert_eq!(
        r,
        Record {
            role: Role::HomeAgent,
            home_address: IpAddr::V4(Ipv4Addr::new(10, 1, 0, 7)),
            care_of: vec![
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20)),
                IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)),
            ],
            encap: Encap::Gre,
            tunnel_source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            lifetime: 600,
            expires: Expiry::At(UNIX_EPOCH + Duration::new(1_800_000_000, 5)),
            replay: ReplayState {
                last_identification: Some(0x1234_5678_9abc_def0),
                last_sequence: None,
                last_timestamp: None,
            },
            spi: Some(256),
            nai: Some("mn@example.net".to_string()),
            profiles: vec![ProfileId {
                session: 1,
                number: 3,
            }],
            role_data: RoleData::None,
        }
    );
    let again = r.encode().unwrap();
    assert_eq!(again[0], RECORD_FORMAT_VERSION);
    assert_eq!(Record::decode(&again), Ok(r));
    // A version-1 record has no role data: the byte a version-2 record would have there
    // is one too many.
    let mut longer = body.to_vec();
    longer.push(0);
    longer.extend_from_slice(&crc32fast::hash(&longer).to_be_bytes());
    assert_eq!(Record::decode(&longer), Err(DecodeError::TrailingBytes(1)));
}

#[test]
fn record_too_big_to_encode_is_an_error() {
    let mut r = record(1);
    r.care_of = vec![IpAddr::V4(Ipv4Addr::LOCALHOST); 256];
    assert_eq!(r.encode(), Err(EncodeError::TooManyCareOf(256)));
}

// --- the store ---

#[test]
fn records_round_trip_through_a_file_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let records = filled(&path, 100);
    let backup = Backup::open(&path).unwrap();
    assert_eq!(sorted(backup.load().unwrap()), records);
    drop(backup);
    let backup = Backup::open(&path).unwrap();
    assert_eq!(sorted(backup.load().unwrap()), records);
}

#[test]
fn a_missing_file_opens_as_an_empty_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    assert!(Backup::open(&path).unwrap().load().unwrap().is_empty());
    assert!(path.exists());
}

#[test]
fn put_replaces_and_delete_removes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let mut backup = Backup::open(&path).unwrap();
    let mut moved = record(1);
    moved.care_of = vec![IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))];
    backup
        .apply(&[Change::Put(record(1)), Change::Put(record(2))])
        .unwrap();
    backup
        .apply(&[
            Change::Put(moved.clone()),
            Change::Delete(Role::HomeAgent, record(2).home_address),
            Change::Delete(Role::Correspondent, record(1).home_address),
        ])
        .unwrap();
    assert_eq!(backup.load().unwrap(), vec![moved]);
}

#[test]
fn a_change_set_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let mut backup = Backup::open(&path).unwrap();
    backup.apply(&[Change::Put(record(1))]).unwrap();
    let mut unstorable = record(3);
    unstorable.care_of = vec![IpAddr::V4(Ipv4Addr::LOCALHOST); 300];
    let err = backup
        .apply(&[
            Change::Put(record(2)),
            Change::Delete(Role::HomeAgent, record(1).home_address),
            Change::Put(unstorable),
        ])
        .unwrap_err();
    assert!(matches!(err, BackupError::Encode { .. }), "{err}");
    assert_eq!(backup.load().unwrap(), vec![record(1)]);
    drop(backup);
    assert_eq!(
        Backup::open(&path).unwrap().load().unwrap(),
        vec![record(1)]
    );
}

#[test]
fn a_truncated_file_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    filled(&path, 200);
    let full = fs::read(&path).unwrap();
    for len in [0, 1, 100, full.len() / 2, full.len() - 1] {
        fs::write(&path, &full[..len]).unwrap();
        let err = assert_refused_unchanged(&path);
        assert!(matches!(err, BackupError::Corrupt { .. }), "{len}: {err}");
    }
}

#[test]
fn flipped_bytes_in_a_record_are_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    filled(&path, 50);
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes
        .windows(MARKER.len())
        .position(|w| w == MARKER.as_bytes())
        .expect("a record's NAI in the file");
    bytes[at + 3] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let err = assert_refused_unchanged(&path);
    assert!(
        matches!(
            err,
            BackupError::Corrupt {
                corruption: Corruption::Record {
                    reason: DecodeError::BadChecksum,
                    ..
                },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn flipped_bytes_in_the_header_are_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    filled(&path, 10);
    let mut bytes = fs::read(&path).unwrap();
    bytes[0] ^= 0xff;
    fs::write(&path, &bytes).unwrap();
    let err = assert_refused_unchanged(&path);
    assert!(matches!(err, BackupError::Corrupt { .. }), "{err}");
}

#[test]
fn a_flipped_byte_anywhere_is_refused_unchanged_or_changes_nothing_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let records = filled(&path, 100);
    let good = fs::read(&path).unwrap();
    let step = (good.len() / 97).max(1);
    for at in (0..good.len()).step_by(step) {
        let mut bytes = good.clone();
        bytes[at] ^= 0x5a;
        fs::write(&path, &bytes).unwrap();
        match Backup::open(&path) {
            Err(BackupError::Corrupt { .. } | BackupError::NewerFormat { .. }) => {
                assert_eq!(fs::read(&path).unwrap(), bytes, "modified at {at}");
            }
            Err(e) => panic!("flip at {at}: unexpected {e}"),
            Ok(backup) => assert_eq!(sorted(backup.load().unwrap()), records, "flip at {at}"),
        }
    }
}

#[test]
fn a_newer_store_format_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    filled(&path, 10);
    {
        let backup = Backup::open(&path).unwrap();
        backup
            .write_format_marker(STORE_FORMAT_VERSION + 1)
            .unwrap();
    }
    let err = assert_refused_unchanged(&path);
    assert!(
        matches!(
            err,
            BackupError::NewerFormat {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_newer_record_format_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    filled(&path, 10);
    {
        let backup = Backup::open(&path).unwrap();
        let txn = backup.db.begin_write().unwrap();
        {
            let mut table = txn.open_table(BINDINGS).unwrap();
            let r = record(3);
            let mut value = r.encode().unwrap();
            value[0] = RECORD_FORMAT_VERSION + 1;
            table.insert(r.key().as_slice(), value.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    let err = assert_refused_unchanged(&path);
    assert!(
        matches!(err, BackupError::NewerFormat { found, .. } if found == RECORD_FORMAT_VERSION + 1),
        "{err}"
    );
}

#[test]
fn an_unreadable_file_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    fs::create_dir(&path).unwrap();
    let err = Backup::open(&path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(DISCARD_OPTION) && text.contains("bindings.redb"),
        "{text}"
    );
}

#[test]
fn create_empty_moves_the_old_file_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    filled(&path, 10);
    let old = fs::read(&path).unwrap();
    let backup = Backup::create_empty(&path).unwrap();
    assert!(backup.load().unwrap().is_empty());
    let aside: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("bindings.redb.discarded-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(fs::read(&aside[0]).unwrap(), old);
    drop(backup);
    // A second discard in the same second keeps both old files.
    Backup::create_empty(&path).unwrap();
    let count = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(count, 3);
}

#[test]
fn create_empty_recovers_from_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    fs::write(&path, b"not a database").unwrap();
    assert!(Backup::open(&path).is_err());
    let mut backup = Backup::create_empty(&path).unwrap();
    backup.apply(&[Change::Put(record(1))]).unwrap();
    drop(backup);
    assert_eq!(
        Backup::open(&path).unwrap().load().unwrap(),
        vec![record(1)]
    );
}

#[test]
fn open_loaded_returns_what_load_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let records = filled(&path, 30);
    let (backup, loaded) = Backup::open_loaded(&path).unwrap();
    assert_eq!(loaded, records);
    assert_eq!(backup.load().unwrap(), records);
    drop(backup);
    let fresh = dir.path().join("new.redb");
    let (_, none) = Backup::open_loaded(&fresh).unwrap();
    assert!(none.is_empty());
}
