#!/usr/bin/env python3
"""Decodes the frames mipdp-pktgen sent (a net_pcap tx_pcap capture) with scapy and checks
them against the mobility workload's rules, independently of the Rust code: addresses from
the documented address plan, checksums recomputed by scapy, MN-HA authenticators
recomputed with Python's hmac from keys derived as documented (splitmix64 of the seed).

Usage: scapy_check.py PCAP --workload W --mobiles N [--key-seed S] [--family 4|6]
       [--size BYTES|imix] [--encapsulation ipip|gre|ip6ip6] [--handover-every K]
       [--malformed-per-mille P] [--bu-sequence-start Q]

Prints `ok FRAMES` and exits 0, or prints what is wrong and exits 1.
"""

import argparse
import hashlib
import hmac
import ipaddress
import math
import struct
import sys
import time

from scapy.all import GRE, IP, UDP, Ether, IPv6, Raw, rdpcap
from scapy.layers.inet6 import HAO, IPv6ExtHdrDestOpt, in6_chksum
from scapy.layers.mobileip import MobileIP, MobileIPRRQ

# The default address plan (pktgen/src/mobility/plan.rs, the --help text).
HOME4 = int(ipaddress.IPv4Address("10.0.0.0"))
CARE_OF4 = int(ipaddress.IPv4Address("100.64.0.0"))
CORRESPONDENT4 = "198.51.100.9"
AGENT4 = "192.0.2.1"
ENTRY4 = "203.0.113.1"
HOME6 = int(ipaddress.IPv6Address("2001:db8:100::1"))
CARE_OF6 = int(ipaddress.IPv6Address("2001:db8:200::1"))
CORRESPONDENT6 = "2001:db8:cccc::9"
AGENT6 = "2001:db8:ffff::1"
ENTRY6 = "2001:db8:aaaa::1"
EXTRA_MOBILES = 64
IMIX = [64, 576, 64, 64, 576, 64, 1514, 64, 576, 64, 64, 576]
DATA_MAGIC = b"MPDM"
MALFORMED_MAGIC = b"MPDX"
MALFORMED_KINDS = [
    "truncated_packet",
    "bad_ipv4_checksum",
    "bad_udp_checksum",
    "bad_udp_length",
    "unknown_ipv4_option",
    "bad_authenticator",
    "unknown_extension",
]
NTP_UNIX_OFFSET = 2208988800
MASK64 = (1 << 64) - 1

failures = []


def fail(msg):
    failures.append(msg)


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def key(seed, m):
    base = (seed + 2 * m) & MASK64
    return struct.pack(">QQ", splitmix64(base), splitmix64((base + 1) & MASK64))


def multiplier(n):
    m = max(2654435761 % max(n, 1), 1)
    while n > 1 and math.gcd(m, n) != 1:
        m += 1
    return m


def home4(i):
    return str(ipaddress.IPv4Address(HOME4 + i))


def care_of4(n, i, which):
    return str(ipaddress.IPv4Address(CARE_OF4 + i + which * n))


def home6(i):
    return str(ipaddress.IPv6Address(HOME6 + i))


def care_of6(n, i, which):
    return str(ipaddress.IPv6Address(CARE_OF6 + ((i + which * n) << 64)))


def recompute_ip_checksum(header):
    copy = IP(header[:10] + b"\0\0" + header[12:])
    copy.chksum = None
    return IP(bytes(copy)).chksum


def udp_checksum_ok(pkt, udp):
    """UDP checksum as scapy computes it (for the IPv4 or IPv6 packet `pkt` holding it)."""
    seg = bytes(udp)[: udp.len]
    if isinstance(pkt, IP):
        want = in4_udp(pkt, seg)
    else:
        want = in6_chksum(17, pkt, seg[:6] + b"\0\0" + seg[8:])
        want = 0xFFFF if want == 0 else want
    return want == udp.chksum


def in4_udp(ip, seg):
    from scapy.utils import checksum

    pseudo = (
        ipaddress.IPv4Address(ip.src).packed
        + ipaddress.IPv4Address(ip.dst).packed
        + struct.pack(">BBH", 0, 17, len(seg))
    )
    c = checksum(pseudo + seg[:6] + b"\0\0" + seg[8:])
    return 0xFFFF if c == 0 else c


def data_len(args, seq):
    if args.size == "imix":
        size = IMIX[seq % 12]
    else:
        size = int(args.size)
    return max(size, min_data_len(args))


def min_data_len(args):
    ip = 20 if args.family == 4 else 40
    n = 14 + ip + 8 + 20
    if args.workload == "encapsulated":
        n += {"ipip": 20, "gre": 24, "ip6ip6": 40}[args.encapsulation]
    if args.workload == "malformed":
        n += 4
    return max(n, 64)


def check_data(args, seq, frame, inner, magic=DATA_MAGIC):
    """`inner` is the scapy IP/IPv6 packet from the correspondent to the mobile."""
    n = args.mobiles
    mobile = (seq % n) * multiplier(n) % n
    if args.family == 4:
        if not isinstance(inner, IP):
            return fail(f"frame {seq}: inner is not IPv4")
        want = (CORRESPONDENT4, home4(mobile))
        if (inner.src, inner.dst) != want:
            fail(f"frame {seq}: inner {inner.src} -> {inner.dst}, want {want}")
        if inner.ttl != 64 or inner.flags != "DF":
            fail(f"frame {seq}: ttl {inner.ttl} flags {inner.flags}")
        if recompute_ip_checksum(bytes(inner)[:20]) != inner.chksum:
            fail(f"frame {seq}: inner IPv4 checksum")
    else:
        if not isinstance(inner, IPv6):
            return fail(f"frame {seq}: inner is not IPv6")
        want = (CORRESPONDENT6, home6(mobile))
        if (inner.src, inner.dst) != want or inner.hlim != 64:
            fail(f"frame {seq}: inner {inner.src} -> {inner.dst} hlim {inner.hlim}")
    udp = inner[UDP]
    if (udp.sport, udp.dport) != (9, 9):
        fail(f"frame {seq}: ports {udp.sport} {udp.dport}")
    if not udp_checksum_ok(inner, udp):
        fail(f"frame {seq}: UDP checksum {udp.chksum:#x}")
    payload = bytes(udp.payload)
    got_magic, got_seq, _ts = struct.unpack(">4sQQ", payload[:20])
    if got_magic != magic or got_seq != seq:
        fail(f"frame {seq}: payload magic {got_magic} sequence {got_seq}")
    if any(payload[20:]):
        fail(f"frame {seq}: padding not zero")
    if len(frame) != data_len(args, seq):
        fail(f"frame {seq}: {len(frame)} bytes, want {data_len(args, seq)}")


def check_registration(args, seq, frame, mobile, which, flaw=None):
    pkt = Ether(frame)
    ip, udp = pkt[IP], pkt[UDP]
    n = args.mobiles
    if (ip.src, ip.dst, udp.sport, udp.dport) != (care_of4(n, mobile, which), AGENT4, 434, 434):
        fail(f"frame {seq}: request {ip.src}:{udp.sport} -> {ip.dst}:{udp.dport}, want mobile {mobile} care-of {which}")
    if recompute_ip_checksum(bytes(ip)[:20]) != ip.chksum or not udp_checksum_ok(ip, udp):
        fail(f"frame {seq}: request checksums")
    mip = MobileIP(bytes(udp.payload))
    if mip.type != 1 or MobileIPRRQ not in mip:
        return fail(f"frame {seq}: not a Registration Request")
    rrq = mip[MobileIPRRQ]
    if rrq.homeaddr != home4(mobile) or rrq.haaddr != AGENT4 or rrq.coaddr != care_of4(n, mobile, which):
        fail(f"frame {seq}: request fields {rrq.homeaddr} {rrq.haaddr} {rrq.coaddr}")
    msg = bytes(udp.payload)
    ext = 24
    if flaw == "unknown_extension":
        if msg[24:28] != bytes([90, 2, 0, 0]):
            fail(f"frame {seq}: no unknown extension")
        ext = 28
    if msg[ext : ext + 2] != bytes([32, 20]) or struct.unpack(">I", msg[ext + 2 : ext + 6])[0] != 256:
        fail(f"frame {seq}: MN-HA extension header {msg[ext:ext + 6].hex()}")
    tag = hmac.new(key(args.key_seed, mobile), msg[: ext + 6], hashlib.md5).digest()
    valid = msg[ext + 6 : ext + 22] == tag
    if valid != (flaw != "bad_authenticator"):
        fail(f"frame {seq}: authenticator valid={valid} flaw={flaw}")
    ntp = struct.unpack(">Q", msg[16:24])[0]
    if abs((ntp >> 32) - NTP_UNIX_OFFSET - time.time()) > 600:
        fail(f"frame {seq}: identification {ntp:#x} is not the time of day")
    return ntp


def check_binding_update(args, seq, frame, mobile, which, sequence):
    pkt = Ether(frame)
    ip6 = pkt[IPv6]
    n = args.mobiles
    if (ip6.src, ip6.dst) != (care_of6(n, mobile, which), AGENT6):
        fail(f"frame {seq}: BU {ip6.src} -> {ip6.dst}")
    dest = pkt[IPv6ExtHdrDestOpt]
    hao = [o for o in dest.options if isinstance(o, HAO)]
    if len(hao) != 1 or hao[0].hoa != home6(mobile):
        fail(f"frame {seq}: home address option {hao}")
    mh = bytes(dest.payload)
    if len(mh) != 48 or mh[2] != 5 or mh[1] != 5:
        return fail(f"frame {seq}: mobility header {mh[:4].hex()}")
    if struct.unpack(">H", mh[6:8])[0] != sequence or mh[8] != 0xC0:
        fail(f"frame {seq}: BU sequence {struct.unpack('>H', mh[6:8])[0]} want {sequence}, flags {mh[8]:#x}")
    if mh[18:20] != bytes([10, 8]) or mh[29:32] != bytes([9, 17, 1]) or mh[32:36] != struct.pack(">I", 256):
        fail(f"frame {seq}: BU options {mh[12:36].hex()}")
    zeroed = mh[:4] + b"\0\0" + mh[6:36]
    tag = hmac.new(
        key(args.key_seed, mobile),
        ipaddress.IPv6Address(ip6.src).packed + ipaddress.IPv6Address(home6(mobile)).packed + zeroed,
        hashlib.sha1,
    ).digest()[:12]
    if mh[36:48] != tag:
        fail(f"frame {seq}: BU authenticator")
    # MH checksum: pseudo-header with the home address as source (RFC 6275 §6.1.1).
    from scapy.utils import checksum

    pseudo = (
        ipaddress.IPv6Address(home6(mobile)).packed
        + ipaddress.IPv6Address(AGENT6).packed
        + struct.pack(">IxxxB", 48, 135)
    )
    if checksum(pseudo + mh) != 0:
        fail(f"frame {seq}: MH checksum")
    return struct.unpack(">Q", mh[20:28])[0]


def kind_of(args, seq):
    n = args.mobiles
    w = args.workload
    if w in ("mip4-storm", "mip6-storm"):
        return "request"
    if w == "handover":
        k = args.handover_every
        return "request" if seq < n or (seq - n + 1) % k == 0 else "data"
    if w == "malformed":
        p = args.malformed_per_mille
        before, after = seq * p // 1000, (seq + 1) * p // 1000
        if after > before:
            return MALFORMED_KINDS[before % len(MALFORMED_KINDS)]
    return "data"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--workload", required=True)
    ap.add_argument("--mobiles", type=int, required=True)
    ap.add_argument("--key-seed", type=int, default=0)
    ap.add_argument("--family", type=int, default=4)
    ap.add_argument("--size", default="64")
    ap.add_argument("--encapsulation", default="ipip")
    ap.add_argument("--handover-every", type=int, default=100)
    ap.add_argument("--malformed-per-mille", type=int, default=100)
    ap.add_argument("--bu-sequence-start", type=int, default=0)
    args = ap.parse_args()
    frames = [bytes(p) for p in rdpcap(args.pcap)]
    n = args.mobiles
    last_ntp = 0
    seen = {}
    for seq, frame in enumerate(frames):
        kind = kind_of(args, seq)
        seen[kind] = seen.get(kind, 0) + 1
        pkt = Ether(frame)
        if kind == "data":
            if args.workload == "encapsulated":
                enc = args.encapsulation
                if enc in ("ipip", "gre"):
                    outer = pkt[IP]
                    want_proto = 47 if enc == "gre" else (4 if args.family == 4 else 41)
                    if (outer.src, outer.dst, outer.proto, outer.ttl) != (ENTRY4, AGENT4, want_proto, 64):
                        fail(f"frame {seq}: outer {outer.src} -> {outer.dst} proto {outer.proto}")
                    if recompute_ip_checksum(bytes(outer)[:20]) != outer.chksum:
                        fail(f"frame {seq}: outer checksum")
                    if enc == "gre":
                        gre = outer[GRE]
                        if gre.chksum_present or gre.key_present or gre.proto != (0x0800 if args.family == 4 else 0x86DD):
                            fail(f"frame {seq}: GRE header {bytes(gre)[:4].hex()}")
                        inner = gre.payload
                    else:
                        inner = outer.payload
                else:
                    outer = pkt[IPv6]
                    want_nh = 41 if args.family == 6 else 4
                    if (outer.src, outer.dst, outer.nh) != (ENTRY6, AGENT6, want_nh):
                        fail(f"frame {seq}: outer {outer.src} -> {outer.dst} nh {outer.nh}")
                    inner = outer.payload
            else:
                inner = pkt.payload
            check_data(args, seq, frame, inner)
        elif kind == "request":
            if args.workload == "mip6-storm":
                mobile, rnd = seq % n, seq // n
                ntp = check_binding_update(args, seq, frame, mobile, rnd % 2, (args.bu_sequence_start + rnd) & 0xFFFF)
            else:
                r = seq if (args.workload != "handover" or seq < n) else n + (seq - n) // args.handover_every
                mobile, rnd = r % n, r // n
                ntp = check_registration(args, seq, frame, mobile, rnd % 2)
            if ntp is not None:
                if ntp <= last_ntp:
                    fail(f"frame {seq}: timestamp {ntp:#x} not after {last_ntp:#x}")
                last_ntp = ntp
        else:
            check_malformed(args, seq, frame, kind)
    if not frames:
        fail("no frames")
    if failures:
        for f in failures[:30]:
            print(f)
        print(f"{len(failures)} problems in {len(frames)} frames")
        sys.exit(1)
    print(f"ok {len(frames)} frames {sorted(seen.items())}")


def check_malformed(args, seq, frame, kind):
    if kind in ("bad_authenticator", "unknown_extension"):
        mobile = args.mobiles + seq % EXTRA_MOBILES
        check_registration(args, seq, frame, mobile, 0, flaw=kind)
        return
    raw_ip = frame[14:]
    ihl = (raw_ip[0] & 15) * 4
    total = struct.unpack(">H", raw_ip[2:4])[0]
    header_ok = recompute_ip_checksum(raw_ip[:20]) == struct.unpack(">H", raw_ip[10:12])[0] if ihl == 20 else None
    if kind == "truncated_packet":
        if total != len(raw_ip) + 100 or not header_ok:
            fail(f"frame {seq}: truncated_packet total {total} for {len(raw_ip)} bytes")
    elif kind == "bad_ipv4_checksum":
        if header_ok:
            fail(f"frame {seq}: bad_ipv4_checksum verifies")
    elif kind == "bad_udp_length":
        udp_len = struct.unpack(">H", raw_ip[24:26])[0]
        if udp_len <= total - 20 or not header_ok:
            fail(f"frame {seq}: bad_udp_length {udp_len} in {total}")
    elif kind == "bad_udp_checksum":
        ip = IP(raw_ip)
        if not header_ok or udp_checksum_ok(ip, ip[UDP]):
            fail(f"frame {seq}: bad_udp_checksum verifies")
        if bytes(ip[UDP].payload)[:4] != MALFORMED_MAGIC:
            fail(f"frame {seq}: no malformed magic")
    elif kind == "unknown_ipv4_option":
        ip = IP(raw_ip)
        if ihl != 24 or raw_ip[20:24] != bytes([0x9E, 4, 0, 0]):
            fail(f"frame {seq}: option {raw_ip[20:24].hex()}")
        copy = IP(raw_ip[:10] + b"\0\0" + raw_ip[12:])
        copy.chksum = None
        if IP(bytes(copy)).chksum != ip.chksum:
            fail(f"frame {seq}: header checksum with the option")
        if not udp_checksum_ok(ip, ip[UDP]):
            fail(f"frame {seq}: UDP checksum after the option")
        if bytes(ip[UDP].payload)[:4] != MALFORMED_MAGIC:
            fail(f"frame {seq}: no malformed magic")


if __name__ == "__main__":
    main()
