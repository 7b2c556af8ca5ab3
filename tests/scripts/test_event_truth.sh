#!/usr/bin/env bash
# "The event names the attack" and "events tell the truth" in `sipwall
# check` (docs/events.md "Which event"): on a capture made by
# tests/captures/make_truth_pcap.py, attacks from sources that cat0
# admission drops are named by the detectors (sip_scan with dropped_by
# cat0.admission, sip_bruteforce), a retransmitted request raises no second
# event, a mere policy breach stays policy_violation, every event says
# "mode":"passive" (nothing was enforced) and carries a unique event_id and
# an incident_id shared by the events of one episode.
#
# env: SIPWALL (the built binary), SW_SRC (repo root).
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SW_SRC=${SW_SRC:-$(pwd)}
export LC_ALL=C

[ -x "$SIPWALL" ] || { echo "FAIL: $SIPWALL is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 needed"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$SW_SRC/tests/captures/make_truth_pcap.py" "$tmp/truth.pcap" || { echo "FAIL: generator"; exit 1; }

cat >"$tmp/truth.policy" <<'POL'
policy "event truth" version "1"
home { plmn 234-15; country-code 44; national-prefix 0
       domains example.org }
partner core { role core; address 10.0.0.1 }
partner carrier { role interconnect; address 192.0.2.10 }
zone unknown { admit drop; trust untrusted }
rule cat1.no-refer { category cat1; event policy_violation
    when method == REFER and request
    action drop; reason "REFER is not accepted on the interconnect" }
POL

"$SIPWALL" check --quiet --policy builtin:default --policy "$tmp/truth.policy" \
    --events "$tmp/ev.jsonl" "$tmp/truth.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -gt 1 ] || [ ! -s "$tmp/ev.jsonl" ]; then
    echo "FAIL: check status $rc: $(cat "$tmp/err")"
    exit 1
fi

python3 - "$tmp/ev.jsonl" <<'PY'
import json, re, sys
events = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
fails = 0
def check(ok, what):
    global fails
    print(("ok:   " if ok else "FAIL: ") + what)
    if not ok:
        fails += 1
def src(e):
    return e.get("src", "").rsplit(":", 1)[0]
by = {}
for e in events:
    by.setdefault(src(e), []).append(e)

check(all(e.get("mode") == "passive" for e in events), "every event says mode passive")
check(not any("listener" in e for e in events), "no listener in a capture's events")
ids = [e.get("event_id", "") for e in events]
uuid7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
check(all(uuid7.match(i) for i in ids) and len(set(ids)) == len(ids),
      "%d unique UUIDv7 event ids" % len(ids))
check(all(re.match(r"^[0-9a-f]{16}$", e.get("incident_id", "")) for e in events),
      "every event has an incident_id")

# the sweep from a dropped source: named sip_scan, dropped by cat0
sc = by.get("203.0.113.66", [])
scans = [e for e in sc if e["event_type"] == "sip_scan"]
check(any(e.get("evidence", {}).get("dropped_by") == "cat0.admission" and e["action"] == "drop"
          for e in scans), "the sweep is sip_scan, dropped_by cat0.admission")
first = sc.index(scans[0]) if scans else len(sc)
check(all(e["event_type"] == "sip_scan" for e in sc[first:]),
      "no policy_violation for the scanner once it is named")
check(len({e["incident_id"] for e in scans}) == 1, "the scan's events (and summary) are one incident")

# the guessing from a dropped source: sip_bruteforce
bf = by.get("203.0.113.77", [])
bfs = [e for e in bf if e["event_type"] == "sip_bruteforce"]
check(len(bfs) >= 1, "the guessing is sip_bruteforce")
first = bf.index(bfs[0]) if bfs else len(bf)
check(all(e["event_type"] == "sip_bruteforce" for e in bf[first:]),
      "nothing else for the guesser once it is named")

# a REFER and its retransmission from a partner: one policy_violation
rf = by.get("192.0.2.10", [])
check(len(rf) == 1 and rf[0]["event_type"] == "policy_violation",
      "REFER + retransmission: one policy_violation event (got %d)" % len(rf))
# a mere ping from a dropped source stays a policy breach
pg = by.get("203.0.113.99", [])
check(len(pg) == 1 and pg[0]["event_type"] == "policy_violation" and pg[0]["rule"] == "cat0.admission",
      "a ping from the unknown zone is a cat0 policy_violation")
sys.exit(1 if fails else 0)
PY
