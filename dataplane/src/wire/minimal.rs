//! The minimal forwarding header of Minimal Encapsulation within IP (RFC 2004 §3), the
//! optional tunnelling of Mobile IPv4 (RFC 5944 §1.7).

use super::checksum::{self, ChecksumMode};
use super::ipv4::IpProtocol;
use super::{Error, Result};
use std::net::Ipv4Addr;

mod field {
    use core::ops::Range;
    pub const PROTOCOL: usize = 0;
    pub const FLAGS: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const DST_ADDR: Range<usize> = 4..8;
    pub const SRC_ADDR: Range<usize> = 8..12;
}

/// Length of the minimal forwarding header without the original source address. RFC 2004 §3.
pub const HEADER_LEN: usize = 8;
/// Length of the minimal forwarding header with the original source address. RFC 2004 §3.
pub const HEADER_WITH_SOURCE_LEN: usize = 12;

const FLAG_S: u8 = 0x80;
const RESERVED_MASK: u8 = 0x7f;

/// A zero-copy view of a minimally encapsulated datagram: the minimal forwarding header and
/// the original IP payload after it. RFC 2004 §3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinimalPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MinimalPacket<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> MinimalPacket<T> {
        MinimalPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<MinimalPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks, in order: a buffer shorter than 8 bytes is `Truncated`, reserved bits set
    /// `Unsupported` (RFC 2004 §3 sends them as zero; no later use is defined), a header of
    /// 12 bytes (S set) longer than the buffer `Truncated`. RFC 2004 §3.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.reserved() != 0 {
            return Err(Error::Unsupported);
        }
        if self.header_len() > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Protocol: copied from the original IP header. RFC 2004 §3.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Original Source Address Present (S). RFC 2004 §3.
    pub fn source_present(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_S != 0
    }

    /// The 7 reserved bits after S (sent as zero). RFC 2004 §3.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS] & RESERVED_MASK
    }

    /// Header Checksum field. RFC 2004 §3.
    pub fn checksum(&self) -> u16 {
        let s = &self.buffer.as_ref()[field::CHECKSUM];
        u16::from_be_bytes([s[0], s[1]])
    }

    /// Original Destination Address. RFC 2004 §3.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let s = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(s[0], s[1], s[2], s[3])
    }

    /// Original Source Address, if S is set. RFC 2004 §3.
    pub fn src_addr(&self) -> Option<Ipv4Addr> {
        self.source_present().then(|| {
            let s = &self.buffer.as_ref()[field::SRC_ADDR];
            Ipv4Addr::new(s[0], s[1], s[2], s[3])
        })
    }

    /// Header length: 8, or 12 with the original source address. RFC 2004 §3.
    pub fn header_len(&self) -> usize {
        if self.source_present() {
            HEADER_WITH_SOURCE_LEN
        } else {
            HEADER_LEN
        }
    }

    /// Whether the checksum over the minimal forwarding header alone verifies. RFC 2004 §3.
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(&self.buffer.as_ref()[..self.header_len()])
    }

    /// The original IP payload after the header. RFC 2004 §3.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MinimalPacket<T> {
    /// Sets Protocol. RFC 2004 §3.
    pub fn set_protocol(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = v.0;
    }

    /// Sets or clears S and zeroes the reserved bits; write the source address after
    /// this. RFC 2004 §3.
    pub fn set_source_present(&mut self, present: bool) {
        self.buffer.as_mut()[field::FLAGS] = if present { FLAG_S } else { 0 };
    }

    /// Sets the Header Checksum field. RFC 2004 §3.
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets Original Destination Address. RFC 2004 §3.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    /// Sets Original Source Address (S must be set). RFC 2004 §3.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    /// Computes and writes the checksum over the minimal forwarding header. RFC 2004 §3.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(&self.buffer.as_ref()[..self.header_len()]);
        self.set_checksum(c);
    }

    /// The original IP payload after the header, mutable. RFC 2004 §3.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

/// The fields of a minimal forwarding header. RFC 2004 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MinimalRepr {
    /// Protocol of the original datagram's payload.
    pub protocol: IpProtocol,
    /// Original Destination Address.
    pub dst_addr: Ipv4Addr,
    /// Original Source Address, present when the encapsulator is not the original source.
    pub src_addr: Option<Ipv4Addr>,
    /// Bytes of original IP payload after the header.
    pub payload_len: usize,
}

impl MinimalRepr {
    /// Reads a checked header, verifying its checksum if `mode` says so (`BadChecksum`).
    /// RFC 2004 §3.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &MinimalPacket<T>,
        mode: ChecksumMode,
    ) -> Result<MinimalRepr> {
        packet.check_len()?;
        if mode == ChecksumMode::Verify && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        Ok(MinimalRepr {
            protocol: packet.protocol(),
            dst_addr: packet.dst_addr(),
            src_addr: packet.src_addr(),
            payload_len: packet.payload().len(),
        })
    }

    /// Length of the header this emits: 8 or 12. RFC 2004 §3.
    pub fn header_len(&self) -> usize {
        match self.src_addr {
            Some(_) => HEADER_WITH_SOURCE_LEN,
            None => HEADER_LEN,
        }
    }

    /// Length of the header and payload this describes.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header and its checksum into `packet`, which must hold
    /// [`header_len`](Self::header_len) bytes. RFC 2004 §3.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut MinimalPacket<T>) {
        packet.set_protocol(self.protocol);
        packet.set_source_present(self.src_addr.is_some());
        packet.set_dst_addr(self.dst_addr);
        if let Some(src) = self.src_addr {
            packet.set_src_addr(src);
        }
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_checksum(mut b: Vec<u8>, header_len: usize) -> Vec<u8> {
        let c = checksum::checksum(&b[..header_len]);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        b
    }

    // UDP to 10.1.0.100, encapsulated by the original source (S clear), 2 payload bytes.
    fn without_source() -> Vec<u8> {
        with_checksum(vec![17, 0x00, 0, 0, 10, 1, 0, 100, 0xaa, 0xbb], 8)
    }

    // ICMP from 198.51.100.9 to 10.1.0.100, encapsulated by a home agent (S set).
    fn with_source() -> Vec<u8> {
        with_checksum(
            vec![1, 0x80, 0, 0, 10, 1, 0, 100, 198, 51, 100, 9, 0x08, 0x00],
            12,
        )
    }

    #[test]
    fn header_without_source_is_eight_bytes() {
        let b = without_source();
        let p = MinimalPacket::new_checked(&b[..]).unwrap();
        let r = MinimalRepr::parse(&p, ChecksumMode::Verify).unwrap();
        assert_eq!(
            r,
            MinimalRepr {
                protocol: IpProtocol::UDP,
                dst_addr: Ipv4Addr::new(10, 1, 0, 100),
                src_addr: None,
                payload_len: 2,
            }
        );
        let mut out = b.clone();
        out[..8].fill(0);
        r.emit(&mut MinimalPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
    }

    #[test]
    fn header_with_source_is_twelve_bytes() {
        let b = with_source();
        let p = MinimalPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.header_len(), 12);
        assert_eq!(p.src_addr(), Some(Ipv4Addr::new(198, 51, 100, 9)));
        assert_eq!(p.payload(), &[0x08, 0x00]);
        let r = MinimalRepr::parse(&p, ChecksumMode::Verify).unwrap();
        let mut out = b.clone();
        out[..12].fill(0);
        r.emit(&mut MinimalPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
    }

    #[test]
    fn checksum_does_not_cover_the_payload() {
        let mut b = without_source();
        b[9] ^= 0xff;
        let p = MinimalPacket::new_checked(&b[..]).unwrap();
        assert!(MinimalRepr::parse(&p, ChecksumMode::Verify).is_ok());
    }

    #[test]
    fn corrupted_header_is_bad_checksum_unless_ignored() {
        let mut b = with_source();
        b[11] ^= 1;
        let p = MinimalPacket::new_checked(&b[..]).unwrap();
        assert_eq!(
            MinimalRepr::parse(&p, ChecksumMode::Verify).unwrap_err(),
            Error::BadChecksum
        );
        assert!(MinimalRepr::parse(&p, ChecksumMode::Ignore).is_ok());
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(
            MinimalPacket::new_checked(&without_source()[..7]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn source_address_past_the_buffer_is_truncated() {
        assert_eq!(
            MinimalPacket::new_checked(&with_source()[..11]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn reserved_bits_are_unsupported() {
        let mut b = without_source();
        b[1] = 0x01;
        assert_eq!(
            MinimalPacket::new_checked(&b[..]).unwrap_err(),
            Error::Unsupported
        );
    }

    prop_compose! {
        fn arb_repr()(
            protocol in any::<u8>(), dst in any::<[u8; 4]>(), src in any::<Option<[u8; 4]>>(),
            payload_len in 0usize..32,
        ) -> MinimalRepr {
            MinimalRepr {
                protocol: IpProtocol(protocol), dst_addr: dst.into(),
                src_addr: src.map(Ipv4Addr::from), payload_len,
            }
        }
    }

    proptest! {
        #[test]
        fn parse_of_emit_is_identity(repr in arb_repr()) {
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut MinimalPacket::new_unchecked(&mut buf[..]));
            let p = MinimalPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(MinimalRepr::parse(&p, ChecksumMode::Verify).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            if let Ok(p) = MinimalPacket::new_checked(&bytes[..]) {
                let _ = MinimalRepr::parse(&p, ChecksumMode::Verify);
                let _ = (p.src_addr(), p.payload());
            }
        }
    }
}
