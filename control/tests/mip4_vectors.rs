//! The Mobile IPv4 home agent against golden vectors built by an independent
//! implementation: tests/vectors/mip4_ha.py makes the requests and the expected replies
//! with scapy and Python's hmac/hashlib (RFC 5944 §3.5.1, §3.8, §5.7), and
//! tests/vectors/mip4_ha.toml holds its output. Every step's reply must match byte for
//! byte, and the binding list must hold the care-of addresses the step names.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use mipdp_control::signalling::mip4::security::NonceSource;
use mipdp_control::signalling::mip4::{HomeAgent, HomeAgentSection};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    nonce_key: String,
    home_agent: HomeAgentSection,
    step: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: String,
    now_s: u64,
    from: SocketAddrV4,
    to: Ipv4Addr,
    request: String,
    /// The reply code; -1: dropped without a reply.
    code: i32,
    reply: String,
    reply_source: String,
    reply_destination: String,
    home: Ipv4Addr,
    care_of: Vec<Ipv4Addr>,
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

fn load() -> Vectors {
    let text = std::fs::read_to_string(vectors_dir().join("mip4_ha.toml")).expect("vectors");
    toml::from_str(&text).expect("vectors parse")
}

#[test]
fn home_agent_replies_match_the_independent_vectors_byte_for_byte() {
    let v = load();
    let config = v.home_agent.check().expect("vector configuration");
    let key: [u8; 16] = hex(&v.nonce_key).try_into().expect("16-byte nonce key");
    let mut ha = HomeAgent::with_nonces(config, NonceSource::with_key(key));
    assert!(v.step.len() >= 15, "too few steps: {}", v.step.len());
    for (i, s) in v.step.iter().enumerate() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(s.now_s);
        let o = ha.handle_request(&hex(&s.request), s.from, s.to, now);
        let what = format!("step {i} ({}): {:?}", s.name, o.reason);
        let code = o.reason.code().map_or(-1, |c| i32::from(c.0));
        assert_eq!(code, s.code, "{what}");
        match &o.reply {
            None => assert!(s.reply.is_empty(), "{what}: expected a reply"),
            Some(r) => {
                assert_eq!(hex_of(&r.bytes), s.reply, "{what}: reply bytes");
                assert_eq!(r.source.to_string(), s.reply_source, "{what}");
                assert_eq!(r.destination.to_string(), s.reply_destination, "{what}");
            }
        }
        let bound: Vec<Ipv4Addr> = ha
            .bindings()
            .get(s.home)
            .map(|b| b.care_of.iter().map(|c| c.care_of).collect())
            .unwrap_or_default();
        assert_eq!(bound, s.care_of, "{what}: care-of addresses of {}", s.home);
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_committed_vectors_are_what_the_script_generates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mip4_ha.toml");
    let status = Command::new("python3")
        .arg(vectors_dir().join("mip4_ha.py"))
        .arg(&out)
        .status()
        .expect("python3 (with scapy: make deps) runs the vector script");
    assert!(status.success(), "mip4_ha.py failed: {status}");
    let fresh = std::fs::read_to_string(&out).expect("generated vectors");
    let committed =
        std::fs::read_to_string(vectors_dir().join("mip4_ha.toml")).expect("committed vectors");
    assert!(
        fresh == committed,
        "tests/vectors/mip4_ha.toml is stale: run python3 control/tests/vectors/mip4_ha.py"
    );
}
