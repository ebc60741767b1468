//! The correspondent node's configuration (`[correspondent]`): its addresses, the longest
//! lifetime it grants to bindings authorised by return routability, how many it caches,
//! how long its nonces live and how often a new one is made, and how the control thread
//! runs it. A bad entry is refused with the key, the value and what is expected;
//! `Config::plan` checks it against the rest of the file.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use serde::Deserialize;

use crate::node::Bad;
use crate::signalling::mip4::config::bad;
pub use crate::signalling::mip4::config::ReplyLimit;

/// MAX_RR_BINDING_LIFETIME: the longest lifetime of a binding authorised by return
/// routability, seconds. RFC 6275 §12.
pub const MAX_RR_BINDING_LIFETIME: u32 = 420;
/// MAX_NONCE_LIFETIME: a nonce is not accepted longer than this after it was made,
/// seconds. RFC 6275 §12, §5.2.7.
pub const MAX_NONCE_LIFETIME: u32 = 240;
/// MAX_TOKEN_LIFETIME: how long a mobile node may use a keygen token, seconds; a nonce
/// SHOULD stay acceptable at least this long after it was last handed out. RFC 6275 §12,
/// §5.2.7.
pub const MAX_TOKEN_LIFETIME: u32 = 210;

/// The checked configuration of a correspondent node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrespondentConfig {
    /// The node's own addresses that answer return routability and Binding Updates.
    pub addresses: Vec<Ipv6Addr>,
    /// The longest binding lifetime granted, seconds (at most MAX_RR_BINDING_LIFETIME).
    pub max_lifetime: u32,
    /// Binding cache entries at most (status 130 beyond). RFC 6275 §9.5.2.
    pub max_cache_entries: usize,
    /// How long a nonce is accepted after it was made (at most MAX_NONCE_LIFETIME).
    pub nonce_lifetime: Duration,
    /// How often a new nonce is made (the current one is handed out meanwhile).
    pub nonce_interval: Duration,
    /// Error Binding Acknowledgements and Binding Errors sent at most.
    pub error_replies: ReplyLimit,
    /// How long a Binding Acknowledgement waits for every worker to apply the cache
    /// change it reports; past that it is not sent.
    pub reply_wait: Duration,
}

impl CorrespondentConfig {
    /// The longest lifetime granted, in the 4-second units of the Binding Update.
    pub fn max_lifetime_units(&self) -> u16 {
        u16::try_from(self.max_lifetime / 4).unwrap_or(u16::MAX)
    }
}

/// `[correspondent]`: return routability and route optimisation (role correspondent).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrespondentSection {
    /// The node's IPv6 addresses that answer as the correspondent node.
    pub addresses: Vec<IpAddr>,
    /// The longest binding lifetime granted, seconds (4 to 420).
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime: u32,
    /// Binding cache entries at most.
    #[serde(default = "default_max_cache_entries")]
    pub max_cache_entries: usize,
    /// Seconds a nonce is accepted after it was made (1 to 240).
    #[serde(default = "default_nonce_lifetime")]
    pub nonce_lifetime_s: u32,
    /// Seconds between new nonces (less than nonce_lifetime_s).
    #[serde(default = "default_nonce_interval")]
    pub nonce_interval_s: u32,
    /// Error acknowledgements and Binding Errors sent per second at most (0: none).
    #[serde(default = "default_error_rate")]
    pub error_replies_per_second: u32,
    /// And in a burst at most.
    #[serde(default = "default_error_burst")]
    pub error_reply_burst: u32,
    /// Milliseconds a Binding Acknowledgement waits for every worker to apply the entry.
    #[serde(default = "default_reply_wait")]
    pub reply_wait_ms: u64,
}

fn default_max_lifetime() -> u32 {
    MAX_RR_BINDING_LIFETIME
}
fn default_max_cache_entries() -> usize {
    4096
}
fn default_nonce_lifetime() -> u32 {
    MAX_NONCE_LIFETIME
}
fn default_nonce_interval() -> u32 {
    // A nonce handed out at the end of its interval is still accepted MAX_TOKEN_LIFETIME
    // later: 240 − 30 = 210 (RFC 6275 §5.2.7).
    MAX_NONCE_LIFETIME - MAX_TOKEN_LIFETIME
}
fn default_error_rate() -> u32 {
    ReplyLimit::default().per_second
}
fn default_error_burst() -> u32 {
    ReplyLimit::default().burst
}
fn default_reply_wait() -> u64 {
    1000
}

impl CorrespondentSection {
    /// Checks the section into the correspondent node's configuration.
    pub fn check(&self) -> Result<CorrespondentConfig, Bad> {
        if self.addresses.is_empty() {
            return Err(bad(
                "correspondent.addresses",
                "[]",
                "at least one IPv6 address of the correspondent node",
            ));
        }
        let addresses = self
            .addresses
            .iter()
            .enumerate()
            .map(|(i, a)| match a {
                IpAddr::V6(v) if !v.is_unspecified() && !v.is_multicast() && !v.is_loopback() => {
                    Ok(*v)
                }
                _ => Err(bad(
                    format!("correspondent.addresses[{i}]"),
                    a,
                    "a unicast IPv6 address, e.g. \"2001:db8:50::1\"",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(4..=MAX_RR_BINDING_LIFETIME).contains(&self.max_lifetime) {
            return Err(bad(
                "correspondent.max_lifetime",
                self.max_lifetime,
                "4 to 420 seconds (RFC 6275 §5.2.6: MAX_RR_BINDING_LIFETIME)",
            ));
        }
        if self.max_cache_entries == 0 {
            return Err(bad("correspondent.max_cache_entries", 0, "at least 1"));
        }
        if !(1..=MAX_NONCE_LIFETIME).contains(&self.nonce_lifetime_s) {
            return Err(bad(
                "correspondent.nonce_lifetime_s",
                self.nonce_lifetime_s,
                "1 to 240 seconds (RFC 6275 §5.2.7: MAX_NONCE_LIFETIME)",
            ));
        }
        if self.nonce_interval_s == 0 || self.nonce_interval_s >= self.nonce_lifetime_s {
            return Err(bad(
                "correspondent.nonce_interval_s",
                self.nonce_interval_s,
                format!(
                    "1 to {} seconds, less than correspondent.nonce_lifetime_s (RFC 6275 §5.2.7 \
                     recommends nonce_lifetime_s − nonce_interval_s ≥ 210, MAX_TOKEN_LIFETIME)",
                    self.nonce_lifetime_s.saturating_sub(1)
                ),
            ));
        }
        if self.error_replies_per_second > 0 && self.error_reply_burst == 0 {
            return Err(bad(
                "correspondent.error_reply_burst",
                0,
                "at least 1 while correspondent.error_replies_per_second is above 0",
            ));
        }
        if !(10..=60_000).contains(&self.reply_wait_ms) {
            return Err(bad(
                "correspondent.reply_wait_ms",
                self.reply_wait_ms,
                "10 to 60000 milliseconds",
            ));
        }
        Ok(CorrespondentConfig {
            addresses,
            max_lifetime: self.max_lifetime,
            max_cache_entries: self.max_cache_entries,
            nonce_lifetime: Duration::from_secs(u64::from(self.nonce_lifetime_s)),
            nonce_interval: Duration::from_secs(u64::from(self.nonce_interval_s)),
            error_replies: ReplyLimit {
                per_second: self.error_replies_per_second,
                burst: self.error_reply_burst,
            },
            reply_wait: Duration::from_millis(self.reply_wait_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(extra: &str) -> Result<CorrespondentConfig, Bad> {
        let text = format!("addresses = [\"2001:db8:50::1\"]\n{extra}");
        let s: CorrespondentSection = toml::from_str(&text).expect("toml");
        s.check()
    }

    #[test]
    fn a_minimal_section_takes_the_rfc_defaults() {
        let c = section("").unwrap();
        assert_eq!(c.max_lifetime, 420);
        assert_eq!(c.max_lifetime_units(), 105);
        assert_eq!(c.nonce_lifetime, Duration::from_secs(240));
        assert_eq!(c.nonce_interval, Duration::from_secs(30));
        assert_eq!(c.max_cache_entries, 4096);
    }

    #[test]
    fn bad_entries_name_their_key() {
        for (extra, key) in [
            ("max_lifetime = 421\n", "correspondent.max_lifetime"),
            ("max_lifetime = 3\n", "correspondent.max_lifetime"),
            ("max_cache_entries = 0\n", "correspondent.max_cache_entries"),
            ("nonce_lifetime_s = 241\n", "correspondent.nonce_lifetime_s"),
            ("nonce_lifetime_s = 0\n", "correspondent.nonce_lifetime_s"),
            ("nonce_interval_s = 240\n", "correspondent.nonce_interval_s"),
            ("nonce_interval_s = 0\n", "correspondent.nonce_interval_s"),
            ("error_reply_burst = 0\n", "correspondent.error_reply_burst"),
            ("reply_wait_ms = 1\n", "correspondent.reply_wait_ms"),
        ] {
            assert_eq!(section(extra).unwrap_err().key, key, "{extra}");
        }
        for (text, key) in [
            ("addresses = []", "correspondent.addresses"),
            ("addresses = [\"192.0.2.1\"]", "correspondent.addresses[0]"),
            ("addresses = [\"ff02::1\"]", "correspondent.addresses[0]"),
        ] {
            let s: CorrespondentSection = toml::from_str(text).unwrap();
            assert_eq!(s.check().unwrap_err().key, key, "{text}");
        }
    }
}
