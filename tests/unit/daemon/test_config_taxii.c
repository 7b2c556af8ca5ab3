/* sipwalld's `taxii` and `publish` directives (docs/exchange-taxii.md):
 * what they fill, what they need (admin-api, a store, events-db, a
 * publish collection), and each error names its line. */
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
#include <sodium.h>

#include "daemon/config.h"
#include "sipwall/taxii.h"

static char err[1024];
static char dir[64];
static char hash[crypto_pwhash_STRBYTES];

#define COLL "3f0c5b8e-8a4d-4c1e-9b7a-2d6e1f0a9c31"
#define INBOX "6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

/* every %D is the test's directory, every %H the hash */
static int parse(const char *fmt, swd_config *c)
{
    char text[8192], extra[6144];
    size_t at = 0;
    for (const char *p = fmt; *p && at + sizeof hash + sizeof dir + 1 < sizeof extra; p++) {
        if (p[0] == '%' && p[1] == 'D') {
            at += (size_t)snprintf(extra + at, sizeof extra - at, "%s", dir);
            p++;
        } else if (p[0] == '%' && p[1] == 'H') {
            at += (size_t)snprintf(extra + at, sizeof extra - at, "%s", hash);
            p++;
        } else {
            extra[at++] = *p;
        }
    }
    extra[at] = '\0';
    snprintf(text, sizeof text, "mode passive\nhep udp 127.0.0.1:9060\n%s\n", extra);
    memset(c, 0, sizeof *c);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static const char *const files[] = {"s.pem", "s.key", "export.policy", "k.pem"};

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0 ||
        crypto_pwhash_str(hash, "secret-1234", 11, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) != 0)
        return -1;
    snprintf(dir, sizeof dir, "/tmp/sw_cfg_taxii_XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 4; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(i == 2 ? "producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\n"
                       "export sip_scan to partners tlp GREEN\n"
                     : "x\n",
              f);
        fclose(f);
    }
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    unlink(fifo);
    for (int i = 0; i < 4; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

#define API "admin-api listen 127.0.0.1:8443 cert %D/s.pem key %D/s.key credential %D/api.hash\n"
#define BASE                                                                                        \
    API "taxii store %D/taxii.db\n"                                                                  \
        "taxii collection " COLL " alias indicators publish\n"                                       \
        "taxii collection " INBOX " alias inbox writable max-objects 10\n"                           \
        "taxii user reader secret %H read indicators\n"                                              \
        "taxii user partner secret %H read all write inbox\n"

static void fills(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse(BASE "events-db %D/ev.db\n"
                                "publish export-policy %D/export.policy sign-key %D/k.pem kid ZZ01:1 refresh 60\n",
                           &c),
                     SW_OK);
    assert_non_null(c.taxii);
    assert_int_equal(c.taxii->ncoll, 2);
    assert_true(c.taxii->coll[0].publish);
    assert_true(c.taxii->coll[1].writable);
    assert_int_equal(c.taxii->coll[1].max_objects, 10);
    assert_int_equal(c.taxii->nusers, 2);
    assert_int_equal(c.taxii->users[0].read, 1);
    assert_int_equal(c.taxii->users[0].write, 0);
    assert_int_equal(c.taxii->users[1].read, 3);
    assert_int_equal(c.taxii->users[1].write, 2);
    assert_int_equal(c.taxii->user_line[1], 8);
    assert_int_equal(c.publish.refresh_s, 60);
    assert_string_equal(c.publish.kid, "ZZ01:1");
    assert_non_null(strstr(c.taxii_store, "taxii.db"));
    swd_config_free(&c);
}

static void errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"taxii store %D/t.db\ntaxii collection " COLL "\ntaxii user a secret %H read all\n",
         "t.conf:3: taxii: the TAXII server runs on the admin API"},
        {API "taxii collection " COLL "\ntaxii user a secret %H read all\n", "taxii store PATH is required"},
        {API "taxii store %D/t.db\ntaxii collection " COLL "\n", "no user configured"},
        {API "taxii store %D/t.db\ntaxii collection " COLL "\ntaxii user a read all\n",
         "t.conf:6: taxii user a: secret HASH|file:PATH is required (no default credentials)"},
        {API "taxii store %D/t.db\ntaxii collection " COLL "\ntaxii user a secret hunter2\n",
         "t.conf:6: taxii user: secret is not an Argon2id hash"},
        {API "taxii store %D/t.db\ntaxii collection " COLL "\ntaxii user a secret file:%D/s.pem\n",
         "s.pem is not a regular file of mode 0600 or stricter"},
        {API "taxii store %D/t.db\ntaxii collection " COLL "\ntaxii user a secret %H read nope\n",
         "t.conf:6: taxii user a: no taxii collection 'nope'"},
        {API "taxii store %D/t.db\ntaxii collection " COLL "\ntaxii user a secret %H write " COLL "\n",
         "t.conf:6: taxii user a: taxii collection '" COLL "' is not writable"},
        {API "taxii store %D/t.db\ntaxii collection NOT-A-UUID\n", "t.conf:5: taxii collection: a lower-case UUID"},
        {API "taxii store %D/t.db\ntaxii collection " COLL "\ntaxii user a secret file:%D/fifo\n",
         "t.conf:6: taxii user: %D/fifo is not a regular file"},
        {BASE "publish export-policy %D/export.policy sign-key %D/k.pem kid ZZ01:1\n",
         "t.conf:9: publish: reads the event store: add an events-db line"},
        {BASE "events-db %D/ev.db\npublish export-policy %D/export.policy sign-key %D/k.pem\n",
         "t.conf:10: publish: export-policy, sign-key and kid are required"},
        {BASE "events-db %D/ev.db\npublish export-policy %D/export.policy sign-key %D/k.pem kid K group csirt\n",
         "t.conf:10: publish: the export policy has no trust group 'csirt'"},
        {BASE "events-db %D/ev.db\npublish export-policy %D/s.pem sign-key %D/k.pem kid K\n",
         "t.conf:10: publish export-policy"},
        {API "taxii store %D/t.db\ntaxii collection " COLL "\ntaxii user a secret %H\nevents-db %D/ev.db\n"
             "publish export-policy %D/export.policy sign-key %D/k.pem kid K\n",
         "t.conf:8: publish: needs a taxii collection marked 'publish'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        swd_config c;
        err[0] = '\0';
        int rc = parse(cases[i].text, &c);
        char want[256];
        const char *d = strstr(cases[i].want, "%D");
        if (d)
            snprintf(want, sizeof want, "%.*s%s%s", (int)(d - cases[i].want), cases[i].want, dir, d + 2);
        else
            snprintf(want, sizeof want, "%s", cases[i].want);
        if (rc == SW_OK || !strstr(err, want))
            fail_msg("case %zu: rc %d, err '%s', want '%s'", i, rc, err, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(fills), cmocka_unit_test(errors)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
