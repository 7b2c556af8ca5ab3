#!/usr/bin/env bash
# The sipwall program: `parse` output format and exit codes, usage errors,
# `check` events (well-formed JSON lines, frame numbers, fields) and summary,
# and, where the shared corpus exists, the exact RFC 4475 verdicts, the
# interconnect messages, and the malformed capture against its labels.
#
# env: SIPWALL (the built binary), SW_SRC (repo root), SW_SHARED_CORPUS
# (the shared corpus; parts that need it are skipped when it is missing).
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SW_SRC=${SW_SRC:-$(pwd)}
SW_SHARED_CORPUS=${SW_SHARED_CORPUS:-$SW_SRC/../shared/corpus}
export LC_ALL=C

fails=0
checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok:   $*"; }
check() { # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
    local what=$1; shift
    checks=$((checks + 1))
    if "$@"; then pass "$what"; else fail "$what"; fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run CMD...: stdout in $tmp/out, stderr in $tmp/err, status in $rc.
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
out_is() { [ "$(cat "$tmp/out")" = "$1" ]; }
err_has() { grep -qi -- "$1" "$tmp/err"; }

if [ ! -x "$SIPWALL" ]; then
    echo "FAIL: $SIPWALL is not an executable"
    exit 1
fi
command -v python3 >/dev/null || { echo "FAIL: python3 needed"; exit 1; }

# ---- messages written for these tests (CRLF line ends) -------------------
msg() { printf '%s\r\n' "$@"; }
msg 'OPTIONS sip:+447700900123@127.0.0.10:5160 SIP/2.0' \
    'Via: SIP/2.0/UDP 127.0.0.22:5170;branch=z9hG4bK776asdhds' \
    'Max-Forwards: 70' \
    'To: <sip:+447700900123@127.0.0.10>' \
    'From: <sip:+33639983485@127.0.0.22>;tag=1928301774' \
    'Call-ID: a84b4c76e66710@127.0.0.22' \
    'CSeq: 63104 OPTIONS' \
    'Contact: <sip:+33639983485@127.0.0.22:5170>' \
    'Content-Length: 0' '' >"$tmp/valid.sip"
msg 'SIP/2.0 200 OK' \
    'Via: SIP/2.0/UDP 127.0.0.22:5170;branch=z9hG4bK776asdhds' \
    'To: <sip:+447700900123@127.0.0.10>;tag=37GkEhwl6' \
    'From: <sip:+33639983485@127.0.0.22>;tag=1928301774' \
    'Call-ID: a84b4c76e66710@127.0.0.22' \
    'CSeq: 63104 OPTIONS' \
    'Content-Length: 0' '' >"$tmp/response.sip"
sed 's/^Content-Length: 0/Content-Length: -999/' "$tmp/valid.sip" >"$tmp/negcl.sip"
# A header line without a colon.
sed 's/^Max-Forwards: 70/Foobar roobar/' "$tmp/valid.sip" >"$tmp/nocolon.sip"
# No Content-Length: fine in a datagram, not on a stream.
grep -av '^Content-Length' "$tmp/valid.sip" >"$tmp/nocl.sip"
# Trailing octets past Content-Length in a datagram are ignored (RFC 3261 18.3).
{ cat "$tmp/valid.sip"; printf 'INVITE sip:x@y SIP/2.0\r\n'; } >"$tmp/trailing.sip"
# Two messages back to back, a CRLF keep-alive between them (a stream).
{ cat "$tmp/valid.sip"; printf '\r\n\r\n'; cat "$tmp/response.sip"; } >"$tmp/two.stream"
# Hostile bytes: NUL in the method, invalid UTF-8, bare CR.
{ printf 'INV\0ITE sip:a@b SIP/2.0\r\nVia: \xff\xfe\r\rX\r\n\r\n'; } >"$tmp/nul.sip"
: >"$tmp/empty.sip"

# ---- global usage ----------------------------------------------------------
run "$SIPWALL" --version
check "--version exits 0 and names the version" \
    eval '[ $rc = 0 ] && grep -Eq "^sipwall [0-9]+\.[0-9]+\.[0-9]+" "$tmp/out"'
run "$SIPWALL" --help
check "--help exits 0 and lists parse and check" \
    eval '[ $rc = 0 ] && grep -q "parse" "$tmp/out" && grep -q "check" "$tmp/out"'
run "$SIPWALL" help parse
check "help parse exits 0 and shows its usage" \
    eval '[ $rc = 0 ] && grep -q "usage: sipwall parse" "$tmp/out"'
run "$SIPWALL" help check
check "help check exits 0 and shows its usage" \
    eval '[ $rc = 0 ] && grep -q "usage: sipwall check" "$tmp/out"'
run "$SIPWALL" parse --help
check "parse --help exits 0" eval '[ $rc = 0 ] && grep -q "usage: sipwall parse" "$tmp/out"'
for args in "" "frobnicate" "--frobnicate" "help frobnicate" "parse" "parse --frobnicate $tmp/valid.sip" \
    "parse --limits" "parse --limits max-size=abc $tmp/valid.sip" \
    "parse --limits max-apples=3 $tmp/valid.sip" "parse --limits max-size=0 $tmp/valid.sip" \
    "parse --stream=1 $tmp/valid.sip" "check" "check --events" "check --frobnicate x.pcap"; do
    # shellcheck disable=SC2086
    run "$SIPWALL" $args
    check "usage error exits 2 with a message: sipwall $args" \
        eval '[ $rc = 2 ] && [ -s "$tmp/err" ] && [ ! -s "$tmp/out" ]'
done
# --policy with a file that does not exist, --labels likewise: exit 2 naming it
for opt in --policy --labels; do
    run "$SIPWALL" check $opt "$tmp/no-such-file" "$tmp/valid.sip"
    check "check $opt with a missing file: exit 2 naming it" \
        eval '[ $rc = 2 ] && err_has "no-such-file"'
done
run "$SIPWALL" check --report "$tmp/no-such-dir/r.html" "$SW_SRC/examples/demo.pcap"
check "check --report into a missing directory: exit 2 naming it" \
    eval '[ $rc = 2 ] && err_has "no-such-dir"'

# ---- sipwall parse -----------------------------------------------------------
T=$'\t'
run "$SIPWALL" parse "$tmp/valid.sip"
check "parse: a valid request prints FILE<TAB>valid, exit 0" \
    eval '[ $rc = 0 ] && out_is "$tmp/valid.sip${T}valid"'
run "$SIPWALL" parse "$tmp/valid.sip" "$tmp/response.sip" "$tmp/trailing.sip" "$tmp/nocl.sip"
check "parse: request, response, trailing octets, no Content-Length (datagram) all valid" \
    eval '[ $rc = 0 ] && [ "$(grep -c "${T}valid\$" "$tmp/out")" = 4 ]'

run "$SIPWALL" parse "$tmp/valid.sip" "$tmp/negcl.sip"
check "parse: one invalid file makes exit 1" eval '[ $rc = 1 ]'
check "parse: one line per file, in order" \
    eval '[ "$(wc -l <"$tmp/out")" = 2 ] && [ "$(head -n1 "$tmp/out")" = "$tmp/valid.sip${T}valid" ]'
line=$(sed -n 2p "$tmp/out")
check "parse: invalid line is FILE<TAB>invalid<TAB>offset N: reason" \
    eval '[[ "$line" =~ ^"$tmp/negcl.sip"$T"invalid"$T"offset "[0-9]+": ".+$ ]]'
check "parse: the negative Content-Length reason names Content-Length" \
    eval 'echo "$line" | grep -qi "content-length"'
size=$(stat -c %s "$tmp/negcl.sip")
off=$(echo "$line" | sed -n 's/.*offset \([0-9]*\):.*/\1/p')
check "parse: the offset ($off) lies inside the file ($size bytes)" eval '[ -n "$off" ] && [ "$off" -le "$size" ]'

run "$SIPWALL" parse "$tmp/nocolon.sip" "$tmp/nul.sip" "$tmp/empty.sip"
check "parse: header without colon, NUL/invalid bytes, empty file: 3 invalid lines, exit 1" \
    eval '[ $rc = 1 ] && [ "$(grep -c "${T}invalid${T}offset [0-9]*: ." "$tmp/out")" = 3 ] && [ "$(wc -l <"$tmp/out")" = 3 ]'

run "$SIPWALL" parse "$tmp/valid.sip" "$tmp/does-not-exist.sip"
check "parse: unreadable file prints FILE<TAB>error<TAB>strerror, exit 2" \
    eval '[ $rc = 2 ] && grep -qx "$tmp/does-not-exist.sip${T}error${T}No such file or directory" "$tmp/out" && grep -qx "$tmp/valid.sip${T}valid" "$tmp/out"'
run "$SIPWALL" parse "$tmp"
check "parse: a directory is an error line, exit 2" eval '[ $rc = 2 ] && grep -q "^$tmp${T}error${T}" "$tmp/out"'

run "$SIPWALL" parse --stream "$tmp/valid.sip" "$tmp/two.stream"
check "parse --stream: one message and two back to back are valid" eval '[ $rc = 0 ]'
run "$SIPWALL" parse --stream "$tmp/nocl.sip"
check "parse --stream: no Content-Length is invalid on a stream" \
    eval '[ $rc = 1 ] && grep -q "${T}invalid${T}offset [0-9]*: " "$tmp/out"'
head -c 200 "$tmp/two.stream" >"$tmp/cut.stream"
run "$SIPWALL" parse --stream "$tmp/cut.stream"
check "parse --stream: a message cut short is invalid" eval '[ $rc = 1 ]'

run "$SIPWALL" parse --limits max-headers=3 "$tmp/valid.sip"
check "parse --limits max-headers=3: 8 headers are too many" eval '[ $rc = 1 ]'
run "$SIPWALL" parse --limits max-size=100 "$tmp/valid.sip"
check "parse --limits max-size=100: the message is too large" eval '[ $rc = 1 ]'
run "$SIPWALL" parse --limits max-size=65535,max-headers=64,max-header-len=1024,max-via=4 "$tmp/valid.sip"
check "parse --limits with every limit, generous: valid" eval '[ $rc = 0 ]'

# ---- sipwall check -------------------------------------------------------------
# validate_events FILE [MULTI]: every line a JSON object with the documented
# fields, a known event_type, a 1-based frame, and for cat1.malformed the
# parser's offset and the D4 action; MULTI=1: "file" present.
validate_events() {
    python3 - "$1" "${2:-0}" <<'EOF'
import json, re, sys
path, multi = sys.argv[1], sys.argv[2] == "1"
ts_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
addr_re = re.compile(r"^(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:.]+\]):\d+$")
VOCAB = {"sip_malformed", "sip_scan", "sip_bruteforce", "sip_flood", "irsf_call", "wangiri_cli",
         "cli_spoofing", "pai_injection", "reg_hijack", "location_probe", "privacy_leak",
         "policy_violation"}
bad = 0
n = 0
with open(path, "rb") as f:
    for i, raw in enumerate(f, 1):
        n += 1
        try:
            ev = json.loads(raw.decode("utf-8"))
        except Exception as e:
            print("line %d: not JSON (%s): %r" % (i, e, raw[:200])); bad += 1; continue
        probs = []
        if not isinstance(ev, dict): probs.append("not an object")
        else:
            for k in ("ts", "event_type", "category", "rule", "action", "reason", "src", "dst",
                      "transport", "confidence", "frame"):
                if k not in ev: probs.append("missing " + k)
            if not ts_re.match(str(ev.get("ts", ""))): probs.append("bad ts %r" % ev.get("ts"))
            if ev.get("event_type") not in VOCAB: probs.append("event_type %r" % ev.get("event_type"))
            if ev.get("category") not in ("cat0", "cat1", "cat2", "cat3", "behavioural"): probs.append("category %r" % ev.get("category"))
            # sipwall check enforces nothing: every event says so
            if ev.get("mode") != "passive": probs.append("mode %r" % ev.get("mode"))
            if not re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-7", str(ev.get("event_id", ""))): probs.append("event_id %r" % ev.get("event_id"))
            if not re.match(r"^[0-9a-f]{16}$", str(ev.get("incident_id", ""))): probs.append("incident_id %r" % ev.get("incident_id"))
            if not str(ev.get("reason", "")).strip(): probs.append("empty reason")
            if not isinstance(ev.get("frame"), int) or ev["frame"] < 1: probs.append("frame %r" % ev.get("frame"))
            for k in ("src", "dst"):
                if not addr_re.match(str(ev.get(k, ""))): probs.append("bad %s %r" % (k, ev.get(k)))
            if "method" in ev and "status" in ev: probs.append("both method and status")
            if ev.get("rule") == "cat1.malformed" and "suppressed" not in ev.get("evidence", {}):
                # one malformed message: the parser's offset and reason, and the D4 action
                if ev.get("event_type") != "sip_malformed" or ev.get("category") != "cat1":
                    probs.append("malformed rule with %r/%r" % (ev.get("event_type"), ev.get("category")))
                if not re.match(r"^offset \d+: .", str(ev.get("reason", ""))): probs.append("reason %r" % ev.get("reason"))
                if ev.get("action") == "reject":
                    if ev.get("action_status") not in (400, 505) or "method" not in ev:
                        probs.append("reject without a request or a 400/505")
                elif ev.get("action") != "drop" or "action_status" in ev:
                    probs.append("action %r" % ev.get("action"))
            if multi and not ev.get("file"): probs.append("no file")
            if not multi and "file" in ev: probs.append("file with one capture")
            c = ev.get("confidence")
            if not isinstance(c, int) or not 0 <= c <= 100: probs.append("confidence %r" % c)
        if probs:
            bad += 1
            print("line %d: %s" % (i, "; ".join(probs)))
print("%d events, %d bad" % (n, bad))
sys.exit(1 if bad else 0)
EOF
}

shopt -s nullglob
captures=("$SW_SRC"/tests/data/pcap/*.pcap "$SW_SRC"/tests/data/pcap/*.pcapng)
[ -f "$SW_SRC/examples/demo.pcap" ] && captures+=("$SW_SRC/examples/demo.pcap")
if [ ${#captures[@]} = 0 ]; then
    echo "skip: no tests/data/pcap/*.pcap nor examples/demo.pcap yet"
fi
for cap in "${captures[@]}"; do
    name=${cap#"$SW_SRC"/}
    run "$SIPWALL" check --events "$tmp/ev.jsonl" "$cap"
    if [ $rc = 3 ]; then
        check "check $name: damaged capture: warning naming the frame, exit 3" \
            eval 'err_has "warning" && err_has "frame"'
    else
        check "check $name: exit 0" eval '[ $rc = 0 ]'
    fi
    check "check $name: summary on stdout" eval 'grep -q "SIP messages" "$tmp/out"'
    check "check $name: events are well-formed JSON lines with frames" \
        validate_events "$tmp/ev.jsonl"
done
if [ ${#captures[@]} -ge 2 ]; then
    run "$SIPWALL" check --events "$tmp/ev.jsonl" "${captures[0]}" "${captures[1]}"
    check "check with two captures: events carry \"file\"" validate_events "$tmp/ev.jsonl" 1
fi

run "$SIPWALL" check "$tmp/does-not-exist.pcap"
check "check: a capture that cannot be opened: exit 2 and a message" \
    eval '[ $rc = 2 ] && err_has "does-not-exist.pcap"'
run "$SIPWALL" check "$tmp/valid.sip"
check "check: a file that is not a capture: exit 2" eval '[ $rc = 2 ] && [ -s "$tmp/err" ]'
run "$SIPWALL" check --events "$tmp/no-such-dir/ev.jsonl" "$tmp/valid.sip"
check "check: events file that cannot be created: exit 2" eval '[ $rc = 2 ] && err_has "no-such-dir"'

# ---- the shared corpus -----------------------------------------------------------
rfc=$SW_SHARED_CORPUS/rfc4475
if [ -f "$rfc/manifest.tsv" ]; then
    run "$SIPWALL" parse "$rfc"/*.dat
    check "RFC 4475: parse exits 1 (some invalid), never 2" eval '[ $rc = 1 ]'
    if ! python3 - "$rfc" "$tmp/out" <<'EOF'; then fail "RFC 4475: sipwall's verdicts differ from manifest.tsv (above)"; else pass "RFC 4475: invalid exactly §3.1.2, mcl01, test.dat, insuf and multi01; valid all others"; fi
import os, sys
rfc, out = sys.argv[1], sys.argv[2]
want_invalid, files = set(), set()
with open(os.path.join(rfc, "manifest.tsv")) as f:
    cols = f.readline().rstrip("\n").split("\t")
    vi = cols.index("verdict")
    for line in f:
        r = line.rstrip("\n").split("\t")
        if len(r) <= vi:
            continue
        files.add(r[0])
        if r[vi] == "invalid":
            want_invalid.add(r[0])
# The issue's rule: §3.1.2, mcl01 and test.dat (manifest "invalid"), plus
# insuf (missing Call-ID/From/To) and multi01 (repeated single-value
# headers), which a proxy must refuse before any policy runs.
want_invalid |= {"insuf.dat", "multi01.dat"}
got = {}
with open(out, encoding="utf-8", errors="replace") as f:
    for line in f:
        r = line.rstrip("\n").split("\t")
        got[os.path.basename(r[0])] = r[1:]
dats = {n for n in os.listdir(rfc) if n.endswith(".dat")}
bad = 0
for n in sorted(dats - files):
    print("  %s: not in manifest.tsv (expected valid)" % n)
for n in sorted(dats):
    g = got.get(n)
    if g is None:
        print("  %s: no output line" % n); bad += 1; continue
    if g[0] not in ("valid", "invalid"):
        print("  %s: %s" % (n, "\t".join(g))); bad += 1; continue
    want = "invalid" if n in want_invalid else "valid"
    if g[0] != want:
        bad += 1
        print("  %s: sipwall says %s, manifest says %s%s" % (n, g[0], want,
              (" (" + g[1] + ")") if len(g) > 1 else ""))
inv = sum(1 for n in dats if got.get(n, [""])[0] == "invalid")
print("  %d files, %d invalid by sipwall, %d by the manifest, %d differences" %
      (len(dats), inv, len(want_invalid & dats), bad))
sys.exit(1 if bad else 0)
EOF
    checks=$((checks + 1))
else
    echo "skip: no $rfc/manifest.tsv"
fi

msgs=("$SW_SHARED_CORPUS"/messages/*.sip)
if [ ${#msgs[@]} -gt 0 ]; then
    run "$SIPWALL" parse "${msgs[@]}"
    grep -v "${T}valid\$" "$tmp/out" | sed 's/^/  /'
    check "messages/: all ${#msgs[@]} interconnect messages are valid" \
        eval '[ $rc = 0 ] && [ "$(grep -c "${T}valid\$" "$tmp/out")" = ${#msgs[@]} ]'
else
    echo "skip: no $SW_SHARED_CORPUS/messages"
fi

pcapdir=$SW_SHARED_CORPUS/pcap
if [ -f "$pcapdir/a11_malformed.pcap" ]; then
    run "$SIPWALL" check --events "$tmp/a11.jsonl" "$pcapdir/a11_malformed.pcap"
    check "a11_malformed: check exits 0" eval '[ $rc = 0 ]'
    sed 's/^/  | /' "$tmp/out"
    check "a11_malformed: events are well-formed" validate_events "$tmp/a11.jsonl"
    if ! python3 - "$pcapdir" "$tmp/a11.jsonl" <<'EOF'; then fail "a11_malformed: events against the labels (above)"; else pass "a11_malformed: events only on the malformed episode, at least as many as SIP-looking malformed datagrams"; fi
import json, os, re, struct, sys
pdir, evpath = sys.argv[1], sys.argv[2]
# The malformed episode's source(s), from the labels.
srcs = set()
with open(os.path.join(pdir, "a11_malformed.labels.tsv")) as f:
    cols = f.readline().rstrip("\n").split("\t")
    for line in f:
        r = dict(zip(cols, line.rstrip("\n").split("\t")))
        if r.get("kind") == "malformed":
            srcs.add(r["src"])
# Its UDP datagrams, straight from the capture (classic pcap, Ethernet, IPv4).
data = open(os.path.join(pdir, "a11_malformed.pcap"), "rb").read()
magic = data[:4]
endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
linktype = struct.unpack(endian + "I", data[20:24])[0]
off, frame, sent = 24, 0, {}
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    frame += 1
    l2 = 14 if linktype == 1 else 16 if linktype == 113 else 0
    if linktype == 1 and pkt[12:14] != b"\x08\x00":
        continue
    ip = pkt[l2:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    udp = ip[ihl:]
    src = "%d.%d.%d.%d:%d" % (*ip[12:16], struct.unpack(">H", udp[0:2])[0])
    if src in srcs:
        sent.setdefault(bytes(udp[8:]), frame)
# "Looks like SIP": a status line, or a method token then whitespace on a
# first line that names SIP/ (as a SIP port would see it; not the parser).
def looks_like_sip(p):
    first = p.split(b"\n", 1)[0]
    return bool(re.match(rb"SIP/\d", first)) or bool(
        re.match(rb"[A-Za-z][A-Za-z0-9.!%*_+`'~-]*[ \t]", first) and b"SIP/" in first)
sipish = {p: fr for p, fr in sent.items() if looks_like_sip(p)}
# Which episode every frame belongs to.
frame_kind = {}
with open(os.path.join(pdir, "a11_malformed.frames.tsv")) as f:
    cols = f.readline().rstrip("\n").split("\t")
    for line in f:
        r = dict(zip(cols, line.rstrip("\n").split("\t")))
        frame_kind[int(r["frame"])] = (r.get("kind"), r.get("label"))
# only the per-message malformed decisions (not zone admission or
# summaries): cat1.malformed, and D4's trip, which is the event of the
# message that crossed its threshold (docs/events.md "Which event")
events = [e for e in (json.loads(l) for l in open(evpath, encoding="utf-8"))
          if e.get("rule") in ("cat1.malformed", "malformed.repeat")
          and "suppressed" not in e.get("evidence", {})]
bad = echoes = 0
# An event must be on the malformed episode: a datagram from its source, or
# the edge's answer to it (kamailio copies the broken From/To/Via/line ends
# of the request into its 400/408, which are then malformed too).  Nothing
# on the legitimate episodes.
for e in events:
    kind, label = frame_kind.get(e.get("frame"), (None, None))
    if e.get("src") in srcs and kind == "malformed":
        continue
    if e.get("dst") in srcs and kind == "malformed" and "status" in e:
        echoes += 1
        continue
    bad += 1
    print("  event outside the malformed episode: frame %s (%s) src %s dst %s: %s" %
          (e.get("frame"), label, e.get("src"), e.get("dst"), e.get("reason")))
if echoes:
    print("  %d events are the edge's responses echoing a malformed request back to its source" % echoes)
ev_frames = {e.get("frame") for e in events}
missed = sorted(fr for fr in sipish.values() if fr not in ev_frames)
for fr in missed:
    p = [k for k, v in sipish.items() if v == fr][0]
    print("  note: no event for SIP-looking malformed datagram in frame %d: %r" % (fr, p[:70]))
from_src = sum(1 for e in events if e.get("src") in srcs)
print("  malformed source(s) %s: %d distinct datagrams, %d look like SIP; %d events (%d from the source)" %
      (",".join(sorted(srcs)), len(sent), len(sipish), len(events), from_src))
# Counted on the source's own datagrams, so that the edge's echoes cannot
# make up for missed requests.  D4 blocks a source after 5 malformed
# messages in 60 s, so later ones are dropped by the block (one summary).
if from_src < min(5, len(sipish)):
    bad += 1
    print("  fewer events from the source (%d) than D4's threshold (5)" % from_src)
sys.exit(1 if bad or not srcs or not sipish else 0)
EOF
    checks=$((checks + 1))

    # Events to stdout: only JSON lines there, the summary on stderr.  Two
    # runs give the same events but for their event_id (unique per run).
    same_events() { cmp -s <(sed -E 's/"event_id":"[^"]*",//' "$1") <(sed -E 's/"event_id":"[^"]*",//' "$2"); }
    run "$SIPWALL" check --events - "$pcapdir/a11_malformed.pcap"
    cp "$tmp/out" "$tmp/stdout.jsonl"
    check "check --events -: stdout holds only the events, the summary goes to stderr" \
        eval '[ $rc = 0 ] && validate_events "$tmp/stdout.jsonl" >/dev/null && grep -q "SIP messages" "$tmp/err" && same_events "$tmp/stdout.jsonl" "$tmp/a11.jsonl"'
    run "$SIPWALL" check --quiet --events "$tmp/q.jsonl" "$pcapdir/a11_malformed.pcap"
    check "check --quiet: no summary, same events" \
        eval '[ $rc = 0 ] && [ ! -s "$tmp/out" ] && same_events "$tmp/q.jsonl" "$tmp/a11.jsonl"'

    # Two captures: frame numbers per file, "file" on every event.
    if [ -f "$pcapdir/a01_legit_baseline.pcap" ]; then
        run "$SIPWALL" check --events "$tmp/two.jsonl" "$pcapdir/a01_legit_baseline.pcap" "$pcapdir/a11_malformed.pcap"
        check "check with two shared captures: exit 0, events carry file, the malformed source gets the same events as with a11 alone" \
            eval '[ $rc = 0 ] && validate_events "$tmp/two.jsonl" 1 >/dev/null && [ "$(grep a11_malformed.pcap "$tmp/two.jsonl" | grep "\"src\":\"127.0.0.79" | grep -c "\"rule\":\"cat1.malformed\"")" = "$(grep "\"src\":\"127.0.0.79" "$tmp/a11.jsonl" | grep -c "\"rule\":\"cat1.malformed\"")" ]'
    fi

    # A capture cut in the middle of a frame: warning naming the frame,
    # the messages before it still screened, exit 3.
    size=$(stat -c %s "$pcapdir/a11_malformed.pcap")
    head -c $((size * 2 / 3 + 7)) "$pcapdir/a11_malformed.pcap" >"$tmp/cut.pcap"
    run "$SIPWALL" check --events "$tmp/cut.jsonl" "$tmp/cut.pcap"
    check "check on a truncated capture: exit 3, a warning naming the frame" \
        eval '[ $rc = 3 ] && err_has "warning" && err_has "frame"'
    check "check on a truncated capture: events before the damage are kept" \
        eval 'validate_events "$tmp/cut.jsonl" >/dev/null && [ -s "$tmp/cut.jsonl" ] && [ "$(head -n 3 "$tmp/cut.jsonl" | sed -E "s/\"event_id\":\"[^\"]*\",//")" = "$(head -n 3 "$tmp/a11.jsonl" | sed -E "s/\"event_id\":\"[^\"]*\",//")" ]'
else
    echo "skip: no $pcapdir/a11_malformed.pcap"
fi

echo "test_cli: $checks checks, $fails failed"
[ $fails = 0 ]
