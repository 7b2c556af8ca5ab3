/* libFuzzer target: TCP stream reassembly and SIP framing on streams.
 *
 * The input is a small configuration byte followed by segment records, each
 * turned into a raw IPv4 TCP frame (DLT_RAW) and fed through
 * sw_capture_feed_frame:
 *
 *   byte 0      limits: bit0 512-byte stream buffers, bit1 a 16 KiB memory
 *               cap for all streams, bit2 two streams at most, bit3
 *               300-byte messages, bit4 1 s idle timeout
 *   per segment (6 header bytes, then the payload):
 *     flags     TCP flags (FIN 01, SYN 02, RST 04, PSH 08, ACK 10), as is
 *     route     bit0 direction (client->server or back), bits1-2 which of
 *               four connections, bit3 send as two IPv4 fragments
 *     off (2)   signed offset of the sequence number from where the
 *               direction's data ended so far (0: in order)
 *     len       payload length (cut to what the input still holds)
 *     dt        capture-time step: dt^3 milliseconds (up to ~4.6 hours)
 *
 * The callback reads every delivered byte (so ASan sees any view that is
 * out of bounds) and checks what the API promises about each message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "sipwall/capture.h"

typedef struct fz_state {
    sw_capture_limits lim;
    uint64_t frames;
} fz_state;

static int fz_cb(void *ctx, const sw_capture_msg *m)
{
    const fz_state *st = ctx;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < m->len; i++)
        sink ^= (uint8_t)m->data[i];
    (void)sink;
    if (m->len == 0 || m->frame == 0 || m->frame > st->frames)
        abort();
    /* TLS: a direction that began with a handshake record and negotiated a
     * NULL cipher (src/capture/tls.c; fuzz_capture_tls covers it) */
    if ((m->transport != SW_TRANSPORT_TCP && m->transport != SW_TRANSPORT_TLS) || m->src.family != 4)
        abort();
    /* Whole messages fit the message limit; cut-off data is flagged. */
    if (m->framing_error.code == 0 && m->len > st->lim.sip.max_msg_size)
        abort();
    if (m->len > st->lim.max_stream_buffer && m->len > st->lim.sip.max_msg_size)
        abort();
    return 0;
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

static size_t ip4(uint8_t *out, uint32_t src, uint32_t dst, uint16_t id, uint16_t frag,
                  const uint8_t *payload, size_t n)
{
    memset(out, 0, 20);
    out[0] = 0x45;
    put16(out + 2, (uint16_t)(20 + n));
    put16(out + 4, id);
    put16(out + 6, frag);
    out[8] = 64;
    out[9] = 6;
    put32(out + 12, src);
    put32(out + 16, dst);
    memcpy(out + 20, payload, n);
    return 20 + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fz_state st;
    memset(&st, 0, sizeof st);
    sw_capture_limits_default(&st.lim);
    uint8_t cfg = data[0];
    /* Small tables: the input has at most four connections, and a reader
     * with the default 4096 streams costs a megabyte of calloc per run. */
    st.lim.max_tcp_streams = 16;
    st.lim.max_frag_sets = 8;
    if (cfg & 1)
        st.lim.max_stream_buffer = 512;
    if (cfg & 2)
        st.lim.max_tcp_memory = 16384;
    if (cfg & 4)
        st.lim.max_tcp_streams = 2;
    if (cfg & 8)
        st.lim.sip.max_msg_size = 300;
    if (cfg & 16)
        st.lim.tcp_idle_timeout_ms = 1000;
    sw_capture *c = sw_capture_new(&st.lim);
    if (!c)
        return 0;
    /* The reader raises a too-small stream buffer to its floor. */
    if (st.lim.max_stream_buffer < 256)
        st.lim.max_stream_buffer = 256;

    /* Where each direction's data ended so far: 4 connections x 2 ways. */
    uint32_t cursor[8];
    for (int i = 0; i < 8; i++)
        cursor[i] = 0x10000000u * (uint32_t)(i + 1) - 64; /* some wrap early */
    int64_t ts = 1700000000LL * 1000000000LL;
    uint16_t ip_id = 1;
    static uint8_t seg[20 + 256], frame[20 + 20 + 256];

    size_t pos = 1;
    while (pos + 6 <= size) {
        uint8_t flags = data[pos], route = data[pos + 1];
        int16_t off = (int16_t)(data[pos + 2] << 8 | data[pos + 3]);
        size_t n = data[pos + 4];
        uint8_t dt = data[pos + 5];
        pos += 6;
        if (n > size - pos)
            n = size - pos;
        int dir = route & 1, conn = (route >> 1) & 3;
        uint32_t cli = 0x0a000001u + (uint32_t)conn, srv = 0x0a0000feu;
        uint16_t cport = (uint16_t)(40000 + conn), sport = 5060;
        uint32_t *cur = &cursor[conn * 2 + dir];
        uint32_t seqno = *cur + (uint32_t)(int32_t)off;

        memset(seg, 0, 20);
        put16(seg, dir ? sport : cport);
        put16(seg + 2, dir ? cport : sport);
        put32(seg + 4, seqno);
        seg[12] = 5 << 4;
        seg[13] = flags;
        put16(seg + 14, 65535);
        memcpy(seg + 20, data + pos, n);
        pos += n;
        uint32_t end = seqno + (uint32_t)n + ((flags & 2) ? 1u : 0u);
        if ((int32_t)(end - *cur) > 0)
            *cur = end;

        uint64_t step = (uint64_t)dt * dt * dt * 1000000ull;
        ts += (int64_t)step;
        uint32_t s = dir ? srv : cli, d = dir ? cli : srv;
        size_t seglen = 20 + n;
        if ((route & 8) && seglen > 16) {
            /* Two fragments: the first carries 16 bytes (a multiple of 8). */
            size_t fl = ip4(frame, s, d, ip_id, 0x2000, seg, 16);
            st.frames++;
            sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, ts, fz_cb, &st);
            fl = ip4(frame, s, d, ip_id, 16 / 8, seg + 16, seglen - 16);
            st.frames++;
            sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, ts, fz_cb, &st);
            ip_id++;
        } else {
            size_t fl = ip4(frame, s, d, ip_id++, 0x4000, seg, seglen);
            st.frames++;
            sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, ts, fz_cb, &st);
        }
    }
    sw_capture_flush(c, fz_cb, &st);
    const sw_capture_stats *stats = sw_capture_get_stats(c);
    if (stats->frames != st.frames)
        abort();
    sw_capture_free(c);
    return 0;
}
