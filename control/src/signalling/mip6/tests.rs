use std::time::Duration;

use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet, Ipv6Repr};
use mipdp_dataplane::wire::ipv6ext::{walk_chain, Ipv6OptionsHeader, Ipv6OptionsRepr};
use mipdp_dataplane::wire::mh_options::NonceIndices;
use proptest::prelude::*;

use super::config::Key;
use super::*;

const KEY: &[u8] = b"0123456789abcdef";
const SPI: u32 = 256;

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
fn ha_addr() -> Ipv6Addr {
    addr("2001:db8:1::1")
}
fn home() -> Ipv6Addr {
    addr("2001:db8:1::10")
}
fn coa() -> Ipv6Addr {
    addr("2001:db8:2::7")
}
fn off_net() -> Ipv6Addr {
    addr("2001:db8:9::9")
}

const T0: u64 = 1_700_000_000;

pub(crate) fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

fn ntp(secs: u64) -> u64 {
    ntp_timestamp(t(secs))
}

fn sa(home_address: Ipv6Addr) -> SecurityAssociation6 {
    SecurityAssociation6 {
        home_address,
        spi: SPI,
        key: Key(KEY.to_vec()),
        timestamp_tolerance: Duration::from_secs(7),
    }
}

fn config() -> HomeAgent6Config {
    HomeAgent6Config {
        addresses: vec![ha_addr()],
        home_prefixes: vec!["2001:db8:1::/64".parse().unwrap()],
        max_lifetime: 600,
        max_bindings: 16,
        security_associations: vec![sa(home()), sa(off_net())],
        operation: Default::default(),
        role: Role6::HomeAgent,
    }
}

/// A Binding Update as a mobile node sends it (the registrar's tests use it too), built with the wire types and the
/// authenticator of RFC 4285 §5.1.
#[derive(Debug, Clone)]
pub(crate) struct Bu {
    sequence: u16,
    lifetime: u16,
    home_registration: bool,
    source: Ipv6Addr,
    destination: Ipv6Addr,
    /// The Home Address option; None: none.
    hoa: Option<Ipv6Addr>,
    alternate_care_of: Option<Ipv6Addr>,
    timestamp: Option<u64>,
    nonce_indices: bool,
    /// (SPI, key) of the authentication option; None: no option.
    auth: Option<(u32, &'static [u8])>,
    /// The M flag (HMIPv6 local binding update).
    map_registration: bool,
    /// A vendor-specific option of mipdp's vendor id: (sub-type, data).
    vendor: Option<(u8, Vec<u8>)>,
}

impl Bu {
    fn new(sequence: u16, lifetime: u16, at: u64) -> Bu {
        Bu {
            sequence,
            lifetime,
            home_registration: true,
            source: coa(),
            destination: ha_addr(),
            hoa: Some(home()),
            alternate_care_of: None,
            timestamp: Some(ntp(at) | 0x1234),
            nonce_indices: false,
            auth: Some((SPI, KEY)),
            map_registration: false,
            vendor: None,
        }
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let home = self.hoa.unwrap_or(self.source);
        let care_of = self.alternate_care_of.unwrap_or(self.source);
        let placeholder = [0u8; 12];
        let repr = MhRepr::BindingUpdate(BindingUpdate {
            sequence: self.sequence,
            acknowledge: true,
            home_registration: self.home_registration,
            map_registration: self.map_registration,
            lifetime: self.lifetime,
            options: MobilityOptionsRepr {
                vendor_specific: self
                    .vendor
                    .as_ref()
                    .map(|(subtype, data)| crate::signalling::mma::option(*subtype, data)),
                alternate_care_of_address: self.alternate_care_of,
                nonce_indices: self.nonce_indices.then_some(NonceIndices {
                    home_nonce_index: 1,
                    care_of_nonce_index: 2,
                }),
                replay_protection: self.timestamp,
                message_authentication: self.auth.map(|(spi, _)| MessageAuthentication {
                    subtype: authentication_subtype::MN_HA,
                    spi,
                    authentication_data: &placeholder,
                }),
                ..Default::default()
            },
            ..Default::default()
        });
        let mut mh = packet::mobility_header(&repr, home, self.destination).unwrap();
        if let Some((_, key)) = self.auth {
            let layout = MobilityHeader::new_unchecked(&mh[..])
                .message_authentication_layout()
                .unwrap();
            let tag = security::authenticator(key, care_of, home, &mh, &layout);
            mh[layout.authenticator].copy_from_slice(&tag);
            MobilityHeader::new_unchecked(&mut mh[..]).fill_checksum(&home, &self.destination);
        }
        let dest_opts = self.hoa.map(|a| Ipv6OptionsRepr {
            next_header: next_header::MOBILITY,
            home_address: Some(a),
            ..Default::default()
        });
        let opts_len = dest_opts.map_or(0, |o| o.header_len());
        let ip = Ipv6Repr {
            src_addr: self.source,
            dst_addr: self.destination,
            next_header: if dest_opts.is_some() {
                next_header::DEST_OPTS
            } else {
                next_header::MOBILITY
            },
            payload_len: opts_len + mh.len(),
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        };
        let mut out = vec![0u8; ip.buffer_len()];
        ip.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]))
            .unwrap();
        if let Some(o) = dest_opts {
            o.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut out[40..]))
                .unwrap();
        }
        out[40 + opts_len..].copy_from_slice(&mh);
        out
    }
}

/// A received Binding Acknowledgement, read back with the wire types.
#[derive(Debug)]
struct Ba {
    source: Ipv6Addr,
    destination: Ipv6Addr,
    routing_home: Option<Ipv6Addr>,
    status: u8,
    sequence: u16,
    lifetime: u16,
    timestamp: Option<u64>,
    spi: Option<u32>,
    /// Whether the authenticator verifies under KEY with care-of `coa()`.
    authentic: bool,
}

fn read_ba(bytes: &[u8]) -> Ba {
    let ip = Ipv6Packet::new_checked(bytes).unwrap();
    let chain = walk_chain(ip.next_header(), ip.payload()).unwrap();
    assert_eq!(chain.upper_layer, next_header::MOBILITY);
    let mh = &ip.payload()[chain.upper_layer_offset..];
    let final_dst = chain.type2_home_address.unwrap_or(ip.dst_addr());
    let header = MobilityHeader::new_checked(mh).unwrap();
    let MhRepr::BindingAcknowledgement(ba) =
        MhRepr::parse(&ip.src_addr(), &final_dst, &header, ChecksumMode::Verify).unwrap()
    else {
        panic!("not a BA")
    };
    let authentic = header
        .message_authentication_layout()
        .is_some_and(|l| security::verify(KEY, coa(), final_dst, mh, &l));
    Ba {
        source: ip.src_addr(),
        destination: ip.dst_addr(),
        routing_home: chain.type2_home_address,
        status: ba.status,
        sequence: ba.sequence,
        lifetime: ba.lifetime,
        timestamp: ba.options.replay_protection,
        spi: ba.options.message_authentication.map(|a| a.spi),
        authentic,
    }
}

fn send(ha: &mut HomeAgent6, bu: &Bu, at: u64) -> (Outcome, Option<Ba>) {
    let o = ha.handle_binding_update(&bu.bytes(), t(at));
    let ba = o.reply.as_deref().map(read_ba);
    (o, ba)
}

fn bound(ha: &HomeAgent6) -> Option<(Ipv6Addr, u16)> {
    ha.bindings().get(home()).map(|b| (b.care_of, b.sequence))
}

#[test]
fn accepted_registration_is_acknowledged_to_the_care_of_address_through_a_type_2_routing_header() {
    let mut ha = HomeAgent6::new(config());
    let (o, ba) = send(&mut ha, &Bu::new(7, 100, 0), 0);
    assert_eq!(o.reason, Reason::Registered);
    let ba = ba.unwrap();
    assert_eq!((ba.source, ba.destination), (ha_addr(), coa()));
    assert_eq!(ba.routing_home, Some(home()));
    assert_eq!((ba.status, ba.sequence, ba.lifetime), (0, 7, 100));
    assert_eq!(ba.timestamp, Some(ntp(0) | 0x1234), "echoes the timestamp");
    assert_eq!(ba.spi, Some(SPI));
    assert!(ba.authentic);
    assert_eq!(
        o.updates,
        vec![Update::Binding {
            home: IpAddr::V6(home()),
            binding: ha.bindings().get(home()).unwrap().dataplane().unwrap(),
        }]
    );
    assert_eq!(bound(&ha), Some((coa(), 7)));
    assert_eq!(ha.next_expiry(), Some(t(400)));
}

#[test]
fn sequence_number_65535_is_followed_by_0() {
    let mut ha = HomeAgent6::new(config());
    assert_eq!(
        send(&mut ha, &Bu::new(65535, 10, 0), 0).0.reason,
        Reason::Registered
    );
    let (o, ba) = send(&mut ha, &Bu::new(0, 10, 1), 1);
    assert_eq!(o.reason, Reason::Registered);
    assert_eq!(ba.unwrap().sequence, 0);
    assert_eq!(bound(&ha), Some((coa(), 0)));
}

#[test]
fn sequence_number_not_greater_is_135_with_the_last_accepted_one() {
    let mut ha = HomeAgent6::new(config());
    send(&mut ha, &Bu::new(1, 10, 0), 0);
    for (i, seq) in [0u16, 1, 32769].into_iter().enumerate() {
        let mut bu = Bu::new(seq, 10, 1 + i as u64);
        bu.alternate_care_of = Some(addr("2001:db8:2::8"));
        let (o, ba) = send(&mut ha, &bu, 1 + i as u64);
        assert_eq!(o.reason, Reason::SequenceOutOfWindow, "{seq}");
        let ba = ba.unwrap();
        assert_eq!((ba.status, ba.sequence, ba.lifetime), (135, 1, 0));
        assert!(o.updates.is_empty());
        assert_eq!(bound(&ha), Some((coa(), 1)), "binding unchanged");
    }
}

#[test]
fn sequence_comparison_is_modulo_2_to_the_16() {
    // RFC 6275 §9.5.1's example: after 15, 0..=15 and 32783..=65535 are not greater.
    for s in (0..=15).chain(32783..=65535) {
        assert!(!sequence_greater(s, 15), "{s}");
    }
    for s in 16..=32782 {
        assert!(sequence_greater(s, 15), "{s}");
    }
}

#[test]
fn lifetime_is_clamped_to_the_configured_maximum() {
    let mut ha = HomeAgent6::new(config());
    let (o, ba) = send(&mut ha, &Bu::new(1, 0xffff, 0), 0);
    assert_eq!(o.reason, Reason::Registered);
    assert_eq!(ba.unwrap().lifetime, 150, "600 s in 4-second units");
    assert_eq!(ha.bindings().get(home()).unwrap().lifetime, 600);
    assert_eq!(ha.next_expiry(), Some(t(600)));
    assert_eq!(ha.expire(t(599)), vec![]);
    assert_eq!(
        ha.expire(t(600)),
        vec![Update::RemoveBinding {
            home: IpAddr::V6(home())
        }]
    );
}

#[test]
fn lifetime_zero_or_care_of_equal_to_home_deregisters() {
    let mut ha = HomeAgent6::new(config());
    send(&mut ha, &Bu::new(1, 10, 0), 0);
    let (o, ba) = send(&mut ha, &Bu::new(2, 0, 1), 1);
    assert_eq!(o.reason, Reason::Deregistered);
    assert_eq!(
        o.updates,
        vec![Update::RemoveBinding {
            home: IpAddr::V6(home())
        }]
    );
    let ba = ba.unwrap();
    assert_eq!((ba.status, ba.sequence, ba.lifetime), (0, 2, 0));
    assert!(ha.bindings().is_empty());

    send(&mut ha, &Bu::new(3, 10, 2), 2);
    // Returning home: from the home address, no Home Address option (RFC 6275 §11.5.5).
    let mut at_home = Bu::new(4, 10, 3);
    at_home.source = home();
    at_home.hoa = None;
    let o = ha.handle_binding_update(&at_home.bytes(), t(3));
    assert_eq!(o.reason, Reason::Deregistered);
    let reply = o.reply.unwrap();
    let ip = Ipv6Packet::new_checked(&reply[..]).unwrap();
    assert_eq!(ip.dst_addr(), home());
    assert_eq!(ip.next_header(), next_header::MOBILITY, "no routing header");
    assert!(ha.bindings().is_empty());
}

#[test]
fn deregistration_without_a_binding_is_133() {
    let mut ha = HomeAgent6::new(config());
    let (o, ba) = send(&mut ha, &Bu::new(1, 0, 0), 0);
    assert_eq!(o.reason, Reason::NotHomeAgentForThisMobileNode);
    assert_eq!(ba.unwrap().status, 133);
}

#[test]
fn home_address_off_the_home_prefixes_is_132() {
    let mut ha = HomeAgent6::new(config());
    let mut bu = Bu::new(1, 10, 0);
    bu.hoa = Some(off_net());
    let o = ha.handle_binding_update(&bu.bytes(), t(0));
    assert_eq!(o.reason, Reason::NotHomeSubnet);
    assert!(o.updates.is_empty() && ha.bindings().is_empty());
    let ip = Ipv6Packet::new_checked(&o.reply.unwrap()[..])
        .unwrap()
        .src_addr();
    assert_eq!(ip, ha_addr());
}

#[test]
fn a_full_cache_is_130() {
    let mut c = config();
    c.max_bindings = 1;
    c.security_associations.push(sa(addr("2001:db8:1::11")));
    let mut ha = HomeAgent6::new(c);
    send(&mut ha, &Bu::new(1, 10, 0), 0);
    let mut other = Bu::new(1, 10, 1);
    other.hoa = Some(addr("2001:db8:1::11"));
    let o = ha.handle_binding_update(&other.bytes(), t(1));
    assert_eq!(o.reason, Reason::InsufficientResources);
    assert_eq!(ha.bindings().len(), 1);
}

#[test]
fn an_unusable_alternate_care_of_address_is_128() {
    let mut ha = HomeAgent6::new(config());
    for (i, bad) in [addr("fe80::1"), addr("ff0e::1"), ha_addr()]
        .into_iter()
        .enumerate()
    {
        let mut bu = Bu::new(1 + i as u16, 10, i as u64);
        bu.alternate_care_of = Some(bad);
        let (o, ba) = send(&mut ha, &bu, i as u64);
        assert_eq!(o.reason, Reason::UnusableCareOf, "{bad}");
        assert_eq!(ba.unwrap().status, 128);
    }
    assert!(ha.bindings().is_empty());
}

#[test]
fn the_alternate_care_of_address_is_bound_and_the_ack_goes_to_the_source() {
    let mut ha = HomeAgent6::new(config());
    let mut bu = Bu::new(1, 10, 0);
    bu.alternate_care_of = Some(addr("2001:db8:3::3"));
    let o = ha.handle_binding_update(&bu.bytes(), t(0));
    assert_eq!(o.reason, Reason::Registered);
    assert_eq!(bound(&ha), Some((addr("2001:db8:3::3"), 1)));
    let ip = Ipv6Packet::new_checked(&o.reply.unwrap()[..])
        .unwrap()
        .dst_addr();
    assert_eq!(ip, coa());
}

#[test]
fn wrong_key_is_146_authenticated_and_changes_nothing() {
    let mut ha = HomeAgent6::new(config());
    send(&mut ha, &Bu::new(1, 10, 0), 0);
    let mut bu = Bu::new(2, 0, 1);
    bu.auth = Some((SPI, b"fedcba9876543210"));
    let (o, ba) = send(&mut ha, &bu, 1);
    assert_eq!(o.reason, Reason::FailedAuthentication);
    let ba = ba.unwrap();
    assert_eq!((ba.status, ba.spi, ba.authentic), (146, Some(SPI), true));
    assert!(o.updates.is_empty());
    assert_eq!(bound(&ha), Some((coa(), 1)));
    // Its timestamp was not consumed: the genuine update with it still goes through.
    let (o, _) = send(&mut ha, &Bu::new(2, 0, 1), 1);
    assert_eq!(o.reason, Reason::Deregistered);
}

#[test]
fn unknown_spi_is_146_without_an_authentication_option() {
    let mut ha = HomeAgent6::new(config());
    let mut bu = Bu::new(1, 10, 0);
    bu.auth = Some((999, KEY));
    let (o, ba) = send(&mut ha, &bu, 0);
    assert_eq!(o.reason, Reason::UnknownSecurityAssociation);
    let ba = ba.unwrap();
    assert_eq!((ba.status, ba.spi), (146, None));
    assert!(ha.bindings().is_empty());
}

#[test]
fn missing_timestamp_is_145() {
    let mut ha = HomeAgent6::new(config());
    let mut bu = Bu::new(1, 10, 0);
    bu.timestamp = None;
    let (o, ba) = send(&mut ha, &bu, 0);
    assert_eq!(o.reason, Reason::MissingReplayProtection);
    let ba = ba.unwrap();
    assert_eq!((ba.status, ba.timestamp, ba.authentic), (145, None, true));
    assert!(ha.bindings().is_empty());
}

#[test]
fn timestamp_outside_the_tolerance_is_144_with_the_home_agents_time() {
    let mut ha = HomeAgent6::new(config());
    let mut bu = Bu::new(1, 10, 0);
    bu.timestamp = Some(ntp(8));
    let (o, ba) = send(&mut ha, &bu, 0);
    assert_eq!(o.reason, Reason::TimestampMismatch);
    let ba = ba.unwrap();
    assert_eq!((ba.status, ba.timestamp), (144, Some(ntp(0))));
    bu.timestamp = Some(ntp(7));
    assert_eq!(send(&mut ha, &bu, 0).0.reason, Reason::Registered);
}

#[test]
fn replayed_binding_update_is_144_even_after_deregistration() {
    let mut ha = HomeAgent6::new(config());
    let register = Bu::new(1, 10, 0);
    send(&mut ha, &register, 0);
    let (o, ba) = send(&mut ha, &register, 1);
    assert_eq!(o.reason, Reason::Replayed);
    assert_eq!(ba.unwrap().timestamp, Some(ntp(1)));
    send(&mut ha, &Bu::new(2, 0, 2), 2);
    assert!(ha.bindings().is_empty());
    // No binding, so any sequence number would do (RFC 6275 §9.5.1); the timestamp
    // still stops the replay.
    let (o, _) = send(&mut ha, &register, 3);
    assert_eq!(o.reason, Reason::Replayed);
    assert!(o.updates.is_empty() && ha.bindings().is_empty());
}

#[test]
fn unprotected_or_non_home_registrations_are_dropped_silently() {
    let mut ha = HomeAgent6::new(config());
    let mut no_auth = Bu::new(1, 10, 0);
    no_auth.auth = None;
    let mut correspondent = Bu::new(1, 10, 0);
    correspondent.home_registration = false;
    let mut nonce = Bu::new(1, 10, 0);
    nonce.nonce_indices = true;
    let mut link_local = Bu::new(1, 10, 0);
    link_local.hoa = Some(addr("fe80::10"));
    let mut elsewhere = Bu::new(1, 10, 0);
    elsewhere.destination = addr("2001:db8:1::2");
    for (bu, reason) in [
        (no_auth, Reason::MissingAuthentication),
        (correspondent, Reason::CorrespondentRegistration),
        (nonce, Reason::NonceIndicesInHomeRegistration),
        (link_local, Reason::UnroutableHomeAddress),
        (elsewhere, Reason::NotForThisHomeAgent),
    ] {
        let o = ha.handle_binding_update(&bu.bytes(), t(0));
        assert_eq!((o.reason, o.reply.is_none()), (reason, true), "{bu:?}");
        assert_eq!(reason.answer(), Answer::Nothing);
    }
    let mut corrupted = Bu::new(1, 10, 0).bytes();
    let at = corrupted.len() - 5; // inside the authenticator
    corrupted[at] ^= 1;
    let o = ha.handle_binding_update(&corrupted, t(0));
    assert_eq!((o.reason, o.reply), (Reason::BadChecksum, None));
    assert!(ha.bindings().is_empty());
}

#[test]
fn unknown_mh_type_gets_a_binding_error_2() {
    let mut ha = HomeAgent6::new(config());
    let mut bytes = Bu::new(1, 10, 0).bytes();
    // MH starts after the IPv6 header and the 24-byte Destination Options header.
    bytes[40 + 24 + 2] = 42;
    let mut mh = bytes[64..].to_vec();
    MobilityHeader::new_unchecked(&mut mh[..]).fill_checksum(&home(), &ha_addr());
    bytes[64..].copy_from_slice(&mh);
    let o = ha.handle_binding_update(&bytes, t(0));
    assert_eq!(o.reason, Reason::UnknownMessageType);
    let reply = o.reply.unwrap();
    let ip = Ipv6Packet::new_checked(&reply[..]).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr()), (ha_addr(), coa()));
    let h = MobilityHeader::new_checked(ip.payload()).unwrap();
    assert_eq!(
        MhRepr::parse(&ha_addr(), &coa(), &h, ChecksumMode::Verify).unwrap(),
        MhRepr::BindingError {
            status: 2,
            home_address: home(),
            options: MobilityOptionsRepr::default()
        }
    );
}

#[test]
fn binding_refresh_request_is_tunnelled_to_the_care_of_address() {
    let mut ha = HomeAgent6::new(config());
    assert_eq!(ha.binding_refresh_request(home()), None);
    send(&mut ha, &Bu::new(1, 10, 0), 0);
    let brr = ha.binding_refresh_request(home()).unwrap();
    let outer = Ipv6Packet::new_checked(&brr[..]).unwrap();
    assert_eq!((outer.src_addr(), outer.dst_addr()), (ha_addr(), coa()));
    assert_eq!(outer.next_header(), next_header::IPV6);
    let inner = Ipv6Packet::new_checked(outer.payload()).unwrap();
    assert_eq!((inner.src_addr(), inner.dst_addr()), (ha_addr(), home()));
    assert_eq!(inner.next_header(), next_header::MOBILITY);
    let h = MobilityHeader::new_checked(inner.payload()).unwrap();
    assert_eq!(
        MhRepr::parse(&ha_addr(), &home(), &h, ChecksumMode::Verify).unwrap(),
        MhRepr::BindingRefreshRequest {
            options: MobilityOptionsRepr::default()
        }
    );
}

#[test]
fn removing_a_binding_takes_it_off_the_workers_once() {
    let mut ha = HomeAgent6::new(config());
    assert!(ha.remove(home()).is_empty());
    send(&mut ha, &Bu::new(1, 10, 0), 0);
    assert_eq!(
        ha.remove(home()),
        vec![Update::RemoveBinding {
            home: IpAddr::V6(home())
        }]
    );
    assert_eq!(bound(&ha), None);
    assert!(ha.remove(home()).is_empty());
    assert_eq!(ha.binding_refresh_request(home()), None);
}

#[test]
fn every_reason_has_a_distinct_name_and_its_counter_index() {
    let mut names: Vec<_> = Reason::ALL.iter().map(|r| r.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Reason::ALL.len());
    for (i, r) in Reason::ALL.iter().enumerate() {
        assert_eq!(*r as usize, i);
    }
}

proptest! {
    #[test]
    fn no_panic_and_no_change_on_arbitrary_or_mutated_packets(
        bytes in proptest::collection::vec(any::<u8>(), 0..160),
        flips in proptest::collection::vec((0usize..200, 1u8..=255), 1..4),
    ) {
        let mut ha = HomeAgent6::new(config());
        let o = ha.handle_binding_update(&bytes, t(0));
        prop_assert!(o.updates.is_empty());
        let mut bu = Bu::new(1, 10, 0).bytes();
        let len = bu.len();
        for (at, x) in flips {
            bu[at % len] ^= x;
        }
        let o = ha.handle_binding_update(&bu, t(0));
        // A change that still authenticates can only be outside what the MAC covers
        // and the checksum (the IPv6 header's traffic class, flow label, hop limit).
        if o.reason == Reason::Registered {
            prop_assert_eq!(bound(&ha), Some((coa(), 1)));
        } else {
            prop_assert!(o.updates.is_empty() && ha.bindings().is_empty());
        }
    }
}

// The same binding logic in the MAP and MMA roles.

fn map_config() -> HomeAgent6Config {
    HomeAgent6Config {
        addresses: vec![addr("2001:db8:aaaa::1")],
        home_prefixes: vec!["2001:db8:aaaa::/64".parse().unwrap()],
        security_associations: vec![sa(addr("2001:db8:aaaa::42")), sa(addr("2001:db8:bbbb::42"))],
        role: Role6::MobilityAnchorPoint,
        ..config()
    }
}

/// A local binding update: RCoA in the Home Address option, from the LCoA, M set.
fn local_bu(rcoa: &str, sequence: u16, lifetime: u16, at: u64) -> Bu {
    Bu {
        destination: addr("2001:db8:aaaa::1"),
        hoa: Some(addr(rcoa)),
        source: addr("2001:db8:10::42"),
        map_registration: true,
        ..Bu::new(sequence, lifetime, at)
    }
}

#[test]
fn a_map_binds_the_rcoa_to_the_lcoa_and_tunnels_from_its_own_address() {
    let mut map = HomeAgent6::new(map_config());
    let rcoa = addr("2001:db8:aaaa::42");
    let o = map.handle_binding_update(&local_bu("2001:db8:aaaa::42", 1, 50, 0).bytes(), t(0));
    assert_eq!(o.reason, Reason::Registered);
    let Some(Update::Binding { home, binding }) = o.updates.first() else {
        panic!("no binding: {:?}", o.updates);
    };
    assert_eq!(*home, IpAddr::V6(rcoa));
    assert_eq!(binding.source, IpAddr::V6(addr("2001:db8:aaaa::1")));
    assert_eq!(
        binding.care_of.as_slice(),
        &[IpAddr::V6(addr("2001:db8:10::42"))]
    );
    let ip = Ipv6Packet::new_checked(o.reply.as_deref().unwrap()).unwrap();
    let chain = walk_chain(ip.next_header(), ip.payload()).unwrap();
    assert_eq!(ip.dst_addr(), addr("2001:db8:10::42"), "to the LCoA");
    assert_eq!(chain.type2_home_address, Some(rcoa));
    // Deregistration removes it.
    let o = map.handle_binding_update(&local_bu("2001:db8:aaaa::42", 2, 0, 1).bytes(), t(1));
    assert_eq!(o.reason, Reason::Deregistered);
    assert_eq!(
        o.updates,
        vec![Update::RemoveBinding {
            home: IpAddr::V6(rcoa)
        }]
    );
}

#[test]
fn a_map_takes_only_local_binding_updates_for_rcoas_in_its_prefixes() {
    let mut map = HomeAgent6::new(map_config());
    let mut plain = local_bu("2001:db8:aaaa::42", 1, 50, 0);
    plain.map_registration = false;
    let o = map.handle_binding_update(&plain.bytes(), t(0));
    assert_eq!(
        (o.reason, o.reply.is_none()),
        (Reason::NotLocalBindingUpdate, true)
    );
    let o = map.handle_binding_update(&local_bu("2001:db8:bbbb::42", 1, 50, 0).bytes(), t(0));
    assert_eq!(o.reason, Reason::NotMapPrefix);
    assert_eq!(read_ba_status(o.reply.as_deref().unwrap()), 129);
    assert!(o.updates.is_empty() && map.bindings().is_empty());
    // Keys and sequence numbers are checked as the home agent checks them.
    let mut forged = local_bu("2001:db8:aaaa::42", 1, 50, 1);
    forged.auth = Some((SPI, b"not the key"));
    let o = map.handle_binding_update(&forged.bytes(), t(1));
    assert_eq!(o.reason, Reason::FailedAuthentication);
    assert!(map.bindings().is_empty());
}

fn read_ba_status(bytes: &[u8]) -> u8 {
    let ip = Ipv6Packet::new_checked(bytes).unwrap();
    let chain = walk_chain(ip.next_header(), ip.payload()).unwrap();
    let header = MobilityHeader::new_checked(&ip.payload()[chain.upper_layer_offset..]).unwrap();
    match MhRepr::parse(
        &ip.src_addr(),
        &ip.dst_addr(),
        &header,
        ChecksumMode::Ignore,
    ) {
        Ok(MhRepr::BindingAcknowledgement(ba)) => ba.status,
        other => panic!("not a BA: {other:?}"),
    }
}

pub(crate) fn mma_config() -> HomeAgent6Config {
    HomeAgent6Config {
        addresses: vec![addr("2001:db8:cc::1")],
        home_prefixes: vec!["2001:db8:cc::/64".parse().unwrap()],
        security_associations: vec![sa(addr("2001:db8:1::100")), sa(addr("2001:db8:1::101"))],
        role: Role6::MulticastAgent(MmaSettings {
            max_forward: Duration::from_secs(30),
            peers: vec![],
            correspondents: vec![],
            correspondent_interval: Duration::from_secs(10),
            correspondent_lifetime: 300,
        }),
        ..config()
    }
}

pub(crate) const GROUP: &str = "ff3e:30:2001:db8:211:22ff:fe33:4455";

pub(crate) fn mma_bu(
    home: &str,
    sequence: u16,
    lifetime: u16,
    at: u64,
    vendor: Option<(u8, Vec<u8>)>,
) -> Bu {
    Bu {
        destination: addr("2001:db8:cc::1"),
        hoa: Some(addr(home)),
        source: addr("2001:db8:cc:f::7"),
        vendor,
        ..Bu::new(sequence, lifetime, at)
    }
}

pub(crate) fn group_option() -> Option<(u8, Vec<u8>)> {
    Some((
        crate::signalling::mma::subtype::MULTICAST_GROUP,
        addr(GROUP).octets().to_vec(),
    ))
}

/// The care-of address in a BA's vendor-specific option.
fn assigned_in(bytes: &[u8]) -> Option<Ipv6Addr> {
    let ip = Ipv6Packet::new_checked(bytes).unwrap();
    let chain = walk_chain(ip.next_header(), ip.payload()).unwrap();
    let header = MobilityHeader::new_checked(&ip.payload()[chain.upper_layer_offset..]).unwrap();
    let v = MhRepr::parse(
        &ip.src_addr(),
        &ip.dst_addr(),
        &header,
        ChecksumMode::Ignore,
    )
    .ok()
    .and_then(|m| match m {
        MhRepr::BindingAcknowledgement(ba) => ba.options.vendor_specific,
        _ => None,
    })?;
    assert_eq!(
        (v.vendor_id, v.subtype),
        (crate::signalling::mma::VENDOR_ID, 2)
    );
    Some(Ipv6Addr::from(<[u8; 16]>::try_from(v.data).ok()?))
}

fn multicast(key: &str, target: mipdp_dataplane::tables::MulticastTarget) -> Update {
    Update::Multicast {
        key: IpAddr::V6(addr(key)),
        entry: mipdp_dataplane::tables::MulticastEntry {
            target,
            encap: Encap::IpInIp,
        },
    }
}

#[test]
fn an_mma_assigns_a_care_of_address_and_maps_home_and_care_of_to_the_group() {
    use mipdp_dataplane::tables::MulticastTarget::Group;
    let mut mma = HomeAgent6::new(mma_config());
    let o = mma.handle_binding_update(
        &mma_bu("2001:db8:1::100", 1, 50, 0, group_option()).bytes(),
        t(0),
    );
    assert_eq!(o.reason, Reason::Registered);
    let reply = o.reply.as_deref().unwrap();
    assert_eq!(read_ba_status(reply), 0);
    assert_eq!(assigned_in(reply), Some(addr("2001:db8:cc::100")));
    let group = Group(IpAddr::V6(addr(GROUP)));
    assert_eq!(
        o.updates,
        vec![
            multicast("2001:db8:1::100", group),
            multicast("2001:db8:cc::100", group)
        ]
    );
    assert_eq!(
        mma.assigned_care_of(addr("2001:db8:1::100")),
        Some(addr("2001:db8:cc::100"))
    );
    // A second mobile whose host bits collide gets the next free address.
    let o = mma.handle_binding_update(
        &{
            let mut b = mma_bu("2001:db8:1::101", 1, 50, 1, group_option());
            b.hoa = Some(addr("2001:db8:1::101"));
            b
        }
        .bytes(),
        t(1),
    );
    assert_eq!(
        assigned_in(o.reply.as_deref().unwrap()),
        Some(addr("2001:db8:cc::101"))
    );
    // Re-registering keeps the care-of address.
    let o = mma.handle_binding_update(
        &mma_bu("2001:db8:1::100", 2, 50, 2, group_option()).bytes(),
        t(2),
    );
    assert_eq!(
        assigned_in(o.reply.as_deref().unwrap()),
        Some(addr("2001:db8:cc::100"))
    );
    // The lifetime ends it: both entries go.
    assert_eq!(mma.next_expiry(), Some(t(201)), "the second mobile's");
    let gone = mma.expire(t(202));
    assert!(gone.contains(&Update::RemoveMulticast {
        key: IpAddr::V6(addr("2001:db8:1::100"))
    }));
    assert!(gone.contains(&Update::RemoveMulticast {
        key: IpAddr::V6(addr("2001:db8:cc::100"))
    }));
}

#[test]
fn an_mma_registration_without_a_usable_group_is_refused_with_128() {
    let mut mma = HomeAgent6::new(mma_config());
    let o = mma.handle_binding_update(&mma_bu("2001:db8:1::100", 1, 50, 0, None).bytes(), t(0));
    assert_eq!(o.reason, Reason::MissingMulticastGroup);
    assert_eq!(read_ba_status(o.reply.as_deref().unwrap()), 128);
    let link_local = Some((1u8, addr("ff02::1").octets().to_vec()));
    let o = mma.handle_binding_update(
        &mma_bu("2001:db8:1::100", 2, 50, 1, link_local).bytes(),
        t(1),
    );
    assert_eq!(o.reason, Reason::UnusableMulticastGroup);
    let short = Some((1u8, vec![0xff; 15]));
    let o = mma.handle_binding_update(&mma_bu("2001:db8:1::100", 3, 50, 2, short).bytes(), t(2));
    assert_eq!(o.reason, Reason::MissingMulticastGroup);
    assert!(mma.bindings().is_empty() && o.updates.is_empty());
}

#[test]
fn a_deregistration_naming_the_new_mma_forwards_for_the_capped_time_then_removes() {
    use mipdp_dataplane::tables::MulticastTarget::NewMma;
    let mut mma = HomeAgent6::new(mma_config());
    mma.handle_binding_update(
        &mma_bu("2001:db8:1::100", 1, 50, 0, group_option()).bytes(),
        t(0),
    );
    let mut data = addr("2001:db8:dd::1").octets().to_vec();
    data.extend_from_slice(&3600u32.to_be_bytes());
    let moved = Some((crate::signalling::mma::subtype::NEW_MMA, data));
    let o = mma.handle_binding_update(&mma_bu("2001:db8:1::100", 2, 0, 1, moved).bytes(), t(1));
    assert_eq!(o.reason, Reason::ForwardingToNewMma);
    assert_eq!(read_ba_status(o.reply.as_deref().unwrap()), 0);
    let to = NewMma(IpAddr::V6(addr("2001:db8:dd::1")));
    assert_eq!(
        o.updates,
        vec![
            multicast("2001:db8:1::100", to),
            multicast("2001:db8:cc::100", to)
        ]
    );
    // 3600 s asked, capped at mma.max_forward (30 s).
    assert_eq!(mma.forwarding_until(addr("2001:db8:1::100")), Some(t(31)));
    assert_eq!(mma.next_expiry(), Some(t(31)));
    assert!(mma.expire(t(30)).is_empty());
    assert_eq!(mma.expire(t(31)).len(), 2);
    assert_eq!(mma.next_expiry(), None);
    // Without the option the entries go at once.
    mma.handle_binding_update(
        &mma_bu("2001:db8:1::100", 3, 50, 40, group_option()).bytes(),
        t(40),
    );
    let o = mma.handle_binding_update(&mma_bu("2001:db8:1::100", 4, 0, 41, None).bytes(), t(41));
    assert_eq!(o.reason, Reason::Deregistered);
    assert_eq!(o.updates.len(), 2);
    assert!(matches!(o.updates[0], Update::RemoveMulticast { .. }));
}
