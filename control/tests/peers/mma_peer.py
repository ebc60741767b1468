#!/usr/bin/env python3
"""An old MMA forwarding a correspondent's packets to the new MMA, and that correspondent.

Used by control/tests/e2e_map_mma.rs from inside a network namespace. Sends --count
IPv6-in-IPv6 packets (scapy; --gap seconds apart) out of --iface at layer 2: outer source
the old MMA (--peer), outer destination the new MMA (--mma), inner source the
correspondent (--correspondent), inner destination the mobile's home address (--home),
a UDP datagram inside. On the same packet socket, opened before the first packet goes out,
it reads what the new MMA sends the correspondent for --listen seconds after the last
packet and checks each Binding Update (docs/mma-registration.md) here: the Home Address
destination option, the Alternate Care-of Address option, the Mobility Header checksum
(pseudo-header source: the home address, RFC 6275 §6.1.1) and the Mobility Message
Authentication option (RFC 4285 §5.1) whose authenticator Python's hmac/hashlib compute
under the MMA-correspondent key: HMAC-SHA1 truncated to 96 bits over care-of address |
home address | the Mobility Header up to and including the option's SPI, checksum zero.

    mma_peer.py --iface IF --src-mac MAC --dst-mac MAC --peer IP --mma IP \
        --correspondent IP --home IP --spi N --key HEX [--count N] [--gap S] [--listen S]

Prints one line of key=value words: bu_count (Binding Updates to the correspondent from
the new MMA), bu_after_first (those that came after the second packet was sent), then
the first one's fields (`bu=none` when none came).
"""

import argparse
import hashlib
import hmac
import ipaddress
import select
import struct
import sys
import time

from scapy.all import UDP, Ether, Raw, conf
from scapy.layers.inet6 import IPv6

AUTH_TYPE, AUTH_LEN, MN_HA = 9, 17, 1
ALTERNATE_CARE_OF = 3
HOME_ADDRESS_OPTION = 201
MH, ROUTING, DEST_OPTS, HOP_BY_HOP = 135, 43, 60, 0
BINDING_UPDATE = 5


def packed(addr):
    return ipaddress.IPv6Address(addr).packed


def text(raw):
    return str(ipaddress.IPv6Address(raw))


def ones_complement_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def options_of(header):
    """(type, data) of each option of a Destination Options header."""
    o = 2
    while o < len(header):
        if header[o] == 0:  # Pad1
            o += 1
            continue
        if o + 2 > len(header):
            return
        kind, length = header[o], header[o + 1]
        yield kind, header[o + 2: o + 2 + length]
        o += 2 + length


def parse_bu(packet, key, spi):
    """The fields of a Binding Update in a whole IPv6 packet, or None."""
    if len(packet) < 40 or packet[0] >> 4 != 6:
        return None
    src, dst = packet[8:24], packet[24:40]
    nh, at, home = packet[6], 40, None
    while nh in (ROUTING, DEST_OPTS, HOP_BY_HOP):
        if at + 8 > len(packet):
            return None
        length = (packet[at + 1] + 1) * 8
        if nh == DEST_OPTS:
            for kind, data in options_of(packet[at: at + length]):
                if kind == HOME_ADDRESS_OPTION and len(data) == 16:
                    home = data
        nh, at = packet[at], at + length
    if nh != MH:
        return None
    mh = packet[at:]
    if len(mh) < 12 or mh[2] != BINDING_UPDATE or len(mh) < (mh[1] + 1) * 8:
        return None
    mh = mh[: (mh[1] + 1) * 8]
    final_src = home or src
    pseudo = final_src + dst + struct.pack("!I3xB", len(mh), MH)
    checksum_ok = ones_complement_sum(pseudo + mh) == 0xFFFF
    seq, flags, lifetime = struct.unpack("!HBxH", mh[6:12])
    care_of, authentic, auth_spi, auth_last = None, False, None, False
    o = 12
    while o < len(mh):
        if mh[o] == 0:  # Pad1
            o += 1
            continue
        if o + 2 > len(mh):
            break
        kind, length = mh[o], mh[o + 1]
        if kind == ALTERNATE_CARE_OF and length == 16:
            care_of = mh[o + 2: o + 18]
        if kind == AUTH_TYPE and length == AUTH_LEN and mh[o + 2] == MN_HA:
            auth_spi = struct.unpack("!I", mh[o + 3: o + 7])[0]
            covered = bytearray(mh[: o + 7])
            covered[4:6] = b"\0\0"
            tag = mh[o + 7: o + 19]
            if care_of is not None and home is not None:
                expected = hmac.new(key, care_of + home + bytes(covered),
                                    hashlib.sha1).digest()[:12]
                authentic = hmac.compare_digest(expected, tag)
            auth_last = True
        elif auth_spi is not None and kind != 1:
            auth_last = False  # RFC 4285 §5: only padding follows the option.
        o += 2 + length
    return dict(
        bu_src=text(src),
        bu_dst=text(dst),
        home=text(home) if home else "none",
        care_of=text(care_of) if care_of else "none",
        seq=seq,
        flags=f"{flags:#04x}",
        lifetime=lifetime,
        spi=auth_spi if auth_spi is not None else "none",
        authentic=authentic and auth_spi == spi,
        auth_last=auth_last,
        checksum_ok=checksum_ok,
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ["iface", "src-mac", "dst-mac", "peer", "mma", "correspondent", "home",
                 "key"]:
        p.add_argument("--" + name, required=True)
    p.add_argument("--spi", type=int, required=True)
    p.add_argument("--count", type=int, default=2)
    p.add_argument("--gap", type=float, default=1.0)
    p.add_argument("--listen", type=float, default=3.0)
    args = p.parse_args()
    key = bytes.fromhex(args.key)

    sock = conf.L2socket(iface=args.iface)
    mma, correspondent = packed(args.mma), packed(args.correspondent)
    updates, after_first, first_sent_at = [], 0, None

    def read_until(deadline):
        nonlocal after_first
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                return
            pkt = sock.recv()
            if pkt is None or Ether not in pkt or pkt[Ether].type != 0x86DD:
                continue
            raw = bytes(pkt[Ether].payload)
            if raw[8:24] != mma or raw[24:40] != correspondent:
                continue
            bu = parse_bu(raw, key, args.spi)
            if bu is None:
                continue
            bu["bu_eth_dst"] = pkt[Ether].dst
            updates.append(bu)
            if sent > 1:
                after_first += 1

    sent = 0
    for i in range(args.count):
        inner = (IPv6(src=args.correspondent, dst=args.home, hlim=64)
                 / UDP(sport=7000, dport=9999) / Raw(f"via the old MMA {i}".encode()))
        frame = (Ether(src=args.src_mac, dst=args.dst_mac)
                 / IPv6(src=args.peer, dst=args.mma, hlim=64, nh=41) / inner)
        sock.send(frame)
        sent += 1
        read_until(time.monotonic() + (args.gap if i + 1 < args.count else args.listen))
    sock.close()
    result = {"bu_count": len(updates), "bu_after_first": after_first}
    if updates:
        result.update(updates[0])
    else:
        result["bu"] = "none"
    print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
