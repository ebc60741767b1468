//! Mobile IPv6 home registration end to end (RFC 6275 §10.3, §10.4.1; RFC 4285), with
//! peers mipdp's code did not write: mipdp is a home agent with no static binding between
//! a home link (port 0, 2001:db8:1::/64: the correspondent 2001:db8:1::50) and a care-of
//! network (port 1, 2001:db8:2::/64: the mobile node away at 2001:db8:2::7). The mobile
//! node is tests/peers/mip6_mobile.py: scapy builds each Binding Update with the Home
//! Address option, and Python's hmac/hashlib compute its RFC 4285 MN-HA authenticator; it
//! checks the acknowledgement's authenticator and checksum the same way. The care-of side
//! decapsulates the home agent's IPv6-in-IPv6 tunnel with the kernel's SRv6 End.DT6 route
//! (this kernel has no ip6tnl; see e2e_home_agent.rs), its kernel answers the
//! correspondent's pings for the home address, and the replies go back
//! reverse-tunnelled to the home agent (seg6 encap.red: plain IPv6 in IPv6).
//!
//! In order, on one running mipdp:
//! 0. before any binding the home address is not answered for (the ping fails);
//! (a) a Binding Update with sequence 65535 is accepted (status 0, authentic, the lifetime
//!     asked); the correspondent then reaches the home address through the tunnel and
//!     back; `mipdp ctl refresh binding` sends a Binding Refresh Request;
//! (b) sequence 0 is accepted: 65535 → 0 is greater modulo 2^16;
//! (c) sequence 40000 (behind 0 modulo 2^16) for another care-of address gets 135 with
//!     the last accepted sequence, 0, and changes nothing: pings still reach the mobile;
//! (d) the wrong key gets 146 and changes nothing;
//! (e) the mobile node comes home (a frame from its own MAC on the home link, from its
//!     home address, without the Home Address option) and deregisters (lifetime 0):
//!     status 0 to its MAC, interception stops (the pings are no longer tunnelled) and the
//!     home agent's unsolicited Neighbor Advertisements give the home address back to the
//!     mobile's MAC, which the correspondent's kernel takes. The capture of the home link
//!     also shows the advertisements of the takeover in (a), with the home agent's MAC.
//!
//! Needs root, DPDK's net_tap, iproute2, ping, tcpdump, a kernel with SRv6 and python3
//! with scapy (all from scripts/install-deps.sh). It fails, not skips, without them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{counter, ctl, engine_stats, field, key_values, mac_text, Topology};

/// MAC of the correspondent's interface (behind DPDK port 0, the home link).
const MAC_CN: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x50];
/// MAC of the care-of namespace's interface (behind DPDK port 1).
const MAC_COA: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x07];
/// The mobile node's own MAC when it is back on the home link.
const MAC_MOBILE: [u8; 6] = [0x02, 0xcc, 0, 0, 0, 0x64];
const HA: &str = "2001:db8:1::1";
const CN: &str = "2001:db8:1::50";
const HOME: &str = "2001:db8:1::100";
const COA: &str = "2001:db8:2::7";
/// A care-of address nobody has: a binding to it would make the pings fail.
const OTHER_COA: &str = "2001:db8:2::99";
const KEY: &str = "6d697064702d6d6970366861207465737420";
const WRONG_KEY: &str = "000000000000000000000000000000000000";
const SPI: &str = "256";
/// 300 s in 4-second units.
const LIFETIME_UNITS: u16 = 75;
const ECHOES: u64 = 3;
const REVERSE_TABLE: &str = "100";

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
roles = ["home-agent"]
addresses = ["{HA}", "2001:db8:2::1"]
proxy_arp = true

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

[[route]]
prefix = "2001:db8:1::/64"
port = "net_tap0"

[[route]]
prefix = "2001:db8:2::/64"
port = "net_tap1"

[[neighbour]]
port = "net_tap0"
address = "{CN}"
mac = "{cn}"

[[neighbour]]
port = "net_tap1"
address = "{COA}"
mac = "{coa}"

[home_agent6]
addresses = ["{HA}"]
home_prefixes = ["2001:db8:1::/64"]
max_lifetime = 600
max_bindings = 16
neighbour_advertisements = 2
neighbour_advertisement_interval_ms = 200
# Generous: the workers of a loaded 2-core machine may be slow to apply a binding.
reply_wait_ms = 10000

[[home_agent6.security_association]]
home_address = "{HOME}"
spi = {SPI}
key = "{KEY}"
# Generous too: the script's clock is the machine's, but a loaded machine may take a while
# between building the update and mipdp reading it.
timestamp_tolerance_s = 30
"#,
        cn = mac_text(MAC_CN),
        coa = mac_text(MAC_COA),
        socket = dir.join("mipdp.sock").display(),
    );
    let path = dir.join("home-agent6.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// One Binding Update from mip6_mobile.py.
struct Attempt<'a> {
    ns: &'a str,
    iface: &'a str,
    src_mac: [u8; 6],
    dst_mac: &'a str,
    /// The IPv6 source: the care-of address, or the home address at home.
    src: &'a str,
    at_home: bool,
    seq: u16,
    lifetime: u16,
    key: &'a str,
}

/// What mip6_mobile.py printed: `seq_sent=... status=... seq=... lifetime=... ...`.
fn bind(topo: &Topology, a: &Attempt<'_>) -> HashMap<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/mip6_mobile.py");
    let script = script.to_string_lossy();
    let (src_mac, seq, lifetime) = (
        mac_text(a.src_mac),
        a.seq.to_string(),
        a.lifetime.to_string(),
    );
    let mut args = vec![
        "python3",
        &script,
        "--iface",
        a.iface,
        "--src-mac",
        &src_mac,
        "--dst-mac",
        a.dst_mac,
        "--src",
        a.src,
        "--home-agent",
        HA,
        "--home",
        HOME,
        "--seq",
        &seq,
        "--lifetime",
        &lifetime,
        "--spi",
        SPI,
        "--key",
        a.key,
        "--timeout",
        "30",
    ];
    if a.at_home {
        args.push("--at-home");
    }
    let out = topo.ns_output(a.ns, &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mip6_mobile.py failed in {}: {}{}",
        a.ns,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("seq_sent="))
        .unwrap_or_else(|| panic!("mip6_mobile.py printed no result: {stdout}"));
    key_values(line)
}

/// Packets the care-of side's End.DT6 route decapsulated.
fn tunnelled(topo: &Topology) -> u64 {
    let out = topo.ns_run(&topo.ns_b, &["ip", "-s", "-6", "route", "show", COA]);
    let route = String::from_utf8_lossy(&out.stdout).into_owned();
    common::seg6local_counts(&route)
        .unwrap_or_else(|| panic!("no End.DT6 counters in {route:?}"))
        .0
}

/// Whether `count` echoes from the correspondent to the home address get no reply at
/// all (a short deadline: nobody is expected to answer).
fn ping_unanswered(topo: &Topology, count: u64) -> Result<(), String> {
    let n = count.to_string();
    let out = topo.ns_output(
        &topo.ns_a,
        &[
            "ping", "-6", "-n", "-c", &n, "-i", "0.2", "-W", "1", "-w", "3", HOME,
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if text.contains(" 0 received") {
        Ok(())
    } else {
        Err(text)
    }
}

/// The correspondent's neighbour entry for the home address.
fn neighbour_entry(topo: &Topology) -> String {
    let out = topo.ns_output(&topo.ns_a, &["ip", "-6", "neigh", "show", HOME]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn mobile_binds_across_the_sequence_wrap_is_refused_out_of_window_and_with_a_bad_key_and_deregisters(
) {
    common::require_root("e2e_mip6_binding");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool("ping", &["-V"], "ping (iputils) is the correspondent");
    common::require_tool("tcpdump", &["--version"], "tcpdump records the home link");
    common::require_tool(
        "python3",
        &["-c", "import scapy.layers.inet6, hmac, hashlib"],
        "python3 with scapy plays the mobile node",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path());
    let socket = dir.path().join("mipdp.sock");
    let mut topo = Topology::new("mip6");
    topo.start_mipdp(&config, &["--stats-interval", "500"]);
    topo.adopt_taps(MAC_CN, MAC_COA, Duration::from_secs(30));
    let (home_mac, away_mac) = {
        let m = topo.mipdp();
        (m.logged_mac("net_tap0"), m.logged_mac("net_tap1"))
    };
    let ha_home_mac = mac_text(home_mac.expect("mipdp logged no MAC for net_tap0"));
    let ha_away_mac = mac_text(away_mac.expect("mipdp logged no MAC for net_tap1"));
    set_up_correspondent(&topo);
    set_up_care_of(&topo, &ha_away_mac);
    let capture_path = dir.path().join("home-link.pcap");
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let (ns_b, tap_b) = (topo.ns_b.clone(), topo.tap_b.clone());
    let capture = topo.capture(&ns_a, &tap_a, &capture_path);

    let mut failures = Vec::new();
    let away = |src, seq, key| Attempt {
        ns: &ns_b,
        iface: &tap_b,
        src_mac: MAC_COA,
        dst_mac: &ha_away_mac,
        src,
        at_home: false,
        seq,
        lifetime: LIFETIME_UNITS,
        key,
    };

    // 0. Nothing intercepts the home address before the mobile binds it.
    if let Err(e) = ping_unanswered(&topo, 1) {
        failures.push(format!(
            "before the binding the home address answered:\n{e}"
        ));
    }

    // (a) Accepted at sequence 65535; the correspondent reaches the mobile and back.
    let reply = bind(&topo, &away(COA, 65535, KEY));
    check_ack(
        &reply,
        "0",
        "65535",
        Some(LIFETIME_UNITS),
        COA,
        &mut failures,
        "(a)",
    );
    still_reaches_the_mobile(&topo, "(a) after the binding", &mut failures);
    let entry = neighbour_entry(&topo);
    if !entry.contains(&format!("lladdr {ha_home_mac}")) {
        failures.push(format!(
            "(a) the correspondent did not resolve {HOME} to the home agent's {ha_home_mac} (proxy ND): {entry:?}"
        ));
    }
    let refreshed = ctl(&socket, &["refresh", "binding", HOME]);
    if !refreshed.starts_with("ok") || counter(&engine_stats(&socket), "mip6_refreshes") != 1 {
        failures.push(format!("(a) mipdp ctl refresh binding: {refreshed:?}"));
    }

    // (b) The sequence number wraps: 0 is greater than 65535 modulo 2^16.
    let reply = bind(&topo, &away(COA, 0, KEY));
    check_ack(
        &reply,
        "0",
        "0",
        Some(LIFETIME_UNITS),
        COA,
        &mut failures,
        "(b) wrap",
    );
    still_reaches_the_mobile(&topo, "(b) after the wrap", &mut failures);

    // (c) Out of the window, for another care-of address: 135 with the last accepted
    // sequence number, no change.
    let reply = bind(&topo, &away(OTHER_COA, 40000, KEY));
    check_ack(&reply, "135", "0", Some(0), OTHER_COA, &mut failures, "(c)");
    still_reaches_the_mobile(&topo, "(c) after sequence 40000", &mut failures);

    // (d) The wrong key: 146 (RFC 4285 §8: MIPV6-AUTH-FAIL), no change.
    let reply = bind(&topo, &away(OTHER_COA, 1, WRONG_KEY));
    if field(&reply, "status") != "146" {
        failures.push(format!("(d) wrong key: want status 146, got {reply:?}"));
    }
    still_reaches_the_mobile(&topo, "(d) after the wrong key", &mut failures);
    let stats = engine_stats(&socket);
    if counter(&stats, "mip6_bindings") != 1 {
        failures.push(format!("(d) want one binding: {stats}"));
    }

    // (e) Home again: deregistration from the home link with the mobile's own MAC.
    let encaps_before = counter(&engine_stats(&socket), "encap_ip6ip6");
    let tunnelled_before = tunnelled(&topo);
    let home = Attempt {
        ns: &ns_a,
        iface: &tap_a,
        src_mac: MAC_MOBILE,
        dst_mac: &ha_home_mac,
        src: HOME,
        at_home: true,
        seq: 2,
        lifetime: 0,
        key: KEY,
    };
    let reply = bind(&topo, &home);
    check_ack(&reply, "0", "2", Some(0), HOME, &mut failures, "(e)");
    if field(&reply, "reply_eth_dst") != mac_text(MAC_MOBILE)
        || field(&reply, "routing_home") != "none"
    {
        failures.push(format!(
            "(e) the acknowledgement was not sent straight to the mobile's MAC: {reply:?}"
        ));
    }
    let mobile_mac = mac_text(MAC_MOBILE);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !neighbour_entry(&topo).contains(&mobile_mac) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let entry = neighbour_entry(&topo);
    if !entry.contains(&format!("lladdr {mobile_mac}")) {
        failures.push(format!(
            "(e) the correspondent's entry for {HOME} did not move to the mobile's {mobile_mac}: {entry:?}"
        ));
    }
    if let Err(e) = ping_unanswered(&topo, 2) {
        failures.push(format!(
            "(e) after deregistration the home address still answered:\n{e}"
        ));
    }
    let stats = engine_stats(&socket);
    if counter(&stats, "encap_ip6ip6") != encaps_before || tunnelled(&topo) != tunnelled_before {
        failures.push(format!(
            "(e) packets were still tunnelled after deregistration (encap_ip6ip6 {encaps_before} -> {}): {stats}",
            counter(&stats, "encap_ip6ip6")
        ));
    }

    let deadline = Instant::now() + Duration::from_secs(15);
    while counter(&engine_stats(&socket), "mip6_neighbour_advertisements") < 4
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let frames = topo.finish_capture(&capture, usize::MAX, Duration::from_secs(2));
    check_advertisements(&frames, &ha_home_mac, &mut failures);

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    for (key, want) in [
        ("mip6_registered", 2),
        ("mip6_sequence_out_of_window", 1),
        ("mip6_failed_authentication", 1),
        ("mip6_deregistered", 1),
        ("mip6_replies", 5),
        ("mip6_replies_limited", 0),
        ("mip6_replies_abandoned", 0),
        ("mip6_neighbour_advertisements", 4),
        ("mip6_refreshes", 1),
        ("mip6_bindings", 0),
    ] {
        let n = counter(engine, key);
        if n != want {
            failures.push(format!("final {key}={n}, want {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n--- home link ---\n{}\n{}",
        failures.join("\n"),
        capture.text(),
        finished.transcript()
    );
}

/// The acknowledgement has `status`, `seq`, the `lifetime` (when given), comes from the
/// home agent to `to`, and its authenticator and checksum verify under the mobile's key.
fn check_ack(
    reply: &HashMap<String, String>,
    status: &str,
    seq: &str,
    lifetime: Option<u16>,
    to: &str,
    failures: &mut Vec<String>,
    what: &str,
) {
    let ok = field(reply, "status") == status
        && field(reply, "seq") == seq
        && lifetime.is_none_or(|l| field(reply, "lifetime") == l.to_string())
        && field(reply, "authentic") == "True"
        && field(reply, "checksum_ok") == "True"
        && field(reply, "reply_src") == HA
        && field(reply, "reply_dst") == to;
    if !ok {
        failures.push(format!(
            "{what}: want status {status}, sequence {seq}, lifetime {lifetime:?}, authentic, from {HA} to {to}; got {reply:?}"
        ));
    }
}

/// The binding still points at the care-of address: pings go through the tunnel (the
/// End.DT6 route counts them) and come back.
fn still_reaches_the_mobile(topo: &Topology, what: &str, failures: &mut Vec<String>) {
    let before = tunnelled(topo);
    if let Err(e) = topo.ping(&topo.ns_a, HOME, ECHOES) {
        failures.push(format!("{what}: ping {HOME} failed:\n{e}"));
    }
    if tunnelled(topo) < before + ECHOES {
        failures.push(format!("{what}: the pings did not go through the tunnel"));
    }
}

/// Unsolicited Neighbor Advertisements for the home address on the home link (RFC 6275
/// §10.4.1): from the home agent's port to all nodes, hop limit 255, Override only, the
/// home address as target; first two with the home agent's MAC in the Target Link-Layer
/// Address option (the takeover), then two with the mobile's (the return).
fn check_advertisements(frames: &[Vec<u8>], ha_mac: &str, failures: &mut Vec<String>) {
    let home: std::net::Ipv6Addr = HOME.parse().expect("home address");
    let targets: Vec<String> = frames
        .iter()
        .filter(|f| {
            f.len() >= 86
                && f[..6] == [0x33, 0x33, 0, 0, 0, 1]
                && mac_text([f[6], f[7], f[8], f[9], f[10], f[11]]) == ha_mac
                && f[12..14] == [0x86, 0xdd]
                && f[20] == 58
                && f[21] == 255
                && f[54] == 136
                && f[58] == 0x20
                && f[62..78] == home.octets()
                && f[78..80] == [2, 1]
        })
        .map(|f| mac_text([f[80], f[81], f[82], f[83], f[84], f[85]]))
        .collect();
    let mobile = mac_text(MAC_MOBILE);
    let want = vec![
        ha_mac.to_string(),
        ha_mac.to_string(),
        mobile.clone(),
        mobile,
    ];
    if targets != want {
        failures.push(format!(
            "unsolicited Neighbor Advertisements for {HOME} on the home link had target MACs {targets:?}, want {want:?}"
        ));
    }
}

/// The correspondent on the home link: 2001:db8:1::50/64 (the home address is on link:
/// it is resolved by neighbour discovery), default route via the home agent.
fn set_up_correspondent(topo: &Topology) {
    let (ns, dev) = (topo.ns_a.as_str(), topo.tap_a.as_str());
    topo.enable_ipv6_quietly(ns, dev);
    for cmd in [
        "ip link set dev lo up",
        "ip -6 addr add 2001:db8:1::50/64 dev {dev} nodad",
        "ip -6 route add default via 2001:db8:1::1 dev {dev}",
    ] {
        topo.ns_words(ns, &cmd.replace("{dev}", dev));
    }
}

/// The care-of network: the End.DT6 route for 2001:db8:2::7 decapsulates the home
/// agent's tunnel, the home address sits on `lo`, and replies from it are
/// reverse-tunnelled to the home agent (see e2e_home_agent.rs).
fn set_up_care_of(topo: &Topology, ha_mac: &str) {
    let (ns, dev) = (topo.ns_b.as_str(), topo.tap_b.as_str());
    topo.enable_ipv6_quietly(ns, dev);
    for cmd in [
        "ip link set dev lo up",
        "ip -6 route add 2001:db8:2::/64 dev {dev}",
        "ip -6 route add default via 2001:db8:2::1 dev {dev}",
        "ip -6 neigh add 2001:db8:2::1 lladdr {mac} dev {dev} nud permanent",
        "ip -6 addr add 2001:db8:1::100/128 dev lo nodad",
        "ip -6 route add 2001:db8:2::7/128 encap seg6local action End.DT6 table local count \
         dev {dev}",
        "ip sr tunsrc set 2001:db8:2::7",
        "ip -6 rule add from 2001:db8:1::100 lookup {table}",
        "ip -6 route add 2001:db8:1::50/128 encap seg6 mode encap.red segs 2001:db8:1::1 \
         dev {dev} table {table}",
    ] {
        let cmd = cmd
            .replace("{dev}", dev)
            .replace("{mac}", ha_mac)
            .replace("{table}", REVERSE_TABLE);
        topo.ns_words(ns, &cmd);
    }
}
