#!/usr/bin/env bash
# sipwalld operations on loopback, with our own small SIP peers (python):
#   --check-config (good config, line-numbered errors), the secret created
#   0600 at first start, nothing listening that is not configured,
#   forwarding both ways with our Via added and removed, cat-0 drops,
#   scanner detection + block, `ctl stats`, reload by ctl and SIGHUP
#   (a broken policy leaves the running one in force and traffic flowing),
#   privilege drop, SIGTERM; passive mode with live capture on lo and HEP
#   input over UDP and TCP.
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_SRC=${SW_SRC:-.}
SW_BUILD=${SW_BUILD:-build}
T=$(mktemp -d "$SW_BUILD/test_sipwalld.XXXXXX")
T=$(cd "$T" && pwd)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do echo "--- $f" >&2; tail -30 "$f" >&2; done; exit 1; }
ok() { echo "ok: $*"; }

PORT=$((20000 + RANDOM % 20000))
CORE_PORT=$((PORT + 1))
HEP_PORT=$((PORT + 2))
CAP_PORT=$((PORT + 3))
chmod 755 "$T"

cat > "$T/partners.policy" <<EOF
partner core {
    role core
    address 127.0.0.3/32
}
partner alpha {
    role interconnect
    address 127.0.0.10/32, ::1/128
    ranges +4930
}
EOF
cat > "$T/inline.conf" <<EOF
mode inline
workers 2
policy builtin:default
policy $T/partners.policy
events $T/events.jsonl
log $T/sipwalld.log
log-level debug
admin $T/admin.sock
secret $T/secret
listen udp 127.0.0.1:$PORT side=interconnect
listen tcp 127.0.0.1:$PORT side=interconnect
listen udp [::1]:$PORT side=interconnect
listen udp 127.0.0.2:$PORT side=core
forward udp:127.0.0.3:$CORE_PORT
EOF

# ---- check-config ----------------------------------------------------------
out=$("$SIPWALLD" -c "$T/inline.conf" --check-config) || fail "check-config rejected a good config"
echo "$out" | grep -q "ok" || fail "check-config said: $out"
printf 'mode inline\nworkers 2\nlisten udp 127.0.0.1:99999 side=interconnect\n' > "$T/bad.conf"
if "$SIPWALLD" -c "$T/bad.conf" --check-config 2> "$T/bad.err"; then fail "bad port accepted"; fi
grep -q "bad.conf:3:" "$T/bad.err" || fail "no line-numbered error: $(cat "$T/bad.err")"
ok "check-config: good config passes, bad port reported at bad.conf:3"

# ---- start -------------------------------------------------------------------
start() { # config
    "$SIPWALLD" -c "$1" 2>> "$T/stderr.log" &
    PIDS+=($!)
    DPID=$!
    for _ in $(seq 1 100); do
        [ -S "$T/admin.sock" ] && "$SIPWALLD" -c "$1" ctl stats > /dev/null 2>&1 && return 0
        kill -0 "$DPID" 2>/dev/null || fail "sipwalld died at start"
        sleep 0.1
    done
    fail "sipwalld did not come up"
}
rm -f "$T/admin.sock"
start "$T/inline.conf"
[ -f "$T/secret" ] || fail "secret not created"
[ "$(stat -c %a "$T/secret")" = "600" ] || fail "secret mode $(stat -c %a "$T/secret")"
[ "$(stat -c %s "$T/secret")" -ge 64 ] || fail "secret too short"
ok "secret created at first start, mode 0600"

# nothing listening that is not configured: the daemon's sockets are exactly
# the configured addresses (2 workers each) and the admin socket
socks=$(ss -Hlnup -t -u -p 2>/dev/null | grep "pid=$DPID," | awk '{print $1, $5}' | sort | uniq -c)
echo "$socks" | grep -vq "127.0.0.1:$PORT\|127.0.0.2:$PORT\|\[::1\]:$PORT" && fail "unexpected listener: $socks"
[ "$(echo "$socks" | wc -l)" = 4 ] || fail "listeners: $socks"
ok "listening only where configured: $(echo "$socks" | tr '\n' ';')"

# ---- a request through and its answer back -----------------------------------
python3 - "$PORT" "$CORE_PORT" <<'PY' || fail "forwarding"
import socket, sys, time
port, core_port = int(sys.argv[1]), int(sys.argv[2])
core = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); core.bind(("127.0.0.3", core_port)); core.settimeout(3)
uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uac.bind(("127.0.0.10", 0)); uac.settimeout(3)
def options(branch, ua="sipwall-test/1.0"):
    return ("OPTIONS sip:+4930123@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.10:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:+4930555@alpha.example>;tag=a1\r\n"
            "To: <sip:+4930123@op.example>\r\nCall-ID: %s@127.0.0.10\r\nCSeq: 1 OPTIONS\r\n"
            "User-Agent: %s\r\nContent-Length: 0\r\n\r\n" % (port, uac.getsockname()[1], branch, branch, ua)).encode()
uac.sendto(options("t1"), ("127.0.0.1", port))
data, src = core.recvfrom(65535)
msg = data.decode()
vias = [l for l in msg.split("\r\n") if l.lower().startswith("via:")]
assert len(vias) == 2, msg
assert "127.0.0.2:%d" % port in vias[0], vias
assert "Max-Forwards: 69" in msg, msg
assert src[0] == "127.0.0.2", src
# the core answers along the Via path
lines = msg.split("\r\n")
resp = ["SIP/2.0 200 OK"] + [l for l in lines if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
resp = "\r\n".join(resp).replace("To: <sip:+4930123@op.example>", "To: <sip:+4930123@op.example>;tag=c1") + "\r\nContent-Length: 0\r\n\r\n"
core.sendto(resp.encode(), ("127.0.0.2", port))
data, src = uac.recvfrom(65535)
r = data.decode()
assert r.startswith("SIP/2.0 200"), r
rv = [l for l in r.split("\r\n") if l.lower().startswith("via:")]
assert len(rv) == 1 and "127.0.0.10" in rv[0], rv
assert src == ("127.0.0.1", port), src
# unknown source: dropped (cat 0), the core sees nothing
stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); stranger.bind(("127.0.0.99", 0))
stranger.sendto(options("t2"), ("127.0.0.1", port))
# a scanner signature from the partner's address: rejected/dropped, never forwarded
uac.sendto(options("t3", "friendly-scanner"), ("127.0.0.1", port))
core.settimeout(1.0)
try:
    d, _ = core.recvfrom(65535)
    raise SystemExit("the core received a message it should not have: " + d.decode()[:200])
except socket.timeout:
    pass
print("forwarding ok")
PY
ok "request forwarded with our Via and Max-Forwards 69, response returned along the Via path; unknown source and scanner not forwarded"

stats=$("$SIPWALLD" -c "$T/inline.conf" ctl stats)
python3 - "$stats" <<'PY' || fail "stats: $stats"
import json, sys
s = json.loads(sys.argv[1])
c = s["counters"]
assert c["requests_forwarded"] >= 1 and c["responses_forwarded"] >= 1, c
assert s["engine"]["messages"] >= 4, s["engine"]
assert s["policy_generation"] == 1, s
PY
ok "ctl stats: $(echo "$stats" | head -c 200)…"

# ---- reload ---------------------------------------------------------------------
r=$("$SIPWALLD" -c "$T/inline.conf" ctl reload) || fail "ctl reload: $r"
echo "$r" | grep -q "^ok generation 2" || fail "reload said: $r"
kill -HUP "$DPID"
for _ in $(seq 1 50); do
    "$SIPWALLD" -c "$T/inline.conf" ctl stats | grep -q '"policy_generation_in_force":3' && break
    sleep 0.1
done
"$SIPWALLD" -c "$T/inline.conf" ctl stats | grep -q '"policy_generation_in_force":3' || fail "SIGHUP did not reload"
cp "$T/partners.policy" "$T/partners.good"
echo "partner broken {" >> "$T/partners.policy"
if r=$("$SIPWALLD" -c "$T/inline.conf" ctl reload); then fail "a broken policy was accepted: $r"; fi
echo "$r" | grep -q "running policy stays" || fail "reload error said: $r"
"$SIPWALLD" -c "$T/inline.conf" ctl stats | grep -q '"policy_generation_in_force":3' || fail "generation moved on a failed reload"
grep -q "partners.policy:[0-9]*" "$T/sipwalld.log" || fail "the policy error has no file:line in the log"
cp "$T/partners.good" "$T/partners.policy"
ok "reload: ctl (gen 2), SIGHUP (gen 3), broken policy refused with file:line and gen 3 kept"

# traffic still flows after the reloads
python3 - "$PORT" "$CORE_PORT" <<'PY' || fail "forwarding after reload"
import socket, sys
port, core_port = int(sys.argv[1]), int(sys.argv[2])
core = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); core.bind(("127.0.0.3", core_port)); core.settimeout(3)
uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uac.bind(("127.0.0.10", 0))
uac.sendto(("OPTIONS sip:+4930123@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bKr1\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:+4930555@a.example>;tag=1\r\nTo: <sip:+4930123@b.example>\r\n"
            "Call-ID: r1@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
d, _ = core.recvfrom(65535)
assert b"OPTIONS" in d
PY
ok "forwarding after reloads"

# IPv6 in, IPv4 to the core, the answer back over IPv6 from the same socket
python3 - "$PORT" "$CORE_PORT" <<'PY' || fail "IPv6"
import socket, sys
port, core_port = int(sys.argv[1]), int(sys.argv[2])
core = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); core.bind(("127.0.0.3", core_port)); core.settimeout(3)
uac = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); uac.bind(("::1", 0)); uac.settimeout(3)
uac.sendto(("OPTIONS sip:+4930123@[::1] SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:%d;branch=z9hG4bKv6a;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:+4930555@a.example>;tag=1\r\nTo: <sip:+4930123@b.example>\r\n"
            "Call-ID: v6@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % uac.getsockname()[1]).encode(), ("::1", port))
d, _ = core.recvfrom(65535)
lines = d.decode().split("\r\n")
resp = ["SIP/2.0 200 OK"] + [l for l in lines if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
core.sendto(("\r\n".join(resp) + "\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.2", port))
r, src = uac.recvfrom(65535)
assert r.startswith(b"SIP/2.0 200") and src[0] == "::1" and src[1] == port, (r[:60], src)
PY
ok "IPv6 partner -> IPv4 core and back"

# reloads under load: no message lost while the policy is swapped
python3 - "$PORT" "$CORE_PORT" "$SIPWALLD" "$T/inline.conf" <<'PY' || fail "reload under load"
import socket, subprocess, sys, threading, time
port, core_port, sipwalld, conf = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
core = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); core.bind(("127.0.0.3", core_port)); core.settimeout(3)
core.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uac.bind(("127.0.0.10", 0))
N = 3000
got = set()
def receive():
    while len(got) < N:
        try:
            d, _ = core.recvfrom(65535)
        except socket.timeout:
            return
        i = d.find(b"Call-ID: L")
        got.add(d[i + 10:d.index(b"@", i)])
t = threading.Thread(target=receive); t.start()
reloads = 0
for i in range(N):
    uac.sendto(("OPTIONS sip:+4930%05d@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bKL%d\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:+4930555@a.example>;tag=%d\r\nTo: <sip:+4930%05d@b.example>\r\n"
                "Call-ID: L%d@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (i, i, i, i, i)).encode(), ("127.0.0.1", port))
    if i % 750 == 375:
        out = subprocess.run([sipwalld, "-c", conf, "ctl", "reload"], capture_output=True, text=True)
        assert out.stdout.startswith("ok"), out.stdout + out.stderr
        reloads += 1
    time.sleep(0.0005)
t.join()
assert len(got) == N, "lost %d of %d messages across %d reloads" % (N - len(got), N, reloads)
print("%d messages, %d reloads, none lost" % (N, reloads))
PY
ok "3000 requests across 4 reloads: every one forwarded"

kill -TERM "$DPID"
wait "$DPID" || fail "sipwalld exited non-zero on SIGTERM"
grep -q '"rule":"cat1.scanner-signature"' "$T/events.jsonl" || fail "no scanner event: $(head -c 600 "$T/events.jsonl")"
grep -q '"event_type":"zone_admission"\|"rule":"cat0' "$T/events.jsonl" || fail "no cat-0 event"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/events.jsonl" || fail "events are not JSON lines"
ok "SIGTERM: clean exit; events: $(wc -l < "$T/events.jsonl") JSON lines incl. scanner and cat 0"

# ---- privilege drop -------------------------------------------------------------
if id nobody > /dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    sed -e "s|^admin .*|admin $T/admin2.sock|" -e "s|^events .*|events $T/events2.jsonl|" "$T/inline.conf" > "$T/user.conf"
    echo "user nobody" >> "$T/user.conf"
    rm -f "$T/admin2.sock"
    "$SIPWALLD" -c "$T/user.conf" 2>> "$T/stderr.log" &
    UPID=$!
    PIDS+=($UPID)
    for _ in $(seq 1 50); do [ -S "$T/admin2.sock" ] && break; sleep 0.1; done
    sleep 0.3
    uid=$(awk '/^Uid:/ {print $2, $3, $4}' "/proc/$UPID/status")
    [ "$uid" = "$(id -u nobody) $(id -u nobody) $(id -u nobody)" ] || fail "uids after drop: $uid"
    kill -TERM "$UPID"; wait "$UPID" || true
    ok "privileges dropped to nobody (uid $(id -u nobody))"
fi

# ---- stream defences: per-IP limit, slowloris, idle, buffer ceiling, slow reader --
cat > "$T/limits.conf" <<EOF
mode inline
workers 2
policy builtin:default
policy $T/partners.policy
log $T/limits.log
admin $T/admin4.sock
secret $T/secret
listen tcp 127.0.0.1:$PORT side=interconnect
listen udp 127.0.0.2:$PORT side=core
forward udp:127.0.0.3:$CORE_PORT
limits max-connections-per-ip=4 message-timeout=2 idle-timeout=3 max-conn-buffer=65536 max-send-queue=65536 socket-buffer=65536
EOF
rm -f "$T/admin4.sock"
"$SIPWALLD" -c "$T/limits.conf" 2>> "$T/stderr.log" &
LPID=$!
PIDS+=($LPID)
for _ in $(seq 1 100); do [ -S "$T/admin4.sock" ] && break; sleep 0.1; done
python3 - "$PORT" <<'PY' || fail "stream defences"
import socket, sys, time
port = int(sys.argv[1])
def conn(src="127.0.0.10", rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((src, 0)); s.connect(("127.0.0.1", port)); s.settimeout(6)
    return s
def closed(s, within):
    s.settimeout(within)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
# per-IP limit: 4 stay, the rest are closed at once
cs = [conn("127.0.0.20") for _ in range(7)]
time.sleep(0.5)
refused = sum(1 for c in cs if closed(c, 0.3))
assert refused == 3, "per-IP limit: %d of 7 closed" % refused
for c in cs: c.close()
# slowloris: a message that never completes is cut at message-timeout (2 s)
s = conn()
s.sendall(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.10;branch=z9hG4bKs\r\n")
t0 = time.time()
for _ in range(3):
    time.sleep(0.5)
    try: s.sendall(b"X-Slow: 1\r\n")
    except OSError: break
assert closed(s, 5), "slowloris connection not closed"
assert time.time() - t0 < 5.5
# idle: nothing sent, closed after idle-timeout (3 s)
s = conn("127.0.0.21")
assert closed(s, 6), "idle connection not closed"
# buffer ceiling: a header block larger than max-conn-buffer closes the connection
s = conn("127.0.0.22")
try:
    s.sendall(b"OPTIONS sip:a@b SIP/2.0\r\nX-Big: " + b"a" * 100000)
except OSError:
    pass
assert closed(s, 3), "oversized message not refused"
# slow reader: requests answered 483 by sipwalld while the client never reads
s = conn("127.0.0.10", rcvbuf=4096)
req = (b"OPTIONS sip:+4930123@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.10:5060;branch=z9hG4bKq%d\r\n"
       b"Max-Forwards: 0\r\nFrom: <sip:+4930555@a.example>;tag=1\r\nTo: <sip:+4930123@b.example>\r\n"
       b"Call-ID: q%d@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
cut = False
s.settimeout(0.5)
for i in range(20000):
    try:
        s.sendall(req % (i, i))
    except (OSError, socket.timeout):
        cut = True
        break
assert cut, "a client that never reads was not cut off"
print("per-IP limit, slowloris, idle, buffer ceiling, slow reader: ok")
PY
sleep 1.3 # counters are published once a second
st=$("$SIPWALLD" -c "$T/limits.conf" ctl stats)
python3 - "$st" <<'PY' || fail "defence counters: $st"
import json, sys
c = json.loads(sys.argv[1])["counters"]
assert c["conn_refused"] >= 3 and c["conn_closed_slow"] >= 2 and c["conn_closed_idle"] >= 1 and c["conn_closed_limit"] + c["conn_closed_framing"] >= 1, c
PY
kill -TERM "$LPID"; wait "$LPID" || fail "limits sipwalld exit status"
ok "stream defences: per-IP limit (3 of 7 refused), slowloris cut at 2 s, idle at 3 s, 100 kB header refused, non-reading client cut off"

# ---- passive: live capture on lo and HEP over UDP and TCP -----------------------
cat > "$T/passive.conf" <<EOF
mode passive
workers 2
policy builtin:default
policy $T/partners.policy
events $T/passive.jsonl
log $T/passive.log
admin $T/admin3.sock
capture lo filter="udp port $CAP_PORT"
hep udp 127.0.0.1:$HEP_PORT auth-key=s3cret-hep-key-0426
hep tcp 127.0.0.1:$HEP_PORT auth-key=s3cret-hep-key-0426
EOF
rm -f "$T/admin3.sock"
"$SIPWALLD" -c "$T/passive.conf" 2>> "$T/stderr.log" &
PPID2=$!
PIDS+=($PPID2)
for _ in $(seq 1 100); do [ -S "$T/admin3.sock" ] && break; sleep 0.1; done
[ -S "$T/admin3.sock" ] || fail "passive sipwalld did not come up"
python3 - "$CAP_PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.77", 0))
for i in range(3):
    s.sendto(("OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.77:5060;branch=z9hG4bKcap%d\r\n"
              "Max-Forwards: 70\r\nFrom: <sip:100@127.0.0.77>;tag=%d\r\nTo: <sip:100@127.0.0.1>\r\n"
              "Call-ID: cap%d@x\r\nCSeq: 1 OPTIONS\r\nUser-Agent: sipvicious\r\nContent-Length: 0\r\n\r\n" % (i, i, i)).encode(),
             ("127.0.0.1", int(sys.argv[1])))
PY
# HEP: our own capture of a scanner, sent by a capture agent (tests/tools/hep-send)
python3 "$SW_SRC/tests/tools/hep-send" --auth-key s3cret-hep-key-0426 "$SW_SRC/tests/data/labelled/b02_scan_udp.pcap" "127.0.0.1:$HEP_PORT" > /dev/null
python3 "$SW_SRC/tests/tools/hep-send" --tcp --auth-key s3cret-hep-key-0426 "$SW_SRC/tests/data/labelled/b02_scan_udp.pcap" "127.0.0.1:$HEP_PORT" > /dev/null
python3 "$SW_SRC/tests/tools/hep-send" --auth-key wrong "$SW_SRC/tests/data/labelled/b02_scan_udp.pcap" "127.0.0.1:$HEP_PORT" > /dev/null
sleep 2.2
st=$("$SIPWALLD" -c "$T/passive.conf" ctl stats)
kill -TERM "$PPID2"; wait "$PPID2" || fail "passive sipwalld exit status"
grep -q '"src":"127.0.0.77:' "$T/passive.jsonl" || fail "no event from the live capture: $(head -c 400 "$T/passive.jsonl")"
python3 - "$st" "$T/passive.jsonl" <<'PY' || fail "passive figures: $st"
import json, sys
s = json.loads(sys.argv[1])
c = s["counters"]
assert c["hep_packets"] > 0 and c["sensor_messages"] > 0, c
assert c["hep_auth_failed"] >= 100, c  # the run with the wrong key
assert c["requests_forwarded"] == 0 and c["tx_udp"] == 0, c
ev = [json.loads(l) for l in open(sys.argv[2])]
heps = [e for e in ev if e.get("rule") == "cat1.scanner-signature" and not e.get("src", "").startswith("127.0.0.77")]
assert heps, "no scanner event from the HEP input"
PY
ok "passive: live capture on lo and HEP (UDP, TCP, wrong key refused) give events, nothing sent"
echo "all sipwalld operations checks passed"
