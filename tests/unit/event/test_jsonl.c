/* The event model and the JSON-lines sink: every field, escaping of hostile
 * bytes, truncation, timestamps; the output is read back with jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "sipwall/event.h"

/* ---- helpers --------------------------------------------------------------- */

/* Emits the events to a JSONL file, reads it back, returns the lines parsed
 * as a JSON array (caller decrefs).  Also checks the raw text: one '\n'
 * per event and no other CR/LF/NUL byte anywhere. */
static json_t *roundtrip(const sw_event *evs, size_t n)
{
    char path[] = "/tmp/sw_test_jsonl_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256] = "";
    sw_event_sink *s = sw_jsonl_sink_open(path, err, sizeof err);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sw_event_emit(s, &evs[i]), SW_OK);
    assert_int_equal(s->emitted, n);
    assert_int_equal(sw_event_sink_close(s), SW_OK);

    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    unlink(path);
    text[len] = '\0';

    size_t newlines = 0;
    for (size_t i = 0; i < len; i++) {
        assert_true(text[i] != '\0' && text[i] != '\r');
        if (text[i] == '\n')
            newlines++;
    }
    assert_int_equal(newlines, n);
    assert_true(len == 0 || text[len - 1] == '\n');

    json_t *arr = json_array();
    char *line = text;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)(nl - line), JSON_ALLOW_NUL, &jerr);
        if (!o)
            fail_msg("line %zu is not JSON: %s: %.*s", i + 1, jerr.text, (int)(nl - line), line);
        assert_true(json_is_object(o));
        json_array_append_new(arr, o);
        line = nl + 1;
    }
    return arr;
}

static void assert_jstr(const json_t *o, const char *key, const char *want)
{
    const json_t *v = json_object_get(o, key);
    if (!v || !json_is_string(v))
        fail_msg("field %s missing or not a string", key);
    assert_string_equal(json_string_value(v), want);
}

static void assert_jint(const json_t *o, const char *key, json_int_t want)
{
    const json_t *v = json_object_get(o, key);
    if (!v || !json_is_integer(v))
        fail_msg("field %s missing or not an integer", key);
    assert_int_equal(json_integer_value(v), want);
}

static sw_str S(const char *s)
{
    return sw_str_make(s, strlen(s));
}

static sw_addr addr(const char *s)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(s, &a), SW_OK);
    return a;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_vocabulary(void **state)
{
    (void)state;
    assert_string_equal(sw_event_type_name(SW_EVT_SIP_MALFORMED), "sip_malformed");
    assert_string_equal(sw_event_type_name(SW_EVT_POLICY_VIOLATION), "policy_violation");
    assert_string_equal(sw_event_type_name(SW_EVT_WANGIRI_CLI), "wangiri_cli");
    assert_null(sw_event_type_name(SW_EVT__COUNT));
    assert_string_equal(sw_category_name(SW_CAT_CAT0), "cat0");
    assert_string_equal(sw_category_name(SW_CAT_BEHAVIOURAL), "behavioural");
    assert_string_equal(sw_action_name(SW_ACTION_DROP), "drop");
    assert_string_equal(sw_action_name(SW_ACTION_RATE_LIMIT), "rate-limit");
    sw_event_type t;
    assert_int_equal(sw_event_type_lookup("irsf_call", &t), SW_OK);
    assert_int_equal(t, SW_EVT_IRSF_CALL);
    assert_int_equal(sw_event_type_lookup("nope", &t), SW_ENOTFOUND);
    /* sipwall's own health: the pipeline reports lost records with these */
    assert_string_equal(sw_event_type_name(SW_EVT_EVENT_LOSS), "event_loss");
    assert_string_equal(sw_category_name(SW_CAT_SYSTEM), "system");
    sw_category c;
    assert_int_equal(sw_category_lookup("behavioural", &c), SW_OK);
    assert_int_equal(c, SW_CAT_BEHAVIOURAL);
    assert_int_equal(sw_category_lookup("cat9", &c), SW_ENOTFOUND);
    sw_action a;
    assert_int_equal(sw_action_lookup("rate-limit", &a), SW_OK);
    assert_int_equal(a, SW_ACTION_RATE_LIMIT);
    assert_int_equal(sw_action_lookup("Drop", &a), SW_ENOTFOUND);
}

static void test_timestamps(void **state)
{
    (void)state;
    char b[SW_EVENT_TS_LEN];
    assert_int_equal(sw_event_format_ts(0, b, sizeof b), 24);
    assert_string_equal(b, "1970-01-01T00:00:00.000Z");
    /* 2026-11-24T00:03:41.224969Z, the first malformed frame of a11. */
    sw_event_format_ts(INT64_C(1795478621224969000), b, sizeof b);
    assert_string_equal(b, "2026-11-24T00:03:41.224Z");
    /* Milliseconds are rounded down, never up into the next second. */
    sw_event_format_ts(INT64_C(1795478621999999999), b, sizeof b);
    assert_string_equal(b, "2026-11-24T00:03:41.999Z");
    sw_event_format_ts(INT64_C(1795478400123000000), b, sizeof b);
    assert_string_equal(b, "2026-11-24T00:00:00.123Z");
    /* Before the epoch: floor, not truncation towards zero. */
    sw_event_format_ts(-1, b, sizeof b);
    assert_string_equal(b, "1969-12-31T23:59:59.999Z");
    /* Leap day. */
    sw_event_format_ts(INT64_C(1709210096789000000), b, sizeof b);
    assert_string_equal(b, "2024-02-29T12:34:56.789Z");
    /* The whole int64 ns range fits RFC 3339's four-digit years. */
    sw_event_format_ts(INT64_MAX, b, sizeof b);
    assert_string_equal(b, "2262-04-11T23:47:16.854Z");
    sw_event_format_ts(INT64_MIN, b, sizeof b);
    assert_string_equal(b, "1677-09-21T00:12:43.145Z");
    /* Too small a buffer. */
    char small[10];
    assert_int_equal(sw_event_format_ts(0, small, sizeof small), SW_ELIMIT);
}

static void test_sanitize(void **state)
{
    (void)state;
    char out[3 * 64];
    int cut;
    size_t n;

    n = sw_event_sanitize(S("plain"), 64, out, &cut);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "plain", 5);
    assert_int_equal(cut, 0);

    /* NUL and controls stay (the JSON writer escapes them). */
    n = sw_event_sanitize(sw_str_make("a\0b\r\n", 5), 64, out, &cut);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "a\0b\r\n", 5);

    /* Valid UTF-8 (2, 3 and 4 bytes) passes unchanged. */
    const char *u = "\xd0\x96 \xe2\x82\xac \xf0\x9f\x98\x80";
    n = sw_event_sanitize(S(u), 64, out, &cut);
    assert_int_equal(n, strlen(u));
    assert_memory_equal(out, u, n);

    /* One U+FFFD per bad byte: lone continuation, bad lead, overlong,
     * surrogate, above U+10FFFF, sequence cut by the end of the value. */
    struct {
        const char *in;
        size_t len;
        const char *want;
    } bad[] = {
        {"\x80", 1, "\xef\xbf\xbd"},
        {"a\xffz", 3, "a\xef\xbf\xbdz"},
        {"\xc0\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"x\xe2\x82", 3, "x\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xc3\x28", 2, "\xef\xbf\xbd("},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = sw_event_sanitize(sw_str_make(bad[i].in, bad[i].len), 64, out, &cut);
        assert_int_equal(n, strlen(bad[i].want));
        assert_memory_equal(out, bad[i].want, n);
        assert_int_equal(cut, 0);
    }

    /* Truncation: a character cut by the cap is dropped, not damaged. */
    n = sw_event_sanitize(S("abc\xe2\x82\xac"), 4, out, &cut);
    assert_int_equal(cut, 1);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "abc", 3);
    n = sw_event_sanitize(S("abcdef"), 4, out, &cut);
    assert_int_equal(cut, 1);
    assert_int_equal(n, 4);

    /* Worst case: every byte bad, output exactly 3 * max. */
    char all_bad[64];
    memset(all_bad, 0xff, sizeof all_bad);
    n = sw_event_sanitize(sw_str_make(all_bad, sizeof all_bad), 64, out, &cut);
    assert_int_equal(n, 3 * 64);

    n = sw_event_sanitize(SW_STR_NULL, 64, out, &cut);
    assert_int_equal(n, 0);
}

/* Every field set; parsed back, every value is what went in. */
static void test_every_field(void **state)
{
    (void)state;
    sw_event ev;
    sw_event_init(&ev, SW_EVT_SIP_MALFORMED, SW_CAT_CAT1, "sip.malformed");
    ev.ts_ns = INT64_C(1795478621224969000);
    ev.action = SW_ACTION_REJECT;
    ev.action_status = 400;
    ev.confidence = 90;
    ev.reason = S("offset 123: negative Content-Length");
    ev.peer = S("carrier-a");
    ev.src = addr("127.0.0.79:5170");
    ev.dst = addr("[2001:db8::1]:5060");
    ev.transport = SW_TRANSPORT_UDP;
    ev.method = S("INVITE");
    ev.call_id = S("54bec7d88a3b09dd@127.0.0.79");
    ev.from = S("+493023118560");
    ev.to = S("+447700978635");
    ev.pai = S("+1999");
    ev.ruri = S("+447700978635");
    ev.frame = 6;
    ev.file = S("tests/data/pcap/x.pcap");
    assert_int_equal(sw_event_add_num(&ev, "offset", 123), SW_OK);
    assert_int_equal(sw_event_add_str(&ev, "header", S("Content-Length")), SW_OK);
    assert_int_equal(sw_event_add_num(&ev, "negative", -999), SW_OK);

    json_t *arr = roundtrip(&ev, 1);
    json_t *o = json_array_get(arr, 0);
    assert_jstr(o, "ts", "2026-11-24T00:03:41.224Z");
    assert_jstr(o, "event_type", "sip_malformed");
    assert_jstr(o, "category", "cat1");
    assert_jstr(o, "rule", "sip.malformed");
    assert_jstr(o, "action", "reject");
    assert_jint(o, "action_status", 400);
    assert_jstr(o, "reason", "offset 123: negative Content-Length");
    assert_jint(o, "confidence", 90);
    assert_jstr(o, "peer", "carrier-a");
    assert_jstr(o, "src", "127.0.0.79:5170");
    assert_jstr(o, "dst", "[2001:db8::1]:5060");
    assert_jstr(o, "transport", "udp");
    assert_jstr(o, "method", "INVITE");
    assert_null(json_object_get(o, "status")); /* method or status, not both */
    assert_jstr(o, "call_id", "54bec7d88a3b09dd@127.0.0.79");
    assert_jstr(o, "from", "+493023118560");
    assert_jstr(o, "to", "+447700978635");
    assert_jstr(o, "pai", "+1999");
    assert_jstr(o, "ruri", "+447700978635");
    assert_jint(o, "frame", 6);
    assert_jstr(o, "file", "tests/data/pcap/x.pcap");
    json_t *evid = json_object_get(o, "evidence");
    assert_true(json_is_object(evid));
    assert_int_equal(json_object_size(evid), 3);
    assert_jint(evid, "offset", 123);
    assert_jstr(evid, "header", "Content-Length");
    assert_jint(evid, "negative", -999);
    assert_null(json_object_get(o, "truncated"));
    assert_jstr(o, "mode", "enforce");
    assert_int_equal(json_object_size(o), 22);

    /* Field order is the documented one (jansson keeps insertion order). */
    const char *order[] = {"ts", "event_type", "category", "rule", "action", "action_status",
                           "mode", "reason", "confidence", "peer", "src", "dst", "transport", "method",
                           "call_id", "from", "to", "pai", "ruri", "frame", "file",
                           "evidence"};
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (i < sizeof order / sizeof order[0])
            assert_string_equal(k, order[i]);
        i++;
    }
    json_decref(arr);
}

/* A response with nothing optional: optional fields are left out, status is
 * a number, mandatory ones are there. */
static void test_minimal_response(void **state)
{
    (void)state;
    sw_event ev;
    sw_event_init(&ev, SW_EVT_PRIVACY_LEAK, SW_CAT_BEHAVIOURAL, "x.y");
    ev.status = 183;
    json_t *arr = roundtrip(&ev, 1);
    json_t *o = json_array_get(arr, 0);
    assert_jstr(o, "ts", "1970-01-01T00:00:00.000Z");
    assert_jstr(o, "event_type", "privacy_leak");
    assert_jstr(o, "category", "behavioural");
    assert_jstr(o, "action", "tag");
    assert_jstr(o, "reason", "");
    assert_jint(o, "confidence", 100);
    assert_jstr(o, "transport", "unknown");
    assert_jint(o, "status", 183);
    const char *absent[] = {"method", "call_id", "from", "to", "pai", "ruri", "frame",
                            "file", "src", "dst", "evidence", "truncated", "action_status",
                            "peer"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        if (json_object_get(o, absent[i]))
            fail_msg("field %s should be absent", absent[i]);
    json_decref(arr);
}

/* Hostile bytes in every string field come back exactly (valid UTF-8,
 * NUL, CR, LF, quotes, backslash) or as U+FFFD (invalid UTF-8). */
static void test_escaping(void **state)
{
    (void)state;
    static const char nasty[] = "a\"b\\c\0d\re\nf\tg\x01h/</script>";
    sw_str v = sw_str_make(nasty, sizeof nasty - 1);
    static const char bad[] = "x\xc3\x28\xa0\xa1\xff\xfey";
    const char *bad_want = "x\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy";

    sw_event ev;
    sw_event_init(&ev, SW_EVT_PAI_INJECTION, SW_CAT_CAT2, "pai.untrusted");
    ev.reason = v;
    ev.call_id = v;
    ev.from = sw_str_make(bad, sizeof bad - 1);
    ev.to = v;
    ev.pai = S("\"a\rP-Asserted-Identity: <sip:+1999@evil>\r\" <sip:x@y>");
    ev.ruri = S("sip:caf\xc3\xa9@example.com");
    ev.method = sw_str_make("INV\0ITE", 7);
    assert_int_equal(sw_event_add_str(&ev, "raw", v), SW_OK);

    json_t *arr = roundtrip(&ev, 1);
    json_t *o = json_array_get(arr, 0);
    const char *fields[] = {"reason", "call_id", "to"};
    for (size_t i = 0; i < 3; i++) {
        json_t *s = json_object_get(o, fields[i]);
        assert_int_equal(json_string_length(s), v.len);
        assert_memory_equal(json_string_value(s), nasty, v.len);
    }
    json_t *s = json_object_get(json_object_get(o, "evidence"), "raw");
    assert_int_equal(json_string_length(s), v.len);
    assert_memory_equal(json_string_value(s), nasty, v.len);
    assert_jstr(o, "from", bad_want);
    assert_jstr(o, "pai", "\"a\rP-Asserted-Identity: <sip:+1999@evil>\r\" <sip:x@y>");
    assert_jstr(o, "ruri", "sip:caf\xc3\xa9@example.com");
    s = json_object_get(o, "method");
    assert_int_equal(json_string_length(s), 7);
    assert_memory_equal(json_string_value(s), "INV\0ITE", 7);
    json_decref(arr);

    /* The raw text: NUL as \u0000, CR/LF as escapes, so one event = one line. */
    size_t len;
    char *text = sw_event_json(&ev, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "c\\u0000d\\re\\nf\\tg\\u0001h"));
    assert_null(strchr(text, '\n'));
    assert_null(strchr(text, '\r'));
    free(text);
}

static void test_truncation(void **state)
{
    (void)state;
    char big[3000];
    memset(big, '9', sizeof big);
    char reason[600];
    memset(reason, 'r', sizeof reason);
    /* A multi-byte character straddling the cap (bytes 255..256). */
    char straddle[300];
    memset(straddle, 'a', sizeof straddle);
    memcpy(straddle + 255, "\xe2\x82\xac", 3);

    sw_event ev;
    sw_event_init(&ev, SW_EVT_SIP_MALFORMED, SW_CAT_CAT1, "sip.malformed");
    ev.ruri = sw_str_make(big, sizeof big);
    ev.reason = sw_str_make(reason, sizeof reason);
    ev.call_id = sw_str_make(straddle, sizeof straddle);
    ev.from = sw_str_make(big, SW_EVENT_FIELD_MAX); /* exactly at the cap: not cut */
    assert_int_equal(sw_event_add_str(&ev, "user_agent", sw_str_make(big, 1000)), SW_OK);

    json_t *arr = roundtrip(&ev, 1);
    json_t *o = json_array_get(arr, 0);
    assert_int_equal(json_string_length(json_object_get(o, "ruri")), SW_EVENT_FIELD_MAX);
    assert_int_equal(json_string_length(json_object_get(o, "reason")), SW_EVENT_FIELD_MAX);
    assert_int_equal(json_string_length(json_object_get(o, "call_id")), 255);
    assert_int_equal(json_string_length(json_object_get(o, "from")), SW_EVENT_FIELD_MAX);
    assert_int_equal(
        json_string_length(json_object_get(json_object_get(o, "evidence"), "user_agent")),
        SW_EVENT_FIELD_MAX);
    json_t *t = json_object_get(o, "truncated");
    assert_true(json_is_object(t));
    assert_jint(t, "ruri", 3000);
    assert_jint(t, "reason", 600);
    assert_jint(t, "call_id", 300);
    assert_jint(t, "evidence.user_agent", 1000);
    assert_null(json_object_get(t, "from"));
    assert_int_equal(json_object_size(t), 4);
    json_decref(arr);
}

static void test_evidence_bound(void **state)
{
    (void)state;
    sw_event ev;
    sw_event_init(&ev, SW_EVT_SIP_FLOOD, SW_CAT_BEHAVIOURAL, "flood");
    static const char *keys[SW_EVENT_MAX_EVIDENCE] = {"k0", "k1", "k2", "k3", "k4", "k5",
                                                      "k6", "k7", "k8", "k9", "k10", "k11",
                                                      "k12", "k13", "k14", "k15"};
    for (int i = 0; i < SW_EVENT_MAX_EVIDENCE; i++)
        assert_int_equal(sw_event_add_num(&ev, keys[i], i), SW_OK);
    assert_int_equal(sw_event_add_num(&ev, "one_too_many", 1), SW_ELIMIT);
    assert_int_equal(sw_event_add_str(&ev, "one_too_many", S("x")), SW_ELIMIT);
    assert_int_equal(ev.nevidence, SW_EVENT_MAX_EVIDENCE);
    json_t *arr = roundtrip(&ev, 1);
    json_t *evid = json_object_get(json_array_get(arr, 0), "evidence");
    assert_int_equal(json_object_size(evid), SW_EVENT_MAX_EVIDENCE);
    assert_jint(evid, "k15", 15);
    json_decref(arr);
}

/* Many events through the buffered writer: all arrive, in order, after
 * close; a flush in the middle leaves a readable prefix. */
static void test_many_and_flush(void **state)
{
    (void)state;
    enum { N = 5000 };
    static sw_event evs[N];
    for (int i = 0; i < N; i++) {
        sw_event_init(&evs[i], SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "scan");
        evs[i].frame = (uint64_t)i + 1;
        evs[i].ts_ns = (int64_t)i * 1000000;
    }
    json_t *arr = roundtrip(evs, N);
    assert_int_equal(json_array_size(arr), N);
    for (int i = 0; i < N; i += 777)
        assert_jint(json_array_get(arr, (size_t)i), "frame", i + 1);
    json_decref(arr);

    char path[] = "/tmp/sw_test_jsonl_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sw_event_sink *s = sw_jsonl_sink_open(path, NULL, 0);
    assert_non_null(s);
    assert_int_equal(sw_event_emit(s, &evs[0]), SW_OK);
    assert_int_equal(sw_event_sink_flush(s), SW_OK);
    FILE *fp = fopen(path, "r");
    char line[4096];
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    json_t *o = json_loads(line, 0, NULL);
    assert_non_null(o);
    assert_jint(o, "frame", 1);
    json_decref(o);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    unlink(path);
}

/* Serialised records (the pipeline's path) give the same lines as emit,
 * and the record's indexed names are copied out bounded. */
static void test_records(void **state)
{
    (void)state;
    sw_event ev;
    sw_event_init(&ev, SW_EVT_IRSF_CALL, SW_CAT_BEHAVIOURAL, "irsf.range");
    ev.ts_ns = INT64_C(1795478621224969000);
    ev.src = addr("[2001:db8::7]:5060");
    ev.peer = S("carrier-\xff-b");
    ev.reason = S("premium range");
    sw_event_rec r;
    assert_int_equal(sw_event_rec_fill(&r, &ev), SW_OK);
    assert_int_equal(r.ts_ns, ev.ts_ns);
    assert_int_equal(r.type, SW_EVT_IRSF_CALL);
    assert_string_equal(r.src, "2001:db8::7");
    assert_string_equal(r.peer, "carrier-\xef\xbf\xbd-b"); /* sanitised */
    assert_string_equal(r.rule, "irsf.range");
    size_t n;
    char *js = sw_event_json(&ev, &n);
    assert_non_null(js);
    assert_int_equal(r.json_len, n);
    assert_memory_equal(r.json, js, n);
    free(js);
    /* a name longer than the record keeps is cut at a character boundary */
    static const char longname[] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    sw_event_rec r2;
    ev.peer = S(longname); /* 40 two-byte characters */
    assert_int_equal(sw_event_rec_fill(&r2, &ev), SW_OK);
    assert_int_equal(strlen(r2.peer), 62); /* 31 whole characters of the 63 bytes */
    sw_event_rec_clear(&r2);

    char path[] = "/tmp/sw_test_jsonl_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sw_event_sink *s = sw_jsonl_sink_open(path, NULL, 0);
    assert_non_null(s);
    assert_non_null(s->ops->write_recs);
    assert_int_equal(s->ops->write_recs(s, &r, 1), SW_OK);
    assert_int_equal(sw_event_emit(s, &ev), SW_OK);
    assert_int_equal(s->emitted, 2);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    FILE *fp = fopen(path, "r");
    char line[4096];
    assert_non_null(fgets(line, sizeof line, fp));
    assert_int_equal(strlen(line), r.json_len + 1);
    assert_memory_equal(line, r.json, r.json_len);
    fclose(fp);
    unlink(path);
    sw_event_rec_clear(&r);
    assert_null(r.json);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_sink *s = sw_jsonl_sink_open("/nonexistent-dir/x/events.jsonl", err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "/nonexistent-dir/x/events.jsonl"));
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(sw_event_sink_close(NULL), SW_OK);
}

/* A full disk surfaces as SW_EIO at flush/close, not silently. */
static void test_write_error(void **state)
{
    (void)state;
    FILE *fp = fopen("/dev/full", "w");
    if (!fp)
        skip();
    sw_event_sink *s = sw_jsonl_sink_new(fp, 1);
    assert_non_null(s);
    sw_event ev;
    sw_event_init(&ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "scan");
    (void)sw_event_emit(s, &ev); /* buffered: may not fail yet */
    assert_int_equal(sw_event_sink_close(s), SW_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocabulary),    cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_sanitize),      cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_minimal_response), cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_truncation),    cmocka_unit_test(test_evidence_bound),
        cmocka_unit_test(test_many_and_flush), cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
