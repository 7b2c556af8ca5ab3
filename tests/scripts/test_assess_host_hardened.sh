#!/usr/bin/env bash
# `sipwall assess` against the hardened device (docs/assess.md "Test
# targets"): in a namespace of its own (swb-…), Kamailio TLS-only on 5061
# with mutual TLS, pike and digest challenges (tests/assess/sip_targets.sh)
# and MQTT over TLS on 8883 requiring client certificates, nothing else
# listening (tests/assess/host_targets.sh); both share one test PKI.  One
# full run with --credential-tests, --ca/--tls-name/--client-cert and the
# questionnaire tests/assess/q-hardened.yaml (5061/tcp and 8883/tcp
# declared):
#   - every check (SIP, host, TLS, logging) passes or is skipped, as
#     tests/assess/expect-hardened.txt says; exit code 0 with the default
#     --fail-on;
#   - the JSON validates against the schema;
#   - nmap -sT finds only 5061 and 8883, as NET-PORT-01 does;
#   - the HTML renders in headless Chromium in an empty namespace.
# Prints FIGURES: duration, packets, score per control.
set -uo pipefail
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SW_SRC/tests/assess/lib.sh"
. "$SW_SRC/tests/assess/sip_targets.sh"
. "$SW_SRC/tests/assess/host_targets.sh"
[ -x "$SIPWALL" ] || { echo "FAIL: no sipwall at $SIPWALL"; exit 1; }
HOST_WORK=$(mktemp -d /tmp/swb-assess-hrd.XXXXXX)
W=$HOST_WORK
NS=${SW_ASSESS_NS:-swb}-hrd$$
EMPTY=${SW_ASSESS_NS:-swb}-htmh$$
cleanup() {
    swa_stop_all
    host_targets_stop
    if [ "$AT_FAILS" -eq 0 ]; then rm -rf "$W"; else echo "work dir kept: $W"; fi
}
trap cleanup EXIT

host_netns "$NS" || { echo "FAIL: namespace"; exit 1; }
host_netns "$EMPTY" || { echo "FAIL: namespace"; exit 1; }
swa_pki "$W/sip" || { bad "PKI"; at_done; exit 1; }
swa_sip_hardened "$NS" "$W/sip" 127.0.0.1 || { bad "the SIP target did not start"; at_done; exit 1; }
host_hardened_start "$NS" "$W/sip" || { bad "the MQTT target did not start"; at_done; exit 1; }

run_assess() {
    t0=$(date +%s.%N)
    ip netns exec "$NS" timeout 170 "$SIPWALL" assess "sip:127.0.0.1:5061;transport=tls" --profile iot \
        --questionnaire "$SW_SRC/tests/assess/q-hardened.yaml" --credential-tests \
        --ca "$W/sip/ca.crt" --tls-name sbc.test --client-cert "$W/sip/device.crt" --client-key "$W/sip/device.key" \
        --require-mtls --json "$W/report.json" --html "$W/report.html" >"$W/assess.out" 2>"$W/assess.err"
    rc=$?
    t1=$(date +%s.%N)
}
run_assess
if swa_kamailio_crashed "$W/sip"; then
    echo "note: Kamailio 5.6.3 aborted in its TLS module during the run (kamailio#3791, see sip_targets.sh):" \
        "the target is restarted and the assessment run once more"
    swa_kamailio_restart "$NS" "$W/sip" 127.0.0.1 || { bad "the SIP target did not restart"; at_done; exit 1; }
    run_assess
fi
check "exit code 0 with the default --fail-on (got $rc)" [ "$rc" = 0 ]
[ -s "$W/report.json" ] || { bad "no JSON report: $(tail -5 "$W/assess.err")"; at_done; exit 1; }
at_expect "$W/report.json" "$SW_SRC/tests/assess/expect-hardened.txt"
at_schema "$W/report.json"

ports=21,22,23,80,443,554,1234,1883,2000,2001,2002,2003,2323,3333,4444,5060,5061,5555,6666,7547,8080,8443,8883,9000
nmap_open=$(ip netns exec "$NS" timeout 60 nmap -Pn -sT -p "$ports" -oG - 127.0.0.1 2>/dev/null |
    grep -o '[0-9]*/open/tcp' | cut -d/ -f1 | sort -n | tr '\n' ' ')
check "nmap -sT finds only 5061 and 8883 open (got: $nmap_open)" [ "$nmap_open" = "5061 8883 " ]

at_chromium "$EMPTY" "$W/report.html" "$W"

/usr/bin/python3 - "$W/report.json" "$t0" "$t1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
dur = float(sys.argv[3]) - float(sys.argv[2])
ctl = " ".join(f"{c['id']}={c['status']}/{c['score']:.0f}/cov{c['coverage']:.0f}" for c in r["controls"])
print(f"FIGURES hardened: duration {dur:.1f} s (report {r['run']['limits']['duration_s']:.1f} s), "
      f"packets {r['run']['limits']['packets_sent']}, score {r['summary']['score']}, {ctl}")
PY
at_done
