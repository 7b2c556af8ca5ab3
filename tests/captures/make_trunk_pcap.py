#!/usr/bin/env python3
"""Writes trunks.pcap: two SIP trunks behind one address, told apart by
source port, for the `sipwall check` test of trunk-level partner identity
(tests/scripts/test_trunk_ports.sh, which holds the policy and the
expectations).

    python3 tests/captures/make_trunk_pcap.py OUT.pcap

Standard library only; the frame helpers come from make_test_pcaps.py.
Deterministic: fixed timestamps, addresses and payloads.

Sources (destination: the core, 10.0.0.1:5060 / [2001:db8::1]:5060):
  192.0.2.50:5060      trunk-fr (French numbers, no SUBSCRIBE)
  192.0.2.50:5070      trunk-de (German numbers, SUBSCRIBE allowed)
  192.0.2.50:5080      claimed by nobody: the unknown zone
  [2001:db8::50]:5060  v6-fr,  [2001:db8::50]:5061  v6-de
Every message's Call-ID says what it is: "<source>-ok-..." is legitimate,
anything else should raise exactly one event naming its source's trunk.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_test_pcaps import LT_ETHERNET, eth4, eth6, pcap_bytes, udp4, udp6  # noqa: E402

CORE4, CORE6 = "10.0.0.1", "2001:db8::1"
SBC4, SBC6 = "192.0.2.50", "2001:db8::50"


def request(method, call_id, caller, via_host):
    lines = [
        "%s sip:+447700900123@ims.mnc015.mcc234.3gppnetwork.org;user=phone SIP/2.0" % method,
        "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s" % (via_host, call_id),
        "Max-Forwards: 70",
        "From: <sip:%s@example.net;user=phone>;tag=f-%s" % (caller, call_id),
        "To: <tel:+447700900123>",
        "Call-ID: %s" % call_id,
        "CSeq: 1 %s" % method,
        "Contact: <sip:%s@%s>" % (caller, via_host),
    ]
    if method == "SUBSCRIBE":
        lines.append("Event: presence")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


FR, DE = "+33639981111", "+4930121111"

# (source port or v6 port, v6?, method, call-id, caller)
MESSAGES = [
    (5060, False, "INVITE", "fr-ok-1", FR),
    (5070, False, "INVITE", "de-ok-1", DE),
    (5070, False, "INVITE", "de-spoof-1", FR),   # French number on the German trunk
    (5060, False, "INVITE", "fr-spoof-1", DE),   # German number on the French trunk
    (5060, False, "SUBSCRIBE", "fr-sub-1", FR),  # not allowed on the French trunk
    (5070, False, "SUBSCRIBE", "de-ok-sub", DE),
    (5060, False, "INVITE", "fr-ok-2", FR),
    (5070, False, "INVITE", "de-ok-2", DE),
    (5060, True, "INVITE", "v6fr-ok-1", FR),
    (5061, True, "INVITE", "v6de-spoof-1", FR),
    (5061, True, "INVITE", "v6de-ok-1", DE),
    (5080, False, "INVITE", "nobody-1", FR),     # a port no trunk claims
]


def frames():
    out = []
    for port, v6, method, cid, caller in MESSAGES:
        if v6:
            msg = request(method, cid, caller, "[%s]:%d" % (SBC6, port))
            out.append(eth6(udp6(SBC6, port, CORE6, 5060, msg)))
        else:
            msg = request(method, cid, caller, "%s:%d" % (SBC4, port))
            out.append(eth4(udp4(SBC4, port, CORE4, 5060, msg)))
    return out


def main():
    if len(sys.argv) != 2:
        print("usage: make_trunk_pcap.py OUT.pcap", file=sys.stderr)
        return 2
    with open(sys.argv[1], "wb") as fh:
        fh.write(pcap_bytes(LT_ETHERNET, frames()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
