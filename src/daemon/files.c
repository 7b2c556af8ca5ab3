/* Small files sipwalld reads whole: secrets, certificates, cursors,
 * batches handed over by ctl (daemon.h swd_read_small). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"

char *swd_read_small(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
        snprintf(err, errlen, "%.200s: not a readable regular file of at most %zu bytes", path, max);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *b = malloc((size_t)sb.st_size + 1);
    size_t n = 0;
    while (b && n < (size_t)sb.st_size) {
        ssize_t r = read(fd, b + n, (size_t)sb.st_size - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}
