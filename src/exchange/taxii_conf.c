/* TAXII server configuration lines (include/sipwall/taxii.h): the words
 * after "taxii" in sipwalld.conf. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exchange/internal.h"
#include "sipwall/taxii.h"

#define DEFAULT_MAX_OBJECTS 100000
#define MAX_CONTENT_MAX (64u << 20)

void sw_taxii_conf_init(sw_taxii_conf *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->api_root, sizeof c->api_root, "api1");
    snprintf(c->title, sizeof c->title, "sipwall TAXII 2.1");
    c->max_content_length = 1u << 20;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) SW_PRINTF(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return SW_EINVAL;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SW_TAXII_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static int text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

static int number(const char *v, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
    char *end;
    if (!v[0] || v[0] < '0' || v[0] > '9')
        return 0;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n < lo || n > hi)
        return 0;
    *out = n;
    return 1;
}

int sw_taxii_conf_find(const sw_taxii_conf *c, const char *k)
{
    for (size_t i = 0; i < c->ncoll; i++)
        if (strcmp(c->coll[i].id, k) == 0 || (c->coll[i].alias[0] && strcmp(c->coll[i].alias, k) == 0))
            return (int)i;
    return -1;
}

/* A secret's hash: inline $argon2id$..., or file:PATH (mode 0600 or
 * stricter, a regular file, not a link). */
static int load_hash(const char *v, const char *basedir, char *out, size_t cap, char *err, size_t errlen)
{
    char buf[256];
    if (strncmp(v, "file:", 5) == 0) {
        char path[4096];
        const char *p = v + 5;
        if (p[0] != '/' && basedir && basedir[0])
            snprintf(path, sizeof path, "%s/%s", basedir, p);
        else
            snprintf(path, sizeof path, "%s", p);
        /* a FIFO or device named here is never opened (open would block or
         * read without end): only a regular file, and O_NONBLOCK anyway */
        struct stat pre;
        if (lstat(path, &pre) != 0 || !S_ISREG(pre.st_mode))
            return fail(err, errlen, "taxii user: %s is not a regular file of mode 0600 or stricter", path);
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            return fail(err, errlen, "taxii user: cannot open %s", path);
        struct stat st;
        ssize_t n = -1;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 077))
            n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n < 0)
            return fail(err, errlen, "taxii user: %s is not a regular file of mode 0600 or stricter", path);
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        v = buf;
    }
    if (strncmp(v, "$argon2id$", 10) != 0 || strlen(v) >= cap)
        return fail(err, errlen, "taxii user: secret is not an Argon2id hash (make one with `sipwall exchange "
                                 "taxii-hash`)%s", "");
    snprintf(out, cap, "%s", v);
    return SW_OK;
}

int sw_taxii_conf_line(sw_taxii_conf *c, const char *const *w, size_t n, const char *basedir, char *err,
                       size_t errlen)
{
    if (n == 0)
        return fail(err, errlen, "taxii: api-root, collection or user expected");
    const char *what = w[0];
    unsigned long long num;
    if (strcmp(what, "api-root") == 0) {
        if (n < 2 || !name_ok(w[1]))
            return fail(err, errlen, "taxii api-root: NAME ([A-Za-z0-9._-]) required");
        snprintf(c->api_root, sizeof c->api_root, "%s", w[1]);
        if (strcmp(w[1], "taxii2") == 0 || strcmp(w[1], "v1") == 0)
            return fail(err, errlen, "taxii api-root: '%s' is taken", w[1]);
        for (size_t i = 2; i < n; i += 2) {
            if (i + 1 >= n)
                return fail(err, errlen, "taxii api-root: '%s' needs a value", w[i]);
            if (strcmp(w[i], "title") == 0) {
                if (!text_ok(w[i + 1], sizeof c->title))
                    return fail(err, errlen, "taxii api-root: bad title");
                snprintf(c->title, sizeof c->title, "%s", w[i + 1]);
            } else if (strcmp(w[i], "max-content-length") == 0) {
                if (!number(w[i + 1], 1024, MAX_CONTENT_MAX, &num))
                    return fail(err, errlen, "taxii api-root: max-content-length must be 1024..67108864");
                c->max_content_length = (size_t)num;
            } else {
                return fail(err, errlen, "taxii api-root: unknown option '%s'", w[i]);
            }
        }
        return SW_OK;
    }
    if (strcmp(what, "collection") == 0) {
        if (n < 2 || !sw__uuid_lower_ok(w[1]))
            return fail(err, errlen, "taxii collection: a lower-case UUID is required");
        if (c->ncoll == SW_TAXII_COLLECTIONS_MAX)
            return fail(err, errlen, "taxii collection: at most 16");
        if (sw_taxii_conf_find(c, w[1]) >= 0)
            return fail(err, errlen, "taxii collection %s given twice", w[1]);
        sw_taxii_collection *k = &c->coll[c->ncoll];
        memset(k, 0, sizeof *k);
        snprintf(k->id, sizeof k->id, "%s", w[1]);
        snprintf(k->title, sizeof k->title, "collection %s", w[1]);
        k->max_objects = DEFAULT_MAX_OBJECTS;
        for (size_t i = 2; i < n; i++) {
            if (strcmp(w[i], "writable") == 0) {
                k->writable = 1;
                continue;
            }
            if (strcmp(w[i], "publish") == 0) {
                for (size_t j = 0; j < c->ncoll; j++)
                    if (c->coll[j].publish)
                        return fail(err, errlen, "taxii collection: only one may be 'publish'");
                k->publish = 1;
                continue;
            }
            if (i + 1 >= n)
                return fail(err, errlen, "taxii collection: '%s' needs a value", w[i]);
            const char *v = w[++i];
            if (strcmp(w[i - 1], "alias") == 0) {
                if (!name_ok(v) || sw_taxii_conf_find(c, v) >= 0)
                    return fail(err, errlen, "taxii collection: bad or repeated alias '%s'", v);
                snprintf(k->alias, sizeof k->alias, "%s", v);
            } else if (strcmp(w[i - 1], "title") == 0) {
                if (!text_ok(v, sizeof k->title))
                    return fail(err, errlen, "taxii collection: bad title");
                snprintf(k->title, sizeof k->title, "%s", v);
            } else if (strcmp(w[i - 1], "description") == 0) {
                if (!text_ok(v, sizeof k->description))
                    return fail(err, errlen, "taxii collection: bad description");
                snprintf(k->description, sizeof k->description, "%s", v);
            } else if (strcmp(w[i - 1], "max-objects") == 0) {
                if (!number(v, 1, 10000000, &num))
                    return fail(err, errlen, "taxii collection: max-objects must be 1..10000000");
                k->max_objects = (size_t)num;
            } else {
                return fail(err, errlen, "taxii collection: unknown option '%s'", w[i - 1]);
            }
        }
        c->ncoll++;
        return SW_OK;
    }
    if (strcmp(what, "user") == 0) {
        if (n < 2 || !name_ok(w[1]) || strchr(w[1], ':'))
            return fail(err, errlen, "taxii user: NAME ([A-Za-z0-9._-]) required");
        if (c->nusers == SW_TAXII_USERS_MAX)
            return fail(err, errlen, "taxii user: at most 32");
        for (size_t i = 0; i < c->nusers; i++)
            if (strcmp(c->users[i].name, w[1]) == 0)
                return fail(err, errlen, "taxii user %s given twice", w[1]);
        size_t u = c->nusers;
        sw_taxii_user *us = &c->users[u];
        memset(us, 0, sizeof *us);
        c->pending_read[u][0] = c->pending_write[u][0] = '\0';
        snprintf(us->name, sizeof us->name, "%s", w[1]);
        for (size_t i = 2; i < n; i += 2) {
            if (i + 1 >= n)
                return fail(err, errlen, "taxii user: '%s' needs a value", w[i]);
            const char *v = w[i + 1];
            if (strcmp(w[i], "secret") == 0) {
                int rc = load_hash(v, basedir, us->hash, sizeof us->hash, err, errlen);
                if (rc)
                    return rc;
            } else if (strcmp(w[i], "read") == 0 || strcmp(w[i], "write") == 0) {
                char *slot = w[i][0] == 'r' ? c->pending_read[u] : c->pending_write[u];
                if (strlen(v) >= sizeof c->pending_read[0])
                    return fail(err, errlen, "taxii user: %s list too long", w[i]);
                snprintf(slot, sizeof c->pending_read[0], "%s", v);
            } else {
                return fail(err, errlen, "taxii user: unknown option '%s'", w[i]);
            }
        }
        if (!us->hash[0])
            return fail(err, errlen, "taxii user %s: secret HASH|file:PATH is required (no default credentials)",
                        us->name);
        c->nusers++;
        return SW_OK;
    }
    return fail(err, errlen, "taxii: unknown '%s' (api-root, collection or user)", what);
}

static int resolve(sw_taxii_conf *c, const char *list, int write, uint32_t *out, char *err, size_t errlen)
{
    char buf[512], *save = NULL;
    snprintf(buf, sizeof buf, "%s", list);
    *out = 0;
    if (!buf[0])
        return SW_OK;
    if (strcmp(buf, "all") == 0) {
        for (size_t i = 0; i < c->ncoll; i++)
            if (!write || c->coll[i].writable)
                *out |= 1u << i;
        return SW_OK;
    }
    for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        int k = sw_taxii_conf_find(c, it);
        if (k < 0)
            return fail(err, errlen, "no taxii collection '%s'", it);
        if (write && !c->coll[k].writable)
            return fail(err, errlen, "taxii collection '%s' is not writable", it);
        *out |= 1u << k;
    }
    return SW_OK;
}

int sw_taxii_conf_finish(sw_taxii_conf *c, int *line, char *err, size_t errlen)
{
    char why[300];
    if (line)
        *line = 0;
    if (c->ncoll == 0) {
        snprintf(err, errlen, "taxii: no collection configured");
        return SW_EINVAL;
    }
    if (c->nusers == 0) {
        snprintf(err, errlen, "taxii: no user configured (there are no default credentials)");
        return SW_EINVAL;
    }
    for (size_t u = 0; u < c->nusers; u++) {
        if (resolve(c, c->pending_read[u], 0, &c->users[u].read, why, sizeof why) != SW_OK ||
            resolve(c, c->pending_write[u], 1, &c->users[u].write, why, sizeof why) != SW_OK) {
            snprintf(err, errlen, "taxii user %s: %s", c->users[u].name, why);
            if (line)
                *line = c->user_line[u];
            return SW_EINVAL;
        }
    }
    return SW_OK;
}
