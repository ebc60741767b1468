//! ARP for Ethernet and IPv4 (RFC 826).

use super::ethernet::{EtherType, MacAddress};
use super::{Error, Result};
use std::net::Ipv4Addr;

/// ARP hardware type for Ethernet. RFC 826 ("ar$hrd"); IANA ARP parameters.
pub const HARDWARE_ETHERNET: u16 = 1;

/// An ARP operation code. RFC 826 ("ar$op").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpOperation(pub u16);

impl ArpOperation {
    /// ares_op$REQUEST. RFC 826.
    pub const REQUEST: ArpOperation = ArpOperation(1);
    /// ares_op$REPLY. RFC 826.
    pub const REPLY: ArpOperation = ArpOperation(2);
}

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const FIXED_LEN: usize = 8;
}

/// Length of an ARP packet for Ethernet and IPv4. RFC 826.
pub const ETHERNET_IPV4_LEN: usize = 28;

/// A zero-copy view of an ARP packet of any hardware/protocol address lengths. RFC 826.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> ArpPacket<T> {
        ArpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<ArpPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the fixed part and the four addresses it declares fit in the buffer.
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < field::FIXED_LEN {
            return Err(Error::Truncated);
        }
        if b.len() < self.addresses_end() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    fn addresses_end(&self) -> usize {
        field::FIXED_LEN + 2 * (self.hardware_len() as usize + self.protocol_len() as usize)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware address space ("ar$hrd"). RFC 826.
    pub fn hardware_type(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::HTYPE)
    }

    /// Protocol address space, an EtherType ("ar$pro"). RFC 826.
    pub fn protocol_type(&self) -> EtherType {
        EtherType(super::be16_at(self.buffer.as_ref(), field::PTYPE))
    }

    /// Hardware address length in bytes ("ar$hln"). RFC 826.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length in bytes ("ar$pln"). RFC 826.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation ("ar$op"). RFC 826.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation(super::be16_at(self.buffer.as_ref(), field::OPER))
    }

    fn sha_range(&self) -> core::ops::Range<usize> {
        let start = field::FIXED_LEN;
        start..start + self.hardware_len() as usize
    }
    fn spa_range(&self) -> core::ops::Range<usize> {
        let start = self.sha_range().end;
        start..start + self.protocol_len() as usize
    }
    fn tha_range(&self) -> core::ops::Range<usize> {
        let start = self.spa_range().end;
        start..start + self.hardware_len() as usize
    }
    fn tpa_range(&self) -> core::ops::Range<usize> {
        let start = self.tha_range().end;
        start..start + self.protocol_len() as usize
    }

    /// Sender hardware address ("ar$sha"). RFC 826.
    pub fn sender_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.sha_range()]
    }

    /// Sender protocol address ("ar$spa"). RFC 826.
    pub fn sender_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.spa_range()]
    }

    /// Target hardware address ("ar$tha"). RFC 826.
    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.tha_range()]
    }

    /// Target protocol address ("ar$tpa"). RFC 826.
    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.tpa_range()]
    }

    /// Bytes after the four addresses (Ethernet padding). RFC 826.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.addresses_end()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    fn set_be16(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets "ar$hrd". RFC 826.
    pub fn set_hardware_type(&mut self, v: u16) {
        self.set_be16(field::HTYPE, v);
    }

    /// Sets "ar$pro". RFC 826.
    pub fn set_protocol_type(&mut self, v: EtherType) {
        self.set_be16(field::PTYPE, v.0);
    }

    /// Sets "ar$hln". RFC 826.
    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v;
    }

    /// Sets "ar$pln". RFC 826.
    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v;
    }

    /// Sets "ar$op". RFC 826.
    pub fn set_operation(&mut self, v: ArpOperation) {
        self.set_be16(field::OPER, v.0);
    }

    /// Sets "ar$sha"; `addr` must be "ar$hln" long. RFC 826.
    pub fn set_sender_hardware_addr(&mut self, addr: &[u8]) {
        let r = self.sha_range();
        self.buffer.as_mut()[r].copy_from_slice(addr);
    }

    /// Sets "ar$spa"; `addr` must be "ar$pln" long. RFC 826.
    pub fn set_sender_protocol_addr(&mut self, addr: &[u8]) {
        let r = self.spa_range();
        self.buffer.as_mut()[r].copy_from_slice(addr);
    }

    /// Sets "ar$tha"; `addr` must be "ar$hln" long. RFC 826.
    pub fn set_target_hardware_addr(&mut self, addr: &[u8]) {
        let r = self.tha_range();
        self.buffer.as_mut()[r].copy_from_slice(addr);
    }

    /// Sets "ar$tpa"; `addr` must be "ar$pln" long. RFC 826.
    pub fn set_target_protocol_addr(&mut self, addr: &[u8]) {
        let r = self.tpa_range();
        self.buffer.as_mut()[r].copy_from_slice(addr);
    }

    /// Bytes after the four addresses, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.addresses_end();
        &mut self.buffer.as_mut()[start..]
    }
}

/// An ARP request or reply between Ethernet and IPv4 addresses. RFC 826.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// Request or reply.
    pub operation: ArpOperation,
    /// Sender hardware address.
    pub source_hardware_addr: MacAddress,
    /// Sender protocol address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target hardware address (zero in a request).
    pub target_hardware_addr: MacAddress,
    /// Target protocol address.
    pub target_protocol_addr: Ipv4Addr,
}

fn ipv4(bytes: &[u8]) -> Result<Ipv4Addr> {
    let octets: [u8; 4] = bytes.try_into().map_err(|_| Error::Unsupported)?;
    Ok(Ipv4Addr::from(octets))
}

impl ArpRepr {
    /// Reads an Ethernet/IPv4 request or reply; any other hardware type, protocol type,
    /// address length or operation is [`Error::Unsupported`]. RFC 826.
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<ArpRepr> {
        packet.check_len()?;
        if packet.hardware_type() != HARDWARE_ETHERNET
            || packet.protocol_type() != EtherType::IPV4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        let operation = packet.operation();
        if operation != ArpOperation::REQUEST && operation != ArpOperation::REPLY {
            return Err(Error::Unsupported);
        }
        let mac = |b: &[u8]| MacAddress::from_bytes(b).ok_or(Error::Unsupported);
        Ok(ArpRepr {
            operation,
            source_hardware_addr: mac(packet.sender_hardware_addr())?,
            source_protocol_addr: ipv4(packet.sender_protocol_addr())?,
            target_hardware_addr: mac(packet.target_hardware_addr())?,
            target_protocol_addr: ipv4(packet.target_protocol_addr())?,
        })
    }

    /// Length of the packet this emits: 28.
    pub fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Length of the header this emits; ARP is all header: 28.
    pub fn header_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet into `packet`, which must hold 28 bytes. RFC 826.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_hardware_type(HARDWARE_ETHERNET);
        packet.set_protocol_type(EtherType::IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_sender_hardware_addr(&self.source_hardware_addr.0);
        packet.set_sender_protocol_addr(&self.source_protocol_addr.octets());
        packet.set_target_hardware_addr(&self.target_hardware_addr.0);
        packet.set_target_protocol_addr(&self.target_protocol_addr.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Who has 10.0.2.2? Tell 10.0.2.15 (QEMU user networking), from a capture.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a,
        0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x02,
    ];

    #[test]
    fn request_from_capture_parses() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        let r = ArpRepr::parse(&p).unwrap();
        assert_eq!(r.operation, ArpOperation::REQUEST);
        assert_eq!(
            r.source_hardware_addr,
            MacAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        );
        assert_eq!(r.source_protocol_addr, Ipv4Addr::new(10, 0, 2, 15));
        assert_eq!(r.target_hardware_addr, MacAddress([0; 6]));
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(10, 0, 2, 2));
        let mut out = [0u8; 28];
        r.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn short_packet_is_truncated() {
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..7]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..27]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn non_ethernet_hardware_is_unsupported() {
        let mut b = REQUEST;
        b[1] = 6; // IEEE 802 networks
        let p = ArpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn non_ipv4_protocol_is_unsupported() {
        let mut b = REQUEST;
        b[2..4].copy_from_slice(&[0x86, 0xdd]);
        let p = ArpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn rarp_operation_is_unsupported() {
        let mut b = REQUEST;
        b[7] = 3;
        let p = ArpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn odd_address_lengths_are_unsupported_but_viewable() {
        let mut b = [0u8; 8 + 2 * (8 + 4)];
        b[..8].copy_from_slice(&[0x00, 0x01, 0x08, 0x00, 8, 4, 0x00, 0x01]);
        let p = ArpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.sender_hardware_addr().len(), 8);
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }

    fn arb_repr() -> impl Strategy<Value = ArpRepr> {
        (
            prop_oneof![Just(ArpOperation::REQUEST), Just(ArpOperation::REPLY)],
            any::<[u8; 6]>(),
            any::<[u8; 4]>(),
            any::<[u8; 6]>(),
            any::<[u8; 4]>(),
        )
            .prop_map(|(operation, sha, spa, tha, tpa)| ArpRepr {
                operation,
                source_hardware_addr: MacAddress(sha),
                source_protocol_addr: spa.into(),
                target_hardware_addr: MacAddress(tha),
                target_protocol_addr: tpa.into(),
            })
    }

    proptest! {
        #[test]
        fn parse_of_emit_is_identity(repr in arb_repr()) {
            let mut buf = [0u8; 28];
            repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
            let p = ArpPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(ArpRepr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = ArpPacket::new_checked(&bytes[..]) {
                let _ = ArpRepr::parse(&p);
                let _ = (p.target_protocol_addr(), p.payload());
            }
        }
    }
}
