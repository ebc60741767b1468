#!/usr/bin/env python3
"""Golden vectors for the HMIPv6 mobility anchor point (RFC 5380) and the multicast
mobility management agent (MMA, docs/mma-registration.md), built without mipdp code.

Writes map_mma.toml beside this script (or to the path given): the [map] and [mma]
configuration sections and three ordered lists of steps:

- map_step: a local binding update (M flag, RCoA in the Home Address option, LCoA as
  source, RFC 4285 MN-HA authentication) as a whole IPv6 packet, the time the MAP gets
  it, what it must answer (status, the Binding Acknowledgement byte for byte) and the LCoA
  bound to the RCoA afterwards;
- mma_step: the same for MMA registrations: the multicast group in mipdp's
  vendor-specific option (RFC 5094; vendor id 32473, sub-type 1), the assigned care-of
  address in the acknowledgement's (sub-type 2), the new MMA in a de-registration's
  (sub-type 3, with the seconds to forward), and the care-of address bound afterwards;
- correspondent_step: a packet a peer MMA forwards (IPv6 in IPv6) to the new MMA, and the
  binding update the new MMA must send the correspondent (or none): from the MMA, Home
  Address option = the mobile's home address, Alternate Care-of Address = the care-of
  address the MMA assigned, replay protection timestamp, authentication option (subtype
  1, the configured SPI) under the MMA-correspondent key.

control/tests/map_mma_vectors.rs replays them through HomeAgent6 (in the MAP and MMA
roles) and CorrespondentUpdates.

Packets come from scapy's IPv6 and Mobile IPv6 layers (the vendor-specific option as
MIP6OptUnknown type 19, padded as RFC 6275 §6.2 and RFC 5094 §3 align it: 4n+2);
authenticators from Python's hmac/hashlib (HMAC-SHA1, 96 bits, over care-of | home | MH
up to the SPI with the checksum zeroed, RFC 4285 §5.1).

Run: python3 control/tests/vectors/map_mma.py   (needs scapy; deterministic output)
"""

import hashlib
import hmac
import struct
import sys
from pathlib import Path

from scapy.layers.inet6 import (HAO, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                                MIP6MH_BA, MIP6MH_BU, MIP6OptAltCoA, MIP6OptMsgAuth,
                                MIP6OptReplayProtection, MIP6OptUnknown)

NTP_UNIX_OFFSET = 2208988800
T0 = 1700000000

MAP = "2001:db8:aaaa::1"
RCOA = "2001:db8:aaaa::42"
RCOA_OUT = "2001:db8:bbbb::42"
LCOA = "2001:db8:10::42"
LCOA2 = "2001:db8:10::43"

MMA = "2001:db8:cc::1"
PEER = "2001:db8:dd::1"
HOME = "2001:db8:1::100"
HOME2 = "2001:db8:1::101"
WHERE = "2001:db8:cc:f::7"   # the mobile's address on the site when it registers
GROUP = "ff3e:30:2001:db8:211:22ff:fe33:4455"
CN = "2001:db8:20::50"
OTHER_CN = "2001:db8:20::51"

KEY = b"0123456789abcdef"
WRONG_KEY = b"fedcba9876543210"
CN_KEY = b"mma-correspondent"
SPI, CN_SPI = 256, 4096
VENDOR_ID = 32473
MULTICAST_GROUP, ASSIGNED_CARE_OF, NEW_MMA = 1, 2, 3
MAX_FORWARD = 60
CN_INTERVAL = 10
CN_LIFETIME = 300

CONFIG = f"""[map]
addresses = ["{MAP}"]
rcoa_prefixes = ["2001:db8:aaaa::/64"]
max_lifetime = 600
max_bindings = 16

[[map.security_association]]
home_address = "{RCOA}"
spi = {SPI}
key = "{KEY.hex()}"

[[map.security_association]]
home_address = "{RCOA_OUT}"
spi = {SPI}
key = "{KEY.hex()}"

[mma]
addresses = ["{MMA}"]
care_of_prefixes = ["2001:db8:cc::/64"]
max_lifetime = 600
max_bindings = 16
max_forward_s = {MAX_FORWARD}
peers = ["{PEER}"]
correspondent_update_interval_s = {CN_INTERVAL}
correspondent_lifetime_s = {CN_LIFETIME}

[[mma.security_association]]
home_address = "{HOME}"
spi = {SPI}
key = "{KEY.hex()}"

[[mma.security_association]]
home_address = "{HOME2}"
spi = {SPI}
key = "{KEY.hex()}"

[[mma.correspondent]]
address = "{CN}"
spi = {CN_SPI}
key = "{CN_KEY.hex()}"
"""

AUTH_TYPE, AUTH_LEN, MN_HA = 9, 17, 1


def ntp(unix_seconds, fraction=0):
    return ((unix_seconds + NTP_UNIX_OFFSET) & 0xFFFFFFFF) << 32 | fraction


def ipv6(addr):
    return bytes(IPv6(src=addr))[8:24]


def sign(packet, mh_layer, spi, key, care_of, home):
    """RFC 4285 §5.1 authenticator into the MN-HA option; scapy recomputes the checksum."""
    unsigned = packet.copy()
    unsigned[mh_layer].cksum = 0
    mh = bytes(unsigned[mh_layer])
    head = bytes([AUTH_TYPE, AUTH_LEN, MN_HA]) + struct.pack("!I", spi) + bytes(12)
    at = mh.find(head)
    assert at > 0 and mh.find(head, at + 1) < 0, "one authentication option"
    tag = hmac.new(key, ipv6(care_of) + ipv6(home) + mh[:at + 7], hashlib.sha1).digest()[:12]
    signed = packet.copy()
    for option in signed[mh_layer].options:
        if isinstance(option, MIP6OptMsgAuth):
            option.authdata = tag
    signed[mh_layer].cksum = None
    return bytes(signed)


def vendor(subtype, data):
    """RFC 5094 §3: Type 19, Length, Vendor ID (4 bytes), Sub-Type, Data."""
    return MIP6OptUnknown(otype=19, odata=struct.pack("!IB", VENDOR_ID, subtype) + data)


def padn(n):
    """PadN of n bytes (n >= 2), RFC 6275 §6.2.1."""
    return MIP6OptUnknown(otype=1, odata=bytes(n - 2))


def binding_update(dst, seq, lifetime, home, src, flags, timestamp, key=KEY, spi=SPI,
                   vendor_option=None):
    # The options start at byte 6 of the Mobility Header; the vendor option's Type
    # sits at 4n+2, so it follows directly (6 = 4*1+2).
    options = []
    if vendor_option is not None:
        options.append(vendor_option)
    options += [MIP6OptReplayProtection(timestamp=timestamp),
                MIP6OptMsgAuth(subtype=MN_HA, mspi=spi, authdata=bytes(12))]
    bu = MIP6MH_BU(seq=seq, flags=flags, mhtime=lifetime, options=options)
    p = IPv6(src=src, dst=dst) / IPv6ExtHdrDestOpt(options=[HAO(hoa=home)]) / bu
    return sign(p, MIP6MH_BU, spi, key, src, home)


def acknowledgement(src, status, seq, lifetime, to, home, timestamp, sa=(SPI, KEY),
                    assigned=None):
    options = []
    if assigned is not None:
        # Options start at byte 12 of a BA: 2 bytes of PadN put the vendor option at
        # 14 = 4*3+2, its 23 bytes end at 37, and 5 bytes of PadN put the replay
        # protection option at 8n+2 (42).
        options += [padn(2), vendor(ASSIGNED_CARE_OF, ipv6(assigned)), padn(5)]
    options.append(MIP6OptReplayProtection(timestamp=timestamp))
    if sa:
        options.append(MIP6OptMsgAuth(subtype=MN_HA, mspi=sa[0], authdata=bytes(12)))
    ba = MIP6MH_BA(status=status, flags=0, res2=0, seq=seq, mhtime=lifetime, options=options)
    p = IPv6(src=src, dst=to) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[home]) / ba
    if not sa:
        return bytes(p)
    return sign(p, MIP6MH_BA, sa[0], sa[1], to, home)


def map_steps():
    out = []

    def step(name, t, packet, status, reply, care_of, home=RCOA):
        out.append(dict(name=name, now_s=t, packet=packet, status=status, reply=reply,
                        home=home, care_of=care_of))

    def bu(seq, lifetime, t, home=RCOA, src=LCOA, flags="AM", key=KEY):
        return binding_update(MAP, seq, lifetime, home, src, flags, ntp(t), key=key)

    step("local binding update binds the RCoA to the LCoA", T0, bu(1, 100, T0), 0,
         acknowledgement(MAP, 0, 1, 100, LCOA, RCOA, ntp(T0)), [LCOA])
    step("lifetime clamped to map.max_lifetime", T0 + 1, bu(2, 1000, T0 + 1), 0,
         acknowledgement(MAP, 0, 2, 150, LCOA, RCOA, ntp(T0 + 1)), [LCOA])
    step("RCoA outside the MAP's prefixes is 129", T0 + 2,
         bu(1, 100, T0 + 2, home=RCOA_OUT), 129,
         acknowledgement(MAP, 129, 1, 0, LCOA, RCOA_OUT, ntp(T0 + 2)), [], home=RCOA_OUT)
    step("no M flag: not a local binding update, dropped", T0 + 3,
         bu(3, 100, T0 + 3, flags="AH"), -1, b"", [LCOA])
    step("wrong key is 146, binding unchanged", T0 + 4,
         bu(3, 100, T0 + 4, src=LCOA2, key=WRONG_KEY), 146,
         acknowledgement(MAP, 146, 3, 0, LCOA2, RCOA, ntp(T0 + 4)), [LCOA])
    step("sequence number out of window is 135", T0 + 5, bu(2, 100, T0 + 5, src=LCOA2), 135,
         acknowledgement(MAP, 135, 2, 0, LCOA2, RCOA, ntp(T0 + 5)), [LCOA])
    step("moving to a new LCoA rebinds", T0 + 6, bu(3, 100, T0 + 6, src=LCOA2), 0,
         acknowledgement(MAP, 0, 3, 100, LCOA2, RCOA, ntp(T0 + 6)), [LCOA2])
    step("deregistration removes the binding", T0 + 7, bu(4, 0, T0 + 7, src=LCOA2), 0,
         acknowledgement(MAP, 0, 4, 0, LCOA2, RCOA, ntp(T0 + 7)), [])
    return out


def mma_steps():
    out = []

    def step(name, t, packet, status, reply, care_of, home=HOME):
        out.append(dict(name=name, now_s=t, packet=packet, status=status, reply=reply,
                        home=home, care_of=care_of))

    group = vendor(MULTICAST_GROUP, ipv6(GROUP))

    def bu(seq, lifetime, t, home=HOME, option=group):
        return binding_update(MMA, seq, lifetime, home, WHERE, "AH", ntp(t),
                              vendor_option=option)

    def ba(status, seq, lifetime, t, home=HOME, assigned=None):
        return acknowledgement(MMA, status, seq, lifetime, WHERE, home, ntp(t),
                               assigned=assigned)

    coa = "2001:db8:cc::100"
    coa2 = "2001:db8:cc::101"
    step("registration: the care-of address is the prefix with the home host bits", T0,
         bu(1, 100, T0), 0, ba(0, 1, 100, T0, assigned=coa), [coa])
    step("second mobile gets its own", T0 + 1, bu(1, 100, T0 + 1, home=HOME2), 0,
         ba(0, 1, 100, T0 + 1, home=HOME2, assigned=coa2), [coa2], home=HOME2)
    step("no multicast group option is 128", T0 + 2, bu(2, 100, T0 + 2, option=None), 128,
         ba(128, 2, 0, T0 + 2), [coa])
    step("a link-local group is 128", T0 + 3,
         bu(2, 100, T0 + 3, option=vendor(MULTICAST_GROUP, ipv6("ff02::1"))), 128,
         ba(128, 2, 0, T0 + 3), [coa])
    moved = vendor(NEW_MMA, ipv6(PEER) + struct.pack("!I", 3600))
    step("de-registration naming the new MMA: accepted, forwarding", T0 + 4,
         bu(2, 0, T0 + 4, option=moved), 0, ba(0, 2, 0, T0 + 4), [])
    step("registering again gets the care-of address back", T0 + 5, bu(1, 100, T0 + 5), 0,
         ba(0, 1, 100, T0 + 5, assigned=coa), [coa])
    step("de-registration without a new MMA", T0 + 6, bu(2, 0, T0 + 6, option=None), 0,
         ba(0, 2, 0, T0 + 6), [])
    return out


def tunnelled(outer_src, outer_dst, inner_src, inner_dst):
    inner = IPv6(src=inner_src, dst=inner_dst, hlim=63, nh=59)
    return bytes(IPv6(src=outer_src, dst=outer_dst, hlim=64) / inner)


def correspondent_update(home, care_of, seq, t):
    bu = MIP6MH_BU(seq=seq, flags=0, mhtime=CN_LIFETIME // 4, options=[
        MIP6OptAltCoA(acoa=care_of),
        MIP6OptReplayProtection(timestamp=ntp(t)),
        MIP6OptMsgAuth(subtype=MN_HA, mspi=CN_SPI, authdata=bytes(12))])
    p = IPv6(src=MMA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=home)]) / bu
    return sign(p, MIP6MH_BU, CN_SPI, CN_KEY, care_of, home)


def correspondent_steps():
    """Run after the MMA steps: HOME2 is registered (care-of 2001:db8:cc::101)."""
    out = []

    def step(name, t, packet, outcome, update):
        out.append(dict(name=name, now_s=t, packet=packet, outcome=outcome, update=update))

    t = T0 + 10
    fwd = tunnelled(PEER, MMA, CN, HOME2)
    step("forwarded by a peer MMA: the correspondent is told", t, fwd, "told",
         correspondent_update(HOME2, "2001:db8:cc::101", 0, t))
    step("again within the interval: rate-limited", t + CN_INTERVAL - 1, fwd,
         "rate_limited", b"")
    step("after the interval: told again, next sequence number", t + CN_INTERVAL, fwd,
         "told", correspondent_update(HOME2, "2001:db8:cc::101", 1, t + CN_INTERVAL))
    step("not from a peer MMA", t + 30, tunnelled("2001:db8:ee::1", MMA, CN, HOME2),
         "not_from_peer", b"")
    step("no key for that correspondent", t + 30, tunnelled(PEER, MMA, OTHER_CN, HOME2),
         "no_correspondent_key", b"")
    step("a mobile not registered here", t + 30, tunnelled(PEER, MMA, CN, HOME),
         "not_registered", b"")
    return out


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render():
    lines = ["# Generated by map_mma.py; do not edit. See that script for what each field means.",
             "", CONFIG]
    for table, steps in [("map_step", map_steps()), ("mma_step", mma_steps())]:
        for s in steps:
            lines += [f"[[{table}]]",
                      f"name = {toml_str(s['name'])}",
                      f"now_s = {s['now_s']}",
                      f"packet = {toml_str(s['packet'].hex())}",
                      f"status = {s['status']}",
                      f"reply = {toml_str(s['reply'].hex())}",
                      f"home = {toml_str(s['home'])}",
                      "care_of = [" + ", ".join(toml_str(c) for c in s["care_of"]) + "]",
                      ""]
    for s in correspondent_steps():
        lines += ["[[correspondent_step]]",
                  f"name = {toml_str(s['name'])}",
                  f"now_s = {s['now_s']}",
                  f"packet = {toml_str(s['packet'].hex())}",
                  f"outcome = {toml_str(s['outcome'])}",
                  f"update = {toml_str(s['update'].hex())}",
                  ""]
    return "\n".join(lines)


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("map_mma.toml")
    out.write_text(render())


if __name__ == "__main__":
    main()
