#!/usr/bin/env python3
"""A Mobile IPv4 mobile node (RFC 5944) that sends one Registration Request and reads the reply.

Used by control/tests/e2e_mip4_registration.rs from inside a network namespace. The
request is built here, not by mipdp: the fixed fields of RFC 5944 §3.3 packed by hand,
the Mobile-Home Authentication Extension (§3.5.2) with an HMAC-MD5 authenticator that
Python's hmac/hashlib compute over the message up to and including the SPI (§3.5.1), and
the Ethernet/IPv4/UDP framing by scapy. It is sent out of --iface at layer 2 (so the
mobile's own MAC and address can be given, e.g. back on its home link where it has no
address configured), and the reply is read on the same packet socket, opened before the
request goes out. A UDP socket bound to the source port keeps the kernel from answering
the reply with an ICMP port unreachable.

    mip4_mobile.py --iface IF --src-mac MAC --dst-mac MAC --src IP --sport PORT \
        --home-agent IP --home IP --care-of IP --lifetime S --spi N --key HEX \
        [--identification HEX] [--timeout S]

Without --identification the Identification is an NTP timestamp of now (§5.7.1). Prints
one line of key=value words: the identification sent, and the reply's code, lifetime,
identification, whether its Mobile-Home authenticator verifies under the key, its IP
source and Ethernet destination (`code=none` when no reply came within --timeout).
"""

import argparse
import hashlib
import hmac
import ipaddress
import select
import socket
import struct
import sys
import time

from scapy.all import IP, UDP, Ether, Raw, conf

NTP_UNIX_OFFSET = 2208988800
REQUEST, REPLY = 1, 3
MN_HA_AUTH = 32


def ntp_now():
    t = time.time()
    seconds = int(t) + NTP_UNIX_OFFSET
    fraction = int((t - int(t)) * (1 << 32))
    return (seconds & 0xFFFFFFFF) << 32 | fraction


def request(args, identification, key):
    fixed = struct.pack(
        "!BBH4s4s4sQ",
        REQUEST,
        0,  # flags: no S, B, D, M, G, T
        args.lifetime,
        ipaddress.IPv4Address(args.home).packed,
        ipaddress.IPv4Address(args.home_agent).packed,
        ipaddress.IPv4Address(args.care_of).packed,
        identification,
    )
    covered = fixed + struct.pack("!BBI", MN_HA_AUTH, 4 + 16, args.spi)
    return covered + hmac.new(key, covered, hashlib.md5).digest()


def parse_reply(payload, key):
    """Code, lifetime, identification and authenticity of a Registration Reply."""
    if len(payload) < 20 or payload[0] != REPLY:
        return None
    _, code, lifetime, _home, _ha, identification = struct.unpack("!BBH4s4sQ", payload[:20])
    authentic = False
    at = 20
    while at + 2 <= len(payload):
        ext_type, length = payload[at], payload[at + 1]
        if at + 2 + length > len(payload):
            break
        if ext_type == MN_HA_AUTH and length == 20:
            covered = payload[: at + 6]
            tag = payload[at + 6 : at + 22]
            authentic = hmac.compare_digest(hmac.new(key, covered, hashlib.md5).digest(), tag)
        at += 2 + length
    return code, lifetime, identification, authentic


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ["iface", "src-mac", "dst-mac", "src", "home-agent", "home", "care-of", "key"]:
        p.add_argument("--" + name, required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--lifetime", type=int, required=True)
    p.add_argument("--spi", type=int, required=True)
    p.add_argument("--identification", type=lambda s: int(s, 16))
    p.add_argument("--timeout", type=float, default=20.0)
    args = p.parse_args()
    key = bytes.fromhex(args.key)
    identification = args.identification if args.identification is not None else ntp_now()

    hold = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hold.bind(("0.0.0.0", args.sport))
    sock = conf.L2socket(iface=args.iface)
    frame = (
        Ether(src=args.src_mac, dst=args.dst_mac)
        / IP(src=args.src, dst=args.home_agent, ttl=64)
        / UDP(sport=args.sport, dport=434)
        / Raw(request(args, identification, key))
    )
    sock.send(frame)
    result = {"identification": f"{identification:016x}", "code": "none"}
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        pkt = sock.recv()
        if pkt is None or UDP not in pkt or IP not in pkt:
            continue
        if pkt[UDP].sport != 434 or pkt[UDP].dport != args.sport or pkt[IP].dst != args.src:
            continue
        reply = parse_reply(bytes(pkt[UDP].payload), key)
        if reply is None:
            continue
        code, lifetime, reply_id, authentic = reply
        result.update(
            code=code,
            lifetime=lifetime,
            reply_identification=f"{reply_id:016x}",
            authentic=authentic,
            reply_ip_src=pkt[IP].src,
            reply_eth_dst=pkt[Ether].dst,
        )
        break
    sock.close()
    hold.close()
    print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
