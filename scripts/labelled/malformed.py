#!/usr/bin/env python3
"""Sends malformed SIP over UDP and TCP (loopback only) for the labelled captures.

usage: malformed.py --src IP[:PORT] --dst IP:PORT [--transport udp|tcp|both]
                    [--gap-ms N] [--seed N] [--list]

Each catalogue entry is one message with one deliberate defect (or plain
garbage).  Over UDP every entry is one datagram from IP:PORT; over TCP every
entry goes on its own connection from IP (kernel-chosen port), which is then
read for up to 0.3 s and closed, so one broken framing cannot swallow the
next entry.  The bytes depend only on --seed and the addresses.
"""
import argparse
import ipaddress
import random
import re
import socket
import sys
import time

CRLF = "\r\n"
HOME = "ims.mnc001.mcc001.3gppnetwork.org"


def base(rng, src, method="INVITE", ruri_user=None, drop=(), extra=(), body=None, cl=None,
         start=None, eol=CRLF, transport="UDP"):
    called = ruri_user or "+447700800%03d" % rng.randint(0, 999)
    calling = "+33639800%03d" % rng.randint(0, 999)
    if body is None:
        body = CRLF.join(["v=0", "o=- 5 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1",
                          "t=0 0", "m=audio 4000 RTP/AVP 0", ""]) if method == "INVITE" else ""
    lines = [start or "%s sip:%s@%s;user=phone SIP/2.0" % (method, called, HOME)]
    hdrs = [("Via", "SIP/2.0/%s %s;branch=z9hG4bK%010x" % (transport, src, rng.getrandbits(40))),
            ("Max-Forwards", "70"),
            ("From", "<sip:%s@%s>;tag=%08x" % (calling, "ims.mnc015.mcc208.3gppnetwork.org",
                                               rng.getrandbits(32))),
            ("To", "<sip:%s@%s>" % (called, HOME)),
            ("Call-ID", "%012x@%s" % (rng.getrandbits(48), src.rsplit(":", 1)[0])),
            ("CSeq", "1 %s" % method),
            ("Contact", "<sip:%s@%s>" % (calling, src))]
    lines += ["%s: %s" % hv for hv in hdrs if hv[0] not in drop]
    lines += list(extra)
    if body and "Content-Type" not in drop:
        lines.append("Content-Type: application/sdp")
    if "Content-Length" not in drop:
        lines.append("Content-Length: %s" % (len(body.encode("latin-1")) if cl is None else cl))
    return (eol.join(lines) + eol + eol + body).encode("latin-1")


CATALOGUE = [
    # name, what, transports, builder(rng, src, transport)
    ("cl-too-large", "Content-Length 5000, body of ~100 bytes", "udp tcp",
     lambda r, s, t: base(r, s, cl="5000", transport=t)),
    ("cl-negative", "Content-Length: -12", "udp tcp",
     lambda r, s, t: base(r, s, cl="-12", transport=t)),
    ("cl-too-small", "Content-Length 10, body of ~100 bytes (TCP: the rest is junk framing)", "udp tcp",
     lambda r, s, t: base(r, s, cl="10", transport=t)),
    ("no-content-length", "INVITE with SDP and no Content-Length (mandatory on TCP)", "tcp",
     lambda r, s, t: base(r, s, drop=("Content-Length",), transport=t)),
    ("no-via", "INVITE without any Via", "udp tcp",
     lambda r, s, t: base(r, s, drop=("Via",), transport=t)),
    ("no-call-id", "OPTIONS without Call-ID", "udp",
     lambda r, s, t: base(r, s, method="OPTIONS", drop=("Call-ID",), transport=t)),
    ("garbage", "512 random bytes", "udp tcp",
     lambda r, s, t: bytes(r.getrandbits(8) for _ in range(512))),
    ("nul-in-headers", "NUL bytes inside the From and To values", "udp tcp",
     lambda r, s, t: base(r, s, transport=t).replace(b"<sip:+", b"<sip:\x00+", 2)),
    ("nul-flood", "a message of 300 NUL bytes", "udp",
     lambda r, s, t: b"\x00" * 300),
    ("huge-ruri", "Request-URI with a 6000-character user part", "udp tcp",
     lambda r, s, t: base(r, s, ruri_user="9" * 6000, transport=t)),
    ("header-folds-400", "one Subject header folded over 400 continuation lines", "udp tcp",
     lambda r, s, t: base(r, s, method="OPTIONS", transport=t,
                          extra=["Subject: x" + "".join("\r\n %d" % i for i in range(400))])),
    ("many-headers", "350 header fields (X-Pad-N)", "udp",
     lambda r, s, t: base(r, s, method="OPTIONS", extra=["X-Pad-%d: %d" % (i, i) for i in range(350)])),
    ("via-80", "80 Via values in one header field", "udp",
     lambda r, s, t: base(r, s, method="OPTIONS",
                          extra=["Via: " + ", ".join("SIP/2.0/UDP 192.0.2.%d:5060;branch=z9hG4bKv%d"
                                                     % (i % 250 + 1, i) for i in range(80))])),
    ("bad-version", "SIP/7.0 in the request line", "udp",
     lambda r, s, t: base(r, s, start="INVITE sip:+447700800001@%s SIP/7.0" % HOME)),
    ("cseq-not-number", "CSeq: abc INVITE", "udp tcp",
     lambda r, s, t: base(r, s, transport=t).replace(b"CSeq: 1 INVITE", b"CSeq: abc INVITE")),
    ("cseq-overflow", "CSeq 4294967296 (2^32)", "udp",
     lambda r, s, t: base(r, s, method="OPTIONS").replace(b"CSeq: 1 ", b"CSeq: 4294967296 ")),
    ("lf-only", "bare LF line ends", "udp",
     lambda r, s, t: base(r, s, method="OPTIONS", eol="\n")),
    ("unclosed-quote", "From display name with an opening quote only", "udp",
     lambda r, s, t: base(r, s, method="OPTIONS").replace(b"From: <", b'From: "Eve <', 1)),
    ("binary-method", "control bytes inside the method token", "udp",
     lambda r, s, t: b"IN\x01V\x7fITE" + base(r, s)[6:]),
    ("no-header-end", "headers never terminated by an empty line", "udp tcp",
     lambda r, s, t: base(r, s, method="OPTIONS", transport=t)[:-4]),
    ("ruri-no-scheme", "Request-URI without a scheme", "udp",
     lambda r, s, t: base(r, s, start="INVITE +447700800002 SIP/2.0")),
    ("huge-header", "one 9000-byte User-Agent header", "udp tcp",
     lambda r, s, t: base(r, s, method="OPTIONS", transport=t, extra=["User-Agent: " + "A" * 9000])),
    ("response-999", "a response with status 999 sent to the edge", "udp",
     lambda r, s, t: base(r, s, method="OPTIONS", start="SIP/2.0 999 Weird")),
    ("sdp-binary", "INVITE whose application/sdp body is random binary", "udp",
     lambda r, s, t: base(r, s, body="".join(chr(r.getrandbits(8)) for _ in range(200)))),
]


def loopback(ip):
    return ipaddress.ip_address(ip).is_loopback or ip.startswith("fd00:5a11:")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src")
    ap.add_argument("--dst")
    ap.add_argument("--transport", default="both", choices=("udp", "tcp", "both"))
    ap.add_argument("--gap-ms", type=int, default=250)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        for name, what, tr, _ in CATALOGUE:
            print("%-20s %-8s %s" % (name, tr, what))
        return 0
    m = re.match(r"^\[([0-9a-fA-F:.]+)\](?::(\d+))?$", a.src) or \
        re.match(r"^([0-9.]+)(?::(\d+))?$", a.src) or re.match(r"^([0-9a-fA-F:]+)()$", a.src)
    if not m:
        raise SystemExit("malformed.py: bad --src")
    sip, sport = m.group(1), int(m.group(2) or 0)
    dip, _, dport = a.dst.rpartition(":")
    dip, dport = dip.strip("[]"), int(dport)
    if not (loopback(sip) and loopback(dip)):
        raise SystemExit("malformed.py: loopback addresses only")
    fam = socket.AF_INET6 if ":" in sip else socket.AF_INET
    rng = random.Random(a.seed)
    srcs = "%s:%d" % (sip, sport) if fam == socket.AF_INET else "[%s]:%d" % (sip, sport)
    sent = 0
    if a.transport in ("udp", "both"):
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((sip, sport))
        for name, what, tr, fn in CATALOGUE:
            if "udp" in tr.split():
                u.sendto(fn(rng, srcs, "UDP"), (dip, dport))
                sent += 1
                time.sleep(a.gap_ms / 1000.0)
        time.sleep(0.3)
        u.close()
    if a.transport in ("tcp", "both"):
        for name, what, tr, fn in CATALOGUE:
            if "tcp" not in tr.split():
                continue
            c = socket.socket(fam, socket.SOCK_STREAM)
            c.bind((sip, 0))
            c.settimeout(2)
            c.connect((dip, dport))
            src_now = "%s:%d" % c.getsockname()[:2] if fam == socket.AF_INET else "[%s]:%d" % c.getsockname()[:2]
            try:
                c.sendall(fn(rng, src_now, "TCP"))
                c.settimeout(0.3)
                try:
                    while c.recv(65536):
                        pass
                except (socket.timeout, OSError):
                    pass
            finally:
                c.close()
            sent += 1
            time.sleep(a.gap_ms / 1000.0)
    print("malformed.py: %d messages sent" % sent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
