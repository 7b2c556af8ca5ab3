#!/usr/bin/env bash
# Signed bundles with a running sipwalld (inline, loopback net 212;
# docs/bundles.md).  Trust keys: old (retiring) and new; a rogue key is not
# trusted.  A probe (one OPTIONS with a chosen User-Agent from partner
# alpha) shows which policy is in force: bundle version 1 rejects
# "probe-v1" with 403, version 2 rejects "probe-v2".
#   1. config: `policy` next to `bundle`, and `trust-key` without a bundle,
#      are refused by --check-config;
#   2. start with version 1 signed by the retiring key: in force, one
#      integrity_warning event (retiring key), metric version 1;
#   3. reloads that must be refused, each leaving version 1 in force (the
#      probe proves it), each an integrity_failure event with its reason
#      and a count in sipwall_bundle_refusals_total: a tampered file
#      (hash_mismatch), a tampered manifest (bad_signature), the rogue key
#      (unknown_key), an unsigned bundle (unsigned);
#   4. version 2 signed by the new key: in force; then version 1 again is a
#      rollback, refused; the mark in the state directory says version 2;
#   5. restart with a tampered bundle: sipwalld starts on the recorded last
#      good copy (version 2) and says so in events; without a last good copy
#      it refuses to start;
#   6. as user nobody: the mark written at start is handed to the user and
#      a reload after the privilege drop records the new version.
# Every wait is bounded; every process is stopped by its PID.
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init bundle 212
SIPWALL=${SIPWALL:-${SW_BUILD:-$SW_SRC/build}/sipwall}

B=$WORK/b
mkdir -p "$B/v1/inc" "$B/v1/lists" "$B/v2/inc" "$B/v2/lists" "$WORK/keys" "$WORK/state"
(cd "$WORK/keys" && "$SIPWALL" keygen old >/dev/null && "$SIPWALL" keygen new >/dev/null &&
    "$SIPWALL" keygen rogue >/dev/null) || die "sipwall keygen failed"
check "keygen makes the private key 0600" [ "$(stat -c %a "$WORK/keys/old.key")" = 600 ]

peers_write_policy
for v in 1 2; do
    cp "$POLICY" "$B/v$v/partners.policy"
    cat >"$B/v$v/main.policy" <<EOF
policy "bundle test" version "$v"
include "inc/rules.policy"
EOF
    cat >"$B/v$v/inc/rules.policy" <<EOF
list probes strings file "../lists/probes.txt"
rule cat1.bundle-probe {
    when request and user-agent in probes
    action reject 403
    reason "bundle test probe"
}
EOF
    printf 'probe-v%s\tthe probe of version %s\n' "$v" "$v" >"$B/v$v/lists/probes.txt"
done
sign() { # sign VERSION_DIR VERSION KEY OUT
    "$SIPWALL" bundle sign -C "$B/$1" --key "$WORK/keys/$3.key" --version "$2" --out "$4" \
        --policy partners.policy --policy main.policy inc/rules.policy lists/probes.txt >/dev/null
}
sign v1 1 old "$B/v1.swb" || die "bundle sign failed"
sign v2 2 new "$B/v2.swb" || die "bundle sign failed"
sign v2 2 rogue "$B/v2-rogue.swb" || die "bundle sign failed"
# tampered copies of version 2: one byte of the list file; the manifest's version
python3 - "$B" <<'PY' || die "cannot make the tampered bundles"
import sys
b = sys.argv[1]
d = open(b + "/v2.swb", "rb").read()
open(b + "/v2-file.swb", "wb").write(d.replace(b"probe-v2\t", b"probe-v9\t", 1))
open(b + "/v2-manifest.swb", "wb").write(d.replace(b"\nversion 2\n", b"\nversion 3\n", 1))
# unsigned: the signer and the signature removed, as an unsigned writer makes it
head, rest = d.split(b"\nmanifest ", 1)
n, rest = rest.split(b"\n", 1)
man, rest = rest[: int(n)], rest[int(n):]
files = rest.split(b"\n", 1)[1]
lines = man.split(b"\n")
man2 = b"\n".join(b"signer none" if l.startswith(b"signer ") else l for l in lines)
open(b + "/v2-unsigned.swb", "wb").write(head + b"\nmanifest %d\n" % len(man2) + man2 + b"signature none\n" + files)
PY
check "bundle verify: version 2 is ok" \
    bash -c "'$SIPWALL' bundle verify --trust-key '$WORK/keys/new.pub' '$B/v2.swb' | grep -q '^ok version 2'"
"$SIPWALL" bundle verify --trust-key "$WORK/keys/new.pub" "$B/v2-file.swb" >"$WORK/verify.out"
check "bundle verify: a tampered file is refused (exit 1, hash_mismatch)" \
    bash -c "[ $? = 1 ] && grep -q '^refused hash_mismatch' '$WORK/verify.out'"

LIVE=$WORK/live.swb
cp "$B/v1.swb" "$LIVE"
write_conf() { # write_conf EXTRA...
    {
        echo "mode inline"
        echo "workers 2"
        echo "events $EVENTS"
        echo "log stderr"
        echo "admin $ADMIN"
        echo "secret $WORK/state/secret"
        echo "listen udp $SW_IC:5060 side=interconnect"
        echo "listen udp $SW_CORE_IF:5060 side=core"
        echo "forward udp:$CORE:5070"
        echo "trust-key $WORK/keys/old.pub retiring"
        echo "trust-key $WORK/keys/new.pub"
        local l
        for l in "$@"; do echo "$l"; done
    } >"$CONF"
}

# ---- 1. the config -----------------------------------------------------------------------
write_conf "bundle $LIVE" "policy builtin:default"
"$SIPWALLD" -c "$CONF" --check-config >"$WORK/cc.out" 2>&1
rc=$?
check "--check-config refuses 'policy' next to 'bundle' (exit $rc)" [ "$rc" != 0 ]
check "… naming the reason" grep -q "not with 'bundle'" "$WORK/cc.out"
write_conf "policy builtin:default"
"$SIPWALLD" -c "$CONF" --check-config >"$WORK/cc.out" 2>&1
check "--check-config refuses trust-key without a bundle" grep -q "trust-key needs 'bundle FILE'" "$WORK/cc.out"
write_conf "bundle $LIVE"

# ---- 2. start on version 1 -----------------------------------------------------------------
cat >"$WORK/sip.py" <<'PY'
import socket, sys, time
if sys.argv[1] == "core":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[3], int(sys.argv[2])))
    end = time.time() + 170
    while time.time() < end:
        s.settimeout(1)
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        req = data.decode("utf-8", "replace")
        if req.startswith("SIP/2.0"):
            continue
        keep = [l for l in req.split("\r\n")[1:] if l.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
        s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), peer)
else:
    src, dst, ua = sys.argv[2], sys.argv[3], sys.argv[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 5060))
    cid = "%d%d" % (time.time() * 1e6, hash(ua) & 0xffff)
    msg = ("OPTIONS sip:+447700900123@ims.test SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:+4930100123@alpha.test>;tag=b1\r\n"
           "To: <sip:+447700900123@ims.test>\r\n"
           "Call-ID: %s@bundle\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "User-Agent: %s\r\n"
           "Content-Length: 0\r\n\r\n") % (src, cid, cid, ua)
    s.sendto(msg.encode(), (dst, 5060))
    s.settimeout(1.5)
    try:
        while True:
            data, _ = s.recvfrom(65535)
            line = data.decode("utf-8", "replace").split("\r\n", 1)[0]
            if line.startswith("SIP/2.0 1"):
                continue
            print(line.split(" ")[1])
            break
    except socket.timeout:
        print("none")
PY
peers_bg core timeout 175 python3 "$WORK/sip.py" core 5070 "$CORE"
peers_wait_listen udp "$CORE" 5070 5 || die "the test core does not listen"
peers_start_sipwalld

probe() { timeout 10 python3 "$WORK/sip.py" probe "$ALPHA" "$SW_IC" "$1"; }
metric() { # metric NAME_AND_LABELS: its value, or "none"
    timeout 10 "$SIPWALLD" -c "$CONF" ctl metrics | awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }'
}
reload_to() { # reload_to BUNDLE: the reply of ctl reload
    cp "$1" "$LIVE"
    timeout 60 "$SIPWALLD" -c "$CONF" ctl reload 2>&1
}
in_force() { # in_force VERSION: the probe of that version is rejected, the other forwarded
    local other=$((3 - $1))
    [ "$(probe probe-v$1)" = 403 ] && [ "$(probe probe-v$other)" = 200 ]
}

check "version 1 in force at start: probe-v1 rejected, probe-v2 forwarded" in_force 1
check "one integrity_warning event: the retiring key" \
    [ "$(peers_events event_type=integrity_warning rule=sipwall.bundle.retiring_key)" = 1 ]
check "metric sipwall_bundle_version 1" [ "$(metric sipwall_bundle_version)" = 1 ]
check "the mark records version 1 next to the secret" grep -q '^version 1$' "$WORK/state/bundle.mark"

# ---- 3. refused reloads ----------------------------------------------------------------------
refused() { # refused BUNDLE REASON
    local out
    out=$(reload_to "$1")
    check "reload of $(basename "$1") answers an error ($(echo "$out" | head -c 120))" \
        bash -c "echo '$out' | grep -q '^error: .*($2)'"
    check "… version 1 stays in force" in_force 1
    check "… an integrity_failure event (reason $2)" \
        [ "$(peers_events event_type=integrity_failure rule="^sipwall.bundle.$2\$" action=reject)" = 1 ]
    check "… sipwall_bundle_refusals_total{reason=\"$2\"} 1" \
        [ "$(metric "sipwall_bundle_refusals_total{reason=\"$2\"}")" = 1 ]
}
refused "$B/v2-file.swb" hash_mismatch
refused "$B/v2-manifest.swb" bad_signature
refused "$B/v2-rogue.swb" unknown_key
refused "$B/v2-unsigned.swb" unsigned
check "the mark still says version 1" grep -q '^version 1$' "$WORK/state/bundle.mark"

# ---- 4. the good update, then a rollback ----------------------------------------------------
out=$(reload_to "$B/v2.swb")
check "reload of version 2 (new key) is ok ($(echo "$out" | head -c 80))" bash -c "echo '$out' | grep -q '^ok generation'"
check "version 2 in force: probe-v2 rejected, probe-v1 forwarded" in_force 2
check "metric sipwall_bundle_version 2" [ "$(metric sipwall_bundle_version)" = 2 ]
check "no new retiring-key warning for the new key" \
    [ "$(peers_events event_type=integrity_warning rule=sipwall.bundle.retiring_key)" = 1 ]
out=$(reload_to "$B/v2.swb")
check "the same bundle again is accepted (same version, same hash)" bash -c "echo '$out' | grep -q '^ok generation'"
out=$(reload_to "$B/v1.swb")
check "version 1 after version 2 is a rollback, refused" bash -c "echo '$out' | grep -q '(rollback)'"
check "… version 2 stays in force" in_force 2
check "… an integrity_failure event (rollback)" \
    [ "$(peers_events event_type=integrity_failure rule=sipwall.bundle.rollback)" = 1 ]
check "the mark says version 2" grep -q '^version 2$' "$WORK/state/bundle.mark"

# ---- 5. start with a bad bundle ------------------------------------------------------------
peers_stop_sipwalld_checked
cp "$B/v2-file.swb" "$LIVE"
peers_bg sipwalld "$SIPWALLD" -c "$CONF"
SIPWALLD_PID=$PEERS_PID
for _ in $(seq 100); do peers_stats >/dev/null 2>&1 && break; sleep 0.1; done
check "sipwalld starts on the last good copy despite a tampered bundle" in_force 2
check "… the refusal at start is an event (hash_mismatch)" \
    [ "$(peers_events event_type=integrity_failure rule=sipwall.bundle.hash_mismatch)" = 2 ]
check "… and the fallback is told" [ "$(peers_events event_type=integrity_warning rule=sipwall.bundle.fallback)" = 1 ]
peers_stop_sipwalld_checked

# without a last good copy (a fresh state directory) it refuses to start
mkdir -p "$WORK/state2"
write_conf "bundle $LIVE state=$WORK/state2/bundle.mark"
timeout 30 "$SIPWALLD" -c "$CONF" >"$WORK/refuse.log" 2>&1
rc=$?
check "without a last good copy a tampered bundle stops the start (exit $rc)" \
    bash -c "[ '$rc' != 0 ] && [ '$rc' != 124 ]"
check "… naming the reason" grep -q 'refused (hash_mismatch)' "$WORK/refuse.log"

# ---- 6. as an unprivileged user: reloads after the privilege drop record the mark --------------
chmod 755 "$WORK"
mkdir -p "$WORK/state3"
chown nobody:nogroup "$WORK/state3" && chmod 700 "$WORK/state3"
cp "$B/v1.swb" "$LIVE"
write_conf "bundle $LIVE state=$WORK/state3/bundle.mark" "user nobody"
peers_bg sipwalld "$SIPWALLD" -c "$CONF"
SIPWALLD_PID=$PEERS_PID
for _ in $(seq 100); do peers_stats >/dev/null 2>&1 && break; sleep 0.1; done
check "as user nobody: version 1 in force" in_force 1
check "… the mark written at start belongs to nobody" [ "$(stat -c %U "$WORK/state3/bundle.mark")" = nobody ]
out=$(reload_to "$B/v2.swb")
check "… a reload after the drop is ok ($(echo "$out" | head -c 80))" bash -c "echo '$out' | grep -q '^ok generation'"
check "… version 2 in force" in_force 2
check "… the mark says version 2" grep -q '^version 2$' "$WORK/state3/bundle.mark"
peers_stop_sipwalld_checked

peers_done
