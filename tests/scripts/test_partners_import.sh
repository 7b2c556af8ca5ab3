#!/usr/bin/env bash
# scripts/partners-to-policy never loses roster data: a messy roster
# (several addresses per cell with commas, semicolons and blanks, CIDRs,
# ports, IPv6 bracketed with and without a port, an IPv6 CIDR with a port,
# empty and "-" cells, a comment and a blank line, a CRLF row) becomes the
# exact policy text in tests/data/rosters/messy.policy; with --ports drop the
# same roster passes `sipwall policy check` (the port-less policy does not
# depend on the language's address:port); a roster with unreadable address
# cells (tests/data/rosters/bad.tsv) is an error per row naming the row and
# the cell's text, and no policy is written.
#
# env: SIPWALL (the built binary), SW_SRC (repo root).
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SW_SRC=${SW_SRC:-$(pwd)}
export LC_ALL=C
conv="$SW_SRC/scripts/partners-to-policy"
data="$SW_SRC/tests/data/rosters"

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

# ---- the messy roster: exact text, ports kept ----
checks=$((checks + 1))
if (cd "$data" && "$conv" messy.tsv) >"$tmp/messy.policy" 2>"$tmp/messy.err"; then
    pass "messy roster converts (exit 0)"
else
    fail "messy roster: exit $?"; cat "$tmp/messy.err"
fi
checks=$((checks + 1))
if diff -u "$data/messy.policy" "$tmp/messy.policy"; then
    pass "messy roster gives the expected policy text"
else
    fail "messy roster: policy text differs (above)"
fi
# the points the expected text encodes, spelled out so a failure says which
addr_line() { sed -n "/^partner $1 {/,/^}/p" "$tmp/messy.policy" | grep '^    address '; }
check "several addresses, IPv4 and bracketed IPv6 with ports" \
    test "$(addr_line edge)" = "    address 192.0.2.10:5060, [2001:db8::10]:5061"
check "semicolon and blank separators, CIDR with port, IPv6 CIDR" \
    test "$(addr_line alpha)" = "    address 198.51.100.0/28, 198.51.100.64/28:5070, 2001:db8:a::/48"
check "bracketed IPv6 without port is a /128" \
    test "$(addr_line bravo)" = "    address 2001:db8:b::1/128"
check "duplicate address written once, IPv6 CIDR with port" \
    test "$(addr_line delta)" = "    address 203.0.113.8:5080, [2001:db8:d::/64]:5090"
check "two ranges in one cell both kept" \
    grep -qx '    ranges +33639800000-+33639800999, +33639900000-+33639900099' "$tmp/messy.policy"
check "empty and '-' cells write no setting" \
    test -z "$(sed -n '/^partner \(bravo\|charlie\|delta\) {/,/^}/p' "$tmp/messy.policy" |
               grep -E '^    (ranges|domains|realms|plmn)')"
check "no setting holds a bare '-' or an empty value" \
    test -z "$(grep -E '^    [a-z-]+ *(-)?$' "$tmp/messy.policy")"

# ---- --ports drop: port-less, says so, and the policy checks ----
checks=$((checks + 1))
if "$conv" --ports drop "$data/messy.tsv" >"$tmp/noports.policy" 2>"$tmp/noports.err"; then
    pass "--ports drop converts"
else
    fail "--ports drop: exit $?"; cat "$tmp/noports.err"
fi
check "--ports drop leaves no port in an address" \
    test -z "$(grep '^    address .*\(]:\|:[0-9]*$\|:[0-9]*,\)' "$tmp/noports.policy")"
check "--ports drop names every dropped port in a comment" \
    grep -qx '# alpha: port dropped (--ports drop): 198.51.100.64/28:5070' "$tmp/noports.policy"
check "alpha keeps all three networks without ports" \
    grep -qx '    address 198.51.100.0/28, 198.51.100.64/28, 2001:db8:a::/48' "$tmp/noports.policy"
checks=$((checks + 1))
if "$SIPWALL" policy check "$tmp/noports.policy" >"$tmp/check.out" 2>&1; then
    pass "sipwall policy check accepts the port-less policy"
else
    fail "sipwall policy check (exit $?)"; cat "$tmp/check.out"
fi
check "policy check counts 9 partner addresses" \
    test "$(awk '/ partners, /{gsub(",", "", $4); n += $4} END {print n}' "$tmp/check.out")" = 9

# ---- bad cells: one error per row, naming the row and the text; no output ----
checks=$((checks + 1))
"$conv" "$data/bad.tsv" >"$tmp/bad.policy" 2>"$tmp/bad.err"
rc=$?
if [ "$rc" = 1 ]; then pass "bad roster: exit 1"; else fail "bad roster: exit $rc, want 1"; fi
check "bad roster: nothing on stdout" test ! -s "$tmp/bad.policy"
expect_err() { # ROW TEXT: an error line for the row that quotes TEXT
    grep -F "bad.tsv:$1: error:" "$tmp/bad.err" | grep -qF "$2"
}
check "host name in a cell with a good address (row 3)" expect_err 3 "'192.0.2.1, sbc.alpha.example'"
check "host bits set (row 4)" expect_err 4 "'198.51.100.5/24'"
check "unbalanced bracket (row 5)" expect_err 5 "'[2001:db8::1:5060'"
check "port out of range (row 6)" expect_err 6 "port 70000"
check "empty address cell (row 7)" expect_err 7 "empty address cell"
check "short row (row 8)" expect_err 8 "5 cells, the header has 6"
check "stray bracket (row 9)" expect_err 9 "'2001:db8::1]:5060'"
check "two ports (row 10)" expect_err 10 "'203.0.113.30:50:60'"
check "the good row 2 has no error" test -z "$(grep -F 'bad.tsv:2:' "$tmp/bad.err")"
check "8 errors counted" grep -q '8 errors, no policy written' "$tmp/bad.err"

# ---- the shipped rosters still convert and check without ports ----
for roster in "$SW_SRC/tests/data/labelled/partners.tsv"; do
    checks=$((checks + 1))
    if "$conv" --ports drop "$roster" >"$tmp/lab.policy" &&
        "$SIPWALL" policy check builtin:default "$tmp/lab.policy" >"$tmp/lab.out" 2>&1; then
        pass "$(basename "$(dirname "$roster")")/partners.tsv converts and checks"
    else
        fail "$roster"; cat "$tmp/lab.out"
    fi
done

echo "$((checks - fails))/$checks checks passed"
[ "$fails" = 0 ]
