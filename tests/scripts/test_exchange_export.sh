#!/usr/bin/env bash
# Offline exchange exports: `sipwall check --export-stix/--export-misp/
# --export-csv` on labelled captures (a scan, an IRSF burst, a Wangiri
# campaign, a v6 flood) with the lab policy, then:
#   - the indicators are exactly what the detector events say is shareable
#     (kinds, values, counts), and match the captures' ground truth;
#   - no subscriber identifier (any calling/called number of the labels
#     that is not itself an abuse indicator) and no raw SIP in any output;
#   - STIX objects against our own checks (always) and, where the shared
#     corpus is, the OASIS STIX 2.1 schemas, the OASIS pattern validator,
#     python-stix2 and PyMISP (with xo-sample: every indicator kind);
#   - usage errors.
# No network.  env: SIPWALL, SW_SRC, SW_BUILD, SW_SHARED_CORPUS.
set -u
SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SW_SRC=${SW_SRC:-$(pwd)}
SW_BUILD=${SW_BUILD:-$(dirname "$SIPWALL")}
SW_SHARED_CORPUS=${SW_SHARED_CORPUS:-$SW_SRC/../shared/corpus}
PY=/usr/bin/python3
export LC_ALL=C

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok:   $*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
own="$SW_SRC/tests/data/labelled"
"$SW_SRC/scripts/partners-to-policy" --ports drop "$own/partners.tsv" --highrisk "$own/highrisk.tsv" \
    --location-feed "$own/subscribers.tsv" --country-code 44 >"$tmp/lab.policy"
caps=("$own/b02_scan_udp.pcap" "$own/b09_irsf_transit.pcap" "$own/b08_wangiri_rotating.pcap"
      "$own/b07_invite_flood_ipv6.pcap")

# ---- 1. the export of four labelled captures ----
"$SIPWALL" check --policy builtin:default --policy "$tmp/lab.policy" --export-org ZZ01 \
    --export-stix "$tmp/b.json" --export-misp "$tmp/misp" --export-csv "$tmp/i.csv" \
    --events "$tmp/ev.jsonl" "${caps[@]}" >"$tmp/check.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^export *STIX 2.1 bundle' "$tmp/check.out" && [ -s "$tmp/misp/manifest.json" ] &&
    [ -s "$tmp/i.csv" ]; then
    pass "check --export-* wrote the bundle, the MISP feed and the CSV"
else
    fail "check --export-* (exit $rc)"; tail -n 20 "$tmp/check.out"
fi

# The oracle: the shareable events of the JSON lines, computed here
# independently, and the captures' labels.
if $PY - "$tmp" "$own" <<'EOF'; then
import csv, glob, json, os, re, sys
tmp, own = sys.argv[1], sys.argv[2]
bad = 0
def fail(*a):
    global bad; bad += 1; print('  ', *a)

def e164_digits(s):
    # the export policy's reading of a number (src/exchange/policy.c)
    s = s or ''
    if s[:4] in ('sip:', 'tel:'):
        s = s[4:]
    if s.startswith('+'):
        s = s[1:]
    elif s.startswith('00'):
        s = s[2:]
    s = re.split('[;@]', s)[0]
    s = re.sub(r'[-.() ]', '', s)
    return s if re.fullmatch(r'[1-9]\d{5,14}', s) else None

want = {}
for line in open(f'{tmp}/ev.jsonl'):
    e = json.loads(line)
    t, key = e['event_type'], None
    if t in ('sip_scan', 'sip_bruteforce', 'sip_flood') and 'src' in e:
        ip = e['src'].rsplit(':', 1)[0].strip('[]')
        key = ('ipv6' if ':' in ip else 'ipv4', ip, t)
    elif t == 'irsf_call':
        d = e164_digits(e.get('ruri') or e.get('to'))
        key = d and ('e164_prefix', '+' + d[:7], t)
    elif t == 'wangiri_cli':
        d = e164_digits(e.get('pai') or e.get('from'))
        key = d and ('e164', '+' + d, t)
    if key:
        c = e.get('evidence', {}).get('count')
        c = c if isinstance(c, int) and 1 <= c <= 999999999 else 1
        want[key] = want.get(key, 0) + c

b = json.load(open(f'{tmp}/b.json'))
objs = b['objects']
inds = [o for o in objs if o['type'] == 'indicator']
sights = {o['sighting_of_ref']: o for o in objs if o['type'] == 'sighting'}
got = {}
for o in inds:
    ext = next(iter(o['extensions'].values()))
    m = re.fullmatch(r"\[([a-z0-9-]+):value (=|LIKE) '([^']*)'\]", o['pattern'])
    if not m:
        fail('unexpected pattern', o['pattern']); continue
    v = m.group(3).rstrip('%') if m.group(2) == 'LIKE' else m.group(3)
    key = (ext['indicator_kind'], v, ext['event_type'])
    got[key] = sights[o['id']]['count']
    if o['object_marking_refs'] != ['marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421']:
        fail('not TLP:AMBER', o['id'])
if got != want:
    fail('indicators differ from the shareable events:\n     missing', sorted(set(want) - set(got)),
         '\n     extra', sorted(set(got) - set(want)),
         '\n     counts', sorted((k, got[k], want[k]) for k in set(got) & set(want) if got[k] != want[k]))
kinds = sorted({k[0] for k in got})
print('   indicators:', len(got), 'kinds:', kinds, 'types:', sorted({k[2] for k in got}))

# Ground truth: the scanner, the IRSF destinations, the Wangiri range, the v6 flooder
def labels(name):
    return list(csv.DictReader(open(f'{own}/{name}.labels.tsv'), delimiter='\t'))
scan = [r for r in labels('b02_scan_udp') if r['kind'] == 'scan']
for r in scan:
    ip = r['src'].rsplit(':', 1)[0]
    if ('ipv4', ip, 'sip_scan') not in got:
        fail('scanner', ip, 'of', r['label'], 'not exported')
irsf = [r for r in labels('b09_irsf_transit') if r['kind'] == 'irsf'][0]
irsf_called = set(irsf['called'].split(','))
irsf_got = {k[1] for k in got if k[2] == 'irsf_call'}
if not irsf_got or not all(any(c.startswith(p) for c in irsf_called) for p in irsf_got):
    fail('IRSF ranges', sorted(irsf_got), 'cover none of the labelled destinations')
if any(len(p) > 8 for p in irsf_got):
    fail('IRSF indicators are not 7-digit ranges', sorted(irsf_got))
wl = [r for r in labels('b08_wangiri_rotating') if r['kind'] == 'wangiri'][0]
wset = {k[1] for k in got if k[2] == 'wangiri_cli'}
if not wset or not wset <= set(wl['calling'].split(',')):
    fail('Wangiri indicators', sorted(wset), 'are not labelled Wangiri A-numbers')
fl = [r for r in labels('b07_invite_flood_ipv6') if r['kind'] == 'flood'][0]
fip = fl['src'].rsplit(':', 1)[0].strip('[]')
if not any(k[1] == fip for k in got):
    fail('v6 flooder', fip, 'not exported')
# No legitimate partner is exported (the lab policy knows them).
for name in ('b02_scan_udp', 'b09_irsf_transit', 'b08_wangiri_rotating', 'b07_invite_flood_ipv6'):
    for r in labels(name):
        if r['kind'] == 'legit':
            ip = r['src'].rsplit(':', 1)[0].strip('[]')
            if any(k[1] == ip for k in got):
                fail('legitimate', r['label'], ip, 'exported')

# No subscriber identifier, no raw SIP: every number of the labels that is
# not an exported value (callers of IRSF calls, callees of everything,
# partners' subscribers) and every Call-ID is absent from every output.
shared = {k[1] for k in want}  # what may be shared, never what was
numbers = set()
for f in glob.glob(f'{own}/b0[2789]_*.labels.tsv'):
    for r in csv.DictReader(open(f), delimiter='\t'):
        for col in ('calling', 'called'):
            numbers |= {n for n in r[col].split(',') if len(n.lstrip('+')) >= 7 and n not in shared}
callids = {json.loads(l).get('call_id') for l in open(f'{tmp}/ev.jsonl')} - {None}
outs = [f'{tmp}/b.json', f'{tmp}/i.csv'] + glob.glob(f'{tmp}/misp/*')
for f in outs:
    text = open(f, encoding='utf-8').read()
    digits = set(re.findall(r'\+?\d{7,}', text))
    leak = {n for n in numbers if n in text or n.lstrip('+') in digits}
    if leak:
        fail(os.path.basename(f), 'holds subscriber numbers', sorted(leak)[:5])
    for marker in ('SIP/2.0', 'Via:', 'Call-ID', 'CSeq', 'INVITE sip', 'REGISTER sip'):
        if marker in text:
            fail(os.path.basename(f), 'holds raw SIP:', marker)
    cl = [c for c in callids if len(c) >= 8 and c in text]
    if cl:
        fail(os.path.basename(f), 'holds Call-IDs', cl[:3])
print('   checked', len(numbers), 'subscriber numbers and', len(callids), 'Call-IDs against', len(outs), 'files')

# CSV and MISP carry the same indicators
rows = list(csv.DictReader(open(f'{tmp}/i.csv', newline='')))
if {(r['kind'], r['value'], r['event_type']) for r in rows} != set(got) or len(rows) != len(got):
    fail('CSV rows differ from the bundle')
attrs = []
for f in glob.glob(f'{tmp}/misp/*.json'):
    if not f.endswith('manifest.json'):
        attrs += json.load(open(f))['Event']['Attribute']
if sorted(a['value'] for a in attrs) != sorted(k[1] for k in got):
    fail('MISP attributes differ from the bundle')
for a in attrs:
    if a['type'] == 'prtn' and a['category'] != 'Financial fraud':
        fail('prtn with category', a['category'])
sys.exit(1 if bad else 0)
EOF
    pass "indicators = shareable events = ground truth; no subscriber number, no raw SIP"
else
    fail "export contents"
fi

# ---- 2. deterministic: the same capture gives the same bytes ----
"$SIPWALL" check --quiet --policy builtin:default --policy "$tmp/lab.policy" --export-org ZZ01 \
    --export-stix "$tmp/b2.json" --export-misp "$tmp/misp2" "${caps[@]}" >/dev/null 2>&1
if cmp -s "$tmp/b.json" "$tmp/b2.json" && diff -r "$tmp/misp" "$tmp/misp2" >/dev/null; then
    pass "a second export is byte-identical (ids from the FSE ids)"
else
    fail "exports differ between two runs"
fi

# ---- 3. usage ----
u=0
"$SIPWALL" check --export-stix "$tmp/x.json" --export-stix "$tmp/y.json" "${caps[0]}" >/dev/null 2>&1; [ $? -eq 2 ] || u=1
"$SIPWALL" check --export-org 'a b' --export-stix "$tmp/x.json" "${caps[0]}" >/dev/null 2>&1; [ $? -eq 2 ] || u=1
"$SIPWALL" check --export-csv '' "${caps[0]}" >/dev/null 2>&1; [ $? -eq 2 ] || u=1
"$SIPWALL" check --quiet --export-stix /nonexistent-dir/b.json "${caps[0]}" >/dev/null 2>&1; [ $? -eq 2 ] || u=1
[ ! -e "$tmp/x.json" ] || u=1
if [ $u -eq 0 ]; then pass "usage errors exit 2 and write nothing"; else fail "usage errors"; fi

# ---- 3b. an export policy, a trust group, signatures ----
# The policy shares scanners with "peers" at TLP GREEN and IRSF ranges of
# 6 digits; Wangiri callers only with "isac".  Signed with a fresh key; the
# exchange CLI verifies every object (and quarantines a tampered one).
cat >"$tmp/export.policy" <<'POL'
producer ZZ09 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11
export sip_scan to peers tlp GREEN ttl 7d
export irsf_call to peers ttl 30d prefix 6 severity critical
export wangiri_cli to isac ttl 72h
POL
"$SIPWALL" exchange keygen --kid ZZ09:7 --key "$tmp/k.pem" --jwks "$tmp/k.jwks" >/dev/null 2>&1
"$SIPWALL" check --quiet --policy builtin:default --policy "$tmp/lab.policy" \
    --export-policy "$tmp/export.policy" --export-group peers --sign-key "$tmp/k.pem" --sign-kid ZZ09:7 \
    --export-fse "$tmp/f.json" --export-stix "$tmp/bs.json" "${caps[@]}" >"$tmp/pol.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && $PY - "$tmp" <<'EOF'; then
import json, sys
tmp = sys.argv[1]
fse = json.load(open(f'{tmp}/f.json'))
kinds = sorted({(o['event_type'], o['indicator']['kind']) for o in fse})
ok = {('irsf_call', 'e164_prefix'), ('sip_scan', 'ipv4')} <= set(kinds) and all(k[0] != 'wangiri_cli' for k in kinds)
ok &= all(o['producer']['org'] == 'ZZ09' and o['producer']['kid'] == 'ZZ09:7' and o['sig'] for o in fse)
ok &= all(o['tlp'] == 'GREEN' for o in fse if o['event_type'] == 'sip_scan')
ok &= all(len(o['indicator']['value']) == 7 for o in fse if o['event_type'] == 'irsf_call')
b = json.load(open(f'{tmp}/bs.json'))
sigs = {next(iter(o['extensions'].values())).get('sig') for o in b['objects'] if o['type'] == 'indicator'}
ok &= sigs == {o['sig'] for o in fse}
ok &= any(o['type'] == 'marking-definition' and o['name'] == 'TLP:GREEN' for o in b['objects'])
print('   FSE objects:', len(fse), kinds)
sys.exit(0 if ok else 1)
EOF
    pass "--export-policy/--export-group/--sign-key: the policy's indicators, signed, TLP and ranges as set"
else
    fail "policy-driven signed export (exit $rc)"; tail -n 5 "$tmp/pol.out"
fi
if "$SIPWALL" exchange verify --partner "ZZ09=$tmp/k.jwks" "$tmp/f.json" >"$tmp/ver.out" 2>"$tmp/ver.err" &&
    [ "$(wc -l <"$tmp/ver.out")" -eq "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/f.json")" ]; then
    pass "every exported object verifies with the producer's JWKS"
else
    fail "exchange verify of the export"; head -n 5 "$tmp/ver.out"
fi
sed 's/"count":\([0-9]*\)/"count":9\1/' "$tmp/f.json" >"$tmp/f-tampered.json"
"$SIPWALL" exchange verify --partner "ZZ09=$tmp/k.jwks" "$tmp/f-tampered.json" >"$tmp/vt.out" 2>&1
if [ $? -eq 1 ] && grep -q quarantined "$tmp/vt.out"; then
    pass "a tampered export is quarantined"
else
    fail "tampered export not refused"; head -n 5 "$tmp/vt.out"
fi
u=0
"$SIPWALL" check --export-policy "$tmp/export.policy" --export-group nobody --export-fse "$tmp/z.json" "${caps[0]}" >/dev/null 2>&1; [ $? -eq 2 ] || u=1
"$SIPWALL" check --export-policy "$tmp/export.policy" --export-org ZZ01 --export-fse "$tmp/z.json" "${caps[0]}" >/dev/null 2>&1; [ $? -eq 2 ] || u=1
"$SIPWALL" check --export-policy "$tmp/export.policy" --sign-key "$tmp/k.pem" --export-fse "$tmp/z.json" "${caps[0]}" >/dev/null 2>&1; [ $? -eq 2 ] || u=1
printf 'export reg_hijack to peers\nbogus line\n' >"$tmp/bad.policy"
"$SIPWALL" check --export-policy "$tmp/bad.policy" --export-fse "$tmp/z.json" "${caps[0]}" >"$tmp/bp.out" 2>&1; [ $? -eq 2 ] || u=1
grep -q "line 2" "$tmp/bp.out" || u=1
[ ! -e "$tmp/z.json" ] || u=1
if [ $u -eq 0 ]; then pass "bad policy (line-numbered), unknown group, missing kid: exit 2"; else fail "policy usage errors"; cat "$tmp/bp.out"; fi

# ---- 4. interop, where the shared corpus is ----
interop="$SW_SHARED_CORPUS/interop"
schemas="$SW_SHARED_CORPUS/stix2-schemas"
if [ -d "$interop/stix" ] && [ -d "$schemas" ] && $PY -c 'import jsonschema' 2>/dev/null; then
    mkdir -p "$tmp/sample"
    if ! "$SW_BUILD/xo-sample" "$tmp/sample"; then
        fail "xo-sample"
    fi
    for f in "$tmp/b.json" "$tmp/sample/bundle.json" "$tmp/sample/bundle-tlp1.json"; do
        if $PY "$interop/stix/stix_validate.py" "$schemas" "$f" >"$tmp/v.out" 2>&1; then
            pass "OASIS STIX 2.1 schemas, object by object: $(basename "$f")"
        else
            fail "OASIS schemas reject $(basename "$f")"; grep -v '^note' "$tmp/v.out" | head -n 20
        fi
        if $PY "$interop/stix/parse_check.py" "$f" >"$tmp/p.out" 2>&1; then
            pass "python-stix2 parses $(basename "$f")"
        else
            fail "python-stix2 rejects $(basename "$f")"; head -n 5 "$tmp/p.out"
        fi
    done
    $PY -c 'import json,sys
for o in json.load(open(sys.argv[1]))["objects"]:
    if o["type"] == "indicator": print(o["pattern"])' "$tmp/b.json" >"$tmp/patterns.txt"
    cat "$tmp/sample/patterns.txt" >>"$tmp/patterns.txt"
    if [ "$(wc -l <"$tmp/sample/patterns.txt")" -ge 14 ] &&
        $PY "$interop/stix/check_patterns.py" "$tmp/patterns.txt" >"$tmp/cp.out" 2>&1; then
        pass "OASIS pattern validator accepts all $(wc -l <"$tmp/patterns.txt") patterns (every kind)"
    else
        fail "pattern validator"; grep -v '^valid' "$tmp/cp.out" | head -n 10
    fi
    for d in "$tmp/misp" "$tmp/sample/misp"; do
        if $PY "$interop/misp/misp_feed_check.py" "$d" >"$tmp/m.out" 2>&1; then
            pass "PyMISP reads the feed, categories valid: $(tail -n 1 "$tmp/m.out")"
        else
            fail "MISP feed check $d"; head -n 20 "$tmp/m.out"
        fi
    done
else
    echo "skip: interop checks (no $interop or python3-jsonschema)"
fi

if [ $fails -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all exchange export checks passed"
