#![no_main]
//! Mobile IPv4 (RFC 5944) on arbitrary bytes: the Registration Request and Reply with
//! their extension iterator and authenticated ranges, every registration extension alone,
//! the Mobility Agent Advertisement extension, and the agent extensions after the router
//! address entries of an ICMP router advertisement (taken from the input parsed as ICMPv4
//! too). Every parsed repr and extension must emit and parse back to itself.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use mipdp_dataplane::wire::mip4::{
    authenticated_range, unknown_extension_action, AgentAdvertisementPacket,
    AgentAdvertisementRepr, AgentExtension, AgentExtensions, RegistrationExtension,
    RegistrationExtensionIter, RegistrationExtensionType, RegistrationExtensions,
    RegistrationReplyPacket, RegistrationReplyRepr, RegistrationRequestPacket,
    RegistrationRequestRepr, MAX_CARE_OF_ADDRESSES, REPLY_LEN, REQUEST_LEN,
};

fuzz_target!(|data: &[u8]| {
    request(data);
    reply(data);
    if let Some(&t) = data.first() {
        let _ = unknown_extension_action(t);
    }
    extension(data);
    if let Ok(extensions) = RegistrationExtensions::new(data, 0) {
        extensions_agree(&extensions);
    }
    advertisement(data);
    agent_extensions(data);
    if let Ok(packet) = Icmpv4Packet::new_checked(data) {
        agent_extensions(packet.router_extensions());
        if let Ok(Icmpv4Repr::RouterAdvertisement { extensions, .. }) =
            Icmpv4Repr::parse(&packet, ChecksumMode::Ignore)
        {
            agent_extensions(extensions);
        }
    }
});

fn request(data: &[u8]) {
    let Ok(packet) = RegistrationRequestPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.flags(),
        packet.lifetime(),
        packet.home_address(),
        packet.home_agent(),
        packet.care_of_address(),
        packet.identification(),
    );
    assert_eq!(packet.extensions_bytes().len() + REQUEST_LEN, data.len());
    walk(packet.extensions(), REQUEST_LEN, |o| {
        packet.authenticated_bytes(o).map(<[u8]>::len)
    });

    let Ok(repr) = RegistrationRequestRepr::parse(&packet) else {
        return;
    };
    extensions_agree(&repr.extensions);
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut RegistrationRequestPacket::new_unchecked(&mut buf[..]));
    let again =
        RegistrationRequestPacket::new_checked(&buf[..]).expect("an emitted request checks");
    assert_eq!(RegistrationRequestRepr::parse(&again), Ok(repr));
    // Only the r and x flag bits (ignored on reception) may differ.
    assert_eq!(buf[1] | 0x05, data[1] | 0x05);
    assert_eq!(buf[2..], data[2..]);
}

fn reply(data: &[u8]) {
    let Ok(packet) = RegistrationReplyPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.code().is_accepted(),
        packet.lifetime(),
        packet.home_address(),
        packet.home_agent(),
        packet.identification(),
    );
    assert_eq!(packet.extensions_bytes().len() + REPLY_LEN, data.len());
    walk(packet.extensions(), REPLY_LEN, |o| {
        packet.authenticated_bytes(o).map(<[u8]>::len)
    });

    let Ok(repr) = RegistrationReplyRepr::parse(&packet) else {
        return;
    };
    extensions_agree(&repr.extensions);
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut RegistrationReplyPacket::new_unchecked(&mut buf[..]));
    let again = RegistrationReplyPacket::new_checked(&buf[..]).expect("an emitted reply checks");
    assert_eq!(RegistrationReplyRepr::parse(&again), Ok(repr));
    assert_eq!(buf, data, "a reply has no ignored bits");
}

/// Walks an extension iterator: offsets start at `base` and grow by each extension's
/// length, and the authenticated bytes of an authentication extension are in the message.
fn walk(
    iter: RegistrationExtensionIter<'_>,
    base: usize,
    authenticated_len: impl Fn(usize) -> Option<usize>,
) {
    let mut expected = base;
    for item in iter {
        let Ok((offset, ext)) = item else {
            break;
        };
        assert_eq!(offset, expected);
        expected += ext.buffer_len();
        if ext.ext_type().is_authentication() {
            assert_eq!(
                authenticated_len(offset),
                Some(authenticated_range(offset).len()),
                "type, length and SPI are inside the message"
            );
        }
        round_trip_registration(&ext);
    }
}

fn extensions_agree(extensions: &RegistrationExtensions<'_>) {
    let all = extensions.iter().collect::<Result<Vec<_>, _>>();
    let all = all.expect("RegistrationExtensions::new checked every extension");
    let total: usize = all.iter().map(|(_, e)| e.buffer_len()).sum();
    assert_eq!(total, extensions.as_bytes().len());
    let _ = extensions.nai();
    for t in [
        RegistrationExtensionType::MN_HA_AUTHENTICATION,
        RegistrationExtensionType::MN_FA_AUTHENTICATION,
        RegistrationExtensionType::FA_HA_AUTHENTICATION,
    ] {
        if let Some((_, ext)) = extensions.authentication(t) {
            assert_eq!(ext.ext_type(), t);
        }
    }
}

fn extension(data: &[u8]) {
    let Ok((ext, len)) = RegistrationExtension::parse(data) else {
        return;
    };
    assert_eq!(len, ext.buffer_len());
    assert!(len <= data.len());
    round_trip_registration(&ext);
}

fn round_trip_registration(ext: &RegistrationExtension<'_>) {
    let mut buf = vec![0u8; ext.buffer_len()];
    ext.emit(&mut buf)
        .expect("a parsed extension fits its length field");
    assert_eq!(
        RegistrationExtension::parse(&buf),
        Ok((*ext, ext.buffer_len()))
    );
}

fn advertisement(data: &[u8]) {
    let Ok(packet) = AgentAdvertisementPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.ext_type(),
        packet.sequence_number(),
        packet.registration_lifetime(),
        packet.flags().without_ignored(),
    );
    let addresses = packet.care_of_addresses();
    assert_eq!(addresses.len() * 4 + 6, usize::from(packet.length()));
    assert!(addresses.len() <= MAX_CARE_OF_ADDRESSES);
    assert_eq!(addresses.iter().count(), addresses.len());
    assert!(addresses.get(addresses.len()).is_none());

    let repr = AgentAdvertisementRepr::parse(&packet).expect("a checked extension parses");
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut AgentAdvertisementPacket::new_unchecked(&mut buf[..]));
    let again = AgentAdvertisementPacket::new_checked(&buf[..]).expect("an emitted one checks");
    assert_eq!(AgentAdvertisementRepr::parse(&again), Ok(repr));
}

fn agent_extensions(data: &[u8]) {
    let mut consumed = 0;
    for item in AgentExtensions::new(data) {
        let Ok(ext) = item else {
            return;
        };
        consumed += ext.buffer_len();
        let mut buf = vec![0u8; ext.buffer_len()];
        ext.emit(&mut buf)
            .expect("a parsed extension fits its length field");
        assert_eq!(AgentExtension::parse(&buf), Ok((ext, ext.buffer_len())));
    }
    assert_eq!(consumed, data.len(), "a clean walk uses every byte");
}
