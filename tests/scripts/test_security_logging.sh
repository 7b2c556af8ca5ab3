#!/usr/bin/env bash
# Issue 15, items 4 and 6: sipwalld logs its own security events, counts
# them in the metrics, and takes HEP over TLS.  One sipwalld on loopback
# (SIP UDP and mutual-TLS SIP, HEP over mutual TLS, metrics, the HTTPS
# admin API, the admin socket); the test triggers each event and asserts
# the event (events.jsonl, written by the store's pipeline like any other)
# and the metric (promtool accepts the text):
# - a failed admin login: admin_auth_failure, sipwall_security_events_total;
# - TLS handshake failures (a client without a certificate) on the SIP TLS
#   listener and on the HEP TLS listener: tls_failure events per listener,
#   rate-limited (5 failures in quick succession give one event at once and
#   one summary later, failures summing to 5), and
#   sipwall_tls_handshake_failures_total by listener;
# - HEP3 over TLS with a client certificate: the packets are taken
#   (ctl stats sensor_messages);
# - the privilege drop: a privilege event whose capability sets equal what
#   /proc/PID/status says;
# - the start and a reload: config.start and config.reload events with the
#   generations and the policy's SHA-256, checked against a hash the test
#   computes from the policy file (so the event tells the truth);
# - a refused bundle (a second run with trust-key and a tampered bundle):
#   integrity_failure and sipwall_security_events_total{type=integrity_failure};
# - a key file others may read: the start is refused (exit 1, the file
#   named) and an integrity_failure event (sipwall.start.refused) is in the
#   store for the next export (no metric: the daemon does not run).
# Nets: 127.241.0.0/16 only.
set -uo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SIPWALL=${SIPWALL:-build/sipwall}
SW_BUILD=${SW_BUILD:-build}
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "$SW_BUILD/test_security_logging.XXXXXX")
T=$(cd "$T" && pwd)
PID=
FAILS=0
cleanup() {
    [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
    wait 2>/dev/null
    [ "$FAILS" = 0 ] && rm -rf "$T"
}
trap cleanup EXIT
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
NET=127.241.0

# ---- PKI: a CA, the server, a client --------------------------------------------------------
mkdir -p "$T/pki"
(
    set -e
    cd "$T/pki"
    ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    ec ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=ca" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    leaf() { ec "$1.key"; openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
        printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$2" "$3" > "$1.ext"
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
            -extfile "$1.ext" -out "$1.pem" 2>/dev/null; rm "$1.csr" "$1.ext"; }
    leaf server serverAuth "IP:$NET.1,IP:$NET.5,IP:$NET.7"
    leaf client clientAuth DNS:hep-agent.test
    chmod 600 ./*.key
) >"$T/pki.log" 2>&1 || { echo "FAIL: PKI: $(tail -3 "$T/pki.log")"; exit 1; }
P=$T/pki
HEPKEY=$(openssl rand -hex 16)
cp "$SW_SRC/etc/default.policy" "$T/p.policy"

conf() {
    cat <<EOF
mode inline
workers 2
policy $T/p.policy
events $T/events.jsonl
log $T/sipwalld.log
secret $T/secret
admin $T/admin.sock
listen udp $NET.1:5060 side=interconnect
listen tls $NET.1:5061 side=interconnect name=ic-tls cert=$P/server.pem key=$P/server.key ca=$P/ca.pem verify=required
listen udp $NET.2:5060 side=core
forward udp:$NET.3:5060
hep tls $NET.5:9061 cert=$P/server.pem key=$P/server.key ca=$P/ca.pem verify=required auth-key=$HEPKEY
metrics listen $NET.6:9464
admin-api listen $NET.7:8443 cert $P/server.pem key $P/server.key credential $T/api.hash
EOF
}
conf >"$T/s.conf"

start() { # CONF
    rm -f "$T/sipwalld.log"
    "$SIPWALLD" -c "$1" >"$T/sipwalld.out" 2>&1 &
    PID=$!
    for _ in $(seq 150); do
        grep -q "ready:" "$T/sipwalld.log" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "FAIL: sipwalld not up: $(tail -5 "$T/sipwalld.out" "$T/sipwalld.log" 2>/dev/null)"
    exit 1
}
stop() {
    kill -TERM "$PID"
    wait "$PID"
    local st=$?
    PID=
    [ "$st" = 0 ] || bad "sipwalld exit status $st: $(tail -3 "$T/sipwalld.log")"
}
metric() { # NAME{LABELS} -> value (empty when absent)
    curl -s --max-time 5 "http://$NET.6:9464/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
# jq-like one-liners over the events file
ev() { python3 -c 'import json,sys
evs=[json.loads(l) for l in open(sys.argv[1])]
print(eval(sys.argv[2]))' "$T/events.jsonl" "$1"; }

start "$T/s.conf"
DPID=$PID

# ---- a failed admin login -------------------------------------------------------------------
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$P/ca.pem" \
    -H "Authorization: Bearer not-the-token" "https://$NET.7:8443/v1/status")
check "wrong admin credential: 401 ($code)" [ "$code" = 401 ]

# ---- TLS handshake failures: 5 on the SIP listener, 1 on HEP ------------------------------------
for _ in 1 2 3 4 5; do
    timeout 5 openssl s_client -connect "$NET.1:5061" -CAfile "$P/ca.pem" </dev/null >/dev/null 2>&1
done
hep_tls() { # CERT-ARGS... : sends 3 HEP3 packets over TLS; prints "sent N" or the error
    python3 - "$NET.5" 9061 "$P/ca.pem" "$HEPKEY" "$@" <<'PY'
import socket, ssl, struct, sys, time
host, port, ca, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
def chunk(t, v): return struct.pack("!HHH", 0, t, 6 + len(v)) + v
def hep(sip, n):
    now = time.time()
    c = (chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, socket.inet_aton("192.0.2.1"))
         + chunk(4, socket.inet_aton("192.0.2.2")) + chunk(7, struct.pack("!H", 5060))
         + chunk(8, struct.pack("!H", 5060)) + chunk(9, struct.pack("!I", int(now)))
         + chunk(10, struct.pack("!I", int(now % 1 * 1e6))) + chunk(11, b"\x01")
         + chunk(12, struct.pack("!I", 2001)) + chunk(14, key) + chunk(15, sip))
    return b"HEP3" + struct.pack("!H", 6 + len(c)) + c
ctx = ssl.create_default_context(cafile=ca)
if len(sys.argv) > 6:
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
try:
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=5), server_hostname=host)
    for i in range(3):
        sip = ("OPTIONS sip:probe@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-hep%d\r\n"
               "From: <sip:a@192.0.2.1>;tag=%d\r\nTo: <sip:probe@192.0.2.2>\r\nCall-ID: hep-tls-%d\r\n"
               "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (i, i, i)).encode()
        s.sendall(hep(sip, i))
    s.settimeout(1)
    try:
        r = s.recv(1)  # TLS 1.3: a refused client certificate shows up here
        if r == b"" and len(sys.argv) <= 6:
            raise ssl.SSLError("closed")
    except socket.timeout:
        pass
    s.close()
    print("sent 3")
except (ssl.SSLError, OSError) as e:
    print("error", e)
PY
}
out=$(hep_tls "$P/client.pem" "$P/client.key")
check "HEP over TLS with the client certificate: sent ($out)" [ "$out" = "sent 3" ]
n=
for _ in $(seq 50); do
    n=$("$SIPWALLD" -c "$T/s.conf" ctl stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["sensor_messages"])')
    [ "$n" = 3 ] && break
    sleep 0.1
done
check "sipwalld took the 3 HEP packets over TLS (sensor_messages $n)" [ "$n" = 3 ]
out=$(hep_tls)
check "HEP over TLS without a client certificate is refused ($out)" [ "${out%% *}" = error ]

# ---- a reload after a change of the policy text -----------------------------------------------
echo "# changed by test_security_logging" >>"$T/p.policy"
out=$("$SIPWALLD" -c "$T/s.conf" ctl reload 2>&1)
check "ctl reload: $out" grep -q "^ok generation 2" <<<"$out"

# ---- the metrics (before the stop) --------------------------------------------------------------
sleep 0.3
m=$(curl -s --max-time 5 "http://$NET.6:9464/metrics")
check "promtool accepts the metrics" promtool check metrics <<<"$m"
mv() { awk -v k="$1" '$1 == k { print $2 }' <<<"$m"; }
v=$(mv 'sipwall_security_events_total{type="admin_auth_failure"}')
check "metric: admin_auth_failure = 1 ($v)" [ "$v" = 1 ]
v=$(mv 'sipwall_security_events_total{type="privilege"}')
check "metric: privilege = 1 ($v)" [ "$v" = 1 ]
v=$(mv 'sipwall_security_events_total{type="admin_change"}')
check "metric: admin_change >= 3: start, reload asked, reload done ($v)" [ "${v:-0}" -ge 3 ]
v=$(mv 'sipwall_security_events_total{type="tls_failure"}')
# one per listener at once; the SIP listener's summary of 4 when 10 s passed
check "metric: tls_failure events = 2 or 3 so far (rate-limited) ($v)" [ "$v" = 2 -o "$v" = 3 ]
v=$(mv 'sipwall_tls_handshake_failures_total{listener="ic-tls"}')
check "metric: 5 handshake failures on ic-tls ($v)" [ "$v" = 5 ]
v=$(mv "sipwall_tls_handshake_failures_total{listener=\"hep-$NET.5:9061\"}")
check "metric: 1 handshake failure on the HEP TLS listener ($v)" [ "$v" = 1 ]
caps=$(awk '/^Cap(Prm|Eff)/ { printf "%s %s ", $1, $2 }' "/proc/$DPID/status")
stop

# ---- the events -------------------------------------------------------------------------------
v=$(ev 'sum(1 for e in evs if e["event_type"]=="admin_auth_failure" and e["rule"]=="admin.auth")')
check "event: one admin_auth_failure ($v)" [ "$v" = 1 ]
v=$(ev '[(e["evidence"]["failures"]) for e in evs if e["event_type"]=="tls_failure" and "listen tls '$NET'.1:5061" in e["reason"]]')
check "events: tls_failure on the SIP TLS listener: at once and a summary, 5 in all ($v)" [ "$v" = "[1, 4]" ]
v=$(ev '[(e["evidence"]["failures"], e["action"], e["category"]) for e in evs if e["event_type"]=="tls_failure" and "hep tls '$NET'.5:9061" in e["reason"]]')
check "event: tls_failure on the HEP TLS listener ($v)" [ "$v" = "[(1, 'reject', 'system')]" ]
v=$(ev 'sum(1 for e in evs if e["event_type"]=="tls_failure")')
check "3 tls_failure events in all for 6 failures ($v)" [ "$v" = 3 ]
v=$(ev '[e["reason"] for e in evs if e["event_type"]=="privilege"]')
prm=$(awk '{ print $2 }' <<<"$caps" | sed 's/^0*//'); prm=${prm:-0}
check "event: privilege, its capability set as /proc says ($caps): $v" \
    grep -q "privileges dropped .*: 0 capabilities kept; uid 0/0/0 .*cap_prm $prm cap_eff $prm .*no_new_privs 1 dumpable 0" <<<"$v"
sha() { python3 -c 'import hashlib,struct,sys; d=open(sys.argv[1],"rb").read(); print(hashlib.sha256(struct.pack(">Q",len(d))+d).hexdigest())' "$1"; }
new=$(sha "$T/p.policy")
head -c -35 "$T/p.policy" >"$T/p.orig"
old=$(sha "$T/p.orig")
v=$(ev '[e["reason"] for e in evs if e["rule"]=="config.start"]')
check "event: config.start names generation 1 and the policy's SHA-256 ($v)" \
    grep -q "started with policy generation 1 (sha256 $old)" <<<"$v"
v=$(ev '[e["reason"] for e in evs if e["rule"]=="config.reload"]')
check "event: config.reload names both generations and hashes ($v)" \
    grep -q "policy generation 2 (sha256 $new) replaced generation 1 (sha256 $old)" <<<"$v"
[ "$old" != "$new" ] || bad "the test's two policy texts hash alike"

# ---- a refused bundle -------------------------------------------------------------------------
mkdir -p "$T/site"
cp "$SW_SRC/etc/default.policy" "$T/site/main.policy"
if (cd "$T" && "$SIPWALL" keygen signer >/dev/null 2>&1 &&
    "$SIPWALL" bundle sign -C site --key signer.key --version 1 --out site.swb --policy main.policy) \
    >"$T/bundle.out" 2>&1; then
    {
        grep -v "^policy \|^events " "$T/s.conf"
        echo "events $T/events2.jsonl"
        echo "bundle $T/site.swb"
        echo "trust-key $T/signer.pub"
    } >"$T/b.conf"
    start "$T/b.conf"
    sed -i 's/reject 403/reject 404/' "$T/site.swb"
    out=$("$SIPWALLD" -c "$T/b.conf" ctl reload 2>&1)
    check "ctl reload of a tampered bundle is refused ($out)" grep -q "error: bundle .* refused" <<<"$out"
    sleep 0.3
    m=$(curl -s --max-time 5 "http://$NET.6:9464/metrics")
    v=$(mv 'sipwall_security_events_total{type="integrity_failure"}')
    check "metric: integrity_failure = 1 ($v)" [ "$v" = 1 ]
    stop
    v=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["event_type"]=="integrity_failure"))' "$T/events2.jsonl")
    check "event: one integrity_failure ($v)" [ "$v" = 1 ]
else
    bad "bundle: $(tail -3 "$T/bundle.out")"
fi

# ---- a key file others may read: the start is refused, and that is an event -------------------
chmod 644 "$P/server.key"
rm -f "$T/events.jsonl" "$T/sipwalld.log"
"$SIPWALLD" -c "$T/s.conf" >"$T/refused.out" 2>&1
st=$?
chmod 600 "$P/server.key"
check "a world-readable key file refuses the start (exit $st)" [ "$st" = 1 ]
check "the log names the file and the line" grep -q "level=error comp=main .*s.conf:9: listen key .*server.key: mode 0644" "$T/sipwalld.log"
v=$(ev '[(e["event_type"], e["action"]) for e in evs if e["rule"]=="sipwall.start.refused" and "server.key" in e["reason"]]' 2>&1)
check "event: integrity_failure sipwall.start.refused naming the key file ($v)" [ "$v" = "[('integrity_failure', 'reject')]" ]

[ "$FAILS" = 0 ] && echo "PASS" || { echo "$FAILS failure(s)"; exit 1; }
