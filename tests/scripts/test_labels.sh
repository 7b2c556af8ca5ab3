#!/usr/bin/env bash
# Proof on labelled traffic: `sipwall check --labels` over every labelled
# capture the project ships (tests/data/labelled, made by
# scripts/make-labelled-captures) and, where it exists, over the shared
# corpus: every labelled attack detected with the right event_type, no event
# against a legitimate source (exit status 0 of --labels means exactly that).
# Also: the HTML report, the default policy and the example partner file
# pass `sipwall policy check`, and the label files re-derive from the pcaps.
#
# env: SIPWALL (the built binary), SW_SRC (repo root), SW_SHARED_CORPUS.
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SW_SRC=${SW_SRC:-$(pwd)}
SW_SHARED_CORPUS=${SW_SHARED_CORPUS:-$SW_SRC/../shared/corpus}
export LC_ALL=C

fails=0
checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok:   $*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# labelled DIR POLICY...: runs --labels on every DIR/*.labels.tsv capture
labelled() {
    local dir=$1; shift
    local lab cap name
    for lab in "$dir"/*.labels.tsv; do
        [ -e "$lab" ] || continue
        name=$(basename "$lab" .labels.tsv)
        cap="$dir/$name.pcap"
        checks=$((checks + 1))
        if "$SIPWALL" check "$@" --labels "$lab" --events "$tmp/$name.jsonl" "$cap" >"$tmp/$name.out" 2>&1; then
            pass "$name: $(grep '^summary' "$tmp/$name.out")"
        else
            fail "$name (exit $?):"
            sed -n '/== ground truth/,$p' "$tmp/$name.out" | head -n 60
        fi
    done
}

# ---- the project's own captures ----
own="$SW_SRC/tests/data/labelled"
"$SW_SRC/scripts/partners-to-policy" --ports drop "$own/partners.tsv" --highrisk "$own/highrisk.tsv" \
    --location-feed "$own/subscribers.tsv" --country-code 44 >"$tmp/lab.policy"
labelled "$own" --policy builtin:default --policy "$tmp/lab.policy"
n_own=$(ls "$own"/*.labels.tsv 2>/dev/null | wc -l)
checks=$((checks + 1))
if [ "$n_own" -ge 14 ]; then pass "$n_own own labelled captures"; else fail "only $n_own own labelled captures"; fi

checks=$((checks + 1))
if "$SW_SRC/scripts/make-labelled-captures" --check >"$tmp/regen.out" 2>&1; then
    pass "labels and frames re-derive from the pcaps"
else
    fail "make-labelled-captures --check"; tail -n 20 "$tmp/regen.out"
fi

# ---- scanning by structure, not only by signature ----
# With the User-Agent/From signatures switched off, the sweep and the
# enumeration are still caught by the scan detector (distinct targets,
# distinct users with failing answers).
printf 'rule cat1.scanner-signature { category cat1; event sip_scan; when request and user-agent == "no-such-agent-ever"; action drop }\n' >"$tmp/nosig.policy"
for pair in b02_scan_udp:svmap-sweep:scan.sweep b03_enum:svwar-enum:scan.enumeration; do
    IFS=: read -r name episode rule <<<"$pair"
    checks=$((checks + 1))
    "$SIPWALL" check --policy builtin:default --policy "$tmp/lab.policy" --policy "$tmp/nosig.policy" \
        --labels "$own/$name.labels.tsv" "$own/$name.pcap" >"$tmp/ns.out" 2>&1
    if grep -E "^episode $episode .*rule=$rule DETECTED" "$tmp/ns.out" >/dev/null; then
        pass "$name: $episode detected by $rule without signatures"
    else
        fail "$name: $episode not detected by $rule without signatures"; grep -E '^episode' "$tmp/ns.out"
    fi
done

# ---- brute force that is slow and spread, or that succeeds ----
# b13: every address of the /24 stays below the per-source thresholds, so
# only the network aggregate sees the spraying; b14: three wrong guesses
# then the right one, far below the guessing threshold: only the success
# after failures shows it.
for pair in b13_slow_spray:slow-spray:bruteforce.network b14_bruteforce_success:lucky-crack:bruteforce.compromised; do
    IFS=: read -r name episode rule <<<"$pair"
    checks=$((checks + 1))
    "$SIPWALL" check --policy builtin:default --policy "$tmp/lab.policy" \
        --labels "$own/$name.labels.tsv" --events "$tmp/bf.jsonl" "$own/$name.pcap" >"$tmp/bf.out" 2>&1
    if grep -E "^episode $episode .*rule=$rule DETECTED" "$tmp/bf.out" >/dev/null &&
        ! grep -E '"rule":"bruteforce\.(guessing|spraying)"' "$tmp/bf.jsonl" >/dev/null; then
        pass "$name: $episode detected by $rule alone"
    else
        fail "$name: $episode not detected by $rule alone"; grep -E '^episode' "$tmp/bf.out"
    fi
done

# ---- the HTML report ----
first=$(ls "$own"/*.pcap | head -n 1)
checks=$((checks + 1))
if "$SIPWALL" check --policy builtin:default --policy "$tmp/lab.policy" --report "$tmp/r.html" \
        "$own"/*.pcap >"$tmp/report.out" 2>&1 &&
    grep -q '<svg' "$tmp/r.html" && grep -q 'sip_scan' "$tmp/r.html" && ! grep -qi '<script' "$tmp/r.html"; then
    pass "report: $(wc -c <"$tmp/r.html") bytes, SVG timeline, events explained, no script"
else
    fail "report"; tail -n 5 "$tmp/report.out"
fi

# ---- policies shipped in etc/ ----
for p in builtin:default "$SW_SRC/etc/partners.example.policy"; do
    checks=$((checks + 1))
    if "$SIPWALL" policy check builtin:default "$p" >"$tmp/pc.out" 2>&1; then
        pass "policy check $p"
    else
        fail "policy check $p"; cat "$tmp/pc.out"
    fi
done
checks=$((checks + 1))
printf 'rule x {\n  category cat1\n  when method === INVITE\n}\n' >"$tmp/bad.policy"
if "$SIPWALL" policy check "$tmp/bad.policy" >"$tmp/pc.out" 2>&1; then
    fail "a broken policy passed"
elif grep -q 'bad.policy:3:' "$tmp/pc.out"; then
    pass "broken policy refused with its line number"
else
    fail "no line number for the broken policy"; cat "$tmp/pc.out"
fi

# ---- the shared corpus (outside check; absent in a user's clone) ----
if [ -d "$SW_SHARED_CORPUS/pcap" ]; then
    "$SW_SRC/scripts/partners-to-policy" --ports drop "$SW_SHARED_CORPUS/pcap/partners.tsv" \
        --highrisk "$SW_SHARED_CORPUS/pcap/highrisk_prefixes.tsv" >"$tmp/shared.policy"
    labelled "$SW_SHARED_CORPUS/pcap" --policy builtin:default --policy "$tmp/shared.policy"
else
    echo "skip: $SW_SHARED_CORPUS/pcap not present (outside check only)"
fi

echo "$((checks - fails))/$checks checks passed"
[ "$fails" -eq 0 ]
