#!/usr/bin/env python3
"""A login brute force against sipwalld's admin API (docs/admin-api.md),
for the figures in the docs: attempts/s offered, how many were hashed
(401) before and after throttling (429), and sipwalld's CPU meanwhile.

usage: admin_bruteforce.py URL CAFILE PID SECONDS [THREADS] [SOURCE-IP...]

Each thread keeps one TLS connection alive (HTTP/1.1 keep-alive) and
sends wrong bearer tokens as fast as the answers come, from its source
address (round robin over the SOURCE-IPs given; default 127.0.0.1).
Bounded by SECONDS (at most 600) and 10 million attempts."""
import http.client
import ssl
import sys
import threading
import time
from urllib.parse import urlparse

url, cafile, pid, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), min(float(sys.argv[4]), 600)
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
sources = sys.argv[6:] or ["127.0.0.1"]
u = urlparse(url)
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
counts = {}
first429 = [None]
lock = threading.Lock()
stop_at = time.time() + secs


def cpu():
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / 100.0  # utime + stime, USER_HZ 100


def worker(i):
    src = sources[i % len(sources)]
    conn = None
    n = 0
    while time.time() < stop_at and n < 10_000_000 // threads:
        if conn is None:
            conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10,
                                               source_address=(src, 0))
        try:
            conn.request("GET", "/v1/status", headers={"Authorization": f"Bearer guess{i}-{n}"})
            r = conn.getresponse()
            r.read()
            code = r.status
        except Exception:
            code = "error"
            conn.close()
            conn = None
        n += 1
        with lock:
            counts[code] = counts.get(code, 0) + 1
            if code == 429 and first429[0] is None:
                first429[0] = time.time()


t0 = time.time()
c0 = cpu()
ths = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
for t in ths:
    t.start()
for t in ths:
    t.join()
wall = time.time() - t0
c1 = cpu()
total = sum(counts.values())
print(f"{total} attempts in {wall:.1f} s = {total / wall:.0f}/s offered, {threads} connections, "
      f"{len(sources)} source(s); answers {dict(sorted(counts.items(), key=str))}; "
      f"hashed (401) {counts.get(401, 0) / wall:.2f}/s; first 429 after "
      f"{(first429[0] - t0) if first429[0] else float('nan'):.2f} s; "
      f"sipwalld CPU {100 * (c1 - c0) / wall:.1f}% of one core")
