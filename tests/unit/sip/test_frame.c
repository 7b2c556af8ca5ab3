/* The resumable framer (sw_sip_framer_*) against one-shot framing
 * (sw_sip_frame): every input of tests/data/torture and tests/data/ims, one
 * at a time and all of them as one stream with keep-alives between, fed
 * whole, byte by byte and in random chunkings, must give the same messages
 * and the same final answer; at every call the framer must answer what
 * sw_sip_frame answers on the same bytes.  And the work is linear: a 60 KB
 * header fed a byte at a time is examined at most 4 times over. */
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

/* What a consumer of the stream sees: messages (absolute start, length),
 * then the final answer (an error, or SW_EINCOMPLETE when the input ends
 * inside a message or keep-alives). */
typedef struct seen {
    long r;            /* > 0: a message of r bytes; else the final code */
    size_t start;      /* message: its first byte; error: absolute offset */
    const char *reason;
} seen;

#define MAX_SEEN 4096

typedef struct run {
    seen s[MAX_SEEN];
    int n;
} run;

static void add(run *out, long r, size_t start, const char *reason)
{
    assert_true(out->n < MAX_SEEN);
    out->s[out->n++] = (seen){r, start, reason};
}

/* One-shot: sw_sip_frame over what is left, message after message. */
static void one_shot(const char *buf, size_t len, const sw_sip_limits *lim, run *out)
{
    size_t pos = 0;
    out->n = 0;
    for (;;) {
        size_t skip = 0;
        sw_sip_error err = {0};
        long r = sw_sip_frame(buf + pos, len - pos, lim, &skip, &err);
        if (r > 0) {
            add(out, r, pos + skip, NULL);
            pos += skip + (size_t)r;
            continue;
        }
        if (r == SW_EINCOMPLETE)
            add(out, r, 0, NULL);
        else
            add(out, r, pos + err.offset, err.reason);
        return;
    }
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A connection's reader: the bytes arrive in chunks (chunk(i) gives the
 * size of the next one), are framed with one sw_sip_framer, and consumed
 * from the front of a buffer that moves (a fresh copy for every call, so a
 * framer that kept a pointer would read freed memory).  At every call the
 * answer must equal sw_sip_frame's on the same bytes.  Keep-alives of an
 * incomplete message are consumed when `eat_keepalives`. */
static void chunked(const char *buf, size_t len, const sw_sip_limits *lim, size_t (*chunk)(size_t),
                    int eat_keepalives, run *out, uint64_t *examined)
{
    sw_sip_framer f;
    sw_sip_framer_init(&f);
    size_t base = 0, have = 0;
    out->n = 0;
    int done = 0;
    while (!done) {
        if (have < len) {
            size_t c = chunk(len - have);
            assert_true(c >= 1);
            have += c < len - have ? c : len - have;
        }
        for (;;) {
            size_t n = have - base;
            char *copy = malloc(n ? n : 1);
            assert_non_null(copy);
            memcpy(copy, buf + base, n);
            size_t skip = 0, skip1 = 0;
            sw_sip_error err = {0}, err1 = {0};
            long r = sw_sip_framer_next(&f, copy, n, lim, &skip, &err);
            long r1 = sw_sip_frame(copy, n, lim, &skip1, &err1);
            free(copy);
            if (r != r1 || skip != skip1 || (r < 0 && (err.code != err1.code || err.offset != err1.offset ||
                                                      strcmp(err.reason, err1.reason) != 0))) {
                print_error("at %zu+%zu bytes: framer %ld skip %zu (%s @%zu), one-shot %ld skip %zu (%s @%zu)\n",
                            base, n, r, skip, r < 0 ? err.reason : "-", err.offset, r1, skip1,
                            r1 < 0 ? err1.reason : "-", err1.offset);
                fail();
            }
            if (r > 0) {
                add(out, r, base + skip, NULL);
                base += skip + (size_t)r;
                sw_sip_framer_consume(&f, skip + (size_t)r);
                continue;
            }
            if (r == SW_EINCOMPLETE) {
                if (eat_keepalives && skip) {
                    base += skip;
                    sw_sip_framer_consume(&f, skip);
                }
                if (have == len) {
                    add(out, r, 0, NULL);
                    done = 1;
                }
            } else {
                add(out, r, base + err.offset, err.reason);
                done = 1;
            }
            break;
        }
    }
    if (examined)
        *examined = f.examined;
}

static size_t whole(size_t left) { return left; }
static size_t one_byte(size_t left) { (void)left; return 1; }
static size_t random_chunk(size_t left)
{
    (void)left;
    uint64_t x = rnd();
    switch (x & 3) {
    case 0: return 1 + (size_t)(x >> 8) % 3;
    case 1: return 1 + (size_t)(x >> 8) % 40;
    case 2: return 1 + (size_t)(x >> 8) % 700;
    default: return 1 + (size_t)(x >> 8) % 9000;
    }
}

static void same(const run *a, const run *b, const char *what)
{
    if (a->n != b->n)
        print_error("%s: %d answers against %d\n", what, a->n, b->n);
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        if (a->s[i].r != b->s[i].r || a->s[i].start != b->s[i].start)
            print_error("%s: answer %d: %ld @%zu against %ld @%zu\n", what, i, a->s[i].r, a->s[i].start,
                        b->s[i].r, b->s[i].start);
        assert_int_equal(a->s[i].r, b->s[i].r);
        assert_int_equal(a->s[i].start, b->s[i].start);
        if (a->s[i].reason || b->s[i].reason)
            assert_string_equal(a->s[i].reason, b->s[i].reason);
    }
}

static run r_one, r_chunk;

/* Every way of feeding one input gives one-shot framing's answers. */
static void check_input(const char *buf, size_t len, const sw_sip_limits *lim, const char *what)
{
    one_shot(buf, len, lim, &r_one);
    chunked(buf, len, lim, whole, 0, &r_chunk, NULL);
    same(&r_one, &r_chunk, what);
    chunked(buf, len, lim, one_byte, 0, &r_chunk, NULL);
    same(&r_one, &r_chunk, what);
    for (int k = 0; k < 8; k++) {
        rng_state = 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1) + len;
        chunked(buf, len, lim, random_chunk, k & 1, &r_chunk, NULL);
        same(&r_one, &r_chunk, what);
    }
}

/* The stream of all of a set's messages: each alone, then all in a row
 * with keep-alives between (and a Content-Length added to those without,
 * so that the stream goes on). */
static char stream_buf[4 << 20];

static size_t append_framed(size_t at, const char *m, size_t len)
{
    /* the header section as it is, and a Content-Length for the rest when
     * it has none that frames it */
    size_t skip = 0;
    sw_sip_error err;
    long r = sw_sip_frame(m, len, NULL, &skip, &err);
    if (r > 0 && skip == 0) {
        assert_true(at + (size_t)r + 4 <= sizeof stream_buf);
        memcpy(stream_buf + at, m, (size_t)r);
        return at + (size_t)r;
    }
    const char *he = NULL;
    for (size_t i = 0; i + 3 < len && !he; i++)
        if (memcmp(m + i, "\r\n\r\n", 4) == 0)
            he = m + i + 4;
    if (!he)
        return at;
    size_t hl = (size_t)(he - m) - 2, bl = len - (size_t)(he - m);
    char cl[64];
    int cn = snprintf(cl, sizeof cl, "X-Len-Of-Test: %zu\r\nl: %zu\r\n\r\n", bl, bl);
    if (at + hl + (size_t)cn + bl > sizeof stream_buf)
        return at;
    memcpy(stream_buf + at, m, hl);
    memcpy(stream_buf + at + hl, cl, (size_t)cn);
    memcpy(stream_buf + at + hl + (size_t)cn, he, bl);
    size_t end = at + hl + (size_t)cn + bl;
    /* one that still does not frame (a bad Content-Length of its own)
     * would end the stream: it is left out */
    r = sw_sip_frame(stream_buf + at, end - at, NULL, &skip, &err);
    return r == (long)(end - at) && skip == 0 ? end : at;
}

static void check_dir(const char *dir)
{
    char path[1024];
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    size_t slen = 0;
    int files = 0;
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (de->d_name[0] == '.' || nl < 5 || strcmp(de->d_name + nl - 4, ".sip") != 0)
            continue;
        assert_true(snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path);
        size_t len;
        char *buf = sw_test_read_file(path, &len);
        assert_non_null(buf);
        check_input(buf, len, NULL, path);
        /* small limits: the size and header-count errors */
        sw_sip_limits small;
        sw_sip_limits_default(&small);
        small.max_msg_size = 300;
        small.max_headers = 6;
        check_input(buf, len, &small, path);
        static const char *const alive[] = {"", "\r\n\r\n", "\r\n", "\n\r\r\n"};
        const char *ka = alive[files & 3];
        memcpy(stream_buf + slen, ka, strlen(ka));
        slen = append_framed(slen + strlen(ka), buf, len);
        free(buf);
        files++;
    }
    closedir(d);
    assert_true(files > 20);
    check_input(stream_buf, slen, NULL, dir);
    /* the stream must frame message after message to its end */
    one_shot(stream_buf, slen, NULL, &r_one);
    assert_true(r_one.n > files / 2);
    /* and the same stream cut short inside its last message */
    check_input(stream_buf, slen - 7, NULL, dir);
}

static void test_torture_set(void **state)
{
    (void)state;
    check_dir(SW_TEST_DATA "/torture");
}

static void test_ims_set(void **state)
{
    (void)state;
    check_dir(SW_TEST_DATA "/ims");
}

/* Hand-made cases: folds around Content-Length, keep-alives, the limits. */
static void test_cases(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "OPTIONS sip:a SIP/2.0\r\nl:\r\n 5\r\n\r\nhello",
        "OPTIONS sip:a SIP/2.0\r\nContent-Length: 1\r\n 2\r\n\r\n",
        "OPTIONS sip:a SIP/2.0\r\nContent-Length\t :\r\n\t3\r\n  \r\n\r\nabcOPTIONS sip:a SIP/2.0\r\nl:0\r\n\r\n",
        "\r\n\r\n\r\nOPTIONS sip:a SIP/2.0\r\nl: 0\r\nl: 0\r\n\r\n\r\n\r\n",
        "OPTIONS sip:a SIP/2.0\r\nl: 0\r\nl: 1\r\n\r\nx",
        "OPTIONS sip:a SIP/2.0\r\nl: -1\r\n\r\n",
        "OPTIONS sip:a SIP/2.0\r\nl: 99999999999999999999\r\n\r\n",
        "OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n",
        "OPTIONS sip:a SIP/2.0\nl: 2\n\nab",
        "l: 2\r\n\r\nab",
        "A\r\nl:0\r\n\r\nA\r\nl:0\r\n\r\nA\r\nl:0\r\n\r\n",
        "OPTIONS sip:a SIP/2.0\r\nA: 1\r\nB: 2\r\n C\r\nD: 3\r\nE: 4\r\nF: 5\r\nG: 6\r\nH: 7\r\nl: 0\r\n\r\n",
    };
    sw_sip_limits small;
    sw_sip_limits_default(&small);
    small.max_headers = 6;
    small.max_msg_size = 40;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_input(cases[i], strlen(cases[i]), NULL, cases[i]);
        check_input(cases[i], strlen(cases[i]), &small, cases[i]);
    }
}

/* Named errors with their offsets, from the framer. */
static void test_errors(void **state)
{
    (void)state;
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    lim.max_headers = 2;
    sw_sip_framer f;
    sw_sip_framer_init(&f);
    size_t skip;
    sw_sip_error err = {0};
    const char *m = "\r\nA sip:a SIP/2.0\r\nB: 1\r\nC: 2\r\nD: 3\r\n";
    assert_int_equal(sw_sip_framer_next(&f, m, strlen(m), &lim, &skip, &err), SW_ELIMIT);
    assert_int_equal(skip, 2);
    assert_int_equal(err.offset, strlen("\r\nA sip:a SIP/2.0\r\nB: 1\r\nC: 2\r\n"));
    assert_string_equal(err.reason, "too many header fields");
    /* a failed framer keeps its answer */
    memset(&err, 0, sizeof err);
    assert_int_equal(sw_sip_framer_next(&f, m, strlen(m), &lim, &skip, &err), SW_ELIMIT);
    assert_string_equal(err.reason, "too many header fields");

    sw_sip_framer_init(&f);
    lim.max_headers = 10;
    lim.max_msg_size = 30;
    m = "A sip:a SIP/2.0\r\nB: 1234567890\r\n";
    assert_int_equal(sw_sip_framer_next(&f, m, strlen(m), &lim, &skip, &err), SW_ELIMIT);
    assert_int_equal(err.offset, 30);
    assert_string_equal(err.reason, "header section larger than the size limit");

    sw_sip_framer_init(&f);
    m = "A sip:a SIP/2.0\r\nB: 1\r\n\r\n";
    assert_int_equal(sw_sip_framer_next(&f, m, strlen(m), NULL, &skip, &err), SW_EINVAL);
    assert_int_equal(err.offset, strlen(m));
    assert_string_equal(err.reason, "missing Content-Length on a stream transport");
}

/* Keep-alives between messages are consumed without losing the scan. */
static void test_keepalives(void **state)
{
    (void)state;
    sw_sip_framer f;
    sw_sip_framer_init(&f);
    size_t skip;
    sw_sip_error err;
    char buf[128];
    strcpy(buf, "\r\n\r\n");
    assert_int_equal(sw_sip_framer_next(&f, buf, 4, NULL, &skip, &err), SW_EINCOMPLETE);
    assert_int_equal(skip, 4);
    sw_sip_framer_consume(&f, 4);
    strcpy(buf, "\r\nA sip:a SIP/2.0\r\n");
    assert_int_equal(sw_sip_framer_next(&f, buf, strlen(buf), NULL, &skip, &err), SW_EINCOMPLETE);
    assert_int_equal(skip, 2);
    sw_sip_framer_consume(&f, 2); /* the keep-alive goes, the start line stays scanned */
    uint64_t before = f.examined;
    strcpy(buf, "A sip:a SIP/2.0\r\nl: 3\r\n\r\nabcA");
    assert_int_equal(sw_sip_framer_next(&f, buf, strlen(buf), NULL, &skip, &err), 28);
    assert_int_equal(skip, 0);
    assert_true(f.examined - before <= strlen(buf) - strlen("A sip:a SIP/2.0\r\n") + 4);
    sw_sip_framer_consume(&f, 28);
    assert_int_equal(sw_sip_framer_next(&f, buf + 28, 1, NULL, &skip, &err), SW_EINCOMPLETE);
}

/* The work of framing one message fed a byte at a time. */
static uint64_t byte_at_a_time(const char *m, size_t len, const sw_sip_limits *lim, int restart)
{
    sw_sip_framer f;
    sw_sip_framer_init(&f);
    uint64_t total = 0;
    long r = SW_EINCOMPLETE;
    for (size_t have = 1; have <= len; have++) {
        size_t skip;
        sw_sip_error err;
        if (restart) { /* the old way: every read frames from byte 0 */
            total += f.examined;
            sw_sip_framer_init(&f);
        }
        r = sw_sip_framer_next(&f, m, have, lim, &skip, &err);
        assert_true(r == SW_EINCOMPLETE || have == len);
    }
    assert_int_equal(r, (long)len);
    return total + f.examined;
}

static char big[64 * 1024];

static size_t make_big(int lines, const char *last, size_t target)
{
    size_t n = (size_t)snprintf(big, sizeof big, "INVITE sip:b@example.net SIP/2.0\r\n");
    if (lines) {
        for (int i = 0; n + 40 < target; i++)
            n += (size_t)snprintf(big + n, sizeof big - n, "X-Filler-%05d: %s\r\n", i,
                                  "abcdefghijklmnopq");
    } else {
        memcpy(big + n, "X-Big: ", 7);
        n += 7;
        while (n < target)
            big[n++] = 'a';
        big[n++] = '\r';
        big[n++] = '\n';
    }
    n += (size_t)snprintf(big + n, sizeof big - n, "%s\r\n", last);
    return n;
}

static void test_linear(void **state)
{
    (void)state;
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    lim.max_headers = 65535;
    static const char *const lasts[] = {"l: 0\r\n", "Content-Length:\r\n 0\r\n"};
    for (int shape = 0; shape < 4; shape++) {
        size_t n = make_big(shape & 1, lasts[shape >> 1], 60 * 1024);
        assert_true(n > 60000 && n < lim.max_msg_size);
        uint64_t resumed = byte_at_a_time(big, n, &lim, 0);
        print_message("shape %d: %zu bytes, %llu examined resumed\n", shape, n,
                      (unsigned long long)resumed);
        assert_true(resumed <= 4 * (uint64_t)n);
    }
    /* the counter sees the quadratic cost of starting over at every read
     * (on 6 KB: 60 KB would take long under the sanitizers) */
    size_t n = make_big(0, lasts[0], 6 * 1024);
    uint64_t restarted = byte_at_a_time(big, n, &lim, 1);
    print_message("6 KB restarted at every byte: %llu examined\n", (unsigned long long)restarted);
    assert_true(restarted > (uint64_t)n * n / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_keepalives),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_torture_set),
        cmocka_unit_test(test_ims_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
