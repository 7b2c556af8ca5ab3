/* sipwalld configuration file: tokenizer, directives, semantic checks.
 *
 * One directive per line, words separated by blanks, "double quotes" around
 * words with blanks (\" and \\ inside), '#' at the start of a word starts a
 * comment.  Everything is checked here, with the line it came from, so the
 * daemon gets a config it can use as is.  The parser treats the text as
 * hostile (fuzz/fuzz_config.c): bounded line length, file size, word count
 * and table sizes, no NUL or control bytes. */
#include "daemon/config.h"
#include "sipwall/event.h" /* export formats and transports */
#include "sipwall/intel.h"   /* the intel trust file is checked at load */
#include "sipwall/taxii.h"   /* taxii lines are checked at load */
#include "sipwall/exchange.h" /* and the export policy of publish */
#include "sipwall/exchange_fmt.h" /* intel-apiban: the APIBAN reply bounds */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CFG_MAX_WORDS 40
#define CFG_PATH_MAX 4096
#define CFG_SHOW 64 /* at most this many bytes of a user's word in a message */

/* ---- parser state --------------------------------------------------------- */

enum { D_MODE, D_WORKERS, D_USER, D_PID_FILE, D_POLICY, D_LOCATION_FEED, D_EVENTS, D_LOG,
       D_LOG_LEVEL, D_ADMIN, D_SECRET, D_TOPOLOGY_HIDING, D_LISTEN, D_FORWARD, D_ROUTE,
       D_TLS_CLIENT, D_LIMITS, D_CAPTURE, D_HEP,
       D_EVENTS_DB,
       D_EXPORT,
       D_METRICS,
       D_STATE,
       D_ADMIN_API,
       D_INTEL,
       D_INTEL_PULL, D_INTEL_APIBAN,
       D_INTEL_PUSH_PEER,
       D_INTEL_PUSH,
       D_BUNDLE, D_TRUST_KEY,
       D_TAXII, D_PUBLISH,
       D__COUNT };

enum { L_MAX_CONNECTIONS, L_MAX_CONNECTIONS_PER_IP, L_IDLE_TIMEOUT, L_HANDSHAKE_TIMEOUT,
       L_MESSAGE_TIMEOUT, L_MAX_CONN_BUFFER, L_MAX_SEND_QUEUE, L_UDP_BATCH, L_SOCKET_BUFFER,
       /* connection admission (conn.c, admit.c) */
       L_MAX_CONNECTIONS_PER_NET, L_RESERVE_CONNECTIONS, L_STRANGER_IDLE_TIMEOUT, L_IP_PREFIX4,
       L_IP_PREFIX6, L_NET_PREFIX4, L_NET_PREFIX6,
       L__COUNT };

typedef struct cfg_line {
    char buf[SWD_CONFIG_MAX_LINE + 1]; /* the words, unquoted, each NUL-terminated */
    char *w[CFG_MAX_WORDS];
    unsigned n;
} cfg_line;

typedef struct cfg_parser {
    swd_config *c;
    const char *name;
    char *err;
    size_t errlen;
    int line;
    char basedir[CFG_PATH_MAX]; /* directory of the config file, "" = working directory */
    int first[D__COUNT];        /* line of the first occurrence of each directive */
    int limit_line[L__COUNT];   /* line where each limit was set */
    int side_limit_line[SWD_SIDES][4]; /* line where each per-side parser limit was set */
    int policy_line[SWD_MAX_POLICIES];
    int forward_line[SWD_MAX_FORWARD];
    unsigned policy_cap;
    cfg_line words;
} cfg_parser;

static int fail(cfg_parser *p, int line, const char *fmt, ...) SW_PRINTF(3, 4);

static int fail(cfg_parser *p, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->errlen == 0)
        return SW_EINVAL;
    if (line > 0)
        snprintf(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
    else
        snprintf(p->err, p->errlen, "%s: %s", p->name, msg);
    return SW_EINVAL;
}

static char *dup_str(cfg_parser *p, const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        fail(p, p->line, "out of memory");
    return d;
}

/* ---- small value parsers ---------------------------------------------------- */

/* Decimal digits only (no sign, no blanks), checked for overflow.  Byte
 * sizes may end in k, m or g (binary multiples). */
static int parse_u32(const char *s, int size_suffix, uint32_t *out)
{
    uint64_t v = 0;
    const char *q = s;
    if (*q < '0' || *q > '9')
        return SW_EINVAL;
    for (; *q >= '0' && *q <= '9'; q++) {
        v = v * 10 + (uint64_t)(*q - '0');
        if (v > UINT32_MAX)
            return SW_ERANGE;
    }
    if (*q != '\0') {
        if (!size_suffix || q[1] != '\0')
            return SW_EINVAL;
        unsigned shift;
        switch (*q) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return SW_EINVAL;
        }
        v <<= shift; /* v < 2^32, so this fits in 64 bits */
        if (v > UINT32_MAX)
            return SW_ERANGE;
    }
    *out = (uint32_t)v;
    return SW_OK;
}

/* A number option in [min, max], with a message naming what it is. */
static int number(cfg_parser *p, const char *what, const char *s, uint32_t min, uint32_t max,
                  int size_suffix, uint32_t *out)
{
    uint32_t v = 0;
    int rc = parse_u32(s, size_suffix, &v);
    if (rc == SW_EINVAL)
        return fail(p, p->line, "%s: '%.*s' is not a number%s", what, CFG_SHOW, s,
                    size_suffix ? " (digits, optionally followed by k, m or g)" : "");
    if (rc != SW_OK || v < min || v > max)
        return fail(p, p->line, "%s: %.*s is out of range (%u..%u)", what, CFG_SHOW, s, min, max);
    *out = v;
    return SW_OK;
}

/* "1.2.3.4:5060" or "[2001:db8::1]:5060"; the port is required and 1..65535. */
static int parse_hostport(cfg_parser *p, const char *what, const char *s, sw_addr *out)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port;
    size_t hlen;
    int v6 = 0;
    memset(out, 0, sizeof *out);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL)
            return fail(p, p->line, "%s: '%.*s' lacks the closing ']'", what, CFG_SHOW, s);
        if (close[1] != ':')
            return fail(p, p->line, "%s: '%.*s' needs a port ([ADDR]:PORT)", what, CFG_SHOW, s);
        hlen = (size_t)(close - s - 1);
        if (hlen >= sizeof host)
            return fail(p, p->line, "%s: '%.*s' is not an IPv6 address", what, CFG_SHOW, s);
        memcpy(host, s + 1, hlen);
        port = close + 2;
        v6 = 1;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL)
            return fail(p, p->line, "%s: '%.*s' needs a port (ADDR:PORT)", what, CFG_SHOW, s);
        if (memchr(s, ':', (size_t)(colon - s)) != NULL)
            return fail(p, p->line, "%s: '%.*s': write IPv6 addresses in brackets, [ADDR]:PORT",
                        what, CFG_SHOW, s);
        hlen = (size_t)(colon - s);
        if (hlen >= sizeof host)
            return fail(p, p->line, "%s: '%.*s' is not an IP address", what, CFG_SHOW, s);
        memcpy(host, s, hlen);
        port = colon + 1;
    }
    host[hlen] = '\0';
    if (v6 ? inet_pton(AF_INET6, host, out->ip) == 1 : inet_pton(AF_INET, host, out->ip) == 1)
        out->family = v6 ? 6 : 4;
    else
        return fail(p, p->line, "%s: '%.*s' is not an IP%s address (names are not resolved here)",
                    what, CFG_SHOW, host, v6 ? "v6" : "v4");
    uint32_t pn = 0;
    int rc = parse_u32(port, 0, &pn);
    if (rc != SW_OK || pn < 1 || pn > 65535)
        return fail(p, p->line, "%s: port '%.*s' must be 1..65535", what, CFG_SHOW, port);
    out->port = (uint16_t)pn;
    return SW_OK;
}

static int addr_unspecified(const sw_addr *a)
{
    static const uint8_t zero[16];
    return memcmp(a->ip, zero, a->family == 4 ? 4 : 16) == 0;
}

static int parse_transport(const char *s, int allow_tls, sw_transport *out)
{
    if (strcmp(s, "udp") == 0)
        *out = SW_TRANSPORT_UDP;
    else if (strcmp(s, "tcp") == 0)
        *out = SW_TRANSPORT_TCP;
    else if (allow_tls && strcmp(s, "tls") == 0)
        *out = SW_TRANSPORT_TLS;
    else
        return SW_EINVAL;
    return SW_OK;
}

/* transport:ADDR:PORT */
static int parse_hop(cfg_parser *p, const char *what, const char *s, swd_hop *out)
{
    const char *colon = strchr(s, ':');
    char t[8];
    size_t tl = colon ? (size_t)(colon - s) : 0;
    if (colon == NULL || tl >= sizeof t)
        return fail(p, p->line, "%s: '%.*s' is not TRANSPORT:ADDR:PORT (e.g. udp:10.0.0.10:5060)",
                    what, CFG_SHOW, s);
    memcpy(t, s, tl);
    t[tl] = '\0';
    if (parse_transport(t, 1, &out->transport) != SW_OK)
        return fail(p, p->line, "%s: unknown transport '%s' in '%.*s' (udp, tcp or tls)", what, t,
                    CFG_SHOW, s);
    int rc = parse_hostport(p, what, colon + 1, &out->addr);
    if (rc != SW_OK)
        return rc;
    if (addr_unspecified(&out->addr))
        return fail(p, p->line, "%s: '%.*s' is the unspecified address, not a next hop", what,
                    CFG_SHOW, s);
    return SW_OK;
}

/* Names for users, groups, listeners: letters, digits, '_', '.', '-', not
 * starting with '-'. */
static int simple_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

/* A DNS name for route: labels of letters, digits and '-', 1..63 bytes
 * each, 253 in all, not all digits and dots (that would be an IPv4
 * literal, which needs no route). */
static int domain_name(const char *s)
{
    size_t n = strlen(s), label = 0;
    int alpha = 0;
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (ch == '-' && label == 0)
            return 0;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-')
            alpha = 1;
        else if (!(ch >= '0' && ch <= '9'))
            return 0;
        if (++label > 63)
            return 0;
    }
    return alpha && s[n - 1] != '-';
}

/* Relative paths are taken relative to the config file's directory, so
 * the daemon's working directory does not matter (and reloads after a
 * chdir see the same files). */
static char *dup_path(cfg_parser *p, const char *what, const char *s)
{
    if (s[0] == '\0') {
        fail(p, p->line, "%s: empty path", what);
        return NULL;
    }
    /* a key in a token (RFC 7512 URI, src/net/keys.c) is no path */
    if (s[0] == '/' || p->basedir[0] == '\0' || strncmp(s, "pkcs11:", 7) == 0) {
        if (strlen(s) >= CFG_PATH_MAX) {
            fail(p, p->line, "%s: path longer than %d bytes", what, CFG_PATH_MAX - 1);
            return NULL;
        }
        return dup_str(p, s);
    }
    size_t b = strlen(p->basedir), n = strlen(s);
    if (b + 1 + n >= CFG_PATH_MAX) {
        fail(p, p->line, "%s: path longer than %d bytes", what, CFG_PATH_MAX - 1);
        return NULL;
    }
    char *d = malloc(b + 1 + n + 1);
    if (d == NULL) {
        fail(p, p->line, "out of memory");
        return NULL;
    }
    memcpy(d, p->basedir, b);
    d[b] = '/';
    memcpy(d + b + 1, s, n + 1);
    return d;
}

/* The file must be a regular file this process can open for reading.  stat
 * first, so that a device node named by a hostile config is never opened. */
static int check_readable(cfg_parser *p, int line, const char *what, const char *path)
{
    struct stat st;
    if (strncmp(path, "pkcs11:", 7) == 0)
        return SW_OK; /* a key in a token: loaded at start (and by --check-config) */
    if (stat(path, &st) != 0)
        return fail(p, line, "%s %.*s: %s", what, 256, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(p, line, "%s %.*s: not a regular file", what, 256, path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return fail(p, line, "%s %.*s: %s", what, 256, path, strerror(errno));
    close(fd);
    return SW_OK;
}

/* ---- KEY=VALUE options ------------------------------------------------------ */

/* Splits words[from..] into the allowed keys; each key at most once, no
 * empty values.  vals[i] stays NULL for keys not given. */
static int options(cfg_parser *p, const char *directive, unsigned from, const char *const *keys,
                   unsigned nkeys, const char **vals)
{
    cfg_line *l = &p->words;
    for (unsigned i = 0; i < nkeys; i++)
        vals[i] = NULL;
    for (unsigned i = from; i < l->n; i++) {
        char *w = l->w[i];
        char *eq = strchr(w, '=');
        if (eq == NULL || eq == w)
            return fail(p, p->line, "%s: expected KEY=VALUE, got '%.*s'", directive, CFG_SHOW, w);
        *eq = '\0';
        unsigned k = 0;
        while (k < nkeys && strcmp(keys[k], w) != 0)
            k++;
        if (k == nkeys) {
            char known[256];
            size_t used = 0;
            known[0] = '\0';
            for (unsigned j = 0; j < nkeys && used < sizeof known; j++) {
                int n = snprintf(known + used, sizeof known - used, "%s%s", j ? ", " : "", keys[j]);
                if (n < 0)
                    break;
                used += (size_t)n;
            }
            return fail(p, p->line, "%s: unknown option '%.*s' (known: %s)", directive, CFG_SHOW, w,
                        known);
        }
        if (vals[k] != NULL)
            return fail(p, p->line, "%s: %s= given twice", directive, keys[k]);
        if (eq[1] == '\0')
            return fail(p, p->line, "%s: %s= needs a value", directive, keys[k]);
        vals[k] = eq + 1;
    }
    return SW_OK;
}

static int parse_verify(cfg_parser *p, const char *directive, const char *s, int *out)
{
    if (strcmp(s, "none") == 0)
        *out = SWD_VERIFY_NONE;
    else if (strcmp(s, "optional") == 0)
        *out = SWD_VERIFY_OPTIONAL;
    else if (strcmp(s, "required") == 0)
        *out = SWD_VERIFY_REQUIRED;
    else
        return fail(p, p->line, "%s: verify='%.*s' is not none, optional or required", directive,
                    CFG_SHOW, s);
    return SW_OK;
}

/* ---- directives --------------------------------------------------------------- */

static int nargs(cfg_parser *p, unsigned min, unsigned max, const char *usage)
{
    unsigned n = p->words.n - 1;
    if (n < min || n > max)
        return fail(p, p->line, "usage: %s", usage);
    return SW_OK;
}

static int d_mode(cfg_parser *p)
{
    int rc = nargs(p, 1, 1, "mode inline|passive");
    if (rc)
        return rc;
    const char *v = p->words.w[1];
    if (strcmp(v, "inline") == 0)
        p->c->mode = SWD_MODE_INLINE;
    else if (strcmp(v, "passive") == 0)
        p->c->mode = SWD_MODE_PASSIVE;
    else
        return fail(p, p->line, "mode: '%.*s' is not inline or passive", CFG_SHOW, v);
    return SW_OK;
}

static int d_workers(cfg_parser *p)
{
    int rc = nargs(p, 1, 1, "workers auto|1..64");
    if (rc)
        return rc;
    const char *v = p->words.w[1];
    if (strcmp(v, "auto") == 0) {
        p->c->workers = 0;
        return SW_OK;
    }
    uint32_t n = 0;
    rc = number(p, "workers", v, 1, SWD_MAX_WORKERS, 0, &n);
    p->c->workers = n;
    return rc;
}

static int d_user(cfg_parser *p)
{
    int rc = nargs(p, 1, 2, "user USER [GROUP]");
    if (rc)
        return rc;
    for (unsigned i = 1; i < p->words.n; i++)
        if (!simple_name(p->words.w[i], 32))
            return fail(p, p->line, "user: '%.*s' is not a valid %s name", CFG_SHOW,
                        p->words.w[i], i == 1 ? "user" : "group");
    if ((p->c->user = dup_str(p, p->words.w[1])) == NULL)
        return SW_ENOMEM;
    if (p->words.n == 3 && (p->c->group = dup_str(p, p->words.w[2])) == NULL)
        return SW_ENOMEM;
    return SW_OK;
}

/* The directives that take one path. */
static int one_path(cfg_parser *p, const char *directive, char **slot)
{
    char usage[64];
    snprintf(usage, sizeof usage, "%s PATH", directive);
    int rc = nargs(p, 1, 1, usage);
    if (rc)
        return rc;
    *slot = dup_path(p, directive, p->words.w[1]);
    return *slot ? SW_OK : SW_EINVAL;
}

static int d_pid_file(cfg_parser *p) { return one_path(p, "pid-file", &p->c->pid_file); }
static int d_location_feed(cfg_parser *p)
{
    return one_path(p, "location-feed", &p->c->location_feed);
}
static int d_events(cfg_parser *p) { return one_path(p, "events", &p->c->events); }

/* events-db PATH [max-age=DURATION] [max-size=BYTES] [queue=N]
 * DURATION: digits with s, m, h or d (seconds without); BYTES: digits with
 * k, m, g or t (binary multiples).  0 keeps everything. */
static int parse_i64_suffixed(const char *s, const char *suffixes, const int64_t *mult, int64_t *out)
{
    int64_t v = 0;
    const char *q = s;
    if (*q < '0' || *q > '9')
        return SW_EINVAL;
    for (; *q >= '0' && *q <= '9'; q++) {
        if (v > (INT64_MAX - 9) / 10)
            return SW_ERANGE;
        v = v * 10 + (*q - '0');
    }
    int64_t m = 1;
    if (*q != '\0') {
        const char *k = strchr(suffixes, *q);
        if (k == NULL || q[1] != '\0')
            return SW_EINVAL;
        m = mult[k - suffixes];
    }
    if (v > INT64_MAX / m)
        return SW_ERANGE;
    *out = v * m;
    return SW_OK;
}

static const char *const events_db_keys[] = {"max-age", "max-size", "queue"};

static int d_events_db(cfg_parser *p)
{
    swd_config *c = p->c;
    if (p->words.n < 2)
        return fail(p, p->line,
                    "usage: events-db PATH [max-age=DURATION] [max-size=BYTES] [queue=N]");
    const char *v[3];
    int rc = options(p, "events-db", 2, events_db_keys, 3, v);
    if (rc)
        return rc;
    static const int64_t age_mult[] = {1, 60, 3600, 86400};
    static const int64_t size_mult[] = {1024, 1024, 1048576, 1048576, 1073741824, 1073741824,
                                        1099511627776, 1099511627776};
    if (v[0]) {
        rc = parse_i64_suffixed(v[0], "smhd", age_mult, &c->events_db_max_age_s);
        if (rc == SW_EINVAL)
            return fail(p, p->line,
                        "events-db: max-age='%.*s' is not a duration (digits, optionally followed "
                        "by s, m, h or d)",
                        CFG_SHOW, v[0]);
        if (rc != SW_OK || c->events_db_max_age_s > SWD_EVENTS_MAX_AGE_S)
            return fail(p, p->line, "events-db: max-age=%.*s is out of range (0..3650d)",
                        CFG_SHOW, v[0]);
    }
    if (v[1]) {
        rc = parse_i64_suffixed(v[1], "kKmMgGtT", size_mult, &c->events_db_max_bytes);
        if (rc == SW_EINVAL)
            return fail(p, p->line,
                        "events-db: max-size='%.*s' is not a size (digits, optionally followed by "
                        "k, m, g or t)",
                        CFG_SHOW, v[1]);
        if (rc != SW_OK ||
            (c->events_db_max_bytes != 0 && c->events_db_max_bytes < SWD_EVENTS_MIN_BYTES))
            return fail(p, p->line, "events-db: max-size=%.*s is out of range (0, or at least 1m)",
                        CFG_SHOW, v[1]);
    }
    if (v[2] && (rc = number(p, "events-db queue", v[2], SWD_EVENTS_MIN_QUEUE, SWD_EVENTS_MAX_QUEUE,
                             0, &c->events_queue)) != SW_OK)
        return rc;
    c->events_db = dup_path(p, "events-db", p->words.w[1]);
    return c->events_db ? SW_OK : SW_EINVAL;
}
static int d_secret(cfg_parser *p) { return one_path(p, "secret", &p->c->secret_path); }

static int d_admin(cfg_parser *p)
{
    int rc = one_path(p, "admin", &p->c->admin);
    if (rc)
        return rc;
    if (strlen(p->c->admin) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return fail(p, p->line, "admin: socket path longer than %zu bytes",
                    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    return SW_OK;
}

static int d_log(cfg_parser *p)
{
    int rc = nargs(p, 1, 1, "log stderr|syslog|FILE");
    if (rc)
        return rc;
    const char *v = p->words.w[1];
    if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
        p->c->log = dup_str(p, v);
    else
        p->c->log = dup_path(p, "log", v);
    return p->c->log ? SW_OK : SW_EINVAL;
}

static int d_log_level(cfg_parser *p)
{
    int rc = nargs(p, 1, 1, "log-level error|warn|info|debug");
    if (rc)
        return rc;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(p->words.w[1], names[i]) == 0) {
            p->c->log_level = i;
            return SW_OK;
        }
    return fail(p, p->line, "log-level: '%.*s' is not error, warn, info or debug", CFG_SHOW,
                p->words.w[1]);
}

static int d_topology_hiding(cfg_parser *p)
{
    int rc = nargs(p, 1, 1, "topology-hiding on|off");
    if (rc)
        return rc;
    if (strcmp(p->words.w[1], "on") == 0)
        p->c->topology_hiding = 1;
    else if (strcmp(p->words.w[1], "off") == 0)
        p->c->topology_hiding = 0;
    else
        return fail(p, p->line, "topology-hiding: '%.*s' is not on or off", CFG_SHOW,
                    p->words.w[1]);
    return SW_OK;
}

static int d_policy(cfg_parser *p)
{
    int rc = nargs(p, 1, 1, "policy builtin:default|FILE");
    if (rc)
        return rc;
    swd_config *c = p->c;
    const char *v = p->words.w[1];
    if (c->npolicies == SWD_MAX_POLICIES)
        return fail(p, p->line, "policy: more than %d policy files", SWD_MAX_POLICIES);
    char *path;
    if (strncmp(v, "builtin:", 8) == 0) {
        if (strcmp(v, "builtin:default") != 0)
            return fail(p, p->line, "policy: unknown built-in policy '%.*s' (builtin:default)",
                        CFG_SHOW, v);
        path = dup_str(p, v);
    } else {
        path = dup_path(p, "policy", v);
    }
    if (path == NULL)
        return SW_EINVAL;
    for (unsigned i = 0; i < c->npolicies; i++)
        if (strcmp(c->policies[i], path) == 0) {
            free(path);
            return fail(p, p->line, "policy: %.*s already given on line %d", 256, v,
                        p->policy_line[i]);
        }
    if (c->npolicies == p->policy_cap) {
        unsigned cap = p->policy_cap ? p->policy_cap * 2 : 4;
        if (cap > SWD_MAX_POLICIES)
            cap = SWD_MAX_POLICIES;
        char **np = realloc(c->policies, cap * sizeof *np);
        if (np == NULL) {
            free(path);
            fail(p, p->line, "out of memory");
            return SW_ENOMEM;
        }
        c->policies = np;
        p->policy_cap = cap;
    }
    p->policy_line[c->npolicies] = p->line;
    c->policies[c->npolicies++] = path;
    return SW_OK;
}

static const char *const listen_keys[] = {"side", "advertise", "name", "cert", "key", "ca", "verify"};
enum { LK_SIDE, LK_ADVERTISE, LK_NAME, LK_CERT, LK_KEY, LK_CA, LK_VERIFY, LK__COUNT };

static int d_listen(cfg_parser *p)
{
    swd_config *c = p->c;
    if (p->words.n < 3)
        return fail(p, p->line,
                    "usage: listen udp|tcp|tls ADDR:PORT side=core|interconnect [advertise=ADDR:PORT] "
                    "[name=NAME] [cert=FILE key=FILE ca=FILE verify=none|optional|required]");
    if (c->nlistens == SWD_MAX_LISTENS)
        return fail(p, p->line, "listen: more than %d listeners", SWD_MAX_LISTENS);
    swd_listen *ls = &c->listens[c->nlistens];
    memset(ls, 0, sizeof *ls);
    ls->line = p->line;
    if (parse_transport(p->words.w[1], 1, &ls->transport) != SW_OK)
        return fail(p, p->line, "listen: unknown transport '%.*s' (udp, tcp or tls)", CFG_SHOW,
                    p->words.w[1]);
    int rc = parse_hostport(p, "listen", p->words.w[2], &ls->addr);
    if (rc)
        return rc;
    const char *v[LK__COUNT];
    if ((rc = options(p, "listen", 3, listen_keys, LK__COUNT, v)) != SW_OK)
        return rc;
    if (v[LK_SIDE] == NULL)
        return fail(p, p->line, "listen: side=core or side=interconnect is required");
    if (strcmp(v[LK_SIDE], "core") == 0)
        ls->side = SW_SIDE_CORE;
    else if (strcmp(v[LK_SIDE], "interconnect") == 0)
        ls->side = SW_SIDE_INTERCONNECT;
    else
        return fail(p, p->line, "listen: side='%.*s' is not core or interconnect", CFG_SHOW,
                    v[LK_SIDE]);
    if (v[LK_ADVERTISE]) {
        if ((rc = parse_hostport(p, "listen advertise", v[LK_ADVERTISE], &ls->advertise)) != SW_OK)
            return rc;
        if (addr_unspecified(&ls->advertise))
            return fail(p, p->line, "listen: advertise= must be a real address, not %.*s",
                        CFG_SHOW, v[LK_ADVERTISE]);
        ls->has_advertise = 1;
    }
    if (v[LK_NAME]) {
        if (!simple_name(v[LK_NAME], SWD_LISTEN_NAME_MAX - 1))
            return fail(p, p->line,
                        "listen: name='%.*s' must be 1..%d letters, digits, '_', '.' or '-'",
                        CFG_SHOW, v[LK_NAME], SWD_LISTEN_NAME_MAX - 1);
        snprintf(ls->name, sizeof ls->name, "%s", v[LK_NAME]);
    } else {
        snprintf(ls->name, sizeof ls->name, "%s-%s-%u", sw_transport_name(ls->transport),
                 ls->side == SW_SIDE_CORE ? "core" : "ic", c->nlistens + 1);
    }
    if (ls->transport != SW_TRANSPORT_TLS) {
        for (int k = LK_CERT; k <= LK_VERIFY; k++)
            if (v[k])
                return fail(p, p->line, "listen: %s= is only for tls listeners", listen_keys[k]);
    } else {
        ls->verify = SWD_VERIFY_REQUIRED;
        if (v[LK_VERIFY] && (rc = parse_verify(p, "listen", v[LK_VERIFY], &ls->verify)) != SW_OK)
            return rc;
    }
    /* From here on the listener owns strings: count it so free() sees them. */
    c->nlistens++;
    if (v[LK_CERT] && (ls->cert = dup_path(p, "listen cert", v[LK_CERT])) == NULL)
        return SW_EINVAL;
    if (v[LK_KEY] && (ls->key = dup_path(p, "listen key", v[LK_KEY])) == NULL)
        return SW_EINVAL;
    if (v[LK_CA] && (ls->ca = dup_path(p, "listen ca", v[LK_CA])) == NULL)
        return SW_EINVAL;
    return SW_OK;
}

static int d_forward(cfg_parser *p)
{
    swd_config *c = p->c;
    if (p->words.n < 2)
        return fail(p, p->line, "usage: forward TRANSPORT:ADDR:PORT [TRANSPORT:ADDR:PORT…]");
    for (unsigned i = 1; i < p->words.n; i++) {
        if (c->nforward == SWD_MAX_FORWARD)
            return fail(p, p->line, "forward: more than %d next hops", SWD_MAX_FORWARD);
        swd_hop h;
        int rc = parse_hop(p, "forward", p->words.w[i], &h);
        if (rc)
            return rc;
        for (unsigned j = 0; j < c->nforward; j++)
            if (c->forward[j].transport == h.transport && sw_addr_eq(&c->forward[j].addr, &h.addr))
                return fail(p, p->line, "forward: %.*s is listed twice", CFG_SHOW, p->words.w[i]);
        p->forward_line[c->nforward] = p->line;
        c->forward[c->nforward++] = h;
    }
    return SW_OK;
}

static int d_route(cfg_parser *p)
{
    swd_config *c = p->c;
    if (p->words.n < 3)
        return fail(p, p->line, "usage: route DOMAIN TRANSPORT:ADDR:PORT [TRANSPORT:ADDR:PORT…]");
    if (c->nroutes == SWD_MAX_ROUTES)
        return fail(p, p->line, "route: more than %d routes", SWD_MAX_ROUTES);
    const char *dom = p->words.w[1];
    if (!domain_name(dom))
        return fail(p, p->line, "route: '%.*s' is not a domain name", CFG_SHOW, dom);
    if (p->words.n - 2 > SWD_MAX_ROUTE_HOPS)
        return fail(p, p->line, "route: more than %d next hops", SWD_MAX_ROUTE_HOPS);
    for (unsigned i = 0; i < c->nroutes; i++)
        if (strcasecmp(c->routes[i].domain, dom) == 0)
            return fail(p, p->line, "route: %s already routed on line %d", dom, c->routes[i].line);
    swd_route *r = &c->routes[c->nroutes];
    memset(r, 0, sizeof *r);
    for (unsigned i = 2; i < p->words.n; i++) {
        int rc = parse_hop(p, "route", p->words.w[i], &r->hops[r->nhops]);
        if (rc)
            return rc;
        for (unsigned j = 0; j < r->nhops; j++)
            if (r->hops[j].transport == r->hops[r->nhops].transport &&
                sw_addr_eq(&r->hops[j].addr, &r->hops[r->nhops].addr))
                return fail(p, p->line, "route: %.*s is listed twice", CFG_SHOW, p->words.w[i]);
        r->nhops++;
    }
    if ((r->domain = dup_str(p, dom)) == NULL)
        return SW_ENOMEM;
    for (char *q = r->domain; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q + ('a' - 'A'));
    r->line = p->line;
    c->nroutes++;
    return SW_OK;
}

static const char *const tls_client_keys[] = {"cert", "key", "ca", "verify"};

static int d_tls_client(cfg_parser *p)
{
    swd_config *c = p->c;
    if (p->words.n < 2)
        return fail(p, p->line,
                    "usage: tls-client [cert=FILE key=FILE] [ca=FILE] [verify=none|optional|required]");
    const char *v[4];
    int rc = options(p, "tls-client", 1, tls_client_keys, 4, v);
    if (rc)
        return rc;
    if (v[3] && (rc = parse_verify(p, "tls-client", v[3], &c->tls_client_verify)) != SW_OK)
        return rc;
    if (v[0] && (c->tls_client_cert = dup_path(p, "tls-client cert", v[0])) == NULL)
        return SW_EINVAL;
    if (v[1] && (c->tls_client_key = dup_path(p, "tls-client key", v[1])) == NULL)
        return SW_EINVAL;
    if (v[2] && (c->tls_client_ca = dup_path(p, "tls-client ca", v[2])) == NULL)
        return SW_EINVAL;
    return SW_OK;
}

/* The limits: key, range, whether it is a byte size (k/m/g suffixes). */
static const struct limit_def {
    const char *key;
    uint32_t min, max;
    uint8_t size;
} limit_defs[L__COUNT] = {
    [L_MAX_CONNECTIONS] = {"max-connections", 1, 1000000, 0},
    [L_MAX_CONNECTIONS_PER_IP] = {"max-connections-per-ip", 1, 1000000, 0},
    [L_IDLE_TIMEOUT] = {"idle-timeout", 1, 86400, 0},
    [L_HANDSHAKE_TIMEOUT] = {"handshake-timeout", 1, 300, 0},
    [L_MESSAGE_TIMEOUT] = {"message-timeout", 1, 3600, 0},
    [L_MAX_CONN_BUFFER] = {"max-conn-buffer", 65536, 64u << 20, 1},
    [L_MAX_SEND_QUEUE] = {"max-send-queue", 65536, 1u << 30, 1},
    [L_UDP_BATCH] = {"udp-batch", 1, 1024, 0},
    [L_SOCKET_BUFFER] = {"socket-buffer", 65536, 1u << 30, 1},
    [L_MAX_CONNECTIONS_PER_NET] = {"max-connections-per-net", 1, 1000000, 0},
    [L_RESERVE_CONNECTIONS] = {"reserve-connections", 0, 1000000, 0},
    [L_STRANGER_IDLE_TIMEOUT] = {"stranger-idle-timeout", 1, 86400, 0},
    [L_IP_PREFIX4] = {"ip-prefix4", 8, 32, 0},
    [L_IP_PREFIX6] = {"ip-prefix6", 16, 128, 0},
    [L_NET_PREFIX4] = {"net-prefix4", 8, 32, 0},
    [L_NET_PREFIX6] = {"net-prefix6", 16, 128, 0},
};

static uint32_t *limit_slot(swd_limits *l, int k)
{
    switch (k) {
    case L_MAX_CONNECTIONS: return &l->max_connections;
    case L_MAX_CONNECTIONS_PER_IP: return &l->max_connections_per_ip;
    case L_IDLE_TIMEOUT: return &l->idle_timeout_s;
    case L_HANDSHAKE_TIMEOUT: return &l->handshake_timeout_s;
    case L_MESSAGE_TIMEOUT: return &l->message_timeout_s;
    case L_MAX_CONN_BUFFER: return &l->max_conn_buffer;
    case L_MAX_SEND_QUEUE: return &l->max_send_queue;
    case L_UDP_BATCH: return &l->udp_batch;
    case L_MAX_CONNECTIONS_PER_NET: return &l->max_connections_per_net;
    case L_RESERVE_CONNECTIONS: return &l->reserve_connections;
    case L_STRANGER_IDLE_TIMEOUT: return &l->stranger_idle_timeout_s;
    case L_IP_PREFIX4: return &l->ip_prefix4;
    case L_IP_PREFIX6: return &l->ip_prefix6;
    case L_NET_PREFIX4: return &l->net_prefix4;
    case L_NET_PREFIX6: return &l->net_prefix6;
    default: return &l->socket_buffer;
    }
}

/* The per-side parser limits: key, range (limits side=…). */
static const struct limit_def side_limit_defs[4] = {
    {"max-size", 512, 65535, 1},
    {"max-headers", 8, 1024, 0},
    {"max-header-len", 128, 65535, 1},
    {"max-via", 1, 1024, 0},
};

void swd_sip_side_defaults(sw_sip_limits lim[SWD_SIDES])
{
    sw_sip_limits_default(&lim[SW_SIDE_CORE]);
    sw_sip_limits *ic = &lim[SW_SIDE_INTERCONNECT];
    sw_sip_limits_default(ic);
    ic->max_msg_size = 32768;
    ic->max_headers = 128;
    ic->max_via = 32;
}

/* limits side=core|interconnect KEY=VALUE… */
static int d_limits_side(cfg_parser *p)
{
    const char *side_name = p->words.w[1] + 5;
    int side;
    if (strcmp(side_name, "core") == 0)
        side = SW_SIDE_CORE;
    else if (strcmp(side_name, "interconnect") == 0)
        side = SW_SIDE_INTERCONNECT;
    else
        return fail(p, p->line, "limits: side=%.*s is not core or interconnect", CFG_SHOW, side_name);
    if (p->words.n < 3)
        return fail(p, p->line, "usage: limits side=%s max-size=… max-headers=… max-header-len=… max-via=…",
                    side_name);
    const char *keys[4], *v[4];
    for (int k = 0; k < 4; k++)
        keys[k] = side_limit_defs[k].key;
    int rc = options(p, "limits", 2, keys, 4, v);
    if (rc)
        return rc;
    sw_sip_limits *l = &p->c->sip_limits[side];
    for (int k = 0; k < 4; k++) {
        if (v[k] == NULL)
            continue;
        if (p->side_limit_line[side][k])
            return fail(p, p->line, "limits: side=%s %s already set on line %d", side_name, keys[k],
                        p->side_limit_line[side][k]);
        char what[64];
        snprintf(what, sizeof what, "limits side=%s %s", side_name, keys[k]);
        uint32_t val = 0;
        const struct limit_def *d = &side_limit_defs[k];
        if ((rc = number(p, what, v[k], d->min, d->max, d->size, &val)) != SW_OK)
            return rc;
        switch (k) {
        case 0: l->max_msg_size = val; break;
        case 1: l->max_headers = (uint16_t)val; break;
        case 2: l->max_header_len = val; break;
        default: l->max_via = (uint16_t)val; break;
        }
        p->side_limit_line[side][k] = p->line;
    }
    return SW_OK;
}

static int d_limits(cfg_parser *p)
{
    if (p->words.n >= 2 && strncmp(p->words.w[1], "side=", 5) == 0)
        return d_limits_side(p);
    if (p->words.n < 2)
        return fail(p, p->line, "usage: limits KEY=VALUE… (see docs/sipwalld.md)");
    const char *keys[L__COUNT], *v[L__COUNT];
    for (int k = 0; k < L__COUNT; k++)
        keys[k] = limit_defs[k].key;
    int rc = options(p, "limits", 1, keys, L__COUNT, v);
    if (rc)
        return rc;
    for (int k = 0; k < L__COUNT; k++) {
        if (v[k] == NULL)
            continue;
        if (p->limit_line[k])
            return fail(p, p->line, "limits: %s already set on line %d", keys[k], p->limit_line[k]);
        char what[64];
        snprintf(what, sizeof what, "limits %s", keys[k]);
        if ((rc = number(p, what, v[k], limit_defs[k].min, limit_defs[k].max, limit_defs[k].size,
                         limit_slot(&p->c->limits, k))) != SW_OK)
            return rc;
        p->limit_line[k] = p->line;
    }
    return SW_OK;
}

static const char *const capture_keys[] = {"filter", "snaplen", "buffer"};

static int d_capture(cfg_parser *p)
{
    swd_config *c = p->c;
    if (p->words.n < 2)
        return fail(p, p->line, "usage: capture IFACE [filter=\"BPF\"] [snaplen=N] [buffer=BYTES]");
    if (c->ncaptures == SWD_MAX_CAPTURES)
        return fail(p, p->line, "capture: more than %d interfaces", SWD_MAX_CAPTURES);
    const char *ifc = p->words.w[1];
    /* IFNAMSIZ is 16 with the NUL; "any" is libpcap's all-interfaces device. */
    if (!simple_name(ifc, 15) || strchr(ifc, '='))
        return fail(p, p->line, "capture: '%.*s' is not an interface name", CFG_SHOW, ifc);
    for (unsigned i = 0; i < c->ncaptures; i++)
        if (strcmp(c->captures[i].iface, ifc) == 0)
            return fail(p, p->line, "capture: %s already captured on line %d", ifc,
                        c->captures[i].line);
    const char *v[3];
    int rc = options(p, "capture", 2, capture_keys, 3, v);
    if (rc)
        return rc;
    swd_capture *cp = &c->captures[c->ncaptures];
    memset(cp, 0, sizeof *cp);
    cp->snaplen = 65535;
    cp->buffer = 32u << 20;
    cp->line = p->line;
    if (v[1] && (rc = number(p, "capture snaplen", v[1], 256, 262144, 0, &cp->snaplen)) != SW_OK)
        return rc;
    if (v[2] && (rc = number(p, "capture buffer", v[2], 1u << 20, 1u << 30, 1, &cp->buffer)) != SW_OK)
        return rc;
    c->ncaptures++;
    if ((cp->iface = dup_str(p, ifc)) == NULL)
        return SW_ENOMEM;
    if (v[0] && (cp->filter = dup_str(p, v[0])) == NULL)
        return SW_ENOMEM;
    return SW_OK;
}

static const char *const hep_keys[] = {"auth-key", "insecure", "cert", "key", "ca", "verify"};
enum { HK_AUTH, HK_INSECURE, HK_CERT, HK_KEY, HK_CA, HK_VERIFY, HK__COUNT };

/* A loopback address: plain text there never crosses a wire. */
static int addr_loopback(const sw_addr *a)
{
    return a->family == 4 ? a->ip[0] == 127
                          : memcmp(a->ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
}

/* insecure=yes|no of a plain-text listener (HEP, metrics): required to be
 * yes on a non-loopback address, so that plain text is never a default. */
static int plain_listener(cfg_parser *p, const char *what, const sw_addr *a, const char *v, uint8_t *out)
{
    if (v && strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
        return fail(p, p->line, "%s: insecure='%.*s' is not yes or no", what, CFG_SHOW, v);
    *out = v && strcmp(v, "yes") == 0;
    if (!*out && !addr_loopback(a))
        return fail(p, p->line, "%s: %.*s is plain text on a non-loopback address; add insecure=yes to "
                                "accept that (it is logged as a warning event at every start), or "
                                "listen on loopback", what, CFG_SHOW, p->words.w[2]);
    return SW_OK;
}

static int d_hep(cfg_parser *p)
{
    swd_config *c = p->c;
    if (p->words.n < 3)
        return fail(p, p->line, "usage: hep udp|tcp ADDR:PORT [auth-key=KEY] [insecure=yes]\n"
                                "       hep tls ADDR:PORT cert=FILE key=FILE [ca=FILE] "
                                "[verify=none|optional|required] [auth-key=KEY]");
    if (c->nheps == SWD_MAX_HEPS)
        return fail(p, p->line, "hep: more than %d HEP listeners", SWD_MAX_HEPS);
    swd_hep *h = &c->heps[c->nheps];
    memset(h, 0, sizeof *h);
    h->line = p->line;
    if (parse_transport(p->words.w[1], 1, &h->transport) != SW_OK)
        return fail(p, p->line, "hep: unknown transport '%.*s' (udp, tcp or tls)", CFG_SHOW,
                    p->words.w[1]);
    if (h->transport == SW_TRANSPORT_TLS) { /* HEP3 over TLS on a TCP listener */
        h->transport = SW_TRANSPORT_TCP;
        h->tls = 1;
    }
    int rc = parse_hostport(p, "hep", p->words.w[2], &h->addr);
    if (rc)
        return rc;
    const char *v[HK__COUNT];
    if ((rc = options(p, "hep", 3, hep_keys, HK__COUNT, v)) != SW_OK)
        return rc;
    if (v[HK_AUTH] && strlen(v[HK_AUTH]) > 128)
        return fail(p, p->line, "hep: auth-key longer than 128 bytes");
    if (!h->tls) {
        if (v[HK_CERT] || v[HK_KEY] || v[HK_CA] || v[HK_VERIFY])
            return fail(p, p->line, "hep: cert=, key=, ca= and verify= are for hep tls");
        if ((rc = plain_listener(p, "hep", &h->addr, v[HK_INSECURE], &h->insecure)) != SW_OK)
            return rc;
    } else {
        if (v[HK_INSECURE])
            return fail(p, p->line, "hep tls: insecure= is for plain-text HEP (udp, tcp)");
        if (!v[HK_CERT] || !v[HK_KEY])
            return fail(p, p->line, "hep tls: needs cert= and key=");
        h->verify = SWD_VERIFY_REQUIRED;
        if (v[HK_VERIFY] && (rc = parse_verify(p, "hep tls", v[HK_VERIFY], &h->verify)) != SW_OK)
            return rc;
        if (h->verify != SWD_VERIFY_NONE && !v[HK_CA])
            return fail(p, p->line, "hep tls: verify=%s needs ca= (the senders' CA), or say verify=none",
                        swd_verify_name(h->verify));
    }
    c->nheps++;
    if (v[HK_AUTH] && (h->auth_key = dup_str(p, v[HK_AUTH])) == NULL)
        return SW_ENOMEM;
    if ((v[HK_CERT] && !(h->cert = dup_path(p, "hep cert", v[HK_CERT]))) ||
        (v[HK_KEY] && !(h->key = dup_path(p, "hep key", v[HK_KEY]))) ||
        (v[HK_CA] && !(h->ca = dup_path(p, "hep ca", v[HK_CA]))))
        return SW_ENOMEM;
    if ((h->cert && (rc = check_readable(p, p->line, "hep cert", h->cert)) != SW_OK) ||
        (h->key && (rc = check_readable(p, p->line, "hep key", h->key)) != SW_OK) ||
        (h->ca && (rc = check_readable(p, p->line, "hep ca", h->ca)) != SW_OK))
        return rc;
    return SW_OK;
}

/* ---- export syslog (docs/export.md) ---------------------------------------------- */

static const char *const export_keys[] = {"ca", "cert", "key", "server-name", "store", "format",
                                          "facility", "window", "batch", "dtls-rekey", "dtls-rate",
                                          "hostname"};
enum { EK_CA, EK_CERT, EK_KEY, EK_SERVER_NAME, EK_STORE, EK_FORMAT, EK_FACILITY, EK_WINDOW,
       EK_BATCH, EK_DTLS_REKEY, EK_DTLS_RATE, EK_HOSTNAME, EK__COUNT };

/* HOST:PORT where HOST is a DNS name, an IPv4 literal or [IPv6]. */
static int export_hostport(cfg_parser *p, const char *s, swd_export *x)
{
    const char *colon;
    char host[256];
    size_t hl;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return fail(p, p->line, "export: '%.*s' is not HOST:PORT", CFG_SHOW, s);
        hl = (size_t)(end - s - 1);
        if (hl == 0 || hl >= sizeof host)
            return fail(p, p->line, "export: bad address '%.*s'", CFG_SHOW, s);
        memcpy(host, s + 1, hl);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon == s || memchr(s, ':', (size_t)(colon - s)))
            return fail(p, p->line, "export: '%.*s' is not HOST:PORT", CFG_SHOW, s);
        hl = (size_t)(colon - s);
        if (hl >= sizeof host)
            return fail(p, p->line, "export: host name too long");
        memcpy(host, s, hl);
    }
    host[hl] = '\0';
    sw_addr a;
    int ip = sw_addr_parse(host, &a) == SW_OK;
    if (!ip && (s[0] == '[' || !domain_name(host)))
        return fail(p, p->line, "export: '%.*s' is neither an IP address nor a host name", CFG_SHOW,
                    host);
    uint32_t port = 0;
    int rc = number(p, "export port", colon + 1, 1, 65535, 0, &port);
    if (rc)
        return rc;
    x->port = (uint16_t)port;
    x->host = dup_str(p, host);
    return x->host ? SW_OK : SW_ENOMEM;
}

static int d_export(cfg_parser *p)
{
    swd_config *c = p->c;
    if (p->words.n < 5 || strcmp(p->words.w[1], "syslog") != 0)
        return fail(p, p->line,
                    "usage: export syslog NAME tls|dtls HOST:PORT ca=FILE cert=FILE key=FILE "
                    "[store=FILE] [server-name=NAME] [format=rfc5424|cef|ecs] [facility=0..23] "
                    "[window=N] [batch=N] [dtls-rekey=SECONDS] [dtls-rate=N] [hostname=NAME]");
    if (c->nexports == SWD_MAX_EXPORTS)
        return fail(p, p->line, "export: more than %d exporters", SWD_MAX_EXPORTS);
    swd_export *x = &c->exports[c->nexports];
    memset(x, 0, sizeof *x);
    x->line = p->line;
    c->nexports++; /* from here on swd_config_free frees what x holds */
    const char *name = p->words.w[2];
    if (!simple_name(name, sizeof x->name - 1))
        return fail(p, p->line, "export: name '%.*s' is not 1..%zu of [A-Za-z0-9._-]", CFG_SHOW,
                    name, sizeof x->name - 1);
    snprintf(x->name, sizeof x->name, "%s", name);
    for (unsigned i = 0; i + 1 < c->nexports; i++)
        if (strcmp(c->exports[i].name, x->name) == 0)
            return fail(p, p->line, "export: name %s already used on line %d", x->name,
                        c->exports[i].line);
    if (strcmp(p->words.w[3], "tls") == 0)
        x->transport = SW_EXPORT_TLS;
    else if (strcmp(p->words.w[3], "dtls") == 0)
        x->transport = SW_EXPORT_DTLS;
    else
        return fail(p, p->line, "export: transport '%.*s' is not tls or dtls", CFG_SHOW,
                    p->words.w[3]);
    int rc = export_hostport(p, p->words.w[4], x);
    if (rc)
        return rc;
    const char *v[EK__COUNT];
    if ((rc = options(p, "export", 5, export_keys, EK__COUNT, v)) != SW_OK)
        return rc;
    if (!v[EK_CA] || !v[EK_CERT] || !v[EK_KEY])
        return fail(p, p->line, "export: ca=, cert= and key= are required (mutual TLS)");
    if ((x->ca = dup_path(p, "export ca", v[EK_CA])) == NULL ||
        (x->cert = dup_path(p, "export cert", v[EK_CERT])) == NULL ||
        (x->key = dup_path(p, "export key", v[EK_KEY])) == NULL ||
        (v[EK_STORE] && (x->store = dup_path(p, "export store", v[EK_STORE])) == NULL))
        return SW_EINVAL; /* no store=: the events-db, filled in by export_checks */
    if (v[EK_SERVER_NAME]) {
        sw_addr a;
        if (sw_addr_parse(v[EK_SERVER_NAME], &a) != SW_OK && !domain_name(v[EK_SERVER_NAME]))
            return fail(p, p->line, "export: server-name '%.*s' is neither a host name nor an IP",
                        CFG_SHOW, v[EK_SERVER_NAME]);
        if ((x->server_name = dup_str(p, v[EK_SERVER_NAME])) == NULL)
            return SW_ENOMEM;
    }
    x->format = SW_EXPORT_RFC5424;
    if (v[EK_FORMAT]) {
        sw_export_format f;
        if (sw_export_format_lookup(v[EK_FORMAT], &f) != SW_OK)
            return fail(p, p->line, "export: format '%.*s' is not rfc5424, cef or ecs", CFG_SHOW,
                        v[EK_FORMAT]);
        x->format = (int)f;
    }
    uint32_t n;
    x->facility = 16;
    if (v[EK_FACILITY]) {
        if ((rc = number(p, "export facility", v[EK_FACILITY], 0, 23, 0, &n)) != SW_OK)
            return rc;
        x->facility = n;
    }
    x->window = 1024; /* events/s x a busy collector's lag: docs/export.md */
    if (v[EK_WINDOW]) {
        if ((rc = number(p, "export window", v[EK_WINDOW], 1, 100000, 0, &n)) != SW_OK)
            return rc;
        x->window = n;
    }
    x->batch = 256;
    if (v[EK_BATCH]) {
        if ((rc = number(p, "export batch", v[EK_BATCH], 1, 4096, 0, &n)) != SW_OK)
            return rc;
        x->batch = n;
    }
    x->dtls_rekey_s = 10;
    if (v[EK_DTLS_REKEY]) {
        if (x->transport != SW_EXPORT_DTLS)
            return fail(p, p->line, "export: dtls-rekey= is for dtls only");
        if ((rc = number(p, "export dtls-rekey", v[EK_DTLS_REKEY], 1, 86400, 0, &n)) != SW_OK)
            return rc;
        x->dtls_rekey_s = n;
    }
    x->dtls_rate = 5000;
    if (v[EK_DTLS_RATE]) {
        if (x->transport != SW_EXPORT_DTLS)
            return fail(p, p->line, "export: dtls-rate= is for dtls only");
        if ((rc = number(p, "export dtls-rate", v[EK_DTLS_RATE], 1, 1000000, 0, &n)) != SW_OK)
            return rc;
        x->dtls_rate = n;
    }
    if (v[EK_HOSTNAME]) {
        /* RFC 5424 HOSTNAME: 1..255 PRINTUSASCII (the config has no blanks in a word
         * unless quoted, and no control characters at all) */
        size_t hl = strlen(v[EK_HOSTNAME]);
        int okname = hl <= 255;
        for (size_t i = 0; okname && i < hl; i++)
            okname = (unsigned char)v[EK_HOSTNAME][i] > 32 && (unsigned char)v[EK_HOSTNAME][i] < 127;
        if (!okname)
            return fail(p, p->line, "export: hostname= must be 1..255 printable ASCII characters, "
                                    "no blanks");
        if ((x->hostname = dup_str(p, v[EK_HOSTNAME])) == NULL)
            return SW_ENOMEM;
    }
    if ((rc = check_readable(p, p->line, "export ca", x->ca)) != SW_OK ||
        (rc = check_readable(p, p->line, "export cert", x->cert)) != SW_OK ||
        (rc = check_readable(p, p->line, "export key", x->key)) != SW_OK)
        return rc;
    return SW_OK;
}

/* metrics listen ADDR:PORT [allow-remote=yes|no]: the plain-HTTP
 * /metrics and /health listener (docs/metrics.md).  Loopback only unless
 * allow-remote=yes: the text tells an onlooker the traffic and the
 * partners, and the listener has no authentication. */
static int d_metrics(cfg_parser *p)
{
    int rc = nargs(p, 2, 4, "metrics listen ADDR:PORT [allow-remote=yes|no] [insecure=yes]");
    if (rc)
        return rc;
    if (strcmp(p->words.w[1], "listen") != 0)
        return fail(p, p->line, "usage: metrics listen ADDR:PORT [allow-remote=yes|no] [insecure=yes]");
    static const char *const keys[] = {"allow-remote", "insecure"};
    const char *v[2];
    if ((rc = options(p, "metrics", 3, keys, 2, v)) != SW_OK)
        return rc;
    swd_config *c = p->c;
    if ((rc = parse_hostport(p, "metrics listen", p->words.w[2], &c->metrics_addr)) != SW_OK)
        return rc;
    if (v[0] && strcmp(v[0], "yes") != 0 && strcmp(v[0], "no") != 0)
        return fail(p, p->line, "metrics: allow-remote='%.*s' is not yes or no", CFG_SHOW, v[0]);
    c->metrics_allow_remote = v[0] && strcmp(v[0], "yes") == 0;
    int loopback = c->metrics_addr.family == 4
                       ? c->metrics_addr.ip[0] == 127
                       : memcmp(c->metrics_addr.ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
    if (!loopback && !c->metrics_allow_remote)
        return fail(p, p->line, "metrics listen: %.*s is not a loopback address; the listener has "
                                "no authentication: add allow-remote=yes to expose it anyway",
                    CFG_SHOW, p->words.w[2]);
    if ((rc = plain_listener(p, "metrics listen", &c->metrics_addr, v[1], &c->metrics_insecure)) != SW_OK)
        return rc;
    c->has_metrics = 1;
    c->metrics_line = p->line;
    return SW_OK;
}

/* ---- state redis (docs/cluster.md) ------------------------------------------------ */

static const char *const state_keys[] = {"user", "password-file", "prefix", "node", "ca",
                                         "cert", "key", "server-name", "queue", "insecure"};
enum { SK_USER, SK_PASSWORD_FILE, SK_PREFIX, SK_NODE, SK_CA, SK_CERT, SK_KEY, SK_SERVER_NAME,
       SK_QUEUE, SK_INSECURE, SK__COUNT };

/* 1..max printable bytes, no space */
static int word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 127)
            return 0;
    return 1;
}

static int d_state(cfg_parser *p)
{
    swd_state_redis *r = &p->c->state_redis;
    if (p->words.n < 3 || strcmp(p->words.w[1], "redis") != 0)
        return fail(p, p->line,
                    "usage: state redis IP:PORT [user=NAME password-file=FILE] [prefix=sipwall:] "
                    "[node=NAME] [ca=FILE [cert=FILE key=FILE] [server-name=NAME]] [queue=N]");
    int rc = parse_hostport(p, "state redis", p->words.w[2], &r->addr);
    if (rc)
        return rc;
    const char *v[SK__COUNT];
    if ((rc = options(p, "state redis", 3, state_keys, SK__COUNT, v)) != SW_OK)
        return rc;
    if (v[SK_USER] && !word_ok(v[SK_USER], 128))
        return fail(p, p->line, "state redis: user= must be 1..128 printable characters");
    if (v[SK_USER] && !v[SK_PASSWORD_FILE])
        return fail(p, p->line, "state redis: user= needs password-file=");
    if (v[SK_PREFIX] && !word_ok(v[SK_PREFIX], 64))
        return fail(p, p->line, "state redis: prefix= must be 1..64 printable characters");
    if (v[SK_NODE] && !word_ok(v[SK_NODE], 64))
        return fail(p, p->line, "state redis: node= must be 1..64 printable characters");
    if (!v[SK_CA] && (v[SK_CERT] || v[SK_KEY] || v[SK_SERVER_NAME]))
        return fail(p, p->line, "state redis: cert=, key= and server-name= need ca= (TLS)");
    if (!v[SK_CERT] != !v[SK_KEY])
        return fail(p, p->line, "state redis: cert= and key= go together");
    if (v[SK_CA] && v[SK_INSECURE])
        return fail(p, p->line, "state redis: insecure= is for plain-text Redis (without ca=)");
    /* plain text to Redis (blocks, counters, the password) only on loopback,
     * unless the operator says insecure=yes (a warning event at every start) */
    if (v[SK_INSECURE] && strcmp(v[SK_INSECURE], "yes") != 0 && strcmp(v[SK_INSECURE], "no") != 0)
        return fail(p, p->line, "state redis: insecure='%.*s' is not yes or no", CFG_SHOW, v[SK_INSECURE]);
    r->insecure = v[SK_INSECURE] && strcmp(v[SK_INSECURE], "yes") == 0;
    if (!v[SK_CA] && !r->insecure && !addr_loopback(&r->addr))
        return fail(p, p->line, "state redis: %.*s is plain text on a non-loopback address; add ca= (Redis "
                                "over TLS), or insecure=yes to accept that (it is logged as a warning event "
                                "at every start), or use a Redis on loopback", CFG_SHOW, p->words.w[2]);
    if (v[SK_QUEUE] && (rc = number(p, "state redis queue", v[SK_QUEUE], 16, 1u << 22, 0,
                                    &r->queue)) != SW_OK)
        return rc;
    r->line = p->line;
    if ((v[SK_USER] && !(r->user = dup_str(p, v[SK_USER]))) ||
        !(r->prefix = dup_str(p, v[SK_PREFIX] ? v[SK_PREFIX] : "sipwall:")) ||
        (v[SK_NODE] && !(r->node = dup_str(p, v[SK_NODE]))) ||
        (v[SK_SERVER_NAME] && !(r->server_name = dup_str(p, v[SK_SERVER_NAME]))))
        return SW_ENOMEM;
    if ((v[SK_PASSWORD_FILE] &&
         !(r->password_file = dup_path(p, "state redis password-file", v[SK_PASSWORD_FILE]))) ||
        (v[SK_CA] && !(r->ca = dup_path(p, "state redis ca", v[SK_CA]))) ||
        (v[SK_CERT] && !(r->cert = dup_path(p, "state redis cert", v[SK_CERT]))) ||
        (v[SK_KEY] && !(r->key = dup_path(p, "state redis key", v[SK_KEY]))))
        return SW_EINVAL;
    if (r->password_file) {
        if ((rc = check_readable(p, p->line, "state redis password-file", r->password_file)) != SW_OK)
            return rc;
        struct stat st;
        if (stat(r->password_file, &st) == 0 && (st.st_mode & 077))
            return fail(p, p->line, "state redis password-file %.*s: readable by others (mode %03o; chmod 600)",
                        256, r->password_file, (unsigned)(st.st_mode & 0777));
    }
    if ((r->ca && (rc = check_readable(p, p->line, "state redis ca", r->ca)) != SW_OK) ||
        (r->cert && (rc = check_readable(p, p->line, "state redis cert", r->cert)) != SW_OK) ||
        (r->key && (rc = check_readable(p, p->line, "state redis key", r->key)) != SW_OK))
        return rc;
    return SW_OK;
}

/* admin-api listen ADDR:PORT cert FILE key FILE [client-ca FILE]
 *           [credential FILE] [max-conns N] [timeout SECONDS] [allow-remote]
 * The HTTPS admin API (docs/admin-api.md): off unless configured, a
 * loopback address unless allow-remote is given. */
static int d_admin_api(cfg_parser *p)
{
    swd_admin_api *a = &p->c->api;
    static const char usage[] = "usage: admin-api listen ADDR:PORT cert FILE key FILE [client-ca FILE] "
                                "[credential FILE] [max-conns N] [timeout SECONDS] [allow-remote]";
    if (p->words.n < 3 || strcmp(p->words.w[1], "listen") != 0)
        return fail(p, p->line, "%s", usage);
    int rc = parse_hostport(p, "admin-api listen", p->words.w[2], &a->addr);
    if (rc)
        return rc;
    a->line = p->line;
    a->max_conns = 64;
    a->timeout_s = 10;
    int remote = 0;
    for (unsigned i = 3; i < p->words.n; i++) {
        const char *k = p->words.w[i];
        if (strcmp(k, "allow-remote") == 0) {
            remote = 1;
            continue;
        }
        if (i + 1 >= p->words.n)
            return fail(p, p->line, "admin-api: '%.*s' needs a value; %s", CFG_SHOW, k, usage);
        const char *v = p->words.w[++i];
        char **slot = NULL;
        if (strcmp(k, "cert") == 0)
            slot = &a->cert;
        else if (strcmp(k, "key") == 0)
            slot = &a->key;
        else if (strcmp(k, "client-ca") == 0)
            slot = &a->client_ca;
        else if (strcmp(k, "credential") == 0)
            slot = &a->credential;
        if (slot) {
            if (*slot)
                return fail(p, p->line, "admin-api: %s given twice", k);
            if (!(*slot = dup_path(p, "admin-api", v)))
                return SW_EINVAL;
        } else if (strcmp(k, "max-conns") == 0) {
            if ((rc = number(p, "admin-api max-conns", v, 1, 1024, 0, &a->max_conns)) != SW_OK)
                return rc;
        } else if (strcmp(k, "timeout") == 0) {
            if ((rc = number(p, "admin-api timeout", v, 1, 300, 0, &a->timeout_s)) != SW_OK)
                return rc;
        } else {
            return fail(p, p->line, "admin-api: unknown option '%.*s'; %s", CFG_SHOW, k, usage);
        }
    }
    if (!a->cert || !a->key)
        return fail(p, p->line, "admin-api: cert and key are required (HTTPS only)");
    int loopback = (a->addr.family == 4 && a->addr.ip[0] == 127) ||
                   (a->addr.family == 6 && memcmp(a->addr.ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);
    if (!loopback && !remote)
        return fail(p, p->line, "admin-api: %.*s is not a loopback address; add allow-remote to serve "
                                "the admin API beyond this host (and consider client-ca)",
                    CFG_SHOW, p->words.w[2]);
    if (!a->credential) {
        /* next to the secret by default: the daemon's state directory */
        const char *sec = p->c->secret_path;
        if (!sec)
            return fail(p, p->line, "admin-api: give credential FILE (or a secret line before this one: "
                                    "the credential then goes next to it)");
        const char *slash = strrchr(sec, '/');
        size_t dl = slash ? (size_t)(slash - sec + 1) : 0;
        char path[CFG_PATH_MAX];
        if (dl + sizeof "admin-api.hash" > sizeof path)
            return fail(p, p->line, "admin-api: credential path too long");
        memcpy(path, sec, dl);
        memcpy(path + dl, "admin-api.hash", sizeof "admin-api.hash");
        if (!(a->credential = dup_str(p, path)))
            return SW_ENOMEM;
    }
    a->on = 1;
    return SW_OK;
}

/* intel trust FILE [keys DIR] [max-indicators N] [block-score N]
 *       [alert-score N] [tick SECONDS] */
static int d_intel(cfg_parser *p)
{
    swd_intel_cfg *in = &p->c->intel;
    static const char usage[] = "usage: intel trust FILE [keys DIR] [max-indicators N] [block-score N] "
                                "[alert-score N] [tick SECONDS]";
    in->line = p->line;
    in->tick_s = 1;
    int rc;
    for (unsigned i = 1; i < p->words.n; i += 2) {
        const char *k = p->words.w[i];
        if (i + 1 >= p->words.n)
            return fail(p, p->line, "intel: '%.*s' needs a value; %s", CFG_SHOW, k, usage);
        const char *v = p->words.w[i + 1];
        char **slot = strcmp(k, "trust") == 0 ? &in->trust : strcmp(k, "keys") == 0 ? &in->keys : NULL;
        if (slot) {
            if (*slot)
                return fail(p, p->line, "intel: %s given twice", k);
            if (!(*slot = dup_path(p, "intel", v)))
                return SW_EINVAL;
        } else if (strcmp(k, "max-indicators") == 0) {
            if ((rc = number(p, "intel max-indicators", v, 1, 1u << 24, 0, &in->max_indicators)) != SW_OK)
                return rc;
        } else if (strcmp(k, "block-score") == 0) {
            if ((rc = number(p, "intel block-score", v, 1, 100, 0, &in->block_score)) != SW_OK)
                return rc;
        } else if (strcmp(k, "alert-score") == 0) {
            if ((rc = number(p, "intel alert-score", v, 1, 100, 0, &in->alert_score)) != SW_OK)
                return rc;
        } else if (strcmp(k, "tick") == 0) {
            if ((rc = number(p, "intel tick", v, 1, 3600, 0, &in->tick_s)) != SW_OK)
                return rc;
        } else {
            return fail(p, p->line, "intel: unknown option '%.*s'; %s", CFG_SHOW, k, usage);
        }
    }
    if (!in->trust)
        return fail(p, p->line, "intel: trust FILE is required; %s", usage);
    if ((in->block_score ? in->block_score : 70) < (in->alert_score ? in->alert_score : 30))
        return fail(p, p->line, "intel: alert-score must not exceed block-score");
    if ((rc = check_readable(p, p->line, "intel trust", in->trust)) != SW_OK)
        return rc;
    /* the trust file's own errors, with its line numbers */
    FILE *f = fopen(in->trust, "re");
    char *text = malloc(SW_INTEL_TRUST_FILE_MAX + 1);
    size_t n = f && text ? fread(text, 1, SW_INTEL_TRUST_FILE_MAX + 1, f) : 0;
    if (f)
        fclose(f);
    rc = SW_OK;
    if (!text)
        rc = fail(p, p->line, "out of memory");
    else if (n > SW_INTEL_TRUST_FILE_MAX)
        rc = fail(p, p->line, "intel trust %.*s: larger than %d bytes", 256, in->trust, SW_INTEL_TRUST_FILE_MAX);
    else {
        sw_intel_config ic = {.max_indicators = 1};
        sw_intel *probe = sw_intel_new(&ic);
        char why[300];
        if (!probe)
            rc = fail(p, p->line, "out of memory");
        else if (sw_intel_trust_load(probe, in->trust, text, n, why, sizeof why) != SW_OK)
            rc = fail(p, p->line, "intel: %s", why);
        sw_intel_free(probe);
    }
    free(text);
    return rc;
}

/* intel-pull URL collection ID org ORG [every SECONDS] [user U password-file F
 *   | token-file F] [ca FILE] [cert FILE key FILE] [timeout SECONDS]
 *   [max-page BYTES] [limit N] [cursor FILE] [allow-http] */
static int d_intel_pull(cfg_parser *p)
{
    static const char usage[] = "usage: intel-pull URL collection ID org ORG [every SECONDS] "
                                "[user U password-file F | token-file F] [ca FILE] [cert FILE key FILE] "
                                "[timeout SECONDS] [max-page BYTES] [limit N] [cursor FILE] [allow-http]";
    swd_config *c = p->c;
    if (c->npulls == SWD_MAX_PULLS)
        return fail(p, p->line, "intel-pull: more than %d collections", SWD_MAX_PULLS);
    if (p->words.n < 2)
        return fail(p, p->line, "intel-pull: the API root URL is required; %s", usage);
    swd_pull_cfg *q = &c->pulls[c->npulls++];
    memset(q, 0, sizeof *q);
    q->line = p->line;
    q->every_s = 60;
    q->timeout_s = 30;
    q->max_page = 16u << 20;
    q->limit = 500;
    const char *url = p->words.w[1];
    size_t ul = strlen(url);
    int https = strncmp(url, "https://", 8) == 0, http = strncmp(url, "http://", 7) == 0;
    if ((!https && !http) || ul < 10 || ul > 1024 || url[ul - 1] != '/')
        return fail(p, p->line, "intel-pull: '%.*s' is not an http(s) URL of an API root ending in '/'", CFG_SHOW,
                    url);
    for (size_t i = 0; i < ul; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return fail(p, p->line, "intel-pull: the URL holds a blank or a byte outside printable ASCII");
    if (!(q->url = dup_str(p, url)))
        return SW_ENOMEM;
    int rc;
    for (unsigned i = 2; i < p->words.n; i++) {
        const char *k = p->words.w[i];
        if (strcmp(k, "allow-http") == 0) {
            q->allow_http = 1;
            continue;
        }
        if (i + 1 >= p->words.n)
            return fail(p, p->line, "intel-pull: '%.*s' needs a value; %s", CFG_SHOW, k, usage);
        const char *v = p->words.w[++i];
        char **path = strcmp(k, "password-file") == 0 ? &q->password_file
                      : strcmp(k, "token-file") == 0  ? &q->token_file
                      : strcmp(k, "ca") == 0          ? &q->ca
                      : strcmp(k, "cert") == 0        ? &q->cert
                      : strcmp(k, "key") == 0         ? &q->key
                      : strcmp(k, "cursor") == 0      ? &q->cursor
                                                      : NULL;
        if (path) {
            if (*path)
                return fail(p, p->line, "intel-pull: %s given twice", k);
            if (!(*path = dup_path(p, "intel-pull", v)))
                return SW_EINVAL;
            if (path != &q->cursor && (rc = check_readable(p, p->line, "intel-pull", *path)) != SW_OK)
                return rc;
        } else if (strcmp(k, "collection") == 0) {
            size_t n = strlen(v);
            if (q->collection)
                return fail(p, p->line, "intel-pull: collection given twice");
            if (n == 0 || n > 64 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
                return fail(p, p->line, "intel-pull: collection '%.*s' is not 1..64 of [A-Za-z0-9._-]", CFG_SHOW, v);
            if (!(q->collection = dup_str(p, v)))
                return SW_ENOMEM;
        } else if (strcmp(k, "org") == 0) {
            size_t n = strlen(v);
            if (n == 0 || n >= sizeof q->org ||
                strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
                return fail(p, p->line, "intel-pull: org '%.*s' is not 1..16 of [A-Za-z0-9_-]", CFG_SHOW, v);
            memcpy(q->org, v, n + 1);
        } else if (strcmp(k, "user") == 0) {
            if (q->user)
                return fail(p, p->line, "intel-pull: user given twice");
            if (!*v || strchr(v, ':'))
                return fail(p, p->line, "intel-pull: user must be non-empty and hold no ':'");
            if (!(q->user = dup_str(p, v)))
                return SW_ENOMEM;
        } else if (strcmp(k, "every") == 0) {
            if ((rc = number(p, "intel-pull every", v, 1, 86400, 0, &q->every_s)) != SW_OK)
                return rc;
        } else if (strcmp(k, "timeout") == 0) {
            if ((rc = number(p, "intel-pull timeout", v, 1, 300, 0, &q->timeout_s)) != SW_OK)
                return rc;
        } else if (strcmp(k, "max-page") == 0) {
            if ((rc = number(p, "intel-pull max-page", v, 4096, 16u << 20, 1, &q->max_page)) != SW_OK)
                return rc;
        } else if (strcmp(k, "limit") == 0) {
            if ((rc = number(p, "intel-pull limit", v, 1, 10000, 0, &q->limit)) != SW_OK)
                return rc;
        } else {
            return fail(p, p->line, "intel-pull: unknown option '%.*s'; %s", CFG_SHOW, k, usage);
        }
    }
    if (!q->collection || !q->org[0])
        return fail(p, p->line, "intel-pull: collection ID and org ORG are required; %s", usage);
    if (http && !q->allow_http)
        return fail(p, p->line, "intel-pull: %.*s is plain HTTP: use https:// (or add allow-http, for a lab)",
                    CFG_SHOW, url);
    if (!!q->user != !!q->password_file)
        return fail(p, p->line, "intel-pull: user and password-file go together");
    if (q->user && q->token_file)
        return fail(p, p->line, "intel-pull: user/password-file or token-file, not both");
    if (!!q->cert != !!q->key)
        return fail(p, p->line, "intel-pull: cert and key go together");
    for (unsigned i = 0; i + 1 < c->npulls; i++)
        if (strcmp(c->pulls[i].url, q->url) == 0 && strcmp(c->pulls[i].collection, q->collection) == 0)
            return fail(p, p->line, "intel-pull: collection %.*s of %.*s is pulled already (line %d)", CFG_SHOW,
                        q->collection, CFG_SHOW, q->url, c->pulls[i].line);
    return SW_OK;
}

/* intel-apiban URL key-file FILE [every SECONDS] [confidence N] [ca FILE]
 *   [timeout SECONDS] [allow-http] */
static int d_intel_apiban(cfg_parser *p)
{
    static const char usage[] = "usage: intel-apiban URL key-file FILE [every SECONDS] [confidence N] [ca FILE] "
                                "[timeout SECONDS] [allow-http]";
    swd_config *c = p->c;
    if (c->npulls == SWD_MAX_PULLS)
        return fail(p, p->line, "intel-apiban: more than %d feeds (intel-pull and intel-apiban)", SWD_MAX_PULLS);
    if (p->words.n < 2)
        return fail(p, p->line, "intel-apiban: the API URL is required; %s", usage);
    swd_pull_cfg *q = &c->pulls[c->npulls++];
    memset(q, 0, sizeof *q);
    q->line = p->line;
    q->apiban = 1;
    q->every_s = 600;
    q->timeout_s = 30;
    q->max_page = SW_APIBAN_MAX_BYTES;
    q->confidence = 90;
    memcpy(q->org, SW_APIBAN_ORG, sizeof SW_APIBAN_ORG);
    const char *url = p->words.w[1];
    size_t ul = strlen(url);
    int https = strncmp(url, "https://", 8) == 0, http = strncmp(url, "http://", 7) == 0;
    if ((!https && !http) || ul < 10 || ul > 1024 || url[ul - 1] != '/')
        return fail(p, p->line, "intel-apiban: '%.*s' is not an http(s) URL ending in '/' (https://apiban.org/api/)",
                    CFG_SHOW, url);
    for (size_t i = 0; i < ul; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f || url[i] == '?' || url[i] == '#')
            return fail(p, p->line, "intel-apiban: the URL holds a blank, '?', '#' or a byte outside printable ASCII");
    if (!(q->url = dup_str(p, url)) || !(q->collection = dup_str(p, "banned")))
        return SW_ENOMEM;
    int rc;
    uint32_t conf = 90;
    for (unsigned i = 2; i < p->words.n; i++) {
        const char *k = p->words.w[i];
        if (strcmp(k, "allow-http") == 0) {
            q->allow_http = 1;
            continue;
        }
        if (i + 1 >= p->words.n)
            return fail(p, p->line, "intel-apiban: '%.*s' needs a value; %s", CFG_SHOW, k, usage);
        const char *v = p->words.w[++i];
        char **path = strcmp(k, "key-file") == 0 ? &q->key_file : strcmp(k, "ca") == 0 ? &q->ca : NULL;
        if (path) {
            if (*path)
                return fail(p, p->line, "intel-apiban: %s given twice", k);
            if (!(*path = dup_path(p, "intel-apiban", v)))
                return SW_EINVAL;
            if ((rc = check_readable(p, p->line, "intel-apiban", *path)) != SW_OK)
                return rc;
        } else if (strcmp(k, "every") == 0) {
            if ((rc = number(p, "intel-apiban every", v, 1, 86400, 0, &q->every_s)) != SW_OK)
                return rc;
        } else if (strcmp(k, "timeout") == 0) {
            if ((rc = number(p, "intel-apiban timeout", v, 1, 300, 0, &q->timeout_s)) != SW_OK)
                return rc;
        } else if (strcmp(k, "confidence") == 0) {
            if ((rc = number(p, "intel-apiban confidence", v, 0, 100, 0, &conf)) != SW_OK)
                return rc;
        } else {
            return fail(p, p->line, "intel-apiban: unknown option '%.*s'; %s", CFG_SHOW, k, usage);
        }
    }
    q->confidence = (uint8_t)conf;
    if (!q->key_file)
        return fail(p, p->line, "intel-apiban: key-file FILE is required (the API key; no default); %s", usage);
    struct stat st;
    if (stat(q->key_file, &st) == 0 && (st.st_mode & 077))
        return fail(p, p->line, "intel-apiban key-file %.*s: readable by others (mode %03o; chmod 600)", 256,
                    q->key_file, (unsigned)(st.st_mode & 0777));
    if (http && !q->allow_http)
        return fail(p, p->line, "intel-apiban: %.*s is plain HTTP: use https:// (or add allow-http, for a lab)",
                    CFG_SHOW, url);
    for (unsigned i = 0; i + 1 < c->npulls; i++)
        if (c->pulls[i].apiban && strcmp(c->pulls[i].url, q->url) == 0)
            return fail(p, p->line, "intel-apiban: %.*s is pulled already (line %d)", CFG_SHOW, q->url,
                        c->pulls[i].line);
    return SW_OK;
}

/* intel-push-peer CERT-NAME org ORG */
static int d_intel_push_peer(cfg_parser *p)
{
    static const char usage[] = "usage: intel-push-peer CERT-NAME org ORG";
    swd_config *c = p->c;
    if (p->words.n != 4 || strcmp(p->words.w[2], "org") != 0)
        return fail(p, p->line, "intel-push-peer: %s", usage);
    if (c->npush_peers == SWD_MAX_PUSH_PEERS)
        return fail(p, p->line, "intel-push-peer: more than %d partners", SWD_MAX_PUSH_PEERS);
    const char *cn = p->words.w[1], *org = p->words.w[3];
    size_t cl = strlen(cn), ol = strlen(org);
    swd_push_peer *q = &c->push_peers[c->npush_peers];
    if (cl == 0 || cl >= sizeof q->cn)
        return fail(p, p->line, "intel-push-peer: the certificate name is 1..%zu bytes", sizeof q->cn - 1);
    for (size_t i = 0; i < cl; i++)
        if ((unsigned char)cn[i] < 0x20 || (unsigned char)cn[i] == 0x7f)
            return fail(p, p->line, "intel-push-peer: a control byte in the certificate name");
    if (ol == 0 || ol >= sizeof q->org ||
        strspn(org, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != ol)
        return fail(p, p->line, "intel-push-peer: org '%.*s' is not 1..16 of [A-Za-z0-9_-]", CFG_SHOW, org);
    for (unsigned i = 0; i < c->npush_peers; i++)
        if (strcmp(c->push_peers[i].cn, cn) == 0)
            return fail(p, p->line, "intel-push-peer: %.*s is bound already (line %d)", CFG_SHOW, cn,
                        c->push_peers[i].line);
    q->line = p->line;
    memcpy(q->cn, cn, cl + 1);
    memcpy(q->org, org, ol + 1);
    c->npush_peers++;
    return SW_OK;
}

/* intel-push URL [ca FILE] [cert FILE key FILE] [token-file FILE] [queue N]
 *   [timeout SECONDS] [allow-http] */
static int d_intel_push(cfg_parser *p)
{
    static const char usage[] = "usage: intel-push URL [ca FILE] [cert FILE key FILE] [token-file FILE | "
                                "user U password-file F] [queue N] [timeout SECONDS] [taxii] [allow-http]";
    swd_config *c = p->c;
    if (c->npushes == SWD_MAX_PUSHES)
        return fail(p, p->line, "intel-push: more than %d receivers", SWD_MAX_PUSHES);
    if (p->words.n < 2)
        return fail(p, p->line, "intel-push: the receiver's URL is required; %s", usage);
    swd_push_cfg *q = &c->pushes[c->npushes++];
    memset(q, 0, sizeof *q);
    q->line = p->line;
    q->queue = 10000;
    q->timeout_s = 10;
    const char *url = p->words.w[1];
    size_t ul = strlen(url);
    int https = strncmp(url, "https://", 8) == 0, http = strncmp(url, "http://", 7) == 0;
    if ((!https && !http) || ul < 10 || ul > 1024)
        return fail(p, p->line, "intel-push: '%.*s' is not an http(s) URL", CFG_SHOW, url);
    for (size_t i = 0; i < ul; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return fail(p, p->line, "intel-push: the URL holds a blank or a byte outside printable ASCII");
    if (!(q->url = dup_str(p, url)))
        return SW_ENOMEM;
    int rc;
    for (unsigned i = 2; i < p->words.n; i++) {
        const char *k = p->words.w[i];
        if (strcmp(k, "allow-http") == 0) {
            q->allow_http = 1;
            continue;
        }
        if (strcmp(k, "taxii") == 0) {
            q->taxii = 1;
            continue;
        }
        if (i + 1 >= p->words.n)
            return fail(p, p->line, "intel-push: '%.*s' needs a value; %s", CFG_SHOW, k, usage);
        const char *v = p->words.w[++i];
        if (strcmp(k, "user") == 0) {
            if (q->user)
                return fail(p, p->line, "intel-push: user given twice");
            if (!*v || strchr(v, ':'))
                return fail(p, p->line, "intel-push: user must be non-empty and hold no ':'");
            if (!(q->user = dup_str(p, v)))
                return SW_ENOMEM;
            continue;
        }
        char **path = strcmp(k, "token-file") == 0 ? &q->token_file
                      : strcmp(k, "password-file") == 0 ? &q->password_file
                      : strcmp(k, "ca") == 0       ? &q->ca
                      : strcmp(k, "cert") == 0     ? &q->cert
                      : strcmp(k, "key") == 0      ? &q->key
                                                   : NULL;
        if (path) {
            if (*path)
                return fail(p, p->line, "intel-push: %s given twice", k);
            if (!(*path = dup_path(p, "intel-push", v)))
                return SW_EINVAL;
            if ((rc = check_readable(p, p->line, "intel-push", *path)) != SW_OK)
                return rc;
        } else if (strcmp(k, "queue") == 0) {
            if ((rc = number(p, "intel-push queue", v, 1, 1000000, 0, &q->queue)) != SW_OK)
                return rc;
        } else if (strcmp(k, "timeout") == 0) {
            if ((rc = number(p, "intel-push timeout", v, 1, 300, 0, &q->timeout_s)) != SW_OK)
                return rc;
        } else {
            return fail(p, p->line, "intel-push: unknown option '%.*s'; %s", CFG_SHOW, k, usage);
        }
    }
    if (http && !q->allow_http)
        return fail(p, p->line, "intel-push: %.*s is plain HTTP: use https:// (or add allow-http, for a lab)",
                    CFG_SHOW, url);
    if (!!q->cert != !!q->key)
        return fail(p, p->line, "intel-push: cert and key go together");
    if (!!q->user != !!q->password_file)
        return fail(p, p->line, "intel-push: user and password-file go together");
    if (q->user && q->token_file)
        return fail(p, p->line, "intel-push: user/password-file or token-file, not both");
    return SW_OK;
}

/* intel-pull feeds the intel consumer: it needs an intel line with keys,
 * and a place for its cursor. */
static int validate_pulls(cfg_parser *p)
{
    swd_config *c = p->c;
    for (unsigned i = 0; i < c->npulls; i++) {
        swd_pull_cfg *q = &c->pulls[i];
        if (q->apiban) { /* unsigned: no keys; nothing kept between starts: no cursor */
            if (!c->intel.line)
                return fail(p, q->line, "intel-apiban needs an intel line (trust FILE, with `partner apiban trust N`)");
            continue;
        }
        if (!c->intel.line)
            return fail(p, q->line, "intel-pull needs an intel line (trust FILE keys DIR)");
        if (!c->intel.keys)
            return fail(p, q->line, "intel-pull needs 'keys DIR' on the intel line: nothing would verify");
        if (!q->cursor) {
            const char *sec = c->secret_path;
            if (!sec)
                return fail(p, q->line, "intel-pull: give cursor FILE (or a secret line: the cursor goes next to it)");
            const char *slash = strrchr(sec, '/');
            size_t dl = slash ? (size_t)(slash - sec + 1) : 0;
            char path[CFG_PATH_MAX];
            int n = snprintf(path, sizeof path, "%.*sintel-pull-%s-%s.cursor", (int)dl, sec, q->org, q->collection);
            if (n < 0 || (size_t)n >= sizeof path)
                return fail(p, q->line, "intel-pull: cursor path too long");
            if (!(q->cursor = dup_str(p, path)))
                return SW_ENOMEM;
        }
        for (unsigned j = 0; j < i; j++)
            if (c->pulls[j].cursor && strcmp(c->pulls[j].cursor, q->cursor) == 0)
                return fail(p, q->line, "intel-pull: the cursor file of line %d again", c->pulls[j].line);
    }
    for (unsigned i = 0; i < c->npush_peers; i++) {
        if (!c->intel.line || !c->intel.keys)
            return fail(p, c->push_peers[i].line, "intel-push-peer needs an intel line with keys DIR");
        if (!c->api.on || !c->api.client_ca)
            return fail(p, c->push_peers[i].line,
                        "intel-push-peer needs admin-api with client-ca (partners push with certificates)");
    }
    return SW_OK;
}

/* bundle FILE [state=PATH] (docs/bundles.md) */
static int d_bundle(cfg_parser *p)
{
    static const char usage[] = "bundle FILE [state=PATH]";
    int rc = nargs(p, 1, 2, usage);
    if (rc)
        return rc;
    static const char *const keys[] = {"state"};
    const char *vals[1] = {NULL};
    if ((rc = options(p, "bundle", 2, keys, 1, vals)) != SW_OK)
        return rc;
    if (!(p->c->bundle = dup_path(p, "bundle", p->words.w[1])))
        return SW_EINVAL;
    if (vals[0] && !(p->c->bundle_state = dup_path(p, "bundle state", vals[0])))
        return SW_EINVAL;
    return SW_OK;
}

/* trust-key FILE [retiring] (docs/bundles.md) */
static int d_trust_key(cfg_parser *p)
{
    int rc = nargs(p, 1, 2, "trust-key FILE [retiring]");
    if (rc)
        return rc;
    swd_config *c = p->c;
    if (c->ntrust_keys == SWD_MAX_TRUST_KEYS)
        return fail(p, p->line, "trust-key: more than %d keys", SWD_MAX_TRUST_KEYS);
    if (p->words.n == 3 && strcmp(p->words.w[2], "retiring") != 0)
        return fail(p, p->line, "trust-key: '%.*s' is not 'retiring'", CFG_SHOW, p->words.w[2]);
    char *path = dup_path(p, "trust-key", p->words.w[1]);
    if (!path)
        return SW_EINVAL;
    for (unsigned i = 0; i < c->ntrust_keys; i++)
        if (strcmp(c->trust_keys[i], path) == 0) {
            free(path);
            return fail(p, p->line, "trust-key: %.*s given twice", 256, p->words.w[1]);
        }
    c->trust_retiring[c->ntrust_keys] = p->words.n == 3;
    c->trust_keys[c->ntrust_keys++] = path;
    return SW_OK;
}

/* With a bundle, the policy and the location feed come only from it. */
static int validate_bundle(cfg_parser *p)
{
    swd_config *c = p->c;
    if (!c->bundle) {
        if (p->first[D_TRUST_KEY])
            return fail(p, p->first[D_TRUST_KEY],
                        "trust-key needs 'bundle FILE': with trust keys, policy loads only from a "
                        "signed bundle");
        return SW_OK;
    }
    if (c->ntrust_keys == 0)
        return fail(p, p->first[D_BUNDLE], "bundle needs at least one 'trust-key FILE'");
    if (p->first[D_POLICY])
        return fail(p, p->first[D_POLICY],
                    "policy: not with 'bundle' (the policy comes only from the signed bundle)");
    if (p->first[D_LOCATION_FEED])
        return fail(p, p->first[D_LOCATION_FEED],
                    "location-feed: not with 'bundle' (the feed comes only from the signed bundle)");
    unsigned nretiring = 0;
    for (unsigned i = 0; i < c->ntrust_keys; i++)
        nretiring += c->trust_retiring[i];
    if (nretiring == c->ntrust_keys)
        return fail(p, p->first[D_TRUST_KEY], "trust-key: every key is retiring; add the new one");
    if (!c->bundle_state) {
        /* next to the secret by default: the daemon's state directory */
        const char *sec = c->secret_path;
        if (!sec)
            return fail(p, p->first[D_BUNDLE],
                        "bundle: give state=PATH (or a secret line: the mark then goes next to it)");
        const char *slash = strrchr(sec, '/');
        size_t dl = slash ? (size_t)(slash - sec + 1) : 0;
        char path[CFG_PATH_MAX];
        if (dl + sizeof "bundle.mark" > sizeof path)
            return fail(p, p->first[D_BUNDLE], "bundle: state path too long");
        memcpy(path, sec, dl);
        memcpy(path + dl, "bundle.mark", sizeof "bundle.mark");
        if (!(c->bundle_state = dup_str(p, path)))
            return SW_ENOMEM;
    }
    int rc;
    for (unsigned i = 0; i < c->ntrust_keys; i++)
        if ((rc = check_readable(p, p->first[D_TRUST_KEY], "trust-key", c->trust_keys[i])) != SW_OK)
            return rc;
    return SW_OK;
}


/* taxii store PATH | taxii api-root|collection|user ... (docs/exchange-taxii.md) */
static int d_taxii(cfg_parser *p)
{
    swd_config *c = p->c;
    if (!c->taxii) {
        if (!(c->taxii = malloc(sizeof *c->taxii)))
            return fail(p, p->line, "out of memory");
        sw_taxii_conf_init(c->taxii);
        c->taxii_line = p->line;
    }
    if (p->words.n >= 2 && strcmp(p->words.w[1], "store") == 0) {
        if (p->words.n != 3)
            return fail(p, p->line, "usage: taxii store PATH");
        if (c->taxii_store)
            return fail(p, p->line, "taxii store given twice");
        if (!(c->taxii_store = dup_path(p, "taxii store", p->words.w[2])))
            return SW_EINVAL;
        return SW_OK;
    }
    char why[400];
    size_t before = c->taxii->nusers;
    if (sw_taxii_conf_line(c->taxii, (const char *const *)&p->words.w[1], p->words.n - 1, p->basedir, why,
                           sizeof why) != SW_OK)
        return fail(p, p->line, "%s", why);
    if (c->taxii->nusers > before)
        c->taxii->user_line[before] = p->line;
    return SW_OK;
}

/* publish export-policy FILE sign-key FILE kid KID [group NAME] [refresh SECONDS] */
static int d_publish(cfg_parser *p)
{
    swd_publish_cfg *pc = &p->c->publish;
    static const char usage[] = "usage: publish export-policy FILE sign-key FILE kid KID [group NAME] "
                                "[refresh SECONDS]";
    pc->line = p->line;
    pc->refresh_s = 300;
    int rc;
    for (unsigned i = 1; i < p->words.n; i += 2) {
        const char *k = p->words.w[i];
        if (i + 1 >= p->words.n)
            return fail(p, p->line, "publish: '%.*s' needs a value; %s", CFG_SHOW, k, usage);
        const char *v = p->words.w[i + 1];
        char **slot = strcmp(k, "export-policy") == 0 ? &pc->policy
                      : strcmp(k, "sign-key") == 0   ? &pc->key
                      : strcmp(k, "kid") == 0        ? &pc->kid
                      : strcmp(k, "group") == 0      ? &pc->group
                                                     : NULL;
        if (slot) {
            if (*slot)
                return fail(p, p->line, "publish: %s given twice", k);
            int path = slot == &pc->policy || slot == &pc->key;
            if (!path && (strlen(v) == 0 || strlen(v) >= SW_FSE_NAME_MAX))
                return fail(p, p->line, "publish: %s must be 1..%d bytes", k, SW_FSE_NAME_MAX - 1);
            if (!(*slot = path ? dup_path(p, "publish", v) : dup_str(p, v)))
                return SW_EINVAL;
        } else if (strcmp(k, "refresh") == 0) {
            if ((rc = number(p, "publish refresh", v, 1, 86400, 0, &pc->refresh_s)) != SW_OK)
                return rc;
        } else {
            return fail(p, p->line, "publish: unknown option '%.*s'; %s", CFG_SHOW, k, usage);
        }
    }
    if (!pc->policy || !pc->key || !pc->kid)
        return fail(p, p->line, "publish: export-policy, sign-key and kid are required; %s", usage);
    if ((rc = check_readable(p, p->line, "publish export-policy", pc->policy)) != SW_OK ||
        (rc = check_readable(p, p->line, "publish sign-key", pc->key)) != SW_OK)
        return rc;
    char why[400];
    sw_export_policy *ep = sw_export_policy_load(pc->policy, why, sizeof why);
    if (!ep)
        return fail(p, p->line, "publish export-policy %.*s: %s", 256, pc->policy, why);
    int found = !pc->group;
    for (size_t i = 0; pc->group && sw_export_policy_group(ep, i); i++)
        found |= strcmp(sw_export_policy_group(ep, i), pc->group) == 0;
    sw_export_policy_free(ep);
    if (!found)
        return fail(p, p->line, "publish: the export policy has no trust group '%.*s'", CFG_SHOW, pc->group);
    return SW_OK;
}

/* After the last line: the TAXII server's rights resolve, and publish
 * finds what it needs. */
static int taxii_checks(cfg_parser *p)
{
    swd_config *c = p->c;
    char why[400];
    if (c->taxii) {
        int line = 0;
        if (sw_taxii_conf_finish(c->taxii, &line, why, sizeof why) != SW_OK)
            return fail(p, line ? line : c->taxii_line, "%s", why);
        if (!c->taxii_store)
            return fail(p, c->taxii_line, "taxii: taxii store PATH is required");
        if (!c->api.on)
            return fail(p, c->taxii_line, "taxii: the TAXII server runs on the admin API: add an admin-api line");
    }
    if (c->publish.line) {
        int has = 0;
        for (size_t i = 0; c->taxii && i < c->taxii->ncoll; i++)
            has |= c->taxii->coll[i].publish;
        if (!has)
            return fail(p, c->publish.line, "publish: needs a taxii collection marked 'publish'");
        if (!c->events_db)
            return fail(p, c->publish.line, "publish: reads the event store: add an events-db line");
    }
    return SW_OK;
}

static const struct directive {
    const char *name;
    int (*fn)(cfg_parser *);
    uint8_t repeatable;
} directives[D__COUNT] = {
    [D_MODE] = {"mode", d_mode, 0},
    [D_WORKERS] = {"workers", d_workers, 0},
    [D_USER] = {"user", d_user, 0},
    [D_PID_FILE] = {"pid-file", d_pid_file, 0},
    [D_POLICY] = {"policy", d_policy, 1},
    [D_LOCATION_FEED] = {"location-feed", d_location_feed, 0},
    [D_EVENTS] = {"events", d_events, 0},
    [D_LOG] = {"log", d_log, 0},
    [D_LOG_LEVEL] = {"log-level", d_log_level, 0},
    [D_ADMIN] = {"admin", d_admin, 0},
    [D_SECRET] = {"secret", d_secret, 0},
    [D_TOPOLOGY_HIDING] = {"topology-hiding", d_topology_hiding, 0},
    [D_LISTEN] = {"listen", d_listen, 1},
    [D_FORWARD] = {"forward", d_forward, 1},
    [D_ROUTE] = {"route", d_route, 1},
    [D_TLS_CLIENT] = {"tls-client", d_tls_client, 0},
    [D_LIMITS] = {"limits", d_limits, 1},
    [D_CAPTURE] = {"capture", d_capture, 1},
    [D_HEP] = {"hep", d_hep, 1},
    [D_EVENTS_DB] = {"events-db", d_events_db, 0},
    [D_EXPORT] = {"export", d_export, 1},
    [D_METRICS] = {"metrics", d_metrics, 0},
    [D_STATE] = {"state", d_state, 0},
    [D_ADMIN_API] = {"admin-api", d_admin_api, 0},
    [D_INTEL] = {"intel", d_intel, 0},
    [D_INTEL_PULL] = {"intel-pull", d_intel_pull, 1},
    [D_INTEL_APIBAN] = {"intel-apiban", d_intel_apiban, 1},
    [D_INTEL_PUSH_PEER] = {"intel-push-peer", d_intel_push_peer, 1},
    [D_INTEL_PUSH] = {"intel-push", d_intel_push, 1},
    [D_BUNDLE] = {"bundle", d_bundle, 0},
    [D_TRUST_KEY] = {"trust-key", d_trust_key, 1},
    [D_TAXII] = {"taxii", d_taxii, 1},
    [D_PUBLISH] = {"publish", d_publish, 0},
};

/* ---- lines -------------------------------------------------------------------- */

/* Splits one line (len bytes, no newline) into words.  Returns 0 and
 * words.n == 0 for a blank or comment line. */
static int split_line(cfg_parser *p, const char *s, size_t len)
{
    cfg_line *l = &p->words;
    size_t i = 0, o = 0;
    l->n = 0;
    for (;;) {
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == len || s[i] == '#')
            return SW_OK;
        if (l->n == CFG_MAX_WORDS)
            return fail(p, p->line, "more than %d words on one line", CFG_MAX_WORDS);
        l->w[l->n++] = &l->buf[o];
        int quoted = 0;
        while (i < len && (quoted || (s[i] != ' ' && s[i] != '\t'))) {
            char ch = s[i++];
            if (ch == '"') {
                quoted = !quoted;
                continue;
            }
            if (quoted && ch == '\\' && i < len && (s[i] == '"' || s[i] == '\\'))
                ch = s[i++];
            l->buf[o++] = ch; /* o <= i <= len <= SWD_CONFIG_MAX_LINE */
        }
        if (quoted)
            return fail(p, p->line, "unterminated \"quote\"");
        l->buf[o++] = '\0';
    }
}

static int do_line(cfg_parser *p, const char *s, size_t len)
{
    if (len > SWD_CONFIG_MAX_LINE)
        return fail(p, p->line, "line longer than %d bytes", SWD_CONFIG_MAX_LINE);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\0')
            return fail(p, p->line, "NUL byte in the file");
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return fail(p, p->line, "control character 0x%02x in the line", ch);
    }
    int rc = split_line(p, s, len);
    if (rc || p->words.n == 0)
        return rc;
    const char *name = p->words.w[0];
    for (int d = 0; d < D__COUNT; d++) {
        if (strcmp(directives[d].name, name) != 0)
            continue;
        if (p->first[d] && !directives[d].repeatable)
            return fail(p, p->line, "%s already given on line %d", name, p->first[d]);
        if (!p->first[d])
            p->first[d] = p->line;
        return directives[d].fn(p);
    }
    return fail(p, p->line, "unknown directive '%.*s'", CFG_SHOW, name);
}

/* ---- semantic checks ------------------------------------------------------------ */

static int stream(sw_transport t) { return t == SW_TRANSPORT_TCP || t == SW_TRANSPORT_TLS; }

/* Two sockets we would bind on the same address and port and kind. */
static int same_socket(sw_transport a, const sw_addr *aa, sw_transport b, const sw_addr *ba)
{
    return stream(a) == stream(b) && sw_addr_eq(aa, ba);
}

static int is_self_hop(const swd_listen *ls, const swd_hop *h)
{
    if (h->transport != ls->transport)
        return 0;
    return sw_addr_eq(&h->addr, &ls->addr) ||
           (ls->has_advertise && sw_addr_eq(&h->addr, &ls->advertise));
}

/* "udp:10.0.0.1:5060", for messages. */
static const char *hop_str(const swd_hop *h, char *buf, size_t len)
{
    char a[SW_ADDR_STRLEN];
    if (sw_addr_format(&h->addr, a, sizeof a) < 0)
        a[0] = '\0';
    snprintf(buf, len, "%s:%s", sw_transport_name(h->transport), a);
    return buf;
}

static int uses_tls_out(const swd_config *c, int *line, const cfg_parser *p)
{
    for (unsigned i = 0; i < c->nforward; i++)
        if (c->forward[i].transport == SW_TRANSPORT_TLS) {
            *line = p->first[D_FORWARD];
            return 1;
        }
    for (unsigned i = 0; i < c->nroutes; i++)
        for (unsigned j = 0; j < c->routes[i].nhops; j++)
            if (c->routes[i].hops[j].transport == SW_TRANSPORT_TLS) {
                *line = c->routes[i].line;
                return 1;
            }
    return 0;
}

/* Exporters read the daemon's own store unless store= names another. */
static int export_checks(cfg_parser *p)
{
    swd_config *c = p->c;
    for (unsigned i = 0; i < c->nexports; i++) {
        swd_export *x = &c->exports[i];
        if (x->store)
            continue;
        if (!c->events_db)
            return fail(p, x->line, "export %s: no store to read: add an events-db line or store=FILE",
                        x->name);
        if ((x->store = strdup(c->events_db)) == NULL)
            return fail(p, x->line, "out of memory");
    }
    return SW_OK;
}

static int validate(cfg_parser *p)
{
    swd_config *c = p->c;
    int rc, mode_line = p->first[D_MODE];
    if ((rc = validate_bundle(p)) != SW_OK)
        return rc;
    if ((rc = validate_pulls(p)) != SW_OK)
        return rc;

    if (c->mode == SWD_MODE_INLINE) {
        unsigned sides[2] = {0, 0};
        for (unsigned i = 0; i < c->nlistens; i++)
            sides[c->listens[i].side]++;
        if (sides[SW_SIDE_INTERCONNECT] == 0)
            return fail(p, mode_line,
                        "inline mode needs a listener with side=interconnect (the partners' side)");
        if (sides[SW_SIDE_CORE] == 0)
            return fail(p, mode_line,
                        "inline mode needs a listener with side=core (the operator's side)");
        if (c->nforward == 0)
            return fail(p, mode_line,
                        "inline mode needs 'forward' (where requests from the interconnect go)");
        if (c->npolicies == 0 && !c->bundle)
            return fail(p, mode_line,
                        "inline mode needs at least one 'policy' (e.g. policy builtin:default) "
                        "or a signed 'bundle'");
        if (c->secret_path == NULL)
            return fail(p, mode_line,
                        "inline mode needs 'secret FILE' (the key for branch MACs and hidden "
                        "topology; created at first start)");
    } else {
        if (c->ncaptures == 0 && c->nheps == 0)
            return fail(p, mode_line, "passive mode needs a 'capture' or 'hep' source");
        static const int inline_only[] = {D_LISTEN, D_FORWARD, D_ROUTE, D_TLS_CLIENT};
        for (size_t i = 0; i < sizeof inline_only / sizeof inline_only[0]; i++)
            if (p->first[inline_only[i]])
                return fail(p, p->first[inline_only[i]], "%s is only for mode inline",
                            directives[inline_only[i]].name);
        /* A sensor reports against the shipped default unless told otherwise, as `sipwall check`. */
        if (c->npolicies == 0 && !c->bundle) {
            c->policies = malloc(sizeof *c->policies);
            if (c->policies == NULL || (c->policies[0] = strdup("builtin:default")) == NULL)
                return fail(p, 0, "out of memory");
            c->npolicies = 1;
        }
    }

    /* Listeners: names unique, no two sockets on the same address, TLS files. */
    for (unsigned i = 0; i < c->nlistens; i++) {
        swd_listen *ls = &c->listens[i];
        for (unsigned j = 0; j < i; j++) {
            if (strcmp(c->listens[j].name, ls->name) == 0)
                return fail(p, ls->line, "listen: name %s already used on line %d", ls->name,
                            c->listens[j].line);
            if (same_socket(c->listens[j].transport, &c->listens[j].addr, ls->transport, &ls->addr)) {
                char a[SW_ADDR_STRLEN];
                if (sw_addr_format(&ls->addr, a, sizeof a) < 0)
                    a[0] = '\0';
                return fail(p, ls->line, "listen: %s %s is already a %s listener on line %d",
                            sw_transport_name(ls->transport), a,
                            sw_transport_name(c->listens[j].transport), c->listens[j].line);
            }
        }
        if (ls->transport != SW_TRANSPORT_TLS)
            continue;
        if (ls->cert == NULL || ls->key == NULL)
            return fail(p, ls->line, "listen tls: cert= and key= are required");
        if (ls->verify != SWD_VERIFY_NONE && ls->ca == NULL)
            return fail(p, ls->line,
                        "listen tls: verify=%s needs ca= (the partners' CA), or say verify=none",
                        swd_verify_name(ls->verify));
        if ((rc = check_readable(p, ls->line, "listen cert", ls->cert)) != SW_OK ||
            (rc = check_readable(p, ls->line, "listen key", ls->key)) != SW_OK ||
            (ls->ca && (rc = check_readable(p, ls->line, "listen ca", ls->ca)) != SW_OK))
            return rc;
    }
    for (unsigned i = 0; i < c->nheps; i++) {
        const swd_hep *h = &c->heps[i];
        for (unsigned j = 0; j < i; j++)
            if (same_socket(c->heps[j].transport, &c->heps[j].addr, h->transport, &h->addr))
                return fail(p, h->line, "hep: the same address as the hep on line %d",
                            c->heps[j].line);
        for (unsigned j = 0; j < c->nlistens; j++)
            if (same_socket(c->listens[j].transport, &c->listens[j].addr, h->transport, &h->addr))
                return fail(p, h->line, "hep: the same address as the listener on line %d",
                            c->listens[j].line);
    }

    /* A next hop that is one of our own listeners would send every request
     * around in a circle (until Max-Forwards runs out). */
    char hs[SW_ADDR_STRLEN + 8];
    for (unsigned i = 0; i < c->nlistens; i++) {
        const swd_listen *ls = &c->listens[i];
        for (unsigned j = 0; j < c->nforward; j++)
            if (is_self_hop(ls, &c->forward[j]))
                return fail(p, p->forward_line[j],
                            "forward: next hop %s is our listener on line %d (a loop)",
                            hop_str(&c->forward[j], hs, sizeof hs), ls->line);
        for (unsigned r = 0; r < c->nroutes; r++)
            for (unsigned j = 0; j < c->routes[r].nhops; j++)
                if (is_self_hop(ls, &c->routes[r].hops[j]))
                    return fail(p, c->routes[r].line,
                                "route: next hop %s is our listener on line %d (a loop)",
                                hop_str(&c->routes[r].hops[j], hs, sizeof hs), ls->line);
    }

    /* Outgoing TLS: a client certificate is all or nothing; the peers are
     * checked against an explicit CA unless verify=none is written. */
    int tc = p->first[D_TLS_CLIENT];
    if ((c->tls_client_cert == NULL) != (c->tls_client_key == NULL))
        return fail(p, tc, "tls-client: cert= and key= go together");
    int hop_line = 0;
    if (uses_tls_out(c, &hop_line, p) && c->tls_client_verify != SWD_VERIFY_NONE &&
        c->tls_client_ca == NULL)
        return fail(p, hop_line,
                    "a tls next hop needs 'tls-client ca=FILE' (the partner's CA), or "
                    "'tls-client verify=none'");
    if (tc && c->tls_client_verify != SWD_VERIFY_NONE && c->tls_client_ca == NULL)
        return fail(p, tc, "tls-client: verify=%s needs ca=", swd_verify_name(c->tls_client_verify));
    if ((c->tls_client_cert && (rc = check_readable(p, tc, "tls-client cert", c->tls_client_cert))) ||
        (c->tls_client_key && (rc = check_readable(p, tc, "tls-client key", c->tls_client_key))) ||
        (c->tls_client_ca && (rc = check_readable(p, tc, "tls-client ca", c->tls_client_ca))))
        return rc;

    if (c->log == NULL && (c->log = strdup("stderr")) == NULL)
        return fail(p, 0, "out of memory");

    if (c->limits.max_connections_per_ip > c->limits.max_connections) {
        int l = p->limit_line[L_MAX_CONNECTIONS_PER_IP] ? p->limit_line[L_MAX_CONNECTIONS_PER_IP]
                                                         : p->limit_line[L_MAX_CONNECTIONS];
        return fail(p, l, "limits: max-connections-per-ip (%u) is above max-connections (%u)",
                    c->limits.max_connections_per_ip, c->limits.max_connections);
    }

    /* admission: the partners' reserve is an eighth of the slots unless set */
    if (!p->limit_line[L_RESERVE_CONNECTIONS])
        c->limits.reserve_connections = c->limits.max_connections / 8;
    if (c->limits.reserve_connections >= c->limits.max_connections)
        return fail(p, p->limit_line[L_RESERVE_CONNECTIONS],
                    "limits: reserve-connections (%u) leaves no slot of max-connections (%u) to others",
                    c->limits.reserve_connections, c->limits.max_connections);
    if (c->limits.ip_prefix4 < c->limits.net_prefix4 || c->limits.ip_prefix6 < c->limits.net_prefix6)
        return fail(p, p->limit_line[L_NET_PREFIX4] ? p->limit_line[L_NET_PREFIX4] : p->limit_line[L_NET_PREFIX6],
                    "limits: a network prefix (net-prefix4/6) must not be longer than the address one "
                    "(ip-prefix4/6)");

    for (unsigned i = 0; i < c->npolicies; i++)
        if (strcmp(c->policies[i], "builtin:default") != 0 &&
            (rc = check_readable(p, p->policy_line[i], "policy", c->policies[i])) != SW_OK)
            return rc;
    return SW_OK;
}

/* ---- entry points ------------------------------------------------------------------- */

void swd_limits_default(swd_limits *l)
{
    l->max_connections = 4096;
    l->max_connections_per_ip = 64;
    l->idle_timeout_s = 300;
    l->handshake_timeout_s = 10;
    l->message_timeout_s = 30;
    l->max_conn_buffer = 262144;
    l->max_send_queue = 1048576;
    l->udp_batch = 64;
    l->socket_buffer = 4194304;
    l->max_connections_per_net = 256;
    l->reserve_connections = l->max_connections / 8;
    l->stranger_idle_timeout_s = 30;
    l->ip_prefix4 = 32;
    l->ip_prefix6 = 64;
    l->net_prefix4 = 24;
    l->net_prefix6 = 48;
}

const char *swd_mode_name(swd_mode m)
{
    return m == SWD_MODE_PASSIVE ? "passive" : "inline";
}

const char *swd_log_level_name(int level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    return level >= 0 && level <= 3 ? names[level] : "unknown";
}

const char *swd_verify_name(int verify)
{
    switch (verify) {
    case SWD_VERIFY_NONE: return "none";
    case SWD_VERIFY_OPTIONAL: return "optional";
    case SWD_VERIFY_REQUIRED: return "required";
    default: return "unknown";
    }
}

void swd_config_free(swd_config *c)
{
    if (c == NULL)
        return;
    free(c->path);
    free(c->user);
    free(c->group);
    free(c->pid_file);
    free(c->location_feed);
    free(c->events);
    free(c->events_db);
    free(c->log);
    free(c->admin);
    free(c->api.cert);
    free(c->api.key);
    free(c->api.client_ca);
    free(c->api.credential);
    free(c->taxii);
    free(c->taxii_store);
    free(c->publish.policy);
    free(c->publish.key);
    free(c->publish.kid);
    free(c->publish.group);
    free(c->intel.trust);
    free(c->intel.keys);
    for (unsigned i = 0; i < c->npulls && i < SWD_MAX_PULLS; i++) {
        swd_pull_cfg *q = &c->pulls[i];
        free(q->url);
        free(q->collection);
        free(q->user);
        free(q->password_file);
        free(q->token_file);
        free(q->ca);
        free(q->cert);
        free(q->key);
        free(q->cursor);
        free(q->key_file);
    }
    for (unsigned i = 0; i < c->npushes && i < SWD_MAX_PUSHES; i++) {
        swd_push_cfg *q = &c->pushes[i];
        free(q->url);
        free(q->ca);
        free(q->cert);
        free(q->key);
        free(q->token_file);
        free(q->user);
        free(q->password_file);
    }
    free(c->secret_path);
    free(c->bundle);
    free(c->bundle_state);
    for (unsigned i = 0; i < c->ntrust_keys && i < SWD_MAX_TRUST_KEYS; i++)
        free(c->trust_keys[i]);
    for (unsigned i = 0; i < c->npolicies; i++)
        free(c->policies[i]);
    free(c->policies);
    for (unsigned i = 0; i < c->nlistens && i < SWD_MAX_LISTENS; i++) {
        free(c->listens[i].cert);
        free(c->listens[i].key);
        free(c->listens[i].ca);
    }
    for (unsigned i = 0; i < c->nroutes && i < SWD_MAX_ROUTES; i++)
        free(c->routes[i].domain);
    free(c->tls_client_cert);
    free(c->tls_client_key);
    free(c->tls_client_ca);
    for (unsigned i = 0; i < c->ncaptures && i < SWD_MAX_CAPTURES; i++) {
        free(c->captures[i].iface);
        free(c->captures[i].filter);
    }
    for (unsigned i = 0; i < c->nheps && i < SWD_MAX_HEPS; i++) {
        if (c->heps[i].auth_key) { /* a secret: wiped, not just freed */
            explicit_bzero(c->heps[i].auth_key, strlen(c->heps[i].auth_key));
            free(c->heps[i].auth_key);
        }
        free(c->heps[i].cert);
        free(c->heps[i].key);
        free(c->heps[i].ca);
    }
    for (unsigned i = 0; i < c->nexports && i < SWD_MAX_EXPORTS; i++) {
        free(c->exports[i].host);
        free(c->exports[i].ca);
        free(c->exports[i].cert);
        free(c->exports[i].key);
        free(c->exports[i].server_name);
        free(c->exports[i].store);
        free(c->exports[i].hostname);
    }
    free(c->state_redis.user);
    free(c->state_redis.password_file);
    free(c->state_redis.prefix);
    free(c->state_redis.node);
    free(c->state_redis.ca);
    free(c->state_redis.cert);
    free(c->state_redis.key);
    free(c->state_redis.server_name);
    memset(c, 0, sizeof *c);
}

static void config_defaults(swd_config *c)
{
    memset(c, 0, sizeof *c);
    c->mode = SWD_MODE_INLINE;
    c->workers = 0;
    c->log_level = SWD_LOG_INFO;
    c->topology_hiding = 1;
    c->tls_client_verify = SWD_VERIFY_REQUIRED;
    swd_limits_default(&c->limits);
    swd_sip_side_defaults(c->sip_limits);
}

int swd_config_parse(const char *text, size_t len, const char *name, swd_config *out, char *err,
                     size_t errlen)
{
    cfg_parser *p = calloc(1, sizeof *p);
    if (errlen)
        err[0] = '\0';
    config_defaults(out);
    if (p == NULL) {
        if (errlen)
            snprintf(err, errlen, "%s: out of memory", name);
        return SW_ENOMEM;
    }
    p->c = out;
    p->name = name;
    p->err = err;
    p->errlen = errlen;
    const char *slash = strrchr(name, '/');
    if (slash) {
        size_t n = slash == name ? 1 : (size_t)(slash - name);
        if (n < sizeof p->basedir) {
            memcpy(p->basedir, name, n);
            p->basedir[n] = '\0';
        }
    }
    int rc = SW_OK;
    if ((out->path = strdup(name)) == NULL)
        rc = fail(p, 0, "out of memory");
    else if (text == NULL && len > 0)
        rc = fail(p, 0, "no text");
    else if (len > SWD_CONFIG_MAX_SIZE) {
        fail(p, 0, "larger than %u bytes", SWD_CONFIG_MAX_SIZE);
        rc = SW_ELIMIT;
    }
    size_t pos = 0;
    /* A UTF-8 byte order mark from an editor is not a directive. */
    if (rc == SW_OK && len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (rc == SW_OK && pos < len) {
        p->line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - pos;
        if (n > 0 && text[pos + n - 1] == '\r')
            n--; /* CRLF files */
        rc = do_line(p, text + pos, n);
        pos = nl ? end + 1 : len;
    }
    if (rc == SW_OK)
        rc = validate(p);
    if (rc == SW_OK)
        rc = export_checks(p);
    if (rc == SW_OK)
        rc = taxii_checks(p);
    free(p);
    if (rc != SW_OK) {
        if (rc > 0 || strcmp(sw_strerror(rc), "unknown error") == 0)
            rc = SW_EINVAL;
        swd_config_free(out);
    }
    return rc;
}

int swd_config_load(const char *path, swd_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SW_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (errlen)
            snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return SW_EIO;
    }
    if (st.st_size > (off_t)SWD_CONFIG_MAX_SIZE) {
        if (errlen)
            snprintf(err, errlen, "%s: larger than %u bytes", path, SWD_CONFIG_MAX_SIZE);
        close(fd);
        return SW_ELIMIT;
    }
    /* Read one byte more than allowed, in case the file grew since fstat. */
    char *buf = malloc(SWD_CONFIG_MAX_SIZE + 1);
    if (buf == NULL) {
        close(fd);
        if (errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        return SW_ENOMEM;
    }
    size_t len = 0;
    while (len < SWD_CONFIG_MAX_SIZE + 1) {
        ssize_t n = read(fd, buf + len, SWD_CONFIG_MAX_SIZE + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errlen)
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return SW_EIO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    int rc = swd_config_parse(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}
