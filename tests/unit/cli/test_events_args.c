/* `sipwall events`: argument parsing (every option, every error exits 2
 * with a message), the time syntax (RFC 3339 with offsets and fractions,
 * dates, relative times), the address normaliser and the row filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/events.h"

#define NS 1000000000LL
/* 2026-12-07T10:00:00Z */
#define NOW (1796637600LL * NS)

static char err[512];

static int parse(cli_events_opts *o, const char *a1, const char *a2, const char *a3,
                 const char *a4)
{
    char *argv[6] = {(char *)"events", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 1;
    while (argc < 5 && argv[argc])
        argc++;
    err[0] = '\0';
    return cli_events_parse_args(argc, argv, NOW, o, err, sizeof err);
}

static int64_t t(const char *s)
{
    int64_t v = 0;
    if (cli_events_parse_time(s, NOW, &v, err, sizeof err) != 0)
        fail_msg("'%s' refused: %s", s, err);
    return v;
}

static void test_time_absolute(void **state)
{
    (void)state;
    assert_int_equal(t("2026-12-07T10:00:00Z"), NOW);
    assert_int_equal(t("2026-12-07t10:00:00z"), NOW);
    assert_int_equal(t("2026-12-07 10:00:00Z"), NOW);
    assert_int_equal(t("2026-12-07T11:00:00+01:00"), NOW);
    assert_int_equal(t("2026-12-07T08:30:00-01:30"), NOW);
    assert_int_equal(t("2026-12-07T10:00:00.250Z"), NOW + 250000000);
    assert_int_equal(t("2026-12-07T10:00:00.123456789Z"), NOW + 123456789);
    assert_int_equal(t("2026-12-07T10:00:00.1234567891Z"), NOW + 123456789); /* beyond ns: cut */
    assert_int_equal(t("2026-12-07"), NOW - 10 * 3600 * NS);
    assert_int_equal(t("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(t("2024-02-29T00:00:00Z"), 1709164800LL * NS); /* leap day */
}

static void test_time_relative(void **state)
{
    (void)state;
    assert_int_equal(t("now"), NOW);
    assert_int_equal(t("-30s"), NOW - 30 * NS);
    assert_int_equal(t("-10m"), NOW - 600 * NS);
    assert_int_equal(t("-2h"), NOW - 7200 * NS);
    assert_int_equal(t("-1d"), NOW - 86400 * NS);
    assert_int_equal(t("-1w"), NOW - 7 * 86400 * NS);
    assert_int_equal(t("-0m"), NOW);
}

static void test_time_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "yesterday", "-", "-m", "-10", "-10y", "-10mm", "+10m", "-1.5h", "-99999999999999d",
        "2026-13-01", "2026-02-30", "2023-02-29", "1969-12-31T23:59:59Z", "2026-12-07T24:00:00Z",
        "2026-12-07T10:60:00Z", "2026-12-07T10:00:00", "2026-12-07T10:00Z", "2026-12-07T10:00:00.Z",
        "2026-12-07T10:00:00+0100", "2026-12-07T10:00:00+01", "2026-12-07T10:00:00Zjunk",
        "2026/12/07", "26-12-07", "2026-12-07X10:00:00Z", "2026-12-7T10:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        err[0] = '\0';
        if (cli_events_parse_time(bad[i], NOW, &v, err, sizeof err) == 0)
            fail_msg("'%s' accepted as %lld", bad[i], (long long)v);
        assert_true(strlen(err) > 0);
    }
}

static void test_args_all(void **state)
{
    (void)state;
    cli_events_opts o;
    char *argv[] = {"events", "--db", "/tmp/x.db", "--since", "-1h", "--until", "now",
                    "--type", "sip_scan", "--src", "192.0.2.7", "--peer", "alpha", "--rule",
                    "scan.ua", "--limit", "20", "--json", "--follow", NULL};
    assert_int_equal(cli_events_parse_args(19, argv, NOW, &o, err, sizeof err), 0);
    assert_string_equal(o.db, "/tmp/x.db");
    assert_true(o.has_since && o.has_until);
    assert_int_equal(o.since_ns, NOW - 3600 * NS);
    assert_int_equal(o.until_ns, NOW);
    assert_string_equal(o.type, "sip_scan");
    assert_string_equal(o.src, "192.0.2.7");
    assert_string_equal(o.peer, "alpha");
    assert_string_equal(o.rule, "scan.ua");
    assert_int_equal(o.limit, 20);
    assert_true(o.json && o.follow);

    /* defaults; the environment names the database */
    unsetenv("SIPWALL_EVENTS_DB");
    assert_int_equal(parse(&o, NULL, NULL, NULL, NULL), 0);
    assert_string_equal(o.db, CLI_EVENTS_DEFAULT_DB);
    assert_false(o.has_since || o.has_until || o.json || o.follow || o.limit);
    assert_null(o.type);
    assert_string_equal(o.src, "");
    setenv("SIPWALL_EVENTS_DB", "/env.db", 1);
    assert_int_equal(parse(&o, "-f", NULL, NULL, NULL), 0);
    assert_string_equal(o.db, "/env.db");
    assert_true(o.follow);
    unsetenv("SIPWALL_EVENTS_DB");
    /* IPv6 in canonical form; --opt=value */
    assert_int_equal(parse(&o, "--src=2001:DB8:0::1", NULL, NULL, NULL), 0);
    assert_string_equal(o.src, "2001:db8::1");
    assert_int_equal(parse(&o, "--help", NULL, NULL, NULL), 0);
    assert_true(o.help);
}

static void test_args_refused(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        const char *msg;
    } cases[] = {
        {"--since", "soon", "--since: 'soon' is not a time"},
        {"--until", "-5x", "--until: '-5x' is not a time"},
        {"--type", "sip_nonsense", "--type: unknown event type 'sip_nonsense'"},
        {"--src", "192.0.2.300", "--src: '192.0.2.300' is not an IP address"},
        {"--src", "192.0.2.1:5060", "is not an IP address"},
        {"--src", "10.0.0.0/8", "is not an IP address"},
        {"--peer", "a b", "--peer: 'a b' is not a partner name"},
        {"--rule", "", "--rule: '' is not a rule id"},
        {"--limit", "0", "--limit: '0' is not a number"},
        {"--limit", "-3", "--limit: '-3' is not a number"},
        {"--limit", "12x", "--limit: '12x' is not a number"},
        {"--db", "", "--db needs a path"},
        {"--bogus", NULL, "unknown option '--bogus'"},
        {"stray", NULL, "unexpected argument 'stray'"},
        {"--json", "extra", "unexpected argument 'extra'"},
        {"--since", NULL, "option --since needs a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_events_opts o;
        if (parse(&o, cases[i].a, cases[i].b, NULL, NULL) == 0)
            fail_msg("accepted: %s %s", cases[i].a, cases[i].b ? cases[i].b : "");
        if (!strstr(err, cases[i].msg))
            fail_msg("%s: got '%s', want '%s'", cases[i].a, err, cases[i].msg);
    }
    cli_events_opts o;
    assert_int_equal(parse(&o, "--since", "-1h", "--until", "-2h"), -1);
    assert_non_null(strstr(err, "--until must be later than --since"));
}

static void test_ip_of(void **state)
{
    (void)state;
    char ip[CLI_EVENTS_IP_MAX];
    assert_int_equal(cli_events_ip_of("192.0.2.7:5060", ip), 0);
    assert_string_equal(ip, "192.0.2.7");
    assert_int_equal(cli_events_ip_of("192.0.2.7", ip), 0);
    assert_string_equal(ip, "192.0.2.7");
    assert_int_equal(cli_events_ip_of("[2001:db8:0:0::1]:5061", ip), 0);
    assert_string_equal(ip, "2001:db8::1");
    assert_int_equal(cli_events_ip_of("::1", ip), 0);
    assert_string_equal(ip, "::1");
    assert_int_equal(cli_events_ip_of("", ip), -1);
    assert_int_equal(cli_events_ip_of("host:5060", ip), -1);
    assert_int_equal(cli_events_ip_of("[::1", ip), -1);
}

#define EV(type, rule, src, peer)                                                                  \
    "{\"ts\":\"2026-12-07T10:00:00.000Z\",\"event_type\":\"" type "\",\"rule\":\"" rule         \
    "\",\"action\":\"reject\",\"src\":\"" src "\"" peer "}"

static void test_match(void **state)
{
    (void)state;
    cli_events_opts o;
    const char *a = EV("sip_scan", "scan.ua", "192.0.2.7:5060", ",\"peer\":\"alpha\"");
    const char *b = EV("sip_malformed", "sip.malformed", "[2001:db8::1]:5060", "");
    const char *c = EV("policy_violation", "cat0.unknown", "192.0.2.8:5060",
                       ",\"evidence\":{\"peer\":\"bravo\"}");
    assert_int_equal(parse(&o, NULL, NULL, NULL, NULL), 0);
    assert_true(cli_events_match(&o, NOW, a, strlen(a)));
    assert_true(cli_events_match(&o, NOW, "not json", 8)); /* no filter: shown */

    assert_int_equal(parse(&o, "--type", "sip_scan", NULL, NULL), 0);
    assert_true(cli_events_match(&o, NOW, a, strlen(a)));
    assert_false(cli_events_match(&o, NOW, b, strlen(b)));
    assert_false(cli_events_match(&o, NOW, "not json", 8));

    assert_int_equal(parse(&o, "--src", "2001:db8:0::1", NULL, NULL), 0);
    assert_false(cli_events_match(&o, NOW, a, strlen(a)));
    assert_true(cli_events_match(&o, NOW, b, strlen(b)));

    assert_int_equal(parse(&o, "--src", "192.0.2.7", NULL, NULL), 0);
    assert_true(cli_events_match(&o, NOW, a, strlen(a)));
    assert_false(cli_events_match(&o, NOW, c, strlen(c)));

    assert_int_equal(parse(&o, "--peer", "bravo", NULL, NULL), 0);
    assert_false(cli_events_match(&o, NOW, a, strlen(a)));
    assert_false(cli_events_match(&o, NOW, b, strlen(b)));
    assert_true(cli_events_match(&o, NOW, c, strlen(c)));

    assert_int_equal(parse(&o, "--rule", "sip.malformed", "--peer", "alpha"), 0);
    assert_false(cli_events_match(&o, NOW, a, strlen(a))); /* both must hold */
    assert_false(cli_events_match(&o, NOW, b, strlen(b)));

    /* since is inclusive, until exclusive */
    assert_int_equal(parse(&o, "--since", "2026-12-07T10:00:00Z", "--until", "2026-12-07T10:00:01Z"), 0);
    assert_true(cli_events_match(&o, NOW, a, strlen(a)));
    assert_false(cli_events_match(&o, NOW - 1, a, strlen(a)));
    assert_true(cli_events_match(&o, NOW + NS - 1, a, strlen(a)));
    assert_false(cli_events_match(&o, NOW + NS, a, strlen(a)));
}

static void test_format_line(void **state)
{
    (void)state;
    char line[256];
    const char *a = "{\"ts\":\"2026-12-07T10:00:00.000Z\",\"event_type\":\"sip_scan\",\"rule\":"
                    "\"scan.ua\",\"action\":\"reject\",\"mode\":\"enforce\",\"src\":\"192.0.2.7:5060\","
                    "\"peer\":\"alpha\",\"method\":\"OPTIONS\",\"reason\":\"scanner\\r\\nUser-Agent\"}";
    cli_events_format_line(7, a, strlen(a), line, sizeof line);
    assert_string_equal(line, "2026-12-07T10:00:00.000Z reject sip_scan scan.ua src=192.0.2.7:5060 "
                              "peer=alpha method=OPTIONS \"scanner  User-Agent\"");
    const char *p = "{\"ts\":\"2026-12-07T10:00:00.000Z\",\"incident_id\":\"00112233aabbccdd\","
                    "\"event_type\":\"sip_scan\",\"rule\":\"scan.sweep\",\"action\":\"drop\","
                    "\"mode\":\"passive\",\"listener\":\"ic-udp\",\"src\":\"192.0.2.7:5060\"}";
    cli_events_format_line(9, p, strlen(p), line, sizeof line);
    assert_string_equal(line, "2026-12-07T10:00:00.000Z drop(passive) sip_scan scan.sweep "
                              "src=192.0.2.7:5060 listener=ic-udp incident=00112233aabbccdd");
    cli_events_opts o;
    char errb[200];
    char *av[] = {"events", "--incident", "00112233aabbccdd", NULL};
    assert_int_equal(cli_events_parse_args(3, av, 0, &o, errb, sizeof errb), 0);
    assert_true(cli_events_match(&o, 0, p, strlen(p)));
    assert_false(cli_events_match(&o, 0, a, strlen(a)));
    char *md[] = {"events", "--mode", "passive", NULL};
    assert_int_equal(cli_events_parse_args(3, md, 0, &o, errb, sizeof errb), 0);
    assert_true(cli_events_match(&o, 0, p, strlen(p)));
    assert_false(cli_events_match(&o, 0, a, strlen(a))); /* enforce */
    char *badm[] = {"events", "--mode", "would", NULL};
    assert_int_equal(cli_events_parse_args(3, badm, 0, &o, errb, sizeof errb), -1);
    char *bad[] = {"events", "--incident", "0011'; DROP", NULL};
    assert_int_equal(cli_events_parse_args(3, bad, 0, &o, errb, sizeof errb), -1);
    cli_events_format_line(8, "{broken", 7, line, sizeof line);
    assert_string_equal(line, "#8 {broken");
    char tiny[10];
    cli_events_format_line(7, a, strlen(a), tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_absolute), cmocka_unit_test(test_time_relative),
        cmocka_unit_test(test_time_refused),  cmocka_unit_test(test_args_all),
        cmocka_unit_test(test_args_refused),  cmocka_unit_test(test_ip_of),
        cmocka_unit_test(test_match),         cmocka_unit_test(test_format_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
