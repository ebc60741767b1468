#!/usr/bin/env python3
"""Independent tunnel and Mobile IPv4 test vectors for mipdp's wire parsers, built with scapy.

Writes tunnel_mip4.txt beside this script: one `name hex` line per IPv4 packet (no link
header). scapy computes the IPv4, UDP, ICMP and GRE lengths and checksums; the minimal
forwarding header (RFC 2004), which scapy lacks, and the registration extensions are built
here by hand with scapy's own checksum routine. The MN-HA authenticator is HMAC-MD5 over the
bytes RFC 5944 §3.5.1 says it covers, so the Rust side can check that range
(dataplane/tests/vectors_tunnel_mip4.rs).

Run: python3 dataplane/tests/vectors/gen_tunnel_mip4.py
"""
import hashlib
import hmac
import os
import struct

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import GRE
from scapy.layers.mobileip import MobileIP, MobileIPRRP, MobileIPRRQ
from scapy.packet import Raw
from scapy.utils import checksum, inet_aton

HOME_AGENT = "10.1.0.1"
HOME_ADDRESS = "10.1.0.100"
CARE_OF = "192.0.2.1"
CORRESPONDENT = "198.51.100.9"
MN_HA_KEY = b"mipdp-test-key-0"
IDENTIFICATION = 0xE7A1B2C300000001


def inner_packet():
    return (
        IP(src=CORRESPONDENT, dst=HOME_ADDRESS, id=0x4321, ttl=63)
        / UDP(sport=5000, dport=6000)
        / Raw(b"tunnelled payload")
    )


def minimal_header(inner, with_source):
    """RFC 2004 §3: the original header's protocol and addresses, checksum over this
    header alone; the original IP header itself is removed."""
    flags = 0x80 if with_source else 0x00
    header = struct.pack("!BBH", inner.proto, flags, 0) + inet_aton(inner.dst)
    if with_source:
        header += inet_aton(inner.src)
    csum = checksum(header)
    return header[:2] + struct.pack("!H", csum) + header[4:]


def minimal_encapsulated(with_source):
    inner = IP(bytes(inner_packet()))
    header = minimal_header(inner, with_source)
    # The encapsulator is the outer source; without S it must be the original source.
    outer_src = HOME_AGENT if with_source else inner.src
    return IP(src=outer_src, dst=CARE_OF, proto=55, id=0x0101, ttl=64) / Raw(
        header + bytes(inner.payload)
    )


def nai_extension(nai):
    return struct.pack("!BB", 131, len(nai)) + nai


def with_mn_ha_authentication(message, spi):
    """Appends an MN-HA authentication extension (RFC 5944 §3.5.2) whose authenticator is
    HMAC-MD5 over the message up to and including the SPI (§3.5.1)."""
    covered = message + struct.pack("!BBI", 32, 4 + 16, spi)
    return covered + hmac.new(MN_HA_KEY, covered, hashlib.md5).digest()


def registration_request():
    fixed = bytes(
        MobileIP(type=1)
        / MobileIPRRQ(flags=0x0A, lifetime=300, homeaddr=HOME_ADDRESS, haaddr=HOME_AGENT,
                      coaddr=CARE_OF, id=IDENTIFICATION)
    )
    return with_mn_ha_authentication(fixed + nai_extension(b"mn1@example.com"), 256)


def registration_reply():
    fixed = bytes(
        MobileIP(type=3)
        / MobileIPRRP(code=0, lifetime=300, homeaddr=HOME_ADDRESS, haaddr=HOME_AGENT,
                      id=IDENTIFICATION)
    )
    return with_mn_ha_authentication(fixed, 256)


def agent_advertisement():
    """ICMP router advertisement (code 16) with one router entry, a Mobility Agent
    Advertisement extension (RFC 5944 §2.1.1: sequence 7, lifetime 600, flags F M G T,
    two care-of addresses), a Prefix-Lengths extension (§2.1.2) and one byte of padding."""
    entries = inet_aton(CARE_OF) + struct.pack("!i", 0)
    care_of = inet_aton(CARE_OF) + inet_aton("192.0.2.2")
    flags = 0x1000 | 0x0800 | 0x0400 | 0x0100
    advertisement = struct.pack("!BBHHH", 16, 6 + len(care_of), 7, 600, flags) + care_of
    prefix_lengths = struct.pack("!BBB", 19, 1, 24)
    return ICMP(type=9, code=16, unused=(1 << 24) | (2 << 16) | 1800) / Raw(
        entries + advertisement + prefix_lengths + b"\x00"
    )


def vectors():
    # GRE with checksum, key and sequence number (RFC 2784, RFC 2890) around IPv4.
    yield "gre_checksum_key_sequence", (
        IP(src=HOME_AGENT, dst=CARE_OF, id=0x0100, ttl=64)
        / GRE(chksum_present=1, key_present=1, seqnum_present=1, key=0x0A010064,
              sequence_number=7)
        / inner_packet()
    )
    # Plain 4-byte GRE header.
    yield "gre_plain", (
        IP(src=HOME_AGENT, dst=CARE_OF, id=0x0102, ttl=64) / GRE() / inner_packet()
    )
    yield "minimal_without_source", minimal_encapsulated(with_source=False)
    yield "minimal_with_source", minimal_encapsulated(with_source=True)
    yield "registration_request", (
        IP(src=CARE_OF, dst=HOME_AGENT, id=0x0200, ttl=64)
        / UDP(sport=434, dport=434)
        / Raw(registration_request())
    )
    yield "registration_reply", (
        IP(src=HOME_AGENT, dst=CARE_OF, id=0x0201, ttl=64)
        / UDP(sport=434, dport=434)
        / Raw(registration_reply())
    )
    yield "agent_advertisement", (
        IP(src=CARE_OF, dst="224.0.0.1", id=0x0300, ttl=1) / agent_advertisement()
    )


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tunnel_mip4.txt")
    with open(out, "w") as f:
        for name, packet in vectors():
            f.write(f"{name} {bytes(packet).hex()}\n")


if __name__ == "__main__":
    main()
