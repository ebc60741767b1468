//! Every kind of packet mipdp emits, built with mipdp's own `emit` and tunnel functions,
//! decoded by Wireshark's tshark (a test dependency, installed by scripts/install-deps.sh;
//! the test fails, not skips, without it): no frame may carry an expert info of warning or
//! error severity or of the malformed or checksum group, no checksum tshark verifies may be
//! bad, and every field tshark decodes must be the value the frame was built with.
//!
//! Where tshark 4.0 falls short, the test checks what it does decode and says so beside the
//! frame: it has no dissector for minimal encapsulation (RFC 2004, IP protocol 55) and
//! shows it as data, which is compared with a forwarding header written out by hand from
//! the RFC; it does not verify Mobility Header checksums, so the checksum it shows is
//! compared with one computed here, not by mipdp; and a few Mobility Header options are
//! displayed off (see `mobility_header_frames`).

mod tshark;

use std::net::{Ipv4Addr, Ipv6Addr};

use mipdp_dataplane::port::memory::MemPool;
use mipdp_dataplane::port::PacketBuf;
use mipdp_dataplane::tunnel::icmp::{icmp_error_v4, IcmpErrorKind};
use mipdp_dataplane::tunnel::ip6ip6::{self, icmp_error_v6, Icmpv6Error};
use mipdp_dataplane::tunnel::{
    gre as gre_tunnel, ipip, minimal as minimal_tunnel, mixed, Encapsulated, Endpoints4,
    Endpoints6, TunnelSettings,
};
use mipdp_dataplane::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use mipdp_dataplane::wire::ethernet::{
    EtherType, EthernetFrame, EthernetRepr, MacAddress, VlanTag,
};
use mipdp_dataplane::wire::gre::{GrePacket, GreRepr};
use mipdp_dataplane::wire::icmpv4::{
    DstUnreachable, Icmpv4Packet, Icmpv4Repr, RouterAddresses, RouterAdvertisementCode,
};
use mipdp_dataplane::wire::icmpv6::{
    HomeAgentInformation, Icmpv6Packet, Icmpv6Repr, PrefixInformation, RouterAdvertRepr,
};
use mipdp_dataplane::wire::ipv4::{IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use mipdp_dataplane::wire::ipv6::{multicast_mac, next_header, Ipv6Packet, Ipv6Repr};
use mipdp_dataplane::wire::ipv6ext::{
    Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6OptionsHeader, Ipv6OptionsRepr, Ipv6RoutingHeader,
    Type2RoutingRepr,
};
use mipdp_dataplane::wire::mh::{
    binding_ack_status, binding_error_status, BindingAcknowledgement, BindingUpdate, MhRepr,
    MobilityHeader,
};
use mipdp_dataplane::wire::mh_options::{
    authentication_subtype, mobile_node_identifier_subtype, MessageAuthentication,
    MobileNodeIdentifier, MobilityOptionsRepr, NonceIndices, VendorSpecific,
};
use mipdp_dataplane::wire::mip4::{
    self, AgentAdvertisementFlags, AgentAdvertisementRepr, AgentExtension, AgentExtensionType,
    CareOfAddresses, RegistrationExtension, RegistrationExtensionType, RegistrationExtensions,
    RegistrationFlags, RegistrationReplyPacket, RegistrationReplyRepr, RegistrationRequestPacket,
    RegistrationRequestRepr, ReplyCode, REPLY_LEN, REQUEST_LEN,
};
use mipdp_dataplane::wire::udp::{PseudoHeader, UdpPacket, UdpRepr};

use tshark::{check, hex, internet_checksum, Frame, GOOD};

const HOST_MAC: MacAddress = MacAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const ROUTER_MAC: MacAddress = MacAddress([0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x10]);

const HOME_AGENT: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const HOME_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
const CARE_OF: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CORRESPONDENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const HA6: &str = "2001:db8:1::1";
const HOA6: &str = "2001:db8:1::100";
const COA6: &str = "2001:db8:2::100";
const CN6: &str = "2001:db8:3::3";
const ROUTER_LL: &str = "fe80::1";
const HOST_LL: &str = "fe80::5054:ff:fe12:3456";

/// 2024-06-01 12:00:00.25 UTC in NTP format (seconds since 1900, then a 32-bit fraction),
/// as Mobile IPv4 Identification (RFC 5944 §5.7) and Mobility Message Replay Protection
/// (RFC 4285 §6) carry it.
const NTP_TIMESTAMP: u64 = (3_926_232_000 << 32) | 0x4000_0000;
/// How tshark shows [`NTP_TIMESTAMP`] in a Mobile IPv4 Identification.
const NTP_TIMESTAMP_TEXT: &str = "Jun  1, 2024 12:00:00.250000000 UTC";
/// How tshark 4.0 shows [`NTP_TIMESTAMP`] in a Replay Protection option: it reads the
/// field as seconds and nanoseconds since 1970, not as NTP, so the same bits read 70
/// years later with a fraction of 0x40000000 "nanoseconds".
const NTP_TIMESTAMP_AS_UNIX_TEXT: &str = "Jun  1, 2094 12:00:00.1073741824 UTC";

// --- building blocks, all through mipdp's emit -------------------------------------------

/// `packet` (IPv4, IPv6 or ARP) in an untagged Ethernet frame.
fn ethernet(src: MacAddress, dst: MacAddress, ethertype: EtherType, packet: &[u8]) -> Vec<u8> {
    let repr = EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        vlan: None,
        ethertype,
    };
    let mut frame = vec![0u8; repr.buffer_len(packet.len())];
    repr.emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    frame[repr.header_len()..].copy_from_slice(packet);
    frame
}

/// An IP packet in Ethernet, to the router or, for a multicast IPv6 destination, to its
/// multicast MAC address (RFC 2464 §7).
fn eth_ip(packet: &[u8]) -> Vec<u8> {
    match packet[0] >> 4 {
        4 => ethernet(HOST_MAC, ROUTER_MAC, EtherType::IPV4, packet),
        _ => {
            let dst = Ipv6Packet::new_checked(packet).unwrap().dst_addr();
            let mac = if dst.is_multicast() {
                MacAddress(multicast_mac(&dst))
            } else {
                ROUTER_MAC
            };
            ethernet(HOST_MAC, mac, EtherType::IPV6, packet)
        }
    }
}

fn ipv4_repr(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, payload_len: usize) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol,
        payload_len,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 0x1000,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    }
}

fn ipv4(repr: Ipv4Repr, payload: &[u8]) -> Vec<u8> {
    assert_eq!(repr.payload_len, payload.len());
    let mut b = vec![0u8; repr.buffer_len()];
    b[repr.header_len()..].copy_from_slice(payload);
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b
}

fn udp(pseudo: PseudoHeader, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let repr = UdpRepr {
        src_port,
        dst_port,
        payload_len: payload.len(),
    };
    let mut b = vec![0u8; repr.buffer_len()];
    b[repr.header_len()..].copy_from_slice(payload);
    repr.emit(&mut UdpPacket::new_unchecked(&mut b[..]), &pseudo);
    b
}

/// A UDP datagram in IPv4 with `ttl` and the other fields of [`ipv4_repr`].
fn udp4(src: Ipv4Addr, dst: Ipv4Addr, ports: (u16, u16), ttl: u8, payload: &[u8]) -> Vec<u8> {
    let datagram = udp(PseudoHeader::V4 { src, dst }, ports.0, ports.1, payload);
    let repr = Ipv4Repr {
        ttl,
        ..ipv4_repr(src, dst, IpProtocol::UDP, datagram.len())
    };
    ipv4(repr, &datagram)
}

fn icmp4(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, message: Icmpv4Repr) -> Vec<u8> {
    let mut m = vec![0u8; message.buffer_len()];
    message.emit(&mut Icmpv4Packet::new_unchecked(&mut m[..]));
    let repr = Ipv4Repr {
        ttl,
        ..ipv4_repr(src, dst, IpProtocol::ICMP, m.len())
    };
    ipv4(repr, &m)
}

fn ipv6(src: &str, dst: &str, next: u8, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv6Repr {
        src_addr: v6(src),
        dst_addr: v6(dst),
        next_header: next,
        payload_len: payload.len(),
        hop_limit,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut b[..]))
        .unwrap();
    b[repr.header_len()..].copy_from_slice(payload);
    b
}

fn options_header(repr: Ipv6OptionsRepr) -> Vec<u8> {
    let mut b = vec![0u8; repr.header_len()];
    repr.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut b[..]))
        .unwrap();
    b
}

fn type2_routing(next: u8, home_address: &str) -> Vec<u8> {
    let repr = Type2RoutingRepr {
        next_header: next,
        home_address: v6(home_address),
    };
    let mut b = vec![0u8; repr.header_len()];
    repr.emit(&mut Ipv6RoutingHeader::new_unchecked(&mut b[..]))
        .unwrap();
    b
}

/// An ICMPv6 message whose checksum covers the pseudo-header of `src` and `dst` (the home
/// address in place of an address a Home Address option or type 2 routing header hides).
fn icmp6(src: &str, dst: &str, message: Icmpv6Repr) -> Vec<u8> {
    let mut m = vec![0u8; message.buffer_len()];
    message
        .emit(
            &v6(src),
            &v6(dst),
            &mut Icmpv6Packet::new_unchecked(&mut m[..]),
        )
        .unwrap();
    m
}

/// A Mobility Header message, checksum over the pseudo-header of `src` and `dst`.
fn mobility_header(src: &str, dst: &str, message: MhRepr) -> Vec<u8> {
    let mut m = vec![0u8; message.header_len()];
    message
        .emit(
            &v6(src),
            &v6(dst),
            &mut MobilityHeader::new_unchecked(&mut m[..]),
        )
        .unwrap();
    m
}

/// The Mobility Header checksum of `mh` as RFC 6275 §6.1.1 defines it (the IPv6
/// pseudo-header of RFC 8200 §8.1 with next header 135), computed here, not by mipdp.
fn independent_mh_checksum(src: &str, dst: &str, mh: &[u8]) -> String {
    let mut zeroed = mh.to_vec();
    zeroed[4..6].fill(0);
    let len = u32::try_from(mh.len()).unwrap().to_be_bytes();
    let sum = internet_checksum(&[
        &v6(src).octets(),
        &v6(dst).octets(),
        &len,
        &[0, 0, 0, 135],
        &zeroed,
    ]);
    format!("{sum:#06x}")
}

fn hex16(v: u16) -> String {
    format!("{v:#06x}")
}

fn hex32(v: u32) -> String {
    format!("{v:#010x}")
}

fn mac(m: MacAddress) -> String {
    let b = m.0;
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

// --- link layer and IPv4 -------------------------------------------------------------------

fn arp_frames() -> Vec<Frame> {
    let request = ArpRepr {
        operation: ArpOperation::REQUEST,
        source_hardware_addr: HOST_MAC,
        source_protocol_addr: Ipv4Addr::new(10, 0, 2, 15),
        target_hardware_addr: MacAddress([0; 6]),
        target_protocol_addr: Ipv4Addr::new(10, 0, 2, 2),
    };
    let reply = ArpRepr {
        operation: ArpOperation::REPLY,
        source_hardware_addr: ROUTER_MAC,
        source_protocol_addr: Ipv4Addr::new(10, 0, 2, 2),
        target_hardware_addr: HOST_MAC,
        target_protocol_addr: Ipv4Addr::new(10, 0, 2, 15),
    };
    let arp = |repr: ArpRepr| {
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut ArpPacket::new_unchecked(&mut b[..]));
        b
    };
    vec![
        Frame::new(
            "arp request",
            ethernet(
                HOST_MAC,
                MacAddress::BROADCAST,
                EtherType::ARP,
                &arp(request),
            ),
        )
        .protocols("eth:ethertype:arp")
        .field("eth.src", [mac(HOST_MAC)])
        .field("eth.dst", ["ff:ff:ff:ff:ff:ff"])
        .field("eth.type", ["0x0806"])
        .field("arp.opcode", [1])
        .field("arp.src.hw_mac", [mac(HOST_MAC)])
        .field("arp.src.proto_ipv4", ["10.0.2.15"])
        .field("arp.dst.proto_ipv4", ["10.0.2.2"]),
        Frame::new(
            "arp reply",
            ethernet(ROUTER_MAC, HOST_MAC, EtherType::ARP, &arp(reply)),
        )
        .protocols("eth:ethertype:arp")
        .field("eth.src", [mac(ROUTER_MAC)])
        .field("eth.dst", [mac(HOST_MAC)])
        .field("arp.opcode", [2])
        .field("arp.src.hw_mac", [mac(ROUTER_MAC)])
        .field("arp.dst.hw_mac", [mac(HOST_MAC)])
        .field("arp.src.proto_ipv4", ["10.0.2.2"]),
    ]
}

fn vlan_frame() -> Frame {
    let packet = udp4(
        Ipv4Addr::new(10, 1, 0, 5),
        HOME_AGENT,
        (5000, 6000),
        64,
        b"tagged",
    );
    let repr = EthernetRepr {
        src_addr: HOST_MAC,
        dst_addr: ROUTER_MAC,
        vlan: Some(VlanTag {
            tpid: EtherType::VLAN,
            pcp: 5,
            dei: false,
            vid: 100,
        }),
        ethertype: EtherType::IPV4,
    };
    let mut frame = vec![0u8; repr.buffer_len(packet.len())];
    repr.emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    frame[repr.header_len()..].copy_from_slice(&packet);
    Frame::new("802.1Q-tagged IPv4 UDP", frame)
        .protocols("eth:ethertype:vlan:ethertype:ip:udp:data")
        .field("eth.type", ["0x8100"])
        .field("vlan.id", [100])
        .field("vlan.priority", [5])
        .field("vlan.etype", ["0x0800"])
        .field("ip.src", ["10.1.0.5"])
        .field("udp.checksum.status", [GOOD])
        .field("data.data", [hex(b"tagged")])
}

fn ipv4_frames() -> Vec<Frame> {
    let payload = b"options and DSCP";
    let datagram = udp(
        PseudoHeader::V4 {
            src: HOME_ADDRESS,
            dst: CORRESPONDENT,
        },
        5000,
        6000,
        payload,
    );
    let with_options = Ipv4Repr {
        dscp: 46,
        ecn: 1,
        ident: 0x1234,
        dont_frag: true,
        ttl: 17,
        // Router Alert, RFC 2113.
        options: Ipv4Options::new(&[0x94, 0x04, 0x00, 0x00]).unwrap(),
        ..ipv4_repr(HOME_ADDRESS, CORRESPONDENT, IpProtocol::UDP, datagram.len())
    };
    let echo_data: &[u8] = b"abcdefghijklmnopqrstuvwabcdefghi";
    let quoted = udp4(
        CORRESPONDENT,
        HOME_ADDRESS,
        (5000, 6000),
        63,
        b"unreachable",
    );
    vec![
        Frame::new(
            "IPv4 with options, UDP",
            eth_ip(&ipv4(with_options, &datagram)),
        )
        .protocols("eth:ethertype:ip:udp:data")
        .field("ip.hdr_len", [24])
        .field("ip.dsfield.dscp", [46])
        .field("ip.dsfield.ecn", [1])
        .field("ip.id", ["0x1234"])
        .field("ip.flags.df", [1])
        .field("ip.ttl", [17])
        .field("ip.proto", [17])
        .field("ip.len", [24 + datagram.len()])
        .field("ip.opt.type", [148])
        .field("ip.opt.ra", [0])
        .field("ip.src", [HOME_ADDRESS])
        .field("ip.dst", [CORRESPONDENT])
        .field("ip.checksum.status", [GOOD])
        .field("udp.srcport", [5000])
        .field("udp.dstport", [6000])
        .field("udp.length", [datagram.len()])
        .field("udp.checksum.status", [GOOD])
        .field("data.data", [hex(payload)]),
        Frame::new(
            "ICMP echo request",
            eth_ip(&icmp4(
                HOME_ADDRESS,
                CORRESPONDENT,
                64,
                Icmpv4Repr::EchoRequest {
                    ident: 1,
                    seq_no: 7,
                    data: echo_data,
                },
            )),
        )
        .protocols("eth:ethertype:ip:icmp:data")
        .field("icmp.type", [8])
        .field("icmp.code", [0])
        .field("icmp.ident", [1])
        .field("icmp.seq", [7])
        .field("icmp.checksum.status", [GOOD])
        .field("data.data", [hex(echo_data)]),
        Frame::new(
            "ICMP echo reply",
            eth_ip(&icmp4(
                CORRESPONDENT,
                HOME_ADDRESS,
                60,
                Icmpv4Repr::EchoReply {
                    ident: 1,
                    seq_no: 7,
                    data: echo_data,
                },
            )),
        )
        .protocols("eth:ethertype:ip:icmp:data")
        .field("icmp.type", [0])
        .field("icmp.ident", [1])
        .field("icmp.seq", [7])
        .field("ip.ttl", [60])
        .field("icmp.checksum.status", [GOOD]),
        Frame::new(
            "ICMP port unreachable",
            eth_ip(&icmp4(
                HOME_ADDRESS,
                CORRESPONDENT,
                64,
                Icmpv4Repr::DstUnreachable {
                    reason: DstUnreachable::PORT_UNREACHABLE,
                    next_hop_mtu: 0,
                    data: &quoted,
                },
            )),
        )
        .protocols("eth:ethertype:ip:icmp:ip:udp:data")
        .field("icmp.type", [3])
        .field("icmp.code", [3])
        .field("ip.src", [HOME_ADDRESS, CORRESPONDENT])
        .field("ip.dst", [CORRESPONDENT, HOME_ADDRESS])
        .field("ip.ttl", [64, 63])
        .field("icmp.checksum.status", [GOOD])
        .field("ip.checksum.status", [GOOD, GOOD])
        .field("udp.checksum.status", [GOOD]),
    ]
}

// --- IPv6, extension headers, ICMPv6 ----------------------------------------------------

fn ipv6_extension_frames() -> Vec<Frame> {
    let mut frames = Vec::new();

    let datagram = udp(
        PseudoHeader::V6 {
            src: v6(HOST_LL),
            dst: v6("ff02::16"),
        },
        5000,
        6000,
        b"hop by hop",
    );
    let hbh = options_header(Ipv6OptionsRepr {
        next_header: next_header::UDP,
        router_alert: Some(0),
        ..Default::default()
    });
    let packet = ipv6(
        HOST_LL,
        "ff02::16",
        next_header::HOP_BY_HOP,
        1,
        &[hbh, datagram].concat(),
    );
    frames.push(
        Frame::new("IPv6 hop-by-hop Router Alert, UDP", eth_ip(&packet))
            .protocols("eth:ethertype:ipv6:ipv6.hopopts:udp:data")
            .field("eth.dst", ["33:33:00:00:00:16"])
            .field("ipv6.nxt", [next_header::HOP_BY_HOP])
            .field("ipv6.hopopts.nxt", [next_header::UDP])
            .field("ipv6.opt.router_alert", [0])
            .field("ipv6.hlim", [1])
            .field("udp.checksum.status", [GOOD]),
    );

    // A mobile node away from home: source the care-of address, home address in a
    // Destination Options header, checksum over the home address (RFC 6275 §6.3).
    let echo = icmp6(
        HOA6,
        CN6,
        Icmpv6Repr::EchoRequest {
            ident: 0x1234,
            seq_no: 1,
            data: b"from home",
        },
    );
    let dest = options_header(Ipv6OptionsRepr {
        next_header: next_header::ICMPV6,
        home_address: Some(v6(HOA6)),
        ..Default::default()
    });
    let packet = ipv6(
        COA6,
        CN6,
        next_header::DEST_OPTS,
        64,
        &[dest, echo].concat(),
    );
    frames.push(
        Frame::new("IPv6 Home Address option, echo request", eth_ip(&packet))
            .protocols("eth:ethertype:ipv6:ipv6.dstopts:icmpv6:data")
            .field("ipv6.src", [COA6])
            .field("ipv6.dst", [CN6])
            .field("ipv6.dstopts.nxt", [next_header::ICMPV6])
            .field("ipv6.opt.mipv6.home_address", [HOA6])
            .field("icmpv6.type", [128])
            .field("icmpv6.echo.identifier", ["0x1234"])
            .field("icmpv6.echo.sequence_number", [1])
            .field("icmpv6.checksum.status", [GOOD]),
    );

    // The answer through a type 2 routing header: checksum over the home address.
    let echo = icmp6(
        CN6,
        HOA6,
        Icmpv6Repr::EchoReply {
            ident: 0x1234,
            seq_no: 1,
            data: b"from home",
        },
    );
    let routing = type2_routing(next_header::ICMPV6, HOA6);
    let packet = ipv6(
        CN6,
        COA6,
        next_header::ROUTING,
        64,
        &[routing, echo].concat(),
    );
    frames.push(
        Frame::new("IPv6 type 2 routing header, echo reply", eth_ip(&packet))
            .protocols("eth:ethertype:ipv6:ipv6.routing:icmpv6:data")
            .field("ipv6.dst", [COA6])
            .field("ipv6.routing.type", [2])
            .field("ipv6.routing.segleft", [1])
            .field("ipv6.routing.mipv6.home_address", [HOA6])
            .field("icmpv6.type", [129])
            .field("icmpv6.checksum.status", [GOOD]),
    );

    // One UDP datagram in two fragments; tshark reassembles it in the second frame.
    let body: Vec<u8> = (0..64u8).collect();
    let datagram = udp(
        PseudoHeader::V6 {
            src: v6(CN6),
            dst: v6(HOA6),
        },
        1000,
        2000,
        &body,
    );
    let (first, rest) = datagram.split_at(32);
    let fragment = |offset: u16, more: bool, data: &[u8]| {
        let repr = Ipv6FragmentRepr {
            next_header: next_header::UDP,
            fragment_offset: offset,
            more_fragments: more,
            identification: 0xdead_beef,
        };
        let mut h = vec![0u8; repr.header_len()];
        repr.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut h[..]))
            .unwrap();
        ipv6(
            CN6,
            HOA6,
            next_header::FRAGMENT,
            64,
            &[&h[..], data].concat(),
        )
    };
    frames.push(
        Frame::new("IPv6 first fragment", eth_ip(&fragment(0, true, first)))
            .protocols("eth:ethertype:ipv6:ipv6.fraghdr:data")
            .field("ipv6.fraghdr.nxt", [next_header::UDP])
            .field("ipv6.fraghdr.offset", [0])
            .field("ipv6.fraghdr.more", [1])
            .field("ipv6.fraghdr.ident", ["0xdeadbeef"]),
    );
    frames.push(
        Frame::new("IPv6 last fragment", eth_ip(&fragment(4, false, rest)))
            .protocols("eth:ethertype:ipv6:ipv6.fraghdr:udp:data")
            .field("ipv6.fraghdr.offset", [4])
            .field("ipv6.fraghdr.more", [0])
            .field("ipv6.reassembled.length", [datagram.len()])
            .field("udp.srcport", [1000])
            .field("udp.checksum.status", [GOOD])
            .field("data.data", [hex(&body)]),
    );

    // Traffic class and flow label in the fixed header.
    let echo = icmp6(
        HOA6,
        CN6,
        Icmpv6Repr::EchoRequest {
            ident: 7,
            seq_no: 9,
            data: b"abcdefgh",
        },
    );
    let repr = Ipv6Repr {
        src_addr: v6(HOA6),
        dst_addr: v6(CN6),
        next_header: next_header::ICMPV6,
        payload_len: echo.len(),
        hop_limit: 32,
        traffic_class: 0xb8,
        flow_label: 0x12345,
    };
    let mut packet = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut packet[..]))
        .unwrap();
    packet[40..].copy_from_slice(&echo);
    frames.push(
        Frame::new("IPv6 traffic class and flow label", eth_ip(&packet))
            .protocols("eth:ethertype:ipv6:icmpv6:data")
            .field("ipv6.tclass", ["0x000000b8"])
            .field("ipv6.tclass.dscp", [46])
            .field("ipv6.flow", ["0x012345"])
            .field("ipv6.hlim", [32])
            .field("ipv6.plen", [echo.len()])
            .field("icmpv6.checksum.status", [GOOD]),
    );
    frames
}

fn neighbor_discovery_frames() -> Vec<Frame> {
    let router_mac = *ROUTER_MAC.as_bytes();
    let host_mac = *HOST_MAC.as_bytes();
    let prefix = PrefixInformation {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        router_address: true,
        valid_lifetime: 86_400,
        preferred_lifetime: 14_400,
        prefix: v6(HA6),
    };
    let advert = RouterAdvertRepr {
        hop_limit: 64,
        managed: false,
        other: true,
        home_agent: true,
        router_lifetime: 1800,
        reachable_time: 30_000,
        retrans_time: 1000,
        source_lladdr: Some(router_mac),
        prefix_info: Some(prefix),
        mtu: Some(1500),
        advertisement_interval: Some(3000),
        home_agent_info: Some(HomeAgentInformation {
            preference: 10,
            lifetime: 1800,
        }),
    };
    let redirected = ipv6(HOA6, CN6, next_header::NO_NEXT, 63, &[]);
    let nd = |src: &str, dst: &str, m: Icmpv6Repr| {
        eth_ip(&ipv6(
            src,
            dst,
            next_header::ICMPV6,
            255,
            &icmp6(src, dst, m),
        ))
    };
    vec![
        Frame::new(
            "router solicitation",
            nd(
                HOST_LL,
                "ff02::2",
                Icmpv6Repr::RouterSolicit {
                    source_lladdr: Some(host_mac),
                },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6")
        .field("icmpv6.type", [133])
        .field("icmpv6.opt.type", [1])
        .field("icmpv6.opt.linkaddr", [mac(HOST_MAC)])
        .field("icmpv6.checksum.status", [GOOD]),
        Frame::new(
            "router advertisement of a home agent",
            nd(ROUTER_LL, "ff02::1", Icmpv6Repr::RouterAdvert(advert)),
        )
        .protocols("eth:ethertype:ipv6:icmpv6")
        .field("icmpv6.type", [134])
        .field("icmpv6.nd.ra.cur_hop_limit", [64])
        .field("icmpv6.nd.ra.flag.m", [0])
        .field("icmpv6.nd.ra.flag.o", [1])
        .field("icmpv6.nd.ra.flag.h", [1])
        .field("icmpv6.nd.ra.router_lifetime", [1800])
        .field("icmpv6.nd.ra.reachable_time", [30_000])
        .field("icmpv6.nd.ra.retrans_timer", [1000])
        .field("icmpv6.opt.type", [1, 3, 5, 7, 8])
        .field("icmpv6.opt.linkaddr", [mac(ROUTER_MAC)])
        .field("icmpv6.opt.prefix.length", [64])
        .field("icmpv6.opt.prefix.flag.l", [1])
        .field("icmpv6.opt.prefix.flag.a", [1])
        .field("icmpv6.opt.prefix.flag.r", [1])
        .field("icmpv6.opt.prefix.valid_lifetime", [86_400])
        .field("icmpv6.opt.prefix.preferred_lifetime", [14_400])
        .field("icmpv6.opt.prefix", [HA6])
        .field("icmpv6.opt.mtu", [1500])
        .field("icmpv6.opt.advertisement_interval", [3000])
        .field("icmpv6.opt.home_agent_preference", [10])
        .field("icmpv6.opt.home_agent_lifetime", [1800])
        .field("icmpv6.checksum.status", [GOOD]),
        Frame::new(
            "neighbor solicitation",
            nd(
                HOST_LL,
                "ff02::1:ff00:100",
                Icmpv6Repr::NeighborSolicit {
                    target: v6(HOA6),
                    source_lladdr: Some(host_mac),
                },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6")
        .field("eth.dst", ["33:33:ff:00:01:00"])
        .field("icmpv6.type", [135])
        .field("icmpv6.nd.ns.target_address", [HOA6])
        .field("icmpv6.opt.linkaddr", [mac(HOST_MAC)])
        .field("icmpv6.checksum.status", [GOOD]),
        Frame::new(
            "neighbor advertisement",
            nd(
                HOA6,
                HOST_LL,
                Icmpv6Repr::NeighborAdvert {
                    router: false,
                    solicited: true,
                    override_: true,
                    target: v6(HOA6),
                    target_lladdr: Some(router_mac),
                },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6")
        .field("icmpv6.type", [136])
        .field("icmpv6.nd.na.flag.r", [0])
        .field("icmpv6.nd.na.flag.s", [1])
        .field("icmpv6.nd.na.flag.o", [1])
        .field("icmpv6.nd.na.target_address", [HOA6])
        .field("icmpv6.opt.type", [2])
        .field("icmpv6.opt.linkaddr", [mac(ROUTER_MAC)])
        .field("icmpv6.checksum.status", [GOOD]),
        Frame::new(
            "redirect",
            nd(
                ROUTER_LL,
                HOST_LL,
                Icmpv6Repr::Redirect {
                    target: v6(HA6),
                    destination: v6(CN6),
                    target_lladdr: Some(router_mac),
                    redirected: Some(&redirected),
                },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6:ipv6")
        .field("icmpv6.type", [137])
        .field("icmpv6.nd.rd.target_address", [HA6])
        .field("icmpv6.rd.na.destination_address", [CN6])
        .field("icmpv6.opt.type", [2, 4])
        .field("ipv6.src", [ROUTER_LL, HOA6])
        .field("ipv6.hlim", [255, 63])
        .field("icmpv6.checksum.status", [GOOD]),
    ]
}

fn icmpv6_frames() -> Vec<Frame> {
    let quoted = ipv6(
        CN6,
        HOA6,
        next_header::UDP,
        61,
        &udp(
            PseudoHeader::V6 {
                src: v6(CN6),
                dst: v6(HOA6),
            },
            5000,
            6000,
            b"no listener",
        ),
    );
    let prefix = PrefixInformation {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        router_address: true,
        valid_lifetime: 7200,
        preferred_lifetime: 3600,
        prefix: v6(HA6),
    };
    let home_agents = [v6(HA6).octets(), v6("2001:db8:1::2").octets()].concat();
    let to = |src: &str, dst: &str, m: Icmpv6Repr| {
        eth_ip(&ipv6(
            src,
            dst,
            next_header::ICMPV6,
            64,
            &icmp6(src, dst, m),
        ))
    };
    vec![
        Frame::new(
            "ICMPv6 port unreachable",
            to(
                HOA6,
                CN6,
                Icmpv6Repr::DstUnreachable {
                    code: 4,
                    invoking: &quoted,
                },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6:ipv6:udp:data")
        .field("icmpv6.type", [1])
        .field("icmpv6.code", [4])
        .field("ipv6.src", [HOA6, CN6])
        .field("ipv6.hlim", [64, 61])
        .field("udp.checksum.status", [GOOD])
        .field("icmpv6.checksum.status", [GOOD]),
        Frame::new(
            "home agent address discovery request",
            to(
                HOA6,
                "2001:db8:1::fdff:ffff:ffff:fffe",
                Icmpv6Repr::HomeAgentDiscoveryRequest { identifier: 0x4242 },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6")
        .field("icmpv6.type", [144])
        .field("icmpv6.mip6.identifier", [0x4242])
        .field("icmpv6.checksum.status", [GOOD]),
        Frame::new(
            "home agent address discovery reply",
            to(
                HA6,
                COA6,
                Icmpv6Repr::HomeAgentDiscoveryReply {
                    identifier: 0x4242,
                    home_agents: &home_agents,
                },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6")
        .field("icmpv6.type", [145])
        .field("icmpv6.mip6.identifier", [0x4242])
        .field("icmpv6.mip6.home_agent_address", [HA6, "2001:db8:1::2"])
        .field("icmpv6.checksum.status", [GOOD]),
        Frame::new(
            "mobile prefix solicitation",
            to(
                HOA6,
                HA6,
                Icmpv6Repr::MobilePrefixSolicit { identifier: 77 },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6")
        .field("icmpv6.type", [146])
        .field("icmpv6.mip6.identifier", [77])
        .field("icmpv6.checksum.status", [GOOD]),
        Frame::new(
            "mobile prefix advertisement",
            to(
                HA6,
                HOA6,
                Icmpv6Repr::MobilePrefixAdvert {
                    identifier: 77,
                    managed: true,
                    other: false,
                    prefix_info: Some(prefix),
                },
            ),
        )
        .protocols("eth:ethertype:ipv6:icmpv6")
        .field("icmpv6.type", [147])
        .field("icmpv6.mip6.identifier", [77])
        .field("icmpv6.mip6.flag.m", [1])
        .field("icmpv6.mip6.flag.o", [0])
        .field("icmpv6.opt.type", [3])
        .field("icmpv6.opt.prefix", [HA6])
        .field("icmpv6.opt.prefix.valid_lifetime", [7200])
        .field("icmpv6.checksum.status", [GOOD]),
    ]
}

// --- Mobility Header -----------------------------------------------------------------------

/// A Mobility Header frame from `src` to `dst` through `ext` (extension headers whose
/// first next header is `first`), the checksum over `pseudo`; with the fields every
/// Mobility Header frame must decode to.
struct MhFrame<'a> {
    name: &'a str,
    src: &'a str,
    dst: &'a str,
    pseudo: (&'a str, &'a str),
    message: MhRepr<'a>,
}

fn mh_frame(f: MhFrame) -> Frame {
    let mh = mobility_header(f.pseudo.0, f.pseudo.1, f.message);
    let (first, ext, stack) = if f.pseudo.0 != f.src {
        let dest = options_header(Ipv6OptionsRepr {
            next_header: next_header::MOBILITY,
            home_address: Some(v6(f.pseudo.0)),
            ..Default::default()
        });
        (next_header::DEST_OPTS, dest, "ipv6.dstopts:")
    } else if f.pseudo.1 != f.dst {
        (
            next_header::ROUTING,
            type2_routing(next_header::MOBILITY, f.pseudo.1),
            "ipv6.routing:",
        )
    } else {
        (next_header::MOBILITY, Vec::new(), "")
    };
    let packet = ipv6(f.src, f.dst, first, 64, &[&ext[..], &mh[..]].concat());
    Frame::new(f.name, eth_ip(&packet))
        .protocols(&format!("eth:ethertype:ipv6:{stack}mipv6"))
        .field("ipv6.src", [f.src])
        .field("ipv6.dst", [f.dst])
        .field("mip6.proto", [next_header::NO_NEXT])
        .field("mip6.hlen", [mh.len() / 8 - 1])
        .field("mip6.mhtype", [f.message.mh_type()])
        .field(
            "mip6.csum",
            [independent_mh_checksum(f.pseudo.0, f.pseudo.1, &mh)],
        )
}

fn mobility_header_frames() -> Vec<Frame> {
    let none = MobilityOptionsRepr::default();
    let home_cookie = [1, 2, 3, 4, 5, 6, 7, 8];
    let care_of_cookie = [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18];
    let authorization = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
    ];
    let authenticator = [0xcc; 12];
    let vendor_data = [0xde, 0xad, 0xbe, 0xef, 0x01, 0x02];
    let route_optimisation = BindingUpdate {
        sequence: 0x1234,
        acknowledge: true,
        home_registration: false,
        link_local_compatibility: false,
        key_management_mobility_capability: true,
        map_registration: false,
        lifetime: 60,
        options: MobilityOptionsRepr {
            alternate_care_of_address: Some(v6("2001:db8:2::200")),
            nonce_indices: Some(NonceIndices {
                home_nonce_index: 0x0102,
                care_of_nonce_index: 0x0304,
            }),
            binding_authorization_data: Some(authorization),
            ..Default::default()
        },
    };
    let home_registration = BindingUpdate {
        sequence: 2,
        acknowledge: true,
        home_registration: true,
        link_local_compatibility: true,
        key_management_mobility_capability: false,
        map_registration: true,
        lifetime: 150,
        options: MobilityOptionsRepr {
            mobile_node_identifier: Some(MobileNodeIdentifier {
                subtype: mobile_node_identifier_subtype::NAI,
                identifier: b"mn1@example.org",
            }),
            vendor_specific: Some(VendorSpecific {
                vendor_id: 32473,
                subtype: 7,
                data: &vendor_data,
            }),
            replay_protection: Some(NTP_TIMESTAMP),
            message_authentication: Some(MessageAuthentication {
                subtype: authentication_subtype::MN_HA,
                spi: 0x100,
                authentication_data: &authenticator,
            }),
            ..Default::default()
        },
    };
    let acknowledgement = BindingAcknowledgement {
        status: binding_ack_status::ACCEPTED,
        key_management_mobility_capability: true,
        sequence: 2,
        lifetime: 150,
        options: MobilityOptionsRepr {
            binding_refresh_advice: Some(75),
            ..Default::default()
        },
    };
    let refused = BindingAcknowledgement {
        status: binding_ack_status::SEQUENCE_NUMBER_OUT_OF_WINDOW,
        key_management_mobility_capability: false,
        sequence: 0x1235,
        lifetime: 0,
        options: none,
    };
    vec![
        mh_frame(MhFrame {
            name: "binding refresh request",
            src: CN6,
            dst: COA6,
            pseudo: (CN6, HOA6),
            message: MhRepr::BindingRefreshRequest { options: none },
        }),
        mh_frame(MhFrame {
            name: "home test init",
            src: HOA6,
            dst: CN6,
            pseudo: (HOA6, CN6),
            message: MhRepr::HomeTestInit {
                cookie: home_cookie,
                options: none,
            },
        })
        .field("mip6.hoti.cookie", ["0x0102030405060708"]),
        mh_frame(MhFrame {
            name: "care-of test init",
            src: COA6,
            dst: CN6,
            pseudo: (COA6, CN6),
            message: MhRepr::CareOfTestInit {
                cookie: care_of_cookie,
                options: none,
            },
        })
        .field("mip6.coti.cookie", ["0x1112131415161718"]),
        mh_frame(MhFrame {
            name: "home test",
            src: CN6,
            dst: HOA6,
            pseudo: (CN6, HOA6),
            message: MhRepr::HomeTest {
                nonce_index: 7,
                cookie: home_cookie,
                keygen_token: [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8],
                options: none,
            },
        })
        .field("mip6.hot.nindex", [7])
        .field("mip6.hot.cookie", ["0x0102030405060708"])
        .field("mip6.hot.token", ["0xa1a2a3a4a5a6a7a8"]),
        mh_frame(MhFrame {
            name: "care-of test",
            src: CN6,
            dst: COA6,
            pseudo: (CN6, COA6),
            message: MhRepr::CareOfTest {
                nonce_index: 9,
                cookie: care_of_cookie,
                keygen_token: [0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8],
                options: none,
            },
        })
        .field("mip6.cot.nindex", [9])
        .field("mip6.cot.cookie", ["0x1112131415161718"])
        // tshark shows the care-of keygen token with the home keygen token's field.
        .field("mip6.hot.token", ["0xb1b2b3b4b5b6b7b8"]),
        mh_frame(MhFrame {
            name: "binding update to a correspondent",
            src: COA6,
            dst: CN6,
            pseudo: (HOA6, CN6),
            message: MhRepr::BindingUpdate(route_optimisation),
        })
        .field("ipv6.opt.mipv6.home_address", [HOA6])
        .field("mip6.bu.seqnr", [0x1234])
        .field("mip6.bu.a_flag", [1])
        .field("mip6.bu.h_flag", [0])
        .field("mip6.bu.l_flag", [0])
        .field("mip6.bu.k_flag", [1])
        .field("mip6.bu.m_flag", [0])
        .field("mip6.bu.lifetime", [60])
        // Option lengths in order: PadN (to 8n+6), Alternate Care-of Address, Nonce
        // Indices, PadN (to 8n+2), Binding Authorization Data.
        .field("mip6.mobility_opt.len", [0, 16, 4, 2, 12])
        .field("mip6.acoa.acoa", ["2001:db8:2::200"])
        .field("mip6.ni.hni", [0x0102])
        .field("mip6.ni.cni", [0x0304])
        .field("mip6.bad.auth", [hex(&authorization)]),
        // tshark 4.0 shows the RFC 4285 subtype with a table of algorithms, not the
        // subtypes (so 1, MN-HA, reads "Unknown"), and the Authentication Data and the
        // vendor-specific Data two bytes short: it subtracts the type and length bytes
        // twice. The values checked are what it decodes.
        mh_frame(MhFrame {
            name: "home registration binding update",
            src: COA6,
            dst: HA6,
            pseudo: (HOA6, HA6),
            message: MhRepr::BindingUpdate(home_registration),
        })
        .field("mip6.bu.seqnr", [2])
        .field("mip6.bu.a_flag", [1])
        .field("mip6.bu.h_flag", [1])
        .field("mip6.bu.l_flag", [1])
        .field("mip6.bu.k_flag", [0])
        .field("mip6.bu.m_flag", [1])
        .field("mip6.bu.lifetime", [150])
        // Mobile Node Identifier, Vendor-Specific (4n+2), PadN (to 8n+2), Replay
        // Protection, Pad1 (to 4n+1), Authentication.
        .field("mip6.mobility_opt.len", [16, 11, 5, 8, 17])
        .field("mip6.mnid.subtype", [1])
        .field("mip6.mnid.identifier", ["mn1@example.org"])
        .field("mip6.vsm.vendorId", [32473])
        .field("mip6.vsm.subtype", [7])
        .field(
            "mip6.vsm.data",
            [hex(&vendor_data[..vendor_data.len() - 2])],
        )
        .field("mip6.mseg_id.timestamp", [NTP_TIMESTAMP_AS_UNIX_TEXT])
        .field("mip6.auth.subtype", [1])
        .field("mip6.auth.mobility_spi", [0x100])
        .field("mip6.auth.auth_data", [hex(&authenticator[..10])]),
        mh_frame(MhFrame {
            name: "binding acknowledgement",
            src: HA6,
            dst: COA6,
            pseudo: (HA6, HOA6),
            message: MhRepr::BindingAcknowledgement(acknowledgement),
        })
        .field("ipv6.routing.mipv6.home_address", [HOA6])
        .field("mip6.ba.status", [0])
        .field("mip6.ba.k_flag", [1])
        .field("mip6.ba.seqnr", [2])
        .field("mip6.ba.lifetime", [150])
        .field("mip6.bra.interval", [75]),
        mh_frame(MhFrame {
            name: "refusing binding acknowledgement",
            src: CN6,
            dst: COA6,
            pseudo: (CN6, COA6),
            message: MhRepr::BindingAcknowledgement(refused),
        })
        .field("mip6.ba.status", [135])
        .field("mip6.ba.k_flag", [0])
        .field("mip6.ba.seqnr", [0x1235])
        .field("mip6.ba.lifetime", [0]),
        mh_frame(MhFrame {
            name: "binding error",
            src: CN6,
            dst: COA6,
            pseudo: (CN6, COA6),
            message: MhRepr::BindingError {
                status: binding_error_status::UNKNOWN_BINDING_FOR_HOME_ADDRESS,
                home_address: v6(HOA6),
                options: none,
            },
        })
        .field("mip6.be.status", [1])
        .field("mip6.be.haddr", [HOA6]),
    ]
}

// --- Mobile IPv4 ---------------------------------------------------------------------------

/// Emits `extensions` one after the other, as a registration message carries them.
fn registration_extensions(extensions: &[RegistrationExtension]) -> Vec<u8> {
    let len = extensions.iter().map(|e| e.buffer_len()).sum();
    let mut b = vec![0u8; len];
    let mut at = 0;
    for e in extensions {
        e.emit(&mut b[at..]).unwrap();
        at += e.buffer_len();
    }
    b
}

fn registration_request(
    src: Ipv4Addr,
    flags: RegistrationFlags,
    extensions: &[RegistrationExtension],
) -> Vec<u8> {
    let ext = registration_extensions(extensions);
    let repr = RegistrationRequestRepr {
        flags,
        lifetime: 300,
        home_address: HOME_ADDRESS,
        home_agent: HOME_AGENT,
        care_of_address: CARE_OF,
        identification: NTP_TIMESTAMP,
        extensions: RegistrationExtensions::new(&ext, REQUEST_LEN).unwrap(),
    };
    let mut m = vec![0u8; repr.buffer_len()];
    repr.emit(&mut RegistrationRequestPacket::new_unchecked(&mut m[..]));
    udp4(src, HOME_AGENT, (mip4::PORT, mip4::PORT), 64, &m)
}

fn registration_reply(
    code: ReplyCode,
    lifetime: u16,
    extensions: &[RegistrationExtension],
) -> Vec<u8> {
    let ext = registration_extensions(extensions);
    let repr = RegistrationReplyRepr {
        code,
        lifetime,
        home_address: HOME_ADDRESS,
        home_agent: HOME_AGENT,
        identification: NTP_TIMESTAMP,
        extensions: RegistrationExtensions::new(&ext, REPLY_LEN).unwrap(),
    };
    let mut m = vec![0u8; repr.buffer_len()];
    repr.emit(&mut RegistrationReplyPacket::new_unchecked(&mut m[..]));
    udp4(HOME_AGENT, CARE_OF, (mip4::PORT, mip4::PORT), 64, &m)
}

fn mobile_ipv4_frames() -> Vec<Frame> {
    let mn_ha = [0x5a; 16];
    let mn_fa = [0x6b; 16];
    let fa_ha = [0x7c; 16];
    let mn_aaa = [0x8d; 16];
    let auth = |ext_type, spi, authenticator| RegistrationExtension::Authentication {
        ext_type,
        spi,
        authenticator,
    };
    // RFC 3115: Vendor/Org-ID, Vendor-CVSE-Type, Vendor-CVSE-Value (the Reserved byte
    // sits where a long extension has its Sub-Type).
    let cvse = [&32473u32.to_be_bytes()[..], &[0x00, 0x05], b"cvse"].concat();
    // RFC 3012 §6: Generalized Mobile IP Authentication, subtype 1 (MN-AAA): SPI, then
    // the authenticator.
    let generalized = [&0x200u32.to_be_bytes()[..], &mn_aaa].concat();
    // RFC 3543 §3.1: I bit, reserved, timestamp.
    let revocation = [0x80, 0x00, 0x00, 0x00, 0x12, 0x34];

    let request = |name: &str, packet: Vec<u8>, flags: &str| {
        Frame::new(name, eth_ip(&packet))
            .protocols("eth:ethertype:ip:udp:mip")
            .field("udp.srcport", [434])
            .field("udp.dstport", [434])
            .field("udp.checksum.status", [GOOD])
            .field("mip.type", [1])
            .field("mip.flags", [flags])
            .field("mip.life", [300])
            .field("mip.homeaddr", [HOME_ADDRESS])
            .field("mip.haaddr", [HOME_AGENT])
            .field("mip.coa", [CARE_OF])
            .field("mip.ident", [NTP_TIMESTAMP_TEXT])
    };
    vec![
        request(
            "registration request, co-located care-of address",
            registration_request(
                CARE_OF,
                RegistrationFlags(
                    RegistrationFlags::DECAPSULATION_BY_MOBILE_NODE.0
                        | RegistrationFlags::GRE_ENCAPSULATION.0
                        | RegistrationFlags::REVERSE_TUNNELING.0,
                ),
                &[
                    RegistrationExtension::Nai(b"mn1@example.com"),
                    auth(
                        RegistrationExtensionType::MN_HA_AUTHENTICATION,
                        0x100,
                        &mn_ha,
                    ),
                ],
            ),
            "0x2a",
        )
        .field("mip.d", [1])
        .field("mip.g", [1])
        .field("mip.t", [1])
        .field("mip.m", [0])
        .field("mip.ext.type", [131, 32])
        .field("mip.nai", ["mn1@example.com"])
        .field("mip.auth.spi", ["0x00000100"])
        .field("mip.auth.auth", [hex(&mn_ha)]),
        request(
            "registration request relayed by a foreign agent",
            registration_request(
                Ipv4Addr::new(192, 0, 2, 254),
                RegistrationFlags(
                    RegistrationFlags::SIMULTANEOUS_BINDINGS.0
                        | RegistrationFlags::BROADCAST.0
                        | RegistrationFlags::MINIMAL_ENCAPSULATION.0,
                ),
                &[
                    auth(
                        RegistrationExtensionType::MN_HA_AUTHENTICATION,
                        0x100,
                        &mn_ha,
                    ),
                    auth(
                        RegistrationExtensionType::MN_FA_AUTHENTICATION,
                        0x101,
                        &mn_fa,
                    ),
                    auth(
                        RegistrationExtensionType::FA_HA_AUTHENTICATION,
                        0x102,
                        &fa_ha,
                    ),
                ],
            ),
            "0xd0",
        )
        .field("mip.s", [1])
        .field("mip.b", [1])
        .field("mip.m", [1])
        .field("mip.ext.type", [32, 33, 34])
        .field("mip.auth.spi", ["0x00000100", "0x00000101", "0x00000102"])
        .field("mip.auth.auth", [hex(&mn_ha), hex(&mn_fa), hex(&fa_ha)]),
        request(
            "registration request with AAA, vendor and revocation extensions",
            registration_request(
                CARE_OF,
                RegistrationFlags::REVERSE_TUNNELING,
                &[
                    RegistrationExtension::Nai(b"mn2@example.com"),
                    RegistrationExtension::Long {
                        ext_type: RegistrationExtensionType::CRITICAL_VENDOR_SPECIFIC,
                        sub_type: 0,
                        data: &cvse,
                    },
                    RegistrationExtension::Other {
                        ext_type: RegistrationExtensionType::REVOCATION_SUPPORT,
                        data: &revocation,
                    },
                    RegistrationExtension::Long {
                        ext_type: RegistrationExtensionType::GENERALIZED_AUTHENTICATION,
                        sub_type: 1,
                        data: &generalized,
                    },
                ],
            ),
            "0x02",
        )
        .field("mip.ext.type", [131, 38, 137, 36])
        .field("mip.nai", ["mn2@example.com"])
        .field("mip.ext.cvse.vendor_id", [32473])
        .field("mip.ext.cvse.vendor_type", ["0x0005"])
        .field("mip.ext.cvse.vendor_value", [hex(b"cvse")])
        .field("mip.ext.rev.i", [1])
        .field("mip.ext.rev.tstamp", [0x1234])
        .field("mip.ext.auth.subtype", [1])
        .field("mip.auth.spi", ["0x00000200"])
        .field("mip.auth.auth", [hex(&mn_aaa)]),
        Frame::new(
            "registration reply, accepted",
            eth_ip(&registration_reply(
                ReplyCode::ACCEPTED,
                300,
                &[auth(
                    RegistrationExtensionType::MN_HA_AUTHENTICATION,
                    0x100,
                    &mn_ha,
                )],
            )),
        )
        .protocols("eth:ethertype:ip:udp:mip")
        .field("udp.checksum.status", [GOOD])
        .field("mip.type", [3])
        .field("mip.code", [0])
        .field("mip.life", [300])
        .field("mip.homeaddr", [HOME_ADDRESS])
        .field("mip.haaddr", [HOME_AGENT])
        .field("mip.ident", [NTP_TIMESTAMP_TEXT])
        .field("mip.ext.type", [32])
        .field("mip.auth.spi", ["0x00000100"])
        .field("mip.auth.auth", [hex(&mn_ha)]),
        Frame::new(
            "registration reply, identification mismatch",
            eth_ip(&registration_reply(
                ReplyCode::HA_IDENTIFICATION_MISMATCH,
                0,
                &[auth(
                    RegistrationExtensionType::MN_HA_AUTHENTICATION,
                    0x100,
                    &mn_ha,
                )],
            )),
        )
        .protocols("eth:ethertype:ip:udp:mip")
        .field("mip.type", [3])
        .field("mip.code", [133])
        .field("mip.life", [0]),
        agent_advertisement_frame(),
        Frame::new(
            "agent solicitation",
            eth_ip(&icmp4(
                CARE_OF,
                Ipv4Addr::new(224, 0, 0, 11),
                1,
                Icmpv4Repr::RouterSolicitation,
            )),
        )
        .protocols("eth:ethertype:ip:icmp")
        .field("icmp.type", [10])
        .field("icmp.code", [0])
        .field("ip.ttl", [1])
        .field("icmp.checksum.status", [GOOD]),
    ]
}

fn agent_advertisement_frame() -> Frame {
    let care_of = [CARE_OF.octets(), Ipv4Addr::new(192, 0, 2, 2).octets()].concat();
    let challenge = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    let flags = AgentAdvertisementFlags(
        AgentAdvertisementFlags::REGISTRATION_REQUIRED.0
            | AgentAdvertisementFlags::FOREIGN_AGENT.0
            | AgentAdvertisementFlags::MINIMAL_ENCAPSULATION.0
            | AgentAdvertisementFlags::GRE_ENCAPSULATION.0
            | AgentAdvertisementFlags::REVERSE_TUNNELING.0,
    );
    let extensions = [
        AgentExtension::AgentAdvertisement(AgentAdvertisementRepr {
            sequence_number: 7,
            registration_lifetime: 600,
            flags,
            care_of_addresses: CareOfAddresses::new(&care_of).unwrap(),
        }),
        AgentExtension::PrefixLengths(&[24]),
        // RFC 3012 §3: the Mobile-Foreign Agent Challenge.
        AgentExtension::Other {
            ext_type: AgentExtensionType(24),
            data: &challenge,
        },
        AgentExtension::Padding,
    ];
    let mut ext = vec![0u8; extensions.iter().map(|e| e.buffer_len()).sum()];
    let mut at = 0;
    for e in &extensions {
        e.emit(&mut ext[at..]).unwrap();
        at += e.buffer_len();
    }
    let entries = [&CARE_OF.octets()[..], &0i32.to_be_bytes()].concat();
    let message = Icmpv4Repr::RouterAdvertisement {
        code: RouterAdvertisementCode::MOBILITY_AGENT_ONLY,
        lifetime: 1800,
        addresses: RouterAddresses::new(&entries, 2).unwrap(),
        extensions: &ext,
    };
    let packet = icmp4(CARE_OF, Ipv4Addr::new(224, 0, 0, 1), 1, message);
    Frame::new("agent advertisement", eth_ip(&packet))
        .protocols("eth:ethertype:ip:icmp")
        .field("icmp.type", [9])
        .field("icmp.code", [16])
        .field("icmp.num_addrs", [1])
        .field("icmp.addr_entry_size", [2])
        .field("icmp.lifetime", [1800])
        .field("icmp.router_address", [CARE_OF])
        .field("icmp.pref_level", [0])
        .field("icmp.mip.type", [16, 19, 24, 0])
        .field("icmp.mip.seq", [7])
        .field("icmp.mip.life", [600])
        .field("icmp.mip.flags", ["0x9d00"])
        .field("icmp.mip.r", [1])
        .field("icmp.mip.h", [0])
        .field("icmp.mip.f", [1])
        .field("icmp.mip.m", [1])
        .field("icmp.mip.g", [1])
        .field("icmp.mip.rt", [1])
        .field("icmp.mip.coa", [CARE_OF, Ipv4Addr::new(192, 0, 2, 2)])
        .field("icmp.mip.prefixlength", [24])
        .field("icmp.mip.challenge", [hex(&challenge)])
        .field("icmp.checksum.status", [GOOD])
}

// --- tunnels -------------------------------------------------------------------------------

const ENDS: Endpoints4 = Endpoints4 {
    entry: HOME_AGENT,
    exit: CARE_OF,
};

fn ends6() -> Endpoints6 {
    Endpoints6 {
        entry: v6("2001:db8:a::1"),
        exit: v6("2001:db8:c0a::1"),
    }
}

fn settings(encapsulation_limit: Option<u8>) -> TunnelSettings {
    TunnelSettings {
        outer_ttl: 64,
        path_mtu: 1500,
        encapsulation_limit,
    }
}

/// A UDP datagram from the correspondent to the home address, `len` bytes of IP packet.
fn inner_v4(ttl: u8, dscp: u8, dont_frag: bool, len: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..len - 28).map(|i| i as u8).collect();
    let datagram = udp(
        PseudoHeader::V4 {
            src: CORRESPONDENT,
            dst: HOME_ADDRESS,
        },
        5000,
        6000,
        &body,
    );
    let repr = Ipv4Repr {
        ttl,
        dscp,
        ident: 0x4321,
        dont_frag,
        ..ipv4_repr(CORRESPONDENT, HOME_ADDRESS, IpProtocol::UDP, datagram.len())
    };
    ipv4(repr, &datagram)
}

/// A UDP datagram from a correspondent to the IPv6 home address, `len` bytes of IP
/// packet, after `ext` (extension headers whose first next header is `first`).
fn inner_v6(hop_limit: u8, first: u8, ext: &[u8], len: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..len - 48 - ext.len()).map(|i| i as u8).collect();
    let datagram = udp(
        PseudoHeader::V6 {
            src: v6("2001:db8:cafe::9"),
            dst: v6(HOA6),
        },
        5000,
        6000,
        &body,
    );
    ipv6(
        "2001:db8:cafe::9",
        HOA6,
        first,
        hop_limit,
        &[ext, &datagram[..]].concat(),
    )
}

fn ipv4_tunnel_frames() -> Vec<Frame> {
    let pool = MemPool::new(16);
    let mut frames = Vec::new();

    let mut p = pool.packet(&inner_v4(64, 46, true, 60)).unwrap();
    assert_eq!(
        ipip::encapsulate(&mut p, ENDS, &settings(None), 0x1234),
        Ok(Encapsulated::Ready)
    );
    frames.push(
        Frame::new("IPv4 in IPv4", eth_ip(p.data()))
            .protocols("eth:ethertype:ip:ip:udp:data")
            .field("ip.src", [HOME_AGENT, CORRESPONDENT])
            .field("ip.dst", [CARE_OF, HOME_ADDRESS])
            .field("ip.proto", [4, 17])
            .field("ip.ttl", [64, 63])
            .field("ip.id", ["0x1234", "0x4321"])
            .field("ip.dsfield.dscp", [46, 46])
            .field("ip.flags.df", [1, 1])
            .field("ip.checksum.status", [GOOD, GOOD])
            .field("udp.checksum.status", [GOOD]),
    );

    // Too big for the tunnel MTU but fragmentable: the outer packet goes in two fragments,
    // which tshark reassembles in the second frame.
    let mut p = pool.packet(&inner_v4(64, 0, false, 1600)).unwrap();
    assert_eq!(
        ipip::encapsulate(&mut p, ENDS, &settings(None), 0x1235),
        Ok(Encapsulated::Fragment { mtu: 1500 })
    );
    let mut second = pool.packet(&[]).unwrap();
    assert_eq!(ipip::fragment_outer(&mut p, 1500, &mut second), Ok(true));
    frames.push(
        Frame::new("IPv4 in IPv4, first outer fragment", eth_ip(p.data()))
            .protocols("eth:ethertype:ip:data")
            .field("ip.len", [1500])
            .field("ip.id", ["0x1235"])
            .field("ip.flags.mf", [1])
            .field("ip.frag_offset", [0])
            .field("ip.checksum.status", [GOOD]),
    );
    frames.push(
        Frame::new("IPv4 in IPv4, last outer fragment", eth_ip(second.data()))
            .protocols("eth:ethertype:ip:ip:udp:data")
            .field("ip.len", [140, 1600])
            .field("ip.id", ["0x1235", "0x4321"])
            .field("ip.flags.mf", [0, 0])
            .field("ip.frag_offset", [185, 0])
            .field("ip.reassembled.length", [1600])
            .field("ip.checksum.status", [GOOD, GOOD])
            .field("udp.checksum.status", [GOOD]),
    );

    for (ends, source) in [
        (ENDS, Some(CORRESPONDENT)),
        (
            Endpoints4 {
                entry: CORRESPONDENT,
                exit: CARE_OF,
            },
            None,
        ),
    ] {
        let inner = inner_v4(64, 0, false, 60);
        let mut p = pool.packet(&inner).unwrap();
        assert_eq!(
            minimal_tunnel::encapsulate(&mut p, ends, &settings(None)),
            Ok(Encapsulated::Ready)
        );
        frames.push(minimal_frame(p.data(), &inner, ends, source));
    }

    let gre_v4 = inner_v4(64, 0, false, 60);
    let gre_v6 = inner_v6(64, next_header::UDP, &[], 60);
    for (inner, proto, stack) in [(gre_v4, "0x0800", "ip"), (gre_v6, "0x86dd", "ipv6")] {
        let mut p = pool.packet(&inner).unwrap();
        assert_eq!(
            gre_tunnel::encapsulate(&mut p, ENDS, &settings(None), 0x1236),
            Ok(Encapsulated::Ready)
        );
        let frame = Frame::new(format!("GRE carrying {stack}"), eth_ip(p.data()))
            .protocols(&format!("eth:ethertype:ip:gre:{stack}:udp:data"))
            .field("gre.proto", [proto])
            .field("gre.flags.checksum", [0])
            .field("gre.flags.key", [0])
            .field("gre.flags.sequence_number", [0])
            .field("gre.flags.version", [0])
            .field("udp.checksum.status", [GOOD]);
        frames.push(match stack {
            "ip" => frame
                .field("ip.src", [HOME_AGENT, CORRESPONDENT])
                .field("ip.proto", [47, 17])
                .field("ip.ttl", [64, 63]),
            _ => frame
                .field("ip.src", [HOME_AGENT])
                .field("ip.proto", [47])
                .field("ipv6.src", ["2001:db8:cafe::9"])
                .field("ipv6.hlim", [63]),
        });
    }
    frames.push(gre_with_checksum_key_sequence());

    // The ICMP errors the IPv4 entry point answers with.
    let mut reply = [0u8; 1500];
    let mut p = pool.packet(&inner_v4(1, 0, false, 60)).unwrap();
    let error = ipip::encapsulate(&mut p, ENDS, &settings(None), 0x1237).unwrap_err();
    let kind = IcmpErrorKind::for_error(error).unwrap();
    let n = icmp_error_v4(p.data(), &mut reply, kind, HOME_AGENT, 0x77).unwrap();
    frames.push(
        Frame::new(
            "ICMP time exceeded from the entry point",
            eth_ip(&reply[..n]),
        )
        .protocols("eth:ethertype:ip:icmp:ip:udp:data")
        .field("ip.src", [HOME_AGENT, CORRESPONDENT])
        .field("ip.dst", [CORRESPONDENT, HOME_ADDRESS])
        .field("ip.ttl", [64, 1])
        .field("icmp.type", [11])
        .field("icmp.code", [0])
        .field("icmp.checksum.status", [GOOD])
        .field("udp.checksum.status", [GOOD]),
    );
    let mut p = pool.packet(&inner_v4(64, 0, true, 1600)).unwrap();
    let error = ipip::encapsulate(&mut p, ENDS, &settings(None), 0x1238).unwrap_err();
    let kind = IcmpErrorKind::for_error(error).unwrap();
    let n = icmp_error_v4(p.data(), &mut reply, kind, HOME_AGENT, 0x78).unwrap();
    frames.push(
        Frame::new(
            "ICMP fragmentation needed from the entry point",
            eth_ip(&reply[..n]),
        )
        .protocols("eth:ethertype:ip:icmp:ip:udp:data")
        .field("ip.len", [576, 1600])
        .field("icmp.type", [3])
        .field("icmp.code", [4])
        .field("icmp.mtu", [1480])
        .field("icmp.checksum.status", [GOOD]),
    );
    frames
}

/// tshark has no dissector for minimal encapsulation: it shows the forwarding header and
/// the original payload as data. They must be what RFC 2004 §3 lays out, written here by
/// hand: protocol, S bit, header checksum, original destination, original source if S.
fn minimal_frame(packet: &[u8], inner: &[u8], ends: Endpoints4, source: Option<Ipv4Addr>) -> Frame {
    let mut header = vec![17, if source.is_some() { 0x80 } else { 0 }, 0, 0];
    header.extend_from_slice(&HOME_ADDRESS.octets());
    if let Some(s) = source {
        header.extend_from_slice(&s.octets());
    }
    let sum = internet_checksum(&[&header]);
    header[2..4].copy_from_slice(&sum.to_be_bytes());
    let data = [&header[..], &inner[20..]].concat();
    let name = match source {
        Some(_) => "minimal encapsulation with the original source (S set)",
        None => "minimal encapsulation by the original source (S clear)",
    };
    Frame::new(name, eth_ip(packet))
        .protocols("eth:ethertype:ip:data")
        .field("ip.src", [ends.entry])
        .field("ip.dst", [CARE_OF])
        .field("ip.proto", [55])
        .field("ip.ttl", [63])
        .field("ip.id", ["0x4321"])
        .field("ip.len", [20 + data.len()])
        .field("ip.checksum.status", [GOOD])
        .field("data.data", [hex(&data)])
}

/// GRE with checksum, key and sequence number (RFC 2784 §2.5, RFC 2890), written with
/// the wire layer's `GreRepr` (the tunnel entry point sends none of the three).
fn gre_with_checksum_key_sequence() -> Frame {
    let inner = inner_v4(63, 0, false, 45);
    let repr = GreRepr {
        protocol_type: EtherType::IPV4,
        checksum_present: true,
        key: Some(0x0a01_0064),
        sequence_number: Some(7),
        payload_len: inner.len(),
    };
    let mut gre = vec![0u8; repr.buffer_len()];
    gre[repr.header_len()..].copy_from_slice(&inner);
    repr.emit(&mut GrePacket::new_unchecked(&mut gre[..]));
    let packet = ipv4(
        ipv4_repr(HOME_AGENT, CARE_OF, IpProtocol::GRE, gre.len()),
        &gre,
    );
    Frame::new(
        "GRE with checksum, key and sequence number",
        eth_ip(&packet),
    )
    .protocols("eth:ethertype:ip:gre:ip:udp:data")
    .field("gre.flags.checksum", [1])
    .field("gre.flags.key", [1])
    .field("gre.flags.sequence_number", [1])
    .field("gre.checksum.status", [GOOD])
    .field("gre.key", [hex32(0x0a01_0064)])
    .field("gre.sequence_number", [7])
    .field("gre.proto", [hex16(0x0800)])
    .field("ip.src", [HOME_AGENT, CORRESPONDENT])
    .field("ip.checksum.status", [GOOD, GOOD])
    .field("udp.checksum.status", [GOOD])
}

fn ipv6_tunnel_frames() -> Vec<Frame> {
    let pool = MemPool::new(16);
    let mut frames = Vec::new();
    let entry = ends6().entry.to_string();
    let exit = ends6().exit.to_string();

    let mut p = pool
        .packet(&inner_v6(64, next_header::UDP, &[], 80))
        .unwrap();
    assert_eq!(
        ip6ip6::encapsulate(&mut p, &ends6(), &settings(Some(4)), 0),
        Ok(Encapsulated::Ready)
    );
    frames.push(
        Frame::new(
            "IPv6 in IPv6 with a Tunnel Encapsulation Limit",
            eth_ip(p.data()),
        )
        .protocols("eth:ethertype:ipv6:ipv6.dstopts:ipv6:udp:data")
        .field("ipv6.src", [entry.as_str(), "2001:db8:cafe::9"])
        .field("ipv6.dst", [exit.as_str(), HOA6])
        .field("ipv6.nxt", [next_header::DEST_OPTS, next_header::UDP])
        .field("ipv6.dstopts.nxt", [next_header::IPV6])
        .field("ipv6.opt.tel", [4])
        .field("ipv6.hlim", [64, 63])
        .field("udp.checksum.status", [GOOD]),
    );

    let mut p = pool
        .packet(&inner_v6(64, next_header::UDP, &[], 80))
        .unwrap();
    assert_eq!(
        ip6ip6::encapsulate(&mut p, &ends6(), &settings(None), 0xabcde),
        Ok(Encapsulated::Ready)
    );
    frames.push(
        Frame::new("IPv6 in IPv6 with a flow label", eth_ip(p.data()))
            .protocols("eth:ethertype:ipv6:ipv6:udp:data")
            .field("ipv6.nxt", [next_header::IPV6, next_header::UDP])
            .field("ipv6.flow", ["0x0abcde", "0x000000"])
            .field("ipv6.hlim", [64, 63])
            .field("udp.checksum.status", [GOOD]),
    );

    let mut p = pool.packet(&inner_v4(64, 0, false, 60)).unwrap();
    assert_eq!(
        mixed::encapsulate_4in6(&mut p, &ends6(), &settings(Some(4)), 0),
        Ok(Encapsulated::Ready)
    );
    frames.push(
        Frame::new("IPv4 in IPv6", eth_ip(p.data()))
            .protocols("eth:ethertype:ipv6:ipv6.dstopts:ip:udp:data")
            .field("ipv6.src", [entry.as_str()])
            .field("ipv6.dstopts.nxt", [next_header::IPV4])
            .field("ipv6.opt.tel", [4])
            .field("ip.src", [CORRESPONDENT])
            .field("ip.ttl", [63])
            .field("ip.checksum.status", [GOOD])
            .field("udp.checksum.status", [GOOD]),
    );

    let mut p = pool
        .packet(&inner_v6(64, next_header::UDP, &[], 80))
        .unwrap();
    assert_eq!(
        mixed::encapsulate_6in4(&mut p, &ENDS, &settings(None), 0x1239),
        Ok(Encapsulated::Ready)
    );
    frames.push(
        Frame::new("IPv6 in IPv4", eth_ip(p.data()))
            .protocols("eth:ethertype:ip:ipv6:udp:data")
            .field("ip.src", [HOME_AGENT])
            .field("ip.dst", [CARE_OF])
            .field("ip.proto", [41])
            .field("ip.id", ["0x1239"])
            .field("ip.checksum.status", [GOOD])
            .field("ipv6.src", ["2001:db8:cafe::9"])
            .field("ipv6.hlim", [63])
            .field("udp.checksum.status", [GOOD]),
    );

    // The ICMPv6 errors the IPv6 entry point answers with.
    let mut reply = [0u8; 1500];
    let mut error_frame = |name: &str, inner: Vec<u8>| {
        let mut p = pool.packet(&inner).unwrap();
        let error = ip6ip6::encapsulate(&mut p, &ends6(), &settings(Some(4)), 0).unwrap_err();
        let kind = Icmpv6Error::for_error(&error).unwrap();
        let n = icmp_error_v6(&inner, &mut reply, ends6().entry, kind).unwrap();
        Frame::new(name, eth_ip(&reply[..n]))
            .field("ipv6.src", [entry.as_str(), "2001:db8:cafe::9"])
            .field("ipv6.dst", ["2001:db8:cafe::9", HOA6])
            .field("icmpv6.checksum.status", [GOOD])
    };
    frames.push(
        error_frame(
            "ICMPv6 packet too big from the entry point",
            inner_v6(64, next_header::UDP, &[], 1500),
        )
        .protocols("eth:ethertype:ipv6:icmpv6:ipv6:udp:data")
        .field("icmpv6.type", [2])
        .field("icmpv6.mtu", [1452])
        .field("ipv6.plen", [1240, 1460]),
    );
    frames.push(
        error_frame(
            "ICMPv6 time exceeded from the entry point",
            inner_v6(1, next_header::UDP, &[], 80),
        )
        .protocols("eth:ethertype:ipv6:icmpv6:ipv6:udp:data")
        .field("icmpv6.type", [3])
        .field("icmpv6.code", [0])
        .field("ipv6.hlim", [64, 1])
        .field("udp.checksum.status", [GOOD]),
    );
    let limit = options_header(Ipv6OptionsRepr {
        next_header: next_header::UDP,
        tunnel_encapsulation_limit: Some(0),
        ..Default::default()
    });
    frames.push(
        error_frame(
            "ICMPv6 parameter problem, encapsulation limit 0",
            inner_v6(64, next_header::DEST_OPTS, &limit, 88),
        )
        .protocols("eth:ethertype:ipv6:icmpv6:ipv6:ipv6.dstopts:udp:data")
        .field("icmpv6.type", [4])
        .field("icmpv6.code", [0])
        .field("icmpv6.pointer", [44])
        .field("ipv6.opt.tel", [0])
        .field("udp.checksum.status", [GOOD]),
    );
    frames
}

// --- the tests -----------------------------------------------------------------------------

#[test]
fn link_layer_and_ipv4_frames_decode_as_built() {
    let mut frames = arp_frames();
    frames.push(vlan_frame());
    frames.extend(ipv4_frames());
    check(&frames);
}

#[test]
fn ipv6_extension_headers_and_icmpv6_decode_as_built() {
    let mut frames = ipv6_extension_frames();
    frames.extend(neighbor_discovery_frames());
    frames.extend(icmpv6_frames());
    check(&frames);
}

#[test]
fn every_mobility_header_message_and_option_decodes_as_built() {
    check(&mobility_header_frames());
}

#[test]
fn mobile_ipv4_registration_and_agent_discovery_decode_as_built() {
    check(&mobile_ipv4_frames());
}

#[test]
fn every_tunnel_encapsulation_and_icmp_error_decodes_as_built() {
    let mut frames = ipv4_tunnel_frames();
    frames.extend(ipv6_tunnel_frames());
    check(&frames);
}
