#!/bin/sh
# mkpki.sh DIR — a throwaway PKI for the export tests, made fresh per run:
#   ca        the test CA (signs everything below except rogue)
#   server    the collector: serverAuth, names localhost and 127.0.0.1
#   other     a collector of the same CA that names another host (wrong name)
#   client    sipwalld: clientAuth, DNS:sipwall-test-client
#   intruder  same CA, clientAuth, a name the collector does not permit
#   rogueca   a second, unrelated CA
#   rogue     clientAuth, DNS:sipwall-test-client, signed by rogueca
#   rogueserver serverAuth, localhost, signed by rogueca (a collector we must not trust)
# EC P-256 keys, SHA-256, 30 days.  Keys are mode 600.
set -eu
[ $# -eq 1 ] || { echo "usage: mkpki.sh DIR" >&2; exit 2; }
mkdir -p "$1"
cd "$1"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# make_ca NAME
make_ca() {
    key "$1"
    openssl req -x509 -new -key "$1.key" -sha256 -days 30 -subj "/CN=$1 test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem" 2>/dev/null
}

# make_leaf NAME ISSUER EKU SAN
make_leaf() {
    key "$1"
    openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr" 2>/dev/null
    {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature"
        echo "extendedKeyUsage=$3"
        echo "subjectAltName=$4"
    } > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 30 \
        -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

make_ca ca
make_ca rogueca
make_leaf server ca serverAuth "DNS:localhost,IP:127.0.0.1"
make_leaf other ca serverAuth "DNS:collector.elsewhere.test"
make_leaf client ca clientAuth "DNS:sipwall-test-client"
make_leaf intruder ca clientAuth "DNS:intruder"
make_leaf rogue rogueca clientAuth "DNS:sipwall-test-client"
make_leaf rogueserver rogueca serverAuth "DNS:localhost,IP:127.0.0.1"
chmod 600 ./*.key
