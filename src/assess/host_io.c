/* Probes of the one host for the host and device checks: every
 * connection attempt and every datagram or write is paced through the run
 * (rate, packet budget, wall clock); every wait is bounded by a timeout.
 * Only the host named by --host (else the SIP target's address) is ever
 * contacted. */
#include <errno.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "assess/assess_int.h"
#include "assess/host_int.h"
#include "sipwall/net.h"

int sw__host_addr(sw_assess_run *r, uint16_t port, sw_addr *out)
{
    const sw_assess_options *o = sw_assess_opts(r);
    if (o->host && o->host[0]) {
        const char *h = o->host;
        char buf[64];
        size_t n = strlen(h);
        if (h[0] == '[' && n > 2 && h[n - 1] == ']' && n - 2 < sizeof buf) { /* [v6] */
            memcpy(buf, h + 1, n - 2);
            buf[n - 2] = 0;
            h = buf;
        }
        if (sw_addr_parse(h, out) != SW_OK)
            return SW_EUSAGE;
    } else {
        *out = sw__assess_target_of(r)->addr;
    }
    out->port = port;
    return SW_OK;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sw__host_tcp(sw_assess_run *r, uint16_t port, unsigned timeout_ms)
{
    sw_addr a;
    if (sw__host_addr(r, port, &a) != SW_OK)
        return SW_EUSAGE;
    int pr = sw_assess_pace(r);
    if (pr != SW_OK)
        return SW_ELIMIT;
    char err[128];
    int fd = sw_sock_tcp_connect(&a, err, sizeof err);
    if (fd < 0)
        return errno == ECONNREFUSED ? SW_ENOTFOUND : SW_EIO;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int k = poll(&p, 1, (int)timeout_ms);
    if (k <= 0) {
        close(fd);
        return SW_EAGAIN;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
        close(fd);
        return soerr == ECONNREFUSED ? SW_ENOTFOUND : soerr == ETIMEDOUT ? SW_EAGAIN : SW_EIO;
    }
    return fd;
}

int sw__host_udp(sw_assess_run *r, uint16_t port)
{
    sw_addr a;
    if (sw__host_addr(r, port, &a) != SW_OK)
        return SW_EUSAGE;
    struct sockaddr_storage ss;
    socklen_t sl = sw_addr_to_sockaddr(&a, &ss);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return SW_EIO;
    if (connect(fd, (struct sockaddr *)&ss, sl)) {
        close(fd);
        return SW_EIO;
    }
    return fd;
}

int sw__host_send(sw_assess_run *r, int fd, const void *buf, size_t n)
{
    if (sw_assess_pace(r) != SW_OK)
        return SW_ELIMIT;
    const unsigned char *p = buf;
    size_t done = 0;
    int64_t end = mono_ms() + 2000;
    while (done < n) {
        ssize_t w = send(fd, p + done, n - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == ECONNREFUSED)
            return SW_ENOTFOUND;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return SW_EIO;
        int64_t left = end - mono_ms();
        if (left <= 0)
            return SW_EIO;
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        poll(&pf, 1, (int)left);
    }
    sw__assess_count_bytes(r, n);
    return SW_OK;
}

ssize_t sw__host_read(int fd, unsigned char *buf, size_t cap, unsigned timeout_ms, sw__host_stop_fn stop)
{
    size_t len = 0;
    int64_t end = mono_ms() + timeout_ms;
    while (len < cap) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int k = poll(&p, 1, (int)left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        ssize_t g = recv(fd, buf + len, cap - len, 0);
        if (g == 0)
            break;
        if (g < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            if (errno == ECONNREFUSED || (errno == ECONNRESET && len == 0))
                return SW_ENOTFOUND;
            break;
        }
        len += (size_t)g;
        if (stop && stop(buf, len))
            break;
    }
    return (ssize_t)len;
}

sw_assess_evidence *sw__host_evidence(sw_assess_run *r, sw_assess_finding *f, const char *kind,
                                      const char *transport, int fd, uint16_t port)
{
    sw_assess_evidence *e = sw_assess_evidence_add(f, kind);
    if (!e)
        return NULL;
    snprintf(e->transport, sizeof e->transport, "%s", transport);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    sw_addr a;
    if (fd >= 0 && !getsockname(fd, (struct sockaddr *)&ss, &sl) &&
        sw_addr_from_sockaddr((struct sockaddr *)&ss, &a) == SW_OK)
        sw_addr_format(&a, e->local, sizeof e->local);
    sl = sizeof ss;
    if (fd >= 0 && !getpeername(fd, (struct sockaddr *)&ss, &sl) &&
        sw_addr_from_sockaddr((struct sockaddr *)&ss, &a) == SW_OK)
        sw_addr_format(&a, e->remote, sizeof e->remote);
    else if (sw__host_addr(r, port, &a) == SW_OK)
        sw_addr_format(&a, e->remote, sizeof e->remote);
    return e;
}

size_t sw__host_open_ports(sw_assess_run *r, int udp, uint16_t *out, size_t max)
{
    const sw_assess_finding *f = sw__assess_finding_of(r, "NET-PORT-01");
    size_t n = 0;
    if (!f)
        return 0;
    for (size_t i = 0; i < f->nevidence && n < max; i++) {
        const sw_assess_evidence *e = &f->evidence[i];
        if (strcmp(e->kind, "port") || strcmp(e->transport, udp ? "udp" : "tcp") || !e->note ||
            strncmp(e->note, "open", 4))
            continue;
        const char *c = strrchr(e->remote, ':');
        if (!c)
            continue;
        unsigned long p = strtoul(c + 1, NULL, 10);
        if (p > 0 && p < 65536)
            out[n++] = (uint16_t)p;
    }
    return n;
}
