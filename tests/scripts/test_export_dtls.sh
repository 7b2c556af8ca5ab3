#!/usr/bin/env bash
# Export over DTLS (RFC 6012) with socat's DTLS server as the collector
# (no Debian 12 syslog daemon receives DTLS), through sipwalld's
# `export syslog … dtls` line; events from store-feed.  DTLS export is best
# effort (docs/export.md): these are the cases where it must not lose.
#   1. no outage: 3000 events, strict 1..3000 (one session: rekey 3600 s);
#   2. the collector killed (SIGKILL, whole process group) in the middle of
#      6000 events at 2000/s and restarted 1 s later: every id delivered,
#      duplicates within window x reconnects; figures printed;
#   3. sessions renewed every second (dtls-rekey=1) during 3000 events at
#      1000/s: every id delivered (unless socat logged a session it failed
#      to accept: then that session's records are lost, best effort),
#      renewals counted; none while idle;
#   4. a collector whose certificate names another host: nothing received,
#      handshake failures counted;
#   5. a backlog of 20000 events waiting when the exporter starts: paced
#      (dtls-rate, default 5000/s), all of them arrive in order (unpaced,
#      about 1 in 10 was dropped by socat's full socket buffer).
set -uo pipefail
. "${SW_SRC:-.}/tests/peers/lib.sh"
. "$SW_SRC/tests/peers/collectors.sh"
FEED=${SW_BUILD:-build}/store-feed
command -v socat >/dev/null || die "socat not installed (scripts/install-deps)"
[ -x "$FEED" ] || die "store-feed not built at $FEED"

peers_init export_dtls 42
export_pki
COLL=127.$PEERS_NET.0.5
PORT=6514

export_line() { # NAME STORE [OPTION...]
    local name=$1 store=$2
    shift 2
    echo "export syslog $name dtls $COLL:$PORT ca=$PKI/ca.pem cert=$PKI/client.pem key=$PKI/client.key server-name=localhost store=$store $*"
}
stat_of() { # EXPORTER FIELD
    peers_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["exporters"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}
wait_cursor() { # EXPORTER ID SECONDS
    local i
    for i in $(seq $(($3 * 10))); do
        [ "$(stat_of "$1" cursor 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# ---- 1. no outage ------------------------------------------------------------------
coll_socat_start d1 "$COLL" "$PORT"
peers_start_proxy "$(export_line dtls1 "$WORK/events1.db" dtls-rekey=3600)"
"$FEED" "$WORK/events1.db" 3000 2000 >/dev/null || die "store-feed failed"
check "the exporter's cursor reaches 3000" wait_cursor dtls1 3000 30
coll_wait_count d1 3000 10 || true
out=$(coll_check d1 3000 strict 2>&1)
check "DTLS, no outage: strict 1..3000 at socat ($out)" coll_check d1 3000 strict
check "stats: sent=3000, duplicates=0" test "$(stat_of dtls1 sent)/$(stat_of dtls1 duplicates)" = 3000/0
peers_stop_sipwalld_checked
coll_stop d1

# ---- 2. the collector killed during a load ------------------------------------------------
WINDOW=1024 # covers a collector lagging on a loaded machine (test_export_tls.sh)
N=6000
coll_socat_start d2 "$COLL" "$PORT"
peers_start_proxy "$(export_line dtls2 "$WORK/events2.db" window=$WINDOW batch=64 dtls-rekey=3600)"
"$FEED" "$WORK/events2.db" $N 2000 >"$WORK/feed2.log" 2>&1 &
FEED_PID=$!
peers_track $FEED_PID
coll_wait_count d2 2000 20 || bad "socat did not get 2000 events within 20 s"
peers_log "outage: socat SIGKILL at $(coll_count d2) received"
coll_stop d2 KILL
sleep 1
coll_socat_start d2 "$COLL" "$PORT"
wait $FEED_PID || bad "store-feed failed: $(cat "$WORK/feed2.log")"
check "the exporter's cursor reaches $N after the outage" wait_cursor dtls2 $N 60
sleep 0.5
out=$(coll_check d2 $N replay 2>&1)
dups=$(echo "$out" | sed -n 's/.*duplicates=\([0-9]*\).*/\1/p')
reconnects=$(stat_of dtls2 reconnects)
peers_log "FIGURES dtls outage: events=$N sent=$(stat_of dtls2 sent) resent=$(stat_of dtls2 duplicates) reconnects=$reconnects connect_failures=$(stat_of dtls2 connect_failures) write_failures=$(stat_of dtls2 write_failures) delivered=$(coll_count d2) duplicates_at_collector=${dups:-?}"
check "DTLS outage: every id 1..$N delivered, new ids in order ($out)" coll_check d2 $N replay
check "a reconnect counted ($reconnects)" test "$reconnects" -ge 1
check "duplicates at the collector ($dups) <= window x reconnects" test "${dups:-999999}" -le $((WINDOW * reconnects))
peers_stop_sipwalld_checked
coll_stop d2

# ---- 3. sessions renewed every second -----------------------------------------------------
coll_socat_start d3 "$COLL" "$PORT"
peers_start_proxy "$(export_line dtls3 "$WORK/events3.db" dtls-rekey=1)"
"$FEED" "$WORK/events3.db" 3000 1000 >/dev/null || die "store-feed failed"
check "the exporter's cursor reaches 3000" wait_cursor dtls3 3000 30
sleep 0.5
out=$(coll_check d3 3000 replay 2>&1)
reconnects=$(stat_of dtls3 reconnects)
peers_log "FIGURES dtls rekey=1s: sent=$(stat_of dtls3 sent) resent=$(stat_of dtls3 duplicates) sessions=$((reconnects + 1)) ($out)"
# Best effort: a session socat failed to accept after our handshake had
# completed (its log says "SSL_accept()", seen on a loaded machine) drops
# every record of it silently.  Any other loss fails the test.
if coll_check d3 3000 replay >/dev/null 2>&1; then
    ok "renewed sessions: every id 1..3000 delivered ($out)"
elif grep -q 'SSL_accept' "$WORK/d3/socat.log"; then
    ok "renewed sessions: loss only with a session socat failed to accept (best effort: $out; $(grep -c SSL_accept "$WORK/d3/socat.log") failed accepts)"
else
    bad "renewed sessions: ids missing without a failed session at socat ($out)"
fi
check "sessions renewed at least twice ($reconnects)" test "$reconnects" -ge 2
sent=$(stat_of dtls3 sent)
check "resent counted = sent - 3000" test "$(stat_of dtls3 duplicates)" -eq $((sent - 3000))
sleep 2.5
check "idle: no renewal, nothing resent after 2.5 s with dtls-rekey=1" test "$(stat_of dtls3 sent)" = "$sent"
peers_stop_sipwalld_checked
coll_stop d3

# ---- 4. a collector of another name ---------------------------------------------------------
coll_socat_start d4 "$COLL" "$PORT" other
peers_start_proxy "$(export_line dtls4 "$WORK/events3.db")"
ok4=0
for _ in $(seq 200); do
    [ "$(stat_of dtls4 handshake_failures 2>/dev/null || echo 0)" -ge 2 ] && { ok4=1; break; }
    sleep 0.1
done
check "wrong collector name: at least 2 DTLS handshake failures counted" test $ok4 = 1
check "wrong collector name: nothing received" test "$(wc -c <"$WORK/d4/received.bin")" = 0
check "wrong collector name: nothing sent" test "$(stat_of dtls4 sent)" = 0
peers_stop_sipwalld_checked
coll_stop d4

# ---- 5. a backlog ---------------------------------------------------------------------------
"$FEED" "$WORK/events5.db" 20000 >/dev/null || die "store-feed failed"
coll_socat_start d5 "$COLL" "$PORT"
t0=$(date +%s%N)
peers_start_proxy "$(export_line dtls5 "$WORK/events5.db" dtls-rekey=3600)"
check "the exporter's cursor reaches 20000" wait_cursor dtls5 20000 60
t1=$(date +%s%N)
coll_wait_count d5 20000 5 || true
out=$(coll_check d5 20000 strict 2>&1)
peers_log "FIGURES dtls backlog: 20000 events in $(( (t1 - t0) / 1000000 )) ms from sipwalld's start ($out)"
check "backlog: strict 1..20000 at socat ($out)" coll_check d5 20000 strict
peers_stop_sipwalld_checked
coll_stop d5
peers_done
