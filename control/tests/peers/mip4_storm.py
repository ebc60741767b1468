#!/usr/bin/env python3
"""A Mobile IPv4 registration storm (RFC 5944) for control/tests/e2e_backup_crash.rs.

mipdp's code does not build or check these messages: this script does, with struct and
Python's hmac/hashlib, as tests/peers/mip4_mobile.py does.

    mip4_storm.py --src IP --home-agent IP --first-home IP --homes N --care-of-first IP
        --care-ofs M --spi N --key HEX --lifetime S

Runs until killed: registers each of the N home addresses (first-home, first-home + 1,
...) in turn, each time to the next of M care-of addresses, with a fresh NTP timestamp
as Identification and the Mobile-Home Authentication Extension (HMAC-MD5). Sent over a
plain UDP socket from --src. Before each request it prints

    sent home=IP care_of=IP identification=HEX

and when an authentic reply with code 0 and that Identification's low 32 bits comes
back (within 0.3 s; otherwise it moves on):

    acked home=IP care_of=IP identification=HEX
"""

import argparse
import hashlib
import hmac
import ipaddress
import socket
import struct
import sys
import time

NTP_UNIX_OFFSET = 2208988800
REQUEST, REPLY = 1, 3
MN_HA_AUTH = 32
PORT = 434


def ntp_now():
    t = time.time()
    seconds = int(t) + NTP_UNIX_OFFSET
    fraction = int((t - int(t)) * (1 << 32))
    return (seconds & 0xFFFFFFFF) << 32 | fraction


def request(home, home_agent, care_of, lifetime, identification, spi, key):
    fixed = struct.pack(
        "!BBH4s4s4sQ",
        REQUEST,
        0,
        lifetime,
        ipaddress.IPv4Address(home).packed,
        ipaddress.IPv4Address(home_agent).packed,
        ipaddress.IPv4Address(care_of).packed,
        identification,
    )
    covered = fixed + struct.pack("!BBI", MN_HA_AUTH, 4 + 16, spi)
    return covered + hmac.new(key, covered, hashlib.md5).digest()


def accepted(payload, key, home, identification):
    """Whether payload is an authentic reply with code 0 for home and identification."""
    if len(payload) < 20 or payload[0] != REPLY:
        return False
    _, code, _lifetime, reply_home, _ha, reply_id = struct.unpack("!BBH4s4sQ", payload[:20])
    if code != 0 or reply_home != ipaddress.IPv4Address(home).packed:
        return False
    if reply_id & 0xFFFFFFFF != identification & 0xFFFFFFFF:
        return False
    at = 20
    while at + 2 <= len(payload):
        ext_type, length = payload[at], payload[at + 1]
        if at + 2 + length > len(payload):
            return False
        if ext_type == MN_HA_AUTH and length == 20:
            covered = payload[: at + 6]
            tag = payload[at + 6 : at + 22]
            return hmac.compare_digest(hmac.new(key, covered, hashlib.md5).digest(), tag)
        at += 2 + length
    return False


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ["src", "home-agent", "first-home", "care-of-first", "key"]:
        p.add_argument("--" + name, required=True)
    for name in ["homes", "care-ofs", "spi", "lifetime"]:
        p.add_argument("--" + name, type=int, required=True)
    args = p.parse_args()
    key = bytes.fromhex(args.key)
    first_home = ipaddress.IPv4Address(args.first_home)
    first_care_of = ipaddress.IPv4Address(args.care_of_first)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.src, 0))
    n = 0
    while True:
        home = str(first_home + n % args.homes)
        care_of = str(first_care_of + (n // args.homes) % args.care_ofs)
        n += 1
        identification = ntp_now()
        payload = request(
            home, args.home_agent, care_of, args.lifetime, identification, args.spi, key
        )
        words = f"home={home} care_of={care_of} identification={identification:016x}"
        print(f"sent {words}", flush=True)
        try:
            sock.sendto(payload, (args.home_agent, PORT))
        except OSError:
            # No route while mipdp restarts (its tap is gone): try again shortly.
            time.sleep(0.05)
            continue
        deadline = time.monotonic() + 0.3
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(2048)
            except (socket.timeout, OSError):
                break
            if accepted(data, key, home, identification):
                print(f"acked {words}", flush=True)
                break


if __name__ == "__main__":
    sys.exit(main())
