# shellcheck shell=bash
# Shared by tests/scripts/test_assess_host_*.sh: checks with ok/FAIL lines,
# the report checks (schema, expectations, Chromium), and the figures.
SW_SRC=${SW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SIPWALL=${SIPWALL:-${SW_BUILD:-$SW_SRC/build}/sipwall}
export LC_ALL=C
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
AT_FAILS=0
AT_CHECKS=0
ok() { AT_CHECKS=$((AT_CHECKS + 1)); echo "ok:   $*"; }
bad() { AT_CHECKS=$((AT_CHECKS + 1)); AT_FAILS=$((AT_FAILS + 1)); echo "FAIL: $*"; }
check() { # DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
at_done() {
    echo "$AT_CHECKS checks, $AT_FAILS failed"
    [ "$AT_FAILS" -eq 0 ]
}

# at_expect REPORT EXPECT: every line of the expectation file (tests/assess/expect_file.py)
at_expect() {
    local line
    while IFS= read -r line; do
        case $line in ok:*) AT_CHECKS=$((AT_CHECKS + 1)); echo "$line" ;;
        FAIL:*) AT_CHECKS=$((AT_CHECKS + 1)); AT_FAILS=$((AT_FAILS + 1)); echo "$line" ;;
        *) echo "$line" ;; esac
    done < <(/usr/bin/python3 "$SW_SRC/tests/assess/expect_file.py" "$1" "$2" 2>&1)
}

# at_schema REPORT: valid against docs/assess-report.schema.json
at_schema() {
    local out
    if out=$(/usr/bin/python3 "$SW_SRC/tests/assess/validate-report.py" "$SW_SRC/docs/assess-report.schema.json" "$1" 2>&1); then
        ok "the report is valid against docs/assess-report.schema.json"
    else
        bad "schema: $(echo "$out" | head -5)"
    fi
}

# at_chromium NS HTML OUTDIR: renders the page in headless Chromium inside
# the (empty) namespace NS: a PNG screenshot, no console message from the
# page, and the top gap's text (first <li> of the top gaps: a failed
# check's title, or "none: no check failed") on the page.
at_chromium() {
    local ns=$1 html=$2 d=$3
    local flags=(--headless=new --no-sandbox --disable-gpu --enable-logging=stderr --v=0 --window-size=1200,2000)
    ip netns exec "$ns" timeout 60 chromium "${flags[@]}" --screenshot="$d/shot.png" "file://$html" \
        >"$d/chromium.out" 2>"$d/chromium.log"
    ip netns exec "$ns" timeout 60 chromium "${flags[@]}" --dump-dom "file://$html" >"$d/dom.html" 2>>"$d/chromium.log"
    check "Chromium wrote a PNG screenshot ($(stat -c %s "$d/shot.png" 2>/dev/null || echo 0) bytes)" \
        bash -c "[ \$(stat -c %s '$d/shot.png' 2>/dev/null || echo 0) -gt 10000 ] && head -c 8 '$d/shot.png' | od -An -c | grep -q 'P   N   G'"
    check "no console message from the page" bash -c "! grep 'CONSOLE' '$d/chromium.log' | grep -q 'file://'"
    local top
    top=$(/usr/bin/python3 - "$html" <<'PY'
import html, re, sys
t = open(sys.argv[1]).read()
m = re.search(r'id="top-gaps"><li>(.*?)</li>', t, re.S)
li = m.group(1) if m else ""
b = re.search(r'<b>([^<]*)</b>', li)  # a failed check's title, or the "none" line
print(html.unescape(b.group(1) if b else re.sub(r"<[^>]+>", "", li)))
PY
)
    check "the top gap ($top) is on the rendered page" bash -c "[ -n '$top' ] && grep -q -- '$top' '$d/dom.html'"
}
