//! Each mobility role as a set of default node profiles ([`crate::profile`]): a role is
//! data, not a code path. The control thread (or the configuration) installs a role's
//! defaults at start-up and adds per-mobile profiles as bindings come and go, so a packet
//! for a bound home address costs one exact-address hash probe.
//!
//! Profile ids: defaults use session [`DEFAULTS`]; per-mobile profiles use session
//! [`PER_MOBILE`] with a number the caller allocates.

use core::net::IpAddr;

use crate::profile::{AddrMatch, Class, Edit, Match, Profile, ProfileId, TableRef};
use crate::tables::Prefix;

/// The session of a role's default profiles.
pub const DEFAULTS: u32 = 0;
/// The session of per-mobile profiles (one per home address, care-of address, ...).
pub const PER_MOBILE: u32 = 1;

/// IP protocol numbers of the tunnels the node ends.
pub const TUNNEL_PROTOCOLS: [u8; 4] = [4, 41, 47, 55];
/// UDP port of Mobile IPv4 registration (RFC 5944 §3.1).
pub const MIP4_PORT: u16 = 434;
/// Next header of the IPv6 Mobility Header (RFC 6275 §6.1).
pub const MOBILITY_HEADER: u8 = 135;

fn id(number: u32) -> ProfileId {
    ProfileId {
        session: DEFAULTS,
        number,
    }
}

fn profile(number: u32, class: Class, matches: Match, edit: Edit, table: TableRef) -> Profile {
    Profile {
        id: id(number),
        class,
        matches,
        edit,
        table,
    }
}

fn to(dst: AddrMatch) -> Match {
    Match { dst, ..Match::ANY }
}

/// Plain routing: everything to the routes table (node-default).
pub fn router() -> Vec<Profile> {
    vec![profile(
        1000,
        Class::NodeDefault,
        Match::ANY,
        Edit::NONE,
        TableRef::Routes,
    )]
}

/// Signalling for the node's own addresses goes to the control thread: Mobile IPv4
/// registration (UDP 434) and the Mobility Header. Numbers 1-2 per address slot.
fn signalling(first: u32, own: &[IpAddr]) -> Vec<Profile> {
    let mut v = Vec::new();
    for (i, a) in own.iter().enumerate() {
        let n = first + 10 * i as u32;
        let mut reg = to(AddrMatch::Exact(*a));
        reg.proto = Some(17);
        reg.dport = crate::profile::PortRange::one(MIP4_PORT);
        v.push(profile(
            n,
            Class::NodeDestination,
            reg,
            Edit::NONE,
            TableRef::Punt,
        ));
        let mut mh = to(AddrMatch::Exact(*a));
        mh.proto = Some(MOBILITY_HEADER);
        v.push(profile(
            n + 1,
            Class::NodeDestination,
            mh,
            Edit::NONE,
            TableRef::Punt,
        ));
    }
    v
}

/// Tunnels ending at `addrs` are decapsulated and handed to `table`.
fn tunnel_ends(first: u32, addrs: &[AddrMatch], table: TableRef) -> Vec<Profile> {
    let mut v = Vec::new();
    for (i, a) in addrs.iter().enumerate() {
        for (j, proto) in TUNNEL_PROTOCOLS.iter().enumerate() {
            let mut m = to(*a);
            m.proto = Some(*proto);
            v.push(profile(
                first + 10 * i as u32 + j as u32,
                Class::NodeDestination,
                m,
                Edit {
                    decapsulate: true,
                    ..Edit::NONE
                },
                table,
            ));
        }
    }
    v
}

/// Home agent: signalling to the control thread, everything else routed; each away
/// mobile adds [`home_address`].
pub fn home_agent(own: &[IpAddr]) -> Vec<Profile> {
    let mut v = signalling(100, own);
    // Reverse tunnels from mobiles (RFC 5944 §3.8.3.1, RFC 6275 §10.4.5) end here and
    // their inner packets are searched again.
    let ends: Vec<AddrMatch> = own.iter().copied().map(AddrMatch::Exact).collect();
    v.extend(tunnel_ends(400, &ends, TableRef::Profiles));
    v.extend(router());
    v
}

/// The profile that makes a home agent intercept an away mobile's home address and
/// tunnel it by its binding (node-destination, exact address).
pub fn home_address(number: u32, home: IpAddr) -> Profile {
    Profile {
        id: ProfileId {
            session: PER_MOBILE,
            number,
        },
        class: Class::NodeDestination,
        matches: to(AddrMatch::Exact(home)),
        edit: Edit::NONE,
        table: TableRef::Bindings,
    }
}

/// Foreign agent: tunnels to its care-of addresses are decapsulated and delivered to the
/// visitor on the link; registration to the control thread; the rest routed.
pub fn foreign_agent(care_of: &[IpAddr]) -> Vec<Profile> {
    let mut v = signalling(100, care_of);
    let ends: Vec<AddrMatch> = care_of.iter().copied().map(AddrMatch::Exact).collect();
    v.extend(tunnel_ends(400, &ends, TableRef::Visitors));
    v.extend(router());
    v
}

/// HMIPv6 mobility anchor point (RFC 5380): packets for a regional care-of address in
/// `rcoa` are tunnelled to the mobile's on-link care-of address by the binding RCoA →
/// LCoA (§6: the MAP acts as a local home agent; the packet is encapsulated as received);
/// tunnels from mobiles to the MAP's own addresses are decapsulated and searched again.
pub fn map(own: &[IpAddr], rcoa: &[Prefix]) -> Vec<Profile> {
    let mut v = signalling(100, own);
    for (i, p) in rcoa.iter().enumerate() {
        v.push(profile(
            300 + i as u32,
            Class::NodeDefaultDestination,
            to(AddrMatch::Prefix(*p)),
            Edit::NONE,
            TableRef::Bindings,
        ));
    }
    let ends: Vec<AddrMatch> = own.iter().copied().map(AddrMatch::Exact).collect();
    v.extend(tunnel_ends(400, &ends, TableRef::Profiles));
    v.extend(router());
    v
}

/// Multicast mobility management agent: tunnels to its own addresses or to the care-of
/// addresses it hands out (`care_of`) are decapsulated and the inner packet re-tunnelled
/// by the multicast map (to the mobile's group, or to its new MMA after a handover).
pub fn mma(own: &[IpAddr], care_of: &[Prefix]) -> Vec<Profile> {
    let mut v = signalling(100, own);
    let mut ends: Vec<AddrMatch> = own.iter().copied().map(AddrMatch::Exact).collect();
    ends.extend(care_of.iter().copied().map(AddrMatch::Prefix));
    v.extend(tunnel_ends(400, &ends, TableRef::Multicast));
    v.extend(router());
    v
}

/// A multicast mobility management agent's peers (the site's other MMAs): a tunnel
/// (IPv6 in IPv6) from a peer to one of the MMA's own IPv6 addresses carries packets of a
/// mobile that moved here, forwarded by its old MMA. It is decapsulated and re-tunnelled
/// by the multicast map as [`mma`]'s tunnel ends are, and a copy of it as it arrived goes
/// to the control thread ([`Edit::notify`]), which tells the correspondent to send here
/// directly (docs/mma-registration.md). Node-source profiles, searched before [`mma`]'s
/// node-destination tunnel ends in the default policy. Numbers 600 on, one per (peer, own
/// address).
pub fn mma_peers(own: &[IpAddr], peers: &[IpAddr]) -> Vec<Profile> {
    let own6 = || own.iter().filter(|a| a.is_ipv6());
    let mut v = Vec::new();
    for (i, peer) in peers.iter().filter(|a| a.is_ipv6()).enumerate() {
        for (j, end) in own6().enumerate() {
            v.push(profile(
                600 + (i * own.len() + j) as u32,
                Class::NodeSource,
                Match {
                    src: AddrMatch::Exact(*peer),
                    dst: AddrMatch::Exact(*end),
                    proto: Some(41),
                    ..Match::ANY
                },
                Edit {
                    decapsulate: true,
                    notify: true,
                    ..Edit::NONE
                },
                TableRef::Multicast,
            ));
        }
    }
    v
}

/// Correspondent node with route optimisation: signalling to the control thread, routed
/// otherwise; each binding-cache entry adds [`cached_destination`].
pub fn correspondent(own: &[IpAddr]) -> Vec<Profile> {
    let mut v = signalling(100, own);
    v.extend(router());
    v
}

/// The profile that sends packets for a destination by the binding cache.
pub fn cached_destination(number: u32, dst: IpAddr) -> Profile {
    Profile {
        id: ProfileId {
            session: PER_MOBILE,
            number,
        },
        class: Class::NodeDestination,
        matches: to(AddrMatch::Exact(dst)),
        edit: Edit::NONE,
        table: TableRef::BindingCache,
    }
}

/// Anycast address proxy: packets for each anycast address go to an online target.
pub fn anycast(addrs: &[IpAddr]) -> Vec<Profile> {
    let mut v: Vec<Profile> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            profile(
                200 + i as u32,
                Class::NodeDestination,
                to(AddrMatch::Exact(*a)),
                Edit::NONE,
                TableRef::Anycast,
            )
        })
        .collect();
    v.extend(router());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_default_is_a_valid_profile_with_a_unique_id() {
        let own: Vec<IpAddr> = vec!["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()];
        let p: Prefix = "198.51.100.0/24".parse().unwrap();
        for set in [
            router(),
            home_agent(&own),
            foreign_agent(&own),
            map(&own, &[p]),
            mma(&own, &[p]),
            mma_peers(
                &own,
                &[
                    "2001:db8:dd::1".parse().unwrap(),
                    "2001:db8:ee::1".parse().unwrap(),
                ],
            ),
            correspondent(&own),
            anycast(&own),
        ] {
            let mut ids: Vec<_> = set.iter().map(|p| (p.class as u8, p.id)).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), set.len());
            for profile in &set {
                profile.check().unwrap();
            }
        }
    }
}
