#!/usr/bin/env python3
"""Opens TCP connections and holds them with CRLF keep-alives (RFC 5626
double-CRLF pings), recording when each is closed by the server.

usage: holdconns.py DST PORT SECS KEEPALIVE GROUP...
  GROUP = SRC:N[@T]  N connections from address SRC, opened T seconds after
          the start (default 0); SRC may be an IPv6 address (no brackets:
          the last ':' separates N).
Prints one JSON object: {"conns": [{"src", "t_open", "closed_at"|null,
"refused"}]}.  refused: closed within 0.5 s of its connect.  Bounded: at
most 2000 connections, SECS at most 120.
"""
import json
import selectors
import socket
import sys
import time


def main():
    dst, port, secs, ka = sys.argv[1], int(sys.argv[2]), min(float(sys.argv[3]), 120.0), float(sys.argv[4])
    groups = []
    for g in sys.argv[5:]:
        at = 0.0
        if "@" in g:
            g, t = g.rsplit("@", 1)
            at = float(t)
        src, n = g.rsplit(":", 1)
        groups.append((src, int(n), at))
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    sel = selectors.DefaultSelector()
    conns = []
    start = time.monotonic()
    pending = sorted(groups, key=lambda x: x[2])
    next_ka = start + ka
    while True:
        now = time.monotonic()
        el = now - start
        if el >= secs:
            break
        while pending and pending[0][2] <= el:
            src, n, at = pending.pop(0)
            for _ in range(n):
                if len(conns) >= 2000:
                    break
                s = socket.socket(fam, socket.SOCK_STREAM)
                rec = {"src": src, "t_open": round(el, 3), "closed_at": None, "refused": False}
                try:
                    s.bind((src, 0))
                    s.settimeout(2)
                    s.connect((dst, port))
                    s.setblocking(False)
                    sel.register(s, selectors.EVENT_READ, rec)
                    rec["sock"] = s
                except OSError as e:
                    rec["closed_at"] = round(el, 3)
                    rec["refused"] = True
                    rec["error"] = str(e)
                    s.close()
                conns.append(rec)
        if now >= next_ka:
            for c in conns:
                if c.get("sock") is not None:
                    try:
                        c["sock"].send(b"\r\n\r\n")
                    except OSError:
                        pass
            next_ka = now + ka
        for key, _ in sel.select(timeout=0.05):
            rec = key.data
            s = key.fileobj
            try:
                d = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if d == b"":
                t = time.monotonic() - start
                rec["closed_at"] = round(t, 3)
                rec["refused"] = t - rec["t_open"] < 0.5
                sel.unregister(s)
                s.close()
                rec["sock"] = None
    for c in conns:
        if c.get("sock") is not None:
            c["sock"].close()
        c.pop("sock", None)
    print(json.dumps({"conns": conns}))


if __name__ == "__main__":
    main()
