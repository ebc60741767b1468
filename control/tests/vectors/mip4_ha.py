#!/usr/bin/env python3
"""Golden vectors for the Mobile IPv4 home agent (RFC 5944 §3.8), built without mipdp code.

Writes mip4_ha.toml beside this script (or to the path given): a [home_agent] configuration
section, the key of the home agent's nonce source, and an ordered list of steps. Each step is
a Registration Request as a mobile node (or a foreign agent relaying it) would send it, the
time the home agent receives it, and what the home agent must answer: the reply code, the
Registration Reply byte for byte (empty: dropped silently), where it goes, and the care-of
addresses bound for the home address afterwards. control/tests/mip4_vectors.rs replays the
steps through HomeAgent::handle_request and compares.

The messages are built with scapy's Mobile IP layers; the authenticators are HMAC-MD5 from
Python's hmac/hashlib over the bytes RFC 5944 §3.5.1 names (the message, every prior
extension, and the Type, Length and SPI of the authentication extension). Timestamps are
NTP (seconds since 1900 in the high-order 32 bits, RFC 5944 §5.7.1). The home agent's
nonces (§5.7.2) come from HMAC-MD5(nonce_key, n as 8 bytes big-endian)[:4], n counting the
authentic requests under nonce associations from 0: the one place these vectors follow
mipdp's own choice, since the RFC leaves nonce generation to the implementation.

Run: python3 control/tests/vectors/mip4_ha.py   (needs scapy; deterministic output)
"""

import hashlib
import hmac
import struct
import sys
from pathlib import Path

from scapy.layers.mobileip import MobileIP, MobileIPRRP, MobileIPRRQ

NTP_UNIX_OFFSET = 2208988800
T0 = 1700000000  # the home agent's clock at step 1, Unix seconds

HA = "192.0.2.1"
HOME = "192.0.2.10"
HOME_NONCE = "192.0.2.20"
HOME_NAI = "192.0.2.30"
OFF_NET = "10.9.9.9"
COA1 = "198.51.100.7"
COA2 = "198.51.100.8"
COA3 = "198.51.100.9"
FA = "198.51.100.1"
MN_PORT = 49152

KEY = b"0123456789abcdef"
WRONG_KEY = b"fedcba9876543210"
FA_KEY = b"fa-ha shared key"
NONCE_KEY = bytes([9] * 16)
SPI, SPI_NONCE, SPI_NAI, SPI_FA = 256, 300, 400, 500
NAI = b"mn@example.com"
MAX_LIFETIME = 600

CONFIG = f"""[home_agent]
addresses = ["{HA}"]
home_prefixes = ["192.0.2.0/24"]
max_lifetime = {MAX_LIFETIME}
simultaneous_bindings = 2
max_bindings = 16

[[home_agent.security_association]]
home_address = "{HOME}"
spi = {SPI}
key = "{KEY.hex()}"
algorithm = "hmac-md5"
replay = "timestamps"
timestamp_tolerance_s = 7

[[home_agent.security_association]]
home_address = "{HOME_NONCE}"
spi = {SPI_NONCE}
key = "{KEY.hex()}"
replay = "nonces"

[[home_agent.security_association]]
nai = "{NAI.decode()}"
spi = {SPI_NAI}
key = "{KEY.hex()}"

[[home_agent.security_association]]
home_address = "{OFF_NET}"
spi = {SPI}
key = "{KEY.hex()}"

[[home_agent.foreign_agent]]
address = "{FA}"
spi = {SPI_FA}
key = "{FA_KEY.hex()}"
"""


def ntp(unix_seconds, fraction=0):
    return ((unix_seconds + NTP_UNIX_OFFSET) & 0xFFFFFFFF) << 32 | fraction


def hmac_md5(key, data):
    return hmac.new(key, data, hashlib.md5).digest()


def auth_ext(message, ext_type, spi, key):
    """Appends an authentication extension (RFC 5944 §3.5.2-§3.5.4) to message."""
    head = struct.pack("!BBI", ext_type, 4 + 16, spi)
    return message + head + hmac_md5(key, message + head)


def nai_ext(nai):
    return struct.pack("!BB", 131, len(nai)) + nai


def request(flags, lifetime, home, coa, ident, key=KEY, spi=SPI, home_agent=HA,
            before=b"", mn_ha=True, after=b"", fa_ha=None):
    msg = bytes(MobileIP(type=1) / MobileIPRRQ(flags=flags, lifetime=lifetime, homeaddr=home,
                                              haaddr=home_agent, coaddr=coa, id=ident))
    msg += before
    if mn_ha:
        msg = auth_ext(msg, 32, spi, key)
    msg += after
    if fa_ha:
        msg = auth_ext(msg, 34, fa_ha[0], fa_ha[1])
    return msg


def reply(code, lifetime, home, home_agent, ident, mn_ha=None, nai=None, fa_ha=None):
    msg = bytes(MobileIP(type=3) / MobileIPRRP(code=code, lifetime=lifetime, homeaddr=home,
                                              haaddr=home_agent, id=ident))
    if nai is not None:
        msg += nai_ext(nai)
    if mn_ha:
        msg = auth_ext(msg, 32, mn_ha[0], mn_ha[1])
    if fa_ha:
        msg = auth_ext(msg, 34, fa_ha[0], fa_ha[1])
    return msg


class Nonces:
    def __init__(self, key):
        self.key, self.n = key, 0

    def next(self):
        value = struct.unpack("!I", hmac_md5(self.key, struct.pack("!Q", self.n))[:4])[0]
        self.n += 1
        return value


def low(ident):
    return ident & 0xFFFFFFFF


def ha_time(unix_seconds, ident):
    """A 133 reply's Identification under timestamps: the home agent's time in the
    high-order 32 bits, the request's low-order 32 bits. RFC 5944 §5.7.1."""
    return (ntp(unix_seconds) & ~0xFFFFFFFF) | low(ident)


def steps():
    nonces = Nonces(NONCE_KEY)
    mn = f"{COA1}:{MN_PORT}"
    out = []

    def step(name, t, req, code, rep, care_of, home=HOME, frm=mn, to=HA, source=f"{HA}:434"):
        out.append(dict(name=name, now_s=t, frm=frm, to=to, request=req, code=code,
                        reply=rep, source=source if rep else "", home=home, care_of=care_of))

    good_mn_ha = (SPI, KEY)

    i1 = ntp(T0, 0x11)
    r1 = request(0, 300, HOME, COA1, i1)
    step("valid registration", T0, r1, 0,
         reply(0, 300, HOME, HA, i1, good_mn_ha), [COA1])

    step("replayed identification", T0 + 1, r1, 133,
         reply(133, 0, HOME, HA, ha_time(T0 + 1, i1), good_mn_ha), [COA1])

    i3 = ntp(T0 + 2, 0x33)
    step("wrong key", T0 + 2, request(0, 300, HOME, COA2, i3, key=WRONG_KEY), 131,
         reply(131, 0, HOME, HA, i3, good_mn_ha), [COA1])

    i4 = ntp(T0 + 3, 0x44)
    step("lifetime too long is clamped", T0 + 3, request(0, 0xFFFE, HOME, COA1, i4), 0,
         reply(0, MAX_LIFETIME, HOME, HA, i4, good_mn_ha), [COA1])

    i5 = ntp(T0 + 4, 0x55)
    step("S bit adds a care-of address", T0 + 4, request(0x80, 200, HOME, COA2, i5), 0,
         reply(0, 200, HOME, HA, i5, good_mn_ha), [COA1, COA2])

    i6 = ntp(T0 + 5, 0x66)
    step("S bit past the maximum", T0 + 5, request(0x80, 200, HOME, COA3, i6), 135,
         reply(135, 0, HOME, HA, i6, good_mn_ha), [COA1, COA2])

    i7 = ntp(T0 + 60, 0x77)
    step("timestamp outside the tolerance", T0 + 6, request(0, 300, HOME, COA3, i7), 133,
         reply(133, 0, HOME, HA, ha_time(T0 + 6, i7), good_mn_ha), [COA1, COA2])

    i8 = ntp(T0 + 7, 0x88)
    step("deregistration of one care-of address", T0 + 7, request(0, 0, HOME, COA1, i8), 0,
         reply(0, 0, HOME, HA, i8, good_mn_ha), [COA2])

    i9 = ntp(T0 + 8, 0x99)
    step("deregistration of all (care-of = home address)", T0 + 8,
         request(0, 0, HOME, HOME, i9), 0, reply(0, 0, HOME, HA, i9, good_mn_ha), [])

    i10 = ntp(T0 + 9, 0xAA)
    step("unknown SPI", T0 + 9, request(0, 300, HOME, COA1, i10, spi=999), 131,
         reply(131, 0, HOME, HA, i10), [])

    i11 = ntp(T0 + 9, 0xBB)
    step("home address off the home networks", T0 + 9,
         request(0, 300, OFF_NET, COA1, i11), 129,
         reply(129, 0, OFF_NET, HA, i11, good_mn_ha), [], home=OFF_NET)

    i12 = ntp(T0 + 10, 0xCC)
    bcast = "192.0.2.255"
    step("sent to the home network's broadcast address", T0 + 10,
         request(0, 300, HOME, COA1, i12, home_agent=bcast), 136,
         reply(136, 0, HOME, HA, i12, good_mn_ha), [], to=bcast)

    i13 = ntp(T0 + 11, 0xDD)
    step("NAI selects the association and is echoed", T0 + 11,
         request(0, 300, HOME_NAI, COA1, i13, spi=SPI_NAI, before=nai_ext(NAI)), 0,
         reply(0, 300, HOME_NAI, HA, i13, (SPI_NAI, KEY), nai=NAI), [COA1], home=HOME_NAI)

    i14 = ntp(T0 + 12, 0xEE)
    fa = f"{FA}:434"
    step("relayed by a foreign agent with FA-HA authentication", T0 + 12,
         request(0x10, 300, HOME, FA, i14, fa_ha=(SPI_FA, FA_KEY)), 0,
         reply(0, 300, HOME, HA, i14, good_mn_ha, fa_ha=(SPI_FA, FA_KEY)), [FA], frm=fa)

    i15 = ntp(T0 + 13, 0xF1)
    step("relayed by a foreign agent without FA-HA authentication", T0 + 13,
         request(0, 300, HOME, COA1, i15), 132,
         reply(132, 0, HOME, HA, i15, good_mn_ha, fa_ha=(SPI_FA, FA_KEY)), [FA], frm=fa)

    i16 = ntp(T0 + 14, 0xF2)
    step("unrecognised extension type 40", T0 + 14,
         request(0, 300, HOME, COA1, i16, before=b"\x28\x02\x00\x00"), 134,
         reply(134, 0, HOME, HA, i16, good_mn_ha), [FA])

    i17 = ntp(T0 + 15, 0xF3)
    step("malformed extension", T0 + 15,
         request(0, 300, HOME, COA1, i17) + b"\x83\x0a\x78", 134,
         reply(134, 0, HOME, HA, i17), [FA])

    step("truncated request is dropped", T0 + 15, r1[:23], -1, b"", [FA])

    n_first = 0xDEADBEEF00000001
    nonce0 = nonces.next()
    step("nonces: first contact resynchronises", T0 + 16,
         request(0, 300, HOME_NONCE, COA1, n_first, spi=SPI_NONCE), 133,
         reply(133, 0, HOME_NONCE, HA, nonce0 << 32 | low(n_first), (SPI_NONCE, KEY)), [],
         home=HOME_NONCE)
    n_echo = nonce0 << 32 | 2
    r_echo = request(0, 300, HOME_NONCE, COA1, n_echo, spi=SPI_NONCE)
    nonce1 = nonces.next()
    step("nonces: the echoed nonce is accepted", T0 + 17, r_echo, 0,
         reply(0, 300, HOME_NONCE, HA, nonce1 << 32 | 2, (SPI_NONCE, KEY)), [COA1],
         home=HOME_NONCE)
    nonce2 = nonces.next()
    step("nonces: a replay is 133", T0 + 18, r_echo, 133,
         reply(133, 0, HOME_NONCE, HA, nonce2 << 32 | 2, (SPI_NONCE, KEY)), [COA1],
         home=HOME_NONCE)
    return out


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(all_steps):
    lines = ["# Generated by mip4_ha.py; do not edit. See that script for what each field means.",
             f"nonce_key = {toml_str(NONCE_KEY.hex())}", "", CONFIG]
    for s in all_steps:
        lines += ["[[step]]",
                  f"name = {toml_str(s['name'])}",
                  f"now_s = {s['now_s']}",
                  f"from = {toml_str(s['frm'])}",
                  f"to = {toml_str(s['to'])}",
                  f"request = {toml_str(s['request'].hex())}",
                  f"code = {s['code']}",
                  f"reply = {toml_str(s['reply'].hex())}",
                  f"reply_source = {toml_str(s['source'])}",
                  f"reply_destination = {toml_str(s['frm'] if s['reply'] else '')}",
                  f"home = {toml_str(s['home'])}",
                  "care_of = [" + ", ".join(toml_str(c) for c in s["care_of"]) + "]",
                  ""]
    return "\n".join(lines)


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("mip4_ha.toml")
    out.write_text(render(steps()))


if __name__ == "__main__":
    main()
