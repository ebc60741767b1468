use super::*;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

#[test]
fn care_of_candidates_keep_the_home_host_bits_and_skip_the_anycast_address() {
    let p: Prefix = "2001:db8:cc::/64".parse().unwrap();
    assert_eq!(
        care_of_candidate(p, a("2001:db8:1::100"), 0),
        Some(a("2001:db8:cc::100"))
    );
    assert_eq!(
        care_of_candidate(p, a("2001:db8:1::100"), 2),
        Some(a("2001:db8:cc::102"))
    );
    assert_eq!(
        care_of_candidate(p, a("2001:db8:1::"), 0),
        Some(a("2001:db8:cc::1"))
    );
    let tiny: Prefix = "2001:db8:cc::/127".parse().unwrap();
    assert_eq!(care_of_candidate(tiny, a("2001:db8:1::100"), 0), None);
}

#[test]
fn only_routable_groups_are_usable() {
    assert!(usable_group(a("ff3e:30:2001:db8:211:22ff:fe33:4455")));
    assert!(usable_group(a("ff05::1:3")));
    assert!(!usable_group(a("ff02::1")));
    assert!(!usable_group(a("2001:db8::1")));
}

fn section(extra: &str) -> Result<HomeAgent6Config, Bad> {
    let text = format!(
        "addresses = [\"2001:db8:cc::1\"]\ncare_of_prefixes = [\"2001:db8:cc::/64\"]\n{extra}"
    );
    let s: MmaSection = toml::from_str(&text).expect("toml");
    s.check()
}

#[test]
fn an_mma_section_checks_into_the_mma_role_and_bad_keys_are_named() {
    let c = section("peers = [\"2001:db8:dd::1\"]\n[[correspondent]]\naddress = \"2001:db8:20::50\"\nspi = 300\nkey = \"0011\"\n").unwrap();
    let Role6::MulticastAgent(m) = &c.role else {
        panic!("not the MMA role: {:?}", c.role);
    };
    assert_eq!(m.max_forward, Duration::from_secs(300));
    assert_eq!(m.peers, vec![a("2001:db8:dd::1")]);
    assert_eq!(m.correspondents[0].spi, 300);
    assert_eq!(c.operation.refresh_before, None);
    for (extra, key) in [
        ("max_forward_s = 0\n", "mma.max_forward_s"),
        ("correspondent_update_interval_s = 0\n", "mma.correspondent_update_interval_s"),
        ("correspondent_lifetime_s = 2\n", "mma.correspondent_lifetime_s"),
        ("peers = [\"ff02::1\"]\n", "mma.peers[0]"),
        ("max_lifetime = 1\n", "mma.max_lifetime"),
        (
            "[[correspondent]]\naddress = \"2001:db8:20::50\"\nspi = 3\nkey = \"00\"\n",
            "mma.correspondent[0].spi",
        ),
        (
            "[[correspondent]]\naddress = \"2001:db8:20::50\"\nspi = 300\nkey = \"0\"\n",
            "mma.correspondent[0].key",
        ),
        (
            "[[correspondent]]\naddress = \"2001:db8:20::50\"\nspi = 300\nkey = \"00\"\n[[correspondent]]\naddress = \"2001:db8:20::50\"\nspi = 301\nkey = \"00\"\n",
            "mma.correspondent[1].address",
        ),
        (
            "[[security_association]]\nhome_address = \"2001:db8:1::100\"\nspi = 256\nkey = \"00\"\nalgorithm = \"md5\"\n",
            "mma.security_association[0].algorithm",
        ),
    ] {
        assert_eq!(section(extra).unwrap_err().key, key, "{extra}");
    }
    let s: MmaSection = toml::from_str(
        "addresses = [\"2001:db8:cc::1\"]\ncare_of_prefixes = [\"2001:db8:cc::/127\"]",
    )
    .unwrap();
    assert_eq!(s.check().unwrap_err().key, "mma.care_of_prefixes[0]");
}

fn settings() -> MmaSettings {
    MmaSettings {
        max_forward: Duration::from_secs(60),
        peers: vec![a("2001:db8:cc::1")],
        correspondents: vec![CorrespondentKey {
            address: a("2001:db8:20::50"),
            spi: 0x1234,
            key: crate::signalling::mip6::config::Key(b"mma-cn-key".to_vec()),
        }],
        correspondent_interval: Duration::from_secs(10),
        correspondent_lifetime: 300,
    }
}

/// A packet from `from` (outer) to the new MMA carrying the correspondent's packet for
/// `home`.
fn forwarded(from: &str, to: &str, correspondent: &str, home: &str) -> Vec<u8> {
    let inner = Ipv6Repr {
        src_addr: a(correspondent),
        dst_addr: a(home),
        next_header: next_header::NO_NEXT,
        payload_len: 0,
        hop_limit: 63,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut i = vec![0u8; inner.buffer_len()];
    inner
        .emit(&mut Ipv6Packet::new_unchecked(&mut i[..]))
        .unwrap();
    crate::signalling::mip6::packet::tunnelled(a(from), a(to), &i).unwrap()
}

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

#[test]
fn a_forwarded_packet_from_a_peer_tells_the_correspondent_once_per_interval() {
    let mut u = CorrespondentUpdates::new(settings());
    let own = [a("2001:db8:dd::1")];
    let care_of = |h: Ipv6Addr| (h == a("2001:db8:1::100")).then(|| a("2001:db8:dd::100"));
    let p = forwarded(
        "2001:db8:cc::1",
        "2001:db8:dd::1",
        "2001:db8:20::50",
        "2001:db8:1::100",
    );
    let (why, bu) = u.forwarded(&p, &care_of, &own, t(0));
    assert_eq!(why, Forwarded::Told);
    let bu = bu.unwrap();
    // From the new MMA to the correspondent, a Home Address option, then the BU.
    let ip = Ipv6Packet::new_checked(&bu[..]).unwrap();
    assert_eq!(ip.src_addr(), a("2001:db8:dd::1"));
    assert_eq!(ip.dst_addr(), a("2001:db8:20::50"));
    let chain = mipdp_dataplane::wire::ipv6ext::walk_chain(ip.next_header(), ip.payload()).unwrap();
    assert_eq!(chain.home_address, Some(a("2001:db8:1::100")));
    let mh = MobilityHeader::new_checked(&ip.payload()[chain.upper_layer_offset..]).unwrap();
    assert!(mh.verify_checksum(&a("2001:db8:1::100"), &a("2001:db8:20::50")));
    let layout = mh.message_authentication_layout().unwrap();
    let bytes: &[u8] = mh.clone().into_inner();
    assert!(security::verify(
        b"mma-cn-key",
        a("2001:db8:dd::100"),
        a("2001:db8:1::100"),
        bytes,
        &layout
    ));
    assert!(!security::verify(
        b"another key",
        a("2001:db8:dd::100"),
        a("2001:db8:1::100"),
        bytes,
        &layout
    ));
    // An update that could not be sent does not hold the next one back.
    {
        let mut v = CorrespondentUpdates::new(settings());
        let (_, first) = v.forwarded(&p, &care_of, &own, t(0));
        v.not_sent(&first.unwrap());
        let (why, retry) = v.forwarded(&p, &care_of, &own, t(1));
        assert_eq!(why, Forwarded::Told);
        assert_ne!(
            retry.unwrap(),
            bu,
            "the retry carries the next Sequence Number"
        );
        assert_eq!(
            v.forwarded(&p, &care_of, &own, t(2)),
            (Forwarded::RateLimited, None)
        );
    }
    // Within the interval: nothing; after it, the next Sequence Number.
    assert_eq!(
        u.forwarded(&p, &care_of, &own, t(9)),
        (Forwarded::RateLimited, None)
    );
    let (why, again) = u.forwarded(&p, &care_of, &own, t(10));
    assert_eq!(why, Forwarded::Told);
    let again = again.unwrap();
    assert_ne!(again, bu);
    // Other sources and destinations are not told.
    let stranger = forwarded(
        "2001:db8:ee::1",
        "2001:db8:dd::1",
        "2001:db8:20::50",
        "2001:db8:1::100",
    );
    assert_eq!(
        u.forwarded(&stranger, &care_of, &own, t(30)).0,
        Forwarded::NotFromPeer
    );
    let unknown = forwarded(
        "2001:db8:cc::1",
        "2001:db8:dd::1",
        "2001:db8:20::51",
        "2001:db8:1::100",
    );
    assert_eq!(
        u.forwarded(&unknown, &care_of, &own, t(30)).0,
        Forwarded::NoCorrespondentKey
    );
    let unbound = forwarded(
        "2001:db8:cc::1",
        "2001:db8:dd::1",
        "2001:db8:20::50",
        "2001:db8:1::101",
    );
    assert_eq!(
        u.forwarded(&unbound, &care_of, &own, t(30)).0,
        Forwarded::NotRegistered
    );
    let elsewhere = forwarded(
        "2001:db8:cc::1",
        "2001:db8:dd::2",
        "2001:db8:20::50",
        "2001:db8:1::100",
    );
    assert_eq!(
        u.forwarded(&elsewhere, &care_of, &own, t(30)).0,
        Forwarded::NotTunnelled
    );
    for n in 0..p.len() {
        let _ = u.forwarded(&p[..n], &care_of, &own, t(40));
    }
}
