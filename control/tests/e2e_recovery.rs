//! Recovery after a restart end to end (issue 6, "Recovery"): a real `mipdp run` on DPDK
//! net_tap ports moved into network namespaces, started with a binding backup written
//! beforehand with control's own `Backup` API.
//!
//! - pacing: the backup holds N Mobile IPv6 home bindings spread over four care-of /64s
//!   behind one router; with `[recovery] rate = R` the Binding Refresh Requests captured
//!   on the care-of side over 10 s (on average over every 10 s window of the capture)
//!   number R × 10 within ± 5 %, and each one goes to another care-of prefix than the one
//!   before it.
//!
//! - recovery: four mobile nodes register with a first mipdp through real Binding
//!   Updates (tests/peers/mip6_mobile.py: scapy, hmac/hashlib), each in its own care-of
//!   /64; mipdp is killed (SIGKILL) and started again on the same backup. A stream from
//!   the home link to the four home addresses (tests/peers/udp_stream.py) and a capture
//!   on the care-of side run through the recovery; two mobiles answer each Binding Refresh
//!   Request with an authenticated Binding Update (tests/peers/mip6_refresh_answerer.py),
//!   two stay silent. After the timeouts exactly the silent ones are gone (from
//!   `mipdp ctl show bindings`, the forwarding, and the backup file), the answering ones
//!   are verified and re-stored with their new sequence number, and the packets for them
//!   kept arriving at their care-of addresses in every two seconds from the first after
//!   the restart to the end; the silent ones' packets also arrived at once after the restart
//!   (forwarding resumes before any verification) until they were removed.
//!
//! Needs root, DPDK's net_tap, iproute2, tcpdump and python3 with scapy. It fails, not
//! skips, without them.

mod common;

use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::{ctl, mac_text, pcap, Topology};
use mipdp_control::backup::{Backup, Change, Record, ReplayState, Role, RoleData};
use mipdp_control::state::bindings::Expiry;
use mipdp_dataplane::tables::Encap;

/// MAC of the home link namespace's interface (behind DPDK port 0).
const MAC_HOME_LINK: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x50];
/// MAC of the router toward the care-of networks (behind DPDK port 1).
const MAC_ROUTER: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0xfe];
const HA: &str = "2001:db8:1::1";
const ROUTER: &str = "2001:db8:2::fe";
/// The care-of networks: 2001:db8:100:<g>::/64 for g in 0..CARE_OF_NETWORKS.
const CARE_OF_NETWORKS: u16 = 4;
const SPI: u32 = 256;
const KEY: &str = "6d697064702d6d6970366861207465737420";

/// The configuration: a Mobile IPv6 home agent with a backup and `[recovery]` settings.
fn config(dir: &Path, recovery: &str, more_associations: &str) -> PathBuf {
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
addresses = ["{HA}", "2001:db8:2::1"]

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

[[route]]
prefix = "2001:db8:1::/64"
port = "net_tap0"

[[route]]
prefix = "2001:db8:2::/64"
port = "net_tap1"

[[route]]
prefix = "2001:db8:100::/48"
port = "net_tap1"
via = "{ROUTER}"

[[neighbour]]
port = "net_tap1"
address = "{ROUTER}"
mac = "{router}"

[home_agent6]
addresses = ["{HA}"]
home_prefixes = ["2001:db8:1::/64"]
max_lifetime = 3600
max_bindings = 4096
neighbour_advertisements = 1
neighbour_advertisement_interval_ms = 1000
binding_refresh_before_s = 0

[[home_agent6.security_association]]
home_address = "2001:db8:1::1000"
spi = {SPI}
key = "{KEY}"
{more_associations}

[backup]
path = "{backup}"

[recovery]
{recovery}
"#,
        router = mac_text(MAC_ROUTER),
        socket = dir.join("mipdp.sock").display(),
        backup = dir.join("bindings.redb").display(),
    );
    let path = dir.join("recovery.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// Home address number `i`: 2001:db8:1::1000 + i.
fn home(i: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x1000 + i)
}

/// The care-of address of mobile `i`, in care-of network `i % CARE_OF_NETWORKS`.
fn care_of(i: u16) -> Ipv6Addr {
    Ipv6Addr::new(
        0x2001,
        0xdb8,
        0x100,
        i % CARE_OF_NETWORKS,
        0,
        0,
        0,
        0x1000 + i,
    )
}

/// The backup record of mobile `i`'s home binding, an hour left.
fn record(i: u16) -> Record {
    Record {
        role: Role::HomeAgent,
        home_address: IpAddr::V6(home(i)),
        care_of: vec![IpAddr::V6(care_of(i))],
        encap: Encap::IpInIp,
        tunnel_source: IpAddr::V6(HA.parse().expect("address")),
        lifetime: 3600,
        expires: Expiry::At(SystemTime::now() + Duration::from_secs(3600)),
        replay: ReplayState {
            last_sequence: Some(1),
            ..ReplayState::default()
        },
        spi: Some(SPI),
        nai: None,
        profiles: Vec::new(),
        role_data: RoleData::None,
    }
}

/// Writes a backup holding the home bindings of mobiles `0..n`.
fn write_backup(dir: &Path, n: u16) {
    let mut backup = Backup::open(dir.join("bindings.redb")).expect("create the backup");
    let changes: Vec<Change> = (0..n).map(|i| Change::Put(record(i))).collect();
    backup.apply(&changes).expect("store the bindings");
    assert_eq!(backup.load().expect("read back").len(), usize::from(n));
}

/// The care-of address a frame carries a Binding Refresh Request to: an IPv6 packet to
/// it (next header 41) around one from the home agent to a home address whose Mobility
/// Header is of type 0. RFC 6275 §6.1.2, §10.4.1 (tunnelled: see the report).
fn refresh_request_to(frame: &[u8]) -> Option<Ipv6Addr> {
    const ETH: usize = 14;
    const IP6: usize = 40;
    if frame.get(12..14)? != [0x86, 0xdd] || *frame.get(ETH + 6)? != 41 {
        return None;
    }
    let inner = ETH + IP6;
    let ha: Ipv6Addr = HA.parse().ok()?;
    let inner_src: [u8; 16] = frame.get(inner + 8..inner + 24)?.try_into().ok()?;
    if *frame.get(inner + 6)? != 135 || Ipv6Addr::from(inner_src) != ha {
        return None;
    }
    if *frame.get(inner + IP6 + 2)? != 0 {
        return None;
    }
    let dst: [u8; 16] = frame.get(ETH + 24..ETH + 40)?.try_into().ok()?;
    Some(Ipv6Addr::from(dst))
}

/// The /64 of an address.
fn network(a: Ipv6Addr) -> [u16; 4] {
    let s = a.segments();
    [s[0], s[1], s[2], s[3]]
}

#[test]
fn restored_bindings_are_asked_at_the_configured_rate_alternating_care_of_prefixes() {
    common::require_root("e2e_recovery");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool(
        "tcpdump",
        &["--version"],
        "tcpdump records the care-of side",
    );

    const RATE: u32 = 50;
    const WINDOW_S: f64 = 10.0;
    // Requests for about 20 s: the 10 s window falls inside them, whenever the
    // capture starts.
    const MOBILES: u16 = 1000;
    let dir = tempfile::tempdir().expect("temporary directory");
    write_backup(dir.path(), MOBILES);
    let config = config(
        dir.path(),
        // A burst of 200 ms of requests: a control thread held up that long on a loaded
        // machine catches up instead of losing the tokens.
        &format!("rate = {RATE}\nburst = 10\ntimeout_ms = 600000\nretries = 0"),
        "",
    );
    let socket = dir.path().join("mipdp.sock");
    let mut topo = Topology::new("recpace");
    topo.start_mipdp(&config, &["--stats-interval", "1000"]);
    topo.adopt_taps(MAC_HOME_LINK, MAC_ROUTER, Duration::from_secs(30));
    let path = dir.path().join("care-of.pcap");
    let (ns_b, tap_b) = (topo.ns_b.clone(), topo.tap_b.clone());
    let capture = topo.capture(&ns_b, &tap_b, &path);
    std::thread::sleep(Duration::from_secs_f64(WINDOW_S + 4.0));
    let progress = ctl(&socket, &["show", "recovery"]);
    let frames = {
        let _ = topo.finish_capture(&capture, usize::MAX, Duration::from_millis(100));
        pcap::read_timed(&path)
    };
    let requests: Vec<(f64, Ipv6Addr)> = frames
        .iter()
        .filter_map(|(t, f)| refresh_request_to(f).map(|a| (*t, a)))
        .collect();
    let finished = topo.stop_mipdp();
    let log = finished.stderr.join("\n");
    assert!(
        requests.len() > 2,
        "no binding refresh requests captured ({} frames); show recovery: {progress}\n{log}",
        frames.len()
    );
    // Every 10 s window that starts at a captured request (from half a second after the
    // first one seen: the capture may have started in the middle of a tick) and ends
    // before the last: their mean count is the rate on the wire. One window alone would
    // count a stall of the worker that sends the control thread's frames on net_tap (a
    // busy machine deschedules it now and then) as missing requests when the stall
    // happens to straddle the window's end.
    let first = requests[0].0 + 0.5;
    let last = requests.last().map_or(0.0, |r| r.0);
    let times: Vec<f64> = requests.iter().map(|r| r.0).collect();
    let counts: Vec<f64> = times
        .iter()
        .filter(|t| **t >= first && **t + WINDOW_S <= last)
        .map(|t| {
            let end = times.partition_point(|u| *u < t + WINDOW_S);
            let start = times.partition_point(|u| u < t);
            (end - start) as f64
        })
        .collect();
    assert!(
        counts.len() >= 50,
        "only {} windows of {WINDOW_S} s: the requests ended {:.1} s after the first",
        counts.len(),
        last - first
    );
    let in_window = counts.iter().sum::<f64>() / counts.len() as f64;
    let (low, high) = counts
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), c| (l.min(*c), h.max(*c)));
    let expected = f64::from(RATE) * WINDOW_S;
    assert!(
        (in_window - expected).abs() <= expected * 0.05,
        "{in_window:.1} binding refresh requests in {WINDOW_S} s on average over {} windows \
         ({low} to {high}), want {expected} ± 5 %; show recovery: {progress}; mipdp's drops: \
         {}; tcpdump: {}",
        counts.len(),
        finished.final_drops(),
        capture.summary()
    );
    let mut same = Vec::new();
    for (i, pair) in requests.windows(2).enumerate() {
        if network(pair[0].1) == network(pair[1].1) {
            same.push(format!("#{i}: {} then {}", pair[0].1, pair[1].1));
        }
    }
    assert!(
        same.is_empty(),
        "consecutive binding refresh requests to the same care-of /64: {same:?}; mipdp's \
         drops: {}; tcpdump: {}",
        finished.final_drops(),
        capture.summary()
    );
    let mut seen: Vec<Ipv6Addr> = requests.iter().map(|r| r.1).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), requests.len(), "a mobile was asked twice");
    assert!(
        (0..MOBILES).map(care_of).any(|c| c == requests[0].1),
        "requests go to the restored care-of addresses"
    );
    assert!(
        progress.starts_with(&format!("recovery total={MOBILES} verified=0 ")),
        "mipdp ctl show recovery: {progress}"
    );
    eprintln!(
        "pacing: {in_window:.1} requests in {WINDOW_S} s on average over {} windows ({low} to \
         {high}) at rate {RATE} ({} captured in all)",
        counts.len(),
        requests.len()
    );
}

/// The mobiles of the recovery test: 0 and 2 answer, 1 and 3 stay silent.
const MOBILES_E2E: u16 = 4;
const ANSWERING: [u16; 2] = [0, 2];
/// The lifetime the mobiles ask for, in 4-second units (600 s).
const LIFETIME_UNITS: u16 = 150;
const CN: &str = "2001:db8:1::50";
/// Packets a second to each home address.
const STREAM_PPS: u32 = 20;

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Registers mobile `i` through a real Binding Update from its care-of address (behind
/// the router); returns what mip6_mobile.py printed.
fn register(topo: &Topology, i: u16, ha_mac: &str) -> String {
    let (home, care_of, seq) = (home(i).to_string(), care_of(i).to_string(), "1");
    let (lifetime, spi) = (LIFETIME_UNITS.to_string(), SPI.to_string());
    let router = mac_text(MAC_ROUTER);
    let script = script("mip6_mobile.py");
    let out = topo.ns_output(
        &topo.ns_b,
        &[
            "python3",
            &script,
            "--iface",
            &topo.tap_b,
            "--src-mac",
            &router,
            "--dst-mac",
            ha_mac,
            "--src",
            &care_of,
            "--home-agent",
            HA,
            "--home",
            &home,
            "--seq",
            seq,
            "--lifetime",
            &lifetime,
            "--spi",
            &spi,
            "--key",
            KEY,
            "--timeout",
            "30",
        ],
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Starts mipdp (again) on the topology and moves its taps into the namespaces; returns
/// the MACs of its home-link and care-of-side ports.
fn start(topo: &mut Topology, config: &Path) -> (String, String) {
    topo.start_mipdp(config, &["--stats-interval", "1000"]);
    topo.adopt_taps(MAC_HOME_LINK, MAC_ROUTER, Duration::from_secs(30));
    let m = topo.mipdp();
    let home_mac = m
        .logged_mac("net_tap0")
        .expect("mipdp logged no MAC for net_tap0");
    let away_mac = m
        .logged_mac("net_tap1")
        .expect("mipdp logged no MAC for net_tap1");
    (mac_text(home_mac), mac_text(away_mac))
}

/// Waits until the old mipdp's tap interfaces are gone from the namespaces, so the new
/// ones can take their names.
fn wait_taps_gone(topo: &Topology) {
    for (ns, tap) in [(&topo.ns_a, &topo.tap_a), (&topo.ns_b, &topo.tap_b)] {
        for _ in 0..200 {
            let out = topo.ns_output(ns, &["ip", "link", "show", "dev", tap]);
            if !out.status.success() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// (capture time, care-of address) of each UDP packet from the correspondent tunnelled
/// to a care-of address (IPv6 in IPv6) in a capture.
fn tunnelled_stream(frames: &[(f64, Vec<u8>)]) -> Vec<(f64, Ipv6Addr)> {
    const ETH: usize = 14;
    let cn: Ipv6Addr = CN.parse().expect("address");
    frames
        .iter()
        .filter_map(|(t, f)| {
            if f.get(12..14)? != [0x86, 0xdd] {
                return None;
            }
            // The outer header may carry the Tunnel Encapsulation Limit option in a
            // Destination Options header (RFC 2473 §5.1).
            let (mut next, mut inner) = (*f.get(ETH + 6)?, ETH + 40);
            if next == 60 {
                next = *f.get(inner)?;
                inner += (usize::from(*f.get(inner + 1)?) + 1) * 8;
            }
            if next != 41 {
                return None;
            }
            let src: [u8; 16] = f.get(inner + 8..inner + 24)?.try_into().ok()?;
            if *f.get(inner + 6)? != 17 || Ipv6Addr::from(src) != cn {
                return None;
            }
            let dst: [u8; 16] = f.get(ETH + 24..ETH + 40)?.try_into().ok()?;
            Some((*t, Ipv6Addr::from(dst)))
        })
        .collect()
}

#[test]
fn after_a_restart_the_answering_mobiles_are_verified_and_exactly_the_silent_ones_removed() {
    common::require_root("e2e_recovery");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool(
        "tcpdump",
        &["--version"],
        "tcpdump records the care-of side",
    );
    common::require_tool(
        "python3",
        &["-c", "import scapy.layers.inet6, hmac, hashlib"],
        "python3 with scapy plays the mobile nodes and the correspondent",
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let associations: String = (1..MOBILES_E2E)
        .map(|i| {
            format!(
                "[[home_agent6.security_association]]\nhome_address = \"{}\"\nspi = {SPI}\nkey = \"{KEY}\"\n",
                home(i)
            )
        })
        .collect();
    let config = config(
        dir.path(),
        "rate = 10\nburst = 2\ntimeout_ms = 3000\nretries = 3",
        &associations,
    );
    let socket = dir.path().join("mipdp.sock");
    let mut topo = Topology::new("recover");

    // Before the restart: every mobile registers, and its binding is backed up before
    // its acknowledgement leaves.
    let (_, away_mac) = start(&mut topo, &config);
    for i in 0..MOBILES_E2E {
        let out = register(&topo, i, &away_mac);
        assert!(
            out.contains(" status=0 ") && out.contains("authentic=True"),
            "mobile {i} did not register: {out}"
        );
    }
    let before = ctl(&socket, &["show", "bindings"]);
    assert!(
        before.contains(&format!("bindings total={MOBILES_E2E}")),
        "{before}"
    );
    common::signal(topo.mipdp().pid(), "KILL");
    let killed = topo.stop_mipdp();
    assert!(
        killed.status.is_some_and(|s| !s.success()),
        "mipdp was not killed"
    );
    wait_taps_gone(&topo);

    // The restart: the bindings are restored and forwarded for at once, then verified.
    let (home_mac, away_mac) = start(&mut topo, &config);
    let path = dir.path().join("care-of.pcap");
    let (ns_a, tap_a) = (topo.ns_a.clone(), topo.tap_a.clone());
    let (ns_b, tap_b) = (topo.ns_b.clone(), topo.tap_b.clone());
    let capture = topo.capture(&ns_b, &tap_b, &path);
    let answerer = script("mip6_refresh_answerer.py");
    let (router, lifetime) = (mac_text(MAC_ROUTER), LIFETIME_UNITS.to_string());
    let mut args: Vec<String> = [
        "python3",
        &answerer,
        "--iface",
        &tap_b,
        "--src-mac",
        &router,
        "--dst-mac",
        &away_mac,
        "--home-agent",
        HA,
        "--key",
        KEY,
        "--lifetime",
        &lifetime,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in ANSWERING {
        args.push("--mobile".into());
        args.push(format!("{},{},{SPI},2", home(i), care_of(i)));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (answering, answers, answer_errors) = topo.spawn_in(&ns_b, &args);
    assert!(
        answers
            .wait_for(Duration::from_secs(20), |l| l == "listening")
            .is_some(),
        "the answering mobiles did not start: {:?}",
        answer_errors.snapshot()
    );
    let stream = script("udp_stream.py");
    let (cn_mac, pps) = (mac_text(MAC_HOME_LINK), STREAM_PPS.to_string());
    let mut args: Vec<String> = [
        "python3",
        &stream,
        "--iface",
        &tap_a,
        "--src-mac",
        &cn_mac,
        "--dst-mac",
        &home_mac,
        "--src",
        CN,
        "--pps",
        &pps,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in 0..MOBILES_E2E {
        args.push("--dst".into());
        args.push(home(i).to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (streaming, stream_out, stream_errors) = topo.spawn_in(&ns_a, &args);
    assert!(
        stream_out
            .wait_for(Duration::from_secs(20), |l| l == "sending")
            .is_some(),
        "the stream did not start: {:?}",
        stream_errors.snapshot()
    );

    // Silent mobiles: 1 + 3 retries, 3 s each, then removal.
    let mut progress = String::new();
    for _ in 0..600 {
        progress = ctl(&socket, &["show", "recovery"]);
        if progress.contains(" pending=0 ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let done_at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    // Two more seconds of the stream after the last removal.
    std::thread::sleep(Duration::from_secs(2));
    let bindings = ctl(&socket, &["show", "bindings"]);
    let _ = topo.stop_helper(streaming);
    let _ = topo.stop_helper(answering);
    let _ = topo.finish_capture(&capture, usize::MAX, Duration::from_millis(100));
    let frames = pcap::read_timed(&path);
    let finished = topo.stop_mipdp();
    let log = finished.stderr.join("\n");
    finished.assert_success();

    let mut failures = Vec::new();
    if !progress.starts_with(&format!(
        "recovery total={MOBILES_E2E} verified=2 pending=0 removed=2 unverified=0 ended=0 "
    )) {
        failures.push(format!("mipdp ctl show recovery: {progress}"));
    }
    for i in 0..MOBILES_E2E {
        let listed = bindings.contains(&format!("home={} ", home(i)));
        if listed != ANSWERING.contains(&i) {
            failures.push(format!(
                "mobile {i} ({}) {} in show bindings:\n{bindings}",
                home(i),
                if listed { "still" } else { "not" }
            ));
        }
    }
    // The backup: exactly the answering ones, re-stored with the sequence number of the
    // Binding Update that answered (2, or more when a retry crossed the answer).
    let stored = Backup::open(dir.path().join("bindings.redb"))
        .expect("open the backup")
        .load()
        .expect("read the backup");
    let mut homes: Vec<IpAddr> = stored.iter().map(|r| r.home_address).collect();
    homes.sort();
    let want: Vec<IpAddr> = ANSWERING.iter().map(|i| IpAddr::V6(home(*i))).collect();
    if homes != want {
        failures.push(format!("the backup holds {homes:?}, want {want:?}"));
    }
    if let Some(r) = stored
        .iter()
        .find(|r| r.replay.last_sequence.is_none_or(|s| s < 2))
    {
        failures.push(format!(
            "{} was not re-stored by its answer: {:?}",
            r.home_address, r.replay
        ));
    }

    // Forwarding: per care-of address, the two-second spans (from the first packet
    // captured after the restart) in which its packets arrived: 40 a span are sent, so an
    // empty one means forwarding stopped, not a slow machine.
    let packets = tunnelled_stream(&frames);
    let Some(start) = packets.first().map(|p| p.0) else {
        panic!(
            "no packet reached a care-of address after the restart ({} frames captured)\n{log}",
            frames.len()
        );
    };
    const SPAN: f64 = 2.0;
    let spans = ((done_at - start) / SPAN).floor() as usize + 1;
    for i in 0..MOBILES_E2E {
        let times: Vec<f64> = packets
            .iter()
            .filter(|p| p.1 == care_of(i))
            .map(|p| p.0 - start)
            .collect();
        let mut per_span = vec![0u32; spans];
        for t in &times {
            if let Some(n) = per_span.get_mut((*t / SPAN) as usize) {
                *n += 1;
            }
        }
        if ANSWERING.contains(&i) {
            if let Some(gap) = per_span.iter().position(|n| *n == 0) {
                failures.push(format!(
                    "forwarding to answering mobile {i} stopped {} s after the restart \
                     (packets per {SPAN} s: {per_span:?})",
                    gap as f64 * SPAN
                ));
            }
        } else {
            if per_span.first().is_none_or(|n| *n == 0) {
                failures.push(format!(
                    "silent mobile {i} got nothing right after the restart: forwarding did not \
                     resume before verification (packets per {SPAN} s: {per_span:?})"
                ));
            }
            let late = times.iter().filter(|t| **t + start > done_at + 0.5).count();
            if late > 0 {
                failures.push(format!(
                    "{late} packets still reached removed mobile {i} after the recovery ended"
                ));
            }
        }
    }
    let answered = answers.snapshot();
    assert!(
        failures.is_empty(),
        "{}\n--- answers ---\n{}\n--- mipdp log ---\n{log}",
        failures.join("\n"),
        answered.join("\n")
    );
    eprintln!(
        "recovery: {progress}packets at the care-of addresses after the restart: {}",
        (0..MOBILES_E2E)
            .map(|i| format!(
                "{}={}",
                care_of(i),
                packets.iter().filter(|p| p.1 == care_of(i)).count()
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
}
