//! The correspondent node against golden vectors built by an independent implementation:
//! tests/vectors/cn_rr.py makes the Home Test Inits, Care-of Test Inits and Binding
//! Updates and the expected Home Tests, Care-of Tests, Binding Acknowledgements and
//! Binding Errors as whole IPv6 packets with scapy, and the keygen tokens, Kbm and the
//! Binding Authorization Data authenticators with Python's hmac/hashlib, from the same
//! fixed Kcn and nonce key; tests/vectors/cn_rr.toml holds its output. Every step's answer
//! must match byte for byte, end in the named counter, and leave the named care-of address
//! cached.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use mipdp_control::signalling::cn::{Correspondent, CorrespondentSection, Secrets};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    kcn: String,
    nonce_key: String,
    home: Ipv6Addr,
    correspondent: CorrespondentSection,
    step: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: String,
    now_s: u64,
    packet: String,
    reason: String,
    reply: String,
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

fn key20(s: &str) -> [u8; 20] {
    hex(s).try_into().expect("20 octets")
}

#[test]
fn correspondent_answers_match_the_independent_vectors_byte_for_byte() {
    let text = std::fs::read_to_string(vectors_dir().join("cn_rr.toml")).expect("vectors");
    let v: Vectors = toml::from_str(&text).expect("vectors parse");
    let config = v.correspondent.check().expect("vector configuration");
    let mut cn = Correspondent::new(config, Secrets::fixed(key20(&v.kcn), key20(&v.nonce_key)));
    assert!(v.step.len() >= 15, "too few steps: {}", v.step.len());
    for (i, s) in v.step.iter().enumerate() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(s.now_s);
        let o = cn.handle(&hex(&s.packet), now, &|_| false);
        let what = format!("step {i} ({}): {:?}", s.name, o.reason);
        assert_eq!(o.reason.name(), s.reason, "{what}");
        assert_eq!(
            o.reply.as_deref().map(hex_of).unwrap_or_default(),
            s.reply,
            "{what}: answer bytes"
        );
        let cached: Vec<Ipv6Addr> = cn.binding(v.home).map(|b| b.care_of).into_iter().collect();
        assert_eq!(cached, s.care_of, "{what}: care-of address of {}", v.home);
    }
}

#[test]
fn the_committed_vectors_are_what_the_script_generates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("cn_rr.toml");
    let status = Command::new("python3")
        .arg(vectors_dir().join("cn_rr.py"))
        .arg(&out)
        .status()
        .expect("python3 (with scapy: make deps) runs the vector script");
    assert!(status.success(), "cn_rr.py failed: {status}");
    let fresh = std::fs::read_to_string(&out).expect("generated vectors");
    let committed =
        std::fs::read_to_string(vectors_dir().join("cn_rr.toml")).expect("committed vectors");
    assert!(
        fresh == committed,
        "tests/vectors/cn_rr.toml is stale: run python3 control/tests/vectors/cn_rr.py"
    );
}
