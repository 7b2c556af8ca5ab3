/* Stream connections (TCP, TLS) of one worker: accept with limits, TLS
 * handshakes and the partner's certificate identity, SIP framing on
 * input, bounded send queues, outgoing connections to next hops, and the
 * timeouts that defend against idle, slow-reading and slowloris peers.
 *
 * Bounds: at most limits.max_connections / workers connections per
 * worker and limits.max_connections_per_ip per source; an incomplete
 * message may hold at most max_conn_buffer bytes and must complete
 * within message_timeout; a peer that does not read gets at most
 * max_send_queue bytes queued before it is cut off. */
#include "daemon/worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sipwall/sensor.h"

enum { CS_CONNECTING = 1, CS_HANDSHAKE = 2, CS_OPEN = 3 };

struct swd_conn {
    int fd;
    uint32_t slot;
    uint8_t state;
    uint8_t outgoing;
    uint8_t hep;           /* a HEP input stream (sensor), not SIP */
    uint8_t want_write;    /* EPOLLOUT armed */
    uint8_t dead;          /* closing at the end of this loop turn (it may be on the stack) */
    sw_transport transport;
    unsigned iface;
    sw_addr peer;
    SSL *ssl;
    int64_t created, last_rx, msg_started;
    char *rbuf;
    size_t rlen, rcap;
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

typedef struct ip_key {
    uint8_t family, pad[3];
    uint8_t ip[16];
} ip_key;

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
    sw_table_config tc = {.key_size = sizeof(conn_key), .value_size = sizeof(uint32_t),
                          .capacity = per};
    w->conn_by_peer = sw_table_new(&tc);
    tc.key_size = sizeof(ip_key);
    w->conns_per_ip = sw_table_new(&tc);
    if (!w->conns || !w->free_slots || !w->dead_slots || !w->conn_by_peer || !w->conns_per_ip) {
        snprintf(err, errlen, "out of memory for %u connections", per);
        return SW_ENOMEM;
    }
    for (uint32_t i = 0; i < per; i++)
        w->free_slots[w->nfree++] = per - 1 - i;
    return SW_OK;
}

static ip_key ipkey(const sw_addr *a)
{
    ip_key k;
    memset(&k, 0, sizeof k);
    k.family = a->family;
    memcpy(k.ip, a->ip, 16);
    return k;
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
    ip_key ik = ipkey(&c->peer);
    uint32_t *cnt = sw_table_get(w->conns_per_ip, &ik);
    if (cnt && --*cnt == 0)
        sw_table_remove(w->conns_per_ip, &ik);
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->fd >= 0)
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

static swd_conn *conn_new(swd_worker *w, int fd, const sw_addr *peer, sw_transport t, unsigned iface,
                          int outgoing, int hep)
{
    ip_key ik = ipkey(peer);
    uint32_t *cnt = sw_table_get(w->conns_per_ip, &ik);
    if (w->nfree == 0 || (!outgoing && cnt && *cnt >= L(w)->max_connections_per_ip)) {
        w->c.conn_refused++;
        close(fd);
        return NULL;
    }
    swd_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->slot = w->free_slots[--w->nfree];
    c->transport = t;
    c->iface = iface;
    c->peer = *peer;
    c->outgoing = (uint8_t)outgoing;
    c->hep = (uint8_t)hep;
    c->created = c->last_rx = w->now;
    c->state = outgoing ? CS_CONNECTING : (t == SW_TRANSPORT_TLS ? CS_HANDSHAKE : CS_OPEN);
    w->conns[c->slot] = c;
    w->nconns++;
    int created;
    uint32_t *pc = sw_table_upsert(w->conns_per_ip, &ik, &created);
    if (pc)
        *pc = created ? 1 : *pc + 1;
    conn_key k = ckey(peer, t);
    uint32_t *s = sw_table_upsert(w->conn_by_peer, &k, &created);
    if (s)
        *s = c->slot;
    if (hep && !(c->hs = swd_sensor_hep_stream_new(w, iface))) {
        conn_close(w, c);
        return NULL;
    }
    if (t == SW_TRANSPORT_TLS) {
        SSL_CTX *ctx = outgoing ? w->d->tls_client : w->d->tls_server[iface];
        if (!ctx || !(c->ssl = SSL_new(ctx)) || SSL_set_fd(c->ssl, fd) != 1) {
            w->c.tls_handshake_failed++;
            conn_close(w, c);
            return NULL;
        }
        if (outgoing)
            SSL_set_connect_state(c->ssl);
        else
            SSL_set_accept_state(c->ssl);
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

void swd_conn_adopt(swd_worker *w, const swd_adopt_hdr *h)
{
    sw_transport t = h->hep ? SW_TRANSPORT_TCP : w->d->cfg->listens[h->iface].transport;
    if (conn_new(w, h->fd, &h->peer, t, h->iface, 0, h->hep))
        w->c.conn_accepted++;
}

static void accept_on(swd_worker *w, int lfd, unsigned iface, int hep)
{
    for (int k = 0; k < 64; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
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
        sw_transport t = hep ? SW_TRANSPORT_TCP : w->d->cfg->listens[iface].transport;
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
    if (!c->ssl)
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
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->state = CS_OPEN;
        c->nids = sw_tls_peer_ids(c->ssl, c->ids, SW_TLS_MAX_IDS);
        char as[SW_ADDR_STRLEN];
        if (sw_addr_format(&c->peer, as, sizeof as) < 0)
            as[0] = '\0';
        swd_debug("tls", "handshake done peer=%s version=%s identity=%s", as, SSL_get_version(c->ssl),
                  c->nids ? c->ids[0] : "-");
        return 1;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        set_write_interest(w, c, 0);
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        set_write_interest(w, c, 1);
        return 0;
    }
    char as[SW_ADDR_STRLEN], reason[160];
    if (sw_addr_format(&c->peer, as, sizeof as) < 0)
        as[0] = '\0';
    ERR_error_string_n(ERR_peek_last_error(), reason, sizeof reason);
    swd_info("tls", "handshake failed peer=%s reason=\"%s\"", as, reason);
    w->c.tls_handshake_failed++;
    return -1;
}

/* ---- output ------------------------------------------------------------------------- */

/* Counts the messages the socket has now taken whole. */
static void pend_sent(swd_worker *w, swd_conn *c)
{
    while (c->npend && c->pend[c->pend_head].end <= c->wq_sent) {
        swd_count_sent(w, c->pend[c->pend_head].kind);
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
        ssize_t n;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_write(c->ssl, c->wbuf + c->woff, (int)(c->wlen - c->woff));
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    set_write_interest(w, c, 1);
                    return 0;
                }
                return -1;
            }
            n = r;
        } else {
            n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    set_write_interest(w, c, 1);
                    return 0;
                }
                return -1;
            }
        }
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

static int frame_input(swd_worker *w, swd_conn *c)
{
    if (c->hep) {
        int r = swd_sensor_hep_bytes(w, c->hs, c->rbuf, c->rlen);
        c->rlen = 0;
        c->msg_started = sw_hep_stream_pending(c->hs) ? (c->msg_started ? c->msg_started : w->now) : 0;
        return r;
    }
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    size_t off = 0;
    int rc = 0;
    for (int k = 0; k < 1024 && off < c->rlen; k++) {
        size_t skip = 0;
        sw_sip_error err = {0};
        long n = sw_sip_frame(c->rbuf + off, c->rlen - off, &lim, &skip, &err);
        if (n == SW_EINCOMPLETE) {
            off += skip;
            break;
        }
        swd_msg_in in;
        memset(&in, 0, sizeof in);
        in.src = c->peer;
        in.dst = w->d->cfg->listens[c->iface < w->d->cfg->nlistens ? c->iface : 0].addr;
        in.transport = c->transport;
        in.iface = c->iface;
        in.peer = conn_peer(w, c);
        w->c.rx_stream++;
        if (n < 0) {
            /* no usable Content-Length: the stream cannot be resynchronised;
             * the engine reports it, then the connection goes */
            in.framing_error = &err;
            w->c.conn_closed_framing++;
            size_t have = c->rlen - off - skip;
            swd_handle_message(w, c->rbuf + off + skip, have, &in);
            rc = -1;
            off = c->rlen;
            break;
        }
        swd_handle_message(w, c->rbuf + off + skip, (size_t)n, &in);
        off += skip + (size_t)n;
        if (c->dead)
            return -1;
    }
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    c->msg_started = c->rlen ? (c->msg_started ? c->msg_started : w->now) : 0;
    return rc;
}

static int read_in(swd_worker *w, swd_conn *c)
{
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
        ssize_t n;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ)
                    return 0;
                if (e == SSL_ERROR_WANT_WRITE) {
                    set_write_interest(w, c, 1);
                    return 0;
                }
                return -1;
            }
            n = r;
        } else {
            n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
            if (n == 0)
                return -1;
            if (n < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        c->rlen += (size_t)n;
        c->last_rx = w->now;
        w->c.rx_bytes += (uint64_t)n;
        if (frame_input(w, c) < 0 || c->dead)
            return -1;
    }
    return 0;
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
        c->state = c->ssl ? CS_HANDSHAKE : CS_OPEN;
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
    for (uint32_t i = 0; i < w->maxconns; i++) {
        swd_conn *c = w->conns[i];
        if (!c)
            continue;
        if ((c->state != CS_OPEN && w->now - c->created > hs) || w->now - c->last_rx > idle) {
            w->c.conn_closed_idle++;
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
    sw_table_free(w->conn_by_peer);
    sw_table_free(w->conns_per_ip);
}
