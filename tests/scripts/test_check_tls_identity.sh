#!/usr/bin/env bash
# `tls-identity` decides the partner in `sipwall check` (loopback net 164):
# a capture made here with tcpdump of SIP over TLS 1.2 from one address,
# 127.164.0.10, which partner pa claims; three clients connect from it,
# each with its own certificate (client authentication), to a TLS server
# that answers 200:
#   sbc-a.test  (pa's tls-identity)  -> events name peer pa
#   sbc-b.test  (pb's tls-identity; pb's address is elsewhere) -> peer pb
#   stranger.test (no partner's)     -> the unknown zone (pa declares
#                                       identities, this one is not among them)
# The SIP is readable because the connections use a NULL cipher
# (NULL-SHA256, TLS 1.2): capture/tls.c takes the plaintext out of the
# records.  A fourth connection with sbc-a.test over AES-GCM is encrypted:
# no SIP of it is screened, but its certificate is read and reported (the
# summary's tls lines); a fifth one over TLS 1.3 is reported as having its
# certificate encrypted.  A plain TCP message from the same address is pa
# by address.  Every process is stopped by its PID; every wait is bounded.
set -uo pipefail
SW_SRC=${SW_SRC:-.}
SIPWALL=${SIPWALL:-$SW_SRC/build/sipwall}
SW_BUILD=${SW_BUILD:-$SW_SRC/build}
T=$(mktemp -d "$SW_BUILD/test_check_tls.XXXXXX") || exit 1
PIDS=()
FAILS=0
cleanup() {
    local rc=$? pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "$rc" = 0 ] && [ "$FAILS" = 0 ]; then rm -rf "$T"; else echo "work dir kept: $T"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
die() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); exit 1; }
for tool in openssl tcpdump python3 timeout; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not installed (scripts/install-deps)"
done
[ -x "$SIPWALL" ] || die "sipwall not found at $SIPWALL"

SRV=127.164.0.1
CLI=127.164.0.10

# ---- certificates: a CA, the server, three clients ------------------------------------
P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1 || die "openssl $1 failed (see $T/openssl.log)"; }
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test CA" -keyout "$P/ca.key" -out "$P/ca.pem"
mkcert() { # NAME CN
    ossl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$P/$1.key" -out "$P/$1.csr"
    printf 'subjectAltName=DNS:%s\n' "$2" >"$P/$1.ext"
    ossl x509 -req -in "$P/$1.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
        -extfile "$P/$1.ext" -out "$P/$1.pem"
}
mkcert server core.test
mkcert a sbc-a.test
mkcert b sbc-b.test
mkcert c stranger.test

# ---- the SIP-over-TLS peers ---------------------------------------------------------------
cat >"$T/tls_peers.py" <<'PY'
import socket, ssl, sys, time
P, mode = sys.argv[1], sys.argv[2]
NULL = "NULL-SHA256:@SECLEVEL=0"
def options(cid, src):
    return ("OPTIONS sip:+447700900123@core.test SIP/2.0\r\n"
            "Via: SIP/2.0/TLS %s:5061;branch=z9hG4bK%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:probe@%s>;tag=t%s\r\n"
            "To: <sip:+447700900123@core.test>\r\n"
            "Call-ID: %s@tls.test\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "User-Agent: tls-probe\r\n"
            "Content-Length: 0\r\n\r\n" % (src, cid, src, cid, cid)).encode()
def read_msg(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")
if mode == "server":
    ip, n = sys.argv[3], int(sys.argv[4])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, 5061))
    ls.listen(8)
    ls.settimeout(30)
    print("listening", flush=True)
    for _ in range(n):
        conn, _ = ls.accept()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(P + "/server.pem", P + "/server.key")
        ctx.load_verify_locations(P + "/ca.pem")
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_ciphers(NULL + ":ECDHE-RSA-AES128-GCM-SHA256")
        conn.settimeout(10)
        try:
            s = ctx.wrap_socket(conn, server_side=True)
            req = read_msg(s)
            keep = [l for l in req.split("\r\n")[1:] if l.split(":", 1)[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
            s.sendall(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode())
            time.sleep(0.1)
            s.close()
        except (ssl.SSLError, OSError) as e:
            print("server:", e, flush=True)
else:
    ip, cert, cid, cipher = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(P + "/ca.pem")
    ctx.check_hostname = False
    ctx.load_cert_chain(P + "/" + cert + ".pem", P + "/" + cert + ".key")
    if cipher == "tls13":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    else:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(NULL if cipher == "null" else "ECDHE-RSA-AES128-GCM-SHA256")
    raw = socket.create_connection((sys.argv[7], 5061), timeout=10, source_address=(ip, 0))
    s = ctx.wrap_socket(raw)
    s.sendall(options(cid, ip))
    ans = read_msg(s)
    print(cid, s.cipher()[0], ans.split("\r\n", 1)[0])
    s.close()
PY

# plain TCP SIP from the same address (pa by address)
cat >"$T/tcp_peer.py" <<'PY'
import socket, sys
ip, dst = sys.argv[1], sys.argv[2]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((dst, 5060))
ls.listen(1)
c = socket.create_connection((dst, 5060), timeout=5, source_address=(ip, 0))
s, _ = ls.accept()
c.sendall(("OPTIONS sip:core.test SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bKplain\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:probe@%s>;tag=p\r\nTo: <sip:core.test>\r\n"
           "Call-ID: tcp-a@tls.test\r\nCSeq: 1 OPTIONS\r\nUser-Agent: tls-probe\r\n"
           "Content-Length: 0\r\n\r\n" % (ip, ip)).encode())
s.recv(4096)
c.close(); s.close(); ls.close()
PY

# ---- the capture --------------------------------------------------------------------------
PCAP=$T/tls.pcap
tcpdump -i lo --immediate-mode -U -s 0 -w "$PCAP" "net 127.164.0.0/16" >"$T/tcpdump.log" 2>&1 &
TCPDUMP=$!
PIDS+=("$TCPDUMP")
for _ in $(seq 50); do grep -q "listening on" "$T/tcpdump.log" && break; sleep 0.1; done
grep -q "listening on" "$T/tcpdump.log" || die "tcpdump did not start: $(head -c 300 "$T/tcpdump.log")"

timeout 60 python3 "$T/tls_peers.py" "$P" server "$SRV" 5 >"$T/server.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 50); do grep -q listening "$T/server.log" && break; sleep 0.1; done
timeout 10 python3 "$T/tcp_peer.py" "$CLI" "$SRV" >>"$T/clients.log" 2>&1 || bad "the TCP client failed"
for spec in "a tls-a null" "b tls-b null" "c tls-c null" "a tls-aes aes" "a tls-13 tls13"; do
    set -- $spec
    timeout 20 python3 "$T/tls_peers.py" "$P" client "$CLI" "$1" "$2" "$3" "$SRV" >>"$T/clients.log" 2>&1 ||
        bad "TLS client $2 failed: $(tail -n 2 "$T/clients.log" | tr '\n' ' ')"
done
wait "$SERVER"
check "the clients got their answers (NULL-SHA256 for the screened ones)" \
    bash -c "[ \$(grep -c 'NULL-SHA256 SIP/2.0 200' '$T/clients.log') = 3 ]"
# the last packets reach the file before tcpdump stops (immediate mode, a pause)
sleep 1
kill -INT "$TCPDUMP" 2>/dev/null
wait "$TCPDUMP"

# SW_TLS_PCAP_OUT=FILE keeps the capture (fuzz/make-tls-seeds makes the
# fuzz_capture_tls seeds from it)
[ -z "${SW_TLS_PCAP_OUT:-}" ] || cp "$PCAP" "$SW_TLS_PCAP_OUT"

# ---- sipwall check -------------------------------------------------------------------------
cat >"$T/partners.policy" <<EOF
partner core { role core; address $SRV }
partner pa { role interconnect; address $CLI; tls-identity "sbc-a.test" }
partner pb { role interconnect; address 192.0.2.99; tls-identity "sbc-b.test" }
rule cat1.tls-probe { when request and user-agent contains "tls-probe"; action tag; reason "test probe" }
EOF
"$SIPWALL" check --policy builtin:default --policy "$T/partners.policy" --events "$T/events.jsonl" "$PCAP" \
    >"$T/check.out" 2>&1
rc=$?
check "sipwall check exits 0 (status $rc)" [ "$rc" = 0 ]
peer_of() { # CALL-ID-PREFIX RULE: the peer field of the event (or "-")
    python3 - "$T/events.jsonl" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("call_id", "").startswith(sys.argv[2]) and e.get("rule") == sys.argv[3]:
        print(e.get("peer", "-"), e.get("transport"))
        break
else:
    print("none")
PY
}
check "sbc-a.test's message: peer pa over tls ($(peer_of tls-a@ cat1.tls-probe))" \
    [ "$(peer_of tls-a@ cat1.tls-probe)" = "pa tls" ]
check "sbc-b.test's message from pa's address: peer pb ($(peer_of tls-b@ cat1.tls-probe))" \
    [ "$(peer_of tls-b@ cat1.tls-probe)" = "pb tls" ]
check "stranger.test's message from pa's address: the unknown zone drops it ($(peer_of tls-c@ cat0.admission))" \
    [ "$(peer_of tls-c@ cat0.admission)" = "- tls" ]
check "the plain TCP message from the same address: pa by address ($(peer_of tcp-a@ cat1.tls-probe))" \
    [ "$(peer_of tcp-a@ cat1.tls-probe)" = "pa tcp" ]
check "nothing of the AES connection is screened" [ "$(peer_of tls-aes@ cat1.tls-probe)" = none ]
check "the summary counts the TLS directions" \
    grep -Eq '^tls +[0-9]+ TLS directions, [0-9]+ certificates read, 1 TLS 1.3 \(certificates encrypted\), 6 NULL cipher \(SIP screened\), 4 encrypted \(SIP not readable\), 0 given up' "$T/check.out"
check "the summary names sbc-b.test's certificate as pb's" \
    grep -q "client certificate sbc-b.test: partner pb by certificate" "$T/check.out"
check "the summary names stranger.test's certificate: the unknown zone" \
    grep -q "client certificate stranger.test: zone unknown by certificate" "$T/check.out"
check "the encrypted connection's certificate is reported as pa's" \
    bash -c "[ \$(grep -c 'client certificate sbc-a.test: partner pa by certificate' '$T/check.out') = 2 ]"
check "the server's certificate falls to its address (core)" \
    grep -q "server certificate core.test: partner core by address" "$T/check.out"
check "the TLS 1.3 connection: certificate encrypted" grep -q "TLS 1.3: certificate encrypted" "$T/check.out"
[ "$FAILS" = 0 ] || { echo "--- check output"; cat "$T/check.out"; }
echo "check_tls_identity: $FAILS failed"
[ "$FAILS" = 0 ]
