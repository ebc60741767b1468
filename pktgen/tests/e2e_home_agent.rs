//! mipdp-pktgen against a real `mipdp run` home agent over DPDK virtual devices.
//!
//! Topology, all in one network namespace of the test's own: mipdp owns two net_tap
//! ports, port 0 (the home link, kernel name `pg<id>h`) and port 1 (towards the care-of
//! addresses, `pg<id>c`); mipdp-pktgen opens the kernel side of the same two interfaces
//! with net_pcap (`iface=`), so what it sends on one is what mipdp receives on that port
//! and what mipdp sends is what it receives. The home agent's configuration is the test's
//! ports and routes plus the sections `mipdp-pktgen --write-mipdp-config` writes.
//!
//! 1. cn-to-home, 64 mobiles with static bindings, 800 1494-byte frames (the largest whose
//!    tunnelled packet fits net_tap's MTU of 1500): every data probe that comes back is
//!    tunnelled IPv4 in IPv4 from the home agent's address to the mobile's care-of
//!    address, outer TTL 64, inner packet intact with TTL 63: no mismatch, and at most
//!    2 % lost (a receiver starved on a loaded machine; in practice none).
//! 2. The same traffic checked against a wrong expectation (outer TTL 63): every probe is
//!    counted as an `outer_ttl` mismatch, none as good (the check can fail).
//! 3. mip4-storm, 16 other mobiles with security associations, three rounds: every
//!    Registration Request is accepted (code 0).
//! 4. handover over the same 16 mobiles: data to their home addresses with one frame in
//!    10 a re-registration moving a mobile to its other care-of address: every
//!    registration accepted, every probe that comes back checks out, some of them in the
//!    second care-of address's tunnel.
//!
//! And in a test of its own, the encapsulated workload (IPv6 in IPv6) through a mipdp MAP
//! whose RCoA → LCoA bindings `--write-mipdp-config` wrote: every probe that comes back is
//! re-encapsulated from the MAP's address to the mobile's LCoA, inner intact.
//!
//! Needs root, /dev/net/tun and iproute2; it fails, not skips, without them. It uses the
//! `mipdp` binary next to this crate's binary (cargo builds it for the workspace's tests;
//! otherwise `cargo build -p mipdp-control --bin mipdp`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{mipdp_binary, run_tool};

const PKTGEN: &str = env!("CARGO_BIN_EXE_mipdp-pktgen");
/// MAC of mipdp's port 0 (set on the tap), the destination of what mipdp-pktgen sends.
const HA_MAC0: &str = "02:00:00:00:01:00";
const HA_MAC1: &str = "02:00:00:00:01:01";
/// How long one mipdp-pktgen run may take before the test gives up on it.
const PKTGEN_TIMEOUT: Duration = Duration::from_secs(120);

/// The test's namespace and the processes in it; dropping it (also on a failed
/// assertion) stops them, deletes the namespace and DPDK's runtime directories.
struct Netns {
    name: String,
    children: Vec<Child>,
    file_prefixes: Vec<String>,
    /// Output files shown when the test fails.
    logs: Vec<PathBuf>,
}

impl Netns {
    fn new(name: String) -> Netns {
        let _ = Command::new("ip")
            .args(["netns", "delete", &name])
            .stderr(Stdio::null())
            .status();
        run_tool("ip", &["netns", "add", &name]);
        let ns = Netns {
            name,
            children: Vec::new(),
            file_prefixes: Vec::new(),
            logs: Vec::new(),
        };
        // No IPv6 on the taps: no router solicitations or MLD reports in the captures.
        for key in ["all", "default"] {
            ns.exec(&[
                "sysctl",
                "-q",
                "-w",
                &format!("net.ipv6.conf.{key}.disable_ipv6=1"),
            ]);
        }
        ns
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["netns", "exec", &self.name];
        all.extend_from_slice(args);
        run_tool("ip", &all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for log in &self.logs {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                eprintln!("--- {} ---\n{text}", log.display());
            }
            if let Ok(o) = self.command("ip").args(["-s", "link"]).output() {
                eprintln!("--- ip -s link ---\n{}", String::from_utf8_lossy(&o.stdout));
            }
        }
        for c in &mut self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
        for p in &self.file_prefixes {
            let _ = std::fs::remove_dir_all(Path::new("/var/run/dpdk").join(p));
        }
    }
}

fn eal(file_prefix: &str, vdevs: &[String]) -> Vec<String> {
    let mut v: Vec<String> = ["--no-huge", "-m", "512", "--no-pci", "--file-prefix"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.push(file_prefix.into());
    for d in vdevs {
        v.push("--vdev".into());
        v.push(d.clone());
    }
    v
}

/// Runs mipdp-pktgen with `args` in the namespace on the two interfaces (`tx`, `rx`: the
/// kernel names), returning its JSON summary.
fn pktgen(
    ns: &mut Netns,
    id: &str,
    run_name: &str,
    dir: &Path,
    ifaces: (&str, &str),
    args: &[&str],
) -> serde_json::Value {
    let file_prefix = format!("mipdp-t-{id}-pg-{run_name}");
    ns.file_prefixes.push(file_prefix.clone());
    let vdevs = if ifaces.0 == ifaces.1 {
        vec![format!("net_pcap0,iface={}", ifaces.0)]
    } else {
        vec![
            format!("net_pcap0,iface={}", ifaces.0),
            format!("net_pcap1,iface={}", ifaces.1),
        ]
    };
    let rx_port = if ifaces.0 == ifaces.1 {
        "net_pcap0"
    } else {
        "net_pcap1"
    };
    let json = dir.join(format!("{run_name}.json"));
    let mut child = ns
        .command(PKTGEN)
        .args(["--tx-port", "net_pcap0", "--rx-port", rx_port])
        .args(["--dst-mac", HA_MAC0, "--drain-ms", "5000", "--json"])
        .arg(&json)
        .args(args)
        .arg("--")
        .args(eal(&file_prefix, &vdevs))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mipdp-pktgen");
    let deadline = Instant::now() + PKTGEN_TIMEOUT;
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("mipdp-pktgen output");
    common::summary(run_name, &out, &json)
}

/// Starts `mipdp run --config config` in the namespace on two net_tap ports named
/// `ifaces` (kernel names) and waits until both are up and the node has had time to
/// install its static tables.
fn start_mipdp(
    ns: &mut Netns,
    id: &str,
    mipdp: &Path,
    config: &Path,
    dir: &Path,
    (port0, port1): (&str, &str),
) {
    let prefix = format!("mipdp-t-{id}-ha");
    ns.file_prefixes.push(prefix.clone());
    let out = dir.join("mipdp.out");
    let err = dir.join("mipdp.err");
    ns.logs.push(out.clone());
    ns.logs.push(err.clone());
    let mut child = ns
        .command(mipdp.to_str().expect("utf-8 path"))
        .arg("run")
        .arg("--config")
        .arg(config)
        .arg("--")
        .args(eal(
            &prefix,
            &[
                format!("net_tap0,iface={port0},mac={HA_MAC0}"),
                format!("net_tap1,iface={port1},mac={HA_MAC1}"),
            ],
        ))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("mipdp log"))
        .stderr(std::fs::File::create(&err).expect("mipdp log"))
        .spawn()
        .expect("start mipdp");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = [port0, port1].iter().all(|i| {
            ns.command("ip")
                .args(["-o", "link", "show", "dev", i])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(",UP"))
        });
        if up {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("mipdp exited ({status}) before its taps came up");
        }
        assert!(Instant::now() < deadline, "mipdp's taps did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    ns.children.push(child);
    // The node installs its static bindings once it runs.
    std::thread::sleep(Duration::from_secs(2));
}

/// Fails the test unless it runs as root with /dev/net/tun.
fn require_root_and_tun() {
    let uid = run_tool("id", &["-u"]);
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "this end-to-end test creates a network namespace and DPDK tap devices: run it as root"
    );
    assert!(
        Path::new("/dev/net/tun").exists(),
        "/dev/net/tun is missing: DPDK's net_tap needs the tun module"
    );
}

fn write_sections(args: &[&str], file: &Path) -> String {
    let mut all = vec!["--write-mipdp-config", file.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    run_tool(PKTGEN, &all);
    std::fs::read_to_string(file).expect("written sections")
}

fn u(v: &serde_json::Value, path: &[&str]) -> u64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_u64()
        .unwrap_or_else(|| panic!("no number at {path:?} in {v:#}"))
}

/// Every data probe that came back passed every check (none is counted as a mismatch
/// elsewhere), and at most 2 % of `sent` did not come back: the kernel queues between the
/// processes hold them all, but a 2-core machine shared with other builds can starve a
/// receiver past the drain time once in a while. mipdp's own loss is perf/'s business.
fn all_back_checked_or_lost(summary: &serde_json::Value, sent: u64) {
    let ok = u(summary, &["mobility", "rx_data_ok"]);
    let lost = u(summary, &["lost"]);
    assert_eq!(ok + lost, sent, "{summary:#}");
    assert!(lost * 50 <= sent, "{lost} of {sent} lost: {summary:#}");
}

const DATA_ARGS: [&str; 4] = ["--workload", "cn-to-home", "--mobiles", "64"];
const STORM_ARGS: [&str; 10] = [
    "--workload",
    "mip4-storm",
    "--mobiles",
    "16",
    "--home-base",
    "10.1.0.0",
    "--care-of-base",
    "100.65.0.0",
    "--key-seed",
    "7",
];

#[test]
fn pktgen_sees_every_packet_tunnelled_right_and_every_registration_accepted() {
    require_root_and_tun();
    let mipdp = mipdp_binary();
    let id = format!("{}", std::process::id());
    let (home_if, care_of_if) = (format!("pg{id}h"), format!("pg{id}c"));
    assert!(home_if.len() <= 15);
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut ns = Netns::new(format!("mipdp-t-pg{id}"));

    let data_sections = write_sections(&DATA_ARGS, &dir.path().join("data.toml"));
    let storm_sections = write_sections(&STORM_ARGS, &dir.path().join("storm.toml"));
    let config = dir.path().join("home-agent.toml");
    std::fs::write(
        &config,
        format!(
            r#"[dataplane]
mode = "mobility"
workers = [1]
mbufs = 8191
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000
stats_interval_ms = 1000

[node]
roles = ["home-agent"]
addresses = ["192.0.2.1"]
proxy_arp = true

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

[[route]]
prefix = "10.0.0.0/8"
port = "net_tap0"

[[route]]
prefix = "0.0.0.0/0"
port = "net_tap1"
via = "192.0.2.254"

[[neighbour]]
port = "net_tap1"
address = "192.0.2.254"
mac = "02:00:00:00:02:fe"

{data_sections}
{storm_sections}"#
        ),
    )
    .expect("write the configuration");

    start_mipdp(
        &mut ns,
        &id,
        &mipdp,
        &config,
        dir.path(),
        (&home_if, &care_of_if),
    );

    let ifaces = (home_if.as_str(), care_of_if.as_str());
    // The largest packet the tunnel takes: 1480 bytes + 20 of IPv4 header = the tunnel
    // MTU of 1500 (net_tap carries no more; a 1514-byte IMIX frame would be refused with
    // ICMP "fragmentation needed", as DF is set). 800 frames: fewer than the kernel queues
    // on the way hold (the tap's 1000 frames, libpcap's 2 MB), so a loaded machine that
    // starves mipdp or the receiver for a while delays the probes but loses none.
    let mut args = DATA_ARGS.to_vec();
    args.extend(["--count", "800", "--rate", "1000", "--size", "1494"]);
    let data = pktgen(&mut ns, &id, "data", dir.path(), ifaces, &args);
    assert_eq!(u(&data, &["mobility", "tx_data"]), 800, "{data:#}");
    all_back_checked_or_lost(&data, 800);
    for (reason, n) in data["mobility"]["rx_mismatches"]
        .as_object()
        .expect("rx_mismatches")
    {
        assert_eq!(n.as_u64(), Some(0), "mismatch {reason}: {data:#}");
    }
    assert!(u(&data, &["latency_ns", "max"]) > 0);

    // The same traffic against a wrong expectation: the check must catch every packet.
    let mut args = DATA_ARGS.to_vec();
    args.extend(["--count", "300", "--rate", "3000", "--size", "128"]);
    args.extend(["--expect-outer-ttl", "63"]);
    let wrong = pktgen(&mut ns, &id, "wrong", dir.path(), ifaces, &args);
    assert_eq!(u(&wrong, &["mobility", "rx_data_ok"]), 0, "{wrong:#}");
    assert_eq!(
        u(&wrong, &["mobility", "rx_mismatches", "outer_ttl"]),
        300,
        "{wrong:#}"
    );

    let mut args = STORM_ARGS.to_vec();
    args.extend(["--count", "48", "--rate", "200"]);
    let storm = pktgen(
        &mut ns,
        &id,
        "storm",
        dir.path(),
        (care_of_if.as_str(), care_of_if.as_str()),
        &args,
    );
    assert_eq!(u(&storm, &["mobility", "tx_requests"]), 48, "{storm:#}");
    assert_eq!(
        u(&storm, &["mobility", "rx_registration_codes", "0"]),
        48,
        "{storm:#}"
    );
    assert_eq!(
        storm["mobility"]["rx_registration_codes"]
            .as_object()
            .map(|o| o.len()),
        Some(1),
        "only code 0: {storm:#}"
    );

    // Handover: the storm's mobiles, now with data. A probe sent while its mobile's
    // binding is being moved may be lost on the way (the assertions allow loss), but
    // never come back wrong.
    let mut args = STORM_ARGS.to_vec();
    args[1] = "handover";
    args.extend(["--handover-every", "10", "--count", "400", "--rate", "400"]);
    // Sent on the care-of side, where the registrations' replies come back (mipdp answers
    // a request on the link it came from); the data is intercepted there all the same.
    let handover = pktgen(
        &mut ns,
        &id,
        "handover",
        dir.path(),
        (care_of_if.as_str(), care_of_if.as_str()),
        &args,
    );
    let requests = u(&handover, &["mobility", "tx_requests"]);
    assert_eq!(requests, 16 + 38, "{handover:#}");
    assert_eq!(
        u(&handover, &["mobility", "rx_registration_codes", "0"]),
        requests,
        "{handover:#}"
    );
    let sent = u(&handover, &["mobility", "tx_data"]);
    let ok = u(&handover, &["mobility", "rx_data_ok"]);
    assert_eq!(sent, 400 - requests);
    assert!(ok > sent / 2, "{handover:#}");
    assert!(
        u(&handover, &["mobility", "rx_data_moved"]) > 0,
        "{handover:#}"
    );
    for (reason, n) in handover["mobility"]["rx_mismatches"]
        .as_object()
        .expect("rx_mismatches")
    {
        assert_eq!(n.as_u64(), Some(0), "mismatch {reason}: {handover:#}");
    }
}

/// The encapsulated workload against a real mipdp MAP (RFC 5380): IPv6-in-IPv6 probes from
/// the entry point to the MAP's address, inner to each mobile's RCoA; every one must come
/// back re-encapsulated from the MAP's address to that mobile's LCoA, inner intact.
#[test]
fn pktgen_sees_every_packet_re_encapsulated_by_a_map() {
    require_root_and_tun();
    let mipdp = mipdp_binary();
    let id = format!("{}m", std::process::id());
    let (port0, port1) = (format!("pg{id}h"), format!("pg{id}c"));
    assert!(port0.len() <= 15);
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut ns = Netns::new(format!("mipdp-t-pg{id}"));
    let args = [
        "--workload",
        "encapsulated",
        "--encapsulation",
        "ip6ip6",
        "--family",
        "6",
        "--mobiles",
        "32",
        "--size",
        "300",
    ];
    let sections = write_sections(&args, &dir.path().join("map-bindings.toml"));
    let config = dir.path().join("map.toml");
    std::fs::write(
        &config,
        format!(
            r#"[dataplane]
mode = "mobility"
workers = [1]
mbufs = 8191
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000
stats_interval_ms = 1000

[node]
roles = ["map"]
addresses = ["2001:db8:ffff::1"]
rcoa_prefixes = ["2001:db8:100::/48"]

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

[[route]]
prefix = "::/0"
port = "net_tap1"
via = "2001:db8:ffff::fe"

[[neighbour]]
port = "net_tap1"
address = "2001:db8:ffff::fe"
mac = "02:00:00:00:02:fe"

{sections}"#
        ),
    )
    .expect("write the configuration");
    start_mipdp(&mut ns, &id, &mipdp, &config, dir.path(), (&port0, &port1));
    let mut run_args = args.to_vec();
    run_args.extend(["--count", "800", "--rate", "1000"]);
    let map = pktgen(&mut ns, &id, "map", dir.path(), (&port0, &port1), &run_args);
    assert_eq!(u(&map, &["mobility", "tx_data"]), 800, "{map:#}");
    all_back_checked_or_lost(&map, 800);
    for (reason, n) in map["mobility"]["rx_mismatches"]
        .as_object()
        .expect("rx_mismatches")
    {
        assert_eq!(n.as_u64(), Some(0), "mismatch {reason}: {map:#}");
    }
}
