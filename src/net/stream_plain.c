/* The plain stream backend (include/sipwall/net.h): a TCP socket, or a
 * connected UDP socket (one datagram per call). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "net/stream_int.h"

static int plain_handshake(sw_stream *s)
{
    (void)s;
    return SW_OK;
}

static ssize_t plain_fail(sw_stream *s, unsigned want)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s->want = want;
        return SW_EAGAIN;
    }
    if (errno == EINTR) {
        s->want = want;
        return SW_EAGAIN;
    }
    sw__stream_set_error(s, "%s", strerror(errno));
    return SW_EIO;
}

static ssize_t plain_read(sw_stream *s, void *buf, size_t n)
{
    ssize_t r = recv(s->fd, buf, n, MSG_DONTWAIT);
    if (r < 0)
        return plain_fail(s, SW_STREAM_WANT_READ);
    if (r == 0 && s->dgram) {
        s->want = SW_STREAM_WANT_READ; /* an empty datagram is not a close */
        return SW_EAGAIN;
    }
    return r;
}

static ssize_t plain_write(sw_stream *s, const void *buf, size_t n)
{
    ssize_t r = send(s->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0)
        return plain_fail(s, SW_STREAM_WANT_WRITE);
    return r;
}

static const char *plain_version(const sw_stream *s)
{
    (void)s;
    return "plain";
}

static const sw__stream_ops plain_ops = {
    .handshake = plain_handshake,
    .read = plain_read,
    .write = plain_write,
    .version = plain_version,
};

sw_stream *sw_stream_plain_new(int fd)
{
    sw_stream *s = sw__stream_alloc(fd, &plain_ops);
    if (!s)
        return NULL;
    int type = 0;
    socklen_t sl = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == 0 && type == SOCK_DGRAM)
        s->dgram = 1;
    s->done = 1;
    return s;
}
