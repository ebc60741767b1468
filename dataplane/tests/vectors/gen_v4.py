#!/usr/bin/env python3
"""Independent IPv4-family test vectors for mipdp's wire parsers, built with scapy.

Writes v4.txt beside this script: one `name hex` line per frame. Every frame is Ethernet;
scapy computes all lengths and checksums, so the Rust parsers are checked against an
implementation they share no code with (dataplane/tests/vectors_v4.rs).

Run: python3 dataplane/tests/vectors/gen_v4.py
"""
import os

from scapy.layers.inet import ICMP, IP, UDP, IPOption_Router_Alert
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

HOST = "52:54:00:12:34:56"
ROUTER = "00:1b:21:3a:4f:10"


def vectors():
    # IPv4 with a Router Alert option carrying UDP (Mobile IPv4 registration port 434).
    yield "ipv4_options_udp", (
        Ether(dst=ROUTER, src=HOST)
        / IP(src="10.0.0.2", dst="192.0.2.1", id=0x1234, ttl=64, tos=0xb8, flags="DF",
             options=[IPOption_Router_Alert()])
        / UDP(sport=434, dport=434)
        / Raw(b"\x01\x00\x07\x08registration")
    )
    # Echo request as Windows sends it.
    yield "icmp_echo_request", (
        Ether(dst=ROUTER, src=HOST)
        / IP(src="192.168.1.10", dst="8.8.8.8", id=0x1c46, ttl=128)
        / ICMP(type=8, id=1, seq=7)
        / Raw(b"abcdefghijklmnopqrstuvwabcdefghi")
    )
    # Echo reply.
    yield "icmp_echo_reply", (
        Ether(dst=HOST, src=ROUTER)
        / IP(src="8.8.8.8", dst="192.168.1.10", id=0, ttl=117)
        / ICMP(type=0, id=1, seq=7)
        / Raw(b"abcdefghijklmnopqrstuvwabcdefghi")
    )
    # Fragmentation needed (RFC 1191) quoting the first 28 bytes of a tunnelled datagram.
    quoted = bytes(
        IP(src="10.0.0.2", dst="198.51.100.7", id=0x04d2, flags="DF", ttl=63, len=1500)
        / UDP(sport=40000, dport=4500, len=1480, chksum=0x1234)
    )[:28]
    yield "icmp_frag_needed", (
        Ether(dst=HOST, src=ROUTER)
        / IP(src="192.0.2.254", dst="10.0.0.2", id=0x0101, ttl=255)
        / ICMP(type=3, code=4, nexthopmtu=1400)
        / Raw(quoted)
    )
    # ARP request and reply.
    yield "arp_request", (
        Ether(dst="ff:ff:ff:ff:ff:ff", src=HOST)
        / ARP(op=1, hwsrc=HOST, psrc="10.0.2.15", hwdst="00:00:00:00:00:00", pdst="10.0.2.2")
    )
    yield "arp_reply", (
        Ether(dst=HOST, src=ROUTER)
        / ARP(op=2, hwsrc=ROUTER, psrc="10.0.2.2", hwdst=HOST, pdst="10.0.2.15")
    )
    # 802.1Q VLAN 100, priority 5, carrying IPv4/UDP.
    yield "vlan_ipv4_udp", (
        Ether(dst=ROUTER, src=HOST)
        / Dot1Q(vlan=100, prio=5)
        / IP(src="10.1.0.5", dst="10.1.0.1", id=0xbeef, ttl=64)
        / UDP(sport=5000, dport=6000)
        / Raw(b"tagged")
    )


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "v4.txt")
    with open(out, "w") as f:
        for name, packet in vectors():
            f.write(f"{name} {bytes(packet).hex()}\n")


if __name__ == "__main__":
    main()
