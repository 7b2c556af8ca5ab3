/* HEP v3 (EEP): decoding, encoding, and the input object that turns
 * datagrams and TCP byte streams of HEP packets into sw_capture_msg records.
 *
 * The decoder is allocation-free and reads only inside the packet's own
 * declared length.  It is strict where laxness could let a sender smuggle
 * two readings of one packet past the screening (a repeated generic chunk,
 * IPv4 and IPv6 addresses mixed, a family that contradicts the addresses),
 * and lenient where senders differ harmlessly (a 16-bit capture id, trailing
 * NULs in string chunks, chunks of other vendors). */
#include <stdlib.h>
#include <string.h>

#include "sipwall/sensor.h"

#define HEP_MAX_GENERIC 18u

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

static long fail(sw_sip_error *err, int code, size_t offset, const char *reason)
{
    if (err) {
        err->code = code;
        err->offset = offset;
        err->reason = reason;
    }
    return code;
}

/* Value sizes of the fixed-size generic chunks (0: variable), and the
 * error naming a wrong one. */
static const struct {
    uint8_t size;
    const char *bad_size;
} chunk_fixed[HEP_MAX_GENERIC + 1] = {
    [SW_HEP_CHUNK_IP_FAMILY] = {1, "IP family chunk (1) is not 1 byte"},
    [SW_HEP_CHUNK_IP_PROTO] = {1, "IP protocol chunk (2) is not 1 byte"},
    [SW_HEP_CHUNK_SRC_IP4] = {4, "IPv4 source address chunk (3) is not 4 bytes"},
    [SW_HEP_CHUNK_DST_IP4] = {4, "IPv4 destination address chunk (4) is not 4 bytes"},
    [SW_HEP_CHUNK_SRC_IP6] = {16, "IPv6 source address chunk (5) is not 16 bytes"},
    [SW_HEP_CHUNK_DST_IP6] = {16, "IPv6 destination address chunk (6) is not 16 bytes"},
    [SW_HEP_CHUNK_SRC_PORT] = {2, "source port chunk (7) is not 2 bytes"},
    [SW_HEP_CHUNK_DST_PORT] = {2, "destination port chunk (8) is not 2 bytes"},
    [SW_HEP_CHUNK_TS_SEC] = {4, "timestamp seconds chunk (9) is not 4 bytes"},
    [SW_HEP_CHUNK_TS_USEC] = {4, "timestamp microseconds chunk (10) is not 4 bytes"},
    [SW_HEP_CHUNK_PROTO_TYPE] = {1, "protocol type chunk (11) is not 1 byte"},
    [SW_HEP_CHUNK_KEEPALIVE] = {2, "keep-alive timer chunk (13) is not 2 bytes"},
    [SW_HEP_CHUNK_VLAN] = {2, "VLAN chunk (18) is not 2 bytes"},
};

long sw_hep_packet_length(const uint8_t *buf, size_t len, sw_sip_error *err)
{
    if (len < SW_HEP_HEADER_LEN)
        return fail(err, SW_EINCOMPLETE, len, "shorter than the 6-byte HEP header");
    if (memcmp(buf, "HEP3", 4) != 0) {
        /* HEP v1/v2 start with their version byte and a header length. */
        if ((buf[0] == 1 || buf[0] == 2) && buf[1] >= 16)
            return fail(err, SW_EFORMAT, 0, "HEP version 1 or 2 packet: only HEP3 is supported");
        return fail(err, SW_EFORMAT, 0, "bad magic: not a HEP3 packet");
    }
    uint16_t total = rd16(buf + 4);
    if (total < SW_HEP_HEADER_LEN)
        return fail(err, SW_EINVAL, 4, "HEP length smaller than its 6-byte header");
    return total;
}

static sw_transport transport_of(uint8_t ip_proto)
{
    switch (ip_proto) {
    case 17:
        return SW_TRANSPORT_UDP;
    case 6:
        return SW_TRANSPORT_TCP;
    case 132:
        return SW_TRANSPORT_SCTP;
    default:
        return SW_TRANSPORT_UNKNOWN;
    }
}

static sw_str trim_nuls(const uint8_t *v, size_t n)
{
    while (n > 0 && v[n - 1] == 0)
        n--;
    return n ? sw_str_make((const char *)v, n) : SW_STR_NULL;
}

#define BIT(t) (1u << (t))

long sw_hep_decode(const uint8_t *buf, size_t len, sw_hep_msg *out, sw_sip_error *err)
{
    long total = sw_hep_packet_length(buf, len, err);
    if (total < 0)
        return total;
    if ((size_t)total > len)
        return fail(err, SW_EINCOMPLETE, len, "HEP packet not complete yet");
    memset(out, 0, sizeof *out);

    uint8_t family = 0;
    uint32_t usec = 0;
    size_t pos = SW_HEP_HEADER_LEN, end = (size_t)total;
    while (pos < end) {
        if (end - pos < SW_HEP_HEADER_LEN)
            return fail(err, SW_ETRUNC, pos, "chunk header cut by the end of the packet");
        uint16_t vendor = rd16(buf + pos), type = rd16(buf + pos + 2), clen = rd16(buf + pos + 4);
        if (clen < SW_HEP_HEADER_LEN)
            return fail(err, SW_EINVAL, pos, "chunk length below its 6-byte header");
        if (clen > end - pos)
            return fail(err, SW_ETRUNC, pos, "chunk runs past the end of the packet");
        const uint8_t *v = buf + pos + SW_HEP_HEADER_LEN;
        size_t vlen = clen - SW_HEP_HEADER_LEN, at = pos;
        pos += clen;
        if (vendor != 0 || type == 0 || type > HEP_MAX_GENERIC)
            continue; /* another vendor's or a newer generic chunk */
        if (out->present & BIT(type))
            return fail(err, SW_ECONFLICT, at, "generic chunk repeated");
        out->present |= BIT(type);
        if (chunk_fixed[type].size && vlen != chunk_fixed[type].size)
            return fail(err, SW_ERANGE, at, chunk_fixed[type].bad_size);

        switch (type) {
        case SW_HEP_CHUNK_IP_FAMILY:
            family = v[0];
            if (family != 2 && family != 10)
                return fail(err, SW_ERANGE, at, "unknown IP family (neither 2 nor 10)");
            break;
        case SW_HEP_CHUNK_IP_PROTO:
            out->ip_proto = v[0];
            out->transport = transport_of(v[0]);
            break;
        case SW_HEP_CHUNK_SRC_IP4:
        case SW_HEP_CHUNK_DST_IP4:
        case SW_HEP_CHUNK_SRC_IP6:
        case SW_HEP_CHUNK_DST_IP6: {
            sw_addr *a = (type == SW_HEP_CHUNK_SRC_IP4 || type == SW_HEP_CHUNK_SRC_IP6)
                             ? &out->src
                             : &out->dst;
            a->family = vlen == 4 ? 4 : 6;
            memcpy(a->ip, v, vlen);
            break;
        }
        case SW_HEP_CHUNK_SRC_PORT:
            out->src.port = rd16(v);
            break;
        case SW_HEP_CHUNK_DST_PORT:
            out->dst.port = rd16(v);
            break;
        case SW_HEP_CHUNK_TS_SEC:
            out->ts_ns = (int64_t)rd32(v) * 1000000000;
            break;
        case SW_HEP_CHUNK_TS_USEC:
            usec = rd32(v);
            if (usec >= 1000000)
                return fail(err, SW_ERANGE, at, "timestamp microseconds of 1000000 or more");
            break;
        case SW_HEP_CHUNK_PROTO_TYPE:
            out->proto_type = v[0];
            break;
        case SW_HEP_CHUNK_CAPTURE_ID:
            /* 32 bits in HEP3; some older agents send 16. */
            if (vlen == 4)
                out->capture_id = rd32(v);
            else if (vlen == 2)
                out->capture_id = rd16(v);
            else
                return fail(err, SW_ERANGE, at, "capture id chunk (12) is not 2 or 4 bytes");
            break;
        case SW_HEP_CHUNK_KEEPALIVE:
            out->keepalive_s = rd16(v);
            break;
        case SW_HEP_CHUNK_AUTH_KEY:
            out->auth_key = trim_nuls(v, vlen);
            break;
        case SW_HEP_CHUNK_PAYLOAD:
            out->payload = vlen ? sw_str_make((const char *)v, vlen) : SW_STR_NULL;
            break;
        case SW_HEP_CHUNK_COMPRESSED:
            return fail(err, SW_EFORMAT, at, "compressed payload (chunk 16) is not supported");
        case SW_HEP_CHUNK_CORRELATION_ID:
            out->correlation_id = trim_nuls(v, vlen);
            break;
        case SW_HEP_CHUNK_VLAN:
            out->vlan = rd16(v);
            break;
        default:
            break;
        }
    }

    uint32_t p = out->present;
    int has4 = (p & (BIT(SW_HEP_CHUNK_SRC_IP4) | BIT(SW_HEP_CHUNK_DST_IP4))) != 0;
    int has6 = (p & (BIT(SW_HEP_CHUNK_SRC_IP6) | BIT(SW_HEP_CHUNK_DST_IP6))) != 0;
    if (!(p & BIT(SW_HEP_CHUNK_IP_FAMILY)))
        return fail(err, SW_EMISSING, 0, "IP family chunk (1) missing");
    if (!(p & BIT(SW_HEP_CHUNK_IP_PROTO)))
        return fail(err, SW_EMISSING, 0, "IP protocol chunk (2) missing");
    if (has4 && has6)
        return fail(err, SW_ECONFLICT, 0, "IPv4 and IPv6 address chunks mixed");
    if ((family == 2 && has6) || (family == 10 && has4))
        return fail(err, SW_ECONFLICT, 0, "IP family contradicts the address chunks");
    if (!(p & BIT(family == 2 ? SW_HEP_CHUNK_SRC_IP4 : SW_HEP_CHUNK_SRC_IP6)))
        return fail(err, SW_EMISSING, 0, "source address chunk missing");
    if (!(p & BIT(family == 2 ? SW_HEP_CHUNK_DST_IP4 : SW_HEP_CHUNK_DST_IP6)))
        return fail(err, SW_EMISSING, 0, "destination address chunk missing");
    if (!(p & BIT(SW_HEP_CHUNK_SRC_PORT)))
        return fail(err, SW_EMISSING, 0, "source port chunk (7) missing");
    if (!(p & BIT(SW_HEP_CHUNK_DST_PORT)))
        return fail(err, SW_EMISSING, 0, "destination port chunk (8) missing");
    if (!(p & BIT(SW_HEP_CHUNK_PAYLOAD)))
        return fail(err, SW_EMISSING, 0, "payload chunk (15) missing");
    if (p & BIT(SW_HEP_CHUNK_TS_SEC))
        out->ts_ns += (int64_t)usec * 1000;
    return total;
}

/* ---- encoding ------------------------------------------------------------- */

static uint8_t *put_chunk(uint8_t *o, uint16_t type, const void *v, size_t n)
{
    wr16(o, 0);
    wr16(o + 2, type);
    wr16(o + 4, (uint16_t)(SW_HEP_HEADER_LEN + n));
    if (n)
        memcpy(o + SW_HEP_HEADER_LEN, v, n);
    return o + SW_HEP_HEADER_LEN + n;
}

static uint8_t *put_u8(uint8_t *o, uint16_t type, uint8_t v) { return put_chunk(o, type, &v, 1); }
static uint8_t *put_u16(uint8_t *o, uint16_t type, uint16_t v)
{
    uint8_t b[2];
    wr16(b, v);
    return put_chunk(o, type, b, 2);
}
static uint8_t *put_u32(uint8_t *o, uint16_t type, uint32_t v)
{
    uint8_t b[4];
    wr32(b, v);
    return put_chunk(o, type, b, 4);
}

long sw_hep_encode(const sw_hep_msg *m, uint8_t *out, size_t cap)
{
    if ((m->src.family != 4 && m->src.family != 6) || m->src.family != m->dst.family)
        return SW_EUSAGE;
    uint8_t ip_proto = m->ip_proto;
    if (ip_proto == 0) {
        switch (m->transport) {
        case SW_TRANSPORT_UDP:
            ip_proto = 17;
            break;
        case SW_TRANSPORT_TCP:
        case SW_TRANSPORT_TLS:
            ip_proto = 6;
            break;
        case SW_TRANSPORT_SCTP:
            ip_proto = 132;
            break;
        default:
            return SW_EUSAGE;
        }
    }
    int64_t sec = m->ts_ns > 0 ? m->ts_ns / 1000000000 : 0;
    if (sec > (int64_t)UINT32_MAX)
        return SW_EUSAGE;
    size_t alen = m->src.family == 4 ? 4 : 16;
    size_t strs = m->payload.len + m->auth_key.len + m->correlation_id.len;
    if (m->payload.len > SW_HEP_MAX_PACKET || m->auth_key.len > SW_HEP_MAX_PACKET ||
        m->correlation_id.len > SW_HEP_MAX_PACKET)
        return SW_ELIMIT;
    size_t total = SW_HEP_HEADER_LEN + 7 + 7 + 2 * (6 + alen) + 2 * 8 + 10 + 6 + strs;
    if (m->ts_ns > 0)
        total += 2 * 10;
    if (m->proto_type)
        total += 7;
    if (m->keepalive_s)
        total += 8;
    if (m->auth_key.len)
        total += 6;
    if (m->correlation_id.len)
        total += 6;
    if (m->vlan)
        total += 8;
    if (total > SW_HEP_MAX_PACKET || total > cap || out == NULL)
        return SW_ELIMIT;

    uint8_t *o = out;
    memcpy(o, "HEP3", 4);
    wr16(o + 4, (uint16_t)total);
    o += SW_HEP_HEADER_LEN;
    o = put_u8(o, SW_HEP_CHUNK_IP_FAMILY, m->src.family == 4 ? 2 : 10);
    o = put_u8(o, SW_HEP_CHUNK_IP_PROTO, ip_proto);
    if (alen == 4) {
        o = put_chunk(o, SW_HEP_CHUNK_SRC_IP4, m->src.ip, 4);
        o = put_chunk(o, SW_HEP_CHUNK_DST_IP4, m->dst.ip, 4);
    } else {
        o = put_chunk(o, SW_HEP_CHUNK_SRC_IP6, m->src.ip, 16);
        o = put_chunk(o, SW_HEP_CHUNK_DST_IP6, m->dst.ip, 16);
    }
    o = put_u16(o, SW_HEP_CHUNK_SRC_PORT, m->src.port);
    o = put_u16(o, SW_HEP_CHUNK_DST_PORT, m->dst.port);
    if (m->ts_ns > 0) {
        o = put_u32(o, SW_HEP_CHUNK_TS_SEC, (uint32_t)sec);
        o = put_u32(o, SW_HEP_CHUNK_TS_USEC, (uint32_t)(m->ts_ns % 1000000000 / 1000));
    }
    if (m->proto_type)
        o = put_u8(o, SW_HEP_CHUNK_PROTO_TYPE, m->proto_type);
    o = put_u32(o, SW_HEP_CHUNK_CAPTURE_ID, m->capture_id);
    if (m->keepalive_s)
        o = put_u16(o, SW_HEP_CHUNK_KEEPALIVE, m->keepalive_s);
    if (m->auth_key.len)
        o = put_chunk(o, SW_HEP_CHUNK_AUTH_KEY, m->auth_key.ptr, m->auth_key.len);
    o = put_chunk(o, SW_HEP_CHUNK_PAYLOAD, m->payload.ptr, m->payload.len);
    if (m->correlation_id.len)
        o = put_chunk(o, SW_HEP_CHUNK_CORRELATION_ID, m->correlation_id.ptr,
                      m->correlation_id.len);
    if (m->vlan)
        o = put_u16(o, SW_HEP_CHUNK_VLAN, m->vlan);
    return (long)(o - out);
}

/* ---- the input ------------------------------------------------------------ */

struct sw_hep_input {
    char *auth_key; /* NULL: none required */
    size_t auth_len;
    uint32_t max_packet;
    sw_hep_stats stats;
    sw_sip_error last_err;
    const sw_hep_msg *current;
};

struct sw_hep_stream {
    sw_hep_input *in;
    uint8_t *buf;
    size_t cap, have, need; /* need: the pending packet's length once its header is in */
    sw_sip_error err;
};

sw_hep_input *sw_hep_input_new(const sw_hep_input_config *cfg)
{
    uint32_t max = cfg && cfg->max_packet ? cfg->max_packet : SW_HEP_MAX_PACKET;
    if (max < SW_HEP_HEADER_LEN || max > SW_HEP_MAX_PACKET)
        return NULL;
    sw_hep_input *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->max_packet = max;
    if (cfg && cfg->auth_key && cfg->auth_key[0]) {
        in->auth_len = strlen(cfg->auth_key);
        in->auth_key = malloc(in->auth_len);
        if (!in->auth_key) {
            free(in);
            return NULL;
        }
        memcpy(in->auth_key, cfg->auth_key, in->auth_len);
    }
    return in;
}

void sw_hep_input_free(sw_hep_input *in)
{
    if (!in)
        return;
    free(in->auth_key);
    free(in);
}

const sw_hep_stats *sw_hep_input_get_stats(const sw_hep_input *in) { return &in->stats; }
const sw_sip_error *sw_hep_input_error(const sw_hep_input *in) { return &in->last_err; }
const sw_hep_msg *sw_hep_input_current(const sw_hep_input *in) { return in->current; }

/* Compares in time independent of where the keys differ. */
static int key_matches(const sw_hep_input *in, sw_str got)
{
    if (got.len != in->auth_len)
        return 0;
    unsigned diff = 0;
    for (size_t i = 0; i < got.len; i++)
        diff |= (unsigned)((unsigned char)got.ptr[i] ^ (unsigned char)in->auth_key[i]);
    return diff == 0;
}

static void set_bad(sw_hep_input *in, int code, size_t offset, const char *reason)
{
    in->stats.bad++;
    in->last_err.code = code;
    in->last_err.offset = offset;
    in->last_err.reason = reason;
}

/* Decodes one whole packet and delivers it.  Returns SW_OK or the decode
 * error (counted); *cb_rc receives the callback's value. */
static int process(sw_hep_input *in, const uint8_t *pkt, size_t len, int64_t now_ns,
                   sw_capture_cb cb, void *ctx, int *cb_rc)
{
    *cb_rc = 0;
    sw_hep_msg m;
    sw_sip_error e = {0, 0, NULL};
    long rc = sw_hep_decode(pkt, len, &m, &e);
    if (rc < 0) {
        set_bad(in, e.code, e.offset, e.reason);
        return e.code;
    }
    in->stats.packets++;
    if (in->auth_key && !key_matches(in, m.auth_key)) {
        in->stats.auth_failed++;
        return SW_OK;
    }
    int sip = m.payload.len > 0 &&
              (m.proto_type == SW_HEP_PROTO_SIP ||
               (!SW_HEP_HAS(&m, SW_HEP_CHUNK_PROTO_TYPE) &&
                sw_sip_looks_like(m.payload.ptr, m.payload.len)));
    if (!sip) {
        in->stats.non_sip++;
        return SW_OK;
    }
    in->stats.sip++;
    if (!cb)
        return SW_OK;
    sw_capture_msg cm;
    memset(&cm, 0, sizeof cm);
    cm.data = m.payload.ptr;
    cm.len = m.payload.len;
    cm.frame = in->stats.packets;
    cm.ts_ns = SW_HEP_HAS(&m, SW_HEP_CHUNK_TS_SEC) ? m.ts_ns : now_ns;
    cm.src = m.src;
    cm.dst = m.dst;
    cm.transport = m.transport;
    cm.vlan = m.vlan;
    in->current = &m;
    *cb_rc = cb(ctx, &cm);
    in->current = NULL;
    return SW_OK;
}

int sw_hep_datagram(sw_hep_input *in, const uint8_t *buf, size_t len, int64_t now_ns,
                    sw_capture_cb cb, void *ctx)
{
    in->stats.datagrams++;
    if (len == 0 || buf == NULL) {
        set_bad(in, SW_ETRUNC, 0, "empty datagram");
        return SW_ETRUNC;
    }
    size_t pos = 0;
    while (pos < len) {
        sw_sip_error e = {0, 0, NULL};
        long total = sw_hep_packet_length(buf + pos, len - pos, &e);
        if (total == SW_EINCOMPLETE) {
            set_bad(in, SW_ETRUNC, pos, "datagram shorter than a HEP header");
            return SW_ETRUNC;
        }
        if (total < 0) {
            set_bad(in, e.code, pos + e.offset, e.reason);
            return e.code;
        }
        if ((size_t)total > len - pos) {
            set_bad(in, SW_ETRUNC, pos, "datagram shorter than its HEP length");
            return SW_ETRUNC;
        }
        int cb_rc;
        int rc = process(in, buf + pos, (size_t)total, now_ns, cb, ctx, &cb_rc);
        if (rc != SW_OK) {
            in->last_err.offset += pos;
            return rc;
        }
        if (cb_rc)
            return cb_rc;
        pos += (size_t)total;
    }
    return SW_OK;
}

sw_hep_stream *sw_hep_stream_new(sw_hep_input *in)
{
    sw_hep_stream *s = calloc(1, sizeof *s);
    if (s)
        s->in = in;
    return s;
}

void sw_hep_stream_free(sw_hep_stream *s)
{
    if (!s)
        return;
    if (s->have > 0 && s->err.code == 0)
        set_bad(s->in, SW_ETRUNC, s->have, "connection closed inside a HEP packet");
    free(s->buf);
    free(s);
}

size_t sw_hep_stream_pending(const sw_hep_stream *s) { return s->have; }
const sw_sip_error *sw_hep_stream_error(const sw_hep_stream *s) { return &s->err; }

static int broken(sw_hep_stream *s, int code, const char *reason)
{
    s->err.code = code;
    s->err.offset = 0;
    s->err.reason = reason;
    s->in->stats.streams_broken++;
    s->in->last_err = s->err;
    s->have = s->need = 0;
    return code;
}

/* Checks a packet header and the stream's bound; the packet length or an error. */
static long stream_length(sw_hep_stream *s, const uint8_t *p, size_t n)
{
    sw_sip_error e = {0, 0, NULL};
    long total = sw_hep_packet_length(p, n, &e);
    if (total < 0)
        return broken(s, e.code, e.reason);
    if ((size_t)total > s->in->max_packet)
        return broken(s, SW_ELIMIT, "HEP packet longer than the stream buffer allows");
    return total;
}

/* The buffer grows to the largest packet pending so far, never past max_packet. */
static int reserve(sw_hep_stream *s, size_t n)
{
    if (n <= s->cap)
        return SW_OK;
    uint8_t *b = realloc(s->buf, n);
    if (!b)
        return broken(s, SW_ENOMEM, "out of memory for the stream buffer");
    s->buf = b;
    s->cap = n;
    return SW_OK;
}

int sw_hep_stream_feed(sw_hep_stream *s, const uint8_t *bytes, size_t n, int64_t now_ns,
                       sw_capture_cb cb, void *ctx)
{
    if (s->err.code)
        return s->err.code;
    s->in->stats.stream_bytes += n;
    int first_cb = 0, cb_rc;
    while (n > 0) {
        if (s->have == 0 && n >= SW_HEP_HEADER_LEN) {
            /* Nothing pending: decode whole packets where they lie. */
            long total = stream_length(s, bytes, n);
            if (total < 0)
                return (int)total;
            if ((size_t)total <= n) {
                (void)process(s->in, bytes, (size_t)total, now_ns, cb, ctx, &cb_rc);
                if (cb_rc && !first_cb)
                    first_cb = cb_rc;
                bytes += total;
                n -= (size_t)total;
                continue;
            }
            if (reserve(s, (size_t)total) != SW_OK)
                return s->err.code;
            memcpy(s->buf, bytes, n);
            s->have = n;
            s->need = (size_t)total;
            break;
        }
        if (s->have < SW_HEP_HEADER_LEN) {
            if (reserve(s, SW_HEP_HEADER_LEN) != SW_OK)
                return s->err.code;
            size_t take = SW_HEP_HEADER_LEN - s->have;
            if (take > n)
                take = n;
            memcpy(s->buf + s->have, bytes, take);
            s->have += take;
            bytes += take;
            n -= take;
            if (s->have < SW_HEP_HEADER_LEN)
                break;
            long total = stream_length(s, s->buf, s->have);
            if (total < 0)
                return (int)total;
            if (reserve(s, (size_t)total) != SW_OK)
                return s->err.code;
            s->need = (size_t)total;
        }
        size_t take = s->need - s->have;
        if (take > n)
            take = n;
        if (take)
            memcpy(s->buf + s->have, bytes, take);
        s->have += take;
        bytes += take;
        n -= take;
        if (s->have < s->need)
            break;
        (void)process(s->in, s->buf, s->need, now_ns, cb, ctx, &cb_rc);
        if (cb_rc && !first_cb)
            first_cb = cb_rc;
        s->have = s->need = 0;
    }
    return first_cb;
}
