/* Export formatters (include/sipwall/event.h, "export to a SIEM"): a
 * stored event row becomes an RFC 5424 message with structured data, a
 * CEF record or an ECS-shaped JSON object inside the syslog MSG, and the
 * octet-counting frame of RFC 5425 / RFC 6587.
 *
 * The row is read back with jansson, so its strings are valid UTF-8 but may
 * hold any control character (NUL, CR, LF: they came from SIP messages).
 * Syslog and CEF text carries no control characters: each becomes U+FFFD
 * (the store keeps the exact value; `sipwall events` shows it).  ECS JSON
 * escapes them as JSON does. */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipwall/event.h"

/* ---- vocabulary -------------------------------------------------------------- */

static const char *const format_names[] = {"rfc5424", "cef", "ecs"};

const char *sw_export_format_name(sw_export_format f)
{
    return (unsigned)f < sizeof format_names / sizeof format_names[0] ? format_names[f] : NULL;
}

int sw_export_format_lookup(const char *name, sw_export_format *out)
{
    for (unsigned i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(format_names[i], name) == 0) {
            *out = (sw_export_format)i;
            return SW_OK;
        }
    return SW_ENOTFOUND;
}

static int streq(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

unsigned sw_syslog_severity(const char *action, const char *category)
{
    unsigned sev = 6; /* informational: tagged, allowed, unknown */
    if (streq(action, "drop") || streq(action, "reject"))
        sev = 4;
    else if (streq(action, "rate-limit") || streq(action, "strip") || streq(action, "rewrite"))
        sev = 5;
    if (streq(category, "cat3") || streq(category, "behavioural"))
        sev--;
    return sev;
}

int64_t sw_syslog_sequence_id(int64_t id)
{
    const int64_t m = INT64_C(2147483647);
    if (id < 1)
        return 1;
    return (id - 1) % m + 1;
}

/* ---- a bounded output buffer ----------------------------------------------- */

typedef struct obuf {
    char *p;
    size_t len, cap;
    int over; /* something did not fit: the result is unusable */
} obuf;

static void put(obuf *b, const char *s, size_t n)
{
    if (b->over || n > b->cap - b->len) {
        b->over = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(obuf *b, const char *s) { put(b, s, strlen(s)); }
static void putch(obuf *b, char c) { put(b, &c, 1); }

static void putf(obuf *b, const char *fmt, ...) SW_PRINTF(2, 3);
static void putf(obuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->over = 1;
        return;
    }
    put(b, tmp, (size_t)n);
}

/* ---- reading the row --------------------------------------------------------- */

/* The string member k, as a view valid while the object lives; empty when
 * missing or not a string. */
static sw_str jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return SW_STR_NULL;
    return sw_str_make(json_string_value(v), json_string_length(v));
}

/* The integer member k; 0 and *has = 0 when missing. */
static json_int_t jint(const json_t *o, const char *k, int *has)
{
    const json_t *v = json_object_get(o, k);
    *has = json_is_integer(v);
    return *has ? json_integer_value(v) : 0;
}

/* A NUL-terminated copy of a short vocabulary word, for the severity map. */
static const char *word(sw_str s, char *buf, size_t cap)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n)
        memcpy(buf, s.ptr, n);
    buf[n] = '\0';
    return buf;
}

/* Splits "1.2.3.4:5060" / "[2001:db8::1]:5060" / a bare address. */
static void split_addr(sw_str a, sw_str *ip, sw_str *port)
{
    *ip = a;
    *port = SW_STR_NULL;
    if (a.len == 0)
        return;
    if (a.ptr[0] == '[') {
        const char *end = memchr(a.ptr, ']', a.len);
        if (!end)
            return;
        *ip = sw_str_make(a.ptr + 1, (size_t)(end - a.ptr - 1));
        size_t rest = a.len - (size_t)(end - a.ptr) - 1;
        if (rest > 1 && end[1] == ':')
            *port = sw_str_make(end + 2, rest - 1);
        return;
    }
    const char *c = memchr(a.ptr, ':', a.len);
    if (c && !memchr(c + 1, ':', a.len - (size_t)(c - a.ptr) - 1)) {
        *ip = sw_str_make(a.ptr, (size_t)(c - a.ptr));
        *port = sw_str_make(c + 1, a.len - (size_t)(c - a.ptr) - 1);
    }
}

/* Length of s cut to at most max bytes at a UTF-8 character boundary
 * (s is valid UTF-8: jansson checked it). */
static size_t cut_len(sw_str s, size_t max)
{
    if (s.len <= max)
        return s.len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s.ptr[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* ---- text escapers --------------------------------------------------------- */

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

static int is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

/* PRINTUSASCII (33..126) header field of at most max octets; other bytes
 * become '?'; empty = the NILVALUE "-". */
static void put_header_field(obuf *b, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0) {
        putch(b, '-');
        return;
    }
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        putch(b, c >= 33 && c <= 126 ? (char)c : '?');
    }
}

/* SD-NAME (RFC 5424 §6.3.2): 1..32 PRINTUSASCII except '=', SP, ']', '"'.
 * Other bytes become '_'. */
static void put_sd_name(obuf *b, const char *prefix, const char *s, size_t n)
{
    size_t pl = strlen(prefix), k = pl;
    puts_(b, prefix);
    for (size_t i = 0; i < n && k < 32; i++, k++) {
        unsigned char c = (unsigned char)s[i];
        int ok = c >= 33 && c <= 126 && c != '=' && c != ']' && c != '"';
        putch(b, ok ? (char)c : '_');
    }
    if (k == 0)
        putch(b, '_');
}

/* PARAM-VALUE (RFC 5424 §6.3.3): '"', '\' and ']' escaped with '\';
 * control characters become U+FFFD; cut to max input bytes. */
static void put_sd_value(obuf *b, sw_str v, size_t max, int *cut)
{
    size_t n = cut_len(v, max);
    if (n < v.len)
        *cut = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c == '"' || c == '\\' || c == ']') {
            putch(b, '\\');
            putch(b, (char)c);
        } else if (is_ctl(c)) {
            puts_(b, replacement);
        } else {
            putch(b, (char)c);
        }
    }
}

static void put_param(obuf *b, const char *name, sw_str v, size_t max, int *cut)
{
    putch(b, ' ');
    put_sd_name(b, "", name, strlen(name));
    puts_(b, "=\"");
    put_sd_value(b, v, max, cut);
    putch(b, '"');
}

static void put_param_int(obuf *b, const char *name, json_int_t v)
{
    putch(b, ' ');
    puts_(b, name);
    putf(b, "=\"%" JSON_INTEGER_FORMAT "\"", v);
}

/* CEF (ArcSight CEF rev. 25): header fields escape '\' and '|';
 * extension values escape '\' and '=', CR and LF as \r \n.  Other control
 * characters become U+FFFD in both. */
static void put_cef(obuf *b, sw_str v, size_t max, int header, int *cut)
{
    size_t n = cut_len(v, max);
    if (n < v.len)
        *cut = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c == '\\' || (header && c == '|') || (!header && c == '=')) {
            putch(b, '\\');
            putch(b, (char)c);
        } else if (!header && c == '\n') {
            puts_(b, "\\n");
        } else if (!header && c == '\r') {
            puts_(b, "\\r");
        } else if (is_ctl(c)) {
            puts_(b, replacement);
        } else {
            putch(b, (char)c);
        }
    }
}

static void put_ext(obuf *b, const char *key, sw_str v, size_t max, int *cut)
{
    if (v.len == 0)
        return;
    putch(b, ' ');
    puts_(b, key);
    putch(b, '=');
    put_cef(b, v, max, 0, cut);
}

static void put_ext_int(obuf *b, const char *key, json_int_t v)
{
    putf(b, " %s=%" JSON_INTEGER_FORMAT, key, v);
}

/* MSG text: plain when ASCII, else the BOM then UTF-8 (RFC 5424 §6.4);
 * control characters become U+FFFD. */
static void put_msg_text(obuf *b, sw_str v, size_t max, int *cut)
{
    size_t n = cut_len(v, max);
    if (n < v.len)
        *cut = 1;
    int ascii = 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v.ptr[i] >= 0x80 || is_ctl((unsigned char)v.ptr[i]))
            ascii = 0;
    if (!ascii)
        puts_(b, "\xef\xbb\xbf");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (is_ctl(c))
            puts_(b, replacement);
        else
            putch(b, (char)c);
    }
}

/* ---- the three formats ---------------------------------------------------- */

/* Fields of the row in the order they are written as SD params. */
static const char *const sd_fields[] = {"event_type", "category", "rule", "action",
                                        "action_status", "mode", "confidence", "expires",
                                        "peer", "listener", "event_id", "incident_id",
                                        NULL /* src, dst */, "transport", "method", "status",
                                        "call_id", "from", "to", "pai", "ruri", "frame", "file"};

static void put_addr_params(obuf *b, const json_t *row, const char *key, size_t max, int *cut)
{
    sw_str ip, port;
    split_addr(jstr(row, key), &ip, &port);
    char name[16];
    if (ip.len) {
        snprintf(name, sizeof name, "%s_ip", key);
        put_param(b, name, ip, max, cut);
    }
    if (port.len) {
        snprintf(name, sizeof name, "%s_port", key);
        put_param(b, name, port, max, cut);
    }
}

static void sd_rfc5424(obuf *b, const json_t *row, int64_t id, size_t max, int *cut)
{
    puts_(b, "[" SW_SYSLOG_SD_ID);
    putf(b, " id=\"%" PRId64 "\"", id);
    for (size_t i = 0; i < sizeof sd_fields / sizeof sd_fields[0]; i++) {
        if (!sd_fields[i]) {
            put_addr_params(b, row, "src", max, cut);
            put_addr_params(b, row, "dst", max, cut);
            continue;
        }
        const json_t *v = json_object_get(row, sd_fields[i]);
        if (json_is_integer(v))
            put_param_int(b, sd_fields[i], json_integer_value(v));
        else if (json_is_string(v) && json_string_length(v))
            put_param(b, sd_fields[i], jstr(row, sd_fields[i]), max, cut);
    }
    /* Evidence as ev.KEY (SD-NAMEs cut to 32 characters). */
    const json_t *evid = json_object_get(row, "evidence");
    const char *k;
    const json_t *v;
    if (json_is_object(evid)) {
        json_object_foreach((json_t *)evid, k, v)
        {
            putch(b, ' ');
            put_sd_name(b, "ev.", k, strlen(k));
            puts_(b, "=\"");
            if (json_is_integer(v))
                putf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            else if (json_is_string(v))
                put_sd_value(b, sw_str_make(json_string_value(v), json_string_length(v)), max, cut);
            putch(b, '"');
        }
    }
    /* Fields cut when the event was made: their names, comma-separated. */
    const json_t *tr = json_object_get(row, "truncated");
    if (json_is_object(tr) && json_object_size(tr)) {
        puts_(b, " truncated=\"");
        int first = 1;
        json_object_foreach((json_t *)tr, k, v)
        {
            if (!first)
                putch(b, ',');
            first = 0;
            int dummy = 0;
            put_sd_value(b, sw_str_make(k, strlen(k)), 64, &dummy);
        }
        putch(b, '"');
    }
}

static int cef_severity(unsigned sev)
{
    static const int map[8] = {10, 10, 9, 8, 6, 4, 2, 0};
    return map[sev & 7];
}

/* Milliseconds since the epoch of an RFC 3339 "…T…Z" time from the row, or
 * -1. */
static int64_t ts_ms(sw_str s)
{
    char buf[40];
    struct tm tm;
    int ms = 0;
    if (s.len == 0 || s.len >= sizeof buf)
        return -1;
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    memset(&tm, 0, sizeof tm);
    if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return (int64_t)t * 1000 + ms;
}

static void msg_cef(obuf *b, const sw_syslog_opts *o, const json_t *row, int64_t id, int64_t ts_ns,
                    unsigned sev, size_t max, int *cut)
{
    const char *ver = o->version && *o->version ? o->version : "0";
    puts_(b, "CEF:0|sipwall|sipwalld|");
    put_cef(b, sw_str_make(ver, strlen(ver)), 32, 1, cut);
    putch(b, '|');
    put_cef(b, jstr(row, "rule"), max, 1, cut);
    putch(b, '|');
    put_cef(b, jstr(row, "event_type"), max, 1, cut);
    putf(b, "|%d|", cef_severity(sev));
    /* Extension: "key=value" separated by spaces; rt first. */
    int64_t ms = ts_ns / 1000000;
    putf(b, "rt=%" PRId64, ms);
    put_ext_int(b, "externalId", (json_int_t)id);
    put_ext(b, "cat", jstr(row, "category"), max, cut);
    put_ext(b, "act", jstr(row, "action"), max, cut);
    sw_str ip, port;
    split_addr(jstr(row, "src"), &ip, &port);
    put_ext(b, "src", ip, max, cut);
    put_ext(b, "spt", port, max, cut);
    split_addr(jstr(row, "dst"), &ip, &port);
    put_ext(b, "dst", ip, max, cut);
    put_ext(b, "dpt", port, max, cut);
    sw_str tr = jstr(row, "transport");
    if (sw_str_eq(tr, SW_STR_LIT("udp")))
        puts_(b, " proto=UDP");
    else if (sw_str_eq(tr, SW_STR_LIT("tcp")) || sw_str_eq(tr, SW_STR_LIT("tls")))
        puts_(b, " proto=TCP");
    puts_(b, " app=SIP");
    put_ext(b, "suser", jstr(row, "from"), max, cut);
    put_ext(b, "duser", jstr(row, "to"), max, cut);
    put_ext(b, "msg", jstr(row, "reason"), max, cut);
    put_ext(b, "fname", jstr(row, "file"), max, cut);
    int has;
    json_int_t n;
    /* CEF's custom strings: each labelled, in this order */
    static const struct {
        const char *field, *key, *label;
    } custom[] = {
        {"call_id", "cs1", " cs1Label=callId"}, {"peer", "flexString1", " flexString1Label=peer"},
        {"pai", "cs2", " cs2Label=pai"},        {"ruri", "cs3", " cs3Label=ruri"},
        {"mode", "cs4", " cs4Label=mode"},      {"method", "cs5", " cs5Label=sipMethod"},
        {"incident_id", "flexString2", " flexString2Label=incidentId"},
        {"event_id", "deviceExternalId", ""},   {"listener", "deviceInboundInterface", ""},
    };
    for (size_t i = 0; i < sizeof custom / sizeof custom[0]; i++) {
        sw_str cv = jstr(row, custom[i].field);
        if (cv.len) {
            puts_(b, custom[i].label);
            put_ext(b, custom[i].key, cv, max, cut);
        }
    }
    const json_t *evid = json_object_get(row, "evidence");
    if (json_is_object(evid) && json_object_size(evid)) {
        char *js = json_dumps(evid, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (js) {
            puts_(b, " cs6Label=evidence");
            put_ext(b, "cs6", sw_str_make(js, strlen(js)), max < 2048 ? max : 2048, cut);
            free(js);
        } else {
            b->over = 1;
        }
    }
    if ((n = jint(row, "status", &has)), has) {
        puts_(b, " cn1Label=sipStatus");
        put_ext_int(b, "cn1", n);
    }
    if ((n = jint(row, "confidence", &has)), has) {
        puts_(b, " cn2Label=confidence");
        put_ext_int(b, "cn2", n);
    }
    if ((n = jint(row, "action_status", &has)), has) {
        puts_(b, " cn3Label=actionStatus");
        put_ext_int(b, "cn3", n);
    }
    int64_t exp = ts_ms(jstr(row, "expires"));
    if (exp >= 0) {
        puts_(b, " deviceCustomDate1Label=blockExpires");
        putf(b, " deviceCustomDate1=%" PRId64, exp);
    }
    if (*cut)
        puts_(b, " sipwallCut=1");
}

/* A copy of string member k of row, cut to max bytes, into obj[name]. */
static int ecs_str(json_t *obj, const char *name, sw_str v, size_t max, int *cut)
{
    if (v.len == 0)
        return 0;
    size_t n = cut_len(v, max);
    if (n < v.len)
        *cut = 1;
    return json_object_set_new(obj, name, json_stringn_nocheck(v.ptr, n));
}

static int ecs_port(json_t *obj, sw_str port)
{
    char buf[8];
    if (port.len == 0 || port.len >= sizeof buf)
        return 0;
    memcpy(buf, port.ptr, port.len);
    buf[port.len] = '\0';
    char *end;
    long p = strtol(buf, &end, 10);
    if (*end || p < 0 || p > 65535)
        return 0;
    return json_object_set_new(obj, "port", json_integer(p));
}

static int ecs_endpoint(json_t *doc, const char *name, sw_str addr, size_t max, int *cut)
{
    sw_str ip, port;
    split_addr(addr, &ip, &port);
    if (ip.len == 0)
        return 0;
    json_t *e = json_object();
    int r = json_object_set_new(doc, name, e);
    r |= ecs_str(e, "ip", ip, max, cut);
    r |= ecs_port(e, port);
    return r;
}

static const char *const ecs_sip_fields[] = {"event_type", "category", "mode", "peer", "listener",
                                             "event_id", "incident_id", "transport",
                                             "method", "call_id", "from", "to", "pai", "ruri",
                                             "expires", "file"};
static const char *const ecs_sip_ints[] = {"confidence", "action_status", "status", "frame"};

static void msg_ecs(obuf *b, const sw_syslog_opts *o, const json_t *row, int64_t id, int64_t ts_ns,
                    unsigned sev, size_t max, int *cut)
{
    char ts[SW_EVENT_TS_LEN];
    char act[16], idbuf[24];
    json_t *doc = json_object();
    json_t *ev = json_object(), *rule = json_object(), *net = json_object(), *obs = json_object();
    json_t *sw = json_object();
    int r = !doc || !ev || !rule || !net || !obs || !sw;
    if (r) {
        json_decref(ev);
        json_decref(rule);
        json_decref(net);
        json_decref(obs);
        json_decref(sw);
        goto out;
    }
    if (sw_event_format_ts(ts_ns, ts, sizeof ts) < 0)
        snprintf(ts, sizeof ts, "1970-01-01T00:00:00.000Z");
    r |= json_object_set_new(doc, "@timestamp", json_string(ts));
    r |= json_object_set_new(doc, "ecs", json_pack("{s:s}", "version", "8.11.0"));
    r |= json_object_set_new(doc, "event", ev);
    r |= json_object_set_new(ev, "kind", json_string("alert"));
    r |= json_object_set_new(ev, "category", json_pack("[ss]", "network", "intrusion_detection"));
    word(jstr(row, "action"), act, sizeof act);
    const char *type = (strcmp(act, "drop") == 0 || strcmp(act, "reject") == 0 ||
                        strcmp(act, "rate-limit") == 0)
                           ? "denied"
                       : strcmp(act, "allow") == 0 ? "allowed"
                                                   : "info";
    r |= json_object_set_new(ev, "type", json_pack("[s]", type));
    r |= ecs_str(ev, "action", jstr(row, "action"), max, cut);
    r |= ecs_str(ev, "reason", jstr(row, "reason"), max, cut);
    r |= ecs_str(ev, "code", jstr(row, "event_type"), max, cut);
    r |= json_object_set_new(ev, "severity", json_integer(sev));
    snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
    r |= json_object_set_new(ev, "id", json_string(idbuf));
    r |= json_object_set_new(ev, "sequence", json_integer((json_int_t)id));
    r |= json_object_set_new(ev, "module", json_string("sipwall"));
    r |= json_object_set_new(ev, "dataset", json_string("sipwall.events"));
    r |= json_object_set_new(doc, "rule", rule);
    r |= ecs_str(rule, "name", jstr(row, "rule"), max, cut);
    r |= ecs_endpoint(doc, "source", jstr(row, "src"), max, cut);
    r |= ecs_endpoint(doc, "destination", jstr(row, "dst"), max, cut);
    r |= json_object_set_new(doc, "network", net);
    sw_str tr = jstr(row, "transport");
    if (sw_str_eq(tr, SW_STR_LIT("udp")) || sw_str_eq(tr, SW_STR_LIT("tcp")) ||
        sw_str_eq(tr, SW_STR_LIT("sctp")))
        r |= ecs_str(net, "transport", tr, 8, cut);
    else if (sw_str_eq(tr, SW_STR_LIT("tls")))
        r |= json_object_set_new(net, "transport", json_string("tcp"));
    r |= json_object_set_new(net, "protocol", json_string("sip"));
    r |= json_object_set_new(doc, "observer", obs);
    if (o->hostname && *o->hostname)
        r |= ecs_str(obs, "hostname", sw_str_make(o->hostname, strlen(o->hostname)), 255, cut);
    r |= json_object_set_new(obs, "vendor", json_string("sipwall"));
    r |= json_object_set_new(obs, "product", json_string("sipwalld"));
    r |= json_object_set_new(obs, "type", json_string("firewall"));
    r |= json_object_set_new(doc, "sipwall", sw);
    for (size_t i = 0; i < sizeof ecs_sip_fields / sizeof ecs_sip_fields[0]; i++)
        r |= ecs_str(sw, ecs_sip_fields[i], jstr(row, ecs_sip_fields[i]), max, cut);
    for (size_t i = 0; i < sizeof ecs_sip_ints / sizeof ecs_sip_ints[0]; i++) {
        int has;
        json_int_t v = jint(row, ecs_sip_ints[i], &has);
        if (has)
            r |= json_object_set_new(sw, ecs_sip_ints[i], json_integer(v));
    }
    const json_t *evid = json_object_get(row, "evidence");
    if (json_is_object(evid) && json_object_size(evid)) {
        json_t *e = json_object();
        const char *k;
        const json_t *v;
        r |= json_object_set_new(sw, "evidence", e);
        json_object_foreach((json_t *)evid, k, v)
        {
            if (json_is_string(v))
                r |= ecs_str(e, k, sw_str_make(json_string_value(v), json_string_length(v)), max,
                             cut);
            else if (json_is_integer(v))
                r |= json_object_set_new(e, k, json_integer(json_integer_value(v)));
        }
    }
    const json_t *trunc = json_object_get(row, "truncated");
    if (json_is_object(trunc) && json_object_size(trunc))
        r |= json_object_set(sw, "truncated", (json_t *)trunc);
    if (*cut)
        r |= json_object_set_new(sw, "cut", json_true());
out:
    if (r) {
        b->over = 1; /* out of memory: reported as such by the caller */
    } else {
        size_t room = b->cap - b->len;
        size_t n = json_dumpb(doc, b->over ? NULL : b->p + b->len, b->over ? 0 : room,
                              JSON_COMPACT | JSON_ENSURE_ASCII);
        if (n == 0 || n > room) {
            b->over = 1;
        } else {
            /* JSON leaves DEL (0x7f) as is; it is a control character to a
             * syslog reader, so it goes out as \u007f. */
            char *s = b->p + b->len;
            size_t dels = 0;
            for (size_t i = 0; i < n; i++)
                dels += s[i] == 0x7f;
            if (room - n < 5 * dels) {
                b->over = 1;
            } else {
                /* Expand from the end so nothing is overwritten unread. */
                size_t w = n + 5 * dels;
                for (size_t i = n; i-- > 0;) {
                    if (s[i] == 0x7f) {
                        w -= 6;
                        memcpy(s + w, "\\u007f", 6);
                    } else {
                        s[--w] = s[i];
                    }
                }
                b->len += n + 5 * dels;
            }
        }
    }
    json_decref(doc);
}

/* One attempt at the whole message with values cut to max bytes. */
static void format_once(obuf *b, const sw_syslog_opts *o, const json_t *row, int64_t id,
                        int64_t ts_ns, size_t max, int shortened)
{
    char act[16], cat[16];
    unsigned sev = sw_syslog_severity(word(jstr(row, "action"), act, sizeof act),
                                      word(jstr(row, "category"), cat, sizeof cat));
    unsigned fac = o->facility > 23 ? 16 : o->facility;
    char ts[SW_EVENT_TS_LEN];
    int cut = shortened;

    /* HEADER (RFC 5424 §6.2) */
    putf(b, "<%u>1 ", fac * 8 + sev);
    if (sw_event_format_ts(ts_ns, ts, sizeof ts) < 0)
        putch(b, '-');
    else
        puts_(b, ts);
    putch(b, ' ');
    put_header_field(b, o->hostname, 255);
    putch(b, ' ');
    put_header_field(b, o->app_name ? o->app_name : "sipwalld", 48);
    if (o->procid > 0)
        putf(b, " %ld ", o->procid);
    else
        puts_(b, " - ");
    char msgid[40];
    put_header_field(b, word(jstr(row, "event_type"), msgid, sizeof msgid), 32);
    putch(b, ' ');

    /* STRUCTURED-DATA: the sequence (RFC 5424 §7.3.1), then our fields. */
    putf(b, "[meta sequenceId=\"%" PRId64 "\"]", sw_syslog_sequence_id(id));
    switch (o->format) {
    case SW_EXPORT_CEF:
    case SW_EXPORT_ECS:
        /* The record carries the fields; the SD keeps the store id. */
        putf(b, "[" SW_SYSLOG_SD_ID " id=\"%" PRId64 "\"%s]", id, shortened ? " cut=\"1\"" : "");
        putch(b, ' ');
        size_t start = b->len;
        if (o->format == SW_EXPORT_CEF)
            msg_cef(b, o, row, id, ts_ns, sev, max, &cut);
        else
            msg_ecs(b, o, row, id, ts_ns, sev, max, &cut); /* ASCII: JSON_ENSURE_ASCII */
        /* A CEF record with non-ASCII text is UTF-8 MSG: the BOM goes first
         * (RFC 5424 §6.4). */
        int ascii = 1;
        for (size_t i = start; !b->over && i < b->len; i++)
            if ((unsigned char)b->p[i] >= 0x80)
                ascii = 0;
        if (!ascii) {
            if (b->cap - b->len < 3) {
                b->over = 1;
            } else {
                memmove(b->p + start + 3, b->p + start, b->len - start);
                memcpy(b->p + start, "\xef\xbb\xbf", 3);
                b->len += 3;
            }
        }
        break;
    default:
        sd_rfc5424(b, row, id, max, &cut);
        if (cut)
            puts_(b, " cut=\"1\"");
        puts_(b, "] ");
        put_msg_text(b, jstr(row, "reason"), max, &cut);
        /* A value cut in the MSG after the SD was written is still said:
         * the reason comes last, so the SD already has cut="1" when the
         * retry below shortened everything. */
        break;
    }
}

int sw_syslog_format(const sw_syslog_opts *o, int64_t id, int64_t ts_ns, const char *json,
                     size_t json_len, char *buf, size_t cap)
{
    json_error_t jerr;
    json_t *row = json_loadb(json, json_len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(row)) {
        json_decref(row);
        return SW_EINVAL;
    }
    if (cap > SW_SYSLOG_MAX_MSG)
        cap = SW_SYSLOG_MAX_MSG;
    /* Values are at most 3 * SW_EVENT_FIELD_MAX bytes in the store; when
     * the whole does not fit, cut every value shorter and say so. */
    static const size_t limits[] = {SIZE_MAX, 128, 32, 8};
    int rc = SW_ELIMIT;
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        obuf b = {buf, 0, cap, 0};
        format_once(&b, o, row, id, ts_ns, limits[i], i > 0);
        if (!b.over) {
            rc = (int)b.len;
            break;
        }
    }
    json_decref(row);
    return rc;
}

int sw_syslog_frame(const char *msg, size_t len, char *out, size_t cap)
{
    char hdr[SW_SYSLOG_FRAME_HDR + 8];
    int h = snprintf(hdr, sizeof hdr, "%zu ", len);
    if (h < 0 || len == 0 || (size_t)h > cap || len > cap - (size_t)h)
        return SW_ELIMIT;
    memcpy(out, hdr, (size_t)h);
    memcpy(out + h, msg, len);
    return (int)((size_t)h + len);
}
