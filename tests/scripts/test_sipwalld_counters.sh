#!/usr/bin/env bash
# The forwarded counters count what was actually sent (reproducers README,
# "Also seen"): a request whose next hop cannot be reached is not
# "forwarded" but dropped, and what the next hop receives equals the
# counter.  Three runs of sipwalld, 10 OPTIONS from a partner each:
#   A. forward tcp: to a port nobody listens on: requests_forwarded 0,
#      dropped_send 10 (before: requests_forwarded 10)
#   B. forward tcp: to a listening sink: the sink's count = the counter = 10
#   C. forward udp: to a sink: the same over UDP
# Two workers, so the TCP sends also go through the inter-worker inbox.
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init counters 94
peers_write_policy

N=10
counter() { # NAME: a counter from ctl stats
    peers_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}
send_options() { # N requests from alpha, 20 ms apart
    python3 - "$SW_IC" "$ALPHA" "$1" <<'PY'
import socket, sys, time
ic, alpha, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((alpha, 0))
port = u.getsockname()[1]
for i in range(n):
    b = "cnt%d-%d" % (i, time.time_ns())
    m = ("OPTIONS sip:+447700900123@ims.test SIP/2.0\r\n"
         "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
         "From: <sip:+4930100555@alpha.test>;tag=a%d\r\nTo: <sip:+447700900123@ims.test>\r\n"
         "Call-ID: %s@%s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (alpha, port, b, i, b, alpha))
    u.sendto(m.encode(), (ic, 5060))
    time.sleep(0.02)
PY
}
# a sink on CORE:PORT (tcp|udp) counting the OPTIONS it receives into FILE
cat >"$WORK/sink.py" <<'PY'
import select, socket, sys, time
host, port, out, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
n = 0
def save():
    with open(out + ".tmp", "w") as f: f.write("%d\n" % n)
    __import__("os").replace(out + ".tmp", out)
save()
end = time.time() + 60
if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((host, port)); s.settimeout(0.2)
    while time.time() < end:
        try: d, _ = s.recvfrom(65535)
        except socket.timeout: continue
        n += d.count(b"OPTIONS sip:"); save()
else:
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((host, port)); l.listen(16)
    conns = [l]
    while time.time() < end:
        r, _, _ = select.select(conns, [], [], 0.2)
        for c in r:
            if c is l: conns.append(l.accept()[0]); continue
            d = c.recv(65536)
            if not d: conns.remove(c); c.close(); continue
            n += d.count(b"OPTIONS sip:"); save()
PY
start_sink() { # PROTO PORT FILE
    peers_bg "sink-$1" python3 "$WORK/sink.py" "$CORE" "$2" "$3" "$1"
    SINK=$PEERS_PID
}
run() { # FORWARD: start sipwalld forwarding there
    PEERS_WORKERS=2 peers_write_conf "listen tcp $SW_CORE_IF:5060 side=core"
    sed -i "s#^forward .*#forward $1#" "$CONF"
    peers_start_sipwalld
}
wait_counter() { # NAME N: until ctl stats shows it (counters are published once a second)
    for _ in $(seq 30); do [ "$(counter "$1")" -ge "$2" ] && return 0; sleep 0.1; done
    return 1
}
wait_count() { # FILE N: until the sink saw N (bounded)
    for _ in $(seq 50); do [ "$(cat "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.1; done
    return 1
}

# ---- A. nobody listens ---------------------------------------------------------------------
run "tcp:$CORE:5999"
send_options $N
wait_counter dropped_send $N
sleep 1.2 # one more publication: a late count would show
fw=$(counter requests_forwarded); ds=$(counter dropped_send)
check "A: a request to an unreachable hop is not counted forwarded (requests_forwarded=$fw)" [ "$fw" = 0 ]
check "A: it is counted dropped_send ($ds of $N)" [ "$ds" = $N ]
peers_stop_sipwalld_checked

# ---- B. a TCP sink -------------------------------------------------------------------------------
start_sink tcp 5070 "$WORK/tcp.count"
peers_wait_listen tcp "$CORE" 5070 5 || die "tcp sink"
run "tcp:$CORE:5070"
send_options $N
wait_count "$WORK/tcp.count" $N
wait_counter requests_forwarded $N
sleep 1.2
got=$(cat "$WORK/tcp.count"); fw=$(counter requests_forwarded)
check "B: TCP: the hop received $got, requests_forwarded=$fw, both $N" [ "$got" = $N -a "$fw" = $N ]
peers_stop_sipwalld_checked
peers_stop "$SINK"

# ---- C. a UDP sink ---------------------------------------------------------------------------------
start_sink udp 5071 "$WORK/udp.count"
peers_wait_listen udp "$CORE" 5071 5 || die "udp sink"
run "udp:$CORE:5071"
send_options $N
wait_count "$WORK/udp.count" $N
wait_counter requests_forwarded $N
sleep 1.2
got=$(cat "$WORK/udp.count"); fw=$(counter requests_forwarded)
check "C: UDP: the hop received $got, requests_forwarded=$fw, both $N" [ "$got" = $N -a "$fw" = $N ]
peers_done
