//! The authoritative Mobile IPv4 mobility binding list: home address → its care-of
//! addresses, each with its own lifetime (simultaneous bindings), the encapsulation the
//! mobile node asked for, and what its last accepted registration carried. RFC 5944
//! §3.8.1.
//!
//! The store is the only place a binding changes. Every change returns the [`Update`]
//! the workers need (the full care-of list, or the removal), so the per-core tables
//! follow the store exactly; the control thread sends them down the update queues.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use mipdp_dataplane::tables::{Binding, CareOfList, Encap, MAX_CARE_OF};
use mipdp_dataplane::update::Update;
use mipdp_dataplane::wire::mip4::RegistrationFlags;

/// A Lifetime of 0xffff: the registration does not expire. RFC 5944 §3.3.
pub const INFINITE_LIFETIME: u16 = 0xffff;

/// When one care-of address of a binding lapses. RFC 5944 §3.8.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// At this time.
    At(SystemTime),
    /// Never: the lifetime granted was infinite (0xffff). RFC 5944 §3.3.
    Never,
}

impl Expiry {
    /// The expiry of a lifetime of `lifetime` seconds granted at `now`.
    pub fn after(now: SystemTime, lifetime: u16) -> Expiry {
        if lifetime == INFINITE_LIFETIME {
            return Expiry::Never;
        }
        now.checked_add(Duration::from_secs(u64::from(lifetime)))
            .map_or(Expiry::Never, Expiry::At)
    }

    /// Whether it has lapsed at `now`.
    pub fn is_due(self, now: SystemTime) -> bool {
        matches!(self, Expiry::At(t) if t <= now)
    }
}

/// One care-of address of a mobility binding. RFC 5944 §3.8.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareOfBinding {
    /// The care-of address.
    pub care_of: Ipv4Addr,
    /// The lifetime granted, in seconds.
    pub lifetime: u16,
    /// When it was last registered.
    pub registered: SystemTime,
    /// When it lapses.
    pub expires: Expiry,
}

/// A mobile node's mobility binding at its home agent. RFC 5944 §3.8.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilityBinding {
    /// The care-of addresses, in the order they were registered (at most the store's
    /// simultaneous-binding limit, itself at most [`MAX_CARE_OF`]).
    pub care_of: Vec<CareOfBinding>,
    /// The encapsulation asked for by the last accepted registration (M: minimal, G:
    /// GRE, else IP in IP); one method serves every care-of address. RFC 5944 §3.3.
    pub encap: Encap,
    /// The home agent address the registration named: the outer source of the tunnel.
    pub home_agent: Ipv4Addr,
    /// The flags of the last accepted registration (reverse tunnelling, broadcast, ...).
    pub flags: RegistrationFlags,
    /// The Identification of the last accepted registration. RFC 5944 §5.7.
    pub identification: u64,
    /// The mobile node's NAI, if it sent one. RFC 2794.
    pub nai: Option<Box<[u8]>>,
    /// The SPI of the mobility security association that authenticated it.
    pub spi: u32,
}

impl MobilityBinding {
    /// What the workers hold for it; None when it has no care-of address left or the
    /// care-of addresses cannot be tunnelled to with its method.
    pub fn dataplane(&self) -> Option<Binding> {
        let addrs: Vec<IpAddr> = self.care_of.iter().map(|c| IpAddr::V4(c.care_of)).collect();
        let binding = Binding {
            care_of: CareOfList::from_slice(&addrs)?,
            encap: self.encap,
            source: IpAddr::V4(self.home_agent),
            tos: None,
        };
        binding.is_valid().then_some(binding)
    }

    /// The earliest time one of its care-of addresses lapses.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        self.care_of
            .iter()
            .filter_map(|c| match c.expires {
                Expiry::At(t) => Some(t),
                Expiry::Never => None,
            })
            .min()
    }
}

/// Whether a registration keeps the care-of addresses already bound. RFC 5944 §3.8.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CareOfMode {
    /// Replace every previous care-of address (S bit clear, or simultaneous bindings
    /// not supported).
    Replace,
    /// Add to (or refresh in) the care-of addresses already bound (S bit set and
    /// supported).
    Add,
}

/// An accepted registration with a nonzero lifetime. RFC 5944 §3.8.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration<'a> {
    /// Home address.
    pub home: Ipv4Addr,
    /// The care-of address registered.
    pub care_of: Ipv4Addr,
    /// The lifetime granted (already clamped), seconds; not zero.
    pub lifetime: u16,
    /// Encapsulation.
    pub encap: Encap,
    /// The home agent address (tunnel source).
    pub home_agent: Ipv4Addr,
    /// The request's flags.
    pub flags: RegistrationFlags,
    /// The request's Identification.
    pub identification: u64,
    /// The NAI, if sent.
    pub nai: Option<&'a [u8]>,
    /// The SPI that authenticated it.
    pub spi: u32,
    /// Replace or add.
    pub mode: CareOfMode,
}

/// What an accepted deregistration removes. RFC 5944 §3.8.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deregistration {
    /// Every care-of address (Care-of Address = home address).
    All,
    /// This one care-of address; the others stay.
    CareOf(Ipv4Addr),
}

/// Why the store refused a registration; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The home address already has as many care-of addresses as allowed. RFC 5944
    /// §3.4, code 135.
    #[error("too many simultaneous mobility bindings")]
    TooManyCareOf,
    /// The store holds its maximum of home addresses. RFC 5944 §3.4, code 130.
    #[error("binding list full")]
    Full,
    /// The binding could not be tunnelled (its care-of address and method do not fit).
    #[error("binding not usable by the dataplane")]
    Invalid,
}

/// The mobility binding list of a home agent. RFC 5944 §3.8.1.
#[derive(Debug, Clone)]
pub struct BindingStore {
    bindings: HashMap<Ipv4Addr, MobilityBinding>,
    /// Each binding's earliest expiry, in time order: expiry and the next timer cost
    /// O(log n) per binding, not a scan of a million bindings whenever one is due.
    due: BTreeSet<(SystemTime, Ipv4Addr)>,
    max_bindings: usize,
    max_care_of: usize,
}

impl BindingStore {
    /// An empty store for at most `max_bindings` home addresses of at most `max_care_of`
    /// care-of addresses each (clamped to 1..=[`MAX_CARE_OF`]; 1: no simultaneous
    /// bindings).
    pub fn new(max_bindings: usize, max_care_of: usize) -> BindingStore {
        BindingStore {
            bindings: HashMap::new(),
            due: BTreeSet::new(),
            max_bindings,
            max_care_of: max_care_of.clamp(1, MAX_CARE_OF),
        }
    }

    /// Makes room for `n` more bindings at once (a restore from the backup), instead of
    /// growing by rehashing on the way.
    pub fn reserve(&mut self, n: usize) {
        self.bindings.reserve(n.min(self.max_bindings));
    }

    /// The binding of a home address.
    pub fn get(&self, home: Ipv4Addr) -> Option<&MobilityBinding> {
        self.bindings.get(&home)
    }

    /// Every binding, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Ipv4Addr, &MobilityBinding)> {
        self.bindings.iter()
    }

    /// Home addresses bound.
    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    /// Whether none is bound.
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The most care-of addresses one home address may have.
    pub fn max_care_of(&self) -> usize {
        self.max_care_of
    }

    /// Applies an accepted registration and returns the update that installs the
    /// binding's full care-of list on every worker; on refusal nothing changes.
    /// RFC 5944 §3.8.2.2.
    pub fn register(&mut self, reg: &Registration<'_>, now: SystemTime) -> Result<Update, Refusal> {
        let entry = CareOfBinding {
            care_of: reg.care_of,
            lifetime: reg.lifetime,
            registered: now,
            expires: Expiry::after(now, reg.lifetime),
        };
        let mut care_of = match (reg.mode, self.bindings.get(&reg.home)) {
            (CareOfMode::Add, Some(old)) => old.care_of.clone(),
            _ => Vec::new(),
        };
        if let Some(slot) = care_of.iter_mut().find(|c| c.care_of == reg.care_of) {
            *slot = entry;
        } else if care_of.len() >= self.max_care_of {
            return Err(Refusal::TooManyCareOf);
        } else {
            care_of.push(entry);
        }
        if !self.bindings.contains_key(&reg.home) && self.bindings.len() >= self.max_bindings {
            return Err(Refusal::Full);
        }
        let binding = MobilityBinding {
            care_of,
            encap: reg.encap,
            home_agent: reg.home_agent,
            flags: reg.flags,
            identification: reg.identification,
            nai: reg.nai.map(Box::from),
            spi: reg.spi,
        };
        let dataplane = binding.dataplane().ok_or(Refusal::Invalid)?;
        let old = self.expiry_of(reg.home);
        self.bindings.insert(reg.home, binding);
        self.reindex(reg.home, old);
        Ok(Update::Binding {
            home: IpAddr::V4(reg.home),
            binding: dataplane,
        })
    }

    /// Puts back a binding restored from the backup after a restart (issue 6, recovery
    /// step 1) as it was stored, and returns the update that installs it on every
    /// worker; on refusal nothing changes.
    pub fn restore(&mut self, home: Ipv4Addr, binding: MobilityBinding) -> Result<Update, Refusal> {
        if binding.care_of.len() > self.max_care_of {
            return Err(Refusal::TooManyCareOf);
        }
        if !self.bindings.contains_key(&home) && self.bindings.len() >= self.max_bindings {
            return Err(Refusal::Full);
        }
        let dataplane = binding.dataplane().ok_or(Refusal::Invalid)?;
        let old = self.expiry_of(home);
        self.bindings.insert(home, binding);
        self.reindex(home, old);
        Ok(Update::Binding {
            home: IpAddr::V4(home),
            binding: dataplane,
        })
    }

    /// Applies an accepted deregistration: the update that removes the binding from
    /// every worker, or installs what is left of it; None when nothing was bound.
    /// RFC 5944 §3.8.2.2.
    pub fn deregister(&mut self, home: Ipv4Addr, which: Deregistration) -> Option<Update> {
        let old = self.expiry_of(home);
        let update = self.deregister_unindexed(home, which);
        self.reindex(home, old);
        update
    }

    fn deregister_unindexed(&mut self, home: Ipv4Addr, which: Deregistration) -> Option<Update> {
        let binding = self.bindings.get_mut(&home)?;
        match which {
            Deregistration::All => binding.care_of.clear(),
            Deregistration::CareOf(addr) => {
                let before = binding.care_of.len();
                binding.care_of.retain(|c| c.care_of != addr);
                if binding.care_of.len() == before {
                    return None;
                }
            }
        }
        self.settle(home)
    }

    /// Removes every care-of address whose lifetime has lapsed at `now`, and returns
    /// the updates: a removal from every worker where none is left, the remaining list
    /// where some are. RFC 5944 §3.8.1.
    pub fn expire(&mut self, now: SystemTime) -> Vec<Update> {
        let mut updates = Vec::new();
        while let Some(&(at, home)) = self.due.first() {
            if at > now {
                break;
            }
            if let Some(b) = self.bindings.get_mut(&home) {
                b.care_of.retain(|c| !c.expires.is_due(now));
            }
            updates.extend(self.settle(home));
            // Removes (at, home) and files what is left (all later than now).
            self.reindex(home, Some(at));
        }
        updates
    }

    /// The earliest time a care-of address lapses: when to call [`expire`](Self::expire)
    /// next.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        self.due.first().map(|(at, _)| *at)
    }

    /// The earliest expiry of `home`'s binding, as the index has it.
    fn expiry_of(&self, home: Ipv4Addr) -> Option<SystemTime> {
        self.bindings
            .get(&home)
            .and_then(MobilityBinding::next_expiry)
    }

    /// Moves `home` in the expiry index from `old` to where its binding is now.
    fn reindex(&mut self, home: Ipv4Addr, old: Option<SystemTime>) {
        if let Some(at) = old {
            self.due.remove(&(at, home));
        }
        if let Some(at) = self.expiry_of(home) {
            self.due.insert((at, home));
        }
    }

    /// The update that brings the workers in line with the binding of `home` after a
    /// removal: gone when no care-of address is left.
    fn settle(&mut self, home: Ipv4Addr) -> Option<Update> {
        let dataplane = self
            .bindings
            .get(&home)
            .and_then(MobilityBinding::dataplane);
        match dataplane {
            Some(binding) => Some(Update::Binding {
                home: IpAddr::V4(home),
                binding,
            }),
            None => {
                self.bindings.remove(&home);
                Some(Update::RemoveBinding {
                    home: IpAddr::V4(home),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn reg(care_of: &str, lifetime: u16, mode: CareOfMode) -> Registration<'static> {
        Registration {
            home: a("192.0.2.10"),
            care_of: a(care_of),
            lifetime,
            encap: Encap::IpInIp,
            home_agent: a("192.0.2.1"),
            flags: RegistrationFlags::default(),
            identification: 1,
            nai: Some(b"mn@example.com"),
            spi: 256,
            mode,
        }
    }

    fn care_of_of(u: &Update) -> Vec<IpAddr> {
        match u {
            Update::Binding { binding, .. } => binding.care_of.as_slice().to_vec(),
            other => panic!("{other:?}"),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn registration_installs_the_binding_with_the_home_agent_as_tunnel_source() {
        let mut s = BindingStore::new(8, 4);
        let u = s.register(&reg("198.51.100.7", 60, CareOfMode::Replace), t(0));
        let u = u.unwrap();
        match &u {
            Update::Binding { home, binding } => {
                assert_eq!(*home, ip("192.0.2.10"));
                assert_eq!(binding.source, ip("192.0.2.1"));
                assert_eq!(binding.encap, Encap::IpInIp);
            }
            other => panic!("{other:?}"),
        }
        let b = s.get(a("192.0.2.10")).unwrap();
        assert_eq!(b.nai.as_deref(), Some(&b"mn@example.com"[..]));
        assert_eq!(b.care_of[0].expires, Expiry::At(t(60)));
        assert_eq!(s.next_expiry(), Some(t(60)));
    }

    #[test]
    fn add_mode_keeps_other_care_of_addresses_and_replace_drops_them() {
        let mut s = BindingStore::new(8, 2);
        s.register(&reg("198.51.100.7", 60, CareOfMode::Replace), t(0))
            .unwrap();
        let u = s
            .register(&reg("198.51.100.8", 60, CareOfMode::Add), t(1))
            .unwrap();
        assert_eq!(care_of_of(&u), vec![ip("198.51.100.7"), ip("198.51.100.8")]);
        // Refreshing one already bound does not count against the limit.
        let u = s
            .register(&reg("198.51.100.7", 90, CareOfMode::Add), t(2))
            .unwrap();
        assert_eq!(care_of_of(&u), vec![ip("198.51.100.7"), ip("198.51.100.8")]);
        assert_eq!(
            s.register(&reg("198.51.100.9", 60, CareOfMode::Add), t(3)),
            Err(Refusal::TooManyCareOf)
        );
        let u = s
            .register(&reg("198.51.100.9", 60, CareOfMode::Replace), t(4))
            .unwrap();
        assert_eq!(care_of_of(&u), vec![ip("198.51.100.9")]);
    }

    #[test]
    fn a_full_store_refuses_new_home_addresses_and_changes_nothing() {
        let mut s = BindingStore::new(1, 4);
        s.register(&reg("198.51.100.7", 60, CareOfMode::Replace), t(0))
            .unwrap();
        let mut other = reg("198.51.100.8", 60, CareOfMode::Replace);
        other.home = a("192.0.2.11");
        assert_eq!(s.register(&other, t(1)), Err(Refusal::Full));
        assert_eq!(s.len(), 1);
        assert!(s.get(a("192.0.2.11")).is_none());
    }

    #[test]
    fn an_unusable_care_of_address_is_refused() {
        let mut s = BindingStore::new(8, 4);
        assert_eq!(
            s.register(&reg("224.0.0.5", 60, CareOfMode::Replace), t(0)),
            Err(Refusal::Invalid)
        );
        assert!(s.is_empty());
    }

    #[test]
    fn deregistering_one_care_of_keeps_the_rest_and_the_last_removes_the_binding() {
        let mut s = BindingStore::new(8, 4);
        s.register(&reg("198.51.100.7", 60, CareOfMode::Replace), t(0))
            .unwrap();
        s.register(&reg("198.51.100.8", 60, CareOfMode::Add), t(0))
            .unwrap();
        let u = s
            .deregister(a("192.0.2.10"), Deregistration::CareOf(a("198.51.100.7")))
            .unwrap();
        assert_eq!(care_of_of(&u), vec![ip("198.51.100.8")]);
        assert_eq!(
            s.deregister(a("192.0.2.10"), Deregistration::CareOf(a("198.51.100.7"))),
            None
        );
        assert_eq!(
            s.deregister(a("192.0.2.10"), Deregistration::CareOf(a("198.51.100.8"))),
            Some(Update::RemoveBinding {
                home: ip("192.0.2.10")
            })
        );
        assert!(s.is_empty());
        assert_eq!(s.deregister(a("192.0.2.10"), Deregistration::All), None);
    }

    #[test]
    fn deregistering_all_removes_every_care_of_address() {
        let mut s = BindingStore::new(8, 4);
        s.register(&reg("198.51.100.7", 60, CareOfMode::Replace), t(0))
            .unwrap();
        s.register(&reg("198.51.100.8", 60, CareOfMode::Add), t(0))
            .unwrap();
        assert_eq!(
            s.deregister(a("192.0.2.10"), Deregistration::All),
            Some(Update::RemoveBinding {
                home: ip("192.0.2.10")
            })
        );
        assert!(s.is_empty());
    }

    #[test]
    fn expiry_removes_each_care_of_address_at_its_own_time() {
        let mut s = BindingStore::new(8, 4);
        s.register(&reg("198.51.100.7", 10, CareOfMode::Replace), t(0))
            .unwrap();
        s.register(&reg("198.51.100.8", 30, CareOfMode::Add), t(0))
            .unwrap();
        let mut forever = reg("198.51.100.9", INFINITE_LIFETIME, CareOfMode::Replace);
        forever.home = a("192.0.2.11");
        s.register(&forever, t(0)).unwrap();
        assert!(s.expire(t(9)).is_empty());
        let u = s.expire(t(10));
        assert_eq!(u.len(), 1);
        assert_eq!(care_of_of(&u[0]), vec![ip("198.51.100.8")]);
        assert_eq!(s.next_expiry(), Some(t(30)));
        assert_eq!(
            s.expire(t(31)),
            vec![Update::RemoveBinding {
                home: ip("192.0.2.10")
            }]
        );
        assert!(s.get(a("192.0.2.10")).is_none());
        assert!(s.expire(t(1_000_000)).is_empty());
        assert_eq!(s.len(), 1);
        assert_eq!(s.next_expiry(), None);
    }

    proptest::proptest! {
        /// The expiry index agrees with a scan of every binding after any sequence of
        /// registrations, deregistrations and expiries, and an expiry leaves nothing due.
        #[test]
        fn the_expiry_index_agrees_with_a_scan(
            ops in proptest::collection::vec(
                (0u8..4, 0u8..6, 0u8..4, 0u16..120, 0u64..200),
                1..60,
            )
        ) {
            let mut s = BindingStore::new(64, 2);
            let mut clock = 0u64;
            for (op, home, care_of, lifetime, step) in ops {
                clock += step;
                let now = t(clock);
                let home_addr = Ipv4Addr::new(192, 0, 2, 10 + home);
                let care_addr = Ipv4Addr::new(198, 51, 100, 1 + care_of);
                match op {
                    0 | 1 => {
                        let mut r = reg("198.51.100.1", lifetime, if op == 0 {
                            CareOfMode::Replace
                        } else {
                            CareOfMode::Add
                        });
                        r.home = home_addr;
                        r.care_of = care_addr;
                        if lifetime == 119 {
                            r.lifetime = INFINITE_LIFETIME;
                        }
                        let _ = s.register(&r, now);
                    }
                    2 => {
                        let which = if care_of == 0 {
                            Deregistration::All
                        } else {
                            Deregistration::CareOf(care_addr)
                        };
                        let _ = s.deregister(home_addr, which);
                    }
                    _ => {
                        let _ = s.expire(now);
                        for (_, b) in s.iter() {
                            proptest::prop_assert!(b.care_of.iter().all(|c| !c.expires.is_due(now)));
                        }
                    }
                }
                let scan = s.iter().filter_map(|(_, b)| b.next_expiry()).min();
                proptest::prop_assert_eq!(s.next_expiry(), scan);
                let filed = s.iter().filter(|(_, b)| b.next_expiry().is_some()).count();
                proptest::prop_assert_eq!(s.due.len(), filed);
            }
        }
    }
}
