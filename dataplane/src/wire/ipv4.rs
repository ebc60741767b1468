//! IPv4 headers with options (RFC 791), checksum (RFC 1071) and the in-place TTL and
//! DSCP/ECN rewrites (RFC 1624, RFC 2474, RFC 3168) the dataplane does per packet.

use super::checksum::{self, ChecksumMode};
use super::{Error, Result};
use core::fmt;
use std::net::Ipv4Addr;

/// The IP protocol number (IPv4 "Protocol", IPv6 "Next Header"). RFC 791 §3.1; IANA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// ICMP for IPv4. RFC 792.
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// IPv4 encapsulated in IPv4. RFC 2003 §3.1.
    pub const IPIP: IpProtocol = IpProtocol(4);
    /// TCP. RFC 9293.
    pub const TCP: IpProtocol = IpProtocol(6);
    /// UDP. RFC 768.
    pub const UDP: IpProtocol = IpProtocol(17);
    /// IPv6 encapsulated (in IPv4 or IPv6). RFC 2473 §3.
    pub const IPV6: IpProtocol = IpProtocol(41);
    /// Generic Routing Encapsulation. RFC 2784 §2.
    pub const GRE: IpProtocol = IpProtocol(47);
    /// Minimal encapsulation within IP. RFC 2004 §3.
    pub const MINIMAL_ENCAP: IpProtocol = IpProtocol(55);
    /// ICMP for IPv6. RFC 4443.
    pub const ICMPV6: IpProtocol = IpProtocol(58);
    /// No next header (IPv6). RFC 8200 §4.7.
    pub const NONE: IpProtocol = IpProtocol(59);
    /// IPv6 mobility header. RFC 6275 §6.1.
    pub const MOBILITY: IpProtocol = IpProtocol(135);
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
    pub const OPTIONS_START: usize = 20;
}

/// Length of an IPv4 header without options. RFC 791 §3.1.
pub const HEADER_LEN: usize = 20;
/// Most option bytes a header can carry (IHL 15). RFC 791 §3.1.
pub const MAX_OPTIONS_LEN: usize = 40;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// Option type End of Option List. RFC 791 §3.1.
pub const OPTION_END: u8 = 0;
/// Option type No Operation. RFC 791 §3.1.
pub const OPTION_NOP: u8 = 1;

/// Checks the option TLVs: EOL ends the list, NOP is one byte, every other option has a
/// length of at least 2 that stays within `options`. RFC 791 §3.1.
pub fn check_options(options: &[u8]) -> Result<()> {
    let mut rest = options;
    while let Some(&kind) = rest.first() {
        match kind {
            OPTION_END => return Ok(()),
            OPTION_NOP => rest = rest.get(1..).unwrap_or(&[]),
            _ => {
                let len = *rest.get(1).ok_or(Error::BadOption)? as usize;
                if len < 2 {
                    return Err(Error::BadOption);
                }
                rest = rest.get(len..).ok_or(Error::BadOption)?;
            }
        }
    }
    Ok(())
}

/// A zero-copy view of an IPv4 packet. RFC 791 §3.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks version, header length and total length against the buffer, in that order:
    /// a buffer shorter than 20 bytes is `Truncated`, a version other than 4 `BadVersion`,
    /// IHL < 5 `BadHeaderLength`, a header longer than the buffer `Truncated`, a total
    /// length shorter than the header `BadLength` and longer than the buffer `Truncated`.
    /// RFC 791 §3.1.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 {
            return Err(Error::BadVersion);
        }
        if self.ihl() < 5 {
            return Err(Error::BadHeaderLength);
        }
        let header_len = self.header_len();
        if header_len > len {
            return Err(Error::Truncated);
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(Error::BadLength);
        }
        if total_len > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version (4). RFC 791 §3.1.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Internet Header Length in 32-bit words. RFC 791 §3.1.
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] & 0x0f
    }

    /// Header length in bytes (IHL × 4). RFC 791 §3.1.
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// Differentiated services code point, the upper 6 bits of the old TOS. RFC 2474 §3.
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// Explicit congestion notification, the lower 2 bits of the old TOS. RFC 3168 §5.
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }

    /// Total Length: header plus data, in bytes. RFC 791 §3.1.
    pub fn total_len(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::LENGTH)
    }

    /// Identification. RFC 791 §3.1, RFC 6864.
    pub fn ident(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::IDENT)
    }

    /// Don't Fragment flag. RFC 791 §3.1.
    pub fn dont_frag(&self) -> bool {
        super::be16_at(self.buffer.as_ref(), field::FLG_OFF) & FLAG_DF != 0
    }

    /// More Fragments flag. RFC 791 §3.1.
    pub fn more_frags(&self) -> bool {
        super::be16_at(self.buffer.as_ref(), field::FLG_OFF) & FLAG_MF != 0
    }

    /// Fragment Offset in units of 8 octets. RFC 791 §3.1.
    pub fn frag_offset(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::FLG_OFF) & OFFSET_MASK
    }

    /// Time to Live. RFC 791 §3.1.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload. RFC 791 §3.1.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Header Checksum field. RFC 791 §3.1.
    pub fn checksum(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Source Address. RFC 791 §3.1.
    pub fn src_addr(&self) -> Ipv4Addr {
        let s = &self.buffer.as_ref()[field::SRC_ADDR];
        Ipv4Addr::new(s[0], s[1], s[2], s[3])
    }

    /// Destination Address. RFC 791 §3.1.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let s = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(s[0], s[1], s[2], s[3])
    }

    /// The option bytes between the fixed header and the data, padding included.
    /// RFC 791 §3.1.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS_START..self.header_len()]
    }

    /// Whether the header checksum verifies. RFC 791 §3.1, RFC 1071.
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(&self.buffer.as_ref()[..self.header_len()])
    }

    /// The data after the header up to Total Length (link padding excluded). RFC 791 §3.1.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn set_be16(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    fn set_flg_off(&mut self, mask: u16, value: u16) {
        let old = super::be16_at(self.buffer.as_ref(), field::FLG_OFF);
        self.set_be16(field::FLG_OFF, (old & !mask) | (value & mask));
    }

    /// Sets version and IHL (header length in 32-bit words). RFC 791 §3.1.
    pub fn set_version_ihl(&mut self, version: u8, ihl: u8) {
        self.buffer.as_mut()[field::VER_IHL] = (version << 4) | (ihl & 0x0f);
    }

    /// Sets DSCP and ECN without touching the checksum. RFC 2474 §3, RFC 3168 §5.
    pub fn set_dscp_ecn_raw(&mut self, dscp: u8, ecn: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = (dscp << 2) | (ecn & 0x03);
    }

    /// Sets Total Length. RFC 791 §3.1.
    pub fn set_total_len(&mut self, v: u16) {
        self.set_be16(field::LENGTH, v);
    }

    /// Sets Identification. RFC 791 §3.1.
    pub fn set_ident(&mut self, v: u16) {
        self.set_be16(field::IDENT, v);
    }

    /// Sets or clears Don't Fragment. RFC 791 §3.1.
    pub fn set_dont_frag(&mut self, set: bool) {
        self.set_flg_off(FLAG_DF, if set { FLAG_DF } else { 0 });
    }

    /// Sets or clears More Fragments. RFC 791 §3.1.
    pub fn set_more_frags(&mut self, set: bool) {
        self.set_flg_off(FLAG_MF, if set { FLAG_MF } else { 0 });
    }

    /// Sets Fragment Offset in units of 8 octets (13 bits). RFC 791 §3.1.
    pub fn set_frag_offset(&mut self, v: u16) {
        self.set_flg_off(OFFSET_MASK, v);
    }

    /// Clears the reserved flag, DF, MF and the offset together. RFC 791 §3.1.
    pub fn clear_flags(&mut self) {
        self.set_be16(field::FLG_OFF, 0);
    }

    /// Sets Time to Live without touching the checksum. RFC 791 §3.1.
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }

    /// Sets Protocol. RFC 791 §3.1.
    pub fn set_protocol(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = v.0;
    }

    /// Sets the Header Checksum field. RFC 791 §3.1.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_be16(field::CHECKSUM, v);
    }

    /// Sets Source Address. RFC 791 §3.1.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    /// Sets Destination Address. RFC 791 §3.1.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    /// The option bytes, mutable. RFC 791 §3.1.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[field::OPTIONS_START..end]
    }

    /// Computes and writes the header checksum. RFC 791 §3.1, RFC 1071.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(&self.buffer.as_ref()[..self.header_len()]);
        self.set_checksum(c);
    }

    /// Decrements TTL by one (not below zero) and patches the checksum incrementally;
    /// returns the new TTL. The caller decides what a TTL of 0 means. RFC 791 §3.2,
    /// RFC 1624 §3.
    #[inline]
    pub fn decrement_ttl(&mut self) -> u8 {
        let old_ttl = self.ttl();
        let new_ttl = old_ttl.saturating_sub(1);
        let proto = self.protocol().0;
        let old_word = u16::from_be_bytes([old_ttl, proto]);
        let new_word = u16::from_be_bytes([new_ttl, proto]);
        let c = checksum::update(self.checksum(), old_word, new_word);
        self.set_ttl(new_ttl);
        self.set_checksum(c);
        new_ttl
    }

    /// Rewrites DSCP and ECN and patches the checksum incrementally. RFC 2474 §3,
    /// RFC 3168 §5, RFC 1624 §3.
    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        let ver_ihl = self.buffer.as_ref()[field::VER_IHL];
        let old_word = u16::from_be_bytes([ver_ihl, self.buffer.as_ref()[field::DSCP_ECN]]);
        self.set_dscp_ecn_raw(dscp, ecn);
        let new_word = u16::from_be_bytes([ver_ihl, self.buffer.as_ref()[field::DSCP_ECN]]);
        let c = checksum::update(self.checksum(), old_word, new_word);
        self.set_checksum(c);
    }

    /// The data after the header up to Total Length, mutable. RFC 791 §3.1.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.header_len(), usize::from(self.total_len()));
        &mut self.buffer.as_mut()[start..end]
    }
}

/// IPv4 options carried inline without allocation: up to 40 bytes. RFC 791 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Options {
    bytes: [u8; MAX_OPTIONS_LEN],
    len: u8,
}

impl Default for Ipv4Options {
    fn default() -> Self {
        Ipv4Options::EMPTY
    }
}

impl Ipv4Options {
    /// No options.
    pub const EMPTY: Ipv4Options = Ipv4Options {
        bytes: [0; MAX_OPTIONS_LEN],
        len: 0,
    };

    /// Copies `options` after checking their TLV structure: more than 40 bytes is
    /// `Oversized`, a malformed option `BadOption`. RFC 791 §3.1.
    pub fn new(options: &[u8]) -> Result<Ipv4Options> {
        if options.len() > MAX_OPTIONS_LEN {
            return Err(Error::Oversized);
        }
        check_options(options)?;
        let mut bytes = [0; MAX_OPTIONS_LEN];
        bytes
            .get_mut(..options.len())
            .ok_or(Error::Oversized)?
            .copy_from_slice(options);
        Ok(Ipv4Options {
            bytes,
            len: options.len() as u8,
        })
    }

    /// The option bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(MAX_OPTIONS_LEN)]
    }

    /// Bytes these options take in a header, padded to a multiple of 4. RFC 791 §3.1.
    pub fn padded_len(&self) -> usize {
        (usize::from(self.len) + 3) & !3
    }
}

/// The fields of an IPv4 header. RFC 791 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source Address.
    pub src_addr: Ipv4Addr,
    /// Destination Address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Bytes of data after the header (Total Length − header length).
    pub payload_len: usize,
    /// Time to Live.
    pub ttl: u8,
    /// DSCP, 6 bits. RFC 2474 §3.
    pub dscp: u8,
    /// ECN, 2 bits. RFC 3168 §5.
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment Offset in units of 8 octets.
    pub frag_offset: u16,
    /// Options, padding included.
    pub options: Ipv4Options,
}

impl Ipv4Repr {
    /// Reads a checked header: the checksum (if `mode` says so, else `BadChecksum`) and the
    /// option TLVs (`BadOption`). RFC 791 §3.1.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>, mode: ChecksumMode) -> Result<Ipv4Repr> {
        packet.check_len()?;
        if mode == ChecksumMode::Verify && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let options = Ipv4Options::new(packet.options())?;
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
            ttl: packet.ttl(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            options,
        })
    }

    /// Length of the header this emits (20 plus padded options).
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.padded_len()
    }

    /// Length of the whole packet this describes.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// The 20-byte header without options, checksum filled.
    #[inline]
    fn header20(&self) -> [u8; HEADER_LEN] {
        let flags = (if self.dont_frag { FLAG_DF } else { 0 })
            | (if self.more_frags { FLAG_MF } else { 0 })
            | (self.frag_offset & OFFSET_MASK);
        let total = (HEADER_LEN + self.payload_len) as u16;
        let mut h = [0u8; HEADER_LEN];
        h[0] = 0x45;
        h[1] = (self.dscp << 2) | (self.ecn & 0x03);
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        h[6..8].copy_from_slice(&flags.to_be_bytes());
        h[8] = self.ttl;
        h[9] = self.protocol.0;
        h[12..16].copy_from_slice(&self.src_addr.octets());
        h[16..20].copy_from_slice(&self.dst_addr.octets());
        // Summed from the fields, not read back from the bytes just written.
        let (src, dst) = (self.src_addr.to_bits(), self.dst_addr.to_bits());
        let acc = u32::from_be_bytes([h[0], h[1], h[2], h[3]])
            + u32::from(self.ident)
            + u32::from(flags)
            + u32::from(u16::from_be_bytes([h[8], h[9]]))
            + (src >> 16)
            + (src & 0xffff)
            + (dst >> 16)
            + (dst & 0xffff);
        let sum = checksum::finish(acc);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h
    }

    /// Writes the header (options padded with EOL) and its checksum into `packet`, which
    /// must hold [`header_len`](Self::header_len) bytes. `payload_len` must keep the total
    /// length within 65535. RFC 791 §3.1.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        if self.options.padded_len() == 0 {
            // Every tunnel's outer header: built whole in registers, summed, and stored
            // once, rather than field by field through the buffer.
            let header = self.header20();
            if let Some(out) = packet.buffer.as_mut().get_mut(..HEADER_LEN) {
                out.copy_from_slice(&header);
            }
            return;
        }
        self.emit_fields(packet);
    }

    /// [`Self::emit`] field by field, options included.
    fn emit_fields<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        let header_len = self.header_len();
        packet.set_version_ihl(4, (header_len / 4) as u8);
        packet.set_dscp_ecn_raw(self.dscp, self.ecn);
        packet.set_total_len(self.buffer_len() as u16);
        packet.set_ident(self.ident);
        packet.clear_flags();
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        let options = packet.options_mut();
        options.fill(OPTION_END);
        let given = self.options.as_slice();
        options[..given.len()].copy_from_slice(given);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // DNS response header from a capture: 192.168.0.1 → 192.168.0.199, UDP, total 0x73.
    const CAPTURED_HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    fn captured_packet() -> Vec<u8> {
        let mut b = CAPTURED_HEADER.to_vec();
        b.resize(0x73, 0xab);
        b
    }

    // An IGMPv2 report with the Router Alert option (RFC 2113) as every host sends it:
    // 46 c0 00 20 00 00 40 00 01 02 <sum> 0a 00 00 01 e0 00 00 fb 94 04 00 00 + 8 bytes IGMP.
    fn router_alert_packet() -> Vec<u8> {
        let mut b = vec![
            0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x00, 0x00, 0x0a, 0x00,
            0x00, 0x01, 0xe0, 0x00, 0x00, 0xfb, 0x94, 0x04, 0x00, 0x00, 0x16, 0x00, 0x09, 0x04,
            0xe0, 0x00, 0x00, 0xfb,
        ];
        let c = checksum::checksum(&b[..24]);
        b[10..12].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn captured_udp_header_parses_with_its_fields() {
        let b = captured_packet();
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        let r = Ipv4Repr::parse(&p, ChecksumMode::Verify).unwrap();
        assert_eq!(r.src_addr, Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(r.dst_addr, Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(r.protocol, IpProtocol::UDP);
        assert_eq!(
            (r.ttl, r.dont_frag, r.more_frags, r.frag_offset),
            (64, true, false, 0)
        );
        assert_eq!(r.payload_len, 0x73 - 20);
        assert_eq!(r.options.as_slice(), &[] as &[u8]);
    }

    #[test]
    fn captured_header_round_trips_byte_for_byte() {
        let b = captured_packet();
        let r = Ipv4Repr::parse(
            &Ipv4Packet::new_checked(&b[..]).unwrap(),
            ChecksumMode::Verify,
        )
        .unwrap();
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(&out[..20], &CAPTURED_HEADER[..]);
    }

    #[test]
    fn router_alert_option_is_kept_and_re_emitted() {
        let b = router_alert_packet();
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.options(), &[0x94, 0x04, 0x00, 0x00]);
        assert_eq!((p.dscp(), p.ecn()), (48, 0));
        let r = Ipv4Repr::parse(&p, ChecksumMode::Verify).unwrap();
        assert_eq!(r.header_len(), 24);
        let mut out = vec![0u8; r.buffer_len()];
        let mut q = Ipv4Packet::new_unchecked(&mut out[..]);
        r.emit(&mut q);
        q.payload_mut().copy_from_slice(p.payload());
        assert_eq!(out, b);
    }

    #[test]
    fn short_buffer_is_truncated() {
        let b = captured_packet();
        assert_eq!(
            Ipv4Packet::new_checked(&b[..19]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn version_six_is_bad_version() {
        let mut b = captured_packet();
        b[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::BadVersion
        );
    }

    #[test]
    fn ihl_below_five_is_bad_header_length() {
        let mut b = captured_packet();
        b[0] = 0x44;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::BadHeaderLength
        );
    }

    #[test]
    fn ihl_beyond_buffer_is_truncated() {
        let mut b = CAPTURED_HEADER.to_vec();
        b[0] = 0x4f;
        b[2..4].copy_from_slice(&60u16.to_be_bytes());
        b.resize(40, 0);
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn total_length_below_header_is_bad_length() {
        let mut b = captured_packet();
        b[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::BadLength
        );
    }

    #[test]
    fn total_length_beyond_buffer_is_truncated() {
        let b = captured_packet();
        assert_eq!(
            Ipv4Packet::new_checked(&b[..0x72]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn link_padding_is_not_payload() {
        let mut b = captured_packet();
        b.extend_from_slice(&[0; 6]);
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload().len(), 0x73 - 20);
    }

    #[test]
    fn corrupted_checksum_is_bad_checksum_unless_ignored() {
        let mut b = captured_packet();
        b[11] ^= 1;
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            Ipv4Repr::parse(&p, ChecksumMode::Verify).unwrap_err(),
            Error::BadChecksum
        );
        assert!(Ipv4Repr::parse(&p, ChecksumMode::Ignore).is_ok());
    }

    #[test]
    fn option_with_length_one_is_bad_option() {
        let mut b = router_alert_packet();
        b[21] = 1;
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            Ipv4Repr::parse(&p, ChecksumMode::Ignore).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn option_running_past_header_is_bad_option() {
        let mut b = router_alert_packet();
        b[21] = 5;
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            Ipv4Repr::parse(&p, ChecksumMode::Ignore).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn option_without_length_byte_is_bad_option() {
        assert_eq!(check_options(&[1, 1, 1, 0x94]), Err(Error::BadOption));
    }

    #[test]
    fn nop_and_eol_options_are_accepted() {
        assert_eq!(check_options(&[1, 1, 0, 0xff]), Ok(()));
        assert_eq!(check_options(&[]), Ok(()));
    }

    #[test]
    fn more_than_forty_option_bytes_are_oversized() {
        assert_eq!(Ipv4Options::new(&[1; 41]), Err(Error::Oversized));
    }

    #[test]
    fn decrement_ttl_keeps_checksum_valid() {
        let mut b = captured_packet();
        let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
        for expected in (0..64u8).rev() {
            assert_eq!(p.decrement_ttl(), expected);
            assert!(p.verify_checksum(), "ttl {expected}");
        }
        assert_eq!(p.decrement_ttl(), 0);
        assert!(p.verify_checksum());
    }

    #[test]
    fn set_dscp_ecn_keeps_checksum_valid() {
        let mut b = router_alert_packet();
        let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
        p.set_dscp_ecn(46, 1);
        assert_eq!((p.dscp(), p.ecn()), (46, 1));
        assert!(p.verify_checksum());
        let incremental = p.checksum();
        p.fill_checksum();
        assert_eq!(p.checksum(), incremental);
    }

    fn arb_options() -> impl Strategy<Value = Ipv4Options> {
        // Well-formed TLVs: NOPs and generic options, EOL-padded to a multiple of 4.
        let option = prop_oneof![
            Just(vec![OPTION_NOP]),
            (2u8..=18, any::<u8>()).prop_map(|(len, fill)| {
                let mut o = vec![0x44, len];
                o.resize(usize::from(len), fill);
                o
            }),
        ];
        proptest::collection::vec(option, 0..5).prop_filter_map("fits in 40", |opts| {
            let mut bytes: Vec<u8> = opts.concat();
            while bytes.len() & 3 != 0 {
                bytes.push(OPTION_END);
            }
            Ipv4Options::new(&bytes).ok()
        })
    }

    prop_compose! {
        fn arb_repr()(
            src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(), protocol in any::<u8>(),
            payload_len in 0usize..100, ttl in any::<u8>(), dscp in 0u8..64, ecn in 0u8..4,
            ident in any::<u16>(), dont_frag in any::<bool>(), more_frags in any::<bool>(),
            frag_offset in 0u16..0x2000, options in arb_options(),
        ) -> Ipv4Repr {
            Ipv4Repr {
                src_addr: src.into(), dst_addr: dst.into(), protocol: IpProtocol(protocol),
                payload_len, ttl, dscp, ecn, ident, dont_frag, more_frags, frag_offset, options,
            }
        }
    }

    proptest! {
        #[test]
        fn the_whole_header_fast_path_matches_field_by_field(repr in arb_repr()) {
            let mut fast = vec![0u8; repr.buffer_len()];
            let mut slow = vec![0xa5u8; repr.buffer_len()];
            repr.emit(&mut Ipv4Packet::new_unchecked(&mut fast[..]));
            repr.emit_fields(&mut Ipv4Packet::new_unchecked(&mut slow[..]));
            let n = repr.header_len();
            prop_assert_eq!(&fast[..n], &slow[..n]);
        }

        #[test]
        fn parse_of_emit_is_identity(repr in arb_repr()) {
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
            let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Ipv4Repr::parse(&p, ChecksumMode::Verify).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Ipv4Packet::new_checked(&bytes[..]) {
                let _ = Ipv4Repr::parse(&p, ChecksumMode::Verify);
                let _ = Ipv4Repr::parse(&p, ChecksumMode::Ignore);
                let _ = (p.options(), p.payload());
            }
        }

        #[test]
        fn arbitrary_ipv4_headers_never_panic(
            ihl in 0u8..16, total in 0u16..80, mut rest in proptest::collection::vec(any::<u8>(), 20..80),
        ) {
            // Bytes that pass the version check, so the length and option paths are reached.
            rest[0] = 0x40 | ihl;
            rest[2..4].copy_from_slice(&total.to_be_bytes());
            if let Ok(p) = Ipv4Packet::new_checked(&rest[..]) {
                let _ = Ipv4Repr::parse(&p, ChecksumMode::Ignore);
            }
        }
    }
}
