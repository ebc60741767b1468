#!/usr/bin/env python3
"""Builds IPv6 / extension header / ICMPv6 test vectors with scapy, an implementation
independent of mipdp, and writes them as `name hex` lines to v6.txt beside this script.
Checksums are scapy's own. Run: python3 gen_v6.py (scapy 2.5+)."""

import os

from scapy.all import raw
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6NDOptAdvInterval,
    ICMPv6NDOptHAInfo,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    PadN,
    in6_getnsma,
)
from socket import AF_INET6, inet_pton, inet_ntop

HA = "2001:db8:1::1"
HOA = "2001:db8:1::100"
COA = "2001:db8:2::100"
CN = "2001:db8:3::3"
MAC = "02:00:00:00:00:01"

vectors = {
    # Hop-by-Hop with one PadN of 4 data bytes, then UDP.
    "hbh_padn_udp": IPv6(src=CN, dst=COA, hlim=64)
    / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x00" * 4)])
    / UDP(sport=1234, dport=5678)
    / b"hello",
    # Mobile node to correspondent from its care-of address with a Home Address option;
    # the UDP checksum uses the home address as source (RFC 6275 §6.3).
    "dest_hoa_udp": IPv6(src=COA, dst=CN, hlim=64)
    / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
    / UDP(sport=7, dport=7)
    / b"mobile",
    # Correspondent to the care-of address with a type 2 routing header; the ICMPv6
    # checksum uses the home address as destination (RFC 8200 §8.1).
    "rh2_echo_reply": IPv6(src=CN, dst=COA, hlim=64)
    / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA])
    / ICMPv6EchoReply(id=0x4242, seq=3, data=b"pong"),
    "fragment_udp": IPv6(src=CN, dst=HOA, hlim=64)
    / IPv6ExtHdrFragment(offset=0, m=1, id=0xDEADBEEF)
    / UDP(sport=1000, dport=2000)
    / (b"x" * 16),
    "fragment_later": IPv6(src=CN, dst=HOA, hlim=64)
    / IPv6ExtHdrFragment(offset=3, m=0, id=0xDEADBEEF, nh=17)
    / (b"y" * 8),
    "echo_request": IPv6(src=HOA, dst=CN, hlim=64, tc=0xB8, fl=0x12345)
    / ICMPv6EchoRequest(id=0x1234, seq=1, data=b"abcdefgh"),
    "packet_too_big": IPv6(src=HA, dst=CN, hlim=64)
    / ICMPv6PacketTooBig(mtu=1280)
    / IPv6(src=CN, dst=HOA, hlim=63)
    / UDP(sport=1, dport=2)
    / b"z",
    "neighbor_solicit": IPv6(src="fe80::1", dst=inet_ntop(AF_INET6, in6_getnsma(inet_pton(AF_INET6, HOA))), hlim=255)
    / ICMPv6ND_NS(tgt=HOA)
    / ICMPv6NDOptSrcLLAddr(lladdr=MAC),
    "router_advert_home_agent": IPv6(src="fe80::1", dst="ff02::1", hlim=255)
    / ICMPv6ND_RA(chlim=64, M=0, O=1, H=1, prf=0, routerlifetime=1800, reachabletime=30000, retranstimer=1000)
    / ICMPv6NDOptSrcLLAddr(lladdr=MAC)
    / ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, R=1, validlifetime=86400, preferredlifetime=14400, prefix=HA)
    / ICMPv6NDOptMTU(mtu=1500)
    / ICMPv6NDOptAdvInterval(advint=3000)
    / ICMPv6NDOptHAInfo(pref=10, lifetime=1800),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "v6.txt")
with open(out, "w") as f:
    for name, pkt in vectors.items():
        f.write(f"{name} {raw(pkt).hex()}\n")
print(f"wrote {len(vectors)} vectors to {out}")
