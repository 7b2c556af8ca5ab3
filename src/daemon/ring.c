/* Single-producer single-consumer byte ring between two workers: records
 * of [header][hdr][data], 8-byte aligned; a record never wraps (a pad
 * record fills the end instead).  Acquire/release on the two indexes is
 * the only synchronisation. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"

#define PAD_KIND 0xffffffffu

struct swd_ring {
    size_t size; /* power of two */
    _Alignas(64) atomic_size_t head; /* written by the producer */
    _Alignas(64) atomic_size_t tail; /* written by the consumer */
    _Alignas(64) unsigned char buf[];
};

typedef struct rec_hdr {
    uint32_t kind;
    uint32_t hlen;
    uint32_t dlen;
    uint32_t total; /* bytes of the whole record, aligned */
} rec_hdr;

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

swd_ring *swd_ring_new(size_t bytes)
{
    size_t size = 4096;
    while (size < bytes)
        size <<= 1;
    swd_ring *r = calloc(1, sizeof *r + size);
    if (!r)
        return NULL;
    r->size = size;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return r;
}

void swd_ring_free(swd_ring *r) { free(r); }

size_t swd_ring_used(const swd_ring *r)
{
    /* tail first: head read after it is never behind it */
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    return head - tail;
}

int swd_ring_put(swd_ring *r, uint32_t kind, const void *hdr, size_t hlen, const void *data,
                 size_t dlen)
{
    size_t need = align8(sizeof(rec_hdr) + hlen + dlen);
    if (need > r->size / 2)
        return SW_ELIMIT;
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t off = head & (r->size - 1);
    size_t to_end = r->size - off;
    size_t pad = to_end < need ? to_end : 0;
    if (r->size - (head - tail) < need + pad)
        return SW_ELIMIT;
    if (pad) {
        rec_hdr p = {PAD_KIND, 0, 0, (uint32_t)pad};
        if (pad >= sizeof p)
            memcpy(r->buf + off, &p, sizeof p);
        head += pad;
        off = 0;
    }
    rec_hdr h = {kind, (uint32_t)hlen, (uint32_t)dlen, (uint32_t)need};
    memcpy(r->buf + off, &h, sizeof h);
    if (hlen)
        memcpy(r->buf + off + sizeof h, hdr, hlen);
    if (dlen)
        memcpy(r->buf + off + sizeof h + hlen, data, dlen);
    atomic_store_explicit(&r->head, head + need, memory_order_release);
    return SW_OK;
}

int swd_ring_peek(swd_ring *r, swd_ring_rec *out)
{
    for (;;) {
        size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail == head)
            return 0;
        size_t off = tail & (r->size - 1);
        size_t to_end = r->size - off;
        rec_hdr h;
        if (to_end < sizeof h) { /* a pad too short for a header */
            atomic_store_explicit(&r->tail, tail + to_end, memory_order_release);
            continue;
        }
        memcpy(&h, r->buf + off, sizeof h);
        if (h.kind == PAD_KIND) {
            atomic_store_explicit(&r->tail, tail + h.total, memory_order_release);
            continue;
        }
        out->kind = h.kind;
        out->hdr = r->buf + off + sizeof h;
        out->hlen = h.hlen;
        out->data = r->buf + off + sizeof h + h.hlen;
        out->dlen = h.dlen;
        return 1;
    }
}

void swd_ring_pop(swd_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    rec_hdr h;
    memcpy(&h, r->buf + (tail & (r->size - 1)), sizeof h);
    atomic_store_explicit(&r->tail, tail + h.total, memory_order_release);
}
