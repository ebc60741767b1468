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
            .profiles()
            .class(Class::NodeDestination)
            .profiles()
            .any(|p| p.table == TableRef::Bindings && p.id.session == roles::PER_MOBILE);
        let bound = tables.bindings().get(IpAddr::V6(home)).is_some();
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
fn accepted_binding_updates_are_reported_once_and_denials_never() {
    let (mut f, v) = fixture(|_| {});
    f.send(&hex(&step(&v, "wrong key").packet), 0);
    assert!(f.r.take_accepted().is_empty(), "a denial confirms nothing");
    let s = step(&v, "valid registration");
    f.send(&hex(&s.packet), 0);
    assert_eq!(f.r.take_accepted(), [s.home]);
    assert!(f.r.take_accepted().is_empty(), "drained");
}

#[test]
fn removing_an_unverified_binding_ends_interception_on_every_worker() {
    let (mut f, v) = fixture(|_| {});
    let s = step(&v, "valid registration");
    f.send(&hex(&s.packet), 0);
    f.apply_all();
    assert!(f.intercepts(0, s.home) && f.intercepts(1, s.home));
    let times = f.times(1);
    assert!(f
        .r
        .remove(s.home, &mut f.updates, &by_router, &no_neighbours, times));
    f.apply_all();
    assert!(!f.intercepts(0, s.home) && !f.intercepts(1, s.home));
    assert!(f.r.home_agent().bindings().get(s.home).is_none());
    assert!(!f
        .r
        .remove(s.home, &mut f.updates, &by_router, &no_neighbours, times));
    assert_eq!(
        f.r.refresh(s.home, &by_router, &mut |_, _| true),
        Err(RefreshError::NotBound)
    );
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

#[test]
fn a_restored_binding_is_installed_and_keeps_refusing_a_replayed_binding_update() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let (mut f, v) = fixture(|_| {});
    let (journal, writer) = Journal::start(crate::backup::Backup::open(&path).unwrap()).unwrap();
    f.r.set_journal(journal.clone());
    f.send(&hex(&step(&v, "valid registration").packet), 0);
    f.send(&hex(&step(&v, "lifetime too long is clamped").packet), 1);
    writer.close();
    assert!(journal.is_committed(journal.submitted()));
    let records = crate::backup::Backup::open(&path).unwrap().load().unwrap();
    assert_eq!(records.len(), 1);
    let home = step(&v, "valid registration").home;
    let stored = f.r.home_agent().bindings().get(home).copied().unwrap();
    assert_eq!(records[0].role, Role::HomeAgent);
    assert_eq!(records[0].replay.last_sequence, Some(stored.sequence));
    assert!(records[0].replay.last_timestamp.is_some());

    // "Restart": a new home agent, its state from the backup.
    let (mut f, v) = fixture(|_| {});
    let times = f.times(2);
    let (restored, put_back) = f.r.restore(&mut f.updates, &records, &by_router, times);
    assert_eq!((restored.len(), put_back), (1, 1));
    assert_eq!(restored[0].home, IpAddr::V6(home));
    f.apply_all();
    assert!(f.intercepts(0, home) && f.intercepts(1, home));
    assert_eq!(f.r.home_agent().bindings().get(home), Some(&stored));
    // Captured before the restart, sent after it: refused by the restored timestamp.
    f.send(&hex(&step(&v, "replayed binding update").packet), 3);
    assert_eq!(f.r.stats.reasons[Reason::Replayed as usize], 1);
    assert_eq!(f.r.home_agent().bindings().get(home), Some(&stored));
}

// --- an MMA's registrations in the backup (issue 6) ---

use crate::backup::{Backup, MulticastState};
use crate::signalling::mip6::tests::{group_option, mma_bu, mma_config, t, GROUP};
use crate::state::bindings::Expiry;
use mipdp_dataplane::tables::MulticastTarget;

const MOBILE: &str = "2001:db8:1::100";
/// The care-of address the MMA assigns [`MOBILE`] (its host bits in 2001:db8:cc::/64).
const ASSIGNED: &str = "2001:db8:cc::100";
const NEW_MMA: &str = "2001:db8:dd::1";

fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn mma_fixture() -> Fixture {
    let (updates, receivers) = channels(2, 64, 64);
    Fixture {
        r: Registrar6::new(
            mma_config(),
            vec![HOME_PORT_MAC, AWAY_PORT_MAC],
            vec![("2001:db8:cc::/64".parse().unwrap(), 0)],
        ),
        updates,
        workers: receivers
            .into_iter()
            .map(|r| (r, Tables::new(&TableLimits::default())))
            .collect(),
        sent: Vec::new(),
        t0: Instant::now(),
        unix0: t(0)
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    }
}

impl Fixture {
    /// Where worker `worker`'s multicast map sends packets for `key`.
    fn target(&self, worker: usize, key: &str) -> Option<MulticastTarget> {
        self.workers[worker]
            .1
            .multicast
            .get(IpAddr::V6(a6(key)))
            .map(|e| e.target)
    }
}

/// The de-registration that names the new MMA and asks for an hour of forwarding
/// (`[mma] max_forward` caps it at 30 s).
fn moved_away(sequence: u16, at: u64) -> Vec<u8> {
    let mut data = a6(NEW_MMA).octets().to_vec();
    data.extend_from_slice(&3600u32.to_be_bytes());
    let option = Some((crate::signalling::mma::subtype::NEW_MMA, data));
    mma_bu(MOBILE, sequence, 0, at, option).bytes()
}

#[test]
fn a_restored_mma_registration_forwards_to_its_group_at_once_and_a_replay_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let mut f = mma_fixture();
    let (journal, writer) = Journal::start(Backup::open(&path).unwrap()).unwrap();
    f.r.set_journal(journal.clone());
    let register = mma_bu(MOBILE, 1, 50, 0, group_option()).bytes();
    f.send(&register, 0);
    assert_eq!(f.r.stats.reasons[Reason::Registered as usize], 1);
    // The acknowledgement waits for the backup's commit as well as for the workers.
    f.apply_all();
    writer.close();
    assert!(journal.is_committed(journal.submitted()));
    let records = Backup::open(&path).unwrap().load().unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    let group = IpAddr::V6(a6(GROUP));
    assert_eq!(
        (r.role, r.home_address, &r.care_of),
        (
            Role::MulticastAgent,
            IpAddr::V6(a6(MOBILE)),
            &vec![IpAddr::V6(a6(ASSIGNED))]
        )
    );
    assert_eq!(
        r.role_data,
        RoleData::Multicast(MulticastState {
            group: Some(group),
            forward: None
        })
    );
    assert_eq!(r.replay.last_sequence, Some(1));
    assert!(r.replay.last_timestamp.is_some());
    let stored =
        f.r.home_agent()
            .bindings()
            .get(a6(MOBILE))
            .copied()
            .unwrap();

    // "Restart": a new MMA, its state from the backup; both workers forward to the group
    // before anything else happens.
    let mut f = mma_fixture();
    let times = f.times(2);
    let (restored, put_back) = f.r.restore(&mut f.updates, &records, &by_router, times);
    assert_eq!((restored.len(), put_back), (1, 1));
    assert_eq!(restored[0].role, Role::MulticastAgent);
    assert_eq!(restored[0].home, IpAddr::V6(a6(MOBILE)));
    f.apply_all();
    for w in 0..2 {
        assert_eq!(f.target(w, MOBILE), Some(MulticastTarget::Group(group)));
        assert_eq!(f.target(w, ASSIGNED), Some(MulticastTarget::Group(group)));
        // An MMA's registration is its multicast map, never a tunnel.
        assert!(f.workers[w]
            .1
            .bindings()
            .get(IpAddr::V6(a6(MOBILE)))
            .is_none());
    }
    assert_eq!(f.r.home_agent().bindings().get(a6(MOBILE)), Some(&stored));
    assert_eq!(
        f.r.home_agent().assigned_care_of(a6(MOBILE)),
        Some(a6(ASSIGNED))
    );
    // The recovery's Binding Refresh Request goes the way the mobile's packets do:
    // tunnelled from the MMA to the group (the assigned care-of address is the MMA's own).
    let mut asked = Vec::new();
    f.r.refresh(a6(MOBILE), &by_router, &mut |port, frame| {
        asked.push((port, frame.to_vec()));
        true
    })
    .unwrap();
    assert_eq!(asked.len(), 1);
    let outer = &asked[0].1[ETHERNET_LEN..];
    assert_eq!(address_at(outer, 8), Some(a6("2001:db8:cc::1")));
    assert_eq!(address_at(outer, 24), Some(a6(GROUP)));
    assert_eq!(address_at(&outer[40..], 24), Some(a6(MOBILE)));
    // Captured before the restart, sent after it: refused.
    f.send(&register, 3);
    assert_eq!(f.r.stats.reasons[Reason::Replayed as usize], 1);
    assert_eq!(f.r.home_agent().bindings().get(a6(MOBILE)), Some(&stored));
    assert!(f.r.take_accepted().is_empty());
    // The mobile's next registration (the answer to the recovery's request) is accepted,
    // keeps the care-of address and confirms the binding.
    f.send(&mma_bu(MOBILE, 2, 50, 4, group_option()).bytes(), 4);
    assert_eq!(f.r.stats.reasons[Reason::Registered as usize], 1);
    assert!(f.r.take_accepted().contains(&a6(MOBILE)));
    assert_eq!(
        f.r.home_agent().assigned_care_of(a6(MOBILE)),
        Some(a6(ASSIGNED))
    );
}

#[test]
fn an_mma_forwarding_and_every_end_of_a_registration_reach_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let mut f = mma_fixture();
    let (journal, writer) = Journal::start(Backup::open(&path).unwrap()).unwrap();
    f.r.set_journal(journal);
    f.send(&mma_bu(MOBILE, 1, 50, 0, group_option()).bytes(), 0);
    f.send(&moved_away(2, 1), 1);
    assert_eq!(f.r.stats.reasons[Reason::ForwardingToNewMma as usize], 1);
    writer.close();
    let records = Backup::open(&path).unwrap().load().unwrap();
    assert_eq!(records.len(), 1);
    let until = t(31);
    assert_eq!(
        records[0].role_data,
        RoleData::Multicast(MulticastState {
            group: None,
            forward: Some((IpAddr::V6(a6(NEW_MMA)), until)),
        })
    );
    assert_eq!(records[0].care_of, vec![IpAddr::V6(a6(ASSIGNED))]);
    assert_eq!(records[0].expires, Expiry::At(until));

    // Restarted: forwarding to the new MMA resumes at once (no verification: it ends at
    // its time), and its end is stored.
    let mut f = mma_fixture();
    let (journal, writer) = Journal::start(Backup::open(&path).unwrap()).unwrap();
    let times = f.times(2);
    let (restored, put_back) = f.r.restore(&mut f.updates, &records, &by_router, times);
    assert_eq!((restored.len(), put_back), (0, 1));
    f.r.set_journal(journal);
    f.apply_all();
    let to = MulticastTarget::NewMma(IpAddr::V6(a6(NEW_MMA)));
    for w in 0..2 {
        assert_eq!(f.target(w, MOBILE), Some(to));
        assert_eq!(f.target(w, ASSIGNED), Some(to));
    }
    f.poll(30);
    f.apply_all();
    assert_eq!(f.target(0, MOBILE), Some(to), "not before its time");
    f.poll(31);
    f.apply_all();
    assert_eq!(f.target(0, MOBILE), None);
    assert_eq!(f.target(1, ASSIGNED), None);
    // A new registration is stored; its de-registration deletes it.
    f.send(&mma_bu(MOBILE, 3, 50, 40, group_option()).bytes(), 40);
    f.send(&mma_bu(MOBILE, 4, 0, 41, None).bytes(), 41);
    assert_eq!(f.r.stats.reasons[Reason::Deregistered as usize], 1);
    writer.close();
    assert!(Backup::open(&path).unwrap().load().unwrap().is_empty());

    // A registration that lapses is deleted from the backup too.
    let mut f = mma_fixture();
    let (journal, writer) = Journal::start(Backup::open(&path).unwrap()).unwrap();
    f.r.set_journal(journal);
    f.send(&mma_bu(MOBILE, 5, 10, 50, group_option()).bytes(), 50);
    f.poll(89);
    assert!(f.r.home_agent().bindings().get(a6(MOBILE)).is_some());
    f.poll(90);
    assert!(f.r.home_agent().bindings().is_empty());
    writer.close();
    assert!(Backup::open(&path).unwrap().load().unwrap().is_empty());
}
