#!/usr/bin/env bash
# The HTTPS admin API (docs/admin-api.md) of a real sipwalld on loopback
# (127.170.0.0/16), with curl as the client and small python SIP peers:
#   - the credential is made and printed once at the first start, only its
#     Argon2id hash is kept (0600); a restart prints nothing;
#   - no or a wrong credential: 401 and an admin_auth_failure event;
#   - a login brute force from one address: 429 after the burst, without
#     hashing (figures: attempts/s accepted before throttling, CPU); another
#     address still gets in;
#   - a scanner's block by a rule is listed with origin rule;
#   - a block added through the API drops that source's SIP; unblock lets
#     it through again; a partner's address is refused (409);
#   - reload with a broken policy: 409 with file:line, the old policy stays;
#   - events query with filters; every change is an admin_change event;
#   - 404, 405, 400 with a named JSON error, 413, all JSON;
#   - client-ca: no certificate and a rogue CA's certificate are refused in
#     the handshake, the CA's client gets in;
#   - `sipwall admin` does the same over libcurl, token from a file.
# BRUTE_S (default 8) bounds the brute force; the note's figures used 30.
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SIPWALL=${SIPWALL:-build/sipwall}
SW_BUILD=${SW_BUILD:-build}
BRUTE_S=${BRUTE_S:-8}
T=$(mktemp -d "$SW_BUILD/test_admin_api.XXXXXX")
T=$(cd "$T" && pwd)
DPID= CPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
die() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
ok() { echo "ok:   $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

NET=127.170.0
IC=$NET.1 CORE=$NET.3 ALPHA=$NET.10 PLAIN=$NET.20 SCANNER=$NET.30 BRUTE=$NET.50 GOOD=$NET.51
PORT=$((20000 + RANDOM % 20000))
CORE_PORT=$((PORT + 1))
API_PORT=$((PORT + 2))
URL=https://$IC:$API_PORT

# ---- a throwaway PKI (specs/operations.md §2) ------------------------------------
mkdir -p "$T/pki"
(
    set -e
    cd "$T/pki"
    ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    ca() { ec "$1.key"; openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "/CN=$1" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out "$1.pem"; }
    leaf() { ec "$1.key"; openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
        printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$3" "$4" > "$1.ext"
        openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 -sha256 \
            -extfile "$1.ext" -out "$1.pem" 2>/dev/null; rm "$1.csr" "$1.ext"; }
    ca ca; ca rogueca
    leaf server ca serverAuth "DNS:localhost,IP:$IC"
    leaf client ca clientAuth DNS:sipwall-test-client
    leaf rogue rogueca clientAuth DNS:sipwall-test-client
    chmod 600 ./*.key
) > "$T/pki.log" 2>&1 || die "PKI: $(tail -3 "$T/pki.log")"
P=$T/pki

# ---- the daemon ------------------------------------------------------------------------
# unknown sources are screened (not dropped by admission), so that a
# source block is what drops PLAIN's messages
cat > "$T/partners.policy" <<EOF
zone unknown {
    admit screen
    trust untrusted
}
partner alpha {
    role interconnect
    address $ALPHA/32
}
EOF
cp "$T/partners.policy" "$T/partners.good"
write_conf() { # [extra admin-api options]
    cat > "$T/api.conf" <<EOF
mode inline
workers 1
policy builtin:default
policy $T/partners.policy
events-db $T/events.db
log $T/sipwalld.log
log-level info
admin $T/admin.sock
secret $T/secret
listen udp $IC:$PORT side=interconnect
listen udp $NET.2:$PORT side=core
forward udp:$CORE:$CORE_PORT
admin-api listen $IC:$API_PORT cert $P/server.pem key $P/server.key $*
EOF
}
CONF=$T/api.conf
ctl() { timeout 10 "$SIPWALLD" -c "$CONF" ctl "$@"; }
start() { # STDERR-FILE
    rm -f "$T/admin.sock"
    "$SIPWALLD" -c "$CONF" 2> "$1" &
    DPID=$!
    for _ in $(seq 1 100); do
        [ -S "$T/admin.sock" ] && ctl stats > /dev/null 2>&1 && ss -H -lnt "sport = :$API_PORT" | grep -q . && return 0
        kill -0 "$DPID" 2>/dev/null || die "sipwalld died at start: $(cat "$1")"
        sleep 0.1
    done
    die "sipwalld did not come up"
}
stop() { # STDERR-FILE: a clean stop, nothing from the sanitizers
    local rc=0
    kill "$DPID"
    wait "$DPID" || rc=$?
    DPID=
    check "sipwalld stopped cleanly (exit $rc, no sanitizer report)" \
        bash -c "[ $rc = 0 ] && ! grep -qE 'Sanitizer|runtime error' '$1'"
}

# the core: counts what reaches it (one Call-ID a line)
cat > "$T/core.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
out = open(sys.argv[3], "a", buffering=1)
while True:
    data, _ = s.recvfrom(65535)
    for line in data.decode("latin-1").split("\r\n"):
        if line.lower().startswith("call-id:"):
            out.write(line.split(":", 1)[1].strip() + "\n")
PY
# send.py SRC DST PORT CALLID [USER-AGENT]: one OPTIONS from SRC
cat > "$T/send.py" <<'PY'
import socket, sys
src, dst, port, cid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ua = sys.argv[5] if len(sys.argv) > 5 else "test-ua/1.0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
lp = s.getsockname()[1]
msg = (f"OPTIONS sip:+4930123456@{dst}:{port} SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{cid}\r\n"
       "Max-Forwards: 70\r\n"
       f"From: <sip:+4989111222@{src}>;tag={cid}\r\n"
       f"To: <sip:+4930123456@{dst}>\r\n"
       f"Call-ID: {cid}\r\n"
       "CSeq: 1 OPTIONS\r\n"
       f"User-Agent: {ua}\r\n"
       "Content-Length: 0\r\n\r\n")
s.sendto(msg.encode(), (dst, port))
PY
python3 "$T/core.py" "$CORE" "$CORE_PORT" "$T/core.calls" 2> "$T/core.log" &
CPID=$!
touch "$T/core.calls"
reached() { # CALLID: 0 when the core got it within 1.5 s
    for _ in $(seq 1 15); do grep -qx "$1" "$T/core.calls" && return 0; sleep 0.1; done
    return 1
}

write_conf
start "$T/start1.err"
TOKEN=$(awk '/^ADMIN-TOKEN /{print $2}' "$T/start1.err")
check "the first start prints a credential of >= 128 bits (43 base64url chars)" \
    bash -c "[[ '$TOKEN' =~ ^[A-Za-z0-9_-]{43}$ ]]"
hash_only() {
    [ "$(stat -c %a "$T/admin-api.hash")" = 600 ] && [ "$(head -c 10 "$T/admin-api.hash")" = '$argon2id$' ] &&
        ! grep -qF "$TOKEN" "$T/admin-api.hash" "$T/sipwalld.log"
}
check "only its Argon2id hash is kept, mode 0600, the token in no file" hash_only
printf '%s\n' "$TOKEN" > "$T/token"
chmod 600 "$T/token"

# api [CURL-ARGS...] METHOD PATH: prints "STATUS BODY" (body on one line)
api() {
    local out code
    out=$(curl -sS --cacert "$P/ca.pem" -o - -w '\n%{http_code}' "$@" 2>> "$T/curl.log") || true
    code=${out##*$'\n'}
    printf '%s %s\n' "$code" "${out%$'\n'*}" | tr -d '\r' | head -c 200000
}
auth() { api -H "Authorization: Bearer $TOKEN" --interface "$GOOD" "$@"; }
jget() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1]); print(eval(sys.argv[1]))' "$1"; }
export -f jget
like() { [[ $1 == $2 ]]; } # like TEXT GLOB

# ---- authentication ----------------------------------------------------------------------
r=$(api --interface "$NET.40" "$URL/v1/status")
check "no credential: 401 with a JSON error ($r)" like "$r" '401 {"error":*no credential*'
r=$(api --interface "$NET.40" -H "Authorization: Bearer not-the-token" "$URL/v1/status")
check "wrong credential: 401" like "$r" '401 *wrong token*'
r=$(auth "$URL/v1/status")
check "right credential: 200 with version, mode, uptime, workers, counters" \
    bash -c "[ \"\$(echo '$r' | jget 'sorted(k for k in (\"version\",\"mode\",\"uptime_s\",\"workers\",\"counters\") if k in d)')\" = \"['counters', 'mode', 'uptime_s', 'version', 'workers']\" ]"
r=$(api --interface "$NET.40" "http://$IC:$API_PORT/v1/status")
check "plain HTTP gets no answer ($r)" like "$r" '000*'

# ---- brute force from one address --------------------------------------------------------
cpu() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }
tck=$(getconf CLK_TCK)
c0=$(cpu)
t0=$(date +%s.%N)
n=0 n401=0 n429=0 first429=
end=$(( $(date +%s) + BRUTE_S ))
while [ "$(date +%s)" -lt "$end" ] && [ "$n" -lt 5000 ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$P/ca.pem" --interface "$BRUTE" \
        -H "Authorization: Bearer guess$n" "$URL/v1/status" 2>/dev/null || true)
    n=$((n + 1))
    case $code in
    401) n401=$((n401 + 1)) ;;
    429) n429=$((n429 + 1)); [ -n "$first429" ] || first429=$(date +%s.%N) ;;
    esac
done
t1=$(date +%s.%N)
c1=$(cpu)
wall=$(echo "$t1 - $t0" | bc -l)
cpu_pct=$(echo "($c1 - $c0) / $tck / $wall * 100" | bc -l)
before=$(echo "${first429:-$t1} - $t0" | bc -l)
rate=$(echo "$n / $wall" | bc -l)
printf 'figure: brute force %d attempts in %.1f s (%.0f/s offered): %d answered 401 (hashed), %d answered 429 (not hashed); first 429 after %.2f s; sipwalld CPU %.1f%% of one core\n' \
    "$n" "$wall" "$rate" "$n401" "$n429" "$before" "$cpu_pct"
# burst 5, then one every 5 s
maxok=$(( 5 + BRUTE_S / 5 + 1 ))
check "brute force: at most $maxok of $n attempts were hashed ($n401), the rest 429" \
    bash -c "[ $n401 -ge 5 ] && [ $n401 -le $maxok ] && [ $n429 -ge 1 ] && [ $((n401 + n429)) -eq $n ]"
r=$(auth "$URL/v1/status")
check "another address with the credential still gets in during the brute force" like "$r" '200*'
r=$(api --interface "$BRUTE" -H "Authorization: Bearer guess-again" "$URL/v1/status")
check "the brute forcer is still refused without hashing: 429 ($r)" like "$r" '429 *too many attempts*'
r=$(auth "$URL/v1/status")
thr=$(echo "$r" | jget 'd["admin_api"]["throttled"]')
check "status counts the throttled attempts ($thr >= $n429 + 1)" [ "$thr" -ge $((n429 + 1)) ]

# ---- blocks -----------------------------------------------------------------------------------
python3 "$T/send.py" "$SCANNER" "$IC" "$PORT" scan1 friendly-scanner
sleep 0.5
r=$(auth "$URL/v1/blocks")
check "a rule's block is listed: source $SCANNER, origin rule, rule cat1.scanner-signature" \
    bash -c "echo '$r' | jget '[b for b in d[\"blocks\"] if b[\"key\"]==\"$SCANNER\" and b[\"origin\"]==\"rule\" and b[\"rule\"]==\"cat1.scanner-signature\" and b[\"kind\"]==\"source\" and b[\"expires\"] and b[\"created\"]]' | grep -q key"
python3 "$T/send.py" "$SCANNER" "$IC" "$PORT" scan2
sleep 0.3
r=$(auth "$URL/v1/blocks")
check "its hits count the messages it dropped" \
    bash -c "[ \"\$(echo '$r' | jget '[b[\"hits\"] for b in d[\"blocks\"] if b[\"key\"]==\"$SCANNER\"][0]')\" -ge 1 ]"

python3 "$T/send.py" "$PLAIN" "$IC" "$PORT" before-block
check "before the block, $PLAIN's OPTIONS reaches the core" reached before-block
r=$(auth -X POST -d "{\"kind\":\"source\",\"key\":\"$PLAIN\",\"duration\":\"10m\",\"reason\":\"abuse ticket 42\"}" "$URL/v1/blocks")
check "POST /v1/blocks: 200 ($r)" like "$r" '200*'
r=$(auth "$URL/v1/blocks")
check "the API's block is listed with origin admin, its reason and an expiry ~600 s out" \
    bash -c "echo '$r' | jget '[b for b in d[\"blocks\"] if b[\"key\"]==\"$PLAIN\" and b[\"origin\"]==\"admin\" and b[\"reason\"]==\"abuse ticket 42\" and 590 <= b[\"expires_in_s\"] <= 600]' | grep -q key"
python3 "$T/send.py" "$PLAIN" "$IC" "$PORT" during-block
check "while blocked, $PLAIN's OPTIONS is dropped" bash -c "! grep -qx during-block '$T/core.calls' && sleep 1.5 && ! grep -qx during-block '$T/core.calls'"
r=$(auth -X DELETE "$URL/v1/blocks/source/$PLAIN")
check "DELETE /v1/blocks/source/$PLAIN: 200" like "$r" '200*'
python3 "$T/send.py" "$PLAIN" "$IC" "$PORT" after-unblock
check "after the unblock, $PLAIN's OPTIONS reaches the core again" reached after-unblock
r=$(auth -X DELETE "$URL/v1/blocks/source/$PLAIN")
check "unblocking again: 404 ($r)" like "$r" '404 *no block*'
r=$(auth -X POST -d "{\"kind\":\"source\",\"key\":\"$ALPHA\",\"duration\":60}" "$URL/v1/blocks")
check "a partner's address cannot be blocked by source: 409 ($r)" like "$r" '409 *partner*'
r=$(auth -X POST -d '{"kind":"source","key":"192.0.2.1","duration":"2d"}' "$URL/v1/blocks")
check "a duration above 24 h: 400 naming the member" like "$r" '400 *duration*'

# ---- metrics and health on the same HTTPS server -------------------------------------------------
r=$(api --interface "$GOOD" "$URL/metrics"); check "GET /metrics without a credential: 401" like "$r" '401*'
check "GET /metrics: Prometheus text 0.0.4 that promtool accepts" bash -c \
    "set -o pipefail; curl -sSf --cacert '$P/ca.pem' -H 'Authorization: Bearer $TOKEN' --interface '$GOOD' \
       -D '$T/metrics.hdr' '$URL/metrics' > '$T/metrics.txt' && grep -qi '^content-type: text/plain; version=0.0.4' '$T/metrics.hdr' \
       && grep -q '^sipwall_' '$T/metrics.txt' && promtool check metrics < '$T/metrics.txt'"
r=$(auth "$URL/health"); check "GET /health: 200 with the workers' state ($r)" like "$r" '200 {*'
r=$(auth -X POST "$URL/metrics"); check "POST /metrics: 405" like "$r" '405 *'

# ---- errors --------------------------------------------------------------------------------------
r=$(auth "$URL/v1/nothing"); check "unknown path: 404 JSON" like "$r" '404 {"error"*'
r=$(auth -X PUT "$URL/v1/status"); check "wrong method: 405 JSON" like "$r" '405 {"error"*'
r=$(auth -X POST -d '{"kind": "source", "key": ' "$URL/v1/blocks")
check "bad JSON: 400 naming the parse error ($r)" like "$r" '400 *JSON parse error at line 1*'
r=$(auth -X POST -d '{"kind":"source","key":"192.0.2.1","duration":60,"colour":"red"}' "$URL/v1/blocks")
check "unknown member: 400 naming it" like "$r" '400 *colour*'
head -c 20000 /dev/zero | tr '\0' ' ' > "$T/big.json"
r=$(auth -X POST --data-binary @"$T/big.json" "$URL/v1/blocks")
check "a body above 16 KiB: 413 JSON" like "$r" '413 {"error"*'
r=$(auth "$URL/v1/events?since=yesterday")
check "bad query value: 400 naming it" like "$r" '400 *since*'

# ---- reload ----------------------------------------------------------------------------------------
gen0=$(auth "$URL/v1/status" | jget 'd["policy_generation"]')
r=$(auth -X POST "$URL/v1/reload")
check "reload: 200 with the new generation ($r)" like "$r" '200 *ok generation*'
gen1=$(auth "$URL/v1/status" | jget 'd["policy_generation"]')
check "the generation moved ($gen0 -> $gen1)" [ "$gen1" -gt "$gen0" ]
printf 'zone unknown {\n    admit screen\n    trust bogus-value\n}\n' > "$T/partners.policy"
r=$(auth -X POST "$URL/v1/reload")
check "reload of a broken policy: 409 with file:line in the answer ($r)" \
    like "$r" '409 *partners.policy:3:*'
gen2=$(auth "$URL/v1/status" | jget 'd["policy_generation"]')
check "the old policy stays (generation $gen2)" [ "$gen2" = "$gen1" ]
python3 "$T/send.py" "$PLAIN" "$IC" "$PORT" after-bad-reload
check "and screens as before ($PLAIN still admitted)" reached after-bad-reload
cp "$T/partners.good" "$T/partners.policy"

# ---- events and audit ---------------------------------------------------------------------------------
sleep 0.5 # the pipeline's writer commits every 50 ms or so
r=$(auth "$URL/v1/events?type=admin_change&limit=100")
# sipwalld's own config.start / config.reload outcomes are admin_change
# too (docs/security.md); the operators' changes are the admin.* rules
cfg=$(echo "$r" | jget '",".join(sorted(set(e["event"]["rule"] for e in d["events"] if not e["event"]["rule"].startswith("admin."))))')
check "the start and the reload done are config events too: $cfg" [ "$cfg" = "config.reload,config.start" ]
r="200 $(echo "$r" | jget 'json.dumps({"events": [e for e in d["events"] if e["event"]["rule"].startswith("admin.")]})')"
whats=$(echo "$r" | jget '",".join(sorted(set(e["event"]["evidence"]["what"] for e in d["events"])))')
check "every change is an audit event (block, login-free reload, unblock): $whats" [ "$whats" = "block,reload,unblock" ]
check "audit events name who and from where" \
    bash -c "echo '$r' | jget 'all(e[\"event\"][\"evidence\"][\"who\"]==\"token\" and e[\"event\"][\"evidence\"][\"from\"].startswith(\"$GOOD:\") for e in d[\"events\"])' | grep -qx True"
r=$(auth "$URL/v1/events?type=admin_auth_failure&src=$BRUTE&limit=1000")
nf=$(echo "$r" | jget 'd["count"]')
check "the brute force's refused logins are events ($nf, as many as were hashed: $n401)" \
    bash -c "[ $nf -eq $n401 ] && echo '$r' | jget 'all(e[\"event\"][\"src\"].startswith(\"$BRUTE:\") for e in d[\"events\"])' | grep -qx True"
check "audit events carry an event_id each and one incident_id per source and kind ($nf refused logins)" \
    bash -c "echo '$r' | jget 'len(set(e[\"event\"][\"event_id\"] for e in d[\"events\"]))==len(d[\"events\"]) and len(set(e[\"event\"][\"incident_id\"] for e in d[\"events\"]))==1' | grep -qx True"
r=$(auth "$URL/v1/events?type=admin_change&rule=admin.unblock")
check "rule filter: one unblock" [ "$(echo "$r" | jget 'd["count"]')" = 1 ]
r=$(auth "$URL/v1/events?type=admin_change&rule=admin.reload")
check "the reloads' outcomes are audited: one ok, one refused with file:line" \
    bash -c "echo '$r' | jget '[e[\"event\"][\"reason\"] for e in d[\"events\"]]' | grep -q 'reload outcome: ok generation' &&
             echo '$r' | jget '[e[\"event\"][\"reason\"] for e in d[\"events\"]]' | grep -q 'reload outcome: error: the policy does not load.*partners.policy:3:'"
r=$(auth "$URL/v1/events?type=sip_scan&src=$SCANNER&limit=5")
check "the scanner's events by src and type" [ "$(echo "$r" | jget 'd["count"]')" -ge 1 ]
r=$(auth "$URL/v1/events?type=admin_change&since=-1h&until=-30m")
check "a time window with nothing in it: 0 events" [ "$(echo "$r" | jget 'd["count"]')" = 0 ]
python3 "$T/send.py" "$ALPHA" "$IC" "$PORT" alpha1
python3 "$T/send.py" "$ALPHA" "$IC" "$PORT" alpha2
reached alpha2 || true
alpha_counts() { # the workers publish their counters once a second
    local r
    for _ in $(seq 1 30); do
        r=$(auth "$URL/v1/partners")
        echo "$r" | jget '[(p["messages"], p["verdicts"]["allow"]) for p in d["partners"] if p["name"]=="alpha"]' |
            grep -qx '\[(2, 2)\]' && return 0
        sleep 0.1
    done
    echo "partners: $r" >&2
    return 1
}
check "partners lists alpha with its live counters (2 messages, 2 allowed)" alpha_counts

# ---- sipwall admin (libcurl) ------------------------------------------------------------------------
export SIPWALL_ADMIN_URL=$URL SIPWALL_ADMIN_CACERT=$P/ca.pem
out=$("$SIPWALL" admin --token-file "$T/token" status 2>&1) || fail "sipwall admin status: $out"
check "sipwall admin status" bash -c "echo '$out' | grep -q '\"mode\": \"inline\"'"
out=$("$SIPWALL" admin --token-file "$T/token" block add source 192.0.2.77 --for 5m --reason "cli test" 2>&1)
check "sipwall admin block add ($out)" like "$out" 'ok blocked source 192.0.2.77 for 300 s'
out=$(SIPWALL_ADMIN_TOKEN_FILE=$T/token "$SIPWALL" admin blocks list 2>&1)
check "sipwall admin blocks list shows it" bash -c "echo '$out' | grep -q '192.0.2.77'"
out=$(SIPWALL_ADMIN_TOKEN_FILE=$T/token "$SIPWALL" admin unblock source 192.0.2.77 2>&1)
check "sipwall admin unblock" like "$out" 'ok unblocked source 192.0.2.77'
rc=0; out=$(SIPWALL_ADMIN_TOKEN_FILE=$T/token "$SIPWALL" admin unblock source 192.0.2.77 2>&1) || rc=$?
check "sipwall admin unblock of nothing: exit 1 with the API's message" bash -c "[ $rc = 1 ] && [[ '$out' == *'404: no block'* ]]"
out=$(SIPWALL_ADMIN_TOKEN_FILE=$T/token "$SIPWALL" admin events --type admin_change --rule admin.block 2>&1)
check "sipwall admin events with filters" bash -c "echo '$out' | grep -q 'cli test'"
rc=0; "$SIPWALL" admin --token xyz status > /dev/null 2>&1 || rc=$?
check "sipwall admin refuses a token on the command line (exit 2)" [ "$rc" = 2 ]
printf 'wrong\n' > "$T/badtoken"
rc=0; "$SIPWALL" admin --token-file "$T/badtoken" status > /dev/null 2>&1 || rc=$?
check "sipwall admin with a wrong token: exit 1" [ "$rc" = 1 ]

# ---- the local socket: the same functions, audited as ctl ---------------------------------------------
out=$(ctl block callee +4930555 120 ctl test)
check "ctl block ($out)" like "$out" 'ok blocked callee +4930555 for 120 s'
out=$(ctl blocks)
check "ctl blocks lists it with origin admin" bash -c "echo '$out' | grep -q '\"key\":\"+4930555\",\"origin\":\"admin\"'"
out=$(ctl unblock callee +4930555)
check "ctl unblock" like "$out" 'ok unblocked callee +4930555'
rc=0; out=$(ctl unblock bogus x) || rc=$?
check "ctl unblock of an unknown kind: exit 1" bash -c "[ $rc = 1 ] && [[ '$out' == 'error: unknown block kind'* ]]"
sleep 0.3
r=$(auth "$URL/v1/events?type=admin_change&rule=admin.unblock&limit=1")
check "ctl's changes are audited as the local socket" \
    bash -c "echo '$r' | jget 'd[\"events\"][0][\"event\"][\"evidence\"][\"who\"]' | grep -qx 'ctl (local socket)'"

# ---- client certificates, connection cap -------------------------------------------------------------
stop "$T/start1.err"
write_conf client-ca "$P/ca.pem" max-conns 4 timeout 2
start "$T/start2.err"
check "a restart prints no credential" bash -c "! grep -q ADMIN-TOKEN '$T/start2.err'"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$P/ca.pem" -H "Authorization: Bearer $TOKEN" "$URL/v1/status" || true)
check "client-ca: no client certificate, refused in the handshake ($code)" [ "$code" = 000 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$P/ca.pem" --cert "$P/rogue.pem" --key "$P/rogue.key" \
    -H "Authorization: Bearer $TOKEN" "$URL/v1/status" || true)
check "client-ca: a rogue CA's certificate, refused ($code)" [ "$code" = 000 ]
r=$(auth --cert "$P/client.pem" --key "$P/client.key" "$URL/v1/status")
check "client-ca: the CA's client with the token gets in" like "$r" '200*'
r=$(api --interface "$NET.41" --cert "$P/client.pem" --key "$P/client.key" "$URL/v1/status")
check "client-ca: a certificate alone is not enough (401)" like "$r" '401*'
r=$(auth --cert "$P/client.pem" --key "$P/client.key" -X POST -d '{"kind":"caller","key":"+4930999","duration":60}' "$URL/v1/blocks")
sleep 0.5
r=$(auth --cert "$P/client.pem" --key "$P/client.key" "$URL/v1/events?type=admin_change&rule=admin.block&limit=1")
check "the audit event names the certificate identity" \
    bash -c "echo '$r' | jget 'd[\"events\"][0][\"event\"][\"evidence\"][\"who\"]' | grep -qx 'token cert:client'"
# four idle connections (no TLS handshake) take every slot: the listener
# pauses, the next client waits until the 2 s timeout frees them
rm -f "$T/idle.ready"
python3 -c '
import socket, sys, time
ss = [socket.create_connection((sys.argv[1], int(sys.argv[2]))) for _ in range(4)]
time.sleep(0.2)  # the server has accepted them (the listener pauses at 4)
open(sys.argv[3], "w").close()
time.sleep(6)
' "$IC" "$API_PORT" "$T/idle.ready" &
IDLE=$!
for _ in $(seq 1 50); do [ -e "$T/idle.ready" ] && break; sleep 0.1; done
t0=$(date +%s.%N)
r=$(auth --max-time 10 --cert "$P/client.pem" --key "$P/client.key" "$URL/v1/status")
t1=$(date +%s.%N)
waited=$(echo "$t1 - $t0" | bc -l)
kill "$IDLE" 2>/dev/null || true
wait "$IDLE" 2>/dev/null || true
check "max-conns 4: a fifth client waits for a slot, timeout 2 frees idle ones (waited ${waited} s)" \
    bash -c "[[ '$r' == 200* ]] && [ \"\$(echo '$waited > 1.4 && $waited < 5' | bc -l)\" = 1 ]"
# a slow loris: a TLS record of 16 KiB announced, then a byte a second (each
# within the 2 s timeout); the connection lives 5 timeouts (10 s) at most
slow=$(timeout 30 python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"\x16\x03\x01\x40\x00")
t = time.time()
try:
    while time.time() - t < 20:
        s.sendall(b"\x01")
        time.sleep(1)
        s.setblocking(False)
        try:
            if s.recv(100) == b"":
                break
        except BlockingIOError:
            pass
        s.setblocking(True)
except OSError:
    pass
print("%.1f" % (time.time() - t))
' "$IC" "$API_PORT")
check "a client trickling its handshake is cut at the connection's lifetime (after ${slow} s, 10 s)" \
    bash -c "[ \"\$(echo '$slow >= 8 && $slow < 14' | bc -l)\" = 1 ]"
stop "$T/start2.err"

if [ "$fails" -ne 0 ]; then
    for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done
    echo "test_admin_api: $fails checks failed" >&2
    exit 1
fi
echo "test_admin_api: all checks passed"
