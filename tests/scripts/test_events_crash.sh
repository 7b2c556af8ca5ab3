#!/usr/bin/env bash
# Durable events (issue 10 §2, defect R2): sipwalld with events-db and the
# JSON-lines file under a load that makes events (requests with a scanner's
# User-Agent from two partners, one event each, each with its own Call-ID),
# killed with SIGKILL in the middle of the load,
# restarted while the load goes on.  Acknowledged = committed to the store,
# as a reader (`sipwall events --json`) sees it just before the kill, and
# the pipeline's `written` counter (ctl stats) read just before that.
# Checks: every acknowledged event is still there after the restart,
# PRAGMA integrity_check says ok, every line of the JSON-lines file parses
# (the restart did not append onto a torn line), the daemon keeps storing
# after the restart.  Prints acknowledged vs found.
set -uo pipefail
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SW_SRC/tests/peers/lib.sh"
SIPWALL=${SIPWALL:-${SW_BUILD:-$SW_SRC/build}/sipwall}
LOAD=$SW_SRC/tests/tools/sip-events-load

peers_init events-crash 62
DB=$WORK/events.db
export SIPWALL_EVENTS_DB=$DB
PEERS_POLICY_EXTRA='limits { events-per-key 1000000; event-window 1s; event-keys 65536 }'
peers_write_policy
peers_write_conf "events-db $DB"
peers_start_sipwalld

N=12000
RATE=1500
peers_bg load "$LOAD" --dst "$SW_IC:5060" --kind scanner --src "$ALPHA,$BRAVO" --n $N --rate $RATE \
    --seconds 30 --prefix k
LOADPID=$PEERS_PID

# let events flow, then snapshot what is acknowledged and kill -9 at once
for _ in $(seq 100); do
    [ "$("$SIPWALL" events --json --limit 1 | wc -l)" -ge 1 ] && break
    sleep 0.1
done
sleep 2.5
peers_stats >"$WORK/stats-before-kill.json" || die "no stats before the kill"
"$SIPWALL" events --json >"$WORK/acked.json" || die "sipwall events failed before the kill"
kill -KILL "$SIPWALLD_PID"
wait "$SIPWALLD_PID" 2>/dev/null
SIPWALLD_PID=
kill -0 "$LOADPID" 2>/dev/null && ok "killed with SIGKILL while the load was still running" ||
    bad "the load had ended before the kill (the test did not kill mid-load)"
written=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"]["written"])' \
    "$WORK/stats-before-kill.json")
acked=$(wc -l <"$WORK/acked.json")
[ "$acked" -gt 100 ] && ok "acknowledged before the kill: $acked events (written counter: $written)" ||
    bad "only $acked events acknowledged before the kill"
tail -c 1 "$EVENTS" | od -An -c | grep -q '\\n' && peers_log "the file ended with a whole line at the kill" ||
    peers_log "the file ended in a torn line at the kill (the restart must cut it)"

# restart while the load goes on
mv "$WORK/sipwalld.log" "$WORK/sipwalld-1.log"
peers_start_sipwalld
for _ in $(seq 300); do kill -0 "$LOADPID" 2>/dev/null || break; sleep 0.1; done
# and a batch of its own after the restart, whatever the load still sent
"$LOAD" --dst "$SW_IC:5060" --kind scanner --src "$ALPHA" --n 200 --rate 1000 --prefix z --first 100000 >/dev/null
for _ in $(seq 100); do
    [ "$("$SIPWALL" events --json --src "$ALPHA" | grep -c '"call_id":"z')" -ge 200 ] && break
    sleep 0.1
done
peers_stats >"$WORK/stats-after.json"
peers_stop_sipwalld_checked

"$SIPWALL" events --json >"$WORK/found.json" || bad "sipwall events failed after the restart"
python3 - "$WORK/acked.json" "$WORK/found.json" "$written" <<'PY'
import json, sys
def ids(path):
    out = []
    for l in open(path):
        e = json.loads(l)
        if "call_id" in e: # the load's events; summaries have none
            out.append(e["call_id"])
    return out
acked, found, written = ids(sys.argv[1]), ids(sys.argv[2]), int(sys.argv[3])
fs = set(found)
missing = [c for c in acked if c not in fs]
dups = len(found) - len(fs)
print("acknowledged before kill -9: %d (pipeline written counter %d); found after restart: %d of them; "
      "store now holds %d events, %d duplicates" % (len(acked), written, len(acked) - len(missing), len(found), dups))
if missing:
    print("MISSING: %s" % missing[:10])
    sys.exit(1)
if dups:
    sys.exit(1)
PY
[ $? = 0 ] && ok "no acknowledged event lost, none duplicated" || bad "acknowledged events lost or duplicated"
first_run=$(grep -c '"call_id":"k' "$WORK/found.json")
[ "$first_run" -ge "$written" ] && ok "store holds at least the $written events the writer had counted" ||
    bad "the writer had written $written, the store holds $first_run"
after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"]["written"])' "$WORK/stats-after.json")
n_z=$(grep -c '"call_id":"z' "$WORK/found.json")
[ "$n_z" = 200 ] && ok "after the restart the daemon stored $after more events, the 200 sent after it among them" ||
    bad "after the restart: $n_z of the 200 events sent then are stored"

ic=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True); print(c.execute("PRAGMA integrity_check").fetchone()[0])' "$DB")
[ "$ic" = ok ] && ok "PRAGMA integrity_check: ok" || bad "PRAGMA integrity_check: $ic"

python3 - "$EVENTS" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
bad = 0
lines = data.split(b"\n")
for i, l in enumerate(lines[:-1]):
    try:
        json.loads(l)
    except ValueError:
        bad += 1
        print("torn line %d: %r" % (i + 1, l[:80]))
if lines[-1]:
    print("the file does not end with a newline")
    bad += 1
print("JSON-lines file: %d lines, %d torn" % (len(lines) - 1, bad))
sys.exit(1 if bad else 0)
PY
[ $? = 0 ] && ok "JSON-lines file: every line parses, none torn" || bad "torn lines in the JSON-lines file"

peers_done
