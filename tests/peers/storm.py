#!/usr/bin/env python3
"""A malformed-message storm for test_peers_malformed.sh (loopback only).

Builds candidates — tests/data/torture/invalid-*.sip (documentation
addresses replaced by the sender's), and random mutations of plausible
requests: byte flips, truncations, huge headers, too many headers, NULs,
bare LFs, bad Content-Length, garbage — keeps only those sipwall's own
parser rejects (`sipwall parse`, UDP framing; `--stream` for TCP), and sends
them to DST over UDP (one datagram each) and TCP (one connection each),
paced over --seconds.  Every reply is read and classified.

Mutations never touch the bytes of an IP address, so a reply can only go
back to the sender (the addresses in every message are the sender's).

Prints one JSON object: counts sent, replies by status class, the first
few replies that are not 4xx.

usage: storm.py --sipwall BIN --src IP --dst IP:PORT --work DIR
                [--udp N] [--tcp N] [--seconds S] [--seed N] [--torture DIR]"""
import argparse
import ipaddress
import json
import os
import random
import re
import select
import socket
import subprocess
import sys
import threading
import time

CRLF = b"\r\n"
IPV4 = re.compile(rb"\d{1,3}(?:\.\d{1,3}){3}")


def loopback_only(*addrs):
    for a in addrs:
        if not ipaddress.ip_address(a).is_loopback:
            raise SystemExit("storm.py: %s is not a loopback address" % a)


def templates(src, dst, n):
    """Plausible partner requests; n makes Call-ID and branch unique."""
    host, port = dst
    via = "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-st%06d;rport" % (src, n)
    common = [via, "Max-Forwards: 70",
              "From: <sip:+4930100%04d@%s>;tag=st%06d" % (n % 10000, src, n),
              "Call-ID: storm-%06d@%s" % (n, src)]
    sdp = "\r\n".join(["v=0", "o=- %d 1 IN IP4 %s" % (n, src), "s=-", "c=IN IP4 %s" % src,
                       "t=0 0", "m=audio 40000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000", ""])
    invite = ["INVITE sip:+4477009%05d@%s:%d;user=phone SIP/2.0" % (n % 100000, host, port)] + \
        common + ["To: <sip:+4477009%05d@%s>" % (n % 100000, host), "CSeq: 1 INVITE",
                  "Contact: <sip:storm@%s:5060>" % src, "Content-Type: application/sdp",
                  "Content-Length: %d" % len(sdp), "", sdp]
    options = ["OPTIONS sip:%s:%d SIP/2.0" % (host, port)] + common + \
        ["To: <sip:%s>" % host, "CSeq: 7 OPTIONS", "Accept: application/sdp",
         "Content-Length: 0", "", ""]
    register = ["REGISTER sip:ims.test SIP/2.0"] + common + \
        ["To: <sip:+4477009%05d@ims.test>" % (n % 100000), "CSeq: 3 REGISTER",
         "Contact: <sip:storm@%s:5060>;expires=600" % src, "Content-Length: 0", "", ""]
    return [("\r\n".join(m)).encode() for m in (invite, options, register)]


def protected(msg):
    """Byte offsets inside IPv4 literals: never mutated."""
    keep = set()
    for m in IPV4.finditer(msg):
        keep.update(range(m.start(), m.end()))
    return keep


def mutate(rng, msg):
    kind = rng.choice(["flip", "flip", "flip", "truncate", "huge-header", "many-headers",
                       "nul", "bare-lf", "bad-cl", "no-blank-line", "garbage", "dup-cl",
                       "long-ruri", "bad-start"])
    b = bytearray(msg)
    if kind == "flip":
        # control characters (not HTAB/CR/LF) in the header part: invalid
        # wherever they land, so whether a flipped message is malformed does
        # not depend on which bytes a random flip happened to hit
        keep = protected(msg)
        head_end = msg.find(b"\r\n\r\n")
        span = head_end if head_end > 0 else len(b)
        ctl = [c for c in range(32) if c not in (9, 10, 13)] + [127]
        for _ in range(rng.randint(1, 8)):
            for _try in range(20):
                i = rng.randrange(span)
                if i not in keep:
                    b[i] = rng.choice(ctl)
                    break
    elif kind == "truncate":
        head_end = msg.find(b"\r\n\r\n")
        cut = rng.randrange(1, max(2, head_end if head_end > 0 else len(msg)))
        # never leave a partial IP address at the cut
        while cut > 0 and cut - 1 in protected(msg):
            cut -= 1
        b = b[:max(cut, 1)]
    elif kind == "huge-header":
        size = rng.choice([9000, 20000, 60000])
        i = msg.find(CRLF) + 2
        b[i:i] = b"X-Huge: " + b"a" * size + CRLF
    elif kind == "many-headers":
        i = msg.find(CRLF) + 2
        b[i:i] = b"".join(b"X-H%d: v\r\n" % k for k in range(rng.choice([300, 1000, 3000])))
    elif kind == "nul":
        keep = protected(msg)
        pos = [i for i in range(len(b)) if i not in keep]
        b[rng.choice(pos)] = 0
    elif kind == "bare-lf":
        b = bytearray(msg.replace(CRLF, b"\n", rng.randint(1, 5)))
    elif kind == "bad-cl":
        b = bytearray(re.sub(rb"Content-Length: \d+",
                             b"Content-Length: " + rng.choice([b"-1", b"99999", b"abc",
                                                               b"4294967296", b"1e3"]), msg))
    elif kind == "no-blank-line":
        b = bytearray(msg.replace(b"\r\n\r\n", b"\r\n", 1))
        b = b[:msg.find(b"\r\n\r\n")]
    elif kind == "garbage":
        b = bytearray(rng.getrandbits(8) for _ in range(rng.randint(1, 1400)))
    elif kind == "dup-cl":
        i = msg.find(CRLF) + 2
        b[i:i] = b"Content-Length: 5\r\nl: 7\r\n"
    elif kind == "long-ruri":
        sp = msg.find(b" ")
        b[sp + 1:sp + 1] = b"sip:" + b"9" * rng.choice([5000, 70000 - len(msg)]) + b"@"
    elif kind == "bad-start":
        eol = msg.find(CRLF)
        b[0:eol] = rng.choice([b"INVITE", b"INVITE sip:x@y", b"SIP/2.0 999999 Nope",
                               b"\xff\xfe INVITE sip:a@b SIP/2.0", b"INVITE  sip:a@b  SIP/2.0",
                               b"GET / HTTP/1.1"])
    return kind, bytes(b[:65000])


def torture(src, tdir):
    out = []
    if not tdir or not os.path.isdir(tdir):
        return out
    for name in sorted(os.listdir(tdir)):
        if name.startswith("invalid-") and name.endswith(".sip"):
            data = open(os.path.join(tdir, name), "rb").read()
            data = re.sub(rb"192\.0\.2\.\d{1,3}", src.encode(), data)
            out.append(("torture:" + name[:-4], data))
    return out


def classify(sipwall, work, label, items, stream):
    """Keeps the items sipwall's parser rejects."""
    d = os.path.join(work, "storm-" + label)
    os.makedirs(d, exist_ok=True)
    paths = []
    for i, (_, data) in enumerate(items):
        p = os.path.join(d, "%05d.sip" % i)
        with open(p, "wb") as f:
            f.write(data)
        paths.append(p)
    verdict = {}
    for k in range(0, len(paths), 400):
        args = [sipwall, "parse"] + (["--stream"] if stream else []) + paths[k:k + 400]
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
        for line in r.stdout.decode("utf-8", "replace").splitlines():
            f = line.split("\t")
            if len(f) >= 2:
                verdict[f[0]] = f[1]
    keep = [it for it, p in zip(items, paths) if verdict.get(p) == "invalid"]
    return keep, sum(1 for p in paths if verdict.get(p) == "valid")


def status_of(data):
    m = re.match(rb"SIP/2\.0 (\d{3})", data)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipwall", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--udp", type=int, default=2500)
    ap.add_argument("--tcp", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=4475)
    ap.add_argument("--torture")
    a = ap.parse_args()
    host, port = a.dst.rsplit(":", 1)
    dst = (host, int(port))
    loopback_only(a.src, host)
    rng = random.Random(a.seed)

    def build(count, label, stream):
        items = torture(a.src, a.torture) if label == "udp" else []
        n = 0
        while len(items) < count * 1.6 + 50:
            base = rng.choice(templates(a.src, dst, n))
            kind, data = mutate(rng, base)
            items.append((kind, data))
            n += 1
        keep, valid = classify(a.sipwall, a.work, label, items, stream)
        return keep[:count], valid

    udp_items, udp_valid = build(a.udp, "udp", False)
    tcp_items, tcp_valid = build(a.tcp, "tcp", True)

    replies = {"1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "6xx": 0, "not-sip": 0}
    not4xx = []
    lock = threading.Lock()

    def record(data, what):
        st = status_of(data)
        with lock:
            if st is None:
                replies["not-sip"] += 1
            else:
                replies["%dxx" % (st // 100)] += 1
            if (st is None or st // 100 != 4) and len(not4xx) < 5:
                not4xx.append("%s: %r" % (what, data[:160]))

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    udp.bind((a.src, 5060))
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            r, _, _ = select.select([udp], [], [], 0.2)
            if r:
                data, _ = udp.recvfrom(65535)
                record(data, "udp")

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    total = len(udp_items) + len(tcp_items)
    gap = a.seconds / max(1, total)
    kinds = {}
    start = time.monotonic()
    tcp_sent = tcp_refused = 0
    ti = 0
    for i, (kind, data) in enumerate(udp_items):
        kinds[kind.split(":")[0]] = kinds.get(kind.split(":")[0], 0) + 1
        try:
            udp.sendto(data, dst)
        except OSError:
            pass
        # interleave the TCP messages
        if tcp_items and i % max(1, len(udp_items) // len(tcp_items)) == 0 and ti < len(tcp_items):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(0.3)
            try:
                s.bind((a.src, 0))
                s.connect(dst)
                s.sendall(tcp_items[ti][1])
                tcp_sent += 1
                try:
                    data = s.recv(65535)
                    if data:
                        record(data, "tcp")
                except (socket.timeout, OSError):
                    pass
            except OSError:
                tcp_refused += 1
            finally:
                s.close()
            ti += 1
        delay = start + (i + 1) * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    time.sleep(1.0)
    stop.set()
    t.join()
    print(json.dumps({
        "udp_sent": len(udp_items), "tcp_sent": tcp_sent, "tcp_connect_failed": tcp_refused,
        "candidates_valid_skipped": udp_valid + tcp_valid, "kinds": kinds,
        "replies": replies, "not_4xx": not4xx,
        "seconds": round(time.monotonic() - start, 1)}))


if __name__ == "__main__":
    main()
