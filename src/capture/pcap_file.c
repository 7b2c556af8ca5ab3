/* The capture reader: limits, construction, pcap/pcapng files through
 * libpcap, and the mapping of libpcap's errors to messages that name the
 * damaged frame. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "capture/capture_int.h"

/* Below this a stream buffer cannot hold a start line to judge; above it
 * 32-bit sequence arithmetic would wrap inside one buffer. */
#define SW__MIN_STREAM_BUFFER 256u
#define SW__MAX_STREAM_BUFFER (1u << 30)

void sw_capture_limits_default(sw_capture_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->max_frag_sets = 512;
    lim->max_frag_bytes = 65535;
    lim->frag_timeout_ms = 30000;
    lim->max_tcp_streams = 4096;
    lim->max_stream_buffer = 256 * 1024;
    lim->tcp_idle_timeout_ms = 600000;
    sw_sip_limits_default(&lim->sip);
    lim->max_tcp_memory = 64ull * 1024 * 1024;
}

sw_capture *sw_capture_new(const sw_capture_limits *lim)
{
    sw_capture *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (lim)
        c->lim = *lim;
    else
        sw_capture_limits_default(&c->lim);
    if (c->lim.max_stream_buffer < SW__MIN_STREAM_BUFFER)
        c->lim.max_stream_buffer = SW__MIN_STREAM_BUFFER;
    if (c->lim.max_stream_buffer > SW__MAX_STREAM_BUFFER)
        c->lim.max_stream_buffer = SW__MAX_STREAM_BUFFER;
    if (c->lim.max_frag_bytes > SW__MAX_STREAM_BUFFER)
        c->lim.max_frag_bytes = SW__MAX_STREAM_BUFFER;
    /* A fixed seed keeps every run over the same file identical (the
     * endpoint set's replacement order depends on bucket placement).  The
     * set is small and bounded, so a crafted file can at worst crowd one
     * bucket, not grow anything.  The reassembly tables pick random seeds:
     * what they do does not depend on where keys hash. */
    c->seed = 0x5157a11c0ffee5edULL;
    c->dlt = -1;
    if (sw__frag_init(c) != SW_OK || sw__tcp_init(c) != SW_OK) {
        sw_capture_free(c);
        return NULL;
    }
    return c;
}

void sw_capture_set_tls_cb(sw_capture *c, sw_capture_tls_cb cb, void *ctx)
{
    c->tls_cb = cb;
    c->tls_ctx = ctx;
}

void sw_capture_free(sw_capture *c)
{
    if (!c)
        return;
    if (c->pcap)
        pcap_close(c->pcap);
    sw__frag_destroy(c);
    sw__tcp_destroy(c);
    free(c);
}

/* libpcap's messages for files it cannot open, made readable. */
static void open_error(const char *path, const char *pcap_msg, char *errbuf, size_t errlen)
{
    if (!errbuf || errlen == 0)
        return;
    if (strstr(pcap_msg, "unknown file format"))
        snprintf(errbuf, errlen, "%s: not a pcap or pcapng file", path);
    else if (strstr(pcap_msg, "truncated"))
        snprintf(errbuf, errlen, "%s: truncated file header (%s)", path, pcap_msg);
    else if (strncmp(pcap_msg, path, strlen(path)) == 0)
        snprintf(errbuf, errlen, "%s", pcap_msg); /* "path: No such file or directory" */
    else
        snprintf(errbuf, errlen, "%s: %s", path, pcap_msg);
}

sw_capture *sw_capture_open_file(const char *path, const sw_capture_limits *lim, char *errbuf,
                                 size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!p) {
        open_error(path, perr[0] ? perr : "cannot open", errbuf, errlen);
        return NULL;
    }
    sw_capture *c = sw_capture_new(lim);
    if (!c) {
        pcap_close(p);
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: out of memory", path);
        return NULL;
    }
    c->pcap = p;
    c->dlt = pcap_datalink(p);
    return c;
}

/* Turns libpcap's error for a bad record into SW_ETRUNC / SW_EFORMAT and a
 * message naming the frame it could not read. */
static int record_error(sw_capture *c, const char *pcap_msg)
{
    uint64_t frame = c->stats.frames + 1;
    if (strstr(pcap_msg, "truncated")) {
        const char *where = strstr(pcap_msg, "header bytes") ? "the record header"
                            : strstr(pcap_msg, "pcapng")     ? "a pcapng block"
                                                             : "the packet data";
        snprintf(c->err, sizeof c->err, "frame %" PRIu64 ": truncated record (file ends inside %s)",
                 frame, where);
        return SW_ETRUNC;
    }
    snprintf(c->err, sizeof c->err, "frame %" PRIu64 ": damaged record (%s)", frame, pcap_msg);
    return SW_EFORMAT;
}

int64_t sw_capture_ts_ns(int64_t sec, int64_t nsec, int *clamped)
{
    const int64_t max_s = SW_CAPTURE_TS_MAX_NS / 1000000000;
    if (nsec < 0 || nsec >= 1000000000) { /* not a fraction of a second: keep the seconds */
        nsec = 0;
        if (clamped)
            *clamped = 1;
    }
    if (sec < 0) {
        if (clamped)
            *clamped = 1;
        return 0;
    }
    if (sec >= max_s) {
        if (clamped && (sec > max_s || nsec > 0))
            *clamped = 1;
        return SW_CAPTURE_TS_MAX_NS;
    }
    return sec * 1000000000 + nsec;
}

int sw_capture_run(sw_capture *c, sw_capture_cb cb, void *ctx)
{
    if (!c->pcap) {
        snprintf(c->err, sizeof c->err, "no capture file to read");
        return SW_EUSAGE;
    }
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int r = pcap_next_ex(c->pcap, &h, &data);
        if (r == 1) {
            /* Opened with nanosecond precision: tv_usec holds nanoseconds
             * for pcap (either resolution, scaled) and pcapng alike. */
            int clamped = 0;
            int64_t ts = sw_capture_ts_ns((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec, &clamped);
            c->stats.bad_timestamps += (uint64_t)clamped;
            int rc = sw_capture_feed_frame(c, c->dlt, data, h->caplen, h->len, ts, cb, ctx);
            if (rc)
                return rc;
            continue;
        }
        if (r == 0)
            continue; /* live-capture timeout; not produced by files */
        int err = SW_OK;
        if (r != PCAP_ERROR_BREAK)
            err = record_error(c, pcap_geterr(c->pcap));
        /* Whatever was read before the end or the damage is delivered. */
        int rc = sw_capture_flush(c, cb, ctx);
        return rc ? rc : err;
    }
}

int sw_capture_flush(sw_capture *c, sw_capture_cb cb, void *ctx)
{
    sw__frame f = {.no = c->stats.frames, .ts_ns = 0, .vlan = 0, .cb = cb, .ctx = ctx};
    sw__frag_clear(c);
    return sw__tcp_flush(c, &f);
}

const char *sw_capture_error(const sw_capture *c) { return c->err; }

const sw_capture_stats *sw_capture_get_stats(const sw_capture *c) { return &c->stats; }
