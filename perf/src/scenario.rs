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
//!
//! Frame j goes to home address (or RCoA) `j × M mod N` for a multiplier M coprime with the
//! N bindings, so a template list visits every binding once per N frames in an order with
//! no locality.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
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
const RCOA_BASE: u128 = 0x2001_0db8_0100_0000_0000_0000_0000_0000;
const LCOA_BASE: u128 = 0x2001_0db8_0200_0000_0000_0000_0000_0000;

/// The most bindings the address plan has room for (care-of addresses in 100.64.0.0/10).
pub const MAX_BINDINGS: usize = 1 << 22;
/// The most profiles (wildcards in 11.0.0.0/8: 65536 /24s, half of the profiles).
pub const MAX_PROFILES: usize = 1 << 17;

fn home(i: usize) -> Ipv4Addr {
    Ipv4Addr::from_bits(HOME_BASE + i as u32)
}
fn care_of(i: usize) -> Ipv4Addr {
    Ipv4Addr::from_bits(CARE_OF_BASE + i as u32)
}
fn rcoa(i: usize) -> Ipv6Addr {
    Ipv6Addr::from_bits(RCOA_BASE + i as u128 + 1)
}
fn lcoa(i: usize) -> Ipv6Addr {
    Ipv6Addr::from_bits(LCOA_BASE + i as u128 + 1)
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
fn ipv6_udp(src: Ipv6Addr, dst: Ipv6Addr, len: usize) -> Vec<u8> {
    let mut p = ipv6_header(src, dst, 17, len - 40);
    let pseudo = checksum::pseudo_header_v6(src.octets(), dst.octets(), 17, (len - 40) as u32);
    p.extend(udp(5000, 6000, len - 40, pseudo));
    p
}

fn ethernet(ethertype: u16, ip: &[u8]) -> Vec<u8> {
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
        Ok(())
    }

    /// Frame `j` of the template list (the forwarder's are the home agent's).
    pub fn frame(&self, j: usize) -> Vec<u8> {
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
        // Each binding adds a node-destination profile for its home address.
        let max_profiles = n.max(self.profiles) + 1024;
        match self.kind {
            Kind::Forwarder => {}
            Kind::Ha | Kind::Tos => write!(
                w,
                "\n[node]\nroles = [\"home-agent\"]\naddresses = [\"{HA_ADDR}\"]\n\
                 max_bindings = {}\nmax_profiles = {max_profiles}\n",
                n.max(65_536)
            )?,
            Kind::Map => write!(
                w,
                "\n[node]\nroles = [\"map\"]\naddresses = [\"{MAP_ADDR}\"]\n\
                 rcoa_prefixes = [\"2001:db8:100::/48\"]\n\
                 max_bindings = {}\nmax_profiles = {max_profiles}\n",
                n.max(65_536)
            )?,
        }
        for dev in ["net_null0", "net_null1"] {
            write!(w, "\n[[port]]\ndevice = \"{dev}\"\n")?;
            if let Some(p) = &head.pcap {
                writeln!(w, "rx_template_pcap = \"{p}\"")?;
            }
        }
        let gateway = match self.kind {
            Kind::Forwarder => return Ok(()),
            Kind::Ha | Kind::Tos => ("0.0.0.0/0", HA_GATEWAY.to_string()),
            Kind::Map => ("::/0", MAP_GATEWAY.to_string()),
        };
        write!(
            w,
            "\n[[route]]\nprefix = \"{}\"\nport = \"net_null1\"\nvia = \"{}\"\n\
             \n[[neighbour]]\nport = \"net_null1\"\naddress = \"{}\"\nmac = \"02:00:00:00:02:fe\"\n",
            gateway.0, gateway.1, gateway.1
        )?;
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
        for i in 0..n {
            let (home, care_of) = match self.kind {
                Kind::Map => (rcoa(i).to_string(), lcoa(i).to_string()),
                _ => (home(i).to_string(), care_of(i).to_string()),
            };
            write!(
                w,
                "\n[[binding]]\nhome = \"{home}\"\ncare_of = [\"{care_of}\"]\n"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_visit_every_binding_once_per_cycle() {
        for n in [1, 7, 1000, 4096] {
            let s = Scenario {
                kind: Kind::Ha,
                bindings: n,
                profiles: 0,
                inner_size: 64,
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
        for kind in [Kind::Ha, Kind::Tos, Kind::Map] {
            let s = Scenario {
                kind,
                bindings: 1000,
                profiles: 100,
                inner_size: 64,
            };
            let f = s.frame(3);
            if kind == Kind::Map {
                assert_eq!(f.len(), 118);
            } else {
                assert!(checksum::verifies(&f[14..34]));
            }
        }
    }
}
