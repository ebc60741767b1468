#!/usr/bin/env python3
"""An IPv4-in-IPv4 (RFC 2003) and GRE (RFC 2784) tunnel end point in user space.

Stands in for the kernel's `ip tunnel` devices (ipip, gre) where the kernel is built
without them (CONFIG_NET_IPIP, CONFIG_NET_IPGRE): each tunnel is a TUN interface the
kernel routes through like a tunnel device. Used by control/tests/e2e_home_agent.rs from
inside the care-of namespace:

    tunnel_endpoint.py --local 192.0.2.7 --tunnel t4:ipip:10.1.0.1 --tunnel g4:gre:192.0.2.1

Packets the kernel delivers to --local with protocol 4 (IPIP) or 47 (GRE) from a tunnel's
remote end are checked like the kernel's tunnel receive path does (outer addresses, GRE
flags and version 0, protocol type 0x0800) and their inner IPv4 packet is written to that
tunnel's TUN interface, where the kernel receives it (and checks it) as if a tunnel device
had decapsulated it. What the kernel routes into a TUN interface is encapsulated and sent
to the remote end (reverse tunnelling). The outer header is the kernel's: these are raw
sockets without IP_HDRINCL. Anything else is counted as refused, never passed on.

Prints `ready` once the TUN interfaces exist and the sockets are open, then one
`refused <tunnel> <reason>` line per refused packet; runs until killed.
"""

import argparse
import fcntl
import os
import select
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
PROTOCOLS = {"ipip": 4, "gre": 47}
GRE_IPV4 = b"\x00\x00\x08\x00"  # no checksum, key or sequence number; version 0; IPv4


class Tunnel:
    def __init__(self, spec, local):
        name, mode, remote = spec.split(":")
        if mode not in PROTOCOLS:
            raise SystemExit(f"unknown tunnel mode {mode!r} (ipip or gre)")
        self.name, self.mode, self.remote = name, mode, remote
        self.tun = os.open("/dev/net/tun", os.O_RDWR)
        ifr = struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI)
        fcntl.ioctl(self.tun, TUNSETIFF, ifr)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTOCOLS[mode])
        self.sock.bind((local, 0))

    def inner(self, outer):
        """The inner packet of an outer IPv4 packet, or the reason to refuse it."""
        ihl = (outer[0] & 0x0F) * 4
        src = socket.inet_ntoa(outer[12:16])
        if src != self.remote:
            return None, f"outer source {src} is not the remote end {self.remote}"
        payload = outer[ihl:]
        if self.mode == "gre":
            if payload[:4] != GRE_IPV4:
                return None, f"GRE header {payload[:4].hex()} is not plain GRE carrying IPv4"
            payload = payload[4:]
        if not payload or payload[0] >> 4 != 4:
            return None, "the inner packet is not IPv4"
        return payload, None

    def receive(self):
        outer = self.sock.recv(65535)
        inner, reason = self.inner(outer)
        if inner is None:
            print(f"refused {self.name} {reason}", flush=True)
            return
        os.write(self.tun, inner)

    def send(self):
        inner = os.read(self.tun, 65535)
        if not inner or inner[0] >> 4 != 4:
            return  # only IPv4 is carried
        header = GRE_IPV4 if self.mode == "gre" else b""
        self.sock.sendto(header + inner, (self.remote, 0))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--local", required=True, help="the local (care-of) address")
    p.add_argument(
        "--tunnel",
        action="append",
        required=True,
        help="NAME:ipip|gre:REMOTE (repeatable)",
    )
    args = p.parse_args()
    tunnels = [Tunnel(spec, args.local) for spec in args.tunnel]
    by_fd = {}
    for t in tunnels:
        by_fd[t.sock.fileno()] = t.receive
        by_fd[t.tun] = t.send
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select(list(by_fd), [], [])
        for fd in readable:
            by_fd[fd]()


if __name__ == "__main__":
    sys.exit(main())
