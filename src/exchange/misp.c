/* MISP feed directory (docs/exchange.md, "MISP feed").
 *
 * The layout MISP's feed fetcher and PyMISP read: <uuid>.json per event
 * ({"Event": {...}}), manifest.json (event uuid -> summary), hashes.csv
 * (md5(value),event_uuid per attribute).  Events group indicators by UTC
 * day of last_seen and event_type; their uuid is UUIDv5 of producer, day
 * and type, so a re-export replaces the same files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "exchange/xo_int.h"
#include "sipwall/exchange_fmt.h"

#define NS_PER_S 1000000000LL

typedef struct misp_map {
    const char *type, *category;
    int to_ids;
} misp_map;

/* Types and categories valid per MISP's describeTypes.json
 * (category_type_mappings); to_ids only for what a sensor can match. */
static misp_map map_kind(const sw_xo_ind *x)
{
    const char *k = x->kind;
    int irsf = strncmp(x->event_type, "irsf", 4) == 0;
    if (!strcmp(k, "ipv4") || !strcmp(k, "ipv6") || !strcmp(k, "cidr"))
        return (misp_map){"ip-src", "Network activity", 1};
    if (!strcmp(k, "e164") || !strcmp(k, "e164_prefix"))
        return irsf ? (misp_map){"prtn", "Financial fraud", 1}
                    : (misp_map){"phone-number", "Financial fraud", 1};
    if (!strcmp(k, "user_agent"))
        return (misp_map){"user-agent", "Network activity", 1};
    if (!strcmp(k, "sip_uri"))
        return (misp_map){"uri", "Network activity", 1};
    return (misp_map){"text", "Other", 0};
}

static void day_of(int64_t ns, char out[11], time_t *midnight)
{
    time_t t = (time_t)(ns / NS_PER_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    if (midnight)
        *midnight = t - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
}

/* MISP's first_seen/last_seen form: microseconds and an offset. */
static void misp_ts(int64_t ns, char *out, size_t len)
{
    time_t t = (time_t)(ns / NS_PER_S);
    struct tm tm;
    char base[32];
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%06lld+00:00", base, (long long)((ns % NS_PER_S) / 1000));
}

static int md5_hex(const char *s, char out[33])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL) != 1 || n != 16)
        return SW_ENOMEM;
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return SW_OK;
}

/* Writes text to dir/name through dir/.name.tmp and rename(2). */
static int write_file(const char *dir, const char *name, const char *text, size_t len, char *err,
                      size_t errlen)
{
    char path[4096], tmp[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= sizeof tmp) {
        snprintf(err, errlen, "path too long: %s/%s", dir, name);
        return SW_EINVAL;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return SW_EIO;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "%s: %s", tmp, w < 0 ? strerror(errno) : "short write");
            close(fd);
            unlink(tmp);
            return SW_EIO;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return SW_EIO;
    }
    return SW_OK;
}

typedef struct misp_ev {
    char uuid[SW_XO_UUID_LEN];
    char day[11];
    const char *event_type;
    const char *tlp;    /* the strictest TLP of its attributes */
    int64_t max_mod_ns; /* timestamp = newest attribute */
    int threat;         /* 1 high .. 4 undefined (MISP threat_level_id) */
    json_t *attrs;
} misp_ev;

static int tlp_rank(const char *t)
{
    static const char *const order[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(t, order[i]))
            return i;
    return 4;
}

static int threat_of(const char *severity)
{
    if (!strcmp(severity, "critical") || !strcmp(severity, "high"))
        return 1;
    return !strcmp(severity, "medium") ? 2 : 3;
}

static void lower_tlp(const char *t, char *out, size_t len)
{
    size_t i = 0;
    for (; t[i] && i + 1 < len; i++)
        out[i] = (char)(t[i] >= 'A' && t[i] <= 'Z' ? t[i] + 32 : t[i]);
    out[i] = '\0';
}

static json_t *tags_of(const misp_ev *e, int *bad)
{
    char tlp[32], tag[128];
    json_t *a = json_array(), *t1 = json_object(), *t2 = json_object();
    lower_tlp(e->tlp, tlp, sizeof tlp);
    snprintf(tag, sizeof tag, "tlp:%s", tlp);
    if (!a || !t1 || !t2 || json_object_set_new(t1, "name", json_string(tag)) ||
        json_array_append_new(a, t1)) {
        json_decref(t2);
        *bad = 1;
        return a;
    }
    snprintf(tag, sizeof tag, "sipwall:event-type=\"%s\"", e->event_type);
    if (json_object_set_new(t2, "name", json_string(tag)) || json_array_append_new(a, t2))
        *bad = 1;
    return a;
}

static json_t *orgc(const sw_xo_producer *p, int *bad)
{
    char ident[64], name[200];
    json_t *o = json_object();
    sw_xo_identity_id(p, ident);
    snprintf(name, sizeof name, "%s", p->name ? p->name : "");
    if (!p->name)
        snprintf(name, sizeof name, "sipwall %s", p->org);
    if (!o || json_object_set_new(o, "name", json_string(name)) ||
        json_object_set_new(o, "uuid", json_string(ident + strlen("identity--"))))
        *bad = 1;
    return o;
}

int sw_misp_feed_write(const char *dir, const sw_xo_producer *p, const sw_xo_ind *v, size_t n,
                       char *err, size_t errlen)
{
    const char *why = NULL;
    int bad = 0, rc = SW_OK;
    if (!p->org || !p->org[0] || strlen(p->org) > 64 || !sw__xo_valid_utf8_text(p->org, strlen(p->org))) {
        snprintf(err, errlen, "producer org missing or not printable");
        return SW_EINVAL;
    }
    if (p->name && (!p->name[0] || strlen(p->name) > 190 || !sw__xo_valid_utf8_text(p->name, strlen(p->name)))) {
        snprintf(err, errlen, "producer name not printable");
        return SW_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (sw_xo_ind_check(&v[i], &why) != SW_OK) {
            snprintf(err, errlen, "indicator %zu: %s", i, why);
            return SW_EINVAL;
        }
    misp_ev *evs = calloc(n ? n : 1, sizeof *evs);
    json_t *manifest = json_object();
    size_t nev = 0, hcap = 64 + n * 72, hlen = 0;
    char *hashes = malloc(hcap);
    if (!evs || !manifest || !hashes) {
        snprintf(err, errlen, "out of memory");
        rc = SW_ENOMEM;
        goto out;
    }
    hashes[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const sw_xo_ind *x = &v[i];
        if (x->revoked)
            continue; /* a feed has no withdrawal: the attribute goes away */
        char day[11], nm[128];
        day_of(x->last_seen_ns, day, NULL);
        misp_ev *e = NULL;
        for (size_t j = 0; j < nev; j++)
            if (!strcmp(evs[j].day, day) && !strcmp(evs[j].event_type, x->event_type))
                e = &evs[j];
        if (!e) {
            e = &evs[nev++];
            memcpy(e->day, day, sizeof day);
            e->event_type = x->event_type;
            e->tlp = x->tlp;
            e->threat = 4;
            int k = snprintf(nm, sizeof nm, "misp-event|%s|%s|%s", p->org, day, x->event_type);
            if (sw_xo_uuid5(sw__xo_root_ns, nm, (size_t)k, e->uuid) != SW_OK || !(e->attrs = json_array())) {
                bad = 1;
                break;
            }
        }
        if (tlp_rank(x->tlp) > tlp_rank(e->tlp))
            e->tlp = x->tlp;
        if (x->modified_ns > e->max_mod_ns)
            e->max_mod_ns = x->modified_ns;
        if (threat_of(x->severity) < e->threat)
            e->threat = threat_of(x->severity);
        misp_map m = map_kind(x);
        char ts[24], fs[48], ls[48], comment[96], h[33];
        snprintf(ts, sizeof ts, "%lld", (long long)(x->modified_ns / NS_PER_S));
        misp_ts(x->first_seen_ns, fs, sizeof fs);
        misp_ts(x->last_seen_ns, ls, sizeof ls);
        snprintf(comment, sizeof comment, "%s %s confidence %u", x->event_type, x->kind, x->confidence);
        json_t *a = json_object();
        if (!a) {
            bad = 1;
            break;
        }
        bad |= json_object_set_new(a, "uuid", json_string(x->id)) != 0;
        bad |= json_object_set_new(a, "type", json_string(m.type)) != 0;
        bad |= json_object_set_new(a, "category", json_string(m.category)) != 0;
        bad |= json_object_set_new(a, "value", json_string(x->value)) != 0;
        bad |= json_object_set_new(a, "to_ids", json_boolean(m.to_ids)) != 0;
        bad |= json_object_set_new(a, "comment", json_string(comment)) != 0;
        bad |= json_object_set_new(a, "timestamp", json_string(ts)) != 0;
        bad |= json_object_set_new(a, "disable_correlation", json_false()) != 0;
        bad |= json_object_set_new(a, "first_seen", json_string(fs)) != 0;
        bad |= json_object_set_new(a, "last_seen", json_string(ls)) != 0;
        bad |= json_array_append_new(e->attrs, a) != 0;
        if (md5_hex(x->value, h) != SW_OK) {
            bad = 1;
            break;
        }
        hlen += (size_t)snprintf(hashes + hlen, hcap - hlen, "%s,%s\n", h, e->uuid);
    }
    for (size_t j = 0; j < nev && !bad; j++) {
        misp_ev *e = &evs[j];
        char ts[24], info[200], file[64];
        snprintf(ts, sizeof ts, "%lld", (long long)(e->max_mod_ns / NS_PER_S));
        snprintf(info, sizeof info, "sipwall %s %s %s", p->org, e->event_type, e->day);
        char threat[2] = {(char)('0' + e->threat), 0};
        json_t *ev = json_object(), *m = json_object(), *wrap = json_object();
        if (!ev || !m || !wrap) {
            json_decref(ev);
            json_decref(m);
            json_decref(wrap);
            bad = 1;
            break;
        }
        bad |= json_object_set_new(ev, "uuid", json_string(e->uuid)) != 0;
        bad |= json_object_set_new(ev, "info", json_string(info)) != 0;
        bad |= json_object_set_new(ev, "date", json_string(e->day)) != 0;
        bad |= json_object_set_new(ev, "threat_level_id", json_string(threat)) != 0;
        bad |= json_object_set_new(ev, "analysis", json_string("2")) != 0;
        bad |= json_object_set_new(ev, "published", json_true()) != 0;
        bad |= json_object_set_new(ev, "timestamp", json_string(ts)) != 0;
        bad |= json_object_set_new(ev, "publish_timestamp", json_string(ts)) != 0;
        bad |= json_object_set_new(ev, "Orgc", orgc(p, &bad)) != 0;
        bad |= json_object_set_new(ev, "Tag", tags_of(e, &bad)) != 0;
        bad |= json_object_set_new(ev, "Attribute", e->attrs) != 0;
        e->attrs = NULL;
        bad |= json_object_set_new(wrap, "Event", ev) != 0;

        bad |= json_object_set_new(m, "Orgc", orgc(p, &bad)) != 0;
        bad |= json_object_set_new(m, "Tag", tags_of(e, &bad)) != 0;
        bad |= json_object_set_new(m, "info", json_string(info)) != 0;
        bad |= json_object_set_new(m, "date", json_string(e->day)) != 0;
        bad |= json_object_set_new(m, "analysis", json_string("2")) != 0;
        bad |= json_object_set_new(m, "threat_level_id", json_string(threat)) != 0;
        bad |= json_object_set_new(m, "timestamp", json_string(ts)) != 0;
        bad |= json_object_set_new(manifest, e->uuid, m) != 0;

        char *text = bad ? NULL : json_dumps(wrap, JSON_INDENT(1) | JSON_ENSURE_ASCII);
        json_decref(wrap);
        if (!text) {
            bad = 1;
            break;
        }
        snprintf(file, sizeof file, "%s.json", e->uuid);
        rc = write_file(dir, file, text, strlen(text), err, errlen);
        free(text);
        if (rc != SW_OK)
            goto out;
    }
    if (bad) {
        snprintf(err, errlen, "out of memory");
        rc = SW_ENOMEM;
        goto out;
    }
    char *mtext = json_dumps(manifest, JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
    if (!mtext) {
        snprintf(err, errlen, "out of memory");
        rc = SW_ENOMEM;
        goto out;
    }
    rc = write_file(dir, "manifest.json", mtext, strlen(mtext), err, errlen);
    free(mtext);
    if (rc == SW_OK)
        rc = write_file(dir, "hashes.csv", hashes, hlen, err, errlen);
out:
    for (size_t j = 0; evs && j < nev; j++)
        json_decref(evs[j].attrs);
    free(evs);
    free(hashes);
    json_decref(manifest);
    return rc;
}
