#!/usr/bin/env bash
# `sipwall assess` against the insecure device (docs/assess.md "Test
# targets"): in a namespace of its own (swb-…), Kamailio as an open relay
# with an enumeration oracle and default digest passwords, a SIPp "PSTN"
# (tests/assess/sip_targets.sh), and telnet admin/admin, lighttpd Basic
# admin/admin, anonymous MQTT, a weak sshd and a gdbserver stand-in
# (tests/assess/host_targets.sh).  One full run with --credential-tests
# and the questionnaire tests/assess/q-insecure.yaml:
#   - exit code 1 (a fail at or above --fail-on high);
#   - every host check fails with the expected severity and evidence, the
#     controls and the questionnaire merge as tests/assess/expect-insecure.txt;
#   - the JSON validates against docs/assess-report.schema.json;
#   - nmap -sT on the same port list finds exactly the TCP ports NET-PORT-01
#     found open; ssh-audit fails the sshd as NET-SSH-01 does, and flags
#     every algorithm NET-SSH-01 names;
#   - the HTML renders in headless Chromium in an empty namespace (PNG, no
#     console message, the top gap on the page), passwords masked;
#   - with telnet stopped, a second run (--only the port, HTTP and default
#     credential checks) finds admin/admin through HTTP Basic instead, and
#     the HTML masks the Basic credentials.
# Prints FIGURES: duration, packets, score per control.
set -uo pipefail
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SW_SRC/tests/assess/lib.sh"
. "$SW_SRC/tests/assess/sip_targets.sh"
. "$SW_SRC/tests/assess/host_targets.sh"
[ -x "$SIPWALL" ] || { echo "FAIL: no sipwall at $SIPWALL"; exit 1; }
HOST_WORK=$(mktemp -d /tmp/swb-assess-ins.XXXXXX)
W=$HOST_WORK
NS=${SW_ASSESS_NS:-swb}-ins$$
EMPTY=${SW_ASSESS_NS:-swb}-html$$
cleanup() {
    swa_stop_all
    host_targets_stop
    if [ "$AT_FAILS" -eq 0 ]; then rm -rf "$W"; else echo "work dir kept: $W"; fi
}
trap cleanup EXIT

host_netns "$NS" || { echo "FAIL: namespace"; exit 1; }
host_netns "$EMPTY" || { echo "FAIL: namespace"; exit 1; }
swa_sip_insecure "$NS" "$W/sip" 127.0.0.1 || { bad "the SIP target did not start"; at_done; exit 1; }
host_insecure_start "$NS" || { bad "the host targets did not start"; at_done; exit 1; }

t0=$(date +%s.%N)
ip netns exec "$NS" timeout 170 "$SIPWALL" assess "sip:127.0.0.1:5060;transport=udp" --profile iot \
    --questionnaire "$SW_SRC/tests/assess/q-insecure.yaml" --credential-tests \
    --known-user 1000 --known-user 1001 --fail-on high \
    --json "$W/report.json" --html "$W/report.html" >"$W/assess.out" 2>"$W/assess.err"
rc=$?
t1=$(date +%s.%N)
check "exit code 1: a fail at or above high (got $rc)" [ "$rc" = 1 ]
check "the plan is printed before the first packet" grep -q "NET-PORT-01" "$W/assess.out"
[ -s "$W/report.json" ] || { bad "no JSON report: $(tail -5 "$W/assess.err")"; at_done; exit 1; }
at_expect "$W/report.json" "$SW_SRC/tests/assess/expect-insecure.txt"
at_schema "$W/report.json"

# independent references: nmap and ssh-audit on the same target
ports=21,22,23,80,443,554,1234,1883,2000,2001,2002,2003,2323,3333,4444,5060,5061,5555,6666,7547,8080,8443,8883,9000
nmap_open=$(ip netns exec "$NS" timeout 60 nmap -Pn -sT -p "$ports" -oG - 127.0.0.1 2>/dev/null |
    grep -o '[0-9]*/open/tcp' | cut -d/ -f1 | sort -n | tr '\n' ' ')
ours_open=$(/usr/bin/python3 - "$W/report.json" <<'PY'
import json, sys
f = {x["id"]: x for x in json.load(open(sys.argv[1]))["findings"]}["NET-PORT-01"]
print(" ".join(sorted((e["remote"].rsplit(":", 1)[1] for e in f["evidence"]
                       if e["transport"] == "tcp" and (e.get("note") or "").startswith("open")), key=int)) + " ")
PY
)
check "nmap -sT agrees with NET-PORT-01 on the open TCP ports (nmap: $nmap_open; ours: $ours_open)" \
    [ -n "$nmap_open" ] && [ "$nmap_open" = "$ours_open" ]
ip netns exec "$NS" timeout 60 ssh-audit -n 127.0.0.1 >"$W/ssh-audit.txt" 2>&1
sa=$?
check "ssh-audit fails the sshd too (exit $sa = 3), as NET-SSH-01 does" [ "$sa" = 3 ]
missing=$(/usr/bin/python3 - "$W/report.json" "$W/ssh-audit.txt" <<'PY'
import json, re, sys
f = {x["id"]: x for x in json.load(open(sys.argv[1]))["findings"]}["NET-SSH-01"]
audit = open(sys.argv[2]).read()
flagged = set(re.findall(r"\((?:kex|key|enc|mac)\) ([^ ]+)\s+-- \[(?:fail|warn)\]", audit))
ours = [w.split(":", 1)[1] for w in f["summary"].split(": ", 1)[-1].split() if ":" in w]
print(" ".join(a for a in ours if a not in flagged))
PY
)
check "every algorithm NET-SSH-01 names is [fail] or [warn] in ssh-audit (not: ${missing:-none})" [ -z "$missing" ]

# the HTML
at_chromium "$EMPTY" "$W/report.html" "$W"
check "the found password is masked in the HTML" bash -c "grep -q 'accepts \*\*\*\*\* / \*\*\*\*\*' '$W/report.html'"
check "no script, no external resource in the HTML" \
    bash -c "! grep -Eqi '<script|src=|href=|url\\(' '$W/report.html'"

# telnet gone: the default credentials are found over HTTP Basic
kill "$HOST_TELNET_PID" 2>/dev/null
for i in $(seq 30); do ip netns exec "$NS" ss -Hltn "sport = :23" | grep -q . || break; sleep 0.1; done
ip netns exec "$NS" timeout 60 "$SIPWALL" assess "sip:127.0.0.1:5060;transport=udp" --profile iot \
    --only NET-PORT-01,NET-HTTP-01,NET-DEFCRED-01 --credential-tests \
    --json "$W/http.json" --html "$W/http.html" >"$W/http.out" 2>"$W/http.err"
printf 'finding NET-DEFCRED-01 fail critical\nevidence NET-DEFCRED-01 HTTP Basic on tcp 80 /admin/ accepts admin / admin\nevidence NET-DEFCRED-01 Authorization: Basic YWRtaW46YWRtaW4=\nsecret NET-DEFCRED-01 admin\n' >"$W/http.expect"
at_expect "$W/http.json" "$W/http.expect"
check "the HTML masks the Basic credentials" bash -c "grep -q 'Authorization: Basic \*\*\*\*' '$W/http.html' && ! grep -q 'YWRtaW46YWRtaW4=' '$W/http.html'"

/usr/bin/python3 - "$W/report.json" "$t0" "$t1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
dur = float(sys.argv[3]) - float(sys.argv[2])
ctl = " ".join(f"{c['id']}={c['status']}/{c['score']:.0f}/cov{c['coverage']:.0f}" for c in r["controls"])
print(f"FIGURES insecure: duration {dur:.1f} s (report {r['run']['limits']['duration_s']:.1f} s), "
      f"packets {r['run']['limits']['packets_sent']}, score {r['summary']['score']}, {ctl}")
PY
at_done
