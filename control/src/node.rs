//! The mobility node's part of the configuration: roles, addresses, tunnel settings,
//! and the static tables (routes, neighbours, bindings, visitors, binding cache,
//! multicast map, anycast, profiles) it starts with. Everything is checked and turned
//! into dataplane values at load time, so a bad entry is refused before DPDK starts, with
//! the key, the value and what is expected.

use std::net::IpAddr;

use mipdp_dataplane::profile::{
    AddrMatch, Class, Edit, Match, Policy, PortRange, Profile, ProfileId, TableRef, TransferList,
};
use mipdp_dataplane::roles;
use mipdp_dataplane::tables::{
    AnycastGroup, AnycastTarget, Binding, CacheEntry, CareOfList, Encap, MulticastEntry, Prefix,
    Route, TableLimits, TargetState, Visitor, MAX_CARE_OF,
};
use mipdp_dataplane::update::Update;
use serde::Deserialize;

use crate::config::MacAddr;

pub mod bindings_file;
pub mod multicast_file;
pub use bindings_file::BindingsFile;
pub use multicast_file::MulticastFile;

/// Profile number of the first static `[[cache]]` entry (session
/// [`roles::PER_MOBILE`]): static bindings number theirs from 0 up to this, the cache
/// entries take the 65 536 numbers after it, and registered home addresses start at
/// [`crate::registration::FIRST_PROFILE`] (1 << 24), clear of both.
pub const FIRST_STATIC_CACHE_PROFILE: u32 = (1 << 24) - (1 << 16);

/// `[node]`: what the node is and its own addresses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// Roles whose default profiles are installed: router, home-agent, foreign-agent, map,
    /// mma, correspondent, anycast.
    pub roles: Vec<String>,
    /// The node's own addresses (the first of each family is the source of tunnels the
    /// node starts itself).
    pub addresses: Vec<IpAddr>,
    /// MAP: the regional care-of prefixes it anchors.
    #[serde(default)]
    pub rcoa_prefixes: Vec<String>,
    /// MMA: the care-of prefixes it hands out.
    #[serde(default)]
    pub care_of_prefixes: Vec<String>,
    /// Anycast proxy: the anycast addresses.
    #[serde(default)]
    pub anycast_addresses: Vec<IpAddr>,
    /// Answer ARP for the home addresses the node holds bindings for.
    #[serde(default = "yes")]
    pub proxy_arp: bool,
    /// TTL / hop limit of outer headers.
    #[serde(default = "default_ttl")]
    pub outer_ttl: u8,
    /// Tunnel MTU (largest outer IP packet).
    #[serde(default = "default_mtu")]
    pub tunnel_mtu: u16,
    /// RFC 2473 Tunnel Encapsulation Limit put on IPv6 tunnels (omit for none).
    #[serde(default = "default_encap_limit")]
    pub encapsulation_limit: Option<u8>,
    /// Most tunnel headers stripped from one packet.
    #[serde(default = "default_nesting")]
    pub nesting_limit: u8,
    /// Profile class search order, e.g. "aaa-source > node-destination > node-default".
    pub policy: Option<String>,
    /// Most mobility bindings per worker (room reserved at start).
    #[serde(default = "default_bindings")]
    pub max_bindings: usize,
    /// Static bindings in bulk, one per line (see [`bindings_file`]), besides the
    /// `[[binding]]` sections; a relative name is relative to the configuration file.
    pub bindings_file: Option<std::path::PathBuf>,
    /// Most profiles per class per worker.
    #[serde(default = "default_profiles")]
    pub max_profiles: usize,
    /// Most multicast-map entries per worker (MMA: static `[[multicast]]` entries and
    /// `multicast_file` lines, and two per registered mobile).
    #[serde(default = "default_multicast")]
    pub max_multicast: usize,
    /// Static multicast-map entries in bulk, one per line (see [`multicast_file`]), besides
    /// the `[[multicast]]` sections; a relative name is relative to the configuration file.
    pub multicast_file: Option<std::path::PathBuf>,
    /// Updates a worker applies per poll at most.
    #[serde(default = "default_budget")]
    pub update_budget: usize,
    /// Updates each worker's queue holds (more wait on the control side).
    #[serde(default = "default_queue")]
    pub update_queue: usize,
    /// ICMP errors each worker sends per second at most (RFC 1812 §4.3.2.8).
    #[serde(default = "default_icmp_rate")]
    pub icmp_per_second: u32,
    /// Burst of that rate limit.
    #[serde(default = "default_icmp_burst")]
    pub icmp_burst: u32,
    /// Copies a notifying profile (`notify = true`) hands the control thread per second
    /// at most, per worker.
    #[serde(default = "default_notify_rate")]
    pub notify_per_second: u32,
    /// Burst of that rate limit.
    #[serde(default = "default_notify_burst")]
    pub notify_burst: u32,
}

fn default_notify_rate() -> u32 {
    100
}
fn default_notify_burst() -> u32 {
    20
}

fn default_icmp_rate() -> u32 {
    100
}
fn default_icmp_burst() -> u32 {
    20
}

fn yes() -> bool {
    true
}
fn default_ttl() -> u8 {
    64
}
fn default_mtu() -> u16 {
    1500
}
fn default_encap_limit() -> Option<u8> {
    Some(4)
}
fn default_nesting() -> u8 {
    4
}
fn default_bindings() -> usize {
    65_536
}
fn default_profiles() -> usize {
    65_536
}
fn default_multicast() -> usize {
    mipdp_dataplane::tables::TableLimits::default().multicast
}
fn default_budget() -> usize {
    256
}
fn default_queue() -> usize {
    65_536
}

/// `[[route]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// `ADDRESS/LENGTH`.
    pub prefix: String,
    /// The device of the port it leaves by.
    pub port: String,
    /// Next hop; none for a connected prefix.
    pub via: Option<IpAddr>,
}

/// `[[neighbour]]`: a next hop's MAC, known in advance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighbourSection {
    /// The device of the port it is on.
    pub port: String,
    /// Its address.
    pub address: IpAddr,
    /// Its MAC.
    pub mac: MacAddr,
}

/// `[[binding]]`: a static mobility binding.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingSection {
    /// Home address.
    pub home: IpAddr,
    /// Care-of addresses (several: simultaneous bindings).
    pub care_of: Vec<IpAddr>,
    /// ipip, minimal or gre.
    #[serde(default = "default_encap")]
    pub encap: String,
    /// Outer source (default: the node's first address of the care-of family; a
    /// secondary home agent gives the primary's).
    pub source: Option<IpAddr>,
    /// TOS byte to write (DSCP and ECN bits; ECN is kept).
    pub tos: Option<u8>,
}

fn default_encap() -> String {
    "ipip".into()
}

/// `[[visitor]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitorSection {
    /// The visitor's home address.
    pub home: IpAddr,
    /// Its MAC.
    pub mac: MacAddr,
    /// The device of the port it is on.
    pub port: String,
}

/// `[[cache]]`: a binding-cache entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    /// The destination (a mobile's home address).
    pub destination: IpAddr,
    /// Its care-of address.
    pub care_of: IpAddr,
    /// A tunnel method, or none for an IPv6 type 2 routing header.
    pub encap: Option<String>,
}

/// `[[multicast]]`: an MMA multicast-map entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MulticastSection {
    /// The mobile's home or care-of address.
    pub mobile: IpAddr,
    /// Its multicast group (or give new_mma).
    pub group: Option<IpAddr>,
    /// The new MMA after a handover (or give group).
    pub new_mma: Option<IpAddr>,
    /// With new_mma: forward to it for this many seconds after start, then remove the
    /// entry (the mobile's correspondents have learnt its new MMA by then).
    pub forward_for_s: Option<u64>,
    /// Tunnel method.
    #[serde(default = "default_encap")]
    pub encap: String,
}

/// `[[anycast]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnycastSection {
    /// The anycast address.
    pub address: IpAddr,
    /// Its targets.
    pub targets: Vec<AnycastTargetSection>,
}

/// One anycast target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnycastTargetSection {
    /// Unicast address.
    pub address: IpAddr,
    /// online, offline, pending, faulty or congested.
    #[serde(default = "default_state")]
    pub state: String,
}

fn default_state() -> String {
    "online".into()
}

/// `[[profile]]`: a service profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSection {
    /// Class name.
    pub class: String,
    /// Session (default 100: configured profiles).
    #[serde(default = "default_session")]
    pub session: u32,
    /// Number within the session (lower is tried first within one address).
    pub number: u32,
    /// Source match: `*`, address, prefix or wildcard.
    #[serde(default = "any")]
    pub source: String,
    /// Destination match.
    #[serde(default = "any")]
    pub destination: String,
    /// Source port or range `LO-HI`.
    pub source_port: Option<String>,
    /// Destination port or range.
    pub destination_port: Option<String>,
    /// IP protocol number.
    pub protocol: Option<u8>,
    /// DSCP to write (0-63).
    pub dscp: Option<u8>,
    /// Decapsulate first.
    #[serde(default)]
    pub decapsulate: bool,
    /// Encapsulation method override.
    pub encap: Option<String>,
    /// Transfer destinations (table = "transfer").
    #[serde(default)]
    pub transfer: Vec<IpAddr>,
    /// Hand a copy of each matching frame as it arrived to the control thread
    /// (rate-limited by `node.notify_per_second`).
    #[serde(default)]
    pub notify: bool,
    /// The table to consult.
    pub table: String,
}

fn default_session() -> u32 {
    100
}
fn any() -> String {
    "*".into()
}

/// What the configuration makes of the node: the engine's settings (ports' MACs come
/// from DPDK) and the updates that fill every worker's tables at start.
#[derive(Debug, Clone)]
pub struct NodePlan {
    /// IPv4 addresses of the node.
    pub addrs4: Vec<std::net::Ipv4Addr>,
    /// IPv6 addresses of the node.
    pub addrs6: Vec<std::net::Ipv6Addr>,
    /// Tunnel settings.
    pub tunnel: mipdp_dataplane::tunnel::TunnelSettings,
    /// Nesting limit.
    pub nesting_limit: u8,
    /// Proxy ARP for bound home addresses.
    pub proxy_arp: bool,
    /// Table sizes.
    pub limits: TableLimits,
    /// Updates a worker applies per poll.
    pub update_budget: usize,
    /// Update queue length per worker.
    pub update_queue: usize,
    /// ICMP error rate limit per worker (per second, burst).
    pub icmp: (u32, u32),
    /// Rate limit of notifying profiles' copies per worker (per second, burst).
    pub notify: (u32, u32),
    /// The start-up contents of the tables, in order.
    pub updates: Vec<Update>,
    /// `node.bindings_file`, checked: loaded after `updates`.
    pub bindings_file: Option<BindingsFile>,
    /// `node.multicast_file`, checked: loaded after the bindings file.
    pub multicast_file: Option<MulticastFile>,
    /// Updates due this long after start (e.g. the end of forwarding to a new MMA).
    pub later: Vec<(std::time::Duration, Update)>,
    /// The Mobile IPv4 home agent (`[home_agent]`), when registrations are answered.
    pub home_agent: Option<crate::signalling::mip4::HomeAgentConfig>,
    /// The Mobile IPv6 home agent (`[home_agent6]`), when binding updates are answered.
    pub home_agent6: Option<crate::signalling::mip6::HomeAgent6Config>,
    /// The HMIPv6 mobility anchor point (`[map]`), when local binding updates are.
    pub map: Option<crate::signalling::mip6::HomeAgent6Config>,
    /// The multicast mobility management agent (`[mma]`), when MMA registrations are.
    pub mma: Option<crate::signalling::mip6::HomeAgent6Config>,
    /// The correspondent node (`[correspondent]`), when return routability is answered.
    pub correspondent: Option<crate::signalling::cn::CorrespondentConfig>,
    /// The Mobile IPv4 foreign agent (`[foreign_agent]`), when it advertises and relays.
    pub foreign_agent: Option<crate::signalling::fa::ForeignAgentConfig>,
    /// How the bindings restored from the backup are verified (`[recovery]`).
    pub recovery: crate::recovery::RecoverySettings,
}

/// A configuration entry that cannot be used: key, value, what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    /// e.g. `binding[2].care_of`.
    pub key: String,
    /// The value found.
    pub value: String,
    /// What is expected.
    pub expected: String,
}

pub(crate) fn bad(
    key: impl Into<String>,
    value: impl std::fmt::Display,
    expected: impl Into<String>,
) -> Bad {
    Bad {
        key: key.into(),
        value: value.to_string(),
        expected: expected.into(),
    }
}

/// Reads the bulk file `path` of configuration key `key` (`what` its entries, for
/// messages) line by line, never whole: `parse` turns a line into an entry (None for a
/// comment or an empty line), `each` takes it with its line number. Returns how many
/// entries there were, or the first line that cannot be used (the key, its number and
/// the field) or why the file cannot be read.
pub(crate) fn read_lines<T>(
    path: &std::path::Path,
    key: &str,
    what: &str,
    mut parse: impl FnMut(&str) -> Result<Option<T>, Bad>,
    mut each: impl FnMut(usize, T),
) -> Result<usize, Bad> {
    use std::io::BufRead;
    let unreadable = |e: std::io::Error| {
        bad(
            key,
            format!("{:?}", path.display().to_string()),
            format!("a readable file of {what}: {e}"),
        )
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let (mut text, mut number, mut count) = (String::new(), 0usize, 0usize);
    loop {
        text.clear();
        if reader.read_line(&mut text).map_err(unreadable)? == 0 {
            return Ok(count);
        }
        number += 1;
        if let Some(entry) = parse(&text).map_err(|b| Bad {
            key: format!("{key} line {number}{}", b.key),
            ..b
        })? {
            each(number, entry);
            count += 1;
        }
    }
}

/// The multicast-map entry of a static entry (`[[multicast]]` or a line of
/// `node.multicast_file`), and how long after start it is removed (`forward_for_s`, only
/// with a new MMA). An error names the field ("" for the entry), the value and what is
/// expected.
pub(crate) fn static_multicast(
    group: Option<IpAddr>,
    new_mma: Option<IpAddr>,
    forward_for_s: Option<u64>,
    encap: Encap,
) -> Result<(MulticastEntry, Option<std::time::Duration>), (&'static str, String, String)> {
    let entry = match (group, new_mma) {
        (Some(g), None) => MulticastEntry::to_group(g, encap)
            .ok_or_else(|| ("group", g.to_string(), "a multicast address".to_string()))?,
        (None, Some(n)) => MulticastEntry::to_new_mma(n, encap),
        _ => {
            return Err((
                "",
                "group and new_mma".to_string(),
                "exactly one of group or new_mma".to_string(),
            ))
        }
    };
    let remove_after = match (forward_for_s, new_mma) {
        (Some(s), Some(_)) => Some(std::time::Duration::from_secs(s)),
        (Some(s), None) => {
            return Err((
                "forward_for_s",
                s.to_string(),
                "only with new_mma: how long to forward to the new MMA".to_string(),
            ))
        }
        (None, _) => None,
    };
    Ok((entry, remove_after))
}

/// The binding of a static entry (`[[binding]]` or a line of `node.bindings_file`):
/// the outer source defaults to the node's first address of the care-of addresses'
/// family. An error names the field, the value and what is expected.
pub(crate) fn static_binding(
    care_of: &[IpAddr],
    encap: Encap,
    source: Option<IpAddr>,
    tos: Option<u8>,
    addrs4: &[std::net::Ipv4Addr],
    addrs6: &[std::net::Ipv6Addr],
) -> Result<Binding, (&'static str, String, String)> {
    let (Some(list), Some(&first)) = (CareOfList::from_slice(care_of), care_of.first()) else {
        return Err((
            "care_of",
            format!("{care_of:?}"),
            format!("1 to {MAX_CARE_OF} different addresses"),
        ));
    };
    let source = match source {
        Some(s) => s,
        None => match first {
            IpAddr::V4(_) => addrs4.first().copied().map(IpAddr::V4),
            IpAddr::V6(_) => addrs6.first().copied().map(IpAddr::V6),
        }
        .ok_or_else(|| {
            (
                "source",
                "(none)".to_string(),
                "an outer source: the node has no address of the care-of address's family"
                    .to_string(),
            )
        })?,
    };
    let binding = Binding {
        care_of: list,
        encap,
        source,
        tos,
    };
    if !binding.is_valid() {
        return Err((
            "care_of",
            format!("{care_of:?} with encap {:?}", encap.name()),
            "unicast care-of addresses of the source's family that the method can reach (minimal and gre need IPv4)".to_string(),
        ));
    }
    Ok(binding)
}

/// Parses a method name.
pub fn encap_of(key: &str, name: &str) -> Result<Encap, Bad> {
    Encap::ALL
        .into_iter()
        .find(|e| e.name() == name)
        .ok_or_else(|| {
            bad(
                key,
                format!("{name:?}"),
                "one of \"ipip\", \"minimal\", \"gre\"",
            )
        })
}

fn port_of(key: &str, name: &str, devices: &[String]) -> Result<u16, Bad> {
    devices
        .iter()
        .position(|d| d == name)
        .map(|i| i as u16)
        .ok_or_else(|| {
            bad(
                key,
                format!("{name:?}"),
                format!("the device of a [[port]] section: {}", devices.join(", ")),
            )
        })
}

fn prefix_of(key: &str, s: &str) -> Result<Prefix, Bad> {
    s.parse::<Prefix>()
        .map_err(|e| bad(key, format!("{s:?}"), e.to_string()))
}

fn ports_of(key: &str, s: &Option<String>) -> Result<PortRange, Bad> {
    let Some(s) = s else {
        return Ok(PortRange::ANY);
    };
    let num = |t: &str| t.trim().parse::<u16>();
    let range = match s.split_once('-') {
        Some((lo, hi)) => num(lo).and_then(|lo| num(hi).map(|hi| PortRange { lo, hi })),
        None => num(s).map(PortRange::one),
    };
    match range {
        Ok(r) if r.lo <= r.hi => Ok(r),
        _ => Err(bad(
            key,
            format!("{s:?}"),
            "a port (0-65535) or a range LO-HI",
        )),
    }
}

fn state_of(key: &str, s: &str) -> Result<TargetState, Bad> {
    Ok(match s {
        "online" => TargetState::Online,
        "offline" => TargetState::Offline,
        "pending" => TargetState::Pending,
        "faulty" => TargetState::Faulty,
        "congested" => TargetState::Congested,
        _ => {
            return Err(bad(
                key,
                format!("{s:?}"),
                "one of online, offline, pending, faulty, congested",
            ))
        }
    })
}

/// The tables of one configuration file.
#[derive(Debug, Clone, Default)]
pub struct StaticTables<'a> {
    /// `[[route]]`.
    pub routes: &'a [RouteSection],
    /// `[[neighbour]]`.
    pub neighbours: &'a [NeighbourSection],
    /// `[[binding]]`.
    pub bindings: &'a [BindingSection],
    /// `[[visitor]]`.
    pub visitors: &'a [VisitorSection],
    /// `[[cache]]`.
    pub cache: &'a [CacheSection],
    /// `[[multicast]]`.
    pub multicast: &'a [MulticastSection],
    /// `[[anycast]]`.
    pub anycast: &'a [AnycastSection],
    /// `[[profile]]`.
    pub profiles: &'a [ProfileSection],
}

impl NodeSection {
    /// Checks the node and its tables and plans the start-up updates. `devices` are the
    /// port devices in port order.
    pub fn plan(&self, t: &StaticTables<'_>, devices: &[String]) -> Result<NodePlan, Bad> {
        let addrs4: Vec<_> = self
            .addresses
            .iter()
            .filter_map(|a| match a {
                IpAddr::V4(v) => Some(*v),
                IpAddr::V6(_) => None,
            })
            .collect();
        let addrs6: Vec<_> = self
            .addresses
            .iter()
            .filter_map(|a| match a {
                IpAddr::V6(v) => Some(*v),
                IpAddr::V4(_) => None,
            })
            .collect();
        if self.addresses.is_empty() {
            return Err(bad(
                "node.addresses",
                "[]",
                "at least one address of the node",
            ));
        }
        if self.roles.is_empty() {
            return Err(bad(
                "node.roles",
                "[]",
                "at least one of router, home-agent, foreign-agent, map, mma, correspondent, anycast",
            ));
        }
        if !(576..=9600).contains(&self.tunnel_mtu) {
            return Err(bad(
                "node.tunnel_mtu",
                self.tunnel_mtu,
                "between 576 and 9600",
            ));
        }
        if self.outer_ttl == 0 {
            return Err(bad("node.outer_ttl", 0, "1 to 255"));
        }
        if self.update_budget == 0 || self.update_queue == 0 {
            return Err(bad(
                "node.update_budget / node.update_queue",
                format!("{} / {}", self.update_budget, self.update_queue),
                "both at least 1",
            ));
        }
        let mut profiles: Vec<Profile> = Vec::new();
        for (i, role) in self.roles.iter().enumerate() {
            let key = format!("node.roles[{i}]");
            let rcoa = self
                .rcoa_prefixes
                .iter()
                .enumerate()
                .map(|(j, p)| prefix_of(&format!("node.rcoa_prefixes[{j}]"), p))
                .collect::<Result<Vec<_>, _>>()?;
            let coa = self
                .care_of_prefixes
                .iter()
                .enumerate()
                .map(|(j, p)| prefix_of(&format!("node.care_of_prefixes[{j}]"), p))
                .collect::<Result<Vec<_>, _>>()?;
            let set = match role.as_str() {
                "router" => roles::router(),
                "home-agent" => roles::home_agent(&self.addresses),
                "foreign-agent" => roles::foreign_agent(&self.addresses),
                "map" if !rcoa.is_empty() => roles::map(&self.addresses, &rcoa),
                "map" => {
                    return Err(bad(
                        "node.rcoa_prefixes",
                        "[]",
                        "the regional care-of prefixes the MAP anchors",
                    ))
                }
                "mma" => roles::mma(&self.addresses, &coa),
                "correspondent" => roles::correspondent(&self.addresses),
                "anycast" if !self.anycast_addresses.is_empty() => {
                    roles::anycast(&self.anycast_addresses)
                }
                "anycast" => {
                    return Err(bad(
                        "node.anycast_addresses",
                        "[]",
                        "the anycast addresses to proxy",
                    ))
                }
                other => return Err(bad(
                    key,
                    format!("{other:?}"),
                    "one of router, home-agent, foreign-agent, map, mma, correspondent, anycast",
                )),
            };
            for p in set {
                // Two roles may share a default (the router's, signalling): keep one.
                if !profiles.iter().any(|q| q.class == p.class && q.id == p.id) {
                    profiles.push(p);
                }
            }
        }
        let mut updates = Vec::new();
        let mut later = Vec::new();
        if let Some(policy) = &self.policy {
            let p: Policy =
                policy
                    .parse()
                    .map_err(|e: mipdp_dataplane::profile::PolicyError| {
                        bad("node.policy", format!("{policy:?}"), e.to_string())
                    })?;
            updates.push(Update::Policy(p));
        }
        for (i, r) in t.routes.iter().enumerate() {
            let prefix = prefix_of(&format!("route[{i}].prefix"), &r.prefix)?;
            let port = port_of(&format!("route[{i}].port"), &r.port, devices)?;
            if r.via
                .is_some_and(|v| v.is_ipv4() != prefix.addr().is_ipv4())
            {
                return Err(bad(
                    format!("route[{i}].via"),
                    r.via.map(|v| v.to_string()).unwrap_or_default(),
                    "a next hop of the prefix's family",
                ));
            }
            updates.push(Update::Route {
                prefix,
                route: Route {
                    port,
                    next_hop: r.via,
                },
            });
        }
        for (i, n) in t.neighbours.iter().enumerate() {
            let port = port_of(&format!("neighbour[{i}].port"), &n.port, devices)?;
            if n.mac.0[0] & 1 != 0 {
                return Err(bad(format!("neighbour[{i}].mac"), n.mac, "a unicast MAC"));
            }
            updates.push(Update::Neighbour {
                port,
                ip: n.address,
                mac: n.mac.0,
            });
        }
        for (i, b) in t.bindings.iter().enumerate() {
            let key = |k: &str| format!("binding[{i}].{k}");
            let encap = encap_of(&key("encap"), &b.encap)?;
            let binding = static_binding(&b.care_of, encap, b.source, b.tos, &addrs4, &addrs6)
                .map_err(|(field, value, expected)| bad(key(field), value, expected))?;
            updates.push(Update::Binding {
                home: b.home,
                binding,
            });
            profiles.push(roles::home_address(i as u32, b.home));
        }
        let bindings_file = match &self.bindings_file {
            Some(path) => {
                let count = bindings_file::read(path, &addrs4, &addrs6, |_, _| {})?;
                Some(BindingsFile {
                    path: path.clone(),
                    count,
                    first_number: t.bindings.len() as u32,
                })
            }
            None => None,
        };
        let file_count = bindings_file.as_ref().map_or(0, |f| f.count);
        let statics = t.bindings.len().saturating_add(file_count);
        if statics > FIRST_STATIC_CACHE_PROFILE as usize {
            return Err(bad(
                "node.bindings_file",
                format!("{statics} static bindings with the [[binding]] sections"),
                format!("at most {FIRST_STATIC_CACHE_PROFILE} static bindings"),
            ));
        }
        if t.cache.len() > 1 << 16 {
            return Err(bad(
                "cache",
                format!("{} [[cache]] sections", t.cache.len()),
                "at most 65536 static binding-cache entries",
            ));
        }
        for (i, v) in t.visitors.iter().enumerate() {
            let port = port_of(&format!("visitor[{i}].port"), &v.port, devices)?;
            updates.push(Update::Visitor {
                home: v.home,
                visitor: Visitor { mac: v.mac.0, port },
            });
        }
        for (i, c) in t.cache.iter().enumerate() {
            let encap = match &c.encap {
                Some(e) => Some(encap_of(&format!("cache[{i}].encap"), e)?),
                None => None,
            };
            if encap.is_none() && !(c.destination.is_ipv6() && c.care_of.is_ipv6()) {
                return Err(bad(
                    format!("cache[{i}].encap"),
                    "(none)",
                    "a tunnel method: a routing header needs IPv6 addresses",
                ));
            }
            updates.push(Update::CacheEntry {
                dst: c.destination,
                entry: CacheEntry {
                    care_of: c.care_of,
                    encap,
                },
            });
            profiles.push(roles::cached_destination(
                FIRST_STATIC_CACHE_PROFILE + i as u32,
                c.destination,
            ));
        }
        for (i, m) in t.multicast.iter().enumerate() {
            let encap = encap_of(&format!("multicast[{i}].encap"), &m.encap)?;
            let (entry, remove_after) =
                static_multicast(m.group, m.new_mma, m.forward_for_s, encap).map_err(
                    |(field, value, expected)| {
                        let key = match field {
                            "" => format!("multicast[{i}]"),
                            f => format!("multicast[{i}].{f}"),
                        };
                        bad(key, value, expected)
                    },
                )?;
            if let Some(after) = remove_after {
                later.push((after, Update::RemoveMulticast { key: m.mobile }));
            }
            updates.push(Update::Multicast {
                key: m.mobile,
                entry,
            });
        }
        let multicast_file = match &self.multicast_file {
            Some(path) => Some(MulticastFile {
                path: path.clone(),
                count: multicast_file::read(path, |_, _| {})?,
            }),
            None => None,
        };
        for (i, a) in t.anycast.iter().enumerate() {
            let targets = a
                .targets
                .iter()
                .enumerate()
                .map(|(j, tg)| {
                    Ok(AnycastTarget {
                        addr: tg.address,
                        state: state_of(&format!("anycast[{i}].targets[{j}].state"), &tg.state)?,
                    })
                })
                .collect::<Result<Vec<_>, Bad>>()?;
            let group = AnycastGroup::new(&targets).ok_or_else(|| {
                bad(
                    format!("anycast[{i}].targets"),
                    targets.len(),
                    "1 to 16 targets",
                )
            })?;
            updates.push(Update::Anycast {
                addr: a.address,
                group,
            });
        }
        for (i, p) in t.profiles.iter().enumerate() {
            let key = |k: &str| format!("profile[{i}].{k}");
            let class: Class = p
                .class
                .parse()
                .map_err(|e: String| bad(key("class"), format!("{:?}", p.class), e))?;
            let table: TableRef = p
                .table
                .parse()
                .map_err(|e: String| bad(key("table"), format!("{:?}", p.table), e))?;
            let addr = |k: &str, s: &str| -> Result<AddrMatch, Bad> {
                s.parse()
                    .map_err(|e: mipdp_dataplane::tables::PrefixError| {
                        bad(key(k), format!("{s:?}"), e.to_string())
                    })
            };
            let transfer = TransferList::new(&p.transfer)
                .ok_or_else(|| bad(key("transfer"), p.transfer.len(), "at most 4 destinations"))?;
            let profile = Profile {
                id: ProfileId {
                    session: p.session,
                    number: p.number,
                },
                class,
                matches: Match {
                    src: addr("source", &p.source)?,
                    dst: addr("destination", &p.destination)?,
                    sport: ports_of(&key("source_port"), &p.source_port)?,
                    dport: ports_of(&key("destination_port"), &p.destination_port)?,
                    proto: p.protocol,
                },
                edit: Edit {
                    dscp: p.dscp,
                    decapsulate: p.decapsulate,
                    encap: match &p.encap {
                        Some(e) => Some(encap_of(&key("encap"), e)?),
                        None => None,
                    },
                    transfer,
                    notify: p.notify,
                },
                table,
            };
            profile.check().map_err(|why| {
                bad(
                    format!("profile[{i}]"),
                    format!("class {} number {}", p.class, p.number),
                    why,
                )
            })?;
            if profiles
                .iter()
                .any(|q| q.class == profile.class && q.id == profile.id)
            {
                return Err(bad(
                    key("number"),
                    p.number,
                    "an id (session, number) not used by another profile of the class",
                ));
            }
            profiles.push(profile);
        }
        // The bindings file's profiles are node-destination ones, like [[binding]]'s.
        let per_class = |c: Class| {
            profiles.iter().filter(|p| p.class == c).count()
                + if c == Class::NodeDestination {
                    file_count
                } else {
                    0
                }
        };
        let most = Class::ALL.into_iter().map(per_class).max().unwrap_or(0);
        if most > self.max_profiles {
            return Err(bad(
                "node.max_profiles",
                self.max_profiles,
                format!("at least {most}, the profiles of the fullest class"),
            ));
        }
        if statics > self.max_bindings {
            return Err(bad(
                "node.max_bindings",
                self.max_bindings,
                format!(
                    "at least {statics} (the [[binding]] sections and node.bindings_file's lines)"
                ),
            ));
        }
        let multicast = t
            .multicast
            .len()
            .saturating_add(multicast_file.as_ref().map_or(0, |f| f.count));
        if multicast > self.max_multicast {
            return Err(bad(
                "node.max_multicast",
                self.max_multicast,
                format!(
                    "at least {multicast} (the [[multicast]] sections and node.multicast_file's lines)"
                ),
            ));
        }
        updates.extend(profiles.into_iter().map(Update::Profile));
        let limits = TableLimits {
            bindings: self.max_bindings,
            profiles: self.max_profiles,
            multicast: self.max_multicast,
            ..TableLimits::default()
        };
        Ok(NodePlan {
            addrs4,
            addrs6,
            tunnel: mipdp_dataplane::tunnel::TunnelSettings {
                outer_ttl: self.outer_ttl,
                path_mtu: self.tunnel_mtu,
                encapsulation_limit: self.encapsulation_limit,
            },
            nesting_limit: self.nesting_limit,
            proxy_arp: self.proxy_arp,
            limits,
            update_budget: self.update_budget,
            update_queue: self.update_queue,
            icmp: (self.icmp_per_second, self.icmp_burst),
            notify: (self.notify_per_second, self.notify_burst),
            updates,
            bindings_file,
            multicast_file,
            later,
            home_agent: None,
            home_agent6: None,
            foreign_agent: None,
            recovery: crate::recovery::RecoverySettings::default(),
            map: None,
            mma: None,
            correspondent: None,
        })
    }
}
