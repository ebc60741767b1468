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
    exact: HashMap<IpAddr, Vec<Profile>>,
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
            Slot::Exact(a) => self.exact.entry(a).or_default(),
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
                if self.exact.get_mut(&a).is_some_and(take) {
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
            if let Some(p) = self.exact.get(&addr).and_then(|b| first_match(b, key)) {
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

    /// Every profile, for display (not on the packet path).
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.exact
            .values()
            .chain(self.prefix4.values())
            .chain(self.prefix6.values())
            .flatten()
            .chain(self.any.iter())
    }
}
