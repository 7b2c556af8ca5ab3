/* tests/tools/hep-send against the C side: the tool replays committed
 * captures as HEP to a loopback socket of this test; every packet must
 * decode, and the SIP messages must be exactly the UDP messages the capture
 * reader finds in the same file (payload, addresses, ports, VLAN, time to
 * the microsecond).  Over UDP (IPv4 and IPv6 targets) and over TCP through
 * sw_hep_stream with a required auth key. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/sensor.h"

#define MAXM 64

typedef struct rec {
    size_t n;
    char *data[MAXM];
    size_t len[MAXM];
    sw_addr src[MAXM], dst[MAXM];
    int64_t ts_ns[MAXM];
    uint16_t vlan[MAXM];
    uint32_t capture_id[MAXM];
    const sw_hep_input *in;
} rec;

static void rec_add(rec *r, const sw_capture_msg *m)
{
    assert_true(r->n < MAXM);
    size_t i = r->n++;
    r->data[i] = malloc(m->len ? m->len : 1);
    assert_non_null(r->data[i]);
    memcpy(r->data[i], m->data, m->len);
    r->len[i] = m->len;
    r->src[i] = m->src;
    r->dst[i] = m->dst;
    r->ts_ns[i] = m->ts_ns;
    r->vlan[i] = m->vlan;
    if (r->in)
        r->capture_id[i] = sw_hep_input_current(r->in)->capture_id;
}

static void rec_free(rec *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->data[i]);
    memset(r, 0, sizeof *r);
}

/* What the capture reader delivers that hep-send replays: whole UDP
 * datagrams that look like SIP. */
static int from_capture(void *ctx, const sw_capture_msg *m)
{
    if (m->transport == SW_TRANSPORT_UDP && !m->by_endpoint && !m->reassembled)
        rec_add(ctx, m);
    return 0;
}

static int from_hep(void *ctx, const sw_capture_msg *m)
{
    rec_add(ctx, m);
    return 0;
}

static void read_capture(const char *name, rec *r)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/pcap/%s", SW_TEST_DATA, name);
    sw_capture *c = sw_capture_open_file(path, NULL, err, sizeof err);
    if (!c)
        fail_msg("%s: %s", path, err);
    assert_int_equal(sw_capture_run(c, from_capture, r), SW_OK);
    sw_capture_free(c);
}

static void run_tool(const char *name, const char *target, const char *extra)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 '%s/../tools/hep-send' -q %s '%s/pcap/%s' '%s'",
             SW_TEST_DATA, extra, SW_TEST_DATA, name, target);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("hep-send failed (%d): %s", rc, cmd);
}

static int bound_socket(int family, int type, uint16_t *port)
{
    int fd = socket(family, type, 0);
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
    int big = 1 << 20;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big), 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static void compare(const char *name, const rec *want, const rec *got)
{
    if (want->n != got->n)
        fail_msg("%s: capture has %zu UDP SIP messages, HEP delivered %zu", name, want->n,
                 got->n);
    assert_true(want->n > 0);
    for (size_t i = 0; i < want->n; i++) {
        assert_int_equal(want->len[i], got->len[i]);
        assert_memory_equal(want->data[i], got->data[i], want->len[i]);
        assert_true(sw_addr_eq(&want->src[i], &got->src[i]));
        assert_true(sw_addr_eq(&want->dst[i], &got->dst[i]));
        assert_int_equal(want->src[i].port, got->src[i].port);
        assert_int_equal(want->dst[i].port, got->dst[i].port);
        assert_int_equal(want->vlan[i], got->vlan[i]);
        /* HEP carries microseconds */
        assert_int_equal(want->ts_ns[i] / 1000, got->ts_ns[i] / 1000);
        assert_int_equal(got->ts_ns[i] % 1000, 0);
    }
}

static const char *const UDP_CAPTURES[] = {
    "vlan.pcap",     "ipv6_udp.pcap",      "sll.pcap",       "sll2.pcap",
    "raw_ip.pcap",   "loop.pcap",          "null_loopback.pcap", "nanosecond.pcap",
    "ipv4_linktype.pcap", "nonstd_port.pcap",
};

static void udp_round(int family)
{
    for (size_t k = 0; k < sizeof UDP_CAPTURES / sizeof UDP_CAPTURES[0]; k++) {
        const char *name = UDP_CAPTURES[k];
        rec want, got;
        memset(&want, 0, sizeof want);
        memset(&got, 0, sizeof got);
        read_capture(name, &want);

        uint16_t port;
        int fd = bound_socket(family, SOCK_DGRAM, &port);
        char target[64];
        snprintf(target, sizeof target, family == AF_INET ? "127.0.0.1:%u" : "[::1]:%u",
                 (unsigned)port);
        run_tool(name, target, "--capture-id 77");

        sw_hep_input *in = sw_hep_input_new(NULL);
        assert_non_null(in);
        got.in = in;
        static uint8_t buf[65536];
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0)
                break;
            assert_int_equal(sw_hep_datagram(in, buf, (size_t)n, 0, from_hep, &got), SW_OK);
        }
        close(fd);
        const sw_hep_stats *st = sw_hep_input_get_stats(in);
        assert_int_equal(st->bad, 0);
        assert_int_equal(st->packets, st->sip);
        for (size_t i = 0; i < got.n; i++)
            assert_int_equal(got.capture_id[i], 77);
        compare(name, &want, &got);
        sw_hep_input_free(in);
        rec_free(&want);
        rec_free(&got);
    }
}

static void test_udp_ipv4_target(void **state)
{
    (void)state;
    udp_round(AF_INET);
}

static void test_udp_ipv6_target(void **state)
{
    (void)state;
    udp_round(AF_INET6);
}

static void test_tcp_with_auth_key(void **state)
{
    (void)state;
    const char *names[] = {"vlan.pcap", "ipv6_udp.pcap", "sll2.pcap"};
    for (size_t k = 0; k < 3; k++) {
        rec want, got;
        memset(&want, 0, sizeof want);
        memset(&got, 0, sizeof got);
        read_capture(names[k], &want);

        uint16_t port;
        int lfd = bound_socket(AF_INET, SOCK_STREAM, &port);
        assert_int_equal(listen(lfd, 4), 0);
        char target[64];
        snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)port);
        /* The kernel completes the handshake and buffers the bytes; the
         * connection is accepted after the tool has exited. */
        run_tool(names[k], target, "--tcp --auth-key 'k3y'");
        int cfd = accept(lfd, NULL, NULL);
        assert_true(cfd >= 0);

        sw_hep_input_config cfg = {.auth_key = "k3y", .max_packet = 4096};
        sw_hep_input *in = sw_hep_input_new(&cfg);
        assert_non_null(in);
        got.in = in;
        sw_hep_stream *s = sw_hep_stream_new(in);
        assert_non_null(s);
        uint8_t buf[97]; /* odd-sized reads split packets anywhere */
        for (;;) {
            ssize_t n = recv(cfd, buf, sizeof buf, 0);
            assert_true(n >= 0);
            if (n == 0)
                break;
            assert_int_equal(sw_hep_stream_feed(s, buf, (size_t)n, 0, from_hep, &got), SW_OK);
        }
        assert_int_equal(sw_hep_stream_pending(s), 0);
        sw_hep_stream_free(s);
        const sw_hep_stats *st = sw_hep_input_get_stats(in);
        assert_int_equal(st->bad, 0);
        assert_int_equal(st->auth_failed, 0);
        compare(names[k], &want, &got);
        sw_hep_input_free(in);
        close(cfd);
        close(lfd);
        rec_free(&want);
        rec_free(&got);
    }
}

/* The same packets with the wrong key are all refused. */
static void test_wrong_key_refused(void **state)
{
    (void)state;
    uint16_t port;
    int fd = bound_socket(AF_INET, SOCK_DGRAM, &port);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)port);
    run_tool("vlan.pcap", target, "--auth-key wrong");
    sw_hep_input_config cfg = {.auth_key = "k3y"};
    sw_hep_input *in = sw_hep_input_new(&cfg);
    assert_non_null(in);
    rec got;
    memset(&got, 0, sizeof got);
    static uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
            break;
        assert_int_equal(sw_hep_datagram(in, buf, (size_t)n, 0, from_hep, &got), SW_OK);
    }
    close(fd);
    assert_int_equal(got.n, 0);
    assert_int_equal(sw_hep_input_get_stats(in)->auth_failed, 3);
    sw_hep_input_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_ipv4_target),
        cmocka_unit_test(test_udp_ipv6_target),
        cmocka_unit_test(test_tcp_with_auth_key),
        cmocka_unit_test(test_wrong_key_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
