# shellcheck shell=bash
# Host and device test targets of `sipwall assess` (docs/assess.md, spec
# §7), each inside a network namespace the caller names (prefix swb-),
# everything listening on 127.0.0.1 inside it:
#
#   host_insecure_start NS   telnet with admin/admin (inetutils telnetd via
#                            socat and a fake login), lighttpd with HTTP
#                            Basic admin/admin under /admin/, anonymous MQTT
#                            on 1883 (mosquitto), a weak sshd (group1 kex,
#                            CBC/3DES, hmac-md5), a gdbserver stand-in on
#                            3333 (answers $qSupported)
#   host_hardened_start NS [PKI]  MQTT over TLS on 8883 with client
#                            certificates required (mosquitto), nothing
#                            else; PKI: a directory with ca.crt server.crt
#                            server.key (default: host_pki in the work dir)
#   host_pki DIR             test CA, server cert (CN sbc.test, SAN
#                            DNS:sbc.test,IP:127.0.0.1), device client cert
#                            (CN iot-0001), a self-signed rogue cert
#   HOST_TELNET_PID          the telnet listener's PID (a test may stop it early)
#   host_targets_stop        kills every recorded PID (SIGTERM, then KILL
#                            after 3 s), checks each namespace is empty and
#                            deletes it
#
# Every process is recorded in HOST_PIDS; every wait is bounded.  Needs
# root (ip netns).  HOST_WORK must be set to a writable directory.

HOST_PIDS=()
HOST_NETNS=()

host_log() { printf '[host %s] %s\n' "$(date +%T)" "$*"; }

# host_netns NS: creates NS with lo up (and records it for removal).
host_netns() {
    local ns=$1
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns" || return 1
    HOST_NETNS+=("$ns")
    ip netns exec "$ns" ip link set lo up
}

# host_wait_tcp NS PORT: up to 5 s for a listener on 127.0.0.1:PORT.
host_wait_tcp() {
    local ns=$1 port=$2 i
    for i in $(seq 1 50); do
        ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q LISTEN && return 0
        sleep 0.1
    done
    host_log "nothing listens on $ns tcp/$port"
    return 1
}

host_pki() {
    local d=$1
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
            -keyout ca.key -out ca.crt -subj /CN=test-ca 2>/dev/null || exit 1
        printf 'subjectAltName=DNS:sbc.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
            -subj /CN=sbc.test 2>/dev/null || exit 1
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
            -extfile server.ext -out server.crt 2>/dev/null || exit 1
        printf 'extendedKeyUsage=clientAuth\n' >device.ext
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key -out device.csr \
            -subj /CN=iot-0001 2>/dev/null || exit 1
        openssl x509 -req -in device.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
            -extfile device.ext -out device.crt 2>/dev/null || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
            -keyout rogue.key -out rogue.crt -subj /CN=rogue 2>/dev/null || exit 1
        chmod 644 ./*.key ./*.crt
    )
}

host_insecure_start() {
    local ns=$1 w=$HOST_WORK/insecure
    mkdir -p "$w/www/admin"
    chmod 755 "$HOST_WORK" "$w" "$w/www" "$w/www/admin"
    # telnet: inetutils telnetd is inetd-style; socat accepts and execs it
    # per connection with a fake login (admin/admin accepted).
    cat >"$w/fakelogin.sh" <<'EOS'
#!/bin/sh
printf 'IoT-GW-100 login: '
IFS= read -r user || exit 0
printf 'Password: '
IFS= read -r pass || exit 0
user=$(printf '%s' "$user" | tr -d '\r')
pass=$(printf '%s' "$pass" | tr -d '\r')
if [ "$user" = admin ] && [ "$pass" = admin ]; then
    printf '\r\nWelcome to IoT-GW-100 (BusyBox v1.35.0)\r\n# '
    sleep 1
else
    printf '\r\nLogin incorrect\r\n'
fi
EOS
    chmod 755 "$w/fakelogin.sh"
    ip netns exec "$ns" socat TCP-LISTEN:23,bind=127.0.0.1,reuseaddr,fork \
        EXEC:"/usr/sbin/telnetd -h -E $w/fakelogin.sh",nofork >"$w/telnet.log" 2>&1 &
    HOST_TELNET_PID=$!
    HOST_PIDS+=($!)
    # HTTP admin with Basic admin/admin
    echo '<html><body>IoT-GW-100</body></html>' >"$w/www/index.html"
    echo '<html><body>admin</body></html>' >"$w/www/admin/index.html"
    echo 'admin:admin' >"$w/htpasswd"
    cat >"$w/lighttpd.conf" <<EOS
server.document-root = "$w/www"
server.bind = "127.0.0.1"
server.port = 80
server.pid-file = "$w/lighttpd.pid"
server.errorlog = "$w/lighttpd.err"
server.modules = ("mod_auth", "mod_authn_file")
index-file.names = ("index.html")
auth.backend = "plain"
auth.backend.plain.userfile = "$w/htpasswd"
auth.require = ("/admin/" => ("method" => "basic", "realm" => "IoT-GW-100", "require" => "valid-user"))
EOS
    ip netns exec "$ns" /usr/sbin/lighttpd -D -f "$w/lighttpd.conf" >"$w/lighttpd.log" 2>&1 &
    HOST_PIDS+=($!)
    # anonymous MQTT
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' >"$w/mosquitto.conf"
    ip netns exec "$ns" /usr/sbin/mosquitto -c "$w/mosquitto.conf" >"$w/mosquitto.log" 2>&1 &
    HOST_PIDS+=($!)
    # weak sshd
    mkdir -p /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$w/ssh_host_ed25519_key" </dev/null >/dev/null
    cat >"$w/sshd_config" <<EOS
ListenAddress 127.0.0.1
Port 22
HostKey $w/ssh_host_ed25519_key
PermitRootLogin yes
KexAlgorithms +diffie-hellman-group1-sha1
Ciphers +aes128-cbc,3des-cbc
MACs +hmac-sha1,hmac-md5
UsePAM no
PidFile $w/sshd.pid
EOS
    ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$w/sshd_config" >"$w/sshd.log" 2>&1 &
    HOST_PIDS+=($!)
    # a gdbserver stand-in: answers the first packet like gdbserver does
    printf '#!/bin/sh\nhead -c 14 >/dev/null\nprintf "+\\$PacketSize=3fff;QStartNoAckMode+;multiprocess+#c7"\nsleep 1\n' >"$w/fakegdb.sh"
    chmod 755 "$w/fakegdb.sh"
    ip netns exec "$ns" socat TCP-LISTEN:3333,bind=127.0.0.1,reuseaddr,fork EXEC:"$w/fakegdb.sh" \
        >"$w/gdb.log" 2>&1 &
    HOST_PIDS+=($!)
    local p
    for p in 23 80 1883 22 3333; do host_wait_tcp "$ns" $p || return 1; done
}

host_hardened_start() {
    local ns=$1 w=$HOST_WORK/hardened pki=${2:-}
    mkdir -p "$w"
    chmod 755 "$HOST_WORK" "$w"
    if [ -z "$pki" ]; then
        pki=$w/pki
        host_pki "$pki" || return 1
    fi
    chmod 755 "$pki"
    cat >"$w/mosquitto.conf" <<EOS
listener 8883 127.0.0.1
cafile $pki/ca.crt
certfile $pki/server.crt
keyfile $pki/server.key
tls_version tlsv1.2
require_certificate true
use_identity_as_username true
allow_anonymous false
persistence false
log_dest stderr
EOS
    ip netns exec "$ns" /usr/sbin/mosquitto -c "$w/mosquitto.conf" >"$w/mosquitto.log" 2>&1 &
    HOST_PIDS+=($!)
    host_wait_tcp "$ns" 8883
}

host_targets_stop() {
    local pid ns i
    for pid in "${HOST_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for i in $(seq 1 30); do
        local alive=0
        for pid in "${HOST_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${HOST_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    HOST_PIDS=()
    for ns in "${HOST_NETNS[@]}"; do
        # socat's forked children (telnetd) and mosquitto may linger a moment
        for i in $(seq 1 30); do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.1
        done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            host_log "left in $ns: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null) (pid $pid)"
            kill -9 "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    HOST_NETNS=()
}
