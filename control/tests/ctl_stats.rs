//! Mobility mode end to end through pcap files, read back through the control socket:
//! mipdp as a home agent reads packets for an away mobile's home address from a pcap file
//! on port 0, tunnels them IP in IP to the care-of address out of port 1 (to a static
//! next hop), and `mipdp ctl show stats` reports the encapsulations, the profile hits and
//! the port counters while it runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{counter, eal_args, pcap, unique_id, Mipdp, MIPDP};

const FRAMES: usize = 40;
const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x02, 0xfe];

fn config(dir: &Path, socket: &Path) -> PathBuf {
    let text = format!(
        r#"[dataplane]
mode = "mobility"
workers = [1]
mbufs = 4095
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
control_socket = "{}"

[node]
roles = ["home-agent"]
addresses = ["10.1.0.1", "192.0.2.1"]

[[port]]
device = "net_pcap0"

[[port]]
device = "net_pcap1"

[[route]]
prefix = "10.1.0.0/24"
port = "net_pcap0"

[[route]]
prefix = "0.0.0.0/0"
port = "net_pcap1"
via = "192.0.2.254"

[[neighbour]]
port = "net_pcap1"
address = "192.0.2.254"
mac = "02:00:00:00:02:fe"

[[binding]]
home = "10.1.0.100"
care_of = ["203.0.113.7"]
encap = "ipip"
"#,
        socket.display()
    );
    let path = dir.join("ha.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// Ethernet + IPv4 + UDP from a correspondent to the home address 10.1.0.100.
fn to_home(seq: u16) -> Vec<u8> {
    let mut f = vec![
        0x02, 0, 0, 0, 0, 0x10, 0x02, 0xaa, 0, 0, 0, 0x01, 0x08, 0x00,
    ];
    let mut ip = [
        0x45, 0, 0, 48, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 9, 10, 1, 0, 100,
    ];
    ip[4..6].copy_from_slice(&seq.to_be_bytes());
    let sum = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&[0x9c, 0x40, 0x07, 0xd0, 0, 28, 0, 0]);
    f.extend_from_slice(&[seq as u8; 20]);
    f
}

#[test]
fn ctl_show_stats_reports_the_home_agent_tunnelling_pcap_traffic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("ctl.sock");
    let input: Vec<Vec<u8>> = (0..FRAMES as u16).map(to_home).collect();
    let in_pcap = dir.path().join("in.pcap");
    pcap::write(&in_pcap, &input);
    let out = |port: usize, queue: usize| pcap::out(dir.path(), port, queue);
    let vdevs = pcap::two_port_vdevs(dir.path(), &in_pcap);
    let prefix = format!("mipdp-t-{}-ctl", unique_id());
    let mut mipdp = Mipdp::start(
        &config(dir.path(), &socket),
        &["--stats-interval", "100"],
        &eal_args(&prefix, &vdevs),
        &prefix,
    );
    mipdp.expect_stdout("the engine's stats line", Duration::from_secs(30), |l| {
        l.starts_with("stats engine") && counter(l, "encap_ipip") >= FRAMES as u64
    });

    let ctl = Command::new(MIPDP)
        .args(["ctl", "--socket"])
        .arg(&socket)
        .args(["show", "stats"])
        .output()
        .expect("run mipdp ctl");
    let text = String::from_utf8_lossy(&ctl.stdout).into_owned();
    assert!(
        ctl.status.success(),
        "mipdp ctl failed: {text}{}",
        String::from_utf8_lossy(&ctl.stderr)
    );
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}` line in:\n{text}"))
            .to_string()
    };
    let engine = line("engine ");
    assert_eq!(counter(&engine, "encap_ipip"), FRAMES as u64, "{engine}");
    assert_eq!(
        counter(&engine, "hits_node-destination"),
        FRAMES as u64,
        "{engine}"
    );
    assert_eq!(
        counter(&line("port=net_pcap1 "), "tx"),
        FRAMES as u64,
        "{text}"
    );
    assert_eq!(
        counter(&line("port=net_pcap0 "), "rx"),
        FRAMES as u64,
        "{text}"
    );
    assert_eq!(counter(&line("drops "), "no_binding"), 0, "{text}");
    assert!(line("worker=0 ").contains("core=1"), "{text}");

    // Unknown commands are refused with the list of commands.
    let reply = mipdp_control::api::request(&socket, "show everything").expect("ask");
    assert!(
        reply.starts_with("error:") && reply.contains("show stats"),
        "{reply}"
    );

    let finished = mipdp.stop();
    finished.assert_success();
    assert!(!socket.exists(), "the control socket is removed at stop");

    // What left port 1: IP in IP from the home agent to the care-of address, to the
    // static next hop's MAC, carrying the original packet with its TTL one lower.
    let output = pcap::read_all(&[out(1, 0), out(1, 1)]);
    assert_eq!(output.len(), FRAMES);
    for (got, sent) in output.iter().zip(&input) {
        assert_eq!(&got[..6], &ROUTER_MAC);
        let outer = &got[14..34];
        assert_eq!(outer[9], 4, "protocol IP in IP");
        assert_eq!(&outer[12..16], &[10, 1, 0, 1]);
        assert_eq!(&outer[16..20], &[203, 0, 113, 7]);
        let inner = &got[34..];
        assert_eq!(inner.len(), sent.len() - 14);
        assert_eq!(inner[8], 63, "inner TTL decremented");
        assert_eq!(&inner[12..20], &sent[14 + 12..14 + 20]);
        assert_eq!(&inner[20..], &sent[14 + 20..]);
    }
}

#[test]
fn unresolved_next_hops_are_asked_for_with_arp_and_neighbour_solicitation() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("ctl.sock");
    // The home agent's configuration without the static neighbour, plus an IPv6 binding.
    let text = std::fs::read_to_string(config(dir.path(), &socket))
        .expect("read the configuration")
        .replace(
            "[[neighbour]]\nport = \"net_pcap1\"\naddress = \"192.0.2.254\"\nmac = \"02:00:00:00:02:fe\"\n",
            "",
        )
        .replace(
            "addresses = [\"10.1.0.1\", \"192.0.2.1\"]",
            "addresses = [\"10.1.0.1\", \"192.0.2.1\", \"2001:db8:2::1\"]",
        )
        + "\n[[route]]\nprefix = \"2001:db8:2::/64\"\nport = \"net_pcap1\"\n\n[[binding]]\nhome = \"2001:db8:1::100\"\ncare_of = [\"2001:db8:2::7\"]\n";
    assert!(!text.contains("[[neighbour]]"));
    let path = dir.path().join("unresolved.toml");
    std::fs::write(&path, text).expect("write the configuration");
    // Packets for both home addresses; their next hops are unknown.
    let mut input: Vec<Vec<u8>> = (0..FRAMES as u16).map(to_home).collect();
    let mut v6 = vec![
        0x02, 0, 0, 0, 0, 0x10, 0x02, 0xaa, 0, 0, 0, 0x01, 0x86, 0xdd,
    ];
    v6.extend_from_slice(&[0x60, 0, 0, 0, 0, 8, 17, 64]);
    v6.extend_from_slice(
        &"2001:db8:50::9"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    v6.extend_from_slice(
        &"2001:db8:1::100"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    v6.extend_from_slice(&[0x9c, 0x40, 0x07, 0xd0, 0, 8, 0, 0]);
    input.extend(std::iter::repeat_n(v6, FRAMES));
    let in_pcap = dir.path().join("in.pcap");
    pcap::write(&in_pcap, &input);
    let out = |port: usize, queue: usize| pcap::out(dir.path(), port, queue);
    let vdevs = pcap::two_port_vdevs(dir.path(), &in_pcap);
    let prefix = format!("mipdp-t-{}-res", unique_id());
    let mut mipdp = Mipdp::start(
        &path,
        &["--stats-interval", "100"],
        &eal_args(&prefix, &vdevs),
        &prefix,
    );
    mipdp.expect_stdout(
        "two resolution requests sent",
        Duration::from_secs(30),
        |l| l.starts_with("stats engine") && counter(l, "ctl_arp_requests") >= 2,
    );
    let finished = mipdp.stop();
    finished.assert_success();
    let drops = finished.final_drops();
    assert_eq!(counter(drops, "no_neighbour"), 2 * FRAMES as u64, "{drops}");
    // On the control thread's TX queue of port 1: one ARP request for the IPv4 next hop
    // (RFC 826) and one neighbour solicitation for the care-of address (RFC 4861 §7.2.2),
    // not one per dropped packet.
    let sent = pcap::read(&out(1, 1));
    let arp: Vec<&Vec<u8>> = sent.iter().filter(|f| f[12..14] == [0x08, 0x06]).collect();
    let ns: Vec<&Vec<u8>> = sent
        .iter()
        .filter(|f| f[12..14] == [0x86, 0xdd] && f[20] == 58 && f[54] == 135)
        .collect();
    assert_eq!(
        (arp.len(), ns.len()),
        (1, 1),
        "{} frames on the control queue",
        sent.len()
    );
    let a = arp[0];
    assert_eq!(&a[..6], &[0xff; 6]);
    assert_eq!(
        &a[14..22],
        &[0, 1, 8, 0, 6, 4, 0, 1],
        "Ethernet/IPv4 ARP request"
    );
    assert_eq!(
        &a[28..32],
        &[192, 0, 2, 1],
        "sender: the node's address on that link"
    );
    assert_eq!(&a[38..42], &[192, 0, 2, 254], "target: the next hop");
    let n = ns[0];
    assert_eq!(
        &n[..6],
        &[0x33, 0x33, 0xff, 0, 0, 7],
        "solicited-node group's MAC"
    );
    assert_eq!(n[21], 255, "hop limit 255");
    assert_eq!(
        &n[62..78],
        &"2001:db8:2::7"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
    );
    assert_eq!(&n[78..80], &[1, 1], "source link-layer address option");
    assert_eq!(&n[80..86], &a[6..12], "the port's MAC");
}
