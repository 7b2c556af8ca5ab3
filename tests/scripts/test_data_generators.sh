#!/usr/bin/env bash
# The committed test data is exactly what its generators write: a change to a
# generator or to a data file without the other fails here.
set -u
cd "${SW_SRC:-$(dirname "$0")/../..}"
rc=0
for gen in tests/data/make_torture.py tests/data/make_ims.py tests/captures/make_test_pcaps.py; do
    if python3 "$gen" --check; then
        echo "ok: $gen --check"
    else
        echo "FAIL: $gen --check reports drift"
        rc=1
    fi
done
exit $rc
