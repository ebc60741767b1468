//! ICMPv6 (RFC 4443) with Neighbor Discovery (RFC 4861) and the Mobile IPv6 additions of
//! RFC 6275: the Home Agent flag and options of §7, and the home agent address discovery
//! and mobile prefix messages of §6.5–6.8.

use super::checksum;
use super::ipv6::next_header;
use super::{be16, be32, Error, Result};
use std::net::Ipv6Addr;

/// ICMPv6 message types (RFC 4443 §2.1, RFC 4861 §4, RFC 6275 §6.5–6.8).
pub mod message_type {
    /// Destination Unreachable, RFC 4443 §3.1.
    pub const DST_UNREACHABLE: u8 = 1;
    /// Packet Too Big, RFC 4443 §3.2.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time Exceeded, RFC 4443 §3.3.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter Problem, RFC 4443 §3.4.
    pub const PARAM_PROBLEM: u8 = 4;
    /// Echo Request, RFC 4443 §4.1.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo Reply, RFC 4443 §4.2.
    pub const ECHO_REPLY: u8 = 129;
    /// Router Solicitation, RFC 4861 §4.1.
    pub const ROUTER_SOLICIT: u8 = 133;
    /// Router Advertisement, RFC 4861 §4.2.
    pub const ROUTER_ADVERT: u8 = 134;
    /// Neighbor Solicitation, RFC 4861 §4.3.
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    /// Neighbor Advertisement, RFC 4861 §4.4.
    pub const NEIGHBOR_ADVERT: u8 = 136;
    /// Redirect, RFC 4861 §4.5.
    pub const REDIRECT: u8 = 137;
    /// Home Agent Address Discovery Request, RFC 6275 §6.5.
    pub const HOME_AGENT_DISCOVERY_REQUEST: u8 = 144;
    /// Home Agent Address Discovery Reply, RFC 6275 §6.6.
    pub const HOME_AGENT_DISCOVERY_REPLY: u8 = 145;
    /// Mobile Prefix Solicitation, RFC 6275 §6.7.
    pub const MOBILE_PREFIX_SOLICIT: u8 = 146;
    /// Mobile Prefix Advertisement, RFC 6275 §6.8.
    pub const MOBILE_PREFIX_ADVERT: u8 = 147;
}

/// Neighbor Discovery option types (RFC 4861 §4.6, RFC 6275 §7.3–7.4).
pub mod nd_option_type {
    /// Source Link-Layer Address, RFC 4861 §4.6.1.
    pub const SOURCE_LINK_LAYER_ADDRESS: u8 = 1;
    /// Target Link-Layer Address, RFC 4861 §4.6.1.
    pub const TARGET_LINK_LAYER_ADDRESS: u8 = 2;
    /// Prefix Information, RFC 4861 §4.6.2.
    pub const PREFIX_INFORMATION: u8 = 3;
    /// Redirected Header, RFC 4861 §4.6.3.
    pub const REDIRECTED_HEADER: u8 = 4;
    /// MTU, RFC 4861 §4.6.4.
    pub const MTU: u8 = 5;
    /// Advertisement Interval, RFC 6275 §7.3.
    pub const ADVERTISEMENT_INTERVAL: u8 = 7;
    /// Home Agent Information, RFC 6275 §7.4.
    pub const HOME_AGENT_INFORMATION: u8 = 8;
}

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const WORD1_HI: Range<usize> = 4..6;
    pub const WORD1_LO: Range<usize> = 6..8;
    pub const WORD1: Range<usize> = 4..8;
    pub const CUR_HOP_LIMIT: usize = 4;
    pub const ROUTER_FLAGS: usize = 5;
    pub const REACHABLE_TIME: Range<usize> = 8..12;
    pub const RETRANS_TIME: Range<usize> = 12..16;
    pub const NEIGHBOR_FLAGS: usize = 4;
    pub const TARGET: Range<usize> = 8..24;
    pub const REDIRECT_DESTINATION: Range<usize> = 24..40;
    pub const MPA_FLAGS: usize = 6;
}

const RA_MANAGED: u8 = 0x80;
const RA_OTHER: u8 = 0x40;
const RA_HOME_AGENT: u8 = 0x20;
const NA_ROUTER: u8 = 0x80;
const NA_SOLICITED: u8 = 0x40;
const NA_OVERRIDE: u8 = 0x20;
const MPA_MANAGED: u8 = 0x80;
const MPA_OTHER: u8 = 0x40;
const PREFIX_ON_LINK: u8 = 0x80;
const PREFIX_AUTONOMOUS: u8 = 0x40;
const PREFIX_ROUTER_ADDRESS: u8 = 0x20;

/// Length of the fixed part of a message before its data, options or addresses; 4 for a
/// type this module does not know (RFC 4443 §2.1).
pub const fn header_len(msg_type: u8) -> usize {
    use message_type::*;
    match msg_type {
        ROUTER_ADVERT => 16,
        NEIGHBOR_SOLICIT | NEIGHBOR_ADVERT => 24,
        REDIRECT => 40,
        DST_UNREACHABLE
        | PACKET_TOO_BIG
        | TIME_EXCEEDED
        | PARAM_PROBLEM
        | ECHO_REQUEST
        | ECHO_REPLY
        | ROUTER_SOLICIT
        | HOME_AGENT_DISCOVERY_REQUEST
        | HOME_AGENT_DISCOVERY_REPLY
        | MOBILE_PREFIX_SOLICIT
        | MOBILE_PREFIX_ADVERT => 8,
        _ => 4,
    }
}

/// Whether the part after the fixed header is Neighbor Discovery options (RFC 4861 §4.6,
/// RFC 6275 §6.8).
const fn carries_nd_options(msg_type: u8) -> bool {
    use message_type::*;
    matches!(
        msg_type,
        ROUTER_SOLICIT
            | ROUTER_ADVERT
            | NEIGHBOR_SOLICIT
            | NEIGHBOR_ADVERT
            | REDIRECT
            | MOBILE_PREFIX_ADVERT
    )
}

fn addr_at(data: &[u8], range: core::ops::Range<usize>) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&data[range]);
    Ipv6Addr::from(a)
}

/// The ICMPv6 checksum of `data` (checksum field zeroed or not yet written) over the IPv6
/// pseudo-header, RFC 4443 §2.3.
fn compute_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, data: &[u8]) -> u16 {
    let pseudo = checksum::pseudo_header_v6(
        src.octets(),
        dst.octets(),
        next_header::ICMPV6,
        data.len() as u32,
    );
    checksum::finish(checksum::combine(&[pseudo, checksum::sum(data)]))
}

/// A zero-copy view of an ICMPv6 message, RFC 4443 §2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps a buffer without checks; accessors may panic until [`Self::check_len`] passed.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }

    /// Wraps a buffer after [`Self::check_len`], RFC 4443 §2.1.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the fixed part of the message type fits (`Truncated`), that every
    /// Neighbor Discovery option has a non-zero length and stays inside the message
    /// (`BadOption`, RFC 4861 §4.6), and that a home agent address list is whole
    /// (`BadLength`, RFC 6275 §6.6).
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        let msg_type = *data.get(field::TYPE).ok_or(Error::Truncated)?;
        let len = header_len(msg_type);
        let rest = data.get(len..).ok_or(Error::Truncated)?;
        if carries_nd_options(msg_type) {
            for option in NdOptionsIter::new(rest) {
                option?;
            }
        }
        if msg_type == message_type::HOME_AGENT_DISCOVERY_REPLY && rest.len() % 16 != 0 {
            return Err(Error::BadLength);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type field, RFC 4443 §2.1.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// Code field, RFC 4443 §2.1.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Checksum field, RFC 4443 §2.3.
    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Whether the checksum over the pseudo-header and the whole buffer verifies,
    /// RFC 4443 §2.3.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        compute_checksum(src, dst, self.buffer.as_ref()) == 0
    }

    /// Echo Identifier, RFC 4443 §4.1.
    pub fn echo_ident(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::WORD1_HI])
    }

    /// Echo Sequence Number, RFC 4443 §4.1.
    pub fn echo_seq_no(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::WORD1_LO])
    }

    /// MTU of a Packet Too Big message, RFC 4443 §3.2.
    pub fn mtu(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::WORD1])
    }

    /// Pointer of a Parameter Problem message, RFC 4443 §3.4.
    pub fn pointer(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::WORD1])
    }

    /// Cur Hop Limit of a Router Advertisement, RFC 4861 §4.2.
    pub fn cur_hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::CUR_HOP_LIMIT]
    }

    fn router_flags(&self) -> u8 {
        self.buffer.as_ref()[field::ROUTER_FLAGS]
    }

    /// M (managed address configuration) flag of a Router Advertisement, RFC 4861 §4.2.
    pub fn managed(&self) -> bool {
        self.router_flags() & RA_MANAGED != 0
    }

    /// O (other configuration) flag of a Router Advertisement, RFC 4861 §4.2.
    pub fn other(&self) -> bool {
        self.router_flags() & RA_OTHER != 0
    }

    /// H flag of a Router Advertisement: the router is a home agent, RFC 6275 §7.1.
    pub fn home_agent(&self) -> bool {
        self.router_flags() & RA_HOME_AGENT != 0
    }

    /// Router Lifetime of a Router Advertisement in seconds, RFC 4861 §4.2.
    pub fn router_lifetime(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::WORD1_LO])
    }

    /// Reachable Time of a Router Advertisement in milliseconds, RFC 4861 §4.2.
    pub fn reachable_time(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::REACHABLE_TIME])
    }

    /// Retrans Timer of a Router Advertisement in milliseconds, RFC 4861 §4.2.
    pub fn retrans_time(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::RETRANS_TIME])
    }

    fn neighbor_flags(&self) -> u8 {
        self.buffer.as_ref()[field::NEIGHBOR_FLAGS]
    }

    /// R (router) flag of a Neighbor Advertisement, RFC 4861 §4.4.
    pub fn router_flag(&self) -> bool {
        self.neighbor_flags() & NA_ROUTER != 0
    }

    /// S (solicited) flag of a Neighbor Advertisement, RFC 4861 §4.4.
    pub fn solicited_flag(&self) -> bool {
        self.neighbor_flags() & NA_SOLICITED != 0
    }

    /// O (override) flag of a Neighbor Advertisement, RFC 4861 §4.4.
    pub fn override_flag(&self) -> bool {
        self.neighbor_flags() & NA_OVERRIDE != 0
    }

    /// Target Address of a Neighbor Solicitation, Advertisement or Redirect,
    /// RFC 4861 §4.3–4.5.
    pub fn target_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::TARGET)
    }

    /// Destination Address of a Redirect, RFC 4861 §4.5.
    pub fn redirect_destination(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::REDIRECT_DESTINATION)
    }

    /// Identifier of a home agent discovery or mobile prefix message, RFC 6275 §6.5–6.8.
    pub fn mobile_identifier(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::WORD1_HI])
    }

    /// M flag of a Mobile Prefix Advertisement, RFC 6275 §6.8.
    pub fn mobile_prefix_managed(&self) -> bool {
        self.buffer.as_ref()[field::MPA_FLAGS] & MPA_MANAGED != 0
    }

    /// O flag of a Mobile Prefix Advertisement, RFC 6275 §6.8.
    pub fn mobile_prefix_other(&self) -> bool {
        self.buffer.as_ref()[field::MPA_FLAGS] & MPA_OTHER != 0
    }

    /// What follows the fixed part: echo data, the invoking packet of an error, Neighbor
    /// Discovery options or home agent addresses, RFC 4443 §2.1.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[header_len(self.msg_type())..]
    }

    /// The Neighbor Discovery options of the message, RFC 4861 §4.6.
    pub fn nd_options(&self) -> NdOptionsIter<'_> {
        NdOptionsIter::new(self.payload())
    }

    /// The Home Agent Addresses of a discovery reply, RFC 6275 §6.6.
    pub fn home_agent_addresses(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.payload().chunks_exact(16).map(|c| addr_at(c, 0..16))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Sets the Type field, RFC 4443 §2.1.
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    /// Sets the Code field, RFC 4443 §2.1.
    pub fn set_msg_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    /// Sets the Checksum field, RFC 4443 §2.3.
    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// Computes and writes the checksum over the pseudo-header and the whole buffer,
    /// RFC 4443 §2.3.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let c = compute_checksum(src, dst, self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// Sets the MTU of a Packet Too Big message, RFC 4443 §3.2.
    pub fn set_mtu(&mut self, value: u32) {
        self.buffer.as_mut()[field::WORD1].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the Echo Identifier and Sequence Number, RFC 4443 §4.1.
    pub fn set_echo(&mut self, ident: u16, seq_no: u16) {
        self.buffer.as_mut()[field::WORD1_HI].copy_from_slice(&ident.to_be_bytes());
        self.buffer.as_mut()[field::WORD1_LO].copy_from_slice(&seq_no.to_be_bytes());
    }

    /// The part after the fixed header, mutable, RFC 4443 §2.1.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = header_len(self.msg_type());
        &mut self.buffer.as_mut()[start..]
    }
}

/// The Prefix Information option, RFC 4861 §4.6.2, with the R flag of RFC 6275 §7.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixInformation {
    /// Prefix Length in bits.
    pub prefix_len: u8,
    /// L flag: the prefix is on-link.
    pub on_link: bool,
    /// A flag: usable for stateless address autoconfiguration.
    pub autonomous: bool,
    /// R flag: the Prefix field holds the router's full address, RFC 6275 §7.2.
    pub router_address: bool,
    /// Valid Lifetime in seconds.
    pub valid_lifetime: u32,
    /// Preferred Lifetime in seconds.
    pub preferred_lifetime: u32,
    /// Prefix (or the router's address when `router_address`).
    pub prefix: Ipv6Addr,
}

/// The Home Agent Information option, RFC 6275 §7.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HomeAgentInformation {
    /// Home Agent Preference, a signed two's-complement integer: higher is more
    /// preferable (RFC 6275 §7.4).
    pub preference: i16,
    /// Home Agent Lifetime in seconds.
    pub lifetime: u16,
}

/// One Neighbor Discovery option, RFC 4861 §4.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdOption<'a> {
    /// Source Link-Layer Address of an Ethernet link, RFC 4861 §4.6.1, RFC 2464 §6.
    SourceLinkLayerAddress([u8; 6]),
    /// Target Link-Layer Address of an Ethernet link, RFC 4861 §4.6.1, RFC 2464 §6.
    TargetLinkLayerAddress([u8; 6]),
    /// Prefix Information, RFC 4861 §4.6.2.
    PrefixInformation(PrefixInformation),
    /// Redirected Header: the bytes after the six reserved bytes, RFC 4861 §4.6.3.
    RedirectedHeader(&'a [u8]),
    /// MTU, RFC 4861 §4.6.4.
    Mtu(u32),
    /// Advertisement Interval in milliseconds, RFC 6275 §7.3.
    AdvertisementInterval(u32),
    /// Home Agent Information, RFC 6275 §7.4.
    HomeAgentInformation(HomeAgentInformation),
    /// Any other option (or a link-layer address of another length), raw.
    Unknown {
        /// Option type.
        option_type: u8,
        /// The bytes after type and length.
        data: &'a [u8],
    },
}

impl NdOption<'_> {
    /// Length of the option in bytes, a multiple of 8, RFC 4861 §4.6.
    pub fn buffer_len(&self) -> usize {
        match self {
            NdOption::SourceLinkLayerAddress(_)
            | NdOption::TargetLinkLayerAddress(_)
            | NdOption::Mtu(_)
            | NdOption::AdvertisementInterval(_)
            | NdOption::HomeAgentInformation(_) => 8,
            NdOption::PrefixInformation(_) => 32,
            NdOption::RedirectedHeader(d) => (8 + d.len()).div_ceil(8) * 8,
            NdOption::Unknown { data, .. } => (2 + data.len()).div_ceil(8) * 8,
        }
    }

    /// Writes the option at the start of `buf`, zero-padded to a multiple of 8; returns its
    /// length. `Truncated` when `buf` is short, `Oversized` beyond 255 units, RFC 4861 §4.6.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let units = u8::try_from(len / 8).map_err(|_| Error::Oversized)?;
        let out = buf.get_mut(..len).ok_or(Error::Truncated)?;
        out.fill(0);
        out[1] = units;
        match *self {
            NdOption::SourceLinkLayerAddress(mac) | NdOption::TargetLinkLayerAddress(mac) => {
                out[0] = if matches!(self, NdOption::SourceLinkLayerAddress(_)) {
                    nd_option_type::SOURCE_LINK_LAYER_ADDRESS
                } else {
                    nd_option_type::TARGET_LINK_LAYER_ADDRESS
                };
                out[2..8].copy_from_slice(&mac);
            }
            NdOption::PrefixInformation(p) => {
                out[0] = nd_option_type::PREFIX_INFORMATION;
                out[2] = p.prefix_len;
                out[3] = (if p.on_link { PREFIX_ON_LINK } else { 0 })
                    | (if p.autonomous { PREFIX_AUTONOMOUS } else { 0 })
                    | (if p.router_address {
                        PREFIX_ROUTER_ADDRESS
                    } else {
                        0
                    });
                out[4..8].copy_from_slice(&p.valid_lifetime.to_be_bytes());
                out[8..12].copy_from_slice(&p.preferred_lifetime.to_be_bytes());
                out[16..32].copy_from_slice(&p.prefix.octets());
            }
            NdOption::RedirectedHeader(d) => {
                out[0] = nd_option_type::REDIRECTED_HEADER;
                out[8..8 + d.len()].copy_from_slice(d);
            }
            NdOption::Mtu(mtu) => {
                out[0] = nd_option_type::MTU;
                out[4..8].copy_from_slice(&mtu.to_be_bytes());
            }
            NdOption::AdvertisementInterval(ms) => {
                out[0] = nd_option_type::ADVERTISEMENT_INTERVAL;
                out[4..8].copy_from_slice(&ms.to_be_bytes());
            }
            NdOption::HomeAgentInformation(h) => {
                out[0] = nd_option_type::HOME_AGENT_INFORMATION;
                out[4..6].copy_from_slice(&h.preference.to_be_bytes());
                out[6..8].copy_from_slice(&h.lifetime.to_be_bytes());
            }
            NdOption::Unknown { option_type, data } => {
                out[0] = option_type;
                out[2..2 + data.len()].copy_from_slice(data);
            }
        }
        Ok(len)
    }
}

/// Iterator over Neighbor Discovery options; yields one `Err(BadOption)` and stops at an
/// option of length 0, one that runs past the message, or a known option of the wrong
/// length, RFC 4861 §4.6.
#[derive(Debug, Clone)]
pub struct NdOptionsIter<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> NdOptionsIter<'a> {
    /// Iterates over the option area `data`.
    pub fn new(data: &'a [u8]) -> Self {
        NdOptionsIter { data, pos: 0 }
    }

    fn next_option(&mut self) -> Result<NdOption<'a>> {
        let rest = self.data.get(self.pos..).ok_or(Error::BadOption)?;
        let (&option_type, &units) = match rest {
            [t, l, ..] => (t, l),
            _ => return Err(Error::BadOption),
        };
        let len = 8 * usize::from(units);
        if len == 0 {
            return Err(Error::BadOption);
        }
        let option = rest.get(..len).ok_or(Error::BadOption)?;
        self.pos += len;
        let body = &option[2..];
        use nd_option_type::*;
        Ok(match (option_type, units) {
            (SOURCE_LINK_LAYER_ADDRESS, 1) => NdOption::SourceLinkLayerAddress(mac_at(body)),
            (TARGET_LINK_LAYER_ADDRESS, 1) => NdOption::TargetLinkLayerAddress(mac_at(body)),
            (PREFIX_INFORMATION, 4) => NdOption::PrefixInformation(PrefixInformation {
                prefix_len: option[2],
                on_link: option[3] & PREFIX_ON_LINK != 0,
                autonomous: option[3] & PREFIX_AUTONOMOUS != 0,
                router_address: option[3] & PREFIX_ROUTER_ADDRESS != 0,
                valid_lifetime: be32(&option[4..8]),
                preferred_lifetime: be32(&option[8..12]),
                prefix: addr_at(option, 16..32),
            }),
            (REDIRECTED_HEADER, _) => NdOption::RedirectedHeader(&option[8..]),
            (MTU, 1) => NdOption::Mtu(be32(&option[4..8])),
            (ADVERTISEMENT_INTERVAL, 1) => NdOption::AdvertisementInterval(be32(&option[4..8])),
            (HOME_AGENT_INFORMATION, 1) => NdOption::HomeAgentInformation(HomeAgentInformation {
                preference: be16(&option[4..6]) as i16,
                lifetime: be16(&option[6..8]),
            }),
            (PREFIX_INFORMATION | MTU | ADVERTISEMENT_INTERVAL | HOME_AGENT_INFORMATION, _) => {
                return Err(Error::BadOption)
            }
            (option_type, _) => NdOption::Unknown {
                option_type,
                data: body,
            },
        })
    }
}

fn mac_at(body: &[u8]) -> [u8; 6] {
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&body[..6]);
    mac
}

impl<'a> Iterator for NdOptionsIter<'a> {
    type Item = Result<NdOption<'a>>;

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

/// The fields of a Router Advertisement and the options mobility uses, RFC 4861 §4.2 with
/// RFC 6275 §7.1–7.4. Only the first option of each kind is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RouterAdvertRepr {
    /// Cur Hop Limit.
    pub hop_limit: u8,
    /// M flag.
    pub managed: bool,
    /// O flag.
    pub other: bool,
    /// H flag: the router is a home agent, RFC 6275 §7.1.
    pub home_agent: bool,
    /// Router Lifetime in seconds.
    pub router_lifetime: u16,
    /// Reachable Time in milliseconds.
    pub reachable_time: u32,
    /// Retrans Timer in milliseconds.
    pub retrans_time: u32,
    /// Source Link-Layer Address option.
    pub source_lladdr: Option<[u8; 6]>,
    /// Prefix Information option.
    pub prefix_info: Option<PrefixInformation>,
    /// MTU option.
    pub mtu: Option<u32>,
    /// Advertisement Interval option, RFC 6275 §7.3.
    pub advertisement_interval: Option<u32>,
    /// Home Agent Information option, RFC 6275 §7.4.
    pub home_agent_info: Option<HomeAgentInformation>,
}

/// A parsed ICMPv6 message, RFC 4443 §2.1. Errors carry the invoking packet raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Repr<'a> {
    /// Destination Unreachable, RFC 4443 §3.1.
    DstUnreachable {
        /// Code (0 no route ... 6 reject route).
        code: u8,
        /// As much of the invoking packet as fits.
        invoking: &'a [u8],
    },
    /// Packet Too Big, RFC 4443 §3.2.
    PacketTooBig {
        /// MTU of the next-hop link.
        mtu: u32,
        /// As much of the invoking packet as fits.
        invoking: &'a [u8],
    },
    /// Time Exceeded, RFC 4443 §3.3.
    TimeExceeded {
        /// Code (0 hop limit, 1 reassembly).
        code: u8,
        /// As much of the invoking packet as fits.
        invoking: &'a [u8],
    },
    /// Parameter Problem, RFC 4443 §3.4.
    ParamProblem {
        /// Code (0 header field, 1 next header, 2 option).
        code: u8,
        /// Offset of the error in the invoking packet.
        pointer: u32,
        /// As much of the invoking packet as fits.
        invoking: &'a [u8],
    },
    /// Echo Request, RFC 4443 §4.1.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence Number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Echo Reply, RFC 4443 §4.2.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence Number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Router Solicitation, RFC 4861 §4.1.
    RouterSolicit {
        /// Source Link-Layer Address option.
        source_lladdr: Option<[u8; 6]>,
    },
    /// Router Advertisement, RFC 4861 §4.2.
    RouterAdvert(RouterAdvertRepr),
    /// Neighbor Solicitation, RFC 4861 §4.3.
    NeighborSolicit {
        /// Target Address.
        target: Ipv6Addr,
        /// Source Link-Layer Address option.
        source_lladdr: Option<[u8; 6]>,
    },
    /// Neighbor Advertisement, RFC 4861 §4.4.
    NeighborAdvert {
        /// R flag.
        router: bool,
        /// S flag.
        solicited: bool,
        /// O flag.
        override_: bool,
        /// Target Address.
        target: Ipv6Addr,
        /// Target Link-Layer Address option.
        target_lladdr: Option<[u8; 6]>,
    },
    /// Redirect, RFC 4861 §4.5.
    Redirect {
        /// Target Address (the better first hop).
        target: Ipv6Addr,
        /// Destination Address being redirected.
        destination: Ipv6Addr,
        /// Target Link-Layer Address option.
        target_lladdr: Option<[u8; 6]>,
        /// Redirected Header option contents, a multiple of 8 bytes.
        redirected: Option<&'a [u8]>,
    },
    /// Home Agent Address Discovery Request, RFC 6275 §6.5.
    HomeAgentDiscoveryRequest {
        /// Identifier.
        identifier: u16,
    },
    /// Home Agent Address Discovery Reply, RFC 6275 §6.6.
    HomeAgentDiscoveryReply {
        /// Identifier.
        identifier: u16,
        /// Home agent addresses, 16 bytes each.
        home_agents: &'a [u8],
    },
    /// Mobile Prefix Solicitation, RFC 6275 §6.7.
    MobilePrefixSolicit {
        /// Identifier.
        identifier: u16,
    },
    /// Mobile Prefix Advertisement, RFC 6275 §6.8.
    MobilePrefixAdvert {
        /// Identifier.
        identifier: u16,
        /// M flag.
        managed: bool,
        /// O flag.
        other: bool,
        /// Prefix Information option.
        prefix_info: Option<PrefixInformation>,
    },
}

/// Options mobility reads from a Neighbor Discovery message; first of each kind.
#[derive(Default)]
struct FoundOptions<'a> {
    source_lladdr: Option<[u8; 6]>,
    target_lladdr: Option<[u8; 6]>,
    prefix_info: Option<PrefixInformation>,
    redirected: Option<&'a [u8]>,
    mtu: Option<u32>,
    advertisement_interval: Option<u32>,
    home_agent_info: Option<HomeAgentInformation>,
}

impl<'a> FoundOptions<'a> {
    fn collect(options: &'a [u8]) -> Result<Self> {
        let mut found = FoundOptions::default();
        for option in NdOptionsIter::new(options) {
            match option? {
                NdOption::SourceLinkLayerAddress(m) => {
                    found.source_lladdr.get_or_insert(m);
                }
                NdOption::TargetLinkLayerAddress(m) => {
                    found.target_lladdr.get_or_insert(m);
                }
                NdOption::PrefixInformation(p) => {
                    found.prefix_info.get_or_insert(p);
                }
                NdOption::RedirectedHeader(d) => {
                    found.redirected.get_or_insert(d);
                }
                NdOption::Mtu(m) => {
                    found.mtu.get_or_insert(m);
                }
                NdOption::AdvertisementInterval(i) => {
                    found.advertisement_interval.get_or_insert(i);
                }
                NdOption::HomeAgentInformation(h) => {
                    found.home_agent_info.get_or_insert(h);
                }
                NdOption::Unknown { .. } => {}
            }
        }
        Ok(found)
    }
}

impl<'a> Icmpv6Repr<'a> {
    /// Reads a message after verifying its checksum over the pseudo-header of `src` and
    /// `dst` (`BadChecksum`, RFC 4443 §2.3). `Unsupported` for a type this module does not
    /// know or a Neighbor Discovery message whose code is not 0 (RFC 4861 §6.1).
    pub fn parse<T>(
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        packet: &Icmpv6Packet<&'a T>,
    ) -> Result<Icmpv6Repr<'a>>
    where
        T: AsRef<[u8]> + ?Sized,
    {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        let data: &'a [u8] = packet.buffer.as_ref();
        let msg_type = packet.msg_type();
        let code = packet.msg_code();
        let rest = &data[header_len(msg_type)..];
        use message_type::*;
        if carries_nd_options(msg_type) && code != 0 {
            return Err(Error::Unsupported);
        }
        let repr = match msg_type {
            DST_UNREACHABLE => Icmpv6Repr::DstUnreachable {
                code,
                invoking: rest,
            },
            PACKET_TOO_BIG => Icmpv6Repr::PacketTooBig {
                mtu: packet.mtu(),
                invoking: rest,
            },
            TIME_EXCEEDED => Icmpv6Repr::TimeExceeded {
                code,
                invoking: rest,
            },
            PARAM_PROBLEM => Icmpv6Repr::ParamProblem {
                code,
                pointer: packet.pointer(),
                invoking: rest,
            },
            ECHO_REQUEST => Icmpv6Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data: rest,
            },
            ECHO_REPLY => Icmpv6Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data: rest,
            },
            ROUTER_SOLICIT => Icmpv6Repr::RouterSolicit {
                source_lladdr: FoundOptions::collect(rest)?.source_lladdr,
            },
            ROUTER_ADVERT => {
                let found = FoundOptions::collect(rest)?;
                Icmpv6Repr::RouterAdvert(RouterAdvertRepr {
                    hop_limit: packet.cur_hop_limit(),
                    managed: packet.managed(),
                    other: packet.other(),
                    home_agent: packet.home_agent(),
                    router_lifetime: packet.router_lifetime(),
                    reachable_time: packet.reachable_time(),
                    retrans_time: packet.retrans_time(),
                    source_lladdr: found.source_lladdr,
                    prefix_info: found.prefix_info,
                    mtu: found.mtu,
                    advertisement_interval: found.advertisement_interval,
                    home_agent_info: found.home_agent_info,
                })
            }
            NEIGHBOR_SOLICIT => Icmpv6Repr::NeighborSolicit {
                target: packet.target_addr(),
                source_lladdr: FoundOptions::collect(rest)?.source_lladdr,
            },
            NEIGHBOR_ADVERT => Icmpv6Repr::NeighborAdvert {
                router: packet.router_flag(),
                solicited: packet.solicited_flag(),
                override_: packet.override_flag(),
                target: packet.target_addr(),
                target_lladdr: FoundOptions::collect(rest)?.target_lladdr,
            },
            REDIRECT => {
                let found = FoundOptions::collect(rest)?;
                Icmpv6Repr::Redirect {
                    target: packet.target_addr(),
                    destination: packet.redirect_destination(),
                    target_lladdr: found.target_lladdr,
                    redirected: found.redirected,
                }
            }
            HOME_AGENT_DISCOVERY_REQUEST => Icmpv6Repr::HomeAgentDiscoveryRequest {
                identifier: packet.mobile_identifier(),
            },
            HOME_AGENT_DISCOVERY_REPLY => Icmpv6Repr::HomeAgentDiscoveryReply {
                identifier: packet.mobile_identifier(),
                home_agents: rest,
            },
            MOBILE_PREFIX_SOLICIT => Icmpv6Repr::MobilePrefixSolicit {
                identifier: packet.mobile_identifier(),
            },
            MOBILE_PREFIX_ADVERT => Icmpv6Repr::MobilePrefixAdvert {
                identifier: packet.mobile_identifier(),
                managed: packet.mobile_prefix_managed(),
                other: packet.mobile_prefix_other(),
                prefix_info: FoundOptions::collect(rest)?.prefix_info,
            },
            _ => return Err(Error::Unsupported),
        };
        Ok(repr)
    }

    fn msg_type(&self) -> u8 {
        use message_type::*;
        match self {
            Icmpv6Repr::DstUnreachable { .. } => DST_UNREACHABLE,
            Icmpv6Repr::PacketTooBig { .. } => PACKET_TOO_BIG,
            Icmpv6Repr::TimeExceeded { .. } => TIME_EXCEEDED,
            Icmpv6Repr::ParamProblem { .. } => PARAM_PROBLEM,
            Icmpv6Repr::EchoRequest { .. } => ECHO_REQUEST,
            Icmpv6Repr::EchoReply { .. } => ECHO_REPLY,
            Icmpv6Repr::RouterSolicit { .. } => ROUTER_SOLICIT,
            Icmpv6Repr::RouterAdvert(_) => ROUTER_ADVERT,
            Icmpv6Repr::NeighborSolicit { .. } => NEIGHBOR_SOLICIT,
            Icmpv6Repr::NeighborAdvert { .. } => NEIGHBOR_ADVERT,
            Icmpv6Repr::Redirect { .. } => REDIRECT,
            Icmpv6Repr::HomeAgentDiscoveryRequest { .. } => HOME_AGENT_DISCOVERY_REQUEST,
            Icmpv6Repr::HomeAgentDiscoveryReply { .. } => HOME_AGENT_DISCOVERY_REPLY,
            Icmpv6Repr::MobilePrefixSolicit { .. } => MOBILE_PREFIX_SOLICIT,
            Icmpv6Repr::MobilePrefixAdvert { .. } => MOBILE_PREFIX_ADVERT,
        }
    }

    /// The options this message carries, in emission order (at most five).
    fn options(&self) -> [Option<NdOption<'a>>; 5] {
        let sll = |m: Option<[u8; 6]>| m.map(NdOption::SourceLinkLayerAddress);
        let tll = |m: Option<[u8; 6]>| m.map(NdOption::TargetLinkLayerAddress);
        match *self {
            Icmpv6Repr::RouterSolicit { source_lladdr }
            | Icmpv6Repr::NeighborSolicit { source_lladdr, .. } => {
                [sll(source_lladdr), None, None, None, None]
            }
            Icmpv6Repr::NeighborAdvert { target_lladdr, .. } => {
                [tll(target_lladdr), None, None, None, None]
            }
            Icmpv6Repr::Redirect {
                target_lladdr,
                redirected,
                ..
            } => [
                tll(target_lladdr),
                redirected.map(NdOption::RedirectedHeader),
                None,
                None,
                None,
            ],
            Icmpv6Repr::RouterAdvert(ra) => [
                sll(ra.source_lladdr),
                ra.prefix_info.map(NdOption::PrefixInformation),
                ra.mtu.map(NdOption::Mtu),
                ra.advertisement_interval
                    .map(NdOption::AdvertisementInterval),
                ra.home_agent_info.map(NdOption::HomeAgentInformation),
            ],
            Icmpv6Repr::MobilePrefixAdvert { prefix_info, .. } => [
                prefix_info.map(NdOption::PrefixInformation),
                None,
                None,
                None,
                None,
            ],
            _ => [None; 5],
        }
    }

    fn tail(&self) -> &'a [u8] {
        match *self {
            Icmpv6Repr::DstUnreachable { invoking, .. }
            | Icmpv6Repr::PacketTooBig { invoking, .. }
            | Icmpv6Repr::TimeExceeded { invoking, .. }
            | Icmpv6Repr::ParamProblem { invoking, .. } => invoking,
            Icmpv6Repr::EchoRequest { data, .. } | Icmpv6Repr::EchoReply { data, .. } => data,
            Icmpv6Repr::HomeAgentDiscoveryReply { home_agents, .. } => home_agents,
            _ => &[],
        }
    }

    /// Length of the whole message.
    pub fn buffer_len(&self) -> usize {
        let options: usize = self
            .options()
            .iter()
            .flatten()
            .map(|o| o.buffer_len())
            .sum();
        header_len(self.msg_type()) + options + self.tail().len()
    }

    /// Writes the message into the first [`Self::buffer_len`] bytes of `packet` and fills
    /// the checksum over the pseudo-header of `src` and `dst`, RFC 4443 §2.3. `Truncated`
    /// when the buffer is short; `BadLength` for a home agent list that is not whole
    /// addresses or a redirected header that is not a multiple of 8 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        packet: &mut Icmpv6Packet<T>,
    ) -> Result<()> {
        let len = self.buffer_len();
        if let Icmpv6Repr::HomeAgentDiscoveryReply { home_agents, .. } = self {
            if home_agents.len() % 16 != 0 {
                return Err(Error::BadLength);
            }
        }
        if let Icmpv6Repr::Redirect {
            redirected: Some(r),
            ..
        } = self
        {
            if r.len() % 8 != 0 {
                return Err(Error::BadLength);
            }
        }
        let buf = packet
            .buffer
            .as_mut()
            .get_mut(..len)
            .ok_or(Error::Truncated)?;
        let msg_type = self.msg_type();
        let start = header_len(msg_type);
        buf[..start].fill(0);
        buf[field::TYPE] = msg_type;
        self.emit_fixed(buf);
        let mut pos = start;
        for option in self.options().iter().flatten() {
            pos += option.emit(&mut buf[pos..])?;
        }
        let tail = self.tail();
        buf[pos..pos + tail.len()].copy_from_slice(tail);
        let c = compute_checksum(src, dst, buf);
        buf[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
        Ok(())
    }

    /// Writes code and the type-specific fixed fields into a zeroed fixed part.
    fn emit_fixed(&self, buf: &mut [u8]) {
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        match *self {
            Icmpv6Repr::DstUnreachable { code, .. } | Icmpv6Repr::TimeExceeded { code, .. } => {
                buf[field::CODE] = code;
            }
            Icmpv6Repr::PacketTooBig { mtu, .. } => {
                buf[field::WORD1].copy_from_slice(&mtu.to_be_bytes());
            }
            Icmpv6Repr::ParamProblem { code, pointer, .. } => {
                buf[field::CODE] = code;
                buf[field::WORD1].copy_from_slice(&pointer.to_be_bytes());
            }
            Icmpv6Repr::EchoRequest { ident, seq_no, .. }
            | Icmpv6Repr::EchoReply { ident, seq_no, .. } => {
                buf[field::WORD1_HI].copy_from_slice(&ident.to_be_bytes());
                buf[field::WORD1_LO].copy_from_slice(&seq_no.to_be_bytes());
            }
            Icmpv6Repr::RouterSolicit { .. } => {}
            Icmpv6Repr::RouterAdvert(ra) => {
                buf[field::CUR_HOP_LIMIT] = ra.hop_limit;
                buf[field::ROUTER_FLAGS] = flag(ra.managed, RA_MANAGED)
                    | flag(ra.other, RA_OTHER)
                    | flag(ra.home_agent, RA_HOME_AGENT);
                buf[field::WORD1_LO].copy_from_slice(&ra.router_lifetime.to_be_bytes());
                buf[field::REACHABLE_TIME].copy_from_slice(&ra.reachable_time.to_be_bytes());
                buf[field::RETRANS_TIME].copy_from_slice(&ra.retrans_time.to_be_bytes());
            }
            Icmpv6Repr::NeighborSolicit { target, .. } => {
                buf[field::TARGET].copy_from_slice(&target.octets());
            }
            Icmpv6Repr::NeighborAdvert {
                router,
                solicited,
                override_,
                target,
                ..
            } => {
                buf[field::NEIGHBOR_FLAGS] = flag(router, NA_ROUTER)
                    | flag(solicited, NA_SOLICITED)
                    | flag(override_, NA_OVERRIDE);
                buf[field::TARGET].copy_from_slice(&target.octets());
            }
            Icmpv6Repr::Redirect {
                target,
                destination,
                ..
            } => {
                buf[field::TARGET].copy_from_slice(&target.octets());
                buf[field::REDIRECT_DESTINATION].copy_from_slice(&destination.octets());
            }
            Icmpv6Repr::HomeAgentDiscoveryRequest { identifier }
            | Icmpv6Repr::HomeAgentDiscoveryReply { identifier, .. }
            | Icmpv6Repr::MobilePrefixSolicit { identifier } => {
                buf[field::WORD1_HI].copy_from_slice(&identifier.to_be_bytes());
            }
            Icmpv6Repr::MobilePrefixAdvert {
                identifier,
                managed,
                other,
                ..
            } => {
                buf[field::WORD1_HI].copy_from_slice(&identifier.to_be_bytes());
                buf[field::MPA_FLAGS] = flag(managed, MPA_MANAGED) | flag(other, MPA_OTHER);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn src() -> Ipv6Addr {
        "fe80::1".parse().unwrap()
    }

    fn dst() -> Ipv6Addr {
        "fe80::2".parse().unwrap()
    }

    fn emit(repr: &Icmpv6Repr<'_>) -> Vec<u8> {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(
            &src(),
            &dst(),
            &mut Icmpv6Packet::new_unchecked(&mut buf[..]),
        )
        .unwrap();
        buf
    }

    fn parse(buf: &[u8]) -> Result<Icmpv6Repr<'_>> {
        Icmpv6Repr::parse(&src(), &dst(), &Icmpv6Packet::new_checked(buf)?)
    }

    // Echo request fe80::1 -> fe80::2, id 0x1234 seq 1, data "abcd"; checksum 0x9da2
    // computed by hand from the pseudo-header sum.
    const ECHO: [u8; 12] = [
        0x80, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01, b'a', b'b', b'c', b'd',
    ];

    #[test]
    fn echo_request_checksum_is_computed_over_the_pseudo_header() {
        let mut b = ECHO;
        // Pseudo-header: fe80+1 + fe80+2 + len 12 + nh 58; body: 8000+1234+0001+6162+6364.
        let sum: u32 = 0xfe80 + 1 + 0xfe80 + 2 + 12 + 58 + 0x8000 + 0x1234 + 1 + 0x6162 + 0x6364;
        let folded = (sum & 0xffff) + (sum >> 16);
        let folded = (folded & 0xffff) + (folded >> 16);
        let expected = !(folded as u16);
        let mut p = Icmpv6Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(&src(), &dst());
        assert_eq!(p.checksum(), expected);
        assert!(p.verify_checksum(&src(), &dst()));
        assert!(!p.verify_checksum(&dst(), &dst()));
        let r = parse(&b).unwrap();
        assert_eq!(
            r,
            Icmpv6Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 1,
                data: b"abcd"
            }
        );
        assert_eq!(emit(&r), b);
    }

    #[test]
    fn corrupted_message_is_bad_checksum() {
        let r = Icmpv6Repr::EchoReply {
            ident: 1,
            seq_no: 2,
            data: b"x",
        };
        let mut b = emit(&r);
        b[8] ^= 1;
        assert_eq!(parse(&b), Err(Error::BadChecksum));
    }

    #[test]
    fn short_messages_are_truncated() {
        assert_eq!(parse(&[]), Err(Error::Truncated));
        assert_eq!(parse(&ECHO[..7]), Err(Error::Truncated));
        let ra = emit(&Icmpv6Repr::RouterAdvert(RouterAdvertRepr::default()));
        assert_eq!(parse(&ra[..15]), Err(Error::Truncated));
        let ns = emit(&Icmpv6Repr::NeighborSolicit {
            target: dst(),
            source_lladdr: None,
        });
        assert_eq!(parse(&ns[..23]), Err(Error::Truncated));
    }

    #[test]
    fn packet_too_big_carries_mtu_and_invoking_packet() {
        let invoking = [0x60u8, 0, 0, 0, 0, 0, 58, 64];
        let r = Icmpv6Repr::PacketTooBig {
            mtu: 1280,
            invoking: &invoking,
        };
        let b = emit(&r);
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.mtu(), 1280);
        assert_eq!(p.payload(), &invoking);
        assert_eq!(parse(&b).unwrap(), r);
    }

    #[test]
    fn param_problem_carries_pointer() {
        let r = Icmpv6Repr::ParamProblem {
            code: 2,
            pointer: 42,
            invoking: &[1, 2, 3],
        };
        let b = emit(&r);
        assert_eq!(&b[..8], &[4, 2, b[2], b[3], 0, 0, 0, 42]);
        assert_eq!(parse(&b).unwrap(), r);
    }

    #[test]
    fn nd_option_of_length_zero_is_bad_option() {
        let mut b = emit(&Icmpv6Repr::RouterSolicit {
            source_lladdr: Some([2, 0, 0, 0, 0, 1]),
        });
        b[9] = 0;
        assert_eq!(parse(&b), Err(Error::BadOption));
    }

    #[test]
    fn nd_option_overrunning_the_message_is_bad_option() {
        let mut b = emit(&Icmpv6Repr::RouterSolicit {
            source_lladdr: Some([2, 0, 0, 0, 0, 1]),
        });
        b[9] = 2;
        assert_eq!(parse(&b), Err(Error::BadOption));
        assert_eq!(parse(&b[..9]), Err(Error::BadOption));
    }

    #[test]
    fn nd_option_of_the_wrong_length_is_bad_option() {
        let mut b = emit(&Icmpv6Repr::RouterAdvert(RouterAdvertRepr {
            mtu: Some(1500),
            ..Default::default()
        }));
        b.extend_from_slice(&[0u8; 8]);
        b[17] = 2;
        assert_eq!(parse(&b), Err(Error::BadOption));
    }

    #[test]
    fn unknown_types_and_nd_codes_are_unsupported() {
        let mut b = emit(&Icmpv6Repr::RouterSolicit {
            source_lladdr: None,
        });
        b[1] = 1;
        let mut p = Icmpv6Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(&src(), &dst());
        assert_eq!(parse(&b), Err(Error::Unsupported));
        let mut b = [200u8, 0, 0, 0];
        Icmpv6Packet::new_unchecked(&mut b[..]).fill_checksum(&src(), &dst());
        assert_eq!(parse(&b), Err(Error::Unsupported));
    }

    #[test]
    fn partial_home_agent_list_is_bad_length() {
        let mut b = emit(&Icmpv6Repr::HomeAgentDiscoveryReply {
            identifier: 7,
            home_agents: &[0u8; 16],
        });
        assert_eq!(parse(&b).unwrap(), {
            Icmpv6Repr::HomeAgentDiscoveryReply {
                identifier: 7,
                home_agents: &[0u8; 16],
            }
        });
        b.pop();
        assert_eq!(parse(&b), Err(Error::BadLength));
        let bad = Icmpv6Repr::HomeAgentDiscoveryReply {
            identifier: 7,
            home_agents: &[0u8; 3],
        };
        let mut buf = [0u8; 11];
        assert_eq!(
            bad.emit(
                &src(),
                &dst(),
                &mut Icmpv6Packet::new_unchecked(&mut buf[..])
            ),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn emit_into_short_buffer_is_truncated() {
        let mut buf = [0u8; 8];
        let r = Icmpv6Repr::EchoRequest {
            ident: 0,
            seq_no: 0,
            data: b"x",
        };
        assert_eq!(
            r.emit(
                &src(),
                &dst(),
                &mut Icmpv6Packet::new_unchecked(&mut buf[..])
            ),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn router_advertisement_with_mobile_ipv6_options_round_trips() {
        let ra = RouterAdvertRepr {
            hop_limit: 64,
            managed: false,
            other: true,
            home_agent: true,
            router_lifetime: 1800,
            reachable_time: 30_000,
            retrans_time: 1000,
            source_lladdr: Some([0x02, 0, 0, 0, 0, 0x01]),
            prefix_info: Some(PrefixInformation {
                prefix_len: 64,
                on_link: true,
                autonomous: true,
                router_address: true,
                valid_lifetime: 86_400,
                preferred_lifetime: 14_400,
                prefix: "2001:db8:1::1".parse().unwrap(),
            }),
            mtu: Some(1500),
            advertisement_interval: Some(3000),
            home_agent_info: Some(HomeAgentInformation {
                preference: 10,
                lifetime: 1800,
            }),
        };
        let b = emit(&Icmpv6Repr::RouterAdvert(ra));
        assert_eq!(b.len(), 16 + 8 + 32 + 8 + 8 + 8);
        assert_eq!(&b[4..8], &[64, 0x60, 0x07, 0x08]);
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        assert!(p.home_agent() && p.other() && !p.managed());
        assert_eq!(p.nd_options().count(), 5);
        // R flag of RFC 6275 §7.2 with L and A.
        assert_eq!(b[16 + 8 + 3], 0xe0);
        assert_eq!(parse(&b).unwrap(), Icmpv6Repr::RouterAdvert(ra));
    }

    #[test]
    fn neighbor_advertisement_flags_and_target() {
        let r = Icmpv6Repr::NeighborAdvert {
            router: true,
            solicited: true,
            override_: false,
            target: dst(),
            target_lladdr: Some([2, 0, 0, 0, 0, 2]),
        };
        let b = emit(&r);
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        assert!(p.router_flag() && p.solicited_flag() && !p.override_flag());
        assert_eq!(p.target_addr(), dst());
        assert_eq!(parse(&b).unwrap(), r);
    }

    #[test]
    fn redirect_round_trips_and_rejects_ragged_redirected_header() {
        let inner = [0x60u8, 0, 0, 0, 0, 0, 17, 64];
        let r = Icmpv6Repr::Redirect {
            target: src(),
            destination: "2001:db8::9".parse().unwrap(),
            target_lladdr: Some([2, 0, 0, 0, 0, 3]),
            redirected: Some(&inner),
        };
        let b = emit(&r);
        assert_eq!(b.len(), 40 + 8 + 16);
        assert_eq!(parse(&b).unwrap(), r);
        let ragged = Icmpv6Repr::Redirect {
            target: src(),
            destination: src(),
            target_lladdr: None,
            redirected: Some(&inner[..5]),
        };
        let mut buf = [0u8; 80];
        assert_eq!(
            ragged.emit(
                &src(),
                &dst(),
                &mut Icmpv6Packet::new_unchecked(&mut buf[..])
            ),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn mobile_prefix_advertisement_round_trips() {
        let r = Icmpv6Repr::MobilePrefixAdvert {
            identifier: 0xbeef,
            managed: true,
            other: false,
            prefix_info: Some(PrefixInformation {
                prefix_len: 64,
                on_link: false,
                autonomous: true,
                router_address: false,
                valid_lifetime: 10,
                preferred_lifetime: 5,
                prefix: "2001:db8:7::".parse().unwrap(),
            }),
        };
        let b = emit(&r);
        assert_eq!(&b[4..8], &[0xbe, 0xef, 0x80, 0]);
        assert_eq!(parse(&b).unwrap(), r);
    }

    fn arb_addr() -> impl Strategy<Value = Ipv6Addr> {
        any::<[u8; 16]>().prop_map(Ipv6Addr::from)
    }

    fn arb_prefix() -> impl Strategy<Value = PrefixInformation> {
        (
            any::<u8>(),
            any::<[bool; 3]>(),
            any::<u32>(),
            any::<u32>(),
            arb_addr(),
        )
            .prop_map(
                |(prefix_len, f, valid_lifetime, preferred_lifetime, prefix)| PrefixInformation {
                    prefix_len,
                    on_link: f[0],
                    autonomous: f[1],
                    router_address: f[2],
                    valid_lifetime,
                    preferred_lifetime,
                    prefix,
                },
            )
    }

    fn arb_ra() -> impl Strategy<Value = RouterAdvertRepr> {
        (
            (
                any::<u8>(),
                any::<[bool; 3]>(),
                any::<u16>(),
                any::<u32>(),
                any::<u32>(),
            ),
            proptest::option::of(any::<[u8; 6]>()),
            proptest::option::of(arb_prefix()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<(i16, u16)>()),
        )
            .prop_map(
                |((hl, f, rl, rt, rx), sll, pi, mtu, ai, ha)| RouterAdvertRepr {
                    hop_limit: hl,
                    managed: f[0],
                    other: f[1],
                    home_agent: f[2],
                    router_lifetime: rl,
                    reachable_time: rt,
                    retrans_time: rx,
                    source_lladdr: sll,
                    prefix_info: pi,
                    mtu,
                    advertisement_interval: ai,
                    home_agent_info: ha.map(|(preference, lifetime)| HomeAgentInformation {
                        preference,
                        lifetime,
                    }),
                },
            )
    }

    proptest! {
        #[test]
        fn parse_of_emit_is_identity(
            kind in 0u8..15, code in any::<u8>(), a in any::<u16>(), b in any::<u16>(),
            word in any::<u32>(), data in proptest::collection::vec(any::<u8>(), 0..40),
            t in arb_addr(), d in arb_addr(), sll in proptest::option::of(any::<[u8; 6]>()),
            flags in any::<[bool; 3]>(), ra in arb_ra(),
            pi in proptest::option::of(arb_prefix()), s in arb_addr(), dd in arb_addr(),
        ) {
            let whole = &data[..data.len() / 16 * 16];
            let eights = &data[..data.len() / 8 * 8];
            let r = match kind {
                0 => Icmpv6Repr::DstUnreachable { code, invoking: &data },
                1 => Icmpv6Repr::PacketTooBig { mtu: word, invoking: &data },
                2 => Icmpv6Repr::TimeExceeded { code, invoking: &data },
                3 => Icmpv6Repr::ParamProblem { code, pointer: word, invoking: &data },
                4 => Icmpv6Repr::EchoRequest { ident: a, seq_no: b, data: &data },
                5 => Icmpv6Repr::EchoReply { ident: a, seq_no: b, data: &data },
                6 => Icmpv6Repr::RouterSolicit { source_lladdr: sll },
                7 => Icmpv6Repr::RouterAdvert(ra),
                8 => Icmpv6Repr::NeighborSolicit { target: t, source_lladdr: sll },
                9 => Icmpv6Repr::NeighborAdvert {
                    router: flags[0], solicited: flags[1], override_: flags[2], target: t,
                    target_lladdr: sll,
                },
                10 => Icmpv6Repr::Redirect {
                    target: t, destination: d, target_lladdr: sll,
                    redirected: if flags[0] { Some(eights) } else { None },
                },
                11 => Icmpv6Repr::HomeAgentDiscoveryRequest { identifier: a },
                12 => Icmpv6Repr::HomeAgentDiscoveryReply { identifier: a, home_agents: whole },
                13 => Icmpv6Repr::MobilePrefixSolicit { identifier: a },
                _ => Icmpv6Repr::MobilePrefixAdvert {
                    identifier: a, managed: flags[0], other: flags[1], prefix_info: pi,
                },
            };
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&s, &dd, &mut Icmpv6Packet::new_unchecked(&mut buf[..])).unwrap();
            let p = Icmpv6Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(&s, &dd));
            prop_assert_eq!(Icmpv6Repr::parse(&s, &dd, &p).unwrap(), r);
        }

        #[test]
        fn no_panic_on_arbitrary_bytes(
            msg_type in prop_oneof![1u8..5, 128u8..138, 144u8..148, any::<u8>()],
            mut bytes in proptest::collection::vec(any::<u8>(), 0..120),
            fix_checksum in any::<bool>(),
        ) {
            if let Some(t) = bytes.first_mut() {
                *t = msg_type;
            }
            if fix_checksum && bytes.len() >= 4 {
                Icmpv6Packet::new_unchecked(&mut bytes[..]).fill_checksum(&src(), &dst());
            }
            if let Ok(p) = Icmpv6Packet::new_checked(&bytes[..]) {
                let _ = Icmpv6Repr::parse(&src(), &dst(), &p);
                let _ = p.nd_options().count();
                let _ = p.home_agent_addresses().count();
                let _ = p.payload();
            }
            let _ = NdOptionsIter::new(&bytes).count();
        }
    }
}
