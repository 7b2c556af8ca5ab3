/* The HTML report (counts, escaping of hostile bytes, SVG, valid UTF-8,
 * file mode, bounded memory with many events, the timeline's widening) and
 * the tee sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/report_int.h"
#include "sipwall/report.h"

#define NS 1000000000ll
#define T0 (1795476733ll * NS) /* 2026-11-23T23:32:13Z */

/* ---- helpers ----------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Strict UTF-8 (RFC 3629). */
static int valid_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return 0;
        }
        if (i + need >= n)
            return 0;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= need; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return 0;
        i += need + 1;
    }
    return 1;
}

static void assert_contains(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("missing \"%s\"", want);
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static char *tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "/tmp/sw_test_report_%ld_%s", (long)getpid(), name);
    return buf;
}

static sw_event mkev(sw_event_type t, sw_action a, const char *rule, const char *src,
                     int64_t ts)
{
    sw_event ev;
    sw_event_init(&ev, t, SW_CAT_BEHAVIOURAL, rule);
    ev.action = a;
    ev.ts_ns = ts;
    if (src)
        assert_int_equal(sw_addr_parse(src, &ev.src), SW_OK);
    assert_int_equal(sw_addr_parse("10.0.0.10:5160", &ev.dst), SW_OK);
    ev.transport = SW_TRANSPORT_UDP;
    return ev;
}

static char *write_report(const sw_report *r, const sw_report_meta *m, const char *name,
                          size_t *len)
{
    char path[256];
    tmp_path(path, sizeof path, name);
    char err[256] = "";
    int rc = sw_report_write_html(r, m, path, err, sizeof err);
    if (rc != SW_OK)
        fail_msg("write_html: %s", err);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    char *text = read_all(path, len);
    unlink(path);
    assert_true(valid_utf8((const unsigned char *)text, *len));
    assert_null(memchr(text, '\0', *len));
    /* self-contained: no script, no external resource */
    assert_null(strstr(text, "<script"));
    assert_null(strstr(text, "<SCRIPT"));
    assert_null(strstr(text, "src=\"http"));
    assert_null(strstr(text, "href=\"http"));
    return text;
}

/* ---- the HTML report ---------------------------------------------------------------- */

/* A passive run enforced nothing: each event says it would have, and the
 * offenders' column says "would be enforced". */
static void test_html_passive(void **state)
{
    (void)state;
    sw_report *r = sw_report_new(10);
    assert_non_null(r);
    sw_event_sink *s = sw_report_sink(r);
    sw_event ev = mkev(SW_EVT_SIP_SCAN, SW_ACTION_DROP, "scan.sweep", "192.0.2.66:5061", T0);
    ev.passive = 1;
    assert_int_equal(sw_event_emit(s, &ev), SW_OK);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    sw_report_meta m;
    memset(&m, 0, sizeof m);
    m.title = "passive.pcap";
    m.messages = 1;
    size_t len;
    char *html = write_report(r, &m, "passive.html", &len);
    assert_contains(html, "drop <span class=\"mon\">(passive: would)</span>");
    assert_contains(html, "<th>would be enforced</th>");
    free(html);
    sw_report_free(r);
}

static void test_html_basic(void **state)
{
    (void)state;
    sw_report *r = sw_report_new(100);
    assert_non_null(r);
    sw_event_sink *s = sw_report_sink(r);
    assert_non_null(s);

    for (int i = 0; i < 300; i++)
        sw_report_message(r, T0 + (int64_t)i * NS, i % 3 == 0 ? SW_ACTION_REJECT : SW_ACTION_ALLOW);

    static const char hostile[] = "bad header <script>alert('x')</script> \"q\" & \xff\xfe"
                                  "\xc0\xaf \x00 nul \r\n crlf \xe2\x82";
    sw_event ev = mkev(SW_EVT_SIP_MALFORMED, SW_ACTION_REJECT, "sip.malformed",
                       "192.0.2.66:5060", T0 + 5 * NS);
    ev.action_status = 400;
    ev.reason = sw_str_make(hostile, sizeof hostile - 1);
    ev.method = SW_STR_LIT("INV<ITE");
    ev.call_id = SW_STR_LIT("abc\"><img src=x>@h");
    ev.from = SW_STR_LIT("+447700900150");
    ev.pai = SW_STR_LIT("<b>+33</b>");
    ev.frame = 42;
    assert_int_equal(sw_event_add_num(&ev, "offset", 17), SW_OK);
    assert_int_equal(sw_event_add_str(&ev, "header", SW_STR_LIT("X-<evil>: \xff")), SW_OK);
    assert_int_equal(sw_event_emit(s, &ev), SW_OK);

    ev = mkev(SW_EVT_SIP_SCAN, SW_ACTION_DROP, "scan.options", "192.0.2.66:5061", T0 + 100 * NS);
    ev.monitor = 1;
    ev.expires_ns = T0 + 700 * NS;
    assert_int_equal(sw_event_emit(s, &ev), SW_OK);
    ev = mkev(SW_EVT_SIP_SCAN, SW_ACTION_DROP, "scan.options", "[2001:db8::9]:5060", T0 + 101 * NS);
    ev.status = 404;
    assert_int_equal(sw_event_emit(s, &ev), SW_OK);
    /* a long reason: cut at SW_EVENT_FIELD_MAX */
    char longr[1000];
    memset(longr, 'A', sizeof longr);
    ev = mkev(SW_EVT_IRSF_CALL, SW_ACTION_TAG, "irsf.prefix", "198.51.100.7:5070", T0 + 200 * NS);
    ev.reason = sw_str_make(longr, sizeof longr);
    assert_int_equal(sw_event_emit(s, &ev), SW_OK);
    assert_int_equal(sw_event_sink_close(s), SW_OK);

    sw_report_meta m;
    memset(&m, 0, sizeof m);
    m.title = "cap<1>.pcap";
    m.policy = "default \"v1\"";
    m.messages = 300;
    m.verdicts[SW_ACTION_ALLOW] = 200;
    m.verdicts[SW_ACTION_REJECT] = 100;
    m.elapsed_s = 1.25;
    size_t len;
    char *html = write_report(r, &m, "basic.html", &len);

    assert_contains(html, "<!DOCTYPE html>");
    assert_contains(html, "cap&lt;1&gt;.pcap");
    assert_contains(html, "default &quot;v1&quot;");
    assert_contains(html, "<dt>messages</dt><dd>300</dd>");
    assert_contains(html, "<dt>events</dt><dd>4</dd>");
    assert_contains(html, "<b>200</b>allow (66.7%)");
    assert_contains(html, "<b>100</b>reject (33.3%)");
    assert_contains(html, "<svg");
    assert_contains(html, "</svg>");
    assert_contains(html, "<tr><td>sip_scan</td><td class=\"n\">2</td><td class=\"n\">1</td></tr>");
    assert_contains(html, "<td class=\"mono\">scan.options</td><td>sip_scan</td><td>behavioural"
                          "</td><td class=\"n\">2</td>");
    /* escaping of the hostile reason: markup escaped, bad bytes U+FFFD, controls visible */
    assert_contains(html, "bad header &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
                          "&quot;q&quot; &amp; \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                          " \\x00 nul \\x0d\\x0a crlf \xef\xbf\xbd\xef\xbf\xbd");
    assert_contains(html, "INV&lt;ITE");
    assert_contains(html, "abc&quot;&gt;&lt;img src=x&gt;@h");
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>+33"));
    assert_contains(html, "<code>header</code>=X-&lt;evil&gt;: \xef\xbf\xbd");
    assert_contains(html, "<code>offset</code>=17");
    assert_contains(html, "reject 400");
    assert_contains(html, "<span class=\"mon\">(monitor)</span>");
    assert_contains(html, "192.0.2.66:5060 \xe2\x86\x92 10.0.0.10:5160 udp");
    assert_contains(html, "[2001:db8::9]:5060");
    assert_contains(html, "title=\"cut from 1000 bytes\"");
    assert_contains(html, "all 4 events listed.");
    /* top offenders: by IP, ports merged */
    assert_contains(html, "<td class=\"mono\">192.0.2.66</td><td class=\"n\">2</td>");
    assert_contains(html, "3 distinct sources");
    /* the timeline: 300 one-second buckets drawn as 100 bars of 3 s */
    assert_contains(html, "one bar = 3 s");
    assert_contains(html, "allowed messages (200)");
    assert_contains(html, "not allowed (100)");
    assert_contains(html, "events (4)");
    assert_int_equal(count_of(html, "<g><title>"), 100);
    assert_int_equal(count_of(html, "<circle"), 3); /* 100 s and 101 s share a bar */
    free(html);
    sw_report_free(r);
}

static void test_html_empty_and_errors(void **state)
{
    (void)state;
    sw_report *r = sw_report_new(0);
    assert_non_null(r);
    sw_report_meta m;
    memset(&m, 0, sizeof m);
    size_t len;
    char *html = write_report(r, &m, "empty.html", &len);
    assert_contains(html, "no timed messages");
    assert_contains(html, "<dt>events</dt><dd>0</dd>");
    free(html);

    char err[256] = "";
    assert_int_equal(sw_report_write_html(r, &m, "/nonexistent-dir/x/report.html", err, sizeof err),
                     SW_EIO);
    assert_non_null(strstr(err, "/nonexistent-dir/x/report.html"));
    assert_int_equal(sw_report_write_html(r, &m, "/nonexistent-dir/y.html", NULL, 0), SW_EIO);
    sw_report_free(r);
    sw_report_free(NULL);
}

/* 100k events from 100k sources: max_events kept, offenders bounded, the
 * output small. */
static void test_html_bounded(void **state)
{
    (void)state;
    const size_t max = 50;
    sw_report *r = sw_report_new(max);
    assert_non_null(r);
    sw_event_sink *s = sw_report_sink(r);
    assert_non_null(s);
    char reason[300];
    memset(reason, 'r', sizeof reason);
    for (uint32_t i = 0; i < 100000; i++) {
        sw_event ev = mkev(i % 2 ? SW_EVT_SIP_FLOOD : SW_EVT_SIP_SCAN, SW_ACTION_DROP,
                           i % 2 ? "flood.rate" : "scan.rate", NULL, T0 + (int64_t)i * (NS / 100));
        ev.src.family = 4;
        ev.src.port = 5060;
        ev.src.ip[0] = 10;
        ev.src.ip[1] = (uint8_t)(i >> 16);
        ev.src.ip[2] = (uint8_t)(i >> 8);
        ev.src.ip[3] = (uint8_t)i;
        ev.reason = sw_str_make(reason, sizeof reason);
        assert_int_equal(sw_event_emit(s, &ev), SW_OK);
        sw_report_message(r, ev.ts_ns, SW_ACTION_DROP);
    }
    assert_int_equal(s->emitted, 100000);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    assert_int_equal(r->events, 100000);
    assert_int_equal(r->nev, max);
    assert_true(r->capev <= max);
    assert_int_equal(r->noff, RP_MAX_OFFENDERS);
    assert_int_equal(r->off_other, 100000 - RP_MAX_OFFENDERS);
    assert_int_equal(r->nrules, 2);
    assert_int_equal(r->by_type[SW_EVT_SIP_SCAN], 50000);

    sw_report_meta m;
    memset(&m, 0, sizeof m);
    m.title = "bounded";
    size_t len;
    char *html = write_report(r, &m, "bounded.html", &len);
    assert_true(len < 1024 * 1024);
    assert_contains(html, "99950 more events were counted in the aggregates above but not listed");
    assert_contains(html, "90000 events from further sources");
    assert_contains(html, "<b>100000</b>drop (100.0%)"); /* from the messages: meta is empty */
    assert_int_equal(count_of(html, "<tr><td class=\"n\">"), max + 25);
    free(html);
    sw_report_free(r);
}

/* A ten-hour capture (and a message out of order) widens the buckets
 * instead of growing; nothing is lost. */
static void test_timeline_widen(void **state)
{
    (void)state;
    sw_report *r = sw_report_new(10);
    assert_non_null(r);
    uint64_t n = 0;
    for (int64_t t = 0; t < 10 * 3600; t += 7) {
        sw_report_message(r, T0 + t * NS, t % 2 ? SW_ACTION_ALLOW : SW_ACTION_REJECT);
        n++;
    }
    sw_report_message(r, T0 - 3600 * NS, SW_ACTION_ALLOW); /* an hour early */
    n++;
    const rp_timeline *t = &r->tl;
    assert_true(t->hi < RP_TL_BUCKETS);
    assert_true(t->lo <= t->hi);
    assert_true(t->width >= 8 * NS);
    uint64_t sum = 0;
    for (size_t i = 0; i < RP_TL_BUCKETS; i++)
        sum += t->allow[i] + t->other[i];
    assert_int_equal(sum, n);
    assert_true(t->base <= T0 - 3600 * NS);
    assert_true(t->base + (int64_t)(t->hi + 1) * t->width > T0 + 35999 * NS);
    /* absurd timestamps stay in range */
    sw_report_message(r, INT64_MAX, SW_ACTION_ALLOW);
    sw_report_message(r, INT64_MIN + 1, SW_ACTION_ALLOW);
    assert_true(t->hi < RP_TL_BUCKETS);
    sw_report_meta m;
    memset(&m, 0, sizeof m);
    size_t len;
    char *html = write_report(r, &m, "widen.html", &len);
    assert_contains(html, "<svg");
    free(html);
    sw_report_free(r);
}

/* ---- tee ------------------------------------------------------------------------------ */

typedef struct count_sink {
    sw_event_sink base;
    int fail;
    int flushed;
    int closed;
    uint64_t seen;
} count_sink;

static int cs_emit(sw_event_sink *s, const sw_event *ev)
{
    (void)ev;
    count_sink *c = (count_sink *)s;
    c->seen++;
    return c->fail ? SW_EIO : SW_OK;
}
static int cs_flush(sw_event_sink *s)
{
    count_sink *c = (count_sink *)s;
    c->flushed++;
    return c->fail ? SW_EIO : SW_OK;
}
static int cs_close(sw_event_sink *s)
{
    ((count_sink *)s)->closed++;
    return SW_OK;
}
static const sw_event_sink_ops cs_ops = {
    .name = "count", .emit = cs_emit, .flush = cs_flush, .close = cs_close};

static void test_tee(void **state)
{
    (void)state;
    count_sink a = {{&cs_ops, 0, 0}, 0, 0, 0, 0}, b = {{&cs_ops, 0, 0}, 1, 0, 0, 0},
               c = {{&cs_ops, 0, 0}, 0, 0, 0, 0};
    sw_event_sink *list[3] = {&a.base, &b.base, &c.base};
    sw_event_sink *t = sw_tee_sink_new(list, 3);
    assert_non_null(t);
    sw_event ev = mkev(SW_EVT_SIP_SCAN, SW_ACTION_TAG, "x", "192.0.2.1:1", T0);
    /* the failing sink in the middle: the error comes back, every sink saw it */
    assert_int_equal(sw_event_emit(t, &ev), SW_EIO);
    assert_int_equal(sw_event_emit(t, &ev), SW_EIO);
    assert_int_equal(a.seen, 2);
    assert_int_equal(b.seen, 2);
    assert_int_equal(c.seen, 2);
    assert_int_equal(a.base.emitted, 2);
    assert_int_equal(b.base.failed, 2);
    assert_int_equal(t->failed, 2);
    assert_int_equal(sw_event_sink_flush(t), SW_EIO);
    assert_int_equal(a.flushed + b.flushed + c.flushed, 3);
    /* closing the tee leaves the borrowed sinks alone */
    assert_int_equal(sw_event_sink_close(t), SW_OK);
    assert_int_equal(a.closed + b.closed + c.closed, 0);

    /* all good: SW_OK */
    b.fail = 0;
    t = sw_tee_sink_new(list, 3);
    assert_non_null(t);
    assert_int_equal(sw_event_emit(t, &ev), SW_OK);
    assert_int_equal(c.seen, 3);
    assert_int_equal(sw_event_sink_close(t), SW_OK);

    /* a tee into the real report and labels sinks */
    sw_report *r = sw_report_new(5);
    assert_non_null(r);
    sw_event_sink *rs = sw_report_sink(r);
    assert_non_null(rs);
    sw_event_sink *l2[2] = {rs, &a.base};
    t = sw_tee_sink_new(l2, 2);
    assert_non_null(t);
    for (int i = 0; i < 7; i++)
        assert_int_equal(sw_event_emit(t, &ev), SW_OK);
    assert_int_equal(sw_event_sink_close(t), SW_OK);
    assert_int_equal(sw_event_sink_close(rs), SW_OK);
    assert_int_equal(r->events, 7);
    assert_int_equal(r->nev, 5);
    sw_report_free(r);

    /* edge cases */
    t = sw_tee_sink_new(NULL, 0);
    assert_non_null(t);
    assert_int_equal(sw_event_emit(t, &ev), SW_OK);
    assert_int_equal(sw_event_sink_flush(t), SW_OK);
    assert_int_equal(sw_event_sink_close(t), SW_OK);
    assert_null(sw_tee_sink_new(NULL, 2));
    sw_event_sink *withnull[2] = {&a.base, NULL};
    assert_null(sw_tee_sink_new(withnull, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_basic),
        cmocka_unit_test(test_html_passive),
        cmocka_unit_test(test_html_empty_and_errors),
        cmocka_unit_test(test_html_bounded),
        cmocka_unit_test(test_timeline_widen),
        cmocka_unit_test(test_tee),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
