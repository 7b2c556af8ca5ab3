#!/usr/bin/env bash
# Issue 15, items 2 and 3: no default credential and no loose secret.
# - a private key or Redis password file that group/others may read, or that
#   another user owns, is refused by --check-config and by a start, naming
#   the file and the line; 0600 root-owned passes;
# - a HEP auth-key that is a placeholder, a well-known default, shorter than
#   16 bytes, made of few characters, or a documentation demo key on a
#   non-loopback address is refused naming the line (and never printed
#   unless it is a placeholder); a Redis password of that kind is refused;
# - a running daemon with a secret file, a TLS key and a HEP key never shows
#   any of them (the secret file as bytes or hex) in its log, its events, `ctl`
#   output (stats, metrics, health, partners) or its stderr.
# Nets: 127.216.0.0/16 only.
set -uo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
T=$(mktemp -d "$SW_BUILD/test_security_secrets.XXXXXX")
T=$(cd "$T" && pwd)
PID=
FAILS=0
cleanup() {
    [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
    wait 2>/dev/null
    [ "$FAILS" = 0 ] && rm -rf "$T"
}
trap cleanup EXIT
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
NET=127.216.0

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/sip.key" \
    -out "$T/sip.pem" -days 2 -subj "/CN=sip.test" >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }
chmod 600 "$T/sip.key"
HEPKEY=$(openssl rand -hex 16)
REDISPW=$(openssl rand -hex 20)
printf '%s\n' "$REDISPW" >"$T/redis.pass"
chmod 600 "$T/redis.pass"

base() {
    cat <<EOF
mode inline
workers 1
policy builtin:default
events $T/events.jsonl
log $T/sipwalld.log
admin $T/admin.sock
pid-file $T/sipwalld.pid
secret $T/secret
listen udp $NET.1:5060 side=interconnect
listen tls $NET.1:5061 side=interconnect cert=$T/sip.pem key=$T/sip.key verify=none
listen udp $NET.2:5060 side=core
forward udp:$NET.3:5060
EOF
}

# start_once CONF: sipwalld on CONF; prints "exit N" when it stops within
# 20 s by itself, else "running" (and stops it)
start_once() {
    rm -f "$T/sipwalld.log"
    "$SIPWALLD" -c "$1" >"$T/start.out" 2>&1 &
    local pid=$! i
    for i in $(seq 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"; echo "exit $?"
            cat "$T/sipwalld.log" >>"$T/start.out" 2>/dev/null  # the daemon logs there
            return
        fi
        [ "$i" -gt 15 ] && "$SIPWALLD" -c "$1" ctl stats >/dev/null 2>&1 && break
        sleep 0.2
    done
    kill -TERM "$pid"; wait "$pid"; echo running
    cat "$T/sipwalld.log" >>"$T/start.out" 2>/dev/null
}

# refuse NAME PATTERN CONF_EXTRA... : base plus lines must fail both ways
refuse() {
    local name=$1 pat=$2; shift 2
    { base; printf '%s\n' "$@"; } >"$T/$name.conf"
    local out
    out=$("$SIPWALLD" --check-config -c "$T/$name.conf" 2>&1)
    if [ $? -ne 0 ] && grep -qF -- "$pat" <<<"$out"; then ok "$name: --check-config refuses: $pat"
    else bad "$name: --check-config: want '$pat', got: $out"; fi
    local st
    st=$(start_once "$T/$name.conf")
    if [ "$st" != running ] && grep -qF -- "$pat" "$T/start.out"; then ok "$name: start refuses ($st)"
    else bad "$name: start: $st: $(cat "$T/start.out")"; fi
}
accept() {
    local name=$1; shift
    { base; printf '%s\n' "$@"; } >"$T/$name.conf"
    local out
    if out=$("$SIPWALLD" --check-config -c "$T/$name.conf" 2>&1); then ok "$name: accepted"
    else bad "$name: refused: $out"; fi
}

# ---- key files -----------------------------------------------------------------
accept key-0600
chmod 644 "$T/sip.key"
# base() puts the TLS listener on line 10
refuse key-0644 "key-0644.conf:10: listen key $T/sip.key: mode 0644 lets others read"
chmod 640 "$T/sip.key"
refuse key-0640 "listen key $T/sip.key: mode 0640"
chmod 600 "$T/sip.key"
chown nobody "$T/sip.key"
refuse key-other-owner "listen key $T/sip.key: owned by uid $(id -u nobody)"
chown root "$T/sip.key"
accept key-back-0600
chmod 644 "$T/redis.pass"
refuse redis-pass-0644 "redis.pass" "state redis $NET.9:6379 user=sipwall password-file=$T/redis.pass"
chmod 600 "$T/redis.pass"

# ---- inline keys and passwords ---------------------------------------------------
refuse hep-placeholder "hep: auth-key 'CHANGE-ME' is a placeholder" "hep udp $NET.5:9060 auth-key=CHANGE-ME"
refuse hep-default "hep: auth-key 'secret' is a placeholder" "hep udp $NET.5:9060 auth-key=secret"
refuse hep-short "14: hep: auth-key is shorter than 16 bytes" \
    "# c" "hep udp $NET.5:9060 auth-key=Zq8.k3yA"
refuse hep-few-chars "hep: auth-key has fewer than 6 different characters" \
    "hep udp $NET.5:9060 auth-key=abababababababababab"
refuse hep-demo-remote "hep: auth-key is a documentation demo key, accepted on loopback addresses only" \
    "hep udp 0.0.0.0:9160 auth-key=loopback-demo-key insecure=yes"
accept hep-demo-loopback "hep udp $NET.5:9060 auth-key=loopback-demo-key"
accept hep-random "hep udp $NET.5:9060 auth-key=$HEPKEY"
for f in hep-short hep-few-chars; do
    grep -q "Zq8.k3yA\|abababab" "$T/start.out" && bad "$f: the weak key is printed"
done
printf 'password\n' >"$T/weak.pass"; chmod 600 "$T/weak.pass"
refuse redis-weak "state redis password-file $T/weak.pass: the password is a placeholder" \
    "state redis $NET.9:6379 user=sipwall password-file=$T/weak.pass"
printf 'Qx7-pw\n' >"$T/weak.pass"
refuse redis-short "the password is shorter than 16 bytes" \
    "state redis $NET.9:6379 user=sipwall password-file=$T/weak.pass"
grep -q "Qx7-pw" "$T/start.out" && bad "redis-short: the password is printed"

# ---- no secret in any output -------------------------------------------------------
{ base; echo "hep udp $NET.5:9060 auth-key=$HEPKEY"; } >"$T/run.conf"
"$SIPWALLD" -c "$T/run.conf" >"$T/run.out" 2>&1 &
PID=$!
up=0
for _ in $(seq 100); do
    "$SIPWALLD" -c "$T/run.conf" ctl stats >/dev/null 2>&1 && { up=1; break; }
    sleep 0.2
done
[ "$up" = 1 ] || bad "the daemon did not come up: $(cat "$T/run.out")"
# HEP with a wrong key (an event) and a TLS handshake with the key in use
python3 "$SW_SRC/tests/tools/hep-send" --auth-key wrong-key-of-a-peer \
    "$SW_SRC/tests/data/labelled/b02_scan_udp.pcap" "$NET.5:9060" >/dev/null 2>&1
python3 "$SW_SRC/tests/tools/hep-send" --auth-key "$HEPKEY" \
    "$SW_SRC/tests/data/labelled/b02_scan_udp.pcap" "$NET.5:9060" >/dev/null 2>&1
timeout 5 openssl s_client -connect "$NET.1:5061" -brief </dev/null >"$T/sclient.out" 2>&1
grep -q "Protocol version" "$T/sclient.out" && ok "TLS handshake with the configured key" \
    || bad "no TLS handshake: $(head -3 "$T/sclient.out")"
for c in stats metrics health partners; do
    "$SIPWALLD" -c "$T/run.conf" ctl "$c" >"$T/ctl-$c.out" 2>&1
done
sleep 1
kill -TERM "$PID"; wait "$PID"; st=$?; PID=
[ "$st" = 0 ] && ok "clean stop (no sanitizer report)" || bad "sipwalld exit $st: $(tail -5 "$T/run.out")"
SECRET_HEX=$(od -An -tx1 -v "$T/secret" | tr -d ' \n')
[ "${#SECRET_HEX}" -ge 64 ] || bad "no secret file was created"
KEYLINE=$(sed -n 2p "$T/sip.key")
outputs=("$T/run.out" "$T/sipwalld.log" "$T/events.jsonl" "$T"/ctl-*.out)
leak=0
for s in "$HEPKEY" "${SECRET_HEX:0:32}" "$(head -c 64 "$T/secret")" "$KEYLINE"; do
    [ -n "$s" ] || continue
    for o in "${outputs[@]}"; do
        if grep -qF -- "$s" "$o" 2>/dev/null; then bad "a secret appears in $o"; leak=1; fi
    done
done
[ "$leak" = 0 ] && ok "no secret in ${#outputs[@]} outputs (log, events, stderr, ctl stats/metrics/health/partners)"
for o in "$T/sipwalld.log" "$T/events.jsonl" "$T/ctl-stats.out" "$T/ctl-metrics.out"; do
    [ -s "$o" ] || bad "$o is empty: the grep above proves nothing there"
done

[ "$FAILS" = 0 ] && echo "PASS" || { echo "$FAILS failure(s)"; exit 1; }
