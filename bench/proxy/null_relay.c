/* null_relay: the floor under any user-space UDP SIP proxy on this machine.
 *
 * It does what sipwalld's UDP path does around the SIP work and nothing
 * else: one epoll loop, recvmmsg batches of up to 64, one sendmmsg per
 * batch, on two sockets (interconnect side and core side).  Datagrams from
 * the interconnect side go unchanged to the next hop; datagrams from the
 * next hop go unchanged to the last interconnect client seen.  No parsing,
 * no screening, no Via: SIPp answers to the source address, so calls
 * complete through it.  bench/proxy/run measures its CPU per message the
 * same way as the proxies'; the difference to sipwalld is what SIP
 * processing costs, the rest is the kernel's share (wake-ups, loopback
 * delivery), which no proxy on the same kernel avoids.
 *
 * usage: null_relay IC_IP:PORT CORE_IP:PORT NEXT_HOP_IP:PORT   (IPv4)
 * SIGTERM prints "relayed N" on stderr and exits. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define MAX_DGRAM 65536

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static int udp_bound(const struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int buf = 4 << 20;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf) < 0 ||
        bind(fd, (const struct sockaddr *)a, sizeof *a) < 0) {
        perror("null_relay: socket");
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct sockaddr_in ic, core, hop, client;
    if (argc != 4 || parse_addr(argv[1], &ic) || parse_addr(argv[2], &core) || parse_addr(argv[3], &hop)) {
        fprintf(stderr, "usage: null_relay IC_IP:PORT CORE_IP:PORT NEXT_HOP_IP:PORT\n");
        return 2;
    }
    memset(&client, 0, sizeof client);
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int fds[2] = {udp_bound(&ic), udp_bound(&core)};
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < 2; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e) < 0) {
            perror("null_relay: epoll");
            return 1;
        }
    }
    char *buf = malloc((size_t)BATCH * MAX_DGRAM);
    static struct mmsghdr msgs[BATCH];
    static struct iovec iov[BATCH];
    static struct sockaddr_in from[BATCH];
    unsigned long long relayed = 0;
    if (!buf)
        return 1;
    while (!stop) {
        struct epoll_event evs[4];
        int n = epoll_wait(ep, evs, 4, 200);
        for (int k = 0; k < n; k++) {
            int side = (int)evs[k].data.u32;
            for (int i = 0; i < BATCH; i++) {
                iov[i] = (struct iovec){buf + (size_t)i * MAX_DGRAM, MAX_DGRAM};
                memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
                msgs[i].msg_hdr.msg_name = &from[i];
                msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            }
            int got = recvmmsg(fds[side], msgs, BATCH, MSG_DONTWAIT, NULL);
            if (got <= 0)
                continue;
            for (int i = 0; i < got; i++) {
                if (side == 0)
                    client = from[i];
                iov[i].iov_len = msgs[i].msg_len;
                msgs[i].msg_hdr.msg_name = side == 0 ? &hop : &client;
                msgs[i].msg_hdr.msg_namelen = sizeof hop;
            }
            int sent = sendmmsg(fds[side == 0 ? 1 : 0], msgs, (unsigned)got, MSG_DONTWAIT);
            if (sent > 0)
                relayed += (unsigned long long)sent;
        }
    }
    fprintf(stderr, "relayed %llu\n", relayed);
    free(buf);
    return 0;
}
