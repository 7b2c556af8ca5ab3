/* bench_events — events/s sustained into SQLite through the event pipeline,
 * next to anchors measured in the same run.
 *
 * usage: bench_events [-n EVENTS] [-b BATCH] [-p PRODUCERS] [-r ROUNDS] [-d DIR]
 *
 * Every row runs once per round, rows interleaved (the shared machine's
 * load drifts), and the best of ROUNDS (3) is printed.
 *
 * Rows (EVENTS, default 200000, of one realistic event: every field set,
 * three evidence pairs, about 600 bytes of JSON):
 *   json            sw_event_rec_fill + _clear on one thread: the
 *                   serialisation each producer does once per event;
 *   sqlite FULL     the anchor: the same rows (serialised beforehand)
 *                   inserted with the sqlite3 API into the same schema, one
 *                   transaction per BATCH (default 1024), WAL,
 *                   synchronous=FULL; nothing else;
 *   sqlite NORMAL   the same with synchronous=NORMAL;
 *   pipeline FULL   PRODUCERS (2) threads emit through their producer sinks
 *                   into sw_event_pipeline, whose writer appends to an
 *                   sw_event_store (synchronous=FULL); the rate is events
 *                   committed per second from the first emit to the end of
 *                   sw_event_pipeline_flush.  Producers go as fast as they
 *                   can; a refused emit (full queue) is retried after
 *                   100 us, so every event is stored and the refusals are
 *                   printed (in the daemon they would be drops);
 *   pipeline NORMAL the same, synchronous=NORMAL;
 *   pipeline FULL + jsonl   the same as pipeline FULL plus the
 *                   append-only JSON-lines file as a second output.
 * DIR (default ".") must be on the disk whose fsync is to be measured (not
 * tmpfs).  Figures are printed, never asserted. */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sipwall/event.h"

static size_t n_events = 200000;
static size_t batch = 1024;
static unsigned producers = 2;
static const char *dir = ".";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One realistic event; i varies the time, the Call-ID and a counter. */
static void make_event(sw_event *ev, size_t i, char *callid, size_t cap)
{
    sw_event_init(ev, SW_EVT_SIP_FLOOD, SW_CAT_BEHAVIOURAL, "flood.invite");
    ev->ts_ns = INT64_C(1795478400000000000) + (int64_t)i * 1000;
    ev->action = SW_ACTION_RATE_LIMIT;
    ev->action_status = 503;
    ev->confidence = 90;
    ev->reason = SW_STR_LIT("INVITE rate 412/s from 192.0.2.44 above the partner's 200/s "
                            "(window 1 s)");
    ev->peer = SW_STR_LIT("carrier-a");
    if (sw_addr_parse("192.0.2.44:5060", &ev->src) != SW_OK ||
        sw_addr_parse("198.51.100.1:5060", &ev->dst) != SW_OK)
        abort();
    ev->transport = SW_TRANSPORT_UDP;
    ev->method = SW_STR_LIT("INVITE");
    int n = snprintf(callid, cap, "a84b4c76e66710%zu@192.0.2.44", i);
    ev->call_id = sw_str_make(callid, (size_t)n);
    ev->from = SW_STR_LIT("+442071838750");
    ev->to = SW_STR_LIT("+447700900123");
    ev->ruri = SW_STR_LIT("+447700900123");
    (void)sw_event_add_num(ev, "rate", 412);
    (void)sw_event_add_num(ev, "limit", 200);
    (void)sw_event_add_num(ev, "seq", (int64_t)i);
}

/* The best (shortest) round of each row, printed at the end. */
#define NROWS 6
static struct {
    char name[64];
    size_t n;
    double secs;
    char extra[160];
} best[NROWS];
static int cur_row;
static unsigned rounds = 3;

static void row(const char *name, size_t n, double secs, const char *extra)
{
    int i = cur_row++;
    if (best[i].secs == 0 || secs < best[i].secs) {
        snprintf(best[i].name, sizeof best[i].name, "%s", name);
        best[i].n = n;
        best[i].secs = secs;
        snprintf(best[i].extra, sizeof best[i].extra, "%s", extra);
    }
    if (getenv("BENCH_EVENTS_VERBOSE"))
        printf("  round: %-24s %10.0f events/s\n", name, (double)n / secs);
}

static void print_row(const char *name, size_t n, double secs, const char *extra)
{
    printf("%-24s %9zu events in %6.2f s: %10.0f events/s  %7.2f us/event%s%s\n", name, n, secs,
           (double)n / secs, secs * 1e6 / (double)n, extra[0] ? "  " : "", extra);
}

static void bench_json(void)
{
    char callid[64];
    sw_event ev;
    double t0 = now_s();
    size_t bytes = 0;
    for (size_t i = 0; i < n_events; i++) {
        sw_event_rec r;
        make_event(&ev, i, callid, sizeof callid);
        if (sw_event_rec_fill(&r, &ev) != SW_OK) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        bytes += r.json_len;
        sw_event_rec_clear(&r);
    }
    char extra[64];
    snprintf(extra, sizeof extra, "(%zu bytes of JSON each)", bytes / n_events);
    row("json (serialise)", n_events, now_s() - t0, extra);
}

static void db_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/bench-events-%s.db", dir, name);
}

static void remove_db(const char *p)
{
    char x[600];
    unlink(p);
    snprintf(x, sizeof x, "%s-wal", p);
    unlink(x);
    snprintf(x, sizeof x, "%s-shm", p);
    unlink(x);
}

/* The anchor: raw sqlite3 inserts of pre-serialised rows, the store's
 * schema (created by opening a store once), one transaction per batch. */
static void bench_sqlite(int full)
{
    char path[512], callid[64];
    db_path(path, sizeof path, full ? "raw-full" : "raw-normal");
    remove_db(path);
    char err[256];
    sw_event_store *s = sw_event_store_open(path, NULL, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    sw_event_store_close(s);
    sw_event_rec *recs = calloc(n_events, sizeof *recs);
    for (size_t i = 0; i < n_events; i++) {
        sw_event ev;
        make_event(&ev, i, callid, sizeof callid);
        if (!recs || sw_event_rec_fill(&recs[i], &ev) != SW_OK) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL,
                     NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO events(ts_ns, type, src, peer, rule, json)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    double t0 = now_s();
    for (size_t i = 0; i < n_events; i += batch) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (size_t k = i; k < i + batch && k < n_events; k++) {
            sqlite3_bind_int64(st, 1, recs[k].ts_ns);
            sqlite3_bind_text(st, 2, sw_event_type_name(recs[k].type), -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, recs[k].src, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, recs[k].peer, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, recs[k].rule, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, recs[k].json, (int)recs[k].json_len, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
                exit(1);
            }
            sqlite3_reset(st);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
    }
    double secs = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (size_t i = 0; i < n_events; i++)
        sw_event_rec_clear(&recs[i]);
    free(recs);
    char extra[64];
    snprintf(extra, sizeof extra, "(batch %zu)", batch);
    row(full ? "sqlite FULL (anchor)" : "sqlite NORMAL (anchor)", n_events, secs, extra);
    remove_db(path);
}

typedef struct prod {
    sw_event_sink *s;
    size_t first, n;
    uint64_t refused;
} prod;

static void *prod_main(void *arg)
{
    prod *p = arg;
    char callid[64];
    sw_event ev;
    for (size_t i = p->first; i < p->first + p->n; i++) {
        make_event(&ev, i, callid, sizeof callid);
        while (sw_event_emit(p->s, &ev) != SW_OK) {
            /* full queue: a worker would have dropped it; here we wait
             * 100 us so that every event is stored (and do not spin on
             * the cores the writer needs) */
            struct timespec ts = {0, 100000};
            p->refused++;
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void bench_pipeline(int full, int with_jsonl)
{
    char path[512], logp[600], err[256];
    db_path(path, sizeof path, full ? "pipe-full" : "pipe-normal");
    remove_db(path);
    snprintf(logp, sizeof logp, "%s/bench-events.jsonl", dir);
    unlink(logp);
    sw_event_store_opts so = {.sync_normal = (uint8_t)!full};
    sw_event_store *s = sw_event_store_open(path, &so, err, sizeof err);
    sw_event_sink *log = with_jsonl ? sw_jsonl_sink_open_append(logp, err, sizeof err) : NULL;
    if (!s || (with_jsonl && !log)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    sw_event_pipeline_opts o = {.producers = producers, .batch_max = batch, .store = s,
                                .sinks = with_jsonl ? &log : NULL, .nsinks = with_jsonl ? 1 : 0};
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    prod *ps = calloc(producers, sizeof *ps);
    pthread_t *th = calloc(producers, sizeof *th);
    if (!ps || !th)
        exit(1);
    double t0 = now_s();
    for (unsigned i = 0; i < producers; i++) {
        ps[i].s = sw_event_pipeline_producer(p, i);
        ps[i].first = n_events / producers * i;
        ps[i].n = n_events / producers;
        pthread_create(&th[i], NULL, prod_main, &ps[i]);
    }
    uint64_t refused = 0;
    for (unsigned i = 0; i < producers; i++) {
        pthread_join(th[i], NULL);
        refused += ps[i].refused;
    }
    if (sw_event_pipeline_flush(p, 600000) != SW_OK)
        fprintf(stderr, "flush timed out\n");
    double secs = now_s() - t0;
    sw_event_pipeline_stats st;
    sw_event_pipeline_free(p, &st);
    sw_event_sink_close(log);
    sw_event_store_close(s);
    char extra[160];
    snprintf(extra, sizeof extra, "(%u producers, %llu batches, max depth %llu, %llu refusals retried)",
             producers, (unsigned long long)st.batches, (unsigned long long)st.max_depth,
             (unsigned long long)refused);
    char name[64];
    snprintf(name, sizeof name, "pipeline %s%s", full ? "FULL" : "NORMAL",
             with_jsonl ? " + jsonl" : "");
    row(name, (size_t)(st.written - st.summaries), secs, extra);
    remove_db(path);
    unlink(logp);
}

int main(int argc, char **argv)
{
    int c;
    while ((c = getopt(argc, argv, "n:b:p:d:r:")) != -1) {
        switch (c) {
        case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'n': n_events = strtoull(optarg, NULL, 10); break;
        case 'b': batch = strtoull(optarg, NULL, 10); break;
        case 'p': producers = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': dir = optarg; break;
        default:
            fprintf(stderr, "usage: bench_events [-n EVENTS] [-b BATCH] [-p PRODUCERS] [-r ROUNDS] "
                            "[-d DIR]\n");
            return 2;
        }
    }
    if (!n_events || !batch || !producers || producers > 64 || !rounds) {
        fprintf(stderr, "bench_events: bad arguments\n");
        return 2;
    }
    n_events -= n_events % producers;
    printf("events: %zu, batch: %zu, producers: %u, rounds: %u (best kept, rows interleaved), "
           "sqlite %s, dir %s\n",
           n_events, batch, producers, rounds, sqlite3_libversion(), dir);
    for (unsigned r = 0; r < rounds; r++) {
        cur_row = 0;
        bench_json();
        bench_sqlite(1);
        bench_pipeline(1, 0);
        bench_sqlite(0);
        bench_pipeline(0, 0);
        bench_pipeline(1, 1);
    }
    for (int i = 0; i < NROWS; i++)
        print_row(best[i].name, best[i].n, best[i].secs, best[i].extra);
    printf("pipeline FULL / sqlite FULL anchor: %.2f\n",
           (best[2].n / best[2].secs) / (best[1].n / best[1].secs));
    return 0;
}
