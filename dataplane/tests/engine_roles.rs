//! Engine tests per role on in-memory buffers: a frame in → the exact frame out (built
//! here field by field with the wire types), or a drop counted by its reason.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crossbeam_queue::ArrayQueue;
use mipdp_dataplane::engine::{Engine, NodeConfig, TunnelKind};
use mipdp_dataplane::port::memory::MemPool;
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::profile::{
    AddrMatch, Class, Edit, Match, Profile, ProfileId, TableRef, TransferList,
};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{
    AnycastGroup, AnycastTarget, Binding, CacheEntry, CareOfList, Encap, MulticastEntry, Route,
    TargetState, Visitor,
};
use mipdp_dataplane::tunnel::{ip6ip6, ipip};
use mipdp_dataplane::wire::checksum::{self, ChecksumMode};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::{Action, DropReason, Processor};

mod frames;
use frames::{arp, eth, ipv4, ipv6, udp};

const MAC0: [u8; 6] = [0x02, 0, 0, 0, 0, 0x10];
const MAC1: [u8; 6] = [0x02, 0, 0, 0, 0, 0x11];
const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x99];
const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];
const MOBILE_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x55];

const NODE4: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const ROUTER4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
const CN4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
const HOME4: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
const COA4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn node6() -> Ipv6Addr {
    "2001:db8:1::1".parse().unwrap()
}

/// A node with port 0 on the home link (10.1.0.0/24, 2001:db8:1::/64) and port 1 toward
/// a router (default routes), both neighbours resolved.
fn engine(profiles: Vec<Profile>) -> Engine {
    engine_on(
        NodeConfig::new(vec![MAC0, MAC1], vec![NODE4], vec![node6()]),
        profiles,
    )
}

/// [`engine`] with other node settings.
fn engine_on(node: NodeConfig, profiles: Vec<Profile>) -> Engine {
    let mut e = Engine::new(node);
    let t = e.tables_mut();
    for (prefix, port, hop) in [
        ("10.1.0.0/24", 0, None),
        ("0.0.0.0/0", 1, Some("192.0.2.254")),
        ("2001:db8:1::/64", 0, None),
        ("::/0", 1, Some("fe80::fe")),
        ("ff00::/8", 1, None),
    ] {
        t.routes
            .insert(
                prefix.parse().unwrap(),
                Route {
                    port,
                    next_hop: hop.map(ip),
                },
            )
            .unwrap();
    }
    t.neighbours
        .insert(1, IpAddr::V4(ROUTER4), ROUTER_MAC)
        .unwrap();
    t.neighbours.insert(1, ip("fe80::fe"), ROUTER_MAC).unwrap();
    for p in profiles {
        t.insert_profile(p).unwrap();
    }
    e
}

/// The CN → home address packet the home agent tests send (TTL 64, DSCP 10).
fn to_home(data: &[u8]) -> Vec<u8> {
    ipv4(CN4, HOME4, IpProtocol::UDP, 64, 10, &udp(1000, 2000, data))
}

/// `packet` with its TTL one lower and the checksum redone.
fn hopped4(packet: &[u8]) -> Vec<u8> {
    let mut p = packet.to_vec();
    p[8] -= 1;
    Ipv4Packet::new_unchecked(&mut p[..]).fill_checksum();
    p
}

fn hopped6(packet: &[u8]) -> Vec<u8> {
    let mut p = packet.to_vec();
    p[7] -= 1;
    p
}

fn run(e: &mut Engine, pool: &MemPool, in_port: usize, frame: &[u8]) -> (Action, Vec<u8>) {
    let mut p = pool.packet(frame).unwrap();
    let action = e.process(in_port, &mut p);
    (action, p.data().to_vec())
}

fn binding(coa: IpAddr, encap: Encap, source: IpAddr) -> Binding {
    Binding {
        care_of: CareOfList::one(coa),
        encap,
        source,
        tos: None,
    }
}

fn ha_with(encap: Encap) -> Engine {
    let own = [IpAddr::V4(NODE4), IpAddr::V6(node6())];
    let mut profiles = roles::home_agent(&own);
    profiles.push(roles::home_address(1, IpAddr::V4(HOME4)));
    let mut e = engine(profiles);
    e.tables_mut()
        .insert_binding(
            IpAddr::V4(HOME4),
            binding(IpAddr::V4(COA4), encap, IpAddr::V4(NODE4)),
        )
        .unwrap();
    e
}

/// The outer IPv4 header the engine's first tunnel packet gets (identification 1).
fn outer4(src: Ipv4Addr, dst: Ipv4Addr, proto: IpProtocol, dscp: u8, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: proto,
        payload_len: payload.len(),
        ttl: 64,
        dscp,
        ecn: 0,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b[20..].copy_from_slice(payload);
    b
}

#[test]
fn home_agent_tunnels_ip_in_ip_to_the_care_of_address() {
    let pool = MemPool::new(8);
    let mut e = ha_with(Encap::IpInIp);
    let inner = to_home(b"hello mobile");
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &inner));
    assert_eq!(action, Action::Forward(1));
    let outer = outer4(NODE4, COA4, IpProtocol::IPIP, 10, &hopped4(&inner));
    assert_eq!(out, eth(ROUTER_MAC, MAC1, 0x0800, &outer));
    assert_eq!(e.snapshot().encaps[TunnelKind::Ipip as usize], 1);
    assert_eq!(e.snapshot().hits[Class::NodeDestination as usize], 1);
}

#[test]
fn home_agent_tunnels_gre_and_minimal_by_the_binding_method() {
    let pool = MemPool::new(8);
    let inner = to_home(b"gre please");
    let mut e = ha_with(Encap::Gre);
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &inner));
    assert_eq!(action, Action::Forward(1));
    // GRE header: no flags, version 0, protocol type IPv4 (RFC 2784 §2).
    let mut gre = vec![0, 0, 0x08, 0x00];
    gre.extend_from_slice(&hopped4(&inner));
    let outer = outer4(NODE4, COA4, IpProtocol::GRE, 10, &gre);
    assert_eq!(out, eth(ROUTER_MAC, MAC1, 0x0800, &outer));

    let mut e = ha_with(Encap::Minimal);
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &inner));
    assert_eq!(action, Action::Forward(1));
    let ip = Ipv4Packet::new_checked(&out[14..]).unwrap();
    let repr = Ipv4Repr::parse(&ip, ChecksumMode::Verify).unwrap();
    // RFC 2004 §3: the modified header goes from the encapsulator to the care-of
    // address with protocol 55 and the original TTL less one; the forwarding header
    // carries the original protocol, S set (the source differs), the home address and
    // the original source.
    assert_eq!(
        (repr.src_addr, repr.dst_addr, repr.protocol, repr.ttl),
        (NODE4, COA4, IpProtocol(55), 63)
    );
    assert_eq!(
        &out[14 + 20..14 + 24],
        &[17, 0x80, out[14 + 22], out[14 + 23]]
    );
    assert_eq!(&out[14 + 24..14 + 28], &HOME4.octets());
    assert_eq!(&out[14 + 28..14 + 32], &CN4.octets());
    assert_eq!(e.snapshot().encaps[TunnelKind::Minimal as usize], 1);
}

#[test]
fn home_agent_tunnels_ipv6_in_ipv6() {
    let pool = MemPool::new(8);
    let home: Ipv6Addr = "2001:db8:1::100".parse().unwrap();
    let coa: Ipv6Addr = "2001:db8:99::7".parse().unwrap();
    let cn: Ipv6Addr = "2001:db8:50::9".parse().unwrap();
    let own = [IpAddr::V4(NODE4), IpAddr::V6(node6())];
    let mut profiles = roles::home_agent(&own);
    profiles.push(roles::home_address(1, IpAddr::V6(home)));
    let mut e = engine(profiles);
    e.tables_mut()
        .insert_binding(
            IpAddr::V6(home),
            binding(IpAddr::V6(coa), Encap::IpInIp, IpAddr::V6(node6())),
        )
        .unwrap();
    let inner = ipv6(cn, home, 17, 64, 0, &udp(1000, 2000, b"six"));
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x86dd, &inner));
    assert_eq!(action, Action::Forward(1));
    // RFC 2473 §4.1.1 / §5.1: a Destination Options header with the Tunnel
    // Encapsulation Limit (default 4) after the outer header.
    let mut carried = vec![41, 0, 4, 1, 4, 1, 1, 0];
    carried.extend_from_slice(&hopped6(&inner));
    let outer = ipv6(node6(), coa, 60, 64, 0, &carried);
    assert_eq!(out, eth(ROUTER_MAC, MAC1, 0x86dd, &outer));
    assert_eq!(e.snapshot().encaps[TunnelKind::Ip6ip6 as usize], 1);
}

#[test]
fn an_aaa_source_profile_marks_dscp_inner_and_outer_before_the_home_agent_tunnels() {
    let pool = MemPool::new(8);
    let mut e = ha_with(Encap::IpInIp);
    e.tables_mut()
        .insert_profile(Profile {
            id: ProfileId {
                session: 7,
                number: 1,
            },
            class: Class::AaaSource,
            matches: Match {
                src: AddrMatch::Exact(IpAddr::V4(CN4)),
                ..Match::ANY
            },
            edit: Edit {
                dscp: Some(46),
                ..Edit::NONE
            },
            table: TableRef::Bindings,
        })
        .unwrap();
    let inner = to_home(b"voice");
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &inner));
    assert_eq!(action, Action::Forward(1));
    let mut marked = inner.clone();
    marked[1] = 46 << 2;
    let marked = hopped4(&marked);
    let outer = outer4(NODE4, COA4, IpProtocol::IPIP, 46, &marked);
    assert_eq!(out, eth(ROUTER_MAC, MAC1, 0x0800, &outer));
    assert_eq!(e.snapshot().hits[Class::AaaSource as usize], 1);
    assert_eq!(e.snapshot().hits[Class::NodeDestination as usize], 0);
}

#[test]
fn foreign_agent_decapsulates_and_delivers_to_the_visitor() {
    let pool = MemPool::new(8);
    let fa = Ipv4Addr::new(203, 0, 113, 1);
    let mut e = Engine::new(NodeConfig::new(vec![MAC0, MAC1], vec![fa], vec![]));
    let t = e.tables_mut();
    for p in roles::foreign_agent(&[IpAddr::V4(fa)]) {
        t.insert_profile(p).unwrap();
    }
    t.visitors
        .insert(
            IpAddr::V4(HOME4),
            Visitor {
                mac: MOBILE_MAC,
                port: 0,
            },
        )
        .unwrap();
    let inner = to_home(b"via the FA");
    let mut tunnel = inner.clone();
    tunnel[8] = 63;
    Ipv4Packet::new_unchecked(&mut tunnel[..]).fill_checksum();
    let outer = ipv4(NODE4, fa, IpProtocol::IPIP, 50, 0, &tunnel);
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &outer));
    assert_eq!(action, Action::Forward(0));
    assert_eq!(out, eth(MOBILE_MAC, MAC0, 0x0800, &hopped4(&tunnel)));
    assert_eq!(e.snapshot().decaps[TunnelKind::Ipip as usize], 1);

    // A tunnel packet whose inner destination is not a visitor: a fault, counted.
    let stranger = ipv4(
        CN4,
        Ipv4Addr::new(10, 9, 9, 9),
        IpProtocol::UDP,
        63,
        0,
        &udp(1, 2, b""),
    );
    let outer = ipv4(NODE4, fa, IpProtocol::IPIP, 50, 0, &stranger);
    let (action, _) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &outer));
    assert_eq!(action, Action::Drop(DropReason::NoVisitor));
}

#[test]
fn map_tunnels_packets_for_a_regional_care_of_address_to_the_on_link_one() {
    let pool = MemPool::new(8);
    let map_addr: Ipv6Addr = "2001:db8:1::1".parse().unwrap();
    let rcoa: Ipv6Addr = "2001:db8:aaaa::42".parse().unwrap();
    let lcoa: Ipv6Addr = "2001:db8:1::42".parse().unwrap();
    let ha: Ipv6Addr = "2001:db8:50::1".parse().unwrap();
    let mut profiles = roles::map(
        &[IpAddr::V6(map_addr)],
        &["2001:db8:aaaa::/64".parse().unwrap()],
    );
    profiles.retain(|p| p.class != Class::NodeDefault);
    let mut e = engine(profiles);
    let t = e.tables_mut();
    t.insert_binding(
        IpAddr::V6(rcoa),
        binding(IpAddr::V6(lcoa), Encap::IpInIp, IpAddr::V6(map_addr)),
    )
    .unwrap();
    t.neighbours
        .insert(0, IpAddr::V6(lcoa), MOBILE_MAC)
        .unwrap();
    // The home agent's tunnel to the RCoA, as received.
    let from_ha = ipv6(
        ha,
        rcoa,
        41,
        60,
        0,
        &ipv6(
            "2001:db8:50::9".parse().unwrap(),
            "2001:db8:5::100".parse().unwrap(),
            59,
            50,
            0,
            b"",
        ),
    );
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x86dd, &from_ha));
    assert_eq!(action, Action::Forward(0));
    let mut carried = vec![41, 0, 4, 1, 4, 1, 1, 0];
    carried.extend_from_slice(&hopped6(&from_ha));
    assert_eq!(
        out,
        eth(
            MOBILE_MAC,
            MAC0,
            0x86dd,
            &ipv6(map_addr, lcoa, 60, 64, 0, &carried)
        )
    );
    // Nothing else is routed by this MAP (its router default was left out): a packet
    // for another address has no profile.
    let other = ipv6(ha, "2001:db8:bbbb::1".parse().unwrap(), 59, 60, 0, b"");
    let (action, _) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x86dd, &other));
    assert_eq!(action, Action::Drop(DropReason::NoProfile));
}

#[test]
fn mma_re_encapsulates_to_the_mobile_multicast_group_and_mac() {
    let pool = MemPool::new(8);
    let mma: Ipv6Addr = "2001:db8:1::1".parse().unwrap();
    let home: Ipv6Addr = "2001:db8:5::100".parse().unwrap();
    let group: Ipv6Addr = "ff3e:30:2001:db8:211:22ff:fe33:4455".parse().unwrap();
    let ha: Ipv6Addr = "2001:db8:50::1".parse().unwrap();
    let mut e = engine(roles::mma(&[IpAddr::V6(mma)], &[]));
    e.tables_mut()
        .multicast
        .insert(
            IpAddr::V6(home),
            MulticastEntry::to_group(IpAddr::V6(group), Encap::IpInIp).unwrap(),
        )
        .unwrap();
    let inner = ipv6(
        "2001:db8:50::9".parse().unwrap(),
        home,
        17,
        50,
        0,
        &udp(5, 6, b"m"),
    );
    let from_ha = ipv6(ha, mma, 41, 60, 0, &inner);
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x86dd, &from_ha));
    assert_eq!(action, Action::Forward(1));
    let mut carried = vec![41, 0, 4, 1, 4, 1, 1, 0];
    carried.extend_from_slice(&hopped6(&inner));
    let group_mac = [0x33, 0x33, 0xfe, 0x33, 0x44, 0x55];
    assert_eq!(
        out,
        eth(
            group_mac,
            MAC1,
            0x86dd,
            &ipv6(mma, group, 60, 64, 0, &carried)
        )
    );
    assert_eq!(e.snapshot().decaps[TunnelKind::Ip6ip6 as usize], 1);
    assert_eq!(e.snapshot().encaps[TunnelKind::Ip6ip6 as usize], 1);
}

#[test]
fn mma_hands_a_peer_tunnel_to_the_control_thread_as_it_arrived_and_still_delivers_it() {
    let pool = MemPool::new(16);
    let mma: Ipv6Addr = "2001:db8:1::1".parse().unwrap();
    let peer: Ipv6Addr = "2001:db8:dd::1".parse().unwrap();
    let home: Ipv6Addr = "2001:db8:5::100".parse().unwrap();
    let group: Ipv6Addr = "ff3e:30:2001:db8:211:22ff:fe33:4455".parse().unwrap();
    let own = [IpAddr::V6(mma)];
    let mut profiles = roles::mma(&own, &[]);
    profiles.extend(roles::mma_peers(&own, &[IpAddr::V6(peer)]));
    let mut node = NodeConfig::new(vec![MAC0, MAC1], vec![NODE4], vec![mma]);
    node.notify = (1, 2);
    let mut e = engine_on(node, profiles);
    e.tables_mut()
        .multicast
        .insert(
            IpAddr::V6(home),
            MulticastEntry::to_group(IpAddr::V6(group), Encap::IpInIp).unwrap(),
        )
        .unwrap();
    let inner = ipv6(
        "2001:db8:20::50".parse().unwrap(),
        home,
        17,
        50,
        0,
        &udp(5, 6, b"m"),
    );
    let mut carried = vec![41, 0, 4, 1, 4, 1, 1, 0];
    carried.extend_from_slice(&hopped6(&inner));
    let to_group = eth(
        [0x33, 0x33, 0xfe, 0x33, 0x44, 0x55],
        MAC1,
        0x86dd,
        &ipv6(mma, group, 60, 64, 0, &carried),
    );
    let send = |e: &mut Engine, from: Ipv6Addr| {
        let frame = eth(
            MAC1,
            ROUTER_MAC,
            0x86dd,
            &ipv6(from, mma, 41, 60, 0, &inner),
        );
        let mut p = pool.packet(&frame).unwrap();
        let mut copies = Vec::new();
        let action = e.process_with(1, &mut p, &mut |copy, action| {
            copies.push((action, copy.data().to_vec()))
        });
        (frame, action, p.data().to_vec(), copies)
    };
    // Within the burst of 2: the frame as it arrived to the control thread, and the
    // packet itself decapsulated and re-tunnelled to the group.
    for n in 1..=2 {
        let (frame, action, out, copies) = send(&mut e, peer);
        assert_eq!(action, Action::Forward(1));
        assert_eq!(out, to_group);
        assert_eq!(copies, vec![(Action::Punt, frame)]);
        assert_eq!(e.snapshot().notify_copies, n);
    }
    assert_eq!(e.snapshot().hits[Class::NodeSource as usize], 2);
    // Beyond it: delivered, no copy, counted.
    let (_, action, out, copies) = send(&mut e, peer);
    assert_eq!((action, out), (Action::Forward(1), to_group.clone()));
    assert!(copies.is_empty());
    assert_eq!(e.snapshot().notify_limited, 1);
    // A tunnel from any other source ends at the generic profile: no copy.
    let (_, action, out, copies) = send(&mut e, "2001:db8:50::1".parse().unwrap());
    assert_eq!((action, out), (Action::Forward(1), to_group));
    assert!(copies.is_empty());
    assert_eq!(e.snapshot().hits[Class::NodeDestination as usize], 1);
    assert_eq!(
        (e.snapshot().notify_copies, e.snapshot().notify_limited),
        (2, 1)
    );
    assert_eq!(e.snapshot().decaps[TunnelKind::Ip6ip6 as usize], 4);
}

#[test]
fn mma_decapsulates_tunnels_to_a_care_of_address_it_handed_out() {
    // The care-of prefix holds addresses the MMA hands out, not node addresses: the tunnel
    // ends there all the same (it was refused as not_tunnelled).
    let pool = MemPool::new(8);
    let mma: Ipv6Addr = "2001:db8:1::1".parse().unwrap();
    let care_of: Ipv6Addr = "2001:db8:cc:1::100".parse().unwrap();
    let home: Ipv6Addr = "2001:db8:5::100".parse().unwrap();
    let group: Ipv6Addr = "ff3e:30:2001:db8:211:22ff:fe33:4455".parse().unwrap();
    let ha: Ipv6Addr = "2001:db8:50::1".parse().unwrap();
    let mut e = engine(roles::mma(
        &[IpAddr::V6(mma)],
        &["2001:db8:cc:1::/64".parse().unwrap()],
    ));
    e.tables_mut()
        .multicast
        .insert(
            IpAddr::V6(home),
            MulticastEntry::to_group(IpAddr::V6(group), Encap::IpInIp).unwrap(),
        )
        .unwrap();
    let inner = ipv6(ha, home, 17, 50, 0, &udp(5, 6, b"m"));
    let from_ha = ipv6(ha, care_of, 41, 60, 0, &inner);
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x86dd, &from_ha));
    assert_eq!(action, Action::Forward(1));
    let mut carried = vec![41, 0, 4, 1, 4, 1, 1, 0];
    carried.extend_from_slice(&hopped6(&inner));
    assert_eq!(
        out,
        eth(
            [0x33, 0x33, 0xfe, 0x33, 0x44, 0x55],
            MAC1,
            0x86dd,
            &ipv6(mma, group, 60, 64, 0, &carried)
        )
    );
    assert_eq!(e.snapshot().decaps[TunnelKind::Ip6ip6 as usize], 1);
}

#[test]
fn a_wildcard_decapsulating_profile_ends_only_tunnels_to_the_node() {
    let pool = MemPool::new(8);
    let mut e = engine(vec![Profile {
        id: ProfileId {
            session: 7,
            number: 1,
        },
        class: Class::NodeDefault,
        matches: Match {
            proto: Some(41),
            ..Match::ANY
        },
        edit: Edit {
            decapsulate: true,
            ..Edit::NONE
        },
        table: TableRef::Routes,
    }]);
    let ha: Ipv6Addr = "2001:db8:50::1".parse().unwrap();
    let elsewhere: Ipv6Addr = "2001:db8:77::1".parse().unwrap();
    let inner = ipv6(ha, "2001:db8:5::100".parse().unwrap(), 59, 50, 0, b"");
    let passing = ipv6(ha, elsewhere, 41, 60, 0, &inner);
    let (action, _) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x86dd, &passing));
    assert_eq!(action, Action::Drop(DropReason::NotTunnelled));
    let to_node = ipv6(ha, node6(), 41, 60, 0, &inner);
    let (action, _) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x86dd, &to_node));
    assert_eq!(action, Action::Forward(1));
}

#[test]
fn correspondent_inserts_a_type_2_routing_header_from_its_binding_cache() {
    let pool = MemPool::new(8);
    let home: Ipv6Addr = "2001:db8:5::100".parse().unwrap();
    let coa: Ipv6Addr = "2001:db8:99::7".parse().unwrap();
    let mut profiles = roles::correspondent(&[IpAddr::V6(node6())]);
    profiles.push(roles::cached_destination(1, IpAddr::V6(home)));
    let mut e = engine(profiles);
    e.tables_mut()
        .cache
        .insert(
            IpAddr::V6(home),
            CacheEntry {
                care_of: IpAddr::V6(coa),
                encap: None,
            },
        )
        .unwrap();
    let payload = udp(7, 8, b"ro");
    let original = ipv6(node6(), home, 17, 64, 0, &payload);
    let (action, out) = run(&mut e, &pool, 0, &eth(MAC0, PEER_MAC, 0x86dd, &original));
    assert_eq!(action, Action::Forward(1));
    // RFC 6275 §6.4: Next Header, Hdr Ext Len 2, Routing Type 2, Segments Left 1,
    // reserved, the home address.
    let mut rh = vec![17, 2, 2, 1, 0, 0, 0, 0];
    rh.extend_from_slice(&home.octets());
    rh.extend_from_slice(&payload);
    assert_eq!(
        out,
        eth(
            ROUTER_MAC,
            MAC1,
            0x86dd,
            &ipv6(node6(), coa, 43, 63, 0, &rh)
        )
    );
}

#[test]
fn anycast_rotates_over_online_targets_and_counts_when_none_is() {
    let pool = MemPool::new(8);
    let any = Ipv4Addr::new(10, 1, 0, 200);
    let mut e = engine(roles::anycast(&[IpAddr::V4(any)]));
    let target = |s: &str, state| AnycastTarget { addr: ip(s), state };
    let group = AnycastGroup::new(&[
        target("203.0.113.10", TargetState::Online),
        target("203.0.113.11", TargetState::Faulty),
        target("203.0.113.12", TargetState::Online),
    ])
    .unwrap();
    e.tables_mut()
        .anycast
        .insert(IpAddr::V4(any), group)
        .unwrap();
    let packet = eth(
        MAC1,
        ROUTER_MAC,
        0x0800,
        &ipv4(CN4, any, IpProtocol::UDP, 64, 0, &udp(1, 53, b"q")),
    );
    let mut picked = Vec::new();
    for _ in 0..3 {
        let (action, out) = run(&mut e, &pool, 1, &packet);
        assert_eq!(action, Action::Forward(1));
        picked.push(Ipv4Packet::new_checked(&out[14..]).unwrap().dst_addr());
    }
    assert_eq!(
        picked,
        [
            Ipv4Addr::new(203, 0, 113, 10),
            Ipv4Addr::new(203, 0, 113, 12),
            Ipv4Addr::new(203, 0, 113, 10)
        ]
    );
    for t in ["203.0.113.10", "203.0.113.12"] {
        e.tables_mut()
            .anycast
            .set_state(IpAddr::V4(any), ip(t), TargetState::Offline);
    }
    let (action, _) = run(&mut e, &pool, 1, &packet);
    assert_eq!(action, Action::Drop(DropReason::NoAnycastTarget));
}

#[test]
fn transfer_profiles_tunnel_to_their_destination() {
    let pool = MemPool::new(8);
    let new_mma = Ipv4Addr::new(203, 0, 113, 50);
    let mut e = engine(vec![Profile {
        id: ProfileId {
            session: 0,
            number: 1,
        },
        class: Class::NodeDestination,
        matches: Match {
            dst: AddrMatch::Exact(IpAddr::V4(HOME4)),
            ..Match::ANY
        },
        edit: Edit {
            transfer: TransferList::new(&[IpAddr::V4(new_mma)]).unwrap(),
            encap: Some(Encap::Gre),
            ..Edit::NONE
        },
        table: TableRef::Transfer,
    }]);
    let inner = to_home(b"moved");
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &inner));
    assert_eq!(action, Action::Forward(1));
    let ip = Ipv4Packet::new_checked(&out[14..]).unwrap();
    assert_eq!(
        (ip.src_addr(), ip.dst_addr(), ip.protocol()),
        (NODE4, new_mma, IpProtocol::GRE)
    );
}

#[test]
fn faults_and_limits_are_dropped_and_counted_by_reason() {
    let pool = MemPool::new(8);
    let resolve = Arc::new(ArrayQueue::new(4));
    let mut e = ha_with(Encap::IpInIp).with_resolver(resolve.clone());
    // A home-address profile without a binding behind it.
    let orphan = Ipv4Addr::new(10, 1, 0, 101);
    e.tables_mut()
        .insert_profile(roles::home_address(2, IpAddr::V4(orphan)))
        .unwrap();
    let p = ipv4(CN4, orphan, IpProtocol::UDP, 64, 0, &udp(1, 2, b""));
    assert_eq!(
        run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &p)).0,
        Action::Drop(DropReason::NoBinding)
    );
    // TTL 1 cannot be tunnelled (RFC 2003 §3.1); from a source that may not be answered
    // (here a broadcast source) no ICMP error goes back either: counted drop.
    let p = ipv4(
        Ipv4Addr::BROADCAST,
        HOME4,
        IpProtocol::UDP,
        1,
        0,
        &udp(1, 2, b""),
    );
    assert_eq!(
        run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &p)).0,
        Action::Drop(DropReason::TtlExpired)
    );
    // A connected destination whose MAC is unknown: dropped, resolution requested.
    let p = ipv4(
        CN4,
        Ipv4Addr::new(10, 1, 0, 77),
        IpProtocol::UDP,
        64,
        0,
        &udp(1, 2, b""),
    );
    assert_eq!(
        run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &p)).0,
        Action::Drop(DropReason::NoNeighbour)
    );
    assert_eq!(resolve.pop(), Some((0, ip("10.1.0.77"))));
    // A bad IPv4 header checksum.
    let mut p = ipv4(CN4, HOME4, IpProtocol::UDP, 64, 0, &udp(1, 2, b""));
    p[10] ^= 0xff;
    assert_eq!(
        run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &p)).0,
        Action::Drop(DropReason::Malformed)
    );
    // Nested tunnels to the home agent beyond the nesting limit (4).
    let mut p = to_home(b"deep");
    for _ in 0..6 {
        p = ipv4(CN4, NODE4, IpProtocol::IPIP, 64, 0, &p);
    }
    assert_eq!(
        run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &p)).0,
        Action::Drop(DropReason::NestingLimit)
    );
    // An EtherType the node does not handle, and a runt.
    assert_eq!(
        run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x88cc, b"lldp")).0,
        Action::Drop(DropReason::UnknownEthertype)
    );
    assert_eq!(
        run(&mut e, &pool, 1, &[0u8; 10]).0,
        Action::Drop(DropReason::Runt)
    );
}

#[test]
fn a_reverse_tunnel_to_the_home_agent_is_decapsulated_and_routed() {
    let pool = MemPool::new(8);
    let mut e = ha_with(Encap::IpInIp);
    // The mobile, away, sends to a correspondent through its home agent (RFC 5944 §3.8.3.1).
    let inner = ipv4(
        HOME4,
        CN4,
        IpProtocol::UDP,
        64,
        0,
        &udp(2000, 1000, b"reply"),
    );
    let outer = ipv4(COA4, NODE4, IpProtocol::IPIP, 60, 0, &inner);
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &outer));
    assert_eq!(action, Action::Forward(1));
    assert_eq!(out, eth(ROUTER_MAC, MAC1, 0x0800, &hopped4(&inner)));
}

#[test]
fn arp_is_answered_for_own_and_bound_home_addresses_and_punted_otherwise() {
    let pool = MemPool::new(8);
    let mut e = ha_with(Encap::IpInIp);
    let asker = Ipv4Addr::new(10, 1, 0, 50);
    for target in [NODE4, HOME4] {
        let req = eth(
            [0xff; 6],
            PEER_MAC,
            0x0806,
            &arp(1, PEER_MAC, asker, [0; 6], target),
        );
        let (action, out) = run(&mut e, &pool, 0, &req);
        assert_eq!(action, Action::Forward(0));
        assert_eq!(
            out,
            eth(
                PEER_MAC,
                MAC0,
                0x0806,
                &arp(2, MAC0, target, PEER_MAC, asker)
            )
        );
    }
    let req = eth(
        [0xff; 6],
        PEER_MAC,
        0x0806,
        &arp(1, PEER_MAC, asker, [0; 6], Ipv4Addr::new(10, 1, 0, 51)),
    );
    assert_eq!(run(&mut e, &pool, 0, &req).0, Action::Punt);
    assert_eq!(e.snapshot().arp_replies, 2);
}

#[test]
fn registration_requests_to_the_node_are_punted_whole() {
    let pool = MemPool::new(8);
    let mut e = ha_with(Encap::IpInIp);
    let frame = eth(
        MAC1,
        ROUTER_MAC,
        0x0800,
        &ipv4(
            COA4,
            NODE4,
            IpProtocol::UDP,
            60,
            0,
            &udp(434, 434, &[1; 24]),
        ),
    );
    let (action, out) = run(&mut e, &pool, 1, &frame);
    assert_eq!(action, Action::Punt);
    assert_eq!(out, frame);
}

/// A Binding Update (RFC 6275 §6.1.7) from `src` to `dst`, with the Home Address
/// destination option (§6.3) for `home` when given. The Mobility Header checksum is left
/// zero: the engine does not look at it, the home agent does.
fn binding_update(src: Ipv6Addr, dst: Ipv6Addr, home: Option<Ipv6Addr>) -> Vec<u8> {
    // Payload Proto 59, Header Len 1 (16 bytes), MH Type 5, Sequence 1, A and H,
    // Lifetime 100, PadN(4).
    let mh = [59, 1, 5, 0, 0, 0, 0, 1, 0xc0, 0, 0, 100, 1, 2, 0, 0];
    let (next, payload) = match home {
        Some(h) => {
            // Next 135, Hdr Ext Len 2 (24 bytes), PadN(4), Home Address at 8n+6.
            let mut d = vec![135, 2, 1, 2, 0, 0, 201, 16];
            d.extend_from_slice(&h.octets());
            d.extend_from_slice(&mh);
            (60, d)
        }
        None => (135, mh.to_vec()),
    };
    eth(
        MAC1,
        ROUTER_MAC,
        0x86dd,
        &ipv6(src, dst, next, 64, 0, &payload),
    )
}

#[test]
fn binding_updates_to_the_node_are_punted_whole_with_or_without_a_home_address_option() {
    let pool = MemPool::new(8);
    let mut e = ha_with(Encap::IpInIp);
    let coa: Ipv6Addr = "2001:db8:2::7".parse().unwrap();
    let home: Ipv6Addr = "2001:db8:1::100".parse().unwrap();
    for frame in [
        binding_update(coa, node6(), Some(home)),
        binding_update(coa, node6(), None),
    ] {
        let (action, out) = run(&mut e, &pool, 1, &frame);
        assert_eq!(action, Action::Punt);
        assert_eq!(out, frame);
    }
    // One for an address that is not the node's is routed, not punted.
    let elsewhere: Ipv6Addr = "2001:db8:1::77".parse().unwrap();
    let frame = binding_update(coa, elsewhere, Some(home));
    assert_ne!(run(&mut e, &pool, 1, &frame).0, Action::Punt);
    assert_eq!(e.snapshot().punts, 2);
}

#[test]
fn the_ip_in_ip_the_engine_emits_decapsulates_back_to_the_hopped_original() {
    // A cross-check with the tunnel library's own decapsulation.
    let pool = MemPool::new(8);
    let mut e = ha_with(Encap::IpInIp);
    let inner = to_home(&[0xab; 1000]);
    let mut p = pool.packet(&eth(MAC1, ROUTER_MAC, 0x0800, &inner)).unwrap();
    assert_eq!(e.process(1, &mut p), Action::Forward(1));
    p.adj(14).unwrap();
    ipip::decapsulate(&mut p, |a| a == COA4).unwrap();
    assert_eq!(p.data(), &hopped4(&inner)[..]);
    let _ = ip6ip6::IPV6_MIN_MTU;
}

#[test]
fn simultaneous_bindings_send_a_copy_to_every_care_of_address() {
    let pool = MemPool::new(8);
    let mut e = ha_with(Encap::IpInIp);
    let second = Ipv4Addr::new(203, 0, 113, 8);
    let third = Ipv4Addr::new(203, 0, 113, 9);
    let coas = [IpAddr::V4(COA4), IpAddr::V4(second), IpAddr::V4(third)];
    e.tables_mut()
        .insert_binding(
            IpAddr::V4(HOME4),
            Binding {
                care_of: CareOfList::from_slice(&coas).unwrap(),
                encap: Encap::IpInIp,
                source: IpAddr::V4(NODE4),
                tos: None,
            },
        )
        .unwrap();
    let inner = to_home(b"to all of them");
    let mut p = pool.packet(&eth(MAC1, ROUTER_MAC, 0x0800, &inner)).unwrap();
    let mut copies = Vec::new();
    let action = e.process_with(1, &mut p, &mut |copy, action| {
        copies.push((action, copy.data().to_vec()))
    });
    assert_eq!(action, Action::Forward(1));
    let dst = |frame: &[u8]| Ipv4Packet::new_checked(&frame[14..]).unwrap().dst_addr();
    assert_eq!(dst(p.data()), COA4);
    assert_eq!(copies.len(), 2);
    for ((action, frame), coa) in copies.iter().zip([second, third]) {
        assert_eq!(*action, Action::Forward(1));
        assert_eq!(dst(frame), coa);
        // Each copy carries the same inner packet, hopped once.
        assert_eq!(&frame[14 + 20..], &hopped4(&inner)[..]);
    }
    assert_eq!(e.snapshot().copies, 2);
    assert_eq!(e.snapshot().encaps[TunnelKind::Ipip as usize], 3);
    // Through plain process() the copies cannot be sent: counted, not lost silently.
    drop(copies);
    let mut p = pool.packet(&eth(MAC1, ROUTER_MAC, 0x0800, &inner)).unwrap();
    assert_eq!(e.process(1, &mut p), Action::Forward(1));
    assert_eq!(e.snapshot().copies_unsent, 2);
}

/// A neighbour solicitation for `target` from `src` (with its link-layer address option).
fn solicitation(src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let t = target.octets();
    let group = Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(t[13]),
        u16::from_be_bytes([t[14], t[15]]),
    );
    let mut icmp = vec![135, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&t);
    icmp.extend_from_slice(&[1, 1]);
    icmp.extend_from_slice(&PEER_MAC);
    let sum = checksum::combine(&[
        checksum::pseudo_header_v6(src.octets(), group.octets(), 58, icmp.len() as u32),
        checksum::sum(&icmp),
    ]);
    icmp[2..4].copy_from_slice(&checksum::finish(sum).to_be_bytes());
    eth(
        [0x33, 0x33, 0xff, t[13], t[14], t[15]],
        PEER_MAC,
        0x86dd,
        &ipv6(src, group, 58, 255, 0, &icmp),
    )
}

#[test]
fn neighbour_solicitations_for_own_and_bound_home_addresses_are_answered() {
    let pool = MemPool::new(8);
    let home: Ipv6Addr = "2001:db8:1::100".parse().unwrap();
    let asker: Ipv6Addr = "2001:db8:1::50".parse().unwrap();
    let own = [IpAddr::V4(NODE4), IpAddr::V6(node6())];
    let mut profiles = roles::home_agent(&own);
    profiles.push(roles::home_address(1, IpAddr::V6(home)));
    let mut e = engine(profiles);
    e.tables_mut()
        .insert_binding(
            IpAddr::V6(home),
            binding(ip("2001:db8:99::7"), Encap::IpInIp, IpAddr::V6(node6())),
        )
        .unwrap();
    for (target, from, flags) in [(node6(), node6(), 0xe0u8), (home, node6(), 0x40)] {
        let mut p = pool.packet(&solicitation(asker, target)).unwrap();
        let mut learnt = Vec::new();
        let action = e.process_with(0, &mut p, &mut |copy, action| {
            learnt.push((action, copy.data().to_vec()))
        });
        assert_eq!(action, Action::Forward(0));
        // RFC 4861 §4.4: type 136, R (own only) S, O (own only), target, TLLA option.
        let mut na = vec![136, 0, 0, 0, flags, 0, 0, 0];
        na.extend_from_slice(&target.octets());
        na.extend_from_slice(&[2, 1]);
        na.extend_from_slice(&MAC0);
        let sum = checksum::combine(&[
            checksum::pseudo_header_v6(from.octets(), asker.octets(), 58, na.len() as u32),
            checksum::sum(&na),
        ]);
        na[2..4].copy_from_slice(&checksum::finish(sum).to_be_bytes());
        assert_eq!(
            p.data(),
            &eth(PEER_MAC, MAC0, 0x86dd, &ipv6(from, asker, 58, 255, 0, &na))[..]
        );
        // The solicitation goes to the control thread too (it learns the asker).
        assert_eq!(learnt.len(), 1);
        assert_eq!(learnt[0], (Action::Punt, solicitation(asker, target)));
    }
    // A solicitation for an address that is neither ours nor bound: punted, not answered
    // and not routed (link-local multicast never leaves the link).
    let other: Ipv6Addr = "2001:db8:1::77".parse().unwrap();
    assert_eq!(
        run(&mut e, &pool, 0, &solicitation(asker, other)).0,
        Action::Punt
    );
    assert_eq!(e.snapshot().nd_replies, 2);
}

fn small_mtu_ha(mtu: u16) -> Engine {
    let own = [IpAddr::V4(NODE4), IpAddr::V6(node6())];
    let mut profiles = roles::home_agent(&own);
    profiles.push(roles::home_address(1, IpAddr::V4(HOME4)));
    let mut node = NodeConfig::new(vec![MAC0, MAC1], vec![NODE4], vec![node6()]);
    node.tunnel.path_mtu = mtu;
    node.icmp_burst = 2;
    node.icmp_per_second = 1;
    let mut e = Engine::new(node);
    let t = e.tables_mut();
    t.routes
        .insert(
            "0.0.0.0/0".parse().unwrap(),
            Route {
                port: 1,
                next_hop: Some(IpAddr::V4(ROUTER4)),
            },
        )
        .unwrap();
    t.neighbours
        .insert(1, IpAddr::V4(ROUTER4), ROUTER_MAC)
        .unwrap();
    for p in profiles {
        t.insert_profile(p).unwrap();
    }
    t.insert_binding(
        IpAddr::V4(HOME4),
        binding(IpAddr::V4(COA4), Encap::IpInIp, IpAddr::V4(NODE4)),
    )
    .unwrap();
    e
}

#[test]
fn a_packet_that_cannot_be_tunnelled_is_answered_with_a_rate_limited_icmp_error() {
    let pool = MemPool::new(8);
    let mut e = small_mtu_ha(1000);
    // TTL 1 at the tunnel entry: Time Exceeded (type 11 code 0) to the source (RFC 2003 §4).
    let expired = ipv4(CN4, HOME4, IpProtocol::UDP, 1, 0, &udp(1, 2, b"late"));
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &expired));
    assert_eq!(action, Action::Forward(1));
    let ip = Ipv4Packet::new_checked(&out[14..]).unwrap();
    let repr = Ipv4Repr::parse(&ip, ChecksumMode::Verify).unwrap();
    assert_eq!(
        (repr.src_addr, repr.dst_addr, repr.protocol),
        (NODE4, CN4, IpProtocol::ICMP)
    );
    let icmp = ip.payload();
    assert_eq!((icmp[0], icmp[1]), (11, 0));
    assert!(checksum::verifies(icmp));
    assert_eq!(
        &icmp[8..],
        &expired[..],
        "the whole original is quoted (under 576 bytes)"
    );
    // Too big for the tunnel with DF: Fragmentation Needed (type 3 code 4) carrying the
    // largest inner packet that fits, 1000 - 20 (RFC 1191 §4, RFC 2003 §4).
    let big = ipv4(CN4, HOME4, IpProtocol::UDP, 64, 0, &udp(1, 2, &[9; 1100]));
    let (action, out) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &big));
    assert_eq!(action, Action::Forward(1));
    let icmp = &out[14 + 20..];
    assert_eq!((icmp[0], icmp[1]), (3, 4));
    assert_eq!(u16::from_be_bytes([icmp[6], icmp[7]]), 980);
    // The bucket (burst 2, 1 per second) is empty now: the next refusal is only counted.
    let (action, _) = run(&mut e, &pool, 1, &eth(MAC1, ROUTER_MAC, 0x0800, &expired));
    assert_eq!(action, Action::Drop(DropReason::TtlExpired));
    assert_eq!(
        (e.snapshot().icmp_errors, e.snapshot().icmp_limited),
        (2, 1)
    );
}

#[test]
fn a_packet_too_big_for_the_tunnel_without_df_leaves_as_outer_fragments() {
    let pool = MemPool::new(8);
    let mut e = small_mtu_ha(1000);
    let mut big = ipv4(CN4, HOME4, IpProtocol::UDP, 64, 0, &udp(1, 2, &[9; 1500]));
    // Clear DF (and fix the checksum).
    big[6] &= !0x40;
    Ipv4Packet::new_unchecked(&mut big[..]).fill_checksum();
    let mut p = pool.packet(&eth(MAC1, ROUTER_MAC, 0x0800, &big)).unwrap();
    let mut more = Vec::new();
    let action = e.process_with(1, &mut p, &mut |f, a| more.push((a, f.data().to_vec())));
    assert_eq!(action, Action::Forward(1));
    // 1528 bytes of IP in IP split at 1000: 996 + 532 (20-byte header each, 976 and 512
    // bytes of payload, offsets in 8-byte units) (RFC 791 §3.2).
    assert_eq!(more.len(), 1);
    assert_eq!(more[0].0, Action::Forward(1));
    let mut payload = Vec::new();
    let mut offsets = Vec::new();
    for frame in [p.data(), &more[0].1[..]] {
        assert_eq!(&frame[..14], &eth(ROUTER_MAC, MAC1, 0x0800, &[])[..]);
        let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
        let r = Ipv4Repr::parse(&ip, ChecksumMode::Verify).unwrap();
        assert!(frame.len() - 14 <= 1000);
        assert_eq!(
            (r.src_addr, r.dst_addr, r.protocol),
            (NODE4, COA4, IpProtocol::IPIP)
        );
        offsets.push((r.frag_offset, r.more_frags));
        payload.extend_from_slice(ip.payload());
    }
    assert_eq!(offsets, [(0, true), (976 / 8, false)]);
    assert_eq!(
        payload,
        hopped4(&big),
        "the fragments carry the whole inner packet"
    );
    assert_eq!(e.snapshot().fragments, 1);
}

/// Duplicate address detection (RFC 4862 §5.4.2): a node on the home link that tries a
/// bound home address for itself sends a solicitation from the unspecified address
/// without a Source Link-Layer Address option; the home agent defends the address as its
/// proxy (RFC 6275 §10.4.1) with an advertisement to all nodes (RFC 4861 §7.2.4), S and O
/// clear (§7.2.8: a proxy does not override).
#[test]
fn duplicate_address_detection_of_a_bound_home_address_is_answered_to_all_nodes() {
    let pool = MemPool::new(8);
    let home: Ipv6Addr = "2001:db8:1::100".parse().unwrap();
    let own = [IpAddr::V4(NODE4), IpAddr::V6(node6())];
    let mut profiles = roles::home_agent(&own);
    profiles.push(roles::home_address(1, IpAddr::V6(home)));
    let mut e = engine(profiles);
    let mut dad = solicitation(Ipv6Addr::UNSPECIFIED, home);
    // Drop the Source Link-Layer Address option (8 bytes) and fix the lengths and sum.
    dad.truncate(dad.len() - 8);
    let plen = (dad.len() - 14 - 40) as u16;
    dad[18..20].copy_from_slice(&plen.to_be_bytes());
    dad[14 + 40 + 2..14 + 40 + 4].fill(0);
    let group: [u8; 16] = dad[14 + 24..14 + 40].try_into().unwrap();
    let sum = checksum::combine(&[
        checksum::pseudo_header_v6([0; 16], group, 58, u32::from(plen)),
        checksum::sum(&dad[14 + 40..]),
    ]);
    dad[14 + 40 + 2..14 + 40 + 4].copy_from_slice(&checksum::finish(sum).to_be_bytes());

    // Not bound yet: nobody answers for it.
    assert_eq!(run(&mut e, &pool, 0, &dad).0, Action::Punt);
    assert_eq!(e.snapshot().nd_replies, 0);

    e.tables_mut()
        .insert_binding(
            IpAddr::V6(home),
            binding(ip("2001:db8:99::7"), Encap::IpInIp, IpAddr::V6(node6())),
        )
        .unwrap();
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let mut na = vec![136, 0, 0, 0, 0, 0, 0, 0];
    na.extend_from_slice(&home.octets());
    na.extend_from_slice(&[2, 1]);
    na.extend_from_slice(&MAC0);
    let sum = checksum::combine(&[
        checksum::pseudo_header_v6(node6().octets(), all_nodes.octets(), 58, na.len() as u32),
        checksum::sum(&na),
    ]);
    na[2..4].copy_from_slice(&checksum::finish(sum).to_be_bytes());
    let (action, out) = run(&mut e, &pool, 0, &dad);
    assert_eq!(action, Action::Forward(0));
    assert_eq!(
        out,
        eth(
            [0x33, 0x33, 0, 0, 0, 1],
            MAC0,
            0x86dd,
            &ipv6(node6(), all_nodes, 58, 255, 0, &na)
        )
    );
    assert_eq!(e.snapshot().nd_replies, 1);
}
