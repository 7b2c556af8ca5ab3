/* Exchange formats: indicator checks, UUIDv5, producer ids. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "exchange/xo_int.h"
#include "sipwall/exchange_fmt.h"

/* The sipwall root namespace for UUIDv5 names we derive (producer
 * identities, FSE namespaces, sightings, MISP events).  Random, fixed
 * forever: changing it changes every id we ever published. */
const uint8_t sw__xo_root_ns[16] = {0x5b, 0x0e, 0x1c, 0x7a, 0x3f, 0x55, 0x4d, 0x9e,
                                    0xa0, 0xc2, 0x8e, 0x7d, 0x3b, 0x6f, 0x1a, 0x90};

int sw_xo_uuid5(const uint8_t ns[16], const void *name, size_t len, char out[SW_XO_UUID_LEN])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 && EVP_DigestUpdate(c, ns, 16) == 1 &&
             EVP_DigestUpdate(c, name, len) == 1 && EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen >= 16;
    EVP_MD_CTX_free(c);
    if (!ok)
        return SW_ENOMEM;
    md[6] = (uint8_t)((md[6] & 0x0f) | 0x50); /* version 5 */
    md[8] = (uint8_t)((md[8] & 0x3f) | 0x80); /* RFC 9562 variant */
    snprintf(out, SW_XO_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0], md[1],
             md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13],
             md[14], md[15]);
    return SW_OK;
}

int sw_xo_uuid_parse(const char *t, uint8_t out[16])
{
    size_t j = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (t[i] != '-')
                return SW_EINVAL;
            continue;
        }
        int h = sw_hexval(t[i]), l;
        if (h < 0 || (l = sw_hexval(t[++i])) < 0)
            return SW_EINVAL;
        out[j++] = (uint8_t)(h << 4 | l);
    }
    return t[36] == '\0' ? SW_OK : SW_EINVAL;
}

void sw_xo_identity_id(const sw_xo_producer *p, char out[64])
{
    char name[160], u[SW_XO_UUID_LEN];
    int n = snprintf(name, sizeof name, "identity|%s", p->org);
    if (n < 0 || (size_t)n >= sizeof name)
        n = (int)sizeof name - 1;
    if (sw_xo_uuid5(sw__xo_root_ns, name, (size_t)n, u) != SW_OK)
        strcpy(u, "00000000-0000-5000-8000-000000000000");
    snprintf(out, 64, "identity--%s", u);
}

static int in_list(const char *s, const char *const *list)
{
    if (!s)
        return 0;
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static const char *const kinds[] = {"ipv4",      "ipv6",      "cidr",    "e164",
                                    "e164_prefix", "e164_hmac", "imsi_hmac", "imei_hmac",
                                    "sip_uri",   "user_agent", "trunk",   NULL};
static const char *const severities[] = {"low", "medium", "high", "critical", NULL};
static const char *const actions[] = {"monitor", "alert", "rate_limit", "block", "divert", NULL};
static const char *const tlps[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED", NULL};

/* Lower-case snake names (the FSE enums), 1..64 bytes. */
static int is_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64 || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* '+' then 1..15 digits (E.164 at most 15 digits; a prefix may be short). */
static int is_e164(const char *s, size_t min_digits)
{
    size_t n = strlen(s);
    if (n < 1 + min_digits || n > 16 || s[0] != '+')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int is_cidr(const char *s)
{
    const char *slash = strchr(s, '/');
    char ip[64];
    unsigned char buf[16];
    if (!slash || (size_t)(slash - s) >= sizeof ip || !slash[1] || strlen(slash + 1) > 3)
        return 0;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    int v6 = strchr(ip, ':') != NULL, bits = 0;
    for (const char *p = slash + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        bits = bits * 10 + (*p - '0');
    }
    if (bits > (v6 ? 128 : 32))
        return 0;
    return inet_pton(v6 ? AF_INET6 : AF_INET, ip, buf) == 1;
}

int sw__xo_valid_utf8_text(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned min, cp;
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

int sw_xo_ind_check(const sw_xo_ind *x, const char **why)
{
    const char *w = NULL;
    uint8_t u[16];
    unsigned char buf[16];
    if (sw_xo_uuid_parse(x->id, u) != SW_OK)
        w = "id is not a UUID";
    else if (!is_name(x->event_type))
        w = "event_type is not a name";
    else if (x->fraud_class && !is_name(x->fraud_class))
        w = "fraud_class is not a name";
    else if (x->fs_category && !is_name(x->fs_category))
        w = "fs_category is not a name";
    else if (!in_list(x->kind, kinds))
        w = "unknown indicator kind";
    else if (!in_list(x->severity, severities))
        w = "unknown severity";
    else if (!in_list(x->action, actions))
        w = "unknown action";
    else if (!in_list(x->tlp, tlps))
        w = "unknown TLP";
    else if (!x->value || !x->value[0] || strlen(x->value) > SW_XO_VALUE_MAX)
        w = "value empty or too long";
    else if (!sw__xo_valid_utf8_text(x->value, strlen(x->value)))
        w = "value is not printable UTF-8";
    else if (x->count < 1 || x->count > 999999999u)
        w = "count out of 1..999999999";
    else if (x->confidence > 100)
        w = "confidence above 100";
    else if (x->last_seen_ns < x->first_seen_ns)
        w = "last_seen before first_seen";
    else if (x->valid_until_ns <= x->first_seen_ns)
        w = "valid_until not after first_seen";
    else if (x->sig && !sw__xo_valid_utf8_text(x->sig, strlen(x->sig)))
        w = "sig is not printable";
    if (!w) {
        const char *k = x->kind, *v = x->value;
        if (strcmp(k, "ipv4") == 0 && inet_pton(AF_INET, v, buf) != 1)
            w = "ipv4 value is not an IPv4 address";
        else if (strcmp(k, "ipv6") == 0 && inet_pton(AF_INET6, v, buf) != 1)
            w = "ipv6 value is not an IPv6 address";
        else if (strcmp(k, "cidr") == 0 && !is_cidr(v))
            w = "cidr value is not a CIDR block";
        else if (strcmp(k, "e164") == 0 && !is_e164(v, 6))
            w = "e164 value is not +digits";
        else if (strcmp(k, "e164_prefix") == 0 && !is_e164(v, 1))
            w = "e164_prefix value is not +digits";
        else if (strstr(k, "_hmac")) {
            size_t n = strlen(v);
            if (n != 64)
                w = "HMAC value is not 64 hex digits";
            for (size_t i = 0; !w && i < n; i++)
                if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
                    w = "HMAC value is not lower-case hex";
            if (!w && (!x->hmac_key_id || !x->hmac_key_id[0] || strlen(x->hmac_key_id) > 64 ||
                       !sw__xo_valid_utf8_text(x->hmac_key_id, strlen(x->hmac_key_id))))
                w = "HMAC indicator without a key id";
        } else if (x->hmac_key_id) {
            /* it would be rendered, so it is checked: only HMAC kinds have one */
            w = "key id on an indicator that is not an HMAC";
        }
    }
    if (why)
        *why = w;
    return w ? SW_EINVAL : SW_OK;
}

void sw__xo_ts(int64_t ns, char buf[SW_EVENT_TS_LEN])
{
    if (sw_event_format_ts(ns, buf, SW_EVENT_TS_LEN) < 0)
        strcpy(buf, "1970-01-01T00:00:00.000Z");
}
