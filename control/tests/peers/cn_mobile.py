#!/usr/bin/env python3
"""A Mobile IPv6 mobile node doing return routability with a correspondent node (RFC 6275 §5.2, §11.6).

Used by control/tests/e2e_cn_return_routability.rs from inside a network namespace. Every
message is built here, not by mipdp: scapy's IPv6, Home Address destination option and
Mobility Header layers (MIP6MH_HoTI, MIP6MH_CoTI, MIP6MH_BU with MIP6OptNonceIndices and
MIP6OptBindingAuthData); Kbm and the Binding Authorization Data authenticator come from
Python's hashlib/hmac and the keygen tokens the correspondent sent:

  Kbm = SHA1(home keygen token | care-of keygen token)   (home token alone to deregister)
  authenticator = First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH Data))
    (the care-of address is the home address when deregistering, RFC 6275 §6.2.7)

Frames go out of --iface at layer 2 and the answer is read on the same packet socket,
opened before sending.

    cn_mobile.py init --kind home|care-of --iface IF --src-mac MAC --dst-mac MAC --src IP
        --cn IP [--timeout S]
      sends a Home (Care-of) Test Init from --src with a random cookie and prints
      `status=ok index=N token=HEX` from the Home (Care-of) Test that echoes the cookie
      (its checksum verified), or `status=none`.

    cn_mobile.py bu --iface IF --src-mac MAC --dst-mac MAC --src IP --home IP --cn IP
        --seq N --lifetime UNITS --home-index N --home-token HEX
        [--care-of-index N --care-of-token HEX] [--corrupt] [--timeout S]
      sends a Binding Update (A set) from --src (with the Home Address option unless it
      is the home address) and prints the acknowledgement: status, seq, lifetime, whether
      its Binding Authorization Data verifies under Kbm and its checksum, its source,
      destination and type 2 routing header's home address (`status=none` when none came).
      --corrupt flips one bit of the authenticator before sending.
"""

import argparse
import hashlib
import hmac
import ipaddress
import os
import select
import struct
import sys
import time

from scapy.all import Ether, conf
from scapy.layers.inet6 import (HAO, IPv6, IPv6ExtHdrDestOpt, MIP6MH_BU, MIP6MH_CoTI,
                                MIP6MH_HoTI, MIP6OptBindingAuthData, MIP6OptNonceIndices)

MH, ROUTING, DEST_OPTS, HOP_BY_HOP = 135, 43, 60, 0
HOME_TEST, CARE_OF_TEST, BINDING_ACK = 3, 4, 6
BAD_TYPE, BAD_LEN = 5, 12


def packed(addr):
    return ipaddress.IPv6Address(addr).packed


def ones_complement_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def mobility_header(packet):
    """(source, final destination, type 2 home address or None, MH bytes) of an IPv6
    packet ending in a Mobility Header with a valid checksum, else None."""
    if len(packet) < 40 or packet[0] >> 4 != 6:
        return None
    src, dst = packet[8:24], packet[24:40]
    nh, at, home = packet[6], 40, None
    while nh in (ROUTING, DEST_OPTS, HOP_BY_HOP):
        if at + 8 > len(packet):
            return None
        length = (packet[at + 1] + 1) * 8
        if nh == ROUTING and packet[at + 2] == 2 and length == 24:
            home = packet[at + 8: at + 24]
        nh, at = packet[at], at + length
    if nh != MH:
        return None
    mh = packet[at:]
    if len(mh) < 8 or len(mh) < (mh[1] + 1) * 8:
        return None
    mh = mh[: (mh[1] + 1) * 8]
    final = home or dst
    pseudo = src + final + struct.pack("!I3xB", len(mh), MH)
    if ones_complement_sum(pseudo + mh) != 0xFFFF:
        return None
    return src, final, home, mh


def exchange(args, frame, accept):
    """Sends `frame` and returns accept(raw IPv6 packet, Ether) of the first answer for
    which it is not None, or None after --timeout."""
    sock = conf.L2socket(iface=args.iface)
    sock.send(frame)
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            pkt = sock.recv()
            if pkt is None or Ether not in pkt or pkt[Ether].type != 0x86DD:
                continue
            got = accept(bytes(pkt[Ether].payload), pkt[Ether])
            if got is not None:
                return got
    finally:
        sock.close()
    return None


def init(args):
    cookie = os.urandom(8)
    cls = MIP6MH_HoTI if args.kind == "home" else MIP6MH_CoTI
    want = HOME_TEST if args.kind == "home" else CARE_OF_TEST
    frame = (Ether(src=args.src_mac, dst=args.dst_mac)
             / IPv6(src=args.src, dst=args.cn, hlim=64) / cls(cookie=cookie))

    def accept(raw, _eth):
        parsed = mobility_header(raw)
        if parsed is None:
            return None
        src, final, _home, mh = parsed
        if final != packed(args.src) or src != packed(args.cn) or len(mh) < 24:
            return None
        if mh[2] != want or mh[8:16] != cookie:
            return None
        return dict(status="ok", index=struct.unpack("!H", mh[6:8])[0], token=mh[16:24].hex())

    return exchange(args, frame, accept) or dict(status="none")


def binding_update(args):
    home_token = bytes.fromhex(args.home_token)
    deregistering = args.lifetime == 0 or args.src == args.home
    if deregistering:
        kbm = hashlib.sha1(home_token).digest()
        covered = args.home
    else:
        kbm = hashlib.sha1(home_token + bytes.fromhex(args.care_of_token)).digest()
        covered = args.src
    options = [MIP6OptNonceIndices(olen=4, hni=args.home_index, coni=args.care_of_index),
               MIP6OptBindingAuthData(olen=BAD_LEN, authenticator=0)]
    bu = MIP6MH_BU(seq=args.seq, flags="A", mhtime=args.lifetime, options=options)
    if args.src == args.home:
        p = IPv6(src=args.src, dst=args.cn, hlim=64) / bu
    else:
        p = (IPv6(src=args.src, dst=args.cn, hlim=64)
             / IPv6ExtHdrDestOpt(options=[HAO(hoa=args.home)]) / bu)
    unsigned = p.copy()
    unsigned[MIP6MH_BU].cksum = 0
    mh = bytes(unsigned[MIP6MH_BU])
    at = len(mh) - 14
    if mh[at] != BAD_TYPE or mh[at + 1] != BAD_LEN:
        raise SystemExit("scapy did not put the Binding Authorization Data option last")
    tag = bytearray(hmac.new(kbm, packed(covered) + packed(args.cn) + mh[:at + 2],
                             hashlib.sha1).digest()[:12])
    if args.corrupt:
        tag[0] ^= 0x01
    for option in p[MIP6MH_BU].options:
        if isinstance(option, MIP6OptBindingAuthData):
            option.authenticator = int.from_bytes(bytes(tag), "big")
    p[MIP6MH_BU].cksum = None
    frame = Ether(src=args.src_mac, dst=args.dst_mac) / p

    def accept(raw, eth):
        parsed = mobility_header(raw)
        if parsed is None:
            return None
        src, final, home, mh = parsed
        if raw[24:40] != packed(args.src) or len(mh) < 12 or mh[2] != BINDING_ACK:
            return None
        authentic = False
        if len(mh) >= 32 and mh[-14] == BAD_TYPE and mh[-13] == BAD_LEN:
            covered_mh = bytearray(mh[:-12])
            covered_mh[4:6] = b"\0\0"
            want = hmac.new(kbm, packed(covered) + packed(args.cn) + bytes(covered_mh),
                            hashlib.sha1).digest()[:12]
            authentic = hmac.compare_digest(want, mh[-12:])
        return dict(
            status=mh[6],
            seq=struct.unpack("!H", mh[8:10])[0],
            lifetime=struct.unpack("!H", mh[10:12])[0],
            authentic=authentic,
            checksum_ok=True,
            reply_src=str(ipaddress.IPv6Address(src)),
            reply_dst=str(ipaddress.IPv6Address(raw[24:40])),
            routing_home=str(ipaddress.IPv6Address(home)) if home else "none",
            final=str(ipaddress.IPv6Address(final)),
            reply_eth_dst=eth.dst,
        )

    return exchange(args, frame, accept) or dict(status="none")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["init", "bu"])
    for name in ["iface", "src-mac", "dst-mac", "src", "cn"]:
        p.add_argument("--" + name, required=True)
    p.add_argument("--kind", choices=["home", "care-of"], default="home")
    p.add_argument("--home")
    p.add_argument("--seq", type=int, default=0)
    p.add_argument("--lifetime", type=int, default=0, help="4-second units")
    p.add_argument("--home-index", type=int, default=0)
    p.add_argument("--home-token")
    p.add_argument("--care-of-index", type=int, default=0)
    p.add_argument("--care-of-token", default="")
    p.add_argument("--corrupt", action="store_true")
    p.add_argument("--timeout", type=float, default=20.0)
    args = p.parse_args()
    result = init(args) if args.command == "init" else binding_update(args)
    print("result " + " ".join(f"{k}={v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
