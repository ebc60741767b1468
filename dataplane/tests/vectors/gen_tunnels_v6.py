#!/usr/bin/env python3
"""Independent IPv6 tunnel test vectors for mipdp's tunnel::ip6ip6 and tunnel::mixed, built
with scapy.

Writes tunnels_v6.txt beside this script: for each case a line `<case>_inner <hex>` (the
packet handed to the tunnel entry point) and `<case>_outer <hex>` (what the entry point must
send), no link header. The expected outer packets follow the RFCs, not the Rust code:
RFC 2473 (IPv6-in-IPv6, IPv4-in-IPv6: outer hop limit from configuration, traffic class
copied from the inner packet, ECN copied (RFC 6040 §4.1 normal mode), Tunnel Encapsulation
Limit option (type 4, RFC 2473 §5.1) in a Destination Options header: the inner limit less
one, or the configured one), RFC 4213 §3 (IPv6-in-IPv4, protocol 41, DF set when the tunnel
MTU is at least 1280); in every case the inner hop limit / TTL is one less than on arrival
(the tunnel is one link: RFC 2473 §3.1, RFC 4213 §3.3). scapy has no named Tunnel
Encapsulation Limit option, so it is built as a raw option (HBHOptUnknown, otype 4);
scapy pads the header with PadN. scapy computes every length and checksum.

Fragmented cases (RFC 2473 §7.1(b): an IPv6 packet of at most 1280 bytes over a tunnel MTU
below 1280; §7.2(b): an IPv4 packet with DF clear over the tunnel MTU) write
`<case>_inner` and `<case>_frag<i>` lines: the outer packet cut by scapy's fragment6 at the
case's path MTU, with the Identification given (RFC 8200 §4.5: the Fragment header goes
right after the IPv6 header, since the outer packet has no Hop-by-Hop or Routing header; the
Destination Options header of the limit is in the Fragmentable Part).

Run: python3 dataplane/tests/vectors/gen_tunnels_v6.py
The matching test is dataplane/tests/vectors_tunnels_v6.rs.
"""
import os

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import HBHOptUnknown, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, fragment6
from scapy.packet import Raw

ENTRY6 = "2001:db8:a::1"
EXIT6 = "2001:db8:c0a::1"
ENTRY4 = "10.1.0.1"
EXIT4 = "192.0.2.1"
CORRESPONDENT6 = "2001:db8:cafe::9"
HOME6 = "2001:db8:1::100"
CORRESPONDENT4 = "198.51.100.9"
HOME4 = "10.1.0.100"
PAYLOAD = Raw(b"tunnelled payload")
OUTER_HOP_LIMIT = 64
FLOW_LABEL = 0xABCDE


def tel(limit):
    """Destination Options header with the Tunnel Encapsulation Limit option, RFC 2473 §5.1."""
    return IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=4, optdata=bytes([limit]))])


def inner6(hlim, tc=0xB8 | 0b10, ext=None, payload=PAYLOAD):
    ip = IPv6(src=CORRESPONDENT6, dst=HOME6, hlim=hlim, tc=tc, fl=0x12345)
    if ext is not None:
        ip = ip / ext
    return ip / UDP(sport=5000, dport=6000) / payload


def inner4(ttl, tos=0x28 | 0b01, df=True, payload=PAYLOAD):
    return (
        IP(src=CORRESPONDENT4, dst=HOME4, id=0x4321, ttl=ttl, tos=tos, flags="DF" if df else 0)
        / UDP(sport=5000, dport=6000)
        / payload
    )


def filler(total, headers):
    """A payload that makes a packet of `headers` bytes of headers `total` bytes long."""
    return Raw(bytes(i % 251 for i in range(total - headers)))


def outer6(tc, limit=None, fl=0):
    ip = IPv6(src=ENTRY6, dst=EXIT6, hlim=OUTER_HOP_LIMIT, tc=tc, fl=fl)
    return ip / tel(limit) if limit is not None else ip


def cases():
    # IPv6-in-IPv6, configured limit 4, flow label 0.
    yield "ip6ip6_configured_limit", inner6(64), outer6(0xBA, 4) / inner6(63)
    # IPv6-in-IPv6 without a limit, configured flow label, CE copied to the outer header.
    yield (
        "ip6ip6_no_limit_flow_label",
        inner6(10, tc=0x03),
        outer6(0x03, None, FLOW_LABEL) / inner6(9, tc=0x03),
    )
    # The inner packet carries limit 3 (it was tunnelled before): the outer carries 2.
    yield (
        "ip6ip6_inner_limit",
        inner6(64, ext=tel(3)),
        outer6(0xBA, 2) / inner6(63, ext=tel(3)),
    )
    # IPv4-in-IPv6 (Next Header 4), no limit, TOS copied, TTL one less.
    yield "ip4ip6_no_limit", inner4(64), outer6(0x29) / inner4(63)
    # IPv4-in-IPv6 with the configured limit.
    yield "ip4ip6_configured_limit", inner4(200, df=False), outer6(0x29, 4) / inner4(199, df=False)
    # IPv6-in-IPv4, protocol 41, DF set, Identification from the caller (0x1234).
    yield (
        "ip6ip4",
        inner6(64),
        IP(src=ENTRY4, dst=EXIT4, proto=41, ttl=OUTER_HOP_LIMIT, tos=0xBA, id=0x1234, flags="DF")
        / inner6(63),
    )


def fragmented(outer_header, limit, inner, path_mtu, ident):
    """The outer packet cut into IPv6 fragments of at most `path_mtu` bytes by fragment6,
    the Fragment header (Identification `ident`) placed after the IPv6 header."""
    layers = outer_header / IPv6ExtHdrFragment(id=ident)
    if limit is not None:
        layers = layers / tel(limit)
    whole = IPv6(bytes(layers / inner))  # dissected again: every field concrete
    return [bytes(f) for f in fragment6(whole, path_mtu)]


def fragment_cases():
    """(case, inner packet, path MTU, Identification, fragments); the path MTUs and
    Identifications are repeated in dataplane/tests/vectors_tunnels_v6.rs."""
    # 1280-byte IPv6 packet, configured limit 4, path MTU 1280 (tunnel MTU 1232).
    big6 = filler(1280, 48)
    yield (
        "ip6ip6_fragmented",
        inner6(64, payload=big6),
        1280,
        0x8000_0001,
        fragmented(
            IPv6(src=ENTRY6, dst=EXIT6, hlim=OUTER_HOP_LIMIT, tc=0xBA),
            4,
            inner6(63, payload=big6),
            1280,
            0x8000_0001,
        ),
    )
    # 1400-byte IPv4 packet with DF clear, no limit, path MTU 1280: two fragments.
    big4 = filler(1400, 28)
    yield (
        "ip4ip6_fragmented",
        inner4(64, df=False, payload=big4),
        1280,
        0x1234_5678,
        fragmented(
            IPv6(src=ENTRY6, dst=EXIT6, hlim=OUTER_HOP_LIMIT, tc=0x29),
            None,
            inner4(63, df=False, payload=big4),
            1280,
            0x1234_5678,
        ),
    )
    # 1900-byte IPv4 packet with DF clear, configured limit 4, path MTU 700 (configured
    # below the IPv6 minimum): three fragments.
    bigger4 = filler(1900, 28)
    yield (
        "ip4ip6_fragmented_three",
        inner4(64, df=False, payload=bigger4),
        700,
        7,
        fragmented(
            IPv6(src=ENTRY6, dst=EXIT6, hlim=OUTER_HOP_LIMIT, tc=0x29),
            4,
            inner4(63, df=False, payload=bigger4),
            700,
            7,
        ),
    )


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "tunnels_v6.txt"), "w") as out:
        for name, inner, outer in cases():
            out.write(f"{name}_inner {bytes(inner).hex()}\n")
            out.write(f"{name}_outer {bytes(outer).hex()}\n")
        for name, inner, path_mtu, _ident, fragments in fragment_cases():
            assert all(len(f) <= path_mtu for f in fragments), name
            out.write(f"{name}_inner {bytes(inner).hex()}\n")
            for i, f in enumerate(fragments):
                out.write(f"{name}_frag{i} {f.hex()}\n")


if __name__ == "__main__":
    main()
