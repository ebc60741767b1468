//! Generic Routing Encapsulation (RFC 2784) with the Key and Sequence Number extensions of
//! RFC 2890, as Mobile IPv4 agents may use it for tunnelling (RFC 5944 §1.7).

use super::checksum::{self, ChecksumMode};
use super::ethernet::EtherType;
use super::{Error, Result};

mod field {
    use core::ops::Range;
    pub const FLAGS_VERSION: Range<usize> = 0..2;
    pub const PROTOCOL: Range<usize> = 2..4;
    pub const BASE_END: usize = 4;
    pub const CHECKSUM: Range<usize> = 4..6;
    pub const RESERVED1: Range<usize> = 6..8;
}

/// Length of the GRE header without optional fields. RFC 2784 §2.
pub const BASE_HEADER_LEN: usize = field::BASE_END;
/// Longest GRE header: base, checksum and Reserved1, key, sequence number. RFC 2890 §2.
pub const MAX_HEADER_LEN: usize = 16;

const FLAG_C: u16 = 0x8000;
/// Bit 1 (Routing Present of RFC 1701), bits 4 (Strict Source Route) and 5 (first
/// recursion bit): a receiver that does not implement RFC 1701 discards on any of them.
/// Bits 2 and 3 of that range are K and S, which RFC 2890 §2 defines. RFC 2784 §2.3.
const MUST_BE_ZERO: u16 = 0x4000 | 0x0800 | 0x0400;
const FLAG_K: u16 = 0x2000;
const FLAG_S: u16 = 0x1000;
const VERSION_MASK: u16 = 0x0007;

/// A zero-copy view of a GRE packet: the header and the payload packet after it (the
/// whole IP payload, since GRE carries no length). RFC 2784 §2; RFC 2890 §2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrePacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> GrePacket<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> GrePacket<T> {
        GrePacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<GrePacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks, in order: a buffer shorter than 4 bytes is `Truncated`, a version other than
    /// 0 `BadVersion` (RFC 2784 §2.3.1), any of bits 1, 4 or 5 set `Unsupported` (RFC 2784
    /// §2.3: only an RFC 1701 implementation may accept them), optional fields running
    /// past the buffer `Truncated`. Bits 6–12 are ignored, as RFC 2784 §2.3 says.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < BASE_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 0 {
            return Err(Error::BadVersion);
        }
        if self.flags_version() & MUST_BE_ZERO != 0 {
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

    fn be16(&self, r: core::ops::Range<usize>) -> u16 {
        super::be16_at(self.buffer.as_ref(), r)
    }

    fn be32(&self, at: usize) -> u32 {
        super::be32(self.buffer.as_ref().get(at..).unwrap_or(&[]))
    }

    fn flags_version(&self) -> u16 {
        self.be16(field::FLAGS_VERSION)
    }

    /// Checksum Present (C). RFC 2784 §2.2, §2.5.
    pub fn checksum_present(&self) -> bool {
        self.flags_version() & FLAG_C != 0
    }

    /// Key Present (K). RFC 2890 §2.
    pub fn key_present(&self) -> bool {
        self.flags_version() & FLAG_K != 0
    }

    /// Sequence Number Present (S). RFC 2890 §2.
    pub fn sequence_number_present(&self) -> bool {
        self.flags_version() & FLAG_S != 0
    }

    /// Version Number (0). RFC 2784 §2.3.1.
    pub fn version(&self) -> u8 {
        (self.flags_version() & VERSION_MASK) as u8
    }

    /// Protocol Type: the EtherType of the payload packet. RFC 2784 §2.4.
    pub fn protocol_type(&self) -> EtherType {
        EtherType(self.be16(field::PROTOCOL))
    }

    fn key_offset(&self) -> usize {
        BASE_HEADER_LEN + if self.checksum_present() { 4 } else { 0 }
    }

    fn sequence_number_offset(&self) -> usize {
        self.key_offset() + if self.key_present() { 4 } else { 0 }
    }

    /// Header length in bytes: 4, plus 4 for each of checksum, key and sequence number
    /// present. RFC 2784 §2; RFC 2890 §2.
    pub fn header_len(&self) -> usize {
        self.sequence_number_offset() + if self.sequence_number_present() { 4 } else { 0 }
    }

    /// Checksum field, if C is set. RFC 2784 §2.5.
    pub fn checksum(&self) -> Option<u16> {
        self.checksum_present().then(|| self.be16(field::CHECKSUM))
    }

    /// Reserved1 field, if C is set (sent as zero). RFC 2784 §2.6.
    pub fn reserved1(&self) -> Option<u16> {
        self.checksum_present().then(|| self.be16(field::RESERVED1))
    }

    /// Key field, if K is set. RFC 2890 §2.1.
    pub fn key(&self) -> Option<u32> {
        self.key_present().then(|| self.be32(self.key_offset()))
    }

    /// Sequence Number field, if S is set. RFC 2890 §2.2.
    pub fn sequence_number(&self) -> Option<u32> {
        self.sequence_number_present()
            .then(|| self.be32(self.sequence_number_offset()))
    }

    /// Whether the checksum over header and payload verifies; true when C is clear.
    /// RFC 2784 §2.5.
    pub fn verify_checksum(&self) -> bool {
        !self.checksum_present() || checksum::verifies(self.buffer.as_ref())
    }

    /// The payload packet after the header. RFC 2784 §2.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> GrePacket<T> {
    fn set_be16(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    fn set_be32(&mut self, at: usize, v: u32) {
        self.buffer.as_mut()[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the C, K and S bits and version 0, clearing every reserved bit. Write the
    /// optional fields after this, since it decides where they are. RFC 2784 §2; RFC 2890 §2.
    pub fn set_flags(&mut self, checksum: bool, key: bool, sequence_number: bool) {
        let bit = |set: bool, flag: u16| if set { flag } else { 0 };
        let v = bit(checksum, FLAG_C) | bit(key, FLAG_K) | bit(sequence_number, FLAG_S);
        self.set_be16(field::FLAGS_VERSION, v);
    }

    /// Sets Protocol Type. RFC 2784 §2.4.
    pub fn set_protocol_type(&mut self, v: EtherType) {
        self.set_be16(field::PROTOCOL, v.0);
    }

    /// Sets the Checksum field (C must be set). RFC 2784 §2.5.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_be16(field::CHECKSUM, v);
    }

    /// Sets Reserved1 (C must be set; sent as zero). RFC 2784 §2.6.
    pub fn set_reserved1(&mut self, v: u16) {
        self.set_be16(field::RESERVED1, v);
    }

    /// Sets the Key field (K must be set). RFC 2890 §2.1.
    pub fn set_key(&mut self, v: u32) {
        let at = self.key_offset();
        self.set_be32(at, v);
    }

    /// Sets the Sequence Number field (S must be set). RFC 2890 §2.2.
    pub fn set_sequence_number(&mut self, v: u32) {
        let at = self.sequence_number_offset();
        self.set_be32(at, v);
    }

    /// Computes and writes the checksum over header and payload (the whole buffer), if C is
    /// set. RFC 2784 §2.5.
    pub fn fill_checksum(&mut self) {
        if !self.checksum_present() {
            return;
        }
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// The payload packet after the header, mutable. RFC 2784 §2.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

/// The fields of a GRE header. RFC 2784 §2; RFC 2890 §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GreRepr {
    /// Protocol Type of the payload (0x0800 IPv4, 0x86dd IPv6). RFC 2784 §2.4.
    pub protocol_type: EtherType,
    /// Whether the header carries a checksum (C). RFC 2784 §2.5.
    pub checksum_present: bool,
    /// Key, if present (K). RFC 2890 §2.1.
    pub key: Option<u32>,
    /// Sequence Number, if present (S). RFC 2890 §2.2.
    pub sequence_number: Option<u32>,
    /// Bytes of payload packet after the header.
    pub payload_len: usize,
}

impl GreRepr {
    /// Reads a checked header, verifying the checksum if present and `mode` says so
    /// (`BadChecksum`). RFC 2784 §2.5.
    pub fn parse<T: AsRef<[u8]>>(packet: &GrePacket<T>, mode: ChecksumMode) -> Result<GreRepr> {
        packet.check_len()?;
        if mode == ChecksumMode::Verify && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        Ok(GreRepr {
            protocol_type: packet.protocol_type(),
            checksum_present: packet.checksum_present(),
            key: packet.key(),
            sequence_number: packet.sequence_number(),
            payload_len: packet.payload().len(),
        })
    }

    /// Length of the header this emits. RFC 2784 §2; RFC 2890 §2.
    pub fn header_len(&self) -> usize {
        let optional = |present: bool| if present { 4 } else { 0 };
        BASE_HEADER_LEN
            + optional(self.checksum_present)
            + optional(self.key.is_some())
            + optional(self.sequence_number.is_some())
    }

    /// Length of the whole GRE packet this describes.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header and, if present, the checksum over the payload already in place
    /// after it (write the payload at [`header_len`](Self::header_len) first). The buffer
    /// must be exactly [`buffer_len`](Self::buffer_len) bytes, since the checksum covers all
    /// of it. RFC 2784 §2.5; RFC 2890 §2.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut GrePacket<T>) {
        packet.set_flags(
            self.checksum_present,
            self.key.is_some(),
            self.sequence_number.is_some(),
        );
        packet.set_protocol_type(self.protocol_type);
        if self.checksum_present {
            packet.set_reserved1(0);
        }
        if let Some(key) = self.key {
            packet.set_key(key);
        }
        if let Some(seq) = self.sequence_number {
            packet.set_sequence_number(seq);
        }
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // GRE with C, K and S: checksum over everything, key 0x01020304, sequence 7, then a
    // 4-byte stand-in payload.
    fn full_packet() -> Vec<u8> {
        let mut b = vec![
            0xb0, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00,
            0x00, 0x07, 0x45, 0x00, 0x00, 0x14,
        ];
        let c = checksum::checksum(&b);
        b[4..6].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn plain_header_carries_ipv4() {
        let b = [0x00, 0x00, 0x08, 0x00, 0x45, 0x00];
        let p = GrePacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.header_len(), 4);
        assert_eq!(p.protocol_type(), EtherType::IPV4);
        assert_eq!(
            (p.checksum(), p.key(), p.sequence_number()),
            (None, None, None)
        );
        assert_eq!(p.payload(), &[0x45, 0x00]);
        let r = GreRepr::parse(&p, ChecksumMode::Verify).unwrap();
        let mut out = [0u8; 6];
        out[4..].copy_from_slice(p.payload());
        r.emit(&mut GrePacket::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
    }

    #[test]
    fn checksum_key_and_sequence_number_are_read_in_order() {
        let b = full_packet();
        let p = GrePacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.header_len(), 16);
        assert_eq!(p.key(), Some(0x0102_0304));
        assert_eq!(p.sequence_number(), Some(7));
        assert_eq!(p.reserved1(), Some(0));
        assert!(p.verify_checksum());
        let r = GreRepr::parse(&p, ChecksumMode::Verify).unwrap();
        assert_eq!(r.payload_len, 4);
        let mut out = vec![0u8; r.buffer_len()];
        out[16..].copy_from_slice(p.payload());
        r.emit(&mut GrePacket::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
    }

    #[test]
    fn key_without_checksum_starts_at_offset_four() {
        let b = [0x20, 0x00, 0x86, 0xdd, 0xde, 0xad, 0xbe, 0xef];
        let p = GrePacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.key(), Some(0xdead_beef));
        assert_eq!(p.protocol_type(), EtherType::IPV6);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn corrupted_payload_is_bad_checksum_unless_ignored() {
        let mut b = full_packet();
        b[17] ^= 1;
        let p = GrePacket::new_checked(&b[..]).unwrap();
        assert_eq!(
            GreRepr::parse(&p, ChecksumMode::Verify).unwrap_err(),
            Error::BadChecksum
        );
        assert!(GreRepr::parse(&p, ChecksumMode::Ignore).is_ok());
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(
            GrePacket::new_checked(&[0u8, 0, 8][..]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn optional_fields_past_the_buffer_are_truncated() {
        let b = full_packet();
        assert_eq!(
            GrePacket::new_checked(&b[..15]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn nonzero_version_is_bad_version() {
        // Version 1 is the enhanced GRE of PPTP (RFC 2637).
        let b = [0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            GrePacket::new_checked(&b[..]).unwrap_err(),
            Error::BadVersion
        );
    }

    #[test]
    fn routing_present_and_recursion_bits_are_unsupported() {
        for first in [0x40u8, 0x08, 0x04] {
            let b = [first, 0x00, 0x08, 0x00, 0, 0, 0, 0];
            assert_eq!(
                GrePacket::new_checked(&b[..]).unwrap_err(),
                Error::Unsupported,
                "{first:#x}"
            );
        }
    }

    #[test]
    fn reserved0_bits_six_to_twelve_are_ignored() {
        let b = [0x03, 0xf8, 0x08, 0x00];
        let p = GrePacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.header_len(), 4);
    }

    prop_compose! {
        fn arb_repr()(
            protocol in prop_oneof![Just(EtherType::IPV4), Just(EtherType::IPV6), any::<u16>().prop_map(EtherType)],
            checksum_present in any::<bool>(), key in any::<Option<u32>>(),
            sequence_number in any::<Option<u32>>(), payload_len in 0usize..64,
        ) -> GreRepr {
            GreRepr { protocol_type: protocol, checksum_present, key, sequence_number, payload_len }
        }
    }

    proptest! {
        #[test]
        fn parse_of_emit_is_identity(repr in arb_repr(), fill in any::<u8>()) {
            let mut buf = vec![fill; repr.buffer_len()];
            repr.emit(&mut GrePacket::new_unchecked(&mut buf[..]));
            let p = GrePacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(GreRepr::parse(&p, ChecksumMode::Verify).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = GrePacket::new_checked(&bytes[..]) {
                let _ = GreRepr::parse(&p, ChecksumMode::Verify);
                let _ = (p.checksum(), p.reserved1(), p.key(), p.sequence_number(), p.payload());
            }
        }
    }
}
