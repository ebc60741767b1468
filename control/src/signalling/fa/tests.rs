use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use mipdp_dataplane::update::Update;
use mipdp_dataplane::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use mipdp_dataplane::wire::mip4::{AgentExtension, AgentExtensions, RegistrationReplyPacket};

use super::*;
use crate::signalling::mip4::config::{Algorithm, Key};
use crate::signalling::mip4::security;
use crate::signalling::mip4::ReplyLimit;

pub(crate) const CARE_OF: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
pub(crate) const LINK: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 1);
pub(crate) const HOME: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
pub(crate) const HA: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub(crate) const MAC: [u8; 6] = [2, 0, 0, 0, 1, 0x64];

/// One visited link on port 0, one care-of address, room for one visitor (the relay's
/// tests use it too).
pub(crate) fn agent_config() -> ForeignAgentConfig {
    let section: ForeignAgentSection =
        toml::from_str("care_of_addresses = [\"203.0.113.1\"]\nregistration_lifetime = 600\nprefix_lengths = true\nmax_visitors = 1\n").unwrap();
    section
        .check(vec![VisitedLink {
            port: 0,
            address: LINK,
            prefix_len: 24,
        }])
        .unwrap()
}

fn agent() -> ForeignAgent {
    ForeignAgent::new(agent_config())
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
pub(crate) fn request(lifetime: u16, care_of: Ipv4Addr, flags: u8, id: u64) -> Vec<u8> {
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

pub(crate) fn reply(code: u8, lifetime: u16, id: u64) -> Vec<u8> {
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

/// A foreign agent that shares `FA_HA_KEY` (SPI 600) with the home agent `HA`.
fn agent_with_home_agent_key() -> ForeignAgent {
    let section: ForeignAgentSection = toml::from_str(
        "care_of_addresses = [\"203.0.113.1\"]\nregistration_lifetime = 600\n\
         [[home_agent]]\naddress = \"198.51.100.1\"\nspi = 600\nkey = \"66612d6861206b6579\"\n",
    )
    .unwrap();
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

const FA_HA_KEY: &[u8] = b"fa-ha key";
const MN_HA_KEY: &[u8] = b"mn-ha key";

/// mipdp's own home agent at `HA`, sharing MN_HA_KEY (SPI 256) with the mobile and
/// FA_HA_KEY (SPI 600) with the foreign agent at `CARE_OF`.
fn home_agent() -> crate::signalling::mip4::HomeAgent {
    use crate::signalling::mip4::config::{
        ForeignAgentAssociation, HomeAgentConfig, MobileNodeId, ReplayProtection,
        SecurityAssociation,
    };
    crate::signalling::mip4::HomeAgent::new(HomeAgentConfig {
        addresses: vec![HA],
        home_prefixes: vec!["10.1.0.0/16".parse().unwrap()],
        max_lifetime: 600,
        max_care_of: 1,
        max_bindings: 4,
        error_replies: ReplyLimit::default(),
        gratuitous_arps: 1,
        gratuitous_arp_interval: Duration::from_secs(1),
        reply_wait: Duration::from_secs(1),
        security_associations: vec![SecurityAssociation {
            mobile_node: MobileNodeId::HomeAddress(HOME),
            spi: 256,
            key: Key(MN_HA_KEY.to_vec()),
            algorithm: Algorithm::HmacMd5,
            replay: ReplayProtection::Timestamps {
                tolerance: Duration::from_secs(7),
            },
        }],
        foreign_agents: vec![ForeignAgentAssociation {
            address: CARE_OF,
            spi: 600,
            key: Key(FA_HA_KEY.to_vec()),
            algorithm: Algorithm::HmacMd5,
        }],
    })
}

/// A request from the mobile with a valid MN-HA authenticator and an NTP timestamp for
/// `now`.
fn authenticated_request(now: std::time::SystemTime) -> Vec<u8> {
    let mut b = vec![1, 0];
    b.extend(300u16.to_be_bytes());
    b.extend(HOME.octets());
    b.extend(HA.octets());
    b.extend(CARE_OF.octets());
    b.extend(crate::signalling::mip4::security::ntp_timestamp(now).to_be_bytes());
    b.extend([32, 20, 0, 0, 1, 0]);
    let tag = security::authenticator(Algorithm::HmacMd5, MN_HA_KEY, &b);
    b.extend(tag);
    b
}

#[test]
fn with_a_home_agent_key_the_relay_carries_fa_ha_and_the_reply_must_too() {
    use crate::signalling::mip4::Reason as HaReason;
    let now = std::time::SystemTime::now();
    let at = Instant::now();
    let mut fa = agent_with_home_agent_key();
    let mut ha = home_agent();
    // The relayed request ends with a Foreign-Home Authentication Extension that mipdp's
    // home agent (which requires it from this foreign agent) verifies.
    let o = fa.handle_request(&authenticated_request(now), arrival(), at);
    assert_eq!(o.reason, Some(Reason::Relayed));
    let relay = o.relay.unwrap();
    assert_eq!(relay.bytes.len(), 24 + 22 + 22);
    assert_eq!(&relay.bytes[46..52], &[34, 20, 0, 0, 2, 0x58]);
    let answer = ha.handle_request(&relay.bytes, relay.from, *relay.to.ip(), now);
    assert_eq!(answer.reason, HaReason::Registered);
    let reply = answer.reply.unwrap();
    // The reply carries MN-HA then FA-HA; the foreign agent checks FA-HA, lists the
    // visitor and gives the mobile the reply up to its MN-HA extension.
    assert_eq!(reply.bytes.len(), 20 + 22 + 22);
    let o = fa.handle_reply(&reply.bytes, HA, at);
    assert_eq!(o.reason, Some(Reason::Accepted));
    assert_eq!(o.reply.as_ref().unwrap().bytes, reply.bytes[..42].to_vec());
    assert_eq!(fa.visitors().len(), 1);

    // A forged reply (FA-HA authenticator flipped) for a new pending request: discarded,
    // the mobile gets 68, nothing listed or changed.
    let mut fa = agent_with_home_agent_key();
    let o = fa.handle_request(&authenticated_request(now), arrival(), at);
    let relay = o.relay.unwrap();
    let mut ha = home_agent();
    let mut bytes = ha
        .handle_request(&relay.bytes, relay.from, *relay.to.ip(), now)
        .reply
        .unwrap()
        .bytes;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let o = fa.handle_reply(&bytes, HA, at);
    assert_eq!(o.reason, Some(Reason::HomeAgentFailedAuthentication));
    let to_mobile = o.reply.unwrap();
    assert!(to_mobile.denial);
    let p = RegistrationReplyPacket::new_checked(&to_mobile.bytes[..]).unwrap();
    assert_eq!(p.code(), ReplyCode(68));
    assert!(o.updates.is_empty());
    assert!(fa.visitors().is_empty());
    assert!(fa.pending().is_empty());

    // A reply with no FA-HA extension at all (as from a home agent without the key) is
    // refused the same way.
    let mut fa = agent_with_home_agent_key();
    fa.handle_request(&authenticated_request(now), arrival(), at);
    let o = fa.handle_reply(&bytes[..42], HA, at);
    assert_eq!(o.reason, Some(Reason::HomeAgentFailedAuthentication));
}

#[test]
fn a_duplicate_home_agent_key_names_the_key() {
    let section: ForeignAgentSection = toml::from_str(
        "care_of_addresses = [\"203.0.113.1\"]\n\
         [[home_agent]]\naddress = \"198.51.100.1\"\nspi = 600\nkey = \"00\"\n\
         [[home_agent]]\naddress = \"198.51.100.1\"\nspi = 601\nkey = \"01\"\n",
    )
    .unwrap();
    let link = VisitedLink {
        port: 0,
        address: LINK,
        prefix_len: 24,
    };
    let e = section.check(vec![link]).unwrap_err();
    assert_eq!(e.key, "foreign_agent.home_agent[1].address");
    let section: ForeignAgentSection = toml::from_str(
        "care_of_addresses = [\"203.0.113.1\"]\n[[home_agent]]\naddress = \"198.51.100.1\"\nspi = 6\nkey = \"00\"\n",
    )
    .unwrap();
    assert_eq!(
        section.check(vec![link]).unwrap_err().key,
        "foreign_agent.home_agent[0].spi"
    );
}
