//! Ethernet II frames with an optional IEEE 802.1Q / 802.1ad tag (RFC 894, IEEE 802.1Q §9).

use super::{Error, Result};
use core::fmt;

/// A 48-bit IEEE 802 MAC address. RFC 894; IEEE 802 §8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// The broadcast address ff:ff:ff:ff:ff:ff. RFC 894.
    pub const BROADCAST: MacAddress = MacAddress([0xff; 6]);

    /// Reads an address from the first six bytes of `bytes`, if there are six.
    pub fn from_bytes(bytes: &[u8]) -> Option<MacAddress> {
        let octets: [u8; 6] = bytes.get(..6)?.try_into().ok()?;
        Some(MacAddress(octets))
    }

    /// The six octets in transmission order.
    pub fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Whether this is ff:ff:ff:ff:ff:ff. IEEE 802 §8.2.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether the group bit (I/G, bit 0 of the first octet) is set; broadcast included.
    /// IEEE 802 §8.2.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is an individual (unicast) address. IEEE 802 §8.2.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// The EtherType (or tag protocol identifier) naming what follows. RFC 894; IEEE 802.1Q §9.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EtherType(pub u16);

impl EtherType {
    /// IPv4. RFC 894.
    pub const IPV4: EtherType = EtherType(0x0800);
    /// ARP. RFC 826.
    pub const ARP: EtherType = EtherType(0x0806);
    /// IPv6. RFC 2464 §3.
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// 802.1Q customer VLAN tag (C-TAG). IEEE 802.1Q §9.5.
    pub const VLAN: EtherType = EtherType(0x8100);
    /// 802.1ad service VLAN tag (S-TAG, "QinQ"). IEEE 802.1Q §9.5.
    pub const QINQ: EtherType = EtherType(0x88a8);

    /// Whether this value is a tag protocol identifier (a VLAN tag follows). IEEE 802.1Q §9.5.
    pub fn is_vlan_tag(self) -> bool {
        self == Self::VLAN || self == Self::QINQ
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:04x}", self.0)
    }
}

/// One 802.1Q tag: which TPID introduced it and the tag control information. IEEE 802.1Q §9.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// The tag protocol identifier: [`EtherType::VLAN`] or [`EtherType::QINQ`].
    pub tpid: EtherType,
    /// Priority code point, 3 bits. IEEE 802.1Q §6.9.3.
    pub pcp: u8,
    /// Drop eligible indicator. IEEE 802.1Q §6.9.3.
    pub dei: bool,
    /// VLAN identifier, 12 bits. IEEE 802.1Q §9.6.
    pub vid: u16,
}

impl VlanTag {
    /// The 16-bit tag control information word. IEEE 802.1Q §9.6.
    pub fn tci(&self) -> u16 {
        (u16::from(self.pcp & 0x07) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }

    /// A tag from its TPID and tag control information word. IEEE 802.1Q §9.6.
    pub fn from_tci(tpid: EtherType, tci: u16) -> VlanTag {
        VlanTag {
            tpid,
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        }
    }
}

mod field {
    use core::ops::Range;
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const TCI: Range<usize> = 14..16;
    pub const INNER_ETHERTYPE: Range<usize> = 16..18;
    pub const UNTAGGED_HEADER_LEN: usize = 14;
    pub const TAGGED_HEADER_LEN: usize = 18;
}

/// Length of an untagged Ethernet II header. RFC 894.
pub const HEADER_LEN: usize = field::UNTAGGED_HEADER_LEN;
/// Length of an Ethernet II header carrying one 802.1Q tag. IEEE 802.1Q §9.
pub const TAGGED_HEADER_LEN: usize = field::TAGGED_HEADER_LEN;

/// A zero-copy view of an Ethernet II frame, looking through at most one VLAN tag.
/// RFC 894; IEEE 802.1Q §9.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer` without checking it; accessors may panic on a short buffer
    /// unless [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> EthernetFrame<T> {
        EthernetFrame { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<EthernetFrame<T>> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer holds the whole header, tag included when there is one.
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        let tpid = b.get(field::ETHERTYPE).ok_or(Error::Truncated)?;
        let tagged = EtherType(u16::from_be_bytes([tpid[0], tpid[1]])).is_vlan_tag();
        if tagged && b.len() < field::TAGGED_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination MAC address. RFC 894.
    pub fn dst_addr(&self) -> MacAddress {
        let mut a = [0; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::DESTINATION]);
        MacAddress(a)
    }

    /// Source MAC address. RFC 894.
    pub fn src_addr(&self) -> MacAddress {
        let mut a = [0; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::SOURCE]);
        MacAddress(a)
    }

    /// The EtherType right after the addresses: a TPID when the frame is tagged. RFC 894.
    pub fn outer_ethertype(&self) -> EtherType {
        EtherType(super::be16_at(self.buffer.as_ref(), field::ETHERTYPE))
    }

    /// The VLAN tag, if the outer EtherType is a TPID. IEEE 802.1Q §9.6.
    pub fn vlan_tag(&self) -> Option<VlanTag> {
        let tpid = self.outer_ethertype();
        if !tpid.is_vlan_tag() {
            return None;
        }
        Some(VlanTag::from_tci(
            tpid,
            super::be16_at(self.buffer.as_ref(), field::TCI),
        ))
    }

    /// The EtherType of the payload, after one tag if there is one. IEEE 802.1Q §9.
    pub fn ethertype(&self) -> EtherType {
        if self.outer_ethertype().is_vlan_tag() {
            EtherType(super::be16_at(self.buffer.as_ref(), field::INNER_ETHERTYPE))
        } else {
            self.outer_ethertype()
        }
    }

    /// Header length: 14, or 18 with a tag.
    pub fn header_len(&self) -> usize {
        if self.outer_ethertype().is_vlan_tag() {
            field::TAGGED_HEADER_LEN
        } else {
            field::UNTAGGED_HEADER_LEN
        }
    }

    /// The payload after the header (and one tag), padding included.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination MAC address. RFC 894.
    pub fn set_dst_addr(&mut self, addr: MacAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    /// Sets the source MAC address. RFC 894.
    pub fn set_src_addr(&mut self, addr: MacAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    /// Sets the EtherType after the addresses (a TPID for a tagged frame). RFC 894.
    pub fn set_outer_ethertype(&mut self, ethertype: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&ethertype.0.to_be_bytes());
    }

    /// Writes a tag (TPID and TCI); the inner EtherType is left as it is. IEEE 802.1Q §9.6.
    pub fn set_vlan_tag(&mut self, tag: VlanTag) {
        self.set_outer_ethertype(tag.tpid);
        self.buffer.as_mut()[field::TCI].copy_from_slice(&tag.tci().to_be_bytes());
    }

    /// Sets the payload's EtherType: the inner one if the frame is tagged. IEEE 802.1Q §9.
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        if self.outer_ethertype().is_vlan_tag() {
            self.buffer.as_mut()[field::INNER_ETHERTYPE]
                .copy_from_slice(&ethertype.0.to_be_bytes());
        } else {
            self.set_outer_ethertype(ethertype);
        }
    }

    /// The payload after the header, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

/// The header fields of an Ethernet II frame. RFC 894; IEEE 802.1Q §9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Source MAC address.
    pub src_addr: MacAddress,
    /// Destination MAC address.
    pub dst_addr: MacAddress,
    /// The one VLAN tag, if any.
    pub vlan: Option<VlanTag>,
    /// EtherType of the payload (after the tag).
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Reads the header of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr> {
        frame.check_len()?;
        Ok(EthernetRepr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            vlan: frame.vlan_tag(),
            ethertype: frame.ethertype(),
        })
    }

    /// Length of the header this emits: 14, or 18 with a tag.
    pub fn header_len(&self) -> usize {
        match self.vlan {
            Some(_) => field::TAGGED_HEADER_LEN,
            None => field::UNTAGGED_HEADER_LEN,
        }
    }

    /// Length of a frame with this header and `payload_len` bytes after it.
    pub fn buffer_len(&self, payload_len: usize) -> usize {
        self.header_len() + payload_len
    }

    /// Writes the header into `frame`, which must hold [`header_len`](Self::header_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        match self.vlan {
            Some(tag) => {
                frame.set_vlan_tag(tag);
                frame.buffer.as_mut()[field::INNER_ETHERTYPE]
                    .copy_from_slice(&self.ethertype.0.to_be_bytes());
            }
            None => frame.set_outer_ethertype(self.ethertype),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // An ARP request broadcast from a capture: 52:54:00:12:34:56 asking for 10.0.2.2.
    const UNTAGGED: [u8; 16] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06, 0x00,
        0x01,
    ];

    // An 802.1Q frame, VLAN 100, PCP 5, carrying IPv4.
    const TAGGED: [u8; 20] = [
        0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x10, 0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc, 0x81, 0x00, 0xa0,
        0x64, 0x08, 0x00, 0x45, 0x00,
    ];

    #[test]
    fn untagged_frame_fields_read_from_capture() {
        let f = EthernetFrame::new_checked(&UNTAGGED[..]).unwrap();
        assert!(f.dst_addr().is_broadcast());
        assert_eq!(
            f.src_addr(),
            MacAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        );
        assert_eq!(f.ethertype(), EtherType::ARP);
        assert_eq!(f.vlan_tag(), None);
        assert_eq!(f.header_len(), 14);
        assert_eq!(f.payload(), &[0x00, 0x01]);
    }

    #[test]
    fn tagged_frame_exposes_inner_ethertype_and_payload() {
        let f = EthernetFrame::new_checked(&TAGGED[..]).unwrap();
        let tag = f.vlan_tag().unwrap();
        assert_eq!(tag.tpid, EtherType::VLAN);
        assert_eq!((tag.pcp, tag.dei, tag.vid), (5, false, 100));
        assert_eq!(f.ethertype(), EtherType::IPV4);
        assert_eq!(f.payload(), &[0x45, 0x00]);
    }

    #[test]
    fn qinq_tpid_counts_as_a_tag() {
        let mut b = TAGGED;
        b[12..14].copy_from_slice(&[0x88, 0xa8]);
        let f = EthernetFrame::new_checked(&b[..]).unwrap();
        assert_eq!(f.vlan_tag().unwrap().tpid, EtherType::QINQ);
        assert_eq!(f.ethertype(), EtherType::IPV4);
    }

    #[test]
    fn short_frame_is_truncated() {
        assert_eq!(
            EthernetFrame::new_checked(&UNTAGGED[..13]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn tagged_frame_without_inner_ethertype_is_truncated() {
        assert_eq!(
            EthernetFrame::new_checked(&TAGGED[..17]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn tagged_round_trip_is_byte_exact() {
        let f = EthernetFrame::new_checked(&TAGGED[..]).unwrap();
        let repr = EthernetRepr::parse(&f).unwrap();
        let mut out = [0u8; 20];
        let mut g = EthernetFrame::new_unchecked(&mut out[..]);
        repr.emit(&mut g);
        g.payload_mut().copy_from_slice(&TAGGED[18..]);
        assert_eq!(out, TAGGED);
    }

    #[test]
    fn mac_address_kinds_and_display() {
        let m = MacAddress([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]);
        assert!(m.is_multicast() && !m.is_broadcast() && !m.is_unicast());
        assert!(MacAddress::BROADCAST.is_multicast());
        assert_eq!(m.to_string(), "01:00:5e:00:00:01");
        assert_eq!(MacAddress::from_bytes(&[1, 2, 3]), None);
    }

    fn arb_repr() -> impl Strategy<Value = EthernetRepr> {
        let tag = prop_oneof![Just(EtherType::VLAN), Just(EtherType::QINQ)];
        let vlan = proptest::option::of((tag, 0u8..8, any::<bool>(), 0u16..4096).prop_map(
            |(tpid, pcp, dei, vid)| VlanTag {
                tpid,
                pcp,
                dei,
                vid,
            },
        ));
        // An untagged frame cannot carry a TPID as its own EtherType.
        let ethertype = any::<u16>()
            .prop_filter("not a TPID", |e| !EtherType(*e).is_vlan_tag())
            .prop_map(EtherType);
        (any::<[u8; 6]>(), any::<[u8; 6]>(), vlan, ethertype).prop_map(|(s, d, vlan, ethertype)| {
            EthernetRepr {
                src_addr: MacAddress(s),
                dst_addr: MacAddress(d),
                vlan,
                ethertype,
            }
        })
    }

    proptest! {
        #[test]
        fn parse_of_emit_is_identity(repr in arb_repr(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut buf = vec![0u8; repr.buffer_len(payload.len())];
            let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
            repr.emit(&mut f);
            f.payload_mut().copy_from_slice(&payload);
            let f = EthernetFrame::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(EthernetRepr::parse(&f).unwrap(), repr);
            prop_assert_eq!(f.payload(), &payload[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(f) = EthernetFrame::new_checked(&bytes[..]) {
                let _ = EthernetRepr::parse(&f);
                let _ = f.payload();
            }
        }
    }
}
