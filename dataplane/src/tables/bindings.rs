//! Mobility bindings: a home address → where its packets are tunnelled (one or more care-of
//! addresses, a method, the tunnel source, an optional TOS). A home agent intercepts
//! packets for the home address and tunnels a copy to each care-of address (simultaneous
//! bindings, RFC 5944 §3.6.1.2: the S bit).

use core::net::IpAddr;

use super::{Bounded, Encap, TableError};

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

/// Home address → binding, IPv4 and IPv6 home addresses kept apart so a lookup hashes a
/// plain address.
#[derive(Debug)]
pub struct BindingTable {
    v4: Bounded<u32, Binding>,
    v6: Bounded<u128, Binding>,
}

impl BindingTable {
    /// An empty table for up to `limit` bindings of each family.
    pub fn with_limit(limit: usize) -> BindingTable {
        BindingTable {
            v4: Bounded::with_limit(limit),
            v6: Bounded::with_limit(limit),
        }
    }

    /// The binding of a home address.
    #[inline]
    pub fn get(&self, home: IpAddr) -> Option<&Binding> {
        match home {
            IpAddr::V4(a) => self.v4.get(&a.to_bits()),
            IpAddr::V6(a) => self.v6.get(&a.to_bits()),
        }
    }

    /// Reads the binding of `home` (if any) so that a lookup soon after finds it in cache;
    /// returns a byte of it for `black_box`.
    #[inline]
    pub fn warm(&self, home: IpAddr) -> u8 {
        self.get(home)
            .map_or(0, |b| b.encap as u8 ^ b.care_of.len() as u8)
    }

    /// Installs or replaces the binding of `home`.
    pub fn insert(&mut self, home: IpAddr, binding: Binding) -> Result<(), TableError> {
        if !binding.is_valid() {
            return Err(TableError::Invalid);
        }
        match home {
            IpAddr::V4(a) => self.v4.insert(a.to_bits(), binding),
            IpAddr::V6(a) => self.v6.insert(a.to_bits(), binding),
        }
        .map(|_| ())
    }

    /// Removes the binding of `home`; false when there was none.
    pub fn remove(&mut self, home: IpAddr) -> bool {
        match home {
            IpAddr::V4(a) => self.v4.remove(&a.to_bits()).is_some(),
            IpAddr::V6(a) => self.v6.remove(&a.to_bits()).is_some(),
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
