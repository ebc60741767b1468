//! Mobile IPv4 registration end to end (RFC 5944 §3.8, §4.6), with peers mipdp's code
//! did not write: mipdp is a home agent with no static binding between a home link
//! (port 0, 10.1.0.0/24: the correspondent 10.1.0.50) and a care-of network (port 1,
//! 192.0.2.0/24: the mobile node away, with the co-located care-of address 192.0.2.7).
//! The mobile node is tests/peers/mip4_mobile.py: it builds each Registration Request
//! itself and computes the HMAC-MD5 authenticator with Python's hmac/hashlib, sends it
//! with scapy and checks the reply's authenticator the same way. The care-of side
//! decapsulates IP in IP with tests/peers/tunnel_endpoint.py (this kernel has no ipip
//! module; see e2e_home_agent.rs), its kernel answers the correspondent's pings for the
//! home address, and the replies go back reverse-tunnelled to the home agent.
//!
//! In order, on one running mipdp:
//! 0. before any registration the home address is not answered for (the ping fails);
//! (a) a registration (lifetime 300) is accepted with code 0 and an authentic reply; the
//!     correspondent then reaches the home address through the tunnel and back, having
//!     resolved it to the home agent's MAC (proxy ARP);
//! (b) a request replaying (a)'s Identification, for another care-of address, gets 133
//!     and changes nothing: pings still reach the mobile at 192.0.2.7;
//! (c) a request under the wrong key gets 131 and changes nothing;
//! (d) a lifetime of 1000 s, above home_agent.max_lifetime = 600, is granted as 600;
//! (e) the mobile node comes home (a frame from its own MAC on the home link) and
//!     deregisters (lifetime 0, care-of = home address): code 0, interception stops (the
//!     pings are no longer tunnelled) and the home agent sends gratuitous ARPs on the home
//!     link giving the home address back to the mobile's MAC, which the correspondent's
//!     kernel takes. The capture of the home link also shows the gratuitous ARPs of the
//!     takeover in (a), with the home agent's MAC.
//!
//! Needs root, DPDK's net_tap, iproute2, ping, tcpdump and python3 with scapy (all from
//! scripts/install-deps.sh). It fails, not skips, without them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{counter, engine_stats, field, key_values, mac_text, Lines, Topology};

/// MAC of the correspondent's interface (behind DPDK port 0, the home link).
const MAC_CN: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x50];
/// MAC of the care-of namespace's interface (behind DPDK port 1).
const MAC_COA: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x07];
/// The mobile node's own MAC when it is back on the home link.
const MAC_MOBILE: [u8; 6] = [0x02, 0xcc, 0, 0, 0, 0x64];
const HA: &str = "10.1.0.1";
const HOME: &str = "10.1.0.100";
const COA: &str = "192.0.2.7";
/// A care-of address nobody has: a binding to it would make the pings fail.
const OTHER_COA: &str = "192.0.2.99";
const KEY: &str = "6d697064702d6d697034686120746573";
const WRONG_KEY: &str = "00000000000000000000000000000000";
const SPI: &str = "256";
const MAX_LIFETIME: u16 = 600;
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
addresses = ["{HA}", "192.0.2.1"]
proxy_arp = true

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

[[route]]
prefix = "10.1.0.0/24"
port = "net_tap0"

[[route]]
prefix = "192.0.2.0/24"
port = "net_tap1"

[[neighbour]]
port = "net_tap0"
address = "10.1.0.50"
mac = "{cn}"

[[neighbour]]
port = "net_tap1"
address = "{COA}"
mac = "{coa}"

[home_agent]
addresses = ["{HA}"]
home_prefixes = ["10.1.0.0/24"]
max_lifetime = {MAX_LIFETIME}
max_bindings = 16
gratuitous_arps = 2
gratuitous_arp_interval_ms = 200
# Generous: the workers of a loaded 2-core machine may be slow to apply a binding.
reply_wait_ms = 10000

[[home_agent.security_association]]
home_address = "{HOME}"
spi = {SPI}
key = "{KEY}"
"#,
        cn = mac_text(MAC_CN),
        coa = mac_text(MAC_COA),
        socket = dir.join("mipdp.sock").display(),
    );
    let path = dir.join("home-agent.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// One Registration Request from mip4_mobile.py.
struct Attempt<'a> {
    /// Namespace and interface it is sent from, with its Ethernet and IP source.
    ns: &'a str,
    iface: &'a str,
    src_mac: [u8; 6],
    dst_mac: &'a str,
    src: &'a str,
    care_of: &'a str,
    lifetime: u16,
    key: &'a str,
    /// None: a fresh NTP timestamp.
    identification: Option<&'a str>,
    sport: u16,
}

/// What mip4_mobile.py printed: `identification=... code=... lifetime=...`.
fn register(topo: &Topology, a: &Attempt<'_>) -> HashMap<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/mip4_mobile.py");
    let script = script.to_string_lossy();
    let (src_mac, sport, lifetime) = (
        mac_text(a.src_mac),
        a.sport.to_string(),
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
        "--sport",
        &sport,
        "--home-agent",
        HA,
        "--home",
        HOME,
        "--care-of",
        a.care_of,
        "--lifetime",
        &lifetime,
        "--spi",
        SPI,
        "--key",
        a.key,
        "--timeout",
        "30",
    ];
    if let Some(id) = a.identification {
        args.extend(["--identification", id]);
    }
    let out = topo.ns_output(a.ns, &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mip4_mobile.py failed in {}: {}{}",
        a.ns,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("identification="))
        .unwrap_or_else(|| panic!("mip4_mobile.py printed no result: {stdout}"));
    key_values(line)
}

/// Packets the care-of side's tunnel end t4 received (decapsulated from the home agent).
fn tunnelled(topo: &Topology) -> u64 {
    let out = topo.ns_run(
        &topo.ns_b,
        &["cat", "/sys/class/net/t4/statistics/rx_packets"],
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("t4 rx_packets")
}

/// Whether `count` echoes from the correspondent to the home address get no reply at
/// all (a short deadline: nobody is expected to answer).
fn ping_unanswered(topo: &Topology, count: u64) -> Result<(), String> {
    let n = count.to_string();
    let out = topo.ns_output(
        &topo.ns_a,
        &[
            "ping", "-4", "-n", "-c", &n, "-i", "0.2", "-W", "1", "-w", "3", HOME,
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
    let out = topo.ns_output(&topo.ns_a, &["ip", "neigh", "show", HOME]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn mobile_registers_is_refused_for_replay_and_bad_key_gets_a_clamped_lifetime_and_deregisters() {
    common::require_root("e2e_mip4_registration");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool("ping", &["-V"], "ping (iputils) is the correspondent");
    common::require_tool("tcpdump", &["--version"], "tcpdump records the home link");
    common::require_tool(
        "python3",
        &["-c", "import scapy.all, hmac, hashlib"],
        "python3 with scapy plays the mobile node",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path());
    let socket = dir.path().join("mipdp.sock");
    let mut topo = Topology::new("mip4");
    topo.start_mipdp(&config, &["--stats-interval", "500"]);
    topo.adopt_taps(MAC_CN, MAC_COA, Duration::from_secs(30));
    let (home_mac, away_mac) = {
        let m = topo.mipdp();
        (m.logged_mac("net_tap0"), m.logged_mac("net_tap1"))
    };
    let ha_home_mac = mac_text(home_mac.expect("mipdp logged no MAC for net_tap0"));
    let ha_away_mac = mac_text(away_mac.expect("mipdp logged no MAC for net_tap1"));
    set_up_correspondent(&topo);
    let endpoint = set_up_care_of(&mut topo);
    let capture_path = dir.path().join("home-link.pcap");
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let (ns_b, tap_b) = (topo.ns_b.clone(), topo.tap_b.clone());
    let capture = topo.capture(&ns_a, &tap_a, &capture_path);

    let mut failures = Vec::new();
    let away = |care_of, lifetime, key, identification, sport| Attempt {
        ns: &ns_b,
        iface: &tap_b,
        src_mac: MAC_COA,
        dst_mac: &ha_away_mac,
        src: COA,
        care_of,
        lifetime,
        key,
        identification,
        sport,
    };

    // 0. Nothing intercepts the home address before the mobile registers.
    if let Err(e) = ping_unanswered(&topo, 1) {
        failures.push(format!(
            "before registration the home address answered:\n{e}"
        ));
    }

    // (a) Accepted; the correspondent reaches the mobile through the tunnel and back.
    let first = register(&topo, &away(COA, 300, KEY, None, 49152));
    check_reply(&first, "0", Some("300"), &mut failures, "(a) registration");
    let before = tunnelled(&topo);
    if let Err(e) = topo.ping(&topo.ns_a, HOME, ECHOES) {
        failures.push(format!("(a) ping {HOME} after registration failed:\n{e}"));
    }
    if tunnelled(&topo) < before + ECHOES {
        failures.push(format!(
            "(a) t4 received fewer than {ECHOES} tunnelled packets"
        ));
    }
    let entry = neighbour_entry(&topo);
    if !entry.contains(&format!("lladdr {ha_home_mac}")) {
        failures.push(format!(
            "(a) the correspondent did not resolve {HOME} to the home agent's {ha_home_mac} (proxy ARP): {entry:?}"
        ));
    }

    // (b) The Identification of (a) again, for another care-of address: 133, no change.
    let replayed = away(
        OTHER_COA,
        300,
        KEY,
        Some(field(&first, "identification")),
        49153,
    );
    let reply = register(&topo, &replayed);
    check_reply(&reply, "133", None, &mut failures, "(b) replay");
    still_reaches_the_mobile(&topo, "(b) after the replay", &mut failures);

    // (c) The wrong key: 131, no change.
    let reply = register(&topo, &away(OTHER_COA, 300, WRONG_KEY, None, 49154));
    if field(&reply, "code") != "131" {
        failures.push(format!("(c) wrong key: want code 131, got {reply:?}"));
    }
    still_reaches_the_mobile(&topo, "(c) after the wrong key", &mut failures);

    // (d) More than max_lifetime asked: the reply grants max_lifetime.
    let reply = register(&topo, &away(COA, 1000, KEY, None, 49155));
    let clamped = MAX_LIFETIME.to_string();
    check_reply(
        &reply,
        "0",
        Some(&clamped),
        &mut failures,
        "(d) long lifetime",
    );
    let stats = engine_stats(&socket);
    if counter(&stats, "mip4_bindings") != 1 {
        failures.push(format!("(d) want one binding: {stats}"));
    }

    // (e) Home again: deregistration from the home link with the mobile's own MAC.
    let encaps_before = counter(&engine_stats(&socket), "encap_ipip");
    let tunnelled_before = tunnelled(&topo);
    let home = Attempt {
        ns: &ns_a,
        iface: &tap_a,
        src_mac: MAC_MOBILE,
        dst_mac: &ha_home_mac,
        src: HOME,
        care_of: HOME,
        lifetime: 0,
        key: KEY,
        identification: None,
        sport: 49156,
    };
    let reply = register(&topo, &home);
    check_reply(&reply, "0", Some("0"), &mut failures, "(e) deregistration");
    if field(&reply, "reply_eth_dst") != mac_text(MAC_MOBILE) {
        failures.push(format!(
            "(e) the reply was not framed to the mobile's MAC: {reply:?}"
        ));
    }
    // The correspondent's kernel takes the gratuitous ARP: its entry moves to the mobile.
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
    if counter(&stats, "encap_ipip") != encaps_before || tunnelled(&topo) != tunnelled_before {
        failures.push(format!(
            "(e) packets were still tunnelled after deregistration (encap_ipip {encaps_before} -> {}): {stats}",
            counter(&stats, "encap_ipip")
        ));
    }

    // Both sets of gratuitous ARPs: wait until mipdp says it sent the last, then give
    // tcpdump a moment to write it.
    let deadline = Instant::now() + Duration::from_secs(15);
    while counter(&engine_stats(&socket), "mip4_gratuitous_arps") < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let frames = topo.finish_capture(&capture, usize::MAX, Duration::from_secs(2));
    check_gratuitous_arps(&frames, &ha_home_mac, &mut failures);
    let care_of_lines = endpoint.snapshot();

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    for (key, want) in [
        ("mip4_registered", 2),
        ("mip4_replayed", 1),
        ("mip4_failed_authentication", 1),
        ("mip4_deregistered", 1),
        ("mip4_replies", 5),
        ("mip4_replies_limited", 0),
        ("mip4_replies_abandoned", 0),
        ("mip4_gratuitous_arps", 4),
        ("mip4_bindings", 0),
    ] {
        let n = counter(engine, key);
        if n != want {
            failures.push(format!("final {key}={n}, want {want}"));
        }
    }
    if care_of_lines.iter().any(|l| l.starts_with("refused")) {
        failures.push(format!(
            "tunnel_endpoint.py refused packets:\n{}",
            care_of_lines.join("\n")
        ));
    }
    assert!(
        failures.is_empty(),
        "{}\n--- home link ---\n{}\n{}",
        failures.join("\n"),
        capture.text(),
        finished.transcript()
    );
}

/// The reply has `code`, the `lifetime` (when given), an authenticator that verifies
/// under the mobile's key, and comes from the home agent's address.
fn check_reply(
    reply: &HashMap<String, String>,
    code: &str,
    lifetime: Option<&str>,
    failures: &mut Vec<String>,
    what: &str,
) {
    let ok = field(reply, "code") == code
        && lifetime.is_none_or(|l| field(reply, "lifetime") == l)
        && field(reply, "authentic") == "True"
        && field(reply, "reply_ip_src") == HA;
    if !ok {
        failures.push(format!(
            "{what}: want code {code}, lifetime {lifetime:?}, authentic, from {HA}; got {reply:?}"
        ));
    }
}

/// The binding still points at 192.0.2.7: pings go through the tunnel and come back.
fn still_reaches_the_mobile(topo: &Topology, what: &str, failures: &mut Vec<String>) {
    let before = tunnelled(topo);
    if let Err(e) = topo.ping(&topo.ns_a, HOME, 2) {
        failures.push(format!("{what}: ping {HOME} failed:\n{e}"));
    }
    if tunnelled(topo) < before + 2 {
        failures.push(format!("{what}: the pings did not go through the tunnel"));
    }
}

/// Gratuitous ARPs for the home address on the home link (RFC 5944 §4.6): broadcast ARP
/// requests from the home agent's port with Sender and Target Protocol Address the home
/// address; first two with the home agent's MAC as Sender Hardware Address (the
/// takeover), then two with the mobile's (the return).
fn check_gratuitous_arps(frames: &[Vec<u8>], ha_mac: &str, failures: &mut Vec<String>) {
    let home: std::net::Ipv4Addr = HOME.parse().expect("home address");
    let senders: Vec<String> = frames
        .iter()
        .filter(|f| {
            f.len() >= 42
                && f[..6] == [0xff; 6]
                && mac_text([f[6], f[7], f[8], f[9], f[10], f[11]]) == ha_mac
                && f[12..14] == [8, 6]
                && f[20..22] == [0, 1]
                && f[28..32] == home.octets()
                && f[38..42] == home.octets()
        })
        .map(|f| mac_text([f[22], f[23], f[24], f[25], f[26], f[27]]))
        .collect();
    let mobile = mac_text(MAC_MOBILE);
    let want = vec![
        ha_mac.to_string(),
        ha_mac.to_string(),
        mobile.clone(),
        mobile,
    ];
    if senders != want {
        failures.push(format!(
            "gratuitous ARPs for {HOME} on the home link had sender MACs {senders:?}, want {want:?}"
        ));
    }
}

/// The correspondent on the home link: 10.1.0.50/24, default route via the home agent.
fn set_up_correspondent(topo: &Topology) {
    let (ns, dev) = (topo.ns_a.as_str(), topo.tap_a.as_str());
    for cmd in [
        "ip link set dev lo up",
        "ip addr add 10.1.0.50/24 dev {dev}",
        "ip route add default via 10.1.0.1 dev {dev}",
    ] {
        topo.ns_words(ns, &cmd.replace("{dev}", dev));
    }
}

/// The care-of network: 192.0.2.7/24, the IPIP tunnel end from the home agent (TUN t4
/// with the home address), and replies from the home address reverse-tunnelled.
fn set_up_care_of(topo: &mut Topology) -> Lines {
    let (ns, dev) = (topo.ns_b.clone(), topo.tap_b.clone());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tunnel_endpoint.py");
    let tunnel = format!("t4:ipip:{HA}");
    let (_, out, err) = topo.spawn_in(
        &ns,
        &[
            "python3",
            &script.to_string_lossy(),
            "--local",
            COA,
            "--tunnel",
            &tunnel,
        ],
    );
    assert!(
        out.wait_for(Duration::from_secs(30), |l| l == "ready")
            .is_some(),
        "tunnel_endpoint.py did not start in {ns}:\n{}\n{}",
        out.snapshot().join("\n"),
        err.snapshot().join("\n")
    );
    for cmd in [
        "ip link set dev lo up",
        "sysctl -q -w net.ipv4.conf.all.rp_filter=0",
        "sysctl -q -w net.ipv4.conf.default.rp_filter=0",
        "ip addr add 192.0.2.7/24 dev {dev}",
        "ip route add default via 192.0.2.1 dev {dev}",
        "sysctl -q -w net.ipv6.conf.t4.disable_ipv6=1",
        "sysctl -q -w net.ipv4.conf.t4.rp_filter=0",
        "ip addr add 10.1.0.100/32 dev t4",
        "ip link set dev t4 up",
        "ip rule add from 10.1.0.100 lookup {table}",
        "ip route add default dev t4 table {table}",
    ] {
        let cmd = cmd.replace("{dev}", &dev).replace("{table}", REVERSE_TABLE);
        topo.ns_words(&ns, &cmd);
    }
    out
}
