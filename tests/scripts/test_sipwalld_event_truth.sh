#!/usr/bin/env bash
# Events tell the truth, inline (docs/events.md "Which event"): sipwalld's
# events name the listener the message came in on (its configured name),
# say the action actually taken (the reply status the sender received, or
# drop), give a retransmission no second event, and carry event_id and
# incident_id, alike in the JSON-lines log and the SQLite store (which
# `sipwall events --incident` reads).  Loopback net 127.160.0.0/16.
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init scr_truth 160
SIPWALL=${SIPWALL:-${SW_BUILD:-$SW_SRC/build}/sipwall}
[ -x "$SIPWALL" ] || die "sipwall not found at $SIPWALL"
STORE=$WORK/events.db

peers_write_policy
peers_write_conf "events-db $STORE"
# the interconnect's UDP listener gets a name of its own
sed -i "s#^listen udp $SW_IC:5060 side=interconnect\$#listen udp $SW_IC:5060 side=interconnect name=ic-edge#" "$CONF"
grep -q "name=ic-edge" "$CONF" || die "could not name the listener"
peers_start_sipwalld

# From partner alpha: a REGISTER (not allowed from an interconnect
# partner: rejected) sent twice with one branch (a retransmission), the
# replies read back.  From a stranger: an OPTIONS with a scanner's
# User-Agent (dropped: no reply).
python3 - "$SW_IC" "$ALPHA" "$STRANGER" "$WORK/replies" <<'PY' || die "sending the requests failed"
import socket, sys, time
ic, alpha, stranger, out = sys.argv[1:5]
def req(method, src, port, branch, ua="sipwall-truth/1.0"):
    return ("%s sip:+447700900123@ims.test SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
            "From: <sip:+4930100555@alpha.test>;tag=t%s\r\nTo: <sip:+447700900123@ims.test>\r\n"
            "Call-ID: %s@%s\r\nCSeq: 1 %s\r\nContact: <sip:+4930100555@%s:%d>\r\n"
            "User-Agent: %s\r\nContent-Length: 0\r\n\r\n"
            % (method, src, port, branch, branch, branch, src, method, src, port, ua)).encode()
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind((alpha, 0)); a.settimeout(2)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((stranger, 0)); s.settimeout(1)
statuses = []
m = req("REGISTER", alpha, a.getsockname()[1], "truthreg1")
for _ in range(2):
    a.sendto(m, (ic, 5060))
    try:
        d, _ = a.recvfrom(65535)
        statuses.append(d.split(b" ", 2)[1].decode())
    except socket.timeout:
        statuses.append("none")
    time.sleep(0.5)
s.sendto(req("OPTIONS", stranger, s.getsockname()[1], "truthscan1", "friendly-scanner"), (ic, 5060))
try:
    d, _ = s.recvfrom(65535)
    sstat = d.split(b" ", 2)[1].decode()
except socket.timeout:
    sstat = "none"
open(out, "w").write("%s %s\n" % (" ".join(statuses), sstat))
PY
read -r st1 st2 sst <"$WORK/replies"
peers_log "replies: REGISTER $st1, again $st2; scanner's OPTIONS: $sst"
check "alpha's REGISTER was answered ($st1)" test "$st1" != none
check "the scanner got no reply ($sst)" test "$sst" = none

# the events are written (the pipeline batches): wait for both, bounded
for _ in $(seq 50); do
    [ "$(peers_events call_id='^truthscan1@')" -ge 1 ] && [ "$(peers_events call_id='^truthreg1@')" -ge 1 ] && break
    sleep 0.1
done
sleep 0.5 # a second event for the retransmission would be written by now
check "one event for the REGISTER and its retransmission" \
    test "$(peers_events call_id='^truthreg1@')" = 1
check "the REGISTER's event: action reject with the status alpha received ($st1), listener ic-edge" \
    test "$(peers_events call_id='^truthreg1@' action='^reject$' action_status="^$st1\$" listener='^ic-edge$' mode='^enforce$')" = 1
check "the scanner's event: action drop, listener ic-edge" \
    test "$(peers_events call_id='^truthscan1@' action='^drop$' listener='^ic-edge$')" = 1
check "every event has an event_id and an incident_id" \
    test "$(peers_events event_id='^[0-9a-f]{8}-[0-9a-f]{4}-7' incident_id='^[0-9a-f]{16}$')" = "$(peers_events)"

# the store has the same events; --incident finds one by its incident
inc=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("call_id", "").startswith("truthreg1@"): print(e["incident_id"]); break' "$EVENTS")
eid=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("call_id", "").startswith("truthreg1@"): print(e["event_id"]); break' "$EVENTS")
for _ in $(seq 50); do
    "$SIPWALL" events --db "$STORE" --json --incident "$inc" >"$WORK/inc.jsonl" 2>"$WORK/inc.err"
    grep -q "$eid" "$WORK/inc.jsonl" && break
    sleep 0.1
done
check "sipwall events --incident finds the REGISTER's event in the store" grep -q "\"event_id\":\"$eid\"" "$WORK/inc.jsonl"
check "the stored event names the listener and the status" \
    grep -q '"action":"reject","action_status":'"$st1"'.*"listener":"ic-edge"' "$WORK/inc.jsonl"
check "the store has each event_id once" test "$(python3 - "$STORE" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
n, d = db.execute("SELECT count(*), count(DISTINCT json_extract(json, '$.event_id')) FROM events").fetchone()
print("same" if n == d and n > 0 else "%d rows, %d ids" % (n, d))
PY
)" = same

peers_done
