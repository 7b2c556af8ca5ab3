/* libFuzzer target: TLS on captured TCP streams (src/capture/tls.c) — the
 * record reader, the handshake reassembly (ServerHello, Certificate), the
 * certificate parse (d2i_X509) and the NULL-cipher plaintext framed as SIP.
 *
 * The input is one configuration byte and chunks of one TCP connection
 * (client 10.0.0.1:40000, server 10.0.0.254:5061), both SYNs sent first:
 *
 *   byte 0      bit0 512-byte stream buffers, bit1 a 16 KiB memory cap,
 *               bit2 300-byte messages, bit3 no TLS callback
 *   per chunk   dir (bit0: 0 client->server, 1 back; bit1: a FIN after it),
 *               len (2 bytes, big-endian, cut to what the input holds),
 *               then the bytes, sent in order in segments of at most 1000
 *
 * Seeds (fuzz/seeds/capture_tls/): real TLS 1.2 connections with a NULL
 * cipher and client certificates, an AES-GCM one and a TLS 1.3 one, taken
 * from loopback captures.  The callbacks check what the API promises: a
 * message over TLS carries at most SW_CAPTURE_TLS_MAX_IDS identities, each
 * NUL-terminated printable ASCII; the bytes delivered are readable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "sipwall/capture.h"

typedef struct fz_state {
    sw_capture_limits lim;
    uint64_t frames, tls_reports;
} fz_state;

static void check_ids(uint8_t n, const char (*ids)[SW_CAPTURE_TLS_ID_LEN])
{
    if (n > SW_CAPTURE_TLS_MAX_IDS || (n && !ids))
        abort();
    for (unsigned i = 0; i < n; i++) {
        size_t len = strnlen(ids[i], SW_CAPTURE_TLS_ID_LEN);
        if (len == SW_CAPTURE_TLS_ID_LEN)
            abort(); /* not terminated */
        for (size_t k = 0; k < len; k++)
            if ((unsigned char)ids[i][k] < 0x20 || (unsigned char)ids[i][k] >= 0x7f)
                abort();
    }
}

static int fz_cb(void *ctx, const sw_capture_msg *m)
{
    const fz_state *st = ctx;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < m->len; i++)
        sink ^= (uint8_t)m->data[i];
    (void)sink;
    if (m->len == 0 || m->frame == 0 || m->frame > st->frames)
        abort();
    if (m->transport == SW_TRANSPORT_TLS)
        check_ids(m->ntls_ids, m->tls_ids);
    else if (m->transport != SW_TRANSPORT_TCP || m->ntls_ids)
        abort();
    if (m->framing_error.code == 0 && m->len > st->lim.sip.max_msg_size)
        abort();
    return 0;
}

static void fz_tls(void *ctx, const sw_capture_tls_info *in)
{
    fz_state *st = ctx;
    st->tls_reports++;
    if (in->encrypted && in->nids)
        abort();
    check_ids(in->nids, in->ids);
    if (in->frame == 0 || in->frame > st->frames)
        abort();
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint8_t frame[20 + 20 + 1000];

/* One IPv4 TCP segment as a DLT_RAW frame. */
static void segment(sw_capture *c, fz_state *st, int dir, uint32_t seq, uint8_t flags,
                    const uint8_t *p, size_t n, int64_t ts)
{
    uint32_t cli = 0x0a000001u, srv = 0x0a0000feu;
    uint8_t *ip = frame, *th = frame + 20;
    memset(frame, 0, 40);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(40 + n));
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, dir ? srv : cli);
    put32(ip + 16, dir ? cli : srv);
    put16(th, dir ? 5061 : 40000);
    put16(th + 2, dir ? 40000 : 5061);
    put32(th + 4, seq);
    th[12] = 5 << 4;
    th[13] = flags;
    put16(th + 14, 65535);
    if (n)
        memcpy(th + 20, p, n);
    st->frames++;
    sw_capture_feed_frame(c, DLT_RAW, frame, 40 + n, 40 + n, ts, fz_cb, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fz_state st;
    memset(&st, 0, sizeof st);
    sw_capture_limits_default(&st.lim);
    uint8_t cfg = data[0];
    st.lim.max_tcp_streams = 4;
    st.lim.max_frag_sets = 2;
    if (cfg & 1)
        st.lim.max_stream_buffer = 512;
    if (cfg & 2)
        st.lim.max_tcp_memory = 16384;
    if (cfg & 4)
        st.lim.sip.max_msg_size = 300;
    sw_capture *c = sw_capture_new(&st.lim);
    if (!c)
        return 0;
    if (!(cfg & 8))
        sw_capture_set_tls_cb(c, fz_tls, &st);
    int64_t ts = 1700000000LL * 1000000000LL;
    uint32_t next[2] = {1000, 900000};
    int fin[2] = {0, 0};
    segment(c, &st, 0, next[0]++, 0x02, NULL, 0, ts);
    segment(c, &st, 1, next[1]++, 0x12, NULL, 0, ts);
    size_t pos = 1;
    while (pos + 3 <= size) {
        int dir = data[pos] & 1, close = (data[pos] >> 1) & 1;
        size_t n = (size_t)data[pos + 1] << 8 | data[pos + 2];
        pos += 3;
        if (n > size - pos)
            n = size - pos;
        if (fin[dir]) {
            pos += n;
            continue;
        }
        ts += 1000000;
        for (size_t off = 0; off < n; off += 1000) {
            size_t k = n - off < 1000 ? n - off : 1000;
            segment(c, &st, dir, next[dir], 0x18, data + pos + off, k, ts);
            next[dir] += (uint32_t)k;
        }
        pos += n;
        if (close) {
            segment(c, &st, dir, next[dir]++, 0x11, NULL, 0, ts);
            fin[dir] = 1;
        }
    }
    sw_capture_flush(c, fz_cb, &st);
    const sw_capture_stats *stats = sw_capture_get_stats(c);
    if (stats->frames != st.frames)
        abort();
    /* every certificate read and every TLS 1.3 ServerHello is reported once */
    if (!(cfg & 8) && st.tls_reports != stats->tls_certificates + stats->tls_encrypted_handshakes)
        abort();
    sw_capture_free(c);
    return 0;
}
