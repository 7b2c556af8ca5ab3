/* TCP stream reassembly and SIP framing on streams.
 *
 * One "stream" per direction of a connection.  Its buffer holds the in-order
 * bytes not yet framed, buf[0, len), which end at sequence number next_seq;
 * out-of-order bytes are written straight at their final position
 * len + (seq - next_seq), and their ranges are listed in ooo[].  When a gap
 * fills, len just advances over them: nothing moves.  Framed messages are
 * removed from the front once per segment.
 *
 * Framing resumes: the stream's sw_sip_framer remembers how far the
 * buffered partial message was searched, so a header arriving in many
 * small segments is searched once, not once per segment.
 *
 * The common case — a segment that starts at a message boundary and holds
 * whole messages — is framed in the packet's own memory without a copy;
 * only a trailing partial message is buffered.
 *
 * Bounds: max_tcp_streams directions (least recently used evicted),
 * max_stream_buffer bytes per direction, max_tcp_memory for all buffers,
 * SW__TCP_MAX_OOO out-of-order ranges, tcp_idle_timeout_ms of capture time.
 * Framing failures deliver what was framed with framing_error set and then
 * resynchronise on the next line that looks like a SIP start line; bytes
 * searched while unsynchronised are dropped as they are searched, so an
 * unsynchronised direction never holds more than one partial line. */
#include <stdlib.h>

#include "capture/capture_int.h"

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04 };

#define SW__TCP_MIN_BUF 4096u
/* At most this many streams give their buffers up for one reservation. */
#define SW__TCP_MEM_STEPS 64
/* A start line is judged once its line end is there, or on this many bytes
 * of it: sw_sip_looks_like() wants the request line up to "SIP/", which may
 * come after a long request-URI. */
#define SW__LINE_PEEK 4096u
/* A direction that began mid-connection is given up as not SIP when this
 * many bytes went by without a start line (unless an endpoint is known). */
#define SW__TCP_SCAN_GIVEUP 65536u

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
/* Sequence-space distance b - a, meaningful within 2^31. */
static inline int64_t seqdiff(uint32_t b, uint32_t a) { return (int32_t)(b - a); }

/* ---- the table ------------------------------------------------------------ */

/* Frees what a stream owns: its buffer and its place among the holders. */
static void drop_buffer(sw__tcp_table *t, sw__tcp_stream *s)
{
    if (s->cap == 0)
        return;
    sw_table_remove(t->holders, &s);
    /* Only buffers of live streams count against max_tcp_memory. */
    t->mem -= s->cap;
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

/* on_evict of the stream table: a new direction took the place of the least
 * recently used one.  Evicted streams lose their partial data without a
 * delivery: the connection may well be alive, only our table is too small. */
static void on_evict(void *ctx, const void *key, void *value)
{
    (void)key;
    sw_capture *c = ctx;
    c->stats.tcp_evicted++;
    drop_buffer(&c->tcp, value);
    sw__tls_free(c, value);
}

int sw__tcp_init(sw_capture *c)
{
    sw__tcp_table *t = &c->tcp;
    memset(t, 0, sizeof *t);
    uint32_t n = c->lim.max_tcp_streams;
    if (n == 0)
        return SW_OK; /* TCP disabled */
    if (n > (1u << 24))
        n = 1u << 24;
    sw_table_config cfg = {.key_size = sizeof(sw__key),
                           .value_size = sizeof(sw__tcp_stream),
                           .capacity = n,
                           .seed = 0,
                           .on_evict = on_evict,
                           .evict_ctx = c};
    t->streams = sw_table_new(&cfg);
    cfg.key_size = sizeof(sw__tcp_stream *);
    cfg.value_size = 0;
    cfg.on_evict = NULL; /* never full: holders are a subset of the streams */
    cfg.evict_ctx = NULL;
    t->holders = sw_table_new(&cfg);
    return t->streams && t->holders ? SW_OK : SW_ENOMEM;
}

/* Ends a direction without a delivery. */
static void release(sw_capture *c, sw__tcp_stream *s)
{
    drop_buffer(&c->tcp, s);
    sw__tls_free(c, s);
    sw_table_remove_value(c->tcp.streams, s);
}

void sw__tcp_destroy(sw_capture *c)
{
    sw__tcp_table *t = &c->tcp;
    sw__tcp_stream *s;
    while (t->streams && (s = sw_table_oldest(t->streams, NULL)) != NULL)
        release(c, s);
    sw_table_free(t->streams);
    sw_table_free(t->holders);
    memset(t, 0, sizeof *t);
}

/* A new direction (the caller checked that k is not in the table). */
static sw__tcp_stream *acquire(sw_capture *c, const sw__key *k)
{
    sw__tcp_stream *s = sw_table_upsert(c->tcp.streams, k, NULL); /* may evict */
    c->stats.tcp_streams++;
    s->key = *k;
    return s;
}

/* Makes buf hold at least `need` bytes (need <= max_stream_buffer), within
 * max_tcp_memory: the least recently used streams holding buffers are
 * released to make room.  s is the most recently used stream (it was just
 * looked up), so it is never among them.  Returns 0, or -1 when the memory
 * cannot be had. */
static int reserve(sw_capture *c, sw__tcp_stream *s, uint32_t need)
{
    sw__tcp_table *t = &c->tcp;
    if (need <= s->cap)
        return 0;
    uint32_t ncap = s->cap ? s->cap : SW__TCP_MIN_BUF;
    while (ncap < need)
        ncap = ncap > UINT32_MAX / 2 ? UINT32_MAX : ncap * 2;
    if (ncap > c->lim.max_stream_buffer)
        ncap = c->lim.max_stream_buffer;
    uint64_t delta = (uint64_t)ncap - s->cap;
    /* Only streams that hold a buffer are visited, and only a bounded
     * number of them per reservation. */
    for (int steps = 0; t->mem + delta > c->lim.max_tcp_memory && steps < SW__TCP_MEM_STEPS;
         steps++) {
        const void *key;
        sw__tcp_stream *victim;
        if (!sw_table_oldest(t->holders, &key))
            break;
        memcpy(&victim, key, sizeof victim);
        if (victim == s)
            break; /* the only holder left */
        c->stats.tcp_memory_evictions++;
        release(c, victim);
    }
    if (t->mem + delta > c->lim.max_tcp_memory)
        return -1;
    uint8_t *nb = realloc(s->buf, ncap);
    if (!nb)
        return -1;
    if (s->cap == 0) {
        /* The most recently used holder, as s is the most recently used
         * stream: both tables keep the same relative order. */
        sw_table_upsert(t->holders, &s, NULL);
    }
    s->buf = nb;
    s->cap = ncap;
    t->mem += delta;
    return 0;
}

/* Removes k framed or discarded bytes from the front of the buffer. */
static void consume(sw__tcp_stream *s, uint32_t k)
{
    if (k == 0)
        return;
    if (k < s->hi)
        memmove(s->buf, s->buf + k, s->hi - k);
    s->hi = k < s->hi ? s->hi - k : 0;
    s->len -= k;
    s->new_off = s->new_off > k ? s->new_off - k : 0;
}

/* Drops everything held (in order and out of order) after a gap: bytes are
 * missing, so the direction must find a start line again. */
static void discard_all(sw__tcp_stream *s)
{
    s->len = s->hi = s->new_off = 0;
    s->nooo = 0;
    s->synced = 0;
    s->boundary = 0;
    s->at_start = 0;
    if (s->kind == SW__TCP_TLS)
        s->kind = SW__TCP_OTHER; /* records out of step: nothing more can be read */
}

/* ---- delivery --------------------------------------------------------- */

static int deliver(sw_capture *c, const sw__tcp_stream *s, const sw__frame *f, const uint8_t *p,
                   size_t n, int reassembled, const sw_sip_error *ferr)
{
    sw_capture_msg m;
    memset(&m, 0, sizeof m);
    m.data = (const char *)p;
    m.len = n;
    m.frame = s->last_frame;
    m.ts_ns = s->last_ts;
    m.src.family = m.dst.family = s->key.family;
    memcpy(m.src.ip, s->key.src, 16);
    memcpy(m.dst.ip, s->key.dst, 16);
    m.src.port = s->key.sport;
    m.dst.port = s->key.dport;
    m.transport = s->tls ? SW_TRANSPORT_TLS : SW_TRANSPORT_TCP;
    if (s->tls)
        sw__tls_sender_ids(s, &m);
    m.vlan = s->vlan;
    m.reassembled = (uint8_t)(reassembled != 0);
    if (ferr)
        m.framing_error = *ferr;
    return sw__deliver(c, f, &m);
}

static void learn(sw_capture *c, const sw__tcp_stream *s)
{
    sw__ep_learn(c, s->key.family, s->key.src, s->key.sport, s->last_frame);
    sw__ep_learn(c, s->key.family, s->key.dst, s->key.dport, s->last_frame);
}

/* Length of the header section (through the empty line) of p[0, n), or 0
 * when it does not end within n. */
static size_t header_end(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static int line_ready(const uint8_t *p, size_t n)
{
    return n >= SW__LINE_PEEK || memchr(p, '\n', n) != NULL;
}

/* ---- framing -------------------------------------------------------------
 * Resynchronisation: looks in p[*pos, n) for a line that sw_sip_looks_like()
 * accepts.  Candidates are line starts (after '\n') and p[*pos] itself when
 * s->boundary says it follows a message or begins the captured stream.
 * Bytes before the first candidate that is undecided (a partial line) or
 * accepted are dropped.  Returns 1 when synchronised at *pos, 0 when more
 * data is needed. */
static int resync(sw_capture *c, sw__tcp_stream *s, const uint8_t *p, size_t n, size_t *pos)
{
    size_t q = *pos;
    int cand = s->boundary;
    for (;;) {
        if (cand) {
            if (!line_ready(p + q, n - q))
                break; /* wait for the rest of this line */
            if (sw_sip_looks_like((const char *)p + q, n - q)) {
                s->scanned += (uint32_t)(q - *pos);
                *pos = q;
                s->synced = 1;
                sw_sip_framer_init(&s->fr);
                s->boundary = 1;
                c->stats.tcp_resyncs++;
                return 1;
            }
        }
        const uint8_t *nl = memchr(p + q, '\n', n - q);
        if (!nl) {
            q = n;
            break;
        }
        q = (size_t)(nl - p) + 1;
        cand = 1;
    }
    s->scanned += (uint32_t)(q - *pos);
    s->boundary = q < n ? 1 : (q > 0 && p[q - 1] == '\n');
    *pos = q;
    if (s->kind == SW__TCP_UNKNOWN && s->scanned > SW__TCP_SCAN_GIVEUP) {
        s->kind = SW__TCP_OTHER;
        c->stats.non_sip++;
    }
    return 0;
}

/* Frames SIP messages out of p[0, n) (the packet or the stream buffer) and
 * delivers them.  Bytes before new_off came from earlier segments.  Sets
 * *used to the bytes framed or dropped; what remains is a partial message
 * or line.  Returns the first non-zero callback value, else 0. */
static int frame_loop(sw_capture *c, sw__tcp_stream *s, const uint8_t *p, size_t n,
                      size_t new_off, int ip_reassembled, const sw__frame *f, size_t *used)
{
    size_t pos = 0;
    int rc = 0;
    if (s->kind == SW__TCP_UNKNOWN && s->at_start && s->synced && !s->inner) {
        /* a TLS handshake where SIP would start (tls.c) */
        int l = sw__tls_looks_like(p, n);
        if (l < 0) {
            *used = 0;
            return 0; /* wait for the record header */
        }
        if (l > 0) {
            if (sw__tls_start(c, s, p[5] == 1) == 0) {
                s->kind = SW__TCP_TLS;
            } else {
                s->kind = SW__TCP_OTHER;
                c->stats.tls_bad++;
            }
        }
    }
    if (s->kind == SW__TCP_TLS) {
        rc = sw__tls_input(c, s, p, n, f, used);
        if (rc == -2) {
            s->kind = SW__TCP_OTHER;
            c->stats.tls_bad++;
            *used = n;
            rc = 0;
        }
        return rc;
    }
    while (pos < n && rc == 0 && s->kind != SW__TCP_OTHER) {
        if (!s->synced && !resync(c, s, p, n, &pos))
            break;
        if (s->kind == SW__TCP_UNKNOWN) {
            /* The first bytes after a SYN decide what the direction
             * carries; keep-alive CRLFs do not count. */
            size_t q = pos;
            while (q < n && (p[q] == '\r' || p[q] == '\n'))
                q++;
            pos = q; /* keep-alives are consumed, they never pile up */
            if (q == n || !line_ready(p + q, n - q))
                break;
            if (sw_sip_looks_like((const char *)p + q, n - q) ||
                sw__ep_known(c, s->key.family, s->key.dst, s->key.dport) ||
                sw__ep_known(c, s->key.family, s->key.src, s->key.sport)) {
                s->kind = SW__TCP_SIP;
            } else {
                s->kind = SW__TCP_OTHER;
                c->stats.non_sip++;
                pos = n;
                break;
            }
        }

        /* resumed: bytes of this message framed in earlier segments are
         * not searched again (the framer starts at p[pos] = buf[0]) */
        size_t skip = 0;
        sw_sip_error err = {0, 0, NULL};
        long r = sw_sip_framer_next(&s->fr, (const char *)p + pos, n - pos, &c->lim.sip, &skip, &err);
        if (skip > n - pos)
            skip = n - pos; /* never trust a count beyond the input */
        size_t start = pos + skip, avail = n - start;
        if (r == 0)
            r = SW_EINCOMPLETE; /* not in the contract; never loop on it */
        if (r > 0) {
            size_t mlen = (size_t)r <= avail ? (size_t)r : avail;
            sw_sip_framer_consume(&s->fr, skip + mlen);
            pos = start + mlen;
            s->at_start = 0;
            s->boundary = 1;
            learn(c, s);
            rc = deliver(c, s, f, p + start, mlen, start < new_off || ip_reassembled, NULL);
        } else if (r == SW_EINCOMPLETE) {
            sw_sip_framer_consume(&s->fr, skip); /* the keep-alives go */
            pos = start;
            break;
        } else {
            /* Framing failed: hand over what was framed — the header
             * section if it ended, else as much as a message may hold —
             * and look for the next start line after it. */
            sw_sip_framer_init(&s->fr);
            if (avail == 0) {
                pos = start;
                break;
            }
            size_t dl = header_end(p + start, avail);
            if (dl == 0)
                dl = avail < c->lim.sip.max_msg_size ? avail : c->lim.sip.max_msg_size;
            if (dl == 0)
                dl = avail;
            if (err.code == 0)
                err.code = (int)r;
            if (!err.reason)
                err.reason = sw_strerror((int)r);
            c->stats.tcp_framing_errors++;
            pos = start + dl;
            s->synced = 0;
            s->at_start = 0;
            s->boundary = 1;
            rc = deliver(c, s, f, p + start, dl, start < new_off || ip_reassembled, &err);
        }
    }
    if (s->kind == SW__TCP_OTHER)
        pos = n;
    *used = pos;
    return rc;
}

int sw__tcp_frame(sw_capture *c, sw__tcp_stream *s, const uint8_t *p, size_t n, size_t new_off,
                  int ip_reassembled, const sw__frame *f, size_t *used)
{
    return frame_loop(c, s, p, n, new_off, ip_reassembled, f, used);
}

/* Moves out-of-order ranges that now touch the in-order data into it.
 * Returns whether any were moved. */
static int absorb(sw__tcp_stream *s)
{
    uint8_t k = 0;
    while (k < s->nooo && seqdiff(s->ooo[k].seq, s->next_seq) <= 0) {
        int64_t ahead = seqdiff(s->ooo[k].end, s->next_seq);
        if (ahead > 0) {
            s->len += (uint32_t)ahead;
            s->next_seq = s->ooo[k].end;
        }
        k++;
    }
    if (k) {
        memmove(&s->ooo[0], &s->ooo[k], (size_t)(s->nooo - k) * sizeof s->ooo[0]);
        s->nooo = (uint8_t)(s->nooo - k);
    }
    return k != 0;
}

/* Delivers (unless quiet: the callback asked to stop) or drops a buffer
 * that filled up without a complete message. */
static int overflow(sw_capture *c, sw__tcp_stream *s, const sw__frame *f, int quiet)
{
    int rc = 0;
    if (s->kind == SW__TCP_TLS) {
        s->kind = SW__TCP_OTHER; /* a record larger than the buffer: cannot be followed */
        c->stats.tls_bad++;
    }
    if (!quiet && s->kind == SW__TCP_SIP && s->synced && s->len) {
        sw_sip_error err = {SW_ELIMIT, s->len, "message larger than the stream buffer"};
        size_t dl = s->len < c->lim.sip.max_msg_size ? s->len : c->lim.sip.max_msg_size;
        c->stats.tcp_framing_errors++;
        rc = deliver(c, s, f, s->buf, dl ? dl : s->len, 1, &err);
    }
    consume(s, s->len);
    s->synced = 0;
    s->boundary = 0;
    s->at_start = 0;
    return rc;
}

/* In-order bytes p[0, n) starting at next_seq. */
static int in_order(sw_capture *c, sw__tcp_stream *s, const uint8_t *p, size_t n, int ipre,
                    const sw__frame *f)
{
    int rc = 0;
    int first = 1;
    while (n > 0) {
        if (s->kind == SW__TCP_OTHER) {
            s->next_seq += (uint32_t)n;
            return rc;
        }
        if (s->len == 0 && s->nooo == 0) {
            /* Fast path: frame in the packet's memory. */
            size_t used = 0;
            rc = frame_loop(c, s, p, n, 0, ipre, f, &used);
            s->next_seq += (uint32_t)used;
            p += used;
            n -= used;
            if (n == 0 || s->kind == SW__TCP_OTHER) {
                s->next_seq += (uint32_t)n;
                return rc;
            }
            /* A partial message remains: buffer it below (also when the
             * callback stopped us, so that nothing is lost). */
        }
        uint32_t maxb = c->lim.max_stream_buffer;
        if (s->len == maxb) {
            int r2 = overflow(c, s, f, rc != 0);
            if (!rc)
                rc = r2;
        }
        size_t k = n < (size_t)(maxb - s->len) ? n : (size_t)(maxb - s->len);
        if (reserve(c, s, s->len + (uint32_t)k) < 0) {
            /* No memory for this direction: its bytes are lost. */
            c->stats.tcp_gaps++;
            discard_all(s);
            s->next_seq += (uint32_t)n;
            return rc;
        }
        if (first) {
            s->new_off = s->len;
            first = 0;
        }
        memcpy(s->buf + s->len, p, k);
        s->len += (uint32_t)k;
        if (s->hi < s->len)
            s->hi = s->len;
        s->next_seq += (uint32_t)k;
        p += k;
        n -= k;
        /* Messages that take in earlier out-of-order bytes span segments. */
        if (absorb(s))
            s->new_off = s->len;
        if (rc)
            continue; /* stopped: only buffer the rest */
        size_t used = 0;
        rc = frame_loop(c, s, s->buf, s->len, s->new_off, ipre, f, &used);
        consume(s, (uint32_t)used);
    }
    return rc;
}

/* Bytes p[0, n) at seq, ahead of next_seq. */
static int out_of_order(sw_capture *c, sw__tcp_stream *s, uint32_t seq, const uint8_t *p,
                        size_t n, int ipre, const sw__frame *f)
{
    if (s->kind == SW__TCP_OTHER)
        return 0; /* nothing of a non-SIP direction is kept */
    uint64_t rel = (uint32_t)(seq - s->next_seq);
    uint64_t endpos = s->len + rel + n;
    if (endpos > c->lim.max_stream_buffer) {
        /* Too far ahead to hold: the bytes in between were lost (or this
         * is forged).  Give up on them and continue from here. */
        c->stats.tcp_gaps++;
        discard_all(s);
        s->next_seq = seq;
        return in_order(c, s, p, n, ipre, f);
    }
    c->stats.tcp_out_of_order++;
    uint32_t end = seq + (uint32_t)n;
    /* Insert [seq, end) into the sorted list, merging what touches. */
    uint8_t i = 0;
    while (i < s->nooo && seqdiff(s->ooo[i].end, seq) < 0)
        i++;
    uint8_t j = i;
    while (j < s->nooo && seqdiff(s->ooo[j].seq, end) <= 0)
        j++;
    if (j == i && s->nooo == SW__TCP_MAX_OOO)
        return 0; /* too fragmented: the sender will retransmit it */
    if (reserve(c, s, (uint32_t)endpos) < 0)
        return 0;
    uint32_t nseq = seq, nend = end;
    if (j > i) {
        if (seqdiff(s->ooo[i].seq, nseq) < 0)
            nseq = s->ooo[i].seq;
        if (seqdiff(s->ooo[j - 1].end, nend) > 0)
            nend = s->ooo[j - 1].end;
        memmove(&s->ooo[i + 1], &s->ooo[j], (size_t)(s->nooo - j) * sizeof s->ooo[0]);
        s->nooo = (uint8_t)(s->nooo - (j - i) + 1);
    } else {
        memmove(&s->ooo[i + 1], &s->ooo[i], (size_t)(s->nooo - i) * sizeof s->ooo[0]);
        s->nooo++;
    }
    s->ooo[i].seq = nseq;
    s->ooo[i].end = nend;
    memcpy(s->buf + s->len + rel, p, n);
    if (s->hi < endpos)
        s->hi = (uint32_t)endpos;
    return 0;
}

/* Ends a direction: a partial message that looks like SIP is delivered with
 * framing_error SW_EINCOMPLETE (a sender that closes inside a message, e.g.
 * with a Content-Length larger than the body, is worth reporting), then the
 * slot is released. */
static int finalize(sw_capture *c, sw__tcp_stream *s, const sw__frame *f, const char *reason)
{
    int rc = 0;
    if (s->kind != SW__TCP_OTHER && s->len) {
        /* Whole messages may still wait here when a callback stopped a
         * run; frame them first. */
        size_t used = 0;
        rc = frame_loop(c, s, s->buf, s->len, s->new_off, 0, f, &used);
        consume(s, (uint32_t)used);
    }
    if (rc == 0 && s->kind != SW__TCP_OTHER && s->kind != SW__TCP_TLS && s->len) {
        size_t q = 0;
        while (q < s->len && (s->buf[q] == '\r' || s->buf[q] == '\n'))
            q++;
        size_t rest = s->len - q;
        int sip = rest && ((s->synced && s->kind == SW__TCP_SIP) ||
                           ((s->synced || s->boundary) &&
                            sw_sip_looks_like((const char *)s->buf + q, rest)));
        if (sip) {
            if (rest > c->lim.sip.max_msg_size && c->lim.sip.max_msg_size)
                rest = c->lim.sip.max_msg_size;
            sw_sip_error err = {SW_EINCOMPLETE, rest, reason};
            c->stats.tcp_incomplete++;
            rc = deliver(c, s, f, s->buf + q, rest, q < s->new_off, &err);
        }
    }
    release(c, s);
    return rc;
}

int sw__tcp_input(sw_capture *c, const sw__ip *ip, const sw__frame *f)
{
    if (ip->len < 20) {
        c->stats.damaged++;
        return 0;
    }
    const uint8_t *th = ip->data;
    size_t doff = (size_t)(th[12] >> 4) * 4;
    if (doff < 20 || doff > ip->len) {
        c->stats.damaged++;
        return 0;
    }
    c->stats.tcp_segments++;
    sw__tcp_table *t = &c->tcp;
    if (!t->streams)
        return 0;
    uint8_t flags = th[13];
    uint32_t seq = rd32(th + 4);
    const uint8_t *pl = th + doff;
    size_t n = ip->len - doff;
    uint32_t end_seq = seq + (flags & TH_SYN ? 1u : 0u) + (uint32_t)n;

    sw__key k;
    memset(&k, 0, sizeof k);
    memcpy(k.src, ip->src, 16);
    memcpy(k.dst, ip->dst, 16);
    k.sport = rd16(th);
    k.dport = rd16(th + 2);
    k.family = ip->family;
    k.proto = 6;
    /* Every segment of a known direction makes it the most recently used
     * (also when it is about to end: that moves no other stream). */
    sw__tcp_stream *s = sw_table_get(t->streams, &k);
    if (s && s->cap)
        sw_table_get(t->holders, &s);

    if (flags & TH_RST) {
        /* A reset ends both directions; data on it is not accepted. */
        int rc = 0;
        if (s)
            rc = finalize(c, s, f, SW__REASON_STREAM_ENDED);
        sw__key r = k;
        memcpy(r.src, k.dst, 16);
        memcpy(r.dst, k.src, 16);
        r.sport = k.dport;
        r.dport = k.sport;
        sw__tcp_stream *rs = sw_table_peek(t->streams, &r);
        if (rs && rc == 0)
            rc = finalize(c, rs, f, SW__REASON_STREAM_ENDED);
        return rc;
    }

    int rc = 0;
    if (flags & TH_SYN) {
        if (s && !(s->syn_seen && s->isn == seq)) {
            /* A new connection on the same ports: the old one is over. */
            rc = finalize(c, s, f, SW__REASON_STREAM_ENDED);
            s = NULL;
        }
        if (!s) {
            s = acquire(c, &k);
            s->next_seq = seq + 1;
            s->syn_seen = 1;
            s->isn = seq;
            s->synced = 1;
            sw_sip_framer_init(&s->fr);
            s->boundary = 1;
            s->at_start = 1;
        }
        seq += 1; /* data on a SYN (TCP Fast Open) follows the SYN's number */
    } else if (!s) {
        /* Pure ACKs and FINs of unknown directions create no state. */
        if (n == 0)
            return 0;
        s = acquire(c, &k);
        s->next_seq = seq;
        s->synced = 0;
        s->boundary = 1; /* the first captured byte may start a message */
        if (sw__ep_known(c, k.family, k.dst, k.dport) || sw__ep_known(c, k.family, k.src, k.sport))
            s->kind = SW__TCP_SIP;
    }
    if (rc)
        return rc;

    s->last_ts = f->ts_ns;
    s->last_frame = f->no;
    s->vlan = f->vlan;

    if (n) {
        if (s->kind == SW__TCP_OTHER)
            c->stats.non_sip++;
        int64_t d = seqdiff(seq, s->next_seq);
        if (d < 0) {
            c->stats.tcp_retransmits++;
            if ((uint64_t)(-d) >= n) {
                n = 0; /* all of it was seen before */
            } else {
                pl += -d;
                n -= (size_t)(-d);
                seq = s->next_seq;
                d = 0;
            }
        }
        if (n && d == 0)
            rc = in_order(c, s, pl, n, ip->reassembled, f);
        else if (n)
            rc = out_of_order(c, s, seq, pl, n, ip->reassembled, f);
    }

    if (flags & TH_FIN) {
        s->fin_seen = 1;
        s->fin_seq = end_seq;
    }
    if (rc == 0 && s->fin_seen && seqdiff(s->next_seq, s->fin_seq) >= 0)
        rc = finalize(c, s, f, SW__REASON_STREAM_ENDED);
    return rc;
}

int sw__tcp_expire(sw_capture *c, int64_t now_ns, const sw__frame *f)
{
    if (!c->tcp.streams)
        return 0;
    int64_t idle = (int64_t)c->lim.tcp_idle_timeout_ms * 1000000;
    int rc = 0;
    sw__tcp_stream *s;
    while (rc == 0 && (s = sw_table_oldest(c->tcp.streams, NULL)) != NULL &&
           now_ns - s->last_ts > idle)
        rc = finalize(c, s, f, SW__REASON_STREAM_IDLE);
    return rc;
}

int sw__tcp_flush(sw_capture *c, const sw__frame *f)
{
    if (!c->tcp.streams)
        return 0;
    int rc = 0;
    sw__tcp_stream *s;
    /* Oldest first, so deliveries keep the order the data arrived in. */
    while (rc == 0 && (s = sw_table_oldest(c->tcp.streams, NULL)) != NULL)
        rc = finalize(c, s, f, SW__REASON_CAPTURE_ENDED);
    return rc;
}
