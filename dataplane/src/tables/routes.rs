//! Longest-prefix-match routes for IPv4 and IPv6: connected prefixes of each port and
//! static next hops.
//!
//! One hash map per family keyed by (prefix length, masked address), and a bit set of the
//! prefix lengths present: a lookup probes the present lengths from the longest down, so
//! it costs one hash probe per distinct prefix length in the table (a handful on a
//! mobility node), whatever the number of routes.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use super::{Bounded, TableError};

/// An IP prefix: an address with its host bits clear and a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

/// Why a prefix did not parse or was not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// No `/` separating address and length.
    #[error("`{0}` is not a prefix: expected ADDRESS/LENGTH, e.g. 192.0.2.0/24 or 2001:db8::/32")]
    Syntax(String),
    /// The address part is not an IP address.
    #[error("`{0}` is not an IP address")]
    Address(String),
    /// The length is not a number within the family's range.
    #[error("prefix length `{0}` is out of range (0-32 for IPv4, 0-128 for IPv6)")]
    Length(String),
    /// Bits are set past the prefix length.
    #[error("`{0}` has host bits set: write the network address, e.g. {1}")]
    HostBits(String, String),
}

impl Prefix {
    /// A prefix; None when `len` is too long for the family or host bits are set.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        let p = Prefix { addr, len };
        (len <= max_len(addr) && p.masked() == addr).then_some(p)
    }

    /// The prefix of `addr` of length `len` (host bits cleared); None when too long.
    pub fn of(addr: IpAddr, len: u8) -> Option<Prefix> {
        (len <= max_len(addr)).then(|| {
            let p = Prefix { addr, len };
            Prefix {
                addr: p.masked(),
                len,
            }
        })
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is the default route (length 0).
    pub fn is_default(&self) -> bool {
        self.len == 0
    }

    /// Whether `addr` lies in the prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(p), IpAddr::V4(a)) => mask4(a.to_bits(), self.len) == p.to_bits(),
            (IpAddr::V6(p), IpAddr::V6(a)) => mask6(a.to_bits(), self.len) == p.to_bits(),
            _ => false,
        }
    }

    fn masked(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from_bits(mask4(a.to_bits(), self.len))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from_bits(mask6(a.to_bits(), self.len))),
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Prefix {
    type Err = PrefixError;

    fn from_str(s: &str) -> Result<Prefix, PrefixError> {
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| PrefixError::Syntax(s.into()))?;
        let addr: IpAddr = a.parse().map_err(|_| PrefixError::Address(a.into()))?;
        let len: u8 = l.parse().map_err(|_| PrefixError::Length(l.into()))?;
        if len > max_len(addr) {
            return Err(PrefixError::Length(l.into()));
        }
        Prefix::new(addr, len).ok_or_else(|| {
            let fixed = Prefix::of(addr, len)
                .map(|p| p.to_string())
                .unwrap_or_default();
            PrefixError::HostBits(s.into(), fixed)
        })
    }
}

fn max_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

#[inline]
pub(crate) fn mask4(bits: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        bits & (u32::MAX << (32 - u32::from(len.min(32))))
    }
}

#[inline]
pub(crate) fn mask6(bits: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - u32::from(len.min(128))))
    }
}

/// Where a route sends a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The port index it leaves by.
    pub port: u16,
    /// The next hop, or None for a connected prefix (the destination itself is the next
    /// hop).
    pub next_hop: Option<IpAddr>,
}

impl Route {
    /// The address whose link-layer address the packet is sent to.
    #[inline]
    pub fn next_hop_for(&self, dst: IpAddr) -> IpAddr {
        self.next_hop.unwrap_or(dst)
    }
}

/// The prefix lengths present in one family's table, with a count per length so a
/// removal knows when a length disappears.
#[derive(Debug)]
pub(crate) struct Lengths {
    present: [u64; 3],
    count: [u32; 129],
}

impl Lengths {
    pub(crate) fn new() -> Lengths {
        Lengths {
            present: [0; 3],
            count: [0; 129],
        }
    }

    pub(crate) fn add(&mut self, len: u8) {
        let l = usize::from(len);
        if let Some(c) = self.count.get_mut(l) {
            *c += 1;
            if let Some(w) = self.present.get_mut(l / 64) {
                *w |= 1 << (l % 64);
            }
        }
    }

    pub(crate) fn remove(&mut self, len: u8) {
        let l = usize::from(len);
        if let Some(c) = self.count.get_mut(l) {
            *c = c.saturating_sub(1);
            if *c == 0 {
                if let Some(w) = self.present.get_mut(l / 64) {
                    *w &= !(1 << (l % 64));
                }
            }
        }
    }

    /// Calls `probe` with each present length, longest first, until it returns Some.
    #[inline]
    pub(crate) fn longest_first<T>(&self, mut probe: impl FnMut(u8) -> Option<T>) -> Option<T> {
        for (w, word) in self.present.iter().enumerate().rev() {
            let mut bits = *word;
            while bits != 0 {
                let top = 63 - bits.leading_zeros() as usize;
                bits &= !(1 << top);
                if let Some(hit) = probe((w * 64 + top) as u8) {
                    return Some(hit);
                }
            }
        }
        None
    }
}

/// IPv4 and IPv6 routes.
#[derive(Debug)]
pub struct RouteTable {
    v4: Bounded<(u8, u32), Route>,
    v6: Bounded<(u8, u128), Route>,
    lengths4: Lengths,
    lengths6: Lengths,
    /// The default routes (length 0) also sit here, read without a hash probe: most
    /// tunnelled traffic leaves by one.
    default4: Option<Route>,
    default6: Option<Route>,
}

impl RouteTable {
    /// An empty table for up to `limit` routes of each family.
    pub fn with_limit(limit: usize) -> RouteTable {
        RouteTable {
            v4: Bounded::with_limit(limit),
            v6: Bounded::with_limit(limit),
            lengths4: Lengths::new(),
            lengths6: Lengths::new(),
            default4: None,
            default6: None,
        }
    }

    /// The route of the longest prefix holding `dst`.
    #[inline]
    pub fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        match dst {
            IpAddr::V4(a) => {
                let bits = a.to_bits();
                self.lengths4.longest_first(|len| match len {
                    0 => self.default4.as_ref(),
                    _ => self.v4.get(&(len, mask4(bits, len))),
                })
            }
            IpAddr::V6(a) => {
                let bits = a.to_bits();
                self.lengths6.longest_first(|len| match len {
                    0 => self.default6.as_ref(),
                    _ => self.v6.get(&(len, mask6(bits, len))),
                })
            }
        }
    }

    /// Adds or replaces the route of `prefix`. A next hop must be of the prefix's family.
    pub fn insert(&mut self, prefix: Prefix, route: Route) -> Result<(), TableError> {
        if route
            .next_hop
            .is_some_and(|h| h.is_ipv4() != prefix.addr.is_ipv4() || h.is_multicast())
        {
            return Err(TableError::Invalid);
        }
        match prefix.addr {
            IpAddr::V4(a) => {
                if self.v4.insert((prefix.len, a.to_bits()), route)?.is_none() {
                    self.lengths4.add(prefix.len);
                }
                if prefix.len == 0 {
                    self.default4 = Some(route);
                }
            }
            IpAddr::V6(a) => {
                if self.v6.insert((prefix.len, a.to_bits()), route)?.is_none() {
                    self.lengths6.add(prefix.len);
                }
                if prefix.len == 0 {
                    self.default6 = Some(route);
                }
            }
        }
        Ok(())
    }

    /// Removes the route of `prefix`; false when there was none.
    pub fn remove(&mut self, prefix: Prefix) -> bool {
        let removed = match prefix.addr {
            IpAddr::V4(a) => self.v4.remove(&(prefix.len, a.to_bits())).is_some(),
            IpAddr::V6(a) => self.v6.remove(&(prefix.len, a.to_bits())).is_some(),
        };
        if removed {
            match prefix.addr {
                IpAddr::V4(_) => self.lengths4.remove(prefix.len),
                IpAddr::V6(_) => self.lengths6.remove(prefix.len),
            }
            if prefix.len == 0 {
                match prefix.addr {
                    IpAddr::V4(_) => self.default4 = None,
                    IpAddr::V6(_) => self.default6 = None,
                }
            }
        }
        removed
    }

    /// Routes held, both families.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every route, for display (not on the packet path).
    pub fn routes(&self) -> impl Iterator<Item = (Prefix, Route)> + '_ {
        let v4 = self.v4.iter().map(|((len, a), r)| {
            (
                Prefix {
                    addr: IpAddr::V4(Ipv4Addr::from_bits(*a)),
                    len: *len,
                },
                *r,
            )
        });
        let v6 = self.v6.iter().map(|((len, a), r)| {
            (
                Prefix {
                    addr: IpAddr::V6(Ipv6Addr::from_bits(*a)),
                    len: *len,
                },
                *r,
            )
        });
        v4.chain(v6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    fn via(port: u16, hop: Option<&str>) -> Route {
        Route {
            port,
            next_hop: hop.map(ip),
        }
    }

    #[test]
    fn prefixes_parse_and_refuse_host_bits_with_the_fix() {
        assert_eq!(p("192.0.2.0/24").prefix_len(), 24);
        assert_eq!(p("::/0").addr(), ip("::"));
        assert!(matches!(
            "192.0.2.1/24".parse::<Prefix>(),
            Err(PrefixError::HostBits(_, fix)) if fix == "192.0.2.0/24"
        ));
        assert!(matches!(
            "192.0.2.0/33".parse::<Prefix>(),
            Err(PrefixError::Length(_))
        ));
        assert!(matches!(
            "192.0.2.0".parse::<Prefix>(),
            Err(PrefixError::Syntax(_))
        ));
        assert!(matches!(
            "192.0.2/24".parse::<Prefix>(),
            Err(PrefixError::Address(_))
        ));
        assert!(p("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!p("2001:db8::/32").contains(ip("2001:db9::5")));
        assert!(!p("0.0.0.0/0").contains(ip("::1")));
    }

    #[test]
    fn default_routes_are_replaced_and_removed() {
        let mut t = RouteTable::with_limit(4);
        assert_eq!(t.lookup(ip("8.8.8.8")), None);
        t.insert(p("0.0.0.0/0"), via(0, Some("192.0.2.254")))
            .unwrap();
        t.insert(p("::/0"), via(1, Some("fe80::1"))).unwrap();
        t.insert(p("0.0.0.0/0"), via(2, Some("192.0.2.253")))
            .unwrap();
        assert_eq!(t.lookup(ip("8.8.8.8")).unwrap().port, 2);
        assert_eq!(t.lookup(ip("2001:db8::1")).unwrap().port, 1);
        assert!(t.remove(p("0.0.0.0/0")));
        assert_eq!(t.lookup(ip("8.8.8.8")), None);
        assert_eq!(t.lookup(ip("2001:db8::1")).unwrap().port, 1);
        assert!(t.remove(p("::/0")));
        assert_eq!(t.lookup(ip("2001:db8::1")), None);
        assert!(t.is_empty());
    }

    #[test]
    fn the_longest_prefix_wins_in_both_families() {
        let mut t = RouteTable::with_limit(16);
        t.insert(p("0.0.0.0/0"), via(0, Some("192.0.2.254")))
            .unwrap();
        t.insert(p("10.0.0.0/8"), via(1, Some("192.0.2.253")))
            .unwrap();
        t.insert(p("10.1.0.0/16"), via(2, None)).unwrap();
        t.insert(p("10.1.2.3/32"), via(3, None)).unwrap();
        t.insert(p("2001:db8::/32"), via(4, None)).unwrap();
        t.insert(p("2001:db8:5::/48"), via(5, Some("fe80::1")))
            .unwrap();
        assert_eq!(t.lookup(ip("10.1.2.3")), Some(&via(3, None)));
        assert_eq!(t.lookup(ip("10.1.2.4")), Some(&via(2, None)));
        assert_eq!(t.lookup(ip("10.2.0.1")).unwrap().port, 1);
        assert_eq!(t.lookup(ip("8.8.8.8")).unwrap().port, 0);
        assert_eq!(t.lookup(ip("2001:db8:5::9")).unwrap().port, 5);
        assert_eq!(t.lookup(ip("2001:db8:6::9")).unwrap().port, 4);
        assert_eq!(t.lookup(ip("2001:db9::1")), None);
        assert!(t.remove(p("10.1.0.0/16")));
        assert_eq!(t.lookup(ip("10.1.2.4")).unwrap().port, 1);
        assert!(!t.remove(p("10.1.0.0/16")));
        assert_eq!(
            t.lookup(ip("10.1.2.4"))
                .unwrap()
                .next_hop_for(ip("10.1.2.4")),
            ip("192.0.2.253")
        );
    }

    #[test]
    fn a_next_hop_of_the_other_family_is_refused() {
        let mut t = RouteTable::with_limit(4);
        assert_eq!(
            t.insert(p("10.0.0.0/8"), via(0, Some("fe80::1"))),
            Err(TableError::Invalid)
        );
    }

    fn naive(routes: &[(Prefix, Route)], dst: IpAddr) -> Option<Route> {
        routes
            .iter()
            .filter(|(p, _)| p.contains(dst))
            .max_by_key(|(p, _)| p.prefix_len())
            .map(|(_, r)| *r)
    }

    proptest! {
        #[test]
        fn lookup_matches_a_linear_scan(
            entries in prop::collection::vec((any::<u32>(), 0u8..=32, any::<u16>()), 0..64),
            removals in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
            probes in prop::collection::vec(any::<u32>(), 1..64),
        ) {
            let mut t = RouteTable::with_limit(128);
            let mut model: Vec<(Prefix, Route)> = Vec::new();
            for (a, len, port) in entries {
                let prefix = Prefix::of(IpAddr::V4(Ipv4Addr::from_bits(a)), len).unwrap();
                let r = via(port, None);
                t.insert(prefix, r).unwrap();
                model.retain(|(p, _)| *p != prefix);
                model.push((prefix, r));
            }
            for i in removals {
                if model.is_empty() { break; }
                let (prefix, _) = model.remove(i.index(model.len()));
                prop_assert!(t.remove(prefix));
            }
            for a in probes.into_iter().chain(model.iter().map(|(p, _)| match p.addr() {
                IpAddr::V4(a) => a.to_bits(),
                IpAddr::V6(_) => 0,
            })) {
                let dst = IpAddr::V4(Ipv4Addr::from_bits(a));
                prop_assert_eq!(t.lookup(dst).copied(), naive(&model, dst));
            }
        }

        #[test]
        fn ipv6_lookup_matches_a_linear_scan(
            entries in prop::collection::vec((any::<u128>(), 0u8..=128, any::<u16>()), 0..64),
            probes in prop::collection::vec(any::<u128>(), 1..64),
        ) {
            let mut t = RouteTable::with_limit(128);
            let mut model: Vec<(Prefix, Route)> = Vec::new();
            for (a, len, port) in entries {
                let prefix = Prefix::of(IpAddr::V6(Ipv6Addr::from_bits(a)), len).unwrap();
                let r = via(port, None);
                t.insert(prefix, r).unwrap();
                model.retain(|(p, _)| *p != prefix);
                model.push((prefix, r));
            }
            for a in probes {
                let dst = IpAddr::V6(Ipv6Addr::from_bits(a));
                prop_assert_eq!(t.lookup(dst).copied(), naive(&model, dst));
            }
        }
    }
}
