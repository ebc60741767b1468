//! Probe frames: Ethernet II / IPv4 / UDP carrying a magic number, a sequence number and
//! a transmit timestamp; built from a per-run template and parsed back on receipt.
//!
//! Sizes are Ethernet frame lengths as the mbuf holds them, *without* the 4-byte FCS the
//! NIC appends (the same convention as `dpdk-testpmd --txpkts`): `--size 64` puts a
//! 64-byte frame in the buffer, 68 bytes on the wire. A frame that counts the FCS could
//! not hold the 42 bytes of headers plus the 20-byte probe in 60 bytes.
//!
//! Layout (offsets in the frame, all fields big-endian):
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 14 | Ethernet II: destination MAC, source MAC, EtherType 0x0800 |
//! | 14 | 20 | IPv4 (RFC 791): no options, DF set, identification 0 (RFC 6864 §4.1), TTL 64 |
//! | 34 | 8 | UDP (RFC 768), checksum computed over the pseudo-header (never 0) |
//! | 42 | 4 | [`PROBE_MAGIC`] |
//! | 46 | 8 | sequence number |
//! | 54 | 8 | transmit timestamp, ns since the run started (monotonic clock) |
//! | 62 | .. | zero padding up to the frame size |
//!
//! Flow `i` of `K` sends to destination address `dst_ip + i` (sequence `s` is in flow
//! `s % K`), so that RSS on the device under test spreads the flows over its queues.

use std::net::Ipv4Addr;

/// Ethernet II header length.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// IPv4 header length without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// UDP header length.
pub const UDP_HEADER_LEN: usize = 8;
/// Bytes in front of the probe: Ethernet + IPv4 + UDP.
pub const HEADERS_LEN: usize = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN;
/// Probe bytes: magic (4), sequence number (8), timestamp (8).
pub const PROBE_LEN: usize = 20;
/// Smallest frame (without FCS) a probe is sent in: the Ethernet minimum of 60 would not
/// hold headers and probe, so 64.
pub const MIN_FRAME_LEN: usize = 64;
/// Largest frame (without FCS): a 1500-byte IPv4 packet in Ethernet II.
pub const MAX_FRAME_LEN: usize = ETHERNET_HEADER_LEN + 1500;
/// Most flows one run may spread its destination addresses over.
pub const MAX_FLOWS: u32 = 1 << 20;
/// The first four payload bytes of every probe: "MPDG" (mipdp generator).
pub const PROBE_MAGIC: u32 = 0x4d50_4447;

/// EtherType of IPv4.
const ETHERTYPE_IPV4: u16 = 0x0800;
/// IP protocol number of UDP.
const IP_PROTOCOL_UDP: u8 = 17;
/// TTL of generated packets.
const DEFAULT_TTL: u8 = 64;
/// IPv4 flags/fragment-offset word with Don't Fragment set and offset 0.
const IPV4_DONT_FRAGMENT: u16 = 0x4000;

/// Byte offsets of the fields the generator and the parser touch.
mod field {
    pub const ETHERTYPE: usize = 12;
    pub const IP: usize = super::ETHERNET_HEADER_LEN;
    pub const IP_TOTAL_LEN: usize = IP + 2;
    pub const IP_FLAGS_FRAGMENT: usize = IP + 6;
    pub const IP_TTL: usize = IP + 8;
    pub const IP_PROTOCOL: usize = IP + 9;
    pub const IP_CHECKSUM: usize = IP + 10;
    pub const IP_SRC: usize = IP + 12;
    pub const IP_DST: usize = IP + 16;
    /// The UDP header when the IPv4 header has no options.
    pub const UDP: usize = IP + super::IPV4_HEADER_LEN;
    pub const PROBE: usize = super::HEADERS_LEN;
}

/// Offsets inside the UDP header.
mod udp_field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

/// Offsets inside the probe (the UDP payload).
mod probe_field {
    pub const MAGIC: usize = 0;
    pub const SEQUENCE: usize = 4;
    pub const TIMESTAMP: usize = 12;
}

/// Why a frame cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The frame size is outside [`MIN_FRAME_LEN`]..=[`MAX_FRAME_LEN`].
    #[error("frame size {0} is outside {MIN_FRAME_LEN}..={MAX_FRAME_LEN} bytes (sizes exclude the 4-byte FCS)")]
    BadSize(usize),
    /// The flow count is outside 1..=[`MAX_FLOWS`].
    #[error("flow count {0} is outside 1..={MAX_FLOWS}")]
    BadFlows(u32),
    /// The buffer to write into is not exactly the frame size.
    #[error("buffer of {got} bytes for a {want}-byte frame")]
    BufferSize {
        /// The buffer's length.
        got: usize,
        /// The frame size.
        want: usize,
    },
}

/// Why a received frame is not one of our probes. Never a panic: every length is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Shorter than its headers and probe, or than its own length fields say.
    #[error("truncated frame")]
    Truncated,
    /// Not IPv4 in Ethernet II.
    #[error("not an IPv4 frame")]
    NotIpv4,
    /// IPv4 version or header length field is invalid.
    #[error("malformed IPv4 header")]
    BadIpv4Header,
    /// A fragment (only whole datagrams carry a probe).
    #[error("IPv4 fragment")]
    Fragment,
    /// Not UDP.
    #[error("not UDP")]
    NotUdp,
    /// The UDP length field is smaller than a header or larger than the IPv4 payload.
    #[error("bad UDP length")]
    BadUdpLength,
    /// The payload does not start with [`PROBE_MAGIC`].
    #[error("no probe magic")]
    WrongMagic,
    /// The IPv4 header checksum is wrong.
    #[error("bad IPv4 header checksum")]
    BadIpv4Checksum,
    /// The UDP checksum is wrong.
    #[error("bad UDP checksum")]
    BadUdpChecksum,
}

/// Addresses, ports and size of the probe frames of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    /// Ethernet source.
    pub src_mac: [u8; 6],
    /// Ethernet destination.
    pub dst_mac: [u8; 6],
    /// IPv4 source.
    pub src_ip: Ipv4Addr,
    /// IPv4 destination of flow 0; flow `i` sends to `dst_ip + i`.
    pub dst_ip: Ipv4Addr,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// Frame length without FCS, [`MIN_FRAME_LEN`]..=[`MAX_FRAME_LEN`].
    pub frame_len: usize,
    /// Number of flows (destination addresses), 1..=[`MAX_FLOWS`].
    pub flows: u32,
}

/// What a probe carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Sequence number, from 0 in transmit order.
    pub sequence: u64,
    /// Transmit time in ns since the run started.
    pub tx_ns: u64,
    /// IPv4 destination (tells the flow).
    pub dst_ip: Ipv4Addr,
}

/// Per-flow values that differ from flow 0's: destination address and the checksums.
#[derive(Debug, Clone, Copy)]
struct FlowSums {
    dst_ip: [u8; 4],
    ip_checksum: u16,
    /// Ones' complement sum (folded, not complemented) of the UDP pseudo-header, header
    /// and payload with the sequence number and timestamp zero.
    udp_partial: u16,
}

/// A frame with everything but the per-packet fields filled in, and each flow's
/// checksums, so that writing a packet is a copy plus a few stores (no allocation).
#[derive(Debug, Clone)]
pub struct FrameTemplate {
    bytes: Vec<u8>,
    flows: Vec<FlowSums>,
}

impl FrameTemplate {
    /// Builds the template for `spec` (allocates once per run).
    pub fn new(spec: &FrameSpec) -> Result<FrameTemplate, BuildError> {
        let len = spec.frame_len;
        if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&len) {
            return Err(BuildError::BadSize(len));
        }
        if !(1..=MAX_FLOWS).contains(&spec.flows) {
            return Err(BuildError::BadFlows(spec.flows));
        }
        let mut bytes = vec![0u8; len];
        bytes[0..6].copy_from_slice(&spec.dst_mac);
        bytes[6..12].copy_from_slice(&spec.src_mac);
        put_u16(&mut bytes, field::ETHERTYPE, ETHERTYPE_IPV4);
        bytes[field::IP] = 0x45; // version 4, header length 5 words
        put_u16(
            &mut bytes,
            field::IP_TOTAL_LEN,
            (len - ETHERNET_HEADER_LEN) as u16,
        );
        put_u16(&mut bytes, field::IP_FLAGS_FRAGMENT, IPV4_DONT_FRAGMENT);
        bytes[field::IP_TTL] = DEFAULT_TTL;
        bytes[field::IP_PROTOCOL] = IP_PROTOCOL_UDP;
        bytes[field::IP_SRC..field::IP_SRC + 4].copy_from_slice(&spec.src_ip.octets());
        let udp = field::UDP;
        put_u16(&mut bytes, udp + udp_field::SRC_PORT, spec.src_port);
        put_u16(&mut bytes, udp + udp_field::DST_PORT, spec.dst_port);
        put_u16(&mut bytes, udp + udp_field::LENGTH, (len - udp) as u16);
        put_u32(&mut bytes, field::PROBE + probe_field::MAGIC, PROBE_MAGIC);

        let base = u32::from(spec.dst_ip);
        let mut flows = Vec::with_capacity(spec.flows as usize);
        for i in 0..spec.flows {
            let dst = Ipv4Addr::from(base.wrapping_add(i)).octets();
            bytes[field::IP_DST..field::IP_DST + 4].copy_from_slice(&dst);
            bytes[field::IP_CHECKSUM..field::IP_CHECKSUM + 2].fill(0);
            let ip_checksum = internet_checksum(&bytes[field::IP..field::UDP]);
            let udp_partial = fold(
                pseudo_header_sum(&bytes[field::IP..field::UDP], len - udp)
                    + ones_sum(&bytes[field::UDP..]),
            );
            flows.push(FlowSums {
                dst_ip: dst,
                ip_checksum,
                udp_partial,
            });
        }
        Ok(FrameTemplate { bytes, flows })
    }

    /// Frame length without FCS.
    pub fn frame_len(&self) -> usize {
        self.bytes.len()
    }

    /// Number of flows.
    pub fn flows(&self) -> u32 {
        self.flows.len() as u32
    }

    /// Writes probe `sequence` sent at `tx_ns` into `out`, which must be exactly
    /// [`frame_len`](Self::frame_len) bytes. Allocates nothing.
    #[inline]
    pub fn write(&self, out: &mut [u8], sequence: u64, tx_ns: u64) -> Result<(), BuildError> {
        if out.len() != self.bytes.len() {
            return Err(BuildError::BufferSize {
                got: out.len(),
                want: self.bytes.len(),
            });
        }
        let flow = &self.flows[(sequence % self.flows.len() as u64) as usize];
        out.copy_from_slice(&self.bytes);
        out[field::IP_DST..field::IP_DST + 4].copy_from_slice(&flow.dst_ip);
        put_u16(out, field::IP_CHECKSUM, flow.ip_checksum);
        put_u64(out, field::PROBE + probe_field::SEQUENCE, sequence);
        put_u64(out, field::PROBE + probe_field::TIMESTAMP, tx_ns);
        // The zeroed fields contributed nothing to the partial sum, so adding their new
        // 16-bit words gives the full sum (RFC 1624 with old words 0). Both fields sit at
        // even offsets of the UDP segment, so their words align with the sum's.
        let sum = u32::from(flow.udp_partial) + u64_words_sum(sequence) + u64_words_sum(tx_ns);
        let checksum = !fold(sum);
        // RFC 768: a computed 0 is sent as all ones (0 means "no checksum").
        let checksum = if checksum == 0 { 0xffff } else { checksum };
        put_u16(out, field::UDP + udp_field::CHECKSUM, checksum);
        Ok(())
    }
}

/// Builds one probe frame into a new buffer (allocates: for tests and one-off frames;
/// the generator uses [`FrameTemplate::write`]).
pub fn build_frame(spec: &FrameSpec, sequence: u64, tx_ns: u64) -> Result<Vec<u8>, BuildError> {
    let template = FrameTemplate::new(spec)?;
    let mut out = vec![0u8; template.frame_len()];
    template.write(&mut out, sequence, tx_ns)?;
    Ok(out)
}

/// Reads the probe out of a received frame. Checks the structure (Ethernet II, IPv4
/// without fragmentation, UDP, lengths, magic) but not the checksums, which a device
/// under test rewrites; [`verify_checksums`] checks those.
#[inline]
pub fn parse_probe(frame: &[u8]) -> Result<Probe, ParseError> {
    let udp = udp_offset(frame)?;
    let udp_len = usize::from(get_u16(frame, udp + udp_field::LENGTH));
    if udp_len < UDP_HEADER_LEN + PROBE_LEN {
        return Err(ParseError::Truncated);
    }
    let probe = udp + UDP_HEADER_LEN;
    if get_u32(frame, probe + probe_field::MAGIC) != PROBE_MAGIC {
        return Err(ParseError::WrongMagic);
    }
    let dst = field::IP_DST;
    Ok(Probe {
        sequence: get_u64(frame, probe + probe_field::SEQUENCE),
        tx_ns: get_u64(frame, probe + probe_field::TIMESTAMP),
        dst_ip: Ipv4Addr::new(frame[dst], frame[dst + 1], frame[dst + 2], frame[dst + 3]),
    })
}

/// Checks the IPv4 header checksum and the UDP checksum (0 = none sent, accepted for
/// UDP over IPv4 as RFC 768 allows).
pub fn verify_checksums(frame: &[u8]) -> Result<(), ParseError> {
    let udp = udp_offset(frame)?;
    let ip_header = &frame[field::IP..udp];
    if fold(ones_sum(ip_header)) != 0xffff {
        return Err(ParseError::BadIpv4Checksum);
    }
    let udp_len = usize::from(get_u16(frame, udp + udp_field::LENGTH));
    if get_u16(frame, udp + udp_field::CHECKSUM) == 0 {
        return Ok(());
    }
    let sum = pseudo_header_sum(ip_header, udp_len) + ones_sum(&frame[udp..udp + udp_len]);
    if fold(sum) != 0xffff {
        return Err(ParseError::BadUdpChecksum);
    }
    Ok(())
}

/// Validates Ethernet, IPv4 and the UDP length; returns where the UDP header starts.
fn udp_offset(frame: &[u8]) -> Result<usize, ParseError> {
    if frame.len() < field::IP + IPV4_HEADER_LEN {
        return Err(ParseError::Truncated);
    }
    if get_u16(frame, field::ETHERTYPE) != ETHERTYPE_IPV4 {
        return Err(ParseError::NotIpv4);
    }
    let version_ihl = frame[field::IP];
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    if version_ihl >> 4 != 4 || header_len < IPV4_HEADER_LEN {
        return Err(ParseError::BadIpv4Header);
    }
    let total_len = usize::from(get_u16(frame, field::IP_TOTAL_LEN));
    if total_len < header_len {
        return Err(ParseError::BadIpv4Header);
    }
    if field::IP + total_len > frame.len() {
        return Err(ParseError::Truncated);
    }
    // More-fragments flag or a non-zero offset: a piece of a datagram.
    if get_u16(frame, field::IP_FLAGS_FRAGMENT) & 0x3fff != 0 {
        return Err(ParseError::Fragment);
    }
    if frame[field::IP_PROTOCOL] != IP_PROTOCOL_UDP {
        return Err(ParseError::NotUdp);
    }
    let udp = field::IP + header_len;
    if total_len - header_len < UDP_HEADER_LEN {
        return Err(ParseError::Truncated);
    }
    let udp_len = usize::from(get_u16(frame, udp + udp_field::LENGTH));
    if udp_len < UDP_HEADER_LEN || udp_len > total_len - header_len {
        return Err(ParseError::BadUdpLength);
    }
    Ok(udp)
}

/// RFC 1071 Internet checksum of `data`: the complemented ones' complement sum.
pub fn internet_checksum(data: &[u8]) -> u16 {
    !fold(ones_sum(data))
}

/// Ones' complement sum of the IPv4 pseudo-header (RFC 768: source, destination, zero,
/// protocol, UDP length) for a UDP datagram of `udp_len` bytes after `ip_header`, unfolded.
fn pseudo_header_sum(ip_header: &[u8], udp_len: usize) -> u32 {
    ones_sum(&ip_header[12..20]) + u32::from(ip_header[9]) + udp_len as u32
}

/// Sum of `data` as big-endian 16-bit words (an odd last byte padded with zero),
/// unfolded. Frames are at most a few kB, far from overflowing 32 bits.
fn ones_sum(data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    let mut sum: u32 = 0;
    for word in &mut chunks {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

/// The four 16-bit words of `v` added up.
#[inline]
fn u64_words_sum(v: u64) -> u32 {
    ((v >> 48) & 0xffff) as u32
        + ((v >> 32) & 0xffff) as u32
        + ((v >> 16) & 0xffff) as u32
        + (v & 0xffff) as u32
}

/// Folds carries back in until the sum fits 16 bits.
#[inline]
fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[inline]
fn put_u16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

#[inline]
fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[inline]
fn put_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// Callers have checked `at + 2 <= buf.len()`.
#[inline]
fn get_u16(buf: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([buf[at], buf[at + 1]])
}

#[inline]
fn get_u32(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_be_bytes(b)
}

#[inline]
fn get_u64(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(frame_len: usize, flows: u32) -> FrameSpec {
        FrameSpec {
            src_mac: [0x02, 0, 0, 0, 0, 0x01],
            dst_mac: [0x02, 0, 0, 0, 0, 0x02],
            src_ip: Ipv4Addr::new(198, 51, 100, 1),
            dst_ip: Ipv4Addr::new(203, 0, 113, 1),
            src_port: 9,
            dst_port: 9,
            frame_len,
            flows,
        }
    }

    /// The UDP checksum the slow way, straight from RFC 768 (pseudo-header built as
    /// bytes, summed with a plain loop): an independent check of the incremental one.
    fn reference_udp_checksum(frame: &[u8]) -> u16 {
        let ip = &frame[14..34];
        let udp = &frame[34..];
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&ip[12..20]);
        bytes.push(0);
        bytes.push(17);
        bytes.extend_from_slice(&(udp.len() as u16).to_be_bytes());
        bytes.extend_from_slice(&udp[..6]);
        bytes.extend_from_slice(&[0, 0]);
        bytes.extend_from_slice(&udp[8..]);
        if bytes.len() % 2 == 1 {
            bytes.push(0);
        }
        let mut sum: u64 = 0;
        for w in bytes.chunks(2) {
            sum += u64::from(w[0]) << 8 | u64::from(w[1]);
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let c = !(sum as u16);
        if c == 0 {
            0xffff
        } else {
            c
        }
    }

    #[test]
    fn build_then_parse_gives_back_sequence_timestamp_and_flow() {
        let t = FrameTemplate::new(&spec(64, 4)).unwrap();
        let mut buf = [0u8; 64];
        for seq in [0u64, 1, 2, 3, 4, 1 << 40, u64::MAX] {
            let ts = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            t.write(&mut buf, seq, ts).unwrap();
            let p = parse_probe(&buf).unwrap();
            assert_eq!(p.sequence, seq);
            assert_eq!(p.tx_ns, ts);
            assert_eq!(p.dst_ip, Ipv4Addr::new(203, 0, 113, 1 + (seq % 4) as u8));
            verify_checksums(&buf).unwrap();
        }
    }

    #[test]
    fn ipv4_header_checksum_matches_a_known_header() {
        // The classic worked example (Wikipedia "IPv4 header checksum"): 0xb861.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(internet_checksum(&header), 0xb861);
    }

    /// Bytes made by scapy 2.8 (`Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01")
    /// / IP(src="198.51.100.1", dst="203.0.113.2", flags="DF", id=0, ttl=64)
    /// / UDP(sport=9, dport=9) / Raw(magic + seq 0x0102030405060709 + ts 0x1122334455667788
    /// + 2 zero bytes)`), i.e. flow 1 of 2: checksums computed by another implementation.
    const SCAPY_FRAME: [u8; 64] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x32, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xd4, 0x83, 0xc6, 0x33, 0x64, 0x01,
        0xcb, 0x00, 0x71, 0x02, 0x00, 0x09, 0x00, 0x09, 0x00, 0x1e, 0xe6, 0x66, 0x4d, 0x50, 0x44,
        0x47, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
        0x77, 0x88, 0x00, 0x00,
    ];

    #[test]
    fn built_frame_matches_scapy_bytes() {
        // Sequence 0x0102030405060709 is odd: flow 1 of 2, destination 203.0.113.2.
        let frame = build_frame(&spec(64, 2), 0x0102_0304_0506_0709, 0x1122_3344_5566_7788);
        assert_eq!(frame.unwrap(), SCAPY_FRAME);
        verify_checksums(&SCAPY_FRAME).unwrap();
    }

    #[test]
    fn incremental_udp_checksum_equals_full_computation() {
        for len in [64, 65, 127, 128, 1000, 1514] {
            let t = FrameTemplate::new(&spec(len, 7)).unwrap();
            let mut buf = vec![0u8; len];
            for seq in [0u64, 5, 0xffff, 0xffff_ffff_ffff, u64::MAX - 1] {
                for ts in [0u64, 1, 0xfffe_ffff_0001_0000, u64::MAX] {
                    t.write(&mut buf, seq, ts).unwrap();
                    let got = u16::from_be_bytes([buf[40], buf[41]]);
                    assert_eq!(
                        got,
                        reference_udp_checksum(&buf),
                        "len {len} seq {seq} ts {ts}"
                    );
                    let ip_sum = u16::from_be_bytes([buf[24], buf[25]]);
                    let mut header = buf[14..34].to_vec();
                    header[10] = 0;
                    header[11] = 0;
                    assert_eq!(ip_sum, internet_checksum(&header));
                    verify_checksums(&buf).unwrap();
                }
            }
        }
    }

    #[test]
    fn a_zero_udp_checksum_is_sent_as_all_ones() {
        // Search for a sequence number whose checksum computes to 0 and check it is sent
        // as 0xffff (RFC 768), which still verifies.
        let t = FrameTemplate::new(&spec(64, 1)).unwrap();
        let mut buf = [0u8; 64];
        t.write(&mut buf, 0, 0).unwrap();
        let c0 = u16::from_be_bytes([buf[40], buf[41]]);
        // Adding (c0) to the last sequence word lowers the complemented sum to 0 (or 0xffff).
        let seq = u64::from(c0);
        t.write(&mut buf, seq, 0).unwrap();
        assert_eq!(u16::from_be_bytes([buf[40], buf[41]]), 0xffff);
        verify_checksums(&buf).unwrap();
    }

    #[test]
    fn flows_cycle_through_consecutive_destinations() {
        let t = FrameTemplate::new(&spec(64, 3)).unwrap();
        let mut buf = [0u8; 64];
        let dsts: Vec<u8> = (0..7)
            .map(|s| {
                t.write(&mut buf, s, 0).unwrap();
                parse_probe(&buf).unwrap().dst_ip.octets()[3]
            })
            .collect();
        assert_eq!(dsts, [1, 2, 3, 1, 2, 3, 1]);
    }

    #[test]
    fn destination_addresses_wrap_without_panicking() {
        let mut s = spec(64, 3);
        s.dst_ip = Ipv4Addr::new(255, 255, 255, 255);
        let frame = build_frame(&s, 1, 0).unwrap();
        assert_eq!(
            parse_probe(&frame).unwrap().dst_ip,
            Ipv4Addr::new(0, 0, 0, 0)
        );
        verify_checksums(&frame).unwrap();
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let mut frame = build_frame(&spec(64, 1), 7, 7).unwrap();
        frame[42] ^= 0x01;
        assert_eq!(parse_probe(&frame), Err(ParseError::WrongMagic));
    }

    #[test]
    fn every_truncation_is_rejected_without_panicking() {
        let frame = build_frame(&spec(100, 1), 7, 7).unwrap();
        for len in 0..frame.len() {
            // The frame has no padding, so every cut is shorter than its IPv4 total length.
            let cut = &frame[..len];
            let r = parse_probe(cut);
            assert!(r.is_err(), "cut at {len} parsed: {r:?}");
        }
        assert!(parse_probe(&frame).is_ok());
    }

    #[test]
    fn ethernet_padding_after_the_ip_packet_is_ignored() {
        let mut frame = build_frame(&spec(64, 1), 3, 4).unwrap();
        frame.extend_from_slice(&[0xee; 10]);
        assert_eq!(parse_probe(&frame).unwrap().sequence, 3);
        verify_checksums(&frame).unwrap();
    }

    #[test]
    fn other_traffic_is_rejected_with_a_reason() {
        let good = build_frame(&spec(64, 1), 1, 1).unwrap();
        let mut arp = good.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(parse_probe(&arp), Err(ParseError::NotIpv4));
        let mut tcp = good.clone();
        tcp[23] = 6;
        assert_eq!(parse_probe(&tcp), Err(ParseError::NotUdp));
        let mut v6 = good.clone();
        v6[14] = 0x65;
        assert_eq!(parse_probe(&v6), Err(ParseError::BadIpv4Header));
        let mut ihl = good.clone();
        ihl[14] = 0x44;
        assert_eq!(parse_probe(&ihl), Err(ParseError::BadIpv4Header));
        let mut fragment = good.clone();
        fragment[20] = 0x20; // more fragments
        assert_eq!(parse_probe(&fragment), Err(ParseError::Fragment));
        let mut long_udp = good.clone();
        long_udp[38..40].copy_from_slice(&100u16.to_be_bytes());
        assert_eq!(parse_probe(&long_udp), Err(ParseError::BadUdpLength));
        let mut short_udp = good.clone();
        short_udp[38..40].copy_from_slice(&12u16.to_be_bytes());
        assert_eq!(parse_probe(&short_udp), Err(ParseError::Truncated));
        let mut long_ip = good;
        long_ip[16..18].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(parse_probe(&long_ip), Err(ParseError::Truncated));
    }

    #[test]
    fn corrupted_checksums_are_detected() {
        let good = build_frame(&spec(80, 1), 9, 9).unwrap();
        let mut ip = good.clone();
        ip[22] -= 1; // TTL changed, checksum not updated
        assert_eq!(verify_checksums(&ip), Err(ParseError::BadIpv4Checksum));
        let mut payload = good.clone();
        payload[70] = 0x55;
        assert_eq!(verify_checksums(&payload), Err(ParseError::BadUdpChecksum));
        let mut none = payload;
        none[40..42].fill(0);
        assert_eq!(verify_checksums(&none), Ok(()), "UDP checksum 0 means none");
    }

    #[test]
    fn options_in_the_ipv4_header_move_the_probe() {
        // A device under test may add options: the parser follows the header length.
        let plain = build_frame(&spec(64, 1), 42, 43).unwrap();
        let mut frame = plain[..34].to_vec();
        frame[14] = 0x46;
        let total = u16::from_be_bytes([frame[16], frame[17]]) + 4;
        frame[16..18].copy_from_slice(&total.to_be_bytes());
        frame.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
        frame.extend_from_slice(&plain[34..]);
        let p = parse_probe(&frame).unwrap();
        assert_eq!((p.sequence, p.tx_ns), (42, 43));
    }

    #[test]
    fn sizes_and_flow_counts_out_of_range_are_refused() {
        assert_eq!(
            FrameTemplate::new(&spec(63, 1)).err(),
            Some(BuildError::BadSize(63))
        );
        assert_eq!(
            FrameTemplate::new(&spec(1515, 1)).err(),
            Some(BuildError::BadSize(1515))
        );
        assert_eq!(
            FrameTemplate::new(&spec(64, 0)).err(),
            Some(BuildError::BadFlows(0))
        );
        let t = FrameTemplate::new(&spec(64, 1)).unwrap();
        let mut small = [0u8; 60];
        assert_eq!(
            t.write(&mut small, 0, 0),
            Err(BuildError::BufferSize { got: 60, want: 64 })
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser() {
        // A cheap deterministic fuzz: xorshift bytes of every length up to 200.
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut buf = [0u8; 200];
        for len in 0..200 {
            for _ in 0..50 {
                for b in buf.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                // Make many of them reach the deeper checks.
                if len > 24 {
                    buf[12] = 0x08;
                    buf[13] = 0x00;
                    buf[14] = 0x45;
                    buf[23] = 17;
                }
                let _ = parse_probe(&buf[..len]);
                let _ = verify_checksums(&buf[..len]);
            }
        }
    }
}
