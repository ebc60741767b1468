//! UDP (RFC 768) with its checksum over the IPv4 pseudo-header (RFC 768) and the IPv6
//! pseudo-header (RFC 8200 §8.1).

use super::checksum::{self, ChecksumMode};
use super::ipv4::IpProtocol;
use super::{Error, Result};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The addresses the UDP checksum covers, and which IP version carries the datagram.
/// RFC 768 ("pseudo header"); RFC 8200 §8.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    /// Carried over IPv4: a zero checksum means "none". RFC 768.
    V4 {
        /// IPv4 source address.
        src: Ipv4Addr,
        /// IPv4 destination address.
        dst: Ipv4Addr,
    },
    /// Carried over IPv6: the checksum is mandatory. RFC 8200 §8.1.
    V6 {
        /// IPv6 source address.
        src: Ipv6Addr,
        /// IPv6 destination address (the final one, with a routing header). RFC 8200 §8.1.
        dst: Ipv6Addr,
    },
}

impl PseudoHeader {
    /// Partial sum of the pseudo-header for a UDP datagram of `udp_len` bytes.
    /// RFC 768; RFC 8200 §8.1.
    pub fn sum(&self, udp_len: u16) -> u32 {
        match *self {
            PseudoHeader::V4 { src, dst } => {
                checksum::pseudo_header_v4(src.octets(), dst.octets(), IpProtocol::UDP.0, udp_len)
            }
            PseudoHeader::V6 { src, dst } => checksum::pseudo_header_v6(
                src.octets(),
                dst.octets(),
                IpProtocol::UDP.0,
                u32::from(udp_len),
            ),
        }
    }
}

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// Length of the UDP header. RFC 768.
pub const HEADER_LEN: usize = 8;

/// A zero-copy view of a UDP datagram. RFC 768.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> UdpPacket<T> {
        UdpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<UdpPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// A buffer shorter than 8 bytes is `Truncated`, a Length below 8 `BadLength` and a
    /// Length beyond the buffer `Truncated`. RFC 768.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let declared = usize::from(self.len());
        if declared < HEADER_LEN {
            return Err(Error::BadLength);
        }
        if declared > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source Port. RFC 768.
    pub fn src_port(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// Destination Port. RFC 768.
    pub fn dst_port(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::DST_PORT)
    }

    /// Length: header plus data, in bytes. RFC 768.
    pub fn len(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::LENGTH)
    }

    /// Whether Length says there is no data after the header. RFC 768.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// Checksum field. RFC 768.
    pub fn checksum(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Whether the checksum verifies: over IPv4 a zero checksum (none sent) verifies,
    /// over IPv6 it never does. RFC 768; RFC 8200 §8.1.
    pub fn verify_checksum(&self, pseudo: &PseudoHeader) -> bool {
        if self.checksum() == 0 {
            return matches!(pseudo, PseudoHeader::V4 { .. });
        }
        let datagram = &self.buffer.as_ref()[..usize::from(self.len())];
        let total = checksum::combine(&[pseudo.sum(self.len()), checksum::sum(datagram)]);
        checksum::finish(total) == 0
    }

    /// The data after the header, up to Length. RFC 768.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    fn set_be16(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets Source Port. RFC 768.
    pub fn set_src_port(&mut self, v: u16) {
        self.set_be16(field::SRC_PORT, v);
    }

    /// Sets Destination Port. RFC 768.
    pub fn set_dst_port(&mut self, v: u16) {
        self.set_be16(field::DST_PORT, v);
    }

    /// Sets Length. RFC 768.
    pub fn set_len(&mut self, v: u16) {
        self.set_be16(field::LENGTH, v);
    }

    /// Sets the Checksum field. RFC 768.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_be16(field::CHECKSUM, v);
    }

    /// Computes the checksum over pseudo-header, header and data and writes it; a result of
    /// zero is sent as 0xffff, since zero means "none". RFC 768; RFC 8200 §8.1.
    pub fn fill_checksum(&mut self, pseudo: &PseudoHeader) {
        self.set_checksum(0);
        let len = self.len();
        let datagram = &self.buffer.as_ref()[..usize::from(len)];
        let c = checksum::finish(checksum::combine(&[
            pseudo.sum(len),
            checksum::sum(datagram),
        ]));
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }

    /// The data after the header, up to Length, mutable. RFC 768.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fields of a UDP header. RFC 768.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source Port.
    pub src_port: u16,
    /// Destination Port.
    pub dst_port: u16,
    /// Bytes of data after the header.
    pub payload_len: usize,
}

impl UdpRepr {
    /// Reads a checked datagram, verifying its checksum against `pseudo` if `mode` says so
    /// (`BadChecksum`; a zero checksum over IPv6 is always `BadChecksum`). RFC 768;
    /// RFC 8200 §8.1.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &UdpPacket<T>,
        pseudo: &PseudoHeader,
        mode: ChecksumMode,
    ) -> Result<UdpRepr> {
        packet.check_len()?;
        let zero_over_v6 = packet.checksum() == 0 && matches!(pseudo, PseudoHeader::V6 { .. });
        if zero_over_v6 || (mode == ChecksumMode::Verify && !packet.verify_checksum(pseudo)) {
            return Err(Error::BadChecksum);
        }
        Ok(UdpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: usize::from(packet.len()) - HEADER_LEN,
        })
    }

    /// Length of the header: 8.
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of the datagram this describes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header and the checksum over the data already in place after it (write
    /// the payload at offset 8 first). `packet` must hold [`buffer_len`](Self::buffer_len)
    /// bytes. RFC 768.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        pseudo: &PseudoHeader,
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(self.buffer_len() as u16);
        packet.fill_checksum(pseudo);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const V4: PseudoHeader = PseudoHeader::V4 {
        src: Ipv4Addr::new(192, 168, 1, 10),
        dst: Ipv4Addr::new(8, 8, 8, 8),
    };

    // A DNS query for example.com A from 192.168.1.10:53124 to 8.8.8.8:53; checksum 0x748f
    // as the sender computed it.
    const DNS_QUERY: [u8; 37] = [
        0xcf, 0x84, 0x00, 0x35, 0x00, 0x25, 0x74, 0x8f, 0x1a, 0x2b, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
        0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
    ];

    fn v6() -> PseudoHeader {
        PseudoHeader::V6 {
            src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
            dst: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb),
        }
    }

    // An mDNS query header fe80::1 → ff02::fb, port 5353 both ways, checksum 0xd773.
    const MDNS_V6: [u8; 20] = [
        0x14, 0xe9, 0x14, 0xe9, 0x00, 0x14, 0xd7, 0x73, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn dns_query_over_ipv4_verifies_and_round_trips() {
        let p = UdpPacket::new_checked(&DNS_QUERY[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (53124, 53, 37));
        let r = UdpRepr::parse(&p, &V4, ChecksumMode::Verify).unwrap();
        assert_eq!(r.payload_len, 29);
        let mut out = [0u8; 37];
        out[8..].copy_from_slice(p.payload());
        r.emit(&mut UdpPacket::new_unchecked(&mut out[..]), &V4);
        assert_eq!(out, DNS_QUERY);
    }

    #[test]
    fn mdns_over_ipv6_verifies_and_round_trips() {
        let p = UdpPacket::new_checked(&MDNS_V6[..]).unwrap();
        let r = UdpRepr::parse(&p, &v6(), ChecksumMode::Verify).unwrap();
        let mut out = [0u8; 20];
        out[8..].copy_from_slice(p.payload());
        r.emit(&mut UdpPacket::new_unchecked(&mut out[..]), &v6());
        assert_eq!(out, MDNS_V6);
    }

    #[test]
    fn zero_checksum_over_ipv4_means_none() {
        let mut b = DNS_QUERY;
        b[6..8].copy_from_slice(&[0, 0]);
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert!(UdpRepr::parse(&p, &V4, ChecksumMode::Verify).is_ok());
    }

    #[test]
    fn zero_checksum_over_ipv6_is_bad_checksum() {
        let mut b = MDNS_V6;
        b[6..8].copy_from_slice(&[0, 0]);
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(
            UdpRepr::parse(&p, &v6(), ChecksumMode::Verify).unwrap_err(),
            Error::BadChecksum
        );
        assert_eq!(
            UdpRepr::parse(&p, &v6(), ChecksumMode::Ignore).unwrap_err(),
            Error::BadChecksum
        );
    }

    #[test]
    fn corrupted_payload_is_bad_checksum_unless_ignored() {
        let mut b = DNS_QUERY;
        b[20] ^= 0x40;
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(
            UdpRepr::parse(&p, &V4, ChecksumMode::Verify).unwrap_err(),
            Error::BadChecksum
        );
        assert!(UdpRepr::parse(&p, &V4, ChecksumMode::Ignore).is_ok());
    }

    #[test]
    fn wrong_pseudo_header_is_bad_checksum() {
        let p = UdpPacket::new_checked(&DNS_QUERY[..]).unwrap();
        let other = PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 168, 1, 11),
            dst: Ipv4Addr::new(8, 8, 8, 8),
        };
        assert_eq!(
            UdpRepr::parse(&p, &other, ChecksumMode::Verify).unwrap_err(),
            Error::BadChecksum
        );
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(
            UdpPacket::new_checked(&DNS_QUERY[..7]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn length_below_header_is_bad_length() {
        let mut b = DNS_QUERY;
        b[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(
            UdpPacket::new_checked(&b[..]).unwrap_err(),
            Error::BadLength
        );
    }

    #[test]
    fn length_beyond_buffer_is_truncated() {
        assert_eq!(
            UdpPacket::new_checked(&DNS_QUERY[..36]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn trailing_bytes_beyond_length_are_not_payload() {
        let mut b = DNS_QUERY.to_vec();
        b.extend_from_slice(&[0; 4]);
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload().len(), 29);
        assert!(p.verify_checksum(&V4));
    }

    #[test]
    fn computed_zero_checksum_is_sent_as_ffff() {
        // Choose the source port so that the checksum over everything else comes to zero.
        let mut b = [0u8; 8];
        let repr = UdpRepr {
            src_port: 0,
            dst_port: 0,
            payload_len: 0,
        };
        repr.emit(&mut UdpPacket::new_unchecked(&mut b[..]), &V4);
        let port = UdpPacket::new_unchecked(&b[..]).checksum();
        let repr = UdpRepr {
            src_port: port,
            ..repr
        };
        repr.emit(&mut UdpPacket::new_unchecked(&mut b[..]), &V4);
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum(&V4));
    }

    fn arb_pseudo() -> impl Strategy<Value = PseudoHeader> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(s, d)| PseudoHeader::V4 {
                src: s.into(),
                dst: d.into()
            }),
            (any::<[u8; 16]>(), any::<[u8; 16]>()).prop_map(|(s, d)| PseudoHeader::V6 {
                src: s.into(),
                dst: d.into()
            }),
        ]
    }

    proptest! {
        #[test]
        fn parse_of_emit_is_identity(
            src_port in any::<u16>(), dst_port in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..200), pseudo in arb_pseudo(),
        ) {
            let repr = UdpRepr { src_port, dst_port, payload_len: payload.len() };
            let mut buf = vec![0u8; repr.buffer_len()];
            buf[HEADER_LEN..].copy_from_slice(&payload);
            repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), &pseudo);
            let p = UdpPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(UdpRepr::parse(&p, &pseudo, ChecksumMode::Verify).unwrap(), repr);
            prop_assert_eq!(p.payload(), &payload[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..64), pseudo in arb_pseudo(),
        ) {
            if let Ok(p) = UdpPacket::new_checked(&bytes[..]) {
                let _ = UdpRepr::parse(&p, &pseudo, ChecksumMode::Verify);
                let _ = UdpRepr::parse(&p, &pseudo, ChecksumMode::Ignore);
                let _ = p.payload();
            }
        }
    }
}
