#!/usr/bin/env bash
# `sipwall assess` against the SIP targets of tests/assess/sip_targets.sh, each
# in a network namespace this test creates and removes:
#   swa-sip-i  the insecure Kamailio (open relay to a SIPp UAS, REGISTER and
#              OPTIONS oracles, 1000/1000 and 1001/1234, Warning and cell-id
#              leaks)
#   swa-sip-h  the hardened Kamailio (TLS only, mutual TLS, pike, sanity and
#              the stricter checks of route[STRICT], failed-login throttle):
#              every check passes, with the default --fail-on
# (SW_ASSESS_NS=swx names them swx-sip-i/swx-sip-h, for parallel runs.)
# Each SIP and TLS check's outcome and evidence are checked in the JSON
# report (tests/assess/check_report.py), the report is validated against
# docs/assess-report.schema.json, --dry-run sends nothing, an unreachable
# target exits 3.  Prints per target the duration and the packets sent.
# env: SIPWALL, SW_SRC.  Runs as root (namespaces).
set -u
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SIPWALL=${SIPWALL:-$SW_SRC/build/sipwall}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
. "$SW_SRC/tests/assess/sip_targets.sh"
EXPECT="/usr/bin/python3 $SW_SRC/tests/assess/check_report.py"
T=$(mktemp -d /tmp/swa-sip.XXXXXX)
NI=${SW_ASSESS_NS:-swa}-sip-i
NH=${SW_ASSESS_NS:-swa}-sip-h
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
cleanup() {
    swa_stop_all
    swa_ns_delete $NI
    swa_ns_delete $NH
    if [ "$fails" -eq 0 ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT
[ -x "$SIPWALL" ] || { echo "no $SIPWALL"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
swa_ns_create $NI || exit 1
swa_ns_create $NH || exit 1
swa_pki "$T/pki" || { echo "PKI failed"; exit 1; }
swa_sip_insecure $NI "$T/ins" || { bad "insecure target did not start"; exit 1; }
mkdir -p "$T/hard" && cp "$T/pki/"* "$T/hard/"
swa_sip_hardened $NH "$T/hard" || { bad "hardened target did not start"; cat "$T/hard/kamailio.log"; exit 1; }

expect() { # REPORT EXPECTATION...
    if $EXPECT "$@" >"$T/expect.out" 2>&1; then
        sed 's/^/  /' "$T/expect.out"
        ok "report $(basename "$1"): $(($# - 1)) expectations"
    else
        cat "$T/expect.out"
        bad "report $(basename "$1")"
    fi
}
figures() { # LABEL REPORT
    /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[2])); l=r["run"]["limits"]
print("figures: %s: %.1f s, %d packets, %d bytes, score %s; %s" % (sys.argv[1], l["duration_s"], l["packets_sent"], l["bytes_sent"], r["summary"]["score"],
      " ".join("%s %s %g" % (c["id"], c["status"], c["score"]) for c in r["controls"])))' "$1" "$2"
}
schema() { # REPORT
    if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null && [ -f "$SW_SRC/docs/assess-report.schema.json" ]; then
        if /usr/bin/python3 "$SW_SRC/tests/assess/validate-report.py" "$SW_SRC/docs/assess-report.schema.json" "$1" \
            >"$T/schema.out" 2>&1; then
            ok "$(basename "$1") conforms to the schema"
        else
            bad "$(basename "$1") schema: $(head -3 "$T/schema.out")"
        fi
    fi
}

# --- dry run: the plan, and not one packet ------------------------------------------
ip netns exec $NI timeout 8 socat -u UDP-RECV:5999,bind=127.0.0.1 CREATE:"$T/dry.bytes" &
DRYCAT=$!
sleep 0.3
ip netns exec $NI "$SIPWALL" assess 'sip:127.0.0.1:5999;transport=udp' --dry-run --credential-tests >"$T/dry.out" 2>&1
rc=$?
sleep 0.5
kill $DRYCAT 2>/dev/null
wait $DRYCAT 2>/dev/null
if [ $rc -eq 0 ] && grep -q '^target:   sip:127.0.0.1:5999' "$T/dry.out" && grep -q 'SIP-CRED-01 ' "$T/dry.out" &&
    grep -q 'dry run: nothing sent' "$T/dry.out" && [ ! -s "$T/dry.bytes" ]; then
    ok "--dry-run prints target and checks, sends nothing"
else
    bad "--dry-run (rc $rc, $(stat -c %s "$T/dry.bytes" 2>/dev/null) bytes reached the port): $(head -5 "$T/dry.out")"
fi

# --- an unreachable target: exit 3 ----------------------------------------------------
ip netns exec $NI "$SIPWALL" assess 'sip:127.0.0.1:5998;transport=udp' --json "$T/down.json" >"$T/down.out" 2>&1
rc=$?
if [ $rc -eq 3 ] && $EXPECT "$T/down.json" exit=3 SIP-AUTH-01=unknown >/dev/null; then
    ok "unreachable target: exit 3, checks unknown"
else
    bad "unreachable target: exit $rc"
fi

# --- the insecure device ---------------------------------------------------------------
# The RFC 4475 messages of the outside corpus, when it is there, join
# SIP-ROBUST-01 (rewritten; the project's own cases run without them).
ROBUST=()
RFC4475=${SW_SHARED_CORPUS:-/nonexistent}/rfc4475
[ -f "$RFC4475/clerr.dat" ] && ROBUST=(--robust-dir "$RFC4475")
ip netns exec $NI "$SIPWALL" assess 'sip:127.0.0.1:5060;transport=udp' --credential-tests --max-rate 100 \
    "${ROBUST[@]}" --json "$T/insecure.json" --fail-on high >"$T/insecure.out" 2>&1
rc=$?
[ $rc -eq 1 ] && ok "insecure: exit 1 (fails at or above high)" || { bad "insecure: exit $rc"; cat "$T/insecure.out"; }
expect "$T/insecure.json" exit=1 evidence-ok \
    'SIP-FP-01=fail/low' 'SIP-FP-01~Kamailio 5.6.3' \
    'SIP-AUTH-01=fail/critical' 'SIP-AUTH-01>sent:INVITE sip:sipwall-' 'SIP-AUTH-01>received:SIP/2.0 180' \
    'SIP-AUTH-01>sent:BYE sip:' \
    'SIP-AUTH-02=pass' 'SIP-AUTH-02>received:SIP/2.0 404' \
    'SIP-ENUM-01=fail/medium' 'SIP-ENUM-01~REGISTER answers tell existing users from random ones: 1000, 1001 differ' \
    'SIP-ENUM-01>note:user 1000: 401' 'SIP-ENUM-01>sent:OPTIONS sip:1000@127.0.0.1:5060 SIP/2.0' \
    'SIP-ENUM-01>note:OPTIONS baseline sipwall-' 'SIP-ENUM-01>note:OPTIONS user 1000: 200' \
    'SIP-ENUM-01~OPTIONS answers tell existing users from random ones: 1000, 1001 differ' \
    'SIP-CRED-01=fail/critical' 'SIP-CRED-01~1000/1000' 'SIP-CRED-01~1001/1234' 'SIP-CRED-01#secret:1234' \
    'SIP-CRED-01>sent:Authorization: Digest username="1001"' 'SIP-CRED-01>received:SIP/2.0 200' \
    'SIP-CRED-02=pass' 'SIP-CRED-03=fail/medium' \
    'SIP-LEAK-01=fail/high' 'SIP-LEAK-01~10.20.30.40' 'SIP-LEAK-01>received:utran-cell-id-3gpp=26201000A1B2C3D4' \
    'SIP-ROBUST-01=fail/low' 'SIP-ROBUST-01>note:liveness OPTIONS try 1: answered' \
    'SIP-RATE-01=fail/medium' \
    'TLS-01=fail/high' 'TLS-02=skipped' 'TLS-03=skipped' 'TLS-04=skipped' 'TLS-05=skipped' \
    control:C1=fail control:C4=fail control:C5=fail
schema "$T/insecure.json"
figures insecure "$T/insecure.json"
if [ ${#ROBUST[@]} -gt 0 ]; then
    # clerr.dat went out as OPTIONS to the target, from us, its Content-Length lie kept
    expect "$T/insecure.json" 'SIP-ROBUST-01>note:clerr.dat (invalid)' 'SIP-ROBUST-01>sent:CSeq: 8 OPTIONS' \
        'SIP-ROBUST-01>sent:Content-Length: 9999' 'SIP-ROBUST-01~from --robust-dir'
    # the top Via of every request sent names us (lower ones may stay: replies go to the top)
    if /usr/bin/python3 -c 'import json,sys,re
r=json.load(open(sys.argv[1])); f=[f for f in r["findings"] if f["id"]=="SIP-ROBUST-01"][0]
bad=[]
for e in f["evidence"]:
    if not e["sent"]: continue
    vias=[l for l in re.split(r"\r?\n", e["sent"]) if re.match(r"(?i)(via|v)\s*:", l)]
    if vias and not re.search(r"SIP/2.0/\w+ 127\.0\.0\.1:\d+;branch=z9hG4bK-swa-", vias[0]): bad.append(vias[0])
print(bad[:3]); sys.exit(1 if bad else 0)' "$T/insecure.json"; then
        ok "rewritten RFC 4475 requests carry our Via on top"
    else
        bad "a request of SIP-ROBUST-01 went out with a top Via not ours"
    fi
fi


# --- the hardened device (TLS only, mutual TLS) ------------------------------------------
H=$T/hard
run_hardened() {
    ip netns exec $NH "$SIPWALL" assess 'sip:127.0.0.1:5061;transport=tls' --profile sbc --ca "$H/ca.crt" \
        --tls-name sbc.test --client-cert "$H/device.crt" --client-key "$H/device.key" --known-user 1000 \
        --credential-tests --max-rate 100 --rate 5 --json "$T/hardened.json" >"$T/hardened.out" 2>&1
    rc=$?
}
run_hardened
if swa_kamailio_crashed "$H"; then
    echo "note: Kamailio 5.6.3 aborted in its TLS module during the run (kamailio#3791, see sip_targets.sh):" \
        "the target is restarted and the assessment run once more"
    swa_kamailio_restart $NH "$H" || { bad "hardened target did not restart"; exit 1; }
    run_hardened
fi
[ $rc -eq 0 ] && ok "hardened: exit 0 (default --fail-on)" || { bad "hardened: exit $rc"; cat "$T/hardened.out"; }
expect "$T/hardened.json" exit=0 evidence-ok \
    'SIP-FP-01=pass' 'SIP-AUTH-01=pass' 'SIP-AUTH-01>received:SIP/2.0 407' 'SIP-AUTH-02=pass' 'SIP-AUTH-03=pass' \
    'SIP-ENUM-01=pass' 'SIP-ENUM-01~both oracles' 'SIP-ENUM-01>note:OPTIONS user 1000: 200' 'SIP-CRED-01=pass' 'SIP-CRED-02=pass' 'SIP-CRED-03=pass' 'SIP-LEAK-01=pass' \
    'SIP-ROBUST-01=pass' 'SIP-ROBUST-01>note:liveness OPTIONS try 1: answered' 'SIP-RATE-01=pass' \
    'SIP-ROBUST-01>received:SIP/2.0 400 NUL In Header' 'SIP-ROBUST-01>received:SIP/2.0 400 CSeq Out Of Range' \
    'SIP-ROBUST-01>received:SIP/2.0 400 Bad Escape In URI' \
    'SIP-ROBUST-01>note:(from the status line: the reply did not parse or match)' \
    'TLS-01=pass' 'TLS-02=pass' 'TLS-02~TLSv1.1 refused' 'TLS-02~TLSv1.3 accepted' 'TLS-03=pass' \
    'TLS-04=pass' 'TLS-04>received:-----BEGIN CERTIFICATE-----' 'TLS-04~name sbc.test matches' \
    'TLS-05=pass' 'TLS-05~certificate_required' 'TLS-05~unknown_ca' \
    control:C1=pass control:C4=pass
# the hardened device passes or skips every check
if notpass=$(/usr/bin/python3 -c 'import json,sys
r=json.load(open(sys.argv[1])); b=["%s=%s" % (f["id"], f["result"]) for f in r["findings"] if f["result"] not in ("pass","skipped")]
print(" ".join(b)); sys.exit(1 if b else 0)' "$T/hardened.json"); then
    ok "hardened: every check pass or skipped"
else
    bad "hardened: not pass or skipped: $notpass"
fi
schema "$T/hardened.json"
figures hardened "$T/hardened.json"

# --- a wrong --tls-name and a wrong CA are TLS-04 fails ----------------------------------
ip netns exec $NH "$SIPWALL" assess 'sip:127.0.0.1:5061;transport=tls' --only TLS-04 --ca "$T/pki/rogue.crt" \
    --tls-name wrong.test --client-cert "$H/device.crt" --client-key "$H/device.key" --json "$T/tls04.json" \
    >"$T/tls04.out" 2>&1
expect "$T/tls04.json" 'TLS-04=fail/high' 'TLS-04~does not verify' 'TLS-04~does not name wrong.test' 'SIP-FP-01=skipped'

echo "$fails failed"
[ "$fails" -eq 0 ]
