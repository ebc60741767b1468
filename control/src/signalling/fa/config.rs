//! `[foreign_agent]`: the Mobile IPv4 foreign agent's settings, checked into a
//! [`ForeignAgentConfig`] with errors that name the key. RFC 5944 §2.3, §3.7.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::Deserialize;

use crate::node::Bad;
use crate::signalling::mip4::config::{
    check_associations, AgentAssociation, AgentAssociationSection,
};
use crate::signalling::mip4::ReplyLimit;

/// Where periodic agent advertisements go. RFC 5944 §2.3.1: the all-systems multicast
/// group or the limited broadcast address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertisementDestination {
    /// 224.0.0.1.
    AllSystems,
    /// 255.255.255.255.
    Broadcast,
}

impl AdvertisementDestination {
    /// The IP destination address.
    pub fn address(self) -> Ipv4Addr {
        match self {
            AdvertisementDestination::AllSystems => Ipv4Addr::new(224, 0, 0, 1),
            AdvertisementDestination::Broadcast => Ipv4Addr::BROADCAST,
        }
    }
}

/// A visited link the foreign agent serves: its port index, the agent's own address on
/// it (the advertisement's router address and source) and the link's prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitedLink {
    /// Port index.
    pub port: u16,
    /// The foreign agent's address on the link.
    pub address: Ipv4Addr,
    /// The prefix length of the link (the Prefix-Lengths Extension, RFC 5944 §2.1.2).
    pub prefix_len: u8,
}

/// Whether the advertisement says registration is required (the R bit, RFC 5944 §2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// R set: mobiles register through this agent even with a co-located care-of address.
    Required,
    /// R clear.
    Optional,
}

/// The foreign agent's association with a home agent: the FA-HA key it adds to the
/// requests it relays there and requires on the replies (RFC 5944 §3.7.2.2, §3.7.3.1).
pub type HomeAgentAssociation = AgentAssociation;

/// The foreign agent's configuration. RFC 5944 §2.3, §3.7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignAgentConfig {
    /// The care-of addresses it offers (all the node's own, so tunnels to them end here).
    pub care_of_addresses: Vec<Ipv4Addr>,
    /// The visited links, where it advertises and takes registrations.
    pub links: Vec<VisitedLink>,
    /// Time between unsolicited advertisements on each link.
    pub advertisement_interval: Duration,
    /// The ICMP Router Advertisement Lifetime, seconds. RFC 1256 §3.1.
    pub advertisement_lifetime: u16,
    /// The longest registration lifetime accepted and advertised, seconds. RFC 5944 §2.1.1.
    pub registration_lifetime: u16,
    /// Where periodic advertisements go.
    pub destination: AdvertisementDestination,
    /// The R bit.
    pub registration: Registration,
    /// Whether advertisements carry the Prefix-Lengths Extension. RFC 5944 §2.1.2.
    pub prefix_lengths: bool,
    /// The most visitors at once (the B bit is set when full).
    pub max_visitors: usize,
    /// The most requests relayed and not yet answered.
    pub max_pending: usize,
    /// How long a relayed request waits for the home agent's reply (then 78).
    pub pending_timeout: Duration,
    /// How many denials (codes 64-88) the agent itself answers.
    pub error_replies: ReplyLimit,
    /// Advertisements in answer to solicitations.
    pub solicited_advertisements: ReplyLimit,
    /// How long a relayed reply waits for every worker to apply its visitor change.
    pub reply_wait: Duration,
    /// Mobility security associations with home agents.
    pub home_agents: Vec<HomeAgentAssociation>,
}

/// `[[foreign_agent.link]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSection {
    /// The port of the visited link (a `[[port]]` device).
    pub port: String,
    /// The foreign agent's address on it (one of node.addresses).
    pub address: IpAddr,
}

/// `[foreign_agent]`: the Mobile IPv4 foreign agent. RFC 5944 §3.7.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignAgentSection {
    /// Care-of addresses offered in the advertisements.
    pub care_of_addresses: Vec<IpAddr>,
    /// The visited links.
    #[serde(rename = "link", default)]
    pub links: Vec<LinkSection>,
    /// Milliseconds between unsolicited advertisements.
    #[serde(default = "default_interval")]
    pub advertisement_interval_ms: u64,
    /// ICMP advertisement lifetime, seconds (default: three intervals, RFC 1256 §4.1).
    pub advertisement_lifetime: Option<u16>,
    /// Longest registration lifetime accepted, seconds.
    #[serde(default = "default_registration_lifetime")]
    pub registration_lifetime: u16,
    /// `all-systems` (224.0.0.1) or `broadcast` (255.255.255.255).
    #[serde(default = "default_destination")]
    pub advertisement_destination: String,
    /// The R bit.
    #[serde(default = "default_true")]
    pub registration_required: bool,
    /// Whether to send the Prefix-Lengths Extension.
    #[serde(default)]
    pub prefix_lengths: bool,
    /// Most visitors.
    #[serde(default = "default_max")]
    pub max_visitors: usize,
    /// Most pending requests.
    #[serde(default = "default_max")]
    pub max_pending: usize,
    /// Milliseconds a relayed request waits for the reply.
    #[serde(default = "default_pending_timeout")]
    pub pending_timeout_ms: u64,
    /// Denials answered per second.
    #[serde(default = "default_error_rate")]
    pub error_replies_per_second: u32,
    /// Denials answered in a burst.
    #[serde(default = "default_error_burst")]
    pub error_reply_burst: u32,
    /// Solicited advertisements per second (RFC 5944 §2.3.1 recommends at most one a
    /// second for multicast or broadcast ones).
    #[serde(default = "default_solicited_rate")]
    pub solicited_per_second: u32,
    /// Solicited advertisements in a burst.
    #[serde(default = "default_solicited_burst")]
    pub solicited_burst: u32,
    /// Milliseconds a relayed reply waits for the workers.
    #[serde(default = "default_reply_wait")]
    pub reply_wait_ms: u64,
    /// Home agents the foreign agent shares a key with.
    #[serde(rename = "home_agent", default)]
    pub home_agents: Vec<AgentAssociationSection>,
}

fn default_interval() -> u64 {
    5000
}
fn default_registration_lifetime() -> u16 {
    1800
}
fn default_destination() -> String {
    "all-systems".into()
}
fn default_true() -> bool {
    true
}
fn default_max() -> usize {
    256
}
fn default_pending_timeout() -> u64 {
    7000
}
fn default_error_rate() -> u32 {
    100
}
fn default_error_burst() -> u32 {
    100
}
fn default_solicited_rate() -> u32 {
    1
}
fn default_solicited_burst() -> u32 {
    3
}
fn default_reply_wait() -> u64 {
    2000
}

fn bad(key: impl Into<String>, value: impl std::fmt::Display, expected: &str) -> Bad {
    Bad {
        key: key.into(),
        value: value.to_string(),
        expected: expected.into(),
    }
}

fn unicast4(key: &str, a: IpAddr) -> Result<Ipv4Addr, Bad> {
    match a {
        IpAddr::V4(v)
            if !v.is_unspecified()
                && !v.is_broadcast()
                && !v.is_multicast()
                && !v.is_loopback() =>
        {
            Ok(v)
        }
        _ => Err(bad(key, a, "a unicast IPv4 address")),
    }
}

impl ForeignAgentSection {
    /// Checks the keys that stand alone; `links` are the visited links the caller
    /// resolved from `[[foreign_agent.link]]` (port names and prefixes are the rest of
    /// the file's business).
    pub fn check(&self, links: Vec<VisitedLink>) -> Result<ForeignAgentConfig, Bad> {
        if self.care_of_addresses.is_empty() {
            return Err(bad(
                "foreign_agent.care_of_addresses",
                "[]",
                "at least one IPv4 address to offer in the advertisements",
            ));
        }
        let most = wire::MAX_CARE_OF_ADDRESSES;
        if self.care_of_addresses.len() > most {
            return Err(bad(
                "foreign_agent.care_of_addresses",
                self.care_of_addresses.len(),
                &format!("at most {most} (what one advertisement extension holds)"),
            ));
        }
        let mut care_of = Vec::new();
        for (i, a) in self.care_of_addresses.iter().enumerate() {
            care_of.push(unicast4(
                &format!("foreign_agent.care_of_addresses[{i}]"),
                *a,
            )?);
        }
        if links.is_empty() {
            return Err(bad(
                "foreign_agent.link",
                "(none)",
                "at least one [[foreign_agent.link]] with port and address: the visited link to advertise on",
            ));
        }
        if !(100..=600_000).contains(&self.advertisement_interval_ms) {
            return Err(bad(
                "foreign_agent.advertisement_interval_ms",
                self.advertisement_interval_ms,
                "100 to 600000 milliseconds",
            ));
        }
        let interval_s = self.advertisement_interval_ms.div_ceil(1000);
        let advertisement_lifetime = match self.advertisement_lifetime {
            Some(l) => l,
            None => u16::try_from((3 * interval_s).max(1)).unwrap_or(u16::MAX),
        };
        if u64::from(advertisement_lifetime) < interval_s {
            return Err(bad(
                "foreign_agent.advertisement_lifetime",
                advertisement_lifetime,
                "at least the advertisement interval in seconds (RFC 1256 §4.1: mobiles would drop the agent between advertisements)",
            ));
        }
        if self.registration_lifetime == 0 {
            return Err(bad(
                "foreign_agent.registration_lifetime",
                0,
                "1 to 65535 seconds (RFC 5944 §2.1.1: 0 is not allowed)",
            ));
        }
        let destination = match self.advertisement_destination.as_str() {
            "all-systems" => AdvertisementDestination::AllSystems,
            "broadcast" => AdvertisementDestination::Broadcast,
            other => return Err(bad(
                "foreign_agent.advertisement_destination",
                other,
                "\"all-systems\" (224.0.0.1) or \"broadcast\" (255.255.255.255), RFC 5944 §2.3.1",
            )),
        };
        for (key, v) in [
            ("foreign_agent.max_visitors", self.max_visitors),
            ("foreign_agent.max_pending", self.max_pending),
        ] {
            if !(1..=1_000_000).contains(&v) {
                return Err(bad(key, v, "1 to 1000000"));
            }
        }
        if !(100..=60_000).contains(&self.pending_timeout_ms) {
            return Err(bad(
                "foreign_agent.pending_timeout_ms",
                self.pending_timeout_ms,
                "100 to 60000 milliseconds",
            ));
        }
        if !(10..=60_000).contains(&self.reply_wait_ms) {
            return Err(bad(
                "foreign_agent.reply_wait_ms",
                self.reply_wait_ms,
                "10 to 60000 milliseconds",
            ));
        }
        for (rate_key, rate, burst_key, burst) in [
            (
                "foreign_agent.error_replies_per_second",
                self.error_replies_per_second,
                "foreign_agent.error_reply_burst",
                self.error_reply_burst,
            ),
            (
                "foreign_agent.solicited_per_second",
                self.solicited_per_second,
                "foreign_agent.solicited_burst",
                self.solicited_burst,
            ),
        ] {
            if rate > 0 && burst == 0 {
                return Err(bad(
                    burst_key,
                    0,
                    &format!("at least 1 while {rate_key} is above 0"),
                ));
            }
        }
        let home_agents = check_associations(&self.home_agents, "foreign_agent.home_agent")?;
        Ok(ForeignAgentConfig {
            home_agents,
            care_of_addresses: care_of,
            links,
            advertisement_interval: Duration::from_millis(self.advertisement_interval_ms),
            advertisement_lifetime,
            registration_lifetime: self.registration_lifetime,
            destination,
            registration: if self.registration_required {
                Registration::Required
            } else {
                Registration::Optional
            },
            prefix_lengths: self.prefix_lengths,
            max_visitors: self.max_visitors,
            max_pending: self.max_pending,
            pending_timeout: Duration::from_millis(self.pending_timeout_ms),
            error_replies: ReplyLimit {
                per_second: self.error_replies_per_second,
                burst: self.error_reply_burst,
            },
            solicited_advertisements: ReplyLimit {
                per_second: self.solicited_per_second,
                burst: self.solicited_burst,
            },
            reply_wait: Duration::from_millis(self.reply_wait_ms),
        })
    }

    /// The address of `[[foreign_agent.link]]` number `i`, checked to be unicast IPv4.
    pub fn link_address(&self, i: usize) -> Result<Ipv4Addr, Bad> {
        let link = self.links.get(i).ok_or_else(|| {
            bad(
                format!("foreign_agent.link[{i}]"),
                "(missing)",
                "a visited link",
            )
        })?;
        unicast4(&format!("foreign_agent.link[{i}].address"), link.address)
    }
}

use mipdp_dataplane::wire::mip4 as wire;

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> VisitedLink {
        VisitedLink {
            port: 0,
            address: Ipv4Addr::new(172, 16, 0, 1),
            prefix_len: 24,
        }
    }

    fn section(text: &str) -> ForeignAgentSection {
        toml::from_str(text).expect("toml")
    }

    #[test]
    fn a_minimal_section_takes_the_defaults() {
        let c = section("care_of_addresses = [\"203.0.113.1\"]\n")
            .check(vec![link()])
            .unwrap();
        assert_eq!(c.care_of_addresses, vec![Ipv4Addr::new(203, 0, 113, 1)]);
        assert_eq!(c.advertisement_interval, Duration::from_secs(5));
        assert_eq!(c.advertisement_lifetime, 15);
        assert_eq!(c.registration_lifetime, 1800);
        assert_eq!(c.destination, AdvertisementDestination::AllSystems);
        assert_eq!(c.registration, Registration::Required);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("care_of_addresses = []\n", "foreign_agent.care_of_addresses"),
            (
                "care_of_addresses = [\"224.0.0.5\"]\n",
                "foreign_agent.care_of_addresses[0]",
            ),
            (
                "care_of_addresses = [\"203.0.113.1\"]\nadvertisement_interval_ms = 5\n",
                "foreign_agent.advertisement_interval_ms",
            ),
            (
                "care_of_addresses = [\"203.0.113.1\"]\nadvertisement_lifetime = 1\nadvertisement_interval_ms = 9000\n",
                "foreign_agent.advertisement_lifetime",
            ),
            (
                "care_of_addresses = [\"203.0.113.1\"]\nregistration_lifetime = 0\n",
                "foreign_agent.registration_lifetime",
            ),
            (
                "care_of_addresses = [\"203.0.113.1\"]\nadvertisement_destination = \"subnet\"\n",
                "foreign_agent.advertisement_destination",
            ),
            (
                "care_of_addresses = [\"203.0.113.1\"]\nmax_pending = 0\n",
                "foreign_agent.max_pending",
            ),
            (
                "care_of_addresses = [\"203.0.113.1\"]\nerror_reply_burst = 0\n",
                "foreign_agent.error_reply_burst",
            ),
        ];
        for (text, key) in cases {
            let e = section(text).check(vec![link()]).unwrap_err();
            assert_eq!(e.key, key, "{text}");
        }
        let e = section("care_of_addresses = [\"203.0.113.1\"]\n")
            .check(Vec::new())
            .unwrap_err();
        assert_eq!(e.key, "foreign_agent.link");
    }
}
