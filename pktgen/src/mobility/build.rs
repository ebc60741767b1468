//! The frames of the mobility workloads, written in place into a transmit buffer: data
//! probes from the correspondent to a mobile's home address (plain or tunnelled towards
//! an agent), authenticated Mobile IPv4 Registration Requests, authenticated Mobile IPv6
//! Binding Updates, and malformed frames. Nothing here allocates; the HMACs run on the
//! stack.
//!
//! A data probe's UDP payload is [`DATA_MAGIC`], the sequence number and the transmit
//! timestamp (ns since the run started), zero padding after; a malformed data-shaped
//! frame carries [`MALFORMED_MAGIC`] instead, so that one the device forwards anyway is
//! recognised and counted by kind rather than mistaken for data.

use hmac::{Hmac, Mac};
use mipdp_dataplane::wire::checksum;

use super::keys::Keys;
use super::plan::{AddressPlan, Family, EXTRA_MOBILES};
use super::wire::*;

/// The first payload bytes of a data probe: "MPDM" (mipdp mobility).
pub const DATA_MAGIC: u32 = 0x4d50_444d;
/// The first payload bytes of a malformed data-shaped frame: "MPDX".
pub const MALFORMED_MAGIC: u32 = 0x4d50_4458;
/// Probe payload bytes: magic (4), sequence number (8), timestamp (8).
pub const PROBE_LEN: usize = 20;
/// Largest frame without FCS: a 1500-byte IP packet in Ethernet II.
pub const MAX_FRAME_LEN: usize = ETHERNET_LEN + 1500;
/// UDP port of the data probes (source and destination).
pub const DATA_PORT: u16 = 9;
/// UDP port of Mobile IPv4 registration. RFC 5944 §3.
pub const REGISTRATION_PORT: u16 = 434;
/// TTL / hop limit the generator sends with.
pub const SEND_TTL: u8 = 64;
/// Length of a Registration Request with the MN-HA Authentication Extension (HMAC-MD5):
/// 24 fixed bytes, 8 of identification, 2 + 4 + 16 of extension. RFC 5944 §3.3, §3.5.2.
pub const REQUEST_LEN: usize = 24 + 2 + 4 + 16;
/// A Registration Request frame: Ethernet, IPv4, UDP, the request.
pub const REQUEST_FRAME_LEN: usize = ETHERNET_LEN + IPV4_LEN + UDP_LEN + REQUEST_LEN;
/// The unknown extension a malformed request carries (type 90: 0-127, so the home agent
/// must reject the request with 134, RFC 5944 §3.8.2.1 / §3.6.1.1), 4 bytes.
const UNKNOWN_EXTENSION: [u8; 4] = [90, 2, 0, 0];
/// Type and length of the Mobile-Home Authentication Extension. RFC 5944 §3.5.2.
const MN_HA_EXTENSION: [u8; 2] = [32, 20];
/// Destination Options header with the Home Address option (24 bytes). RFC 6275 §6.3.
const DESTINATION_OPTIONS_LEN: usize = 24;
/// Mobility Header of a Binding Update with Replay Protection and MN-HA authentication
/// options (48 bytes, see [`Workload::write_binding_update`]).
const BINDING_UPDATE_MH_LEN: usize = 48;
/// A Binding Update frame: Ethernet, IPv6, Destination Options, Mobility Header.
pub const BINDING_UPDATE_FRAME_LEN: usize =
    ETHERNET_LEN + IPV6_LEN + DESTINATION_OPTIONS_LEN + BINDING_UPDATE_MH_LEN;
/// An unassigned IPv4 option (copied, class 0, number 30), 4 bytes. RFC 791 §3.1.
const UNKNOWN_IPV4_OPTION: [u8; 4] = [0x9e, 4, 0, 0];

/// What the generator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// Correspondent → home address data for N mobiles.
    CnToHome,
    /// Data tunnelled towards a foreign agent / MAP / MMA (outer to the agent, inner to
    /// the mobile).
    Encapsulated,
    /// Authenticated Mobile IPv4 Registration Requests.
    Mip4Storm,
    /// Authenticated Mobile IPv6 Binding Updates.
    Mip6Storm,
    /// Data with re-registrations moving mobiles between two care-of addresses.
    Handover,
    /// Data with a share of malformed frames.
    Malformed,
}

/// A tunnel: how the encapsulated workload sends, and what a data workload expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tunnel {
    /// IPv4 outer header: IPv4 in IPv4 (protocol 4, RFC 2003) or IPv6 in IPv4 (41).
    Ipip,
    /// IPv4 outer header and GRE (protocol 47, RFC 2784).
    Gre,
    /// IPv6 outer header: IPv6 in IPv6 (next header 41, RFC 2473) or IPv4 in IPv6 (4).
    Ip6ip6,
    /// Minimal encapsulation of IPv4 (protocol 55, RFC 2004): the original header turned
    /// into the outer one and a minimal forwarding header after it. A home agent's
    /// tunnel only: the encapsulated workload does not send in it.
    Minimal,
}

impl Tunnel {
    /// Bytes the tunnel adds in front of the inner packet (minimal encapsulation: the
    /// forwarding header with the original source, which a correspondent's packets
    /// need).
    pub fn overhead(self) -> usize {
        match self {
            Tunnel::Ipip => IPV4_LEN,
            Tunnel::Gre => IPV4_LEN + GRE_LEN,
            Tunnel::Ip6ip6 => IPV6_LEN,
            Tunnel::Minimal => MINIMAL_WITH_SOURCE_LEN,
        }
    }

    /// The name on the command line and in mipdp's `[[binding]] encap`.
    pub fn name(self) -> &'static str {
        match self {
            Tunnel::Ipip => "ipip",
            Tunnel::Gre => "gre",
            Tunnel::Ip6ip6 => "ip6ip6",
            Tunnel::Minimal => "minimal",
        }
    }
}

/// Frame sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    /// Every data frame this long (bytes without FCS).
    Fixed(usize),
    /// Simple IMIX: 7 : 4 : 1 of 64, 576 and 1514-byte frames (without FCS; 1514 holds a
    /// 1500-byte IP packet), interleaved in a cycle of 12, mean 357.8 bytes.
    Imix,
}

/// The IMIX cycle: 7 × 64, 4 × 576, 1 × 1514, spread out.
pub const IMIX_CYCLE: [usize; 12] = [64, 576, 64, 64, 576, 64, 1514, 64, 576, 64, 64, 576];

impl Sizes {
    /// The size of data frame `sequence`, raised to `min` (an IMIX 64 under a tunnel
    /// header or an IPv6 probe is too small to carry the probe).
    #[inline]
    pub fn at(self, sequence: u64, min: usize) -> usize {
        let s = match self {
            Sizes::Fixed(n) => n,
            Sizes::Imix => IMIX_CYCLE[(sequence % 12) as usize],
        };
        s.max(min)
    }
}

/// What frame `sequence` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A data probe (checked on the receive side).
    Data,
    /// A valid authenticated request (MIPv4 registration or MIPv6 binding update): a
    /// reply is expected.
    Request,
    /// A malformed frame.
    Malformed(MalformedKind),
}

/// The malformed frames of the `malformed` workload, sent in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedKind {
    /// The IPv4 total length claims 100 bytes more than the frame carries.
    TruncatedPacket,
    /// The IPv4 header checksum is wrong.
    BadIpv4Checksum,
    /// The UDP checksum is wrong.
    BadUdpChecksum,
    /// The UDP length is larger than the IPv4 payload.
    BadUdpLength,
    /// An unassigned IPv4 option (type 0x9e) in the header of a data probe.
    UnknownIpv4Option,
    /// A Registration Request whose MN-HA authenticator is wrong (reply 131 expected).
    BadAuthenticator,
    /// A Registration Request with an unknown extension of type 90 before the
    /// authentication extension (reply 134 expected).
    UnknownExtension,
}

impl MalformedKind {
    /// Every kind, in the order the workload sends them.
    pub const ALL: [MalformedKind; 7] = [
        MalformedKind::TruncatedPacket,
        MalformedKind::BadIpv4Checksum,
        MalformedKind::BadUdpChecksum,
        MalformedKind::BadUdpLength,
        MalformedKind::UnknownIpv4Option,
        MalformedKind::BadAuthenticator,
        MalformedKind::UnknownExtension,
    ];

    /// The counter name.
    pub fn name(self) -> &'static str {
        match self {
            MalformedKind::TruncatedPacket => "truncated_packet",
            MalformedKind::BadIpv4Checksum => "bad_ipv4_checksum",
            MalformedKind::BadUdpChecksum => "bad_udp_checksum",
            MalformedKind::BadUdpLength => "bad_udp_length",
            MalformedKind::UnknownIpv4Option => "unknown_ipv4_option",
            MalformedKind::BadAuthenticator => "bad_authenticator",
            MalformedKind::UnknownExtension => "unknown_extension",
        }
    }

    /// Whether the frame is a Registration Request (the rest are data-shaped).
    pub fn is_request(self) -> bool {
        matches!(
            self,
            MalformedKind::BadAuthenticator | MalformedKind::UnknownExtension
        )
    }
}

/// Why a frame cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The buffer is not the frame's length.
    #[error("buffer of {got} bytes for a {want}-byte frame")]
    BufferSize {
        /// The buffer's length.
        got: usize,
        /// The frame's length.
        want: usize,
    },
}

/// Why a workload's settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// A fixed size below what the workload's frames need or above the largest.
    #[error("--size {size}: the {workload} workload's frames need {min}..={MAX_FRAME_LEN} bytes (without FCS)")]
    Size {
        /// The size asked for.
        size: usize,
        /// The smallest possible.
        min: usize,
        /// The workload's name.
        workload: &'static str,
    },
    /// The workload needs a frequency that is 0.
    #[error("{0}")]
    Mix(String),
    /// The key file has fewer keys than mobiles.
    #[error(
        "the key file has {keys} keys for {mobiles} mobiles (one hex key per line, mobile 0 first)"
    )]
    Keys {
        /// Keys in the file.
        keys: usize,
        /// Mobiles.
        mobiles: u32,
    },
    /// The address plan does not fit.
    #[error(transparent)]
    Plan(#[from] super::plan::PlanError),
}

/// Everything that decides the frames of a run; frame `sequence` is a pure function of
/// it and the sequence number, apart from the live timestamps of the requests.
#[derive(Debug, Clone)]
pub struct Workload {
    /// What is sent.
    pub kind: WorkloadKind,
    /// The addresses.
    pub plan: AddressPlan,
    /// The IP version of the data (the inner packets).
    pub family: Family,
    /// Data frame sizes.
    pub sizes: Sizes,
    /// Ethernet source.
    pub src_mac: [u8; 6],
    /// Ethernet destination.
    pub dst_mac: [u8; 6],
    /// The tunnel the encapsulated workload sends in.
    pub send_tunnel: Tunnel,
    /// How the static bindings of the IPv4 data workloads tunnel (mipdp's `[[binding]]
    /// encap`): ipip, gre or minimal; what the receive side expects by default.
    pub binding_tunnel: Tunnel,
    /// The mobiles' keys.
    pub keys: Keys,
    /// SPI of every mobile's security association.
    pub spi: u32,
    /// Lifetime the requests ask for: seconds (MIPv4) or the same in units of 4 s (MIPv6).
    pub lifetime_s: u16,
    /// Handover: one frame in `handover_every` is a re-registration.
    pub handover_every: u64,
    /// Malformed: this many frames in 1000 are malformed.
    pub malformed_per_mille: u64,
    /// The Sequence Number of each mobile's first Binding Update (the k-th has
    /// `bu_sequence_start + k`, modulo 2^16: RFC 6275 §9.5.1 compares them modulo 2^16).
    pub bu_sequence_start: u16,
    /// Unix time in ns at the run's epoch (tx_ns = 0): the requests' live timestamps are
    /// `unix_epoch_ns + tx_ns`, with no clock call per packet.
    pub unix_epoch_ns: u64,
    /// The last NTP timestamp a request carried: each one is later than the one before
    /// (RFC 5944 §5.7.1, RFC 4285 §6) even within one transmit burst.
    last_ntp: u64,
}

impl Workload {
    /// A workload with the defaults of the command line.
    pub fn new(kind: WorkloadKind, plan: AddressPlan, keys: Keys) -> Workload {
        Workload {
            kind,
            plan,
            family: Family::V4,
            sizes: Sizes::Fixed(64),
            src_mac: [0x02, 0, 0, 0, 0, 0x01],
            dst_mac: [0x02, 0, 0, 0, 0, 0x02],
            send_tunnel: Tunnel::Ipip,
            binding_tunnel: Tunnel::Ipip,
            keys,
            spi: 256,
            lifetime_s: 1800,
            handover_every: 100,
            malformed_per_mille: 100,
            bu_sequence_start: 0,
            unix_epoch_ns: 0,
            last_ntp: 0,
        }
    }

    /// The workload's name on the command line.
    pub fn name(&self) -> &'static str {
        match self.kind {
            WorkloadKind::CnToHome => "cn-to-home",
            WorkloadKind::Encapsulated => "encapsulated",
            WorkloadKind::Mip4Storm => "mip4-storm",
            WorkloadKind::Mip6Storm => "mip6-storm",
            WorkloadKind::Handover => "handover",
            WorkloadKind::Malformed => "malformed",
        }
    }

    /// The IP version of the signalling: MIPv6 for the binding update storm, MIPv4 for
    /// the rest.
    pub fn signalling_family(&self) -> Family {
        if self.kind == WorkloadKind::Mip6Storm {
            Family::V6
        } else {
            Family::V4
        }
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<(), WorkloadError> {
        self.plan.check()?;
        if self.send_tunnel == Tunnel::Minimal {
            return Err(WorkloadError::Mix(
                "the encapsulated workload sends in ipip, gre or ip6ip6, not minimal".into(),
            ));
        }
        let min = self.min_data_len();
        let sends_data = !matches!(self.kind, WorkloadKind::Mip4Storm | WorkloadKind::Mip6Storm);
        if let (Sizes::Fixed(size), true) = (self.sizes, sends_data) {
            if !(min..=MAX_FRAME_LEN).contains(&size) {
                return Err(WorkloadError::Size {
                    size,
                    min,
                    workload: self.name(),
                });
            }
        }
        let static_bindings = matches!(self.kind, WorkloadKind::CnToHome | WorkloadKind::Malformed);
        if self.binding_tunnel != Tunnel::Ipip
            && !(static_bindings
                && self.family == Family::V4
                && matches!(self.binding_tunnel, Tunnel::Gre | Tunnel::Minimal))
        {
            return Err(WorkloadError::Mix(format!(
                "--binding-encap {}: the static bindings of cn-to-home and malformed with --family 4 tunnel in ipip, gre or minimal (IPv6 ones in ip6ip6)",
                self.binding_tunnel.name()
            )));
        }
        if self.kind == WorkloadKind::Handover && self.handover_every < 2 {
            return Err(WorkloadError::Mix(
                "handover: one frame in --handover-every K (K >= 2; or --handovers per second under --rate) is a re-registration".into(),
            ));
        }
        if self.kind == WorkloadKind::Malformed && !(1..=1000).contains(&self.malformed_per_mille) {
            return Err(WorkloadError::Mix(
                "--malformed-per-mille must be 1..=1000".into(),
            ));
        }
        if matches!(self.kind, WorkloadKind::Handover | WorkloadKind::Malformed)
            && self.family != Family::V4
        {
            return Err(WorkloadError::Mix(format!(
                "the {} workload's registrations are Mobile IPv4: use --family 4",
                self.name()
            )));
        }
        if self.needs_keys() {
            self.keys.check(self.signalling_mobiles().end)?;
        }
        Ok(())
    }

    /// Whether the workload sends authenticated requests.
    pub fn needs_keys(&self) -> bool {
        !matches!(
            self.kind,
            WorkloadKind::CnToHome | WorkloadKind::Encapsulated
        )
    }

    /// The smallest data frame: Ethernet, the send tunnel, IP, UDP and the probe.
    pub fn min_data_len(&self) -> usize {
        let ip = match self.family {
            Family::V4 => IPV4_LEN,
            Family::V6 => IPV6_LEN,
        };
        let mut min = ETHERNET_LEN + ip + UDP_LEN + PROBE_LEN;
        if self.kind == WorkloadKind::Encapsulated {
            min += self.send_tunnel.overhead();
        }
        if self.kind == WorkloadKind::Malformed {
            // Room for the IPv4 option of UnknownIpv4Option.
            min += UNKNOWN_IPV4_OPTION.len();
        }
        min.max(64)
    }

    /// What frame `sequence` is.
    #[inline]
    pub fn frame_kind(&self, sequence: u64) -> FrameKind {
        match self.kind {
            WorkloadKind::CnToHome | WorkloadKind::Encapsulated => FrameKind::Data,
            WorkloadKind::Mip4Storm | WorkloadKind::Mip6Storm => FrameKind::Request,
            WorkloadKind::Handover => {
                let n = u64::from(self.plan.mobiles);
                if sequence < n || (sequence - n + 1) % self.handover_every == 0 {
                    FrameKind::Request
                } else {
                    FrameKind::Data
                }
            }
            WorkloadKind::Malformed => {
                // Bresenham: per_mille of every 1000 frames, spread evenly.
                let p = self.malformed_per_mille;
                let before = sequence * p / 1000;
                let after = (sequence + 1) * p / 1000;
                if after > before {
                    let i = (before % MalformedKind::ALL.len() as u64) as usize;
                    FrameKind::Malformed(MalformedKind::ALL[i])
                } else {
                    FrameKind::Data
                }
            }
        }
    }

    /// The length of frame `sequence` (without FCS).
    #[inline]
    pub fn frame_len(&self, sequence: u64) -> usize {
        match self.frame_kind(sequence) {
            FrameKind::Request if self.signalling_family() == Family::V6 => {
                BINDING_UPDATE_FRAME_LEN
            }
            FrameKind::Request => REQUEST_FRAME_LEN,
            FrameKind::Malformed(MalformedKind::UnknownExtension) => {
                REQUEST_FRAME_LEN + UNKNOWN_EXTENSION.len()
            }
            FrameKind::Malformed(MalformedKind::BadAuthenticator) => REQUEST_FRAME_LEN,
            FrameKind::Data | FrameKind::Malformed(_) => self.data_len(sequence),
        }
    }

    /// The length of data frame `sequence`.
    #[inline]
    pub fn data_len(&self, sequence: u64) -> usize {
        self.sizes.at(sequence, self.min_data_len())
    }

    /// Bytes in front of the inner packet of a data frame as sent.
    #[inline]
    pub fn send_overhead(&self) -> usize {
        ETHERNET_LEN
            + if self.kind == WorkloadKind::Encapsulated {
                self.send_tunnel.overhead()
            } else {
                0
            }
    }

    /// Writes frame `sequence`, sent `tx_ns` after the run's epoch, into `out` (exactly
    /// [`frame_len`](Self::frame_len) bytes); returns what it is.
    #[inline]
    pub fn write(
        &mut self,
        out: &mut [u8],
        sequence: u64,
        tx_ns: u64,
    ) -> Result<FrameKind, BuildError> {
        let want = self.frame_len(sequence);
        if out.len() != want {
            return Err(BuildError::BufferSize {
                got: out.len(),
                want,
            });
        }
        let kind = self.frame_kind(sequence);
        match kind {
            FrameKind::Data => self.write_data(out, sequence, tx_ns, DATA_MAGIC),
            FrameKind::Request => {
                let (mobile, which) = self.request_target(sequence);
                let ntp = self.next_ntp(tx_ns);
                match self.signalling_family() {
                    Family::V4 => self.write_registration(out, mobile, which, ntp, Flaw::None),
                    Family::V6 => {
                        let round = self.request_round(sequence);
                        let seq = self.bu_sequence_start.wrapping_add(round as u16);
                        self.write_binding_update(out, mobile, which, seq, ntp);
                    }
                }
            }
            FrameKind::Malformed(m) => self.write_malformed(out, m, sequence, tx_ns),
        }
        Ok(kind)
    }

    /// A strictly increasing NTP timestamp close to the wall clock at `tx_ns`.
    #[inline]
    fn next_ntp(&mut self, tx_ns: u64) -> u64 {
        let now = ntp_from_unix_ns(self.unix_epoch_ns.wrapping_add(tx_ns));
        let ntp = now.max(self.last_ntp.wrapping_add(1));
        self.last_ntp = ntp;
        ntp
    }

    /// Which request of the run frame `sequence` is (storms: every frame; handover: the
    /// first N frames, one registration per mobile, then every `handover_every`-th).
    #[inline]
    fn request_index(&self, sequence: u64) -> u64 {
        let n = u64::from(self.plan.mobiles);
        match self.kind {
            WorkloadKind::Handover if sequence >= n => n + (sequence - n) / self.handover_every,
            _ => sequence,
        }
    }

    /// The round of the request in frame `sequence`: how many requests its mobile sent
    /// before it.
    #[inline]
    pub fn request_round(&self, sequence: u64) -> u64 {
        self.request_index(sequence) / u64::from(self.plan.mobiles)
    }

    /// The mobile of the request in frame `sequence` and the care-of address (0 or 1) it
    /// registers: round after round each mobile alternates between its two, starting with
    /// the first (a handover's first round registers every mobile there, each later one
    /// moves it).
    #[inline]
    pub fn request_target(&self, sequence: u64) -> (u32, u32) {
        let r = self.request_index(sequence);
        let mobile = (r % u64::from(self.plan.mobiles)) as u32;
        let round = r / u64::from(self.plan.mobiles);
        (mobile, (round % 2) as u32)
    }

    /// The mobiles with security associations: all N, except for `malformed`, whose
    /// registrations come from the [`EXTRA_MOBILES`] after them (the N data mobiles have
    /// static bindings, which mipdp does not allow beside a security association).
    pub fn signalling_mobiles(&self) -> std::ops::Range<u32> {
        match self.kind {
            WorkloadKind::Malformed => self.plan.mobiles..self.plan.mobiles + EXTRA_MOBILES,
            _ => 0..self.plan.mobiles,
        }
    }

    /// A data probe (or a malformed data-shaped frame, by `magic`): Ethernet, the send
    /// tunnel if any, then IP/UDP from the correspondent to the mobile's home address.
    fn write_data(&self, out: &mut [u8], sequence: u64, tx_ns: u64, magic: u32) {
        let mobile = self.plan.mobile_of(sequence);
        let len = out.len();
        let inner_at = self.send_overhead();
        let inner_len = len - inner_at;
        let ethertype = if self.kind == WorkloadKind::Encapsulated {
            match self.send_tunnel {
                Tunnel::Ipip | Tunnel::Gre | Tunnel::Minimal => ETHERTYPE_IPV4,
                Tunnel::Ip6ip6 => ETHERTYPE_IPV6,
            }
        } else {
            match self.family {
                Family::V4 => ETHERTYPE_IPV4,
                Family::V6 => ETHERTYPE_IPV6,
            }
        };
        put_ethernet(out, self.dst_mac, self.src_mac, ethertype);
        if self.kind == WorkloadKind::Encapsulated {
            self.write_send_tunnel(out, inner_len);
        }
        let (udp_at, pseudo) = match self.family {
            Family::V4 => {
                let (src, dst) = (self.plan.correspondent4, self.plan.home4(mobile));
                Ipv4Header {
                    total_len: inner_len as u16,
                    ttl: SEND_TTL,
                    protocol: protocol::UDP,
                    src,
                    dst,
                    dont_fragment: true,
                }
                .put(out, inner_at, 0);
                let udp_len = inner_len - IPV4_LEN;
                let pseudo = checksum::pseudo_header_v4(
                    src.octets(),
                    dst.octets(),
                    protocol::UDP,
                    udp_len as u16,
                );
                (inner_at + IPV4_LEN, pseudo)
            }
            Family::V6 => {
                let (src, dst) = (self.plan.correspondent6, self.plan.home6(mobile));
                let udp_len = inner_len - IPV6_LEN;
                put_ipv6(
                    out,
                    inner_at,
                    udp_len as u16,
                    protocol::UDP,
                    SEND_TTL,
                    src,
                    dst,
                );
                let pseudo = checksum::pseudo_header_v6(
                    src.octets(),
                    dst.octets(),
                    protocol::UDP,
                    udp_len as u32,
                );
                (inner_at + IPV6_LEN, pseudo)
            }
        };
        let probe = udp_at + UDP_LEN;
        put_u32(out, probe, magic);
        put_u64(out, probe + 4, sequence);
        put_u64(out, probe + 12, tx_ns);
        out[probe + PROBE_LEN..].fill(0);
        put_udp(
            out,
            udp_at,
            (DATA_PORT, DATA_PORT),
            len - udp_at,
            pseudo,
            UDP_LEN + PROBE_LEN,
        );
    }

    /// The outer header (and GRE header) of the encapsulated workload: from the entry
    /// point to the agent. (Minimal encapsulation is refused by [`Self::check`].)
    fn write_send_tunnel(&self, out: &mut [u8], inner_len: usize) {
        let (inner_protocol, inner_ethertype) = match self.family {
            Family::V4 => (protocol::IPV4, ETHERTYPE_IPV4),
            Family::V6 => (protocol::IPV6, ETHERTYPE_IPV6),
        };
        match self.send_tunnel {
            Tunnel::Ipip | Tunnel::Gre => {
                let gre = self.send_tunnel == Tunnel::Gre;
                Ipv4Header {
                    total_len: (IPV4_LEN + if gre { GRE_LEN } else { 0 } + inner_len) as u16,
                    ttl: SEND_TTL,
                    protocol: if gre { protocol::GRE } else { inner_protocol },
                    src: self.plan.entry4,
                    dst: self.plan.agent4,
                    dont_fragment: true,
                }
                .put(out, ETHERNET_LEN, 0);
                if gre {
                    put_gre(out, ETHERNET_LEN + IPV4_LEN, inner_ethertype);
                }
            }
            Tunnel::Ip6ip6 => put_ipv6(
                out,
                ETHERNET_LEN,
                inner_len as u16,
                inner_protocol,
                SEND_TTL,
                self.plan.entry6,
                self.plan.agent6,
            ),
            Tunnel::Minimal => {}
        }
    }

    /// A Registration Request (RFC 5944 §3.3) from mobile `mobile`'s care-of address
    /// `which` (co-located) to the home agent, Identification `ntp` (timestamp replay
    /// protection, §5.7.1), the Mobile-Home Authentication Extension last with the
    /// HMAC-MD5 authenticator over everything before it up to and including the SPI
    /// (§3.5.1, §3.5.2). `flaw` spoils it on purpose.
    fn write_registration(&self, out: &mut [u8], mobile: u32, which: u32, ntp: u64, flaw: Flaw) {
        let care_of = self.plan.care_of4(mobile, which);
        let home = self.plan.home4(mobile);
        let agent = self.plan.agent4;
        let len = out.len();
        put_ethernet(out, self.dst_mac, self.src_mac, ETHERTYPE_IPV4);
        Ipv4Header {
            total_len: (len - ETHERNET_LEN) as u16,
            ttl: SEND_TTL,
            protocol: protocol::UDP,
            src: care_of,
            dst: agent,
            dont_fragment: false,
        }
        .put(out, ETHERNET_LEN, ntp as u16);
        let udp_at = ETHERNET_LEN + IPV4_LEN;
        let m = udp_at + UDP_LEN;
        out[m] = 1; // Registration Request
        out[m + 1] = 0; // flags: IP in IP, no simultaneous bindings
        put_u16(out, m + 2, self.lifetime_s);
        out[m + 4..m + 8].copy_from_slice(&home.octets());
        out[m + 8..m + 12].copy_from_slice(&agent.octets());
        out[m + 12..m + 16].copy_from_slice(&care_of.octets());
        put_u64(out, m + 16, ntp);
        let mut ext = m + 24;
        if flaw == Flaw::UnknownExtension {
            out[ext..ext + 4].copy_from_slice(&UNKNOWN_EXTENSION);
            ext += 4;
        }
        out[ext..ext + 2].copy_from_slice(&MN_HA_EXTENSION);
        put_u32(out, ext + 2, self.spi);
        let covered = ext + 6;
        let mut mac = self.keys.with_key(mobile, |key| {
            let Ok(mac) = Hmac::<md5::Md5>::new_from_slice(key) else {
                unreachable!("HMAC takes keys of any length");
            };
            mac
        });
        mac.update(&out[m..covered]);
        let tag: [u8; 16] = mac.finalize().into_bytes().into();
        out[covered..covered + 16].copy_from_slice(&tag);
        if flaw == Flaw::BadAuthenticator {
            out[covered] ^= 0xff;
        }
        let udp_len = len - udp_at;
        let pseudo = checksum::pseudo_header_v4(
            care_of.octets(),
            agent.octets(),
            protocol::UDP,
            udp_len as u16,
        );
        put_udp(
            out,
            udp_at,
            (REGISTRATION_PORT, REGISTRATION_PORT),
            udp_len,
            pseudo,
            udp_len,
        );
    }

    /// A Binding Update (RFC 6275 §6.1.7) from mobile `mobile`'s care-of address `which`
    /// to the IPv6 home agent: a Destination Options header with the Home Address option
    /// (§6.3), then the Mobility Header with the A and H flags, the Mobility Message
    /// Replay Protection option carrying `ntp` (RFC 4285 §6, at 8n+2) and the MN-HA
    /// Mobility Message Authentication option (RFC 4285 §5, at 4n+1) last, its
    /// authenticator First(96, HMAC-SHA1(key, care-of | home | MH data up to the SPI with
    /// the checksum zero)) (§5.1). The same layout as perf's mobility-gen.
    fn write_binding_update(
        &self,
        out: &mut [u8],
        mobile: u32,
        which: u32,
        sequence: u16,
        ntp: u64,
    ) {
        let care_of = self.plan.care_of6(mobile, which);
        let home = self.plan.home6(mobile);
        let agent = self.plan.agent6;
        put_ethernet(out, self.dst_mac, self.src_mac, ETHERTYPE_IPV6);
        put_ipv6(
            out,
            ETHERNET_LEN,
            (DESTINATION_OPTIONS_LEN + BINDING_UPDATE_MH_LEN) as u16,
            protocol::DESTINATION_OPTIONS,
            SEND_TTL,
            care_of,
            agent,
        );
        let d = ETHERNET_LEN + IPV6_LEN;
        // Next header MH, length 2 (24 bytes): PadN(4), Home Address option at 8n+6.
        out[d..d + 8].copy_from_slice(&[protocol::MOBILITY, 2, 1, 2, 0, 0, 201, 16]);
        out[d + 8..d + 24].copy_from_slice(&home.octets());
        let h = d + DESTINATION_OPTIONS_LEN;
        let mh = &mut out[h..h + BINDING_UPDATE_MH_LEN];
        mh.fill(0);
        mh[0] = 59; // Payload Proto: no next header
        mh[1] = 5; // (48 - 8) / 8
        mh[2] = 5; // Binding Update
        mh[6..8].copy_from_slice(&sequence.to_be_bytes());
        mh[8] = 0x80 | 0x40; // A, H
        mh[10..12].copy_from_slice(&self.lifetime_s.div_ceil(4).to_be_bytes());
        mh[12..14].copy_from_slice(&[1, 4]); // PadN, 4 bytes to reach 8n+2
        mh[18..20].copy_from_slice(&[10, 8]); // Mobility Message Replay Protection
        mh[20..28].copy_from_slice(&ntp.to_be_bytes());
        mh[28] = 0; // Pad1, to reach 4n+1
        mh[29..31].copy_from_slice(&[9, 17]); // Mobility Message Authentication
        mh[31] = 1; // subtype MN-HA
        mh[32..36].copy_from_slice(&self.spi.to_be_bytes());
        let mut mac = self.keys.with_key(mobile, |key| {
            let Ok(mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else {
                unreachable!("HMAC takes keys of any length");
            };
            mac
        });
        mac.update(&care_of.octets());
        mac.update(&home.octets());
        mac.update(&mh[..36]);
        let tag: [u8; 20] = mac.finalize().into_bytes().into();
        mh[36..48].copy_from_slice(&tag[..12]);
        // The checksum's pseudo-header has the home address as source (RFC 6275 §6.1.1:
        // the Home Address option swaps it in).
        let pseudo = checksum::pseudo_header_v6(
            home.octets(),
            agent.octets(),
            protocol::MOBILITY,
            BINDING_UPDATE_MH_LEN as u32,
        );
        let sum = checksum::finish(checksum::combine(&[pseudo, checksum::sum(mh)]));
        mh[4..6].copy_from_slice(&sum.to_be_bytes());
    }

    fn write_malformed(&mut self, out: &mut [u8], kind: MalformedKind, sequence: u64, tx_ns: u64) {
        let ip = ETHERNET_LEN;
        match kind {
            MalformedKind::BadAuthenticator | MalformedKind::UnknownExtension => {
                let mobile = self.plan.mobiles + (sequence % u64::from(EXTRA_MOBILES)) as u32;
                let ntp = self.next_ntp(tx_ns);
                let flaw = if kind == MalformedKind::BadAuthenticator {
                    Flaw::BadAuthenticator
                } else {
                    Flaw::UnknownExtension
                };
                self.write_registration(out, mobile, 0, ntp, flaw);
            }
            MalformedKind::TruncatedPacket => {
                self.write_data(out, sequence, tx_ns, MALFORMED_MAGIC);
                let claimed = (out.len() - ETHERNET_LEN + 100) as u16;
                rewrite_ipv4_word(out, ip, 2, claimed);
            }
            MalformedKind::BadIpv4Checksum => {
                self.write_data(out, sequence, tx_ns, MALFORMED_MAGIC);
                out[ip + 10] ^= 0x5a;
            }
            MalformedKind::BadUdpChecksum => {
                self.write_data(out, sequence, tx_ns, MALFORMED_MAGIC);
                let at = ip + IPV4_LEN + 6;
                out[at] ^= 0x5a;
            }
            MalformedKind::BadUdpLength => {
                self.write_data(out, sequence, tx_ns, MALFORMED_MAGIC);
                let at = ip + IPV4_LEN + 4;
                let udp_len = (out.len() - ip - IPV4_LEN + 64) as u16;
                put_u16(out, at, udp_len);
            }
            MalformedKind::UnknownIpv4Option => {
                // Write the probe 4 bytes further in, then widen the header over the gap.
                self.write_data(out, sequence, tx_ns, MALFORMED_MAGIC);
                let end = out.len();
                let header_end = ip + IPV4_LEN;
                out.copy_within(header_end..end - 4, header_end + 4);
                out[header_end..header_end + 4].copy_from_slice(&UNKNOWN_IPV4_OPTION);
                out[ip] = 0x46;
                out[ip + 10..ip + 12].fill(0);
                let sum = checksum::checksum(&out[ip..header_end + 4]);
                out[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
                // The UDP datagram lost 4 bytes of padding: fix its length (the checksum
                // is unchanged, padding was zero, but the length is summed twice).
                let udp = header_end + 4;
                let udp_len = (end - udp) as u16;
                let old = get_u16(out, udp + 4).unwrap_or(0);
                put_u16(out, udp + 4, udp_len);
                let c = get_u16(out, udp + 6).unwrap_or(0);
                let c = checksum::update(checksum::update(c, old, udp_len), old, udp_len);
                put_u16(out, udp + 6, if c == 0 { 0xffff } else { c });
            }
        }
    }
}

/// How a Registration Request is spoiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    None,
    BadAuthenticator,
    UnknownExtension,
}

/// Rewrites the 16-bit word at `offset` of the IPv4 header at `ip`, keeping the header
/// checksum right (RFC 1624).
fn rewrite_ipv4_word(out: &mut [u8], ip: usize, offset: usize, v: u16) {
    let old = get_u16(out, ip + offset).unwrap_or(0);
    let c = get_u16(out, ip + 10).unwrap_or(0);
    put_u16(out, ip + offset, v);
    put_u16(out, ip + 10, checksum::update(c, old, v));
}
