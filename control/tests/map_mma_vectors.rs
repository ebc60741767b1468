//! The MAP (RFC 5380) and MMA (docs/mma-registration.md) against golden vectors built by
//! an independent implementation: tests/vectors/map_mma.py makes the binding updates, the
//! expected acknowledgements and the new MMA's binding update to a correspondent as whole
//! IPv6 packets with scapy, and the RFC 4285 authenticators with Python's hmac/hashlib;
//! tests/vectors/map_mma.toml holds its output. Every answer must match byte for byte,
//! and the binding cache must hold the care-of address each step names.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use mipdp_control::signalling::hmip6::MapSection;
use mipdp_control::signalling::mip6::{Answer, HomeAgent6, Role6};
use mipdp_control::signalling::mma::{CorrespondentUpdates, MmaSection};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    map: MapSection,
    mma: MmaSection,
    map_step: Vec<Step>,
    mma_step: Vec<Step>,
    correspondent_step: Vec<CorrespondentStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: String,
    now_s: u64,
    packet: String,
    /// The acknowledgement's Status; -1: dropped silently.
    status: i32,
    reply: String,
    home: Ipv6Addr,
    care_of: Vec<Ipv6Addr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrespondentStep {
    name: String,
    now_s: u64,
    packet: String,
    outcome: String,
    update: String,
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn load() -> Vectors {
    let text = std::fs::read_to_string(vectors_dir().join("map_mma.toml")).expect("vectors");
    toml::from_str(&text).expect("vectors parse")
}

fn at(s: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(s)
}

fn replay(agent: &mut HomeAgent6, steps: &[Step], role: &str) {
    for (i, s) in steps.iter().enumerate() {
        let o = agent.handle_binding_update(&hex(&s.packet), at(s.now_s));
        let what = format!("{role} step {i} ({}): {:?}", s.name, o.reason);
        let status = match o.reason.answer() {
            Answer::Nothing => -1,
            Answer::Acknowledgement(status) => i32::from(status),
            Answer::Error(status) => panic!("{what}: a Binding Error ({status})"),
        };
        assert_eq!(status, s.status, "{what}");
        assert_eq!(
            o.reply.as_deref().map(hex_of).unwrap_or_default(),
            s.reply,
            "{what}: answer bytes"
        );
        let bound: Vec<Ipv6Addr> = agent
            .bindings()
            .get(s.home)
            .map(|b| b.care_of)
            .into_iter()
            .collect();
        assert_eq!(bound, s.care_of, "{what}: care-of address of {}", s.home);
    }
}

#[test]
fn map_answers_match_the_independent_vectors_byte_for_byte() {
    let v = load();
    let mut map = HomeAgent6::new(v.map.check().expect("[map]"));
    assert!(v.map_step.len() >= 8, "too few MAP steps");
    replay(&mut map, &v.map_step, "MAP");
}

#[test]
fn mma_answers_and_correspondent_updates_match_the_independent_vectors() {
    let v = load();
    let config = v.mma.check().expect("[mma]");
    let Role6::MulticastAgent(settings) = config.role.clone() else {
        panic!("not the MMA role");
    };
    let own = config.addresses.clone();
    let mut mma = HomeAgent6::new(config);
    assert!(v.mma_step.len() >= 7, "too few MMA steps");
    replay(&mut mma, &v.mma_step, "MMA");
    let mut updates = CorrespondentUpdates::new(settings);
    for (i, s) in v.correspondent_step.iter().enumerate() {
        let (outcome, update) = updates.forwarded(
            &hex(&s.packet),
            &|home| mma.assigned_care_of(home),
            &own,
            at(s.now_s),
        );
        let what = format!("correspondent step {i} ({})", s.name);
        assert_eq!(outcome.name(), s.outcome, "{what}");
        assert_eq!(
            update.as_deref().map(hex_of).unwrap_or_default(),
            s.update,
            "{what}: binding update bytes"
        );
    }
}

#[test]
fn the_committed_vectors_are_what_the_script_generates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("map_mma.toml");
    let status = Command::new("python3")
        .arg(vectors_dir().join("map_mma.py"))
        .arg(&out)
        .status()
        .expect("python3 (with scapy: make deps) runs the vector script");
    assert!(status.success(), "map_mma.py failed: {status}");
    let fresh = std::fs::read_to_string(&out).expect("generated vectors");
    let committed =
        std::fs::read_to_string(vectors_dir().join("map_mma.toml")).expect("committed vectors");
    assert!(
        fresh == committed,
        "tests/vectors/map_mma.toml is stale: run python3 control/tests/vectors/map_mma.py"
    );
}
