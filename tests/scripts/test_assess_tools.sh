#!/usr/bin/env bash
# sipwall assess agrees with independent tools on the same targets
# (tests/assess/sip_targets.sh, each in a namespace this test creates and
# removes):
#   SIP-ENUM-01 vs svwar     the users told apart among the same candidates,
#                            by REGISTER and by OPTIONS (-m REGISTER/OPTIONS)
#   SIP-CRED-01 vs svcrack   the password found for 1001 from the same list
#   TLS-02 vs openssl s_client -tls1 / -tls1_1 / -tls1_2 / -tls1_3
#   TLS-03 vs openssl s_client -tls1_2 -cipher SUITE, per suite
#   TLS-04 vs openssl s_client -verify_hostname (right and wrong name)
#   TLS-05 vs openssl s_client without a client certificate
#   and TLS-02/03 against a weak openssl s_server (TLS 1.0 up, every suite)
# env: SIPWALL, SW_SRC.  Runs as root.
set -u
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SIPWALL=${SIPWALL:-$SW_SRC/build/sipwall}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
. "$SW_SRC/tests/assess/sip_targets.sh"
T=$(mktemp -d /tmp/swa-tools.XXXXXX)
NI=${SW_ASSESS_NS:-swa}-tool-i
NH=${SW_ASSESS_NS:-swa}-tool-h
NW=${SW_ASSESS_NS:-swa}-tool-w
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
cleanup() {
    swa_stop_all
    swa_ns_delete $NI
    swa_ns_delete $NH
    swa_ns_delete $NW
    if [ "$fails" -eq 0 ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT
for tool in svwar svcrack openssl; do
    command -v $tool >/dev/null || { echo "$tool not installed (scripts/install-deps)"; exit 1; }
done
export HOME=$T/home # sipvicious keeps its sessions in ~/.sipvicious
mkdir -p "$HOME"
swa_ns_create $NI || exit 1
swa_ns_create $NH || exit 1
swa_pki "$T/hard" || exit 1
swa_sip_insecure $NI "$T/ins" || { bad "insecure target did not start"; exit 1; }
swa_sip_hardened $NH "$T/hard" || { bad "hardened target did not start"; exit 1; }
py() { /usr/bin/python3 -c "$@"; }
finding() { # REPORT ID FIELD
    py 'import json,sys; r=json.load(open(sys.argv[1])); print([f for f in r["findings"] if f["id"]==sys.argv[2]][0][sys.argv[3]])' "$@"
}

# --- enumeration: the same six candidates ---------------------------------------------
ip netns exec $NI "$SIPWALL" assess 'sip:127.0.0.1;transport=udp' --only SIP-ENUM-01 \
    --known-user 998 --known-user 999 --known-user 1000 --known-user 1001 --known-user 1002 --known-user 1003 \
    --json "$T/enum.json" >"$T/enum.out" 2>&1
ours=$(py 'import json,sys,re
r=json.load(open(sys.argv[1])); f=[f for f in r["findings"] if f["id"]=="SIP-ENUM-01"][0]
found=[re.match(r"user (\S+): .*differs", e["note"] or "") for e in f["evidence"]]
print(" ".join(sorted(m.group(1) for m in found if m)))' "$T/enum.json")
ip netns exec $NI timeout 60 svwar -e998-1003 -m REGISTER --maximumtime 30 127.0.0.1 >"$T/svwar.out" 2>&1
theirs=$(grep -oE '^\| *[0-9]+ *\|' "$T/svwar.out" | tr -dc '0-9\n' | sort | tr '\n' ' ' | sed 's/ $//')
if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then
    ok "SIP-ENUM-01 and svwar tell apart the same users: $ours"
else
    bad "SIP-ENUM-01 found [$ours], svwar [$theirs]: $(cat "$T/svwar.out")"
fi
# the OPTIONS oracle (OPTIONS to the user's URI) against svwar -m OPTIONS
ours=$(py 'import json,sys,re
r=json.load(open(sys.argv[1])); f=[f for f in r["findings"] if f["id"]=="SIP-ENUM-01"][0]
found=[re.match(r"OPTIONS user (\S+): .*differs", e["note"] or "") for e in f["evidence"]]
print(" ".join(sorted(m.group(1) for m in found if m)))' "$T/enum.json")
ip netns exec $NI timeout 60 svwar -e998-1003 -m OPTIONS --maximumtime 30 127.0.0.1 >"$T/svwar-o.out" 2>&1
theirs=$(grep -oE '^\| *[0-9]+ *\|' "$T/svwar-o.out" | tr -dc '0-9\n' | sort | tr '\n' ' ' | sed 's/ $//')
if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then
    ok "SIP-ENUM-01's OPTIONS oracle and svwar -m OPTIONS tell apart the same users: $ours"
else
    bad "SIP-ENUM-01 (OPTIONS) found [$ours], svwar -m OPTIONS [$theirs]: $(cat "$T/svwar-o.out")"
fi

# --- credentials: the same user, the built-in list ------------------------------------
printf '%s\n' 1001 1234 12345 123456 0000 1111 password admin secret sip >"$T/dict.txt"
ip netns exec $NI "$SIPWALL" assess 'sip:127.0.0.1;transport=udp' --only SIP-ENUM-01,SIP-CRED-01 \
    --credential-tests --known-user 1001 --json "$T/cred.json" >"$T/cred.out" 2>&1
ours=$(finding "$T/cred.json" SIP-CRED-01 summary | grep -oE '1001/[^ ,;]+' | cut -d/ -f2)
ip netns exec $NI timeout 60 svcrack -u 1001 -d "$T/dict.txt" --maximumtime 30 127.0.0.1 >"$T/svcrack.out" 2>&1
theirs=$(grep -E '^\| *1001 *\|' "$T/svcrack.out" | awk -F'|' '{gsub(/ /,"",$3); print $3}')
if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then
    ok "SIP-CRED-01 and svcrack find the same password for 1001: $ours"
else
    bad "SIP-CRED-01 found [$ours], svcrack [$theirs]: $(cat "$T/svcrack.out")"
fi

# --- TLS: versions, suites, chain, mutual TLS ---------------------------------------
H=$T/hard
ip netns exec $NH "$SIPWALL" assess 'sip:127.0.0.1:5061;transport=tls' --profile sbc --only TLS-02,TLS-03,TLS-04,TLS-05 \
    --ca "$H/ca.crt" --tls-name sbc.test --client-cert "$H/device.crt" --client-key "$H/device.key" \
    --json "$T/tls.json" >"$T/tls.out" 2>&1
sclient() { # ARGS... : 0 when the handshake completed with a suite
    echo Q | ip netns exec $NH timeout 10 openssl s_client -connect 127.0.0.1:5061 -CAfile "$H/ca.crt" \
        -cert "$H/device.crt" -key "$H/device.key" "$@" >"$T/sclient.out" 2>&1
    grep -qE '^New, (TLS|SSL)v[0-9.]+, Cipher is [A-Z0-9]' "$T/sclient.out"
}
tls02=$(finding "$T/tls.json" TLS-02 summary)
for v in "tls1 TLSv1 " "tls1_1 TLSv1.1" "tls1_2 TLSv1.2" "tls1_3 TLSv1.3"; do
    set -- $v
    if sclient -"$1" -cipher 'DEFAULT:@SECLEVEL=0'; then theirs=accepted; else theirs=refused; fi
    case "$tls02" in *"$2 $theirs"*) ok "TLS-02 and s_client -$1 agree: $theirs" ;;
    *) bad "TLS-02 says [$tls02], s_client -$1: $theirs" ;; esac
done
notes=$(py 'import json,sys; r=json.load(open(sys.argv[1])); f=[f for f in r["findings"] if f["id"]=="TLS-03"][0]
print("\n".join(e["note"] or "" for e in f["evidence"]))' "$T/tls.json")
for s in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-CHACHA20-POLY1305 AES128-SHA AES128-GCM-SHA256 ECDHE-ECDSA-AES128-SHA; do
    if sclient -tls1_2 -cipher "$s:@SECLEVEL=0"; then theirs="handshake done"; else theirs="refused"; fi
    if printf '%s\n' "$notes" | grep -q "^TLS 1.2 $s: $theirs"; then
        ok "TLS-03 and s_client agree on $s: $theirs"
    else
        bad "TLS-03 on $s: [$(printf '%s\n' "$notes" | grep "TLS 1.2 $s:")], s_client: $theirs"
    fi
done
if echo Q | ip netns exec $NH timeout 10 openssl s_client -connect 127.0.0.1:5061 -CAfile "$H/ca.crt" \
    -cert "$H/device.crt" -key "$H/device.key" -verify_hostname sbc.test -verify_return_error >"$T/v1.out" 2>&1 &&
    [ "$(finding "$T/tls.json" TLS-04 result)" = pass ]; then
    ok "TLS-04 pass and s_client -verify_hostname sbc.test: Verification OK"
else
    bad "TLS-04 $(finding "$T/tls.json" TLS-04 result) vs s_client: $(grep -i verif "$T/v1.out" | head -2)"
fi
ip netns exec $NH "$SIPWALL" assess 'sip:127.0.0.1:5061;transport=tls' --only TLS-04 --ca "$H/ca.crt" \
    --tls-name wrong.test --client-cert "$H/device.crt" --client-key "$H/device.key" --json "$T/tls04.json" >/dev/null 2>&1
if ! echo Q | ip netns exec $NH timeout 10 openssl s_client -connect 127.0.0.1:5061 -CAfile "$H/ca.crt" \
    -cert "$H/device.crt" -key "$H/device.key" -verify_hostname wrong.test -verify_return_error >"$T/v2.out" 2>&1 &&
    [ "$(finding "$T/tls04.json" TLS-04 result)" = fail ]; then
    ok "TLS-04 fail and s_client -verify_hostname wrong.test: refused"
else
    bad "TLS-04 on wrong.test: $(finding "$T/tls04.json" TLS-04 result)"
fi
# mutual TLS: s_client without a certificate gets no session it can use
echo -e 'OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n' | ip netns exec $NH timeout 10 openssl s_client -connect 127.0.0.1:5061 \
    -CAfile "$H/ca.crt" -ign_eof >"$T/nocert.out" 2>&1
if grep -q 'alert certificate required\|alert handshake failure' "$T/nocert.out" &&
    ! grep -q '^SIP/2.0' "$T/nocert.out" && [ "$(finding "$T/tls.json" TLS-05 result)" = pass ]; then
    ok "TLS-05 pass and s_client without a certificate: $(grep -o 'alert [a-z ]*' "$T/nocert.out" | head -1)"
else
    bad "TLS-05 $(finding "$T/tls.json" TLS-05 result) vs s_client: $(grep -i 'alert\|SIP/2.0' "$T/nocert.out" | head -3)"
fi

# --- a weak TLS server (openssl s_server: TLS 1.0 up, every suite) -------------------
swa_ns_create $NW || exit 1
ip netns exec $NW openssl s_server -accept 127.0.0.1:5061 -cert "$H/server.crt" -key "$H/server.key" \
    -min_protocol TLSv1 -cipher 'ALL:@SECLEVEL=0' -quiet >"$T/weak.log" 2>&1 </dev/null &
SWA_PIDS+=($!)
swa_wait_port $NW tcp 127.0.0.1 5061 || bad "openssl s_server did not start"
ip netns exec $NW "$SIPWALL" assess 'sip:127.0.0.1:5061;transport=tls' --only TLS-02,TLS-03 --timeout 1000 \
    --json "$T/weak.json" >"$T/weak.out" 2>&1
tls02=$(finding "$T/weak.json" TLS-02 summary)
notes=$(py 'import json,sys; r=json.load(open(sys.argv[1])); f=[f for f in r["findings"] if f["id"]=="TLS-03"][0]
print("\n".join(e["note"] or "" for e in f["evidence"]))' "$T/weak.json")
wclient() { # ARGS...
    echo Q | ip netns exec $NW timeout 10 openssl s_client -connect 127.0.0.1:5061 "$@" >"$T/sclient.out" 2>&1
    grep -qE '^New, (TLS|SSL)v[0-9.]+, Cipher is [A-Z0-9]' "$T/sclient.out"
}
if [ "$(finding "$T/weak.json" TLS-02 result)/$(finding "$T/weak.json" TLS-02 severity)" = fail/high ]; then
    ok "weak server: TLS-02 fail/high: $tls02"
else
    bad "weak server: TLS-02 $(finding "$T/weak.json" TLS-02 result): $tls02"
fi
for v in "tls1 TLSv1 " "tls1_1 TLSv1.1" "tls1_2 TLSv1.2"; do
    set -- $v
    if wclient -"$1" -cipher 'DEFAULT:@SECLEVEL=0'; then theirs=accepted; else theirs=refused; fi
    case "$tls02" in *"$2 $theirs"*) ok "weak server: TLS-02 and s_client -$1 agree: $theirs" ;;
    *) bad "weak server: TLS-02 says [$tls02], s_client -$1: $theirs" ;; esac
done
for s in ADH-AES128-SHA ECDHE-ECDSA-AES128-SHA AES128-SHA DES-CBC3-SHA ECDHE-ECDSA-AES128-GCM-SHA256; do
    if wclient -tls1_2 -cipher "$s:@SECLEVEL=0"; then theirs="handshake done"; else theirs="refused"; fi
    if printf '%s\n' "$notes" | grep -q "^TLS 1.2 $s: $theirs"; then
        ok "weak server: TLS-03 and s_client agree on $s: $theirs"
    elif printf '%s\n' "$notes" | grep -q "^TLS 1.2 $s: not testable"; then
        ok "weak server: $s not testable with this OpenSSL (s_client: $theirs)"
    else
        bad "weak server: TLS-03 on $s: [$(printf '%s\n' "$notes" | grep "TLS 1.2 $s:")], s_client: $theirs"
    fi
done
[ "$(finding "$T/weak.json" TLS-03 result)" = fail ] && ok "weak server: TLS-03 fail: $(finding "$T/weak.json" TLS-03 summary)" ||
    bad "weak server: TLS-03 $(finding "$T/weak.json" TLS-03 result)"

echo "$fails failed"
[ "$fails" -eq 0 ]
