#!/usr/bin/env python3
"""Builds Mobility Header (RFC 6275 §6.1) test vectors with scapy, an implementation
independent of mipdp, and writes them as `name hex` lines (whole IPv6 packets) to mh.txt
beside this script. Checksums and option padding are scapy's own. Run: python3 gen_mh.py
(scapy 2.5+).

scapy's defaults for the Option Length of Nonce Indices and Binding Authorization Data are
16, not the 4 and 12 of RFC 6275 §6.2.6-6.2.7, so they are given explicitly."""

import os

from scapy.all import raw
from scapy.layers.inet6 import (
    HAO,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptAltCoA,
    MIP6OptBindingAuthData,
    MIP6OptBRAdvice,
    MIP6OptMNID,
    MIP6OptMsgAuth,
    MIP6OptNonceIndices,
    MIP6OptReplayProtection,
)

HA = "2001:db8:1::1"
HOA = "2001:db8:1::100"
COA = "2001:db8:2::100"
ALT_COA = "2001:db8:2::200"
CN = "2001:db8:3::3"

vectors = {
    # Binding Update to a correspondent from the care-of address with a Home Address
    # option (the checksum uses the home address, RFC 6275 §6.3), route optimisation
    # options in the order and alignment of RFC 6275 §6.2.
    "bu_altcoa_nonce_auth": IPv6(src=COA, dst=CN, hlim=64)
    / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
    / MIP6MH_BU(seq=0x1234, flags="AK", mhtime=60, options=[
        MIP6OptAltCoA(acoa=ALT_COA),
        MIP6OptNonceIndices(olen=4, hni=0x0102, coni=0x0304),
        MIP6OptBindingAuthData(olen=12, authenticator=0x00112233445566778899AABB),
    ]),
    # Binding Acknowledgement from the home agent through a type 2 routing header (the
    # checksum uses the home address as destination).
    "ba_refresh_advice": IPv6(src=HA, dst=COA, hlim=64)
    / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA])
    / MIP6MH_BA(status=0, flags="K", seq=0x1234, mhtime=900, options=[
        MIP6OptBRAdvice(rinter=450),
    ]),
    "brr": IPv6(src=CN, dst=HOA, hlim=64) / MIP6MH_BRR(),
    "hoti": IPv6(src=HOA, dst=CN, hlim=64) / MIP6MH_HoTI(cookie=b"\x01\x02\x03\x04\x05\x06\x07\x08"),
    "coti": IPv6(src=COA, dst=CN, hlim=64) / MIP6MH_CoTI(cookie=b"\x11\x12\x13\x14\x15\x16\x17\x18"),
    "hot": IPv6(src=CN, dst=HOA, hlim=64)
    / MIP6MH_HoT(index=7, cookie=b"\x01\x02\x03\x04\x05\x06\x07\x08", token=b"\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8"),
    "cot": IPv6(src=CN, dst=COA, hlim=64)
    / MIP6MH_CoT(index=9, cookie=b"\x11\x12\x13\x14\x15\x16\x17\x18", token=b"\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8"),
    "be": IPv6(src=CN, dst=COA, hlim=64) / MIP6MH_BE(status=1, ha=HOA),
    # Home registration with a NAI, RFC 4283.
    "bu_mnid": IPv6(src=COA, dst=HA, hlim=64)
    / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
    / MIP6MH_BU(seq=1, flags="AH", mhtime=150, options=[MIP6OptMNID(id=b"mn1@example.org")]),
    # Home registration authenticated per RFC 4285: NAI, replay protection, MN-HA
    # authentication (the authenticator here is a placeholder, not a real HMAC).
    "bu_mnid_replay_auth": IPv6(src=COA, dst=HA, hlim=64)
    / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
    / MIP6MH_BU(seq=2, flags="AHKM", mhtime=150, options=[
        MIP6OptMNID(id=b"mn1@example.org"),
        MIP6OptReplayProtection(timestamp=0xE1A2B3C4D5E6F708),
        MIP6OptMsgAuth(subtype=1, mspi=0x100, authdata=b"\xcc" * 12),
    ]),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mh.txt")
with open(out, "w") as f:
    for name, pkt in vectors.items():
        f.write(f"{name} {raw(pkt).hex()}\n")
