//! The Mobile IPv6 registrar on plain buffers, fed the Binding Updates of the independent
//! golden vectors (tests/vectors/mip6_ha.toml: scapy + hmac/hashlib), with two workers'
//! tables behind its updates.

use mipdp_dataplane::profile::{Class, TableRef};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{TableLimits, Tables};
use mipdp_dataplane::update::{channels, UpdateReceiver};
use serde::Deserialize;

use super::*;
use crate::signalling::mip6::HomeAgent6Section;

const HOME_PORT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xa0];
const AWAY_PORT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xb0];
const ROUTER_MAC: [u8; 6] = [2, 0xbb, 0, 0, 0, 7];

#[derive(Deserialize)]
struct Vectors {
    home_agent6: HomeAgent6Section,
    step: Vec<Step>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Step {
    name: String,
    now_s: u64,
    packet: String,
    answer: String,
    status: i32,
    reply: String,
    home: Ipv6Addr,
    care_of: Vec<Ipv6Addr>,
}

fn vectors() -> Vectors {
    toml::from_str(include_str!("../../../tests/vectors/mip6_ha.toml")).expect("vectors")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn step<'a>(v: &'a Vectors, name: &str) -> &'a Step {
    v.step.iter().find(|s| s.name == name).expect("step")
}

fn frame(packet: &[u8]) -> Vec<u8> {
    let mut f = AWAY_PORT_MAC.to_vec();
    f.extend_from_slice(&ROUTER_MAC);
    f.extend_from_slice(&IPV6);
    f.extend_from_slice(packet);
    f
}

struct Fixture {
    r: Registrar6,
    updates: UpdateSender,
    workers: Vec<(UpdateReceiver, Tables)>,
    sent: Vec<(u16, Vec<u8>)>,
    t0: Instant,
    unix0: u64,
}

/// Port 0 on the home link 2001:db8:1::/64, port 1 toward 2001:db8:2::/64 where the
/// care-of addresses' router is.
fn fixture(configure: impl FnOnce(&mut HomeAgent6Section)) -> (Fixture, Vectors) {
    let mut v = vectors();
    configure(&mut v.home_agent6);
    let config = v.home_agent6.check().expect("config");
    let links = vec![
        ("2001:db8:1::/64".parse().unwrap(), 0),
        ("2001:db8:2::/64".parse().unwrap(), 1),
    ];
    let (updates, receivers) = channels(2, 64, 64);
    let f = Fixture {
        r: Registrar6::new(config, vec![HOME_PORT_MAC, AWAY_PORT_MAC], links),
        updates,
        workers: receivers
            .into_iter()
            .map(|r| (r, Tables::new(&TableLimits::default())))
            .collect(),
        sent: Vec::new(),
        t0: Instant::now(),
        unix0: v.step[0].now_s,
    };
    (f, v)
}

/// Everything toward port 1's router.
fn by_router(_: Ipv6Addr) -> Option<Toward> {
    Some((1, ROUTER_MAC))
}

fn no_neighbours(_: u16, _: Ipv6Addr) -> Option<[u8; 6]> {
    None
}

impl Fixture {
    fn times(&self, secs: u64) -> (SystemTime, Instant) {
        (
            SystemTime::UNIX_EPOCH + Duration::from_secs(self.unix0 + secs),
            self.t0 + Duration::from_secs(secs),
        )
    }

    fn send(&mut self, packet: &[u8], secs: u64) {
        let (now, at) = self.times(secs);
        self.r.binding_update(
            &frame(packet),
            1,
            &mut self.updates,
            &by_router,
            &no_neighbours,
            now,
            at,
        );
    }

    fn poll(&mut self, secs: u64) {
        let times = self.times(secs);
        let sent = &mut self.sent;
        self.r.poll(
            &mut self.updates,
            &by_router,
            &no_neighbours,
            times,
            &mut |port, frame| {
                sent.push((port, frame.to_vec()));
                true
            },
        );
    }

    fn apply_all(&mut self) {
        self.updates.flush();
        for (rx, tables) in &mut self.workers {
            rx.apply(tables);
        }
    }

    fn intercepts(&self, worker: usize, home: Ipv6Addr) -> bool {
        let tables = &self.workers[worker].1;
        let profile = tables
            .profiles
            .class(Class::NodeDestination)
            .profiles()
            .any(|p| p.table == TableRef::Bindings && p.id.session == roles::PER_MOBILE);
        let bound = tables.bindings.get(IpAddr::V6(home)).is_some();
        assert_eq!(profile, bound, "profile and binding go together");
        bound
    }
}

#[test]
fn the_acknowledgement_waits_for_every_worker_and_the_takeover_is_advertised() {
    let (mut f, v) = fixture(|_| {});
    let s = step(&v, "valid registration");
    f.send(&hex(&s.packet), 0);
    f.poll(0);
    assert!(f.sent.is_empty(), "nothing before the workers applied it");
    f.updates.flush();
    let (rx, tables) = &mut f.workers[0];
    rx.apply(tables);
    f.poll(0);
    assert!(f.sent.is_empty(), "one worker is not enough");
    f.apply_all();
    assert!(f.intercepts(0, s.home) && f.intercepts(1, s.home));
    f.poll(0);
    // The acknowledgement, byte for byte the independent one, toward the router; then the
    // first unsolicited Neighbor Advertisement on the home link.
    let mut want = ROUTER_MAC.to_vec();
    want.extend_from_slice(&AWAY_PORT_MAC);
    want.extend_from_slice(&IPV6);
    want.extend_from_slice(&hex(&s.reply));
    assert_eq!(f.sent.len(), 2, "{:?}", f.sent);
    assert_eq!(f.sent[0], (1, want));
    let (port, na) = &f.sent[1];
    assert_eq!(*port, 0);
    assert_eq!(na[..6], ALL_NODES_MAC);
    assert_eq!(na[6..12], HOME_PORT_MAC);
    assert_eq!(na[14 + 6], 58, "ICMPv6");
    assert_eq!(na[14 + 7], 255, "hop limit 255");
    assert_eq!(na[54], 136, "Neighbor Advertisement");
    assert_eq!(na[58], 0x20, "Override only");
    assert_eq!(na[62..78], s.home.octets());
    assert_eq!(na[78..80], [2, 1], "Target Link-Layer Address option");
    assert_eq!(na[80..86], HOME_PORT_MAC);
    // Repeated 3 times (the default), a second apart.
    f.poll(0);
    f.poll(1);
    f.poll(2);
    f.poll(3);
    assert_eq!(f.r.stats.neighbour_advertisements, 3);
    assert_eq!(f.r.stats.replies, 1);
    assert_eq!(f.r.stats.reasons[Reason::Registered as usize], 1);
    assert_eq!(f.r.stats.bindings, 1);
}

#[test]
fn denials_are_rate_limited_and_change_nothing() {
    let (mut f, v) = fixture(|s| {
        s.error_replies_per_second = 1;
        s.error_reply_burst = 1;
    });
    f.send(&hex(&step(&v, "valid registration").packet), 0);
    f.apply_all();
    f.poll(0);
    let before = f.sent.len();
    // Two denials at the same instant: one token.
    let wrong = hex(&step(&v, "wrong key").packet);
    f.send(&wrong, 4);
    let seq = hex(&step(&v, "sequence number out of window").packet);
    f.send(&seq, 4);
    f.apply_all();
    f.poll(4);
    let replies: Vec<_> = f.sent[before..].iter().filter(|(p, _)| *p == 1).collect();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(f.r.stats.replies_limited, 1);
    assert_eq!(f.r.stats.reasons[Reason::FailedAuthentication as usize], 1);
    let home = step(&v, "valid registration").home;
    let b = f.r.home_agent().bindings().get(home).expect("still bound");
    assert_eq!(b.care_of, "2001:db8:2::7".parse::<Ipv6Addr>().unwrap());
    // Silent drops are counted by reason.
    f.send(&[0x60; 40], 5);
    assert_eq!(
        f.r.stats.reasons.iter().sum::<u64>(),
        4,
        "{:?}",
        f.r.stats.reasons
    );
    f.send(&[1, 2, 3], 5);
    assert_eq!(f.r.stats.frame_errors[FrameError6::Truncated as usize], 1);
}

#[test]
fn a_refresh_request_goes_once_before_expiry_and_expiry_ends_interception() {
    // 100 units of 4 s asked, max 600 s: granted 400 s; refresh 30 s before.
    let (mut f, v) = fixture(|s| s.binding_refresh_before_s = 30);
    let s = step(&v, "valid registration");
    f.send(&hex(&s.packet), 0);
    f.apply_all();
    f.poll(0);
    let is_refresh = |frame: &[u8]| {
        // Tunnelled to the care-of address: outer next header 41, inner MH type 0.
        frame.len() > 14 + 40 + 40 + 3 && frame[14 + 6] == 41 && frame[14 + 40 + 40 + 2] == 0
    };
    f.poll(369);
    assert!(!f.sent.iter().any(|(_, fr)| is_refresh(fr)));
    f.poll(370);
    f.poll(371);
    let refreshes: Vec<_> = f.sent.iter().filter(|(_, fr)| is_refresh(fr)).collect();
    assert_eq!(refreshes.len(), 1, "once per registration");
    assert_eq!(refreshes[0].0, 1);
    assert_eq!(f.r.stats.refreshes, 1);
    // On demand too; and not for an address without a binding.
    let mut out = Vec::new();
    assert_eq!(
        f.r.refresh(s.home, &by_router, &mut |p, fr| {
            out.push((p, fr.to_vec()));
            true
        }),
        Ok(())
    );
    assert!(is_refresh(&out[0].1));
    assert_eq!(
        f.r.refresh(
            "2001:db8:1::99".parse().unwrap(),
            &by_router,
            &mut |_, _| true
        ),
        Err(RefreshError::NotBound)
    );
    f.poll(400);
    f.apply_all();
    assert!(!f.intercepts(0, s.home) && !f.intercepts(1, s.home));
    assert_eq!(f.r.stats.expiries, 1);
    assert_eq!(f.r.stats.returns_unannounced, 1);
    assert_eq!(f.r.stats.bindings, 0);
}

#[test]
fn no_frame_panics_and_every_one_is_counted() {
    let (mut f, _) = fixture(|_| {});
    for len in 0..120usize {
        let mut bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
        if len > 14 {
            bytes[12] = 0x86;
            bytes[13] = 0xdd;
        }
        let (now, at) = f.times(0);
        f.r.binding_update(
            &bytes,
            1,
            &mut f.updates,
            &by_router,
            &no_neighbours,
            now,
            at,
        );
    }
    let total: u64 =
        f.r.stats.reasons.iter().sum::<u64>() + f.r.stats.frame_errors.iter().sum::<u64>();
    assert_eq!(total, 120);
}
