//! The mobility workloads' frames as the built `mipdp-pktgen` sends them (captured with
//! net_pcap's `tx_pcap`), decoded by scapy in tests/scapy_check.py, which checks every
//! field against the documented address plan, recomputes the checksums, and recomputes
//! the MN-HA authenticators with Python's hmac from keys it derives from the seed itself.
//!
//! Needs python3 with scapy (scripts/install-deps.sh installs it); fails without.

mod common;

use std::path::Path;
use std::process::Command;

/// Runs one workload into a pcap and has scapy_check.py check it with `check_args`.
fn capture_and_check(name: &str, args: &[&str], check_args: &[&str]) {
    let dir = common::scratch();
    let pcap = dir.path().join(format!("{name}.pcap"));
    let vdev = format!("net_pcap0,tx_pcap={}", pcap.display());
    let mut all = vec![
        "--tx-port",
        "net_pcap0",
        "--rx-port",
        "net_pcap0",
        "--drain-ms",
        "0",
        "--key-seed",
        "7",
    ];
    all.extend_from_slice(args);
    let run = common::run(dir.path(), &all, &[vdev]);
    assert!(run.status.success(), "{name}: {run}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scapy_check.py");
    let out = Command::new("python3")
        .arg("-B") // no __pycache__ in the source tree
        .arg(&script)
        .arg(&pcap)
        .args(["--key-seed", "7"])
        .args(check_args)
        .output()
        .expect("python3 runs (scripts/install-deps.sh installs it with scapy)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{name}: scapy_check.py:\n{text}");
    assert!(text.starts_with("ok "), "{name}: {text}");
    eprintln!("{name}: {text}");
}

/// Arguments common to the run and the check: workload, mobiles and the rest.
fn both(name: &str, shared: &[&str], count: &str) {
    let mut run = shared.to_vec();
    run.extend(["--count", count]);
    capture_and_check(name, &run, shared);
}

#[test]
fn cn_to_home_frames_decode_in_scapy() {
    both(
        "cn-to-home-imix",
        &[
            "--workload",
            "cn-to-home",
            "--mobiles",
            "1000",
            "--size",
            "imix",
        ],
        "60",
    );
    both(
        "cn-to-home-v6",
        &[
            "--workload",
            "cn-to-home",
            "--mobiles",
            "10000000",
            "--family",
            "6",
            "--size",
            "128",
        ],
        "40",
    );
}

#[test]
fn encapsulated_frames_decode_in_scapy() {
    for (enc, family) in [("ipip", "4"), ("gre", "4"), ("gre", "6"), ("ip6ip6", "6")] {
        both(
            &format!("encapsulated-{enc}-{family}"),
            &[
                "--workload",
                "encapsulated",
                "--mobiles",
                "77",
                "--encapsulation",
                enc,
                "--family",
                family,
                "--size",
                "200",
            ],
            "30",
        );
    }
}

#[test]
fn storm_frames_carry_valid_authenticators_in_scapy() {
    both(
        "mip4-storm",
        &["--workload", "mip4-storm", "--mobiles", "5"],
        "40",
    );
    both(
        "mip6-storm",
        &[
            "--workload",
            "mip6-storm",
            "--mobiles",
            "5",
            "--bu-sequence-start",
            "65530",
        ],
        "40",
    );
}

#[test]
fn handover_and_malformed_frames_decode_in_scapy() {
    both(
        "handover",
        &[
            "--workload",
            "handover",
            "--mobiles",
            "4",
            "--handover-every",
            "5",
        ],
        "60",
    );
    both(
        "malformed",
        &[
            "--workload",
            "malformed",
            "--mobiles",
            "20",
            "--malformed-per-mille",
            "400",
            "--size",
            "100",
        ],
        "80",
    );
}
