//! A flood of bogus Mobile IPv4 signalling (issue 5): 1,000,000 Registration Requests
//! that must fail, read by mipdp as fast as its worker can take them, must neither stop
//! forwarding nor stop a legitimate mobile node from registering.
//!
//! mipdp is a home agent with one worker on three DPDK virtual ports:
//!
//! - port 0, `net_pcap0` (the home link 10.1.0.0/24): reads `data.pcap`, 1,000,000 UDP
//!   packets from the correspondent 10.1.0.50 to the home address 10.1.0.100, statically
//!   bound to the care-of address 198.51.100.7;
//! - port 1, `net_pcap1` (the care-of network 192.0.2.0/24): reads `flood.pcap`, the
//!   1,000,000 bogus requests with the legitimate mobile node's requests spread among
//!   them, and writes what mipdp sends there (the replies) to pcap files;
//! - port 2, `net_null2` with `no-rx=1` (198.51.100.0/24): where the tunnelled data
//!   leaves; its TX counter is the output count.
//!
//! The bogus requests, all to the home agent 10.1.0.1 from 203.0.113.0/24: 600,000 for
//! the registered mobile's home address 10.1.0.101 under a wrong key (131,
//! `failed_authentication`), 200,000 for the statically bound 10.1.0.100 with an SPI
//! nobody has (131, `unknown_security_association`), and a malformed share: 100,000 whose
//! extension runs past the end (134, `poorly_formed`), 50,000 too short to be a request
//! (no reply, `not_a_request`) and 50,000 with a bad UDP checksum (`frame_bad_checksum`).
//! Every one asks for the attacker's care-of address 203.0.113.66.
//!
//! The legitimate mobile node is tests/peers/mip4_flood_peer.py: it writes 200 requests
//! for 10.1.0.101 (care-of 192.0.2.7, HMAC-MD5 under its key, NTP timestamps a millisecond
//! apart) that the test spreads evenly through the flood, and afterwards checks the
//! replies mipdp wrote (code, authenticator under its key, echoed Identification). Most of
//! them are lost to the full punt queue like the bogus ones, as a real mobile node's
//! retransmissions would be (RFC 5944 §3.6.3); some must get through.
//!
//! Asserted: every frame read; every punted frame either handled and counted by reason or
//! dropped as `punt_full` (received = handled + dropped, exactly); no bogus request
//! accepted (every acceptance is one of the mobile's authentic replies, one binding);
//! the denials answered no more than the configured rate allows; at least one accepted,
//! authentic reply for the mobile; every data packet tunnelled out of port 2. The rates
//! (frames read per second, requests handled per second, and the data rate with and
//! without the flood from a second run) are printed as a report, never asserted.
//!
//! Needs root (DPDK) and python3 (from scripts/install-deps.sh); fails, not skips.

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{counter, eal_args, key_values, unique_id, Mipdp, MIPDP};

const HA: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const CORRESPONDENT: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 50);
/// Statically bound: the data packets go to it.
const STATIC_HOME: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
const STATIC_CARE_OF: &str = "198.51.100.7";
/// The legitimate mobile node's home address and care-of address.
const HOME: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 101);
const CARE_OF: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);
const MOBILE_PORT: u16 = 49152;
const ATTACKER_CARE_OF: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 66);
const KEY: &str = "6d697064702d666c6f6f642074657374";
const SPI: u32 = 256;
const WRONG_SPI: u32 = 999;

const DATA: usize = 1_000_000;
const WRONG_KEY: usize = 600_000;
const UNKNOWN_SPI: usize = 200_000;
const POORLY_FORMED: usize = 100_000;
const TOO_SHORT: usize = 50_000;
const BAD_CHECKSUM: usize = 50_000;
const BOGUS: usize = WRONG_KEY + UNKNOWN_SPI + POORLY_FORMED + TOO_SHORT + BAD_CHECKSUM;
const LEGITIMATE: usize = 200;

/// Denials answered per second and in a burst at most (`[home_agent]`).
const ERROR_RATE: u64 = 50;
const ERROR_BURST: u64 = 10;

/// Source MACs of the frames (any: mipdp answers to the sender's MAC).
const MAC_CN: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x50];
const MAC_ROUTER: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x01];
/// Destination MAC of the input frames (the engine does not filter on it).
const MAC_HA: [u8; 6] = [0x02, 0x70, 0x63, 0x61, 0x70, 0x00];

/// Every reason a request is counted under, and every frame error (`mip4_frame_*`):
/// together they are everything the home agent handled.
const REASONS: [&str; 17] = [
    "registered",
    "registered_without_simultaneous_bindings",
    "deregistered",
    "not_a_request",
    "unusable_source",
    "poorly_formed",
    "missing_authentication",
    "unknown_security_association",
    "failed_authentication",
    "identification_mismatch",
    "replayed",
    "foreign_agent_failed_authentication",
    "unknown_home_agent",
    "administratively_prohibited",
    "insufficient_resources",
    "too_many_bindings",
    "unspecified",
];
const FRAME_ERRORS: [&str; 6] = [
    "truncated",
    "bad_ipv4",
    "bad_checksum",
    "fragment",
    "not_registration",
    "unknown_port",
];

fn config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"[dataplane]
mode = "mobility"
workers = [1]
mbufs = 16383
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000
control_socket = "{socket}"

[node]
roles = ["home-agent"]
addresses = ["{HA}", "192.0.2.1", "198.51.100.1"]
proxy_arp = true

[[port]]
device = "net_pcap0"

[[port]]
device = "net_pcap1"

[[port]]
device = "net_null2"

[[route]]
prefix = "10.1.0.0/24"
port = "net_pcap0"

[[route]]
prefix = "192.0.2.0/24"
port = "net_pcap1"

[[route]]
prefix = "198.51.100.0/24"
port = "net_null2"

[[neighbour]]
port = "net_pcap0"
address = "{CORRESPONDENT}"
mac = "02:aa:00:00:00:50"

[[neighbour]]
port = "net_null2"
address = "{STATIC_CARE_OF}"
mac = "02:cc:00:00:00:07"

[[binding]]
home = "{STATIC_HOME}"
care_of = ["{STATIC_CARE_OF}"]
encap = "ipip"

[home_agent]
addresses = ["{HA}"]
home_prefixes = ["10.1.0.0/24"]
max_lifetime = 600
max_bindings = 16
error_replies_per_second = {ERROR_RATE}
error_reply_burst = {ERROR_BURST}
# Generous: the workers of a loaded 2-core machine may be slow to apply a binding.
reply_wait_ms = 5000

[[home_agent.security_association]]
home_address = "{HOME}"
spi = {SPI}
key = "{KEY}"
# The mobile's requests are written into the pcap before mipdp starts, which can take a
# while on a loaded machine; their timestamps must still be within tolerance when read.
timestamp_tolerance_s = 600
"#,
        socket = dir.join("mipdp.sock").display(),
    );
    let path = dir.join("home-agent.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// RFC 1071 one's complement sum, folded.
fn sum16(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for c in chunks {
        for w in c.chunks(2) {
            let hi = u32::from(w[0]) << 8;
            sum += hi | w.get(1).map_or(0, |b| u32::from(*b));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Ethernet/IPv4/UDP frame with valid checksums.
fn udp_frame(
    src_mac: [u8; 6],
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    ident: u16,
    payload: &[u8],
) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let ip_len = 20 + udp_len;
    let mut f = Vec::with_capacity(14 + ip_len);
    f.extend_from_slice(&MAC_HA);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x08, 0x00]);
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&ident.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&src.0.octets());
    ip[16..20].copy_from_slice(&dst.0.octets());
    let c = sum16(&[&ip]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    let mut udp = [0u8; 8];
    udp[0..2].copy_from_slice(&src.1.to_be_bytes());
    udp[2..4].copy_from_slice(&dst.1.to_be_bytes());
    udp[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
    let pseudo = [
        &src.0.octets()[..],
        &dst.0.octets()[..],
        &[0, 17],
        &(udp_len as u16).to_be_bytes()[..],
    ]
    .concat();
    let c = sum16(&[&pseudo, &udp, payload]);
    udp[6..8].copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
    f.extend_from_slice(&udp);
    f.extend_from_slice(payload);
    f
}

/// A pcap file written frame by frame.
struct PcapWriter(BufWriter<File>);

impl PcapWriter {
    fn create(path: &Path) -> PcapWriter {
        let file = File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut head = Vec::new();
        head.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        head.extend_from_slice(&2u16.to_le_bytes());
        head.extend_from_slice(&4u16.to_le_bytes());
        head.extend_from_slice(&[0; 8]);
        head.extend_from_slice(&65535u32.to_le_bytes());
        head.extend_from_slice(&1u32.to_le_bytes());
        w.write_all(&head).expect("write pcap header");
        PcapWriter(w)
    }

    fn frame(&mut self, frame: &[u8]) {
        let len = (frame.len() as u32).to_le_bytes();
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&1_700_000_000u32.to_le_bytes());
        record[8..12].copy_from_slice(&len);
        record[12..16].copy_from_slice(&len);
        self.0.write_all(&record).expect("write pcap record");
        self.0.write_all(frame).expect("write pcap frame");
    }

    fn finish(mut self) {
        self.0.flush().expect("flush pcap");
    }
}

/// A Registration Request for `home` to the home agent asking for the attacker's care-of
/// address, with a Mobile-Home Authentication Extension of SPI `spi` whose authenticator
/// is `tag` (RFC 5944 §3.3, §3.5.2).
fn forged_request(home: Ipv4Addr, identification: u64, spi: u32, tag: [u8; 16]) -> Vec<u8> {
    let mut r = vec![1u8, 0, 0x01, 0x2c];
    r.extend_from_slice(&home.octets());
    r.extend_from_slice(&HA.octets());
    r.extend_from_slice(&ATTACKER_CARE_OF.octets());
    r.extend_from_slice(&identification.to_be_bytes());
    r.extend_from_slice(&[32, 20]);
    r.extend_from_slice(&spi.to_be_bytes());
    r.extend_from_slice(&tag);
    r
}

/// Bogus request number `i` as a frame: which kind follows from `i` (the kinds are
/// interleaved so every stretch of the flood has them all).
fn bogus_frame(i: usize, rng: &mut common::Rng) -> Vec<u8> {
    let attacker = Ipv4Addr::new(203, 0, 113, 1 + (i % 200) as u8);
    let sport = 1024 + (i % 60_000) as u16;
    let ident = i as u16;
    let id = rng.next_u64();
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&rng.bytes(16));
    // Kinds by i mod 20: 12 wrong key, 4 unknown SPI, 2 poorly formed, 1 short, 1 bad sum.
    let to = (HA, 434);
    match i % 20 {
        0..=11 => udp_frame(
            MAC_ROUTER,
            (attacker, sport),
            to,
            ident,
            &forged_request(HOME, id, SPI, tag),
        ),
        12..=15 => udp_frame(
            MAC_ROUTER,
            (attacker, sport),
            to,
            ident,
            &forged_request(STATIC_HOME, id, WRONG_SPI, tag),
        ),
        16 | 17 => {
            // The extension claims 40 bytes of which 20 are there.
            let mut r = forged_request(HOME, id, SPI, tag);
            r[25] = 40;
            udp_frame(MAC_ROUTER, (attacker, sport), to, ident, &r)
        }
        18 => udp_frame(
            MAC_ROUTER,
            (attacker, sport),
            to,
            ident,
            &forged_request(HOME, id, SPI, tag)[..10],
        ),
        _ => {
            let mut f = udp_frame(
                MAC_ROUTER,
                (attacker, sport),
                to,
                ident,
                &forged_request(HOME, id, SPI, tag),
            );
            // Flip the UDP checksum.
            f[14 + 20 + 6] ^= 0x5a;
            f
        }
    }
}

/// The legitimate mobile node's requests (UDP payloads), from mip4_flood_peer.py.
fn legitimate_requests(dir: &Path) -> (Vec<Vec<u8>>, PathBuf) {
    let out = Command::new("python3")
        .arg(peer_script())
        .args([
            "requests",
            "--count",
            &LEGITIMATE.to_string(),
            "--home",
            &HOME.to_string(),
            "--home-agent",
            &HA.to_string(),
            "--care-of",
            &CARE_OF.to_string(),
            "--lifetime",
            "300",
            "--spi",
            &SPI.to_string(),
            "--key",
            KEY,
        ])
        .output()
        .expect("run python3 mip4_flood_peer.py");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mip4_flood_peer.py requests failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent = dir.join("sent.txt");
    std::fs::write(&sent, &text).expect("write sent.txt");
    let requests: Vec<Vec<u8>> = text
        .lines()
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).expect("hex"))
                .collect()
        })
        .collect();
    assert_eq!(requests.len(), LEGITIMATE, "mip4_flood_peer.py: {text}");
    (requests, sent)
}

fn peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/mip4_flood_peer.py")
}

/// Writes the flood (bogus requests with the legitimate ones spread evenly) and the data.
fn write_inputs(dir: &Path, legitimate: &[Vec<u8>]) -> (PathBuf, PathBuf) {
    let flood = dir.join("flood.pcap");
    let mut w = PcapWriter::create(&flood);
    let mut rng = common::Rng::new(5);
    let every = BOGUS / LEGITIMATE;
    let mut next = legitimate.iter();
    for i in 0..BOGUS {
        if i % every == every / 2 {
            if let Some(r) = next.next() {
                w.frame(&udp_frame(
                    MAC_ROUTER,
                    (CARE_OF, MOBILE_PORT),
                    (HA, 434),
                    0,
                    r,
                ));
            }
        }
        w.frame(&bogus_frame(i, &mut rng));
    }
    assert!(next.next().is_none(), "every legitimate request placed");
    w.finish();

    let data = dir.join("data.pcap");
    let mut w = PcapWriter::create(&data);
    let payload = [0x5au8; 64 - 28];
    for i in 0..DATA {
        w.frame(&udp_frame(
            MAC_CN,
            (CORRESPONDENT, 5000),
            (STATIC_HOME, 6000),
            i as u16,
            &payload,
        ));
    }
    w.finish();
    (flood, data)
}

fn vdevs(dir: &Path, data: &Path, flood: Option<&Path>) -> Vec<String> {
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let rx = flood.map_or(String::new(), |f| format!("rx_pcap={},", f.display()));
    vec![
        format!(
            "net_pcap0,rx_pcap={},tx_pcap={},tx_pcap={}",
            data.display(),
            p("out0q0.pcap"),
            p("out0q1.pcap")
        ),
        format!(
            "net_pcap1,{rx}tx_pcap={},tx_pcap={}",
            p("out1q0.pcap"),
            p("out1q1.pcap")
        ),
        "net_null2,no-rx=1".to_string(),
    ]
}

/// `mipdp ctl show stats` as one map of every counter (later lines win on a clash, so
/// read `drops` and `engine` keys, which are unique).
fn ctl_stats(socket: &Path) -> Option<HashMap<String, String>> {
    let out = Command::new(MIPDP)
        .args(["ctl", "--socket"])
        .arg(socket)
        .args(["show", "stats"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut all = HashMap::new();
    for l in text
        .lines()
        .filter(|l| l.starts_with("drops ") || l.starts_with("engine "))
    {
        all.extend(key_values(l));
    }
    Some(all)
}

fn num(map: &HashMap<String, String>, key: &str) -> u64 {
    map.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {key}= in the counters"))
}

/// Rate of `key` of `port` between the first stats line above zero and the first at
/// `total`, from the periodic stats lines: (per second, seconds).
fn rate(stdout: &[String], port: &str, key: &str, total: u64) -> Option<(f64, f64)> {
    let points: Vec<(f64, u64)> = stdout
        .iter()
        .filter(|l| l.starts_with("stats elapsed="))
        .map(|l| key_values(l))
        .filter(|kv| kv.get("port").map(String::as_str) == Some(port))
        .filter_map(|kv| Some((kv.get("elapsed")?.parse().ok()?, kv.get(key)?.parse().ok()?)))
        .collect();
    // From the last line still at zero (else the first line) to the first at the total.
    let start = points
        .iter()
        .rev()
        .find(|(_, v)| *v == 0)
        .or(points.first())?;
    let end = points.iter().find(|(_, v)| *v >= total)?;
    let secs = end.0 - start.0;
    (secs > 0.0).then(|| ((end.1 - start.1) as f64 / secs, secs))
}

/// How many stats periods (`stats` lines of port 1, then `stats engine`) ended with
/// port 1 still reading the flood, and the elapsed time of the first of them whose engine
/// counters show a reply to an accepted registration.
fn during_the_flood(stdout: &[String], total: u64) -> (usize, Option<String>) {
    let mut reading = None;
    let mut periods = 0;
    for l in stdout {
        if l.starts_with("stats elapsed=") {
            let kv = key_values(l);
            if kv.get("port").map(String::as_str) == Some("net_pcap1") {
                let rx = kv.get("rx").and_then(|v| v.parse::<u64>().ok());
                reading = rx.filter(|rx| *rx < total).and(kv.get("elapsed").cloned());
            }
        } else if l.starts_with("stats engine ") {
            if let Some(at) = reading.take() {
                periods += 1;
                if counter(l, "mip4_registered") > 0 && counter(l, "mip4_replies") > 0 {
                    return (periods, Some(at));
                }
            }
        }
    }
    (periods, None)
}

/// Starts mipdp, waits until every frame of `data.pcap` left port 2 and (with a flood)
/// until every punted request is accounted for, and stops it.
fn run(
    dir: &Path,
    data: &Path,
    flood: Option<&Path>,
) -> (common::Finished, HashMap<String, String>, Duration) {
    let prefix = format!("mipdp-t-{}-flood", unique_id());
    let socket = dir.join("mipdp.sock");
    let started = Instant::now();
    let mut mipdp = Mipdp::start(
        &config(dir),
        &["--stats-interval", "100"],
        &eal_args(&prefix, &vdevs(dir, data, flood)),
        &prefix,
    );
    mipdp.expect_stdout("data tunnelled", Duration::from_secs(120), |l| {
        common::stats_line_reaches(l, "net_null2", "tx", DATA as u64)
    });
    let expected = if flood.is_some() {
        BOGUS + LEGITIMATE
    } else {
        0
    } as u64;
    // Handled or dropped: every punted frame ends as one or the other.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = None;
    while Instant::now() < deadline {
        if let Some(s) = ctl_stats(&socket) {
            let done = num(&s, "ctl_signalling") + num(&s, "punt_full") >= expected
                && num(&s, "punts") >= expected;
            last = Some(s);
            if done {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let elapsed = started.elapsed();
    let last = last.unwrap_or_else(|| panic!("mipdp ctl show stats never answered"));
    let finished = mipdp.stop();
    finished.assert_success();
    (finished, last, elapsed)
}

#[test]
fn a_million_bogus_registrations_stop_neither_forwarding_nor_a_legitimate_mobile() {
    common::require_root("e2e_signalling_flood");
    common::require_tool(
        "python3",
        &["-c", "import hmac, hashlib"],
        "python3 plays the mobile node",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let (legitimate, sent) = legitimate_requests(dir.path());
    let t = Instant::now();
    let (flood, data) = write_inputs(dir.path(), &legitimate);
    println!("inputs written in {:.1} s", t.elapsed().as_secs_f64());

    // The data alone first: the rate to compare with (a report, never asserted).
    let quiet = dir.path().join("quiet");
    std::fs::create_dir(&quiet).expect("create quiet/");
    let (alone, _, _) = run(&quiet, &data, None);
    let alone_rate = rate(&alone.stdout, "net_null2", "tx", DATA as u64);

    let (finished, live, elapsed) = run(dir.path(), &data, Some(&flood));
    let engine = finished.final_engine();
    let drops = finished.final_drops();
    let mut failures = Vec::new();
    let mut expect = |what: &str, ok: bool| {
        if !ok {
            failures.push(what.to_string());
        }
    };

    // Every frame read.
    let total = (BOGUS + LEGITIMATE) as u64;
    let port1 = finished.final_port("net_pcap1");
    expect(
        &format!(
            "port 1 read {} frames, want {total}: {port1}",
            counter(port1, "rx")
        ),
        counter(port1, "rx") == total,
    );
    // Received = handled + dropped.
    let punts = counter(engine, "punts");
    let handled = counter(engine, "ctl_signalling");
    let punt_full = counter(drops, "punt_full");
    expect(
        &format!("punts={punts}, want every request ({total})"),
        punts == total,
    );
    expect(
        &format!("handled {handled} + punt_full {punt_full} != punted {punts}"),
        handled + punt_full == punts,
    );
    let by_reason: u64 = REASONS
        .iter()
        .map(|r| counter(engine, &format!("mip4_{r}")))
        .chain(
            FRAME_ERRORS
                .iter()
                .map(|e| counter(engine, &format!("mip4_frame_{e}"))),
        )
        .sum();
    expect(
        &format!("{by_reason} requests counted by reason, want every one handled ({handled})"),
        by_reason == handled,
    );
    // Each kind counted under its own reason, never more than were sent.
    let registered = counter(engine, "mip4_registered");
    for (key, sent, must_see) in [
        ("mip4_failed_authentication", WRONG_KEY, true),
        ("mip4_unknown_security_association", UNKNOWN_SPI, true),
        ("mip4_poorly_formed", POORLY_FORMED, true),
        ("mip4_not_a_request", TOO_SHORT, true),
        ("mip4_frame_bad_checksum", BAD_CHECKSUM, true),
        ("mip4_registered", LEGITIMATE, true),
    ] {
        let n = counter(engine, key);
        expect(
            &format!("{key}={n}: want 1..={sent}"),
            n <= sent as u64 && (!must_see || n > 0),
        );
    }
    let explained = [
        "failed_authentication",
        "unknown_security_association",
        "poorly_formed",
        "not_a_request",
        "frame_bad_checksum",
        "registered",
    ]
    .iter()
    .map(|k| counter(engine, &format!("mip4_{k}")))
    .sum::<u64>();
    expect(
        &format!(
            "{} handled requests under another reason than their kind's",
            handled - explained.min(handled)
        ),
        explained == handled,
    );

    // No bogus request created or changed a binding: one binding (the mobile's), and
    // every acceptance is one of the mobile's authentic replies.
    expect(
        &format!("mip4_bindings={}, want 1", counter(engine, "mip4_bindings")),
        counter(engine, "mip4_bindings") == 1,
    );
    expect(
        "a deregistration happened",
        counter(engine, "mip4_deregistered") == 0,
    );
    let out = Command::new("python3")
        .arg(peer_script())
        .args(["replies", "--pcap"])
        .arg(dir.path().join("out1q1.pcap"))
        .args(["--mobile", &CARE_OF.to_string(), "--port"])
        .arg(MOBILE_PORT.to_string())
        .args(["--key", KEY, "--sent"])
        .arg(&sent)
        .output()
        .expect("run mip4_flood_peer.py replies");
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    expect(
        &format!(
            "mip4_flood_peer.py replies failed: {line} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        out.status.success(),
    );
    let mobile = key_values(&line);
    let m = |k: &str| {
        mobile
            .get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    expect(
        &format!("the mobile got no accepted authentic reply: {line}"),
        m("accepted_authentic") >= 1,
    );
    expect(
        &format!("accepted replies not all authentic, or not one per registration ({registered}): {line}"),
        m("accepted") == m("accepted_authentic") && m("accepted") == registered,
    );
    expect(&format!("the mobile was denied: {line}"), m("denied") == 0);
    for key in ["mip4_replies_abandoned", "mip4_replies_unsent"] {
        expect(&format!("{key} != 0"), counter(engine, key) == 0);
    }

    // Denials answered at the configured rate at most, the rest counted as limited.
    let replies = counter(engine, "mip4_replies");
    let limited = counter(engine, "mip4_replies_limited");
    let denials_answered = replies - registered.min(replies);
    let allowed = ERROR_BURST + (ERROR_RATE as f64 * elapsed.as_secs_f64()).ceil() as u64;
    expect(
        &format!("{denials_answered} denials answered in {elapsed:?}, allowed {allowed}"),
        denials_answered <= allowed,
    );
    let with_reply = handled
        - counter(engine, "mip4_not_a_request")
        - counter(engine, "mip4_frame_bad_checksum")
        - registered;
    expect(
        &format!("denials answered {denials_answered} + limited {limited} != denials with a reply {with_reply}"),
        denials_answered + limited == with_reply,
    );

    // Forwarding never stopped: every data packet tunnelled out of port 2.
    let port2 = finished.final_port("net_null2");
    expect(
        &format!(
            "port 2 sent {} of {DATA} data packets: {port2}",
            counter(port2, "tx")
        ),
        counter(port2, "tx") == DATA as u64,
    );
    expect(
        &format!("encap_ipip={}, want {DATA}", counter(engine, "encap_ipip")),
        counter(engine, "encap_ipip") == DATA as u64,
    );
    for kv in drops.split_whitespace().skip(2) {
        if let Some((k, v)) = kv.split_once('=') {
            if k != "punt_full" && v != "0" {
                expect(&format!("drops: {k}={v}"), false);
            }
        }
    }

    // The control thread kept up its other work during the flood: stats periods while
    // port 1 was still reading it, and the mobile's acceptance sent in one of them (not
    // only once the flood was over).
    let (periods, answered) = during_the_flood(&finished.stdout, total);
    expect(
        &format!(
            "no accepted reply was sent while the flood was being read ({periods} stats \
             periods during the flood, first with a reply: {answered:?})"
        ),
        answered.is_some(),
    );
    // The report.
    let flood_rate = rate(&finished.stdout, "net_pcap1", "rx", total);
    let with_rate = rate(&finished.stdout, "net_null2", "tx", DATA as u64);
    println!(
        "flood: {total} requests read in {} ({} /s); handled {handled} ({} /s: {}), punt_full {punt_full}; \
         mobile: {line}; denials answered {denials_answered}, limited {limited}",
        flood_rate.map_or("?".into(), |r| format!("{:.2} s", r.1)),
        flood_rate.map_or("?".into(), |r| format!("{:.0}", r.0)),
        flood_rate.map_or("?".into(), |r| format!("{:.0}", handled as f64 / r.1)),
        REASONS
            .iter()
            .map(|r| format!("{r}={}", counter(engine, &format!("mip4_{r}"))))
            .filter(|s| !s.ends_with("=0"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    println!(
        "data: {DATA} packets tunnelled at {} pps with the flood, {} pps alone (report only)",
        with_rate.map_or("?".into(), |r| format!("{:.0}", r.0)),
        alone_rate.map_or("?".into(), |r| format!("{:.0}", r.0)),
    );
    println!(
        "live counters at the end: ctl_signalling={} punt_full={}",
        num(&live, "ctl_signalling"),
        num(&live, "punt_full")
    );
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.join("\n"),
        finished.transcript()
    );
}
