/* Live capture through libpcap: a non-blocking handle the daemon polls, fed
 * frame by frame into the same decoder and reassemblers as capture files.
 *
 * The kernel ring is the bounded queue: sw_live_dispatch takes at most
 * max_frames from it per call, and what does not fit in the ring is dropped
 * by the kernel and counted (kernel_drops). */
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/sensor.h"

#define LIVE_DEFAULT_SNAPLEN 262144
#define LIVE_DEFAULT_TIMEOUT_MS 100

struct sw_live {
    pcap_t *p;
    sw_capture *cap;
    int dlt;
    int nano; /* timestamps in ns (else µs) */
    uint64_t frames;
    /* pcap_stats counters are 32-bit: widened by adding the differences. */
    unsigned last_recv, last_drop, last_ifdrop;
    uint64_t recv, drop, ifdrop;
    /* the dispatch in progress */
    sw_capture_cb cb;
    void *ctx;
    int cb_rc;
    long batch;
    char err[PCAP_ERRBUF_SIZE + 128];
};

static int open_fail(int code, char *errbuf, size_t errlen, const char *fmt, ...) SW_PRINTF(4, 5);
static int open_fail(int code, char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* pcap_activate's failures by kind. */
static int activate_error(int rc)
{
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return SW_ENOTFOUND;
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return SW_EAUTH;
    default:
        return SW_EIO;
    }
}

int sw_live_open(const sw_live_config *cfg, sw_live **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!cfg->iface || !cfg->iface[0])
        return open_fail(SW_EUSAGE, errbuf, errlen, "no capture interface given");
    if (cfg->snaplen < 0 || cfg->buffer_bytes < 0 || cfg->timeout_ms < 0)
        return open_fail(SW_EUSAGE, errbuf, errlen, "%s: negative snaplen, buffer size or timeout",
                         cfg->iface);

    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(cfg->iface, perr);
    if (!p)
        return open_fail(SW_EIO, errbuf, errlen, "%s: %s", cfg->iface, perr);
    /* The setters only fail on an activated handle; this one is not. */
    pcap_set_snaplen(p, cfg->snaplen ? cfg->snaplen : LIVE_DEFAULT_SNAPLEN);
    pcap_set_promisc(p, cfg->promisc ? 1 : 0);
    pcap_set_timeout(p, cfg->timeout_ms ? cfg->timeout_ms : LIVE_DEFAULT_TIMEOUT_MS);
    if (cfg->immediate)
        pcap_set_immediate_mode(p, 1);
    if (cfg->buffer_bytes)
        pcap_set_buffer_size(p, cfg->buffer_bytes);
    /* Nanoseconds where the platform has them; microseconds otherwise. */
    if (pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) != 0)
        pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);

    int rc = pcap_activate(p);
    if (rc < 0) {
        char msg[PCAP_ERRBUF_SIZE + 64];
        const char *status = pcap_statustostr(rc), *detail = pcap_geterr(p);
        if (!detail[0] || strstr(detail, status))
            snprintf(msg, sizeof msg, "%s", detail[0] ? detail : status);
        else
            snprintf(msg, sizeof msg, "%s: %s", status, detail);
        int code = activate_error(rc);
        open_fail(code, errbuf, errlen, "cannot capture on %s: %s", cfg->iface, msg);
        pcap_close(p);
        return code;
    }
    if (pcap_setnonblock(p, 1, perr) == PCAP_ERROR) {
        open_fail(SW_EIO, errbuf, errlen, "%s: cannot set non-blocking mode: %s", cfg->iface,
                  perr);
        pcap_close(p);
        return SW_EIO;
    }
    if (cfg->filter && cfg->filter[0]) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, cfg->filter, 1, PCAP_NETMASK_UNKNOWN) == PCAP_ERROR) {
            open_fail(SW_EINVAL, errbuf, errlen, "bad capture filter \"%s\": %s", cfg->filter,
                      pcap_geterr(p));
            pcap_close(p);
            return SW_EINVAL;
        }
        int set = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (set == PCAP_ERROR) {
            open_fail(SW_EIO, errbuf, errlen, "%s: cannot install the filter: %s", cfg->iface,
                      pcap_geterr(p));
            pcap_close(p);
            return SW_EIO;
        }
    }

    sw_live *l = calloc(1, sizeof *l);
    sw_capture *cap = l ? sw_capture_new(cfg->limits) : NULL;
    if (!cap) {
        free(l);
        pcap_close(p);
        return open_fail(SW_ENOMEM, errbuf, errlen, "%s: out of memory", cfg->iface);
    }
    l->p = p;
    l->cap = cap;
    l->dlt = pcap_datalink(p);
    l->nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    *out = l;
    return SW_OK;
}

int sw_live_fd(const sw_live *l) { return pcap_get_selectable_fd(l->p); }

int sw_live_poll_timeout_ms(const sw_live *l)
{
    const struct timeval *tv = pcap_get_required_select_timeout(l->p);
    if (!tv)
        return -1;
    long ms = (long)tv->tv_sec * 1000 + ((long)tv->tv_usec + 999) / 1000;
    return ms > 1000000 ? 1000000 : (int)ms;
}

int sw_live_datalink(const sw_live *l) { return l->dlt; }

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    sw_live *l = (sw_live *)(void *)user;
    if (l->cb_rc)
        return; /* the callback asked to stop; pcap_breakloop is pending */
    int64_t frac = l->nano ? (int64_t)h->ts.tv_usec : (int64_t)h->ts.tv_usec * 1000;
    int64_t ts = sw_capture_ts_ns((int64_t)h->ts.tv_sec, frac, NULL);
    l->frames++;
    l->batch++;
    int rc = sw_capture_feed_frame(l->cap, l->dlt, data, h->caplen, h->len, ts, l->cb, l->ctx);
    if (rc) {
        l->cb_rc = rc;
        pcap_breakloop(l->p);
    }
}

long sw_live_dispatch(sw_live *l, int max_frames, sw_capture_cb cb, void *ctx)
{
    /* 0 or -1 would mean "everything in the buffer" to libpcap: not bounded. */
    if (max_frames < 1)
        max_frames = 1;
    l->cb = cb;
    l->ctx = ctx;
    l->cb_rc = 0;
    l->batch = 0;
    int r = pcap_dispatch(l->p, max_frames, on_frame, (u_char *)(void *)l);
    l->cb = NULL;
    l->ctx = NULL;
    if (r == PCAP_ERROR) {
        snprintf(l->err, sizeof l->err, "capture failed: %s", pcap_geterr(l->p));
        return SW_EIO;
    }
    return l->batch; /* PCAP_ERROR_BREAK: the callback stopped it */
}

static void widen(uint64_t *total, unsigned *last, unsigned now)
{
    *total += (unsigned)(now - *last);
    *last = now;
}

int sw_live_get_stats(sw_live *l, sw_live_stats *out)
{
    int rc = SW_OK;
    struct pcap_stat ps;
    memset(&ps, 0, sizeof ps);
    if (pcap_stats(l->p, &ps) == 0) {
        widen(&l->recv, &l->last_recv, ps.ps_recv);
        widen(&l->drop, &l->last_drop, ps.ps_drop);
        widen(&l->ifdrop, &l->last_ifdrop, ps.ps_ifdrop);
    } else {
        snprintf(l->err, sizeof l->err, "pcap_stats failed: %s", pcap_geterr(l->p));
        rc = SW_EIO;
    }
    memset(out, 0, sizeof *out);
    out->frames = l->frames;
    out->received = l->recv;
    out->kernel_drops = l->drop;
    out->if_drops = l->ifdrop;
    out->capture = *sw_capture_get_stats(l->cap);
    return rc;
}

int sw_live_flush(sw_live *l, sw_capture_cb cb, void *ctx)
{
    return sw_capture_flush(l->cap, cb, ctx);
}

const char *sw_live_error(const sw_live *l) { return l->err; }

void sw_live_close(sw_live *l)
{
    if (!l)
        return;
    pcap_close(l->p);
    sw_capture_free(l->cap);
    free(l);
}
