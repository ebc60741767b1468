//! Start-up with the binding backup (issue 6), through the real binary: a truncated,
//! bit-flipped or newer-format backup stops `mipdp run` with one clear error that names
//! the file, what is wrong and `--discard-backup`, and leaves the file byte for byte as
//! it was; `mipdp run --discard-backup` starts with no bindings and keeps the old file
//! aside; `[backup]` in a forwarder is refused naming `backup.path`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{eal_args, remove_dpdk_runtime_dir, unique_id, Mipdp, MIPDP};
use mipdp_control::backup::{Backup, Change, Record, ReplayState, Role, RoleData};
use mipdp_control::state::bindings::Expiry;
use mipdp_dataplane::tables::Encap;

const MARKER: &str = "flip-me-marker@example.net";

fn config(dir: &Path, mode: &str) -> PathBuf {
    let text = format!(
        r#"[dataplane]
mode = "{mode}"
workers = [1]
mbufs = 4095
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000
control_socket = "{socket}"

[node]
roles = ["home-agent"]
addresses = ["10.1.0.1"]

[[port]]
device = "net_null0"

[[port]]
device = "net_null1"

[[route]]
prefix = "10.1.0.0/24"
port = "net_null0"

[backup]
path = "bindings.redb"

[home_agent]
addresses = ["10.1.0.1"]
home_prefixes = ["10.1.0.0/24"]
max_bindings = 16

[[home_agent.security_association]]
home_address = "10.1.0.100"
spi = 256
key = "6d697064702d6d697034686120746573"
"#,
        socket = dir.join("mipdp.sock").display(),
    );
    let path = dir.join("mipdp.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

fn record(n: u8) -> Record {
    Record {
        role: Role::HomeAgent,
        home_address: [10, 1, 0, 100 + n].into(),
        care_of: vec![[192, 0, 2, 7].into()],
        encap: Encap::IpInIp,
        tunnel_source: [10, 1, 0, 1].into(),
        lifetime: 600,
        expires: Expiry::At(std::time::SystemTime::now() + Duration::from_secs(600)),
        replay: ReplayState {
            last_identification: Some(1),
            ..ReplayState::default()
        },
        spi: Some(256),
        nai: Some(MARKER.to_string()),
        profiles: Vec::new(),
        role_data: RoleData::None,
    }
}

/// A good backup of 20 bindings at `path`.
fn filled(path: &Path) {
    let mut b = Backup::open(path).expect("create the backup");
    let changes: Vec<Change> = (0..20).map(|n| Change::Put(record(n))).collect();
    b.apply(&changes).expect("fill the backup");
}

/// `mipdp run` with `extra` options on two net_null ports.
fn run(config: &Path, extra: &[&str], test: &str) -> Output {
    let prefix = format!("mipdp-t-{}-{test}", unique_id());
    let vdevs = vec!["net_null0".to_string(), "net_null1".to_string()];
    let out = Command::new(MIPDP)
        .arg("run")
        .arg("--config")
        .arg(config)
        .args(extra)
        .arg("--")
        .args(eal_args(&prefix, &vdevs))
        .output()
        .expect("run mipdp");
    remove_dpdk_runtime_dir(&prefix);
    out
}

/// The one `mipdp: error:` line of a failed run, after checking it failed without a
/// panic.
fn the_error(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "mipdp should have failed:\n{stderr}");
    assert!(!stderr.contains("panicked"), "mipdp panicked:\n{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("mipdp: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "expected one error line:\n{stderr}");
    errors[0].to_string()
}

/// Damages the backup with `damage`, runs mipdp, and checks the refusal: the error
/// names the file, contains `says`, tells about --discard-backup, and the file is
/// unchanged.
fn refused(test: &str, damage: impl FnOnce(&Path), says: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path(), "mobility");
    let path = dir.path().join("bindings.redb");
    filled(&path);
    damage(&path);
    let before = std::fs::read(&path).expect("read the damaged backup");
    let error = the_error(&run(&config, &[], test));
    assert_eq!(
        std::fs::read(&path).expect("read the backup again"),
        before,
        "{test}: the refused backup was changed"
    );
    for want in [
        path.display().to_string().as_str(),
        says,
        "--discard-backup",
    ] {
        assert!(error.contains(want), "{test}: no {want:?} in: {error}");
    }
}

#[test]
fn a_truncated_backup_stops_start_up_unchanged() {
    refused(
        "trunc",
        |path| {
            let bytes = std::fs::read(path).unwrap();
            std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
        },
        "is corrupt",
    );
}

#[test]
fn a_backup_with_flipped_bytes_stops_start_up_unchanged() {
    refused(
        "flip",
        |path| {
            let mut bytes = std::fs::read(path).unwrap();
            let at = bytes
                .windows(MARKER.len())
                .position(|w| w == MARKER.as_bytes())
                .expect("a record's NAI in the file");
            bytes[at + 3] ^= 0x01;
            std::fs::write(path, &bytes).unwrap();
        },
        "checksum mismatch",
    );
}

#[test]
fn a_newer_backup_format_stops_start_up_unchanged() {
    refused(
        "newer",
        |path| {
            // What a newer mipdp would write: its format version in the marker.
            let db = redb::Database::open(path).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let meta: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
                let mut t = txn.open_table(meta).unwrap();
                t.insert("format", [2u8].as_slice()).unwrap();
            }
            txn.commit().unwrap();
        },
        "has format version 2, newer than this build reads (1)",
    );
}

#[test]
fn discard_backup_starts_empty_and_keeps_the_old_file_aside() {
    common::require_root("backup_start");
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path(), "mobility");
    let path = dir.path().join("bindings.redb");
    filled(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    bytes.truncate(len / 2);
    std::fs::write(&path, &bytes).unwrap();

    let prefix = format!("mipdp-t-{}-discard", unique_id());
    let vdevs = vec!["net_null0".to_string(), "net_null1".to_string()];
    let mut mipdp = Mipdp::start(
        &config,
        &["--discard-backup"],
        &eal_args(&prefix, &vdevs),
        &prefix,
    );
    mipdp.expect_stdout("the line saying it runs", Duration::from_secs(30), |l| {
        l.starts_with("mipdp: running")
    });
    let finished = mipdp.stop();
    finished.assert_success();
    let aside: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("bindings.redb.discarded-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "one file moved aside: {aside:?}");
    assert_eq!(
        std::fs::read(&aside[0]).unwrap(),
        bytes,
        "the discarded backup is kept as it was"
    );
    let fresh = Backup::open(&path).expect("the new backup opens");
    assert!(fresh.load().unwrap().is_empty());
    assert!(
        finished
            .stderr
            .iter()
            .any(|l| l.contains("0 stored") && l.contains("0 restored")),
        "{}",
        finished.transcript()
    );
}

#[test]
fn a_backup_in_a_forwarder_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path(), "forwarder");
    let out = Command::new(MIPDP)
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .expect("run mipdp check-config");
    let error = the_error(&out);
    assert!(error.contains("backup.path"), "{error}");
    assert!(!dir.path().join("bindings.redb").exists());
}
