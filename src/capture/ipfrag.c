/* IPv4 and IPv6 fragment reassembly.
 *
 * A datagram being reassembled is a "set": its fragments are copied at their
 * offsets into one buffer and the received byte ranges are kept sorted and
 * merged, so completion is "one range [0, total)".  Bounds: at most
 * max_frag_sets sets (the oldest is evicted for a new one), max_frag_bytes
 * per datagram, SW__FRAG_MAX_RANGES disjoint ranges, frag_timeout_ms of
 * capture time.  Overlaps follow the receiving hosts (RFC 5722, and Linux
 * for IPv4 since 4.19): a fragment wholly inside data already received is a
 * duplicate and ignored; any other overlap drops the whole datagram, so no
 * byte is ever chosen between two versions. */
#include <stdlib.h>

#include "capture/capture_int.h"

#define SW__FRAG_MIN_BUF 2048u

/* on_evict of the set table: a new set took the place of the oldest. */
static void on_evict(void *ctx, const void *key, void *value)
{
    (void)key;
    sw_capture *c = ctx;
    sw__frag_set *s = value;
    c->stats.frag_evicted++;
    free(s->buf);
}

int sw__frag_init(sw_capture *c)
{
    sw__frag_table *t = &c->frag;
    memset(t, 0, sizeof *t);
    uint32_t n = c->lim.max_frag_sets;
    if (n == 0)
        return SW_OK; /* reassembly disabled: every fragment is dropped */
    if (n > (1u << 24))
        n = 1u << 24;
    sw_table_config cfg = {.key_size = sizeof(sw__key),
                           .value_size = sizeof(sw__frag_set),
                           .capacity = n,
                           .seed = 0,
                           .on_evict = on_evict,
                           .evict_ctx = c};
    t->sets = sw_table_new(&cfg);
    return t->sets ? SW_OK : SW_ENOMEM;
}

/* Ends a set (completed, dropped, timed out or flushed). */
static void release(sw_capture *c, sw__frag_set *s)
{
    free(s->buf);
    sw_table_remove_value(c->frag.sets, s);
}

void sw__frag_clear(sw_capture *c)
{
    sw__frag_set *s;
    while (c->frag.sets && (s = sw_table_oldest(c->frag.sets, NULL)) != NULL)
        release(c, s);
}

void sw__frag_destroy(sw_capture *c)
{
    sw__frag_clear(c);
    sw_table_free(c->frag.sets);
    memset(&c->frag, 0, sizeof c->frag);
}

static void drop(sw_capture *c, sw__frag_set *s)
{
    c->stats.frag_dropped++;
    release(c, s);
}

/* Records [start, end) as received; ranges stay sorted and merged.
 * Returns -1 when the range list is full. */
static int add_range(sw__frag_set *s, uint32_t start, uint32_t end)
{
    uint16_t i = 0;
    while (i < s->nranges && s->ranges[i].end < start)
        i++;
    /* Now ranges[i] (if any) ends at or after start: merge if it touches. */
    if (i < s->nranges && s->ranges[i].start <= end) {
        if (start < s->ranges[i].start)
            s->ranges[i].start = start;
        if (end > s->ranges[i].end)
            s->ranges[i].end = end;
        /* The grown range may now touch its successor. */
        while (i + 1 < s->nranges && s->ranges[i + 1].start <= s->ranges[i].end) {
            if (s->ranges[i + 1].end > s->ranges[i].end)
                s->ranges[i].end = s->ranges[i + 1].end;
            memmove(&s->ranges[i + 1], &s->ranges[i + 2],
                    (size_t)(s->nranges - i - 2) * sizeof s->ranges[0]);
            s->nranges--;
        }
        return 0;
    }
    if (s->nranges == SW__FRAG_MAX_RANGES)
        return -1;
    memmove(&s->ranges[i + 1], &s->ranges[i], (size_t)(s->nranges - i) * sizeof s->ranges[0]);
    s->ranges[i].start = start;
    s->ranges[i].end = end;
    s->nranges++;
    return 0;
}

int sw__frag_input(sw_capture *c, const sw__key *k, uint32_t offset, int more, uint8_t next_proto,
                   const uint8_t *payload, size_t len, const sw__frame *f)
{
    sw_table *t = c->frag.sets;
    c->stats.ip_fragments++;
    if (!t) {
        c->stats.frag_dropped++;
        return 0;
    }
    /* Every fragment but the last carries a multiple of 8 bytes (RFC 791,
     * RFC 8200 §4.5); anything else cannot be placed consistently. */
    if (more && (len == 0 || (len & 7) != 0)) {
        c->stats.damaged++;
        return 0;
    }
    uint64_t end64 = (uint64_t)offset + len;
    /* peek, not get: the LRU order stays the order of creation. */
    sw__frag_set *s = sw_table_peek(t, k);
    if (end64 > c->lim.max_frag_bytes) {
        if (s)
            drop(c, s);
        else
            c->stats.frag_dropped++;
        return 0;
    }
    uint32_t end = (uint32_t)end64;
    if (!s) {
        s = sw_table_upsert(t, k, NULL); /* may evict the oldest set */
        s->key = *k;
        s->first_ts = f->ts_ns;
    }

    for (uint16_t r = 0; len && r < s->nranges; r++) {
        if (offset < s->ranges[r].end && end > s->ranges[r].start) {
            if (offset >= s->ranges[r].start && end <= s->ranges[r].end)
                return 0; /* a duplicate: keep what we have */
            drop(c, s);
            return 0;
        }
    }
    if (!more) {
        if ((s->have_last && s->total != end) ||
            (s->nranges && s->ranges[s->nranges - 1].end > end)) {
            drop(c, s); /* two different ends, or data past the end */
            return 0;
        }
        s->have_last = 1;
        s->total = end;
    } else if (s->have_last && end > s->total) {
        drop(c, s);
        return 0;
    }

    if (len) {
        if (end > s->cap) {
            uint32_t ncap = s->cap ? s->cap : SW__FRAG_MIN_BUF;
            while (ncap < end)
                ncap *= 2;
            if (ncap > c->lim.max_frag_bytes)
                ncap = c->lim.max_frag_bytes;
            uint8_t *nb = realloc(s->buf, ncap);
            if (!nb) {
                drop(c, s);
                return 0;
            }
            s->buf = nb;
            s->cap = ncap;
        }
        if (add_range(s, offset, end) < 0) {
            drop(c, s);
            return 0;
        }
        memcpy(s->buf + offset, payload, len);
    }
    if (offset == 0) {
        s->have_first = 1;
        s->next_proto = next_proto;
    }

    if (!(s->have_last && s->nranges == 1 && s->ranges[0].start == 0 &&
          s->ranges[0].end == s->total))
        return 0;

    c->stats.ip_reassembled++;
    sw__ip ip;
    memset(&ip, 0, sizeof ip);
    ip.family = s->key.family;
    ip.reassembled = 1;
    memcpy(ip.src, s->key.src, 16);
    memcpy(ip.dst, s->key.dst, 16);
    int rc;
    if (ip.family == 4) {
        ip.proto = s->key.proto;
        ip.data = s->buf;
        ip.len = s->total;
        rc = sw__transport_input(c, &ip, f);
    } else {
        rc = sw__ip6_upper(c, &ip, s->next_proto, s->buf, s->total, f, 1);
    }
    /* The set's buffer was only read during dispatch; now it can go. */
    release(c, s);
    return rc;
}

void sw__frag_expire(sw_capture *c, int64_t now_ns)
{
    if (!c->frag.sets)
        return;
    int64_t timeout = (int64_t)c->lim.frag_timeout_ms * 1000000;
    sw__frag_set *s;
    while ((s = sw_table_oldest(c->frag.sets, NULL)) != NULL && now_ns - s->first_ts > timeout) {
        c->stats.frag_timeouts++;
        release(c, s);
    }
}
