/* Least privilege after binding (daemon/startcheck.h): once every socket,
 * capture and root-only file is open, sipwalld needs no capability again.
 * The bounding set is emptied (where CAP_SETPCAP allows), the permitted,
 * effective and inheritable sets are cleared, no_new_privs is set and the
 * process is made non-dumpable (no core file or ptrace with the secret in
 * it), whether or not a `user` to drop to is configured. */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/startcheck.h"

static int last_cap(void)
{
    int last = CAP_LAST_CAP;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f) {
        if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
            last = CAP_LAST_CAP;
        fclose(f);
    }
    return last;
}

void swd_caps_bound_drop(void)
{
    /* needs CAP_SETPCAP: under the shipped unit (no SETPCAP) its bounding
     * set is already the narrow one, and EPERM changes nothing */
    for (int c = 0, last = last_cap(); c <= last; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
            break;
}

int swd_caps_clear(char *err, size_t errlen)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &h, data) < 0) {
        snprintf(err, errlen, "cannot clear capabilities: %s", strerror(errno));
        return SW_EIO;
    }
    memset(data, 0xff, sizeof data);
    if (syscall(SYS_capget, &h, data) < 0 || data[0].permitted || data[1].permitted ||
        data[0].effective || data[1].effective) {
        snprintf(err, errlen, "capabilities were not cleared");
        return SW_EIO;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        snprintf(err, errlen, "prctl: %s", strerror(errno));
        return SW_EIO;
    }
    return SW_OK;
}

/* The value of a "Name:\thex" line of /proc/self/status, or -1. */
static long long status_hex(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    if (!p)
        return -1;
    p += strlen(name);
    while (*p == ':' || *p == '\t' || *p == ' ')
        p++;
    char *end;
    unsigned long long v = strtoull(p, &end, 16);
    return end == p ? -1 : (long long)v;
}

void swd_privs_describe(char *out, size_t len, int *kept)
{
    char st[8192];
    size_t n = 0;
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        n = fread(st, 1, sizeof st - 1, f);
        fclose(f);
    }
    st[n] = '\0';
    long long prm = status_hex(st, "\nCapPrm"), eff = status_hex(st, "\nCapEff"),
              bnd = status_hex(st, "\nCapBnd");
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) < 0)
        ru = eu = su = (uid_t)-1;
    if (getresgid(&rg, &eg, &sg) < 0)
        rg = eg = sg = (gid_t)-1;
    *kept = prm < 0 ? -1 : __builtin_popcountll((unsigned long long)prm);
    snprintf(out, len,
             "uid %u/%u/%u gid %u/%u/%u cap_prm %llx cap_eff %llx cap_bnd %llx no_new_privs %d dumpable %d",
             (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)rg, (unsigned)eg, (unsigned)sg,
             (unsigned long long)prm, (unsigned long long)eff, (unsigned long long)bnd,
             prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
}
