//! The frames on the wire, as `net_pcap` writes them: read back by our own pcap reader and
//! parser, and decoded by tshark with checksum validation on, for several sizes and flow
//! counts. Also a run whose RX port differs from its TX port (`net_pcap` replaying the
//! frames of an earlier run).

mod common;

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use mipdp_pktgen::frame::{parse_probe, verify_checksums};

/// Sizes worth checking: the minimum, an odd one (odd UDP length: a padded checksum
/// word), and the largest.
const SIZES: [usize; 3] = [64, 101, 1514];
const FLOWS: u32 = 5;
const COUNT: u64 = 200;

/// Sends `COUNT` probes of `size` bytes into `dir/size.pcap` and returns its path.
fn capture(dir: &Path, size: usize) -> std::path::PathBuf {
    let pcap = dir.join(format!("{size}.pcap"));
    let vdev = format!("net_pcap0,tx_pcap={}", pcap.display());
    let size_arg = size.to_string();
    let flows_arg = FLOWS.to_string();
    let count_arg = COUNT.to_string();
    let run = common::run(
        dir,
        &[
            "--tx-port",
            "net_pcap0",
            "--rx-port",
            "net_pcap0",
            "--size",
            &size_arg,
            "--flows",
            &flows_arg,
            "--count",
            &count_arg,
            "--src-mac",
            "02:00:00:00:00:01",
            "--dst-mac",
            "02:00:00:00:00:02",
            "--drain-ms",
            "0",
        ],
        &[vdev],
    );
    assert!(run.status.success(), "{run}");
    // A net_pcap port with only a tx_pcap receives nothing: every probe counts as lost.
    assert_eq!(run.count("tx_packets"), COUNT, "{run}");
    assert_eq!(run.count("lost"), COUNT, "{run}");
    pcap
}

/// The frames of a classic pcap file (either byte order, µs or ns timestamps).
fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).expect("pcap file");
    assert!(bytes.len() >= 24, "pcap file too short");
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    let big_endian = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        _ => panic!("not a pcap file: magic {magic:02x?}"),
    };
    let u32_at = |at: usize| {
        let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    assert_eq!(u32_at(20), 1, "link type Ethernet");
    let mut frames = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let captured = u32_at(at + 8) as usize;
        let original = u32_at(at + 12) as usize;
        assert_eq!(
            captured,
            original,
            "frame {} cut by the snap length",
            frames.len()
        );
        frames.push(bytes[at + 16..at + 16 + captured].to_vec());
        at += 16 + captured;
    }
    frames
}

#[test]
fn frames_on_the_wire_are_valid_probes_in_sequence_over_the_flows() {
    let dir = common::scratch();
    for size in SIZES {
        let frames = read_pcap(&capture(dir.path(), size));
        assert_eq!(frames.len() as u64, COUNT, "size {size}");
        let mut last_tx_ns = 0;
        for (i, frame) in frames.iter().enumerate() {
            assert_eq!(frame.len(), size, "frame {i}");
            assert_eq!(&frame[0..12], &[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
            verify_checksums(frame).unwrap_or_else(|e| panic!("size {size} frame {i}: {e}"));
            let probe = parse_probe(frame).unwrap_or_else(|e| panic!("frame {i}: {e}"));
            assert_eq!(probe.sequence, i as u64);
            let flow = (i as u32 % FLOWS) as u8;
            assert_eq!(probe.dst_ip, Ipv4Addr::new(203, 0, 113, 1 + flow));
            assert!(probe.tx_ns >= last_tx_ns, "timestamps never go back");
            last_tx_ns = probe.tx_ns;
        }
    }
}

#[test]
fn tshark_decodes_valid_ipv4_udp_with_correct_checksums() {
    if Command::new("tshark").arg("--version").output().is_err() {
        panic!("tshark is not installed: install tshark (make deps) to run this test");
    }
    let dir = common::scratch();
    for size in SIZES {
        let pcap = capture(dir.path(), size);
        let out = Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(&pcap)
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
            ])
            .args(["-T", "fields", "-E", "separator=,", "-E", "occurrence=a"])
            .args(["-e", "frame.len", "-e", "ip.version", "-e", "ip.dst"])
            .args(["-e", "ip.checksum.status", "-e", "udp.checksum.status"])
            .args([
                "-e",
                "udp.length",
                "-e",
                "_ws.malformed",
                "-e",
                "_ws.expert",
            ])
            .output()
            .expect("tshark runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "tshark failed: {stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len() as u64, COUNT, "size {size}: {stdout}{stderr}");
        for (i, line) in lines.iter().enumerate() {
            let f: Vec<&str> = line.split(',').collect();
            let flow = i as u32 % FLOWS;
            let dst = format!("203.0.113.{}", 1 + flow);
            let udp_len = (size - 34).to_string();
            // frame.len, ip.version, ip.dst, ip.checksum.status (1 = good),
            // udp.checksum.status (1 = good), udp.length, no malformed, no expert info.
            let want = [&size.to_string(), "4", &dst, "1", "1", &udp_len, "", ""];
            assert_eq!(f, want, "size {size} frame {i}: {line}");
        }
    }
}

#[test]
fn a_separate_rx_port_receives_the_probes() {
    let dir = common::scratch();
    // An earlier run's probes, replayed by the RX port (net_pcap1 reads the file) while
    // the TX port (net_pcap0) sends the same sequence numbers into another file.
    let earlier = capture(dir.path(), 64);
    let sent = dir.path().join("sent.pcap");
    let count_arg = COUNT.to_string();
    let run = common::run(
        dir.path(),
        &[
            "--tx-port",
            "net_pcap0",
            "--rx-port",
            "net_pcap1",
            "--count",
            &count_arg,
        ],
        &[
            format!("net_pcap0,tx_pcap={}", sent.display()),
            format!("net_pcap1,rx_pcap={}", earlier.display()),
        ],
    );
    assert!(run.status.success(), "{run}");
    assert_eq!(run.count("tx_packets"), COUNT, "{run}");
    assert_eq!(run.count("rx_packets"), COUNT, "{run}");
    assert_eq!(run.count("lost"), 0, "{run}");
    assert_eq!(read_pcap(&sent).len() as u64, COUNT);
}
