#!/usr/bin/env bash
# The stream seam (include/sipwall/net.h): no OpenSSL connection call and no
# OpenSSL header outside src/net/ — every TLS/DTLS connection goes through
# sw_stream.  A new `SSL_read(` in src/daemon/ fails this test.
# env: SW_SRC (repo root).
set -u
SW_SRC=${SW_SRC:-$(pwd)}
cd "$SW_SRC" || exit 1
fails=0
calls=$(grep -rnE '\b(SSL|DTLS|DTLSv1|ERR|BIO|X509)_[A-Za-z0-9_]+[[:space:]]*\(' src include \
        --include='*.c' --include='*.h' | grep -v '^src/net/' || true)
if [ -n "$calls" ]; then
    echo "FAIL: OpenSSL calls outside src/net/:"; echo "$calls"; fails=$((fails + 1))
else
    echo "ok:   no OpenSSL call outside src/net/"
fi
incs=$(grep -rnE '#include[[:space:]]*<openssl/(ssl|dtls1|tls1|x509[a-z_]*)\.h>' src include --include='*.c' --include='*.h' \
       | grep -v '^src/net/' || true)
if [ -n "$incs" ]; then
    echo "FAIL: OpenSSL TLS headers outside src/net/:"; echo "$incs"; fails=$((fails + 1))
else
    echo "ok:   no OpenSSL TLS header outside src/net/"
fi
# the check itself can fail: it finds the calls src/net/ does make
if ! grep -rqE '\bSSL_read[[:space:]]*\(' src/net; then
    echo "FAIL: the pattern no longer finds SSL_read in src/net/ (the check is blind)"; fails=$((fails + 1))
fi
exit $((fails > 0))
