//! The multicast map of a mobility management agent (MMA): a mobile's home address, or
//! the care-of address the MMA handed it, → the mobile's own multicast group, which its
//! packets are re-encapsulated to; after a handover, for a configured period, → the new
//! MMA instead. The Ethernet destination of a group is derived from it
//! ([`multicast_mac`]: RFC 2464 §7 for IPv6, RFC 1112 §6.4 for IPv4) where the frame is
//! built.

use core::net::IpAddr;

use super::{Bounded, Encap, TableError};

/// Where packets for a mobile go from this MMA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MulticastTarget {
    /// The mobile's multicast group (an IPv6 or IPv4 multicast address), sent to the
    /// Ethernet address derived from it ([`multicast_mac`]).
    Group(IpAddr),
    /// The mobile moved to another MMA: tunnel to it (unicast) until the control thread
    /// removes the entry.
    NewMma(IpAddr),
}

/// One multicast-map entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MulticastEntry {
    /// Where the packets go.
    pub target: MulticastTarget,
    /// How they are encapsulated.
    pub encap: Encap,
}

impl MulticastEntry {
    /// An entry sending to `group` (which must be a multicast address).
    pub fn to_group(group: IpAddr, encap: Encap) -> Option<MulticastEntry> {
        group.is_multicast().then_some(MulticastEntry {
            target: MulticastTarget::Group(group),
            encap,
        })
    }

    /// An entry forwarding to a new MMA at `mma` (a unicast address).
    pub fn to_new_mma(mma: IpAddr, encap: Encap) -> MulticastEntry {
        MulticastEntry {
            target: MulticastTarget::NewMma(mma),
            encap,
        }
    }

    /// The outer destination of what this entry sends.
    pub fn destination(&self) -> IpAddr {
        match self.target {
            MulticastTarget::Group(group) => group,
            MulticastTarget::NewMma(a) => a,
        }
    }
}

/// The Ethernet address a multicast IP address maps to: 33:33 and the group's last four
/// octets for IPv6 (RFC 2464 §7), 01:00:5e and the low 23 bits for IPv4 (RFC 1112 §6.4).
/// None for a unicast address.
pub fn multicast_mac(group: IpAddr) -> Option<[u8; 6]> {
    match group {
        IpAddr::V6(g) if g.is_multicast() => {
            let o = g.octets();
            Some([0x33, 0x33, o[12], o[13], o[14], o[15]])
        }
        IpAddr::V4(g) if g.is_multicast() => {
            let o = g.octets();
            Some([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
        }
        _ => None,
    }
}

/// Home or care-of address → entry.
#[derive(Debug)]
pub struct MulticastTable {
    map: Bounded<IpAddr, MulticastEntry>,
}

impl MulticastTable {
    /// An empty map for up to `limit` entries.
    pub fn with_limit(limit: usize) -> MulticastTable {
        MulticastTable {
            map: Bounded::with_limit(limit),
        }
    }

    /// The entry for a mobile's address.
    #[inline]
    pub fn get(&self, key: IpAddr) -> Option<&MulticastEntry> {
        self.map.get(&key)
    }

    /// Adds or replaces an entry; the target must be a multicast group, or a unicast new
    /// MMA, reachable with the method.
    pub fn insert(&mut self, key: IpAddr, entry: MulticastEntry) -> Result<(), TableError> {
        let valid = match entry.target {
            MulticastTarget::Group(group) => multicast_mac(group).is_some(),
            MulticastTarget::NewMma(a) => !a.is_multicast() && !a.is_unspecified(),
        };
        let dst = entry.destination();
        if !valid || !(entry.encap.supports(false, dst) || entry.encap.supports(true, dst)) {
            return Err(TableError::Invalid);
        }
        self.map.insert(key, entry).map(|_| ())
    }

    /// Removes an entry; false when there was none.
    pub fn remove(&mut self, key: IpAddr) -> bool {
        self.map.remove(&key).is_some()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the map is empty.
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
    fn group_macs_follow_rfc_2464_and_rfc_1112() {
        assert_eq!(
            multicast_mac(ip("ff3e:30:2001:db8:211:22ff:fe33:4455")),
            Some([0x33, 0x33, 0xfe, 0x33, 0x44, 0x55])
        );
        // Bit 24 of the IPv4 group is not carried: 239.129.2.3 and 239.1.2.3 share a MAC.
        assert_eq!(
            multicast_mac(ip("239.129.2.3")),
            Some([0x01, 0x00, 0x5e, 0x01, 0x02, 0x03])
        );
        assert_eq!(
            multicast_mac(ip("239.1.2.3")),
            multicast_mac(ip("239.129.2.3"))
        );
        assert_eq!(multicast_mac(ip("2001:db8::1")), None);
        assert_eq!(multicast_mac(ip("192.0.2.1")), None);
    }

    #[test]
    fn entries_must_point_at_a_group_or_a_unicast_mma() {
        let mut t = MulticastTable::with_limit(4);
        let group = ip("ff3e:30:2001:db8:211:22ff:fe33:4455");
        let e = MulticastEntry::to_group(group, Encap::IpInIp).unwrap();
        t.insert(ip("2001:db8::10"), e).unwrap();
        assert_eq!(t.get(ip("2001:db8::10")).unwrap().destination(), group);
        assert!(MulticastEntry::to_group(ip("2001:db8::1"), Encap::IpInIp).is_none());
        // A "group" that is not a multicast address has no group MAC: refused.
        let bad = MulticastEntry {
            target: MulticastTarget::Group(ip("2001:db8::99")),
            encap: Encap::IpInIp,
        };
        assert_eq!(t.insert(ip("2001:db8::11"), bad), Err(TableError::Invalid));
        let gre6 = MulticastEntry::to_new_mma(ip("2001:db8:9::1"), Encap::Gre);
        assert_eq!(t.insert(ip("2001:db8::12"), gre6), Err(TableError::Invalid));
        let moved = MulticastEntry::to_new_mma(ip("2001:db8:9::1"), Encap::IpInIp);
        t.insert(ip("2001:db8::10"), moved).unwrap();
        assert_eq!(t.get(ip("2001:db8::10")), Some(&moved));
    }
}
