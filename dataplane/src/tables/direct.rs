//! The direct index: the home agent's commonest decision, found with one probe.
//!
//! For most packets a home agent forwards, the whole service-profile search ends the same
//! way: the first class the policy visits is node-destination, the packet's destination
//! is a home address whose first exact profile there matches every packet and hands it to
//! the mobility bindings unchanged, and the binding tunnels it IPv4-in-IPv4 to one care-of
//! address. The search then costs two dependent hash probes (the profile's entry and the
//! binding's slot) and the binding record, three cache misses with a large table.
//!
//! This index holds, for exactly those IPv4 home addresses, the binding's care-of address
//! and tunnel source in the hash slot itself: one probe, one cache line. It is derived
//! from the profiles and bindings and changes with them ([`super::Tables`] is the only
//! writer of both, and refreshes a home's entry on every change that can alter it), so it
//! is a memo of the search's outcome, not a second policy: a packet whose home has no
//! entry here, or that the direct path does not take (IP options, a TTL about to expire,
//! a tunnel MTU it would exceed, a bad checksum), goes through the search as before.

use core::net::{IpAddr, Ipv4Addr};

use super::flat::{hash32, Codec, FlatMap};
use super::{Binding, Encap, TableError};
use crate::profile::{AddrMatch, Class, PortRange, Profile, ProfileTables, TableRef};

/// Where the direct path sends a home address's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Direct4 {
    /// The care-of address: the outer destination.
    pub care_of: Ipv4Addr,
    /// The binding's tunnel source: the outer source.
    pub source: Ipv4Addr,
}

/// IPv4 home address → care-of address and source, in 16-byte slots (the last word is
/// never zero, so a full slot is never the empty one).
struct Slot4;

impl Codec for Slot4 {
    type Key = u32;
    type Value = Direct4;
    type Slot = [u32; 4];
    const EMPTY: [u32; 4] = [0; 4];
    #[inline(always)]
    fn hash(key: u32, seed: u64) -> u64 {
        hash32(key, seed)
    }
    #[inline(always)]
    fn encode(key: u32, d: Direct4) -> [u32; 4] {
        [key, d.care_of.to_bits(), d.source.to_bits(), 1]
    }
    #[inline(always)]
    fn decode(s: &[u32; 4]) -> (u32, Direct4) {
        (
            s[0],
            Direct4 {
                care_of: Ipv4Addr::from_bits(s[1]),
                source: Ipv4Addr::from_bits(s[2]),
            },
        )
    }
    #[inline(always)]
    fn key(s: &[u32; 4]) -> u32 {
        s[0]
    }
}

/// The direct entries of one worker and whether the search would reach them at all.
#[derive(Debug)]
pub struct DirectIndex {
    v4: FlatMap<Slot4>,
    /// Node-destination is the first class the search visits: no profile of an earlier
    /// class can take the packet first.
    reachable: bool,
    /// Whether the direct path may be used at all (tests compare it with the search).
    enabled: bool,
    /// Both.
    on: bool,
}

impl DirectIndex {
    /// An empty index for up to `limit` home addresses (one per binding at most).
    pub fn with_limit(limit: usize) -> DirectIndex {
        DirectIndex {
            v4: FlatMap::with_limit(limit),
            reachable: false,
            enabled: true,
            on: false,
        }
    }

    /// The entry of `home`, when the direct path may take a packet to it.
    #[inline(always)]
    pub fn get(&self, home: u32) -> Option<Direct4> {
        if !self.on {
            return None;
        }
        self.v4.get(home)
    }

    /// Whether a lookup can find anything (so a burst's read-ahead is worth it).
    #[inline(always)]
    pub fn active(&self) -> bool {
        self.on && !self.v4.is_empty()
    }

    /// Starts loading the slot of `home` (no dependent load).
    #[inline(always)]
    pub fn prefetch(&self, home: u32) {
        self.v4.prefetch(home);
    }

    /// How many homes have an entry.
    pub fn len(&self) -> usize {
        self.v4.len()
    }

    /// Whether none has.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty()
    }

    /// Turns the direct path on or off; off, every packet goes through the search (the
    /// entries are still kept, so turning it back on needs no rebuild).
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
        self.on = self.enabled && self.reachable;
    }

    /// Whether the direct path is on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Recomputes whether the search reaches node-destination first.
    pub(crate) fn refresh_reach(&mut self, profiles: &ProfileTables) {
        self.reachable = profiles.first_searched() == Some(Class::NodeDestination);
        self.on = self.enabled && self.reachable;
    }

    /// Recomputes the entry of `home` from the profiles and the binding it has now.
    pub(crate) fn refresh(
        &mut self,
        home: IpAddr,
        profiles: &ProfileTables,
        binding: Option<&Binding>,
    ) {
        let IpAddr::V4(home) = home else {
            return;
        };
        let key = home.to_bits();
        match direct_entry(home, profiles, binding) {
            // One entry per binding at most, and the index has the bindings' room: a
            // refusal cannot happen, and would only leave the home to the search.
            Some(d) => {
                let _: Result<_, TableError> = self.v4.insert(key, d);
            }
            // Nothing to remove from an empty index (a node whose homes all take the
            // search never touches its slots).
            None if self.v4.is_empty() => {}
            None => {
                self.v4.remove(key);
            }
        }
    }
}

/// Whether `p` takes every IPv4 packet to its exact destination and hands it to the
/// bindings unchanged (no mark, no decapsulation, no copy to the control thread, and IP
/// in IP or the binding's own method).
fn plain_binding_profile(p: &Profile) -> bool {
    let m = &p.matches;
    let e = &p.edit;
    m.src == AddrMatch::Any
        && m.sport == PortRange::ANY
        && m.dport == PortRange::ANY
        && m.proto.is_none()
        && p.table == TableRef::Bindings
        && e.dscp.is_none()
        && !e.decapsulate
        && !e.notify
        && matches!(e.encap, None | Some(Encap::IpInIp))
}

/// The direct entry of `home`, or None when a packet to it needs the search: its first
/// node-destination exact profile must be a plain binding profile, and its binding one
/// IPv4 care-of address reached IPv4-in-IPv4 from an IPv4 source with no TOS to write.
/// The home is not link-scoped (the search punts those first) and not its own care-of
/// address (a tunnel to itself is refused).
fn direct_entry(
    home: Ipv4Addr,
    profiles: &ProfileTables,
    binding: Option<&Binding>,
) -> Option<Direct4> {
    if home.is_broadcast() || home.octets()[..3] == [224, 0, 0] {
        return None;
    }
    let first = profiles
        .class(Class::NodeDestination)
        .exact_first(IpAddr::V4(home))?;
    if !plain_binding_profile(&first) {
        return None;
    }
    let b = binding?;
    let method = first.edit.encap.unwrap_or(b.encap);
    let (IpAddr::V4(care_of), IpAddr::V4(source), [_], None, Encap::IpInIp) = (
        b.care_of.as_slice().first().copied()?,
        b.source,
        b.care_of.as_slice(),
        b.tos,
        method,
    ) else {
        return None;
    };
    if care_of == home {
        return None;
    }
    Some(Direct4 { care_of, source })
}
