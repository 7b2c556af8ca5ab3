/* Event ids and incidents in the event layer: UUIDv7 text, unique over
 * 100k events of one generator and across generators (a restart of the
 * daemon on the same store); the store keeps incident_id in an indexed
 * column that `sipwall events --incident` filters on, and a version 1
 * store is migrated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sipwall/event.h"

#define N_IDS 100000

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, SW_EVENT_ID_LEN);
}

static void check_format(const char *id)
{
    assert_int_equal(strlen(id), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(id[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", id[i]));
    }
    assert_int_equal(id[14], '7');                   /* version 7 */
    assert_non_null(strchr("89ab", id[19]));         /* variant 10 */
}

static void ids_unique(void **state)
{
    (void)state;
    char(*ids)[SW_EVENT_ID_LEN] = malloc((size_t)2 * N_IDS * SW_EVENT_ID_LEN);
    assert_non_null(ids);
    sw_event_ids a, b;
    sw_event_ids_init(&a);
    sw_event_ids_init(&b); /* another worker, or the daemon after a restart */
    int64_t ts = INT64_C(1790000000) * 1000000000;
    for (int i = 0; i < N_IDS; i++) {
        /* a burst: many events in the same millisecond */
        sw_event_id_next(&a, ts + (i / 1000) * 1000000, ids[i]);
        sw_event_id_next(&b, ts + (i / 1000) * 1000000, ids[N_IDS + i]);
    }
    check_format(ids[0]);
    check_format(ids[N_IDS + 12345]);
    /* the time leads: ids of later events sort later */
    assert_true(memcmp(ids[0], ids[N_IDS - 1], 12) < 0);
    qsort(ids, (size_t)2 * N_IDS, SW_EVENT_ID_LEN, cmp_id);
    for (int i = 1; i < 2 * N_IDS; i++)
        if (memcmp(ids[i - 1], ids[i], SW_EVENT_ID_LEN) == 0)
            fail_msg("duplicate id %s", ids[i]);
    free(ids);
}

static int collect(void *arg, const sw_event_row *row)
{
    size_t *n = arg;
    assert_non_null(row->json);
    (*n)++;
    return 0;
}

static void store_path(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/sw_test_ids_%d.db", (int)getpid());
    char more[300];
    unlink(path);
    snprintf(more, sizeof more, "%s-wal", path);
    unlink(more);
    snprintf(more, sizeof more, "%s-shm", path);
    unlink(more);
}

/* Appends n events made with generator g (incident inc) to the store. */
static void append(sw_event_store *s, sw_event_ids *g, size_t n, const char *inc, int64_t ts)
{
    sw_event_rec *recs = calloc(n, sizeof *recs);
    assert_non_null(recs);
    for (size_t i = 0; i < n; i++) {
        sw_event ev;
        sw_event_init(&ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "scan.sweep");
        ev.ts_ns = ts;
        snprintf(ev.incident_id, sizeof ev.incident_id, "%s", inc);
        ev.passive = inc[0] == 'c';
        sw_event_id_next(g, ev.ts_ns, ev.event_id);
        assert_int_equal(sw_event_rec_fill(&recs[i], &ev), SW_OK);
    }
    assert_int_equal(sw_event_store_append(s, recs, n), SW_OK);
    for (size_t i = 0; i < n; i++)
        sw_event_rec_clear(&recs[i]);
    free(recs);
}

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Restarting the daemon (a new generator) on the same store: no event_id
 * is stored twice; --incident finds an incident's rows by its index. */
static void store_restart_and_incident(void **state)
{
    (void)state;
    char path[256], err[256];
    store_path(path, sizeof path);
    int64_t ts = INT64_C(1790000000) * 1000000000;
    for (int run = 0; run < 2; run++) {
        sw_event_store *s = sw_event_store_open(path, NULL, err, sizeof err);
        if (!s)
            fail_msg("%s", err);
        sw_event_ids g;
        sw_event_ids_init(&g);
        /* the same clock in both runs: only the node tells them apart */
        append(s, &g, 3000, run ? "bbbbbbbbbbbbbbbb" : "aaaaaaaaaaaaaaaa", ts);
        append(s, &g, 5, "cccccccccccccccc", ts);
        sw_event_store_close(s);
    }
    assert_int_equal(sql_int(path, "SELECT count(*) FROM events"), 6010);
    assert_int_equal(
        sql_int(path, "SELECT count(DISTINCT json_extract(json, '$.event_id')) FROM events"), 6010);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'events_incident'"),
                     1);
    sw_event_store *s = sw_event_store_open(path, &(sw_event_store_opts){.readonly = 1}, err,
                                            sizeof err);
    assert_non_null(s);
    size_t n = 0;
    sw_event_query q = {.incident = "cccccccccccccccc"};
    assert_int_equal(sw_event_store_query(s, &q, collect, &n), 10);
    assert_int_equal(n, 10);
    q.incident = "aaaaaaaaaaaaaaaa";
    n = 0;
    assert_int_equal(sw_event_store_query(s, &q, collect, &n), 3000);
    /* --mode: read from the JSON */
    sw_event_query qm = {.mode = "passive"};
    n = 0;
    assert_int_equal(sw_event_store_query(s, &qm, collect, &n), 10);
    qm.mode = "enforce";
    n = 0;
    assert_int_equal(sw_event_store_query(s, &qm, collect, &n), 6000);
    sw_event_store_close(s);
    store_path(path, sizeof path);
}

/* A version 1 store (no incident column) is migrated by the writer and
 * keeps its rows. */
static void migrate_v1(void **state)
{
    (void)state;
    char path[256], err[256];
    store_path(path, sizeof path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA journal_mode=WAL;"
                                  "CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                  " ts_ns INTEGER NOT NULL, type TEXT NOT NULL,"
                                  " src TEXT NOT NULL DEFAULT '', peer TEXT NOT NULL DEFAULT '',"
                                  " rule TEXT NOT NULL DEFAULT '', json TEXT NOT NULL);"
                                  "CREATE TABLE cursors(name TEXT PRIMARY KEY, id INTEGER NOT NULL)"
                                  " WITHOUT ROWID;"
                                  "INSERT INTO events(ts_ns, type, json) VALUES(1, 'sip_scan', '{}');"
                                  "PRAGMA user_version=1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    sw_event_store *s = sw_event_store_open(path, NULL, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    sw_event_ids g;
    sw_event_ids_init(&g);
    append(s, &g, 2, "dddddddddddddddd", 5);
    sw_event_store_close(s);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), 2);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM events"), 3);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM events WHERE incident = 'dddddddddddddddd'"), 2);
    store_path(path, sizeof path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_unique),
        cmocka_unit_test(store_restart_and_incident),
        cmocka_unit_test(migrate_v1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
