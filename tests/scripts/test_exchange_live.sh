#!/usr/bin/env bash
# Detection at A to enforcement at B, with nothing in between but the two
# operators' sipwalld nodes (docs/exchange-intel.md "Detection to
# enforcement"), on loopback 127.248.0.0/16.
#   Operator OPA: sipwalld A (inline) detects, and its own publisher
#   (`publish`, `taxii` lines) turns the detections through A's export
#   policy into signed FSE objects: into A's TAXII collection, served on
#   A's admin API (mutual TLS + Basic), and pushed to B2 (`intel-push`).
#   Operator OPB: B1 pulls A's collection (`intel-pull ... every 1`), B2
#   takes A's pushes (`intel-push-peer`, A's certificate only).  No offline
#   export, no test responder: what B enforces is what A published itself.
# Checks and figures:
#   1. a Wangiri campaign over three calling ranges and calls into an IRSF
#      range (SIPp, through A): A publishes the ranges (calling_range,
#      called_prefix) and B1 and B2 refuse the next call of every A-number
#      and into the IRSF range; per range, A's first event naming it ->
#      the first refused probe at B (probes run during the campaign);
#   2. 20 scanners, one after the other at random gaps: each scanner's
#      detection at A (its sip_scan event) -> B1 and B2 refuse its calls,
#      median and worst over the 20, pull and push;
#   3. OPA withdraws the indicators covering one A-number with `sipwall
#      admin exchange revoke` (A's admin API): B1 and B2 lift them, the
#      other ranges stay refused.
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SIPWALL=${SIPWALL:-build/sipwall}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
SW_SRC=$(cd "$SW_SRC" && pwd)
T=$(mktemp -d "$SW_BUILD/test_exchange_live.XXXXXX")
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
j() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
command -v sipp > /dev/null || die "sipp is not installed (scripts/install-deps)"
command -v curl > /dev/null || die "curl is not installed (scripts/install-deps)"

N0=127.248
A=$N0.0.1 ACORE=$N0.0.3
B1=$N0.1.1 B1CORE=$N0.1.3 B2=$N0.1.101 B2CORE=$N0.1.103
WSRC=$N0.2.10 PBX=$N0.2.50 CLEAN=$N0.2.60
PORT=$((20000 + RANDOM % 20000))
CORE_PORT=$((PORT + 1)) API_PORT=$((PORT + 2))
COLL=2d7f1c9a-5b3e-4c8d-9a1f-6e2b7c3d4f50

# ---- PKI (one CA for the test), signing key, secrets --------------------------------
mkdir -p "$T/pki"
(
    set -e
    cd "$T/pki"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj /CN=live-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    mk() { # NAME EXT
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
        openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
        printf '%b' "$2" > "$1.ext"
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
            -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    }
    mk a-api "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:$A\n"
    mk b2-api "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:$B2\n"
    mk opa-node "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    mk opb-node "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    chmod 600 ./*.key
) > "$T/pki.log" 2>&1 || die "PKI: $(tail -3 "$T/pki.log")"
mkdir -p "$T/b-keys"
"$SIPWALL" exchange keygen --kid OPA:2026-12 --key "$T/opa.pem" --jwks "$T/b-keys/OPA.jwks" > /dev/null
printf 'partner OPA trust 90\n' > "$T/b-trust.conf"
echo "opb-$RANDOM-$RANDOM-$RANDOM-$RANDOM" > "$T/opb.pw"
chmod 600 "$T/opb.pw"
"$SIPWALL" exchange taxii-hash < "$T/opb.pw" > "$T/opb.hash"
chmod 600 "$T/opb.hash"
cat > "$T/a-export.policy" <<'EOF'
producer OPA 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11
# trust group opb: what OPB gets
export sip_scan    to opb tlp GREEN confidence 90 action block ttl 6h
export wangiri_cli to opb tlp AMBER confidence 90 action block indicator calling_range ttl 1d
export irsf_call   to opb tlp AMBER confidence 90 action block indicator called_prefix prefix 7 ttl 1d
EOF
"$SIPWALL" exchange policy-check "$T/a-export.policy" > /dev/null || die "the export policy is refused"
# A: its detectors on except flood (this synthetic load from one address
# would trip it first).  B: its own detectors off, so that only what A
# shares refuses B's test calls.
printf 'zone unknown {\n    admit screen\n    trust untrusted\n}\ndetector flood { off }\n' > "$T/a.policy"
{ cat "$T/a.policy"; printf 'detector scan { off }\ndetector irsf { off }\ndetector wangiri { off }\n'; } > "$T/b.policy"

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
conf_common a "$A" $N0.0.2 "$ACORE" > "$T/a.conf"
cat >> "$T/a.conf" <<EOF
events-db $T/a-events.db
admin-api listen $A:$API_PORT cert $T/pki/a-api.pem key $T/pki/a-api.key client-ca $T/pki/ca.pem credential $T/a-admin.hash
taxii store $T/a-taxii.db
taxii api-root api1 title "OPA TAXII"
taxii collection $COLL alias indicators title "OPA indicators for OPB" publish
taxii user opb secret file:$T/opb.hash read indicators
publish export-policy $T/a-export.policy sign-key $T/opa.pem kid OPA:2026-12 group opb refresh 3600
intel-push https://$B2:$API_PORT/v1/intel/push ca $T/pki/ca.pem cert $T/pki/opa-node.pem key $T/pki/opa-node.key
EOF
conf_common b1 "$B1" $N0.1.2 "$B1CORE" > "$T/b1.conf"
cat >> "$T/b1.conf" <<EOF
intel trust $T/b-trust.conf keys $T/b-keys tick 1
intel-pull https://$A:$API_PORT/taxii2/api1/ collection $COLL org OPA every 1 user opb password-file $T/opb.pw ca $T/pki/ca.pem cert $T/pki/opb-node.pem key $T/pki/opb-node.key
EOF
conf_common b2 "$B2" $N0.1.102 "$B2CORE" > "$T/b2.conf"
cat >> "$T/b2.conf" <<EOF
intel trust $T/b-trust.conf keys $T/b-keys tick 1
admin-api listen $B2:$API_PORT cert $T/pki/b2-api.pem key $T/pki/b2-api.key client-ca $T/pki/ca.pem credential $T/b2-admin.hash
intel-push-peer opa-node org OPA
EOF
for n in a b1 b2; do
    "$SIPWALLD" -c "$T/$n.conf" --check-config > "$T/$n-check.log" 2>&1 || die "$n.conf refused: $(tail -3 "$T/$n-check.log")"
done

# ---- cores: B's record the Call-IDs they get; A's is SIPp (180, then CANCEL) ---------------
for n in b1:$B1CORE b2:$B2CORE; do
    $PY "$SW_SRC/tests/peers/callid_core.py" "${n#*:}" "$CORE_PORT" "$T/${n%%:*}-core.seen" &
    PIDS+=($!)
done
sipp -nostdin -sf "$SW_SRC/tests/peers/scenarios/uas_cancel.xml" -i "$ACORE" -p "$CORE_PORT" \
    -trace_err -error_file "$T/uas.errors.log" > "$T/uas.log" 2>&1 &
PIDS+=($!)

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
for n in b2 a b1; do start $n; done

# ---- probing B: one INVITE per Call-ID; reached when B's core got it -----------------
cat > "$T/invite.py" <<'PYI'
# invite.py DST PORT SRC CALLER CALLEE CALLID
import socket, sys
dst, port, src, caller, callee, cid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
lp = s.getsockname()[1]
s.sendto((f"INVITE sip:{callee}@{dst}:{port};user=phone SIP/2.0\r\n"
          f"Via: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{cid}\r\nMax-Forwards: 70\r\n"
          f"From: <sip:{caller}@{src};user=phone>;tag={cid}\r\nTo: <sip:{callee}@{dst};user=phone>\r\n"
          f"Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:{caller}@{src}:{lp}>\r\nContent-Length: 0\r\n\r\n").encode(),
         (dst, port))
PYI
N=0
reached() { # NODE SRC CALLER [CALLEE]: 0 when the INVITE reaches NODE's core within 1.5 s
    N=$((N + 1))
    local cid="r$N-$RANDOM$RANDOM" dst
    if [ "$1" = b1 ]; then dst=$B1; else dst=$B2; fi
    $PY "$T/invite.py" "$dst" "$PORT" "$2" "$3" "${4:-+4930555000$((N % 100))}" "$cid"
    for _ in $(seq 1 15); do
        grep -qx "$cid" "$T/$1-core.seen" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
held() { ! reached "$@"; }
W1=+882130100111 W15=+882131500111 # two of the campaign's A-numbers, in two ranges
check "before A shares anything: W1's call reaches B1" reached b1 "$WSRC" "$W1"
check "before A shares anything: W1's call reaches B2" reached b2 "$WSRC" "$W1"

# ---- 1. the campaign through A, B probed per range meanwhile ---------------------------
# Probes: a number of each calling range that the campaign never uses, and a
# call into the IRSF range, each from its own source, at both B nodes every
# 50 ms; a probe's refusal time is when the first INVITE was sent that never
# reached the core, with none reaching it after.
cat > "$T/probe.py" <<'PYP'
# probe.py SECONDS B1 B1SEEN B2 B2SEEN PORT OUT NAME,SRC,CALLER,CALLEE...: wall-clock
# ms of each probe's refusal per node ("nan" when it was not refused)
import json, socket, sys, time
secs, b1, b1seen, b2, b2seen, port, out = float(sys.argv[1]), *sys.argv[2:8]
probes = [p.split(",") for p in sys.argv[8:]]
socks = {}
for _, src, _, _ in probes:
    if src not in socks:
        k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind((src, 0)); socks[src] = k
sent = {}
seq = 0
t_end = time.monotonic() + secs
while time.monotonic() < t_end:
    for node, dst in (("b1", b1), ("b2", b2)):
        for name, src, caller, callee in probes:
            seq += 1
            cid = f"p{seq}-{node}"
            k = socks[src]
            lp = k.getsockname()[1]
            k.sendto((f"INVITE sip:{callee}@{dst}:{port};user=phone SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{cid}\r\nMax-Forwards: 70\r\n"
                      f"From: <sip:{caller}@{src};user=phone>;tag={cid}\r\nTo: <sip:{callee}@{dst};user=phone>\r\n"
                      f"Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:{caller}@{src}:{lp}>\r\n"
                      "Content-Length: 0\r\n\r\n").encode(), (dst, int(port)))
            sent.setdefault((node, name), []).append((cid, time.time() * 1000))
    time.sleep(0.05)
time.sleep(0.5)
res = {}
for node, seen in (("b1", b1seen), ("b2", b2seen)):
    got = set(open(seen).read().split())
    for name, *_ in probes:
        s = sent[(node, name)]
        last = max((i for i, (cid, _) in enumerate(s) if cid in got), default=-1)
        res[f"{node} {name}"] = s[last + 1][1] if last + 1 < len(s) else None
json.dump(res, open(out, "w"))
PYP
{
    echo SEQUENTIAL
    for w in $(seq 1 20); do
        for b in $(seq 1 22); do printf '+88213%02d00111;+3531%02d%02d123\n' "$w" "$b" "$w"; done
    done
} > "$T/wangiri.csv"
{
    echo SEQUENTIAL
    for b in $(seq 1 6); do printf '+493012345678;+88234560%02d\n' "$b"; done
} > "$T/irsf.csv"
$PY "$T/probe.py" 30 "$B1" "$T/b1-core.seen" "$B2" "$T/b2-core.seen" "$PORT" "$T/ranges.json" \
    "+882130,$N0.4.1,+882130999777,+4930555123" "+882131,$N0.4.2,+882131999777,+4930555123" \
    "+882132,$N0.4.3,+882132999777,+4930555123" "+8823456,$N0.4.4,+4930999777,+88234569999" &
PROBE=$!
PIDS+=($PROBE)
sleep 1
timeout 90 sipp -nostdin -sf "$SW_SRC/tests/peers/scenarios/uac_cancel_inf.xml" -inf "$T/wangiri.csv" \
    -i "$WSRC" -p 0 -m 440 -r 100 -l 300 -recv_timeout 3000 -timeout 40s -trace_err -error_file "$T/wangiri.errors.log" \
    "$A:$PORT" > "$T/sipp-wangiri.log" 2>&1 || true
timeout 60 sipp -nostdin -sf "$SW_SRC/tests/peers/scenarios/uac_cancel_inf.xml" -inf "$T/irsf.csv" \
    -i "$PBX" -p 0 -m 6 -r 10 -recv_timeout 3000 -timeout 15s -trace_err -error_file "$T/irsf.errors.log" \
    "$A:$PORT" > "$T/sipp-irsf.log" 2>&1 || true
wait "$PROBE" || die "the range probes failed"
nc=$(grep '"event_type":"wangiri_cli"' "$T/a-events.jsonl" | grep -c '"rule":"wangiri.campaign"' || true)
ni=$(grep -c '"event_type":"irsf_call"' "$T/a-events.jsonl" || true)
check "A detected the campaign ($nc wangiri.campaign events) and the IRSF calls ($ni irsf_call events)" \
    [ "$nc" -ge 1 -a "$ni" -ge 1 ]
# what A published itself, read back over its own TAXII server
TX=(-sS --max-time 10 --cacert "$T/pki/ca.pem" --cert "$T/pki/opb-node.pem" --key "$T/pki/opb-node.key"
    -u "opb:$(cat "$T/opb.pw")" -H 'Accept: application/taxii+json;version=2.1')
OBJS=https://$A:$API_PORT/taxii2/api1/collections/$COLL/objects/
for _ in $(seq 1 50); do
    curl "${TX[@]}" "$OBJS?match%5Btype%5D=indicator&limit=1000" > "$T/published.json" 2>> "$T/curl.log" || true
    grep -q "+8823456" "$T/published.json" && break
    sleep 0.2
done
pats=$(j "$(cat "$T/published.json")" "sorted(o['pattern'] for o in r.get('objects', []) if 'LIKE' in o['pattern'])")
check "A's own publisher shared the three calling ranges and the IRSF range as prefix patterns ($pats)" \
    bash -c "for p in +882130 +882131 +882132 +8823456; do echo \"\$1\" | grep -q -- \"\$p%\" || exit 1; done" _ "$pats"
check "every object A published is signed with its key OPA:2026-12" \
    [ "$(j "$(cat "$T/published.json")" "all(list(o['extensions'].values())[0]['sig'].count('.') == 2 for o in r['objects'])")" = True ]
check "no callee's number in what A published" bash -c "! grep -q '+3531' '$T/published.json'"
for w in $(seq 1 20); do
    wn=$(printf '+88213%02d00111' "$w")
    check "B1 (pull) refuses the next call of $wn" held b1 "$N0.5.$w" "$wn"
    check "B2 (push) refuses the next call of $wn" held b2 "$N0.5.$w" "$wn"
done
check "B1 refuses a call into the IRSF range" held b1 "$PBX" +493012345678 +88234561234
check "B2 refuses a call into the IRSF range" held b2 "$PBX" +493012345678 +88234561234
check "a clean caller passes at B1" reached b1 "$CLEAN" +4930999888
check "a clean caller passes at B2" reached b2 "$CLEAN" +4930999888
# per range: A's first event naming it -> the probe's refusal
$PY - "$T/a-events.jsonl" "$T/ranges.json" > "$T/ranges.out" <<'PYR'
import datetime, json, sys
first = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    t = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp() * 1000
    text = json.dumps(e)
    for name in ("+882130", "+882131", "+882132"):
        if e.get("rule") == "wangiri.campaign" and name + "X" in text:
            first[name] = min(first.get(name, t), t)
    if e.get("event_type") == "irsf_call":
        first["+8823456"] = min(first.get("+8823456", t), t)
res = json.load(open(sys.argv[2]))
for k, v in sorted(res.items()):
    node, name = k.split()
    d = "%.0f" % (v - first[name]) if v is not None and name in first else "nan"
    print(node, name, d)
PYR
while read -r node name d; do
    check "$node refused range $name during the campaign, $d ms after A's first event naming it" [ "$d" != nan ]
done < "$T/ranges.out"

# ---- 2. 20 scanners: each detection at A -> its refusal at B1 and B2 -------------------
cat > "$T/scan.py" <<'PYS'
# scan.py A PORT B1 B1SEEN B2 B2SEEN OUT SRC...: per scanner, after a random
# 0..1 s wait: 3 OPTIONS with a scanner's User-Agent to A, then an INVITE
# from it to both B nodes every 20 ms until each refused it (the 3 sent 40 ms
# or more ago stayed out), 6 s at most; writes wall-clock ms of the scan and
# of each node's refusal
import json, random, socket, sys, time
a, port, b1, b1seen, b2, b2seen, out = sys.argv[1:8]
port = int(port)
res = []
seq = 0
for src in sys.argv[8:]:
    time.sleep(random.random())
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind((src, 0)); lp = k.getsockname()[1]
    t_scan = time.time() * 1000
    for i in range(3):
        k.sendto((f"OPTIONS sip:100@{a}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {src}:{lp};branch=z9hG4bKs{i};rport\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:100@{src}>;tag=s{i}\r\nTo: <sip:100@{a}>\r\n"
                  f"Call-ID: scan-{i}@{src}\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\n"
                  "Content-Length: 0\r\n\r\n").encode(), (a, port))
    pending = {"b1": [], "b2": []}
    done = {}
    t0 = time.monotonic()
    while len(done) < 2 and time.monotonic() - t0 < 6.0:
        for n, dst in (("b1", b1), ("b2", b2)):
            if n in done:
                continue
            seq += 1
            cid = f"s{seq}-{n}"
            k.sendto((f"INVITE sip:+4930666{seq % 10000:04d}@{dst}:{port};user=phone SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{cid}\r\nMax-Forwards: 70\r\n"
                      f"From: <sip:+4930777000@{src};user=phone>;tag={cid}\r\nTo: <sip:+4930666{seq % 10000:04d}@{dst};user=phone>\r\n"
                      f"Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:+4930777000@{src}:{lp}>\r\nContent-Length: 0\r\n\r\n").encode(),
                     (dst, port))
            pending[n].append((cid, time.time() * 1000))
        time.sleep(0.02)
        now = time.time() * 1000
        for n, seen in (("b1", b1seen), ("b2", b2seen)):
            if n in done or len(pending[n]) < 4:
                continue
            got = set(open(seen).read().split())
            old = [p for p in pending[n] if now - p[1] >= 40]
            if len(old) >= 3 and not any(c in got for c, _ in old[-3:]):
                last = max((x for x, (c, _) in enumerate(pending[n]) if c in got), default=-1)
                done[n] = pending[n][last + 1][1]
    res.append({"src": src, "scan": t_scan, "b1": done.get("b1"), "b2": done.get("b2")})
json.dump(res, open(out, "w"))
PYS
SCANNERS=()
for i in $(seq 1 20); do SCANNERS+=("$N0.3.$i"); done
$PY "$T/scan.py" "$A" "$PORT" "$B1" "$T/b1-core.seen" "$B2" "$T/b2-core.seen" "$T/scan.json" "${SCANNERS[@]}"
$PY - "$T/a-events.jsonl" "$T/scan.json" > "$T/scan.out" <<'PYF'
import datetime, json, statistics, sys
det = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event_type") != "sip_scan":
        continue
    src = e["src"].rsplit(":", 1)[0]
    t = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp() * 1000
    det[src] = min(det.get(src, t), t)
res = json.load(open(sys.argv[2]))
print("detected", sum(1 for r in res if r["src"] in det))
for n in ("b1", "b2"):
    d = sorted(r[n] - det[r["src"]] for r in res if r[n] is not None and r["src"] in det)
    print(n, len(d), "%.0f" % statistics.median(d) if d else "nan", "%.0f" % d[-1] if d else "nan",
          "%.0f" % d[0] if d else "nan")
PYF
read -r _ ndet < <(sed -n 1p "$T/scan.out")
read -r _ n1 med1 worst1 best1 < <(sed -n 2p "$T/scan.out")
read -r _ n2 med2 worst2 best2 < <(sed -n 3p "$T/scan.out")
check "A detected all 20 scanners (sip_scan events: $ndet)" [ "$ndet" = 20 ]
check "B1 (pull from A's TAXII) refused all 20 scanners ($n1)" [ "$n1" = 20 ]
check "B2 (A's push) refused all 20 scanners ($n2)" [ "$n2" = 20 ]
echo "figure: detection at A (its sip_scan event) -> refusal at B, 20 scanners one after the other:" \
    "pull (every 1 s) median ${med1} ms, worst ${worst1} ms, best ${best1} ms;" \
    "push median ${med2} ms, worst ${worst2} ms, best ${best2} ms"
sed 's/^/figure: range /' "$T/ranges.out"

# ---- 3. OPA withdraws what covers W1, through A's admin API -------------------------------
TOKEN=$(awk '/^ADMIN-TOKEN /{print $2}' "$T/a-stderr.log" | head -n1)
check "A made its admin token at first start" test -n "$TOKEN"
printf '%s\n' "$TOKEN" > "$T/a.token"
chmod 600 "$T/a.token"
ids=$(j "$(ctl b2 intel 1000)" "' '.join(e['id'] for e in r['indicators'] if e['producer'] == 'OPA' and '$W1'.startswith(e['value']))")
check "B2 holds indicators covering W1 ($ids)" test -n "$ids"
for id in $ids; do
    out=$("$SIPWALL" admin --url "https://$A:$API_PORT" --cacert "$T/pki/ca.pem" --cert "$T/pki/opb-node.pem" \
        --key "$T/pki/opb-node.key" --token-file "$T/a.token" exchange revoke "$id" 2>&1) || true
    check "sipwall admin exchange revoke $id ($out)" bash -c "echo '$out' | grep -q '^ok revoked'"
done
lifted() { # NODE: W1's call passes within 5 s
    for _ in $(seq 1 5); do reached "$1" "$N0.5.1" "$W1" && return 0; done
    return 1
}
check "B1 lifts W1 after A's revocation (next pull)" lifted b1
check "B2 lifts W1 after A's revocation (push)" lifted b2
check "B1 still refuses W15 (another range)" held b1 "$N0.5.15" "$W15"
check "B2 still refuses W15 (another range)" held b2 "$N0.5.15" "$W15"
nrev=$(grep -c '"rule":"admin.exchange-revoke"' "$T/a-events.jsonl" || true)
check "each revocation is an audit event at A ($nrev)" [ "$nrev" = "$(echo $ids | wc -w)" ]

for n in b1 b2 a; do
    pid=$(eval echo "\$PID_$n")
    kill "$pid"
    rc=0; wait "$pid" || rc=$?
    check "sipwalld $n stopped cleanly (exit $rc)" [ "$rc" = 0 ]
done
check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$T'/*-stderr.log"
[ "$fails" = 0 ] || { for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
rm -rf "$T"
echo "all exchange-live checks passed"
