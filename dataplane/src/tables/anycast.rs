//! Anycast address proxy: an anycast address → its targets, each with a state the
//! control thread keeps current. A worker picks among the online targets round robin
//! (its own rotation: workers do not coordinate); none online is a fault the engine
//! drops and counts.

use core::net::IpAddr;

use super::{Bounded, TableError};

/// The most targets one anycast address can have.
pub const MAX_TARGETS: usize = 16;

/// The state of one anycast target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetState {
    /// Serving: may be selected.
    Online,
    /// Not serving.
    Offline,
    /// Being brought up.
    Pending,
    /// Failed its checks.
    Faulty,
    /// Overloaded: skipped until it recovers.
    Congested,
}

/// One target of an anycast address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnycastTarget {
    /// Its unicast address.
    pub addr: IpAddr,
    /// Its state.
    pub state: TargetState,
}

/// The targets of one anycast address and this worker's rotation over them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnycastGroup {
    targets: [AnycastTarget; MAX_TARGETS],
    len: u8,
    next: u8,
}

impl AnycastGroup {
    /// A group of the given targets; None when there are none or more than
    /// [`MAX_TARGETS`].
    pub fn new(targets: &[AnycastTarget]) -> Option<AnycastGroup> {
        let first = *targets.first()?;
        if targets.len() > MAX_TARGETS {
            return None;
        }
        let mut all = [first; MAX_TARGETS];
        all.get_mut(..targets.len())?.copy_from_slice(targets);
        Some(AnycastGroup {
            targets: all,
            len: targets.len() as u8,
            next: 0,
        })
    }

    /// The targets.
    pub fn targets(&self) -> &[AnycastTarget] {
        self.targets.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Sets the state of the target at `addr`; false when it is not a target.
    pub fn set_state(&mut self, addr: IpAddr, state: TargetState) -> bool {
        let len = usize::from(self.len);
        match self.targets.iter_mut().take(len).find(|t| t.addr == addr) {
            Some(t) => {
                t.state = state;
                true
            }
            None => false,
        }
    }

    /// The next online target after the last one picked, or None when none is online.
    #[inline]
    pub fn select(&mut self) -> Option<IpAddr> {
        let len = usize::from(self.len);
        for step in 0..len {
            let i = (usize::from(self.next) + step) % len;
            if let Some(t) = self.targets.get(i) {
                if t.state == TargetState::Online {
                    self.next = ((i + 1) % len) as u8;
                    return Some(t.addr);
                }
            }
        }
        None
    }
}

/// Anycast address → group.
#[derive(Debug)]
pub struct AnycastTable {
    map: Bounded<IpAddr, AnycastGroup>,
}

impl AnycastTable {
    /// An empty table for up to `limit` anycast addresses.
    pub fn with_limit(limit: usize) -> AnycastTable {
        AnycastTable {
            map: Bounded::with_limit(limit),
        }
    }

    /// Picks a target for a packet to `anycast`: Some(None) when the address is known but
    /// no target is online, None when it is not an anycast address here.
    #[inline]
    pub fn select(&mut self, anycast: IpAddr) -> Option<Option<IpAddr>> {
        self.map.get_mut(&anycast).map(AnycastGroup::select)
    }

    /// The group of an anycast address.
    pub fn get(&self, anycast: IpAddr) -> Option<&AnycastGroup> {
        self.map.get(&anycast)
    }

    /// Installs or replaces the targets of `anycast`; the rotation restarts.
    pub fn insert(&mut self, anycast: IpAddr, group: AnycastGroup) -> Result<(), TableError> {
        if group
            .targets()
            .iter()
            .any(|t| t.addr.is_multicast() || t.addr.is_ipv4() != anycast.is_ipv4())
        {
            return Err(TableError::Invalid);
        }
        self.map.insert(anycast, group).map(|_| ())
    }

    /// Changes the state of one target; false when the address or target is unknown.
    pub fn set_state(&mut self, anycast: IpAddr, target: IpAddr, state: TargetState) -> bool {
        self.map
            .get_mut(&anycast)
            .is_some_and(|g| g.set_state(target, state))
    }

    /// Removes an anycast address; false when there was none.
    pub fn remove(&mut self, anycast: IpAddr) -> bool {
        self.map.remove(&anycast).is_some()
    }

    /// Anycast addresses held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
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

    fn target(s: &str, state: TargetState) -> AnycastTarget {
        AnycastTarget { addr: ip(s), state }
    }

    #[test]
    fn selection_rotates_over_online_targets_only() {
        let mut t = AnycastTable::with_limit(2);
        let any = ip("192.0.2.100");
        let g = AnycastGroup::new(&[
            target("10.0.0.1", TargetState::Online),
            target("10.0.0.2", TargetState::Offline),
            target("10.0.0.3", TargetState::Online),
            target("10.0.0.4", TargetState::Pending),
            target("10.0.0.5", TargetState::Faulty),
            target("10.0.0.6", TargetState::Congested),
        ])
        .unwrap();
        t.insert(any, g).unwrap();
        let picks: Vec<_> = (0..4).map(|_| t.select(any).unwrap().unwrap()).collect();
        assert_eq!(
            picks,
            [
                ip("10.0.0.1"),
                ip("10.0.0.3"),
                ip("10.0.0.1"),
                ip("10.0.0.3")
            ]
        );
        assert!(t.set_state(any, ip("10.0.0.1"), TargetState::Congested));
        assert!(t.set_state(any, ip("10.0.0.6"), TargetState::Online));
        // The rotation goes on from where it was (after 10.0.0.3).
        let picks: Vec<_> = (0..4).map(|_| t.select(any).unwrap().unwrap()).collect();
        assert_eq!(
            picks,
            [
                ip("10.0.0.6"),
                ip("10.0.0.3"),
                ip("10.0.0.6"),
                ip("10.0.0.3")
            ]
        );
        assert!(t.set_state(any, ip("10.0.0.3"), TargetState::Offline));
        assert!(t.set_state(any, ip("10.0.0.6"), TargetState::Faulty));
        assert_eq!(t.select(any), Some(None));
        assert_eq!(t.select(ip("192.0.2.101")), None);
        assert!(!t.set_state(any, ip("10.9.9.9"), TargetState::Online));
    }

    #[test]
    fn groups_are_bounded_and_single_family() {
        assert!(AnycastGroup::new(&[]).is_none());
        let many = vec![target("10.0.0.1", TargetState::Online); MAX_TARGETS + 1];
        assert!(AnycastGroup::new(&many).is_none());
        let mut t = AnycastTable::with_limit(2);
        let g = AnycastGroup::new(&[target("2001:db8::1", TargetState::Online)]).unwrap();
        assert_eq!(t.insert(ip("192.0.2.100"), g), Err(TableError::Invalid));
    }
}
