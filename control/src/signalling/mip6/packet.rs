//! Whole IPv6 packets around a Mobility Header: the Binding Acknowledgement with its type 2
//! routing header (RFC 6275 §6.4, §9.5.4), the Binding Error (§9.3.3) and the Binding
//! Refresh Request tunnelled to the care-of address (§6.1, §10.4.1).

use std::net::Ipv6Addr;

use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet, Ipv6Repr, HEADER_LEN};
use mipdp_dataplane::wire::ipv6ext::{Ipv6RoutingHeader, Type2RoutingRepr};
use mipdp_dataplane::wire::mh::{MhRepr, MobilityHeader};

/// Hop Limit of the packets the home agent originates (the usual default of RFC 4861 §6.3.2
/// CurHopLimit recommendations, 64).
pub const HOP_LIMIT: u8 = 64;

/// The Mobility Header of `repr` with its checksum over `src` and the final destination
/// `dst` (RFC 6275 §6.1.1); None when it does not fit its length fields.
pub fn mobility_header(repr: &MhRepr<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> Option<Vec<u8>> {
    let mut bytes = vec![0u8; repr.header_len()];
    repr.emit(
        &src,
        &dst,
        &mut MobilityHeader::new_unchecked(&mut bytes[..]),
    )
    .ok()?;
    Some(bytes)
}

/// An IPv6 packet from `src` to `dst` carrying the Mobility Header `mh`, with a type 2
/// routing header for `home` in between when `home` is given (RFC 6275 §6.4).
pub fn with_mobility_header(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    home: Option<Ipv6Addr>,
    mh: &[u8],
) -> Option<Vec<u8>> {
    let routing_len = home.map_or(0, |_| Type2RoutingRepr::HEADER_LEN);
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: if home.is_some() {
            next_header::ROUTING
        } else {
            next_header::MOBILITY
        },
        payload_len: routing_len + mh.len(),
        hop_limit: HOP_LIMIT,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut bytes = vec![0u8; ip.buffer_len()];
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut bytes[..]))
        .ok()?;
    if let Some(home_address) = home {
        let rh = Type2RoutingRepr {
            next_header: next_header::MOBILITY,
            home_address,
        };
        let out = bytes.get_mut(HEADER_LEN..)?;
        rh.emit(&mut Ipv6RoutingHeader::new_unchecked(out)).ok()?;
    }
    bytes
        .get_mut(HEADER_LEN + routing_len..)?
        .copy_from_slice(mh);
    Some(bytes)
}

/// `inner` (a whole IPv6 packet) in an IPv6 tunnel from `src` to `dst` (RFC 2473 §3,
/// no Tunnel Encapsulation Limit option).
pub fn tunnelled(src: Ipv6Addr, dst: Ipv6Addr, inner: &[u8]) -> Option<Vec<u8>> {
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: next_header::IPV6,
        payload_len: inner.len(),
        hop_limit: HOP_LIMIT,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut bytes = vec![0u8; ip.buffer_len()];
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut bytes[..]))
        .ok()?;
    bytes.get_mut(HEADER_LEN..)?.copy_from_slice(inner);
    Some(bytes)
}
