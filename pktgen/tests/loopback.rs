//! The generator end to end on a `net_ring` port, whose TX queue 0 feeds its own RX
//! queue 0: every probe sent must come back, once and in order.

mod common;

use std::process::Command;
use std::time::Duration;

fn ring() -> Vec<String> {
    vec!["net_ring0".to_string()]
}

#[test]
fn net_ring_loopback_delivers_every_probe() {
    let dir = common::scratch();
    let run = common::run(
        dir.path(),
        &[
            "--tx-port",
            "net_ring0",
            "--rx-port",
            "net_ring0",
            "--count",
            "100000",
        ],
        &ring(),
    );
    assert!(run.status.success(), "{run}");
    assert_eq!(run.count("tx_packets"), 100_000, "{run}");
    assert_eq!(run.count("rx_packets"), 100_000, "{run}");
    assert_eq!(run.count("lost"), 0, "{run}");
    assert_eq!(run.count("duplicates"), 0, "{run}");
    assert_eq!(run.count("reordered"), 0, "{run}");
    assert_eq!(run.count("size"), 64);
    let s = run.summary();
    assert!(s["tx_pps"].as_f64().unwrap() > 0.0, "{run}");
    assert!(s["duration_s"].as_f64().unwrap() > 0.0, "{run}");
    let latency = &s["latency_ns"];
    for key in ["p50", "p99", "p999", "max"] {
        assert!(latency[key].as_u64().unwrap() > 0, "latency {key}: {run}");
    }
    assert!(latency["p50"].as_u64() <= latency["p99"].as_u64());
    assert!(latency["p999"].as_u64() <= latency["max"].as_u64());
    assert!(
        run.stdout.contains("lost 0, reordered 0, duplicates 0"),
        "summary on stdout: {run}"
    );
}

#[test]
fn paced_run_holds_the_requested_rate_over_many_flows() {
    let dir = common::scratch();
    let run = common::run(
        dir.path(),
        &[
            "--tx-port",
            "net_ring0",
            "--rx-port",
            "net_ring0",
            "--rate",
            "20000",
            "--duration",
            "1",
            "--flows",
            "16",
            "--size",
            "333",
        ],
        &ring(),
    );
    assert!(run.status.success(), "{run}");
    let tx = run.count("tx_packets");
    // The bucket starts with one token and holds 10 ms of them: at most 1 s × rate + 1.
    // A busy shared machine may cost a little.
    assert!((17_000..=20_001).contains(&tx), "sent {tx}: {run}");
    assert_eq!(run.count("rx_packets"), tx, "{run}");
    assert_eq!(run.count("lost"), 0, "{run}");
    assert_eq!(run.count("flows"), 16);
    assert_eq!(run.count("size"), 333);
    assert_eq!(run.count("rate_pps"), 20_000);
}

#[test]
fn sigterm_stops_sending_and_the_summary_is_still_written() {
    let dir = common::scratch();
    let child = common::spawn(
        dir.path(),
        &[
            "--tx-port",
            "net_ring0",
            "--rx-port",
            "net_ring0",
            "--rate",
            "10000",
        ],
        &ring(),
    );
    // Long enough for DPDK to come up and the generator to send.
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-TERM", &child.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let run = common::finish(child, dir.path(), Duration::from_secs(20));
    assert!(run.status.success(), "{run}");
    let tx = run.count("tx_packets");
    assert!(tx > 0, "{run}");
    assert_eq!(
        run.count("lost"),
        0,
        "the drain collects what was in flight: {run}"
    );
}

#[test]
fn an_unknown_port_fails_with_one_clear_error_line() {
    let dir = common::scratch();
    let run = common::run(
        dir.path(),
        &[
            "--tx-port",
            "net_nope0",
            "--rx-port",
            "net_nope0",
            "--count",
            "1",
        ],
        &ring(),
    );
    assert!(!run.status.success(), "{run}");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("mipdp-pktgen: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{run}");
    assert!(errors[0].contains("net_nope0"), "{run}");
    assert!(
        errors[0].contains("net_ring0"),
        "names the ports present: {run}"
    );
    assert!(run.json.is_none(), "no summary for a failed run");
}

#[test]
fn bad_arguments_are_refused_before_dpdk_starts() {
    let dir = common::scratch();
    for args in [
        &["--tx-port", "a", "--rx-port", "a", "--size", "63"][..],
        &["--tx-port", "a", "--rx-port", "a", "--flows", "0"][..],
        &["--tx-port", "a", "--rx-port", "a", "--src-mac", "xx"][..],
        &[
            "--tx-port",
            "a",
            "--rx-port",
            "a",
            "--count",
            "1",
            "--duration",
            "1",
        ][..],
    ] {
        let run = common::run(dir.path(), args, &[]);
        assert!(!run.status.success(), "{args:?} accepted: {run}");
        assert!(run.stderr.contains("error"), "{run}");
        assert!(!run.stdout.contains("EAL"), "DPDK was not started: {run}");
    }
}
