//! Packets the tunnel tests share.

use core::net::Ipv4Addr;

use crate::port::memory::{MemPacket, MemPool};
use crate::port::PacketBuf;
use crate::wire::checksum::ChecksumMode;
use crate::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use crate::wire::ipv6::{next_header, Ipv6Packet, HEADER_LEN};
use crate::wire::ipv6ext::{Ipv6FragmentHeader, Ipv6FragmentRepr, FRAGMENT_HEADER_LEN};

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

/// Splits an outer IPv6 packet with [`super::ip6ip6::fragment_outer`] until every piece
/// fits `mtu`, a fresh pool buffer for each; returns the fragments in sending order (the
/// packet alone when it fits).
pub fn fragment_all_v6(
    pool: &MemPool,
    mut packet: MemPacket,
    mtu: u16,
    identification: u32,
) -> Vec<Vec<u8>> {
    let mut fragments = Vec::new();
    loop {
        let mut second = pool.packet(&[]).unwrap();
        let split =
            super::ip6ip6::fragment_outer(&mut packet, mtu, identification, &mut second).unwrap();
        fragments.push(packet.data().to_vec());
        if !split {
            return fragments;
        }
        packet = second;
    }
}

/// Length of the Per-Fragment headers of an IPv6 fragment and the offset of the Next
/// Header field that says 44 (Fragment).
fn per_fragment_v6(fragment: &[u8]) -> (usize, usize) {
    let (mut named_at, mut at) = (6, HEADER_LEN);
    while fragment[named_at] != next_header::FRAGMENT {
        named_at = at;
        at += (usize::from(fragment[at + 1]) + 1) * 8;
    }
    (at, named_at)
}

/// Reassembles IPv6 fragments as RFC 8200 §4.5 has the destination do, asserting on the
/// way what the source must get right: the same Per-Fragment headers, Next Header and
/// Identification in every fragment, each Payload Length its own, offsets that follow on,
/// M set on all but the last, data a multiple of 8 bytes in all but the last.
pub fn reassemble_v6(fragments: &[Vec<u8>]) -> Vec<u8> {
    let (per, named_at) = per_fragment_v6(&fragments[0]);
    let header = |f: &[u8]| {
        Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_checked(&f[per..]).unwrap()).unwrap()
    };
    let first = header(&fragments[0]);
    let fixed = |f: &[u8]| [&f[..4], &f[6..per]].concat();
    let mut data = Vec::new();
    for (i, f) in fragments.iter().enumerate() {
        let ip = Ipv6Packet::new_checked(&f[..]).unwrap();
        assert_eq!(HEADER_LEN + usize::from(ip.payload_len()), f.len(), "{i}");
        assert_eq!(
            fixed(f),
            fixed(&fragments[0]),
            "Per-Fragment headers of {i}"
        );
        let h = header(f);
        assert_eq!(
            (h.identification, h.next_header),
            (first.identification, first.next_header),
            "{i}"
        );
        assert_eq!(
            usize::from(h.fragment_offset) * 8,
            data.len(),
            "offset of {i}"
        );
        let last = i + 1 == fragments.len();
        assert_eq!(h.more_fragments, !last, "M of {i}");
        let piece = &f[per + FRAGMENT_HEADER_LEN..];
        assert!(last || piece.len() % 8 == 0, "data of {i}: {}", piece.len());
        data.extend_from_slice(piece);
    }
    let mut whole = fragments[0][..per].to_vec();
    whole[named_at] = first.next_header;
    whole.extend_from_slice(&data);
    let payload_len = u16::try_from(whole.len() - HEADER_LEN).unwrap();
    Ipv6Packet::new_unchecked(&mut whole[..]).set_payload_len(payload_len);
    whole
}
