//! Mobile IPv4 (RFC 5944): the Registration Request and Reply carried in UDP port 434
//! (§3.3, §3.4) with their extensions (§1.9–§1.11, §3.5), and the agent advertisement
//! extensions (§2.1.1–§2.1.3) that follow the router address entries of an ICMP router
//! advertisement ([`Icmpv4Repr::RouterAdvertisement`](super::icmpv4::Icmpv4Repr)'s
//! `extensions`).

use super::{Error, Result};
use core::ops::Range;
use std::net::Ipv4Addr;

/// UDP port of Mobile IPv4 registration. RFC 5944 §3.1.
pub const PORT: u16 = 434;

fn be16(b: &[u8], r: Range<usize>) -> u16 {
    super::be16_at(b, r)
}

fn addr(b: &[u8], r: Range<usize>) -> Ipv4Addr {
    let s = &b[r];
    Ipv4Addr::new(s[0], s[1], s[2], s[3])
}

fn be32_at(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

/// The Type of a registration message. RFC 5944 §3.3, §3.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    /// Registration Request. RFC 5944 §3.3.
    pub const REGISTRATION_REQUEST: MessageType = MessageType(1);
    /// Registration Reply. RFC 5944 §3.4.
    pub const REGISTRATION_REPLY: MessageType = MessageType(3);
}

/// The flag byte of a Registration Request (S B D M G r T x). RFC 5944 §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegistrationFlags(pub u8);

impl RegistrationFlags {
    /// S: simultaneous bindings requested. RFC 5944 §3.3.
    pub const SIMULTANEOUS_BINDINGS: RegistrationFlags = RegistrationFlags(0x80);
    /// B: broadcast datagrams to be tunnelled. RFC 5944 §3.3.
    pub const BROADCAST: RegistrationFlags = RegistrationFlags(0x40);
    /// D: decapsulation by the mobile node (co-located care-of address). RFC 5944 §3.3.
    pub const DECAPSULATION_BY_MOBILE_NODE: RegistrationFlags = RegistrationFlags(0x20);
    /// M: minimal encapsulation requested. RFC 5944 §3.3.
    pub const MINIMAL_ENCAPSULATION: RegistrationFlags = RegistrationFlags(0x10);
    /// G: GRE encapsulation requested. RFC 5944 §3.3.
    pub const GRE_ENCAPSULATION: RegistrationFlags = RegistrationFlags(0x08);
    /// T: reverse tunnelling requested. RFC 5944 §3.3; RFC 3024.
    pub const REVERSE_TUNNELING: RegistrationFlags = RegistrationFlags(0x02);
    /// The r and x bits: sent as zero, ignored on reception. RFC 5944 §3.3.
    pub const IGNORED: RegistrationFlags = RegistrationFlags(0x05);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: RegistrationFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags without the r and x bits. RFC 5944 §3.3.
    pub fn without_ignored(self) -> RegistrationFlags {
        RegistrationFlags(self.0 & !Self::IGNORED.0)
    }
}

/// The Code of a Registration Reply. RFC 5944 §3.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyCode(pub u8);

impl ReplyCode {
    /// Registration accepted. RFC 5944 §3.4.
    pub const ACCEPTED: ReplyCode = ReplyCode(0);
    /// Accepted, but simultaneous mobility bindings unsupported. RFC 5944 §3.4.
    pub const ACCEPTED_NO_SIMULTANEOUS_BINDINGS: ReplyCode = ReplyCode(1);
    /// Denied by the foreign agent, reason unspecified. RFC 5944 §3.4.
    pub const FA_REASON_UNSPECIFIED: ReplyCode = ReplyCode(64);
    /// Denied by the foreign agent: mobile node failed authentication. RFC 5944 §3.4.
    pub const FA_MOBILE_NODE_FAILED_AUTHENTICATION: ReplyCode = ReplyCode(67);
    /// Denied by the foreign agent: requested lifetime too long. RFC 5944 §3.4.
    pub const FA_LIFETIME_TOO_LONG: ReplyCode = ReplyCode(69);
    /// Denied by the foreign agent: poorly formed Request. RFC 5944 §3.4.
    pub const FA_POORLY_FORMED_REQUEST: ReplyCode = ReplyCode(70);
    /// Denied by the home agent, reason unspecified. RFC 5944 §3.4.
    pub const HA_REASON_UNSPECIFIED: ReplyCode = ReplyCode(128);
    /// Denied by the home agent: administratively prohibited. RFC 5944 §3.4.
    pub const HA_ADMINISTRATIVELY_PROHIBITED: ReplyCode = ReplyCode(129);
    /// Denied by the home agent: insufficient resources. RFC 5944 §3.4.
    pub const HA_INSUFFICIENT_RESOURCES: ReplyCode = ReplyCode(130);
    /// Denied by the home agent: mobile node failed authentication. RFC 5944 §3.4.
    pub const HA_MOBILE_NODE_FAILED_AUTHENTICATION: ReplyCode = ReplyCode(131);
    /// Denied by the home agent: foreign agent failed authentication. RFC 5944 §3.4.
    pub const HA_FOREIGN_AGENT_FAILED_AUTHENTICATION: ReplyCode = ReplyCode(132);
    /// Denied by the home agent: registration Identification mismatch. RFC 5944 §3.4.
    pub const HA_IDENTIFICATION_MISMATCH: ReplyCode = ReplyCode(133);
    /// Denied by the home agent: poorly formed Request. RFC 5944 §3.4.
    pub const HA_POORLY_FORMED_REQUEST: ReplyCode = ReplyCode(134);
    /// Denied by the home agent: too many simultaneous mobility bindings. RFC 5944 §3.4.
    pub const HA_TOO_MANY_BINDINGS: ReplyCode = ReplyCode(135);
    /// Denied by the home agent: unknown home agent address. RFC 5944 §3.4.
    pub const HA_UNKNOWN_HOME_AGENT_ADDRESS: ReplyCode = ReplyCode(136);

    /// Whether the registration was accepted (codes 0 and 1). RFC 5944 §3.4.
    pub fn is_accepted(self) -> bool {
        self.0 <= 1
    }
}

/// What a receiver does with an extension it does not recognise. RFC 5944 §1.9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnknownExtensionAction {
    /// Types 0–127: reject the registration message (or silently discard the ICMP
    /// advertisement). RFC 5944 §1.9.
    Reject,
    /// Types 128–255: skip the extension and process the rest. RFC 5944 §1.9.
    Skip,
}

/// The action RFC 5944 §1.9 prescribes for an unrecognised extension of type `ext_type`.
pub fn unknown_extension_action(ext_type: u8) -> UnknownExtensionAction {
    if ext_type < 128 {
        UnknownExtensionAction::Reject
    } else {
        UnknownExtensionAction::Skip
    }
}

/// The Type of an extension of a registration message (their own number space).
/// RFC 5944 §1.9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegistrationExtensionType(pub u8);

impl RegistrationExtensionType {
    /// Mobile-Home Authentication Extension. RFC 5944 §3.5.2.
    pub const MN_HA_AUTHENTICATION: RegistrationExtensionType = RegistrationExtensionType(32);
    /// Mobile-Foreign Authentication Extension. RFC 5944 §3.5.3.
    pub const MN_FA_AUTHENTICATION: RegistrationExtensionType = RegistrationExtensionType(33);
    /// Foreign-Home Authentication Extension. RFC 5944 §3.5.4.
    pub const FA_HA_AUTHENTICATION: RegistrationExtensionType = RegistrationExtensionType(34);
    /// Generalized Mobile IP Authentication Extension, in the long format. RFC 3012;
    /// RFC 5944 §1.10.
    pub const GENERALIZED_AUTHENTICATION: RegistrationExtensionType = RegistrationExtensionType(36);
    /// Critical Vendor/Organization Specific Extension, in the long format. RFC 3115 (its
    /// Reserved byte sits where the Sub-Type is); RFC 5944 §1.10.
    pub const CRITICAL_VENDOR_SPECIFIC: RegistrationExtensionType = RegistrationExtensionType(38);
    /// Mobile Node NAI Extension. RFC 2794 §2.
    pub const NAI: RegistrationExtensionType = RegistrationExtensionType(131);
    /// Revocation Support Extension. RFC 3543.
    pub const REVOCATION_SUPPORT: RegistrationExtensionType = RegistrationExtensionType(137);

    /// Whether this type uses the long format (type, sub-type, 16-bit length) rather than
    /// type and 8-bit length. RFC 5944 §1.10.
    pub fn is_long_format(self) -> bool {
        self == Self::GENERALIZED_AUTHENTICATION || self == Self::CRITICAL_VENDOR_SPECIFIC
    }

    /// Whether this is one of the three authentication extensions of RFC 5944 §3.5.
    pub fn is_authentication(self) -> bool {
        (32..=34).contains(&self.0)
    }
}

/// Bytes of an authentication extension the authenticator covers: Type, Length and SPI.
/// RFC 5944 §3.5.1.
pub const AUTHENTICATION_COVERED_LEN: usize = 6;
const SPI_LEN: usize = 4;

/// The bytes of a registration message (the UDP payload) that the authenticator of the
/// authentication extension starting at `extension_offset` covers: the fixed message, all
/// prior extensions, and this extension's Type, Length and SPI. RFC 5944 §3.5.1.
pub fn authenticated_range(extension_offset: usize) -> Range<usize> {
    0..extension_offset.saturating_add(AUTHENTICATION_COVERED_LEN)
}

/// One extension of a registration message, borrowed from the packet. RFC 5944 §1.9–§1.11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationExtension<'a> {
    /// An MN-HA, MN-FA or FA-HA authentication extension. RFC 5944 §3.5.2–§3.5.4.
    Authentication {
        /// Type (32, 33 or 34).
        ext_type: RegistrationExtensionType,
        /// Security Parameter Index.
        spi: u32,
        /// Authenticator (16 bytes for the default HMAC-MD5). RFC 5944 §3.5.1.
        authenticator: &'a [u8],
    },
    /// The mobile node's Network Access Identifier. RFC 2794 §2.
    Nai(&'a [u8]),
    /// An extension in the long format (types 36 and 38). RFC 5944 §1.10.
    Long {
        /// Type.
        ext_type: RegistrationExtensionType,
        /// Sub-Type.
        sub_type: u8,
        /// Data after the 16-bit Length.
        data: &'a [u8],
    },
    /// Any other extension, as type and data (a short-format extension's Sub-Type is the
    /// first data byte); see [`unknown_extension_action`]. RFC 5944 §1.9, §1.11.
    Other {
        /// Type.
        ext_type: RegistrationExtensionType,
        /// Data after the Length.
        data: &'a [u8],
    },
}

impl<'a> RegistrationExtension<'a> {
    /// Reads the extension at the start of `bytes` and how many bytes it takes. A Length
    /// running past `bytes`, or an authentication extension too short for its SPI, is
    /// `BadOption`. RFC 5944 §1.9, §1.10, §3.5.
    pub fn parse(bytes: &'a [u8]) -> Result<(RegistrationExtension<'a>, usize)> {
        let (&t, rest) = bytes.split_first().ok_or(Error::BadOption)?;
        let ext_type = RegistrationExtensionType(t);
        if ext_type.is_long_format() {
            let head: [u8; 3] = rest
                .get(..3)
                .and_then(|h| h.try_into().ok())
                .ok_or(Error::BadOption)?;
            let len = usize::from(u16::from_be_bytes([head[1], head[2]]));
            let data = rest.get(3..3 + len).ok_or(Error::BadOption)?;
            let ext = RegistrationExtension::Long {
                ext_type,
                sub_type: head[0],
                data,
            };
            return Ok((ext, 4 + len));
        }
        let len = usize::from(*rest.first().ok_or(Error::BadOption)?);
        let data = rest.get(1..1 + len).ok_or(Error::BadOption)?;
        let ext = match ext_type {
            t if t.is_authentication() => RegistrationExtension::Authentication {
                ext_type,
                spi: be32_at(data, 0).ok_or(Error::BadOption)?,
                authenticator: data.get(SPI_LEN..).ok_or(Error::BadOption)?,
            },
            RegistrationExtensionType::NAI => RegistrationExtension::Nai(data),
            _ => RegistrationExtension::Other { ext_type, data },
        };
        Ok((ext, 2 + len))
    }

    /// Type.
    pub fn ext_type(&self) -> RegistrationExtensionType {
        match *self {
            RegistrationExtension::Authentication { ext_type, .. }
            | RegistrationExtension::Long { ext_type, .. }
            | RegistrationExtension::Other { ext_type, .. } => ext_type,
            RegistrationExtension::Nai(_) => RegistrationExtensionType::NAI,
        }
    }

    fn data_len(&self) -> usize {
        match self {
            RegistrationExtension::Authentication { authenticator, .. } => {
                SPI_LEN + authenticator.len()
            }
            RegistrationExtension::Nai(data)
            | RegistrationExtension::Long { data, .. }
            | RegistrationExtension::Other { data, .. } => data.len(),
        }
    }

    /// Bytes this extension takes, Type and Length included. RFC 5944 §1.9, §1.10.
    pub fn buffer_len(&self) -> usize {
        match self {
            RegistrationExtension::Long { .. } => 4 + self.data_len(),
            _ => 2 + self.data_len(),
        }
    }

    /// Writes the extension at the start of `buffer`: `Truncated` if it does not fit,
    /// `Oversized` if its data exceeds what Length can say (255, or 65535 in the long
    /// format). RFC 5944 §1.9, §1.10.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<()> {
        let out = buffer
            .get_mut(..self.buffer_len())
            .ok_or(Error::Truncated)?;
        out[0] = self.ext_type().0;
        let len = self.data_len();
        match *self {
            RegistrationExtension::Long { sub_type, data, .. } => {
                let len = u16::try_from(len).map_err(|_| Error::Oversized)?;
                out[1] = sub_type;
                out[2..4].copy_from_slice(&len.to_be_bytes());
                out[4..].copy_from_slice(data);
            }
            RegistrationExtension::Authentication {
                spi, authenticator, ..
            } => {
                out[1] = u8::try_from(len).map_err(|_| Error::Oversized)?;
                out[2..6].copy_from_slice(&spi.to_be_bytes());
                out[6..].copy_from_slice(authenticator);
            }
            RegistrationExtension::Nai(data) | RegistrationExtension::Other { data, .. } => {
                out[1] = u8::try_from(len).map_err(|_| Error::Oversized)?;
                out[2..].copy_from_slice(data);
            }
        }
        Ok(())
    }
}

/// An iterator over the extensions of a registration message, yielding each with its
/// offset in the message (for [`authenticated_range`]); it yields `BadOption` once for a
/// malformed extension and then stops. RFC 5944 §1.9.
#[derive(Debug, Clone)]
pub struct RegistrationExtensionIter<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for RegistrationExtensionIter<'a> {
    type Item = Result<(usize, RegistrationExtension<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RegistrationExtension::parse(self.rest) {
            Ok((ext, len)) => {
                let offset = self.offset;
                self.rest = self.rest.get(len..).unwrap_or(&[]);
                self.offset += len;
                Some(Ok((offset, ext)))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// The extensions of a registration message, checked to be well formed. RFC 5944 §1.9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegistrationExtensions<'a> {
    bytes: &'a [u8],
    base: usize,
}

impl<'a> RegistrationExtensions<'a> {
    /// The extensions in `bytes`, which start `base` bytes into the message (24 in a
    /// request, 20 in a reply); `BadOption` if any is malformed. RFC 5944 §1.9.
    pub fn new(bytes: &'a [u8], base: usize) -> Result<RegistrationExtensions<'a>> {
        let this = RegistrationExtensions { bytes, base };
        for ext in this.iter() {
            ext?;
        }
        Ok(this)
    }

    /// The extension bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The extensions with their offsets in the message. RFC 5944 §1.9.
    pub fn iter(&self) -> RegistrationExtensionIter<'a> {
        RegistrationExtensionIter {
            rest: self.bytes,
            offset: self.base,
        }
    }

    /// The first NAI, if any. RFC 2794 §2.
    pub fn nai(&self) -> Option<&'a [u8]> {
        self.iter().find_map(|e| match e {
            Ok((_, RegistrationExtension::Nai(nai))) => Some(nai),
            _ => None,
        })
    }

    /// The first authentication extension of `ext_type` with its offset in the message.
    /// RFC 5944 §3.5.
    pub fn authentication(
        &self,
        ext_type: RegistrationExtensionType,
    ) -> Option<(usize, RegistrationExtension<'a>)> {
        self.iter().find_map(|e| match e {
            Ok((off, ext @ RegistrationExtension::Authentication { ext_type: t, .. }))
                if t == ext_type =>
            {
                Some((off, ext))
            }
            _ => None,
        })
    }
}

mod request_field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const FLAGS: usize = 1;
    pub const LIFETIME: Range<usize> = 2..4;
    pub const HOME_ADDRESS: Range<usize> = 4..8;
    pub const HOME_AGENT: Range<usize> = 8..12;
    pub const CARE_OF_ADDRESS: Range<usize> = 12..16;
    pub const IDENTIFICATION: Range<usize> = 16..24;
    pub const EXTENSIONS: usize = 24;
}

/// Length of the fixed part of a Registration Request. RFC 5944 §3.3.
pub const REQUEST_LEN: usize = request_field::EXTENSIONS;

/// A zero-copy view of a Registration Request: the UDP payload. RFC 5944 §3.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRequestPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RegistrationRequestPacket<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> RegistrationRequestPacket<T> {
        RegistrationRequestPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<RegistrationRequestPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// A buffer shorter than 24 bytes is `Truncated`, a Type other than 1 `Unsupported`.
    /// RFC 5944 §3.3.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < REQUEST_LEN {
            return Err(Error::Truncated);
        }
        if self.msg_type() != MessageType::REGISTRATION_REQUEST {
            return Err(Error::Unsupported);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type (1). RFC 5944 §3.3.
    pub fn msg_type(&self) -> MessageType {
        MessageType(self.buffer.as_ref()[request_field::TYPE])
    }

    /// The flag byte as sent, r and x included. RFC 5944 §3.3.
    pub fn flags(&self) -> RegistrationFlags {
        RegistrationFlags(self.buffer.as_ref()[request_field::FLAGS])
    }

    /// Lifetime in seconds (0: deregistration, 0xffff: infinite). RFC 5944 §3.3.
    pub fn lifetime(&self) -> u16 {
        be16(self.buffer.as_ref(), request_field::LIFETIME)
    }

    /// Home Address. RFC 5944 §3.3.
    pub fn home_address(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), request_field::HOME_ADDRESS)
    }

    /// Home Agent. RFC 5944 §3.3.
    pub fn home_agent(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), request_field::HOME_AGENT)
    }

    /// Care-of Address. RFC 5944 §3.3.
    pub fn care_of_address(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), request_field::CARE_OF_ADDRESS)
    }

    /// Identification (a timestamp or nonce for replay protection). RFC 5944 §3.3, §5.7.
    pub fn identification(&self) -> u64 {
        let s = &self.buffer.as_ref()[request_field::IDENTIFICATION];
        u64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
    }

    /// The extension bytes after the fixed part. RFC 5944 §3.3.
    pub fn extensions_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[REQUEST_LEN..]
    }

    /// The extensions with their offsets in the message. RFC 5944 §1.9.
    pub fn extensions(&self) -> RegistrationExtensionIter<'_> {
        RegistrationExtensions {
            bytes: self.extensions_bytes(),
            base: REQUEST_LEN,
        }
        .iter()
    }

    /// The bytes the authenticator of the extension at `extension_offset` covers, if they
    /// are in the message. RFC 5944 §3.5.1.
    pub fn authenticated_bytes(&self, extension_offset: usize) -> Option<&[u8]> {
        self.buffer
            .as_ref()
            .get(authenticated_range(extension_offset))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RegistrationRequestPacket<T> {
    /// Sets Type. RFC 5944 §3.3.
    pub fn set_msg_type(&mut self, v: MessageType) {
        self.buffer.as_mut()[request_field::TYPE] = v.0;
    }

    /// Sets the flag byte as given. RFC 5944 §3.3.
    pub fn set_flags(&mut self, v: RegistrationFlags) {
        self.buffer.as_mut()[request_field::FLAGS] = v.0;
    }

    /// Sets Lifetime. RFC 5944 §3.3.
    pub fn set_lifetime(&mut self, v: u16) {
        self.buffer.as_mut()[request_field::LIFETIME].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets Home Address. RFC 5944 §3.3.
    pub fn set_home_address(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[request_field::HOME_ADDRESS].copy_from_slice(&a.octets());
    }

    /// Sets Home Agent. RFC 5944 §3.3.
    pub fn set_home_agent(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[request_field::HOME_AGENT].copy_from_slice(&a.octets());
    }

    /// Sets Care-of Address. RFC 5944 §3.3.
    pub fn set_care_of_address(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[request_field::CARE_OF_ADDRESS].copy_from_slice(&a.octets());
    }

    /// Sets Identification. RFC 5944 §3.3.
    pub fn set_identification(&mut self, v: u64) {
        self.buffer.as_mut()[request_field::IDENTIFICATION].copy_from_slice(&v.to_be_bytes());
    }

    /// The extension bytes after the fixed part, mutable. RFC 5944 §3.3.
    pub fn extensions_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[REQUEST_LEN..]
    }
}

/// The fields of a Registration Request; extensions are borrowed. RFC 5944 §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegistrationRequestRepr<'a> {
    /// Flags, without the r and x bits (ignored on reception).
    pub flags: RegistrationFlags,
    /// Lifetime in seconds.
    pub lifetime: u16,
    /// Home Address.
    pub home_address: Ipv4Addr,
    /// Home Agent.
    pub home_agent: Ipv4Addr,
    /// Care-of Address.
    pub care_of_address: Ipv4Addr,
    /// Identification.
    pub identification: u64,
    /// Extensions.
    pub extensions: RegistrationExtensions<'a>,
}

impl<'a> RegistrationRequestRepr<'a> {
    /// Reads a checked request; a malformed extension is `BadOption`. Whether unknown
    /// extensions are acceptable is the caller's decision ([`unknown_extension_action`]).
    /// RFC 5944 §3.3.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &RegistrationRequestPacket<&'a T>,
    ) -> Result<RegistrationRequestRepr<'a>> {
        packet.check_len()?;
        let buffer: &'a [u8] = packet.buffer.as_ref();
        Ok(RegistrationRequestRepr {
            flags: packet.flags().without_ignored(),
            lifetime: packet.lifetime(),
            home_address: packet.home_address(),
            home_agent: packet.home_agent(),
            care_of_address: packet.care_of_address(),
            identification: packet.identification(),
            extensions: RegistrationExtensions::new(
                buffer.get(REQUEST_LEN..).unwrap_or(&[]),
                REQUEST_LEN,
            )?,
        })
    }

    /// Length of the fixed part: 24.
    pub fn header_len(&self) -> usize {
        REQUEST_LEN
    }

    /// Length of the whole message.
    pub fn buffer_len(&self) -> usize {
        REQUEST_LEN + self.extensions.as_bytes().len()
    }

    /// Writes the message (r and x as zero) into `packet`, which must hold
    /// [`buffer_len`](Self::buffer_len) bytes. RFC 5944 §3.3.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut RegistrationRequestPacket<T>) {
        packet.set_msg_type(MessageType::REGISTRATION_REQUEST);
        packet.set_flags(self.flags.without_ignored());
        packet.set_lifetime(self.lifetime);
        packet.set_home_address(self.home_address);
        packet.set_home_agent(self.home_agent);
        packet.set_care_of_address(self.care_of_address);
        packet.set_identification(self.identification);
        let ext = self.extensions.as_bytes();
        packet.extensions_mut()[..ext.len()].copy_from_slice(ext);
    }
}

mod reply_field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const LIFETIME: Range<usize> = 2..4;
    pub const HOME_ADDRESS: Range<usize> = 4..8;
    pub const HOME_AGENT: Range<usize> = 8..12;
    pub const IDENTIFICATION: Range<usize> = 12..20;
    pub const EXTENSIONS: usize = 20;
}

/// Length of the fixed part of a Registration Reply. RFC 5944 §3.4.
pub const REPLY_LEN: usize = reply_field::EXTENSIONS;

/// A zero-copy view of a Registration Reply: the UDP payload. RFC 5944 §3.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationReplyPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RegistrationReplyPacket<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> RegistrationReplyPacket<T> {
        RegistrationReplyPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<RegistrationReplyPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// A buffer shorter than 20 bytes is `Truncated`, a Type other than 3 `Unsupported`.
    /// RFC 5944 §3.4.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < REPLY_LEN {
            return Err(Error::Truncated);
        }
        if self.msg_type() != MessageType::REGISTRATION_REPLY {
            return Err(Error::Unsupported);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type (3). RFC 5944 §3.4.
    pub fn msg_type(&self) -> MessageType {
        MessageType(self.buffer.as_ref()[reply_field::TYPE])
    }

    /// Code. RFC 5944 §3.4.
    pub fn code(&self) -> ReplyCode {
        ReplyCode(self.buffer.as_ref()[reply_field::CODE])
    }

    /// Lifetime granted, in seconds. RFC 5944 §3.4.
    pub fn lifetime(&self) -> u16 {
        be16(self.buffer.as_ref(), reply_field::LIFETIME)
    }

    /// Home Address. RFC 5944 §3.4.
    pub fn home_address(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), reply_field::HOME_ADDRESS)
    }

    /// Home Agent. RFC 5944 §3.4.
    pub fn home_agent(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), reply_field::HOME_AGENT)
    }

    /// Identification. RFC 5944 §3.4.
    pub fn identification(&self) -> u64 {
        let s = &self.buffer.as_ref()[reply_field::IDENTIFICATION];
        u64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
    }

    /// The extension bytes after the fixed part. RFC 5944 §3.4.
    pub fn extensions_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[REPLY_LEN..]
    }

    /// The extensions with their offsets in the message. RFC 5944 §1.9.
    pub fn extensions(&self) -> RegistrationExtensionIter<'_> {
        RegistrationExtensions {
            bytes: self.extensions_bytes(),
            base: REPLY_LEN,
        }
        .iter()
    }

    /// The bytes the authenticator of the extension at `extension_offset` covers, if they
    /// are in the message. RFC 5944 §3.5.1.
    pub fn authenticated_bytes(&self, extension_offset: usize) -> Option<&[u8]> {
        self.buffer
            .as_ref()
            .get(authenticated_range(extension_offset))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RegistrationReplyPacket<T> {
    /// Sets Type. RFC 5944 §3.4.
    pub fn set_msg_type(&mut self, v: MessageType) {
        self.buffer.as_mut()[reply_field::TYPE] = v.0;
    }

    /// Sets Code. RFC 5944 §3.4.
    pub fn set_code(&mut self, v: ReplyCode) {
        self.buffer.as_mut()[reply_field::CODE] = v.0;
    }

    /// Sets Lifetime. RFC 5944 §3.4.
    pub fn set_lifetime(&mut self, v: u16) {
        self.buffer.as_mut()[reply_field::LIFETIME].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets Home Address. RFC 5944 §3.4.
    pub fn set_home_address(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[reply_field::HOME_ADDRESS].copy_from_slice(&a.octets());
    }

    /// Sets Home Agent. RFC 5944 §3.4.
    pub fn set_home_agent(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[reply_field::HOME_AGENT].copy_from_slice(&a.octets());
    }

    /// Sets Identification. RFC 5944 §3.4.
    pub fn set_identification(&mut self, v: u64) {
        self.buffer.as_mut()[reply_field::IDENTIFICATION].copy_from_slice(&v.to_be_bytes());
    }

    /// The extension bytes after the fixed part, mutable. RFC 5944 §3.4.
    pub fn extensions_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[REPLY_LEN..]
    }
}

/// The fields of a Registration Reply; extensions are borrowed. RFC 5944 §3.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegistrationReplyRepr<'a> {
    /// Code.
    pub code: ReplyCode,
    /// Lifetime granted, in seconds.
    pub lifetime: u16,
    /// Home Address.
    pub home_address: Ipv4Addr,
    /// Home Agent.
    pub home_agent: Ipv4Addr,
    /// Identification.
    pub identification: u64,
    /// Extensions.
    pub extensions: RegistrationExtensions<'a>,
}

impl<'a> RegistrationReplyRepr<'a> {
    /// Reads a checked reply; a malformed extension is `BadOption`. RFC 5944 §3.4.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &RegistrationReplyPacket<&'a T>,
    ) -> Result<RegistrationReplyRepr<'a>> {
        packet.check_len()?;
        let buffer: &'a [u8] = packet.buffer.as_ref();
        Ok(RegistrationReplyRepr {
            code: packet.code(),
            lifetime: packet.lifetime(),
            home_address: packet.home_address(),
            home_agent: packet.home_agent(),
            identification: packet.identification(),
            extensions: RegistrationExtensions::new(
                buffer.get(REPLY_LEN..).unwrap_or(&[]),
                REPLY_LEN,
            )?,
        })
    }

    /// Length of the fixed part: 20.
    pub fn header_len(&self) -> usize {
        REPLY_LEN
    }

    /// Length of the whole message.
    pub fn buffer_len(&self) -> usize {
        REPLY_LEN + self.extensions.as_bytes().len()
    }

    /// Writes the message into `packet`, which must hold [`buffer_len`](Self::buffer_len)
    /// bytes. RFC 5944 §3.4.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut RegistrationReplyPacket<T>) {
        packet.set_msg_type(MessageType::REGISTRATION_REPLY);
        packet.set_code(self.code);
        packet.set_lifetime(self.lifetime);
        packet.set_home_address(self.home_address);
        packet.set_home_agent(self.home_agent);
        packet.set_identification(self.identification);
        let ext = self.extensions.as_bytes();
        packet.extensions_mut()[..ext.len()].copy_from_slice(ext);
    }
}

/// The Type of an extension of an ICMP router advertisement (their own number space).
/// RFC 5944 §1.9, §2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgentExtensionType(pub u8);

impl AgentExtensionType {
    /// One-byte Padding: a single byte, no Length. RFC 5944 §2.1.3.
    pub const ONE_BYTE_PADDING: AgentExtensionType = AgentExtensionType(0);
    /// Mobility Agent Advertisement Extension. RFC 5944 §2.1.1.
    pub const MOBILITY_AGENT_ADVERTISEMENT: AgentExtensionType = AgentExtensionType(16);
    /// Prefix-Lengths Extension. RFC 5944 §2.1.2.
    pub const PREFIX_LENGTHS: AgentExtensionType = AgentExtensionType(19);
}

/// The 16 flag bits of a Mobility Agent Advertisement (R B H F M G r T U X I and five
/// reserved bits). RFC 5944 §2.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AgentAdvertisementFlags(pub u16);

impl AgentAdvertisementFlags {
    /// R: registration required. RFC 5944 §2.1.1.
    pub const REGISTRATION_REQUIRED: AgentAdvertisementFlags = AgentAdvertisementFlags(0x8000);
    /// B: busy. RFC 5944 §2.1.1.
    pub const BUSY: AgentAdvertisementFlags = AgentAdvertisementFlags(0x4000);
    /// H: home agent. RFC 5944 §2.1.1.
    pub const HOME_AGENT: AgentAdvertisementFlags = AgentAdvertisementFlags(0x2000);
    /// F: foreign agent. RFC 5944 §2.1.1.
    pub const FOREIGN_AGENT: AgentAdvertisementFlags = AgentAdvertisementFlags(0x1000);
    /// M: minimal encapsulation supported. RFC 5944 §2.1.1.
    pub const MINIMAL_ENCAPSULATION: AgentAdvertisementFlags = AgentAdvertisementFlags(0x0800);
    /// G: GRE encapsulation supported. RFC 5944 §2.1.1.
    pub const GRE_ENCAPSULATION: AgentAdvertisementFlags = AgentAdvertisementFlags(0x0400);
    /// T: reverse tunnelling supported. RFC 5944 §2.1.1; RFC 3024.
    pub const REVERSE_TUNNELING: AgentAdvertisementFlags = AgentAdvertisementFlags(0x0100);
    /// U: UDP tunnelling supported. RFC 5944 §2.1.1; RFC 3519.
    pub const UDP_TUNNELING: AgentAdvertisementFlags = AgentAdvertisementFlags(0x0080);
    /// X: registration revocation supported. RFC 5944 §2.1.1; RFC 3543.
    pub const REVOCATION: AgentAdvertisementFlags = AgentAdvertisementFlags(0x0040);
    /// I: regional registration supported. RFC 5944 §2.1.1; RFC 4857.
    pub const REGIONAL_REGISTRATION: AgentAdvertisementFlags = AgentAdvertisementFlags(0x0020);
    /// The r bit and the five reserved bits: sent as zero, ignored on reception.
    /// RFC 5944 §2.1.1.
    pub const IGNORED: AgentAdvertisementFlags = AgentAdvertisementFlags(0x021f);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: AgentAdvertisementFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags without the ignored bits. RFC 5944 §2.1.1.
    pub fn without_ignored(self) -> AgentAdvertisementFlags {
        AgentAdvertisementFlags(self.0 & !Self::IGNORED.0)
    }
}

/// Most care-of addresses one advertisement extension can list (Length ≤ 255).
/// RFC 5944 §2.1.1.
pub const MAX_CARE_OF_ADDRESSES: usize = (255 - AGENT_ADVERTISEMENT_FIXED_LEN) / 4;
const AGENT_ADVERTISEMENT_FIXED_LEN: usize = 6;

/// A zero-copy view of the care-of addresses of an agent advertisement. RFC 5944 §2.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CareOfAddresses<'a> {
    bytes: &'a [u8],
}

impl<'a> CareOfAddresses<'a> {
    /// A view of `bytes` as addresses: a length not a multiple of 4 is `BadLength`, more
    /// than [`MAX_CARE_OF_ADDRESSES`] `Oversized`. RFC 5944 §2.1.1.
    pub fn new(bytes: &'a [u8]) -> Result<CareOfAddresses<'a>> {
        if bytes.len() % 4 != 0 {
            return Err(Error::BadLength);
        }
        if bytes.len() / 4 > MAX_CARE_OF_ADDRESSES {
            return Err(Error::Oversized);
        }
        Ok(CareOfAddresses { bytes })
    }

    /// The raw address bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.bytes.len() / 4
    }

    /// Whether there are none (allowed only without the F bit). RFC 5944 §2.1.1.
    pub fn is_empty(&self) -> bool {
        self.bytes.len() < 4
    }

    /// Address `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<Ipv4Addr> {
        let start = index.checked_mul(4)?;
        let s: [u8; 4] = self.bytes.get(start..start + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(s))
    }

    /// The addresses in order.
    pub fn iter(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        self.bytes
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
    }
}

mod advertisement_field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const LENGTH: usize = 1;
    pub const SEQUENCE_NUMBER: Range<usize> = 2..4;
    pub const REGISTRATION_LIFETIME: Range<usize> = 4..6;
    pub const FLAGS: Range<usize> = 6..8;
    pub const CARE_OF_ADDRESSES: usize = 8;
}

/// A zero-copy view of a Mobility Agent Advertisement Extension. RFC 5944 §2.1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAdvertisementPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AgentAdvertisementPacket<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> AgentAdvertisementPacket<T> {
        AgentAdvertisementPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<AgentAdvertisementPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks, in order: fewer than 2 bytes is `Truncated`, a Type other than 16
    /// `Unsupported`, a Length that is not 6 + 4N `BadOption`, a Length running past the
    /// buffer `BadOption`. RFC 5944 §2.1.1.
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < 2 {
            return Err(Error::Truncated);
        }
        if self.ext_type() != AgentExtensionType::MOBILITY_AGENT_ADVERTISEMENT {
            return Err(Error::Unsupported);
        }
        let len = usize::from(self.length());
        if len < AGENT_ADVERTISEMENT_FIXED_LEN || (len - AGENT_ADVERTISEMENT_FIXED_LEN) % 4 != 0 {
            return Err(Error::BadOption);
        }
        if 2 + len > b.len() {
            return Err(Error::BadOption);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type (16). RFC 5944 §2.1.1.
    pub fn ext_type(&self) -> AgentExtensionType {
        AgentExtensionType(self.buffer.as_ref()[advertisement_field::TYPE])
    }

    /// Length: 6 + 4 × number of care-of addresses. RFC 5944 §2.1.1.
    pub fn length(&self) -> u8 {
        self.buffer.as_ref()[advertisement_field::LENGTH]
    }

    /// Sequence Number. RFC 5944 §2.1.1.
    pub fn sequence_number(&self) -> u16 {
        be16(self.buffer.as_ref(), advertisement_field::SEQUENCE_NUMBER)
    }

    /// Registration Lifetime in seconds (0xffff: infinite). RFC 5944 §2.1.1.
    pub fn registration_lifetime(&self) -> u16 {
        be16(
            self.buffer.as_ref(),
            advertisement_field::REGISTRATION_LIFETIME,
        )
    }

    /// The flag bits as sent, ignored bits included. RFC 5944 §2.1.1.
    pub fn flags(&self) -> AgentAdvertisementFlags {
        AgentAdvertisementFlags(be16(self.buffer.as_ref(), advertisement_field::FLAGS))
    }

    /// The care-of addresses. RFC 5944 §2.1.1.
    pub fn care_of_addresses(&self) -> CareOfAddresses<'_> {
        let end = 2 + usize::from(self.length());
        CareOfAddresses {
            bytes: &self.buffer.as_ref()[advertisement_field::CARE_OF_ADDRESSES..end],
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> AgentAdvertisementPacket<T> {
    /// Sets Type. RFC 5944 §2.1.1.
    pub fn set_ext_type(&mut self, v: AgentExtensionType) {
        self.buffer.as_mut()[advertisement_field::TYPE] = v.0;
    }

    /// Sets Length. RFC 5944 §2.1.1.
    pub fn set_length(&mut self, v: u8) {
        self.buffer.as_mut()[advertisement_field::LENGTH] = v;
    }

    /// Sets Sequence Number. RFC 5944 §2.1.1.
    pub fn set_sequence_number(&mut self, v: u16) {
        self.buffer.as_mut()[advertisement_field::SEQUENCE_NUMBER]
            .copy_from_slice(&v.to_be_bytes());
    }

    /// Sets Registration Lifetime. RFC 5944 §2.1.1.
    pub fn set_registration_lifetime(&mut self, v: u16) {
        self.buffer.as_mut()[advertisement_field::REGISTRATION_LIFETIME]
            .copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the flag bits as given. RFC 5944 §2.1.1.
    pub fn set_flags(&mut self, v: AgentAdvertisementFlags) {
        self.buffer.as_mut()[advertisement_field::FLAGS].copy_from_slice(&v.0.to_be_bytes());
    }

    /// The care-of address bytes as Length says, mutable. RFC 5944 §2.1.1.
    pub fn care_of_addresses_mut(&mut self) -> &mut [u8] {
        let end = 2 + usize::from(self.length());
        &mut self.buffer.as_mut()[advertisement_field::CARE_OF_ADDRESSES..end]
    }
}

/// The fields of a Mobility Agent Advertisement Extension. RFC 5944 §2.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgentAdvertisementRepr<'a> {
    /// Sequence Number.
    pub sequence_number: u16,
    /// Registration Lifetime in seconds.
    pub registration_lifetime: u16,
    /// Flags, without the ignored bits.
    pub flags: AgentAdvertisementFlags,
    /// Care-of addresses.
    pub care_of_addresses: CareOfAddresses<'a>,
}

impl<'a> AgentAdvertisementRepr<'a> {
    /// Reads a checked extension. RFC 5944 §2.1.1.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &AgentAdvertisementPacket<&'a T>,
    ) -> Result<AgentAdvertisementRepr<'a>> {
        packet.check_len()?;
        let buffer: &'a [u8] = packet.buffer.as_ref();
        let end = 2 + usize::from(packet.length());
        Ok(AgentAdvertisementRepr {
            sequence_number: packet.sequence_number(),
            registration_lifetime: packet.registration_lifetime(),
            flags: packet.flags().without_ignored(),
            care_of_addresses: CareOfAddresses::new(
                buffer
                    .get(advertisement_field::CARE_OF_ADDRESSES..end)
                    .ok_or(Error::BadOption)?,
            )?,
        })
    }

    /// Bytes this extension takes, Type and Length included. RFC 5944 §2.1.1.
    pub fn buffer_len(&self) -> usize {
        advertisement_field::CARE_OF_ADDRESSES + self.care_of_addresses.as_bytes().len()
    }

    /// Writes the extension (ignored bits as zero) into `packet`, which must hold
    /// [`buffer_len`](Self::buffer_len) bytes. RFC 5944 §2.1.1.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut AgentAdvertisementPacket<T>) {
        let addresses = self.care_of_addresses.as_bytes();
        packet.set_ext_type(AgentExtensionType::MOBILITY_AGENT_ADVERTISEMENT);
        // CareOfAddresses::new bounds the list so that this fits in a byte.
        packet.set_length((AGENT_ADVERTISEMENT_FIXED_LEN + addresses.len()) as u8);
        packet.set_sequence_number(self.sequence_number);
        packet.set_registration_lifetime(self.registration_lifetime);
        packet.set_flags(self.flags.without_ignored());
        packet.care_of_addresses_mut().copy_from_slice(addresses);
    }
}

/// One extension of an ICMP router advertisement, borrowed from the packet.
/// RFC 5944 §2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentExtension<'a> {
    /// One-byte Padding. RFC 5944 §2.1.3.
    Padding,
    /// Mobility Agent Advertisement Extension. RFC 5944 §2.1.1.
    AgentAdvertisement(AgentAdvertisementRepr<'a>),
    /// Prefix-Lengths Extension: one prefix length per router address. RFC 5944 §2.1.2.
    PrefixLengths(&'a [u8]),
    /// Any other extension; see [`unknown_extension_action`]. RFC 5944 §1.9.
    Other {
        /// Type.
        ext_type: AgentExtensionType,
        /// Data after the Length.
        data: &'a [u8],
    },
}

impl<'a> AgentExtension<'a> {
    /// Reads the extension at the start of `bytes` and how many bytes it takes: a Length
    /// running past `bytes` is `BadOption`, and a Mobility Agent Advertisement fails as
    /// [`AgentAdvertisementPacket::check_len`] says. RFC 5944 §2.1.
    pub fn parse(bytes: &'a [u8]) -> Result<(AgentExtension<'a>, usize)> {
        let (&t, rest) = bytes.split_first().ok_or(Error::BadOption)?;
        let ext_type = AgentExtensionType(t);
        if ext_type == AgentExtensionType::ONE_BYTE_PADDING {
            return Ok((AgentExtension::Padding, 1));
        }
        let len = usize::from(*rest.first().ok_or(Error::BadOption)?);
        let data = rest.get(1..1 + len).ok_or(Error::BadOption)?;
        let ext = match ext_type {
            AgentExtensionType::MOBILITY_AGENT_ADVERTISEMENT => {
                let packet = AgentAdvertisementPacket::new_checked(
                    bytes.get(..2 + len).ok_or(Error::BadOption)?,
                )?;
                AgentExtension::AgentAdvertisement(AgentAdvertisementRepr::parse(&packet)?)
            }
            AgentExtensionType::PREFIX_LENGTHS => AgentExtension::PrefixLengths(data),
            _ => AgentExtension::Other { ext_type, data },
        };
        Ok((ext, 2 + len))
    }

    /// Type.
    pub fn ext_type(&self) -> AgentExtensionType {
        match *self {
            AgentExtension::Padding => AgentExtensionType::ONE_BYTE_PADDING,
            AgentExtension::AgentAdvertisement(_) => {
                AgentExtensionType::MOBILITY_AGENT_ADVERTISEMENT
            }
            AgentExtension::PrefixLengths(_) => AgentExtensionType::PREFIX_LENGTHS,
            AgentExtension::Other { ext_type, .. } => ext_type,
        }
    }

    /// Bytes this extension takes, Type and Length included. RFC 5944 §2.1.
    pub fn buffer_len(&self) -> usize {
        match self {
            AgentExtension::Padding => 1,
            AgentExtension::AgentAdvertisement(repr) => repr.buffer_len(),
            AgentExtension::PrefixLengths(data) | AgentExtension::Other { data, .. } => {
                2 + data.len()
            }
        }
    }

    /// Writes the extension at the start of `buffer`: `Truncated` if it does not fit,
    /// `Oversized` if its data exceeds 255 bytes. RFC 5944 §2.1.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<()> {
        let out = buffer
            .get_mut(..self.buffer_len())
            .ok_or(Error::Truncated)?;
        match *self {
            AgentExtension::Padding => out[0] = AgentExtensionType::ONE_BYTE_PADDING.0,
            AgentExtension::AgentAdvertisement(repr) => {
                repr.emit(&mut AgentAdvertisementPacket::new_unchecked(out));
            }
            AgentExtension::PrefixLengths(data) | AgentExtension::Other { data, .. } => {
                out[0] = self.ext_type().0;
                out[1] = u8::try_from(data.len()).map_err(|_| Error::Oversized)?;
                out[2..].copy_from_slice(data);
            }
        }
        Ok(())
    }
}

/// An iterator over the extensions after the router address entries of an ICMP router
/// advertisement; it yields `BadOption` (or the advertisement's error) once for a
/// malformed extension and then stops. RFC 5944 §2.1.
#[derive(Debug, Clone)]
pub struct AgentExtensions<'a> {
    rest: &'a [u8],
}

impl<'a> AgentExtensions<'a> {
    /// The extensions in `bytes` (an advertisement's `extensions`). RFC 5944 §2.1.
    pub fn new(bytes: &'a [u8]) -> AgentExtensions<'a> {
        AgentExtensions { rest: bytes }
    }
}

impl<'a> Iterator for AgentExtensions<'a> {
    type Item = Result<AgentExtension<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match AgentExtension::parse(self.rest) {
            Ok((ext, len)) => {
                self.rest = self.rest.get(len..).unwrap_or(&[]);
                Some(Ok(ext))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // Registration Request: flags G and T, lifetime 300, home address 10.1.0.100, home
    // agent 10.1.0.1, care-of 192.0.2.1, identification 0xe7a1b2c300000001, then the NAI
    // "mn1@example.com" and an MN-HA authentication extension (SPI 256, 16-byte
    // authenticator of 0x11).
    const REQUEST: &str = "010a012c 0a010064 0a010001 c0000201 e7a1b2c300000001
        830f 6d6e31406578616d706c652e636f6d
        2014 00000100 11111111111111111111111111111111";
    // Registration Reply: code 0, lifetime 300, same addresses and identification, MN-HA
    // authentication (SPI 256, 16 bytes of 0x22).
    const REPLY: &str = "0300012c 0a010064 0a010001 e7a1b2c300000001
        2014 00000100 22222222222222222222222222222222";
    // Agent advertisement extensions: Mobility Agent Advertisement (sequence 7, lifetime
    // 600, F and M, care-of 192.0.2.1), Prefix-Lengths (24), one byte of padding.
    const AGENT_EXTENSIONS: &str = "100a 0007 0258 1800 c0000201 1301 18 00";

    fn request_bytes() -> Vec<u8> {
        hex(REQUEST)
    }

    #[test]
    fn registration_request_fields_and_extensions_are_read() {
        let b = request_bytes();
        let p = RegistrationRequestPacket::new_checked(&b[..]).unwrap();
        let r = RegistrationRequestRepr::parse(&p).unwrap();
        assert!(r.flags.contains(RegistrationFlags::GRE_ENCAPSULATION));
        assert!(r.flags.contains(RegistrationFlags::REVERSE_TUNNELING));
        assert!(!r.flags.contains(RegistrationFlags::MINIMAL_ENCAPSULATION));
        assert_eq!(r.lifetime, 300);
        assert_eq!(r.home_address, Ipv4Addr::new(10, 1, 0, 100));
        assert_eq!(r.home_agent, Ipv4Addr::new(10, 1, 0, 1));
        assert_eq!(r.care_of_address, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(r.identification, 0xe7a1_b2c3_0000_0001);
        assert_eq!(r.extensions.nai(), Some(&b"mn1@example.com"[..]));
        let (offset, auth) = r
            .extensions
            .authentication(RegistrationExtensionType::MN_HA_AUTHENTICATION)
            .unwrap();
        assert_eq!(offset, 24 + 17);
        assert_eq!(
            auth,
            RegistrationExtension::Authentication {
                ext_type: RegistrationExtensionType::MN_HA_AUTHENTICATION,
                spi: 256,
                authenticator: &[0x11; 16],
            }
        );
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut RegistrationRequestPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
    }

    #[test]
    fn authenticator_covers_message_up_to_and_including_spi() {
        let b = request_bytes();
        let p = RegistrationRequestPacket::new_checked(&b[..]).unwrap();
        let (offset, _) = p
            .extensions()
            .filter_map(|e| e.ok())
            .find(|(_, e)| e.ext_type() == RegistrationExtensionType::MN_HA_AUTHENTICATION)
            .unwrap();
        assert_eq!(authenticated_range(offset), 0..b.len() - 16);
        assert_eq!(p.authenticated_bytes(offset), Some(&b[..b.len() - 16]));
        assert_eq!(p.authenticated_bytes(b.len()), None);
    }

    #[test]
    fn reserved_request_flags_are_ignored_on_reception_and_sent_as_zero() {
        let mut b = request_bytes();
        b[1] |= 0x05;
        let r = RegistrationRequestRepr::parse(
            &RegistrationRequestPacket::new_checked(&b[..]).unwrap(),
        )
        .unwrap();
        assert_eq!(r.flags, RegistrationFlags(0x0a));
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut RegistrationRequestPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, request_bytes());
    }

    #[test]
    fn registration_reply_fields_are_read_and_re_emitted() {
        let b = hex(REPLY);
        let p = RegistrationReplyPacket::new_checked(&b[..]).unwrap();
        let r = RegistrationReplyRepr::parse(&p).unwrap();
        assert_eq!(r.code, ReplyCode::ACCEPTED);
        assert!(r.code.is_accepted());
        assert!(!ReplyCode::HA_IDENTIFICATION_MISMATCH.is_accepted());
        assert_eq!((r.lifetime, r.identification), (300, 0xe7a1_b2c3_0000_0001));
        assert_eq!(r.home_agent, Ipv4Addr::new(10, 1, 0, 1));
        let (offset, _) = r
            .extensions
            .authentication(RegistrationExtensionType::MN_HA_AUTHENTICATION)
            .unwrap();
        assert_eq!(offset, 20);
        assert_eq!(p.authenticated_bytes(offset), Some(&b[..26]));
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut RegistrationReplyPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
    }

    #[test]
    fn short_messages_are_truncated() {
        let b = request_bytes();
        assert_eq!(
            RegistrationRequestPacket::new_checked(&b[..23]).unwrap_err(),
            Error::Truncated
        );
        let b = hex(REPLY);
        assert_eq!(
            RegistrationReplyPacket::new_checked(&b[..19]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn wrong_message_type_is_unsupported() {
        let b = hex(REPLY);
        assert_eq!(
            RegistrationRequestPacket::new_checked(&b[..]).unwrap_err(),
            Error::Unsupported
        );
        let b = request_bytes();
        assert_eq!(
            RegistrationReplyPacket::new_checked(&b[..]).unwrap_err(),
            Error::Unsupported
        );
    }

    #[test]
    fn extension_overrunning_the_message_is_bad_option() {
        let b = request_bytes();
        let p = RegistrationRequestPacket::new_checked(&b[..b.len() - 1]).unwrap();
        assert_eq!(
            RegistrationRequestRepr::parse(&p).unwrap_err(),
            Error::BadOption
        );
        let b = hex(REPLY);
        let p = RegistrationReplyPacket::new_checked(&b[..21]).unwrap();
        assert_eq!(
            RegistrationReplyRepr::parse(&p).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn iterator_yields_bad_option_once_then_stops() {
        let b = request_bytes();
        let p = RegistrationRequestPacket::new_checked(&b[..b.len() - 1]).unwrap();
        let items: Vec<_> = p.extensions().collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        assert_eq!(items[1], Err(Error::BadOption));
    }

    #[test]
    fn authentication_extension_shorter_than_spi_is_bad_option() {
        assert_eq!(
            RegistrationExtension::parse(&[32, 3, 0, 0, 1]).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn long_format_extension_uses_sixteen_bit_length() {
        let b = [36, 4, 0x01, 0x00];
        assert_eq!(
            RegistrationExtension::parse(&b).unwrap_err(),
            Error::BadOption
        );
        let mut b = vec![36, 4, 0x01, 0x00];
        b.resize(4 + 256, 0xab);
        let (ext, len) = RegistrationExtension::parse(&b).unwrap();
        assert_eq!(len, 260);
        assert_eq!(
            ext,
            RegistrationExtension::Long {
                ext_type: RegistrationExtensionType::GENERALIZED_AUTHENTICATION,
                sub_type: 4,
                data: &b[4..],
            }
        );
        assert_eq!(
            RegistrationExtension::parse(&b[..3]).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn unknown_extensions_keep_their_type_and_say_whether_to_reject() {
        let b = [40, 1, 9, 137, 0];
        let exts = RegistrationExtensions::new(&b, 24).unwrap();
        let got: Vec<_> = exts.iter().map(|e| e.unwrap()).collect();
        assert_eq!(
            got,
            vec![
                (
                    24,
                    RegistrationExtension::Other {
                        ext_type: RegistrationExtensionType(40),
                        data: &[9]
                    }
                ),
                (
                    27,
                    RegistrationExtension::Other {
                        ext_type: RegistrationExtensionType::REVOCATION_SUPPORT,
                        data: &[]
                    }
                ),
            ]
        );
        assert_eq!(unknown_extension_action(40), UnknownExtensionAction::Reject);
        assert_eq!(
            unknown_extension_action(127),
            UnknownExtensionAction::Reject
        );
        assert_eq!(unknown_extension_action(128), UnknownExtensionAction::Skip);
        assert_eq!(unknown_extension_action(137), UnknownExtensionAction::Skip);
    }

    #[test]
    fn extension_emit_reports_truncated_and_oversized() {
        let nai = RegistrationExtension::Nai(b"mn@example.com");
        assert_eq!(nai.emit(&mut [0u8; 15]), Err(Error::Truncated));
        let big = [0u8; 256];
        let mut out = [0u8; 300];
        assert_eq!(
            RegistrationExtension::Nai(&big).emit(&mut out),
            Err(Error::Oversized)
        );
        let auth = RegistrationExtension::Authentication {
            ext_type: RegistrationExtensionType::MN_HA_AUTHENTICATION,
            spi: 1,
            authenticator: &big[..252],
        };
        assert_eq!(auth.emit(&mut out), Err(Error::Oversized));
        assert_eq!(
            AgentExtension::Other {
                ext_type: AgentExtensionType(200),
                data: &big
            }
            .emit(&mut out),
            Err(Error::Oversized)
        );
        assert_eq!(AgentExtension::Padding.emit(&mut []), Err(Error::Truncated));
    }

    #[test]
    fn agent_advertisement_extensions_are_read_and_re_emitted() {
        let b = hex(AGENT_EXTENSIONS);
        let exts: Vec<_> = AgentExtensions::new(&b).map(|e| e.unwrap()).collect();
        assert_eq!(exts.len(), 3);
        let AgentExtension::AgentAdvertisement(adv) = exts[0] else {
            panic!("{:?}", exts[0]);
        };
        assert_eq!((adv.sequence_number, adv.registration_lifetime), (7, 600));
        assert!(adv.flags.contains(AgentAdvertisementFlags::FOREIGN_AGENT));
        assert!(adv
            .flags
            .contains(AgentAdvertisementFlags::MINIMAL_ENCAPSULATION));
        assert!(!adv.flags.contains(AgentAdvertisementFlags::HOME_AGENT));
        assert_eq!(
            adv.care_of_addresses.iter().collect::<Vec<_>>(),
            vec![Ipv4Addr::new(192, 0, 2, 1)]
        );
        assert_eq!(adv.care_of_addresses.get(1), None);
        assert_eq!(exts[1], AgentExtension::PrefixLengths(&[24]));
        assert_eq!(exts[2], AgentExtension::Padding);
        let mut out = vec![0u8; b.len()];
        let mut at = 0;
        for e in &exts {
            e.emit(&mut out[at..]).unwrap();
            at += e.buffer_len();
        }
        assert_eq!(out, b);
    }

    #[test]
    fn agent_advertisement_view_errors_in_order() {
        assert_eq!(
            AgentAdvertisementPacket::new_checked(&[16u8][..]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            AgentAdvertisementPacket::new_checked(&[19u8, 6, 0, 0, 0, 0, 0, 0][..]).unwrap_err(),
            Error::Unsupported
        );
        assert_eq!(
            AgentAdvertisementPacket::new_checked(&[16u8, 7, 0, 0, 0, 0, 0, 0, 0][..]).unwrap_err(),
            Error::BadOption
        );
        assert_eq!(
            AgentAdvertisementPacket::new_checked(&[16u8, 4, 0, 0, 0, 0][..]).unwrap_err(),
            Error::BadOption
        );
        assert_eq!(
            AgentAdvertisementPacket::new_checked(&[16u8, 10, 0, 0, 0, 0, 0, 0][..]).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn reserved_advertisement_flags_are_ignored_on_reception() {
        let mut b = hex(AGENT_EXTENSIONS);
        b[7] |= 0x1f;
        b[6] |= 0x02;
        let p = AgentAdvertisementPacket::new_checked(&b[..12]).unwrap();
        assert_eq!(p.flags(), AgentAdvertisementFlags(0x1a1f));
        let r = AgentAdvertisementRepr::parse(&p).unwrap();
        assert_eq!(r.flags, AgentAdvertisementFlags(0x1800));
    }

    #[test]
    fn agent_extension_overrunning_is_bad_option() {
        let b = hex(AGENT_EXTENSIONS);
        let items: Vec<_> = AgentExtensions::new(&b[..11]).collect();
        assert_eq!(items, vec![Err(Error::BadOption)]);
        let items: Vec<_> = AgentExtensions::new(&[19, 2, 24]).collect();
        assert_eq!(items, vec![Err(Error::BadOption)]);
        let items: Vec<_> = AgentExtensions::new(&[0, 19]).collect();
        assert_eq!(
            items,
            vec![Ok(AgentExtension::Padding), Err(Error::BadOption)]
        );
    }

    #[test]
    fn care_of_address_list_errors() {
        assert_eq!(CareOfAddresses::new(&[0; 5]).unwrap_err(), Error::BadLength);
        assert_eq!(
            CareOfAddresses::new(&[0; 252]).unwrap_err(),
            Error::Oversized
        );
        assert_eq!(CareOfAddresses::new(&[0; 248]).unwrap().len(), 62);
    }

    fn arb_registration_extension() -> impl Strategy<Value = (u8, u8, u32, Vec<u8>)> {
        // (type, sub-type, SPI, data): covers authentication, NAI, long and other types.
        (
            prop_oneof![
                Just(32u8),
                Just(33),
                Just(34),
                Just(36),
                Just(131),
                Just(137),
                any::<u8>()
            ],
            any::<u8>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..40),
        )
    }

    fn to_extension(t: &(u8, u8, u32, Vec<u8>)) -> RegistrationExtension<'_> {
        let ext_type = RegistrationExtensionType(t.0);
        match ext_type {
            t2 if t2.is_long_format() => RegistrationExtension::Long {
                ext_type,
                sub_type: t.1,
                data: &t.3,
            },
            t2 if t2.is_authentication() => RegistrationExtension::Authentication {
                ext_type,
                spi: t.2,
                authenticator: &t.3,
            },
            RegistrationExtensionType::NAI => RegistrationExtension::Nai(&t.3),
            _ => RegistrationExtension::Other {
                ext_type,
                data: &t.3,
            },
        }
    }

    fn emit_all(exts: &[RegistrationExtension<'_>]) -> Vec<u8> {
        let mut out = vec![0u8; exts.iter().map(|e| e.buffer_len()).sum()];
        let mut at = 0;
        for e in exts {
            e.emit(&mut out[at..]).unwrap();
            at += e.buffer_len();
        }
        out
    }

    fn arb_agent_extension() -> impl Strategy<Value = (u8, u16, u16, u16, Vec<u8>)> {
        (
            prop_oneof![Just(0u8), Just(16), Just(19), any::<u8>()],
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            proptest::collection::vec(any::<u8>(), 0..10).prop_map(|v| v.repeat(4)),
        )
    }

    fn to_agent_extension(t: &(u8, u16, u16, u16, Vec<u8>)) -> AgentExtension<'_> {
        match AgentExtensionType(t.0) {
            AgentExtensionType::ONE_BYTE_PADDING => AgentExtension::Padding,
            AgentExtensionType::MOBILITY_AGENT_ADVERTISEMENT => {
                AgentExtension::AgentAdvertisement(AgentAdvertisementRepr {
                    sequence_number: t.1,
                    registration_lifetime: t.2,
                    flags: AgentAdvertisementFlags(t.3).without_ignored(),
                    care_of_addresses: CareOfAddresses::new(&t.4).unwrap(),
                })
            }
            AgentExtensionType::PREFIX_LENGTHS => AgentExtension::PrefixLengths(&t.4),
            ext_type => AgentExtension::Other {
                ext_type,
                data: &t.4,
            },
        }
    }

    proptest! {
        #[test]
        fn request_parse_of_emit_is_identity(
            flags in any::<u8>(), lifetime in any::<u16>(), home in any::<[u8; 4]>(),
            agent in any::<[u8; 4]>(), care_of in any::<[u8; 4]>(), ident in any::<u64>(),
            raw in proptest::collection::vec(arb_registration_extension(), 0..4),
        ) {
            let exts: Vec<_> = raw.iter().map(to_extension).collect();
            let ext_bytes = emit_all(&exts);
            let repr = RegistrationRequestRepr {
                flags: RegistrationFlags(flags).without_ignored(), lifetime,
                home_address: home.into(), home_agent: agent.into(),
                care_of_address: care_of.into(), identification: ident,
                extensions: RegistrationExtensions::new(&ext_bytes, REQUEST_LEN).unwrap(),
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut RegistrationRequestPacket::new_unchecked(&mut buf[..]));
            let p = RegistrationRequestPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(RegistrationRequestRepr::parse(&p).unwrap(), repr);
            let parsed: Vec<_> = p.extensions().map(|e| e.unwrap().1).collect();
            prop_assert_eq!(parsed, exts);
        }

        #[test]
        fn reply_parse_of_emit_is_identity(
            code in any::<u8>(), lifetime in any::<u16>(), home in any::<[u8; 4]>(),
            agent in any::<[u8; 4]>(), ident in any::<u64>(),
            raw in proptest::collection::vec(arb_registration_extension(), 0..4),
        ) {
            let exts: Vec<_> = raw.iter().map(to_extension).collect();
            let ext_bytes = emit_all(&exts);
            let repr = RegistrationReplyRepr {
                code: ReplyCode(code), lifetime, home_address: home.into(),
                home_agent: agent.into(), identification: ident,
                extensions: RegistrationExtensions::new(&ext_bytes, REPLY_LEN).unwrap(),
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut RegistrationReplyPacket::new_unchecked(&mut buf[..]));
            let p = RegistrationReplyPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(RegistrationReplyRepr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn registration_extension_parse_of_emit_is_identity(raw in arb_registration_extension()) {
            let ext = to_extension(&raw);
            let mut buf = vec![0u8; ext.buffer_len()];
            ext.emit(&mut buf).unwrap();
            prop_assert_eq!(RegistrationExtension::parse(&buf).unwrap(), (ext, buf.len()));
        }

        #[test]
        fn agent_extension_parse_of_emit_is_identity(raw in arb_agent_extension()) {
            let ext = to_agent_extension(&raw);
            let mut buf = vec![0u8; ext.buffer_len()];
            ext.emit(&mut buf).unwrap();
            prop_assert_eq!(AgentExtension::parse(&buf).unwrap(), (ext, buf.len()));
            if let AgentExtension::AgentAdvertisement(repr) = ext {
                let p = AgentAdvertisementPacket::new_checked(&buf[..]).unwrap();
                prop_assert_eq!(AgentAdvertisementRepr::parse(&p).unwrap(), repr);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = RegistrationRequestPacket::new_checked(&bytes[..]) {
                let _ = RegistrationRequestRepr::parse(&p);
                for (off, _) in p.extensions().flatten() {
                    let _ = p.authenticated_bytes(off);
                }
            }
            if let Ok(p) = RegistrationReplyPacket::new_checked(&bytes[..]) {
                let _ = RegistrationReplyRepr::parse(&p);
                let _ = p.extensions().count();
            }
            if let Ok(p) = AgentAdvertisementPacket::new_checked(&bytes[..]) {
                let _ = AgentAdvertisementRepr::parse(&p);
                let _ = p.care_of_addresses().iter().count();
            }
            let _ = RegistrationExtensions::new(&bytes, 24).map(|e| (e.nai(), e.iter().count()));
            let _ = AgentExtensions::new(&bytes).count();
            let _ = CareOfAddresses::new(&bytes).map(|c| (c.iter().count(), c.get(c.len())));
            let _ = RegistrationExtension::parse(&bytes);
            let _ = AgentExtension::parse(&bytes);
        }

        #[test]
        fn arbitrary_typed_bytes_never_panic(
            first in prop_oneof![Just(1u8), Just(3), Just(16), Just(36), Just(32)],
            len in any::<u8>(), mut rest in proptest::collection::vec(any::<u8>(), 2..80),
        ) {
            // Bytes whose type matches a parser, so the length paths are reached.
            rest[0] = first;
            rest[1] = len;
            if let Ok(p) = RegistrationRequestPacket::new_checked(&rest[..]) {
                let _ = RegistrationRequestRepr::parse(&p);
            }
            if let Ok(p) = AgentAdvertisementPacket::new_checked(&rest[..]) {
                let _ = AgentAdvertisementRepr::parse(&p);
            }
            let _ = AgentExtensions::new(&rest).count();
            let _ = RegistrationExtension::parse(&rest);
        }
    }
}
