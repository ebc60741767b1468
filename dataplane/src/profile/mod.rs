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
use core::net::IpAddr;
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
        self.proto.is_none_or(|p| p == key.proto)
            && self.src.matches(key.src)
            && self.dst.matches(key.dst)
            && self.sport.matches(key.sport)
            && self.dport.matches(key.dport)
    }
}

/// The fields of a packet a profile can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol / upper-layer next header.
    pub proto: u8,
    /// Source port (TCP, UDP, SCTP), if any.
    pub sport: Option<u16>,
    /// Destination port, if any.
    pub dport: Option<u16>,
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
        let key = FlowKey {
            src: ip("198.51.100.1"),
            dst: ip("192.0.2.10"),
            proto: 17,
            sport: Some(1234),
            dport: Some(5004),
        };
        assert!(m.matches(&key));
        assert!(!m.matches(&FlowKey {
            dport: Some(5011),
            ..key
        }));
        assert!(!m.matches(&FlowKey { proto: 6, ..key }));
        assert!(!m.matches(&FlowKey { dport: None, ..key }));
        assert!(Match::ANY.matches(&FlowKey {
            dport: None,
            sport: None,
            proto: 1,
            ..key
        }));
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
