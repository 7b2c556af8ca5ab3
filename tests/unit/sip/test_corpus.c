/* The parser against whole message sets: the project's torture set (verdicts
 * from its manifest), every prefix of every message under a guard page, and,
 * where ../shared/corpus exists, RFC 4475's verdicts and the IMS corpus. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "guard.h"
#include "sipwall/sip.h"

/* Parses one buffer as a datagram and runs every accessor; returns the
 * verdict (SW_OK or the error) with *e set. */
static int verdict(const char *buf, size_t len, sw_sip_error *e)
{
    sw_sip_msg m;
    sw_sip_header h[256];
    long r = sw_sip_parse(&m, h, 256, buf, len, SW_SIP_DATAGRAM, NULL, e);
    if (r < 0)
        return (int)r;
    /* the accessors must cope with whatever the index holds */
    const sw_via *v;
    const sw_nameaddr *na;
    const sw_cseq *cs;
    const sw_uri *u;
    int64_t n;
    sw_sip_error ignore;
    (void)sw_sip_top_via(&m, &v, &ignore);
    (void)sw_sip_from(&m, &na, &ignore);
    (void)sw_sip_to(&m, &na, &ignore);
    (void)sw_sip_contact(&m, &na, &ignore);
    (void)sw_sip_pai(&m, &na, &ignore);
    (void)sw_sip_route(&m, &na, &ignore);
    (void)sw_sip_cseq(&m, &cs, &ignore);
    (void)sw_sip_ruri(&m, &u, &ignore);
    (void)sw_sip_max_forwards(&m, &n, &ignore);
    (void)sw_sip_expires(&m, &n, &ignore);
    (void)sw_sip_via_count(&m, &ignore);
    sw_sdp sdp;
    if (sw_sdp_parse(m.body, &sdp, &ignore) < 0)
        ignore.code = 0;
    return sw_sip_validate(&m, e);
}

typedef struct expect {
    char file[128];
    int valid;
} expect;

/* Reads a manifest: first column file, `verdict_col` the verdict column. */
static int read_manifest(const char *path, int verdict_col, expect *out, int cap,
                         int (*is_invalid)(const char *file, const char *verdict))
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int n = 0;
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        return -1;
    }
    while (n < cap && fgets(line, sizeof line, f)) {
        char *cols[8] = {0};
        int nc = 0;
        for (char *s = line, *tok; nc < 8 && (tok = strsep(&s, "\t\n")); )
            cols[nc++] = tok;
        if (nc <= verdict_col || !cols[0][0])
            continue;
        snprintf(out[n].file, sizeof out[n].file, "%s", cols[0]);
        out[n].valid = !is_invalid(cols[0], cols[verdict_col]);
        n++;
    }
    fclose(f);
    return n;
}

static int own_invalid(const char *file, const char *v)
{
    (void)file;
    return strcmp(v, "invalid") == 0;
}

/* RFC 4475: §3.1.2 and the archive's test.dat are invalid (manifest says
 * so), and so are insuf, multi01 and mcl01, whose missing or repeated
 * mandatory headers a proxy must refuse. */
static int rfc4475_invalid(const char *file, const char *v)
{
    return strcmp(v, "invalid") == 0 || strcmp(file, "insuf.dat") == 0 ||
           strcmp(file, "multi01.dat") == 0 || strcmp(file, "mcl01.dat") == 0;
}

static int check_set(const char *dir, const char *manifest, int col,
                     int (*is_invalid)(const char *, const char *))
{
    static expect ex[512];
    char path[1024];
    assert_true(snprintf(path, sizeof path, "%s/%s", dir, manifest) < (int)sizeof path);
    int n = read_manifest(path, col, ex, 512, is_invalid);
    assert_true(n > 0);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        assert_true(snprintf(path, sizeof path, "%s/%s", dir, ex[i].file) < (int)sizeof path);
        size_t len;
        char *buf = sw_test_read_file(path, &len);
        assert_non_null(buf);
        sw_sip_error e = {0};
        int r = verdict(buf, len, &e);
        if ((r == SW_OK) != ex[i].valid) {
            print_error("%s: expected %s, got %s (offset %zu: %s)\n", path,
                        ex[i].valid ? "valid" : "invalid", r == SW_OK ? "valid" : "invalid",
                        e.offset, r == SW_OK ? "-" : e.reason);
            bad++;
        }
        free(buf);
    }
    return bad;
}

static void test_own_torture_verdicts(void **state)
{
    (void)state;
    assert_int_equal(check_set(SW_TEST_DATA "/torture", "manifest.tsv", 1, own_invalid), 0);
}

static void test_rfc4475_verdicts(void **state)
{
    (void)state;
    const char *dir = SW_SHARED_CORPUS "/rfc4475";
    if (!sw_test_dir_exists(dir))
        skip(); /* outside check: only where ../shared/corpus exists */
    assert_int_equal(check_set(dir, "manifest.tsv", 2, rfc4475_invalid), 0);
}

/* Calls fn for every file in dir whose name ends in suffix, with its bytes.
 * Returns the number of files, or -1 when dir cannot be opened. */
typedef void (*file_fn)(const char *path, const char *buf, size_t len, void *ctx);

static int for_each_file(const char *dir, const char *suffix, file_fn fn, void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *de;
    int count = 0;
    size_t sl = strlen(suffix);
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
            continue;
        char path[1024];
        assert_true(snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path);
        size_t len;
        char *buf = sw_test_read_file(path, &len);
        assert_non_null(buf);
        fn(path, buf, len, ctx);
        free(buf);
        count++;
    }
    closedir(d);
    return count;
}

static void count_invalid(const char *path, const char *buf, size_t len, void *ctx)
{
    sw_sip_error e = {0};
    if (verdict(buf, len, &e) != SW_OK) {
        print_error("%s: invalid (offset %zu: %s)\n", path, e.offset, e.reason);
        ++*(int *)ctx;
    }
}

static int all_valid(const char *dir, const char *suffix)
{
    int bad = 0;
    assert_true(for_each_file(dir, suffix, count_invalid, &bad) > 0);
    return bad;
}

static void test_own_ims_valid(void **state)
{
    (void)state;
    assert_int_equal(all_valid(SW_TEST_DATA "/ims", ".sip"), 0);
}

static void test_shared_messages_valid(void **state)
{
    (void)state;
    const char *dir = SW_SHARED_CORPUS "/messages";
    if (!sw_test_dir_exists(dir))
        skip(); /* outside check: only where ../shared/corpus exists */
    assert_int_equal(all_valid(dir, ".sip"), 0);
}

/* Every prefix of every message, as a datagram and as a stream, with the
 * last byte against an unmapped page: no over-read, no crash, and a valid
 * message's proper prefixes are incomplete on a stream. */
static void guard_one(const char *path, const char *buf, size_t len, void *ctx)
{
    sw_guard *g = ctx;
    sw_sip_error e;
    int whole_valid = verdict(buf, len, &e) == SW_OK;
    sw_sip_msg m;
    sw_sip_header h[256];
    long whole = sw_sip_parse(&m, h, 256, buf, len, SW_SIP_DATAGRAM, NULL, &e);
    int stream_ok = whole_valid && m.content_length >= 0;
    for (size_t i = 0; i <= len; i++) {
        const char *b = sw_guard_copy(g, buf, i);
        assert_non_null(b);
        (void)verdict(b, i, &e);
        long r = sw_sip_parse(&m, h, 256, b, i, SW_SIP_STREAM, NULL, &e);
        size_t skip;
        long fr = sw_sip_frame(b, i, NULL, &skip, &e);
        if (stream_ok && i < (size_t)whole && (r != SW_EINCOMPLETE || fr != SW_EINCOMPLETE))
            fail_msg("%s: prefix %zu of %ld: stream parse %ld, frame %ld", path, i, whole, r, fr);
    }
}

static void guard_dir(const char *dir, const char *suffix)
{
    sw_guard g = {0};
    int files = for_each_file(dir, suffix, guard_one, &g);
    sw_guard_release(&g);
    if (files >= 0)
        assert_true(files > 0);
}

static void test_guard_every_prefix(void **state)
{
    (void)state;
    guard_dir(SW_TEST_DATA "/torture", ".sip");
    guard_dir(SW_TEST_DATA "/ims", ".sip");
    if (sw_test_dir_exists(SW_SHARED_CORPUS "/rfc4475"))
        guard_dir(SW_SHARED_CORPUS "/rfc4475", ".dat");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_torture_verdicts), cmocka_unit_test(test_rfc4475_verdicts),
        cmocka_unit_test(test_own_ims_valid),        cmocka_unit_test(test_shared_messages_valid),
        cmocka_unit_test(test_guard_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
