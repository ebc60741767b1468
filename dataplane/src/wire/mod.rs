//! Zero-copy header views and `Repr` structs for every header the dataplane reads or
//! writes, in smoltcp's shape: a view (`XxxPacket<T: AsRef<[u8]>>`) whose `new_checked`
//! validates lengths once, field getters/setters through named byte ranges, and beside it a
//! plain `XxxRepr` with `parse` and `emit`.
//!
//! Every parser returns [`Error`], whose variants are the reasons the engine counts drops
//! by. Nothing here panics on any input, reads past a buffer or allocates.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod gre;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6ext;
pub mod mh;
pub mod mh_options;
pub mod minimal;
pub mod mip4;
pub mod udp;

/// Why a header could not be parsed or emitted. The engine counts drops by these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Error {
    /// The buffer ends before the header (or the length it declares) does.
    Truncated = 0,
    /// A length field or option exceeds what the protocol allows.
    Oversized = 1,
    /// The version field is not the one this parser reads.
    BadVersion = 2,
    /// A header-length field (IPv4 IHL, GRE, extension length) is impossible.
    BadHeaderLength = 3,
    /// A total/payload length field disagrees with the buffer.
    BadLength = 4,
    /// A checksum does not verify.
    BadChecksum = 5,
    /// An option or extension is malformed.
    BadOption = 6,
    /// A field value this implementation does not handle (reserved bits, unknown type).
    Unsupported = 7,
}

impl Error {
    /// Every reason, in counter order.
    pub const ALL: [Error; 8] = [
        Error::Truncated,
        Error::Oversized,
        Error::BadVersion,
        Error::BadHeaderLength,
        Error::BadLength,
        Error::BadChecksum,
        Error::BadOption,
        Error::Unsupported,
    ];

    /// Name used in counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            Error::Truncated => "truncated",
            Error::Oversized => "oversized",
            Error::BadVersion => "bad_version",
            Error::BadHeaderLength => "bad_header_length",
            Error::BadLength => "bad_length",
            Error::BadChecksum => "bad_checksum",
            Error::BadOption => "bad_option",
            Error::Unsupported => "unsupported",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Error {}

/// Result of the wire layer.
pub type Result<T> = core::result::Result<T, Error>;

/// The big-endian u16 at the start of `bytes`; 0 when fewer than 2 bytes are given, so a
/// getter can never panic (views check their lengths in `new_checked` first).
#[inline]
pub(crate) fn be16(bytes: &[u8]) -> u16 {
    match bytes {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

/// The big-endian u32 at the start of `bytes`; 0 when fewer than 4 bytes are given.
#[inline]
pub(crate) fn be32(bytes: &[u8]) -> u32 {
    match bytes {
        [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

/// The big-endian u16 at byte range `range` of `buf` (0 if out of range).
#[inline]
pub(crate) fn be16_at(buf: &[u8], range: core::ops::Range<usize>) -> u16 {
    be16(buf.get(range).unwrap_or(&[]))
}
