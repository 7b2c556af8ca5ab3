#!/usr/bin/env bash
# sipwalld's metrics and health (docs/metrics.md) with real peers: SIPp
# calls through a sipwalld with `metrics listen`, scraped over HTTP and on
# the admin socket.
#   1. /health 200 with its JSON; /metrics has the 0.0.4 content type,
#      passes `promtool check metrics` (stdin) and our own checks (every
#      required family, no duplicate series, +Inf bucket = _count).
#   2. after SIPp calls from a partner, junk and an svmap scan from strangers the values
#      moved: messages in on the interconnect listener, out on the core
#      one, verdicts for partner alpha and for the unknown zone, the
#      latency histogram's count, the workers' CPU, events, an active block of
#      kind source and blocks set (the scanner), TLS handshakes ok (openssl
#      s_client) and failed (plain text to the TLS port).
#   3. `ctl reload`: no counter series lower than before, none gone.
#   4. `ctl metrics` passes promtool too; the dashboard
#      (etc/grafana/sipwall.json) uses only names the scrape has.
#   5. a worker stuck for 8 s (test hook) turns /health 503 within its
#      5 s limit, and 200 again when it recovers.
#   6. other methods and paths are refused; an oversized request is
#      refused and the listener still answers; a non-loopback `metrics
#      listen` is refused by --check-config unless allow-remote=yes; 40 idle
#      clients get 16 connections, no more, and the listener recovers.
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init metrics 174
command -v promtool >/dev/null 2>&1 || die "promtool not installed (scripts/install-deps: prometheus)"
command -v curl >/dev/null 2>&1 || die "curl not installed"
CHECK="python3 $SW_SRC/tests/tools/metrics_check.py"
S=$PEERS_SCEN
MPORT=9464
URL=http://$SW_IC:$MPORT

REQUIRED=(sipwall_messages_total sipwall_verdicts_total sipwall_detector_trips_total
    sipwall_blocks_active sipwall_event_queue_depth sipwall_events_dropped_total sipwall_drops_total
    sipwall_event_store_lag_events sipwall_exporter_up sipwall_exporter_lag_events
    sipwall_tls_handshakes_total sipwall_worker_cpu_seconds_total
    sipwall_screening_duration_seconds sipwall_policy_reloads_total sipwall_inbox_bytes
    sipwall_worker_heartbeat_age_seconds sipwall_connections_open)

scrape() { # FILE: GET /metrics into FILE (headers into FILE.h); fails on non-200
    curl -sf -m 5 -D "$1.h" -o "$1" "$URL/metrics"
}
value() { $CHECK value "$@"; }

peers_make_certs
PKI=$WORK/pki
peers_start_proxy "metrics listen $SW_IC:$MPORT" "events-db $WORK/events.db" \
    "listen tls $SW_IC:5061 side=interconnect cert=$PKI/server.pem key=$PKI/server.key ca=$PKI/ca.pem verify=optional"
peers_wait_listen tcp "$SW_IC" $MPORT 5 || die "metrics listener not up"

# ---- 1. health and a first scrape -------------------------------------------------------
code=$(curl -s -m 5 -o "$WORK/health.json" -w '%{http_code}' "$URL/health")
check "/health answers 200 ($code)" [ "$code" = 200 ]
check "/health says ok: $(cat "$WORK/health.json")" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["status"]!="ok" or d["stuck_workers"]!=[])' "$WORK/health.json"
scrape "$WORK/m0.txt" || die "GET /metrics failed"
check "Content-Type is text/plain; version=0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/m0.txt.h"
check "promtool check metrics passes on the first scrape" sh -c "promtool check metrics < '$WORK/m0.txt'"
check "required families, no duplicates, +Inf = count (first scrape)" $CHECK check "$WORK/m0.txt" "${REQUIRED[@]}"

# ---- 2. traffic moves the values -----------------------------------------------------------
N=20
peers_sipp_uas core_call -sf "$S/uas_call.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core uas did not start"
peers_sipp_uac alpha_udp -sf "$S/uac_call.xml" -key a +4930100 -key b +4477009 \
    -i "$ALPHA" -p 5082 -r 10 -m $N -d 100 "$SW_IC:5060"
peers_expect_calls alpha_udp $N
python3 - "$STRANGER" "$SW_IC" <<'PY'
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 0))
for i in range(5):
    u.sendto(b"OPTIONS sip:x@y SIP/2.0\r\n\r\n", (sys.argv[2], 5060))
PY
# a scanner (SIPVicious svmap) from a stranger: the signature rule blocks it
command -v svmap >/dev/null 2>&1 || die "svmap not installed (scripts/install-deps: sipvicious)"
timeout 60 svmap -p5060 "$SW_IC" -b "$STRANGER_NET.5" -P 5277 -t 0.05 >"$WORK/svmap.log" 2>&1
# TLS: one handshake that completes (openssl s_client), one that cannot
# (plain text to the TLS port)
timeout 15 openssl s_client -connect "$SW_IC:5061" -CAfile "$PKI/ca.pem" -servername sipwalld.test \
    -no_ign_eof </dev/null >"$WORK/s_client.log" 2>&1
python3 - "$SW_IC" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 5061), timeout=5)
s.sendall(b"OPTIONS sip:x@y SIP/2.0\r\n\r\n" * 4)
try:
    s.recv(100)
except OSError:
    pass
s.close()
PY
sleep 1.3 # the engine's totals are folded in once a second
scrape "$WORK/m1.txt" || die "GET /metrics failed after traffic"
check "promtool passes after traffic" sh -c "promtool check metrics < '$WORK/m1.txt'"
check "own checks pass after traffic" $CHECK check "$WORK/m1.txt" "${REQUIRED[@]}"
ic_in=$(value "$WORK/m1.txt" sipwall_messages_total listener=udp-ic-1 direction=in)
core_out=$(value "$WORK/m1.txt" sipwall_messages_total listener=udp-core-3 direction=out)
check "messages in on the interconnect listener >= $((N * 3)) ($ic_in)" [ "$ic_in" -ge $((N * 3)) ]
check "messages out on the core listener >= $((N * 3)) ($core_out)" [ "$core_out" -ge $((N * 3)) ]
alpha=$(value "$WORK/m1.txt" sipwall_verdicts_total partner=alpha action=allow)
check "verdicts allow for partner alpha >= $((N * 3)) ($alpha)" [ "$alpha" -ge $((N * 3)) ]
unk=$(value "$WORK/m1.txt" sipwall_verdicts_total partner=unknown)
check "verdicts for the unknown zone >= 6: junk and the scan ($unk)" [ "$unk" -ge 6 ]
c0=$(value "$WORK/m0.txt" sipwall_screening_duration_seconds_count)
c1=$(value "$WORK/m1.txt" sipwall_screening_duration_seconds_count)
check "screening histogram count moved $c0 -> $c1" [ "$c1" -ge $((c0 + N * 3)) ]
scr=$(value "$WORK/m1.txt" sipwall_screened_messages_total)
check "screened messages equal the histogram count ($scr, $c1)" [ "$scr" = "$c1" ]
tok=$(value "$WORK/m1.txt" sipwall_tls_handshakes_total result=ok)
tfail=$(value "$WORK/m1.txt" sipwall_tls_handshakes_total result=failed)
check "TLS handshakes: ok $tok >= 1 (s_client), failed $tfail >= 1 (plain text)" [ "$tok" -ge 1 -a "$tfail" -ge 1 ]
ev=$(value "$WORK/m1.txt" sipwall_engine_events_total)
check "engine events counted after the scan ($ev)" [ "$ev" -ge 1 ]
nb=$(value "$WORK/m1.txt" sipwall_blocks_active kind=source)
check "the scanner's source is an active block ($nb)" [ "$nb" -ge 1 ]
bs=$(value "$WORK/m1.txt" sipwall_blocks_set_total)
check "blocks set counted ($bs)" [ "$bs" -ge 1 ]
cpu=$(value "$WORK/m1.txt" sipwall_worker_cpu_seconds_total)
check "worker CPU > 0 ($cpu s)" python3 -c "import sys; sys.exit(not float('$cpu') > 0)"

# ---- 3. a reload takes no counter back -----------------------------------------------------
out=$(timeout 20 "$SIPWALLD" -c "$CONF" ctl reload)
check "ctl reload succeeds ($out)" [ "${out#ok}" != "$out" ]
scrape "$WORK/m2.txt" || die "GET /metrics failed after reload"
check "no counter lower or gone after the reload" $CHECK monotonic "$WORK/m1.txt" "$WORK/m2.txt"
r=$(value "$WORK/m2.txt" sipwall_policy_reloads_total)
check "policy reloads counted ($r)" [ "$r" = 1 ]
peers_sipp_uac alpha_udp2 -sf "$S/uac_call.xml" -key a +4930100 -key b +4477009 \
    -i "$ALPHA" -p 5084 -r 10 -m 5 -d 100 "$SW_IC:5060"
peers_expect_calls alpha_udp2 5
sleep 1.3
scrape "$WORK/m3.txt" || die "GET /metrics failed"
check "no counter lower after more traffic on the new policy" $CHECK monotonic "$WORK/m2.txt" "$WORK/m3.txt"
a3=$(value "$WORK/m3.txt" sipwall_verdicts_total partner=alpha action=allow)
check "alpha's verdicts went on from $alpha ($a3)" [ "$a3" -ge $((alpha + 15)) ]

# ---- 4. ctl metrics and the dashboard ----------------------------------------------------------
timeout 10 "$SIPWALLD" -c "$CONF" ctl metrics >"$WORK/ctl.txt"
check "ctl metrics exits 0 and passes promtool" sh -c "promtool check metrics < '$WORK/ctl.txt'"
check "ctl metrics passes our checks" $CHECK check "$WORK/ctl.txt" "${REQUIRED[@]}"
check "the Grafana dashboard uses only scraped names" $CHECK grafana "$SW_SRC/etc/grafana/sipwall.json" "$WORK/m3.txt"

# ---- 5. a stuck worker --------------------------------------------------------------------------
hook=$(timeout 10 "$SIPWALLD" -c "$CONF" ctl debug-stall 1 8000)
if [ "${hook#ok}" = "$hook" ]; then
    die "this sipwalld has no test hooks (configure with -DSW_TEST_HOOKS=ON): $hook"
fi
got503=0
for _ in $(seq 80); do # up to 8 s
    code=$(curl -s -m 2 -o "$WORK/h.json" -w '%{http_code}' "$URL/health")
    if [ "$code" = 503 ]; then got503=1; break; fi
    sleep 0.1
done
check "/health turns 503 while worker 1 is stuck: $(cat "$WORK/h.json")" [ $got503 = 1 ]
check "the JSON names worker 1" grep -q '"stuck_workers":\[1\]' "$WORK/h.json"
back=0
for _ in $(seq 80); do
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$URL/health")
    if [ "$code" = 200 ]; then back=1; break; fi
    sleep 0.1
done
check "/health is 200 again once the worker recovers" [ $back = 1 ]

# ---- 6. refusals ------------------------------------------------------------------------------------
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")
check "POST refused ($code)" [ "$code" -ge 400 ]
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/admin")
check "unknown path 404 ($code)" [ "$code" = 404 ]
big=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/metrics")
check "a 20 KB header is refused ($code)" [ "$code" != 200 ]
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/health")
check "the listener still answers ($code)" [ "$code" = 200 ]
# 40 idle clients: the listener holds 16 connections at most (the rest wait
# in the backlog), and scrapes are served again once they are gone
held() { ss -Htn state established "( sport = :$MPORT )" -p 2>/dev/null | grep -c "pid=$SIPWALLD_PID,"; }
timeout 20 python3 -c '
import socket, sys, time
s = [socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) for _ in range(40)]
time.sleep(3)
' "$SW_IC" $MPORT &
IDLE_PID=$!
sleep 1.5
n=$(held)
check "40 idle clients: the listener holds 16 connections ($n)" [ "$n" = 16 ]
wait $IDLE_PID
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL/health")
check "the listener answers once the idle clients are gone ($code)" [ "$code" = 200 ]
cp "$CONF" "$WORK/remote.conf"
sed -i "s#^metrics listen .*#metrics listen 192.0.2.1:$MPORT#" "$WORK/remote.conf"
check "--check-config refuses a non-loopback metrics listener" \
    sh -c "! '$SIPWALLD' -c '$WORK/remote.conf' --check-config >'$WORK/remote.log' 2>&1 && grep -q allow-remote '$WORK/remote.log'"
# a second daemon's config on other SIP addresses but this metrics port:
# --check-config names the line (start would fail at the same bind)
sed -e "s#$SW_IC:5060#127.$PEERS_NET.0.40:5060#g" -e "s#$SW_IC:5061#127.$PEERS_NET.0.40:5061#" \
    -e "s#$SW_CORE_IF:5060#127.$PEERS_NET.0.41:5060#" -e "s#^admin .*#admin $WORK/admin2.sock#" \
    -e "s#^events-db .*##" "$CONF" >"$WORK/second.conf"
check "--check-config reports the metrics port in use (line and reason)" \
    sh -c "! '$SIPWALLD' -c '$WORK/second.conf' --check-config >'$WORK/second.log' 2>&1 && grep -q 'metrics listen' '$WORK/second.log' && grep -qi 'in use' '$WORK/second.log'"
check "sipwalld still answers on its admin socket" peers_sipwalld_alive
peers_done
