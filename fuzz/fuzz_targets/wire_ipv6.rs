#![no_main]
//! The IPv6 side of the wire layer on arbitrary bytes: the fixed header, the extension
//! chain walk (`walk_chain`, both on a whole packet and on bytes after a Next Header
//! value), every extension header parser (Hop-by-Hop/Destination Options with their
//! option iterator, Routing with type 2, Fragment) and ICMPv6 with the Neighbor Discovery
//! and RA options. ICMPv6 is parsed as it is and with its checksum filled in, so that the
//! message parsers run. Every parsed repr and ND option must emit and parse back to itself,
//! and the offsets `walk_chain` reports must point at what it says they do.

use libfuzzer_sys::fuzz_target;
use mipdp_dataplane::wire::icmpv6::{self, message_type, Icmpv6Packet, Icmpv6Repr, NdOptionsIter};
use mipdp_dataplane::wire::ipv6::{self, next_header, Ipv6Packet, Ipv6Repr};
use mipdp_dataplane::wire::ipv6ext::{
    unknown_option_action, walk_chain, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6OptionsHeader,
    Ipv6OptionsIter, Ipv6OptionsRepr, Ipv6RoutingHeader, Type2RoutingRepr, MAX_EXTENSION_HEADERS,
    ROUTING_TYPE_2,
};
use std::net::Ipv6Addr;

const SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const DST: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);

fuzz_target!(|data: &[u8]| {
    ipv6_packet(data);
    if let Some((&nh, rest)) = data.split_first() {
        chain(nh, rest);
    }
    options_header(data);
    routing_header(data);
    fragment_header(data);
    for option in Ipv6OptionsIter::new(data).flatten() {
        let _ = option;
    }
    icmp(&SRC, &DST, data);
});

fn ipv6_packet(data: &[u8]) {
    let Ok(packet) = Ipv6Packet::new_checked(data) else {
        return;
    };
    let _ = (
        packet.version(),
        packet.dscp(),
        packet.ecn(),
        packet.flow_label(),
        packet.hop_limit(),
    );
    let (src, dst) = (packet.src_addr(), packet.dst_addr());
    let _ = (ipv6::multicast_mac(&dst), ipv6::solicited_node(&src));
    assert_eq!(packet.payload().len(), usize::from(packet.payload_len()));

    let repr = Ipv6Repr::parse(&packet).expect("a checked header parses");
    let mut buf = vec![0u8; repr.buffer_len()];
    buf[repr.header_len()..].copy_from_slice(packet.payload());
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]))
        .expect("a parsed header emits");
    assert_eq!(
        buf[..],
        data[..repr.buffer_len()],
        "every header bit is in the repr"
    );
    let again = Ipv6Packet::new_checked(&buf[..]).expect("an emitted header checks");
    assert_eq!(Ipv6Repr::parse(&again), Ok(repr));

    let mut hop = data.to_vec();
    let before = packet.hop_limit();
    let after = Ipv6Packet::new_unchecked(&mut hop[..]).decrement_hop_limit();
    assert_eq!(after, (before > 1).then(|| before - 1));

    if let Some(c) = chain(packet.next_header(), packet.payload()) {
        if c.upper_layer == next_header::ICMPV6 && c.fragment.is_none() {
            icmp(&src, &dst, &packet.payload()[c.upper_layer_offset..]);
        }
    }
}

/// Walks the chain and checks that what it reports is where it says.
fn chain(first: u8, payload: &[u8]) -> Option<mipdp_dataplane::wire::ipv6ext::ExtensionChain> {
    let c = walk_chain(first, payload).ok()?;
    assert!(c.upper_layer_offset <= payload.len());
    assert!(c.extension_headers <= MAX_EXTENSION_HEADERS);
    if c.extension_headers == 0 {
        assert_eq!((c.upper_layer, c.upper_layer_offset), (first, 0));
    }
    if let Some(at) = c.tunnel_encapsulation_limit_offset {
        assert_eq!(Some(payload[at]), c.tunnel_encapsulation_limit);
    }
    assert_eq!(
        c.tunnel_encapsulation_limit.is_some(),
        c.tunnel_encapsulation_limit_offset.is_some()
    );
    if let Some((option_type, at)) = c.unrecognized_option {
        assert_eq!(payload[at], option_type);
        let _ = unknown_option_action(option_type);
    }
    Some(c)
}

fn options_header(data: &[u8]) {
    let Ok(header) = Ipv6OptionsHeader::new_checked(data) else {
        return;
    };
    let _ = (header.next_header(), header.payload());
    assert_eq!(header.options().len() + 2, header.header_len());
    assert!(
        header.iter_options().all(|o| o.is_ok()),
        "check_len checked them"
    );

    let repr = Ipv6OptionsRepr::parse(&header).expect("a checked header parses");
    let mut buf = vec![0u8; repr.header_len()];
    repr.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut buf[..]))
        .expect("fits its own length");
    let again = Ipv6OptionsHeader::new_checked(&buf[..]).expect("an emitted header checks");
    assert_eq!(again.header_len(), repr.header_len());
    assert_eq!(Ipv6OptionsRepr::parse(&again), Ok(repr));
}

fn routing_header(data: &[u8]) {
    let Ok(header) = Ipv6RoutingHeader::new_checked(data) else {
        return;
    };
    let _ = (
        header.next_header(),
        header.segments_left(),
        header.data(),
        header.payload(),
    );
    // Read whatever the type, as the getter allows; a type 2 header is 24 bytes.
    assert_eq!(
        header.home_address().is_some(),
        header.header_len() >= Type2RoutingRepr::HEADER_LEN
    );
    if let Ok(repr) = Type2RoutingRepr::parse(&header) {
        assert_eq!(header.routing_type(), ROUTING_TYPE_2);
        assert_eq!(header.home_address(), Some(repr.home_address));
    }
    let Ok(repr) = Type2RoutingRepr::parse(&header) else {
        return;
    };
    let mut buf = vec![0u8; repr.header_len()];
    repr.emit(&mut Ipv6RoutingHeader::new_unchecked(&mut buf[..]))
        .expect("fits its own length");
    let again = Ipv6RoutingHeader::new_checked(&buf[..]).expect("an emitted header checks");
    assert_eq!(Type2RoutingRepr::parse(&again), Ok(repr));
}

fn fragment_header(data: &[u8]) {
    let Ok(header) = Ipv6FragmentHeader::new_checked(data) else {
        return;
    };
    let _ = header.payload();
    let repr = Ipv6FragmentRepr::parse(&header).expect("a checked header parses");
    assert!(repr.fragment_offset <= 0x1fff);
    let mut buf = vec![0u8; repr.header_len()];
    repr.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut buf[..]))
        .expect("a parsed offset fits 13 bits");
    let again = Ipv6FragmentHeader::new_checked(&buf[..]).expect("an emitted header checks");
    assert_eq!(Ipv6FragmentRepr::parse(&again), Ok(repr));
}

fn icmp(src: &Ipv6Addr, dst: &Ipv6Addr, data: &[u8]) {
    let Ok(packet) = Icmpv6Packet::new_checked(data) else {
        return;
    };
    getters(&packet, data.len());
    if Icmpv6Repr::parse(src, dst, &packet).is_ok() {
        assert!(packet.verify_checksum(src, dst));
    }

    let mut fixed = data.to_vec();
    Icmpv6Packet::new_unchecked(&mut fixed[..]).fill_checksum(src, dst);
    let fixed_packet = Icmpv6Packet::new_checked(&fixed[..]).expect("same bytes still check");
    assert!(fixed_packet.verify_checksum(src, dst));
    let Ok(repr) = Icmpv6Repr::parse(src, dst, &fixed_packet) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(src, dst, &mut Icmpv6Packet::new_unchecked(&mut buf[..]))
        .expect("a parsed message emits");
    let again = Icmpv6Packet::new_checked(&buf[..]).expect("an emitted message checks");
    assert_eq!(Icmpv6Repr::parse(src, dst, &again), Ok(repr));
}

/// Every getter that applies to the message's type, and the option round trips.
fn getters(packet: &Icmpv6Packet<&[u8]>, len: usize) {
    use message_type::*;
    let _ = (packet.msg_code(), packet.checksum(), packet.payload());
    match packet.msg_type() {
        ECHO_REQUEST | ECHO_REPLY => {
            let _ = (packet.echo_ident(), packet.echo_seq_no());
        }
        PACKET_TOO_BIG => {
            let _ = packet.mtu();
        }
        PARAM_PROBLEM => {
            let _ = packet.pointer();
        }
        ROUTER_ADVERT => {
            let _ = (
                packet.cur_hop_limit(),
                packet.managed(),
                packet.other(),
                packet.home_agent(),
                packet.router_lifetime(),
                packet.reachable_time(),
                packet.retrans_time(),
            );
        }
        NEIGHBOR_SOLICIT | NEIGHBOR_ADVERT => {
            let _ = (
                packet.target_addr(),
                packet.router_flag(),
                packet.solicited_flag(),
                packet.override_flag(),
            );
        }
        REDIRECT => {
            let _ = (packet.target_addr(), packet.redirect_destination());
        }
        HOME_AGENT_DISCOVERY_REQUEST | MOBILE_PREFIX_SOLICIT => {
            let _ = packet.mobile_identifier();
        }
        HOME_AGENT_DISCOVERY_REPLY => {
            let _ = packet.mobile_identifier();
            let n = packet.home_agent_addresses().count();
            assert_eq!(n * 16, packet.payload().len(), "check_len: whole addresses");
        }
        MOBILE_PREFIX_ADVERT => {
            let _ = (
                packet.mobile_identifier(),
                packet.mobile_prefix_managed(),
                packet.mobile_prefix_other(),
            );
        }
        _ => {}
    }
    assert_eq!(
        packet.payload().len() + icmpv6::header_len(packet.msg_type()),
        len
    );
    for option in packet.nd_options().flatten() {
        let mut buf = vec![0u8; option.buffer_len()];
        let len = option.emit(&mut buf).expect("a parsed option emits");
        assert_eq!(len, buf.len());
        assert_eq!(NdOptionsIter::new(&buf).next(), Some(Ok(option)));
    }
}
