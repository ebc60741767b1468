//! The per-core tables a worker consults per packet. Every worker owns one [`Tables`];
//! only that worker reads it, and only the updates the control thread sends
//! ([`crate::update`]) change it, so lookups take no lock.
//!
//! Capacities are fixed when a worker starts ([`TableLimits`]): each table reserves its
//! room up front, so an update never grows a table on a worker core (growing a table of a
//! million entries would stall the RX loop); an insert beyond the limit is refused and
//! counted ([`TableError::Full`]). The control thread holds the authoritative state and
//! enforces the same limits before it sends anything.

pub mod anycast;
pub mod bindings;
pub mod cache;
pub mod direct;
pub(crate) mod flat;
pub mod multicast;
pub mod neighbours;
pub mod routes;
pub mod visitors;

use core::net::IpAddr;

use crate::profile::{AddrMatch, Class, Policy, Profile, ProfileId, ProfileTables};

pub use anycast::{AnycastGroup, AnycastTable, AnycastTarget, TargetState};
pub use bindings::{Binding, BindingTable, CareOfList, MAX_CARE_OF};
pub use cache::{BindingCache, CacheEntry};
pub use direct::{Direct4, DirectIndex};
pub use multicast::{MulticastEntry, MulticastTable, MulticastTarget};
pub use neighbours::NeighbourTable;
pub use routes::{Prefix, PrefixError, Route, RouteTable};
pub use visitors::{Visitor, VisitorTable};

/// How a packet is tunnelled to a care-of address. The outer family is the care-of
/// address's: [`Encap::IpInIp`] is IPv4-in-IPv4 (RFC 2003) or IPv6-in-IPv4 (RFC 4213) over
/// an IPv4 care-of address, IPv6-in-IPv6 or IPv4-in-IPv6 (RFC 2473) over an IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encap {
    /// IP in IP of the care-of address's family.
    IpInIp,
    /// Minimal encapsulation (RFC 2004): IPv4 in IPv4 only; fragments fall back to
    /// IP-in-IP.
    Minimal,
    /// GRE (RFC 2784) over IPv4, carrying IPv4 or IPv6.
    Gre,
}

impl Encap {
    /// Every method, in counter order.
    pub const ALL: [Encap; 3] = [Encap::IpInIp, Encap::Minimal, Encap::Gre];

    /// Name used in configuration, counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            Encap::IpInIp => "ipip",
            Encap::Minimal => "minimal",
            Encap::Gre => "gre",
        }
    }

    /// Whether this method can carry a packet of the inner family to a tunnel exit point
    /// of the outer family.
    pub fn supports(self, inner_v6: bool, outer: IpAddr) -> bool {
        match (self, outer) {
            (Encap::IpInIp, _) => true,
            (Encap::Minimal, IpAddr::V4(_)) => !inner_v6,
            (Encap::Gre, IpAddr::V4(_)) => true,
            (Encap::Minimal | Encap::Gre, IpAddr::V6(_)) => false,
        }
    }
}

/// Why a table did not take an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The table holds its configured maximum and the key is new.
    #[error("table full")]
    Full,
    /// The entry is not valid for this table (for example a method the addresses cannot
    /// use, or an empty care-of list).
    #[error("invalid entry")]
    Invalid,
}

/// The most entries each table of one worker holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLimits {
    /// Mobility bindings (home address → care-of addresses).
    pub bindings: usize,
    /// Visitor list entries.
    pub visitors: usize,
    /// Binding cache entries (route optimisation).
    pub cache: usize,
    /// Multicast map entries.
    pub multicast: usize,
    /// Anycast addresses.
    pub anycast: usize,
    /// Routes (IPv4 and IPv6 together).
    pub routes: usize,
    /// Neighbour entries.
    pub neighbours: usize,
    /// Service profiles per class.
    pub profiles: usize,
}

impl Default for TableLimits {
    fn default() -> Self {
        TableLimits {
            bindings: 65_536,
            visitors: 65_536,
            cache: 65_536,
            multicast: 16_384,
            anycast: 1_024,
            routes: 16_384,
            neighbours: 16_384,
            profiles: 65_536,
        }
    }
}

/// Every table of one worker.
///
/// The bindings and the profiles change only through the methods here
/// ([`Self::insert_binding`], [`Self::insert_profile`], ... and
/// [`crate::update`]'s `apply`), which keep the [`DirectIndex`] derived from both up to
/// date; they are read through [`Self::bindings`] and [`Self::profiles`].
#[derive(Debug)]
pub struct Tables {
    /// Mobility bindings.
    pub(crate) bindings: BindingTable,
    /// Visitor list (foreign agent, MAP).
    pub visitors: VisitorTable,
    /// Binding cache (correspondent node, previous FA/MAP).
    pub cache: BindingCache,
    /// Multicast map (MMA).
    pub multicast: MulticastTable,
    /// Anycast addresses and their targets.
    pub anycast: AnycastTable,
    /// IPv4 and IPv6 routes.
    pub routes: RouteTable,
    /// Resolved next hops.
    pub neighbours: NeighbourTable,
    /// Service profiles and the policy order.
    pub(crate) profiles: ProfileTables,
    /// The home addresses whose packets skip the search (derived from the two above).
    pub(crate) direct: DirectIndex,
}

impl Tables {
    /// Empty tables with room for `limits` entries each, reserved now.
    pub fn new(limits: &TableLimits) -> Tables {
        Tables {
            bindings: BindingTable::with_limit(limits.bindings),
            visitors: VisitorTable::with_limit(limits.visitors),
            cache: BindingCache::with_limit(limits.cache),
            multicast: MulticastTable::with_limit(limits.multicast),
            anycast: AnycastTable::with_limit(limits.anycast),
            routes: RouteTable::with_limit(limits.routes),
            neighbours: NeighbourTable::with_limit(limits.neighbours),
            profiles: ProfileTables::new(limits.profiles),
            direct: DirectIndex::with_limit(limits.bindings),
        }
    }

    /// The mobility bindings.
    #[inline]
    pub fn bindings(&self) -> &BindingTable {
        &self.bindings
    }

    /// The service profiles and the policy.
    #[inline]
    pub fn profiles(&self) -> &ProfileTables {
        &self.profiles
    }

    /// The direct index derived from both.
    #[inline]
    pub fn direct(&self) -> &DirectIndex {
        &self.direct
    }

    /// Turns the direct path on (the default) or off: off, every packet goes through the
    /// profile search. Tests and benchmarks compare the two.
    pub fn set_direct(&mut self, on: bool) {
        self.direct.set_enabled(on);
    }

    /// Adds or replaces the binding of `home`.
    pub fn insert_binding(&mut self, home: IpAddr, binding: Binding) -> Result<(), TableError> {
        let result = self.bindings.insert(home, binding);
        self.refresh_direct(home);
        result
    }

    /// Removes the binding of `home`; false when it had none.
    pub fn remove_binding(&mut self, home: IpAddr) -> bool {
        let removed = self.bindings.remove(home);
        self.refresh_direct(home);
        removed
    }

    /// Adds or replaces a profile in its class.
    pub fn insert_profile(&mut self, profile: Profile) -> Result<(), TableError> {
        let before = self.direct_key(profile.class, profile.id);
        let result = self.profiles.insert(profile);
        self.after_profile_change(before, Some(profile));
        result
    }

    /// Removes a profile from a class; false when it was not there.
    pub fn remove_profile(&mut self, class: Class, id: ProfileId) -> bool {
        let before = self.direct_key(class, id);
        let removed = self.profiles.remove(class, id);
        self.after_profile_change(before, None);
        removed
    }

    /// Sets the profiles' search order.
    pub fn set_policy(&mut self, policy: Policy) {
        self.profiles.set_policy(policy);
        self.direct.refresh_reach(&self.profiles);
    }

    /// The exact destination of node-destination profile `id`, if it has one: a home
    /// address whose direct entry may depend on it.
    fn direct_key(&self, class: Class, id: ProfileId) -> Option<IpAddr> {
        if class != Class::NodeDestination {
            return None;
        }
        match self.profiles.class(class).get(id)?.matches.dst {
            AddrMatch::Exact(a) => Some(a),
            _ => None,
        }
    }

    /// Refreshes what a profile change can alter: whether the search reaches node-destination
    /// first, and the direct entries of the profile's home address before and after.
    fn after_profile_change(&mut self, before: Option<IpAddr>, now: Option<Profile>) {
        self.direct.refresh_reach(&self.profiles);
        if let Some(home) = before {
            self.refresh_direct(home);
        }
        if let Some(p) = now.filter(|p| p.class == Class::NodeDestination) {
            if let AddrMatch::Exact(home) = p.matches.dst {
                if Some(home) != before {
                    self.refresh_direct(home);
                }
            }
        }
    }

    fn refresh_direct(&mut self, home: IpAddr) {
        self.direct
            .refresh(home, &self.profiles, self.bindings.get(home));
    }
}

/// A hash map that never grows past the limit it was built with: the room is reserved
/// at construction and an insert of a new key at the limit is refused.
#[derive(Debug)]
pub(crate) struct Bounded<K, V> {
    map: hashbrown::HashMap<K, V>,
    limit: usize,
}

impl<K: core::hash::Hash + Eq, V> Bounded<K, V> {
    pub(crate) fn with_limit(limit: usize) -> Self {
        Bounded {
            map: hashbrown::HashMap::with_capacity(limit),
            limit,
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// Inserts or replaces; returns the value replaced.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Result<Option<V>, TableError> {
        if let Some(slot) = self.map.get_mut(&key) {
            return Ok(Some(core::mem::replace(slot, value)));
        }
        if self.map.len() >= self.limit {
            return Err(TableError::Full);
        }
        self.map.insert(key, value);
        Ok(None)
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_map_refuses_a_new_key_at_the_limit_but_replaces_an_old_one() {
        let mut m = Bounded::with_limit(2);
        assert_eq!(m.insert(1, 'a'), Ok(None));
        assert_eq!(m.insert(2, 'b'), Ok(None));
        assert_eq!(m.insert(3, 'c'), Err(TableError::Full));
        assert_eq!(m.insert(2, 'B'), Ok(Some('b')));
        assert_eq!(m.remove(&1), Some('a'));
        assert_eq!(m.insert(3, 'c'), Ok(None));
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&2), Some(&'B'));
    }

    #[test]
    fn bounded_map_does_not_grow_up_to_its_limit() {
        let mut m = Bounded::with_limit(10_000);
        let before = m.map.capacity();
        for i in 0..10_000u32 {
            m.insert(i, i).unwrap();
        }
        assert_eq!(m.map.capacity(), before);
    }

    #[test]
    fn methods_know_which_families_they_carry() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(Encap::IpInIp.supports(true, v4));
        assert!(Encap::IpInIp.supports(false, v6));
        assert!(Encap::Minimal.supports(false, v4));
        assert!(!Encap::Minimal.supports(true, v4));
        assert!(!Encap::Minimal.supports(false, v6));
        assert!(Encap::Gre.supports(true, v4));
        assert!(!Encap::Gre.supports(false, v6));
    }
}
