//! The authoritative Mobile IPv6 binding cache of a home agent: home address → its one
//! care-of address (the primary care-of address of a home registration), the lifetime
//! granted, and the sequence number of the last accepted Binding Update. RFC 6275 §9.1,
//! §10.1.
//!
//! Beside the Mobile IPv4 list ([`super::bindings`]) rather than generalised from it: a
//! Mobile IPv6 home registration has one care-of address and a sequence number, where a
//! Mobile IPv4 binding has simultaneous care-of addresses, an encapsulation choice and an
//! Identification. Every change returns the [`Update`] the workers need, as there.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, SystemTime};

use mipdp_dataplane::tables::{Binding, CareOfList, Encap};
use mipdp_dataplane::update::Update;

/// A home registration in the binding cache. RFC 6275 §10.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HomeBinding {
    /// The primary care-of address.
    pub care_of: Ipv6Addr,
    /// The home agent address the Binding Update was sent to: the outer source of the
    /// tunnel (RFC 6275 §10.4.1) and of the Binding Refresh Request.
    pub home_agent: Ipv6Addr,
    /// The lifetime granted, in seconds (the Binding Acknowledgement's 4-second units
    /// times 4).
    pub lifetime: u32,
    /// When it was last registered.
    pub registered: SystemTime,
    /// When it lapses.
    pub expires: SystemTime,
    /// The Sequence Number of the last accepted Binding Update. RFC 6275 §9.5.1.
    pub sequence: u16,
    /// The L (link-local address compatibility) flag of that Binding Update.
    pub link_local_compatibility: bool,
    /// The SPI of the mobility security association that authenticated it. RFC 4285 §5.
    pub spi: u32,
}

impl HomeBinding {
    /// What the workers hold for it: IPv6-in-IPv6 (RFC 2473) from the home agent address
    /// to the care-of address. RFC 6275 §10.4.1.
    pub fn dataplane(&self) -> Option<Binding> {
        let binding = Binding {
            care_of: CareOfList::from_slice(&[IpAddr::V6(self.care_of)])?,
            encap: Encap::IpInIp,
            source: IpAddr::V6(self.home_agent),
            tos: None,
        };
        binding.is_valid().then_some(binding)
    }
}

/// An accepted home registration with a nonzero lifetime. RFC 6275 §10.3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HomeRegistration {
    /// Home address (the key).
    pub home: Ipv6Addr,
    /// The care-of address.
    pub care_of: Ipv6Addr,
    /// The home agent address the Binding Update went to.
    pub home_agent: Ipv6Addr,
    /// The lifetime granted (already clamped), seconds; not zero.
    pub lifetime: u32,
    /// The Binding Update's Sequence Number.
    pub sequence: u16,
    /// Its L flag.
    pub link_local_compatibility: bool,
    /// The SPI that authenticated it.
    pub spi: u32,
}

/// Why the cache refused a registration; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal6 {
    /// The cache holds its maximum of home addresses. RFC 6275 §10.3.1, status 130.
    #[error("binding cache full")]
    Full,
    /// The binding could not be tunnelled (care-of address and source do not fit).
    #[error("binding not usable by the dataplane")]
    Invalid,
}

/// The binding cache of a Mobile IPv6 home agent (home registrations only). RFC 6275
/// §10.1.
#[derive(Debug, Clone)]
pub struct BindingCache6 {
    bindings: HashMap<Ipv6Addr, HomeBinding>,
    /// Every binding's expiry, in time order (O(log n) expiry and next timer).
    due: BTreeSet<(SystemTime, Ipv6Addr)>,
    max_bindings: usize,
}

impl BindingCache6 {
    /// An empty cache for at most `max_bindings` home addresses.
    pub fn new(max_bindings: usize) -> BindingCache6 {
        BindingCache6 {
            bindings: HashMap::new(),
            due: BTreeSet::new(),
            max_bindings,
        }
    }

    /// Makes room for `n` more bindings at once (a restore from the backup), instead of
    /// growing by rehashing on the way.
    pub fn reserve(&mut self, n: usize) {
        self.bindings.reserve(n.min(self.max_bindings));
    }

    /// The binding of a home address.
    pub fn get(&self, home: Ipv6Addr) -> Option<&HomeBinding> {
        self.bindings.get(&home)
    }

    /// Every binding, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Ipv6Addr, &HomeBinding)> {
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

    /// Creates or replaces the binding of a home address and returns the update that
    /// installs it on every worker; on refusal nothing changes. RFC 6275 §10.3.1.
    pub fn register(
        &mut self,
        reg: &HomeRegistration,
        now: SystemTime,
    ) -> Result<Update, Refusal6> {
        if !self.bindings.contains_key(&reg.home) && self.bindings.len() >= self.max_bindings {
            return Err(Refusal6::Full);
        }
        let binding = HomeBinding {
            care_of: reg.care_of,
            home_agent: reg.home_agent,
            lifetime: reg.lifetime,
            registered: now,
            // A lifetime past what SystemTime holds cannot be granted: at most 0xffff × 4
            // seconds are, so this only fails for a clock near its end.
            expires: now
                .checked_add(Duration::from_secs(u64::from(reg.lifetime)))
                .ok_or(Refusal6::Invalid)?,
            sequence: reg.sequence,
            link_local_compatibility: reg.link_local_compatibility,
            spi: reg.spi,
        };
        let dataplane = binding.dataplane().ok_or(Refusal6::Invalid)?;
        if let Some(old) = self.bindings.insert(reg.home, binding) {
            self.due.remove(&(old.expires, reg.home));
        }
        self.due.insert((binding.expires, reg.home));
        Ok(Update::Binding {
            home: IpAddr::V6(reg.home),
            binding: dataplane,
        })
    }

    /// Puts back a binding restored from the backup after a restart (issue 6, recovery
    /// step 1) as it was stored, and returns the update that installs it on every
    /// worker; on refusal nothing changes.
    pub fn restore(&mut self, home: Ipv6Addr, binding: HomeBinding) -> Result<Update, Refusal6> {
        if !self.bindings.contains_key(&home) && self.bindings.len() >= self.max_bindings {
            return Err(Refusal6::Full);
        }
        let dataplane = binding.dataplane().ok_or(Refusal6::Invalid)?;
        if let Some(old) = self.bindings.insert(home, binding) {
            self.due.remove(&(old.expires, home));
        }
        self.due.insert((binding.expires, home));
        Ok(Update::Binding {
            home: IpAddr::V6(home),
            binding: dataplane,
        })
    }

    /// Deletes the binding of a home address: the update that removes it from every
    /// worker, or None when nothing was bound. RFC 6275 §10.3.2.
    pub fn deregister(&mut self, home: Ipv6Addr) -> Option<Update> {
        let old = self.bindings.remove(&home)?;
        self.due.remove(&(old.expires, home));
        Some(Update::RemoveBinding {
            home: IpAddr::V6(home),
        })
    }

    /// Removes every binding whose lifetime has lapsed at `now` and returns the updates
    /// that remove them from every worker. RFC 6275 §10.3.1 (the entry is deleted when
    /// its lifetime expires).
    pub fn expire(&mut self, now: SystemTime) -> Vec<Update> {
        let mut updates = Vec::new();
        while let Some(&(at, home)) = self.due.first() {
            if at > now {
                break;
            }
            self.due.remove(&(at, home));
            updates.extend(self.deregister(home));
        }
        updates
    }

    /// The earliest time a binding lapses: when to call [`expire`](Self::expire) next.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        self.due.first().map(|(at, _)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn reg(home: &str, care_of: &str, lifetime: u32) -> HomeRegistration {
        HomeRegistration {
            home: a(home),
            care_of: a(care_of),
            home_agent: a("2001:db8:1::1"),
            lifetime,
            sequence: 7,
            link_local_compatibility: false,
            spi: 256,
        }
    }

    #[test]
    fn registration_installs_an_ipv6_in_ipv6_tunnel_from_the_home_agent() {
        let mut c = BindingCache6::new(4);
        let u = c
            .register(&reg("2001:db8:1::10", "2001:db8:2::7", 60), t(0))
            .unwrap();
        let Update::Binding { home, binding } = u else {
            panic!("{u:?}")
        };
        assert_eq!(home, "2001:db8:1::10".parse::<IpAddr>().unwrap());
        assert_eq!(binding.encap, Encap::IpInIp);
        assert_eq!(binding.source, "2001:db8:1::1".parse::<IpAddr>().unwrap());
        assert_eq!(
            binding.care_of.as_slice(),
            &["2001:db8:2::7".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(c.next_expiry(), Some(t(60)));
        assert_eq!(c.get(a("2001:db8:1::10")).unwrap().sequence, 7);
    }

    #[test]
    fn a_full_cache_refuses_new_home_addresses_but_refreshes_bound_ones() {
        let mut c = BindingCache6::new(1);
        c.register(&reg("2001:db8:1::10", "2001:db8:2::7", 60), t(0))
            .unwrap();
        assert_eq!(
            c.register(&reg("2001:db8:1::11", "2001:db8:2::7", 60), t(0)),
            Err(Refusal6::Full)
        );
        assert!(c
            .register(&reg("2001:db8:1::10", "2001:db8:2::8", 60), t(1))
            .is_ok());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn a_multicast_care_of_address_is_refused_and_changes_nothing() {
        let mut c = BindingCache6::new(4);
        assert_eq!(
            c.register(&reg("2001:db8:1::10", "ff02::1", 60), t(0)),
            Err(Refusal6::Invalid)
        );
        assert!(c.is_empty());
    }

    #[test]
    fn expiry_removes_each_binding_at_its_time() {
        let mut c = BindingCache6::new(4);
        c.register(&reg("2001:db8:1::10", "2001:db8:2::7", 10), t(0))
            .unwrap();
        c.register(&reg("2001:db8:1::11", "2001:db8:2::8", 30), t(0))
            .unwrap();
        assert!(c.expire(t(9)).is_empty());
        assert_eq!(
            c.expire(t(10)),
            vec![Update::RemoveBinding {
                home: "2001:db8:1::10".parse().unwrap()
            }]
        );
        assert_eq!(c.next_expiry(), Some(t(30)));
        assert_eq!(c.deregister(a("2001:db8:1::10")), None);
        assert!(c.deregister(a("2001:db8:1::11")).is_some());
        assert!(c.is_empty());
    }

    proptest::proptest! {
        /// The expiry index agrees with a scan after any sequence of registrations,
        /// deregistrations and expiries, and an expiry leaves nothing due.
        #[test]
        fn the_expiry_index_agrees_with_a_scan(
            ops in proptest::collection::vec((0u8..3, 0u8..6, 0u32..120, 0u64..200), 1..60)
        ) {
            let mut c = BindingCache6::new(64);
            let mut clock = 0u64;
            for (op, home, lifetime, step) in ops {
                clock += step;
                let now = t(clock);
                let home = format!("2001:db8:1::{}", 100 + u32::from(home));
                match op {
                    0 => {
                        let _ = c.register(&reg(&home, "2001:db8:99::7", lifetime), now);
                    }
                    1 => {
                        let _ = c.deregister(a(&home));
                    }
                    _ => {
                        let _ = c.expire(now);
                        proptest::prop_assert!(c.iter().all(|(_, b)| b.expires > now));
                    }
                }
                let scan = c.iter().map(|(_, b)| b.expires).min();
                proptest::prop_assert_eq!(c.next_expiry(), scan);
                proptest::prop_assert_eq!(c.due.len(), c.len());
            }
        }
    }
}
