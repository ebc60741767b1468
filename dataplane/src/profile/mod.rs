//! Service profiles: one uniform format for every per-packet decision.
//!
//! A [`Profile`] is an id, a match (source / destination address as an exact address, a
//! prefix or a wildcard like `172.27.180.*`, port ranges, protocol), an edit (DSCP to
//! write, decapsulate first, encapsulation method, transfer destinations) and the table
//! to consult next. Profiles live in seven [`Class`]es searched in a configurable
//! [`Policy`] order; the first hit wins ([`ProfileTables::search`]). A role (home agent,
//! MAP, ...) is a set of default profiles, so a new service is new profiles rather than a
//! new code path.
//!
//! Each class indexes its profiles by the address it is keyed on (the source for the
//! source classes, the destination for the others): exact addresses in a hash map (one
//! probe, whatever the number of profiles), prefixes and wildcards in a hash map per
//! prefix length probed from the longest present length down (a probe per distinct
//! length, whatever the number of profiles), and profiles matching any address in a
//! short list. Lookups allocate nothing.

mod class;
mod search;

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

pub use class::ClassTable;
pub use search::{Hit, Policy, PolicyError, ProfileTables};

use crate::tables::{Encap, Prefix, PrefixError};

/// A profile's identity: the session (an AAA session, or 0 for the node's own profiles)
/// and a number within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileId {
    /// Session.
    pub session: u32,
    /// Number within the session.
    pub number: u32,
}

/// The seven profile classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Class {
    /// From the AAA server, keyed on the source address.
    AaaSource = 0,
    /// The node's own, keyed on the source address.
    NodeSource = 1,
    /// The node's defaults, keyed on the source address.
    NodeDefaultSource = 2,
    /// From the AAA server, keyed on the destination address.
    AaaDestination = 3,
    /// The node's own, keyed on the destination address.
    NodeDestination = 4,
    /// The node's defaults, keyed on the destination address.
    NodeDefaultDestination = 5,
    /// The node's catch-all defaults.
    NodeDefault = 6,
}

impl Class {
    /// Every class, in the default policy order.
    pub const ALL: [Class; 7] = [
        Class::AaaSource,
        Class::NodeSource,
        Class::NodeDefaultSource,
        Class::AaaDestination,
        Class::NodeDestination,
        Class::NodeDefaultDestination,
        Class::NodeDefault,
    ];

    /// Name used in configuration and counters.
    pub fn name(self) -> &'static str {
        match self {
            Class::AaaSource => "aaa-source",
            Class::NodeSource => "node-source",
            Class::NodeDefaultSource => "node-default-source",
            Class::AaaDestination => "aaa-destination",
            Class::NodeDestination => "node-destination",
            Class::NodeDefaultDestination => "node-default-destination",
            Class::NodeDefault => "node-default",
        }
    }

    /// Whether the class is keyed on the source address (else on the destination).
    pub fn keyed_on_source(self) -> bool {
        matches!(
            self,
            Class::AaaSource | Class::NodeSource | Class::NodeDefaultSource
        )
    }
}

impl FromStr for Class {
    type Err = String;

    fn from_str(s: &str) -> Result<Class, String> {
        Class::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown profile class `{s}`: expected one of {}",
                    Class::ALL.map(Class::name).join(", ")
                )
            })
    }
}

/// How a profile matches one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrMatch {
    /// Any address of either family.
    Any,
    /// One address.
    Exact(IpAddr),
    /// Every address in a prefix (a wildcard like `172.27.180.*` is the prefix
    /// 172.27.180.0/24).
    Prefix(Prefix),
}

impl AddrMatch {
    /// Whether `addr` matches.
    #[inline]
    pub fn matches(&self, addr: IpAddr) -> bool {
        match self {
            AddrMatch::Any => true,
            AddrMatch::Exact(a) => *a == addr,
            AddrMatch::Prefix(p) => p.contains(addr),
        }
    }
}

impl fmt::Display for AddrMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrMatch::Any => f.write_str("*"),
            AddrMatch::Exact(a) => write!(f, "{a}"),
            AddrMatch::Prefix(p) => write!(f, "{p}"),
        }
    }
}

impl FromStr for AddrMatch {
    type Err = PrefixError;

    /// `*`, an address, a prefix `ADDR/LEN`, or an IPv4 wildcard with trailing `*`
    /// octets (`172.27.180.*`, `10.*.*.*`).
    fn from_str(s: &str) -> Result<AddrMatch, PrefixError> {
        if s == "*" {
            return Ok(AddrMatch::Any);
        }
        if s.contains('/') {
            return s.parse().map(AddrMatch::Prefix);
        }
        if s.contains('*') {
            let octets: Vec<&str> = s.split('.').collect();
            let fixed = octets.iter().take_while(|o| **o != "*").count();
            if octets.len() != 4 || octets.iter().skip(fixed).any(|o| *o != "*") {
                return Err(PrefixError::Syntax(s.into()));
            }
            let mut addr = [0u8; 4];
            for (slot, o) in addr.iter_mut().zip(octets.iter().take(fixed)) {
                *slot = o.parse().map_err(|_| PrefixError::Address(s.into()))?;
            }
            return Prefix::new(IpAddr::from(addr), (fixed * 8) as u8)
                .map(AddrMatch::Prefix)
                .ok_or_else(|| PrefixError::Syntax(s.into()));
        }
        s.parse()
            .map(AddrMatch::Exact)
            .map_err(|_| PrefixError::Address(s.into()))
    }
}

/// A range of transport ports, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// Lowest port.
    pub lo: u16,
    /// Highest port.
    pub hi: u16,
}

impl PortRange {
    /// Every port (also matches packets without ports).
    pub const ANY: PortRange = PortRange {
        lo: 0,
        hi: u16::MAX,
    };

    /// One port.
    pub fn one(port: u16) -> PortRange {
        PortRange { lo: port, hi: port }
    }

    /// Whether the range is every port.
    pub fn is_any(&self) -> bool {
        *self == PortRange::ANY
    }

    /// Whether `port` matches; a packet without ports (None) matches only [`Self::ANY`].
    #[inline]
    pub fn matches(&self, port: Option<u16>) -> bool {
        match port {
            Some(p) => self.lo <= p && p <= self.hi,
            None => self.is_any(),
        }
    }
}

/// What a profile matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Match {
    /// Source address.
    pub src: AddrMatch,
    /// Destination address.
    pub dst: AddrMatch,
    /// Source port.
    pub sport: PortRange,
    /// Destination port.
    pub dport: PortRange,
    /// IP protocol / next header, or any.
    pub proto: Option<u8>,
}

impl Match {
    /// Matches everything.
    pub const ANY: Match = Match {
        src: AddrMatch::Any,
        dst: AddrMatch::Any,
        sport: PortRange::ANY,
        dport: PortRange::ANY,
        proto: None,
    };

    /// Whether a packet with these fields matches.
    #[inline]
    pub fn matches(&self, key: &FlowKey) -> bool {
        self.proto.is_none_or(|p| p == key.proto())
            && self.src.matches(key.src())
            && self.dst.matches(key.dst())
            && self.sport.matches(key.sport())
            && self.dport.matches(key.dport())
    }
}

/// The fields of a packet a profile can match.
///
/// The addresses are kept as plain aligned integers (an IPv4 address in the low 32 bits)
/// with their family beside them, not as `IpAddr`s: an `IpAddr` is a tag byte followed by
/// the address bytes, and a key built field by field and then copied whole was read back
/// in pieces of other widths than it was written in, which stalls on store forwarding on
/// every packet. [`Self::src`] and [`Self::dst`] give the `IpAddr`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    src: u128,
    dst: u128,
    src_v6: bool,
    dst_v6: bool,
    proto: u8,
    has_sport: bool,
    has_dport: bool,
    sport: u16,
    dport: u16,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst` with upper-layer protocol `proto` and its
    /// ports, if it has any.
    #[inline(always)]
    pub fn new(
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        sport: Option<u16>,
        dport: Option<u16>,
    ) -> FlowKey {
        let (src, src_v6) = bits(src);
        let (dst, dst_v6) = bits(dst);
        FlowKey {
            src,
            dst,
            src_v6,
            dst_v6,
            proto,
            has_sport: sport.is_some(),
            has_dport: dport.is_some(),
            sport: sport.unwrap_or(0),
            dport: dport.unwrap_or(0),
        }
    }

    /// The key of an IPv4 packet.
    #[inline(always)]
    pub fn v4(
        src: Ipv4Addr,
        dst: Ipv4Addr,
        proto: u8,
        sport: Option<u16>,
        dport: Option<u16>,
    ) -> FlowKey {
        FlowKey::new(IpAddr::V4(src), IpAddr::V4(dst), proto, sport, dport)
    }

    /// Source address.
    #[inline(always)]
    pub fn src(&self) -> IpAddr {
        addr(self.src, self.src_v6)
    }

    /// Destination address.
    #[inline(always)]
    pub fn dst(&self) -> IpAddr {
        addr(self.dst, self.dst_v6)
    }

    /// IP protocol / upper-layer next header.
    #[inline(always)]
    pub fn proto(&self) -> u8 {
        self.proto
    }

    /// Source port (TCP, UDP, SCTP, ...), if any.
    #[inline(always)]
    pub fn sport(&self) -> Option<u16> {
        self.has_sport.then_some(self.sport)
    }

    /// Destination port, if any.
    #[inline(always)]
    pub fn dport(&self) -> Option<u16> {
        self.has_dport.then_some(self.dport)
    }

    /// The same key with other ports.
    pub fn with_ports(self, sport: Option<u16>, dport: Option<u16>) -> FlowKey {
        FlowKey::new(self.src(), self.dst(), self.proto, sport, dport)
    }

    /// The same key with another protocol.
    pub fn with_proto(self, proto: u8) -> FlowKey {
        FlowKey { proto, ..self }
    }
}

#[inline(always)]
fn bits(a: IpAddr) -> (u128, bool) {
    match a {
        IpAddr::V4(a) => (u128::from(a.to_bits()), false),
        IpAddr::V6(a) => (a.to_bits(), true),
    }
}

#[inline(always)]
fn addr(bits: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from_bits(bits))
    } else {
        IpAddr::V4(Ipv4Addr::from_bits(bits as u32))
    }
}

/// The most transfer destinations one profile can name.
pub const MAX_TRANSFER: usize = 4;

/// Addresses a profile sends copies to (in place of a table's answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferList {
    addrs: [Option<IpAddr>; MAX_TRANSFER],
}

impl TransferList {
    /// No destinations.
    pub const EMPTY: TransferList = TransferList {
        addrs: [None; MAX_TRANSFER],
    };

    /// A list of the given destinations; None when there are more than
    /// [`MAX_TRANSFER`].
    pub fn new(addrs: &[IpAddr]) -> Option<TransferList> {
        if addrs.len() > MAX_TRANSFER {
            return None;
        }
        let mut l = TransferList::EMPTY;
        for (slot, a) in l.addrs.iter_mut().zip(addrs) {
            *slot = Some(*a);
        }
        Some(l)
    }

    /// The destinations.
    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.addrs.iter().map_while(|a| *a)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.addrs[0].is_none()
    }
}

/// What a profile does to a packet before its table is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edit {
    /// DSCP to write (0-63) into the packet's DS field, ECN bits kept; an encapsulation
    /// copies it to the outer header.
    pub dscp: Option<u8>,
    /// Strip the tunnel header and search the profiles again for the inner packet
    /// (bounded by the nesting limit).
    pub decapsulate: bool,
    /// The encapsulation method, overriding the table's (e.g. a binding's).
    pub encap: Option<Encap>,
    /// Destinations for [`TableRef::Transfer`].
    pub transfer: TransferList,
    /// Before the decapsulation and the table, hand a copy of the frame as it arrived to
    /// the control thread (rate-limited per worker), e.g. so that a new MMA learns of
    /// packets a peer MMA forwards to it. Only on the first search of a packet: after a
    /// decapsulation the frame as it arrived is gone.
    pub notify: bool,
}

impl Edit {
    /// Changes nothing.
    pub const NONE: Edit = Edit {
        dscp: None,
        decapsulate: false,
        encap: None,
        transfer: TransferList::EMPTY,
        notify: false,
    };
}

/// The table a profile hands the packet to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableRef {
    /// Mobility bindings by the destination (home agent): tunnel to the care-of
    /// addresses.
    Bindings,
    /// Visitor list by the destination (foreign agent, MAP): deliver on the link.
    Visitors,
    /// Binding cache by the destination (correspondent node, previous agent).
    BindingCache,
    /// Multicast map by the destination (MMA): re-encapsulate to the mobile's group.
    Multicast,
    /// Anycast targets by the destination: pick an online target.
    Anycast,
    /// Routes by the destination: plain forwarding.
    Routes,
    /// Tunnel copies to the profile's transfer destinations.
    Transfer,
    /// Search the profiles again (after [`Edit::decapsulate`]).
    Profiles,
    /// Hand the packet to the control thread (signalling for this node).
    Punt,
}

impl TableRef {
    /// Every table, in counter order.
    pub const ALL: [TableRef; 9] = [
        TableRef::Bindings,
        TableRef::Visitors,
        TableRef::BindingCache,
        TableRef::Multicast,
        TableRef::Anycast,
        TableRef::Routes,
        TableRef::Transfer,
        TableRef::Profiles,
        TableRef::Punt,
    ];

    /// Name used in configuration and counters.
    pub fn name(self) -> &'static str {
        match self {
            TableRef::Bindings => "bindings",
            TableRef::Visitors => "visitors",
            TableRef::BindingCache => "binding-cache",
            TableRef::Multicast => "multicast",
            TableRef::Anycast => "anycast",
            TableRef::Routes => "routes",
            TableRef::Transfer => "transfer",
            TableRef::Profiles => "profiles",
            TableRef::Punt => "punt",
        }
    }
}

impl FromStr for TableRef {
    type Err = String;

    fn from_str(s: &str) -> Result<TableRef, String> {
        TableRef::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown table `{s}`: expected one of {}",
                    TableRef::ALL.map(TableRef::name).join(", ")
                )
            })
    }
}

/// What a matched profile tells the rest of a packet's processing: the profile without
/// its match and transfer list (bar the destination match, which names the tunnel ends a
/// decapsulating profile accepts). A search copies out these few bytes, not the whole
/// profile; a transfer reads its list through [`ClassTable::get`] with the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The profile's identity.
    pub id: ProfileId,
    /// Its class.
    pub class: Class,
    /// [`Edit::dscp`].
    pub dscp: Option<u8>,
    /// [`Edit::decapsulate`].
    pub decapsulate: bool,
    /// The profile's destination match.
    pub ends: AddrMatch,
    /// [`Edit::encap`].
    pub encap: Option<Encap>,
    /// The table to consult next.
    pub table: TableRef,
    /// [`Edit::notify`].
    pub notify: bool,
}

impl Step {
    /// The step of a whole profile.
    #[inline(always)]
    pub fn of(p: &Profile) -> Step {
        Step {
            id: p.id,
            class: p.class,
            dscp: p.edit.dscp,
            decapsulate: p.edit.decapsulate,
            ends: p.matches.dst,
            encap: p.edit.encap,
            table: p.table,
            notify: p.edit.notify,
        }
    }
}

/// One service profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Profile {
    /// Identity.
    pub id: ProfileId,
    /// The class it belongs to.
    pub class: Class,
    /// What it matches.
    pub matches: Match,
    /// What it changes.
    pub edit: Edit,
    /// Where the packet goes next.
    pub table: TableRef,
}

impl Profile {
    /// Whether the profile is consistent: a transfer table with destinations (and only
    /// then), a search-again table only after decapsulation, a DSCP within 6 bits.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.edit.dscp.is_some_and(|d| d > 63) {
            return Err("dscp must be 0-63");
        }
        if (self.table == TableRef::Transfer) == self.edit.transfer.is_empty() {
            return Err("transfer destinations go with table = \"transfer\", and only with it");
        }
        if self.table == TableRef::Profiles && !self.edit.decapsulate {
            return Err("table = \"profiles\" searches again and needs decapsulate = true");
        }
        if self.edit.notify && self.table == TableRef::Punt {
            return Err("notify copies the packet to the control thread; table = \"punt\" hands it the packet itself");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn address_matches_parse_wildcards_prefixes_and_addresses() {
        assert_eq!("*".parse::<AddrMatch>().unwrap(), AddrMatch::Any);
        let w: AddrMatch = "172.27.180.*".parse().unwrap();
        assert_eq!(w, AddrMatch::Prefix("172.27.180.0/24".parse().unwrap()));
        assert!(w.matches(ip("172.27.180.9")));
        assert!(!w.matches(ip("172.27.181.9")));
        assert_eq!(
            "10.*.*.*".parse::<AddrMatch>().unwrap(),
            AddrMatch::Prefix("10.0.0.0/8".parse().unwrap())
        );
        assert!("10.*.3.*".parse::<AddrMatch>().is_err());
        assert!("10.*".parse::<AddrMatch>().is_err());
        assert!("300.*.*.*".parse::<AddrMatch>().is_err());
        assert_eq!(
            "2001:db8::/32".parse::<AddrMatch>().unwrap(),
            AddrMatch::Prefix("2001:db8::/32".parse().unwrap())
        );
        assert_eq!(
            "2001:db8::1".parse::<AddrMatch>().unwrap(),
            AddrMatch::Exact(ip("2001:db8::1"))
        );
        assert!("nonsense".parse::<AddrMatch>().is_err());
    }

    #[test]
    fn ports_and_protocol_narrow_a_match() {
        let m = Match {
            dst: AddrMatch::Exact(ip("192.0.2.10")),
            dport: PortRange { lo: 5000, hi: 5010 },
            proto: Some(17),
            ..Match::ANY
        };
        let key = FlowKey::new(
            ip("198.51.100.1"),
            ip("192.0.2.10"),
            17,
            Some(1234),
            Some(5004),
        );
        assert!(m.matches(&key));
        assert!(!m.matches(&key.with_ports(Some(1234), Some(5011))));
        assert!(!m.matches(&key.with_proto(6)));
        assert!(!m.matches(&key.with_ports(Some(1234), None)));
        assert!(Match::ANY.matches(&key.with_ports(None, None).with_proto(1)));
    }

    #[test]
    fn inconsistent_profiles_are_refused() {
        let base = Profile {
            id: ProfileId {
                session: 0,
                number: 1,
            },
            class: Class::NodeDefault,
            matches: Match::ANY,
            edit: Edit::NONE,
            table: TableRef::Routes,
        };
        assert!(base.check().is_ok());
        let bad_dscp = Profile {
            edit: Edit {
                dscp: Some(64),
                ..Edit::NONE
            },
            ..base
        };
        assert!(bad_dscp.check().is_err());
        let empty_transfer = Profile {
            table: TableRef::Transfer,
            ..base
        };
        assert!(empty_transfer.check().is_err());
        let again_without_decap = Profile {
            table: TableRef::Profiles,
            ..base
        };
        assert!(again_without_decap.check().is_err());
        let notify_punt = Profile {
            table: TableRef::Punt,
            edit: Edit {
                notify: true,
                ..Edit::NONE
            },
            ..base
        };
        assert!(notify_punt.check().is_err());
        let transfer = Profile {
            table: TableRef::Transfer,
            edit: Edit {
                transfer: TransferList::new(&[ip("192.0.2.99")]).unwrap(),
                ..Edit::NONE
            },
            ..base
        };
        assert!(transfer.check().is_ok());
        assert_eq!(transfer.edit.transfer.iter().count(), 1);
    }

    #[test]
    fn class_and_table_names_round_trip() {
        for c in Class::ALL {
            assert_eq!(c.name().parse::<Class>().unwrap(), c);
        }
        for t in TableRef::ALL {
            assert_eq!(t.name().parse::<TableRef>().unwrap(), t);
        }
        assert!("aaa".parse::<Class>().unwrap_err().contains("node-default"));
    }
}
