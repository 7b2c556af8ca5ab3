/* Structured logs: one line per record, "ts level comp msg", written with a
 * single write(2) so lines from several threads never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"

static int log_fd = 2;
static int log_syslog;
static int log_level = SWD_LOG_INFO;
static char *log_path; /* the file's name when logging to a file (for reopen) */

/* O_NOFOLLOW: a symlink planted where the log goes is refused (defect R5),
 * as the daemon may open it as root before dropping privileges. */
static int open_log_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "log file %s: %s", path,
                 errno == ELOOP ? "is a symbolic link (refused)" : strerror(errno));
        return -1;
    }
    return fd;
}

int swd_log_open(const char *where, int level, char *err, size_t errlen)
{
    log_level = level;
    if (!where || strcmp(where, "stderr") == 0) {
        log_fd = 2;
        return SW_OK;
    }
    if (strcmp(where, "syslog") == 0) {
        openlog("sipwalld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        log_syslog = 1;
        return SW_OK;
    }
    int fd = open_log_file(where, err, errlen);
    if (fd < 0)
        return SW_EIO;
    char *copy = strdup(where);
    if (!copy) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    free(log_path);
    log_path = copy;
    log_fd = fd;
    return SW_OK;
}

int swd_log_reopen(char *err, size_t errlen)
{
    if (!log_path || log_fd <= 2)
        return SW_OK; /* stderr or syslog: nothing to reopen */
    /* Still the same file (not rotated away): keep it.  After the privilege
     * drop the daemon may not be able to open root's file again. */
    struct stat now, cur;
    if (lstat(log_path, &now) == 0 && fstat(log_fd, &cur) == 0 && now.st_dev == cur.st_dev &&
        now.st_ino == cur.st_ino)
        return SW_OK;
    int fd = open_log_file(log_path, err, errlen);
    if (fd < 0)
        return SW_EIO;
    /* dup3 swaps the file under the same descriptor atomically: a thread
     * writing at the same moment writes its whole line to one file or the
     * other. */
    int r = dup3(fd, log_fd, O_CLOEXEC) < 0 ? SW_EIO : SW_OK;
    if (r != SW_OK)
        snprintf(err, errlen, "log file %s: %s", log_path, strerror(errno));
    close(fd);
    return r;
}

void swd_log_close(void)
{
    if (log_syslog)
        closelog();
    if (log_fd > 2)
        close(log_fd);
    log_fd = 2;
    log_syslog = 0;
    free(log_path);
    log_path = NULL;
}

void swd_log(int level, const char *comp, const char *fmt, ...)
{
    if (level > log_level)
        return;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    const char *lv = level >= 0 && level <= 3 ? names[level] : "info";
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* one line: control characters from peers never split a record */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (log_syslog) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        syslog(prio[level >= 0 && level <= 3 ? level : 2], "level=%s comp=%s %s", lv, comp, msg);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1200];
    int k = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s comp=%s %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, lv, comp, msg);
    if (k < 0)
        return;
    size_t len = (size_t)k < sizeof line ? (size_t)k : sizeof line - 1;
    if (len == sizeof line - 1)
        line[len - 1] = '\n';
    ssize_t w = write(log_fd, line, len);
    (void)w;
}
