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

/* Buffers up to this size stay with their slot for the next set; larger ones
 * are returned so that a burst of big datagrams does not pin memory. */
#define SW__FRAG_KEEP_BUF 16384u
#define SW__FRAG_MIN_BUF 2048u

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

int sw__frag_init(sw_capture *c)
{
    sw__frag_table *t = &c->frag;
    memset(t, 0, sizeof *t);
    t->free_head = t->oldest = t->newest = SW__NIL;
    t->nsets = c->lim.max_frag_sets;
    if (t->nsets == 0)
        return SW_OK; /* reassembly disabled: every fragment is dropped */
    if (t->nsets > (1u << 24))
        t->nsets = 1u << 24;
    t->sets = calloc(t->nsets, sizeof *t->sets);
    uint32_t nb = pow2_at_least(t->nsets * 2);
    t->buckets = malloc((size_t)nb * sizeof *t->buckets);
    if (!t->sets || !t->buckets)
        return SW_ENOMEM;
    t->mask = nb - 1;
    for (uint32_t i = 0; i < nb; i++)
        t->buckets[i] = SW__NIL;
    for (uint32_t i = 0; i < t->nsets; i++)
        t->sets[i].next = i + 1 < t->nsets ? i + 1 : SW__NIL;
    t->free_head = 0;
    return SW_OK;
}

void sw__frag_destroy(sw_capture *c)
{
    sw__frag_table *t = &c->frag;
    for (uint32_t i = 0; t->sets && i < t->nsets; i++)
        free(t->sets[i].buf);
    free(t->sets);
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

static uint32_t find(sw_capture *c, const sw__key *k, uint32_t h)
{
    sw__frag_table *t = &c->frag;
    for (uint32_t i = t->buckets[h & t->mask]; i != SW__NIL; i = t->sets[i].hnext)
        if (memcmp(&t->sets[i].key, k, sizeof *k) == 0)
            return i;
    return SW__NIL;
}

static void release(sw_capture *c, uint32_t i)
{
    sw__frag_table *t = &c->frag;
    sw__frag_set *s = &t->sets[i];
    uint32_t *pp = &t->buckets[sw__key_hash(c, &s->key) & t->mask];
    while (*pp != i)
        pp = &t->sets[*pp].hnext;
    *pp = s->hnext;
    if (s->prev != SW__NIL)
        t->sets[s->prev].next = s->next;
    else
        t->oldest = s->next;
    if (s->next != SW__NIL)
        t->sets[s->next].prev = s->prev;
    else
        t->newest = s->prev;
    if (s->cap > SW__FRAG_KEEP_BUF) {
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
    }
    uint8_t *buf = s->buf;
    uint32_t cap = s->cap;
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->cap = cap;
    s->next = t->free_head;
    t->free_head = i;
    t->used--;
}

static uint32_t acquire(sw_capture *c, const sw__key *k, uint32_t h, int64_t ts)
{
    sw__frag_table *t = &c->frag;
    if (t->free_head == SW__NIL) {
        c->stats.frag_evicted++;
        release(c, t->oldest);
    }
    uint32_t i = t->free_head;
    sw__frag_set *s = &t->sets[i];
    t->free_head = s->next;
    t->used++;
    s->key = *k;
    s->in_use = 1;
    s->first_ts = ts;
    s->hnext = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = i;
    s->prev = t->newest;
    s->next = SW__NIL;
    if (t->newest != SW__NIL)
        t->sets[t->newest].next = i;
    else
        t->oldest = i;
    t->newest = i;
    return i;
}

static void drop(sw_capture *c, uint32_t i)
{
    c->stats.frag_dropped++;
    release(c, i);
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
    sw__frag_table *t = &c->frag;
    c->stats.ip_fragments++;
    if (t->nsets == 0) {
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
    uint32_t h = sw__key_hash(c, k);
    uint32_t i = find(c, k, h);
    if (end64 > c->lim.max_frag_bytes) {
        if (i != SW__NIL)
            drop(c, i);
        else
            c->stats.frag_dropped++;
        return 0;
    }
    uint32_t end = (uint32_t)end64;
    if (i == SW__NIL)
        i = acquire(c, k, h, f->ts_ns);
    sw__frag_set *s = &t->sets[i];

    for (uint16_t r = 0; len && r < s->nranges; r++) {
        if (offset < s->ranges[r].end && end > s->ranges[r].start) {
            if (offset >= s->ranges[r].start && end <= s->ranges[r].end)
                return 0; /* a duplicate: keep what we have */
            drop(c, i);
            return 0;
        }
    }
    if (!more) {
        if ((s->have_last && s->total != end) ||
            (s->nranges && s->ranges[s->nranges - 1].end > end)) {
            drop(c, i); /* two different ends, or data past the end */
            return 0;
        }
        s->have_last = 1;
        s->total = end;
    } else if (s->have_last && end > s->total) {
        drop(c, i);
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
                drop(c, i);
                return 0;
            }
            s->buf = nb;
            s->cap = ncap;
        }
        if (add_range(s, offset, end) < 0) {
            drop(c, i);
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
    release(c, i);
    return rc;
}

void sw__frag_expire(sw_capture *c, int64_t now_ns)
{
    sw__frag_table *t = &c->frag;
    int64_t timeout = (int64_t)c->lim.frag_timeout_ms * 1000000;
    while (t->oldest != SW__NIL && now_ns - t->sets[t->oldest].first_ts > timeout) {
        c->stats.frag_timeouts++;
        release(c, t->oldest);
    }
}

void sw__frag_clear(sw_capture *c)
{
    sw__frag_table *t = &c->frag;
    while (t->oldest != SW__NIL)
        release(c, t->oldest);
}
