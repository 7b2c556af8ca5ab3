#!/usr/bin/env bash
# Stream framing in sipwalld (the resumable framer in src/daemon/conn.c) and
# the per-side parser limits (limits side=…), on loopback:
#   - R7: more than one loop turn's budget (1024) of pipelined messages in
#     one write are all framed without any further byte from the peer
#     (1400 and 2500 tiny messages, as ../shared/reproducers/02-pipeline-1024.sh
#     sends them; before the fix the rest waited for more bytes), and
#     30000 (330 KB) without the buffer growing to its ceiling;
#   - 3000 pipelined OPTIONS (Max-Forwards: 0) in one write: 3000 answers
#     (483) on the same connection within a bounded time;
#   - a message over the interconnect's limits (size, header count) but
#     under the core's is refused from a partner (connection closed, no
#     answer, conn_closed_framing counted) and answered from the core;
#     over UDP the engine's parse applies the same per-side limits.
set -uo pipefail
. "${SW_SRC:-.}/tests/peers/lib.sh"
peers_init framing 61

peers_write_policy
peers_write_conf "listen tcp $SW_CORE_IF:5060 side=core" \
    "limits side=interconnect max-size=4096 max-headers=40"
peers_start_sipwalld
peers_wait_listen tcp "$SW_IC" 5060 5 || die "no TCP listener on $SW_IC:5060"
peers_wait_listen tcp "$SW_CORE_IF" 5060 5 || die "no TCP listener on $SW_CORE_IF:5060"

python3 - "$SW_IC" "$SW_CORE_IF" "$STRANGER" "$ALPHA" "$CORE" "$SIPWALLD" "$CONF" <<'PY'
import json, socket, subprocess, sys, time
ic, core_if, stranger, alpha, core, sipwalld, conf = sys.argv[1:8]
fails = 0
def ok(what): print("ok:   " + what)
def bad(what):
    global fails
    fails += 1
    print("FAIL: " + what)

def counters():
    out = subprocess.run([sipwalld, "-c", conf, "ctl", "stats"], capture_output=True, timeout=10)
    return json.loads(out.stdout)["counters"]

def wait_counter(name, target, secs):
    """Polls the published counters (once a second) until name >= target."""
    t0 = time.time()
    v = counters()[name]
    while v < target and time.time() - t0 < secs:
        time.sleep(0.25)
        v = counters()[name]
    return v, time.time() - t0

def connect(src, dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0)); s.connect((dst, 5060))
    return s

# ---- R7: a burst beyond one turn's budget, then silence -------------------
tiny = b"A\r\nl:0\r\n\r\n"
for n in (1400, 2500):
    base = counters()["rx_stream"]
    s = connect(stranger, ic)
    s.sendall(tiny * n)          # one write; nothing follows
    v, took = wait_counter("rx_stream", base + n, 8)
    if v == base + n:
        ok("%d pipelined messages in one write all framed without more bytes (%.1f s)" % (n, took))
    else:
        bad("%d pipelined messages: %d framed, the rest stalled" % (n, v - base))
    s.close()

# more than the connection buffer's ceiling (256 KiB) of pipelined messages:
# framed turn after turn; the buffer is not filled up to its ceiling (which
# would close the connection as if one message were too large)
n = 30000
base = counters()
s = connect(stranger, ic)
s.sendall(tiny * n)
v, took = wait_counter("rx_stream", base["rx_stream"] + n, 20)
after = counters()
if v == base["rx_stream"] + n and after["conn_closed_limit"] == base["conn_closed_limit"]:
    ok("%d pipelined messages (%d KB) in one write all framed, connection kept (%.1f s)"
       % (n, n * len(tiny) // 1024, took))
else:
    bad("%d pipelined messages: %d framed, conn_closed_limit +%d" % (n, v - base["rx_stream"],
        after["conn_closed_limit"] - base["conn_closed_limit"]))
s.close()

# ---- 3000 pipelined requests, every answer within a bounded time ----------
def options(i, src, ruri, extra=b""):
    return (b"OPTIONS " + ruri + b" SIP/2.0\r\n"
            b"Via: SIP/2.0/TCP " + src.encode() + b":5060;branch=z9hG4bKpipe%d\r\n"
            b"Max-Forwards: 0\r\nFrom: <sip:+4930100111@alpha.test>;tag=p%d\r\n"
            b"To: <sip:+4477009123@ims.test>\r\nCall-ID: pipe%d@x\r\nCSeq: 1 OPTIONS\r\n" % (i, i, i)
            + extra + b"Content-Length: 0\r\n\r\n")

def answers(s, want, secs):
    """Reads until `want` status lines came, the peer closed, or secs."""
    s.settimeout(0.5)
    buf = b""; closed = False; t0 = time.time()
    while buf.count(b"SIP/2.0 ") < want and time.time() - t0 < secs:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            continue
        except ConnectionResetError:
            closed = True; break
        if not d:
            closed = True; break
        buf += d
    return buf, closed, time.time() - t0

IC_RURI = b"sip:+4477009123@ims.test"
N = 3000
s = connect(alpha, ic)
s.sendall(b"".join(options(i, alpha, IC_RURI) for i in range(N)))
buf, closed, took = answers(s, N, 30)
got = buf.count(b"SIP/2.0 483")
if got == N and not closed:
    ok("%d pipelined OPTIONS in one write: %d answers (483) in %.1f s" % (N, got, took))
else:
    bad("%d pipelined OPTIONS: %d answers in %.1f s (closed: %s)" % (N, got, took, closed))
s.close()

# ---- per-side limits ------------------------------------------------------
pad = b"".join(b"X-Pad-%d: %s\r\n" % (k, b"p" * 1800) for k in range(3))      # ~5.5 KB
many = b"".join(b"X-H-%d: v\r\n" % k for k in range(60))                        # 66 fields
CORE_RURI = ("sip:+4930100111@%s:5090" % alpha).encode()

def one(src, dst, ruri, extra, i):
    s = connect(src, dst)
    s.sendall(options(i, src, ruri, extra))
    buf, closed, _ = answers(s, 1, 4)
    s.close()
    return buf, closed

base = counters()["conn_closed_framing"]
buf, closed = one(alpha, ic, IC_RURI, b"", 10001)
if b"SIP/2.0 483" in buf:
    ok("partner: a message within the interconnect limits is answered")
else:
    bad("partner: a small message got %r (closed %s)" % (buf[:60], closed))
for what, extra, i in (("size", pad, 10002), ("header count", many, 10003)):
    buf, closed = one(alpha, ic, IC_RURI, extra, i)
    if closed and b"SIP/2.0 483" not in buf:
        ok("partner: over the interconnect %s limit: refused, connection closed" % what)
    else:
        bad("partner: over the interconnect %s limit: got %r (closed %s)" % (what, buf[:60], closed))
v, _ = wait_counter("conn_closed_framing", base + 2, 4)
if v == base + 2:
    ok("conn_closed_framing counted both refusals")
else:
    bad("conn_closed_framing %d, want %d" % (v, base + 2))
for what, extra, i in (("size", pad, 10004), ("header count", many, 10005)):
    buf, closed = one(core, core_if, CORE_RURI, extra, i)
    if b"SIP/2.0 483" in buf:
        ok("core: the same %s (within the core's limits) is accepted and answered" % what)
    else:
        bad("core: a message of that %s got %r (closed %s)" % (what, buf[:60], closed))

# the engine's parse takes the side's limits too: the same over UDP
def udp(src, dst, ruri, extra, i):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((src, 0)); u.settimeout(2)
    port = u.getsockname()[1]
    m = options(i, src, ruri, extra).replace(b"SIP/2.0/TCP " + src.encode() + b":5060",
                                             b"SIP/2.0/UDP %s:%d" % (src.encode(), port))
    u.sendto(m, (dst, 5060))
    try:
        d, _ = u.recvfrom(65535)
    except socket.timeout:
        d = b""
    u.close()
    return d
for what, extra, i in (("size", pad, 10006), ("header count", many, 10007)):
    d = udp(alpha, ic, IC_RURI, extra, i)
    if not d.startswith(b"SIP/2.0 483"):
        ok("partner, UDP: over the interconnect %s limit: not processed (%r)" % (what, d[:20]))
    else:
        bad("partner, UDP: over the interconnect %s limit: answered as a good request" % what)
    d = udp(core, core_if, CORE_RURI, extra, i + 10)
    if d.startswith(b"SIP/2.0 483"):
        ok("core, UDP: the same %s is accepted and answered" % what)
    else:
        bad("core, UDP: a message of that %s got %r" % (what, d[:40]))
sys.exit(1 if fails else 0)
PY
rc=$?
check "stream framing and per-side limits (the python checks above)" [ $rc = 0 ]
peers_sipwalld_alive && ok "sipwalld still answers" || bad "sipwalld not alive"
peers_done
