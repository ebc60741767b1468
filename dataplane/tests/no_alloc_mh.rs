//! Reading and writing Mobility Headers allocates nothing: a counting global allocator
//! watches parse, option iteration, authenticator layouts and emit of scapy-built vectors
//! (`tests/vectors/gen_mh.py`). One test in its own binary, so no other test thread counts.

use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::mh::{MhRepr, MobilityHeader};
use mipdp_dpdk::alloc_count::CountingAlloc;
use std::net::Ipv6Addr;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

const VECTORS: &str = include_str!("vectors/mh.txt");

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The Mobility Header of `bytes` with the addresses of its pseudo-header; every vector's
/// header follows a 40-byte IPv6 header and at most one 24-byte extension header.
fn mobility_header(bytes: &[u8]) -> (&[u8], Ipv6Addr, Ipv6Addr) {
    let addr = |at: usize| Ipv6Addr::from(<[u8; 16]>::try_from(&bytes[at..at + 16]).unwrap());
    let (mut src, mut dst) = (addr(8), addr(24));
    let offset = match bytes[6] {
        135 => 40,
        60 => {
            src = addr(40 + 8);
            64
        }
        43 => {
            dst = addr(40 + 8);
            64
        }
        other => panic!("unexpected next header {other}"),
    };
    (&bytes[offset..], src, dst)
}

#[test]
fn mobility_header_parse_and_emit_allocate_nothing() {
    let packets: Vec<Vec<u8>> = VECTORS
        .lines()
        .map(|l| unhex(l.split_once(' ').unwrap().1.trim()))
        .collect();
    let mut out = [0u8; 256];
    let before = GLOBAL.allocations();
    let mut emitted = 0;
    for bytes in &packets {
        let (mh, src, dst) = mobility_header(bytes);
        let header = MobilityHeader::new_checked(mh).unwrap();
        let repr = MhRepr::parse(&src, &dst, &header, ChecksumMode::Verify).unwrap();
        assert!(header.iter_options().all(|o| o.is_ok()));
        let _ = header.binding_authorization_layout();
        let _ = header.message_authentication_layout();
        repr.emit(&src, &dst, &mut MobilityHeader::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(&out[..repr.header_len()], mh);
        emitted += 1;
    }
    let during = GLOBAL.allocations() - before;
    assert_eq!(emitted, packets.len());
    assert_eq!(
        during, 0,
        "allocations while reading and writing Mobility Headers"
    );
}
