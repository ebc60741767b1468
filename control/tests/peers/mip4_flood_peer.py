#!/usr/bin/env python3
"""The legitimate Mobile IPv4 mobile node (RFC 5944) of control/tests/e2e_signalling_flood.rs.

mipdp's code does not build or check these messages: this script does, with struct and
Python's hmac/hashlib, as tests/peers/mip4_mobile.py does for one request.

    mip4_flood_peer.py requests --count N --home IP --home-agent IP --care-of IP \
        --lifetime S --spi N --key HEX
        Prints N Registration Requests (UDP payloads), one hex line each, with the
        Mobile-Home Authentication Extension (HMAC-MD5, §3.5.2) and Identifications that
        are NTP timestamps of now plus i milliseconds (strictly increasing, §5.7.1).

    mip4_flood_peer.py replies --pcap FILE --mobile IP --port N --key HEX --sent FILE
        Reads the Registration Replies to --mobile:--port in FILE (a classic Ethernet pcap
        that mipdp's net_pcap port wrote) and prints one line of key=value words: replies,
        accepted (code 0 or 1), accepted_authentic (the authenticator verifies under the key
        and the Identification's low 32 bits echo one of the requests listed in --sent),
        denied, and denied_<code> per code.
"""

import argparse
import hashlib
import hmac
import ipaddress
import struct
import sys
import time

NTP_UNIX_OFFSET = 2208988800
REQUEST, REPLY = 1, 3
MN_HA_AUTH = 32


def ntp(t):
    seconds = int(t) + NTP_UNIX_OFFSET
    fraction = int((t - int(t)) * (1 << 32))
    return (seconds & 0xFFFFFFFF) << 32 | fraction


def request(args, identification, key):
    fixed = struct.pack(
        "!BBH4s4s4sQ",
        REQUEST,
        0,
        args.lifetime,
        ipaddress.IPv4Address(args.home).packed,
        ipaddress.IPv4Address(args.home_agent).packed,
        ipaddress.IPv4Address(args.care_of).packed,
        identification,
    )
    covered = fixed + struct.pack("!BBI", MN_HA_AUTH, 4 + 16, args.spi)
    return covered + hmac.new(key, covered, hashlib.md5).digest()


def requests(args):
    key = bytes.fromhex(args.key)
    now = time.time()
    for i in range(args.count):
        print(request(args, ntp(now + i / 1000.0), key).hex())


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file")
    at = 24
    while at + 16 <= len(data):
        caplen = struct.unpack(order + "I", data[at + 8 : at + 12])[0]
        at += 16
        yield data[at : at + caplen]
        at += caplen


def authentic(payload, key):
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


def replies(args):
    key = bytes.fromhex(args.key)
    mobile = ipaddress.IPv4Address(args.mobile).packed
    with open(args.sent) as f:
        sent = {struct.unpack("!Q", bytes.fromhex(line.strip())[16:24])[0] & 0xFFFFFFFF for line in f if line.strip()}
    counts = {"replies": 0, "accepted": 0, "accepted_authentic": 0, "denied": 0}
    for frame in pcap_frames(args.pcap):
        if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17 or ip[16:20] != mobile:
            continue
        udp = ip[ihl:]
        sport, dport, length = struct.unpack("!HHH", udp[:6])
        if sport != 434 or dport != args.port:
            continue
        payload = udp[8:length]
        if len(payload) < 20 or payload[0] != REPLY:
            continue
        counts["replies"] += 1
        code = payload[1]
        identification = struct.unpack("!Q", payload[12:20])[0]
        if code in (0, 1):
            counts["accepted"] += 1
            if authentic(payload, key) and (identification & 0xFFFFFFFF) in sent:
                counts["accepted_authentic"] += 1
        else:
            counts["denied"] += 1
            name = f"denied_{code}"
            counts[name] = counts.get(name, 0) + 1
    print(" ".join(f"{k}={v}" for k, v in counts.items()), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("requests")
    for name in ["home", "home-agent", "care-of", "key"]:
        r.add_argument("--" + name, required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--lifetime", type=int, required=True)
    r.add_argument("--spi", type=int, required=True)
    a = sub.add_parser("replies")
    for name in ["pcap", "mobile", "key", "sent"]:
        a.add_argument("--" + name, required=True)
    a.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    if args.command == "requests":
        requests(args)
    else:
        replies(args)


if __name__ == "__main__":
    sys.exit(main())
