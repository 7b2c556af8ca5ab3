/* The bundle container (include/sipwall/bundle.h, docs/bundles.md):
 *
 *   sipwall-bundle 1\n
 *   manifest <N>\n
 *   <N bytes: the manifest>
 *   signature ed25519 <key id> <128 hex digits>\n     (or "signature none\n")
 *   <the files' bytes, one after the other, in manifest order>
 *
 * The manifest, one item per line, in this order:
 *
 *   version <decimal, 1..2^64-1>
 *   created <Unix seconds>
 *   signer <key id>            (or "signer none")
 *   file <policy|feed|data> <size> <sha256 hex> <name>     (1..256 of them)
 *
 * The signature is Ed25519 over SW__BUNDLE_SIG_DOMAIN + manifest; the
 * manifest binds every file by its size and SHA-256, the version and the
 * signer.  The reader accepts exactly this: no optional spaces, no
 * leading zeros, sizes that add up to the end of the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle_int.h"

#define MAGIC "sipwall-bundle 1\n"

struct sw_bundle {
    uint8_t *data;     /* the whole bundle (owned) */
    size_t len;
    const uint8_t *manifest;
    size_t manifest_len;
    int has_sig;
    uint8_t sig[64];
    char sig_keyid[SW_BUNDLE_KEYID_LEN + 1];
    uint64_t version;
    int64_t created;
    char signer[SW_BUNDLE_KEYID_LEN + 1]; /* "" = none */
    uint8_t sha256[32];
    sw_bundle_file *files;
    char **names;
    size_t nfiles;
};

static const char *const status_names[] = {
#define SW__BST_NAME(id, name, msg) name,
    SW_BUNDLE_STATUS_LIST(SW__BST_NAME)
#undef SW__BST_NAME
};
static const char *const status_msgs[] = {
#define SW__BST_MSG(id, name, msg) msg,
    SW_BUNDLE_STATUS_LIST(SW__BST_MSG)
#undef SW__BST_MSG
};
static const char *const role_names[] = {"policy", "feed", "data"};

const char *sw_bundle_status_name(sw_bundle_status s)
{
    return (unsigned)s < SW_BUNDLE__COUNT ? status_names[s] : NULL;
}

const char *sw_bundle_status_message(sw_bundle_status s)
{
    return (unsigned)s < SW_BUNDLE__COUNT ? status_msgs[s] : "unknown";
}

const char *sw_bundle_role_name(sw_bundle_role r)
{
    return (unsigned)r < SW_BUNDLE_ROLE__COUNT ? role_names[r] : NULL;
}

int sw_bundle_role_lookup(const char *name, sw_bundle_role *out)
{
    for (unsigned i = 0; i < SW_BUNDLE_ROLE__COUNT; i++)
        if (strcmp(name, role_names[i]) == 0) {
            *out = (sw_bundle_role)i;
            return SW_OK;
        }
    return SW_ENOTFOUND;
}

int sw_bundle_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > SW_BUNDLE_MAX_NAME || name[0] == '/')
        return 0;
    size_t seg = 0; /* start of the current segment */
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '/') {
            size_t n = i - seg;
            if (n == 0 || (n == 1 && name[seg] == '.') ||
                (n == 2 && name[seg] == '.' && name[seg + 1] == '.'))
                return 0;
            seg = i + 1;
            continue;
        }
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+'))
            return 0;
    }
    return 1;
}

/* ---- writing ----------------------------------------------------------------------------- */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->n < n) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc - b->n < n)
            nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void putf(buf *b, const char *fmt, ...) SW_PRINTF(2, 3);
static void putf(buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        b->oom = 1;
        return;
    }
    put(b, line, (size_t)n);
}

int sw_bundle_write(const sw_bundle_input *files, size_t n, uint64_t version, int64_t created_s,
                    const sw_bundle_key *signer, uint8_t **out, size_t *outlen, char *err,
                    size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    if (n == 0 || n > SW_BUNDLE_MAX_FILES) {
        sw_errf(err, errlen, "a bundle holds 1 to %d files", SW_BUNDLE_MAX_FILES);
        return SW_ELIMIT;
    }
    if (version == 0 || created_s < 0) {
        sw_errf(err, errlen, "the version must be 1 or more");
        return SW_EINVAL;
    }
    size_t npolicy = 0, nfeed = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_bundle_input *f = &files[i];
        if (!f->name || !sw_bundle_name_valid(f->name, strlen(f->name))) {
            sw_errf(err, errlen, "'%s': not a valid name in a bundle (relative, no '..', "
                    "characters A-Z a-z 0-9 . _ + - /)", f->name ? f->name : "");
            return SW_EINVAL;
        }
        if ((unsigned)f->role >= SW_BUNDLE_ROLE__COUNT || (f->len && !f->data)) {
            sw_errf(err, errlen, "'%s': bad role or data", f->name);
            return SW_EINVAL;
        }
        if (f->len > SW_BUNDLE_MAX_FILE) {
            sw_errf(err, errlen, "'%s': larger than %u bytes", f->name, SW_BUNDLE_MAX_FILE);
            return SW_ELIMIT;
        }
        total += f->len;
        npolicy += f->role == SW_BUNDLE_ROLE_POLICY;
        nfeed += f->role == SW_BUNDLE_ROLE_FEED;
        for (size_t j = 0; j < i; j++)
            if (strcmp(files[j].name, f->name) == 0) {
                sw_errf(err, errlen, "'%s' is given twice", f->name);
                return SW_EINVAL;
            }
    }
    if (npolicy == 0 || nfeed > 1) {
        sw_errf(err, errlen, "a bundle needs at least one policy file and at most one feed");
        return SW_EINVAL;
    }
    buf m = {0};
    putf(&m, "version %llu\ncreated %lld\nsigner %s\n", (unsigned long long)version,
         (long long)created_s, signer ? signer->id : "none");
    for (size_t i = 0; i < n; i++) {
        uint8_t h[32];
        char hx[65];
        if (sw__bundle_sha256(files[i].data ? (const void *)files[i].data : "", files[i].len, h) !=
            SW_OK)
            m.oom = 1;
        sw_bundle_hex(h, 32, hx);
        putf(&m, "file %s %zu %s %s\n", role_names[files[i].role], files[i].len, hx, files[i].name);
    }
    if (m.oom) {
        free(m.p);
        sw_errf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    if (m.n > SW_BUNDLE_MAX_MANIFEST) {
        free(m.p);
        sw_errf(err, errlen, "the manifest would exceed %u bytes", SW_BUNDLE_MAX_MANIFEST);
        return SW_ELIMIT;
    }
    buf o = {0};
    put(&o, MAGIC, strlen(MAGIC));
    putf(&o, "manifest %zu\n", m.n);
    put(&o, m.p, m.n);
    if (signer) {
        buf sm = {0};
        put(&sm, SW__BUNDLE_SIG_DOMAIN, strlen(SW__BUNDLE_SIG_DOMAIN));
        put(&sm, m.p, m.n);
        uint8_t sig[64];
        int rc = sm.oom ? SW_ENOMEM : sw__bundle_sign(signer, sm.p, sm.n, sig);
        free(sm.p);
        if (rc != SW_OK) {
            free(m.p);
            free(o.p);
            sw_errf(err, errlen, rc == SW_EUSAGE ? "the signing key has no private half"
                                                 : "cannot sign");
            return rc == SW_EUSAGE ? SW_EINVAL : rc;
        }
        char hx[129];
        sw_bundle_hex(sig, 64, hx);
        putf(&o, "signature ed25519 %s %s\n", signer->id, hx);
    } else {
        putf(&o, "signature none\n");
    }
    free(m.p);
    for (size_t i = 0; i < n; i++)
        if (files[i].len)
            put(&o, files[i].data, files[i].len);
    if (o.oom) {
        free(o.p);
        sw_errf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    if (o.n > SW_BUNDLE_MAX_TOTAL || total > SW_BUNDLE_MAX_TOTAL) {
        free(o.p);
        sw_errf(err, errlen, "the bundle would exceed %u bytes", SW_BUNDLE_MAX_TOTAL);
        return SW_ELIMIT;
    }
    *out = o.p;
    *outlen = o.n;
    return SW_OK;
}

/* ---- reading ----------------------------------------------------------------------------- */
typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

/* The next line (without '\n') or 0 when there is no '\n' within max. */
static int take_line(cursor *c, size_t max, const char **line, size_t *n)
{
    size_t avail = (size_t)(c->end - c->p);
    if (avail > max + 1)
        avail = max + 1;
    const uint8_t *nl = memchr(c->p, '\n', avail);
    if (!nl)
        return 0;
    *line = (const char *)c->p;
    *n = (size_t)(nl - c->p);
    c->p = nl + 1;
    return 1;
}

/* Takes "word " (with its one space) from the front of line. */
static int take_word(const char **line, size_t *n, const char *word)
{
    size_t w = strlen(word);
    if (*n < w + 1 || memcmp(*line, word, w) != 0 || (*line)[w] != ' ')
        return 0;
    *line += w + 1;
    *n -= w + 1;
    return 1;
}

/* A decimal number without sign or leading zeros, up to the next space or
 * the end; 0 on failure or overflow. */
static int take_u64(const char **line, size_t *n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < *n && (*line)[i] >= '0' && (*line)[i] <= '9') {
        unsigned d = (unsigned)((*line)[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
        i++;
    }
    if (i == 0 || i > 20 || ((*line)[0] == '0' && i > 1))
        return 0;
    if (i < *n) {
        if ((*line)[i] != ' ')
            return 0;
        *line += i + 1;
        *n -= i + 1;
    } else {
        *line += i;
        *n = 0;
    }
    *out = v;
    return 1;
}

static int unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i += 2) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return 0;
            v = v * 16 + d;
        }
        out[i / 2] = (uint8_t)v;
    }
    return 1;
}

static int keyid_valid(const char *s, size_t n)
{
    if (n != SW_BUNDLE_KEYID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

#define FAIL(st, ...)                                                                        \
    do {                                                                                     \
        sw_errf(err, errlen, __VA_ARGS__);                                                   \
        status = (st);                                                                       \
        goto fail;                                                                           \
    } while (0)

static sw_bundle_status parse_manifest(sw_bundle *b, char *err, size_t errlen)
{
    sw_bundle_status status = SW_BUNDLE_OK;
    cursor c = {b->manifest, b->manifest + b->manifest_len};
    const char *l;
    size_t n;
    uint64_t v;
    if (!take_line(&c, 64, &l, &n) || !take_word(&l, &n, "version") || !take_u64(&l, &n, &v) || n ||
        v == 0)
        FAIL(SW_BUNDLE_FORMAT, "manifest: no valid 'version' line first");
    b->version = v;
    if (!take_line(&c, 64, &l, &n) || !take_word(&l, &n, "created") || !take_u64(&l, &n, &v) || n ||
        v > (uint64_t)INT64_MAX)
        FAIL(SW_BUNDLE_FORMAT, "manifest: no valid 'created' line second");
    b->created = (int64_t)v;
    if (!take_line(&c, 64, &l, &n) || !take_word(&l, &n, "signer"))
        FAIL(SW_BUNDLE_FORMAT, "manifest: no 'signer' line third");
    if (n == 4 && memcmp(l, "none", 4) == 0) {
        b->signer[0] = '\0';
    } else if (keyid_valid(l, n)) {
        memcpy(b->signer, l, n);
        b->signer[n] = '\0';
    } else {
        FAIL(SW_BUNDLE_FORMAT, "manifest: bad signer key id");
    }
    /* count the file lines first: the array is sized once */
    size_t nf = 0;
    for (const uint8_t *p = c.p; p < c.end; p++)
        nf += *p == '\n';
    if (nf == 0)
        FAIL(SW_BUNDLE_FORMAT, "manifest: no files");
    if (nf > SW_BUNDLE_MAX_FILES)
        FAIL(SW_BUNDLE_TOO_BIG, "manifest: more than %d files", SW_BUNDLE_MAX_FILES);
    b->files = calloc(nf, sizeof *b->files);
    b->names = calloc(nf, sizeof *b->names);
    if (!b->files || !b->names)
        FAIL(SW_BUNDLE_NOMEM, "out of memory");
    size_t npolicy = 0, nfeed = 0;
    while (c.p < c.end) {
        if (!take_line(&c, 32 + 20 + 65 + SW_BUNDLE_MAX_NAME, &l, &n) || !take_word(&l, &n, "file"))
            FAIL(SW_BUNDLE_FORMAT, "manifest: line %zu is not a 'file' line", b->nfiles + 4);
        sw_bundle_file *f = &b->files[b->nfiles];
        const char *sp = memchr(l, ' ', n);
        char role[8];
        if (!sp || (size_t)(sp - l) >= sizeof role)
            FAIL(SW_BUNDLE_FORMAT, "manifest: line %zu: bad role", b->nfiles + 4);
        memcpy(role, l, (size_t)(sp - l));
        role[sp - l] = '\0';
        if (sw_bundle_role_lookup(role, &f->role) != SW_OK)
            FAIL(SW_BUNDLE_FORMAT, "manifest: line %zu: unknown role '%s'", b->nfiles + 4, role);
        n -= (size_t)(sp - l) + 1;
        l = sp + 1;
        if (!take_u64(&l, &n, &v))
            FAIL(SW_BUNDLE_FORMAT, "manifest: line %zu: bad size", b->nfiles + 4);
        if (v > SW_BUNDLE_MAX_FILE)
            FAIL(SW_BUNDLE_TOO_BIG, "manifest: line %zu: a file larger than %u bytes",
                 b->nfiles + 4, SW_BUNDLE_MAX_FILE);
        f->len = (size_t)v;
        if (n < 65 || l[64] != ' ' || !unhex(l, 64, f->sha256))
            FAIL(SW_BUNDLE_FORMAT, "manifest: line %zu: bad sha256", b->nfiles + 4);
        l += 65;
        n -= 65;
        if (!sw_bundle_name_valid(l, n))
            FAIL(SW_BUNDLE_BAD_NAME, "manifest: line %zu: a file name that is absolute, "
                 "climbs with '..', or has characters outside A-Z a-z 0-9 . _ + - /",
                 b->nfiles + 4);
        for (size_t j = 0; j < b->nfiles; j++)
            if (strlen(b->names[j]) == n && memcmp(b->names[j], l, n) == 0)
                FAIL(SW_BUNDLE_FORMAT, "manifest: '%s' is listed twice", b->names[j]);
        char *name = malloc(n + 1);
        if (!name)
            FAIL(SW_BUNDLE_NOMEM, "out of memory");
        memcpy(name, l, n);
        name[n] = '\0';
        b->names[b->nfiles] = name;
        f->name = name;
        npolicy += f->role == SW_BUNDLE_ROLE_POLICY;
        nfeed += f->role == SW_BUNDLE_ROLE_FEED;
        b->nfiles++;
    }
    if (npolicy == 0 || nfeed > 1)
        FAIL(SW_BUNDLE_FORMAT, "manifest: no policy file, or more than one feed");
    return SW_BUNDLE_OK;
fail:
    return status;
}

sw_bundle_status sw_bundle_parse(const uint8_t *data, size_t len, sw_bundle **out, char *err,
                                 size_t errlen)
{
    *out = NULL;
    sw_bundle_status status = SW_BUNDLE_OK;
    if (len > SW_BUNDLE_MAX_TOTAL) {
        sw_errf(err, errlen, "larger than %u bytes", SW_BUNDLE_MAX_TOTAL);
        return SW_BUNDLE_TOO_BIG;
    }
    sw_bundle *b = calloc(1, sizeof *b);
    if (!b || !(b->data = calloc(1, len ? len : 1))) {
        free(b);
        sw_errf(err, errlen, "out of memory");
        return SW_BUNDLE_NOMEM;
    }
    if (len)
        memcpy(b->data, data, len);
    b->len = len;
    if (sw__bundle_sha256(b->data, len, b->sha256) != SW_OK)
        FAIL(SW_BUNDLE_NOMEM, "out of memory");
    cursor c = {b->data, b->data + len};
    const char *l;
    size_t n;
    uint64_t v;
    size_t ml = strlen(MAGIC);
    if (len < ml || memcmp(b->data, MAGIC, ml) != 0)
        FAIL(SW_BUNDLE_FORMAT, "not a sipwall bundle (no '%.*s' line)", (int)ml - 1, MAGIC);
    c.p += ml;
    if (!take_line(&c, 64, &l, &n) || !take_word(&l, &n, "manifest") || !take_u64(&l, &n, &v) || n)
        FAIL(SW_BUNDLE_FORMAT, "no valid 'manifest' line");
    if (v > SW_BUNDLE_MAX_MANIFEST)
        FAIL(SW_BUNDLE_TOO_BIG, "the manifest is larger than %u bytes", SW_BUNDLE_MAX_MANIFEST);
    if (v > (uint64_t)(c.end - c.p) || v == 0 || c.p[v - 1] != '\n')
        FAIL(SW_BUNDLE_FORMAT, "the manifest is truncated");
    b->manifest = c.p;
    b->manifest_len = (size_t)v;
    if (memchr(b->manifest, '\0', b->manifest_len))
        FAIL(SW_BUNDLE_FORMAT, "the manifest holds a NUL byte");
    c.p += v;
    if ((status = parse_manifest(b, err, errlen)) != SW_BUNDLE_OK)
        goto fail;
    if (!take_line(&c, 200, &l, &n) || !take_word(&l, &n, "signature"))
        FAIL(SW_BUNDLE_FORMAT, "no 'signature' line after the manifest");
    if (n == 4 && memcmp(l, "none", 4) == 0) {
        b->has_sig = 0;
    } else if (take_word(&l, &n, "ed25519") && n == SW_BUNDLE_KEYID_LEN + 1 + 128 &&
               keyid_valid(l, SW_BUNDLE_KEYID_LEN) && l[SW_BUNDLE_KEYID_LEN] == ' ' &&
               unhex(l + SW_BUNDLE_KEYID_LEN + 1, 128, b->sig)) {
        b->has_sig = 1;
        memcpy(b->sig_keyid, l, SW_BUNDLE_KEYID_LEN);
        b->sig_keyid[SW_BUNDLE_KEYID_LEN] = '\0';
    } else {
        FAIL(SW_BUNDLE_FORMAT, "bad 'signature' line");
    }
    if (b->has_sig != (b->signer[0] != '\0') ||
        (b->has_sig && strcmp(b->sig_keyid, b->signer) != 0))
        FAIL(SW_BUNDLE_FORMAT, "the signature line and the manifest's signer disagree");
    size_t left = (size_t)(c.end - c.p);
    for (size_t i = 0; i < b->nfiles; i++) {
        if (b->files[i].len > left)
            FAIL(SW_BUNDLE_FORMAT, "'%s' is truncated", b->files[i].name);
        b->files[i].data = c.p;
        c.p += b->files[i].len;
        left -= b->files[i].len;
    }
    if (left)
        FAIL(SW_BUNDLE_FORMAT, "%zu bytes after the last file", left);
    *out = b;
    return SW_BUNDLE_OK;
fail:
    sw_bundle_free(b);
    return status;
}

sw_bundle_status sw_bundle_load(const char *path, sw_bundle **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        return SW_BUNDLE_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sw_errf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return SW_BUNDLE_IO;
    }
    if ((uint64_t)st.st_size > SW_BUNDLE_MAX_TOTAL) {
        sw_errf(err, errlen, "%s: larger than %u bytes", path, SW_BUNDLE_MAX_TOTAL);
        close(fd);
        return SW_BUNDLE_TOO_BIG;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0; /* +1: tells a file that grew */
    uint8_t *d = malloc(cap);
    if (!d) {
        close(fd);
        sw_errf(err, errlen, "out of memory");
        return SW_BUNDLE_NOMEM;
    }
    for (;;) {
        ssize_t r = read(fd, d + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sw_errf(err, errlen, "%s: %s", path, strerror(errno));
            free(d);
            close(fd);
            return SW_BUNDLE_IO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            sw_errf(err, errlen, "%s: the file changed while it was read", path);
            free(d);
            close(fd);
            return SW_BUNDLE_IO;
        }
    }
    close(fd);
    sw_bundle_status s = sw_bundle_parse(d, n, out, err, errlen);
    free(d);
    return s;
}

void sw_bundle_free(sw_bundle *b)
{
    if (!b)
        return;
    for (size_t i = 0; b->names && i < b->nfiles; i++)
        free(b->names[i]);
    free(b->names);
    free(b->files);
    free(b->data);
    free(b);
}

sw_bundle_status sw_bundle_verify(const sw_bundle *b, const sw_bundle_trust *keys, size_t nkeys,
                                  size_t *used, char *err, size_t errlen)
{
    if (!b->has_sig) {
        sw_errf(err, errlen, "the bundle is not signed");
        return SW_BUNDLE_UNSIGNED;
    }
    size_t k = 0;
    while (k < nkeys && strcmp(keys[k].key->id, b->sig_keyid) != 0)
        k++;
    if (k == nkeys) {
        sw_errf(err, errlen, "signed with key %s, which is not a trust key", b->sig_keyid);
        return SW_BUNDLE_UNKNOWN_KEY;
    }
    size_t dl = strlen(SW__BUNDLE_SIG_DOMAIN);
    uint8_t *msg = malloc(dl + b->manifest_len);
    if (!msg) {
        sw_errf(err, errlen, "out of memory");
        return SW_BUNDLE_NOMEM;
    }
    memcpy(msg, SW__BUNDLE_SIG_DOMAIN, dl);
    memcpy(msg + dl, b->manifest, b->manifest_len);
    int ok = sw__bundle_sig_ok(keys[k].key, msg, dl + b->manifest_len, b->sig);
    free(msg);
    if (!ok) {
        sw_errf(err, errlen, "the signature by key %s does not verify (the manifest was changed, "
                "or another key signed it)", b->sig_keyid);
        return SW_BUNDLE_BAD_SIGNATURE;
    }
    for (size_t i = 0; i < b->nfiles; i++) {
        uint8_t h[32];
        if (sw__bundle_sha256(b->files[i].len ? (const void *)b->files[i].data : "",
                              b->files[i].len, h) != SW_OK) {
            sw_errf(err, errlen, "out of memory");
            return SW_BUNDLE_NOMEM;
        }
        if (memcmp(h, b->files[i].sha256, 32) != 0) {
            sw_errf(err, errlen, "'%s' does not match the SHA-256 in the signed manifest",
                    b->files[i].name);
            return SW_BUNDLE_HASH_MISMATCH;
        }
    }
    if (used)
        *used = k;
    return SW_BUNDLE_OK;
}

sw_bundle_status sw_bundle_check_version(const sw_bundle *b, const sw_bundle_mark *last, char *err,
                                         size_t errlen)
{
    if (!last || b->version > last->version)
        return SW_BUNDLE_OK;
    if (b->version < last->version) {
        sw_errf(err, errlen, "version %llu is older than the last accepted version %llu",
                (unsigned long long)b->version, (unsigned long long)last->version);
        return SW_BUNDLE_ROLLBACK;
    }
    if (memcmp(b->sha256, last->sha256, 32) != 0) {
        sw_errf(err, errlen, "version %llu was accepted before with other contents",
                (unsigned long long)b->version);
        return SW_BUNDLE_REPLAY;
    }
    return SW_BUNDLE_OK;
}

uint64_t sw_bundle_version(const sw_bundle *b) { return b->version; }
int64_t sw_bundle_created(const sw_bundle *b) { return b->created; }
const char *sw_bundle_signer(const sw_bundle *b) { return b->signer; }
const uint8_t *sw_bundle_sha256(const sw_bundle *b) { return b->sha256; }
size_t sw_bundle_nfiles(const sw_bundle *b) { return b->nfiles; }

const uint8_t *sw_bundle_bytes(const sw_bundle *b, size_t *len)
{
    *len = b->len;
    return b->data;
}

const sw_bundle_file *sw_bundle_file_at(const sw_bundle *b, size_t i)
{
    return i < b->nfiles ? &b->files[i] : NULL;
}

const sw_bundle_file *sw_bundle_find(const sw_bundle *b, const char *name)
{
    /* lexical normalisation into segments: ".", "" dropped, ".." pops */
    char norm[SW_BUNDLE_MAX_NAME + 1];
    size_t stack[SW_BUNDLE_MAX_NAME + 1], depth = 0, o = 0;
    const char *p = name;
    while (*p) {
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        if (*p)
            p++;
        if (n == 0 || (n == 1 && s[0] == '.'))
            continue;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (depth == 0)
                return NULL; /* climbs out of the bundle */
            o = stack[--depth];
            continue;
        }
        if (o + (o ? 1 : 0) + n > SW_BUNDLE_MAX_NAME)
            return NULL;
        stack[depth++] = o;
        if (o)
            norm[o++] = '/';
        memcpy(norm + o, s, n);
        o += n;
    }
    norm[o] = '\0';
    if (o == 0 || name[0] == '/')
        return NULL;
    for (size_t i = 0; i < b->nfiles; i++)
        if (strcmp(b->files[i].name, norm) == 0)
            return &b->files[i];
    return NULL;
}
