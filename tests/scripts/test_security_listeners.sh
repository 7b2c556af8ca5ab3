#!/usr/bin/env bash
# Issue 15, item 4 (part): nothing listens that the config does not name.
# - a full configuration (SIP over UDP, TCP and TLS on two sides, HEP over
#   UDP, TCP and TLS, the metrics listener, the HTTPS admin API, the admin
#   socket) and a minimal one (two UDP listeners): the daemon's sockets from
#   `ss -lntupx` (by its PID) equal what the config names, nothing extra;
# - a plain-text listener (HEP, metrics) or plain Redis (no ca=) on a
#   non-loopback address is refused without insecure=yes, naming the line;
#   with it the daemon starts
#   and writes a warning event (rule config.insecure-listener) and a log
#   warning.  The non-loopback address lives in a network namespace the
#   test creates and removes.
# - TLS servers (SIP TLS, HEP TLS, the admin API) take TLS 1.2 only with ECDHE and
#   an AEAD cipher: RSA key exchange and CBC suites are refused, TLS 1.3
#   and ECDHE-GCM are served (sipwall assess TLS-03).
# Nets: 127.240.0.0/16 only; namespace ownc-lst-$$.
set -uo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
T=$(mktemp -d "$SW_BUILD/test_security_listeners.XXXXXX")
T=$(cd "$T" && pwd)
NS=ownc-lst-$$
PID=
FAILS=0
cleanup() {
    [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
    wait 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    [ "$FAILS" = 0 ] && rm -rf "$T"
}
trap cleanup EXIT
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
NET=127.240.0

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tls.key" \
    -out "$T/tls.pem" -days 2 -subj "/CN=lst.test" >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/rsa.key" \
    -out "$T/rsa.pem" -days 2 -subj "/CN=lst.test" >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }
chmod 600 "$T/tls.key" "$T/rsa.key"
HEPKEY=$(openssl rand -hex 16)

minimal() {
    cat <<EOF
mode inline
workers 2
policy builtin:default
events $T/events.jsonl
log $T/sipwalld.log
secret $T/secret
listen udp $NET.1:5060 side=interconnect
listen udp $NET.2:5060 side=core
forward udp:$NET.3:5060
EOF
}
full() {
    minimal
    cat <<EOF
admin $T/admin.sock
listen tcp $NET.1:5060 side=interconnect
listen tls $NET.1:5061 side=interconnect cert=$T/tls.pem key=$T/tls.key verify=none
listen tcp $NET.2:5060 side=core
hep udp $NET.5:9060 auth-key=$HEPKEY
hep tcp $NET.5:9060 auth-key=$HEPKEY
hep tls $NET.5:9061 cert=$T/tls.pem key=$T/tls.key verify=none auth-key=$HEPKEY
metrics listen $NET.6:9464
admin-api listen $NET.7:8443 cert $T/rsa.pem key $T/rsa.key credential $T/api.hash
EOF
}

# sockets PID: "proto address" of every listening/bound socket of PID
sockets() {
    ss -H -lntupx 2>/dev/null | grep "pid=$1," | awk '{
        if ($1 == "u_str" || $1 == "u_dgr" || $1 == "u_seq") print "unix", $5; else print $1, $5 }' | sort -u
}

# run NAME CONF EXPECTED...: start, compare sockets with EXPECTED, stop
run() {
    local name=$1 conf=$2; shift 2
    "$SIPWALLD" -c "$conf" >"$T/$name.out" 2>&1 &
    PID=$!
    local upok=0
    for _ in $(seq 100); do
        grep -q "ready:" "$T/sipwalld.log" 2>/dev/null && { upok=1; break; }
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.2
    done
    [ "$upok" = 1 ] || { bad "$name: not up: $(cat "$T/$name.out" "$T/sipwalld.log" | tail -3)"; return; }
    printf '%s\n' "$@" | sort -u >"$T/$name.want"
    # metrics and the admin API start after the workers: wait (bounded)
    # until every configured socket is there, then compare once more
    for _ in $(seq 75); do
        sockets "$PID" >"$T/$name.got"
        [ -z "$(comm -23 "$T/$name.want" "$T/$name.got")" ] && break
        sleep 0.2
    done
    sleep 0.5
    sockets "$PID" >"$T/$name.got"
    if diff "$T/$name.want" "$T/$name.got" >"$T/$name.diff"; then
        ok "$name: $(wc -l <"$T/$name.got") sockets, exactly the configured ones"
    else
        bad "$name: sockets differ from the config (< configured, > open): $(tr '\n' ' ' <"$T/$name.diff")"
    fi
    if declare -F "while_$name" >/dev/null; then "while_$name"; fi
    kill -TERM "$PID"; wait "$PID"; PID=
    rm -f "$T/sipwalld.log"
}

# tls_offer WHAT HOST:PORT ARGS...: 0 when the server completes a handshake
tls_offer() {
    local what=$1 hp=$2; shift 2
    timeout 10 openssl s_client -connect "$hp" "$@" </dev/null >"$T/sclient.out" 2>&1 \
        && grep -q "^New, TLSv1\.[23], Cipher is [A-Z]" "$T/sclient.out"
}
while_full() { # SIP TLS has an EC key, the admin API an RSA one
    local hp=$NET.1:5061 au=ECDSA c
    for hp in "$NET.1:5061 ECDSA ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA384" \
        "$NET.5:9061 ECDSA ECDHE-ECDSA-AES128-SHA" \
        "$NET.7:8443 RSA AES128-SHA AES256-GCM-SHA384 ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA384"; do
        set -- $hp
        hp=$1 au=$2; shift 2
        for c in "$@"; do
            tls_offer "$c" "$hp" -tls1_2 -cipher "$c" \
                && bad "$hp serves TLS 1.2 with $c (RSA key exchange or CBC)" \
                || ok "$hp refuses TLS 1.2 with $c"
        done
        c=ECDHE-$au-AES128-GCM-SHA256
        tls_offer ecdhe-gcm "$hp" -tls1_2 -cipher "$c" && ok "$hp serves TLS 1.2 with $c" \
            || bad "$hp: no TLS 1.2 $c handshake: $(tail -3 "$T/sclient.out")"
        tls_offer tls13 "$hp" -tls1_3 && ok "$hp serves TLS 1.3" \
            || bad "$hp: no TLS 1.3 handshake: $(tail -3 "$T/sclient.out")"
    done
}

minimal >"$T/minimal.conf"
run minimal "$T/minimal.conf" "udp $NET.1:5060" "udp $NET.2:5060"
full >"$T/full.conf"
run full "$T/full.conf" "udp $NET.1:5060" "udp $NET.2:5060" "tcp $NET.1:5060" "tcp $NET.1:5061" \
    "tcp $NET.2:5060" "udp $NET.5:9060" "tcp $NET.5:9060" "tcp $NET.5:9061" "tcp $NET.6:9464" "tcp $NET.7:8443" \
    "unix $T/admin.sock"
# the comparison can fail: a socket the config does not name is seen
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("'$NET'.9",7777)); s.listen(); time.sleep(30)' &
EXTRA=$!
seen=0
for _ in $(seq 50); do # python may take a while to start under load
    ss -H -lnt "src $NET.9:7777" | grep -q 7777 && { seen=1; break; }
    sleep 0.2
done
[ "$seen" = 1 ] && ok "ss sees a stray listener (the check can fail)" \
    || bad "ss does not see a test listener"
kill "$EXTRA"; wait "$EXTRA" 2>/dev/null

# ---- plain text off loopback needs insecure=yes ----------------------------------------
ip netns add "$NS" || { bad "ip netns add"; exit 1; }
ip -n "$NS" link set lo up
ip -n "$NS" addr add 192.0.2.10/32 dev lo # not a loopback address to sipwalld; reaches no wire
{ minimal; echo "hep udp 192.0.2.10:9060 auth-key=$HEPKEY"; } >"$T/plain.conf"
out=$(ip netns exec "$NS" "$SIPWALLD" --check-config -c "$T/plain.conf" 2>&1)
[ $? -ne 0 ] && grep -q "plain.conf:10: hep: 192.0.2.10:9060 is plain text on a non-loopback address; add insecure=yes" <<<"$out" \
    && ok "HEP off loopback without insecure=yes is refused" || bad "HEP without insecure: $out"
{ minimal; echo "metrics listen 192.0.2.10:9464 allow-remote=yes"; } >"$T/plainm.conf"
out=$("$SIPWALLD" --check-config -c "$T/plainm.conf" 2>&1)
[ $? -ne 0 ] && grep -q "plainm.conf:10: metrics listen: 192.0.2.10:9464 is plain text" <<<"$out" \
    && ok "metrics off loopback without insecure=yes is refused" || bad "metrics without insecure: $out"
{ minimal; echo "state redis 192.0.2.10:6379"; } >"$T/plainr.conf"
out=$("$SIPWALLD" --check-config -c "$T/plainr.conf" 2>&1)
[ $? -ne 0 ] && grep -q "plainr.conf:10: state redis: 192.0.2.10:6379 is plain text on a non-loopback address; add ca=" <<<"$out" \
    && ok "plain Redis off loopback without insecure=yes is refused" || bad "Redis without insecure: $out"
{ minimal; echo "hep udp 192.0.2.10:9060 auth-key=$HEPKEY insecure=yes"
  echo "metrics listen 192.0.2.10:9464 allow-remote=yes insecure=yes"
  echo "state redis 192.0.2.10:6379 insecure=yes"; } >"$T/insecure.conf"
ip netns exec "$NS" "$SIPWALLD" -c "$T/insecure.conf" >"$T/insecure.out" 2>&1 &
PID=$!
for _ in $(seq 100); do
    grep -q "ready:" "$T/sipwalld.log" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
done
sleep 0.5
kill -TERM "$PID"; wait "$PID"; st=$?; PID=
[ "$st" = 0 ] || bad "insecure config: exit $st: $(cat "$T/insecure.out" "$T/sipwalld.log" | tail -3)"
n=$(grep -c '"rule":"config.insecure-listener"' "$T/events.jsonl" 2>/dev/null)
[ "$n" = 3 ] && ok "insecure=yes: started, 3 warning events (HEP, metrics, Redis)" \
    || bad "insecure=yes: $n warning events: $(tail -2 "$T/events.jsonl" 2>/dev/null)"
grep -q "level=warn.*insecure listener: hep udp 192.0.2.10:9060" "$T/sipwalld.log" \
    && ok "and a log warning naming the listener" || bad "no log warning: $(grep insecure "$T/sipwalld.log")"

[ "$FAILS" = 0 ] && echo "PASS" || { echo "$FAILS failure(s)"; exit 1; }
