#!/usr/bin/env python3
"""Independent vectors for mipdp's IPv4 tunnel entry point (dataplane/src/tunnel/), built
with scapy.

Writes tunnels_v4.txt beside this script: one `name hex` line per IP packet (no link
header). `inner_*` lines are what arrives at the entry point; every other line is what the
entry point must send for it, byte for byte: the inner TTL / hop limit already decremented
(scapy builds that inner packet afresh with the lower TTL, so its checksum is scapy's), the
outer header per RFC 2003 §3.1 (TOS and DF copied, outer TTL 64, Identification 0x1234),
GRE per RFC 2784, the minimal forwarding header per RFC 2004 §3 (scapy lacks it: built here
with scapy's checksum routine), outer fragments per scapy's `fragment`, and the ICMP errors
per RFC 792 / RFC 1191. Checked by dataplane/tests/vectors_tunnels_v4.rs.

Run: python3 dataplane/tests/vectors/gen_tunnels_v4.py
"""
import os
import struct

from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import GRE
from scapy.packet import Raw
from scapy.utils import checksum, inet_aton

HOME_AGENT = "10.1.0.1"
HOME_ADDRESS = "10.1.0.100"
CARE_OF = "192.0.2.1"
CORRESPONDENT = "198.51.100.9"
OUTER_IDENT = 0x1234
OUTER_TTL = 64
TOS = 0xB8 | 0b10  # DSCP EF, ECT(0)


def inner(ttl, flags="DF", size=17):
    return (
        IP(src=CORRESPONDENT, dst=HOME_ADDRESS, id=0x4321, ttl=ttl, tos=TOS, flags=flags)
        / UDP(sport=5000, dport=6000)
        / Raw(bytes(i % 256 for i in range(size)))
    )


def inner_v6(hlim):
    return (
        IPv6(src="2001:db8::9", dst="2001:db8:1::100", hlim=hlim, tc=0xB9)
        / UDP(sport=5000, dport=6000)
        / Raw(b"tunnelled over GRE")
    )


def outer(proto, flags="DF", tos=TOS):
    return IP(
        src=HOME_AGENT, dst=CARE_OF, id=OUTER_IDENT, ttl=OUTER_TTL, tos=tos, flags=flags, proto=proto
    )


def minimal(original, entry):
    """RFC 2004 §3: the original header turned into the outer one, the forwarding header
    after it, then the original payload."""
    with_source = original.src != entry
    header = struct.pack("!BBH", original.proto, 0x80 if with_source else 0, 0)
    header += inet_aton(original.dst)
    if with_source:
        header += inet_aton(original.src)
    header = header[:2] + struct.pack("!H", checksum(header)) + header[4:]
    payload = bytes(original[IP].payload)
    ip = IP(
        src=entry,
        dst=CARE_OF,
        id=original.id,
        ttl=original.ttl,
        tos=original.tos,
        flags=original.flags,
        proto=55,
    )
    return ip / Raw(header + payload)


def vectors():
    arriving = inner(63)
    forwarded = IP(bytes(inner(62)))
    big = inner(64, flags=0, size=1480)
    big_forwarded = IP(bytes(inner(63, flags=0, size=1480)))
    expired = inner(1)
    ipip_big = outer(4, flags=0) / big_forwarded
    frags = fragment(IP(bytes(ipip_big)), fragsize=1480)
    assert len(frags) == 2
    yield "inner_v4", arriving
    yield "inner_v4_big", big
    yield "inner_v4_expiring", expired
    yield "inner_v6", inner_v6(10)
    yield "ipip", outer(4) / forwarded
    yield "ipip_fragment_1", frags[0]
    yield "ipip_fragment_2", frags[1]
    yield "gre_v4", outer(47) / GRE(proto=0x0800) / forwarded
    yield "gre_v6", outer(47, flags=0, tos=0xB9) / GRE(proto=0x86DD) / inner_v6(9)
    yield "minimal_with_source", minimal(forwarded, HOME_AGENT)
    yield "minimal_without_source", minimal(forwarded, CORRESPONDENT)
    yield "icmp_time_exceeded", IP(src=HOME_AGENT, dst=CORRESPONDENT, id=7, ttl=64) / ICMP(
        type=11, code=0
    ) / Raw(bytes(expired))
    too_big = inner(64, size=1480)
    yield "inner_v4_too_big", too_big
    yield "icmp_frag_needed", IP(src=HOME_AGENT, dst=CORRESPONDENT, id=8, ttl=64) / ICMP(
        type=3, code=4, nexthopmtu=1480
    ) / Raw(bytes(too_big)[: 576 - 28])


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tunnels_v4.txt")
    with open(path, "w") as f:
        for name, packet in vectors():
            f.write(f"{name} {bytes(packet).hex()}\n")


if __name__ == "__main__":
    main()
