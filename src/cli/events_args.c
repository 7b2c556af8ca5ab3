/* `sipwall events`: arguments, times and the row filter (events.h). */
#define _GNU_SOURCE /* timegm */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "sipwall/event.h"
#include "sipwall/event.h"

#define NS 1000000000LL

static int err_out(char *err, size_t errlen, const char *fmt, ...) SW_PRINTF(3, 4);

static int err_out(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int cli_events_parse_time(const char *s, int64_t now_ns, int64_t *out, char *err, size_t errlen)
{
    /* the parser lives in the event layer: the admin API takes the same times */
    return sw_event_parse_time(s, now_ns, out, err, errlen) == SW_OK ? 0 : -1;
}

int cli_events_ip_of(const char *s, char *out)
{
    char buf[CLI_EVENTS_IP_MAX + 8];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    const char *ip = s;
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e || (size_t)(e - s - 1) >= sizeof buf)
            return -1;
        memcpy(buf, s + 1, (size_t)(e - s - 1));
        buf[e - s - 1] = '\0';
        ip = buf;
    } else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
        /* one colon: IPv4 with a port */
        size_t k = (size_t)(strchr(s, ':') - s);
        memcpy(buf, s, k);
        buf[k] = '\0';
        ip = buf;
    }
    unsigned char bin[16];
    if (inet_pton(AF_INET, ip, bin) == 1)
        return inet_ntop(AF_INET, bin, out, CLI_EVENTS_IP_MAX) ? 0 : -1;
    if (inet_pton(AF_INET6, ip, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, CLI_EVENTS_IP_MAX) ? 0 : -1;
    return -1;
}

/* A name given to --peer/--rule: printable, no blanks, bounded. */
static int plain_word(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 256)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return 0;
    return 1;
}

int cli_events_parse_args(int argc, char **argv, int64_t now_ns, cli_events_opts *o, char *err,
                          size_t errlen)
{
    enum { O_DB = 1, O_SINCE, O_UNTIL, O_TYPE, O_SRC, O_PEER, O_RULE, O_LIMIT, O_JSON, O_FOLLOW,
           O_HELP, O_INCIDENT, O_MODE };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, O_DB},       {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL}, {"type", required_argument, NULL, O_TYPE},
        {"src", required_argument, NULL, O_SRC},     {"peer", required_argument, NULL, O_PEER},
        {"rule", required_argument, NULL, O_RULE},   {"limit", required_argument, NULL, O_LIMIT},
        {"json", no_argument, NULL, O_JSON},         {"follow", no_argument, NULL, O_FOLLOW},
        {"help", no_argument, NULL, O_HELP},         {"incident", required_argument, NULL, O_INCIDENT},
        {"mode", required_argument, NULL, O_MODE},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    const char *env = getenv("SIPWALL_EVENTS_DB");
    o->db = env && *env ? env : CLI_EVENTS_DEFAULT_DB;
    optind = 0; /* glibc: a full reset */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+hf", longopts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case O_DB:
            if (!*a)
                return err_out(err, errlen, "--db needs a path");
            o->db = a;
            break;
        case O_SINCE:
        case O_UNTIL: {
            int64_t t;
            char e2[200];
            if (cli_events_parse_time(a, now_ns, &t, e2, sizeof e2) < 0) {
                snprintf(err, errlen, "--%s: %s", c == O_SINCE ? "since" : "until", e2);
                return -1;
            }
            if (c == O_SINCE) {
                o->since_ns = t;
                o->has_since = 1;
            } else {
                o->until_ns = t;
                o->has_until = 1;
            }
            break;
        }
        case O_TYPE: {
            sw_event_type t;
            if (sw_event_type_lookup(a, &t) != SW_OK)
                return err_out(err, errlen,
                               "--type: unknown event type '%.64s' (sip_malformed, sip_scan, "
                               "sip_bruteforce, sip_flood, irsf_call, …)",
                               a);
            o->type = a;
            break;
        }
        case O_SRC: {
            unsigned char bin[16];
            if ((inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1) ||
                cli_events_ip_of(a, o->src) < 0)
                return err_out(err, errlen, "--src: '%.64s' is not an IP address", a);
            break;
        }
        case O_PEER:
            if (!plain_word(a))
                return err_out(err, errlen, "--peer: '%.64s' is not a partner name", a);
            o->peer = a;
            break;
        case O_RULE:
            if (!plain_word(a))
                return err_out(err, errlen, "--rule: '%.64s' is not a rule id", a);
            o->rule = a;
            break;
        case O_INCIDENT: {
            size_t k = strlen(a);
            int hex = k == SW_EVENT_INCIDENT_LEN - 1;
            for (size_t i = 0; hex && i < k; i++)
                hex = (a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f');
            if (!hex)
                return err_out(err, errlen, "--incident: '%.64s' is not an incident id (16 hex digits)",
                               a);
            o->incident = a;
            break;
        }
        case O_MODE:
            if (strcmp(a, "enforce") != 0 && strcmp(a, "monitor") != 0 && strcmp(a, "passive") != 0)
                return err_out(err, errlen, "--mode: '%.64s' is not enforce, monitor or passive", a);
            o->mode = a;
            break;
        case O_LIMIT: {
            char *end;
            errno = 0;
            unsigned long long n = (*a >= '0' && *a <= '9') ? strtoull(a, &end, 10) : 0;
            if (!(*a >= '0' && *a <= '9') || *end || errno || n == 0 || n > 100000000ULL)
                return err_out(err, errlen, "--limit: '%.64s' is not a number of events (1..100000000)",
                               a);
            o->limit = n;
            break;
        }
        case O_JSON: o->json = 1; break;
        case 'f':
        case O_FOLLOW: o->follow = 1; break;
        case 'h':
        case O_HELP: o->help = 1; break;
        default: {
            const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            for (const struct option *lo = longopts; lo->name; lo++)
                if (optopt && lo->val == optopt && lo->has_arg == required_argument) {
                    snprintf(err, errlen, "option --%s needs a value", lo->name);
                    return -1;
                }
            return err_out(err, errlen, "unknown option '%.64s'", word);
        }
        }
    }
    if (optind < argc)
        return err_out(err, errlen, "unexpected argument '%.64s' (every filter is an option)",
                       argv[optind]);
    if (o->has_since && o->has_until && o->until_ns <= o->since_ns)
        return err_out(err, errlen, "--until must be later than --since");
    return 0;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "peer" at the top level (events written since the field exists), else
 * as evidence. */
static const char *peer_of(json_t *o)
{
    const char *p = jstr(o, "peer");
    if (!p) {
        json_t *ev = json_object_get(o, "evidence");
        if (json_is_object(ev))
            p = jstr(ev, "peer");
    }
    return p;
}

int cli_events_match(const cli_events_opts *o, int64_t ts_ns, const char *json, size_t len)
{
    if (o->has_since && ts_ns < o->since_ns)
        return 0;
    if (o->has_until && ts_ns >= o->until_ns)
        return 0;
    if (!o->type && !o->src[0] && !o->peer && !o->rule && !o->incident && !o->mode)
        return 1;
    json_t *j = json_loadb(json, len, JSON_DISABLE_EOF_CHECK, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    int ok = 1;
    const char *v;
    if (o->type && (!(v = jstr(j, "event_type")) || strcmp(v, o->type) != 0))
        ok = 0;
    if (ok && o->rule && (!(v = jstr(j, "rule")) || strcmp(v, o->rule) != 0))
        ok = 0;
    if (ok && o->peer && (!(v = peer_of(j)) || strcmp(v, o->peer) != 0))
        ok = 0;
    if (ok && o->incident && (!(v = jstr(j, "incident_id")) || strcmp(v, o->incident) != 0))
        ok = 0;
    if (ok && o->mode && (!(v = jstr(j, "mode")) || strcmp(v, o->mode) != 0))
        ok = 0;
    if (ok && o->src[0]) {
        char ip[CLI_EVENTS_IP_MAX];
        if (!(v = jstr(j, "src")) || cli_events_ip_of(v, ip) < 0 || strcmp(ip, o->src) != 0)
            ok = 0;
    }
    json_decref(j);
    return ok;
}

/* Appends printf output to out at *at, never beyond len-1. */
static void put(char *out, size_t len, size_t *at, const char *fmt, ...) SW_PRINTF(4, 5);

static void put(char *out, size_t len, size_t *at, const char *fmt, ...)
{
    if (*at + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at = *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

void cli_events_format_line(int64_t id, const char *json, size_t jlen, char *out, size_t len)
{
    size_t at = 0;
    if (len == 0)
        return;
    out[0] = '\0';
    json_t *j = json_loadb(json, jlen, JSON_DISABLE_EOF_CHECK, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        put(out, len, &at, "#%lld %.*s", (long long)id, (int)(jlen > 400 ? 400 : jlen), json);
    } else {
        const char *ts = jstr(j, "ts"), *act = jstr(j, "action"), *type = jstr(j, "event_type");
        const char *rule = jstr(j, "rule"), *src = jstr(j, "src"), *peer = peer_of(j);
        const char *method = jstr(j, "method"), *reason = jstr(j, "reason"), *mode = jstr(j, "mode");
        json_t *st = json_object_get(j, "status");
        const char *inc = jstr(j, "incident_id"), *lis = jstr(j, "listener");
        put(out, len, &at, "%s %s%s %s %s", ts ? ts : "-", act ? act : "-",
            mode && strcmp(mode, "monitor") == 0   ? "(monitor)"
            : mode && strcmp(mode, "passive") == 0 ? "(passive)"
                                                   : "",
            type ? type : "-", rule ? rule : "-");
        put(out, len, &at, " src=%s", src ? src : "-");
        if (peer)
            put(out, len, &at, " peer=%s", peer);
        if (lis)
            put(out, len, &at, " listener=%s", lis);
        if (inc)
            put(out, len, &at, " incident=%s", inc);
        if (method)
            put(out, len, &at, " method=%s", method);
        else if (json_is_integer(st))
            put(out, len, &at, " status=%lld", (long long)json_integer_value(st));
        if (reason)
            put(out, len, &at, " \"%s\"", reason);
        json_decref(j);
    }
    /* one line on a terminal: control characters from peers never split it */
    for (size_t i = 0; i < at; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = ' ';
}
