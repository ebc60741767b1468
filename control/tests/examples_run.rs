//! Every configuration in examples/ is valid and runs as is: `mipdp check-config` accepts
//! it, and `mipdp run` with it on two DPDK tap ports loads its tables, reports running and
//! stops cleanly on SIGTERM with its final counters.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{eal_args, require_root, require_tun_device, unique_id, Mipdp, MIPDP};

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_passes_check_config() {
    let all = examples();
    assert!(
        all.len() >= 9,
        "examples/ holds every role's example: {all:?}"
    );
    for path in all {
        let out = Command::new(MIPDP)
            .args(["check-config", "--config"])
            .arg(&path)
            .output()
            .expect("run mipdp check-config");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
            "{}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_mobility_example_runs_on_tap_ports() {
    require_root("every_mobility_example_runs_on_tap_ports");
    require_tun_device();
    for path in examples() {
        let text = std::fs::read_to_string(&path).expect("read the example");
        if !text.contains("mode = \"mobility\"") {
            continue;
        }
        let id = unique_id();
        let prefix = format!("mipdp-t-{id}-ex");
        // Interface names of our own, so that nothing else's dtap0 gets in the way.
        let vdevs = vec![
            format!("net_tap0,iface=ex{id}a"),
            format!("net_tap1,iface=ex{id}b"),
        ];
        let mut mipdp = Mipdp::start(&path, &[], &eal_args(&prefix, &vdevs), &prefix);
        mipdp.expect_stdout(
            &format!("`mipdp: running` with {}", path.display()),
            Duration::from_secs(60),
            |l| l.starts_with("mipdp: running"),
        );
        let finished = mipdp.stop();
        finished.assert_success();
        assert!(
            finished.transcript().contains("final engine"),
            "{}: no final engine counters\n{}",
            path.display(),
            finished.transcript()
        );
    }
}
