/* Shared by the capture tests: a callback that records every delivered
 * message (copies, since the data is only valid during the callback), and
 * small packet builders for sw_capture_feed_frame. */
#ifndef SW_CAPTURE_TEST_UTIL_H
#define SW_CAPTURE_TEST_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/capture.h"

#define CT_MAX_MSGS 256

typedef struct ct_msg {
    char call_id[64];   /* "" when the message has none */
    char *data;         /* copy of the message bytes */
    size_t len;
    uint64_t frame;
    int64_t ts_ns;
    char src[SW_ADDR_STRLEN], dst[SW_ADDR_STRLEN];
    sw_transport transport;
    uint16_t vlan;
    uint8_t reassembled;
    uint8_t by_endpoint;
    int ferr;           /* framing_error.code */
    const char *freason;
    uint8_t ntls_ids;   /* TLS: the sender's certificate identities, the first and third */
    char tls_id0[SW_CAPTURE_TLS_ID_LEN], tls_id2[SW_CAPTURE_TLS_ID_LEN];
} ct_msg;

typedef struct ct_log {
    ct_msg m[CT_MAX_MSGS];
    size_t n;
    size_t total;       /* including those beyond CT_MAX_MSGS */
    int stop_after;     /* when > 0: return 1 from the callback at this count */
} ct_log;

static inline void ct_call_id(const char *p, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    static const char key[] = "\nCall-ID: ";
    const char *hit = memmem(p, n, key, sizeof key - 1);
    if (!hit)
        return;
    const char *v = hit + sizeof key - 1;
    size_t i = 0;
    while (v + i < p + n && v[i] != '\r' && v[i] != '\n' && i + 1 < cap) {
        out[i] = v[i];
        i++;
    }
    out[i] = '\0';
}

static inline int ct_collect(void *ctx, const sw_capture_msg *m)
{
    ct_log *log = ctx;
    /* The data must be readable in full: ASan checks this read. */
    volatile unsigned sum = 0;
    for (size_t i = 0; i < m->len; i++)
        sum += (unsigned char)m->data[i];
    (void)sum;
    log->total++;
    if (log->n < CT_MAX_MSGS) {
        ct_msg *c = &log->m[log->n++];
        memset(c, 0, sizeof *c);
        ct_call_id(m->data, m->len, c->call_id, sizeof c->call_id);
        c->data = malloc(m->len + 1);
        assert_non_null(c->data);
        memcpy(c->data, m->data, m->len);
        c->data[m->len] = '\0';
        c->len = m->len;
        c->frame = m->frame;
        c->ts_ns = m->ts_ns;
        assert_true(sw_addr_format(&m->src, c->src, sizeof c->src) > 0);
        assert_true(sw_addr_format(&m->dst, c->dst, sizeof c->dst) > 0);
        c->transport = m->transport;
        c->vlan = m->vlan;
        c->reassembled = m->reassembled;
        c->by_endpoint = m->by_endpoint;
        c->ferr = m->framing_error.code;
        c->freason = m->framing_error.reason;
        c->ntls_ids = m->ntls_ids;
        if (m->ntls_ids && m->tls_ids)
            snprintf(c->tls_id0, sizeof c->tls_id0, "%s", m->tls_ids[0]);
        if (m->ntls_ids > 2 && m->tls_ids)
            snprintf(c->tls_id2, sizeof c->tls_id2, "%s", m->tls_ids[2]);
    }
    return (log->stop_after > 0 && (int)log->total >= log->stop_after) ? 1 : 0;
}

static inline void ct_log_free(ct_log *log)
{
    for (size_t i = 0; i < log->n; i++)
        free(log->m[i].data);
    memset(log, 0, sizeof *log);
}

/* Reads a committed capture with default limits; returns sw_capture_run's value. */
static inline int ct_read_file(const char *name, ct_log *log, sw_capture_stats *stats, char *err,
                               size_t errlen)
{
    char path[512], ebuf[256];
    snprintf(path, sizeof path, "%s/pcap/%s", SW_TEST_DATA, name);
    sw_capture *c = sw_capture_open_file(path, NULL, ebuf, sizeof ebuf);
    if (!c)
        fail_msg("cannot open %s: %s", path, ebuf);
    int rc = sw_capture_run(c, ct_collect, log);
    if (stats)
        *stats = *sw_capture_get_stats(c);
    if (err)
        snprintf(err, errlen, "%s", sw_capture_error(c));
    sw_capture_free(c);
    return rc;
}

/* ---- packet builders (raw IPv4, DLT_RAW) ---- */

static inline size_t ct_ip4(uint8_t *out, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                            uint16_t frag_field, const void *payload, size_t plen)
{
    size_t tl = 20 + plen;
    out[0] = 0x45;
    out[1] = 0;
    out[2] = (uint8_t)(tl >> 8);
    out[3] = (uint8_t)tl;
    out[4] = (uint8_t)(id >> 8);
    out[5] = (uint8_t)id;
    out[6] = (uint8_t)(frag_field >> 8);
    out[7] = (uint8_t)frag_field;
    out[8] = 64;
    out[9] = proto;
    out[10] = out[11] = 0;
    for (int i = 0; i < 4; i++) {
        out[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        out[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    if (plen)
        memcpy(out + 20, payload, plen);
    return tl;
}

enum { CT_FIN = 1, CT_SYN = 2, CT_RST = 4, CT_PSH = 8, CT_ACK = 16 };

/* A raw IPv4 TCP segment; returns the frame length. */
static inline size_t ct_tcp4(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst,
                             uint16_t dport, uint32_t seq, uint8_t flags, const void *data,
                             size_t n)
{
    uint8_t seg[20 + 70000];
    memset(seg, 0, 20);
    seg[0] = (uint8_t)(sport >> 8);
    seg[1] = (uint8_t)sport;
    seg[2] = (uint8_t)(dport >> 8);
    seg[3] = (uint8_t)dport;
    seg[4] = (uint8_t)(seq >> 24);
    seg[5] = (uint8_t)(seq >> 16);
    seg[6] = (uint8_t)(seq >> 8);
    seg[7] = (uint8_t)seq;
    seg[12] = 5 << 4;
    seg[13] = flags;
    seg[14] = 0xff;
    seg[15] = 0xff;
    if (n)
        memcpy(seg + 20, data, n);
    return ct_ip4(out, src, dst, 6, 0, 0x4000, seg, 20 + n);
}

/* A raw IPv4 UDP datagram (or fragment of one: frag_field is the IPv4
 * flags/offset word, payload the IP payload as is when raw_payload). */
static inline size_t ct_udp4(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst,
                             uint16_t dport, const void *data, size_t n)
{
    uint8_t d[8 + 70000];
    size_t ul = 8 + n;
    d[0] = (uint8_t)(sport >> 8);
    d[1] = (uint8_t)sport;
    d[2] = (uint8_t)(dport >> 8);
    d[3] = (uint8_t)dport;
    d[4] = (uint8_t)(ul >> 8);
    d[5] = (uint8_t)ul;
    d[6] = d[7] = 0;
    if (n)
        memcpy(d + 8, data, n);
    return ct_ip4(out, src, dst, 17, 0, 0, d, ul);
}

static inline int ct_count_call_id(const ct_log *log, const char *id)
{
    int k = 0;
    for (size_t i = 0; i < log->n; i++)
        k += strcmp(log->m[i].call_id, id) == 0;
    return k;
}

#endif
