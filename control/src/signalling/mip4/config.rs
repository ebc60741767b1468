//! The home agent's configuration: its addresses, the home networks it serves, the limits
//! it grants, and its mobility security associations with mobile nodes and foreign
//! agents. The TOML section ([`HomeAgentSection`]) is checked into a [`HomeAgentConfig`]
//! at load time; a bad entry is refused with the key, the value and what is expected.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use mipdp_dataplane::tables::{Prefix, MAX_CARE_OF};
use serde::Deserialize;

use crate::node::Bad;

/// Default tolerance between a timestamp Identification and the home agent's clock.
/// RFC 5944 §5.7.1.
pub const DEFAULT_TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(7);

/// SPIs 0–255 are reserved and never name a mobility security association. RFC 5944
/// §1.6 ("Security Parameter Index"), §3.5.1.
pub const FIRST_SPI: u32 = 256;

/// The authentication algorithm of a mobility security association. RFC 5944 §3.5.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-MD5 (RFC 2104), the default every implementation must support; a 16-byte
    /// authenticator. RFC 5944 §3.5.1.
    HmacMd5,
}

impl Algorithm {
    /// The name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacMd5 => "hmac-md5",
        }
    }

    /// Length of its authenticator in bytes.
    pub fn authenticator_len(self) -> usize {
        match self {
            Algorithm::HmacMd5 => 16,
        }
    }
}

/// The replay protection of a mobility security association. RFC 5944 §5.7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayProtection {
    /// The Identification is an NTP timestamp that must lie within `tolerance` of the
    /// home agent's clock and exceed every one accepted before. RFC 5944 §5.7.1.
    Timestamps {
        /// How far the mobile node's clock may be from the home agent's.
        tolerance: Duration,
    },
    /// The high-order 32 bits of the Identification echo the nonce the home agent sent
    /// in its last reply. RFC 5944 §5.7.2.
    Nonces,
}

/// A shared secret; its Debug form does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(pub Vec<u8>);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({} bytes)", self.0.len())
    }
}

/// Who a mobility security association is with: the mobile node's home address, or its
/// NAI (RFC 2794) when the home address is not what identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MobileNodeId {
    /// The home address.
    HomeAddress(Ipv4Addr),
    /// The Network Access Identifier.
    Nai(Box<[u8]>),
}

/// A mobility security association between the home agent and a mobile node, selected
/// by (mobile node, SPI). RFC 5944 §1.6, §3.5.2, §5.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityAssociation {
    /// The mobile node.
    pub mobile_node: MobileNodeId,
    /// Security Parameter Index (≥ 256).
    pub spi: u32,
    /// The shared key.
    pub key: Key,
    /// The authentication algorithm.
    pub algorithm: Algorithm,
    /// The replay protection.
    pub replay: ReplayProtection,
}

/// A mobility security association between a home agent and a foreign agent (RFC 5944
/// §3.5.4), as each side lists it: the peer agent's address, SPI, key and algorithm. At
/// the home agent it makes the Foreign-Home Authentication Extension required on the
/// peer's requests and added to the replies (§3.8.2.1); at the foreign agent, added to
/// the requests it relays there and required on the replies (§3.7.2.2, §3.7.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAssociation {
    /// The peer agent's address (the IP source of its messages).
    pub address: Ipv4Addr,
    /// Security Parameter Index (≥ 256).
    pub spi: u32,
    /// The shared key.
    pub key: Key,
    /// The authentication algorithm.
    pub algorithm: Algorithm,
}

/// The home agent's association with a foreign agent.
pub type ForeignAgentAssociation = AgentAssociation;

/// The checked configuration of a Mobile IPv4 home agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeAgentConfig {
    /// The home agent's own unicast addresses (what the Home Agent field may name).
    pub addresses: Vec<Ipv4Addr>,
    /// The home networks whose addresses it serves.
    pub home_prefixes: Vec<Prefix>,
    /// The longest lifetime granted, seconds (0xffff: infinite allowed).
    pub max_lifetime: u16,
    /// The most care-of addresses one home address may hold (1: simultaneous bindings
    /// not supported). RFC 5944 §3.3 (the S bit), §3.8.2.2.
    pub max_care_of: usize,
    /// The most home addresses bound at once.
    pub max_bindings: usize,
    /// Mobility security associations with mobile nodes.
    pub security_associations: Vec<SecurityAssociation>,
    /// Mobility security associations with foreign agents.
    pub foreign_agents: Vec<ForeignAgentAssociation>,
    /// How many denials (codes 128-136) are answered: the rest are dropped silently.
    pub error_replies: ReplyLimit,
    /// Gratuitous ARPs sent each time the home agent takes over a home address or gives
    /// it back (RFC 5944 §4.6: at least one, retransmitted "a small number of times").
    pub gratuitous_arps: u32,
    /// Time between those gratuitous ARPs.
    pub gratuitous_arp_interval: Duration,
    /// How long a reply waits for every worker to apply the binding change it reports;
    /// past that it is not sent (the mobile node retransmits).
    pub reply_wait: Duration,
}

/// A token bucket for the denials the home agent answers: a flood of bogus requests
/// costs at most this many replies. RFC 5944 §3.8.3 leaves the rate to the
/// implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimit {
    /// Replies per second on average (0: denials are never answered).
    pub per_second: u32,
    /// Replies at most in a burst.
    pub burst: u32,
}

impl Default for ReplyLimit {
    fn default() -> ReplyLimit {
        ReplyLimit {
            per_second: default_error_rate(),
            burst: default_error_burst(),
        }
    }
}

/// `[home_agent]`: the Mobile IPv4 home agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeAgentSection {
    /// The home agent's own IPv4 addresses.
    pub addresses: Vec<IpAddr>,
    /// The home networks served, `ADDRESS/LENGTH`.
    pub home_prefixes: Vec<String>,
    /// The longest lifetime granted, seconds (65535: infinite).
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime: u32,
    /// Care-of addresses per home address at most (1: no simultaneous bindings).
    #[serde(default = "default_simultaneous")]
    pub simultaneous_bindings: usize,
    /// Home addresses bound at most.
    #[serde(default = "default_max_bindings")]
    pub max_bindings: usize,
    /// `[[home_agent.security_association]]`.
    #[serde(rename = "security_association", default)]
    pub security_associations: Vec<SecurityAssociationSection>,
    /// `[[home_agent.foreign_agent]]`.
    #[serde(rename = "foreign_agent", default)]
    pub foreign_agents: Vec<AgentAssociationSection>,
    /// Denials (codes 128-136) answered per second at most (0: none).
    #[serde(default = "default_error_rate")]
    pub error_replies_per_second: u32,
    /// Denials answered in a burst at most.
    #[serde(default = "default_error_burst")]
    pub error_reply_burst: u32,
    /// Gratuitous ARPs per takeover or return of a home address.
    #[serde(default = "default_gratuitous_arps")]
    pub gratuitous_arps: u32,
    /// Milliseconds between them.
    #[serde(default = "default_gratuitous_arp_interval")]
    pub gratuitous_arp_interval_ms: u64,
    /// Milliseconds a reply waits for every worker to apply the binding.
    #[serde(default = "default_reply_wait")]
    pub reply_wait_ms: u64,
}

fn default_error_rate() -> u32 {
    100
}
fn default_error_burst() -> u32 {
    20
}
fn default_gratuitous_arps() -> u32 {
    3
}
fn default_gratuitous_arp_interval() -> u64 {
    1000
}
fn default_reply_wait() -> u64 {
    1000
}
fn default_max_lifetime() -> u32 {
    1800
}
fn default_simultaneous() -> usize {
    MAX_CARE_OF
}
fn default_max_bindings() -> usize {
    65_536
}
fn default_algorithm() -> String {
    "hmac-md5".into()
}
fn default_replay() -> String {
    "timestamps".into()
}
fn default_tolerance() -> u64 {
    DEFAULT_TIMESTAMP_TOLERANCE.as_secs()
}

/// `[[home_agent.security_association]]`: one mobile node's key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityAssociationSection {
    /// The mobile node's home address (or give nai).
    pub home_address: Option<IpAddr>,
    /// The mobile node's NAI (or give home_address).
    pub nai: Option<String>,
    /// SPI, 256 or more.
    pub spi: u32,
    /// The key in hexadecimal.
    pub key: String,
    /// `hmac-md5`.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// `timestamps` or `nonces`.
    #[serde(default = "default_replay")]
    pub replay: String,
    /// With timestamps: the clock difference tolerated, seconds.
    #[serde(default = "default_tolerance")]
    pub timestamp_tolerance_s: u64,
}

/// `[[home_agent.foreign_agent]]` and `[[foreign_agent.home_agent]]`: the key shared
/// with one peer agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentAssociationSection {
    /// The peer agent's address.
    pub address: IpAddr,
    /// SPI, 256 or more.
    pub spi: u32,
    /// The key in hexadecimal.
    pub key: String,
    /// `hmac-md5`.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
}

pub(crate) fn bad(
    key: impl Into<String>,
    value: impl fmt::Display,
    expected: impl Into<String>,
) -> Bad {
    Bad {
        key: key.into(),
        value: value.to_string(),
        expected: expected.into(),
    }
}

pub(crate) fn unicast4(key: &str, a: IpAddr) -> Result<Ipv4Addr, Bad> {
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

pub(crate) fn algorithm_of(key: &str, s: &str) -> Result<Algorithm, Bad> {
    match s {
        "hmac-md5" => Ok(Algorithm::HmacMd5),
        _ => Err(bad(key, format!("{s:?}"), "\"hmac-md5\"")),
    }
}

pub(crate) fn spi_of(key: &str, spi: u32) -> Result<u32, Bad> {
    if spi < FIRST_SPI {
        return Err(bad(key, spi, "256 or more (SPIs 0-255 are reserved)"));
    }
    Ok(spi)
}

pub(crate) fn key_of(key: &str, s: &str) -> Result<Key, Bad> {
    let hex = s.trim();
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let bytes: Option<Vec<u8>> = hex
        .as_bytes()
        .chunks(2)
        .map(|p| match p {
            [h, l] => Some(digit(*h)? << 4 | digit(*l)?),
            _ => None,
        })
        .collect();
    match bytes {
        Some(b) if !b.is_empty() => Ok(Key(b)),
        _ => Err(bad(
            key,
            format!("({} characters)", s.len()),
            "the key as an even number of hexadecimal digits, e.g. 16 bytes: 32 digits",
        )),
    }
}

impl SecurityAssociationSection {
    fn check(&self, i: usize) -> Result<SecurityAssociation, Bad> {
        let key = |k: &str| format!("home_agent.security_association[{i}].{k}");
        let mobile_node = match (&self.home_address, &self.nai) {
            (Some(a), None) => MobileNodeId::HomeAddress(unicast4(&key("home_address"), *a)?),
            (None, Some(n)) if !n.is_empty() && n.len() <= 255 => {
                MobileNodeId::Nai(n.as_bytes().into())
            }
            (None, Some(n)) => return Err(bad(key("nai"), format!("{n:?}"), "1 to 255 bytes")),
            _ => {
                return Err(bad(
                    format!("home_agent.security_association[{i}]"),
                    "home_address and nai",
                    "exactly one of home_address or nai",
                ))
            }
        };
        let replay = match self.replay.as_str() {
            "timestamps" if self.timestamp_tolerance_s >= 1 => ReplayProtection::Timestamps {
                tolerance: Duration::from_secs(self.timestamp_tolerance_s),
            },
            "timestamps" => {
                return Err(bad(
                    key("timestamp_tolerance_s"),
                    self.timestamp_tolerance_s,
                    "1 or more seconds (RFC 5944 §5.7.1: the default 7, more than 3)",
                ))
            }
            "nonces" => ReplayProtection::Nonces,
            other => {
                return Err(bad(
                    key("replay"),
                    format!("{other:?}"),
                    "\"timestamps\" or \"nonces\"",
                ))
            }
        };
        Ok(SecurityAssociation {
            mobile_node,
            spi: spi_of(&key("spi"), self.spi)?,
            key: key_of(&key("key"), &self.key)?,
            algorithm: algorithm_of(&key("algorithm"), &self.algorithm)?,
            replay,
        })
    }
}

/// Checks the `[[{at}]]` entries: each on its own, and at most one per peer address.
pub(crate) fn check_associations(
    sections: &[AgentAssociationSection],
    at: &str,
) -> Result<Vec<AgentAssociation>, Bad> {
    let mut checked: Vec<AgentAssociation> = Vec::with_capacity(sections.len());
    for (i, section) in sections.iter().enumerate() {
        let a = section.check(&format!("{at}[{i}]"))?;
        if checked.iter().any(|c| c.address == a.address) {
            return Err(bad(
                format!("{at}[{i}].address"),
                a.address,
                "one association per peer agent address",
            ));
        }
        checked.push(a);
    }
    Ok(checked)
}

impl AgentAssociationSection {
    /// Checks the entry whose keys are named `{at}.<key>` in errors (e.g.
    /// `home_agent.foreign_agent[0]`).
    pub(crate) fn check(&self, at: &str) -> Result<AgentAssociation, Bad> {
        let key = |k: &str| format!("{at}.{k}");
        Ok(AgentAssociation {
            address: unicast4(&key("address"), self.address)?,
            spi: spi_of(&key("spi"), self.spi)?,
            key: key_of(&key("key"), &self.key)?,
            algorithm: algorithm_of(&key("algorithm"), &self.algorithm)?,
        })
    }
}

impl HomeAgentSection {
    /// Checks the section into the home agent's configuration.
    pub fn check(&self) -> Result<HomeAgentConfig, Bad> {
        if self.addresses.is_empty() {
            return Err(bad(
                "home_agent.addresses",
                "[]",
                "at least one IPv4 address of the home agent",
            ));
        }
        let addresses = self
            .addresses
            .iter()
            .enumerate()
            .map(|(i, a)| unicast4(&format!("home_agent.addresses[{i}]"), *a))
            .collect::<Result<Vec<_>, _>>()?;
        if self.home_prefixes.is_empty() {
            return Err(bad(
                "home_agent.home_prefixes",
                "[]",
                "at least one home network, e.g. \"192.0.2.0/24\"",
            ));
        }
        let home_prefixes = self
            .home_prefixes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let key = format!("home_agent.home_prefixes[{i}]");
                match p.parse::<Prefix>() {
                    Ok(prefix) if prefix.addr().is_ipv4() => Ok(prefix),
                    Ok(_) => Err(bad(key, format!("{p:?}"), "an IPv4 prefix")),
                    Err(e) => Err(bad(key, format!("{p:?}"), e.to_string())),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let max_lifetime = u16::try_from(self.max_lifetime)
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| {
                bad(
                    "home_agent.max_lifetime",
                    self.max_lifetime,
                    "1 to 65535 seconds (65535: infinite)",
                )
            })?;
        if !(1..=MAX_CARE_OF).contains(&self.simultaneous_bindings) {
            return Err(bad(
                "home_agent.simultaneous_bindings",
                self.simultaneous_bindings,
                format!("1 (not supported) to {MAX_CARE_OF} care-of addresses"),
            ));
        }
        if self.max_bindings == 0 {
            return Err(bad("home_agent.max_bindings", 0, "at least 1"));
        }
        let security_associations = self
            .security_associations
            .iter()
            .enumerate()
            .map(|(i, s)| s.check(i))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = HashSet::new();
        for (i, sa) in security_associations.iter().enumerate() {
            if !seen.insert((sa.mobile_node.clone(), sa.spi)) {
                return Err(bad(
                    format!("home_agent.security_association[{i}].spi"),
                    sa.spi,
                    "an SPI not used by another association of the same mobile node",
                ));
            }
        }
        let foreign_agents = check_associations(&self.foreign_agents, "home_agent.foreign_agent")?;
        let (error_replies, gratuitous_arps, gratuitous_arp_interval, reply_wait) =
            self.check_operation()?;
        Ok(HomeAgentConfig {
            addresses,
            home_prefixes,
            max_lifetime,
            max_care_of: self.simultaneous_bindings,
            max_bindings: self.max_bindings,
            security_associations,
            foreign_agents,
            error_replies,
            gratuitous_arps,
            gratuitous_arp_interval,
            reply_wait,
        })
    }

    /// The keys that say how the control thread runs the home agent.
    fn check_operation(&self) -> Result<(ReplyLimit, u32, Duration, Duration), Bad> {
        if self.error_replies_per_second > 0 && self.error_reply_burst == 0 {
            return Err(bad(
                "home_agent.error_reply_burst",
                0,
                "at least 1 while home_agent.error_replies_per_second is above 0",
            ));
        }
        if !(1..=10).contains(&self.gratuitous_arps) {
            return Err(bad(
                "home_agent.gratuitous_arps",
                self.gratuitous_arps,
                "1 to 10 (RFC 5944 §4.6: one, retransmitted a small number of times)",
            ));
        }
        if !(100..=10_000).contains(&self.gratuitous_arp_interval_ms) {
            return Err(bad(
                "home_agent.gratuitous_arp_interval_ms",
                self.gratuitous_arp_interval_ms,
                "100 to 10000 milliseconds",
            ));
        }
        if !(10..=60_000).contains(&self.reply_wait_ms) {
            return Err(bad(
                "home_agent.reply_wait_ms",
                self.reply_wait_ms,
                "10 to 60000 milliseconds",
            ));
        }
        Ok((
            ReplyLimit {
                per_second: self.error_replies_per_second,
                burst: self.error_reply_burst,
            },
            self.gratuitous_arps,
            Duration::from_millis(self.gratuitous_arp_interval_ms),
            Duration::from_millis(self.reply_wait_ms),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(extra: &str) -> Result<HomeAgentConfig, Bad> {
        let text =
            format!("addresses = [\"192.0.2.1\"]\nhome_prefixes = [\"192.0.2.0/24\"]\n{extra}");
        let s: HomeAgentSection = toml::from_str(&text).expect("toml");
        s.check()
    }

    const SA: &str = "[[security_association]]\nhome_address = \"192.0.2.10\"\nspi = 256\nkey = \"00112233445566778899aabbccddeeff\"\n";

    #[test]
    fn a_minimal_section_takes_the_defaults() {
        let c = section(SA).unwrap();
        assert_eq!(c.max_lifetime, 1800);
        assert_eq!(c.max_care_of, MAX_CARE_OF);
        let sa = &c.security_associations[0];
        assert_eq!(sa.algorithm, Algorithm::HmacMd5);
        assert_eq!(
            sa.replay,
            ReplayProtection::Timestamps {
                tolerance: Duration::from_secs(7)
            }
        );
        assert_eq!(sa.key.0.len(), 16);
        assert_eq!(format!("{:?}", sa.key), "Key(16 bytes)");
    }

    #[test]
    fn bad_entries_name_their_key() {
        let cases = [
            ("max_lifetime = 0\n".to_string(), "home_agent.max_lifetime"),
            (
                "simultaneous_bindings = 5\n".into(),
                "home_agent.simultaneous_bindings",
            ),
            (
                SA.replace("spi = 256", "spi = 255"),
                "home_agent.security_association[0].spi",
            ),
            (
                SA.replace("00112233", "0011223"),
                "home_agent.security_association[0].key",
            ),
            (
                format!("{SA}algorithm = \"md5\"\n"),
                "home_agent.security_association[0].algorithm",
            ),
            (
                format!("{SA}replay = \"counters\"\n"),
                "home_agent.security_association[0].replay",
            ),
            (
                format!("{SA}nai = \"mn@example.com\"\n"),
                "home_agent.security_association[0]",
            ),
            (
                format!("{SA}{SA}"),
                "home_agent.security_association[1].spi",
            ),
            (
                "[[foreign_agent]]\naddress = \"224.0.0.1\"\nspi = 300\nkey = \"aa\"\n".into(),
                "home_agent.foreign_agent[0].address",
            ),
            (
                "error_reply_burst = 0\n".into(),
                "home_agent.error_reply_burst",
            ),
            ("gratuitous_arps = 0\n".into(), "home_agent.gratuitous_arps"),
            (
                "gratuitous_arp_interval_ms = 5\n".into(),
                "home_agent.gratuitous_arp_interval_ms",
            ),
            ("reply_wait_ms = 0\n".into(), "home_agent.reply_wait_ms"),
        ];
        for (extra, key) in cases {
            let e = section(&extra).unwrap_err();
            assert_eq!(e.key, key, "{extra}");
        }
        let s: HomeAgentSection =
            toml::from_str("addresses = [\"2001:db8::1\"]\nhome_prefixes = [\"192.0.2.0/24\"]")
                .unwrap();
        assert_eq!(s.check().unwrap_err().key, "home_agent.addresses[0]");
        let s: HomeAgentSection =
            toml::from_str("addresses = [\"192.0.2.1\"]\nhome_prefixes = [\"2001:db8::/64\"]")
                .unwrap();
        assert_eq!(s.check().unwrap_err().key, "home_agent.home_prefixes[0]");
    }

    #[test]
    fn an_association_may_be_keyed_by_nai_with_nonces() {
        let c = section(
            "[[security_association]]\nnai = \"mn@example.com\"\nspi = 1000\nkey = \"abcd\"\nreplay = \"nonces\"\n",
        )
        .unwrap();
        let sa = &c.security_associations[0];
        assert_eq!(
            sa.mobile_node,
            MobileNodeId::Nai(b"mn@example.com"[..].into())
        );
        assert_eq!(sa.replay, ReplayProtection::Nonces);
        assert_eq!(sa.key.0, vec![0xab, 0xcd]);
    }
}
