use std::time::Duration;

use mipdp_dataplane::wire::mip4::{MessageType, RegistrationReplyRepr};
use proptest::prelude::*;

use super::security::{authenticator, ntp_timestamp};
use super::*;
use crate::state::Expiry;

const KEY: &[u8] = b"0123456789abcdef";
const FA_KEY: &[u8] = b"fa-ha shared key";
const SPI: u32 = 256;
const HA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const HOME: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const COA: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const COA2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 8);
const FA: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn config() -> HomeAgentConfig {
    HomeAgentConfig {
        addresses: vec![HA],
        home_prefixes: vec!["192.0.2.0/24".parse().unwrap()],
        max_lifetime: 600,
        max_care_of: 2,
        max_bindings: 16,
        error_replies: ReplyLimit::default(),
        gratuitous_arps: 3,
        gratuitous_arp_interval: Duration::from_secs(1),
        reply_wait: Duration::from_secs(1),
        security_associations: vec![
            SecurityAssociation {
                mobile_node: MobileNodeId::HomeAddress(HOME),
                spi: SPI,
                key: Key(KEY.to_vec()),
                algorithm: Algorithm::HmacMd5,
                replay: ReplayProtection::Timestamps {
                    tolerance: Duration::from_secs(7),
                },
            },
            SecurityAssociation {
                mobile_node: MobileNodeId::HomeAddress(Ipv4Addr::new(192, 0, 2, 20)),
                spi: 300,
                key: Key(KEY.to_vec()),
                algorithm: Algorithm::HmacMd5,
                replay: ReplayProtection::Nonces,
            },
            SecurityAssociation {
                mobile_node: MobileNodeId::Nai(b"mn@example.com"[..].into()),
                spi: 400,
                key: Key(KEY.to_vec()),
                algorithm: Algorithm::HmacMd5,
                replay: ReplayProtection::Timestamps {
                    tolerance: Duration::from_secs(7),
                },
            },
            SecurityAssociation {
                mobile_node: MobileNodeId::HomeAddress(Ipv4Addr::new(10, 9, 9, 9)),
                spi: SPI,
                key: Key(KEY.to_vec()),
                algorithm: Algorithm::HmacMd5,
                replay: ReplayProtection::Timestamps {
                    tolerance: Duration::from_secs(7),
                },
            },
        ],
        foreign_agents: vec![ForeignAgentAssociation {
            address: FA,
            spi: 500,
            key: Key(FA_KEY.to_vec()),
            algorithm: Algorithm::HmacMd5,
        }],
    }
}

fn ha() -> HomeAgent {
    HomeAgent::with_nonces(config(), NonceSource::with_key([9; 16]))
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// A request as a mobile node (and possibly a foreign agent) would build it.
#[derive(Clone)]
struct Req {
    flags: u8,
    lifetime: u16,
    home: Ipv4Addr,
    home_agent: Ipv4Addr,
    care_of: Ipv4Addr,
    identification: u64,
    before_auth: Vec<u8>,
    spi: u32,
    key: Vec<u8>,
    mn_ha: bool,
    after_auth: Vec<u8>,
    fa_ha: Option<(u32, Vec<u8>)>,
}

impl Req {
    fn new(now: SystemTime) -> Req {
        Req {
            flags: 0,
            lifetime: 300,
            home: HOME,
            home_agent: HA,
            care_of: COA,
            identification: ntp_timestamp(now),
            before_auth: Vec::new(),
            spi: SPI,
            key: KEY.to_vec(),
            mn_ha: true,
            after_auth: Vec::new(),
            fa_ha: None,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = vec![1, self.flags];
        b.extend_from_slice(&self.lifetime.to_be_bytes());
        for a in [self.home, self.home_agent, self.care_of] {
            b.extend_from_slice(&a.octets());
        }
        b.extend_from_slice(&self.identification.to_be_bytes());
        b.extend_from_slice(&self.before_auth);
        if self.mn_ha {
            push_auth(&mut b, 32, self.spi, &self.key);
        }
        b.extend_from_slice(&self.after_auth);
        if let Some((spi, key)) = &self.fa_ha {
            push_auth(&mut b, 34, *spi, key);
        }
        b
    }
}

fn push_auth(b: &mut Vec<u8>, ext_type: u8, spi: u32, key: &[u8]) {
    b.extend_from_slice(&[ext_type, 20]);
    b.extend_from_slice(&spi.to_be_bytes());
    let tag = authenticator(Algorithm::HmacMd5, key, b);
    b.extend_from_slice(&tag);
}

fn nai_ext(nai: &[u8]) -> Vec<u8> {
    let mut e = vec![131, nai.len() as u8];
    e.extend_from_slice(nai);
    e
}

fn mobile() -> SocketAddrV4 {
    SocketAddrV4::new(COA, 49152)
}

fn send(ha: &mut HomeAgent, req: &Req, now: SystemTime) -> Outcome {
    ha.handle_request(&req.bytes(), mobile(), HA, now)
}

fn reply_of(o: &Outcome) -> RegistrationReplyRepr<'_> {
    let r = o.reply.as_ref().expect("a reply");
    let p = RegistrationReplyPacket::new_checked(&r.bytes[..]).unwrap();
    assert_eq!(p.msg_type(), MessageType::REGISTRATION_REPLY);
    RegistrationReplyRepr::parse(&p).unwrap()
}

/// The MN-HA authenticator of the reply verifies under `key` (and is there).
fn reply_authenticated(o: &Outcome, spi: u32, key: &[u8]) -> bool {
    let bytes = &o.reply.as_ref().unwrap().bytes;
    let p = RegistrationReplyPacket::new_checked(&bytes[..]).unwrap();
    p.extensions().flatten().any(|(off, e)| match e {
        RegistrationExtension::Authentication {
            ext_type: RegistrationExtensionType::MN_HA_AUTHENTICATION,
            spi: s,
            authenticator: tag,
        } => {
            s == spi
                && security::verify(
                    Algorithm::HmacMd5,
                    key,
                    p.authenticated_bytes(off).unwrap(),
                    tag,
                )
        }
        _ => false,
    })
}

fn has_extensions(o: &Outcome) -> bool {
    o.reply.as_ref().unwrap().bytes.len() > REPLY_LEN
}

fn care_of_list(ha: &HomeAgent, home: Ipv4Addr) -> Vec<Ipv4Addr> {
    ha.bindings()
        .get(home)
        .map(|b| b.care_of.iter().map(|c| c.care_of).collect())
        .unwrap_or_default()
}

#[test]
fn accepted_registration_installs_the_binding_and_replies_0() {
    let mut ha = ha();
    let req = Req::new(at(0));
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::Registered);
    let r = reply_of(&o);
    assert_eq!(r.code, ReplyCode::ACCEPTED);
    assert_eq!(r.lifetime, 300);
    assert_eq!(r.home_address, HOME);
    assert_eq!(r.home_agent, HA);
    assert_eq!(r.identification, req.identification);
    assert!(reply_authenticated(&o, SPI, KEY));
    let reply = o.reply.as_ref().unwrap();
    assert_eq!(reply.destination, mobile());
    assert_eq!(reply.source, SocketAddrV4::new(HA, 434));
    match &o.updates[..] {
        [Update::Binding { home, binding }] => {
            assert_eq!(*home, IpAddr::V4(HOME));
            assert_eq!(binding.care_of.as_slice(), &[IpAddr::V4(COA)]);
            assert_eq!(binding.encap, Encap::IpInIp);
            assert_eq!(binding.source, IpAddr::V4(HA));
        }
        other => panic!("{other:?}"),
    }
    let b = ha.bindings().get(HOME).unwrap();
    assert_eq!(b.identification, req.identification);
    assert_eq!(b.spi, SPI);
    assert_eq!(b.care_of[0].expires, Expiry::At(at(300)));
}

#[test]
fn the_encapsulation_follows_the_m_and_g_bits() {
    for (flags, encap) in [
        (0x10, Encap::Minimal),
        (0x08, Encap::Gre),
        (0x02, Encap::IpInIp),
    ] {
        let mut ha = ha();
        let mut req = Req::new(at(0));
        req.flags = flags;
        let o = send(&mut ha, &req, at(0));
        assert_eq!(o.reason, Reason::Registered);
        assert_eq!(ha.bindings().get(HOME).unwrap().encap, encap);
    }
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.flags = 0x18;
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::PoorlyFormed);
    assert_eq!(reply_of(&o).code, ReplyCode::HA_POORLY_FORMED_REQUEST);
    assert!(ha.bindings().is_empty());
}

#[test]
fn replayed_identification_is_rejected_with_133_and_no_change() {
    let mut ha = ha();
    let req = Req::new(at(0));
    assert_eq!(send(&mut ha, &req, at(0)).reason, Reason::Registered);
    let before = ha.bindings().get(HOME).cloned();
    // The very same bytes again, a second later: within the tolerance, not newer.
    let o = send(&mut ha, &req, at(1));
    assert_eq!(o.reason, Reason::Replayed);
    assert!(o.updates.is_empty());
    let r = reply_of(&o);
    assert_eq!(r.code, ReplyCode::HA_IDENTIFICATION_MISMATCH);
    // High-order 32 bits: the home agent's time; low-order: the request's.
    assert_eq!(r.identification >> 32, ntp_timestamp(at(1)) >> 32);
    assert_eq!(
        r.identification & 0xffff_ffff,
        req.identification & 0xffff_ffff
    );
    assert!(reply_authenticated(&o, SPI, KEY));
    assert_eq!(ha.bindings().get(HOME).cloned(), before);
    // An older timestamp is a replay too, even once the binding is gone.
    let mut dereg = Req::new(at(2));
    dereg.lifetime = 0;
    dereg.care_of = HOME;
    assert_eq!(send(&mut ha, &dereg, at(2)).reason, Reason::Deregistered);
    let o = send(&mut ha, &req, at(3));
    assert_eq!(o.reason, Reason::Replayed);
    assert!(ha.bindings().is_empty());
}

#[test]
fn a_timestamp_outside_the_tolerance_gets_133_with_the_home_agents_time() {
    let mut ha = ha();
    for skew in [8i64, -8] {
        let now = at(100);
        let mut req = Req::new(now);
        req.identification = ntp_timestamp(at((100 + skew) as u64)) | 0x1234;
        let o = send(&mut ha, &req, now);
        assert_eq!(o.reason, Reason::IdentificationMismatch);
        let r = reply_of(&o);
        assert_eq!(r.code, ReplyCode::HA_IDENTIFICATION_MISMATCH);
        assert_eq!(
            r.identification,
            (ntp_timestamp(now) & !0xffff_ffff) | (req.identification & 0xffff_ffff)
        );
        assert!(o.updates.is_empty());
    }
    // Seven seconds off is still within the default tolerance.
    let mut req = Req::new(at(100));
    req.identification = ntp_timestamp(at(107));
    assert_eq!(send(&mut ha, &req, at(100)).reason, Reason::Registered);
}

#[test]
fn wrong_key_is_rejected_with_131_and_no_change() {
    let mut ha = ha();
    assert_eq!(
        send(&mut ha, &Req::new(at(0)), at(0)).reason,
        Reason::Registered
    );
    let before = ha.bindings().get(HOME).cloned();
    let mut req = Req::new(at(1));
    req.care_of = COA2;
    req.key = b"not the right key".to_vec();
    let o = send(&mut ha, &req, at(1));
    assert_eq!(o.reason, Reason::FailedAuthentication);
    let r = reply_of(&o);
    assert_eq!(r.code, ReplyCode::HA_MOBILE_NODE_FAILED_AUTHENTICATION);
    assert_eq!(r.identification, req.identification);
    assert!(o.updates.is_empty());
    // The reply is authenticated with the key the home agent holds.
    assert!(reply_authenticated(&o, SPI, KEY));
    assert_eq!(ha.bindings().get(HOME).cloned(), before);
    // A failed request does not consume its Identification: the right key still works.
    req.key = KEY.to_vec();
    assert_eq!(send(&mut ha, &req, at(1)).reason, Reason::Registered);
}

#[test]
fn a_tampered_request_fails_authentication() {
    let mut ha = ha();
    let mut b = Req::new(at(0)).bytes();
    b[15] ^= 1; // the care-of address
    let o = ha.handle_request(&b, mobile(), HA, at(0));
    assert_eq!(o.reason, Reason::FailedAuthentication);
    assert!(ha.bindings().is_empty());
}

#[test]
fn missing_duplicate_or_unknown_authentication_is_131() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.mn_ha = false;
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::MissingAuthentication);
    assert_eq!(
        reply_of(&o).code,
        ReplyCode::HA_MOBILE_NODE_FAILED_AUTHENTICATION
    );
    // No association: the reply cannot be authenticated.
    assert!(!has_extensions(&o));

    let mut req = Req::new(at(0));
    let mut twice = req.bytes();
    push_auth(&mut twice, 32, SPI, KEY);
    let o = ha.handle_request(&twice, mobile(), HA, at(0));
    assert_eq!(o.reason, Reason::MissingAuthentication);

    req.spi = 999;
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::UnknownSecurityAssociation);
    assert_eq!(
        reply_of(&o).code,
        ReplyCode::HA_MOBILE_NODE_FAILED_AUTHENTICATION
    );
    assert!(!has_extensions(&o));
    assert!(ha.bindings().is_empty());
}

#[test]
fn the_lifetime_is_clamped_to_the_maximum() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.lifetime = 0xfffe;
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::Registered);
    assert_eq!(reply_of(&o).lifetime, 600);
    assert_eq!(
        ha.bindings().get(HOME).unwrap().care_of[0].expires,
        Expiry::At(at(600))
    );
    // An infinite lifetime is clamped too.
    let mut req = Req::new(at(1));
    req.lifetime = 0xffff;
    assert_eq!(reply_of(&send(&mut ha, &req, at(1))).lifetime, 600);
}

#[test]
fn an_infinite_lifetime_is_granted_only_when_the_maximum_allows_it() {
    let mut c = config();
    c.max_lifetime = 0xffff;
    let mut ha = HomeAgent::with_nonces(c, NonceSource::with_key([0; 16]));
    let mut req = Req::new(at(0));
    req.lifetime = 0xffff;
    assert_eq!(reply_of(&send(&mut ha, &req, at(0))).lifetime, 0xffff);
    assert_eq!(
        ha.bindings().get(HOME).unwrap().care_of[0].expires,
        Expiry::Never
    );
    assert!(ha.expire(at(10_000_000)).is_empty());
}

#[test]
fn deregistration_with_care_of_home_removes_the_binding_from_every_worker() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.flags = 0x80;
    send(&mut ha, &req, at(0));
    req.care_of = COA2;
    req.identification = ntp_timestamp(at(1));
    send(&mut ha, &req, at(1));
    assert_eq!(care_of_list(&ha, HOME), vec![COA, COA2]);
    let mut dereg = Req::new(at(2));
    dereg.lifetime = 0;
    dereg.care_of = HOME;
    let o = send(&mut ha, &dereg, at(2));
    assert_eq!(o.reason, Reason::Deregistered);
    let r = reply_of(&o);
    assert_eq!((r.code, r.lifetime), (ReplyCode::ACCEPTED, 0));
    assert_eq!(
        o.updates,
        vec![Update::RemoveBinding {
            home: IpAddr::V4(HOME)
        }]
    );
    assert!(ha.bindings().is_empty());
}

#[test]
fn deregistering_one_care_of_address_keeps_the_others() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.flags = 0x80;
    send(&mut ha, &req, at(0));
    req.care_of = COA2;
    req.identification = ntp_timestamp(at(1));
    send(&mut ha, &req, at(1));
    let mut dereg = Req::new(at(2));
    dereg.lifetime = 0;
    dereg.care_of = COA;
    let o = send(&mut ha, &dereg, at(2));
    assert_eq!(o.reason, Reason::Deregistered);
    match &o.updates[..] {
        [Update::Binding { binding, .. }] => {
            assert_eq!(binding.care_of.as_slice(), &[IpAddr::V4(COA2)])
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(care_of_list(&ha, HOME), vec![COA2]);
}

#[test]
fn care_of_home_address_with_a_lifetime_deregisters_too() {
    let mut ha = ha();
    send(&mut ha, &Req::new(at(0)), at(0));
    let mut req = Req::new(at(1));
    req.care_of = HOME;
    let o = send(&mut ha, &req, at(1));
    assert_eq!(o.reason, Reason::Deregistered);
    assert_eq!(reply_of(&o).lifetime, 0);
    assert_eq!(
        o.updates,
        vec![Update::RemoveBinding {
            home: IpAddr::V4(HOME)
        }]
    );
}

#[test]
fn deregistering_what_is_not_bound_is_accepted_without_updates() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.lifetime = 0;
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::Deregistered);
    assert!(o.updates.is_empty());
}

#[test]
fn simultaneous_bindings_add_care_of_addresses_up_to_the_maximum_then_135() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.flags = 0x80;
    assert_eq!(send(&mut ha, &req, at(0)).reason, Reason::Registered);
    req.care_of = COA2;
    req.identification = ntp_timestamp(at(1));
    let o = send(&mut ha, &req, at(1));
    assert_eq!(o.reason, Reason::Registered);
    assert_eq!(reply_of(&o).code, ReplyCode::ACCEPTED);
    match &o.updates[..] {
        [Update::Binding { binding, .. }] => assert_eq!(
            binding.care_of.as_slice(),
            &[IpAddr::V4(COA), IpAddr::V4(COA2)]
        ),
        other => panic!("{other:?}"),
    }
    req.care_of = Ipv4Addr::new(198, 51, 100, 9);
    req.identification = ntp_timestamp(at(2));
    let o = send(&mut ha, &req, at(2));
    assert_eq!(o.reason, Reason::TooManyBindings);
    assert_eq!(reply_of(&o).code, ReplyCode::HA_TOO_MANY_BINDINGS);
    assert!(o.updates.is_empty());
    assert_eq!(care_of_list(&ha, HOME), vec![COA, COA2]);
    // Without the S bit the new care-of address replaces them all.
    req.flags = 0;
    req.identification = ntp_timestamp(at(3));
    assert_eq!(send(&mut ha, &req, at(3)).reason, Reason::Registered);
    assert_eq!(
        care_of_list(&ha, HOME),
        vec![Ipv4Addr::new(198, 51, 100, 9)]
    );
}

#[test]
fn the_s_bit_without_support_is_accepted_with_code_1_and_replaces() {
    let mut c = config();
    c.max_care_of = 1;
    let mut ha = HomeAgent::with_nonces(c, NonceSource::with_key([0; 16]));
    let mut req = Req::new(at(0));
    req.flags = 0x80;
    send(&mut ha, &req, at(0));
    req.care_of = COA2;
    req.identification = ntp_timestamp(at(1));
    let o = send(&mut ha, &req, at(1));
    assert_eq!(o.reason, Reason::RegisteredWithoutSimultaneousBindings);
    assert_eq!(
        reply_of(&o).code,
        ReplyCode::ACCEPTED_NO_SIMULTANEOUS_BINDINGS
    );
    assert_eq!(care_of_list(&ha, HOME), vec![COA2]);
}

#[test]
fn a_home_address_off_the_home_networks_is_129() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.home = Ipv4Addr::new(10, 9, 9, 9);
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::AdministrativelyProhibited);
    assert_eq!(reply_of(&o).code, ReplyCode::HA_ADMINISTRATIVELY_PROHIBITED);
    assert!(reply_authenticated(&o, SPI, KEY));
    assert!(ha.bindings().is_empty());
}

#[test]
fn a_full_binding_list_is_130() {
    let mut c = config();
    c.max_bindings = 1;
    let mut ha = HomeAgent::with_nonces(c, NonceSource::with_key([0; 16]));
    let mut req = Req::new(at(0));
    req.home = Ipv4Addr::new(192, 0, 2, 99);
    req.before_auth = nai_ext(b"mn@example.com");
    req.spi = 400;
    assert_eq!(send(&mut ha, &req, at(0)).reason, Reason::Registered);
    let o = send(&mut ha, &Req::new(at(1)), at(1));
    assert_eq!(o.reason, Reason::InsufficientResources);
    assert_eq!(reply_of(&o).code, ReplyCode::HA_INSUFFICIENT_RESOURCES);
    assert_eq!(ha.bindings().len(), 1);
}

#[test]
fn a_request_to_a_broadcast_address_is_136_with_the_home_agents_address() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.home_agent = Ipv4Addr::new(192, 0, 2, 255);
    let o = ha.handle_request(&req.bytes(), mobile(), Ipv4Addr::new(192, 0, 2, 255), at(0));
    assert_eq!(o.reason, Reason::UnknownHomeAgent);
    let r = reply_of(&o);
    assert_eq!(r.code, ReplyCode::HA_UNKNOWN_HOME_AGENT_ADDRESS);
    assert_eq!(r.home_agent, HA);
    assert!(reply_authenticated(&o, SPI, KEY));
    // The reply leaves from the home agent's unicast address.
    assert_eq!(o.reply.unwrap().source, SocketAddrV4::new(HA, 434));
    assert!(ha.bindings().is_empty());
    // A unicast Home Agent field that is not this home agent's: 136 too.
    let mut req = Req::new(at(1));
    req.home_agent = Ipv4Addr::new(192, 0, 2, 2);
    assert_eq!(send(&mut ha, &req, at(1)).reason, Reason::UnknownHomeAgent);
}

#[test]
fn malformed_or_unrecognised_extensions_are_134() {
    let mut ha = ha();
    let mut b = Req::new(at(0)).bytes();
    b.extend_from_slice(&[131, 10, b'x']); // NAI running past the end
    let o = ha.handle_request(&b, mobile(), HA, at(0));
    assert_eq!(o.reason, Reason::PoorlyFormed);
    assert_eq!(reply_of_bytes(&o).0, ReplyCode::HA_POORLY_FORMED_REQUEST);
    // Unrecognised type 40 (0–127: reject) before the authenticator.
    let mut req = Req::new(at(1));
    req.before_auth = vec![40, 2, 0, 0];
    let o = send(&mut ha, &req, at(1));
    assert_eq!(o.reason, Reason::PoorlyFormed);
    assert!(reply_authenticated(&o, SPI, KEY));
    // An unrecognised skippable type (128–255) is ignored.
    let mut req = Req::new(at(2));
    req.before_auth = vec![200, 2, 0, 0];
    assert_eq!(send(&mut ha, &req, at(2)).reason, Reason::Registered);
    // A multicast or own care-of address is poorly formed.
    for (i, care_of) in [Ipv4Addr::new(224, 0, 0, 5), HA, Ipv4Addr::UNSPECIFIED]
        .into_iter()
        .enumerate()
    {
        let mut req = Req::new(at(3));
        req.identification = ntp_timestamp(at(3)) + i as u64 + 1;
        req.care_of = care_of;
        assert_eq!(
            send(&mut ha, &req, at(3)).reason,
            Reason::PoorlyFormed,
            "{care_of}"
        );
    }
}

fn reply_of_bytes(o: &Outcome) -> (ReplyCode, usize) {
    let r = o.reply.as_ref().unwrap();
    (ReplyCode(r.bytes[1]), r.bytes.len())
}

#[test]
fn a_foreign_agent_with_an_association_must_authenticate_or_132() {
    let mut ha = ha();
    let fa = SocketAddrV4::new(FA, 434);
    let req = Req::new(at(0));
    let o = ha.handle_request(&req.bytes(), fa, HA, at(0));
    assert_eq!(o.reason, Reason::ForeignAgentFailedAuthentication);
    assert_eq!(
        reply_of(&o).code,
        ReplyCode::HA_FOREIGN_AGENT_FAILED_AUTHENTICATION
    );
    assert!(ha.bindings().is_empty());
    let mut req = Req::new(at(1));
    req.fa_ha = Some((500, b"wrong".to_vec()));
    let o = ha.handle_request(&req.bytes(), fa, HA, at(1));
    assert_eq!(o.reason, Reason::ForeignAgentFailedAuthentication);
    let mut req = Req::new(at(2));
    req.after_auth = nai_ext(b"fa-only extension after MN-HA is not trusted");
    req.fa_ha = Some((500, FA_KEY.to_vec()));
    let o = ha.handle_request(&req.bytes(), fa, HA, at(2));
    assert_eq!(o.reason, Reason::Registered);
    // The reply goes back to the foreign agent, with both authenticators.
    let reply = o.reply.as_ref().unwrap();
    assert_eq!(reply.destination, fa);
    assert!(reply_authenticated(&o, SPI, KEY));
    let p = RegistrationReplyPacket::new_checked(&reply.bytes[..]).unwrap();
    let fa_ok = p.extensions().flatten().any(|(off, e)| match e {
        RegistrationExtension::Authentication {
            ext_type: RegistrationExtensionType::FA_HA_AUTHENTICATION,
            spi: 500,
            authenticator: tag,
        } => security::verify(
            Algorithm::HmacMd5,
            FA_KEY,
            p.authenticated_bytes(off).unwrap(),
            tag,
        ),
        _ => false,
    });
    assert!(fa_ok);
    // An NAI after the MN-HA extension is not kept.
    assert_eq!(ha.bindings().get(HOME).unwrap().nai, None);
}

#[test]
fn nonces_resynchronise_then_accept_and_a_replay_is_133() {
    let home = Ipv4Addr::new(192, 0, 2, 20);
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.home = home;
    req.spi = 300;
    req.identification = 0xdead_beef_0000_0001;
    // First contact: the mobile node has no nonce yet.
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::IdentificationMismatch);
    let r = reply_of(&o);
    assert_eq!(r.identification & 0xffff_ffff, 1);
    assert!(reply_authenticated(&o, 300, KEY));
    let nonce = r.identification >> 32;
    req.identification = nonce << 32 | 2;
    let o = send(&mut ha, &req, at(1));
    assert_eq!(o.reason, Reason::Registered);
    let r = reply_of(&o);
    assert_eq!(r.identification & 0xffff_ffff, 2);
    assert_ne!(r.identification >> 32, nonce);
    // The same request again: its nonce is spent.
    let o = send(&mut ha, &req, at(2));
    assert_eq!(o.reason, Reason::IdentificationMismatch);
    assert!(o.updates.is_empty());
}

#[test]
fn the_nai_is_kept_and_may_select_the_association() {
    let mut ha = ha();
    let home = Ipv4Addr::new(192, 0, 2, 30);
    let mut req = Req::new(at(0));
    req.home = home;
    req.spi = 400;
    req.before_auth = nai_ext(b"mn@example.com");
    let o = send(&mut ha, &req, at(0));
    assert_eq!(o.reason, Reason::Registered);
    assert_eq!(
        ha.bindings().get(home).unwrap().nai.as_deref(),
        Some(&b"mn@example.com"[..])
    );
    // The reply carries the NAI back before the authenticator.
    let reply = reply_of(&o);
    assert_eq!(reply.extensions.nai(), Some(&b"mn@example.com"[..]));
    // Another NAI cannot take the home address over, nor can an NAI association
    // claim a home address owned by a home-address association.
    let mut c = config();
    c.security_associations.push(SecurityAssociation {
        mobile_node: MobileNodeId::Nai(b"other@example.com"[..].into()),
        spi: 400,
        key: Key(KEY.to_vec()),
        algorithm: Algorithm::HmacMd5,
        replay: ReplayProtection::Timestamps {
            tolerance: Duration::from_secs(7),
        },
    });
    let mut ha2 = HomeAgent::with_nonces(c, NonceSource::with_key([0; 16]));
    assert_eq!(send(&mut ha2, &req, at(0)).reason, Reason::Registered);
    let mut other = req.clone();
    other.before_auth = nai_ext(b"other@example.com");
    other.identification = ntp_timestamp(at(1));
    assert_eq!(
        send(&mut ha2, &other, at(1)).reason,
        Reason::AdministrativelyProhibited
    );
    let mut grab = req.clone();
    grab.home = HOME;
    grab.identification = ntp_timestamp(at(2));
    assert_eq!(
        send(&mut ha2, &grab, at(2)).reason,
        Reason::AdministrativelyProhibited
    );
}

#[test]
fn expiry_removes_the_binding_from_every_worker() {
    let mut ha = ha();
    let mut req = Req::new(at(0));
    req.lifetime = 30;
    send(&mut ha, &req, at(0));
    assert_eq!(ha.next_expiry(), Some(at(30)));
    assert!(ha.expire(at(29)).is_empty());
    assert_eq!(
        ha.expire(at(30)),
        vec![Update::RemoveBinding {
            home: IpAddr::V4(HOME)
        }]
    );
    assert!(ha.bindings().is_empty());
    assert_eq!(ha.next_expiry(), None);
}

#[test]
fn unreadable_requests_and_unusable_sources_are_dropped_silently() {
    let mut ha = ha();
    let good = Req::new(at(0)).bytes();
    let o = ha.handle_request(&good[..23], mobile(), HA, at(0));
    assert_eq!((o.reason, o.reply), (Reason::NotARequest, None));
    let mut reply_type = good.clone();
    reply_type[0] = 3;
    assert_eq!(
        ha.handle_request(&reply_type, mobile(), HA, at(0)).reason,
        Reason::NotARequest
    );
    for from in [
        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 434),
        SocketAddrV4::new(Ipv4Addr::BROADCAST, 434),
        SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 1), 434),
        SocketAddrV4::new(COA, 0),
    ] {
        let o = ha.handle_request(&good, from, HA, at(0));
        assert_eq!((o.reason, o.reply), (Reason::UnusableSource, None));
    }
    assert!(ha.bindings().is_empty());
}

#[test]
fn reasons_are_listed_in_counter_order_with_their_codes() {
    for (i, r) in Reason::ALL.iter().enumerate() {
        assert_eq!(*r as usize, i);
        assert!(!r.name().is_empty());
    }
    let codes: Vec<u8> = Reason::ALL
        .iter()
        .filter_map(|r| r.code())
        .map(|c| c.0)
        .collect();
    for code in [0, 1, 128, 129, 130, 131, 132, 133, 134, 135, 136] {
        assert!(codes.contains(&code), "{code}");
    }
}

proptest! {
    #[test]
    fn no_byte_string_makes_handle_request_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..120),
        port in any::<u16>(), src in any::<u32>(), dst in any::<u32>(), secs in any::<u32>(),
    ) {
        let mut ha = ha();
        let from = SocketAddrV4::new(Ipv4Addr::from_bits(src), port);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(secs));
        let o = ha.handle_request(&bytes, from, Ipv4Addr::from_bits(dst), now);
        prop_assert!(o.reason.code().is_some() == o.reply.is_some());
        // Nothing unauthenticated changes state.
        prop_assert!(o.updates.is_empty());
    }

    #[test]
    fn no_mutation_of_a_valid_request_panics_or_changes_state_unauthenticated(
        flips in proptest::collection::vec((0usize..64, any::<u8>()), 1..4),
        cut in 0usize..64, from_fa in any::<bool>(),
    ) {
        let mut ha = ha();
        let mut b = Req::new(at(0)).bytes();
        let original = b.clone();
        for (i, x) in flips {
            if let Some(byte) = b.get_mut(i) {
                *byte ^= x;
            }
        }
        b.truncate(b.len().saturating_sub(cut));
        let from = if from_fa { SocketAddrV4::new(FA, 434) } else { mobile() };
        let o = ha.handle_request(&b, from, HA, at(0));
        if b != original {
            prop_assert!(o.updates.is_empty());
        }
    }
}
