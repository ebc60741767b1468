//! Restart keeps forwarding (issue 6, recovery step 1), end to end with peers mipdp's
//! code did not write, on the topology of e2e_mip4_registration.rs: mipdp is a Mobile
//! IPv4 home agent with a `[backup]`; the mobile node (tests/peers/mip4_mobile.py, its
//! own HMAC-MD5) registers from the care-of network and the correspondent's pings reach
//! it through the tunnel. Then mipdp is killed with SIGKILL and started again:
//! - without any new registration the correspondent's pings are tunnelled to the mobile
//!   again (restored and installed on the workers before the node answers);
//! - `mipdp ctl show bindings` lists the binding, care-of address and all;
//! - the registration captured before the restart, replayed after it (inside the
//!   timestamp tolerance, here 600 s), is refused with 133 as a replay and changes
//!   nothing: the replay state was restored with the binding.
//!
//! Needs root, DPDK's net_tap, iproute2, ping and python3 with scapy (all from
//! scripts/install-deps.sh). It fails, not skips, without them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{counter, ctl_ok, engine_stats, field, key_values, mac_text, Lines, Topology};

/// MAC of the correspondent's interface (behind DPDK port 0, the home link).
const MAC_CN: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x50];
/// MAC of the care-of namespace's interface (behind DPDK port 1).
const MAC_COA: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x07];
const HA: &str = "10.1.0.1";
const HOME: &str = "10.1.0.100";
const COA: &str = "192.0.2.7";
/// A care-of address nobody has: a binding to it would make the pings fail.
const OTHER_COA: &str = "192.0.2.99";
const KEY: &str = "6d697064702d6d697034686120746573";
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

[backup]
path = "{backup}"

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
# Wide, so that a replay after the restart is inside it: only the restored replay state
# refuses it.
timestamp_tolerance_s = 600
"#,
        cn = mac_text(MAC_CN),
        coa = mac_text(MAC_COA),
        socket = dir.join("mipdp.sock").display(),
        backup = dir.join("bindings.redb").display(),
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

#[test]
fn a_restarted_home_agent_forwards_without_reregistration_and_refuses_a_replay() {
    common::require_root("e2e_backup_restart");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool("ping", &["-V"], "ping (iputils) is the correspondent");
    common::require_tool(
        "python3",
        &["-c", "import scapy.all, hmac, hashlib"],
        "python3 with scapy plays the mobile node",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path());
    let socket = dir.path().join("mipdp.sock");
    let mut topo = Topology::new("restart");
    topo.start_mipdp(&config, &[]);
    topo.adopt_taps(MAC_CN, MAC_COA, Duration::from_secs(30));
    let away_mac = topo.mipdp().logged_mac("net_tap1");
    let ha_away_mac = mac_text(away_mac.expect("mipdp logged no MAC for net_tap1"));
    set_up_links(&topo);
    let endpoint = start_tunnel_endpoint(&mut topo);
    let (ns_b, tap_b) = (topo.ns_b.clone(), topo.tap_b.clone());
    let mut failures = Vec::new();

    // Registered, and reached through the tunnel.
    let first = register(
        &topo,
        &Attempt {
            ns: &ns_b,
            iface: &tap_b,
            src_mac: MAC_COA,
            dst_mac: &ha_away_mac,
            src: COA,
            care_of: COA,
            lifetime: 300,
            key: KEY,
            identification: None,
            sport: 49152,
        },
    );
    check_reply(&first, "0", Some("300"), &mut failures, "registration");
    let before = tunnelled(&topo);
    if let Err(e) = reaches(&topo, ECHOES) {
        failures.push(format!("ping {HOME} after registration failed:\n{e}"));
    }
    if tunnelled(&topo) < before + ECHOES {
        failures.push("fewer tunnelled packets than echoes before the restart".into());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A crash, and a start with the same configuration and backup.
    let killed = topo.kill_mipdp();
    topo.start_mipdp(&config, &[]);
    topo.adopt_taps(MAC_CN, MAC_COA, Duration::from_secs(30));
    let away_mac = topo.mipdp().logged_mac("net_tap1");
    let ha_away_mac = mac_text(away_mac.expect("mipdp logged no MAC for net_tap1"));
    set_up_links(&topo);

    // Forwarding again, with no registration since the restart.
    let before = tunnelled(&topo);
    if let Err(e) = reaches(&topo, ECHOES) {
        failures.push(format!("ping {HOME} after the restart failed:\n{e}"));
    }
    if tunnelled(&topo) < before + ECHOES {
        failures.push("the pings after the restart were not tunnelled to the mobile".into());
    }
    let shown = ctl_ok(&socket, &["show", "bindings"]);
    if !shown
        .lines()
        .any(|l| l.contains(&format!("home={HOME} care_of={COA} ")))
        || !shown.contains("bindings total=1 shown=1")
    {
        failures.push(format!(
            "mipdp ctl show bindings after the restart:\n{shown}"
        ));
    }
    if counter(&engine_stats(&socket), "mip4_registered") != 0 {
        failures.push("a registration was counted after the restart".into());
    }

    // The captured registration again, to move the binding elsewhere: refused.
    let replayed = register(
        &topo,
        &Attempt {
            ns: &ns_b,
            iface: &tap_b,
            src_mac: MAC_COA,
            dst_mac: &ha_away_mac,
            src: COA,
            care_of: OTHER_COA,
            lifetime: 300,
            key: KEY,
            identification: Some(field(&first, "identification")),
            sport: 49153,
        },
    );
    check_reply(
        &replayed,
        "133",
        None,
        &mut failures,
        "replay after the restart",
    );
    let before = tunnelled(&topo);
    if let Err(e) = reaches(&topo, 2) {
        failures.push(format!("ping {HOME} after the replay failed:\n{e}"));
    }
    if tunnelled(&topo) < before + 2 {
        failures.push("after the replay the pings no longer reach the mobile".into());
    }
    let care_of_lines = endpoint.snapshot();
    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    for (key, want) in [
        ("mip4_registered", 0),
        ("mip4_replayed", 1),
        ("mip4_bindings", 1),
        ("mip4_replies_abandoned", 0),
        ("backup_failures", 0),
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
        "{}\n--- before the kill ---\n{}\n--- after the restart ---\n{}",
        failures.join("\n"),
        killed.transcript(),
        finished.transcript()
    );
}

/// The addresses and routes on the two tap interfaces (again after a restart: they are
/// new interfaces). The correspondent: 10.1.0.50/24, default route via the home agent;
/// the care-of network: 192.0.2.7/24, default route via the home agent's 192.0.2.1.
fn set_up_links(topo: &Topology) {
    for (ns, dev, cmds) in [
        (
            topo.ns_a.as_str(),
            topo.tap_a.as_str(),
            [
                "ip link set dev lo up",
                "ip addr add 10.1.0.50/24 dev {dev}",
                "ip route add default via 10.1.0.1 dev {dev}",
            ],
        ),
        (
            topo.ns_b.as_str(),
            topo.tap_b.as_str(),
            [
                "ip link set dev lo up",
                "ip addr add 192.0.2.7/24 dev {dev}",
                "ip route add default via 192.0.2.1 dev {dev}",
            ],
        ),
    ] {
        for cmd in cmds {
            topo.ns_words(ns, &cmd.replace("{dev}", dev));
        }
    }
}

/// The IPIP tunnel end from the home agent in the care-of namespace (TUN t4 with the
/// home address), replies from the home address reverse-tunnelled; it outlives mipdp.
fn start_tunnel_endpoint(topo: &mut Topology) -> Lines {
    let ns = topo.ns_b.clone();
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
        "sysctl -q -w net.ipv4.conf.all.rp_filter=0",
        "sysctl -q -w net.ipv4.conf.default.rp_filter=0",
        "sysctl -q -w net.ipv6.conf.t4.disable_ipv6=1",
        "sysctl -q -w net.ipv4.conf.t4.rp_filter=0",
        "ip addr add 10.1.0.100/32 dev t4",
        "ip link set dev t4 up",
        "ip rule add from 10.1.0.100 lookup {table}",
        "ip route add default dev t4 table {table}",
    ] {
        topo.ns_words(&ns, &cmd.replace("{table}", REVERSE_TABLE));
    }
    out
}

/// Whether at least `count` of the correspondent's echoes to the home address come back
/// (however late: a loaded machine may delay the first ones while neighbours resolve).
fn reaches(topo: &Topology, count: u64) -> Result<(), String> {
    let n = count.to_string();
    let out = topo.ns_output(
        &topo.ns_a,
        &[
            "ping", "-4", "-n", "-c", &n, "-i", "0.2", "-W", "5", "-w", "20", HOME,
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let received = text
        .split(" received")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    if received >= count {
        Ok(())
    } else {
        Err(text)
    }
}
