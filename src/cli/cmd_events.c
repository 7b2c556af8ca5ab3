/* sipwall events: query the event store sipwalld writes (events-db). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "events.h"
#include "sipwall/event.h"

#define EVENTS_CHUNK 1000       /* rows per read transaction */
#define EVENTS_POLL_NS 250000000 /* --follow: how often the store is polled */

static const char events_usage[] =
    "usage: sipwall events [--db PATH] [--since T] [--until T] [--type TYPE] [--src IP]\n"
    "                      [--peer NAME] [--rule RULE] [--incident ID] [--mode MODE]\n"
    "                      [--limit N] [--json] [--follow]\n"
    "\n"
    "Prints the events sipwalld stored in its event database (events-db), oldest first,\n"
    "one readable line each, or with --json the stored JSON objects, one per line.\n"
    "\n"
    "  --db PATH      the database (default $SIPWALL_EVENTS_DB, else " CLI_EVENTS_DEFAULT_DB ")\n"
    "  --since T      events at or after T\n"
    "  --until T      events before T\n"
    "                 T: RFC 3339 (2026-12-07T10:00:00Z, 2026-12-07T11:00:00+01:00),\n"
    "                 a date (2026-12-07, UTC), now, or relative: -30s, -10m, -2h, -1d, -1w\n"
    "  --type TYPE    event type (sip_scan, sip_flood, sip_malformed, policy_violation, ...)\n"
    "  --src IP       source address (any port)\n"
    "  --peer NAME    the partner the policy identified\n"
    "  --rule RULE    rule id (e.g. sip.malformed)\n"
    "  --incident ID  the events of one incident (incident_id, 16 hex digits)\n"
    "  --mode MODE    enforce, monitor or passive (passive: nothing was enforced)\n"
    "  --limit N      only the newest N matching events (with --follow: then the new ones)\n"
    "  --json         the stored JSON objects (as the events file has them)\n"
    "  --follow, -f   keep printing new events as they are stored, until SIGINT/SIGTERM\n"
    "\n"
    "exit status: 0 success (also when nothing matched), 2 bad arguments or an unreadable\n"
    "database.\n";

static volatile sig_atomic_t events_stop;

static void on_signal(int sig)
{
    (void)sig;
    events_stop = 1;
}

typedef struct events_run {
    const cli_events_opts *o;
    uint64_t printed;
    int64_t last_id;
    int out_error;
    char line[4096];
} events_run;

static int on_row(void *arg, const sw_event_row *row)
{
    events_run *r = arg;
    r->last_id = row->id;
    if (!cli_events_match(r->o, row->ts_ns, row->json, row->json_len))
        return 0;
    if (r->o->json) {
        if (fwrite(row->json, 1, row->json_len, stdout) != row->json_len || putchar('\n') == EOF)
            r->out_error = 1;
    } else {
        cli_events_format_line(row->id, row->json, row->json_len, r->line, sizeof r->line);
        if (puts(r->line) == EOF)
            r->out_error = 1;
    }
    r->printed++;
    return r->out_error || events_stop;
}

static void to_query(const cli_events_opts *o, sw_event_query *q)
{
    memset(q, 0, sizeof *q);
    q->since_ns = o->has_since && o->since_ns > 0 ? o->since_ns : 0; /* 0: no bound */
    q->until_ns = o->has_until ? o->until_ns : 0;
    q->type = o->type;
    q->src = o->src[0] ? o->src : NULL;
    q->peer = o->peer;
    q->rule = o->rule;
    q->incident = o->incident;
    q->mode = o->mode;
}

/* Prints the matching rows stored after r->last_id, EVENTS_CHUNK per read
 * transaction.  Rows up to the last id seen before the query have all
 * been considered after it, matching or not, so the next call starts
 * there.  Returns 0, or a negative SW_E* from the store. */
static int drain(sw_event_store *st, events_run *r)
{
    sw_event_query q;
    to_query(r->o, &q);
    for (;;) {
        int64_t top = sw_event_store_last_id(st);
        if (top < 0)
            return (int)top;
        q.after_id = r->last_id;
        q.limit = EVENTS_CHUNK;
        int n = sw_event_store_query(st, &q, on_row, r);
        if (n < 0)
            return n;
        if (r->out_error || events_stop)
            return 0;
        if (n < EVENTS_CHUNK) {
            if (top > r->last_id)
                r->last_id = top;
            return 0;
        }
    }
}

/* --limit N: the newest N matches, in id order. */
static int newest(sw_event_store *st, events_run *r)
{
    sw_event_query q;
    to_query(r->o, &q);
    int64_t top = sw_event_store_last_id(st);
    if (top < 0)
        return (int)top;
    q.limit = (size_t)r->o->limit;
    q.newest = 1;
    int n = sw_event_store_query(st, &q, on_row, r);
    if (n < 0)
        return n;
    if (top > r->last_id)
        r->last_id = top;
    return 0;
}

static int64_t wall_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int run_events(int argc, char **argv)
{
    cli_events_opts o;
    char err[512];
    if (cli_events_parse_args(argc, argv, wall_ns(), &o, err, sizeof err) < 0)
        return cli_usage("events", "%s", err);
    if (o.help) {
        fputs(events_usage, stdout);
        return CLI_EXIT_OK;
    }
    sw_event_store_opts so = {.readonly = 1};
    sw_event_store *st = sw_event_store_open(o.db, &so, err, sizeof err);
    if (!st) {
        fprintf(stderr, "sipwall events: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a sleep ends at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    events_run *r = calloc(1, sizeof *r);
    if (!r) {
        sw_event_store_close(st);
        fprintf(stderr, "sipwall events: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    r->o = &o;
    int rc = 0;
    if (!(o.has_until && o.until_ns <= 0)) /* before 1970: nothing */
        rc = o.limit ? newest(st, r) : drain(st, r);
    while (rc == 0 && o.follow && !events_stop && !r->out_error) {
        if (fflush(stdout) == EOF)
            r->out_error = 1;
        struct timespec ts = {0, EVENTS_POLL_NS};
        nanosleep(&ts, NULL);
        if (!events_stop)
            rc = drain(st, r);
    }
    if (fflush(stdout) == EOF)
        r->out_error = 1;
    int code = CLI_EXIT_OK;
    if (rc < 0) {
        fprintf(stderr, "sipwall events: reading %s: %s\n", o.db, sw_strerror(rc));
        code = CLI_EXIT_USAGE;
    } else if (r->out_error) {
        fprintf(stderr, "sipwall events: writing the output: %s\n", strerror(errno));
        code = CLI_EXIT_USAGE;
    }
    free(r);
    sw_event_store_close(st);
    return code;
}

const cli_command cli_cmd_events = {"events", run_events, "query the events sipwalld stored (events-db)",
                                    events_usage};
