#!/usr/bin/env bash
# End to end: SIP requests the default policy rejects (a scanner's
# User-Agent from a partner, requests from an unknown source) go through
# sipwalld, whose events land in its event store (events-db) and go out
# through its exporter to rsyslog (gtls): every stored event arrives once
# and in order, with the rule, the source and the store id in the
# structured data.
set -uo pipefail
. "${SW_SRC:-.}/tests/peers/lib.sh"
. "$SW_SRC/tests/peers/collectors.sh"
command -v rsyslogd >/dev/null || die "rsyslogd not installed (scripts/install-deps)"

peers_init export_e2e 44
export_pki
COLL=127.$PEERS_NET.0.5
PORT=6514
# The shipped layout: the store in a directory only root may enter, and
# sipwalld running as nobody after start.  The exporter's handle on the
# store must be opened before the privilege drop (it could not be after).
mkdir -p "$WORK/private"
chmod 700 "$WORK/private"
STORE=$WORK/private/events.db

stats_json() { peers_stats; }
exp_stat() { # FIELD
    peers_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["exporters"]["siem"][sys.argv[1]])' "$1"
}

coll_rsyslog_start c "$COLL" "$PORT"
peers_start_proxy "events-db $STORE" "user nobody nogroup" \
    "export syslog siem tls $COLL:$PORT ca=$PKI/ca.pem cert=$PKI/client.pem key=$PKI/client.key server-name=localhost"

# 40 requests with a scanner's User-Agent from partner alpha, 40 from a
# stranger: each is rejected or dropped and makes an event (or a summary).
python3 - "$SW_IC" "$ALPHA" "$STRANGER" <<'PY' || die "sending the SIP requests failed"
import socket, sys, time
ic, alpha, stranger = sys.argv[1], sys.argv[2], sys.argv[3]
def options(src, port, i, ua):
    return ("OPTIONS sip:+4930100%03d@%s:5060 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKe2e%d%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:+4930100999@alpha.example>;tag=a%d\r\n"
            "To: <sip:+4930100%03d@op.example>\r\nCall-ID: e2e-%s-%d@%s\r\nCSeq: 1 OPTIONS\r\n"
            "User-Agent: %s\r\nContent-Length: 0\r\n\r\n"
            % (i, ic, src, port, i, src.replace(".", ""), i, i, src, i, src, ua)).encode()
for src, ua in ((alpha, "friendly-scanner"), (stranger, "sipwall-e2e/1.0")):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for i in range(40):
        s.sendto(options(src, s.getsockname()[1], i, ua), (ic, 5060))
        time.sleep(0.005)
PY

# the store has the events; the exporter catches up with it
last=0
for _ in $(seq 100); do
    last=$(exp_stat last_id 2>/dev/null || echo 0)
    [ "$last" -gt 0 ] && [ "$(exp_stat cursor)" = "$last" ] && break
    sleep 0.2
done
sleep 1 # events still being written are counted in the next look
last=$(exp_stat last_id)
for _ in $(seq 100); do
    [ "$(exp_stat cursor)" = "$last" ] && break
    sleep 0.1
done
check "events stored ($last)" test "$last" -ge 2
check "the exporter's cursor reaches the store's last id ($last)" test "$(exp_stat cursor)" = "$last"
coll_wait_count c "$last" 10 || true
out=$(coll_check c "$last" strict 2>&1)
peers_log "FIGURES e2e: stored=$last $out sent=$(exp_stat sent)"
check "every stored event at rsyslog once, in order ($out)" coll_check c "$last" strict
check "the scanner's rule in the structured data" grep -q 'rule="cat1.scanner-signature"' "$WORK/c/received.log"
check "the partner's address as src_ip" grep -q "src_ip=\"$ALPHA\"" "$WORK/c/received.log"
check "the stranger's events too" grep -q "src_ip=\"$STRANGER\"" "$WORK/c/received.log"
check "sipwalld runs as nobody" test "$(ps -o user= -p "$SIPWALLD_PID")" = nobody
check "store ids in the structured data" grep -q "\[sipwall@32473 id=\"$last\"" "$WORK/c/received.log"
peers_done
