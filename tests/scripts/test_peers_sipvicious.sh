#!/usr/bin/env bash
# SIPVicious (Debian's svmap, svwar, svcrack) against sipwalld's interconnect
# listener (tests/peers/lib.sh for the address plan), the core being a leaky
# SIPp registrar (tests/peers/scenarios/uas_registrar.xml: 401 for users
# 1000-1009, 404 for anyone else).
#
# A. From addresses no partner declares, with the shipped default policy:
#    each tool is detected (sip_scan events: the scanner signature) and
#    blocked — no reply reaches the tool and nothing reaches the core.
# B. From declared roaming partners, after a reload with a policy that lets
#    the behavioural detectors act on partners (scan/bruteforce exempt-peers
#    no) and puts the signature rule in monitor mode (else it catches the
#    tools first): svwar trips scan.enumeration, svcrack trips
#    bruteforce.guessing, and after the trip the core stops seeing them.
#
# env: SIPWALLD, SW_SRC, SW_BUILD.  sipwalld only (the checks are its events).
set -u
. "${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/peers/lib.sh"
peers_init sipvicious 23
peers_is_sipwalld || die "this test checks sipwalld's detections; PEERS_PROXY=$PEERS_PROXY does not apply"
for tool in svmap svwar svcrack; do
    command -v $tool >/dev/null 2>&1 || die "$tool not installed (scripts/install-deps: sipvicious)"
done
# svwar and svcrack ignore -b (sipvicious 0.3.3); this wrapper hands it over.
SV_BOUND=$SW_SRC/scripts/labelled/sv_bound.py
SVPY=/usr/bin/python3
export HOME=$WORK/home   # sipvicious keeps its sessions in ~/.sipvicious
mkdir -p "$HOME"
ROAM2=127.$PEERS_NET.0.12
PEERS_POLICY_EXTRA="partner roam2 { role roaming; address $ROAM2/32; realms ims.test }"

peers_start_proxy
peers_sipp_uas registrar -sf "$PEERS_SCEN/uas_registrar.xml" -i "$CORE" -p 5070
peers_wait_listen udp "$CORE" 5070 || die "the core registrar did not start"
not_grep() { ! grep -q "$@"; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
# Requests that reached the core: the registrar takes each as a new
# incoming "call" (its statistics are written every second).
core_requests() {
    sleep 1.2
    local n
    n=$(sipp_stat registrar 'IncomingCall(C)')
    echo "${n:-0}"
}

# ---- A: strangers, default policy -------------------------------------------------------
A1=$STRANGER_NET.1 A2=$STRANGER_NET.2 A3=$STRANGER_NET.3
timeout 60 svmap -p5060 "$SW_IC" -b "$A1" -P 5277 -t 0.05 >"$WORK/svmap.log" 2>&1
timeout 60 svmap -m INVITE -p5060 "$SW_IC" -b "$A1" -P 5278 -t 0.05 >>"$WORK/svmap.log" 2>&1
timeout 90 "$SVPY" "$SV_BOUND" svwar -e1000-1040 -p 5060 -b "$A2" -P 5279 -t 0.02 --force \
    --maximumtime 40 "$SW_IC" >"$WORK/svwar-stranger.log" 2>&1
printf '%s\n' 123456 password 1234 admin secret letmein welcome voip sip changeme passw0rd qwerty \
    >"$WORK/dict.txt"
timeout 90 "$SVPY" "$SV_BOUND" svcrack -u 1001 -d "$WORK/dict.txt" -p 5060 -b "$A3" -P 5280 \
    -t 0.05 --maximumtime 40 "$SW_IC" >"$WORK/svcrack-stranger.log" 2>&1
sleep 1

for src in "$A1" "$A2" "$A3"; do
    n=$(peers_events "src=^${src//./\\.}:" 'event_type=^sip_scan$')
    check "A: scanner from $src detected ($n sip_scan events)" [ "$n" -ge 1 ]
done
# svmap prints "| IP:PORT | User Agent |" for each device that answered,
# svwar "| EXTENSION | reqauth |" for each user it told apart.
check "A: svmap found no SIP device (nothing answered it)" \
    not_grep -E "\\| *$SW_IC:5060 *\\|" "$WORK/svmap.log"
check "A: svwar told no extension apart (nothing answered it)" \
    not_grep -E '\| *10[0-9][0-9] *\|' "$WORK/svwar-stranger.log"
core_a=$(core_requests)
check "A: the core received none of it (got $core_a requests)" [ "$core_a" = 0 ]

# ---- B: partners, detectors acting on partners ---------------------------------------------
cat >>"$POLICY" <<EOP

# test_peers_sipvicious.sh, part B: the behavioural detectors act on partners,
# the signature rule only reports (else it would catch the tools first).
detector scan { action drop; confidence 85; exempt-peers no }
detector bruteforce { action drop; confidence 90; exempt-peers no }
rule cat1.scanner-signature {
    category cat1
    event sip_scan
    when request and (user-agent matches list scanner-ua or from.display matches "sipvicious")
    action drop
    mode monitor
    confidence 60
    reason "SIP scanner signature (monitor only in this test)"
}
EOP
if [ -x "${SIPWALL:-}" ]; then
    "$SIPWALL" policy check builtin:default "$POLICY" >"$WORK/policy-check.log" 2>&1 ||
        die "the part B policy does not compile: $(head -c 400 "$WORK/policy-check.log")"
fi
timeout 20 "$SIPWALLD" -c "$CONF" ctl reload >"$WORK/reload.log" 2>&1 ||
    die "ctl reload failed: $(head -c 300 "$WORK/reload.log")"
sleep 1
core_before=$(core_requests)

timeout 90 "$SVPY" "$SV_BOUND" svwar -e1000-1060 -p 5060 -b "$ROAM2" -P 5281 -t 0.02 --force \
    --maximumtime 40 "$SW_IC" >"$WORK/svwar-partner.log" 2>&1
sleep 1
core_after_war=$(core_requests)
war_sent=61
war_core=$((core_after_war - core_before))
n=$(peers_events "src=^${ROAM2//./\\.}:" 'rule=^scan\.enumeration$')
check "B: svwar from partner $ROAM2 trips scan.enumeration ($n events)" [ "$n" -ge 1 ]
check "B: after the trip the core stops seeing svwar ($war_core of its $war_sent+ REGISTERs reached the core; 10..40 wanted)" \
    between "$war_core" 10 40

printf '%s\n' 123456 password 1234 12345678 admin qwerty secret letmein welcome monkey dragon \
    sunshine master abc123 voip sip asterisk changeme passw0rd football iloveyou trustno1 \
    pass1234 summer2024 winter2024 batman shadow baseball superman princess >"$WORK/dict30.txt"
timeout 90 "$SVPY" "$SV_BOUND" svcrack -u 1002 -d "$WORK/dict30.txt" -p 5060 -b "$ROAM" -P 5282 \
    -t 0.05 --maximumtime 40 "$SW_IC" >"$WORK/svcrack-partner.log" 2>&1
sleep 1
crack_core=$(( $(core_requests) - core_after_war ))
# the trip comes with the core's failing answer: the event names the guesser
# as its offender (its src is the core that answered)
n=$(peers_events "offender=^${ROAM//./\\.}$" 'rule=^bruteforce\.guessing$')
check "B: svcrack from partner $ROAM trips bruteforce.guessing ($n events)" [ "$n" -ge 1 ]
# svcrack sends up to three REGISTERs per guess (without, then with credentials,
# then again for the new challenge): 10 failures take 5-8 guesses
check "B: after the trip the core stops seeing the guesses ($crack_core of 90 REGISTERs reached the core; 10..26 wanted)" \
    between "$crack_core" 10 26

check "sipwalld is alive and answers its admin socket" peers_proxy_alive
peers_done
