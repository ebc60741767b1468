//! The IPv6 fixed header (RFC 8200 §3), its multicast mappings (RFC 2464 §7, RFC 4291
//! §2.7.1) and the next-header values the dataplane recognises.

use super::{Error, Result};
use std::net::Ipv6Addr;

/// Next Header / IP protocol numbers the dataplane reads (IANA "Assigned Internet Protocol
/// Numbers"; RFC 8200 §4).
pub mod next_header {
    /// IPv6 Hop-by-Hop Options header, RFC 8200 §4.3.
    pub const HOP_BY_HOP: u8 = 0;
    /// IPv4 encapsulated (IP-in-IP), RFC 2003.
    pub const IPV4: u8 = 4;
    /// UDP, RFC 768.
    pub const UDP: u8 = 17;
    /// IPv6 encapsulated, RFC 2473.
    pub const IPV6: u8 = 41;
    /// IPv6 Routing header, RFC 8200 §4.4.
    pub const ROUTING: u8 = 43;
    /// IPv6 Fragment header, RFC 8200 §4.5.
    pub const FRAGMENT: u8 = 44;
    /// GRE, RFC 2784.
    pub const GRE: u8 = 47;
    /// ICMPv6, RFC 4443.
    pub const ICMPV6: u8 = 58;
    /// No Next Header, RFC 8200 §4.7.
    pub const NO_NEXT: u8 = 59;
    /// IPv6 Destination Options header, RFC 8200 §4.6.
    pub const DEST_OPTS: u8 = 60;
    /// Mobility header, RFC 6275 §6.1.
    pub const MOBILITY: u8 = 135;
}

mod field {
    use core::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

/// Length of the IPv6 fixed header, RFC 8200 §3.
pub const HEADER_LEN: usize = 40;

/// A zero-copy view of an IPv6 packet, RFC 8200 §3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn addr_at(data: &[u8], range: core::ops::Range<usize>) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&data[range]);
    Ipv6Addr::from(a)
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without checks; accessors may panic until [`Self::check_len`] passed.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer after [`Self::check_len`], RFC 8200 §3.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the fixed header and the payload length it declares fit in the buffer
    /// and that the version is 6, RFC 8200 §3. A zero payload length (jumbogram, RFC 2675)
    /// is read as an empty payload.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        let first = data.first().ok_or(Error::Truncated)?;
        if data.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if first >> 4 != 6 {
            return Err(Error::BadVersion);
        }
        if HEADER_LEN + usize::from(self.payload_len()) > data.len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word0(&self) -> u32 {
        let d = &self.buffer.as_ref()[field::VER_TC_FLOW];
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    /// Version field, RFC 8200 §3.
    pub fn version(&self) -> u8 {
        (self.word0() >> 28) as u8
    }

    /// Traffic Class field, RFC 8200 §7.
    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    /// Differentiated Services code point of the traffic class, RFC 2474 §3.
    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    /// ECN bits of the traffic class, RFC 3168 §5.
    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 0x03
    }

    /// Flow Label field (20 bits), RFC 8200 §6.
    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }

    /// Payload Length field, RFC 8200 §3.
    pub fn payload_len(&self) -> u16 {
        let d = &self.buffer.as_ref()[field::LENGTH];
        u16::from_be_bytes([d[0], d[1]])
    }

    /// Next Header field, RFC 8200 §3.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hop Limit field, RFC 8200 §3.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source Address, RFC 8200 §3.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::SRC_ADDR)
    }

    /// Destination Address, RFC 8200 §3.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::DST_ADDR)
    }

    /// The payload as the payload length declares it, RFC 8200 §3.
    pub fn payload(&self) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &self.buffer.as_ref()[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn set_word0(&mut self, value: u32) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the Version field, RFC 8200 §3.
    pub fn set_version(&mut self, value: u8) {
        let w = (self.word0() & 0x0fff_ffff) | (u32::from(value & 0x0f) << 28);
        self.set_word0(w);
    }

    /// Rewrites the Traffic Class in place, keeping version and flow label, RFC 8200 §7.
    /// IPv6 has no header checksum, so nothing else changes.
    pub fn set_traffic_class(&mut self, value: u8) {
        let w = (self.word0() & 0xf00f_ffff) | (u32::from(value) << 20);
        self.set_word0(w);
    }

    /// Sets the Flow Label (low 20 bits of `value`), RFC 8200 §6.
    pub fn set_flow_label(&mut self, value: u32) {
        let w = (self.word0() & 0xfff0_0000) | (value & 0x000f_ffff);
        self.set_word0(w);
    }

    /// Sets the Payload Length field, RFC 8200 §3.
    pub fn set_payload_len(&mut self, value: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the Next Header field, RFC 8200 §3.
    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value;
    }

    /// Sets the Hop Limit field, RFC 8200 §3.
    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = value;
    }

    /// Decrements the Hop Limit of a packet being forwarded and returns the new value; a
    /// packet whose hop limit is 0 or 1 must not be forwarded (RFC 8200 §3, RFC 4443 §3.3)
    /// and is left unchanged with `None`.
    pub fn decrement_hop_limit(&mut self) -> Option<u8> {
        let hop_limit = self.hop_limit();
        if hop_limit <= 1 {
            return None;
        }
        self.set_hop_limit(hop_limit - 1);
        Some(hop_limit - 1)
    }

    /// Sets the Source Address, RFC 8200 §3.
    pub fn set_src_addr(&mut self, value: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&value.octets());
    }

    /// Sets the Destination Address, RFC 8200 §3.
    pub fn set_dst_addr(&mut self, value: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&value.octets());
    }

    /// The payload, mutable, as the payload length declares it, RFC 8200 §3.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fields of an IPv6 fixed header, RFC 8200 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// Source Address.
    pub src_addr: Ipv6Addr,
    /// Destination Address.
    pub dst_addr: Ipv6Addr,
    /// Next Header.
    pub next_header: u8,
    /// Length of everything after the fixed header.
    pub payload_len: usize,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Traffic Class (DSCP and ECN), RFC 8200 §7.
    pub traffic_class: u8,
    /// Flow Label, 20 bits, RFC 8200 §6.
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Reads a fixed header, RFC 8200 §3.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Ipv6Repr> {
        packet.check_len()?;
        Ok(Ipv6Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Length of the fixed header.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of the whole packet: header and payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the fixed header into the first 40 bytes of `packet`, RFC 8200 §3.
    /// `Oversized` when the payload length needs a jumbogram, `BadLength` when the flow
    /// label is wider than 20 bits, `Truncated` when the buffer is shorter than the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv6Packet<T>) -> Result<()> {
        let payload_len = u16::try_from(self.payload_len).map_err(|_| Error::Oversized)?;
        if self.flow_label > 0x000f_ffff {
            return Err(Error::BadLength);
        }
        if packet.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        packet.set_word0(0x6000_0000);
        packet.set_traffic_class(self.traffic_class);
        packet.set_flow_label(self.flow_label);
        packet.set_payload_len(payload_len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

/// The Ethernet multicast MAC address an IPv6 multicast address maps to: 33:33 followed by
/// the address's last four bytes, RFC 2464 §7.
pub fn multicast_mac(addr: &Ipv6Addr) -> [u8; 6] {
    let o = addr.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

/// The solicited-node multicast address of a unicast or anycast address: ff02::1:ff00:0/104
/// with the address's low 24 bits, RFC 4291 §2.7.1.
pub fn solicited_node(addr: &Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // IPv6, tc 0xb8 (EF), flow 0x12345, plen 8, UDP, hop limit 64, 2001:db8::1 -> 2001:db8::2,
    // followed by an 8-byte UDP header.
    const PACKET: [u8; 48] = [
        0x6b, 0x81, 0x23, 0x45, 0x00, 0x08, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x04,
        0xd2, 0x16, 0x2e, 0x00, 0x08, 0x00, 0x00,
    ];

    fn repr() -> Ipv6Repr {
        Ipv6Repr {
            src_addr: "2001:db8::1".parse().unwrap(),
            dst_addr: "2001:db8::2".parse().unwrap(),
            next_header: next_header::UDP,
            payload_len: 8,
            hop_limit: 64,
            traffic_class: 0xb8,
            flow_label: 0x12345,
        }
    }

    #[test]
    fn fields_of_a_known_packet_are_read() {
        let p = Ipv6Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb8);
        assert_eq!(p.dscp(), 46);
        assert_eq!(p.ecn(), 0);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 8);
        assert_eq!(p.payload(), &PACKET[40..]);
        assert_eq!(Ipv6Repr::parse(&p).unwrap(), repr());
    }

    #[test]
    fn emit_reproduces_the_known_packet() {
        let mut buf = [0u8; 48];
        buf[40..].copy_from_slice(&PACKET[40..]);
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        repr().emit(&mut p).unwrap();
        assert_eq!(buf, PACKET);
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(
            Ipv6Packet::new_checked(&PACKET[..39]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Ipv6Packet::new_checked(&[][..]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn payload_length_beyond_buffer_is_truncated() {
        assert_eq!(
            Ipv6Packet::new_checked(&PACKET[..47]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn version_four_is_bad_version() {
        let mut b = PACKET;
        b[0] = 0x45;
        assert_eq!(
            Ipv6Packet::new_checked(&b[..]).unwrap_err(),
            Error::BadVersion
        );
    }

    #[test]
    fn emit_rejects_jumbo_payload_wide_flow_label_and_short_buffer() {
        let mut buf = [0u8; 40];
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        let jumbo = Ipv6Repr {
            payload_len: 70_000,
            ..repr()
        };
        assert_eq!(jumbo.emit(&mut p), Err(Error::Oversized));
        let wide = Ipv6Repr {
            flow_label: 0x10_0000,
            ..repr()
        };
        assert_eq!(wide.emit(&mut p), Err(Error::BadLength));
        let mut short = [0u8; 39];
        let mut p = Ipv6Packet::new_unchecked(&mut short[..]);
        assert_eq!(repr().emit(&mut p), Err(Error::Truncated));
    }

    #[test]
    fn hop_limit_decrements_until_one() {
        let mut b = PACKET;
        b[7] = 2;
        let mut p = Ipv6Packet::new_checked(&mut b[..]).unwrap();
        assert_eq!(p.decrement_hop_limit(), Some(1));
        assert_eq!(p.decrement_hop_limit(), None);
        assert_eq!(p.hop_limit(), 1);
    }

    #[test]
    fn traffic_class_rewrite_keeps_version_and_flow_label() {
        let mut b = PACKET;
        let mut p = Ipv6Packet::new_checked(&mut b[..]).unwrap();
        p.set_traffic_class(0x03);
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0x03);
        assert_eq!(p.flow_label(), 0x12345);
    }

    #[test]
    fn multicast_and_solicited_node_mappings() {
        let a: Ipv6Addr = "2001:db8::2aa:ff:fe28:9c5a".parse().unwrap();
        let sn = solicited_node(&a);
        assert_eq!(sn, "ff02::1:ff28:9c5a".parse::<Ipv6Addr>().unwrap());
        assert_eq!(multicast_mac(&sn), [0x33, 0x33, 0xff, 0x28, 0x9c, 0x5a]);
        let all_nodes: Ipv6Addr = "ff02::1".parse().unwrap();
        assert_eq!(multicast_mac(&all_nodes), [0x33, 0x33, 0, 0, 0, 1]);
    }

    proptest! {
        #[test]
        fn parse_of_emit_is_identity(
            src in any::<[u8; 16]>(), dst in any::<[u8; 16]>(), nh in any::<u8>(),
            plen in 0usize..64, hl in any::<u8>(), tc in any::<u8>(), fl in 0u32..0x10_0000,
        ) {
            let r = Ipv6Repr {
                src_addr: src.into(), dst_addr: dst.into(), next_header: nh,
                payload_len: plen, hop_limit: hl, traffic_class: tc, flow_label: fl,
            };
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..])).unwrap();
            let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Ipv6Repr::parse(&p).unwrap(), r);
        }

        #[test]
        fn no_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            if let Ok(p) = Ipv6Packet::new_checked(&bytes[..]) {
                let _ = Ipv6Repr::parse(&p);
                let _ = p.payload();
            }
        }
    }
}
