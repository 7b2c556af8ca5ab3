#!/usr/bin/env bash
# Lint warnings and errors with line numbers: `sipwall policy check` reports
# a condition naming an unknown partner, zone or role as an error at its
# line and column (exit 1); a policy without rules (builtin:default left
# out) is a warning there and in `sipwalld --check-config` (which still
# passes); --check-config warns about a policy without a core partner, and
# says nothing of either with builtin:default and a core partner.
# Loopback net 127.147.0.0/24 (binds only, by --check-config).
#
# env: SIPWALL, SIPWALLD (the built binaries), SW_BUILD.
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SIPWALLD=${SIPWALLD:?set SIPWALLD to the built sipwalld binary}
SW_BUILD=${SW_BUILD:-build}
export LC_ALL=C
NET=127.147.0

fails=0
checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok:   $*"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    checks=$((checks + 1))
    if "$@"; then pass "$what"; else fail "$what"; fi
}

T=$(mktemp -d "$SW_BUILD/test_policy_lint.XXXXXX")
T=$(cd "$T" && pwd)
trap 'rm -rf "$T"' EXIT

# ---- unknown partner / zone / role: errors at line:col ----
cat >"$T/names.policy" <<EOF
partner alpha { role interconnect; address 192.0.2.1 }
rule cat1.to-bravo {
    when peer == bravo or dst.peer in { alpha, mgmt }
    action drop
}
rule cat1.role { when peer.role in { core, romaing }; action drop }
EOF
"$SIPWALL" policy check builtin:default "$T/names.policy" >"$T/names.out" 2>"$T/names.err"
check "unknown names: exit 1" test $? = 1
check "unknown partner at 3:18" grep -q "names.policy:3:18: error: unknown partner or zone 'bravo'" "$T/names.err"
check "unknown zone at 3:48" grep -q "names.policy:3:48: error: unknown partner or zone 'mgmt'" "$T/names.err"
check "unknown role at 6:44" grep -q "names.policy:6:44: error: unknown role 'romaing'" "$T/names.err"
check "three errors" grep -q '^sipwall policy: 3 errors' "$T/names.err"

# ---- no rules: a warning, not an error ----
cat >"$T/partners.policy" <<EOF
partner alpha { role interconnect; address $NET.10/32 }
EOF
"$SIPWALL" policy check "$T/partners.policy" >"$T/norules.out" 2>"$T/norules.err"
check "no rules: policy check exits 0" test $? = 0
check "no rules: policy check warns" \
    grep -q "partners.policy: warning: the policy has no rules.*builtin:default" "$T/norules.err"
"$SIPWALL" policy check builtin:default "$T/partners.policy" >/dev/null 2>"$T/withdef.err"
check "with builtin:default: no warning" test ! -s "$T/withdef.err"

# ---- sipwalld --check-config ----
conf() { # conf POLICY... : an inline config on $NET
    local p
    echo "mode inline"
    for p in "$@"; do echo "policy $p"; done
    echo "events $T/events.jsonl"
    echo "secret $T/secret"
    echo "listen udp $NET.1:5060 side=interconnect"
    echo "listen udp $NET.2:5060 side=core"
    echo "forward udp:$NET.3:5060"
}
conf "$T/partners.policy" >"$T/a.conf"
"$SIPWALLD" -c "$T/a.conf" --check-config >"$T/a.out" 2>"$T/a.err"
check "--check-config without rules or core passes (exit 0)" test $? = 0
check "--check-config warns: no rules" grep -q "warning: the policy has no rules" "$T/a.err"
check "--check-config warns: no core partner" \
    grep -q "^warning: the policy has no partner with role core" "$T/a.out"

cat >"$T/core.policy" <<EOF
partner core { role core; address $NET.3/32 }
partner alpha { role interconnect; address $NET.10/32 }
EOF
conf builtin:default "$T/core.policy" >"$T/b.conf"
"$SIPWALLD" -c "$T/b.conf" --check-config >"$T/b.out" 2>"$T/b.err"
check "--check-config with the default and a core passes" test $? = 0
check "--check-config with both: no warning" \
    test -z "$(grep -h 'warning' "$T/b.out" "$T/b.err")"

conf builtin:default "$T/names.policy" >"$T/c.conf"
"$SIPWALLD" -c "$T/c.conf" --check-config >"$T/c.out" 2>"$T/c.err"
check "--check-config refuses unknown names (exit 1)" test $? = 1
check "--check-config names the line" grep -q "names.policy:3:18: error: unknown partner" "$T/c.err"

echo "$((checks - fails))/$checks checks passed"
[ "$fails" = 0 ]
