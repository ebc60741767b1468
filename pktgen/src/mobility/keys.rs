//! The mobiles' MN-HA keys, and the mipdp configuration sections that hold the same keys
//! (`[home_agent]` / `[home_agent6]` with one security association per mobile, and the
//! static `[[binding]]`s the data workloads tunnel by).
//!
//! Keys come from a seed, so that 10,000,000 mobiles need no table: key `m` is 16 bytes,
//! `splitmix64(seed + 2m) ‖ splitmix64(seed + 2m + 1)` (big-endian; splitmix64 as in
//! Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014). That
//! is a test-key scheme, not a key derivation function: anyone who knows the seed knows
//! every key. Or they come from a file, one hexadecimal key per line (mobile 0 first,
//! blank lines and `#` comments skipped), all of one length.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use super::build::{Tunnel, Workload, WorkloadError, WorkloadKind};
use super::plan::{AddressPlan, Family};

/// Bytes of a seed-derived key.
pub const SEED_KEY_LEN: usize = 16;
/// Longest key a key file may hold.
pub const MAX_KEY_LEN: usize = 64;

/// Where the keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    /// Derived from a seed (see the module documentation).
    Seed(u64),
    /// Read from a file: `count` keys of `key_len` bytes each, back to back.
    File {
        /// The keys.
        bytes: Vec<u8>,
        /// Bytes per key.
        key_len: usize,
    },
}

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// It cannot be read.
    #[error("cannot read the key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// A line is not an even number of hex digits, or is longer than [`MAX_KEY_LEN`]
    /// bytes, or differs in length from the first.
    #[error("{path} line {line}: {why}")]
    Line {
        /// The file.
        path: String,
        /// The line number (from 1).
        line: usize,
        /// What is wrong.
        why: String,
    },
}

/// SplitMix64's output function applied to `x` (the state after its increment).
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Key `m` derived from `seed`.
pub fn seed_key(seed: u64, m: u32) -> [u8; SEED_KEY_LEN] {
    let base = seed.wrapping_add(2 * u64::from(m));
    let mut k = [0u8; SEED_KEY_LEN];
    k[..8].copy_from_slice(&splitmix64(base).to_be_bytes());
    k[8..].copy_from_slice(&splitmix64(base.wrapping_add(1)).to_be_bytes());
    k
}

impl Keys {
    /// Reads a key file.
    pub fn from_file(path: &Path) -> Result<Keys, KeyFileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
            path: name.clone(),
            source,
        })?;
        let mut bytes = Vec::new();
        let mut key_len = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: String| KeyFileError::Line {
                path: name.clone(),
                line: n + 1,
                why,
            };
            let key = parse_hex(line).ok_or_else(|| {
                bad("expected a key as hexadecimal digits (an even number of them)".into())
            })?;
            if key.is_empty() || key.len() > MAX_KEY_LEN {
                return Err(bad(format!("a key is 1..={MAX_KEY_LEN} bytes")));
            }
            if key_len == 0 {
                key_len = key.len();
            } else if key.len() != key_len {
                return Err(bad(format!(
                    "every key must be as long as the first ({key_len} bytes)"
                )));
            }
            bytes.extend_from_slice(&key);
        }
        Ok(Keys::File { bytes, key_len })
    }

    /// Checks there is a key for each of `mobiles` mobiles.
    pub fn check(&self, mobiles: u32) -> Result<(), WorkloadError> {
        match self {
            Keys::Seed(_) => Ok(()),
            Keys::File { bytes, key_len } => {
                let keys = bytes.len().checked_div(*key_len).unwrap_or(0);
                if keys < mobiles as usize {
                    Err(WorkloadError::Keys { keys, mobiles })
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Calls `f` with mobile `m`'s key (no allocation). A file shorter than `m` keys
    /// (which [`check`](Self::check) refuses) gives an empty key.
    #[inline]
    pub fn with_key<R>(&self, m: u32, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Keys::Seed(seed) => f(&seed_key(*seed, m)),
            Keys::File { bytes, key_len } => {
                let at = m as usize * key_len;
                f(bytes.get(at..at + key_len).unwrap_or(&[]))
            }
        }
    }

    /// Mobile `m`'s key in hexadecimal, as mipdp's configuration takes it.
    pub fn hex(&self, m: u32) -> String {
        self.with_key(m, |k| {
            k.iter()
                .fold(String::with_capacity(2 * k.len()), |mut s, b| {
                    let _ = write!(s, "{b:02x}");
                    s
                })
        })
    }
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// The shortest IPv4 prefix holding `first..=first + count - 1`, as `ADDRESS/LENGTH`.
fn covering_prefix4(first: u32, count: u32) -> String {
    let last = first.wrapping_add(count.saturating_sub(1));
    let len = (first ^ last).leading_zeros();
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    format!("{}/{len}", std::net::Ipv4Addr::from_bits(first & mask))
}

/// The shortest IPv6 prefix holding `first..=first + count - 1`, as `ADDRESS/LENGTH`.
fn covering_prefix6(first: u128, count: u32) -> String {
    let last = first.wrapping_add(u128::from(count.saturating_sub(1)));
    let len = (first ^ last).leading_zeros();
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    format!("{}/{len}", std::net::Ipv6Addr::from_bits(first & mask))
}

/// Writes what mipdp's configuration needs to answer `workload`: for the requests, the
/// `[home_agent]` (MIPv4) or `[home_agent6]` (MIPv6) section and one security association
/// per signalling mobile with the same keys, SPI and algorithm (HMAC-MD5, RFC 5944
/// §3.5.1; HMAC-SHA1, RFC 4285 §5.1) and timestamp replay protection; for the data of
/// `cn-to-home` and `malformed`, one static `[[binding]]` per mobile from its home
/// address to its first care-of address, tunnelled by `binding_tunnel` (`encap`, written
/// when not the default ipip; `handover` registers its mobiles itself), and
/// the same RCoA → LCoA bindings for a MAP (`encapsulated` in `ip6ip6` with `--family
/// 6`). The
/// `[dataplane]`, `[node]`, `[[port]]`, `[[route]]` and `[[neighbour]]` sections are the
/// user's.
pub fn write_mipdp_sections(w: &mut impl Write, workload: &Workload) -> io::Result<()> {
    let plan = &workload.plan;
    let n = plan.mobiles;
    writeln!(
        w,
        "# Written by mipdp-pktgen for --workload {} --mobiles {n}.",
        workload.name()
    )?;
    if workload.needs_keys() {
        match workload.signalling_family() {
            Family::V4 => write_home_agent(w, workload, plan)?,
            Family::V6 => write_home_agent6(w, workload, plan)?,
        }
    }
    // A MAP (IPv6 in IPv6 to its address) re-encapsulates by RCoA → LCoA bindings, which
    // are the plan's home → care-of addresses (RFC 5380 §6.1).
    let map = workload.kind == WorkloadKind::Encapsulated
        && workload.send_tunnel == Tunnel::Ip6ip6
        && workload.family == Family::V6;
    let data = map
        || matches!(
            workload.kind,
            WorkloadKind::CnToHome | WorkloadKind::Malformed
        );
    if data {
        for i in 0..n {
            let (home, care_of) = match workload.family {
                Family::V4 => (plan.home4(i).to_string(), plan.care_of4(i, 0).to_string()),
                Family::V6 => (plan.home6(i).to_string(), plan.care_of6(i, 0).to_string()),
            };
            write!(
                w,
                "\n[[binding]]\nhome = \"{home}\"\ncare_of = [\"{care_of}\"]\n"
            )?;
            if workload.binding_tunnel != Tunnel::Ipip {
                writeln!(w, "encap = \"{}\"", workload.binding_tunnel.name())?;
            }
        }
    }
    Ok(())
}

fn write_home_agent(w: &mut impl Write, workload: &Workload, plan: &AddressPlan) -> io::Result<()> {
    let mobiles = workload.signalling_mobiles();
    let n = mobiles.end;
    write!(
        w,
        "\n[home_agent]\naddresses = [\"{}\"]\nhome_prefixes = [\"{}\"]\n\
         max_lifetime = {}\nmax_bindings = {n}\n",
        plan.agent4,
        covering_prefix4(plan.home4.to_bits(), n),
        workload.lifetime_s,
    )?;
    for m in mobiles {
        write!(
            w,
            "\n[[home_agent.security_association]]\nhome_address = \"{}\"\nspi = {}\n\
             key = \"{}\"\nalgorithm = \"hmac-md5\"\nreplay = \"timestamps\"\n",
            plan.home4(m),
            workload.spi,
            workload.keys.hex(m)
        )?;
    }
    Ok(())
}

fn write_home_agent6(
    w: &mut impl Write,
    workload: &Workload,
    plan: &AddressPlan,
) -> io::Result<()> {
    let mobiles = workload.signalling_mobiles();
    let n = mobiles.end;
    write!(
        w,
        "\n[home_agent6]\naddresses = [\"{}\"]\nhome_prefixes = [\"{}\"]\n\
         max_lifetime = {}\nmax_bindings = {n}\n",
        plan.agent6,
        covering_prefix6(plan.home6.to_bits(), n),
        u32::from(workload.lifetime_s.div_ceil(4)) * 4,
    )?;
    for m in mobiles {
        write!(
            w,
            "\n[[home_agent6.security_association]]\nhome_address = \"{}\"\nspi = {}\n\
             key = \"{}\"\nalgorithm = \"hmac-sha1\"\nreplay = \"timestamps\"\n",
            plan.home6(m),
            workload.spi,
            workload.keys.hex(m)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_keys_are_distinct_and_reproducible() {
        // The first splitmix64 output for state 0 (the reference implementation's
        // well-known value 0xe220a8397b1dcdaf).
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        let k0 = seed_key(7, 0);
        assert_eq!(k0, seed_key(7, 0));
        assert_ne!(k0, seed_key(7, 1));
        assert_ne!(k0, seed_key(8, 0));
        assert_eq!(Keys::Seed(7).hex(0).len(), 32);
    }

    #[test]
    fn key_files_are_read_line_by_line_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keys");
        std::fs::write(&p, "# keys\n00112233\n\naabbccdd\n").unwrap();
        let keys = Keys::from_file(&p).unwrap();
        assert_eq!(keys.hex(1), "aabbccdd");
        assert!(keys.check(2).is_ok());
        assert!(matches!(
            keys.check(3),
            Err(WorkloadError::Keys {
                keys: 2,
                mobiles: 3
            })
        ));
        std::fs::write(&p, "0011\n001122\n").unwrap();
        let e = Keys::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        std::fs::write(&p, "xyz0\n").unwrap();
        assert!(Keys::from_file(&p).is_err());
    }

    #[test]
    fn covering_prefixes_hold_the_whole_range() {
        assert_eq!(covering_prefix4(0x0a00_0000, 1), "10.0.0.0/32");
        assert_eq!(covering_prefix4(0x0a00_0000, 256), "10.0.0.0/24");
        assert_eq!(covering_prefix4(0x0a00_00ff, 2), "10.0.0.0/23");
        assert_eq!(covering_prefix4(0x0a00_0000, 10_000_000), "10.0.0.0/8");
        assert_eq!(
            covering_prefix6(0x2001_0db8_0100_0000_0000_0000_0000_0001, 16),
            "2001:db8:100::/123"
        );
    }
}
