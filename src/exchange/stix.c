/* STIX 2.1 bundles of indicators (docs/exchange.md, "STIX 2.1").
 *
 * Built as a jansson tree (insertion order is kept, so the output is
 * deterministic) and dumped compact.  Every id is derived: the indicator's
 * from the FSE id, everything else by UUIDv5 in the sipwall namespace, so
 * a second export of the same indicators is byte-identical and consumers
 * dedup on id + modified. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exchange/xo_int.h"
#include "sipwall/exchange_fmt.h"

/* TLP 2.0 (FIRST, 2022): the marking-definition ids published with the
 * extension-definition in oasis-open/cti-stix-common-objects. */
#define TLP2_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
static const struct {
    const char *fse, *name, *value, *id;
} tlp2[] = {
    {"CLEAR", "TLP:CLEAR", "clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
    {"GREEN", "TLP:GREEN", "green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
    {"AMBER", "TLP:AMBER", "amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
    {"AMBER+STRICT", "TLP:AMBER+STRICT", "amber+strict",
     "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
    {"RED", "TLP:RED", "red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
};
#define NTLP (sizeof tlp2 / sizeof tlp2[0])

/* TLP 1.0, the markings built into STIX 2.1 (§7.2.1.4), for consumers that
 * do not know TLP 2.0.  Same order as tlp2: CLEAR is WHITE, and
 * AMBER+STRICT, which TLP 1.0 cannot say, becomes RED (never looser). */
static const struct {
    const char *name, *value, *id;
} tlp1[] = {
    {"TLP:WHITE", "white", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
    {"TLP:GREEN", "green", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
    {"TLP:AMBER", "amber", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
    {"TLP:RED", "red", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
    {"TLP:RED", "red", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
};
_Static_assert(sizeof tlp1 / sizeof tlp1[0] == NTLP, "one TLP 1.0 marking per TLP 2.0 level");

/* Our property-extension: fixed (random, version 4) ids, defined by the sipwall project's
 * identity (not by the producer: every producer uses the same extension). */
#define FSE_EXT_ID "extension-definition--2b8a5f0e-7c1d-4e4a-9f3b-6d0c8e1a4b72"
#define PROJECT_IDENTITY "identity--8d5e3c1a-4f2b-4a6e-b7c9-0e1d2f3a4b5c"
#define FIXED_TS "2026-01-01T00:00:00.000Z"

static int tlp_index(const char *tlp)
{
    for (size_t i = 0; tlp && i < NTLP; i++)
        if (strcmp(tlp, tlp2[i].fse) == 0)
            return (int)i;
    return -1;
}

const char *sw_stix_tlp_id(const char *tlp)
{
    int i = tlp_index(tlp);
    return i < 0 ? NULL : tlp2[i].id;
}

static const char *marking_id(const char *tlp, int v1)
{
    int i = tlp_index(tlp);
    return i < 0 ? NULL : v1 ? tlp1[i].id : tlp2[i].id;
}

/* Appends s to buf at *o escaping ' and \ as STIX pattern strings need. */
static int put_quoted(char *buf, size_t len, size_t *o, const char *s)
{
    if (*o + 1 >= len)
        return SW_ELIMIT;
    buf[(*o)++] = '\'';
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\') {
            if (*o + 1 >= len)
                return SW_ELIMIT;
            buf[(*o)++] = '\\';
        }
        if (*o + 1 >= len)
            return SW_ELIMIT;
        buf[(*o)++] = *s;
    }
    if (*o + 1 >= len)
        return SW_ELIMIT;
    buf[(*o)++] = '\'';
    buf[*o] = '\0';
    return SW_OK;
}

static int put_raw(char *buf, size_t len, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n >= len)
        return SW_ELIMIT;
    memcpy(buf + *o, s, n + 1);
    *o += n;
    return SW_OK;
}

int sw_stix_pattern(const sw_xo_ind *x, char *buf, size_t len)
{
    const char *k = x->kind, *v = x->value, *obj, *op = " = ", *suffix = "";
    size_t o = 0;
    int r;
    if (len == 0)
        return SW_ELIMIT;
    buf[0] = '\0';
    if (!k || !v)
        return SW_EINVAL;
    if (strcmp(k, "ipv4") == 0) {
        obj = "ipv4-addr:value";
    } else if (strcmp(k, "ipv6") == 0) {
        obj = "ipv6-addr:value";
    } else if (strcmp(k, "cidr") == 0) {
        obj = strchr(v, ':') ? "ipv6-addr:value" : "ipv4-addr:value";
        op = " ISSUBSET ";
    } else if (strcmp(k, "e164") == 0) {
        obj = "phone-number:value";
    } else if (strcmp(k, "e164_prefix") == 0) {
        obj = "phone-number:value";
        op = " LIKE ";
        suffix = "%";
    } else if (strcmp(k, "sip_uri") == 0) {
        obj = "url:value";
    } else if (strcmp(k, "user_agent") == 0) {
        obj = "user-agent:value";
    } else if (strcmp(k, "trunk") == 0) {
        obj = "x-sipwall-trunk:value";
    } else if (strcmp(k, "e164_hmac") == 0 || strcmp(k, "imsi_hmac") == 0 ||
               strcmp(k, "imei_hmac") == 0) {
        /* A keyed hash matches only for holders of the trust group's key:
         * the key id and what was hashed travel in the same observation. */
        char idt[8];
        size_t n = (size_t)(strchr(k, '_') - k);
        memcpy(idt, k, n);
        idt[n] = '\0';
        if ((r = put_raw(buf, len, &o, "[x-sipwall-hashed-id:value = ")) < 0 ||
            (r = put_quoted(buf, len, &o, v)) < 0 ||
            (r = put_raw(buf, len, &o, " AND x-sipwall-hashed-id:key_id = ")) < 0 ||
            (r = put_quoted(buf, len, &o, x->hmac_key_id ? x->hmac_key_id : "")) < 0 ||
            (r = put_raw(buf, len, &o, " AND x-sipwall-hashed-id:id_type = ")) < 0 ||
            (r = put_quoted(buf, len, &o, idt)) < 0 || (r = put_raw(buf, len, &o, "]")) < 0)
            return r;
        return (int)o;
    } else {
        return SW_EINVAL;
    }
    char val[SW_XO_VALUE_MAX + 2];
    if (strlen(v) > SW_XO_VALUE_MAX)
        return SW_ELIMIT;
    snprintf(val, sizeof val, "%s%s", v, suffix);
    if ((r = put_raw(buf, len, &o, "[")) < 0 || (r = put_raw(buf, len, &o, obj)) < 0 ||
        (r = put_raw(buf, len, &o, op)) < 0 || (r = put_quoted(buf, len, &o, val)) < 0 ||
        (r = put_raw(buf, len, &o, "]")) < 0)
        return r;
    return (int)o;
}

/* json_object_set_new that remembers a failure in *bad. */
static void set(json_t *o, const char *k, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, k, v) != 0)
        *bad = 1;
}

static void set_s(json_t *o, const char *k, const char *v, int *bad) { set(o, k, json_string(v), bad); }

static json_t *str_array1(const char *s)
{
    json_t *a = json_array();
    if (a && json_array_append_new(a, json_string(s)) != 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *sdo(const char *type, const char *id, const char *created, const char *modified, int *bad)
{
    json_t *o = json_object();
    if (!o) {
        *bad = 1;
        return NULL;
    }
    set_s(o, "type", type, bad);
    set_s(o, "spec_version", "2.1", bad);
    set_s(o, "id", id, bad);
    if (created)
        set_s(o, "created", created, bad);
    if (modified)
        set_s(o, "modified", modified, bad);
    return o;
}

static void push(json_t *arr, json_t *o, int *bad)
{
    if (!o || json_array_append_new(arr, o) != 0)
        *bad = 1;
}

static json_t *identity(const char *id, const char *name, const char *cls, int *bad)
{
    json_t *o = sdo("identity", id, FIXED_TS, FIXED_TS, bad);
    if (o) {
        set_s(o, "name", name, bad);
        set_s(o, "identity_class", cls, bad);
        set(o, "sectors", str_array1("telecommunications"), bad);
    }
    return o;
}

static json_t *marking(size_t i, int *bad)
{
    json_t *o = sdo("marking-definition", tlp2[i].id, "2022-10-01T00:00:00.000Z", NULL, bad);
    json_t *ext = json_object(), *e = json_object();
    if (!o || !ext || !e) {
        json_decref(ext);
        json_decref(e);
        *bad = 1;
        return o;
    }
    set_s(o, "name", tlp2[i].name, bad);
    set_s(e, "extension_type", "property-extension", bad);
    set_s(e, "tlp_2_0", tlp2[i].value, bad);
    set(ext, TLP2_EXT, e, bad);
    set(o, "extensions", ext, bad);
    return o;
}

static json_t *marking_v1(size_t i, int *bad)
{
    json_t *o = sdo("marking-definition", tlp1[i].id, "2017-01-20T00:00:00.000Z", NULL, bad);
    json_t *d = json_object();
    if (!o || !d) {
        json_decref(d);
        *bad = 1;
        return o;
    }
    set_s(o, "definition_type", "tlp", bad);
    set_s(o, "name", tlp1[i].name, bad);
    set_s(d, "tlp", tlp1[i].value, bad);
    set(o, "definition", d, bad);
    return o;
}

static json_t *extension_def(int *bad)
{
    json_t *o = sdo("extension-definition", FSE_EXT_ID, FIXED_TS, FIXED_TS, bad);
    if (o) {
        /* created_by_ref is required here; it goes after the common
         * properties only because jansson keeps insertion order. */
        set_s(o, "created_by_ref", PROJECT_IDENTITY, bad);
        set_s(o, "name", "telco-fse", bad);
        set_s(o, "description",
              "Telecom fraud and security event semantics of sipwall FSE v1: event_type, "
              "fraud_class, fs_category, action, severity, indicator_kind, hmac_key_id, sig",
              bad);
        set_s(o, "schema", "https://github.com/sipwall/sipwall/blob/main/docs/exchange.md#telco-fse", bad);
        set_s(o, "version", "1.0.0", bad);
        set(o, "extension_types", str_array1("property-extension"), bad);
    }
    return o;
}

static json_t *indicator(const sw_xo_ind *x, const char *ident, int v1, int *bad)
{
    char id[64], created[SW_EVENT_TS_LEN], modified[SW_EVENT_TS_LEN], until[SW_EVENT_TS_LEN];
    char pattern[3 * SW_XO_VALUE_MAX + 256], name[SW_XO_VALUE_MAX + 96], label[96];
    int64_t mod = x->modified_ns > x->first_seen_ns ? x->modified_ns : x->first_seen_ns;
    snprintf(id, sizeof id, "indicator--%s", x->id);
    sw__xo_ts(x->first_seen_ns, created);
    sw__xo_ts(mod, modified);
    sw__xo_ts(x->valid_until_ns, until);
    if (sw_stix_pattern(x, pattern, sizeof pattern) < 0) {
        *bad = 1;
        return NULL;
    }
    json_t *o = sdo("indicator", id, created, modified, bad);
    if (!o)
        return NULL;
    set_s(o, "created_by_ref", ident, bad);
    snprintf(name, sizeof name, "%s %s %s", x->event_type, x->kind, x->value);
    set_s(o, "name", name, bad);
    int malicious = strcmp(x->action, "block") == 0 || strcmp(x->action, "divert") == 0 ||
                    strcmp(x->action, "rate_limit") == 0;
    set(o, "indicator_types", str_array1(malicious ? "malicious-activity" : "anomalous-activity"), bad);
    set_s(o, "pattern", pattern, bad);
    set_s(o, "pattern_type", "stix", bad);
    set_s(o, "pattern_version", "2.1", bad);
    set_s(o, "valid_from", created, bad);
    set_s(o, "valid_until", until, bad);
    set(o, "confidence", json_integer(x->confidence), bad);
    json_t *labels = json_array();
    snprintf(label, sizeof label, "sipwall:%s", x->event_type);
    if (!labels || json_array_append_new(labels, json_string(label)) != 0)
        *bad = 1;
    if (labels && x->fraud_class) {
        snprintf(label, sizeof label, "fraud:%s", x->fraud_class);
        if (json_array_append_new(labels, json_string(label)) != 0)
            *bad = 1;
    }
    set(o, "labels", labels, bad);
    if (x->revoked)
        set(o, "revoked", json_true(), bad);
    set(o, "object_marking_refs", str_array1(marking_id(x->tlp, v1)), bad);
    json_t *ext = json_object(), *e = json_object();
    if (!ext || !e) {
        json_decref(ext);
        json_decref(e);
        *bad = 1;
        return o;
    }
    set_s(e, "extension_type", "property-extension", bad);
    set_s(e, "event_type", x->event_type, bad);
    if (x->fraud_class)
        set_s(e, "fraud_class", x->fraud_class, bad);
    if (x->fs_category)
        set_s(e, "fs_category", x->fs_category, bad);
    set_s(e, "action", x->action, bad);
    set_s(e, "severity", x->severity, bad);
    set_s(e, "indicator_kind", x->kind, bad);
    if (x->hmac_key_id)
        set_s(e, "hmac_key_id", x->hmac_key_id, bad);
    if (x->sig && x->sig[0])
        set_s(e, "sig", x->sig, bad);
    set(ext, FSE_EXT_ID, e, bad);
    set(o, "extensions", ext, bad);
    return o;
}

static json_t *sighting(const sw_xo_ind *x, const char *ident, int v1, int *bad)
{
    char id[64], u[SW_XO_UUID_LEN], name[96], ind[64];
    char created[SW_EVENT_TS_LEN], modified[SW_EVENT_TS_LEN], first[SW_EVENT_TS_LEN], last[SW_EVENT_TS_LEN];
    int n = snprintf(name, sizeof name, "sighting|%s", x->id);
    if (sw_xo_uuid5(sw__xo_root_ns, name, (size_t)n, u) != SW_OK) {
        *bad = 1;
        return NULL;
    }
    int64_t mod = x->modified_ns > x->last_seen_ns ? x->modified_ns : x->last_seen_ns;
    snprintf(id, sizeof id, "sighting--%s", u);
    snprintf(ind, sizeof ind, "indicator--%s", x->id);
    sw__xo_ts(x->first_seen_ns, created);
    sw__xo_ts(mod, modified);
    sw__xo_ts(x->first_seen_ns, first);
    sw__xo_ts(x->last_seen_ns, last);
    json_t *o = sdo("sighting", id, created, modified, bad);
    if (!o)
        return NULL;
    set_s(o, "created_by_ref", ident, bad);
    set_s(o, "first_seen", first, bad);
    set_s(o, "last_seen", last, bad);
    set(o, "count", json_integer(x->count), bad);
    set_s(o, "sighting_of_ref", ind, bad);
    set(o, "where_sighted_refs", str_array1(ident), bad);
    set(o, "object_marking_refs", str_array1(marking_id(x->tlp, v1)), bad);
    return o;
}

char *sw_stix_bundle(const sw_xo_producer *p, const sw_xo_ind *v, size_t n, size_t *len,
                     const char **why, size_t *badidx)
{
    char ident[64], pname[200], bid[64], u[SW_XO_UUID_LEN];
    int bad = 0, used[NTLP] = {0};
    *len = 0;
    *why = NULL;
    if (!p->org || !p->org[0] || strlen(p->org) > 64 || !sw__xo_valid_utf8_text(p->org, strlen(p->org))) {
        *why = "producer org missing or not printable";
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (sw_xo_ind_check(&v[i], why) != SW_OK) {
            if (badidx)
                *badidx = i;
            return NULL;
        }
        for (size_t t = 0; t < NTLP; t++)
            used[t] |= strcmp(v[i].tlp, tlp2[t].fse) == 0;
    }
    if (p->name && (!p->name[0] || strlen(p->name) > 190 || !sw__xo_valid_utf8_text(p->name, strlen(p->name)))) {
        *why = "producer name not printable";
        return NULL;
    }
    sw_xo_identity_id(p, ident);
    snprintf(pname, sizeof pname, "%s", p->name ? p->name : "");
    if (!p->name)
        snprintf(pname, sizeof pname, "sipwall %s", p->org);

    /* The bundle id: UUIDv5 over the ids and versions it carries. */
    {
        size_t cap = 64 + n * (SW_XO_UUID_LEN + SW_EVENT_TS_LEN + 2), o = 0;
        char *nm = malloc(cap), ts[SW_EVENT_TS_LEN];
        if (!nm) {
            *why = "out of memory";
            return NULL;
        }
        o += (size_t)snprintf(nm, cap, "bundle|%s", p->org);
        for (size_t i = 0; i < n && o < cap; i++) {
            sw__xo_ts(v[i].modified_ns, ts);
            o += (size_t)snprintf(nm + o, cap - o, "|%s@%s%s", v[i].id, ts, v[i].revoked ? "R" : "");
        }
        int r = sw_xo_uuid5(sw__xo_root_ns, nm, o < cap ? o : cap - 1, u);
        free(nm);
        if (r != SW_OK) {
            *why = "out of memory";
            return NULL;
        }
    }
    snprintf(bid, sizeof bid, "bundle--%s", u);

    json_t *b = json_object(), *objs = json_array();
    if (!b || !objs) {
        json_decref(b);
        json_decref(objs);
        *why = "out of memory";
        return NULL;
    }
    set_s(b, "type", "bundle", &bad);
    set_s(b, "id", bid, &bad);
    push(objs, identity(ident, pname, "organization", &bad), &bad);
    push(objs, identity(PROJECT_IDENTITY, "sipwall project", "organization", &bad), &bad);
    for (size_t t = 0; t < NTLP; t++) {
        if (!used[t])
            continue;
        if (!p->tlp1)
            push(objs, marking(t, &bad), &bad);
        else if (t != NTLP - 1 || !used[t - 1]) /* AMBER+STRICT and RED share RED */
            push(objs, marking_v1(t, &bad), &bad);
    }
    push(objs, extension_def(&bad), &bad);
    for (size_t i = 0; i < n && !bad; i++) {
        push(objs, indicator(&v[i], ident, p->tlp1, &bad), &bad);
        if (!v[i].revoked)
            push(objs, sighting(&v[i], ident, p->tlp1, &bad), &bad);
    }
    set(b, "objects", objs, &bad);
    char *out = bad ? NULL : json_dumps(b, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(b);
    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    *len = strlen(out);
    return out;
}
