#!/usr/bin/env bash
# LOG-SINK-01 against sipwalld itself (docs/assess.md "LOG-SINK-01"):
# sipwalld (inline, tests/peers/lib.sh on 127.187.0.0/16) in front of a
# SIPp registrar that challenges users 1000-1009, its events exported with
# `export syslog sink tls …` to the collector `sipwall assess --log-sink`
# opens.  The assessor's address (127.0.0.1) is a roaming partner and the
# brute-force detector acts on partners with `failures 3`, so the three
# wrong-password REGISTERs LOG-SINK-01 sends trip bruteforce.guessing,
# which sipwalld exports (it has no per-failure event).
#   1. export on: LOG-SINK-01 passes; the evidence holds the sip_bruteforce
#      message, received over TLS from sipwalld's client certificate;
#      the report validates against the schema.
#      A second, plaintext client sends a line that names someone else
#      during the run: recorded as its own evidence, not counted.
#   2. export off, a plaintext client sends three current RFC 5424 lines
#      naming 127.0.0.1: LOG-SINK-01 fails medium "only over plaintext".
#   3. export off (same run otherwise): LOG-SINK-01 fails medium after its
#      60 s wait ("no syslog message").
set -uo pipefail
. "${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/peers/lib.sh"
. "$SW_SRC/tests/peers/collectors.sh"
SIPWALL=${SIPWALL:-${SW_BUILD:-$SW_SRC/build}/sipwall}
[ -x "$SIPWALL" ] || die "no sipwall at $SIPWALL"
peers_init assess_log_sink 187
peers_is_sipwalld || die "this test checks sipwalld's export; PEERS_PROXY=$PEERS_PROXY does not apply"
export_pki
SINK=127.$PEERS_NET.0.5:6514
PEERS_POLICY_EXTRA="partner assessor { role roaming; address 127.0.0.1/32; realms ims.test }
detector bruteforce { failures 3; action tag; exempt-peers no }"

assess() { # LABEL: LOG-SINK-01 only, report in $WORK/LABEL.json
    timeout 120 "$SIPWALL" assess "sip:$SW_IC:5060;transport=udp" --only LOG-SINK-01 \
        --log-sink "tls:$SINK" --log-sink-cert "$PKI/server.pem" --log-sink-key "$PKI/server.key" \
        --log-sink-ca "$PKI/ca.pem" --test-account 1001:not-the-password --fail-on medium \
        --json "$WORK/$1.json" >"$WORK/$1.out" 2>"$WORK/$1.err"
}
# plain_sender TEXT-NAMING-IP COUNT: a plaintext syslog client that keeps
# trying (every 0.2 s, at most 30 s) until the collector accepts it once.
plain_sender() {
    local ip=$1 n=$2 i k ts
    for i in $(seq 150); do
        ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
        if for k in $(seq "$n"); do
            printf '<38>1 %s dev1 sshd - - - authentication failure for admin from %s\n' "$ts" "$ip"
        done | socat -u - "TCP:$SINK,connect-timeout=1" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}
field() { # LABEL PYTHON-EXPRESSION-ON-f (the LOG-SINK-01 finding)
    /usr/bin/python3 -c "import json,sys; f=[x for x in json.load(open(sys.argv[1]))['findings'] if x['id']=='LOG-SINK-01'][0]; print($2)" \
        "$WORK/$1.json"
}

# ---- 1. export on ----------------------------------------------------------------
peers_start_proxy "events-db $WORK/events.db" \
    "export syslog sink tls $SINK ca=$PKI/ca.pem cert=$PKI/client.pem key=$PKI/client.key server-name=localhost"
peers_sipp_uas registrar -sf "$PEERS_SCEN/uas_registrar.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "the core registrar did not start"
plain_sender 192.0.2.99 1 &
SENDER=$!
peers_track $SENDER
assess on
rc=$?
wait $SENDER
check "export on: exit 0 (got $rc)" [ "$rc" = 0 ]
check "export on: LOG-SINK-01 pass ($(field on "f['result'], f['summary']"))" \
    [ "$(field on "f['result']")" = pass ]
check "the evidence holds sipwalld's sip_bruteforce message naming 127.0.0.1" \
    [ "$(field on "any('sip_bruteforce' in (e['received'] or '') and '127.0.0.1' in (e['received'] or '') for e in f['evidence'] if e['kind']=='log-sink')")" = True ]
check "received over TLS from sipwalld's client certificate" \
    [ "$(field on "any(e['transport']=='tls' and 'peer certificate' in (e['note'] or '') for e in f['evidence'] if e['kind']=='log-sink')")" = True ]
check "the plaintext client is its own evidence record, not counted" \
    [ "$(field on "any(e['transport']=='tcp' and '192.0.2.99' in (e['received'] or '') for e in f['evidence'] if e['kind']=='log-sink')")" = True ]
check "three wrong-password REGISTERs are in the evidence" \
    [ "$(field on "sum('wrong password' in (e['note'] or '') for e in f['evidence'])")" = 3 ]
check "the report is valid against the schema" /usr/bin/python3 "$SW_SRC/tests/assess/validate-report.py" \
    "$SW_SRC/docs/assess-report.schema.json" "$WORK/on.json"
n=$(peers_events 'event_type=^sip_bruteforce$')
check "sipwalld recorded the brute force ($n sip_bruteforce events)" [ "$n" -ge 1 ]
peers_log "FIGURES log-sink on: $(field on "f['summary']")"
peers_stop_sipwalld_checked

# ---- 2. export off, plaintext only ------------------------------------------------------
peers_start_proxy "events-db $WORK/events2.db"
plain_sender 127.0.0.1 3 &
SENDER=$!
peers_track $SENDER
assess plain
rc=$?
wait $SENDER
check "plaintext only: exit 1 (got $rc)" [ "$rc" = 1 ]
check "plaintext only: LOG-SINK-01 fail medium, only over plaintext ($(field plain "f['summary']"))" \
    [ "$(field plain "f['result'] + ' ' + f['severity'] + ' ' + str('only over plaintext' in f['summary'])")" = "fail medium True" ]

# ---- 3. export off, nothing arrives -----------------------------------------------------
t0=$(date +%s)
assess off
rc=$?
t1=$(date +%s)
check "export off: exit 1 (got $rc)" [ "$rc" = 1 ]
check "export off: LOG-SINK-01 fail medium ($(field off "f['result'], f['severity'], f['summary']"))" \
    [ "$(field off "f['result'] + ' ' + f['severity']")" = "fail medium" ]
check "export off: the wait is bounded (took $((t1 - t0)) s, 60 s + the provocation)" [ $((t1 - t0)) -le 75 ]
peers_done
