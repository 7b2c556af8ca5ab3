/* What a TAXII 2.1 pull client reads (include/sipwall/taxii_client.h):
 * envelopes of objects and status resources, from an untrusted server.
 *
 * The envelope is decoded with jansson (duplicates refused, size and
 * object count bounded before and after).  An indicator that carries its
 * signed FSE object in the telco-fse extension is passed on as that
 * object only: verification (sw_fse_verify_batch) decides, the STIX
 * wrapper around it is never believed.  A plain indicator is mapped only
 * when its pattern is exactly one comparison sipwall enforces. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "exchange/internal.h"
#include "sipwall/addr.h"
#include "sipwall/exchange_fmt.h"
#include "sipwall/taxii_client.h"
#include "sipwall/vocab.h"

#define FSE_EXT_ID "extension-definition--2b8a5f0e-7c1d-4e4a-9f3b-6d0c8e1a4b72"
#define STATUS_MAX (1u << 20)

/* ---- timestamps ------------------------------------------------------------ */

/* A STIX/TAXII timestamp (taxii.h's reader, microseconds) in ns. */
static int ts_ns(const char *s, int64_t *ns)
{
    int64_t us;
    /* years up to 9999 parse; ns since 1970 in an int64_t reach 2262 */
    if (sw_taxii_parse_ts(s, strnlen(s, 64), &us) != SW_OK || us > INT64_MAX / 1000)
        return SW_EINVAL;
    *ns = us * 1000;
    return SW_OK;
}

/* ---- patterns ---------------------------------------------------------------- */

int sw_taxii_pattern_map(const char *pattern, char kind[16], char value[SW_INTEL_VALUE_MAX])
{
    static const struct {
        const char *obj, *kind;
    } forms[] = {{"ipv4-addr", "ipv4"}, {"ipv6-addr", "ipv6"}, {"phone-number", "e164"}};
    const char *p = pattern;
    if (*p++ != '[')
        return SW_ENOTFOUND;
    while (*p == ' ')
        p++;
    size_t f = 0;
    for (; f < sizeof forms / sizeof forms[0]; f++) {
        size_t l = strlen(forms[f].obj);
        if (strncmp(p, forms[f].obj, l) == 0 && strncmp(p + l, ":value", 6) == 0) {
            p += l + 6;
            break;
        }
    }
    if (f == sizeof forms / sizeof forms[0])
        return SW_ENOTFOUND;
    while (*p == ' ')
        p++;
    if (*p++ != '=')
        return SW_ENOTFOUND; /* ISSUBSET, LIKE, MATCHES, ...: not enforced here */
    while (*p == ' ')
        p++;
    if (*p++ != '\'')
        return SW_ENOTFOUND;
    const char *v = p;
    while (*p && *p != '\'' && *p != '\\')
        p++;
    if (*p != '\'')
        return *p == '\\' ? SW_EINVAL : SW_ENOTFOUND;
    size_t vl = (size_t)(p - v);
    p++;
    while (*p == ' ')
        p++;
    if (*p++ != ']' || *p != '\0')
        return SW_ENOTFOUND; /* AND/OR, qualifiers, several observations */
    if (vl == 0 || vl >= SW_INTEL_VALUE_MAX)
        return SW_EINVAL;
    char tmp[SW_INTEL_VALUE_MAX];
    memcpy(tmp, v, vl);
    tmp[vl] = '\0';
    if (f < 2) {
        sw_addr a;
        if (strchr(tmp, '/') || sw_addr_parse(tmp, &a) != SW_OK || a.port != 0 || a.family != (f == 0 ? 4 : 6))
            return SW_EINVAL;
        if (sw_addr_format_ip(&a, value, SW_INTEL_VALUE_MAX) < 0)
            return SW_EINVAL;
    } else {
        /* E.164: "+" and 6..15 digits */
        if (tmp[0] != '+' || vl < 7 || vl > 16)
            return SW_EINVAL;
        for (size_t i = 1; i < vl; i++)
            if (tmp[i] < '0' || tmp[i] > '9')
                return SW_EINVAL;
        memcpy(value, tmp, vl + 1);
    }
    snprintf(kind, 16, "%s", forms[f].kind);
    return SW_OK;
}

/* ---- envelopes ---------------------------------------------------------------- */

static int uuid_ok(const char *u)
{
    if (strlen(u) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
            return 0;
    }
    return 1;
}

static int org_ok(const char *o)
{
    size_t n = strlen(o);
    if (n == 0 || n >= SW_INTEL_PRODUCER_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)o[i]) && o[i] != '_' && o[i] != '-')
            return 0;
    return 1;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A plain indicator: SW_OK (ind filled), SW_ENOTFOUND (a pattern we do
 * not enforce), SW_EINVAL (malformed). */
static int map_plain(const json_t *o, const char *org, int64_t now_ns, sw_intel_ind *ind)
{
    (void)now_ns;
    memset(ind, 0, sizeof *ind);
    const char *id = jstr(o, "id"), *pattern = jstr(o, "pattern"), *ptype = jstr(o, "pattern_type");
    const char *mod = jstr(o, "modified"), *vu = jstr(o, "valid_until");
    if (!id || strncmp(id, "indicator--", 11) != 0 || !uuid_ok(id + 11) || !pattern || !ptype || !mod)
        return SW_EINVAL;
    if (strcmp(ptype, "stix") != 0)
        return SW_ENOTFOUND;
    int rc = sw_taxii_pattern_map(pattern, ind->kind, ind->value);
    if (rc != SW_OK)
        return rc;
    for (int i = 0; i < 36; i++)
        ind->id[i] = (char)tolower((unsigned char)id[11 + i]);
    memcpy(ind->producer, org, strlen(org) + 1);
    snprintf(ind->kid, sizeof ind->kid, "taxii:unsigned");
    if (ts_ns(mod, &ind->modified) != SW_OK)
        return SW_EINVAL;
    int is_ip = strcmp(ind->kind, "e164") != 0;
    if (vu) {
        if (ts_ns(vu, &ind->valid_until) != SW_OK)
            return SW_EINVAL;
    } else {
        ind->valid_until = ind->modified + (int64_t)(is_ip ? SW_TAXII_PLAIN_TTL_IP_S : SW_TAXII_PLAIN_TTL_E164_S) *
                                               1000000000;
    }
    json_t *c = json_object_get(o, "confidence");
    if (c && (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 100))
        return SW_EINVAL;
    ind->confidence = c ? (unsigned)json_integer_value(c) : SW_TAXII_PLAIN_CONFIDENCE;
    json_t *r = json_object_get(o, "revoked");
    if (r && !json_is_boolean(r))
        return SW_EINVAL;
    ind->revoked = json_is_true(r);
    /* advice: malicious-activity is a block, anything else an alert */
    snprintf(ind->action, sizeof ind->action, "alert");
    json_t *types = json_object_get(o, "indicator_types"), *t;
    size_t i;
    json_array_foreach(types, i, t)
    {
        const char *s = json_string_value(t);
        if (s && strcmp(s, "malicious-activity") == 0)
            snprintf(ind->action, sizeof ind->action, "block");
    }
    /* the event type: a "sipwall:TYPE" label, else what the kind suggests
     * (an address: a scanner; a number: a Wangiri caller) */
    ind->type = SW_EVT__COUNT;
    json_t *labels = json_object_get(o, "labels"), *l;
    json_array_foreach(labels, i, l)
    {
        const char *s = json_string_value(l);
        sw_event_type et;
        if (s && strncmp(s, "sipwall:", 8) == 0 && sw_event_type_lookup(s + 8, &et) == SW_OK)
            ind->type = et;
    }
    if (ind->type == SW_EVT__COUNT && sw_event_type_lookup(is_ip ? "sip_scan" : "wangiri_cli", &ind->type) != SW_OK)
        ind->type = SW_EVT__COUNT;
    return SW_OK;
}

void sw_taxii_envelope_clear(sw_taxii_envelope *p)
{
    if (!p)
        return;
    free(p->fse);
    free(p->plain);
    memset(p, 0, sizeof *p);
}

int sw_taxii_envelope_parse(const char *buf, size_t len, const char *org, int64_t now_ns, sw_taxii_envelope *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > SW_TAXII_PAGE_MAX) {
        sw_errf(err, errlen, "envelope larger than %s bytes", "16 MiB");
        return SW_ELIMIT;
    }
    if (!org_ok(org)) {
        sw_errf(err, errlen, "bad partner org '%.20s'", org);
        return SW_EUSAGE;
    }
    json_error_t je;
    json_t *root = json_loadb(buf, len, SW__JSON_STRICT, &je);
    if (!root) {
        if (err && errlen)
            snprintf(err, errlen, "line %d col %d: %s", je.line, je.column, je.text);
        return SW_EINVAL;
    }
    int rc = SW_OK;
    json_t *more = json_object_get(root, "more"), *next = json_object_get(root, "next");
    json_t *objs = json_object_get(root, "objects");
    if (!json_is_object(root)) {
        sw_errf(err, errlen, "%s", "not a TAXII envelope (a JSON object)");
        rc = SW_EINVAL;
    } else if (more && !json_is_boolean(more)) {
        sw_errf(err, errlen, "%s", "\"more\" is not a boolean");
        rc = SW_EINVAL;
    } else if (next && (!json_is_string(next) || json_string_length(next) == 0 ||
                        json_string_length(next) >= SW_TAXII_NEXT_MAX)) {
        sw_errf(err, errlen, "%s", "\"next\" is not a string of 1..1023 bytes");
        rc = SW_EINVAL;
    } else if (objs && !json_is_array(objs)) {
        sw_errf(err, errlen, "%s", "\"objects\" is not an array");
        rc = SW_EINVAL;
    } else if (json_array_size(objs) > SW_TAXII_PAGE_OBJECTS) {
        sw_errf(err, errlen, "more than %s objects in one envelope", "10000");
        rc = SW_ELIMIT;
    }
    if (rc == SW_OK && next) {
        const char *s = json_string_value(next);
        for (size_t i = 0; s[i]; i++)
            if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) {
                sw_errf(err, errlen, "%s", "\"next\" holds a byte outside printable ASCII");
                rc = SW_EINVAL;
                break;
            }
        if (rc == SW_OK)
            snprintf(out->next, sizeof out->next, "%s", s);
    }
    if (rc != SW_OK) {
        json_decref(root);
        return rc;
    }
    out->more = json_is_true(more);
    size_t n = json_array_size(objs);
    out->objects = n;
    json_t *fse = json_array();
    out->plain = n ? calloc(n, sizeof *out->plain) : NULL;
    if (!fse || (n && !out->plain)) {
        json_decref(fse);
        json_decref(root);
        sw_taxii_envelope_clear(out);
        sw_errf(err, errlen, "%s", "out of memory");
        return SW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(objs, i);
        const char *type = jstr(o, "type");
        if (!json_is_object(o) || !type) {
            out->malformed++;
            continue;
        }
        if (strcmp(type, "indicator") != 0) {
            out->ignored++;
            continue;
        }
        json_t *embedded = json_object_get(json_object_get(json_object_get(o, "extensions"), FSE_EXT_ID), "fse");
        if (embedded) {
            /* verification decides; a non-object goes there too and is
             * quarantined as malformed */
            if (json_array_append(fse, embedded) != 0)
                rc = SW_ENOMEM;
            continue;
        }
        int r = map_plain(o, org, now_ns, &out->plain[out->nplain]);
        if (r == SW_OK)
            out->nplain++;
        else if (r == SW_ENOTFOUND)
            out->unmapped++;
        else
            out->malformed++;
    }
    out->nfse = json_array_size(fse);
    if (rc == SW_OK && out->nfse) {
        out->fse = json_dumps(fse, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!out->fse)
            rc = SW_ENOMEM;
        else
            out->fse_len = strlen(out->fse);
    }
    json_decref(fse);
    json_decref(root);
    if (rc != SW_OK) {
        sw_taxii_envelope_clear(out);
        sw_errf(err, errlen, "%s", "out of memory");
    }
    return rc;
}

/* ---- status resources ----------------------------------------------------------- */

int sw_taxii_status_parse(const char *buf, size_t len, sw_taxii_status *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > STATUS_MAX) {
        sw_errf(err, errlen, "status larger than %s", "1 MiB");
        return SW_EINVAL;
    }
    json_error_t je;
    json_t *root = json_loadb(buf, len, SW__JSON_STRICT, &je);
    if (!root) {
        if (err && errlen)
            snprintf(err, errlen, "line %d col %d: %s", je.line, je.column, je.text);
        return SW_EINVAL;
    }
    int rc = SW_EINVAL;
    const char *id = jstr(root, "id"), *st = jstr(root, "status");
    static const char *const counts[4] = {"total_count", "success_count", "failure_count", "pending_count"};
    int64_t *dst[4] = {&out->total, &out->success, &out->failure, &out->pending};
    if (!json_is_object(root) || !id || !st) {
        sw_errf(err, errlen, "%s", "a status needs id and status");
        goto out;
    }
    if (strlen(id) >= sizeof out->id || (strcmp(st, "complete") != 0 && strcmp(st, "pending") != 0)) {
        sw_errf(err, errlen, "%s", "bad id or status (complete|pending)");
        goto out;
    }
    for (int i = 0; i < 4; i++) {
        json_t *c = json_object_get(root, counts[i]);
        if (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > SW_TAXII_PAGE_OBJECTS * 1000) {
            sw_errf(err, errlen, "%s missing or out of range", counts[i]);
            goto out;
        }
        *dst[i] = json_integer_value(c);
    }
    if (out->success + out->failure + out->pending != out->total) {
        sw_errf(err, errlen, "%s", "success + failure + pending differs from total");
        goto out;
    }
    snprintf(out->id, sizeof out->id, "%s", id);
    snprintf(out->status, sizeof out->status, "%s", st);
    rc = SW_OK;
out:
    json_decref(root);
    return rc;
}

/* ---- the indicator of a signed FSE object ------------------------------------------- */

char *sw_taxii_wrap_fse(const char *fse, size_t len, size_t *outlen, char *err, size_t errlen)
{
    sw_fse o;
    char why[200];
    if (sw_fse_decode(fse, len, &o, why, sizeof why) != SW_OK) {
        sw_errf(err, errlen, "not an FSE object: %s", why);
        return NULL;
    }
    json_t *orig = json_loadb(fse, len, SW__JSON_STRICT, NULL);
    if (!orig) {
        sw_errf(err, errlen, "%s", "out of memory");
        return NULL;
    }
    const char *kind = sw_fse_kind_name(o.kind), *act = sw_fse_action_name(o.action);
    const char *sev = sw_fse_severity_name(o.severity);
    sw_xo_ind x = {.event_type = o.event_type, .kind = kind, .value = o.value,
                   .hmac_key_id = o.key_id[0] ? o.key_id : NULL, .severity = sev, .action = act,
                   .tlp = sw_fse_tlp_name(o.tlp)};
    memcpy(x.id, o.id, sizeof x.id);
    char pattern[3 * SW_XO_VALUE_MAX + 256];
    if (sw_stix_pattern(&x, pattern, sizeof pattern) < 0) {
        json_decref(orig);
        sw_errf(err, errlen, "%s", "no STIX pattern for this indicator");
        return NULL;
    }
    char id[64], created[SW_FSE_TS_LEN], modified[SW_FSE_TS_LEN], until[SW_FSE_TS_LEN], label[96];
    snprintf(id, sizeof id, "indicator--%s", o.id);
    int64_t c = o.first_seen_ms < o.modified_ms ? o.first_seen_ms : o.modified_ms;
    if (sw_fse_format_ts(c, created) != SW_OK || sw_fse_format_ts(o.modified_ms, modified) != SW_OK ||
        sw_fse_format_ts(o.valid_until_ms, until) != SW_OK) {
        json_decref(orig);
        sw_errf(err, errlen, "%s", "a time out of range");
        return NULL;
    }
    snprintf(label, sizeof label, "sipwall:%s", o.event_type);
    int malicious = o.action == SW_FSE_ACT_BLOCK || o.action == SW_FSE_ACT_DIVERT || o.action == SW_FSE_ACT_RATE_LIMIT;
    json_t *ext = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O}", "extension_type", "property-extension", "event_type",
                            o.event_type, "indicator_kind", kind, "action", act, "severity", sev, "sig", o.sig, "fse",
                            orig);
    json_t *ind = ext ? json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:[s],s:[s],s:{s:o}}", "type",
                                  "indicator", "spec_version", "2.1", "id", id, "created", created, "modified",
                                  modified, "name", label, "pattern", pattern, "pattern_type", "stix",
                                  "valid_from", created, "valid_until", until, "confidence", o.confidence,
                                  "indicator_types", malicious ? "malicious-activity" : "anomalous-activity",
                                  "labels", label, "extensions", FSE_EXT_ID, ext)
                      : NULL;
    json_decref(orig);
    if (ind && o.revoked)
        json_object_set_new(ind, "revoked", json_true());
    char *out = ind ? json_dumps(ind, JSON_COMPACT) : NULL;
    json_decref(ind);
    if (!out) {
        sw_errf(err, errlen, "%s", "out of memory");
        return NULL;
    }
    *outlen = strlen(out);
    return out;
}
