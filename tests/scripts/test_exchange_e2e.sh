#!/usr/bin/env bash
# Two operators end to end on loopback 127.238.0.0/16 (docs/exchange-intel.md,
# README "Exchanging with another operator").
#   Operator OPA: sipwalld A (inline), its own Ed25519 key (sipwall exchange
#   keygen), export policy for its trust group "opb".  SIPp sends a Wangiri
#   campaign (20 A-numbers in three calling ranges +882130/1/2, each
#   calling 22 numbers and cancelling while it rings) and a PBX's calls
#   into one IRSF number range through A, which detects them: the campaign
#   per calling range (wangiri.campaign), per A-number where the detector
#   still sees one, and the IRSF calls.  A publishes what the capture of
#   that traffic shares (`sipwall check --export-policy --export-fse
#   --sign-key`): the campaign's calling ranges and the IRSF called range
#   as e164_prefix indicators, A-numbers as e164 ones; two ways: pushed by
#   A (`ctl intel publish`, intel-push, mutual TLS) and in A's TAXII
#   collection (served here by tests/peers/taxii_responder.py from A's
#   exported objects, mutual TLS + Basic).
#   Operator OPB: its own key and trust group; two sipwalld nodes: B1 pulls
#   A's collection (intel-pull every 1 s), B2 receives A's pushes
#   (intel-push-peer; only A's certificate).  Both trust OPA at 90.
# Checks: B1 and B2 reject the next call of each of the 20 A-numbers (any
# source) and the next call into the IRSF range from their own traffic;
# other callers pass; A revokes the indicators covering one A-number (new
# versions, revoked, re-signed) and B1 and B2 lift them while the other
# ranges hold; a tampered object is quarantined at both; the older
# versions replayed change nothing.  The figure: publication at A ->
# refusal at B over the 21 probes (each its own number; the indicators
# are fewer: ranges), pull and push, median and worst; and A's detection
# (its event) -> refusal at B, which here includes the offline export step.
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SIPWALL=${SIPWALL:-build/sipwall}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
SW_SRC=$(cd "$SW_SRC" && pwd)
T=$(mktemp -d "$SW_BUILD/test_exchange_e2e.XXXXXX")
T=$(cd "$T" && pwd)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
die() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do echo "--- $f" >&2; tail -15 "$f" >&2; done; exit 1; }
ok() { echo "ok:   $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
PY=/usr/bin/python3
RESP="$PY $SW_SRC/tests/peers/taxii_responder.py"
j() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
command -v sipp > /dev/null || die "sipp is not installed (scripts/install-deps)"
command -v tshark > /dev/null || die "tshark is not installed (scripts/install-deps)"

A=127.238.0.1 ACORE=127.238.0.3
B1=127.238.1.1 B1CORE=127.238.1.3 B2=127.238.1.101 B2CORE=127.238.1.103
WSRC=127.238.2.10 PBX=127.238.2.50 CLEAN=127.238.2.60 SRV=127.238.3.5
PORT=$((20000 + RANDOM % 20000))
CORE_PORT=$((PORT + 1)) API_PORT=$((PORT + 2)) TX_PORT=$((PORT + 3))
COLL=9a1c2b3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d

# ---- the two operators' PKI (one CA for the test) and signing keys ------------
mkdir -p "$T/pki"
(
    set -e
    cd "$T/pki"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj /CN=e2e-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    mk() { # NAME EXT
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
        openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
        printf '%b' "$2" > "$1.ext"
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
            -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    }
    mk b2-api "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:$B2\n"
    mk taxii "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:$SRV\n"
    mk opa-node "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    mk opb-node "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    chmod 600 ./*.key
) > "$T/pki.log" 2>&1 || die "PKI: $(tail -3 "$T/pki.log")"
mkdir -p "$T/b-keys"
"$SIPWALL" exchange keygen --kid OPA:2026-12 --key "$T/opa.pem" --jwks "$T/b-keys/OPA.jwks" > /dev/null
"$SIPWALL" exchange keygen --kid OPB:2026-12 --key "$T/opb.pem" --jwks "$T/opb.jwks" > /dev/null
printf 'partner OPA trust 90\n' > "$T/b-trust.conf"
printf 'Pull-secret-2026\n' > "$T/b-pw" && chmod 600 "$T/b-pw"
cat > "$T/a-export.policy" <<'EOF'
producer OPA 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11
# trust group opb: what OPB gets
export wangiri_cli to opb tlp AMBER confidence 90 action block indicator calling_range ttl 1d
export irsf_call   to opb tlp AMBER confidence 90 action block indicator called_prefix prefix 7 ttl 1d
EOF
"$SIPWALL" exchange policy-check "$T/a-export.policy" > /dev/null || die "the export policy is refused"
# A: the detectors under test (wangiri, irsf) on; flood and scan off, which
# this synthetic load from one address would trip first.  B: its own
# detectors off, so that only intelligence refuses its test calls.
printf 'zone unknown {\n    admit screen\n    trust untrusted\n}\ndetector flood { off }\ndetector scan { off }\n' \
    > "$T/a.policy"
{ cat "$T/a.policy"; printf 'detector irsf { off }\ndetector wangiri { off }\n'; } > "$T/b.policy"

conf_common() { # NAME IC CORE-SIDE CORE
    cat <<EOF
mode inline
workers 1
policy builtin:default
policy $T/${1:0:1}.policy
events $T/$1-events.jsonl
log $T/$1.log
log-level info
admin $T/$1.sock
secret $T/$1.secret
listen udp $2:$PORT side=interconnect
listen udp $3:$PORT side=core
forward udp:$4:$CORE_PORT
EOF
}
conf_common a "$A" 127.238.0.2 "$ACORE" > "$T/a.conf"
echo "intel-push https://$B2:$API_PORT/v1/intel/push ca $T/pki/ca.pem cert $T/pki/opa-node.pem key $T/pki/opa-node.key" >> "$T/a.conf"
conf_common b1 "$B1" 127.238.1.2 "$B1CORE" > "$T/b1.conf"
cat >> "$T/b1.conf" <<EOF
intel trust $T/b-trust.conf keys $T/b-keys tick 1
intel-pull https://$SRV:$TX_PORT/api1/ collection $COLL org OPA every 1 user opb password-file $T/b-pw ca $T/pki/ca.pem cert $T/pki/opb-node.pem key $T/pki/opb-node.key
EOF
conf_common b2 "$B2" 127.238.1.102 "$B2CORE" > "$T/b2.conf"
cat >> "$T/b2.conf" <<EOF
intel trust $T/b-trust.conf keys $T/b-keys tick 1
admin-api listen $B2:$API_PORT cert $T/pki/b2-api.pem key $T/pki/b2-api.key client-ca $T/pki/ca.pem allow-remote
intel-push-peer opa-node org OPA
EOF
for n in a b1 b2; do
    "$SIPWALLD" -c "$T/$n.conf" --check-config > "$T/$n-check.log" 2>&1 || die "$n.conf refused: $(tail -3 "$T/$n-check.log")"
done

# ---- peers: the TAXII responder (A's collection), cores, capture ------------------
: > "$T/store.jsonl"
$RESP serve --listen "$SRV:$TX_PORT" --store "$T/store.jsonl" --log "$T/requests.jsonl" \
    --cert "$T/pki/taxii.pem" --key "$T/pki/taxii.key" --client-ca "$T/pki/ca.pem" \
    --user opb --password Pull-secret-2026 --collection "$COLL" --page-max 10 2> "$T/responder.log" &
PIDS+=($!)
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
for n in b1:$B1CORE b2:$B2CORE; do
    $PY "$T/core.py" "${n#*:}" "$CORE_PORT" "$T/${n%%:*}-core.seen" &
    PIDS+=($!)
done
# A's core: SIPp answering 180, then the CANCEL
sipp -nostdin -sf "$SW_SRC/tests/peers/scenarios/uas_cancel.xml" -i "$ACORE" -p "$CORE_PORT" \
    -trace_err -error_file "$T/uas.errors.log" > "$T/uas.log" 2>&1 &
PIDS+=($!)
tshark -q -i lo -f "udp and host $A and port $PORT" -w "$T/a.pcap" > "$T/tshark.log" 2>&1 &
TSHARK=$!
PIDS+=($TSHARK)

start() { # NAME
    rm -f "$T/$1.sock"
    "$SIPWALLD" -c "$T/$1.conf" 2>> "$T/$1-stderr.log" &
    local pid=$!
    PIDS+=($pid)
    eval "PID_$1=$pid"
    for _ in $(seq 1 100); do
        [ -S "$T/$1.sock" ] && timeout 5 "$SIPWALLD" -c "$T/$1.conf" ctl stats > /dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || die "sipwalld $1 died at start: $(tail -5 "$T/$1-stderr.log")"
        sleep 0.1
    done
    die "sipwalld $1 did not come up"
}
ctl() { local n=$1; shift; timeout 20 "$SIPWALLD" -c "$T/$n.conf" ctl "$@"; }
for n in a b1 b2; do start $n; done
for _ in $(seq 1 50); do [ -s "$T/a.pcap" ] && break; sleep 0.1; done
sleep 1 # tshark is capturing

# ---- B's own traffic: one INVITE from SRC with caller A-NUMBER -----------------------
cat > "$T/invite.py" <<'PYI'
# invite.py DST PORT SRC CALLER CALLID...: one INVITE per Call-ID
import socket, sys
dst, port, src, caller = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
lp = s.getsockname()[1]
import os
callee = os.environ.get("CALLEE_PREFIX", "+4930555000")
for cid in sys.argv[5:]:
    s.sendto((f"INVITE sip:{callee}{cid[-2:]}@{dst}:{port};user=phone SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{cid}\r\nMax-Forwards: 70\r\n"
              f"From: <sip:{caller}@{src};user=phone>;tag={cid}\r\nTo: <sip:{callee}{cid[-2:]}@{dst};user=phone>\r\n"
              f"Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:{caller}@{src}:{lp}>\r\nContent-Length: 0\r\n\r\n").encode(),
             (dst, port))
PYI
N=0
reached() { # NODE SRC CALLER: 0 when an INVITE reaches NODE's core within 1.5 s
    N=$((N + 1))
    local cid="e$N-$RANDOM$RANDOM" dst core
    if [ "$1" = b1 ]; then dst=$B1; else dst=$B2; fi
    $PY "$T/invite.py" "$dst" "$PORT" "$2" "$3" "$cid"
    for _ in $(seq 1 15); do
        grep -qx "$cid" "$T/$1-core.seen" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
held() { ! reached "$@"; }
W1=+882130100111 # Wangiri A-numbers: +88213WW00111, each in its own prefix
check "before anything is shared: W1's call reaches B1" reached b1 "$WSRC" "$W1"
check "before anything is shared: W1's call reaches B2" reached b2 "$WSRC" "$W1"

# ---- the campaign through A (SIPp) ----------------------------------------------------
{
    echo SEQUENTIAL
    for w in $(seq 1 20); do
        # 22 callees in 22 different number ranges (no IRSF pattern)
        for b in $(seq 1 22); do printf '+88213%02d00111;+3531%02d%02d123\n' "$w" "$b" "$w"; done
    done
} > "$T/wangiri.csv"
{
    echo SEQUENTIAL
    for b in $(seq 1 6); do printf '+493012345678;+88234560%02d\n' "$b"; done
} > "$T/irsf.csv"
timeout 90 sipp -nostdin -sf "$SW_SRC/tests/peers/scenarios/uac_cancel_inf.xml" -inf "$T/wangiri.csv" \
    -i "$WSRC" -p 0 -m 440 -r 100 -l 300 -recv_timeout 3000 -timeout 40s -trace_err -error_file "$T/wangiri.errors.log" \
    "$A:$PORT" > "$T/sipp-wangiri.log" 2>&1 || true
timeout 60 sipp -nostdin -sf "$SW_SRC/tests/peers/scenarios/uac_cancel_inf.xml" -inf "$T/irsf.csv" \
    -i "$PBX" -p 0 -m 6 -r 10 -recv_timeout 3000 -timeout 15s -trace_err -error_file "$T/irsf.errors.log" \
    "$A:$PORT" > "$T/sipp-irsf.log" 2>&1 || true
sleep 1.5
kill -INT "$TSHARK" 2>/dev/null || true
wait "$TSHARK" 2>/dev/null || true
nw=$(grep -c '"event_type":"wangiri_cli"' "$T/a-events.jsonl" || true)
nc=$(grep '"event_type":"wangiri_cli"' "$T/a-events.jsonl" | grep -c '"rule":"wangiri.campaign"' || true)
ni=$(grep -c '"event_type":"irsf_call"' "$T/a-events.jsonl" || true)
check "A detected the Wangiri campaign ($nw wangiri_cli events, $nc of them wangiri.campaign naming a calling range +88213...) and the IRSF calls ($ni irsf_call events)" \
    bash -c "[ '$nc' -ge 1 ] && grep '\"rule\":\"wangiri.campaign\"' '$T/a-events.jsonl' | grep -q 'range +88213[0-9]X' && [ '$ni' -ge 1 ]"

# ---- A publishes: the export of its capture, signed with A's key --------------------------
"$SIPWALL" check --policy builtin:default --policy "$T/a.policy" --export-policy "$T/a-export.policy" \
    --export-group opb --export-fse "$T/a-fse.json" --sign-key "$T/opa.pem" --sign-kid OPA:2026-12 \
    "$T/a.pcap" > "$T/a-check.log" 2>&1 || die "sipwall check --export-fse failed: $(tail -5 "$T/a-check.log")"
kinds=$(j "$(cat "$T/a-fse.json")" 'sorted(set((o["event_type"], o["indicator"]["kind"]) for o in r))')
nobj=$(j "$(cat "$T/a-fse.json")" 'len(r)')
# every Wangiri A-number is covered by a shared calling range (or shared
# itself where a per-number event exists); the IRSF calls by their range
wnums=$(for w in $(seq 1 20); do printf '+88213%02d00111 ' "$w"; done)
cover=$(j "$(cat "$T/a-fse.json")" "(sum(any(n.startswith(o['indicator']['value']) for o in r if o['event_type']=='wangiri_cli' and o['indicator']['kind'] in ('e164', 'e164_prefix')) for n in '$wnums'.split()), any(o['event_type']=='wangiri_cli' and o['indicator']['kind']=='e164_prefix' for o in r), [o['indicator']['value'] for o in r if o['event_type']=='irsf_call'], all(o['sig'] for o in r))")
check "A's export: Wangiri ranges covering all 20 A-numbers, the IRSF range, signed ($nobj objects: $kinds; covered, ranges, IRSF, signed: $cover)" \
    [ "$cover" = "(20, True, ['+8823456'], True)" ]
check "no callee's number in what A shares" bash -c "! grep -q '+3531' '$T/a-fse.json'"

# every source to probe at B: 20 A-numbers from WSRC, and the PBX
probes=()
for w in $(seq 1 20); do probes+=("127.238.2.$((100 + w)),$(printf '+88213%02d00111' "$w"),+4930555"); done
probes+=("$PBX,+493012345678,+8823456") # into the IRSF range
cat > "$T/measure.py" <<'PYM'
# Publishes (runs PUBLISH, a shell command; t0 just before) and probes both
# B nodes: one INVITE per probe (SRC,CALLER,CALLED-PREFIX; four digits are
# added to the called prefix) and node every 50 ms for 8 s; a probe's
# delay is when its first INVITE was sent that never reached the node's
# core and after which none did.  Prints per node: refused median worst.
import socket, subprocess, sys, time, statistics
publish, b1, b1seen, b2, b2seen, port = sys.argv[1:7]
probes = [p.split(",") for p in sys.argv[7:]]
socks = {}
for src, _, _ in probes:
    if src not in socks:
        k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind((src, 0)); socks[src] = k
t0 = time.monotonic()
subprocess.Popen(publish, shell=True)
sent = {(n, i): [] for n in ("b1", "b2") for i in range(len(probes))}
seq = 0
while time.monotonic() - t0 < 8.0:
    for n, dst in (("b1", b1), ("b2", b2)):
        for i, (src, caller, called) in enumerate(probes):
            seq += 1
            cid = f"m{seq}"
            k = socks[src]
            callee = f"{called}{seq % 10000:04d}"
            k.sendto((f"INVITE sip:{callee}@{dst}:{port};user=phone SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {src}:{k.getsockname()[1]};branch=z9hG4bK{cid}\r\nMax-Forwards: 70\r\n"
                      f"From: <sip:{caller}@{src};user=phone>;tag={cid}\r\nTo: <sip:{callee}@{dst};user=phone>\r\n"
                      f"Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:{caller}@{src}:{k.getsockname()[1]}>\r\n"
                      "Content-Length: 0\r\n\r\n").encode(), (dst, int(port)))
            sent[(n, i)].append((cid, (time.monotonic() - t0) * 1000))
    time.sleep(0.05)
time.sleep(0.5)
for n, seen in (("b1", b1seen), ("b2", b2seen)):
    got = set(open(seen).read().split())
    d = []
    for i in range(len(probes)):
        s = sent[(n, i)]
        last = max((x for x, (cid, _) in enumerate(s) if cid in got), default=-1)
        if last + 1 < len(s):
            d.append(s[last + 1][1])
    d.sort()
    print(n, len(d), "%.0f" % statistics.median(d) if d else "nan", "%.0f" % d[-1] if d else "nan")
PYM
$RESP wrap "$T/a-fse.json" > "$T/a-stix.jsonl"
T_PUB=$(date +%s%N)
PUBLISH="cat '$T/a-stix.jsonl' >> '$T/store.jsonl'; '$SIPWALLD' -c '$T/a.conf' ctl intel publish '$T/a-fse.json' > '$T/publish.out'"
$PY "$T/measure.py" "$PUBLISH" "$B1" "$T/b1-core.seen" "$B2" "$T/b2-core.seen" "$PORT" "${probes[@]}" > "$T/measure.out"
read -r _ n1 med1 worst1 < <(sed -n 1p "$T/measure.out")
read -r _ n2 med2 worst2 < <(sed -n 2p "$T/measure.out")
check "B1 (pull) refuses the next call of all 21 probes (20 A-numbers, a call into the IRSF range)" [ "$n1" = 21 ]
check "B2 (push) refuses the next call of all 21 probes" [ "$n2" = 21 ]
check "A pushed its $nobj objects ($(cat "$T/publish.out"))" grep -q "^ok $nobj objects queued for 1 receivers" "$T/publish.out"
echo "figure: publication at A -> refusal at B, 21 probes ($nobj indicators, ranges): pull (every 1 s) median ${med1} ms, worst ${worst1} ms; push median ${med2} ms, worst ${worst2} ms"
# detection at A (its event) -> refusal at B: includes the capture's export
det=$($PY - "$T/a-events.jsonl" "$T_PUB" <<'PYD'
import json, sys, datetime
ts = []
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event_type") in ("wangiri_cli", "irsf_call"):
        t = e.get("ts") or e.get("time")
        ts.append(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp())
print("%.0f" % ((int(sys.argv[2]) / 1e9 - max(ts)) * 1000) if ts else "nan")
PYD
)
echo "figure: A's last detection event -> publication at A: ${det} ms (the test's offline export: capture, sipwall check, signing); add the figures above for detection -> enforcement"
check "a clean caller passes at B1" reached b1 "$CLEAN" +4930999888
check "a clean caller passes at B2" reached b2 "$CLEAN" +4930999888

# ---- the delay over 20 separate publications ------------------------------------------------
# Ranges collapse the campaign into few indicators, so the figure is also
# taken over 20 publications of one indicator each: 20 more Wangiri calling
# ranges +88299WW (A's signed objects, like the campaign's), published one
# at a time (pushed by A and added to its collection); after each, both B
# nodes are probed with a number of the new range every 20 ms until they
# refuse it (5 s at most).  Each publication waits 0..1 s first, so that
# it does not fall in step with B1's polls.
$PY - "$T/a-fse.json" > "$T/each.unsigned.json" <<'PYE'
import json, sys, uuid
tpl = [o for o in json.load(open(sys.argv[1])) if o["indicator"]["kind"] == "e164_prefix"
       and o["event_type"] == "wangiri_cli"][0]
out = []
for w in range(1, 21):
    o = json.loads(json.dumps(tpl))
    o.pop("sig"); o["producer"].pop("kid", None)
    o["indicator"]["value"] = "+88299%02d" % w
    o["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-each|" + o["indicator"]["value"]))
    out.append(o)
print(json.dumps(out))
PYE
"$SIPWALL" exchange sign --key "$T/opa.pem" --kid OPA:2026-12 "$T/each.unsigned.json" > "$T/each.json"
cat > "$T/each.py" <<'PYX'
# each.py EACH.json STORE SIPWALLD ACONF B1 B1SEEN B2 B2SEEN PORT SRC WRAP...: per
# object: publish it alone (t0 just before), probe both nodes every 20 ms
# with a number of its range until refused; prints per node: refused median worst
import json, random, socket, subprocess, sys, time, statistics
objs = json.load(open(sys.argv[1]))
store, sipwalld, aconf, b1, b1seen, b2, b2seen, port, src = sys.argv[2:11]
wrap = sys.argv[11:]
k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind((src, 0))
lp = k.getsockname()[1]
delays = {"b1": [], "b2": []}
seq = 0
for i, o in enumerate(objs):
    one = "%s.%d.json" % (sys.argv[1], i)
    json.dump([o], open(one, "w"))
    stix = subprocess.run(wrap + [one], capture_output=True, text=True, check=True).stdout
    caller = o["indicator"]["value"] + "%06d" % (i + 1)
    time.sleep(random.random()) # not in step with B1's polls
    t0 = time.monotonic()
    open(store, "a").write(stix)
    subprocess.Popen([sipwalld, "-c", aconf, "ctl", "intel", "publish", one], stdout=subprocess.DEVNULL)
    pending = {"b1": [], "b2": []}
    done = {}
    while len(done) < 2 and time.monotonic() - t0 < 5.0:
        for n, dst, seen in (("b1", b1, b1seen), ("b2", b2, b2seen)):
            if n in done:
                continue
            seq += 1
            cid = "x%d" % seq
            k.sendto((f"INVITE sip:+4930666{seq % 10000:04d}@{dst}:{port};user=phone SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{cid}\r\nMax-Forwards: 70\r\n"
                      f"From: <sip:{caller}@{src};user=phone>;tag={cid}\r\nTo: <sip:+4930666{seq % 10000:04d}@{dst};user=phone>\r\n"
                      f"Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:{caller}@{src}:{lp}>\r\nContent-Length: 0\r\n\r\n").encode(),
                     (dst, int(port)))
            pending[n].append((cid, (time.monotonic() - t0) * 1000))
        time.sleep(0.02)
        for n, seen in (("b1", b1seen), ("b2", b2seen)):
            if n in done or len(pending[n]) < 4:
                continue
            got = set(open(seen).read().split())
            # refused from the first INVITE after the last one that passed,
            # once the 3 sent 40 ms or more ago all stayed out
            old = [p for p in pending[n] if (time.monotonic() - t0) * 1000 - p[1] >= 40]
            if len(old) >= 3 and not any(c in got for c, _ in old[-3:]):
                last = max((x for x, (c, _) in enumerate(pending[n]) if c in got), default=-1)
                done[n] = pending[n][last + 1][1]
    for n in done:
        delays[n].append(done[n])
for n in ("b1", "b2"):
    d = sorted(delays[n])
    print(n, len(d), "%.0f" % statistics.median(d) if d else "nan", "%.0f" % d[-1] if d else "nan")
PYX
$PY "$T/each.py" "$T/each.json" "$T/store.jsonl" "$SIPWALLD" "$T/a.conf" "$B1" "$T/b1-core.seen" "$B2" \
    "$T/b2-core.seen" "$PORT" 127.238.2.99 $RESP wrap > "$T/each.out"
read -r _ e1 emed1 eworst1 < <(sed -n 1p "$T/each.out")
read -r _ e2 emed2 eworst2 < <(sed -n 2p "$T/each.out")
check "20 separate publications: B1 (pull) refused each new range ($e1 of 20)" [ "$e1" = 20 ]
check "20 separate publications: B2 (push) refused each new range ($e2 of 20)" [ "$e2" = 20 ]
echo "figure: publication at A -> refusal at B, 20 separate publications of one range each: pull (every 1 s) median ${emed1} ms, worst ${eworst1} ms; push median ${emed2} ms, worst ${eworst2} ms"

# ---- A revokes W1: a new version, revoked, signed again with A's key ----------------------
$PY - "$T/a-fse.json" "$W1" > "$T/w1-revoked.unsigned.json" <<'PYR'
# every indicator that covers W1: its range, and W1 itself where shared
import json, sys, datetime
out = []
for o in json.load(open(sys.argv[1])):
    if not sys.argv[2].startswith(o["indicator"]["value"]):
        continue
    o.pop("sig"); o["producer"].pop("kid", None)
    m = datetime.datetime.strptime(o["modified"], "%Y-%m-%dT%H:%M:%S.%fZ") + datetime.timedelta(seconds=1)
    o["modified"] = m.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (m.microsecond // 1000)
    o["revoked"] = True
    out.append(o)
print(json.dumps(out))
PYR
"$SIPWALL" exchange sign --key "$T/opa.pem" --kid OPA:2026-12 "$T/w1-revoked.unsigned.json" > "$T/w1-revoked.json"
$RESP wrap "$T/w1-revoked.json" >> "$T/store.jsonl"
ctl a intel publish "$T/w1-revoked.json" > /dev/null
sleep 2.5
check "after A's revocation W1's call passes at B1 (pull)" reached b1 "$WSRC" "$W1"
check "after A's revocation W1's call passes at B2 (push)" reached b2 "$WSRC" "$W1"
W1R=$($PY -c 'import json,sys; print(min((o["indicator"]["value"] for o in json.load(open(sys.argv[1]))), key=len))' "$T/w1-revoked.unsigned.json")
W1O=$W1 # another number in W1's range, when a range covers W1
[ ${#W1R} -lt 13 ] && W1O=$W1R$(printf '%0*d' $((13 - ${#W1R})) 7)
check "after A's revocation of $W1R ($(j "$(cat "$T/w1-revoked.unsigned.json")" 'len(r)') indicators cover W1) another number in it ($W1O) passes at B1" reached b1 "$WSRC" "$W1O"
check "the other ranges stay refused at B1 (W10: +882131000111)" held b1 "$WSRC" +882131000111
held_irsf() { CALLEE_PREFIX=+882345600 held "$@"; } # calls into the IRSF range
check "the IRSF range stays refused at B2" held_irsf b2 "$PBX" +493012345678
# the older version replayed, pushed and in the collection
$PY -c 'import json,sys; print(json.dumps([o for o in json.load(open(sys.argv[1])) if sys.argv[2].startswith(o["indicator"]["value"])]))' \
    "$T/a-fse.json" "$W1" > "$T/w1-old.json"
$RESP wrap "$T/w1-old.json" >> "$T/store.jsonl"
ctl a intel publish "$T/w1-old.json" > /dev/null
sleep 2.5
check "the older version replayed: W1 still passes at B1" reached b1 "$WSRC" "$W1"
check "the older version replayed: W1 still passes at B2" reached b2 "$WSRC" "$W1"
# a tampered object: A's signed object for a new number, altered after signing
$PY - "$T/a-fse.json" > "$T/tampered.json" <<'PYT'
import json, sys
o = json.load(open(sys.argv[1]))[1]
o["indicator"]["value"] = "+882139900199"
print(json.dumps([o]))
PYT
q1=$(j "$(ctl b1 intel)" 'r["stats"]["quarantined"]')
q2=$(j "$(ctl b2 intel)" 'r["stats"]["quarantined"]')
$RESP wrap "$T/tampered.json" >> "$T/store.jsonl"
ctl a intel publish "$T/tampered.json" > /dev/null
sleep 2.5
check "the tampered object is quarantined at B1 and B2" \
    [ "$(j "$(ctl b1 intel)" 'r["stats"]["quarantined"]'),$(j "$(ctl b2 intel)" 'r["stats"]["quarantined"]')" = "$((q1 + 1)),$((q2 + 1))" ]
check "tampered number passes at B1" reached b1 "$WSRC" +882139900199
check "tampered number passes at B2" reached b2 "$WSRC" +882139900199
check "B2 took every push from A's certificate only (partner:OPA)" grep -q "batch from partner:OPA cert:opa-node" "$T/b2.log"

# ---- where the shared corpus is: medallion and PyMISP ------------------------------------
# The OASIS TAXII 2.1 server (medallion 3.0.0, vendored in the corpus) on
# 127.239.0.5: A POSTs its objects to a collection (intel-push ... taxii)
# and A's own client pulls them back (intel-pull), verifying its own
# signatures.  PyMISP reads the MISP feed `sipwall check --export-misp`
# writes from A's capture.
SW_SHARED_CORPUS=${SW_SHARED_CORPUS:-$SW_SRC/../shared/corpus}
MED=$SW_SHARED_CORPUS/interop/third_party/medallion-3.0.0
rc=0
if [ -d "$MED" ] && $PY -c 'import flask, flask_httpauth' 2> /dev/null; then
    MHOST=127.239.0.5 MPORT=$((PORT + 4)) MCOLL=365fed99-08fa-fdcd-a1b3-fb247eb41d01
    mkdir -p "$T/medallion"
    cat > "$T/medallion/data.json" <<EOF
{"/discovery": {"title": "medallion", "default": "http://$MHOST:$MPORT/api1/", "api_roots": ["http://$MHOST:$MPORT/api1/"]},
 "api1": {"information": {"title": "root", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 9765625},
          "status": [],
          "collections": [{"id": "$MCOLL", "title": "opa", "can_read": true, "can_write": true,
                           "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}]}}
EOF
    cat > "$T/medallion/config.json" <<EOF
{"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": "$T/medallion/data.json"},
 "users": {"admin": "Password0"}, "taxii": {"max_page_size": 2}}
EOF
    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$MED" $PY "$MED/medallion/scripts/run.py" --host "$MHOST" --port "$MPORT" \
        "$T/medallion/config.json" > "$T/medallion.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 50); do
        curl -sf -u admin:Password0 -H 'Accept: application/taxii+json;version=2.1' "http://$MHOST:$MPORT/taxii2/" > /dev/null && break
        sleep 0.1
    done
    printf 'Password0\n' > "$T/med.pw" && chmod 600 "$T/med.pw"
    mkdir -p "$T/a-keys" && cp "$T/b-keys/OPA.jwks" "$T/a-keys/"
    printf 'partner OPA trust 90\n' > "$T/a-trust.conf"
    eval "pid=\$PID_a"
    kill "$pid"
    wait "$pid" || rc=$?
    cat >> "$T/a.conf" <<EOF
intel-push http://$MHOST:$MPORT/api1/collections/$MCOLL/objects/ user admin password-file $T/med.pw taxii allow-http
intel trust $T/a-trust.conf keys $T/a-keys tick 1
intel-pull http://$MHOST:$MPORT/api1/ collection $MCOLL org OPA every 1 user admin password-file $T/med.pw allow-http
EOF
    start a
    ctl a intel publish "$T/a-fse.json" > /dev/null
    got=0
    for _ in $(seq 1 100); do
        got=$(j "$(ctl a intel pulls)" 'r["pulls"][0]["accepted"]')
        [ "$got" -ge "$nobj" ] && break
        sleep 0.1
    done
    p=$(ctl a intel pushes)
    check "medallion accepted A's TAXII POST: $nobj delivered, no failure in its status ($(j "$p" 'r["pushes"][1]'))" \
        [ "$(j "$p" '(r["pushes"][1]["delivered"], r["pushes"][1]["taxii_failures"])')" = "($nobj, 0)" ]
    n=$(curl -s -u admin:Password0 -H 'Accept: application/taxii+json;version=2.1' \
        "http://$MHOST:$MPORT/api1/collections/$MCOLL/manifest/?limit=100" | $PY -c 'import json,sys; print(len(json.load(sys.stdin).get("objects", [])))' || echo 0)
    check "medallion's manifest lists 2 or more of them (its page size is 2: $n)" [ "$n" -ge 2 ]
    p=$(ctl a intel pulls)
    check "A's client pulled them back from medallion, paging by next, every signature verified ($(j "$p" 'r["pulls"][0]'))" \
        [ "$(j "$p" "(r['pulls'][0]['accepted'], r['pulls'][0]['quarantined'], r['pulls'][0]['pages'] >= ($nobj + 1) // 2)")" = "($nobj, 0, True)" ]
    "$SIPWALL" check --policy builtin:default --policy "$T/a.policy" --export-org OPA --export-misp "$T/misp" \
        "$T/a.pcap" > /dev/null 2>&1 || true
    if $PY "$SW_SHARED_CORPUS/interop/misp/misp_feed_check.py" "$T/misp" > "$T/misp.out" 2>&1; then
        ok "PyMISP reads A's MISP feed: $(tail -n 1 "$T/misp.out")"
    else
        fail "PyMISP on A's MISP feed: $(head -5 "$T/misp.out")"
    fi
else
    echo "skip: medallion and PyMISP (no $MED, or no python3-flask)"
fi

for n in a b1 b2; do
    eval "pid=\$PID_$n"
    kill "$pid"
    wait "$pid" || rc=$?
done
check "the three nodes stopped cleanly (no sanitizer report)" \
    bash -c "[ $rc = 0 ] && ! grep -qE 'Sanitizer|runtime error' '$T'/*-stderr.log"
[ "$fails" = 0 ] || { for f in "$T"/*.log; do echo "--- $f" >&2; tail -15 "$f" >&2; done; exit 1; }
rm -rf "$T"
echo "all end-to-end exchange checks passed"
