#!/usr/bin/env python3
"""A request flood from many loopback sources for test_peers_flood.sh.

Sends well-formed SIP requests (INVITE, OPTIONS, REGISTER, varying users) to
DST over UDP from SOURCES addresses 127.NET.(2+i/250).(1+i%250), one socket
bound to each, plus HEAVY heavy hitters (127.NET.1.1..) that send a quarter
of the traffic between them; at most COUNT datagrams and at most SECONDS,
paced at RATE per second.  Replies are drained and counted.  Prints one
JSON object: sent, seconds, replies.

usage: flood.py --net NET --dst IP:PORT [--sources 1000] [--heavy 8]
                [--count 150000] [--rate 10000] [--seconds 15]"""
import argparse
import ipaddress
import json
import random
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", type=int, required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--heavy", type=int, default=8)
    ap.add_argument("--count", type=int, default=150000)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=15.0)
    a = ap.parse_args()
    host, port = a.dst.rsplit(":", 1)
    dst = (host, int(port))
    if not ipaddress.ip_address(host).is_loopback or not 0 < a.net < 256:
        raise SystemExit("flood.py: loopback only")
    srcs = ["127.%d.%d.%d" % (a.net, 2 + i // 250, 1 + i % 250) for i in range(a.sources)]
    heavy = ["127.%d.1.%d" % (a.net, 1 + i) for i in range(a.heavy)]
    socks = {}
    for ip in srcs + heavy:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, 0))
        s.setblocking(False)
        socks[ip] = s
    rng = random.Random(7)
    methods = ["INVITE", "OPTIONS", "REGISTER"]
    sent = replies = 0
    start = time.monotonic()
    deadline = start + a.seconds
    batch = 100
    while sent < a.count and time.monotonic() < deadline:
        for _ in range(batch):
            ip = rng.choice(heavy) if heavy and rng.random() < 0.25 else rng.choice(srcs)
            s = socks[ip]
            m = methods[sent % 3]
            user = "+4477009%05d" % rng.randrange(100000)
            msg = ("%s sip:%s@%s:%d SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-fl%d;rport\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:+4930999%05d@%s>;tag=fl%d\r\n"
                   "To: <sip:%s@%s>\r\n"
                   "Call-ID: flood-%d@%s\r\n"
                   "CSeq: 1 %s\r\n"
                   "Contact: <sip:flood@%s:%d>\r\n"
                   "Content-Length: 0\r\n\r\n") % (
                       m, user, host, dst[1], ip, s.getsockname()[1], sent,
                       sent % 100000, ip, sent, user, host, sent, ip, m, ip, s.getsockname()[1])
            try:
                s.sendto(msg.encode(), dst)
                sent += 1
            except BlockingIOError:
                pass
            except OSError:
                pass
        target = start + sent / a.rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    time.sleep(0.5)
    for s in socks.values():
        while True:
            try:
                s.recvfrom(65535)
                replies += 1
            except (BlockingIOError, OSError):
                break
    print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - start, 1),
                      "sources": len(socks), "replies": replies}))


if __name__ == "__main__":
    main()
