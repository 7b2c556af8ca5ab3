/* sipwall — the export policy: which events become FSE indicators, for
 * which trust group, at which TLP, confidence and TTL; the per-group HMAC
 * keys that pseudonymise subscriber identifiers; sw_fse_from_event. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exchange/internal.h"

#define POLICY_TEXT_MAX (1u << 20)
#define MAX_RULES 256
#define MAX_KEYS 64
#define KEY_MIN 16
#define KEY_MAX 64

typedef enum what {
    W_SRC,
    W_USER_AGENT,
    W_CALLING,
    W_CALLING_HMAC,
    W_CALLED,
    W_CALLED_HMAC,
    W_CALLED_PREFIX,
    W_CALLING_RANGE,
    W__COUNT
} what;
static const char *const what_names[] = {"src",    "user_agent",  "calling",      "calling_hmac",
                                         "called", "called_hmac", "called_prefix", "calling_range"};

typedef struct rule {
    int line;
    sw_event_type type;
    char group[SW_FSE_NAME_MAX];
    sw_fse_tlp tlp;
    int confidence; /* -1: the event's */
    int min_confidence;
    int64_t ttl_ms;
    sw_fse_action action;
    sw_fse_severity severity;
    what indicator;
    int prefix;
} rule;

typedef struct hkey {
    char group[SW_FSE_NAME_MAX];
    char id[SW_FSE_NAME_MAX];
    unsigned char key[KEY_MAX];
    size_t len;
    int64_t from_ms, until_ms; /* until 0 = open */
} hkey;

struct sw_export_policy {
    char org[SW_FSE_NAME_MAX];
    char node[SW_FSE_UUID_LEN];
    size_t nrules, nkeys, ngroups;
    rule rules[MAX_RULES];
    hkey keys[MAX_KEYS];
    const char *groups[MAX_RULES];
};

/* ---- parsing -------------------------------------------------------------------- */

static int word_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SW_FSE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static int parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

/* N[s|m|h|d], 1 s .. 365 d. */
static int parse_duration(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || v <= 0)
        return 0;
    int64_t mul;
    if (strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else if (strcmp(end, "d") == 0)
        mul = 86400000;
    else
        return 0;
    if (v > 365L * 86400000 / mul)
        return 0;
    *ms = v * mul;
    return 1;
}

static int load_key(const char *spec, hkey *k, char *why, size_t whylen)
{
    if (strncmp(spec, "hex:", 4) == 0) {
        const char *h = spec + 4;
        size_t n = strlen(h);
        if (n % 2 || n / 2 < KEY_MIN || n / 2 > KEY_MAX) {
            snprintf(why, whylen, "hex key must be %d..%d bytes", KEY_MIN, KEY_MAX);
            return 0;
        }
        for (size_t i = 0; i < n / 2; i++) {
            int a = sw_hexval((unsigned char)h[2 * i]), b = sw_hexval((unsigned char)h[2 * i + 1]);
            if (a < 0 || b < 0) {
                snprintf(why, whylen, "not hex");
                return 0;
            }
            k->key[i] = (unsigned char)(a << 4 | b);
        }
        k->len = n / 2;
        return 1;
    }
    if (strncmp(spec, "file:", 5) == 0) {
        int fd = open(spec + 5, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(why, whylen, "%s: %s", spec + 5, strerror(errno));
            return 0;
        }
        unsigned char buf[KEY_MAX + 1];
        ssize_t r = read(fd, buf, sizeof buf);
        close(fd);
        if (r < KEY_MIN || r > KEY_MAX) {
            snprintf(why, whylen, "%s: key file must hold %d..%d bytes", spec + 5, KEY_MIN,
                     KEY_MAX);
            OPENSSL_cleanse(buf, sizeof buf);
            return 0;
        }
        memcpy(k->key, buf, (size_t)r);
        k->len = (size_t)r;
        OPENSSL_cleanse(buf, sizeof buf);
        return 1;
    }
    snprintf(why, whylen, "key must be hex:HEX or file:PATH");
    return 0;
}

/* Is a number in clear allowed for this event type? (docs/exchange.md) */
static int clear_allowed(sw_event_type t, what w)
{
    if (w == W_CALLING || w == W_CALLING_RANGE)
        return t == SW_EVT_WANGIRI_CLI;
    if (w == W_CALLED || w == W_CALLED_PREFIX)
        return t == SW_EVT_IRSF_CALL;
    return 1;
}

static what default_what(sw_event_type t)
{
    switch (t) {
    case SW_EVT_IRSF_CALL: return W_CALLED_PREFIX;
    case SW_EVT_WANGIRI_CLI: return W_CALLING;
    case SW_EVT_CLI_SPOOFING: return W_CALLING_HMAC;
    default: return W_SRC;
    }
}

static int shareable(sw_event_type t)
{
    const char *n = sw_event_type_name(t);
    return n && sw_fse_event_type_valid(n);
}

#define MAXTOK 32

static int tokenize(char *line, char **tok)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (n == MAXTOK)
            return -1;
        tok[n++] = t;
    }
    return n;
}

static const char *group_intern(sw_export_policy *p, const char *g)
{
    for (size_t i = 0; i < p->ngroups; i++)
        if (strcmp(p->groups[i], g) == 0)
            return p->groups[i];
    return NULL;
}

static int parse_line(sw_export_policy *p, int ln, char **tok, int n, char *why, size_t wl)
{
    if (strcmp(tok[0], "producer") == 0) {
        if (n != 3 || !word_ok(tok[1])) {
            snprintf(why, wl, "producer ORG NODE-UUID");
            return 0;
        }
        char probe[SW_FSE_UUID_LEN];
        if (strlen(tok[2]) != 36 || sw_uuid5(tok[2], "", 0, probe) != SW_OK) {
            snprintf(why, wl, "producer: '%s' is not a UUID", tok[2]);
            return 0;
        }
        snprintf(p->org, sizeof p->org, "%s", tok[1]);
        for (int i = 0; i < 36; i++)
            p->node[i] = (char)((tok[2][i] >= 'A' && tok[2][i] <= 'F') ? tok[2][i] + 32
                                                                         : tok[2][i]);
        p->node[36] = '\0';
        return 1;
    }
    if (strcmp(tok[0], "hmac-key") == 0) {
        if (n < 4 || n % 2 != 0 || !word_ok(tok[1]) || !word_ok(tok[2])) {
            snprintf(why, wl, "hmac-key GROUP KEY-ID hex:HEX|file:PATH [from TS] [until TS]");
            return 0;
        }
        if (p->nkeys == MAX_KEYS) {
            snprintf(why, wl, "more than %d hmac keys", MAX_KEYS);
            return 0;
        }
        hkey *k = &p->keys[p->nkeys];
        memset(k, 0, sizeof *k);
        snprintf(k->group, sizeof k->group, "%s", tok[1]);
        snprintf(k->id, sizeof k->id, "%s", tok[2]);
        for (size_t i = 0; i < p->nkeys; i++)
            if (strcmp(p->keys[i].group, k->group) == 0 && strcmp(p->keys[i].id, k->id) == 0) {
                snprintf(why, wl, "duplicate key id '%s' for group '%s'", k->id, k->group);
                return 0;
            }
        if (!load_key(tok[3], k, why, wl))
            return 0;
        for (int i = 4; i < n; i += 2) {
            int64_t *dst = strcmp(tok[i], "from") == 0    ? &k->from_ms
                           : strcmp(tok[i], "until") == 0 ? &k->until_ms
                                                          : NULL;
            if (!dst || sw_fse_parse_ts(tok[i + 1], strlen(tok[i + 1]), dst) != SW_OK) {
                snprintf(why, wl, "'%s %s': expected from|until YYYY-MM-DDTHH:MM:SS.mmmZ",
                         tok[i], tok[i + 1]);
                return 0;
            }
        }
        if (k->until_ms && k->until_ms <= k->from_ms) {
            snprintf(why, wl, "until is not after from");
            return 0;
        }
        p->nkeys++;
        return 1;
    }
    if (strcmp(tok[0], "export") == 0) {
        if (n < 4 || strcmp(tok[2], "to") != 0 || !word_ok(tok[3]) || n % 2 != 0) {
            snprintf(why, wl, "export EVENT-TYPE to GROUP [option value]...");
            return 0;
        }
        if (p->nrules == MAX_RULES) {
            snprintf(why, wl, "more than %d export rules", MAX_RULES);
            return 0;
        }
        rule *r = &p->rules[p->nrules];
        *r = (rule){.line = ln, .tlp = SW_FSE_TLP_AMBER, .confidence = -1,
                    .ttl_ms = 86400000, .action = SW_FSE_ACT_BLOCK,
                    .severity = SW_FSE_SEV_MEDIUM, .prefix = 7};
        if (sw_event_type_lookup(tok[1], &r->type) != SW_OK) {
            snprintf(why, wl, "unknown event type '%s'", tok[1]);
            return 0;
        }
        if (!shareable(r->type)) {
            snprintf(why, wl, "'%s' is not a shareable event type", tok[1]);
            return 0;
        }
        snprintf(r->group, sizeof r->group, "%s", tok[3]);
        r->indicator = default_what(r->type);
        for (size_t i = 0; i < p->nrules; i++)
            if (p->rules[i].type == r->type && strcmp(p->rules[i].group, r->group) == 0) {
                snprintf(why, wl, "'%s' to '%s' already exported on line %d", tok[1], r->group,
                         p->rules[i].line);
                return 0;
            }
        for (int i = 4; i < n; i += 2) {
            const char *o = tok[i], *v = tok[i + 1];
            long x;
            int ok = 1;
            if (strcmp(o, "tlp") == 0)
                ok = sw_fse_tlp_lookup(v, &r->tlp) == SW_OK;
            else if (strcmp(o, "confidence") == 0)
                ok = parse_int(v, 0, 100, &x) && ((r->confidence = (int)x), 1);
            else if (strcmp(o, "min-confidence") == 0)
                ok = parse_int(v, 0, 100, &x) && ((r->min_confidence = (int)x), 1);
            else if (strcmp(o, "ttl") == 0)
                ok = parse_duration(v, &r->ttl_ms);
            else if (strcmp(o, "action") == 0)
                ok = sw_fse_action_lookup(v, &r->action) == SW_OK;
            else if (strcmp(o, "severity") == 0)
                ok = sw_fse_severity_lookup(v, &r->severity) == SW_OK;
            else if (strcmp(o, "prefix") == 0)
                ok = parse_int(v, 1, 15, &x) && ((r->prefix = (int)x), 1);
            else if (strcmp(o, "indicator") == 0) {
                ok = 0;
                for (int w = 0; w < W__COUNT; w++)
                    if (strcmp(v, what_names[w]) == 0) {
                        r->indicator = (what)w;
                        ok = 1;
                    }
            } else {
                snprintf(why, wl, "unknown option '%s'", o);
                return 0;
            }
            if (!ok) {
                snprintf(why, wl, "bad value '%s' for %s", v, o);
                return 0;
            }
        }
        if (!clear_allowed(r->type, r->indicator)) {
            snprintf(why, wl,
                     "indicator %s would share a subscriber number of %s in clear "
                     "(use calling_hmac or called_hmac)",
                     what_names[r->indicator], tok[1]);
            return 0;
        }
        if ((r->indicator == W_CALLING_HMAC || r->indicator == W_CALLED_HMAC) &&
            r->tlp < SW_FSE_TLP_AMBER) {
            snprintf(why, wl, "subscriber-related indicators need tlp AMBER or stricter");
            return 0;
        }
        p->nrules++;
        return 1;
    }
    snprintf(why, wl, "unknown directive '%s'", tok[0]);
    return 0;
}

sw_export_policy *sw_export_policy_parse(const char *text, size_t len, char *err, size_t errlen)
{
    if (len > POLICY_TEXT_MAX) {
        sw_errf(err, errlen, "policy larger than 1 MiB");
        return NULL;
    }
    sw_export_policy *p = calloc(1, sizeof *p);
    char *copy = malloc(len + 1);
    if (!p || !copy) {
        free(p);
        free(copy);
        sw_errf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    char why[200];
    int ln = 0, ok = 1;
    /* Walk line by line (strtok would skip empty lines and lose the count). */
    for (char *line = copy; line && ok;) {
        char *nl = memchr(line, '\n', (size_t)(copy + len - line));
        if (nl)
            *nl = '\0';
        ln++;
        if (memchr(line, '\0', (size_t)((nl ? nl : copy + len) - line)) != NULL) {
            snprintf(why, sizeof why, "NUL byte");
            ok = 0;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *tok[MAXTOK];
        int n = tokenize(line, tok);
        if (n < 0) {
            snprintf(why, sizeof why, "too many words");
            ok = 0;
        } else if (n > 0) {
            ok = parse_line(p, ln, tok, n, why, sizeof why);
        }
        line = nl ? nl + 1 : NULL;
    }
    if (ok && !p->org[0]) {
        snprintf(why, sizeof why, "no 'producer ORG NODE-UUID' line");
        ln = 0;
        ok = 0;
    }
    for (size_t i = 0; ok && i < p->nrules; i++) {
        rule *r = &p->rules[i];
        if (r->indicator == W_CALLING_HMAC || r->indicator == W_CALLED_HMAC) {
            int found = 0;
            for (size_t k = 0; k < p->nkeys; k++)
                found |= strcmp(p->keys[k].group, r->group) == 0;
            if (!found) {
                ln = r->line;
                snprintf(why, sizeof why, "no hmac-key for group '%s'", r->group);
                ok = 0;
            }
        }
    }
    free(copy);
    if (!ok) {
        if (ln)
            sw_errf(err, errlen, "line %d: %s", ln, why);
        else
            sw_errf(err, errlen, "%s", why);
        OPENSSL_cleanse(p, sizeof *p);
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < p->nrules; i++)
        if (!group_intern(p, p->rules[i].group))
            p->groups[p->ngroups++] = p->rules[i].group;
    return p;
}

sw_export_policy *sw_export_policy_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(POLICY_TEXT_MAX + 1);
    size_t n = buf ? fread(buf, 1, POLICY_TEXT_MAX + 1, f) : 0;
    fclose(f);
    if (!buf) {
        sw_errf(err, errlen, "out of memory");
        return NULL;
    }
    char e2[240] = "";
    sw_export_policy *p = sw_export_policy_parse(buf, n, e2, sizeof e2);
    if (!p)
        sw_errf(err, errlen, "%s: %s", path, e2);
    free(buf);
    return p;
}

void sw_export_policy_free(sw_export_policy *p)
{
    if (!p)
        return;
    OPENSSL_cleanse(p->keys, sizeof p->keys);
    free(p);
}

const char *sw_export_policy_group(const sw_export_policy *p, size_t i)
{
    return i < p->ngroups ? p->groups[i] : NULL;
}

/* ---- HMAC --------------------------------------------------------------------------------- */

static int key_valid(const hkey *k, int64_t now_ms)
{
    return k->from_ms <= now_ms && (k->until_ms == 0 || now_ms < k->until_ms);
}

static void hmac_hex(const hkey *k, const char *canonical, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    static const char hx[] = "0123456789abcdef";
    HMAC(EVP_sha256(), k->key, (int)k->len, (const unsigned char *)canonical, strlen(canonical),
         md, &mdlen);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[64] = '\0';
}

static const hkey *current_key(const sw_export_policy *p, const char *group, int64_t now_ms)
{
    const hkey *best = NULL;
    for (size_t i = 0; i < p->nkeys; i++) {
        const hkey *k = &p->keys[i];
        if (strcmp(k->group, group) == 0 && key_valid(k, now_ms) &&
            (!best || k->from_ms >= best->from_ms))
            best = k;
    }
    return best;
}

int sw_export_hmac(const sw_export_policy *p, const char *group, int64_t now_ms,
                   const char *canonical, char out[65], char key_id[SW_FSE_NAME_MAX])
{
    const hkey *k = current_key(p, group, now_ms);
    if (!k)
        return SW_ENOTFOUND;
    hmac_hex(k, canonical, out);
    snprintf(key_id, SW_FSE_NAME_MAX, "%s", k->id);
    return SW_OK;
}

int sw_export_hmac_all(const sw_export_policy *p, const char *group, int64_t now_ms,
                       const char *canonical,
                       void (*cb)(void *arg, const char *key_id, const char hex[65]), void *arg)
{
    int n = 0;
    char hex[65];
    for (size_t i = 0; i < p->nkeys; i++) {
        const hkey *k = &p->keys[i];
        if (strcmp(k->group, group) == 0 && key_valid(k, now_ms)) {
            hmac_hex(k, canonical, hex);
            cb(arg, k->id, hex);
            n++;
        }
    }
    return n;
}

/* ---- events -> objects ---------------------------------------------------------------------- */

/* The digits of an international number from a URI user part or number:
 * "+44 20-7946.0000", "0044...", "44..." (a national number, leading 0,
 * gives nothing).  6..15 digits into out; 1 on success. */
static int e164_digits(sw_str s, char out[16])
{
    size_t i = 0, n = 0;
    if (s.len >= 4 && (memcmp(s.ptr, "sip:", 4) == 0 || memcmp(s.ptr, "tel:", 4) == 0))
        i = 4;
    if (i < s.len && s.ptr[i] == '+')
        i++;
    else if (i + 1 < s.len && s.ptr[i] == '0' && s.ptr[i + 1] == '0')
        i += 2;
    for (; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == ';' || c == '@')
            break;
        if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ')
            continue;
        if (c < '0' || c > '9' || n == 15)
            return 0;
        out[n++] = c;
    }
    out[n] = '\0';
    return n >= 6 && out[0] != '0';
}

static const sw_evidence *evidence(const sw_event *ev, const char *key)
{
    for (unsigned i = 0; i < ev->nevidence && i < SW_EVENT_MAX_EVIDENCE; i++)
        if (ev->evidence[i].key && strcmp(ev->evidence[i].key, key) == 0)
            return &ev->evidence[i];
    return NULL;
}

static const char *fraud_class_of(sw_event_type t)
{
    switch (t) {
    case SW_EVT_IRSF_CALL: return "irsf";
    case SW_EVT_WANGIRI_CLI: return "wangiri";
    case SW_EVT_CLI_SPOOFING: return "cli_spoofing";
    case SW_EVT_REG_HIJACK: return "account_takeover";
    case SW_EVT_LOCATION_PROBE: return "signalling_attack";
    default: return "";
    }
}

const char *sw_export_policy_org(const sw_export_policy *p) { return p->org; }

int sw_fse_from_event(const sw_export_policy *p, const char *group, const sw_event *ev,
                      sw_fse *out)
{
    const rule *r = NULL;
    for (size_t i = 0; i < p->nrules; i++)
        if (p->rules[i].type == ev->type && strcmp(p->rules[i].group, group) == 0)
            r = &p->rules[i];
    if (!r)
        return 0;
    /* Anti-echo: enforcement caused by a partner's indicator is theirs to share. */
    const sw_evidence *orig = evidence(ev, SW_EXPORT_ORIGIN_KEY);
    if (orig && orig->kind == SW_EVIDENCE_STR &&
        sw_str_eq(orig->str, SW_STR_LIT(SW_EXPORT_ORIGIN_FEED)))
        return 0;
    int conf = ev->confidence > 100 ? 100 : ev->confidence;
    if (conf < r->min_confidence)
        return 0;
    if (ev->ts_ns < 0)
        return 0;
    int64_t ts_ms = ev->ts_ns / 1000000;

    sw_fse *o = out;
    memset(o, 0, sizeof *o);
    char digits[16], hex[65];
    switch (r->indicator) {
    case W_SRC:
        if (ev->src.family == 4)
            o->kind = SW_FSE_KIND_IPV4;
        else if (ev->src.family == 6)
            o->kind = SW_FSE_KIND_IPV6;
        else
            return 0;
        if (sw_addr_format_ip(&ev->src, o->value, sizeof o->value) < 0)
            return 0;
        break;
    case W_USER_AGENT: {
        const sw_evidence *ua = evidence(ev, "user_agent");
        if (!ua || ua->kind != SW_EVIDENCE_STR || ua->str.len == 0 ||
            ua->str.len >= sizeof o->value || memchr(ua->str.ptr, '\0', ua->str.len))
            return 0;
        o->kind = SW_FSE_KIND_USER_AGENT;
        memcpy(o->value, ua->str.ptr, ua->str.len);
        break;
    }
    case W_CALLING_RANGE: {
        /* the calling range the detector named (wangiri.campaign's
         * offender: "+" and digits that the calling number starts with);
         * an event about one number shares that number */
        sw_str num = ev->pai.len ? ev->pai : ev->from;
        if (!e164_digits(num, digits))
            return 0;
        const sw_evidence *off = evidence(ev, "offender");
        size_t dl = strlen(digits);
        if (off && off->kind == SW_EVIDENCE_STR && off->str.len >= 2 && off->str.len - 1 < dl &&
            off->str.ptr[0] == '+' && memcmp(off->str.ptr + 1, digits, off->str.len - 1) == 0) {
            o->kind = SW_FSE_KIND_E164_PREFIX;
            snprintf(o->value, sizeof o->value, "%.*s", (int)off->str.len, off->str.ptr);
        } else {
            o->kind = SW_FSE_KIND_E164;
            snprintf(o->value, sizeof o->value, "+%s", digits);
        }
        break;
    }
    case W_CALLING:
    case W_CALLING_HMAC:
    case W_CALLED:
    case W_CALLED_HMAC:
    case W_CALLED_PREFIX: {
        int calling = r->indicator == W_CALLING || r->indicator == W_CALLING_HMAC;
        sw_str num = calling ? (ev->pai.len ? ev->pai : ev->from) : (ev->ruri.len ? ev->ruri : ev->to);
        if (!e164_digits(num, digits))
            return 0;
        if (r->indicator == W_CALLING || r->indicator == W_CALLED) {
            o->kind = SW_FSE_KIND_E164;
            snprintf(o->value, sizeof o->value, "+%s", digits);
        } else if (r->indicator == W_CALLED_PREFIX) {
            o->kind = SW_FSE_KIND_E164_PREFIX;
            snprintf(o->value, sizeof o->value, "+%.*s", r->prefix, digits);
        } else {
            if (sw_export_hmac(p, group, ts_ms, digits, hex, o->key_id) != SW_OK)
                return 0; /* no key valid then: nothing is shared in clear instead */
            o->kind = SW_FSE_KIND_E164_HMAC;
            snprintf(o->value, sizeof o->value, "%s", hex);
        }
        break;
    }
    default:
        return 0;
    }
    snprintf(o->event_type, sizeof o->event_type, "%s", sw_event_type_name(ev->type));
    snprintf(o->org, sizeof o->org, "%s", p->org);
    snprintf(o->node, sizeof o->node, "%s", p->node);
    snprintf(o->fraud_class, sizeof o->fraud_class, "%s", fraud_class_of(ev->type));
    const char *cat = sw_category_name(ev->category);
    if (cat && (strcmp(cat, "cat1") == 0 || strcmp(cat, "cat2") == 0 || strcmp(cat, "cat3") == 0 ||
                strcmp(cat, "behavioural") == 0))
        snprintf(o->fs_category, sizeof o->fs_category, "%s", cat);
    if (sw_fse_make_id(o->org, o->kind, o->value, o->event_type, o->id) != SW_OK)
        return SW_EINVAL;
    o->modified_ms = o->first_seen_ms = o->last_seen_ms = ts_ms;
    o->valid_until_ms = ts_ms + r->ttl_ms;
    const sw_evidence *cnt = evidence(ev, "count");
    o->count = cnt && cnt->kind == SW_EVIDENCE_NUM && cnt->num >= 1 && cnt->num <= SW_FSE_COUNT_MAX
                   ? cnt->num
                   : 1;
    o->confidence = r->confidence >= 0 ? r->confidence : conf;
    o->severity = r->severity;
    o->action = r->action;
    o->tlp = r->tlp;
    /* context: typed, no free text */
    if (ev->method.len > 0 && ev->method.len < 32) {
        size_t i;
        for (i = 0; i < ev->method.len; i++)
            if (ev->method.ptr[i] < 'A' || ev->method.ptr[i] > 'Z')
                break;
        if (i == ev->method.len)
            memcpy(o->ctx_sip_method, ev->method.ptr, ev->method.len);
    }
    const char *tn = sw_transport_name(ev->transport);
    if (tn && (strcmp(tn, "udp") == 0 || strcmp(tn, "tcp") == 0 || strcmp(tn, "tls") == 0 ||
               strcmp(tn, "sctp") == 0 || strcmp(tn, "ws") == 0 || strcmp(tn, "wss") == 0))
        snprintf(o->ctx_transport, sizeof o->ctx_transport, "%s", tn);
    const sw_evidence *dc = evidence(ev, "distinct_callees");
    if (dc && dc->kind == SW_EVIDENCE_NUM && dc->num >= 1 && dc->num <= SW_FSE_COUNT_MAX)
        o->ctx_distinct_callees = dc->num;
    if (sw_fse_validate(o, NULL, 0) != SW_OK) {
        memset(o, 0, sizeof *o);
        return 0; /* e.g. a User-Agent that is not clean UTF-8: nothing to share */
    }
    return 1;
}
