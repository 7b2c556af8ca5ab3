#!/usr/bin/env python3
"""Sends sipwall's catalogue of malformed SIP datagrams (loopback only).

usage: send-malformed.py --src IP:PORT --dst IP:PORT [--gap-ms N] [--seed N]
                         [--only NAME[,NAME...]] [--list] [--write DIR]

Every entry is one UDP datagram with one deliberate protocol violation (or
plain garbage) of the kind a fuzzer or a broken or hostile peer sends.  The
bytes depend only on --seed and the addresses, so a run can be repeated.
Both addresses must be in 127.0.0.0/8; at most one datagram per entry is
sent, --gap-ms apart (default 300).

  --list        print the catalogue (name and what is wrong) and exit
  --write DIR   write each datagram to DIR/NAME.sip instead of sending
"""
import argparse
import ipaddress
import os
import random
import socket
import sys
import time

CRLF = "\r\n"


def ids(rng, src, dst):
    """Per-datagram identifiers: numbers from test ranges, random tags."""
    return {
        "src": "%s:%d" % src, "dst": "%s:%d" % dst, "src_ip": src[0],
        "callid": "mf%012x@%s" % (rng.getrandbits(48), src[0]),
        "tag": "%010x" % rng.getrandbits(40),
        "branch": "z9hG4bK-mf%010x" % rng.getrandbits(40),
        "calling": "+33639982%03d" % rng.randint(0, 999),
        "called": "+447700900%03d" % rng.randint(0, 999),
    }


SDP = CRLF.join(["v=0", "o=- 7 1 IN IP4 192.0.2.99", "s=-", "c=IN IP4 192.0.2.99", "t=0 0",
                 "m=audio 49000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000", ""])


def request(i, method="INVITE", start=None, version="SIP/2.0", via=None, cseq=None,
            drop=(), extra=(), body=None, cl=None, eol=CRLF):
    """A plausible partner request; the arguments inject the defect."""
    if body is None:
        body = SDP if method == "INVITE" else ""
    lines = [start or "%s sip:%s@ims.mnc001.mcc001.3gppnetwork.org;user=phone %s"
             % (method, i["called"], version)]
    hdrs = [
        ("Via", via or "SIP/2.0/UDP %s;branch=%s" % (i["src"], i["branch"])),
        ("Max-Forwards", "70"),
        ("From", "<sip:%s@ims.mnc002.mcc001.3gppnetwork.org;user=phone>;tag=%s"
         % (i["calling"], i["tag"])),
        ("To", "<sip:%s@ims.mnc001.mcc001.3gppnetwork.org;user=phone>" % i["called"]),
        ("Call-ID", i["callid"]),
        ("CSeq", cseq or "1 %s" % method),
        ("Contact", "<sip:%s@%s>" % (i["calling"], i["src"])),
        ("P-Asserted-Identity", "<tel:%s>" % i["calling"]),
    ]
    lines += ["%s: %s" % (n, v) for n, v in hdrs if n not in drop]
    lines += list(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    if "Content-Length" not in drop:
        lines.append("Content-Length: %s" % (len(body.encode()) if cl is None else cl))
    return (eol.join(lines) + eol + eol + body).encode("latin-1")


CATALOGUE = []


def entry(name, what):
    def deco(fn):
        CATALOGUE.append((name, what, fn))
        return fn
    return deco


@entry("neg-content-length", "Content-Length: -1 on an INVITE with SDP")
def _(rng, i):
    return request(i, cl="-1")


@entry("cl-too-large", "Content-Length 4000 with a 150-byte body")
def _(rng, i):
    return request(i, cl="4000")


@entry("cl-duplicate", "two different Content-Length values")
def _(rng, i):
    return request(i, extra=["l: 3"])


@entry("no-colon", "a header line without a colon")
def _(rng, i):
    return request(i, method="OPTIONS", extra=["Bogus header without colon"])


@entry("nul-in-method", "NUL byte inside the method")
def _(rng, i):
    m = "INV\x00ITE"
    return request(i, start="%s sip:%s@ims.mnc001.mcc001.3gppnetwork.org SIP/2.0"
                   % (m, i["called"]), cseq="1 " + m)


@entry("garbage", "400 random bytes")
def _(rng, i):
    return bytes(rng.getrandbits(8) for _ in range(400))


@entry("truncated", "INVITE cut off in the middle of a header line")
def _(rng, i):
    d = request(i)
    return d[:d.index(b"P-Asserted-Identity") + 12]


@entry("via-overflow", "100 Via values in 10 header fields (over any sane hop count)")
def _(rng, i):
    hops = ["SIP/2.0/UDP 192.0.2.%d:5060;branch=z9hG4bK-hop%02d" % (10 + n, n) for n in range(99)]
    extra = ["Via: " + ", ".join(hops[k:k + 10]) for k in range(0, 99, 10)]
    return request(i, method="OPTIONS", extra=extra)


@entry("bad-cseq", "CSeq number is not a number")
def _(rng, i):
    return request(i, method="OPTIONS", cseq="abc OPTIONS")


@entry("cseq-overflow", "CSeq number 99999999999 (> 2^32-1)")
def _(rng, i):
    return request(i, method="OPTIONS", cseq="99999999999 OPTIONS")


@entry("unterminated-quote", "From display name opens a quote that never closes")
def _(rng, i):
    return request(i, method="OPTIONS", drop=("From",),
                   extra=['From: "Unclosed <sip:%s@ims.mnc002.mcc001.3gppnetwork.org>;tag=%s'
                          % (i["calling"], i["tag"])])


@entry("huge-header", "one 9000-byte header field (over the 8192-byte limit)")
def _(rng, i):
    return request(i, method="OPTIONS", extra=["X-Padding: " + "A" * 9000])


@entry("lf-only", "bare LF line ends")
def _(rng, i):
    return request(i, method="OPTIONS", eol="\n")


@entry("bad-version", "SIP/3.0 in the request line")
def _(rng, i):
    return request(i, version="SIP/3.0")


@entry("missing-call-id", "no Call-ID header")
def _(rng, i):
    return request(i, method="OPTIONS", drop=("Call-ID",))


@entry("ruri-in-angle", "Request-URI enclosed in <>")
def _(rng, i):
    return request(i, method="OPTIONS", start="OPTIONS <sip:%s@ims.mnc001.mcc001.3gppnetwork.org> SIP/2.0"
                   % i["called"])


@entry("double-space", "two SP between request-line elements")
def _(rng, i):
    return request(i, method="OPTIONS", start="OPTIONS  sip:%s@ims.mnc001.mcc001.3gppnetwork.org  SIP/2.0"
                   % i["called"])


@entry("status-999", "a response with status code 999")
def _(rng, i):
    d = request(i, method="OPTIONS", start="SIP/2.0 999 Way Out Of Range")
    return d


@entry("max-forwards-overflow", "Max-Forwards 9999")
def _(rng, i):
    return request(i, method="OPTIONS", drop=("Max-Forwards",), extra=["Max-Forwards: 9999"])


@entry("empty-header-name", "a header line that starts with ':'")
def _(rng, i):
    return request(i, method="OPTIONS", extra=[": no name"])


@entry("cseq-method-mismatch", "OPTIONS request with CSeq method INVITE")
def _(rng, i):
    return request(i, method="OPTIONS", cseq="1 INVITE")


@entry("nul-in-uri", "NUL byte inside the From URI")
def _(rng, i):
    return request(i, method="OPTIONS", drop=("From",),
                   extra=["From: <sip:%s\x00@ims.mnc002.mcc001.3gppnetwork.org>;tag=%s"
                          % (i["calling"], i["tag"])])


def endpoint(s):
    host, _, port = s.rpartition(":")
    ip = ipaddress.ip_address(host)
    if ip.version != 4 or ip not in ipaddress.ip_network("127.0.0.0/8"):
        raise argparse.ArgumentTypeError("%s: only 127.0.0.0/8 addresses are allowed" % s)
    return (host, int(port))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", type=endpoint, default=("127.0.0.79", 5279))
    ap.add_argument("--dst", type=endpoint, default=("127.0.0.10", 5260))
    ap.add_argument("--gap-ms", type=int, default=300)
    ap.add_argument("--seed", type=int, default=38)
    ap.add_argument("--only", default="")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--write", metavar="DIR")
    a = ap.parse_args()
    if a.list:
        for name, what, _ in CATALOGUE:
            print("%-24s %s" % (name, what))
        return 0
    only = set(filter(None, a.only.split(",")))
    unknown = only - {n for n, _, _ in CATALOGUE}
    if unknown:
        ap.error("unknown entries: " + ", ".join(sorted(unknown)))
    gap = min(max(a.gap_ms, 0), 5000) / 1000.0
    rng = random.Random(a.seed)
    sock = None
    if not a.write:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(a.src)
    else:
        os.makedirs(a.write, exist_ok=True)
    sent = 0
    for name, what, fn in CATALOGUE:
        data = fn(rng, ids(rng, a.src, a.dst))  # drawn for every entry: --only keeps the bytes
        if only and name not in only:
            continue
        if a.write:
            with open(os.path.join(a.write, name + ".sip"), "wb") as f:
                f.write(data)
        else:
            if sent:
                time.sleep(gap)
            sock.sendto(data, a.dst)
        print("%s\t%d\t%s" % (name, len(data), what), flush=True)
        sent += 1
    if sock:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
