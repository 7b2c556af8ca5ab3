#!/usr/bin/env bash
# Partners' intelligence consumed by a real sipwalld on loopback
# (127.208.0.0/16; docs/exchange-intel.md).  Partner ZZ01 is an
# independent producer (tests/tools/fse_sign.py: python3-cryptography
# Ed25519, its own JCS), sipwalld has its JWKS and trusts it (90):
#   - a signed scanner indicator (sip_scan, ipv4, confidence 90, block)
#     is enforced: the scanner's next SIP message is dropped while others
#     pass; the block has origin feed and rule intel.ZZ01.<id>; an event
#     names producer and indicator;
#   - the operator's own range (a policy allowlist) and a partner's SBC
#     are never enforced;
#   - a tampered object and one from a producer without keys are
#     quarantined and block nothing; the rest of their batch is taken;
#   - a newer revoked version lifts the block at once; the older version
#     replayed changes nothing (stale);
#   - ctl intel revoke and the end of valid_until lift a block;
#   - the admin socket lists, shows; the admin API (sipwall admin, HTTPS
#     with a throwaway CA) shows and revokes, an unknown id is a 404; the figure: a batch of 20 indicators
#     from `ctl intel take` to the 20 sources refused (median and worst
#     from the moment the batch is handed over).
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SIPWALL=${SIPWALL:-build/sipwall}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
T=$(mktemp -d "$SW_BUILD/test_intel_sipwalld.XXXXXX")
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
PY=/usr/bin/python3
SIGN="$PY $SW_SRC/tests/tools/fse_sign.py"

NET=127.208.0
IC=$NET.1 CORE=$NET.3 ALPHA=$NET.10 OWN=$NET.20 SCANNER=$NET.30 PLAIN=$NET.40
PORT=$((20000 + RANDOM % 20000))
CORE_PORT=$((PORT + 1))
API_PORT=$((PORT + 2))

# a throwaway CA and the API's server certificate
mkdir -p "$T/pki"
(
    set -e
    cd "$T/pki"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj /CN=intel-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key 2>/dev/null
    openssl req -new -key server.key -subj /CN=server -out server.csr
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s\n' "$IC" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
        -extfile server.ext -out server.pem 2>/dev/null
    chmod 600 ./*.key
) > "$T/pki.log" 2>&1 || die "PKI: $(tail -3 "$T/pki.log")"

mkdir -p "$T/keys" "$T/other"
$SIGN keygen ZZ01 ZZ01:1 "$T/keys"
$SIGN keygen ZZ02 ZZ02:1 "$T/other" # trusted, but sipwalld has no key of it
mv "$T/keys/ZZ01.key" "$T/ZZ01.key"
printf 'partner ZZ01 trust 90\npartner ZZ02 trust 90\n' > "$T/trust.conf"
cat > "$T/partners.policy" <<EOP
zone unknown {
    admit screen
    trust untrusted
}
partner alpha {
    role interconnect
    address $ALPHA/32
}
list own-ranges addresses { $OWN/32 }
rule allow.own-ranges { category cat0
    when src in list own-ranges and method == OPTIONS
    action allow }
EOP
cat > "$T/intel.conf" <<EOF
mode inline
workers 1
policy builtin:default
policy $T/partners.policy
events $T/events.jsonl
log $T/sipwalld.log
log-level info
admin $T/admin.sock
secret $T/secret
listen udp $IC:$PORT side=interconnect
listen udp $NET.2:$PORT side=core
forward udp:$CORE:$CORE_PORT
intel trust $T/trust.conf keys $T/keys tick 1
admin-api listen $IC:$API_PORT cert $T/pki/server.pem key $T/pki/server.key
EOF
CONF=$T/intel.conf
ctl() { timeout 20 "$SIPWALLD" -c "$CONF" ctl "$@"; }

# a config whose trust file is wrong names both lines
printf 'partner ZZ01 trust 90\npartner ZZ02 trust 900\n' > "$T/trust.bad"
sed "s|intel trust $T/trust.conf|intel trust $T/trust.bad|" "$CONF" > "$T/bad.conf"
out=$("$SIPWALLD" -c "$T/bad.conf" --check-config 2>&1 || true)
check "a bad trust file is refused at load with both line numbers ($out)" \
    bash -c "echo '$out' | grep -q 'bad.conf:13: intel: $T/trust.bad:2: trust must be an integer 0..100'"

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
# send.py DST PORT SRC,CALLID...: one OPTIONS from each SRC
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
send() { $PY "$T/send.py" "$IC" "$PORT" "$@"; }
N=0
reached() { # SRC: 0 when an OPTIONS from SRC reaches the core within 1.5 s
    N=$((N + 1))
    local cid="c$N-$RANDOM"
    send "$1,$cid"
    for _ in $(seq 1 15); do
        grep -qx "$cid" "$T/core.seen" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
held() { ! reached "$1"; }

rm -f "$T/admin.sock"
"$SIPWALLD" -c "$CONF" 2> "$T/stderr.log" &
DPID=$!
for _ in $(seq 1 100); do
    [ -S "$T/admin.sock" ] && ctl stats > /dev/null 2>&1 && break
    kill -0 "$DPID" 2>/dev/null || die "sipwalld died at start: $(cat "$T/stderr.log")"
    sleep 0.1
done
ctl stats > /dev/null || die "sipwalld did not come up"
grep -q "keys of 1 partners" "$T/sipwalld.log" || die "the partners' keys were not loaded"
awk '/^ADMIN-TOKEN /{print $2}' "$T/stderr.log" > "$T/token"
[ -s "$T/token" ] || die "no admin API token at the first start"
export SIPWALL_ADMIN_URL=https://$IC:$API_PORT SIPWALL_ADMIN_CACERT=$T/pki/ca.pem
api() { "$SIPWALL" admin --token-file "$T/token" "$@"; }

check "before any intelligence: the scanner's OPTIONS reaches the core" reached "$SCANNER"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
NOW=$(now_ms)
HOUR=$((NOW + 3600000))
S_SCAN="ZZ01,sip_scan,ipv4,$SCANNER,90,block,$NOW,$HOUR"
ID_SCAN=$($SIGN id ZZ01:1 "$S_SCAN")
$SIGN batch "$T/ZZ01.key" ZZ01:1 "$S_SCAN" \
    "ZZ01,sip_scan,ipv4,$OWN,95,block,$NOW,$HOUR" \
    "ZZ01,sip_scan,ipv4,$ALPHA,95,block,$NOW,$HOUR" > "$T/b1.json"
r=$(ctl intel take "$T/b1.json")
j() { $PY -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
check "batch 1: 3 accepted, none quarantined ($r)" [ "$(j "$r" '(r["accepted"], r["quarantined"])')" = "(3, 0)" ]
check "batch 1: the scanner enforced, own range and partner SBC allowlisted" \
    [ "$(j "$r" '[x["state"] for x in r["results"]]')" = "['enforced', 'allowlisted', 'allowlisted']" ]
check "the scanner's next OPTIONS is dropped" held "$SCANNER"
check "another unknown source still passes" reached "$PLAIN"
check "the own range still passes (allowlisted)" reached "$OWN"
blocks=$(ctl blocks)
check "the block is origin feed, rule intel.ZZ01.$ID_SCAN, reason naming the indicator" \
    [ "$(j "$blocks" "[(b['origin'], b['rule'], '$ID_SCAN' in b['reason']) for b in r['blocks'] if b['key'] == '$SCANNER']")" = "[('feed', 'intel.ZZ01.$ID_SCAN', True)]" ]
check "no block on the own range or the partner" \
    [ "$(j "$blocks" "[b['key'] for b in r['blocks'] if b['key'] in ('$OWN', '$ALPHA')]")" = "[]" ]
sleep 1.2
check "an event names producer and indicator (rule intel.ZZ01.$ID_SCAN, intel.block)" \
    grep -q "\"rule\":\"intel.ZZ01.$ID_SCAN\".*intel.block\|intel.block.*\"rule\":\"intel.ZZ01.$ID_SCAN\"" "$T/events.jsonl"
show=$(ctl intel show "$ID_SCAN")
check "ctl intel show: enforced, trust 90, score 81" \
    [ "$(j "$show" '(r["state"], r["trust"], r["score"], r["producer"])')" = "('enforced', 90, 81, 'ZZ01')" ]

# tampered, and from a producer whose key sipwalld does not have; with one good object
S_T="ZZ01,sip_scan,ipv4,$NET.35,90,block,$NOW,$HOUR,tamper"
S_OK="ZZ01,sip_scan,ipv4,$NET.32,90,block,$NOW,$HOUR"
$SIGN batch "$T/ZZ01.key" ZZ01:1 "$S_T" "$S_OK" > "$T/b2a.json"
$SIGN batch "$T/other/ZZ02.key" ZZ02:1 "ZZ02,sip_scan,ipv4,$NET.33,90,block,$NOW,$HOUR" > "$T/b2b.json"
$PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])) + json.load(open(sys.argv[2]))))' \
    "$T/b2a.json" "$T/b2b.json" > "$T/b2.json"
r=$(ctl intel take "$T/b2.json")
check "batch 2: the tampered and the unknown producer's object quarantined, the good one taken ($r)" \
    [ "$(j "$r" '(r["accepted"], r["quarantined"])')" = "(1, 2)" ]
check "the value the tampered object claims passes" reached "$(j "$(cat "$T/b2a.json")" 'r[0]["indicator"]["value"]')"
check "the unknown producer's value (.33) passes" reached "$NET.33"
check "the good object of that batch (.32) is enforced" held "$NET.32"

# revocation: a newer version with revoked:true
LATER=$((NOW + 1000))
$SIGN batch "$T/ZZ01.key" ZZ01:1 "ZZ01,sip_scan,ipv4,$SCANNER,90,block,$LATER,$HOUR,revoked" > "$T/b3.json"
r=$(ctl intel take "$T/b3.json")
check "the revoked version is taken: withdrawn" [ "$(j "$r" 'r["results"][0]["state"]')" = withdrawn ]
check "after the revocation the scanner passes at once" reached "$SCANNER"
r=$(ctl intel take "$T/b1.json")
check "the older version replayed: stale, nothing changes" \
    [ "$(j "$r" 'r["results"][0]["state"]')" = stale ]
check "after the replay the scanner still passes" reached "$SCANNER"

# an operator's revocation over the admin API; expiry
ID32=$($SIGN id ZZ01:1 "$S_OK")
r=$(api intel show "$ID32" 2>&1) || true
check "sipwall admin intel show: enforced" [ "$(j "$r" 'r["state"]')" = enforced ]
r=$(api intel revoke "$ID32" 2>&1) || true
# sipwall admin prints an {"ok":true,"message":M} answer as M
check "sipwall admin intel revoke: ok ($r)" bash -c "echo '$r' | grep -q '^ok indicator $ID32 revoked'"
check "after the API's revoke .32 passes" reached "$NET.32"
# sipwall intel revoke: the same request through the intel command
rc=0; r=$("$SIPWALL" intel revoke 00000000-0000-4000-8000-000000000000 --token-file "$T/token" 2>&1) || rc=$?
check "revoking an unknown indicator: 404, exit 1 ($r)" bash -c "[ $rc = 1 ] && echo '$r' | grep -q 404"
sleep 1.2
check "the API's revoke is an admin_change event (admin.intel-revoke)" grep -q '"rule":"admin.intel-revoke"' "$T/events.jsonl"
r=$(api intel list --limit 2 2>&1) || true
check "sipwall admin intel list --limit 2: 2 of more, truncated" \
    [ "$(j "$r" '(len(r["indicators"]), r["truncated"])')" = "(2, True)" ]
SOON=$(( $(now_ms) + 2500 ))
$SIGN batch "$T/ZZ01.key" ZZ01:1 "ZZ01,sip_scan,ipv4,$NET.34,90,block,$(now_ms),$SOON" > "$T/b4.json"
ctl intel take "$T/b4.json" > /dev/null
check "an indicator valid for 2.5 s is enforced" held "$NET.34"
sleep 3
check "after its valid_until (and the 1 s tick) it passes" reached "$NET.34"

list=$(ctl intel)
# (the expired one is dropped once past valid_until: a replay could not revive it)
check "ctl intel: held and counted ($(j "$list" 'r["stats"]'))" \
    [ "$(j "$list" '(r["total"], r["stats"]["batches"], r["stats"]["quarantined"], r["stats"]["stale"])')" = "(4, 5, 2, 3)" ]

# ---- the figure: a batch of 20 to 20 sources refused ----------------------------
specs=() srcs=()
T0=$(now_ms)
for i in $(seq 1 20); do
    specs+=("ZZ01,sip_scan,ipv4,$NET.$((i + 110)),90,block,$T0,$((T0 + 3600000))")
    srcs+=("$NET.$((i + 110))")
done
$SIGN batch "$T/ZZ01.key" ZZ01:1 "${specs[@]}" > "$T/b5.json"
cat > "$T/measure.py" <<'PYM'
# Hands the batch over (ctl intel take returns once every block is in the
# store), then at once one OPTIONS from each source; a source counts as
# refused when its message has not reached the core 1 s later.  Latency of
# a source = when its message was sent, from the start of the hand-over.
import socket, subprocess, sys, time, statistics
sipwalld, conf, batch, dst, port, seen = sys.argv[1:7]
srcs = sys.argv[7:]
socks = []
for src in srcs:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0)); socks.append(s)
t0 = time.monotonic()
subprocess.run([sipwalld, "-c", conf, "ctl", "intel", "take", batch], check=True, capture_output=True, timeout=20)
sent = []
for i, (src, s) in enumerate(zip(srcs, socks)):
    cid = f"m{i}"
    s.sendto((f"OPTIONS sip:+4930123456@{dst} SIP/2.0\r\nVia: SIP/2.0/UDP {src}:{s.getsockname()[1]};branch=z9hG4bK{cid}\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:+4989111222@{src}>;tag={cid}\r\nTo: <sip:+4930123456@{dst}>\r\n"
              f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), (dst, int(port)))
    sent.append((cid, (time.monotonic() - t0) * 1000))
time.sleep(1.0)
got = set(open(seen).read().split())
v = sorted(ms for cid, ms in sent if cid not in got)
print(len(v), "%.1f" % statistics.median(v) if v else "nan", "%.1f" % v[-1] if v else "nan")
PYM
read -r nblk med worst < <($PY "$T/measure.py" "$SIPWALLD" "$CONF" "$T/b5.json" "$IC" "$PORT" "$T/core.seen" "${srcs[@]}")
check "all 20 sources of the batch refused at their first message after the hand-over" [ "$nblk" = 20 ]
echo "figure: 20 signed indicators handed over (ctl intel take) -> each source's first message refused; sent at median ${med} ms, worst ${worst} ms after the hand-over began"

rc=0
kill "$DPID"
wait "$DPID" || rc=$?
DPID=
check "sipwalld stopped cleanly (exit $rc, no sanitizer report)" \
    bash -c "[ $rc = 0 ] && ! grep -qE 'Sanitizer|runtime error' '$T/stderr.log'"
[ "$fails" = 0 ] || { for f in "$T"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
rm -rf "$T"
echo "all intel checks passed"
