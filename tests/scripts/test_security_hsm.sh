#!/usr/bin/env bash
# Issue 15, item 3: the SIP TLS private key lives in a PKCS#11 token
# (SoftHSM2 in a temporary directory, key imported with pkcs11-tool, module
# found through p11-kit): sipwalld's TLS listener is configured with a
# pkcs11: URI and no key file, and TLS clients complete handshakes against
# it, checking the certificate (so the token signs).  A wrong PIN or an
# unknown object is refused at --check-config and at start, with the PIN
# masked; a PIN file others can read is refused; the PIN never appears in
# the log or the ctl output.
# Nets: 127.217.0.0/16 only.
set -uo pipefail
SIPWALLD=${SIPWALLD:-build/sipwalld}
SW_BUILD=${SW_BUILD:-build}
T=$(mktemp -d "$SW_BUILD/test_security_hsm.XXXXXX")
T=$(cd "$T" && pwd)
PID=
FAILS=0
cleanup() {
    [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
    wait 2>/dev/null
    [ "$FAILS" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$T"
}
trap cleanup EXIT
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
NET=127.217.0
MODULE=/usr/lib/softhsm/libsofthsm2.so
for tool in softhsm2-util pkcs11-tool; do
    command -v $tool >/dev/null || { echo "FAIL: $tool missing (scripts/install-deps)"; exit 1; }
done
[ -e "$MODULE" ] || { echo "FAIL: $MODULE missing (softhsm2)"; exit 1; }

mkdir -p "$T/tokens"
cat >"$T/softhsm2.conf" <<EOF
directories.tokendir = $T/tokens
objectstore.backend = file
log.level = ERROR
EOF
export SOFTHSM2_CONF=$T/softhsm2.conf
PIN=$(openssl rand -hex 6)
softhsm2-util --init-token --free --label swtest --pin "$PIN" --so-pin "$(openssl rand -hex 8)" >/dev/null ||
    { echo "FAIL: softhsm2-util --init-token"; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/import.key" -out "$T/sip.pem" -days 2 \
    -subj "/CN=hsm.sip.test" >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }
openssl pkcs8 -topk8 -nocrypt -in "$T/import.key" -outform DER -out "$T/import.der"
pkcs11-tool --module "$MODULE" --login --pin "$PIN" --token-label swtest --write-object "$T/import.der" \
    --type privkey --id 5301 --label sipkey >/dev/null 2>&1 || { echo "FAIL: pkcs11-tool import"; exit 1; }
shred -u "$T/import.key" "$T/import.der" # from here on the key exists only in the token
printf '%s' "$PIN" >"$T/pin"
chmod 600 "$T/pin"

conf() { # conf NAME KEYREF
    cat >"$T/$1.conf" <<EOF
mode inline
workers 1
policy builtin:default
events $T/events.jsonl
log $T/sipwalld.log
admin $T/admin.sock
secret $T/secret
listen udp $NET.1:5060 side=interconnect
listen tls $NET.1:5061 side=interconnect cert=$T/sip.pem key=$2 verify=none
listen udp $NET.2:5060 side=core
forward udp:$NET.3:5060
EOF
}
URI="pkcs11:token=swtest;object=sipkey;type=private?pin-source=file:$T/pin"

conf good "$URI"
if out=$("$SIPWALLD" --check-config -c "$T/good.conf" 2>&1); then ok "--check-config loads the key from the token"
else bad "--check-config: $out"; fi

# refused: a PIN in the config, a wrong PIN, an unknown object, a loose PIN file
conf inlinepin "pkcs11:token=swtest;object=sipkey;type=private;pin-value=$PIN"
out=$("$SIPWALLD" --check-config -c "$T/inlinepin.conf" 2>&1)
if [ $? -ne 0 ] && grep -q "inlinepin.conf:9: listen key .*pin-value=\*\*\*.*pin-source=file:" <<<"$out" &&
    ! grep -qF "$PIN" <<<"$out"; then
    ok "a PIN written in the config is refused, and not repeated"
else bad "inline PIN: $out"; fi
printf '999999999' >"$T/wrong.pin"; chmod 600 "$T/wrong.pin"
conf wrongpin "pkcs11:token=swtest;object=sipkey;type=private?pin-source=file:$T/wrong.pin"
out=$("$SIPWALLD" --check-config -c "$T/wrongpin.conf" 2>&1)
if [ $? -ne 0 ] && grep -q "wrongpin.conf:9: listen tls: private key pkcs11:.*the PIN is wrong" <<<"$out"; then
    ok "a wrong PIN is refused"
else bad "wrong PIN: $out"; fi
conf noobj "pkcs11:token=swtest;object=nosuchkey;type=private?pin-source=file:$T/pin"
out=$("$SIPWALLD" --check-config -c "$T/noobj.conf" 2>&1)
[ $? -ne 0 ] && grep -q "nosuchkey" <<<"$out" && ok "an unknown object is refused" || bad "unknown object: $out"
chmod 644 "$T/pin"
out=$("$SIPWALLD" --check-config -c "$T/good.conf" 2>&1)
[ $? -ne 0 ] && grep -q "$T/pin: mode 0644" <<<"$out" && ok "a PIN file others can read is refused" \
    || bad "PIN file 0644: $out"
chmod 600 "$T/pin"
timeout 20 "$SIPWALLD" -c "$T/wrongpin.conf" >"$T/wrongpin.out" 2>&1
st=$?
if [ "$st" != 0 ] && [ "$st" != 124 ] && ! grep -q 999999999 "$T/wrongpin.out" "$T/sipwalld.log" 2>/dev/null; then
    ok "start with a wrong PIN exits ($st)"
else bad "start with a wrong PIN: $st $(cat "$T/wrongpin.out")"; fi

# the daemon serves TLS with the token's key
rm -f "$T/sipwalld.log"
"$SIPWALLD" -c "$T/good.conf" >"$T/run.out" 2>&1 &
PID=$!
up=0
for _ in $(seq 100); do
    "$SIPWALLD" -c "$T/good.conf" ctl stats >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
done
[ "$up" = 1 ] || bad "sipwalld did not start: $(cat "$T/run.out" "$T/sipwalld.log" 2>/dev/null | tail -5)"
hs=0
for i in 1 2 3 4 5; do
    # the certificate is the CA: verification passes only if the server
    # proved it holds the key (TLS 1.3 CertificateVerify, 1.2 the key exchange)
    tv=$([ $((i % 2)) = 0 ] && echo -tls1_2 || echo -tls1_3)
    if timeout 5 openssl s_client -connect "$NET.1:5061" $tv -CAfile "$T/sip.pem" -verify_return_error \
        -verify_hostname hsm.sip.test -brief </dev/null >"$T/s_client.$i" 2>&1 &&
        grep -q "Verification: OK" "$T/s_client.$i"; then
        hs=$((hs + 1))
    fi
done
[ "$hs" = 5 ] && ok "5 of 5 verified TLS handshakes (1.2 and 1.3) signed in the token" \
    || bad "$hs of 5 handshakes: $(head -5 "$T/s_client.1")"
# a SIP request over that TLS connection reaches the screening engine (the
# sender is no partner: the default policy drops it, an event on the TLS listener)
printf 'OPTIONS sip:hsm.sip.test SIP/2.0\r\nVia: SIP/2.0/TLS 127.217.0.9:5061;branch=z9hG4bK-hsm1\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.217.0.9>;tag=1\r\nTo: <sip:hsm.sip.test>\r\nCall-ID: hsm-1@127.217.0.9\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' |
    timeout 3 openssl s_client -connect "$NET.1:5061" -CAfile "$T/sip.pem" -quiet -ign_eof >/dev/null 2>&1
for _ in $(seq 20); do grep -q '"listener":"tls-ic-2"' "$T/events.jsonl" 2>/dev/null && break; sleep 0.2; done
grep -q '"listener":"tls-ic-2"' "$T/events.jsonl" && ok "a SIP request over the token-keyed TLS listener was screened" \
    || bad "no event from the TLS listener"
"$SIPWALLD" -c "$T/good.conf" ctl stats >"$T/ctl.out" 2>&1
kill -TERM "$PID"; wait "$PID"; st=$?; PID=
[ "$st" = 0 ] && ok "clean stop (no sanitizer report)" || bad "sipwalld exit $st: $(tail -5 "$T/run.out")"
for o in "$T/run.out" "$T/sipwalld.log" "$T/ctl.out" "$T/events.jsonl"; do
    [ -e "$o" ] && grep -qF "$PIN" "$o" && bad "the PIN appears in $o"
done
ok "the PIN is in no output"
[ "$FAILS" = 0 ] && echo "PASS" || { echo "$FAILS failure(s)"; exit 1; }
