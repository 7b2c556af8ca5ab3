/* fuzz_bundle — libFuzzer target for the signed bundle reader
 * (include/sipwall/bundle.h).
 *
 * Byte 0 picks the mode, the rest is one bundle file in an exactly sized
 * heap block, read with sw_bundle_parse and checked with sw_bundle_verify
 * against a key made at start (so bundles signed by others end as
 * unknown_key; the mode below reaches the signature and hash checks).
 * The contracts beyond ASan and UBSan: a parse either gives a bundle or a
 * named status other than OK and no bundle; a parsed bundle has 1..256
 * files with valid names, at least one policy and at most one feed, sizes
 * within the ceilings and data inside the input; every file is found by
 * its own name; verify never answers OK for an input the key did not sign.
 * Mode bit 0: the parsed bundle is written again (same files and version)
 * signed with the start key, and that must parse and verify OK with the
 * same files, and fail with hash_mismatch once a file byte changes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipwall/bundle.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sw_bundle_key *priv, *pub;

static void init_keys(void)
{
    char dir[] = "/tmp/fuzz-bundle-XXXXXX", a[64], b[64], id[SW_BUNDLE_KEYID_LEN + 1], err[256];
    FZ_CHECK(mkdtemp(dir) != NULL);
    snprintf(a, sizeof a, "%s/k.key", dir);
    snprintf(b, sizeof b, "%s/k.pub", dir);
    FZ_CHECK(sw_bundle_keygen(a, b, id, err, sizeof err) == SW_OK);
    FZ_CHECK(sw_bundle_key_load_private(a, &priv, err, sizeof err) == SW_OK);
    FZ_CHECK(sw_bundle_key_load_public(b, &pub, err, sizeof err) == SW_OK);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

static void check_bundle(const sw_bundle *b, const uint8_t *in, size_t size)
{
    size_t n = sw_bundle_nfiles(b), npol = 0, nfeed = 0;
    FZ_CHECK(n >= 1 && n <= SW_BUNDLE_MAX_FILES);
    FZ_CHECK(sw_bundle_version(b) >= 1);
    size_t blen;
    const uint8_t *bytes = sw_bundle_bytes(b, &blen);
    FZ_CHECK(blen == size && memcmp(bytes, in, size) == 0);
    for (size_t i = 0; i < n; i++) {
        const sw_bundle_file *f = sw_bundle_file_at(b, i);
        FZ_CHECK(f && f->name && sw_bundle_name_valid(f->name, strlen(f->name)));
        FZ_CHECK(f->len <= SW_BUNDLE_MAX_FILE);
        FZ_CHECK(f->len == 0 || (f->data >= bytes && f->data + f->len <= bytes + blen));
        FZ_CHECK(sw_bundle_find(b, f->name) == f);
        npol += f->role == SW_BUNDLE_ROLE_POLICY;
        nfeed += f->role == SW_BUNDLE_ROLE_FEED;
    }
    FZ_CHECK(npol >= 1 && nfeed <= 1);
    FZ_CHECK(sw_bundle_file_at(b, n) == NULL);
}

static void resign(const sw_bundle *b)
{
    size_t n = sw_bundle_nfiles(b);
    sw_bundle_input *in = calloc(n, sizeof *in);
    FZ_CHECK(in != NULL);
    for (size_t i = 0; i < n; i++) {
        const sw_bundle_file *f = sw_bundle_file_at(b, i);
        in[i] = (sw_bundle_input){f->name, f->role, f->data, f->len};
    }
    uint8_t *out = NULL;
    size_t len = 0;
    char err[256];
    int rc = sw_bundle_write(in, n, sw_bundle_version(b), 1, priv, &out, &len, err, sizeof err);
    /* the manifest grows by the signer id: it may pass the ceiling now */
    FZ_CHECK(rc == SW_OK || rc == SW_ELIMIT);
    if (rc == SW_OK) {
        sw_bundle *r = NULL;
        FZ_CHECK(sw_bundle_parse(out, len, &r, err, sizeof err) == SW_BUNDLE_OK);
        sw_bundle_trust t = {pub, 0};
        FZ_CHECK(sw_bundle_verify(r, &t, 1, NULL, err, sizeof err) == SW_BUNDLE_OK);
        FZ_CHECK(sw_bundle_nfiles(r) == n);
        for (size_t i = 0; i < n; i++) {
            const sw_bundle_file *f = sw_bundle_file_at(r, i);
            FZ_CHECK(strcmp(f->name, in[i].name) == 0 && f->len == in[i].len &&
                     (f->len == 0 || memcmp(f->data, in[i].data, f->len) == 0));
        }
        sw_bundle_free(r);
        /* one byte of the last non-empty file flipped: the hash must catch it */
        size_t last = n;
        while (last > 0 && in[last - 1].len == 0)
            last--;
        if (last > 0) {
            out[len - 1] ^= 1;
            FZ_CHECK(sw_bundle_parse(out, len, &r, err, sizeof err) == SW_BUNDLE_OK);
            FZ_CHECK(sw_bundle_verify(r, &t, 1, NULL, err, sizeof err) == SW_BUNDLE_HASH_MISMATCH);
            sw_bundle_free(r);
        }
    }
    free(out);
    free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!priv)
        init_keys();
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    size_t n = size - 1;
    uint8_t *in = malloc(n ? n : 1);
    FZ_CHECK(in != NULL);
    memcpy(in, data + 1, n);
    sw_bundle *b = NULL;
    char err[64]; /* small: messages are cut, never overrun */
    sw_bundle_status st = sw_bundle_parse(in, n, &b, err, sizeof err);
    FZ_CHECK((st == SW_BUNDLE_OK) == (b != NULL));
    FZ_CHECK(sw_bundle_status_name(st) != NULL);
    if (b) {
        check_bundle(b, in, n);
        sw_bundle_trust t = {pub, 0};
        sw_bundle_status v = sw_bundle_verify(b, &t, 1, NULL, err, sizeof err);
        /* a signature by the start key cannot appear in a fuzz input
         * (except from mode 1's output, which is never fed back here) */
        FZ_CHECK(v != SW_BUNDLE_OK);
        sw_bundle_mark m = {sw_bundle_version(b), {0}};
        (void)sw_bundle_check_version(b, &m, err, sizeof err);
        if (mode & 1)
            resign(b);
        sw_bundle_free(b);
    }
    free(in);
    return 0;
}
