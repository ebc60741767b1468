//! The HMIPv6 mobility anchor point's configuration (RFC 5380): `[map]`. Its binding
//! logic is the Mobile IPv6 home agent's ([`super::mip6::HomeAgent6`] in the role
//! [`Role6::MobilityAnchorPoint`]): a local binding update (M set) binds the regional
//! care-of address (RCoA, in the Home Address option, inside one of `rcoa_prefixes`) to
//! the on-link care-of address (LCoA, the source), authenticated as a home registration
//! is (RFC 4285 MN-HA style, where RFC 5380 §11 says IPsec).

use std::net::IpAddr;

use serde::Deserialize;

use crate::node::Bad;
use crate::signalling::mip6::config::{
    default_refresh_before, HomeAgent6Config, HomeAgent6Section, Role6,
    SecurityAssociation6Section, MAX_NEIGHBOR_ADVERTISEMENT,
};

/// `[map]`: the mobility anchor point.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSection {
    /// The MAP's own IPv6 addresses: local binding updates go to them, and the one an
    /// update went to is the source of the binding's tunnel.
    pub addresses: Vec<IpAddr>,
    /// The prefixes regional care-of addresses come from (RFC 5380 §6.1: the MAP's).
    pub rcoa_prefixes: Vec<String>,
    /// The longest lifetime granted, seconds.
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime: u32,
    /// RCoAs bound at most.
    #[serde(default = "default_max_bindings")]
    pub max_bindings: usize,
    /// `[[map.security_association]]`: each mobile's key, by RCoA and SPI.
    #[serde(rename = "security_association", default)]
    pub security_associations: Vec<SecurityAssociation6Section>,
    /// Error acknowledgements per second at most (0: none).
    #[serde(default = "default_error_rate")]
    pub error_replies_per_second: u32,
    /// And in a burst at most.
    #[serde(default = "default_error_burst")]
    pub error_reply_burst: u32,
    /// Milliseconds an acknowledgement waits for every worker to apply the binding.
    #[serde(default = "default_reply_wait")]
    pub reply_wait_ms: u64,
    /// Seconds before a binding lapses that a Binding Refresh Request is sent (0: never).
    #[serde(default = "default_refresh_before")]
    pub binding_refresh_before_s: u32,
}

fn default_max_lifetime() -> u32 {
    1800
}
fn default_max_bindings() -> usize {
    16_384
}
fn default_error_rate() -> u32 {
    crate::signalling::mip4::config::ReplyLimit::default().per_second
}
fn default_error_burst() -> u32 {
    crate::signalling::mip4::config::ReplyLimit::default().burst
}
fn default_reply_wait() -> u64 {
    1000
}

impl MapSection {
    /// Checks the section into the configuration of the binding logic in the MAP role.
    pub fn check(&self) -> Result<HomeAgent6Config, Bad> {
        HomeAgent6Section {
            addresses: self.addresses.clone(),
            home_prefixes: self.rcoa_prefixes.clone(),
            max_lifetime: self.max_lifetime,
            max_bindings: self.max_bindings,
            security_associations: self.security_associations.clone(),
            error_replies_per_second: self.error_replies_per_second,
            error_reply_burst: self.error_reply_burst,
            // The MAP does not announce RCoAs on a link (they are routed to it).
            neighbour_advertisements: MAX_NEIGHBOR_ADVERTISEMENT,
            neighbour_advertisement_interval_ms: 1000,
            reply_wait_ms: self.reply_wait_ms,
            binding_refresh_before_s: self.binding_refresh_before_s,
        }
        .check_as(Role6::MobilityAnchorPoint, "rcoa_prefixes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(extra: &str) -> Result<HomeAgent6Config, Bad> {
        let text = format!(
            "addresses = [\"2001:db8:aaaa::1\"]\nrcoa_prefixes = [\"2001:db8:aaaa::/64\"]\n{extra}"
        );
        let s: MapSection = toml::from_str(&text).expect("toml");
        s.check()
    }

    #[test]
    fn a_map_section_checks_into_the_map_role_with_its_own_key_names() {
        let c = section("").unwrap();
        assert_eq!(c.role, Role6::MobilityAnchorPoint);
        assert_eq!(c.home_prefixes[0].to_string(), "2001:db8:aaaa::/64");
        assert_eq!(
            section("max_lifetime = 2\n").unwrap_err().key,
            "map.max_lifetime"
        );
        let e = section(
            "[[security_association]]\nhome_address = \"2001:db8:aaaa::42\"\nspi = 7\nkey = \"00\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key, "map.security_association[0].spi");
        let s: MapSection =
            toml::from_str("addresses = [\"2001:db8:aaaa::1\"]\nrcoa_prefixes = []").unwrap();
        assert_eq!(s.check().unwrap_err().key, "map.rcoa_prefixes");
        let s: MapSection =
            toml::from_str("addresses = [\"2001:db8:aaaa::1\"]\nrcoa_prefixes = [\"10.0.0.0/8\"]")
                .unwrap();
        assert_eq!(s.check().unwrap_err().key, "map.rcoa_prefixes[0]");
    }
}
