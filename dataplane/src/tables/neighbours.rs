//! Resolved next hops: (port, IP address) → link-layer address, filled by the control
//! thread from ARP and neighbour discovery. A packet to a next hop that is not here is
//! dropped and counted, and the engine asks the control thread to resolve it: nothing
//! queues on a worker.

use core::net::IpAddr;

use super::{Bounded, TableError};

/// (port, next hop) → MAC.
#[derive(Debug)]
pub struct NeighbourTable {
    map: Bounded<(u16, IpAddr), [u8; 6]>,
}

impl NeighbourTable {
    /// An empty table for up to `limit` neighbours.
    pub fn with_limit(limit: usize) -> NeighbourTable {
        NeighbourTable {
            map: Bounded::with_limit(limit),
        }
    }

    /// The MAC of `ip` on `port`.
    #[inline]
    pub fn get(&self, port: u16, ip: IpAddr) -> Option<[u8; 6]> {
        self.map.get(&(port, ip)).copied()
    }

    /// Records or updates a neighbour.
    pub fn insert(&mut self, port: u16, ip: IpAddr, mac: [u8; 6]) -> Result<(), TableError> {
        if mac[0] & 1 != 0 || mac == [0; 6] {
            return Err(TableError::Invalid);
        }
        self.map.insert((port, ip), mac).map(|_| ())
    }

    /// Forgets a neighbour; false when it was not known.
    pub fn remove(&mut self, port: u16, ip: IpAddr) -> bool {
        self.map.remove(&(port, ip)).is_some()
    }

    /// Neighbours known.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_per_port() {
        let mut t = NeighbourTable::with_limit(4);
        let ip: IpAddr = "192.0.2.254".parse().unwrap();
        t.insert(0, ip, [2, 0, 0, 0, 0, 0xfe]).unwrap();
        assert_eq!(t.get(0, ip), Some([2, 0, 0, 0, 0, 0xfe]));
        assert_eq!(t.get(1, ip), None);
        assert_eq!(t.insert(0, ip, [0xff; 6]), Err(TableError::Invalid));
        assert!(t.remove(0, ip));
        assert!(t.is_empty());
    }
}
