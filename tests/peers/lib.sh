# shellcheck shell=bash
# Shared by tests/scripts/test_peers_*.sh and bench/proxy/run: real SIP peers
# (SIPp, Kamailio, SIPVicious, openssl) around sipwalld on loopback.
#
# Each test takes its own /16 of loopback, 127.NET.0.0, so tests run in
# parallel (ctest -j) with fixed ports and no clash:
#   127.NET.0.1   sipwalld, interconnect side (udp/tcp 5060, tls 5061)
#   127.NET.0.2   sipwalld, core side (udp 5060)
#   127.NET.0.3   the core (partner "core"), SIPp on :5070, sipwalld's forward
#                 target (as uas; as uac too when a partner's BYE must reach it)
#   127.NET.0.10  partner "alpha", interconnect, callers +4930100…
#   127.NET.0.11  partner "roam", roaming P-CSCF (REGISTER), users +4477009…
#   127.NET.0.20  partner "bravo", interconnect, answers core→partner calls
#   127.NET.0.30  partner "tlsco": Kamailio as its TLS SBC, cert CN sbc.tlsco.test
#   127.NET.1.x   never a partner (scanners, floods)
# Every process started here is recorded and killed by the EXIT trap; every
# wait is bounded.
#
# Usage in a test:
#   . "$SW_SRC/tests/peers/lib.sh"
#   peers_init calls 21               # name, NET; work dir under $SW_BUILD
#   peers_start_proxy [CONF LINE...]  # policy + config + sipwalld (or Kamailio)
#   peers_sipp_uas core -sf "$PEERS_SCEN/uas_call.xml" -i "$CORE" -p 5070
#   peers_sipp_uac alpha -sf "$PEERS_SCEN/uac_call.xml" -key a +4930100 -key b +4477009 \
#       -i "$ALPHA" -p 5082 -r 10 -m 20 "$SW_IC:5060"
#   peers_expect_calls alpha 20       # exit 0, 20 successful, 0 failed
#   check "what" COMMAND...           # ok/FAIL line, counted
#   peers_done                        # SIGTERM check of sipwalld, "N passed, M failed"
# Environment: SIPWALLD, SW_BUILD (ctest sets them); PEERS_PROXY=kamailio runs
# the call flows through Kamailio instead (checks the harness itself);
# PEERS_KEEP=1 keeps the work dir; PEERS_CONF_EXTRA adds a config line;
# PEERS_NET_OFFSET=N adds N to every NET (a second run beside the first).

SW_SRC=${SW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PEERS_DIR=$SW_SRC/tests/peers
PEERS_SCEN=$PEERS_DIR/scenarios
export LC_ALL=C
# ASan/UBSan as `make test` sets them, unless the caller chose otherwise.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

PEERS_PIDS=()
declare -A PEERS_PID_OF   # label -> pid of the SIPp / Kamailio started under it
PEERS_CHECKS=0
PEERS_FAILS=0
PEERS_KEEP=${PEERS_KEEP:-0}     # 1: keep the work directory even when all passed

# ---- reporting --------------------------------------------------------------------
peers_log() { printf '[%s %s] %s\n' "${PEERS_NAME:-peers}" "$(date +%T)" "$*"; }

# What a failure report needs: the proxy's log and the start of every
# SIPp error log (the whole work dir is kept for the rest).
peers_show_logs() {
    local f
    [ -n "${WORK:-}" ] || return 0
    for f in "$WORK/sipwalld.log" "$WORK/proxy.log"; do
        [ -s "$f" ] || continue
        echo "---- ${f#"$WORK"/} (last 15 lines)"
        tail -n 15 "$f" | cut -c1-300
    done
    for f in "$WORK"/*.errors.log; do
        [ -s "$f" ] || continue
        echo "---- ${f#"$WORK"/} (first 3 events)"
        grep -m 3 -E 'Aborting|unexpected|timeout|Dead call|Failed|rror' "$f" | cut -c1-300
    done
}

ok() { PEERS_CHECKS=$((PEERS_CHECKS + 1)); echo "ok:   $*"; }
# A failed check: reported, counted, the test goes on (peers_done fails it).
bad() { PEERS_CHECKS=$((PEERS_CHECKS + 1)); PEERS_FAILS=$((PEERS_FAILS + 1)); echo "FAIL: $*"; }
# A failure the rest of the test cannot go on from.
die() {
    echo "FAIL: $*"
    PEERS_FAILS=$((PEERS_FAILS + 1))
    peers_show_logs
    exit 1
}
# check DESCRIPTION COMMAND...
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# SIGTERM stops sipwalld cleanly: exit status 0 within 10 s, and no
# sanitizer report in its log (an ASan build reports leaks at exit).
peers_stop_sipwalld_checked() {
    [ -n "${SIPWALLD_PID:-}" ] || return 0
    peers_stats >"$WORK/stats-final.json" 2>/dev/null
    peers_is_child "$SIPWALLD_PID" && kill -TERM "$SIPWALLD_PID" 2>/dev/null
    local rc=
    for _ in $(seq 100); do
        # gone, or a zombie: wait gives its status either way
        if ! peers_is_child "$SIPWALLD_PID" || grep -q '^State:.*Z' "/proc/$SIPWALLD_PID/status" 2>/dev/null; then
            wait "$SIPWALLD_PID" 2>/dev/null
            rc=$?
            break
        fi
        sleep 0.1
    done
    if [ -z "$rc" ]; then
        bad "sipwalld did not stop within 10 s of SIGTERM"
        peers_stop "$SIPWALLD_PID"
    elif [ "$rc" != 0 ]; then
        bad "sipwalld exited with status $rc on SIGTERM"
    else
        ok "sipwalld stops cleanly on SIGTERM"
    fi
    if grep -q -E 'Sanitizer|runtime error:' "$WORK/sipwalld.log"; then
        bad "sanitizer report in sipwalld's log: $(grep -m 2 -E 'Sanitizer|runtime error:' "$WORK/sipwalld.log" | cut -c1-200)"
    fi
    SIPWALLD_PID=
}

peers_done() {
    peers_is_sipwalld && peers_stop_sipwalld_checked
    local passed=$((PEERS_CHECKS - PEERS_FAILS))
    if [ "$PEERS_FAILS" -gt 0 ]; then
        peers_show_logs
    fi
    echo "$PEERS_NAME: $passed passed, $PEERS_FAILS failed"
    [ "$PEERS_FAILS" -eq 0 ]
}

# ---- set-up and clean-up -----------------------------------------------------------
# peers_init NAME NET: addresses in 127.NET.0.0/16, a work dir under $SW_BUILD.
peers_init() {
    PEERS_NAME=$1
    # PEERS_NET_OFFSET moves a whole run elsewhere (two people running the
    # same test on one machine)
    PEERS_NET=$(($2 + ${PEERS_NET_OFFSET:-0}))
    if [ "$PEERS_NET" -lt 1 ] || [ "$PEERS_NET" -gt 254 ]; then die "NET $PEERS_NET out of 1..254"; fi
    local base=127.$PEERS_NET.0
    SW_IC=$base.1
    SW_CORE_IF=$base.2
    CORE=$base.3
    ALPHA=$base.10
    ROAM=$base.11
    BRAVO=$base.20
    TLSCO=$base.30
    STRANGER_NET=127.$PEERS_NET.1
    STRANGER=$STRANGER_NET.1
    SIPWALLD=${SIPWALLD:-${SW_BUILD:-$SW_SRC/build}/sipwalld}
    local parent=${SW_BUILD:-${TMPDIR:-/tmp}}
    WORK=$(mktemp -d "$parent/peers-$PEERS_NAME.XXXXXX") || die "cannot create a work dir in $parent"
    CONF=$WORK/sipwalld.conf
    POLICY=$WORK/partners.policy
    EVENTS=$WORK/events.jsonl
    ADMIN=$WORK/admin.sock
    trap peers_cleanup EXIT
    trap 'exit 130' INT TERM
    local tool
    for tool in sipp python3 ss timeout; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool not installed (scripts/install-deps)"
    done
    peers_log "work dir $WORK"
}

# Records a background process for the trap.
peers_track() { PEERS_PIDS+=("$1"); }

# True when PID is still a child of this shell.  A pid recorded earlier may
# have exited and been reused by another test's process (tests run in
# parallel): never signal it then.
peers_is_child() {
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }                 # after "pid (comm) ": state ppid ...
    local state ppid
    read -r state ppid _ <<<"$st"
    [ -n "$state" ] && [ "$ppid" = "$$" ]
}

# Stops one tracked process: TERM, then KILL after 3 s.
peers_stop() {
    local pid=$1
    peers_is_child "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 30); do
        peers_is_child "$pid" || return 0
        grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 0
        sleep 0.1
    done
    peers_is_child "$pid" && kill -KILL "$pid" 2>/dev/null
    return 0
}

# Stops what was started under LABEL.
peers_stop_label() { [ -z "${PEERS_PID_OF[$1]:-}" ] || peers_stop "${PEERS_PID_OF[$1]}"; }

peers_cleanup() {
    local rc=$?
    local pid
    # sipwalld's counters at the end, for the post-mortem
    if [ -n "${SIPWALLD_PID:-}" ] && kill -0 "$SIPWALLD_PID" 2>/dev/null; then
        peers_stats >"$WORK/stats-final.json" 2>/dev/null
    fi
    for pid in "${PEERS_PIDS[@]}"; do
        peers_is_child "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.3
    for pid in "${PEERS_PIDS[@]}"; do
        peers_stop "$pid"
    done
    if [ -z "${WORK:-}" ]; then
        :
    elif [ "$rc" -eq 0 ] && [ "$PEERS_FAILS" -eq 0 ] && [ "$PEERS_KEEP" != 1 ]; then
        rm -rf "$WORK"
    else
        echo "work dir kept: $WORK"
    fi
    exit "$rc"
}

# peers_bg LABEL CMD...: runs CMD in the background, output in $WORK/LABEL.log,
# pid in $PEERS_PID.
peers_bg() {
    local label=$1
    shift
    "$@" >"$WORK/$label.log" 2>&1 &
    PEERS_PID=$!
    peers_track "$PEERS_PID"
}

# peers_wait_listen tcp|udp IP PORT [SECONDS]: until something listens there.
peers_wait_listen() {
    local proto=$1 ip=$2 port=$3 secs=${4:-20} i opt
    [ "$proto" = udp ] && opt=-Hlun || opt=-Hltn
    for i in $(seq $((secs * 10))); do
        if ss $opt "src $ip:$port" 2>/dev/null | grep -q .; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# ---- the policy and the daemon's configuration ------------------------------------
# The partners of the address plan above.  Extra policy text may follow on
# stdin-less calls through PEERS_POLICY_EXTRA.
peers_write_policy() {
    cat >"$POLICY" <<EOF
# written by tests/peers/lib.sh for test "$PEERS_NAME"
policy "sipwall real-peer tests ($PEERS_NAME)" version "1"

home {
    country-code 44
    national-prefix 0
    ranges +4477009
    domains ims.test
}

partner core { role core; address $CORE/32 }
partner alpha { role interconnect; address $ALPHA/32; ranges +4930100 }
partner roam { role roaming; address $ROAM/32; domains visited.test; realms ims.test }
partner bravo { role interconnect; address $BRAVO/32; ranges +3361 }
partner tlsco {
    role interconnect
    address $TLSCO/32
    tls-identity "sbc.tlsco.test"
    ranges +4930200
}
${PEERS_POLICY_EXTRA:-}
EOF
}

# peers_write_conf [EXTRA LINE...]: sipwalld's configuration (inline, 2 workers,
# UDP+TCP on the interconnect side, UDP on the core side, the core's SIPp uas
# as the forward target).  TLS listeners and the like come as extra lines.
peers_write_conf() {
    {
        echo "# written by tests/peers/lib.sh for test $PEERS_NAME"
        echo "mode inline"
        echo "workers ${PEERS_WORKERS:-2}"
        echo "policy builtin:default"
        echo "policy $POLICY"
        echo "events $EVENTS"
        echo "log stderr"
        echo "admin $ADMIN"
        echo "secret $WORK/secret"
        echo "topology-hiding on"
        echo "listen udp $SW_IC:5060 side=interconnect"
        echo "listen tcp $SW_IC:5060 side=interconnect"
        echo "listen udp $SW_CORE_IF:5060 side=core"
        echo "forward udp:$CORE:5070"
        echo "limits socket-buffer=4194304"
        local line
        for line in "$@"; do echo "$line"; done
        # e.g. PEERS_CONF_EXTRA="log-level debug" when looking into a failure
        [ -z "${PEERS_CONF_EXTRA:-}" ] || echo "$PEERS_CONF_EXTRA"
    } >"$CONF"
}

# Starts sipwalld on $CONF and waits until its admin socket answers.
peers_start_sipwalld() {
    [ -x "$SIPWALLD" ] || die "sipwalld not found at $SIPWALLD"
    if ! "$SIPWALLD" -c "$CONF" --check-config >"$WORK/check-config.log" 2>&1; then
        die "sipwalld --check-config rejects the test's configuration: $(head -c 400 "$WORK/check-config.log")"
    fi
    peers_bg sipwalld "$SIPWALLD" -c "$CONF"
    SIPWALLD_PID=$PEERS_PID
    local i
    for _ in $(seq 200); do
        if ! kill -0 "$SIPWALLD_PID" 2>/dev/null; then
            die "sipwalld exited at start-up"
        fi
        if peers_stats >/dev/null 2>&1; then
            peers_wait_listen udp "$SW_IC" 5060 5 || die "sipwalld answers but does not listen on $SW_IC:5060"
            peers_log "sipwalld running (pid $SIPWALLD_PID)"
            return 0
        fi
        sleep 0.1
    done
    die "sipwalld's admin socket did not answer within 20 s"
}

# The admin socket's statistics (JSON) on stdout.
peers_stats() { timeout 10 "$SIPWALLD" -c "$CONF" ctl stats; }

# True while sipwalld runs and answers on its admin socket.
peers_sipwalld_alive() {
    kill -0 "$SIPWALLD_PID" 2>/dev/null && peers_stats >"$WORK/stats.json" 2>>"$WORK/ctl.log" &&
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/stats.json"
}

# ---- SIPp -----------------------------------------------------------------------------
# Common options: no keyboard, 4 MiB socket buffers, statistics every second
# into LABEL.stat.csv, errors into LABEL's own directory.
peers_sipp_opts() {
    local label=$1
    mkdir -p "$WORK/$label"
    PEERS_SIPP_OPTS=(-nostdin -buff_size 4194304 -trace_stat -stf "$WORK/$label.stat.csv" -fd 1
                     -trace_err -error_file "$WORK/$label.errors.log"
                     -trace_msg -message_file "$WORK/$label.msg.log")
}

# peers_sipp_uas LABEL SIPP-ARGS...: a SIPp server in the background.
peers_sipp_uas() {
    local label=$1
    shift
    peers_sipp_opts "$label"
    peers_bg "$label" sipp "${PEERS_SIPP_OPTS[@]}" "$@"
    PEERS_PID_OF[$label]=$PEERS_PID
    # SIPp exits at once when it cannot bind (a port still taken)
    sleep 0.3
    kill -0 "$PEERS_PID" 2>/dev/null ||
        die "SIPp $label exited at start: $(grep -m 1 -i -E 'unable|error' "$WORK/$label.errors.log" "$WORK/$label.log" 2>/dev/null | cut -c1-200)"
}

# peers_sipp_uac LABEL SIPP-ARGS...: a SIPp client in the foreground, at most
# $PEERS_SIPP_TIMEOUT (60) s.  Sets $SIPP_RC.
peers_sipp_uac() {
    local label=$1
    shift
    peers_sipp_opts "$label"
    timeout "${PEERS_SIPP_TIMEOUT:-60}" sipp "${PEERS_SIPP_OPTS[@]}" "$@" >"$WORK/$label.log" 2>&1
    SIPP_RC=$?
}

# sipp_stat LABEL COLUMN: the column's value in the last row of LABEL's
# statistics (e.g. SuccessfulCall(C)); empty when there is none.
sipp_stat() {
    python3 - "$WORK/$1.stat.csv" "$2" <<'EOF'
import sys
try:
    rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
    print(rows[-1][rows[0].index(sys.argv[2])])
except (OSError, IndexError, ValueError):
    print("")
EOF
}

# peers_expect_calls LABEL N: the SIPp client exited 0 with N successful
# calls and none failed.
peers_expect_calls() {
    local label=$1 n=$2 succ failed out
    succ=$(sipp_stat "$label" 'SuccessfulCall(C)')
    failed=$(sipp_stat "$label" 'FailedCall(C)')
    out=$(sipp_stat "$label" 'OutgoingCall(C)')
    if [ "$SIPP_RC" = 0 ] && [ "$succ" = "$n" ] && [ "$failed" = 0 ]; then
        ok "$label: $n of $n calls completed"
    else
        bad "$label: SIPp exit $SIPP_RC, $succ successful and $failed failed of $out sent (wanted $n of $n)"
        if [ -s "$WORK/$label.errors.log" ]; then
            echo "     first errors: $(grep -m 3 -E 'Aborting|unexpected|timeout|Dead call' "$WORK/$label.errors.log" | cut -c1-250)"
        fi
    fi
}

# ---- events -------------------------------------------------------------------------
# peers_events [KEY=REGEX...]: number of events in $EVENTS whose fields all
# match (Python regular expressions, searched in the string value).
peers_events() {
    python3 - "$EVENTS" "$@" <<'EOF'
import json, re, sys
path, conds = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
n = 0
try:
    lines = open(path, encoding="utf-8", errors="replace").readlines()
except OSError:
    lines = []
for line in lines:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    # a key missing at the top level is looked up in the evidence (offender, …)
    if all(re.search(v, str(e[k] if k in e else (e.get("evidence") or {}).get(k, ""))) for k, v in conds):
        n += 1
print(n)
EOF
}

# ---- TLS material ----------------------------------------------------------------------
# peers_make_certs: a test CA, sipwalld's server certificate, the TLS
# partner's client certificate (CN sbc.tlsco.test) and, from another CA, a
# client certificate that must be refused (rogue), and one from the test CA
# whose name no partner declares (stranger).  All in $WORK/pki.
peers_make_certs() {
    command -v openssl >/dev/null 2>&1 || die "openssl not installed (scripts/install-deps)"
    local d=$WORK/pki
    mkdir -p "$d"
    (
        set -e
        cd "$d"
        ossl() { openssl "$@" >>openssl.log 2>&1; }
        ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
            -subj "/CN=sipwall test CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        ossl req -x509 -newkey rsa:2048 -nodes -keyout rogue-ca.key -out rogue-ca.pem -days 2 \
            -subj "/CN=rogue CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        leaf() { # leaf NAME CN CA SAN EKU
            ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
            printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$4" "$5" >"$1.ext"
            ossl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
                -out "$1.pem" -days 2 -extfile "$1.ext"
        }
        leaf server sipwalld.test ca "DNS:sipwalld.test,IP:$SW_IC" serverAuth
        leaf tlsco sbc.tlsco.test ca "DNS:sbc.tlsco.test" "clientAuth,serverAuth"
        leaf rogue sbc.tlsco.test rogue-ca "DNS:sbc.tlsco.test" "clientAuth,serverAuth"
        leaf stranger stranger.test ca "DNS:stranger.test" "clientAuth,serverAuth"
        chmod 600 ./*.key
    ) || die "certificate generation failed: $(tail -n 5 "$d/openssl.log")"
}

# ---- Kamailio --------------------------------------------------------------------------
# peers_start_kamailio LABEL CFG IP KAMAILIO-ARGS...: Kamailio in the
# foreground mode (-DD), logging to LABEL.log; waits for its UDP socket.
peers_start_kamailio() {
    local label=$1 cfg=$2 ip=$3
    shift 3
    command -v kamailio >/dev/null 2>&1 || die "kamailio not installed (scripts/install-deps)"
    mkdir -p "$WORK/$label.run"
    if ! kamailio -c -f "$cfg" -Y "$WORK/$label.run" "$@" >"$WORK/$label.check.log" 2>&1; then
        die "kamailio rejects $cfg: $(grep -m 3 -E 'ERROR|CRITICAL' "$WORK/$label.check.log")"
    fi
    peers_bg "$label" kamailio -f "$cfg" -DD -E -Y "$WORK/$label.run" -P "$WORK/$label.pid" "$@"
    PEERS_PID_OF[$label]=$PEERS_PID
    peers_wait_listen udp "$ip" "${KAM_PORT:-5060}" 20 || die "kamailio ($label) did not start"
}

# peers_template IN OUT: copies a tests/peers/*.in file with the @NAME@
# placeholders replaced by this test's addresses and paths.
peers_template() {
    sed -e "s|@SW_IC@|$SW_IC|g" -e "s|@SW_CORE_IF@|$SW_CORE_IF|g" -e "s|@CORE@|$CORE|g" \
        -e "s|@TLSCO@|$TLSCO|g" -e "s|@PKI@|$WORK/pki|g" -e "s|@WORK@|$WORK|g" \
        -e "s|@TLS_CFG@|$WORK/kamailio-tls.cfg|g" \
        "$PEERS_DIR/$1" >"$2"
}

# ---- the proxy under test ----------------------------------------------------------------
# sipwalld, or with PEERS_PROXY=kamailio Kamailio in its place (to check the
# harness itself against a known-good proxy: call flows only, the
# sipwalld-specific checks are reported as not applicable).
PEERS_PROXY=${PEERS_PROXY:-sipwalld}
peers_is_sipwalld() { [ "$PEERS_PROXY" = sipwalld ]; }

# peers_start_proxy [EXTRA CONF LINE...]
peers_start_proxy() {
    if peers_is_sipwalld; then
        peers_write_policy
        peers_write_conf "$@"
        peers_start_sipwalld
    else
        peers_template kamailio-proxy.cfg.in "$WORK/kamailio-proxy.cfg"
        local tls=()
        if [ -f "$WORK/pki/server.pem" ]; then
            peers_template kamailio-proxy-tls.cfg.in "$WORK/kamailio-proxy-tls.cfg"
            tls=(-A WITH_TLS)
        fi
        peers_start_kamailio proxy "$WORK/kamailio-proxy.cfg" "$SW_IC" -n 2 "${tls[@]}"
        peers_wait_listen udp "$SW_CORE_IF" 5060 10 || die "kamailio: no core-side socket"
        peers_log "proxy under test: Kamailio (harness self-check)"
    fi
}

# The proxy is still running (and, for sipwalld, its admin socket answers).
peers_proxy_alive() {
    if peers_is_sipwalld; then
        peers_sipwalld_alive
    else
        kill -0 "${PEERS_PID_OF[proxy]}" 2>/dev/null
    fi
}
