/* The SO_REUSEPORT steering programs (src/net/sock.c), on loopback: by
 * source address, and by the worker named after a marker in a response. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sipwall/net.h"
#include "sipwall/proxy.h"

#define NSOCK 3

typedef struct group {
    int fd[NSOCK];
    sw_addr addr;
} group;

/* NSOCK reuseport sockets on 127.0.0.1 (an ephemeral port found first). */
static void group_open(group *g)
{
    char err[256];
    sw_sock_opts o = {.reuseport = 1};
    assert_int_equal(sw_addr_parse("127.0.0.1", &g->addr), SW_OK);
    int probe = sw_sock_udp(&g->addr, &o, err, sizeof err);
    assert_true(probe >= 0);
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    assert_int_equal(getsockname(probe, (struct sockaddr *)&sin, &sl), 0);
    g->addr.port = ntohs(sin.sin_port);
    close(probe);
    for (int i = 0; i < NSOCK; i++) {
        g->fd[i] = sw_sock_udp(&g->addr, &o, err, sizeof err);
        assert_true(g->fd[i] >= 0);
    }
}

static void group_close(group *g)
{
    for (int i = 0; i < NSOCK; i++)
        close(g->fd[i]);
}

/* Sends DATA from SRC_IP and returns the index of the socket it reached. */
static int landed(group *g, const char *src_ip, const char *data)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    inet_pton(AF_INET, src_ip, &from.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&from, sizeof from), 0);
    struct sockaddr_storage to;
    socklen_t tl = sw_addr_to_sockaddr(&g->addr, &to);
    assert_int_equal(sendto(s, data, strlen(data), 0, (struct sockaddr *)&to, tl), (ssize_t)strlen(data));
    close(s);
    struct pollfd p[NSOCK];
    for (int i = 0; i < NSOCK; i++)
        p[i] = (struct pollfd){.fd = g->fd[i], .events = POLLIN};
    assert_true(poll(p, NSOCK, 2000) == 1);
    for (int i = 0; i < NSOCK; i++) {
        if (p[i].revents & POLLIN) {
            char buf[4096];
            assert_true(recv(g->fd[i], buf, sizeof buf, 0) > 0);
            return i;
        }
    }
    return -1;
}

static unsigned owner_of(const char *ip)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(ip, &a), SW_OK);
    return sw_sock_owner(&a, NSOCK);
}

static void by_source(void **state)
{
    (void)state;
    group g;
    group_open(&g);
    assert_int_equal(sw_sock_steer_by_source(g.fd[NSOCK - 1], NSOCK, 4), SW_OK);
    const char *ips[] = {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"};
    for (size_t i = 0; i < sizeof ips / sizeof *ips; i++)
        for (int rep = 0; rep < 3; rep++)
            assert_int_equal(landed(&g, ips[i], "OPTIONS sip:x SIP/2.0\r\n\r\n"), (int)owner_of(ips[i]));
    group_close(&g);
}

/* A response from the core names the worker in our branch. */
static void response(char *buf, size_t cap, const char *via_before, char worker)
{
    snprintf(buf, cap,
             "SIP/2.0 180 Ringing\r\n%sVia: SIP/2.0/UDP 127.0.0.2:5060;branch=%s%cAAAAAAAAAAAAAAAAAAAAAA\r\n"
             "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-other\r\nCall-ID: x\r\n\r\n",
             via_before, sw_proxy_branch_marker() + strlen("branch="), worker);
}

static void by_marker(void **state)
{
    (void)state;
    group g;
    group_open(&g);
    assert_int_equal(sw_sock_steer_by_marker(g.fd[NSOCK - 1], NSOCK, 4, sw_proxy_branch_marker(),
                                             sw_proxy_worker_chars()),
                     SW_OK);
    const char *chars = sw_proxy_worker_chars();
    char buf[2048];
    /* every worker, from a source that would be steered elsewhere */
    for (int k = 0; k < NSOCK; k++) {
        response(buf, sizeof buf, "", chars[k]);
        assert_int_equal(sw_proxy_branch_worker(buf, strlen(buf)), k);
        for (int s = 1; s <= 4; s++) {
            char ip[32];
            snprintf(ip, sizeof ip, "127.0.0.%d", s);
            assert_int_equal(landed(&g, ip, buf), k);
        }
    }
    /* the marker far into the message (a long header before the Via) */
    char pad[700];
    memset(pad, 'a', sizeof pad);
    memcpy(pad, "X-Pad: ", 7);
    memcpy(pad + sizeof pad - 3, "\r\n", 3);
    response(buf, sizeof buf, pad, chars[2]);
    assert_int_equal(owner_of("127.0.0.2"), 0); /* so that only the marker explains 2 */
    assert_int_equal(landed(&g, "127.0.0.2", buf), 2);
    /* requests, and responses without our marker or naming a worker that
     * does not exist: by source */
    const char *ips[] = {"127.0.0.1", "127.0.0.2", "127.0.0.4"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(landed(&g, ips[i], "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKswBxxxx\r\n\r\n"),
                         (int)owner_of(ips[i]));
        response(buf, sizeof buf, "", chars[NSOCK + 5]);
        assert_int_equal(landed(&g, ips[i], buf), (int)owner_of(ips[i]));
        response(buf, sizeof buf, "", chars[1]);
        buf[strlen("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK")] = 'X';
        assert_int_equal(landed(&g, ips[i], buf), (int)owner_of(ips[i]));
    }
    /* bad arguments */
    assert_int_equal(sw_sock_steer_by_marker(g.fd[0], NSOCK, 4, "abc", "ABC"), SW_EINVAL);
    assert_int_equal(sw_sock_steer_by_marker(g.fd[0], NSOCK, 4, "branch=", "AB"), SW_EINVAL);
    group_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(by_source),
        cmocka_unit_test(by_marker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
