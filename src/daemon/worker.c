/* A sipwalld worker: one epoll loop over its own sockets, its own engine
 * and proxy.  UDP in batches (recvmmsg / sendmmsg), stream connections
 * in src/daemon/conn.c, the inbox from the other workers, the policy
 * generation check, and the once-a-second housekeeping. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/worker.h"

/* The daemon's clock: the wall clock read once at start, advanced by
 * CLOCK_MONOTONIC, so that it never goes back or jumps when the system
 * time is stepped (the engine's windows and blocks run on it) and still
 * reads as Unix time in events. */
static int64_t clock_base;
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

static int64_t ts_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void clock_init(void) { clock_base = ts_ns(CLOCK_REALTIME) - ts_ns(CLOCK_MONOTONIC); }

int64_t swd_now_ns(void)
{
    pthread_once(&clock_once, clock_init);
    return clock_base + ts_ns(CLOCK_MONOTONIC);
}

/* ---- epoll registration -------------------------------------------------------- */

int swd_ep_add(swd_worker *w, int fd, uint32_t events, unsigned kind, uint32_t idx)
{
    struct epoll_event ev = {.events = events, .data.u64 = SWD_EP(kind, idx)};
    return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int swd_ep_mod(swd_worker *w, int fd, uint32_t events, unsigned kind, uint32_t idx)
{
    struct epoll_event ev = {.events = events, .data.u64 = SWD_EP(kind, idx)};
    return epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* ---- UDP output batch ------------------------------------------------------------ */

static void tx_flush(swd_worker *w)
{
    unsigned i = 0;
    while (i < w->ntx) {
        /* one sendmmsg per run of datagrams on the same socket */
        unsigned j = i + 1;
        while (j < w->ntx && w->txfd[j] == w->txfd[i])
            j++;
        unsigned off = i;
        while (off < j) {
            int n = sendmmsg(w->txfd[i], &w->tx[off], j - off, MSG_DONTWAIT);
            if (n <= 0) {
                /* EAGAIN with 4 MiB buffers means the peer is far behind:
                 * the datagram is lost as on the wire; SIP retransmits. */
                w->c.dropped_send++;
                off++;
                continue;
            }
            for (int k = 0; k < n; k++) {
                w->c.tx_udp++;
                w->c.tx_bytes += w->tx[off + (unsigned)k].msg_len;
                swd_count_sent(w, w->txkind[off + (unsigned)k], w->txiface[off + (unsigned)k]);
            }
            off += (unsigned)n;
        }
        i = j;
    }
    w->ntx = 0;
}

char *swd_tx_slot(swd_worker *w, size_t *cap)
{
    if (w->ntx == SWD_BATCH)
        tx_flush(w);
    *cap = SWD_MAX_DGRAM;
    return w->txbuf + (size_t)w->ntx * SWD_MAX_DGRAM;
}

void swd_count_sent(swd_worker *w, unsigned kind, unsigned iface)
{
    if (iface < SWD_MAX_LISTENS)
        swd_wmetrics_bump(&w->m.tx[iface]);
    if (kind == SWD_TX_REQUEST)
        w->c.requests_forwarded++;
    else if (kind == SWD_TX_RESPONSE)
        w->c.responses_forwarded++;
    else
        w->c.replies++;
}

static void tx_commit(swd_worker *w, int fd, unsigned iface, const sw_addr *to, size_t len,
                      unsigned kind)
{
    unsigned i = w->ntx;
    w->txiface[i] = (uint8_t)iface;
    if (i == 0)
        w->tx_since = swd_now_ns();
    w->txfd[i] = fd;
    w->txkind[i] = (uint8_t)kind;
    w->txiov[i].iov_base = w->txbuf + (size_t)i * SWD_MAX_DGRAM;
    w->txiov[i].iov_len = len;
    memset(&w->tx[i].msg_hdr, 0, sizeof w->tx[i].msg_hdr);
    w->tx[i].msg_hdr.msg_name = &w->txaddr[i];
    w->tx[i].msg_hdr.msg_namelen = sw_addr_to_sockaddr(to, &w->txaddr[i]);
    w->tx[i].msg_hdr.msg_iov = &w->txiov[i];
    w->tx[i].msg_hdr.msg_iovlen = 1;
    w->ntx++;
}

/* The UDP listener of this worker to send from toward `side`: the listener
 * the message is tied to when it is UDP, else any UDP listener on that side
 * with the destination's address family; -1 when none. */
static int udp_iface_for(swd_worker *w, unsigned iface, const sw_addr *to)
{
    const swd_daemon *d = w->d;
    if (iface < d->cfg->nlistens && w->udp[iface] >= 0 && d->ifaces[iface].addr.family == to->family)
        return (int)iface;
    sw_side side = iface < d->cfg->nlistens ? d->ifaces[iface].side : SW_SIDE_CORE;
    for (unsigned i = 0; i < d->cfg->nlistens; i++)
        if (w->udp[i] >= 0 && d->ifaces[i].side == side && d->ifaces[i].addr.family == to->family)
            return (int)i;
    return -1;
}

/* Sends what was written into the current tx slot (swd_tx_slot). */
void swd_send_slot(swd_worker *w, unsigned iface, sw_transport t, const sw_addr *to, size_t len,
                   unsigned kind)
{
    char *data = w->txbuf + (size_t)w->ntx * SWD_MAX_DGRAM;
    if (t == SW_TRANSPORT_UDP || t == SW_TRANSPORT_UNKNOWN) {
        int ui = udp_iface_for(w, iface, to);
        if (ui < 0) {
            w->c.dropped_no_route++;
            return;
        }
        tx_commit(w, w->udp[ui], (unsigned)ui, to, len, kind);
        return;
    }
    unsigned owner = sw_sock_owner(to, w->d->nworkers);
    if (owner == w->id) {
        swd_conn_send(w, to, t, iface, data, len, kind);
        return;
    }
    swd_send_hdr h = {.to = *to, .transport = t, .iface = iface, .kind = kind};
    swd_worker *o = w->d->workers[owner];
    if (swd_ring_put(o->inbox[w->id], SWD_RING_SEND, &h, sizeof h, data, len) != SW_OK) {
        w->c.dropped_inbox++;
        return;
    }
    w->c.handed_over++;
    w->wake_mask |= UINT64_C(1) << owner;
}

static void wake_others(swd_worker *w)
{
    for (unsigned i = 0; w->wake_mask && i < w->d->nworkers; i++) {
        if (w->wake_mask & (UINT64_C(1) << i)) {
            uint64_t one = 1;
            ssize_t r = write(w->d->workers[i]->wakefd, &one, sizeof one);
            (void)r;
        }
    }
    w->wake_mask = 0;
}

/* ---- next hops ------------------------------------------------------------------ */

static const swd_hop *pick_hop(swd_worker *w, const swd_hop *hops, unsigned n, int64_t *down)
{
    for (unsigned i = 0; i < n; i++)
        if (down[i] <= w->now)
            return &hops[i];
    return n ? &hops[0] : NULL; /* all down: keep trying the first */
}

/* Marks a next hop down after an ICMP error or a failed connect, so the
 * retransmission goes to the next one (failover). */
void swd_hop_failed(swd_worker *w, const sw_addr *to)
{
    const swd_config *cfg = w->d->cfg;
    for (unsigned i = 0; i < cfg->nforward; i++) {
        if (sw_addr_eq(&cfg->forward[i].addr, to) && w->fwd_down[i] <= w->now) {
            w->fwd_down[i] = w->now + SWD_HOP_DOWN_NS;
            w->c.hop_failovers++;
            char as[SW_ADDR_STRLEN];
            if (sw_addr_format(to, as, sizeof as) > 0)
                swd_warn("proxy", "next hop %s failed; trying the next one for 30 s", as);
        }
    }
    for (unsigned r = 0; r < cfg->nroutes; r++)
        for (unsigned i = 0; i < cfg->routes[r].nhops; i++)
            if (sw_addr_eq(&cfg->routes[r].hops[i].addr, to) && w->route_down[r][i] <= w->now) {
                w->route_down[r][i] = w->now + SWD_HOP_DOWN_NS;
                w->c.hop_failovers++;
            }
}

/* The listener to send through toward `side` with transport t and the
 * destination's family; -1 when none is configured. */
static int out_iface(const swd_daemon *d, sw_side side, sw_transport t, const sw_addr *to)
{
    int fallback = -1;
    for (unsigned i = 0; i < d->cfg->nlistens; i++) {
        const sw_proxy_iface *f = &d->ifaces[i];
        if (f->side != side || f->addr.family != to->family)
            continue;
        if (f->transport == t)
            return (int)i;
        if (fallback < 0)
            fallback = (int)i;
    }
    return fallback;
}

/* ---- one message ------------------------------------------------------------------- */

static void reply(swd_worker *w, sw_sip_msg *msg, const swd_msg_in *in, uint16_t status,
                  const char *reason, uint32_t retry_after)
{
    size_t cap;
    char *out = swd_tx_slot(w, &cap);
    long n = sw_proxy_reply(w->proxy, msg, &in->src, status, reason, retry_after, out, cap);
    if (n <= 0)
        return; /* an ACK, or nothing to address an answer to */
    swd_send_slot(w, in->iface, in->transport, &in->src, (size_t)n, SWD_TX_REPLY);
}

static void forward_request(swd_worker *w, sw_sip_msg *msg, const sw_verdict *v, const swd_msg_in *in)
{
    swd_daemon *d = w->d;
    sw_proxy_req *r = &w->req;
    memset(r, 0, offsetof(sw_proxy_req, scratch));
    r->msg = msg;
    r->src = in->src;
    r->transport = in->transport;
    r->in_iface = in->iface;
    r->verdict = v;
    sw_proxy_result res = sw_proxy_route(w->proxy, r);
    if (res == SW_PROXY_DROP) {
        w->c.dropped_proxy++;
        return;
    }
    if (res == SW_PROXY_REPLY) {
        reply(w, msg, in, r->status, r->reason, 0);
        return;
    }
    sw_side from = d->ifaces[in->iface].side;
    sw_addr to;
    sw_transport t;
    if (from == SW_SIDE_INTERCONNECT) {
        /* everything from partners goes to the core's entry point */
        const swd_hop *h = pick_hop(w, d->cfg->forward, d->cfg->nforward, w->fwd_down);
        if (!h) {
            w->c.dropped_no_route++;
            reply(w, msg, in, 503, NULL, 0);
            return;
        }
        to = h->addr;
        t = h->transport;
    } else if (r->hop.has_addr) {
        to = r->hop.addr;
        t = r->hop.transport != SW_TRANSPORT_UNKNOWN ? r->hop.transport : SW_TRANSPORT_UDP;
    } else {
        const swd_hop *h = NULL;
        for (unsigned i = 0; i < d->cfg->nroutes && !h; i++) {
            const swd_route *rt = &d->cfg->routes[i];
            if (sw_str_caseeq_cstr(r->hop.host, rt->domain))
                h = pick_hop(w, rt->hops, rt->nhops, w->route_down[i]);
        }
        if (!h) {
            w->c.dropped_no_route++;
            reply(w, msg, in, 404, "No Route To Destination", 0);
            return;
        }
        to = h->addr;
        t = h->transport;
    }
    int oi = out_iface(d, from == SW_SIDE_INTERCONNECT ? SW_SIDE_CORE : SW_SIDE_INTERCONNECT, t, &to);
    if (oi < 0) {
        w->c.dropped_no_route++;
        reply(w, msg, in, 503, NULL, 0);
        return;
    }
    size_t cap;
    char *out = swd_tx_slot(w, &cap);
    long n = sw_proxy_write_request(w->proxy, r, (unsigned)oi, out, cap);
    if (n <= 0) {
        w->c.dropped_proxy++;
        reply(w, msg, in, 513, NULL, 0);
        return;
    }
    swd_send_slot(w, (unsigned)oi, t, &to, (size_t)n, SWD_TX_REQUEST);
}

/* Screens one message, timed for the latency histogram and counted by
 * verdict (daemon/metrics.h).  A sink error is counted by the sink. */
static void screen(swd_worker *w, const sw_engine_msg *m, sw_verdict *v)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    (void)sw_engine_screen(w->engine, m, v);
    clock_gettime(CLOCK_MONOTONIC, &b);
    swd_wmetrics_latency(&w->m, (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec));
    swd_wmetrics_verdict(&w->m, w->gen ? w->gen->gen : 0, v);
}

static void handle_response(swd_worker *w, sw_engine_msg *m, const swd_msg_in *in)
{
    sw_proxy_resp *r = &w->resp;
    size_t cap;
    char *out = swd_tx_slot(w, &cap);
    long n = 0;
    sw_proxy_result res = SW_PROXY_DROP;
    sw_sip_error err;
    /* One parse for proxy and engine: the engine's, with its limits; a
     * message over them is still routed (and screened as malformed). */
    sw_sip_msg *msg = sw_engine_preparse(w->engine, m);
    if (!msg &&
        sw_sip_parse(&w->rmsg, w->rhdrs, SWD_RESP_HDRS, m->data, m->len, m->framing, NULL, &err) > 0)
        msg = &w->rmsg;
    if (msg) {
        memset(r, 0, offsetof(sw_proxy_resp, scratch));
        r->msg = msg;
        r->src = in->src;
        r->transport = in->transport;
        r->in_iface = in->iface;
        res = sw_proxy_response(w->proxy, r, out, cap, &n);
        if (res == SW_PROXY_FORWARD) {
            m->txn_branch = r->req_branch;
            m->txn_call_id = r->req_call_id;
        }
    }
    sw_verdict v;
    screen(w, m, &v);
    swd_partners_count(w, &v);
    if (res != SW_PROXY_FORWARD || n <= 0 || !r->hop.has_addr || r->out_iface >= w->d->cfg->nlistens) {
        w->c.dropped_proxy++;
        return;
    }
    if (v.action == SW_ACTION_DROP || v.action == SW_ACTION_REJECT || v.action == SW_ACTION_RATE_LIMIT) {
        w->c.dropped_policy++;
        return;
    }
    if (v.strip.bits[0] || v.strip.bits[1] || v.nstrip_names || v.sanitize.bits[0] || v.sanitize.bits[1]) {
        r->verdict = &v;
        if (sw_proxy_response(w->proxy, r, out, cap, &n) != SW_PROXY_FORWARD || n <= 0) {
            w->c.dropped_proxy++;
            return;
        }
    }
    sw_transport t = r->hop.transport != SW_TRANSPORT_UNKNOWN ? r->hop.transport
                                                              : w->d->ifaces[r->out_iface].transport;
    swd_send_slot(w, r->out_iface, t, &r->hop.addr, (size_t)n, SWD_TX_RESPONSE);
}

/* The worker owning the next hop of a request from the core (its routing
 * redone on a local parse), or -1 when it cannot be told cheaply. */
static int core_request_owner(swd_worker *w, const char *data, size_t len, const swd_msg_in *in)
{
    sw_sip_error err;
    sw_sip_framing fr = in->transport == SW_TRANSPORT_UDP ? SW_SIP_DATAGRAM : SW_SIP_STREAM;
    if (sw_sip_parse(&w->rmsg, w->rhdrs, SWD_RESP_HDRS, data, len, fr, NULL, &err) <= 0 ||
        !w->rmsg.is_request)
        return -1;
    sw_proxy_req *r = &w->req;
    memset(r, 0, offsetof(sw_proxy_req, scratch));
    r->msg = &w->rmsg;
    r->src = in->src;
    r->transport = in->transport;
    r->in_iface = in->iface;
    if (sw_proxy_route(w->proxy, r) != SW_PROXY_FORWARD || !r->hop.has_addr || r->hop_is_self)
        return -1;
    return (int)sw_sock_owner(&r->hop.addr, w->d->nworkers);
}

void swd_handle_message(swd_worker *w, const char *data, size_t len, const swd_msg_in *in)
{
    swd_daemon *d = w->d;
    /* received on a listener (a hand-over was counted where it came in) */
    if (!in->sensor && !in->handed && in->iface < d->cfg->nlistens)
        swd_wmetrics_bump(&w->m.rx[in->iface]);
    if (!in->sensor && !in->handed && d->nworkers > 1 && in->iface < d->cfg->nlistens &&
        d->ifaces[in->iface].side == SW_SIDE_CORE && !in->framing_error) {
        /* A response (or a spiral) carrying our branch belongs to the worker
         * that forwarded the request: its engine saw the other half.  A
         * request from the core belongs to the worker of the partner it goes
         * to, where that partner's dialogs are tracked. */
        int wk = sw_proxy_branch_worker(data, len);
        if (wk < 0 && !(len > 4 && memcmp(data, "SIP/", 4) == 0))
            wk = core_request_owner(w, data, len, in);
        if (wk >= 0 && (unsigned)wk < d->nworkers && (unsigned)wk != w->id) {
            swd_rx_hdr h = {.src = in->src, .dst = in->dst, .transport = in->transport,
                            .iface = in->iface, .ts_ns = w->now};
            if (swd_ring_put(d->workers[wk]->inbox[w->id], SWD_RING_RX, &h, sizeof h, data, len) ==
                SW_OK) {
                w->c.handed_over++;
                w->wake_mask |= UINT64_C(1) << wk;
            }
            else
                w->c.dropped_inbox++;
            return;
        }
    }
    sw_engine_msg m;
    memset(&m, 0, sizeof m);
    m.data = data;
    m.len = len;
    m.ts_ns = w->now;
    m.src = in->src;
    m.dst = in->dst;
    m.transport = in->transport;
    m.framing = in->transport == SW_TRANSPORT_UDP || in->whole ? SW_SIP_DATAGRAM : SW_SIP_STREAM;
    m.framing_error = in->framing_error;
    m.peer = in->peer;
    if (!in->sensor && in->iface < d->cfg->nlistens)
        m.sip_limits = &d->cfg->sip_limits[d->ifaces[in->iface].side]; /* limits side=… */
    m.capture_ts_ns = in->capture_ts_ns;
    /* events name the listener; a sensor's copy was only observed */
    if (!in->sensor && in->iface < d->cfg->nlistens)
        m.listener = sw_str_make(d->cfg->listens[in->iface].name,
                                 strnlen(d->cfg->listens[in->iface].name, SWD_LISTEN_NAME_MAX));
    m.observed = in->sensor;
    if (!in->sensor && d->cfg->mode == SWD_MODE_INLINE && !in->framing_error && len > 8 &&
        memcmp(data, "SIP/", 4) == 0) {
        handle_response(w, &m, in);
        return;
    }
    sw_verdict v;
    screen(w, &m, &v);
    swd_partners_count(w, &v);
    if (in->sensor || d->cfg->mode == SWD_MODE_PASSIVE)
        return;
    sw_sip_msg *msg = v.facts ? v.facts->msg : NULL;
    if (v.action == SW_ACTION_DROP || !msg) {
        w->c.dropped_policy++;
        return;
    }
    if (v.action == SW_ACTION_REJECT || v.action == SW_ACTION_RATE_LIMIT) {
        w->c.dropped_policy++;
        if (msg->is_request)
            reply(w, msg, in, v.status ? v.status : 503, NULL, v.retry_after_s);
        return;
    }
    if (msg->is_request)
        forward_request(w, msg, &v, in);
    else
        w->c.dropped_proxy++; /* a response the start line did not show (cannot happen) */
}

/* ---- UDP input ------------------------------------------------------------------- */

static void on_udp(swd_worker *w, unsigned iface)
{
    int fd = w->udp[iface];
    unsigned batch = w->d->cfg->limits.udp_batch;
    if (batch > SWD_BATCH)
        batch = SWD_BATCH;
    for (int round = 0; round < 8; round++) { /* bounded: other sockets get their turn */
        for (unsigned i = 0; i < batch; i++) {
            w->rxiov[i].iov_base = w->rxbuf + (size_t)i * SWD_MAX_DGRAM;
            w->rxiov[i].iov_len = SWD_MAX_DGRAM;
            memset(&w->rx[i].msg_hdr, 0, sizeof w->rx[i].msg_hdr);
            w->rx[i].msg_hdr.msg_name = &w->rxaddr[i];
            w->rx[i].msg_hdr.msg_namelen = sizeof w->rxaddr[i];
            w->rx[i].msg_hdr.msg_iov = &w->rxiov[i];
            w->rx[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, w->rx, batch, MSG_DONTWAIT, NULL);
        if (n <= 0)
            break;
        w->now = swd_now_ns();
        for (int i = 0; i < n; i++) {
            swd_msg_in in;
            memset(&in, 0, sizeof in);
            if (sw_addr_from_sockaddr((struct sockaddr *)&w->rxaddr[i], &in.src) != SW_OK)
                continue;
            in.dst = w->d->cfg->listens[iface].addr;
            in.transport = SW_TRANSPORT_UDP;
            in.iface = iface;
            w->c.rx_udp++;
            w->c.rx_bytes += w->rx[i].msg_len;
            if (w->rx[i].msg_hdr.msg_flags & MSG_TRUNC) {
                w->c.dropped_policy++; /* over 64 KiB: no SIP message is that large */
                continue;
            }
            swd_handle_message(w, w->rxbuf + (size_t)i * SWD_MAX_DGRAM, w->rx[i].msg_len, &in);
            /* a batch goes out in one sendmmsg, but a datagram does not
             * wait behind the rest of a long batch for more than this */
            if (w->ntx && swd_now_ns() - w->tx_since > SWD_TX_HOLD_NS)
                tx_flush(w);
        }
        tx_flush(w);
        if ((unsigned)n < batch)
            break;
    }
}

/* ICMP errors (port unreachable, host unreachable) for datagrams we sent:
 * the next hop is down. */
static void on_udp_error(swd_worker *w, unsigned iface)
{
    for (int k = 0; k < 64; k++) {
        char data[256], ctl[512];
        struct sockaddr_storage ss;
        struct iovec iov = {data, sizeof data};
        struct msghdr mh = {.msg_name = &ss, .msg_namelen = sizeof ss, .msg_iov = &iov,
                            .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
        if (recvmsg(w->udp[iface], &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            return;
        w->c.icmp_errors++;
        sw_addr to;
        if (sw_addr_from_sockaddr((struct sockaddr *)&ss, &to) == SW_OK)
            swd_hop_failed(w, &to);
    }
}

/* ---- inbox, policy, housekeeping ------------------------------------------------ */

static void drain_inbox(swd_worker *w)
{
    for (unsigned i = 0; i < w->d->nworkers; i++) {
        swd_ring *r = w->inbox[i];
        if (!r)
            continue;
        swd_ring_rec rec;
        for (int k = 0; k < 4096 && swd_ring_peek(r, &rec); k++) {
            if (rec.kind == SWD_RING_SEND && rec.hlen == sizeof(swd_send_hdr)) {
                swd_send_hdr h;
                memcpy(&h, rec.hdr, sizeof h);
                swd_conn_send(w, &h.to, h.transport, h.iface, rec.data, rec.dlen, h.kind);
            } else if (rec.kind == SWD_RING_RX && rec.hlen == sizeof(swd_rx_hdr)) {
                swd_rx_hdr h;
                memcpy(&h, rec.hdr, sizeof h);
                swd_msg_in in;
                memset(&in, 0, sizeof in);
                in.src = h.src;
                in.dst = h.dst;
                in.transport = h.transport;
                in.iface = h.iface;
                in.handed = 1;
                swd_handle_message(w, rec.data, rec.dlen, &in);
            } else if (rec.kind == SWD_RING_ADOPT && rec.hlen == sizeof(swd_adopt_hdr)) {
                swd_adopt_hdr h;
                memcpy(&h, rec.hdr, sizeof h);
                swd_conn_adopt(w, &h);
            }
            swd_ring_pop(r);
        }
    }
}

/* The engine's own parser limits: the core side's, with an index as large
 * as either side allows (each message brings its side's limits). */
static const sw_sip_limits *engine_sip_limits(const swd_daemon *d, sw_sip_limits *out)
{
    *out = d->cfg->sip_limits[SW_SIDE_CORE];
    uint16_t ic = d->cfg->sip_limits[SW_SIDE_INTERCONNECT].max_headers;
    if (out->max_headers < ic)
        out->max_headers = ic;
    return out;
}

/* A reload that changed the limits: what this worker's tables carried over
 * and what did not fit (never silent). */
static void log_migration(swd_worker *w, const swd_policy_gen *g)
{
    sw_engine_migration m;
    sw_engine_last_migration(w->engine, &m);
    if (!m.resized && !m.windows_reshaped)
        return;
    swd_log(m.dropped ? SWD_LOG_WARN : SWD_LOG_INFO, "reload",
            "worker %u generation %llu: %s: %llu entries migrated, %llu dropped (detectors %llu/%llu, "
            "event keys %llu/%llu, rate buckets %llu/%llu migrated/dropped)",
            w->id, (unsigned long long)g->gen,
            m.windows_reshaped ? "detector windows changed shape" : "limits changed",
            (unsigned long long)m.migrated, (unsigned long long)m.dropped,
            (unsigned long long)m.detect_migrated, (unsigned long long)m.detect_dropped,
            (unsigned long long)m.events_migrated, (unsigned long long)m.events_dropped,
            (unsigned long long)m.rates_migrated, (unsigned long long)m.rates_dropped);
}

static void take_policy(swd_worker *w)
{
    swd_policy_gen *g = atomic_load_explicit(&w->d->policy, memory_order_acquire);
    if (!g || g == w->gen || g->gen == w->gen_failed)
        return;
    if (sw_engine_set_policy(w->engine, g->policy) != SW_OK) {
        /* the engine is unchanged; the reload waits for this worker and
         * says so; another reload tries again */
        swd_err("worker", "worker %u: no memory to take policy generation %llu; keeping the old one", w->id,
                (unsigned long long)g->gen);
        w->gen_failed = g->gen;
        return;
    }
    log_migration(w, g);
    if (g->feeds[w->id]) {
        sw_engine_set_location_feed(w->engine, g->feeds[w->id]);
        g->feeds[w->id] = NULL;
    }
    swd_partners_regen(w, w->gen, g); /* before the ack: the old generation is alive */
    w->gen = g;
    atomic_store_explicit(&w->acked, g->gen, memory_order_release);
}

static void publish(swd_worker *w)
{
    sw_engine_stats es;
    sw_engine_get_stats(w->engine, &es);
    swd_wmetrics_publish(&w->m, &es);
    pthread_mutex_lock(&w->pub_mu);
    w->pub = w->c;
    w->pub_es = es;
    w->pub_conns = w->nconns;
    swd_partners_publish(w);
    pthread_mutex_unlock(&w->pub_mu);
}

#ifdef SWD_TEST_HOOKS
/* Test builds only (SW_TEST_HOOKS): `ctl debug-stall WORKER MS` makes the
 * worker sleep once, as a worker stuck in a long computation would, so
 * that /health can be seen to turn 503. */
static void stall_hook(swd_worker *w)
{
    int64_t ms = atomic_exchange_explicit(&w->m.stall_ms, 0, memory_order_relaxed);
    if (ms > 0) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}
#endif

static void *worker_main(void *arg)
{
    swd_worker *w = arg;
    struct epoll_event evs[256];
    int64_t next_tick = 0;
    w->now = swd_now_ns();
    atomic_store_explicit(&w->m.heartbeat_ns, w->now, memory_order_relaxed); /* alive from the start */
    while (!atomic_load_explicit(&w->d->stop, memory_order_relaxed)) {
        take_policy(w);
        /* input left over from a turn's budget: no wait */
        int n = epoll_wait(w->epfd, evs, 256, w->nready ? 0 : swd_conn_wait_ms(w, 200));
        w->now = swd_now_ns();
        atomic_store_explicit(&w->m.heartbeat_ns, w->now, memory_order_relaxed); /* /health */
#ifdef SWD_TEST_HOOKS
        stall_hook(w);
#endif
        for (int i = 0; i < n; i++) {
            unsigned kind = SWD_EP_KIND(evs[i].data.u64);
            uint32_t idx = SWD_EP_IDX(evs[i].data.u64);
            uint32_t e = evs[i].events;
            switch (kind) {
            case SWD_EP_UDP:
                if (e & EPOLLERR)
                    on_udp_error(w, idx);
                if (e & EPOLLIN)
                    on_udp(w, idx);
                break;
            case SWD_EP_LISTEN:
                swd_conn_accept(w, idx);
                break;
            case SWD_EP_CONN:
                swd_conn_event(w, idx, e);
                break;
            case SWD_EP_WAKE: {
                uint64_t v;
                ssize_t r = read(w->wakefd, &v, sizeof v);
                (void)r;
                break;
            }
            default:
                swd_sensor_event(w, kind, idx, e);
                break;
            }
        }
        swd_conn_resume(w);
        drain_inbox(w);
        tx_flush(w);
        swd_conn_reap(w);
        swd_conn_timers(w);
        wake_others(w);
        if (w->now >= next_tick) {
            swd_conn_sweep(w);
            swd_sensor_tick(w);
            publish(w);
            next_tick = w->now + 1000000000;
        }
    }
    w->now = swd_now_ns();
    swd_sensor_flush(w);
    sw_engine_flush(w->engine, w->now);
    tx_flush(w);
    publish(w);
    return NULL;
}

/* ---- creation ---------------------------------------------------------------------- */

static swd_worker *worker_new(swd_daemon *d, unsigned id, char *err, size_t errlen)
{
    swd_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->d = d;
    w->id = id;
    w->epfd = -1;
    w->wakefd = -1;
    for (unsigned i = 0; i < SWD_MAX_LISTENS; i++)
        w->udp[i] = w->listen_fd[i] = -1;
    pthread_mutex_init(&w->pub_mu, NULL);
    w->rxbuf = malloc((size_t)SWD_BATCH * SWD_MAX_DGRAM);
    w->txbuf = malloc((size_t)SWD_BATCH * SWD_MAX_DGRAM);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!w->rxbuf || !w->txbuf || w->epfd < 0 || w->wakefd < 0 ||
        swd_ep_add(w, w->wakefd, EPOLLIN, SWD_EP_WAKE, 0) < 0) {
        snprintf(err, errlen, "worker %u: %s", id, strerror(errno));
        return w; /* freed by the caller */
    }
    swd_policy_gen *g = atomic_load(&d->policy);
    sw_sip_limits el;
    sw_engine_config ec = {.policy = g->policy, .sink = swd_events_sink(d, id),
                           .passive = d->cfg->mode == SWD_MODE_PASSIVE, .state = d->state,
                           .sip_limits = engine_sip_limits(d, &el)};
    w->engine = sw_engine_new(&ec);
    sw_proxy_config pc = {.secret = d->secret, .hide_topology = d->cfg->topology_hiding,
                          .ifaces = d->ifaces, .nifaces = d->cfg->nlistens,
                          .worker = (uint8_t)id};
    if (d->cfg->mode == SWD_MODE_INLINE)
        w->proxy = sw_proxy_new(&pc);
    if (!w->engine || (d->cfg->mode == SWD_MODE_INLINE && !w->proxy)) {
        snprintf(err, errlen, "worker %u: cannot create its engine or proxy (memory)", id);
        return w;
    }
    if (g->feeds[id]) {
        sw_engine_set_location_feed(w->engine, g->feeds[id]);
        g->feeds[id] = NULL;
    }
    if (swd_partners_init(w) != SW_OK) {
        snprintf(err, errlen, "out of memory");
        return w;
    }
    swd_partners_regen(w, NULL, g);
    w->gen = g;
    atomic_store(&w->acked, g->gen);
    for (unsigned i = 0; i < d->nworkers; i++)
        if (i != id && !(w->inbox[i] = swd_ring_new(SWD_INBOX_BYTES))) {
            snprintf(err, errlen, "out of memory");
            return w;
        }
    if (swd_conn_init(w, err, errlen) != SW_OK)
        return w;
    w->ok = 1;
    return w;
}

static void worker_free(swd_worker *w)
{
    if (!w)
        return;
    swd_conn_fini(w);
    swd_sensor_fini(w);
    for (unsigned i = 0; i < SWD_MAX_LISTENS; i++) {
        if (w->udp[i] >= 0)
            close(w->udp[i]);
        if (w->listen_fd[i] >= 0)
            close(w->listen_fd[i]);
    }
    for (unsigned i = 0; i < SWD_MAX_WORKERS; i++)
        swd_ring_free(w->inbox[i]);
    sw_engine_free(w->engine);
    sw_proxy_free(w->proxy);
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->wakefd >= 0)
        close(w->wakefd);
    free(w->rxbuf);
    free(w->txbuf);
    swd_partners_fini(w);
    pthread_mutex_destroy(&w->pub_mu);
    free(w);
}

int swd_workers_create(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *cfg = d->cfg;
    for (unsigned id = 0; id < d->nworkers; id++) {
        d->workers[id] = worker_new(d, id, err, errlen);
        if (!d->workers[id] || !d->workers[id]->ok)
            return SW_EIO;
    }
    sw_sock_opts o = {.reuseport = 1, .rcvbuf = cfg->limits.socket_buffer,
                      .sndbuf = cfg->limits.socket_buffer, .backlog = 1024};
    /* Every listener: one socket per worker, bound in worker order, then
     * the source-steering program on the group. */
    for (unsigned i = 0; i < cfg->nlistens; i++) {
        const swd_listen *l = &cfg->listens[i];
        int steer_ok = 1;
        for (unsigned id = 0; id < d->nworkers; id++) {
            swd_worker *w = d->workers[id];
            int fd = l->transport == SW_TRANSPORT_UDP ? sw_sock_udp(&l->addr, &o, err, errlen)
                                                      : sw_sock_tcp_listen(&l->addr, &o, err, errlen);
            if (fd < 0)
                return SW_EIO;
            if (l->transport == SW_TRANSPORT_UDP) {
                w->udp[i] = fd;
                if (swd_ep_add(w, fd, EPOLLIN, SWD_EP_UDP, i) < 0)
                    return SW_EIO;
            } else {
                w->listen_fd[i] = fd;
                if (swd_ep_add(w, fd, EPOLLIN, SWD_EP_LISTEN, i) < 0)
                    return SW_EIO;
            }
            if (id == d->nworkers - 1 && d->nworkers > 1) {
                /* Core-side datagrams: a response goes straight to the
                 * worker named in our branch, not through a hand-over. */
                int rc = l->transport == SW_TRANSPORT_UDP && l->side == SW_SIDE_CORE
                             ? sw_sock_steer_by_marker(fd, d->nworkers, l->addr.family,
                                                       sw_proxy_branch_marker(),
                                                       sw_proxy_worker_chars())
                             : SW_EIO;
                if (rc == SW_OK)
                    steer_ok = 2;
                else if (sw_sock_steer_by_source(fd, d->nworkers, l->addr.family) != SW_OK)
                    steer_ok = 0;
            }
        }
        char as[SW_ADDR_STRLEN];
        if (sw_addr_format(&l->addr, as, sizeof as) < 0)
            as[0] = '\0';
        swd_info("main", "listening %s %s side=%s name=%s%s", sw_transport_name(l->transport), as,
                 l->side == SW_SIDE_CORE ? "core" : "interconnect", l->name,
                 steer_ok == 2 ? " (responses steered to their worker by branch)"
                 : steer_ok    ? ""
                               : " (source steering unavailable: connections are handed over)");
    }
    return swd_sensor_create(d, err, errlen);
}

int swd_workers_start(swd_daemon *d, char *err, size_t errlen)
{
    for (unsigned id = 0; id < d->nworkers; id++) {
        int r = pthread_create(&d->workers[id]->th, NULL, worker_main, d->workers[id]);
        if (r != 0) {
            snprintf(err, errlen, "cannot start worker %u: %s", id, strerror(r));
            atomic_store(&d->stop, 1);
            for (unsigned k = 0; k < id; k++)
                pthread_join(d->workers[k]->th, NULL);
            return SW_EIO;
        }
        d->workers[id]->started = 1;
    }
    return SW_OK;
}

void swd_workers_wake(swd_daemon *d)
{
    for (unsigned i = 0; i < d->nworkers; i++) {
        if (!d->workers[i])
            continue;
        uint64_t one = 1;
        ssize_t r = write(d->workers[i]->wakefd, &one, sizeof one);
        (void)r;
    }
}

void swd_workers_join(swd_daemon *d)
{
    for (unsigned i = 0; i < d->nworkers; i++)
        if (d->workers[i] && d->workers[i]->started) {
            pthread_join(d->workers[i]->th, NULL);
            d->workers[i]->started = 0;
        }
}

void swd_workers_free(swd_daemon *d)
{
    for (unsigned i = 0; i < d->nworkers; i++) {
        worker_free(d->workers[i]);
        d->workers[i] = NULL;
    }
}

uint64_t swd_workers_policy_acked(swd_daemon *d)
{
    uint64_t min = UINT64_MAX;
    for (unsigned i = 0; i < d->nworkers; i++) {
        uint64_t a = atomic_load_explicit(&d->workers[i]->acked, memory_order_acquire);
        if (a < min)
            min = a;
    }
    return min;
}

void swd_workers_stats(swd_daemon *d, swd_counters *c, sw_engine_stats *es, uint64_t *conns)
{
    memset(c, 0, sizeof *c);
    memset(es, 0, sizeof *es);
    *conns = 0;
    for (unsigned i = 0; i < d->nworkers; i++) {
        swd_worker *w = d->workers[i];
        pthread_mutex_lock(&w->pub_mu);
#define SWD__SUM(n) c->n += w->pub.n;
        SWD_COUNTER_LIST(SWD__SUM)
#undef SWD__SUM
        es->messages += w->pub_es.messages;
        es->malformed += w->pub_es.malformed;
        es->retransmissions += w->pub_es.retransmissions;
        for (unsigned a = 0; a < SW_ACTION__COUNT; a++)
            es->verdicts[a] += w->pub_es.verdicts[a];
        es->events += w->pub_es.events;
        es->events_suppressed += w->pub_es.events_suppressed;
        es->monitor_hits += w->pub_es.monitor_hits;
        es->blocked += w->pub_es.blocked;
        es->admission_drops += w->pub_es.admission_drops;
        es->blocks_refused += w->pub_es.blocks_refused;
        es->blocks_lifted += w->pub_es.blocks_lifted;
        /* the store is shared: every engine reports the same daemon-wide count */
        if (w->pub_es.active_blocks > es->active_blocks)
            es->active_blocks = w->pub_es.active_blocks;
        es->state_migrated += w->pub_es.state_migrated;
        es->state_dropped += w->pub_es.state_dropped;
        *conns += w->pub_conns;
        pthread_mutex_unlock(&w->pub_mu);
    }
}
