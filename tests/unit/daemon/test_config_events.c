/* sipwalld's event directives: `events-db PATH [max-age=] [max-size=]
 * [queue=]` beside `events PATH`: values and suffixes land in the config,
 * defaults, and each kind of error names its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"

static char err[1024];

#define BASE                                                                                       \
    "mode inline\n"                                                                                \
    "policy builtin:default\n"                                                                     \
    "secret /tmp/sw-secret\n"                                                                      \
    "listen udp 127.0.0.1:5060 side=interconnect\n"                                                \
    "listen udp 127.0.0.2:5060 side=core\n"                                                        \
    "forward udp:127.0.0.3:5070\n"

static int parse(const char *text, swd_config *c)
{
    memset(c, 0, sizeof *c);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static void test_events_db_full(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse(BASE "events /var/log/sipwall/events.jsonl\n"
                                "events-db /var/lib/sipwall/events.db max-age=30d max-size=2g "
                                "queue=8192\n",
                           &c),
                     SW_OK);
    assert_string_equal(c.events, "/var/log/sipwall/events.jsonl");
    assert_string_equal(c.events_db, "/var/lib/sipwall/events.db");
    assert_int_equal(c.events_db_max_age_s, 30LL * 86400);
    assert_int_equal(c.events_db_max_bytes, 2LL << 30);
    assert_int_equal(c.events_queue, 8192);
    swd_config_free(&c);
}

static void test_events_db_defaults_and_units(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse(BASE "events-db ev.db\n", &c), SW_OK);
    assert_string_equal(c.events_db, "ev.db"); /* no base directory when parsed from memory */
    assert_int_equal(c.events_db_max_age_s, 0);
    assert_int_equal(c.events_db_max_bytes, 0);
    assert_int_equal(c.events_queue, 0); /* 0 = SWD_EVENTS_DEFAULT_QUEUE */
    assert_null(c.events);
    swd_config_free(&c);

    static const struct {
        const char *age;
        int64_t secs;
    } ages[] = {{"0", 0}, {"90", 90}, {"90s", 90}, {"15m", 900}, {"2h", 7200}, {"7d", 604800},
                {"3650d", 3650LL * 86400}};
    for (size_t i = 0; i < sizeof ages / sizeof ages[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, BASE "events-db /x.db max-age=%s\n", ages[i].age);
        assert_int_equal(parse(text, &c), SW_OK);
        assert_int_equal(c.events_db_max_age_s, ages[i].secs);
        swd_config_free(&c);
    }
    static const struct {
        const char *size;
        int64_t bytes;
    } sizes[] = {{"0", 0}, {"1048576", 1048576}, {"1m", 1048576}, {"1024k", 1048576},
                 {"5G", 5LL << 30}, {"1t", 1LL << 40}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, BASE "events-db /x.db max-size=%s\n", sizes[i].size);
        assert_int_equal(parse(text, &c), SW_OK);
        assert_int_equal(c.events_db_max_bytes, sizes[i].bytes);
        swd_config_free(&c);
    }
}

static void test_events_db_errors(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *msg;
    } cases[] = {
        {"events-db\n", "t.conf:7: usage: events-db PATH"},
        {"events-db /x.db max-age=10y\n", "t.conf:7: events-db: max-age='10y' is not a duration"},
        {"events-db /x.db max-age=-1d\n", "t.conf:7: events-db: max-age='-1d' is not a duration"},
        {"events-db /x.db max-age=3651d\n", "t.conf:7: events-db: max-age=3651d is out of range"},
        {"events-db /x.db max-age=99999999999999999999\n", "is out of range"},
        {"events-db /x.db max-size=12q\n", "t.conf:7: events-db: max-size='12q' is not a size"},
        {"events-db /x.db max-size=100k\n", "t.conf:7: events-db: max-size=100k is out of range"},
        {"events-db /x.db max-size=99999999999t\n", "is out of range"},
        {"events-db /x.db queue=8\n", "t.conf:7: events-db queue: 8 is out of range"},
        {"events-db /x.db queue=lots\n", "t.conf:7: events-db queue: 'lots' is not a number"},
        {"events-db /x.db size=1m\n", "t.conf:7: events-db: unknown option 'size'"},
        {"events-db /x.db queue=64 queue=64\n", "queue= given twice"},
        {"events-db /x.db max-age=\n", "max-age= needs a value"},
        {"events-db \"\"\n", "t.conf:7: events-db: empty path"},
        {"events-db /a.db\nevents-db /b.db\n", "t.conf:8: events-db already given on line 7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        swd_config c;
        snprintf(text, sizeof text, BASE "%s", cases[i].line);
        if (parse(text, &c) == SW_OK)
            fail_msg("accepted: %s", cases[i].line);
        if (!strstr(err, cases[i].msg))
            fail_msg("%s: got '%s', want '%s'", cases[i].line, err, cases[i].msg);
        swd_config_free(&c);
    }
}

/* The shipped example config turns the store on. */
static void test_example_has_events_db(void **state)
{
    (void)state;
    FILE *f = fopen(SW_TEST_DATA "/../../etc/sipwalld.conf.example", "r");
    assert_non_null(f);
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "events-db /", 11) == 0)
            found = 1;
    fclose(f);
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_db_full),
        cmocka_unit_test(test_events_db_defaults_and_units),
        cmocka_unit_test(test_events_db_errors),
        cmocka_unit_test(test_example_has_events_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
