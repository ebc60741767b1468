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
