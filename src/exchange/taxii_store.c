/* The TAXII store (include/sipwall/taxii.h): STIX objects per collection
 * in SQLite.  The row key is date_added in microseconds, unique over the
 * whole store and strictly increasing, so a page cut anywhere resumes
 * exactly after its last object (by next or by added_after). */
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/internal.h"
#include "sipwall/taxii.h"

#define COUNT_CACHE 32

struct sw_taxii_store {
    sqlite3 *db;
    int64_t last_us;  /* the last date_added given */
    /* objects per collection, counted once then kept up to date (a
     * COUNT(*) per insert would make a large POST quadratic) */
    struct {
        char coll[40];
        int64_t n;
    } counts[COUNT_CACHE];
    size_t ncounts;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS taxii_obj("
    " added INTEGER PRIMARY KEY,"  /* date_added, us */
    " coll TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,"
    " ver INTEGER NOT NULL, ver_text TEXT NOT NULL, spec TEXT NOT NULL, json TEXT NOT NULL,"
    " UNIQUE(coll, id, ver));"
    "CREATE INDEX IF NOT EXISTS taxii_obj_coll ON taxii_obj(coll, added);"
    "CREATE TABLE IF NOT EXISTS taxii_kv(k TEXT PRIMARY KEY, v TEXT NOT NULL);";

static int set_err(char *err, size_t errlen, const char *fmt, ...) SW_PRINTF(3, 4);
static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SW_EINVAL;
}

sw_taxii_store *sw_taxii_store_open(const char *path, char *err, size_t errlen)
{
    sw_taxii_store *s = calloc(1, sizeof *s);
    if (!s) {
        set_err(err, errlen, "%s", "out of memory");
        return NULL;
    }
    int rc = sqlite3_open_v2(path ? path : ":memory:", &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
                                 SQLITE_OPEN_NOFOLLOW,
                             NULL);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "taxii store: %s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sw_taxii_store_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 2000);
    if (sqlite3_exec(s->db, path ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" : "", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        set_err(err, errlen, "taxii store: %s", sqlite3_errmsg(s->db));
        sw_taxii_store_close(s);
        return NULL;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT COALESCE(MAX(added), 0) FROM taxii_obj", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            s->last_us = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return s;
}

void sw_taxii_store_close(sw_taxii_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

/* type--uuid with type [a-z0-9-] */
static int stix_id_ok(const char *id, const char *type)
{
    size_t tl = strlen(type);
    if (tl == 0 || tl > 250 || strncmp(id, type, tl) != 0 || strncmp(id + tl, "--", 2) != 0)
        return 0;
    for (size_t i = 0; i < tl; i++)
        if (!((type[i] >= 'a' && type[i] <= 'z') || (type[i] >= '0' && type[i] <= '9') || type[i] == '-'))
            return 0;
    return sw__uuid_lower_ok(id + tl + 2);
}

static int64_t count_sql(sw_taxii_store *s, const char *coll)
{
    sqlite3_stmt *st;
    int64_t n = SW_EIO;
    if (sqlite3_prepare_v2(s->db, "SELECT COUNT(*) FROM taxii_obj WHERE coll=?1", -1, &st, NULL) != SQLITE_OK)
        return SW_EIO;
    sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The cached count of coll (NULL when coll is too long or the cache is full). */
static int64_t *count_slot(sw_taxii_store *s, const char *coll)
{
    if (strlen(coll) >= sizeof s->counts[0].coll)
        return NULL;
    for (size_t i = 0; i < s->ncounts; i++)
        if (strcmp(s->counts[i].coll, coll) == 0)
            return &s->counts[i].n;
    if (s->ncounts == COUNT_CACHE)
        return NULL;
    int64_t n = count_sql(s, coll);
    if (n < 0)
        return NULL;
    snprintf(s->counts[s->ncounts].coll, sizeof s->counts[0].coll, "%s", coll);
    s->counts[s->ncounts].n = n;
    return &s->counts[s->ncounts++].n;
}

static int64_t count_coll(sw_taxii_store *s, const char *coll)
{
    int64_t *c = count_slot(s, coll);
    return c ? *c : count_sql(s, coll);
}

int64_t sw_taxii_store_count(sw_taxii_store *s, const char *coll) { return count_coll(s, coll); }

int sw_taxii_store_add(sw_taxii_store *s, const char *coll, const char *json, size_t len, int64_t now_us,
                       size_t max_objects, int evict, int64_t *added_us, char *err, size_t errlen)
{
    if (len > SW_TAXII_OBJECT_MAX)
        return set_err(err, errlen, "%s", "object larger than 65536 bytes");
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return set_err(err, errlen, "not JSON: %s", je.text);
    int rc = SW_EINVAL;
    const char *why = NULL;
    char *text = NULL;
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *id = json_string_value(json_object_get(o, "id"));
    json_t *spec = json_object_get(o, "spec_version");
    json_t *mod = json_object_get(o, "modified");
    json_t *cre = json_object_get(o, "created");
    int64_t ver = 0;
    const char *ver_text = "";
    if (!json_is_object(o))
        why = "not a JSON object";
    else if (!type || !id)
        why = "type and id are required";
    else if (!stix_id_ok(id, type))
        why = "id is not TYPE--UUID of its type";
    else if (spec && (!json_is_string(spec) || strcmp(json_string_value(spec), "2.1") != 0))
        why = "spec_version is not 2.1";
    else if (mod && (!json_is_string(mod) ||
                     sw_taxii_parse_ts(json_string_value(mod), json_string_length(mod), &ver) != SW_OK))
        why = "modified is not a timestamp";
    else if (!mod && cre &&
             (!json_is_string(cre) || sw_taxii_parse_ts(json_string_value(cre), json_string_length(cre), &ver) != SW_OK))
        why = "created is not a timestamp";
    if (why) {
        json_decref(o);
        return set_err(err, errlen, "%s", why);
    }
    if (mod)
        ver_text = json_string_value(mod);
    else if (cre)
        ver_text = json_string_value(cre);
    text = json_dumps(o, JSON_COMPACT);
    if (!text) {
        json_decref(o);
        return set_err(err, errlen, "%s", "out of memory");
    }

    /* already there? */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM taxii_obj WHERE coll=?1 AND id=?2 AND ver=?3", -1, &st,
                           NULL) != SQLITE_OK)
        goto io;
    sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ver);
    int have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    st = NULL;
    if (have) {
        rc = 0;
        goto out;
    }
    int64_t n = count_coll(s, coll);
    if (n < 0)
        goto io;
    if (max_objects && (size_t)n >= max_objects) {
        if (!evict) {
            rc = SW_ELIMIT;
            set_err(err, errlen, "%s", "collection full");
            goto out;
        }
        if (sqlite3_prepare_v2(s->db,
                               "DELETE FROM taxii_obj WHERE added IN (SELECT added FROM taxii_obj WHERE coll=?1 "
                               "ORDER BY added LIMIT ?2)",
                               -1, &st, NULL) != SQLITE_OK)
            goto io;
        sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, n - (int64_t)max_objects + 1);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto io;
        int64_t *c = count_slot(s, coll);
        if (c)
            *c -= sqlite3_changes(s->db);
        sqlite3_finalize(st);
        st = NULL;
    }
    int64_t added = now_us > s->last_us ? now_us : s->last_us + 1;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO taxii_obj(added, coll, id, type, ver, ver_text, spec, json) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &st, NULL) != SQLITE_OK)
        goto io;
    sqlite3_bind_int64(st, 1, added);
    sqlite3_bind_text(st, 2, coll, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ver);
    sqlite3_bind_text(st, 6, ver_text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, "2.1", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto io;
    s->last_us = added;
    int64_t *c = count_slot(s, coll);
    if (c)
        (*c)++;
    if (added_us)
        *added_us = added;
    rc = 1;
    goto out;
io:
    rc = SW_EIO;
    set_err(err, errlen, "taxii store: %s", sqlite3_errmsg(s->db));
out:
    if (st)
        sqlite3_finalize(st);
    free(text);
    json_decref(o);
    return rc;
}

/* ---- pages ------------------------------------------------------------------------------ */

typedef struct sb {
    char *p;
    size_t n, cap;
    int bad;
} sb;

static void sb_add(sb *b, const char *s, size_t n)
{
    if (b->bad)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->bad = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_s(sb *b, const char *s) { sb_add(b, s, strlen(s)); }

/* a JSON string of text we validated (ids, timestamps): escapes " and \ anyway */
static void sb_q(sb *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_add(b, "\\", 1);
        if ((unsigned char)*s >= 0x20)
            sb_add(b, s, 1);
    }
    sb_add(b, "\"", 1);
}

static void in_list(sb *sql, size_t n, int *param)
{
    sb_s(sql, " IN (");
    for (size_t i = 0; i < n; i++) {
        char ph[16];
        snprintf(ph, sizeof ph, "%s?%d", i ? "," : "", (*param)++);
        sb_s(sql, ph);
    }
    sb_s(sql, ")");
}

int sw_taxii_store_page(sw_taxii_store *s, const char *coll, const sw_taxii_query *q, sw_taxii_view view,
                        const char *only_id, sw_taxii_page *out)
{
    memset(out, 0, sizeof *out);
    out->first_us = out->last_us = -1;
    sb sql = {0};
    int param = 3;
    sb_s(&sql, "SELECT added, id, ver_text, json FROM taxii_obj o WHERE coll=?1 AND added>?2");
    if (only_id) {
        sb_s(&sql, " AND id=?");
        char ph[16];
        snprintf(ph, sizeof ph, "%d", param++);
        sb_s(&sql, ph);
    }
    if (q->nids) {
        sb_s(&sql, " AND id");
        in_list(&sql, q->nids, &param);
    }
    if (q->ntypes) {
        sb_s(&sql, " AND type");
        in_list(&sql, q->ntypes, &param);
    }
    if (q->nspecs) {
        sb_s(&sql, " AND spec");
        in_list(&sql, q->nspecs, &param);
    }
    /* versions: the versions endpoint lists every one; elsewhere the
     * default is last (§3.4.2) */
    int all = view == SW_TAXII_VERSIONS || q->v_all;
    int last = !all && (q->v_last || (!q->v_first && !q->nversions));
    if (!all) {
        sb_s(&sql, " AND (0");
        if (last)
            sb_s(&sql, " OR ver=(SELECT MAX(ver) FROM taxii_obj p WHERE p.coll=o.coll AND p.id=o.id)");
        if (q->v_first)
            sb_s(&sql, " OR ver=(SELECT MIN(ver) FROM taxii_obj p WHERE p.coll=o.coll AND p.id=o.id)");
        if (q->nversions) {
            sb_s(&sql, " OR ver");
            in_list(&sql, q->nversions, &param);
        }
        sb_s(&sql, ")");
    }
    sb_s(&sql, " ORDER BY added LIMIT ?");
    char ph[16];
    snprintf(ph, sizeof ph, "%d", param);
    sb_s(&sql, ph);
    if (sql.bad) {
        free(sql.p);
        return SW_ENOMEM;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql.p, -1, &st, NULL) != SQLITE_OK) {
        free(sql.p);
        return SW_EIO;
    }
    free(sql.p);
    int k = 1;
    sqlite3_bind_text(st, k++, coll, -1, SQLITE_STATIC);
    int64_t after = q->added_after_us > q->next_us ? q->added_after_us : q->next_us;
    sqlite3_bind_int64(st, k++, after < 0 ? -1 : after);
    if (only_id)
        sqlite3_bind_text(st, k++, only_id, -1, SQLITE_STATIC);
    for (size_t i = 0; i < q->nids; i++)
        sqlite3_bind_text(st, k++, q->ids[i], -1, SQLITE_STATIC);
    for (size_t i = 0; i < q->ntypes; i++)
        sqlite3_bind_text(st, k++, q->types[i], -1, SQLITE_STATIC);
    for (size_t i = 0; i < q->nspecs; i++)
        sqlite3_bind_text(st, k++, q->specs[i], -1, SQLITE_STATIC);
    if (!all)
        for (size_t i = 0; i < q->nversions; i++)
            sqlite3_bind_int64(st, k++, q->versions_us[i]);
    size_t limit = q->limit ? q->limit : SW_TAXII_LIMIT_DEFAULT;
    if (limit > SW_TAXII_LIMIT_MAX)
        limit = SW_TAXII_LIMIT_MAX;
    sqlite3_bind_int64(st, k++, (int64_t)limit + 1);

    sb items = {0};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->count == limit) {
            out->more = 1;
            break;
        }
        int64_t added = sqlite3_column_int64(st, 0);
        const char *id = (const char *)sqlite3_column_text(st, 1);
        const char *vt = (const char *)sqlite3_column_text(st, 2);
        const char *js = (const char *)sqlite3_column_text(st, 3);
        char ts[SW_TAXII_TS_LEN];
        if (out->count)
            sb_add(&items, ",", 1);
        if (view == SW_TAXII_OBJECTS) {
            sb_s(&items, js ? js : "{}");
        } else {
            if (!vt || !vt[0]) {
                (void)sw_taxii_format_ts(added, ts);
                vt = ts;
            }
            if (view == SW_TAXII_VERSIONS) {
                sb_q(&items, vt);
            } else {
                char da[SW_TAXII_TS_LEN];
                (void)sw_taxii_format_ts(added, da);
                sb_s(&items, "{\"id\":");
                sb_q(&items, id ? id : "");
                sb_s(&items, ",\"date_added\":");
                sb_q(&items, da);
                sb_s(&items, ",\"version\":");
                sb_q(&items, vt);
                sb_s(&items, ",\"media_type\":\"" SW_TAXII_STIX_MEDIA "\"}");
            }
        }
        if (out->first_us < 0)
            out->first_us = added;
        out->last_us = added;
        out->count++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(items.p);
        return SW_EIO;
    }
    sb b = {0};
    if (out->count == 0) {
        sb_s(&b, "{}");
    } else {
        sb_s(&b, out->more ? "{\"more\":true,\"next\":" : "{\"more\":false");
        if (out->more) {
            char nx[32];
            snprintf(nx, sizeof nx, "%lld", (long long)out->last_us);
            sb_q(&b, nx);
        }
        sb_s(&b, view == SW_TAXII_VERSIONS ? ",\"versions\":[" : ",\"objects\":[");
        sb_add(&b, items.p ? items.p : "", items.n);
        sb_s(&b, "]}");
    }
    free(items.p);
    if (b.bad || items.bad) {
        free(b.p);
        return SW_ENOMEM;
    }
    out->body = b.p;
    out->len = b.n;
    return SW_OK;
}

int sw_taxii_store_kv_put(sw_taxii_store *s, const char *key, const char *val, size_t len)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO taxii_kv(k, v) VALUES(?1, ?2)", -1, &st, NULL) !=
        SQLITE_OK)
        return SW_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, val, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? SW_OK : SW_EIO;
    sqlite3_finalize(st);
    return rc;
}

int sw_taxii_store_kv_get(sw_taxii_store *s, const char *key, char *val, size_t cap)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT v FROM taxii_kv WHERE k=?1", -1, &st, NULL) != SQLITE_OK)
        return SW_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = SW_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        snprintf(val, cap, "%s", v ? v : "");
        rc = SW_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int64_t sw_taxii_store_kv_trim(sw_taxii_store *s, const char *prefix, int64_t max)
{
    char pat[80];
    for (const char *p = prefix; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == ':' ||
              *p == '.'))
            return SW_EUSAGE;
    if (strlen(prefix) + 2 > sizeof pat || max < 0)
        return SW_EUSAGE;
    snprintf(pat, sizeof pat, "%s%%", prefix);
    sqlite3_stmt *st;
    int64_t n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT COUNT(*) FROM taxii_kv WHERE k LIKE ?1", -1, &st, NULL) != SQLITE_OK)
        return SW_EIO;
    sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (n <= max)
        return 0;
    /* INSERT OR REPLACE gives a replaced record a new rowid: rowid order
     * is the order of the last put */
    if (sqlite3_prepare_v2(s->db,
                           "DELETE FROM taxii_kv WHERE rowid IN (SELECT rowid FROM taxii_kv WHERE k LIKE ?1 "
                           "ORDER BY rowid LIMIT ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return SW_EIO;
    sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, n - max);
    int rc = sqlite3_step(st) == SQLITE_DONE ? SW_OK : SW_EIO;
    sqlite3_finalize(st);
    return rc == SW_OK ? n - max : SW_EIO;
}
