#!/usr/bin/env bash
# Issue 15, item 5: least privilege.
# - with `user nobody`: after binding the process runs as nobody with no
#   capability (permitted/effective/inheritable 0, empty bounding set),
#   no_new_privs and not dumpable (its /proc files stay root's);
# - without `user`: still no capability, no_new_privs (root without powers);
# - events, log and pid-file paths that are symbolic links planted by the
#   service user (R5) are refused and the file they point at is unchanged;
# - the systemd unit scores at most 2.5 ("OK") in
#   `systemd-analyze security --offline=yes`, with the settings it relies on;
# - a Release configuration builds no test hook: the admin code compiled
#   with its flags has no `debug-stall`, the Debug one does (the check can fail).
# Nets: 127.218.0.0/16 only.
set -uo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-.}
T=$(mktemp -d "$SW_BUILD/test_security_privilege.XXXXXX")
T=$(cd "$T" && pwd)
chmod 755 "$T"
PID=
FAILS=0
cleanup() {
    [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
    wait 2>/dev/null
    [ "$FAILS" = 0 ] && rm -rf "$T"
}
trap cleanup EXIT
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
NET=127.218.0
SCORE_MAX=2.5

conf() { # conf NAME DIR [extra lines...]
    local name=$1 dir=$2; shift 2
    {
        cat <<EOF
mode inline
workers 1
policy builtin:default
events $dir/events.jsonl
log $dir/sipwalld.log
admin $T/$name.sock
pid-file $dir/sipwalld.pid
secret $T/secret
listen udp $NET.1:5060 side=interconnect
listen tcp $NET.1:5060 side=interconnect
listen udp $NET.2:5060 side=core
forward udp:$NET.3:5060
EOF
        printf '%s\n' "$@"
    } >"$T/$name.conf"
}

# up CONF: starts sipwalld in the background (PID), waits for ctl stats
up() {
    "$SIPWALLD" -c "$1" >"$T/run.out" 2>&1 &
    PID=$!
    for _ in $(seq 100); do
        "$SIPWALLD" -c "$1" ctl stats >/dev/null 2>&1 && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.2
    done
    bad "sipwalld did not start: $(tail -3 "$T/run.out")"
    return 1
}
down() {
    kill -TERM "$PID"; wait "$PID"; local st=$?; PID=
    [ "$st" = 0 ] || bad "sipwalld exit $st: $(tail -3 "$T/run.out")"
}
field() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$PID/status"; }

# ---- with a user ------------------------------------------------------------------
mkdir -p "$T/var"
chown nobody:nogroup "$T/var"
chmod 0770 "$T/var"
conf user "$T/var" "user nobody nogroup"
if up "$T/user.conf"; then
    uid=$(awk '$1 == "Uid:" {print $2 $3 $4 $5}' "/proc/$PID/status")
    nobody=$(id -u nobody)
    [ "$uid" = "$nobody$nobody$nobody$nobody" ] && ok "runs as nobody (real, effective, saved, fs)" \
        || bad "Uid: $uid"
    for c in CapPrm CapEff CapInh CapBnd CapAmb; do
        v=$(field $c)
        [ "$v" = 0000000000000000 ] && ok "user: $c 0" || bad "user: $c $v"
    done
    [ "$(field NoNewPrivs)" = 1 ] && ok "user: no_new_privs" || bad "user: NoNewPrivs $(field NoNewPrivs)"
    # a non-dumpable process' /proc files belong to root, not to its user
    [ "$(stat -c %u "/proc/$PID/status")" = 0 ] && ok "user: not dumpable (its /proc entries are root's)" \
        || bad "user: dumpable: /proc/$PID owned by $(stat -c %u "/proc/$PID/status")"
    down
fi

# ---- without a user -----------------------------------------------------------------
conf root "$T" ""
if up "$T/root.conf"; then
    for c in CapPrm CapEff CapInh CapBnd; do
        v=$(field $c)
        [ "$v" = 0000000000000000 ] && ok "root: $c 0" || bad "root: $c $v"
    done
    [ "$(field NoNewPrivs)" = 1 ] && ok "root: no_new_privs" || bad "root: NoNewPrivs $(field NoNewPrivs)"
    # still works: a reload and a log reopen after the drop
    "$SIPWALLD" -c "$T/root.conf" ctl reload >"$T/reload.out" 2>&1 && ok "root: reload after the drop" \
        || bad "root: reload: $(cat "$T/reload.out")"
    down
fi

# ---- symbolic links planted by the service user (R5) ----------------------------------
echo "ROOT-ONLY FILE" >"$T/victim"
chmod 600 "$T/victim"
before=$(sha256sum <"$T/victim")
for f in events.jsonl sipwalld.log sipwalld.pid; do
    rm -f "$T/var/"*
    su -s /bin/sh nobody -c "ln -s $T/victim $T/var/$f" || { bad "cannot plant $f"; continue; }
    timeout 20 "$SIPWALLD" -c "$T/user.conf" >"$T/link.out" 2>&1
    st=$?
    if [ "$st" != 0 ] && [ "$st" != 124 ] && [ "$(sha256sum <"$T/victim")" = "$before" ]; then
        why=$(cat "$T/link.out" "$T/var/sipwalld.log" 2>/dev/null | grep -o 'symbolic link.*' | head -1)
        [ -n "$why" ] && ok "a symlink at $f is refused ($why), the target untouched" \
            || bad "symlink at $f: refused without saying why: $(tail -2 "$T/link.out")"
    else
        bad "symlink at $f: exit $st, victim $(head -c 80 "$T/victim"): $(tail -2 "$T/link.out")"
    fi
done
rm -f "$T/var/"*

# ---- the systemd unit ------------------------------------------------------------------
UNIT="$SW_SRC/etc/systemd/sipwalld.service"
command -v systemd-analyze >/dev/null || { bad "systemd-analyze missing (systemd)"; UNIT=; }
if [ -n "$UNIT" ]; then
    cp "$UNIT" "$T/sipwalld.service"
    systemd-analyze security --offline=yes --no-pager "$T/sipwalld.service" >"$T/analyze.out" 2>&1
    score=$(sed -n 's/.*Overall exposure level for sipwalld.service: \([0-9.]*\).*/\1/p' "$T/analyze.out")
    if [ -n "$score" ] && awk -v s="$score" -v m="$SCORE_MAX" 'BEGIN {exit !(s <= m)}'; then
        ok "systemd-analyze security: exposure $score (at most $SCORE_MAX)"
    else
        bad "systemd-analyze security: '$score' above $SCORE_MAX: $(tail -3 "$T/analyze.out")"
    fi
    for s in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes PrivateDevices=yes \
        MemoryDenyWriteExecute=yes RestrictNamespaces=yes SystemCallFilter=@system-service \
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SETUID CAP_SETGID" \
        RestrictAddressFamilies=; do
        grep -q "^$s" "$UNIT" || bad "the unit lacks $s"
    done
    # the score falls when the hardening goes: the check can fail
    mkdir -p "$T/weak"
    grep -v '^\(NoNewPrivileges\|ProtectSystem\|PrivateTmp\|SystemCallFilter\|CapabilityBoundingSet\|MemoryDenyWriteExecute\|RestrictAddressFamilies\)=' \
        "$UNIT" >"$T/weak/sipwalld.service"
    weak=$(systemd-analyze security --offline=yes --no-pager "$T/weak/sipwalld.service" 2>&1 |
        sed -n 's/.*Overall exposure level for sipwalld.service: \([0-9.]*\).*/\1/p')
    awk -v s="$weak" -v m="$SCORE_MAX" 'BEGIN {exit !(s > m)}' && ok "without the hardening lines: $weak (refused)" \
        || bad "the unhardened unit scores $weak: the threshold proves nothing"
fi

# ---- no test hook in a Release build ------------------------------------------------------
REL="$T/release"
if cmake -S "$SW_SRC" -B "$REL" -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$T/cmake.out" 2>&1; then
    grep -q '^SW_TEST_HOOKS:BOOL=OFF' "$REL/CMakeCache.txt" && ok "Release: SW_TEST_HOOKS is OFF" \
        || bad "Release: $(grep SW_TEST_HOOKS "$REL/CMakeCache.txt")"
    # compile the admin socket's code with the Release flags, look for the hook
    for build in "$REL" "$SW_BUILD"; do
        [ -e "$build/compile_commands.json" ] || continue
        cmd=$(python3 - "$build/compile_commands.json" "$SW_SRC/src/daemon/admin.c" <<'EOF'
import json, os, sys
for e in json.load(open(sys.argv[1])):
    if os.path.realpath(e["file"]) == os.path.realpath(sys.argv[2]):
        print(e["command"]); break
EOF
)
        [ -n "$cmd" ] || { [ "$build" = "$REL" ] && bad "no compile command for admin.c"; continue; }
        obj="$T/admin-$(basename "$build").o"
        cmd=$(sed "s| -o [^ ]*| -o $obj|" <<<"$cmd")
        (cd "$build" && eval "$cmd") >"$T/cc.out" 2>&1 || { bad "compiling admin.c: $(head -3 "$T/cc.out")"; continue; }
        if [ "$build" = "$REL" ]; then
            ! grep -qa "debug-stall" "$obj" && ok "Release: admin.c has no debug-stall" \
                || bad "Release: debug-stall is compiled in"
        else
            grep -qa "debug-stall" "$obj" && ok "Debug (test build): debug-stall present: the check can fail" \
                || echo "note: this build has no test hooks"
        fi
    done
else
    bad "cmake Release configure: $(tail -3 "$T/cmake.out")"
fi

[ "$FAILS" = 0 ] && echo "PASS" || { echo "$FAILS failure(s)"; exit 1; }
