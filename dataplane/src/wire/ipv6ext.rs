//! IPv6 extension headers (RFC 8200 §4): Hop-by-Hop and Destination Options with their
//! options (RFC 8200 §4.2, the Home Address option of RFC 6275 §6.3, the Tunnel
//! Encapsulation Limit of RFC 2473 §5.1, Router Alert of RFC 2711), the Routing header and
//! its type 2 of RFC 6275 §6.4, the Fragment header, and a bounded walk of the chain.

use super::ipv6::next_header;
use super::{Error, Result};
use std::net::Ipv6Addr;

/// Option types of Hop-by-Hop and Destination Options headers (IANA "Destination Options
/// and Hop-by-Hop Options").
pub mod option_type {
    /// Pad1, RFC 8200 §4.2.
    pub const PAD1: u8 = 0;
    /// PadN, RFC 8200 §4.2.
    pub const PADN: u8 = 1;
    /// Tunnel Encapsulation Limit, RFC 2473 §5.1.
    pub const TUNNEL_ENCAPSULATION_LIMIT: u8 = 4;
    /// Router Alert, RFC 2711 §2.1.
    pub const ROUTER_ALERT: u8 = 5;
    /// Home Address, RFC 6275 §6.3.
    pub const HOME_ADDRESS: u8 = 201;
}

/// The most extension headers [`walk_chain`] follows before giving up with `Oversized`.
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// What a node must do with an option whose type it does not recognise: the two high-order
/// bits of the option type, RFC 8200 §4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownOptionAction {
    /// 00: skip over the option and continue.
    Skip,
    /// 01: discard the packet.
    Discard,
    /// 10: discard and send ICMP Parameter Problem, code 2, whatever the destination.
    DiscardIcmp,
    /// 11: discard and send ICMP Parameter Problem, code 2, unless the destination is
    /// multicast.
    DiscardIcmpUnlessMulticast,
}

/// The action an unrecognised option type asks for, RFC 8200 §4.2.
pub const fn unknown_option_action(option_type: u8) -> UnknownOptionAction {
    match option_type >> 6 {
        0 => UnknownOptionAction::Skip,
        1 => UnknownOptionAction::Discard,
        2 => UnknownOptionAction::DiscardIcmp,
        _ => UnknownOptionAction::DiscardIcmpUnlessMulticast,
    }
}

/// One option of a Hop-by-Hop or Destination Options header, RFC 8200 §4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Option<'a> {
    /// One byte of padding, RFC 8200 §4.2.
    Pad1,
    /// Padding of 2 + n bytes (n data bytes), RFC 8200 §4.2.
    PadN(u8),
    /// Router Alert value, RFC 2711 §2.1.
    RouterAlert(u16),
    /// How many further levels of encapsulation are allowed, RFC 2473 §5.1.
    TunnelEncapsulationLimit(u8),
    /// The mobile node's home address, RFC 6275 §6.3.
    HomeAddress(Ipv6Addr),
    /// Any other option, raw, so the caller can apply [`unknown_option_action`].
    Unknown {
        /// Option type, its two high-order bits the action, RFC 8200 §4.2.
        option_type: u8,
        /// Option data.
        data: &'a [u8],
    },
}

/// Iterator over the options of a Hop-by-Hop or Destination Options header; yields one
/// `Err(BadOption)` and stops at an option whose length runs past the header.
#[derive(Debug, Clone)]
pub struct Ipv6OptionsIter<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Ipv6OptionsIter<'a> {
    /// Iterates over the option area `data` (the header minus its first two bytes).
    pub fn new(data: &'a [u8]) -> Self {
        Ipv6OptionsIter { data, pos: 0 }
    }

    fn next_option(&mut self) -> Result<Ipv6Option<'a>> {
        let option_type = *self.data.get(self.pos).ok_or(Error::BadOption)?;
        if option_type == option_type::PAD1 {
            self.pos += 1;
            return Ok(Ipv6Option::Pad1);
        }
        let len = usize::from(*self.data.get(self.pos + 1).ok_or(Error::BadOption)?);
        let start = self.pos + 2;
        let body = self.data.get(start..start + len).ok_or(Error::BadOption)?;
        self.pos = start + len;
        Ok(match (option_type, body) {
            (option_type::PADN, _) => Ipv6Option::PadN(len as u8),
            (option_type::ROUTER_ALERT, &[a, b]) => {
                Ipv6Option::RouterAlert(u16::from_be_bytes([a, b]))
            }
            (option_type::TUNNEL_ENCAPSULATION_LIMIT, &[limit]) => {
                Ipv6Option::TunnelEncapsulationLimit(limit)
            }
            (option_type::HOME_ADDRESS, body) if len == 16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(body);
                Ipv6Option::HomeAddress(Ipv6Addr::from(a))
            }
            (
                option_type::ROUTER_ALERT
                | option_type::TUNNEL_ENCAPSULATION_LIMIT
                | option_type::HOME_ADDRESS,
                _,
            ) => return Err(Error::BadOption),
            (option_type, data) => Ipv6Option::Unknown { option_type, data },
        })
    }
}

impl<'a> Iterator for Ipv6OptionsIter<'a> {
    type Item = Result<Ipv6Option<'a>>;

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

mod field {
    pub const NEXT_HEADER: usize = 0;
    pub const LENGTH: usize = 1;
    pub const ROUTING_TYPE: usize = 2;
    pub const SEGMENTS_LEFT: usize = 3;
    pub const FRAG_OFFSET: core::ops::Range<usize> = 2..4;
    pub const FRAG_IDENT: core::ops::Range<usize> = 4..8;
    pub const OPTIONS_START: usize = 2;
    pub const TYPE2_RESERVED: core::ops::Range<usize> = 4..8;
    pub const TYPE2_HOME_ADDRESS: core::ops::Range<usize> = 8..24;
}

/// Length of a header whose Hdr Ext Len is counted in 8-octet units after the first 8,
/// RFC 8200 §4.3.
fn ext_len(data: &[u8]) -> Result<usize> {
    if data.len() < 8 {
        return Err(Error::Truncated);
    }
    let len = 8 * (usize::from(data[field::LENGTH]) + 1);
    if len > data.len() {
        return Err(Error::Truncated);
    }
    Ok(len)
}

/// A zero-copy view of a Hop-by-Hop (RFC 8200 §4.3) or Destination Options (RFC 8200 §4.6)
/// header; both share this layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6OptionsHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6OptionsHeader<T> {
    /// Wraps a buffer without checks; accessors may panic until [`Self::check_len`] passed.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6OptionsHeader { buffer }
    }

    /// Wraps a buffer after [`Self::check_len`], RFC 8200 §4.3.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the header length fits the buffer (`Truncated`) and that every option
    /// stays inside the header and has its defined length (`BadOption`), RFC 8200 §4.2.
    pub fn check_len(&self) -> Result<()> {
        let len = ext_len(self.buffer.as_ref())?;
        let options = &self.buffer.as_ref()[field::OPTIONS_START..len];
        for option in Ipv6OptionsIter::new(options) {
            option?;
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next Header field, RFC 8200 §4.3.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hdr Ext Len field: 8-octet units after the first 8, RFC 8200 §4.3.
    pub fn header_ext_len(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// Length of the header in bytes, RFC 8200 §4.3.
    pub fn header_len(&self) -> usize {
        8 * (usize::from(self.header_ext_len()) + 1)
    }

    /// The option area, RFC 8200 §4.2.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS_START..self.header_len()]
    }

    /// The options, one by one, RFC 8200 §4.2.
    pub fn iter_options(&self) -> Ipv6OptionsIter<'_> {
        Ipv6OptionsIter::new(self.options())
    }

    /// What follows the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6OptionsHeader<T> {
    /// Sets the Next Header field, RFC 8200 §4.3.
    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value;
    }

    /// Sets the Hdr Ext Len field, RFC 8200 §4.3.
    pub fn set_header_ext_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::LENGTH] = value;
    }

    /// The option area, mutable, RFC 8200 §4.2.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let len = self.header_len();
        &mut self.buffer.as_mut()[field::OPTIONS_START..len]
    }
}

/// The options mobility uses in a Hop-by-Hop or Destination Options header, RFC 8200 §4.2.
/// Padding is regenerated on emit and unknown options are not kept (the view shows them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ipv6OptionsRepr {
    /// Next Header.
    pub next_header: u8,
    /// Router Alert value, RFC 2711.
    pub router_alert: Option<u16>,
    /// Tunnel Encapsulation Limit, RFC 2473 §5.1.
    pub tunnel_encapsulation_limit: Option<u8>,
    /// Home Address option, RFC 6275 §6.3.
    pub home_address: Option<Ipv6Addr>,
}

/// Writes `n` bytes of padding (Pad1 or PadN) at `pos`, RFC 8200 §4.2.
fn pad(options: &mut [u8], pos: usize, n: usize) -> usize {
    match n {
        0 => {}
        1 => options[pos] = option_type::PAD1,
        _ => {
            options[pos] = option_type::PADN;
            options[pos + 1] = (n - 2) as u8;
            options[pos + 2..pos + n].fill(0);
        }
    }
    pos + n
}

impl Ipv6OptionsRepr {
    /// Reads the known options; a repeated option keeps its first value, RFC 8200 §4.2.
    pub fn parse<T: AsRef<[u8]>>(header: &Ipv6OptionsHeader<T>) -> Result<Ipv6OptionsRepr> {
        header.check_len()?;
        let mut repr = Ipv6OptionsRepr {
            next_header: header.next_header(),
            ..Default::default()
        };
        for option in header.iter_options() {
            match option? {
                Ipv6Option::RouterAlert(v) => {
                    repr.router_alert.get_or_insert(v);
                }
                Ipv6Option::TunnelEncapsulationLimit(v) => {
                    repr.tunnel_encapsulation_limit.get_or_insert(v);
                }
                Ipv6Option::HomeAddress(a) => {
                    repr.home_address.get_or_insert(a);
                }
                _ => {}
            }
        }
        Ok(repr)
    }

    /// Length of the option area before final padding, offsets from the header start.
    fn unpadded_len(&self) -> usize {
        let mut pos = field::OPTIONS_START;
        if self.router_alert.is_some() {
            pos += 4;
        }
        if self.tunnel_encapsulation_limit.is_some() {
            pos += 3;
        }
        if self.home_address.is_some() {
            // 8n+6 alignment, RFC 6275 §6.3.
            pos += (14 - pos % 8) % 8 + 18;
        }
        pos
    }

    /// Length of the emitted header, a multiple of 8, RFC 8200 §4.3.
    pub fn header_len(&self) -> usize {
        self.unpadded_len().div_ceil(8) * 8
    }

    /// Writes the header: Router Alert (2n alignment), Tunnel Encapsulation Limit, Home
    /// Address at 8n+6 (RFC 6275 §6.3), then padding to a multiple of 8, RFC 8200 §4.2.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        header: &mut Ipv6OptionsHeader<T>,
    ) -> Result<()> {
        let len = self.header_len();
        let buf = header
            .buffer
            .as_mut()
            .get_mut(..len)
            .ok_or(Error::Truncated)?;
        buf[field::NEXT_HEADER] = self.next_header;
        buf[field::LENGTH] = (len / 8 - 1) as u8;
        let mut pos = field::OPTIONS_START;
        if let Some(v) = self.router_alert {
            buf[pos..pos + 2].copy_from_slice(&[option_type::ROUTER_ALERT, 2]);
            buf[pos + 2..pos + 4].copy_from_slice(&v.to_be_bytes());
            pos += 4;
        }
        if let Some(v) = self.tunnel_encapsulation_limit {
            buf[pos..pos + 3].copy_from_slice(&[option_type::TUNNEL_ENCAPSULATION_LIMIT, 1, v]);
            pos += 3;
        }
        if let Some(a) = self.home_address {
            pos = pad(buf, pos, (14 - pos % 8) % 8);
            buf[pos..pos + 2].copy_from_slice(&[option_type::HOME_ADDRESS, 16]);
            buf[pos + 2..pos + 18].copy_from_slice(&a.octets());
            pos += 18;
        }
        pad(buf, pos, len - pos);
        Ok(())
    }
}

/// A zero-copy view of a Routing header of any type, RFC 8200 §4.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6RoutingHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6RoutingHeader<T> {
    /// Wraps a buffer without checks; accessors may panic until [`Self::check_len`] passed.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6RoutingHeader { buffer }
    }

    /// Wraps a buffer after [`Self::check_len`], RFC 8200 §4.4.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the header length fits the buffer, RFC 8200 §4.4.
    pub fn check_len(&self) -> Result<()> {
        ext_len(self.buffer.as_ref()).map(|_| ())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next Header field, RFC 8200 §4.4.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hdr Ext Len field, RFC 8200 §4.4.
    pub fn header_ext_len(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// Length of the header in bytes, RFC 8200 §4.4.
    pub fn header_len(&self) -> usize {
        8 * (usize::from(self.header_ext_len()) + 1)
    }

    /// Routing Type field, RFC 8200 §4.4.
    pub fn routing_type(&self) -> u8 {
        self.buffer.as_ref()[field::ROUTING_TYPE]
    }

    /// Segments Left field, RFC 8200 §4.4.
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[field::SEGMENTS_LEFT]
    }

    /// Type-specific data after the first four bytes, RFC 8200 §4.4.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[4..self.header_len()]
    }

    /// The Home Address of a type 2 routing header (no check of the type), RFC 6275 §6.4;
    /// `None` when the header is too short to hold one (Hdr Ext Len below 2), since a
    /// malformed type 2 header passes [`Self::check_len`].
    pub fn home_address(&self) -> Option<Ipv6Addr> {
        let header = self.buffer.as_ref().get(..self.header_len())?;
        let octets: [u8; 16] = header.get(field::TYPE2_HOME_ADDRESS)?.try_into().ok()?;
        Some(Ipv6Addr::from(octets))
    }

    /// What follows the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6RoutingHeader<T> {
    /// Sets the Next Header field, RFC 8200 §4.4.
    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value;
    }

    /// Sets the Segments Left field (a mobile node sets 0 once it processed it),
    /// RFC 8200 §4.4, RFC 6275 §6.4.
    pub fn set_segments_left(&mut self, value: u8) {
        self.buffer.as_mut()[field::SEGMENTS_LEFT] = value;
    }
}

/// Routing Type of the Mobile IPv6 type 2 routing header, RFC 6275 §6.4.
pub const ROUTING_TYPE_2: u8 = 2;

/// A type 2 routing header carrying the mobile node's home address, RFC 6275 §6.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Type2RoutingRepr {
    /// Next Header.
    pub next_header: u8,
    /// The home address the packet is finally for.
    pub home_address: Ipv6Addr,
}

impl Type2RoutingRepr {
    /// Length of a type 2 routing header, RFC 6275 §6.4.
    pub const HEADER_LEN: usize = 24;

    /// Reads a type 2 routing header: `Unsupported` for another routing type,
    /// `BadHeaderLength` unless Hdr Ext Len is 2, `BadOption` unless Segments Left is 1,
    /// RFC 6275 §6.4.
    pub fn parse<T: AsRef<[u8]>>(header: &Ipv6RoutingHeader<T>) -> Result<Type2RoutingRepr> {
        header.check_len()?;
        if header.routing_type() != ROUTING_TYPE_2 {
            return Err(Error::Unsupported);
        }
        if header.header_ext_len() != 2 {
            return Err(Error::BadHeaderLength);
        }
        if header.segments_left() != 1 {
            return Err(Error::BadOption);
        }
        Ok(Type2RoutingRepr {
            next_header: header.next_header(),
            home_address: header.home_address().ok_or(Error::BadHeaderLength)?,
        })
    }

    /// Length of the emitted header.
    pub const fn header_len(&self) -> usize {
        Self::HEADER_LEN
    }

    /// Writes the header with Segments Left 1, RFC 6275 §6.4.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        header: &mut Ipv6RoutingHeader<T>,
    ) -> Result<()> {
        let buf = header
            .buffer
            .as_mut()
            .get_mut(..Self::HEADER_LEN)
            .ok_or(Error::Truncated)?;
        buf[..4].copy_from_slice(&[self.next_header, 2, ROUTING_TYPE_2, 1]);
        buf[field::TYPE2_RESERVED].fill(0);
        buf[field::TYPE2_HOME_ADDRESS].copy_from_slice(&self.home_address.octets());
        Ok(())
    }
}

/// Length of the Fragment header, RFC 8200 §4.5.
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// A zero-copy view of a Fragment header, RFC 8200 §4.5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6FragmentHeader<T> {
    /// Wraps a buffer without checks; accessors may panic until [`Self::check_len`] passed.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6FragmentHeader { buffer }
    }

    /// Wraps a buffer after [`Self::check_len`], RFC 8200 §4.5.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the 8-byte header fits the buffer, RFC 8200 §4.5.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < FRAGMENT_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next Header field, RFC 8200 §4.5.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    fn offset_word(&self) -> u16 {
        let d = &self.buffer.as_ref()[field::FRAG_OFFSET];
        u16::from_be_bytes([d[0], d[1]])
    }

    /// Fragment Offset in 8-octet units, RFC 8200 §4.5.
    pub fn fragment_offset(&self) -> u16 {
        self.offset_word() >> 3
    }

    /// M flag: more fragments follow, RFC 8200 §4.5.
    pub fn more_fragments(&self) -> bool {
        self.offset_word() & 1 == 1
    }

    /// Identification field, RFC 8200 §4.5.
    pub fn identification(&self) -> u32 {
        let d = &self.buffer.as_ref()[field::FRAG_IDENT];
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    /// What follows the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[FRAGMENT_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6FragmentHeader<T> {
    /// Sets the Next Header field, RFC 8200 §4.5.
    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value;
    }

    /// Sets Fragment Offset (8-octet units, 13 bits) and the M flag, RFC 8200 §4.5.
    pub fn set_offset_and_more(&mut self, offset: u16, more_fragments: bool) {
        let w = (offset << 3) | u16::from(more_fragments);
        self.buffer.as_mut()[field::FRAG_OFFSET].copy_from_slice(&w.to_be_bytes());
    }

    /// Sets the Identification field, RFC 8200 §4.5.
    pub fn set_identification(&mut self, value: u32) {
        self.buffer.as_mut()[field::FRAG_IDENT].copy_from_slice(&value.to_be_bytes());
    }
}

/// The fields of a Fragment header, RFC 8200 §4.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6FragmentRepr {
    /// Next Header.
    pub next_header: u8,
    /// Fragment Offset in 8-octet units (13 bits).
    pub fragment_offset: u16,
    /// M flag.
    pub more_fragments: bool,
    /// Identification.
    pub identification: u32,
}

impl Ipv6FragmentRepr {
    /// Reads a Fragment header, RFC 8200 §4.5.
    pub fn parse<T: AsRef<[u8]>>(header: &Ipv6FragmentHeader<T>) -> Result<Ipv6FragmentRepr> {
        header.check_len()?;
        Ok(Ipv6FragmentRepr {
            next_header: header.next_header(),
            fragment_offset: header.fragment_offset(),
            more_fragments: header.more_fragments(),
            identification: header.identification(),
        })
    }

    /// Length of the emitted header.
    pub const fn header_len(&self) -> usize {
        FRAGMENT_HEADER_LEN
    }

    /// Writes the header; `Oversized` when the offset needs more than 13 bits,
    /// RFC 8200 §4.5.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        header: &mut Ipv6FragmentHeader<T>,
    ) -> Result<()> {
        if self.fragment_offset > 0x1fff {
            return Err(Error::Oversized);
        }
        header.check_len()?;
        header.set_next_header(self.next_header);
        header.buffer.as_mut()[1] = 0;
        header.set_offset_and_more(self.fragment_offset, self.more_fragments);
        header.set_identification(self.identification);
        Ok(())
    }
}

/// What [`walk_chain`] found between the IPv6 header and the upper layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionChain {
    /// Next Header value of the upper layer (or of what follows a non-first fragment, or
    /// [`next_header::NO_NEXT`]).
    pub upper_layer: u8,
    /// Offset of the upper layer from the start of the IPv6 payload.
    pub upper_layer_offset: usize,
    /// Number of extension headers walked.
    pub extension_headers: usize,
    /// Home Address destination option, RFC 6275 §6.3.
    pub home_address: Option<Ipv6Addr>,
    /// Home address of a type 2 routing header, RFC 6275 §6.4.
    pub type2_home_address: Option<Ipv6Addr>,
    /// Tunnel Encapsulation Limit option, RFC 2473 §5.1.
    pub tunnel_encapsulation_limit: Option<u8>,
    /// Offset of that option's limit value from the start of the IPv6 payload, for the
    /// Parameter Problem pointer of RFC 2473 §4.1.1.
    pub tunnel_encapsulation_limit_offset: Option<usize>,
    /// Fragment header, RFC 8200 §4.5.
    pub fragment: Option<Ipv6FragmentRepr>,
    /// First unrecognised option whose action is not Skip, with its offset from the start
    /// of the IPv6 payload, so the caller can apply [`unknown_option_action`].
    pub unrecognized_option: Option<(u8, usize)>,
}

impl ExtensionChain {
    fn new() -> Self {
        ExtensionChain {
            upper_layer: next_header::NO_NEXT,
            upper_layer_offset: 0,
            extension_headers: 0,
            home_address: None,
            type2_home_address: None,
            tunnel_encapsulation_limit: None,
            tunnel_encapsulation_limit_offset: None,
            fragment: None,
            unrecognized_option: None,
        }
    }

    /// Records the options of a Hop-by-Hop or (`destination`) Destination Options header.
    /// The Home Address option (RFC 6275 §6.3) and the Tunnel Encapsulation Limit
    /// (RFC 2473 §5.1) are defined for Destination Options headers only and are not taken
    /// from a Hop-by-Hop header.
    fn record_options(
        &mut self,
        header: &Ipv6OptionsHeader<&[u8]>,
        offset: usize,
        destination: bool,
    ) -> Result<()> {
        let area = header.options();
        let mut iter = Ipv6OptionsIter::new(area);
        loop {
            let at = offset + field::OPTIONS_START + iter.pos;
            let Some(option) = iter.next() else {
                return Ok(());
            };
            match option? {
                Ipv6Option::HomeAddress(a) if destination => {
                    self.home_address.get_or_insert(a);
                }
                Ipv6Option::TunnelEncapsulationLimit(l)
                    if destination && self.tunnel_encapsulation_limit.is_none() =>
                {
                    self.tunnel_encapsulation_limit = Some(l);
                    // The value follows the option type and length bytes.
                    self.tunnel_encapsulation_limit_offset = Some(at + 2);
                }
                Ipv6Option::Unknown { option_type, .. }
                    if unknown_option_action(option_type) != UnknownOptionAction::Skip =>
                {
                    self.unrecognized_option.get_or_insert((option_type, at));
                }
                _ => {}
            }
        }
    }
}

/// Walks the extension headers of an IPv6 payload from the fixed header's Next Header,
/// RFC 8200 §4.1: Hop-by-Hop (first only, else `BadOption`), Destination Options, Routing
/// (type 2 validated, RFC 6275 §6.4) and Fragment headers, at most
/// [`MAX_EXTENSION_HEADERS`] (else `Oversized`). Stops after a non-first fragment, whose
/// following headers are not in this packet. Never allocates.
pub fn walk_chain(first_next_header: u8, payload: &[u8]) -> Result<ExtensionChain> {
    let mut chain = ExtensionChain::new();
    let mut nh = first_next_header;
    let mut offset = 0usize;
    loop {
        let rest = payload.get(offset..).ok_or(Error::Truncated)?;
        let (next, len) = match nh {
            next_header::HOP_BY_HOP | next_header::DEST_OPTS => {
                if nh == next_header::HOP_BY_HOP && chain.extension_headers != 0 {
                    return Err(Error::BadOption);
                }
                let header = Ipv6OptionsHeader::new_checked(rest)?;
                chain.record_options(&header, offset, nh == next_header::DEST_OPTS)?;
                (header.next_header(), header.header_len())
            }
            next_header::ROUTING => {
                let header = Ipv6RoutingHeader::new_checked(rest)?;
                // RFC 8200 §4.4: a routing header with Segments Left 0 is ignored and
                // processing goes on with the next header.
                if header.routing_type() == ROUTING_TYPE_2 && header.segments_left() != 0 {
                    let repr = Type2RoutingRepr::parse(&header)?;
                    chain.type2_home_address.get_or_insert(repr.home_address);
                }
                (header.next_header(), header.header_len())
            }
            next_header::FRAGMENT => {
                let header = Ipv6FragmentHeader::new_checked(rest)?;
                let repr = Ipv6FragmentRepr::parse(&header)?;
                chain.fragment.get_or_insert(repr);
                (repr.next_header, FRAGMENT_HEADER_LEN)
            }
            _ => break,
        };
        chain.extension_headers += 1;
        if chain.extension_headers > MAX_EXTENSION_HEADERS {
            return Err(Error::Oversized);
        }
        nh = next;
        offset += len;
        if chain.fragment.is_some_and(|f| f.fragment_offset != 0) {
            break;
        }
    }
    chain.upper_layer = nh;
    chain.upper_layer_offset = offset;
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hoa() -> Ipv6Addr {
        "2001:db8:1::100".parse().unwrap()
    }

    // Destination Options: next UDP, len 2, PadN(2), Home Address 2001:db8:1::100 at 8n+6.
    const DEST_OPTS_HOA: [u8; 24] = [
        17, 2, 1, 2, 0, 0, 201, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0x00,
    ];

    #[test]
    fn home_address_option_is_found_at_8n_plus_6() {
        let h = Ipv6OptionsHeader::new_checked(&DEST_OPTS_HOA[..]).unwrap();
        assert_eq!(h.header_len(), 24);
        let opts: Vec<_> = h.iter_options().collect();
        assert_eq!(
            opts,
            vec![Ok(Ipv6Option::PadN(2)), Ok(Ipv6Option::HomeAddress(hoa()))]
        );
        let r = Ipv6OptionsRepr::parse(&h).unwrap();
        assert_eq!(r.home_address, Some(hoa()));
        assert_eq!(r.next_header, next_header::UDP);
    }

    #[test]
    fn emit_places_home_address_at_8n_plus_6() {
        let r = Ipv6OptionsRepr {
            next_header: next_header::UDP,
            home_address: Some(hoa()),
            ..Default::default()
        };
        assert_eq!(r.header_len(), 24);
        let mut buf = [0xffu8; 24];
        r.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut buf[..]))
            .unwrap();
        assert_eq!(buf, DEST_OPTS_HOA);
    }

    #[test]
    fn empty_options_emit_as_one_padn() {
        let r = Ipv6OptionsRepr {
            next_header: 59,
            ..Default::default()
        };
        let mut buf = [0xffu8; 8];
        r.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut buf[..]))
            .unwrap();
        assert_eq!(buf, [59, 0, 1, 4, 0, 0, 0, 0]);
    }

    #[test]
    fn pad1_and_tunnel_encapsulation_limit_and_router_alert_are_read() {
        let b = [41, 0, 5, 2, 0, 0, 4, 1];
        let b2 = [41, 0, 0, 4, 1, 3, 0, 0];
        let h = Ipv6OptionsHeader::new_checked(&b[..]);
        // Router alert (4) + TEL (3) = 7 bytes, need 6: this one overruns.
        assert_eq!(h.unwrap_err(), Error::BadOption);
        let h = Ipv6OptionsHeader::new_checked(&b2[..]).unwrap();
        let opts: Vec<_> = h.iter_options().map(|o| o.unwrap()).collect();
        assert_eq!(
            opts,
            vec![
                Ipv6Option::Pad1,
                Ipv6Option::TunnelEncapsulationLimit(3),
                Ipv6Option::Pad1,
                Ipv6Option::Pad1
            ]
        );
        let b3 = [41, 0, 5, 2, 0, 0, 1, 0];
        let h = Ipv6OptionsHeader::new_checked(&b3[..]).unwrap();
        assert_eq!(Ipv6OptionsRepr::parse(&h).unwrap().router_alert, Some(0));
    }

    #[test]
    fn option_overrunning_the_header_is_bad_option() {
        let b = [17, 0, 1, 5, 0, 0, 0, 0];
        assert_eq!(
            Ipv6OptionsHeader::new_checked(&b[..]).unwrap_err(),
            Error::BadOption
        );
        let b = [17, 0, 0, 0, 0, 0, 0, 0x1e];
        assert_eq!(
            Ipv6OptionsHeader::new_checked(&b[..]).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn known_option_with_wrong_length_is_bad_option() {
        let b = [17, 0, 4, 2, 0, 0, 1, 0];
        assert_eq!(
            Ipv6OptionsHeader::new_checked(&b[..]).unwrap_err(),
            Error::BadOption
        );
        let b = [17, 0, 201, 4, 0, 0, 0, 0];
        assert_eq!(
            Ipv6OptionsHeader::new_checked(&b[..]).unwrap_err(),
            Error::BadOption
        );
    }

    #[test]
    fn header_length_beyond_buffer_is_truncated() {
        assert_eq!(
            Ipv6OptionsHeader::new_checked(&DEST_OPTS_HOA[..23]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Ipv6OptionsHeader::new_checked(&DEST_OPTS_HOA[..7]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Ipv6RoutingHeader::new_checked(&TYPE2[..20]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Ipv6FragmentHeader::new_checked(&[0u8; 7][..]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn unknown_options_are_returned_raw_with_their_action() {
        let b = [17, 0, 0xc2, 2, 0xaa, 0xbb, 1, 0];
        let h = Ipv6OptionsHeader::new_checked(&b[..]).unwrap();
        let first = h.iter_options().next().unwrap().unwrap();
        assert_eq!(
            first,
            Ipv6Option::Unknown {
                option_type: 0xc2,
                data: &[0xaa, 0xbb]
            }
        );
        assert_eq!(
            unknown_option_action(0xc2),
            UnknownOptionAction::DiscardIcmpUnlessMulticast
        );
        assert_eq!(unknown_option_action(0x1e), UnknownOptionAction::Skip);
        assert_eq!(unknown_option_action(0x5e), UnknownOptionAction::Discard);
        assert_eq!(
            unknown_option_action(0x9e),
            UnknownOptionAction::DiscardIcmp
        );
    }

    // Type 2 routing header: next ICMPv6, len 2, type 2, segments left 1, home address.
    const TYPE2: [u8; 24] = [
        58, 2, 2, 1, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
    ];

    #[test]
    fn type2_routing_header_round_trips() {
        let h = Ipv6RoutingHeader::new_checked(&TYPE2[..]).unwrap();
        let r = Type2RoutingRepr::parse(&h).unwrap();
        assert_eq!(r.home_address, hoa());
        assert_eq!(r.next_header, next_header::ICMPV6);
        let mut buf = [0xffu8; 24];
        r.emit(&mut Ipv6RoutingHeader::new_unchecked(&mut buf[..]))
            .unwrap();
        assert_eq!(buf, TYPE2);
    }

    #[test]
    fn chain_ignores_a_type2_header_whose_segments_left_is_zero() {
        let mut payload = [0u8; 24 + 8];
        payload[..24].copy_from_slice(&TYPE2);
        payload[0] = next_header::UDP;
        payload[3] = 0;
        let chain = walk_chain(next_header::ROUTING, &payload).unwrap();
        assert_eq!(chain.type2_home_address, None);
        assert_eq!(chain.upper_layer, next_header::UDP);
        assert_eq!(chain.upper_layer_offset, 24);
        payload[3] = 2;
        assert_eq!(
            walk_chain(next_header::ROUTING, &payload).err(),
            Some(Error::BadOption),
            "type 2 with Segments Left other than 0 or 1 is malformed"
        );
    }

    #[test]
    fn type2_with_wrong_fields_is_rejected() {
        let mut b = TYPE2;
        b[3] = 0;
        let parse = |b: &[u8]| Type2RoutingRepr::parse(&Ipv6RoutingHeader::new_checked(b)?);
        assert_eq!(parse(&b), Err(Error::BadOption));
        let mut b = [0u8; 32];
        b[..24].copy_from_slice(&TYPE2);
        b[1] = 3;
        assert_eq!(parse(&b), Err(Error::BadHeaderLength));
        let mut b = TYPE2;
        b[2] = 0;
        assert_eq!(parse(&b), Err(Error::Unsupported));
    }

    // Found by fuzz/fuzz_targets/wire_ipv6.rs: a type 2 header of 8 bytes passes check_len,
    // and reading its home address indexed past the buffer.
    #[test]
    fn type2_header_too_short_for_a_home_address_has_none() {
        let b = [0, 0, ROUTING_TYPE_2, 0, 0x52, 0xfb, 0, 0];
        let h = Ipv6RoutingHeader::new_checked(&b[..]).unwrap();
        assert_eq!(h.home_address(), None);
        let h = Ipv6RoutingHeader::new_checked(&TYPE2[..]).unwrap();
        assert_eq!(
            h.home_address(),
            Some(Type2RoutingRepr::parse(&h).unwrap().home_address)
        );
        // Bytes after a short header are the payload, not its home address.
        let mut long = [0u8; 32];
        long[..8].copy_from_slice(&b);
        let h = Ipv6RoutingHeader::new_checked(&long[..]).unwrap();
        assert_eq!(h.home_address(), None);
    }

    #[test]
    fn fragment_header_fields_and_round_trip() {
        let b = [17, 0, 0x00, 0xb9, 0xde, 0xad, 0xbe, 0xef];
        let h = Ipv6FragmentHeader::new_checked(&b[..]).unwrap();
        let r = Ipv6FragmentRepr::parse(&h).unwrap();
        assert_eq!(
            r,
            Ipv6FragmentRepr {
                next_header: 17,
                fragment_offset: 23,
                more_fragments: true,
                identification: 0xdead_beef
            }
        );
        let mut out = [0xffu8; 8];
        r.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(out, b);
        let wide = Ipv6FragmentRepr {
            fragment_offset: 0x2000,
            ..r
        };
        assert_eq!(
            wide.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut out[..])),
            Err(Error::Oversized)
        );
    }

    #[test]
    fn chain_walk_finds_home_address_routing_fragment_and_upper_layer() {
        // HBH(TEL 4) -> DestOpts(HoA) -> Routing type 2 -> Fragment -> UDP
        let mut p = vec![60, 0, 4, 1, 4, 1, 1, 0];
        let mut d = DEST_OPTS_HOA;
        d[0] = next_header::ROUTING;
        p.extend_from_slice(&d);
        let mut r = TYPE2;
        r[0] = next_header::FRAGMENT;
        p.extend_from_slice(&r);
        p.extend_from_slice(&[17, 0, 0, 1, 0, 0, 0, 9]);
        p.extend_from_slice(&[0u8; 8]);
        let c = walk_chain(next_header::HOP_BY_HOP, &p).unwrap();
        assert_eq!(c.upper_layer, next_header::UDP);
        assert_eq!(c.upper_layer_offset, 8 + 24 + 24 + 8);
        assert_eq!(c.extension_headers, 4);
        assert_eq!(c.home_address, Some(hoa()));
        assert_eq!(c.type2_home_address, Some(hoa()));
        // RFC 2473 §5.1 defines the limit in a Destination Options header only: one in
        // the Hop-by-Hop header is not a tunnel encapsulation limit.
        assert_eq!(c.tunnel_encapsulation_limit, None);
        assert_eq!(c.tunnel_encapsulation_limit_offset, None);
        assert_eq!(c.fragment.unwrap().identification, 9);
        assert!(c.fragment.unwrap().more_fragments);
        assert_eq!(c.unrecognized_option, None);
    }

    #[test]
    fn the_encapsulation_limit_and_home_address_count_in_destination_options_only() {
        // DestOpts(TEL 3) -> UDP
        let p = [17, 0, 4, 1, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let c = walk_chain(next_header::DEST_OPTS, &p).unwrap();
        assert_eq!(c.tunnel_encapsulation_limit, Some(3));
        assert_eq!(c.tunnel_encapsulation_limit_offset, Some(4));
        // The same option area as a Hop-by-Hop header, and a Home Address option there.
        let c = walk_chain(next_header::HOP_BY_HOP, &p).unwrap();
        assert_eq!(c.tunnel_encapsulation_limit, None);
        let mut hbh = DEST_OPTS_HOA;
        hbh[0] = 17;
        let mut p = hbh.to_vec();
        p.extend_from_slice(&[0u8; 8]);
        let c = walk_chain(next_header::HOP_BY_HOP, &p).unwrap();
        assert_eq!(c.home_address, None);
        assert_eq!(
            walk_chain(next_header::DEST_OPTS, &p).unwrap().home_address,
            Some(hoa())
        );
    }

    #[test]
    fn chain_walk_reports_unrecognized_option_with_offset() {
        let p = [17, 0, 1, 0, 0x80, 0, 1, 0];
        let c = walk_chain(next_header::DEST_OPTS, &p).unwrap();
        assert_eq!(c.unrecognized_option, Some((0x80, 4)));
        assert_eq!(c.upper_layer_offset, 8);
    }

    #[test]
    fn chain_walk_stops_after_non_first_fragment() {
        let p = [60, 0, 0, 8, 0, 0, 0, 1, 0xff];
        let c = walk_chain(next_header::FRAGMENT, &p).unwrap();
        assert_eq!(c.upper_layer, next_header::DEST_OPTS);
        assert_eq!(c.upper_layer_offset, 8);
    }

    #[test]
    fn too_many_extension_headers_is_oversized() {
        let mut p = Vec::new();
        for _ in 0..=MAX_EXTENSION_HEADERS {
            p.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        }
        assert_eq!(
            walk_chain(next_header::DEST_OPTS, &p),
            Err(Error::Oversized)
        );
        let ok = &p[..8 * MAX_EXTENSION_HEADERS];
        let mut ok = ok.to_vec();
        let last = ok.len() - 8;
        ok[last] = 59;
        let c = walk_chain(next_header::DEST_OPTS, &ok).unwrap();
        assert_eq!(c.upper_layer, next_header::NO_NEXT);
    }

    #[test]
    fn hop_by_hop_not_first_is_bad_option() {
        let p = [0, 0, 1, 4, 0, 0, 0, 0, 59, 0, 1, 4, 0, 0, 0, 0];
        assert_eq!(
            walk_chain(next_header::DEST_OPTS, &p),
            Err(Error::BadOption)
        );
    }

    #[test]
    fn chain_walk_of_truncated_header_is_truncated() {
        assert_eq!(
            walk_chain(next_header::ROUTING, &TYPE2[..16]),
            Err(Error::Truncated)
        );
        assert_eq!(
            walk_chain(next_header::UDP, &[])
                .unwrap()
                .upper_layer_offset,
            0
        );
    }

    fn arb_addr() -> impl Strategy<Value = Ipv6Addr> {
        any::<[u8; 16]>().prop_map(Ipv6Addr::from)
    }

    proptest! {
        #[test]
        fn options_repr_round_trips(
            nh in any::<u8>(), ra in proptest::option::of(any::<u16>()),
            tel in proptest::option::of(any::<u8>()), hoa in proptest::option::of(arb_addr()),
        ) {
            let r = Ipv6OptionsRepr {
                next_header: nh, router_alert: ra, tunnel_encapsulation_limit: tel,
                home_address: hoa,
            };
            let mut buf = vec![0u8; r.header_len()];
            r.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut buf[..])).unwrap();
            let h = Ipv6OptionsHeader::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(h.header_len(), buf.len());
            if let Some(a) = hoa {
                let at = buf.windows(2).position(|w| w == [201, 16]).unwrap();
                prop_assert_eq!(at % 8, 6);
                prop_assert_eq!(&buf[at + 2..at + 18], &a.octets()[..]);
            }
            prop_assert_eq!(Ipv6OptionsRepr::parse(&h).unwrap(), r);
        }

        #[test]
        fn type2_repr_round_trips(nh in any::<u8>(), a in arb_addr()) {
            let r = Type2RoutingRepr { next_header: nh, home_address: a };
            let mut buf = [0u8; 24];
            r.emit(&mut Ipv6RoutingHeader::new_unchecked(&mut buf[..])).unwrap();
            let h = Ipv6RoutingHeader::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Type2RoutingRepr::parse(&h).unwrap(), r);
        }

        #[test]
        fn fragment_repr_round_trips(
            nh in any::<u8>(), off in 0u16..0x2000, m in any::<bool>(), id in any::<u32>(),
        ) {
            let r = Ipv6FragmentRepr {
                next_header: nh, fragment_offset: off, more_fragments: m, identification: id,
            };
            let mut buf = [0u8; 8];
            r.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut buf[..])).unwrap();
            let h = Ipv6FragmentHeader::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Ipv6FragmentRepr::parse(&h).unwrap(), r);
        }

        #[test]
        fn no_panic_on_arbitrary_bytes(
            nh in prop_oneof![Just(0u8), Just(43u8), Just(44u8), Just(60u8), any::<u8>()],
            bytes in proptest::collection::vec(any::<u8>(), 0..160),
        ) {
            if let Ok(h) = Ipv6OptionsHeader::new_checked(&bytes[..]) {
                let _ = Ipv6OptionsRepr::parse(&h);
                let _ = h.iter_options().count();
                let _ = h.payload();
            }
            if let Ok(h) = Ipv6RoutingHeader::new_checked(&bytes[..]) {
                let _ = Type2RoutingRepr::parse(&h);
                let _ = (h.data(), h.payload());
            }
            if let Ok(h) = Ipv6FragmentHeader::new_checked(&bytes[..]) {
                let _ = Ipv6FragmentRepr::parse(&h);
            }
            let _ = Ipv6OptionsIter::new(&bytes).count();
            if let Ok(c) = walk_chain(nh, &bytes) {
                prop_assert!(c.upper_layer_offset <= bytes.len());
            }
        }

        #[test]
        fn chain_walker_never_panics_on_plausible_chains(
            kinds in proptest::collection::vec(prop_oneof![Just(0u8), Just(43), Just(44), Just(60)], 0..12),
            fill in any::<u8>(), lens in proptest::collection::vec(0u8..4, 12),
        ) {
            let mut p = Vec::new();
            for (i, k) in kinds.iter().enumerate() {
                let next = kinds.get(i + 1).copied().unwrap_or(17);
                let len = lens[i];
                let mut h = vec![fill; 8 * (usize::from(len) + 1)];
                h[0] = next;
                h[1] = len;
                if *k == 44 { h.truncate(8); }
                p.extend_from_slice(&h);
            }
            let first = kinds.first().copied().unwrap_or(17);
            if let Ok(c) = walk_chain(first, &p) {
                prop_assert!(c.upper_layer_offset <= p.len());
                prop_assert!(c.extension_headers <= MAX_EXTENSION_HEADERS);
            }
        }
    }
}
