//! End to end with the Linux kernel as the peer: mipdp, a home agent (RFC 5944, RFC 6275),
//! stands between a correspondent namespace on the home link (port 0: 10.1.0.0/24,
//! 2001:db8:1::/64; the correspondent is 10.1.0.50 and 2001:db8:1::50) and a care-of
//! namespace (port 1: 192.0.2.0/24, 2001:db8:2::/64; care-of addresses 192.0.2.7 and
//! 2001:db8:2::7) where three away mobiles live. The correspondent pings each mobile's home
//! address; mipdp answers ARP for it (proxy ARP), tunnels the echo request to the care-of
//! address, the care-of namespace decapsulates it and its kernel answers; the reply comes
//! back through mipdp.
//!
//! | home address    | tunnel, outer source          | decapsulated by           | reply          |
//! |-----------------|-------------------------------|---------------------------|----------------|
//! | 10.1.0.100      | IPIP, 10.1.0.1                | TUN t4 + tunnel_endpoint  | IPIP tunnel    |
//! | 10.1.0.101      | GRE, 192.0.2.1                | TUN g4 + tunnel_endpoint  | routed plainly |
//! | 2001:db8:1::100 | IPv6 in IPv6, 2001:db8:1::1   | kernel SRv6 End.DT6 route | IPv6 in IPv6   |
//!
//! The replies take both ways RFC 5944 allows: 10.1.0.101 answers straight to the
//! correspondent (mipdp routes it), the others reverse-tunnel to the home agent (RFC 5944
//! §3.8.3.1, RFC 6275 §10.4.5), whose home-agent role decapsulates and routes them.
//!
//! Outer sources: a binding's tunnels start from the node's first address of the family
//! (the home agent address on the home link, 10.1.0.1 / 2001:db8:1::1) unless it gives
//! `source`; the GRE binding gives `source = "192.0.2.1"` so both ways are covered. The
//! care-of side accepts a tunnel only from the address it was set up with (as the kernel's
//! tunnel devices match their `remote`), so a wrong outer source fails the test.
//!
//! The kernels of the development and CI machines have no IPv4 or IPv6 tunnel devices
//! (CONFIG_NET_IPIP, CONFIG_NET_IPGRE and CONFIG_IPV6_TUNNEL are off, and there are no
//! modules), so `ip tunnel` cannot be used:
//! - IPv6 in IPv6 is decapsulated by the kernel itself, by an SRv6 End.DT6 route for the
//!   care-of address (RFC 8986 End.DT6: it takes plain IPv6-in-IPv6 packets, here with the
//!   RFC 2473 encapsulation limit option mipdp adds, and looks the inner destination up in
//!   the local table); the reply is encapsulated by the kernel's seg6 `encap.red` route,
//!   which for a single segment is plain IPv6 in IPv6 (no routing header).
//! - IPIP and GRE are decapsulated by tests/peers/tunnel_endpoint.py: raw sockets take
//!   protocols 4 and 47 for the care-of address from the kernel (which has checked the
//!   outer header), the script checks the tunnel header and writes the inner packet into a
//!   TUN interface, where the kernel receives it like a tunnel device's output.
//!
//! The correspondent finds the IPv6 home address by real neighbour discovery (mipdp
//! answers the solicitations as the home address's proxy) and the IPv4 home addresses by
//! ARP (proxy ARP). mipdp does not send neighbour
//! solicitations yet, so its own IPv6 neighbours, and the care-of namespace's, are static;
//! its IPv4 neighbours are static too, so the first echo request does not wait for an ARP
//! exchange. The care-of namespace's IPv6 address sits on `lo` (the End.DT6 route owns
//! the care-of address). The namespaces' link-local traffic (MLD reports, router
//! solicitations) goes to mipdp's control thread, which counts it.
//!
//! Needs root, DPDK's net_tap (/dev/net/tun), iproute2, ping (iputils), python3 and a
//! kernel with SRv6 (CONFIG_IPV6_SEG6_LWTUNNEL). It fails, not skips, without them.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{counter, mac_text, Lines, Topology};

/// MAC of the correspondent's interface (behind DPDK port 0, net_tap0).
const MAC_CN: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x50];
/// MAC of the care-of namespace's interface (behind DPDK port 1, net_tap1).
const MAC_COA: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x07];
/// Echo requests per home address.
const ECHOES: u64 = 3;
/// The care-of namespace's routing table for reverse-tunnelled replies.
const REVERSE_TABLE: &str = "100";

/// One away mobile: its home address and the engine counters its traffic must move.
struct Mobile {
    home: &'static str,
    /// Encapsulations toward the care-of address.
    encap: &'static str,
    /// Decapsulations of its replies (`None`: they are routed, not tunnelled).
    reverse: Option<&'static str>,
}

const MOBILES: [Mobile; 3] = [
    Mobile {
        home: "10.1.0.100",
        encap: "encap_ipip",
        reverse: Some("decap_ipip"),
    },
    Mobile {
        home: "10.1.0.101",
        encap: "encap_gre",
        reverse: None,
    },
    Mobile {
        home: "2001:db8:1::100",
        encap: "encap_ip6ip6",
        reverse: Some("decap_ip6ip6"),
    },
];

fn home_agent_config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"[dataplane]
mode = "mobility"
workers = [1]
mbufs = 8191
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000
# Not the default /run/mipdp.sock, which another mipdp may hold.
control_socket = "{socket}"

[node]
roles = ["home-agent"]
addresses = ["10.1.0.1", "192.0.2.1", "2001:db8:1::1", "2001:db8:2::1"]
proxy_arp = true
# 10.1.0.101's binding (GRE from 192.0.2.1) is a line of this file, loaded beside the
# [[binding]] sections.
bindings_file = "bindings.txt"

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

[[route]]
prefix = "2001:db8:1::/64"
port = "net_tap0"

[[route]]
prefix = "2001:db8:2::/64"
port = "net_tap1"

[[neighbour]]
port = "net_tap0"
address = "10.1.0.50"
mac = "{cn}"

[[neighbour]]
port = "net_tap0"
address = "2001:db8:1::50"
mac = "{cn}"

[[neighbour]]
port = "net_tap1"
address = "192.0.2.7"
mac = "{coa}"

[[neighbour]]
port = "net_tap1"
address = "2001:db8:2::7"
mac = "{coa}"

# Outer source 10.1.0.1, the first IPv4 address.
[[binding]]
home = "10.1.0.100"
care_of = ["192.0.2.7"]
encap = "ipip"

# IPv6 in IPv6 from 2001:db8:1::1, the first IPv6 address.
[[binding]]
home = "2001:db8:1::100"
care_of = ["2001:db8:2::7"]
encap = "ipip"
"#,
        cn = mac_text(MAC_CN),
        coa = mac_text(MAC_COA),
        socket = dir.join("mipdp.sock").display(),
    );
    std::fs::write(
        dir.join("bindings.txt"),
        "# home care-of method source\n10.1.0.101 192.0.2.7 gre source=192.0.2.1\n",
    )
    .expect("write the bindings file");
    let path = dir.join("home-agent.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

#[test]
fn correspondent_pings_away_mobiles_through_ipip_gre_and_ip6ip6_tunnels() {
    common::require_root("correspondent_pings_away_mobiles_through_ipip_gre_and_ip6ip6_tunnels");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool("ping", &["-V"], "ping (iputils) is the correspondent");
    common::require_tool(
        "python3",
        &["-c", "import fcntl, select, socket"],
        "python3 runs the IPIP/GRE tunnel end point",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let config = home_agent_config(dir.path());
    let mut topo = Topology::new("ha");
    topo.start_mipdp(&config, &["--stats-interval", "100"]);
    topo.adopt_taps(MAC_CN, MAC_COA, Duration::from_secs(20));
    let (home_mac, away_mac) = {
        let m = topo.mipdp();
        (m.logged_mac("net_tap0"), m.logged_mac("net_tap1"))
    };
    let ha_home_mac = mac_text(home_mac.expect("mipdp logged no MAC for net_tap0"));
    let ha_away_mac = mac_text(away_mac.expect("mipdp logged no MAC for net_tap1"));

    set_up_correspondent(&topo, &ha_home_mac);
    let endpoint = set_up_care_of(&mut topo, &ha_away_mac);
    // Drops before this (the taps' kernel chatter before they moved into the namespaces)
    // are not the test's.
    let drops_before = common::settled_drops(topo.mipdp());

    let mut failures = Vec::new();
    for m in &MOBILES {
        if let Err(e) = topo.ping(&topo.ns_a, m.home, ECHOES) {
            failures.push(format!("ping {} failed:\n{e}", m.home));
        }
    }
    check_care_of_side(&topo, &endpoint, &mut failures);
    check_proxy_arp(&topo, &ha_home_mac, &mut failures);
    // Before mipdp stops: its tap interfaces go with it.
    let care_of = care_of_state(&topo);

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    for m in &MOBILES {
        let n = counter(engine, m.encap);
        if n < ECHOES {
            failures.push(format!("{}: {}={n}, want >= {ECHOES}", m.home, m.encap));
        }
        if let Some(key) = m.reverse {
            let n = counter(engine, key);
            if n < ECHOES {
                failures.push(format!("{} replies: {key}={n}, want >= {ECHOES}", m.home));
            }
        }
    }
    // At start, one gratuitous ARP or unsolicited neighbour advertisement per static
    // home address on a connected prefix: 10.1.0.100, 10.1.0.101 and 2001:db8:1::100,
    // all on the home link.
    let announced = counter(engine, "ctl_announcements");
    if announced != 3 {
        failures.push(format!(
            "ctl_announcements={announced}: want 3, one per static home address"
        ));
    }
    if counter(engine, "decap_gre") != 0 {
        failures.push("decap_gre > 0: 10.1.0.101's replies were to be routed plainly".into());
    }
    failures.extend(common::new_drops(&drops_before, finished.final_drops()));
    assert!(
        failures.is_empty(),
        "{}\n--- care-of namespace ---\n{}\n--- tunnel_endpoint.py ---\n{}\n{}",
        failures.join("\n"),
        care_of,
        endpoint.snapshot().join("\n"),
        finished.transcript()
    );
}

/// The correspondent on the home link: 10.1.0.50/24 and 2001:db8:1::50/64 on its
/// interface (the home addresses are on link: it resolves them with ARP and neighbour
/// discovery, and mipdp answers as their proxy), default routes via the home agent.
fn set_up_correspondent(topo: &Topology, ha_mac: &str) {
    let (ns, dev) = (topo.ns_a.as_str(), topo.tap_a.as_str());
    topo.enable_ipv6_quietly(ns, dev);
    for cmd in [
        "ip link set dev lo up",
        "ip addr add 10.1.0.50/24 dev {dev}",
        "ip route add default via 10.1.0.1 dev {dev}",
        "ip -6 addr add 2001:db8:1::50/64 dev {dev} nodad",
        "ip -6 route add default via 2001:db8:1::1 dev {dev}",
    ] {
        topo.ns_words(ns, &cmd.replace("{dev}", dev).replace("{mac}", ha_mac));
    }
}

/// The care-of namespace: 192.0.2.7/24 and the mobiles behind their tunnel ends (see the
/// module comment). Returns the tunnel end point's output.
fn set_up_care_of(topo: &mut Topology, ha_mac: &str) -> Lines {
    let (ns, dev) = (topo.ns_b.clone(), topo.tap_b.clone());
    topo.enable_ipv6_quietly(&ns, &dev);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tunnel_endpoint.py");
    let (_, out, err) = topo.spawn_in(
        &ns,
        &[
            "python3",
            &script.to_string_lossy(),
            "--local",
            "192.0.2.7",
            "--tunnel",
            "t4:ipip:10.1.0.1",
            "--tunnel",
            "g4:gre:192.0.2.1",
        ],
    );
    assert!(
        out.wait_for(Duration::from_secs(20), |l| l == "ready")
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
        // The TUN tunnel ends carry IPv4 only.
        "sysctl -q -w net.ipv6.conf.t4.disable_ipv6=1",
        "sysctl -q -w net.ipv6.conf.g4.disable_ipv6=1",
        "sysctl -q -w net.ipv4.conf.t4.rp_filter=0",
        "sysctl -q -w net.ipv4.conf.g4.rp_filter=0",
        "ip addr add 10.1.0.100/32 dev t4",
        "ip addr add 10.1.0.101/32 dev g4",
        "ip link set dev t4 up",
        "ip link set dev g4 up",
        // 10.1.0.100 reverse-tunnels; 10.1.0.101 answers by the default route.
        "ip rule add from 10.1.0.100 lookup {table}",
        "ip route add default dev t4 table {table}",
        // IPv6: no address on the link; the care-of address is the End.DT6 route's.
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
            .replace("{dev}", &dev)
            .replace("{mac}", ha_mac)
            .replace("{table}", REVERSE_TABLE);
        topo.ns_words(&ns, &cmd);
    }
    out
}

/// The care-of side did the decapsulating: the TUN tunnel ends received (and t4 sent) the
/// packets, the End.DT6 route counted them without errors, and the tunnel end point
/// refused nothing.
fn check_care_of_side(topo: &Topology, endpoint: &Lines, failures: &mut Vec<String>) {
    let ns = &topo.ns_b;
    let stat = |dev: &str, what: &str| -> u64 {
        let path = format!("/sys/class/net/{dev}/statistics/{what}");
        let out = topo.ns_run(ns, &["cat", &path]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{path} in {ns}: {e}"))
    };
    for (dev, what) in [
        ("t4", "rx_packets"),
        ("t4", "tx_packets"),
        ("g4", "rx_packets"),
    ] {
        let n = stat(dev, what);
        if n < ECHOES {
            failures.push(format!("care-of {dev} {what}={n}, want >= {ECHOES}"));
        }
    }
    let out = topo.ns_run(
        ns,
        &["ip", "-s", "-6", "route", "show", "2001:db8:2::7/128"],
    );
    let route = String::from_utf8_lossy(&out.stdout).into_owned();
    match common::seg6local_counts(&route) {
        Some((p, 0)) if p >= ECHOES => {}
        _ => failures.push(format!(
            "the End.DT6 route did not decapsulate {ECHOES} packets without errors: {route}"
        )),
    }
    let refused: Vec<String> = endpoint
        .snapshot()
        .into_iter()
        .filter(|l| l.starts_with("refused"))
        .collect();
    if !refused.is_empty() {
        failures.push(format!(
            "tunnel_endpoint.py refused packets:\n{}",
            refused.join("\n")
        ));
    }
}

/// The correspondent resolved the home addresses to mipdp's home-link MAC (proxy ARP,
/// RFC 5944 §4.6; proxy neighbour discovery, RFC 6275 §10.4.1).
fn check_proxy_arp(topo: &Topology, ha_mac: &str, failures: &mut Vec<String>) {
    for home in ["10.1.0.100", "10.1.0.101", "2001:db8:1::100"] {
        let out = topo.ns_run(&topo.ns_a, &["ip", "neigh", "show", home]);
        let text = String::from_utf8_lossy(&out.stdout);
        if !text.contains(&format!("lladdr {ha_mac}")) {
            failures.push(format!(
                "the correspondent's neighbour entry for {home} is not mipdp's {ha_mac}: {text:?}"
            ));
        }
    }
}

/// Links, addresses and routes of the care-of namespace, for failure messages.
fn care_of_state(topo: &Topology) -> String {
    topo.ns_state(
        &topo.ns_b,
        &[
            "ip -s link",
            "ip addr",
            "ip rule",
            "ip route show table all",
            "ip -6 rule",
            "ip -s -6 route show table all",
        ],
    )
}
