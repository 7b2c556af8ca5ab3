/* Signed bundles (include/sipwall/bundle.h): signing and verifying, each
 * refusal (tampered file, tampered manifest, wrong key, unsigned, rollback,
 * replay), the retiring key, the reader's ceilings and names, keygen's file
 * modes, the marks, and a policy loaded from a bundle in memory only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/bundle.h"
#include "sipwall/policy.h"

static char dir[64];
static sw_bundle_key *k1, *k2; /* private keys */
static sw_bundle_key *p1, *p2; /* their public halves */

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw-bundle-test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char priv[128], pub[128], id[SW_BUNDLE_KEYID_LEN + 1], err[256];
    const char *names[] = {"k1", "k2"};
    sw_bundle_key **privs[] = {&k1, &k2}, **pubs[] = {&p1, &p2};
    for (int i = 0; i < 2; i++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "%s.key", names[i]);
        snprintf(b, sizeof b, "%s.pub", names[i]);
        path_of(priv, sizeof priv, a);
        path_of(pub, sizeof pub, b);
        if (sw_bundle_keygen(priv, pub, id, err, sizeof err) != SW_OK ||
            sw_bundle_key_load_private(priv, privs[i], err, sizeof err) != SW_OK ||
            sw_bundle_key_load_public(pub, pubs[i], err, sizeof err) != SW_OK)
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sw_bundle_key_free(k1);
    sw_bundle_key_free(k2);
    sw_bundle_key_free(p1);
    sw_bundle_key_free(p2);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char main_policy[] = "policy \"from-bundle\"\n"
                                  "include \"inc/partners.policy\"\n"
                                  "location-feed \"feeds/subscribers.tsv\"\n";
static const char partners[] = "list blocked numbers file \"../lists/blocked.tsv\"\n";
static const char blocked[] = "+88213\tsatellite\n+4477009009\tknown fraud\n";
static const char feed[] = "+447700900123\t262-01\t2026-11-25T10:00:00Z\n";

static uint8_t *make(const sw_bundle_key *signer, uint64_t version, size_t *len)
{
    sw_bundle_input in[] = {
        {"main.policy", SW_BUNDLE_ROLE_POLICY, (const uint8_t *)main_policy, sizeof main_policy - 1},
        {"inc/partners.policy", SW_BUNDLE_ROLE_DATA, (const uint8_t *)partners, sizeof partners - 1},
        {"lists/blocked.tsv", SW_BUNDLE_ROLE_DATA, (const uint8_t *)blocked, sizeof blocked - 1},
        {"feeds/subscribers.tsv", SW_BUNDLE_ROLE_FEED, (const uint8_t *)feed, sizeof feed - 1},
    };
    uint8_t *out = NULL;
    char err[256];
    assert_int_equal(sw_bundle_write(in, 4, version, 1796600000, signer, &out, len, err, sizeof err),
                     SW_OK);
    return out;
}

static sw_bundle_status check(const uint8_t *data, size_t len, const sw_bundle_trust *t, size_t nt,
                              size_t *used)
{
    sw_bundle *b = NULL;
    char err[512];
    sw_bundle_status st = sw_bundle_parse(data, len, &b, err, sizeof err);
    if (st == SW_BUNDLE_OK)
        st = sw_bundle_verify(b, t, nt, used, err, sizeof err);
    sw_bundle_free(b);
    return st;
}

static void test_sign_verify(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = make(k1, 7, &len);
    sw_bundle *b = NULL;
    assert_int_equal(sw_bundle_parse(d, len, &b, NULL, 0), SW_BUNDLE_OK);
    assert_int_equal(sw_bundle_version(b), 7);
    assert_int_equal(sw_bundle_created(b), 1796600000);
    assert_string_equal(sw_bundle_signer(b), sw_bundle_key_id(p1));
    assert_int_equal(sw_bundle_nfiles(b), 4);
    sw_bundle_trust t[] = {{p2, 0}, {p1, 1}};
    size_t used = 99;
    assert_int_equal(sw_bundle_verify(b, t, 2, &used, NULL, 0), SW_BUNDLE_OK);
    assert_int_equal(used, 1); /* found by key id, and it is the retiring one */
    assert_true(t[used].retiring);
    /* names resolve lexically inside the bundle, never out of it */
    const sw_bundle_file *f = sw_bundle_find(b, "inc/../lists/./blocked.tsv");
    assert_non_null(f);
    assert_int_equal(f->len, sizeof blocked - 1);
    assert_null(sw_bundle_find(b, "../main.policy"));
    assert_null(sw_bundle_find(b, "/main.policy"));
    assert_null(sw_bundle_find(b, "lists/missing.tsv"));
    sw_bundle_free(b);
    free(d);
}

static void test_tampered_file(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = make(k1, 7, &len);
    sw_bundle_trust t[] = {{p1, 0}};
    assert_int_equal(check(d, len, t, 1, NULL), SW_BUNDLE_OK);
    /* one byte of the list file (the end of the bundle holds the feed,
     * before it the list): "+88213" becomes "+88214" */
    uint8_t *at = memmem(d, len, "+88213", 6);
    assert_non_null(at);
    at[5] = '4';
    assert_int_equal(check(d, len, t, 1, NULL), SW_BUNDLE_HASH_MISMATCH);
    free(d);
}

static void test_tampered_manifest(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = make(k1, 7, &len);
    sw_bundle_trust t[] = {{p1, 0}};
    uint8_t *at = memmem(d, len, "version 7\n", 10);
    assert_non_null(at);
    at[8] = '9'; /* a higher version without the key */
    assert_int_equal(check(d, len, t, 1, NULL), SW_BUNDLE_BAD_SIGNATURE);
    free(d);
}

static void test_wrong_key(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = make(k2, 7, &len);
    sw_bundle_trust t[] = {{p1, 0}};
    assert_int_equal(check(d, len, t, 1, NULL), SW_BUNDLE_UNKNOWN_KEY);
    /* the same bundle claiming the trusted key's id: the signature fails */
    const char *id2 = sw_bundle_key_id(p2), *id1 = sw_bundle_key_id(p1);
    for (int i = 0; i < 2; i++) {
        uint8_t *at = memmem(d, len, id2, SW_BUNDLE_KEYID_LEN);
        assert_non_null(at);
        memcpy(at, id1, SW_BUNDLE_KEYID_LEN);
    }
    assert_int_equal(check(d, len, t, 1, NULL), SW_BUNDLE_BAD_SIGNATURE);
    free(d);
}

static void test_unsigned(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = make(NULL, 7, &len);
    sw_bundle_trust t[] = {{p1, 0}};
    assert_int_equal(check(d, len, t, 1, NULL), SW_BUNDLE_UNSIGNED);
    free(d);
    /* a signed bundle with its signature line replaced by "none" */
    d = make(k1, 7, &len);
    uint8_t *at = memmem(d, len, "signature ed25519 ", 18);
    assert_non_null(at);
    assert_int_equal(check(d, len, t, 1, NULL), SW_BUNDLE_OK);
    size_t sl = 18 + SW_BUNDLE_KEYID_LEN + 1 + 128 + 1;
    memmove(at + 15, at + sl, len - (size_t)(at - d) - sl);
    memcpy(at, "signature none\n", 15);
    len -= sl - 15;
    /* the manifest still names the signer: the two disagree */
    assert_int_equal(check(d, len, t, 1, NULL), SW_BUNDLE_FORMAT);
    free(d);
}

static void test_versions(void **state)
{
    (void)state;
    size_t l5, l7, l7b;
    uint8_t *d5 = make(k1, 5, &l5), *d7 = make(k1, 7, &l7);
    sw_bundle_input in[] = {{"other.policy", SW_BUNDLE_ROLE_POLICY, (const uint8_t *)"", 0}};
    uint8_t *d7b = NULL;
    char err[256];
    assert_int_equal(sw_bundle_write(in, 1, 7, 1, k1, &d7b, &l7b, err, sizeof err), SW_OK);
    sw_bundle *b5, *b7, *b7b;
    assert_int_equal(sw_bundle_parse(d5, l5, &b5, NULL, 0), SW_BUNDLE_OK);
    assert_int_equal(sw_bundle_parse(d7, l7, &b7, NULL, 0), SW_BUNDLE_OK);
    assert_int_equal(sw_bundle_parse(d7b, l7b, &b7b, NULL, 0), SW_BUNDLE_OK);
    assert_int_equal(sw_bundle_check_version(b5, NULL, NULL, 0), SW_BUNDLE_OK);

    char mp[128];
    path_of(mp, sizeof mp, "bundle.mark");
    sw_bundle_mark m, r;
    assert_int_equal(sw_bundle_mark_read(mp, &r), SW_ENOTFOUND);
    m.version = 7;
    memcpy(m.sha256, sw_bundle_sha256(b7), 32);
    assert_int_equal(sw_bundle_mark_write(mp, &m), SW_OK);
    assert_int_equal(sw_bundle_mark_read(mp, &r), SW_OK);
    assert_int_equal(r.version, 7);
    assert_memory_equal(r.sha256, m.sha256, 32);
    struct stat st;
    assert_int_equal(stat(mp, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);

    assert_int_equal(sw_bundle_check_version(b5, &r, err, sizeof err), SW_BUNDLE_ROLLBACK);
    assert_int_equal(sw_bundle_check_version(b7, &r, err, sizeof err), SW_BUNDLE_OK); /* re-read */
    assert_int_equal(sw_bundle_check_version(b7b, &r, err, sizeof err), SW_BUNDLE_REPLAY);
    /* a damaged mark is an error, not "no mark" */
    FILE *fp = fopen(mp, "w");
    assert_non_null(fp);
    fputs("sipwall-bundle-mark 1\nversion x\n", fp);
    fclose(fp);
    assert_int_equal(sw_bundle_mark_read(mp, &r), SW_EFORMAT);
    sw_bundle_free(b5);
    sw_bundle_free(b7);
    sw_bundle_free(b7b);
    free(d5);
    free(d7);
    free(d7b);
}

static void test_reader_bounds(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = make(k1, 7, &len);
    sw_bundle *b = NULL;
    char err[256];
    /* truncated, and one byte too many */
    assert_int_equal(sw_bundle_parse(d, len - 1, &b, err, sizeof err), SW_BUNDLE_FORMAT);
    uint8_t *d2 = malloc(len + 1);
    memcpy(d2, d, len);
    d2[len] = 'x';
    assert_int_equal(sw_bundle_parse(d2, len + 1, &b, err, sizeof err), SW_BUNDLE_FORMAT);
    free(d2);
    /* a climbing name in the manifest ("inc/partners.policy" -> "../partners.policy") */
    uint8_t *at = memmem(d, len, "inc/partners.policy", 19);
    assert_non_null(at);
    memcpy(at, "../", 3);
    assert_int_equal(sw_bundle_parse(d, len, &b, err, sizeof err), SW_BUNDLE_BAD_NAME);
    free(d);
    assert_int_equal(sw_bundle_parse((const uint8_t *)"", 0, &b, err, sizeof err), SW_BUNDLE_FORMAT);
    /* a manifest that claims more than the ceiling */
    const char *big = "sipwall-bundle 1\nmanifest 99999999\n";
    assert_int_equal(sw_bundle_parse((const uint8_t *)big, strlen(big), &b, err, sizeof err),
                     SW_BUNDLE_TOO_BIG);
    /* a file larger than the ceiling */
    const char *man = "version 1\ncreated 1\nsigner none\n"
                      "file policy 99999999 "
                      "0000000000000000000000000000000000000000000000000000000000000000 a\n";
    char huge[400];
    snprintf(huge, sizeof huge, "sipwall-bundle 1\nmanifest %zu\n%ssignature none\n", strlen(man),
             man);
    assert_int_equal(sw_bundle_parse((const uint8_t *)huge, strlen(huge), &b, err, sizeof err),
                     SW_BUNDLE_TOO_BIG);
    /* the same with a sane size parses as far as the missing data */
    snprintf(huge, sizeof huge, "sipwall-bundle 1\nmanifest %zu\n%ssignature none\n",
             strlen(man) - 6, "version 1\ncreated 1\nsigner none\nfile policy 99 "
             "0000000000000000000000000000000000000000000000000000000000000000 a\n");
    assert_int_equal(sw_bundle_parse((const uint8_t *)huge, strlen(huge), &b, err, sizeof err),
                     SW_BUNDLE_FORMAT);
    assert_non_null(strstr(err, "truncated"));
    assert_null(b);
    /* names the writer refuses */
    const char *bad[] = {"../x", "/etc/passwd", "a//b", "a/./b", "a b", "", "a/..", "x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sw_bundle_name_valid(bad[i], strlen(bad[i])), 0);
    assert_int_equal(sw_bundle_name_valid("lists/a-b_c+1.tsv", 17), 1);
    sw_bundle_input in[] = {{"../x", SW_BUNDLE_ROLE_POLICY, (const uint8_t *)"", 0}};
    uint8_t *o = NULL;
    size_t ol;
    assert_int_equal(sw_bundle_write(in, 1, 1, 1, k1, &o, &ol, err, sizeof err), SW_EINVAL);
    assert_null(o);
}

static void test_keys(void **state)
{
    (void)state;
    char priv[128], pub[128], id[SW_BUNDLE_KEYID_LEN + 1], err[256];
    path_of(priv, sizeof priv, "k1.key");
    path_of(pub, sizeof pub, "k3.pub");
    struct stat st;
    assert_int_equal(stat(priv, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never overwrites a key */
    assert_int_equal(sw_bundle_keygen(priv, pub, id, err, sizeof err), SW_EIO);
    assert_int_equal(access(pub, F_OK), -1); /* nothing half made */
    /* a readable private key is refused */
    assert_int_equal(chmod(priv, 0644), 0);
    sw_bundle_key *k = NULL;
    assert_int_not_equal(sw_bundle_key_load_private(priv, &k, err, sizeof err), SW_OK);
    assert_non_null(strstr(err, "0600"));
    assert_int_equal(chmod(priv, 0600), 0);
    assert_int_equal(sw_bundle_key_load_private(priv, &k, err, sizeof err), SW_OK);
    assert_string_equal(sw_bundle_key_id(k), sw_bundle_key_id(p1));
    sw_bundle_key_free(k);
    /* a public key cannot sign */
    sw_bundle_input in[] = {{"a", SW_BUNDLE_ROLE_POLICY, (const uint8_t *)"", 0}};
    uint8_t *o = NULL;
    size_t ol;
    assert_int_not_equal(sw_bundle_write(in, 1, 1, 1, p1, &o, &ol, err, sizeof err), SW_OK);
}

/* The policy's files come from the bundle only. */
static int from_bundle(void *ctx, const char *path, size_t cap, char **text, size_t *len)
{
    const sw_bundle_file *f = sw_bundle_find(ctx, path);
    if (!f)
        return SW_ENOTFOUND;
    if (f->len > cap)
        return SW_ELIMIT;
    *text = malloc(f->len + 1);
    if (!*text)
        return SW_ENOMEM;
    memcpy(*text, f->data, f->len);
    (*text)[f->len] = '\0';
    *len = f->len;
    return SW_OK;
}

static void test_policy_from_bundle(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = make(k1, 7, &len);
    sw_bundle *b = NULL;
    assert_int_equal(sw_bundle_parse(d, len, &b, NULL, 0), SW_BUNDLE_OK);
    sw_policy_source src = {b, from_bundle};
    static sw_policy_diags diags;
    sw_policy *p = NULL;
    const char *names[] = {"main.policy"};
    /* run where a file of the same name exists on disk: it must not be read */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    FILE *fp = fopen("main.policy", "w");
    assert_non_null(fp);
    fputs("this is not a policy\n", fp);
    fclose(fp);
    assert_int_equal(sw_policy_load_source(&src, names, 1, &p, &diags), SW_OK);
    assert_non_null(p);
    assert_string_equal(p->name, "from-bundle");
    assert_string_equal(p->location_feed, "feeds/subscribers.tsv");
    assert_non_null(sw_bundle_find(b, p->location_feed));
    sw_policy_free(p);
    /* a policy that names a file outside the bundle does not load, even
     * though the file exists on disk */
    fp = fopen("outside.tsv", "w");
    fputs("+1\tx\n", fp);
    fclose(fp);
    static const char pol2[] = "list x numbers file \"outside.tsv\"\n";
    sw_bundle_input in[] = {{"p.policy", SW_BUNDLE_ROLE_POLICY, (const uint8_t *)pol2, sizeof pol2 - 1}};
    uint8_t *d2 = NULL;
    size_t l2;
    char err[256];
    assert_int_equal(sw_bundle_write(in, 1, 1, 1, k1, &d2, &l2, err, sizeof err), SW_OK);
    sw_bundle *b2 = NULL;
    assert_int_equal(sw_bundle_parse(d2, l2, &b2, NULL, 0), SW_BUNDLE_OK);
    sw_policy_source src2 = {b2, from_bundle};
    const char *names2[] = {"p.policy"};
    assert_int_not_equal(sw_policy_load_source(&src2, names2, 1, &p, &diags), SW_OK);
    assert_null(p);
    assert_true(diags.errors > 0);
    assert_int_equal(chdir(cwd), 0);
    /* the feed parses from memory */
    const sw_bundle_file *ff = sw_bundle_find(b, "feeds/subscribers.tsv");
    sw_location_feed *lf = NULL;
    assert_int_equal(sw_location_feed_load_text(ff->name, (const char *)ff->data, ff->len, &lf, &diags),
                     SW_OK);
    assert_int_equal(sw_location_feed_count(lf), 1);
    sw_location_feed_free(lf);
    sw_bundle_free(b2);
    free(d2);
    sw_bundle_free(b);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify),      cmocka_unit_test(test_tampered_file),
        cmocka_unit_test(test_tampered_manifest), cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_unsigned),          cmocka_unit_test(test_versions),
        cmocka_unit_test(test_reader_bounds),     cmocka_unit_test(test_keys),
        cmocka_unit_test(test_policy_from_bundle),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
