# shellcheck shell=bash
# SIP test targets for `sipwall assess` (tests/scripts/test_assess_*.sh), the
# recipes of docs/assess.md "Test targets", run on Debian 12 packages:
#
#   swa_ns_create NAME              a network namespace (prefix swa-/swb-/swx-) with lo up
#   swa_ns_delete NAME              removes it (after its processes are stopped)
#   swa_pki DIR                     throwaway PKI: ca, server (sbc.test, IP 127.0.0.1),
#                                   device (clientAuth), rogue (self-signed)
#   swa_sip_insecure NS DIR [ADDR]  Kamailio on ADDR:5060 udp+tcp: open relay to a
#                                   SIPp "PSTN" UAS on :5080, REGISTER and OPTIONS
#                                   oracles (404 for unknown users), digest users 1000/1000 and
#                                   1001/1234, Warning and P-Access-Network-Info leaks
#   swa_sip_hardened NS DIR [ADDR]  Kamailio TLS-only on ADDR:5061, mutual TLS
#                                   (swa_pki's CA), TLSv1.2+, ECDHE+AEAD, pike,
#                                   sanity, every REGISTER/INVITE/MESSAGE/SUBSCRIBE
#                                   challenged, no Server header, no Warning
#   swa_sip_uas NS ADDR PORT        a plain SIPp UAS (the default scenario)
#   swa_stop_all                    stops every process started here by its PID
#
# NS "" runs on the host's loopback (then ADDR must be in the caller's own
# 127.NET.0.0/16).  Every process is recorded in SWA_PIDS and stopped by PID;
# every wait is bounded.  Kamailio's main PID comes from its -P file.

SWA_PIDS=()
SWA_KAMAILIO_MODULES=${SWA_KAMAILIO_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}

swa_in() { # NS CMD... : run in the namespace (or here when NS is empty)
    local ns=$1
    shift
    if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

swa_ns_create() {
    case $1 in swa-* | swb-* | swx-*) ;; *) echo "namespace $1: wrong prefix" >&2; return 1 ;; esac
    ip netns del "$1" 2>/dev/null
    ip netns add "$1" && ip netns exec "$1" ip link set lo up
}

swa_ns_delete() {
    local left i p
    for i in $(seq 1 100); do # children of a stopped Kamailio leave on their own
        left=$(ip netns pids "$1" 2>/dev/null)
        [ -n "$left" ] || break
        # after 5 s, what is still in our own namespace is killed by its PID
        if [ "$i" -eq 50 ]; then for p in $left; do kill -9 "$p" 2>/dev/null; done; fi
        sleep 0.1
    done
    [ -z "$left" ] || echo "namespace $1 still has processes: $left" >&2
    ip netns del "$1" 2>/dev/null
    [ -z "$left" ]
}

swa_wait_port() { # NS PROTO ADDR PORT : up to 10 s for a listener
    local i
    for i in $(seq 1 100); do
        if swa_in "$1" ss -Hln"$( [ "$2" = udp ] && echo u || echo t)" "src $3:$4" 2>/dev/null | grep -q .; then
            return 0
        fi
        sleep 0.1
    done
    echo "no $2 listener on $3:$4 in ${1:-host}" >&2
    return 1
}

swa_pki() { # DIR
    local d=$1
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
        key ca
        openssl req -x509 -new -key ca.key -sha256 -days 365 -subj /CN=test-ca \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -out ca.crt 2>/dev/null
        leaf() { # NAME CN EKU SAN
            key "$1"
            openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
            printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n%s\n' \
                "$3" "${4:+subjectAltName=$4}" >"$1.ext"
            openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 \
                -extfile "$1.ext" -out "$1.crt" 2>/dev/null
            rm -f "$1.csr" "$1.ext"
        }
        leaf server sbc.test serverAuth "DNS:sbc.test,IP:127.0.0.1"
        leaf device iot-0001 clientAuth ""
        key rogue
        openssl req -x509 -new -key rogue.key -sha256 -days 365 -subj /CN=rogue -out rogue.crt 2>/dev/null
        chmod 644 ./*.crt ./*.key
    ) && [ -s "$d/server.crt" ] && [ -s "$d/device.crt" ]
}

# The insecure SIP service of the spec (§7), verified on Kamailio 5.6.3.
swa_sip_insecure() { # NS DIR [ADDR]
    local ns=$1 d=$2 a=${3:-127.0.0.1}
    mkdir -p "$d/kdb"
    printf 'table_name(str) table_version(int)\nsubscriber:7\nlocation:9\n' >"$d/kdb/version"
    printf 'id(int,auto) username(str) domain(str) password(str) ha1(str,null) ha1b(str,null)\n1:1000:%s:1000:::\n2:1001:%s:1234:::\n' \
        "$a" "$a" >"$d/kdb/subscriber"
    cat >"$d/kamailio.cfg" <<EOF
#!KAMAILIO
debug=1
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
listen=udp:$a:5060
listen=tcp:$a:5060
alias="$a"
mpath="$SWA_KAMAILIO_MODULES"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "db_text.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
modparam("usrloc", "db_mode", 0)
modparam("auth_db", "db_url", "text://$d/kdb")
modparam("auth_db", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "load_credentials", "\$avp(subid)=id")

request_route {
    if (has_totag()) { \$du = "sip:$a:5080"; t_relay(); exit; }
    if (is_method("ACK")) { t_relay(); exit; }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("OPTIONS")) {
        # a second oracle: OPTIONS to an unknown user's URI is a 404
        if (\$rU != \$null && !is_subscriber("\$ru", "subscriber", "1")) { sl_send_reply("404", "Not Here"); exit; }
        append_to_reply("Warning: 399 10.20.30.40:5060 \"gw-int-2 Kamailio 5.6.3\"\r\n");
        sl_send_reply("200", "OK"); exit;
    }
    if (is_method("REGISTER")) {
        if (!is_subscriber("\$fu", "subscriber", "1")) { sl_send_reply("404", "User Not Found"); exit; }
        if (!www_authorize("\$td", "subscriber")) { www_challenge("\$td", "1"); exit; }
        save("location"); exit;
    }
    if (is_method("INVITE|MESSAGE")) {
        \$du = "sip:$a:5080"; t_on_reply("LEAK"); t_relay(); exit;
    }
    sl_send_reply("405", "Method Not Allowed");
}
onreply_route[LEAK] {
    append_hf("P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=26201000A1B2C3D4\r\n");
    append_hf("Warning: 399 10.20.30.40:5060 \"gw-int-2\"\r\n");
}
EOF
    swa_sip_uas "$ns" "$a" 5080 || return 1
    swa_kamailio "$ns" "$d" || return 1
    swa_wait_port "$ns" udp "$a" 5060 && swa_wait_port "$ns" tcp "$a" 5060
}

swa_kamailio() { # NS DIR : Kamailio on DIR/kamailio.cfg; its main PID from -P
    local i
    rm -f "$2/kamailio.pid"
    if [ -n "$1" ]; then
        ip netns exec "$1" kamailio -f "$2/kamailio.cfg" -P "$2/kamailio.pid" -DD -E >"$2/kamailio.log" 2>&1 &
    else
        kamailio -f "$2/kamailio.cfg" -P "$2/kamailio.pid" -DD -E >"$2/kamailio.log" 2>&1 &
    fi
    SWA_PIDS+=($!)
    for i in $(seq 1 100); do [ -s "$2/kamailio.pid" ] && break; sleep 0.1; done
    [ -s "$2/kamailio.pid" ] || { echo "kamailio did not start:" >&2; cat "$2/kamailio.log" >&2; return 1; }
    SWA_PIDS+=("$(cat "$2/kamailio.pid")")
}

# The hardened SIP service: TLS only, mutual TLS, pike.  Needs swa_pki DIR.
swa_sip_hardened() { # NS DIR [ADDR]
    local ns=$1 d=$2 a=${3:-127.0.0.1} pw
    pw=$(openssl rand -hex 16)
    mkdir -p "$d/kdb"
    printf 'table_name(str) table_version(int)\nsubscriber:7\nlocation:9\n' >"$d/kdb/version"
    printf 'id(int,auto) username(str) domain(str) password(str) ha1(str,null) ha1b(str,null)\n1:1000:sbc.test:%s:::\n' \
        "$pw" >"$d/kdb/subscriber"
    cat >"$d/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = $d/server.key
certificate = $d/server.crt
ca_list = $d/ca.crt
cipher_list = ECDHE+AESGCM:ECDHE+CHACHA20

[client:default]
verify_certificate = no
require_certificate = no
EOF
    cat >"$d/kamailio.cfg" <<EOF
#!KAMAILIO
debug=1
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
enable_tls=yes
pv_buffer_size=65536
listen=tls:$a:5061
alias="sbc.test"
server_signature=no
sip_warning=0
mpath="$SWA_KAMAILIO_MODULES"
loadmodule "textops.so"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "sanity.so"
loadmodule "pike.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "db_text.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "htable.so"
modparam("tls", "config", "$d/tls.cfg")
modparam("htable", "htable", "authfail=>size=8;autoexpire=60;")
modparam("pike", "sampling_time_unit", 2)
modparam("pike", "reqs_density_per_unit", 20)
modparam("pike", "remove_latency", 4)
modparam("usrloc", "db_mode", 0)
modparam("auth_db", "db_url", "text://$d/kdb")
modparam("auth_db", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "load_credentials", "\$avp(subid)=id")

request_route {
    if (!pike_check_req()) { exit; }
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (!sanity_check("17895", "7")) { exit; }
    route(STRICT);
    if (is_method("ACK")) { exit; }
    if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
    if (is_method("REGISTER")) {
        # failed logins per source: 5 within 60 s, then 403 until quiet
        if (\$sht(authfail=>\$si) != \$null && \$sht(authfail=>\$si) >= 5) {
            sl_send_reply("403", "Too Many Failed Logins"); exit;
        }
        if (!www_authorize("sbc.test", "subscriber")) {
            if (is_present_hf("Authorization")) {
                if (\$sht(authfail=>\$si) == \$null) { \$sht(authfail=>\$si) = 0; }
                \$sht(authfail=>\$si) = \$sht(authfail=>\$si) + 1;
            }
            www_challenge("sbc.test", "1"); exit;
        }
        save("location"); exit;
    }
    if (is_method("INVITE|MESSAGE|SUBSCRIBE")) {
        if (!proxy_authorize("sbc.test", "subscriber")) { proxy_challenge("sbc.test", "1"); exit; }
        sl_send_reply("403", "Forbidden"); exit;
    }
    sl_send_reply("405", "Method Not Allowed");
}
# What sanity_check lets through on 5.6.3, answered 400 like RFC 4475 3.1.2
# asks: a raw NUL in the header section (no RFC 3261 production allows one;
# checked on the hex form, as the regex engine stops at a NUL), a CSeq
# number of 2**31 or more (RFC 3261 8.1.1.5; sanity's 64 passes exactly
# 4294967296) and a %-escape in the Request-URI that is not % HEXDIG HEXDIG
# (RFC 3261 25.1).  Header sections over pv_buffer_size/2 are not checked.
route[STRICT] {
    if (\$(msg(hdrs){s.encode.hexa}) =~ "^(..)*00") { sl_send_reply("400", "NUL In Header"); exit; }
    if (\$cs =~ "^([0-9]{11,}|[3-9][0-9]{9}|2[2-9][0-9]{8}|21[5-9][0-9]{7}|214[89][0-9]{6}|2147[5-9][0-9]{5}|21474[9][0-9]{4}|214748[4-9][0-9]{3}|2147483[7-9][0-9]{2}|21474836[5-9][0-9]|214748364[89])\$") {
        sl_send_reply("400", "CSeq Out Of Range"); exit;
    }
    if (\$ru =~ "%(\$|.\$|[^0-9a-f]|.[^0-9a-f])") { sl_send_reply("400", "Bad Escape In URI"); exit; }
}
EOF
    swa_kamailio "$ns" "$d" || return 1
    swa_wait_port "$ns" tcp "$a" 5061
}

# Kamailio 5.6.3 (Debian 12) with OpenSSL 3 can abort in its TLS module
# while a client sends malformed requests over TLS: "qm_free(): BUG:
# freeing already freed pointer ... tls_init.c: ser_free", then a worker
# "exited by a signal 6" and Kamailio stops (kamailio/kamailio#3791; later
# versions fix it with tls_threads_mode, which 5.6.3 does not have).  It is
# the target's bug, and rare (about one run in five under a parallel
# ctest).  A test whose hardened target died that way says so, restarts it
# (swa_kamailio_restart) and runs its assessment once more; a second crash,
# or any other failure, fails the test as usual.
swa_kamailio_crashed() { # DIR : 0 when DIR's Kamailio died of that bug
    grep -q 'tls_init.c: ser_free' "$1/kamailio.log" 2>/dev/null &&
        grep -q 'exited by a signal' "$1/kamailio.log" 2>/dev/null
}
swa_kamailio_restart() { # NS DIR [ADDR]
    local p i
    p=$(cat "$2/kamailio.pid" 2>/dev/null)
    if [ -n "$p" ]; then
        kill "$p" 2>/dev/null
        for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    fi
    mv "$2/kamailio.log" "$2/kamailio.crashed.log"
    swa_kamailio "$1" "$2" || return 1
    swa_wait_port "$1" tcp "${3:-127.0.0.1}" 5061
}

swa_sip_uas() { # NS ADDR PORT
    local out
    out=$(swa_in "$1" sipp -sn uas -i "$2" -p "$3" -bg -nostdin 2>&1)
    local pid
    pid=$(printf '%s\n' "$out" | grep -o 'PID=\[[0-9]*\]' | grep -o '[0-9]*' | head -1)
    [ -n "$pid" ] || { echo "sipp uas did not start: $out" >&2; return 1; }
    SWA_PIDS+=("$pid")
    swa_wait_port "$1" udp "$2" "$3"
}

swa_stop_all() {
    local p i
    for p in "${SWA_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${SWA_PIDS[@]}"; do
        for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    SWA_PIDS=()
}
