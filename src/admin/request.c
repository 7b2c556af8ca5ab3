/* The admin API's request parsers (include/sipwall/admin.h): routes, path
 * segments, query strings and the JSON body of a block.  Everything here
 * reads untrusted bytes: lengths are bounded, nothing is allocated but
 * jansson's parse of a body already capped at SW_ADMIN_BODY_MAX. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/admin.h"

#define TARGET_MAX 4096 /* evhttp caps the request line too (max headers size) */

static int bad(char *err, size_t errlen, int status, const char *fmt, ...) SW_PRINTF(4, 5);

static int bad(char *err, size_t errlen, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return status;
}

/* Percent-decodes s[0..n) into out (size bytes, NUL-terminated); plus is
 * a space in a query (plus = 1).  SW_OK, SW_ELIMIT (too long) or
 * SW_EINVAL (a bad escape, NUL or a control character). */
static int decode(const char *s, size_t n, int plus, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return SW_EINVAL;
            int h = sw_hexval(s[i + 1]), l = sw_hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return SW_EINVAL;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f)
            return SW_EINVAL;
        if (k + 1 >= size)
            return SW_ELIMIT;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return SW_OK;
}

static int number(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!*v || strlen(v) > 18)
        return SW_EINVAL;
    int64_t x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return SW_EINVAL;
        x = x * 10 + (*p - '0');
    }
    if (x < lo || x > hi)
        return SW_EINVAL;
    *out = x;
    return SW_OK;
}

/* A filter word: printable ASCII without spaces (rule ids, partner names,
 * event types, addresses). */
static int plain(const char *v)
{
    if (!*v)
        return 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

static int query_param(const char *name, const char *v, int64_t now_ns, sw_admin_req *r, char *err,
                       size_t errlen)
{
    int64_t x;
    if (strcmp(name, "limit") == 0 &&
        (r->op == SW_ADMIN_EVENTS || r->op == SW_ADMIN_BLOCKS || r->op == SW_ADMIN_INTEL)) {
        int64_t max = r->op == SW_ADMIN_EVENTS ? SW_ADMIN_EVENTS_MAX : SW_ADMIN_BLOCKS_MAX;
        if (number(v, 1, max, &x) != SW_OK)
            return bad(err, errlen, 400, "limit: '%.32s' is not 1..%lld", v, (long long)max);
        r->limit = (size_t)x;
        return 200;
    }
    if (r->op != SW_ADMIN_EVENTS)
        return bad(err, errlen, 400, "unknown query parameter '%.32s'", name);
    if (strcmp(name, "since") == 0 || strcmp(name, "until") == 0) {
        char why[200];
        if (sw_event_parse_time(v, now_ns, &x, why, sizeof why) != SW_OK)
            return bad(err, errlen, 400, "%s: %s", name, why);
        if (x <= 0)
            return bad(err, errlen, 400, "%s: before 1970", name);
        *(name[0] == 's' ? &r->since_ns : &r->until_ns) = x;
        return 200;
    }
    if (strcmp(name, "after") == 0) {
        if (number(v, 0, INT64_MAX / 2, &x) != SW_OK)
            return bad(err, errlen, 400, "after: '%.32s' is not an event id", v);
        r->after_id = x;
        return 200;
    }
    char *dst = NULL;
    if (strcmp(name, "type") == 0) {
        sw_event_type t;
        if (sw_event_type_lookup(v, &t) != SW_OK)
            return bad(err, errlen, 400, "type: '%.48s' is not an event type", v);
        dst = r->type;
    } else if (strcmp(name, "src") == 0) {
        sw_addr a;
        if (sw_addr_parse(v, &a) != SW_OK)
            return bad(err, errlen, 400, "src: '%.64s' is not an IP address", v);
        dst = r->src;
    } else if (strcmp(name, "peer") == 0) {
        dst = r->peer;
    } else if (strcmp(name, "rule") == 0) {
        dst = r->rule;
    } else {
        return bad(err, errlen, 400, "unknown query parameter '%.32s'", name);
    }
    if (!plain(v))
        return bad(err, errlen, 400, "%s: '%.64s' is empty or has spaces or control characters", name, v);
    snprintf(dst, SW_ADMIN_FIELD_MAX, "%s", v);
    return 200;
}

static int parse_query(const char *q, size_t n, int64_t now_ns, sw_admin_req *r, char *err, size_t errlen)
{
    size_t i = 0;
    unsigned seen = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && q[end] != '&')
            end++;
        if (end > i) {
            if (++seen > 16)
                return bad(err, errlen, 400, "too many query parameters (16 at most)");
            const char *eq = memchr(q + i, '=', end - i);
            if (!eq)
                return bad(err, errlen, 400, "query parameter without a value");
            char name[32], val[SW_ADMIN_FIELD_MAX];
            int rc = decode(q + i, (size_t)(eq - (q + i)), 1, name, sizeof name);
            if (rc != SW_OK)
                return bad(err, errlen, 400, "a query parameter's name is %s",
                           rc == SW_ELIMIT ? "too long" : "badly encoded");
            rc = decode(eq + 1, (size_t)(q + end - eq - 1), 1, val, sizeof val);
            if (rc != SW_OK)
                return bad(err, errlen, 400, "query parameter '%s': value %s", name,
                           rc == SW_ELIMIT ? "too long" : "badly encoded");
            int st = query_param(name, val, now_ns, r, err, errlen);
            if (st != 200)
                return st;
        }
        i = end + 1;
    }
    if (r->since_ns && r->until_ns && r->until_ns <= r->since_ns)
        return bad(err, errlen, 400, "until must be after since");
    return 200;
}

int sw_admin_route(const char *method, const char *target, int64_t now_ns, sw_admin_req *r, char *err,
                   size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (errlen)
        err[0] = '\0';
    size_t tlen = strnlen(target, TARGET_MAX + 1);
    if (tlen > TARGET_MAX)
        return bad(err, errlen, 400, "request target too long");
    const char *qm = memchr(target, '?', tlen);
    size_t plen = qm ? (size_t)(qm - target) : tlen;
    const char *query = qm ? qm + 1 : NULL;
    size_t qlen = qm ? tlen - plen - 1 : 0;
    const char *p = target;
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0,
        del = strcmp(method, "DELETE") == 0;
#define PATH_IS(lit) (plen == sizeof(lit) - 1 && memcmp(p, lit, plen) == 0)
    if (PATH_IS("/v1/status")) {
        if (!get)
            return bad(err, errlen, 405, "/v1/status takes GET");
        r->op = SW_ADMIN_STATUS;
    } else if (PATH_IS("/v1/reload")) {
        if (!post)
            return bad(err, errlen, 405, "/v1/reload takes POST");
        r->op = SW_ADMIN_RELOAD;
    } else if (PATH_IS("/v1/partners")) {
        if (!get)
            return bad(err, errlen, 405, "/v1/partners takes GET");
        r->op = SW_ADMIN_PARTNERS;
    } else if (PATH_IS("/metrics")) {
        if (!get)
            return bad(err, errlen, 405, "/metrics takes GET");
        r->op = SW_ADMIN_METRICS;
    } else if (PATH_IS("/health")) {
        if (!get)
            return bad(err, errlen, 405, "/health takes GET");
        r->op = SW_ADMIN_HEALTH;
    } else if (PATH_IS("/v1/events")) {
        if (!get)
            return bad(err, errlen, 405, "/v1/events takes GET");
        r->op = SW_ADMIN_EVENTS;
        r->limit = SW_ADMIN_EVENTS_DEFAULT;
    } else if (PATH_IS("/v1/blocks")) {
        if (get) {
            r->op = SW_ADMIN_BLOCKS;
            r->limit = SW_ADMIN_BLOCKS_DEFAULT;
        } else if (post) {
            r->op = SW_ADMIN_BLOCK_ADD;
        } else {
            return bad(err, errlen, 405, "/v1/blocks takes GET and POST");
        }
    } else if (plen > 11 && memcmp(p, "/v1/blocks/", 11) == 0) {
        /* /v1/blocks/KIND/KEY: the key is the rest (an IPv6 /64 may keep its slash) */
        const char *k = p + 11, *end = p + plen;
        const char *slash = memchr(k, '/', (size_t)(end - k));
        if (!slash || slash == k || slash + 1 == end)
            return bad(err, errlen, 404, "no such path (DELETE /v1/blocks/KIND/KEY)");
        if (!del)
            return bad(err, errlen, 405, "/v1/blocks/KIND/KEY takes DELETE");
        if (decode(k, (size_t)(slash - k), 0, r->kind, sizeof r->kind) != SW_OK || !plain(r->kind))
            return bad(err, errlen, 400, "bad block kind in the path");
        if (decode(slash + 1, (size_t)(end - slash - 1), 0, r->key, sizeof r->key) != SW_OK ||
            !plain(r->key))
            return bad(err, errlen, 400, "bad block key in the path");
        r->op = SW_ADMIN_UNBLOCK;
    } else if (PATH_IS("/v1/intel")) {
        if (!get)
            return bad(err, errlen, 405, "/v1/intel takes GET");
        r->op = SW_ADMIN_INTEL;
        r->limit = SW_ADMIN_BLOCKS_DEFAULT;
    } else if (PATH_IS("/v1/intel/push")) {
        if (!post)
            return bad(err, errlen, 405, "/v1/intel/push takes POST");
        r->op = SW_ADMIN_INTEL_PUSH;
    } else if (plen > 10 && memcmp(p, "/v1/intel/", 10) == 0) {
        /* /v1/intel/ID or /v1/intel/ID/revoke: an indicator id (a UUID) */
        const char *k = p + 10, *end = p + plen;
        const char *slash = memchr(k, '/', (size_t)(end - k));
        const char *idend = slash ? slash : end;
        if (slash && ((size_t)(end - slash) != sizeof "/revoke" - 1 || memcmp(slash, "/revoke", 7) != 0))
            return bad(err, errlen, 404, "no such path (GET /v1/intel/ID, POST /v1/intel/ID/revoke)");
        if (slash ? !post : !get)
            return bad(err, errlen, 405, slash ? "/v1/intel/ID/revoke takes POST" : "/v1/intel/ID takes GET");
        if (idend == k || decode(k, (size_t)(idend - k), 0, r->key, sizeof r->key) != SW_OK || !plain(r->key))
            return bad(err, errlen, 400, "bad indicator id in the path");
        r->op = slash ? SW_ADMIN_INTEL_REVOKE : SW_ADMIN_INTEL_SHOW;
    } else if (plen > 13 && memcmp(p, "/v1/exchange/", 13) == 0) {
        /* /v1/exchange/ID/revoke: one of our published indicators (a UUID) */
        const char *k = p + 13, *end = p + plen;
        const char *slash = memchr(k, '/', (size_t)(end - k));
        if (!slash || (size_t)(end - slash) != sizeof "/revoke" - 1 || memcmp(slash, "/revoke", 7) != 0)
            return bad(err, errlen, 404, "no such path (POST /v1/exchange/ID/revoke)");
        if (!post)
            return bad(err, errlen, 405, "/v1/exchange/ID/revoke takes POST");
        if (slash == k || decode(k, (size_t)(slash - k), 0, r->key, sizeof r->key) != SW_OK || !plain(r->key))
            return bad(err, errlen, 400, "bad indicator id in the path");
        r->op = SW_ADMIN_EXCHANGE_REVOKE;
    } else {
        return bad(err, errlen, 404, "no such path");
    }
#undef PATH_IS
    if (query && qlen) {
        if (r->op != SW_ADMIN_EVENTS && r->op != SW_ADMIN_BLOCKS && r->op != SW_ADMIN_INTEL)
            return bad(err, errlen, 400, "this path takes no query");
        return parse_query(query, qlen, now_ns, r, err, errlen);
    }
    return 200;
}

/* "600", "10m", "2h", "1d", "30s" -> seconds; -1 when not one. */
static int64_t duration_text(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 8)
        return -1;
    int64_t unit = 1;
    char last = s[n - 1];
    if (last == 's' || last == 'm' || last == 'h' || last == 'd') {
        unit = last == 's' ? 1 : last == 'm' ? 60 : last == 'h' ? 3600 : 86400;
        n--;
    }
    if (n == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v * unit;
}

int sw_admin_parse_block(const char *body, size_t len, sw_admin_req *r, char *err, size_t errlen)
{
    if (len > SW_ADMIN_BODY_MAX)
        return bad(err, errlen, 413, "body above %d bytes", SW_ADMIN_BODY_MAX);
    if (!body || len == 0)
        return bad(err, errlen, 400, "a JSON body is required: {\"kind\", \"key\", \"duration\", \"reason\"}");
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return bad(err, errlen, 400, "JSON parse error at line %d column %d: %.120s", je.line, je.column,
                   je.text);
    int st = 200;
    if (!json_is_object(o)) {
        st = bad(err, errlen, 400, "the body must be a JSON object");
        goto out;
    }
    const char *name;
    json_t *v;
    json_object_foreach(o, name, v) {
        if (strcmp(name, "kind") && strcmp(name, "key") && strcmp(name, "duration") && strcmp(name, "reason")) {
            st = bad(err, errlen, 400, "unknown member '%.32s' (kind, key, duration, reason)", name);
            goto out;
        }
    }
    json_t *kind = json_object_get(o, "kind"), *key = json_object_get(o, "key"),
           *dur = json_object_get(o, "duration"), *reason = json_object_get(o, "reason");
    if (!json_is_string(kind) || json_string_length(kind) >= sizeof r->kind || !plain(json_string_value(kind))) {
        st = bad(err, errlen, 400, "member 'kind' must be a block kind (source, caller, ...)");
        goto out;
    }
    if (!json_is_string(key) || json_string_length(key) >= sizeof r->key || !plain(json_string_value(key))) {
        st = bad(err, errlen, 400, "member 'key' must be a string of 1..%zu printable characters",
                 sizeof r->key - 1);
        goto out;
    }
    int64_t secs = -1;
    if (json_is_integer(dur))
        secs = json_integer_value(dur);
    else if (json_is_string(dur))
        secs = duration_text(json_string_value(dur));
    if (secs < 1 || secs > SW_ADMIN_DURATION_MAX_S) {
        st = bad(err, errlen, 400, "member 'duration' must be 1..%d seconds (a number, or like \"10m\")",
                 SW_ADMIN_DURATION_MAX_S);
        goto out;
    }
    if (reason && !json_is_null(reason)) {
        if (!json_is_string(reason) || json_string_length(reason) >= sizeof r->reason) {
            st = bad(err, errlen, 400, "member 'reason' must be a string of less than %zu bytes",
                     sizeof r->reason);
            goto out;
        }
        const unsigned char *s = (const unsigned char *)json_string_value(reason);
        for (size_t i = 0; i < json_string_length(reason); i++) {
            if (s[i] < 0x20 || s[i] == 0x7f) {
                st = bad(err, errlen, 400, "member 'reason' has a control character");
                goto out;
            }
        }
        snprintf(r->reason, sizeof r->reason, "%s", (const char *)s);
    }
    snprintf(r->kind, sizeof r->kind, "%s", json_string_value(kind));
    snprintf(r->key, sizeof r->key, "%s", json_string_value(key));
    r->duration_s = secs;
out:
    json_decref(o);
    return st;
}

char *sw_admin_error_json(int status, const char *message)
{
    json_t *o = json_pack("{s:{s:i,s:s?}}", "error", "status", status, "message", message);
    if (!o) /* message not UTF-8: say so rather than nothing */
        o = json_pack("{s:{s:i,s:s}}", "error", "status", status, "message", "(unprintable)");
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}
