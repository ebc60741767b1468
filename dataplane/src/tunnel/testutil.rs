//! Packets the tunnel tests share.

use core::net::Ipv4Addr;

use crate::port::memory::{MemPacket, MemPool};
use crate::wire::checksum::ChecksumMode;
use crate::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};

pub const CORRESPONDENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
pub const HOME_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
pub const HOME_AGENT: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
pub const CARE_OF: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

pub fn ends() -> super::Endpoints4 {
    super::Endpoints4 {
        entry: HOME_AGENT,
        exit: CARE_OF,
    }
}

/// A UDP-looking inner packet from the correspondent to the home address.
pub fn inner(ttl: u8, dscp: u8, ecn: u8, dont_frag: bool, payload_len: usize) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: CORRESPONDENT,
        dst_addr: HOME_ADDRESS,
        protocol: IpProtocol::UDP,
        payload_len,
        ttl,
        dscp,
        ecn,
        ident: 0x4321,
        dont_frag,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    for (i, x) in b.iter_mut().enumerate().skip(20) {
        *x = i as u8;
    }
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b
}

pub fn pool() -> MemPool {
    MemPool::new(4)
}

pub fn packet(pool: &MemPool, bytes: &[u8]) -> MemPacket {
    pool.packet(bytes).unwrap()
}

pub fn parse(bytes: &[u8]) -> Ipv4Repr {
    Ipv4Repr::parse(
        &Ipv4Packet::new_checked(bytes).unwrap(),
        ChecksumMode::Verify,
    )
    .unwrap()
}

/// Fills in the IPv4 header checksum of `bytes` when they start with something shaped like
/// an IPv4 header, so that fuzzed inner packets get past the checksum.
pub fn fix_ipv4_checksum(bytes: &mut [u8]) {
    let header_len = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
    if header_len >= 20 && bytes.len() >= header_len {
        bytes[10..12].fill(0);
        let c = crate::wire::checksum::checksum(&bytes[..header_len]);
        bytes[10..12].copy_from_slice(&c.to_be_bytes());
    }
}

/// A well-formed outer IPv4 header to `dst` carrying `protocol` and then `payload`.
pub fn outer_over(protocol: IpProtocol, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: HOME_AGENT,
        dst_addr: dst,
        protocol,
        payload_len: payload.len(),
        ttl: 64,
        dscp: 0,
        ecn: 0b11,
        ident: 1,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    b[20..].copy_from_slice(payload);
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b
}
