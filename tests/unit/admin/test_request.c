/* The admin API's request parsers (src/admin/request.c): routes, methods,
 * path segments, query strings, the block body, error bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/admin.h"

#define NOW (INT64_C(1796000000) * 1000000000) /* 2026-12-01 */

static int route(const char *m, const char *t, sw_admin_req *r, char *err)
{
    return sw_admin_route(m, t, NOW, r, err, 300);
}

static void test_routes(void **st)
{
    (void)st;
    sw_admin_req r;
    char err[300];
    assert_int_equal(route("GET", "/v1/status", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_STATUS);
    assert_int_equal(route("POST", "/v1/reload", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_RELOAD);
    assert_int_equal(route("GET", "/v1/blocks", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_BLOCKS);
    assert_int_equal(r.limit, SW_ADMIN_BLOCKS_DEFAULT);
    assert_int_equal(route("POST", "/v1/blocks", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_BLOCK_ADD);
    assert_int_equal(route("GET", "/v1/partners", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_PARTNERS);
    assert_int_equal(route("GET", "/v1/events", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_EVENTS);
    assert_int_equal(r.limit, SW_ADMIN_EVENTS_DEFAULT);
    /* unknown paths: 404, also near misses */
    const char *nf[] = {"/", "/v1", "/v1/", "/v1/statuss", "/v1/status/", "/v2/status", "/v1/blocks/source",
                        "/v1/blocks/source/", "/v1/blocks//1.2.3.4", "v1/status", ""};
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) {
        int s = route("GET", nf[i], &r, err);
        if (s != 404)
            fail_msg("%s: %d", nf[i], s);
    }
    /* wrong methods: 405 naming what the path takes */
    assert_int_equal(route("POST", "/v1/status", &r, err), 405);
    assert_non_null(strstr(err, "GET"));
    assert_int_equal(route("GET", "/v1/reload", &r, err), 405);
    assert_int_equal(route("PUT", "/v1/blocks", &r, err), 405);
    assert_int_equal(route("GET", "/v1/blocks/source/1.2.3.4", &r, err), 405);
    assert_int_equal(route("DELETE", "/v1/events", &r, err), 405);
}

static void test_unblock_path(void **st)
{
    (void)st;
    sw_admin_req r;
    char err[300];
    assert_int_equal(route("DELETE", "/v1/blocks/source/192.0.2.1", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_UNBLOCK);
    assert_string_equal(r.kind, "source");
    assert_string_equal(r.key, "192.0.2.1");
    /* an IPv6 /64 keeps its slash, escaped or not */
    assert_int_equal(route("DELETE", "/v1/blocks/source/2001:db8::/64", &r, err), 200);
    assert_string_equal(r.key, "2001:db8::/64");
    assert_int_equal(route("DELETE", "/v1/blocks/source/2001%3Adb8%3A%3A%2F64", &r, err), 200);
    assert_string_equal(r.key, "2001:db8::/64");
    assert_int_equal(route("DELETE", "/v1/blocks/caller/%2B4930123", &r, err), 200);
    assert_string_equal(r.kind, "caller");
    assert_string_equal(r.key, "+4930123");
    /* bad escapes, NUL, control characters, spaces, overlong: 400 */
    const char *bad[] = {"/v1/blocks/source/1.2.3.4%", "/v1/blocks/source/1.2.3.4%4", "/v1/blocks/source/%zz",
                         "/v1/blocks/source/a%00b", "/v1/blocks/source/a%0Ab", "/v1/blocks/source/a%20b",
                         "/v1/blocks/sou%0drce/1.2.3.4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int s = route("DELETE", bad[i], &r, err);
        if (s != 400)
            fail_msg("%s: %d", bad[i], s);
    }
    char longp[200];
    snprintf(longp, sizeof longp, "/v1/blocks/source/%0100d", 1);
    assert_int_equal(route("DELETE", longp, &r, err), 400);
    /* a query on a path that takes none */
    assert_int_equal(route("DELETE", "/v1/blocks/source/1.2.3.4?x=1", &r, err), 400);
    assert_int_equal(route("GET", "/v1/status?x=1", &r, err), 400);
}

static void test_events_query(void **st)
{
    (void)st;
    sw_admin_req r;
    char err[300];
    assert_int_equal(route("GET", "/v1/events?type=sip_scan&src=192.0.2.7&peer=alpha&rule=cat1.x&limit=5&after=17",
                           &r, err),
                     200);
    assert_string_equal(r.type, "sip_scan");
    assert_string_equal(r.src, "192.0.2.7");
    assert_string_equal(r.peer, "alpha");
    assert_string_equal(r.rule, "cat1.x");
    assert_int_equal(r.limit, 5);
    assert_int_equal(r.after_id, 17);
    /* times as `sipwall events` takes them */
    assert_int_equal(route("GET", "/v1/events?since=-10m&until=now", &r, err), 200);
    assert_int_equal(r.since_ns, NOW - INT64_C(600) * 1000000000);
    assert_int_equal(r.until_ns, NOW);
    assert_int_equal(route("GET", "/v1/events?since=2026-12-01T10%3A00%3A00Z", &r, err), 200);
    assert_int_equal(r.since_ns, INT64_C(1796119200) * 1000000000);
    assert_int_equal(route("GET", "/v1/events?since=2026-12-01T10:00:00%2B01:00", &r, err), 200);
    assert_int_equal(r.since_ns, INT64_C(1796115600) * 1000000000);
    /* empty pairs are skipped */
    assert_int_equal(route("GET", "/v1/events?&&limit=3&", &r, err), 200);
    assert_int_equal(r.limit, 3);
    struct {
        const char *q, *word;
    } bad[] = {
        {"/v1/events?type=no_such_type", "type"},
        {"/v1/events?src=not-an-ip", "src"},
        {"/v1/events?since=yesterday", "since"},
        {"/v1/events?limit=0", "limit"},
        {"/v1/events?limit=10001", "limit"},
        {"/v1/events?limit=-1", "limit"},
        {"/v1/events?limit=99999999999999999999", "limit"},
        {"/v1/events?after=x", "after"},
        {"/v1/events?colour=red", "colour"},
        {"/v1/events?peer=a+b", "peer"},
        {"/v1/events?rule=", "rule"},
        {"/v1/events?limit", "without a value"},
        {"/v1/events?since=-1h&until=-2h", "until"},
        {"/v1/blocks?type=sip_scan", "type"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int s = route("GET", bad[i].q, &r, err);
        if (s != 400 || !strstr(err, bad[i].word))
            fail_msg("%s: %d %s", bad[i].q, s, err);
    }
    char many[400] = "/v1/events?";
    for (int i = 0; i < 17; i++)
        strcat(many, "limit=1&");
    assert_int_equal(route("GET", many, &r, err), 400);
    assert_int_equal(route("GET", "/v1/blocks?limit=7", &r, err), 200);
    assert_int_equal(r.limit, 7);
}

static int block(const char *body, sw_admin_req *r, char *err)
{
    memset(r, 0, sizeof *r);
    return sw_admin_parse_block(body, strlen(body), r, err, 300);
}

static void test_block_body(void **st)
{
    (void)st;
    sw_admin_req r;
    char err[300];
    assert_int_equal(block("{\"kind\":\"source\",\"key\":\"192.0.2.1\",\"duration\":600,\"reason\":\"ticket 7\"}", &r, err),
                     200);
    assert_string_equal(r.kind, "source");
    assert_string_equal(r.key, "192.0.2.1");
    assert_int_equal(r.duration_s, 600);
    assert_string_equal(r.reason, "ticket 7");
    assert_int_equal(block("{\"kind\":\"caller\",\"key\":\"+4930\",\"duration\":\"10m\"}", &r, err), 200);
    assert_int_equal(r.duration_s, 600);
    assert_string_equal(r.reason, "");
    assert_int_equal(block("{\"kind\":\"caller\",\"key\":\"+4930\",\"duration\":\"24h\",\"reason\":null}", &r, err),
                     200);
    assert_int_equal(r.duration_s, 86400);
    assert_int_equal(block("{\"kind\":\"caller\",\"key\":\"+4930\",\"duration\":\"1d\"}", &r, err), 200);
    struct {
        const char *body, *word;
    } bad[] = {
        {"", "required"},
        {"{", "JSON parse error at line 1"},
        {"[1]", "object"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\"}", "duration"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":0}", "duration"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":86401}", "duration"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":\"2d\"}", "duration"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":\"m\"}", "duration"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":-5}", "duration"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":1.5}", "duration"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":\"99999999999999h\"}", "duration"},
        {"{\"kind\":5,\"key\":\"1.2.3.4\",\"duration\":60}", "kind"},
        {"{\"kind\":\"source\",\"key\":\"1.2 3.4\",\"duration\":60}", "key"},
        {"{\"kind\":\"source\",\"key\":\"\",\"duration\":60}", "key"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":60,\"reason\":\"a\\nb\"}", "reason"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":60,\"reason\":7}", "reason"},
        {"{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":60,\"x\":1}", "unknown member 'x'"},
        {"{\"kind\":\"source\",\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":60}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int s = block(bad[i].body, &r, err);
        if (s != 400 || !strstr(err, bad[i].word))
            fail_msg("%s: %d %s", bad[i].body, s, err);
    }
    char reason[300];
    memset(reason, 'a', sizeof reason);
    reason[sizeof reason - 1] = '\0';
    char body[500];
    snprintf(body, sizeof body, "{\"kind\":\"source\",\"key\":\"1.2.3.4\",\"duration\":60,\"reason\":\"%s\"}", reason);
    assert_int_equal(block(body, &r, err), 400);
    /* a body above the cap is 413, whatever it holds */
    char *big = malloc(SW_ADMIN_BODY_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', SW_ADMIN_BODY_MAX + 1);
    big[SW_ADMIN_BODY_MAX + 1] = '\0';
    assert_int_equal(sw_admin_parse_block(big, SW_ADMIN_BODY_MAX + 1, &r, err, sizeof err), 413);
    free(big);
}

static void test_error_json(void **st)
{
    (void)st;
    char *s = sw_admin_error_json(404, "no such path");
    assert_string_equal(s, "{\"error\":{\"status\":404,\"message\":\"no such path\"}}");
    free(s);
    s = sw_admin_error_json(400, "bad \"quote\" \xff");
    assert_non_null(s); /* not UTF-8: still an answer */
    assert_non_null(strstr(s, "\"status\":400"));
    free(s);
}

/* Partners' indicators: list (with a limit), show, revoke. */
static void test_intel_paths(void **st)
{
    (void)st;
    sw_admin_req r;
    char err[300];
    const char *id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    char path[200];
    assert_int_equal(route("GET", "/v1/intel", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_INTEL);
    assert_int_equal(r.limit, SW_ADMIN_BLOCKS_DEFAULT);
    assert_int_equal(route("GET", "/v1/intel?limit=5", &r, err), 200);
    assert_int_equal(r.limit, 5);
    assert_int_equal(route("GET", "/v1/intel?limit=0", &r, err), 400);
    snprintf(path, sizeof path, "/v1/intel/%s", id);
    assert_int_equal(route("GET", path, &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_INTEL_SHOW);
    assert_string_equal(r.key, id);
    assert_int_equal(route("POST", path, &r, err), 405);
    assert_int_equal(route("GET", "/v1/intel/x?limit=1", &r, err), 400);
    snprintf(path, sizeof path, "/v1/intel/%s/revoke", id);
    assert_int_equal(route("POST", path, &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_INTEL_REVOKE);
    assert_string_equal(r.key, id);
    assert_int_equal(route("GET", path, &r, err), 405);
    assert_non_null(strstr(err, "POST"));
    assert_int_equal(route("POST", "/v1/intel", &r, err), 405);
    const char *nf[] = {"/v1/intel/x/revok", "/v1/intel/x/revoke/", "/v1/intel/x/y", "/v1/intels"};
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) {
        int s = route("POST", nf[i], &r, err);
        if (s != 404)
            fail_msg("%s: %d", nf[i], s);
    }
    const char *bad[] = {"/v1/intel//revoke", "/v1/intel/a%20b/revoke", "/v1/intel/a%00b/revoke"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int s = route("POST", bad[i], &r, err);
        if (s != 400)
            fail_msg("%s: %d", bad[i], s);
    }
    /* a partner's push: POST only, not an indicator id */
    assert_int_equal(route("POST", "/v1/intel/push", &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_INTEL_PUSH);
    assert_null(r.body);
    assert_int_equal(route("GET", "/v1/intel/push", &r, err), 405);
    assert_int_equal(route("POST", "/v1/intel/push/", &r, err), 404);
}

/* Our own published indicators: revoke only (TAXII lists them). */
static void test_exchange_paths(void **st)
{
    (void)st;
    sw_admin_req r;
    char err[300];
    const char *id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    char path[200];
    snprintf(path, sizeof path, "/v1/exchange/%s/revoke", id);
    assert_int_equal(route("POST", path, &r, err), 200);
    assert_int_equal(r.op, SW_ADMIN_EXCHANGE_REVOKE);
    assert_string_equal(r.key, id);
    assert_int_equal(route("GET", path, &r, err), 405);
    assert_non_null(strstr(err, "POST"));
    assert_int_equal(route("DELETE", path, &r, err), 405);
    snprintf(path, sizeof path, "/v1/exchange/%s/revoke?x=1", id);
    assert_int_equal(route("POST", path, &r, err), 400);
    const char *nf[] = {"/v1/exchange", "/v1/exchange/", "/v1/exchange/x", "/v1/exchange/x/revok",
                        "/v1/exchange/x/revoke/", "/v1/exchange/x/y", "/v1/exchanges/x/revoke"};
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) {
        int s = route("POST", nf[i], &r, err);
        if (s != 404)
            fail_msg("%s: %d", nf[i], s);
    }
    const char *bad[] = {"/v1/exchange//revoke", "/v1/exchange/a%20b/revoke", "/v1/exchange/a%00b/revoke"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int s = route("POST", bad[i], &r, err);
        if (s != 400)
            fail_msg("%s: %d", bad[i], s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),      cmocka_unit_test(test_unblock_path),
        cmocka_unit_test(test_events_query), cmocka_unit_test(test_block_body),
        cmocka_unit_test(test_error_json),  cmocka_unit_test(test_intel_paths),
        cmocka_unit_test(test_exchange_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
