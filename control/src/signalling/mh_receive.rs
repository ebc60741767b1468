//! The checks every received Mobility Header message passes, in RFC 6275 §9.2's order,
//! before its type's own processing: shared by the home agent, MAP and MMA
//! ([`super::mip6`]) and the correspondent node ([`super::cn`]).

use std::net::Ipv6Addr;

use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet};
use mipdp_dataplane::wire::ipv6ext::walk_chain;
use mipdp_dataplane::wire::mh::{options_offset, MobilityHeader};

/// A Mobility Header message that passed §9.2.
pub(crate) struct Received<'a> {
    /// The IPv6 source (the care-of address of a mobile node away from home).
    pub source: Ipv6Addr,
    /// The IPv6 destination: one of the node's addresses.
    pub destination: Ipv6Addr,
    /// The Home Address option's address, if the packet had one (§6.3).
    pub home_option: Option<Ipv6Addr>,
    /// The home address: the option's, else the source.
    pub home: Ipv6Addr,
    /// The message, its checksum verified against `home` and `destination`.
    pub header: MobilityHeader<&'a [u8]>,
}

/// Why a message failed §9.2 (or what comes before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not an IPv6 packet.
    NotIpv6,
    /// An unspecified, multicast or loopback source.
    UnusableSource,
    /// Not to one of the node's addresses.
    NotOurs,
    /// Malformed extension headers, a fragment, a type 2 routing header or an
    /// unrecognised option.
    BadExtensionHeaders,
    /// Not a Mobility Header.
    NotMobilityHeader,
    /// A malformed Mobility Header (or a Payload Proto other than 59).
    BadMobilityHeader,
    /// A bad checksum.
    BadChecksum,
    /// A message type this node does not know: answered with a Binding Error (status 2,
    /// §9.3.3) from `destination` to `source`.
    UnknownType {
        /// The packet's source.
        source: Ipv6Addr,
        /// The packet's destination.
        destination: Ipv6Addr,
        /// Its Home Address option, if any.
        home_option: Option<Ipv6Addr>,
    },
}

/// Runs the checks on one received IPv6 packet (from its IPv6 header) to one of `own`.
pub(crate) fn receive<'a>(packet: &'a [u8], own: &[Ipv6Addr]) -> Result<Received<'a>, Refused> {
    let ip = Ipv6Packet::new_checked(packet).map_err(|_| Refused::NotIpv6)?;
    let (source, destination) = (ip.src_addr(), ip.dst_addr());
    if source.is_unspecified() || source.is_multicast() || source.is_loopback() {
        return Err(Refused::UnusableSource);
    }
    if !own.contains(&destination) {
        return Err(Refused::NotOurs);
    }
    // The payload as its length declares it (checked to fit by new_checked).
    let payload: &'a [u8] = packet
        .get(40..40 + usize::from(ip.payload_len()))
        .unwrap_or(&[]);
    let chain = match walk_chain(ip.next_header(), payload) {
        Ok(c)
            if c.fragment.is_none()
                && c.type2_home_address.is_none()
                && c.unrecognized_option.is_none() =>
        {
            c
        }
        _ => return Err(Refused::BadExtensionHeaders),
    };
    if chain.upper_layer != next_header::MOBILITY {
        return Err(Refused::NotMobilityHeader);
    }
    // §9.5.1: the home address is the Home Address option's, else the source (a mobile
    // node at home sends without it, e.g. to deregister on returning home, §11.5.5).
    let home = chain.home_address.unwrap_or(source);
    let mh_bytes = payload.get(chain.upper_layer_offset..).unwrap_or(&[]);
    let header = MobilityHeader::new_checked(mh_bytes).map_err(|_| Refused::BadMobilityHeader)?;
    // The pseudo-header source is the home address once the Home Address option is
    // processed (§6.3).
    if !header.verify_checksum(&home, &destination) {
        return Err(Refused::BadChecksum);
    }
    if header.payload_proto() != next_header::NO_NEXT {
        return Err(Refused::BadMobilityHeader);
    }
    if options_offset(header.mh_type()).is_none() {
        return Err(Refused::UnknownType {
            source,
            destination,
            home_option: chain.home_address,
        });
    }
    Ok(Received {
        source,
        destination,
        home_option: chain.home_address,
        home,
        header,
    })
}
