#!/usr/bin/env bash
# Defect R1 at run time: with sipwalld's file descriptors exhausted
# (RLIMIT_NOFILE lowered with prlimit while it runs), accept fails with
# EMFILE and the pending connections stay in the backlog.  sipwalld must not
# spin on the readable listener: its CPU stays low (< 30 % of one core over
# a 3 s window; a busy loop shows 100 % per worker), it counts the backoff,
# logs it rate-limited, and accepts again once descriptors are free.
set -u
SW_SRC=${SW_SRC:-$(pwd)}
. "$SW_SRC/tests/peers/lib.sh"
peers_init emfile 131
command -v prlimit >/dev/null 2>&1 || die "prlimit not installed (util-linux)"

peers_write_policy
peers_write_conf "log-level info"
peers_start_sipwalld
peers_wait_listen tcp "$SW_IC" 5060 5 || die "no TCP listener"

ticks() { awk '{print $14 + $15}' "/proc/$SIPWALLD_PID/stat"; }
hz=$(getconf CLK_TCK)
stat_of() { peers_stats | python3 -c "import json,sys
d=json.load(sys.stdin)
def f(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == sys.argv[1]: return v
            r = f(v)
            if r is not None: return r
    return None
r=f(d); print(-1 if r is None else r)" "$1"; }

# Connections held open by strangers (bounded: 40 sockets, 12 s).
cat >"$WORK/hold.py" <<'PY'
import socket, sys, time
dst, port, base, n, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
socks = []
for i in range(n):
    s = socket.socket()
    s.bind(("%s.%d" % (base, 1 + i % 8), 0))
    s.settimeout(2)
    try:
        s.connect((dst, port))
        socks.append(s)
    except OSError:
        s.close()
print("held", len(socks), flush=True)
time.sleep(secs)
for s in socks:
    s.close()
PY

nfd=$(ls "/proc/$SIPWALLD_PID/fd" | wc -l)
lim=$((nfd + 6))
prlimit --pid "$SIPWALLD_PID" --nofile=$lim: || die "prlimit failed"
peers_log "sipwalld has $nfd descriptors open; RLIMIT_NOFILE now $lim"

peers_bg hold python3 "$WORK/hold.py" "$SW_IC" 5060 "$STRANGER_NET" 40 8
HOLD=$PEERS_PID
sleep 2
t0=$(ticks)
sleep 3
t1=$(ticks)
pct=$(( (t1 - t0) * 100 / (3 * hz) ))
peers_log "sipwalld CPU with the descriptors exhausted: $((t1 - t0)) ticks in 3 s ($pct % of one core)"
check "no busy loop on EMFILE: sipwalld used $pct % of one core (< 30 %)" [ "$pct" -lt 30 ]
check "sipwalld is alive with its descriptors exhausted" kill -0 "$SIPWALLD_PID"

# Descriptors come back: the holder leaves, the limit is raised again.
for _ in $(seq 100); do peers_is_child "$HOLD" || break; sleep 0.1; done
prlimit --pid "$SIPWALLD_PID" --nofile=4096: || die "prlimit failed"
sleep 1.5
before=$(stat_of conn_accepted)
cat >"$WORK/one.py" <<'PY'
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.settimeout(3)
s.connect((sys.argv[2], 5060))
s.sendall(b"\r\n\r\n")
try:
    d = s.recv(100)
    print("closed" if d == b"" else "data")
except socket.timeout:
    print("open")
PY
res=$(timeout 10 python3 "$WORK/one.py" "$ALPHA" "$SW_IC")
after=$(stat_of conn_accepted)
check "TCP service resumes once descriptors are free (a new connection stays open: $res)" [ "$res" = open ]
check "the new connection was accepted (conn_accepted $before -> $after)" [ "$after" -gt "$before" ]
backoff=$(stat_of accept_backoff)
refused=$(stat_of conn_refused_fd)
check "the backoff is counted (accept_backoff=$backoff, conn_refused_fd=$refused)" [ "$backoff" -gt 0 ] && [ "$refused" -gt 0 ]
tsup=$(stat_of tls_log_suppressed)
check "accept's log limit is not counted as TLS lines left out (tls_log_suppressed=$tsup)" [ "$tsup" -eq 0 ]
lines=$(grep -c "accept: Too many open files" "$WORK/sipwalld.log")
check "the exhaustion is logged, rate-limited ($lines lines, 1..6)" [ "$lines" -ge 1 ] && [ "$lines" -le 6 ]
peers_done
