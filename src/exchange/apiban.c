/* APIBAN replies (https://apiban.org/doc.html) as indicators: the one
 * community SIP-scanner feed, read as a consumer input format.
 *
 * The reply is outside input: size-capped before parsing, duplicate keys
 * refused, only IPv4/IPv6 address strings kept (canonical text), at most
 * the caller's capacity of them. */
#include <arpa/inet.h>
#include <inttypes.h>
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

    uint8_t ns[16];
    sw_xo_producer_ns(&(sw_xo_producer){.org = "apiban"}, ns);
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
        char name[128];
        int k = snprintf(name, sizeof name, "%s|%s|sip_scan", x->kind, vals[n]);
        if (sw_xo_uuid5(ns, name, (size_t)k, x->id) != SW_OK) {
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
