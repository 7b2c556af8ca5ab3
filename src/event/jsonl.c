/* The JSON-lines event sink: one JSON object per line, buffered. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
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

static int jsonl_write_recs(sw_event_sink *s, const sw_event_rec *recs, size_t n)
{
    jsonl_sink *j = (jsonl_sink *)s;
    for (size_t i = 0; i < n; i++) {
        if (fwrite(recs[i].json, 1, recs[i].json_len, j->fp) != recs[i].json_len ||
            putc('\n', j->fp) == EOF) {
            s->failed += n - i;
            return SW_EIO;
        }
        s->emitted++;
    }
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
    .write_recs = jsonl_write_recs,
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

/* ---- the daemon's append-only log ------------------------------------------------ */

#define APPEND_CHUNK (64 * 1024) /* bytes of whole lines per write(2) */
#define REPAIR_SCAN (4 << 20)    /* how far back a torn line is looked for */

typedef struct jsonl_append {
    sw_event_sink base; /* first: the sink interface */
    int fd;
    char *path;
    uint64_t repaired;  /* bytes of torn last lines cut off */
    char *buf;          /* APPEND_CHUNK bytes: lines gathered for one write */
} jsonl_append;

/* Cuts a last line that has no newline (a writer killed in the middle of
 * a write(2)): the file then ends at its last whole line.  Returns the
 * bytes cut, or -1 with errno. */
static int64_t repair_tail(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    off_t end = st.st_size, pos = end;
    char blk[4096];
    while (pos > 0 && end - pos < REPAIR_SCAN) {
        size_t n = pos < (off_t)sizeof blk ? (size_t)pos : sizeof blk;
        ssize_t r = pread(fd, blk, n, pos - (off_t)n);
        if (r != (ssize_t)n)
            return -1;
        for (size_t i = n; i > 0; i--) {
            if (blk[i - 1] == '\n') {
                off_t keep = pos - (off_t)n + (off_t)i;
                if (keep == end)
                    return 0;
                return ftruncate(fd, keep) < 0 ? -1 : (int64_t)(end - keep);
            }
        }
        pos -= (off_t)n;
    }
    if (end == 0)
        return 0;
    /* no newline in reach: nothing in the tail is a whole line */
    return ftruncate(fd, pos) < 0 ? -1 : (int64_t)(end - pos);
}

static int append_open_fd(const char *path, int64_t *repaired, char *errbuf, size_t errlen)
{
    /* read too: a torn last line is looked for.  O_NONBLOCK: a FIFO
     * planted at the path must not block the open */
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
                            O_NONBLOCK,
                  0640);
    struct stat st;
    if (fd < 0) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: %s%s", path, strerror(errno),
                     errno == ELOOP ? " (a symlink: refused)" : "");
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        fcntl(fd, F_SETFL, O_APPEND) < 0) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    int64_t cut = repair_tail(fd);
    if (cut < 0) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: cannot repair a torn last line: %s", path,
                     strerror(errno));
        close(fd);
        return -1;
    }
    *repaired = cut;
    return fd;
}

/* Writes len bytes of whole lines in one write(2).  A short write is undone
 * (the file is cut back to where it ended), so no partial line stays. */
static int append_write(jsonl_append *a, const char *p, size_t len)
{
    off_t end = lseek(a->fd, 0, SEEK_END); /* we are the only writer */
    ssize_t w;
    do
        w = write(a->fd, p, len);
    while (w < 0 && errno == EINTR);
    if (w == (ssize_t)len)
        return SW_OK;
    if (w > 0 && end >= 0 && ftruncate(a->fd, end) < 0) {
        /* cannot cut back: end the torn line so the next one starts clean
         * (the torn line is then one corrupt line, its loss counted) */
        ssize_t nl = write(a->fd, "\n", 1);
        (void)nl;
    }
    return SW_EIO;
}

static int append_emit(sw_event_sink *s, const sw_event *ev)
{
    jsonl_append *a = (jsonl_append *)s;
    size_t n;
    char *line = sw_event_json(ev, &n);
    if (!line)
        return SW_ENOMEM;
    char *p = realloc(line, n + 1);
    if (!p) {
        free(line);
        return SW_ENOMEM;
    }
    p[n] = '\n';
    int r = append_write(a, p, n + 1);
    free(p);
    return r;
}

static int append_write_recs(sw_event_sink *s, const sw_event_rec *recs, size_t n)
{
    jsonl_append *a = (jsonl_append *)s;
    size_t i = 0;
    while (i < n) {
        size_t used = 0, first = i;
        int r;
        if (recs[i].json_len + 1 > APPEND_CHUNK) {
            /* one large line: its own write, straight from a copy */
            char *p = malloc(recs[i].json_len + 1);
            if (!p) {
                s->failed += n - i;
                return SW_ENOMEM;
            }
            memcpy(p, recs[i].json, recs[i].json_len);
            p[recs[i].json_len] = '\n';
            r = append_write(a, p, recs[i].json_len + 1);
            free(p);
            i++;
        } else {
            while (i < n && used + recs[i].json_len + 1 <= APPEND_CHUNK) {
                memcpy(a->buf + used, recs[i].json, recs[i].json_len);
                used += recs[i].json_len;
                a->buf[used++] = '\n';
                i++;
            }
            r = append_write(a, a->buf, used);
        }
        if (r != SW_OK) {
            s->failed += n - first; /* this write's lines and the ones not tried */
            return r;
        }
        s->emitted += i - first;
    }
    return SW_OK;
}

static int append_flush(sw_event_sink *s)
{
    (void)s; /* unbuffered: every line is in the file when emit returns */
    return SW_OK;
}

static int append_close(sw_event_sink *s)
{
    jsonl_append *a = (jsonl_append *)s;
    int r = close(a->fd) < 0 ? SW_EIO : SW_OK;
    free(a->buf);
    free(a->path);
    free(a);
    return r;
}

static int append_reopen(sw_event_sink *s)
{
    jsonl_append *a = (jsonl_append *)s;
    int64_t cut = 0;
    int fd = append_open_fd(a->path, &cut, NULL, 0);
    if (fd < 0)
        return SW_EIO; /* keep writing to the file we have */
    close(a->fd);
    a->fd = fd;
    a->repaired += (uint64_t)cut;
    return SW_OK;
}

static const sw_event_sink_ops append_ops = {
    .name = "jsonl-append",
    .emit = append_emit,
    .flush = append_flush,
    .close = append_close,
    .reopen = append_reopen,
    .write_recs = append_write_recs,
};

sw_event_sink *sw_jsonl_sink_open_append(const char *path, char *errbuf, size_t errlen)
{
    jsonl_append *a = calloc(1, sizeof *a);
    if (a) {
        a->path = strdup(path);
        a->buf = malloc(APPEND_CHUNK);
    }
    if (!a || !a->path || !a->buf) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: out of memory", path);
        if (a) {
            free(a->path);
            free(a->buf);
        }
        free(a);
        return NULL;
    }
    int64_t cut = 0;
    a->fd = append_open_fd(path, &cut, errbuf, errlen);
    if (a->fd < 0) {
        free(a->path);
        free(a->buf);
        free(a);
        return NULL;
    }
    a->repaired = (uint64_t)cut;
    a->base.ops = &append_ops;
    return &a->base;
}

uint64_t sw_jsonl_sink_repaired(const sw_event_sink *s)
{
    return s->ops == &append_ops ? ((const jsonl_append *)s)->repaired : 0;
}
