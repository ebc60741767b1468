//! The traffic and tables of the mobility benchmarks: what `mobility-gen` writes for
//! `perf/mobility.sh` (template pcaps and mipdp configurations) and what the engine bench
//! (`benches/engine.rs`) runs, from one address plan.
//!
//! Address plan (IPv4 for the home agent, IPv6 for the MAP, which is an HMIPv6 role):
//!
//! - home agent: node address 192.0.2.1; home address i = 10.0.0.0 + i; care-of address
//!   i = 100.64.0.0 + i, reached through the default route via 192.0.2.254 (a static
//!   neighbour) on port 1; traffic from correspondent 198.51.100.9, UDP 5000 → 6000,
//!   64-byte IPv4 packets (78-byte frames), tunnelled IPv4-in-IPv4.
//! - MAP: node address 2001:db8:ffff::1, regional care-of prefix 2001:db8:100::/48;
//!   RCoA i = 2001:db8:100:: + i + 1 bound to LCoA i = 2001:db8:200:: + i + 1, reached
//!   through ::/0 via 2001:db8:ffff::fe on port 1. Traffic arrives IPv6-in-IPv6 from
//!   2001:db8:aaaa::1 to the MAP's address (a 40-byte outer header around a 64-byte IPv6
//!   packet from 2001:db8:cccc::9 to an RCoA: 118-byte frames); the MAP role's own
//!   profiles decapsulate it, search again, and tunnel the inner packet by the binding.
//! - TOS: the home agent above plus P AAA-source profiles with a DSCP: half of them exact
//!   sources 198.18.0.0 + k, half wildcards `11.A.B.*` (/24 source prefixes); frames
//!   alternate between the two kinds, each frame's source hitting one profile.
//! - The home agent's bindings can also use minimal encapsulation (RFC 2004) or GRE
//!   (RFC 2784) instead of IPv4-in-IPv4 ([`Method`]).
//! - MMA: node address 2001:db8:cc::1, care-of prefix 2001:db8:cc::/64; mobile i's home
//!   address 2001:db8:1:: + i + 1 maps to its group ff3e:30:2001:db8:1:: + i + 1, sent on
//!   port 1 (route ff00::/8, no next hop: the group's 33:33 Ethernet address). Traffic
//!   arrives IPv6-in-IPv6 from a home agent (2001:db8:aaaa::1) to the MMA's address around
//!   a packet from 2001:db8:cccc::9 to a home address (118-byte frames at 64 bytes); the
//!   MMA role decapsulates it and tunnels it IPv6-in-IPv6 to the mobile's group.
//!
//! Frame j goes to home address (or RCoA) `j × M mod N` for a multiplier M coprime with the
//! N bindings, so a template list visits every binding once per N frames in an order with
//! no locality.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use mipdp_dataplane::wire::checksum;

/// What the configuration makes mipdp do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Forwarder mode (port to port with MAC rewrite).
    Forwarder,
    /// Home agent: IPv4-in-IPv4 to the care-of address of each bound home address.
    Ha,
    /// HMIPv6 MAP: IPv6-in-IPv6 decapsulated and re-encapsulated by RCoA → LCoA bindings.
    Map,
    /// The home agent plus AAA-source profiles marking DSCP.
    Tos,
    /// Multicast mobility management agent: IPv6-in-IPv6 decapsulated and re-encapsulated
    /// to each mobile's multicast group.
    Mma,
    /// IPv6 home agent: IPv6-in-IPv6 (RFC 2473) from [`HA6_ADDR`] to the care-of address
    /// of each bound IPv6 home address (the MAP's address plan: home addresses in
    /// 2001:db8:100::/40, care-of addresses in 2001:db8:200::/40).
    Ha6,
}

/// How the home agent's bindings tunnel (`encap` of each `[[binding]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// IPv4-in-IPv4, RFC 2003.
    #[default]
    Ipip,
    /// Minimal encapsulation, RFC 2004.
    Minimal,
    /// GRE, RFC 2784.
    Gre,
}

impl Method {
    /// The configuration's name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Ipip => "ipip",
            Method::Minimal => "minimal",
            Method::Gre => "gre",
        }
    }
}

/// One contender's traffic and tables.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// What mipdp does.
    pub kind: Kind,
    /// Bindings (home addresses or RCoAs) the traffic is spread over.
    pub bindings: usize,
    /// Service profiles (Tos).
    pub profiles: usize,
    /// IP packet size of the (inner) packets, in bytes (28..=1400).
    pub inner_size: usize,
    /// A registration storm mixed into the home agent's templates (Ha only).
    pub storm: Option<Storm>,
    /// The home agent's tunnel method (Ha and Tos).
    pub method: Method,
}

/// Whether the storm's requests carry the authenticator their association computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authenticators {
    /// Valid HMAC-MD5 authenticators: every request is accepted and changes a binding.
    Valid,
    /// Each authenticator with its first byte inverted: every request fails
    /// authentication (code 131), after the home agent has computed the HMAC.
    Bogus,
}

/// What a storm's requests are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Mobile IPv4 Registration Requests (RFC 5944 §3.3), HMAC-MD5 MN-HA authenticated.
    Mip4,
    /// Mobile IPv6 Binding Updates (RFC 6275 §6.1.7) with the Home Address option, the
    /// Mobility Message Replay Protection option and the MN-HA Mobility Message
    /// Authentication option (RFC 4285 §5, §6).
    Mip6,
}

/// A registration storm: every `every`-th template frame is an authenticated Mobile IPv4
/// Registration Request (RFC 5944 §3.3) to the home agent's address, UDP 434, from one of
/// `mobiles` mobile nodes with co-located care-of addresses, taken in turn; or, with
/// [`Protocol::Mip6`], an authenticated Mobile IPv6 Binding Update to the IPv6 home
/// agent's address from the mobile's care-of address.
///
/// The template list is cycled, so each request comes back every `cycle` frames. Replay
/// protection is timestamps (RFC 5944 §5.7.1) with a tolerance of 2^32 s (the whole NTP
/// era, so the clock check always passes) and the freshness check intact: mobile m's
/// R requests in one cycle carry identifications k × 2^64 / R (k = 0..R), which go once
/// round the 64-bit circle; each is "later" than the one before in the modulo-2^64
/// comparison the home agent makes (`ntp_difference > 0`), the wrap from the last to the
/// first included, so every request stays acceptable however often the list cycles. The
/// care-of address alternates between two per mobile, so each accepted request moves
/// the binding: an update to every worker and a reply once they have applied it.
///
/// The Binding Updates use the same device twice: the Replay Protection timestamps are
/// k × 2^64 / R (the home agent's `timestamp_tolerance_s` is the whole NTP era, and
/// "newer than the last accepted" holds round the circle, RFC 4285 §6), and the Sequence
/// Numbers k × 2^16 / R, each "greater than" the one before modulo 2^16 (RFC 6275
/// §9.5.1), as R ≥ 3 steps are each shorter than 2^15.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Storm {
    /// One frame in `every` is a request (from frame `every - 1` on).
    pub every: usize,
    /// Mobile nodes (each with its security association and registered home address).
    pub mobiles: usize,
    /// Frames in the template list (its cycle).
    pub cycle: usize,
    /// Valid or bogus authenticators.
    pub authenticators: Authenticators,
    /// Registration Requests or Binding Updates.
    pub protocol: Protocol,
}

/// The home prefix of the storm's mobiles (on port 0, the home link).
pub const STORM_HOME_PREFIX: &str = "10.200.0.0/16";
const STORM_HOME_BASE: u32 = 0x0ac8_0000; // 10.200.0.0
const STORM_CARE_OF_BASE: u32 = 0xac10_0000; // 172.16.0.0
/// The SPI of every storm mobile's security association.
pub const STORM_SPI: u32 = 256;
/// The storm's timestamp tolerance, seconds: the whole NTP era (see [`Storm`]).
pub const STORM_TOLERANCE_S: u64 = 1 << 32;
/// The lifetime the storm's mobiles ask for, seconds.
const STORM_LIFETIME: u16 = 1800;
/// The most storm mobiles (home addresses 10.200.0.1 up in 10.200.0.0/16).
pub const MAX_STORM_MOBILES: usize = (1 << 16) - 2;
/// The UDP port of Mobile IPv4 registration. RFC 5944 §3.
const REGISTRATION_PORT: u16 = 434;

fn storm_home(m: usize) -> Ipv4Addr {
    Ipv4Addr::from_bits(STORM_HOME_BASE + m as u32 + 1)
}

/// Care-of address `which` (0 or 1) of storm mobile m.
fn storm_care_of(m: usize, which: usize) -> Ipv4Addr {
    Ipv4Addr::from_bits(STORM_CARE_OF_BASE + (2 * m + which) as u32)
}

/// The IPv6 home agent's address (on port 0, the home link of [`STORM_HOME6_PREFIX`]).
pub const HA6_ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x6e, 0, 0, 0, 0, 1);
/// The home prefix of the MIPv6 storm's mobiles.
pub const STORM_HOME6_PREFIX: &str = "2001:db8:6e::/64";
const STORM_CARE_OF6_BASE: u128 = 0x2001_0db8_6f00_0000_0000_0000_0000_0000;
/// The gateway of the MIPv6 storm's care-of addresses (a static neighbour on port 1).
const HA6_GATEWAY: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x6d, 0, 0, 0, 0, 0xfe);
/// The lifetime the MIPv6 storm's mobiles ask for, in units of 4 s (RFC 6275 §6.1.7).
const STORM_LIFETIME6: u16 = 450;

fn storm_home6(m: usize) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0x6e, 0, 0, 0, 1, m as u16 + 1)
}

/// Care-of address `which` (0 or 1) of MIPv6 storm mobile m: each in its own /64.
fn storm_care_of6(m: usize, which: usize) -> Ipv6Addr {
    Ipv6Addr::from(STORM_CARE_OF6_BASE + (((2 * m + which) as u128) << 64) + 1)
}

/// The MN-HA key of storm mobile m (hexadecimal): distinct per mobile.
pub fn storm_key(m: usize) -> [u8; 16] {
    let mut key = [0u8; 16];
    for (i, b) in key.iter_mut().enumerate() {
        *b = (m.wrapping_mul(0x9e37_79b1) >> (8 * (i % 4))) as u8 ^ (i as u8).wrapping_mul(37);
    }
    key
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Storm {
    /// Requests in one cycle of the template list.
    pub fn requests_per_cycle(&self) -> usize {
        self.cycle / self.every
    }

    /// Checks that every mobile sends at least 3 requests per cycle (the identifications
    /// step round the circle by less than half of it).
    pub fn check(&self) -> Result<(), String> {
        if self.every < 2 {
            return Err("--storm-every must be at least 2".into());
        }
        if self.mobiles == 0 || self.mobiles > MAX_STORM_MOBILES {
            return Err(format!("--storm-mobiles must be 1..={MAX_STORM_MOBILES}"));
        }
        if self.requests_per_cycle() < 3 * self.mobiles {
            return Err(format!(
                "every mobile needs 3 requests per template cycle at least: {} frames / {} = {} requests for {} mobiles (raise --frames, lower --storm-every or --storm-mobiles)",
                self.cycle,
                self.every,
                self.requests_per_cycle(),
                self.mobiles
            ));
        }
        if self.protocol == Protocol::Mip6 && self.requests_per_cycle() / self.mobiles > 1 << 16 {
            return Err(format!(
                "a Binding Update storm needs at most 65536 requests per mobile per template cycle (distinct sequence numbers): lower --frames or raise --storm-every or --storm-mobiles ({} frames / {} / {} mobiles)",
                self.cycle, self.every, self.mobiles
            ));
        }
        Ok(())
    }

    /// Frame `j`'s request, for the tests (None: a data frame).
    #[cfg(test)]
    fn frame_of(&self, j: usize) -> Vec<u8> {
        self.request_at(j)
            .map(|r| self.request(r))
            .unwrap_or_default()
    }

    /// The request number of frame `j`, if it is one.
    fn request_at(&self, j: usize) -> Option<usize> {
        let s = j % self.cycle;
        ((s + 1) % self.every == 0 && s / self.every < self.requests_per_cycle())
            .then_some(s / self.every)
    }

    /// Requests of mobile m in one cycle (R).
    fn per_mobile(&self, m: usize) -> usize {
        let n = self.requests_per_cycle();
        n / self.mobiles + usize::from(m < n % self.mobiles)
    }

    /// The identification of mobile m's k-th request of the cycle: k × 2^64 / R.
    fn identification(&self, m: usize, k: usize) -> u64 {
        ((k as u128) << 64).div_euclid(self.per_mobile(m) as u128) as u64
    }

    /// The Sequence Number of mobile m's k-th Binding Update of the cycle: k × 2^16 / R.
    fn sequence(&self, m: usize, k: usize) -> u16 {
        ((k as u64) << 16).div_euclid(self.per_mobile(m) as u64) as u16
    }

    /// Request `r` of the cycle: an Ethernet frame carrying IPv4/UDP 434 to the home agent,
    /// or an IPv6 Binding Update to the IPv6 home agent.
    pub fn request(&self, r: usize) -> Vec<u8> {
        if self.protocol == Protocol::Mip6 {
            return self.binding_update(r);
        }
        let m = r % self.mobiles;
        let k = r / self.mobiles;
        let care_of = storm_care_of(m, k % 2);
        let mut msg = Vec::with_capacity(46);
        msg.push(1); // Registration Request
        msg.push(0); // flags: IP in IP, no simultaneous bindings
        msg.extend_from_slice(&STORM_LIFETIME.to_be_bytes());
        msg.extend_from_slice(&storm_home(m).octets());
        msg.extend_from_slice(&HA_ADDR.octets());
        msg.extend_from_slice(&care_of.octets());
        msg.extend_from_slice(&self.identification(m, k).to_be_bytes());
        // Mobile-Home Authentication Extension (RFC 5944 §3.5.2): the authenticator
        // covers everything up to and including its SPI.
        msg.extend_from_slice(&[32, 20]);
        msg.extend_from_slice(&STORM_SPI.to_be_bytes());
        let mut tag = hmac_md5(&storm_key(m), &msg);
        if self.authenticators == Authenticators::Bogus {
            tag[0] ^= 0xff;
        }
        msg.extend_from_slice(&tag);
        ethernet(
            0x0800,
            &ipv4_udp_payload(care_of, HA_ADDR, REGISTRATION_PORT, &msg),
        )
    }
}

impl Storm {
    /// Binding Update `r` of the cycle (RFC 6275 §6.1.7), written byte by byte here: IPv6
    /// from the care-of address to the home agent, a Destination Options header with the
    /// Home Address option (§6.3), and the Mobility Header with the A and H flags, the
    /// Mobility Message Replay Protection option (RFC 4285 §6, at 8n+2) and the MN-HA
    /// Mobility Message Authentication option (RFC 4285 §5, at 4n+1) last.
    fn binding_update(&self, r: usize) -> Vec<u8> {
        let m = r % self.mobiles;
        let k = r / self.mobiles;
        let (home, care_of) = (storm_home6(m), storm_care_of6(m, k % 2));
        // Mobility Header: 12 bytes of header and message, PadN(6) to reach 8n+2 = 18,
        // Replay Protection (10 bytes) to 28, Pad1 to 29 = 4n+1, authentication (2 + 1 +
        // 4 + 12 = 19 bytes) to 48: Header Len (48 - 8) / 8 = 5.
        let mut mh = vec![0u8; 48];
        mh[0] = 59; // Payload Proto: no next header
        mh[1] = 5;
        mh[2] = 5; // Binding Update
        mh[6..8].copy_from_slice(&self.sequence(m, k).to_be_bytes());
        mh[8] = 0x80 | 0x40; // A, H
        mh[10..12].copy_from_slice(&STORM_LIFETIME6.to_be_bytes());
        mh[12..14].copy_from_slice(&[1, 4]); // PadN, 4 bytes of zeros
        mh[18..20].copy_from_slice(&[10, 8]); // Replay Protection
        mh[20..28].copy_from_slice(&self.identification(m, k).to_be_bytes());
        mh[28] = 0; // Pad1
        mh[29..31].copy_from_slice(&[9, 17]); // Mobility Message Authentication
        mh[31] = 1; // subtype MN-HA
        mh[32..36].copy_from_slice(&STORM_SPI.to_be_bytes());
        // Authenticator: First(96, HMAC-SHA1(key, care-of | home | MH Data)), MH Data up
        // to and including the SPI with the Checksum as zero (RFC 4285 §5.1).
        let mut tag = hmac_sha1(
            &storm_key(m),
            &[&care_of.octets(), &home.octets(), &mh[..36]],
        );
        if self.authenticators == Authenticators::Bogus {
            tag[0] ^= 0xff;
        }
        mh[36..48].copy_from_slice(&tag[..12]);
        // The MH checksum's pseudo-header has the home address as source (RFC 6275 §6.1.1).
        let pseudo = checksum::pseudo_header_v6(home.octets(), HA6_ADDR.octets(), 135, 48);
        let sum = checksum::finish(checksum::combine(&[pseudo, checksum::sum(&mh)]));
        mh[4..6].copy_from_slice(&sum.to_be_bytes());
        // Destination Options: next header 135, length 2 (24 bytes): PadN(4), the Home
        // Address option (type 201, 16 bytes) at 8n+6.
        let mut dest = vec![135, 2, 1, 2, 0, 0, 201, 16];
        dest.extend_from_slice(&home.octets());
        let mut ip = ipv6_header(care_of, HA6_ADDR, 60, dest.len() + mh.len());
        ip.extend(dest);
        ip.extend(mh);
        ethernet(0x86dd, &ip)
    }
}

/// HMAC-SHA1 (RFC 2104) of the concatenated `parts` under `key`.
fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else {
        unreachable!("HMAC takes keys of any length");
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-MD5 (RFC 2104) of `data` under `key`: the MN-HA authenticator of RFC 5944 §3.5.1.
fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<md5::Md5>::new_from_slice(key) else {
        unreachable!("HMAC takes keys of any length");
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The `[dataplane]` and `[[port]]` settings of a configuration.
#[derive(Debug, Clone, Default)]
pub struct Head {
    /// dataplane.workers (one core).
    pub worker_core: usize,
    /// dataplane.mbufs.
    pub mbufs: u32,
    /// dataplane.mbuf_cache.
    pub mbuf_cache: u32,
    /// dataplane.control_socket.
    pub control_socket: Option<String>,
    /// Every port's rx_template_pcap.
    pub pcap: Option<String>,
    /// The second port's rx_template_pcap instead, when set (a storm's requests arrive on
    /// the first port only, so that each mobile's requests stay in order).
    pub second_port_pcap: Option<String>,
    /// node.bindings_file: the bindings are lines of this file ([`Scenario::write_bindings`])
    /// instead of `[[binding]]` sections (ha, tos, map, ha6); for the MMA
    /// node.multicast_file instead of `[[multicast]]` sections.
    pub bindings_file: Option<String>,
}

/// The Ethernet destination of the template frames (any: mipdp's ports are promiscuous).
pub const PORT0_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0x00];
/// The Ethernet source of the template frames.
pub const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0xfe];
/// The home agent's address (the outer source of its tunnels).
pub const HA_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const HA_GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
const CORRESPONDENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
const HOME_BASE: u32 = 0x0a00_0000; // 10.0.0.0
const CARE_OF_BASE: u32 = 0x6440_0000; // 100.64.0.0
const EXACT_SOURCE_BASE: u32 = 0xc612_0000; // 198.18.0.0
const WILDCARD_BASE: u32 = 0x0b00_0000; // 11.0.0.0
/// The MAP's address (the outer destination of the traffic and source of its tunnels).
pub const MAP_ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
const MAP_GATEWAY: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0xfe);
const MAP_ENTRY: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 1);
const MAP_CORRESPONDENT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 9);
/// The MMA's address (the outer destination of the traffic and source of its tunnels).
pub const MMA_ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcc, 0, 0, 0, 0, 1);
const MOBILE_HOME_BASE: u128 = 0x2001_0db8_0001_0000_0000_0000_0000_0000;
const GROUP_BASE: u128 = 0xff3e_0030_2001_0db8_0001_0000_0000_0000;
const RCOA_BASE: u128 = 0x2001_0db8_0100_0000_0000_0000_0000_0000;
const LCOA_BASE: u128 = 0x2001_0db8_0200_0000_0000_0000_0000_0000;

/// The most bindings the address plan has room for: home addresses from 10.0.0.0 up to
/// the storm's mobiles at 10.200.0.0 (12 Mi, so that ten million fit).
pub const MAX_BINDINGS: usize = 12 << 20;
/// Care-of addresses in 100.64.0.0/10: past 4 Mi bindings, mobiles share them, as the
/// mobiles visiting one foreign agent share its care-of address.
const CARE_OF_ADDRESSES: usize = 1 << 22;
/// The most profiles (wildcards in 11.0.0.0/8: 65536 /24s, half of the profiles).
pub const MAX_PROFILES: usize = 1 << 17;

fn home(i: usize) -> Ipv4Addr {
    Ipv4Addr::from_bits(HOME_BASE + i as u32)
}
fn care_of(i: usize) -> Ipv4Addr {
    Ipv4Addr::from_bits(CARE_OF_BASE + (i % CARE_OF_ADDRESSES) as u32)
}
fn rcoa(i: usize) -> Ipv6Addr {
    Ipv6Addr::from_bits(RCOA_BASE + i as u128 + 1)
}
fn lcoa(i: usize) -> Ipv6Addr {
    Ipv6Addr::from_bits(LCOA_BASE + i as u128 + 1)
}
fn mobile_home(i: usize) -> Ipv6Addr {
    Ipv6Addr::from_bits(MOBILE_HOME_BASE + i as u128 + 1)
}
fn group(i: usize) -> Ipv6Addr {
    Ipv6Addr::from_bits(GROUP_BASE + i as u128 + 1)
}
fn exact_source(k: usize) -> Ipv4Addr {
    Ipv4Addr::from_bits(EXACT_SOURCE_BASE + k as u32)
}
/// The /24 of wildcard profile k, as its first address.
fn wildcard_net(k: usize) -> Ipv4Addr {
    Ipv4Addr::from_bits(WILDCARD_BASE + ((k as u32) << 8))
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A multiplier coprime with `n`, far from 1, so `j × m mod n` is a permutation of 0..n
/// without locality.
pub fn multiplier(n: usize) -> usize {
    let mut m = (2_654_435_761usize % n.max(1)).max(1);
    while n > 1 && gcd(m, n) != 1 {
        m += 1;
    }
    m
}

/// A UDP datagram of `len` bytes (header included), checksum filled from `pseudo`.
fn udp(src_port: u16, dst_port: u16, len: usize, pseudo: u32) -> Vec<u8> {
    let mut u = vec![0u8; len];
    u[0..2].copy_from_slice(&src_port.to_be_bytes());
    u[2..4].copy_from_slice(&dst_port.to_be_bytes());
    u[4..6].copy_from_slice(&(len as u16).to_be_bytes());
    for (i, b) in u.iter_mut().enumerate().skip(8) {
        *b = i as u8;
    }
    let sum = checksum::finish(checksum::combine(&[pseudo, checksum::sum(&u)]));
    let sum = if sum == 0 { 0xffff } else { sum };
    u[6..8].copy_from_slice(&sum.to_be_bytes());
    u
}

/// An IPv4 packet of `len` bytes carrying UDP (header checksum filled).
fn ipv4_udp(src: Ipv4Addr, dst: Ipv4Addr, len: usize) -> Vec<u8> {
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    p[6] = 0x40; // DF
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let sum = checksum::checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    let pseudo = checksum::pseudo_header_v4(src.octets(), dst.octets(), 17, (len - 20) as u16);
    p.extend(udp(5000, 6000, len - 20, pseudo));
    p
}

/// An IPv4/UDP packet from and to `port` carrying `payload` (checksums filled).
fn ipv4_udp_payload(src: Ipv4Addr, dst: Ipv4Addr, port: u16, payload: &[u8]) -> Vec<u8> {
    let len = 28 + payload.len();
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let sum = checksum::checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut u = vec![0u8; 8];
    u[0..2].copy_from_slice(&port.to_be_bytes());
    u[2..4].copy_from_slice(&port.to_be_bytes());
    u[4..6].copy_from_slice(&((len - 20) as u16).to_be_bytes());
    u.extend_from_slice(payload);
    let pseudo = checksum::pseudo_header_v4(src.octets(), dst.octets(), 17, (len - 20) as u16);
    let sum = checksum::finish(checksum::combine(&[pseudo, checksum::sum(&u)]));
    let sum = if sum == 0 { 0xffff } else { sum };
    u[6..8].copy_from_slice(&sum.to_be_bytes());
    p.extend(u);
    p
}

/// An IPv6 header for `payload` bytes of `next_header`.
fn ipv6_header(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, payload: usize) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&(payload as u16).to_be_bytes());
    p[6] = next_header;
    p[7] = 64;
    p[8..24].copy_from_slice(&src.octets());
    p[24..40].copy_from_slice(&dst.octets());
    p
}

/// An IPv6 packet of `len` bytes carrying UDP.
pub fn ipv6_udp(src: Ipv6Addr, dst: Ipv6Addr, len: usize) -> Vec<u8> {
    let mut p = ipv6_header(src, dst, 17, len - 40);
    let pseudo = checksum::pseudo_header_v6(src.octets(), dst.octets(), 17, (len - 40) as u32);
    p.extend(udp(5000, 6000, len - 40, pseudo));
    p
}

/// `ip` in an Ethernet frame of `ethertype` from [`PEER_MAC`] to [`PORT0_MAC`].
pub fn ethernet(ethertype: u16, ip: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + ip.len());
    f.extend_from_slice(&PORT0_MAC);
    f.extend_from_slice(&PEER_MAC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(ip);
    f
}

/// Writes a classic pcap file (Ethernet, microsecond timestamps) of `frames` frames made
/// by `frame`.
pub fn write_pcap(
    path: &Path,
    frames: usize,
    mut frame: impl FnMut(usize) -> Vec<u8>,
) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    w.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    w.write_all(&2u16.to_le_bytes())?;
    w.write_all(&4u16.to_le_bytes())?;
    w.write_all(&[0; 8])?;
    w.write_all(&65535u32.to_le_bytes())?;
    w.write_all(&1u32.to_le_bytes())?;
    for j in 0..frames {
        let f = frame(j);
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&((j / 1_000_000) as u32).to_le_bytes());
        record[4..8].copy_from_slice(&((j % 1_000_000) as u32).to_le_bytes());
        record[8..12].copy_from_slice(&(f.len() as u32).to_le_bytes());
        record[12..16].copy_from_slice(&(f.len() as u32).to_le_bytes());
        w.write_all(&record)?;
        w.write_all(&f)?;
    }
    w.flush()
}

impl Scenario {
    /// Checks the sizes against the address plan.
    pub fn check(&self) -> Result<(), String> {
        if self.bindings == 0 || self.bindings > MAX_BINDINGS {
            return Err(format!("bindings must be 1..={MAX_BINDINGS}"));
        }
        if self.kind == Kind::Tos && !(2..=MAX_PROFILES).contains(&self.profiles) {
            return Err(format!("profiles must be 2..={MAX_PROFILES}"));
        }
        if !(28..=1400).contains(&self.inner_size) {
            return Err("the inner packet size must be 28..=1400 bytes".into());
        }
        match self.storm {
            Some(_) if self.kind != Kind::Ha => Err("a storm goes with the home agent only".into()),
            Some(storm) => storm.check(),
            None => Ok(()),
        }
    }

    /// Frame `j` of the template list (the forwarder's are the home agent's); with a
    /// storm, every `every`-th frame is one of its requests instead.
    pub fn frame(&self, j: usize) -> Vec<u8> {
        if let Some(r) = self.storm.and_then(|s| Some(s.request(s.request_at(j)?))) {
            return r;
        }
        let n = self.bindings;
        let i = j % n * multiplier(n) % n;
        let size = self.inner_size;
        match self.kind {
            Kind::Forwarder | Kind::Ha => ethernet(0x0800, &ipv4_udp(CORRESPONDENT, home(i), size)),
            Kind::Tos => {
                // Even frames from an exact-source profile's address, odd ones from inside a
                // wildcard profile's /24; both kinds spread over their profiles.
                let half = self.profiles / 2;
                let k = j / 2 % half * multiplier(half) % half;
                let src = if j % 2 == 0 {
                    exact_source(k)
                } else {
                    Ipv4Addr::from_bits(wildcard_net(k).to_bits() + 1 + (j % 250) as u32)
                };
                ethernet(0x0800, &ipv4_udp(src, home(i), size))
            }
            Kind::Map => {
                let inner = ipv6_udp(MAP_CORRESPONDENT, rcoa(i), size);
                let mut ip = ipv6_header(MAP_ENTRY, MAP_ADDR, 41, inner.len());
                ip.extend(inner);
                ethernet(0x86dd, &ip)
            }
            Kind::Ha6 => ethernet(0x86dd, &ipv6_udp(MAP_CORRESPONDENT, rcoa(i), size)),
            Kind::Mma => {
                let inner = ipv6_udp(MAP_CORRESPONDENT, mobile_home(i), size);
                let mut ip = ipv6_header(MAP_ENTRY, MMA_ADDR, 41, inner.len());
                ip.extend(inner);
                ethernet(0x86dd, &ip)
            }
        }
    }

    /// Writes the whole mipdp configuration.
    pub fn write_config(&self, w: &mut impl Write, head: &Head) -> io::Result<()> {
        let mode = match self.kind {
            Kind::Forwarder => "forwarder",
            _ => "mobility",
        };
        writeln!(w, "[dataplane]\nmode = \"{mode}\"")?;
        writeln!(w, "workers = [{}]", head.worker_core)?;
        writeln!(
            w,
            "mbufs = {}\nmbuf_cache = {}",
            head.mbufs, head.mbuf_cache
        )?;
        if let Some(sock) = &head.control_socket {
            writeln!(w, "control_socket = \"{sock}\"")?;
        }
        let n = self.bindings;
        // Each binding adds a node-destination profile for its home address, and so does
        // each storm mobile's registration.
        let mobiles = self.storm.map_or(0, |s| s.mobiles);
        let max_profiles = n.max(self.profiles) + mobiles + 1024;
        match self.kind {
            Kind::Forwarder => {}
            Kind::Ha | Kind::Tos => write!(
                w,
                "\n[node]\nroles = [\"home-agent\"]\naddresses = [\"{HA_ADDR}\"{}]\n\
                 max_bindings = {}\nmax_profiles = {max_profiles}\n{}",
                if self.storm.is_some_and(|s| s.protocol == Protocol::Mip6) {
                    format!(", \"{HA6_ADDR}\"")
                } else {
                    String::new()
                },
                (n + mobiles).max(65_536),
                if mobiles > 0 {
                    // The registration home agent needs it (RFC 5944 §4.6, RFC 6275
                    // §10.4.1).
                    "proxy_arp = true\n"
                } else {
                    ""
                }
            )?,
            Kind::Map => write!(
                w,
                "\n[node]\nroles = [\"map\"]\naddresses = [\"{MAP_ADDR}\"]\n\
                 rcoa_prefixes = [\"2001:db8:100::/48\"]\n\
                 max_bindings = {}\nmax_profiles = {max_profiles}\n",
                n.max(65_536)
            )?,
            Kind::Ha6 => write!(
                w,
                "\n[node]\nroles = [\"home-agent\"]\naddresses = [\"{HA6_ADDR}\"]\n\
                 max_bindings = {}\nmax_profiles = {max_profiles}\n",
                n.max(65_536)
            )?,
            Kind::Mma => write!(
                w,
                "\n[node]\nroles = [\"mma\"]\naddresses = [\"{MMA_ADDR}\"]\n\
                 care_of_prefixes = [\"2001:db8:cc::/64\"]\nmax_multicast = {}\n",
                n.max(16_384)
            )?,
        }
        let in_file = match (&head.bindings_file, self.kind) {
            (Some(f), Kind::Ha | Kind::Tos | Kind::Map | Kind::Ha6) => {
                writeln!(w, "bindings_file = \"{f}\"")?;
                true
            }
            (Some(f), Kind::Mma) => {
                writeln!(w, "multicast_file = \"{f}\"")?;
                true
            }
            _ => false,
        };
        for (i, dev) in ["net_null0", "net_null1"].into_iter().enumerate() {
            write!(w, "\n[[port]]\ndevice = \"{dev}\"\n")?;
            let pcap = match &head.second_port_pcap {
                Some(second) if i == 1 => Some(second),
                _ => head.pcap.as_ref(),
            };
            if let Some(p) = pcap {
                writeln!(w, "rx_template_pcap = \"{p}\"")?;
            }
        }
        let gateway = match self.kind {
            Kind::Forwarder => return Ok(()),
            Kind::Ha | Kind::Tos => ("0.0.0.0/0", HA_GATEWAY.to_string()),
            Kind::Map | Kind::Ha6 => ("::/0", MAP_GATEWAY.to_string()),
            Kind::Mma => {
                // The groups leave port 1 to their own Ethernet addresses.
                write!(
                    w,
                    "\n[[route]]\nprefix = \"ff00::/8\"\nport = \"net_null1\"\n"
                )?;
                if in_file {
                    return Ok(());
                }
                for i in 0..n {
                    write!(
                        w,
                        "\n[[multicast]]\nmobile = \"{}\"\ngroup = \"{}\"\n",
                        mobile_home(i),
                        group(i)
                    )?;
                }
                return Ok(());
            }
        };
        write!(
            w,
            "\n[[route]]\nprefix = \"{}\"\nport = \"net_null1\"\nvia = \"{}\"\n\
             \n[[neighbour]]\nport = \"net_null1\"\naddress = \"{}\"\nmac = \"02:00:00:00:02:fe\"\n",
            gateway.0, gateway.1, gateway.1
        )?;
        if let Some(storm) = &self.storm {
            write_home_agent(w, storm)?;
        }
        if self.kind == Kind::Tos {
            for k in 0..self.profiles {
                let source = if k % 2 == 0 {
                    exact_source(k / 2).to_string()
                } else {
                    let o = wildcard_net(k / 2).octets();
                    format!("{}.{}.{}.*", o[0], o[1], o[2])
                };
                write!(
                    w,
                    "\n[[profile]]\nclass = \"aaa-source\"\nnumber = {}\nsource = \"{source}\"\n\
                     dscp = {}\ntable = \"bindings\"\n",
                    k + 1,
                    1 + k % 63
                )?;
            }
        }
        if in_file {
            return Ok(());
        }
        for i in 0..n {
            let (home, care_of) = self.binding(i);
            write!(
                w,
                "\n[[binding]]\nhome = \"{home}\"\ncare_of = [\"{care_of}\"]\n"
            )?;
            if self.tunnels_ipv4() && self.method != Method::Ipip {
                writeln!(w, "encap = \"{}\"", self.method.name())?;
            }
        }
        Ok(())
    }

    /// Whether the bindings tunnel IPv4 (and have a method): ha and tos.
    fn tunnels_ipv4(&self) -> bool {
        matches!(self.kind, Kind::Ha | Kind::Tos)
    }

    /// Binding `i`: home address (an RCoA for the MAP) and care-of address.
    fn binding(&self, i: usize) -> (IpAddr, IpAddr) {
        match self.kind {
            Kind::Map | Kind::Ha6 => (IpAddr::V6(rcoa(i)), IpAddr::V6(lcoa(i))),
            _ => (IpAddr::V4(home(i)), IpAddr::V4(care_of(i))),
        }
    }

    /// The bindings as the lines of mipdp's `node.bindings_file` (ha, tos, map, ha6), or
    /// for the MMA its multicast-map entries as the lines of `node.multicast_file`: what
    /// [`Self::write_config`] names with [`Head::bindings_file`].
    pub fn write_bindings(&self, w: &mut impl Write) -> io::Result<()> {
        if self.kind == Kind::Mma {
            writeln!(w, "# mobile group: {} entries", self.bindings)?;
            for i in 0..self.bindings {
                writeln!(w, "{} {}", mobile_home(i), group(i))?;
            }
            return Ok(());
        }
        let method = if self.tunnels_ipv4() && self.method != Method::Ipip {
            self.method.name()
        } else {
            ""
        };
        writeln!(w, "# home care-of [method]: {} bindings", self.bindings)?;
        for i in 0..self.bindings {
            let (home, care_of) = self.binding(i);
            writeln!(w, "{home} {care_of} {method}")?;
        }
        Ok(())
    }
}

impl Scenario {
    /// A mobility engine holding the tables mipdp would load from [`Self::write_config`]'s
    /// text (parsed and planned as `mipdp run` does, every update applied), ports 0 and 1
    /// with locally administered MACs: what the engine bench runs, and what tests check
    /// the templates against. Panics on a configuration mipdp would refuse (a bench or
    /// test aid).
    pub fn engine(&self) -> mipdp_dataplane::engine::Engine {
        use mipdp_dataplane::engine::{Engine, NodeConfig};
        use mipdp_dataplane::update::Applied;
        let head = Head {
            worker_core: 1,
            mbufs: 16384,
            mbuf_cache: 250,
            ..Head::default()
        };
        let mut text = Vec::new();
        self.write_config(&mut text, &head).expect("config text");
        let text = String::from_utf8(text).expect("UTF-8");
        let config = mipdp_control::config::Config::parse(&text, "scenario.toml")
            .expect("a valid configuration");
        let plan = config.plan().expect("a plan");
        let mut node = NodeConfig::new(
            vec![[2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]],
            plan.addrs4.clone(),
            plan.addrs6.clone(),
        );
        node.tunnel = plan.tunnel;
        node.nesting_limit = plan.nesting_limit;
        node.proxy_arp = plan.proxy_arp;
        node.limits = plan.limits;
        (node.icmp_per_second, node.icmp_burst) = plan.icmp;
        let mut engine = Engine::new(node);
        for u in &plan.updates {
            assert_eq!(engine.tables_mut().apply(u), Applied::Done, "{u:?}");
        }
        engine
    }
}

/// The storm's home link route, `[home_agent]` section and one security association per
/// mobile.
fn write_home_agent(w: &mut impl Write, storm: &Storm) -> io::Result<()> {
    if storm.protocol == Protocol::Mip6 {
        return write_home_agent6(w, storm);
    }
    write!(
        w,
        "\n[[route]]\nprefix = \"{STORM_HOME_PREFIX}\"\nport = \"net_null0\"\n\
         \n[home_agent]\naddresses = [\"{HA_ADDR}\"]\nhome_prefixes = [\"{STORM_HOME_PREFIX}\"]\n\
         max_lifetime = {STORM_LIFETIME}\nmax_bindings = {}\n",
        storm.mobiles
    )?;
    for m in 0..storm.mobiles {
        write!(
            w,
            "\n[[home_agent.security_association]]\nhome_address = \"{}\"\nspi = {STORM_SPI}\n\
             key = \"{}\"\nalgorithm = \"hmac-md5\"\nreplay = \"timestamps\"\n\
             timestamp_tolerance_s = {STORM_TOLERANCE_S}\n",
            storm_home(m),
            hex(&storm_key(m))
        )?;
    }
    Ok(())
}

/// The MIPv6 storm's home link route, the route and neighbour towards its care-of
/// addresses (port 1), `[home_agent6]` and one security association per mobile.
fn write_home_agent6(w: &mut impl Write, storm: &Storm) -> io::Result<()> {
    write!(
        w,
        "\n[[route]]\nprefix = \"{STORM_HOME6_PREFIX}\"\nport = \"net_null0\"\n\
         \n[[route]]\nprefix = \"::/0\"\nport = \"net_null1\"\nvia = \"{HA6_GATEWAY}\"\n\
         \n[[neighbour]]\nport = \"net_null1\"\naddress = \"{HA6_GATEWAY}\"\nmac = \"02:00:00:00:02:fe\"\n\
         \n[home_agent6]\naddresses = [\"{HA6_ADDR}\"]\nhome_prefixes = [\"{STORM_HOME6_PREFIX}\"]\n\
         max_lifetime = {}\nmax_bindings = {}\n",
        u32::from(STORM_LIFETIME6) * 4,
        storm.mobiles
    )?;
    for m in 0..storm.mobiles {
        write!(
            w,
            "\n[[home_agent6.security_association]]\nhome_address = \"{}\"\nspi = {STORM_SPI}\n\
             key = \"{}\"\nalgorithm = \"hmac-sha1\"\nreplay = \"timestamps\"\n\
             timestamp_tolerance_s = {STORM_TOLERANCE_S}\n",
            storm_home6(m),
            hex(&storm_key(m))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The plans mipdp makes of `s` written with its sections and with its bulk file (in
    /// `dir`, named "f.txt"): what the two forms must agree on.
    fn sections_and_file_plans(
        s: &Scenario,
        dir: &std::path::Path,
    ) -> (mipdp_control::node::NodePlan, mipdp_control::node::NodePlan) {
        use mipdp_control::config::Config;
        let head = Head {
            worker_core: 1,
            mbufs: 16384,
            mbuf_cache: 250,
            ..Head::default()
        };
        let mut sections = Vec::new();
        s.write_config(&mut sections, &head).unwrap();
        let sections = Config::parse(std::str::from_utf8(&sections).unwrap(), "s.toml")
            .unwrap()
            .plan()
            .unwrap();
        let head = Head {
            bindings_file: Some("f.txt".into()),
            ..head
        };
        let mut text = Vec::new();
        s.write_config(&mut text, &head).unwrap();
        let mut lines = Vec::new();
        s.write_bindings(&mut lines).unwrap();
        std::fs::write(dir.join("f.txt"), lines).unwrap();
        let path = dir.join("f.toml");
        let file = Config::parse(std::str::from_utf8(&text).unwrap(), path.to_str().unwrap())
            .unwrap()
            .plan()
            .unwrap();
        (sections, file)
    }

    #[test]
    fn a_bindings_file_holds_the_bindings_the_sections_would() {
        use mipdp_dataplane::update::Update;
        let dir = tempfile::tempdir().unwrap();
        for (kind, method) in [
            (Kind::Ha, Method::Ipip),
            (Kind::Ha, Method::Gre),
            (Kind::Tos, Method::Minimal),
            (Kind::Map, Method::Ipip),
            (Kind::Ha6, Method::Ipip),
        ] {
            let s = Scenario {
                kind,
                bindings: 300,
                profiles: 10,
                inner_size: 64,
                method,
                storm: None,
            };
            let (sections, plan) = sections_and_file_plans(&s, dir.path());
            let want: Vec<_> = sections
                .updates
                .iter()
                .filter_map(|u| match u {
                    Update::Binding { home, binding } => Some((*home, *binding)),
                    _ => None,
                })
                .collect();
            assert_eq!(want.len(), 300);
            assert!(!plan
                .updates
                .iter()
                .any(|u| matches!(u, Update::Binding { .. })));
            let file = plan.bindings_file.unwrap();
            assert_eq!(file.count, 300);
            let mut got = Vec::new();
            mipdp_control::node::bindings_file::read(
                &file.path,
                &plan.addrs4,
                &plan.addrs6,
                |h, b| got.push((h, b)),
            )
            .unwrap();
            assert_eq!(got, want, "{kind:?} {method:?}");
        }
    }

    #[test]
    fn a_multicast_file_holds_the_entries_the_sections_would() {
        use mipdp_dataplane::update::Update;
        let dir = tempfile::tempdir().unwrap();
        let s = Scenario {
            kind: Kind::Mma,
            bindings: 300,
            profiles: 10,
            inner_size: 64,
            method: Method::Ipip,
            storm: None,
        };
        let (sections, plan) = sections_and_file_plans(&s, dir.path());
        let want: Vec<_> = sections
            .updates
            .iter()
            .filter_map(|u| match u {
                Update::Multicast { key, entry } => Some((*key, *entry)),
                _ => None,
            })
            .collect();
        assert_eq!(want.len(), 300);
        assert!(!plan
            .updates
            .iter()
            .any(|u| matches!(u, Update::Multicast { .. })));
        let file = plan.multicast_file.unwrap();
        assert_eq!(file.count, 300);
        let mut got = Vec::new();
        mipdp_control::node::multicast_file::read(&file.path, |_, l| {
            assert_eq!(l.remove_after, None);
            got.push((l.mobile, l.entry));
        })
        .unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn frames_visit_every_binding_once_per_cycle() {
        for n in [1, 7, 1000, 4096] {
            let s = Scenario {
                kind: Kind::Ha,
                bindings: n,
                profiles: 0,
                inner_size: 64,
                method: Method::default(),
                storm: None,
            };
            let mut seen = vec![false; n];
            for j in 0..n {
                let f = s.frame(j);
                assert_eq!(f.len(), 78);
                let dst = u32::from_be_bytes([f[30], f[31], f[32], f[33]]);
                seen[(dst - HOME_BASE) as usize] = true;
            }
            assert!(seen.iter().all(|s| *s), "{n}");
        }
    }

    #[test]
    fn frames_carry_valid_checksums() {
        for kind in [Kind::Ha, Kind::Tos, Kind::Map, Kind::Ha6] {
            let s = Scenario {
                kind,
                bindings: 1000,
                profiles: 100,
                inner_size: 64,
                method: Method::default(),
                storm: None,
            };
            let f = s.frame(3);
            if kind == Kind::Map {
                assert_eq!(f.len(), 118);
            } else if kind == Kind::Ha6 {
                assert_eq!(f.len(), 78);
                assert_eq!(f[12..14], [0x86, 0xdd]);
            } else {
                assert!(checksum::verifies(&f[14..34]));
            }
        }
    }

    fn storm(authenticators: Authenticators) -> Scenario {
        Scenario {
            kind: Kind::Ha,
            bindings: 1000,
            profiles: 0,
            inner_size: 64,
            method: Method::default(),
            storm: Some(Storm {
                every: 10,
                mobiles: 7,
                cycle: 1000,
                authenticators,
                protocol: Protocol::Mip4,
            }),
        }
    }

    /// (home address, identification, authenticator verifies) of a storm frame.
    fn request_of(f: &[u8]) -> (u32, u64, bool) {
        assert!(checksum::verifies(&f[14..34]));
        assert_eq!(u16::from_be_bytes([f[36], f[37]]), 434);
        let msg = &f[42..];
        assert_eq!((msg[0], msg[24], msg[25]), (1, 32, 20));
        let home = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
        let id = u64::from_be_bytes(msg[16..24].try_into().unwrap_or_default());
        let m = (home - STORM_HOME_BASE - 1) as usize;
        let ok = hmac_md5(&storm_key(m), &msg[..30]) == msg[30..46];
        (home, id, ok)
    }

    #[test]
    fn storm_requests_replace_every_tenth_frame_and_verify() {
        let s = storm(Authenticators::Valid);
        for j in 0..1000 {
            let f = s.frame(j);
            if j % 10 == 9 {
                let (home, _, ok) = request_of(&f);
                assert!(ok, "{j}");
                assert_eq!(home, STORM_HOME_BASE + 1 + (j / 10 % 7) as u32);
            } else {
                assert_eq!(f.len(), 78);
            }
        }
        let (_, _, ok) = request_of(&storm(Authenticators::Bogus).frame(9));
        assert!(!ok);
    }

    #[test]
    fn storm_identifications_stay_fresh_when_the_list_cycles() {
        let s = storm(Authenticators::Valid);
        let mut last: HashMap<u32, u64> = HashMap::new();
        // Three cycles: each request's identification is later than the mobile's last,
        // compared modulo 2^64 as the home agent compares NTP timestamps.
        for j in (9..3000).step_by(10) {
            let (home, id, _) = request_of(&s.frame(j));
            if let Some(prev) = last.insert(home, id) {
                let diff = id.wrapping_sub(prev) as i64;
                assert!(diff > 0, "frame {j}: {id:#x} after {prev:#x}");
            }
        }
        assert_eq!(last.len(), 7);
    }

    fn storm6(authenticators: Authenticators) -> Storm {
        Storm {
            every: 10,
            mobiles: 7,
            cycle: 1000,
            authenticators,
            protocol: Protocol::Mip6,
        }
    }

    /// mipdp's own IPv6 home agent, configured as `write_home_agent6` configures it.
    fn home_agent6(storm: &Storm) -> mipdp_control::signalling::mip6::HomeAgent6 {
        use mipdp_control::signalling::mip4::config::Key;
        use mipdp_control::signalling::mip6::{HomeAgent6, HomeAgent6Config, SecurityAssociation6};
        HomeAgent6::new(HomeAgent6Config {
            addresses: vec![HA6_ADDR],
            home_prefixes: vec![STORM_HOME6_PREFIX.parse().expect("prefix")],
            max_lifetime: u32::from(STORM_LIFETIME6) * 4,
            max_bindings: storm.mobiles,
            security_associations: (0..storm.mobiles)
                .map(|m| SecurityAssociation6 {
                    home_address: storm_home6(m),
                    spi: STORM_SPI,
                    key: Key(storm_key(m).to_vec()),
                    timestamp_tolerance: std::time::Duration::from_secs(STORM_TOLERANCE_S),
                })
                .collect(),
            operation: Default::default(),
            role: mipdp_control::signalling::mip6::Role6::HomeAgent,
        })
    }

    #[test]
    fn binding_update_storm_is_accepted_by_the_home_agent_cycle_after_cycle() {
        use mipdp_control::signalling::mip6::Reason;
        let s = storm6(Authenticators::Valid);
        assert_eq!(s.check(), Ok(()));
        let mut ha = home_agent6(&s);
        let now = std::time::SystemTime::now();
        let mut accepted = 0;
        // Three cycles of the template list: every Binding Update stays fresh (sequence
        // number and timestamp) however often the list comes round.
        for j in (9..3000).step_by(10) {
            let f = s.frame_of(j);
            assert_eq!(u16::from_be_bytes([f[12], f[13]]), 0x86dd);
            let outcome = ha.handle_binding_update(&f[14..], now);
            assert_eq!(outcome.reason, Reason::Registered, "frame {j}");
            assert!(outcome.reply.is_some());
            accepted += 1;
        }
        assert_eq!(accepted, 300);
        let mut ha = home_agent6(&s);
        let f = storm6(Authenticators::Bogus).frame_of(9);
        assert_eq!(
            ha.handle_binding_update(&f[14..], now).reason,
            Reason::FailedAuthentication
        );
    }

    #[test]
    fn every_method_the_mma_and_the_ipv6_home_agent_take_the_path_they_name() {
        use mipdp_dataplane::port::memory::MemPool;
        use mipdp_dataplane::port::PacketBuf;
        use mipdp_dataplane::{Action, Processor};
        let pool = MemPool::new(4);
        let cases = [
            (Kind::Ha, Method::Ipip, 4u8),
            (Kind::Ha, Method::Minimal, 55),
            (Kind::Ha, Method::Gre, 47),
            (Kind::Mma, Method::Ipip, 41),
            (Kind::Ha6, Method::Ipip, 41),
        ];
        for (kind, method, protocol) in cases {
            let s = Scenario {
                kind,
                bindings: 100,
                profiles: 0,
                inner_size: 64,
                method,
                storm: None,
            };
            assert_eq!(s.check(), Ok(()));
            let mut engine = s.engine();
            for j in 0..100 {
                let mut p = pool.packet(&s.frame(j)).unwrap();
                assert_eq!(
                    engine.process(0, &mut p),
                    Action::Forward(1),
                    "{kind:?} {method:?} {j}"
                );
                let out = p.data();
                match kind {
                    Kind::Mma => {
                        // IPv6-in-IPv6 from the MMA to the mobile's group, sent to the
                        // group's 33:33 Ethernet address (RFC 2464 §7).
                        let i = j % 100 * multiplier(100) % 100;
                        let g = group(i).octets();
                        assert_eq!(out[..6], [0x33, 0x33, g[12], g[13], g[14], g[15]]);
                        // A Destination Options header with the Tunnel Encapsulation
                        // Limit (RFC 2473 §4.1.1) comes first, then the inner packet.
                        assert_eq!(out[14 + 6], 60);
                        assert_eq!(out[14 + 40], protocol);
                        assert_eq!(out[14 + 8..14 + 24], MMA_ADDR.octets());
                        assert_eq!(out[14 + 24..14 + 40], g);
                    }
                    Kind::Ha6 => {
                        // IPv6-in-IPv6 from the home agent to the mobile's care-of
                        // address, the Tunnel Encapsulation Limit option first.
                        let i = j % 100 * multiplier(100) % 100;
                        assert_eq!(out[12..14], [0x86, 0xdd]);
                        assert_eq!(out[14 + 6], 60);
                        assert_eq!(out[14 + 40], protocol);
                        assert_eq!(out[14 + 8..14 + 24], HA6_ADDR.octets());
                        assert_eq!(out[14 + 24..14 + 40], lcoa(i).octets());
                        assert_eq!(out[14 + 48 + 24..14 + 48 + 40], rcoa(i).octets());
                    }
                    _ => {
                        assert_eq!(out[12..14], [0x08, 0x00]);
                        assert_eq!(out[14 + 9], protocol, "{method:?}");
                        assert_eq!(out[14 + 12..14 + 16], HA_ADDR.octets());
                    }
                }
            }
        }
    }
}
