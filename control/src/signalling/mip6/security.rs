//! The MN-HA authenticator of RFC 4285 §5.1: the first 96 bits of HMAC-SHA1 under the
//! MN-HA shared key over `care-of address | home address | MH Data`, MH Data being the
//! Mobility Header up to and including the Mobility SPI field of the authentication
//! option, with the Checksum field taken as zero.

use std::net::Ipv6Addr;

use hmac::{Hmac, Mac};
use mipdp_dataplane::wire::mh::AuthenticatorLayout;
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Length of the authenticator: First(96, HMAC_SHA1(...)). RFC 4285 §5.1.
pub const AUTHENTICATOR_LEN: usize = 12;

/// HMAC-SHA1 over the Mobility Data of `header` (the Mobility Header bytes) as `layout`
/// places it; None when the layout does not fit the header.
fn mac(
    key: &[u8],
    care_of: Ipv6Addr,
    home: Ipv6Addr,
    header: &[u8],
    layout: &AuthenticatorLayout,
) -> Option<HmacSha1> {
    // HMAC takes a key of any length; the error case cannot happen.
    let mut mac = HmacSha1::new_from_slice(key).ok()?;
    mac.update(&care_of.octets());
    mac.update(&home.octets());
    for range in [layout.covered.clone(), layout.after.clone()] {
        let bytes = header.get(range.clone())?;
        for (i, b) in range.zip(bytes) {
            // The Checksum field counts as zero (RFC 4285 §5.1).
            let b = if layout.checksum.contains(&i) { 0 } else { *b };
            mac.update(&[b]);
        }
    }
    Some(mac)
}

/// The authenticator to write into the option `layout` locates in `header`. RFC 4285
/// §5.1.
pub fn authenticator(
    key: &[u8],
    care_of: Ipv6Addr,
    home: Ipv6Addr,
    header: &[u8],
    layout: &AuthenticatorLayout,
) -> [u8; AUTHENTICATOR_LEN] {
    let mut out = [0u8; AUTHENTICATOR_LEN];
    if let Some(m) = mac(key, care_of, home, header, layout) {
        let tag = m.finalize().into_bytes();
        out.copy_from_slice(
            tag.get(..AUTHENTICATOR_LEN)
                .unwrap_or(&[0; AUTHENTICATOR_LEN]),
        );
    }
    out
}

/// Whether the authenticator in `header` verifies under `key`, compared in constant
/// time; an authenticator of another length than 96 bits never does. RFC 4285 §5.1.
pub fn verify(
    key: &[u8],
    care_of: Ipv6Addr,
    home: Ipv6Addr,
    header: &[u8],
    layout: &AuthenticatorLayout,
) -> bool {
    let Some(tag) = header.get(layout.authenticator.clone()) else {
        return false;
    };
    if tag.len() != AUTHENTICATOR_LEN {
        return false;
    }
    mac(key, care_of, home, header, layout).is_some_and(|m| m.verify_truncated_left(tag).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_taken_as_zero_and_only_96_bits_count() {
        let key = b"0123456789abcdef";
        let coa: Ipv6Addr = "2001:db8:2::7".parse().unwrap();
        let hoa: Ipv6Addr = "2001:db8:1::10".parse().unwrap();
        let mut header = [0x11u8; 32];
        let layout = AuthenticatorLayout {
            covered: 0..20,
            checksum: 4..6,
            authenticator: 20..32,
            after: 20..20,
        };
        let tag = authenticator(key, coa, hoa, &header, &layout);
        // Independently: HMAC-SHA1 over coa | hoa | the covered bytes with a zero checksum.
        let mut m = HmacSha1::new_from_slice(key).unwrap();
        let mut covered = header[..20].to_vec();
        covered[4] = 0;
        covered[5] = 0;
        m.update(&coa.octets());
        m.update(&hoa.octets());
        m.update(&covered);
        assert_eq!(&tag[..], &m.finalize().into_bytes()[..12]);
        header[20..].copy_from_slice(&tag);
        assert!(verify(key, coa, hoa, &header, &layout));
        header[4] ^= 0xff;
        assert!(
            verify(key, coa, hoa, &header, &layout),
            "checksum is not covered"
        );
        header[7] ^= 1;
        assert!(!verify(key, coa, hoa, &header, &layout));
        header[7] ^= 1;
        assert!(
            !verify(key, hoa, coa, &header, &layout),
            "addresses are covered"
        );
        assert!(!verify(b"another key", coa, hoa, &header, &layout));
        let short = AuthenticatorLayout {
            authenticator: 20..31,
            ..layout.clone()
        };
        assert!(!verify(key, coa, hoa, &header, &short));
    }
}
