/* sipwall — the FSE v1 object: vocabularies, ids, timestamps, validation
 * and the strict JSON codec (docs/fse-v1.schema.json). */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/internal.h"

/* ---- vocabularies ------------------------------------------------------------ */

#define SW__NAME(id, name) name,
static const char *const kind_names[] = {SW_FSE_KIND_LIST(SW__NAME)};
static const char *const sev_names[] = {SW_FSE_SEVERITY_LIST(SW__NAME)};
static const char *const act_names[] = {SW_FSE_ACTION_LIST(SW__NAME)};
static const char *const tlp_names[] = {SW_FSE_TLP_LIST(SW__NAME)};
#undef SW__NAME

static const char *const fse_event_types[] = {
    "sip_scan", "sip_bruteforce", "sip_flood", "sip_malformed", "irsf_range", "irsf_call",
    "wangiri_cli", "cli_spoofing", "pai_injection", "reg_hijack", "location_probe",
    "pbx_hacking", "simbox_bypass", "sim_swap", "subscription_fraud"};
static const char *const fraud_classes[] = {"irsf", "wangiri", "cli_spoofing", "bypass",
                                            "pbx_hacking", "subscription", "account_takeover",
                                            "signalling_attack"};
static const char *const fs_categories[] = {"cat1", "cat2", "cat3", "behavioural"};
static const char *const transports[] = {"udp", "tcp", "tls", "sctp", "ws", "wss"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int lookup(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *sw_fse_kind_name(sw_fse_kind k)
{
    return (unsigned)k < COUNT(kind_names) ? kind_names[k] : NULL;
}
const char *sw_fse_severity_name(sw_fse_severity s)
{
    return (unsigned)s < COUNT(sev_names) ? sev_names[s] : NULL;
}
const char *sw_fse_action_name(sw_fse_action a)
{
    return (unsigned)a < COUNT(act_names) ? act_names[a] : NULL;
}
const char *sw_fse_tlp_name(sw_fse_tlp t)
{
    return (unsigned)t < COUNT(tlp_names) ? tlp_names[t] : NULL;
}

#define LOOKUP_FN(fn, type, arr)                                             \
    int fn(const char *name, type *out)                                      \
    {                                                                        \
        int i = lookup(arr, COUNT(arr), name);                               \
        if (i < 0)                                                           \
            return SW_ENOTFOUND;                                             \
        *out = (type)i;                                                      \
        return SW_OK;                                                        \
    }
LOOKUP_FN(sw_fse_kind_lookup, sw_fse_kind, kind_names)
LOOKUP_FN(sw_fse_severity_lookup, sw_fse_severity, sev_names)
LOOKUP_FN(sw_fse_action_lookup, sw_fse_action, act_names)
LOOKUP_FN(sw_fse_tlp_lookup, sw_fse_tlp, tlp_names)

int sw_fse_event_type_valid(const char *name)
{
    return lookup(fse_event_types, COUNT(fse_event_types), name) >= 0;
}

/* ---- UUIDv5 ---------------------------------------------------------------------- */

int sw__uuid_lower_ok(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

int sw_uuid5(const char *ns, const void *name, size_t len, char out[SW_FSE_UUID_LEN])
{
    unsigned char nsb[16];
    size_t j = 0;
    for (size_t i = 0; ns[i] && j < 32; i++) {
        if (ns[i] == '-')
            continue;
        int v = sw_hexval((unsigned char)ns[i]);
        if (v < 0)
            return SW_EINVAL;
        if (j % 2 == 0)
            nsb[j / 2] = (unsigned char)(v << 4);
        else
            nsb[j / 2] |= (unsigned char)v;
        j++;
    }
    if (j != 32 || strlen(ns) != 36)
        return SW_EINVAL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return SW_ENOMEM;
    int ok = EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, nsb, 16) &&
             (len == 0 || EVP_DigestUpdate(c, name, len)) && EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    if (!ok)
        return SW_EIO;
    md[6] = (unsigned char)((md[6] & 0x0F) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3F) | 0x80);
    static const char hx[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hx[md[i] >> 4];
        *o++ = hx[md[i] & 15];
    }
    *o = '\0';
    return SW_OK;
}

int sw_fse_producer_ns(const char *org, char out[SW_FSE_UUID_LEN])
{
    char name[SW_FSE_NAME_MAX + 8];
    int n = snprintf(name, sizeof name, "fse/1|%s", org);
    if (n < 0 || (size_t)n >= sizeof name)
        return SW_ELIMIT;
    return sw_uuid5(SW_FSE_NAMESPACE, name, (size_t)n, out);
}

int sw_fse_make_id(const char *org, sw_fse_kind kind, const char *value, const char *event_type,
                   char out[SW_FSE_UUID_LEN])
{
    char ns[SW_FSE_UUID_LEN];
    int rc = sw_fse_producer_ns(org, ns);
    if (rc != SW_OK)
        return rc;
    const char *kn = sw_fse_kind_name(kind);
    if (!kn)
        return SW_EUSAGE;
    char name[SW_FSE_VALUE_MAX + 2 * SW_FSE_NAME_MAX + 4];
    int n = snprintf(name, sizeof name, "%s|%s|%s", kn, value, event_type);
    if (n < 0 || (size_t)n >= sizeof name)
        return SW_ELIMIT;
    return sw_uuid5(ns, name, (size_t)n, out);
}

/* ---- timestamps ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

#define TS_MAX_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

int sw_fse_format_ts(int64_t ms, char out[SW_FSE_TS_LEN])
{
    if (ms < 0 || ms > TS_MAX_MS)
        return SW_ERANGE;
    int64_t days = ms / 86400000, rem = ms % 86400000;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* The ranges above make it exactly 24 characters; the compiler cannot
     * see that, hence the roomy buffer. */
    char tmp[96];
    int n = snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d,
                     (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                     (int)(rem % 1000));
    if (n != SW_FSE_TS_LEN - 1)
        return SW_ERANGE;
    memcpy(out, tmp, SW_FSE_TS_LEN);
    return SW_OK;
}

static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

int sw_fse_parse_ts(const char *s, size_t len, int64_t *ms)
{
    /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    if (len != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[23] != 'Z')
        return SW_EINVAL;
    int y, mo, d, h, mi, se, f;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se) ||
        !digits(s + 20, 3, &f))
        return SW_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        se > 59)
        return SW_EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return SW_EINVAL;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + f;
    return SW_OK;
}

/* ---- validation ---------------------------------------------------------------------- */

static int name_ok(const char *s, int required)
{
    size_t n = strlen(s);
    if (n == 0)
        return !required;
    if (n >= SW_FSE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static int all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Valid UTF-8 without control characters (RFC 3629). */
static int utf8_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x20 || c == 0x7F)
            return 0;
        if (c < 0x80) {
            p++;
            continue;
        }
        int n;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1; cp = c & 0x1F; min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2; cp = c & 0x0F; min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return 0;
        }
        p++;
        for (int i = 0; i < n; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (*p & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

static int value_ok(sw_fse_kind kind, const char *v, char *why, size_t whylen)
{
    unsigned char a[16];
    size_t n = strlen(v);
    if (n == 0) {
        snprintf(why, whylen, "empty");
        return 0;
    }
    switch (kind) {
    case SW_FSE_KIND_IPV4:
        if (inet_pton(AF_INET, v, a) == 1)
            return 1;
        snprintf(why, whylen, "not an IPv4 address");
        return 0;
    case SW_FSE_KIND_IPV6:
        if (inet_pton(AF_INET6, v, a) == 1)
            return 1;
        snprintf(why, whylen, "not an IPv6 address");
        return 0;
    case SW_FSE_KIND_CIDR: {
        const char *sl = strchr(v, '/');
        char host[64];
        int bits;
        if (!sl || (size_t)(sl - v) >= sizeof host || !all_digits(sl + 1, 1, 3)) {
            snprintf(why, whylen, "not ADDRESS/BITS");
            return 0;
        }
        memcpy(host, v, (size_t)(sl - v));
        host[sl - v] = '\0';
        bits = atoi(sl + 1);
        if ((inet_pton(AF_INET, host, a) == 1 && bits <= 32) ||
            (inet_pton(AF_INET6, host, a) == 1 && bits <= 128))
            return 1;
        snprintf(why, whylen, "not an IPv4/IPv6 prefix");
        return 0;
    }
    case SW_FSE_KIND_E164:
        if (v[0] == '+' && all_digits(v + 1, 3, 15) && v[1] != '0')
            return 1;
        snprintf(why, whylen, "not +E.164 (3-15 digits)");
        return 0;
    case SW_FSE_KIND_E164_PREFIX:
        if (v[0] == '+' && all_digits(v + 1, 1, 15) && v[1] != '0')
            return 1;
        snprintf(why, whylen, "not a +E.164 prefix (1-15 digits)");
        return 0;
    case SW_FSE_KIND_E164_HMAC:
    case SW_FSE_KIND_IMSI_HMAC:
    case SW_FSE_KIND_IMEI_HMAC:
        if (n == 64) {
            for (size_t i = 0; i < n; i++)
                if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
                    goto badhex;
            return 1;
        }
    badhex:
        snprintf(why, whylen, "not 64 lowercase hex digits");
        return 0;
    case SW_FSE_KIND_SIP_URI:
        if (strncmp(v, "sip:", 4) == 0 || strncmp(v, "sips:", 5) == 0) {
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7F)
                    goto baduri;
            return 1;
        }
    baduri:
        snprintf(why, whylen, "not a sip:/sips: URI in printable ASCII");
        return 0;
    case SW_FSE_KIND_USER_AGENT:
        if (utf8_text_ok(v))
            return 1;
        snprintf(why, whylen, "not UTF-8 text without control characters");
        return 0;
    case SW_FSE_KIND_TRUNK:
        if (name_ok(v, 1))
            return 1;
        snprintf(why, whylen, "not a trunk name ([A-Za-z0-9._:-], < 64)");
        return 0;
    default:
        snprintf(why, whylen, "unknown kind");
        return 0;
    }
}

static int is_hmac_kind(sw_fse_kind k)
{
    return k == SW_FSE_KIND_E164_HMAC || k == SW_FSE_KIND_IMSI_HMAC ||
           k == SW_FSE_KIND_IMEI_HMAC;
}

int sw_fse_validate(const sw_fse *o, char *err, size_t errlen)
{
    char why[96];
#define BAD(...)                                                             \
    do {                                                                     \
        sw_errf(err, errlen, __VA_ARGS__);                                  \
        return SW_EINVAL;                                                    \
    } while (0)
    if (!sw__uuid_lower_ok(o->id))
        BAD("id: not a lowercase UUID");
    if (o->modified_ms < 0 || o->modified_ms > TS_MAX_MS)
        BAD("modified: out of range");
    if (!name_ok(o->org, 1))
        BAD("producer.org: empty or not [A-Za-z0-9._:-]{1,63}");
    if (!sw__uuid_lower_ok(o->node))
        BAD("producer.node: not a lowercase UUID");
    if (!name_ok(o->kid, o->sig[0] != '\0'))
        BAD("producer.kid: %s", o->sig[0] ? "required with sig, [A-Za-z0-9._:-]{1,63}"
                                          : "not [A-Za-z0-9._:-]{1,63}");
    if (!sw_fse_event_type_valid(o->event_type))
        BAD("event_type: unknown");
    if (o->fraud_class[0] && lookup(fraud_classes, COUNT(fraud_classes), o->fraud_class) < 0)
        BAD("fraud_class: unknown");
    if (o->fs_category[0] && lookup(fs_categories, COUNT(fs_categories), o->fs_category) < 0)
        BAD("fs_category: unknown");
    if (!sw_fse_kind_name(o->kind))
        BAD("indicator.kind: unknown");
    if (strnlen(o->value, SW_FSE_VALUE_MAX) >= SW_FSE_VALUE_MAX)
        BAD("indicator.value: too long");
    if (!value_ok(o->kind, o->value, why, sizeof why))
        BAD("indicator.value: %s", why);
    if (is_hmac_kind(o->kind) ? !name_ok(o->key_id, 1) : o->key_id[0] != '\0')
        BAD("indicator.key_id: %s", is_hmac_kind(o->kind) ? "required for an HMAC kind"
                                                         : "only for HMAC kinds");
    if (o->first_seen_ms < 0 || o->first_seen_ms > TS_MAX_MS || o->last_seen_ms < 0 ||
        o->last_seen_ms > TS_MAX_MS)
        BAD("first_seen/last_seen: out of range");
    if (o->first_seen_ms > o->last_seen_ms)
        BAD("first_seen: after last_seen");
    if (o->valid_until_ms < 0 || o->valid_until_ms > TS_MAX_MS)
        BAD("valid_until: out of range");
    if (o->count < 1 || o->count > SW_FSE_COUNT_MAX)
        BAD("count: not 1..%d", SW_FSE_COUNT_MAX);
    if (o->confidence < 0 || o->confidence > 100)
        BAD("confidence: not 0..100");
    if (!sw_fse_severity_name(o->severity))
        BAD("severity: unknown");
    if (!sw_fse_action_name(o->action))
        BAD("action: unknown");
    if (!sw_fse_tlp_name(o->tlp))
        BAD("tlp: unknown");
    if (o->revoked != 0 && o->revoked != 1)
        BAD("revoked: not a boolean");
    if (o->ctx_sip_method[0]) {
        for (const char *p = o->ctx_sip_method; *p; p++)
            if (*p < 'A' || *p > 'Z')
                BAD("context.sip_method: not [A-Z]+");
        if (strlen(o->ctx_sip_method) > 32)
            BAD("context.sip_method: too long");
    }
    if (o->ctx_transport[0] && lookup(transports, COUNT(transports), o->ctx_transport) < 0)
        BAD("context.transport: unknown");
    if (o->ctx_dst_cc[0] && !all_digits(o->ctx_dst_cc, 1, 3))
        BAD("context.dst_cc: not 1-3 digits");
    if (o->ctx_distinct_callees < 0 || o->ctx_distinct_callees > SW_FSE_COUNT_MAX)
        BAD("context.distinct_callees: out of range");
    for (const char *p = o->sig; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            BAD("sig: not a compact JWS");
    if (strnlen(o->sig, SW_FSE_SIG_MAX) >= SW_FSE_SIG_MAX)
        BAD("sig: too long");
#undef BAD
    return SW_OK;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static int set_ts(json_t *obj, const char *key, int64_t ms)
{
    char ts[SW_FSE_TS_LEN];
    if (sw_fse_format_ts(ms, ts) != SW_OK)
        return -1;
    return json_object_set_new(obj, key, json_string(ts));
}

json_t *sw__fse_to_json(const sw_fse *o, int with_sig)
{
    if (sw_fse_validate(o, NULL, 0) != SW_OK)
        return NULL;
    json_t *r = json_object(), *prod = json_object(), *ind = json_object();
    int bad = !r || !prod || !ind;
    if (!bad) {
        bad |= json_object_set_new(r, "spec", json_string("fse/1"));
        bad |= json_object_set_new(r, "id", json_string(o->id));
        bad |= set_ts(r, "modified", o->modified_ms);
        bad |= json_object_set_new(prod, "org", json_string(o->org));
        bad |= json_object_set_new(prod, "node", json_string(o->node));
        if (o->kid[0])
            bad |= json_object_set_new(prod, "kid", json_string(o->kid));
        bad |= json_object_set(r, "producer", prod);
        bad |= json_object_set_new(r, "event_type", json_string(o->event_type));
        if (o->fraud_class[0])
            bad |= json_object_set_new(r, "fraud_class", json_string(o->fraud_class));
        if (o->fs_category[0])
            bad |= json_object_set_new(r, "fs_category", json_string(o->fs_category));
        bad |= json_object_set_new(ind, "kind", json_string(sw_fse_kind_name(o->kind)));
        bad |= json_object_set_new(ind, "value", json_string(o->value));
        if (o->key_id[0])
            bad |= json_object_set_new(ind, "key_id", json_string(o->key_id));
        bad |= json_object_set(r, "indicator", ind);
        bad |= set_ts(r, "first_seen", o->first_seen_ms);
        bad |= set_ts(r, "last_seen", o->last_seen_ms);
        bad |= json_object_set_new(r, "count", json_integer(o->count));
        bad |= json_object_set_new(r, "confidence", json_integer(o->confidence));
        bad |= json_object_set_new(r, "severity", json_string(sw_fse_severity_name(o->severity)));
        bad |= json_object_set_new(r, "action", json_string(sw_fse_action_name(o->action)));
        bad |= set_ts(r, "valid_until", o->valid_until_ms);
        if (o->revoked)
            bad |= json_object_set_new(r, "revoked", json_true());
        bad |= json_object_set_new(r, "tlp", json_string(sw_fse_tlp_name(o->tlp)));
        if (o->ctx_sip_method[0] || o->ctx_transport[0] || o->ctx_dst_cc[0] ||
            o->ctx_distinct_callees) {
            json_t *c = json_object();
            bad |= !c;
            if (c) {
                if (o->ctx_sip_method[0])
                    bad |= json_object_set_new(c, "sip_method", json_string(o->ctx_sip_method));
                if (o->ctx_transport[0])
                    bad |= json_object_set_new(c, "transport", json_string(o->ctx_transport));
                if (o->ctx_dst_cc[0])
                    bad |= json_object_set_new(c, "dst_cc", json_string(o->ctx_dst_cc));
                if (o->ctx_distinct_callees)
                    bad |= json_object_set_new(c, "distinct_callees",
                                               json_integer(o->ctx_distinct_callees));
                bad |= json_object_set_new(r, "context", c);
            }
        }
        if (with_sig && o->sig[0])
            bad |= json_object_set_new(r, "sig", json_string(o->sig));
    }
    json_decref(prod);
    json_decref(ind);
    if (bad) {
        json_decref(r);
        return NULL;
    }
    return r;
}

char *sw_fse_encode(const sw_fse *o, int with_sig, size_t *len)
{
    json_t *j = sw__fse_to_json(o, with_sig);
    if (!j)
        return NULL;
    sw__xbuf b = {0};
    int rc = sw__jcs_dump(j, &b);
    json_decref(j);
    if (rc != SW_OK) {
        free(b.p);
        return NULL;
    }
    return sw__xbuf_take(&b, len);
}

/* Member readers: each names the member in its error. */
typedef struct rd {
    char *err;
    size_t errlen;
} rd;

static int get_str(rd *r, const json_t *obj, const char *path, const char *key, int required,
                   char *out, size_t cap)
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v) {
        if (required) {
            sw_errf(r->err, r->errlen, "%s%s: missing", path, key);
            return SW_EINVAL;
        }
        return SW_OK;
    }
    if (!json_is_string(v)) {
        sw_errf(r->err, r->errlen, "%s%s: not a string", path, key);
        return SW_EINVAL;
    }
    size_t n = json_string_length(v);
    if (n >= cap || memchr(json_string_value(v), '\0', n)) {
        sw_errf(r->err, r->errlen, "%s%s: %s", path, key, n >= cap ? "too long" : "holds NUL");
        return SW_EINVAL;
    }
    memcpy(out, json_string_value(v), n + 1);
    return SW_OK;
}

static int get_ts(rd *r, const json_t *obj, const char *key, int64_t *ms)
{
    char s[SW_FSE_TS_LEN + 8];
    int rc = get_str(r, obj, "", key, 1, s, sizeof s);
    if (rc != SW_OK)
        return rc;
    if (sw_fse_parse_ts(s, strlen(s), ms) != SW_OK) {
        sw_errf(r->err, r->errlen, "%s: not YYYY-MM-DDTHH:MM:SS.mmmZ", key);
        return SW_EINVAL;
    }
    return SW_OK;
}

static int get_int(rd *r, const json_t *obj, const char *path, const char *key, int required,
                   int64_t min, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required) {
            sw_errf(r->err, r->errlen, "%s%s: missing", path, key);
            return SW_EINVAL;
        }
        return SW_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        sw_errf(r->err, r->errlen, "%s%s: not an integer in %lld..%lld", path, key,
                 (long long)min, (long long)max);
        return SW_EINVAL;
    }
    *out = json_integer_value(v);
    return SW_OK;
}

static int only_members(rd *r, const json_t *obj, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok) {
            sw_errf(r->err, r->errlen, "%s%.64s: unknown member", path, key);
            return SW_EINVAL;
        }
    }
    return SW_OK;
}

#define TRY(x)                                                               \
    do {                                                                     \
        int rc_ = (x);                                                       \
        if (rc_ != SW_OK)                                                    \
            return rc_;                                                      \
    } while (0)

int sw__fse_from_json(const json_t *root, sw_fse *o, char *err, size_t errlen)
{
    static const char *const top[] = {
        "spec", "id", "modified", "producer", "event_type", "fraud_class", "fs_category",
        "indicator", "first_seen", "last_seen", "count", "confidence", "severity", "action",
        "valid_until", "revoked", "tlp", "context", "sig", NULL};
    static const char *const prod_m[] = {"org", "node", "kid", NULL};
    static const char *const ind_m[] = {"kind", "value", "key_id", NULL};
    static const char *const ctx_m[] = {"sip_method", "transport", "dst_cc", "distinct_callees",
                                        NULL};
    rd r = {err, errlen};
    char tmp[SW_FSE_NAME_MAX];
    int64_t n;
    memset(o, 0, sizeof *o);
    if (!json_is_object(root)) {
        sw_errf(err, errlen, "not a JSON object");
        return SW_EINVAL;
    }
    TRY(only_members(&r, root, "", top));
    TRY(get_str(&r, root, "", "spec", 1, tmp, sizeof tmp));
    if (strcmp(tmp, "fse/1") != 0) {
        sw_errf(err, errlen, "spec: not \"fse/1\"");
        return SW_EINVAL;
    }
    TRY(get_str(&r, root, "", "id", 1, o->id, sizeof o->id));
    TRY(get_ts(&r, root, "modified", &o->modified_ms));
    json_t *prod = json_object_get(root, "producer");
    if (!json_is_object(prod)) {
        sw_errf(err, errlen, "producer: %s", prod ? "not an object" : "missing");
        return SW_EINVAL;
    }
    TRY(only_members(&r, prod, "producer.", prod_m));
    TRY(get_str(&r, prod, "producer.", "org", 1, o->org, sizeof o->org));
    TRY(get_str(&r, prod, "producer.", "node", 1, o->node, sizeof o->node));
    TRY(get_str(&r, prod, "producer.", "kid", 0, o->kid, sizeof o->kid));
    TRY(get_str(&r, root, "", "event_type", 1, o->event_type, sizeof o->event_type));
    TRY(get_str(&r, root, "", "fraud_class", 0, o->fraud_class, sizeof o->fraud_class));
    TRY(get_str(&r, root, "", "fs_category", 0, o->fs_category, sizeof o->fs_category));
    json_t *ind = json_object_get(root, "indicator");
    if (!json_is_object(ind)) {
        sw_errf(err, errlen, "indicator: %s", ind ? "not an object" : "missing");
        return SW_EINVAL;
    }
    TRY(only_members(&r, ind, "indicator.", ind_m));
    TRY(get_str(&r, ind, "indicator.", "kind", 1, tmp, sizeof tmp));
    if (sw_fse_kind_lookup(tmp, &o->kind) != SW_OK) {
        sw_errf(err, errlen, "indicator.kind: unknown '%s'", tmp);
        return SW_EINVAL;
    }
    TRY(get_str(&r, ind, "indicator.", "value", 1, o->value, sizeof o->value));
    TRY(get_str(&r, ind, "indicator.", "key_id", 0, o->key_id, sizeof o->key_id));
    TRY(get_ts(&r, root, "first_seen", &o->first_seen_ms));
    TRY(get_ts(&r, root, "last_seen", &o->last_seen_ms));
    TRY(get_int(&r, root, "", "count", 1, 1, SW_FSE_COUNT_MAX, &o->count));
    TRY(get_int(&r, root, "", "confidence", 1, 0, 100, &n));
    o->confidence = (int)n;
    TRY(get_str(&r, root, "", "severity", 1, tmp, sizeof tmp));
    if (sw_fse_severity_lookup(tmp, &o->severity) != SW_OK) {
        sw_errf(err, errlen, "severity: unknown '%s'", tmp);
        return SW_EINVAL;
    }
    TRY(get_str(&r, root, "", "action", 1, tmp, sizeof tmp));
    if (sw_fse_action_lookup(tmp, &o->action) != SW_OK) {
        sw_errf(err, errlen, "action: unknown '%s'", tmp);
        return SW_EINVAL;
    }
    TRY(get_ts(&r, root, "valid_until", &o->valid_until_ms));
    json_t *rv = json_object_get(root, "revoked");
    if (rv && !json_is_boolean(rv)) {
        sw_errf(err, errlen, "revoked: not a boolean");
        return SW_EINVAL;
    }
    o->revoked = rv && json_is_true(rv);
    TRY(get_str(&r, root, "", "tlp", 1, tmp, sizeof tmp));
    if (sw_fse_tlp_lookup(tmp, &o->tlp) != SW_OK) {
        sw_errf(err, errlen, "tlp: unknown '%s'", tmp);
        return SW_EINVAL;
    }
    json_t *ctx = json_object_get(root, "context");
    if (ctx) {
        if (!json_is_object(ctx)) {
            sw_errf(err, errlen, "context: not an object");
            return SW_EINVAL;
        }
        TRY(only_members(&r, ctx, "context.", ctx_m));
        TRY(get_str(&r, ctx, "context.", "sip_method", 0, o->ctx_sip_method,
                    sizeof o->ctx_sip_method));
        TRY(get_str(&r, ctx, "context.", "transport", 0, o->ctx_transport,
                    sizeof o->ctx_transport));
        TRY(get_str(&r, ctx, "context.", "dst_cc", 0, o->ctx_dst_cc, sizeof o->ctx_dst_cc));
        TRY(get_int(&r, ctx, "context.", "distinct_callees", 0, 1, SW_FSE_COUNT_MAX,
                    &o->ctx_distinct_callees));
    }
    TRY(get_str(&r, root, "", "sig", 0, o->sig, sizeof o->sig));
    return sw_fse_validate(o, err, errlen);
}

int sw_fse_decode(const char *buf, size_t len, sw_fse *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > SW_FSE_JSON_MAX) {
        sw_errf(err, errlen, "object larger than %d bytes", SW_FSE_JSON_MAX);
        return SW_ELIMIT;
    }
    json_error_t je;
    json_t *root = json_loadb(buf, len, SW__JSON_STRICT, &je);
    if (!root) {
        sw_errf(err, errlen, "line %d col %d: %s", je.line, je.column, je.text);
        return SW_EINVAL;
    }
    int rc = sw__fse_from_json(root, out, err, errlen);
    json_decref(root);
    if (rc != SW_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int sw_fse_revoke(sw_fse *o, int64_t now_ms)
{
    int64_t m = now_ms > o->modified_ms ? now_ms : o->modified_ms + 1;
    if (m < 0 || m > TS_MAX_MS)
        return SW_ERANGE;
    o->revoked = 1;
    o->modified_ms = m;
    o->sig[0] = '\0';
    return SW_OK;
}
