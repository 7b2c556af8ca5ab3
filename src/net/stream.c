/* Streams (include/sipwall/net.h): the calls every backend shares.  The
 * backends: stream_plain.c (TCP, connected UDP), stream_tls.c (TLS over
 * TCP, and the SSL half of DTLS), stream_dtls.c (DTLS over UDP). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "net/stream_int.h"

sw_stream *sw__stream_alloc(int fd, const sw__stream_ops *ops)
{
    sw_stream *s = calloc(1, sizeof *s);
    if (!s) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    s->ops = ops;
    s->fd = fd;
    return s;
}

void sw__stream_set_error(sw_stream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

int sw_stream_handshake(sw_stream *s)
{
    if (s->done)
        return SW_OK;
    s->want = 0;
    int r = s->ops->handshake(s);
    if (r == SW_OK)
        s->done = 1;
    else if (r != SW_EAGAIN)
        s->broken = 1;
    return r;
}

/* What read and write do first: a broken stream stays broken, and a
 * stream whose handshake has not finished drives it. */
static int io_ready(sw_stream *s)
{
    if (s->broken)
        return SW_EIO;
    s->want = 0;
    return s->done ? SW_OK : sw_stream_handshake(s);
}

ssize_t sw_stream_read(sw_stream *s, void *buf, size_t n)
{
    int ok = io_ready(s);
    if (ok != SW_OK)
        return ok;
    ssize_t r = s->ops->read(s, buf, n);
    if (r < 0 && r != SW_EAGAIN)
        s->broken = 1;
    return r;
}

ssize_t sw_stream_write(sw_stream *s, const void *buf, size_t n)
{
    int ok = io_ready(s);
    if (ok != SW_OK)
        return ok;
    if (n == 0)
        return 0;
    ssize_t r = s->ops->write(s, buf, n);
    if (r < 0 && r != SW_EAGAIN && r != SW_EUSAGE)
        s->broken = 1;
    return r;
}

unsigned sw_stream_want(const sw_stream *s) { return s->want; }

int sw_stream_timeout_ms(sw_stream *s) { return s->ops->timeout_ms ? s->ops->timeout_ms(s) : -1; }

int sw_stream_fd(const sw_stream *s) { return s->fd; }

int sw_stream_is_secure(const sw_stream *s) { return s->secure; }

size_t sw_stream_pending(const sw_stream *s) { return s->ops->pending ? s->ops->pending(s) : 0; }

unsigned sw_stream_peer_ids(sw_stream *s, char ids[][SW_TLS_ID_LEN], unsigned max)
{
    return s->ops->peer_ids && s->done ? s->ops->peer_ids(s, ids, max) : 0;
}

const char *sw_stream_version(const sw_stream *s) { return s->ops->version(s); }

const char *sw_stream_error(const sw_stream *s) { return s->err; }

void sw_stream_close(sw_stream *s)
{
    if (!s)
        return;
    if (s->ops->shutdown)
        s->ops->shutdown(s);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
