//! The `[recovery]` section: how fast and how patiently the bindings restored from the
//! backup are verified after a restart. Binding-cache backup design; issue 6.

use std::time::Duration;

use serde::Deserialize;

use crate::node::{bad, Bad};

/// `[recovery]` as written in the file; every key has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySection {
    /// Verification requests per second on average.
    #[serde(default = "default_rate")]
    pub rate: u32,
    /// Requests at most in a burst.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// How long to wait for the answer to one request, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Requests sent again after the first went unanswered, before the binding is removed.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Care-of addresses in one IPv4 prefix of this length are one access network.
    #[serde(default = "default_prefix_length_v4")]
    pub prefix_length_v4: u8,
    /// Care-of addresses in one IPv6 prefix of this length are one access network.
    #[serde(default = "default_prefix_length_v6")]
    pub prefix_length_v6: u8,
}

fn default_rate() -> u32 {
    100
}
fn default_burst() -> u32 {
    10
}
fn default_timeout_ms() -> u64 {
    2000
}
fn default_retries() -> u32 {
    2
}
fn default_prefix_length_v4() -> u8 {
    24
}
fn default_prefix_length_v6() -> u8 {
    64
}

impl Default for RecoverySection {
    fn default() -> RecoverySection {
        RecoverySection {
            rate: default_rate(),
            burst: default_burst(),
            timeout_ms: default_timeout_ms(),
            retries: default_retries(),
            prefix_length_v4: default_prefix_length_v4(),
            prefix_length_v6: default_prefix_length_v6(),
        }
    }
}

/// Care-of prefix lengths that make one access network, per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixLengths {
    /// For IPv4 care-of addresses (0..=32).
    pub v4: u8,
    /// For IPv6 care-of addresses (0..=128).
    pub v6: u8,
}

/// The checked `[recovery]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverySettings {
    /// Requests per second on average (at least 1).
    pub rate: u32,
    /// Requests at most in a burst (at least 1).
    pub burst: u32,
    /// How long one request waits for its answer.
    pub timeout: Duration,
    /// Requests sent again before the binding is removed.
    pub retries: u32,
    /// Which care-of addresses share an access network.
    pub prefixes: PrefixLengths,
}

impl Default for RecoverySettings {
    fn default() -> RecoverySettings {
        RecoverySettings {
            rate: default_rate(),
            burst: default_burst(),
            timeout: Duration::from_millis(default_timeout_ms()),
            retries: default_retries(),
            prefixes: PrefixLengths {
                v4: default_prefix_length_v4(),
                v6: default_prefix_length_v6(),
            },
        }
    }
}

/// The most requests per second: beyond it the control thread's 1 ms tick cannot pace.
pub const MAX_RATE: u32 = 1_000_000;
/// The longest wait for one answer, one hour: longer and a restart would keep dead
/// bindings for most of their lifetime anyway.
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;
/// The most retries.
pub const MAX_RETRIES: u32 = 100;

impl RecoverySection {
    /// Checks the values; an error names the key and what is expected.
    pub fn check(&self) -> Result<RecoverySettings, Bad> {
        if !(1..=MAX_RATE).contains(&self.rate) {
            return Err(bad(
                "recovery.rate",
                self.rate,
                format!("between 1 and {MAX_RATE} verification requests per second"),
            ));
        }
        if !(1..=MAX_RATE).contains(&self.burst) {
            return Err(bad(
                "recovery.burst",
                self.burst,
                format!("between 1 and {MAX_RATE} requests"),
            ));
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&self.timeout_ms) {
            return Err(bad(
                "recovery.timeout_ms",
                self.timeout_ms,
                format!("between 1 and {MAX_TIMEOUT_MS} milliseconds"),
            ));
        }
        if self.retries > MAX_RETRIES {
            return Err(bad(
                "recovery.retries",
                self.retries,
                format!("at most {MAX_RETRIES}"),
            ));
        }
        if self.prefix_length_v4 > 32 {
            return Err(bad(
                "recovery.prefix_length_v4",
                self.prefix_length_v4,
                "an IPv4 prefix length, 0 to 32 (e.g. 24)",
            ));
        }
        if self.prefix_length_v6 > 128 {
            return Err(bad(
                "recovery.prefix_length_v6",
                self.prefix_length_v6,
                "an IPv6 prefix length, 0 to 128 (e.g. 64)",
            ));
        }
        Ok(RecoverySettings {
            rate: self.rate,
            burst: self.burst,
            timeout: Duration::from_millis(self.timeout_ms),
            retries: self.retries,
            prefixes: PrefixLengths {
                v4: self.prefix_length_v4,
                v6: self.prefix_length_v6,
            },
        })
    }
}
