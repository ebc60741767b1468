//! Byte-level writers and readers the mobility frames share: Ethernet, IPv4, IPv6, UDP,
//! GRE headers written in place into a frame buffer (no allocation), and NTP time.
//!
//! Every writer takes the whole frame and an offset, and the caller has sized the frame
//! (`put_*` index in bounds by construction: [`super::build`] computes every length
//! before writing). Readers check every length and return `None` on a short buffer.

use std::net::{Ipv4Addr, Ipv6Addr};

use mipdp_dataplane::wire::checksum;

/// Ethernet II header length.
pub const ETHERNET_LEN: usize = 14;
/// IPv4 header length without options.
pub const IPV4_LEN: usize = 20;
/// IPv6 fixed header length.
pub const IPV6_LEN: usize = 40;
/// UDP header length.
pub const UDP_LEN: usize = 8;
/// GRE base header length (RFC 2784 §2, no optional fields).
pub const GRE_LEN: usize = 4;
/// Minimal forwarding header without the original source (RFC 2004 §3).
pub const MINIMAL_LEN: usize = 8;
/// Minimal forwarding header with the original source (S set, RFC 2004 §3).
pub const MINIMAL_WITH_SOURCE_LEN: usize = 12;
/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// IP protocol numbers.
pub mod protocol {
    /// IPv6 Hop-by-Hop Options.
    pub const HOP_BY_HOP: u8 = 0;
    /// IPv4 in IP (RFC 2003) / IPv4 in IPv6 (RFC 2473).
    pub const IPV4: u8 = 4;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 in IP (RFC 2473, RFC 4213).
    pub const IPV6: u8 = 41;
    /// IPv6 Routing header.
    pub const ROUTING: u8 = 43;
    /// GRE (RFC 2784).
    pub const GRE: u8 = 47;
    /// Minimal Encapsulation within IP (RFC 2004).
    pub const MINIMAL: u8 = 55;
    /// IPv6 Destination Options.
    pub const DESTINATION_OPTIONS: u8 = 60;
    /// Mobility Header (RFC 6275 §6.1).
    pub const MOBILITY: u8 = 135;
}

/// Seconds from the NTP era (1900) to the Unix epoch (1970). RFC 5905 §6.
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// `unix_ns` (nanoseconds since 1970) as a 64-bit NTP timestamp: seconds since 1900 in
/// the high 32 bits, the fraction in the low 32 bits. RFC 5905 §6, RFC 5944 §5.7.1.
#[inline]
pub fn ntp_from_unix_ns(unix_ns: u64) -> u64 {
    let secs = (unix_ns / 1_000_000_000).wrapping_add(NTP_UNIX_OFFSET) & 0xffff_ffff;
    let frac = ((unix_ns % 1_000_000_000) << 32) / 1_000_000_000;
    secs << 32 | frac
}

/// Writes the Ethernet II header at the start of `frame`.
#[inline]
pub fn put_ethernet(frame: &mut [u8], dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    frame[0..6].copy_from_slice(&dst);
    frame[6..12].copy_from_slice(&src);
    put_u16(frame, 12, ethertype);
}

/// An IPv4 header to write (no options).
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Header {
    /// Total length of the packet.
    pub total_len: u16,
    /// Time to live.
    pub ttl: u8,
    /// Payload protocol.
    pub protocol: u8,
    /// Source.
    pub src: Ipv4Addr,
    /// Destination.
    pub dst: Ipv4Addr,
    /// Don't Fragment.
    pub dont_fragment: bool,
}

impl Ipv4Header {
    /// Writes the header, checksum included, at `at`. Identification 0 (RFC 6864 §4.1:
    /// atomic datagrams) when DF is set; otherwise `ident`.
    #[inline]
    pub fn put(&self, frame: &mut [u8], at: usize, ident: u16) {
        let h = &mut frame[at..at + IPV4_LEN];
        h[0] = 0x45;
        h[1] = 0;
        h[2..4].copy_from_slice(&self.total_len.to_be_bytes());
        let (id, flags) = if self.dont_fragment {
            (0, 0x4000u16)
        } else {
            (ident, 0)
        };
        h[4..6].copy_from_slice(&id.to_be_bytes());
        h[6..8].copy_from_slice(&flags.to_be_bytes());
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[10..12].fill(0);
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let sum = checksum::checksum(h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
    }
}

/// Writes an IPv6 header at `at`: traffic class and flow label 0.
#[inline]
pub fn put_ipv6(
    frame: &mut [u8],
    at: usize,
    payload_len: u16,
    next_header: u8,
    hop_limit: u8,
    src: Ipv6Addr,
    dst: Ipv6Addr,
) {
    let h = &mut frame[at..at + IPV6_LEN];
    h[0..4].copy_from_slice(&[0x60, 0, 0, 0]);
    h[4..6].copy_from_slice(&payload_len.to_be_bytes());
    h[6] = next_header;
    h[7] = hop_limit;
    h[8..24].copy_from_slice(&src.octets());
    h[24..40].copy_from_slice(&dst.octets());
}

/// Writes a GRE base header (RFC 2784 §2: no checksum, version 0) for `protocol_type`.
#[inline]
pub fn put_gre(frame: &mut [u8], at: usize, protocol_type: u16) {
    put_u16(frame, at, 0);
    put_u16(frame, at + 2, protocol_type);
}

/// Writes the UDP header at `at` for a datagram of `udp_len` bytes and fills its checksum
/// from `pseudo` (a pseudo-header partial sum). Only the first `significant` bytes of the
/// datagram are summed: the caller guarantees the rest is zero (padding), which adds
/// nothing to a ones' complement sum. A computed 0 is sent as 0xffff (RFC 768).
#[inline]
pub fn put_udp(
    frame: &mut [u8],
    at: usize,
    ports: (u16, u16),
    udp_len: usize,
    pseudo: u32,
    significant: usize,
) {
    put_u16(frame, at, ports.0);
    put_u16(frame, at + 2, ports.1);
    put_u16(frame, at + 4, udp_len as u16);
    put_u16(frame, at + 6, 0);
    let end = at + significant.min(udp_len);
    let sum = checksum::finish(checksum::combine(&[pseudo, checksum::sum(&frame[at..end])]));
    put_u16(frame, at + 6, if sum == 0 { 0xffff } else { sum });
}

/// Big-endian u16 store.
#[inline]
pub fn put_u16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Big-endian u32 store.
#[inline]
pub fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Big-endian u64 store.
#[inline]
pub fn put_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// Big-endian u16 load; `None` past the end.
#[inline]
pub fn get_u16(buf: &[u8], at: usize) -> Option<u16> {
    let b = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

/// Big-endian u32 load; `None` past the end.
#[inline]
pub fn get_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Big-endian u64 load; `None` past the end.
#[inline]
pub fn get_u64(buf: &[u8], at: usize) -> Option<u64> {
    let b = buf.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_be_bytes(a))
}

/// IPv4 address load; `None` past the end.
#[inline]
pub fn get_ipv4(buf: &[u8], at: usize) -> Option<Ipv4Addr> {
    get_u32(buf, at).map(Ipv4Addr::from_bits)
}

/// IPv6 address load; `None` past the end.
#[inline]
pub fn get_ipv6(buf: &[u8], at: usize) -> Option<Ipv6Addr> {
    let b = buf.get(at..at.checked_add(16)?)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    Some(Ipv6Addr::from(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_timestamps_count_from_1900_with_a_binary_fraction() {
        assert_eq!(ntp_from_unix_ns(0), NTP_UNIX_OFFSET << 32);
        assert_eq!(
            ntp_from_unix_ns(1_500_000_000),
            (NTP_UNIX_OFFSET + 1) << 32 | 0x8000_0000
        );
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        let mut f = [0u8; 40];
        Ipv4Header {
            total_len: 20,
            ttl: 7,
            protocol: 4,
            src: Ipv4Addr::new(1, 2, 3, 4),
            dst: Ipv4Addr::new(5, 6, 7, 8),
            dont_fragment: false,
        }
        .put(&mut f, 10, 0x1234);
        assert!(checksum::verifies(&f[10..30]));
        assert_eq!(get_u16(&f, 14), Some(0x1234));
        assert_eq!(get_ipv4(&f, 26), Some(Ipv4Addr::new(5, 6, 7, 8)));
        assert_eq!(get_u64(&f, 35), None);
    }
}
