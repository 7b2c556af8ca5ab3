/* The SQLite event store: append/scan/query, cursors, retention by age and
 * size, ids never reused, a full disk (max_page_count) losing nothing
 * committed, kill -9 of a writing process losing nothing acknowledged,
 * file mode and symlink refusal, damaged rows read back safely. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "sipwall/event.h"

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1795478400) * SEC) /* 2026-11-24T00:00:00Z */

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_test_store_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/events.db", dir);
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

static sw_event_store *open_store(const sw_event_store_opts *o)
{
    char err[256] = "";
    sw_event_store *s = sw_event_store_open(path, o, err, sizeof err);
    if (!s)
        fail_msg("open: %s", err);
    return s;
}

/* Record i: type, source and peer cycle so that the filters have work. */
static void make_rec(sw_event_rec *r, int i, int64_t ts)
{
    static const sw_event_type types[] = {SW_EVT_SIP_SCAN, SW_EVT_SIP_FLOOD, SW_EVT_IRSF_CALL};
    static const char *const srcs[] = {"192.0.2.1:5060", "[2001:db8::1]:5061", "198.51.100.7:5060"};
    static const char *const peers[] = {"carrier-a", "", "carrier-b"};
    static const char *const rules[] = {"scan.options", "flood.invite", "irsf.range"};
    sw_event ev;
    char reason[32];
    sw_event_init(&ev, types[i % 3], SW_CAT_BEHAVIOURAL, rules[i % 3]);
    ev.ts_ns = ts;
    assert_int_equal(sw_addr_parse(srcs[i % 3], &ev.src), SW_OK);
    ev.peer = sw_str_make(peers[i % 3], strlen(peers[i % 3]));
    int n = snprintf(reason, sizeof reason, "event %d", i);
    ev.reason = sw_str_make(reason, (size_t)n);
    assert_int_equal(sw_event_rec_fill(r, &ev), SW_OK);
}

static int append_n(sw_event_store *s, int first, int n, int64_t ts0, int64_t step)
{
    sw_event_rec *recs = calloc((size_t)n, sizeof *recs);
    assert_non_null(recs);
    for (int i = 0; i < n; i++)
        make_rec(&recs[i], first + i, ts0 + (int64_t)i * step);
    int r = sw_event_store_append(s, recs, (size_t)n);
    for (int i = 0; i < n; i++)
        sw_event_rec_clear(&recs[i]);
    free(recs);
    return r;
}

/* Collects rows: ids, and the reason of each row's JSON. */
typedef struct rows {
    int n;
    int stop_after; /* 0 = never */
    int64_t id[4096];
    int64_t ts[4096];
    char reason[4096][24];
    int bad_json;
} rows;

static int collect(void *arg, const sw_event_row *row)
{
    rows *r = arg;
    assert_true(r->n < 4096);
    assert_non_null(row->json);
    r->id[r->n] = row->id;
    r->ts[r->n] = row->ts_ns;
    json_t *o = json_loadb(row->json, row->json_len, 0, NULL);
    if (!o) {
        r->bad_json++;
        r->reason[r->n][0] = '\0';
    } else {
        const char *t = json_string_value(json_object_get(o, "reason"));
        snprintf(r->reason[r->n], sizeof r->reason[r->n], "%s", t ? t : "");
        json_decref(o);
    }
    r->n++;
    return r->stop_after && r->n >= r->stop_after;
}

static int64_t sql_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static const char *integrity(void)
{
    static char out[128];
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_append_scan(void **state)
{
    (void)state;
    sw_event_store *s = open_store(NULL);
    assert_int_equal(sw_event_store_last_id(s), 0);
    assert_int_equal(append_n(s, 0, 10, T0, SEC), SW_OK);
    assert_int_equal(append_n(s, 10, 5, T0 + 10 * SEC, SEC), SW_OK);
    assert_int_equal(append_n(s, 15, 0, T0, SEC), SW_OK); /* nothing: fine */
    assert_int_equal(sw_event_store_last_id(s), 15);

    static rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, SIZE_MAX, collect, &r), 15);
    assert_int_equal(r.bad_json, 0);
    for (int i = 0; i < 15; i++) {
        char want[24];
        snprintf(want, sizeof want, "event %d", i);
        assert_int_equal(r.id[i], i + 1);
        assert_int_equal(r.ts[i], T0 + i * SEC);
        assert_string_equal(r.reason[i], want);
    }
    /* after, max, and a callback that stops */
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 12, SIZE_MAX, collect, &r), 3);
    assert_int_equal(r.id[0], 13);
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, 4, collect, &r), 4);
    assert_int_equal(r.id[3], 4);
    memset(&r, 0, sizeof r);
    r.stop_after = 2;
    assert_int_equal(sw_event_store_scan(s, 5, SIZE_MAX, collect, &r), 2);
    assert_int_equal(r.id[1], 7);
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, 0, collect, &r), 0);
    assert_int_equal(sw_event_store_scan(s, 15, SIZE_MAX, collect, &r), 0);
    sw_event_store_close(s);

    /* the file: WAL, synchronous=FULL is per connection (checked below),
     * mode 0640, the indexed columns filled */
    assert_string_equal(integrity(), "ok");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(sql_int("SELECT count(*) FROM events WHERE src = '2001:db8::1'"), 5);
    assert_int_equal(sql_int("SELECT count(*) FROM events WHERE peer = 'carrier-a'"), 5);
    assert_int_equal(sql_int("SELECT count(*) FROM events WHERE type = 'irsf_call'"), 5);
    assert_int_equal(sql_int("SELECT count(*) FROM events WHERE rule = 'flood.invite'"), 5);
}

static void test_pragmas(void **state)
{
    (void)state;
    sw_event_store *s = open_store(NULL);
    /* the WAL files exist from the open on (a daemon may drop privileges
     * next), with the database's mode */
    char p[200];
    struct stat fst;
    snprintf(p, sizeof p, "%s-wal", path);
    assert_int_equal(stat(p, &fst), 0);
    assert_int_equal(fst.st_mode & 0777, 0640);
    snprintf(p, sizeof p, "%s-shm", path);
    assert_int_equal(stat(p, &fst), 0);
    assert_int_equal(fst.st_mode & 0777, 0640);
    sw_event_store_close(s);
    assert_int_equal(sql_int("PRAGMA user_version"), 2);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(sql_int("PRAGMA auto_vacuum"), 2); /* incremental */
}

static int count_q(sw_event_store *s, const sw_event_query *q, rows *r)
{
    memset(r, 0, sizeof *r);
    return sw_event_store_query(s, q, collect, r);
}

static void test_query(void **state)
{
    (void)state;
    static rows r;
    sw_event_store *s = open_store(NULL);
    assert_int_equal(append_n(s, 0, 30, T0, SEC), SW_OK); /* ts T0 .. T0+29s */

    sw_event_query q = {0};
    assert_int_equal(count_q(s, &q, &r), 30);
    q.since_ns = T0 + 10 * SEC;
    q.until_ns = T0 + 20 * SEC;
    assert_int_equal(count_q(s, &q, &r), 10);
    assert_int_equal(r.ts[0], T0 + 10 * SEC);
    assert_int_equal(r.ts[9], T0 + 19 * SEC);

    memset(&q, 0, sizeof q);
    q.type = "sip_flood";
    assert_int_equal(count_q(s, &q, &r), 10);
    assert_string_equal(r.reason[0], "event 1");
    q.type = "nonsense";
    assert_int_equal(count_q(s, &q, &r), 0);

    memset(&q, 0, sizeof q);
    q.src = "2001:DB8:0::1"; /* canonical form matches */
    assert_int_equal(count_q(s, &q, &r), 10);
    q.src = "198.51.100.7";
    q.peer = "carrier-b";
    assert_int_equal(count_q(s, &q, &r), 10);
    q.peer = "carrier-a"; /* both filters: nothing has both */
    assert_int_equal(count_q(s, &q, &r), 0);
    q.src = "not an address";
    q.peer = NULL;
    assert_int_equal(count_q(s, &q, &r), SW_EINVAL);

    memset(&q, 0, sizeof q);
    q.rule = "scan.options";
    q.limit = 3;
    assert_int_equal(count_q(s, &q, &r), 3);
    assert_string_equal(r.reason[0], "event 0");
    assert_string_equal(r.reason[2], "event 6");
    q.newest = 1; /* the newest three, still oldest first */
    assert_int_equal(count_q(s, &q, &r), 3);
    assert_string_equal(r.reason[0], "event 21");
    assert_string_equal(r.reason[2], "event 27");

    memset(&q, 0, sizeof q);
    q.after_id = 25; /* following: rows after the last seen */
    assert_int_equal(count_q(s, &q, &r), 5);
    assert_int_equal(r.id[0], 26);
    sw_event_store_close(s);
}

static void test_cursors_and_readers(void **state)
{
    (void)state;
    sw_event_store *w = open_store(NULL);
    int64_t id = 77;
    assert_int_equal(sw_event_store_cursor_get(w, "syslog-tls", &id), SW_ENOTFOUND);
    assert_int_equal(id, 77);
    assert_int_equal(sw_event_store_cursor_set(w, "syslog-tls", 5), SW_OK);
    assert_int_equal(sw_event_store_cursor_set(w, "syslog-tls", 9), SW_OK);
    assert_int_equal(sw_event_store_cursor_set(w, "dtls", 1), SW_OK);
    assert_int_equal(sw_event_store_cursor_get(w, "syslog-tls", &id), SW_OK);
    assert_int_equal(id, 9);

    /* a read-only handle in the same process sees what the writer
     * commits, and cannot write */
    sw_event_store_opts ro = {.readonly = 1};
    sw_event_store *rd = open_store(&ro);
    static rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(rd, 0, SIZE_MAX, collect, &r), 0);
    assert_int_equal(append_n(w, 0, 4, T0, SEC), SW_OK);
    assert_int_equal(sw_event_store_scan(rd, 0, SIZE_MAX, collect, &r), 4);
    assert_int_equal(sw_event_store_last_id(rd), 4);
    assert_int_equal(sw_event_store_cursor_get(rd, "dtls", &id), SW_OK);
    assert_int_equal(id, 1);
    assert_int_equal(sw_event_store_cursor_set(rd, "dtls", 2), SW_EUSAGE);
    assert_int_equal(append_n(rd, 0, 1, T0, SEC), SW_EUSAGE);
    assert_int_equal(sw_event_store_retain(rd, T0), SW_EUSAGE);
    sw_event_store_close(rd);
    sw_event_store_close(w);

    /* cursors persist */
    w = open_store(NULL);
    assert_int_equal(sw_event_store_cursor_get(w, "syslog-tls", &id), SW_OK);
    assert_int_equal(id, 9);
    sw_event_store_close(w);
}

static void test_open_refusals(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_store_opts ro = {.readonly = 1};
    /* a reader does not create a store */
    assert_null(sw_event_store_open(path, &ro, err, sizeof err));
    assert_true(err[0] != '\0');
    assert_int_equal(access(path, F_OK), -1);
    /* a symlink at the path is refused (R5) */
    char target[160];
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    assert_int_equal(symlink(target, path), 0);
    err[0] = '\0';
    assert_null(sw_event_store_open(path, NULL, err, sizeof err));
    assert_true(err[0] != '\0');
    assert_int_equal(access(target, F_OK), -1);
    assert_int_equal(unlink(path), 0);
    /* a file that is not a database */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not a database, just text that is long enough to fill a header.......\n", fp);
    fclose(fp);
    err[0] = '\0';
    assert_null(sw_event_store_open(path, NULL, err, sizeof err));
    assert_true(err[0] != '\0');
    assert_null(sw_event_store_open(path, &ro, err, sizeof err));
}

static void test_retention_age(void **state)
{
    (void)state;
    sw_event_store_opts o = {.max_age_s = 3600};
    sw_event_store *s = open_store(&o);
    /* 5000 events an hour and more old, 100 recent */
    assert_int_equal(append_n(s, 0, 5000, T0 - 7200 * SEC, SEC / 10), SW_OK);
    assert_int_equal(append_n(s, 5000, 100, T0 - 60 * SEC, SEC / 10), SW_OK);
    assert_int_equal(sw_event_store_retain(s, T0), 5000);
    assert_int_equal(sw_event_store_retain(s, T0), 0);
    static rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, SIZE_MAX, collect, &r), 100);
    assert_int_equal(r.id[0], 5001);
    /* everything expires: ids still never come back */
    assert_int_equal(sw_event_store_retain(s, T0 + 7200 * SEC), 100);
    assert_int_equal(sw_event_store_last_id(s), 5100);
    assert_int_equal(append_n(s, 0, 1, T0 + 7200 * SEC, 0), SW_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, SIZE_MAX, collect, &r), 1);
    assert_int_equal(r.id[0], 5101);
    sw_event_store_close(s);
    assert_string_equal(integrity(), "ok");
}

/* An exporter that has not sent an event holds it against retention by
 * age (a collector outage must not lose events to the clock); retention
 * by size still takes it (the disk comes first). */
static void test_retention_age_waits_for_cursors(void **state)
{
    (void)state;
    sw_event_store_opts o = {.max_age_s = 3600};
    sw_event_store *s = open_store(&o);
    assert_int_equal(append_n(s, 0, 300, T0 - 7200 * SEC, SEC / 10), SW_OK);
    assert_int_equal(sw_event_store_cursor_set(s, "export:siem", 100), SW_OK);
    assert_int_equal(sw_event_store_cursor_set(s, "export:soc", 250), SW_OK);
    assert_int_equal(sw_event_store_retain(s, T0), 100); /* the lowest cursor */
    static rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, SIZE_MAX, collect, &r), 200);
    assert_int_equal(r.id[0], 101);
    assert_int_equal(sw_event_store_cursor_set(s, "export:siem", 300), SW_OK);
    assert_int_equal(sw_event_store_retain(s, T0), 150); /* now up to 250 */
    assert_int_equal(sw_event_store_cursor_set(s, "export:soc", 300), SW_OK);
    assert_int_equal(sw_event_store_retain(s, T0), 50);
    assert_int_equal(sw_event_store_scan(s, 0, SIZE_MAX, collect, &r), 0);
    sw_event_store_close(s);
    assert_string_equal(integrity(), "ok");
}

static void test_retention_size(void **state)
{
    (void)state;
    const int64_t max = 512 * 1024;
    sw_event_store_opts o = {.max_bytes = max};
    sw_event_store *s = open_store(&o);
    for (int b = 0; b < 20; b++)
        assert_int_equal(append_n(s, b * 500, 500, T0 + b * 500 * SEC, SEC), SW_OK);
    int64_t before = sw_event_store_size(s);
    assert_true(before > 2 * max); /* 10000 events: well above the ceiling */
    int64_t deleted = sw_event_store_retain(s, T0);
    assert_true(deleted > 0);
    int64_t after = sw_event_store_size(s);
    assert_true(after <= max);
    assert_true(after >= max / 2); /* cut to about 90 %, not emptied */
    /* the oldest went; the newest stayed */
    static rows r;
    memset(&r, 0, sizeof r);
    sw_event_query q = {.limit = 1};
    assert_int_equal(sw_event_store_query(s, &q, collect, &r), 1);
    assert_int_equal(r.id[0], deleted + 1);
    assert_int_equal(sw_event_store_last_id(s), 10000);
    sw_event_store_close(s);
    /* the file gave the pages back (incremental vacuum, checkpointed at close) */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size <= max + 64 * 1024);
    assert_string_equal(integrity(), "ok");
}

/* A full disk: SQLITE_FULL from max_page_count.  Appends fail with SW_EIO
 * and store nothing of their batch; everything acknowledged before stays,
 * the file is consistent, and appends work again once there is room. */
static void test_disk_full(void **state)
{
    (void)state;
    sw_event_store_opts o = {.max_pages = 64}; /* 64 pages of 4 KiB */
    sw_event_store *s = open_store(&o);
    int acked = 0, failed = 0;
    for (int b = 0; b < 200 && failed < 3; b++) {
        int r = append_n(s, acked, 20, T0 + acked * SEC, SEC);
        if (r == SW_OK) {
            acked += 20;
        } else {
            assert_int_equal(r, SW_EIO);
            assert_true(strstr(sw_event_store_error(s), "full") != NULL);
            failed++;
        }
    }
    assert_true(acked > 0);
    assert_int_equal(failed, 3);
    /* the handle still reads, and has exactly what was acknowledged */
    static rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, SIZE_MAX, collect, &r), acked);
    sw_event_store_close(s);
    assert_string_equal(integrity(), "ok");

    s = open_store(NULL); /* room again */
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, SIZE_MAX, collect, &r), acked);
    for (int i = 0; i < acked; i++) {
        char want[24];
        snprintf(want, sizeof want, "event %d", i);
        assert_string_equal(r.reason[i], want);
    }
    assert_int_equal(append_n(s, acked, 20, T0, SEC), SW_OK);
    sw_event_store_close(s);
    assert_string_equal(integrity(), "ok");
}

/* kill -9 of a process in the middle of appending: every batch it
 * acknowledged (SW_OK, reported through a pipe after the return) is in the
 * store after the kill, and the file is consistent. */
static void test_kill9(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            sw_event_store *s = sw_event_store_open(path, NULL, NULL, 0);
            if (!s)
                _exit(2);
            for (int b = 0; b < 100000; b++) {
                if (append_n(s, b * 50, 50, T0 + b * SEC, 1) != SW_OK)
                    _exit(3);
                int64_t last = sw_event_store_last_id(s);
                if (write(fds[1], &last, sizeof last) != sizeof last)
                    _exit(4);
            }
            _exit(0);
        }
        close(fds[1]);
        /* let it run a little, at a point that differs per round */
        struct timespec ts = {0, (150 + 70 * round) * 1000000L};
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        int64_t acked = 0, v;
        while (read(fds[0], &v, sizeof v) == sizeof v)
            acked = v;
        close(fds[0]);
        assert_true(acked > 0);

        assert_string_equal(integrity(), "ok");
        sw_event_store *s = open_store(NULL);
        int64_t last = sw_event_store_last_id(s);
        assert_true(last >= acked);
        assert_int_equal(last % 50, 0); /* whole batches only */
        static rows r;
        memset(&r, 0, sizeof r);
        assert_int_equal(sw_event_store_scan(s, acked - 1, 1, collect, &r), 1);
        assert_int_equal(r.id[0], acked);
        assert_int_equal(r.bad_json, 0);
        sw_event_store_close(s);
        assert_int_equal(sql_int("SELECT count(*) FROM events"), last);
    }
}

static int count_only(void *arg, const sw_event_row *row)
{
    int *n = arg;
    assert_non_null(row->json);
    assert_true(row->json_len == strlen(row->json) || row->json_len > 0);
    (*n)++;
    return 0;
}

/* Rows the store did not write (hand-edited, damaged): a blob with NULs,
 * invalid UTF-8, not JSON at all.  Reading them back hands out text and a
 * length, never NULL, and a JSON reader rejects them without harm. */
static void test_damaged_rows(void **state)
{
    (void)state;
    sw_event_store *s = open_store(NULL);
    assert_int_equal(append_n(s, 0, 1, T0, 0), SW_OK);
    sw_event_store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO events(ts_ns, type, json) VALUES(1, 'x', x'00ff7b22');"
                                  "INSERT INTO events(ts_ns, type, json) VALUES(2, 'x', '');"
                                  "INSERT INTO events(ts_ns, type, json) VALUES(3, 'x', 12345);"
                                  "INSERT INTO events(ts_ns, type, json) VALUES(4, 'x', '{\"a\":');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    s = open_store(NULL);
    static rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(sw_event_store_scan(s, 0, SIZE_MAX, collect, &r), 5);
    assert_int_equal(r.bad_json, 4); /* 12345 too: a reader wants an object */
    int n = 0;
    sw_event_query q = {.type = "x"};
    assert_int_equal(sw_event_store_query(s, &q, count_only, &n), 4);
    assert_int_equal(n, 4);
    sw_event_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursors_and_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_age_waits_for_cursors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
