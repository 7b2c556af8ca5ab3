/* Ground-truth comparison: loading LABELS.tsv (columns by name, CRLF,
 * missing columns, long lists, bad rows), attribution by frames.tsv and by
 * source / frame range / numbers, the detected / missed / false-positive /
 * unattributed accounting, and every shared corpus labels file. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/report.h"

#define DATA SW_TEST_DATA "/report/"

/* ---- helpers --------------------------------------------------------------- */

static sw_labels *load_ok(const char *path)
{
    sw_labels *l = NULL;
    char err[512] = "";
    int r = sw_labels_load(path, &l, err, sizeof err);
    if (r != SW_OK)
        fail_msg("%s: %s (%s)", path, sw_errname(r), err);
    assert_non_null(l);
    return l;
}

/* The report text (caller frees) and its summary. */
static char *report_text(const sw_labels *l, sw_labels_summary *sum)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    sw_labels_report(l, fp, sum);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

static void assert_contains(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("missing \"%s\" in:\n%s", want, text);
}

static void assert_lacks(const char *text, const char *bad)
{
    if (strstr(text, bad))
        fail_msg("unexpected \"%s\" in:\n%s", bad, text);
}

static sw_addr addr(const char *s)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(s, &a), SW_OK);
    return a;
}

static sw_event mkev(sw_event_type t, const char *rule, const char *src, const char *dst,
                     uint64_t frame)
{
    sw_event ev;
    sw_event_init(&ev, t, SW_CAT_BEHAVIOURAL, rule);
    if (src)
        ev.src = addr(src);
    if (dst)
        ev.dst = addr(dst);
    ev.frame = frame;
    return ev;
}

static sw_str S(const char *s)
{
    return sw_str_make(s, strlen(s));
}

static void emit(sw_event_sink *s, const sw_event *ev)
{
    assert_int_equal(sw_event_emit(s, ev), SW_OK);
}

/* ---- kind mapping ------------------------------------------------------------- */

static void test_kind_event(void **state)
{
    (void)state;
    assert_int_equal(sw_label_kind_event("scan"), SW_EVT_SIP_SCAN);
    assert_int_equal(sw_label_kind_event("enum"), SW_EVT_SIP_SCAN);
    assert_int_equal(sw_label_kind_event("crack"), SW_EVT_SIP_BRUTEFORCE);
    assert_int_equal(sw_label_kind_event("flood"), SW_EVT_SIP_FLOOD);
    assert_int_equal(sw_label_kind_event("irsf"), SW_EVT_IRSF_CALL);
    assert_int_equal(sw_label_kind_event("wangiri"), SW_EVT_WANGIRI_CLI);
    assert_int_equal(sw_label_kind_event("cli-spoof"), SW_EVT_CLI_SPOOFING);
    assert_int_equal(sw_label_kind_event("malformed"), SW_EVT_SIP_MALFORMED);
    assert_int_equal(sw_label_kind_event("legit"), -1);
    assert_int_equal(sw_label_kind_event("reg-hijack"), -1);
    assert_int_equal(sw_label_kind_event(""), -1);
    assert_int_equal(sw_label_kind_event(NULL), -1);
}

/* ---- loading errors ------------------------------------------------------------- */

static void expect_load_error(const char *file, const char *errpart)
{
    sw_labels *l = (sw_labels *)0x1;
    char err[512] = "";
    int r = sw_labels_load(file, &l, err, sizeof err);
    assert_true(r < 0);
    assert_null(l);
    if (!strstr(err, errpart))
        fail_msg("%s: error \"%s\" lacks \"%s\"", file, err, errpart);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error(DATA "bad_src.labels.tsv", "bad_src.labels.tsv:3: bad src '10.0.0.300:5060'");
    expect_load_error(DATA "bad_range.labels.tsv", "bad_range.labels.tsv:4: bad frame range");
    expect_load_error(DATA "no_kind.labels.tsv", ":1: header lacks the column kind");
    expect_load_error(DATA "dup.labels.tsv", "dup.labels.tsv:3: label 'x' appears twice");
    expect_load_error(DATA "badref.labels.tsv", "badref.frames.tsv:3: label 'nope'");
    expect_load_error(DATA "does-not-exist.labels.tsv", "does-not-exist.labels.tsv: ");
    /* err may be NULL */
    sw_labels *l = NULL;
    assert_true(sw_labels_load(DATA "dup.labels.tsv", &l, NULL, 0) < 0);
    assert_null(l);
}

/* ---- attribution by source, frame range and numbers --------------------------- */

static void test_attribution_heuristic(void **state)
{
    (void)state;
    sw_labels *l = load_ok(DATA "attrib.labels.tsv");
    sw_event_sink *s = sw_labels_sink(l);
    assert_non_null(s);

    /* scan-a: any port of 10.0.0.5 within frames 10..50 */
    sw_event ev = mkev(SW_EVT_SIP_SCAN, "scan.options", "10.0.0.5:5099", "10.0.0.10:5160", 30);
    emit(s, &ev);
    ev = mkev(SW_EVT_SIP_SCAN, "scan.ua", "10.0.0.5:6000", "10.0.0.10:5161", 12);
    emit(s, &ev);
    /* outside the range: unattributed */
    ev = mkev(SW_EVT_SIP_SCAN, "scan.options", "10.0.0.5:5099", "10.0.0.10:5160", 60);
    emit(s, &ev);
    /* another type from the scanner: an other finding, not an error */
    ev = mkev(SW_EVT_SIP_MALFORMED, "sip.malformed", "10.0.0.5:5099", "10.0.0.10:5160", 20);
    emit(s, &ev);

    /* shared source 10.0.0.51:5170: the numbers decide.  The called number
     * +447700900680 is in both lists; the PAI only in spoof-f's. */
    ev = mkev(SW_EVT_CLI_SPOOFING, "cli.range", "10.0.0.51:5170", "10.0.0.10:5160", 20);
    ev.pai = S("+447700900273");
    ev.from = S("+46701740600");
    ev.ruri = S("+447700900680");
    emit(s, &ev);
    /* the same partner's own call flagged: a false positive on f-legit
     * (the From number in its calling list, sip: URI form of the R-URI) */
    ev = mkev(SW_EVT_POLICY_VIOLATION, "pol.hdr", "10.0.0.51:5170", "10.0.0.10:5160", 30);
    ev.from = S("+46701740678");
    ev.ruri = S("+44 7700 900538");
    ev.reason = S("odd header <script>alert(1)</script>\n\x01 end");
    emit(s, &ev);

    /* a response sent to the attacker: the episode's source is the dst (IPv6) */
    ev = mkev(SW_EVT_SIP_BRUTEFORCE, "auth.guess", "[2001:db8::1]:5060", "[2001:db8::7]:5060",
              410);
    emit(s, &ev);
    /* kinds outside the table compare by name: reg-hijack expects reg_hijack */
    ev = mkev(SW_EVT_REG_HIJACK, "reg.hijack", "10.0.0.66:5170", "10.0.0.10:5160", 850);
    emit(s, &ev);
    /* a false positive on alpha */
    ev = mkev(SW_EVT_SIP_FLOOD, "flood.rate", "10.0.0.21:5170", "10.0.0.10:5160", 500);
    emit(s, &ev);
    /* nobody's */
    ev = mkev(SW_EVT_SIP_SCAN, "x", "192.0.2.1:5060", "10.0.0.10:5160", 5);
    emit(s, &ev);
    emit(s, &ev);
    assert_int_equal(sw_event_sink_close(s), SW_OK);

    sw_labels_summary sum;
    char *text = report_text(l, &sum);
    assert_int_equal(sum.attacks, 5);
    assert_int_equal(sum.detected, 4);
    assert_int_equal(sum.missed, 1);
    assert_int_equal(sum.false_positives, 2);
    assert_int_equal(sum.unattributed, 3);

    assert_contains(text, "attribution by source/frame range/numbers, 11 events");
    assert_contains(text, "\nscan                1        1        0        3        -\n");
    assert_contains(text, "\nlegit               2        -        -        2        2\n");
    assert_contains(text, "\nirsf                1        0        1        0        -\n");
    assert_contains(text, "episode scan-a kind=scan expect=sip_scan events=3 matched=2 "
                          "first_frame=12 rule=scan.ua DETECTED\n");
    assert_contains(text, "other scan-a rule=sip.malformed type=sip_malformed events=1 "
                          "first_frame=20\n");
    assert_contains(text, "episode spoof-f kind=cli-spoof expect=cli_spoofing events=1 matched=1 "
                          "first_frame=20 rule=cli.range DETECTED\n");
    assert_contains(text, "episode v6-crack kind=crack expect=sip_bruteforce events=1 matched=1 "
                          "first_frame=410 rule=auth.guess DETECTED\n");
    assert_contains(text, "episode missed-irsf kind=irsf expect=irsf_call events=0 matched=0 "
                          "MISSED\n");
    assert_contains(text, "episode hijack kind=reg-hijack expect=reg_hijack events=1 matched=1 "
                          "first_frame=850 rule=reg.hijack DETECTED\n");
    assert_contains(text, "episode f-legit kind=legit events=1 FALSE-POSITIVES\n");
    assert_contains(text, "fp f-legit frame=30 rule=pol.hdr type=policy_violation "
                          "reason=\"odd header <script>alert(1)</script>\\x0a\\x01 end\"\n");
    assert_contains(text, "fp alpha frame=500 rule=flood.rate type=sip_flood");
    assert_lacks(text, "fp spoof-f");
    assert_lacks(text, "episode scan-a kind=scan expect=sip_scan events=4");
    assert_contains(text, "unattributed src=192.0.2.1:5060 rule=x events=2\n");
    assert_contains(text, "unattributed src=10.0.0.5:5099 rule=scan.options events=1\n");
    assert_contains(text, "summary attacks=5 detected=4 missed=1 false_positives=2 "
                          "unattributed=3\n");
    /* one record per line: no raw control bytes from the reason */
    for (const char *p = text; *p; p++)
        assert_true(*p == '\n' || (unsigned char)*p >= 0x20);
    free(text);
    sw_labels_free(l);
}

/* ---- attribution by frames.tsv --------------------------------------------------- */

static void test_attribution_frames(void **state)
{
    (void)state;
    sw_labels *l = load_ok(DATA "frames.labels.tsv");
    sw_event_sink *s = sw_labels_sink(l);
    assert_non_null(s);
    /* frame 4 is spoof's even though its numbers are legit-f's */
    sw_event ev = mkev(SW_EVT_CLI_SPOOFING, "cli.range", "10.0.0.51:5170", NULL, 4);
    ev.pai = S("+46701740678");
    emit(s, &ev);
    /* frame 5 is legit-f's even though its numbers are spoof's */
    ev = mkev(SW_EVT_CLI_SPOOFING, "cli.range", "10.0.0.51:5170", NULL, 5);
    ev.pai = S("+447700900273");
    emit(s, &ev);
    /* frame 6 is unlabelled, frame 99 beyond the file: unattributed */
    ev = mkev(SW_EVT_SIP_MALFORMED, "sip.malformed", "10.0.0.51:5170", NULL, 6);
    emit(s, &ev);
    ev.frame = 99;
    emit(s, &ev);
    /* the address is irrelevant with frames */
    ev = mkev(SW_EVT_SIP_SCAN, "scan.x", "198.51.100.1:1", NULL, 11);
    emit(s, &ev);
    assert_int_equal(sw_event_sink_close(s), SW_OK);

    sw_labels_summary sum;
    char *text = report_text(l, &sum);
    assert_int_equal(sum.attacks, 2);
    assert_int_equal(sum.detected, 1);
    assert_int_equal(sum.missed, 1);
    assert_int_equal(sum.false_positives, 1);
    assert_int_equal(sum.unattributed, 2);
    assert_contains(text, "3 episodes, attribution by frames.tsv, 5 events");
    assert_contains(text, "episode spoof kind=cli-spoof expect=cli_spoofing events=1 matched=1 "
                          "first_frame=4 rule=cli.range DETECTED\n");
    assert_contains(text, "episode flood kind=flood expect=sip_flood events=1 matched=0 MISSED\n");
    assert_contains(text, "other flood rule=scan.x type=sip_scan events=1 first_frame=11\n");
    assert_contains(text, "fp legit-f frame=5 rule=cli.range type=cli_spoofing");
    assert_contains(text, "unattributed src=10.0.0.51:5170 rule=sip.malformed events=2\n");
    free(text);
    sw_labels_free(l);

    /* live events (frame 0) fall back to source and time range */
    l = load_ok(DATA "frames.labels.tsv");
    s = sw_labels_sink(l);
    assert_non_null(s);
    ev = mkev(SW_EVT_SIP_FLOOD, "flood.rate", "10.0.0.77:5000", NULL, 0);
    ev.ts_ns = 1795476742500000000ll; /* 2026-11-23T23:32:22.5Z */
    emit(s, &ev);
    ev.ts_ns += 600ll * 1000000000; /* ten minutes later: nobody's */
    emit(s, &ev);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    text = report_text(l, &sum);
    assert_int_equal(sum.detected, 1);
    assert_int_equal(sum.unattributed, 1);
    assert_contains(text, "episode flood kind=flood expect=sip_flood events=1 matched=1 "
                          "first_frame=0 rule=flood.rate DETECTED\n");
    free(text);
    sw_labels_free(l);
}

/* ---- long lists, partial lists, many ports ------------------------------------------ */

static void test_long_lists(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw_test_labels_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/long.labels.tsv", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "label\tkind\tsrc\tfirst_frame\tlast_frame\tcalling\tcalled\tnote\n");
    /* 8000 called numbers: a 112 KB field, then the partial marker */
    fprintf(fp, "flood-a\tflood\t10.0.0.77:5170,10.0.0.77:5171\t1\t100000\t+882377907421\t");
    for (int i = 0; i < 8000; i++)
        fprintf(fp, "%s+4477009%05d", i ? "," : "", i * 7);
    fprintf(fp, ",...(9000 distinct)\tnote\n");
    fprintf(fp, "flood-b\tflood\t10.0.0.77:*(40 ports)\t1\t100000\t+882377900000\t+4477001,...(3 "
                "distinct)\t\n");
    fprintf(fp, "legit-c\tlegit\t[2001:db8::5]:*(2 ports),10.0.0.9\t\t\t\t\t\n");
    fclose(fp);

    sw_labels *l = load_ok(path);
    sw_event_sink *s = sw_labels_sink(l);
    assert_non_null(s);
    /* 10.0.0.77:5171 matches both flood-a (listed port) and flood-b (any
     * port): the called number from the long list picks flood-a */
    sw_event ev = mkev(SW_EVT_SIP_FLOOD, "flood.a", "10.0.0.77:5171", NULL, 50);
    ev.ruri = S("+447700955951"); /* 7985 * 7 */
    emit(s, &ev);
    /* port 6000 only matches flood-b */
    ev = mkev(SW_EVT_SIP_FLOOD, "flood.b", "10.0.0.77:6000", NULL, 60);
    emit(s, &ev);
    /* IPv6 any port, and a bare IP (any port), no frame range */
    ev = mkev(SW_EVT_SIP_SCAN, "fp.v6", "[2001:db8::5]:7000", NULL, 1);
    emit(s, &ev);
    ev = mkev(SW_EVT_SIP_SCAN, "fp.v4", "10.0.0.9:1234", NULL, 123456789);
    emit(s, &ev);
    assert_int_equal(sw_event_sink_close(s), SW_OK);

    sw_labels_summary sum;
    char *text = report_text(l, &sum);
    assert_int_equal(sum.attacks, 2);
    assert_int_equal(sum.detected, 2);
    assert_int_equal(sum.false_positives, 2);
    assert_int_equal(sum.unattributed, 0);
    assert_contains(text, "episode flood-a kind=flood expect=sip_flood events=1 matched=1 "
                          "first_frame=50 rule=flood.a DETECTED\n");
    assert_contains(text, "episode flood-b kind=flood expect=sip_flood events=1 matched=1 "
                          "first_frame=60 rule=flood.b DETECTED\n");
    free(text);
    sw_labels_free(l);
    unlink(path);
    rmdir(dir);
}

/* ---- bounds: many unattributed sources, many false positives ------------------------ */

static void test_bounded(void **state)
{
    (void)state;
    sw_labels *l = load_ok(DATA "attrib.labels.tsv");
    sw_event_sink *s = sw_labels_sink(l);
    assert_non_null(s);
    /* events without any address first */
    sw_event ev = mkev(SW_EVT_SIP_MALFORMED, "sip.malformed", NULL, NULL, 0);
    emit(s, &ev);
    emit(s, &ev);
    for (uint32_t i = 0; i < 20000; i++) {
        ev = mkev(SW_EVT_SIP_FLOOD, "flood.rate", NULL, NULL, 5);
        ev.src.family = 4;
        ev.src.port = 5060;
        ev.src.ip[0] = 198;
        ev.src.ip[1] = 18;
        ev.src.ip[2] = (uint8_t)(i >> 8);
        ev.src.ip[3] = (uint8_t)i;
        emit(s, &ev);
        if (i < 15000) {
            ev = mkev(SW_EVT_SIP_FLOOD, "flood.rate", "10.0.0.21:5170", NULL, 1 + i % 1000);
            emit(s, &ev);
        }
    }
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    sw_labels_summary sum;
    char *text = report_text(l, &sum);
    assert_int_equal(sum.unattributed, 20002);
    assert_int_equal(sum.false_positives, 15000);
    assert_contains(text, "fp (5000 more not listed)\n");
    assert_contains(text, "unattributed src=- rule=sip.malformed events=2\n");
    assert_contains(text, "unattributed src=(other) events=15905\n");
    assert_contains(text, "unattributed src=198.18.0.0:5060 rule=flood.rate events=1\n");
    free(text);
    sw_labels_free(l);

    /* a list with something after the ellipsis is refused */
    char path[] = "/tmp/sw_test_labels_bad_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    assert_non_null(fp);
    fprintf(fp, "label\tkind\tsrc\tcalled\nx\tflood\t10.0.0.1:5060\t+1,...(5 distinct),+2\n");
    fclose(fp);
    char err[256] = "";
    assert_int_equal(sw_labels_load(path, &l, err, sizeof err), SW_EINVAL);
    assert_non_null(strstr(err, ":2: bad called list"));
    unlink(path);
}

/* ---- the shared corpus --------------------------------------------------------------- */

static void test_shared_corpus(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned episodes, attacks;
    } files[] = {
        {"a01_legit_baseline", 4, 0}, {"a02_svmap_scan", 3, 1}, {"a03_svwar_enum", 4, 1},
        {"a04_svcrack", 4, 1},        {"a05_register_bruteforce", 4, 1},
        {"a06_invite_flood", 4, 1},   {"a07_irsf", 3, 1},       {"a08_wangiri", 4, 1},
        {"a09_cli_spoof", 4, 1},      {"a10_mixed", 9, 5},      {"a11_malformed", 3, 1},
    };
    const char *dir = SW_SHARED_CORPUS "/pcap";
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        print_message("shared corpus %s absent: skipped\n", dir);
        skip();
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.labels.tsv", dir, files[i].name);
        sw_labels *l = load_ok(path);
        sw_labels_summary sum;
        char *text = report_text(l, &sum);
        char want[128];
        snprintf(want, sizeof want, ": %u episodes, attribution by frames.tsv, 0 events",
                 files[i].episodes);
        assert_contains(text, want);
        assert_int_equal(sum.attacks, files[i].attacks);
        assert_int_equal(sum.missed, files[i].attacks);
        assert_int_equal(sum.detected + sum.false_positives + sum.unattributed, 0);
        free(text);
        sw_labels_free(l);
    }

    /* a09 by frames: the first spoofed INVITE (frame 11) */
    char path[1024];
    snprintf(path, sizeof path, "%s/a09_cli_spoof.labels.tsv", dir);
    sw_labels *l = load_ok(path);
    sw_event_sink *s = sw_labels_sink(l);
    assert_non_null(s);
    sw_event ev = mkev(SW_EVT_CLI_SPOOFING, "cli.range", "127.0.0.51:5170", "127.0.0.10:5160", 11);
    emit(s, &ev);
    ev = mkev(SW_EVT_CLI_SPOOFING, "cli.range", "127.0.0.51:5170", "127.0.0.10:5160", 6);
    emit(s, &ev); /* frame 6 belongs to foxtrot-legit */
    sw_event_sink_close(s);
    sw_labels_summary sum;
    char *text = report_text(l, &sum);
    assert_int_equal(sum.detected, 1);
    assert_int_equal(sum.false_positives, 1);
    assert_contains(text, "fp foxtrot-legit frame=6 rule=cli.range");
    free(text);
    sw_labels_free(l);

    /* a09 without its frames.tsv (a copy alone): by source, range and numbers */
    char tmpl[] = "/tmp/sw_test_labels_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char copy[256];
    snprintf(copy, sizeof copy, "%s/a09.labels.tsv", tmpl);
    FILE *in = fopen(path, "r"), *out = fopen(copy, "w");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    l = load_ok(copy);
    s = sw_labels_sink(l);
    assert_non_null(s);
    ev = mkev(SW_EVT_CLI_SPOOFING, "cli.range", "127.0.0.51:5170", "127.0.0.10:5160", 40);
    ev.pai = S("+8613891008590");
    ev.ruri = S("+447700900205");
    emit(s, &ev);
    ev = mkev(SW_EVT_POLICY_VIOLATION, "pol.x", "127.0.0.10:5160", "127.0.0.51:5170", 41);
    ev.from = S("+46701740678");
    ev.ruri = S("+447700900538");
    emit(s, &ev);
    sw_event_sink_close(s);
    text = report_text(l, &sum);
    assert_int_equal(sum.detected, 1);
    assert_int_equal(sum.false_positives, 1);
    assert_contains(text, "attribution by source/frame range/numbers");
    assert_contains(text, "fp foxtrot-legit frame=41 rule=pol.x");
    free(text);
    sw_labels_free(l);
    unlink(copy);
    rmdir(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_event),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_attribution_heuristic),
        cmocka_unit_test(test_attribution_frames),
        cmocka_unit_test(test_long_lists),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_shared_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
