/* sipwall — the partner keyring, verification of received objects and the
 * quarantine of those that fail (kept, counted, visible; never blocking). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/internal.h"

#define BATCH_BYTES_MAX (64u << 20)

/* ---- keyring ---------------------------------------------------------------------- */

struct sw_fse_keyring {
    size_t n;
    struct {
        char org[SW_FSE_NAME_MAX];
        sw_jwks *keys;
    } p[SW_KEYRING_MAX_PARTNERS];
};

sw_fse_keyring *sw_fse_keyring_new(void) { return calloc(1, sizeof(sw_fse_keyring)); }

void sw_fse_keyring_free(sw_fse_keyring *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->n; i++)
        sw_jwks_free(kr->p[i].keys);
    free(kr);
}

int sw_fse_keyring_set(sw_fse_keyring *kr, const char *org, sw_jwks *keys)
{
    if (org[0] == '\0' || strlen(org) >= SW_FSE_NAME_MAX) {
        sw_jwks_free(keys);
        return SW_EUSAGE;
    }
    for (size_t i = 0; i < kr->n; i++)
        if (strcmp(kr->p[i].org, org) == 0) {
            sw_jwks_free(kr->p[i].keys);
            kr->p[i].keys = keys;
            return SW_OK;
        }
    if (kr->n == SW_KEYRING_MAX_PARTNERS) {
        sw_jwks_free(keys);
        return SW_ELIMIT;
    }
    snprintf(kr->p[kr->n].org, sizeof kr->p[kr->n].org, "%s", org);
    kr->p[kr->n].keys = keys;
    kr->n++;
    return SW_OK;
}

static const sw_jwks *keyring_find(const sw_fse_keyring *kr, const char *org)
{
    for (size_t i = 0; i < kr->n; i++)
        if (strcmp(kr->p[i].org, org) == 0)
            return kr->p[i].keys;
    return NULL;
}

/* Verifies a decoded tree (consumed: "sig" is removed from it). */
static int verify_tree(const sw_fse_keyring *kr, json_t *root, sw_fse *out, char *err,
                       size_t errlen)
{
    int rc = sw__fse_from_json(root, out, err, errlen);
    if (rc != SW_OK)
        return rc;
    if (out->sig[0] == '\0') {
        sw_errf(err, errlen, "unsigned object");
        return SW_EAUTH;
    }
    const sw_jwks *keys = keyring_find(kr, out->org);
    if (!keys) {
        sw_errf(err, errlen, "unknown producer '%s'", out->org);
        return SW_ENOTFOUND;
    }
    json_object_del(root, "sig");
    sw__xbuf b = {0};
    rc = sw__jcs_dump(root, &b);
    if (rc != SW_OK) {
        free(b.p);
        sw_errf(err, errlen, "cannot canonicalise");
        return SW_EINVAL;
    }
    sw_jws_header hdr;
    rc = sw_jws_verify_detached(out->sig, strlen(out->sig), b.p, b.len, keys, &hdr, err, errlen);
    free(b.p);
    if (rc == SW_OK && strcmp(hdr.kid, out->kid) != 0) {
        sw_errf(err, errlen, "header kid '%s' is not producer.kid '%s'", hdr.kid, out->kid);
        rc = SW_EAUTH;
    }
    /* A malformed JWS is a failed signature as far as the object goes. */
    if (rc == SW_EINVAL || rc == SW_ENOMEM)
        rc = SW_EAUTH;
    return rc;
}

int sw_fse_verify(const sw_fse_keyring *kr, const char *buf, size_t len, sw_fse *out, char *err,
                  size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > SW_FSE_JSON_MAX) {
        sw_errf(err, errlen, "object larger than %d bytes", SW_FSE_JSON_MAX);
        return SW_EINVAL;
    }
    json_error_t je;
    json_t *root = json_loadb(buf, len, SW__JSON_STRICT, &je);
    if (!root) {
        sw_errf(err, errlen, "line %d col %d: %s", je.line, je.column, je.text);
        return SW_EINVAL;
    }
    int rc = verify_tree(kr, root, out, err, errlen);
    json_decref(root);
    return rc;
}

/* ---- quarantine -------------------------------------------------------------------------- */

struct sw_quarantine {
    size_t cap, head, n; /* ring: oldest at head */
    sw_quarantine_stats st;
    sw_quarantine_entry *e;
};

sw_quarantine *sw_quarantine_new(size_t capacity)
{
    if (capacity < 1 || capacity > 1000000)
        return NULL;
    sw_quarantine *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->e = calloc(capacity, sizeof *q->e);
    if (!q->e) {
        free(q);
        return NULL;
    }
    q->cap = capacity;
    return q;
}

void sw_quarantine_free(sw_quarantine *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->cap; i++)
        free(q->e[i].raw);
    free(q->e);
    free(q);
}

sw_quarantine_stats sw_quarantine_stats_get(const sw_quarantine *q)
{
    sw_quarantine_stats s = q->st;
    s.held = q->n;
    return s;
}

const sw_quarantine_entry *sw_quarantine_get(const sw_quarantine *q, size_t i)
{
    return i < q->n ? &q->e[(q->head + i) % q->cap] : NULL;
}

static void quarantine_add(sw_quarantine *q, int64_t now_ms, int error, const char *reason,
                           const sw_fse *claimed, const char *raw, size_t raw_len)
{
    sw_quarantine_entry *e;
    if (q->n == q->cap) {
        e = &q->e[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->st.dropped++;
    } else {
        e = &q->e[(q->head + q->n) % q->cap];
    }
    free(e->raw);
    memset(e, 0, sizeof *e);
    e->at_ms = now_ms;
    e->error = error;
    snprintf(e->reason, sizeof e->reason, "%s", reason);
    if (claimed) {
        snprintf(e->org, sizeof e->org, "%s", claimed->org);
        snprintf(e->id, sizeof e->id, "%s", claimed->id);
    }
    size_t keep = raw_len < SW_QUARANTINE_RAW_MAX ? raw_len : SW_QUARANTINE_RAW_MAX;
    e->raw = malloc(keep + 1);
    if (e->raw) {
        memcpy(e->raw, raw, keep);
        e->raw[keep] = '\0';
        e->raw_len = keep;
    }
    e->raw_orig_len = raw_len;
    q->n++;
    q->st.total++;
}

/* Best effort: the org and id an object claims, for the quarantine listing. */
static void claimed_of(const json_t *o, sw_fse *c)
{
    memset(c, 0, sizeof *c);
    json_t *id = json_object_get(o, "id"), *p = json_object_get(o, "producer");
    json_t *org = json_is_object(p) ? json_object_get(p, "org") : NULL;
    if (json_is_string(id) && json_string_length(id) < sizeof c->id)
        snprintf(c->id, sizeof c->id, "%s", json_string_value(id));
    if (json_is_string(org) && json_string_length(org) < sizeof c->org)
        snprintf(c->org, sizeof c->org, "%s", json_string_value(org));
}

/* One element of a JSON array: [*pos, *end) trimmed; returns 1 when the
 * array goes on after it, 0 at its end (']' or the end of the input). */
static int next_element(const char *buf, size_t len, size_t *pos, size_t *s, size_t *e)
{
    size_t p = *pos;
    long depth = 0;
    int in_str = 0, more = 0;
    while (p < len && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\n' || buf[p] == '\r'))
        p++;
    *s = p;
    for (; p < len; p++) {
        char c = buf[p];
        if (in_str) {
            if (c == '\\')
                p++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}')
            depth--;
        else if (c == ']') {
            if (depth <= 0)
                break;
            depth--;
        } else if (c == ',' && depth == 0) {
            more = 1;
            break;
        }
    }
    size_t end = p < len ? p : len;
    while (end > *s && (buf[end - 1] == ' ' || buf[end - 1] == '\t' || buf[end - 1] == '\n' ||
                        buf[end - 1] == '\r'))
        end--;
    *e = end;
    *pos = p < len ? p + 1 : len;
    return more;
}

int sw_fse_verify_batch(const sw_fse_keyring *kr, const char *buf, size_t len, sw_quarantine *q,
                        int64_t now_ms, int (*accept)(void *arg, const sw_fse *o), void *arg,
                        size_t *quarantined, char *err, size_t errlen)
{
    if (quarantined)
        *quarantined = 0;
    if (len > BATCH_BYTES_MAX) {
        sw_errf(err, errlen, "batch larger than %u bytes", BATCH_BYTES_MAX);
        return SW_EINVAL;
    }
    size_t pos = 0;
    while (pos < len && (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\n' ||
                         buf[pos] == '\r'))
        pos++;
    if (pos == len || buf[pos] != '[') {
        sw_errf(err, errlen, "not a JSON array of objects");
        return SW_EINVAL;
    }
    pos++;
    /* Each element is cut out of the array and checked on its own: a
     * malformed or tampered element cannot take the rest of the batch with
     * it, and the quarantine keeps the bytes exactly as received. */
    int accepted = 0;
    size_t nq = 0, n = 0, s, e;
    int more = 1;
    while (more) {
        more = next_element(buf, len, &pos, &s, &e);
        if (s == e) {
            if (n == 0 && !more)
                break; /* [] */
            if (!more)
                break; /* a trailing comma before ']' is one empty element: malformed */
        }
        if (n++ == SW_BATCH_MAX) {
            sw_errf(err, errlen, "batch cut at %d objects", SW_BATCH_MAX);
            break;
        }
        sw_fse obj, claimed;
        char why[160] = "";
        memset(&claimed, 0, sizeof claimed);
        int rc;
        if (e - s > SW_FSE_JSON_MAX) {
            snprintf(why, sizeof why, "object larger than %d bytes", SW_FSE_JSON_MAX);
            rc = SW_EINVAL;
        } else {
            json_error_t je;
            json_t *root = json_loadb(buf + s, e - s, SW__JSON_STRICT, &je);
            if (!root) {
                snprintf(why, sizeof why, "col %d: %.100s", je.column, je.text);
                rc = SW_EINVAL;
            } else {
                claimed_of(root, &claimed);
                rc = verify_tree(kr, root, &obj, why, sizeof why);
                json_decref(root);
            }
        }
        if (rc == SW_OK) {
            accepted++;
            if (accept && accept(arg, &obj) != 0)
                break;
        } else {
            quarantine_add(q, now_ms, rc, why, &claimed, buf + s, e - s);
            nq++;
        }
    }
    if (quarantined)
        *quarantined = nq;
    return accepted;
}
