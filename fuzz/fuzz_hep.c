/* libFuzzer target: HEP v3 decoding and the HEP input (datagrams and TCP
 * stream reassembly with a small buffer).
 *
 * Input: one configuration byte, then the bytes as they would arrive on a
 * socket (one datagram, or a stream).
 *   bits 0-1  stream buffer bound (max_packet): 65535, 64, 300, 6
 *   bit 2     require the authentication key "k3y"
 *   bits 3-7  stream read size: 1 + 7 * value (1..218 bytes per feed)
 *
 * Checks beyond ASan/UBSan: decode never claims more bytes than given, its
 * views lie inside the packet, errors carry a known code and a reason;
 * a decoded packet re-encodes and decodes to the same fields; the stream
 * never buffers more than its bound nor delivers a payload larger than it;
 * the input's counters add up. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/sensor.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static volatile unsigned fz_sink;

static void check_view(sw_str v, const uint8_t *pkt, size_t len)
{
    if (v.len == 0)
        return;
    const uint8_t *p = (const uint8_t *)v.ptr;
    FZ_CHECK(p >= pkt && v.len <= len && (size_t)(p - pkt) <= len - v.len);
    fz_sink += p[0] + p[v.len - 1];
}

static void check_error(long rc, const sw_sip_error *e)
{
    FZ_CHECK(rc < 0);
    FZ_CHECK(e->code == rc);
    FZ_CHECK(e->reason != NULL);
    FZ_CHECK(strcmp(sw_strerror((int)rc), "unknown error") != 0);
    fz_sink += (unsigned)strlen(e->reason);
}

static int same_str(sw_str a, sw_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Encode what was decoded and decode it again: the fields must survive. */
static void check_round_trip(const sw_hep_msg *m, long orig_len)
{
    static uint8_t out[SW_HEP_MAX_PACKET];
    long n = sw_hep_encode(m, out, sizeof out);
    if (n == SW_EUSAGE) {
        /* only an IP protocol we cannot name from the transport */
        FZ_CHECK(m->ip_proto == 0);
        return;
    }
    if (n == SW_ELIMIT) {
        /* the encoder may add up to 40 bytes of chunks the sender left out */
        FZ_CHECK(orig_len + 40 > (long)SW_HEP_MAX_PACKET);
        return;
    }
    FZ_CHECK(n > 0);
    sw_hep_msg d;
    sw_sip_error e;
    FZ_CHECK(sw_hep_decode(out, (size_t)n, &d, &e) == n);
    FZ_CHECK(sw_addr_eq(&m->src, &d.src) && m->src.port == d.src.port);
    FZ_CHECK(sw_addr_eq(&m->dst, &d.dst) && m->dst.port == d.dst.port);
    FZ_CHECK(m->transport == d.transport && m->ip_proto == d.ip_proto);
    FZ_CHECK(m->proto_type == d.proto_type && m->capture_id == d.capture_id);
    FZ_CHECK(m->vlan == d.vlan && m->keepalive_s == d.keepalive_s);
    FZ_CHECK(m->ts_ns == d.ts_ns);
    FZ_CHECK(same_str(m->payload, d.payload));
    FZ_CHECK(same_str(m->auth_key, d.auth_key));
    FZ_CHECK(same_str(m->correlation_id, d.correlation_id));
}

typedef struct fz_state {
    const sw_hep_input *in;
    uint32_t max_packet;
    int datagram;
} fz_state;

static int fz_cb(void *ctx, const sw_capture_msg *m)
{
    const fz_state *st = ctx;
    unsigned sum = 0;
    for (size_t i = 0; i < m->len; i++)
        sum += (unsigned char)m->data[i];
    fz_sink += sum;
    FZ_CHECK(m->len > 0);
    FZ_CHECK(m->src.family == 4 || m->src.family == 6);
    FZ_CHECK(m->src.family == m->dst.family);
    if (!st->datagram)
        FZ_CHECK(m->len <= st->max_packet);
    const sw_hep_msg *h = sw_hep_input_current(st->in);
    FZ_CHECK(h != NULL && h->payload.ptr == m->data && h->payload.len == m->len);
    return 0;
}

static void check_stats(const sw_hep_stats *s)
{
    FZ_CHECK(s->packets == s->sip + s->non_sip + s->auth_failed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const uint32_t bounds[4] = {SW_HEP_MAX_PACKET, 64, 300, 6};
    uint8_t cfgb = data[0];
    data++;
    size--;
    /* an exactly sized copy: a read past the end is an ASan report */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    if (size)
        memcpy(buf, data, size);

    /* 1. the decoder alone */
    sw_hep_msg m;
    sw_sip_error e = {0x7fff, (size_t)-1, NULL};
    long rc = sw_hep_decode(buf, size, &m, &e);
    if (rc >= 0) {
        FZ_CHECK(rc >= (long)SW_HEP_HEADER_LEN && (size_t)rc <= size);
        FZ_CHECK(m.src.family == 4 || m.src.family == 6);
        FZ_CHECK(m.src.family == m.dst.family);
        check_view(m.payload, buf, (size_t)rc);
        check_view(m.auth_key, buf, (size_t)rc);
        check_view(m.correlation_id, buf, (size_t)rc);
        check_round_trip(&m, rc);
    } else {
        check_error(rc, &e);
        FZ_CHECK(e.offset <= size);
    }
    long plen = sw_hep_packet_length(buf, size, NULL);
    FZ_CHECK(plen < 0 || (plen >= 6 && plen <= (long)SW_HEP_MAX_PACKET));

    /* 2. the input: one datagram, then a stream in small reads */
    fz_state st = {.max_packet = bounds[cfgb & 3]};
    sw_hep_input_config cfg = {.auth_key = (cfgb & 4) ? "k3y" : NULL,
                               .max_packet = st.max_packet};
    sw_hep_input *in = sw_hep_input_new(&cfg);
    FZ_CHECK(in != NULL);
    st.in = in;
    st.datagram = 1;
    int drc = sw_hep_datagram(in, buf, size, 1, fz_cb, &st);
    if (drc < 0) {
        const sw_sip_error *ie = sw_hep_input_error(in);
        FZ_CHECK(ie->code == drc && ie->reason != NULL);
    } else {
        FZ_CHECK(drc == 0);
    }
    check_stats(sw_hep_input_get_stats(in));
    FZ_CHECK(sw_hep_input_current(in) == NULL);

    st.datagram = 0;
    sw_hep_stream *s = sw_hep_stream_new(in);
    FZ_CHECK(s != NULL);
    size_t step = 1 + 7 * (size_t)(cfgb >> 3), pos = 0;
    int broken = 0;
    while (pos < size) {
        size_t k = size - pos < step ? size - pos : step;
        int frc = sw_hep_stream_feed(s, buf + pos, k, 1, fz_cb, &st);
        FZ_CHECK(frc <= 0);
        FZ_CHECK(sw_hep_stream_pending(s) <= st.max_packet);
        if (frc < 0) {
            FZ_CHECK(sw_hep_stream_error(s)->code == frc);
            FZ_CHECK(sw_hep_stream_error(s)->reason != NULL);
            /* sticky: the next call says the same without looking */
            FZ_CHECK(sw_hep_stream_feed(s, buf, size, 1, fz_cb, &st) == frc);
            broken = 1;
            break;
        }
        pos += k;
    }
    const sw_hep_stats *stats = sw_hep_input_get_stats(in);
    FZ_CHECK(stats->streams_broken == (uint64_t)broken);
    check_stats(stats);
    sw_hep_stream_free(s);
    sw_hep_input_free(in);
    free(buf);
    return 0;
}
