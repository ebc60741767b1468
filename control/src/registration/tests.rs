use std::time::Duration;

use mipdp_dataplane::profile::TableRef;
use mipdp_dataplane::tables::{TableLimits, Tables};
use mipdp_dataplane::update::{channels, UpdateReceiver};
use mipdp_dataplane::wire::mip4::{RegistrationReplyPacket, ReplyCode};
use proptest::prelude::*;

use super::*;
use crate::signalling::mip4::security::{authenticator, ntp_timestamp, NonceSource};
use crate::signalling::mip4::{
    Algorithm, Key, MobileNodeId, ReplayProtection, SecurityAssociation,
};

const KEY: &[u8] = b"0123456789abcdef";
const SPI: u32 = 256;
const HA: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const HOME: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
const COA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);
const HOME_PORT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xa0];
const AWAY_PORT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xb0];
const ROUTER_MAC: [u8; 6] = [2, 0xbb, 0, 0, 0, 7];
const MOBILE_MAC: [u8; 6] = [2, 0xcc, 0, 0, 0, 0x64];

fn config(limit: ReplyLimit) -> HomeAgentConfig {
    HomeAgentConfig {
        addresses: vec![HA],
        home_prefixes: vec!["10.1.0.0/24".parse().unwrap()],
        max_lifetime: 600,
        max_care_of: 1,
        max_bindings: 16,
        security_associations: vec![SecurityAssociation {
            mobile_node: MobileNodeId::HomeAddress(HOME),
            spi: SPI,
            key: Key(KEY.to_vec()),
            algorithm: Algorithm::HmacMd5,
            replay: ReplayProtection::Timestamps {
                tolerance: Duration::from_secs(7),
            },
        }],
        foreign_agents: Vec::new(),
        error_replies: limit,
        gratuitous_arps: 2,
        gratuitous_arp_interval: Duration::from_secs(1),
        reply_wait: Duration::from_secs(1),
    }
}

/// A registrar on two ports (0: the home link 10.1.0.0/24, 1: 192.0.2.0/24) and two
/// workers' tables fed by its updates.
struct Fixture {
    r: Registrar,
    updates: UpdateSender,
    workers: Vec<(UpdateReceiver, Tables)>,
    sent: Vec<(u16, Vec<u8>)>,
    t0: Instant,
}

fn fixture(limit: ReplyLimit) -> Fixture {
    let ha = HomeAgent::with_nonces(config(limit), NonceSource::with_key([9; 16]));
    let links = vec![
        ("10.1.0.0/24".parse().unwrap(), 0),
        ("192.0.2.0/24".parse().unwrap(), 1),
    ];
    let (updates, receivers) = channels(2, 64, 64);
    Fixture {
        r: Registrar::with_home_agent(ha, vec![HOME_PORT_MAC, AWAY_PORT_MAC], links),
        updates,
        workers: receivers
            .into_iter()
            .map(|r| (r, Tables::new(&TableLimits::default())))
            .collect(),
        sent: Vec::new(),
        t0: Instant::now(),
    }
}

fn now(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn no_neighbours(_: u16, _: Ipv4Addr) -> Option<[u8; 6]> {
    None
}

impl Fixture {
    fn request(&mut self, frame: &[u8], port: u16, secs: u64) -> Option<Learnt> {
        let at = self.t0 + Duration::from_secs(secs);
        self.r.request(
            frame,
            port,
            &mut self.updates,
            &no_neighbours,
            now(secs),
            at,
        )
    }

    fn poll(&mut self, secs: u64) {
        let at = self.t0 + Duration::from_secs(secs);
        let sent = &mut self.sent;
        self.r.poll(
            &mut self.updates,
            &no_neighbours,
            now(secs),
            at,
            &mut |port, frame| {
                sent.push((port, frame.to_vec()));
                true
            },
        );
    }

    fn apply(&mut self, worker: usize) {
        self.updates.flush();
        let (rx, tables) = &mut self.workers[worker];
        rx.apply(tables);
    }

    fn apply_all(&mut self) {
        for w in 0..self.workers.len() {
            self.apply(w);
        }
    }

    fn intercepts(&self, worker: usize) -> bool {
        let tables = &self.workers[worker].1;
        let profile = tables
            .profiles()
            .class(Class::NodeDestination)
            .profiles()
            .any(|p| p.table == TableRef::Bindings && p.id.session == roles::PER_MOBILE);
        let bound = tables.bindings().get(IpAddr::V4(HOME)).is_some();
        assert_eq!(profile, bound, "profile and binding go together");
        bound
    }
}

/// A registration request frame as a mobile node builds it, authenticated with `key`.
fn request_frame(
    care_of: Ipv4Addr,
    lifetime: u16,
    identification: u64,
    key: &[u8],
    eth_src: [u8; 6],
    eth_dst: [u8; 6],
    ip_src: Ipv4Addr,
) -> Vec<u8> {
    let mut b = vec![1, 0];
    b.extend_from_slice(&lifetime.to_be_bytes());
    for a in [HOME, HA, care_of] {
        b.extend_from_slice(&a.octets());
    }
    b.extend_from_slice(&identification.to_be_bytes());
    b.extend_from_slice(&[32, 20]);
    b.extend_from_slice(&SPI.to_be_bytes());
    let tag = authenticator(Algorithm::HmacMd5, key, &b);
    b.extend_from_slice(&tag);
    udp_frame(
        eth_src,
        eth_dst,
        SocketAddrV4::new(ip_src, 49152),
        SocketAddrV4::new(HA, PORT),
        7,
        &b,
    )
    .unwrap()
}

fn away_request(secs: u64, lifetime: u16, key: &[u8]) -> Vec<u8> {
    let id = ntp_timestamp(now(secs));
    request_frame(COA, lifetime, id, key, ROUTER_MAC, AWAY_PORT_MAC, COA)
}

/// The reply code and lifetime of a reply frame, after checking its framing.
fn reply_of(frame: &[u8], eth_dst: [u8; 6], eth_src: [u8; 6], to: Ipv4Addr) -> (ReplyCode, u16) {
    assert_eq!(&frame[..6], &eth_dst, "framed to the requester's MAC");
    assert_eq!(&frame[6..12], &eth_src, "from the arrival port's MAC");
    assert_eq!(&frame[12..14], &[8, 0]);
    let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
    let repr = Ipv4Repr::parse(&ip, ChecksumMode::Verify).expect("IPv4 checksum");
    assert_eq!((repr.src_addr, repr.dst_addr), (HA, to));
    assert_eq!(repr.protocol, IpProtocol::UDP);
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    let pseudo = PseudoHeader::V4 { src: HA, dst: to };
    let u = UdpRepr::parse(&udp, &pseudo, ChecksumMode::Verify).expect("UDP checksum");
    assert_eq!((u.src_port, u.dst_port), (PORT, 49152));
    let p = RegistrationReplyPacket::new_checked(udp.payload()).unwrap();
    (p.code(), p.lifetime())
}

fn is_gratuitous_arp(frame: &[u8], eth_src: [u8; 6], hardware: [u8; 6]) -> bool {
    frame[..6] == [0xff; 6]
        && frame[6..12] == eth_src
        && frame[12..14] == [8, 6]
        && frame[20..22] == [0, 1]
        && frame[22..28] == hardware
        && frame[28..32] == HOME.octets()
        && frame[38..42] == HOME.octets()
}

#[test]
fn an_accepted_reply_waits_until_every_worker_applied_the_binding() {
    let mut f = fixture(ReplyLimit::default());
    assert_eq!(f.request(&away_request(0, 300, KEY), 1, 0), None);
    assert_eq!(f.r.stats.reasons[Reason::Registered as usize], 1);
    f.poll(0);
    assert!(f.sent.is_empty(), "no worker applied the binding yet");
    f.apply(0);
    f.poll(0);
    assert!(f.sent.is_empty(), "worker 1 has not applied it");
    f.apply(1);
    f.poll(0);
    assert!(f.intercepts(0) && f.intercepts(1));
    assert_eq!(f.sent.len(), 2, "the reply and the first gratuitous ARP");
    let (port, reply) = &f.sent[0];
    assert_eq!(*port, 1);
    assert_eq!(
        reply_of(reply, ROUTER_MAC, AWAY_PORT_MAC, COA),
        (ReplyCode::ACCEPTED, 300)
    );
    let (port, arp) = &f.sent[1];
    assert_eq!(*port, 0, "on the home link");
    assert!(
        is_gratuitous_arp(arp, HOME_PORT_MAC, HOME_PORT_MAC),
        "{arp:02x?}"
    );
    // Retransmitted once (gratuitous_arps = 2) a second later, then no more.
    f.poll(0);
    assert_eq!(f.sent.len(), 2);
    f.poll(1);
    f.poll(2);
    assert_eq!(f.sent.len(), 3);
    assert_eq!(f.r.stats.gratuitous_arps, 2);
    assert_eq!(f.r.stats.replies, 1);
    assert_eq!(f.r.stats.bindings, 1);
}

#[test]
fn a_reply_is_dropped_when_the_workers_do_not_apply_its_binding_in_time() {
    let mut f = fixture(ReplyLimit::default());
    f.request(&away_request(0, 300, KEY), 1, 0);
    f.apply(0);
    f.poll(1);
    assert!(f.sent.is_empty());
    assert_eq!(f.r.stats.replies_abandoned, 1);
    // Worker 1 catches up later: the gratuitous ARP still goes, the reply does not.
    f.apply(1);
    f.poll(2);
    assert_eq!(f.sent.len(), 1);
    assert!(is_gratuitous_arp(
        &f.sent[0].1,
        HOME_PORT_MAC,
        HOME_PORT_MAC
    ));
}

#[test]
fn denials_are_answered_at_the_configured_rate_and_change_nothing() {
    let limit = ReplyLimit {
        per_second: 1,
        burst: 2,
    };
    let mut f = fixture(limit);
    for _ in 0..5 {
        f.request(&away_request(0, 300, b"not the key"), 1, 0);
    }
    f.apply_all();
    f.poll(0);
    assert_eq!(f.r.stats.reasons[Reason::FailedAuthentication as usize], 5);
    assert_eq!(f.sent.len(), 2);
    assert_eq!(f.r.stats.replies_limited, 3);
    for (_, frame) in &f.sent {
        assert_eq!(
            reply_of(frame, ROUTER_MAC, AWAY_PORT_MAC, COA).0,
            ReplyCode::HA_MOBILE_NODE_FAILED_AUTHENTICATION
        );
    }
    assert!(!f.intercepts(0) && !f.intercepts(1));
    // A second later there is a token again.
    f.request(&away_request(1, 300, b"not the key"), 1, 1);
    f.poll(1);
    assert_eq!(f.sent.len(), 3);
    // Accepted replies never wait for a token.
    f.request(&away_request(1, 300, KEY), 1, 1);
    f.apply_all();
    f.poll(1);
    assert_eq!(f.r.stats.replies, 4);
}

#[test]
fn deregistration_from_home_gives_the_address_back_to_the_mobiles_mac() {
    let mut f = fixture(ReplyLimit::default());
    f.request(&away_request(0, 300, KEY), 1, 0);
    f.apply_all();
    f.poll(0);
    f.sent.clear();
    // Back home: from its home address and its own MAC, care-of = home, lifetime 0.
    let id = ntp_timestamp(now(1));
    let dereg = request_frame(HOME, 0, id, KEY, MOBILE_MAC, HOME_PORT_MAC, HOME);
    assert_eq!(f.request(&dereg, 0, 1), Some((0, HOME, MOBILE_MAC)));
    assert_eq!(f.r.stats.reasons[Reason::Deregistered as usize], 1);
    // Pending gratuitous ARPs of the takeover are replaced by the return.
    f.poll(1);
    assert!(f.sent.is_empty());
    f.apply_all();
    assert!(!f.intercepts(0) && !f.intercepts(1));
    f.poll(1);
    assert_eq!(f.sent.len(), 2);
    let (port, reply) = &f.sent[0];
    assert_eq!(*port, 0);
    assert_eq!(
        reply_of(reply, MOBILE_MAC, HOME_PORT_MAC, HOME),
        (ReplyCode::ACCEPTED, 0)
    );
    assert_eq!(f.sent[1].0, 0);
    assert!(is_gratuitous_arp(&f.sent[1].1, HOME_PORT_MAC, MOBILE_MAC));
    assert_eq!(f.r.stats.bindings, 0);
}

#[test]
fn expiry_removes_the_binding_from_every_worker() {
    let mut f = fixture(ReplyLimit::default());
    f.request(&away_request(0, 5, KEY), 1, 0);
    f.apply_all();
    f.poll(0);
    assert!(f.intercepts(0));
    f.poll(4);
    f.apply_all();
    assert!(f.intercepts(0) && f.intercepts(1), "not yet");
    f.poll(5);
    f.apply_all();
    assert!(!f.intercepts(0) && !f.intercepts(1));
    assert_eq!(f.r.stats.expiries, 1);
    // The mobile node's MAC is not known: nothing is announced for it.
    assert_eq!(f.r.stats.returns_unannounced, 1);
    assert_eq!(f.r.stats.bindings, 0);
}

#[test]
fn malformed_frames_are_counted_by_reason() {
    let mut f = fixture(ReplyLimit::default());
    let good = away_request(0, 300, KEY);
    let mut bad_sum = good.clone();
    bad_sum[24] ^= 1; // IPv4 header checksum
    let mut bad_udp = good.clone();
    let last = bad_udp.len() - 1;
    bad_udp[last] ^= 1; // inside the authenticator: the UDP checksum fails first
    let mut fragment = good.clone();
    fragment[20] |= 0x20; // More Fragments
    fragment[24..26].copy_from_slice(&[0, 0]);
    let sum = mipdp_dataplane::wire::checksum::checksum(&fragment[14..34]);
    fragment[24..26].copy_from_slice(&sum.to_be_bytes());
    for (frame, why) in [
        (&good[..20], FrameError::Truncated),
        (&bad_sum[..], FrameError::BadChecksum),
        (&bad_udp[..], FrameError::BadChecksum),
        (&fragment[..], FrameError::Fragment),
    ] {
        let before = f.r.stats.frame_errors[why as usize];
        f.request(frame, 1, 0);
        assert_eq!(f.r.stats.frame_errors[why as usize], before + 1, "{why:?}");
    }
    f.request(&good, 7, 0);
    assert_eq!(f.r.stats.frame_errors[FrameError::UnknownPort as usize], 1);
    assert_eq!(f.r.stats.reasons.iter().sum::<u64>(), 0);
}

proptest! {
    #[test]
    fn no_frame_panics_and_every_one_is_counted(frame in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut f = fixture(ReplyLimit::default());
        f.request(&frame, 1, 0);
        let counted = f.r.stats.reasons.iter().sum::<u64>() + f.r.stats.frame_errors.iter().sum::<u64>();
        prop_assert_eq!(counted, 1);
    }
}

/// Waits (not timed: a generous bound only so a broken writer fails the test) until
/// the journal committed everything submitted.
fn wait_committed(journal: &Journal) {
    let give_up = Instant::now() + Duration::from_secs(60);
    while !journal.is_committed(journal.submitted()) {
        assert!(Instant::now() < give_up, "the journal never committed");
        journal.flush();
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn an_accepted_reply_waits_for_the_backup_commit_and_the_record_holds_the_binding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let (journal, idle) = Journal::create(crate::backup::Backup::open(&path).unwrap(), 16);
    let mut f = fixture(ReplyLimit::default());
    f.r.set_journal(journal.clone());
    let request = away_request(0, 300, KEY);
    f.request(&request, 1, 0);
    f.apply_all();
    f.poll(0);
    assert!(f.intercepts(0) && f.intercepts(1));
    assert!(
        f.sent.iter().all(|(port, _)| *port == 0),
        "every worker forwards, but no reply before the commit: {:?}",
        f.sent
    );
    let writer = idle.start().unwrap();
    wait_committed(&journal);
    f.poll(0);
    let replies: Vec<_> = f.sent.iter().filter(|(port, _)| *port == 1).collect();
    assert_eq!(replies.len(), 1);
    assert_eq!(
        reply_of(&replies[0].1, ROUTER_MAC, AWAY_PORT_MAC, COA),
        (ReplyCode::ACCEPTED, 300)
    );
    writer.close();
    let records = crate::backup::Backup::open(&path).unwrap().load().unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.role, crate::backup::Role::HomeAgent);
    assert_eq!(r.home_address, IpAddr::V4(HOME));
    assert_eq!(r.care_of, vec![IpAddr::V4(COA)]);
    assert_eq!(r.tunnel_source, IpAddr::V4(HA));
    assert_eq!(r.lifetime, 300);
    assert_eq!(r.expires, Expiry::At(now(300)));
    assert_eq!(r.replay.last_identification, Some(ntp_timestamp(now(0))));
    assert_eq!(r.spi, Some(SPI));
    assert_eq!(r.profiles.len(), 1, "its interception profile");
}

#[test]
fn a_reply_whose_change_is_never_committed_is_dropped_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    // The writer never starts: nothing is ever committed.
    let (journal, _idle) = Journal::create(crate::backup::Backup::open(&path).unwrap(), 16);
    let mut f = fixture(ReplyLimit::default());
    f.r.set_journal(journal);
    f.request(&away_request(0, 300, KEY), 1, 0);
    f.apply_all();
    f.poll(0);
    f.poll(2);
    assert!(f.sent.iter().all(|(port, _)| *port == 0), "{:?}", f.sent);
    assert_eq!(f.r.stats.replies_abandoned, 1);
    assert_eq!(f.r.stats.replies, 0);
}

#[test]
fn a_restored_binding_forwards_at_once_refuses_a_replay_and_its_expiry_is_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let request = away_request(0, 300, KEY);
    {
        let (journal, writer) =
            Journal::start(crate::backup::Backup::open(&path).unwrap()).unwrap();
        let mut f = fixture(ReplyLimit::default());
        f.r.set_journal(journal.clone());
        f.request(&request, 1, 0);
        wait_committed(&journal);
        writer.close();
    }
    // "Restart": a new home agent, its state from the backup.
    let backup = crate::backup::Backup::open(&path).unwrap();
    let records = backup.load().unwrap();
    let (journal, writer) = Journal::start(backup).unwrap();
    let mut f = fixture(ReplyLimit::default());
    let restored = f.r.restore(&mut f.updates, &records, now(1), f.t0);
    f.r.set_journal(journal.clone());
    assert_eq!(
        restored,
        vec![crate::backup::RestoredBinding {
            role: crate::backup::Role::HomeAgent,
            home: IpAddr::V4(HOME),
            care_of: Some(IpAddr::V4(COA)),
            expires: Expiry::At(now(300)),
        }]
    );
    f.apply_all();
    assert!(
        f.intercepts(0) && f.intercepts(1),
        "forwarding without re-registering"
    );
    // The captured request, replayed after the restart within the timestamp tolerance.
    f.request(&request, 1, 1);
    assert_eq!(f.r.stats.reasons[Reason::Replayed as usize], 1);
    f.apply_all();
    f.poll(1);
    let replies: Vec<_> = f.sent.iter().filter(|(port, _)| *port == 1).collect();
    assert_eq!(replies.len(), 1);
    assert_eq!(
        reply_of(&replies[0].1, ROUTER_MAC, AWAY_PORT_MAC, COA).0,
        ReplyCode::HA_IDENTIFICATION_MISMATCH
    );
    assert!(f.intercepts(0), "the replay changed nothing");
    // The stored lifetime runs out: the binding goes, from the backup too.
    f.poll(301);
    f.apply_all();
    assert!(!f.intercepts(0) && !f.intercepts(1));
    wait_committed(&journal);
    writer.close();
    assert!(crate::backup::Backup::open(&path)
        .unwrap()
        .load()
        .unwrap()
        .is_empty());
}

/// 10.1.`n`.
fn numbered(n: u16) -> Ipv4Addr {
    Ipv4Addr::from(0x0a01_0000 | u32::from(n))
}

/// A gratuitous ARP for 10.1.`n`.
fn arp(n: u16) -> Frame {
    Frame::Arp {
        eth_src: HOME_PORT_MAC,
        hardware: HOME_PORT_MAC,
        home: numbered(n),
    }
}

/// Polls `announcer` at `at` and returns the (port, `n` of the address 10.1.`n` the ARP
/// announces) of what it sent.
fn announced(announcer: &mut Announcer, updates: &UpdateSender, at: Instant) -> Vec<(u16, u16)> {
    let (mut sent, mut unsent) = (0, 0);
    let mut out = Vec::new();
    announcer.poll(
        updates,
        at,
        Duration::from_secs(1),
        &mut |port, frame| {
            out.push((port, u16::from_be_bytes([frame[30], frame[31]])));
            true
        },
        (&mut sent, &mut unsent),
        // A bulk's 10.1.`n` goes out of port 0, but 10.1.0.99 is no longer announced.
        &|home| match home {
            IpAddr::V4(v4) if v4 != numbered(99) => {
                let [_, _, hi, lo] = v4.octets();
                Some((0, arp(u16::from_be_bytes([hi, lo]))))
            }
            _ => None,
        },
    );
    assert_eq!((sent, unsent), (out.len() as u64, 0));
    out
}

#[test]
fn announcements_repeat_interval_apart_and_a_new_series_or_cancel_replaces_the_old() {
    let (updates, _receivers) = channels(1, 16, 16);
    let t0 = Instant::now();
    let mut a = Announcer::default();
    let home = |n: u16| IpAddr::V4(numbered(n));
    a.schedule(home(1), 0, arp(1), (0, t0), 2);
    a.schedule(home(2), 1, arp(2), (0, t0), 3);
    a.schedule(home(3), 0, arp(3), (0, t0), 2);
    a.cancel(home(3));
    let mut first = announced(&mut a, &updates, t0);
    first.sort_unstable();
    assert_eq!(first, vec![(0, 1), (1, 2)]);
    // Not again before the interval.
    assert!(announced(&mut a, &updates, t0 + Duration::from_millis(999)).is_empty());
    // Home 2 scheduled again: its old series is gone, the new one starts when it says.
    a.schedule(home(2), 2, arp(2), (0, t0 + Duration::from_secs(5)), 1);
    assert_eq!(
        announced(&mut a, &updates, t0 + Duration::from_secs(1)),
        vec![(0, 1)]
    );
    assert!(announced(&mut a, &updates, t0 + Duration::from_secs(4)).is_empty());
    assert_eq!(
        announced(&mut a, &updates, t0 + Duration::from_secs(5)),
        vec![(2, 2)]
    );
    assert!(announced(&mut a, &updates, t0 + Duration::from_secs(60)).is_empty());
}

#[test]
fn announcements_wait_for_their_epoch_and_go_out_at_most_a_budget_per_poll() {
    let (mut updates, mut receivers) = channels(1, 4096, 4096);
    let t0 = Instant::now();
    let mut a = Announcer::default();
    let epoch = updates.send(Update::RemoveBinding {
        home: IpAddr::V4(HOME),
    });
    for n in 0..(ANNOUNCE_BUDGET as u32 + 10) {
        let home = IpAddr::V4(Ipv4Addr::from(0x0a02_0000 + n));
        a.schedule(home, 0, arp(7), (epoch, t0), 1);
    }
    assert!(
        announced(&mut a, &updates, t0).is_empty(),
        "epoch not reached"
    );
    let mut tables = Tables::new(&TableLimits::default());
    receivers[0].apply(&mut tables);
    assert_eq!(announced(&mut a, &updates, t0).len(), ANNOUNCE_BUDGET);
    assert_eq!(announced(&mut a, &updates, t0).len(), 10);
    assert!(announced(&mut a, &updates, t0 + Duration::from_secs(9)).is_empty());
}

#[test]
fn a_bulk_announces_each_home_count_times_and_skips_those_scheduled_again_or_cancelled() {
    let (updates, _receivers) = channels(1, 16, 16);
    let t0 = Instant::now();
    let mut a = Announcer::default();
    let home = |n: u16| IpAddr::V4(numbered(n));
    // More than a poll's budget in all, announced twice, a second apart.
    let many = u16::try_from(ANNOUNCE_BUDGET).unwrap() / 2 + 10;
    let bulk = |from: u16| -> Vec<IpAddr> { (from..from + many).map(home).collect() };
    a.schedule_bulk(bulk(0), (0, t0), 2);
    a.schedule_bulk(bulk(many), (0, t0), 2);
    a.cancel(home(1));
    a.schedule(home(2), 1, arp(2), (0, t0), 1);
    let first = announced(&mut a, &updates, t0);
    assert_eq!(first.len(), ANNOUNCE_BUDGET);
    assert_eq!(first[0], (1, 2), "the individual series first");
    assert!(!first.contains(&(0, 1)), "cancelled");
    assert!(!first.contains(&(0, 2)), "scheduled again on its own");
    assert!(!first.contains(&(0, 99)), "no longer announced");
    let rest = announced(&mut a, &updates, t0);
    // 2 * many homes, less the three replaced or gone, plus the one individual.
    assert_eq!(first.len() + rest.len(), 2 * usize::from(many) - 3 + 1);
    assert!(announced(&mut a, &updates, t0 + Duration::from_millis(500)).is_empty());
    let mut again = announced(&mut a, &updates, t0 + Duration::from_secs(1));
    again.extend(announced(&mut a, &updates, t0 + Duration::from_secs(1)));
    assert_eq!(
        again.len(),
        2 * usize::from(many) - 3,
        "the second round of the bulks"
    );
    assert!(announced(&mut a, &updates, t0 + Duration::from_secs(5)).is_empty());
}
