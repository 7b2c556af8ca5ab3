/* The fan-out sink: every event to each of a list of borrowed sinks. */
#include <stdlib.h>

#include "report_int.h"

typedef struct tee_sink {
    sw_event_sink base;
    size_t n;
    sw_event_sink *sinks[]; /* borrowed */
} tee_sink;

static int tee_emit(sw_event_sink *s, const sw_event *ev)
{
    tee_sink *t = (tee_sink *)s;
    int first = SW_OK;
    for (size_t i = 0; i < t->n; i++) {
        int r = sw_event_emit(t->sinks[i], ev);
        if (r < 0 && first == SW_OK)
            first = r;
    }
    return first;
}

static int tee_flush(sw_event_sink *s)
{
    tee_sink *t = (tee_sink *)s;
    int first = SW_OK;
    for (size_t i = 0; i < t->n; i++) {
        int r = sw_event_sink_flush(t->sinks[i]);
        if (r < 0 && first == SW_OK)
            first = r;
    }
    return first;
}

/* The sinks are borrowed and left alone (their owner may already have
 * closed them): only the tee itself is freed. */
static int tee_close(sw_event_sink *s)
{
    free(s);
    return SW_OK;
}

static const sw_event_sink_ops tee_ops = {
    .name = "tee",
    .emit = tee_emit,
    .flush = tee_flush,
    .close = tee_close,
};

sw_event_sink *sw_tee_sink_new(sw_event_sink *const *sinks, size_t n)
{
    if (n > 0 && !sinks)
        return NULL;
    if (n > (SIZE_MAX - sizeof(tee_sink)) / sizeof(sw_event_sink *))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!sinks[i])
            return NULL;
    tee_sink *t = calloc(1, sizeof *t + n * sizeof(sw_event_sink *));
    if (!t)
        return NULL;
    t->base.ops = &tee_ops;
    t->n = n;
    for (size_t i = 0; i < n; i++)
        t->sinks[i] = sinks[i];
    return &t->base;
}
