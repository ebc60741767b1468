//! The work table's order: group the restored bindings by care-of prefix, shuffle each
//! group, then take one from each group in turn, so that consecutive verification
//! requests go to different access networks and none takes a burst.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::config::PrefixLengths;

/// The access network of a care-of address: the address masked to the configured
/// prefix length of its family.
pub fn care_of_prefix(care_of: IpAddr, lengths: PrefixLengths) -> IpAddr {
    match care_of {
        IpAddr::V4(a) => {
            let len = u32::from(lengths.v4.min(32));
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let len = u32::from(lengths.v6.min(128));
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

/// The order to verify bindings in, as indices into `care_of` (each binding's first
/// care-of address; None when it has none, which makes a group of its own): groups by
/// care-of prefix in address order, each shuffled with `seed`, interleaved round robin.
pub fn work_order(care_of: &[Option<IpAddr>], lengths: PrefixLengths, seed: u64) -> Vec<usize> {
    let mut groups: BTreeMap<Option<IpAddr>, Vec<usize>> = BTreeMap::new();
    for (i, c) in care_of.iter().enumerate() {
        let key = c.map(|c| care_of_prefix(c, lengths));
        groups.entry(key).or_default().push(i);
    }
    let mut rng = SplitMix64(seed);
    let mut groups: Vec<std::vec::IntoIter<usize>> = groups
        .into_values()
        .map(|mut g| {
            rng.shuffle(&mut g);
            g.into_iter()
        })
        .collect();
    let mut order = Vec::with_capacity(care_of.len());
    while !groups.is_empty() {
        groups.retain_mut(|g| match g.next() {
            Some(i) => {
                order.push(i);
                true
            }
            None => false,
        });
    }
    order
}

/// SplitMix64 (Steele, Lea, Flood 2014): enough to spread requests, no cryptography
/// wanted, and no dependency for it.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            // The modulo bias is at most 2^-40 for groups below 2^24 entries.
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
