//! ECN across a tunnel, RFC 6040: the normal mode on encapsulation (§4.1) and the
//! decapsulation table (§4.2, Figure 4).

/// ECN codepoints (RFC 3168 §5).
pub mod codepoint {
    /// Not ECN-Capable Transport.
    pub const NOT_ECT: u8 = 0b00;
    /// ECN-Capable Transport (1).
    pub const ECT1: u8 = 0b01;
    /// ECN-Capable Transport (0).
    pub const ECT0: u8 = 0b10;
    /// Congestion Experienced.
    pub const CE: u8 = 0b11;
}

/// The outer ECN field on encapsulation in RFC 6040's normal mode (§4.1): a copy of the
/// inner field, CE included.
#[inline]
pub fn encapsulate(inner: u8) -> u8 {
    inner & 0b11
}

/// What decapsulation does with the inner ECN field (RFC 6040 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decapsulated {
    /// Forward with this inner ECN field.
    Forward(u8),
    /// Drop the packet: the outer says CE but the inner transport is not ECN-capable.
    Drop,
}

/// RFC 6040 §4.2 Figure 4: the inner ECN field after decapsulation, from the arriving
/// inner and outer fields.
#[inline]
pub fn decapsulate(inner: u8, outer: u8) -> Decapsulated {
    use codepoint::*;
    let (inner, outer) = (inner & 0b11, outer & 0b11);
    match (inner, outer) {
        (NOT_ECT, CE) => Decapsulated::Drop,
        (NOT_ECT, _) => Decapsulated::Forward(NOT_ECT),
        (_, CE) => Decapsulated::Forward(CE),
        (ECT0, ECT1) => Decapsulated::Forward(ECT1),
        (i, _) => Decapsulated::Forward(i),
    }
}

#[cfg(test)]
mod tests {
    use super::codepoint::*;
    use super::*;

    #[test]
    fn rfc6040_figure_4_every_cell() {
        // Rows: arriving inner; columns: arriving outer Not-ECT, ECT(0), ECT(1), CE.
        let table = [
            (NOT_ECT, [Some(NOT_ECT), Some(NOT_ECT), Some(NOT_ECT), None]),
            (ECT0, [Some(ECT0), Some(ECT0), Some(ECT1), Some(CE)]),
            (ECT1, [Some(ECT1), Some(ECT1), Some(ECT1), Some(CE)]),
            (CE, [Some(CE), Some(CE), Some(CE), Some(CE)]),
        ];
        for (inner, row) in table {
            for (outer, want) in [NOT_ECT, ECT0, ECT1, CE].into_iter().zip(row) {
                let got = match decapsulate(inner, outer) {
                    Decapsulated::Forward(e) => Some(e),
                    Decapsulated::Drop => None,
                };
                assert_eq!(got, want, "inner {inner:02b} outer {outer:02b}");
            }
        }
    }

    #[test]
    fn normal_mode_copies_the_inner_field() {
        for e in [NOT_ECT, ECT0, ECT1, CE] {
            assert_eq!(encapsulate(e), e);
        }
    }
}
