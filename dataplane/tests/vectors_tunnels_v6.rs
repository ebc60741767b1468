//! The IPv6 tunnel encapsulations against outer packets built by scapy
//! (tests/vectors/gen_tunnels_v6.py): for each inner packet, what the entry point sends is
//! the scapy packet byte for byte, and decapsulating it gives the inner packet back with
//! its hop limit / TTL one less. Over a small path MTU, the outer IPv6 fragments
//! `ip6ip6::fragment_outer` makes are scapy's `fragment6` ones byte for byte.

use std::net::Ipv4Addr;

use mipdp_dataplane::port::memory::MemPool;
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::tunnel::ip6ip6;
use mipdp_dataplane::tunnel::{mixed, Encapsulated, Endpoints4, Endpoints6, TunnelSettings};

const VECTORS: &str = include_str!("vectors/tunnels_v6.txt");

fn try_vector(name: &str) -> Option<Vec<u8>> {
    let line = VECTORS
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))?;
    let hex = line.split_whitespace().nth(1)?;
    Some(
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect(),
    )
}

fn vector(name: &str) -> Vec<u8> {
    try_vector(name).unwrap_or_else(|| panic!("no vector {name}"))
}

fn ends6() -> Endpoints6 {
    Endpoints6 {
        entry: "2001:db8:a::1".parse().unwrap(),
        exit: "2001:db8:c0a::1".parse().unwrap(),
    }
}

fn ends4() -> Endpoints4 {
    Endpoints4 {
        entry: Ipv4Addr::new(10, 1, 0, 1),
        exit: Ipv4Addr::new(192, 0, 2, 1),
    }
}

fn settings(limit: Option<u8>) -> TunnelSettings {
    TunnelSettings {
        outer_ttl: 64,
        path_mtu: 1500,
        encapsulation_limit: limit,
    }
}

enum Method {
    Ip6Ip6 { limit: Option<u8>, flow_label: u32 },
    Ip4Ip6 { limit: Option<u8> },
    Ip6Ip4 { identification: u16 },
}

fn check(case: &str, method: Method) {
    let pool = MemPool::new(2);
    let inner = vector(&format!("{case}_inner"));
    let want = vector(&format!("{case}_outer"));
    let mut p = pool.packet(&inner).unwrap();
    let r = match method {
        Method::Ip6Ip6 { limit, flow_label } => {
            ip6ip6::encapsulate(&mut p, &ends6(), &settings(limit), flow_label)
        }
        Method::Ip4Ip6 { limit } => mixed::encapsulate_4in6(&mut p, &ends6(), &settings(limit), 0),
        Method::Ip6Ip4 { identification } => {
            mixed::encapsulate_6in4(&mut p, &ends4(), &settings(None), identification)
        }
    };
    assert_eq!(r, Ok(Encapsulated::Ready), "{case}");
    assert_eq!(
        p.data(),
        &want[..],
        "{case}: outer packet differs from scapy's"
    );
    let decapsulated = match method {
        Method::Ip6Ip6 { .. } => ip6ip6::decapsulate(&mut p, |a| *a == ends6().exit, 0).is_ok(),
        Method::Ip4Ip6 { .. } => mixed::decapsulate_4in6(&mut p, |a| *a == ends6().exit, 0).is_ok(),
        Method::Ip6Ip4 { .. } => mixed::decapsulate_6in4(&mut p, |a| *a == ends4().exit, 0).is_ok(),
    };
    assert!(decapsulated, "{case}: decapsulation");
    let tail = &want[want.len() - p.data().len()..];
    assert_eq!(p.data(), tail, "{case}: inner packet after decapsulation");
}

#[test]
fn ipv6_in_ipv6_with_the_configured_limit_matches_scapy() {
    check(
        "ip6ip6_configured_limit",
        Method::Ip6Ip6 {
            limit: Some(4),
            flow_label: 0,
        },
    );
}

#[test]
fn ipv6_in_ipv6_without_limit_and_with_a_flow_label_matches_scapy() {
    check(
        "ip6ip6_no_limit_flow_label",
        Method::Ip6Ip6 {
            limit: None,
            flow_label: 0xabcde,
        },
    );
}

#[test]
fn ipv6_in_ipv6_carrying_a_limit_matches_scapy() {
    check(
        "ip6ip6_inner_limit",
        Method::Ip6Ip6 {
            limit: Some(9),
            flow_label: 0,
        },
    );
}

#[test]
fn ipv4_in_ipv6_matches_scapy() {
    check("ip4ip6_no_limit", Method::Ip4Ip6 { limit: None });
    check("ip4ip6_configured_limit", Method::Ip4Ip6 { limit: Some(4) });
}

#[test]
fn ipv6_in_ipv4_matches_scapy() {
    check(
        "ip6ip4",
        Method::Ip6Ip4 {
            identification: 0x1234,
        },
    );
}

/// Encapsulates `<case>_inner` over a path MTU of `path_mtu`, which must ask for outer
/// fragmentation, splits the outer packet with `ip6ip6::fragment_outer` (Identification
/// `identification`, one fresh buffer per call) and compares with `<case>_frag<i>`.
fn check_fragments(case: &str, limit: Option<u8>, path_mtu: u16, identification: u32) {
    let pool = MemPool::new(4);
    let inner = vector(&format!("{case}_inner"));
    let want: Vec<Vec<u8>> = (0..)
        .map_while(|i| try_vector(&format!("{case}_frag{i}")))
        .collect();
    let s = TunnelSettings {
        path_mtu,
        ..settings(limit)
    };
    let mut p = pool.packet(&inner).unwrap();
    let r = if inner[0] >> 4 == 6 {
        ip6ip6::encapsulate(&mut p, &ends6(), &s, 0)
    } else {
        mixed::encapsulate_4in6(&mut p, &ends6(), &s, 0)
    };
    assert_eq!(r, Ok(Encapsulated::Fragment { mtu: path_mtu }), "{case}");
    let mut got = Vec::new();
    loop {
        let mut second = pool.packet(&[]).unwrap();
        let split = ip6ip6::fragment_outer(&mut p, path_mtu, identification, &mut second);
        got.push(p.data().to_vec());
        if !split.unwrap() {
            break;
        }
        p = second;
    }
    assert_eq!(got.len(), want.len(), "{case}: number of fragments");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{case}: fragment {i} differs from scapy's");
    }
}

#[test]
fn ipv6_of_1280_bytes_over_a_1280_path_is_fragmented_like_scapy() {
    check_fragments("ip6ip6_fragmented", Some(4), 1280, 0x8000_0001);
}

#[test]
fn ipv4_without_df_over_a_small_path_is_fragmented_in_ipv6_like_scapy() {
    check_fragments("ip4ip6_fragmented", None, 1280, 0x1234_5678);
    check_fragments("ip4ip6_fragmented_three", Some(4), 700, 7);
}
