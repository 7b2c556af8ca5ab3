# shellcheck shell=bash
# Syslog collectors for the export tests (docs/export.md), on top of lib.sh
# (peers_init, ok/bad/check, peers_track, peers_wait_listen, $WORK):
#   RFC 5425: rsyslog's imtcp with the GnuTLS driver (gtls: the ossl driver
#             of rsyslog 8.2302 lets a wrongly named peer through, upstream
#             issue #6350), mutual certificates, the client's name checked.
#   RFC 6012: socat's DTLS server (no Debian 12 syslog daemon takes DTLS),
#             one child per session, the raw octet-counted stream appended
#             to a file.
# Both run unprivileged (nobody) in the foreground and are stopped by PID
# (socat by its process group: a child lingers after a sender vanishes).
# socat gets a 4 MiB receive buffer: UDP has no flow control, and on a
# loaded machine a collector descheduled for a few milliseconds otherwise
# drops what arrives meanwhile (60 records lost in one run at 5000/s).
#
#   export_pki                         fresh PKI in $WORK/pki ($PKI)
#   coll_rsyslog_start LABEL IP PORT [PERMITTED]   rsyslog in $WORK/LABEL/,
#                                      messages in $WORK/LABEL/received.log
#   coll_rsyslog_stop LABEL [KILL]     SIGTERM (or SIGKILL) and wait
#   coll_socat_start LABEL IP PORT [CERT]  socat in $WORK/LABEL/, stream in
#                                      $WORK/LABEL/received.bin
#   coll_socat_stop LABEL [KILL]
#   coll_check LABEL N strict|replay   the sequence check, prints its counts
# Ports: tests pass their own (each test has its own 127.NET.0.0/16).

EXPORT_PEERS=${SW_SRC:-.}/tests/peers
declare -A COLL_PID COLL_KIND

export_pki() {
    PKI=$WORK/pki
    sh "$EXPORT_PEERS/mkpki.sh" "$PKI" || die "mkpki.sh failed"
    # The collectors run as nobody: they read their own key.
    chown nobody:nogroup "$PKI/server.key" "$PKI/other.key" "$PKI/rogueserver.key"
    chmod 755 "$WORK" "$PKI"
}

coll_dir() {
    local d=$WORK/$1
    mkdir -p "$d"
    chown nobody:nogroup "$d"
    chmod 755 "$d"
    echo "$d"
}

# coll_rsyslog_start LABEL IP PORT [PERMITTED_PEER] [SERVER_CERT]
coll_rsyslog_start() {
    local label=$1 ip=$2 port=$3 permitted=${4:-sipwall-test-client} cert=${5:-server}
    local d
    d=$(coll_dir "$label")
    cat >"$d/rsyslog.conf" <<CONF
global(workDirectory="$d" maxMessageSize="64k" defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="$PKI/ca.pem" defaultNetstreamDriverCertFile="$PKI/$cert.pem"
  defaultNetstreamDriverKeyFile="$PKI/$cert.key")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"
  streamDriver.authMode="x509/name" permittedPeer=["$permitted"])
input(type="imtcp" address="$ip" port="$port" ruleset="in")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="in") { action(type="omfile" file="$d/received.log" template="raw"
  flushOnTXEnd="on" asyncWriting="off") }
CONF
    # a restart appends to what the collector received before
    [ -e "$d/received.log" ] || : >"$d/received.log"
    chown nobody:nogroup "$d/received.log"
    rm -f "$d/rsyslogd.pid"
    # setpriv execs (its pid is rsyslogd's); runuser would fork.
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
        rsyslogd -n -f "$d/rsyslog.conf" -i "$d/rsyslogd.pid" \
        </dev/null >>"$d/stderr.log" 2>&1 &
    COLL_PID[$label]=$!
    COLL_KIND[$label]=rsyslog
    peers_track "${COLL_PID[$label]}"
    peers_wait_listen tcp "$ip" "$port" 10 || die "rsyslog ($label) does not listen on $ip:$port: $(tail -3 "$d/stderr.log")"
}

# coll_socat_start LABEL IP PORT [SERVER_CERT]
coll_socat_start() {
    local label=$1 ip=$2 port=$3 cert=${4:-server}
    local d
    d=$(coll_dir "$label")
    touch "$d/received.bin"
    chown nobody:nogroup "$d/received.bin"
    # its own session and process group: the stop signals the whole group
    setsid setpriv --reuid=nobody --regid=nogroup --clear-groups -- socat -u -lf "$d/socat.log" \
        "OPENSSL-DTLS-SERVER:$port,bind=$ip,reuseaddr,fork,rcvbuf=4194304,cert=$PKI/$cert.pem,key=$PKI/$cert.key,cafile=$PKI/ca.pem,verify=1,cn=sipwall-test-client" \
        "OPEN:$d/received.bin,creat,append" </dev/null >/dev/null 2>&1 &
    COLL_PID[$label]=$!
    COLL_KIND[$label]=socat
    peers_track "${COLL_PID[$label]}"
    peers_wait_listen udp "$ip" "$port" 10 || die "socat ($label) does not listen on $ip:$port"
}

# coll_stop LABEL [KILL]: the collector and, for socat, its children.
coll_stop() {
    local label=$1 sig=${2:-TERM} pid=${COLL_PID[$1]:-}
    [ -n "$pid" ] || return 0
    if [ "${COLL_KIND[$label]}" = socat ]; then
        # setsid made socat the leader of its own group: pgid = pid
        kill "-$sig" -- "-$pid" 2>/dev/null || true
    elif peers_is_child "$pid"; then
        kill "-$sig" "$pid" 2>/dev/null || true
    fi
    for _ in $(seq 50); do
        peers_is_child "$pid" || break
        grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
        sleep 0.1
    done
    { wait "$pid"; } 2>/dev/null || true
    # a socat child may outlive its parent by a moment
    if [ "${COLL_KIND[$label]}" = socat ]; then
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    COLL_PID[$label]=
}
coll_rsyslog_stop() { coll_stop "$@"; }
coll_socat_stop() { coll_stop "$@"; }

# coll_messages LABEL: one message per line on stdout.
coll_messages() {
    local d=$WORK/$1
    if [ "${COLL_KIND[$1]}" = socat ]; then
        perl "$EXPORT_PEERS/syslog_check.pl" deframe "$d/received.bin"
    else
        cat "$d/received.log"
    fi
}

# coll_count LABEL: messages from sipwalld received so far.
coll_count() {
    local n
    n=$(coll_messages "$1" 2>/dev/null | grep -c 'sipwall@32473') || true
    echo "${n:-0}"
}

# coll_check LABEL N strict|replay: prints "received=… distinct=… missing=…
# duplicates=…"; status 0 when the mode's rule holds.
coll_check() {
    local d=$WORK/$1
    if [ "${COLL_KIND[$1]}" = socat ]; then
        perl "$EXPORT_PEERS/syslog_check.pl" check "$d/received.bin" "$2" "$3" framed
    else
        perl "$EXPORT_PEERS/syslog_check.pl" check "$d/received.log" "$2" "$3"
    fi
}

# coll_wait_count LABEL N SECONDS: until N messages arrived (or the time is up).
coll_wait_count() {
    local i
    for i in $(seq $(($3 * 10))); do
        [ "$(coll_count "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
