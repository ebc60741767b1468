//! The ICMPv4 errors a tunnel entry point sends back to the inner source (RFC 2003 §4,
//! RFC 792, RFC 1191, RFC 1812 §4.3.2) and the token bucket that rate-limits them
//! (RFC 1812 §4.3.2.8).

use core::net::Ipv4Addr;
use std::time::Instant;

use super::{Result, TunnelError};
use crate::wire::icmpv4::{
    self, DstUnreachable, Icmpv4Message, Icmpv4Packet, Icmpv4Repr, TimeExceeded,
};
use crate::wire::ipv4::{self, IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};

/// Longest ICMP error datagram: RFC 1812 §4.3.2.3 lets a router quote as much of the
/// original as fits in 576 bytes.
pub const MAX_ERROR_LEN: usize = 576;

/// TTL of the ICMP errors this builds.
pub const ERROR_TTL: u8 = 64;

/// Which ICMP error to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpErrorKind {
    /// Time Exceeded, TTL exceeded in transit (type 11 code 0). RFC 792.
    TimeExceeded,
    /// Destination Unreachable, fragmentation needed and DF set (type 3 code 4), with the
    /// Next-Hop MTU. RFC 792; RFC 1191 §4.
    FragmentationNeeded {
        /// The largest packet the next hop (here: the tunnel) carries.
        mtu: u16,
    },
}

impl IcmpErrorKind {
    /// The ICMP error a refusal calls for, if any: `TtlExpired` → Time Exceeded, `TooBig`
    /// → Fragmentation Needed with the inner MTU. RFC 2003 §4.
    pub fn for_error(e: TunnelError) -> Option<IcmpErrorKind> {
        match e {
            TunnelError::TtlExpired => Some(IcmpErrorKind::TimeExceeded),
            TunnelError::TooBig { mtu } => Some(IcmpErrorKind::FragmentationNeeded { mtu }),
            _ => None,
        }
    }
}

fn is_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback())
        && a.octets()[0] < 240
}

/// Whether `original` is itself an ICMP error message (RFC 1812 §4.3.2.7 never answers
/// one with another): types 3, 4, 5, 11, 12, and any message too short to tell.
fn is_icmp_error<T: AsRef<[u8]>>(original: &Ipv4Packet<T>) -> bool {
    if original.protocol() != IpProtocol::ICMP {
        return false;
    }
    match original.payload().first().map(|&t| Icmpv4Message(t)) {
        Some(Icmpv4Message::DST_UNREACHABLE)
        | Some(Icmpv4Message::REDIRECT)
        | Some(Icmpv4Message::TIME_EXCEEDED)
        | Some(Icmpv4Message(4))
        | Some(Icmpv4Message(12))
        | None => true,
        Some(_) => false,
    }
}

/// Builds in `reply` an ICMPv4 error from `from` to the source of the IPv4 packet
/// `original` (as it arrived, before any edit), quoting its header and as much of its data
/// as keeps the error within 576 bytes (at least the 8 bytes RFC 792 asks for when the
/// original has them); returns the length written. Refuses with `IcmpSuppressed` an
/// original that is an ICMP error, a non-first fragment, or from or to an address that is
/// not unicast (RFC 1812 §4.3.2.7); with `NoRoom` a `reply` shorter than the message.
/// RFC 792; RFC 1191 §4; RFC 1812 §4.3.2.3.
pub fn icmp_error_v4(
    original: &[u8],
    reply: &mut [u8],
    kind: IcmpErrorKind,
    from: Ipv4Addr,
    ident: u16,
) -> Result<usize> {
    let packet = Ipv4Packet::new_checked(original)?;
    if packet.frag_offset() != 0
        || !is_unicast(packet.src_addr())
        || packet.dst_addr().is_broadcast()
        || packet.dst_addr().is_multicast()
        || is_icmp_error(&packet)
    {
        return Err(TunnelError::IcmpSuppressed);
    }
    let room = MAX_ERROR_LEN - ipv4::HEADER_LEN - icmpv4::HEADER_LEN;
    let quoted_len = usize::from(packet.total_len()).min(room);
    let quoted = original.get(..quoted_len).ok_or(TunnelError::NoRoom)?;
    let icmp = match kind {
        IcmpErrorKind::TimeExceeded => Icmpv4Repr::TimeExceeded {
            reason: TimeExceeded::TTL_EXPIRED,
            data: quoted,
        },
        IcmpErrorKind::FragmentationNeeded { mtu } => Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::FRAG_NEEDED,
            next_hop_mtu: mtu,
            data: quoted,
        },
    };
    let ip = Ipv4Repr {
        src_addr: from,
        dst_addr: packet.src_addr(),
        protocol: IpProtocol::ICMP,
        payload_len: icmp.buffer_len(),
        ttl: ERROR_TTL,
        dscp: 0,
        ecn: 0,
        ident,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    let len = ip.buffer_len();
    let out = reply.get_mut(..len).ok_or(TunnelError::NoRoom)?;
    let (header, message) = out.split_at_mut(ip.header_len());
    ip.emit(&mut Ipv4Packet::new_unchecked(header));
    icmp.emit(&mut Icmpv4Packet::new_unchecked(message));
    Ok(len)
}

const NANOS_PER_TOKEN: u128 = 1_000_000_000;

/// A token bucket for ICMP errors: `per_second` tokens a second, at most `burst` saved.
/// The caller passes the time in. RFC 1812 §4.3.2.8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpRateLimiter {
    per_second: u32,
    burst: u32,
    /// Saved tokens × 10⁹, so that refills need no division.
    credit: u128,
    last: Option<Instant>,
}

impl IcmpRateLimiter {
    /// A full bucket.
    pub fn new(per_second: u32, burst: u32) -> IcmpRateLimiter {
        IcmpRateLimiter {
            per_second,
            burst,
            credit: u128::from(burst) * NANOS_PER_TOKEN,
            last: None,
        }
    }

    /// Whether an error may be sent at `now`; takes a token if so. Time going backwards
    /// adds nothing.
    pub fn allow(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_nanos();
            let refill = elapsed.saturating_mul(u128::from(self.per_second));
            let cap = u128::from(self.burst) * NANOS_PER_TOKEN;
            self.credit = self.credit.saturating_add(refill).min(cap);
        }
        if self.last.is_none_or(|last| now > last) {
            self.last = Some(now);
        }
        if self.credit >= NANOS_PER_TOKEN {
            self.credit -= NANOS_PER_TOKEN;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::wire::checksum::ChecksumMode;
    use std::time::Duration;

    const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);

    fn icmp(reply: &[u8]) -> (Ipv4Repr, Icmpv4Repr<'_>) {
        let ip = parse(reply);
        let message = Icmpv4Packet::new_checked(&reply[20..]).unwrap();
        (
            ip,
            Icmpv4Repr::parse(&message, ChecksumMode::Verify).unwrap(),
        )
    }

    #[test]
    fn time_exceeded_goes_to_the_original_source_quoting_the_original() {
        let original = inner(1, 0, 0, false, 8);
        let mut reply = [0u8; MAX_ERROR_LEN];
        let n = icmp_error_v4(
            &original,
            &mut reply,
            IcmpErrorKind::TimeExceeded,
            ROUTER,
            7,
        )
        .unwrap();
        assert_eq!(n, 20 + 8 + original.len());
        let (ip, message) = icmp(&reply[..n]);
        assert_eq!((ip.src_addr, ip.dst_addr), (ROUTER, CORRESPONDENT));
        assert_eq!(
            message,
            Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::TTL_EXPIRED,
                data: &original[..]
            }
        );
    }

    #[test]
    fn fragmentation_needed_carries_the_next_hop_mtu_and_stops_at_576_bytes() {
        let original = inner(64, 0, 0, true, 1480);
        let mut reply = [0u8; 1500];
        let kind = IcmpErrorKind::for_error(TunnelError::TooBig { mtu: 1480 }).unwrap();
        let n = icmp_error_v4(&original, &mut reply, kind, ROUTER, 7).unwrap();
        assert_eq!(n, MAX_ERROR_LEN);
        let (_, message) = icmp(&reply[..n]);
        assert_eq!(
            message,
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::FRAG_NEEDED,
                next_hop_mtu: 1480,
                data: &original[..MAX_ERROR_LEN - 28]
            }
        );
    }

    #[test]
    fn no_error_about_an_icmp_error_a_later_fragment_or_a_broadcast_source() {
        let mut reply = [0u8; MAX_ERROR_LEN];
        let original = inner(1, 0, 0, false, 8);
        let n = icmp_error_v4(
            &original,
            &mut reply,
            IcmpErrorKind::TimeExceeded,
            ROUTER,
            1,
        )
        .unwrap();
        let error = reply[..n].to_vec();
        let kind = IcmpErrorKind::TimeExceeded;
        assert_eq!(
            icmp_error_v4(&error, &mut reply, kind, ROUTER, 1),
            Err(TunnelError::IcmpSuppressed)
        );
        let mut fragment = original.clone();
        let mut ip = Ipv4Packet::new_unchecked(&mut fragment[..]);
        ip.set_frag_offset(1);
        assert_eq!(
            icmp_error_v4(&fragment, &mut reply, kind, ROUTER, 1),
            Err(TunnelError::IcmpSuppressed)
        );
        let mut broadcast = original.clone();
        Ipv4Packet::new_unchecked(&mut broadcast[..]).set_src_addr(Ipv4Addr::BROADCAST);
        assert_eq!(
            icmp_error_v4(&broadcast, &mut reply, kind, ROUTER, 1),
            Err(TunnelError::IcmpSuppressed)
        );
    }

    #[test]
    fn short_reply_buffer_is_no_room() {
        let original = inner(1, 0, 0, false, 8);
        let mut reply = [0u8; 40];
        assert_eq!(
            icmp_error_v4(
                &original,
                &mut reply,
                IcmpErrorKind::TimeExceeded,
                ROUTER,
                1
            ),
            Err(TunnelError::NoRoom)
        );
    }

    #[test]
    fn rate_limiter_allows_a_burst_then_refills_at_the_rate() {
        let start = Instant::now();
        let mut limiter = IcmpRateLimiter::new(10, 3);
        assert!((0..3).all(|_| limiter.allow(start)));
        assert!(!limiter.allow(start));
        assert!(!limiter.allow(start + Duration::from_millis(50)));
        assert!(limiter.allow(start + Duration::from_millis(100)));
        assert!(!limiter.allow(start + Duration::from_millis(100)));
        let later = start + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| limiter.allow(later)).count(), 3);
    }
}
