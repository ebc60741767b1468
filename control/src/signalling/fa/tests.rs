use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use mipdp_dataplane::update::Update;
use mipdp_dataplane::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use mipdp_dataplane::wire::mip4::{AgentExtension, AgentExtensions, RegistrationReplyPacket};

use super::*;

const CARE_OF: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const LINK: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 1);
const HOME: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
const HA: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const MAC: [u8; 6] = [2, 0, 0, 0, 1, 0x64];

fn agent() -> ForeignAgent {
    let section: ForeignAgentSection =
        toml::from_str("care_of_addresses = [\"203.0.113.1\"]\nregistration_lifetime = 600\nprefix_lengths = true\nmax_visitors = 1\n").unwrap();
    ForeignAgent::new(
        section
            .check(vec![VisitedLink {
                port: 0,
                address: LINK,
                prefix_len: 24,
            }])
            .unwrap(),
    )
}

fn arrival() -> Arrival {
    Arrival {
        mac: MAC,
        port: 0,
        from: SocketAddrV4::new(HOME, 49152),
        to: LINK,
    }
}

/// A request with an NAI, an MN-HA authentication extension (its authenticator is the
/// home agent's business) and an MN-FA one after it.
fn request(lifetime: u16, care_of: Ipv4Addr, flags: u8, id: u64) -> Vec<u8> {
    let mut b = vec![1, flags];
    b.extend(lifetime.to_be_bytes());
    b.extend(HOME.octets());
    b.extend(HA.octets());
    b.extend(care_of.octets());
    b.extend(id.to_be_bytes());
    b.extend([131, 9]);
    b.extend(b"mn@example");
    b.pop();
    b.extend([32, 20, 0, 0, 1, 0]);
    b.extend([0xaa; 16]);
    b.extend([33, 20, 0, 0, 1, 0]);
    b.extend([0xbb; 16]);
    b
}

fn reply(code: u8, lifetime: u16, id: u64) -> Vec<u8> {
    let mut b = vec![3, code];
    b.extend(lifetime.to_be_bytes());
    b.extend(HOME.octets());
    b.extend(HA.octets());
    b.extend(id.to_be_bytes());
    b
}

#[test]
fn advertisements_carry_the_mobility_agent_extension_and_count_their_sequence() {
    let mut fa = agent();
    let link = fa.config().links[0];
    for want in [0u16, 1] {
        let bytes = fa.advertisement(&link).unwrap();
        let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        let Icmpv4Repr::RouterAdvertisement {
            lifetime,
            addresses,
            extensions,
            ..
        } = Icmpv4Repr::parse(
            &packet,
            mipdp_dataplane::wire::checksum::ChecksumMode::Verify,
        )
        .unwrap()
        else {
            panic!("not an advertisement");
        };
        assert_eq!(lifetime, 15);
        assert_eq!(addresses.get(0).unwrap().addr, LINK);
        let exts: Vec<_> = AgentExtensions::new(extensions)
            .map(Result::unwrap)
            .collect();
        let AgentExtension::AgentAdvertisement(maa) = exts[0] else {
            panic!("no mobility agent advertisement extension");
        };
        assert_eq!(maa.sequence_number, want);
        assert_eq!(maa.registration_lifetime, 600);
        assert!(maa.flags.contains(AgentAdvertisementFlags::FOREIGN_AGENT));
        assert!(maa
            .flags
            .contains(AgentAdvertisementFlags::REGISTRATION_REQUIRED));
        assert!(!maa.flags.contains(AgentAdvertisementFlags::BUSY));
        assert_eq!(maa.care_of_addresses.get(0), Some(CARE_OF));
        assert_eq!(exts[1], AgentExtension::PrefixLengths(&[24]));
    }
}

#[test]
fn the_sequence_number_rolls_over_to_256() {
    assert_eq!(next_sequence(None), 0);
    assert_eq!(next_sequence(Some(0xffff)), 256);
    assert_eq!(next_sequence(Some(7)), 8);
}

#[test]
fn a_valid_request_is_relayed_up_to_the_mobile_home_extension_with_the_nai() {
    let mut fa = agent();
    let at = Instant::now();
    let req = request(300, CARE_OF, 0, 7);
    let out = fa.handle_request(&req, arrival(), at);
    assert_eq!(out.reason, Some(Reason::Relayed));
    let relay = out.relay.unwrap();
    assert_eq!(relay.from, SocketAddrV4::new(CARE_OF, 434));
    assert_eq!(relay.to, SocketAddrV4::new(HA, 434));
    // The MN-FA extension (22 bytes) is removed; the NAI and MN-HA pass unchanged.
    assert_eq!(relay.bytes, req[..req.len() - 22]);
    assert_eq!(fa.pending().len(), 1);
    assert_eq!(fa.pending()[0].nai.as_deref(), Some(&b"mn@exampl"[..]));
}

#[test]
fn invalid_requests_get_the_foreign_agent_codes() {
    let at = Instant::now();
    for (req, want) in [
        (request(601, CARE_OF, 0, 1), 69u8),
        (request(300, Ipv4Addr::new(192, 0, 2, 9), 0, 1), 77),
        (request(300, CARE_OF, 0x02, 1), 74),
        (request(300, CARE_OF, 0x20, 1), 77),
    ] {
        let mut fa = agent();
        let out = fa.handle_request(&req, arrival(), at);
        let reply = out.reply.expect("a denial");
        assert!(reply.denial);
        let p = RegistrationReplyPacket::new_checked(&reply.bytes[..]).unwrap();
        assert_eq!(p.code().0, want);
        assert_eq!(p.identification(), 1);
        assert_eq!(reply.mac, MAC);
        assert_eq!(reply.to, SocketAddrV4::new(HOME, 49152));
        assert!(out.relay.is_none());
        assert!(fa.pending().is_empty());
    }
    let mut fa = agent();
    let mut broken = request(300, CARE_OF, 0, 1);
    broken.push(200);
    let out = fa.handle_request(&broken, arrival(), at);
    assert_eq!(out.reason, Some(Reason::PoorlyFormedRequest));
    assert!(out.reply.is_some_and(|r| r.bytes[1] == 70));
    let mut unknown = request(300, CARE_OF, 0, 1);
    unknown.extend([50, 0]);
    assert_eq!(
        fa.handle_request(&unknown, arrival(), at).reason,
        Some(Reason::Discarded)
    );
}

#[test]
fn an_accepted_reply_lists_the_visitor_and_goes_to_the_mobile_unchanged() {
    let mut fa = agent();
    let at = Instant::now();
    fa.handle_request(&request(300, CARE_OF, 0, 0x1234_0000_0007), arrival(), at);
    // Another home agent's reply, or another Identification: not matched.
    assert_eq!(
        fa.handle_reply(&reply(0, 300, 8), HA, at).reason,
        Some(Reason::Unmatched)
    );
    // The home agent may change the high-order 32 bits (RFC 5944 §5.7.1).
    let r = reply(0, 200, 0x9999_0000_0007);
    let out = fa.handle_reply(&r, HA, at);
    assert_eq!(out.reason, Some(Reason::Accepted));
    let to_mobile = out.reply.unwrap();
    assert_eq!(to_mobile.bytes, r);
    assert_eq!(to_mobile.from, SocketAddrV4::new(LINK, 434));
    assert_eq!(to_mobile.to, SocketAddrV4::new(HOME, 49152));
    assert_eq!(to_mobile.mac, MAC);
    assert!(matches!(out.updates[..], [Update::Visitor { visitor, .. }] if visitor.mac == MAC));
    assert!(fa.flags().contains(AgentAdvertisementFlags::BUSY));
    // It expires after the granted 200 s, not the 300 asked for.
    let (gone, _) = fa.expire(at + Duration::from_secs(199));
    assert!(gone.is_empty());
    let (gone, _) = fa.expire(at + Duration::from_secs(200));
    assert_eq!(gone, vec![Update::RemoveVisitor { home: HOME.into() }]);
    assert!(fa.visitors().is_empty());
}

#[test]
fn denials_are_relayed_deregistration_removes_and_silence_times_out_with_78() {
    let mut fa = agent();
    let at = Instant::now();
    fa.handle_request(&request(300, CARE_OF, 0, 1), arrival(), at);
    let out = fa.handle_reply(&reply(131, 0, 1), HA, at);
    assert_eq!(out.reason, Some(Reason::DeniedByHomeAgent));
    assert!(out.updates.is_empty());
    fa.handle_request(&request(300, CARE_OF, 0, 2), arrival(), at);
    fa.handle_reply(&reply(0, 300, 2), HA, at);
    fa.handle_request(&request(0, CARE_OF, 0, 3), arrival(), at);
    let out = fa.handle_reply(&reply(0, 0, 3), HA, at);
    assert_eq!(out.reason, Some(Reason::Deregistered));
    assert_eq!(
        out.updates,
        vec![Update::RemoveVisitor { home: HOME.into() }]
    );
    fa.handle_request(&request(300, CARE_OF, 0, 4), arrival(), at);
    let (_, replies) = fa.expire(at + Duration::from_secs(8));
    let p = RegistrationReplyPacket::new_checked(&replies[0].bytes[..]).unwrap();
    assert_eq!(p.code().0, 78);
    assert!(fa.pending().is_empty());
}

#[test]
fn no_bytes_make_it_panic() {
    let mut fa = agent();
    let at = Instant::now();
    let base = request(300, CARE_OF, 0, 1);
    for cut in 0..base.len() {
        let _ = fa.handle_request(&base[..cut], arrival(), at);
        let _ = fa.handle_reply(&base[..cut], HA, at);
    }
    let mut x = 0x1234_5678u32;
    for _ in 0..2000 {
        let mut b = base.clone();
        for byte in b.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x % 7 == 0 {
                *byte = x as u8;
            }
        }
        let _ = fa.handle_request(&b, arrival(), at);
        b[0] = 3;
        let _ = fa.handle_reply(&b, HA, at);
    }
}
