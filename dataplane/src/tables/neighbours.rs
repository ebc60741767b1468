//! Resolved next hops: (port, IP address) → link-layer address, filled by the control
//! thread from ARP and neighbour discovery. A packet to a next hop that is not here is
//! dropped and counted, and the engine asks the control thread to resolve it: nothing
//! queues on a worker.

use core::cell::Cell;
use core::net::IpAddr;

use super::{Bounded, TableError};

/// A next hop: the port and its address there.
type Hop = (u16, IpAddr);

/// (port, next hop) → MAC.
#[derive(Debug)]
pub struct NeighbourTable {
    map: Bounded<Hop, [u8; 6]>,
    /// The last hit: most traffic leaves through one gateway, whatever its destination
    /// (a home agent's tunnels to a million care-of addresses go to one default router),
    /// so one compare saves a hash probe per packet. Forgotten on every change.
    last: Cell<Option<(Hop, [u8; 6])>>,
}

impl NeighbourTable {
    /// An empty table for up to `limit` neighbours.
    pub fn with_limit(limit: usize) -> NeighbourTable {
        NeighbourTable {
            map: Bounded::with_limit(limit),
            last: Cell::new(None),
        }
    }

    /// The MAC of `ip` on `port`.
    #[inline]
    pub fn get(&self, port: u16, ip: IpAddr) -> Option<[u8; 6]> {
        if let Some((key, mac)) = self.last.get() {
            if key == (port, ip) {
                return Some(mac);
            }
        }
        let mac = self.map.get(&(port, ip)).copied()?;
        self.last.set(Some(((port, ip), mac)));
        Some(mac)
    }

    /// Records or updates a neighbour.
    pub fn insert(&mut self, port: u16, ip: IpAddr, mac: [u8; 6]) -> Result<(), TableError> {
        if mac[0] & 1 != 0 || mac == [0; 6] {
            return Err(TableError::Invalid);
        }
        self.last.set(None);
        self.map.insert((port, ip), mac).map(|_| ())
    }

    /// Forgets a neighbour; false when it was not known.
    pub fn remove(&mut self, port: u16, ip: IpAddr) -> bool {
        self.last.set(None);
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
    fn a_change_is_seen_after_a_hit() {
        let mut t = NeighbourTable::with_limit(4);
        let gw: IpAddr = "192.0.2.254".parse().unwrap();
        t.insert(1, gw, [2, 0, 0, 0, 0, 1]).unwrap();
        assert_eq!(t.get(1, gw), Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(t.get(0, gw), None);
        t.insert(1, gw, [2, 0, 0, 0, 0, 2]).unwrap();
        assert_eq!(t.get(1, gw), Some([2, 0, 0, 0, 0, 2]));
        assert_eq!(t.get(1, gw), Some([2, 0, 0, 0, 0, 2]));
        assert!(t.remove(1, gw));
        assert_eq!(t.get(1, gw), None);
    }

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
