#!/usr/bin/env python3
"""Mobile IPv6 mobile nodes that answer a Binding Refresh Request with a Binding Update.

Used by control/tests/e2e_recovery.rs from inside the network namespace behind which the
mobiles' care-of networks are. It reads every frame on --iface; a Binding Refresh Request
(RFC 6275 §6.1.2) from the home agent to a listed home address, tunnelled to that mobile's
care-of address (IPv6 in IPv6, §10.4.1), is answered at once with a Binding Update from
the care-of address with the Home Address option, the next sequence number, a fresh
Mobility Message Replay Protection timestamp and the MN-HA authenticator computed here by
Python's hmac/hashlib (mip6_mobile.py builds it), sent out of --iface at layer 2. Each
answer is printed as `answered home=H care_of=C seq=N`, then runs until SIGTERM.

    mip6_refresh_answerer.py --iface IF --src-mac MAC --dst-mac MAC --home-agent IP \
        --key HEX --lifetime UNITS --mobile HOME,CARE_OF,SPI,FIRST_SEQ [--mobile ...]
"""

import argparse
import ipaddress
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scapy.all import Ether, conf  # noqa: E402

import mip6_mobile  # noqa: E402

IPV6_IN_IPV6, MH, BRR = 41, 135, 0


def refresh_request(raw):
    """(home, care_of) of a tunnelled Binding Refresh Request in an IPv6 packet, or None."""
    if len(raw) < 86 or raw[0] >> 4 != 6 or raw[6] != IPV6_IN_IPV6:
        return None
    inner = raw[40:]
    if inner[0] >> 4 != 6 or inner[6] != MH or inner[42] != BRR:
        return None
    care_of = str(ipaddress.IPv6Address(raw[24:40]))
    return str(ipaddress.IPv6Address(inner[24:40])), care_of, inner[8:24]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ["iface", "src-mac", "dst-mac", "home-agent", "key"]:
        p.add_argument("--" + name, required=True)
    p.add_argument("--lifetime", type=int, required=True, help="4-second units")
    p.add_argument("--mobile", action="append", required=True,
                   help="HOME,CARE_OF,SPI,FIRST_SEQ")
    args = p.parse_args()
    key = bytes.fromhex(args.key)
    home_agent = ipaddress.IPv6Address(args.home_agent).packed
    mobiles = {}
    for m in args.mobile:
        home, care_of, spi, seq = m.split(",")
        mobiles[str(ipaddress.IPv6Address(home))] = dict(
            care_of=str(ipaddress.IPv6Address(care_of)), spi=int(spi), seq=int(seq))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = conf.L2socket(iface=args.iface)
    print("listening", flush=True)
    while True:
        pkt = sock.recv()
        if pkt is None or Ether not in pkt or pkt[Ether].type != 0x86DD:
            continue
        found = refresh_request(bytes(pkt[Ether].payload))
        if found is None:
            continue
        home, care_of, source = found
        m = mobiles.get(home)
        if m is None or m["care_of"] != care_of or source != home_agent:
            continue
        bu_args = argparse.Namespace(
            vendor=None, spi=m["spi"], seq=m["seq"], flags="AH", lifetime=args.lifetime,
            at_home=False, src=care_of, home_agent=args.home_agent, home=home)
        frame = Ether(src=args.src_mac, dst=args.dst_mac) / mip6_mobile.binding_update(bu_args, key)
        sock.send(frame)
        print(f"answered home={home} care_of={care_of} seq={m['seq']}", flush=True)
        m["seq"] = (m["seq"] + 1) % 65536


if __name__ == "__main__":
    sys.exit(main())
