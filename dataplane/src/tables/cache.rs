//! The binding cache of a correspondent node with route optimisation (RFC 6275 §9.1), or
//! of a previous foreign agent / MAP that forwards to a mobile's new care-of address:
//! destination (a home address) → the care-of address to send to instead.

use core::net::IpAddr;

use super::{Bounded, Encap, TableError};

/// What the cache says about one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheEntry {
    /// The care-of address packets for the destination go to.
    pub care_of: IpAddr,
    /// How: for an IPv6 correspondent node route optimisation (None: a type 2 routing
    /// header carrying the home address, RFC 6275 §6.4), otherwise a tunnel to the
    /// care-of address.
    pub encap: Option<Encap>,
}

/// Destination → cache entry.
#[derive(Debug)]
pub struct BindingCache {
    map: Bounded<IpAddr, CacheEntry>,
}

impl BindingCache {
    /// An empty cache for up to `limit` entries.
    pub fn with_limit(limit: usize) -> BindingCache {
        BindingCache {
            map: Bounded::with_limit(limit),
        }
    }

    /// The entry for a destination.
    #[inline]
    pub fn get(&self, dst: IpAddr) -> Option<&CacheEntry> {
        self.map.get(&dst)
    }

    /// Adds or replaces an entry. A routing-header entry needs an IPv6 destination and
    /// care-of address.
    pub fn insert(&mut self, dst: IpAddr, entry: CacheEntry) -> Result<(), TableError> {
        let valid = match entry.encap {
            None => dst.is_ipv6() && entry.care_of.is_ipv6(),
            Some(e) => e.supports(dst.is_ipv6(), entry.care_of),
        };
        if !valid || entry.care_of.is_multicast() || entry.care_of.is_unspecified() {
            return Err(TableError::Invalid);
        }
        self.map.insert(dst, entry).map(|_| ())
    }

    /// Removes an entry; false when there was none.
    pub fn remove(&mut self, dst: IpAddr) -> bool {
        self.map.remove(&dst).is_some()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn routing_header_entries_are_ipv6_only() {
        let mut c = BindingCache::with_limit(4);
        let rh = CacheEntry {
            care_of: ip("2001:db8:2::7"),
            encap: None,
        };
        c.insert(ip("2001:db8::10"), rh).unwrap();
        assert_eq!(c.get(ip("2001:db8::10")), Some(&rh));
        let rh4 = CacheEntry {
            care_of: ip("198.51.100.7"),
            encap: None,
        };
        assert_eq!(c.insert(ip("192.0.2.10"), rh4), Err(TableError::Invalid));
        let tunnel = CacheEntry {
            care_of: ip("198.51.100.7"),
            encap: Some(Encap::IpInIp),
        };
        c.insert(ip("192.0.2.10"), tunnel).unwrap();
        assert_eq!(c.len(), 2);
        assert!(c.remove(ip("192.0.2.10")));
    }
}
