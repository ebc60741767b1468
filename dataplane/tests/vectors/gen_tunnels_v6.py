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

Run: python3 dataplane/tests/vectors/gen_tunnels_v6.py
The matching test is dataplane/tests/vectors_tunnels_v6.rs.
"""
import os

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import HBHOptUnknown, IPv6, IPv6ExtHdrDestOpt
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


def inner6(hlim, tc=0xB8 | 0b10, ext=None):
    ip = IPv6(src=CORRESPONDENT6, dst=HOME6, hlim=hlim, tc=tc, fl=0x12345)
    if ext is not None:
        ip = ip / ext
    return ip / UDP(sport=5000, dport=6000) / PAYLOAD


def inner4(ttl, tos=0x28 | 0b01, df=True):
    return (
        IP(src=CORRESPONDENT4, dst=HOME4, id=0x4321, ttl=ttl, tos=tos, flags="DF" if df else 0)
        / UDP(sport=5000, dport=6000)
        / PAYLOAD
    )


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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "tunnels_v6.txt"), "w") as out:
        for name, inner, outer in cases():
            out.write(f"{name}_inner {bytes(inner).hex()}\n")
            out.write(f"{name}_outer {bytes(outer).hex()}\n")


if __name__ == "__main__":
    main()
