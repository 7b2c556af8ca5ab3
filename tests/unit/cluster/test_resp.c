/* The RESP codec around hiredis' reader (src/cluster/resp.c) and the block
 * wire format (src/cluster/block_wire.c): replies whole and byte by byte,
 * every prefix incomplete, the ceilings (buffered bytes, array elements,
 * objects, nesting), protocol errors; blocks round-trip, bad lines refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/cluster.h"

static sw_resp *one(const char *wire, size_t max_buffer, size_t max_elements, int *rc)
{
    sw_resp_reader *r = sw_resp_reader_new(max_buffer, max_elements);
    assert_non_null(r);
    sw_resp *v = NULL;
    *rc = sw_resp_feed(r, wire, strlen(wire));
    if (*rc == SW_OK)
        *rc = sw_resp_next(r, &v);
    sw_resp_reader_free(r);
    return v;
}

static void test_replies(void **state)
{
    (void)state;
    int rc;
    sw_resp *v = one("+OK\r\n", 0, 0, &rc);
    assert_int_equal(rc, SW_OK);
    assert_int_equal(v->type, SW_RESP_STATUS);
    assert_string_equal(v->str, "OK");
    sw_resp_free(v);
    v = one("-WRONGPASS invalid username-password pair\r\n", 0, 0, &rc);
    assert_int_equal(v->type, SW_RESP_ERROR);
    assert_string_equal(v->str, "WRONGPASS invalid username-password pair");
    sw_resp_free(v);
    v = one(":-42\r\n", 0, 0, &rc);
    assert_int_equal(v->type, SW_RESP_INTEGER);
    assert_int_equal(v->integer, -42);
    sw_resp_free(v);
    v = one("$-1\r\n", 0, 0, &rc);
    assert_int_equal(v->type, SW_RESP_NIL);
    sw_resp_free(v);
    /* a SCAN reply: cursor and keys, one of them binary-safe */
    static const char scan[] = "*2\r\n$1\r\n0\r\n*3\r\n$3\r\na\0b\r\n$0\r\n\r\n$-1\r\n";
    sw_resp_reader *r = sw_resp_reader_new(0, 0);
    assert_int_equal(sw_resp_feed(r, scan, sizeof scan - 1), SW_OK);
    assert_int_equal(sw_resp_next(r, &v), SW_OK);
    assert_int_equal(v->type, SW_RESP_ARRAY);
    assert_int_equal(v->n, 2);
    assert_int_equal(v->elem[1]->n, 3);
    assert_int_equal(v->elem[1]->elem[0]->len, 3);
    assert_memory_equal(v->elem[1]->elem[0]->str, "a\0b", 3);
    assert_int_equal(v->elem[1]->elem[1]->len, 0);
    assert_int_equal(v->elem[1]->elem[2]->type, SW_RESP_NIL);
    sw_resp_free(v);
    assert_int_equal(sw_resp_next(r, &v), SW_EINCOMPLETE);
    /* every prefix is incomplete, then byte by byte it completes */
    for (size_t i = 0; i + 1 < sizeof scan - 1; i++) {
        assert_int_equal(sw_resp_feed(r, scan + i, 1), SW_OK);
        assert_int_equal(sw_resp_next(r, &v), SW_EINCOMPLETE);
    }
    assert_int_equal(sw_resp_feed(r, scan + sizeof scan - 2, 1), SW_OK);
    assert_int_equal(sw_resp_next(r, &v), SW_OK);
    assert_int_equal(v->elem[1]->n, 3);
    sw_resp_free(v);
    sw_resp_reader_free(r);
}

static void test_ceilings(void **state)
{
    (void)state;
    int rc;
    /* an array declaring more elements than allowed: refused before any
     * element arrives (hiredis would allocate them at once) */
    sw_resp *v = one("*1000000000\r\n", 0, 1000, &rc);
    assert_null(v);
    assert_int_equal(rc, SW_EINVAL);
    /* the elements of nested arrays add up */
    v = one("*600\r\n*600\r\n", 0, 1000, &rc);
    assert_int_equal(rc, SW_EINVAL);
    /* objects per reply */
    char many[4096] = "*2\r\n*0\r\n*0\r\n";
    v = one(many, 0, 2, &rc);
    assert_int_equal(rc, SW_EINVAL);
    v = one(many, 0, 3, &rc);
    assert_int_equal(rc, SW_OK);
    sw_resp_free(v);
    /* a bulk string longer than the buffer can never complete */
    sw_resp_reader *r = sw_resp_reader_new(64, 0);
    assert_int_equal(sw_resp_feed(r, "$1000\r\n", 7), SW_OK);
    assert_int_equal(sw_resp_next(r, &v), SW_EINCOMPLETE);
    char junk[60];
    memset(junk, 'x', sizeof junk);
    assert_int_equal(sw_resp_feed(r, junk, sizeof junk), SW_ELIMIT);
    assert_true(strstr(sw_resp_error(r), "ceiling") != NULL);
    assert_int_equal(sw_resp_feed(r, "+OK\r\n", 5), SW_EINVAL);
    assert_int_equal(sw_resp_next(r, &v), SW_EINVAL);
    sw_resp_reader_free(r);
    /* nesting deeper than hiredis' stack */
    v = one("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 0, 0, &rc);
    assert_null(v);
    assert_int_equal(rc, SW_EINVAL);
    /* protocol errors break the reader */
    v = one("?what\r\n", 0, 0, &rc);
    assert_int_equal(rc, SW_EINVAL);
    v = one(":12x\r\n", 0, 0, &rc);
    assert_int_equal(rc, SW_EINVAL);
}

static void test_command(void **state)
{
    (void)state;
    const char *argv[3] = {"SET", "k", "a b"};
    size_t lens[3] = {3, 1, 3};
    char *cmd;
    size_t n;
    assert_int_equal(sw_resp_command(&cmd, &n, 3, argv, lens), SW_OK);
    static const char want[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(cmd, want, n);
    free(cmd);
    assert_int_equal(sw_resp_command(&cmd, &n, 0, argv, lens), SW_EUSAGE);
}

static void test_block_wire(void **state)
{
    (void)state;
    sw_state_block b, d;
    memset(&b, 0, sizeof b);
    b.kind = 1;
    b.offences = 3;
    b.active = 1;
    snprintf(b.id, sizeof b.id, "+4930555000");
    snprintf(b.rule, sizeof b.rule, "irsf.sequential");
    b.type = SW_EVT_SIP_SCAN;
    b.category = SW_CAT_BEHAVIOURAL;
    b.transport = SW_TRANSPORT_UDP;
    b.since = INT64_C(1790000000000000000);
    b.until = b.since + INT64_C(600000000000);
    assert_int_equal(sw_addr_parse("127.178.0.10:5060", &b.src), SW_OK);
    b.origin = SW_BLOCK_ORIGIN_ADMIN;
    memset(b.reason, 'r', sizeof b.reason - 1); /* the longest reason fits */
    char buf[1024], origin[65];
    int64_t wrote;
    int n = sw_cluster_block_encode(&b, "node-a", 77, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(sw_cluster_block_decode(buf, (size_t)n, &d, origin, &wrote), SW_OK);
    assert_string_equal(origin, "node-a");
    assert_int_equal(wrote, 77);
    assert_string_equal(d.id, b.id);
    assert_string_equal(d.rule, b.rule);
    assert_int_equal(d.kind, 1);
    assert_int_equal(d.offences, 3);
    assert_int_equal(d.active, 1);
    assert_true(d.since == b.since && d.until == b.until);
    assert_int_equal(d.type, b.type);
    assert_int_equal(d.category, b.category);
    assert_true(sw_addr_eq(&d.src, &b.src));
    assert_int_equal(d.dst.family, 0);
    assert_int_equal(d.origin, SW_BLOCK_ORIGIN_ADMIN);
    assert_string_equal(d.reason, b.reason);
    assert_int_equal(sw_cluster_block_encode(&b, "node-a", 77, buf, 20), SW_ELIMIT);
    /* refused: each field out of range, a NUL byte in the key, wrong counts */
    static const char *const bad[] = {
        "",
        "2 n 0 1 1 1 10 20 0 0 0 - - 41 - 0 -",
        "1 n 0 255 1 1 10 20 0 0 0 - - 41 - 0 -",
        "1 n 0 1 17 1 10 20 0 0 0 - - 41 - 0 -",
        "1 n 0 1 1 2 10 20 0 0 0 - - 41 - 0 -",
        "1 n 0 1 1 1 20 20 0 0 0 - - 41 - 0 -",
        "1 n 0 1 1 1 10 20 999 0 0 - - 41 - 0 -",
        "1 n 0 1 1 1 10 20 0 99 0 - - 41 - 0 -",
        "1 n 0 1 1 1 10 20 0 0 9 - - 41 - 0 -",
        "1 n 0 1 1 1 10 20 0 0 0 nope - 41 - 0 -",
        "1 n 0 1 1 1 10 20 0 0 0 - - - - 0 -",
        "1 n 0 1 1 1 10 20 0 0 0 - - 4100 - 0 -",
        "1 n 0 1 1 1 10 20 0 0 0 - - 4 - 0 -",
        "1 n 0 1 1 1 10 20 0 0 0 - - 4g - 0 -",
        "1 n 0 1 1 1 10 20 0 0 0 - - 41 - 0",
        "1 n 0 1 1 1 10 20 0 0 0 - - 41 - 0 - extra",
        "1 n 0 1 1 1 10 20x 0 0 0 - - 41 - 0 -",
        "1 n 0 1 1 1 10 99999999999999999999 0 0 0 - - 41 - 0 -",
        "1 n 0 1 1 1 10 20 0 0 0 - - 41 - 3 -",
        "1 n 0 1 1 1 10 20 0 0 0 - - 41 - 0 4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sw_cluster_block_decode(bad[i], strlen(bad[i]), &d, origin, &wrote) != SW_EINVAL)
            fail_msg("accepted: '%s'", bad[i]);
    }
    static const char good[] = "1 n 0 1 1 1 10 20 0 0 0 - - 41 - 1 6869";
    assert_int_equal(sw_cluster_block_decode(good, sizeof good - 1, &d, origin, &wrote), SW_OK);
    assert_string_equal(d.id, "A");
    assert_int_equal(d.origin, SW_BLOCK_ORIGIN_ADMIN);
    assert_string_equal(d.reason, "hi");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_ceilings),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_block_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
