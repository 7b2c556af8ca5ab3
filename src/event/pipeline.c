/* The event pipeline (include/sipwall/event.h): per-worker single-producer
 * rings of serialised records, one writer thread that stores them in
 * batches.
 *
 * Ring protocol.  tail is written by the producer only, head by the writer
 * only.  The producer fills slot[tail & mask] while it is outside the
 * published range, then publishes it by storing tail + 1; the writer moves
 * slots [head, tail) out and releases them by storing head.  The JSON
 * bytes held are an atomic counter both sides adjust.
 *
 * Wake-ups.  The writer announces its sleep (sleeping = 1, under mu), looks
 * at the queues once more and only then waits; a producer that has just
 * published checks sleeping after its store to tail (both sequentially
 * consistent) and, only if the writer sleeps, signals under mu.  Either
 * the writer's look sees the record or the producer sees sleeping = 1, so
 * no wake-up is lost; the timed wait bounds the damage of any mistake. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sipwall/event.h"

#define MAX_PRODUCERS 1024
#define SUMMARY_EVERY_NS INT64_C(1000000000)
#define CACHELINE 64

typedef struct pqueue {
    sw_event_sink base; /* first: the producer's sink */
    struct sw_event_pipeline *p;
    sw_event_rec *slots;
    size_t mask;
    _Alignas(CACHELINE) _Atomic size_t tail; /* producer */
    _Atomic uint64_t enqueued;
    _Atomic uint64_t dropped;
    _Atomic uint64_t max_depth;
    _Alignas(CACHELINE) _Atomic size_t head; /* writer */
    _Atomic size_t bytes;                    /* both */
} pqueue;

struct sw_event_pipeline {
    sw_event_pipeline_opts o;
    pqueue *q;
    pthread_t thread;
    int started;

    pthread_mutex_t mu;
    pthread_cond_t wake;  /* the writer waits here */
    pthread_cond_t done_cv; /* flush waits here */
    _Atomic int sleeping;
    _Atomic int stop;
    _Atomic int reopen_req;

    /* the writer's counters (read by stats) */
    _Atomic uint64_t taken; /* records moved out of the queues and resolved */
    _Atomic uint64_t written, write_errors, sink_errors, batches, summaries;
    _Atomic uint64_t reopens, reopen_errors, retained, abandoned;

    char last_err[256];   /* under mu */

    /* writer-only */
    sw_event_rec *batch;  /* batch_max + 1 (room for a summary) */
    size_t nbatch;
    size_t nfromq;        /* of nbatch, records taken from the queues */
    uint64_t reported;    /* drops already told in a summary */
    int64_t last_summary;
    unsigned next_q;      /* round-robin start */
    sw_event_ids ids;     /* for the event_loss events it adds */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- producers ------------------------------------------------------------------ */

static int pq_emit(sw_event_sink *s, const sw_event *ev)
{
    pqueue *q = (pqueue *)s;
    sw_event_pipeline *p = q->p;
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail - head > q->mask || atomic_load_explicit(&p->stop, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&q->dropped, 1, memory_order_relaxed);
        return SW_ELIMIT;
    }
    sw_event_rec *r = &q->slots[tail & q->mask];
    if (sw_event_rec_fill(r, ev) != SW_OK) {
        atomic_fetch_add_explicit(&q->dropped, 1, memory_order_relaxed);
        return SW_ENOMEM;
    }
    size_t held = atomic_load_explicit(&q->bytes, memory_order_relaxed);
    if (held + r->json_len > p->o.queue_bytes) {
        sw_event_rec_clear(r);
        atomic_fetch_add_explicit(&q->dropped, 1, memory_order_relaxed);
        return SW_ELIMIT;
    }
    atomic_fetch_add_explicit(&q->bytes, r->json_len, memory_order_relaxed);
    /* counted before it is published, so a flush that sees the record
     * taken also saw it counted */
    atomic_fetch_add_explicit(&q->enqueued, 1, memory_order_relaxed);
    uint64_t depth = tail + 1 - head;
    if (depth > atomic_load_explicit(&q->max_depth, memory_order_relaxed))
        atomic_store_explicit(&q->max_depth, depth, memory_order_relaxed);
    atomic_store(&q->tail, tail + 1); /* seq_cst: ordered before the load below */
    if (atomic_load(&p->sleeping) && atomic_exchange(&p->sleeping, 0)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    return SW_OK;
}

static int pq_flush(sw_event_sink *s)
{
    (void)s; /* a producer never waits: sw_event_pipeline_flush does */
    return SW_OK;
}

static int pq_close(sw_event_sink *s)
{
    (void)s; /* owned by the pipeline */
    return SW_OK;
}

static const sw_event_sink_ops pq_ops = {
    .name = "pipeline",
    .emit = pq_emit,
    .flush = pq_flush,
    .close = pq_close,
};

/* ---- the writer ----------------------------------------------------------------- */

static size_t queued_now(sw_event_pipeline *p)
{
    size_t n = 0;
    for (unsigned i = 0; i < p->o.producers; i++)
        n += atomic_load(&p->q[i].tail) - atomic_load(&p->q[i].head);
    return n;
}

static uint64_t dropped_now(sw_event_pipeline *p)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < p->o.producers; i++)
        n += atomic_load_explicit(&p->q[i].dropped, memory_order_relaxed);
    return n;
}

/* Moves queued records into the batch, round robin over the queues so
 * that one busy worker cannot starve the others. */
static void collect(sw_event_pipeline *p)
{
    unsigned nq = p->o.producers;
    for (unsigned k = 0; k < nq && p->nbatch < p->o.batch_max; k++) {
        pqueue *q = &p->q[(p->next_q + k) % nq];
        size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
        size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
        size_t bytes = 0, moved = 0;
        while (head + moved != tail && p->nbatch < p->o.batch_max) {
            sw_event_rec *r = &q->slots[(head + moved) & q->mask];
            p->batch[p->nbatch++] = *r;
            bytes += r->json_len;
            r->json = NULL;
            moved++;
        }
        if (moved) {
            atomic_fetch_sub_explicit(&q->bytes, bytes, memory_order_relaxed);
            atomic_store_explicit(&q->head, head + moved, memory_order_release);
            p->nfromq += moved;
        }
    }
    p->next_q = (p->next_q + 1) % nq;
}

/* Adds the event_loss summary when producers dropped events since the
 * last one (at most once a second, and at the end). */
static void maybe_summary(sw_event_pipeline *p, int final)
{
    uint64_t d = dropped_now(p);
    int64_t now = mono_ns();
    if (d <= p->reported || (!final && now - p->last_summary < SUMMARY_EVERY_NS))
        return;
    uint64_t delta = d - p->reported;
    char reason[256];
    int n = snprintf(reason, sizeof reason,
                     "%llu events were dropped and are not stored: an event queue was full "
                     "(the writer could not keep up%s)",
                     (unsigned long long)delta,
                     atomic_load(&p->write_errors) ? ", the store failed" : "");
    sw_event ev;
    sw_event_init(&ev, SW_EVT_EVENT_LOSS, SW_CAT_SYSTEM, "sipwall.events_dropped");
    ev.ts_ns = real_ns();
    ev.action = SW_ACTION_ALLOW; /* traffic was screened as usual: only records are lost */
    sw_event_id_next(&p->ids, ev.ts_ns, ev.event_id);
    ev.reason = sw_str_make(reason, n < 0 ? 0 : (size_t)n < sizeof reason ? (size_t)n : sizeof reason - 1);
    (void)sw_event_add_num(&ev, "dropped", (int64_t)delta);
    (void)sw_event_add_num(&ev, "dropped_total", (int64_t)d);
    (void)sw_event_add_num(&ev, "write_errors", (int64_t)atomic_load(&p->write_errors));
    if (sw_event_rec_fill(&p->batch[p->nbatch], &ev) != SW_OK)
        return; /* no memory: told next time */
    p->nbatch++;
    p->reported = d;
    p->last_summary = now;
    atomic_fetch_add(&p->summaries, 1);
}

static void batch_release(sw_event_pipeline *p)
{
    for (size_t i = 0; i < p->nbatch; i++)
        sw_event_rec_clear(&p->batch[i]);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->taken, p->nfromq);
    pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
    p->nbatch = 0;
    p->nfromq = 0;
}

static void set_last_error(sw_event_pipeline *p, const char *what, const char *detail)
{
    pthread_mutex_lock(&p->mu);
    snprintf(p->last_err, sizeof p->last_err, "%s: %s", what, detail);
    pthread_mutex_unlock(&p->mu);
}

/* Stores the batch: SW_OK (then released), or the store's error (the
 * batch stays for a retry). */
static int batch_write(sw_event_pipeline *p)
{
    if (p->o.store) {
        int r = sw_event_store_append(p->o.store, p->batch, p->nbatch);
        if (r != SW_OK) {
            set_last_error(p, "store", sw_event_store_error(p->o.store));
            atomic_fetch_add(&p->write_errors, 1);
            return r;
        }
    }
    for (size_t i = 0; i < p->o.nsinks; i++) {
        sw_event_sink *s = p->o.sinks[i];
        uint64_t before = s->failed;
        if (s->ops->write_recs(s, p->batch, p->nbatch) != SW_OK) {
            atomic_fetch_add(&p->sink_errors, s->failed > before ? s->failed - before : p->nbatch);
            set_last_error(p, s->ops->name, "write failed, events lost in this output");
        }
    }
    atomic_fetch_add(&p->written, p->nbatch);
    atomic_fetch_add(&p->batches, 1);
    batch_release(p);
    return SW_OK;
}

/* Sleeps up to ms.  idle: not when there is work, a stop or a reopen
 * request; otherwise (a retry pause) only a reopen request cuts it short. */
static void writer_sleep(sw_event_pipeline *p, unsigned ms, int idle)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&p->mu);
    if (idle) {
        atomic_store(&p->sleeping, 1); /* producers wake us */
        if (!atomic_load(&p->reopen_req) && !atomic_load(&p->stop) && queued_now(p) == 0)
            pthread_cond_timedwait(&p->wake, &p->mu, &ts);
        atomic_store(&p->sleeping, 0);
    } else {
        /* a retry pause: producers do not wake it, the full pause is kept */
        while (!atomic_load(&p->reopen_req) &&
               pthread_cond_timedwait(&p->wake, &p->mu, &ts) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&p->mu);
}

static void do_reopen(sw_event_pipeline *p)
{
    for (size_t i = 0; i < p->o.nsinks; i++) {
        sw_event_sink *s = p->o.sinks[i];
        if (!s->ops->reopen)
            continue;
        if (s->ops->reopen(s) == SW_OK) {
            atomic_fetch_add(&p->reopens, 1);
        } else {
            atomic_fetch_add(&p->reopen_errors, 1);
            set_last_error(p, s->ops->name, "reopen failed, still writing to the old file");
        }
    }
}

static void *writer_main(void *arg)
{
    sw_event_pipeline *p = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    int64_t next_retain = mono_ns() + (int64_t)p->o.retain_every_s * 1000000000;
    int64_t stop_deadline = 0;
    for (;;) {
        int stopping = atomic_load(&p->stop);
        if (stopping && !stop_deadline)
            stop_deadline = mono_ns() + (int64_t)p->o.close_timeout_ms * 1000000;
        if (atomic_exchange(&p->reopen_req, 0))
            do_reopen(p);
        if (p->nbatch == 0) {
            collect(p);
            maybe_summary(p, stopping && queued_now(p) == 0);
        }
        if (p->nbatch > 0) {
            if (batch_write(p) != SW_OK) {
                if (stopping && mono_ns() >= stop_deadline)
                    break; /* the store keeps failing: give up (counted at free) */
                writer_sleep(p, p->o.retry_ms, 0);
            }
            continue;
        }
        if (stopping)
            break;
        int64_t now = mono_ns();
        if (p->o.store && now >= next_retain) {
            int64_t d = sw_event_store_retain(p->o.store, real_ns());
            if (d > 0)
                atomic_fetch_add(&p->retained, (uint64_t)d);
            next_retain = now + (int64_t)p->o.retain_every_s * 1000000000;
        }
        writer_sleep(p, p->o.wait_ms, 1);
    }
    return NULL;
}

/* ---- the pipeline ----------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static void free_queues(sw_event_pipeline *p)
{
    for (unsigned i = 0; p->q && i < p->o.producers; i++) {
        pqueue *q = &p->q[i];
        if (!q->slots)
            continue;
        for (size_t k = 0; k <= q->mask; k++)
            free(q->slots[k].json); /* slots outside [head, tail) hold NULL */
        free(q->slots);
    }
    free(p->q);
}

static void destroy(sw_event_pipeline *p)
{
    free_queues(p);
    free(p->batch);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done_cv);
    free(p);
}

sw_event_pipeline *sw_event_pipeline_new(const sw_event_pipeline_opts *o, char *err, size_t errlen)
{
    if (o->producers < 1 || o->producers > MAX_PRODUCERS) {
        set_err(err, errlen, "event pipeline: producers must be 1..1024");
        return NULL;
    }
    for (size_t i = 0; i < o->nsinks; i++) {
        if (!o->sinks || !o->sinks[i] || !o->sinks[i]->ops->write_recs) {
            set_err(err, errlen, "event pipeline: a sink cannot take serialised records");
            return NULL;
        }
    }
    sw_event_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        set_err(err, errlen, "event pipeline: out of memory");
        return NULL;
    }
    p->o = *o;
    sw_event_ids_init(&p->ids);
    if (!p->o.queue_records)
        p->o.queue_records = 4096;
    if (p->o.queue_records > ((size_t)1 << 24)) {
        free(p);
        set_err(err, errlen, "event pipeline: queue_records above 16M");
        return NULL;
    }
    if (!p->o.queue_bytes)
        p->o.queue_bytes = (size_t)8 << 20;
    if (!p->o.batch_max)
        p->o.batch_max = 1024;
    if (!p->o.wait_ms)
        p->o.wait_ms = 50;
    if (!p->o.retry_ms)
        p->o.retry_ms = 1000;
    if (!p->o.retain_every_s)
        p->o.retain_every_s = 10;
    if (!p->o.close_timeout_ms)
        p->o.close_timeout_ms = 5000;
    size_t cap = 1;
    while (cap < p->o.queue_records)
        cap <<= 1;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, &ca);
    pthread_cond_init(&p->done_cv, &ca);
    pthread_condattr_destroy(&ca);

    p->q = aligned_alloc(CACHELINE, sizeof *p->q * p->o.producers);
    p->batch = calloc(p->o.batch_max + 1, sizeof *p->batch);
    if (!p->q || !p->batch) {
        free(p->q);
        p->q = NULL;
        destroy(p);
        set_err(err, errlen, "event pipeline: out of memory");
        return NULL;
    }
    memset(p->q, 0, sizeof *p->q * p->o.producers);
    for (unsigned i = 0; i < p->o.producers; i++) {
        pqueue *q = &p->q[i];
        q->base.ops = &pq_ops;
        q->p = p;
        q->mask = cap - 1;
        q->slots = calloc(cap, sizeof *q->slots);
        if (!q->slots) {
            destroy(p);
            set_err(err, errlen, "event pipeline: out of memory for the queues");
            return NULL;
        }
    }
    p->last_summary = mono_ns() - SUMMARY_EVERY_NS;
    int e = pthread_create(&p->thread, NULL, writer_main, p);
    if (e != 0) {
        destroy(p);
        if (err && errlen)
            snprintf(err, errlen, "event pipeline: cannot start the writer: %s", strerror(e));
        return NULL;
    }
    (void)pthread_setname_np(p->thread, "sw-events");
    p->started = 1;
    return p;
}

sw_event_sink *sw_event_pipeline_producer(sw_event_pipeline *p, unsigned i)
{
    return i < p->o.producers ? &p->q[i].base : NULL;
}

static uint64_t enqueued_now(sw_event_pipeline *p)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < p->o.producers; i++)
        n += atomic_load(&p->q[i].enqueued);
    return n;
}

int sw_event_pipeline_flush(sw_event_pipeline *p, unsigned timeout_ms)
{
    uint64_t target = enqueued_now(p);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    ts.tv_sec += timeout_ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    int r = SW_OK;
    pthread_mutex_lock(&p->mu);
    pthread_cond_signal(&p->wake); /* do not wait for the writer's timer */
    while (atomic_load(&p->taken) + atomic_load(&p->abandoned) < target) {
        if (pthread_cond_timedwait(&p->done_cv, &p->mu, &ts) == ETIMEDOUT) {
            r = atomic_load(&p->taken) + atomic_load(&p->abandoned) >= target ? SW_OK : SW_EAGAIN;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

void sw_event_pipeline_reopen(sw_event_pipeline *p)
{
    atomic_store(&p->reopen_req, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
}

void sw_event_pipeline_last_error(sw_event_pipeline *p, char *buf, size_t len)
{
    if (len == 0)
        return;
    pthread_mutex_lock(&p->mu);
    snprintf(buf, len, "%s", p->last_err);
    pthread_mutex_unlock(&p->mu);
}

void sw_event_pipeline_stats_get(sw_event_pipeline *p, sw_event_pipeline_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < p->o.producers; i++) {
        pqueue *q = &p->q[i];
        out->enqueued += atomic_load_explicit(&q->enqueued, memory_order_relaxed);
        out->dropped += atomic_load_explicit(&q->dropped, memory_order_relaxed);
        uint64_t m = atomic_load_explicit(&q->max_depth, memory_order_relaxed);
        if (m > out->max_depth)
            out->max_depth = m;
    }
    out->queued = queued_now(p);
    out->written = atomic_load(&p->written);
    out->write_errors = atomic_load(&p->write_errors);
    out->sink_errors = atomic_load(&p->sink_errors);
    out->batches = atomic_load(&p->batches);
    out->summaries = atomic_load(&p->summaries);
    out->reopens = atomic_load(&p->reopens);
    out->reopen_errors = atomic_load(&p->reopen_errors);
    out->retained = atomic_load(&p->retained);
    out->abandoned = atomic_load(&p->abandoned);
}

int sw_event_pipeline_free(sw_event_pipeline *p, sw_event_pipeline_stats *final)
{
    if (!p)
        return SW_OK;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
    if (p->started)
        pthread_join(p->thread, NULL);
    /* what the writer could not store: its batch and what is still queued */
    uint64_t left = p->nfromq;
    for (size_t i = 0; i < p->nbatch; i++)
        sw_event_rec_clear(&p->batch[i]);
    p->nbatch = p->nfromq = 0;
    for (unsigned i = 0; i < p->o.producers; i++)
        left += atomic_load(&p->q[i].tail) - atomic_load(&p->q[i].head);
    atomic_fetch_add(&p->abandoned, left);
    if (final)
        sw_event_pipeline_stats_get(p, final);
    int r = left ? SW_EIO : SW_OK;
    destroy(p);
    return r;
}
