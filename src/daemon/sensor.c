/* The passive inputs of sipwalld: live capture (libpcap) and HEP v3 over
 * UDP and TCP from existing capture agents.  Messages go to the engine
 * (events only, nothing is forwarded).
 *
 * HEP sockets exist once per worker (SO_REUSEPORT); each capture belongs
 * to one worker (capture i to worker i mod n) so that its TCP streams are
 * reassembled in one place.  The kernel capture ring is the bounded queue;
 * each loop turn takes at most SENSOR_FRAMES_PER_TURN frames from it. */
#include "daemon/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sipwall/sensor.h"

#define SENSOR_FRAMES_PER_TURN 512

typedef struct sensor {
    int hep_udp[SWD_MAX_HEPS];
    int hep_listen[SWD_MAX_HEPS];
    sw_hep_input *hep[SWD_MAX_HEPS];
    sw_live *live[SWD_MAX_CAPTURES];
    uint8_t nlive;
    uint64_t last_kernel_drops[SWD_MAX_CAPTURES];
    uint64_t last_hep_bad[SWD_MAX_HEPS];
} sensor;

static sensor *S(swd_worker *w) { return (sensor *)w->sensor; }

/* ---- delivery ------------------------------------------------------------------- */

typedef struct deliver_ctx {
    swd_worker *w;
    uint8_t datagram_framing; /* HEP payloads are whole messages whatever the transport */
} deliver_ctx;

static int deliver(void *ctx, const sw_capture_msg *m)
{
    deliver_ctx *dc = ctx;
    swd_worker *w = dc->w;
    swd_msg_in in;
    memset(&in, 0, sizeof in);
    in.src = m->src;
    in.dst = m->dst;
    in.transport = m->transport;
    in.whole = dc->datagram_framing;
    in.sensor = 1;
    in.framing_error = m->framing_error.code ? &m->framing_error : NULL;
    /* The capture's time is the agent's claim (a HEP sender sets any value):
     * evidence in the events, never the engine's clock, which stays the
     * daemon's own (w->now), so that windows, caps and blocks cannot be
     * steered from outside. */
    in.capture_ts_ns = m->ts_ns;
    w->c.sensor_messages++;
    swd_handle_message(w, m->data, m->len, &in);
    return 0;
}

/* ---- creation ------------------------------------------------------------------- */

static sensor *sensor_new(void)
{
    sensor *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (unsigned i = 0; i < SWD_MAX_HEPS; i++)
        s->hep_udp[i] = s->hep_listen[i] = -1;
    return s;
}

int swd_sensor_create(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *cfg = d->cfg;
    for (unsigned id = 0; id < d->nworkers; id++)
        if (!(d->workers[id]->sensor = sensor_new())) {
            snprintf(err, errlen, "out of memory");
            return SW_ENOMEM;
        }
    sw_sock_opts o = {.reuseport = 1, .rcvbuf = cfg->limits.socket_buffer, .backlog = 128};
    for (unsigned h = 0; h < cfg->nheps; h++) {
        const swd_hep *hp = &cfg->heps[h];
        for (unsigned id = 0; id < d->nworkers; id++) {
            swd_worker *w = d->workers[id];
            sw_hep_input_config hc = {.auth_key = hp->auth_key};
            if (!(S(w)->hep[h] = sw_hep_input_new(&hc))) {
                snprintf(err, errlen, "out of memory");
                return SW_ENOMEM;
            }
            int fd = hp->transport == SW_TRANSPORT_UDP ? sw_sock_udp(&hp->addr, &o, err, errlen)
                                                       : sw_sock_tcp_listen(&hp->addr, &o, err, errlen);
            if (fd < 0)
                return SW_EIO;
            if (hp->transport == SW_TRANSPORT_UDP)
                S(w)->hep_udp[h] = fd;
            else
                S(w)->hep_listen[h] = fd;
            if (swd_ep_add(w, fd, EPOLLIN,
                           hp->transport == SW_TRANSPORT_UDP ? SWD_EP_HEP_UDP : SWD_EP_HEP_LISTEN, h) < 0) {
                snprintf(err, errlen, "epoll: %s", strerror(errno));
                return SW_EIO;
            }
        }
        char as[SW_ADDR_STRLEN];
        if (sw_addr_format(&hp->addr, as, sizeof as) < 0)
            as[0] = '\0';
        swd_info("sensor", "HEP input %s %s%s", hp->tls ? "tls" : sw_transport_name(hp->transport), as,
                 hp->auth_key ? " (auth key required)" : "");
    }
    for (unsigned i = 0; i < cfg->ncaptures; i++) {
        const swd_capture *cp = &cfg->captures[i];
        swd_worker *w = d->workers[i % d->nworkers];
        sw_live_config lc = {.iface = cp->iface, .filter = cp->filter, .snaplen = (int)cp->snaplen,
                             .buffer_bytes = (int)cp->buffer, .immediate = 1};
        sw_live *l = NULL;
        char e2[256];
        if (sw_live_open(&lc, &l, e2, sizeof e2) != SW_OK) {
            snprintf(err, errlen, "%s:%d: capture %s: %s", cfg->path, cp->line, cp->iface, e2);
            return SW_EIO;
        }
        S(w)->live[i] = l;
        if (swd_ep_add(w, sw_live_fd(l), EPOLLIN, SWD_EP_CAPTURE, i) < 0) {
            snprintf(err, errlen, "epoll: %s", strerror(errno));
            return SW_EIO;
        }
        swd_info("sensor", "capturing on %s filter=\"%s\" (worker %u)", cp->iface,
                 cp->filter ? cp->filter : "", w->id);
    }
    return SW_OK;
}

/* ---- events ----------------------------------------------------------------------- */

static void on_hep_udp(swd_worker *w, unsigned h)
{
    deliver_ctx dc = {w, 1};
    for (int k = 0; k < 256; k++) {
        ssize_t n = recv(S(w)->hep_udp[h], w->rxbuf, SWD_MAX_DGRAM, MSG_DONTWAIT);
        if (n < 0)
            return;
        w->c.hep_packets++;
        w->now = swd_now_ns();
        if (sw_hep_datagram(S(w)->hep[h], (const uint8_t *)w->rxbuf, (size_t)n, w->now, deliver, &dc) <
            0)
            w->c.hep_bad++;
    }
}

void swd_sensor_event(swd_worker *w, unsigned kind, uint32_t idx, uint32_t events)
{
    (void)events;
    sensor *s = S(w);
    if (!s)
        return;
    if (kind == SWD_EP_HEP_UDP && idx < SWD_MAX_HEPS && s->hep_udp[idx] >= 0) {
        on_hep_udp(w, idx);
    } else if (kind == SWD_EP_HEP_LISTEN && idx < SWD_MAX_HEPS && s->hep_listen[idx] >= 0) {
        swd_conn_accept_hep(w, s->hep_listen[idx], idx);
    } else if (kind == SWD_EP_CAPTURE && idx < SWD_MAX_CAPTURES && s->live[idx]) {
        deliver_ctx dc = {w, 0};
        long n = sw_live_dispatch(s->live[idx], SENSOR_FRAMES_PER_TURN, deliver, &dc);
        if (n < 0)
            swd_warn("sensor", "capture %s: %s", w->d->cfg->captures[idx].iface,
                     sw_live_error(s->live[idx]));
    }
}

struct sw_hep_stream *swd_sensor_hep_stream_new(swd_worker *w, unsigned hep_idx)
{
    sensor *s = S(w);
    if (!s || hep_idx >= SWD_MAX_HEPS || !s->hep[hep_idx])
        return NULL;
    return sw_hep_stream_new(s->hep[hep_idx]);
}

int swd_sensor_hep_bytes(swd_worker *w, struct sw_hep_stream *st, const char *b, size_t n)
{
    deliver_ctx dc = {w, 1};
    int r = sw_hep_stream_feed(st, (const uint8_t *)b, n, w->now, deliver, &dc);
    if (r < 0) {
        w->c.hep_bad++;
        swd_info("sensor", "HEP stream closed: %s", sw_hep_stream_error(st)->reason);
        return -1;
    }
    return 0;
}

/* Once a second: capture drops and HEP damage go to the log (rate-limited
 * by the tick itself). */
void swd_sensor_tick(swd_worker *w)
{
    sensor *s = S(w);
    if (!s)
        return;
    for (unsigned i = 0; i < SWD_MAX_CAPTURES; i++) {
        if (!s->live[i])
            continue;
        sw_live_stats st;
        if (sw_live_get_stats(s->live[i], &st) == SW_OK && st.kernel_drops > s->last_kernel_drops[i]) {
            swd_warn("sensor", "capture %s: the kernel dropped %llu frames (total %llu)",
                     w->d->cfg->captures[i].iface,
                     (unsigned long long)(st.kernel_drops - s->last_kernel_drops[i]),
                     (unsigned long long)st.kernel_drops);
            s->last_kernel_drops[i] = st.kernel_drops;
        }
    }
    uint64_t auth_failed = 0;
    for (unsigned h = 0; h < SWD_MAX_HEPS; h++)
        if (s->hep[h])
            auth_failed += sw_hep_input_get_stats(s->hep[h])->auth_failed;
    w->c.hep_auth_failed = auth_failed;
    for (unsigned h = 0; h < SWD_MAX_HEPS; h++) {
        if (!s->hep[h])
            continue;
        const sw_hep_stats *hs = sw_hep_input_get_stats(s->hep[h]);
        uint64_t bad = hs->bad + hs->auth_failed;
        if (bad > s->last_hep_bad[h]) {
            const sw_sip_error *e = sw_hep_input_error(s->hep[h]);
            swd_warn("sensor", "HEP input: %llu bad or unauthenticated packets (last: %s)",
                     (unsigned long long)(bad - s->last_hep_bad[h]),
                     e->code ? e->reason : "wrong or missing auth key");
            s->last_hep_bad[h] = bad;
        }
    }
}

void swd_sensor_flush(swd_worker *w)
{
    sensor *s = S(w);
    if (!s)
        return;
    deliver_ctx dc = {w, 0};
    for (unsigned i = 0; i < SWD_MAX_CAPTURES; i++)
        if (s->live[i])
            (void)sw_live_flush(s->live[i], deliver, &dc);
}

void swd_sensor_fini(swd_worker *w)
{
    sensor *s = S(w);
    if (!s)
        return;
    for (unsigned i = 0; i < SWD_MAX_HEPS; i++) {
        if (s->hep_udp[i] >= 0)
            close(s->hep_udp[i]);
        if (s->hep_listen[i] >= 0)
            close(s->hep_listen[i]);
    }
    for (unsigned i = 0; i < SWD_MAX_CAPTURES; i++)
        sw_live_close(s->live[i]);
    w->sensor = NULL;
    /* HEP inputs outlive their streams: conn_fini ran first */
    for (unsigned i = 0; i < SWD_MAX_HEPS; i++)
        sw_hep_input_free(s->hep[i]);
    free(s);
}
