#!/usr/bin/env bash
# Export refusals, with rsyslog (gtls) as the collector:
#   wrong collector certificate — the collector's certificate names another
#     host (same CA), or comes from another CA: sipwalld sends nothing, the
#     collector writes nothing, handshake failures are counted (at least 2
#     tries each) and logged;
#   wrong client certificate — sipwalld presents the intruder's (same CA,
#     a name rsyslog does not permit) or the rogue's (the right name from
#     another CA): rsyslog refuses and logs why, writes nothing, sipwalld
#     counts handshake failures and its cursor stays at 0;
#   then the right pair on the same store: everything arrives (the refused
#     sessions cost nothing);
#   and --check-config refuses an exporter key that does not match its
#     certificate, as the start would.
set -uo pipefail
. "${SW_SRC:-.}/tests/peers/lib.sh"
. "$SW_SRC/tests/peers/collectors.sh"
FEED=${SW_BUILD:-build}/store-feed
command -v rsyslogd >/dev/null || die "rsyslogd not installed (scripts/install-deps)"
[ -x "$FEED" ] || die "store-feed not built at $FEED"

peers_init export_refusals 43
export_pki
COLL=127.$PEERS_NET.0.5
PORT=6514
STORE=$WORK/events.db
N=200
"$FEED" "$STORE" $N >/dev/null || die "store-feed failed"

stat_of() { # EXPORTER FIELD
    peers_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["exporters"][sys.argv[1]][sys.argv[2]])' "$1" "$2"
}
wait_stat_ge() { # EXPORTER FIELD MIN SECONDS
    local i
    for i in $(seq $(($4 * 10))); do
        [ "$(stat_of "$1" "$2" 2>/dev/null || echo 0)" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
# run_case LABEL SERVER_CERT CLIENT_CERT: a collector with SERVER_CERT, sipwalld with CLIENT_CERT.
run_case() {
    local label=$1 scert=$2 ccert=$3
    coll_rsyslog_start "$label" "$COLL" "$PORT" sipwall-test-client "$scert"
    peers_start_proxy "export syslog $label tls $COLL:$PORT ca=$PKI/ca.pem cert=$PKI/$ccert.pem key=$PKI/$ccert.key server-name=localhost store=$STORE"
    check "$label: at least 2 handshake failures counted" wait_stat_ge "$label" handshake_failures 2 20
    sleep 0.3
    check "$label: nothing written by the collector" test "$(wc -c <"$WORK/$label/received.log")" = 0
    check "$label: cursor stays 0" test "$(stat_of "$label" cursor)" = 0
    check "$label: sipwalld logged the handshake failure" grep -q "export $label: TLS handshake" "$WORK/sipwalld.log"
    peers_log "FIGURES $label: sent=$(stat_of "$label" sent) handshake_failures=$(stat_of "$label" handshake_failures) reconnects=$(stat_of "$label" reconnects)"
    peers_stop_sipwalld_checked
    coll_stop "$label"
}

# ---- --check-config loads the exporter's certificate and key as a start would -------
peers_write_policy
peers_write_conf "export syslog mismatch tls $COLL:$PORT ca=$PKI/ca.pem cert=$PKI/client.pem key=$PKI/intruder.key server-name=localhost store=$STORE"
if "$SIPWALLD" -c "$CONF" --check-config >"$WORK/check-mismatch.log" 2>&1; then
    bad "--check-config accepted a key that does not match the exporter's certificate"
else
    check "--check-config: the mismatched key is named ($(head -c 160 "$WORK/check-mismatch.log"))" \
        grep -q "export mismatch: private key.*intruder.key" "$WORK/check-mismatch.log"
fi

# ---- the collector is not who we expect -------------------------------------------
run_case wrongname other client
check "wrongname: the failure names the certificate check" \
    grep -q "export wrongname: TLS handshake.*certificate" "$WORK/sipwalld.log"
check "wrongname: nothing sent" test "$(grep -c 'sent=0 duplicates=0' "$WORK/sipwalld.log")" -ge 1
run_case rogueca rogueserver client
check "rogueca: nothing sent" test "$(grep -c 'sent=0 duplicates=0' "$WORK/sipwalld.log")" -ge 1

# ---- we are not who the collector expects ------------------------------------------
run_case intruder server intruder
check "intruder: rsyslog logged the refusal" \
    grep -E -q 'not permitted to talk to peer|peer name not authorized' "$WORK/intruder/stderr.log"
run_case rogue server rogue
check "rogue: rsyslog logged the refusal" \
    grep -q 'not permitted to talk to peer, certificate invalid' "$WORK/rogue/stderr.log"

# ---- the right pair: everything arrives ---------------------------------------------
coll_rsyslog_start good "$COLL" "$PORT"
peers_start_proxy "export syslog good tls $COLL:$PORT ca=$PKI/ca.pem cert=$PKI/client.pem key=$PKI/client.key server-name=localhost store=$STORE"
coll_wait_count good $N 20 || true
check "good pair: strict 1..$N ($(coll_check good $N strict 2>&1))" coll_check good $N strict
check "good pair: no handshake failure" test "$(stat_of good handshake_failures)" = 0
peers_stop_sipwalld_checked
coll_stop good
peers_done
