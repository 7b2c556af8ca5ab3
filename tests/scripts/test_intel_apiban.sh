#!/usr/bin/env bash
# APIBAN as a feed in sipwalld (intel-apiban; docs/exchange-intel.md "APIBAN")
# on loopback 127.249.0.0/16.  The server is tests/peers/apiban_responder.py
# (HTTPS, GET /api/KEY/banned/ID, 400 "no new bans" when caught up, 403 for
# another key).  Checks:
#   - bad intel-apiban lines are refused with their line number (no key file,
#     a key file others can read, plain HTTP, no intel line);
#   - sipwalld takes the list from the first ID and follows the IDs it is
#     given: the listed scanners are refused (their calls never reach the
#     core), other sources pass; an address added later is taken at the next
#     poll, asking from the last ID (not the whole list again);
#   - the trust file decides: APIBAN's indicators score confidence x trust;
#   - the key never shows in the log, stderr, events or ctl output;
#   - a wrong key is an error, counted, and blocks nothing; a restart takes
#     the list again from the first ID.
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
T=$(mktemp -d "$SW_BUILD/test_intel_apiban.XXXXXX")
T=$(cd "$T" && pwd)
DPID= CPID= RPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null || true
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
die() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
ok() { echo "ok:   $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
PY=/usr/bin/python3

NET=127.249.0
IC=$NET.1 CORE=$NET.3 SRV=$NET.5
PORT=$((20000 + RANDOM % 20000))
CORE_PORT=$((PORT + 1)) API_PORT=$((PORT + 2))
KEY=k$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

mkdir -p "$T/pki"
(
    set -e
    cd "$T/pki"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj /CN=apiban-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key 2>/dev/null
    openssl req -new -key server.key -subj /CN=apiban -out server.csr
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s\n' "$SRV" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
        -extfile server.ext -out server.pem 2>/dev/null
    chmod 600 ./*.key
) > "$T/pki.log" 2>&1 || die "PKI: $(tail -3 "$T/pki.log")"
printf '%s\n' "$KEY" > "$T/apiban.key"
printf 'wrong-key-0000\n' > "$T/apiban.badkey"
chmod 600 "$T/apiban.key" "$T/apiban.badkey"
printf 'partner apiban trust 80\n' > "$T/trust.conf"

# two pages: 100 -> 200 -> (caught up)
cat > "$T/pages.json" <<EOF
{"100": {"ipaddress": ["$NET.21", "$NET.22", "$NET.23"], "ID": "200"},
 "200": {"ipaddress": ["$NET.24", "no new bans"], "ID": "300"}}
EOF
$PY "$SW_SRC/tests/peers/apiban_responder.py" --listen "$SRV:$API_PORT" --pages "$T/pages.json" --key "$KEY" \
    --log "$T/requests.jsonl" --cert "$T/pki/server.pem" --key-file "$T/pki/server.key" 2> "$T/responder.log" &
RPID=$!

cat > "$T/open.policy" <<EOP
zone unknown {
    admit screen
    trust untrusted
}
EOP
LINE="intel-apiban https://$SRV:$API_PORT/api/ key-file $T/apiban.key ca $T/pki/ca.pem every 1"
cat > "$T/apiban.conf" <<EOF
mode inline
workers 1
policy builtin:default
policy $T/open.policy
events $T/events.jsonl
log $T/sipwalld.log
log-level info
admin $T/admin.sock
secret $T/secret
listen udp $IC:$PORT side=interconnect
listen udp $NET.2:$PORT side=core
forward udp:$CORE:$CORE_PORT
intel trust $T/trust.conf tick 1
$LINE
EOF
CONF=$T/apiban.conf
ctl() { timeout 20 "$SIPWALLD" -c "$CONF" ctl "$@"; }
j() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# ---- refusals at load, with the line number -------------------------------------
badconf() { # EXPECTED-REGEX LINE-REPLACEMENT
    sed "s|^intel-apiban .*|$2|" "$CONF" > "$T/bad.conf"
    local out
    out=$("$SIPWALLD" -c "$T/bad.conf" --check-config 2>&1 || true)
    check "refused: $2 ($out)" bash -c "echo \"\$1\" | grep -qE \"\$2\"" _ "$out" "$1"
}
badconf 'bad.conf:14: intel-apiban: key-file FILE is required' "intel-apiban https://$SRV:$API_PORT/api/"
badconf 'bad.conf:14: intel-apiban: .*plain HTTP' "intel-apiban http://$SRV:$API_PORT/api/ key-file $T/apiban.key"
badconf "bad.conf:14: intel-apiban: .*ending in '/'" "intel-apiban https://$SRV:$API_PORT/api key-file $T/apiban.key"
badconf 'bad.conf:14: intel-apiban confidence' "intel-apiban https://$SRV:$API_PORT/api/ key-file $T/apiban.key confidence 101"
cp "$T/apiban.key" "$T/open.key" && chmod 644 "$T/open.key"
badconf 'bad.conf:14: intel-apiban key-file .*readable by others' "intel-apiban https://$SRV:$API_PORT/api/ key-file $T/open.key"
sed '/^intel trust/d' "$CONF" > "$T/bad.conf"
out=$("$SIPWALLD" -c "$T/bad.conf" --check-config 2>&1 || true)
check "refused: intel-apiban without an intel line ($out)" bash -c "echo '$out' | grep -q 'bad.conf:13: intel-apiban needs an intel line'"
out=$("$SIPWALLD" -c "$CONF" --check-config 2>&1) || true
check "the configuration is accepted" bash -c 'echo "$1" | grep -q "apiban.conf: ok"' _ "$out"

# ---- the core and a sender ---------------------------------------------------------------
cat > "$T/send.py" <<'PYS'
import socket, sys
dst, port, src, cid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
lp = s.getsockname()[1]
s.sendto((f"OPTIONS sip:+4930123456@{dst}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{cid}\r\n"
          f"Max-Forwards: 70\r\nFrom: <sip:+4989111222@{src}>;tag={cid}\r\nTo: <sip:+4930123456@{dst}>\r\n"
          f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), (dst, port))
PYS
$PY "$SW_SRC/tests/peers/callid_core.py" "$CORE" "$CORE_PORT" "$T/core.seen" &
CPID=$!
N=0
reached() { # SRC: 0 when an OPTIONS from SRC reaches the core within 1.5 s
    N=$((N + 1))
    local cid="c$N-$RANDOM"
    $PY "$T/send.py" "$IC" "$PORT" "$1" "$cid"
    for _ in $(seq 1 15); do
        grep -qx "$cid" "$T/core.seen" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
held() { ! reached "$1"; }
start_daemon() {
    rm -f "$T/admin.sock"
    "$SIPWALLD" -c "$CONF" 2>> "$T/stderr.log" &
    DPID=$!
    for _ in $(seq 1 100); do
        [ -S "$T/admin.sock" ] && ctl stats > /dev/null 2>&1 && return 0
        kill -0 "$DPID" 2>/dev/null || die "sipwalld died at start: $(tail -5 "$T/stderr.log")"
        sleep 0.1
    done
    die "sipwalld did not come up"
}
stop_daemon() {
    local rc=0
    kill "$DPID"
    wait "$DPID" || rc=$?
    DPID=
    return $rc
}
pull() { j "$(ctl intel pulls)" "r['pulls'][0]['$1']"; }
wait_plain() { # N: APIBAN indicators applied (10 s)
    for _ in $(seq 1 100); do
        [ "$(pull plain)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

start_daemon
check "the first poll takes both pages (4 addresses)" wait_plain 4
held_all=1
for s in 21 22 23 24; do held "$NET.$s" || held_all=0; done
check "the four listed scanners are refused" [ "$held_all" = 1 ]
check "a source APIBAN does not list passes" reached "$NET.29"
li=$(ctl intel)
check "ctl intel: 4 apiban indicators, enforced at 90 x 80 / 100 = 72" \
    [ "$(j "$li" "sorted(set((e['producer'], e['state'], e['score'], e['event_type']) for e in r['indicators']))")" = "[('apiban', 'enforced', 72, 'sip_scan')]" ]
check "\"no new bans\" inside a page is skipped, not an address" [ "$(pull malformed)" -ge 1 ]
check "pulls: kind apiban, no error, next ID 300 ($(ctl intel pulls | head -c 300))" \
    [ "$(j "$(ctl intel pulls)" "(r['pulls'][0]['kind'], r['pulls'][0]['errors'], r['pulls'][0]['next_id'])")" = "('apiban', 0, '300')" ]
# a scanner listed later: taken at the next poll, asked from the last ID
$PY - "$T/pages.json" "$NET.25" <<'PYA'
import json, sys
p = json.load(open(sys.argv[1]))
p["300"] = {"ipaddress": [sys.argv[2]], "ID": "400"}
json.dump(p, open(sys.argv[1] + ".tmp", "w"))
PYA
mv "$T/pages.json.tmp" "$T/pages.json"
check "the address listed later is taken at the next poll" wait_plain 5
check "... and refused" held "$NET.25"
asked=$($PY -c 'import json,sys; print(" ".join(json.loads(l)["path"].rsplit("/", 1)[1] for l in open(sys.argv[1])))' "$T/requests.jsonl")
check "sipwalld asked 100 once, then followed the IDs ($(echo "$asked" | cut -c1-80))" \
    bash -c "[ \"\$(echo '$asked' | tr ' ' '\n' | grep -cx 100)\" = 1 ] && echo '$asked' | grep -q '^100 200 300'"
check "the key is never in the log, stderr, events or ctl output" \
    bash -c "! grep -rqF '$KEY' '$T/sipwalld.log' '$T/stderr.log' '$T/events.jsonl' <(ctl intel pulls) <(ctl intel) <(ctl stats)"
rc=0; stop_daemon || rc=$?
check "sipwalld stopped cleanly (exit $rc)" [ "$rc" = 0 ]

# ---- a wrong key: an error, counted; nothing enforced ----------------------------------------
sed -i "s|key-file $T/apiban.key|key-file $T/apiban.badkey|" "$CONF"
start_daemon
for _ in $(seq 1 50); do [ "$(pull errors)" -ge 1 ] && break; sleep 0.1; done
check "a wrong key is an error ($(pull last_error))" bash -c "[ \"\$(echo '$(pull last_error)' | grep -c 'HTTP 403')\" = 1 ]"
check "nothing is enforced after a restart with a wrong key (the feed is not kept on disk)" \
    [ "$(j "$(ctl intel)" "len(r['indicators'])")" = 0 ]
check "$NET.21 passes" reached "$NET.21"
rc=0; stop_daemon || rc=$?
check "sipwalld stopped cleanly (exit $rc)" [ "$rc" = 0 ]

# ---- a restart with the right key takes the list again from the first ID ---------------------
sed -i "s|key-file $T/apiban.badkey|key-file $T/apiban.key|" "$CONF"
: > "$T/requests.jsonl"
start_daemon
check "after the restart, all 5 addresses again" wait_plain 5
check "$NET.21 refused again" held "$NET.21"
check "the restart asked from 100" bash -c "head -n1 '$T/requests.jsonl' | grep -q '/banned/100'"
rc=0; stop_daemon || rc=$?
check "sipwalld stopped cleanly (exit $rc), no sanitizer report" \
    bash -c "[ $rc = 0 ] && ! grep -qE 'Sanitizer|runtime error' '$T/stderr.log'"

[ "$fails" = 0 ] || { for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
rm -rf "$T"
echo "all intel-apiban checks passed"
