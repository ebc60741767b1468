use mipdp_dataplane::wire::ipv6::Ipv6Repr;
use mipdp_dataplane::wire::ipv6ext::{Ipv6OptionsHeader, Ipv6OptionsRepr};
use mipdp_dataplane::wire::mh_options::NonceIndices;
use proptest::prelude::*;

use super::config::ReplyLimit;
use super::*;

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
fn cn() -> Ipv6Addr {
    addr("2001:db8:50::1")
}
fn home() -> Ipv6Addr {
    addr("2001:db8:1::100")
}
fn coa() -> Ipv6Addr {
    addr("2001:db8:99::7")
}
fn coa2() -> Ipv6Addr {
    addr("2001:db8:98::8")
}

const T0: u64 = 1_700_000_000;

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

fn config() -> CorrespondentConfig {
    CorrespondentConfig {
        addresses: vec![cn()],
        max_lifetime: 420,
        max_cache_entries: 2,
        nonce_lifetime: Duration::from_secs(240),
        nonce_interval: Duration::from_secs(30),
        error_replies: ReplyLimit::default(),
        reply_wait: Duration::from_secs(1),
    }
}

fn correspondent() -> Correspondent {
    Correspondent::new(config(), Secrets::fixed([0x11; 20], [0x22; 20]))
}

fn never(_: Ipv6Addr) -> bool {
    false
}

/// An IPv6 packet from `src` to `dst` with the Mobility Header `mh`, with a Home Address
/// option for `hoa` when given.
fn ip_packet(src: Ipv6Addr, dst: Ipv6Addr, hoa: Option<Ipv6Addr>, mh: &[u8]) -> Vec<u8> {
    let dest_opts = hoa.map(|a| Ipv6OptionsRepr {
        next_header: next_header::MOBILITY,
        home_address: Some(a),
        ..Default::default()
    });
    let opts_len = dest_opts.map_or(0, |o| o.header_len());
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
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
    out[40 + opts_len..].copy_from_slice(mh);
    out
}

fn init(which: Token, from: Ipv6Addr, cookie: [u8; 8]) -> Vec<u8> {
    let options = MobilityOptionsRepr::default();
    let repr = match which {
        Token::Home => MhRepr::HomeTestInit { cookie, options },
        Token::CareOf => MhRepr::CareOfTestInit { cookie, options },
    };
    let mh = packet::mobility_header(&repr, from, cn()).unwrap();
    ip_packet(from, cn(), None, &mh)
}

/// (nonce index, cookie, keygen token) of a Home Test or Care-of Test.
fn read_test(bytes: &[u8]) -> (u16, [u8; 8], [u8; 8], Ipv6Addr, Ipv6Addr) {
    let ip = Ipv6Packet::new_checked(bytes).unwrap();
    let header = MobilityHeader::new_checked(ip.payload()).unwrap();
    match MhRepr::parse(
        &ip.src_addr(),
        &ip.dst_addr(),
        &header,
        ChecksumMode::Verify,
    )
    .unwrap()
    {
        MhRepr::HomeTest {
            nonce_index,
            cookie,
            keygen_token,
            ..
        }
        | MhRepr::CareOfTest {
            nonce_index,
            cookie,
            keygen_token,
            ..
        } => (
            nonce_index,
            cookie,
            keygen_token,
            ip.src_addr(),
            ip.dst_addr(),
        ),
        other => panic!("not a test message: {other:?}"),
    }
}

/// What a mobile node learnt from return routability.
#[derive(Clone, Copy)]
struct Tokens {
    home_index: u16,
    home_token: [u8; 8],
    care_of_index: u16,
    care_of_token: [u8; 8],
}

fn return_routability(c: &mut Correspondent, at: u64, care_of: Ipv6Addr) -> Tokens {
    let o = c.handle(&init(Token::Home, home(), [1; 8]), t(at), &never);
    assert_eq!(o.reason, Reason::HomeTest);
    let (home_index, cookie, home_token, src, dst) = read_test(&o.reply.unwrap());
    assert_eq!((cookie, src, dst), ([1; 8], cn(), home()));
    let o = c.handle(&init(Token::CareOf, care_of, [2; 8]), t(at), &never);
    assert_eq!(o.reason, Reason::CareOfTest);
    let (care_of_index, cookie, care_of_token, _, dst) = read_test(&o.reply.unwrap());
    assert_eq!((cookie, dst), ([2; 8], care_of));
    Tokens {
        home_index,
        home_token,
        care_of_index,
        care_of_token,
    }
}

/// A Binding Update from `care_of` (with the Home Address option) authorised under the
/// Kbm of `tok` (home token only for a deletion).
fn bu(tok: &Tokens, care_of: Ipv6Addr, sequence: u16, lifetime: u16, ack: bool) -> Vec<u8> {
    let repr = MhRepr::BindingUpdate(BindingUpdate {
        sequence,
        acknowledge: ack,
        lifetime,
        options: MobilityOptionsRepr {
            nonce_indices: Some(NonceIndices {
                home_nonce_index: tok.home_index,
                care_of_nonce_index: tok.care_of_index,
            }),
            binding_authorization_data: Some([0; 12]),
            ..Default::default()
        },
        ..Default::default()
    });
    let mut mh = packet::mobility_header(&repr, home(), cn()).unwrap();
    let deletion = lifetime == 0 || care_of == home();
    let kbm = tokens::kbm(&tok.home_token, (!deletion).then_some(&tok.care_of_token));
    let covered = if deletion { home() } else { care_of };
    let layout = MobilityHeader::new_unchecked(&mh[..])
        .binding_authorization_layout()
        .unwrap();
    let tag = tokens::authenticator(&kbm, covered, cn(), &mh, &layout);
    mh[layout.authenticator].copy_from_slice(&tag);
    MobilityHeader::new_unchecked(&mut mh[..]).fill_checksum(&home(), &cn());
    let hoa = (care_of != home()).then_some(home());
    ip_packet(care_of, cn(), hoa, &mh)
}

/// (status, sequence, lifetime, authentic under `kbm`, routing header) of a BA.
fn read_ba(bytes: &[u8], kbm: Option<[u8; 20]>, covered: Ipv6Addr) -> (u8, u16, u16, bool) {
    let ip = Ipv6Packet::new_checked(bytes).unwrap();
    let chain = walk_chain(ip.next_header(), ip.payload()).unwrap();
    let final_dst = chain.type2_home_address.unwrap_or(ip.dst_addr());
    assert_eq!(final_dst, home());
    let mh = &ip.payload()[chain.upper_layer_offset..];
    let header = MobilityHeader::new_checked(mh).unwrap();
    let MhRepr::BindingAcknowledgement(ba) =
        MhRepr::parse(&ip.src_addr(), &final_dst, &header, ChecksumMode::Verify).unwrap()
    else {
        panic!("not a BA")
    };
    let authentic = match (kbm, header.binding_authorization_layout()) {
        (Some(k), Some(l)) => tokens::verify(&k, covered, cn(), mh, &l),
        _ => false,
    };
    (ba.status, ba.sequence, ba.lifetime, authentic)
}

fn kbm_of(tok: &Tokens) -> [u8; 20] {
    tokens::kbm(&tok.home_token, Some(&tok.care_of_token))
}

#[test]
fn return_routability_then_an_authorised_update_caches_the_care_of_address() {
    let mut c = correspondent();
    let tok = return_routability(&mut c, 0, coa());
    let secrets = Secrets::fixed([0x11; 20], [0x22; 20]);
    assert_eq!(
        tok.home_token,
        secrets.keygen_token(home(), &secrets.nonce(0), Token::Home)
    );
    assert_eq!(
        tok.care_of_token,
        secrets.keygen_token(coa(), &secrets.nonce(0), Token::CareOf)
    );
    let o = c.handle(&bu(&tok, coa(), 7, 200, true), t(1), &never);
    assert_eq!(o.reason, Reason::Registered);
    assert_eq!(
        o.updates,
        vec![Update::CacheEntry {
            dst: IpAddr::V6(home()),
            entry: CacheEntry {
                care_of: IpAddr::V6(coa()),
                encap: None
            }
        }]
    );
    // Lifetime clamped to MAX_RR_BINDING_LIFETIME (105 units).
    let reply = o.reply.unwrap();
    assert_eq!(
        read_ba(&reply, Some(kbm_of(&tok)), coa()),
        (0, 7, 105, true)
    );
    let b = c.binding(home()).unwrap();
    assert_eq!((b.care_of, b.sequence, b.lifetime), (coa(), 7, 420));
    // Without the A bit an acceptance is not acknowledged.
    let o = c.handle(&bu(&tok, coa(), 8, 10, false), t(2), &never);
    assert_eq!((o.reason, o.reply), (Reason::Registered, None));
}

#[test]
fn a_binding_refresh_request_goes_to_the_home_address_without_a_routing_header() {
    let mut c = correspondent();
    assert_eq!(c.binding_refresh_request(home()), None);
    let tok = return_routability(&mut c, 0, coa());
    assert_eq!(
        c.handle(&bu(&tok, coa(), 7, 200, true), t(1), &never)
            .reason,
        Reason::Registered
    );
    let brr = c.binding_refresh_request(home()).unwrap();
    let ip = Ipv6Packet::new_checked(&brr[..]).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr()), (cn(), home()));
    assert_eq!(ip.next_header(), next_header::MOBILITY);
    let h = MobilityHeader::new_checked(ip.payload()).unwrap();
    assert_eq!(
        MhRepr::parse(&cn(), &home(), &h, ChecksumMode::Verify).unwrap(),
        MhRepr::BindingRefreshRequest {
            options: MobilityOptionsRepr::default()
        }
    );
}

#[test]
fn removing_a_cached_binding_takes_it_off_the_workers() {
    let mut c = correspondent();
    assert_eq!(c.remove(home()), None);
    let tok = return_routability(&mut c, 0, coa());
    c.handle(&bu(&tok, coa(), 7, 200, true), t(1), &never);
    assert_eq!(
        c.remove(home()),
        Some(Update::RemoveCacheEntry {
            dst: IpAddr::V6(home())
        })
    );
    assert!(c.binding(home()).is_none());
    assert_eq!(c.remove(home()), None);
}

#[test]
fn a_wrong_authenticator_is_dropped_silently_and_changes_nothing() {
    let mut c = correspondent();
    let tok = return_routability(&mut c, 0, coa());
    c.handle(&bu(&tok, coa(), 1, 100, true), t(1), &never);
    let mut bad = tok;
    bad.care_of_token[0] ^= 1;
    let o = c.handle(&bu(&bad, coa2(), 2, 100, true), t(2), &never);
    assert_eq!(o, Outcome::dropped(Reason::FailedAuthorization));
    // Tokens for another care-of address than the one the update names do not verify.
    let o = c.handle(&bu(&tok, coa2(), 3, 100, true), t(2), &never);
    assert_eq!(o.reason, Reason::FailedAuthorization);
    assert_eq!(c.binding(home()).unwrap().care_of, coa());
}

#[test]
fn nonces_renew_and_expire_with_136_137_138() {
    let mut c = correspondent();
    let old = return_routability(&mut c, 0, coa());
    let new = return_routability(&mut c, 100, coa());
    assert_ne!(old.home_index, new.home_index, "a new nonce after 30 s");
    // The first nonce is still accepted 240 s after it was made, not after.
    let o = c.handle(&bu(&old, coa(), 1, 10, true), t(240), &never);
    assert_eq!(o.reason, Reason::Registered);
    let mixed = Tokens {
        care_of_index: new.care_of_index,
        care_of_token: new.care_of_token,
        ..old
    };
    let o = c.handle(&bu(&mixed, coa(), 2, 10, true), t(241), &never);
    assert_eq!(o.reason, Reason::ExpiredHomeNonceIndex);
    assert_eq!(read_ba(&o.reply.unwrap(), None, coa()).0, 136);
    let mixed = Tokens {
        home_index: new.home_index,
        home_token: new.home_token,
        ..old
    };
    let o = c.handle(&bu(&mixed, coa(), 2, 10, true), t(241), &never);
    assert_eq!(o.reason, Reason::ExpiredCareOfNonceIndex);
    let o = c.handle(&bu(&old, coa(), 2, 10, false), t(241), &never);
    assert_eq!(o.reason, Reason::ExpiredNonces);
    assert_eq!(
        read_ba(&o.reply.unwrap(), None, coa()).0,
        138,
        "sent without A"
    );
    assert!(o.updates.is_empty());
    // A deletion needs only the home nonce: the care-of index is ignored.
    let o = c.handle(&bu(&mixed, coa(), 3, 0, true), t(241), &never);
    assert_eq!(o.reason, Reason::Deregistered);
}

#[test]
fn sequence_numbers_wrap_and_out_of_window_gets_135_with_the_cached_one() {
    let mut c = correspondent();
    let tok = return_routability(&mut c, 0, coa());
    assert_eq!(
        c.handle(&bu(&tok, coa(), 65535, 10, true), t(1), &never)
            .reason,
        Reason::Registered
    );
    assert_eq!(
        c.handle(&bu(&tok, coa(), 0, 10, true), t(1), &never).reason,
        Reason::Registered
    );
    let o = c.handle(&bu(&tok, coa(), 40000, 10, true), t(1), &never);
    assert_eq!(o.reason, Reason::SequenceOutOfWindow);
    assert_eq!(
        read_ba(&o.reply.unwrap(), Some(kbm_of(&tok)), coa()),
        (135, 0, 0, true)
    );
}

#[test]
fn deregistration_from_home_removes_the_entry_under_the_home_token_alone() {
    let mut c = correspondent();
    let tok = return_routability(&mut c, 0, coa());
    c.handle(&bu(&tok, coa(), 1, 100, true), t(1), &never);
    let o = c.handle(&bu(&tok, home(), 2, 0, true), t(2), &never);
    assert_eq!(o.reason, Reason::Deregistered);
    assert_eq!(o.updates, vec![remove_entry(home())]);
    let kbm = tokens::kbm(&tok.home_token, None);
    let reply = o.reply.unwrap();
    assert_eq!(read_ba(&reply, Some(kbm), home()), (0, 2, 0, true));
    // Sent straight to the home address: no routing header.
    let ip = Ipv6Packet::new_checked(&reply[..]).unwrap();
    assert_eq!(
        (ip.dst_addr(), ip.next_header()),
        (home(), next_header::MOBILITY)
    );
    assert!(c.binding(home()).is_none());
}

#[test]
fn home_registrations_get_131_and_a_home_agents_binding_139() {
    let mut c = correspondent();
    let tok = return_routability(&mut c, 0, coa());
    let mut packet = bu(&tok, coa(), 1, 10, true);
    // The H bit; the checksum is checked before the flag.
    let at = packet.len() - 32 + 8;
    packet[at] |= 0x40;
    let mh_start = packet.len() - 32;
    MobilityHeader::new_unchecked(&mut packet[mh_start..]).fill_checksum(&home(), &cn());
    let o = c.handle(&packet, t(1), &never);
    assert_eq!(o.reason, Reason::HomeRegistration);
    assert_eq!(read_ba(&o.reply.unwrap(), None, coa()).0, 131);
    let o = c.handle(&bu(&tok, coa(), 1, 10, true), t(1), &|h| h == home());
    assert_eq!(o.reason, Reason::RegistrationTypeChange);
    assert!(o.updates.is_empty() && c.is_empty());
}

#[test]
fn a_full_cache_refuses_with_130_and_entries_expire() {
    let mut c = correspondent();
    for (i, h) in ["2001:db8:1::1", "2001:db8:1::2"].iter().enumerate() {
        c.cache.insert(
            addr(h),
            CachedBinding {
                care_of: coa2(),
                correspondent: cn(),
                sequence: 0,
                lifetime: 10,
                expires: t(10 + i as u64),
            },
        );
    }
    let tok = return_routability(&mut c, 0, coa());
    let o = c.handle(&bu(&tok, coa(), 1, 10, false), t(1), &never);
    assert_eq!(o.reason, Reason::InsufficientResources);
    assert!(o.reply.is_some());
    assert_eq!(c.next_expiry(), Some(t(10)));
    assert_eq!(c.expire(t(10)), vec![remove_entry(addr("2001:db8:1::1"))]);
    assert_eq!(
        c.handle(&bu(&tok, coa(), 1, 10, false), t(10), &never)
            .reason,
        Reason::Registered
    );
}

#[test]
fn test_inits_with_a_home_address_option_and_updates_without_authorization_are_ignored() {
    let mut c = correspondent();
    let mh = packet::mobility_header(
        &MhRepr::HomeTestInit {
            cookie: [3; 8],
            options: MobilityOptionsRepr::default(),
        },
        home(),
        cn(),
    )
    .unwrap();
    let o = c.handle(&ip_packet(coa(), cn(), Some(home()), &mh), t(0), &never);
    assert_eq!(o, Outcome::dropped(Reason::HomeAddressOptionInTestInit));
    let repr = MhRepr::BindingUpdate(BindingUpdate {
        sequence: 1,
        acknowledge: true,
        lifetime: 10,
        ..Default::default()
    });
    let mh = packet::mobility_header(&repr, home(), cn()).unwrap();
    let o = c.handle(&ip_packet(coa(), cn(), Some(home()), &mh), t(0), &never);
    assert_eq!(o, Outcome::dropped(Reason::MissingAuthorization));
    assert!(wants(&init(Token::Home, home(), [0; 8])));
}

proptest! {
    #[test]
    fn any_bytes_never_panic_and_never_change_the_cache(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut c = correspondent();
        let o = c.handle(&bytes, t(0), &never);
        prop_assert!(o.updates.is_empty());
        let _ = wants(&bytes);
    }

    #[test]
    fn mutated_updates_never_change_the_cache(at in 48usize..96, bit in 0u8..8) {
        let mut c = correspondent();
        let tok = return_routability(&mut c, 0, coa());
        let mut packet = bu(&tok, coa(), 1, 10, true);
        // The Home Address option's address (48..64) and the Mobility Header (64..96).
        prop_assert_eq!(packet.len(), 96);
        packet[at] ^= 1 << bit;
        let o = c.handle(&packet, t(1), &never);
        prop_assert!(o.reason != Reason::Registered);
        prop_assert!(c.is_empty());
    }
}
