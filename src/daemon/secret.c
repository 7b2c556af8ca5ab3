/* sipwalld's secret: the 32-byte key behind branch MACs and topology-hiding
 * tokens (sw_hide).  There is no default key: the first start creates a
 * random one, and a file anyone else could read is refused, since whoever
 * holds it can open the hidden topology and forge our branches. */
#include "daemon/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_FILE_MAX 256 /* more than any valid file; bigger is refused */

static int secret_fail(char *err, size_t errlen, int rc, const char *fmt, ...) SW_PRINTF(4, 5);

static int secret_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* 32 raw bytes, or 64 hex digits with optional trailing blanks/newline. */
static int decode(const uint8_t *buf, size_t len, uint8_t out[SWD_SECRET_LEN])
{
    if (len == SWD_SECRET_LEN) {
        memcpy(out, buf, SWD_SECRET_LEN);
        return SW_OK;
    }
    if (len < 2 * SWD_SECRET_LEN)
        return SW_EINVAL;
    for (size_t i = 2 * SWD_SECRET_LEN; i < len; i++)
        if (buf[i] != '\n' && buf[i] != '\r' && buf[i] != ' ' && buf[i] != '\t')
            return SW_EINVAL;
    for (size_t i = 0; i < SWD_SECRET_LEN; i++) {
        int hi = sw_hexval(buf[2 * i]), lo = sw_hexval(buf[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return SW_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return SW_OK;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fill_random(uint8_t *out, size_t len)
{
    size_t got = 0;
    while (got < len) {
        /* flags 0: blocks until the kernel's pool is initialised, never
         * hands out early-boot bytes. */
        ssize_t n = getrandom(out + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Creates path with O_EXCL.  Returns 1 when created, 0 when someone else
 * created it first (the caller loads theirs), or a negative SW_E*. */
static int create_secret(const char *path, uint8_t out[SWD_SECRET_LEN], char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        return secret_fail(err, errlen, SW_EIO, "secret %s: cannot create: %s", path,
                           strerror(errno));
    }
    uint8_t key[SWD_SECRET_LEN];
    char hex[2 * SWD_SECRET_LEN + 1];
    static const char digits[] = "0123456789abcdef";
    int rc = SW_OK;
    /* The umask may only take bits away; set exactly 0600 regardless. */
    if (fchmod(fd, 0600) != 0)
        rc = secret_fail(err, errlen, SW_EIO, "secret %s: chmod: %s", path, strerror(errno));
    else if (fill_random(key, sizeof key) != 0)
        rc = secret_fail(err, errlen, SW_EIO, "secret %s: getrandom: %s", path, strerror(errno));
    if (rc == SW_OK) {
        for (size_t i = 0; i < SWD_SECRET_LEN; i++) {
            hex[2 * i] = digits[key[i] >> 4];
            hex[2 * i + 1] = digits[key[i] & 15];
        }
        hex[2 * SWD_SECRET_LEN] = '\n';
        if (write_all(fd, hex, sizeof hex) != 0 || fsync(fd) != 0)
            rc = secret_fail(err, errlen, SW_EIO, "secret %s: cannot write: %s", path,
                             strerror(errno));
    }
    if (close(fd) != 0 && rc == SW_OK)
        rc = secret_fail(err, errlen, SW_EIO, "secret %s: cannot write: %s", path, strerror(errno));
    if (rc != SW_OK) {
        /* A half-written secret would be refused at the next start anyway;
         * removing it lets that start try again. */
        unlink(path);
    } else {
        memcpy(out, key, SWD_SECRET_LEN);
    }
    explicit_bzero(key, sizeof key);
    explicit_bzero(hex, sizeof hex);
    return rc == SW_OK ? 1 : rc;
}

static int load_secret(int fd, const char *path, uint8_t out[SWD_SECRET_LEN], char *err,
                       size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return secret_fail(err, errlen, SW_EIO, "secret %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return secret_fail(err, errlen, SW_EINVAL, "secret %s: not a regular file", path);
    if (st.st_mode & 077)
        return secret_fail(err, errlen, SW_EAUTH,
                           "secret %s: mode %04o lets group or others at the key; chmod 600 it "
                           "(and replace it if it may have been read)",
                           path, (unsigned)(st.st_mode & 07777));
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return secret_fail(err, errlen, SW_EAUTH,
                           "secret %s: owned by uid %u, not by us (uid %u) or root", path,
                           (unsigned)st.st_uid, (unsigned)geteuid());
    uint8_t buf[SECRET_FILE_MAX + 1];
    size_t len = 0;
    while (len < sizeof buf) {
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            explicit_bzero(buf, sizeof buf);
            return secret_fail(err, errlen, SW_EIO, "secret %s: %s", path, strerror(errno));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    int rc = SW_OK;
    if (len < SWD_SECRET_LEN)
        rc = secret_fail(err, errlen, SW_EINVAL,
                         "secret %s: %zu bytes, shorter than the %d the key needs", path, len,
                         SWD_SECRET_LEN);
    else if (decode(buf, len, out) != SW_OK)
        rc = secret_fail(err, errlen, SW_EINVAL,
                         "secret %s: neither %d raw bytes nor %d hex digits", path, SWD_SECRET_LEN,
                         2 * SWD_SECRET_LEN);
    explicit_bzero(buf, sizeof buf);
    if (rc != SW_OK)
        return rc;
    uint8_t any = 0;
    for (size_t i = 0; i < SWD_SECRET_LEN; i++)
        any |= out[i];
    if (any == 0) {
        memset(out, 0, SWD_SECRET_LEN);
        return secret_fail(err, errlen, SW_EINVAL, "secret %s: all zero bytes is not a key", path);
    }
    return SW_OK;
}

int swd_secret_load_or_create(const char *path, uint8_t out[SWD_SECRET_LEN], char *err,
                              size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    /* Two rounds: a concurrent first start may create the file between our
     * failed open and our O_EXCL create; then we load theirs. */
    for (int round = 0; round < 2; round++) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
            int rc = load_secret(fd, path, out, err, errlen);
            close(fd);
            return rc;
        }
        if (errno != ENOENT)
            return secret_fail(err, errlen, SW_EIO, "secret %s: %s", path, strerror(errno));
        int rc = create_secret(path, out, err, errlen);
        if (rc != 0)
            return rc < 0 ? rc : SW_OK;
    }
    return secret_fail(err, errlen, SW_EIO, "secret %s: created and removed while we looked",
                       path);
}
