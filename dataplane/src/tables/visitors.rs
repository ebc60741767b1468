//! The visitor list of a foreign agent (RFC 5944 §3.7.1) or MAP: a visiting mobile's home
//! address → the link-layer address and port to deliver its decapsulated packets on.

use core::net::IpAddr;

use super::{Bounded, TableError};

/// Where a visiting mobile is reached on the local link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visitor {
    /// The mobile's link-layer address.
    pub mac: [u8; 6],
    /// The port index of the link it is on.
    pub port: u16,
}

/// Home address → visitor.
#[derive(Debug)]
pub struct VisitorTable {
    map: Bounded<IpAddr, Visitor>,
}

impl VisitorTable {
    /// An empty list for up to `limit` visitors.
    pub fn with_limit(limit: usize) -> VisitorTable {
        VisitorTable {
            map: Bounded::with_limit(limit),
        }
    }

    /// The visitor with this home address.
    #[inline]
    pub fn get(&self, home: IpAddr) -> Option<&Visitor> {
        self.map.get(&home)
    }

    /// Adds or updates a visitor.
    pub fn insert(&mut self, home: IpAddr, visitor: Visitor) -> Result<(), TableError> {
        if visitor.mac[0] & 1 != 0 {
            return Err(TableError::Invalid);
        }
        self.map.insert(home, visitor).map(|_| ())
    }

    /// Removes a visitor; false when it was not listed.
    pub fn remove(&mut self, home: IpAddr) -> bool {
        self.map.remove(&home).is_some()
    }

    /// Visitors listed.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitors_are_found_by_home_address_and_multicast_macs_refused() {
        let mut t = VisitorTable::with_limit(2);
        let home: IpAddr = "192.0.2.10".parse().unwrap();
        let v = Visitor {
            mac: [2, 0, 0, 0, 0, 1],
            port: 1,
        };
        t.insert(home, v).unwrap();
        assert_eq!(t.get(home), Some(&v));
        let bad = Visitor {
            mac: [1, 0, 0x5e, 0, 0, 1],
            port: 1,
        };
        assert_eq!(t.insert(home, bad), Err(TableError::Invalid));
        assert!(t.remove(home));
        assert!(t.is_empty());
    }
}
