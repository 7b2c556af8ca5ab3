#!/usr/bin/env bash
# Two sipwalld nodes sharing their blocks through one redis-server
# (docs/cluster.md), loopback net 127.179.0.0/16 only:
#   - 20 callers each trip irsf.sequential on node A (5 distinct numbers in
#     one range); each is refused by node B within 1 s: the propagation time
#     (first call to B that is held, minus the call that tripped A) is
#     measured, median and worst printed;
#   - an unblock through B's admin API (HTTPS) lifts the block on A;
#   - Redis killed: both nodes keep screening with their local state (the
#     blocks held on both, a new trip on A held on A); Redis started again
#     (empty): they converge, B refuses A's outage block; the resync time
#     is measured;
#   - a third node with a wrong password: a clear log line without the
#     password, screening goes on locally;
#   - a fourth node over TLS (our OpenSSL stream, client certificate) to a
#     TLS-only redis-server with a throwaway PKI: connected, its block
#     stored in Redis.
# Every process is stopped by its PID; every wait is bounded.
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-$(pwd)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
T=$(mktemp -d "$SW_BUILD/test_cluster_redis.XXXXXX")
T=$(cd "$T" && pwd)
chmod 755 "$T"
NET=127.179
REDIS_IP=$NET.0.1
REDIS_PORT=6379
PIDS=()
REDIS_PID=
TLS_PID=
cleanup() {
    for p in "${PIDS[@]}" $REDIS_PID $TLS_PID; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
ok() { echo "ok: $*"; }

SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$SECRET" > "$T/redis.pass"
printf 'not-the-password\n' > "$T/wrong.pass"
chmod 600 "$T/redis.pass" "$T/wrong.pass"

redis_start() {
    redis-server --bind "$REDIS_IP" --port "$REDIS_PORT" --save '' --appendonly no --dir "$T" \
        --daemonize no --logfile "$T/redis.log" --user default off \
        --user sipwall on ">$SECRET" "~sipwall:*" "&*" "+@all" "-@dangerous" </dev/null >/dev/null 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 100); do
        ss -H -lnt "sport = :$REDIS_PORT" | grep -q "$REDIS_IP" && return 0
        sleep 0.05
    done
    fail "redis-server did not listen"
}

cat > "$T/partners.policy" <<EOF
partner core {
    role core
    address $NET.0.13/32, $NET.0.23/32, $NET.0.33/32, $NET.0.43/32
}
partner alpha {
    role interconnect
    address $NET.1.0/24
    ranges +4930
}
EOF

node_conf() { # NAME IC_IP CORE_IP FORWARD_IP PASSWORD_FILE [STATE LINE]
    cat > "$T/$1.conf" <<EOF
mode inline
workers 1
policy builtin:default
policy $T/partners.policy
events $T/$1-events.jsonl
log $T/$1.log
log-level info
admin $T/$1.sock
secret $T/$1.secret
listen udp $2:5060 side=interconnect
listen udp $3:5060 side=core
forward udp:$4:5070
${6:-state redis $REDIS_IP:$REDIS_PORT user=sipwall password-file=$5 prefix=sipwall: node=$1}
EOF
}
node_start() { # NAME
    rm -f "$T/$1.sock"
    "$SIPWALLD" -c "$T/$1.conf" 2>> "$T/$1-stderr.log" &
    PIDS+=($!)
    eval "PID_$1=$!"
    for _ in $(seq 1 100); do
        [ -S "$T/$1.sock" ] && ctl "$1" stats > /dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "sipwalld $1 did not come up"
}
ctl() { local n=$1; shift; timeout 10 "$SIPWALLD" -c "$T/$n.conf" ctl "$@"; }
cstat() { # NODE python-expression over s (ctl stats)
    local st
    st=$(ctl "$1" stats)
    python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$st" "$2"
}
wait_connected() { # NODE MIN_CONNECTS
    for _ in $(seq 1 100); do
        [ "$(cstat "$1" "s['cluster']['connected'] and s['cluster']['connects'] >= $2")" = True ] && return 0
        sleep 0.1
    done
    fail "$1 not connected to Redis"
}

redis_start
node_conf a $NET.0.11 $NET.0.12 $NET.0.13 "$T/redis.pass"
node_conf b $NET.0.21 $NET.0.22 $NET.0.23 "$T/redis.pass"
# B also serves the admin API (the unblock below goes through it); its
# server certificate names localhost, which curl maps to $NET.0.29
sh "$SW_SRC/tests/peers/mkpki.sh" "$T/pki" > /dev/null 2>&1 || fail "mkpki"
API_PORT=18443
echo "admin-api listen $NET.0.29:$API_PORT cert $T/pki/server.pem key $T/pki/server.key" >> "$T/b.conf"
node_start a
node_start b
wait_connected a 1
wait_connected b 1
grep -q "connected as node a" "$T/a.log" || fail "no connection line in a.log"
ok "two nodes connected to redis-server (ACL user sipwall)"

# drive.py MODE ...: our SIP peers.  Callers send from 127.179.1.x; node
# A's core listens on .13, B's on .23, C's on .33 (port 5070); a call is
# "forwarded" when its core received it.
cat > "$T/drive.py" <<'PY'
import socket, statistics, sys, time
NET = "127.179"
NODES = {"a": (NET + ".0.11", NET + ".0.13"), "b": (NET + ".0.21", NET + ".0.23"),
         "c": (NET + ".0.31", NET + ".0.33"), "d": (NET + ".0.41", NET + ".0.43")}
cores = {}
for n, (_, core_ip) in NODES.items():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((core_ip, 5070))
    s.setblocking(False)
    cores[n] = s
caller_sock = {}
seq = [0]

def sock_for(src):
    if src not in caller_sock:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0)); caller_sock[src] = s
    return caller_sock[src]

def invite(node, src, a, b):
    seq[0] += 1
    cid = "c%d-%d" % (seq[0], int(time.time() * 1000) % 100000)
    s = sock_for(src)
    port = s.getsockname()[1]
    msg = ("INVITE tel:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:%s@alpha.example;user=phone>;tag=t%s\r\n"
           "To: <tel:%s>\r\nCall-ID: %s@%s\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:%s@%s:%d>\r\nContent-Length: 0\r\n\r\n"
           % (b, src, port, cid, a, cid, b, cid, src, a, src, port))
    s.sendto(msg.encode(), (NODES[node][0], 5060))
    return cid

def forwarded(node, cid, wait):
    """True when node's core gets cid within wait seconds."""
    end = time.time() + wait
    while time.time() < end:
        try:
            data, _ = cores[node].recvfrom(65535)
        except BlockingIOError:
            time.sleep(0.0005)
            continue
        if ("Call-ID: %s@" % cid).encode() in data:
            return True
    return False

def call(node, src, a, b, wait=0.3):
    return forwarded(node, invite(node, src, a, b), wait)

def trip(node, src, caller, tag, confirm=True):
    """5 distinct numbers in one range: the 5th trips irsf.sequential and
    is held.  Returns when the 5th was sent, and its call-id."""
    for k in range(1, 5):
        if not forwarded(node, invite(node, src, caller, "+44207946%s%d" % (tag, k)), 0.5):
            sys.exit("call %d of %s through %s was not forwarded" % (k, caller, node))
    cid = invite(node, src, caller, "+44207946%s5" % tag)
    t = time.monotonic()
    if confirm:
        held(node, caller, cid)
    return t, cid

def held(node, caller, cid):
    if forwarded(node, cid, 0.3):
        sys.exit("the 5th distinct number of %s through %s was forwarded (no block)" % (caller, node))

def first_held(node, src, caller, callee, since, limit=1.5, probe_wait=0.02):
    """Probes node until a call is held: ms from since to that call's send."""
    while time.monotonic() - since < limit:
        t = time.monotonic()
        if not forwarded(node, invite(node, src, caller, callee), probe_wait):
            return (t - since) * 1000.0
    return None

mode = sys.argv[1]
if mode == "propagate":  # N: N callers trip A; each must be held by B within 1 s
    n = int(sys.argv[2]); lat = []
    for i in range(n):
        src = "%s.1.%d" % (NET, 10 + i)
        caller = "+4930555%03d" % i
        # control: B forwards the caller before the block
        if not call("b", "%s.1.%d" % (NET, 100 + i), caller, "+4930123%03d" % i, 0.5):
            sys.exit("caller %s held by B before any block" % caller)
        t0, cid = trip("a", src, caller, "%02d" % i, confirm=False)
        ms = first_held("b", "%s.1.%d" % (NET, 100 + i), caller, "+4930123%03d" % i, t0)
        held("a", caller, cid)
        if ms is None or ms >= 1000:
            sys.exit("caller %s blocked on A was not held by B within 1 s" % caller)
        # and it stays held
        for _ in range(3):
            if call("b", "%s.1.%d" % (NET, 100 + i), caller, "+4930123%03d" % i, 0.05):
                sys.exit("caller %s forwarded by B after being held" % caller)
        lat.append(ms)
    lat.sort()
    print("propagation A->B over %d blocks: median %.1f ms, worst %.1f ms" % (n, statistics.median(lat), lat[-1]))
elif mode == "trip":  # NODE SRC CALLER TAG
    trip(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
elif mode == "expect":  # NODE SRC CALLER CALLEE fwd|held
    got = call(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    if got != (sys.argv[6] == "fwd"):
        sys.exit("%s via %s: %s, expected %s" % (sys.argv[4], sys.argv[2], "fwd" if got else "held", sys.argv[6]))
elif mode == "until":  # NODE SRC CALLER CALLEE fwd|held LIMIT_S: ms until the call is as expected
    want = sys.argv[6] == "fwd"; t0 = time.monotonic()
    while time.monotonic() - t0 < float(sys.argv[7]):
        if call(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], 0.05) == want:
            print("%.0f" % ((time.monotonic() - t0) * 1000)); sys.exit(0)
    sys.exit("%s via %s never %s within %s s" % (sys.argv[4], sys.argv[2], sys.argv[6], sys.argv[7]))
PY
drive() { python3 "$T/drive.py" "$@"; }

# ---- propagation ------------------------------------------------------------------
out=$(drive propagate 20) || fail "propagation: $out"
echo "$out"
ok "20 callers blocked on A (irsf.sequential) were refused by B within 1 s ($out)"
echo "node b cluster stats: $(cstat b "s['cluster']")"
[ "$(cstat b "s['cluster']['applied'] >= 20")" = True ] || fail "B applied fewer than 20 blocks"

# ---- an unblock on B lifts the block on A -----------------------------------------------
drive expect a $NET.1.10 +4930555000 +442079460001 held || fail "caller 0 not held on A before the unblock"
TOKEN=$(awk '/^ADMIN-TOKEN /{print $2}' "$T/b-stderr.log")
[ -n "$TOKEN" ] || fail "B printed no admin API credential"
r=$(curl -sS --cacert "$T/pki/ca.pem" --resolve "localhost:$API_PORT:$NET.0.29" -H "Authorization: Bearer $TOKEN" \
    -X DELETE -w ' %{http_code}' "https://localhost:$API_PORT/v1/blocks/caller/%2B4930555000" 2>&1)
case "$r" in *' 200') ;; *) fail "DELETE /v1/blocks/caller/+4930555000 on B's admin API: $r" ;; esac
ms=$(drive until a $NET.1.10 +4930555000 +442079460001 fwd 1) || fail "the unblock on B did not lift the block on A: $ms"
drive expect a $NET.1.11 +4930555001 +442079460101 held || fail "another caller's block went too"
ok "an unblock through B's admin API lifted the block on A (${ms} ms); other blocks stay"

# ---- Redis down: both nodes screen with their local state ---------------------------------
kill -KILL "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=
for _ in $(seq 1 50); do
    [ "$(cstat a "s['cluster']['connected']")" = False ] && [ "$(cstat b "s['cluster']['connected']")" = False ] && break
    sleep 0.1
done
[ "$(cstat a "s['cluster']['connected']")" = False ] || fail "A still says connected"
grep -q "screening goes on with the local state" "$T/a.log" || fail "no outage line in a.log"
drive expect b $NET.1.102 +4930555002 +4930123002 held || fail "B forgot a block during the outage"
drive expect a $NET.1.12 +4930555002 +442079460201 held || fail "A forgot a block during the outage"
drive expect b $NET.1.150 +4930777000 +4930123999 fwd || fail "B does not forward a clean call during the outage"
drive trip a $NET.1.50 +4930555100 99 || fail "no block on A during the outage"
drive expect b $NET.1.151 +4930555100 +4930123100 fwd || fail "B knew the outage block without Redis?"
ok "Redis down: A and B keep their blocks and screen; a new block on A stays local"

# ---- Redis back: they converge ------------------------------------------------------------
ca=$(cstat a "s['cluster']['connects']")
cb=$(cstat b "s['cluster']['connects']")
t0=$(date +%s%N)
redis_start
ms=$(drive until b $NET.1.152 +4930555100 +4930123101 held 15) || fail "B never got A's outage block: $ms"
t1=$(date +%s%N)
wait_connected a $((ca + 1))
wait_connected b $((cb + 1))
resync_a=$(cstat a "s['cluster']['resync_ms']")
resync_b=$(cstat b "s['cluster']['resync_ms']")
drive expect b $NET.1.103 +4930555003 +4930123003 held || fail "B lost a block across the outage"
drive expect a $NET.1.10 +4930555000 +442079460001 fwd || fail "the unblocked caller is blocked again on A"
ok "Redis back: B refuses A's outage block $(( (t1 - t0) / 1000000 )) ms after redis-server was started (reconnect backoff included; the SCAN resync itself took ${resync_a} ms on A, ${resync_b} ms on B)"

# ---- a wrong password: a clear error, local screening --------------------------------------
node_conf c $NET.0.31 $NET.0.32 $NET.0.33 "$T/wrong.pass"
node_start c
for _ in $(seq 1 50); do grep -q "AUTH as sipwall refused" "$T/c.log" && break; sleep 0.1; done
grep "AUTH as sipwall refused" "$T/c.log" | head -1 | grep -q "WRONGPASS" || fail "no clear AUTH error in c.log"
grep -q "not-the-password" "$T/c.log" "$T/c-stderr.log" && fail "the password was logged"
[ "$(cstat c "s['cluster']['auth_failures'] >= 1 and not s['cluster']['connected']")" = True ] ||
    fail "C's stats do not show the AUTH failure"
drive expect c $NET.1.200 +4930888000 +4930123888 fwd || fail "C does not forward a clean call"
drive trip c $NET.1.201 +4930888001 88 || fail "C does not block locally"
ok "a node with a wrong password logs '$(grep -o 'AUTH as sipwall refused[^;]*' "$T/c.log" | head -1)' and screens locally"

# ---- TLS: a TLS-only redis-server, client certificates required ---------------------------
TLS_IP=$NET.0.2
redis-server --bind "$TLS_IP" --port 0 --tls-port "$REDIS_PORT" --tls-cert-file "$T/pki/server.pem" \
    --tls-key-file "$T/pki/server.key" --tls-ca-cert-file "$T/pki/ca.pem" --tls-auth-clients yes \
    --save '' --appendonly no --dir "$T" --daemonize no --logfile "$T/redis-tls.log" --user default off \
    --user sipwall on ">$SECRET" "~sipwall:*" "&*" "+@all" "-@dangerous" </dev/null >/dev/null 2>&1 &
TLS_PID=$!
for _ in $(seq 1 100); do ss -H -lnt "sport = :$REDIS_PORT" | grep -q "$TLS_IP" && break; sleep 0.05; done
node_conf d $NET.0.41 $NET.0.42 $NET.0.43 "$T/redis.pass" \
    "state redis $TLS_IP:$REDIS_PORT user=sipwall password-file=$T/redis.pass node=d ca=$T/pki/ca.pem cert=$T/pki/client.pem key=$T/pki/client.key server-name=localhost"
node_start d
wait_connected d 1
grep -q "connected as node d over TLS" "$T/d.log" || fail "no TLS connection line in d.log"
drive trip d $NET.1.210 +4930999001 77 || fail "D does not block"
keys=$(redis-cli -h "$TLS_IP" -p "$REDIS_PORT" --tls --cacert "$T/pki/ca.pem" --cert "$T/pki/client.pem" \
    --key "$T/pki/client.key" --user sipwall --pass "$SECRET" --no-auth-warning --scan --pattern 'sipwall:b:*')
[ -n "$keys" ] || fail "D's block is not in the TLS Redis"
ok "a node over TLS (client certificate, server-name=localhost) stores its block in a TLS-only Redis"

for n in a b c d; do
    eval "p=\$PID_$n"
    kill -TERM "$p"
    wait "$p" || fail "sipwalld $n exit status"
done
PIDS=()
echo "all cluster checks passed"
