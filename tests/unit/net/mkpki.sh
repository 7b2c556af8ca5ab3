#!/bin/sh
# A throwaway PKI for tests/unit/net/test_stream.c: usage mkpki.sh DIR.
# ca, rogue-ca (another CA), server (DNS:server.test, IP:127.0.0.1),
# client (CN client.test, DNS:client.test, URI:sip:client.test),
# rogue-client (signed by rogue-ca).  EC P-256 keys: quick to make.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
ossl() { openssl "$@" >>openssl.log 2>&1; }
ca() {
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
        -out "$1.pem" -days 2 -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
}
leaf() { # leaf NAME CN CA SAN EKU
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
        -out "$1.csr" -subj "/CN=$2"
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$4" "$5" >"$1.ext"
    ossl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" \
        -days 2 -extfile "$1.ext"
}
ca ca "sipwall unit test CA"
ca rogue-ca "rogue CA"
leaf server server.test ca "DNS:server.test,IP:127.0.0.1" serverAuth
leaf client client.test ca "DNS:client.test,URI:sip:client.test" clientAuth
leaf rogue-client client.test rogue-ca "DNS:client.test" clientAuth
