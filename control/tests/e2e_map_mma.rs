//! End to end with the Linux kernel as the peer: mipdp as an HMIPv6 mobility anchor point
//! (MAP, RFC 5380) and as a multicast mobility management agent (MMA), each between two
//! namespaces on its two DPDK tap ports.
//!
//! MAP. Port 0 is the access link (2001:db8:10::/64) where a mobile has its on-link care-of
//! address (LCoA) 2001:db8:10::42; port 1 leads to a correspondent (2001:db8:20::50). The
//! MAP anchors 2001:db8:aaaa::/64 and holds the local binding RCoA 2001:db8:aaaa::42 →
//! LCoA. The correspondent pings the regional care-of address (RCoA); mipdp tunnels each
//! echo request IPv6-in-IPv6 from its address 2001:db8:aaaa::1 to the LCoA (§6: the MAP
//! acts as a local home agent); the mobile's kernel decapsulates it (SRv6 End.DT6 on the
//! LCoA, as in e2e_home_agent) and answers from the RCoA (on `lo`) through a reverse tunnel
//! from the LCoA to the MAP's address (seg6 `encap.red`, one segment: plain IPv6 in IPv6,
//! RFC 5380 §6.2), which mipdp's map role decapsulates and routes to the correspondent.
//!
//! MMA. Port 1 leads to a home agent (2001:db8:50::50), port 0 is the site's access
//! network. The home agent tunnels packets for two mobiles' home addresses with the
//! kernel's seg6 `encap.red` (plain IPv6 in IPv6): for 2001:db8:1::100 to the care-of
//! address 2001:db8:cc:1::100 the MMA handed out (in `node.care_of_prefixes`), for
//! 2001:db8:1::101 to the MMA's own address 2001:db8:cc::1. mipdp decapsulates both and
//! re-tunnels each inner packet by its multicast map: the first mobile's to its
//! unicast-prefix-based group ff3e:30:2001:db8:211:22ff:fe33:4455 (RFC 3306), sent to
//! 33:33:fe:33:44:55 (RFC 2464 §7); the second mobile, which moved to the MMA
//! 2001:db8:dd::1 on the access network, as unicast IPv6 in IPv6 to it (that entry comes
//! from the MMA's `node.multicast_file`, the first from a `[[multicast]]` section). tcpdump captures
//! both sides, and each re-tunnelled inner packet must be the one the home agent sent (hop
//! limit one less: the tunnel entry point forwards it, RFC 2473 §3.1).
//!
//! mipdp does not send neighbour solicitations, so its next hops are static neighbours.
//! The correspondent finds mipdp by real neighbour discovery; the mobile (no address on
//! its link) and the home agent (see `set_up_home_agent`) have a static entry for it. The
//! kernels here have no ip6tnl devices, hence SRv6 for both tunnel directions (see
//! e2e_home_agent).
//!
//! Needs root, DPDK's net_tap (/dev/net/tun), iproute2, ping (iputils), tcpdump, python3
//! and a kernel with SRv6 (CONFIG_IPV6_SEG6_LWTUNNEL). It fails, not skips, without them.

mod common;

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{counter, mac_text, Topology};

/// Packets per flow.
const COUNT: u64 = 3;

/// MAC of the mobile's interface on the MAP's access link (behind port 0).
const MAC_MOBILE: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x42];
/// MAC of the correspondent's interface (behind port 1).
const MAC_CN: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x50];
/// The MAP's address: its first, the source of its tunnels and the end of reverse tunnels.
const MAP: &str = "2001:db8:aaaa::1";
/// The mobile's regional care-of address, in the MAP's RCoA prefix.
const RCOA: &str = "2001:db8:aaaa::42";
/// The mobile's on-link care-of address.
const LCOA: &str = "2001:db8:10::42";
/// The correspondent.
const CN: &str = "2001:db8:20::50";
/// The mobile namespace's routing table for reverse-tunnelled replies.
const REVERSE_TABLE: &str = "100";

/// MAC of the site's access network interface where groups are delivered (behind port 0).
const MAC_SITE: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x99];
/// MAC of the home agent's interface (behind port 1).
const MAC_HA: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x51];
/// The MMA's address: its first, the source of the tunnels it starts.
const MMA: &str = "2001:db8:cc::1";
/// The home agent.
const HA: &str = "2001:db8:50::50";
/// The mobile delivered to its group, and the care-of address its tunnel ends at.
const GROUP_MOBILE: &str = "2001:db8:1::100";
const GROUP_CARE_OF: &str = "2001:db8:cc:1::100";
const GROUP: &str = "ff3e:30:2001:db8:211:22ff:fe33:4455";
/// RFC 2464 §7: 33:33 and the group's last four bytes.
const GROUP_MAC: [u8; 6] = [0x33, 0x33, 0xfe, 0x33, 0x44, 0x55];
/// The mobile that moved to another MMA; its tunnel ends at the MMA's own address.
const MOVED_MOBILE: &str = "2001:db8:1::101";
const NEW_MMA: &str = "2001:db8:dd::1";

fn require_tools(test: &str) {
    common::require_root(test);
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool("ping", &["-V"], "ping (iputils) is the correspondent");
    common::require_tool("tcpdump", &["--version"], "tcpdump captures the tunnels");
    common::require_tool(
        "python3",
        &["-c", "import socket"],
        "python3 sends the home agent's datagrams",
    );
}

fn ip6(text: &str) -> Ipv6Addr {
    text.parse().expect("an IPv6 address")
}

fn write_config(dir: &Path, name: &str, node_and_tables: &str) -> PathBuf {
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

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

{node_and_tables}"#,
        socket = dir.join("mipdp.sock").display(),
    );
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the configuration");
    path
}

fn map_config(dir: &Path) -> PathBuf {
    let tables = format!(
        r#"[node]
roles = ["map"]
addresses = ["{MAP}", "2001:db8:10::1", "2001:db8:20::1"]
rcoa_prefixes = ["2001:db8:aaaa::/64"]

[[route]]
prefix = "2001:db8:10::/64"
port = "net_tap0"

[[route]]
prefix = "2001:db8:20::/64"
port = "net_tap1"

[[neighbour]]
port = "net_tap0"
address = "{LCOA}"
mac = "{mobile}"

[[neighbour]]
port = "net_tap1"
address = "{CN}"
mac = "{cn}"

# The local binding RCoA → LCoA; tunnels start from {MAP}.
[[binding]]
home = "{RCOA}"
care_of = ["{LCOA}"]
"#,
        mobile = mac_text(MAC_MOBILE),
        cn = mac_text(MAC_CN),
    );
    write_config(dir, "map.toml", &tables)
}

fn mma_config(dir: &Path) -> PathBuf {
    // The moved mobile's entry in bulk form, as an MMA with millions of them loads them.
    std::fs::write(
        dir.join("multicast.txt"),
        format!("# mobile  new MMA\n{MOVED_MOBILE} new_mma={NEW_MMA}\n"),
    )
    .expect("write the multicast file");
    let tables = format!(
        r#"[node]
roles = ["mma"]
addresses = ["{MMA}", "2001:db8:50::1"]
care_of_prefixes = ["2001:db8:cc:1::/64"]
multicast_file = "multicast.txt"

[[route]]
prefix = "ff00::/8"
port = "net_tap0"

[[route]]
prefix = "2001:db8:dd::/64"
port = "net_tap0"

[[route]]
prefix = "2001:db8:50::/64"
port = "net_tap1"

[[neighbour]]
port = "net_tap0"
address = "{NEW_MMA}"
mac = "{site}"

[[multicast]]
mobile = "{GROUP_MOBILE}"
group = "{GROUP}"
"#,
        site = mac_text(MAC_SITE),
    );
    write_config(dir, "mma.toml", &tables)
}

/// Starts mipdp with `config`, moves its taps into the topology's namespaces with the
/// given MACs, and returns the MACs mipdp logged for its two ports.
fn start(topo: &mut Topology, config: &Path, mac_a: [u8; 6], mac_b: [u8; 6]) -> [[u8; 6]; 2] {
    topo.start_mipdp(config, &["--stats-interval", "100"]);
    topo.adopt_taps(mac_a, mac_b, Duration::from_secs(20));
    let m = topo.mipdp();
    ["net_tap0", "net_tap1"].map(|dev| {
        m.logged_mac(dev)
            .unwrap_or_else(|| panic!("mipdp logged no MAC for {dev}"))
    })
}

#[test]
fn correspondent_pings_a_regional_care_of_address_through_the_map_and_its_reverse_tunnel() {
    require_tools("correspondent_pings_a_regional_care_of_address_through_the_map");
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = map_config(dir.path());
    let mut topo = Topology::new("map");
    let [access_mac, cn_side_mac] = start(&mut topo, &config, MAC_MOBILE, MAC_CN);

    set_up_mobile(&topo, &mac_text(access_mac));
    set_up_correspondent(&topo);
    let capture_path = dir.path().join("access.pcap");
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let capture = topo.capture(&ns_a, &tap_a, &capture_path);
    // Drops before this (the taps' kernel chatter before they moved into the namespaces)
    // are not the test's.
    let drops_before = common::settled_drops(topo.mipdp());

    let mut failures = Vec::new();
    if let Err(e) = topo.ping(&topo.ns_b, RCOA, COUNT) {
        failures.push(format!("ping {RCOA} failed:\n{e}"));
    }
    // The requests and the replies, nothing else (the mobile knows the MAP statically).
    let frames = topo.finish_capture(&capture, 2 * COUNT as usize, Duration::from_secs(5));
    check_access_link(&frames, access_mac, &mut failures);
    let route = topo.ns_run(&topo.ns_a, &["ip", "-s", "-6", "route", "show", LCOA]);
    let route = String::from_utf8_lossy(&route.stdout).into_owned();
    match common::seg6local_counts(&route) {
        Some((p, 0)) if p >= COUNT => {}
        _ => failures.push(format!(
            "the mobile's End.DT6 route did not decapsulate {COUNT} packets without errors: \
             {route}"
        )),
    }
    let cn = topo.ns_run(&topo.ns_b, &["ip", "-6", "neigh", "show", "2001:db8:20::1"]);
    let cn = String::from_utf8_lossy(&cn.stdout).into_owned();
    if !cn.contains(&format!("lladdr {}", mac_text(cn_side_mac))) {
        failures.push(format!(
            "the correspondent did not resolve the MAP by neighbour discovery: {cn:?}"
        ));
    }
    // Before mipdp stops: its tap interfaces go with it.
    let mobile_state = topo.ns_state(
        &topo.ns_a,
        &[
            "ip -s link",
            "ip -6 addr",
            "ip -6 rule",
            "ip -s -6 route show table all",
        ],
    );

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    for (key, want) in [
        // The echo requests.
        ("encap_ip6ip6", COUNT),
        // The reverse-tunnelled replies.
        ("decap_ip6ip6", COUNT),
        // Requests by the binding's profile, reverse tunnels by the MAP's tunnel end.
        ("hits_node-destination", 2 * COUNT),
        // The decapsulated replies, routed.
        ("hits_node-default", COUNT),
    ] {
        let n = counter(engine, key);
        if n < want {
            failures.push(format!("mipdp {key}={n}, want >= {want}"));
        }
    }
    failures.extend(common::new_drops(&drops_before, finished.final_drops()));
    assert!(
        failures.is_empty(),
        "{}\n--- access link capture ---\n{}\n--- mobile namespace ---\n{}\n{}",
        failures.join("\n"),
        capture.text(),
        mobile_state,
        finished.transcript()
    );
}

/// The mobile on the access link: no address on the link (the End.DT6 route owns the
/// LCoA), the RCoA on `lo`, replies from the RCoA reverse-tunnelled to the MAP.
fn set_up_mobile(topo: &Topology, map_mac: &str) {
    let (ns, dev) = (topo.ns_a.as_str(), topo.tap_a.as_str());
    topo.enable_ipv6_quietly(ns, dev);
    for cmd in [
        "ip link set dev lo up",
        "ip -6 addr add {rcoa}/128 dev lo nodad",
        "ip -6 route add 2001:db8:10::/64 dev {dev}",
        "ip -6 route add default via 2001:db8:10::1 dev {dev}",
        "ip -6 neigh add 2001:db8:10::1 lladdr {mac} dev {dev} nud permanent",
        "ip -6 route add {lcoa}/128 encap seg6local action End.DT6 table local count dev {dev}",
        "ip sr tunsrc set {lcoa}",
        "ip -6 rule add from {rcoa} lookup {table}",
        "ip -6 route add {cn}/128 encap seg6 mode encap.red segs {map} dev {dev} table {table}",
    ] {
        let cmd = cmd
            .replace("{dev}", dev)
            .replace("{mac}", map_mac)
            .replace("{rcoa}", RCOA)
            .replace("{lcoa}", LCOA)
            .replace("{cn}", CN)
            .replace("{map}", MAP)
            .replace("{table}", REVERSE_TABLE);
        topo.ns_words(ns, &cmd);
    }
}

/// The correspondent: an address on its link, the MAP as its default router.
fn set_up_correspondent(topo: &Topology) {
    let (ns, dev) = (topo.ns_b.as_str(), topo.tap_b.as_str());
    topo.enable_ipv6_quietly(ns, dev);
    for cmd in [
        "ip link set dev lo up",
        "ip -6 addr add {cn}/64 dev {dev} nodad",
        "ip -6 route add default via 2001:db8:20::1 dev {dev}",
    ] {
        topo.ns_words(ns, &cmd.replace("{dev}", dev).replace("{cn}", CN));
    }
}

/// On the access link: every echo request went from the MAP's address to the LCoA in an
/// IPv6-in-IPv6 tunnel and every reply came back in one from the LCoA to the MAP.
fn check_access_link(frames: &[Vec<u8>], map_mac: [u8; 6], failures: &mut Vec<String>) {
    let (mut requests, mut replies) = (0, 0);
    for t in frames.iter().filter_map(|f| Tunnelled::parse(f)) {
        let inner = Inner::parse(&t.inner);
        let icmp_type = t.inner.get(40).copied();
        let to_mobile = (t.outer_src, t.outer_dst) == (ip6(MAP), ip6(LCOA));
        let from_mobile = (t.outer_src, t.outer_dst) == (ip6(LCOA), ip6(MAP));
        if to_mobile
            && (t.eth_src, t.eth_dst) == (map_mac, MAC_MOBILE)
            && (inner.src, inner.dst, inner.next_header) == (ip6(CN), ip6(RCOA), 58)
            && icmp_type == Some(128)
        {
            requests += 1;
        } else if from_mobile
            && (t.eth_src, t.eth_dst) == (MAC_MOBILE, map_mac)
            && (inner.src, inner.dst, inner.next_header) == (ip6(RCOA), ip6(CN), 58)
            && icmp_type == Some(129)
        {
            replies += 1;
        }
    }
    if requests < COUNT || replies < COUNT {
        failures.push(format!(
            "access link: {requests} echo requests tunnelled {MAP} → {LCOA} and {replies} \
             replies tunnelled {LCOA} → {MAP}, want {COUNT} each"
        ));
    }
}

#[test]
fn mma_re_tunnels_a_home_agent_tunnel_to_the_mobile_group_and_to_its_new_mma() {
    require_tools("mma_re_tunnels_a_home_agent_tunnel_to_the_mobile_group_and_to_its_new_mma");
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = mma_config(dir.path());
    let mut topo = Topology::new("mma");
    let [site_mac, ha_side_mac] = start(&mut topo, &config, MAC_SITE, MAC_HA);

    set_up_home_agent(&topo, &mac_text(ha_side_mac));
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let (ns_b, tap_b) = (topo.ns_b.clone(), topo.tap_b.clone());
    let site_path = dir.path().join("site.pcap");
    let ha_path = dir.path().join("home-agent.pcap");
    let site = topo.capture(&ns_a, &tap_a, &site_path);
    let home_agent = topo.capture(&ns_b, &tap_b, &ha_path);
    let drops_before = common::settled_drops(topo.mipdp());

    send_datagrams(&topo);
    // Each datagram leaves the MMA once, and nothing else comes out on the site's side.
    let all = 2 * COUNT as usize;
    let delivered = topo.finish_capture(&site, all, Duration::from_secs(10));
    let sent = topo.finish_capture(&home_agent, all, Duration::from_secs(5));

    let mut failures = Vec::new();
    check_mma_output(&sent, &delivered, site_mac, &mut failures);
    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    // Only the home agent's tunnels reach the MMA's tunnel ends (the care-of prefix, its
    // own address), and each is re-tunnelled once.
    for key in ["decap_ip6ip6", "encap_ip6ip6", "hits_node-destination"] {
        let n = counter(engine, key);
        if n != 2 * COUNT {
            failures.push(format!("mipdp {key}={n}, want {}", 2 * COUNT));
        }
    }
    failures.extend(common::new_drops(&drops_before, finished.final_drops()));
    assert!(
        failures.is_empty(),
        "{}\n--- home agent capture ---\n{}\n--- site capture ---\n{}\n{}",
        failures.join("\n"),
        home_agent.text(),
        site.text(),
        finished.transcript()
    );
}

/// The home agent: an address on its link, the MMA's prefixes via mipdp, and a seg6
/// `encap.red` route per mobile that tunnels its packets to the MMA: to the handed-out
/// care-of address, or to the MMA's own address.
///
/// mipdp is a static neighbour here: the kernel gives up on neighbour discovery after
/// three solicitations a second apart and drops the datagrams that waited for it, and on a
/// heavily loaded machine mipdp's three answers once all came after the third
/// solicitation. The MAP test resolves mipdp for real, where ping's retries absorb that.
fn set_up_home_agent(topo: &Topology, mma_mac: &str) {
    let (ns, dev) = (topo.ns_b.as_str(), topo.tap_b.as_str());
    topo.enable_ipv6_quietly(ns, dev);
    for cmd in [
        "ip link set dev lo up",
        "ip -6 addr add {ha}/64 dev {dev} nodad",
        "ip -6 neigh add 2001:db8:50::1 lladdr {mac} dev {dev} nud permanent",
        "ip -6 route add 2001:db8:cc::/48 via 2001:db8:50::1 dev {dev}",
        "ip sr tunsrc set {ha}",
        "ip -6 route add {group_mobile}/128 encap seg6 mode encap.red segs {group_care_of} \
         dev {dev}",
        "ip -6 route add {moved_mobile}/128 encap seg6 mode encap.red segs {mma} dev {dev}",
    ] {
        let cmd = cmd
            .replace("{dev}", dev)
            .replace("{mac}", mma_mac)
            .replace("{ha}", HA)
            .replace("{group_mobile}", GROUP_MOBILE)
            .replace("{group_care_of}", GROUP_CARE_OF)
            .replace("{moved_mobile}", MOVED_MOBILE)
            .replace("{mma}", MMA);
        topo.ns_words(ns, &cmd);
    }
}

/// `COUNT` UDP datagrams from the home agent to each mobile, which its routes tunnel.
fn send_datagrams(topo: &Topology) {
    let script = "import socket, sys, time\n\
                  s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
                  for i in range(int(sys.argv[1])):\n    \
                      for home in sys.argv[2:]:\n        \
                          s.sendto(('mipdp mma %s %d' % (home, i)).encode(), (home, 9999))\n        \
                          time.sleep(0.05)\n";
    topo.ns_run(
        &topo.ns_b,
        &[
            "python3",
            "-c",
            script,
            &COUNT.to_string(),
            GROUP_MOBILE,
            MOVED_MOBILE,
        ],
    );
}

/// What the MMA delivered on the site's network: for every packet the home agent
/// tunnelled, one IPv6-in-IPv6 packet from the MMA carrying the same inner packet (hop
/// limit one less), to the group and its MAC or to the new MMA; nothing else.
fn check_mma_output(
    sent: &[Vec<u8>],
    delivered: &[Vec<u8>],
    mma_mac: [u8; 6],
    failures: &mut Vec<String>,
) {
    let mut expected: Vec<(Ipv6Addr, Vec<u8>)> = Vec::new();
    for t in sent.iter().filter_map(|f| Tunnelled::parse(f)) {
        let inner = Inner::parse(&t.inner);
        let (toward, dst) = if inner.dst == ip6(GROUP_MOBILE) {
            (ip6(GROUP_CARE_OF), ip6(GROUP))
        } else if inner.dst == ip6(MOVED_MOBILE) {
            (ip6(MMA), ip6(NEW_MMA))
        } else {
            continue;
        };
        if (t.outer_src, t.outer_dst) != (ip6(HA), toward) {
            failures.push(format!(
                "the home agent tunnelled {} from {} to {}, not from {HA} to {toward}",
                inner.dst, t.outer_src, t.outer_dst
            ));
        }
        let mut forwarded = t.inner.clone();
        if let Some(hop_limit) = forwarded.get_mut(7) {
            *hop_limit = hop_limit.saturating_sub(1);
        }
        expected.push((dst, forwarded));
    }
    for dst in [ip6(GROUP), ip6(NEW_MMA)] {
        let n = expected.iter().filter(|(d, _)| *d == dst).count();
        if n != COUNT as usize {
            failures.push(format!(
                "the home agent tunnelled {n} packets for the mobile behind {dst}, want {COUNT}"
            ));
        }
    }
    for (i, frame) in delivered.iter().enumerate() {
        let Some(t) = Tunnelled::parse(frame) else {
            failures.push(format!("site frame {i} is not IPv6 in IPv6"));
            continue;
        };
        let Some(at) = expected
            .iter()
            .position(|(dst, inner)| *dst == t.outer_dst && *inner == t.inner)
        else {
            failures.push(format!(
                "site frame {i} to {} carries an inner packet the home agent did not send \
                 (or not with its hop limit one less)",
                t.outer_dst
            ));
            continue;
        };
        let (dst, _) = expected.remove(at);
        let want_mac = if dst.is_multicast() {
            GROUP_MAC
        } else {
            MAC_SITE
        };
        if (t.eth_src, t.eth_dst) != (mma_mac, want_mac) {
            failures.push(format!(
                "site frame {i} to {dst}: Ethernet {} → {}, want {} → {}",
                mac_text(t.eth_src),
                mac_text(t.eth_dst),
                mac_text(mma_mac),
                mac_text(want_mac)
            ));
        }
        if t.outer_src != ip6(MMA) {
            failures.push(format!(
                "site frame {i}: outer source {}, want the MMA's {MMA}",
                t.outer_src
            ));
        }
        // mipdp's default RFC 2473 encapsulation limit (4), in a Destination Options header.
        if (t.chain.as_slice(), t.encapsulation_limit) != ([60, 41].as_slice(), Some(4)) {
            failures.push(format!(
                "site frame {i}: next headers {:?} with encapsulation limit {:?}, want [60, 41] \
                 with 4",
                t.chain, t.encapsulation_limit
            ));
        }
    }
    if !expected.is_empty() {
        failures.push(format!(
            "{} tunnelled packets never left the MMA: {:?}",
            expected.len(),
            expected
                .iter()
                .map(|(dst, inner)| format!("to {dst} for {}", Inner::parse(inner).dst))
                .collect::<Vec<_>>()
        ));
    }
}

/// An Ethernet frame carrying IPv6 in IPv6 (RFC 2473), taken apart.
struct Tunnelled {
    eth_dst: [u8; 6],
    eth_src: [u8; 6],
    outer_src: Ipv6Addr,
    outer_dst: Ipv6Addr,
    /// The outer header's next headers up to the inner packet: `[41]`, or `[60, 41]` with
    /// a Destination Options header.
    chain: Vec<u8>,
    /// The Tunnel Encapsulation Limit option's value, if any (RFC 2473 §5.1).
    encapsulation_limit: Option<u8>,
    /// The inner IPv6 packet.
    inner: Vec<u8>,
}

impl Tunnelled {
    fn parse(frame: &[u8]) -> Option<Tunnelled> {
        const ETH: usize = 14;
        if frame.get(12..14)? != [0x86, 0xdd] || frame.get(ETH)? >> 4 != 6 {
            return None;
        }
        let ip = frame.get(ETH..)?;
        let end = 40 + usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
        let mut next = ip[6];
        let mut at = 40;
        let mut chain = vec![next];
        let mut encapsulation_limit = None;
        while next == 60 {
            let header = ip.get(at..at + 8 * (usize::from(*ip.get(at + 1)?) + 1))?;
            let mut option = 2;
            while option < header.len() {
                match header[option] {
                    0 => option += 1,
                    kind => {
                        let len = usize::from(*header.get(option + 1)?);
                        if kind == 4 && len == 1 {
                            encapsulation_limit = Some(*header.get(option + 2)?);
                        }
                        option += 2 + len;
                    }
                }
            }
            next = header[0];
            at += header.len();
            chain.push(next);
        }
        if next != 41 {
            return None;
        }
        Some(Tunnelled {
            eth_dst: frame[..6].try_into().ok()?,
            eth_src: frame[6..12].try_into().ok()?,
            outer_src: addr(ip.get(8..24)?),
            outer_dst: addr(ip.get(24..40)?),
            chain,
            encapsulation_limit,
            inner: ip.get(at..end)?.to_vec(),
        })
    }
}

/// The fixed header of an inner IPv6 packet (zeros when it is too short).
struct Inner {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
}

impl Inner {
    fn parse(packet: &[u8]) -> Inner {
        match packet.get(..40) {
            Some(h) => Inner {
                src: addr(&h[8..24]),
                dst: addr(&h[24..40]),
                next_header: h[6],
            },
            None => Inner {
                src: Ipv6Addr::UNSPECIFIED,
                dst: Ipv6Addr::UNSPECIFIED,
                next_header: 0,
            },
        }
    }
}

fn addr(bytes: &[u8]) -> Ipv6Addr {
    let octets: [u8; 16] = bytes.try_into().expect("16 bytes");
    Ipv6Addr::from(octets)
}

// Registration by signalling: a scapy mobile (tests/peers/mip6_mobile.py) sends the
// binding updates, authenticated with Python's hmac (RFC 4285 MN-HA option).

/// The key of the mobiles' security associations with the MAP and the MMA.
const MOBILE_KEY: &str = "00112233445566778899aabbccddeeff";
/// The SPI.
const MOBILE_SPI: &str = "256";
/// The address the mobile registers with the MMA from, on the site's network.
const SITE_MOBILE: &str = "2001:db8:dd::7";
/// Seconds the MMA forwards to the new MMA at most (the mobile asks for more).
const MAX_FORWARD_S: u64 = 3;

/// One binding update from mip6_mobile.py and what it printed.
#[allow(clippy::too_many_arguments)]
fn register(
    topo: &Topology,
    (src_mac, dst_mac): ([u8; 6], [u8; 6]),
    src: &str,
    agent: &str,
    home: &str,
    (seq, lifetime): (u16, u16),
    flags: &str,
    vendor: Option<String>,
) -> std::collections::HashMap<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/mip6_mobile.py");
    let script = script.to_string_lossy();
    let (src_mac, dst_mac) = (mac_text(src_mac), mac_text(dst_mac));
    let (seq, lifetime) = (seq.to_string(), lifetime.to_string());
    let mut args = vec![
        "python3",
        &script,
        "--iface",
        &topo.tap_a,
        "--src-mac",
        &src_mac,
        "--dst-mac",
        &dst_mac,
        "--src",
        src,
        "--home-agent",
        agent,
        "--home",
        home,
        "--seq",
        &seq,
        "--lifetime",
        &lifetime,
        "--spi",
        MOBILE_SPI,
        "--key",
        MOBILE_KEY,
        "--flags",
        flags,
        "--timeout",
        "30",
    ];
    let vendor = vendor.unwrap_or_default();
    if !vendor.is_empty() {
        args.extend(["--vendor", vendor.as_str()]);
    }
    let out = topo.ns_output(&topo.ns_a, &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mip6_mobile.py failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("seq_sent="))
        .unwrap_or_else(|| panic!("mip6_mobile.py printed no result: {stdout}"));
    common::key_values(line)
}

fn registered_map_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(map_config(dir)).expect("MAP configuration");
    let start = text
        .find("# The local binding")
        .expect("the static binding");
    let text = format!(
        r#"{}
[map]
addresses = ["{MAP}"]
rcoa_prefixes = ["2001:db8:aaaa::/64"]

[[map.security_association]]
home_address = "{RCOA}"
spi = {MOBILE_SPI}
key = "{MOBILE_KEY}"
"#,
        &text[..start]
    );
    let path = dir.join("map-registered.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

#[test]
fn mobile_registers_with_the_map_and_traffic_to_its_rcoa_reaches_the_lcoa_tunnelled() {
    require_tools("mobile_registers_with_the_map");
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = registered_map_config(dir.path());
    let mut topo = Topology::new("mapreg");
    let [access_mac, _] = start(&mut topo, &config, MAC_MOBILE, MAC_CN);
    set_up_mobile(&topo, &mac_text(access_mac));
    set_up_correspondent(&topo);

    let mut failures = Vec::new();
    // Before the binding: the RCoA is not reachable (a fault drop at the MAP).
    if topo.ping(&topo.ns_b, RCOA, 1).is_ok() {
        failures.push(format!("{RCOA} answered before the mobile registered"));
    }
    let ack = register(
        &topo,
        (MAC_MOBILE, access_mac),
        LCOA,
        MAP,
        RCOA,
        (1, 100),
        "AM",
        None,
    );
    let want = [
        ("status", "0"),
        ("seq", "1"),
        ("lifetime", "100"),
        ("authentic", "True"),
        ("checksum_ok", "True"),
        ("reply_src", MAP),
        ("reply_dst", LCOA),
        ("routing_home", RCOA),
    ];
    for (k, v) in want {
        if ack.get(k).map(String::as_str) != Some(v) {
            failures.push(format!(
                "acknowledgement {k}={:?}, want {v}: {ack:?}",
                ack.get(k)
            ));
        }
    }
    let capture_path = dir.path().join("access.pcap");
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let capture = topo.capture(&ns_a, &tap_a, &capture_path);
    if let Err(e) = topo.ping(&topo.ns_b, RCOA, COUNT) {
        failures.push(format!("ping {RCOA} after the registration failed:\n{e}"));
    }
    let frames = topo.finish_capture(&capture, 2 * COUNT as usize, Duration::from_secs(5));
    check_access_link(&frames, access_mac, &mut failures);

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    for (key, want) in [
        ("map_registered", 1),
        ("encap_ip6ip6", COUNT),
        ("map_replies", 1),
    ] {
        let n = counter(engine, key);
        if n < want {
            failures.push(format!("mipdp {key}={n}, want >= {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n--- access link capture ---\n{}\n{}",
        failures.join("\n"),
        capture.text(),
        finished.transcript()
    );
}

fn registered_mma_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(mma_config(dir)).expect("MMA configuration");
    // The group mobile registers instead of being configured.
    let static_entry = format!("[[multicast]]\nmobile = \"{GROUP_MOBILE}\"\ngroup = \"{GROUP}\"\n");
    assert!(text.contains(&static_entry), "the static entry");
    let text = format!(
        r#"{}
[mma]
addresses = ["{MMA}"]
care_of_prefixes = ["2001:db8:cc:1::/64"]
max_forward_s = {MAX_FORWARD_S}

[[mma.security_association]]
home_address = "{GROUP_MOBILE}"
spi = {MOBILE_SPI}
key = "{MOBILE_KEY}"
"#,
        text.replace(&static_entry, "")
    );
    let path = dir.join("mma-registered.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// [`registered_mma_config`] with a binding backup (issue 6), and a recovery whose
/// verification waits a minute for the mobile's answer: the one-shot mobile of this test
/// never answers, and its registration is to survive the restart for the test's length.
fn backed_up_mma_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(registered_mma_config(dir)).expect("MMA configuration");
    let text = format!(
        "{text}\n[backup]\npath = \"{}\"\n\n[recovery]\ntimeout_ms = 60000\nretries = 0\n",
        dir.join("bindings.redb").display()
    );
    let path = dir.join("mma-backed-up.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// Frames on the site's network tunnelled from the MMA to `outer_dst` carrying a packet
/// for `inner_dst`, and sent to `mac`.
fn tunnelled_to(frames: &[Vec<u8>], outer_dst: &str, inner_dst: &str, mac: [u8; 6]) -> usize {
    frames
        .iter()
        .filter_map(|f| Tunnelled::parse(f))
        .filter(|t| {
            (t.outer_src, t.outer_dst, t.eth_dst) == (ip6(MMA), ip6(outer_dst), mac)
                && Inner::parse(&t.inner).dst == ip6(inner_dst)
        })
        .count()
}

/// With a `[backup]`: after the first delivery mipdp is killed with SIGKILL and started
/// again; the registration is restored from the backup into the multicast map, and the
/// home agent's tunnels reach the group again with no registration since the restart;
/// the handover after it is the restarted MMA's.
#[test]
fn mobile_registers_with_the_mma_its_group_gets_its_traffic_and_a_handover_forwards_for_a_while() {
    require_tools("mobile_registers_with_the_mma");
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = backed_up_mma_config(dir.path());
    let mut topo = Topology::new("mmareg");
    let [site_mac, ha_side_mac] = start(&mut topo, &config, MAC_SITE, MAC_HA);
    set_up_home_agent(&topo, &mac_text(ha_side_mac));
    let mut failures = Vec::new();

    // Registration: the group in the vendor-specific option, sub-type 1.
    let group: Ipv6Addr = ip6(GROUP);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let ack = register(
        &topo,
        (MAC_SITE, site_mac),
        SITE_MOBILE,
        MMA,
        GROUP_MOBILE,
        (1, 100),
        "AH",
        Some(format!("1:{}", hex(&group.octets()))),
    );
    let assigned = hex(&ip6(GROUP_CARE_OF).octets());
    for (k, v) in [
        ("status", "0"),
        ("authentic", "True"),
        ("checksum_ok", "True"),
        ("reply_src", MMA),
        ("reply_dst", SITE_MOBILE),
        ("vendor_2", assigned.as_str()),
    ] {
        if ack.get(k).map(String::as_str) != Some(v) {
            failures.push(format!(
                "registration acknowledgement {k}={:?}, want {v}: {ack:?}",
                ack.get(k)
            ));
        }
    }

    // The home agent's tunnels to the assigned care-of address leave on the group.
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let (ns_b, tap_b) = (topo.ns_b.clone(), topo.tap_b.clone());
    let site = topo.capture(&ns_a, &tap_a, &dir.path().join("site.pcap"));
    let home_agent = topo.capture(&ns_b, &tap_b, &dir.path().join("home-agent.pcap"));
    send_datagrams(&topo);
    let all = 2 * COUNT as usize;
    let delivered = topo.finish_capture(&site, all, Duration::from_secs(10));
    let sent = topo.finish_capture(&home_agent, all, Duration::from_secs(5));
    check_mma_output(&sent, &delivered, site_mac, &mut failures);

    // A crash, and a start with the same configuration and backup: the registration is
    // back in the multicast map and the group gets the mobile's traffic again, with no
    // registration since.
    let killed = topo.kill_mipdp();
    let [site_mac, ha_side_mac] = start(&mut topo, &config, MAC_SITE, MAC_HA);
    set_up_home_agent(&topo, &mac_text(ha_side_mac));
    let site = topo.capture(&ns_a, &tap_a, &dir.path().join("site-restarted.pcap"));
    let home_agent = topo.capture(&ns_b, &tap_b, &dir.path().join("home-agent-restarted.pcap"));
    send_datagrams(&topo);
    let delivered = topo.finish_capture(&site, all, Duration::from_secs(10));
    let sent = topo.finish_capture(&home_agent, all, Duration::from_secs(5));
    let before_restart = failures.len();
    check_mma_output(&sent, &delivered, site_mac, &mut failures);
    for f in &mut failures[before_restart..] {
        *f = format!("after the restart: {f}");
    }
    // The recovery asked the restored registration's mobile (a Binding Refresh Request
    // tunnelled to its group), which this one-shot mobile does not answer.
    let out = std::process::Command::new(common::MIPDP)
        .args(["ctl", "--socket"])
        .arg(dir.path().join("mipdp.sock"))
        .args(["show", "recovery"])
        .output()
        .expect("run mipdp ctl");
    let recovery = String::from_utf8_lossy(&out.stdout).into_owned();
    if !(recovery.contains("total=1 ")
        && recovery.contains("requests=1 ")
        && recovery.contains("unsent=0 "))
    {
        failures.push(format!(
            "after the restart: want one verification request sent: {recovery}"
        ));
    }

    // Handover: the de-registration names the new MMA and asks for an hour; the MMA
    // forwards for MAX_FORWARD_S.
    let mut moved = ip6(NEW_MMA).octets().to_vec();
    moved.extend_from_slice(&3600u32.to_be_bytes());
    let ack = register(
        &topo,
        (MAC_SITE, site_mac),
        SITE_MOBILE,
        MMA,
        GROUP_MOBILE,
        (2, 0),
        "AH",
        Some(format!("3:{}", hex(&moved))),
    );
    if ack.get("status").map(String::as_str) != Some("0") || ack.contains_key("vendor_2") {
        failures.push(format!("de-registration acknowledgement: {ack:?}"));
    }
    let handed_over = std::time::Instant::now();
    let forwarded = topo.capture(&ns_a, &tap_a, &dir.path().join("forwarded.pcap"));
    send_datagrams(&topo);
    let frames = topo.finish_capture(&forwarded, all, Duration::from_secs(10));
    let n = tunnelled_to(&frames, NEW_MMA, GROUP_MOBILE, MAC_SITE);
    if n != COUNT as usize {
        failures.push(format!(
            "{n} packets for {GROUP_MOBILE} forwarded to the new MMA {NEW_MMA}, want {COUNT}"
        ));
    }
    if tunnelled_to(&frames, GROUP, GROUP_MOBILE, GROUP_MAC) != 0 {
        failures.push("the group still got packets after the handover".into());
    }
    if handed_over.elapsed() >= Duration::from_secs(MAX_FORWARD_S) {
        failures.push("the forwarding period was over before its packets were sent: too slow a machine for this check".into());
    }

    // After the period: nothing for the mobile leaves any more.
    let left = Duration::from_secs(MAX_FORWARD_S + 1).saturating_sub(handed_over.elapsed());
    std::thread::sleep(left);
    let after = topo.capture(&ns_a, &tap_a, &dir.path().join("after.pcap"));
    send_datagrams(&topo);
    std::thread::sleep(Duration::from_secs(1));
    let frames = topo.finish_capture(&after, COUNT as usize, Duration::from_secs(2));
    let stray = tunnelled_to(&frames, NEW_MMA, GROUP_MOBILE, MAC_SITE)
        + tunnelled_to(&frames, GROUP, GROUP_MOBILE, GROUP_MAC);
    if stray != 0 {
        failures.push(format!(
            "{stray} packets for {GROUP_MOBILE} left after the forwarding period"
        ));
    }
    // The moved mobile's static entry still forwards.
    if tunnelled_to(&frames, NEW_MMA, MOVED_MOBILE, MAC_SITE) != COUNT as usize {
        failures.push("the static new-MMA entry stopped forwarding".into());
    }

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let transcript = finished.transcript();
    if !transcript.contains("1 stored, 0 lapsed while down (deleted), 1 restored") {
        failures.push("the restarted mipdp did not log the registration restored".into());
    }
    // The restarted MMA's counters: no registration, the handover's de-registration.
    let engine = finished.final_engine();
    for (key, want) in [
        ("mma_registered", 0),
        ("mma_forwarding_to_new_mma", 1),
        ("mma_replies", 1),
    ] {
        let n = counter(engine, key);
        if n != want {
            failures.push(format!("mipdp {key}={n}, want {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n--- site capture ---\n{}\n--- before the kill ---\n{}\n--- after the restart ---\n{}",
        failures.join("\n"),
        site.text(),
        killed.transcript(),
        transcript
    );
}

// The new MMA tells the correspondent (docs/mma-registration.md): a scapy old MMA
// (tests/peers/mma_peer.py) behind port 1 forwards a correspondent's packets for the
// mobile registered here; mipdp delivers them on the group and sends the correspondent,
// behind port 1 too, one binding update per interval, which the script checks with
// Python's hmac under the MMA–correspondent key.

/// The old MMA, a configured peer, on the home agent's link.
const OLD_MMA: &str = "2001:db8:50::60";
/// The correspondent's MMA–correspondent key and SPI.
const CN_KEY: &str = "0102030405060708090a0b0c0d0e0f10";
const CN_SPI: &str = "4096";
/// The lifetime the binding updates ask for, seconds.
const CN_LIFETIME_S: u64 = 120;

fn peered_mma_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(registered_mma_config(dir)).expect("MMA configuration");
    let at = text.find("[mma]").expect("the [mma] section");
    let (tables, mma) = text.split_at(at);
    let mma = mma.replacen(
        "[mma]\n",
        &format!(
            "[mma]\npeers = [\"{OLD_MMA}\"]\ncorrespondent_update_interval_s = 60\n\
             correspondent_lifetime_s = {CN_LIFETIME_S}\n"
        ),
        1,
    );
    let text = format!(
        r#"{tables}
[[route]]
prefix = "2001:db8:20::/64"
port = "net_tap1"

[[neighbour]]
port = "net_tap1"
address = "{CN}"
mac = "{cn}"

{mma}
[[mma.correspondent]]
address = "{CN}"
spi = {CN_SPI}
key = "{CN_KEY}"
"#,
        cn = mac_text(MAC_HA),
    );
    let path = dir.join("mma-peered.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

#[test]
fn a_peer_mma_forwarding_to_the_new_mma_makes_it_send_the_correspondent_one_binding_update() {
    require_tools("a_peer_mma_forwarding_to_the_new_mma");
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = peered_mma_config(dir.path());
    let mut topo = Topology::new("mmapeer");
    let [site_mac, ha_side_mac] = start(&mut topo, &config, MAC_SITE, MAC_HA);
    let mut failures = Vec::new();

    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let ack = register(
        &topo,
        (MAC_SITE, site_mac),
        SITE_MOBILE,
        MMA,
        GROUP_MOBILE,
        (1, 100),
        "AH",
        Some(format!("1:{}", hex(&ip6(GROUP).octets()))),
    );
    let assigned = hex(&ip6(GROUP_CARE_OF).octets());
    if ack.get("status").map(String::as_str) != Some("0") || ack.get("vendor_2") != Some(&assigned)
    {
        failures.push(format!("registration acknowledgement: {ack:?}"));
    }

    // Two forwarded packets a second apart, well within the update interval.
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let site = topo.capture(&ns_a, &tap_a, &dir.path().join("site.pcap"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/mma_peer.py");
    let script = script.to_string_lossy();
    let (src_mac, dst_mac) = (mac_text(MAC_HA), mac_text(ha_side_mac));
    let out = topo.ns_output(
        &topo.ns_b,
        &[
            "python3",
            &script,
            "--iface",
            &topo.tap_b,
            "--src-mac",
            &src_mac,
            "--dst-mac",
            &dst_mac,
            "--peer",
            OLD_MMA,
            "--mma",
            MMA,
            "--correspondent",
            CN,
            "--home",
            GROUP_MOBILE,
            "--spi",
            CN_SPI,
            "--key",
            CN_KEY,
            "--count",
            "2",
            "--gap",
            "1",
            "--listen",
            "3",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mma_peer.py failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("bu_count="))
        .unwrap_or_else(|| panic!("mma_peer.py printed no result: {stdout}"));
    let bu = common::key_values(line);
    let lifetime_units = (CN_LIFETIME_S / 4).to_string();
    for (k, v) in [
        ("bu_count", "1"),
        ("bu_after_first", "0"),
        ("bu_src", MMA),
        ("bu_dst", CN),
        ("bu_eth_dst", mac_text(MAC_HA).as_str()),
        ("home", GROUP_MOBILE),
        ("care_of", GROUP_CARE_OF),
        ("seq", "0"),
        ("flags", "0x00"),
        ("lifetime", lifetime_units.as_str()),
        ("spi", CN_SPI),
        ("authentic", "True"),
        ("auth_last", "True"),
        ("checksum_ok", "True"),
    ] {
        if bu.get(k).map(String::as_str) != Some(v) {
            failures.push(format!(
                "binding update to the correspondent {k}={:?}, want {v}: {bu:?}",
                bu.get(k)
            ));
        }
    }
    // Both forwarded packets still reach the mobile's group.
    let frames = topo.finish_capture(&site, 2, Duration::from_secs(5));
    let delivered = tunnelled_to(&frames, GROUP, GROUP_MOBILE, GROUP_MAC);
    if delivered != 2 {
        failures.push(format!(
            "{delivered} forwarded packets for {GROUP_MOBILE} delivered on {GROUP}, want 2"
        ));
    }

    let finished = topo.stop_mipdp();
    finished.assert_success();
    let engine = finished.final_engine();
    for (key, want) in [
        ("notify_copies", 2),
        ("hits_node-source", 2),
        ("mma_correspondent_told", 1),
        ("mma_correspondent_rate_limited", 1),
        ("mma_correspondent_unsent", 0),
    ] {
        let n = counter(engine, key);
        if n != want {
            failures.push(format!("mipdp {key}={n}, want {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n--- site capture ---\n{}\n{}",
        failures.join("\n"),
        site.text(),
        finished.transcript()
    );
}
