//! Authenticated registrations handled per second on one control core (issue 5):
//! `HomeAgent::handle_request` (Mobile IPv4, HMAC-MD5 Mobile-Home authentication, RFC 5944)
//! and `HomeAgent6::handle_binding_update` (Mobile IPv6 with the MN-HA mobility message
//! authentication option, HMAC-SHA1-96, and the replay protection option of RFC 4285).
//!
//! A plain program, not criterion (`harness = false`):
//!
//! ```text
//! cargo bench -p mipdp-perf --bench signalling [-- --mobiles N --rounds R --core C]
//! ```
//!
//! Every request is valid, distinct and authenticated: `--mobiles` mobile nodes (default
//! 50,000), each with its own security association (home address, SPI, 16-byte key) and
//! its own care-of address. Round 1 registers each of them once (new bindings); every
//! later round refreshes each binding with a newer timestamp (and, for MIPv6, the next
//! sequence number). The messages are built beforehand (the MIPv6 ones with the wire
//! crate's emitters and the library's RFC 4285 authenticator; the MIPv4 ones packed here
//! with the library's HMAC-MD5), so the clock runs only over the handling: parsing,
//! verifying the authenticator, replay check, the binding change and its worker updates,
//! and the authenticated reply. Each outcome is checked to be an acceptance, so a broken
//! request cannot pass for a fast one. The thread is pinned to `--core` (default 0, the
//! control thread's core in the perf scripts).

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};
use std::time::{Duration, Instant, SystemTime};

use mipdp_control::signalling::mip4::config::{
    Algorithm, HomeAgentConfig, Key, MobileNodeId, ReplayProtection, ReplyLimit,
    SecurityAssociation,
};
use mipdp_control::signalling::mip4::security::{authenticator, ntp_timestamp};
use mipdp_control::signalling::mip4::{HomeAgent, Reason};
use mipdp_control::signalling::mip6::{self, HomeAgent6, HomeAgent6Config, SecurityAssociation6};
use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet, Ipv6Repr};
use mipdp_dataplane::wire::ipv6ext::{Ipv6OptionsHeader, Ipv6OptionsRepr};
use mipdp_dataplane::wire::mh::{BindingUpdate, MhRepr, MobilityHeader};
use mipdp_dataplane::wire::mh_options::{
    authentication_subtype, MessageAuthentication, MobilityOptionsRepr,
};

const HA4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SPI: u32 = 256;
const MOBILE_PORT: u16 = 49152;

struct Options {
    mobiles: usize,
    rounds: usize,
    core: usize,
}

fn options() -> Options {
    let mut o = Options {
        mobiles: 50_000,
        rounds: 4,
        core: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse().ok());
        match arg.as_str() {
            "--mobiles" => o.mobiles = value().unwrap_or(o.mobiles).clamp(1, 60_000),
            "--rounds" => o.rounds = value().unwrap_or(o.rounds).max(2),
            "--core" => o.core = value().unwrap_or(o.core),
            // cargo bench passes --bench; criterion-style filters are ignored.
            _ => {}
        }
    }
    o
}

/// A key per mobile node.
fn key(i: usize) -> Vec<u8> {
    let mut k = b"mipdp-bench-key!".to_vec();
    k[..4].copy_from_slice(&(i as u32).to_be_bytes());
    k
}

fn home4(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 1)) + i as u32)
}

fn care_of4(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 1)) + i as u32)
}

fn config4(mobiles: usize) -> HomeAgentConfig {
    HomeAgentConfig {
        addresses: vec![HA4],
        home_prefixes: vec!["10.1.0.0/16".parse().expect("prefix")],
        max_lifetime: 600,
        max_care_of: 1,
        max_bindings: mobiles,
        error_replies: ReplyLimit::default(),
        gratuitous_arps: 3,
        gratuitous_arp_interval: Duration::from_secs(1),
        reply_wait: Duration::from_secs(1),
        security_associations: (0..mobiles)
            .map(|i| SecurityAssociation {
                mobile_node: MobileNodeId::HomeAddress(home4(i)),
                spi: SPI,
                key: Key(key(i)),
                algorithm: Algorithm::HmacMd5,
                replay: ReplayProtection::Timestamps {
                    tolerance: Duration::from_secs(7),
                },
            })
            .collect(),
        foreign_agents: Vec::new(),
    }
}

/// A Registration Request of mobile `i` (RFC 5944 §3.3) with its Mobile-Home
/// Authentication Extension (§3.5.2).
fn request4(i: usize, identification: u64) -> Vec<u8> {
    let mut r = vec![1u8, 0, 0x01, 0x2c];
    r.extend_from_slice(&home4(i).octets());
    r.extend_from_slice(&HA4.octets());
    r.extend_from_slice(&care_of4(i).octets());
    r.extend_from_slice(&identification.to_be_bytes());
    r.extend_from_slice(&[32, 20]);
    r.extend_from_slice(&SPI.to_be_bytes());
    let tag = authenticator(Algorithm::HmacMd5, &key(i), &r);
    r.extend_from_slice(&tag);
    r
}

fn ha6() -> Ipv6Addr {
    "2001:db8:1::1".parse().expect("address")
}

fn home6(i: usize) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(ha6()) + 0x1_0000 + i as u128)
}

fn care_of6(i: usize) -> Ipv6Addr {
    Ipv6Addr::from(u128::from("2001:db8:2::1".parse::<Ipv6Addr>().expect("address")) + i as u128)
}

fn config6(mobiles: usize) -> HomeAgent6Config {
    HomeAgent6Config {
        addresses: vec![ha6()],
        home_prefixes: vec!["2001:db8:1::/64".parse().expect("prefix")],
        max_lifetime: 600,
        max_bindings: mobiles,
        security_associations: (0..mobiles)
            .map(|i| SecurityAssociation6 {
                home_address: home6(i),
                spi: SPI,
                key: Key(key(i)),
                timestamp_tolerance: Duration::from_secs(7),
            })
            .collect(),
        operation: Default::default(),
        role: mipdp_control::signalling::mip6::Role6::HomeAgent,
    }
}

/// A Binding Update of mobile `i` (RFC 6275 §6.1.7) from its care-of address with the
/// Home Address option, the replay protection option carrying `timestamp` and the MN-HA
/// authentication option (RFC 4285 §5, §6).
fn binding_update6(i: usize, sequence: u16, timestamp: u64) -> Vec<u8> {
    let (home, care_of, ha) = (home6(i), care_of6(i), ha6());
    let placeholder = [0u8; mip6::security::AUTHENTICATOR_LEN];
    let repr = MhRepr::BindingUpdate(BindingUpdate {
        sequence,
        acknowledge: true,
        home_registration: true,
        lifetime: 75,
        options: MobilityOptionsRepr {
            replay_protection: Some(timestamp),
            message_authentication: Some(MessageAuthentication {
                subtype: authentication_subtype::MN_HA,
                spi: SPI,
                authentication_data: &placeholder,
            }),
            ..Default::default()
        },
        ..Default::default()
    });
    let mut mh = vec![0u8; repr.header_len()];
    repr.emit(&home, &ha, &mut MobilityHeader::new_unchecked(&mut mh[..]))
        .expect("emit the binding update");
    let layout = MobilityHeader::new_unchecked(&mh[..])
        .message_authentication_layout()
        .expect("authentication option");
    let tag = mip6::security::authenticator(&key(i), care_of, home, &mh, &layout);
    mh[layout.authenticator].copy_from_slice(&tag);
    MobilityHeader::new_unchecked(&mut mh[..]).fill_checksum(&home, &ha);
    let dest = Ipv6OptionsRepr {
        next_header: next_header::MOBILITY,
        home_address: Some(home),
        ..Default::default()
    };
    let ip = Ipv6Repr {
        src_addr: care_of,
        dst_addr: ha,
        next_header: next_header::DEST_OPTS,
        payload_len: dest.header_len() + mh.len(),
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut out = vec![0u8; ip.buffer_len()];
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]))
        .expect("emit IPv6");
    dest.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut out[40..]))
        .expect("emit the destination options");
    out[40 + dest.header_len()..].copy_from_slice(&mh);
    out
}

/// Handles one round of prepared messages, failing loudly on anything not accepted.
fn timed(label: &str, n: usize, mut handle: impl FnMut(usize) -> bool) -> f64 {
    let start = Instant::now();
    let mut refused = 0usize;
    for i in 0..n {
        if !handle(i) {
            refused += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(
        refused, 0,
        "{label}: {refused} of {n} messages were not accepted"
    );
    n as f64 / secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let o = options();
    if let Some(core) = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.id == o.core)
    {
        core_affinity::set_for_current(core);
    } else {
        eprintln!("core {} is not available: not pinned", o.core);
    }
    let n = o.mobiles;
    // One clock for every message and every call: each round's timestamps a millisecond
    // newer than the last, all well within the 7 s tolerance of `now`.
    let now = SystemTime::now();
    let stamp = |round: usize| ntp_timestamp(now) + ((round as u64 + 1) << 32) / 1000;
    println!(
        "signalling bench: {n} mobile nodes, {} rounds (1 new + {} refreshes), core {}",
        o.rounds,
        o.rounds - 1,
        o.core
    );

    let requests: Vec<Vec<Vec<u8>>> = (0..o.rounds)
        .map(|r| (0..n).map(|i| request4(i, stamp(r))).collect())
        .collect();
    let mut ha = HomeAgent::new(config4(n));
    let mut rates = Vec::new();
    for round in &requests {
        let rate = timed("mip4", n, |i| {
            let from = SocketAddrV4::new(care_of4(i), MOBILE_PORT);
            let outcome = ha.handle_request(black_box(&round[i]), from, HA4, now);
            let ok = outcome.reason == Reason::Registered && outcome.reply.is_some();
            black_box(outcome);
            ok
        });
        rates.push(rate);
    }
    report("MIPv4 registration requests", &rates);

    let updates: Vec<Vec<Vec<u8>>> = (0..o.rounds)
        .map(|r| {
            (0..n)
                .map(|i| binding_update6(i, r as u16 + 1, stamp(r)))
                .collect()
        })
        .collect();
    let mut ha6 = HomeAgent6::new(config6(n));
    let mut rates = Vec::new();
    for round in &updates {
        let rate = timed("mip6", n, |i| {
            let outcome = ha6.handle_binding_update(black_box(&round[i]), now);
            let ok = outcome.reason == mip6::Reason::Registered && outcome.reply.is_some();
            black_box(outcome);
            ok
        });
        rates.push(rate);
    }
    report("MIPv6 binding updates", &rates);
}

fn report(what: &str, rates: &[f64]) {
    let refreshes = median(rates[1..].to_vec());
    println!(
        "{what}: new bindings {:.0}/s ({:.2} us each); refreshes {:.0}/s median ({:.2} us each); rounds: {}",
        rates[0],
        1e6 / rates[0],
        refreshes,
        1e6 / refreshes,
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}
