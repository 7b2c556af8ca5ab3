/* The JSON-lines event sink: one JSON object per line, buffered. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "event_int.h"

#define JSONL_IOBUF (64 * 1024)
#define JSONL_LINE_START 4096

typedef struct jsonl_sink {
    sw_event_sink base; /* first: the sink interface */
    FILE *fp;
    int owns;           /* fclose at close (0 for stdout or a borrowed stream) */
    char *iobuf;        /* stdio buffer, freed after the stream is done with it */
    char *line;         /* reused serialisation buffer */
    size_t line_cap;
} jsonl_sink;

/* Serialises into the reused line buffer, growing it when an event is
 * larger than anything seen so far (events are bounded, so this stops). */
static int jsonl_emit(sw_event_sink *s, const sw_event *ev)
{
    jsonl_sink *j = (jsonl_sink *)s;
    json_t *o = sw__event_to_jansson(ev);
    if (!o)
        return SW_ENOMEM;
    size_t n = json_dumpb(o, j->line, j->line_cap, JSON_COMPACT);
    if (n >= j->line_cap) {
        size_t cap = n + 1;
        char *p = realloc(j->line, cap);
        if (!p) {
            json_decref(o);
            return SW_ENOMEM;
        }
        j->line = p;
        j->line_cap = cap;
        n = json_dumpb(o, j->line, j->line_cap, JSON_COMPACT);
    }
    json_decref(o);
    if (n == 0 || n >= j->line_cap)
        return SW_ENOMEM;
    j->line[n] = '\n';
    if (fwrite(j->line, 1, n + 1, j->fp) != n + 1)
        return SW_EIO;
    return SW_OK;
}

static int jsonl_flush(sw_event_sink *s)
{
    jsonl_sink *j = (jsonl_sink *)s;
    return (fflush(j->fp) != 0 || ferror(j->fp)) ? SW_EIO : SW_OK;
}

static int jsonl_close(sw_event_sink *s)
{
    jsonl_sink *j = (jsonl_sink *)s;
    int r = jsonl_flush(s);
    if (j->owns && fclose(j->fp) != 0)
        r = SW_EIO;
    free(j->iobuf); /* only set on streams we opened, so no longer in use */
    free(j->line);
    free(j);
    return r;
}

static const sw_event_sink_ops jsonl_ops = {
    .name = "jsonl",
    .emit = jsonl_emit,
    .flush = jsonl_flush,
    .close = jsonl_close,
};

static jsonl_sink *jsonl_alloc(void)
{
    jsonl_sink *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->base.ops = &jsonl_ops;
    j->line_cap = JSONL_LINE_START;
    j->line = malloc(j->line_cap);
    if (!j->line) {
        free(j);
        return NULL;
    }
    return j;
}

sw_event_sink *sw_jsonl_sink_new(FILE *fp, int owns)
{
    jsonl_sink *j = jsonl_alloc();
    if (!j)
        return NULL;
    j->fp = fp;
    j->owns = owns;
    return &j->base;
}

sw_event_sink *sw_jsonl_sink_open(const char *path, char *errbuf, size_t errlen)
{
    jsonl_sink *j = jsonl_alloc();
    FILE *fp;
    int owns = 1;
    if (!j) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        fp = stdout;
        owns = 0;
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        fp = fd < 0 ? NULL : fdopen(fd, "w");
        if (!fp) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            if (errbuf && errlen)
                snprintf(errbuf, errlen, "%s: %s", path, strerror(e));
            free(j->line);
            free(j);
            return NULL;
        }
    }
    /* Events come in bursts (floods, scans): write in large blocks.  stdout
     * keeps its own stdio buffering (full when redirected): its buffer may
     * only be changed before first use, which we cannot promise. */
    j->iobuf = owns ? malloc(JSONL_IOBUF) : NULL;
    if (j->iobuf && setvbuf(fp, j->iobuf, _IOFBF, JSONL_IOBUF) != 0) {
        free(j->iobuf);
        j->iobuf = NULL;
    }
    j->fp = fp;
    j->owns = owns;
    return &j->base;
}
