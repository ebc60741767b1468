//! The profiles of one class, indexed by the address the class is keyed on.

use core::net::IpAddr;

use hashbrown::HashMap;

use super::{AddrMatch, Class, FlowKey, Profile, ProfileId};
use crate::tables::routes::{mask4, mask6, Lengths};
use crate::tables::TableError;

/// Where a profile sits in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Exact(IpAddr),
    Prefix4(u8, u32),
    Prefix6(u8, u128),
    Any,
}

/// The profiles of one class. Within one address, prefix or the any-list, profiles are
/// tried in id order (session, then number), so the number acts as a priority.
#[derive(Debug)]
pub struct ClassTable {
    class: Class,
    exact: HashMap<IpAddr, Bucket>,
    prefix4: HashMap<(u8, u32), Vec<Profile>>,
    prefix6: HashMap<(u8, u128), Vec<Profile>>,
    lengths4: Lengths,
    lengths6: Lengths,
    any: Vec<Profile>,
    slots: HashMap<ProfileId, Slot>,
    limit: usize,
}

fn first_match<'a>(bucket: &'a [Profile], key: &FlowKey) -> Option<&'a Profile> {
    bucket.iter().find(|p| p.matches.matches(key))
}

/// The profiles of one exact address, in id order. Nearly every exact address has one
/// profile (a home agent's per-mobile profile), kept inside the hash table's entry: a
/// lookup reads the entry it found and nothing more, where a list adds a dependent read,
/// a cache miss per packet once the table outgrows the caches (a million bindings).
#[derive(Debug)]
enum Bucket {
    One(Profile),
    Many(Vec<Profile>),
}

impl Bucket {
    #[inline]
    fn as_slice(&self) -> &[Profile] {
        match self {
            Bucket::One(p) => core::slice::from_ref(p),
            Bucket::Many(v) => v,
        }
    }

    /// Adds `profile` in id order (the caller removed any with its id).
    fn insert(&mut self, profile: Profile) {
        if let Bucket::One(p) = *self {
            *self = Bucket::Many(vec![p]);
        }
        if let Bucket::Many(list) = self {
            let at = list.partition_point(|p| p.id < profile.id);
            list.insert(at, profile);
        }
    }

    /// Removes the profile with `id`; true when none is left.
    fn remove(&mut self, id: ProfileId) -> bool {
        match self {
            Bucket::One(p) => p.id == id,
            Bucket::Many(list) => {
                list.retain(|p| p.id != id);
                let empty = list.is_empty();
                if let [only] = list.as_slice() {
                    *self = Bucket::One(*only);
                }
                empty
            }
        }
    }
}

impl ClassTable {
    /// An empty class holding up to `limit` profiles.
    pub fn new(class: Class, limit: usize) -> ClassTable {
        ClassTable {
            class,
            exact: HashMap::with_capacity(limit.min(1 << 20)),
            prefix4: HashMap::new(),
            prefix6: HashMap::new(),
            lengths4: Lengths::new(),
            lengths6: Lengths::new(),
            any: Vec::new(),
            slots: HashMap::with_capacity(limit.min(1 << 20)),
            limit,
        }
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// Profiles held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn slot_of(&self, profile: &Profile) -> Slot {
        let keyed = if self.class.keyed_on_source() {
            profile.matches.src
        } else {
            profile.matches.dst
        };
        match keyed {
            AddrMatch::Any => Slot::Any,
            AddrMatch::Exact(a) => Slot::Exact(a),
            AddrMatch::Prefix(p) => match p.addr() {
                IpAddr::V4(a) => Slot::Prefix4(p.prefix_len(), a.to_bits()),
                IpAddr::V6(a) => Slot::Prefix6(p.prefix_len(), a.to_bits()),
            },
        }
    }

    /// Adds a profile or replaces the one with its id.
    pub fn insert(&mut self, profile: Profile) -> Result<(), TableError> {
        if profile.class != self.class || profile.check().is_err() {
            return Err(TableError::Invalid);
        }
        if !self.slots.contains_key(&profile.id) && self.slots.len() >= self.limit {
            return Err(TableError::Full);
        }
        self.remove(profile.id);
        let slot = self.slot_of(&profile);
        let bucket = match slot {
            Slot::Exact(a) => {
                match self.exact.entry(a) {
                    hashbrown::hash_map::Entry::Occupied(mut e) => e.get_mut().insert(profile),
                    hashbrown::hash_map::Entry::Vacant(e) => {
                        e.insert(Bucket::One(profile));
                    }
                }
                self.slots.insert(profile.id, slot);
                return Ok(());
            }
            Slot::Prefix4(len, a) => {
                let b = self.prefix4.entry((len, a)).or_default();
                if b.is_empty() {
                    self.lengths4.add(len);
                }
                b
            }
            Slot::Prefix6(len, a) => {
                let b = self.prefix6.entry((len, a)).or_default();
                if b.is_empty() {
                    self.lengths6.add(len);
                }
                b
            }
            Slot::Any => &mut self.any,
        };
        let at = bucket.partition_point(|p| p.id < profile.id);
        bucket.insert(at, profile);
        self.slots.insert(profile.id, slot);
        Ok(())
    }

    /// Removes the profile with `id`; false when there was none.
    pub fn remove(&mut self, id: ProfileId) -> bool {
        let Some(slot) = self.slots.remove(&id) else {
            return false;
        };
        let take = |bucket: &mut Vec<Profile>| {
            bucket.retain(|p| p.id != id);
            bucket.is_empty()
        };
        match slot {
            Slot::Exact(a) => {
                if self.exact.get_mut(&a).is_some_and(|b| b.remove(id)) {
                    self.exact.remove(&a);
                }
            }
            Slot::Prefix4(len, a) => {
                if self.prefix4.get_mut(&(len, a)).is_some_and(take) {
                    self.prefix4.remove(&(len, a));
                    self.lengths4.remove(len);
                }
            }
            Slot::Prefix6(len, a) => {
                if self.prefix6.get_mut(&(len, a)).is_some_and(take) {
                    self.prefix6.remove(&(len, a));
                    self.lengths6.remove(len);
                }
            }
            Slot::Any => {
                take(&mut self.any);
            }
        }
        true
    }

    /// Reads the exact-address entry a search for a packet from `src` to `dst` would read
    /// in this class, so that the search soon after finds it in cache; returns a byte of it
    /// for the caller to keep alive. Used on a whole RX burst before it is processed, so
    /// that the burst's cache misses overlap instead of stalling one packet at a time.
    #[inline]
    pub fn warm(&self, src: IpAddr, dst: IpAddr) -> u8 {
        if self.exact.is_empty() {
            return 0;
        }
        let addr = if self.class.keyed_on_source() {
            src
        } else {
            dst
        };
        self.exact
            .get(&addr)
            .and_then(|b| b.as_slice().first())
            .map_or(0, |p| p.table as u8)
    }

    /// The first profile of this class matching `key`: the keyed address exactly, then
    /// the longest prefix holding it, then the profiles for any address.
    #[inline]
    pub fn lookup(&self, key: &FlowKey) -> Option<&Profile> {
        if self.slots.is_empty() {
            return None;
        }
        let addr = if self.class.keyed_on_source() {
            key.src
        } else {
            key.dst
        };
        if !self.exact.is_empty() {
            if let Some(p) = self
                .exact
                .get(&addr)
                .and_then(|b| first_match(b.as_slice(), key))
            {
                return Some(p);
            }
        }
        let by_prefix = match addr {
            IpAddr::V4(a) => {
                let bits = a.to_bits();
                self.lengths4.longest_first(|len| {
                    self.prefix4
                        .get(&(len, mask4(bits, len)))
                        .and_then(|b| first_match(b, key))
                })
            }
            IpAddr::V6(a) => {
                let bits = a.to_bits();
                self.lengths6.longest_first(|len| {
                    self.prefix6
                        .get(&(len, mask6(bits, len)))
                        .and_then(|b| first_match(b, key))
                })
            }
        };
        by_prefix.or_else(|| first_match(&self.any, key))
    }

    /// The profile with `id`: where its slot says it is (two hash probes, for the rare
    /// table that needs more of a profile than the search copied out).
    pub fn get(&self, id: ProfileId) -> Option<&Profile> {
        let list: &[Profile] = match *self.slots.get(&id)? {
            Slot::Exact(addr) => self.exact.get(&addr)?.as_slice(),
            Slot::Prefix4(len, bits) => self.prefix4.get(&(len, bits))?,
            Slot::Prefix6(len, bits) => self.prefix6.get(&(len, bits))?,
            Slot::Any => &self.any,
        };
        list.iter().find(|p| p.id == id)
    }

    /// Every profile, for display (not on the packet path).
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.exact
            .values()
            .flat_map(Bucket::as_slice)
            .chain(self.prefix4.values().flatten())
            .chain(self.prefix6.values().flatten())
            .chain(self.any.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Edit, Match, PortRange, TableRef};

    fn profile(number: u32, dst: &str, dport: PortRange) -> Profile {
        Profile {
            id: ProfileId { session: 1, number },
            class: Class::NodeDestination,
            matches: Match {
                dst: dst.parse().unwrap(),
                dport,
                ..Match::ANY
            },
            edit: Edit::NONE,
            table: TableRef::Routes,
        }
    }

    fn hit(t: &ClassTable, dport: u16) -> Option<u32> {
        let key = FlowKey {
            src: "192.0.2.1".parse().unwrap(),
            dst: "10.0.0.1".parse().unwrap(),
            proto: 17,
            sport: Some(1),
            dport: Some(dport),
        };
        t.lookup(&key).map(|p| p.id.number)
    }

    #[test]
    fn an_exact_address_grows_from_one_profile_to_many_and_back() {
        let mut t = ClassTable::new(Class::NodeDestination, 10);
        t.insert(profile(5, "10.0.0.1", PortRange::ANY)).unwrap();
        assert_eq!(hit(&t, 80), Some(5));
        t.insert(profile(2, "10.0.0.1", PortRange::one(53)))
            .unwrap();
        t.insert(profile(9, "10.0.0.1", PortRange::ANY)).unwrap();
        assert_eq!((hit(&t, 53), hit(&t, 80)), (Some(2), Some(5)));
        assert!(t.remove(ProfileId {
            session: 1,
            number: 5
        }));
        assert_eq!((hit(&t, 53), hit(&t, 80)), (Some(2), Some(9)));
        assert!(t.remove(ProfileId {
            session: 1,
            number: 2
        }));
        assert_eq!((hit(&t, 53), t.len()), (Some(9), 1));
        assert!(t.remove(ProfileId {
            session: 1,
            number: 9
        }));
        assert_eq!((hit(&t, 53), t.len()), (None, 0));
        assert!(
            t.exact.is_empty(),
            "the address's entry went with its last profile"
        );
        // Replacing the only profile of an address keeps one entry.
        t.insert(profile(7, "10.0.0.1", PortRange::ANY)).unwrap();
        t.insert(profile(7, "10.0.0.1", PortRange::one(53)))
            .unwrap();
        assert_eq!((hit(&t, 53), hit(&t, 80), t.len()), (Some(7), None, 1));
        assert_eq!(t.profiles().count(), 1);
    }
}
