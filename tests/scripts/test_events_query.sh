#!/usr/bin/env bash
# `sipwall events` on the store sipwalld writes (events-db): sipwalld makes
# known events (strangers' requests: cat0.admission; a scanner User-Agent
# from partner alpha: sip_scan; requests without Via: sip_malformed) in two
# batches a second apart, then every filter is queried and its count checked
# against the numbers sent and against the JSON-lines file the same
# pipeline wrote: --type --src --peer --rule --since --until (RFC 3339 and
# relative) --limit --json --follow, and bad arguments exit 2.
set -uo pipefail
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SW_SRC/tests/peers/lib.sh"
SIPWALL=${SIPWALL:-${SW_BUILD:-$SW_SRC/build}/sipwall}
LOAD=$SW_SRC/tests/tools/sip-events-load

peers_init events-query 65
DB=$WORK/events.db
export SIPWALL_EVENTS_DB=$DB
PEERS_POLICY_EXTRA='limits { events-per-key 100000; event-window 1s; event-keys 65536 }'
peers_write_policy
peers_write_conf "events-db $DB max-age=30d"
peers_start_sipwalld

S1=$STRANGER_NET.5
S2=$STRANGER_NET.6
q() { "$SIPWALL" events "$@"; }
count() { q "$@" | wc -l; }
# count in the JSON-lines file: python expression over the event e
fcount() { python3 - "$EVENTS" "$1" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and eval(sys.argv[2], {}, {"e": json.loads(l)})))
PY
}
wait_count() { # N: until the store holds N events (10 s at most)
    for _ in $(seq 100); do
        [ "$(count --json)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# sipwalld's own start events (config.start with the policy hash, the
# privilege drop) are stored too: counted apart from the 10 of the load
for _ in $(seq 100); do
    OWN=$(($(count --type admin_change) + $(count --type privilege)))
    [ "$OWN" -ge 2 ] && break
    sleep 0.1
done
[ "$OWN" = 2 ] && ok "sipwalld's own start events stored: config.start and privilege" ||
    bad "own start events: $OWN, want 2 (config.start, privilege)"

"$LOAD" --dst "$SW_IC:5060" --kind stranger --src "$S1" --n 4 --prefix a >/dev/null
"$LOAD" --dst "$SW_IC:5060" --kind scanner --src "$ALPHA" --n 3 --prefix b --first 100 >/dev/null
wait_count $((7 + OWN)) || die "the first 7 events did not reach the store: $(count --json)"
sleep 1.1
MARK=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.2
"$LOAD" --dst "$SW_IC:5060" --kind malformed --src "$ALPHA" --n 2 --prefix c --first 200 >/dev/null
"$LOAD" --dst "$SW_IC:5060" --kind stranger --src "$S2" --n 1 --prefix d --first 300 >/dev/null
wait_count $((10 + OWN)) || die "the 10 events did not reach the store: $(count --json)"
sleep 0.5

total=$(count)
[ "$total" = $((10 + OWN)) ] && ok "10 events (+$OWN own) stored and printed" || bad "stored: $total lines, want 10 + $OWN"
[ "$(fcount True)" = $((10 + OWN)) ] && ok "the JSON-lines file has the same $((10 + OWN))" || bad "file: $(fcount True)"
q --json | sort >"$WORK/q.json"
sort "$EVENTS" >"$WORK/f.json"
cmp -s "$WORK/q.json" "$WORK/f.json" && ok "--json prints exactly the file's lines" ||
    bad "--json differs from the file: $(diff "$WORK/q.json" "$WORK/f.json" | head -c 400)"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$WORK/q.json" &&
    ok "--json: every line is a JSON object" || bad "--json output does not parse"

expect() { # what got want
    [ "$2" = "$3" ] && ok "$1: $2" || bad "$1: got $2, want $3"
}
expect "--type sip_scan" "$(count --type sip_scan)" 3
expect "--type sip_malformed" "$(count --type sip_malformed)" 2
expect "--type policy_violation" "$(count --type policy_violation)" 5
expect "--type irsf_call (none)" "$(count --type irsf_call)" 0
expect "--rule cat0.admission" "$(count --rule cat0.admission)" 5
expect "--rule cat1.scanner-signature" "$(count --rule cat1.scanner-signature)" 3
expect "--src $S1" "$(count --src "$S1")" 4
expect "--src $S2" "$(count --src "$S2")" 1
expect "--src $ALPHA" "$(count --src "$ALPHA")" 5
expect "--src 192.0.2.1 (none)" "$(count --src 192.0.2.1)" 0
peer_alpha=$(fcount 'e.get("peer") == "alpha"')
[ "$peer_alpha" -ge 3 ] && ok "the file names peer alpha on $peer_alpha events" ||
    bad "the file names peer alpha on $peer_alpha events (want >= 3: the scanner's)"
expect "--peer alpha" "$(count --peer alpha)" "$peer_alpha"
expect "--peer nobody (none)" "$(count --peer nobody)" 0
expect "--since MARK" "$(count --since "$MARK")" 3
expect "--until MARK (+ own)" "$(count --until "$MARK")" $((7 + OWN))
expect "--since MARK --type sip_malformed" "$(count --since "$MARK" --type sip_malformed)" 2
expect "--until MARK --src $S1 --rule cat0.admission" "$(count --until "$MARK" --src "$S1" --rule cat0.admission)" 4
expect "--since -1h (+ own)" "$(count --since -1h)" $((10 + OWN))
expect "--until -1h" "$(count --until -1h)" 0
expect "--since -1d --until now (+ own)" "$(count --since -1d --until now)" $((10 + OWN))
expect "--limit 4" "$(count --limit 4)" 4
# --limit: the newest N, in order
last=$(q --json --limit 1)
[ "$last" = "$(q --json | tail -n 1)" ] && ok "--limit 1 is the newest event" || bad "--limit 1: $last"
line=$(q --type sip_scan --limit 1)
echo "$line" | grep -q " sip_scan cat1.scanner-signature src=$ALPHA:" &&
    ok "readable line: ${line:0:150}" || bad "readable line: $line"

# --follow: the old matches, then new ones as they are stored, until SIGINT
"$SIPWALL" events --follow --json --type sip_scan >"$WORK/follow.out" 2>"$WORK/follow.err" &
FPID=$!
peers_track "$FPID"
sleep 0.8
"$LOAD" --dst "$SW_IC:5060" --kind scanner --src "$ALPHA" --n 2 --prefix e --first 400 >/dev/null
"$LOAD" --dst "$SW_IC:5060" --kind stranger --src "$S1" --n 2 --prefix f --first 500 >/dev/null
for _ in $(seq 50); do [ "$(wc -l <"$WORK/follow.out")" -ge 5 ] && break; sleep 0.1; done
sleep 0.5
kill -INT "$FPID"
frc=0
wait "$FPID" || frc=$?
expect "--follow printed (3 old + 2 new scans)" "$(wc -l <"$WORK/follow.out")" 5
expect "--follow exit status on SIGINT" "$frc" 0
grep -q '"call_id":"e401@evload"' "$WORK/follow.out" && ok "--follow saw the new event e401" ||
    bad "--follow missed e401"

# bad arguments: exit 2 with a message
bad_arg() {
    local rc=0
    "$SIPWALL" events "$@" >/dev/null 2>"$WORK/err.txt" || rc=$?
    [ "$rc" = 2 ] && grep -q "sipwall events" "$WORK/err.txt" &&
        ok "exit 2 for $*: $(head -n 1 "$WORK/err.txt" | cut -c1-100)" ||
        bad "$*: status $rc, said $(cat "$WORK/err.txt")"
}
bad_arg --since yesterday
bad_arg --until 2026-13-01T00:00:00Z
bad_arg --type nonsense
bad_arg --src 300.1.1.1
bad_arg --limit 0
bad_arg --bogus
bad_arg stray
bad_arg --db "$WORK/no/such/dir/events.db"
"$SIPWALL" --help | grep -q "^  events " && ok "sipwall --help lists events" || bad "sipwall --help lacks events"

peers_done
