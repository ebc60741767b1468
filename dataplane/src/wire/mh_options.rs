//! Mobility options (RFC 6275 §6.2) that follow the message data of a Mobility Header:
//! padding, Binding Refresh Advice, Alternate Care-of Address, Nonce Indices, Binding
//! Authorization Data, the Mobile Node Identifier of RFC 4283, the authentication and replay
//! protection options of RFC 4285 and the vendor-specific option of RFC 5094.
//!
//! Alignment (RFC 6275 §6.2: "xn+y" counts from the start of the Mobility Header) is only
//! applied on emit; a receiver accepts any placement.

use super::{be16, be32, Error, Result};
use std::net::Ipv6Addr;

/// Mobility option types (IANA "Mobility Options", RFC 6275 §6.2).
pub mod option_type {
    /// Pad1, RFC 6275 §6.2.2.
    pub const PAD1: u8 = 0;
    /// PadN, RFC 6275 §6.2.3.
    pub const PADN: u8 = 1;
    /// Binding Refresh Advice, RFC 6275 §6.2.4.
    pub const BINDING_REFRESH_ADVICE: u8 = 2;
    /// Alternate Care-of Address, RFC 6275 §6.2.5.
    pub const ALTERNATE_CARE_OF_ADDRESS: u8 = 3;
    /// Nonce Indices, RFC 6275 §6.2.6.
    pub const NONCE_INDICES: u8 = 4;
    /// Binding Authorization Data, RFC 6275 §6.2.7.
    pub const BINDING_AUTHORIZATION_DATA: u8 = 5;
    /// Mobile Node Identifier, RFC 4283 §3.
    pub const MOBILE_NODE_IDENTIFIER: u8 = 8;
    /// Mobility Message Authentication, RFC 4285 §5.
    pub const MESSAGE_AUTHENTICATION: u8 = 9;
    /// Mobility Message Replay Protection, RFC 4285 §6.
    pub const REPLAY_PROTECTION: u8 = 10;
    /// Vendor-Specific Mobility option, RFC 5094 §3.
    pub const VENDOR_SPECIFIC: u8 = 19;
}

/// Subtypes of the Mobile Node Identifier option, RFC 4283 §3.
pub mod mobile_node_identifier_subtype {
    /// Network Access Identifier (RFC 4282), RFC 4283 §3.
    pub const NAI: u8 = 1;
}

/// Subtypes of the Mobility Message Authentication option, RFC 4285 §5.
pub mod authentication_subtype {
    /// MN-HA authentication, RFC 4285 §5.1.
    pub const MN_HA: u8 = 1;
    /// MN-AAA authentication, RFC 4285 §5.2.
    pub const MN_AAA: u8 = 2;
}

/// Length of the Binding Authorization Data authenticator of return routability: the first
/// 96 bits of an HMAC-SHA1, RFC 6275 §5.2.6.
pub const AUTHENTICATOR_LEN: usize = 12;

/// The Nonce Indices option, RFC 6275 §6.2.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceIndices {
    /// Home Nonce Index, from the Home Test.
    pub home_nonce_index: u16,
    /// Care-of Nonce Index, from the Care-of Test.
    pub care_of_nonce_index: u16,
}

/// The Mobile Node Identifier option, RFC 4283 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MobileNodeIdentifier<'a> {
    /// Subtype; 1 is a NAI ([`mobile_node_identifier_subtype::NAI`]).
    pub subtype: u8,
    /// The identifier, e.g. `user@realm`.
    pub identifier: &'a [u8],
}

/// The Mobility Message Authentication option, RFC 4285 §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageAuthentication<'a> {
    /// Subtype: MN-HA (1) or MN-AAA (2), [`authentication_subtype`].
    pub subtype: u8,
    /// Mobility Security Parameter Index.
    pub spi: u32,
    /// Authentication Data (the authenticator).
    pub authentication_data: &'a [u8],
}

/// The Vendor-Specific Mobility option, RFC 5094 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorSpecific<'a> {
    /// SMI Network Management Private Enterprise Code of the vendor.
    pub vendor_id: u32,
    /// Vendor-defined subtype.
    pub subtype: u8,
    /// Vendor-defined data.
    pub data: &'a [u8],
}

/// One mobility option, RFC 6275 §6.2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MobilityOption<'a> {
    /// One byte of padding, RFC 6275 §6.2.2.
    Pad1,
    /// Padding of 2 + n bytes (n data bytes), RFC 6275 §6.2.3.
    PadN(u8),
    /// Refresh Interval in units of 4 seconds, RFC 6275 §6.2.4.
    BindingRefreshAdvice(u16),
    /// Alternate Care-of Address, RFC 6275 §6.2.5.
    AlternateCareOfAddress(Ipv6Addr),
    /// Nonce Indices, RFC 6275 §6.2.6.
    NonceIndices(NonceIndices),
    /// The 96-bit authenticator of return routability, RFC 6275 §6.2.7 and §5.2.6.
    BindingAuthorizationData([u8; AUTHENTICATOR_LEN]),
    /// Mobile Node Identifier, RFC 4283 §3.
    MobileNodeIdentifier(MobileNodeIdentifier<'a>),
    /// Mobility Message Authentication, RFC 4285 §5.
    MessageAuthentication(MessageAuthentication<'a>),
    /// Mobility Message Replay Protection: a 64-bit NTP-format timestamp, RFC 4285 §6.
    ReplayProtection(u64),
    /// Vendor-Specific Mobility option, RFC 5094 §3.
    VendorSpecific(VendorSpecific<'a>),
    /// Any other option, raw: RFC 6275 §6.2.1 has receivers skip unknown options.
    Unknown {
        /// Option Type.
        option_type: u8,
        /// The bytes after type and length.
        data: &'a [u8],
    },
}

impl<'a> MobilityOption<'a> {
    /// Option Type, RFC 6275 §6.2.1.
    pub fn option_type(&self) -> u8 {
        use option_type::*;
        match self {
            MobilityOption::Pad1 => PAD1,
            MobilityOption::PadN(_) => PADN,
            MobilityOption::BindingRefreshAdvice(_) => BINDING_REFRESH_ADVICE,
            MobilityOption::AlternateCareOfAddress(_) => ALTERNATE_CARE_OF_ADDRESS,
            MobilityOption::NonceIndices(_) => NONCE_INDICES,
            MobilityOption::BindingAuthorizationData(_) => BINDING_AUTHORIZATION_DATA,
            MobilityOption::MobileNodeIdentifier(_) => MOBILE_NODE_IDENTIFIER,
            MobilityOption::MessageAuthentication(_) => MESSAGE_AUTHENTICATION,
            MobilityOption::ReplayProtection(_) => REPLAY_PROTECTION,
            MobilityOption::VendorSpecific(_) => VENDOR_SPECIFIC,
            MobilityOption::Unknown { option_type, .. } => *option_type,
        }
    }

    /// Option Length: the bytes after type and length (none for Pad1), RFC 6275 §6.2.1.
    pub fn data_len(&self) -> usize {
        match self {
            MobilityOption::Pad1 => 0,
            MobilityOption::PadN(n) => usize::from(*n),
            MobilityOption::BindingRefreshAdvice(_) => 2,
            MobilityOption::AlternateCareOfAddress(_) => 16,
            MobilityOption::NonceIndices(_) => 4,
            MobilityOption::BindingAuthorizationData(_) => AUTHENTICATOR_LEN,
            MobilityOption::MobileNodeIdentifier(m) => 1 + m.identifier.len(),
            MobilityOption::MessageAuthentication(a) => 5 + a.authentication_data.len(),
            MobilityOption::ReplayProtection(_) => 8,
            MobilityOption::VendorSpecific(v) => 5 + v.data.len(),
            MobilityOption::Unknown { data, .. } => data.len(),
        }
    }

    /// Length of the whole option in bytes.
    pub fn buffer_len(&self) -> usize {
        match self {
            MobilityOption::Pad1 => 1,
            _ => 2 + self.data_len(),
        }
    }

    /// Alignment `(x, y)`: the option type must sit at `x·n + y` bytes from the start of the
    /// Mobility Header; `(1, 0)` is none. RFC 6275 §6.2.4–6.2.7 (Binding Authorization Data
    /// has no rule of its own, but being last it is implicitly 8n+2), RFC 4285 §5–6,
    /// RFC 5094 §3. RFC 4283 gives the Mobile Node Identifier none. The 4n+1 of the
    /// authentication option is as scapy and the RFC 4285 figure have it (written from
    /// memory, not re-checked against the RFC text).
    pub fn alignment(&self) -> (usize, usize) {
        match self {
            MobilityOption::BindingRefreshAdvice(_) | MobilityOption::NonceIndices(_) => (2, 0),
            MobilityOption::AlternateCareOfAddress(_) => (8, 6),
            MobilityOption::BindingAuthorizationData(_) | MobilityOption::ReplayProtection(_) => {
                (8, 2)
            }
            MobilityOption::MessageAuthentication(_) => (4, 1),
            MobilityOption::VendorSpecific(_) => (4, 2),
            _ => (1, 0),
        }
    }

    /// Writes the option at the start of `buf`; returns its length. `Truncated` when `buf`
    /// is short, `Oversized` when the data does not fit the 8-bit Option Length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        if let MobilityOption::Pad1 = self {
            *buf.first_mut().ok_or(Error::Truncated)? = option_type::PAD1;
            return Ok(1);
        }
        let data_len = u8::try_from(self.data_len()).map_err(|_| Error::Oversized)?;
        let out = buf.get_mut(..len).ok_or(Error::Truncated)?;
        out[0] = self.option_type();
        out[1] = data_len;
        let data = &mut out[2..];
        match *self {
            MobilityOption::Pad1 => {}
            MobilityOption::PadN(_) => data.fill(0),
            MobilityOption::BindingRefreshAdvice(interval) => {
                data.copy_from_slice(&interval.to_be_bytes());
            }
            MobilityOption::AlternateCareOfAddress(a) => data.copy_from_slice(&a.octets()),
            MobilityOption::NonceIndices(n) => {
                data[..2].copy_from_slice(&n.home_nonce_index.to_be_bytes());
                data[2..].copy_from_slice(&n.care_of_nonce_index.to_be_bytes());
            }
            MobilityOption::BindingAuthorizationData(a) => data.copy_from_slice(&a),
            MobilityOption::MobileNodeIdentifier(m) => {
                data[0] = m.subtype;
                data[1..].copy_from_slice(m.identifier);
            }
            MobilityOption::MessageAuthentication(a) => {
                data[0] = a.subtype;
                data[1..5].copy_from_slice(&a.spi.to_be_bytes());
                data[5..].copy_from_slice(a.authentication_data);
            }
            MobilityOption::ReplayProtection(t) => data.copy_from_slice(&t.to_be_bytes()),
            MobilityOption::VendorSpecific(v) => {
                data[..4].copy_from_slice(&v.vendor_id.to_be_bytes());
                data[4] = v.subtype;
                data[5..].copy_from_slice(v.data);
            }
            MobilityOption::Unknown { data: d, .. } => data.copy_from_slice(d),
        }
        Ok(len)
    }

    /// Reads the option whose type is `option_type` and whose data is `body`; `BadOption`
    /// for a known type of the wrong length, RFC 6275 §6.2.
    fn parse(option_type: u8, body: &'a [u8]) -> Result<MobilityOption<'a>> {
        use option_type::*;
        Ok(match (option_type, body.len()) {
            (PADN, n) => MobilityOption::PadN(n as u8),
            (BINDING_REFRESH_ADVICE, 2) => MobilityOption::BindingRefreshAdvice(be16(body)),
            (ALTERNATE_CARE_OF_ADDRESS, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(body);
                MobilityOption::AlternateCareOfAddress(Ipv6Addr::from(a))
            }
            (NONCE_INDICES, 4) => MobilityOption::NonceIndices(NonceIndices {
                home_nonce_index: be16(&body[..2]),
                care_of_nonce_index: be16(&body[2..]),
            }),
            (BINDING_AUTHORIZATION_DATA, AUTHENTICATOR_LEN) => {
                let mut a = [0u8; AUTHENTICATOR_LEN];
                a.copy_from_slice(body);
                MobilityOption::BindingAuthorizationData(a)
            }
            (MOBILE_NODE_IDENTIFIER, 1..) => {
                MobilityOption::MobileNodeIdentifier(MobileNodeIdentifier {
                    subtype: body[0],
                    identifier: &body[1..],
                })
            }
            (MESSAGE_AUTHENTICATION, 5..) => {
                MobilityOption::MessageAuthentication(MessageAuthentication {
                    subtype: body[0],
                    spi: be32(&body[1..5]),
                    authentication_data: &body[5..],
                })
            }
            (REPLAY_PROTECTION, 8) => {
                let mut t = [0u8; 8];
                t.copy_from_slice(body);
                MobilityOption::ReplayProtection(u64::from_be_bytes(t))
            }
            (VENDOR_SPECIFIC, 5..) => MobilityOption::VendorSpecific(VendorSpecific {
                vendor_id: be32(&body[..4]),
                subtype: body[4],
                data: &body[5..],
            }),
            (
                BINDING_REFRESH_ADVICE
                | ALTERNATE_CARE_OF_ADDRESS
                | NONCE_INDICES
                | BINDING_AUTHORIZATION_DATA
                | MOBILE_NODE_IDENTIFIER
                | MESSAGE_AUTHENTICATION
                | REPLAY_PROTECTION
                | VENDOR_SPECIFIC,
                _,
            ) => return Err(Error::BadOption),
            (option_type, _) => MobilityOption::Unknown {
                option_type,
                data: body,
            },
        })
    }
}

/// Iterator over mobility options; yields one `Err(BadOption)` and stops at an option whose
/// length runs past the header or a known option of the wrong length, RFC 6275 §6.2.1.
#[derive(Debug, Clone)]
pub struct MobilityOptionsIter<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> MobilityOptionsIter<'a> {
    /// Iterates over the option area `data` (the header after its message data).
    pub fn new(data: &'a [u8]) -> Self {
        MobilityOptionsIter { data, pos: 0 }
    }

    /// Offset in the option area of the next option [`Iterator::next`] reads.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn next_option(&mut self) -> Result<MobilityOption<'a>> {
        let option_type = *self.data.get(self.pos).ok_or(Error::BadOption)?;
        if option_type == option_type::PAD1 {
            self.pos += 1;
            return Ok(MobilityOption::Pad1);
        }
        let len = usize::from(*self.data.get(self.pos + 1).ok_or(Error::BadOption)?);
        let start = self.pos + 2;
        let body = self.data.get(start..start + len).ok_or(Error::BadOption)?;
        self.pos = start + len;
        MobilityOption::parse(option_type, body)
    }
}

impl<'a> Iterator for MobilityOptionsIter<'a> {
    type Item = Result<MobilityOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.data.len() {
            return None;
        }
        let item = self.next_option();
        if item.is_err() {
            self.pos = self.data.len();
        }
        Some(item)
    }
}

/// The mobility options a message carries, first of each kind; padding is regenerated on
/// emit and unknown options are not kept (the iterator shows them), RFC 6275 §6.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MobilityOptionsRepr<'a> {
    /// Binding Refresh Advice, in units of 4 seconds, RFC 6275 §6.2.4.
    pub binding_refresh_advice: Option<u16>,
    /// Alternate Care-of Address, RFC 6275 §6.2.5.
    pub alternate_care_of_address: Option<Ipv6Addr>,
    /// Nonce Indices, RFC 6275 §6.2.6.
    pub nonce_indices: Option<NonceIndices>,
    /// Mobile Node Identifier, RFC 4283 §3.
    pub mobile_node_identifier: Option<MobileNodeIdentifier<'a>>,
    /// Vendor-Specific Mobility option, RFC 5094 §3.
    pub vendor_specific: Option<VendorSpecific<'a>>,
    /// Mobility Message Replay Protection timestamp, RFC 4285 §6.
    pub replay_protection: Option<u64>,
    /// Mobility Message Authentication; emitted after every option above since the MAC
    /// covers the message up to its SPI, RFC 4285 §5.
    pub message_authentication: Option<MessageAuthentication<'a>>,
    /// Binding Authorization Data; always emitted last, RFC 6275 §6.2.7.
    pub binding_authorization_data: Option<[u8; AUTHENTICATOR_LEN]>,
}

/// Writes `n` bytes of padding (Pad1 or PadN) at `pos`, RFC 6275 §6.2.2–6.2.3.
fn pad(buf: &mut [u8], pos: usize, n: usize) -> usize {
    match n {
        0 => {}
        1 => buf[pos] = option_type::PAD1,
        _ => {
            buf[pos] = option_type::PADN;
            buf[pos + 1] = (n - 2) as u8;
            buf[pos + 2..pos + n].fill(0);
        }
    }
    pos + n
}

/// Bytes of padding that bring `pos` to `x·n + y`.
fn align_delta(pos: usize, (x, y): (usize, usize)) -> usize {
    (y + x - pos % x) % x
}

impl<'a> MobilityOptionsRepr<'a> {
    /// Reads the known options of an option area; a repeated option keeps its first value.
    /// `BadOption` as [`MobilityOptionsIter`] yields it.
    pub fn parse(options: &'a [u8]) -> Result<MobilityOptionsRepr<'a>> {
        let mut repr = MobilityOptionsRepr::default();
        for option in MobilityOptionsIter::new(options) {
            match option? {
                MobilityOption::BindingRefreshAdvice(v) => {
                    repr.binding_refresh_advice.get_or_insert(v);
                }
                MobilityOption::AlternateCareOfAddress(a) => {
                    repr.alternate_care_of_address.get_or_insert(a);
                }
                MobilityOption::NonceIndices(n) => {
                    repr.nonce_indices.get_or_insert(n);
                }
                MobilityOption::BindingAuthorizationData(a) => {
                    repr.binding_authorization_data.get_or_insert(a);
                }
                MobilityOption::MobileNodeIdentifier(m) => {
                    repr.mobile_node_identifier.get_or_insert(m);
                }
                MobilityOption::MessageAuthentication(a) => {
                    repr.message_authentication.get_or_insert(a);
                }
                MobilityOption::ReplayProtection(t) => {
                    repr.replay_protection.get_or_insert(t);
                }
                MobilityOption::VendorSpecific(v) => {
                    repr.vendor_specific.get_or_insert(v);
                }
                MobilityOption::Pad1 | MobilityOption::PadN(_) | MobilityOption::Unknown { .. } => {
                }
            }
        }
        Ok(repr)
    }

    /// The options in emission order.
    fn in_order(&self) -> [Option<MobilityOption<'a>>; 8] {
        [
            self.binding_refresh_advice
                .map(MobilityOption::BindingRefreshAdvice),
            self.alternate_care_of_address
                .map(MobilityOption::AlternateCareOfAddress),
            self.nonce_indices.map(MobilityOption::NonceIndices),
            self.mobile_node_identifier
                .map(MobilityOption::MobileNodeIdentifier),
            self.vendor_specific.map(MobilityOption::VendorSpecific),
            self.replay_protection.map(MobilityOption::ReplayProtection),
            self.message_authentication
                .map(MobilityOption::MessageAuthentication),
            self.binding_authorization_data
                .map(MobilityOption::BindingAuthorizationData),
        ]
    }

    /// Where the options end, padded to a multiple of 8, when they start at `start` bytes
    /// from the start of the Mobility Header, RFC 6275 §6.1.1 and §6.2.
    pub fn end(&self, start: usize) -> usize {
        let mut pos = start;
        for option in self.in_order().iter().flatten() {
            pos += align_delta(pos, option.alignment()) + option.buffer_len();
        }
        pos.div_ceil(8) * 8
    }

    /// Writes the options into `header` (the whole Mobility Header) from `start`, each at
    /// its alignment with Pad1/PadN before it, then pads to a multiple of 8; returns the
    /// end. `Truncated` when `header` is short, `Oversized` for an option too long for its
    /// Option Length, RFC 6275 §6.2.
    pub fn emit(&self, header: &mut [u8], start: usize) -> Result<usize> {
        let end = self.end(start);
        if header.len() < end {
            return Err(Error::Truncated);
        }
        let mut pos = start;
        for option in self.in_order().iter().flatten() {
            pos = pad(header, pos, align_delta(pos, option.alignment()));
            pos += option.emit(&mut header[pos..])?;
        }
        pad(header, pos, end - pos);
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_options_are_read_from_bytes() {
        let b = [
            0, 1, 0, 2, 2, 0x01, 0x2c, 4, 4, 0, 7, 0, 9, 8, 3, 1, b'm', b'n', 10, 8, 1, 2, 3, 4, 5,
            6, 7, 8, 19, 6, 0, 0, 0x7f, 0xff, 3, 0xaa,
        ];
        let opts: Vec<_> = MobilityOptionsIter::new(&b).map(|o| o.unwrap()).collect();
        assert_eq!(
            opts,
            vec![
                MobilityOption::Pad1,
                MobilityOption::PadN(0),
                MobilityOption::BindingRefreshAdvice(300),
                MobilityOption::NonceIndices(NonceIndices {
                    home_nonce_index: 7,
                    care_of_nonce_index: 9
                }),
                MobilityOption::MobileNodeIdentifier(MobileNodeIdentifier {
                    subtype: 1,
                    identifier: b"mn"
                }),
                MobilityOption::ReplayProtection(0x0102_0304_0506_0708),
                MobilityOption::VendorSpecific(VendorSpecific {
                    vendor_id: 0x7fff,
                    subtype: 3,
                    data: &[0xaa]
                }),
            ]
        );
    }

    #[test]
    fn option_overrunning_the_area_is_bad_option_and_stops() {
        let b = [1, 5, 0, 0];
        let mut it = MobilityOptionsIter::new(&b);
        assert_eq!(it.next(), Some(Err(Error::BadOption)));
        assert_eq!(it.next(), None);
        let b = [0, 2];
        let items: Vec<_> = MobilityOptionsIter::new(&b).collect();
        assert_eq!(items, vec![Ok(MobilityOption::Pad1), Err(Error::BadOption)]);
    }

    #[test]
    fn known_option_of_wrong_length_is_bad_option() {
        for b in [
            &[2u8, 3, 0, 0, 0][..],
            &[3, 4, 0, 0, 0, 0],
            &[4, 2, 0, 0],
            &[5, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[8, 0],
            &[9, 4, 1, 0, 0, 0],
            &[10, 4, 0, 0, 0, 0],
            &[19, 4, 0, 0, 0, 0],
        ] {
            assert_eq!(
                MobilityOptionsRepr::parse(b),
                Err(Error::BadOption),
                "{b:?}"
            );
        }
    }

    #[test]
    fn unknown_options_are_returned_raw_and_skipped() {
        let b = [6, 2, 0xaa, 0xbb, 2, 2, 0, 1];
        let first = MobilityOptionsIter::new(&b).next().unwrap().unwrap();
        assert_eq!(
            first,
            MobilityOption::Unknown {
                option_type: 6,
                data: &[0xaa, 0xbb]
            }
        );
        let r = MobilityOptionsRepr::parse(&b).unwrap();
        assert_eq!(r.binding_refresh_advice, Some(1));
    }

    #[test]
    fn emit_aligns_alternate_care_of_address_at_8n_plus_6() {
        let r = MobilityOptionsRepr {
            alternate_care_of_address: Some("2001:db8::1".parse().unwrap()),
            ..Default::default()
        };
        // Options of a Binding Update start at 12: PadN(0) to 14, then 18 bytes, to 32.
        assert_eq!(r.end(12), 32);
        let mut buf = [0xffu8; 32];
        assert_eq!(r.emit(&mut buf, 12), Ok(32));
        assert_eq!(&buf[12..16], &[1, 0, 3, 16]);
        assert_eq!(buf[31], 1);
    }

    #[test]
    fn emit_pads_to_8_with_pad1_or_padn() {
        let r = MobilityOptionsRepr::default();
        let mut buf = [0xffu8; 16];
        assert_eq!(r.emit(&mut buf, 12), Ok(16));
        assert_eq!(&buf[12..16], &[1, 2, 0, 0]);
        assert_eq!(r.emit(&mut buf, 15), Ok(16));
        assert_eq!(buf[15], 0);
        assert_eq!(r.emit(&mut buf, 8), Ok(8));
    }

    #[test]
    fn emit_into_short_buffer_is_truncated_and_overlong_option_is_oversized() {
        let r = MobilityOptionsRepr {
            binding_refresh_advice: Some(1),
            ..Default::default()
        };
        let mut buf = [0u8; 12];
        assert_eq!(r.emit(&mut buf, 8), Err(Error::Truncated));
        let long = [0u8; 255];
        let m = MobilityOption::MobileNodeIdentifier(MobileNodeIdentifier {
            subtype: 1,
            identifier: &long,
        });
        let mut buf = [0u8; 300];
        assert_eq!(m.emit(&mut buf), Err(Error::Oversized));
        assert_eq!(MobilityOption::Pad1.emit(&mut []), Err(Error::Truncated));
    }

    #[test]
    fn alignment_delta_reaches_every_rule() {
        assert_eq!(align_delta(12, (8, 6)), 2);
        assert_eq!(align_delta(14, (8, 6)), 0);
        assert_eq!(align_delta(12, (4, 1)), 1);
        assert_eq!(align_delta(12, (8, 2)), 6);
        assert_eq!(align_delta(13, (2, 0)), 1);
        assert_eq!(align_delta(13, (1, 0)), 0);
    }
}
