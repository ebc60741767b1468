#![no_main]
//! The ICMP error builders a tunnel entry point runs on packets it refused, on arbitrary
//! originals: `icmp_error_v4` (Time Exceeded, Fragmentation Needed) and `icmp_error_v6`
//! (Packet Too Big, Time Exceeded, Parameter Problem), into reply buffers of every size up
//! to past the limits. The first three input bytes pick the kind, the MTU or pointer and
//! the reply buffer's size; the rest is the original. What is built must parse (checksums
//! verified), go back to the original's source, quote the start of the original as much
//! as the RFC limit and the buffer allow, and fit the buffer.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::tunnel::icmp::{icmp_error_v4, IcmpErrorKind, MAX_ERROR_LEN};
use mipdp_dataplane::tunnel::ip6ip6::{icmp_error_v6, Icmpv6Error, IPV6_MIN_MTU};
use mipdp_dataplane::tunnel::TunnelError;
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::icmpv4::{DstUnreachable, Icmpv4Packet, Icmpv4Repr, TimeExceeded};
use mipdp_dataplane::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet};
use std::net::{Ipv4Addr, Ipv6Addr};

const FROM_V4: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const FROM_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

fuzz_target!(|input: &[u8]| {
    let Some((&[kind, hi, lo], original)) = input.split_first_chunk::<3>() else {
        return;
    };
    let value = u16::from_be_bytes([hi, lo]);
    // Up to a little past the largest message either builder writes.
    let reply_len = usize::from(value) % (usize::from(IPV6_MIN_MTU) + 64);
    let v4_kind = if kind & 1 == 0 {
        IcmpErrorKind::TimeExceeded
    } else {
        IcmpErrorKind::FragmentationNeeded { mtu: value }
    };
    v4(original, reply_len, v4_kind);
    let v6_kind = match (kind >> 1) % 3 {
        0 => Icmpv6Error::PacketTooBig {
            mtu: u32::from(value),
        },
        1 => Icmpv6Error::HopLimitExceeded,
        _ => Icmpv6Error::ParameterProblem {
            pointer: u32::from(value),
        },
    };
    v6(original, reply_len, v6_kind);
});

fn v4(original: &[u8], reply_len: usize, kind: IcmpErrorKind) {
    let mut reply = vec![0u8; reply_len];
    let len = match icmp_error_v4(original, &mut reply, kind, FROM_V4, 7) {
        Ok(len) => len,
        Err(TunnelError::Malformed(_)) => {
            assert!(Ipv4Packet::new_checked(original).is_err());
            return;
        }
        Err(TunnelError::IcmpSuppressed | TunnelError::NoRoom) => return,
        Err(e) => panic!("icmp_error_v4 failed with {e:?}"),
    };
    assert!(len <= reply_len && len <= MAX_ERROR_LEN);
    let was = Ipv4Packet::new_checked(original).expect("answered, so it parsed");

    let packet = Ipv4Packet::new_checked(&reply[..len]).expect("the error's header checks");
    let ip = Ipv4Repr::parse(&packet, ChecksumMode::Verify).expect("the error's header parses");
    assert_eq!(ip.protocol, IpProtocol::ICMP);
    assert_eq!((ip.src_addr, ip.dst_addr), (FROM_V4, was.src_addr()));
    assert_eq!(ip.buffer_len(), len);

    let message = Icmpv4Packet::new_checked(packet.payload()).expect("the message checks");
    let icmp = Icmpv4Repr::parse(&message, ChecksumMode::Verify).expect("the message parses");
    let quoted = match (kind, icmp) {
        (IcmpErrorKind::TimeExceeded, Icmpv4Repr::TimeExceeded { reason, data }) => {
            assert_eq!(reason, TimeExceeded::TTL_EXPIRED);
            data
        }
        (
            IcmpErrorKind::FragmentationNeeded { mtu },
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                data,
            },
        ) => {
            assert_eq!((reason, next_hop_mtu), (DstUnreachable::FRAG_NEEDED, mtu));
            data
        }
        (kind, icmp) => panic!("asked for {kind:?}, built {icmp:?}"),
    };
    let room = MAX_ERROR_LEN - 20 - 8;
    assert_eq!(quoted.len(), usize::from(was.total_len()).min(room));
    assert_eq!(quoted, &original[..quoted.len()]);
}

fn v6(original: &[u8], reply_len: usize, kind: Icmpv6Error) {
    let mut reply = vec![0u8; reply_len];
    let len = match icmp_error_v6(original, &mut reply, FROM_V6, kind) {
        Ok(0) => return,
        Ok(len) => len,
        Err(TunnelError::Malformed(_)) => {
            assert!(Ipv6Packet::new_checked(original).is_err());
            return;
        }
        Err(TunnelError::NoRoom) => {
            assert!(
                reply_len < 48,
                "room for the headers, so room for the message"
            );
            return;
        }
        Err(e) => panic!("icmp_error_v6 failed with {e:?}"),
    };
    assert!(len <= reply_len && len <= usize::from(IPV6_MIN_MTU));
    let was = Ipv6Packet::new_checked(original).expect("answered, so it parsed");

    let packet = Ipv6Packet::new_checked(&reply[..len]).expect("the error's header checks");
    assert_eq!(packet.next_header(), next_header::ICMPV6);
    assert_eq!(
        (packet.src_addr(), packet.dst_addr()),
        (FROM_V6, was.src_addr())
    );
    assert_eq!(40 + usize::from(packet.payload_len()), len);

    let (src, dst) = (packet.src_addr(), packet.dst_addr());
    let message = Icmpv6Packet::new_checked(packet.payload()).expect("the message checks");
    let icmp = Icmpv6Repr::parse(&src, &dst, &message).expect("the message parses");
    let invoking = match (kind, icmp) {
        (Icmpv6Error::PacketTooBig { mtu }, Icmpv6Repr::PacketTooBig { mtu: m, invoking }) => {
            assert_eq!(m, mtu);
            invoking
        }
        (Icmpv6Error::HopLimitExceeded, Icmpv6Repr::TimeExceeded { code, invoking }) => {
            assert_eq!(code, 0);
            invoking
        }
        (
            Icmpv6Error::ParameterProblem { pointer },
            Icmpv6Repr::ParamProblem {
                code,
                pointer: p,
                invoking,
            },
        ) => {
            assert_eq!((code, p), (0, pointer));
            invoking
        }
        (kind, icmp) => panic!("asked for {kind:?}, built {icmp:?}"),
    };
    let room = reply_len.min(usize::from(IPV6_MIN_MTU)) - 48;
    let whole = 40 + usize::from(was.payload_len());
    assert_eq!(invoking.len(), whole.min(room));
    assert_eq!(invoking, &original[..invoking.len()]);
}
