#!/usr/bin/env bash
# sipwall policy explain: partner or zone, the rules that match, the
# detectors that count the message, the verdict and why — on the shipped
# default with the example partner file:
#   - a partner's INVITE with a calling number outside its ranges: cat2.cli-range
#     matches and decides (reject 403), flood counts it;
#   - a malformed message from an unknown source: zone unknown, cat1.malformed
#     matches, admission drops it, the malformed detector counts it;
#   - an allowlisted calling number: allow.numbers wins, nothing else is
#     evaluated, no detector counts it;
#   - a detector switched off by an overlay is listed as off;
#   - usage errors (exit 2) and a policy with errors (exit 1).
#
# env: SIPWALL (the built binary), SW_SRC (repo root).
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SW_SRC=${SW_SRC:-$(pwd)}
export LC_ALL=C

fails=0
checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok:   $*"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    checks=$((checks + 1))
    if "$@"; then pass "$what"; else fail "$what"; fi
}
has() { grep -qE -- "$2" "$1"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P=(--policy builtin:default --policy "$SW_SRC/etc/partners.example.policy")

invite() { # invite CALLING: an INVITE from acme-trunk's address to a home number
    printf 'INVITE sip:+447700900123@ims.mnc015.mcc234.3gppnetwork.org SIP/2.0\r\n'
    printf 'Via: SIP/2.0/UDP 203.0.113.200:5060;branch=z9hG4bK-explain-1\r\n'
    printf 'Max-Forwards: 70\r\n'
    printf 'From: <sip:%s@acme.example>;tag=a1\r\n' "$1"
    printf 'To: <sip:+447700900123@ims.mnc015.mcc234.3gppnetwork.org>\r\n'
    printf 'Call-ID: explain-1@203.0.113.200\r\nCSeq: 1 INVITE\r\n'
    printf 'Contact: <sip:%s@203.0.113.200:5060>\r\nContent-Length: 0\r\n\r\n' "$1"
}

# ---- a partner's spoofed calling number ----
"$SIPWALL" policy explain "${P[@]}" --src 198.51.100.33:5060 --dst 10.20.0.1:5060 \
    "$SW_SRC/tests/data/ims/01-invite-volte.sip" >"$tmp/spoof.out" 2>&1
check "spoof: exit 0" test $? = 0
check "spoof: the sending partner" has "$tmp/spoof.out" '^from +198\.51\.100\.33:5060: partner op-de \(role interconnect'
check "spoof: the receiving core" has "$tmp/spoof.out" '^to +10\.20\.0\.1:5060: partner core-ibcf \(role core'
check "spoof: direction ingress" has "$tmp/spoof.out" '^direction +ingress'
check "spoof: cat2.cli-range matches" has "$tmp/spoof.out" '^  cat2\.cli-range +cat2 +reject 403'
check "spoof: verdict" has "$tmp/spoof.out" '^verdict +reject 403 by cat2\.cli-range \(cat2, cli_spoofing\): calling number'
check "spoof: flood counts it" has "$tmp/spoof.out" '^detectors .* flood'
check "spoof: one event" has "$tmp/spoof.out" '^events +1$'

# ---- malformed, from an unknown source ----
"$SIPWALL" policy explain "${P[@]}" --src 192.0.2.99:5099 \
    "$SW_SRC/tests/data/torture/invalid-cl-negative.sip" >"$tmp/mal.out" 2>&1
check "malformed: exit 0" test $? = 0
check "malformed: the reason" has "$tmp/mal.out" '^message +malformed: offset [0-9]+: negative Content-Length'
check "malformed: zone unknown" has "$tmp/mal.out" '^from +192\.0\.2\.99:5099: zone unknown .*admission drop'
check "malformed: cat1.malformed matches" has "$tmp/mal.out" '^  cat1\.malformed +cat1 +reject 400'
check "malformed: admission decides" has "$tmp/mal.out" '^verdict +drop by cat0\.admission .*zone admission'
check "malformed: the malformed detector counts it" has "$tmp/mal.out" '^detectors .* malformed'

# ---- an allowlisted calling number ----
invite +442079460100 >"$tmp/allow.sip"
"$SIPWALL" policy explain "${P[@]}" --src 203.0.113.200:5060 --dst 10.20.0.1:5060 \
    "$tmp/allow.sip" >"$tmp/allow.out" 2>&1
check "allow: exit 0" test $? = 0
check "allow: the enterprise trunk" has "$tmp/allow.out" '^from .*partner acme-trunk \(role enterprise'
check "allow: allow.numbers wins" has "$tmp/allow.out" '^  allow\.numbers +cat0 +allow: an allow rule wins'
check "allow: only that rule" test "$(grep -c '^  [a-z]' "$tmp/allow.out")" = 1
check "allow: verdict" has "$tmp/allow.out" '^verdict +allow by allow\.numbers \(allow rule, cat0\): calling number on the allowlist'
check "allow: no detector counts it" has "$tmp/allow.out" '^detectors +none'

# ---- a detector switched off ----
invite +442079460555 >"$tmp/plain.sip"
printf 'detector scan { off }\n' >"$tmp/off.policy"
"$SIPWALL" policy explain "${P[@]}" --policy "$tmp/off.policy" --src 203.0.113.200:5060 \
    --dst 10.20.0.1:5060 "$tmp/plain.sip" >"$tmp/off.out" 2>&1
check "off: exit 0" test $? = 0
check "off: scan listed as off" has "$tmp/off.out" '^ +off: scan$'
check "off: no rule matches" has "$tmp/off.out" '^  \(none\)$'
check "off: allowed" has "$tmp/off.out" '^verdict +allow: no rule or detector objected'

# ---- errors ----
"$SIPWALL" policy explain "$tmp/plain.sip" >/dev/null 2>&1
check "no --src: exit 2" test $? = 2
"$SIPWALL" policy explain --src nowhere "$tmp/plain.sip" >/dev/null 2>&1
check "bad --src: exit 2" test $? = 2
"$SIPWALL" policy explain --src 192.0.2.1 "$tmp/missing.sip" >/dev/null 2>&1
check "missing message file: exit 2" test $? = 2
printf 'rule cat1.x { when peer == nobody; action drop }\n' >"$tmp/bad.policy"
"$SIPWALL" policy explain --policy "$tmp/bad.policy" --src 192.0.2.1 "$tmp/plain.sip" \
    >"$tmp/bad.out" 2>&1
check "policy with errors: exit 1" test $? = 1
check "policy with errors: named" has "$tmp/bad.out" "bad.policy:1:[0-9]+: error: unknown partner or zone 'nobody'"

echo "$((checks - fails))/$checks checks passed"
[ "$fails" = 0 ]
