//! End to end through pcap files: mipdp reads frames from a pcap file on port 0 (net_pcap0)
//! and writes what it forwards to pcap files on port 1 (net_pcap1). The output must be the
//! input, in order, with only the two MAC addresses rewritten, and without the runts.
//!
//! net_pcap needs one `rx_pcap=` per RX queue and one `tx_pcap=` per TX queue; mipdp gives
//! every port one RX queue per worker and one TX queue per worker plus one for the control
//! thread. A port without `rx_pcap` still works (its RX queue never delivers anything).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{counter, eal_args, mac_text, pcap, stats_line_reaches, unique_id, Mipdp, Rng};

/// Destination of the frames that leave port 1 (its peer_mac in the configuration).
const PEER_1: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x01];
/// Frames of at least an Ethernet header in the input.
const FRAMES: usize = 200;
/// Input positions (among all input frames) of the runts, and their lengths.
const RUNTS: [(usize, usize); 3] = [(0, 1), (77, 8), (150, 13)];

fn config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"[dataplane]
mode = "forwarder"
workers = [1]
mbufs = 4095
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000

[[port]]
device = "net_pcap0"
peer_mac = "02:aa:00:00:00:01"

[[port]]
device = "net_pcap1"
peer_mac = "{}"
"#,
        mac_text(PEER_1)
    );
    let path = dir.join("forwarder.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// An Ethernet + IPv4 + UDP frame of `len` bytes (at least 14) carrying `seq` and random
/// bytes; shorter than the headers, just an Ethernet header and random bytes.
fn frame(seq: u32, len: usize, rng: &mut Rng) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, 0x00, 0xfe]); // addressed to the forwarder
    f.extend_from_slice(&[0x02, 0xaa, 0x00, 0x00, 0x00, 0x01]); // from the host on port 0
    f.extend_from_slice(&[0x08, 0x00]);
    if len >= 14 + 20 + 8 + 4 {
        let ip_len = (len - 14) as u16;
        let mut ip = [
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 1, 198, 51, 100, 2,
        ];
        ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
        ip[4..6].copy_from_slice(&(seq as u16).to_be_bytes());
        let sum = ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum::<u32>();
        let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&40000u16.to_be_bytes());
        f.extend_from_slice(&47000u16.to_be_bytes());
        f.extend_from_slice(&(ip_len - 20).to_be_bytes());
        f.extend_from_slice(&[0, 0]); // no UDP checksum
        f.extend_from_slice(&seq.to_be_bytes());
    }
    let fill = len - f.len();
    f.extend(rng.bytes(fill));
    f
}

/// The input: `FRAMES` frames of 14..=1514 bytes (edges first, then random), with the
/// runts inserted at their positions.
fn input_frames() -> Vec<Vec<u8>> {
    let mut rng = Rng::new(2024);
    let edges = [14, 15, 60, 1514, 64, 1500];
    let mut frames: Vec<Vec<u8>> = (0..FRAMES)
        .map(|i| {
            let len = edges.get(i).copied().unwrap_or_else(|| rng.range(60, 1514));
            frame(i as u32, len, &mut rng)
        })
        .collect();
    for (at, len) in RUNTS {
        let runt = rng.bytes(len);
        frames.insert(at, runt);
    }
    frames
}

#[test]
fn pcap_frames_are_forwarded_in_order_with_macs_rewritten_and_runts_dropped() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let input = input_frames();
    let in_pcap = dir.path().join("in.pcap");
    pcap::write(&in_pcap, &input);

    let out = |port: usize, queue: usize| pcap::out(dir.path(), port, queue);
    // 1 worker: 1 RX queue and 2 TX queues (the worker's and the control thread's) per port.
    let vdevs = pcap::two_port_vdevs(dir.path(), &in_pcap);
    let prefix = format!("mipdp-t-{}-pcap", unique_id());
    let mut mipdp = Mipdp::start(
        &config(dir.path()),
        &["--stats-interval", "100"],
        &eal_args(&prefix, &vdevs),
        &prefix,
    );
    mipdp.expect_stdout(
        &format!("net_pcap1 tx = {FRAMES}"),
        Duration::from_secs(30),
        |l| stats_line_reaches(l, "net_pcap1", "tx", FRAMES as u64),
    );
    let src_mac = mipdp
        .logged_mac("net_pcap1")
        .expect("mipdp logs `port 1 (net_pcap1): id 1, mac ...` at start-up");
    let finished = mipdp.stop();
    finished.assert_success();

    let port0 = finished.final_port("net_pcap0");
    let port1 = finished.final_port("net_pcap1");
    let drops = finished.final_drops();
    let all = (FRAMES + RUNTS.len()) as u64;
    assert_eq!(counter(port0, "rx"), all, "{port0}");
    assert_eq!(counter(port1, "tx"), FRAMES as u64, "{port1}");
    assert_eq!(counter(port1, "rx"), 0, "{port1}");
    assert_eq!(counter(port0, "tx"), 0, "{port0}");
    assert_eq!(counter(drops, "runt"), RUNTS.len() as u64, "{drops}");
    assert_eq!(counter(drops, "no_egress"), 0, "{drops}");
    assert_eq!(counter(drops, "tx_full"), 0, "{drops}");

    let output = pcap::read_all(&[out(1, 0), out(1, 1)]);
    let back = pcap::read_all(&[out(0, 0), out(0, 1)]);
    assert!(back.is_empty(), "{} frames left by port 0", back.len());
    let expected: Vec<&Vec<u8>> = input.iter().filter(|f| f.len() >= 14).collect();
    assert_forwarded(&output, &expected, src_mac);
}

/// `output` is `expected` in order, with destination = port 1's peer_mac, source = `src_mac`
/// and every byte after the MACs unchanged.
fn assert_forwarded(output: &[Vec<u8>], expected: &[&Vec<u8>], src_mac: [u8; 6]) {
    assert_eq!(
        output.len(),
        expected.len(),
        "port 1 wrote {} frames, expected {} (the input without its {} runts)",
        output.len(),
        expected.len(),
        RUNTS.len()
    );
    for (i, (got, want)) in output.iter().zip(expected).enumerate() {
        assert_eq!(got.len(), want.len(), "frame {i}: length changed");
        assert_eq!(
            mac_text(got[0..6].try_into().expect("6 bytes")),
            mac_text(PEER_1),
            "frame {i}: destination is not port 1's peer_mac"
        );
        assert_eq!(
            mac_text(got[6..12].try_into().expect("6 bytes")),
            mac_text(src_mac),
            "frame {i}: source is not net_pcap1's MAC"
        );
        assert!(
            got[12..] == want[12..],
            "frame {i} ({} bytes): bytes after the MACs changed",
            got.len()
        );
    }
}
