/* LOG-SINK-01's collector input: RFC 5425 octet-counted frames and
 * LF-framed plain syslog (every prefix incomplete, from exact-size
 * blocks; the length ceiling; a leading zero), the RFC 5424 timestamp
 * with offsets and fractions, and whole-token address matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assess/host_int.h"

static const char *m1 = "<131>1 2026-12-07T05:40:00.123Z fw1 sipwalld 42 sip_bruteforce [sipwall@32473 "
                        "offender=\"127.0.0.1\" src_ip=\"127.186.0.3\"] 3 failures for 1001";

static void test_frames(void **state)
{
    (void)state;
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%zu %s%zu %s", strlen(m1), m1, strlen("<13>1 - - - - - - x"),
                     "<13>1 - - - - - - x");
    sw_str msg;
    long k = sw__syslog_frame_next(buf, (size_t)n, 8192, &msg);
    assert_true(k > 0);
    assert_int_equal(msg.len, strlen(m1));
    assert_memory_equal(msg.ptr, m1, msg.len);
    long k2 = sw__syslog_frame_next(buf + k, (size_t)n - (size_t)k, 8192, &msg);
    assert_int_equal(k + k2, n);
    for (long i = 0; i < k; i++) { /* every prefix of the first frame */
        char *c = malloc(i ? (size_t)i : 1);
        memcpy(c, buf, (size_t)i);
        assert_int_equal(sw__syslog_frame_next(c, (size_t)i, 8192, &msg), SW_EINCOMPLETE);
        free(c);
    }
    assert_int_equal(sw__syslog_frame_next("012 x", 5, 8192, &msg), SW_EINVAL);
    assert_int_equal(sw__syslog_frame_next("12x", 3, 8192, &msg), SW_EINVAL);
    assert_int_equal(sw__syslog_frame_next("9000 ", 5, 8192, &msg), SW_ELIMIT);
    assert_int_equal(sw__syslog_frame_next("1234567 ", 8, 8192, &msg), SW_ELIMIT);
    assert_int_equal(sw__syslog_frame_next("20 abc", 6, 10, &msg), SW_ELIMIT);
    /* plain, LF framed */
    assert_int_equal(sw__syslog_frame_next("<13>hello\r\nnext", 15, 8192, &msg), 11);
    assert_int_equal(msg.len, 9);
    assert_int_equal(sw__syslog_frame_next("<13>hello", 9, 8192, &msg), SW_EINCOMPLETE);
    char big[9000];
    memset(big, 'a', sizeof big);
    assert_int_equal(sw__syslog_frame_next(big, sizeof big, 8192, &msg), SW_ELIMIT);
}

static void test_time(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(sw__syslog_5424_time(sw_str_make(m1, strlen(m1)), &t), SW_OK);
    assert_int_equal(t, 1796622000); /* 2026-12-07T05:40:00Z */
    const char *off = "<13>1 2026-12-07T07:40:00+02:00 h a - - - x";
    assert_int_equal(sw__syslog_5424_time(sw_str_make(off, strlen(off)), &t), SW_OK);
    assert_int_equal(t, 1796622000);
    const char *bad[] = {"<13>1 - h a - - - x", "<13>2 2026-12-07T05:40:00Z h", "13>1 2026-12-07T05:40:00Z h",
                         "<13>1 2026-13-07T05:40:00Z h", "<13>1 2026-12-07T05:40:00 h", "<13>1 2026-12-07T05:40:00.Z h",
                         "<13>1 2026-12-07T05:40:00+2:00 h", "<1234>1 2026-12-07T05:40:00Z h", "<13>1 2026-12-07"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sw__syslog_5424_time(sw_str_make(bad[i], strlen(bad[i])), &t) != SW_EINVAL)
            fail_msg("accepted %s", bad[i]);
}

static void test_names(void **state)
{
    (void)state;
    sw_str m = sw_str_make(m1, strlen(m1));
    assert_true(sw__syslog_names(m, "127.0.0.1"));
    assert_true(sw__syslog_names(m, "127.186.0.3"));
    assert_false(sw__syslog_names(m, "127.0.0.10"));
    assert_false(sw__syslog_names(m, "27.0.0.1"));
    const char *s = "from 10.0.0.10 and 10.0.0.1:5060 and ::1";
    sw_str x = sw_str_make(s, strlen(s));
    assert_true(sw__syslog_names(x, "10.0.0.1"));
    assert_true(sw__syslog_names(x, "::1"));
    assert_false(sw__syslog_names(x, "10.0.0.2"));
    const char *end = "source 10.0.0.7.";
    assert_true(sw__syslog_names(sw_str_make(end, strlen(end)), "10.0.0.7"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
