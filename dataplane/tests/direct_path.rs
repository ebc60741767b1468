//! The direct path (`tables::direct`) against the profile search it stands in for: two
//! engines get the same random sequence of profile, binding and policy changes, one with
//! the direct path on and one with it off, then the same random frames; every frame must
//! come out of both with the same action and the same bytes, and the counters must agree.
//! Deterministic tests check that the direct path is taken where it should be, so the
//! comparison is not between the search and itself.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mipdp_dataplane::engine::{Engine, NodeConfig};
use mipdp_dataplane::port::memory::MemPool;
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::profile::{
    AddrMatch, Class, Edit, Match, Policy, PortRange, Profile, ProfileId, TableRef,
};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{Binding, CareOfList, Encap, Route};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::{Action, Processor};
use proptest::prelude::*;

const MAC0: [u8; 6] = [0x02, 0, 0, 0, 0, 0x10];
const MAC1: [u8; 6] = [0x02, 0, 0, 0, 0, 0x11];
const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];
const NODE4: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const ROUTER4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
const CN4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);

fn node6() -> Ipv6Addr {
    "2001:db8:1::1".parse().unwrap()
}

fn home(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, 0, 100 + i)
}

/// A home agent with its default profiles, port 1 toward a resolved router; `direct`
/// turns the direct path on or off.
fn engine(direct: bool, resolved: bool) -> Engine {
    let mut e = Engine::new(NodeConfig::new(
        vec![MAC0, MAC1],
        vec![NODE4],
        vec![node6()],
    ));
    let t = e.tables_mut();
    t.set_direct(direct);
    for (prefix, port, hop) in [
        ("10.1.0.0/24", 0, None),
        ("0.0.0.0/0", 1, Some("192.0.2.254")),
        ("::/0", 1, Some("fe80::fe")),
    ] {
        t.routes
            .insert(
                prefix.parse().unwrap(),
                Route {
                    port,
                    next_hop: hop.map(|h| h.parse().unwrap()),
                },
            )
            .unwrap();
    }
    if resolved {
        t.neighbours
            .insert(1, IpAddr::V4(ROUTER4), ROUTER_MAC)
            .unwrap();
    }
    for p in roles::home_agent(&[IpAddr::V4(NODE4), IpAddr::V6(node6())]) {
        t.insert_profile(p).unwrap();
    }
    e
}

/// The kinds of per-home profile a test puts in front of a home's packets.
#[derive(Debug, Clone, Copy)]
enum ProfileKind {
    Plain,
    EncapIpip,
    EncapGre,
    Dscp,
    Dport,
    Proto,
    Source,
    Notify,
    Routes,
}

fn profile(kind: ProfileKind, number: u32, class: Class, dst: AddrMatch) -> Profile {
    let mut matches = Match { dst, ..Match::ANY };
    let mut edit = Edit::NONE;
    let mut table = TableRef::Bindings;
    match kind {
        ProfileKind::Plain => {}
        ProfileKind::EncapIpip => edit.encap = Some(Encap::IpInIp),
        ProfileKind::EncapGre => edit.encap = Some(Encap::Gre),
        ProfileKind::Dscp => edit.dscp = Some(46),
        ProfileKind::Dport => matches.dport = PortRange::one(2000),
        ProfileKind::Proto => matches.proto = Some(17),
        ProfileKind::Source => matches.src = AddrMatch::Exact(IpAddr::V4(CN4)),
        ProfileKind::Notify => edit.notify = true,
        ProfileKind::Routes => table = TableRef::Routes,
    }
    Profile {
        id: ProfileId { session: 7, number },
        class,
        matches,
        edit,
        table,
    }
}

/// The kinds of binding a home gets.
#[derive(Debug, Clone, Copy)]
enum BindingKind {
    Ipip,
    Gre,
    Minimal,
    Two,
    Tos,
    ToItself,
    Six,
}

fn binding(kind: BindingKind, h: u8) -> Binding {
    let coa = |n: u8| IpAddr::V4(Ipv4Addr::new(203, 0, 113, n));
    let mut b = Binding {
        care_of: CareOfList::one(coa(h)),
        encap: Encap::IpInIp,
        source: IpAddr::V4(NODE4),
        tos: None,
    };
    match kind {
        BindingKind::Ipip => {}
        BindingKind::Gre => b.encap = Encap::Gre,
        BindingKind::Minimal => b.encap = Encap::Minimal,
        BindingKind::Two => b.care_of = CareOfList::from_slice(&[coa(h), coa(h + 50)]).unwrap(),
        BindingKind::Tos => b.tos = Some(0xb8),
        BindingKind::ToItself => b.care_of = CareOfList::one(IpAddr::V4(home(h))),
        BindingKind::Six => {
            b.care_of = CareOfList::one("2001:db8:9::7".parse().unwrap());
            b.source = IpAddr::V6(node6());
        }
    }
    b
}

/// One change to both engines' tables.
#[derive(Debug, Clone)]
enum Op {
    /// A node-destination exact profile for home `h`, with this number.
    HomeProfile(u8, ProfileKind, u32),
    /// A profile of another class.
    Other(Class, ProfileKind, u32),
    /// Removes the profile with this number from its class.
    RemoveProfile(Class, u32),
    Binding(u8, BindingKind),
    RemoveBinding(u8),
    Policy(bool),
}

fn profile_kind() -> impl Strategy<Value = ProfileKind> {
    prop_oneof![
        4 => Just(ProfileKind::Plain),
        1 => Just(ProfileKind::EncapIpip),
        1 => Just(ProfileKind::EncapGre),
        1 => Just(ProfileKind::Dscp),
        1 => Just(ProfileKind::Dport),
        1 => Just(ProfileKind::Proto),
        1 => Just(ProfileKind::Source),
        1 => Just(ProfileKind::Notify),
        1 => Just(ProfileKind::Routes),
    ]
}

fn binding_kind() -> impl Strategy<Value = BindingKind> {
    prop_oneof![
        4 => Just(BindingKind::Ipip),
        1 => Just(BindingKind::Gre),
        1 => Just(BindingKind::Minimal),
        1 => Just(BindingKind::Two),
        1 => Just(BindingKind::Tos),
        1 => Just(BindingKind::ToItself),
        1 => Just(BindingKind::Six),
    ]
}

fn class() -> impl Strategy<Value = Class> {
    prop_oneof![
        Just(Class::AaaSource),
        Just(Class::AaaDestination),
        Just(Class::NodeDestination),
        Just(Class::NodeDefaultDestination),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..4, profile_kind(), 1u32..6).prop_map(|(h, k, n)| Op::HomeProfile(h, k, n)),
        1 => (class(), profile_kind(), 10u32..12).prop_map(|(c, k, n)| Op::Other(c, k, n)),
        2 => (class(), 1u32..12).prop_map(|(c, n)| Op::RemoveProfile(c, n)),
        6 => (0u8..4, binding_kind()).prop_map(|(h, k)| Op::Binding(h, k)),
        1 => (0u8..4).prop_map(Op::RemoveBinding),
        1 => any::<bool>().prop_map(Op::Policy),
    ]
}

fn apply(e: &mut Engine, op: &Op) {
    let t = e.tables_mut();
    match *op {
        Op::HomeProfile(h, kind, n) => {
            let dst = AddrMatch::Exact(IpAddr::V4(home(h)));
            let _ = t.insert_profile(profile(kind, n, Class::NodeDestination, dst));
        }
        Op::Other(class, kind, n) => {
            let p = if class.keyed_on_source() {
                let mut p = profile(kind, n, class, AddrMatch::Any);
                p.matches.src = AddrMatch::Exact(IpAddr::V4(CN4));
                p
            } else {
                profile(kind, n, class, AddrMatch::Exact(IpAddr::V4(home(1))))
            };
            let _ = t.insert_profile(p);
        }
        Op::RemoveProfile(class, n) => {
            t.remove_profile(
                class,
                ProfileId {
                    session: 7,
                    number: n,
                },
            );
        }
        Op::Binding(h, kind) => {
            let _ = t.insert_binding(IpAddr::V4(home(h)), binding(kind, h));
        }
        Op::RemoveBinding(h) => {
            t.remove_binding(IpAddr::V4(home(h)));
        }
        Op::Policy(node_first) => {
            let order = if node_first {
                "node-destination, aaa-source, aaa-destination, node-default-destination, node-default"
            } else {
                "aaa-source, node-source, node-default-source, aaa-destination, node-destination, node-default-destination, node-default"
            };
            t.set_policy(order.parse::<Policy>().unwrap());
        }
    }
}

/// A frame to send.
#[derive(Debug, Clone)]
struct Frame {
    dst: u8,
    from_cn: bool,
    proto: u8,
    dport: u16,
    ttl: u8,
    dscp_ecn: u8,
    dont_frag: bool,
    payload: usize,
    padding: usize,
    options: bool,
    spoil: u8,
}

fn frame() -> impl Strategy<Value = Frame> {
    (
        (
            0u8..6,
            any::<bool>(),
            prop_oneof![Just(17u8), Just(6), Just(1)],
        ),
        (
            prop_oneof![Just(2000u16), Just(53)],
            prop_oneof![Just(64u8), 0u8..3],
        ),
        (any::<u8>(), any::<bool>()),
        (
            prop_oneof![8 => 8usize..200, 1 => 1400usize..1500],
            prop_oneof![4 => Just(0usize), 1 => 1usize..10],
        ),
        (
            prop_oneof![9 => Just(false), 1 => Just(true)],
            prop_oneof![8 => Just(0u8), 1 => 1u8..4],
        ),
    )
        .prop_map(
            |(
                (dst, from_cn, proto),
                (dport, ttl),
                (dscp_ecn, dont_frag),
                (payload, padding),
                (options, spoil),
            )| Frame {
                dst,
                from_cn,
                proto,
                dport,
                ttl,
                dscp_ecn,
                dont_frag,
                payload,
                padding,
                options,
                spoil,
            },
        )
}

impl Frame {
    fn bytes(&self) -> Vec<u8> {
        let dst = if self.dst < 4 {
            home(self.dst)
        } else if self.dst == 4 {
            NODE4
        } else {
            Ipv4Addr::new(198, 51, 100, 77)
        };
        let src = if self.from_cn {
            CN4
        } else {
            Ipv4Addr::new(192, 0, 2, 33)
        };
        let mut payload = vec![0x5au8; self.payload];
        payload[..4].copy_from_slice(&[0x03, 0xe8, (self.dport >> 8) as u8, self.dport as u8]);
        let options = if self.options {
            Ipv4Options::new(&[0x94, 0x04, 0, 0]).unwrap()
        } else {
            Ipv4Options::EMPTY
        };
        let repr = Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            protocol: IpProtocol(self.proto),
            payload_len: payload.len(),
            ttl: self.ttl,
            dscp: self.dscp_ecn >> 2,
            ecn: self.dscp_ecn & 3,
            ident: 0x1234,
            dont_frag: self.dont_frag,
            more_frags: false,
            frag_offset: 0,
            options,
        };
        let mut ip = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut ip[..]));
        let at = repr.header_len();
        ip[at..].copy_from_slice(&payload);
        match self.spoil {
            1 => ip[10] ^= 0x40,                     // header checksum
            2 => ip[2] = ip[2].wrapping_add(8),      // total length beyond the frame
            3 => ip[2..4].copy_from_slice(&[0, 12]), // total length below the header
            _ => {}
        }
        let mut f = Vec::with_capacity(14 + ip.len() + self.padding);
        f.extend_from_slice(&MAC0);
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ip);
        f.extend(std::iter::repeat_n(0xeeu8, self.padding));
        f
    }
}

fn run(e: &mut Engine, pool: &MemPool, frame: &[u8]) -> (Action, Vec<u8>) {
    let mut p = pool.packet(frame).unwrap();
    let action = e.process(1, &mut p);
    (action, p.data().to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_direct_path_gives_what_the_search_gives(
        ops in proptest::collection::vec(op(), 0..24),
        frames in proptest::collection::vec(frame(), 1..24),
        resolved in prop_oneof![6 => Just(true), 1 => Just(false)],
    ) {
        let mut fast = engine(true, resolved);
        let mut slow = engine(false, resolved);
        for op in &ops {
            apply(&mut fast, op);
            apply(&mut slow, op);
        }
        let pool = MemPool::new(64);
        for f in &frames {
            let bytes = f.bytes();
            let a = run(&mut fast, &pool, &bytes);
            let b = run(&mut slow, &pool, &bytes);
            prop_assert_eq!(&a, &b, "frame {:?} after {:?}", f, ops);
        }
        prop_assert_eq!(fast.snapshot(), slow.snapshot());
    }
}

/// The homes whose packets the direct path takes, for a sequence of changes.
fn direct_homes(e: &Engine) -> Vec<u8> {
    (0..4)
        .filter(|h| e.tables().direct().get(home(*h).to_bits()).is_some())
        .collect()
}

#[test]
fn a_plain_home_agent_binding_is_direct_and_each_change_that_matters_takes_it_off() {
    let mut e = engine(true, true);
    for h in 0..4 {
        apply(
            &mut e,
            &Op::HomeProfile(h, ProfileKind::Plain, 1 + u32::from(h)),
        );
        apply(&mut e, &Op::Binding(h, BindingKind::Ipip));
    }
    assert_eq!(direct_homes(&e), [0, 1, 2, 3]);
    assert_eq!(e.tables().direct().len(), 4);

    // What the binding says.
    apply(&mut e, &Op::Binding(0, BindingKind::Gre));
    apply(&mut e, &Op::Binding(1, BindingKind::Tos));
    assert_eq!(direct_homes(&e), [2, 3]);
    apply(&mut e, &Op::Binding(0, BindingKind::Ipip));
    apply(&mut e, &Op::RemoveBinding(1));
    assert_eq!(direct_homes(&e), [0, 2, 3]);
    apply(&mut e, &Op::Binding(1, BindingKind::Ipip));

    // A profile with a lower number that only some packets match comes first.
    apply(&mut e, &Op::HomeProfile(2, ProfileKind::Dport, 0));
    assert_eq!(direct_homes(&e), [0, 1, 3]);
    apply(&mut e, &Op::RemoveProfile(Class::NodeDestination, 0));
    assert_eq!(direct_homes(&e), [0, 1, 2, 3]);

    // A profile replaced under its number by one for another home.
    e.tables_mut()
        .insert_profile(profile(
            ProfileKind::Plain,
            4,
            Class::NodeDestination,
            AddrMatch::Exact(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 200))),
        ))
        .unwrap();
    assert_eq!(direct_homes(&e), [0, 1, 2]);

    // A class searched before node-destination takes the direct path off for all.
    apply(&mut e, &Op::Other(Class::AaaSource, ProfileKind::Dscp, 10));
    assert_eq!(direct_homes(&e), [] as [u8; 0]);
    apply(&mut e, &Op::Policy(true));
    assert_eq!(direct_homes(&e), [0, 1, 2]);
    apply(&mut e, &Op::Policy(false));
    apply(&mut e, &Op::RemoveProfile(Class::AaaSource, 10));
    assert_eq!(direct_homes(&e), [0, 1, 2]);
}

#[test]
fn the_direct_path_tunnels_a_plain_packet_like_the_search() {
    let mut fast = engine(true, true);
    let mut slow = engine(false, true);
    for e in [&mut fast, &mut slow] {
        apply(e, &Op::HomeProfile(0, ProfileKind::Plain, 1));
        apply(e, &Op::Binding(0, BindingKind::Ipip));
    }
    assert_eq!(direct_homes(&fast), [0]);
    let pool = MemPool::new(8);
    let f = Frame {
        dst: 0,
        from_cn: true,
        proto: 17,
        dport: 2000,
        ttl: 64,
        dscp_ecn: 0x2b,
        dont_frag: true,
        payload: 64,
        padding: 3,
        options: false,
        spoil: 0,
    };
    let (action, out) = run(&mut fast, &pool, &f.bytes());
    assert_eq!(action, Action::Forward(1));
    assert_eq!(run(&mut slow, &pool, &f.bytes()), (action, out.clone()));
    // Ethernet to the router, outer IPv4 to the care-of address, protocol 4.
    assert_eq!(&out[..6], &ROUTER_MAC);
    let outer = Ipv4Packet::new_checked(&out[14..]).unwrap();
    assert!(outer.verify_checksum());
    assert_eq!(outer.dst_addr(), Ipv4Addr::new(203, 0, 113, 0));
    assert_eq!(outer.protocol(), IpProtocol::IPIP);
    assert_eq!(usize::from(outer.total_len()), 20 + 20 + 64);
    let inner = Ipv4Packet::new_checked(&out[34..]).unwrap();
    assert_eq!(inner.ttl(), 63);
    assert!(inner.verify_checksum());
}
