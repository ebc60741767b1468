#![no_main]
//! Link layer: Ethernet II frames (untagged, 802.1Q and 802.1ad tagged) and ARP, on
//! arbitrary bytes. No parser or getter of a checked view may panic, and every parsed
//! `EthernetRepr` / `ArpRepr` must emit and parse back to itself, byte for byte.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::wire::arp::{ArpPacket, ArpRepr};
use mipdp_dataplane::wire::ethernet::{EtherType, EthernetFrame, EthernetRepr, MacAddress};

fuzz_target!(|data: &[u8]| {
    let _ = MacAddress::from_bytes(data);
    ethernet(data);
    arp(data);
});

fn ethernet(data: &[u8]) {
    let Ok(frame) = EthernetFrame::new_checked(data) else {
        return;
    };
    let (dst, src) = (frame.dst_addr(), frame.src_addr());
    let _ = (dst.is_broadcast(), dst.is_unicast(), src.is_multicast());
    let tag = frame.vlan_tag();
    assert_eq!(tag.is_some(), frame.outer_ethertype().is_vlan_tag());
    let payload = frame.payload();
    assert_eq!(frame.header_len() + payload.len(), data.len());

    let repr = EthernetRepr::parse(&frame).expect("a checked frame parses");
    assert_eq!(repr.header_len(), frame.header_len());
    let mut buf = vec![0u8; repr.buffer_len(payload.len())];
    buf[repr.header_len()..].copy_from_slice(payload);
    repr.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
    let again = EthernetFrame::new_checked(&buf[..]).expect("an emitted frame checks");
    assert_eq!(EthernetRepr::parse(&again), Ok(repr));
    // Every header bit is in the repr (the TCI round-trips through pcp/dei/vid).
    assert_eq!(buf, data);

    if frame.ethertype() == EtherType::ARP {
        arp(payload);
    }
}

fn arp(data: &[u8]) {
    let Ok(packet) = ArpPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.hardware_type(),
        packet.protocol_type(),
        packet.operation(),
        packet.sender_hardware_addr(),
        packet.sender_protocol_addr(),
        packet.target_hardware_addr(),
        packet.target_protocol_addr(),
        packet.payload(),
    );
    let Ok(repr) = ArpRepr::parse(&packet) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
    let again = ArpPacket::new_checked(&buf[..]).expect("an emitted ARP packet checks");
    assert_eq!(ArpRepr::parse(&again), Ok(repr));
    // Parse accepts only Ethernet/IPv4 with lengths 6 and 4, so the 28 bytes are all known.
    assert_eq!(buf[..], data[..repr.buffer_len()]);
}
