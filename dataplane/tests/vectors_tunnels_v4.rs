//! The IPv4 tunnel entry point against packets built by scapy
//! (tests/vectors/gen_tunnels_v4.py): for each arriving inner packet, what `encapsulate`,
//! `fragment_outer` and `icmp_error_v4` produce is the scapy packet byte for byte, and
//! decapsulating it gives the forwarded inner packet back.

use std::net::Ipv4Addr;

use mipdp_dataplane::port::memory::{MemPacket, MemPool};
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::tunnel::icmp::{icmp_error_v4, IcmpErrorKind};
use mipdp_dataplane::tunnel::{
    gre, ipip, minimal, Encapsulated, Endpoints4, TunnelError, TunnelSettings,
};

const VECTORS: &str = include_str!("vectors/tunnels_v4.txt");

const HOME_AGENT: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const CARE_OF: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CORRESPONDENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
const OUTER_IDENT: u16 = 0x1234;

const ENDS: Endpoints4 = Endpoints4 {
    entry: HOME_AGENT,
    exit: CARE_OF,
};

fn settings() -> TunnelSettings {
    TunnelSettings {
        outer_ttl: 64,
        path_mtu: 1500,
        encapsulation_limit: None,
    }
}

fn vector(name: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no vector {name}"));
    let hex = line.split_whitespace().nth(1).unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn arriving(pool: &MemPool, name: &str) -> MemPacket {
    pool.packet(&vector(name)).unwrap()
}

fn care_of(a: Ipv4Addr) -> bool {
    a == CARE_OF
}

/// The inner packet as the entry point forwarded it: the tunnelled bytes after `skip`.
fn forwarded(name: &str, skip: usize) -> Vec<u8> {
    vector(name)[skip..].to_vec()
}

#[test]
fn ipip_matches_scapy_and_decapsulates_to_the_forwarded_inner() {
    let pool = MemPool::new(2);
    let mut p = arriving(&pool, "inner_v4");
    let out = ipip::encapsulate(&mut p, ENDS, &settings(), OUTER_IDENT).unwrap();
    assert_eq!(out, Encapsulated::Ready);
    assert_eq!(p.data(), &vector("ipip")[..]);
    ipip::decapsulate(&mut p, care_of).unwrap();
    assert_eq!(p.data(), &forwarded("ipip", 20)[..]);
}

#[test]
fn ipip_outer_fragments_match_scapy() {
    let pool = MemPool::new(2);
    let mut p = arriving(&pool, "inner_v4_big");
    let out = ipip::encapsulate(&mut p, ENDS, &settings(), OUTER_IDENT).unwrap();
    assert_eq!(out, Encapsulated::Fragment { mtu: 1500 });
    let mut second = pool.packet(&[]).unwrap();
    assert!(ipip::fragment_outer(&mut p, 1500, &mut second).unwrap());
    assert_eq!(p.data(), &vector("ipip_fragment_1")[..]);
    assert_eq!(second.data(), &vector("ipip_fragment_2")[..]);
}

#[test]
fn gre_over_ipv4_matches_scapy_for_ipv4_and_ipv6_payloads() {
    let pool = MemPool::new(2);
    for (inner, expected) in [("inner_v4", "gre_v4"), ("inner_v6", "gre_v6")] {
        let mut p = arriving(&pool, inner);
        gre::encapsulate(&mut p, ENDS, &settings(), OUTER_IDENT).unwrap();
        assert_eq!(p.data(), &vector(expected)[..], "{expected}");
        gre::decapsulate(&mut p, care_of).unwrap();
        assert_eq!(p.data(), &forwarded(expected, 24)[..], "{expected}");
    }
}

#[test]
fn minimal_encapsulation_matches_scapy_with_and_without_the_source() {
    let pool = MemPool::new(2);
    let own = Endpoints4 {
        entry: CORRESPONDENT,
        exit: CARE_OF,
    };
    for (ends, expected) in [
        (ENDS, "minimal_with_source"),
        (own, "minimal_without_source"),
    ] {
        let mut p = arriving(&pool, "inner_v4");
        minimal::encapsulate(&mut p, ends, &settings()).unwrap();
        assert_eq!(p.data(), &vector(expected)[..], "{expected}");
        minimal::decapsulate(&mut p, care_of).unwrap();
        assert_eq!(p.data(), &forwarded("ipip", 20)[..], "{expected}");
    }
}

#[test]
fn icmp_errors_match_scapy() {
    let pool = MemPool::new(2);
    let mut reply = [0u8; 1500];

    let mut p = arriving(&pool, "inner_v4_expiring");
    let e = ipip::encapsulate(&mut p, ENDS, &settings(), OUTER_IDENT).unwrap_err();
    assert_eq!(e, TunnelError::TtlExpired);
    let kind = IcmpErrorKind::for_error(e).unwrap();
    let n = icmp_error_v4(p.data(), &mut reply, kind, HOME_AGENT, 7).unwrap();
    assert_eq!(&reply[..n], &vector("icmp_time_exceeded")[..]);

    let mut p = arriving(&pool, "inner_v4_too_big");
    let e = ipip::encapsulate(&mut p, ENDS, &settings(), OUTER_IDENT).unwrap_err();
    assert_eq!(e, TunnelError::TooBig { mtu: 1480 });
    let kind = IcmpErrorKind::for_error(e).unwrap();
    let n = icmp_error_v4(p.data(), &mut reply, kind, HOME_AGENT, 8).unwrap();
    assert_eq!(&reply[..n], &vector("icmp_frag_needed")[..]);
}
