//! End to end through the kernel: mipdp forwards between two DPDK tap ports whose kernel
//! sides sit in two network namespaces. Frames sent in namespace a must arrive in
//! namespace b exactly once and unchanged except for the two MAC addresses.
//!
//! Needs root, DPDK's net_tap (/dev/net/tun), iproute2, tcpdump and python3 with scapy.
//! It fails, not skips, without them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{counter, mac_text, pcap, stats_line_reaches, Lines, Topology};

/// MAC of the namespace-a interface (behind DPDK port 0, net_tap0).
const MAC_A: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x01];
/// MAC of the namespace-b interface (behind DPDK port 1, net_tap1).
const MAC_B: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x01];
/// Destination MAC of the frames as namespace a sends them (rewritten by mipdp).
const SENT_DST: [u8; 6] = [0x02, 0x00, 0, 0, 0, 0xfe];
/// How many frames namespace a sends.
const FRAMES: usize = 50;

fn peer_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

fn forwarder_config(dir: &Path) -> PathBuf {
    // Frames leaving port 0 go to namespace a, frames leaving port 1 to namespace b.
    let text = format!(
        r#"[dataplane]
mode = "forwarder"
workers = [1]
mbufs = 8191
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000

[[port]]
device = "net_tap0"
peer_mac = "{}"

[[port]]
device = "net_tap1"
peer_mac = "{}"
"#,
        mac_text(MAC_A),
        mac_text(MAC_B)
    );
    let path = dir.join("forwarder.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

#[test]
fn frames_cross_between_namespaces_byte_identical_but_macs() {
    common::require_root("frames_cross_between_namespaces_byte_identical_but_macs");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool("tcpdump", &["--version"], "tcpdump captures in namespace b");
    common::require_tool(
        "python3",
        &["-c", "import scapy.all"],
        "python3 with scapy sends the test frames",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let config = forwarder_config(dir.path());
    let udp_port = 40_000 + (std::process::id() % 20_000) as u16;

    let mut topo = Topology::new("tap");
    topo.start_mipdp(&config, &["--stats-interval", "100"]);
    topo.adopt_taps(MAC_A, MAC_B, Duration::from_secs(20));

    let captured = dir.path().join("captured.pcap");
    let (tcpdump, tcpdump_err) = start_capture(&mut topo, &captured, udp_port);
    let sent = dir.path().join("sent.pcap");
    send_frames(&topo, &sent, udp_port);

    topo.mipdp().expect_stdout(
        &format!("net_tap1 tx >= {FRAMES}"),
        Duration::from_secs(20),
        |l| stats_line_reaches(l, "net_tap1", "tx", FRAMES as u64),
    );
    // The frames are out of DPDK; wait for tcpdump to have written them, and then a little
    // longer for any duplicate.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pcap::count_so_far(&captured) < FRAMES && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    topo.stop_helper(tcpdump);
    let src_mac = topo.mipdp().logged_mac("net_tap1");
    let finished = topo.stop_mipdp();
    finished.assert_success();

    let sent = pcap::read(&sent);
    let captured = pcap::read(&captured);
    assert_eq!(
        sent.len(),
        FRAMES,
        "send_frames.py recorded the wrong count"
    );
    let context = format!(
        "--- tcpdump in {} ---\n{}\n{}",
        topo.ns_b,
        tcpdump_err.snapshot().join("\n"),
        finished.transcript()
    );
    compare(&sent, &captured, src_mac, &context);

    let port0 = finished.final_port("net_tap0");
    let port1 = finished.final_port("net_tap1");
    let drops = finished.final_drops();
    assert!(counter(port0, "rx") >= FRAMES as u64, "port 0 rx: {port0}");
    assert!(counter(port1, "tx") >= FRAMES as u64, "port 1 tx: {port1}");
    assert_eq!(counter(drops, "runt"), 0, "{drops}");
    assert_eq!(counter(drops, "no_egress"), 0, "{drops}");
}

/// Starts tcpdump on namespace b's interface, writing to `file` only the frames for the
/// test's UDP port (so kernel chatter does not count), and waits until it captures.
/// Returns its helper index and its stderr.
fn start_capture(topo: &mut Topology, file: &Path, udp_port: u16) -> (usize, Lines) {
    let file = file.to_string_lossy().into_owned();
    let tap_b = topo.tap_b.clone();
    let ns_b = topo.ns_b.clone();
    let filter = format!("udp dst port {udp_port}");
    let (tcpdump, _, stderr) = topo.spawn_in(
        &ns_b,
        &[
            "tcpdump",
            "-i",
            &tap_b,
            "--immediate-mode",
            "-p",
            "-n",
            "-U",
            "-Z",
            "root",
            // Immediate mode gives each frame a ring slot of the snap length: keep it
            // small (frames are at most 1514 bytes) and the buffer large, or the kernel
            // drops frames when they come in a burst.
            "-s",
            "2048",
            "-B",
            "8192",
            "-w",
            &file,
            &filter,
        ],
    );
    assert!(
        stderr
            .wait_for(Duration::from_secs(20), |l| l.contains("listening on"))
            .is_some(),
        "tcpdump did not start capturing on {tap_b} in {ns_b}:\n{}",
        stderr.snapshot().join("\n")
    );
    (tcpdump, stderr)
}

/// Sends the test frames from namespace a with send_frames.py, which records them in
/// `sent`.
fn send_frames(topo: &Topology, sent: &Path, udp_port: u16) {
    let script = peer_script("send_frames.py");
    topo.ns_run(
        &topo.ns_a,
        &[
            "python3",
            &script.to_string_lossy(),
            "--iface",
            &topo.tap_a,
            "--src-mac",
            &mac_text(MAC_A),
            "--dst-mac",
            &mac_text(SENT_DST),
            "--count",
            &FRAMES.to_string(),
            "--dport",
            &udp_port.to_string(),
            "--sent",
            &sent.to_string_lossy(),
        ],
    );
}

/// Every sent frame arrives exactly once, with dst = namespace b's MAC, src = DPDK port 1's
/// MAC (the same for all, not the sender's) and every byte after the MACs unchanged.
/// `context` ends every failure message.
fn compare(sent: &[Vec<u8>], captured: &[Vec<u8>], logged_src: Option<[u8; 6]>, context: &str) {
    let mut arrivals: HashMap<&[u8], usize> = sent.iter().map(|f| (&f[12..], 0)).collect();
    assert_eq!(arrivals.len(), sent.len(), "sent frames are not distinct");
    let mut src_macs = Vec::new();
    for (i, frame) in captured.iter().enumerate() {
        assert!(
            frame.len() >= 14,
            "captured frame {i} is a runt: {frame:02x?}"
        );
        let count = arrivals.get_mut(&frame[12..]).unwrap_or_else(|| {
            panic!(
                "captured frame {i} ({} bytes) matches no sent frame after the MACs\n{context}",
                frame.len()
            )
        });
        *count += 1;
        assert_eq!(
            frame[0..6],
            MAC_B,
            "captured frame {i}: destination is not namespace b's MAC"
        );
        src_macs.push(<[u8; 6]>::try_from(&frame[6..12]).expect("6 bytes"));
    }
    let missing: Vec<usize> = sent
        .iter()
        .enumerate()
        .filter(|(_, f)| arrivals[&f[12..]] == 0)
        .map(|(i, _)| i)
        .collect();
    let duplicated: Vec<usize> = sent
        .iter()
        .enumerate()
        .filter(|(_, f)| arrivals[&f[12..]] > 1)
        .map(|(i, _)| i)
        .collect();
    assert!(
        missing.is_empty() && duplicated.is_empty(),
        "frames missing in namespace b: {missing:?}; arrived more than once: {duplicated:?} \
         ({} captured of {} sent)\n{context}",
        captured.len(),
        sent.len()
    );
    let src = src_macs[0];
    assert!(
        src_macs.iter().all(|m| *m == src),
        "source MACs differ between frames"
    );
    assert_ne!(src, MAC_A, "source MAC was not rewritten");
    if let Some(logged) = logged_src {
        assert_eq!(
            mac_text(src),
            mac_text(logged),
            "source MAC is not the MAC mipdp logged for net_tap1"
        );
    }
}
