#!/usr/bin/env python3
"""Sends a steady stream of IPv6 UDP frames to several destinations until SIGTERM.

Used by control/tests/e2e_recovery.rs from the home link's namespace: one frame to each
--dst in turn, --pps frames per second per destination, from --src, out of --iface at
layer 2 to --dst-mac (the home agent's port, which intercepts the bound home addresses).
Prints `sent=N` when stopped.
"""

import argparse
import signal
import sys
import time

from scapy.all import UDP, Ether, IPv6, Raw, conf


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ["iface", "src-mac", "dst-mac", "src"]:
        p.add_argument("--" + name, required=True)
    p.add_argument("--dst", action="append", required=True)
    p.add_argument("--pps", type=float, required=True)
    args = p.parse_args()
    frames = [bytes(Ether(src=args.src_mac, dst=args.dst_mac)
                    / IPv6(src=args.src, dst=d, hlim=64) / UDP(sport=4000, dport=4001)
                    / Raw(b"MIPDP-RECOVERY")) for d in args.dst]
    sent = 0

    def stop(*_):
        print(f"sent={sent}", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    sock = conf.L2socket(iface=args.iface)
    interval = 1.0 / args.pps
    print("sending", flush=True)
    next_at = time.monotonic()
    while True:
        for f in frames:
            sock.send(f)
            sent += 1
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    sys.exit(main())
