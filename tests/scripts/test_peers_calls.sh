#!/usr/bin/env bash
# Real peers through sipwalld (tests/peers/lib.sh for the address plan):
# SIPp as partner and as core, every call flow completing over UDP and TCP —
# (plus a TCP client from an ephemeral port, answered on its connection) —
# INVITE/ACK/BYE, REGISTER with digest authentication (and a wrong password
# refused by the registrar), CANCEL while ringing, re-INVITE mid-call, calls
# from the core to a partner, a BYE from each side — and topology hiding:
# the partner side never sees the core's address in Via, Contact,
# Record-Route, Route or Call-ID.  Legitimate calls raise no drop/reject event.
#
# env: SIPWALLD, SW_SRC, SW_BUILD (ctest sets them); PEERS_PROXY=kamailio
# checks the harness against Kamailio instead (call flows only).
set -u
. "${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/peers/lib.sh"
peers_init calls 21

S=$PEERS_SCEN
N=20        # calls per flow
RATE=10     # calls per second

peers_start_proxy

# ---- partner -> core: calls over UDP and TCP, BYE from the caller ----------------
peers_sipp_uas core_call -sf "$S/uas_call.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core uas did not start"

peers_sipp_uac alpha_udp -sf "$S/uac_call.xml" -key a +4930100 -key b +4477009 \
    -i "$ALPHA" -p 5082 -r $RATE -m $N -d 100 "$SW_IC:5060"
peers_expect_calls alpha_udp $N

peers_sipp_uac alpha_tcp -t t1 -sf "$S/uac_call.xml" -key a +4930100 -key b +44770091 \
    -i "$ALPHA" -p 5083 -r $RATE -m $N -d 100 "$SW_IC:5060"
peers_expect_calls alpha_tcp $N

# A TCP client that connects from an ephemeral port and names another port in
# its Via (no rport), as most SBCs do: the answer must come back on its
# connection (RFC 3261 §18.2.2 and §18.3), not on a new one to the Via port.
probe=$(timeout 20 python3 "$PEERS_DIR/tls_probe.py" --plain --method INVITE --src "$ALPHA" \
    --dst "$SW_IC:5060" --call-id tcp-ephemeral-1 --timeout 5 2>&1)
case "$probe" in
    "response: SIP/2.0 1"* | "response: SIP/2.0 2"*) ok "TCP from an ephemeral port: answered on the same connection ($probe)" ;;
    *) bad "TCP from an ephemeral port (Via port 5999): no answer on the connection ($probe)" ;;
esac
peers_stop_label core_call

# ---- partner -> core: re-INVITE mid-call, UDP and TCP -----------------------------------
peers_sipp_uas core_reinvite -sf "$S/uas_reinvite.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core uas (re-INVITE) did not start"
peers_sipp_uac alpha_reinvite_udp -sf "$S/uac_reinvite.xml" -key a +4930100 -key b +44770092 \
    -i "$ALPHA" -p 5084 -r $RATE -m $N "$SW_IC:5060"
peers_expect_calls alpha_reinvite_udp $N
peers_sipp_uac alpha_reinvite_tcp -t t1 -sf "$S/uac_reinvite.xml" -key a +4930100 \
    -key b +44770093 -i "$ALPHA" -p 5085 -r $RATE -m $N "$SW_IC:5060"
peers_expect_calls alpha_reinvite_tcp $N
peers_stop_label core_reinvite

# ---- partner -> core: CANCEL while ringing, UDP and TCP -----------------------------------
peers_sipp_uas core_cancel -sf "$S/uas_cancel.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core uas (CANCEL) did not start"
peers_sipp_uac alpha_cancel_udp -sf "$S/uac_cancel.xml" -key a +4930100 -key b +44770094 \
    -i "$ALPHA" -p 5086 -r $RATE -m $N "$SW_IC:5060"
peers_expect_calls alpha_cancel_udp $N
peers_sipp_uac alpha_cancel_tcp -t t1 -sf "$S/uac_cancel.xml" -key a +4930100 -key b +44770095 \
    -i "$ALPHA" -p 5087 -r $RATE -m $N "$SW_IC:5060"
peers_expect_calls alpha_cancel_tcp $N
peers_stop_label core_cancel

# ---- partner -> core: the core hangs up ------------------------------------------------------
peers_sipp_uas core_bye -sf "$S/uas_call_bye.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core uas (BYE) did not start"
peers_sipp_uac alpha_wait_bye -sf "$S/uac_call_wait_bye.xml" -key a +4930100 -key b +44770096 \
    -i "$ALPHA" -p 5088 -r $RATE -m $N "$SW_IC:5060"
peers_expect_calls alpha_wait_bye $N
peers_stop_label core_bye

# ---- roaming partner -> core: REGISTER with digest authentication ---------------------------
peers_sipp_uas core_registrar -sf "$S/uas_register.xml" -key password s3cret-pw -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core registrar did not start"
peers_sipp_uac roam_register_udp -sf "$S/uac_register.xml" -key user +4477009 -au roamer \
    -ap s3cret-pw -i "$ROAM" -p 5089 -r $RATE -m $N "$SW_IC:5060"
peers_expect_calls roam_register_udp $N
peers_sipp_uac roam_register_tcp -t t1 -sf "$S/uac_register.xml" -key user +44770097 -au roamer \
    -ap s3cret-pw -i "$ROAM" -p 5090 -r $RATE -m $N "$SW_IC:5060"
peers_expect_calls roam_register_tcp $N
# The registrar really checks: a wrong password gets 403 (the flow expects it).
peers_sipp_uac roam_register_badpw -sf "$S/uac_register_badpw.xml" -key user +44770098 \
    -au roamer -ap wrong-pw -i "$ROAM" -p 5091 -r $RATE -m 3 "$SW_IC:5060"
peers_expect_calls roam_register_badpw 3
peers_stop_label core_registrar

# ---- core -> partner: the caller hangs up, then the partner hangs up --------------------------
# The core's SIPp takes the forward target's address ($CORE:5070): sipwalld
# sends every request from the interconnect there (docs/sipwalld.md), the
# partner's in-dialog BYE included — the core routes inside itself.
peers_sipp_uas bravo_call -sf "$S/uas_call.xml" -i "$BRAVO" -p 5090
peers_wait_listen udp "$BRAVO" 5090 || die "partner uas did not start"
peers_sipp_uac core_to_bravo -sf "$S/uac_call.xml" -key a +4477009 -key b +336100 \
    -i "$CORE" -p 5070 -rsa "$SW_CORE_IF:5060" -r $RATE -m $N -d 100 "$BRAVO:5090"
peers_expect_calls core_to_bravo $N
peers_stop_label bravo_call

peers_sipp_uas bravo_bye -sf "$S/uas_call_bye.xml" -i "$BRAVO" -p 5091
peers_wait_listen udp "$BRAVO" 5091 || die "partner uas (BYE) did not start"
peers_sipp_uac core_wait_bye -sf "$S/uac_call_wait_bye.xml" -key a +44770099 -key b +336101 \
    -i "$CORE" -p 5070 -rsa "$SW_CORE_IF:5060" -r $RATE -m $N "$BRAVO:5091"
peers_expect_calls core_wait_bye $N
peers_stop_label bravo_bye

# ---- topology hiding: what the partners saw ----------------------------------------------------
# Every message a partner-side SIPp received is in its -trace_msg log; none
# may name the core ($CORE) in the headers that carry topology.
hidden_check() { # hidden_check LOG...: prints the offending lines, fails when any
    python3 - "$CORE" "$@" <<'EOF'
import re, sys
core, logs = sys.argv[1], sys.argv[2:]
topo = re.compile(r"^(via|v|contact|m|record-route|route|call-id|i)\s*:", re.I)
bad, invites = 0, 0
for path in logs:
    for line in open(path, encoding="latin-1"):
        line = line.rstrip("\r\n")
        if line.startswith("INVITE "):
            invites += 1
        if topo.match(line) and core in line:
            bad += 1
            if bad <= 5:
                print("  %s: %s" % (path.rsplit("/", 1)[-1], line[:200]))
if invites == 0:
    print("  no INVITE in the partner-side logs: nothing was checked")
    sys.exit(1)
sys.exit(1 if bad else 0)
EOF
}
if peers_is_sipwalld; then
    check "partner side never sees the core's address ($CORE) in Via/Contact/Record-Route/Route/Call-ID" \
        hidden_check "$WORK"/alpha_*.msg.log "$WORK"/roam_*.msg.log "$WORK"/bravo_*.msg.log
    # The hiding is not vacuous: the core's own logs do show its address.
    check "core side sees its own address (the hiding check above is meaningful)" \
        grep -q -E "^(Via|Contact|Call-ID):.*$CORE" "$WORK/core_to_bravo.msg.log"
    legit_refused=$(peers_events 'action=^(drop|reject)$' "src=^127\\.$PEERS_NET\\.0\\.")
    check "no drop/reject event for the legitimate traffic (got $legit_refused)" [ "$legit_refused" = 0 ]
else
    echo "n/a:  topology hiding and events (sipwalld only)"
fi

check "the proxy is alive at the end" peers_proxy_alive
peers_done
