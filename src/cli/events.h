/* `sipwall events`: the arguments, the time syntax and the row filter
 * (src/cli/events_args.c), kept apart from the command itself
 * (src/cli/cmd_events.c) so the unit tests reach them without the store. */
#ifndef SIPWALL_CLI_EVENTS_H
#define SIPWALL_CLI_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall/common.h"

#define CLI_EVENTS_DEFAULT_DB "/var/lib/sipwall/events.db"
#define CLI_EVENTS_IP_MAX 46 /* INET6_ADDRSTRLEN */

typedef struct cli_events_opts {
    const char *db;          /* --db, else $SIPWALL_EVENTS_DB, else CLI_EVENTS_DEFAULT_DB */
    int64_t since_ns;        /* valid when has_since: events at or after */
    int64_t until_ns;        /* valid when has_until: events strictly before */
    uint8_t has_since, has_until;
    const char *type;        /* an event type of the vocabulary (checked), NULL = any */
    char src[CLI_EVENTS_IP_MAX]; /* canonical IP text, "" = any */
    const char *peer;        /* partner name, NULL = any */
    const char *rule;        /* rule id, NULL = any */
    const char *incident;    /* incident_id, NULL = any */
    const char *mode;        /* "enforce", "monitor" or "passive", NULL = any */
    uint64_t limit;          /* only the newest this many matches (still oldest first); 0 = all */
    uint8_t json, follow, help;
} cli_events_opts;

/* Parses the command line of `sipwall events` (argv[0] is "events"),
 * relative times taken from now_ns (ns since the Unix epoch).  Returns 0,
 * or -1 with a one-line message in err (the caller exits 2).  No positional
 * arguments are accepted.  Resets getopt's state first, so it may be
 * called more than once in one process. */
int cli_events_parse_args(int argc, char **argv, int64_t now_ns, cli_events_opts *o, char *err,
                          size_t errlen) SW_NONNULL(2, 4, 5);

/* A time for --since/--until: RFC 3339 ("2026-12-07T10:00:00Z",
 * "2026-12-07T10:00:00.250+01:00"; 't', 'z' and a blank for 'T' accepted),
 * a date alone ("2026-12-07", midnight UTC), "now", or relative to now_ns:
 * "-90s", "-10m", "-2h", "-1d" (a minus sign, digits, one unit).  Returns 0
 * with *out in ns since the epoch, or -1 with a message in err. */
int cli_events_parse_time(const char *s, int64_t now_ns, int64_t *out, char *err, size_t errlen)
    SW_NONNULL(1, 3, 4);

/* Does one stored event (its JSON object, len bytes, from the store) pass
 * every filter in o?  ts_ns is the row's time.  A row whose JSON does not
 * parse passes only when no field filter is set (it is shown, not hidden). */
int cli_events_match(const cli_events_opts *o, int64_t ts_ns, const char *json, size_t len)
    SW_NONNULL(1, 3);

/* The IP part of an event's "src"/"dst" text ("1.2.3.4:5060",
 * "[2001:db8::1]:5060", or an address alone) in canonical form into out
 * (CLI_EVENTS_IP_MAX bytes).  Returns 0, or -1 when it is not an address. */
int cli_events_ip_of(const char *s, char *out) SW_NONNULL(1, 2);

/* One readable line for a stored event (no newline): time, action, type,
 * rule, source, peer, method or status, reason.  Writes at most len-1
 * bytes and a NUL; a JSON that does not parse is shown as it is. */
void cli_events_format_line(int64_t id, const char *json, size_t jlen, char *out, size_t len)
    SW_NONNULL(2, 4);

#endif
