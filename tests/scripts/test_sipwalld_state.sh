#!/usr/bin/env bash
# sipwalld's shared state on loopback, with our own small SIP peers (python):
#   - 2 workers; the kernel steers a source to a worker by its address
#     (127.0.0.10 -> worker 0, 127.0.0.11 -> worker 1);
#   - a caller that dials through a number range from 127.0.0.10 is blocked
#     (IRSF sequential); the same caller from 127.0.0.11, served by the
#     other worker, is refused too, while another caller passes;
#   - ctl stats counts one block daemon-wide;
#   - a reload keeps the block;
#   - a reload that lowers `limits blocks` below what is held migrates what
#     fits, reports what did not (ctl reload's answer, the log, the stats),
#     keeps a detector window mid-run, and no counter goes backwards.
set -euo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
T=$(mktemp -d "$SW_BUILD/test_sipwalld_state.XXXXXX")
T=$(cd "$T" && pwd)
DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do echo "--- $f" >&2; tail -30 "$f" >&2; done; exit 1; }
ok() { echo "ok: $*"; }

PORT=$((20000 + RANDOM % 20000))
CORE_PORT=$((PORT + 1))
chmod 755 "$T"

partners() { # [extra policy text]
    cat > "$T/partners.policy" <<EOF
partner core {
    role core
    address 127.0.0.3/32
}
partner alpha {
    role interconnect
    address 127.0.0.10/32, 127.0.0.11/32
    ranges +4930
}
${1:-}
EOF
}
partners ""
cat > "$T/state.conf" <<EOF
mode inline
workers 2
policy builtin:default
policy $T/partners.policy
events $T/events.jsonl
log $T/sipwalld.log
log-level info
admin $T/admin.sock
secret $T/secret
listen udp 127.0.0.1:$PORT side=interconnect
listen udp 127.0.0.2:$PORT side=core
forward udp:127.0.0.3:$CORE_PORT
EOF
CONF=$T/state.conf
ctl() { timeout 10 "$SIPWALLD" -c "$CONF" ctl "$@"; }

rm -f "$T/admin.sock"
"$SIPWALLD" -c "$CONF" 2>> "$T/stderr.log" &
DPID=$!
for _ in $(seq 1 100); do
    [ -S "$T/admin.sock" ] && ctl stats > /dev/null 2>&1 && break
    kill -0 "$DPID" 2>/dev/null || fail "sipwalld died at start"
    sleep 0.1
done
ctl stats > /dev/null || fail "sipwalld did not come up"
grep "listening udp 127.0.0.1:$PORT" "$T/sipwalld.log" | grep -q "steering unavailable" &&
    fail "source steering unavailable: the two sources would not be steered to two workers"

# calls.py SPEC...: sends each INVITE (src_ip a b call-id) and prints, per
# call-id, "fwd" when the core received it within the wait, else "held".
cat > "$T/calls.py" <<'PY'
import socket, sys, time
port, core_port = int(sys.argv[1]), int(sys.argv[2])
specs = [s.split(",") for s in sys.argv[3:]]
core = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
core.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
core.bind(("127.0.0.3", core_port))
socks = {}
for src, a, b, cid in specs:
    if src not in socks:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0)); socks[src] = s
    s = socks[src]
    msg = ("INVITE tel:%s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:%s@alpha.example;user=phone>;tag=t%s\r\n"
           "To: <tel:%s>\r\nCall-ID: %s@%s\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:%s@%s:%d>\r\nContent-Length: 0\r\n\r\n"
           % (b, src, s.getsockname()[1], cid, a, cid, b, cid, src, a, src, s.getsockname()[1]))
    s.sendto(msg.encode(), ("127.0.0.1", port))
    time.sleep(0.02)
seen = set()
core.settimeout(0.2)
deadline = time.time() + 1.5
while time.time() < deadline:
    try:
        data, _ = core.recvfrom(65535)
    except socket.timeout:
        continue
    for line in data.decode(errors="replace").split("\r\n"):
        if line.lower().startswith("call-id:"):
            seen.add(line.split(":", 1)[1].strip().split("@")[0])
for _, _, _, cid in specs:
    print(cid, "fwd" if cid in seen else "held")
PY
calls() { python3 "$T/calls.py" "$PORT" "$CORE_PORT" "$@"; }
expect() { # OUTPUT CALL-ID fwd|held WHAT
    echo "$1" | grep -qx "$2 $3" || fail "$4: call $2 not $3 ($(echo "$1" | tr '\n' ' '))"
}
run_through() { # SRC CALLER RANGE-PREFIX TAG N: N distinct B in one range
    local specs=() i
    for i in $(seq 1 "$5"); do specs+=("$1,$2,$3$i,$4$i"); done
    calls "${specs[@]}"
}
stat() { # python expression over the stats object s
    sleep 1.3 # counters are published once a second
    local st
    st=$(ctl stats)
    python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$st" "$1"
}

# ---- a block set through one worker applies in the other ---------------------------
out=$(calls "127.0.0.11,+4930555000,+4930123456,pre")
expect "$out" pre fwd "control: the caller before any block, via worker 1"
out=$(run_through 127.0.0.10 +4930555000 +4420794600 seqA 5)
expect "$out" seqA1 fwd "first call of the run"
expect "$out" seqA5 held "the 5th distinct number in one range (irsf.sequential)"
grep -q '"rule":"irsf.sequential"' "$T/events.jsonl" || sleep 1.2
grep -q '"rule":"irsf.sequential"' "$T/events.jsonl" || fail "no irsf.sequential event"
out=$(calls "127.0.0.11,+4930555000,+4930123457,cross" "127.0.0.11,+4930555111,+4930123458,other")
expect "$out" cross held "the blocked caller from the source of the other worker"
expect "$out" other fwd "another caller through the other worker"
[ "$(stat 's["engine"]["active_blocks"]')" = 1 ] || fail "active_blocks is not 1 daemon-wide"
[ "$(stat 's["engine"]["blocked"] >= 1')" = True ] || fail "engine.blocked not counted"
ok "a caller blocked through worker 0 (irsf.sequential) is refused through worker 1; another caller passes; one block daemon-wide"

# ---- reload keeps blocks -----------------------------------------------------------
r=$(ctl reload)
echo "$r" | grep -q "^ok" || fail "reload: $r"
out=$(calls "127.0.0.11,+4930555000,+4930123459,after-reload")
expect "$out" after-reload held "the block after a reload"
ok "the block holds across a reload ($r)"

# ---- a limits change: what fits is migrated, the rest reported ------------------------
run_through 127.0.0.10 +4930555001 +4420794601 seqB 5 > /dev/null
run_through 127.0.0.10 +4930555002 +4420794602 seqC 5 > /dev/null
run_through 127.0.0.10 +4930555333 +4420794603 seqD 4 > /dev/null # a window mid-run
[ "$(stat 's["engine"]["active_blocks"]')" = 3 ] || fail "three blocks expected before the limits change"
msgs_before=$(stat 's["engine"]["messages"]')
blocked_before=$(stat 's["engine"]["blocked"]')
partners "limits { sources 65536; numbers 32768; dialogs 131072; blocks 2; event-keys 65536; events-per-key 10; event-window 60s }"
r=$(ctl reload)
echo "$r" | grep -q "^ok" || fail "reload with other limits: $r"
echo "$r" | grep -q "blocks table 65536 -> 2 entries: 2 migrated, 1 dropped" || fail "reload answer: $r"
grep -q "limits: blocks table 65536 -> 2 entries: 2 migrated, 1 dropped" "$T/sipwalld.log" ||
    fail "no log line for the dropped block"
grep -q "limits changed: .* migrated, 0 dropped" "$T/sipwalld.log" || fail "no log line for the workers' tables"
[ "$(stat 's["state"]["dropped"]')" = 1 ] || fail "state.dropped is not 1"
[ "$(stat 's["state"]["capacity"]')" = 2 ] || fail "state.capacity is not 2"
# the blocks that end last stay (the newest two); the oldest was the one dropped
out=$(calls "127.0.0.11,+4930555002,+4930123460,keptC" "127.0.0.11,+4930555001,+4930123461,keptB" \
            "127.0.0.11,+4930555000,+4930123462,droppedA")
expect "$out" keptC held "a migrated block, through the other worker"
expect "$out" keptB held "a migrated block, through the other worker"
expect "$out" droppedA fwd "the block reported as dropped"
# the detector window went on: the 5th distinct number trips now
out=$(calls "127.0.0.10,+4930555333,+44207946035,seqD5")
expect "$out" seqD5 held "the 5th number of a run begun before the reload"
msgs_after=$(stat 's["engine"]["messages"]')
blocked_after=$(stat 's["engine"]["blocked"]')
[ "$msgs_after" -gt "$msgs_before" ] || fail "messages went from $msgs_before to $msgs_after"
[ "$blocked_after" -gt "$blocked_before" ] || fail "blocked went from $blocked_before to $blocked_after"
ok "limits blocks 65536 -> 2: 2 migrated, 1 dropped and reported; a window mid-run kept; counters $msgs_before -> $msgs_after messages"

kill -TERM "$DPID"
wait "$DPID" || fail "sipwalld exit status"
DPID=
echo "all sipwalld state checks passed"
