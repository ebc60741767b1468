//! Authenticators and replay protection of Mobile IPv4 registration: HMAC-MD5 over the
//! bytes RFC 5944 §3.5.1 names, NTP timestamps (§5.7.1) and the home agent's nonces
//! (§5.7.2).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use md5::Md5;

use super::config::Algorithm;

type HmacMd5 = Hmac<Md5>;

/// The authenticator of `data` under `key`: for an authentication extension, `data` is
/// the message up to and including the extension's Type, Length and SPI. RFC 5944
/// §3.5.1.
pub fn authenticator(algorithm: Algorithm, key: &[u8], data: &[u8]) -> [u8; 16] {
    match algorithm {
        Algorithm::HmacMd5 => {
            // HMAC takes a key of any length; the error case cannot happen.
            let Ok(mut mac) = HmacMd5::new_from_slice(key) else {
                return [0; 16];
            };
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
    }
}

/// Whether `tag` is the authenticator of `data` under `key`, compared in constant time.
/// RFC 5944 §3.5.1.
pub fn verify(algorithm: Algorithm, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    match algorithm {
        Algorithm::HmacMd5 => {
            let Ok(mut mac) = HmacMd5::new_from_slice(key) else {
                return false;
            };
            mac.update(data);
            mac.verify_slice(tag).is_ok()
        }
    }
}

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// `now` as a 64-bit NTP timestamp: seconds since 1900 (modulo 2^32, the NTP era) in the
/// high-order 32 bits, the fraction of a second in the low-order 32. RFC 5944 §5.7.1;
/// RFC 5905 §6.
pub fn ntp_timestamp(now: SystemTime) -> u64 {
    let since = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let seconds = since.as_secs().wrapping_add(NTP_UNIX_OFFSET) & 0xffff_ffff;
    let fraction = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    seconds << 32 | fraction
}

/// `a - b` between two NTP timestamps, signed, so that comparisons hold across the
/// wrap of the NTP era (2036) as long as the two are within 68 years.
pub fn ntp_difference(a: u64, b: u64) -> i64 {
    a.wrapping_sub(b) as i64
}

/// A duration in NTP timestamp units (2^-32 s), saturating.
pub fn ntp_duration(d: Duration) -> i64 {
    let units =
        (u128::from(d.as_secs()) << 32) + ((u128::from(d.subsec_nanos()) << 32) / 1_000_000_000);
    i64::try_from(units).unwrap_or(i64::MAX)
}

/// The home agent's source of nonces: HMAC-MD5 of a counter under a secret key, so
/// nonces do not repeat and cannot be predicted without the key. RFC 5944 §5.7.2; RFC
/// 4086 (randomness requirements).
#[derive(Clone)]
pub struct NonceSource {
    key: [u8; 16],
    counter: u64,
}

impl std::fmt::Debug for NonceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceSource")
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

impl NonceSource {
    /// A source keyed from the operating system's randomness (the seed std draws for
    /// its hash maps).
    pub fn from_os() -> NonceSource {
        let a = RandomState::new().hash_one(0u8);
        let b = RandomState::new().hash_one(1u8);
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&a.to_be_bytes());
        key[8..].copy_from_slice(&b.to_be_bytes());
        NonceSource::with_key(key)
    }

    /// A source with a fixed key: the n-th nonce (from 0) is the first four bytes,
    /// big-endian, of HMAC-MD5(key, n as 8 bytes big-endian). For tests and vectors.
    pub fn with_key(key: [u8; 16]) -> NonceSource {
        NonceSource { key, counter: 0 }
    }

    /// The next nonce.
    pub fn next_nonce(&mut self) -> u32 {
        let tag = authenticator(Algorithm::HmacMd5, &self.key, &self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn hmac_md5_matches_rfc_2202_test_cases() {
        // RFC 2202 §2, test cases 1 and 2.
        let tag = authenticator(Algorithm::HmacMd5, &[0x0b; 16], b"Hi There");
        assert_eq!(tag.to_vec(), hex("9294727a3638bb1c13f48ef8158bfc9d"));
        let tag = authenticator(Algorithm::HmacMd5, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(tag.to_vec(), hex("750c783e6ab0b503eaa86e310a5db738"));
        assert!(verify(
            Algorithm::HmacMd5,
            b"Jefe",
            b"what do ya want for nothing?",
            &tag
        ));
        assert!(!verify(
            Algorithm::HmacMd5,
            b"Jefe",
            b"what do ya want",
            &tag
        ));
        assert!(!verify(
            Algorithm::HmacMd5,
            b"Jefe",
            b"what do ya want for nothing?",
            &tag[..15]
        ));
    }

    #[test]
    fn ntp_timestamps_count_from_1900() {
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000);
        let ntp = ntp_timestamp(t);
        assert_eq!(ntp >> 32, 1_700_000_000 + NTP_UNIX_OFFSET);
        assert_eq!(ntp & 0xffff_ffff, 0x8000_0000);
        assert_eq!(ntp_duration(Duration::from_secs(7)), 7 << 32);
    }

    #[test]
    fn ntp_differences_hold_across_the_era_wrap() {
        let before = 0xffff_fff0u64 << 32;
        let after = 0x0000_0005u64 << 32;
        assert_eq!(ntp_difference(after, before), 0x15 << 32);
        assert_eq!(ntp_difference(before, after), -(0x15 << 32));
    }

    #[test]
    fn nonces_from_a_fixed_key_repeat_per_key_and_differ_per_call() {
        let mut a = NonceSource::with_key([7; 16]);
        let mut b = NonceSource::with_key([7; 16]);
        let first = a.next_nonce();
        assert_eq!(first, b.next_nonce());
        assert_ne!(first, a.next_nonce());
        let mut os1 = NonceSource::from_os();
        let mut os2 = NonceSource::from_os();
        assert_ne!(
            (os1.next_nonce(), os1.next_nonce()),
            (os2.next_nonce(), os2.next_nonce())
        );
    }
}
