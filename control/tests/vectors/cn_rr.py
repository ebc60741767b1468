#!/usr/bin/env python3
"""Golden vectors for the Mobile IPv6 correspondent node: return routability and
correspondent registrations (RFC 6275 §5.2, §6.2.7, §9.4, §9.5), built without mipdp code.

Writes cn_rr.toml beside this script (or to the path given): a [correspondent]
configuration section, the node's fixed secrets (Kcn and the key its nonces come from), and
an ordered list of steps. Each step is a whole IPv6 packet as a mobile node sends it (Home
Test Init, Care-of Test Init, Binding Update, or a malformed one), the time the
correspondent receives it, the counter it must end in, its answer byte for byte as a whole
IPv6 packet (Home Test, Care-of Test, Binding Acknowledgement, Binding Error, or nothing)
and the care-of address cached for the home address afterwards. control/tests/cn_vectors.rs
replays the steps through Correspondent::handle and compares.

The packets are scapy's (IPv6, IPv6ExtHdrDestOpt/HAO, IPv6ExtHdrRouting type 2,
MIP6MH_HoTI/CoTI/HoT/CoT/BU/BA/BE, MIP6OptNonceIndices, MIP6OptBindingAuthData), scapy
computing the Mobility Header checksums. The cryptography is Python's hmac/hashlib:
  nonce n          = First(64, HMAC_SHA1(nonce key, n as 8 octets big-endian)), index n mod 2^16
  home keygen token    = First(64, HMAC_SHA1(Kcn, home address | nonce | 0))
  care-of keygen token = First(64, HMAC_SHA1(Kcn, care-of address | nonce | 1))
  Kbm = SHA1(home token | care-of token), or SHA1(home token) to delete a binding
  authenticator = First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH Data)),
    the care-of address being the home address when deleting (RFC 6275 §6.2.7).

The choices these vectors share with mipdp where the RFC leaves room: how nonces are
drawn (above); a new nonce is made when the newest is nonce_interval_s old at a Home Test
Init or Care-of Test Init; a nonce is accepted until nonce_lifetime_s after it was made;
a rejected update's acknowledgement carries Binding Authorization Data whenever Kbm is
known (not for 131, 136-138); error acknowledgements are sent without the A bit.

Run: python3 control/tests/vectors/cn_rr.py   (needs scapy; deterministic output)
"""

import hashlib
import hmac
import sys
from pathlib import Path

from scapy.layers.inet6 import (HAO, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                                MIP6MH_BA, MIP6MH_BE, MIP6MH_BU, MIP6MH_CoT, MIP6MH_CoTI,
                                MIP6MH_Generic, MIP6MH_HoT, MIP6MH_HoTI,
                                MIP6OptBindingAuthData, MIP6OptNonceIndices)

T0 = 1700000000
CN = "2001:db8:50::1"
HOME = "2001:db8:1::100"
COA = "2001:db8:99::7"
COA2 = "2001:db8:98::8"
KCN = bytes(range(1, 21))
NONCE_KEY = bytes(range(101, 121))
MAX_LIFETIME = 420
NONCE_LIFETIME = 240
NONCE_INTERVAL = 30
BAD_TYPE, BAD_LEN = 5, 12

CONFIG = f"""[correspondent]
addresses = ["{CN}"]
max_lifetime = {MAX_LIFETIME}
max_cache_entries = 2
nonce_lifetime_s = {NONCE_LIFETIME}
nonce_interval_s = {NONCE_INTERVAL}
"""


def ipv6(addr):
    return bytes(IPv6(src=addr))[8:24]


def first_hmac(key, data, n):
    return hmac.new(key, data, hashlib.sha1).digest()[:n]


class Nonces:
    """The correspondent's nonces as RFC 6275 §5.2.7 and the choices above have them."""

    def __init__(self):
        self.made = 0
        self.live = []  # (number, made at)

    def forget(self, now):
        self.live = [(n, t) for (n, t) in self.live if now - t <= NONCE_LIFETIME]

    def current(self, now):
        self.forget(now)
        if self.live and now - self.live[-1][1] < NONCE_INTERVAL:
            return self.live[-1][0]
        self.live.append((self.made, now))
        self.made += 1
        return self.live[-1][0]


def nonce(n):
    return first_hmac(NONCE_KEY, n.to_bytes(8, "big"), 8)


def token(address, n, which):
    return first_hmac(KCN, ipv6(address) + nonce(n) + bytes([which]), 8)


def kbm(home_token, care_of_token=None):
    return hashlib.sha1(home_token + (care_of_token or b"")).digest()


def authorize(packet, layer, key, care_of):
    """Writes the Binding Authorization Data authenticator into the last option of
    packet[layer] and returns the bytes with scapy's checksum."""
    unsigned = packet.copy()
    unsigned[layer].cksum = 0
    mh = bytes(unsigned[layer])
    at = len(mh) - 14
    assert mh[at] == BAD_TYPE and mh[at + 1] == BAD_LEN, "BAD last, without padding after"
    tag = first_hmac(key, ipv6(care_of) + ipv6(CN) + mh[:at + 2], 12)
    signed = packet.copy()
    for option in signed[layer].options:
        if isinstance(option, MIP6OptBindingAuthData):
            option.authenticator = int.from_bytes(tag, "big")
    signed[layer].cksum = None
    return bytes(signed)


def bad_option():
    return MIP6OptBindingAuthData(olen=BAD_LEN, authenticator=0)


def test_init(kind, src, cookie, hao=None):
    mh = (MIP6MH_HoTI if kind == 0 else MIP6MH_CoTI)(cookie=cookie)
    if hao:
        return bytes(IPv6(src=src, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hao)]) / mh)
    return bytes(IPv6(src=src, dst=CN) / mh)


def test(kind, to, n, cookie):
    cls = MIP6MH_HoT if kind == 0 else MIP6MH_CoT
    return bytes(IPv6(src=CN, dst=to, hlim=64)
                 / cls(index=n & 0xFFFF, cookie=cookie, token=token(to, n, kind)))


def binding_update(seq, lifetime, home_n, care_of_n, src=COA, flags="A", key=None,
                   nonce_indices=True):
    """From `src` (with the Home Address option unless it is the home address),
    authorised under Kbm of the tokens of nonces home_n / care_of_n (home only when
    deleting), or under `key` when given."""
    options = []
    if nonce_indices:
        options.append(MIP6OptNonceIndices(olen=4, hni=home_n & 0xFFFF, coni=care_of_n & 0xFFFF))
    options.append(bad_option())
    bu = MIP6MH_BU(seq=seq, flags=flags, mhtime=lifetime, options=options)
    if src != HOME:
        p = IPv6(src=src, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOME)]) / bu
    else:
        p = IPv6(src=src, dst=CN) / bu
    deleting = lifetime == 0 or src == HOME
    if key is None:
        ht = token(HOME, home_n, 0)
        key = kbm(ht) if deleting else kbm(ht, token(src, care_of_n, 1))
    return authorize(p, MIP6MH_BU, key, HOME if deleting else src), key


def acknowledgement(status, seq, lifetime, to=COA, key=None, covered=None):
    options = [bad_option()] if key else []
    ba = MIP6MH_BA(status=status, flags=0, res2=0, seq=seq, mhtime=lifetime, options=options)
    if to != HOME:
        p = IPv6(src=CN, dst=to, hlim=64) / IPv6ExtHdrRouting(type=2, segleft=1,
                                                              addresses=[HOME]) / ba
    else:
        p = IPv6(src=CN, dst=to, hlim=64) / ba
    if not key:
        return bytes(p)
    return authorize(p, MIP6MH_BA, key, covered or to)


def steps():
    out = []
    nonces = Nonces()

    def step(name, t, packet, reason, reply, care_of):
        out.append(dict(name=name, now_s=T0 + t, packet=packet, reason=reason, reply=reply,
                        care_of=care_of))

    c1, c2 = b"\x11" * 8, b"\x22" * 8
    n0 = nonces.current(0)
    step("home test init", 0, test_init(0, HOME, c1), "home_test", test(0, HOME, n0, c1), [])
    n0c = nonces.current(0)
    step("care-of test init", 0, test_init(1, COA, c2), "care_of_test",
         test(1, COA, n0c, c2), [])

    bu, key = binding_update(1, 0xFFFF, n0, n0c)
    step("authorised update, lifetime clamped to MAX_RR_BINDING_LIFETIME", 1, bu, "registered",
         acknowledgement(0, 1, MAX_LIFETIME // 4, key=key), [COA])

    forged, _ = binding_update(2, 100, n0, n0c, src=COA2, key=kbm(b"\x00" * 8, b"\x01" * 8))
    step("wrong authenticator is dropped silently", 2, forged, "failed_authorization", b"",
         [COA])

    step("replayed update: 135 with the cached sequence", 3, bu, "sequence_out_of_window",
         acknowledgement(135, 1, 0, key=key), [COA])

    bu2, _ = binding_update(2, 10, n0, n0c, flags=0)
    step("accepted without the A bit: no acknowledgement", 4, bu2, "registered", b"", [COA])

    bu_h, _ = binding_update(3, 10, n0, n0c, flags="AH")
    step("home registration: 131", 5, bu_h, "home_registration",
         acknowledgement(131, 3, 0), [COA])

    no_ni, _ = binding_update(3, 10, n0, n0c, nonce_indices=False)
    step("no nonce indices: dropped", 6, no_ni, "missing_authorization", b"", [COA])

    step("home test init with a home address option: ignored", 7,
         test_init(0, COA, c1, hao=HOME), "home_address_option_in_test_init", b"", [COA])

    generic = IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOME)]) / \
        MIP6MH_Generic(mhtype=42, res=0, msg=b"\x00\x00")
    step("unknown MH type: binding error 2", 8, bytes(generic), "unknown_message_type",
         bytes(IPv6(src=CN, dst=COA, hlim=64) / MIP6MH_BE(status=2, ha=HOME)), [COA])

    n1 = nonces.current(40)
    step("a new nonce after nonce_interval_s", 40, test_init(0, HOME, c1), "home_test",
         test(0, HOME, n1, c1), [COA])
    n1c = nonces.current(40)
    step("care-of test init from the new care-of address", 40, test_init(1, COA2, c2),
         "care_of_test", test(1, COA2, n1c, c2), [COA])

    bu3, key3 = binding_update(3, 50, n1, n1c, src=COA2)
    step("moved to the second care-of address", 41, bu3, "registered",
         acknowledgement(0, 3, 50, to=COA2, key=key3), [COA2])

    bu4, _ = binding_update(4, 50, n0, n1c, src=COA2)
    step("home nonce expired: 136", 241, bu4, "expired_home_nonce_index",
         acknowledgement(136, 4, 0, to=COA2), [COA2])
    bu5, _ = binding_update(4, 50, n1, n0, src=COA2)
    step("care-of nonce expired: 137", 241, bu5, "expired_care_of_nonce_index",
         acknowledgement(137, 4, 0, to=COA2), [COA2])
    bu6, _ = binding_update(4, 50, n0, n0, src=COA2)
    step("both nonces expired: 138", 241, bu6, "expired_nonces",
         acknowledgement(138, 4, 0, to=COA2), [COA2])

    dereg, dkey = binding_update(5, 0, n1, n0, src=HOME)
    step("home again: deregistration under the home token alone", 242, dereg, "deregistered",
         acknowledgement(0, 5, 0, to=HOME, key=dkey, covered=HOME), [])
    return out


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(all_steps):
    lines = ["# Generated by cn_rr.py; do not edit. See that script for what each field means.",
             "", f'kcn = "{KCN.hex()}"', f'nonce_key = "{NONCE_KEY.hex()}"', f'home = "{HOME}"',
             "", CONFIG]
    for s in all_steps:
        lines += ["[[step]]",
                  f"name = {toml_str(s['name'])}",
                  f"now_s = {s['now_s']}",
                  f"packet = {toml_str(s['packet'].hex())}",
                  f"reason = {toml_str(s['reason'])}",
                  f"reply = {toml_str(s['reply'].hex())}",
                  "care_of = [" + ", ".join(toml_str(c) for c in s["care_of"]) + "]",
                  ""]
    return "\n".join(lines)


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("cn_rr.toml")
    out.write_text(render(steps()))


if __name__ == "__main__":
    main()
