//! The correspondent node's secrets and the cryptography of return routability (RFC 6275
//! §5.2.3–§5.2.6): the node key Kcn, the nonces, the home and care-of keygen tokens, the
//! binding management key Kbm and the Binding Authorization Data authenticator.

use std::io::Read;
use std::net::Ipv6Addr;

use hmac::{Hmac, Mac};
use mipdp_dataplane::wire::mh::AuthenticatorLayout;
use sha1::{Digest, Sha1};

type HmacSha1 = Hmac<Sha1>;

/// Length of Kcn: RFC 6275 §5.2.3 ("a secret key Kcn ... 20 octets").
pub const KCN_LEN: usize = 20;
/// Length of a keygen token: First(64, ...). RFC 6275 §5.2.5.
pub const TOKEN_LEN: usize = 8;
/// Length of a nonce (RFC 6275 §5.2.3 leaves it to the implementation; 64 bits).
pub const NONCE_LEN: usize = 8;
/// Length of Kbm: a SHA-1 digest. RFC 6275 §5.2.5.
pub const KBM_LEN: usize = 20;
/// Length of the authenticator: First(96, HMAC_SHA1(...)). RFC 6275 §6.2.7.
pub const AUTHENTICATOR_LEN: usize = 12;

/// Which keygen token: the last octet of the token's MAC input. RFC 6275 §5.2.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// Home keygen token (0).
    Home = 0,
    /// Care-of keygen token (1).
    CareOf = 1,
}

/// The correspondent node's secrets: Kcn, and the key its nonces are drawn from.
#[derive(Clone)]
pub struct Secrets {
    /// Kcn. RFC 6275 §5.2.3.
    kcn: [u8; KCN_LEN],
    /// The n-th nonce is First(64, HMAC_SHA1(nonce key, n as 8 octets big-endian)): nonces
    /// that never repeat and that nobody without this key can predict (RFC 4086), drawn
    /// without a system call per nonce.
    nonce_key: [u8; KCN_LEN],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

impl Secrets {
    /// Kcn and the nonce key from the operating system's randomness (`/dev/urandom`),
    /// once at start-up. RFC 6275 §5.2.3: Kcn is generated with a good random number
    /// generator at start.
    pub fn from_os() -> std::io::Result<Secrets> {
        let mut bytes = [0u8; 2 * KCN_LEN];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        let (mut kcn, mut nonce_key) = ([0u8; KCN_LEN], [0u8; KCN_LEN]);
        kcn.copy_from_slice(&bytes[..KCN_LEN]);
        nonce_key.copy_from_slice(&bytes[KCN_LEN..]);
        Ok(Secrets { kcn, nonce_key })
    }

    /// [`from_os`](Self::from_os), or, if `/dev/urandom` cannot be read (a sandbox
    /// without /dev), keys hashed by std's randomly keyed SipHash (its keys come from the
    /// operating system too), with a warning.
    pub fn generate() -> Secrets {
        match Secrets::from_os() {
            Ok(s) => s,
            Err(e) => {
                use std::hash::BuildHasher;
                log::warn!(
                    "/dev/urandom: {e}; the correspondent node's Kcn and nonce key come from std's hash seed"
                );
                let mut bytes = [0u8; 2 * KCN_LEN];
                for (i, chunk) in bytes.chunks_mut(8).enumerate() {
                    let v = std::collections::hash_map::RandomState::new().hash_one(i);
                    chunk.copy_from_slice(&v.to_be_bytes()[..chunk.len()]);
                }
                let (mut kcn, mut nonce_key) = ([0u8; KCN_LEN], [0u8; KCN_LEN]);
                kcn.copy_from_slice(&bytes[..KCN_LEN]);
                nonce_key.copy_from_slice(&bytes[KCN_LEN..]);
                Secrets { kcn, nonce_key }
            }
        }
    }

    /// Fixed secrets, for tests and golden vectors.
    pub fn fixed(kcn: [u8; KCN_LEN], nonce_key: [u8; KCN_LEN]) -> Secrets {
        Secrets { kcn, nonce_key }
    }

    /// The `n`-th nonce (from 0).
    pub fn nonce(&self, n: u64) -> [u8; NONCE_LEN] {
        first(&hmac_sha1(&self.nonce_key, &[&n.to_be_bytes()]))
    }

    /// A keygen token: First(64, HMAC_SHA1(Kcn, (address | nonce | 0 or 1))). RFC 6275
    /// §5.2.5.
    pub fn keygen_token(
        &self,
        address: Ipv6Addr,
        nonce: &[u8; NONCE_LEN],
        which: Token,
    ) -> [u8; TOKEN_LEN] {
        first(&hmac_sha1(
            &self.kcn,
            &[&address.octets(), nonce, &[which as u8]],
        ))
    }
}

/// Kbm = SHA1(home keygen token | care-of keygen token), or SHA1(home keygen token)
/// when the Binding Update deletes a binding (no care-of token). RFC 6275 §5.2.5.
pub fn kbm(home: &[u8; TOKEN_LEN], care_of: Option<&[u8; TOKEN_LEN]>) -> [u8; KBM_LEN] {
    let mut h = Sha1::new();
    h.update(home);
    if let Some(c) = care_of {
        h.update(c);
    }
    h.finalize().into()
}

/// HMAC-SHA1 of the concatenation of `parts` under `key`.
fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    // HMAC takes a key of any length: new_from_slice cannot fail.
    let Ok(mut mac) = HmacSha1::new_from_slice(key) else {
        return [0; 20];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn first<const N: usize>(digest: &[u8; 20]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&digest[..N]);
    out
}

/// The MAC input of the Binding Authorization Data option: `care-of address |
/// correspondent | MH Data`, MH Data being the Mobility Header without the authenticator,
/// its Checksum taken as zero. None when the layout does not fit the header.
fn authorization_mac(
    kbm: &[u8; KBM_LEN],
    care_of: Ipv6Addr,
    correspondent: Ipv6Addr,
    header: &[u8],
    layout: &AuthenticatorLayout,
) -> Option<HmacSha1> {
    let mut mac = HmacSha1::new_from_slice(kbm).ok()?;
    mac.update(&care_of.octets());
    mac.update(&correspondent.octets());
    for range in [layout.covered.clone(), layout.after.clone()] {
        let bytes = header.get(range.clone())?;
        for (i, b) in range.zip(bytes) {
            let b = if layout.checksum.contains(&i) { 0 } else { *b };
            mac.update(&[b]);
        }
    }
    Some(mac)
}

/// The authenticator to write into the Binding Authorization Data option `layout`
/// locates in `header`: First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH
/// Data)). RFC 6275 §6.2.7.
pub fn authenticator(
    kbm: &[u8; KBM_LEN],
    care_of: Ipv6Addr,
    correspondent: Ipv6Addr,
    header: &[u8],
    layout: &AuthenticatorLayout,
) -> [u8; AUTHENTICATOR_LEN] {
    let mut out = [0u8; AUTHENTICATOR_LEN];
    if let Some(m) = authorization_mac(kbm, care_of, correspondent, header, layout) {
        out.copy_from_slice(&m.finalize().into_bytes()[..AUTHENTICATOR_LEN]);
    }
    out
}

/// Whether the Binding Authorization Data authenticator in `header` verifies under
/// `kbm`, compared in constant time. RFC 6275 §6.2.7, §9.5.1.
pub fn verify(
    kbm: &[u8; KBM_LEN],
    care_of: Ipv6Addr,
    correspondent: Ipv6Addr,
    header: &[u8],
    layout: &AuthenticatorLayout,
) -> bool {
    let Some(tag) = header.get(layout.authenticator.clone()) else {
        return false;
    };
    if tag.len() != AUTHENTICATOR_LEN {
        return false;
    }
    authorization_mac(kbm, care_of, correspondent, header, layout)
        .is_some_and(|m| m.verify_truncated_left(tag).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_kbm_follow_the_rfc_formulas() {
        let s = Secrets::fixed([7; KCN_LEN], [9; KCN_LEN]);
        let home: Ipv6Addr = "2001:db8:1::100".parse().unwrap();
        let nonce = s.nonce(0);
        assert_ne!(nonce, s.nonce(1));
        let t = s.keygen_token(home, &nonce, Token::Home);
        let mut m = HmacSha1::new_from_slice(&[7; KCN_LEN]).unwrap();
        m.update(&home.octets());
        m.update(&nonce);
        m.update(&[0]);
        assert_eq!(t[..], m.finalize().into_bytes()[..8]);
        assert_ne!(t, s.keygen_token(home, &nonce, Token::CareOf));
        let c = s.keygen_token(home, &nonce, Token::CareOf);
        let mut both = t.to_vec();
        both.extend_from_slice(&c);
        assert_eq!(kbm(&t, Some(&c))[..], Sha1::digest(&both)[..]);
        assert_eq!(kbm(&t, None)[..], Sha1::digest(t)[..]);
    }

    #[test]
    fn the_authenticator_covers_addresses_and_data_but_not_the_checksum() {
        let k = [3u8; KBM_LEN];
        let coa: Ipv6Addr = "2001:db8:99::7".parse().unwrap();
        let cn: Ipv6Addr = "2001:db8:50::1".parse().unwrap();
        let mut header = [0x22u8; 32];
        let layout = AuthenticatorLayout {
            covered: 0..20,
            checksum: 4..6,
            authenticator: 20..32,
            after: 32..32,
        };
        let tag = authenticator(&k, coa, cn, &header, &layout);
        header[20..].copy_from_slice(&tag);
        assert!(verify(&k, coa, cn, &header, &layout));
        header[5] ^= 0xff;
        assert!(verify(&k, coa, cn, &header, &layout));
        header[8] ^= 1;
        assert!(!verify(&k, coa, cn, &header, &layout));
        header[8] ^= 1;
        assert!(!verify(&k, cn, coa, &header, &layout));
        assert!(!verify(&[4; KBM_LEN], coa, cn, &header, &layout));
    }
}
