#![no_main]
//! The tunnel headers of the wire layer on arbitrary bytes: GRE (RFC 2784 with the key and
//! sequence number of RFC 2890) and the minimal forwarding header (RFC 2004), each with
//! `ChecksumMode::Verify` and `Ignore`, as they are and with the checksum filled in. Every
//! parsed repr must emit (over the same payload) and parse back to itself.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::gre::{GrePacket, GreRepr, MAX_HEADER_LEN};
use mipdp_dataplane::wire::minimal::{MinimalPacket, MinimalRepr};

fuzz_target!(|data: &[u8]| {
    gre(data);
    minimal(data);
});

fn gre(data: &[u8]) {
    let Ok(packet) = GrePacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.version(),
        packet.protocol_type(),
        packet.checksum(),
        packet.reserved1(),
        packet.verify_checksum(),
    );
    assert_eq!(packet.key().is_some(), packet.key_present());
    assert_eq!(
        packet.sequence_number().is_some(),
        packet.sequence_number_present()
    );
    assert!(packet.header_len() <= MAX_HEADER_LEN);
    assert_eq!(packet.header_len() + packet.payload().len(), data.len());

    let ignored = GreRepr::parse(&packet, ChecksumMode::Ignore);
    let verified = GreRepr::parse(&packet, ChecksumMode::Verify);
    if verified.is_ok() {
        assert_eq!(verified, ignored);
    }
    if ignored.is_err() {
        assert!(verified.is_err());
    }

    let mut fixed = data.to_vec();
    GrePacket::new_unchecked(&mut fixed[..]).fill_checksum();
    let fixed_packet = GrePacket::new_checked(&fixed[..]).expect("same flags still check");
    assert!(fixed_packet.verify_checksum());
    assert_eq!(GreRepr::parse(&fixed_packet, ChecksumMode::Verify), ignored);

    let Ok(repr) = ignored else {
        return;
    };
    assert_eq!(repr.header_len(), packet.header_len());
    let mut buf = vec![0u8; repr.buffer_len()];
    buf[repr.header_len()..].copy_from_slice(packet.payload());
    repr.emit(&mut GrePacket::new_unchecked(&mut buf[..]));
    let again = GrePacket::new_checked(&buf[..]).expect("an emitted header checks");
    assert_eq!(GreRepr::parse(&again, ChecksumMode::Verify), Ok(repr));
}

fn minimal(data: &[u8]) {
    let Ok(packet) = MinimalPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.protocol(),
        packet.checksum(),
        packet.dst_addr(),
        packet.verify_checksum(),
    );
    assert_eq!(packet.src_addr().is_some(), packet.source_present());
    assert_eq!(packet.reserved(), 0, "check_len refuses reserved bits");
    assert_eq!(packet.header_len() + packet.payload().len(), data.len());

    let ignored = MinimalRepr::parse(&packet, ChecksumMode::Ignore);
    let verified = MinimalRepr::parse(&packet, ChecksumMode::Verify);
    if verified.is_ok() {
        assert_eq!(verified, ignored);
    }

    let mut fixed = data.to_vec();
    MinimalPacket::new_unchecked(&mut fixed[..]).fill_checksum();
    let fixed_packet = MinimalPacket::new_checked(&fixed[..]).expect("same flags still check");
    assert_eq!(
        MinimalRepr::parse(&fixed_packet, ChecksumMode::Verify),
        ignored
    );

    let repr = ignored.expect("a checked header parses without its checksum");
    let mut buf = vec![0u8; repr.buffer_len()];
    buf[repr.header_len()..].copy_from_slice(packet.payload());
    repr.emit(&mut MinimalPacket::new_unchecked(&mut buf[..]));
    assert_eq!(buf[..repr.header_len()], fixed[..repr.header_len()]);
    let again = MinimalPacket::new_checked(&buf[..]).expect("an emitted header checks");
    assert_eq!(MinimalRepr::parse(&again, ChecksumMode::Verify), Ok(repr));
}
