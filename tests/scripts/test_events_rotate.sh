#!/usr/bin/env bash
# Rotation and symlinks of sipwalld's files (defects R6 and R5):
# - mv of the JSON-lines file and the log, `ctl reopen`: new events and log
#   lines land in new files, none in the moved ones;
# - the same with SIGHUP (which also reloads the policy);
# - the shipped etc/logrotate.d/sipwall (paths pointed at this test's files)
#   run with `logrotate -f -s STATE`: rotated, reopened, nothing lost, and it
#   does not use copytruncate;
# - an events file, events-db or log path that is a symbolic link is refused
#   at start with a clear error, and the link's target is left untouched.
set -uo pipefail
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SW_SRC/tests/peers/lib.sh"
SIPWALL=${SIPWALL:-${SW_BUILD:-$SW_SRC/build}/sipwall}
LOAD=$SW_SRC/tests/tools/sip-events-load

peers_init events-rotate 64
DB=$WORK/events.db
LOGF=$WORK/daemon.log
export SIPWALL_EVENTS_DB=$DB
PEERS_POLICY_EXTRA='limits { events-per-key 100000; event-window 1s; event-keys 65536 }'
peers_write_policy
peers_write_conf "events-db $DB" "pid-file $WORK/sipwalld.pid"
sed -i "s|^log stderr|log $LOGF|" "$CONF"
peers_start_sipwalld

# events PREFIX N: send N stranger requests with Call-IDs PREFIX<i>, wait
# until the store holds them
n_sent=0
events() {
    "$LOAD" --dst "$SW_IC:5060" --kind stranger --src "$STRANGER_NET.5" --n "$2" --prefix "$1" \
        --first $n_sent >/dev/null
    n_sent=$((n_sent + $2))
    for _ in $(seq 100); do
        [ "$("$SIPWALL" events --json | wc -l)" -ge $n_sent ] && break
        sleep 0.1
    done
    sleep 0.3 # the file is written in the same batch as the store: give it a moment
}
# in FILE PREFIX: lines of FILE whose Call-ID starts with PREFIX
in_file() {
    local n=0
    [ -f "$1" ] && n=$(grep -c "\"call_id\":\"$2[0-9]" "$1")
    echo "${n:-0}"
}
expect() { [ "$2" = "$3" ] && ok "$1: $2" || bad "$1: got $2, want $3"; }
# events of the load in the store (each has a Call-ID; sipwalld's own
# config.start, privilege and audit events have none)
stored_load() { "$SIPWALL" events --json | grep -c '"call_id":"'; }

events a 3
expect "events before the rotation" "$(in_file "$EVENTS" a)" 3

# ---- mv + ctl reopen ----
mv "$EVENTS" "$WORK/events.moved1"
mv "$LOGF" "$WORK/daemon.moved1"
r=$("$SIPWALLD" -c "$CONF" ctl reopen)
echo "$r" | grep -q '^ok' && ok "ctl reopen: $r" || bad "ctl reopen said: $r"
events b 4
expect "after ctl reopen: new events in the new file" "$(in_file "$EVENTS" b)" 4
expect "after ctl reopen: none in the moved file" "$(in_file "$WORK/events.moved1" b)" 0
expect "the moved file keeps its events" "$(in_file "$WORK/events.moved1" a)" 3
[ -s "$LOGF" ] && grep -q "reopened" "$LOGF" && ok "the log was reopened: $(tail -n 1 "$LOGF" | cut -c1-120)" ||
    bad "no new log file with the reopen line"
grep -q "reopened" "$WORK/daemon.moved1" && bad "the reopen line went to the moved log" ||
    ok "the moved log got no new line"

# ---- mv + SIGHUP (reload and reopen) ----
mv "$EVENTS" "$WORK/events.moved2"
kill -HUP "$SIPWALLD_PID"
for _ in $(seq 50); do peers_stats | grep -q '"policy_generation_in_force":2' && break; sleep 0.1; done
peers_stats | grep -q '"policy_generation_in_force":2' && ok "SIGHUP reloaded the policy" ||
    bad "SIGHUP did not reload the policy"
events c 2
expect "after SIGHUP: new events in the new file" "$(in_file "$EVENTS" c)" 2
expect "after SIGHUP: none in the moved file" "$(in_file "$WORK/events.moved2" c)" 0

# ---- the shipped logrotate configuration ----
LR=$SW_SRC/etc/logrotate.d/sipwall
if grep -v '^ *#' "$LR" | grep -q copytruncate; then bad "etc/logrotate.d/sipwall uses copytruncate"; else
    ok "etc/logrotate.d/sipwall does not use copytruncate"; fi
if command -v logrotate >/dev/null 2>&1; then
    sed -e "s|/var/log/sipwall/events.jsonl|$EVENTS|" -e "s|/var/log/sipwall/sipwalld.log|$LOGF|" \
        -e "s|su root sipwall|su root root|" \
        -e "s|/usr/local/bin/sipwalld -c /etc/sipwall/sipwalld.conf|$SIPWALLD -c $CONF|" \
        -e "s|/run/sipwall/sipwalld.pid|$WORK/sipwalld.pid|g" "$LR" >"$WORK/logrotate.conf"
    grep -q "$WORK" "$WORK/logrotate.conf" &&
        ! grep -v '^ *#' "$WORK/logrotate.conf" | grep -q "/var/log/sipwall\|/etc/sipwall\|/run/sipwall" ||
        die "could not point the logrotate configuration at the test's files"
    logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf" >"$WORK/logrotate.out" 2>&1
    lrc=$?
    [ $lrc = 0 ] && ok "logrotate -f ran" || bad "logrotate exited $lrc: $(head -c 300 "$WORK/logrotate.out")"
    events d 3
    expect "after logrotate: the rotated file (.1) holds the earlier events" "$(in_file "$EVENTS.1" c)" 2
    expect "after logrotate: new events in the new file" "$(in_file "$EVENTS" d)" 3
    expect "after logrotate: none in the rotated file" "$(in_file "$EVENTS.1" d)" 0
    [ -s "$LOGF.1" ] && [ -s "$LOGF" ] && grep -q reopened "$LOGF" && ok "the log rotated and reopened" ||
        bad "log after logrotate: $(ls -l "$WORK" | grep daemon)"
else
    bad "logrotate is not installed (scripts/install-deps installs it)"
fi
expect "the store has every event" "$(stored_load)" $n_sent
peers_stop_sipwalld_checked

# ---- after a privilege drop (user nobody), as the shipped unit runs it ----
# The store in a root-only directory (/var/lib/sipwall: opened before the
# drop), the file and the log in a directory the user's group may write
# (/var/log/sipwall: reopened after the drop, as the user).
if id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null 2>&1; then
    chmod 755 "$WORK"
    mkdir -p "$WORK/lib" "$WORK/log"
    chmod 700 "$WORK/lib"
    chown root:nogroup "$WORK/log"
    chmod 770 "$WORK/log"
    cp "$CONF" "$WORK/root.conf"
    sed -i -e "s|^events-db .*|events-db $WORK/lib/events.db|" -e "s|^events .*|events $WORK/log/events.jsonl|" \
        -e "s|^log .*|log $WORK/log/daemon.log|" "$CONF"
    echo "user nobody nogroup" >>"$CONF"
    peers_start_sipwalld
    export SIPWALL_EVENTS_DB=$WORK/lib/events.db
    n_sent=0
    events u 5
    uid=$(awk '/^Uid:/ {print $2}' "/proc/$SIPWALLD_PID/status")
    expect "running as nobody: uid" "$uid" "$(id -u nobody)"
    expect "as nobody: events stored (store opened before the drop)" "$(stored_load)" 5
    expect "as nobody: events in the file" "$(in_file "$WORK/log/events.jsonl" u)" 5
    # only the events file rotated: the log (root's, opened before the
    # drop) is still in place and is kept, not reopened
    mv "$WORK/log/events.jsonl" "$WORK/log/events.jsonl.0"
    r=$("$SIPWALLD" -c "$CONF" ctl reopen)
    echo "$r" | grep -q '^ok' && ok "as nobody, events file only: ctl reopen: $r" ||
        bad "as nobody, events file only: ctl reopen said: $r"
    mv "$WORK/log/events.jsonl" "$WORK/log/events.jsonl.1"
    mv "$WORK/log/daemon.log" "$WORK/log/daemon.log.1"
    r=$("$SIPWALLD" -c "$CONF" ctl reopen)
    echo "$r" | grep -q '^ok' && ok "as nobody: ctl reopen: $r" || bad "as nobody: ctl reopen said: $r"
    [ "$(stat -c %U "$WORK/log/daemon.log")" = nobody ] && ok "as nobody: the new log is the user's" ||
        bad "the new log belongs to $(stat -c %U "$WORK/log/daemon.log" 2>&1)"
    events v 4
    expect "as nobody: after the reopen, new events in the new file" "$(in_file "$WORK/log/events.jsonl" v)" 4
    expect "as nobody: the store has all" "$(stored_load)" 9
    [ "$(stat -c %U "$WORK/log/events.jsonl")" = nobody ] && ok "as nobody: the new file is the user's" ||
        bad "the new events file belongs to $(stat -c %U "$WORK/log/events.jsonl")"
    peers_stop_sipwalld_checked
    cp "$WORK/root.conf" "$CONF"
else
    bad "no user nobody / group nogroup to test the privilege drop with"
fi

# ---- symbolic links are refused at start (R5) ----
echo "ROOT-ONLY" >"$WORK/victim"
chmod 600 "$WORK/victim"
refused() { # what CONF-EDIT LINK: the error must name LINK
    local what=$1 edit=$2 link=$3 rc=0
    sed -e "$edit" "$CONF" >"$WORK/link.conf"
    rm -f "$ADMIN"
    : >"$LOGF"
    if "$SIPWALLD" -c "$WORK/link.conf" --check-config >"$WORK/check.out" 2>&1; then
        bad "$what: --check-config says ok"
    else
        grep -q "symbolic link" "$WORK/check.out" && ok "$what: --check-config refuses it too" ||
            bad "$what: --check-config said $(head -c 200 "$WORK/check.out")"
    fi
    timeout 20 "$SIPWALLD" -c "$WORK/link.conf" >"$WORK/link.out" 2>&1 || rc=$?
    if [ $rc != 0 ] && grep -h "symbolic link" "$WORK/link.out" "$LOGF" 2>/dev/null | grep -q "$link"; then
        ok "$what: refused at start (status $rc): $(grep -h -m 1 "symbolic link" "$WORK/link.out" "$LOGF" | cut -c1-160)"
    else
        bad "$what: status $rc, said $(head -c 300 "$WORK/link.out")"
    fi
    [ "$(cat "$WORK/victim")" = "ROOT-ONLY" ] && ok "$what: the link's target is untouched" ||
        bad "$what: the link's target was written to"
}
ln -s "$WORK/victim" "$WORK/link.jsonl"
refused "events file symlink" "s|^events .*|events $WORK/link.jsonl|" "$WORK/link.jsonl"
ln -s "$WORK/victim" "$WORK/link.db"
refused "events-db symlink" "s|^events-db .*|events-db $WORK/link.db|" "$WORK/link.db"
ln -s "$WORK/victim" "$WORK/link.log"
refused "log file symlink" "s|^log .*|log $WORK/link.log|" "$WORK/link.log"

peers_done
