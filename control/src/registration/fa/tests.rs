//! The foreign agent relay with the binding backup (issue 6): visitors are stored before
//! their reply leaves, put back at start so delivery resumes at once, and expire on time.

use mipdp_dataplane::tables::{TableLimits, Tables};
use mipdp_dataplane::update::{channels, UpdateReceiver};

use super::*;
use crate::backup::Backup;
use crate::registration::udp_frame;
use crate::signalling::fa::tests::{agent_config, reply, request, CARE_OF, HA, HOME, LINK, MAC};

const PORT_MACS: [[u8; 6]; 2] = [[2, 0, 0, 0, 0, 0xa0], [2, 0, 0, 0, 0, 0xb0]];
const ROUTER_MAC: [u8; 6] = [2, 0xbb, 0, 0, 0, 7];
const ID: u64 = 0x1234_0000_0007;

struct Fixture {
    relay: ForeignAgentRelay,
    updates: UpdateSender,
    workers: Vec<(UpdateReceiver, Tables)>,
    sent: Vec<(u16, Vec<u8>)>,
    t0: Instant,
    unix0: SystemTime,
}

fn fixture() -> Fixture {
    let t0 = Instant::now();
    let (updates, receivers) = channels(2, 64, 64);
    Fixture {
        relay: ForeignAgentRelay::new(agent_config(), PORT_MACS.to_vec(), t0),
        updates,
        workers: receivers
            .into_iter()
            .map(|r| (r, Tables::new(&TableLimits::default())))
            .collect(),
        sent: Vec::new(),
        t0,
        unix0: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    }
}

fn toward(_: Ipv4Addr) -> Option<Toward4> {
    Some((1, ROUTER_MAC))
}

impl Fixture {
    fn at(&self, secs: u64) -> Instant {
        self.t0 + Duration::from_secs(secs)
    }

    /// A frame from the mobile on the visited link (port 0), or from the home agent to
    /// the care-of address (port 1).
    fn receive(&mut self, from_mobile: bool, bytes: &[u8], secs: u64) {
        let (frame, port) = if from_mobile {
            let from = SocketAddrV4::new(HOME, 49152);
            let to = SocketAddrV4::new(LINK, 434);
            (udp_frame(MAC, PORT_MACS[0], from, to, 1, bytes), 0)
        } else {
            let from = SocketAddrV4::new(HA, 434);
            let to = SocketAddrV4::new(CARE_OF, 434);
            (udp_frame(ROUTER_MAC, PORT_MACS[1], from, to, 2, bytes), 1)
        };
        let frame = frame.unwrap();
        assert!(self.relay.wants(&frame, port));
        let at = self.at(secs);
        let sent = &mut self.sent;
        self.relay.registration(
            &frame,
            port,
            &mut self.updates,
            &toward,
            at,
            &mut |port, f| {
                sent.push((port, f.to_vec()));
                true
            },
        );
    }

    fn poll(&mut self, secs: u64) {
        let at = self.at(secs);
        let sent = &mut self.sent;
        self.relay.poll(&mut self.updates, at, &mut |port, f| {
            sent.push((port, f.to_vec()));
            true
        });
    }

    fn apply_all(&mut self) {
        self.updates.flush();
        for (rx, tables) in &mut self.workers {
            rx.apply(tables);
        }
    }

    /// Whether every worker delivers to the visitor `HOME`, at `MAC` on port 0.
    fn delivers(&self) -> bool {
        let want = Visitor { mac: MAC, port: 0 };
        let on: Vec<bool> = self
            .workers
            .iter()
            .map(|(_, t)| t.visitors.get(IpAddr::V4(HOME)) == Some(&want))
            .collect();
        assert!(on.iter().all(|b| *b == on[0]), "every worker alike");
        on[0]
    }

    /// Registers the visitor: the request relayed, the home agent's reply granting
    /// `lifetime` seconds.
    fn register(&mut self, lifetime: u16, id: u64, secs: u64) {
        self.receive(true, &request(600, CARE_OF, 0, id), secs);
        self.receive(false, &reply(0, lifetime, id), secs);
    }
}

/// The UDP frames (Registration Replies; not the agent advertisements) sent on the
/// visited link.
fn replies_to_mobile(sent: &[(u16, Vec<u8>)]) -> usize {
    sent.iter()
        .filter(|(port, f)| *port == 0 && f.get(23) == Some(&17))
        .count()
}

#[test]
fn a_visitor_is_stored_before_its_reply_and_its_deregistration_deletes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let mut f = fixture();
    let (journal, writer) = Journal::create(Backup::open(&path).unwrap(), 64);
    f.relay.set_journal(journal.clone());
    f.register(300, ID, 0);
    assert_eq!(f.relay.stats.reasons[Reason::Accepted as usize], 1);
    f.apply_all();
    assert!(f.delivers());
    f.poll(0);
    assert_eq!(
        replies_to_mobile(&f.sent),
        0,
        "the reply waits for the backup's commit"
    );
    // Closing the writer stores what it was handed.
    writer.start().unwrap().close();
    assert!(journal.is_committed(journal.submitted()));
    f.poll(0);
    assert_eq!(replies_to_mobile(&f.sent), 1);
    let records = Backup::open(&path).unwrap().load().unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(
        (r.role, r.home_address, &r.care_of, r.tunnel_source),
        (
            Role::ForeignAgent,
            IpAddr::V4(HOME),
            &vec![IpAddr::V4(CARE_OF)],
            IpAddr::V4(HA)
        )
    );
    assert_eq!(
        r.role_data,
        RoleData::Visitor(VisitorState { mac: MAC, port: 0 })
    );
    assert_eq!(r.lifetime, 300);
    assert_eq!(r.replay.last_identification, Some(ID));
    assert_eq!(r.nai.as_deref(), Some("mn@exampl"));

    // De-registered (lifetime 0): the record goes.
    let (journal, writer) = Journal::start(Backup::open(&path).unwrap()).unwrap();
    f.relay.set_journal(journal);
    f.register(0, ID + 1, 1);
    assert_eq!(f.relay.stats.reasons[Reason::Deregistered as usize], 1);
    writer.close();
    assert!(Backup::open(&path).unwrap().load().unwrap().is_empty());
}

#[test]
fn a_restored_visitor_is_delivered_to_at_once_and_expires_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.redb");
    let mut f = fixture();
    let (journal, writer) = Journal::start(Backup::open(&path).unwrap()).unwrap();
    f.relay.set_journal(journal);
    f.register(300, ID, 0);
    writer.close();
    let records = Backup::open(&path).unwrap().load().unwrap();
    assert_eq!(records.len(), 1);
    let registered = f.relay.clock.0;

    // "Restart" 100 s of wall-clock time after the registration: 200 s are left.
    let mut f = fixture();
    let (journal, writer) = Journal::start(Backup::open(&path).unwrap()).unwrap();
    let now = registered + Duration::from_secs(100);
    let restored = f.relay.restore(&mut f.updates, &records, (now, f.t0));
    f.relay.set_journal(journal);
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].role, Role::ForeignAgent);
    assert_eq!(
        crate::recovery::verification(restored[0].role, restored[0].home),
        crate::recovery::Verification::Unverifiable
    );
    f.apply_all();
    assert!(f.delivers(), "delivered to before any message");
    assert_eq!(f.relay.stats.visitors, 1);
    f.poll(199);
    f.apply_all();
    assert!(f.delivers(), "not before its stored lifetime");
    f.poll(200);
    f.apply_all();
    assert!(!f.delivers());
    assert_eq!(f.relay.stats.expiries, 1);
    writer.close();
    assert!(
        Backup::open(&path).unwrap().load().unwrap().is_empty(),
        "the expiry reached the backup"
    );
}

#[test]
fn a_record_without_a_visitor_or_a_group_mac_is_not_restored() {
    let mut f = fixture();
    let clock = (f.unix0, f.t0);
    let entry = VisitorEntry {
        visitor: Visitor { mac: MAC, port: 0 },
        home_agent: HA,
        care_of: CARE_OF,
        nai: None,
        identification: ID,
        lifetime: 300,
        expires: Some(f.at(300)),
    };
    let good = visitor_record_of(HOME, &entry, clock);
    assert_eq!(visitor_entry_of(&good, clock), Some((HOME, entry.clone())));
    let mut no_visitor = good.clone();
    no_visitor.role_data = RoleData::None;
    let mut group_mac = good.clone();
    group_mac.role_data = RoleData::Visitor(VisitorState {
        mac: [1, 0, 0x5e, 0, 0, 1],
        port: 0,
    });
    let restored = f
        .relay
        .restore(&mut f.updates, &[no_visitor, group_mac], clock);
    assert!(restored.is_empty());
    f.apply_all();
    assert!(!f.delivers());
}
