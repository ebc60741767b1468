//! Crash safety of the durable binding backup (issue 6): a registration storm against a
//! real `mipdp run` home agent, killed with SIGKILL at random moments, 20 times.
//!
//! The storm is tests/peers/mip4_storm.py in the care-of namespace (behind DPDK port
//! 1): it registers 32 home addresses in turn, each time to the next care-of address,
//! computing the HMAC-MD5 authenticators itself, over a plain UDP socket, and prints
//! each request it sends and each authentic acceptance it receives. After every kill:
//! - the backup opens cleanly (no half-written record: every record decodes and its
//!   checksum verifies, which `Backup::open` checks for the whole file);
//! - every home address whose acceptance the client received is in it, bound to that
//!   request's care-of address and Identification, or to one the client sent later
//!   (a commit whose reply the kill cut off).
//!
//! After the restart `mipdp ctl show bindings` lists every one of them.
//!
//! The moments are random (the seed is printed; set MIPDP_CRASH_SEED to repeat one).
//! Needs root, DPDK's net_tap, iproute2 and python3 (scripts/install-deps.sh). It
//! fails, not skips, without them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{key_values, mac_text, Lines, Topology, MIPDP};
use mipdp_control::backup::{Backup, Role};

const MAC_CN: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 0x50];
const MAC_COA: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0x07];
const HA: &str = "10.1.0.1";
const FIRST_HOME: [u8; 4] = [10, 1, 0, 100];
const HOMES: u8 = 32;
const SOURCE: &str = "192.0.2.7";
const FIRST_CARE_OF: &str = "192.0.2.10";
const CARE_OFS: &str = "8";
const KEY: &str = "6d697064702d6d697034686120746573";
const SPI: &str = "256";
const KILLS: usize = 20;

fn config(dir: &Path) -> PathBuf {
    let mut associations = String::new();
    for i in 0..HOMES {
        let [a, b, c, d] = FIRST_HOME;
        associations.push_str(&format!(
            "\n[[home_agent.security_association]]\nhome_address = \"{a}.{b}.{c}.{}\"\nspi = {SPI}\nkey = \"{KEY}\"\n",
            d + i
        ));
    }
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
port = "net_tap1"
address = "{SOURCE}"
mac = "{coa}"

[backup]
path = "{backup}"

[home_agent]
addresses = ["{HA}"]
home_prefixes = ["10.1.0.0/24"]
max_lifetime = 3600
max_bindings = 64
gratuitous_arps = 1
# Generous: the workers and the disk of a loaded 2-core machine may be slow.
reply_wait_ms = 10000
{associations}"#,
        coa = mac_text(MAC_COA),
        socket = dir.join("mipdp.sock").display(),
        backup = dir.join("bindings.redb").display(),
    );
    let path = dir.join("home-agent.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// A small xorshift generator: the moments of the kills.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// What the client's lines say of one home address: the last accepted request
/// (Identification, care-of address) and every request sent after it.
#[derive(Debug, Default, Clone)]
struct Heard {
    acked: Option<(u64, String)>,
    later: Vec<(u64, String)>,
}

fn heard(lines: &[String]) -> HashMap<String, Heard> {
    let mut out: HashMap<String, Heard> = HashMap::new();
    for line in lines {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let kv = key_values(rest);
        let (Some(home), Some(care_of), Some(id)) =
            (kv.get("home"), kv.get("care_of"), kv.get("identification"))
        else {
            continue;
        };
        let id = u64::from_str_radix(id, 16).expect("hex identification");
        let h = out.entry(home.clone()).or_default();
        match kind {
            "sent" => h.later.push((id, care_of.clone())),
            "acked" => {
                h.acked = Some((id, care_of.clone()));
                h.later.clear();
            }
            _ => {}
        }
    }
    out
}

/// The care-of network behind port 1: the client's source address and the route to the
/// home agent (again after every restart: the tap interface is new).
fn set_up_care_of(topo: &Topology) {
    let (ns, dev) = (topo.ns_b.as_str(), topo.tap_b.as_str());
    for cmd in [
        "ip link set dev lo up",
        "ip addr add 192.0.2.7/24 dev {dev}",
        "ip route add default via 192.0.2.1 dev {dev}",
    ] {
        topo.ns_words(ns, &cmd.replace("{dev}", dev));
    }
}

fn bindings_shown(socket: &Path) -> String {
    let out = Command::new(MIPDP)
        .args(["ctl", "--socket"])
        .arg(socket)
        .args(["show", "bindings"])
        .output()
        .expect("run mipdp ctl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mipdp ctl show bindings failed: {text}"
    );
    text
}

fn acked_count(client: &Lines) -> usize {
    client
        .snapshot()
        .iter()
        .filter(|l| l.starts_with("acked "))
        .count()
}

#[test]
fn every_acknowledged_binding_survives_sigkill_at_random_moments() {
    common::require_root("e2e_backup_crash");
    common::require_tun_device();
    common::require_tool("ip", &["netns", "list"], "iproute2 builds the namespaces");
    common::require_tool(
        "python3",
        &["-c", "import hmac, hashlib"],
        "python3 plays the mobile nodes",
    );
    let seed = std::env::var("MIPDP_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 | 1)
        });
    eprintln!("e2e_backup_crash: MIPDP_CRASH_SEED={seed}");
    let mut moments = Moments(seed);

    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config(dir.path());
    let socket = dir.path().join("mipdp.sock");
    let backup = dir.path().join("bindings.redb");
    let mut topo = Topology::new("crash");
    topo.start_mipdp(&config, &[]);
    topo.adopt_taps(MAC_CN, MAC_COA, Duration::from_secs(30));
    set_up_care_of(&topo);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/mip4_storm.py");
    let first_home = std::net::Ipv4Addr::from(FIRST_HOME).to_string();
    let homes = HOMES.to_string();
    let ns_b = topo.ns_b.clone();
    let (_, client, client_err) = topo.spawn_in(
        &ns_b,
        &[
            "python3",
            &script.to_string_lossy(),
            "--src",
            SOURCE,
            "--home-agent",
            HA,
            "--first-home",
            &first_home,
            "--homes",
            &homes,
            "--care-of-first",
            FIRST_CARE_OF,
            "--care-ofs",
            CARE_OFS,
            "--spi",
            SPI,
            "--key",
            KEY,
            "--lifetime",
            "3600",
        ],
    );

    let mut failures = Vec::new();
    let mut acked_per_round = Vec::new();
    for round in 0..KILLS {
        // The storm is answered again (some acceptance since the restart), then a
        // random moment within the next 1.5 s.
        let before = acked_count(&client);
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked_count(&client) <= before {
            assert!(
                Instant::now() < deadline,
                "round {round}: no registration accepted within 60 s\n--- client ---\n{}\n{}\n--- mipdp ---\n{}",
                client.snapshot().iter().rev().take(20).cloned().collect::<Vec<_>>().join("\n"),
                client_err.snapshot().join("\n"),
                topo.mipdp().stderr.snapshot().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(moments.next_ms(1500)));
        let killed = topo.kill_mipdp();
        // A reply already in the client's socket is still read: wait for it to print.
        std::thread::sleep(Duration::from_millis(500));
        let lines = client.snapshot();
        let heard = heard(&lines);
        let acked = heard.values().filter(|h| h.acked.is_some()).count();
        acked_per_round.push(lines.iter().filter(|l| l.starts_with("acked ")).count());

        let stored = match Backup::open(&backup).and_then(|b| b.load()) {
            Ok(records) => records,
            Err(e) => {
                failures.push(format!(
                    "round {round}: the backup does not open cleanly after SIGKILL: {e}\n{}",
                    killed.transcript()
                ));
                break;
            }
        };
        let by_home: HashMap<String, (u64, String)> = stored
            .iter()
            .filter(|r| r.role == Role::HomeAgent)
            .filter_map(|r| {
                let care_of = r.care_of.first()?.to_string();
                Some((
                    r.home_address.to_string(),
                    (r.replay.last_identification?, care_of),
                ))
            })
            .collect();
        for (home, h) in &heard {
            let Some(acked) = &h.acked else { continue };
            let Some(found) = by_home.get(home) else {
                failures.push(format!(
                    "round {round}: {home} was acknowledged ({acked:?}) but is not in the backup"
                ));
                continue;
            };
            if found != acked && !h.later.contains(found) {
                failures.push(format!(
                    "round {round}: {home} is stored as {found:?}; acknowledged {acked:?}, sent since {:?}",
                    h.later
                ));
            }
        }

        // Restart: every acknowledged binding is back in the node.
        topo.start_mipdp(&config, &[]);
        topo.adopt_taps(MAC_CN, MAC_COA, Duration::from_secs(30));
        let restored_line = topo
            .mipdp()
            .stderr
            .snapshot()
            .into_iter()
            .find(|l| l.contains("binding backup") && l.contains("restored"));
        let shown = bindings_shown(&socket);
        let care_of_shown: HashMap<String, String> = shown
            .lines()
            .filter(|l| l.starts_with("binding "))
            .map(key_values)
            .filter_map(|kv| Some((kv.get("home")?.clone(), kv.get("care_of")?.clone())))
            .collect();
        for (home, h) in &heard {
            if h.acked.is_none() {
                continue;
            }
            if !care_of_shown.contains_key(home) {
                failures.push(format!(
                    "round {round}: {home} was acknowledged but mipdp ctl show bindings does not list it after the restart ({restored_line:?}):\n{shown}"
                ));
            }
        }
        if care_of_shown.len() < acked {
            failures.push(format!(
                "round {round}: {} bindings listed, {acked} acknowledged",
                care_of_shown.len()
            ));
        }
        set_up_care_of(&topo);
        if !failures.is_empty() {
            break;
        }
    }
    let finished = topo.stop_mipdp();
    eprintln!(
        "e2e_backup_crash: acknowledgements seen before each kill: {acked_per_round:?}; {} requests sent",
        client
            .snapshot()
            .iter()
            .filter(|l| l.starts_with("sent "))
            .count()
    );
    assert!(
        failures.is_empty(),
        "{}\n--- last mipdp ---\n{}",
        failures.join("\n"),
        finished.transcript()
    );
    finished.assert_success();
}
