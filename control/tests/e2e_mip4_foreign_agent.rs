//! The Mobile IPv4 foreign agent end to end (RFC 5944 §2.3, §3.7), with peers mipdp's
//! code did not write (tests/peers/fa_peers.py: scapy frames, struct-packed messages,
//! HMAC-MD5 from Python's hmac): mipdp is the foreign agent between a visited link
//! (port 0, 172.16.0.0/24, its address 172.16.0.1) and the Internet side (port 1,
//! 203.0.113.0/24, its care-of address 203.0.113.1, the home agent 203.0.113.2 played
//! by fa_peers.py home-agent).
//!
//! In order, on one running mipdp:
//! (a) the mobile's agent solicitation is answered by an advertisement framed to its MAC
//!     with TTL 1, the router address, R/F/M/G flags, the registration lifetime, the
//!     care-of address and the prefix length;
//! (b) the mobile registers (with its MN-NAI) through the foreign agent: the home agent
//!     sees the request from the care-of address with the NAI and an MN-HA authenticator
//!     that verifies (the foreign agent changed nothing it covers), answers code 0, and
//!     the foreign agent relays the reply, authentic and with the NAI, to the mobile's MAC
//!     from its own address; the visitor is listed;
//! (c) packets tunnelled IP in IP to the care-of address for the home address are
//!     delivered to the mobile's MAC on the visited link, and periodic advertisements to
//!     224.0.0.1 with rising sequence numbers are seen meanwhile;
//! (r) mipdp, with a `[backup]`, is killed with SIGKILL and started again: the visitor is
//!     restored from the backup (issue 6) and the same packets reach the mobile again with
//!     no registration since the restart;
//! (d) when the granted lifetime runs out the visitor is removed (by the restarted mipdp,
//!     from the stored expiry): the same packets are then dropped and counted
//!     (no_visitor), none reaches the visited link.
//!
//! Needs root, DPDK's net_tap, iproute2 and python3 with scapy. It fails, not skips,
//! without them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{counter, engine_stats, field, key_values, mac_text, Topology};

/// The mobile's MAC (the visited-link namespace's interface, behind port 0).
const MAC_MOBILE: [u8; 6] = [0x02, 0xcc, 0, 0, 0, 0x64];
/// The home agent's MAC (behind port 1).
const MAC_HA: [u8; 6] = [0x02, 0xdd, 0, 0, 0, 0x02];
const FA_LINK: &str = "172.16.0.1";
const CARE_OF: &str = "203.0.113.1";
const HA: &str = "203.0.113.2";
const HOME: &str = "10.1.0.100";
const NAI: &str = "mobile@example.org";
const KEY: &str = "6d697064702d666f726569676e2d6167";
/// The FA-HA key (hexadecimal) and SPI.
const FA_KEY: &str = "66612d68612d6b65792d666f722d6532";
const FA_SPI: &str = "700";
const SPI: &str = "257";
/// Short enough for the test to see it run out, long enough for (b), (c) and the restart
/// of (r) on a loaded machine.
const LIFETIME: u64 = 40;
const PACKETS: u64 = 3;

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
roles = ["foreign-agent"]
addresses = ["{CARE_OF}", "{FA_LINK}"]

[backup]
path = "{backup}"

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

[[route]]
prefix = "172.16.0.0/24"
port = "net_tap0"

[[route]]
prefix = "203.0.113.0/24"
port = "net_tap1"

[[neighbour]]
port = "net_tap1"
address = "{HA}"
mac = "{ha_mac}"

[foreign_agent]
care_of_addresses = ["{CARE_OF}"]
advertisement_interval_ms = 1000
registration_lifetime = 600
prefix_lengths = true
max_visitors = 16
max_pending = 16
reply_wait_ms = 10000
pending_timeout_ms = 30000

[[foreign_agent.link]]
port = "net_tap0"
address = "{FA_LINK}"

# The key shared with the home agent: requests relayed to it carry the Foreign-Home
# Authentication Extension, its replies must too (RFC 5944 §3.5.4, §3.7.3.1).
[[foreign_agent.home_agent]]
address = "{HA}"
spi = {FA_SPI}
key = "{FA_KEY}"
"#,
        ha_mac = mac_text(MAC_HA),
        socket = dir.join("mipdp.sock").display(),
        backup = dir.join("bindings.redb").display(),
    );
    let path = dir.join("foreign-agent.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

fn script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers/fa_peers.py")
        .to_string_lossy()
        .into_owned()
}

/// Runs a fa_peers.py command to completion and returns the key=value words of its last
/// line.
fn peer(topo: &Topology, ns: &str, args: &[&str]) -> HashMap<String, String> {
    let script = script();
    let mut command = vec!["python3", script.as_str()];
    command.extend_from_slice(args);
    let out = topo.ns_output(ns, &command);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "fa_peers.py {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    key_values(stdout.lines().last().unwrap_or(""))
}

/// Polls the stats until `key` reaches `want` or `timeout` passes; the last value.
fn wait_counter(socket: &Path, key: &str, want: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let n = counter(&engine_stats(socket), key);
        if n == want || Instant::now() >= deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Starts a listener on the visited link, sends PACKETS tunnelled packets from the home
/// agent's side, and returns what the listener saw.
fn tunnel_and_listen(
    topo: &mut Topology,
    fa_internet_mac: &str,
    tag: &str,
    want: u64,
    seconds: u64,
) -> HashMap<String, String> {
    let script = script();
    let (ns_a, tap_a, ns_b, tap_b) = (
        topo.ns_a.clone(),
        topo.tap_a.clone(),
        topo.ns_b.clone(),
        topo.tap_b.clone(),
    );
    let (mobile_mac, ha_mac) = (mac_text(MAC_MOBILE), mac_text(MAC_HA));
    let (want, seconds) = (want.to_string(), seconds.to_string());
    let (index, out, err) = topo.spawn_in(
        &ns_a,
        &[
            "python3",
            &script,
            "listen",
            "--iface",
            &tap_a,
            "--mac",
            &mobile_mac,
            "--home",
            HOME,
            "--tag",
            tag,
            "--want",
            &want,
            "--seconds",
            &seconds,
        ],
    );
    assert!(
        out.wait_for(Duration::from_secs(30), |l| l == "ready")
            .is_some(),
        "the listener did not start: {:?} {:?}",
        out.snapshot(),
        err.snapshot()
    );
    let count = PACKETS.to_string();
    peer(
        topo,
        &ns_b,
        &[
            "tunnel",
            "--iface",
            &tap_b,
            "--src-mac",
            &ha_mac,
            "--dst-mac",
            fa_internet_mac,
            "--src",
            HA,
            "--dst",
            CARE_OF,
            "--home",
            HOME,
            "--count",
            &count,
            "--tag",
            tag,
        ],
    );
    let line = out
        .wait_for(Duration::from_secs(60), |l| l.starts_with("delivered="))
        .unwrap_or_else(|| panic!("the listener printed no result: {:?}", err.snapshot()));
    topo.stop_helper(index);
    key_values(&line)
}

#[test]
fn mobile_discovers_registers_through_the_foreign_agent_receives_tunnelled_packets_until_expiry() {
    common::require_root("e2e_mip4_foreign_agent");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool(
        "python3",
        &["-c", "import scapy.all, hmac, hashlib"],
        "python3 with scapy plays the mobile and the home agent",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path());
    let socket = dir.path().join("mipdp.sock");
    let mut topo = Topology::new("fa");
    topo.start_mipdp(&config, &["--stats-interval", "500"]);
    topo.adopt_taps(MAC_MOBILE, MAC_HA, Duration::from_secs(30));
    let (link_mac, internet_mac) = {
        let m = topo.mipdp();
        (m.logged_mac("net_tap0"), m.logged_mac("net_tap1"))
    };
    let fa_link_mac = mac_text(link_mac.expect("mipdp logged no MAC for net_tap0"));
    let fa_internet_mac = mac_text(internet_mac.expect("mipdp logged no MAC for net_tap1"));
    let (ns_a, tap_a, ns_b, tap_b) = (
        topo.ns_a.clone(),
        topo.tap_a.clone(),
        topo.ns_b.clone(),
        topo.tap_b.clone(),
    );
    for (ns, dev) in [(&ns_a, &tap_a), (&ns_b, &tap_b)] {
        topo.ns_words(ns, "ip link set dev lo up");
        topo.ns_words(
            ns,
            &format!("sysctl -q -w net.ipv6.conf.{dev}.disable_ipv6=1"),
        );
    }
    let script = script();
    let ha_mac = mac_text(MAC_HA);
    let (_, ha_out, ha_err) = topo.spawn_in(
        &ns_b,
        &[
            "python3",
            &script,
            "home-agent",
            "--iface",
            &tap_b,
            "--mac",
            &ha_mac,
            "--home-agent",
            HA,
            "--spi",
            SPI,
            "--key",
            KEY,
            "--fa-key",
            FA_KEY,
            "--fa-spi",
            FA_SPI,
        ],
    );
    assert!(
        ha_out
            .wait_for(Duration::from_secs(30), |l| l == "ready")
            .is_some(),
        "the home agent did not start: {:?}",
        ha_err.snapshot()
    );
    let mut failures = Vec::new();
    let mobile_mac = mac_text(MAC_MOBILE);

    // (a) Solicitation → advertisement.
    let ad = peer(
        &topo,
        &ns_a,
        &[
            "solicit",
            "--iface",
            &tap_a,
            "--mac",
            &mobile_mac,
            "--timeout",
            "20",
        ],
    );
    for (key, want) in [
        ("advertisement", "yes"),
        ("code", "0"),
        ("ttl", "1"),
        ("ip_src", FA_LINK),
        ("eth_src", fa_link_mac.as_str()),
        ("routers", FA_LINK),
        ("checksum_ok", "True"),
        ("registration_lifetime", "600"),
        // R, F, M, G.
        ("flags", "9c00"),
        ("care_of", CARE_OF),
        ("prefix_lengths", "24"),
        ("lifetime", "3"),
    ] {
        if field(&ad, key) != want {
            failures.push(format!(
                "(a) advertisement {key}={}, want {want}: {ad:?}",
                field(&ad, key)
            ));
        }
    }

    // (b) Registration through the foreign agent.
    let lifetime = LIFETIME.to_string();
    let reply = peer(
        &topo,
        &ns_a,
        &[
            "register",
            "--iface",
            &tap_a,
            "--mac",
            &mobile_mac,
            "--fa-mac",
            &fa_link_mac,
            "--fa",
            FA_LINK,
            "--home",
            HOME,
            "--home-agent",
            HA,
            "--care-of",
            CARE_OF,
            "--lifetime",
            &lifetime,
            "--spi",
            SPI,
            "--key",
            KEY,
            "--nai",
            NAI,
            "--timeout",
            "30",
        ],
    );
    for (key, want) in [
        ("code", "0"),
        ("lifetime", lifetime.as_str()),
        ("id_match", "True"),
        ("authentic", "True"),
        ("nai", NAI),
        // The foreign agent removed the FA-HA extension after MN-HA (RFC 5944 §3.7.3.2).
        ("after_mn_ha", "0"),
        ("ip_src", FA_LINK),
        ("ip_dst", HOME),
        ("eth_dst", mobile_mac.as_str()),
    ] {
        if field(&reply, key) != want {
            failures.push(format!(
                "(b) reply {key}={}, want {want}: {reply:?}",
                field(&reply, key)
            ));
        }
    }
    let registered = Instant::now();
    let seen = ha_out
        .wait_for(Duration::from_secs(5), |l| l.starts_with("request "))
        .unwrap_or_default();
    let seen = key_values(seen.trim_start_matches("request "));
    for (key, want) in [
        ("src", CARE_OF),
        ("sport", "434"),
        ("care_of", CARE_OF),
        ("authentic", "True"),
        // scapy's home agent checked mipdp's Foreign-Home authenticator with Python's hmac.
        ("fa_authentic", "True"),
        ("nai", NAI),
    ] {
        if field(&seen, key) != want {
            failures.push(format!(
                "(b) the home agent saw {key}={}, want {want}: {seen:?}",
                field(&seen, key)
            ));
        }
    }
    let stats = engine_stats(&socket);
    for (key, want) in [("fa_relayed", 1), ("fa_accepted", 1), ("fa_visitors", 1)] {
        if counter(&stats, key) != want {
            failures.push(format!(
                "(b) {key}={}, want {want}: {stats}",
                counter(&stats, key)
            ));
        }
    }

    // (c) Tunnelled packets reach the mobile; periodic advertisements go on.
    let seen = tunnel_and_listen(&mut topo, &fa_internet_mac, "before-expiry", PACKETS, 10);
    if field(&seen, "delivered") != PACKETS.to_string() {
        failures.push(format!(
            "(c) want {PACKETS} packets delivered to the mobile: {seen:?}"
        ));
    }
    let sequences: Vec<u64> = field(&seen, "sequences")
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    if sequences.is_empty() || sequences.windows(2).any(|w| w[1] <= w[0]) {
        failures.push(format!(
            "(c) want periodic advertisements with rising sequence numbers: {seen:?}"
        ));
    }

    // (r) A crash, and a start with the same configuration and backup: the visitor is
    // back and delivered to with no registration since.
    let killed = topo.kill_mipdp();
    topo.start_mipdp(&config, &["--stats-interval", "500"]);
    topo.adopt_taps(MAC_MOBILE, MAC_HA, Duration::from_secs(30));
    let internet_mac = topo.mipdp().logged_mac("net_tap1");
    let fa_internet_mac = mac_text(internet_mac.expect("mipdp logged no MAC for net_tap1"));
    let stats = engine_stats(&socket);
    for (key, want) in [("fa_visitors", 1), ("fa_accepted", 0), ("fa_relayed", 0)] {
        if counter(&stats, key) != want {
            failures.push(format!(
                "(r) after the restart {key}={}, want {want}: {stats}",
                counter(&stats, key)
            ));
        }
    }
    let seen = tunnel_and_listen(&mut topo, &fa_internet_mac, "after-restart", PACKETS, 10);
    if field(&seen, "delivered") != PACKETS.to_string() {
        failures.push(format!(
            "(r) want {PACKETS} packets delivered to the restored visitor: {seen:?}"
        ));
    }
    if registered.elapsed() >= Duration::from_secs(LIFETIME) {
        failures.push(
            "(c, r) took longer than the lifetime: the machine is too slow for this test".into(),
        );
    }

    // (d) Expiry removes the visitor; the same packets are then dropped.
    let left = wait_counter(
        &socket,
        "fa_visitors",
        0,
        Duration::from_secs(LIFETIME + 30),
    );
    if left != 0 {
        failures.push(format!(
            "(d) the visitor was not removed after its lifetime: fa_visitors={left}"
        ));
    }
    let seen = tunnel_and_listen(&mut topo, &fa_internet_mac, "after-expiry", 0, 3);
    if field(&seen, "delivered") != "0" {
        failures.push(format!(
            "(d) packets still reached the mobile after expiry: {seen:?}"
        ));
    }

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let transcript = finished.transcript();
    if !transcript.contains("1 stored, 0 lapsed while down (deleted), 1 restored") {
        failures.push("the restarted mipdp did not log the visitor restored".into());
    }
    // The restarted mipdp's counters: it relayed nothing and expired the restored visitor.
    let engine = finished.final_engine();
    for (key, want) in [
        ("fa_expiries", 1),
        ("fa_replies", 0),
        ("fa_visitors", 0),
        ("fa_pending", 0),
    ] {
        if counter(engine, key) != want {
            failures.push(format!("final {key}={}, want {want}", counter(engine, key)));
        }
    }
    if counter(engine, "fa_advertisements") < 2 {
        failures.push(format!("final: want periodic advertisements: {engine}"));
    }
    let dropped = counter(finished.final_drops(), "no_visitor");
    if dropped != PACKETS {
        failures.push(format!(
            "final no_visitor={dropped}, want {PACKETS} (the packets after expiry, none before)"
        ));
    }
    assert!(
        failures.is_empty(),
        "{}\n--- home agent ---\n{}\n--- before the kill ---\n{}\n--- after the restart ---\n{}",
        failures.join("\n"),
        ha_out.snapshot().join("\n"),
        killed.transcript(),
        transcript
    );
}
