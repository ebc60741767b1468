//! Mobility Header vectors built by scapy (`tests/vectors/gen_mh.py`): every vector parses,
//! its Mobility Header checksum verifies over the pseudo-header of the home address (Home
//! Address option or type 2 routing header, RFC 6275 §6.1.1 and §6.3), the fields are the
//! ones scapy was given, and re-emitting it from the Reprs gives the same bytes.

use mipdp_dataplane::wire::checksum::ChecksumMode;
use mipdp_dataplane::wire::ipv6::{next_header, Ipv6Packet, Ipv6Repr, HEADER_LEN};
use mipdp_dataplane::wire::ipv6ext::{
    walk_chain, Ipv6OptionsHeader, Ipv6OptionsRepr, Ipv6RoutingHeader, Type2RoutingRepr,
};
use mipdp_dataplane::wire::mh::{
    binding_ack_status, binding_error_status, message_type, BindingAcknowledgement, BindingUpdate,
    MhRepr, MobilityHeader,
};
use mipdp_dataplane::wire::mh_options::{
    MessageAuthentication, MobileNodeIdentifier, MobilityOption, MobilityOptionsRepr, NonceIndices,
};
use mipdp_dataplane::wire::Error;
use std::net::Ipv6Addr;

const VECTORS: &str = include_str!("vectors/mh.txt");

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vector(name: &str) -> Vec<u8> {
    VECTORS
        .lines()
        .find_map(|l| {
            let (n, hex) = l.split_once(' ')?;
            (n == name).then(|| unhex(hex.trim()))
        })
        .unwrap_or_else(|| panic!("no vector {name}"))
}

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const HA: &str = "2001:db8:1::1";
const HOA: &str = "2001:db8:1::100";
const COA: &str = "2001:db8:2::100";
const CN: &str = "2001:db8:3::3";

/// A vector taken apart: the IPv6 header, where the Mobility Header starts, and the
/// addresses of its pseudo-header.
struct Parsed {
    ip: Ipv6Repr,
    mh_offset: usize,
    pseudo_src: Ipv6Addr,
    pseudo_dst: Ipv6Addr,
}

fn take_apart(bytes: &[u8]) -> Parsed {
    let packet = Ipv6Packet::new_checked(bytes).unwrap();
    let ip = Ipv6Repr::parse(&packet).unwrap();
    assert_eq!(ip.buffer_len(), bytes.len());
    let chain = walk_chain(ip.next_header, packet.payload()).unwrap();
    assert_eq!(chain.upper_layer, next_header::MOBILITY);
    Parsed {
        ip,
        mh_offset: HEADER_LEN + chain.upper_layer_offset,
        pseudo_src: chain.home_address.unwrap_or(ip.src_addr),
        pseudo_dst: chain.type2_home_address.unwrap_or(ip.dst_addr),
    }
}

/// Parses the Mobility Header of a vector after checking that its checksum verifies.
fn mh(bytes: &[u8]) -> MhRepr<'_> {
    let p = take_apart(bytes);
    let header = MobilityHeader::new_checked(&bytes[p.mh_offset..]).unwrap();
    assert_eq!(header.header_len(), bytes.len() - p.mh_offset);
    assert!(header.verify_checksum(&p.pseudo_src, &p.pseudo_dst));
    MhRepr::parse(&p.pseudo_src, &p.pseudo_dst, &header, ChecksumMode::Verify).unwrap()
}

/// Emits the packet again from the Reprs: fixed header, extension headers, Mobility Header.
fn reemit(bytes: &[u8]) -> Vec<u8> {
    let p = take_apart(bytes);
    let mut out = vec![0u8; bytes.len()];
    p.ip.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]))
        .unwrap();
    let mut nh = p.ip.next_header;
    let mut at = HEADER_LEN;
    while at < p.mh_offset {
        let (next, len) = match nh {
            next_header::DEST_OPTS => {
                let r =
                    Ipv6OptionsRepr::parse(&Ipv6OptionsHeader::new_checked(&bytes[at..]).unwrap())
                        .unwrap();
                r.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut out[at..]))
                    .unwrap();
                (r.next_header, r.header_len())
            }
            next_header::ROUTING => {
                let r =
                    Type2RoutingRepr::parse(&Ipv6RoutingHeader::new_checked(&bytes[at..]).unwrap())
                        .unwrap();
                r.emit(&mut Ipv6RoutingHeader::new_unchecked(&mut out[at..]))
                    .unwrap();
                (r.next_header, r.header_len())
            }
            other => panic!("unexpected extension header {other}"),
        };
        nh = next;
        at += len;
    }
    let repr = mh(bytes);
    assert_eq!(repr.header_len(), bytes.len() - at);
    repr.emit(
        &p.pseudo_src,
        &p.pseudo_dst,
        &mut MobilityHeader::new_unchecked(&mut out[at..]),
    )
    .unwrap();
    out
}

#[test]
fn every_vector_reemits_byte_for_byte() {
    let mut count = 0;
    for line in VECTORS.lines() {
        let (name, hex) = line.split_once(' ').unwrap();
        let bytes = unhex(hex.trim());
        assert_eq!(reemit(&bytes), bytes, "vector {name}");
        count += 1;
    }
    assert_eq!(count, 10);
}

#[test]
fn binding_update_carries_route_optimisation_options() {
    let bytes = vector("bu_altcoa_nonce_auth");
    let MhRepr::BindingUpdate(bu) = mh(&bytes) else {
        panic!("not a binding update")
    };
    assert_eq!(
        bu,
        BindingUpdate {
            sequence: 0x1234,
            acknowledge: true,
            home_registration: false,
            link_local_compatibility: false,
            key_management_mobility_capability: true,
            map_registration: false,
            lifetime: 60,
            options: MobilityOptionsRepr {
                alternate_care_of_address: Some(addr("2001:db8:2::200")),
                nonce_indices: Some(NonceIndices {
                    home_nonce_index: 0x0102,
                    care_of_nonce_index: 0x0304,
                }),
                binding_authorization_data: Some([
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb
                ]),
                ..Default::default()
            },
        }
    );
}

#[test]
fn binding_update_checksum_uses_the_home_address_not_the_care_of_address() {
    let bytes = vector("bu_altcoa_nonce_auth");
    let p = take_apart(&bytes);
    assert_eq!(p.ip.src_addr, addr(COA));
    assert_eq!(p.pseudo_src, addr(HOA));
    let header = MobilityHeader::new_checked(&bytes[p.mh_offset..]).unwrap();
    assert_eq!(
        MhRepr::parse(&addr(COA), &addr(CN), &header, ChecksumMode::Verify),
        Err(Error::BadChecksum)
    );
}

#[test]
fn binding_authorization_authenticator_is_the_last_twelve_bytes() {
    let bytes = vector("bu_altcoa_nonce_auth");
    let p = take_apart(&bytes);
    let mh_bytes = &bytes[p.mh_offset..];
    let header = MobilityHeader::new_checked(mh_bytes).unwrap();
    let l = header.binding_authorization_layout().unwrap();
    assert_eq!(l.authenticator.end, mh_bytes.len());
    assert_eq!(l.authenticator.len(), 12);
    assert_eq!(l.covered, 0..l.authenticator.start);
    assert_eq!(l.checksum, 4..6);
    assert!(l.after.is_empty());
}

#[test]
fn binding_acknowledgement_with_refresh_advice_through_type2_routing_header() {
    let bytes = vector("ba_refresh_advice");
    let p = take_apart(&bytes);
    assert_eq!(p.pseudo_dst, addr(HOA));
    assert_eq!(
        mh(&bytes),
        MhRepr::BindingAcknowledgement(BindingAcknowledgement {
            status: binding_ack_status::ACCEPTED,
            key_management_mobility_capability: true,
            sequence: 0x1234,
            lifetime: 900,
            options: MobilityOptionsRepr {
                binding_refresh_advice: Some(450),
                ..Default::default()
            },
        })
    );
}

#[test]
fn return_routability_messages_carry_cookies_and_tokens() {
    let empty = MobilityOptionsRepr::default();
    assert_eq!(
        mh(&vector("brr")),
        MhRepr::BindingRefreshRequest { options: empty }
    );
    assert_eq!(
        mh(&vector("hoti")),
        MhRepr::HomeTestInit {
            cookie: [1, 2, 3, 4, 5, 6, 7, 8],
            options: empty
        }
    );
    assert_eq!(
        mh(&vector("coti")),
        MhRepr::CareOfTestInit {
            cookie: [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18],
            options: empty
        }
    );
    assert_eq!(
        mh(&vector("hot")),
        MhRepr::HomeTest {
            nonce_index: 7,
            cookie: [1, 2, 3, 4, 5, 6, 7, 8],
            keygen_token: [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8],
            options: empty
        }
    );
    assert_eq!(
        mh(&vector("cot")),
        MhRepr::CareOfTest {
            nonce_index: 9,
            cookie: [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18],
            keygen_token: [0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8],
            options: empty
        }
    );
}

#[test]
fn binding_error_names_the_home_address() {
    let bytes = vector("be");
    let p = take_apart(&bytes);
    assert_eq!((p.pseudo_src, p.pseudo_dst), (addr(CN), addr(COA)));
    assert_eq!(
        mh(&bytes),
        MhRepr::BindingError {
            status: binding_error_status::UNKNOWN_BINDING_FOR_HOME_ADDRESS,
            home_address: addr(HOA),
            options: MobilityOptionsRepr::default(),
        }
    );
}

#[test]
fn home_registration_carries_a_nai() {
    let bytes = vector("bu_mnid");
    let p = take_apart(&bytes);
    assert_eq!(p.ip.dst_addr, addr(HA));
    let MhRepr::BindingUpdate(bu) = mh(&bytes) else {
        panic!("not a binding update")
    };
    assert!(bu.acknowledge && bu.home_registration);
    assert!(!bu.key_management_mobility_capability && !bu.map_registration);
    assert_eq!((bu.sequence, bu.lifetime), (1, 150));
    assert_eq!(
        bu.options.mobile_node_identifier,
        Some(MobileNodeIdentifier {
            subtype: 1,
            identifier: b"mn1@example.org"
        })
    );
}

#[test]
fn rfc4285_authentication_covers_the_header_up_to_the_spi() {
    let bytes = vector("bu_mnid_replay_auth");
    let p = take_apart(&bytes);
    let mh_bytes = &bytes[p.mh_offset..];
    let MhRepr::BindingUpdate(bu) = mh(&bytes) else {
        panic!("not a binding update")
    };
    assert!(bu.map_registration && bu.key_management_mobility_capability);
    assert_eq!(bu.options.replay_protection, Some(0xe1a2_b3c4_d5e6_f708));
    assert_eq!(
        bu.options.message_authentication,
        Some(MessageAuthentication {
            subtype: 1,
            spi: 0x100,
            authentication_data: &[0xcc; 12],
        })
    );
    let header = MobilityHeader::new_checked(mh_bytes).unwrap();
    assert_eq!(header.mh_type(), message_type::BINDING_UPDATE);
    let l = header.message_authentication_layout().unwrap();
    assert_eq!(
        &mh_bytes[l.covered.end - 4..l.covered.end],
        &0x100u32.to_be_bytes()
    );
    assert_eq!(&mh_bytes[l.authenticator.clone()], &[0xcc; 12]);
    assert_eq!(l.authenticator.end, mh_bytes.len());
    let options: Vec<_> = header.iter_options().map(|o| o.unwrap()).collect();
    assert!(matches!(
        options.last(),
        Some(MobilityOption::MessageAuthentication(_))
    ));
}
