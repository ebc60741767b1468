//! The Internet checksum (RFC 1071): full computation, IPv4 and IPv6 pseudo-headers, and
//! the incremental update of RFC 1624 used when TTL or TOS is rewritten in place.

/// One's-complement sum of `data` as big-endian 16-bit words (an odd last byte is padded
/// with zero), not yet folded. Add several with [`combine`] before [`finish`].
#[inline]
pub fn sum(data: &[u8]) -> u32 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    fold64(acc)
}

#[inline]
fn fold64(mut acc: u64) -> u32 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u32
}

/// Adds partial sums.
#[inline]
pub fn combine(parts: &[u32]) -> u32 {
    fold64(parts.iter().map(|p| u64::from(*p)).sum())
}

/// Folds a partial sum and complements it: the value to put in a checksum field.
#[inline]
pub fn finish(partial: u32) -> u16 {
    !(fold64(u64::from(partial)) as u16)
}

/// The checksum of `data` alone (e.g. an IPv4 header with its checksum field zeroed).
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    finish(sum(data))
}

/// Whether `data`, checksum field included, verifies (sums to 0xffff).
#[inline]
pub fn verifies(data: &[u8]) -> bool {
    fold64(u64::from(sum(data))) == 0xffff
}

/// [`verifies`] for a 20-byte IPv4 header: its five 32-bit words summed (the one's-complement
/// sum of 16-bit words is the same in any grouping, RFC 1071 §2(B)), no loop.
#[inline(always)]
pub fn verifies20(h: &[u8; 20]) -> bool {
    let w = |i: usize| u64::from(u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]));
    let acc = w(0) + w(4) + w(8) + w(12) + w(16);
    fold64(acc) == 0xffff
}

/// Partial sum of the IPv4 pseudo-header (RFC 768, RFC 793).
#[inline]
pub fn pseudo_header_v4(src: [u8; 4], dst: [u8; 4], protocol: u8, length: u16) -> u32 {
    combine(&[sum(&src), sum(&dst), u32::from(protocol), u32::from(length)])
}

/// Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1).
#[inline]
pub fn pseudo_header_v6(src: [u8; 16], dst: [u8; 16], next_header: u8, length: u32) -> u32 {
    combine(&[
        sum(&src),
        sum(&dst),
        length >> 16,
        length & 0xffff,
        u32::from(next_header),
    ])
}

/// RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data changes
/// from `old_word` to `new_word`: HC' = ~(~HC + ~m + m').
#[inline]
pub fn update(old_checksum: u16, old_word: u16, new_word: u16) -> u16 {
    let acc = u64::from(!old_checksum) + u64::from(!old_word) + u64::from(new_word);
    !(fold64(acc) as u16)
}

/// Whether a parser verifies the checksum or leaves it to someone else (a NIC that already
/// checked it, or a test feeding hand-made bytes). RFC 1071 §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChecksumMode {
    /// Reject a checksum that does not verify with [`Error::BadChecksum`](super::Error).
    #[default]
    Verify,
    /// Accept the checksum field as it is.
    Ignore,
}

#[cfg(test)]
mod tests {
    #[test]
    fn verifies20_agrees_with_verifies() {
        proptest::proptest!(|(h in proptest::array::uniform20(proptest::num::u8::ANY))| {
            proptest::prop_assert_eq!(verifies20(&h), verifies(&h));
        });
        let mut h = [
            0x45, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 0x40, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let c = checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(verifies20(&h));
        h[3] ^= 1;
        assert!(!verifies20(&h));
    }

    use super::*;

    // RFC 1071 §3 example bytes.
    const RFC1071: [u8; 8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];

    #[test]
    fn rfc1071_example_sums_to_ddf2() {
        assert_eq!(sum(&RFC1071), 0xddf2);
        assert_eq!(checksum(&RFC1071), !0xddf2);
    }

    #[test]
    fn ipv4_header_from_a_capture_verifies() {
        // 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7 (checksum b861).
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verifies(&h));
        let mut z = h;
        z[10] = 0;
        z[11] = 0;
        assert_eq!(checksum(&z), 0xb861);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }

    #[test]
    fn incremental_update_matches_recomputation_for_every_ttl() {
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        for ttl in (1..=255u8).rev() {
            h[8] = ttl;
            h[10] = 0;
            h[11] = 0;
            let c = checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            let old = u16::from_be_bytes([h[8], h[9]]);
            let new = old - 0x0100;
            let updated = update(c, old, new);
            h[8] = ttl - 1;
            h[10] = 0;
            h[11] = 0;
            assert_eq!(updated, checksum(&h), "ttl {ttl}");
        }
    }
}
