#!/usr/bin/env bash
# sipwall policy dump: the merged policy (builtin:default + the example
# partner file) dumped, the dump dumped again gives the same text, and
# `sipwall policy check` of the dump prints the same summary (rules per
# category, partners, lists, detectors, limits) as of the two files; with no
# file it dumps builtin:default; exit 1 for a policy with errors (nothing on
# stdout), 2 for a file that cannot be read.
#
# env: SIPWALL (the built binary), SW_SRC (repo root).
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SIPWALL=$(cd "$(dirname "$SIPWALL")" && pwd)/$(basename "$SIPWALL")
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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ex="$SW_SRC/etc/partners.example.policy"

"$SIPWALL" policy dump --policy builtin:default --policy "$ex" >"$tmp/d1.policy" 2>"$tmp/d1.err"
check "dump exits 0" test $? = 0
check "dump has rules and partners" \
    test "$(grep -c '^rule ' "$tmp/d1.policy")" -gt 10 -a "$(grep -c '^partner ' "$tmp/d1.policy")" = 5
(cd "$tmp" && "$SIPWALL" policy dump d1.policy >d2.policy 2>d2.err)
check "dump of the dump is the same text" cmp "$tmp/d1.policy" "$tmp/d2.policy"
"$SIPWALL" policy check builtin:default "$ex" | grep -v '^files:' >"$tmp/s0"
"$SIPWALL" policy check "$tmp/d1.policy" | grep -v '^files:' >"$tmp/s1"
check "policy check of the dump: same summary" diff -u "$tmp/s0" "$tmp/s1"
check "the summary counts rules" grep -q '^rules: *[1-9]' "$tmp/s1"

"$SIPWALL" policy dump >"$tmp/def.policy"
"$SIPWALL" policy dump builtin:default >"$tmp/def2.policy"
check "no FILE dumps builtin:default" cmp "$tmp/def.policy" "$tmp/def2.policy"

printf 'rule cat1.x { when a in list nosuch; action drop }\n' >"$tmp/bad.policy"
"$SIPWALL" policy dump "$tmp/bad.policy" >"$tmp/bad.out" 2>"$tmp/bad.err"
check "a policy with errors: exit 1" test $? = 1
check "a policy with errors: nothing on stdout" test ! -s "$tmp/bad.out"
check "a policy with errors: the error names file and line" grep -q 'bad.policy:1:' "$tmp/bad.err"
"$SIPWALL" policy dump "$tmp/missing.policy" >/dev/null 2>&1
check "a file that cannot be read: exit 2" test $? = 2

echo "$((checks - fails))/$checks checks passed"
[ "$fails" = 0 ]
