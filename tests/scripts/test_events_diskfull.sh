#!/usr/bin/env bash
# Disk full (defect R3): the events (events-db and the JSON-lines file) live
# on a small tmpfs this test mounts (and unmounts, in its EXIT trap), nearly
# filled by a filler file.  Under a load that makes events (scanner
# requests from a partner, one event each) the file system fills up: the
# writer's failed appends are counted (write_errors) and logged, and with
# small queues (queue=64) the events that do not fit are dropped, counted
# (dropped) and reported by a summary event once space returns.  Nothing may
# be torn (every line of the file parses, PRAGMA integrity_check ok), every
# event the engine made is either stored or counted as dropped, and once
# space returns (the filler removed) new events are stored and written
# again.
set -uo pipefail
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SW_SRC/tests/peers/lib.sh"
SIPWALL=${SIPWALL:-${SW_BUILD:-$SW_SRC/build}/sipwall}
LOAD=$SW_SRC/tests/tools/sip-events-load

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to mount a tmpfs"; exit 0; }
peers_init events-diskfull 63
M=$(mktemp -d "${TMPDIR:-/tmp}/sw-evfull.XXXXXX")
evd_cleanup() {
    local rc=$?
    [ -n "${SIPWALLD_PID:-}" ] && peers_stop "$SIPWALLD_PID"
    mountpoint -q "$M" && umount "$M"
    rmdir "$M" 2>/dev/null
    (exit $rc)
    peers_cleanup
}
trap evd_cleanup EXIT
mount -t tmpfs -o size=4m,mode=0755 tmpfs "$M" || die "cannot mount a tmpfs on $M"
DB=$M/events.db
EVENTS=$M/events.jsonl
export SIPWALL_EVENTS_DB=$DB
PEERS_POLICY_EXTRA='limits { events-per-key 1000000; event-window 1s; event-keys 65536 }'
peers_write_policy
peers_write_conf "events-db $DB queue=64"
sed -i "s|^events .*|events $EVENTS|; s|^log stderr|log $WORK/daemon.log|" "$CONF"
peers_start_sipwalld

# sipwalld's own start events (config.start, the privilege drop) go through
# the same queue, but not through the engine: counted apart
for _ in $(seq 100); do
    OWN=$(($("$SIPWALL" events --json --type admin_change | wc -l) + $("$SIPWALL" events --json --type privilege | wc -l)))
    [ "$OWN" -ge 2 ] && break
    sleep 0.1
done
[ "$OWN" = 2 ] && ok "sipwalld's own start events stored (2)" || bad "own start events: $OWN, want 2"

# a few events with room to spare
"$LOAD" --dst "$SW_IC:5060" --kind stranger --src "$STRANGER_NET.5" --n 20 --prefix a >/dev/null
for _ in $(seq 100); do [ "$("$SIPWALL" events --json | wc -l)" -ge $((20 + OWN)) ] && break; sleep 0.1; done
[ "$("$SIPWALL" events --json | wc -l)" = $((20 + OWN)) ] && ok "20 events (+ $OWN own) stored before the disk fills" ||
    bad "before filling: $("$SIPWALL" events --json | wc -l) stored"

# leave about 150 KiB free, then load
free_kb=$(df -k --output=avail "$M" | tail -n 1)
dd if=/dev/zero of="$M/filler" bs=1k count=$((free_kb - 150)) status=none 2>/dev/null
peers_log "tmpfs: $(df -k --output=avail "$M" | tail -n 1) KiB free after the filler"
"$LOAD" --dst "$SW_IC:5060" --kind scanner --src "$BRAVO" --n 3000 \
    --rate 1500 --seconds 20 --prefix f >/dev/null
sleep 2.5
peers_stats >"$WORK/stats-full.json" || die "no stats while the disk is full"
read -r dropped werr enq written < <(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["events"]; print(e["dropped"], e["write_errors"], e["enqueued"], e["written"])' "$WORK/stats-full.json")
peers_log "disk full: enqueued=$enq written=$written dropped=$dropped write_errors=$werr"
[ $((dropped + werr)) -gt 0 ] && ok "the loss is counted: dropped=$dropped write_errors=$werr" ||
    bad "disk full but nothing counted as lost (dropped=$dropped write_errors=$werr)"
grep -E 'level=(warn|error) comp=events' "$WORK/daemon.log" | head -n 2 >"$WORK/warn.txt"
[ -s "$WORK/warn.txt" ] && ok "logged: $(head -n 1 "$WORK/warn.txt" | cut -c1-160)" ||
    bad "no warn/error line about lost events in the log"
kill -0 "$SIPWALLD_PID" 2>/dev/null && ok "sipwalld still running on a full disk" || bad "sipwalld died on a full disk"

# space returns: new events flow again
rm -f "$M/filler"
sleep 1.5
"$LOAD" --dst "$SW_IC:5060" --kind malformed --src "$ALPHA" --n 50 --rate 200 --prefix r >/dev/null
for _ in $(seq 100); do
    [ "$("$SIPWALL" events --json --type sip_malformed | wc -l)" -ge 50 ] && break
    sleep 0.1
done
n_db=$("$SIPWALL" events --json --type sip_malformed | wc -l)
[ "$n_db" = 50 ] && ok "after space returned: 50 of 50 new events stored" || bad "after space returned: $n_db of 50 stored"
for _ in $(seq 50); do [ "$(grep -c '"call_id":"r' "$EVENTS")" -ge 50 ] && break; sleep 0.1; done
n_file=$(grep -c '"call_id":"r' "$EVENTS")
[ "$n_file" = 50 ] && ok "after space returned: 50 of 50 new events in the file" || bad "after space returned: $n_file of 50 in the file"
# the workers publish their engine counters every few hundred ms: poll
for _ in $(seq 30); do
    peers_stats >"$WORK/stats-end.json"
    read -r eng enq2 drop2 wr2 q2 < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); e=s["events"]; print(s["engine"]["events"], e["enqueued"], e["dropped"], e["written"], e["queue_depth"])' "$WORK/stats-end.json")
    [ $((eng + OWN)) = $((enq2 + drop2)) ] && break
    sleep 0.2
done
[ $((eng + OWN)) = $((enq2 + drop2)) ] && ok "every event is accounted for: $eng engine + $OWN own = $enq2 accepted + $drop2 dropped" ||
    bad "engine events $eng + own $OWN != accepted $enq2 + dropped $drop2"
if [ "$drop2" -gt 0 ]; then
    n_sum=$("$SIPWALL" events --json --rule sipwall.events_dropped | wc -l)
    [ "$n_sum" -ge 1 ] && ok "the drops are reported in the store too: $n_sum summary event(s): $("$SIPWALL" events --rule sipwall.events_dropped --limit 1 | cut -c1-160)" ||
        bad "$drop2 events dropped but no sipwall.events_dropped summary in the store"
fi
peers_stop_sipwalld_checked

stored=$("$SIPWALL" events --json | wc -l)
lines=$(wc -l <"$EVENTS")
peers_log "figures: engine events $eng, accepted $enq2, dropped $drop2, written $wr2; store $stored events, file $lines lines"
[ "$stored" = "$wr2" ] && [ "$lines" = "$stored" ] && ok "store and file hold what the writer counted: $stored" ||
    bad "written $wr2, store $stored, file $lines"
ic=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True); print(c.execute("PRAGMA integrity_check").fetchone()[0])' "$DB")
[ "$ic" = ok ] && ok "PRAGMA integrity_check: ok" || bad "PRAGMA integrity_check: $ic"
python3 - "$EVENTS" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
lines = data.split(b"\n")
bad = 0
for i, l in enumerate(lines[:-1]):
    try:
        json.loads(l)
    except ValueError:
        bad += 1
        print("torn line %d: %r" % (i + 1, l[:80]))
if lines[-1]:
    bad += 1
    print("no newline at the end")
sys.exit(1 if bad else 0)
PY
[ $? = 0 ] && ok "JSON-lines file: no torn line ($lines lines)" || bad "torn lines in the JSON-lines file"

peers_done
