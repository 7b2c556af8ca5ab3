/* The event store: SQLite in WAL mode, synchronous=FULL (include/sipwall/event.h,
 * docs/events.md).  One row per event: the JSON text as sw_event_json
 * wrote it plus the columns `sipwall events` filters on, each indexed.
 * Ids come from AUTOINCREMENT, so they are never reused, even after
 * retention has deleted every row. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sipwall/event.h"

#define STORE_SCHEMA_VERSION 2 /* 2: the incident column */
#define STORE_BUSY_MS 5000          /* wait this long for another writer or a checkpoint */
#define STORE_WAL_LIMIT (64 << 20)  /* the WAL file is cut back to this after a checkpoint */
#define RETAIN_CHUNK 2000           /* rows per retention transaction */
#define RETAIN_MAX_CHUNKS 200       /* per sw_event_store_retain call: bounded latency */

struct sw_event_store {
    sqlite3 *db;
    sw_event_store_opts o;
    sqlite3_stmt *ins;   /* prepared once: the hot statement */
    char err[256];
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS events("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " ts_ns INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " src TEXT NOT NULL DEFAULT '',"
    " peer TEXT NOT NULL DEFAULT '',"
    " rule TEXT NOT NULL DEFAULT '',"
    " json TEXT NOT NULL,"
    " incident TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts_ns);"
    "CREATE INDEX IF NOT EXISTS events_type ON events(type);"
    "CREATE INDEX IF NOT EXISTS events_src ON events(src);"
    "CREATE INDEX IF NOT EXISTS events_peer ON events(peer);"
    "CREATE INDEX IF NOT EXISTS events_rule ON events(rule);"
    "CREATE INDEX IF NOT EXISTS events_incident ON events(incident);"
    "CREATE TABLE IF NOT EXISTS cursors(name TEXT PRIMARY KEY, id INTEGER NOT NULL)"
    " WITHOUT ROWID;";

/* Remembers SQLite's message and maps its code: memory stays memory,
 * everything else (full, I/O, busy, corrupt, read-only) is SW_EIO. */
static int fail(sw_event_store *s, int rc, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what,
             s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    return rc == SQLITE_NOMEM ? SW_ENOMEM : SW_EIO;
}

static int exec(sw_event_store *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SW_OK : fail(s, rc, sql);
}

/* Runs a statement that returns one integer (PRAGMAs, COUNTs). */
static int query_int(sw_event_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, sql);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
    }
    int r = rc == SQLITE_DONE ? SW_OK : fail(s, rc, sql);
    sqlite3_finalize(st);
    return r;
}

/* Rolls back whatever transaction a failure left open. */
static void rollback(sw_event_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int setup_writer(sw_event_store *s)
{
    char sql[128];
    int64_t v;
    int r;
    /* auto_vacuum only takes effect before the first table exists: set on
     * a new file, a no-op later. */
    if ((r = exec(s, "PRAGMA auto_vacuum=INCREMENTAL")) != SW_OK)
        return r;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, "journal_mode");
    rc = sqlite3_step(st);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    int wal = mode && strcmp((const char *)mode, "wal") == 0;
    sqlite3_finalize(st);
    if (!wal) {
        snprintf(s->err, sizeof s->err, "cannot switch the database to WAL mode");
        return SW_EIO;
    }
    if ((r = exec(s, s->o.sync_normal ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL")))
        return r;
    snprintf(sql, sizeof sql, "PRAGMA journal_size_limit=%d", STORE_WAL_LIMIT);
    if ((r = exec(s, sql)) != SW_OK)
        return r;
    if (s->o.max_pages > 0) {
        snprintf(sql, sizeof sql, "PRAGMA max_page_count=%" PRId64, s->o.max_pages);
        if ((r = query_int(s, sql, &v)) != SW_OK)
            return r;
    }
    if ((r = query_int(s, "PRAGMA user_version", &v)) != SW_OK)
        return r;
    if (v != 0 && v != 1 && v != STORE_SCHEMA_VERSION) {
        snprintf(s->err, sizeof s->err, "event store schema version %" PRId64 " (this sipwall reads %d)",
                 v, STORE_SCHEMA_VERSION);
        return SW_EFORMAT;
    }
    if ((r = exec(s, "BEGIN IMMEDIATE")) != SW_OK)
        return r;
    /* version 1 (before incident ids): the column is added, old rows get '' */
    if ((v == 1 && (r = exec(s, "ALTER TABLE events ADD COLUMN incident TEXT NOT NULL DEFAULT ''")) !=
                       SW_OK) ||
        (r = exec(s, schema_sql)) != SW_OK ||
        (r = exec(s, "PRAGMA user_version=2")) != SW_OK ||
        (r = exec(s, "COMMIT")) != SW_OK) {
        rollback(s);
        return r;
    }
    rc = sqlite3_prepare_v3(s->db,
                            "INSERT INTO events(ts_ns, type, src, peer, rule, json, incident)"
                            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            -1, SQLITE_PREPARE_PERSISTENT, &s->ins, NULL);
    return rc == SQLITE_OK ? SW_OK : fail(s, rc, "prepare insert");
}

/* A reader checks that the file is a store it understands. */
static int check_reader(sw_event_store *s)
{
    int64_t v;
    int r = query_int(s, "PRAGMA user_version", &v);
    if (r != SW_OK)
        return r;
    if (v != 1 && v != STORE_SCHEMA_VERSION) { /* 1: no incident column */
        snprintf(s->err, sizeof s->err, "not a sipwall event store (schema version %" PRId64 ")", v);
        return SW_EFORMAT;
    }
    return SW_OK;
}

sw_event_store *sw_event_store_open(const char *path, const sw_event_store_opts *o, char *err,
                                    size_t errlen)
{
    sw_event_store *s = calloc(1, sizeof *s);
    if (!s) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (o)
        s->o = *o;
    int flags = SQLITE_OPEN_NOFOLLOW |
                (s->o.readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!s->o.readonly) {
        /* Create the file ourselves: events hold subscriber numbers, so
         * 0640, and never through a symlink.  SQLite gives the -wal and
         * -shm files the database file's mode. */
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0) {
            if (err && errlen)
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(s);
            return NULL;
        }
        close(fd);
    }
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    int r = rc == SQLITE_OK ? SW_OK : fail(s, rc, "open");
    if (r == SW_OK) {
        sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
        sqlite3_extended_result_codes(s->db, 0);
        r = s->o.readonly ? check_reader(s) : setup_writer(s);
    }
    if (r != SW_OK) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, s->err);
        sw_event_store_close(s);
        return NULL;
    }
    return s;
}

void sw_event_store_close(sw_event_store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->ins);
    sqlite3_close(s->db); /* every statement is finalised: never SQLITE_BUSY */
    free(s);
}

const char *sw_event_store_error(const sw_event_store *s)
{
    return s->err;
}

int sw_event_store_append(sw_event_store *s, const sw_event_rec *recs, size_t n)
{
    if (s->o.readonly || !s->ins)
        return SW_EUSAGE;
    if (n == 0)
        return SW_OK;
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, "begin");
    for (size_t i = 0; i < n; i++) {
        const sw_event_rec *e = &recs[i];
        const char *type = sw_event_type_name(e->type);
        sqlite3_bind_int64(s->ins, 1, e->ts_ns);
        sqlite3_bind_text(s->ins, 2, type ? type : "unknown", -1, SQLITE_STATIC);
        sqlite3_bind_text(s->ins, 3, e->src, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->ins, 4, e->peer, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->ins, 5, e->rule, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->ins, 6, e->json ? e->json : "{}", e->json ? (int)e->json_len : 2,
                          SQLITE_STATIC);
        sqlite3_bind_text(s->ins, 7, e->incident, -1, SQLITE_STATIC);
        rc = sqlite3_step(s->ins);
        sqlite3_reset(s->ins);
        if (rc != SQLITE_DONE) {
            int r = fail(s, rc, "insert");
            rollback(s);
            sqlite3_clear_bindings(s->ins);
            return r;
        }
    }
    sqlite3_clear_bindings(s->ins);
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int r = fail(s, rc, "commit");
        rollback(s);
        return r;
    }
    return SW_OK;
}

/* Steps a prepared SELECT of (id, ts_ns, json), handing rows to cb. */
static int run_rows(sw_event_store *s, sqlite3_stmt *st, int (*cb)(void *, const sw_event_row *),
                    void *arg)
{
    int count = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sw_event_row row;
        row.id = sqlite3_column_int64(st, 0);
        row.ts_ns = sqlite3_column_int64(st, 1);
        /* A damaged or hand-edited row may hold NULL or a blob: the text
         * form (possibly empty) is passed on, never a NULL pointer. */
        const unsigned char *t = sqlite3_column_text(st, 2);
        row.json = t ? (const char *)t : "";
        row.json_len = t ? (size_t)sqlite3_column_bytes(st, 2) : 0;
        if (count < INT32_MAX)
            count++;
        if (cb(arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int r = rc == SQLITE_DONE ? count : fail(s, rc, "read");
    sqlite3_finalize(st);
    return r;
}

int sw_event_store_scan(sw_event_store *s, int64_t after, size_t max,
                        int (*cb)(void *arg, const sw_event_row *row), void *arg)
{
    sqlite3_stmt *st;
    if (max == 0)
        return 0;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT id, ts_ns, json FROM events WHERE id > ?1 ORDER BY id"
                                " LIMIT ?2",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, "prepare scan");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, max > INT64_MAX ? -1 : (int64_t)max);
    return run_rows(s, st, cb, arg);
}

int64_t sw_event_store_last_id(sw_event_store *s)
{
    int64_t v;
    int r = query_int(s, "SELECT seq FROM sqlite_sequence WHERE name = 'events'", &v);
    return r == SW_OK ? v : r;
}

int sw_event_store_cursor_get(sw_event_store *s, const char *name, int64_t *id)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id FROM cursors WHERE name = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, "prepare cursor");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int r;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        r = SW_OK;
    } else {
        r = rc == SQLITE_DONE ? SW_ENOTFOUND : fail(s, rc, "cursor");
    }
    sqlite3_finalize(st);
    return r;
}

int sw_event_store_cursor_set(sw_event_store *s, const char *name, int64_t id)
{
    sqlite3_stmt *st;
    if (s->o.readonly)
        return SW_EUSAGE;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO cursors(name, id) VALUES(?1, ?2)"
                                " ON CONFLICT(name) DO UPDATE SET id = excluded.id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, "prepare cursor");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? SW_OK : fail(s, rc, "cursor");
    sqlite3_finalize(st);
    return r;
}

int sw_event_store_query(sw_event_store *s, const sw_event_query *q,
                         int (*cb)(void *arg, const sw_event_row *row), void *arg)
{
    char src[SW_ADDR_STRLEN];
    if (q->src) {
        sw_addr a;
        if (sw_addr_parse(q->src, &a) != SW_OK || sw_addr_format_ip(&a, src, sizeof src) < 0)
            return SW_EINVAL;
    }
    /* Fixed clauses with numbered parameters, so the text is bounded and
     * nothing from the caller is ever pasted into SQL. */
    char sql[640];
    int n = snprintf(sql, 512, "SELECT id, ts_ns, json FROM events WHERE id > ?1%s%s%s%s%s%s%s%s",
                     q->since_ns ? " AND ts_ns >= ?2" : "", q->until_ns ? " AND ts_ns < ?3" : "",
                     q->type ? " AND type = ?4" : "", q->src ? " AND src = ?5" : "",
                     q->peer ? " AND peer = ?6" : "", q->rule ? " AND rule = ?7" : "",
                     q->incident ? " AND incident = ?9" : "",
                     q->mode ? " AND json_extract(json, '$.mode') = ?10" : "");
    if (q->limit && q->newest)
        n += snprintf(sql + n, 512 - (size_t)n, " ORDER BY id DESC LIMIT ?8");
    else
        n += snprintf(sql + n, 512 - (size_t)n, " ORDER BY id%s", q->limit ? " LIMIT ?8" : "");
    if (q->limit && q->newest) {
        char inner[512]; /* the clauses above take under 300 bytes */
        memcpy(inner, sql, (size_t)n + 1);
        snprintf(sql, sizeof sql, "SELECT id, ts_ns, json FROM (%s) ORDER BY id", inner);
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, "prepare query");
    sqlite3_bind_int64(st, 1, q->after_id);
    if (q->since_ns)
        sqlite3_bind_int64(st, 2, q->since_ns);
    if (q->until_ns)
        sqlite3_bind_int64(st, 3, q->until_ns);
    if (q->type)
        sqlite3_bind_text(st, 4, q->type, -1, SQLITE_STATIC);
    if (q->src)
        sqlite3_bind_text(st, 5, src, -1, SQLITE_STATIC);
    if (q->peer)
        sqlite3_bind_text(st, 6, q->peer, -1, SQLITE_STATIC);
    if (q->rule)
        sqlite3_bind_text(st, 7, q->rule, -1, SQLITE_STATIC);
    if (q->incident)
        sqlite3_bind_text(st, 9, q->incident, -1, SQLITE_STATIC);
    if (q->mode)
        sqlite3_bind_text(st, 10, q->mode, -1, SQLITE_STATIC);
    if (q->limit)
        sqlite3_bind_int64(st, 8, q->limit > INT64_MAX ? -1 : (int64_t)q->limit);
    return run_rows(s, st, cb, arg);
}

int64_t sw_event_store_size(sw_event_store *s)
{
    int64_t pages, freel, psize;
    int r;
    if ((r = query_int(s, "PRAGMA page_count", &pages)) != SW_OK ||
        (r = query_int(s, "PRAGMA freelist_count", &freel)) != SW_OK ||
        (r = query_int(s, "PRAGMA page_size", &psize)) != SW_OK)
        return r;
    return (pages - freel) * psize;
}

/* Deletes up to RETAIN_CHUNK of the oldest rows (by id) matching `where`
 * in one transaction; returns the rows deleted or a negative SW_E*. */
static int64_t delete_chunk(sw_event_store *s, const char *sql, int64_t param, int with_param,
                            int64_t rows)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, "prepare retention");
    if (with_param)
        sqlite3_bind_int64(st, 1, param);
    sqlite3_bind_int64(st, 2, rows);
    rc = sqlite3_step(st);
    int64_t r = rc == SQLITE_DONE ? sqlite3_changes(s->db) : fail(s, rc, "retention");
    sqlite3_finalize(st);
    return r;
}

int64_t sw_event_store_retain(sw_event_store *s, int64_t now_ns)
{
    int64_t total = 0, d;
    if (s->o.readonly)
        return SW_EUSAGE;
    if (s->o.max_age_s > 0) {
        int64_t cutoff = now_ns - s->o.max_age_s * INT64_C(1000000000);
        for (int i = 0; i < RETAIN_MAX_CHUNKS; i++) {
            d = delete_chunk(s,
                             /* age never takes what an exporter has not sent
                              * (ids above the lowest cursor); size does */
                             "DELETE FROM events WHERE id IN (SELECT id FROM events"
                             " WHERE ts_ns < ?1 AND id <= (SELECT coalesce(min(id),"
                             " 9223372036854775807) FROM cursors) ORDER BY id LIMIT ?2)",
                             cutoff, 1, RETAIN_CHUNK);
            if (d < 0)
                return d;
            total += d;
            if (d < RETAIN_CHUNK)
                break;
        }
    }
    if (s->o.max_bytes > 0) {
        int64_t target = s->o.max_bytes - s->o.max_bytes / 10;
        int64_t used = sw_event_store_size(s);
        if (used < 0)
            return used;
        if (used > s->o.max_bytes) {
            for (int i = 0; i < RETAIN_MAX_CHUNKS && used > target; i++) {
                /* rows to delete: the excess over the average row size
                 * (ids are nearly contiguous, so max - min estimates the
                 * count without scanning), at most one chunk */
                int64_t lo, hi, want = RETAIN_CHUNK;
                if (query_int(s, "SELECT min(id) FROM events", &lo) == SW_OK &&
                    query_int(s, "SELECT max(id) FROM events", &hi) == SW_OK && hi >= lo &&
                    lo > 0) {
                    int64_t per = used / (hi - lo + 1);
                    want = per > 0 ? (used - target) / per + 1 : RETAIN_CHUNK;
                    if (want > RETAIN_CHUNK)
                        want = RETAIN_CHUNK;
                }
                d = delete_chunk(s,
                                 "DELETE FROM events WHERE id IN (SELECT id FROM events"
                                 " ORDER BY id LIMIT ?2)",
                                 0, 0, want);
                if (d < 0)
                    return d;
                total += d;
                if (d == 0)
                    break; /* nothing left to delete: the schema alone is bigger */
                if ((used = sw_event_store_size(s)) < 0)
                    return used;
            }
        }
    }
    if (total > 0) {
        /* give the freed pages back to the file system */
        int r = exec(s, "PRAGMA incremental_vacuum");
        if (r != SW_OK)
            return r;
    }
    return total;
}
