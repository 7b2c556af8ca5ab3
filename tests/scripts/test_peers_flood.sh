#!/usr/bin/env bash
# A request flood from ~1000 loopback sources (tests/peers/flood.py: one
# socket bound to each of 127.NET.2.1 …, plus 8 heavy hitters sending a
# quarter of it; 90000 datagrams at 6000/s, 15 s at most — 750 times the
# legitimate load; PEERS_FLOOD_RATE changes the rate) while a partner places
# calls at 8 calls/s through sipwalld (tests/peers/lib.sh for the address
# plan).  The rate leaves an ASan build room on 2 cores shared with another
# test (ctest -j2); an optimised build keeps 100% at 10000/s.
#   - at least 99% of the legitimate calls complete (SIPp's statistics);
#   - the flood gets no reply and none of it reaches the core;
#   - the heavy hitters trip the flood detector (sip_flood events);
#   - sipwalld answers on its admin socket at the end.
#
# env: SIPWALLD, SW_SRC, SW_BUILD; PEERS_PROXY=kamailio: calls only.
set -u
. "${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/peers/lib.sh"
peers_init flood 25
N=100
FLOOD_RATE=${PEERS_FLOOD_RATE:-6000}

peers_start_proxy
peers_sipp_uas core_call -sf "$PEERS_SCEN/uas_call.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core uas did not start"

peers_bg flood timeout 60 python3 "$PEERS_DIR/flood.py" --net "$PEERS_NET" --dst "$SW_IC:5060" \
    --sources 1000 --heavy 8 --count $((FLOOD_RATE * 15)) --rate "$FLOOD_RATE" --seconds 15
pid_flood=$PEERS_PID
sleep 1
peers_sipp_uac alpha_calls -sf "$PEERS_SCEN/uac_call.xml" -key a +4930100 -key b +4477009 \
    -i "$ALPHA" -p 5082 -r 8 -m $N -d 200 "$SW_IC:5060"
wait "$pid_flood" 2>/dev/null
flood=$(tail -n 1 "$WORK/flood.log")
peers_log "flood: $flood"
sent=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["sent"])' "$flood" 2>/dev/null)
replies=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["replies"])' "$flood" 2>/dev/null)
[ -n "$sent" ] || die "the flood did not finish: $(tail -c 300 "$WORK/flood.log")"

succ=$(sipp_stat alpha_calls 'SuccessfulCall(C)')
failed=$(sipp_stat alpha_calls 'FailedCall(C)')
out=$(sipp_stat alpha_calls 'OutgoingCall(C)')
check "the flood was sent ($sent datagrams from 1008 sources)" [ "${sent:-0}" -ge $((FLOOD_RATE * 10)) ]
enough() { [ "${succ:-0}" -ge $((N * 99 / 100)) ] && [ "$out" = "$N" ]; }
check "legitimate calls under the flood: $succ of $out completed, $failed failed (>= 99% of $N wanted)" enough
if peers_is_sipwalld; then
    check "the flood got no reply ($replies)" [ "$replies" = 0 ]
    sleep 1.2
    incoming=$(sipp_stat core_call 'IncomingCall(C)')
    outofcall=$(sipp_stat core_call 'OutOfCallMsgs(C)')
    peers_stop_label core_call
    leaked=$(grep -c 'flood-' "$WORK/core_call.msg.log")
    no_leak() { [ "$incoming" = "$N" ] && [ "$outofcall" = 0 ] && [ "$leaked" = 0 ]; }
    check "none of the flood reached the core ($incoming calls for $N legitimate ones, $outofcall out-of-call messages, $leaked flood Call-IDs in its log)" no_leak
    ev=$(peers_events "src=^127\\.$PEERS_NET\\.1\\." 'event_type=^sip_flood$')
    check "the heavy hitters trip the flood detector ($ev sip_flood events)" [ "$ev" -ge 1 ]
else
    echo "n/a:  replies, core leaks and events (sipwalld only)"
fi
check "the proxy is alive and answers at the end" peers_proxy_alive
peers_done
