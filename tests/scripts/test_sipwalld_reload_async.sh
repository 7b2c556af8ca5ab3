#!/usr/bin/env bash
# Reloads compile off the control thread (defect R9): while a reload is
# compiling, `ctl stats` answers and SIGTERM stops sipwalld promptly.
#
# A compile that takes as long as the test wants: the new policy (100k
# partners) names a location feed that is a FIFO, so the compile thread
# waits in open/read until the test writes the feed into it.  Then:
#   1. `ctl reload` waits; `ctl stats` answers within 2 s meanwhile, still on
#      generation 1; a second `ctl reload` queues behind the first.
#   2. the feed goes into the FIFO: the first reload answers "ok generation
#      2", the queued one "ok generation 3".
#   3. SIGHUP with the FIFO unfed: SIGTERM stops sipwalld with status 0
#      within 5 s, the log says the reload was abandoned.
# Every wait is bounded; every process is stopped by its PID.
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init reload 91

peers_write_policy
peers_write_conf
peers_start_sipwalld

gen_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["policy_generation_in_force"])'; }

# the next policy: ours plus 100k partners on 10.x and a location feed
# behind a FIFO (opened once per worker by each compile)
FEED=$WORK/feed.fifo
FEEDTSV=$WORK/feed.tsv
mkfifo "$FEED" || die "mkfifo"
printf '+447700900100\t234-15\t2026-11-22T11:40:00Z\n' > "$FEEDTSV"
echo "location-feed \"$FEED\"" >> "$POLICY"
python3 - "$POLICY" <<'PY'
import sys
with open(sys.argv[1], "a") as f:
    for i in range(100000):
        f.write("partner p%06d { role interconnect; address 10.%d.%d.%d/32 }\n"
                % (i, i >> 16 & 255, i >> 8 & 255, i & 255))
PY

# ---- 1. stats during a reload ----------------------------------------------------------
peers_bg reload1 timeout 60 "$SIPWALLD" -c "$CONF" ctl reload
R1=$PEERS_PID
for _ in $(seq 50); do grep -q "reload requested" "$WORK/sipwalld.log" && break; sleep 0.1; done
check "the reload was requested" grep -q "reload requested" "$WORK/sipwalld.log"
sleep 0.5
check "the reload is still compiling (waiting for its feed)" peers_is_child "$R1"
t0=$(date +%s%N)
if st=$(timeout 2 "$SIPWALLD" -c "$CONF" ctl stats); then
    ms=$((($(date +%s%N) - t0) / 1000000))
    ok "ctl stats answers during the reload (${ms} ms)"
    check "generation 1 still in force during the reload" [ "$(echo "$st" | gen_of)" = 1 ]
else
    bad "ctl stats did not answer within 2 s during a reload"
fi
peers_bg reload2 timeout 60 "$SIPWALLD" -c "$CONF" ctl reload
R2=$PEERS_PID
for _ in $(seq 100); do grep -q "another one follows it" "$WORK/sipwalld.log" && break; sleep 0.1; done
check "a second reload queues behind the first" grep -q "another one follows it" "$WORK/sipwalld.log"

# ---- 2. the compile finishes ------------------------------------------------------------
# one tiny feed per open of the FIFO (two workers, two compiles); the pause
# lets each reader see its end of file and close before the next writer
peers_bg feed timeout 60 bash -c "while :; do cat '$FEEDTSV' > '$FEED'; sleep 0.2; done"
FEEDER=$PEERS_PID
maxms=0
for _ in $(seq 20); do
    peers_is_child "$R1" || break
    t0=$(date +%s%N)
    timeout 2 "$SIPWALLD" -c "$CONF" ctl stats >/dev/null || { bad "ctl stats timed out while a 100k-partner policy compiled"; break; }
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$ms" -gt "$maxms" ] && maxms=$ms
    sleep 0.2
done
peers_log "slowest ctl stats while compiling: ${maxms} ms"
for pid in "$R1" "$R2"; do
    for _ in $(seq 300); do peers_is_child "$pid" || break; grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break; sleep 0.1; done
done
peers_stop "$FEEDER"
wait "$R1"; rc1=$?
wait "$R2"; rc2=$?
check "the first reload answers ok generation 2 ($(cat "$WORK/reload1.log"))" \
    [ "$rc1" = 0 -a "$(cut -d' ' -f1-3 "$WORK/reload1.log")" = "ok generation 2" ]
check "the queued reload answers ok generation 3 ($(cat "$WORK/reload2.log"))" \
    [ "$rc2" = 0 -a "$(cut -d' ' -f1-3 "$WORK/reload2.log")" = "ok generation 3" ]
st=$(peers_stats) || die "ctl stats after the reloads"
check "generation 3 in force" [ "$(echo "$st" | gen_of)" = 3 ]

# ---- limits the memory cannot hold: refused, the running policy stays -----------------------
cp "$POLICY" "$WORK/policy.keep"
grep -v '^location-feed' "$WORK/policy.keep" >"$POLICY"
echo 'limits { sources 67108864; numbers 67108864; dialogs 67108864; blocks 67108864 }' >>"$POLICY"
out=$(timeout 60 "$SIPWALLD" -c "$CONF" ctl reload 2>&1)
check "a reload with limits beyond memory is refused ($(echo "$out" | cut -c1-120))" \
    bash -c "echo '$out' | grep -q '^error: .*engine state.*the running policy stays'"
st=$(peers_stats) || die "ctl stats after the refused reload"
check "generation 3 still in force" [ "$(echo "$st" | gen_of)" = 3 ]
cp "$WORK/policy.keep" "$POLICY"

# ---- 3. SIGTERM while a reload compiles ---------------------------------------------------
kill -HUP "$SIPWALLD_PID"
for _ in $(seq 50); do grep -q "SIGHUP: reloading" "$WORK/sipwalld.log" && break; sleep 0.1; done
sleep 0.3
t0=$(date +%s%N)
kill -TERM "$SIPWALLD_PID"
rc=
for _ in $(seq 50); do
    if ! peers_is_child "$SIPWALLD_PID" || grep -q '^State:.*Z' "/proc/$SIPWALLD_PID/status" 2>/dev/null; then
        wait "$SIPWALLD_PID"
        rc=$?
        break
    fi
    sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
if [ -z "$rc" ]; then
    bad "sipwalld did not stop within 5 s of SIGTERM during a reload"
else
    check "sipwalld stops on SIGTERM during a reload (status $rc, ${ms} ms)" [ "$rc" = 0 ]
    SIPWALLD_PID=
fi
check "the log says the reload was abandoned" grep -q "the reload is abandoned" "$WORK/sipwalld.log"
check "no sanitizer report" bash -c "! grep -q -E 'Sanitizer|runtime error:' '$WORK/sipwalld.log'"
peers_done
