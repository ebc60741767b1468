//! Return routability to the correspondent node end to end (RFC 6275 §5.2, §9.4, §9.5,
//! §9.3.2), with a peer mipdp's code did not write: mipdp is a correspondent node
//! (2001:db8:50::1) between its own side and the mobile's home network (port 0: the sender
//! 2001:db8:50::50 and, routed on that link, the home prefix 2001:db8:1::/64) and a
//! visited network (port 1, 2001:db8:99::/64: the mobile node away at 2001:db8:99::7). The
//! mobile node is tests/peers/cn_mobile.py: scapy builds the Home Test Init (from the home
//! address, as the home agent would deliver it after reverse tunnelling), the Care-of Test
//! Init and the Binding Updates; it derives Kbm from the keygen tokens of the Home Test and
//! Care-of Test itself (hashlib) and computes and checks the Binding Authorization Data
//! with hmac.
//!
//! In order, on one running mipdp:
//! 0. before any binding, the sender's packets for the home address are routed to the
//!    home network: none reaches the care-of network;
//! (a) Home Test Init → Home Test (on the home network), Care-of Test Init → Care-of Test;
//!     the authorised Binding Update gets status 0 with an authentic acknowledgement to
//!     the care-of address with a type 2 routing header; then the sender's packets for the
//!     home address arrive at the care-of address with a type 2 routing header carrying
//!     the home address (captured in the care-of network);
//! (b) a Binding Update with a wrong authenticator is dropped silently (RFC 6275 §9.5.1):
//!     no answer, no change (packets still go to the care-of address);
//! (c) back home, the mobile deregisters from its home address under the home keygen
//!     token alone: status 0, authentic; packets for the home address are routed to the
//!     home network again, none with a routing header.
//!
//! Needs root, DPDK's net_tap, iproute2, ping, tcpdump and python3 with scapy (all from
//! scripts/install-deps.sh). It fails, not skips, without them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{counter, field, key_values, mac_text, Topology, MIPDP};

/// MAC of the namespace behind DPDK port 0 (the sender and the home network).
const MAC_A: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x50];
/// MAC of the care-of namespace behind DPDK port 1.
const MAC_B: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x07];
const CN: &str = "2001:db8:50::1";
const SENDER: &str = "2001:db8:50::50";
const HOME: &str = "2001:db8:1::100";
const COA: &str = "2001:db8:99::7";
/// Lifetime asked for, 4-second units (below MAX_RR_BINDING_LIFETIME's 105).
const LIFETIME_UNITS: u16 = 100;
const ECHOES: usize = 3;

fn config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"[dataplane]
mode = "mobility"
workers = [1]
mbufs = 8191
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000
control_socket = "{socket}"

[node]
roles = ["correspondent"]
addresses = ["{CN}"]

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

[[route]]
prefix = "2001:db8:50::/64"
port = "net_tap0"

# The mobile's home network: reached through port 0 (its home agent in real life).
[[route]]
prefix = "2001:db8:1::/64"
port = "net_tap0"

[[route]]
prefix = "2001:db8:99::/64"
port = "net_tap1"

[[neighbour]]
port = "net_tap0"
address = "{SENDER}"
mac = "{a}"

[[neighbour]]
port = "net_tap0"
address = "{HOME}"
mac = "{a}"

[[neighbour]]
port = "net_tap1"
address = "{COA}"
mac = "{b}"

[correspondent]
addresses = ["{CN}"]
# Generous: the workers of a loaded 2-core machine may be slow to apply the entry.
reply_wait_ms = 10000
"#,
        a = mac_text(MAC_A),
        b = mac_text(MAC_B),
        socket = dir.join("mipdp.sock").display(),
    );
    let path = dir.join("correspondent.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// Runs cn_mobile.py in `ns` and returns its `result ...` line's words.
fn mobile(topo: &Topology, ns: &str, args: &[&str]) -> HashMap<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/cn_mobile.py");
    let script = script.to_string_lossy().into_owned();
    let mut all = vec!["python3", script.as_str()];
    all.extend_from_slice(args);
    let out = topo.ns_output(ns, &all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "cn_mobile.py {args:?} failed in {ns}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("result "))
        .unwrap_or_else(|| panic!("cn_mobile.py printed no result: {stdout}"));
    key_values(line)
}

fn ctl_stats(socket: &Path) -> String {
    let out = Command::new(MIPDP)
        .args(["ctl", "--socket"])
        .arg(socket)
        .args(["show", "stats"])
        .output()
        .expect("run mipdp ctl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("engine "))
        .unwrap_or_else(|| panic!("no engine line in {text}"))
        .to_string()
}

/// `ECHOES` echo requests of `size` data bytes from the sender to the home address; no
/// reply is expected (the mobile's kernel does not answer), only where they go. No
/// deadline (`-w`): with one, ping keeps sending until it.
fn send_echoes(topo: &Topology, size: usize) {
    let s = size.to_string();
    let n = ECHOES.to_string();
    topo.ns_output(
        &topo.ns_a,
        &[
            "ping", "-6", "-n", "-c", &n, "-i", "0.2", "-W", "1", "-s", &s, HOME,
        ],
    );
}

/// Frames in the care-of capture to the care-of address with a type 2 routing header
/// for the home address (Segments Left 1) carrying an echo request of `size` data bytes
/// from the sender. RFC 6275 §6.4, §9.3.2.
fn routed_to_care_of(frames: &[Vec<u8>], size: usize) -> usize {
    let (sender, home, coa) = (
        SENDER.parse::<std::net::Ipv6Addr>().unwrap().octets(),
        HOME.parse::<std::net::Ipv6Addr>().unwrap().octets(),
        COA.parse::<std::net::Ipv6Addr>().unwrap().octets(),
    );
    frames
        .iter()
        .filter(|f| {
            f.len() >= 14 + 40 + 24 + 8
                && f[12..14] == [0x86, 0xdd]
                && f[14 + 6] == 43
                && f[14 + 8..14 + 24] == sender
                && f[14 + 24..14 + 40] == coa
                && f[54 + 1] == 2 // Hdr Ext Len 2: 24 bytes
                && f[54 + 2] == 2 // type 2
                && f[54 + 3] == 1 // Segments Left 1
                && f[54 + 8..54 + 24] == home
                && f[54] == 58
                && f[78] == 128
                && f.len() == 78 + 8 + size
        })
        .count()
}

#[test]
fn mobile_does_return_routability_binds_with_kbm_is_route_optimised_and_deregisters() {
    common::require_root("e2e_cn_return_routability");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool("ping", &["-V"], "ping (iputils) is the sender");
    common::require_tool(
        "tcpdump",
        &["--version"],
        "tcpdump records the care-of link",
    );
    common::require_tool(
        "python3",
        &["-c", "import scapy.layers.inet6, hmac, hashlib"],
        "python3 with scapy plays the mobile node",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path());
    let socket = dir.path().join("mipdp.sock");
    let mut topo = Topology::new("cnrr");
    topo.start_mipdp(&config, &["--stats-interval", "500"]);
    topo.adopt_taps(MAC_A, MAC_B, std::time::Duration::from_secs(30));
    let (mac0, mac1) = {
        let m = topo.mipdp();
        (m.logged_mac("net_tap0"), m.logged_mac("net_tap1"))
    };
    let cn_mac_a = mac_text(mac0.expect("mipdp logged no MAC for net_tap0"));
    let cn_mac_b = mac_text(mac1.expect("mipdp logged no MAC for net_tap1"));
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let (ns_b, tap_b) = (topo.ns_b.clone(), topo.tap_b.clone());
    topo.enable_ipv6_quietly(&ns_a, &tap_a);
    for cmd in [
        "ip link set dev lo up",
        "ip -6 addr add 2001:db8:50::50/64 dev {dev} nodad",
        "ip -6 route add default via 2001:db8:50::1 dev {dev}",
        "ip -6 neigh add 2001:db8:50::1 lladdr {mac} dev {dev} nud permanent",
    ] {
        topo.ns_words(
            &ns_a,
            &cmd.replace("{dev}", &tap_a).replace("{mac}", &cn_mac_a),
        );
    }
    topo.enable_ipv6_quietly(&ns_b, &tap_b);
    let capture_path = dir.path().join("care-of-link.pcap");
    let capture = topo.capture(&ns_b, &tap_b, &capture_path);

    let mac_a = mac_text(MAC_A);
    let mac_b = mac_text(MAC_B);
    let at_home = |extra: &[&str]| {
        let mut v = vec![
            "--iface",
            &tap_a,
            "--src-mac",
            &mac_a,
            "--dst-mac",
            &cn_mac_a,
            "--cn",
            CN,
        ];
        v.extend_from_slice(extra);
        v.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let away = |extra: &[&str]| {
        let mut v = vec![
            "--iface",
            &tap_b,
            "--src-mac",
            &mac_b,
            "--dst-mac",
            &cn_mac_b,
            "--cn",
            CN,
        ];
        v.extend_from_slice(extra);
        v.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let run = |ns: &str, words: Vec<String>| {
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        mobile(&topo, ns, &refs)
    };
    let mut failures = Vec::new();

    // 0. No binding yet: routed to the home network.
    send_echoes(&topo, 100);

    // (a) Return routability, then the authorised Binding Update.
    let mut args = vec!["init".to_string()];
    args.extend(at_home(&["--kind", "home", "--src", HOME]));
    let hot = run(&ns_a, args);
    let mut args = vec!["init".to_string()];
    args.extend(away(&["--kind", "care-of", "--src", COA]));
    let cot = run(&ns_b, args);
    if field(&hot, "status") != "ok" || field(&cot, "status") != "ok" {
        failures.push(format!("(a) no Home Test / Care-of Test: {hot:?} {cot:?}"));
    }
    let (hi, ht) = (
        field(&hot, "index").to_string(),
        field(&hot, "token").to_string(),
    );
    let (ci, ct) = (
        field(&cot, "index").to_string(),
        field(&cot, "token").to_string(),
    );
    let lifetime = LIFETIME_UNITS.to_string();
    let bu = |seq: &str, corrupt: bool| {
        let mut extra = vec![
            "--src",
            COA,
            "--home",
            HOME,
            "--seq",
            seq,
            "--lifetime",
            &lifetime,
            "--home-index",
            &hi,
            "--home-token",
            &ht,
            "--care-of-index",
            &ci,
            "--care-of-token",
            &ct,
        ];
        if corrupt {
            extra.extend_from_slice(&["--corrupt", "--timeout", "3"]);
        }
        let mut args = vec!["bu".to_string()];
        args.extend(away(&extra));
        args
    };
    let ba = run(&ns_b, bu("1", false));
    let ok = field(&ba, "status") == "0"
        && field(&ba, "seq") == "1"
        && field(&ba, "lifetime") == lifetime
        && field(&ba, "authentic") == "True"
        && field(&ba, "reply_src") == CN
        && field(&ba, "reply_dst") == COA
        && field(&ba, "routing_home") == HOME;
    if !ok {
        failures.push(format!(
            "(a) want status 0, sequence 1, lifetime {lifetime}, authentic, from {CN} to {COA} with a type 2 routing header for {HOME}; got {ba:?}"
        ));
    }
    send_echoes(&topo, 101);

    // (b) A wrong authenticator: silently dropped, nothing changes.
    let ba = run(&ns_b, bu("2", true));
    if field(&ba, "status") != "none" {
        failures.push(format!("(b) wrong authenticator was answered: {ba:?}"));
    }
    send_echoes(&topo, 102);
    let stats = ctl_stats(&socket);
    if counter(&stats, "cn_bindings") != 1 || counter(&stats, "cn_failed_authorization") != 1 {
        failures.push(format!(
            "(b) want one binding, one failed authorisation: {stats}"
        ));
    }

    // (c) Home again: deregistration from the home address under the home token alone.
    let mut args = vec!["bu".to_string()];
    args.extend(at_home(&[
        "--src",
        HOME,
        "--home",
        HOME,
        "--seq",
        "3",
        "--lifetime",
        "0",
        "--home-index",
        &hi,
        "--home-token",
        &ht,
    ]));
    let ba = run(&ns_a, args);
    let ok = field(&ba, "status") == "0"
        && field(&ba, "seq") == "3"
        && field(&ba, "authentic") == "True"
        && field(&ba, "reply_dst") == HOME
        && field(&ba, "routing_home") == "none";
    if !ok {
        failures.push(format!(
            "(c) deregistration: want status 0, sequence 3, authentic, straight to {HOME}; got {ba:?}"
        ));
    }
    send_echoes(&topo, 103);

    let frames = topo.finish_capture(&capture, usize::MAX, std::time::Duration::from_secs(2));
    for (size, want, what) in [
        (100, 0, "0. before the binding"),
        (101, ECHOES, "(a) after the binding"),
        (102, ECHOES, "(b) after the wrong authenticator"),
        (103, 0, "(c) after deregistration"),
    ] {
        let got = routed_to_care_of(&frames, size);
        if got != want {
            failures.push(format!(
                "{what}: {got} echoes of {size} bytes reached {COA} with a type 2 routing header, want {want}"
            ));
        }
    }

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    for (key, want) in [
        ("cn_home_test", 1),
        ("cn_care_of_test", 1),
        ("cn_registered", 1),
        ("cn_failed_authorization", 1),
        ("cn_deregistered", 1),
        ("cn_replies", 4),
        ("cn_replies_limited", 0),
        ("cn_replies_abandoned", 0),
        ("cn_bindings", 0),
    ] {
        let n = counter(engine, key);
        if n != want {
            failures.push(format!("final {key}={n}, want {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n--- care-of link ---\n{}\n{}",
        failures.join("\n"),
        capture.text(),
        finished.transcript()
    );
}
