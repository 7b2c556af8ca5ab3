#!/usr/bin/env bash
# Safe rollout with a running sipwalld (inline, 2 workers, loopback net 163):
#   1. a probe with a scanner's User-Agent from a lab zone is rejected (403)
#      and its source blocked: its next, harmless OPTIONS gets no answer;
#   2. an overlay file reloaded with `rule cat1.rollout-probe { mode monitor }`
#      changes only the mode: a second source's probe is forwarded (200),
#      the event says mode monitor / reject 403, and no block is set; the
#      first source stays blocked (a rule in monitor mode lifts nothing);
#   3. a policy-wide `mode monitor`: the block in force drops nothing (the
#      first source's OPTIONS is answered); back to enforce, it drops again;
#   4. the first source added to the allowlist and reloaded: the block is
#      lifted, one event says so (rule policy.allowlist, offender, list),
#      ctl stats counts no block in force, and its OPTIONS are answered.
# Every wait is bounded; every process is stopped by its PID.
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init rollout 163

LAB1=127.163.5.1
LAB2=127.163.5.2
ROLLOUT=$WORK/rollout.policy
PEERS_POLICY_EXTRA="zone lab { address 127.163.5.0/24 }
rule cat1.rollout-probe {
    when request and user-agent contains \"rollout-probe\"
    action reject 403
    block 10m
    reason \"rollout test probe\"
}"
peers_write_policy
echo "# overlays, written by the test" >"$ROLLOUT"
peers_write_conf "policy $ROLLOUT"

# sip.py core PORT IP | probe SRC DST UA: a core that answers 200 to every
# request it is given; a probe that sends one OPTIONS from SRC:5060 and
# prints the status of the answer, or "none" after 1.5 s.
cat >"$WORK/sip.py" <<'PY'
import socket, sys, time
def answer(req, code, text):
    lines = req.split("\r\n")
    keep = [l for l in lines[1:] if l.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
    return ("SIP/2.0 %d %s\r\n" % (code, text) + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode()
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
        if not req.startswith("SIP/2.0"):
            s.sendto(answer(req, 200, "OK"), peer)
else:
    src, dst, ua = sys.argv[2], sys.argv[3], sys.argv[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 5060))
    cid = "%d.%f" % (hash(ua) & 0xffff, time.time())
    msg = ("OPTIONS sip:+447700900123@ims.test SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:lab@%s>;tag=r1\r\n"
           "To: <sip:+447700900123@ims.test>\r\n"
           "Call-ID: %s@rollout\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "User-Agent: %s\r\n"
           "Content-Length: 0\r\n\r\n") % (src, cid.replace(".", ""), src, cid, ua)
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

probe() { timeout 10 python3 "$WORK/sip.py" probe "$1" "$SW_IC" "$2"; }
reload() {
    local out
    out=$(timeout 60 "$SIPWALLD" -c "$CONF" ctl reload 2>&1)
    check "reload: $1 ($(echo "$out" | head -c 100))" bash -c "echo '$out' | grep -q '^ok generation'"
}
active_blocks() {
    peers_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["active"])'
}

# ---- 1. enforce: reject and block ----------------------------------------------------------
check "a lab source's plain OPTIONS is forwarded (200)" [ "$(probe $LAB1 lab-phone)" = 200 ]
check "the probe is rejected with 403" [ "$(probe $LAB1 rollout-probe/1.0)" = 403 ]
check "the probe's event: enforce, reject, a block" \
    [ "$(peers_events rule=cat1.rollout-probe mode=enforce action="reject|403" src=$LAB1 expires=.)" -ge 1 ]
check "its source is blocked: the next OPTIONS gets no answer" [ "$(probe $LAB1 lab-phone)" = none ]
check "one block in force" [ "$(active_blocks)" = 1 ]

# ---- 2. an overlay that changes only the mode ---------------------------------------------
echo "rule cat1.rollout-probe { mode monitor }" >>"$ROLLOUT"
reload "overlay mode monitor"
check "a second source's probe is forwarded (200) in monitor mode" [ "$(probe $LAB2 rollout-probe/1.0)" = 200 ]
check "its event says monitor, would reject 403 (the overlay kept the action)" \
    [ "$(peers_events rule=cat1.rollout-probe mode=monitor action="reject|403" src=$LAB2)" -ge 1 ]
check "its event claims no block" \
    [ "$(peers_events rule=cat1.rollout-probe mode=monitor src=$LAB2 expires=.)" = 0 ]
check "still one block in force" [ "$(active_blocks)" = 1 ]
check "the first source stays blocked" [ "$(probe $LAB1 lab-phone)" = none ]
"$SIPWALL" policy dump --policy builtin:default --policy "$POLICY" --policy "$ROLLOUT" >"$WORK/dump.policy" 2>"$WORK/dump.err"
check "policy dump shows the merged rule: monitor, reject 403, block 10m" \
    python3 - "$WORK/dump.policy" <<'PY'
import sys
t = open(sys.argv[1]).read()
r = t[t.index("rule cat1.rollout-probe {"):]
r = r[:r.index("}\n")]
sys.exit(0 if all(s in r for s in ("mode monitor", "action reject 403", "block 10m", "rollout test probe")) else 1)
PY

# policy explain screens with the merged rule (no daemon involved)
echo "rule cat2.cli-range { mode monitor }" >"$WORK/explain-overlay.policy"
explain() {
    "$SIPWALL" policy explain --policy builtin:default --policy "$SW_SRC/etc/partners.example.policy" "$@" \
        --src 198.51.100.33:5060 --dst 10.20.0.1:5060 "$SW_SRC/tests/data/ims/01-invite-volte.sip" 2>&1
}
explain >"$WORK/explain-enforce.out"
explain --policy "$WORK/explain-overlay.policy" >"$WORK/explain-monitor.out"
check "policy explain without the overlay: cat2.cli-range enforces reject 403" \
    grep -q 'cat2.cli-range *enforce reject 403' "$WORK/explain-enforce.out"
check "policy explain with the overlay: monitor reject 403, verdict allow" \
    bash -c "grep -q 'cat2.cli-range *monitor reject 403' '$WORK/explain-monitor.out' && grep -q '^verdict *allow' '$WORK/explain-monitor.out'"

# ---- 3. the whole policy in monitor mode -------------------------------------------------------
echo "mode monitor" >>"$ROLLOUT"
"$SIPWALL" policy check builtin:default "$POLICY" "$ROLLOUT" >"$WORK/check.out" 2>&1
check "policy check says the policy is monitor-only" grep -q '^mode: *monitor (policy-wide' "$WORK/check.out"
reload "policy-wide mode monitor"
check "the blocked source's OPTIONS is answered under mode monitor" [ "$(probe $LAB1 lab-phone)" = 200 ]
sed -i 's/^mode monitor$/mode enforce/' "$ROLLOUT"
reload "back to enforce"
check "back in enforce, the block drops again" [ "$(probe $LAB1 lab-phone)" = none ]

# ---- 4. the allowlist lifts the block ----------------------------------------------------------
echo "list allow-sources addresses { $LAB1 }" >>"$ROLLOUT"
reload "allowlist $LAB1"
check "one event says the block was lifted (policy.allowlist, offender, list)" \
    [ "$(peers_events rule=policy.allowlist action=allow offender="^$LAB1\$" allowlist=allow-sources lifted_rule=cat1.rollout-probe)" = 1 ]
check "no block in force" [ "$(active_blocks)" = 0 ]
lifted() { peers_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["engine"]["blocks_lifted"])'; }
lifted_n=
for _ in $(seq 30); do lifted_n=$(lifted); [ "$lifted_n" = 1 ] && break; sleep 0.1; done
check "ctl stats counts the lift (engine.blocks_lifted $lifted_n)" [ "$lifted_n" = 1 ]
check "the allowlisted source's OPTIONS is answered" [ "$(probe $LAB1 lab-phone)" = 200 ]
reload "the same policy again"
check "a second reload lifts nothing more" [ "$(peers_events rule=policy.allowlist)" = 1 ]

peers_done
