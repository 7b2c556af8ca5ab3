#!/usr/bin/env bash
# TAXII 2.1 pull client in sipwalld (intel-pull; docs/exchange-intel.md) on
# loopback 127.236.0.0/16.  The server is tests/peers/taxii_responder.py
# (HTTPS with a client certificate required, Basic auth, paging by next,
# its own date_added per object); partner ZZ01 is an independent producer
# (tests/tools/fse_sign.py).  Checks:
#   - bad intel-pull lines are refused with their line number;
#   - sipwalld pulls over mutual TLS + Basic, follows next across pages
#     (limit 2), verifies each embedded FSE object: the signed scanners are
#     enforced (their next OPTIONS dropped), a tampered one is quarantined
#     and blocks nothing while the rest of its page is taken; a plain STIX
#     indicator (no signature) is applied at the partner's trust, one with a
#     pattern sipwall does not enforce is counted as unmapped;
#   - a newer revoked version published later lifts its block at the next
#     poll; the older version republished changes nothing;
#   - a restart resumes from the saved cursor: no object is taken again;
#   - a wrong password and a server the CA does not vouch for are errors,
#     counted, and block nothing;
#   - the figure: 20 indicators published at once, the delay from
#     publication to each source's first refused message (median, worst).
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
T=$(mktemp -d "$SW_BUILD/test_intel_pull.XXXXXX")
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
SIGN="$PY $SW_SRC/tests/tools/fse_sign.py"
RESP="$PY $SW_SRC/tests/peers/taxii_responder.py"

NET=127.236.0
IC=$NET.1 CORE=$NET.3 SRV=$NET.5 SCANNER=$NET.30 PLAIN=$NET.40
PORT=$((20000 + RANDOM % 20000))
CORE_PORT=$((PORT + 1))
TX_PORT=$((PORT + 2))
COLL=5d0c1b7e-4a3f-4e8b-9c2d-1f0e3a4b5c6d

# a throwaway CA: the responder's server certificate and sipwalld's client one
mkdir -p "$T/pki"
(
    set -e
    cd "$T/pki"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj /CN=pull-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    for n in server client; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $n.key 2>/dev/null
        openssl req -new -key $n.key -subj /CN=$n -out $n.csr
    done
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s\n' "$SRV" > server.ext
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
    for n in server client; do
        openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
            -extfile $n.ext -out $n.pem 2>/dev/null
    done
    # another CA, which vouches for nothing here
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -sha256 -days 2 \
        -subj /CN=other-ca -out other.pem 2>/dev/null
    chmod 600 ./*.key
) > "$T/pki.log" 2>&1 || die "PKI: $(tail -3 "$T/pki.log")"

mkdir -p "$T/keys"
$SIGN keygen ZZ01 ZZ01:1 "$T/keys"
mv "$T/keys/ZZ01.key" "$T/ZZ01.key"
printf 'partner ZZ01 trust 90\n' > "$T/trust.conf"
printf 'Passw0rd-for-pull\n' > "$T/pw"
printf 'wrong\n' > "$T/pw.bad"
chmod 600 "$T/pw" "$T/pw.bad"

: > "$T/store.jsonl"
$RESP serve --listen "$SRV:$TX_PORT" --store "$T/store.jsonl" --log "$T/requests.jsonl" \
    --cert "$T/pki/server.pem" --key "$T/pki/server.key" --client-ca "$T/pki/ca.pem" \
    --user sipwall --password Passw0rd-for-pull --collection "$COLL" --page-max 100 2> "$T/responder.log" &
RPID=$!

PULL="intel-pull https://$SRV:$TX_PORT/api1/ collection $COLL org ZZ01 every 1 limit 2 user sipwall password-file $T/pw ca $T/pki/ca.pem cert $T/pki/client.pem key $T/pki/client.key"
cat > "$T/open.policy" <<EOP
zone unknown {
    admit screen
    trust untrusted
}
EOP
cat > "$T/pull.conf" <<EOF
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
intel trust $T/trust.conf keys $T/keys tick 1
$PULL
EOF
CONF=$T/pull.conf
ctl() { timeout 20 "$SIPWALLD" -c "$CONF" ctl "$@"; }
j() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# ---- refusals at load, with the line number -------------------------------------
badconf() { # EXPECTED-REGEX LINE-REPLACEMENT
    sed "s|^intel-pull .*|$2|" "$CONF" > "$T/bad.conf"
    local out
    out=$("$SIPWALLD" -c "$T/bad.conf" --check-config 2>&1 || true)
    check "refused: $2 ($out)" bash -c "echo \"\$1\" | grep -qE \"\$2\"" _ "$out" "$1"
}
badconf 'bad.conf:14: intel-pull: .*plain HTTP' "intel-pull http://$SRV:$TX_PORT/api1/ collection $COLL org ZZ01"
badconf 'bad.conf:14: intel-pull: collection ID and org ORG are required' "intel-pull https://$SRV:$TX_PORT/api1/ org ZZ01"
badconf 'bad.conf:14: intel-pull: user and password-file go together' "intel-pull https://$SRV:$TX_PORT/api1/ collection $COLL org ZZ01 user u"
badconf "bad.conf:14: intel-pull: .*ending in '/'" "intel-pull https://$SRV:$TX_PORT/api1 collection $COLL org ZZ01"
badconf 'bad.conf:14: intel-pull: org .* is not 1..16' "intel-pull https://$SRV:$TX_PORT/api1/ collection $COLL org ZZ01ZZ01ZZ01ZZ01Z"
sed '/^intel trust/d' "$CONF" > "$T/bad.conf"
out=$("$SIPWALLD" -c "$T/bad.conf" --check-config 2>&1 || true)
check "refused: intel-pull without an intel line ($out)" bash -c "echo '$out' | grep -q 'bad.conf:13: intel-pull needs an intel line'"

# ---- the core and a sender ---------------------------------------------------------------
cat > "$T/core.py" <<'PYC'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
out = open(sys.argv[3], "a", buffering=1)
while True:
    data, _ = s.recvfrom(65535)
    for line in data.decode("latin-1").split("\r\n"):
        if line.lower().startswith("call-id:"):
            out.write(line.split(":", 1)[1].strip() + "\n")
PYC
cat > "$T/send.py" <<'PYS'
import socket, sys
dst, port = sys.argv[1], int(sys.argv[2])
for spec in sys.argv[3:]:
    src, cid = spec.split(",")
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
           "Content-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), (dst, port))
    s.close()
PYS
$PY "$T/core.py" "$CORE" "$CORE_PORT" "$T/core.seen" &
CPID=$!
N=0
reached() { # SRC: 0 when an OPTIONS from SRC reaches the core within 1.5 s
    N=$((N + 1))
    local cid="c$N-$RANDOM"
    $PY "$T/send.py" "$IC" "$PORT" "$1,$cid"
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
pulls() { ctl intel pulls; }
# waits (at most 10 s) until the pulled object count reaches N
wait_objects() {
    for _ in $(seq 1 100); do
        [ "$(j "$(pulls)" 'r["pulls"][0]["objects"]')" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
NOW=$(now_ms)
HOUR=$((NOW + 3600000))
publish() { # FSE-SPEC...: signed, wrapped, appended to the collection
    $SIGN batch "$T/ZZ01.key" ZZ01:1 "$@" > "$T/fse.json"
    $RESP wrap "$T/fse.json" >> "$T/store.jsonl"
}
# an identity, 3 signed scanners, a tampered one, a plain indicator, one we cannot enforce
echo '{"type":"identity","spec_version":"2.1","id":"identity--8d5e3c1a-4f2b-4a6e-b7c9-0e1d2f3a4b5c","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"ZZ01","identity_class":"organization"}' >> "$T/store.jsonl"
S_SCAN="ZZ01,sip_scan,ipv4,$SCANNER,90,block,$NOW,$HOUR"
publish "$S_SCAN" "ZZ01,sip_scan,ipv4,$NET.31,90,block,$NOW,$HOUR" \
    "ZZ01,sip_scan,ipv4,$NET.45,90,block,$NOW,$HOUR,tamper" "ZZ01,sip_scan,ipv4,$NET.32,90,block,$NOW,$HOUR"
ID_SCAN=$($SIGN id ZZ01:1 "$S_SCAN")
TAMPERED=$(j "$(cat "$T/fse.json")" 'r[2]["indicator"]["value"]')
$RESP plain 3f2b1c0d-9e8a-4b7c-8d6e-5f4a3b2c1d0e "$PLAIN" ipv4 100 >> "$T/store.jsonl"
$RESP plain 4f2b1c0d-9e8a-4b7c-8d6e-5f4a3b2c1d0e 192.0.2.0/24 cidr 100 >> "$T/store.jsonl"

start_daemon
check "all 7 objects pulled within 10 s" wait_objects 7
p=$(pulls)
check "4 pages of at most 2 (next followed), 3 signed accepted, 1 quarantined, 1 plain, 1 unmapped ($p)" \
    [ "$(j "$p" 'tuple(r["pulls"][0][k] for k in ("pages","signed","accepted","quarantined","plain","unmapped","errors"))')" = "(4, 4, 4, 1, 1, 1, 0)" ]
check "the responder saw mutual TLS + Basic on every request, next on pages 2..4" \
    [ "$($PY -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print(all(x["auth"]=="Basic " and x["status"]==200 for x in L), sum("next" in x["query"] for x in L))' "$T/requests.jsonl")" = "True 3" ]
check "the scanner's next OPTIONS is dropped" held "$SCANNER"
check "the second signed scanner (.31) is dropped" held "$NET.31"
check "the tampered object blocks nothing ($TAMPERED passes)" reached "$TAMPERED"
check "the object after the tampered one in its page (.32) is enforced" held "$NET.32"
check "the plain STIX indicator is enforced at ZZ01's trust ($PLAIN dropped)" held "$PLAIN"
show=$(ctl intel show 3f2b1c0d-9e8a-4b7c-8d6e-5f4a3b2c1d0e)
check "the plain indicator: producer ZZ01, unsigned kid, score 90 ($show)" \
    [ "$(j "$show" '(r["producer"], r["kid"], r["score"], r["state"])')" = "('ZZ01', 'taxii:unsigned', 90, 'enforced')" ]
list=$(ctl intel)
check "the quarantine holds the tampered object ($(j "$list" 'r["stats"]'))" \
    [ "$(j "$list" '(r["stats"]["quarantined"], r["stats"]["quarantine_held"])')" = "(1, 1)" ]
check "another source still passes" reached "$NET.50"

# ---- revocation through the collection; an old version republished ----------------
publish "ZZ01,sip_scan,ipv4,$SCANNER,90,block,$((NOW + 1000)),$HOUR,revoked"
check "the revocation is pulled" wait_objects 8
check "after the revocation the scanner passes" reached "$SCANNER"
publish "$S_SCAN"
check "the old version, republished, is pulled" wait_objects 9
check "the older version changed nothing: the scanner still passes" reached "$SCANNER"
check "ctl intel show: withdrawn" [ "$(j "$(ctl intel show "$ID_SCAN")" 'r["state"]')" = withdrawn ]

# ---- restart: the cursor ------------------------------------------------------------------
cursor="$T/intel-pull-ZZ01-$COLL.cursor"
check "the cursor is saved next to the secret" grep -q "^added_after 20" "$cursor"
nreq=$(wc -l < "$T/requests.jsonl")
rc=0; stop_daemon || rc=$?
check "sipwalld stopped cleanly (exit $rc)" [ "$rc" = 0 ]
start_daemon
sleep 2.5
p=$(pulls)
check "after the restart nothing is taken again (objects 0, polls >= 2: $p)" \
    [ "$(j "$p" '(r["pulls"][0]["objects"], r["pulls"][0]["polls"] >= 2)')" = "(0, True)" ]
check "the first request after the restart carries added_after" \
    [ "$(sed -n "$((nreq + 1))p" "$T/requests.jsonl" | $PY -c 'import json,sys; print("added_after" in json.load(sys.stdin)["query"])')" = True ]
check "the enforcement survived the restart (.31 dropped: the journal replayed)" held "$NET.31"
publish "ZZ01,sip_scan,ipv4,$NET.33,90,block,$(now_ms),$HOUR"
check "a new object after the restart is pulled (exactly 1)" wait_objects 1
check "and enforced (.33 dropped)" held "$NET.33"
rc=0; stop_daemon || rc=$?

# ---- a wrong password; a server the CA does not vouch for -------------------------------
sed -i "s|password-file $T/pw |password-file $T/pw.bad |" "$CONF"
start_daemon
sleep 2.5
p=$(pulls)
check "a wrong password: HTTP 401 counted, nothing taken ($(j "$p" 'r["pulls"][0]["last_error"]'))" \
    [ "$(j "$p" '(r["pulls"][0]["objects"], r["pulls"][0]["errors"] >= 1, "401" in r["pulls"][0]["last_error"])')" = "(0, True, True)" ]
rc=0; stop_daemon || rc=$?
sed -i "s|password-file $T/pw.bad ca $T/pki/ca.pem|password-file $T/pw ca $T/pki/other.pem|" "$CONF"
start_daemon
sleep 2.5
p=$(pulls)
check "a server the CA does not vouch for: a TLS error, nothing taken ($(j "$p" 'r["pulls"][0]["last_error"]'))" \
    [ "$(j "$p" '(r["pulls"][0]["objects"], r["pulls"][0]["errors"] >= 1)')" = "(0, True)" ]
rc=0; stop_daemon || rc=$?
sed -i "s|ca $T/pki/other.pem|ca $T/pki/ca.pem|" "$CONF"

# ---- the figure: 20 indicators published at once -------------------------------------------
start_daemon
sleep 1.5
srcs=() specs=()
T0=$(now_ms)
for i in $(seq 1 20); do
    srcs+=("$NET.$((i + 110))")
    specs+=("ZZ01,sip_scan,ipv4,$NET.$((i + 110)),90,block,$T0,$((T0 + 3600000))")
done
$SIGN batch "$T/ZZ01.key" ZZ01:1 "${specs[@]}" > "$T/fse20.json"
$RESP wrap "$T/fse20.json" > "$T/stix20.jsonl"
cat > "$T/measure.py" <<'PYM'
# Appends the 20 objects to the collection (publication, t0), then probes
# every source with one OPTIONS each 50 ms; a source's delay is when its
# first probe was sent that never reached the core (checked 0.5 s later)
# and after which no probe of it got through.
import socket, sys, time, statistics
store, stix, dst, port, seen = sys.argv[1:6]
srcs = sys.argv[6:]
socks = {}
for s in srcs:
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind((s, 0)); socks[s] = k
lines = open(stix).read()
t0 = time.monotonic()
with open(store, "a") as f:
    f.write(lines)
sent = {s: [] for s in srcs}
n = 0
while time.monotonic() - t0 < 6.0:
    for s in srcs:
        n += 1
        cid = f"f{n}"
        k = socks[s]
        k.sendto((f"OPTIONS sip:+4930123456@{dst} SIP/2.0\r\nVia: SIP/2.0/UDP {s}:{k.getsockname()[1]};branch=z9hG4bK{cid}\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:+4989111222@{s}>;tag={cid}\r\nTo: <sip:+4930123456@{dst}>\r\n"
                  f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), (dst, int(port)))
        sent[s].append((cid, (time.monotonic() - t0) * 1000))
    time.sleep(0.05)
time.sleep(0.5)
got = set(open(seen).read().split())
delays = []
for s in srcs:
    last_through = None
    for i, (cid, ms) in enumerate(sent[s]):
        if cid in got:
            last_through = i
    first_held = (last_through + 1) if last_through is not None else 0
    if first_held < len(sent[s]):
        delays.append(sent[s][first_held][1])
v = sorted(delays)
print(len(v), "%.0f" % statistics.median(v) if v else "nan", "%.0f" % v[-1] if v else "nan")
PYM
read -r nblk med worst < <($PY "$T/measure.py" "$T/store.jsonl" "$T/stix20.jsonl" "$IC" "$PORT" "$T/core.seen" "${srcs[@]}")
check "all 20 published sources refused within 6 s" [ "$nblk" = 20 ]
echo "figure: pull (every 1 s, mutual TLS + Basic, limit 2): 20 signed indicators published -> each source refused; median ${med} ms, worst ${worst} ms after publication"

rc=0; stop_daemon || rc=$?
check "sipwalld stopped cleanly (exit $rc, no sanitizer report)" \
    bash -c "[ $rc = 0 ] && ! grep -qE 'Sanitizer|runtime error' '$T/stderr.log'"
[ "$fails" = 0 ] || { for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
rm -rf "$T"
echo "all intel-pull checks passed"
