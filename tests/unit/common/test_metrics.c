/* The Prometheus text writer (sipwall/metrics.h): exact output for each
 * type, label and HELP escaping, cumulative histograms with +Inf = count,
 * the refusals (duplicate family, bad names, counter without _total,
 * samples outside a family, bad bounds, "le" as a label) and the ceiling.
 * When promtool is installed, the text also passes `promtool check
 * metrics` (the lint Prometheus itself applies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/metrics.h"

static char *finish(sw_metrics *m)
{
    size_t len = 99;
    char *t = sw_metrics_finish(m, &len);
    assert_non_null(t);
    assert_int_equal(len, strlen(t));
    return t;
}

static void test_counter_gauge(void **state)
{
    (void)state;
    sw_metrics *m = sw_metrics_new(0);
    assert_non_null(m);
    assert_int_equal(sw_metrics_family(m, "sw_msgs_total", SW_METRIC_COUNTER, "Messages"), SW_OK);
    sw_metric_label l[] = {{"dir", "in"}, {"listener", "udp-1"}};
    assert_int_equal(sw_metrics_u64(m, l, 2, 42), SW_OK);
    assert_int_equal(sw_metrics_u64(m, NULL, 0, UINT64_MAX), SW_OK);
    assert_int_equal(sw_metrics_family(m, "sw_temp", SW_METRIC_GAUGE, "A gauge"), SW_OK);
    assert_int_equal(sw_metrics_double(m, NULL, 0, 0.25), SW_OK);
    assert_int_equal(sw_metrics_double(m, NULL, 0, -1.0 / 0.0), SW_OK);
    char *t = finish(m);
    assert_string_equal(t, "# HELP sw_msgs_total Messages\n"
                           "# TYPE sw_msgs_total counter\n"
                           "sw_msgs_total{dir=\"in\",listener=\"udp-1\"} 42\n"
                           "sw_msgs_total 18446744073709551615\n"
                           "# HELP sw_temp A gauge\n"
                           "# TYPE sw_temp gauge\n"
                           "sw_temp 0.25\n"
                           "sw_temp -Inf\n");
    free(t);
    /* the writer is empty again and family names may be used anew */
    assert_int_equal(sw_metrics_family(m, "sw_msgs_total", SW_METRIC_COUNTER, "Again"), SW_OK);
    t = finish(m);
    assert_string_equal(t, "# HELP sw_msgs_total Again\n# TYPE sw_msgs_total counter\n");
    free(t);
    sw_metrics_free(m);
}

static void test_escaping(void **state)
{
    (void)state;
    sw_metrics *m = sw_metrics_new(0);
    assert_int_equal(sw_metrics_family(m, "sw_x", SW_METRIC_GAUGE, "back\\slash\nnew \"q\""), SW_OK);
    sw_metric_label l = {"rule", "a\"b\\c\nd"};
    assert_int_equal(sw_metrics_u64(m, &l, 1, 1), SW_OK);
    char *t = finish(m);
    assert_string_equal(t, "# HELP sw_x back\\\\slash\\nnew \"q\"\n"
                           "# TYPE sw_x gauge\n"
                           "sw_x{rule=\"a\\\"b\\\\c\\nd\"} 1\n");
    free(t);
    sw_metrics_free(m);
}

static void test_histogram(void **state)
{
    (void)state;
    sw_metrics *m = sw_metrics_new(0);
    assert_int_equal(sw_metrics_family(m, "sw_lat_seconds", SW_METRIC_HISTOGRAM, "Latency"), SW_OK);
    const double b[] = {0.001, 0.01};
    const uint64_t c[] = {3, 2, 1};
    sw_metric_label l = {"worker", "0"};
    assert_int_equal(sw_metrics_histogram(m, &l, 1, b, 2, c, 0.5), SW_OK);
    char *t = finish(m);
    assert_string_equal(t, "# HELP sw_lat_seconds Latency\n"
                           "# TYPE sw_lat_seconds histogram\n"
                           "sw_lat_seconds_bucket{worker=\"0\",le=\"0.001\"} 3\n"
                           "sw_lat_seconds_bucket{worker=\"0\",le=\"0.01\"} 5\n"
                           "sw_lat_seconds_bucket{worker=\"0\",le=\"+Inf\"} 6\n"
                           "sw_lat_seconds_sum{worker=\"0\"} 0.5\n"
                           "sw_lat_seconds_count{worker=\"0\"} 6\n");
    free(t);
    sw_metrics_free(m);
}

/* Each refusal leaves the writer in its error state: finish gives NULL. */
static void expect_refused(int (*step)(sw_metrics *), int err)
{
    sw_metrics *m = sw_metrics_new(0);
    assert_non_null(m);
    assert_int_equal(step(m), err);
    assert_int_equal(sw_metrics_error(m), err);
    size_t len = 7;
    assert_null(sw_metrics_finish(m, &len));
    assert_int_equal(len, 0);
    /* sticky: a good call afterwards still fails */
    assert_int_equal(sw_metrics_family(m, "sw_ok", SW_METRIC_GAUGE, "ok"), err);
    sw_metrics_free(m);
}

static int dup_family(sw_metrics *m)
{
    if (sw_metrics_family(m, "sw_a", SW_METRIC_GAUGE, "a"))
        return -100;
    return sw_metrics_family(m, "sw_a", SW_METRIC_GAUGE, "a");
}
static int counter_no_total(sw_metrics *m) { return sw_metrics_family(m, "sw_a", SW_METRIC_COUNTER, "a"); }
static int gauge_total(sw_metrics *m) { return sw_metrics_family(m, "sw_a_total", SW_METRIC_GAUGE, "a"); }
static int bad_name(sw_metrics *m) { return sw_metrics_family(m, "9sw", SW_METRIC_GAUGE, "a"); }
static int bad_name2(sw_metrics *m) { return sw_metrics_family(m, "sw-a", SW_METRIC_GAUGE, "a"); }
static int no_family(sw_metrics *m) { return sw_metrics_u64(m, NULL, 0, 1); }
static int bad_label(sw_metrics *m)
{
    sw_metric_label l = {"a:b", "x"};
    if (sw_metrics_family(m, "sw_a", SW_METRIC_GAUGE, "a"))
        return -100;
    return sw_metrics_u64(m, &l, 1, 1);
}
static int reserved_label(sw_metrics *m)
{
    sw_metric_label l = {"__name__", "x"};
    if (sw_metrics_family(m, "sw_a", SW_METRIC_GAUGE, "a"))
        return -100;
    return sw_metrics_u64(m, &l, 1, 1);
}
static int dup_label(sw_metrics *m)
{
    sw_metric_label l[] = {{"a", "x"}, {"a", "y"}};
    if (sw_metrics_family(m, "sw_a", SW_METRIC_GAUGE, "a"))
        return -100;
    return sw_metrics_u64(m, l, 2, 1);
}
static int negative_counter(sw_metrics *m)
{
    if (sw_metrics_family(m, "sw_a_total", SW_METRIC_COUNTER, "a"))
        return -100;
    return sw_metrics_double(m, NULL, 0, -1);
}
static int le_label(sw_metrics *m)
{
    sw_metric_label l = {"le", "1"};
    const double b[] = {1};
    const uint64_t c[] = {1, 1};
    if (sw_metrics_family(m, "sw_h", SW_METRIC_HISTOGRAM, "h"))
        return -100;
    return sw_metrics_histogram(m, &l, 1, b, 1, c, 1);
}
static int unsorted_bounds(sw_metrics *m)
{
    const double b[] = {2, 1};
    const uint64_t c[] = {1, 1, 1};
    if (sw_metrics_family(m, "sw_h", SW_METRIC_HISTOGRAM, "h"))
        return -100;
    return sw_metrics_histogram(m, NULL, 0, b, 2, c, 1);
}
static int sample_in_histogram(sw_metrics *m)
{
    if (sw_metrics_family(m, "sw_h", SW_METRIC_HISTOGRAM, "h"))
        return -100;
    return sw_metrics_u64(m, NULL, 0, 1);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused(dup_family, SW_EINVAL);
    expect_refused(counter_no_total, SW_EINVAL);
    expect_refused(gauge_total, SW_EINVAL);
    expect_refused(bad_name, SW_EINVAL);
    expect_refused(bad_name2, SW_EINVAL);
    expect_refused(no_family, SW_EINVAL);
    expect_refused(bad_label, SW_EINVAL);
    expect_refused(reserved_label, SW_EINVAL);
    expect_refused(dup_label, SW_EINVAL);
    expect_refused(negative_counter, SW_EINVAL);
    expect_refused(le_label, SW_EINVAL);
    expect_refused(unsorted_bounds, SW_EINVAL);
    expect_refused(sample_in_histogram, SW_EINVAL);
}

static void test_ceiling(void **state)
{
    (void)state;
    sw_metrics *m = sw_metrics_new(4096);
    assert_int_equal(sw_metrics_family(m, "sw_a", SW_METRIC_GAUGE, "a"), SW_OK);
    int rc = SW_OK;
    char v[32];
    for (int i = 0; i < 1000 && rc == SW_OK; i++) {
        snprintf(v, sizeof v, "%d", i);
        sw_metric_label l = {"i", v};
        rc = sw_metrics_u64(m, &l, 1, (uint64_t)i);
    }
    assert_int_equal(rc, SW_ELIMIT);
    size_t len;
    assert_null(sw_metrics_finish(m, &len));
    sw_metrics_free(m);
}

/* The text of a writer with every feature passes promtool's own lint. */
static void test_promtool(void **state)
{
    (void)state;
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        print_message("promtool not installed: the exact-output tests above stand alone\n");
        return;
    }
    sw_metrics *m = sw_metrics_new(0);
    assert_int_equal(sw_metrics_family(m, "sw_msgs_total", SW_METRIC_COUNTER, "Messages \"x\"\\y"), SW_OK);
    sw_metric_label l = {"rule", "q\"\\\nz"};
    assert_int_equal(sw_metrics_u64(m, &l, 1, 3), SW_OK);
    assert_int_equal(sw_metrics_family(m, "sw_lat_seconds", SW_METRIC_HISTOGRAM, "Latency"), SW_OK);
    const double b[] = {1e-6, 2.5e-6, 0.1};
    const uint64_t c[] = {1, 2, 3, 4};
    assert_int_equal(sw_metrics_histogram(m, NULL, 0, b, 3, c, 1.5), SW_OK);
    char *t = finish(m);
    char path[] = "/tmp/sw-metrics-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
    int rc = system(cmd);
    unlink(path);
    free(t);
    sw_metrics_free(m);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge), cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_histogram),     cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ceiling),       cmocka_unit_test(test_promtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
