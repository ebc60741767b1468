#!/usr/bin/env python3
"""Sends numbered UDP test frames out of an interface and records exactly what it sent.

Used by control/tests/e2e_tap.rs from inside a network namespace:

    send_frames.py --iface IF --src-mac MAC --dst-mac MAC --count N --dport PORT \
                   --seed S --sent FILE.pcap

Frame i is IPv4 when i is even and IPv6 when odd, UDP to --dport, and its payload starts
with b"MIPDP", the sequence number i (4 bytes, big endian), then random bytes filling the
frame to a length between 60 and 1514 bytes (the first frames are the exact edges). The
frames are written to --sent as a pcap before they are sent, so the test can compare
byte for byte.
"""

import argparse
import random
import sys

from scapy.all import IP, UDP, Ether, IPv6, Raw, RawPcapWriter, conf

MIN_FRAME = 60
MAX_FRAME = 1514  # 1500-byte MTU plus the Ethernet header
MARKER = b"MIPDP"


def frame(i, length, args, rng):
    if i % 2 == 0:
        l3 = IP(src="198.51.100.1", dst="198.51.100.2", ttl=64, id=i)
    else:
        l3 = IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64)
    base = Ether(src=args.src_mac, dst=args.dst_mac) / l3 / UDP(sport=args.sport, dport=args.dport)
    head = MARKER + i.to_bytes(4, "big")
    fill = max(0, length - len(base) - len(head))
    pkt = base / Raw(head + bytes(rng.getrandbits(8) for _ in range(fill)))
    return bytes(pkt)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iface", required=True)
    p.add_argument("--src-mac", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--sport", type=int, default=40000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sent", required=True, help="pcap file to record the sent frames in")
    args = p.parse_args()

    rng = random.Random(args.seed)
    edges = [MIN_FRAME, MAX_FRAME, MIN_FRAME + 11, MAX_FRAME - 1]
    frames = []
    for i in range(args.count):
        length = edges[i] if i < len(edges) else rng.randint(MIN_FRAME, MAX_FRAME)
        frames.append(frame(i, length, args, rng))
        if not MIN_FRAME <= len(frames[-1]) <= MAX_FRAME:
            sys.exit(f"send_frames.py: frame {i} is {len(frames[-1])} bytes")

    with RawPcapWriter(args.sent, linktype=1) as sent:  # 1: Ethernet
        for f in frames:
            sent.write(f)
    sock = conf.L2socket(iface=args.iface)
    try:
        for f in frames:
            sock.send(f)
    finally:
        sock.close()
    print(f"sent {len(frames)} frames on {args.iface}")


if __name__ == "__main__":
    main()
