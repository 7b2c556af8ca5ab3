#!/usr/bin/env bash
# Defect R8: connection admission.
#  1. Strangers (sources the policy does not know) fill the TCP slots and
#     hold them with CRLF keep-alives: they get at most max-connections -
#     reserve-connections slots, a partner still connects, and their
#     keep-alives do not keep them past stranger-idle-timeout (while the
#     partner's connection, also only sending keep-alives, stays).
#  2. IPv6, in a network namespace the test creates: the per-"IP" cap
#     counts a /64, not a /128, and the per-network cap a /48.
#  3. 200 failed TLS handshakes give a bounded number of log lines.
set -u
SW_SRC=${SW_SRC:-$(pwd)}
. "$SW_SRC/tests/peers/lib.sh"
peers_init admission 132
HOLD=$SW_SRC/tests/peers/holdconns.py
NS=""
netns_cleanup() { [ -z "$NS" ] || ip netns del "$NS" 2>/dev/null; }
trap 'netns_cleanup; peers_cleanup' EXIT

stat_of() { # stat_of FILE KEY: a counter from a saved `ctl stats`
    python3 -c "import json,sys
def f(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == sys.argv[2]: return v
            r = f(v)
            if r is not None: return r
    return None
r=f(json.load(open(sys.argv[1]))); print(-1 if r is None else r)" "$1" "$2"
}
# jq-less summaries of holdconns.py output: count FILE PYTHON-EXPR-over-c
count() { python3 -c "import json,sys; cs=json.load(open(sys.argv[1]))['conns']; print(sum(1 for c in cs if $2))" "$1"; }

# ---- 1. strangers vs the partners' reserve, IPv4 ------------------------------
peers_write_policy
PEERS_WORKERS=2 peers_write_conf \
    "limits max-connections=32 max-connections-per-ip=8 reserve-connections=8" \
    "limits idle-timeout=60 stranger-idle-timeout=3"
peers_start_sipwalld
peers_wait_listen tcp "$SW_IC" 5060 5 || die "no TCP listener"
S=$STRANGER_NET
# 4 strangers x 8 connections (every slot), keep-alive every 1 s, for 9 s;
# the partner connects at 1.5 s and keeps alive too.
timeout 30 python3 "$HOLD" "$SW_IC" 5060 9 1 "$S.1:8" "$S.2:8" "$S.3:8" "$S.4:8" "$ALPHA:1@1.5" \
    >"$WORK/hold4.json" || die "holdconns failed"
peers_stats >"$WORK/stats1.json"
st_adm=$(count "$WORK/hold4.json" "c['src'] != '$ALPHA' and not c['refused']")
st_ref=$(count "$WORK/hold4.json" "c['src'] != '$ALPHA' and c['refused']")
st_late=$(count "$WORK/hold4.json" "c['src'] != '$ALPHA' and not c['refused'] and (c['closed_at'] is None or c['closed_at'] > 7.5)")
p_open=$(count "$WORK/hold4.json" "c['src'] == '$ALPHA' and c['closed_at'] is None")
peers_log "strangers: $st_adm admitted, $st_ref refused, $st_late held past 7.5 s; partner open at the end: $p_open"
check "strangers hold at most max-connections - reserve = 24 slots ($st_adm)" [ "$st_adm" -le 24 ] && [ "$st_adm" -ge 16 ]
check "strangers beyond that are refused ($st_ref of 32)" [ "$st_ref" -ge 8 ]
check "a partner connects while strangers hold their slots, and stays ($p_open)" [ "$p_open" -eq 1 ]
check "keep-alives do not keep strangers past stranger-idle-timeout=3 ($st_late held past 7.5 s)" [ "$st_late" -eq 0 ]
rr=$(stat_of "$WORK/stats1.json" conn_refused_reserve)
si=$(stat_of "$WORK/stats1.json" conn_closed_stranger_idle)
check "refusals and stranger idle closes are counted (conn_refused_reserve=$rr, conn_closed_stranger_idle=$si)" \
    [ "$rr" -ge 8 ] && [ "$si" -ge "$st_adm" ]

# ---- 3. failed TLS handshakes: rate-limited log lines ---------------------------
peers_make_certs
peers_stop_sipwalld_checked
SW_IC_TLS=$SW_IC
PEERS_WORKERS=2 peers_write_conf \
    "listen tls $SW_IC:5061 side=interconnect cert=$WORK/pki/server.pem key=$WORK/pki/server.key ca=$WORK/pki/ca.pem verify=required" \
    "limits max-connections-per-ip=1000"
peers_start_sipwalld
peers_wait_listen tcp "$SW_IC" 5061 5 || die "no TLS listener"
cat >"$WORK/tlsfail.py" <<'PY'
import socket, ssl, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE          # no client certificate: refused by sipwalld
failed = 0
end = time.monotonic() + 60
for i in range(n):
    if time.monotonic() > end:
        break
    s = socket.create_connection((host, port), timeout=3)
    try:
        t = ctx.wrap_socket(s, server_hostname="sipwalld.test")
        t.settimeout(3)
        t.recv(1)                        # TLS 1.3: the refusal comes as an alert here
    except (ssl.SSLError, OSError):
        failed += 1
    finally:
        s.close()
print(failed)
PY
failed=$(timeout 90 python3 "$WORK/tlsfail.py" "$SW_IC" 5061 200)
sleep 1.2
peers_stats >"$WORK/stats3.json"
hf=$(stat_of "$WORK/stats3.json" tls_handshake_failed)
sup=$(stat_of "$WORK/stats3.json" tls_log_suppressed)
lines=$(grep -c "handshake failed" "$WORK/sipwalld.log")
peers_log "TLS: $failed client-side failures, tls_handshake_failed=$hf, $lines log lines, $sup suppressed"
check "200 handshakes without a client certificate fail and are counted ($hf)" [ "$hf" -ge 200 ]
check "they give a bounded number of log lines ($lines <= 8: one per reason per worker per 10 s)" \
    [ "$lines" -ge 1 ] && [ "$lines" -le 8 ]
check "the lines left out are counted ($sup = $hf - $lines)" [ "$sup" -eq $((hf - lines)) ]
peers_stop_sipwalld_checked

# ---- 2. IPv6: a /64 is one "IP", a /48 one network -------------------------------
if ! command -v ip >/dev/null 2>&1 || ! ip netns add "sw-adm-$$" 2>/dev/null; then
    bad "cannot create a network namespace (ip netns add; run as root)"
else
    NS=sw-adm-$$
    ipn() { ip -n "$NS" "$@"; }
    ipn link set lo up
    ipn addr add fd00:62:0:1::1/128 dev lo nodad
    srcs=()
    for i in $(seq 1 10); do ipn addr add "fd00:62:0:1::1$(printf %02x "$i")/128" dev lo nodad; srcs+=("fd00:62:0:1::1$(printf %02x "$i"):1"); done
    for j in $(seq 2 9); do ipn addr add "fd00:62:0:$j::1/128" dev lo nodad; srcs+=("fd00:62:0:$j::1:1@0.5"); done
    CONF6=$WORK/v6.conf
    cat >"$CONF6" <<EOF6
mode inline
workers 2
policy builtin:default
policy $POLICY
events $WORK/events6.jsonl
log stderr
admin $WORK/admin6.sock
secret $WORK/secret
listen tcp [fd00:62:0:1::1]:5060 side=interconnect
listen udp 127.0.0.1:$((40000 + $$ % 20000)) side=core
forward udp:127.0.0.1:9
limits max-connections=64 max-connections-per-ip=4 max-connections-per-net=6 reserve-connections=8
EOF6
    peers_bg sipwalld6 ip netns exec "$NS" "$SIPWALLD" -c "$CONF6"
    P6=$PEERS_PID
    for _ in $(seq 100); do
        timeout 5 "$SIPWALLD" -c "$CONF6" ctl stats >/dev/null 2>&1 && break
        kill -0 "$P6" 2>/dev/null || break
        sleep 0.1
    done
    ip netns exec "$NS" timeout 30 python3 "$HOLD" fd00:62:0:1::1 5060 3 1 "${srcs[@]}" >"$WORK/hold6.json" \
        || bad "holdconns in the namespace failed"
    timeout 5 "$SIPWALLD" -c "$CONF6" ctl stats >"$WORK/stats6.json"
    a64=$(count "$WORK/hold6.json" "c['src'].startswith('fd00:62:0:1::') and not c['refused']")
    a48=$(count "$WORK/hold6.json" "not c['refused']")
    rip=$(stat_of "$WORK/stats6.json" conn_refused_ip)
    rnet=$(stat_of "$WORK/stats6.json" conn_refused_net)
    peers_log "IPv6: $a64 of 10 admitted from one /64, $a48 of 18 from one /48; refused ip=$rip net=$rnet"
    check "10 addresses of one /64 get max-connections-per-ip=4 connections ($a64)" [ "$a64" -eq 4 ]
    check "18 sources of one /48 get max-connections-per-net=6 connections ($a48)" [ "$a48" -eq 6 ]
    check "refusals counted by reason (conn_refused_ip=$rip, conn_refused_net=$rnet)" [ "$rip" -eq 6 ] && [ "$rnet" -eq 6 ]
    peers_stop "$P6"
    netns_cleanup
    NS=""
fi
peers_done
