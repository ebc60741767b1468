//! The Mobile IPv6 home agent against golden vectors built by an independent
//! implementation: tests/vectors/mip6_ha.py makes the Binding Updates and the expected
//! Binding Acknowledgements and Binding Errors as whole IPv6 packets with scapy, and the
//! RFC 4285 authenticators with Python's hmac/hashlib; tests/vectors/mip6_ha.toml holds
//! its output. Every step's answer must match byte for byte, and the binding cache must
//! hold the care-of address the step names.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use mipdp_control::signalling::mip6::{Answer, HomeAgent6, HomeAgent6Section};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    home_agent6: HomeAgent6Section,
    step: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: String,
    now_s: u64,
    packet: String,
    /// "ack", "error" or "none".
    answer: String,
    /// The Status of the answer; -1 with "none".
    status: i32,
    reply: String,
    home: Ipv6Addr,
    care_of: Vec<Ipv6Addr>,
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
    let text = std::fs::read_to_string(vectors_dir().join("mip6_ha.toml")).expect("vectors");
    toml::from_str(&text).expect("vectors parse")
}

#[test]
fn home_agent_answers_match_the_independent_vectors_byte_for_byte() {
    let v = load();
    let config = v.home_agent6.check().expect("vector configuration");
    let mut ha = HomeAgent6::new(config);
    assert!(v.step.len() >= 20, "too few steps: {}", v.step.len());
    for (i, s) in v.step.iter().enumerate() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(s.now_s);
        let o = ha.handle_binding_update(&hex(&s.packet), now);
        let what = format!("step {i} ({}): {:?}", s.name, o.reason);
        let answer = match o.reason.answer() {
            Answer::Nothing => ("none", -1),
            Answer::Acknowledgement(status) => ("ack", i32::from(status)),
            Answer::Error(status) => ("error", i32::from(status)),
        };
        assert_eq!(answer, (s.answer.as_str(), s.status), "{what}");
        assert_eq!(
            o.reply.as_deref().map(hex_of).unwrap_or_default(),
            s.reply,
            "{what}: answer bytes"
        );
        let bound: Vec<Ipv6Addr> = ha
            .bindings()
            .get(s.home)
            .map(|b| b.care_of)
            .into_iter()
            .collect();
        assert_eq!(bound, s.care_of, "{what}: care-of address of {}", s.home);
    }
}

#[test]
fn the_committed_vectors_are_what_the_script_generates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mip6_ha.toml");
    let status = Command::new("python3")
        .arg(vectors_dir().join("mip6_ha.py"))
        .arg(&out)
        .status()
        .expect("python3 (with scapy: make deps) runs the vector script");
    assert!(status.success(), "mip6_ha.py failed: {status}");
    let fresh = std::fs::read_to_string(&out).expect("generated vectors");
    let committed =
        std::fs::read_to_string(vectors_dir().join("mip6_ha.toml")).expect("committed vectors");
    assert!(
        fresh == committed,
        "tests/vectors/mip6_ha.toml is stale: run python3 control/tests/vectors/mip6_ha.py"
    );
}
