//! Tunnel encapsulation and decapsulation, in place on a packet buffer ([`crate::port::PacketBuf`]:
//! an Mbuf on DPDK, a pooled buffer in tests): the outer header is prepended into the
//! headroom or stripped with `adj`; the payload is never copied.
//!
//! One module per method; this one holds what they share: the settings of a tunnel entry
//! point, the reasons a packet is not tunnelled (each one counted by the engine, some
//! answered with an ICMP error the caller builds with [`icmp::icmp_error_v4`]), what an
//! encapsulation left in the buffer ([`Encapsulated`]), and the ECN rules of RFC 6040 that
//! every method applies.

pub mod ecn;
pub mod gre;
pub mod icmp;
pub mod ip6ip6;
pub mod ipip;
pub mod minimal;
pub mod mixed;
#[cfg(test)]
pub(crate) mod testutil;

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::wire;

/// Default TTL / hop limit of an outer header (RFC 2003 §3.1 leaves it to configuration;
/// 64 is the common default).
pub const DEFAULT_OUTER_TTL: u8 = 64;

/// How many tunnel headers a packet may have stripped before the rest is dropped, so that
/// crafted nesting cannot make a worker loop.
pub const DEFAULT_NESTING_LIMIT: u8 = 4;

/// The settings of one tunnel entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelSettings {
    /// TTL (IPv4) or hop limit (IPv6) of the outer header.
    pub outer_ttl: u8,
    /// Largest outer packet the path to the exit point carries (the tunnel MTU), in bytes
    /// of IP packet (no link-layer header).
    pub path_mtu: u16,
    /// Tunnel Encapsulation Limit to put in a new IPv6 outer header (RFC 2473 §4.1.1),
    /// or None to send none.
    pub encapsulation_limit: Option<u8>,
}

impl Default for TunnelSettings {
    fn default() -> Self {
        TunnelSettings {
            outer_ttl: DEFAULT_OUTER_TTL,
            path_mtu: 1500,
            encapsulation_limit: Some(4),
        }
    }
}

/// The two ends of an IPv4 tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints4 {
    /// Tunnel entry point: the outer source.
    pub entry: Ipv4Addr,
    /// Tunnel exit point: the outer destination (a care-of address).
    pub exit: Ipv4Addr,
}

/// The two ends of an IPv6 tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints6 {
    /// Tunnel entry point: the outer source.
    pub entry: Ipv6Addr,
    /// Tunnel exit point: the outer destination.
    pub exit: Ipv6Addr,
}

/// Why a packet was not encapsulated or decapsulated. Each is counted; the ones marked
/// say which ICMP error the caller sends to the inner source (rate-limited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelError {
    /// The inner (or, on decapsulation, outer) packet does not parse.
    Malformed(wire::Error),
    /// The inner TTL / hop limit reached zero at the entry point: ICMP Time Exceeded
    /// ([`icmp::icmp_error_v4`]). On decapsulation, an inner TTL of 0: discard silently
    /// (RFC 2003 §3.1).
    TtlExpired,
    /// The packet does not fit the tunnel MTU and may not be fragmented (IPv4 DF, or an
    /// IPv6 packet while the inner MTU is at least 1280, RFC 4213 §3.2): ICMP Fragmentation
    /// Needed / Packet Too Big carrying `mtu`, the largest inner packet that fits.
    TooBig {
        /// Largest inner packet the tunnel carries.
        mtu: u16,
    },
    /// The inner destination is the tunnel exit point itself (RFC 2003 §3.1 forbids it:
    /// a routing loop).
    ToTunnelEndpoint,
    /// The RFC 2473 Tunnel Encapsulation Limit of the inner packet is 0: ICMP Parameter
    /// Problem pointing at it.
    EncapsulationLimit {
        /// Offset of the limit option's value in the inner packet.
        pointer: u32,
    },
    /// More nested tunnel headers than the nesting limit.
    NestingLimit,
    /// The outer destination is not an address of this node.
    NotOurs,
    /// The outer header's protocol is not the method's.
    WrongProtocol,
    /// Not enough headroom (or tailroom) in the buffer for the edit.
    NoRoom,
    /// RFC 6040 §4.2: the outer header says CE but the inner transport is not
    /// ECN-capable; the decapsulator drops the packet.
    EcnDrop,
    /// Minimal encapsulation may not carry a fragment (RFC 2004 §3): encapsulate this
    /// packet with IPv4-in-IPv4 ([`ipip`]) instead.
    UseIpInIp,
    /// No ICMP error may be sent about this packet (RFC 1812 §4.3.2.7: it is itself an
    /// ICMP error, a later fragment, or from a source that is not a unicast host).
    IcmpSuppressed,
}

/// What an encapsulation left in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encapsulated {
    /// A complete outer packet within the tunnel MTU: send it.
    Ready,
    /// A complete outer packet longer than the tunnel MTU whose inner packet allows
    /// fragmentation of the outer one: split it at `mtu` before sending. IPv4 outer:
    /// [`ipip::fragment_outer`] (RFC 2003 §5.1, RFC 4213 §3.2); IPv6 outer:
    /// [`ip6ip6::fragment_outer`] (RFC 2473 §7.1(b), §7.2(b); RFC 8200 §4.5).
    Fragment {
        /// The tunnel MTU to fragment at.
        mtu: u16,
    },
}

impl From<wire::Error> for TunnelError {
    fn from(e: wire::Error) -> Self {
        TunnelError::Malformed(e)
    }
}

impl From<crate::port::BufError> for TunnelError {
    fn from(_: crate::port::BufError) -> Self {
        TunnelError::NoRoom
    }
}

/// Result of a tunnel operation.
pub type Result<T> = core::result::Result<T, TunnelError>;
