//! ICMP for IPv4 (RFC 792): echo, destination unreachable with the next-hop MTU of
//! RFC 1191, time exceeded, and the router discovery messages of RFC 1256 that Mobile IPv4
//! agent advertisements extend (RFC 5944 §2.1).

use super::checksum::{self, ChecksumMode};
use super::{Error, Result};
use std::net::Ipv4Addr;

/// The ICMP Type field. RFC 792; RFC 1256 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Icmpv4Message(pub u8);

impl Icmpv4Message {
    /// Echo Reply. RFC 792.
    pub const ECHO_REPLY: Icmpv4Message = Icmpv4Message(0);
    /// Destination Unreachable. RFC 792.
    pub const DST_UNREACHABLE: Icmpv4Message = Icmpv4Message(3);
    /// Redirect. RFC 792.
    pub const REDIRECT: Icmpv4Message = Icmpv4Message(5);
    /// Echo Request. RFC 792.
    pub const ECHO_REQUEST: Icmpv4Message = Icmpv4Message(8);
    /// Router Advertisement (and Mobile IP agent advertisement). RFC 1256 §3.1; RFC 5944 §2.1.
    pub const ROUTER_ADVERTISEMENT: Icmpv4Message = Icmpv4Message(9);
    /// Router Solicitation (and Mobile IP agent solicitation). RFC 1256 §3.2; RFC 5944 §2.2.
    pub const ROUTER_SOLICITATION: Icmpv4Message = Icmpv4Message(10);
    /// Time Exceeded. RFC 792.
    pub const TIME_EXCEEDED: Icmpv4Message = Icmpv4Message(11);
}

/// Destination Unreachable codes. RFC 792; RFC 1122 §3.2.2.1; RFC 1812 §5.2.7.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DstUnreachable(pub u8);

impl DstUnreachable {
    /// Net unreachable. RFC 792.
    pub const NET_UNREACHABLE: DstUnreachable = DstUnreachable(0);
    /// Host unreachable. RFC 792.
    pub const HOST_UNREACHABLE: DstUnreachable = DstUnreachable(1);
    /// Protocol unreachable. RFC 792.
    pub const PROTOCOL_UNREACHABLE: DstUnreachable = DstUnreachable(2);
    /// Port unreachable. RFC 792.
    pub const PORT_UNREACHABLE: DstUnreachable = DstUnreachable(3);
    /// Fragmentation needed and DF set; carries the next-hop MTU. RFC 792; RFC 1191 §4.
    pub const FRAG_NEEDED: DstUnreachable = DstUnreachable(4);
    /// Source route failed. RFC 792.
    pub const SOURCE_ROUTE_FAILED: DstUnreachable = DstUnreachable(5);
    /// Communication administratively prohibited. RFC 1812 §5.2.7.1.
    pub const ADMIN_PROHIBITED: DstUnreachable = DstUnreachable(13);
}

/// Time Exceeded codes. RFC 792.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeExceeded(pub u8);

impl TimeExceeded {
    /// Time to live exceeded in transit. RFC 792.
    pub const TTL_EXPIRED: TimeExceeded = TimeExceeded(0);
    /// Fragment reassembly time exceeded. RFC 792.
    pub const FRAG_EXPIRED: TimeExceeded = TimeExceeded(1);
}

/// Router Advertisement codes. RFC 1256 §3.1; RFC 5944 §2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouterAdvertisementCode(pub u8);

impl RouterAdvertisementCode {
    /// A router (or mobility agent that also routes common traffic). RFC 1256 §3.1.
    pub const NORMAL: RouterAdvertisementCode = RouterAdvertisementCode(0);
    /// A mobility agent that does not route common traffic. RFC 5944 §2.1.
    pub const MOBILITY_AGENT_ONLY: RouterAdvertisementCode = RouterAdvertisementCode(16);
}

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQNO: Range<usize> = 6..8;
    pub const UNUSED: Range<usize> = 4..8;
    pub const NEXT_HOP_MTU: Range<usize> = 6..8;
    pub const NUM_ADDRS: usize = 4;
    pub const ADDR_ENTRY_SIZE: usize = 5;
    pub const LIFETIME: Range<usize> = 6..8;
    pub const HEADER_END: usize = 8;
}

/// Length of the ICMP header (type, code, checksum and the 4-byte rest of header). RFC 792.
pub const HEADER_LEN: usize = field::HEADER_END;
/// Words per router address entry in RFC 1256 (address and preference level). RFC 1256 §3.1.
pub const ROUTER_ENTRY_WORDS: u8 = 2;

/// One router address and its preference level. RFC 1256 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouterAddress {
    /// Router Address\[i\].
    pub addr: Ipv4Addr,
    /// Preference Level\[i\], signed, higher is preferred. RFC 1256 §3.1.
    pub preference: i32,
}

/// A zero-copy view of the router address entries of an advertisement: `Num Addrs` entries
/// of `Addr Entry Size` 32-bit words each, of which the first two are read. RFC 1256 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouterAddresses<'a> {
    bytes: &'a [u8],
    entry_words: u8,
}

impl<'a> RouterAddresses<'a> {
    /// A view of `bytes` as entries of `entry_words` words: `entry_words` below 2 is
    /// `BadHeaderLength`, a length that is not a whole number of entries `BadLength`.
    /// RFC 1256 §3.1.
    pub fn new(bytes: &'a [u8], entry_words: u8) -> Result<RouterAddresses<'a>> {
        if entry_words < ROUTER_ENTRY_WORDS {
            return Err(Error::BadHeaderLength);
        }
        let whole_entries = bytes.chunks_exact(usize::from(entry_words) * 4);
        if !whole_entries.remainder().is_empty() {
            return Err(Error::BadLength);
        }
        Ok(RouterAddresses { bytes, entry_words })
    }

    /// Addr Entry Size: 32-bit words per entry. RFC 1256 §3.1.
    pub fn entry_words(&self) -> u8 {
        self.entry_words
    }

    fn entry_len(&self) -> usize {
        usize::from(self.entry_words.max(ROUTER_ENTRY_WORDS)) * 4
    }

    /// Num Addrs. RFC 1256 §3.1.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.entry_len()
    }

    /// Whether there are no entries (invalid in an advertisement). RFC 1256 §5.2.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw entry bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Entry `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<RouterAddress> {
        let start = index.checked_mul(self.entry_len())?;
        let entry = self.bytes.get(start..start.checked_add(8)?)?;
        let addr: [u8; 4] = entry.get(..4)?.try_into().ok()?;
        let preference: [u8; 4] = entry.get(4..8)?.try_into().ok()?;
        Some(RouterAddress {
            addr: Ipv4Addr::from(addr),
            preference: i32::from_be_bytes(preference),
        })
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = RouterAddress> + 'a {
        let this = *self;
        (0..this.len()).filter_map(move |i| this.get(i))
    }
}

/// A zero-copy view of an ICMPv4 message; the buffer is the whole message (the IPv4
/// payload), since the checksum covers all of it. RFC 792.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps `buffer` without checking; accessors may panic on a short buffer unless
    /// [`check_len`](Self::check_len) succeeded.
    pub fn new_unchecked(buffer: T) -> Icmpv4Packet<T> {
        Icmpv4Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Icmpv4Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// A buffer shorter than the 8-byte header is `Truncated`. RFC 792.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type. RFC 792.
    pub fn msg_type(&self) -> Icmpv4Message {
        Icmpv4Message(self.buffer.as_ref()[field::TYPE])
    }

    /// Code. RFC 792.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Checksum field. RFC 792.
    pub fn checksum(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Identifier of an echo message. RFC 792.
    pub fn echo_ident(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::ECHO_IDENT)
    }

    /// Sequence Number of an echo message. RFC 792.
    pub fn echo_seq_no(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::ECHO_SEQNO)
    }

    /// Next-Hop MTU of a fragmentation-needed message (zero from pre-RFC 1191 routers).
    /// RFC 1191 §4.
    pub fn next_hop_mtu(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::NEXT_HOP_MTU)
    }

    /// Num Addrs of a router advertisement. RFC 1256 §3.1.
    pub fn num_addrs(&self) -> u8 {
        self.buffer.as_ref()[field::NUM_ADDRS]
    }

    /// Addr Entry Size of a router advertisement, in 32-bit words. RFC 1256 §3.1.
    pub fn addr_entry_size(&self) -> u8 {
        self.buffer.as_ref()[field::ADDR_ENTRY_SIZE]
    }

    /// Lifetime of a router advertisement, in seconds. RFC 1256 §3.1.
    pub fn lifetime(&self) -> u16 {
        super::be16_at(self.buffer.as_ref(), field::LIFETIME)
    }

    fn router_entries_end(&self) -> usize {
        HEADER_LEN + usize::from(self.num_addrs()) * usize::from(self.addr_entry_size()) * 4
    }

    /// The router address entries of an advertisement: `BadLength` for Num Addrs 0,
    /// `BadHeaderLength` for Addr Entry Size below 2, `Truncated` when the entries run past
    /// the message. RFC 1256 §5.2.
    pub fn router_addresses(&self) -> Result<RouterAddresses<'_>> {
        if self.num_addrs() == 0 {
            return Err(Error::BadLength);
        }
        if self.addr_entry_size() < ROUTER_ENTRY_WORDS {
            return Err(Error::BadHeaderLength);
        }
        let bytes = self
            .buffer
            .as_ref()
            .get(HEADER_LEN..self.router_entries_end())
            .ok_or(Error::Truncated)?;
        RouterAddresses::new(bytes, self.addr_entry_size())
    }

    /// What follows the router address entries of an advertisement: the Mobile IP
    /// extensions of an agent advertisement (empty when the entries do not fit).
    /// RFC 5944 §2.1.
    pub fn router_extensions(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(self.router_entries_end()..)
            .unwrap_or(&[])
    }

    /// Whether the checksum over the whole message verifies. RFC 792.
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(self.buffer.as_ref())
    }

    /// Everything after the 8-byte header: echo data, the original datagram of an error,
    /// the entries and extensions of an advertisement. RFC 792.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    fn set_be16(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets Type. RFC 792.
    pub fn set_msg_type(&mut self, v: Icmpv4Message) {
        self.buffer.as_mut()[field::TYPE] = v.0;
    }

    /// Sets Code. RFC 792.
    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    /// Sets the Checksum field. RFC 792.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_be16(field::CHECKSUM, v);
    }

    /// Zeroes the 4-byte rest of header. RFC 792.
    pub fn clear_rest_of_header(&mut self) {
        self.buffer.as_mut()[field::UNUSED].fill(0);
    }

    /// Sets the echo Identifier. RFC 792.
    pub fn set_echo_ident(&mut self, v: u16) {
        self.set_be16(field::ECHO_IDENT, v);
    }

    /// Sets the echo Sequence Number. RFC 792.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        self.set_be16(field::ECHO_SEQNO, v);
    }

    /// Sets the Next-Hop MTU. RFC 1191 §4.
    pub fn set_next_hop_mtu(&mut self, v: u16) {
        self.set_be16(field::NEXT_HOP_MTU, v);
    }

    /// Sets Num Addrs. RFC 1256 §3.1.
    pub fn set_num_addrs(&mut self, v: u8) {
        self.buffer.as_mut()[field::NUM_ADDRS] = v;
    }

    /// Sets Addr Entry Size. RFC 1256 §3.1.
    pub fn set_addr_entry_size(&mut self, v: u8) {
        self.buffer.as_mut()[field::ADDR_ENTRY_SIZE] = v;
    }

    /// Sets Lifetime. RFC 1256 §3.1.
    pub fn set_lifetime(&mut self, v: u16) {
        self.set_be16(field::LIFETIME, v);
    }

    /// Writes router address entry `index` (its first two words), using the packet's Addr
    /// Entry Size; returns `Truncated` if the entry does not fit. RFC 1256 §3.1.
    pub fn set_router_address(&mut self, index: usize, entry: RouterAddress) -> Result<()> {
        let size = usize::from(self.addr_entry_size().max(ROUTER_ENTRY_WORDS)) * 4;
        let start = index
            .checked_mul(size)
            .and_then(|o| o.checked_add(HEADER_LEN))
            .ok_or(Error::Truncated)?;
        let slot = self
            .buffer
            .as_mut()
            .get_mut(start..start + 8)
            .ok_or(Error::Truncated)?;
        slot[..4].copy_from_slice(&entry.addr.octets());
        slot[4..].copy_from_slice(&entry.preference.to_be_bytes());
        Ok(())
    }

    /// Computes and writes the checksum over the whole buffer. RFC 792.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// Everything after the 8-byte header, mutable. RFC 792.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// An ICMPv4 message this dataplane reads or writes; data is borrowed from the packet.
/// RFC 792; RFC 1191; RFC 1256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4Repr<'a> {
    /// Echo Request. RFC 792.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence Number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Echo Reply. RFC 792.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence Number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Destination Unreachable. RFC 792; RFC 1191 §4.
    DstUnreachable {
        /// Code.
        reason: DstUnreachable,
        /// Next-Hop MTU (bytes 6..8; meaningful for FRAG_NEEDED, otherwise zero).
        next_hop_mtu: u16,
        /// Internet header and leading data of the original datagram.
        data: &'a [u8],
    },
    /// Time Exceeded. RFC 792.
    TimeExceeded {
        /// Code.
        reason: TimeExceeded,
        /// Internet header and leading data of the original datagram.
        data: &'a [u8],
    },
    /// Router Advertisement, or a Mobile IP agent advertisement. RFC 1256 §3.1;
    /// RFC 5944 §2.1.
    RouterAdvertisement {
        /// Code: 0, or 16 for an agent that routes no common traffic.
        code: RouterAdvertisementCode,
        /// Lifetime in seconds.
        lifetime: u16,
        /// The router address entries.
        addresses: RouterAddresses<'a>,
        /// Bytes after the entries (Mobile IP extensions).
        extensions: &'a [u8],
    },
    /// Router Solicitation, or a Mobile IP agent solicitation. RFC 1256 §3.2;
    /// RFC 5944 §2.2.
    RouterSolicitation,
}

fn zero_code<T: AsRef<[u8]>>(packet: &Icmpv4Packet<T>) -> Result<()> {
    match packet.msg_code() {
        0 => Ok(()),
        _ => Err(Error::Unsupported),
    }
}

impl<'a> Icmpv4Repr<'a> {
    /// Reads a checked message, verifying the checksum if `mode` says so (`BadChecksum`).
    /// Types other than the six above, and codes RFC 792 / RFC 1256 / RFC 5944 do not
    /// define for echo and router discovery, are `Unsupported`; a malformed advertisement
    /// fails as [`Icmpv4Packet::router_addresses`] says. RFC 792; RFC 1256 §5.2.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv4Packet<&'a T>,
        mode: ChecksumMode,
    ) -> Result<Icmpv4Repr<'a>> {
        packet.check_len()?;
        if mode == ChecksumMode::Verify && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let buffer: &'a [u8] = packet.buffer.as_ref();
        let data = buffer.get(HEADER_LEN..).unwrap_or(&[]);
        match packet.msg_type() {
            Icmpv4Message::ECHO_REQUEST | Icmpv4Message::ECHO_REPLY => {
                zero_code(packet)?;
                let (ident, seq_no) = (packet.echo_ident(), packet.echo_seq_no());
                Ok(if packet.msg_type() == Icmpv4Message::ECHO_REQUEST {
                    Icmpv4Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                    }
                } else {
                    Icmpv4Repr::EchoReply {
                        ident,
                        seq_no,
                        data,
                    }
                })
            }
            Icmpv4Message::DST_UNREACHABLE => Ok(Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable(packet.msg_code()),
                next_hop_mtu: packet.next_hop_mtu(),
                data,
            }),
            Icmpv4Message::TIME_EXCEEDED => Ok(Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded(packet.msg_code()),
                data,
            }),
            Icmpv4Message::ROUTER_ADVERTISEMENT => Self::parse_advertisement(packet),
            Icmpv4Message::ROUTER_SOLICITATION => {
                zero_code(packet)?;
                Ok(Icmpv4Repr::RouterSolicitation)
            }
            _ => Err(Error::Unsupported),
        }
    }

    fn parse_advertisement<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv4Packet<&'a T>,
    ) -> Result<Icmpv4Repr<'a>> {
        let code = RouterAdvertisementCode(packet.msg_code());
        if code != RouterAdvertisementCode::NORMAL
            && code != RouterAdvertisementCode::MOBILITY_AGENT_ONLY
        {
            return Err(Error::Unsupported);
        }
        let buffer: &'a [u8] = packet.buffer.as_ref();
        let entries_len = packet.router_addresses()?.as_bytes().len();
        let end = HEADER_LEN + entries_len;
        Ok(Icmpv4Repr::RouterAdvertisement {
            code,
            lifetime: packet.lifetime(),
            addresses: RouterAddresses::new(
                buffer.get(HEADER_LEN..end).ok_or(Error::Truncated)?,
                packet.addr_entry_size(),
            )?,
            extensions: buffer.get(end..).unwrap_or(&[]),
        })
    }

    /// Length of the 8-byte header.
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of the whole message.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Icmpv4Repr::EchoRequest { data, .. }
                | Icmpv4Repr::EchoReply { data, .. }
                | Icmpv4Repr::DstUnreachable { data, .. }
                | Icmpv4Repr::TimeExceeded { data, .. } => data.len(),
                Icmpv4Repr::RouterAdvertisement {
                    addresses,
                    extensions,
                    ..
                } => addresses.as_bytes().len() + extensions.len(),
                Icmpv4Repr::RouterSolicitation => 0,
            }
    }

    /// Writes the message and its checksum into `packet`, whose buffer must be exactly
    /// [`buffer_len`](Self::buffer_len) bytes (the checksum covers all of it). RFC 792.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>) {
        packet.clear_rest_of_header();
        let data: &[u8] = match *self {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }
            | Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => {
                let request = matches!(self, Icmpv4Repr::EchoRequest { .. });
                packet.set_msg_type(if request {
                    Icmpv4Message::ECHO_REQUEST
                } else {
                    Icmpv4Message::ECHO_REPLY
                });
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
                data
            }
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                data,
            } => {
                packet.set_msg_type(Icmpv4Message::DST_UNREACHABLE);
                packet.set_msg_code(reason.0);
                packet.set_next_hop_mtu(next_hop_mtu);
                data
            }
            Icmpv4Repr::TimeExceeded { reason, data } => {
                packet.set_msg_type(Icmpv4Message::TIME_EXCEEDED);
                packet.set_msg_code(reason.0);
                data
            }
            Icmpv4Repr::RouterAdvertisement {
                code,
                lifetime,
                addresses,
                extensions,
            } => {
                packet.set_msg_type(Icmpv4Message::ROUTER_ADVERTISEMENT);
                packet.set_msg_code(code.0);
                packet.set_num_addrs(addresses.len() as u8);
                packet.set_addr_entry_size(addresses.entry_words());
                packet.set_lifetime(lifetime);
                let entries = addresses.as_bytes();
                let payload = packet.payload_mut();
                payload[..entries.len()].copy_from_slice(entries);
                payload[entries.len()..entries.len() + extensions.len()]
                    .copy_from_slice(extensions);
                &[]
            }
            Icmpv4Repr::RouterSolicitation => {
                packet.set_msg_type(Icmpv4Message::ROUTER_SOLICITATION);
                packet.set_msg_code(0);
                &[]
            }
        };
        packet.payload_mut()[..data.len()].copy_from_slice(data);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // Windows `ping`: id 1, seq 1, the alphabet payload.
    const WINDOWS_PING: &str =
        "08004d5a000100016162636465666768696a6b6c6d6e6f7071727374757677616263646566676869";
    // Fragmentation needed, next-hop MTU 1400, quoting an IPv4/UDP header 10.0.0.2 →
    // 198.51.100.7 with DF.
    const FRAG_NEEDED: &str =
        "03042bda000005784500001c04d240003f1102c30a000002c63364079c40119405c8180d";
    // TTL exceeded in transit quoting the same datagram.
    const TTL_EXCEEDED: &str =
        "0b002956000000004500001c04d240003f1102c30a000002c63364079c40119405c8180d";
    // A Mobile IPv4 agent advertisement: code 16, lifetime 1800, router 192.0.2.1
    // preference 0, then a mobility agent advertisement extension (type 16, length 10,
    // sequence 7, registration lifetime 600, flags F and M (0x18), care-of 192.0.2.1).
    const AGENT_ADVERTISEMENT: &str = "0910407901020708c000020100000000100a000702581800c0000201";
    // Router solicitation.
    const SOLICITATION: &str = "0a00f5ff00000000";

    fn parse(bytes: &[u8]) -> Result<Icmpv4Repr<'_>> {
        let p = Icmpv4Packet::new_checked(bytes)?;
        Icmpv4Repr::parse(&p, ChecksumMode::Verify)
    }

    fn re_emit(repr: &Icmpv4Repr<'_>) -> Vec<u8> {
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
        out
    }

    #[test]
    fn windows_ping_parses_and_round_trips() {
        let b = hex(WINDOWS_PING);
        let r = parse(&b).unwrap();
        assert_eq!(
            r,
            Icmpv4Repr::EchoRequest {
                ident: 1,
                seq_no: 1,
                data: b"abcdefghijklmnopqrstuvwabcdefghi"
            }
        );
        assert_eq!(re_emit(&r), b);
    }

    #[test]
    fn echo_reply_round_trips() {
        let r = Icmpv4Repr::EchoReply {
            ident: 0x1234,
            seq_no: 9,
            data: b"xyz",
        };
        let b = re_emit(&r);
        assert_eq!(b[0], 0);
        assert_eq!(parse(&b).unwrap(), r);
    }

    #[test]
    fn frag_needed_carries_next_hop_mtu_and_original_header() {
        let b = hex(FRAG_NEEDED);
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.next_hop_mtu(), 1400);
        let r = parse(&b).unwrap();
        match r {
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                data,
            } => {
                assert_eq!(reason, DstUnreachable::FRAG_NEEDED);
                assert_eq!(next_hop_mtu, 1400);
                assert_eq!(data.len(), 28);
                assert_eq!(data[0], 0x45);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(re_emit(&r), b);
    }

    #[test]
    fn time_exceeded_round_trips() {
        let b = hex(TTL_EXCEEDED);
        let r = parse(&b).unwrap();
        assert!(matches!(
            r,
            Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::TTL_EXPIRED,
                ..
            }
        ));
        assert_eq!(re_emit(&r), b);
    }

    #[test]
    fn agent_advertisement_exposes_addresses_and_extensions() {
        let b = hex(AGENT_ADVERTISEMENT);
        let r = parse(&b).unwrap();
        let Icmpv4Repr::RouterAdvertisement {
            code,
            lifetime,
            addresses,
            extensions,
        } = r
        else {
            panic!("{r:?}");
        };
        assert_eq!(code, RouterAdvertisementCode::MOBILITY_AGENT_ONLY);
        assert_eq!(lifetime, 1800);
        assert_eq!(addresses.len(), 1);
        assert_eq!(
            addresses.iter().collect::<Vec<_>>(),
            vec![RouterAddress {
                addr: Ipv4Addr::new(192, 0, 2, 1),
                preference: 0
            }]
        );
        assert_eq!(extensions.len(), 12);
        assert_eq!(extensions[0], 16);
        assert_eq!(re_emit(&r), b);
    }

    #[test]
    fn router_solicitation_round_trips() {
        let b = hex(SOLICITATION);
        assert_eq!(parse(&b).unwrap(), Icmpv4Repr::RouterSolicitation);
        assert_eq!(re_emit(&Icmpv4Repr::RouterSolicitation), b);
    }

    #[test]
    fn advertisement_with_larger_entries_reads_first_two_words() {
        let entries = [10, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 9, 9, 9, 9];
        let addresses = RouterAddresses::new(&entries, 3).unwrap();
        let r = Icmpv4Repr::RouterAdvertisement {
            code: RouterAdvertisementCode::NORMAL,
            lifetime: 30,
            addresses,
            extensions: &[],
        };
        let b = re_emit(&r);
        assert_eq!(parse(&b).unwrap(), r);
        assert_eq!(addresses.get(0).unwrap().preference, -1);
        assert_eq!(addresses.get(1), None);
    }

    #[test]
    fn set_router_address_writes_an_entry() {
        let mut b = [0u8; 16];
        let mut p = Icmpv4Packet::new_unchecked(&mut b[..]);
        p.set_addr_entry_size(2);
        let entry = RouterAddress {
            addr: Ipv4Addr::new(10, 1, 2, 3),
            preference: 5,
        };
        p.set_router_address(0, entry).unwrap();
        assert_eq!(p.set_router_address(1, entry), Err(Error::Truncated));
        p.set_num_addrs(1);
        assert_eq!(p.router_addresses().unwrap().get(0), Some(entry));
    }

    #[test]
    fn short_message_is_truncated() {
        assert_eq!(
            Icmpv4Packet::new_checked(&[8u8, 0, 0, 0, 0, 0, 0][..]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn corrupted_message_is_bad_checksum_unless_ignored() {
        let mut b = hex(WINDOWS_PING);
        b[10] ^= 0xff;
        assert_eq!(parse(&b).unwrap_err(), Error::BadChecksum);
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert!(Icmpv4Repr::parse(&p, ChecksumMode::Ignore).is_ok());
    }

    fn with_checksum(mut b: Vec<u8>) -> Vec<u8> {
        Icmpv4Packet::new_unchecked(&mut b[..]).fill_checksum();
        b
    }

    #[test]
    fn unknown_type_is_unsupported() {
        let b = with_checksum(hex("0d0000000000000000000000")); // timestamp
        assert_eq!(parse(&b).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn echo_with_nonzero_code_is_unsupported() {
        let mut b = hex(WINDOWS_PING);
        b[1] = 1;
        assert_eq!(parse(&with_checksum(b)).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn advertisement_with_unknown_code_is_unsupported() {
        let mut b = hex(AGENT_ADVERTISEMENT);
        b[1] = 1;
        assert_eq!(parse(&with_checksum(b)).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn advertisement_without_addresses_is_bad_length() {
        let mut b = hex(AGENT_ADVERTISEMENT);
        b[4] = 0;
        assert_eq!(parse(&with_checksum(b)).unwrap_err(), Error::BadLength);
    }

    #[test]
    fn advertisement_entry_size_below_two_is_bad_header_length() {
        let mut b = hex(AGENT_ADVERTISEMENT);
        b[5] = 1;
        assert_eq!(
            parse(&with_checksum(b)).unwrap_err(),
            Error::BadHeaderLength
        );
    }

    #[test]
    fn advertisement_entries_past_the_end_are_truncated() {
        let mut b = hex(AGENT_ADVERTISEMENT);
        b[4] = 3;
        assert_eq!(parse(&with_checksum(b)).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn partial_router_entry_is_bad_length() {
        assert_eq!(
            RouterAddresses::new(&[0; 12], 2).unwrap_err(),
            Error::BadLength
        );
    }

    fn arb_data() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..64)
    }

    proptest! {
        #[test]
        fn echo_parse_of_emit_is_identity(
            request in any::<bool>(), ident in any::<u16>(), seq_no in any::<u16>(), data in arb_data(),
        ) {
            let repr = if request {
                Icmpv4Repr::EchoRequest { ident, seq_no, data: &data }
            } else {
                Icmpv4Repr::EchoReply { ident, seq_no, data: &data }
            };
            let b = re_emit(&repr);
            prop_assert_eq!(parse(&b).unwrap(), repr);
        }

        #[test]
        fn error_parse_of_emit_is_identity(
            unreachable in any::<bool>(), code in any::<u8>(), mtu in any::<u16>(), data in arb_data(),
        ) {
            let repr = if unreachable {
                Icmpv4Repr::DstUnreachable { reason: DstUnreachable(code), next_hop_mtu: mtu, data: &data }
            } else {
                Icmpv4Repr::TimeExceeded { reason: TimeExceeded(code), data: &data }
            };
            let b = re_emit(&repr);
            prop_assert_eq!(parse(&b).unwrap(), repr);
        }

        #[test]
        fn advertisement_parse_of_emit_is_identity(
            mobility in any::<bool>(), lifetime in any::<u16>(), entry_words in 2u8..4,
            count in 1usize..6, fill in arb_data(), extensions in arb_data(),
        ) {
            let len = count * usize::from(entry_words) * 4;
            let entries: Vec<u8> = fill.iter().copied().cycle().take(len).chain(core::iter::repeat(7)).take(len).collect();
            let repr = Icmpv4Repr::RouterAdvertisement {
                code: if mobility { RouterAdvertisementCode::MOBILITY_AGENT_ONLY } else { RouterAdvertisementCode::NORMAL },
                lifetime,
                addresses: RouterAddresses::new(&entries, entry_words).unwrap(),
                extensions: &extensions,
            };
            let b = re_emit(&repr);
            prop_assert_eq!(parse(&b).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Icmpv4Packet::new_checked(&bytes[..]) {
                let _ = Icmpv4Repr::parse(&p, ChecksumMode::Verify);
                let _ = Icmpv4Repr::parse(&p, ChecksumMode::Ignore);
                let _ = (p.router_addresses(), p.router_extensions(), p.payload());
            }
        }

        #[test]
        fn arbitrary_advertisements_never_panic(
            num in any::<u8>(), size in any::<u8>(), rest in proptest::collection::vec(any::<u8>(), 8..80),
        ) {
            let mut b = rest;
            b[0] = 9;
            b[1] = 0;
            b[4] = num;
            b[5] = size;
            let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
            if let Ok(Icmpv4Repr::RouterAdvertisement { addresses, .. }) = Icmpv4Repr::parse(&p, ChecksumMode::Ignore) {
                let _ = addresses.iter().count();
            }
        }
    }
}
