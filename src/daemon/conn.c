/* Stream connections (TCP, TLS) of one worker: accept with limits, TLS
 * handshakes and the partner's certificate identity, SIP framing on
 * input, bounded send queues, outgoing connections to next hops, and the
 * timeouts that defend against idle, slow-reading and slowloris peers.
 *
 * Bounds: at most limits.max_connections / workers connections per
 * worker and limits.max_connections_per_ip per source; an incomplete
 * message may hold at most max_conn_buffer bytes and must complete
 * within message_timeout; a peer that does not read gets at most
 * max_send_queue bytes queued before it is cut off.
 *
 * Admission (admit.c, daemon-wide): per source prefix ("IP", /32 and /64 by
 * default) and, for strangers (sources the policy does not know), per
 * network (/24, /48); strangers never take the reserve_connections slots
 * kept for partners, and their idle limit is shorter and not reset by
 * keep-alives (reads of CR/LF only).  A listener whose accept fails for
 * want of file descriptors leaves epoll for a doubling backoff (50 ms to
 * 1 s) instead of waking the worker in a loop. */
#include "daemon/worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/admit.h"
#include "sipwall/sensor.h"

#define CX_BACKOFF_MIN_NS (50 * INT64_C(1000000))
#define CX_BACKOFF_MAX_NS (1000 * INT64_C(1000000))
#define CX_LOG_EVERY_NS (10 * INT64_C(1000000000)) /* one line per reason per 10 s */
#define CX_LOG_REASONS 8
#define CX_REASON_LEN 120

/* A rate-limited log line: one per CX_LOG_EVERY_NS per reason, with the
 * count of the lines left out since the last one. */
typedef struct cx_limited {
    char reason[CX_REASON_LEN];
    int64_t last;
    uint64_t suppressed;
} cx_limited;

typedef struct cx_paused {
    int fd;
    unsigned kind;
    uint32_t idx;
} cx_paused;

struct swd_conn_ext {
    swd_admit *admit;
    uint32_t reserve;            /* this worker's share of the partners' reserve */
    int64_t backoff_ns, resume_at;
    cx_paused paused[SWD_MAX_LISTENS + SWD_MAX_HEPS];
    unsigned npaused;
    cx_limited fd_log;           /* accept: out of file descriptors */
    cx_limited tls_log[CX_LOG_REASONS];
};

enum { CS_CONNECTING = 1, CS_HANDSHAKE = 2, CS_OPEN = 3 };

struct swd_conn {
    int fd;
    uint32_t slot;
    uint8_t state;
    uint8_t outgoing;
    uint8_t hep;           /* a HEP input stream (sensor), not SIP */
    uint8_t want_write;    /* EPOLLOUT armed */
    uint8_t dead;          /* closing at the end of this loop turn (it may be on the stack) */
    uint8_t admitted;      /* counted in the admission table */
    uint8_t partner;       /* known to the policy (address, or TLS identity after the handshake) */
    sw_transport transport;
    unsigned iface;
    sw_addr peer;
    sw_stream *st;         /* the connection's I/O (plain or TLS); owns fd */
    int64_t created, last_rx, msg_started;
    char *rbuf;
    size_t rlen, rcap;
    sw_sip_framer fr;      /* where framing of rbuf stopped (resumed on the next read) */
    uint8_t ready;         /* complete input left over by the per-turn budget: in w->ready_slots */
    char *wbuf;
    size_t wlen, woff, wcap;
    /* the messages queued and not yet taken whole by the socket, in order:
     * counted sent when it has, dropped when the connection dies first */
    uint64_t wq_total, wq_sent; /* bytes ever queued / written */
    struct pend_msg *pend;      /* ring */
    uint32_t pend_head, npend, pend_cap;
    /* certificate identities, and the partner they name under one policy */
    char ids[SW_TLS_MAX_IDS][SW_TLS_ID_LEN];
    unsigned nids;
    const swd_policy_gen *peer_gen;
    const sw_peer *peer_cached;
    sw_hep_stream *hs;
};

/* A message waiting in a connection's output: where it ends in the stream
 * of bytes queued, and its SWD_TX_* kind. */
struct pend_msg {
    uint64_t end;
    uint8_t kind;
};

typedef struct conn_key {
    sw_addr addr;
    uint32_t transport;
} conn_key;

static const swd_limits *L(const swd_worker *w) { return &w->d->cfg->limits; }

int swd_conn_init(swd_worker *w, char *err, size_t errlen)
{
    uint32_t per = L(w)->max_connections / (w->d->nworkers ? w->d->nworkers : 1);
    if (per < 16)
        per = 16;
    w->maxconns = per;
    w->conns = calloc(per, sizeof *w->conns);
    w->free_slots = calloc(per, sizeof *w->free_slots);
    w->dead_slots = calloc(per, sizeof *w->dead_slots);
    w->ready_slots = calloc(2 * (size_t)per, sizeof *w->ready_slots);
    sw_table_config tc = {.key_size = sizeof(conn_key), .value_size = sizeof(uint32_t),
                          .capacity = per};
    w->conn_by_peer = sw_table_new(&tc);
    w->cx = calloc(1, sizeof *w->cx);
    if (!w->conns || !w->free_slots || !w->dead_slots || !w->ready_slots || !w->conn_by_peer ||
        !w->cx) {
        snprintf(err, errlen, "out of memory for %u connections", per);
        return SW_ENOMEM;
    }
    /* one admission table for all workers: created by the first (workers
     * are created one after the other before any runs) */
    swd_daemon *d = w->d;
    if (d->admit)
        w->cx->admit = swd_admit_ref(d->admit);
    else if ((w->cx->admit = d->admit = swd_admit_new(L(w), per * (d->nworkers ? d->nworkers : 1))) == NULL) {
        snprintf(err, errlen, "out of memory for the admission table");
        return SW_ENOMEM;
    }
    uint32_t maxc = L(w)->max_connections ? L(w)->max_connections : 1;
    w->cx->reserve = (uint32_t)(((uint64_t)L(w)->reserve_connections * per + maxc - 1) / maxc);
    w->cx->backoff_ns = CX_BACKOFF_MIN_NS;
    for (uint32_t i = 0; i < per; i++)
        w->free_slots[w->nfree++] = per - 1 - i;
    return SW_OK;
}

/* Logs a line for this reason unless one went out less than
 * CX_LOG_EVERY_NS ago (then counts it as suppressed): 1 when logged.  The
 * line says how many were left out since the last. */
static int cx_log_due(swd_worker *w, cx_limited *l, uint64_t *suppressed_out)
{
    if (l->last && w->now - l->last < CX_LOG_EVERY_NS) {
        l->suppressed++;
        return 0;
    }
    *suppressed_out = l->suppressed;
    l->suppressed = 0;
    l->last = w->now;
    return 1;
}

/* The limiter slot of a reason: its own, else a free one, else the oldest. */
static cx_limited *cx_reason(cx_limited *set, unsigned n, const char *reason)
{
    cx_limited *oldest = &set[0];
    for (unsigned i = 0; i < n; i++) {
        if (set[i].last && strncmp(set[i].reason, reason, CX_REASON_LEN - 1) == 0)
            return &set[i];
        if (set[i].last < oldest->last)
            oldest = &set[i];
    }
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->reason, sizeof oldest->reason, "%s", reason);
    return oldest;
}

static conn_key ckey(const sw_addr *a, sw_transport t)
{
    conn_key k;
    memset(&k, 0, sizeof k);
    k.addr = *a;
    k.addr.pad_ = 0;
    k.transport = (uint32_t)t;
    return k;
}

static void conn_close(swd_worker *w, swd_conn *c)
{
    conn_key k = ckey(&c->peer, c->transport);
    uint32_t *s = sw_table_get(w->conn_by_peer, &k);
    if (s && *s == c->slot)
        sw_table_remove(w->conn_by_peer, &k);
    if (c->admitted)
        swd_admit_release(w->cx->admit, &c->peer, c->partner);
    for (uint32_t i = 0; c->ready && i < w->nready; i++) /* never between swd_conn_resume's steps */
        if (w->ready_slots[i] == c->slot)
            w->ready_slots[i--] = w->ready_slots[--w->nready];
    if (c->st)
        sw_stream_close(c->st); /* closes fd */
    else if (c->fd >= 0)
        close(c->fd);
    sw_hep_stream_free(c->hs);
    w->c.dropped_send += c->npend; /* queued, never sent */
    free(c->pend);
    free(c->rbuf);
    free(c->wbuf);
    w->conns[c->slot] = NULL;
    w->free_slots[w->nfree++] = c->slot;
    w->nconns--;
    free(c);
}

/* Closes a connection that may be in use further up the stack (a send
 * while its own input is being handled): it is reaped at the end of the
 * loop turn. */
static void conn_kill(swd_worker *w, swd_conn *c)
{
    if (c->dead)
        return;
    c->dead = 1;
    w->dead_slots[w->ndead++] = c->slot;
}

void swd_conn_reap(swd_worker *w)
{
    for (uint32_t i = 0; i < w->ndead; i++) {
        swd_conn *c = w->conns[w->dead_slots[i]];
        if (c && c->dead)
            conn_close(w, c);
    }
    w->ndead = 0;
}

/* The connection's TLS failure slot (daemon.h SWD_TLS_SLOT_*). */
static unsigned tls_slot(const swd_conn *c)
{
    if (c->outgoing)
        return SWD_TLS_SLOT_CLIENT;
    return c->hep ? SWD_MAX_LISTENS + c->iface : c->iface;
}

static swd_conn *conn_new(swd_worker *w, int fd, const sw_addr *peer, sw_transport t, unsigned iface,
                          int outgoing, int hep)
{
    /* a partner: the policy knows the source (HEP inputs are our own
     * sensors); outgoing connections go to our next hops */
    int partner = outgoing || hep || sw_policy_partner_host(w->gen->policy, peer);
    swd_admit_verdict v = SWD_ADMIT_OK;
    if (w->nfree == 0) {
        w->c.conn_refused_slots++;
        v = SWD_ADMIT_RESERVE;
    } else if (!partner && w->nfree <= w->cx->reserve) {
        w->c.conn_refused_reserve++;
        v = SWD_ADMIT_RESERVE;
    } else if (!outgoing && (v = swd_admit_take(w->cx->admit, peer, partner)) != SWD_ADMIT_OK) {
        if (v == SWD_ADMIT_IP)
            w->c.conn_refused_ip++;
        else if (v == SWD_ADMIT_NET)
            w->c.conn_refused_net++;
        else
            w->c.conn_refused_reserve++;
    }
    if (v != SWD_ADMIT_OK) {
        w->c.conn_refused++;
        close(fd);
        return NULL;
    }
    swd_conn *c = calloc(1, sizeof *c);
    if (!c) {
        if (!outgoing)
            swd_admit_release(w->cx->admit, peer, partner);
        close(fd);
        return NULL;
    }
    c->admitted = (uint8_t)!outgoing;
    c->partner = (uint8_t)partner;
    c->fd = fd;
    c->slot = w->free_slots[--w->nfree];
    c->transport = t;
    c->iface = iface;
    c->peer = *peer;
    c->outgoing = (uint8_t)outgoing;
    c->hep = (uint8_t)hep;
    c->created = c->last_rx = w->now;
    sw_sip_framer_init(&c->fr);
    c->state = outgoing ? CS_CONNECTING : (t == SW_TRANSPORT_TLS ? CS_HANDSHAKE : CS_OPEN);
    w->conns[c->slot] = c;
    w->nconns++;
    int created;
    conn_key k = ckey(peer, t);
    uint32_t *s = sw_table_upsert(w->conn_by_peer, &k, &created);
    if (s)
        *s = c->slot;
    if (hep && !(c->hs = swd_sensor_hep_stream_new(w, iface))) {
        conn_close(w, c);
        return NULL;
    }
    if (t == SW_TRANSPORT_TLS) {
        SSL_CTX *ctx = outgoing ? w->d->tls_client : hep ? w->d->hep_tls[iface] : w->d->tls_server[iface];
        if (ctx)
            c->st = outgoing ? sw_stream_tls_client_new(fd, ctx, NULL) : sw_stream_tls_server_new(fd, ctx);
        if (!c->st) {
            w->c.tls_handshake_failed++;
            swd_tls_failure(w->d, tls_slot(c), peer, ctx ? "out of memory" : "no TLS context");
            if (ctx)
                c->fd = -1; /* the stream closed it */
            conn_close(w, c);
            return NULL;
        }
    } else if (!(c->st = sw_stream_plain_new(fd))) {
        c->fd = -1;
        conn_close(w, c);
        return NULL;
    }
    uint32_t ev = EPOLLIN | EPOLLRDHUP | (outgoing ? EPOLLOUT : 0);
    c->want_write = outgoing;
    if (swd_ep_add(w, fd, ev, SWD_EP_CONN, c->slot) < 0) {
        conn_close(w, c);
        return NULL;
    }
    return c;
}

static void set_write_interest(swd_worker *w, swd_conn *c, int on)
{
    if ((uint8_t)on == c->want_write)
        return;
    c->want_write = (uint8_t)on;
    swd_ep_mod(w, c->fd, EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0), SWD_EP_CONN, c->slot);
}

/* ---- accept ----------------------------------------------------------------------- */

/* A HEP input stream's transport: TLS for `hep tls` (on TCP), else TCP. */
static sw_transport hep_transport(const swd_worker *w, unsigned idx)
{
    return w->d->cfg->heps[idx].tls ? SW_TRANSPORT_TLS : SW_TRANSPORT_TCP;
}

void swd_conn_adopt(swd_worker *w, const swd_adopt_hdr *h)
{
    sw_transport t = h->hep ? hep_transport(w, h->iface) : w->d->cfg->listens[h->iface].transport;
    if (conn_new(w, h->fd, &h->peer, t, h->iface, 0, h->hep))
        w->c.conn_accepted++;
}

/* accept failed for want of file descriptors (or kernel memory): the
 * pending connection stays in the backlog and the listener stays readable,
 * so the listener leaves epoll until the backoff has passed (the worker
 * would spin otherwise).  Counted; logged at most once per 10 s. */
static void accept_backoff(swd_worker *w, int lfd, unsigned kind, uint32_t idx, int err)
{
    struct swd_conn_ext *x = w->cx;
    w->c.conn_refused_fd++;
    if (x->npaused >= sizeof x->paused / sizeof x->paused[0] ||
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, lfd, NULL) < 0)
        return;
    x->paused[x->npaused++] = (cx_paused){.fd = lfd, .kind = kind, .idx = idx};
    w->c.accept_backoff++;
    if (x->npaused == 1) {
        x->resume_at = w->now + x->backoff_ns;
        uint64_t sup;
        if (cx_log_due(w, &x->fd_log, &sup))
            swd_warn("conn", "accept: %s: listeners of worker %u paused for %lld ms "
                     "(raise LimitNOFILE / ulimit -n, or lower limits max-connections); "
                     "%llu such pauses not logged since the last line", strerror(err), w->id,
                     (long long)(x->backoff_ns / 1000000), (unsigned long long)sup);
        x->backoff_ns = x->backoff_ns * 2 > CX_BACKOFF_MAX_NS ? CX_BACKOFF_MAX_NS : x->backoff_ns * 2;
    }
}

void swd_conn_timers(swd_worker *w)
{
    struct swd_conn_ext *x = w->cx;
    if (!x || x->npaused == 0 || w->now < x->resume_at)
        return;
    for (unsigned i = 0; i < x->npaused; i++)
        (void)swd_ep_add(w, x->paused[i].fd, EPOLLIN, x->paused[i].kind, x->paused[i].idx);
    x->npaused = 0;
}

int swd_conn_wait_ms(const swd_worker *w, int dflt)
{
    const struct swd_conn_ext *x = w->cx;
    if (!x || x->npaused == 0)
        return dflt;
    int64_t ms = (x->resume_at - w->now + 999999) / 1000000;
    return ms < 0 ? 0 : ms < dflt ? (int)ms : dflt;
}

static void accept_on(swd_worker *w, int lfd, unsigned iface, int hep)
{
    for (int k = 0; k < 64; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                accept_backoff(w, lfd, hep ? SWD_EP_HEP_LISTEN : SWD_EP_LISTEN, iface, errno);
            return;
        }
        if (w->cx->npaused == 0)
            w->cx->backoff_ns = CX_BACKOFF_MIN_NS; /* accepting again: the next backoff starts short */
        sw_addr peer;
        if (sw_addr_from_sockaddr((struct sockaddr *)&ss, &peer) != SW_OK) {
            close(fd);
            continue;
        }
        unsigned owner = sw_sock_owner(&peer, w->d->nworkers);
        if (owner != w->id) {
            /* without source steering: the owner of this peer takes it */
            swd_adopt_hdr h = {.fd = fd, .iface = iface, .peer = peer, .hep = (uint8_t)hep};
            if (swd_ring_put(w->d->workers[owner]->inbox[w->id], SWD_RING_ADOPT, &h, sizeof h, NULL,
                             0) != SW_OK) {
                w->c.conn_refused++;
                close(fd);
            } else {
                w->wake_mask |= UINT64_C(1) << owner;
            }
            continue;
        }
        sw_transport t = hep ? hep_transport(w, iface) : w->d->cfg->listens[iface].transport;
        if (conn_new(w, fd, &peer, t, iface, 0, hep))
            w->c.conn_accepted++;
    }
}

void swd_conn_accept(swd_worker *w, unsigned iface)
{
    accept_on(w, w->listen_fd[iface], iface, 0);
}

void swd_conn_accept_hep(swd_worker *w, int lfd, unsigned idx)
{
    accept_on(w, lfd, idx, 1);
}

/* ---- TLS identity ----------------------------------------------------------------- */

/* The partner for this connection under the current policy: the one whose
 * tls-identity names the certificate; a certificate naming nobody while the
 * address belongs to a partner that declares identities is a mismatch and
 * falls to the unknown zone (cat 0). */
static const sw_peer *conn_peer(swd_worker *w, swd_conn *c)
{
    if (!sw_stream_is_secure(c->st))
        return NULL;
    if (c->peer_gen == w->gen)
        return c->peer_cached;
    const sw_policy *p = w->gen->policy;
    const sw_peer *found = NULL;
    for (unsigned i = 0; i < c->nids && !found; i++)
        found = sw_policy_peer_by_tls_id(p, sw_str_make(c->ids[i], strlen(c->ids[i])));
    if (!found) {
        const sw_peer *by_addr = sw_policy_peer_for(p, &c->peer);
        found = by_addr->tls_ids ? p->unknown : NULL;
    }
    c->peer_gen = w->gen;
    c->peer_cached = found;
    return found;
}

static int tls_step(swd_worker *w, swd_conn *c)
{
    int r = sw_stream_handshake(c->st);
    if (r == SW_OK) {
        c->state = CS_OPEN;
        w->c.tls_handshakes++;
        c->nids = sw_stream_peer_ids(c->st, c->ids, SW_TLS_MAX_IDS);
        char as[SW_ADDR_STRLEN];
        if (sw_addr_format(&c->peer, as, sizeof as) < 0)
            as[0] = '\0';
        swd_debug("tls", "handshake done peer=%s version=%s identity=%s", as, sw_stream_version(c->st),
                  c->nids ? c->ids[0] : "-");
        if (!c->partner && c->admitted) {
            const sw_peer *p = conn_peer(w, c);
            if (p && !p->is_zone) { /* a partner known by its certificate only */
                swd_admit_promote(w->cx->admit, &c->peer);
                c->partner = 1;
            }
        }
        return 1;
    }
    if (r == SW_EAGAIN) {
        set_write_interest(w, c, (sw_stream_want(c->st) & SW_STREAM_WANT_WRITE) != 0);
        return 0;
    }
    char as[SW_ADDR_STRLEN];
    if (sw_addr_format(&c->peer, as, sizeof as) < 0)
        as[0] = '\0';
    w->c.tls_handshake_failed++;
    const char *why = sw_stream_error(c->st);
    swd_tls_failure(w->d, tls_slot(c), &c->peer, why); /* an event now and then, a metric always */
    uint64_t sup;
    if (!cx_log_due(w, cx_reason(w->cx->tls_log, CX_LOG_REASONS, why), &sup))
        w->c.tls_log_suppressed++;
    else
        swd_info("tls", "handshake failed peer=%s reason=\"%s\" (%llu failures for this reason "
                 "not logged since the last line)", as, why, (unsigned long long)sup);
    return -1;
}

/* ---- output ------------------------------------------------------------------------- */

/* Counts the messages the socket has now taken whole. */
static void pend_sent(swd_worker *w, swd_conn *c)
{
    while (c->npend && c->pend[c->pend_head].end <= c->wq_sent) {
        swd_count_sent(w, c->pend[c->pend_head].kind, c->iface);
        c->pend_head = (c->pend_head + 1) % c->pend_cap;
        c->npend--;
    }
}

/* Records a message about to be queued; -1 when the ledger is at its
 * ceiling (more messages than max-send-queue could hold at 32 bytes each:
 * a slow reader) or out of memory. */
static int pend_add(swd_worker *w, swd_conn *c, size_t len, unsigned kind)
{
    if (c->npend == c->pend_cap) {
        uint32_t ceiling = L(w)->max_send_queue / 32 + 16;
        uint32_t ncap = c->pend_cap ? c->pend_cap * 2 : 16;
        if (c->pend_cap >= ceiling)
            return -1;
        if (ncap > ceiling)
            ncap = ceiling;
        struct pend_msg *np = malloc((size_t)ncap * sizeof *np);
        if (!np)
            return -1;
        for (uint32_t i = 0; i < c->npend; i++)
            np[i] = c->pend[(c->pend_head + i) % c->pend_cap];
        free(c->pend);
        c->pend = np;
        c->pend_cap = ncap;
        c->pend_head = 0;
    }
    c->wq_total += len;
    c->pend[(c->pend_head + c->npend) % c->pend_cap] = (struct pend_msg){c->wq_total, (uint8_t)kind};
    c->npend++;
    return 0;
}

static int flush_out(swd_worker *w, swd_conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t n = sw_stream_write(c->st, c->wbuf + c->woff, c->wlen - c->woff);
        if (n == SW_EAGAIN) {
            set_write_interest(w, c, 1);
            return 0;
        }
        if (n <= 0)
            return -1;
        c->woff += (size_t)n;
        c->wq_sent += (uint64_t)n;
        w->c.tx_stream++;
        w->c.tx_bytes += (uint64_t)n;
        pend_sent(w, c);
    }
    c->woff = c->wlen = 0;
    set_write_interest(w, c, 0);
    return 0;
}

static int queue_out(swd_worker *w, swd_conn *c, const void *data, size_t len, unsigned kind)
{
    if (c->woff && c->woff == c->wlen)
        c->woff = c->wlen = 0;
    if (c->wlen - c->woff + len > L(w)->max_send_queue) {
        w->c.conn_closed_slow++;
        return -1; /* a slow reader: cut it off rather than buffer without end */
    }
    if (c->wlen + len > c->wcap) {
        if (c->woff) {
            memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
            c->wlen -= c->woff;
            c->woff = 0;
        }
        size_t cap = c->wcap ? c->wcap : 16384;
        while (cap < c->wlen + len)
            cap *= 2;
        char *nb = realloc(c->wbuf, cap);
        if (!nb)
            return -1;
        c->wbuf = nb;
        c->wcap = cap;
    }
    if (pend_add(w, c, len, kind) < 0) {
        w->c.conn_closed_slow++;
        return -1;
    }
    memcpy(c->wbuf + c->wlen, data, len);
    c->wlen += len;
    if (c->state == CS_OPEN && !c->want_write && flush_out(w, c) < 0)
        return -2; /* queued, but the connection failed: counted when it closes */
    return 0;
}

void swd_conn_send(swd_worker *w, const sw_addr *to, sw_transport t, unsigned iface, const void *data,
                   size_t len, unsigned kind)
{
    conn_key k = ckey(to, t);
    uint32_t *s = sw_table_get(w->conn_by_peer, &k);
    swd_conn *c = s ? w->conns[*s] : NULL;
    if (!c) {
        /* RFC 3261 §18.1.1 / §18.2.2: open a connection to the hop */
        char err[160];
        int fd = sw_sock_tcp_connect(to, err, sizeof err);
        if (fd < 0) {
            w->c.dropped_send++;
            swd_hop_failed(w, to);
            return;
        }
        c = conn_new(w, fd, to, t, iface, 1, 0);
        if (!c) {
            w->c.dropped_send++;
            return;
        }
        w->c.conn_outgoing++;
    }
    if (c->dead) {
        w->c.dropped_send++;
        return;
    }
    int r = queue_out(w, c, data, len, kind);
    if (r < 0) {
        if (r == -1)
            w->c.dropped_send++; /* not queued (a queued one counts when the connection closes) */
        conn_kill(w, c);
    }
}

/* ---- input ------------------------------------------------------------------------- */

/* Messages framed per connection and loop turn: one connection's
 * pipelined burst cannot hold the worker; what is left waits in
 * w->ready_slots for the next turn (swd_conn_resume), without new bytes. */
#define CONN_TURN_BUDGET 1024

static void mark_ready(swd_worker *w, swd_conn *c)
{
    if (c->ready || w->nready >= 2 * w->maxconns)
        return; /* cannot happen: each connection is listed at most twice (see swd_conn_resume) */
    c->ready = 1;
    w->ready_slots[w->nready++] = c->slot;
}

static int frame_input(swd_worker *w, swd_conn *c)
{
    if (c->hep) {
        int r = swd_sensor_hep_bytes(w, c->hs, c->rbuf, c->rlen);
        c->rlen = 0;
        c->msg_started = sw_hep_stream_pending(c->hs) ? (c->msg_started ? c->msg_started : w->now) : 0;
        return r;
    }
    /* the parser limits of the side this connection is on (limits side=…) */
    const swd_config *cfg = w->d->cfg;
    const sw_sip_limits *lim =
        &cfg->sip_limits[c->iface < cfg->nlistens ? w->d->ifaces[c->iface].side : SW_SIDE_INTERCONNECT];
    size_t off = 0;
    int rc = 0, k = 0;
    for (; k < CONN_TURN_BUDGET && off < c->rlen; k++) {
        size_t skip = 0;
        sw_sip_error err = {0};
        long n = sw_sip_framer_next(&c->fr, c->rbuf + off, c->rlen - off, lim, &skip, &err);
        if (n == SW_EINCOMPLETE) {
            off += skip; /* keep-alives go; the scan of the rest is kept */
            sw_sip_framer_consume(&c->fr, skip);
            break;
        }
        swd_msg_in in;
        memset(&in, 0, sizeof in);
        in.src = c->peer;
        in.dst = cfg->listens[c->iface < cfg->nlistens ? c->iface : 0].addr;
        in.transport = c->transport;
        in.iface = c->iface;
        in.peer = conn_peer(w, c);
        w->c.rx_stream++;
        if (n < 0) {
            /* no usable Content-Length, or over the side's limits: the
             * stream cannot be resynchronised; the engine reports it, then
             * the connection goes */
            in.framing_error = &err;
            w->c.conn_closed_framing++;
            size_t have = c->rlen - off - skip;
            swd_handle_message(w, c->rbuf + off + skip, have, &in);
            rc = -1;
            off = c->rlen;
            break;
        }
        swd_handle_message(w, c->rbuf + off + skip, (size_t)n, &in);
        sw_sip_framer_consume(&c->fr, skip + (size_t)n);
        off += skip + (size_t)n;
        if (c->dead)
            return -1;
    }
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    if (rc == 0 && k == CONN_TURN_BUDGET && c->rlen)
        mark_ready(w, c); /* the budget ran out: the rest on the next turn */
    c->msg_started = c->rlen ? (c->msg_started ? c->msg_started : w->now) : 0;
    return rc;
}

static int only_crlf(const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != '\r' && b[i] != '\n')
            return 0;
    return 1;
}

static int read_in(swd_worker *w, swd_conn *c)
{
    if (c->ready)
        return 0; /* a backlog is framed first (swd_conn_resume reads after it), so
                   * pipelined input never fills the buffer up to its ceiling */
    uint32_t cap = L(w)->max_conn_buffer;
    if (c->hep && cap < 65536 + 16)
        cap = 65536 + 16;
    for (int k = 0; k < 16; k++) { /* bounded per wake-up */
        if (c->rcap < cap && c->rlen == c->rcap) {
            size_t nc = c->rcap ? c->rcap * 2 : 16384;
            if (nc > cap)
                nc = cap;
            char *nb = realloc(c->rbuf, nc);
            if (!nb)
                return -1;
            c->rbuf = nb;
            c->rcap = nc;
        }
        if (c->rlen == c->rcap) {
            w->c.conn_closed_limit++; /* a message larger than the buffer ceiling */
            return -1;
        }
        ssize_t n = sw_stream_read(c->st, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (n == SW_EAGAIN) {
            if (sw_stream_want(c->st) & SW_STREAM_WANT_WRITE)
                set_write_interest(w, c, 1);
            return 0;
        }
        if (n <= 0)
            return -1;
        /* a stranger's keep-alives (CR/LF only) do not keep its slot */
        if (c->partner || !only_crlf(c->rbuf + c->rlen, (size_t)n))
            c->last_rx = w->now;
        c->rlen += (size_t)n;
        w->c.rx_bytes += (uint64_t)n;
        if (frame_input(w, c) < 0 || c->dead)
            return -1;
        if (c->ready)
            return 0; /* over budget: read more once the backlog is framed */
    }
    return 0;
}

void swd_conn_resume(swd_worker *w)
{
    /* Connections that run out of budget again are listed after the n
     * taken now (once more at most: their flag was cleared) and moved to
     * the front for the next turn. */
    uint32_t n = w->nready;
    for (uint32_t i = 0; i < n; i++) {
        swd_conn *c = w->conns[w->ready_slots[i]];
        if (!c || !c->ready)
            continue;
        c->ready = 0;
        if (c->dead)
            continue;
        /* the backlog first; once it is framed, what arrived meanwhile
         * (or waits decrypted inside TLS, which epoll cannot see) */
        if (frame_input(w, c) < 0 || c->dead || (!c->ready && read_in(w, c) < 0))
            conn_kill(w, c);
    }
    memmove(w->ready_slots, w->ready_slots + n, (w->nready - n) * sizeof *w->ready_slots);
    w->nready -= n;
}

void swd_conn_event(swd_worker *w, uint32_t slot, uint32_t events)
{
    if (slot >= w->maxconns || !w->conns[slot])
        return;
    swd_conn *c = w->conns[slot];
    if (c->dead)
        return;
    if (c->state == CS_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr ||
            (events & (EPOLLERR | EPOLLHUP))) {
            swd_hop_failed(w, &c->peer);
            w->c.conn_closed_error++;
            conn_close(w, c);
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        c->state = sw_stream_is_secure(c->st) ? CS_HANDSHAKE : CS_OPEN;
    }
    if (c->state == CS_HANDSHAKE) {
        int r = tls_step(w, c);
        if (r < 0) {
            conn_close(w, c);
            return;
        }
        if (r == 0)
            return;
        set_write_interest(w, c, c->wlen > c->woff);
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        int r = read_in(w, c);
        if (r < 0) {
            conn_close(w, c);
            return;
        }
    }
    if (c->state == CS_OPEN && c->wlen > c->woff && (events & EPOLLOUT || !c->want_write)) {
        if (flush_out(w, c) < 0) {
            w->c.conn_closed_error++;
            conn_close(w, c);
        }
    }
}

void swd_conn_sweep(swd_worker *w)
{
    const swd_limits *l = L(w);
    int64_t idle = (int64_t)l->idle_timeout_s * 1000000000;
    int64_t hs = (int64_t)l->handshake_timeout_s * 1000000000;
    int64_t msg = (int64_t)l->message_timeout_s * 1000000000;
    int64_t sidle = (int64_t)l->stranger_idle_timeout_s * 1000000000;
    if (sidle > idle)
        sidle = idle;
    for (uint32_t i = 0; i < w->maxconns; i++) {
        swd_conn *c = w->conns[i];
        if (!c)
            continue;
        if ((c->state != CS_OPEN && w->now - c->created > hs) || w->now - c->last_rx > idle) {
            w->c.conn_closed_idle++;
            conn_close(w, c);
        } else if (!c->partner && w->now - c->last_rx > sidle) {
            w->c.conn_closed_idle++;
            w->c.conn_closed_stranger_idle++;
            conn_close(w, c);
        } else if (c->msg_started && w->now - c->msg_started > msg) {
            w->c.conn_closed_slow++; /* slowloris: a message trickling in */
            conn_close(w, c);
        }
    }
}

void swd_conn_fini(swd_worker *w)
{
    for (uint32_t i = 0; w->conns && i < w->maxconns; i++)
        if (w->conns[i])
            conn_close(w, w->conns[i]);
    free(w->conns);
    free(w->free_slots);
    free(w->dead_slots);
    free(w->ready_slots);
    sw_table_free(w->conn_by_peer);
    if (w->cx) {
        if (w->cx->admit && swd_admit_unref(w->cx->admit))
            w->d->admit = NULL; /* the last worker's drop freed it */
        free(w->cx);
        w->cx = NULL;
    }
}
