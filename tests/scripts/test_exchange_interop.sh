#!/usr/bin/env bash
# FSE v1 signing interoperates both ways with two independent JOSE
# implementations, Debian's python3-jwcrypto and Debian's node-jose (panva
# jose 4.x, NODE_PATH=/usr/share/nodejs), and with npm jose 6 when the
# shared corpus's interop folder is present (npm install into the build dir):
#  - `sipwall exchange keygen` writes a 0600 key and a JWKS, and never
#    overwrites a key;
#  - 20 generated objects signed by sipwall (EdDSA, b64 false and true) verify
#    with each peer over our JCS bytes; sipwall's JCS equals Python's
#    sorted-keys serialisation of the same objects;
#  - each peer's detached JWS over our JCS verifies with sipwall, and a
#    one-byte change of the payload is refused;
#  - objects signed by jwcrypto verify in a batch (`sipwall exchange
#    verify`); a tampered one is quarantined, exit 1, the rest still output;
#  - headers jwcrypto accepts but the spec forbids (b64 without crit,
#    duplicate alg) and alg none/HS256 are refused by sipwall.
# No network.  env: SIPWALL, SW_BUILD, SW_SRC, SW_SHARED_CORPUS.
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
SW_SHARED_CORPUS=${SW_SHARED_CORPUS:-}
export LC_ALL=C
PY=/usr/bin/python3
TOOLS=$(cd "$SW_SRC/tests/tools" && pwd)

fails=0
checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok:   $*"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    checks=$((checks + 1))
    if "$@"; then pass "$what"; else fail "$what"; fi
}
refuses() { ! "$@" >/dev/null 2>&1; }

T=$(mktemp -d "$SW_BUILD/test_exchange_interop.XXXXXX")
T=$(cd "$T" && pwd)
trap 'rm -rf "$T"' EXIT
node_debian() { NODE_PATH=/usr/share/nodejs node "$TOOLS/jose_check.mjs" "$@"; }

# ---- keys ----
check "keygen writes key and JWKS" "$SIPWALL" exchange keygen --kid ZZ01:2026-12 --key "$T/k.pem" --jwks "$T/k.jwks"
check "private key mode 0600" test "$(stat -c %a "$T/k.pem")" = 600
check "JWKS has no private part" refuses grep -q '"d"' "$T/k.jwks"
check "keygen never overwrites a key" refuses "$SIPWALL" exchange keygen --kid ZZ01:x --key "$T/k.pem" --jwks "$T/k2.jwks"

# ---- 20 objects, signed by sipwall ----
"$PY" - "$T/objs.json" <<'PYEOF'
import json, sys
objs = []
for i in range(20):
    objs.append({"spec": "fse/1", "id": "6f1c2a1e-6a5e-5b0e-9c1d-%012x" % i,
                 "modified": "2026-12-07T06:%02d:00.000Z" % i,
                 "producer": {"org": "ZZ01", "node": "6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11"},
                 "event_type": ["sip_scan", "wangiri_cli", "irsf_call"][i % 3],
                 "indicator": [{"kind": "ipv4", "value": "203.0.113.%d" % i},
                               {"kind": "e164", "value": "+8821301%04d" % i},
                               {"kind": "e164_prefix", "value": "+88213%d" % i}][i % 3],
                 "first_seen": "2026-12-07T05:00:00.000Z", "last_seen": "2026-12-07T05:%02d:59.999Z" % i,
                 "count": 1 + i * 1000, "confidence": 50 + i, "severity": "high", "action": "block",
                 "valid_until": "2026-12-08T06:00:00.000Z", "tlp": "AMBER",
                 "context": {"sip_method": "INVITE", "transport": "udp"}})
open(sys.argv[1], "w").write(json.dumps(objs, indent=1))
PYEOF
to() { local out=$1; shift; "$@" > "$out"; }
check "sipwall signs 20 objects (b64 false)" to "$T/signed.json" "$SIPWALL" exchange sign --key "$T/k.pem" --kid ZZ01:2026-12 "$T/objs.json"
check "sipwall signs 20 objects (b64 true)" to "$T/signed64.json" "$SIPWALL" exchange sign --key "$T/k.pem" --kid ZZ01:2026-12 --b64 true "$T/objs.json"

# Every object sipwall wrote is valid against docs/fse-v1.schema.json.
schema_ok() {
    "$PY" - "$SW_SRC/docs/fse-v1.schema.json" "$1" <<'PYEOF'
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
bad = [e.message for o in json.load(open(sys.argv[2])) for e in v.iter_errors(o)]
print(*bad[:3], sep="\n", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
}
check "20 signed objects valid against docs/fse-v1.schema.json" schema_ok "$T/signed.json"

# Split into payload (object without sig, as Python serialises it sorted)
# and JWS; sipwall's own JCS of the payload must be the same bytes.
split() { # split SIGNED.json PREFIX
    "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
for i, o in enumerate(json.load(open(sys.argv[1]))):
    sig = o.pop("sig")
    open("%s.%d.jcs" % (sys.argv[2], i), "w").write(
        json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    open("%s.%d.jws" % (sys.argv[2], i), "w").write(sig)
PYEOF
}
split "$T/signed.json" "$T/o"
split "$T/signed64.json" "$T/b"
n_ok_py=0 n_ok_node=0 n_jcs=0
for i in $(seq 0 19); do
    for p in o b; do
        jws=$(cat "$T/$p.$i.jws")
        "$PY" "$TOOLS/jose_check.py" verify "$T/k.jwks" "$T/$p.$i.jcs" "$jws" && n_ok_py=$((n_ok_py + 1))
        node_debian verify "$T/k.jwks" "$T/$p.$i.jcs" "$jws" EdDSA >/dev/null && n_ok_node=$((n_ok_node + 1))
    done
    "$SIPWALL" exchange jcs "$T/o.$i.jcs" | cmp -s - "$T/o.$i.jcs" && n_jcs=$((n_jcs + 1))
done
check "python3-jwcrypto verifies 40/40 of our signatures ($n_ok_py)" test "$n_ok_py" = 40
check "node-jose verifies 40/40 of our signatures ($n_ok_node)" test "$n_ok_node" = 40
check "our JCS equals the sorted serialisation for 20/20 ($n_jcs)" test "$n_jcs" = 20
printf '%s' "$(cat "$T/o.3.jcs")x" > "$T/tampered.jcs"
check "jwcrypto refuses our signature over changed bytes" refuses "$PY" "$TOOLS/jose_check.py" verify "$T/k.jwks" "$T/tampered.jcs" "$(cat "$T/o.3.jws")"

# ---- their signatures, our verifier ----
"$PY" "$TOOLS/jose_check.py" keygen PY:1 "$T/py.jwk" "$T/py.jwks" 2>/dev/null
node_debian keygen NJ:1 "$T/nj.jwk" "$T/nj.jwks"
for b in false true; do
    s=$("$PY" "$TOOLS/jose_check.py" sign "$T/py.jwk" "$T/o.5.jcs" EdDSA $b 2>/dev/null)
    check "sipwall verifies jwcrypto's JWS (b64 $b)" "$SIPWALL" exchange jws-verify --jwks "$T/py.jwks" "$T/o.5.jcs" "$s"
    check "sipwall refuses jwcrypto's JWS over changed bytes (b64 $b)" refuses "$SIPWALL" exchange jws-verify --jwks "$T/py.jwks" "$T/tampered.jcs" "$s"
    s=$(node_debian sign "$T/nj.jwk" "$T/o.5.jcs" EdDSA $b)
    check "sipwall verifies node-jose's JWS (b64 $b)" "$SIPWALL" exchange jws-verify --jwks "$T/nj.jwks" "$T/o.5.jcs" "$s"
    check "sipwall refuses node-jose's JWS over changed bytes (b64 $b)" refuses "$SIPWALL" exchange jws-verify --jwks "$T/nj.jwks" "$T/tampered.jcs" "$s"
done
check "sipwall refuses a JWS under another partner's key" refuses "$SIPWALL" exchange jws-verify --jwks "$T/nj.jwks" "$T/o.5.jcs" "$("$PY" "$TOOLS/jose_check.py" sign "$T/py.jwk" "$T/o.5.jcs" EdDSA false 2>/dev/null | sed 's/^[^.]*/'"$(printf '{"alg":"EdDSA","kid":"NJ:1","typ":"fse+jws"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')"'/')"

# ---- whole objects signed by jwcrypto, verified as a batch ----
"$PY" "$TOOLS/jose_check.py" sign-objects "$T/py.jwk" "$T/objs.json" "$T/py-signed.json"
check "batch of 20 jwcrypto-signed objects verifies" to "$T/accepted.txt" "$SIPWALL" exchange verify --partner ZZ01="$T/py.jwks" "$T/py-signed.json"
check "20 objects accepted" test "$(wc -l < "$T/accepted.txt")" = 20
sed 's/"count": 7001/"count": 7002/' "$T/py-signed.json" > "$T/py-tampered.json"
"$SIPWALL" exchange verify --partner ZZ01="$T/py.jwks" "$T/py-tampered.json" > "$T/accepted2.txt" 2>"$T/verify2.err"
rc=$?
check "a tampered object makes verify exit 1" test "$rc" = 1
check "19 others still accepted" test "$(wc -l < "$T/accepted2.txt")" = 19
check "the tampered object is listed as quarantined" grep -q "quarantined: ZZ01 6f1c2a1e-6a5e-5b0e-9c1d-000000000007: bad signature" "$T/verify2.err"

# ---- headers the peers tolerate but the spec forbids ----
s=$("$PY" "$TOOLS/jose_check.py" rawsign "$T/py.jwk" '{"alg":"EdDSA","kid":"PY:1"}' "$T/o.5.jcs" true)
check "control: a valid header signed the same raw way verifies" "$SIPWALL" exchange jws-verify --jwks "$T/py.jwks" "$T/o.5.jcs" "$s"
for h in '{"alg":"EdDSA","kid":"PY:1","b64":false}' '{"alg":"EdDSA","alg":"EdDSA","kid":"PY:1"}' \
         '{"alg":"none","kid":"PY:1"}' '{"alg":"HS256","kid":"PY:1"}'; do
    b=true
    case $h in *b64*) b=false ;; esac
    s=$("$PY" "$TOOLS/jose_check.py" rawsign "$T/py.jwk" "$h" "$T/o.5.jcs" $b)
    check "sipwall refuses header $h" refuses "$SIPWALL" exchange jws-verify --jwks "$T/py.jwks" "$T/o.5.jcs" "$s"
done
s=$("$PY" "$TOOLS/jose_check.py" rawsign "$T/py.jwk" '{"alg":"EdDSA","kid":"PY:1","b64":false}' "$T/o.5.jcs" false)
if "$PY" "$TOOLS/jose_check.py" verify "$T/py.jwks" "$T/o.5.jcs" "$s" 2>/dev/null; then
    echo "note: python3-jwcrypto accepts b64:false without crit (sipwall refuses it)"
fi

# ---- npm jose 6 (only where the shared corpus is) ----
INTEROP=${SW_SHARED_CORPUS:+$SW_SHARED_CORPUS/interop}
if [ -n "$INTEROP" ] && [ -f "$INTEROP/package.json" ]; then
    NPMDIR="$SW_BUILD/exchange-interop-npm"
    if [ ! -d "$NPMDIR/node_modules/jose" ]; then
        mkdir -p "$NPMDIR" && cp "$INTEROP/package.json" "$NPMDIR/" &&
            (cd "$NPMDIR" && timeout 120 npm install --no-audit --no-fund >/dev/null 2>&1)
    fi
    JOSE6="$(cd "$NPMDIR" 2>/dev/null && pwd)/node_modules/jose/dist/webapi/index.js"
    [ -f "$JOSE6" ] || JOSE6=$(ls "$NPMDIR"/node_modules/jose/dist/*/index.js 2>/dev/null | head -1)
    if [ -f "$JOSE6" ]; then
        n6=0
        for i in $(seq 0 19); do
            JOSE_MODULE=$JOSE6 node "$TOOLS/jose_check.mjs" verify "$T/k.jwks" "$T/o.$i.jcs" "$(cat "$T/o.$i.jws")" EdDSA >/dev/null && n6=$((n6 + 1))
        done
        check "npm jose 6 verifies 20/20 of our signatures ($n6)" test "$n6" = 20
        JOSE_MODULE=$JOSE6 node "$TOOLS/jose_check.mjs" keygen J6:1 "$T/j6.jwk" "$T/j6.jwks"
        for alg in EdDSA Ed25519; do
            s=$(JOSE_MODULE=$JOSE6 node "$TOOLS/jose_check.mjs" sign "$T/j6.jwk" "$T/o.5.jcs" $alg false)
            check "sipwall verifies npm jose's $alg JWS" "$SIPWALL" exchange jws-verify --jwks "$T/j6.jwks" "$T/o.5.jcs" "$s"
        done
    else
        fail "npm install of the interop packages failed (corpus present)"
    fi
else
    echo "shared corpus absent: npm jose checks not run"
fi

echo "$((checks - fails))/$checks checks passed"
[ "$fails" -eq 0 ]
