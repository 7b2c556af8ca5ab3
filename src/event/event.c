/* The event model: construction, untrusted-byte sanitising and
 * the JSON form shared by every text backend. */
#include "sipwall/event.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "event_int.h"
#include "sipwall/table.h"

void sw_event_init(sw_event *ev, sw_event_type type, sw_category cat, const char *rule)
{
    /* Only the header is cleared: the evidence array is read up to nevidence. */
    memset(ev, 0, offsetof(sw_event, evidence));
    ev->type = type;
    ev->category = cat;
    ev->rule = rule;
    ev->action = SW_ACTION_TAG;
    ev->confidence = 100;
}

void sw_event_ids_init(sw_event_ids *g)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* no kernel randomness (very early boot): the time and where g lives */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = sw_hash64(&ts, sizeof ts, (uint64_t)(uintptr_t)g);
    }
    g->node = r & ((UINT64_C(1) << 42) - 1);
    g->seq = 0;
}

void sw_event_id_next(sw_event_ids *g, int64_t ts_ns, char out[SW_EVENT_ID_LEN])
{
    int64_t ms = ts_ns > 0 ? ts_ns / 1000000 : 0;
    if (ms > (INT64_C(1) << 48) - 1)
        ms = (INT64_C(1) << 48) - 1;
    uint32_t seq = g->seq++;
    /* rand_a (12 bits): the node's top 12; rand_b (62): its other 30, the counter */
    uint64_t hi = ((uint64_t)ms << 16) | (UINT64_C(7) << 12) | ((g->node >> 30) & 0xfff);
    uint64_t lo = (UINT64_C(2) << 62) | ((g->node & ((UINT64_C(1) << 30) - 1)) << 32) | seq;
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 15; i >= 0; i--) {
        *o++ = hex[(hi >> (i * 4)) & 15];
        if (i == 8 || i == 4)
            *o++ = '-';
    }
    *o++ = '-';
    for (int i = 15; i >= 0; i--) {
        *o++ = hex[(lo >> (i * 4)) & 15];
        if (i == 12)
            *o++ = '-';
    }
    *o = '\0';
}

int sw_event_add_num(sw_event *ev, const char *key, int64_t value)
{
    if (ev->nevidence >= SW_EVENT_MAX_EVIDENCE)
        return SW_ELIMIT;
    sw_evidence *e = &ev->evidence[ev->nevidence++];
    e->key = key;
    e->kind = SW_EVIDENCE_NUM;
    e->num = value;
    e->str = SW_STR_NULL;
    return SW_OK;
}

int sw_event_add_str(sw_event *ev, const char *key, sw_str value)
{
    if (ev->nevidence >= SW_EVENT_MAX_EVIDENCE)
        return SW_ELIMIT;
    sw_evidence *e = &ev->evidence[ev->nevidence++];
    e->key = key;
    e->kind = SW_EVIDENCE_STR;
    e->num = 0;
    e->str = value;
    return SW_OK;
}

int sw_event_format_ts(int64_t ts_ns, char *buf, size_t len)
{
    /* Floor division so that times before 1970 still get 0..999 ms. */
    int64_t sec = ts_ns / 1000000000;
    int64_t rem = ts_ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return SW_ERANGE;
    /* RFC 3339 has four-digit years only. */
    if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
        return SW_ERANGE;
    int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(rem / 1000000));
    return (n < 0 || (size_t)n >= len) ? SW_ELIMIT : n;
}

/* Length of the well-formed UTF-8 sequence at p[0..avail), or 0 when p[0]
 * does not start one (RFC 3629 table 3: no overlongs, no surrogates, at
 * most U+10FFFF).  A sequence cut short by avail counts as malformed. */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < need + 1)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (p[k] < 0x80 || p[k] > 0xbf)
            return 0;
    return need + 1;
}

size_t sw_event_sanitize(sw_str in, size_t max, char *out, int *truncated)
{
    const unsigned char *p = (const unsigned char *)in.ptr;
    size_t n = in.len < max ? in.len : max;
    size_t o = 0;
    *truncated = in.len > max;
    if (!p)
        return 0;
    for (size_t i = 0; i < n;) {
        /* Validate against the whole input so that a character cut by the
         * cap is dropped as truncation, not reported as damage. */
        size_t l = utf8_seq_len(p + i, in.len - i);
        if (l == 0) {
            out[o++] = (char)0xef;
            out[o++] = (char)0xbf;
            out[o++] = (char)0xbd;
            i++;
            continue;
        }
        if (i + l > n)
            break;
        memcpy(out + o, p + i, l);
        o += l;
        i += l;
    }
    return o;
}

/* Adds a sanitised string member; records the original length in `trunc`
 * (created on demand) when the value was cut. */
static int set_str(json_t *obj, const char *key, sw_str v, json_t **trunc)
{
    char buf[3 * SW_EVENT_FIELD_MAX];
    int cut;
    size_t n = sw_event_sanitize(v, SW_EVENT_FIELD_MAX, buf, &cut);
    json_t *s = json_stringn_nocheck(buf, n);
    if (!s || json_object_set_new(obj, key, s) < 0)
        return -1;
    if (cut) {
        if (!*trunc && !(*trunc = json_object()))
            return -1;
        if (json_object_set_new(*trunc, key, json_integer((json_int_t)v.len)) < 0)
            return -1;
    }
    return 0;
}

static int set_cstr(json_t *obj, const char *key, const char *v, json_t **trunc)
{
    return set_str(obj, key, sw_str_make(v, strlen(v)), trunc);
}

static int set_int(json_t *obj, const char *key, json_int_t v)
{
    json_t *i = json_integer(v);
    return (!i || json_object_set_new(obj, key, i) < 0) ? -1 : 0;
}

static int set_addr(json_t *obj, const char *key, const sw_addr *a)
{
    char buf[SW_ADDR_STRLEN];
    if (a->family == 0)
        return 0;
    if (sw_addr_format(a, buf, sizeof buf) < 0)
        return 0; /* an unprintable address is left out rather than faked */
    json_t *s = json_string(buf);
    return (!s || json_object_set_new(obj, key, s) < 0) ? -1 : 0;
}

static int set_opt_str(json_t *obj, const char *key, sw_str v, json_t **trunc)
{
    return v.len == 0 ? 0 : set_str(obj, key, v, trunc);
}

json_t *sw__event_to_jansson(const sw_event *ev)
{
    json_t *o = json_object();
    json_t *trunc = NULL;
    char ts[SW_EVENT_TS_LEN];
    if (!o)
        return NULL;
    if (sw_event_format_ts(ev->ts_ns, ts, sizeof ts) < 0)
        snprintf(ts, sizeof ts, "0000-00-00T00:00:00.000Z"); /* out of RFC 3339 range */
    const char *type = sw_event_type_name(ev->type);
    const char *cat = sw_category_name(ev->category);
    const char *act = sw_action_name(ev->action);
    int r = 0;
    r |= set_cstr(o, "ts", ts, &trunc);
    if (ev->event_id[0])
        r |= set_str(o, "event_id", sw_str_make(ev->event_id, strnlen(ev->event_id, SW_EVENT_ID_LEN - 1)),
                     &trunc);
    if (ev->incident_id[0])
        r |= set_str(o, "incident_id",
                     sw_str_make(ev->incident_id, strnlen(ev->incident_id, SW_EVENT_INCIDENT_LEN - 1)),
                     &trunc);
    r |= set_cstr(o, "event_type", type ? type : "unknown", &trunc);
    r |= set_cstr(o, "category", cat ? cat : "unknown", &trunc);
    r |= set_cstr(o, "rule", ev->rule ? ev->rule : "", &trunc);
    r |= set_cstr(o, "action", act ? act : "unknown", &trunc);
    if (ev->action_status)
        r |= set_int(o, "action_status", ev->action_status);
    r |= set_cstr(o, "mode", ev->passive ? "passive" : ev->monitor ? "monitor" : "enforce", &trunc);
    r |= set_str(o, "reason", ev->reason, &trunc);
    r |= set_int(o, "confidence", ev->confidence > 100 ? 100 : ev->confidence);
    if (ev->expires_ns) {
        char exp[SW_EVENT_TS_LEN];
        if (sw_event_format_ts(ev->expires_ns, exp, sizeof exp) >= 0)
            r |= set_cstr(o, "expires", exp, &trunc);
    }
    r |= set_opt_str(o, "peer", ev->peer, &trunc);
    r |= set_opt_str(o, "listener", ev->listener, &trunc);
    r |= set_addr(o, "src", &ev->src);
    r |= set_addr(o, "dst", &ev->dst);
    r |= set_cstr(o, "transport", sw_transport_name(ev->transport), &trunc);
    if (ev->method.len)
        r |= set_str(o, "method", ev->method, &trunc);
    else if (ev->status)
        r |= set_int(o, "status", ev->status);
    r |= set_opt_str(o, "call_id", ev->call_id, &trunc);
    r |= set_opt_str(o, "from", ev->from, &trunc);
    r |= set_opt_str(o, "to", ev->to, &trunc);
    r |= set_opt_str(o, "pai", ev->pai, &trunc);
    r |= set_opt_str(o, "ruri", ev->ruri, &trunc);
    if (ev->frame)
        r |= set_int(o, "frame", (json_int_t)ev->frame);
    r |= set_opt_str(o, "file", ev->file, &trunc);
    if (ev->nevidence) {
        json_t *evid = json_object();
        json_t *etrunc = NULL;
        if (!evid || json_object_set_new(o, "evidence", evid) < 0) {
            r = -1;
        } else {
            unsigned n = ev->nevidence > SW_EVENT_MAX_EVIDENCE ? SW_EVENT_MAX_EVIDENCE
                                                               : ev->nevidence;
            for (unsigned i = 0; i < n && r == 0; i++) {
                const sw_evidence *e = &ev->evidence[i];
                char key[3 * 64 + 1];
                int kcut;
                size_t kl;
                if (!e->key)
                    continue;
                /* Keys are code-chosen, but JSON object keys must still be
                 * valid UTF-8 and jansson keys are NUL-terminated. */
                kl = sw_event_sanitize(sw_str_make(e->key, strlen(e->key)), 64, key, &kcut);
                key[kl] = '\0';
                if (e->kind == SW_EVIDENCE_NUM)
                    r |= set_int(evid, key, (json_int_t)e->num);
                else
                    r |= set_str(evid, key, e->str, &etrunc);
            }
            if (etrunc) {
                /* Report cut evidence values as "evidence.KEY". */
                const char *k;
                json_t *v;
                json_object_foreach(etrunc, k, v)
                {
                    char name[256];
                    snprintf(name, sizeof name, "evidence.%s", k);
                    if (!trunc && !(trunc = json_object())) {
                        r = -1;
                        break;
                    }
                    r |= json_object_set(trunc, name, v) < 0 ? -1 : 0;
                }
                json_decref(etrunc);
            }
        }
    }
    if (trunc) {
        if (r == 0)
            r = json_object_set_new(o, "truncated", trunc) < 0 ? -1 : 0; /* steals trunc */
        else
            json_decref(trunc);
    }
    if (r != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *sw_event_json(const sw_event *ev, size_t *len)
{
    json_t *o = sw__event_to_jansson(ev);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s && len)
        *len = strlen(s); /* NULs inside values are escaped, so strlen is exact */
    return s;
}

int sw_event_emit(sw_event_sink *s, const sw_event *ev)
{
    int r = s->ops->emit(s, ev);
    if (r < 0)
        s->failed++;
    else
        s->emitted++;
    return r;
}

int sw_event_sink_flush(sw_event_sink *s)
{
    return s->ops->flush(s);
}

int sw_event_sink_close(sw_event_sink *s)
{
    if (!s)
        return SW_OK;
    return s->ops->close(s);
}

int sw_event_sink_reopen(sw_event_sink *s)
{
    return s->ops->reopen ? s->ops->reopen(s) : SW_EUSAGE;
}

/* ---- records ------------------------------------------------------------------ */

/* Copies a sanitised name into out (SW_EVENT_REC_NAME_MAX bytes with the
 * NUL), cut at a UTF-8 character boundary. */
static void rec_name(char *out, sw_str v)
{
    char buf[3 * (SW_EVENT_REC_NAME_MAX - 1)];
    int cut;
    size_t n = sw_event_sanitize(v, SW_EVENT_REC_NAME_MAX - 1, buf, &cut);
    if (n > SW_EVENT_REC_NAME_MAX - 1) {
        n = SW_EVENT_REC_NAME_MAX - 1;
        while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
            n--; /* buf[n] continues the character that starts before it */
    }
    for (size_t i = 0; i < n; i++)
        out[i] = buf[i] == '\0' ? '?' : buf[i]; /* kept as C strings */
    out[n] = '\0';
}

int sw_event_rec_fill(sw_event_rec *r, const sw_event *ev)
{
    r->ts_ns = ev->ts_ns;
    r->type = ev->type;
    r->src[0] = '\0';
    if (ev->src.family && sw_addr_format_ip(&ev->src, r->src, sizeof r->src) < 0)
        r->src[0] = '\0';
    rec_name(r->peer, ev->peer);
    rec_name(r->rule, ev->rule ? sw_str_make(ev->rule, strlen(ev->rule)) : SW_STR_NULL);
    memcpy(r->incident, ev->incident_id, sizeof r->incident);
    r->incident[sizeof r->incident - 1] = '\0';
    r->json = sw_event_json(ev, &r->json_len);
    if (!r->json) {
        r->json_len = 0;
        return SW_ENOMEM;
    }
    return SW_OK;
}

void sw_event_rec_clear(sw_event_rec *r)
{
    free(r->json);
    memset(r, 0, sizeof *r);
}
