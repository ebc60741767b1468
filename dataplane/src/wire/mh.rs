//! The IPv6 Mobility Header (RFC 6275 §6.1): its eight messages of return routability and
//! binding management, the M flag of HMIPv6 (RFC 5380), the checksum over the IPv6
//! pseudo-header, and where the authenticators of RFC 6275 §6.2.7 and RFC 4285 §5 sit.
//! The mobility options after the message data are in [`super::mh_options`].

use super::checksum::{self, ChecksumMode};
use super::ipv6::next_header;
use super::mh_options::{option_type, MobilityOption, MobilityOptionsIter, MobilityOptionsRepr};
use super::{be16, Error, Result};
use core::ops::Range;
use std::net::Ipv6Addr;

/// Mobility Header types, RFC 6275 §6.1.2–6.1.9.
pub mod message_type {
    /// Binding Refresh Request, RFC 6275 §6.1.2.
    pub const BINDING_REFRESH_REQUEST: u8 = 0;
    /// Home Test Init, RFC 6275 §6.1.3.
    pub const HOME_TEST_INIT: u8 = 1;
    /// Care-of Test Init, RFC 6275 §6.1.4.
    pub const CARE_OF_TEST_INIT: u8 = 2;
    /// Home Test, RFC 6275 §6.1.5.
    pub const HOME_TEST: u8 = 3;
    /// Care-of Test, RFC 6275 §6.1.6.
    pub const CARE_OF_TEST: u8 = 4;
    /// Binding Update, RFC 6275 §6.1.7.
    pub const BINDING_UPDATE: u8 = 5;
    /// Binding Acknowledgement, RFC 6275 §6.1.8.
    pub const BINDING_ACKNOWLEDGEMENT: u8 = 6;
    /// Binding Error, RFC 6275 §6.1.9.
    pub const BINDING_ERROR: u8 = 7;
}

/// Binding Acknowledgement status codes: below 128 accepted, from 128 rejected,
/// RFC 6275 §6.1.8. RFC 5380 (HMIPv6) reuses these for MAP registrations and assigns none
/// of its own: in the IANA registry (read from a generated copy, not the live page) 160 is
/// MISSING_MN_IDENTIFIER_OPTION of Proxy Mobile IPv6 (RFC 5213), not a MAP status.
pub mod binding_ack_status {
    /// Binding Update accepted.
    pub const ACCEPTED: u8 = 0;
    /// Accepted but prefix discovery necessary.
    pub const ACCEPTED_PREFIX_DISCOVERY_NECESSARY: u8 = 1;
    /// Reason unspecified.
    pub const REASON_UNSPECIFIED: u8 = 128;
    /// Administratively prohibited.
    pub const ADMINISTRATIVELY_PROHIBITED: u8 = 129;
    /// Insufficient resources.
    pub const INSUFFICIENT_RESOURCES: u8 = 130;
    /// Home registration not supported.
    pub const HOME_REGISTRATION_NOT_SUPPORTED: u8 = 131;
    /// Not home subnet.
    pub const NOT_HOME_SUBNET: u8 = 132;
    /// Not home agent for this mobile node.
    pub const NOT_HOME_AGENT_FOR_THIS_MOBILE_NODE: u8 = 133;
    /// Duplicate Address Detection failed.
    pub const DUPLICATE_ADDRESS_DETECTION_FAILED: u8 = 134;
    /// Sequence number out of window.
    pub const SEQUENCE_NUMBER_OUT_OF_WINDOW: u8 = 135;
    /// Expired home nonce index.
    pub const EXPIRED_HOME_NONCE_INDEX: u8 = 136;
    /// Expired care-of nonce index.
    pub const EXPIRED_CARE_OF_NONCE_INDEX: u8 = 137;
    /// Expired nonces.
    pub const EXPIRED_NONCES: u8 = 138;
    /// Registration type change disallowed.
    pub const REGISTRATION_TYPE_CHANGE_DISALLOWED: u8 = 139;
    /// Identifier mismatch (MIPV6-ID-MISMATCH), RFC 4285.
    pub const ID_MISMATCH: u8 = 144;
    /// Message identifier required (MIPV6-MESG-ID-REQD), RFC 4285.
    pub const MESSAGE_ID_REQUIRED: u8 = 145;
    /// Authentication failed (MIPV6-AUTH-FAIL), RFC 4285.
    pub const AUTHENTICATION_FAILED: u8 = 146;
    /// Invalid Care-of Address.
    pub const INVALID_CARE_OF_ADDRESS: u8 = 174;
}

/// Binding Error status codes, RFC 6275 §6.1.9.
pub mod binding_error_status {
    /// Unknown binding for Home Address destination option.
    pub const UNKNOWN_BINDING_FOR_HOME_ADDRESS: u8 = 1;
    /// Unrecognized MH Type value.
    pub const UNRECOGNIZED_MH_TYPE: u8 = 2;
}

mod field {
    use core::ops::Range;
    pub const PAYLOAD_PROTO: usize = 0;
    pub const LENGTH: usize = 1;
    pub const MH_TYPE: usize = 2;
    pub const RESERVED: usize = 3;
    pub const CHECKSUM: Range<usize> = 4..6;
    pub const MESSAGE_DATA: usize = 6;
    // Home Test Init / Care-of Test Init, RFC 6275 §6.1.3–6.1.4.
    pub const INIT_COOKIE: Range<usize> = 8..16;
    // Home Test / Care-of Test, RFC 6275 §6.1.5–6.1.6.
    pub const NONCE_INDEX: Range<usize> = 6..8;
    pub const TEST_COOKIE: Range<usize> = 8..16;
    pub const KEYGEN_TOKEN: Range<usize> = 16..24;
    // Binding Update, RFC 6275 §6.1.7.
    pub const BU_SEQUENCE: Range<usize> = 6..8;
    pub const BU_FLAGS: usize = 8;
    pub const BU_LIFETIME: Range<usize> = 10..12;
    // Binding Acknowledgement, RFC 6275 §6.1.8.
    pub const BA_STATUS: usize = 6;
    pub const BA_FLAGS: usize = 7;
    pub const BA_SEQUENCE: Range<usize> = 8..10;
    pub const BA_LIFETIME: Range<usize> = 10..12;
    // Binding Error, RFC 6275 §6.1.9.
    pub const BE_STATUS: usize = 6;
    pub const BE_HOME_ADDRESS: Range<usize> = 8..24;
}

const BU_ACKNOWLEDGE: u8 = 0x80;
const BU_HOME_REGISTRATION: u8 = 0x40;
const BU_LINK_LOCAL_COMPATIBILITY: u8 = 0x20;
const BU_KEY_MANAGEMENT: u8 = 0x10;
const BU_MAP_REGISTRATION: u8 = 0x08;
const BA_KEY_MANAGEMENT: u8 = 0x80;

/// The smallest Mobility Header: Header Len counts 8-octet units after the first 8,
/// RFC 6275 §6.1.1.
pub const MIN_HEADER_LEN: usize = 8;

/// Where the mobility options of a message type begin (the end of its message data), or
/// `None` for a type this module does not know, RFC 6275 §6.1.2–6.1.9.
pub const fn options_offset(mh_type: u8) -> Option<usize> {
    use message_type::*;
    match mh_type {
        BINDING_REFRESH_REQUEST => Some(8),
        HOME_TEST_INIT | CARE_OF_TEST_INIT => Some(16),
        HOME_TEST | CARE_OF_TEST | BINDING_ERROR => Some(24),
        BINDING_UPDATE | BINDING_ACKNOWLEDGEMENT => Some(12),
        _ => None,
    }
}

fn array8(d: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&d[..8]);
    a
}

/// The Mobility Header checksum of `data` (checksum field zeroed or not yet written) over
/// the IPv6 pseudo-header with Next Header 135, RFC 6275 §6.1.1.
fn compute_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, data: &[u8]) -> u16 {
    let pseudo = checksum::pseudo_header_v6(
        src.octets(),
        dst.octets(),
        next_header::MOBILITY,
        data.len() as u32,
    );
    checksum::finish(checksum::combine(&[pseudo, checksum::sum(data)]))
}

/// What an authenticator is computed over, as offsets into the Mobility Header: the MAC
/// input is the two addresses the RFC names, then `header[covered]` with the bytes of
/// `checksum` taken as zero, then `header[after]`. RFC 6275 §6.2.7, RFC 4285 §5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorLayout {
    /// The header bytes before the authenticator that the MAC covers.
    pub covered: Range<usize>,
    /// The Checksum field, computed as zero for the MAC.
    pub checksum: Range<usize>,
    /// The authenticator itself.
    pub authenticator: Range<usize>,
    /// Header bytes after the authenticator that the MAC covers (empty when the option is
    /// last, as both RFCs require).
    pub after: Range<usize>,
}

/// A zero-copy view of a Mobility Header, RFC 6275 §6.1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilityHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MobilityHeader<T> {
    /// Wraps a buffer without checks; accessors may panic until [`Self::check_len`] passed.
    pub const fn new_unchecked(buffer: T) -> Self {
        MobilityHeader { buffer }
    }

    /// Wraps a buffer after [`Self::check_len`], RFC 6275 §6.1.1.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the header and the length it declares fit in the buffer (`Truncated`),
    /// that the length covers the message data of a known type (`BadHeaderLength`,
    /// RFC 6275 §9.2) and that every option stays inside the header with its defined length
    /// (`BadOption`, RFC 6275 §6.2.1).
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if data.len() < MIN_HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = self.header_len();
        if len > data.len() {
            return Err(Error::Truncated);
        }
        if let Some(start) = options_offset(self.mh_type()) {
            let options = data.get(start..len).ok_or(Error::BadHeaderLength)?;
            for option in MobilityOptionsIter::new(options) {
                option?;
            }
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Payload Proto field; 59 (no next header) is the only value allowed, RFC 6275 §6.1.1.
    pub fn payload_proto(&self) -> u8 {
        self.buffer.as_ref()[field::PAYLOAD_PROTO]
    }

    /// Header Len field: 8-octet units after the first 8, RFC 6275 §6.1.1.
    pub fn header_ext_len(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// Length of the header in bytes, RFC 6275 §6.1.1.
    pub fn header_len(&self) -> usize {
        8 * (usize::from(self.header_ext_len()) + 1)
    }

    /// MH Type field, RFC 6275 §6.1.1.
    pub fn mh_type(&self) -> u8 {
        self.buffer.as_ref()[field::MH_TYPE]
    }

    /// Reserved field, RFC 6275 §6.1.1.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::RESERVED]
    }

    /// Checksum field, RFC 6275 §6.1.1.
    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Whether the checksum over the pseudo-header of `src` and `dst` and the header (its
    /// declared length) verifies, RFC 6275 §6.1.1. `src` is the home address when a Home
    /// Address option is present (RFC 6275 §6.3), `dst` the final destination.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        compute_checksum(src, dst, &self.buffer.as_ref()[..self.header_len()]) == 0
    }

    /// Message Data: everything after the checksum up to the header's length,
    /// RFC 6275 §6.1.1.
    pub fn message_data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::MESSAGE_DATA..self.header_len()]
    }

    /// Home Init Cookie or Care-of Init Cookie of a Home/Care-of Test Init,
    /// RFC 6275 §6.1.3–6.1.4.
    pub fn init_cookie(&self) -> [u8; 8] {
        array8(&self.buffer.as_ref()[field::INIT_COOKIE])
    }

    /// Home or Care-of Nonce Index of a Home/Care-of Test, RFC 6275 §6.1.5–6.1.6.
    pub fn nonce_index(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::NONCE_INDEX])
    }

    /// Init cookie echoed by a Home/Care-of Test, RFC 6275 §6.1.5–6.1.6.
    pub fn test_cookie(&self) -> [u8; 8] {
        array8(&self.buffer.as_ref()[field::TEST_COOKIE])
    }

    /// Home or Care-of Keygen Token of a Home/Care-of Test, RFC 6275 §6.1.5–6.1.6.
    pub fn keygen_token(&self) -> [u8; 8] {
        array8(&self.buffer.as_ref()[field::KEYGEN_TOKEN])
    }

    /// Sequence # of a Binding Update, RFC 6275 §6.1.7.
    pub fn bu_sequence(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::BU_SEQUENCE])
    }

    /// The flag byte of a Binding Update (A H L K M, then reserved), RFC 6275 §6.1.7,
    /// RFC 5380.
    pub fn bu_flags(&self) -> u8 {
        self.buffer.as_ref()[field::BU_FLAGS]
    }

    /// Lifetime of a Binding Update in units of 4 seconds, RFC 6275 §6.1.7.
    pub fn bu_lifetime(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::BU_LIFETIME])
    }

    /// Status of a Binding Acknowledgement, RFC 6275 §6.1.8.
    pub fn ba_status(&self) -> u8 {
        self.buffer.as_ref()[field::BA_STATUS]
    }

    /// K flag of a Binding Acknowledgement, RFC 6275 §6.1.8.
    pub fn ba_key_management_mobility_capability(&self) -> bool {
        self.buffer.as_ref()[field::BA_FLAGS] & BA_KEY_MANAGEMENT != 0
    }

    /// Sequence # of a Binding Acknowledgement, RFC 6275 §6.1.8.
    pub fn ba_sequence(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::BA_SEQUENCE])
    }

    /// Lifetime of a Binding Acknowledgement in units of 4 seconds, RFC 6275 §6.1.8.
    pub fn ba_lifetime(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::BA_LIFETIME])
    }

    /// Status of a Binding Error, RFC 6275 §6.1.9.
    pub fn be_status(&self) -> u8 {
        self.buffer.as_ref()[field::BE_STATUS]
    }

    /// Home Address of a Binding Error, RFC 6275 §6.1.9.
    pub fn be_home_address(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::BE_HOME_ADDRESS]);
        Ipv6Addr::from(a)
    }

    /// The option area: from the end of the message data to the header's length; empty
    /// for an unknown type, RFC 6275 §6.2.
    pub fn options(&self) -> &[u8] {
        let len = self.header_len();
        let start = options_offset(self.mh_type()).unwrap_or(len);
        self.buffer.as_ref().get(start..len).unwrap_or(&[])
    }

    /// The mobility options, one by one, RFC 6275 §6.2.
    pub fn iter_options(&self) -> MobilityOptionsIter<'_> {
        MobilityOptionsIter::new(self.options())
    }

    /// Finds the first option `wanted` accepts; returns its offset from the header start.
    fn find_option(
        &self,
        wanted: impl Fn(&MobilityOption<'_>) -> bool,
    ) -> Option<(usize, MobilityOption<'_>)> {
        let start = options_offset(self.mh_type())?;
        let mut iter = self.iter_options();
        loop {
            let at = start + iter.offset();
            let option = iter.next()?.ok()?;
            if wanted(&option) {
                return Some((at, option));
            }
        }
    }

    /// Where the Binding Authorization Data authenticator is and what it covers:
    /// `Authenticator = First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH
    /// Data))`, MH Data being the header without the authenticator and with the checksum
    /// zeroed, RFC 6275 §6.2.7 and §5.2.6. `None` without that option.
    pub fn binding_authorization_layout(&self) -> Option<AuthenticatorLayout> {
        let (at, option) =
            self.find_option(|o| o.option_type() == option_type::BINDING_AUTHORIZATION_DATA)?;
        let authenticator = at + 2..at + 2 + option.data_len();
        Some(AuthenticatorLayout {
            covered: 0..authenticator.start,
            checksum: field::CHECKSUM,
            after: authenticator.end..self.header_len(),
            authenticator,
        })
    }

    /// Where the Mobility Message Authentication authenticator is and what it covers:
    /// `Mobility Data = care-of address | home address | MH Data`, MH Data being the
    /// header up to and including the SPI field of that option with the checksum taken as
    /// zero, RFC 4285 §5.1. `None` without that option.
    pub fn message_authentication_layout(&self) -> Option<AuthenticatorLayout> {
        let (at, option) =
            self.find_option(|o| o.option_type() == option_type::MESSAGE_AUTHENTICATION)?;
        let spi_end = at + 7;
        Some(AuthenticatorLayout {
            covered: 0..spi_end,
            checksum: field::CHECKSUM,
            authenticator: spi_end..at + 2 + option.data_len(),
            after: spi_end..spi_end,
        })
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MobilityHeader<T> {
    /// Sets the Payload Proto field, RFC 6275 §6.1.1.
    pub fn set_payload_proto(&mut self, value: u8) {
        self.buffer.as_mut()[field::PAYLOAD_PROTO] = value;
    }

    /// Sets the Header Len field, RFC 6275 §6.1.1.
    pub fn set_header_ext_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::LENGTH] = value;
    }

    /// Sets the MH Type field, RFC 6275 §6.1.1.
    pub fn set_mh_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::MH_TYPE] = value;
    }

    /// Sets the Checksum field, RFC 6275 §6.1.1.
    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// Computes and writes the checksum over the pseudo-header and the header,
    /// RFC 6275 §6.1.1 (after an authenticator was written into it, RFC 6275 §6.2.7).
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let len = self.header_len();
        let c = compute_checksum(src, dst, &self.buffer.as_ref()[..len]);
        self.set_checksum(c);
    }

    /// The option area, mutable (to write an authenticator in place), RFC 6275 §6.2.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let len = self.header_len();
        let start = options_offset(self.mh_type()).unwrap_or(len);
        self.buffer.as_mut().get_mut(start..len).unwrap_or(&mut [])
    }
}

/// The flags and fields of a Binding Update, RFC 6275 §6.1.7 with the M flag of RFC 5380.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BindingUpdate<'a> {
    /// Sequence #.
    pub sequence: u16,
    /// A: a Binding Acknowledgement is requested.
    pub acknowledge: bool,
    /// H: home registration.
    pub home_registration: bool,
    /// L: link-local address compatibility.
    pub link_local_compatibility: bool,
    /// K: key management mobility capability.
    pub key_management_mobility_capability: bool,
    /// M: MAP registration, RFC 5380.
    pub map_registration: bool,
    /// Lifetime in units of 4 seconds.
    pub lifetime: u16,
    /// Mobility options.
    pub options: MobilityOptionsRepr<'a>,
}

/// The fields of a Binding Acknowledgement, RFC 6275 §6.1.8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BindingAcknowledgement<'a> {
    /// Status, [`binding_ack_status`].
    pub status: u8,
    /// K: key management mobility capability.
    pub key_management_mobility_capability: bool,
    /// Sequence # copied from the Binding Update.
    pub sequence: u16,
    /// Granted lifetime in units of 4 seconds.
    pub lifetime: u16,
    /// Mobility options.
    pub options: MobilityOptionsRepr<'a>,
}

/// A parsed Mobility Header message, RFC 6275 §6.1.2–6.1.9. Option bytes are borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MhRepr<'a> {
    /// Binding Refresh Request, RFC 6275 §6.1.2.
    BindingRefreshRequest {
        /// Mobility options.
        options: MobilityOptionsRepr<'a>,
    },
    /// Home Test Init, RFC 6275 §6.1.3.
    HomeTestInit {
        /// Home Init Cookie.
        cookie: [u8; 8],
        /// Mobility options.
        options: MobilityOptionsRepr<'a>,
    },
    /// Care-of Test Init, RFC 6275 §6.1.4.
    CareOfTestInit {
        /// Care-of Init Cookie.
        cookie: [u8; 8],
        /// Mobility options.
        options: MobilityOptionsRepr<'a>,
    },
    /// Home Test, RFC 6275 §6.1.5.
    HomeTest {
        /// Home Nonce Index.
        nonce_index: u16,
        /// Home Init Cookie.
        cookie: [u8; 8],
        /// Home Keygen Token.
        keygen_token: [u8; 8],
        /// Mobility options.
        options: MobilityOptionsRepr<'a>,
    },
    /// Care-of Test, RFC 6275 §6.1.6.
    CareOfTest {
        /// Care-of Nonce Index.
        nonce_index: u16,
        /// Care-of Init Cookie.
        cookie: [u8; 8],
        /// Care-of Keygen Token.
        keygen_token: [u8; 8],
        /// Mobility options.
        options: MobilityOptionsRepr<'a>,
    },
    /// Binding Update, RFC 6275 §6.1.7.
    BindingUpdate(BindingUpdate<'a>),
    /// Binding Acknowledgement, RFC 6275 §6.1.8.
    BindingAcknowledgement(BindingAcknowledgement<'a>),
    /// Binding Error, RFC 6275 §6.1.9.
    BindingError {
        /// Status, [`binding_error_status`].
        status: u8,
        /// The home address of the offending packet's Home Address option.
        home_address: Ipv6Addr,
        /// Mobility options.
        options: MobilityOptionsRepr<'a>,
    },
}

impl<'a> MhRepr<'a> {
    /// Reads a message: `BadChecksum` unless the checksum over the pseudo-header of `src`
    /// and `dst` verifies (when `mode` asks), `Unsupported` for a Payload Proto other than
    /// 59 (the receiver answers with Parameter Problem, RFC 6275 §9.2) or an unknown MH
    /// Type (answered by a Binding Error, status 2), plus the reasons of
    /// [`MobilityHeader::check_len`].
    pub fn parse<T>(
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        header: &MobilityHeader<&'a T>,
        mode: ChecksumMode,
    ) -> Result<MhRepr<'a>>
    where
        T: AsRef<[u8]> + ?Sized,
    {
        header.check_len()?;
        if mode == ChecksumMode::Verify && !header.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        if header.payload_proto() != next_header::NO_NEXT {
            return Err(Error::Unsupported);
        }
        let data: &'a [u8] = header.buffer.as_ref();
        let mh_type = header.mh_type();
        let start = options_offset(mh_type).ok_or(Error::Unsupported)?;
        let options = MobilityOptionsRepr::parse(&data[start..header.header_len()])?;
        use message_type::*;
        Ok(match mh_type {
            BINDING_REFRESH_REQUEST => MhRepr::BindingRefreshRequest { options },
            HOME_TEST_INIT => MhRepr::HomeTestInit {
                cookie: header.init_cookie(),
                options,
            },
            CARE_OF_TEST_INIT => MhRepr::CareOfTestInit {
                cookie: header.init_cookie(),
                options,
            },
            HOME_TEST => MhRepr::HomeTest {
                nonce_index: header.nonce_index(),
                cookie: header.test_cookie(),
                keygen_token: header.keygen_token(),
                options,
            },
            CARE_OF_TEST => MhRepr::CareOfTest {
                nonce_index: header.nonce_index(),
                cookie: header.test_cookie(),
                keygen_token: header.keygen_token(),
                options,
            },
            BINDING_UPDATE => {
                let flags = header.bu_flags();
                MhRepr::BindingUpdate(BindingUpdate {
                    sequence: header.bu_sequence(),
                    acknowledge: flags & BU_ACKNOWLEDGE != 0,
                    home_registration: flags & BU_HOME_REGISTRATION != 0,
                    link_local_compatibility: flags & BU_LINK_LOCAL_COMPATIBILITY != 0,
                    key_management_mobility_capability: flags & BU_KEY_MANAGEMENT != 0,
                    map_registration: flags & BU_MAP_REGISTRATION != 0,
                    lifetime: header.bu_lifetime(),
                    options,
                })
            }
            BINDING_ACKNOWLEDGEMENT => MhRepr::BindingAcknowledgement(BindingAcknowledgement {
                status: header.ba_status(),
                key_management_mobility_capability: header.ba_key_management_mobility_capability(),
                sequence: header.ba_sequence(),
                lifetime: header.ba_lifetime(),
                options,
            }),
            _ => MhRepr::BindingError {
                status: header.be_status(),
                home_address: header.be_home_address(),
                options,
            },
        })
    }

    /// MH Type of this message, RFC 6275 §6.1.1.
    pub fn mh_type(&self) -> u8 {
        use message_type::*;
        match self {
            MhRepr::BindingRefreshRequest { .. } => BINDING_REFRESH_REQUEST,
            MhRepr::HomeTestInit { .. } => HOME_TEST_INIT,
            MhRepr::CareOfTestInit { .. } => CARE_OF_TEST_INIT,
            MhRepr::HomeTest { .. } => HOME_TEST,
            MhRepr::CareOfTest { .. } => CARE_OF_TEST,
            MhRepr::BindingUpdate(_) => BINDING_UPDATE,
            MhRepr::BindingAcknowledgement(_) => BINDING_ACKNOWLEDGEMENT,
            MhRepr::BindingError { .. } => BINDING_ERROR,
        }
    }

    /// The mobility options of this message.
    pub fn options(&self) -> &MobilityOptionsRepr<'a> {
        match self {
            MhRepr::BindingRefreshRequest { options }
            | MhRepr::HomeTestInit { options, .. }
            | MhRepr::CareOfTestInit { options, .. }
            | MhRepr::HomeTest { options, .. }
            | MhRepr::CareOfTest { options, .. }
            | MhRepr::BindingError { options, .. } => options,
            MhRepr::BindingUpdate(bu) => &bu.options,
            MhRepr::BindingAcknowledgement(ba) => &ba.options,
        }
    }

    fn options_start(&self) -> usize {
        options_offset(self.mh_type()).unwrap_or(MIN_HEADER_LEN)
    }

    /// Length of the emitted header, a multiple of 8, RFC 6275 §6.1.1.
    pub fn header_len(&self) -> usize {
        self.options().end(self.options_start())
    }

    /// Writes the message into the first [`Self::header_len`] bytes of `header` with
    /// Payload Proto 59, options aligned and padded to 8 octets (RFC 6275 §6.2), and fills
    /// the checksum over the pseudo-header of `src` and `dst`, RFC 6275 §6.1.1. `Truncated`
    /// when the buffer is short, `Oversized` when the header or an option does not fit its
    /// length field.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        header: &mut MobilityHeader<T>,
    ) -> Result<()> {
        let len = self.header_len();
        let units = u8::try_from(len / 8 - 1).map_err(|_| Error::Oversized)?;
        let buf = header
            .buffer
            .as_mut()
            .get_mut(..len)
            .ok_or(Error::Truncated)?;
        let start = self.options_start();
        buf[..start].fill(0);
        buf[field::PAYLOAD_PROTO] = next_header::NO_NEXT;
        buf[field::LENGTH] = units;
        buf[field::MH_TYPE] = self.mh_type();
        self.emit_message_data(buf);
        self.options().emit(buf, start)?;
        let c = compute_checksum(src, dst, buf);
        buf[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
        Ok(())
    }

    /// Writes the type-specific message data into a zeroed fixed part.
    fn emit_message_data(&self, buf: &mut [u8]) {
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        match *self {
            MhRepr::BindingRefreshRequest { .. } => {}
            MhRepr::HomeTestInit { cookie, .. } | MhRepr::CareOfTestInit { cookie, .. } => {
                buf[field::INIT_COOKIE].copy_from_slice(&cookie);
            }
            MhRepr::HomeTest {
                nonce_index,
                cookie,
                keygen_token,
                ..
            }
            | MhRepr::CareOfTest {
                nonce_index,
                cookie,
                keygen_token,
                ..
            } => {
                buf[field::NONCE_INDEX].copy_from_slice(&nonce_index.to_be_bytes());
                buf[field::TEST_COOKIE].copy_from_slice(&cookie);
                buf[field::KEYGEN_TOKEN].copy_from_slice(&keygen_token);
            }
            MhRepr::BindingUpdate(bu) => {
                buf[field::BU_SEQUENCE].copy_from_slice(&bu.sequence.to_be_bytes());
                buf[field::BU_FLAGS] = flag(bu.acknowledge, BU_ACKNOWLEDGE)
                    | flag(bu.home_registration, BU_HOME_REGISTRATION)
                    | flag(bu.link_local_compatibility, BU_LINK_LOCAL_COMPATIBILITY)
                    | flag(bu.key_management_mobility_capability, BU_KEY_MANAGEMENT)
                    | flag(bu.map_registration, BU_MAP_REGISTRATION);
                buf[field::BU_LIFETIME].copy_from_slice(&bu.lifetime.to_be_bytes());
            }
            MhRepr::BindingAcknowledgement(ba) => {
                buf[field::BA_STATUS] = ba.status;
                buf[field::BA_FLAGS] =
                    flag(ba.key_management_mobility_capability, BA_KEY_MANAGEMENT);
                buf[field::BA_SEQUENCE].copy_from_slice(&ba.sequence.to_be_bytes());
                buf[field::BA_LIFETIME].copy_from_slice(&ba.lifetime.to_be_bytes());
            }
            MhRepr::BindingError {
                status,
                home_address,
                ..
            } => {
                buf[field::BE_STATUS] = status;
                buf[field::BE_HOME_ADDRESS].copy_from_slice(&home_address.octets());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::mh_options::{
        MessageAuthentication, MobileNodeIdentifier, NonceIndices, VendorSpecific,
    };
    use proptest::prelude::*;

    fn hoa() -> Ipv6Addr {
        "2001:db8:1::100".parse().unwrap()
    }

    fn coa() -> Ipv6Addr {
        "2001:db8:2::100".parse().unwrap()
    }

    fn ha() -> Ipv6Addr {
        "2001:db8:1::1".parse().unwrap()
    }

    fn cn() -> Ipv6Addr {
        "2001:db8:3::3".parse().unwrap()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn parse<'a>(src: &Ipv6Addr, dst: &Ipv6Addr, buf: &'a [u8]) -> Result<MhRepr<'a>> {
        MhRepr::parse(
            src,
            dst,
            &MobilityHeader::new_checked(buf)?,
            ChecksumMode::Verify,
        )
    }

    fn emit(src: &Ipv6Addr, dst: &Ipv6Addr, repr: &MhRepr<'_>) -> Vec<u8> {
        let mut buf = vec![0xa5u8; repr.header_len()];
        repr.emit(src, dst, &mut MobilityHeader::new_unchecked(&mut buf[..]))
            .unwrap();
        buf
    }

    // Home Test Init home address -> correspondent, built by scapy (tests/vectors/gen_mh.py).
    const HOME_TEST_INIT: &str = "3b01010056da00000102030405060708";

    // Binding Update home address (via Home Address option) -> correspondent with
    // Alternate Care-of Address, Nonce Indices and Binding Authorization Data, by scapy.
    const BU_ROUTE_OPTIMISATION: &str = "3b0605007e0712349000003c0100031020010db80002000000\
        00000000000200040401020304010200000\
        50c00112233445566778899aabb";

    // Binding Update to the home agent with NAI, replay protection and MN-HA
    // authentication (RFC 4285), by scapy.
    const BU_RFC4285: &str = "3b07050092c90002d80000960810016d6e31406578616d706c652e6f\
        7267010200000a08e1a2b3c4d5e6f7080009110100000100cccccccccccccccccccccccc";

    #[test]
    fn home_test_init_from_scapy_parses_and_re_emits() {
        let b = unhex(HOME_TEST_INIT);
        let h = MobilityHeader::new_checked(&b[..]).unwrap();
        assert_eq!(h.payload_proto(), 59);
        assert_eq!(h.header_len(), 16);
        assert_eq!(h.mh_type(), message_type::HOME_TEST_INIT);
        assert_eq!(h.checksum(), 0x56da);
        assert!(h.verify_checksum(&hoa(), &cn()));
        let r = parse(&hoa(), &cn(), &b).unwrap();
        assert_eq!(
            r,
            MhRepr::HomeTestInit {
                cookie: [1, 2, 3, 4, 5, 6, 7, 8],
                options: MobilityOptionsRepr::default()
            }
        );
        assert_eq!(emit(&hoa(), &cn(), &r), b);
    }

    #[test]
    fn binding_update_with_route_optimisation_options_parses_and_re_emits() {
        let b = unhex(BU_ROUTE_OPTIMISATION);
        let r = parse(&hoa(), &cn(), &b).unwrap();
        let MhRepr::BindingUpdate(bu) = r else {
            panic!("{r:?}")
        };
        assert_eq!(bu.sequence, 0x1234);
        assert!(bu.acknowledge && bu.key_management_mobility_capability);
        assert!(!bu.home_registration && !bu.link_local_compatibility && !bu.map_registration);
        assert_eq!(bu.lifetime, 60);
        assert_eq!(
            bu.options.alternate_care_of_address,
            Some("2001:db8:2::200".parse().unwrap())
        );
        assert_eq!(
            bu.options.nonce_indices,
            Some(NonceIndices {
                home_nonce_index: 0x0102,
                care_of_nonce_index: 0x0304
            })
        );
        assert_eq!(
            bu.options.binding_authorization_data,
            Some([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb])
        );
        assert_eq!(emit(&hoa(), &cn(), &r), b);
    }

    #[test]
    fn map_registration_is_the_bit_after_k() {
        let bu = BindingUpdate {
            map_registration: true,
            ..Default::default()
        };
        let b = emit(&coa(), &ha(), &MhRepr::BindingUpdate(bu));
        assert_eq!(b[8], 0x08);
        let bu = BindingUpdate {
            key_management_mobility_capability: true,
            ..Default::default()
        };
        assert_eq!(emit(&coa(), &ha(), &MhRepr::BindingUpdate(bu))[8], 0x10);
    }

    #[test]
    fn binding_authorization_layout_covers_the_header_but_the_authenticator() {
        let b = unhex(BU_ROUTE_OPTIMISATION);
        let h = MobilityHeader::new_checked(&b[..]).unwrap();
        let l = h.binding_authorization_layout().unwrap();
        assert_eq!(l.authenticator, 44..56);
        assert_eq!(&b[l.authenticator.clone()], &b[44..]);
        assert_eq!(l.covered, 0..44);
        assert_eq!(l.checksum, 4..6);
        assert!(l.after.is_empty());
        assert_eq!(h.message_authentication_layout(), None);
    }

    #[test]
    fn message_authentication_layout_covers_up_to_the_spi() {
        let b = unhex(BU_RFC4285);
        let h = MobilityHeader::new_checked(&b[..]).unwrap();
        let l = h.message_authentication_layout().unwrap();
        // Option at 45 (4n+1): type, length, subtype, SPI 48..52.
        assert_eq!(b[45], option_type::MESSAGE_AUTHENTICATION);
        assert_eq!(l.covered, 0..52);
        assert_eq!(&b[48..52], &[0, 0, 1, 0]);
        assert_eq!(l.authenticator, 52..64);
        assert!(l.after.is_empty());
        let r = parse(&hoa(), &ha(), &b).unwrap();
        let MhRepr::BindingUpdate(bu) = r else {
            panic!("{r:?}")
        };
        assert!(bu.map_registration && bu.home_registration);
        assert_eq!(
            bu.options.mobile_node_identifier,
            Some(MobileNodeIdentifier {
                subtype: 1,
                identifier: b"mn1@example.org"
            })
        );
        assert_eq!(bu.options.replay_protection, Some(0xe1a2_b3c4_d5e6_f708));
        assert_eq!(
            bu.options.message_authentication,
            Some(MessageAuthentication {
                subtype: 1,
                spi: 0x100,
                authentication_data: &[0xcc; 12]
            })
        );
        assert_eq!(emit(&hoa(), &ha(), &r), b);
    }

    #[test]
    fn filled_checksum_verifies_after_an_authenticator_is_written() {
        let mut b = unhex(BU_ROUTE_OPTIMISATION);
        let mut h = MobilityHeader::new_checked(&mut b[..]).unwrap();
        let l = h.binding_authorization_layout().unwrap();
        h.options_mut()[l.authenticator.start - 12..].fill(0x42);
        assert!(!h.verify_checksum(&hoa(), &cn()));
        h.fill_checksum(&hoa(), &cn());
        assert!(h.verify_checksum(&hoa(), &cn()));
    }

    #[test]
    fn short_buffer_or_length_beyond_it_is_truncated() {
        let b = unhex(HOME_TEST_INIT);
        assert_eq!(
            MobilityHeader::new_checked(&b[..7]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            MobilityHeader::new_checked(&b[..15]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn length_too_short_for_the_type_is_bad_header_length() {
        // A Home Test needs 24 bytes; this one claims 16.
        let mut b = unhex("3b01030000000007010203040506070800000000");
        b.resize(24, 0);
        assert_eq!(
            MobilityHeader::new_checked(&b[..]).unwrap_err(),
            Error::BadHeaderLength
        );
        // A Binding Update of Header Len 0.
        let b = [59, 0, 5, 0, 0, 0, 0, 1];
        assert_eq!(
            MobilityHeader::new_checked(&b[..]).unwrap_err(),
            Error::BadHeaderLength
        );
    }

    #[test]
    fn option_overrunning_the_header_is_bad_option() {
        // Binding Update, options at 12: PadN claiming 3 data bytes in a 4-byte area.
        let b = [59, 1, 5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 0, 0];
        assert_eq!(
            MobilityHeader::new_checked(&b[..]).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn corrupted_message_is_bad_checksum_unless_ignored() {
        let mut b = unhex(HOME_TEST_INIT);
        b[10] ^= 1;
        assert_eq!(parse(&hoa(), &cn(), &b), Err(Error::BadChecksum));
        let h = MobilityHeader::new_checked(&b[..]).unwrap();
        assert!(MhRepr::parse(&hoa(), &cn(), &h, ChecksumMode::Ignore).is_ok());
        let b = unhex(HOME_TEST_INIT);
        assert_eq!(parse(&coa(), &cn(), &b), Err(Error::BadChecksum));
    }

    #[test]
    fn payload_proto_other_than_59_is_unsupported() {
        let mut b = unhex(HOME_TEST_INIT);
        b[0] = 6;
        let mut h = MobilityHeader::new_checked(&mut b[..]).unwrap();
        h.fill_checksum(&hoa(), &cn());
        assert_eq!(parse(&hoa(), &cn(), &b), Err(Error::Unsupported));
    }

    #[test]
    fn unknown_mh_type_is_unsupported_with_an_empty_option_area() {
        let mut b = [59u8, 0, 42, 0, 0, 0, 0xde, 0xad];
        let mut h = MobilityHeader::new_checked(&mut b[..]).unwrap();
        h.fill_checksum(&hoa(), &cn());
        assert!(h.options().is_empty());
        assert_eq!(h.message_data(), &[0xde, 0xad]);
        assert_eq!(h.binding_authorization_layout(), None);
        assert_eq!(parse(&hoa(), &cn(), &b), Err(Error::Unsupported));
    }

    #[test]
    fn emit_into_short_buffer_is_truncated_and_overlong_option_is_oversized() {
        let r = MhRepr::BindingRefreshRequest {
            options: MobilityOptionsRepr::default(),
        };
        let mut b = [0u8; 7];
        assert_eq!(
            r.emit(
                &hoa(),
                &cn(),
                &mut MobilityHeader::new_unchecked(&mut b[..])
            ),
            Err(Error::Truncated)
        );
        let long = [b'x'; 255];
        let r = MhRepr::BindingUpdate(BindingUpdate {
            options: MobilityOptionsRepr {
                mobile_node_identifier: Some(MobileNodeIdentifier {
                    subtype: 1,
                    identifier: &long,
                }),
                ..Default::default()
            },
            ..Default::default()
        });
        let mut b = vec![0u8; r.header_len()];
        assert_eq!(
            r.emit(
                &hoa(),
                &cn(),
                &mut MobilityHeader::new_unchecked(&mut b[..])
            ),
            Err(Error::Oversized)
        );
    }

    #[test]
    fn binding_error_and_acknowledgement_fields_round_trip() {
        let be = MhRepr::BindingError {
            status: binding_error_status::UNRECOGNIZED_MH_TYPE,
            home_address: hoa(),
            options: MobilityOptionsRepr::default(),
        };
        let b = emit(&cn(), &coa(), &be);
        assert_eq!(b.len(), 24);
        assert_eq!(b[6], 2);
        assert_eq!(parse(&cn(), &coa(), &b), Ok(be));
        let ba = MhRepr::BindingAcknowledgement(BindingAcknowledgement {
            status: binding_ack_status::INVALID_CARE_OF_ADDRESS,
            key_management_mobility_capability: true,
            sequence: 7,
            lifetime: 900,
            options: MobilityOptionsRepr {
                binding_refresh_advice: Some(450),
                ..Default::default()
            },
        });
        let b = emit(&ha(), &hoa(), &ba);
        assert_eq!(&b[6..12], &[174, 0x80, 0, 7, 0x03, 0x84]);
        assert_eq!(parse(&ha(), &hoa(), &b), Ok(ba));
    }

    fn arb_addr() -> impl Strategy<Value = Ipv6Addr> {
        any::<[u8; 16]>().prop_map(Ipv6Addr::from)
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    type Owned = (
        Option<(u8, Vec<u8>)>,
        Option<(u8, u32, Vec<u8>)>,
        Option<(u32, u8, Vec<u8>)>,
    );

    fn arb_owned() -> impl Strategy<Value = Owned> {
        (
            proptest::option::of((any::<u8>(), bytes(40))),
            proptest::option::of((any::<u8>(), any::<u32>(), bytes(40))),
            proptest::option::of((any::<u32>(), any::<u8>(), bytes(40))),
        )
    }

    #[allow(clippy::type_complexity)]
    fn arb_fixed() -> impl Strategy<
        Value = (
            Option<u16>,
            Option<Ipv6Addr>,
            Option<(u16, u16)>,
            Option<u64>,
            Option<[u8; 12]>,
        ),
    > {
        (
            proptest::option::of(any::<u16>()),
            proptest::option::of(arb_addr()),
            proptest::option::of(any::<(u16, u16)>()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<[u8; 12]>()),
        )
    }

    proptest! {
        #[test]
        fn every_message_round_trips(
            mh_type in 0u8..8, flags in any::<[bool; 6]>(), a in any::<u16>(),
            b in any::<u16>(), status in any::<u8>(), c1 in any::<[u8; 8]>(),
            c2 in any::<[u8; 8]>(), addr in arb_addr(), src in arb_addr(), dst in arb_addr(),
            fixed in arb_fixed(), owned in arb_owned(),
        ) {
            let (bra, alt, nonce, replay, bad) = fixed;
            let (mnid, auth, vendor) = &owned;
            let options = MobilityOptionsRepr {
                binding_refresh_advice: bra,
                alternate_care_of_address: alt,
                nonce_indices: nonce.map(|(h, c)| NonceIndices {
                    home_nonce_index: h, care_of_nonce_index: c,
                }),
                mobile_node_identifier: mnid.as_ref().map(|(s, id)| MobileNodeIdentifier {
                    subtype: *s, identifier: id,
                }),
                vendor_specific: vendor.as_ref().map(|(v, s, d)| VendorSpecific {
                    vendor_id: *v, subtype: *s, data: d,
                }),
                replay_protection: replay,
                message_authentication: auth.as_ref().map(|(s, spi, d)| MessageAuthentication {
                    subtype: *s, spi: *spi, authentication_data: d,
                }),
                binding_authorization_data: bad,
            };
            use message_type::*;
            let repr = match mh_type {
                BINDING_REFRESH_REQUEST => MhRepr::BindingRefreshRequest { options },
                HOME_TEST_INIT => MhRepr::HomeTestInit { cookie: c1, options },
                CARE_OF_TEST_INIT => MhRepr::CareOfTestInit { cookie: c1, options },
                HOME_TEST => MhRepr::HomeTest {
                    nonce_index: a, cookie: c1, keygen_token: c2, options,
                },
                CARE_OF_TEST => MhRepr::CareOfTest {
                    nonce_index: a, cookie: c1, keygen_token: c2, options,
                },
                BINDING_UPDATE => MhRepr::BindingUpdate(BindingUpdate {
                    sequence: a, acknowledge: flags[0], home_registration: flags[1],
                    link_local_compatibility: flags[2],
                    key_management_mobility_capability: flags[3],
                    map_registration: flags[4], lifetime: b, options,
                }),
                BINDING_ACKNOWLEDGEMENT => MhRepr::BindingAcknowledgement(BindingAcknowledgement {
                    status, key_management_mobility_capability: flags[5], sequence: a,
                    lifetime: b, options,
                }),
                _ => MhRepr::BindingError { status, home_address: addr, options },
            };
            let buf = emit(&src, &dst, &repr);
            prop_assert_eq!(buf.len() % 8, 0);
            let h = MobilityHeader::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(h.header_len(), buf.len());
            if let Some(l) = h.binding_authorization_layout() {
                prop_assert_eq!(l.authenticator.end, buf.len());
                prop_assert_eq!((l.authenticator.start - 2) % 8, 2);
                prop_assert_eq!(&buf[l.authenticator], &bad.unwrap()[..]);
            }
            if let Some(l) = h.message_authentication_layout() {
                prop_assert_eq!(&buf[l.authenticator], auth.as_ref().unwrap().2.as_slice());
            }
            prop_assert_eq!(parse(&src, &dst, &buf).unwrap(), repr);
        }

        #[test]
        fn options_land_at_their_alignment(
            bra in proptest::option::of(any::<u16>()), alt in proptest::option::of(arb_addr()),
            replay in proptest::option::of(any::<u64>()), mnid in bytes(20),
            auth in bytes(20), start in prop_oneof![Just(8usize), Just(12), Just(16), Just(24)],
        ) {
            let options = MobilityOptionsRepr {
                binding_refresh_advice: bra,
                alternate_care_of_address: alt,
                mobile_node_identifier: Some(MobileNodeIdentifier { subtype: 1, identifier: &mnid }),
                replay_protection: replay,
                message_authentication: Some(MessageAuthentication {
                    subtype: 1, spi: 1, authentication_data: &auth,
                }),
                ..Default::default()
            };
            let end = options.end(start);
            let mut buf = vec![0u8; end];
            prop_assert_eq!(options.emit(&mut buf, start), Ok(end));
            let mut iter = MobilityOptionsIter::new(&buf[start..]);
            loop {
                let at = start + iter.offset();
                let Some(option) = iter.next() else { break };
                let option = option.unwrap();
                let (x, y) = option.alignment();
                prop_assert_eq!(at % x, y, "{:?}", option);
            }
        }

        #[test]
        fn no_panic_on_arbitrary_bytes(
            mh_type in prop_oneof![0u8..8, any::<u8>()], body in bytes(200),
            src in arb_addr(), dst in arb_addr(),
        ) {
            let units = ((body.len() + 4) / 8).saturating_sub(1) as u8;
            let mut buf = vec![59, units, mh_type, 0];
            buf.extend_from_slice(&body);
            for b in [&buf[..], &body[..]] {
                if let Ok(h) = MobilityHeader::new_checked(b) {
                    let _ = MhRepr::parse(&src, &dst, &h, ChecksumMode::Ignore);
                    let _ = MhRepr::parse(&src, &dst, &h, ChecksumMode::Verify);
                    let _ = h.iter_options().count();
                    let _ = (h.binding_authorization_layout(), h.message_authentication_layout());
                    let _ = (h.message_data(), h.options());
                }
                let _ = MobilityOptionsRepr::parse(b);
            }
        }
    }
}
