#!/usr/bin/env python3
"""Golden vectors for the Mobile IPv6 home agent (RFC 6275 §9.5.1, §10.3.1, §10.3.2) with
RFC 4285 authentication, built without mipdp code.

Writes mip6_ha.toml beside this script (or to the path given): a [home_agent6]
configuration section and an ordered list of steps. Each step is a whole IPv6 packet as a
mobile node sends it (a Binding Update with the Home Address destination option, or a
malformed packet), the time the home agent receives it, and what the home agent must
answer: nothing, a Binding Acknowledgement of some status or a Binding Error of some
status, the answer byte for byte as a whole IPv6 packet, and the care-of address bound for
the home address afterwards. control/tests/mip6_vectors.rs replays the steps through
HomeAgent6::handle_binding_update and compares.

The packets are built with scapy's IPv6 and Mobile IPv6 layers (IPv6ExtHdrDestOpt/HAO,
IPv6ExtHdrRouting type 2, MIP6MH_BU/BA/BE, MIP6OptAltCoA, MIP6OptReplayProtection,
MIP6OptMsgAuth), scapy computing the Mobility Header checksums. The authenticators are
HMAC-SHA1 from Python's hmac/hashlib truncated to 96 bits over care-of address | home
address | the Mobility Header up to and including the option's SPI with the checksum
zeroed (RFC 4285 §5.1). Timestamps are NTP (seconds since 1900 in the high-order 32 bits).

The choices these vectors share with mipdp where the RFCs leave room: the care-of address
the authenticator covers is the binding's (the Alternate Care-of Address option's when
present); the acknowledgement echoes the update's timestamp, or carries the home agent's
time with status 144; a 146 for a known SPI is authenticated under that SPI's key.

Run: python3 control/tests/vectors/mip6_ha.py   (needs scapy; deterministic output)
"""

import hashlib
import hmac
import struct
import sys
from pathlib import Path

from scapy.layers.inet6 import (HAO, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                                MIP6MH_BA, MIP6MH_BE, MIP6MH_BU, MIP6MH_Generic,
                                MIP6OptAltCoA, MIP6OptMsgAuth, MIP6OptReplayProtection)

NTP_UNIX_OFFSET = 2208988800
T0 = 1700000000  # the home agent's clock at step 1, Unix seconds

HA = "2001:db8:1::1"
HOME = "2001:db8:1::10"
HOME2 = "2001:db8:1::20"
OFF_NET = "2001:db8:9::9"
COA1 = "2001:db8:2::7"
COA2 = "2001:db8:3::8"
COA3 = "2001:db8:4::9"

KEY = b"0123456789abcdef"
KEY2 = b"another mn-ha key"
WRONG_KEY = b"fedcba9876543210"
SPI, SPI2 = 256, 300
MAX_LIFETIME = 600  # seconds: 150 units of 4 s

CONFIG = f"""[home_agent6]
addresses = ["{HA}"]
home_prefixes = ["2001:db8:1::/64"]
max_lifetime = {MAX_LIFETIME}
max_bindings = 16

[[home_agent6.security_association]]
home_address = "{HOME}"
spi = {SPI}
key = "{KEY.hex()}"
algorithm = "hmac-sha1"
replay = "timestamps"
timestamp_tolerance_s = 7

[[home_agent6.security_association]]
home_address = "{HOME2}"
spi = {SPI2}
key = "{KEY2.hex()}"

[[home_agent6.security_association]]
home_address = "{OFF_NET}"
spi = {SPI}
key = "{KEY.hex()}"
"""

AUTH_TYPE, AUTH_LEN, MN_HA = 9, 17, 1


def ntp(unix_seconds, fraction=0):
    return ((unix_seconds + NTP_UNIX_OFFSET) & 0xFFFFFFFF) << 32 | fraction


def sign(packet, mh_layer, spi, key, care_of, home):
    """Writes the RFC 4285 §5.1 authenticator into packet's MN-HA option: HMAC-SHA1 over
    care-of | home | MH up to and including the SPI, checksum zero; returns the bytes with
    the checksum scapy computes over them."""
    unsigned = packet.copy()
    unsigned[mh_layer].cksum = 0
    mh = bytes(unsigned[mh_layer])
    head = bytes([AUTH_TYPE, AUTH_LEN, MN_HA]) + struct.pack("!I", spi) + bytes(12)
    at = mh.find(head)
    assert at > 0 and mh.find(head, at + 1) < 0, "one authentication option"
    covered = mh[:at + 7]
    tag = hmac.new(key, ipv6(care_of) + ipv6(home) + covered, hashlib.sha1).digest()[:12]
    signed = packet.copy()
    for option in signed[mh_layer].options:
        if isinstance(option, MIP6OptMsgAuth):
            option.authdata = tag
    signed[mh_layer].cksum = None
    return bytes(signed)


def ipv6(addr):
    return bytes(IPv6(src=addr))[8:24]


def auth_option(spi):
    return MIP6OptMsgAuth(subtype=MN_HA, mspi=spi, authdata=bytes(12))


def binding_update(seq, lifetime, home=HOME, src=COA1, spi=SPI, key=KEY, timestamp=None,
                   alt_coa=None, hao=True, h=True, auth=True):
    options = []
    if alt_coa:
        options.append(MIP6OptAltCoA(acoa=alt_coa))
    if timestamp is not None:
        options.append(MIP6OptReplayProtection(timestamp=timestamp))
    if auth:
        options.append(auth_option(spi))
    flags = "AH" if h else "A"
    bu = MIP6MH_BU(seq=seq, flags=flags, mhtime=lifetime, options=options)
    if hao:
        p = IPv6(src=src, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=home)]) / bu
    else:
        p = IPv6(src=src, dst=HA) / bu
    if not auth:
        return bytes(p)
    return sign(p, MIP6MH_BU, spi, key, alt_coa or src, home if hao else src)


def acknowledgement(status, seq, lifetime, to=COA1, home=HOME, care_of=None, timestamp=None,
                    sa=None):
    """A Binding Acknowledgement from the home agent to `to`, with a type 2 routing header
    for `home` unless `to` is the home address (RFC 6275 §9.5.4). sa = (spi, key)."""
    options = []
    if timestamp is not None:
        options.append(MIP6OptReplayProtection(timestamp=timestamp))
    if sa:
        options.append(auth_option(sa[0]))
    ba = MIP6MH_BA(status=status, flags=0, res2=0, seq=seq, mhtime=lifetime, options=options)
    if to != home:
        p = IPv6(src=HA, dst=to) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[home]) / ba
    else:
        p = IPv6(src=HA, dst=to) / ba
    if not sa:
        return bytes(p)
    return sign(p, MIP6MH_BA, sa[0], sa[1], care_of or to, home)


def steps():
    out = []

    def step(name, t, packet, answer, status, reply, care_of, home=HOME):
        out.append(dict(name=name, now_s=t, packet=packet, answer=answer, status=status,
                        reply=reply, home=home, care_of=care_of))

    sa1, sa2 = (SPI, KEY), (SPI2, KEY2)

    ts1 = ntp(T0, 0x8000_0000)
    bu1 = binding_update(100, 100, timestamp=ts1)
    step("valid registration", T0, bu1, "ack", 0,
         acknowledgement(0, 100, 100, timestamp=ts1, sa=sa1), [COA1])

    ts2 = ntp(T0 + 1)
    bu2 = binding_update(101, 0xFFFF, timestamp=ts2)
    step("lifetime too long is clamped", T0 + 1, bu2, "ack", 0,
         acknowledgement(0, 101, MAX_LIFETIME // 4, timestamp=ts2, sa=sa1), [COA1])

    ts3 = ntp(T0 + 2)
    step("sequence number out of window", T0 + 2,
         binding_update(50, 100, timestamp=ts3, src=COA3), "ack", 135,
         acknowledgement(135, 101, 0, to=COA3, timestamp=ts3, sa=sa1), [COA1])

    step("replayed binding update", T0 + 3, bu2, "ack", 144,
         acknowledgement(144, 101, 0, timestamp=ntp(T0 + 3), sa=sa1), [COA1])

    ts5 = ntp(T0 + 4)
    step("wrong key", T0 + 4, binding_update(102, 100, timestamp=ts5, key=WRONG_KEY, src=COA3),
         "ack", 146, acknowledgement(146, 102, 0, to=COA3, timestamp=ts5, sa=sa1), [COA1])

    ts6 = ntp(T0 + 5)
    step("unknown SPI", T0 + 5, binding_update(102, 100, timestamp=ts6, spi=999, src=COA3),
         "ack", 146, acknowledgement(146, 102, 0, to=COA3, timestamp=ts6), [COA1])

    step("no replay protection option", T0 + 6, binding_update(102, 100, src=COA3), "ack",
         145, acknowledgement(145, 102, 0, to=COA3, sa=sa1), [COA1])

    ts8 = ntp(T0 + 67)
    step("timestamp outside the tolerance", T0 + 7,
         binding_update(102, 100, timestamp=ts8, src=COA3), "ack", 144,
         acknowledgement(144, 102, 0, to=COA3, timestamp=ntp(T0 + 7), sa=sa1), [COA1])

    ts9 = ntp(T0 + 8, 0x0001_0000)
    step("alternate care-of address is bound, the ack goes to the source", T0 + 8,
         binding_update(102, 50, timestamp=ts9, alt_coa=COA2), "ack", 0,
         acknowledgement(0, 102, 50, care_of=COA2, timestamp=ts9, sa=sa1), [COA2])

    for i, seq in enumerate([65535, 0, 1]):
        ts = ntp(T0 + 9 + i)
        step(f"second mobile node, sequence number {seq}"
             + (" (wrapped)" if seq == 0 else ""), T0 + 9 + i,
             binding_update(seq, 100, home=HOME2, spi=SPI2, key=KEY2, timestamp=ts), "ack", 0,
             acknowledgement(0, seq, 100, home=HOME2, timestamp=ts, sa=sa2), [COA1],
             home=HOME2)

    ts = ntp(T0 + 12)
    step("second mobile node, 0 after 1", T0 + 12,
         binding_update(0, 100, home=HOME2, spi=SPI2, key=KEY2, timestamp=ts), "ack", 135,
         acknowledgement(135, 1, 0, home=HOME2, timestamp=ts, sa=sa2), [COA1], home=HOME2)

    ts = ntp(T0 + 13)
    step("home address off the home subnet", T0 + 13,
         binding_update(1, 100, home=OFF_NET, timestamp=ts), "ack", 132,
         acknowledgement(132, 1, 0, home=OFF_NET, timestamp=ts, sa=sa1), [], home=OFF_NET)

    ts = ntp(T0 + 14)
    step("deregistration (lifetime 0)", T0 + 14, binding_update(103, 0, timestamp=ts), "ack",
         0, acknowledgement(0, 103, 0, timestamp=ts, sa=sa1), [])

    ts = ntp(T0 + 15)
    step("deregistration without a binding", T0 + 15, binding_update(104, 0, timestamp=ts),
         "ack", 133, acknowledgement(133, 104, 0, timestamp=ts, sa=sa1), [])

    step("first registration replayed after deregistration", T0 + 16, bu1, "ack", 144,
         acknowledgement(144, 100, 0, timestamp=ntp(T0 + 16), sa=sa1), [])

    ts = ntp(T0 + 17)
    step("returning home: care-of = home address, no Home Address option", T0 + 17,
         binding_update(2, 100, home=HOME2, src=HOME2, spi=SPI2, key=KEY2, timestamp=ts,
                        hao=False),
         "ack", 0, acknowledgement(0, 2, 0, to=HOME2, home=HOME2, timestamp=ts, sa=sa2), [],
         home=HOME2)

    generic = IPv6(src=COA1, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOME)]) / \
        MIP6MH_Generic(mhtype=42, res=0, msg=b"\x00\x00")
    step("unknown MH type", T0 + 18, bytes(generic), "error", 2,
         bytes(IPv6(src=HA, dst=COA1) / MIP6MH_BE(status=2, ha=HOME)), [])

    bad = bytearray(binding_update(105, 100, timestamp=ntp(T0 + 19)))
    bad[-1] ^= 0x01
    step("corrupted (checksum fails) is dropped", T0 + 19, bytes(bad), "none", -1, b"", [])

    step("H bit clear is dropped", T0 + 19,
         binding_update(105, 100, timestamp=ntp(T0 + 19), h=False), "none", -1, b"", [])

    step("no authentication option is dropped", T0 + 19,
         binding_update(105, 100, timestamp=ntp(T0 + 19), auth=False), "none", -1, b"", [])

    step("truncated is dropped", T0 + 19, bu1[:60], "none", -1, b"", [])

    ts = ntp(T0 + 20)
    step("registration again after deregistration, any sequence number", T0 + 20,
         binding_update(7, 100, timestamp=ts), "ack", 0,
         acknowledgement(0, 7, 100, timestamp=ts, sa=sa1), [COA1])
    return out


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(all_steps):
    lines = ["# Generated by mip6_ha.py; do not edit. See that script for what each field means.",
             "", CONFIG]
    for s in all_steps:
        lines += ["[[step]]",
                  f"name = {toml_str(s['name'])}",
                  f"now_s = {s['now_s']}",
                  f"packet = {toml_str(s['packet'].hex())}",
                  f"answer = {toml_str(s['answer'])}",
                  f"status = {s['status']}",
                  f"reply = {toml_str(s['reply'].hex())}",
                  f"home = {toml_str(s['home'])}",
                  "care_of = [" + ", ".join(toml_str(c) for c in s["care_of"]) + "]",
                  ""]
    return "\n".join(lines)


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("mip6_ha.toml")
    out.write_text(render(steps()))


if __name__ == "__main__":
    main()
