#!/usr/bin/env python3
"""A Mobile IPv6 mobile node (RFC 6275) that sends one Binding Update and reads the Binding Acknowledgement.

Used by control/tests/e2e_mip6_binding.rs from inside a network namespace. The Binding
Update is built here, not by mipdp: scapy's IPv6, Home Address destination option
(RFC 6275 §6.3) and Mobility Header layers, the Mobility Message Replay Protection option
with an NTP timestamp of now, and the MN-HA Mobility Message Authentication option
(RFC 4285 §5.1) whose authenticator Python's hmac/hashlib compute: HMAC-SHA1 truncated to
96 bits over care-of address | home address | the Mobility Header up to and including the
option's SPI, checksum zero. It is sent out of --iface at layer 2 (so the mobile's own
MAC and address can be given, e.g. back on its home link), and the acknowledgement is
read on the same packet socket, opened before the update goes out; its Mobility Header
checksum and its authenticator are checked here the same way.

    mip6_mobile.py --iface IF --src-mac MAC --dst-mac MAC --src IP --home-agent IP \
        --home IP --seq N --lifetime UNITS --spi N --key HEX [--at-home] [--timeout S]

--flags (default AH; AM for a MAP's local binding update) and --vendor SUBTYPE:HEX (one
vendor-specific option of vendor 32473, docs/mma-registration.md) make it a MAP or an MMA
registration; the acknowledgement's vendor options of that vendor are printed as
vendor_<subtype>=<hex>.

--at-home: sent from the home address without the Home Address option (the care-of
address is then the home address: a deregistration, RFC 6275 §11.5.4). Prints one line
of key=value words: the acknowledgement's status, sequence, lifetime (4-second units),
whether its authenticator and checksum verify under the key, its IPv6 source, its type 2
routing header's home address (or none) and its Ethernet destination (`status=none`
when none came within --timeout).
"""

import argparse
import hashlib
import hmac
import ipaddress
import select
import struct
import sys
import time

from scapy.all import Ether, conf
from scapy.layers.inet6 import (HAO, IPv6, IPv6ExtHdrDestOpt, MIP6MH_BU,
                                MIP6OptMsgAuth, MIP6OptReplayProtection, MIP6OptUnknown)

NTP_UNIX_OFFSET = 2208988800
AUTH_TYPE, AUTH_LEN, MN_HA = 9, 17, 1
MH, ROUTING, DEST_OPTS, HOP_BY_HOP = 135, 43, 60, 0
BINDING_ACK = 6
VENDOR_TYPE, VENDOR_ID = 19, 32473


def ntp_now():
    t = time.time()
    seconds = int(t) + NTP_UNIX_OFFSET
    fraction = int((t - int(t)) * (1 << 32))
    return (seconds & 0xFFFFFFFF) << 32 | fraction


def packed(addr):
    return ipaddress.IPv6Address(addr).packed


def authenticator(key, care_of, home, covered):
    return hmac.new(key, packed(care_of) + packed(home) + covered, hashlib.sha1).digest()[:12]


def binding_update(args, key):
    options = []
    if args.vendor:
        # RFC 5094 §3: Type 19, Length, Vendor ID, Sub-Type, Data (docs/mma-registration.md).
        subtype, data = args.vendor.split(":")
        options.append(MIP6OptUnknown(
            otype=19, odata=struct.pack("!IB", VENDOR_ID, int(subtype)) + bytes.fromhex(data)))
    options += [
        MIP6OptReplayProtection(timestamp=ntp_now()),
        MIP6OptMsgAuth(subtype=MN_HA, mspi=args.spi, authdata=bytes(12)),
    ]
    bu = MIP6MH_BU(seq=args.seq, flags=args.flags, mhtime=args.lifetime, options=options)
    if args.at_home:
        p = IPv6(src=args.src, dst=args.home_agent, hlim=64) / bu
    else:
        p = (IPv6(src=args.src, dst=args.home_agent, hlim=64)
             / IPv6ExtHdrDestOpt(options=[HAO(hoa=args.home)]) / bu)
    unsigned = p.copy()
    unsigned[MIP6MH_BU].cksum = 0
    mh = bytes(unsigned[MIP6MH_BU])
    head = bytes([AUTH_TYPE, AUTH_LEN, MN_HA]) + struct.pack("!I", args.spi)
    at = mh.find(head)
    if at < 0:
        raise SystemExit("no MN-HA option in the Binding Update scapy built")
    tag = authenticator(key, args.src, args.home, mh[: at + 7])
    for option in p[MIP6MH_BU].options:
        if isinstance(option, MIP6OptMsgAuth):
            option.authdata = tag
    p[MIP6MH_BU].cksum = None  # scapy computes it over the home address (§6.1.1)
    return p


def ones_complement_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def parse_ack(packet, key):
    """The fields of a Binding Acknowledgement in a whole IPv6 packet, or None."""
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
    if len(mh) < 12 or mh[2] != BINDING_ACK or len(mh) < (mh[1] + 1) * 8:
        return None
    mh = mh[: (mh[1] + 1) * 8]
    final = home or dst
    pseudo = src + final + struct.pack("!I3xB", len(mh), MH)
    checksum_ok = ones_complement_sum(pseudo + mh) == 0xFFFF
    status, seq, lifetime = mh[6], struct.unpack("!H", mh[8:10])[0], struct.unpack("!H", mh[10:12])[0]
    authentic = False
    vendor = {}
    o = 12
    while o < len(mh):
        if mh[o] == 0:  # Pad1
            o += 1
            continue
        if o + 2 > len(mh):
            break
        kind, length = mh[o], mh[o + 1]
        if kind == AUTH_TYPE and length == AUTH_LEN and mh[o + 2] == MN_HA:
            covered = bytearray(mh[: o + 7])
            covered[4:6] = b"\0\0"
            tag = mh[o + 7: o + 19]
            care_of = str(ipaddress.IPv6Address(dst))
            home_address = str(ipaddress.IPv6Address(final))
            authentic = hmac.compare_digest(
                authenticator(key, care_of, home_address, bytes(covered)), tag)
        if kind == VENDOR_TYPE and length >= 5 and \
                struct.unpack("!I", mh[o + 2: o + 6])[0] == VENDOR_ID:
            vendor[f"vendor_{mh[o + 6]}"] = mh[o + 7: o + 2 + length].hex()
        o += 2 + length
    return dict(
        status=status,
        seq=seq,
        lifetime=lifetime,
        authentic=authentic,
        checksum_ok=checksum_ok,
        reply_src=str(ipaddress.IPv6Address(src)),
        reply_dst=str(ipaddress.IPv6Address(dst)),
        routing_home=str(ipaddress.IPv6Address(home)) if home else "none",
        **vendor,
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ["iface", "src-mac", "dst-mac", "src", "home-agent", "home", "key"]:
        p.add_argument("--" + name, required=True)
    p.add_argument("--seq", type=int, required=True)
    p.add_argument("--lifetime", type=int, required=True, help="4-second units")
    p.add_argument("--spi", type=int, required=True)
    p.add_argument("--at-home", action="store_true")
    p.add_argument("--flags", default="AH",
                   help="Binding Update flags: AH (home registration, MMA), AM (MAP)")
    p.add_argument("--vendor", help="SUBTYPE:HEX, a vendor-specific option of vendor 32473")
    p.add_argument("--timeout", type=float, default=20.0)
    args = p.parse_args()
    key = bytes.fromhex(args.key)

    sock = conf.L2socket(iface=args.iface)
    frame = Ether(src=args.src_mac, dst=args.dst_mac) / binding_update(args, key)
    sock.send(frame)
    result = {"seq_sent": args.seq, "status": "none"}
    src = ipaddress.IPv6Address(args.src).packed
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        pkt = sock.recv()
        if pkt is None or Ether not in pkt or pkt[Ether].type != 0x86DD:
            continue
        raw = bytes(pkt[Ether].payload)
        if raw[24:40] != src:
            continue
        ack = parse_ack(raw, key)
        if ack is None:
            continue
        result.update(ack)
        result["reply_eth_dst"] = pkt[Ether].dst
        break
    sock.close()
    print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
