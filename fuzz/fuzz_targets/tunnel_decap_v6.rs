#![no_main]
//! Decapsulation of the IPv6 outer-header tunnels on arbitrary packets in the in-memory
//! `PacketBuf` (`MemPool`): IPv6-in-IPv6 (RFC 2473) and IPv4-in-IPv6, at every nesting
//! count around the limit, then again on whatever a success leaves (nested tunnels). The
//! first two input bytes pick the nesting count, whether the inner IPv4 checksum is
//! filled in first, which addresses are ours, the tunnel settings, and whether the rest of
//! the input is the whole packet or what a valid outer IPv6 header of each method's Next
//! Header carries. A success must leave a
//! well-formed inner packet of exactly its declared length with only its ECN field
//! rewritten; an error must leave the packet as it was (the modules promise both). Then
//! the rest of the input is encapsulated by each method as an inner packet, and what
//! encapsulation accepts must decapsulate back to the inner packet as forwarded.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::port::memory::{MemPacket, MemPool};
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::tunnel::{
    ecn, ip6ip6, mixed, Endpoints6, TunnelSettings, DEFAULT_NESTING_LIMIT,
};
use mipdp_dataplane::wire::ipv4::Ipv4Packet;
use mipdp_dataplane::wire::ipv6::{self, next_header, Ipv6Packet, Ipv6Repr};
use mipdp_dataplane::wire::ipv6ext::walk_chain;
use std::net::Ipv6Addr;
use std::sync::OnceLock;

const ENTRY: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const EXIT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Ipv6InIpv6,
    Ipv4InIpv6,
}

/// The first two input bytes.
#[derive(Debug, Clone, Copy)]
struct Control {
    nesting: u8,
    fill_checksum: bool,
    exit_only: bool,
    settings: TunnelSettings,
    wrap: bool,
}

impl Control {
    fn new([b, c]: [u8; 2]) -> Control {
        Control {
            nesting: b & 0x07,
            fill_checksum: b & 0x08 == 0,
            exit_only: b & 0x10 != 0,
            settings: TunnelSettings {
                path_mtu: if b & 0x20 == 0 { 9000 } else { 1280 },
                encapsulation_limit: match b >> 6 {
                    0 => Some(4),
                    1 => Some(1),
                    2 => Some(0),
                    _ => None,
                },
                ..TunnelSettings::default()
            },
            wrap: c & 0x01 != 0,
        }
    }

    fn owns(&self, a: &Ipv6Addr) -> bool {
        !self.exit_only || *a == EXIT
    }
}

fn pool() -> &'static MemPool {
    static POOL: OnceLock<MemPool> = OnceLock::new();
    POOL.get_or_init(|| MemPool::new(8))
}

fn packet(bytes: &[u8]) -> MemPacket {
    pool()
        .packet(bytes)
        .expect("every packet goes back to the pool")
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first_chunk::<2>() else {
        return;
    };
    let control = Control::new(control);
    decapsulate_all(data, control, control.nesting);
    round_trip(Method::Ipv6InIpv6, data, control);
    round_trip(Method::Ipv4InIpv6, data, control);
});

/// Fills in the header checksum of what starts like an IPv4 header.
fn fill_ipv4_checksum(bytes: &mut [u8]) {
    let header_len = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
    if header_len >= 20 && bytes.len() >= header_len {
        Ipv4Packet::new_unchecked(&mut bytes[..header_len]).fill_checksum();
    }
}

/// The input with the checksum of an IPv4 packet after the outer chain filled in.
fn with_inner_checksum(data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    let Ok(outer) = Ipv6Packet::new_checked(data) else {
        return b;
    };
    if let Ok(chain) = walk_chain(outer.next_header(), outer.payload()) {
        if chain.upper_layer == next_header::IPV4 {
            let start = ipv6::HEADER_LEN + chain.upper_layer_offset;
            let end = ipv6::HEADER_LEN + outer.payload().len();
            fill_ipv4_checksum(&mut b[start..end]);
        }
    }
    b
}

/// `payload` after a valid outer IPv6 header from the entry to the exit point whose Next
/// Header is `method`'s.
fn wrap(method: Method, payload: &[u8]) -> Vec<u8> {
    let next_header = match method {
        Method::Ipv6InIpv6 => next_header::IPV6,
        Method::Ipv4InIpv6 => next_header::IPV4,
    };
    let payload = &payload[..payload.len().min(2000)];
    let repr = Ipv6Repr {
        src_addr: ENTRY,
        dst_addr: EXIT,
        next_header,
        payload_len: payload.len(),
        hop_limit: 64,
        traffic_class: payload.first().map_or(0, |b| b >> 6),
        flow_label: 0,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    b[repr.header_len()..].copy_from_slice(payload);
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut b[..]))
        .expect("fits");
    b
}

fn decapsulate_all(data: &[u8], control: Control, nesting: u8) {
    for method in [Method::Ipv6InIpv6, Method::Ipv4InIpv6] {
        let wrapped;
        let data = if control.wrap {
            wrapped = wrap(method, data);
            &wrapped[..]
        } else {
            data
        };
        let bytes = if control.fill_checksum {
            with_inner_checksum(data)
        } else {
            data.to_vec()
        };
        if let Some((inner, n)) = decapsulate(method, &bytes, control, nesting) {
            // What a success leaves is a whole packet: try it as it is.
            let inner_control = Control {
                wrap: false,
                ..control
            };
            decapsulate_all(&inner, inner_control, n);
        }
    }
}

/// One decapsulation: checks the outcome and returns the inner packet and the new nesting
/// count on a success.
fn decapsulate(
    method: Method,
    bytes: &[u8],
    control: Control,
    nesting: u8,
) -> Option<(Vec<u8>, u8)> {
    let mut p = packet(bytes);
    let before = p.data().to_vec();
    let ours = |a: &Ipv6Addr| control.owns(a);
    let r = match method {
        Method::Ipv6InIpv6 => ip6ip6::decapsulate(&mut p, ours, nesting),
        Method::Ipv4InIpv6 => mixed::decapsulate_4in6(&mut p, ours, nesting),
    };
    let Ok(d) = r else {
        assert_eq!(
            p.data(),
            &before[..],
            "an error leaves the packet as it was"
        );
        return None;
    };
    assert!(
        nesting < DEFAULT_NESTING_LIMIT,
        "decapsulated past the nesting limit"
    );
    assert_eq!(d.nesting, nesting + 1);
    let outer = Ipv6Packet::new_checked(&before[..]).expect("decapsulated");
    assert_eq!((d.entry, d.exit), (outer.src_addr(), outer.dst_addr()));
    assert!(control.owns(&d.exit));
    let chain = walk_chain(outer.next_header(), outer.payload()).expect("walked before");
    let inner_at = ipv6::HEADER_LEN + chain.upper_layer_offset;
    let after = p.data();
    let original = &before[inner_at..inner_at + after.len()];
    let outer_ecn = outer.ecn();
    match method {
        Method::Ipv6InIpv6 => {
            assert_eq!(chain.upper_layer, next_header::IPV6);
            let inner = Ipv6Packet::new_checked(after).expect("the inner packet checks");
            assert_eq!(
                after.len(),
                ipv6::HEADER_LEN + usize::from(inner.payload_len())
            );
            let was = Ipv6Packet::new_checked(original).expect("checked before");
            assert_eq!(inner.ecn(), decapsulated_ecn(was.ecn(), outer_ecn));
            assert_eq!(inner.dscp(), was.dscp());
            assert_eq!(inner.flow_label(), was.flow_label());
            assert_eq!(after[4..], original[4..], "the hop limit is left alone");
        }
        Method::Ipv4InIpv6 => {
            assert_eq!(chain.upper_layer, next_header::IPV4);
            let inner = Ipv4Packet::new_checked(after).expect("the inner packet checks");
            assert!(
                inner.verify_checksum(),
                "the ECN rewrite kept the checksum valid"
            );
            assert_eq!(after.len(), usize::from(inner.total_len()));
            assert_eq!(inner.ecn(), decapsulated_ecn(original[1] & 0b11, outer_ecn));
            assert_eq!(after[0], original[0]);
            assert_eq!(after[1] >> 2, original[1] >> 2, "DSCP kept");
            assert_eq!(after[2..10], original[2..10], "the TTL is left alone");
            assert_eq!(after[12..], original[12..]);
        }
    }
    Some((after.to_vec(), d.nesting))
}

/// The ECN field RFC 6040 §4.2 gives an inner packet under `outer`.
fn decapsulated_ecn(inner: u8, outer: u8) -> u8 {
    match ecn::decapsulate(inner, outer) {
        ecn::Decapsulated::Forward(e) => e,
        ecn::Decapsulated::Drop => panic!("a CE outer over a Not-ECT inner was forwarded"),
    }
}

/// Encapsulates `data` as an inner packet with `method` and decapsulates the result.
fn round_trip(method: Method, data: &[u8], control: Control) {
    let mut inner = data.to_vec();
    if control.fill_checksum && method == Method::Ipv4InIpv6 {
        fill_ipv4_checksum(&mut inner);
    }
    let mut p = packet(&inner);
    let inner = p.data().to_vec();
    let ends = Endpoints6 {
        entry: ENTRY,
        exit: EXIT,
    };
    let settings = control.settings;
    let encapsulated = match method {
        Method::Ipv6InIpv6 => ip6ip6::encapsulate(&mut p, &ends, &settings, 0x12345),
        Method::Ipv4InIpv6 => mixed::encapsulate_4in6(&mut p, &ends, &settings, 0x12345),
    };
    if encapsulated.is_err() {
        assert_eq!(
            p.data(),
            &inner[..],
            "a refused packet is left for its ICMP error"
        );
        return;
    }
    let ours = |a: &Ipv6Addr| *a == EXIT;
    let back = match method {
        Method::Ipv6InIpv6 => ip6ip6::decapsulate(&mut p, ours, 0),
        Method::Ipv4InIpv6 => mixed::decapsulate_4in6(&mut p, ours, 0),
    };
    let d = back.unwrap_or_else(|e| panic!("{method:?}: encapsulated but not decapsulated: {e:?}"));
    assert_eq!((d.entry, d.exit, d.nesting), (ENTRY, EXIT, 1));
    let after = p.data();
    match method {
        Method::Ipv6InIpv6 => {
            let len = ipv6::HEADER_LEN + usize::from(u16::from_be_bytes([inner[4], inner[5]]));
            let mut expected = inner[..len].to_vec();
            Ipv6Packet::new_unchecked(&mut expected[..]).decrement_hop_limit();
            assert_eq!(after, &expected[..]);
        }
        Method::Ipv4InIpv6 => {
            let len = usize::from(u16::from_be_bytes([inner[2], inner[3]]));
            let mut expected = inner[..len].to_vec();
            Ipv4Packet::new_unchecked(&mut expected[..]).decrement_ttl();
            // The checksum is patched on both sides; compare the header without it.
            assert!(Ipv4Packet::new_unchecked(after).verify_checksum());
            assert_eq!(after.len(), expected.len());
            assert_eq!(after[..10], expected[..10]);
            assert_eq!(after[12..], expected[12..]);
        }
    }
}
