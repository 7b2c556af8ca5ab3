/* APIBAN replies (https://apiban.org/doc.html) as indicators: the one
 * community SIP-scanner feed, read as a consumer input format.
 *
 * The reply is outside input: size-capped before parsing, duplicate keys
 * refused, only IPv4/IPv6 address strings kept (canonical text), at most
 * the caller's capacity of them. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exchange/xo_int.h"
#include "sipwall/exchange_fmt.h"

#define NS_PER_S 1000000000LL
#define APIBAN_TTL_S (7 * 86400) /* APIBAN lists an address for 7 days */

int sw_apiban_parse(const char *buf, size_t len, int64_t now_ns, uint8_t confidence, sw_xo_ind *out,
                    char (*vals)[64], size_t cap, size_t *skipped, char *cursor, size_t cursor_len,
                    const char **why)
{
    const char *w = NULL;
    *skipped = 0;
    if (cursor_len)
        cursor[0] = '\0';
    if (why)
        *why = NULL;
    if (len > SW_APIBAN_MAX_BYTES) {
        if (why)
            *why = "reply larger than SW_APIBAN_MAX_BYTES";
        return SW_ELIMIT;
    }
    if (!buf) {
        if (why)
            *why = "no reply";
        return SW_EINVAL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *ips = root ? json_object_get(root, "ipaddress") : NULL;
    if (!root)
        w = "not JSON";
    else if (!json_is_object(root))
        w = "not a JSON object";
    else if (!json_is_array(ips))
        w = "no \"ipaddress\" array";
    if (w) {
        json_decref(root);
        if (why)
            *why = w;
        return SW_EINVAL;
    }
    json_t *id = json_object_get(root, "ID");
    if (cursor_len && json_is_string(id)) {
        const char *s = json_string_value(id);
        size_t n = strnlen(s, cursor_len - 1), k = 0;
        for (size_t i = 0; i < n; i++) /* the cursor goes into a URL: keep it plain */
            if ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                s[i] == '-' || s[i] == '_' || s[i] == '.')
                cursor[k++] = s[i];
        cursor[k] = '\0';
    } else if (cursor_len && json_is_integer(id)) {
        snprintf(cursor, cursor_len, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    }

    size_t n = 0, i;
    json_t *e;
    json_array_foreach(ips, i, e) {
        const char *s = json_string_value(e);
        unsigned char a[16];
        int fam = 0;
        if (s && json_string_length(e) < 64 && !strchr(s, '%')) {
            if (inet_pton(AF_INET, s, a) == 1)
                fam = AF_INET;
            else if (inet_pton(AF_INET6, s, a) == 1)
                fam = AF_INET6;
        }
        if (!fam || n == cap) {
            (*skipped)++;
            continue;
        }
        if (!inet_ntop(fam, a, vals[n], 64)) {
            (*skipped)++;
            continue;
        }
        sw_xo_ind *x = &out[n];
        memset(x, 0, sizeof *x);
        x->event_type = "sip_scan";
        x->kind = fam == AF_INET ? "ipv4" : "ipv6";
        x->value = vals[n];
        /* the FSE id of producer "apiban": the same address is the same
         * object on every poll, and the same as sw_apiban_parse_fse's */
        if (sw_fse_make_id(SW_APIBAN_ORG, fam == AF_INET ? SW_FSE_KIND_IPV4 : SW_FSE_KIND_IPV6, vals[n],
                           "sip_scan", x->id) != SW_OK) {
            (*skipped)++;
            continue;
        }
        x->severity = "medium";
        x->action = "block";
        x->tlp = "CLEAR";
        x->first_seen_ns = x->last_seen_ns = x->modified_ns = now_ns;
        x->valid_until_ns = now_ns + APIBAN_TTL_S * NS_PER_S;
        x->count = 1;
        x->confidence = confidence > 100 ? 100 : confidence;
        n++;
    }
    json_decref(root);
    return (int)n;
}

int sw_apiban_parse_fse(const char *buf, size_t len, int64_t now_ms, uint8_t confidence, sw_fse *out,
                        size_t cap, size_t *skipped, char *cursor, size_t cursor_len, const char **why)
{
    enum { CHUNK = 64 };
    sw_xo_ind ind[CHUNK];
    char vals[CHUNK][64];
    char node[SW_FSE_UUID_LEN], ns[SW_FSE_UUID_LEN];
    if (cap > CHUNK * 1024)
        cap = CHUNK * 1024;
    /* One parse per CHUNK would re-read the reply; instead parse once into
     * a heap array of the caller's capacity. */
    sw_xo_ind *iv = cap > CHUNK ? calloc(cap, sizeof *iv) : ind;
    char(*vv)[64] = cap > CHUNK ? calloc(cap, sizeof *vv) : vals;
    if (!iv || !vv) {
        if (iv != ind)
            free(iv);
        if (vv != vals)
            free(vv);
        if (why)
            *why = "out of memory";
        *skipped = 0;
        return SW_ENOMEM;
    }
    int n = sw_apiban_parse(buf, len, now_ms * 1000000, confidence, iv, vv, cap, skipped, cursor, cursor_len, why);
    if (n > 0 && (sw_fse_producer_ns(SW_APIBAN_ORG, ns) != SW_OK || sw_uuid5(ns, "node|apiban", 11, node) != SW_OK))
        n = SW_ENOMEM;
    for (int i = 0; i < n; i++) {
        sw_fse *o = &out[i];
        memset(o, 0, sizeof *o);
        memcpy(o->id, iv[i].id, sizeof o->id);
        snprintf(o->org, sizeof o->org, "%s", SW_APIBAN_ORG);
        memcpy(o->node, node, sizeof o->node);
        snprintf(o->event_type, sizeof o->event_type, "sip_scan");
        o->kind = strcmp(iv[i].kind, "ipv4") == 0 ? SW_FSE_KIND_IPV4 : SW_FSE_KIND_IPV6;
        snprintf(o->value, sizeof o->value, "%.*s", (int)sizeof o->value - 1, vv[i]);
        o->first_seen_ms = o->last_seen_ms = o->modified_ms = now_ms;
        o->valid_until_ms = now_ms + APIBAN_TTL_S * 1000LL;
        o->count = 1;
        o->confidence = iv[i].confidence;
        o->severity = SW_FSE_SEV_MEDIUM;
        o->action = SW_FSE_ACT_BLOCK;
        o->tlp = SW_FSE_TLP_CLEAR;
    }
    if (iv != ind)
        free(iv);
    if (vv != vals)
        free(vv);
    return n;
}
