#!/usr/bin/env bash
# A malformed-message storm against sipwalld while a partner places real
# calls (tests/peers/lib.sh for the address plan; tests/peers/storm.py for
# the storm): tests/data/torture/invalid-* and ~2500 random mutations (byte
# flips, truncations, huge and too many headers, NULs, bare LFs, bad
# Content-Length, garbage), each one rejected by sipwall's own parser, over
# UDP and TCP, from a declared partner and from an unknown source.
#   - every reply to the storm is a 4xx, and some are (the malformed path
#     answers 400 where it can); the unknown source gets no reply at all;
#   - no storm message reaches the core (its SIPp log holds only the
#     legitimate calls' Call-IDs);
#   - sip_malformed events name the partner;
#   - the legitimate calls all complete, and sipwalld still answers on its
#     admin socket at the end.
#
# env: SIPWALLD, SIPWALL, SW_SRC, SW_BUILD; PEERS_PROXY=kamailio: calls only.
set -u
. "${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/peers/lib.sh"
peers_init malformed 24
SIPWALL=${SIPWALL:-$(dirname "$SIPWALLD")/sipwall}
[ -x "$SIPWALL" ] || die "sipwall (the parser the storm is checked with) not found at $SIPWALL"
FUZZ=127.$PEERS_NET.0.40
PEERS_POLICY_EXTRA="partner fuzzer { role interconnect; address $FUZZ/32 }"
N=40

peers_start_proxy
peers_sipp_uas core_call -sf "$PEERS_SCEN/uas_call.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core uas did not start"

storm() { # storm LABEL SRC UDP TCP SECONDS
    peers_bg "$1" timeout 150 python3 "$PEERS_DIR/storm.py" --sipwall "$SIPWALL" --src "$2" \
        --dst "$SW_IC:5060" --work "$WORK" --udp "$3" --tcp "$4" --seconds "$5" \
        --torture "$SW_SRC/tests/data/torture"
}
storm storm_partner "$FUZZ" 2500 200 12
pid_partner=$PEERS_PID
storm storm_stranger "$STRANGER" 500 50 12
pid_stranger=$PEERS_PID
sleep 2   # the storms classify their candidates first

peers_sipp_uac alpha_calls -sf "$PEERS_SCEN/uac_call.xml" -key a +4930100 -key b +4477009 \
    -i "$ALPHA" -p 5082 -r 5 -m $N -d 100 "$SW_IC:5060"
wait "$pid_partner" "$pid_stranger" 2>/dev/null
peers_expect_calls alpha_calls $N

summary() { # summary LABEL EXPR: a figure from the storm's JSON line
    python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(eval(sys.argv[2], {}, d))' \
        "$WORK/$1.log" "$2" 2>/dev/null
}
p_udp=$(summary storm_partner udp_sent)
p_tcp=$(summary storm_partner tcp_sent)
[ -n "$p_udp" ] || die "the partner storm did not finish: $(tail -c 300 "$WORK/storm_partner.log")"
peers_log "partner storm: $(tail -n 1 "$WORK/storm_partner.log" | cut -c1-400)"
peers_log "stranger storm: $(tail -n 1 "$WORK/storm_stranger.log" | cut -c1-400)"
check "the storm was sent ($p_udp UDP datagrams, $p_tcp TCP connections from the partner)" \
    [ "$p_udp" -ge 2000 ]
check "the stranger storm was sent ($(summary storm_stranger udp_sent) UDP)" \
    [ "$(summary storm_stranger udp_sent)" -ge 400 ]

if peers_is_sipwalld; then
    n4=$(summary storm_partner 'replies["4xx"]')
    other=$(summary storm_partner 'sum(v for k, v in replies.items() if k != "4xx")')
    check "every reply to the partner's malformed messages is a 4xx ($n4 4xx, $other other: $(summary storm_partner not_4xx))" \
        [ "$other" = 0 ]
    check "the malformed path answers (some 4xx came back: $n4)" [ "$n4" -gt 0 ]
    s_all=$(summary storm_stranger 'sum(replies.values())')
    check "the unknown source gets no reply at all (got $s_all)" [ "$s_all" = 0 ]
    # The core's SIPp: every INVITE that reached it is an incoming call, any
    # other request an out-of-call message; stopped first so its message log
    # is complete.
    sleep 1.2
    incoming=$(sipp_stat core_call 'IncomingCall(C)')
    outofcall=$(sipp_stat core_call 'OutOfCallMsgs(C)')
    peers_stop_label core_call
    leaked=$(tr -d '\r' <"$WORK/core_call.msg.log" | grep -i -E '^(Call-ID|i) *:' | grep -v -c -E "@$ALPHA *$")
    no_leak() { [ "$incoming" = "$N" ] && [ "$outofcall" = 0 ] && [ "$leaked" = 0 ]; }
    check "no storm message reached the core ($incoming calls for $N legitimate ones, $outofcall out-of-call messages, $leaked foreign Call-IDs in its log)" \
        no_leak
    ev=$(peers_events "src=^${FUZZ//./\\.}:" 'event_type=^sip_malformed$')
    check "sip_malformed events name the partner ($ev)" [ "$ev" -ge 1 ]
else
    echo "n/a:  reply classes, core leaks and events (sipwalld only)"
fi
check "the proxy is alive and answers at the end" peers_proxy_alive
peers_done
