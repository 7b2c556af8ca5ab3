/* The event pipeline: producers on their own threads through the writer
 * into the store and a JSON-lines file; full queues drop, count and say
 * so in an event_loss summary; byte ceilings; a failing store retried
 * without loss; reopen; free drains (or says what it abandoned);
 * retention run by the writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "sipwall/event.h"

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1795478400) * SEC)

static char dir[64], dbpath[128], logpath[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_test_pipe_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/events.db", dir);
    snprintf(logpath, sizeof logpath, "%s/events.jsonl", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Event number n of producer w: the reason says both. */
static int emit_one(sw_event_sink *s, int w, int n, int64_t ts)
{
    char reason[48];
    sw_event ev;
    sw_event_init(&ev, SW_EVT_SIP_FLOOD, SW_CAT_BEHAVIOURAL, "flood.invite");
    ev.ts_ns = ts;
    int k = snprintf(reason, sizeof reason, "w%d n%d", w, n);
    ev.reason = sw_str_make(reason, (size_t)k);
    ev.peer = SW_STR_LIT("carrier-a");
    return sw_event_emit(s, &ev);
}

/* ---- a test sink whose write_recs can be held shut ------------------------------- */

typedef struct gate_sink {
    sw_event_sink base;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int closed;        /* 1: write_recs waits */
    int waiting;       /* a write_recs is waiting */
    size_t n;
    char *lines[8192];
} gate_sink;

static int gs_write_recs(sw_event_sink *s, const sw_event_rec *recs, size_t n)
{
    gate_sink *g = (gate_sink *)s;
    pthread_mutex_lock(&g->mu);
    g->waiting = 1;
    pthread_cond_broadcast(&g->cv);
    while (g->closed)
        pthread_cond_wait(&g->cv, &g->mu);
    g->waiting = 0;
    for (size_t i = 0; i < n && g->n < 8192; i++)
        g->lines[g->n++] = strndup(recs[i].json, recs[i].json_len);
    s->emitted += n;
    pthread_mutex_unlock(&g->mu);
    return SW_OK;
}

static int gs_emit(sw_event_sink *s, const sw_event *ev)
{
    (void)s;
    (void)ev;
    return SW_EUSAGE;
}

static int gs_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}

static const sw_event_sink_ops gs_ops = {
    .name = "gate", .emit = gs_emit, .flush = gs_flush, .close = gs_flush,
    .write_recs = gs_write_recs};

static void gs_init(gate_sink *g, int closed)
{
    memset(g, 0, sizeof *g);
    g->base.ops = &gs_ops;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->closed = closed;
}

static void gs_open(gate_sink *g)
{
    pthread_mutex_lock(&g->mu);
    g->closed = 0;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void gs_wait_waiting(gate_sink *g)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&g->mu);
        int w = g->waiting;
        pthread_mutex_unlock(&g->mu);
        if (w)
            return;
        sleep_ms(10);
    }
    fail_msg("the writer never reached the sink");
}

static void gs_free(gate_sink *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->lines[i]);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}

/* ---- store helpers ----------------------------------------------------------------- */

static int64_t sql_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Checks per-producer order in the store: for each w, n increases by one
 * from 0 in id order.  Returns the rows seen per producer in seen[]. */
typedef struct order_ck {
    int next[8];
    int other; /* rows that are not producer events (summaries) */
} order_ck;

static int check_order(void *arg, const sw_event_row *row)
{
    order_ck *o = arg;
    json_t *j = json_loadb(row->json, row->json_len, 0, NULL);
    assert_non_null(j);
    const char *r = json_string_value(json_object_get(j, "reason"));
    int w, n;
    if (r && sscanf(r, "w%d n%d", &w, &n) == 2) {
        assert_true(w >= 0 && w < 8);
        assert_int_equal(n, o->next[w]);
        o->next[w]++;
        assert_string_equal(json_string_value(json_object_get(j, "peer")), "carrier-a");
    } else {
        o->other++;
    }
    json_decref(j);
    return 0;
}

/* ---- tests --------------------------------------------------------------------------- */

typedef struct prod_arg {
    sw_event_sink *s;
    int w, n;
    int refused;
} prod_arg;

static void *producer_main(void *arg)
{
    prod_arg *a = arg;
    for (int i = 0; i < a->n; i++) {
        /* a full queue refuses: retry this one later (tests want all) */
        int tries = 0;
        while (emit_one(a->s, a->w, i, T0 + i) != SW_OK) {
            a->refused++;
            if (++tries > 100000)
                return NULL;
            sleep_ms(1);
        }
    }
    return NULL;
}

static void test_two_producers_store_and_file(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_store *st = sw_event_store_open(dbpath, NULL, err, sizeof err);
    assert_non_null(st);
    sw_event_sink *log = sw_jsonl_sink_open_append(logpath, err, sizeof err);
    assert_non_null(log);
    sw_event_pipeline_opts o = {.producers = 2, .queue_records = 256, .batch_max = 100,
                                .store = st, .sinks = &log, .nsinks = 1};
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    assert_non_null(p);
    assert_null(sw_event_pipeline_producer(p, 2));

    enum { N = 3000 };
    pthread_t th[2];
    prod_arg a[2];
    for (int w = 0; w < 2; w++) {
        a[w] = (prod_arg){.s = sw_event_pipeline_producer(p, (unsigned)w), .w = w, .n = N};
        assert_int_equal(pthread_create(&th[w], NULL, producer_main, &a[w]), 0);
    }
    for (int w = 0; w < 2; w++)
        assert_int_equal(pthread_join(th[w], NULL), 0);
    assert_int_equal(sw_event_pipeline_flush(p, 10000), SW_OK);

    sw_event_pipeline_stats sx;
    sw_event_pipeline_stats_get(p, &sx);
    assert_int_equal(sx.enqueued, 2 * N);
    assert_int_equal(sx.queued, 0);
    assert_true(sx.written >= 2 * N);
    /* drops go on being summarised until the end: exact figures at free */
    assert_int_equal(sw_event_pipeline_free(p, &sx), SW_OK);
    assert_int_equal(sx.enqueued, 2 * N);
    assert_int_equal(sx.dropped, (uint64_t)(a[0].refused + a[1].refused));
    assert_int_equal(sx.written, 2 * N + sx.summaries);
    assert_int_equal(sx.abandoned, 0);
    assert_true(sx.batches >= 2 * N / 100);
    assert_true(sx.max_depth >= 1 && sx.max_depth <= 256);
    assert_int_equal(sx.write_errors, 0);
    assert_int_equal(sx.sink_errors, 0);
    if (sx.dropped)
        assert_true(sx.summaries >= 1);
    else
        assert_int_equal(sx.summaries, 0);

    /* everything committed, each producer's events in its order */
    order_ck ck;
    memset(&ck, 0, sizeof ck);
    assert_int_equal(sw_event_store_scan(st, 0, SIZE_MAX, check_order, &ck),
                     (int)(2 * N + sx.summaries));
    assert_int_equal(ck.next[0], N);
    assert_int_equal(ck.next[1], N);
    assert_int_equal((uint64_t)ck.other, sx.summaries);
    assert_int_equal(log->emitted, 2 * N + sx.summaries);
    assert_int_equal(sw_event_sink_close(log), SW_OK);
    sw_event_store_close(st);
    assert_int_equal(sql_int("SELECT count(*) FROM events WHERE peer = 'carrier-a'"), 2 * N);
    /* the file has the same events, whole lines */
    FILE *fp = fopen(logpath, "r");
    assert_non_null(fp);
    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, fp)) {
        assert_non_null(strchr(line, '\n'));
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        json_decref(j);
        lines++;
    }
    fclose(fp);
    assert_int_equal(lines, 2 * N + (int)sx.summaries);
}

/* The writer is held inside a sink: the producer's queue fills, further
 * events are dropped at once (emit returns, never waits), counted, and an
 * event_loss summary says how many once the writer goes on. */
static void test_full_queue_drops_and_reports(void **state)
{
    (void)state;
    gate_sink g;
    gs_init(&g, 1);
    sw_event_sink *sinks[1] = {&g.base};
    sw_event_pipeline_opts o = {.producers = 1, .queue_records = 16, .batch_max = 4,
                                .sinks = sinks, .nsinks = 1};
    char err[256] = "";
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    assert_non_null(p);
    sw_event_sink *s = sw_event_pipeline_producer(p, 0);
    assert_int_equal(emit_one(s, 0, 0, T0), SW_OK);
    gs_wait_waiting(&g); /* the writer holds a batch of 1 and waits */
    int ok = 0, refused = 0;
    for (int i = 1; i <= 100; i++) {
        int r = emit_one(s, 0, i, T0 + i);
        if (r == SW_OK)
            ok++;
        else {
            assert_int_equal(r, SW_ELIMIT);
            refused++;
        }
    }
    assert_int_equal(ok, 16); /* exactly the queue's ceiling */
    assert_int_equal(refused, 84);
    assert_int_equal(s->failed, 84);
    sw_event_pipeline_stats sx;
    sw_event_pipeline_stats_get(p, &sx);
    assert_int_equal(sx.dropped, 84);
    assert_int_equal(sx.enqueued, 17);
    assert_int_equal(sx.max_depth, 16);
    assert_int_equal(sx.queued, 16);

    gs_open(&g);
    assert_int_equal(sw_event_pipeline_flush(p, 10000), SW_OK);
    assert_int_equal(sw_event_pipeline_free(p, &sx), SW_OK);
    assert_int_equal(sx.summaries, 1);
    assert_int_equal(sx.written, 17 + 1);
    /* the sink got the 17 events and one summary telling the truth */
    assert_int_equal(g.n, 18);
    int summaries = 0;
    for (size_t i = 0; i < g.n; i++) {
        json_t *j = json_loads(g.lines[i], 0, NULL);
        assert_non_null(j);
        const char *type = json_string_value(json_object_get(j, "event_type"));
        if (strcmp(type, "event_loss") == 0) {
            summaries++;
            assert_string_equal(json_string_value(json_object_get(j, "category")), "system");
            assert_string_equal(json_string_value(json_object_get(j, "rule")),
                                "sipwall.events_dropped");
            json_t *ev = json_object_get(j, "evidence");
            assert_int_equal(json_integer_value(json_object_get(ev, "dropped")), 84);
            assert_int_equal(json_integer_value(json_object_get(ev, "dropped_total")), 84);
            assert_non_null(strstr(json_string_value(json_object_get(j, "reason")), "84 events"));
        }
        json_decref(j);
    }
    assert_int_equal(summaries, 1);
    gs_free(&g);
}

/* The byte ceiling holds even when the record count would allow more. */
static void test_byte_ceiling(void **state)
{
    (void)state;
    gate_sink g;
    gs_init(&g, 1);
    sw_event_sink *sinks[1] = {&g.base};
    sw_event_pipeline_opts o = {.producers = 1, .queue_records = 1024, .queue_bytes = 4096,
                                .batch_max = 1, .sinks = sinks, .nsinks = 1};
    char err[256] = "";
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    assert_non_null(p);
    sw_event_sink *s = sw_event_pipeline_producer(p, 0);
    assert_int_equal(emit_one(s, 0, 0, T0), SW_OK);
    gs_wait_waiting(&g);
    /* one event's JSON */
    sw_event ev;
    char reason[48];
    sw_event_init(&ev, SW_EVT_SIP_FLOOD, SW_CAT_BEHAVIOURAL, "flood.invite");
    ev.ts_ns = T0;
    int k = snprintf(reason, sizeof reason, "w%d n%d", 0, 10);
    ev.reason = sw_str_make(reason, (size_t)k);
    ev.peer = SW_STR_LIT("carrier-a");
    size_t len;
    char *js = sw_event_json(&ev, &len);
    free(js);
    int ok = 0;
    for (int i = 1; i <= 200; i++)
        ok += emit_one(s, 0, 10 + i % 10, T0) == SW_OK;
    assert_int_equal(ok, (int)(4096 / len));
    gs_open(&g);
    assert_int_equal(sw_event_pipeline_free(p, NULL), SW_OK);
    assert_int_equal(g.n, (size_t)ok + 1 + 1); /* + the first + the summary */
    gs_free(&g);
}

/* A store that is full: appends fail, the batch is kept and retried; once
 * space comes back (rows deleted through another connection) everything
 * accepted is committed exactly once. */
static void test_store_failure_retried(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_store_opts so = {.max_pages = 100};
    sw_event_store *st = sw_event_store_open(dbpath, &so, err, sizeof err);
    assert_non_null(st);
    /* fill it nearly to the ceiling directly */
    int pre = 0;
    for (;;) {
        sw_event_rec r[10];
        sw_event ev;
        sw_event_init(&ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "filler");
        ev.reason = SW_STR_LIT("filler filler filler filler filler filler filler filler");
        for (int i = 0; i < 10; i++)
            assert_int_equal(sw_event_rec_fill(&r[i], &ev), SW_OK);
        int rc = sw_event_store_append(st, r, 10);
        for (int i = 0; i < 10; i++)
            sw_event_rec_clear(&r[i]);
        if (rc != SW_OK)
            break;
        pre += 10;
    }
    /* then one by one: not even one record may fit, else a batch the
     * writer happens to take small (under load) is stored */
    for (;;) {
        sw_event_rec r;
        sw_event ev;
        sw_event_init(&ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "filler");
        ev.reason = SW_STR_LIT("f");
        assert_int_equal(sw_event_rec_fill(&r, &ev), SW_OK);
        int rc = sw_event_store_append(st, &r, 1);
        sw_event_rec_clear(&r);
        if (rc != SW_OK)
            break;
        pre++;
    }
    assert_true(pre > 0);
    sw_event_pipeline_opts o = {.producers = 1, .queue_records = 4096, .batch_max = 500,
                                .retry_ms = 50, .store = st};
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    assert_non_null(p);
    sw_event_sink *s = sw_event_pipeline_producer(p, 0);
    for (int i = 0; i < 300; i++)
        assert_int_equal(emit_one(s, 0, i, T0 + i), SW_OK);
    assert_int_equal(sw_event_pipeline_flush(p, 300), SW_EAGAIN); /* cannot be stored */
    sw_event_pipeline_stats sx;
    sw_event_pipeline_stats_get(p, &sx);
    assert_true(sx.write_errors >= 2);
    assert_int_equal(sx.written, 0);
    char why[256];
    sw_event_pipeline_last_error(p, why, sizeof why);
    assert_non_null(strstr(why, "store: "));
    assert_non_null(strstr(why, "full"));

    /* space comes back */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM events WHERE rule = 'filler'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sw_event_pipeline_flush(p, 10000), SW_OK);
    assert_int_equal(sw_event_pipeline_free(p, &sx), SW_OK);
    assert_int_equal(sx.written, 300);
    assert_int_equal(sx.dropped, 0);
    order_ck ck;
    memset(&ck, 0, sizeof ck);
    assert_int_equal(sw_event_store_scan(st, 0, SIZE_MAX, check_order, &ck), 300);
    assert_int_equal(ck.next[0], 300);
    sw_event_store_close(st);
}

/* free with a store that never recovers: it gives up after the close
 * timeout and says how many it abandoned. */
static void test_free_abandons_truthfully(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_store_opts so = {.max_pages = 12};
    sw_event_store *st = sw_event_store_open(dbpath, &so, err, sizeof err);
    assert_non_null(st);
    sw_event_pipeline_opts o = {.producers = 1, .batch_max = 64, .retry_ms = 20,
                                .close_timeout_ms = 200, .store = st};
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    assert_non_null(p);
    sw_event_sink *s = sw_event_pipeline_producer(p, 0);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(emit_one(s, 0, i, T0 + i), SW_OK);
    sw_event_pipeline_stats sx;
    assert_int_equal(sw_event_pipeline_free(p, &sx), SW_EIO);
    assert_true(sx.abandoned > 0);
    assert_int_equal(sx.written + sx.abandoned, 2000);
    int64_t rows = sw_event_store_last_id(st);
    assert_int_equal((uint64_t)rows, sx.written);
    sw_event_store_close(st);
}

static void test_free_drains(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_store *st = sw_event_store_open(dbpath, NULL, err, sizeof err);
    assert_non_null(st);
    sw_event_pipeline_opts o = {.producers = 3, .store = st};
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    assert_non_null(p);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(emit_one(sw_event_pipeline_producer(p, (unsigned)(i % 3)), i % 3, i / 3,
                                  T0 + i),
                         SW_OK);
    sw_event_pipeline_stats sx;
    assert_int_equal(sw_event_pipeline_free(p, &sx), SW_OK); /* no flush before */
    assert_int_equal(sx.written, 1000);
    assert_int_equal(sw_event_store_last_id(st), 1000);
    sw_event_store_close(st);
}

static void test_reopen(void **state)
{
    (void)state;
    char err[256] = "", rotated[160];
    snprintf(rotated, sizeof rotated, "%s.1", logpath);
    sw_event_sink *log = sw_jsonl_sink_open_append(logpath, err, sizeof err);
    assert_non_null(log);
    sw_event_pipeline_opts o = {.producers = 1, .sinks = &log, .nsinks = 1};
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    assert_non_null(p);
    sw_event_sink *s = sw_event_pipeline_producer(p, 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(emit_one(s, 0, i, T0), SW_OK);
    assert_int_equal(sw_event_pipeline_flush(p, 5000), SW_OK);
    assert_int_equal(rename(logpath, rotated), 0);
    sw_event_pipeline_reopen(p);
    sw_event_pipeline_stats sx;
    for (int i = 0; i < 500; i++) {
        sw_event_pipeline_stats_get(p, &sx);
        if (sx.reopens)
            break;
        sleep_ms(10);
    }
    assert_int_equal(sx.reopens, 1);
    assert_int_equal(sx.reopen_errors, 0);
    char why[256] = "x";
    sw_event_pipeline_last_error(p, why, sizeof why);
    assert_string_equal(why, "");
    for (int i = 5; i < 8; i++)
        assert_int_equal(emit_one(s, 0, i, T0), SW_OK);
    assert_int_equal(sw_event_pipeline_flush(p, 5000), SW_OK);
    /* a reopen that fails (a symlink planted at the path) is counted and
     * told; writing goes on to the file it had */
    char planted[160], target[160];
    snprintf(planted, sizeof planted, "%s.2", logpath);
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    assert_int_equal(rename(logpath, planted), 0);
    assert_int_equal(symlink(target, logpath), 0);
    sw_event_pipeline_reopen(p);
    for (int i = 0; i < 500; i++) {
        sw_event_pipeline_stats_get(p, &sx);
        if (sx.reopen_errors)
            break;
        sleep_ms(10);
    }
    assert_int_equal(sx.reopen_errors, 1);
    sw_event_pipeline_last_error(p, why, sizeof why);
    assert_non_null(strstr(why, "reopen failed"));
    assert_int_equal(emit_one(s, 0, 8, T0), SW_OK);
    assert_int_equal(sw_event_pipeline_free(p, NULL), SW_OK);
    assert_int_equal(access(target, F_OK), -1);
    assert_int_equal(unlink(logpath), 0);
    assert_int_equal(rename(planted, logpath), 0); /* 3 + 1 lines */
    assert_int_equal(sw_event_sink_close(log), SW_OK);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(wc -l < '%s') = 5 && test $(wc -l < '%s') = 4", rotated,
             logpath);
    assert_int_equal(system(cmd), 0);
}

static void test_retention_by_writer(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_store_opts so = {.max_age_s = 3600};
    sw_event_store *st = sw_event_store_open(dbpath, &so, err, sizeof err);
    assert_non_null(st);
    sw_event_pipeline_opts o = {.producers = 1, .retain_every_s = 1, .store = st};
    sw_event_pipeline *p = sw_event_pipeline_new(&o, err, sizeof err);
    assert_non_null(p);
    sw_event_sink *s = sw_event_pipeline_producer(p, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t t = (int64_t)now.tv_sec * SEC;
    for (int i = 0; i < 50; i++) /* 50 two hours old, 10 fresh */
        assert_int_equal(emit_one(s, 0, i, t - 7200 * SEC), SW_OK);
    for (int i = 50; i < 60; i++)
        assert_int_equal(emit_one(s, 0, i, t), SW_OK);
    sw_event_pipeline_stats sx;
    for (int i = 0; i < 400; i++) {
        sw_event_pipeline_stats_get(p, &sx);
        if (sx.retained)
            break;
        sleep_ms(10);
    }
    assert_int_equal(sx.retained, 50);
    assert_int_equal(sw_event_pipeline_free(p, NULL), SW_OK);
    assert_int_equal(sql_int("SELECT count(*) FROM events"), 10);
    sw_event_store_close(st);
}

/* kill -9 of a process whose pipeline is writing (R2 at library level):
 * every event the pipeline reported as written is in the store, the store
 * is consistent, and the JSON-lines file, once reopened (its torn tail
 * cut), is whole lines that the store also has. */
static void test_kill9_under_load(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        sw_event_store *st = sw_event_store_open(dbpath, NULL, NULL, 0);
        sw_event_sink *log = sw_jsonl_sink_open_append(logpath, NULL, 0);
        if (!st || !log)
            _exit(2);
        sw_event_pipeline_opts o = {.producers = 2, .batch_max = 256, .store = st,
                                    .sinks = &log, .nsinks = 1};
        sw_event_pipeline *p = sw_event_pipeline_new(&o, NULL, 0);
        if (!p)
            _exit(3);
        for (int i = 0; i < 10000000; i++) {
            (void)emit_one(sw_event_pipeline_producer(p, (unsigned)(i & 1)), i & 1, i / 2, T0 + i);
            if (i % 200 == 0) {
                sw_event_pipeline_stats sx;
                sw_event_pipeline_stats_get(p, &sx);
                uint64_t w = sx.written;
                if (write(fds[1], &w, sizeof w) != sizeof w)
                    _exit(4);
            }
        }
        _exit(0);
    }
    close(fds[1]);
    sleep_ms(400);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    uint64_t acked = 0, v;
    while (read(fds[0], &v, sizeof v) == sizeof v)
        acked = v;
    close(fds[0]);
    assert_true(acked > 0);

    char err[256] = "";
    sw_event_store *st = sw_event_store_open(dbpath, NULL, err, sizeof err);
    assert_non_null(st);
    int64_t rows = sql_int("SELECT count(*) FROM events");
    assert_true((uint64_t)rows >= acked);
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(db);
    /* per-producer order holds in what was committed */
    order_ck ck;
    memset(&ck, 0, sizeof ck);
    assert_int_equal(sw_event_store_scan(st, 0, SIZE_MAX, check_order, &ck), (int)rows);
    sw_event_store_close(st);

    /* the file: a restart cuts a torn tail; then every line is JSON and
     * the file holds no more events than the store (it is written after
     * each commit) */
    sw_event_sink *log = sw_jsonl_sink_open_append(logpath, err, sizeof err);
    assert_non_null(log);
    assert_int_equal(sw_event_sink_close(log), SW_OK);
    FILE *fp = fopen(logpath, "r");
    assert_non_null(fp);
    static char line[8192];
    int64_t lines = 0;
    while (fgets(line, sizeof line, fp)) {
        assert_non_null(strchr(line, '\n'));
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        json_decref(j);
        lines++;
    }
    fclose(fp);
    assert_true(lines <= rows);
    assert_true(rows - lines <= 256 * 2); /* at most what was between commit and write */
}

static void test_bad_options(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_pipeline_opts o = {.producers = 0};
    assert_null(sw_event_pipeline_new(&o, err, sizeof err));
    assert_non_null(strstr(err, "producers"));
    sw_event_sink *plain = sw_jsonl_sink_new(stdout, 0);
    /* a sink without write_recs cannot be attached */
    static const sw_event_sink_ops no_recs = {.name = "x", .emit = gs_emit, .flush = gs_flush,
                                              .close = gs_flush};
    sw_event_sink bare = {.ops = &no_recs};
    sw_event_sink *sinks[2] = {plain, &bare};
    o = (sw_event_pipeline_opts){.producers = 1, .sinks = sinks, .nsinks = 2};
    err[0] = '\0';
    assert_null(sw_event_pipeline_new(&o, err, sizeof err));
    assert_non_null(strstr(err, "sink"));
    assert_int_equal(sw_event_sink_close(plain), SW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_producers_store_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_drops_and_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_ceiling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_failure_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_abandons_truthfully, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_by_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_under_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
