#!/usr/bin/env bash
# Signed webhook push between two sipwalld nodes (intel-push, intel-push-peer,
# POST /v1/intel/push; docs/exchange-intel.md) on loopback 127.237.0.0/16.
# Operator OPA runs node A (pusher), operator OPB node B (receiver, admin API
# with client-ca: mutual TLS).  OPA's signer is an independent producer
# (tests/tools/fse_sign.py); B holds OPA's JWKS and trusts it (90).  Checks:
#   - bad intel-push / intel-push-peer lines are refused with their line;
#   - `ctl intel publish` at A: B takes the batch (A's certificate, bound to
#     OPA, without the admin token) and enforces the scanners; a tampered
#     object is quarantined at B, the rest of the batch taken; an object of
#     another producer (ZZ02, whose key B has) sent by OPA is refused: a
#     partner pushes only its own;
#   - a revoked version lifts the block; the old version pushed again
#     changes nothing (idempotent on id + modified);
#   - a certificate bound to no partner gets 401 without the token; the
#     push path needs application/json; a partner's certificate opens no
#     other path (403);
#   - B down: A retries with exponential backoff (1, 2, 4 s ...) and
#     delivers when B is back; a dead receiver's queue of 50 drops (and
#     counts) what does not fit, the live receiver gets everything;
#   - the figure: 20 indicators published at A -> refused at B (median, worst);
#   - C (OPB's second node) pulls A's own TAXII collection (intel-pull,
#     Basic over TLS) and holds the same indicator, enforced;
#   - A's own publisher (taxii + publish lines) pushes what A detects: a
#     scanner's OPTIONS at A become a signed sip_scan indicator (A's own
#     key, OPA:2) that reaches B by intel-push and blocks the scanner there.
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SIPWALL=${SIPWALL:-build/sipwall}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
T=$(mktemp -d "$SW_BUILD/test_intel_push.XXXXXX")
T=$(cd "$T" && pwd)
APID= BPID= CPID= CPID_NODE=
cleanup() {
    [ -n "$CPID_NODE" ] && kill "$CPID_NODE" 2>/dev/null || true
    [ -n "$APID" ] && kill "$APID" 2>/dev/null || true
    [ -n "$BPID" ] && kill "$BPID" 2>/dev/null || true
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null || true
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
j() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

NETA=127.237.0 NETB=127.237.1
A=$NETA.1 B=$NETB.1 BCORE=$NETB.3 DEAD=$NETA.9
PORT=$((20000 + RANDOM % 20000))
BCORE_PORT=$((PORT + 1))
API_PORT=$((PORT + 2))
A_PORT=$((PORT + 3))

mkdir -p "$T/pki"
(
    set -e
    cd "$T/pki"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj /CN=push-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    for n in b-server a-server opa-node stranger; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $n.key 2>/dev/null
        openssl req -new -key $n.key -subj /CN=$n -out $n.csr
    done
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s\n' "$B" > server.ext
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in b-server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
        -extfile server.ext -out b-server.pem 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s\n' "$A" > a-server.ext
    openssl x509 -req -in a-server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
        -extfile a-server.ext -out a-server.pem 2>/dev/null
    for n in opa-node stranger; do
        openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
            -extfile client.ext -out $n.pem 2>/dev/null
    done
    chmod 600 ./*.key
) > "$T/pki.log" 2>&1 || die "PKI: $(tail -3 "$T/pki.log")"

mkdir -p "$T/bkeys" "$T/a"
$SIGN keygen OPA OPA:1 "$T/bkeys"
$SIGN keygen ZZ02 ZZ02:1 "$T/bkeys"
mv "$T/bkeys/OPA.key" "$T/bkeys/ZZ02.key" "$T/"
printf 'partner OPA trust 90\npartner ZZ02 trust 90\n' > "$T/btrust.conf"
# A's publisher signs with a key of its own (OPA:2): B's OPA.jwks holds both
"$SIPWALL" exchange keygen --kid OPA:2 --key "$T/opa-own.pem" --jwks "$T/opa-own.jwks" > /dev/null
$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); a["keys"] += json.load(open(sys.argv[2]))["keys"]; json.dump(a, open(sys.argv[1], "w"))' \
    "$T/bkeys/OPA.jwks" "$T/opa-own.jwks"
cat > "$T/a-export.policy" <<'EOF'
producer OPA 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11
export sip_scan to opb tlp GREEN confidence 90 action block ttl 6h
EOF
printf 'zone unknown {\n    admit screen\n    trust untrusted\n}\n' > "$T/open.policy"

cat > "$T/b.conf" <<EOF
mode inline
workers 1
policy builtin:default
policy $T/open.policy
events $T/b-events.jsonl
log $T/b.log
log-level info
admin $T/b.sock
secret $T/b.secret
listen udp $B:$PORT side=interconnect
listen udp $NETB.2:$PORT side=core
forward udp:$BCORE:$BCORE_PORT
intel trust $T/btrust.conf keys $T/bkeys tick 1
admin-api listen $B:$API_PORT cert $T/pki/b-server.pem key $T/pki/b-server.key client-ca $T/pki/ca.pem allow-remote
intel-push-peer opa-node org OPA
EOF
# C: OPB's second node, which pulls A's own TAXII collection (Basic auth
# over TLS) instead of taking pushes
echo "reader-$RANDOM-$RANDOM-$RANDOM-$RANDOM" > "$T/reader.pw"
chmod 600 "$T/reader.pw"
cat > "$T/c.conf" <<EOF
mode inline
workers 1
policy builtin:default
policy $T/open.policy
log $T/c.log
log-level info
admin $T/c.sock
secret $T/c.secret
listen udp $NETB.5:$PORT side=interconnect
listen udp $NETB.6:$PORT side=core
forward udp:$BCORE:$BCORE_PORT
intel trust $T/btrust.conf keys $T/bkeys tick 1
intel-pull https://$A:$API_PORT/taxii2/api1/ collection 5e0c1b2a-3d4e-4f5a-8b6c-7d8e9f0a1b2c org OPA every 1 user reader password-file $T/reader.pw ca $T/pki/ca.pem
EOF
# A: an inline node that publishes here (ctl intel publish) and whose own
# publisher pushes its detections
cat > "$T/a.conf" <<EOF
mode inline
workers 1
policy builtin:default
log $T/a.log
log-level info
admin $T/a.sock
secret $T/a.secret
listen udp $A:$A_PORT side=interconnect
listen udp $NETA.2:$A_PORT side=core
forward udp:$NETA.3:$((A_PORT + 1))
intel-push https://$B:$API_PORT/v1/intel/push ca $T/pki/ca.pem cert $T/pki/opa-node.pem key $T/pki/opa-node.key timeout 2
intel-push https://$DEAD:$API_PORT/v1/intel/push ca $T/pki/ca.pem cert $T/pki/opa-node.pem key $T/pki/opa-node.key queue 50 timeout 1
policy $T/open.policy
events-db $T/a-events.db
admin-api listen $A:$API_PORT cert $T/pki/a-server.pem key $T/pki/a-server.key
taxii store $T/a-taxii.db
taxii api-root api1 title "OPA TAXII"
taxii collection 5e0c1b2a-3d4e-4f5a-8b6c-7d8e9f0a1b2c alias indicators title "OPA indicators" publish
taxii user reader secret $("$SIPWALL" exchange taxii-hash < "$T/reader.pw") read indicators
publish export-policy $T/a-export.policy sign-key $T/opa-own.pem kid OPA:2 group opb refresh 3600
EOF
actl() { timeout 20 "$SIPWALLD" -c "$T/a.conf" ctl "$@"; }
bctl() { timeout 20 "$SIPWALLD" -c "$T/b.conf" ctl "$@"; }
cctl() { timeout 20 "$SIPWALLD" -c "$T/c.conf" ctl "$@"; }

# ---- refusals at load ----------------------------------------------------------------
badline() { # FILE EXPECTED-REGEX SED-EXPR
    sed "$3" "$1" > "$T/bad.conf"
    local out
    out=$("$SIPWALLD" -c "$T/bad.conf" --check-config 2>&1 || true)
    check "refused: $2 ($out)" bash -c "echo \"\$1\" | grep -qE \"\$2\"" _ "$out" "$2"
}
badline "$T/a.conf" 'bad.conf:11: intel-push: .*plain HTTP' "s|^intel-push https://$B|intel-push http://$B|"
badline "$T/a.conf" 'bad.conf:12: intel-push: cert and key go together' "12s| key $T/pki/opa-node.key||"
badline "$T/a.conf" 'bad.conf:12: intel-push queue: 0 is out of range' "12s|queue 50|queue 0|"
badline "$T/b.conf" 'bad.conf:15: intel-push-peer needs admin-api with client-ca' "s| client-ca $T/pki/ca.pem||"
badline "$T/b.conf" 'bad.conf:15: intel-push-peer: usage' "s|org OPA|OPA|"

# ---- B's core and a sender ----------------------------------------------------------------
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
    s.sendto((f"OPTIONS sip:+4930123456@{dst}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{cid}\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:+4989111222@{src}>;tag={cid}\r\nTo: <sip:+4930123456@{dst}>\r\n"
              f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), (dst, port))
    s.close()
PYS
$PY "$T/core.py" "$BCORE" "$BCORE_PORT" "$T/core.seen" &
CPID=$!
N=0
reached() {
    N=$((N + 1))
    local cid="c$N-$RANDOM"
    $PY "$T/send.py" "$B" "$PORT" "$1,$cid"
    for _ in $(seq 1 15); do
        grep -qx "$cid" "$T/core.seen" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
held() { ! reached "$1"; }

start() { # a|b
    local conf=$T/$1.conf sock=$T/$1.sock pid
    rm -f "$sock"
    "$SIPWALLD" -c "$conf" 2>> "$T/$1-stderr.log" &
    pid=$!
    for _ in $(seq 1 100); do
        [ -S "$sock" ] && timeout 5 "$SIPWALLD" -c "$conf" ctl stats > /dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null || die "sipwalld $1 died at start: $(tail -5 "$T/$1-stderr.log")"
        sleep 0.1
    done
    case $1 in a) APID=$pid ;; b) BPID=$pid ;; *) CPID_NODE=$pid ;; esac
}
stop() { # a|b: exit status
    local pid rc=0
    case $1 in a) pid=$APID; APID= ;; b) pid=$BPID; BPID= ;; *) pid=$CPID_NODE; CPID_NODE= ;; esac
    kill "$pid"
    wait "$pid" || rc=$?
    return $rc
}
pushes() { actl intel pushes; }
live() { j "$(pushes)" "r['pushes'][0]['$1']"; }
wait_delivered() { # N: the live receiver has delivered N objects (10 s)
    for _ in $(seq 1 100); do
        [ "$(live delivered)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

start b
start a
now_ms() { echo $(($(date +%s%N) / 1000000)); }
NOW=$(now_ms)
HOUR=$((NOW + 3600000))
SCAN="OPA,sip_scan,ipv4,$NETB.30,90,block,$NOW,$HOUR"
$SIGN batch "$T/OPA.key" OPA:1 "$SCAN" "OPA,sip_scan,ipv4,$NETB.31,90,block,$NOW,$HOUR" \
    "OPA,sip_scan,ipv4,$NETB.45,90,block,$NOW,$HOUR,tamper" > "$T/p1a.json"
$SIGN batch "$T/ZZ02.key" ZZ02:1 "ZZ02,sip_scan,ipv4,$NETB.33,90,block,$NOW,$HOUR" > "$T/p1b.json"
$PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])) + json.load(open(sys.argv[2]))))' \
    "$T/p1a.json" "$T/p1b.json" > "$T/p1.json"
TAMPERED=$(j "$(cat "$T/p1a.json")" 'r[2]["indicator"]["value"]')
check "before anything is pushed: $NETB.30 reaches B's core" reached "$NETB.30"
r=$(actl intel publish "$T/p1.json")
check "ctl intel publish: 4 objects queued for 2 receivers ($r)" bash -c "echo '$r' | grep -q '^ok 4 objects queued for 2 receivers'"
check "A delivers the 4 objects to B" wait_delivered 4
check "B enforces OPA's first scanner" held "$NETB.30"
check "B enforces OPA's second scanner" held "$NETB.31"
check "the tampered object blocks nothing ($TAMPERED passes)" reached "$TAMPERED"
check "ZZ02's object, pushed by OPA, blocks nothing at B (not relayed)" reached "$NETB.33"
list=$(bctl intel)
check "B counted 1 quarantined, and the batch came from partner OPA" \
    [ "$(j "$list" 'r["stats"]["quarantined"]')" = 1 ]
# the log line is written by B's control thread a moment after the reply
log_has() { for _ in $(seq 1 30); do grep -q "$1" "$2" && return 0; sleep 0.1; done; return 1; }
check "B's log names the pushing partner and the refusal" \
    log_has "batch from partner:OPA cert:opa-node: .* 1 quarantined, some refused: not the pushing partner's own" "$T/b.log"

# revocation and replay
$SIGN batch "$T/OPA.key" OPA:1 "OPA,sip_scan,ipv4,$NETB.30,90,block,$((NOW + 1000)),$HOUR,revoked" > "$T/p2.json"
actl intel publish "$T/p2.json" > /dev/null
check "the revocation is delivered" wait_delivered 5
check "after the revocation $NETB.30 passes at B" reached "$NETB.30"
$SIGN batch "$T/OPA.key" OPA:1 "$SCAN" > "$T/p3.json"
actl intel publish "$T/p3.json" > /dev/null
check "the old version is delivered again (2xx: idempotent)" wait_delivered 6
check "and changes nothing: $NETB.30 still passes" reached "$NETB.30"
ID=$($SIGN id OPA:1 "$SCAN")
check "B: the indicator is withdrawn" [ "$(j "$(bctl intel show "$ID")" 'r["state"]')" = withdrawn ]

# the receiver's door: a stranger, the media type, other paths
url=https://$B:$API_PORT
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.pem" --cert "$T/pki/stranger.pem" \
    --key "$T/pki/stranger.key" -H 'Content-Type: application/json' --data-binary @"$T/p1a.json" "$url/v1/intel/push" || true)
check "a certificate bound to no partner, without the token: 401 ($code)" [ "$code" = 401 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.pem" --cert "$T/pki/opa-node.pem" \
    --key "$T/pki/opa-node.key" -H 'Content-Type: text/plain' --data-binary @"$T/p1a.json" "$url/v1/intel/push" || true)
check "the push path takes application/json only: 415 ($code)" [ "$code" = 415 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.pem" --cert "$T/pki/opa-node.pem" \
    --key "$T/pki/opa-node.key" "$url/v1/blocks" || true)
check "OPA's certificate opens no other path without the token: 401 ($code)" [ "$code" = 401 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.pem" -H 'Content-Type: application/json' \
    --data-binary @"$T/p1a.json" "$url/v1/intel/push" || true)
check "no client certificate: no HTTP answer at all ($code)" [ "$code" = 000 ]
head -c 70000 /dev/zero | tr '\0' ' ' > "$T/big.json"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.pem" --cert "$T/pki/opa-node.pem" \
    --key "$T/pki/opa-node.key" -H 'Content-Type: application/json' --data-binary @"$T/big.json" "$url/v1/intel/push" || true)
check "a body above 60 KiB is refused ($code)" bash -c "[ '$code' = 413 ] || [ '$code' = 000 ]"

# B down: backoff, then delivery
rc=0; stop b || rc=$?
check "B stopped cleanly (exit $rc)" [ "$rc" = 0 ]
$SIGN batch "$T/OPA.key" OPA:1 "OPA,sip_scan,ipv4,$NETB.34,90,block,$(now_ms),$HOUR" > "$T/p4.json"
actl intel publish "$T/p4.json" > /dev/null
sleep 4.5
p=$(pushes)
check "while B is down: 1 waiting, failures >= 3, backoff >= 4 s ($(j "$p" 'r["pushes"][0]'))" \
    [ "$(j "$p" '(r["pushes"][0]["waiting"], r["pushes"][0]["failures"] >= 3, r["pushes"][0]["backoff_s"] >= 4)')" = "(1, True, True)" ]
start b
check "B back: the waiting object is delivered (within 10 s)" wait_delivered 7
check "and enforced at B" held "$NETB.34"
p=$(pushes)
check "the dead receiver's queue of 50 holds 50 and dropped the rest ($(j "$p" 'r["pushes"][1]'))" \
    [ "$(j "$p" '(r["pushes"][1]["waiting"] <= 50, r["pushes"][1]["waiting"] + r["pushes"][1]["dropped"], r["pushes"][1]["delivered"])')" = "(True, 7, 0)" ]
specs=()
for i in $(seq 1 60); do specs+=("OPA,sip_scan,ipv4,$NETB.$((i + 180)),90,block,$(now_ms),$HOUR"); done
$SIGN batch "$T/OPA.key" OPA:1 "${specs[@]}" > "$T/p5.json"
actl intel publish "$T/p5.json" > /dev/null
check "60 more: the live receiver gets all 67" wait_delivered 67
p=$(pushes)
check "the dead receiver: 50 waiting, 17 dropped ($(j "$p" 'r["pushes"][1]'))" \
    [ "$(j "$p" '(r["pushes"][1]["waiting"], r["pushes"][1]["dropped"])')" = "(50, 17)" ]

# ---- the figure ------------------------------------------------------------------------------
srcs=() specs=()
T0=$(now_ms)
for i in $(seq 1 20); do
    srcs+=("$NETB.$((i + 110))")
    specs+=("OPA,sip_scan,ipv4,$NETB.$((i + 110)),90,block,$T0,$((T0 + 3600000))")
done
$SIGN batch "$T/OPA.key" OPA:1 "${specs[@]}" > "$T/p20.json"
cat > "$T/measure.py" <<'PYM'
# Publishes at A (ctl intel publish, t0 just before), then probes every
# source at B with one OPTIONS each 20 ms; a source's delay is when its
# first probe was sent that never reached B's core and after which none did.
import socket, subprocess, sys, time, statistics
sipwalld, conf, batch, dst, port, seen = sys.argv[1:7]
srcs = sys.argv[7:]
socks = {}
for s in srcs:
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind((s, 0)); socks[s] = k
t0 = time.monotonic()
subprocess.Popen([sipwalld, "-c", conf, "ctl", "intel", "publish", batch], stdout=subprocess.DEVNULL)
sent = {s: [] for s in srcs}
n = 0
while time.monotonic() - t0 < 3.0:
    for s in srcs:
        n += 1
        cid = f"f{n}"
        k = socks[s]
        k.sendto((f"OPTIONS sip:+4930123456@{dst} SIP/2.0\r\nVia: SIP/2.0/UDP {s}:{k.getsockname()[1]};branch=z9hG4bK{cid}\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:+4989111222@{s}>;tag={cid}\r\nTo: <sip:+4930123456@{dst}>\r\n"
                  f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), (dst, int(port)))
        sent[s].append((cid, (time.monotonic() - t0) * 1000))
    time.sleep(0.02)
time.sleep(0.5)
got = set(open(seen).read().split())
delays = []
for s in srcs:
    last = max((i for i, (cid, _) in enumerate(sent[s]) if cid in got), default=-1)
    if last + 1 < len(sent[s]):
        delays.append(sent[s][last + 1][1])
v = sorted(delays)
print(len(v), "%.0f" % statistics.median(v) if v else "nan", "%.0f" % v[-1] if v else "nan")
PYM
read -r nblk med worst < <($PY "$T/measure.py" "$SIPWALLD" "$T/a.conf" "$T/p20.json" "$B" "$PORT" "$T/core.seen" "${srcs[@]}")
check "all 20 pushed sources refused at B within 3 s" [ "$nblk" = 20 ]
echo "figure: push (A ctl intel publish -> POST /v1/intel/push at B, mutual TLS): 20 signed indicators -> each source refused at B; median ${med} ms, worst ${worst} ms after publication"

# ---- A's own detections, pushed by its publisher -------------------------------------------
start c
SCANNER=$NETA.50
check "before A detects it, the scanner reaches B" reached "$SCANNER"
before=$(live queued)
$PY - "$A" "$A_PORT" "$SCANNER" <<'PYSCAN'
import socket, sys, time
dst, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
p = s.getsockname()[1]
for i in range(3):
    s.sendto((f"OPTIONS sip:100@{dst}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {src}:{p};branch=z9hG4bKscan{i};rport\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:100@{src}>;tag=s{i}\r\nTo: <sip:100@{dst}>\r\n"
              f"Call-ID: scan-{i}@{src}\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\n"
              "Content-Length: 0\r\n\r\n").encode(), (dst, port))
    time.sleep(0.01)
PYSCAN
t0=$(now_ms)
got=
for _ in $(seq 1 100); do
    if bctl intel 2> /dev/null | grep -q "\"$SCANNER\""; then got=$(now_ms); break; fi
    sleep 0.1
done
check "A's publisher pushed its own sip_scan indicator on $SCANNER to B ($([ -n "$got" ] && echo "$((got - t0)) ms after the scan" || echo "not within 10 s"))" \
    [ -n "$got" ]
check "A's push queue took the publisher's objects (queued $before -> $(live queued))" [ "$(live queued)" -gt "$before" ]
bi=$(bctl intel)
check "B holds it as enforced, from producer OPA signed by A's own key OPA:2" \
    [ "$(j "$bi" "[(e['state'], e['producer'], e['kid'], e['event_type']) for e in r['indicators'] if e['value'] == '$SCANNER']")" = "[('enforced', 'OPA', 'OPA:2', 'sip_scan')]" ]
check "B refuses the scanner A detected" held "$SCANNER"
got=
for _ in $(seq 1 100); do
    if cctl intel 2> /dev/null | grep -q "\"$SCANNER\""; then got=$(now_ms); break; fi
    sleep 0.1
done
check "C pulled it from A's own TAXII collection ($([ -n "$got" ] && echo "$((got - t0)) ms after the scan" || echo "not within 10 s"))" \
    [ -n "$got" ]
ci=$(cctl intel)
check "C holds it as enforced, from producer OPA signed by A's own key OPA:2" \
    [ "$(j "$ci" "[(e['state'], e['producer'], e['kid'], e['event_type']) for e in r['indicators'] if e['value'] == '$SCANNER']")" = "[('enforced', 'OPA', 'OPA:2', 'sip_scan')]" ]
cp=$(cctl intel pulls)
check "C's pull: no error, at least one object accepted, a cursor ($(echo "$cp" | head -c 300))" \
    [ "$(j "$cp" "(lambda p: p['errors'] == 0 and p['accepted'] >= 1 and bool(p['added_after']))(r['pulls'][0])")" = True ]
rc=0; stop c || rc=$?
check "C stopped cleanly (exit $rc)" [ "$rc" = 0 ]

rc=0; stop a || rc=$?
check "A stopped cleanly (exit $rc)" [ "$rc" = 0 ]
rc=0; stop b || rc=$?
check "B stopped cleanly (exit $rc), no sanitizer report" \
    bash -c "[ $rc = 0 ] && ! grep -qE 'Sanitizer|runtime error' '$T/a-stderr.log' '$T/b-stderr.log'"
[ "$fails" = 0 ] || { for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
rm -rf "$T"
echo "all intel-push checks passed"
