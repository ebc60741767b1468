//! Mobility bindings: a home address → where its packets are tunnelled (one or more care-of
//! addresses, a method, the tunnel source, an optional TOS). A home agent intercepts
//! packets for the home address and tunnels a copy to each care-of address (simultaneous
//! bindings, RFC 5944 §3.6.1.2: the S bit).

use core::net::IpAddr;

use core::num::NonZeroU32;

use super::flat::{hash128, hash32, join128, words128, Codec, FlatMap};
use super::{Encap, TableError};

/// The most care-of addresses one home address can have at once (simultaneous bindings).
pub const MAX_CARE_OF: usize = 4;

/// Up to [`MAX_CARE_OF`] care-of addresses, stored inline so a lookup touches one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareOfList {
    addrs: [IpAddr; MAX_CARE_OF],
    len: u8,
}

impl CareOfList {
    /// A list holding one care-of address.
    pub fn one(addr: IpAddr) -> CareOfList {
        CareOfList {
            addrs: [addr; MAX_CARE_OF],
            len: 1,
        }
    }

    /// A list of the given addresses; None when there are none or more than
    /// [`MAX_CARE_OF`], or when one repeats.
    pub fn from_slice(addrs: &[IpAddr]) -> Option<CareOfList> {
        let first = *addrs.first()?;
        if addrs.len() > MAX_CARE_OF {
            return None;
        }
        let mut list = CareOfList::one(first);
        for a in addrs.iter().skip(1) {
            if !list.push(*a) {
                return None;
            }
        }
        Some(list)
    }

    /// Adds an address; false when it is already there or the list is full.
    pub fn push(&mut self, addr: IpAddr) -> bool {
        if self.as_slice().contains(&addr) || usize::from(self.len) >= MAX_CARE_OF {
            return false;
        }
        if let Some(slot) = self.addrs.get_mut(usize::from(self.len)) {
            *slot = addr;
            self.len += 1;
            return true;
        }
        false
    }

    /// Removes an address; false when it was not there. The list may become empty.
    pub fn remove(&mut self, addr: IpAddr) -> bool {
        let len = usize::from(self.len);
        let Some(i) = self.as_slice().iter().position(|a| *a == addr) else {
            return false;
        };
        self.addrs.copy_within(i + 1..len, i);
        self.len -= 1;
        true
    }

    /// The addresses, in the order they were added.
    #[inline]
    pub fn as_slice(&self) -> &[IpAddr] {
        self.addrs.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// How many addresses there are.
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Where the packets for one home address go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The care-of addresses; each gets a copy.
    pub care_of: CareOfList,
    /// The encapsulation method.
    pub encap: Encap,
    /// The outer source: this node's address, or the primary home agent's address when
    /// this node forwards as a secondary home agent.
    pub source: IpAddr,
    /// TOS / traffic class to write into the inner and outer headers, if any.
    pub tos: Option<u8>,
}

impl Binding {
    /// Whether the method, source and care-of addresses fit together: every care-of
    /// address of the source's family, and the method able to reach it.
    pub fn is_valid(&self) -> bool {
        !self.care_of.is_empty()
            && self.care_of.as_slice().iter().all(|c| {
                c.is_ipv4() == self.source.is_ipv4()
                    && !c.is_unspecified()
                    && !c.is_multicast()
                    && (self.encap.supports(false, *c) || self.encap.supports(true, *c))
            })
    }
}

/// IPv4 home address → index + 1 of its binding in the store.
struct Home4;

impl Codec for Home4 {
    type Key = u32;
    type Value = NonZeroU32;
    type Slot = [u32; 2];
    const EMPTY: [u32; 2] = [0; 2];
    #[inline(always)]
    fn hash(key: u32, seed: u64) -> u64 {
        hash32(key, seed)
    }
    #[inline(always)]
    fn encode(key: u32, value: NonZeroU32) -> [u32; 2] {
        [key, value.get()]
    }
    #[inline(always)]
    fn decode(slot: &[u32; 2]) -> (u32, NonZeroU32) {
        (slot[0], NonZeroU32::new(slot[1]).unwrap_or(NonZeroU32::MAX))
    }
    #[inline(always)]
    fn key(slot: &[u32; 2]) -> u32 {
        slot[0]
    }
}

/// IPv6 home address → index + 1 of its binding in the store (32-byte slots, so none
/// straddles a cache line).
struct Home6;

impl Codec for Home6 {
    type Key = u128;
    type Value = NonZeroU32;
    type Slot = [u32; 8];
    const EMPTY: [u32; 8] = [0; 8];
    #[inline(always)]
    fn hash(key: u128, seed: u64) -> u64 {
        hash128(key, seed)
    }
    #[inline(always)]
    fn encode(key: u128, value: NonZeroU32) -> [u32; 8] {
        let [a, b, c, d] = words128(key);
        [a, b, c, d, value.get(), 0, 0, 0]
    }
    #[inline(always)]
    fn decode(slot: &[u32; 8]) -> (u128, NonZeroU32) {
        (
            Self::key(slot),
            NonZeroU32::new(slot[4]).unwrap_or(NonZeroU32::MAX),
        )
    }
    #[inline(always)]
    fn key(slot: &[u32; 8]) -> u128 {
        join128([slot[0], slot[1], slot[2], slot[3]])
    }
}

/// Home address → binding. The hash tables hold only the home address and where its
/// binding sits in a store beside them: small slots a burst's read-ahead finds from the
/// address's hash alone ([`BindingTable::prefetch`]), then the binding itself
/// ([`BindingTable::prefetch_binding`]). IPv4 and IPv6 home addresses are kept apart so
/// a lookup hashes a plain address.
#[derive(Debug)]
pub struct BindingTable {
    v4: FlatMap<Home4>,
    v6: FlatMap<Home6>,
    /// The bindings; a free slot is reused before the store grows, and its room for both
    /// families is reserved up front.
    store: Vec<Binding>,
    free: Vec<u32>,
}

impl BindingTable {
    /// An empty table for up to `limit` bindings of each family.
    pub fn with_limit(limit: usize) -> BindingTable {
        let room = limit.saturating_mul(2).min(u32::MAX as usize - 1);
        BindingTable {
            v4: FlatMap::with_limit(limit),
            v6: FlatMap::with_limit(limit),
            store: Vec::with_capacity(room),
            free: Vec::with_capacity(room),
        }
    }

    #[inline(always)]
    fn index(&self, home: IpAddr) -> Option<NonZeroU32> {
        match home {
            IpAddr::V4(a) => self.v4.get(a.to_bits()),
            IpAddr::V6(a) => self.v6.get(a.to_bits()),
        }
    }

    /// The binding of a home address.
    #[inline]
    pub fn get(&self, home: IpAddr) -> Option<&Binding> {
        let at = self.index(home)?;
        self.store.get(at.get() as usize - 1)
    }

    /// Starts loading the hash slot of `home` into the cache (no dependent load), for a
    /// burst's read-ahead.
    #[inline]
    pub fn prefetch(&self, home: IpAddr) {
        match home {
            IpAddr::V4(a) => self.v4.prefetch(a.to_bits()),
            IpAddr::V6(a) => self.v6.prefetch(a.to_bits()),
        }
    }

    /// Reads the hash slot of `home` (loaded by [`Self::prefetch`] a little earlier) and
    /// starts loading its binding.
    #[inline]
    pub fn prefetch_binding(&self, home: IpAddr) {
        if let Some(b) = self
            .index(home)
            .and_then(|at| self.store.get(at.get() as usize - 1))
        {
            mipdp_dpdk::prefetch_all(b);
        }
    }

    /// Installs or replaces the binding of `home`.
    pub fn insert(&mut self, home: IpAddr, binding: Binding) -> Result<(), TableError> {
        if !binding.is_valid() {
            return Err(TableError::Invalid);
        }
        if let Some(old) = self
            .index(home)
            .and_then(|at| self.store.get_mut(at.get() as usize - 1))
        {
            *old = binding;
            return Ok(());
        }
        let full = match home {
            IpAddr::V4(_) => self.v4.len() >= self.v4.limit(),
            IpAddr::V6(_) => self.v6.len() >= self.v6.limit(),
        };
        if full {
            return Err(TableError::Full);
        }
        let at = match self.free.pop() {
            Some(i) => {
                if let Some(slot) = self.store.get_mut(i as usize) {
                    *slot = binding;
                }
                i
            }
            None => {
                self.store.push(binding);
                (self.store.len() - 1) as u32
            }
        };
        let value = NonZeroU32::new(at + 1).ok_or(TableError::Full)?;
        match home {
            IpAddr::V4(a) => self.v4.insert(a.to_bits(), value),
            IpAddr::V6(a) => self.v6.insert(a.to_bits(), value),
        }
        .map(|_| ())
    }

    /// Removes the binding of `home`; false when there was none.
    pub fn remove(&mut self, home: IpAddr) -> bool {
        let at = match home {
            IpAddr::V4(a) => self.v4.remove(a.to_bits()),
            IpAddr::V6(a) => self.v6.remove(a.to_bits()),
        };
        match at {
            Some(at) => {
                self.free.push(at.get() - 1);
                true
            }
            None => false,
        }
    }

    /// Bindings held, both families.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The per-family limit.
    pub fn limit(&self) -> usize {
        self.v4.limit()
    }

    /// Drops every binding.
    pub fn clear(&mut self) {
        self.v4.clear();
        self.v6.clear();
        self.store.clear();
        self.free.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn binding(coa: &[&str], encap: Encap, source: &str) -> Binding {
        let coas: Vec<IpAddr> = coa.iter().map(|s| ip(s)).collect();
        Binding {
            care_of: CareOfList::from_slice(&coas).unwrap(),
            encap,
            source: ip(source),
            tos: None,
        }
    }

    #[test]
    fn care_of_list_keeps_order_refuses_repeats_and_overflow() {
        let mut l = CareOfList::one(ip("10.0.0.1"));
        assert!(l.push(ip("10.0.0.2")));
        assert!(!l.push(ip("10.0.0.2")));
        assert!(l.push(ip("10.0.0.3")));
        assert!(l.push(ip("10.0.0.4")));
        assert!(!l.push(ip("10.0.0.5")));
        assert_eq!(l.len(), 4);
        assert!(l.remove(ip("10.0.0.2")));
        assert_eq!(
            l.as_slice(),
            &[ip("10.0.0.1"), ip("10.0.0.3"), ip("10.0.0.4")]
        );
        assert!(!l.remove(ip("10.0.0.2")));
        assert!(CareOfList::from_slice(&[]).is_none());
        assert!(CareOfList::from_slice(&[ip("10.0.0.1"), ip("10.0.0.1")]).is_none());
    }

    #[test]
    fn lookup_by_home_address_of_either_family() {
        let mut t = BindingTable::with_limit(4);
        let b4 = binding(&["198.51.100.7"], Encap::IpInIp, "192.0.2.1");
        let b6 = binding(&["2001:db8:2::7"], Encap::IpInIp, "2001:db8::1");
        t.insert(ip("192.0.2.10"), b4).unwrap();
        t.insert(ip("2001:db8::10"), b6).unwrap();
        assert_eq!(t.get(ip("192.0.2.10")), Some(&b4));
        assert_eq!(t.get(ip("2001:db8::10")), Some(&b6));
        assert_eq!(t.get(ip("192.0.2.11")), None);
        assert_eq!(t.len(), 2);
        assert!(t.remove(ip("192.0.2.10")));
        assert!(!t.remove(ip("192.0.2.10")));
        assert_eq!(t.get(ip("192.0.2.10")), None);
    }

    #[test]
    fn invalid_bindings_are_refused() {
        let mut t = BindingTable::with_limit(4);
        let home = ip("192.0.2.10");
        // Minimal encapsulation cannot reach an IPv6 care-of address.
        let b = binding(&["2001:db8::7"], Encap::Minimal, "2001:db8::1");
        assert_eq!(t.insert(home, b), Err(TableError::Invalid));
        // The outer source must be of the care-of address's family.
        let b = binding(&["198.51.100.7"], Encap::IpInIp, "2001:db8::1");
        assert_eq!(t.insert(home, b), Err(TableError::Invalid));
        // No tunnelling to a multicast care-of address.
        let b = binding(&["224.0.0.5"], Encap::IpInIp, "192.0.2.1");
        assert_eq!(t.insert(home, b), Err(TableError::Invalid));
        assert!(t.is_empty());
    }

    #[test]
    fn a_full_table_refuses_new_home_addresses_but_updates_known_ones() {
        let mut t = BindingTable::with_limit(1);
        let b = binding(&["198.51.100.7"], Encap::Gre, "192.0.2.1");
        t.insert(ip("192.0.2.10"), b).unwrap();
        assert_eq!(t.insert(ip("192.0.2.11"), b), Err(TableError::Full));
        let moved = binding(&["198.51.100.8"], Encap::Gre, "192.0.2.1");
        t.insert(ip("192.0.2.10"), moved).unwrap();
        assert_eq!(t.get(ip("192.0.2.10")), Some(&moved));
    }
}
