#!/usr/bin/env bash
# Trunk-level partner identity in `sipwall check`: two trunks behind one
# address, told apart by source port (and an IPv6 pair), each a partner
# with its own number ranges and methods.  The capture is built by
# tests/captures/make_trunk_pcap.py; every event must name the trunk that
# sent its message (the `peer` field), legitimate calls raise none, and a
# port no trunk claims is not taken for either trunk.
#
# env: SIPWALL (the built binary), SW_SRC (repo root).
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SW_SRC=${SW_SRC:-$(pwd)}
export LC_ALL=C

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok:   $*"; }

[ -x "$SIPWALL" ] || { echo "FAIL: $SIPWALL is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 needed"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$SW_SRC/tests/captures/make_trunk_pcap.py" "$tmp/trunks.pcap" || { echo "FAIL: generator"; exit 1; }

cat >"$tmp/trunks.policy" <<'POL'
policy "trunk test" version "1"
home { plmn 234-15; country-code 44; national-prefix 0
       ranges +447700900000-+447700900999 }
partner core { role core; address 10.0.0.1, 2001:db8::1 }
partner trunk-fr {
    role interconnect
    address 192.0.2.50:5060
    ranges +33639980000-+33639989999
    methods INVITE ACK BYE CANCEL OPTIONS
}
partner trunk-de {
    role interconnect
    address 192.0.2.50:5070
    ranges +4930120000-+4930129999
    methods INVITE ACK BYE CANCEL OPTIONS SUBSCRIBE NOTIFY
}
partner v6-fr { role interconnect; address [2001:db8::50]:5060; ranges +3363998 }
partner v6-de { role interconnect; address [2001:db8::50]:5061; ranges +493012 }
POL

"$SIPWALL" policy check builtin:default "$tmp/trunks.policy" >"$tmp/pc.out" 2>"$tmp/pc.err"
if [ $? = 0 ]; then pass "policy check accepts address:port claims"; else
    fail "policy check: $(cat "$tmp/pc.err")"; fi

"$SIPWALL" check --quiet --policy builtin:default --policy "$tmp/trunks.policy" \
    --events "$tmp/ev.jsonl" "$tmp/trunks.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
# exit status 0 or 1 (events found) is a completed run
if [ $rc -le 1 ] && [ -s "$tmp/ev.jsonl" ]; then pass "check ran (status $rc)"; else
    fail "check status $rc: $(cat "$tmp/err")"; fi

if python3 - "$tmp/ev.jsonl" <<'PY'; then pass "events name the port-distinguished trunks"; else fail "events against the expected trunks (above)"; fi
import json, sys
events = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
by_call = {}
for e in events:
    by_call.setdefault(e.get("call_id", ""), []).append(e)
# call-id -> (the trunk the event must name, its rule)
want = {
    "de-spoof-1": ("trunk-de", "cat2.cli-range"),
    "fr-spoof-1": ("trunk-fr", "cat2.cli-range"),
    "fr-sub-1": ("trunk-fr", "cat1.method-not-allowed"),
    "v6de-spoof-1": ("v6-de", "cat2.cli-range"),
}
bad = 0
for cid, (peer, rule) in want.items():
    got = by_call.get(cid, [])
    if len(got) != 1 or got[0].get("peer") != peer or got[0].get("rule") != rule:
        print("  %s: want one %s event naming %s, got %s" %
              (cid, rule, peer, [(g.get("rule"), g.get("peer")) for g in got]))
        bad += 1
for cid, got in by_call.items():
    if "-ok-" in cid:
        print("  %s: a legitimate call raised %s" % (cid, [(g.get("rule"), g.get("peer")) for g in got]))
        bad += 1
nobody = by_call.get("nobody-1", [])
if not nobody:
    print("  nobody-1: the unclaimed port raised no event")
    bad += 1
for g in nobody:
    if g.get("peer") in ("trunk-fr", "trunk-de"):
        print("  nobody-1: an unclaimed port was taken for %s" % g.get("peer"))
        bad += 1
    if not g.get("rule", "").startswith("cat0."):
        print("  nobody-1: expected an admission (cat0) event, got %s" % g.get("rule"))
        bad += 1
print("  %d events, %d problems" % (len(events), bad))
sys.exit(1 if bad else 0)
PY

# two partners claiming the same address and port: an error at its line
printf 'partner a {\n    address 192.0.2.50:5060\n}\npartner b {\n    address 192.0.2.50:5060\n}\n' \
    >"$tmp/dup.policy"
"$SIPWALL" policy check "$tmp/dup.policy" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && grep -q "dup.policy:5:.*already belongs to partner 'a'" "$tmp/err"; then
    pass "the same address and port twice: error at line 5"
else
    fail "duplicate address:port: status $rc, $(cat "$tmp/err")"
fi

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
