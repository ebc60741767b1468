//! A flat open-addressing hash table for the hot exact-address maps (the exact index of
//! each profile class, the bindings), built so that a burst's lookups can be read ahead.
//!
//! A key's home slot is computed from its hash alone, so [`FlatMap::prefetch`] issues a
//! real prefetch with no dependent load (a hashbrown lookup reads a control group, then
//! the bucket it points to). Slots are small arrays of `u32` (16 or 32 bytes, so a slot
//! never straddles a cache line of the page-aligned table) holding the key and a small
//! value; linear probing with backward-shift deletion keeps probe runs short without
//! tombstones, and the table is never more than two-thirds full, so nearly every lookup
//! reads its home slot and nothing else.
//!
//! The room is reserved when the table is built (the slots start all-zero, so the
//! allocator maps them lazily) and an insert of a new key at the limit is refused: a
//! worker never grows or rehashes a table.

use core::hash::{BuildHasher, Hasher};
use core::marker::PhantomData;

use super::TableError;

/// How one table lays out its keys and values in a slot: an array of `u32` that is all
/// zero when the slot is empty (so the table can be allocated zeroed).
pub(crate) trait Codec {
    /// The key.
    type Key: Copy + Eq;
    /// The value.
    type Value: Copy;
    /// The slot: `[u32; N]`.
    type Slot: Copy + Eq;
    /// The empty (all-zero) slot.
    const EMPTY: Self::Slot;
    /// The key's hash under `seed`.
    fn hash(key: Self::Key, seed: u64) -> u64;
    /// The slot holding `key` and `value`; never [`Self::EMPTY`].
    fn encode(key: Self::Key, value: Self::Value) -> Self::Slot;
    /// The key and value of a full slot.
    fn decode(slot: &Self::Slot) -> (Self::Key, Self::Value);
    /// The key, read without the value (the probe compares keys only).
    fn key(slot: &Self::Slot) -> Self::Key;
}

/// The murmur3 finaliser: every input bit reaches every output bit, so the low bits a
/// slot index takes are as good as the high ones.
#[inline(always)]
pub(crate) fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The hash of an IPv4 address.
#[inline(always)]
pub(crate) fn hash32(key: u32, seed: u64) -> u64 {
    mix(u64::from(key) ^ seed)
}

/// The hash of an IPv6 address.
#[inline(always)]
pub(crate) fn hash128(key: u128, seed: u64) -> u64 {
    mix((key as u64) ^ mix((key >> 64) as u64 ^ seed))
}

/// Splits an IPv6 address into four words.
#[inline(always)]
pub(crate) fn words128(key: u128) -> [u32; 4] {
    [
        key as u32,
        (key >> 32) as u32,
        (key >> 64) as u32,
        (key >> 96) as u32,
    ]
}

/// Joins four words into an IPv6 address.
#[inline(always)]
pub(crate) fn join128(w: [u32; 4]) -> u128 {
    u128::from(w[0]) | u128::from(w[1]) << 32 | u128::from(w[2]) << 64 | u128::from(w[3]) << 96
}

/// A bounded open-addressing hash map laid out by a [`Codec`].
pub(crate) struct FlatMap<C: Codec> {
    slots: Vec<C::Slot>,
    mask: usize,
    len: usize,
    limit: usize,
    seed: u64,
    codec: PhantomData<C>,
}

impl<C: Codec> core::fmt::Debug for FlatMap<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FlatMap")
            .field("len", &self.len)
            .field("limit", &self.limit)
            .field("slots", &self.slots.len())
            .finish()
    }
}

impl<C: Codec> FlatMap<C> {
    /// An empty map for up to `limit` keys, its slots reserved now (at least half of them
    /// stay empty, which bounds every probe).
    pub(crate) fn with_limit(limit: usize) -> Self {
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self::with_seed(limit, seed)
    }

    /// As [`Self::with_limit`] with a chosen hash seed (tests).
    pub(crate) fn with_seed(limit: usize, seed: u64) -> Self {
        let n = limit
            .saturating_add(limit / 2)
            .saturating_add(1)
            .next_power_of_two()
            .max(8);
        FlatMap {
            slots: vec![C::EMPTY; n],
            mask: n - 1,
            len: 0,
            limit,
            seed,
            codec: PhantomData,
        }
    }

    #[inline(always)]
    fn home(&self, key: C::Key) -> usize {
        C::hash(key, self.seed) as usize & self.mask
    }

    /// The index of `key`'s slot, or of the empty slot that ends its probe.
    #[inline(always)]
    fn find(&self, key: C::Key) -> (usize, bool) {
        let mut i = self.home(key);
        // At most `limit` < the slot count slots are full, so an empty one ends the loop;
        // the bound only guards against a broken invariant.
        for _ in 0..=self.mask {
            match self.slots.get(i) {
                Some(s) if *s == C::EMPTY => return (i, false),
                Some(s) if C::key(s) == key => return (i, true),
                Some(_) => i = (i + 1) & self.mask,
                None => break,
            }
        }
        (i, false)
    }

    /// The value of `key`.
    #[inline(always)]
    pub(crate) fn get(&self, key: C::Key) -> Option<C::Value> {
        if self.len == 0 {
            return None;
        }
        match self.find(key) {
            (i, true) => self.slots.get(i).map(|s| C::decode(s).1),
            _ => None,
        }
    }

    /// Starts loading `key`'s home slot into the cache: where a lookup of `key` will
    /// almost always find it (or find it missing).
    #[inline(always)]
    pub(crate) fn prefetch(&self, key: C::Key) {
        if let Some(slot) = self.slots.get(self.home(key)) {
            mipdp_dpdk::prefetch(slot);
        }
    }

    /// Inserts or replaces; returns the value replaced.
    pub(crate) fn insert(
        &mut self,
        key: C::Key,
        value: C::Value,
    ) -> Result<Option<C::Value>, TableError> {
        let (i, found) = self.find(key);
        if !found && self.len >= self.limit {
            return Err(TableError::Full);
        }
        let Some(slot) = self.slots.get_mut(i) else {
            return Err(TableError::Full);
        };
        let old = found.then(|| C::decode(slot).1);
        *slot = C::encode(key, value);
        if !found {
            self.len += 1;
        }
        Ok(old)
    }

    /// Removes `key`; returns its value. The slots after it that probed past it move back
    /// (backward-shift deletion), so no tombstone is left.
    pub(crate) fn remove(&mut self, key: C::Key) -> Option<C::Value> {
        let (mut hole, found) = self.find(key);
        if !found {
            return None;
        }
        let value = self.slots.get(hole).map(|s| C::decode(s).1);
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let Some(&s) = self.slots.get(j) else { break };
            if s == C::EMPTY {
                break;
            }
            let home = self.home(C::key(&s));
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                if let Some(h) = self.slots.get_mut(hole) {
                    *h = s;
                }
                hole = j;
            }
        }
        if let Some(h) = self.slots.get_mut(hole) {
            *h = C::EMPTY;
        }
        self.len -= 1;
        value
    }

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most keys the map holds.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Every key and value (not on the packet path: it reads every slot).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (C::Key, C::Value)> + '_ {
        self.slots.iter().filter(|s| **s != C::EMPTY).map(C::decode)
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        self.slots.fill(C::EMPTY);
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    /// u32 → nonzero u32, with a hash so poor (the key's low 3 bits) that keys collide
    /// and probes wrap around the end of the table.
    struct Poor;

    impl Codec for Poor {
        type Key = u32;
        type Value = u32;
        type Slot = [u32; 2];
        const EMPTY: [u32; 2] = [0; 2];
        fn hash(key: u32, seed: u64) -> u64 {
            let _ = seed;
            u64::from(key & 7)
        }
        fn encode(key: u32, value: u32) -> [u32; 2] {
            [key, value | 1]
        }
        fn decode(slot: &[u32; 2]) -> (u32, u32) {
            (slot[0], slot[1])
        }
        fn key(slot: &[u32; 2]) -> u32 {
            slot[0]
        }
    }

    /// The same with a good hash.
    struct Good;

    impl Codec for Good {
        type Key = u32;
        type Value = u32;
        type Slot = [u32; 2];
        const EMPTY: [u32; 2] = [0; 2];
        fn hash(key: u32, seed: u64) -> u64 {
            hash32(key, seed)
        }
        fn encode(key: u32, value: u32) -> [u32; 2] {
            [key, value | 1]
        }
        fn decode(slot: &[u32; 2]) -> (u32, u32) {
            (slot[0], slot[1])
        }
        fn key(slot: &[u32; 2]) -> u32 {
            slot[0]
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32, u32),
        Remove(u32),
        Get(u32),
    }

    fn ops(keys: u32) -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![
                (0..keys, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v | 1)),
                (0..keys).prop_map(Op::Remove),
                (0..keys).prop_map(Op::Get),
            ],
            0..400,
        )
    }

    fn run<C: Codec<Key = u32, Value = u32>>(
        limit: usize,
        ops: &[Op],
    ) -> Result<(), TestCaseError> {
        let mut m = FlatMap::<C>::with_seed(limit, 0x5eed);
        let mut model: HashMap<u32, u32> = HashMap::new();
        for op in ops {
            match *op {
                Op::Insert(k, v) => {
                    let want = if model.contains_key(&k) || model.len() < limit {
                        Ok(model.insert(k, v))
                    } else {
                        Err(TableError::Full)
                    };
                    prop_assert_eq!(m.insert(k, v), want);
                }
                Op::Remove(k) => prop_assert_eq!(m.remove(k), model.remove(&k)),
                Op::Get(k) => prop_assert_eq!(m.get(k), model.get(&k).copied()),
            }
            prop_assert_eq!(m.len(), model.len());
        }
        for (k, v) in &model {
            prop_assert_eq!(m.get(*k), Some(*v));
        }
        let mut all: Vec<(u32, u32)> = m.iter().collect();
        all.sort_unstable();
        let mut want: Vec<(u32, u32)> = model.into_iter().collect();
        want.sort_unstable();
        prop_assert_eq!(all, want);
        Ok(())
    }

    proptest! {
        #[test]
        fn colliding_keys_behave_like_a_hash_map(limit in 1usize..12, ops in ops(40)) {
            run::<Poor>(limit, &ops)?;
        }

        #[test]
        fn a_full_small_table_behaves_like_a_hash_map(limit in 1usize..6, ops in ops(12)) {
            run::<Poor>(limit, &ops)?;
            run::<Good>(limit, &ops)?;
        }

        #[test]
        fn spread_keys_behave_like_a_hash_map(ops in ops(1000)) {
            run::<Good>(300, &ops)?;
        }
    }

    #[test]
    fn probes_wrap_around_the_end_of_the_table() {
        // Eight slots; every key's home is its low 3 bits: 7, 15, 23 all start at slot 7.
        let mut m = FlatMap::<Poor>::with_seed(5, 0);
        assert_eq!(m.slots.len(), 8);
        for k in [7, 15, 23, 0] {
            m.insert(k, k | 1).unwrap();
        }
        assert_eq!(m.remove(7), Some(7));
        for k in [15, 23, 0] {
            assert_eq!(m.get(k), Some(k | 1));
        }
        assert_eq!(m.remove(15), Some(15));
        assert_eq!(
            (m.get(23), m.get(0), m.get(7), m.len()),
            (Some(23), Some(1), None, 2)
        );
    }

    #[test]
    fn the_slots_are_reserved_up_front() {
        let mut m = FlatMap::<Good>::with_limit(10_000);
        let before = m.slots.capacity();
        for k in 0..10_000 {
            m.insert(k, 1).unwrap();
        }
        assert_eq!(m.insert(10_000, 1), Err(TableError::Full));
        assert_eq!(m.slots.capacity(), before);
        assert!(m.slots.len() >= 15_000);
    }
}
