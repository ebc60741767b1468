//! IPv4 encapsulation within IPv4, RFC 2003: a new outer IPv4 header in front of the
//! unchanged inner packet. Also the IPv4 outer-header steps GRE and minimal encapsulation
//! share, and the outer fragmentation of RFC 2003 §5.1 ([`fragment_outer`]).

use core::net::Ipv4Addr;

use super::{ecn, Encapsulated, Endpoints4, Result, TunnelError, TunnelSettings};
use crate::port::PacketBuf;
use crate::wire::ipv4::{self, IpProtocol, Ipv4Options, Ipv4Packet, Ipv4Repr};
use crate::wire::Error;

/// Bytes the outer header adds. RFC 2003 §3.1.
pub const OVERHEAD: usize = ipv4::HEADER_LEN;

/// Where a decapsulated packet came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decapsulated {
    /// Outer source: the tunnel entry point.
    pub entry: Ipv4Addr,
    /// Outer destination: the address of ours the tunnel ended at.
    pub exit: Ipv4Addr,
}

/// The inner IPv4 fields the outer header copies. RFC 2003 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InnerFields {
    pub dscp: u8,
    pub ecn: u8,
    pub dont_frag: bool,
    pub len: usize,
}

fn checked_inner(data: &[u8]) -> Result<Ipv4Packet<&[u8]>> {
    let inner = Ipv4Packet::new_checked(data)?;
    if !inner.verify_checksum() {
        return Err(Error::BadChecksum.into());
    }
    Ok(inner)
}

/// Whether an outer packet of `outer_len` bytes fits the tunnel MTU and, if not, what the
/// inner DF bit makes of it. RFC 2003 §5.1.
pub(crate) fn mtu_outcome(
    outer_len: usize,
    overhead: usize,
    dont_frag: bool,
    settings: &TunnelSettings,
) -> Result<Encapsulated> {
    if outer_len > usize::from(u16::MAX) {
        return Err(Error::Oversized.into());
    }
    let mtu = settings.path_mtu;
    if outer_len <= usize::from(mtu) {
        return Ok(Encapsulated::Ready);
    }
    if dont_frag {
        let inner_mtu = usize::from(mtu).saturating_sub(overhead);
        return Err(TunnelError::TooBig {
            mtu: u16::try_from(inner_mtu).unwrap_or(0),
        });
    }
    Ok(Encapsulated::Fragment { mtu })
}

/// Whether the inner IPv4 header's checksum is still to be verified, or the caller
/// verified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InnerChecksum {
    /// Verify it here (RFC 791 §3.1: a header with a bad checksum is discarded).
    Unverified,
    /// The caller verified it on the packet as it is now (the engine's flow key does, and
    /// what it changes before tunnelling, DSCP and TTL, it changes with the checksum):
    /// not summed again. The lengths are checked either way.
    Verified,
}

/// The entry point's checks and forwarding step on an inner IPv4 packet at the start of
/// `packet`, in the order that leaves a refused packet unchanged for its ICMP error:
/// well formed, not to the exit point (RFC 2003 §3.1), TTL not expiring (RFC 2003 §3.1),
/// fits or may be fragmented (RFC 2003 §5.1); then it trims link padding and decrements
/// the TTL (incremental checksum, RFC 1624).
pub(crate) fn prepare_inner<P: PacketBuf>(
    packet: &mut P,
    ends: Endpoints4,
    settings: &TunnelSettings,
    overhead: usize,
) -> Result<(InnerFields, Encapsulated)> {
    prepare_inner_with(packet, ends, settings, overhead, InnerChecksum::Unverified)
}

/// [`prepare_inner`], verifying the inner checksum or not.
#[inline]
pub(crate) fn prepare_inner_with<P: PacketBuf>(
    packet: &mut P,
    ends: Endpoints4,
    settings: &TunnelSettings,
    overhead: usize,
    checksum: InnerChecksum,
) -> Result<(InnerFields, Encapsulated)> {
    let inner = match checksum {
        InnerChecksum::Unverified => checked_inner(packet.data())?,
        InnerChecksum::Verified => Ipv4Packet::new_checked(packet.data())?,
    };
    if inner.dst_addr() == ends.exit {
        return Err(TunnelError::ToTunnelEndpoint);
    }
    if inner.ttl() <= 1 {
        return Err(TunnelError::TtlExpired);
    }
    let fields = InnerFields {
        dscp: inner.dscp(),
        ecn: inner.ecn(),
        dont_frag: inner.dont_frag(),
        len: usize::from(inner.total_len()),
    };
    let outcome = mtu_outcome(fields.len + overhead, overhead, fields.dont_frag, settings)?;
    let padding = packet.data().len() - fields.len;
    if padding > 0 {
        packet.trim(padding)?;
    }
    Ipv4Packet::new_unchecked(packet.data_mut()).decrement_ttl();
    Ok((fields, outcome))
}

/// The outer header an IPv4 tunnel puts in front of `payload_len` bytes: source the entry
/// point, destination the exit point, TTL from the settings, TOS copied from the inner
/// header with the ECN field per RFC 6040 normal mode, DF copied, Identification the
/// caller's. RFC 2003 §3.1; RFC 6040 §4.1.
pub(crate) fn outer_repr(
    ends: Endpoints4,
    settings: &TunnelSettings,
    ident: u16,
    protocol: IpProtocol,
    inner: &InnerFields,
    payload_len: usize,
) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: ends.entry,
        dst_addr: ends.exit,
        protocol,
        payload_len,
        ttl: settings.outer_ttl,
        dscp: inner.dscp,
        ecn: ecn::encapsulate(inner.ecn),
        ident,
        dont_frag: inner.dont_frag,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    }
}

/// The outer header [`outer_repr`] and [`Ipv4Repr::emit`] would write for an IPv4-in-IPv4
/// tunnel (no options, not a fragment), built from plain values in registers: the direct
/// path's version. Handing an `Ipv4Repr` through memory makes `emit` read back, in other
/// widths, fields just stored one by one, which stalls on store forwarding every packet.
#[inline(always)]
pub(crate) fn outer_header(
    ends: Endpoints4,
    settings: &TunnelSettings,
    ident: u16,
    inner: &InnerFields,
) -> [u8; ipv4::HEADER_LEN] {
    let tos = (inner.dscp << 2) | ecn::encapsulate(inner.ecn);
    let total = (ipv4::HEADER_LEN + inner.len) as u32;
    let flags: u32 = if inner.dont_frag { 0x4000 } else { 0 };
    let word0 = 0x4500_0000 | u32::from(tos) << 16 | total;
    let word1 = u32::from(ident) << 16 | flags;
    let word2 = u32::from(settings.outer_ttl) << 24 | u32::from(IpProtocol::IPIP.0) << 16;
    let (src, dst) = (ends.entry.to_bits(), ends.exit.to_bits());
    let acc =
        u64::from(word0) + u64::from(word1) + u64::from(word2) + u64::from(src) + u64::from(dst);
    let sum = crate::wire::checksum::finish(((acc & 0xffff_ffff) + (acc >> 32)) as u32);
    let word2 = word2 | u32::from(sum);
    let mut h = [0u8; ipv4::HEADER_LEN];
    h[0..4].copy_from_slice(&word0.to_be_bytes());
    h[4..8].copy_from_slice(&word1.to_be_bytes());
    h[8..12].copy_from_slice(&word2.to_be_bytes());
    h[12..16].copy_from_slice(&src.to_be_bytes());
    h[16..20].copy_from_slice(&dst.to_be_bytes());
    h
}

/// Prepends `repr` as the outer header.
pub(crate) fn emit_outer<P: PacketBuf>(packet: &mut P, repr: &Ipv4Repr) -> Result<()> {
    let data = packet.prepend(repr.header_len())?;
    let header = data
        .get_mut(..repr.header_len())
        .ok_or(TunnelError::NoRoom)?;
    repr.emit(&mut Ipv4Packet::new_unchecked(header));
    Ok(())
}

/// Encapsulates the IPv4 packet at the start of `packet` in IPv4 from `ends.entry` to
/// `ends.exit`, with outer Identification `ident` (a counter the caller keeps). On
/// [`Encapsulated::Fragment`] the outer packet is complete but longer than the tunnel MTU;
/// split it with [`fragment_outer`]. RFC 2003 §3.1, §5.1.
pub fn encapsulate<P: PacketBuf>(
    packet: &mut P,
    ends: Endpoints4,
    settings: &TunnelSettings,
    ident: u16,
) -> Result<Encapsulated> {
    encapsulate_with(packet, ends, settings, ident, InnerChecksum::Unverified)
}

/// [`encapsulate`], verifying the inner header's checksum only when `checksum` says it
/// was not.
#[inline]
pub fn encapsulate_with<P: PacketBuf>(
    packet: &mut P,
    ends: Endpoints4,
    settings: &TunnelSettings,
    ident: u16,
    checksum: InnerChecksum,
) -> Result<Encapsulated> {
    let (inner, outcome) = prepare_inner_with(packet, ends, settings, OVERHEAD, checksum)?;
    let repr = outer_repr(ends, settings, ident, IpProtocol::IPIP, &inner, inner.len);
    emit_outer(packet, &repr)?;
    Ok(outcome)
}

/// The outer header fields decapsulation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outer {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ecn: u8,
    pub header_len: usize,
    pub total_len: usize,
}

/// Checks an arriving outer IPv4 header: well formed with a good checksum, not a fragment
/// (reassemble first), to one of our addresses, carrying `protocol`; also the nesting
/// depth against [`super::DEFAULT_NESTING_LIMIT`].
pub(crate) fn check_outer(
    data: &[u8],
    ours: impl Fn(Ipv4Addr) -> bool,
    protocol: IpProtocol,
    depth: u8,
) -> Result<Outer> {
    if depth >= super::DEFAULT_NESTING_LIMIT {
        return Err(TunnelError::NestingLimit);
    }
    let outer = checked_inner(data)?;
    if outer.more_frags() || outer.frag_offset() != 0 {
        return Err(Error::Unsupported.into());
    }
    if !ours(outer.dst_addr()) {
        return Err(TunnelError::NotOurs);
    }
    if outer.protocol() != protocol {
        return Err(TunnelError::WrongProtocol);
    }
    Ok(Outer {
        src: outer.src_addr(),
        dst: outer.dst_addr(),
        ecn: outer.ecn(),
        header_len: outer.header_len(),
        total_len: usize::from(outer.total_len()),
    })
}

/// Checks the inner IPv4 packet at the start of `inner` and rewrites its ECN field from
/// the outer one (incremental checksum); returns its total length. An inner TTL of 0 is
/// `TtlExpired`, a silent discard (RFC 2003 §3.1: the decapsulator leaves the inner TTL
/// alone and MUST discard a datagram whose TTL is 0). RFC 6040 §4.2.
pub(crate) fn decapsulate_inner(inner: &mut [u8], outer_ecn: u8) -> Result<usize> {
    let checked = checked_inner(inner)?;
    if checked.ttl() == 0 {
        return Err(TunnelError::TtlExpired);
    }
    let len = usize::from(checked.total_len());
    let mut packet = Ipv4Packet::new_unchecked(inner);
    match ecn::decapsulate(packet.ecn(), outer_ecn) {
        ecn::Decapsulated::Drop => Err(TunnelError::EcnDrop),
        ecn::Decapsulated::Forward(e) if e != packet.ecn() => {
            let dscp = packet.dscp();
            packet.set_dscp_ecn(dscp, e);
            Ok(len)
        }
        ecn::Decapsulated::Forward(_) => Ok(len),
    }
}

/// Removes `header_len` bytes of tunnel headers and keeps the `inner_len` bytes after them.
pub(crate) fn strip<P: PacketBuf>(
    packet: &mut P,
    header_len: usize,
    inner_len: usize,
) -> Result<()> {
    let keep = header_len + inner_len;
    let extra = packet
        .data()
        .len()
        .checked_sub(keep)
        .ok_or(Error::Truncated)?;
    packet.trim(extra)?;
    packet.adj(header_len)?;
    Ok(())
}

/// Decapsulates an IPv4-in-IPv4 packet addressed to one of `ours`, leaving the inner
/// packet. Same as [`decapsulate_nested`] at depth 0. RFC 2003 §3.1.
pub fn decapsulate<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(Ipv4Addr) -> bool,
) -> Result<Decapsulated> {
    decapsulate_nested(packet, ours, 0)
}

/// Decapsulates an IPv4-in-IPv4 packet that has already had `depth` tunnel headers
/// stripped; at [`super::DEFAULT_NESTING_LIMIT`] it refuses with `NestingLimit`. The inner
/// ECN field is rewritten per RFC 6040 §4.2. RFC 2003 §3.1.
pub fn decapsulate_nested<P: PacketBuf>(
    packet: &mut P,
    ours: impl Fn(Ipv4Addr) -> bool,
    depth: u8,
) -> Result<Decapsulated> {
    let outer = check_outer(packet.data(), ours, IpProtocol::IPIP, depth)?;
    let inner_bytes = packet
        .data_mut()
        .get_mut(outer.header_len..outer.total_len)
        .ok_or(Error::Truncated)?;
    let inner_len = decapsulate_inner(inner_bytes, outer.ecn)?;
    strip(packet, outer.header_len, inner_len)?;
    Ok(Decapsulated {
        entry: outer.src,
        exit: outer.dst,
    })
}

/// Splits the outer IPv4 packet in `packet` so that it fits `mtu`: `packet` keeps the
/// first fragment and `second` (its old contents discarded) receives the rest as one
/// fragment; when that is still longer than `mtu`, call again on `second` with another
/// buffer. Returns false, leaving `second` untouched, when `packet` already fits. DF set is
/// `TooBig`; an outer header with options is refused (`Unsupported`: the headers this
/// module emits have none). RFC 791 §3.2 (fragmentation); RFC 2003 §5.1.
pub fn fragment_outer<P: PacketBuf>(packet: &mut P, mtu: u16, second: &mut P) -> Result<bool> {
    let outer = checked_inner(packet.data())?;
    let (header_len, total) = (outer.header_len(), usize::from(outer.total_len()));
    if total <= usize::from(mtu) {
        return Ok(false);
    }
    if outer.dont_frag() {
        return Err(TunnelError::TooBig { mtu });
    }
    if header_len != ipv4::HEADER_LEN {
        return Err(Error::Unsupported.into());
    }
    let first_payload = usize::from(mtu).saturating_sub(header_len) & !7;
    if first_payload == 0 {
        return Err(Error::Unsupported.into());
    }
    let (offset, more) = (outer.frag_offset(), outer.more_frags());
    let first_len = header_len + first_payload;

    let old = second.data().len();
    second.trim(old)?;
    let rest = second.append(total - first_payload)?;
    let data = packet.data();
    let (header, tail) = (
        data.get(..header_len).ok_or(Error::Truncated)?,
        data.get(first_len..total).ok_or(Error::Truncated)?,
    );
    let (rest_header, rest_payload) = rest.split_at_mut(header_len);
    rest_header.copy_from_slice(header);
    rest_payload.copy_from_slice(tail);
    let mut tail_fragment = Ipv4Packet::new_unchecked(rest);
    tail_fragment.set_total_len((total - first_payload) as u16);
    tail_fragment.set_frag_offset(offset + (first_payload / 8) as u16);
    tail_fragment.set_more_frags(more);
    tail_fragment.fill_checksum();

    let extra = packet.data().len() - first_len;
    packet.trim(extra)?;
    let mut head = Ipv4Packet::new_unchecked(packet.data_mut());
    head.set_total_len(first_len as u16);
    head.set_more_frags(true);
    head.fill_checksum();
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::tunnel::ecn::codepoint::*;
    use crate::tunnel::DEFAULT_NESTING_LIMIT;
    use proptest::prelude::*;

    proptest::proptest! {
        #[test]
        fn outer_header_is_what_outer_repr_emits(
            entry in proptest::num::u32::ANY,
            exit in proptest::num::u32::ANY,
            ttl in proptest::num::u8::ANY,
            ident in proptest::num::u16::ANY,
            dscp in 0u8..64,
            ecn in 0u8..4,
            dont_frag in proptest::bool::ANY,
            len in 20usize..65_515,
        ) {
            let ends = Endpoints4 { entry: Ipv4Addr::from_bits(entry), exit: Ipv4Addr::from_bits(exit) };
            let settings = TunnelSettings { outer_ttl: ttl, ..TunnelSettings::default() };
            let inner = InnerFields { dscp, ecn, dont_frag, len };
            let repr = outer_repr(ends, &settings, ident, IpProtocol::IPIP, &inner, len);
            let mut want = [0u8; 20];
            repr.emit(&mut Ipv4Packet::new_unchecked(&mut want[..]));
            proptest::prop_assert_eq!(outer_header(ends, &settings, ident, &inner), want);
        }
    }

    fn settings() -> TunnelSettings {
        TunnelSettings::default()
    }

    fn ours(a: Ipv4Addr) -> bool {
        a == CARE_OF
    }

    #[test]
    fn outer_header_follows_rfc2003_section_3_1() {
        let pool = pool();
        let original = inner(64, 10, ECT0, true, 30);
        let mut p = packet(&pool, &original);
        let out = encapsulate(&mut p, ends(), &settings(), 0x77).unwrap();
        assert_eq!(out, Encapsulated::Ready);
        let outer = parse(p.data());
        assert_eq!(
            (outer.src_addr, outer.dst_addr, outer.protocol),
            (HOME_AGENT, CARE_OF, IpProtocol::IPIP)
        );
        assert_eq!((outer.ttl, outer.dscp, outer.ecn), (64, 10, ECT0));
        assert_eq!((outer.ident, outer.dont_frag), (0x77, true));
        assert_eq!(outer.payload_len, original.len());
        let inner_after = parse(&p.data()[20..]);
        assert_eq!(inner_after.ttl, 63, "the entry point forwards: TTL - 1");
    }

    #[test]
    fn outer_ttl_comes_from_settings_and_df_clear_is_copied() {
        let pool = pool();
        let mut p = packet(&pool, &inner(9, 0, NOT_ECT, false, 8));
        let s = TunnelSettings {
            outer_ttl: 200,
            ..settings()
        };
        encapsulate(&mut p, ends(), &s, 1).unwrap();
        let outer = parse(p.data());
        assert_eq!((outer.ttl, outer.dont_frag), (200, false));
    }

    #[test]
    fn ce_on_the_inner_header_is_copied_to_the_outer() {
        let pool = pool();
        let mut p = packet(&pool, &inner(9, 0, CE, false, 8));
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        assert_eq!(parse(p.data()).ecn, CE);
    }

    #[test]
    fn inner_ttl_of_one_expires_and_leaves_the_packet_unchanged() {
        let pool = pool();
        let original = inner(1, 0, 0, false, 8);
        let mut p = packet(&pool, &original);
        assert_eq!(
            encapsulate(&mut p, ends(), &settings(), 1),
            Err(TunnelError::TtlExpired)
        );
        assert_eq!(p.data(), &original[..]);
    }

    #[test]
    fn link_padding_after_the_inner_packet_is_not_tunnelled() {
        let pool = pool();
        let original = inner(64, 0, 0, false, 4);
        let mut padded = original.clone();
        padded.resize(46, 0);
        let mut p = packet(&pool, &padded);
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        assert_eq!(p.data().len(), 20 + original.len());
        assert_eq!(parse(p.data()).payload_len, original.len());
    }

    #[test]
    fn packet_to_the_exit_point_is_not_tunnelled() {
        let pool = pool();
        let e = Endpoints4 {
            entry: HOME_AGENT,
            exit: HOME_ADDRESS,
        };
        let mut p = packet(&pool, &inner(64, 0, 0, false, 8));
        assert_eq!(
            encapsulate(&mut p, e, &settings(), 1),
            Err(TunnelError::ToTunnelEndpoint)
        );
    }

    #[test]
    fn too_big_with_df_reports_the_inner_mtu() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, 0, true, 1480));
        assert_eq!(
            encapsulate(&mut p, ends(), &settings(), 1),
            Err(TunnelError::TooBig { mtu: 1480 })
        );
    }

    #[test]
    fn too_big_without_df_is_fragmented_into_two_outer_fragments_that_reassemble() {
        let pool = pool();
        let original = inner(64, 0, 0, false, 1480);
        let mut p = packet(&pool, &original);
        let out = encapsulate(&mut p, ends(), &settings(), 9).unwrap();
        assert_eq!(out, Encapsulated::Fragment { mtu: 1500 });
        let whole = p.data().to_vec();
        let mut second = packet(&pool, &[0xee; 3]);
        assert!(fragment_outer(&mut p, 1500, &mut second).unwrap());
        let (a, b) = (parse(p.data()), parse(second.data()));
        assert!(p.data().len() <= 1500 && second.data().len() <= 1500);
        assert_eq!((a.more_frags, a.frag_offset, a.ident), (true, 0, 9));
        assert_eq!((b.more_frags, b.ident), (false, 9));
        assert_eq!(usize::from(b.frag_offset) * 8, a.payload_len);
        let mut reassembled = whole[..20].to_vec();
        reassembled.extend_from_slice(&p.data()[20..]);
        reassembled.extend_from_slice(&second.data()[20..]);
        assert_eq!(reassembled, whole);
    }

    #[test]
    fn fitting_packet_is_not_fragmented() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, 0, false, 100));
        let mut second = packet(&pool, &[]);
        assert!(!fragment_outer(&mut p, 1500, &mut second).unwrap());
    }

    #[test]
    fn decapsulation_restores_the_inner_packet() {
        let pool = pool();
        let original = inner(64, 4, ECT1, false, 50);
        let mut p = packet(&pool, &original);
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        let d = decapsulate(&mut p, ours).unwrap();
        assert_eq!((d.entry, d.exit), (HOME_AGENT, CARE_OF));
        let mut expected = original.clone();
        Ipv4Packet::new_unchecked(&mut expected[..]).decrement_ttl();
        assert_eq!(p.data(), &expected[..]);
    }

    fn set_outer_ecn(p: &mut impl PacketBuf, e: u8) {
        let mut outer = Ipv4Packet::new_unchecked(p.data_mut());
        let dscp = outer.dscp();
        outer.set_dscp_ecn(dscp, e);
    }

    #[test]
    fn ce_on_the_outer_header_marks_an_ecn_capable_inner() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, ECT0, false, 8));
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        set_outer_ecn(&mut p, CE);
        decapsulate(&mut p, ours).unwrap();
        let r = parse(p.data());
        assert_eq!(r.ecn, CE, "and the inner checksum still verifies");
    }

    #[test]
    fn ce_on_the_outer_header_drops_a_not_ect_inner() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, NOT_ECT, false, 8));
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        set_outer_ecn(&mut p, CE);
        assert_eq!(decapsulate(&mut p, ours), Err(TunnelError::EcnDrop));
    }

    #[test]
    fn decapsulation_refuses_other_destinations_protocols_and_deep_nesting() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, 0, false, 8));
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        assert_eq!(decapsulate(&mut p, |_| false), Err(TunnelError::NotOurs));
        assert_eq!(
            decapsulate_nested(&mut p, ours, DEFAULT_NESTING_LIMIT),
            Err(TunnelError::NestingLimit)
        );
        let mut udp = packet(&pool, &inner(64, 0, 0, false, 8));
        assert_eq!(
            decapsulate(&mut udp, |a| a == HOME_ADDRESS),
            Err(TunnelError::WrongProtocol)
        );
    }

    #[test]
    fn inner_ttl_of_zero_is_discarded_on_decapsulation_and_others_are_left_alone() {
        let pool = pool();
        let zero = inner(0, 0, 0, false, 8);
        let mut outer = packet(&pool, &zero);
        let repr = outer_repr(
            ends(),
            &settings(),
            1,
            IpProtocol::IPIP,
            &InnerFields {
                dscp: 0,
                ecn: 0,
                dont_frag: false,
                len: zero.len(),
            },
            zero.len(),
        );
        emit_outer(&mut outer, &repr).unwrap();
        assert_eq!(decapsulate(&mut outer, ours), Err(TunnelError::TtlExpired));
        let mut one = packet(&pool, &inner(2, 0, 0, false, 8));
        encapsulate(&mut one, ends(), &settings(), 1).unwrap();
        decapsulate(&mut one, ours).unwrap();
        assert_eq!(parse(one.data()).ttl, 1, "decapsulation does not decrement");
    }

    #[test]
    fn malformed_inner_is_refused() {
        let pool = pool();
        let mut p = packet(&pool, &inner(64, 0, 0, false, 8));
        encapsulate(&mut p, ends(), &settings(), 1).unwrap();
        p.data_mut()[20 + 11] ^= 0xff;
        assert_eq!(
            decapsulate(&mut p, ours),
            Err(TunnelError::Malformed(Error::BadChecksum))
        );
    }

    proptest! {
        #[test]
        fn encapsulate_then_decapsulate_gives_the_inner_packet_back(
            ttl in 2u8.., dscp in 0u8..64, e in 0u8..4, df: bool, len in 0usize..1400, ident: u16,
        ) {
            let pool = pool();
            let original = inner(ttl, dscp, e, df, len);
            let mut p = packet(&pool, &original);
            encapsulate(&mut p, ends(), &settings(), ident).unwrap();
            decapsulate(&mut p, ours).unwrap();
            let mut expected = original.clone();
            Ipv4Packet::new_unchecked(&mut expected[..]).decrement_ttl();
            prop_assert_eq!(p.data(), &expected[..]);
        }

        /// The engine's shortcut (the checksum its flow key verified is not summed again)
        /// does what the general encapsulation does with every packet whose checksum
        /// verifies: well formed or not, with link padding, to the exit point, with an
        /// expiring TTL, too big for the path MTU.
        #[test]
        fn a_verified_inner_checksum_is_encapsulated_as_when_it_is_checked_again(
            mut bytes in proptest::collection::vec(any::<u8>(), 0..120),
            shape in 0u8..3, ttl: u8, df: bool, len in 0usize..80,
            padding in proptest::collection::vec(any::<u8>(), 0..8),
            to_exit: bool, mtu in 20u16..140, ident: u16,
        ) {
            if shape > 0 {
                // A well-formed header, its fields then possibly bent.
                let mut p = inner(ttl, 0, 0, df, len);
                if to_exit {
                    p[16..20].copy_from_slice(&CARE_OF.octets());
                }
                if shape == 2 {
                    if let Some(b) = bytes.first() {
                        p[0] = 0x40 | (b & 0x0f);
                    }
                    if let Some(b) = bytes.get(1) {
                        p[2..4].copy_from_slice(&u16::from(*b).to_be_bytes());
                    }
                }
                bytes = p;
            }
            bytes.extend_from_slice(&padding);
            fix_ipv4_checksum(&mut bytes);
            let header_len = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
            prop_assume!(
                bytes.len() >= header_len.max(20)
                    && crate::wire::checksum::verifies(&bytes[..header_len.max(20)])
            );
            let s = TunnelSettings { path_mtu: mtu, ..settings() };
            let pool = pool();
            let mut general = packet(&pool, &bytes);
            let mut short = packet(&pool, &bytes);
            let want = encapsulate(&mut general, ends(), &s, ident);
            let got = encapsulate_with(&mut short, ends(), &s, ident, InnerChecksum::Verified);
            prop_assert_eq!(got, want);
            prop_assert_eq!(short.data(), general.data());
        }

        #[test]
        fn decapsulate_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let pool = pool();
            let mut p = packet(&pool, &bytes);
            let _ = decapsulate(&mut p, |_| true);
        }
            #[test]
        fn decapsulate_never_panics_behind_a_valid_outer_header(
            mut payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            fix_ipv4_checksum(&mut payload);
            let pool = pool();
            let mut p = packet(&pool, &outer_over(IpProtocol::IPIP, CARE_OF, &payload));
            let _ = decapsulate(&mut p, ours);
        }
    }
}
