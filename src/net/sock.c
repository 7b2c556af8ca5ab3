/* Sockets for sipwalld (include/sipwall/net.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipwall/net.h"

socklen_t sw_addr_to_sockaddr(const sw_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        memcpy(&s6->sin6_addr, a->ip, 16);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(a->port);
    memcpy(&s4->sin_addr, a->ip, 4);
    return sizeof *s4;
}

int sw_addr_from_sockaddr(const struct sockaddr *sa, sw_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        out->family = 4;
        out->port = ntohs(s4->sin_port);
        memcpy(out->ip, &s4->sin_addr, 4);
        return SW_OK;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        /* v4-mapped peers on a v6 socket are reported as IPv4 */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
            out->family = 4;
            memcpy(out->ip, (const uint8_t *)&s6->sin6_addr + 12, 4);
        } else {
            out->family = 6;
            memcpy(out->ip, &s6->sin6_addr, 16);
        }
        out->port = ntohs(s6->sin6_port);
        return SW_OK;
    }
    return SW_EINVAL;
}

static int fail(int fd, char *err, size_t errlen, const char *what, const sw_addr *a)
{
    int e = errno;
    if (err && errlen) {
        char as[SW_ADDR_STRLEN];
        if (sw_addr_format(a, as, sizeof as) < 0)
            as[0] = '\0';
        snprintf(err, errlen, "%s %s: %s", what, as, strerror(e));
    }
    if (fd >= 0)
        close(fd);
    errno = e;
    return -1;
}

static int open_bound(int type, const sw_addr *addr, const sw_sock_opts *o, char *err, size_t errlen)
{
    int fam = addr->family == 6 ? AF_INET6 : AF_INET;
    int fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(-1, err, errlen, "socket", addr);
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return fail(fd, err, errlen, "SO_REUSEADDR", addr);
    if (o->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        return fail(fd, err, errlen, "SO_REUSEPORT", addr);
    if (fam == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        return fail(fd, err, errlen, "IPV6_V6ONLY", addr);
    if (o->rcvbuf) {
        int v = (int)o->rcvbuf;
        /* SO_RCVBUFFORCE passes rmem_max when we are privileged */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) < 0 &&
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) < 0)
            return fail(fd, err, errlen, "SO_RCVBUF", addr);
    }
    if (o->sndbuf) {
        int v = (int)o->sndbuf;
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) < 0 &&
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) < 0)
            return fail(fd, err, errlen, "SO_SNDBUF", addr);
    }
    struct sockaddr_storage ss;
    socklen_t sl = sw_addr_to_sockaddr(addr, &ss);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
        return fail(fd, err, errlen, "bind", addr);
    return fd;
}

int sw_sock_udp(const sw_addr *addr, const sw_sock_opts *o, char *err, size_t errlen)
{
    int fd = open_bound(SOCK_DGRAM, addr, o, err, errlen);
    if (fd < 0)
        return -1;
    int one = 1;
    int r = addr->family == 6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one)
                              : setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
    if (r < 0)
        return fail(fd, err, errlen, "IP_RECVERR", addr);
    return fd;
}

int sw_sock_tcp_listen(const sw_addr *addr, const sw_sock_opts *o, char *err, size_t errlen)
{
    int fd = open_bound(SOCK_STREAM, addr, o, err, errlen);
    if (fd < 0)
        return -1;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (listen(fd, o->backlog > 0 ? o->backlog : 1024) < 0)
        return fail(fd, err, errlen, "listen", addr);
    return fd;
}

int sw_sock_tcp_connect(const sw_addr *to, char *err, size_t errlen)
{
    int fd = socket(to->family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(-1, err, errlen, "socket", to);
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t sl = sw_addr_to_sockaddr(to, &ss);
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
        return fail(fd, err, errlen, "connect", to);
    return fd;
}

/* Appends one instruction; the caller sized the program. */
static void emit(struct sock_filter *code, unsigned *len, uint16_t op, uint8_t jt, uint8_t jf, uint32_t k)
{
    code[*len] = (struct sock_filter){op, jt, jf, k};
    (*len)++;
}

static uint32_t be32_of(const char *p)
{
    return (uint32_t)(uint8_t)p[0] << 24 | (uint32_t)(uint8_t)p[1] << 16 |
           (uint32_t)(uint8_t)p[2] << 8 | (uint8_t)p[3];
}

static int steer_by_marker(int fd, unsigned n, int family, const char *marker, const char *chars,
                           unsigned window)
{
    size_t mlen = strlen(marker);
    /* Layout: [start line: 3] [scan: 4 per offset, then 1] [rest of the
     * marker: 2 per word or byte] [worker character: 1 + 2 per worker]
     * [source steering: 3].  cBPF only jumps forward, so the scan stops at
     * the first offset holding the marker's first word; whatever does not
     * fit falls to source steering, and the worker hands the message over
     * as it does without this program.  A load past the datagram's end
     * makes the program return 0 (worker 0), which is handed over too. */
    unsigned rest_words = (unsigned)(mlen - 4) / 4, rest_bytes = (unsigned)(mlen - 4) % 4;
    const unsigned check_at = 3 + 4 * window + 1;
    const unsigned total = check_at + 2 * (rest_words + rest_bytes) + 1 + 2 * n + 3;
    const unsigned source_at = total - 3;
    if (total > BPF_MAXINSNS)
        return SW_EINVAL;
    struct sock_filter *code = calloc(total, sizeof *code);
    if (!code)
        return SW_ENOMEM;
    unsigned len = 0;
    /* A request (no "SIP/" start): by source. */
    emit(code, &len, BPF_LD | BPF_W | BPF_ABS, 0, 0, 0);
    emit(code, &len, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, be32_of("SIP/"));
    emit(code, &len, BPF_JMP | BPF_JA, 0, 0, source_at - (len + 1));
    for (unsigned i = 0; i < window; i++) {
        emit(code, &len, BPF_LD | BPF_W | BPF_ABS, 0, 0, i);
        emit(code, &len, BPF_JMP | BPF_JEQ | BPF_K, 0, 2, be32_of(marker));
        emit(code, &len, BPF_LDX | BPF_W | BPF_IMM, 0, 0, i);
        emit(code, &len, BPF_JMP | BPF_JA, 0, 0, check_at - (len + 1));
    }
    emit(code, &len, BPF_JMP | BPF_JA, 0, 0, source_at - (len + 1)); /* not in the window */
    unsigned off = 4;
    for (unsigned wd = 0; wd < rest_words; wd++, off += 4) {
        emit(code, &len, BPF_LD | BPF_W | BPF_IND, 0, 0, off);
        emit(code, &len, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(source_at - (len + 1)),
             be32_of(marker + off));
    }
    for (unsigned b = 0; b < rest_bytes; b++, off++) {
        emit(code, &len, BPF_LD | BPF_B | BPF_IND, 0, 0, off);
        emit(code, &len, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(source_at - (len + 1)),
             (uint8_t)marker[off]);
    }
    emit(code, &len, BPF_LD | BPF_B | BPF_IND, 0, 0, off);
    for (unsigned k = 0; k < n; k++) {
        emit(code, &len, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint8_t)chars[k]);
        emit(code, &len, BPF_RET | BPF_K, 0, 0, k);
    }
    uint32_t src_off = family == 6 ? 8 + 12 : 12; /* as sw_sock_steer_by_source */
    emit(code, &len, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + src_off);
    emit(code, &len, BPF_ALU | BPF_MOD | BPF_K, 0, 0, n);
    emit(code, &len, BPF_RET | BPF_A, 0, 0, 0);
    struct sock_fprog prog = {.len = (unsigned short)len, .filter = code};
    int rc = len == total &&
                     setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0
                 ? SW_OK
                 : SW_EIO;
    free(code);
    return rc;
}

int sw_sock_steer_by_marker(int fd, unsigned n, int family, const char *marker, const char *chars)
{
    if (n <= 1)
        return SW_OK;
    size_t mlen = strlen(marker);
    if (mlen < 4 || mlen > 32 || n > 64 || strlen(chars) < n)
        return SW_EINVAL;
    /* The window in bytes the program scans: ~4 instructions a byte, and
     * the kernel refuses (ENOMEM) a classic program whose translation grows
     * too large, a limit that differs between kernels: halve until taken. */
    for (unsigned window = 900; window >= 100; window /= 2)
        if (steer_by_marker(fd, n, family, marker, chars, window) == SW_OK)
            return SW_OK;
    return SW_EIO;
}

unsigned sw_sock_owner(const sw_addr *a, unsigned n)
{
    if (n <= 1)
        return 0;
    const uint8_t *p = a->family == 6 ? a->ip + 12 : a->ip;
    uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return v % n;
}

int sw_sock_steer_by_source(int fd, unsigned n, int family)
{
    if (n <= 1)
        return SW_OK;
    /* The program runs with the packet's network header reachable at
     * SKF_NET_OFF; it returns the index of the socket in the group. */
    uint32_t off = family == 6 ? 8 + 12 : 12; /* last 32 bits of the source address */
    struct sock_filter code[] = {
        {BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + off},
        {BPF_ALU | BPF_MOD | BPF_K, 0, 0, n},
        {BPF_RET | BPF_A, 0, 0, 0},
    };
    struct sock_fprog prog = {.len = 3, .filter = code};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) < 0)
        return SW_EIO;
    return SW_OK;
}
