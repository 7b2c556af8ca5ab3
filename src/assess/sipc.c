/* The SIP client of the assessment: connections to the one target over
 * UDP, TCP or TLS (include/sipwall/net.h streams), paced transactions, and
 * the exact bytes of every exchange recorded as evidence.  Replies are
 * framed (TCP/TLS) and indexed by src/sip with its default ceilings. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "assess/assess_int.h"

struct sw__assess_conn {
    sw_assess_run *r;
    sw_stream *s;
    sw_transport t;
    char local[SW_ADDR_STRLEN], remote[SW_ADDR_STRLEN];
    char lip[48];
    uint16_t lport;
    size_t rlen;
    char rbuf[2 * SW__ASSESS_MSG_MAX + 2];
};

static int64_t ms_left(int64_t deadline)
{
    int64_t d = deadline - sw__assess_mono_ns();
    return d <= 0 ? 0 : (d + 999999) / 1000000;
}

/* Waits until fd is ready for `events` or the deadline: 1 ready, 0 timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int64_t ms = ms_left(deadline);
        int n = poll(&p, 1, (int)(ms > 60000 ? 60000 : ms));
        if (n > 0)
            return 1;
        if (n == 0 && ms_left(deadline) == 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return 0;
    }
}

sw__assess_conn *sw__assess_conn_open(sw_assess_run *r, sw_transport t, uint16_t port, char *err,
                                      size_t errlen)
{
    return sw__assess_conn_open_ctx(r, t, port, NULL, err, errlen);
}

sw__assess_conn *sw__assess_conn_open_ctx(sw_assess_run *r, sw_transport t, uint16_t port, SSL_CTX *tls,
                                          char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    const sw__assess_target *tg = sw__assess_target_of(r);
    const sw_assess_options *o = sw_assess_opts(r);
    sw_addr to = tg->addr;
    to.port = port ? port : tg->port;
    struct sockaddr_storage ss;
    socklen_t sl = sw_addr_to_sockaddr(&to, &ss);
    int fd = socket(ss.ss_family, (t == SW_TRANSPORT_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return NULL;
    }
    int64_t deadline = sw__assess_mono_ns() + (int64_t)o->timeout_ms * 1000000;
    if (o->bind) {
        /* the operator's source address (e.g. a declared partner's) */
        sw_addr b;
        struct sockaddr_storage bs;
        if (sw_addr_parse(o->bind, &b) != SW_OK || b.family != to.family) {
            snprintf(err, errlen, "--bind %s: not an address of the target's family", o->bind);
            close(fd);
            return NULL;
        }
        b.port = 0;
        socklen_t bl = sw_addr_to_sockaddr(&b, &bs);
        if (bind(fd, (struct sockaddr *)&bs, bl) != 0) {
            snprintf(err, errlen, "bind %s: %s", o->bind, strerror(errno));
            close(fd);
            return NULL;
        }
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        if (errno != EINPROGRESS) {
            snprintf(err, errlen, "connect %s: %s", tg->ip_text, strerror(errno));
            close(fd);
            return NULL;
        }
        if (!wait_fd(fd, POLLOUT, deadline)) {
            snprintf(err, errlen, "connect: no answer in %u ms", o->timeout_ms);
            close(fd);
            return NULL;
        }
        int e = 0;
        socklen_t el = sizeof e;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
            snprintf(err, errlen, "connect: %s", strerror(e));
            close(fd);
            return NULL;
        }
    }
    sw__assess_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    c->r = r;
    c->t = t;
    struct sockaddr_storage ls;
    socklen_t ll = sizeof ls;
    sw_addr la = {0};
    if (getsockname(fd, (struct sockaddr *)&ls, &ll) == 0)
        (void)sw_addr_from_sockaddr((struct sockaddr *)&ls, &la);
    sw_addr_format(&la, c->local, sizeof c->local);
    sw_addr_format_ip(&la, c->lip, sizeof c->lip);
    c->lport = la.port;
    sw__assess_set_local_ip(r, c->lip);
    sw_addr_format(&to, c->remote, sizeof c->remote);
    if (t == SW_TRANSPORT_TLS) {
        SSL_CTX *ctx = tls ? tls : sw__assess_sip_tls_ctx(r, err, errlen);
        if (!ctx) {
            close(fd);
            free(c);
            return NULL;
        }
        c->s = sw_stream_tls_client_new(fd, ctx, NULL);
    } else {
        c->s = sw_stream_plain_new(fd);
    }
    if (!c->s) {
        snprintf(err, errlen, "out of memory");
        free(c);
        return NULL;
    }
    for (;;) {
        int h = sw_stream_handshake(c->s);
        if (h == SW_OK)
            break;
        if (h != SW_EAGAIN) {
            snprintf(err, errlen, "TLS handshake: %s", sw_stream_error(c->s));
            sw__assess_conn_close(c);
            return NULL;
        }
        short ev = sw_stream_want(c->s) == SW_STREAM_WANT_WRITE ? POLLOUT : POLLIN;
        if (!wait_fd(sw_stream_fd(c->s), ev, deadline)) {
            snprintf(err, errlen, "TLS handshake: no answer in %u ms", o->timeout_ms);
            sw__assess_conn_close(c);
            return NULL;
        }
    }
    return c;
}

void sw__assess_conn_close(sw__assess_conn *c)
{
    if (!c)
        return;
    sw_stream_close(c->s);
    free(c);
}

const char *sw__assess_conn_local_ip(const sw__assess_conn *c) { return c->lip; }
uint16_t sw__assess_conn_local_port(const sw__assess_conn *c) { return c->lport; }
sw_transport sw__assess_conn_transport(const sw__assess_conn *c) { return c->t; }

void sw__assess_evidence_conn(sw_assess_evidence *e, const sw__assess_conn *c)
{
    snprintf(e->transport, sizeof e->transport, "%s", sw_transport_name(c->t));
    snprintf(e->local, sizeof e->local, "%s", c->local);
    snprintf(e->remote, sizeof e->remote, "%s", c->remote);
}

/* Writes all of buf before the deadline. */
static int write_all(sw__assess_conn *c, const void *buf, size_t len, int64_t deadline)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = sw_stream_write(c->s, (const char *)buf + off, len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w == SW_EAGAIN) {
            short ev = sw_stream_want(c->s) == SW_STREAM_WANT_READ ? POLLIN : POLLOUT;
            if (!wait_fd(sw_stream_fd(c->s), ev, deadline))
                return SW_EIO;
            continue;
        }
        if (c->t == SW_TRANSPORT_UDP && w < 0) {
            /* ICMP port unreachable from an earlier datagram surfaces here
             * (ECONNREFUSED): the datagram itself may still go; one retry. */
            w = sw_stream_write(c->s, (const char *)buf + off, len - off);
            if (w > 0) {
                off += (size_t)w;
                continue;
            }
        }
        return SW_EIO;
    }
    return SW_OK;
}

int sw__assess_write_unpaced(sw__assess_conn *c, const void *bytes, size_t len)
{
    int64_t deadline = sw__assess_mono_ns() + (int64_t)sw_assess_opts(c->r)->timeout_ms * 1000000;
    return write_all(c, bytes, len, deadline);
}

int sw__assess_send(sw_assess_run *r, sw__assess_conn *c, const void *bytes, size_t len, sw_assess_evidence *ev)
{
    int p = sw_assess_pace(r);
    if (p != SW_OK)
        return p;
    if (ev) {
        if (!ev->sent_len)
            ev->ts_ns = sw__assess_now_ns();
        (void)sw_assess_evidence_bytes(ev, bytes, len, NULL, 0);
    }
    sw__assess_count_bytes(r, len);
    int64_t deadline = sw__assess_mono_ns() + (int64_t)sw_assess_opts(r)->timeout_ms * 1000000;
    return write_all(c, bytes, len, deadline);
}

/* The next message from the connection before the deadline into out:
 * 1 got one, 0 timeout, SW_EIO broken/closed.  Stream transports are
 * framed by sw_sip_frame; bytes that cannot be framed end the connection. */
static int next_msg(sw__assess_conn *c, int64_t deadline, sw__assess_reply *out, sw_assess_evidence *ev)
{
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    for (;;) {
        if (c->t != SW_TRANSPORT_UDP && c->rlen) {
            size_t skip = 0;
            sw_sip_error e;
            long n = sw_sip_frame(c->rbuf, c->rlen, &lim, &skip, &e);
            if (n > 0 && (size_t)n <= SW__ASSESS_MSG_MAX) {
                memcpy(out->buf, c->rbuf + skip, (size_t)n);
                out->len = (size_t)n;
                memmove(c->rbuf, c->rbuf + skip + (size_t)n, c->rlen - skip - (size_t)n);
                c->rlen -= skip + (size_t)n;
                return 1;
            }
            if (n != SW_EINCOMPLETE) {
                if (ev)
                    (void)sw_assess_evidence_bytes(ev, NULL, 0, c->rbuf, c->rlen);
                c->rlen = 0;
                return SW_EIO;
            }
            if (skip == c->rlen) {
                c->rlen = 0;
            }
        }
        char *dst = c->t == SW_TRANSPORT_UDP ? out->buf : c->rbuf + c->rlen;
        size_t room = c->t == SW_TRANSPORT_UDP ? SW__ASSESS_MSG_MAX : sizeof c->rbuf - 1 - c->rlen;
        if (room == 0)
            return SW_EIO;
        ssize_t n = sw_stream_read(c->s, dst, room);
        if (n > 0) {
            if (c->t == SW_TRANSPORT_UDP) {
                out->len = (size_t)n;
                return 1;
            }
            c->rlen += (size_t)n;
            continue;
        }
        if (n == 0)
            return SW_EIO;
        if (n != SW_EAGAIN) {
            if (c->t == SW_TRANSPORT_UDP && n == SW_EIO) {
                /* ICMP unreachable on a connected UDP socket: nobody there;
                 * keep waiting for the deadline as a silent target does. */
                if (!wait_fd(sw_stream_fd(c->s), POLLIN, deadline))
                    return 0;
                continue;
            }
            return SW_EIO;
        }
        if (sw_stream_pending(c->s))
            continue;
        short evs = sw_stream_want(c->s) == SW_STREAM_WANT_WRITE ? POLLOUT : POLLIN;
        if (!wait_fd(sw_stream_fd(c->s), evs, deadline))
            return 0;
    }
}

static void index_reply(sw__assess_reply *out, sw_transport t)
{
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    sw_sip_error e;
    out->buf[out->len] = '\0';
    long n = sw_sip_parse(&out->m, out->hdrs, (uint16_t)(sizeof out->hdrs / sizeof out->hdrs[0]), out->buf,
                          out->len, t == SW_TRANSPORT_UDP ? SW_SIP_DATAGRAM : SW_SIP_STREAM, &lim, &e);
    out->parsed = n > 0;
}

static int matches(sw__assess_reply *rep, const char *call_id, const char *method)
{
    if (!rep->parsed || rep->m.is_request)
        return 0;
    sw_str cid;
    if (sw_sip_call_id(&rep->m, &cid) != SW_OK)
        return 0;
    if (call_id && !(cid.len == strlen(call_id) && memcmp(cid.ptr, call_id, cid.len) == 0))
        return 0;
    if (method) {
        const sw_cseq *cs;
        sw_sip_error e;
        if (sw_sip_cseq(&rep->m, &cs, &e) != SW_OK || !sw_str_eq(cs->method_name, sw_str_make(method, strlen(method))))
            return 0;
    }
    return 1;
}

/* The wait of a transaction; `resend` (may be NULL) is sent again at the
 * end of each slice without any reply (UDP retransmission). */
static int wait_replies(sw_assess_run *r, sw__assess_conn *c, const sw__assess_xact *x, sw__assess_reply *out,
                        const char *resend, size_t resend_len)
{
    unsigned timeout = x->timeout_ms ? x->timeout_ms : sw_assess_opts(r)->timeout_ms;
    unsigned copies = resend && c->t == SW_TRANSPORT_UDP ? (x->retransmit > 2 ? 2 : x->retransmit) : 0;
    int64_t start = sw__assess_mono_ns();
    int64_t end = start + (int64_t)timeout * 1000000;
    int64_t sent_at = start;
    int64_t slice = (end - start) / (copies + 1);
    int64_t slice_end = start + slice;
    int best = 0, any = 0;
    for (;;) {
        int64_t d = copies && !any && slice_end < end ? slice_end : end;
        int g = next_msg(c, d, out, x->ev);
        if (g < 0)
            return best ? best : SW_EIO;
        if (g == 0) {
            if (d == end)
                return best;
            /* a slice without any reply: retransmit (paced, counted) */
            copies--;
            slice_end += slice;
            if (sw__assess_send(r, c, resend, resend_len, NULL) != SW_OK)
                return best ? best : SW_ELIMIT;
            sent_at = sw__assess_mono_ns();
            continue;
        }
        index_reply(out, c->t);
        out->rtt_ms = (sw__assess_mono_ns() - sent_at) / 1000000;
        if (x->ev)
            (void)sw_assess_evidence_bytes(x->ev, NULL, 0, out->buf, out->len);
        sw__assess_keep_reply(r, out->buf, out->len);
        if (!matches(out, x->call_id, x->method))
            continue;
        any = 1;
        int st = out->m.status;
        if (st >= (int)x->min_status)
            return st;
        if (st > best)
            best = st;
    }
}

int sw__assess_xact_run(sw_assess_run *r, sw__assess_conn *c, const char *req, size_t len,
                        const sw__assess_xact *x, sw__assess_reply *out)
{
    if (x->ev) {
        sw__assess_evidence_conn(x->ev, c);
        x->ev->ts_ns = sw__assess_now_ns();
    }
    int s = sw__assess_send(r, c, req, len, x->ev);
    if (s != SW_OK)
        return s;
    out->parsed = 0;
    out->len = 0;
    return wait_replies(r, c, x, out, req, len);
}

int sw__assess_xact_wait(sw_assess_run *r, sw__assess_conn *c, const sw__assess_xact *x, sw__assess_reply *out)
{
    return wait_replies(r, c, x, out, NULL, 0);
}

int sw__assess_status_line(const char *buf, size_t len)
{
    if (!buf || len < 11 || memcmp(buf, "SIP/2.0 ", 8) != 0)
        return 0;
    int st = 0;
    for (size_t i = 8; i < 11; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return 0;
        st = st * 10 + (buf[i] - '0');
    }
    if (len > 11 && buf[11] != ' ' && buf[11] != '\r' && buf[11] != '\n')
        return 0;
    return st >= 100 && st <= 699 ? st : 0;
}

int sw__assess_alive(sw_assess_run *r, sw_assess_finding *f) { return sw__assess_probe(r, f, 1, 3); }

int sw__assess_probe(sw_assess_run *r, sw_assess_finding *f, int count, int tries)
{
    const sw__assess_target *t = sw__assess_target_of(r);
    sw__assess_reply *rep = malloc(sizeof *rep);
    if (!rep)
        return 0;
    int alive = 0;
    for (int attempt = 0; attempt < tries && !alive; attempt++) {
        char err[256] = "";
        if (sw__assess_stopped(r))
            break;
        sw_assess_evidence *ev = f ? sw_assess_evidence_add(f, "sip-exchange") : NULL;
        sw__assess_conn *c = sw__assess_conn_open(r, t->transport, 0, err, sizeof err);
        if (!c) {
            if (ev)
                sw_assess_evidence_note(ev, "liveness: %s", err);
            if (count)
                sw__assess_liveness(r, 0);
            /* a refused connection costs no budget, but still takes time */
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 500000000};
            nanosleep(&ts, NULL);
            continue;
        }
        char cid[40], tag[20], buf[2048];
        sw__assess_new_callid(cid);
        sw__assess_new_tag(tag);
        sw__assess_req q = {.method = "OPTIONS", .call_id = cid, .from_tag = tag, .cseq = 1, .expires = -1};
        long n = sw__assess_build(r, c, &q, buf, sizeof buf);
        if (n > 0) {
            sw__assess_xact x = {.call_id = cid, .min_status = 200, .timeout_ms = 2000, .ev = ev};
            int st = sw__assess_xact_run(r, c, buf, (size_t)n, &x, rep);
            alive = st > 0;
            if (st != SW_ELIMIT && count)
                sw__assess_liveness(r, alive);
            if (ev)
                sw_assess_evidence_note(ev, "liveness OPTIONS try %d: %s", attempt + 1,
                                        alive ? "answered" : "no answer in 2 s");
            if (st == SW_ELIMIT) {
                sw__assess_conn_close(c);
                break;
            }
        }
        sw__assess_conn_close(c);
    }
    free(rep);
    return alive;
}
