#![no_main]
//! Decapsulation of the IPv4 outer-header tunnels on arbitrary packets in the in-memory
//! `PacketBuf` (`MemPool`): IPv4-in-IPv4, minimal encapsulation, GRE (IPv4 or IPv6
//! inside) and IPv6-in-IPv4, at every nesting depth around the limit, then again on
//! whatever a success leaves (nested tunnels). The first input byte picks the depth,
//! whether the checksums are filled in first (so most inputs get past them), which
//! addresses are ours, and whether the rest of the input is the whole packet or what a
//! valid outer header of each method's protocol carries. A success must leave a well-formed inner packet of exactly its
//! declared length; an error from the IPv6-in-IPv4 method must leave the packet as it was.
//! Then the rest of the input is encapsulated by each method as an inner packet, and what
//! encapsulation accepts must decapsulate back to the inner packet as forwarded (TTL or
//! hop limit one less, link padding gone); a refused packet must be left unchanged for
//! its ICMP error.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::port::memory::{MemPacket, MemPool};
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::tunnel::{
    ecn, gre, ipip, minimal, mixed, Endpoints4, TunnelError, TunnelSettings, DEFAULT_NESTING_LIMIT,
};
use mipdp_dataplane::wire::ethernet::EtherType;
use mipdp_dataplane::wire::gre::{GrePacket, BASE_HEADER_LEN};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::ipv6::{self, Ipv6Packet};
use mipdp_dataplane::wire::minimal::MinimalPacket;
use std::net::Ipv4Addr;
use std::sync::OnceLock;

const ENTRY: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const EXIT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    IpInIp,
    Minimal,
    Gre,
    Ipv6InIpv4,
}

const METHODS: [Method; 4] = [
    Method::IpInIp,
    Method::Minimal,
    Method::Gre,
    Method::Ipv6InIpv4,
];

/// Who owns an outer destination address.
#[derive(Debug, Clone, Copy)]
enum Ours {
    Any,
    ExitOnly,
}

impl Ours {
    fn owns(self, a: Ipv4Addr) -> bool {
        match self {
            Ours::Any => true,
            Ours::ExitOnly => a == EXIT,
        }
    }
}

/// The first input byte.
#[derive(Debug, Clone, Copy)]
struct Control {
    depth: u8,
    fill_checksums: bool,
    ours: Ours,
    path_mtu: u16,
    wrap: bool,
}

impl Control {
    fn new(b: u8) -> Control {
        Control {
            depth: b & 0x07,
            fill_checksums: b & 0x08 == 0,
            ours: if b & 0x10 == 0 {
                Ours::Any
            } else {
                Ours::ExitOnly
            },
            path_mtu: if b & 0x20 == 0 { 9000 } else { 576 },
            wrap: b & 0x40 != 0,
        }
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
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    let control = Control::new(control);
    decapsulate_all(data, control, control.depth);
    for method in METHODS {
        round_trip(method, data, control);
    }
});

/// Fills in the header checksum of what starts like an IPv4 header.
fn fill_ipv4_checksum(bytes: &mut [u8]) {
    let header_len = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
    if header_len >= 20 && bytes.len() >= header_len {
        Ipv4Packet::new_unchecked(&mut bytes[..header_len]).fill_checksum();
    }
}

/// The input with the checksums `method` verifies filled in, innermost first.
fn with_checksums(data: &[u8], method: Method) -> Vec<u8> {
    let mut b = data.to_vec();
    let header_len = usize::from(b.first().map_or(0, |v| v & 0x0f)) * 4;
    if header_len < 20 || b.len() < header_len {
        return b;
    }
    let total = usize::from(u16::from_be_bytes([b[2], b[3]])).min(b.len());
    let end = total.max(header_len);
    match method {
        Method::IpInIp => fill_ipv4_checksum(&mut b[header_len..]),
        Method::Minimal => {
            if MinimalPacket::new_checked(&b[header_len..end]).is_ok() {
                MinimalPacket::new_unchecked(&mut b[header_len..end]).fill_checksum();
            }
        }
        Method::Gre => {
            if let Ok(gre) = GrePacket::new_checked(&b[header_len..end]) {
                let inner = header_len + gre.header_len();
                fill_ipv4_checksum(&mut b[inner..end]);
                GrePacket::new_unchecked(&mut b[header_len..end]).fill_checksum();
            }
        }
        Method::Ipv6InIpv4 => {}
    }
    fill_ipv4_checksum(&mut b);
    b
}

/// `payload` after a valid outer IPv4 header from the entry to the exit point carrying
/// `method`'s protocol; for GRE also after a plain GRE header naming the payload's IP
/// version, so that the payload is the inner packet.
fn wrap(method: Method, payload: &[u8]) -> Vec<u8> {
    let gre_payload;
    let payload = if method == Method::Gre {
        let protocol_type = match payload.first().map(|b| b >> 4) {
            Some(6) => EtherType::IPV6,
            _ => EtherType::IPV4,
        };
        let mut g = vec![0u8; BASE_HEADER_LEN];
        g[2..4].copy_from_slice(&protocol_type.0.to_be_bytes());
        g.extend_from_slice(payload);
        gre_payload = g;
        &gre_payload[..]
    } else {
        payload
    };
    let protocol = match method {
        Method::IpInIp => IpProtocol::IPIP,
        Method::Minimal => IpProtocol::MINIMAL_ENCAP,
        Method::Gre => IpProtocol::GRE,
        Method::Ipv6InIpv4 => IpProtocol::IPV6,
    };
    let payload = &payload[..payload.len().min(2000)];
    let repr = Ipv4Repr {
        src_addr: ENTRY,
        dst_addr: EXIT,
        protocol,
        payload_len: payload.len(),
        ttl: 64,
        dscp: 0,
        ecn: payload.first().map_or(0, |b| b >> 6),
        ident: 1,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    b[repr.header_len()..].copy_from_slice(payload);
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b
}

/// Tries every method on `data`; on a success checks the result and goes on with it one
/// level deeper.
fn decapsulate_all(data: &[u8], control: Control, depth: u8) {
    for method in METHODS {
        let wrapped;
        let data = if control.wrap {
            wrapped = wrap(method, data);
            &wrapped[..]
        } else {
            data
        };
        let bytes = if control.fill_checksums {
            with_checksums(data, method)
        } else {
            data.to_vec()
        };
        if let Some(inner) = decapsulate(method, &bytes, control, depth) {
            // What a success leaves is a whole packet: try it as it is.
            let inner_control = Control {
                wrap: false,
                ..control
            };
            decapsulate_all(&inner, inner_control, depth + 1);
        }
    }
}

/// One decapsulation: checks the outcome and returns the inner packet on a success.
fn decapsulate(method: Method, bytes: &[u8], control: Control, depth: u8) -> Option<Vec<u8>> {
    let mut p = packet(bytes);
    let before = p.data().to_vec();
    let ours = |a: Ipv4Addr| control.ours.owns(a);
    let (entry, exit) = match method {
        Method::IpInIp => {
            let r = ipip::decapsulate_nested(&mut p, ours, depth);
            if depth >= DEFAULT_NESTING_LIMIT {
                assert_eq!(r, Err(TunnelError::NestingLimit));
            }
            let d = r.ok()?;
            inner_ipv4_forwarded(&before, p.data());
            (d.entry, d.exit)
        }
        Method::Minimal => {
            let r = minimal::decapsulate_nested(&mut p, ours, depth);
            if depth >= DEFAULT_NESTING_LIMIT {
                assert_eq!(r, Err(TunnelError::NestingLimit));
            }
            let d = r.ok()?;
            restored_by_minimal(&before, p.data());
            (d.entry, d.exit)
        }
        Method::Gre => {
            let r = gre::decapsulate_nested(&mut p, ours, depth);
            if depth >= DEFAULT_NESTING_LIMIT {
                assert_eq!(r, Err(TunnelError::NestingLimit));
            }
            let d = r.ok()?;
            let outer_len = usize::from(before[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([before[2], before[3]]));
            let gre = GrePacket::new_checked(&before[outer_len..total]).expect("decapsulated");
            assert_eq!(d.key, gre.key());
            assert_eq!(d.protocol_type, gre.protocol_type());
            let inner_at = outer_len + gre.header_len();
            if d.protocol_type == EtherType::IPV4 {
                ecn_rewritten_ipv4(&before, inner_at, p.data());
            } else {
                assert_eq!(d.protocol_type, EtherType::IPV6);
                ecn_rewritten_ipv6(&before, inner_at, p.data());
                // GRE discards a hop limit of 0 as RFC 2003 §3.1 does a TTL of 0; IPv6 in
                // IPv4 leaves the hop limit to whoever forwards the packet.
                assert_ne!(p.data()[7], 0);
            }
            (d.entry, d.exit)
        }
        Method::Ipv6InIpv4 => {
            let r = mixed::decapsulate_6in4(&mut p, |a: &Ipv4Addr| ours(*a), depth);
            let Ok(d) = r else {
                assert_eq!(
                    p.data(),
                    &before[..],
                    "an error leaves the packet as it was"
                );
                return None;
            };
            assert_eq!(d.nesting, depth + 1);
            let outer_len = usize::from(before[0] & 0x0f) * 4;
            ecn_rewritten_ipv6(&before, outer_len, p.data());
            (d.entry, d.exit)
        }
    };
    assert!(
        depth < DEFAULT_NESTING_LIMIT,
        "decapsulated past the nesting limit"
    );
    let outer = Ipv4Packet::new_checked(&before[..]).expect("decapsulated");
    assert_eq!((entry, exit), (outer.src_addr(), outer.dst_addr()));
    assert!(control.ours.owns(exit));
    Some(p.data().to_vec())
}

/// The ECN field RFC 6040 §4.2 gives an inner packet under `outer_ecn`.
fn decapsulated_ecn(inner: u8, outer: u8) -> u8 {
    match ecn::decapsulate(inner, outer) {
        ecn::Decapsulated::Forward(e) => e,
        ecn::Decapsulated::Drop => panic!("a CE outer over a Not-ECT inner was forwarded"),
    }
}

/// IPv4-in-IPv4: the inner packet after the outer header, only its ECN field (and the
/// checksum with it) rewritten.
fn inner_ipv4_forwarded(before: &[u8], after: &[u8]) {
    let outer_len = usize::from(before[0] & 0x0f) * 4;
    ecn_rewritten_ipv4(before, outer_len, after);
}

fn ecn_rewritten_ipv4(before: &[u8], inner_at: usize, after: &[u8]) {
    let inner = Ipv4Packet::new_checked(after).expect("the inner packet checks");
    assert!(
        inner.verify_checksum(),
        "the ECN rewrite kept the checksum valid"
    );
    assert_ne!(inner.ttl(), 0);
    assert_eq!(
        after.len(),
        usize::from(inner.total_len()),
        "no padding kept"
    );
    let original = &before[inner_at..inner_at + after.len()];
    let outer_ecn = before[1] & 0b11;
    assert_eq!(inner.ecn(), decapsulated_ecn(original[1] & 0b11, outer_ecn));
    assert_eq!(after[0], original[0]);
    assert_eq!(after[1] >> 2, original[1] >> 2, "DSCP kept");
    assert_eq!(after[2..10], original[2..10]);
    assert_eq!(after[12..], original[12..]);
}

fn ecn_rewritten_ipv6(before: &[u8], inner_at: usize, after: &[u8]) {
    let inner = Ipv6Packet::new_checked(after).expect("the inner packet checks");
    assert_eq!(
        after.len(),
        ipv6::HEADER_LEN + usize::from(inner.payload_len())
    );
    let original = Ipv6Packet::new_checked(&before[inner_at..inner_at + after.len()])
        .expect("the inner packet checked before");
    let outer_ecn = before[1] & 0b11;
    assert_eq!(inner.ecn(), decapsulated_ecn(original.ecn(), outer_ecn));
    assert_eq!(inner.dscp(), original.dscp());
    assert_eq!(inner.flow_label(), original.flow_label());
    assert_eq!(after[4..], before[inner_at + 4..inner_at + after.len()]);
}

/// Minimal encapsulation: the original header is back (protocol, destination, source if
/// carried, length), with a valid checksum, and the payload follows it unchanged.
fn restored_by_minimal(before: &[u8], after: &[u8]) {
    let outer = Ipv4Packet::new_checked(before).expect("decapsulated");
    let header_len = outer.header_len();
    let total = usize::from(outer.total_len());
    let forwarding = MinimalPacket::new_checked(&before[header_len..total]).expect("parsed");
    let ip = Ipv4Packet::new_checked(after).expect("the restored header checks");
    assert!(ip.verify_checksum());
    assert_eq!(ip.header_len(), header_len);
    assert_eq!(after.len(), total - forwarding.header_len());
    assert_eq!(ip.protocol(), forwarding.protocol());
    assert_eq!(ip.dst_addr(), forwarding.dst_addr());
    assert_eq!(
        ip.src_addr(),
        forwarding.src_addr().unwrap_or(outer.src_addr())
    );
    assert_eq!(after[header_len..], *forwarding.payload());
}

/// Encapsulates `data` as an inner packet with `method` and decapsulates the result.
fn round_trip(method: Method, data: &[u8], control: Control) {
    let mut inner = data.to_vec();
    if control.fill_checksums {
        fill_ipv4_checksum(&mut inner);
    }
    let mut p = packet(&inner);
    let inner = p.data().to_vec();
    let ends = Endpoints4 {
        entry: ENTRY,
        exit: EXIT,
    };
    let settings = TunnelSettings {
        path_mtu: control.path_mtu,
        ..TunnelSettings::default()
    };
    let encapsulated = match method {
        Method::IpInIp => ipip::encapsulate(&mut p, ends, &settings, 7),
        Method::Minimal => minimal::encapsulate(&mut p, ends, &settings),
        Method::Gre => gre::encapsulate(&mut p, ends, &settings, 7),
        Method::Ipv6InIpv4 => mixed::encapsulate_6in4(&mut p, &ends, &settings, 7),
    };
    if encapsulated.is_err() {
        assert_eq!(
            p.data(),
            &inner[..],
            "a refused packet is left for its ICMP error"
        );
        return;
    }
    let ours = |a: Ipv4Addr| a == EXIT;
    let back = match method {
        Method::IpInIp => ipip::decapsulate(&mut p, ours).map(|d| (d.entry, d.exit)),
        Method::Minimal => minimal::decapsulate(&mut p, ours).map(|d| (d.entry, d.exit)),
        Method::Gre => gre::decapsulate(&mut p, ours).map(|d| (d.entry, d.exit)),
        Method::Ipv6InIpv4 => {
            mixed::decapsulate_6in4(&mut p, |a: &Ipv4Addr| ours(*a), 0).map(|d| (d.entry, d.exit))
        }
    };
    assert_eq!(
        back,
        Ok((ENTRY, EXIT)),
        "{method:?}: what was encapsulated decapsulates"
    );
    assert_eq!(p.data(), &forwarded(&inner)[..], "{method:?}");
}

/// `inner` as the entry point forwards it: link padding trimmed, TTL or hop limit one
/// less (IPv4: with the checksum patched incrementally, as the entry point does).
fn forwarded(inner: &[u8]) -> Vec<u8> {
    match inner[0] >> 4 {
        4 => {
            let len = usize::from(u16::from_be_bytes([inner[2], inner[3]]));
            let mut b = inner[..len].to_vec();
            Ipv4Packet::new_unchecked(&mut b[..]).decrement_ttl();
            b
        }
        _ => {
            let len = ipv6::HEADER_LEN + usize::from(u16::from_be_bytes([inner[4], inner[5]]));
            let mut b = inner[..len].to_vec();
            Ipv6Packet::new_unchecked(&mut b[..]).decrement_hop_limit();
            b
        }
    }
}
