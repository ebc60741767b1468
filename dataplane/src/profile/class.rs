//! The profiles of one class, indexed by the address the class is keyed on.

use core::net::IpAddr;

use core::num::NonZeroU32;

use hashbrown::HashMap;

use super::{AddrMatch, Class, FlowKey, Profile, ProfileId, Step};
use crate::tables::flat::{hash128, hash32, join128, words128, Codec, FlatMap};
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
    exact: Exact,
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

/// One exact-address entry: the id of its profile and where its body is, or
/// [`MANY`] when the address has several profiles (kept in [`Exact::many`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    id: ProfileId,
    body: NonZeroU32,
}

/// The body of an address with more than one profile.
const MANY: NonZeroU32 = NonZeroU32::MAX;

/// IPv4 address → entry, in 16-byte slots.
struct Exact4;

impl Codec for Exact4 {
    type Key = u32;
    type Value = Entry;
    type Slot = [u32; 4];
    const EMPTY: [u32; 4] = [0; 4];
    #[inline(always)]
    fn hash(key: u32, seed: u64) -> u64 {
        hash32(key, seed)
    }
    #[inline(always)]
    fn encode(key: u32, e: Entry) -> [u32; 4] {
        [key, e.id.session, e.id.number, e.body.get()]
    }
    #[inline(always)]
    fn decode(s: &[u32; 4]) -> (u32, Entry) {
        let id = ProfileId {
            session: s[1],
            number: s[2],
        };
        let body = NonZeroU32::new(s[3]).unwrap_or(MANY);
        (s[0], Entry { id, body })
    }
    #[inline(always)]
    fn key(s: &[u32; 4]) -> u32 {
        s[0]
    }
}

/// IPv6 address → entry, in 32-byte slots.
struct Exact6;

impl Codec for Exact6 {
    type Key = u128;
    type Value = Entry;
    type Slot = [u32; 8];
    const EMPTY: [u32; 8] = [0; 8];
    #[inline(always)]
    fn hash(key: u128, seed: u64) -> u64 {
        hash128(key, seed)
    }
    #[inline(always)]
    fn encode(key: u128, e: Entry) -> [u32; 8] {
        let [a, b, c, d] = words128(key);
        [a, b, c, d, e.id.session, e.id.number, e.body.get(), 0]
    }
    #[inline(always)]
    fn decode(s: &[u32; 8]) -> (u128, Entry) {
        let id = ProfileId {
            session: s[4],
            number: s[5],
        };
        let body = NonZeroU32::new(s[6]).unwrap_or(MANY);
        (Self::key(s), Entry { id, body })
    }
    #[inline(always)]
    fn key(s: &[u32; 8]) -> u128 {
        join128([s[0], s[1], s[2], s[3]])
    }
}

/// Profile bodies (a profile without its id and keyed address), each stored once and
/// shared by every exact address whose profile has it: a home agent's per-mobile
/// profiles differ only in id and home address, so a million of them share one body
/// that stays in cache.
#[derive(Debug)]
struct Bodies {
    list: Vec<(Profile, u32)>,
    index: HashMap<Profile, u32>,
    free: Vec<u32>,
}

/// Bodies reserved up front; more are unusual (profiles that differ in more than their
/// address) and grow the list on the update path only.
const BODIES_RESERVED: usize = 1024;

impl Bodies {
    fn new(limit: usize) -> Bodies {
        let n = limit.min(BODIES_RESERVED);
        Bodies {
            list: Vec::with_capacity(n),
            index: HashMap::with_capacity(n),
            free: Vec::new(),
        }
    }

    /// The index + 1 of `body`, stored now if new; one more user.
    fn intern(&mut self, body: Profile) -> NonZeroU32 {
        let at = match self.index.get(&body) {
            Some(&at) => {
                if let Some((_, users)) = self.list.get_mut(at as usize) {
                    *users += 1;
                }
                at
            }
            None => {
                let at = match self.free.pop() {
                    Some(at) => {
                        if let Some(slot) = self.list.get_mut(at as usize) {
                            *slot = (body, 1);
                        }
                        at
                    }
                    None => {
                        self.list.push((body, 1));
                        (self.list.len() - 1) as u32
                    }
                };
                self.index.insert(body, at);
                at
            }
        };
        // At most one body per profile: far below u32::MAX - 1.
        NonZeroU32::new(at.saturating_add(1)).unwrap_or(MANY)
    }

    /// One user fewer of the body at index + 1 `body`; dropped with its last.
    fn release(&mut self, body: NonZeroU32) {
        let at = body.get() - 1;
        if let Some((b, users)) = self.list.get_mut(at as usize) {
            *users -= 1;
            if *users == 0 {
                self.index.remove(b);
                self.free.push(at);
            }
        }
    }

    #[inline(always)]
    fn get(&self, body: NonZeroU32) -> Option<&Profile> {
        self.list.get(body.get() as usize - 1).map(|(b, _)| b)
    }
}

/// The exact-address index of one class: address → (profile id, shared body) in flat hash
/// tables a burst's read-ahead can prefetch ([`ClassTable::prefetch`]), and the rare
/// address with several profiles in a list of its own.
#[derive(Debug)]
struct Exact {
    on_source: bool,
    v4: FlatMap<Exact4>,
    v6: FlatMap<Exact6>,
    /// Addresses with more than one profile, in id order.
    many: HashMap<IpAddr, Vec<Profile>>,
    bodies: Bodies,
}

impl Exact {
    fn new(on_source: bool, limit: usize) -> Exact {
        Exact {
            on_source,
            v4: FlatMap::with_limit(limit),
            v6: FlatMap::with_limit(limit),
            many: HashMap::new(),
            bodies: Bodies::new(limit),
        }
    }

    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    #[inline(always)]
    fn entry(&self, addr: IpAddr) -> Option<Entry> {
        match addr {
            IpAddr::V4(a) => self.v4.get(a.to_bits()),
            IpAddr::V6(a) => self.v6.get(a.to_bits()),
        }
    }

    fn set(&mut self, addr: IpAddr, entry: Entry) {
        // The class's profile limit bounds the entries, and each table takes that many.
        let _ = match addr {
            IpAddr::V4(a) => self.v4.insert(a.to_bits(), entry),
            IpAddr::V6(a) => self.v6.insert(a.to_bits(), entry),
        };
    }

    fn unset(&mut self, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => self.v4.remove(a.to_bits()).map(|_| ()),
            IpAddr::V6(a) => self.v6.remove(a.to_bits()).map(|_| ()),
        };
    }

    #[inline(always)]
    fn prefetch(&self, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => self.v4.prefetch(a.to_bits()),
            IpAddr::V6(a) => self.v6.prefetch(a.to_bits()),
        }
    }

    /// The first profile, in id order, keyed on `addr`: the one a search takes for a
    /// packet it matches, before any other of the address.
    fn first(&self, addr: IpAddr) -> Option<Profile> {
        let e = self.entry(addr)?;
        if e.body == MANY {
            return self.many.get(&addr)?.first().copied();
        }
        self.dress(addr, e)
    }

    /// The profile without its id and keyed address.
    fn strip(&self, mut profile: Profile) -> Profile {
        profile.id = ProfileId {
            session: 0,
            number: 0,
        };
        if self.on_source {
            profile.matches.src = AddrMatch::Any;
        } else {
            profile.matches.dst = AddrMatch::Any;
        }
        profile
    }

    /// The whole profile of a single entry.
    #[inline(always)]
    fn dress(&self, addr: IpAddr, entry: Entry) -> Option<Profile> {
        let mut p = *self.bodies.get(entry.body)?;
        p.id = entry.id;
        if self.on_source {
            p.matches.src = AddrMatch::Exact(addr);
        } else {
            p.matches.dst = AddrMatch::Exact(addr);
        }
        Some(p)
    }

    /// Adds a profile keyed on `addr` (the caller removed any with its id).
    fn insert(&mut self, addr: IpAddr, profile: Profile) {
        match self.entry(addr) {
            None => {
                let body = self.bodies.intern(self.strip(profile));
                self.set(
                    addr,
                    Entry {
                        id: profile.id,
                        body,
                    },
                );
            }
            Some(e) if e.body == MANY => {
                if let Some(list) = self.many.get_mut(&addr) {
                    let at = list.partition_point(|p| p.id < profile.id);
                    list.insert(at, profile);
                }
            }
            Some(e) => {
                let Some(only) = self.dress(addr, e) else {
                    return;
                };
                self.bodies.release(e.body);
                let list = if only.id < profile.id {
                    vec![only, profile]
                } else {
                    vec![profile, only]
                };
                self.many.insert(addr, list);
                self.set(
                    addr,
                    Entry {
                        id: e.id,
                        body: MANY,
                    },
                );
            }
        }
    }

    /// Removes the profile `id` keyed on `addr`.
    fn remove(&mut self, addr: IpAddr, id: ProfileId) {
        match self.entry(addr) {
            Some(e) if e.body == MANY => {
                let Some(list) = self.many.get_mut(&addr) else {
                    return;
                };
                list.retain(|p| p.id != id);
                match list.as_slice() {
                    [] => {
                        self.many.remove(&addr);
                        self.unset(addr);
                    }
                    [only] => {
                        let only = *only;
                        self.many.remove(&addr);
                        let body = self.bodies.intern(self.strip(only));
                        self.set(addr, Entry { id: only.id, body });
                    }
                    _ => {}
                }
            }
            Some(e) if e.id == id => {
                self.bodies.release(e.body);
                self.unset(addr);
            }
            _ => {}
        }
    }

    /// The first profile of `addr` matching `key`, in id order, handed to `take`: a
    /// profile of the address's list whole, or a single entry's shared body (its id and
    /// keyed address left out, so nothing is copied to put them in) with the id and
    /// address beside it.
    #[inline(always)]
    fn find<R>(
        &self,
        addr: IpAddr,
        key: &FlowKey,
        take: impl FnOnce(&Profile, Option<(ProfileId, IpAddr)>) -> R,
    ) -> Option<R> {
        let e = self.entry(addr)?;
        if e.body == MANY {
            return self
                .many
                .get(&addr)
                .and_then(|list| first_match(list, key))
                .map(|p| take(p, None));
        }
        // The body matches any keyed address; the entry's own is `addr`, which the key
        // has: the whole profile matches exactly when its body does.
        let body = self.bodies.get(e.body)?;
        body.matches
            .matches(key)
            .then(|| take(body, Some((e.id, addr))))
    }

    /// The whole profile of what [`Self::find`] hands over.
    #[inline(always)]
    fn whole(&self, p: &Profile, entry: Option<(ProfileId, IpAddr)>) -> Profile {
        let mut p = *p;
        if let Some((id, addr)) = entry {
            p.id = id;
            if self.on_source {
                p.matches.src = AddrMatch::Exact(addr);
            } else {
                p.matches.dst = AddrMatch::Exact(addr);
            }
        }
        p
    }

    /// The [`Step`] of what [`Self::find`] hands over, without the whole profile.
    #[inline(always)]
    fn step(&self, p: &Profile, entry: Option<(ProfileId, IpAddr)>) -> Step {
        let mut step = Step::of(p);
        if let Some((id, addr)) = entry {
            step.id = id;
            if !self.on_source {
                step.ends = AddrMatch::Exact(addr);
            }
        }
        step
    }

    /// The profile `id` keyed on `addr`.
    fn get(&self, addr: IpAddr, id: ProfileId) -> Option<Profile> {
        let e = self.entry(addr)?;
        if e.body == MANY {
            return self.many.get(&addr)?.iter().find(|p| p.id == id).copied();
        }
        self.dress(addr, e).filter(|p| p.id == id)
    }

    /// Every profile (not on the packet path).
    fn profiles(&self) -> impl Iterator<Item = Profile> + '_ {
        let v4 = self
            .v4
            .iter()
            .map(|(a, e)| (IpAddr::V4(core::net::Ipv4Addr::from_bits(a)), e));
        let v6 = self
            .v6
            .iter()
            .map(|(a, e)| (IpAddr::V6(core::net::Ipv6Addr::from_bits(a)), e));
        v4.chain(v6)
            .filter(|(_, e)| e.body != MANY)
            .filter_map(|(a, e)| self.dress(a, e))
            .chain(self.many.values().flatten().copied())
    }
}

impl ClassTable {
    /// An empty class holding up to `limit` profiles.
    pub fn new(class: Class, limit: usize) -> ClassTable {
        ClassTable {
            class,
            exact: Exact::new(class.keyed_on_source(), limit),
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
                self.exact.insert(a, profile);
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
            Slot::Exact(a) => self.exact.remove(a, id),
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

    /// Starts loading the exact-address slot a search for a packet from `src` to `dst`
    /// would read in this class: its place follows from the address's hash alone, so
    /// there is no dependent load. Used on a whole RX burst before it is processed, so
    /// that the burst's cache misses overlap instead of stalling one packet at a time.
    #[inline]
    pub fn prefetch(&self, src: IpAddr, dst: IpAddr) {
        if self.exact.is_empty() {
            return;
        }
        self.exact.prefetch(if self.class.keyed_on_source() {
            src
        } else {
            dst
        });
    }

    /// The first profile of this class matching `key`: the keyed address exactly, then
    /// the longest prefix holding it, then the profiles for any address.
    #[inline]
    pub fn lookup(&self, key: &FlowKey) -> Option<Profile> {
        self.find(key, |p, entry| self.exact.whole(p, entry))
    }

    /// The [`Step`] of [`Self::lookup`]'s profile, copying out only that.
    #[inline]
    pub fn lookup_step(&self, key: &FlowKey) -> Option<Step> {
        self.find(key, |p, entry| self.exact.step(p, entry))
    }

    /// [`Self::lookup`], handing the profile found to `take` (see [`Exact::find`]).
    #[inline(always)]
    fn find<R>(
        &self,
        key: &FlowKey,
        take: impl Fn(&Profile, Option<(ProfileId, IpAddr)>) -> R,
    ) -> Option<R> {
        if self.slots.is_empty() {
            return None;
        }
        let addr = if self.class.keyed_on_source() {
            key.src()
        } else {
            key.dst()
        };
        if !self.exact.is_empty() {
            if let Some(r) = self.exact.find(addr, key, &take) {
                return Some(r);
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
        by_prefix
            .or_else(|| first_match(&self.any, key))
            .map(|p| take(p, None))
    }

    /// The first profile, in id order, of those keyed on exactly `addr` (see
    /// [`crate::tables::direct`]): when it matches a packet, the class answers it.
    pub fn exact_first(&self, addr: IpAddr) -> Option<Profile> {
        self.exact.first(addr)
    }

    /// The profile with `id`: where its slot says it is (two hash probes, for the rare
    /// table that needs more of a profile than the search copied out).
    pub fn get(&self, id: ProfileId) -> Option<Profile> {
        let list: &[Profile] = match *self.slots.get(&id)? {
            Slot::Exact(addr) => return self.exact.get(addr, id),
            Slot::Prefix4(len, bits) => self.prefix4.get(&(len, bits))?,
            Slot::Prefix6(len, bits) => self.prefix6.get(&(len, bits))?,
            Slot::Any => &self.any,
        };
        list.iter().find(|p| p.id == id).copied()
    }

    /// Every profile, for display (not on the packet path).
    pub fn profiles(&self) -> impl Iterator<Item = Profile> + '_ {
        self.exact
            .profiles()
            .chain(self.prefix4.values().flatten().copied())
            .chain(self.prefix6.values().flatten().copied())
            .chain(self.any.iter().copied())
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
        let key = FlowKey::new(
            "192.0.2.1".parse().unwrap(),
            "10.0.0.1".parse().unwrap(),
            17,
            Some(1),
            Some(dport),
        );
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
