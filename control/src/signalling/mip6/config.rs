//! The Mobile IPv6 home agent's configuration: its addresses, the home prefixes it serves,
//! the longest lifetime it grants, and its MN-HA mobility security associations (RFC 4285
//! §5.1). The TOML section ([`HomeAgent6Section`], `[home_agent6]`) is checked into a
//! [`HomeAgent6Config`]; a bad entry is refused with the key, the value and what is
//! expected; `Config::plan` checks it against the rest of the file.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use mipdp_dataplane::tables::Prefix;
use serde::Deserialize;

use crate::node::Bad;
pub use crate::signalling::mip4::config::ReplyLimit;
use crate::signalling::mip4::config::{bad, key_of, spi_of};
pub use crate::signalling::mip4::config::{Key, DEFAULT_TIMESTAMP_TOLERANCE};

/// The longest lifetime a Binding Acknowledgement can carry: 0xffff units of 4 seconds.
/// RFC 6275 §6.1.8.
pub const MAX_LIFETIME_SECONDS: u32 = 0xffff * 4;

/// Unsolicited Neighbor Advertisements sent for one change at most. RFC 4861 §10, RFC 6275
/// §10.4.1.
pub const MAX_NEIGHBOR_ADVERTISEMENT: u32 = 3;

/// An MN-HA mobility security association: HMAC-SHA1 under `key`, selected by the home
/// address and the SPI, with timestamp replay protection. RFC 4285 §5.1, §6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityAssociation6 {
    /// The mobile node's home address.
    pub home_address: Ipv6Addr,
    /// Mobility SPI (≥ 256; 0–255 are reserved, RFC 4285 §5.1).
    pub spi: u32,
    /// The MN-HA shared key.
    pub key: Key,
    /// How far the Mobility Message Replay Protection timestamp may be from the home
    /// agent's clock. RFC 4285 §6 (default 7 s, SHOULD be more than 3).
    pub timestamp_tolerance: Duration,
}

/// The checked configuration of a Mobile IPv6 home agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeAgent6Config {
    /// The home agent's own unicast addresses (the destinations of Binding Updates, the
    /// sources of Binding Acknowledgements and of the tunnels).
    pub addresses: Vec<Ipv6Addr>,
    /// The home subnet prefixes whose addresses it serves. RFC 6275 §10.3.1 ("on-link
    /// with respect to the home agent's Prefix List").
    pub home_prefixes: Vec<Prefix>,
    /// The longest lifetime granted, seconds; the Binding Acknowledgement carries it in
    /// 4-second units, rounded down. RFC 6275 §6.1.8, §10.3.1.
    pub max_lifetime: u32,
    /// The most home addresses bound at once (status 130 beyond).
    pub max_bindings: usize,
    /// MN-HA mobility security associations.
    pub security_associations: Vec<SecurityAssociation6>,
    /// How the control thread runs it.
    pub operation: Operation6,
    /// Which binding updates it answers and what an accepted one installs.
    pub role: Role6,
}

/// The roles that answer Mobile IPv6 Binding Updates with the same binding logic
/// (authentication, replay protection, sequence numbers, lifetimes, acknowledgements):
/// they differ in which updates they take and what an accepted one installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role6 {
    /// Home agent: home registrations (H set), home address on a home prefix (else
    /// status 132), an IPv6-in-IPv6 binding. RFC 6275 §10.3.
    HomeAgent,
    /// HMIPv6 mobility anchor point: local binding updates (M set) binding a regional
    /// care-of address in the MAP's prefixes (else status 129) to the on-link care-of
    /// address, an IPv6-in-IPv6 binding. RFC 5380 §6.1, §10.
    MobilityAnchorPoint,
    /// Multicast mobility management agent: the binding update names the mobile's
    /// multicast group (vendor-specific option, docs/mma-registration.md); the MMA
    /// assigns a care-of address from its prefixes and installs the multicast map.
    MulticastAgent(MmaSettings),
}

impl Role6 {
    /// The configuration section the role is set up by (for error messages and logs).
    pub fn section(&self) -> &'static str {
        match self {
            Role6::HomeAgent => "home_agent6",
            Role6::MobilityAnchorPoint => "map",
            Role6::MulticastAgent(_) => "mma",
        }
    }

    /// The prefix of its counters in `mipdp ctl show stats`.
    pub fn counter_prefix(&self) -> &'static str {
        match self {
            Role6::HomeAgent => "mip6",
            Role6::MobilityAnchorPoint => "map",
            Role6::MulticastAgent(_) => "mma",
        }
    }
}

/// What only a multicast mobility management agent has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmaSettings {
    /// The longest time packets for a mobile that moved are forwarded to its new MMA
    /// (the de-registration asks for a time; it is capped to this).
    pub max_forward: Duration,
    /// The other MMAs of the site: tunnelled packets from them are forwarded packets of
    /// mobiles that moved here.
    pub peers: Vec<Ipv6Addr>,
    /// Keys shared with correspondents, for the binding updates that tell them to send
    /// to this MMA directly.
    pub correspondents: Vec<CorrespondentKey>,
    /// The least time between two binding updates to one correspondent for one home
    /// address.
    pub correspondent_interval: Duration,
    /// The lifetime those binding updates ask for, seconds.
    pub correspondent_lifetime: u32,
}

/// An MMA–correspondent key: RFC 4285-style authentication under `spi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrespondentKey {
    /// The correspondent's address.
    pub address: Ipv6Addr,
    /// The SPI the authentication option carries (≥ 256).
    pub spi: u32,
    /// The shared key.
    pub key: Key,
}

/// How the control thread runs the Mobile IPv6 home agent: what RFC 6275 leaves to the
/// implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation6 {
    /// Error Binding Acknowledgements (status 128 and above) and Binding Errors sent at
    /// most; the rest are dropped silently (RFC 6275 §9.2 / §9.3.3 ask for a limit).
    pub error_replies: ReplyLimit,
    /// Unsolicited Neighbor Advertisements sent each time a home address is taken over
    /// or given back. RFC 6275 §10.4.1: "MAY ... up to MAX_NEIGHBOR_ADVERTISEMENT times";
    /// RFC 4861 §10: 3 ([`MAX_NEIGHBOR_ADVERTISEMENT`]).
    pub neighbour_advertisements: u32,
    /// Time between them (RFC 4861 §7.2.6: RetransTimer apart, by default 1 s).
    pub neighbour_advertisement_interval: Duration,
    /// How long a Binding Acknowledgement waits for every worker to apply the binding it
    /// reports; past that it is not sent (the mobile node retransmits).
    pub reply_wait: Duration,
    /// A Binding Refresh Request is sent once per registration this long before the
    /// binding lapses (at most half its lifetime before); None: never on a timer.
    /// RFC 6275 §9.5.5, §10.4.1.
    pub refresh_before: Option<Duration>,
}

impl Default for Operation6 {
    fn default() -> Operation6 {
        Operation6 {
            error_replies: ReplyLimit::default(),
            neighbour_advertisements: default_neighbour_advertisements(),
            neighbour_advertisement_interval: Duration::from_millis(
                default_neighbour_advertisement_interval(),
            ),
            reply_wait: Duration::from_millis(default_reply_wait()),
            refresh_before: Some(Duration::from_secs(u64::from(default_refresh_before()))),
        }
    }
}

impl HomeAgent6Config {
    /// The longest lifetime granted, in the 4-second units of the Binding Update.
    pub fn max_lifetime_units(&self) -> u16 {
        u16::try_from(self.max_lifetime / 4).unwrap_or(u16::MAX)
    }
}

/// `[home_agent6]`: the Mobile IPv6 home agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeAgent6Section {
    /// The home agent's own IPv6 addresses.
    pub addresses: Vec<IpAddr>,
    /// The home subnet prefixes served, `ADDRESS/LENGTH`.
    pub home_prefixes: Vec<String>,
    /// The longest lifetime granted, seconds (4 to 262140).
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime: u32,
    /// Home addresses bound at most.
    #[serde(default = "default_max_bindings")]
    pub max_bindings: usize,
    /// `[[home_agent6.security_association]]`.
    #[serde(rename = "security_association", default)]
    pub security_associations: Vec<SecurityAssociation6Section>,
    /// Error acknowledgements and Binding Errors sent per second at most (0: none).
    #[serde(default = "default_error_rate")]
    pub error_replies_per_second: u32,
    /// And in a burst at most.
    #[serde(default = "default_error_burst")]
    pub error_reply_burst: u32,
    /// Unsolicited Neighbor Advertisements per takeover or return of a home address.
    #[serde(default = "default_neighbour_advertisements")]
    pub neighbour_advertisements: u32,
    /// Milliseconds between them.
    #[serde(default = "default_neighbour_advertisement_interval")]
    pub neighbour_advertisement_interval_ms: u64,
    /// Milliseconds a Binding Acknowledgement waits for every worker to apply the binding.
    #[serde(default = "default_reply_wait")]
    pub reply_wait_ms: u64,
    /// Seconds before a binding lapses that a Binding Refresh Request is sent (0: never).
    #[serde(default = "default_refresh_before")]
    pub binding_refresh_before_s: u32,
}

fn default_error_rate() -> u32 {
    ReplyLimit::default().per_second
}
fn default_error_burst() -> u32 {
    ReplyLimit::default().burst
}
fn default_neighbour_advertisements() -> u32 {
    3
}
fn default_neighbour_advertisement_interval() -> u64 {
    1000
}
fn default_reply_wait() -> u64 {
    1000
}
pub(crate) fn default_refresh_before() -> u32 {
    30
}

fn default_max_lifetime() -> u32 {
    1800
}
fn default_max_bindings() -> usize {
    65_536
}
fn default_algorithm() -> String {
    "hmac-sha1".into()
}
fn default_replay() -> String {
    "timestamps".into()
}
fn default_tolerance() -> u64 {
    DEFAULT_TIMESTAMP_TOLERANCE.as_secs()
}

/// `[[home_agent6.security_association]]`: one mobile node's MN-HA key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityAssociation6Section {
    /// The mobile node's home address.
    pub home_address: IpAddr,
    /// Mobility SPI, 256 or more.
    pub spi: u32,
    /// The key in hexadecimal.
    pub key: String,
    /// `hmac-sha1`, the one RFC 4285 §5.1 defines.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// `timestamps`: the Mobility Message Replay Protection option is required.
    #[serde(default = "default_replay")]
    pub replay: String,
    /// The clock difference tolerated, seconds.
    #[serde(default = "default_tolerance")]
    pub timestamp_tolerance_s: u64,
}

fn unicast6(key: &str, a: IpAddr) -> Result<Ipv6Addr, Bad> {
    match a {
        IpAddr::V6(v) if !v.is_unspecified() && !v.is_multicast() && !v.is_loopback() => Ok(v),
        _ => Err(bad(
            key,
            a,
            "a unicast IPv6 address, e.g. \"2001:db8:1::1\"",
        )),
    }
}

impl SecurityAssociation6Section {
    fn check(&self, section: &str, i: usize) -> Result<SecurityAssociation6, Bad> {
        let key = |k: &str| format!("{section}.security_association[{i}].{k}");
        if self.algorithm != "hmac-sha1" {
            return Err(bad(
                key("algorithm"),
                format!("{:?}", self.algorithm),
                "\"hmac-sha1\" (RFC 4285 §5.1 defines no other)",
            ));
        }
        if self.replay != "timestamps" {
            return Err(bad(
                key("replay"),
                format!("{:?}", self.replay),
                "\"timestamps\" (sequence numbers alone let a Binding Update captured \
                 before a deregistration be replayed after it, RFC 6275 §9.5.1)",
            ));
        }
        if self.timestamp_tolerance_s == 0 {
            return Err(bad(
                key("timestamp_tolerance_s"),
                0,
                "1 or more seconds (RFC 4285 §6: the default 7, more than 3)",
            ));
        }
        Ok(SecurityAssociation6 {
            home_address: unicast6(&key("home_address"), self.home_address)?,
            spi: spi_of(&key("spi"), self.spi)?,
            key: key_of(&key("key"), &self.key)?,
            timestamp_tolerance: Duration::from_secs(self.timestamp_tolerance_s),
        })
    }
}

impl HomeAgent6Section {
    /// Checks the section into the home agent's configuration.
    pub fn check(&self) -> Result<HomeAgent6Config, Bad> {
        self.check_as(Role6::HomeAgent, "home_prefixes")
    }

    /// Checks the section as the `[role.section()]` of `role`, whose prefixes are under
    /// the key `prefixes`: the same checks for every role, with its keys named.
    pub(crate) fn check_as(&self, role: Role6, prefixes: &str) -> Result<HomeAgent6Config, Bad> {
        let section = role.section();
        if self.addresses.is_empty() {
            return Err(bad(
                format!("{section}.addresses"),
                "[]",
                "at least one IPv6 address of the node for this role",
            ));
        }
        let addresses = self
            .addresses
            .iter()
            .enumerate()
            .map(|(i, a)| unicast6(&format!("{section}.addresses[{i}]"), *a))
            .collect::<Result<Vec<_>, _>>()?;
        if self.home_prefixes.is_empty() {
            return Err(bad(
                format!("{section}.{prefixes}"),
                "[]",
                "at least one IPv6 prefix, e.g. \"2001:db8:1::/64\"",
            ));
        }
        let home_prefixes = self
            .home_prefixes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let key = format!("{section}.{prefixes}[{i}]");
                match p.parse::<Prefix>() {
                    Ok(prefix) if prefix.addr().is_ipv6() => Ok(prefix),
                    Ok(_) => Err(bad(key, format!("{p:?}"), "an IPv6 prefix")),
                    Err(e) => Err(bad(key, format!("{p:?}"), e.to_string())),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(4..=MAX_LIFETIME_SECONDS).contains(&self.max_lifetime) {
            return Err(bad(
                format!("{section}.max_lifetime"),
                self.max_lifetime,
                format!(
                    "4 to {MAX_LIFETIME_SECONDS} seconds (the lifetime is sent in 4-second units)"
                ),
            ));
        }
        if self.max_bindings == 0 {
            return Err(bad(format!("{section}.max_bindings"), 0, "at least 1"));
        }
        let security_associations = self
            .security_associations
            .iter()
            .enumerate()
            .map(|(i, s)| s.check(section, i))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = HashSet::new();
        for (i, sa) in security_associations.iter().enumerate() {
            if !seen.insert((sa.home_address, sa.spi)) {
                return Err(bad(
                    format!("{section}.security_association[{i}].spi"),
                    sa.spi,
                    "an SPI not used by another association of the same home address",
                ));
            }
        }
        Ok(HomeAgent6Config {
            addresses,
            home_prefixes,
            max_lifetime: self.max_lifetime,
            max_bindings: self.max_bindings,
            security_associations,
            operation: self.check_operation(section)?,
            role,
        })
    }

    /// The keys that say how the control thread runs the role.
    fn check_operation(&self, section: &str) -> Result<Operation6, Bad> {
        if self.error_replies_per_second > 0 && self.error_reply_burst == 0 {
            return Err(bad(
                format!("{section}.error_reply_burst"),
                0,
                format!("at least 1 while {section}.error_replies_per_second is above 0"),
            ));
        }
        if !(1..=MAX_NEIGHBOR_ADVERTISEMENT).contains(&self.neighbour_advertisements) {
            return Err(bad(
                format!("{section}.neighbour_advertisements"),
                self.neighbour_advertisements,
                "1 to 3 (RFC 6275 §10.4.1: up to MAX_NEIGHBOR_ADVERTISEMENT, RFC 4861 §10: 3)",
            ));
        }
        if !(100..=10_000).contains(&self.neighbour_advertisement_interval_ms) {
            return Err(bad(
                format!("{section}.neighbour_advertisement_interval_ms"),
                self.neighbour_advertisement_interval_ms,
                "100 to 10000 milliseconds",
            ));
        }
        if !(10..=60_000).contains(&self.reply_wait_ms) {
            return Err(bad(
                format!("{section}.reply_wait_ms"),
                self.reply_wait_ms,
                "10 to 60000 milliseconds",
            ));
        }
        if self.binding_refresh_before_s >= self.max_lifetime {
            return Err(bad(
                format!("{section}.binding_refresh_before_s"),
                self.binding_refresh_before_s,
                format!(
                    "0 (never) or less than {section}.max_lifetime ({} s)",
                    self.max_lifetime
                ),
            ));
        }
        Ok(Operation6 {
            error_replies: ReplyLimit {
                per_second: self.error_replies_per_second,
                burst: self.error_reply_burst,
            },
            neighbour_advertisements: self.neighbour_advertisements,
            neighbour_advertisement_interval: Duration::from_millis(
                self.neighbour_advertisement_interval_ms,
            ),
            reply_wait: Duration::from_millis(self.reply_wait_ms),
            refresh_before: (self.binding_refresh_before_s > 0)
                .then(|| Duration::from_secs(u64::from(self.binding_refresh_before_s))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(extra: &str) -> Result<HomeAgent6Config, Bad> {
        let text = format!(
            "addresses = [\"2001:db8:1::1\"]\nhome_prefixes = [\"2001:db8:1::/64\"]\n{extra}"
        );
        let s: HomeAgent6Section = toml::from_str(&text).expect("toml");
        s.check()
    }

    const SA: &str = "[[security_association]]\nhome_address = \"2001:db8:1::10\"\nspi = 256\nkey = \"00112233445566778899aabbccddeeff\"\n";

    #[test]
    fn a_minimal_section_takes_the_defaults() {
        let c = section(SA).unwrap();
        assert_eq!(c.max_lifetime, 1800);
        assert_eq!(c.max_lifetime_units(), 450);
        let sa = &c.security_associations[0];
        assert_eq!(sa.timestamp_tolerance, Duration::from_secs(7));
        assert_eq!(sa.key.0.len(), 16);
        assert_eq!(
            sa.home_address,
            "2001:db8:1::10".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn bad_entries_name_their_key() {
        let cases = [
            ("max_lifetime = 3\n".to_string(), "home_agent6.max_lifetime"),
            ("max_lifetime = 262141\n".into(), "home_agent6.max_lifetime"),
            ("max_bindings = 0\n".into(), "home_agent6.max_bindings"),
            (
                SA.replace("spi = 256", "spi = 255"),
                "home_agent6.security_association[0].spi",
            ),
            (
                SA.replace("00112233", "0011223"),
                "home_agent6.security_association[0].key",
            ),
            (
                SA.replace("2001:db8:1::10", "192.0.2.10"),
                "home_agent6.security_association[0].home_address",
            ),
            (
                format!("{SA}algorithm = \"hmac-md5\"\n"),
                "home_agent6.security_association[0].algorithm",
            ),
            (
                format!("{SA}replay = \"sequence\"\n"),
                "home_agent6.security_association[0].replay",
            ),
            (
                format!("{SA}timestamp_tolerance_s = 0\n"),
                "home_agent6.security_association[0].timestamp_tolerance_s",
            ),
            (
                format!("{SA}{SA}"),
                "home_agent6.security_association[1].spi",
            ),
            (
                "error_reply_burst = 0\n".into(),
                "home_agent6.error_reply_burst",
            ),
            (
                "neighbour_advertisements = 0\n".into(),
                "home_agent6.neighbour_advertisements",
            ),
            (
                "neighbour_advertisement_interval_ms = 5\n".into(),
                "home_agent6.neighbour_advertisement_interval_ms",
            ),
            ("reply_wait_ms = 0\n".into(), "home_agent6.reply_wait_ms"),
            (
                "binding_refresh_before_s = 1800\n".into(),
                "home_agent6.binding_refresh_before_s",
            ),
        ];
        for (extra, key) in cases {
            let e = section(&extra).unwrap_err();
            assert_eq!(e.key, key, "{extra}");
        }
        let s: HomeAgent6Section =
            toml::from_str("addresses = [\"192.0.2.1\"]\nhome_prefixes = [\"2001:db8:1::/64\"]")
                .unwrap();
        assert_eq!(s.check().unwrap_err().key, "home_agent6.addresses[0]");
        let s: HomeAgent6Section =
            toml::from_str("addresses = [\"2001:db8:1::1\"]\nhome_prefixes = [\"192.0.2.0/24\"]")
                .unwrap();
        assert_eq!(s.check().unwrap_err().key, "home_agent6.home_prefixes[0]");
        let s: HomeAgent6Section =
            toml::from_str("addresses = []\nhome_prefixes = [\"2001:db8:1::/64\"]").unwrap();
        assert_eq!(s.check().unwrap_err().key, "home_agent6.addresses");
    }
}
