#!/usr/bin/env bash
# TLS on the interconnect (tests/peers/lib.sh for the address plan).  Debian's
# SIPp has no TLS, so the partner "tlsco" reaches sipwalld through Kamailio as
# its TLS SBC: SIPp uac (UDP) -> Kamailio -> TLS with the partner's client
# certificate -> sipwalld (listen tls … verify=required, CA made here with
# the openssl CLI) -> SIPp uas (the core).  Every call completes, over
# TLS, in both transaction directions (the responses and the in-dialog ACK and
# BYE ride the same TLS connection back).  Then clients that must be refused:
# openssl s_client without a certificate, a client without a certificate
# from the partner's own address, a certificate with the partner's name from
# another CA, and (sipwalld only) a certificate from the right CA whose name
# no partner declares.  None of their OPTIONS reaches the core.
#
# env: SIPWALLD, SW_SRC, SW_BUILD; PEERS_PROXY=kamailio checks the harness.
set -u
. "${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/peers/lib.sh"
peers_init tls 22
S=$PEERS_SCEN
N=20
PKI=$WORK/pki

peers_make_certs
peers_start_proxy "listen tls $SW_IC:5061 side=interconnect cert=$PKI/server.pem key=$PKI/server.key ca=$PKI/ca.pem verify=required"
peers_wait_listen tcp "$SW_IC" 5061 10 || die "nothing listens on $SW_IC:5061 (TLS)"

peers_sipp_uas core_call -sf "$S/uas_call.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "core uas did not start"

# The partner's TLS SBC.
peers_template kamailio-tls.cfg.in "$WORK/kamailio-tls.cfg"
peers_template kamailio-tls-sbc.cfg.in "$WORK/kamailio-tls-sbc.cfg"
peers_start_kamailio sbc "$WORK/kamailio-tls-sbc.cfg" "$TLSCO" -n 2

# ---- calls over TLS ------------------------------------------------------------------------
# SIPp stands in the partner's network behind its SBC (127.NET.0.31).
peers_sipp_uac tlsco_calls -sf "$S/uac_call.xml" -key a +4930200 -key b +4477009 \
    -i "127.$PEERS_NET.0.31" -p 5082 -r 10 -m $N -d 100 "$TLSCO:5060"
peers_expect_calls tlsco_calls $N
check "the calls crossed on TLS (the core saw sipwalld's side of a TLS hop in Via)" \
    grep -q -i -E '^Via:.*SIP/2.0/TLS' "$WORK/core_call.msg.log"
if ss -Htn state established "dst $SW_IC:5061" | grep -q "$TLSCO"; then
    ok "the SBC holds a TLS connection from $TLSCO to $SW_IC:5061"
else
    bad "no established connection from $TLSCO to $SW_IC:5061: $(ss -Htn "dst $SW_IC:5061" | head -3)"
fi

# ---- clients that must be refused ---------------------------------------------------------------
reached_core() { grep -q -F "Call-ID: $1" "$WORK/core_call.msg.log"; }
probe() { # probe CALL-ID SRC [CERT KEY]: one OPTIONS over TLS; outcome in $OUT
    local id=$1 src=$2
    shift 2
    local certs=()
    [ $# -ge 2 ] && certs=(--cert "$1" --key "$2")
    OUT=$(timeout 20 python3 "$PEERS_DIR/tls_probe.py" --src "$src" --dst "$SW_IC:5061" \
        --ca "$PKI/ca.pem" "${certs[@]}" --call-id "$id" 2>&1)
    echo "     probe $id from $src: $OUT"
}
refused() { # refused CALL-ID: no SIP response and nothing at the core
    case "$OUT" in response:*) return 1 ;; esac
    sleep 0.5
    ! reached_core "$1"
}

# openssl s_client, no certificate (the brief's check): no SIP answer, nothing
# delivered.  s_client connects from 127.0.0.1 (it cannot bind a source).
printf 'OPTIONS sip:+447700900001@%s:5061 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-sclient\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=s1\r\nTo: <sip:%s>\r\nCall-ID: sclient-nocert\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' \
    "$SW_IC" "$SW_IC" >"$WORK/options.sip"
(sleep 2; cat "$WORK/options.sip"; sleep 2) |
    timeout 15 openssl s_client -connect "$SW_IC:5061" -CAfile "$PKI/ca.pem" \
        -servername sipwalld.test -ign_eof >"$WORK/s_client.log" 2>&1
s_rc=$?
sleep 0.5
if ! grep -q '^SIP/2.0 ' "$WORK/s_client.log" && ! reached_core sclient-nocert; then
    ok "openssl s_client without a certificate is refused (exit $s_rc: $(grep -m1 -i -E 'alert|error|certificate required' "$WORK/s_client.log" | cut -c1-120))"
else
    bad "openssl s_client without a certificate was served: $(grep -m2 -E '^SIP/2.0|Verify return' "$WORK/s_client.log")"
fi

probe probe-nocert "$TLSCO"
check "no client certificate, from the partner's own address: refused" refused probe-nocert
probe probe-rogue "$TLSCO" "$PKI/rogue.pem" "$PKI/rogue.key"
check "the partner's name on a certificate from another CA: refused" refused probe-rogue
# Positive control: the same probe with the partner's real certificate gets through.
probe probe-valid "$TLSCO" "$PKI/tlsco.pem" "$PKI/tlsco.key"
sleep 0.5
check "control: the partner's own certificate gets its OPTIONS to the core" reached_core probe-valid
if peers_is_sipwalld; then
    probe probe-stranger "$TLSCO" "$PKI/stranger.pem" "$PKI/stranger.key"
    check "a certificate from our CA whose name (stranger.test) no partner declares: not delivered" \
        refused probe-stranger
    # Identification by certificate: the partner's certificate from an address
    # no partner declares.  Reported, not asserted (the policy language does
    # not say whether the address must match too).
    probe probe-cert-only "$STRANGER" "$PKI/tlsco.pem" "$PKI/tlsco.key"
    sleep 0.5
    if reached_core probe-cert-only; then
        echo "info: the partner's certificate from $STRANGER was admitted (identified by certificate)"
    else
        echo "info: the partner's certificate from $STRANGER was not admitted (address must match too)"
    fi
else
    echo "n/a:  identity checks beyond the CA (sipwalld only)"
fi

check "the proxy is alive at the end" peers_proxy_alive
peers_done
