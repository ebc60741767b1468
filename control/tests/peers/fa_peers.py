#!/usr/bin/env python3
"""The peers of a Mobile IPv4 foreign agent (RFC 5944 §2, §3.7) for
control/tests/e2e_mip4_foreign_agent.rs, written without mipdp's code: scapy frames,
struct-packed messages, HMAC-MD5 authenticators from Python's hmac/hashlib.

    fa_peers.py solicit  --iface IF --mac MAC --timeout S
        sends an agent solicitation (ICMP type 10, TTL 1, to 224.0.0.2) and prints the
        fields of the advertisement that answers it (framed to MAC).
    fa_peers.py register --iface IF --mac MAC --fa-mac MAC --fa IP --home IP
        --home-agent IP --care-of IP --lifetime S --spi N --key HEX --nai TEXT --timeout S
        sends a Registration Request with the MN-NAI and Mobile-Home Authentication
        extensions and prints the reply the foreign agent relays.
    fa_peers.py home-agent --iface IF --mac MAC --home-agent IP --spi N --key HEX
        answers Registration Requests relayed to it: verifies the MN-HA authenticator,
        replies code 0 with the requested lifetime, the NAI and its own authenticator.
        Prints `ready`, then one `request ...` line each; runs until killed.
    fa_peers.py tunnel --iface IF --src-mac MAC --dst-mac MAC --src IP --dst IP
        --home IP --count N --tag TEXT
        sends N IP-in-IP packets (RFC 2003) to the care-of address with a UDP datagram for
        the home address inside.
    fa_peers.py listen --iface IF --mac MAC --home IP --tag TEXT --want N --seconds S
        counts for S seconds (or until N delivered) the UDP datagrams with TAG for the
        home address framed to MAC, and the periodic agent advertisements; prints
        `ready` first and then `delivered=N advertisements=M sequences=a,b,...`.
"""

import argparse
import hashlib
import hmac
import ipaddress
import select
import struct
import sys
import time

from scapy.all import ICMP, IP, UDP, Ether, Raw, conf

REQUEST, REPLY = 1, 3
MN_HA_AUTH, FA_HA_AUTH, NAI = 32, 34, 131
ALL_SYSTEMS = "224.0.0.1"


def addr(a):
    return ipaddress.IPv4Address(a).packed


def extensions(data):
    """(offset, type, body) of each registration extension after the fixed part."""
    at, out = 0, []
    while at + 2 <= len(data):
        t, length = data[at], data[at + 1]
        out.append((at, t, data[at + 2 : at + 2 + length]))
        at += 2 + length
    return out


def authenticated(msg, fixed_len, key):
    """Whether the MN-HA authenticator of a registration message verifies."""
    for off, t, body in extensions(msg[fixed_len:]):
        if t == MN_HA_AUTH and len(body) == 20:
            covered = msg[: fixed_len + off + 6]
            return hmac.compare_digest(hmac.new(key, covered, hashlib.md5).digest(), body[4:])
    return False


def fa_authenticated(msg, fixed_len, key, spi):
    """Whether a registration message carries exactly one Foreign-Home Authentication
    Extension (type 34) whose SPI is `spi` and whose HMAC-MD5 authenticator verifies over
    everything before it plus its Type, Length and SPI (RFC 5944 §3.5.1, §3.5.4)."""
    found = [(off, body) for off, t, body in extensions(msg[fixed_len:]) if t == FA_HA_AUTH]
    if len(found) != 1 or len(found[0][1]) != 20:
        return False
    off, body = found[0]
    covered = msg[: fixed_len + off + 6]
    return struct.unpack("!I", body[:4])[0] == spi and hmac.compare_digest(
        hmac.new(key, covered, hashlib.md5).digest(), body[4:]
    )


def after_mn_ha(msg, fixed_len):
    """Bytes of extensions after the MN-HA Authentication Extension (-1: none found)."""
    for off, t, body in extensions(msg[fixed_len:]):
        if t == MN_HA_AUTH:
            return len(msg) - (fixed_len + off + 2 + len(body))
    return -1


def nai_of(msg, fixed_len):
    for _, t, body in extensions(msg[fixed_len:]):
        if t == NAI:
            return body.decode(errors="replace")
    return None


def receive(sock, timeout, accept):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return None
        pkt = sock.recv()
        if pkt is not None and accept(pkt):
            return pkt
    return None


def internet_checksum(data):
    """RFC 1071 over data (0 when a message with its checksum in place verifies)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def advertisement_fields(pkt):
    """The fields of an ICMP agent advertisement (RFC 5944 §2.1) as a dict, or None."""
    raw = bytes(pkt[IP].payload)
    if len(raw) < 8 or raw[0] != 9:
        return None
    num, size, lifetime = raw[4], raw[5], struct.unpack("!H", raw[6:8])[0]
    routers = [str(ipaddress.IPv4Address(raw[8 + 4 * size * i : 12 + 4 * size * i])) for i in range(num)]
    rest = raw[8 + 4 * size * num :]
    f = dict(
        code=raw[1],
        ttl=pkt[IP].ttl,
        ip_src=pkt[IP].src,
        ip_dst=pkt[IP].dst,
        eth_dst=pkt[Ether].dst,
        eth_src=pkt[Ether].src,
        lifetime=lifetime,
        routers=",".join(routers),
        checksum_ok=internet_checksum(raw) == 0,
    )
    at = 0
    while at < len(rest):
        t = rest[at]
        if t == 0:
            at += 1
            continue
        length = rest[at + 1]
        body = rest[at + 2 : at + 2 + length]
        if t == 16:
            seq, reg_lifetime, flags = struct.unpack("!HHH", body[:6])
            coas = [str(ipaddress.IPv4Address(body[6 + 4 * i : 10 + 4 * i])) for i in range((length - 6) // 4)]
            f.update(sequence=seq, registration_lifetime=reg_lifetime, flags=f"{flags:04x}", care_of=",".join(coas))
        elif t == 19:
            f.update(prefix_lengths=",".join(str(b) for b in body))
        at += 2 + length
    return f


def solicit(args):
    sock = conf.L2socket(iface=args.iface)
    sock.send(
        Ether(src=args.mac, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="224.0.0.2", ttl=1)
        / ICMP(type=10, code=0)
    )
    pkt = receive(
        sock,
        args.timeout,
        lambda p: Ether in p and p[Ether].dst == args.mac and IP in p and p[IP].proto == 1 and advertisement_fields(p),
    )
    sock.close()
    if pkt is None:
        print("advertisement=none", flush=True)
        return
    print("advertisement=yes " + " ".join(f"{k}={v}" for k, v in advertisement_fields(pkt).items()), flush=True)


def register(args):
    key = bytes.fromhex(args.key)
    t = time.time()
    identification = ((int(t) + 2208988800) & 0xFFFFFFFF) << 32 | int((t - int(t)) * (1 << 32))
    fixed = struct.pack(
        "!BBH4s4s4sQ", REQUEST, 0, args.lifetime, addr(args.home), addr(args.home_agent), addr(args.care_of), identification
    )
    nai = args.nai.encode()
    covered = fixed + struct.pack("!BB", NAI, len(nai)) + nai + struct.pack("!BBI", MN_HA_AUTH, 20, args.spi)
    message = covered + hmac.new(key, covered, hashlib.md5).digest()
    sock = conf.L2socket(iface=args.iface)
    sock.send(
        Ether(src=args.mac, dst=args.fa_mac) / IP(src=args.home, dst=args.fa, ttl=64) / UDP(sport=49152, dport=434) / Raw(message)
    )

    def is_reply(p):
        return UDP in p and p[UDP].sport == 434 and p[UDP].dport == 49152 and bytes(p[UDP].payload)[:1] == bytes([REPLY])

    pkt = receive(sock, args.timeout, is_reply)
    sock.close()
    if pkt is None:
        print("code=none", flush=True)
        return
    msg = bytes(pkt[UDP].payload)
    code, lifetime = msg[1], struct.unpack("!H", msg[2:4])[0]
    (reply_id,) = struct.unpack("!Q", msg[12:20])
    print(
        f"code={code} lifetime={lifetime} id_match={reply_id & 0xFFFFFFFF == identification & 0xFFFFFFFF} "
        f"authentic={authenticated(msg, 20, key)} nai={nai_of(msg, 20)} after_mn_ha={after_mn_ha(msg, 20)} "
        f"ip_src={pkt[IP].src} ip_dst={pkt[IP].dst} "
        f"eth_dst={pkt[Ether].dst}",
        flush=True,
    )


def home_agent(args):
    key = bytes.fromhex(args.key)
    fa_key = bytes.fromhex(args.fa_key) if args.fa_key else None
    sock = conf.L2socket(iface=args.iface)
    print("ready", flush=True)
    while True:
        pkt = receive(sock, 3600, lambda p: UDP in p and p[UDP].dport == 434 and p[IP].dst == args.home_agent)
        if pkt is None:
            continue
        msg = bytes(pkt[UDP].payload)
        if len(msg) < 24 or msg[0] != REQUEST:
            continue
        lifetime = struct.unpack("!H", msg[2:4])[0]
        home, care_of = msg[4:8], msg[12:16]
        (identification,) = struct.unpack("!Q", msg[16:24])
        ok = authenticated(msg, 24, key)
        nai = nai_of(msg, 24)
        fa_ok = fa_authenticated(msg, 24, fa_key, args.fa_spi) if fa_key else None
        print(
            f"request src={pkt[IP].src} sport={pkt[UDP].sport} care_of={ipaddress.IPv4Address(care_of)} "
            f"lifetime={lifetime} authentic={ok} fa_authentic={fa_ok} nai={nai} extensions={len(msg) - 24}",
            flush=True,
        )
        # RFC 5944 §3.8.2.1: 131 for the mobile's authenticator, 132 for the foreign agent's.
        code = 131 if not ok else 132 if fa_ok is False else 0
        fixed = struct.pack("!BBH4s4sQ", REPLY, code, lifetime if ok else 0, home, addr(args.home_agent), identification)
        nai_ext = struct.pack("!BB", NAI, len(nai)) + nai.encode() if nai else b""
        covered = fixed + nai_ext + struct.pack("!BBI", MN_HA_AUTH, 20, args.spi)
        reply = covered + hmac.new(key, covered, hashlib.md5).digest()
        if fa_key:
            covered = reply + struct.pack("!BBI", FA_HA_AUTH, 20, args.fa_spi)
            reply = covered + hmac.new(fa_key, covered, hashlib.md5).digest()
        sock.send(
            Ether(src=args.mac, dst=pkt[Ether].src)
            / IP(src=args.home_agent, dst=pkt[IP].src, ttl=64)
            / UDP(sport=434, dport=pkt[UDP].sport)
            / Raw(reply)
        )


def tunnel(args):
    sock = conf.L2socket(iface=args.iface)
    for i in range(args.count):
        sock.send(
            Ether(src=args.src_mac, dst=args.dst_mac)
            / IP(src=args.src, dst=args.dst, proto=4, ttl=64)
            / IP(src="192.0.2.50", dst=args.home, ttl=64)
            / UDP(sport=40000, dport=9999)
            / Raw(f"{args.tag}-{i}".encode())
        )
        time.sleep(0.05)
    sock.close()


def listen(args):
    sock = conf.L2socket(iface=args.iface)
    print("ready", flush=True)
    delivered, sequences = 0, []
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline and not (args.want and delivered >= args.want and sequences):
        pkt = receive(sock, max(0.0, deadline - time.monotonic()), lambda p: Ether in p and IP in p)
        if pkt is None:
            break
        if pkt[IP].proto == 1 and pkt[IP].dst == ALL_SYSTEMS:
            f = advertisement_fields(pkt)
            if f and "sequence" in f and f["ttl"] == 1:
                sequences.append(str(f["sequence"]))
        elif (
            UDP in pkt
            and pkt[Ether].dst == args.mac
            and pkt[IP].dst == args.home
            and bytes(pkt[UDP].payload).startswith(args.tag.encode())
        ):
            delivered += 1
    sock.close()
    print(f"delivered={delivered} advertisements={len(sequences)} sequences={','.join(sequences)}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solicit")
    s.add_argument("--iface", required=True)
    s.add_argument("--mac", required=True)
    s.add_argument("--timeout", type=float, default=20)
    r = sub.add_parser("register")
    for name in ["iface", "mac", "fa-mac", "fa", "home", "home-agent", "care-of", "key", "nai"]:
        r.add_argument("--" + name, required=True)
    r.add_argument("--lifetime", type=int, required=True)
    r.add_argument("--spi", type=int, required=True)
    r.add_argument("--timeout", type=float, default=20)
    h = sub.add_parser("home-agent")
    for name in ["iface", "mac", "home-agent", "key"]:
        h.add_argument("--" + name, required=True)
    h.add_argument("--spi", type=int, required=True)
    h.add_argument("--fa-key", help="FA-HA key (hex): require and add the Foreign-Home Authentication Extension")
    h.add_argument("--fa-spi", type=int, default=0)
    t = sub.add_parser("tunnel")
    for name in ["iface", "src-mac", "dst-mac", "src", "dst", "home", "tag"]:
        t.add_argument("--" + name, required=True)
    t.add_argument("--count", type=int, required=True)
    l = sub.add_parser("listen")
    for name in ["iface", "mac", "home", "tag"]:
        l.add_argument("--" + name, required=True)
    l.add_argument("--want", type=int, default=0)
    l.add_argument("--seconds", type=float, required=True)
    args = p.parse_args()
    {"solicit": solicit, "register": register, "home-agent": home_agent, "tunnel": tunnel, "listen": listen}[
        args.command
    ](args)


if __name__ == "__main__":
    sys.exit(main())
