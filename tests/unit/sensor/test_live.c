/* Live capture on the loopback interface (the tests run as root): SIP
 * datagrams sent from the test to a port of its own are captured through
 * the BPF filter, decoded and delivered with the right addresses; frames
 * outside the filter are not; work per dispatch is bounded; bad filters
 * and interfaces give named errors.  Every wait is bounded (2 s). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/sensor.h"

#define NMSG 5
#define SEC 1000000000LL

typedef struct got {
    size_t n;
    char data[16][600];
    size_t len[16];
    sw_capture_msg msg[16];
} got;

static int collect(void *ctx, const sw_capture_msg *m)
{
    got *g = ctx;
    if (g->n < 16) {
        assert_true(m->len < sizeof g->data[0]);
        memcpy(g->data[g->n], m->data, m->len);
        g->len[g->n] = m->len;
        g->msg[g->n] = *m;
        g->msg[g->n].data = NULL;
    }
    g->n++;
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A UDP socket bound to the loopback address of `family` on a kernel-chosen
 * (random, high) port; *port receives it. */
static int udp_socket(int family, uint16_t *port)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        sl = sizeof *a;
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static void send_to(int fd, int family, uint16_t port, const char *data, size_t n)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = htons(port);
        sl = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons(port);
        sl = sizeof *a;
    }
    assert_int_equal(sendto(fd, data, n, 0, (struct sockaddr *)&ss, sl), (ssize_t)n);
}

static size_t sip_msg(char *out, size_t cap, int i, const char *host)
{
    int n = snprintf(out, cap,
                     "OPTIONS sip:probe@%s SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s;branch=z9hG4bK-live-%d\r\n"
                     "Max-Forwards: 70\r\nFrom: <sip:test@example.com>;tag=t%d\r\n"
                     "To: <sip:probe@example.net>\r\nCall-ID: live-%d@sipwall-test\r\n"
                     "CSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n",
                     host, host, i, i, i, i + 1);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* Dispatches until `want` messages arrived or 2 s passed, never more than
 * `batch` frames per call. */
static void pump(sw_live *l, got *g, size_t want, int batch)
{
    int64_t deadline = mono_ms() + 2000;
    struct pollfd pfd = {.fd = sw_live_fd(l), .events = POLLIN};
    assert_true(pfd.fd >= 0);
    while (g->n < want && mono_ms() < deadline) {
        int wait = 50, req = sw_live_poll_timeout_ms(l);
        if (req >= 0 && req < wait)
            wait = req;
        int pr = poll(&pfd, 1, wait);
        assert_true(pr >= 0);
        long r = sw_live_dispatch(l, batch, collect, g);
        assert_true(r >= 0);
        assert_true(r <= batch);
    }
}

static void run_loopback(int family, uint8_t immediate)
{
    const char *host = family == AF_INET ? "127.0.0.1" : "[::1]";
    uint16_t rport, sport, oport;
    int rx = udp_socket(family, &rport);
    int tx = udp_socket(family, &sport);
    int other = udp_socket(family, &oport); /* outside the filter */

    char filter[64];
    snprintf(filter, sizeof filter, "udp port %u", (unsigned)rport);
    sw_live_config cfg = {.iface = "lo", .filter = filter, .immediate = immediate,
                          .timeout_ms = 20};
    sw_live *l = NULL;
    char err[512] = "";
    int rc = sw_live_open(&cfg, &l, err, sizeof err);
    if (rc != SW_OK)
        fail_msg("sw_live_open(lo): %s: %s", sw_errname(rc), err);
    assert_non_null(l);
    assert_int_equal(sw_live_datalink(l), 1 /* DLT_EN10MB: Linux loopback */);

    int64_t t0 = now_ns();
    char buf[600];
    for (int i = 0; i < NMSG; i++) {
        size_t n = sip_msg(buf, sizeof buf, i, host);
        send_to(tx, family, rport, buf, n);
        send_to(tx, family, oport, buf, n); /* not captured: other port */
    }
    got g;
    memset(&g, 0, sizeof g);
    pump(l, &g, NMSG, 2);
    int64_t t1 = now_ns();
    assert_int_equal(g.n, NMSG);

    char want_src[SW_ADDR_STRLEN], want_dst[SW_ADDR_STRLEN], a[SW_ADDR_STRLEN];
    snprintf(want_src, sizeof want_src, "%s:%u", host, (unsigned)sport);
    snprintf(want_dst, sizeof want_dst, "%s:%u", host, (unsigned)rport);
    for (int i = 0; i < NMSG; i++) {
        size_t n = sip_msg(buf, sizeof buf, i, host);
        assert_int_equal(g.len[i], n);
        assert_memory_equal(g.data[i], buf, n);
        assert_true(sw_addr_format(&g.msg[i].src, a, sizeof a) > 0);
        assert_string_equal(a, want_src);
        assert_true(sw_addr_format(&g.msg[i].dst, a, sizeof a) > 0);
        assert_string_equal(a, want_dst);
        assert_int_equal(g.msg[i].transport, SW_TRANSPORT_UDP);
        assert_int_equal(g.msg[i].framing_error.code, 0);
        /* the kernel's timestamp, within the test's own clock readings */
        assert_true(g.msg[i].ts_ns >= t0 - SEC && g.msg[i].ts_ns <= t1 + SEC);
        if (i > 0)
            assert_true(g.msg[i].ts_ns >= g.msg[i - 1].ts_ns);
    }

    /* Nothing else arrives: the other port's datagrams were filtered out. */
    assert_int_equal(sw_live_dispatch(l, 16, collect, &g), 0);
    sw_live_stats st;
    assert_int_equal(sw_live_get_stats(l, &st), SW_OK);
    assert_int_equal(st.frames, NMSG);
    assert_int_equal(st.capture.frames, NMSG);
    assert_int_equal(st.capture.sip_messages, NMSG);
    assert_true(st.received >= NMSG);
    assert_int_equal(st.kernel_drops, 0);
    assert_int_equal(sw_live_flush(l, collect, &g), 0);
    assert_int_equal(g.n, NMSG);
    sw_live_close(l);
    close(rx);
    close(tx);
    close(other);
}

static void test_loopback_ipv4_immediate(void **state)
{
    (void)state;
    run_loopback(AF_INET, 1);
}

static void test_loopback_ipv4_buffered(void **state)
{
    (void)state;
    run_loopback(AF_INET, 0);
}

static void test_loopback_ipv6(void **state)
{
    (void)state;
    run_loopback(AF_INET6, 1);
}

/* A callback that stops the dispatch after the frame it is called for. */
static int stop_cb(void *ctx, const sw_capture_msg *m)
{
    (void)m;
    (*(int *)ctx)++;
    return 7;
}

static void test_callback_stops_dispatch(void **state)
{
    (void)state;
    uint16_t rport, sport;
    int rx = udp_socket(AF_INET, &rport), tx = udp_socket(AF_INET, &sport);
    char filter[64];
    snprintf(filter, sizeof filter, "udp dst port %u", (unsigned)rport);
    sw_live_config cfg = {.iface = "lo", .filter = filter, .immediate = 1};
    sw_live *l = NULL;
    char err[512];
    assert_int_equal(sw_live_open(&cfg, &l, err, sizeof err), SW_OK);
    char buf[600];
    for (int i = 0; i < 3; i++)
        send_to(tx, AF_INET, rport, buf, sip_msg(buf, sizeof buf, i, "127.0.0.1"));
    int calls = 0;
    long total = 0;
    int64_t deadline = mono_ms() + 2000;
    while (total < 3 && mono_ms() < deadline) {
        struct pollfd pfd = {.fd = sw_live_fd(l), .events = POLLIN};
        assert_true(poll(&pfd, 1, 50) >= 0);
        long r = sw_live_dispatch(l, 16, stop_cb, &calls);
        assert_true(r >= 0 && r <= 1); /* stopped after each message */
        total += r;
    }
    assert_int_equal(total, 3);
    assert_int_equal(calls, 3);
    sw_live_close(l);
    close(rx);
    close(tx);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[512];
    sw_live *l = (sw_live *)(uintptr_t)1;
    sw_live_config cfg = {.iface = "lo", .filter = "udp port"};
    assert_int_equal(sw_live_open(&cfg, &l, err, sizeof err), SW_EINVAL);
    assert_null(l);
    assert_non_null(strstr(err, "bad capture filter \"udp port\""));

    cfg.filter = "tcp and not and";
    assert_int_equal(sw_live_open(&cfg, &l, err, sizeof err), SW_EINVAL);

    cfg.iface = "swnosuch0";
    cfg.filter = NULL;
    assert_int_equal(sw_live_open(&cfg, &l, err, sizeof err), SW_ENOTFOUND);
    assert_null(l);
    assert_non_null(strstr(err, "swnosuch0"));

    cfg.iface = NULL;
    assert_int_equal(sw_live_open(&cfg, &l, err, sizeof err), SW_EUSAGE);
    cfg.iface = "";
    assert_int_equal(sw_live_open(&cfg, &l, err, sizeof err), SW_EUSAGE);
    cfg.iface = "lo";
    cfg.snaplen = -1;
    assert_int_equal(sw_live_open(&cfg, &l, err, sizeof err), SW_EUSAGE);
    assert_null(l);
    sw_live_close(NULL);

    /* no filter at all, a small snaplen and ring: opens */
    cfg.snaplen = 128;
    cfg.buffer_bytes = 1 << 20;
    assert_int_equal(sw_live_open(&cfg, &l, err, sizeof err), SW_OK);
    assert_true(sw_live_fd(l) >= 0);
    sw_live_stats st;
    assert_int_equal(sw_live_get_stats(l, &st), SW_OK);
    sw_live_close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_ipv4_immediate),
        cmocka_unit_test(test_loopback_ipv4_buffered),
        cmocka_unit_test(test_loopback_ipv6),
        cmocka_unit_test(test_callback_stops_dispatch),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
