/* One event sink shared by the workers: a mutex around the inner sink.
 * The engine caps events per (rule, offender), so this lock is taken per
 * event, not per message. */
#include <pthread.h>
#include <stdlib.h>

#include "daemon/daemon.h"

typedef struct locked_sink {
    sw_event_sink base;
    sw_event_sink *inner;
    pthread_mutex_t mu;
} locked_sink;

static int l_emit(sw_event_sink *s, const sw_event *ev)
{
    locked_sink *l = (locked_sink *)s;
    pthread_mutex_lock(&l->mu);
    int r = sw_event_emit(l->inner, ev);
    pthread_mutex_unlock(&l->mu);
    return r;
}

static int l_flush(sw_event_sink *s)
{
    locked_sink *l = (locked_sink *)s;
    pthread_mutex_lock(&l->mu);
    int r = sw_event_sink_flush(l->inner);
    pthread_mutex_unlock(&l->mu);
    return r;
}

static int l_close(sw_event_sink *s)
{
    locked_sink *l = (locked_sink *)s;
    int r = sw_event_sink_close(l->inner);
    pthread_mutex_destroy(&l->mu);
    free(l);
    return r;
}

static const sw_event_sink_ops locked_ops = {
    .name = "locked", .emit = l_emit, .flush = l_flush, .close = l_close};

sw_event_sink *swd_locked_sink_new(sw_event_sink *inner)
{
    locked_sink *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->base.ops = &locked_ops;
    l->inner = inner;
    pthread_mutex_init(&l->mu, NULL);
    return &l->base;
}
