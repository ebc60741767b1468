//! One binding record and its explicit, versioned binary format.
//!
//! The format is written by hand so that it never changes by accident with a struct's
//! layout: a format version byte, then the fields in a fixed order, then a CRC-32 of
//! everything before it. All integers are big-endian.
//!
//! Format version 2 (this build writes it, and reads versions 1 and 2):
//!
//! ```text
//! version        u8   = 2 (1: the same fields up to the profiles, no role data)
//! role           u8   1 HA, 2 MAP, 3 MMA, 4 CN, 5 FA
//! home address   addr (u8 family 4|6, then 4 or 16 bytes)
//! care-of count  u8, then that many addr
//! encapsulation  u8   1 IP in IP, 2 minimal, 3 GRE
//! tunnel source  addr
//! lifetime       u32  seconds granted
//! expiry         u8   0 never | 1 at, then u64 unix seconds, u32 nanoseconds
//! replay         u8   presence bits: 1 identification, 2 sequence, 4 timestamp;
//!                     then u64 identification, u16 sequence, u64 timestamp, each if present
//! SPI            u8   0 absent | 1 present, then u32
//! NAI            u8   0 absent | 1 present, then u16 length and that many UTF-8 bytes
//! profile count  u16, then per profile u32 session, u32 number
//! role data      u8   version 2 only: 0 none | 1 MMA | 2 FA, then
//!                     MMA: group u8 0 absent | 1 present, then addr;
//!                          forwarding u8 0 no | 1 yes, then the new MMA's addr,
//!                          u64 unix seconds, u32 nanoseconds (until when)
//!                     FA:  u8 ×6 the mobile's MAC, u16 the port index of its link
//! checksum       u32  CRC-32 (IEEE) of every byte before it
//! ```
//!
//! Version 2 added the role data so that MMA registrations and foreign-agent visitors
//! can be backed up (issue 6); a version-1 record decodes with [`RoleData::None`]. The
//! store's format marker ([`super::STORE_FORMAT_VERSION`]) is unchanged: the table
//! layout is the same, and a build that reads only version-1 records refuses a version-2
//! record as a newer format, with the error that says so.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mipdp_dataplane::profile::ProfileId;
use mipdp_dataplane::tables::Encap;

use crate::state::bindings::Expiry;

/// The record format version this build writes, and the newest it reads.
pub const RECORD_FORMAT_VERSION: u8 = 2;

/// The oldest record format version this build reads.
pub const OLDEST_RECORD_FORMAT_VERSION: u8 = 1;

/// The role that owns a binding: which part of mipdp restores it after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Home agent (RFC 5944 §3.8, RFC 6275 §10).
    HomeAgent,
    /// HMIPv6 mobility anchor point (RFC 5380 §6.1).
    MobilityAnchorPoint,
    /// Multicast mobility management agent.
    MulticastAgent,
    /// Correspondent node with route optimisation (RFC 6275 §9).
    Correspondent,
    /// Foreign agent, one visitor list entry (RFC 5944 §3.7).
    ForeignAgent,
}

impl Role {
    /// Every role, in code order.
    pub const ALL: [Role; 5] = [
        Role::HomeAgent,
        Role::MobilityAnchorPoint,
        Role::MulticastAgent,
        Role::Correspondent,
        Role::ForeignAgent,
    ];

    /// The role's code in the format; never reuse a code.
    pub fn code(self) -> u8 {
        match self {
            Role::HomeAgent => 1,
            Role::MobilityAnchorPoint => 2,
            Role::MulticastAgent => 3,
            Role::Correspondent => 4,
            Role::ForeignAgent => 5,
        }
    }

    /// The role with this code.
    pub fn from_code(code: u8) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
}

fn encap_code(encap: Encap) -> u8 {
    match encap {
        Encap::IpInIp => 1,
        Encap::Minimal => 2,
        Encap::Gre => 3,
    }
}

fn encap_from_code(code: u8) -> Option<Encap> {
    Encap::ALL.into_iter().find(|e| encap_code(*e) == code)
}

/// The replay-protection state to carry over a restart, so that a replayed request
/// is still refused after it. RFC 5944 §5.7, RFC 6275 §9.5.1, RFC 4285 §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayState {
    /// The last accepted MIPv4 Identification (timestamp or nonce). RFC 5944 §5.7.
    pub last_identification: Option<u64>,
    /// The last accepted MIPv6 binding update sequence number. RFC 6275 §9.5.1.
    pub last_sequence: Option<u16>,
    /// The last accepted mobility message replay protection timestamp. RFC 4285 §5.
    pub last_timestamp: Option<u64>,
}

/// An MMA registration's own state (docs/mma-registration.md): what the multicast map
/// holds for it beyond the binding fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MulticastState {
    /// The mobile's multicast group, while it is registered (None while forwarding).
    pub group: Option<IpAddr>,
    /// After a de-registration naming a new MMA: that MMA, and until when packets for
    /// the home address and its care-of address are forwarded to it.
    pub forward: Option<(IpAddr, SystemTime)>,
}

/// A foreign agent's visitor list entry's own state (RFC 5944 §3.7.1): where the mobile
/// is on the visited link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorState {
    /// The mobile's link-layer address.
    pub mac: [u8; 6],
    /// The port index of its link.
    pub port: u16,
}

/// The state only one role's records carry (format version 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoleData {
    /// Nothing beyond the common fields (home agent, MAP, correspondent; every
    /// version-1 record).
    #[default]
    None,
    /// An MMA registration or forwarding to a new MMA.
    Multicast(MulticastState),
    /// A foreign agent's visitor.
    Visitor(VisitorState),
}

/// One binding as the backup holds it; the key is (role, home address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The role that owns the binding.
    pub role: Role,
    /// The mobile's home address (for a MAP: the regional care-of address).
    pub home_address: IpAddr,
    /// The care-of addresses, in registration order (at most 255).
    pub care_of: Vec<IpAddr>,
    /// How packets are tunnelled to the care-of addresses.
    pub encap: Encap,
    /// The outer source address of the tunnel.
    pub tunnel_source: IpAddr,
    /// The lifetime granted, in seconds.
    pub lifetime: u32,
    /// When the binding lapses.
    pub expires: Expiry,
    /// Replay-protection state.
    pub replay: ReplayState,
    /// The security parameter index of the mobility security association, if any.
    pub spi: Option<u32>,
    /// The mobile's network access identifier, if it gave one (RFC 2794, RFC 4283).
    pub nai: Option<String>,
    /// The service profiles this binding refers to.
    pub profiles: Vec<ProfileId>,
    /// The state only its role has (MMA, foreign agent).
    pub role_data: RoleData,
}

/// Why a record could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// More than 255 care-of addresses.
    #[error("{0} care-of addresses; a record holds at most 255")]
    TooManyCareOf(usize),
    /// A NAI longer than 65535 bytes.
    #[error("a NAI of {0} bytes; a record holds at most 65535")]
    NaiTooLong(usize),
    /// More than 65535 profile references.
    #[error("{0} profile references; a record holds at most 65535")]
    TooManyProfiles(usize),
    /// An expiry (or an MMA's forwarding end) before 1970.
    #[error("an expiry before 1970-01-01")]
    ExpiryBeforeEpoch,
}

/// Why bytes are not a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the fields need.
    #[error("truncated")]
    Truncated,
    /// Format version 0, which was never written.
    #[error("format version 0 is not a valid version")]
    BadVersion,
    /// A newer format version than this build reads.
    #[error("record format version {0} is newer than this build reads ({RECORD_FORMAT_VERSION})")]
    NewerVersion(u8),
    /// The checksum does not match the bytes.
    #[error("checksum mismatch")]
    BadChecksum,
    /// An unknown role code.
    #[error("unknown role code {0}")]
    BadRole(u8),
    /// An unknown address family.
    #[error("unknown address family {0}")]
    BadFamily(u8),
    /// An unknown encapsulation code.
    #[error("unknown encapsulation code {0}")]
    BadEncap(u8),
    /// An unknown tag in a tagged field (expiry, SPI, NAI, role data) or unknown
    /// presence bits.
    #[error("unknown tag {0}")]
    BadTag(u8),
    /// An expiry whose nanoseconds are not below one second or that overflows.
    #[error("invalid expiry time")]
    BadExpiry,
    /// A NAI that is not UTF-8.
    #[error("NAI is not UTF-8")]
    BadNai,
    /// Bytes between the last field and the checksum.
    #[error("{0} unexpected bytes after the last field")]
    TrailingBytes(usize),
}

impl Record {
    /// The key the backup stores this record under.
    pub fn key(&self) -> Vec<u8> {
        key(self.role, self.home_address)
    }

    /// The record in format version [`RECORD_FORMAT_VERSION`].
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(96);
        out.push(RECORD_FORMAT_VERSION);
        out.push(self.role.code());
        put_addr(&mut out, self.home_address);
        let count = u8::try_from(self.care_of.len())
            .map_err(|_| EncodeError::TooManyCareOf(self.care_of.len()))?;
        out.push(count);
        for addr in &self.care_of {
            put_addr(&mut out, *addr);
        }
        out.push(encap_code(self.encap));
        put_addr(&mut out, self.tunnel_source);
        out.extend_from_slice(&self.lifetime.to_be_bytes());
        match self.expires {
            Expiry::Never => out.push(0),
            Expiry::At(t) => {
                out.push(1);
                put_time(&mut out, t)?;
            }
        }
        let r = &self.replay;
        let bits = u8::from(r.last_identification.is_some())
            | u8::from(r.last_sequence.is_some()) << 1
            | u8::from(r.last_timestamp.is_some()) << 2;
        out.push(bits);
        if let Some(v) = r.last_identification {
            out.extend_from_slice(&v.to_be_bytes());
        }
        if let Some(v) = r.last_sequence {
            out.extend_from_slice(&v.to_be_bytes());
        }
        if let Some(v) = r.last_timestamp {
            out.extend_from_slice(&v.to_be_bytes());
        }
        match self.spi {
            None => out.push(0),
            Some(spi) => {
                out.push(1);
                out.extend_from_slice(&spi.to_be_bytes());
            }
        }
        match &self.nai {
            None => out.push(0),
            Some(nai) => {
                let len =
                    u16::try_from(nai.len()).map_err(|_| EncodeError::NaiTooLong(nai.len()))?;
                out.push(1);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(nai.as_bytes());
            }
        }
        let count = u16::try_from(self.profiles.len())
            .map_err(|_| EncodeError::TooManyProfiles(self.profiles.len()))?;
        out.extend_from_slice(&count.to_be_bytes());
        for p in &self.profiles {
            out.extend_from_slice(&p.session.to_be_bytes());
            out.extend_from_slice(&p.number.to_be_bytes());
        }
        match self.role_data {
            RoleData::None => out.push(0),
            RoleData::Multicast(m) => {
                out.push(1);
                match m.group {
                    None => out.push(0),
                    Some(group) => {
                        out.push(1);
                        put_addr(&mut out, group);
                    }
                }
                match m.forward {
                    None => out.push(0),
                    Some((to, until)) => {
                        out.push(1);
                        put_addr(&mut out, to);
                        put_time(&mut out, until)?;
                    }
                }
            }
            RoleData::Visitor(v) => {
                out.push(2);
                out.extend_from_slice(&v.mac);
                out.extend_from_slice(&v.port.to_be_bytes());
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        Ok(out)
    }

    /// Parses a record; any malformed input is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Record, DecodeError> {
        let version = *bytes.first().ok_or(DecodeError::Truncated)?;
        match version {
            0 => return Err(DecodeError::BadVersion),
            OLDEST_RECORD_FORMAT_VERSION..=RECORD_FORMAT_VERSION => {}
            newer => return Err(DecodeError::NewerVersion(newer)),
        }
        // The checksum is checked first, so a flipped bit reads as what it is rather
        // than as whichever field it happened to land in.
        let body_len = bytes.len().checked_sub(4).ok_or(DecodeError::Truncated)?;
        let (body, crc) = bytes.split_at(body_len);
        if body.is_empty() {
            return Err(DecodeError::Truncated);
        }
        let crc = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc != crc32fast::hash(body) {
            return Err(DecodeError::BadChecksum);
        }
        let mut r = Reader {
            bytes: body,
            pos: 1,
        };
        let role = r.u8()?;
        let role = Role::from_code(role).ok_or(DecodeError::BadRole(role))?;
        let home_address = r.addr()?;
        let count = r.u8()?;
        let care_of = (0..count)
            .map(|_| r.addr())
            .collect::<Result<Vec<_>, _>>()?;
        let encap = r.u8()?;
        let encap = encap_from_code(encap).ok_or(DecodeError::BadEncap(encap))?;
        let tunnel_source = r.addr()?;
        let lifetime = r.u32()?;
        let expires = match r.u8()? {
            0 => Expiry::Never,
            1 => Expiry::At(r.time()?),
            tag => return Err(DecodeError::BadTag(tag)),
        };
        let bits = r.u8()?;
        if bits & !0b111 != 0 {
            return Err(DecodeError::BadTag(bits));
        }
        let replay = ReplayState {
            last_identification: if bits & 1 != 0 { Some(r.u64()?) } else { None },
            last_sequence: if bits & 2 != 0 { Some(r.u16()?) } else { None },
            last_timestamp: if bits & 4 != 0 { Some(r.u64()?) } else { None },
        };
        let spi = match r.u8()? {
            0 => None,
            1 => Some(r.u32()?),
            tag => return Err(DecodeError::BadTag(tag)),
        };
        let nai = match r.u8()? {
            0 => None,
            1 => {
                let len = usize::from(r.u16()?);
                let raw = r.take(len)?;
                Some(String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::BadNai)?)
            }
            tag => return Err(DecodeError::BadTag(tag)),
        };
        let count = r.u16()?;
        let profiles = (0..count)
            .map(|_| {
                Ok(ProfileId {
                    session: r.u32()?,
                    number: r.u32()?,
                })
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        let role_data = if version >= 2 {
            match r.u8()? {
                0 => RoleData::None,
                1 => {
                    let group = match r.u8()? {
                        0 => None,
                        1 => Some(r.addr()?),
                        tag => return Err(DecodeError::BadTag(tag)),
                    };
                    let forward = match r.u8()? {
                        0 => None,
                        1 => Some((r.addr()?, r.time()?)),
                        tag => return Err(DecodeError::BadTag(tag)),
                    };
                    RoleData::Multicast(MulticastState { group, forward })
                }
                2 => RoleData::Visitor(VisitorState {
                    mac: r.array()?,
                    port: r.u16()?,
                }),
                tag => return Err(DecodeError::BadTag(tag)),
            }
        } else {
            RoleData::None
        };
        if r.pos != body.len() {
            return Err(DecodeError::TrailingBytes(body.len() - r.pos));
        }
        Ok(Record {
            role,
            home_address,
            care_of,
            encap,
            tunnel_source,
            lifetime,
            expires,
            replay,
            spi,
            nai,
            profiles,
            role_data,
        })
    }
}

/// A point in time as u64 unix seconds and u32 nanoseconds.
fn put_time(out: &mut Vec<u8>, t: SystemTime) -> Result<(), EncodeError> {
    let since = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| EncodeError::ExpiryBeforeEpoch)?;
    out.extend_from_slice(&since.as_secs().to_be_bytes());
    out.extend_from_slice(&since.subsec_nanos().to_be_bytes());
    Ok(())
}

/// The key of the record for (`role`, `home_address`): the role code, then the address.
pub fn key(role: Role, home_address: IpAddr) -> Vec<u8> {
    let mut out = Vec::with_capacity(18);
    out.push(role.code());
    put_addr(&mut out, home_address);
    out
}

fn put_addr(out: &mut Vec<u8>, addr: IpAddr) {
    match addr {
        IpAddr::V4(a) => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.push(6);
            out.extend_from_slice(&a.octets());
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A point in time written by [`put_time`].
    fn time(&mut self) -> Result<SystemTime, DecodeError> {
        let secs = self.u64()?;
        let nanos = self.u32()?;
        if nanos >= 1_000_000_000 {
            return Err(DecodeError::BadExpiry);
        }
        UNIX_EPOCH
            .checked_add(Duration::new(secs, nanos))
            .ok_or(DecodeError::BadExpiry)
    }

    fn addr(&mut self) -> Result<IpAddr, DecodeError> {
        match self.u8()? {
            4 => Ok(IpAddr::V4(Ipv4Addr::from(self.array::<4>()?))),
            6 => Ok(IpAddr::V6(Ipv6Addr::from(self.array::<16>()?))),
            family => Err(DecodeError::BadFamily(family)),
        }
    }
}
