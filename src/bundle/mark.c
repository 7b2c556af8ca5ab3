/* The last accepted bundle, kept in the state directory
 * (include/sipwall/bundle.h): the mark file and the last good copy, both
 * written atomically and never through a symbolic link. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle_int.h"

#define MARK_MAGIC "sipwall-bundle-mark 1\n"

int sw_bundle_mark_read(const char *path, sw_bundle_mark *out)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? SW_ENOTFOUND : SW_EIO;
    char text[256];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n < 0)
        return SW_EIO;
    text[n] = '\0';
    size_t ml = strlen(MARK_MAGIC);
    if ((size_t)n < ml || memcmp(text, MARK_MAGIC, ml) != 0)
        return SW_EFORMAT;
    unsigned long long v;
    char hx[65];
    int used = 0;
    if (sscanf(text + ml, "version %20llu\nsha256 %64[0-9a-f]\n%n", &v, hx, &used) != 2 ||
        strlen(hx) != 64 || (size_t)used != (size_t)n - ml)
        return SW_EFORMAT;
    for (int i = 0; i < 32; i++) {
        unsigned b;
        if (sscanf(hx + 2 * i, "%2x", &b) != 1)
            return SW_EFORMAT;
        out->sha256[i] = (uint8_t)b;
    }
    out->version = v;
    return SW_OK;
}

static int write_atomic(const char *path, const void *data, size_t len)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) {
        errno = ENOMEM;
        return SW_EIO;
    }
    snprintf(tmp, pl + 16, "%s.tmp", path);
    (void)unlink(tmp); /* a stale one from a crash (unlink does not follow links) */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        errno = e;
        return SW_EIO;
    }
    const uint8_t *p = data;
    size_t left = len;
    int ok = 1;
    while (left && ok) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            ok = 0;
        else {
            p += w;
            left -= (size_t)w;
        }
    }
    if (ok && fsync(fd) != 0)
        ok = 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok)
        (void)unlink(tmp);
    free(tmp);
    errno = e;
    return ok ? SW_OK : SW_EIO;
}

int sw_bundle_mark_write(const char *path, const sw_bundle_mark *m)
{
    char hx[65], text[200];
    sw_bundle_hex(m->sha256, 32, hx);
    int n = snprintf(text, sizeof text, MARK_MAGIC "version %llu\nsha256 %s\n",
                     (unsigned long long)m->version, hx);
    return write_atomic(path, text, (size_t)n);
}

int sw_bundle_save_copy(const char *path, const uint8_t *data, size_t len)
{
    return write_atomic(path, data, len);
}
