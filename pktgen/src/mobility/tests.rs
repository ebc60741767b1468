//! Tests of the mobility frames and the receive check together: frames as built, passed
//! through what an agent does to them (written here by hand from the RFCs, or mipdp's own
//! home agents from mipdp-control), then classified.

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mipdp_dataplane::wire::checksum;
use proptest::prelude::*;

use super::build::*;
use super::check::*;
use super::keys::{write_mipdp_sections, Keys};
use super::plan::{AddressPlan, Family};
use super::wire::*;

/// Flips the low bit of the 16-bit word at `at` and updates the checksum at `sum_at` to
/// match (RFC 1624): a frame wrong in that field only.
fn flip_keeping_checksum(f: &mut [u8], at: usize, sum_at: usize) {
    let old = get_u16(f, at).unwrap();
    put_u16(f, at, old ^ 1);
    let c = checksum::update(get_u16(f, sum_at).unwrap(), old, old ^ 1);
    put_u16(f, sum_at, c);
}
fn workload(kind: WorkloadKind, mobiles: u32) -> Workload {
    let mut w = Workload::new(kind, AddressPlan::new(mobiles), Keys::Seed(42));
    w.unix_epoch_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    w
}

fn frame(w: &mut Workload, sequence: u64) -> (FrameKind, Vec<u8>) {
    let mut f = vec![0xa5; w.frame_len(sequence)];
    let k = w.write(&mut f, sequence, sequence * 1000).unwrap();
    (k, f)
}

/// What a home agent does to a data packet it intercepts (RFC 2003 §3.1, RFC 2473 §3):
/// the inner TTL / hop limit minus one, then a tunnel from `source` to the care-of
/// address, outer TTL 64.
fn tunnel_like_a_home_agent(
    frame: &[u8],
    tunnel: Tunnel,
    source: IpAddr,
    care_of: IpAddr,
) -> Vec<u8> {
    let mut inner = frame[ETHERNET_LEN..].to_vec();
    if inner[0] >> 4 == 4 {
        inner[8] -= 1;
        inner[10..12].fill(0);
        let c = checksum::checksum(&inner[..20]);
        inner[10..12].copy_from_slice(&c.to_be_bytes());
    } else {
        inner[7] -= 1;
    }
    let v4_inner = inner[0] >> 4 == 4;
    let mut out = vec![0u8; ETHERNET_LEN + tunnel.overhead() + inner.len()];
    match (tunnel, source, care_of) {
        (Tunnel::Ipip | Tunnel::Gre, IpAddr::V4(s), IpAddr::V4(d)) => {
            let gre = tunnel == Tunnel::Gre;
            put_ethernet(&mut out, [2; 6], [4; 6], ETHERTYPE_IPV4);
            Ipv4Header {
                total_len: (tunnel.overhead() + inner.len()) as u16,
                ttl: 64,
                protocol: if gre {
                    protocol::GRE
                } else if v4_inner {
                    protocol::IPV4
                } else {
                    protocol::IPV6
                },
                src: s,
                dst: d,
                dont_fragment: true,
            }
            .put(&mut out, ETHERNET_LEN, 0);
            if gre {
                put_gre(
                    &mut out,
                    ETHERNET_LEN + IPV4_LEN,
                    if v4_inner {
                        ETHERTYPE_IPV4
                    } else {
                        ETHERTYPE_IPV6
                    },
                );
            }
        }
        (Tunnel::Ip6ip6, IpAddr::V6(s), IpAddr::V6(d)) => {
            put_ethernet(&mut out, [2; 6], [4; 6], ETHERTYPE_IPV6);
            put_ipv6(
                &mut out,
                ETHERNET_LEN,
                inner.len() as u16,
                if v4_inner {
                    protocol::IPV4
                } else {
                    protocol::IPV6
                },
                64,
                s,
                d,
            );
        }
        _ => panic!("tunnel and address families do not match"),
    }
    let at = out.len() - inner.len();
    out[at..].copy_from_slice(&inner);
    out
}

fn home_agent_tunnel(w: &Workload, f: &[u8], sequence: u64, which: u32) -> Vec<u8> {
    let m = w.plan.mobile_of(sequence);
    match w.family {
        Family::V4 => tunnel_like_a_home_agent(
            f,
            Tunnel::Ipip,
            w.plan.agent4.into(),
            w.plan.care_of4(m, which).into(),
        ),
        Family::V6 => tunnel_like_a_home_agent(
            f,
            Tunnel::Ip6ip6,
            w.plan.agent6.into(),
            w.plan.care_of6(m, which).into(),
        ),
    }
}

#[test]
fn cn_to_home_data_tunnelled_by_a_home_agent_checks_out() {
    for family in [Family::V4, Family::V6] {
        let mut w = workload(WorkloadKind::CnToHome, 1000);
        w.family = family;
        w.sizes = Sizes::Imix;
        w.check().unwrap();
        let e = Expectation::for_workload(&w);
        for s in [0u64, 1, 6, 11, 999, 123_456] {
            let (kind, f) = frame(&mut w, s);
            assert_eq!(kind, FrameKind::Data);
            let tunnelled = home_agent_tunnel(&w, &f, s, 0);
            assert_eq!(
                e.classify(&tunnelled),
                Received::Data {
                    sequence: s,
                    tx_ns: s * 1000,
                    care_of: 0
                },
                "{family:?} sequence {s}"
            );
            // Not tunnelled at all: the wrong encapsulation.
            assert_eq!(
                e.classify(&f),
                Received::Mismatch {
                    sequence: s,
                    reason: Mismatch::Encapsulation
                }
            );
        }
    }
}

#[test]
fn every_mismatch_is_told_apart() {
    let mut w = workload(WorkloadKind::CnToHome, 100);
    w.sizes = Sizes::Fixed(128);
    let e = Expectation::for_workload(&w);
    let s = 17;
    let (_, f) = frame(&mut w, s);
    let m = w.plan.mobile_of(s);
    let good = home_agent_tunnel(&w, &f, s, 0);
    let reason = |bytes: &[u8]| match e.classify(bytes) {
        Received::Mismatch { reason, .. } => Some(reason),
        _ => None,
    };
    assert!(matches!(e.classify(&good), Received::Data { .. }));

    let other_source = tunnel_like_a_home_agent(
        &f,
        Tunnel::Ipip,
        Ipv4Addr::new(192, 0, 2, 99).into(),
        w.plan.care_of4(m, 0).into(),
    );
    assert_eq!(reason(&other_source), Some(Mismatch::OuterSource));
    let other_care_of = tunnel_like_a_home_agent(
        &f,
        Tunnel::Ipip,
        w.plan.agent4.into(),
        w.plan.care_of4(m + 1, 0).into(),
    );
    assert_eq!(reason(&other_care_of), Some(Mismatch::OuterDestination));
    let gre = tunnel_like_a_home_agent(
        &f,
        Tunnel::Gre,
        w.plan.agent4.into(),
        w.plan.care_of4(m, 0).into(),
    );
    assert_eq!(reason(&gre), Some(Mismatch::Encapsulation));

    let mut ttl = good.clone();
    ttl[ETHERNET_LEN + 8] = 63;
    let c = checksum::update(
        get_u16(&ttl, ETHERNET_LEN + 10).unwrap(),
        0x4000 | 4,
        0x3f00 | 4,
    );
    put_u16(&mut ttl, ETHERNET_LEN + 10, c);
    assert_eq!(reason(&ttl), Some(Mismatch::OuterTtl));
    let mut outer_sum = good.clone();
    outer_sum[ETHERNET_LEN + 10] ^= 1;
    assert_eq!(reason(&outer_sum), Some(Mismatch::OuterHeader));

    let inner = ETHERNET_LEN + IPV4_LEN;
    let mut payload = good.clone();
    *payload.last_mut().unwrap() = 1;
    assert_eq!(reason(&payload), Some(Mismatch::InnerChecksum));
    let mut inner_ttl = f.clone();
    inner_ttl[ETHERNET_LEN + 8] = 10;
    inner_ttl[ETHERNET_LEN + 10..ETHERNET_LEN + 12].fill(0);
    let c = checksum::checksum(&inner_ttl[ETHERNET_LEN..ETHERNET_LEN + 20]);
    put_u16(&mut inner_ttl, ETHERNET_LEN + 10, c);
    let inner_ttl = tunnel_like_a_home_agent(
        &inner_ttl,
        Tunnel::Ipip,
        w.plan.agent4.into(),
        w.plan.care_of4(m, 0).into(),
    );
    assert_eq!(reason(&inner_ttl), Some(Mismatch::InnerTtl));
    // Another mobile's home address inside, checksums right: the wrong address.
    let mut swapped = good.clone();
    flip_keeping_checksum(&mut swapped, inner + 18, inner + 10);
    assert_eq!(reason(&swapped), Some(Mismatch::InnerAddress));
    // A shorter inner packet (the agent cut it), every length field consistent.
    let mut short = f[..f.len() - 8].to_vec();
    let ip_len = (short.len() - ETHERNET_LEN) as u16;
    put_u16(&mut short, ETHERNET_LEN + 2, ip_len);
    short[ETHERNET_LEN + 10..ETHERNET_LEN + 12].fill(0);
    let c = checksum::checksum(&short[ETHERNET_LEN..ETHERNET_LEN + 20]);
    put_u16(&mut short, ETHERNET_LEN + 10, c);
    let short = tunnel_like_a_home_agent(
        &short,
        Tunnel::Ipip,
        w.plan.agent4.into(),
        w.plan.care_of4(m, 0).into(),
    );
    assert_eq!(reason(&short), Some(Mismatch::InnerLength));
}

/// What mipdp's home agent does to IPv4 data frame `f` for a binding tunnelled by
/// `tunnel` (ipip, gre or minimal), from `entry` to the mobile's care-of address `which`:
/// its own tunnel code (mipdp_dataplane::tunnel) on the IP packet, in a new frame.
fn tunnel_like_mipdp(w: &Workload, f: &[u8], sequence: u64, entry: Ipv4Addr) -> Vec<u8> {
    use mipdp_dataplane::port::memory::MemPool;
    use mipdp_dataplane::tunnel::{gre, ipip, minimal, Endpoints4, TunnelSettings};
    use mipdp_dataplane::PacketBuf;
    let pool = MemPool::new(1);
    let mut p = pool.packet(&f[ETHERNET_LEN..]).unwrap();
    let ends = Endpoints4 {
        entry,
        exit: w.plan.care_of4(w.plan.mobile_of(sequence), 0),
    };
    let settings = TunnelSettings::default();
    match w.binding_tunnel {
        Tunnel::Ipip => ipip::encapsulate(&mut p, ends, &settings, 7).unwrap(),
        Tunnel::Gre => gre::encapsulate(&mut p, ends, &settings, 7).unwrap(),
        Tunnel::Minimal => minimal::encapsulate(&mut p, ends, &settings).unwrap(),
        Tunnel::Ip6ip6 => panic!("an IPv4 binding's tunnel"),
    };
    let mut out = vec![0u8; ETHERNET_LEN + p.data().len()];
    put_ethernet(&mut out, [2; 6], [4; 6], ETHERTYPE_IPV4);
    out[ETHERNET_LEN..].copy_from_slice(p.data());
    out
}

#[test]
fn every_ipv4_binding_tunnel_of_mipdp_checks_out_and_no_other() {
    for tunnel in [Tunnel::Ipip, Tunnel::Gre, Tunnel::Minimal] {
        let mut w = workload(WorkloadKind::CnToHome, 1000);
        w.sizes = Sizes::Imix;
        w.binding_tunnel = tunnel;
        w.check().unwrap();
        let e = Expectation::for_workload(&w);
        assert_eq!(e.encapsulation, Encapsulation::Tunnel(tunnel));
        for s in [0u64, 1, 6, 11, 999, 123_456] {
            let (_, f) = frame(&mut w, s);
            // The 1514-byte IMIX frames do not fit the tunnel (mipdp answers them with an
            // ICMP error); the rest come back.
            if f.len() + tunnel.overhead() > MAX_FRAME_LEN {
                continue;
            }
            let tunnelled = tunnel_like_mipdp(&w, &f, s, w.plan.agent4);
            assert_eq!(
                e.classify(&tunnelled),
                Received::Data {
                    sequence: s,
                    tx_ns: s * 1000,
                    care_of: 0
                },
                "{tunnel:?} sequence {s}"
            );
            for other in [Tunnel::Ipip, Tunnel::Gre, Tunnel::Minimal] {
                if other != tunnel {
                    let mut o = w.clone();
                    o.binding_tunnel = other;
                    assert_eq!(
                        e.classify(&tunnel_like_mipdp(&o, &f, s, w.plan.agent4)),
                        Received::Mismatch {
                            sequence: s,
                            reason: Mismatch::Encapsulation
                        },
                        "{other:?} expecting {tunnel:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn minimal_encapsulation_mismatches_are_told_apart() {
    let mut w = workload(WorkloadKind::CnToHome, 100);
    w.sizes = Sizes::Fixed(128);
    w.binding_tunnel = Tunnel::Minimal;
    let e = Expectation::for_workload(&w);
    let s = 17;
    let (_, f) = frame(&mut w, s);
    let m = w.plan.mobile_of(s);
    let good = tunnel_like_mipdp(&w, &f, s, w.plan.agent4);
    let reason = |bytes: &[u8]| match e.classify(bytes) {
        Received::Mismatch { reason, .. } => Some(reason),
        other => panic!("{other:?}"),
    };
    assert!(matches!(e.classify(&good), Received::Data { .. }));
    let (ip, fwd) = (ETHERNET_LEN, ETHERNET_LEN + IPV4_LEN);
    // The layout RFC 2004 §3 gives: one header, protocol 55, then the forwarding header
    // with S, the original protocol, destination and source.
    assert_eq!(good.len(), f.len() + MINIMAL_WITH_SOURCE_LEN);
    assert_eq!(good[ip + 9], protocol::MINIMAL);
    assert_eq!(good[ip + 8], SEND_TTL - 1);
    assert_eq!(&good[fwd..fwd + 2], &[protocol::UDP, 0x80]);
    assert_eq!(get_ipv4(&good, fwd + 4), Some(w.plan.home4(m)));
    assert_eq!(get_ipv4(&good, fwd + 8), Some(w.plan.correspondent4));
    assert_eq!(&good[fwd + 12..], &f[ip + IPV4_LEN..]);
    // The outer TTL option does not apply: the one TTL is the inner one.
    let mut e64 = e.clone();
    e64.outer_ttl = 1;
    assert!(matches!(e64.classify(&good), Received::Data { .. }));
    e64.inner_ttl = Some(SEND_TTL);
    assert_eq!(
        e64.classify(&good),
        Received::Mismatch {
            sequence: s,
            reason: Mismatch::InnerTtl
        }
    );

    let mut forwarding_sum = good.clone();
    forwarding_sum[fwd + 3] ^= 1;
    assert_eq!(reason(&forwarding_sum), Some(Mismatch::OuterHeader));
    let mut reserved = good.clone();
    assert_eq!(reserved[fwd + 1] & 1, 0);
    flip_keeping_checksum(&mut reserved, fwd, fwd + 2);
    assert!(checksum::verifies(&reserved[fwd..fwd + 12]));
    assert_eq!(reason(&reserved), Some(Mismatch::OuterHeader));
    let mut outer_sum = good.clone();
    outer_sum[ip + 10] ^= 1;
    assert_eq!(reason(&outer_sum), Some(Mismatch::OuterHeader));
    // Another home address in the forwarding header, its checksum right.
    let mut swapped = good.clone();
    flip_keeping_checksum(&mut swapped, fwd + 6, fwd + 2);
    assert_eq!(reason(&swapped), Some(Mismatch::InnerAddress));
    let mut payload = good.clone();
    *payload.last_mut().unwrap() = 1;
    assert_eq!(reason(&payload), Some(Mismatch::InnerChecksum));
    let mut elsewhere = w.clone();
    elsewhere.plan.care_of4 = Ipv4Addr::new(100, 65, 0, 0);
    let other_care_of = tunnel_like_mipdp(&elsewhere, &f, s, w.plan.agent4);
    assert_eq!(reason(&other_care_of), Some(Mismatch::OuterDestination));
    let other_source = tunnel_like_mipdp(&w, &f, s, Ipv4Addr::new(192, 0, 2, 99));
    assert_eq!(reason(&other_source), Some(Mismatch::OuterSource));
    // Cut short: the forwarding header past the packet's end is not a probe at all.
    let mut cut = good[..fwd + 6].to_vec();
    put_u16(&mut cut, ip + 2, (IPV4_LEN + 6) as u16);
    assert_eq!(e.classify(&cut), Received::Other);

    // The correspondent as the encapsulator: no original source (S clear, 8 bytes).
    let mut from_correspondent = e.clone();
    from_correspondent.tunnel_source = w.plan.correspondent4.into();
    let short = tunnel_like_mipdp(&w, &f, s, w.plan.correspondent4);
    assert_eq!(short.len(), f.len() + MINIMAL_LEN);
    assert_eq!(short[fwd + 1], 0);
    assert_eq!(
        from_correspondent.classify(&short),
        Received::Data {
            sequence: s,
            tx_ns: s * 1000,
            care_of: 0
        }
    );
}

#[test]
fn binding_tunnels_other_than_ipip_are_written_for_mipdp_and_refused_where_they_cannot_be() {
    for tunnel in [Tunnel::Gre, Tunnel::Minimal] {
        let mut w = workload(WorkloadKind::CnToHome, 3);
        w.binding_tunnel = tunnel;
        w.check().unwrap();
        let mut text = Vec::new();
        write_mipdp_sections(&mut text, &w).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert_eq!(
            text.matches(&format!("encap = \"{}\"", tunnel.name()))
                .count(),
            3,
            "{text}"
        );
        let config = mipdp_config(&w);
        assert!(config.bindings.iter().all(|b| b.encap == tunnel.name()));
        let mut v6 = w.clone();
        v6.family = Family::V6;
        v6.sizes = Sizes::Fixed(128);
        assert!(matches!(v6.check(), Err(WorkloadError::Mix(_))));
        let mut storm = w.clone();
        storm.kind = WorkloadKind::Mip4Storm;
        assert!(matches!(storm.check(), Err(WorkloadError::Mix(_))));
    }
    let mut w = workload(WorkloadKind::Encapsulated, 3);
    w.send_tunnel = Tunnel::Minimal;
    assert!(matches!(w.check(), Err(WorkloadError::Mix(_))));
}

#[test]
fn encapsulated_frames_reach_the_agent_and_check_out_after_decapsulation_or_re_encapsulation() {
    for (tunnel, family) in [
        (Tunnel::Ipip, Family::V4),
        (Tunnel::Gre, Family::V4),
        (Tunnel::Gre, Family::V6),
        (Tunnel::Ip6ip6, Family::V6),
        (Tunnel::Ip6ip6, Family::V4),
    ] {
        let mut w = workload(WorkloadKind::Encapsulated, 50);
        w.send_tunnel = tunnel;
        w.family = family;
        w.sizes = Sizes::Fixed(200);
        w.check().unwrap();
        let s = 33;
        let (_, f) = frame(&mut w, s);
        let overhead = tunnel.overhead();
        // Outer to the agent, from the entry point, the right protocol.
        match tunnel {
            Tunnel::Ipip | Tunnel::Gre => {
                assert!(checksum::verifies(&f[14..34]));
                assert_eq!(get_ipv4(&f, 26), Some(w.plan.entry4));
                assert_eq!(get_ipv4(&f, 30), Some(w.plan.agent4));
                let proto = f[23];
                let want = match (tunnel, family) {
                    (Tunnel::Gre, _) => 47,
                    (_, Family::V4) => 4,
                    (_, Family::V6) => 41,
                };
                assert_eq!(proto, want);
            }
            Tunnel::Ip6ip6 => {
                assert_eq!(get_ipv6(&f, 22), Some(w.plan.entry6));
                assert_eq!(get_ipv6(&f, 38), Some(w.plan.agent6));
            }
            Tunnel::Minimal => unreachable!("not sent in"),
        }
        // A foreign agent decapsulates and delivers (no TTL change: RFC 2003 §3.1 leaves
        // it to the forwarding that follows, which the FA does not do to its visitor).
        let mut e = Expectation::for_workload(&w);
        e.encapsulation = Encapsulation::Plain;
        e.inner_ttl = Some(SEND_TTL);
        let mut plain = f[..ETHERNET_LEN].to_vec();
        plain.extend_from_slice(&f[ETHERNET_LEN + overhead..]);
        put_u16(
            &mut plain,
            12,
            if family == Family::V4 {
                ETHERTYPE_IPV4
            } else {
                ETHERTYPE_IPV6
            },
        );
        assert!(
            matches!(e.classify(&plain), Received::Data { sequence: 33, .. }),
            "{tunnel:?} {family:?}: {:?}",
            e.classify(&plain)
        );
        // A MAP re-encapsulates towards the LCoA.
        if family == Family::V6 {
            let e = Expectation::for_workload(&{
                let mut w = w.clone();
                w.send_tunnel = Tunnel::Ip6ip6;
                w
            });
            let m = w.plan.mobile_of(s);
            let again = tunnel_like_a_home_agent(
                &plain,
                Tunnel::Ip6ip6,
                w.plan.agent6.into(),
                w.plan.care_of6(m, 0).into(),
            );
            if tunnel == Tunnel::Ip6ip6 {
                assert!(matches!(e.classify(&again), Received::Data { .. }));
            }
        }
    }
}

#[test]
fn imix_is_seven_four_one() {
    let mut count = std::collections::BTreeMap::new();
    for s in 0..1200 {
        *count.entry(Sizes::Imix.at(s, 64)).or_insert(0) += 1;
    }
    assert_eq!(
        count.into_iter().collect::<Vec<_>>(),
        [(64, 700), (576, 400), (1514, 100)]
    );
    // Raised to the workload's minimum where a 64-byte frame cannot hold the probe.
    let mut w = workload(WorkloadKind::CnToHome, 1);
    w.family = Family::V6;
    w.sizes = Sizes::Imix;
    assert_eq!(w.frame_len(0), 82);
    w.sizes = Sizes::Fixed(64);
    assert!(matches!(
        w.check(),
        Err(WorkloadError::Size { min: 82, .. })
    ));
    // A storm sends no data: its frames have their own sizes.
    let mut w = workload(WorkloadKind::Mip6Storm, 1);
    w.family = Family::V6;
    w.check().unwrap();
}

/// A mipdp configuration around the sections `write_mipdp_sections` writes.
fn mipdp_config(w: &Workload) -> mipdp_control::config::Config {
    let mut sections = Vec::new();
    write_mipdp_sections(&mut sections, w).unwrap();
    let text = format!(
        r#"[dataplane]
mode = "mobility"
workers = [1]

[node]
roles = ["home-agent"]
addresses = ["{}", "{}"]
proxy_arp = true

[[port]]
device = "net_null0"

[[port]]
device = "net_null1"

[[route]]
prefix = "10.0.0.0/8"
port = "net_null0"

[[route]]
prefix = "2001:db8:100::/48"
port = "net_null0"

[[route]]
prefix = "0.0.0.0/0"
port = "net_null1"
via = "192.0.2.254"

[[route]]
prefix = "::/0"
port = "net_null1"
via = "2001:db8:ffff::fe"

[[neighbour]]
port = "net_null1"
address = "192.0.2.254"
mac = "02:00:00:00:02:fe"

[[neighbour]]
port = "net_null1"
address = "2001:db8:ffff::fe"
mac = "02:00:00:00:02:fe"

{}"#,
        w.plan.agent4,
        w.plan.agent6,
        String::from_utf8(sections).unwrap()
    );
    mipdp_control::config::Config::parse(&text, "pktgen-test.toml")
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Mobile IPv4 requests through mipdp's own home agent, configured by the sections
/// mipdp-pktgen writes; each reply is put in a frame and classified.
fn run_requests(w: &mut Workload, frames: std::ops::Range<u64>) -> Vec<(FrameKind, u8)> {
    use mipdp_control::signalling::mip4::HomeAgent;
    let config = mipdp_config(w);
    let ha_config = config
        .home_agent
        .as_ref()
        .expect("[home_agent] written")
        .check()
        .unwrap();
    let mut ha = HomeAgent::new(ha_config);
    let e = Expectation::for_workload(w);
    let mut out = Vec::new();
    for s in frames {
        let (kind, f) = frame(w, s);
        let request = match kind {
            FrameKind::Request => true,
            FrameKind::Malformed(m) => m.is_request(),
            FrameKind::Data => false,
        };
        if !request {
            continue;
        }
        assert!(checksum::verifies(&f[14..34]), "frame {s}: IPv4 checksum");
        let udp_len = f.len() - 34;
        let pseudo = checksum::pseudo_header_v4(
            f[26..30].try_into().unwrap(),
            f[30..34].try_into().unwrap(),
            17,
            udp_len as u16,
        );
        assert_eq!(
            checksum::finish(checksum::combine(&[pseudo, checksum::sum(&f[34..])])),
            0,
            "frame {s}: UDP checksum"
        );
        let from = SocketAddrV4::new(get_ipv4(&f, 26).unwrap(), 434);
        let to = get_ipv4(&f, 30).unwrap();
        let now = UNIX_EPOCH + Duration::from_nanos(w.unix_epoch_ns + s * 1000);
        let outcome = ha.handle_request(&f[42..], from, to, now);
        let Some(reply) = outcome.reply else {
            // Denials beyond the home agent's reply rate limit go unanswered.
            assert!(
                matches!(kind, FrameKind::Malformed(_)),
                "frame {s}: no reply"
            );
            continue;
        };
        // The reply as it would come back: IPv4/UDP from 434 to the request's source.
        let mut r = vec![0u8; 42 + reply.bytes.len()];
        put_ethernet(&mut r, [2; 6], [4; 6], ETHERTYPE_IPV4);
        Ipv4Header {
            total_len: (28 + reply.bytes.len()) as u16,
            ttl: 64,
            protocol: 17,
            src: *reply.source.ip(),
            dst: *reply.destination.ip(),
            dont_fragment: false,
        }
        .put(&mut r, 14, 1);
        put_u16(&mut r, 34, 434);
        put_u16(&mut r, 36, 434);
        put_u16(&mut r, 38, (8 + reply.bytes.len()) as u16);
        r[42..].copy_from_slice(&reply.bytes);
        match e.classify(&r) {
            Received::RegistrationReply {
                code,
                identification_low,
            } => {
                assert_eq!(identification_low, get_u32(&f, 42 + 20).unwrap());
                out.push((kind, code));
            }
            other => panic!("frame {s}: reply classified as {other:?}"),
        }
    }
    out
}

#[test]
fn mip4_storm_requests_are_accepted_by_mipdps_home_agent_round_after_round() {
    let mut w = workload(WorkloadKind::Mip4Storm, 7);
    w.check().unwrap();
    // Three rounds; a burst of 32 frames shares one tx_ns in the generator, so give the
    // same time to several requests of one mobile: the identifications still increase.
    let results = run_requests(&mut w, 0..21);
    assert_eq!(results.len(), 21);
    assert!(
        results
            .iter()
            .all(|(k, code)| *k == FrameKind::Request && *code == 0),
        "{results:?}"
    );
    // Care-of addresses alternate by round.
    assert_eq!(w.request_target(3), (3, 0));
    assert_eq!(w.request_target(10), (3, 1));
    // The same mobile, same time: still strictly later.
    let mut w2 = workload(WorkloadKind::Mip4Storm, 1);
    let mut a = vec![0u8; REQUEST_FRAME_LEN];
    let mut b = a.clone();
    w2.write(&mut a, 0, 5).unwrap();
    w2.write(&mut b, 1, 5).unwrap();
    assert!(get_u64(&b, 58).unwrap() > get_u64(&a, 58).unwrap());
}

#[test]
fn a_key_other_than_the_home_agents_gets_131() {
    let mut w = workload(WorkloadKind::Mip4Storm, 3);
    let config = mipdp_config(&w);
    w.keys = Keys::Seed(43);
    let mut ha = mipdp_control::signalling::mip4::HomeAgent::new(
        config.home_agent.unwrap().check().unwrap(),
    );
    let (_, f) = frame(&mut w, 0);
    let now = UNIX_EPOCH + Duration::from_nanos(w.unix_epoch_ns);
    let outcome = ha.handle_request(
        &f[42..],
        SocketAddrV4::new(get_ipv4(&f, 26).unwrap(), 434),
        get_ipv4(&f, 30).unwrap(),
        now,
    );
    assert_eq!(outcome.reply.unwrap().bytes[1], 131);
}

#[test]
fn malformed_requests_get_131_and_134_and_the_data_shaped_ones_are_broken_as_named() {
    let mut w = workload(WorkloadKind::Malformed, 5);
    w.malformed_per_mille = 500;
    w.sizes = Sizes::Fixed(100);
    w.check().unwrap();
    let results = run_requests(&mut w, 0..40);
    assert!(results.contains(&(FrameKind::Malformed(MalformedKind::BadAuthenticator), 131)));
    assert!(results.contains(&(FrameKind::Malformed(MalformedKind::UnknownExtension), 134)));
    assert!(results
        .iter()
        .all(|(k, _)| matches!(k, FrameKind::Malformed(m) if m.is_request())));
    let mut seen = std::collections::BTreeSet::new();
    let e = Expectation::for_workload(&w);
    for s in 0..200 {
        let (kind, f) = frame(&mut w, s);
        let FrameKind::Malformed(m) = kind else {
            continue;
        };
        seen.insert(m.name());
        let ip = &f[14..];
        let total = usize::from(get_u16(ip, 2).unwrap());
        let ihl = usize::from(ip[0] & 15) * 4;
        match m {
            MalformedKind::TruncatedPacket => {
                assert_eq!(total, f.len() - 14 + 100);
                assert!(checksum::verifies(&ip[..20]));
            }
            MalformedKind::BadIpv4Checksum => assert!(!checksum::verifies(&ip[..20])),
            MalformedKind::BadUdpChecksum => {
                let pseudo = checksum::pseudo_header_v4(
                    ip[12..16].try_into().unwrap(),
                    ip[16..20].try_into().unwrap(),
                    17,
                    (total - 20) as u16,
                );
                let sum = checksum::combine(&[pseudo, checksum::sum(&ip[20..total])]);
                assert_ne!(checksum::finish(sum), 0);
            }
            MalformedKind::BadUdpLength => {
                assert!(usize::from(get_u16(ip, 24).unwrap()) > total - 20)
            }
            MalformedKind::UnknownIpv4Option => {
                assert_eq!((ihl, &ip[20..24]), (24, &[0x9e, 4, 0, 0][..]));
                assert!(checksum::verifies(&ip[..24]));
                // Forwarded in a tunnel, it is recognised as this kind, not as data.
                let t = home_agent_tunnel(&w, &f, s, 0);
                assert_eq!(e.classify(&t), Received::Malformed(m));
                let pseudo = checksum::pseudo_header_v4(
                    ip[12..16].try_into().unwrap(),
                    ip[16..20].try_into().unwrap(),
                    17,
                    (total - 24) as u16,
                );
                let sum = checksum::combine(&[pseudo, checksum::sum(&ip[24..total])]);
                assert_eq!(checksum::finish(sum), 0, "UDP checksum after the option");
            }
            MalformedKind::BadAuthenticator | MalformedKind::UnknownExtension => {}
        }
    }
    assert_eq!(seen.len(), MalformedKind::ALL.len(), "{seen:?}");
}

#[test]
fn mip6_storm_binding_updates_are_accepted_by_mipdps_home_agent() {
    use mipdp_control::signalling::mip6::{HomeAgent6, Reason};
    let mut w = workload(WorkloadKind::Mip6Storm, 5);
    w.bu_sequence_start = 65_534; // wraps round 2^16 within the run
    w.check().unwrap();
    let config = mipdp_config(&w);
    let mut ha = HomeAgent6::new(config.home_agent6.unwrap().check().unwrap());
    let e = Expectation::for_workload(&w);
    for s in 0..20 {
        let (kind, f) = frame(&mut w, s);
        assert_eq!(kind, FrameKind::Request);
        let now = UNIX_EPOCH + Duration::from_nanos(w.unix_epoch_ns + s * 1000);
        let outcome = ha.handle_binding_update(&f[14..], now);
        assert_eq!(outcome.reason, Reason::Registered, "frame {s}");
        let ack = outcome.reply.expect("a Binding Acknowledgement");
        let mut r = vec![0u8; 14];
        put_ethernet(&mut r, [2; 6], [4; 6], ETHERTYPE_IPV6);
        r.extend_from_slice(&ack);
        assert_eq!(e.classify(&r), Received::BindingAck { status: 0 });
    }
    // Under the wrong key the update is refused (RFC 4285 §5.1).
    let mut w = workload(WorkloadKind::Mip6Storm, 5);
    let config = mipdp_config(&w);
    w.keys = Keys::Seed(1);
    let mut ha = HomeAgent6::new(config.home_agent6.unwrap().check().unwrap());
    let (_, f) = frame(&mut w, 0);
    let now = UNIX_EPOCH + Duration::from_nanos(w.unix_epoch_ns);
    assert_ne!(
        ha.handle_binding_update(&f[14..], now).reason,
        Reason::Registered
    );
}

#[test]
fn handover_mixes_re_registrations_that_move_mobiles_with_data() {
    let mut w = workload(WorkloadKind::Handover, 4);
    w.handover_every = 10;
    w.check().unwrap();
    // First one registration per mobile (to its first care-of address), then one frame
    // in 10 a re-registration, each moving a mobile to its other care-of address.
    let kinds: Vec<FrameKind> = (0..44).map(|s| w.frame_kind(s)).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == FrameKind::Request).count(),
        8
    );
    assert!(kinds[..4].iter().all(|k| *k == FrameKind::Request));
    assert_eq!(kinds[13], FrameKind::Request);
    assert_eq!(w.request_target(2), (2, 0));
    assert_eq!(w.request_target(13), (0, 1));
    assert_eq!(w.request_target(23), (1, 1));
    assert_eq!(w.request_target(53), (0, 0));
    let results = run_requests(&mut w, 0..84);
    assert_eq!(results.len(), 12);
    assert!(results.iter().all(|(_, code)| *code == 0), "{results:?}");
    // Data tunnelled to either care-of address checks out, and says which.
    let e = Expectation::for_workload(&w);
    let (kind, f) = frame(&mut w, 5);
    assert_eq!(kind, FrameKind::Data);
    let moved = home_agent_tunnel(&w, &f, 5, 1);
    assert!(matches!(
        e.classify(&moved),
        Received::Data { care_of: 1, .. }
    ));
}

#[test]
fn handover_and_malformed_need_ipv4_and_handover_needs_room_for_data() {
    let mut w = workload(WorkloadKind::Handover, 4);
    w.family = Family::V6;
    w.sizes = Sizes::Fixed(128);
    assert!(matches!(w.check(), Err(WorkloadError::Mix(_))));
    let mut w = workload(WorkloadKind::Handover, 4);
    w.handover_every = 1;
    assert!(matches!(w.check(), Err(WorkloadError::Mix(_))));
}

proptest! {
    #[test]
    fn data_frames_always_verify_and_come_back_as_sent(
        sequence in any::<u64>(),
        tx_ns in any::<u64>(),
        mobiles in 1u32..=10_000_000,
        size in 64usize..=1514,
        v6 in any::<bool>(),
    ) {
        let mut w = workload(WorkloadKind::CnToHome, mobiles);
        w.family = if v6 { Family::V6 } else { Family::V4 };
        w.sizes = Sizes::Fixed(size.max(w.min_data_len()));
        let mut f = vec![0u8; w.frame_len(sequence)];
        w.write(&mut f, sequence, tx_ns).unwrap();
        let mut e = Expectation::for_workload(&w);
        e.encapsulation = Encapsulation::Plain;
        e.inner_ttl = Some(SEND_TTL);
        prop_assert_eq!(
            e.classify(&f),
            Received::Data { sequence, tx_ns, care_of: 0 }
        );
    }

    #[test]
    fn data_frames_come_back_through_mipdps_minimal_encapsulation(
        sequence in any::<u64>(),
        tx_ns in any::<u64>(),
        mobiles in 1u32..=10_000_000,
        size in 64usize..=MAX_FRAME_LEN - MINIMAL_WITH_SOURCE_LEN,
    ) {
        let mut w = workload(WorkloadKind::CnToHome, mobiles);
        w.binding_tunnel = Tunnel::Minimal;
        w.sizes = Sizes::Fixed(size);
        let mut f = vec![0u8; w.frame_len(sequence)];
        w.write(&mut f, sequence, tx_ns).unwrap();
        let tunnelled = tunnel_like_mipdp(&w, &f, sequence, w.plan.agent4);
        prop_assert_eq!(
            Expectation::for_workload(&w).classify(&tunnelled),
            Received::Data { sequence, tx_ns, care_of: 0 }
        );
    }

    #[test]
    fn classify_never_panics_on_minimal_encapsulation(
        bytes in proptest::collection::vec(any::<u8>(), 0..120),
        ihl in 0u8..16,
        s_bit: bool,
    ) {
        let mut w = workload(WorkloadKind::CnToHome, 10);
        w.binding_tunnel = Tunnel::Minimal;
        let e = Expectation::for_workload(&w);
        let mut b = vec![0u8; ETHERNET_LEN];
        b[12..14].copy_from_slice(&[8, 0]);
        b.extend_from_slice(&bytes);
        if b.len() > ETHERNET_LEN + 24 {
            // A header that passes the IPv4 checks more often: version 4, a sane total
            // length, not a fragment, protocol 55, a forwarding header of UDP.
            let total = (b.len() - ETHERNET_LEN) as u16;
            b[ETHERNET_LEN] = 0x40 | ihl;
            put_u16(&mut b, ETHERNET_LEN + 2, total);
            put_u16(&mut b, ETHERNET_LEN + 6, 0);
            b[ETHERNET_LEN + 9] = protocol::MINIMAL;
            let fwd = ETHERNET_LEN + usize::from(ihl.max(5)) * 4;
            if fwd + 2 <= b.len() {
                b[fwd] = protocol::UDP;
                b[fwd + 1] = if s_bit { 0x80 } else { 0 };
            }
        }
        let _ = e.classify(&b);
    }

    #[test]
    fn classify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), ethertype_v6: bool) {
        let w = workload(WorkloadKind::Malformed, 10);
        let e = Expectation::for_workload(&w);
        let _ = e.classify(&bytes);
        let mut b = bytes.clone();
        if b.len() > 15 {
            b[12..14].copy_from_slice(&if ethertype_v6 { [0x86, 0xdd] } else { [8, 0] });
            b[14] = if ethertype_v6 { 0x60 } else { 0x45 };
            let _ = e.classify(&b);
        }
    }
}

proptest! {
    #[test]
    fn registration_requests_always_verify(
        mobiles in 1u32..=10_000_000,
        sequence in 0u64..1 << 40,
        seed in any::<u64>(),
    ) {
        use hmac::{Hmac, Mac};
        let mut w = workload(WorkloadKind::Mip4Storm, mobiles);
        w.keys = Keys::Seed(seed);
        let (kind, f) = frame(&mut w, sequence);
        prop_assert_eq!(kind, FrameKind::Request);
        prop_assert!(checksum::verifies(&f[14..34]));
        let pseudo = checksum::pseudo_header_v4(
            f[26..30].try_into().unwrap(),
            f[30..34].try_into().unwrap(),
            17,
            (f.len() - 34) as u16,
        );
        prop_assert_eq!(
            checksum::finish(checksum::combine(&[pseudo, checksum::sum(&f[34..])])),
            0
        );
        let (mobile, which) = w.request_target(sequence);
        prop_assert_eq!(get_ipv4(&f, 26), Some(w.plan.care_of4(mobile, which)));
        prop_assert_eq!(get_ipv4(&f, 46), Some(w.plan.home4(mobile)));
        let key = super::keys::seed_key(seed, mobile);
        let mut mac = Hmac::<md5::Md5>::new_from_slice(&key).unwrap();
        mac.update(&f[42..72]);
        prop_assert_eq!(&f[72..88], &mac.finalize().into_bytes()[..]);
        // A request looped back is not a reply, nor data.
        prop_assert_eq!(Expectation::for_workload(&w).classify(&f), Received::Other);
    }

    #[test]
    fn binding_updates_always_verify(
        mobiles in 1u32..=10_000_000,
        sequence in 0u64..1 << 40,
        start in any::<u16>(),
    ) {
        use hmac::{Hmac, Mac};
        let mut w = workload(WorkloadKind::Mip6Storm, mobiles);
        w.bu_sequence_start = start;
        let (kind, f) = frame(&mut w, sequence);
        prop_assert_eq!(kind, FrameKind::Request);
        let (mobile, which) = w.request_target(sequence);
        let home = w.plan.home6(mobile);
        prop_assert_eq!(get_ipv6(&f, 22), Some(w.plan.care_of6(mobile, which)));
        prop_assert_eq!(get_ipv6(&f, 62), Some(home));
        let mh = &f[78..126];
        let pseudo = checksum::pseudo_header_v6(home.octets(), w.plan.agent6.octets(), 135, 48);
        prop_assert_eq!(checksum::finish(checksum::combine(&[pseudo, checksum::sum(mh)])), 0);
        let round = w.request_round(sequence);
        prop_assert_eq!(get_u16(mh, 6), Some(start.wrapping_add(round as u16)));
        let mut zeroed = mh[..36].to_vec();
        zeroed[4..6].fill(0);
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&super::keys::seed_key(42, mobile)).unwrap();
        mac.update(&w.plan.care_of6(mobile, which).octets());
        mac.update(&home.octets());
        mac.update(&zeroed);
        prop_assert_eq!(&mh[36..48], &mac.finalize().into_bytes()[..12]);
    }

    #[test]
    fn malformed_frames_never_pass_as_data(sequence in 0u64..1 << 32, size in 68usize..=1514) {
        let mut w = workload(WorkloadKind::Malformed, 1000);
        w.malformed_per_mille = 1000;
        w.sizes = Sizes::Fixed(size);
        let e = Expectation::for_workload(&w);
        let (kind, f) = frame(&mut w, sequence);
        prop_assert!(matches!(kind, FrameKind::Malformed(_)));
        let plain = e.classify(&f);
        prop_assert!(!matches!(plain, Received::Data { .. }), "{:?}", plain);
        let tunnelled = home_agent_tunnel(&w, &f, sequence, 0);
        let r = e.classify(&tunnelled);
        prop_assert!(!matches!(r, Received::Data { .. }), "{:?}", r);
    }
}
