//! Frame builders the engine tests share: each header written field by field with the
//! wire types (or by hand where the format is fixed), independent of the engine.
#![allow(dead_code)]

use core::net::{Ipv4Addr, Ipv6Addr};

use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::ipv6::{Ipv6Packet, Ipv6Repr};

/// An IPv4 packet (identification 0x1234, DF set) carrying `payload`.
pub fn ipv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: IpProtocol,
    ttl: u8,
    dscp: u8,
    payload: &[u8],
) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: proto,
        payload_len: payload.len(),
        ttl,
        dscp,
        ecn: 0,
        ident: 0x1234,
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

pub fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, hop: u8, tc: u8, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: next,
        payload_len: payload.len(),
        hop_limit: hop,
        traffic_class: tc,
        flow_label: 0,
    };
    let mut b = vec![0u8; 40 + payload.len()];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut b[..]))
        .unwrap();
    b[40..].copy_from_slice(payload);
    b
}

/// UDP header + data, checksum 0 (allowed over IPv4; the engine does not read it).
pub fn udp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&sport.to_be_bytes());
    b.extend_from_slice(&dport.to_be_bytes());
    b.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(data);
    b
}

pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&dst);
    b.extend_from_slice(&src);
    b.extend_from_slice(&ethertype.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// An Ethernet/IPv4 ARP packet (RFC 826).
pub fn arp(op: u16, sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr) -> Vec<u8> {
    let mut b = vec![0, 1, 8, 0, 6, 4];
    b.extend_from_slice(&op.to_be_bytes());
    b.extend_from_slice(&sha);
    b.extend_from_slice(&spa.octets());
    b.extend_from_slice(&tha);
    b.extend_from_slice(&tpa.octets());
    b
}
