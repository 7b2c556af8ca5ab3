#!/usr/bin/env python3
"""Writes truth.pcap: attacks from sources that cat0 admission drops, a
retransmitted request and a mere policy breach, for the `sipwall check`
test of "the event names the attack" (tests/scripts/test_event_truth.sh,
which holds the policy and the expectations).

    python3 tests/captures/make_truth_pcap.py OUT.pcap

Standard library only; the frame helpers come from make_test_pcaps.py.
Deterministic: fixed timestamps (one frame every 100 ms from a fixed
start), addresses and payloads.

Sources (the core is 10.0.0.1; nothing but 192.0.2.10 is a partner):
  203.0.113.66   svmap-like sweep: OPTIONS to 12 addresses/ports      -> sip_scan
  203.0.113.77   svcrack-like guessing: 12 REGISTERs, each answered 401 -> sip_bruteforce
  192.0.2.10     a partner sending a REFER (a policy breach), the same
                 request again 1 s later (a retransmission)            -> one policy_violation
  203.0.113.99   one OPTIONS ping                                      -> policy_violation (cat0)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_test_pcaps import LT_ETHERNET, eth4, pcap_bytes, udp4  # noqa: E402

CORE = "10.0.0.1"
T0 = 1790000000


def msg(lines):
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def options(src, sport, dst, dport, n):
    return msg([
        "OPTIONS sip:%d@%s SIP/2.0" % (100 + n, dst),
        "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-sweep-%d" % (src, sport, n),
        "Max-Forwards: 70",
        "From: <sip:%d@%s>;tag=sw%d" % (100 + n, src, n),
        "To: <sip:%d@%s>" % (100 + n, dst),
        "Call-ID: sweep-%d@%s" % (n, src),
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
    ])


def register(src, n):
    return msg([
        "REGISTER sip:example.org SIP/2.0",
        "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-crack-%d" % (src, n),
        "Max-Forwards: 70",
        "From: <sip:1001@example.org>;tag=c%d" % n,
        "To: <sip:1001@example.org>",
        "Call-ID: crack-%d@%s" % (n, src),
        "CSeq: %d REGISTER" % n,
        'Authorization: Digest username="1001", realm="example.org", nonce="n%d", '
        'uri="sip:example.org", response="5f0c2a7d9e3b41c8a6f2d0b9e7c3a1f%d", algorithm=MD5' % (n, n % 10),
        "Content-Length: 0",
    ])


def unauthorized(src, n):
    return msg([
        "SIP/2.0 401 Unauthorized",
        "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-crack-%d" % (src, n),
        "From: <sip:1001@example.org>;tag=c%d" % n,
        "To: <sip:1001@example.org>;tag=t%d" % n,
        "Call-ID: crack-%d@%s" % (n, src),
        "CSeq: %d REGISTER" % n,
        'WWW-Authenticate: Digest realm="example.org", nonce="m%d", algorithm=MD5' % n,
        "Content-Length: 0",
    ])


def refer(src):
    return msg([
        "REFER sip:200@%s SIP/2.0" % CORE,
        "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-refer-1" % src,
        "Max-Forwards: 70",
        "From: <sip:+33639981111@example.net>;tag=r1",
        "To: <sip:200@example.org>",
        "Call-ID: refer-1@%s" % src,
        "CSeq: 1 REFER",
        "Refer-To: <sip:+882100000001@example.org>",
        "Content-Length: 0",
    ])


def frames():
    out = []
    t = [0]

    def add(pkt, gap_ms=100):
        t[0] += gap_ms
        out.append((pkt, len(pkt), T0 + t[0] // 1000, (t[0] % 1000) * 1000))

    for n in range(12):
        dport = 5060 + n
        add(eth4(udp4("203.0.113.66", 5070, CORE, dport, options("203.0.113.66", 5070, CORE, dport, n))))
    for n in range(1, 13):
        add(eth4(udp4("203.0.113.77", 5060, CORE, 5060, register("203.0.113.77", n))))
        add(eth4(udp4(CORE, 5060, "203.0.113.77", 5060, unauthorized("203.0.113.77", n))), 20)
    add(eth4(udp4("192.0.2.10", 5060, CORE, 5060, refer("192.0.2.10"))))
    add(eth4(udp4("192.0.2.10", 5060, CORE, 5060, refer("192.0.2.10"))), 1000)
    add(eth4(udp4("203.0.113.99", 5060, CORE, 5060, options("203.0.113.99", 5060, CORE, 5060, 99))))
    return out


def main():
    if len(sys.argv) != 2:
        print("usage: make_truth_pcap.py OUT.pcap", file=sys.stderr)
        return 2
    with open(sys.argv[1], "wb") as fh:
        fh.write(pcap_bytes(LT_ETHERNET, frames()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
