#!/usr/bin/env bash
# `sipwalld --check-config` fails whatever start would fail (defect R10),
# and start agrees: one bad config per case, each must be refused by
# --check-config (non-zero, the error names the line or the directive) and
# by a start (non-zero, bounded wait); the good config passes both.  Also
# the pid file and the admin socket: a second instance on the same config
# refuses to start and leaves the first one's files alone; stale files
# (after kill -9, or naming a process that is not sipwalld) are replaced;
# a clean stop removes both.
set -uo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
T=$(mktemp -d "$SW_BUILD/test_check_config.XXXXXX")
T=$(cd "$T" && pwd)
PIDS=()
FAILS=0
cleanup() {
    local p
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    [ "$FAILS" = 0 ] && rm -rf "$T"
}
trap cleanup EXIT
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
NET=127.93.0

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/a.key" -out "$T/a.pem" -days 2 \
    -subj "/CN=a.test" >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }
openssl genrsa -out "$T/other.key" 2048 >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }
cat >"$T/partners.policy" <<EOF
partner core { role core; address $NET.3/32 }
partner alpha { role interconnect; address $NET.10/32 }
EOF
echo 'limits { sources 67108864; numbers 67108864; dialogs 67108864; blocks 67108864; event-keys 67108864 }' \
    >"$T/huge-limits.policy"

base() { # the good config
    cat <<EOF
mode inline
workers 2
policy builtin:default
policy $T/partners.policy
events $T/events.jsonl
log $T/sipwalld.log
admin $T/admin.sock
pid-file $T/sipwalld.pid
secret $T/secret
listen udp $NET.1:5060 side=interconnect
listen tcp $NET.1:5060 side=interconnect
listen udp $NET.2:5060 side=core
forward udp:$NET.3:5060
EOF
}

# run_start CONF: starts sipwalld, waits at most 20 s for it to exit; prints
# its status (or "running" after stopping it)
run_start() {
    "$SIPWALLD" -c "$1" >"$T/start.out" 2>&1 &
    local pid=$!
    local pf
    pf=$(awk '$1 == "pid-file" {print $2}' "$1")
    PIDS+=("$pid")
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; echo $?; return; }
        # up: its admin socket answers (only this test's instance can, the
        # first one is stopped before the cases that expect a start)
        if "$SIPWALLD" -c "$1" ctl stats >/dev/null 2>&1 && [ "$(cat "$pf" 2>/dev/null)" = "$pid" ]; then
            break
        fi
        sleep 0.1
    done
    kill -TERM "$pid"
    wait "$pid"
    echo running
}

# refuse NAME PATTERN START_PATTERN SED LINE... : config = base edited by
# the sed expression SED ("" for none) + lines; check-config and start must
# both fail, check-config's message must match PATTERN and the error start
# logs START_PATTERN ("" = the same)
refuse() {
    local name=$1 pat=$2 spat=${3:-$2} sedx=$4
    shift 4
    local conf=$T/$name.conf
    { base | sed "$sedx"; for l in "$@"; do echo "$l"; done; } >"$conf"
    local out rc
    out=$("$SIPWALLD" -c "$conf" --check-config 2>&1)
    rc=$?
    if [ "$rc" = 0 ]; then
        bad "$name: --check-config accepted it: $out"
    elif ! echo "$out" | grep -q -E "$pat"; then
        bad "$name: --check-config failed without naming the problem /$pat/: $out"
    else
        ok "$name: --check-config refuses: $(echo "$out" | head -1 | cut -c1-160)"
    fi
    local st serr
    : >"$T/sipwalld.log"
    st=$(run_start "$conf")
    serr=$(cat "$T/start.out" "$T/sipwalld.log" 2>/dev/null | grep -E 'level=error|^sipwalld:' | head -1)
    if [ "$st" = 0 ] || [ "$st" = running ]; then
        bad "$name: start did not fail ($st)"
    elif ! echo "$serr" | grep -q -E "$spat"; then
        bad "$name: start failed (status $st) with another error than /$spat/: $serr"
    else
        ok "$name: start fails the same way (status $st)"
    fi
    rm -f "$T/sipwalld.pid" "$T/admin.sock"
}

# ---- the good config --------------------------------------------------------------------------
base >"$T/good.conf"
if out=$("$SIPWALLD" -c "$T/good.conf" --check-config 2>&1); then ok "good config: $out"; else bad "good config refused: $out"; fi
[ -e "$T/secret" ] && bad "--check-config created the secret"

# ---- one bad config per case ----------------------------------------------------------------------
refuse events-dir "events /nonexistent/dir/e.jsonl: directory /nonexistent/dir: No such file" "" \
    "s#^events .*#events /nonexistent/dir/e.jsonl#"
refuse log-dir "log /nonexistent/dir/l.log: directory /nonexistent/dir: No such file" \
    "log file /nonexistent/dir/l.log: No such file" \
    "s#^log .*#log /nonexistent/dir/l.log#"
refuse secret-dir "secret /nonexistent/dir/secret: directory /nonexistent/dir: No such file" "" \
    "s#^secret .*#secret /nonexistent/dir/secret#"
refuse admin-dir "admin /nonexistent/dir/a.sock: directory /nonexistent/dir: No such file" "" \
    "s#^admin .*#admin /nonexistent/dir/a.sock#"
refuse tls-mismatch "tls-mismatch.conf:14: listen tls: .*key values mismatch" "key values mismatch" "" \
    "listen tls $NET.1:5061 side=interconnect cert=$T/a.pem key=$T/other.key verify=none"
refuse tls-not-pem "tls-not-pem.conf:14: listen tls: .*no start line" "no start line" "" \
    "listen tls $NET.1:5061 side=interconnect cert=/etc/hostname key=$T/a.key verify=none"
refuse no-user "user nosuchuser does not exist" "" "" "user nosuchuser"
refuse unbindable "unbindable.conf:14: listen: .*192.0.2.1.*Cannot assign requested address" \
    "192.0.2.1:5060: Cannot assign requested address" "" \
    "listen udp 192.0.2.1:5060 side=core"
# another program holds a port (no SO_REUSEPORT)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind((sys.argv[1], 5099)); s.listen(); time.sleep(60)' "$NET.1" &
HOLDER=$!
PIDS+=("$HOLDER")
for _ in $(seq 50); do ss -Hltn "src $NET.1:5099" | grep -q . && break; sleep 0.1; done
refuse port-taken "port-taken.conf:14: listen: .*$NET.1:5099.*Address already in use" \
    "$NET.1:5099: Address already in use" "" \
    "listen tcp $NET.1:5099 side=interconnect"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
refuse hep-placeholder "hep-placeholder.conf:14: hep: auth-key 'CHANGE-ME' is a placeholder" "" "" \
    "hep udp $NET.5:9060 auth-key=CHANGE-ME"
refuse hep-placeholder2 "hep-placeholder2.conf:14: hep: auth-key 'replace-me' is a placeholder" "" "" \
    "hep tcp $NET.5:9060 auth-key=replace-me"
refuse no-iface "no-iface.conf:14: capture nosuchif0: no such interface" "" "" "capture nosuchif0"
refuse huge-limits "engine state.*MiB" "" "" "policy $T/huge-limits.policy"
# the fd limit: a hard RLIMIT_NOFILE of 4096 against 1M connections
(
    FAILS=0
    ulimit -Sn 1024 && ulimit -Hn 4096 || exit 2
    refuse fd-limit "max-connections=1000000 needs about [0-9]+ file descriptors.*hard limit RLIMIT_NOFILE is 4096" "" "" \
        "limits max-connections=1000000"
    exit "$FAILS"
)
FAILS=$((FAILS + $?))
# within the hard limit: check-config notes it, start raises the soft limit
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=65536
(
    ulimit -Sn 1024 || exit 2
    MC=$((HARD / 2 < 30000 ? HARD / 2 : 30000))
    { base; echo "limits max-connections=$MC"; } >"$T/raise.conf"
    out=$("$SIPWALLD" -c "$T/raise.conf" --check-config 2>&1) || { echo "FAIL: raise: refused: $out"; exit 1; }
    echo "$out" | grep -q "start raises the soft RLIMIT_NOFILE from 1024" || { echo "FAIL: raise: no note: $out"; exit 1; }
    echo "ok:   max-connections within the hard limit: $(echo "$out" | head -1)"
    "$SIPWALLD" -c "$T/raise.conf" >"$T/raise.out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -S "$T/admin.sock" ] && break; sleep 0.1; done
    lim=$(awk '/Max open files/ {print $4}' "/proc/$pid/limits")
    kill -TERM "$pid"; wait "$pid"; st=$?
    [ "$lim" -ge "$MC" ] || { echo "FAIL: raise: the soft limit is $lim"; exit 1; }
    grep -q "raised the soft RLIMIT_NOFILE from 1024" "$T/sipwalld.log" || { echo "FAIL: raise: not logged"; exit 1; }
    [ "$st" = 0 ] || { echo "FAIL: raise: stop status $st"; exit 1; }
    echo "ok:   start raised the soft limit to $lim and stopped cleanly"
)
FAILS=$((FAILS + $?))

# ---- pid file and admin socket --------------------------------------------------------------------
rm -f "$T/sipwalld.pid" "$T/admin.sock"
"$SIPWALLD" -c "$T/good.conf" >"$T/first.out" 2>&1 &
P1=$!
PIDS+=("$P1")
for _ in $(seq 100); do "$SIPWALLD" -c "$T/good.conf" ctl stats >/dev/null 2>&1 && break; sleep 0.1; done
[ "$(cat "$T/sipwalld.pid" 2>/dev/null)" = "$P1" ] && ok "pid file written" || bad "pid file: $(cat "$T/sipwalld.pid" 2>&1)"
out=$("$SIPWALLD" -c "$T/good.conf" --check-config 2>&1) && echo "$out" | grep -q "already running (pid $P1)" &&
    ok "--check-config notes the running instance" || bad "--check-config with a running instance: $out"
st=$(run_start "$T/good.conf")
if [ "$st" != 0 ] && [ "$st" != running ] && grep -q "already running (pid $P1)" "$T/start.out" "$T/sipwalld.log"; then
    ok "a second instance refuses to start (status $st)"
else
    bad "a second instance: status $st: $(tail -3 "$T/start.out")"
fi
[ "$(cat "$T/sipwalld.pid")" = "$P1" ] && ok "the first instance's pid file is untouched" || bad "pid file now $(cat "$T/sipwalld.pid")"
"$SIPWALLD" -c "$T/good.conf" ctl stats >/dev/null 2>&1 && ok "the first instance still answers on its admin socket" ||
    bad "the first instance's admin socket was taken"
kill -KILL "$P1"; wait "$P1" 2>/dev/null
[ -e "$T/sipwalld.pid" ] && [ -S "$T/admin.sock" ] || bad "kill -9 should leave both files behind"
st=$(run_start "$T/good.conf")
[ "$st" = running ] && ok "a start after kill -9 replaces the stale pid file and socket" ||
    bad "start after kill -9: status $st: $(tail -3 "$T/start.out")"
[ ! -e "$T/sipwalld.pid" ] && [ ! -e "$T/admin.sock" ] && ok "a clean stop removes the pid file and the admin socket" ||
    bad "after a clean stop: $(ls "$T")"
# a pid file naming a live process that is not sipwalld
sleep 30 &
SP=$!
PIDS+=("$SP")
echo "$SP" >"$T/sipwalld.pid"
st=$(run_start "$T/good.conf")
[ "$st" = running ] && ok "a pid file naming another program is stale" || bad "pid of another program: status $st: $(tail -3 "$T/start.out")"
kill "$SP"; wait "$SP" 2>/dev/null
# the directory the files are in does not exist: a clean error at once
{ base | sed "s#^pid-file .*#pid-file $T/nodir/sipwalld.pid#"; } >"$T/nodir.conf"
out=$("$SIPWALLD" -c "$T/nodir.conf" --check-config 2>&1) && bad "pid-file in a missing directory accepted" ||
    { echo "$out" | grep -q "pid-file $T/nodir/sipwalld.pid: directory $T/nodir" && ok "pid-file in a missing directory: $out" || bad "pid-file: $out"; }
# after the privilege drop: removed when the directory lets the user, else a
# warning (and the next start replaces them)
chmod 755 "$T"
mkdir -p "$T/run"
chown nobody "$T/run"
{ base | sed -e "s#^pid-file .*#pid-file $T/run/sipwalld.pid#" -e "s#^admin .*#admin $T/run/admin.sock#"
  echo "user nobody"; } >"$T/drop.conf"
: >"$T/sipwalld.log"
st=$(run_start "$T/drop.conf")
[ "$st" = running ] && [ ! -e "$T/run/sipwalld.pid" ] && [ ! -e "$T/run/admin.sock" ] &&
    ok "running as nobody: a clean stop removes both files" || bad "drop: status $st, left: $(ls "$T/run")"
chown root "$T/run"
: >"$T/sipwalld.log"
st=$(run_start "$T/drop.conf")
if [ "$st" = running ] && grep -q "cannot remove the pid file $T/run/sipwalld.pid: Permission denied" "$T/sipwalld.log"; then
    ok "a directory the user cannot write: the stop says so"
else
    bad "drop, root-owned directory: status $st: $(grep -m2 -E 'warn|error' "$T/sipwalld.log")"
fi
st=$(run_start "$T/drop.conf")
[ "$st" = running ] && ok "the next start replaces what was left" || bad "restart over leftovers: status $st"
if grep -q -E 'Sanitizer|runtime error:' "$T"/*.out "$T/sipwalld.log" 2>/dev/null; then bad "sanitizer report"; fi

echo "check-config: $FAILS failed"
[ "$FAILS" = 0 ]
