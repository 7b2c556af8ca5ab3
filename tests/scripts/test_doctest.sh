#!/usr/bin/env bash
# Doc tests: tests/tools/doctest runs every example of README.md,
# examples/README.md, tests/data/labelled/README.md and docs/*.md (console
# blocks compared with their output, policy blocks through `sipwall policy
# check`, conf blocks through `sipwalld --check-config`, cited paths and
# links) and must pass.  Then the checker itself: a scratch document with
# one mistake of each kind must fail with the file:line of each mistake
# (a process left running is one, and is killed), and a correct one using
# every wildcard, a daemon across blocks and a shell's state across
# commands must pass.
#
# env: SIPWALL, SIPWALLD (the built binaries; their folder is the build
# folder), SW_SRC (repo root).  Loopback: the documents use 127.166.0.0/16
# and 127.224.0.0/14 (docs/README.md); the scratch documents here 127.166 only.
set -u

SIPWALL=${SIPWALL:?set SIPWALL to the built sipwall binary}
SIPWALLD=${SIPWALLD:-$(dirname "$SIPWALL")/sipwalld}
SW_SRC=${SW_SRC:-$(pwd)}
build=$(cd "$(dirname "$SIPWALL")" && pwd)
doctest="$SW_SRC/tests/tools/doctest"
export LC_ALL=C

fails=0
checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok:   $*"; }

[ -x "$SIPWALLD" ] || { echo "FAIL: $SIPWALLD is not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the project's documents ----
checks=$((checks + 1))
if timeout 150 "$doctest" --src "$SW_SRC" --build "$build" >"$tmp/docs.out" 2>&1; then
    pass "$(grep '^doctest:' "$tmp/docs.out")"
    grep '^  opted out:' "$tmp/docs.out"
else
    fail "the documents differ from the program:"
    cat "$tmp/docs.out"
fi

# ---- the checker finds each kind of mistake, with its line ----
bad="$tmp/bad"
mkdir -p "$bad/docs"
cat >"$bad/README.md" <<'DOC'
# bad

```console
$ echo one
two
```

```console
$ false
```

```policy
rule x { category cat1; when method === INVITE; action drop }
```

```conf
mode passive
workers 1
policy builtin:default
hep udp 127.166.0.9:0
```

See `src/no/such/file.c` and [the missing page](docs/nothing.md).

<!-- doctest: skip -->
```console
$ true
```

```
untyped
```

```text
$ sipwall hidden-command
```

A [bad anchor](#no-such-heading).

    sipwall hidden-in-an-indented-block

```console
$ sleep 37.25 &
```
DOC
"$doctest" --src "$bad" --build "$build" README.md >"$tmp/bad.out" 2>&1
rc=$?
checks=$((checks + 1))
if [ "$rc" -eq 1 ]; then pass "a document with mistakes fails (exit 1)"; else fail "bad document: exit $rc"; fi
for want in \
    "README.md:4: \`echo one\`: output differs" \
    "shown (line 5): two" \
    "README.md:9: \`false\` exited 1, the document says 0" \
    "README.md:12: policy block refused" \
    "README.md:13:" \
    "README.md:16: conf block refused" \
    "README.md:20: hep: port '0'" \
    "README.md:23: cites src/no/such/file.c, which does not exist" \
    "README.md:23: links to docs/nothing.md, which does not exist" \
    "README.md:25: doctest skip marker without a reason" \
    "README.md:30: fenced block with info string ''" \
    "README.md:34: a \`\`\`text block holds \`\$ \` commands" \
    "README.md:38: links to README.md#no-such-heading, which has no such heading" \
    "README.md:40: indented code block" \
    "README.md:42: the page leaves a process of this block running"; do
    checks=$((checks + 1))
    if grep -qF -- "$want" "$tmp/bad.out"; then
        pass "reported: $want"
    else
        fail "not reported: $want"
    fi
done
checks=$((checks + 1))
if pgrep -f 'sleep 37[.]25' >/dev/null; then
    fail "the process the bad page left running was not killed"
else
    pass "the process the bad page left running was killed"
fi
[ "$fails" -eq 0 ] || cat "$tmp/bad.out"

# ---- and accepts a correct one: wildcards, exit codes, saved files, a daemon
#      across blocks, cd and variables across commands ----
good="$tmp/good"
mkdir -p "$good"
cat >"$good/README.md" <<'DOC'
# good

## A heading

```console
$ printf 'id 4711 at 12:03:04\nline\nlast 9.97\n'; echo status >&2
id ... at ...
...
last {10±5%}
status
$ sipwall policy check builtin:default p.policy | grep '^rules:'
rules:     ...
$ exit 3
[exit 3]
```

```policy file=p.policy
list extra addresses { 192.0.2.0/24 }
```

```conf file=base.conf
mode passive
workers 1
policy builtin:default
hep udp 127.166.0.9:9061
```

```conf base=base.conf
limits message-timeout=20
```

<!-- doctest: skip shows a command that needs a real network -->
```console
$ ping -c1 192.0.2.1
```

Links: [here](#a-heading), `tests/tools/doctest`.

A daemon started in one block serves the next; the page stops it by PID:

```console
$ sleep 30 & echo $! >sleeper.pid
```

```console
$ kill -0 $(cat sleeper.pid) && echo still running
still running
$ kill $(cat sleeper.pid)
$ export GREETING=hello; cd tests
$ echo "$GREETING from $(basename "$PWD")"
hello from tests
```
DOC
mkdir -p "$good/tests/tools" && cp "$doctest" "$good/tests/tools/doctest"
checks=$((checks + 1))
if "$doctest" --src "$good" --build "$build" README.md >"$tmp/good.out" 2>&1 &&
    grep -q '1 opted out' "$tmp/good.out" &&
    grep -q 'opted out: README.md:33: shows a command that needs a real network' "$tmp/good.out"; then
    pass "a correct document passes; its opt-out is counted with its reason"
else
    fail "correct document:"; cat "$tmp/good.out"
fi
# a measured figure outside its tolerance fails
sed -i 's/last {10±5%}/last {11±5%}/' "$good/README.md"
checks=$((checks + 1))
if ! "$doctest" --src "$good" --build "$build" README.md >"$tmp/tol.out" 2>&1 &&
    grep -qF 'shown (line 9): last {11±5%}' "$tmp/tol.out"; then
    pass "9.97 is not within 5 % of 11"
else
    fail "tolerance not enforced"; cat "$tmp/tol.out"
fi

# stopped from outside (timeout, ctest), the checker still stops what a page started
stopped="$tmp/stopped"
mkdir -p "$stopped"
cat >"$stopped/README.md" <<DOC
# stopped

\`\`\`console
\$ sleep 41.75 & echo \$! >$stopped/a.pid
\`\`\`

\`\`\`console
\$ sleep 50 & echo \$! >$stopped/b.pid; wait
\`\`\`
DOC
timeout 4 "$doctest" --src "$stopped" --build "$build" README.md >"$tmp/stopped.out" 2>&1
rc=$?
checks=$((checks + 1))
sleep 0.5
left=
for f in "$stopped/a.pid" "$stopped/b.pid"; do
    [ -s "$f" ] || { left="$left (no $f)"; continue; }
    # alive and not a zombie (an orphan's reaper may be slow to reap it)
    case $(ps -o stat= -p "$(cat "$f")" 2>/dev/null) in
    "" | Z*) ;;
    *) left="$left $(cat "$f")"; kill "$(cat "$f")" ;;
    esac
done
if [ "$rc" -eq 124 ] && [ -z "$left" ]; then
    pass "a checker stopped by SIGTERM stops the pages' processes"
else
    fail "stopped checker: exit $rc, left running:$left"
fi

echo "$((checks - fails))/$checks checks passed"
[ "$fails" -eq 0 ]
