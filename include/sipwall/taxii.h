/* sipwall — TAXII 2.1 server side (OASIS TAXII 2.1 OS, 10 June 2021;
 * docs/exchange-taxii.md).
 *
 * Three pieces, none of which knows the daemon:
 *   - the store: STIX objects per collection in SQLite, each version with
 *     its own strictly increasing microsecond date_added (so paging by
 *     added_after never skips), a ceiling per collection;
 *   - the configuration: api root, collections, users with per-collection
 *     read/write rights and Argon2id-hashed secrets (no defaults);
 *   - the request handler: a pure function of one HTTP request (method,
 *     target, the headers that matter, body) to one response, mounted by
 *     the daemon on the admin API's HTTPS server.
 *
 * Everything parsed here comes from outside (query strings, POSTed
 * envelopes, Authorization headers): sizes are bounded, errors are named,
 * nothing aborts (fuzz/fuzz_taxii.c). */
#ifndef SIPWALL_TAXII_H
#define SIPWALL_TAXII_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall/common.h"

#define SW_TAXII_MEDIA "application/taxii+json;version=2.1"
#define SW_TAXII_STIX_MEDIA "application/stix+json;version=2.1"
#define SW_TAXII_TS_LEN 28          /* "2026-12-07T06:38:32.123456Z" and its NUL */
#define SW_TAXII_ID_MAX 128         /* bytes of a STIX id ("type--uuid") and its NUL */
#define SW_TAXII_NAME_MAX 64        /* a user, a collection alias, ... and its NUL */
#define SW_TAXII_MATCH_MAX 32       /* values of one match[] parameter */
#define SW_TAXII_LIMIT_DEFAULT 100  /* objects a page holds when limit is not given */
#define SW_TAXII_LIMIT_MAX 1000     /* ... and at most */
#define SW_TAXII_OBJECT_MAX 65536   /* bytes of one stored object */
#define SW_TAXII_COLLECTIONS_MAX 16
#define SW_TAXII_USERS_MAX 32
#define SW_TAXII_STATUS_MAX 1024    /* status resources kept (oldest dropped) */
#define SW_TAXII_STATUS_TTL_S 86400 /* kept 24 h (§4.3) */
#define SW_TAXII_POST_OBJECTS_MAX 10000 /* objects in one POSTed envelope */

/* ---- timestamps -----------------------------------------------------------------
 * TAXII timestamps have microseconds: "YYYY-MM-DDTHH:MM:SS.ssssssZ".
 * format: us since the epoch into out; SW_OK or SW_ERANGE (outside years
 * 1970..9999).  parse: RFC 3339 UTC, "Z", 0 to 9 fraction digits (beyond
 * 6 cut), a valid date; SW_OK or SW_EINVAL. */
int sw_taxii_format_ts(int64_t us, char out[SW_TAXII_TS_LEN]) SW_NONNULL(2);
int sw_taxii_parse_ts(const char *s, size_t len, int64_t *us) SW_WUR SW_NONNULL(1, 3);

/* ---- queries ----------------------------------------------------------------------
 * The query string of a GET (§3.4): limit, next, added_after, match[id],
 * match[type], match[version], match[spec_version]; values
 * comma-separated, percent-decoded.  Unknown parameters are ignored (a
 * filter the server does not support, §3.4); a malformed value of a known
 * one is SW_EINVAL with the reason. */
typedef struct sw_taxii_query {
    size_t limit;                  /* 1..SW_TAXII_LIMIT_MAX (default when not given) */
    int64_t added_after_us;        /* -1: none */
    int64_t next_us;               /* -1: none (our next cursor: a date_added) */
    char ids[SW_TAXII_MATCH_MAX][SW_TAXII_ID_MAX];
    size_t nids;
    char types[SW_TAXII_MATCH_MAX][SW_TAXII_NAME_MAX];
    size_t ntypes;
    uint8_t v_first, v_last, v_all; /* match[version]; none set: last (§3.4.2) */
    int64_t versions_us[SW_TAXII_MATCH_MAX];
    size_t nversions;
    char specs[SW_TAXII_MATCH_MAX][8];
    size_t nspecs;
} sw_taxii_query;

/* Parses query (the text after '?', may be "" ) into *q.  SW_OK or
 * SW_EINVAL with err ("limit: not a number 1..1000"). */
int sw_taxii_query_parse(const char *query, size_t len, sw_taxii_query *q, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 3);

/* ---- the store ---------------------------------------------------------------------- */
typedef struct sw_taxii_store sw_taxii_store;

/* Opens (creates) the store at path (SQLite, WAL, synchronous=FULL);
 * path NULL: in memory (tests).  NULL with err. */
sw_taxii_store *sw_taxii_store_open(const char *path, char *err, size_t errlen) SW_WUR;
void sw_taxii_store_close(sw_taxii_store *s);

/* Adds one STIX object (JSON text of one object: "type", "id" of the form
 * TYPE--UUID; "spec_version" "2.1" when given; the version is "modified",
 * else "created", else none) to collection coll.  Its date_added is
 * max(now_us, the last one given + 1): strictly increasing over the whole
 * store.  When the collection already holds max_objects: with evict, the
 * oldest (by date_added) goes; else SW_ELIMIT.  Returns 1 (added), 0 (the
 * same id and version is there: nothing changes, not an error), SW_EINVAL
 * (err says why), SW_ELIMIT, SW_EIO.  *added_us (may be NULL) gets the
 * date_added. */
int sw_taxii_store_add(sw_taxii_store *s, const char *coll, const char *json, size_t len, int64_t now_us,
                       size_t max_objects, int evict, int64_t *added_us, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2, 3);

/* Objects of coll (all versions). */
int64_t sw_taxii_store_count(sw_taxii_store *s, const char *coll) SW_NONNULL(1, 2);

typedef enum sw_taxii_view {
    SW_TAXII_OBJECTS = 0,  /* envelope {more, next, objects} */
    SW_TAXII_MANIFEST,     /* {more, next, objects:[{id, date_added, version, media_type}]} */
    SW_TAXII_VERSIONS,     /* {more, next, versions:[...]} */
} sw_taxii_view;

typedef struct sw_taxii_page {
    char *body;               /* malloc'd JSON (free()); "{}" when nothing matched */
    size_t len;
    size_t count;             /* objects in the page */
    int more;
    int64_t first_us, last_us; /* date_added of the first and last object; -1 when none */
} sw_taxii_page;

/* One page of coll for q, sorted by date_added.  only_id (may be NULL):
 * the object endpoints (objects/{id}/, versions).  SW_OK (also for an
 * empty page), SW_EIO, SW_ENOMEM. */
int sw_taxii_store_page(sw_taxii_store *s, const char *coll, const sw_taxii_query *q, sw_taxii_view view,
                        const char *only_id, sw_taxii_page *out) SW_WUR SW_NONNULL(1, 2, 3, 6);

/* Small key/value records next to the objects, for the producer's own
 * state (the latest FSE object of each id): put replaces; get copies at
 * most cap - 1 bytes and a NUL, SW_ENOTFOUND when absent. */
int sw_taxii_store_kv_put(sw_taxii_store *s, const char *key, const char *val, size_t len) SW_NONNULL(1, 2, 3);
int sw_taxii_store_kv_get(sw_taxii_store *s, const char *key, char *val, size_t cap) SW_NONNULL(1, 2, 3);
/* Keeps at most max records whose key starts with prefix ([A-Za-z0-9:.]
 * only): the least recently put go.  Returns how many went, or SW_EIO. */
int64_t sw_taxii_store_kv_trim(sw_taxii_store *s, const char *prefix, int64_t max) SW_NONNULL(1, 2);

/* ---- configuration ----------------------------------------------------------------------
 * Lines (the words after "taxii" in sipwalld.conf; docs/exchange-taxii.md):
 *   api-root NAME [title TEXT] [max-content-length BYTES]
 *   collection UUID [alias NAME] [title TEXT] [description TEXT] [writable]
 *              [max-objects N] [publish]
 *   user NAME secret HASH|file:PATH [read UUID[,UUID...]|all] [write UUID[,...]|all]
 * HASH: an Argon2id string ($argon2id$...; `sipwall exchange taxii-hash`
 * makes one).  A user may read or write only collections that exist;
 * write only where writable. */
typedef struct sw_taxii_collection {
    char id[37];
    char alias[SW_TAXII_NAME_MAX];
    char title[128];
    char description[256];
    uint8_t writable;       /* partners may POST */
    uint8_t publish;        /* the producer's collection (sipwalld publishes into it) */
    size_t max_objects;     /* ceiling (default 100000) */
} sw_taxii_collection;

typedef struct sw_taxii_user {
    char name[SW_TAXII_NAME_MAX];
    char hash[128];         /* Argon2id PHC string */
    uint32_t read, write;   /* bit i: collection i */
} sw_taxii_user;

typedef struct sw_taxii_conf {
    char api_root[SW_TAXII_NAME_MAX]; /* path segment, default "api1" */
    char title[128];
    size_t max_content_length;        /* bytes of a POST body (default 1 MiB, at most 64 MiB) */
    sw_taxii_collection coll[SW_TAXII_COLLECTIONS_MAX];
    size_t ncoll;
    sw_taxii_user users[SW_TAXII_USERS_MAX];
    size_t nusers;
    /* users' "read"/"write" lists are resolved at the end (collections may
     * come later): pending text per user */
    char pending_read[SW_TAXII_USERS_MAX][512], pending_write[SW_TAXII_USERS_MAX][512];
    int user_line[SW_TAXII_USERS_MAX];
} sw_taxii_conf;

/* Defaults (api root "api1", 1 MiB, nothing else). */
void sw_taxii_conf_init(sw_taxii_conf *c) SW_NONNULL(1);
/* One line's words (after "taxii").  basedir: for file: paths relative to
 * the config ("" = working directory).  SW_OK or SW_EINVAL with err. */
int sw_taxii_conf_line(sw_taxii_conf *c, const char *const *w, size_t n, const char *basedir, char *err,
                       size_t errlen) SW_WUR SW_NONNULL(1, 2, 5);
/* After the last line: resolves rights, checks there is a collection and
 * a user (no user: nobody can read, refused).  SW_OK or SW_EINVAL with
 * err and, in *line (may be NULL), the user_line of the user at fault (0
 * when the whole configuration is). */
int sw_taxii_conf_finish(sw_taxii_conf *c, int *line, char *err, size_t errlen) SW_WUR SW_NONNULL(1, 3);
/* The index of the collection with this id or alias, or -1. */
int sw_taxii_conf_find(const sw_taxii_conf *c, const char *id_or_alias) SW_NONNULL(1, 2);

/* ---- the server --------------------------------------------------------------------------- */
typedef struct sw_taxii_server sw_taxii_server;

/* conf is copied; store borrowed (must outlive the server). */
sw_taxii_server *sw_taxii_server_new(const sw_taxii_conf *conf, sw_taxii_store *store) SW_WUR
    SW_NONNULL(1, 2);
void sw_taxii_server_free(sw_taxii_server *s);

typedef struct sw_taxii_request {
    const char *method;        /* "GET", "POST", ... */
    const char *target;        /* path and query as received */
    const char *accept;        /* header values, NULL when absent */
    const char *content_type;
    const char *authorization;
    const char *host;          /* Host header: the discovery's api_roots URLs */
    const char *body;          /* POST */
    size_t body_len;
    int64_t now_us;
} sw_taxii_request;

typedef struct sw_taxii_response {
    int status;
    const char *content_type;  /* static */
    char date_first[SW_TAXII_TS_LEN], date_last[SW_TAXII_TS_LEN]; /* "" = no header */
    int www_authenticate;      /* 1: send WWW-Authenticate (401) */
    char who[SW_TAXII_NAME_MAX + 8]; /* "taxii:NAME" when authenticated, else "" */
    char *body;                /* malloc'd (free()); never NULL after handle */
    size_t len;
} sw_taxii_response;

/* 1 when target belongs to the TAXII server ("/taxii2/" and below). */
int sw_taxii_path(const char *target) SW_NONNULL(1);

/* Handles one request (thread-safe: one lock around the store).  Every
 * error is a TAXII error message {"title", "description", "http_status"}
 * with its status (§3.6.1).  Authentication (Basic USER:SECRET or Bearer
 * SECRET) costs one Argon2id verification the first time a secret is
 * seen, a keyed BLAKE2b comparison after; at most 5 verifications a
 * second (above: 429).  SW_OK, or SW_ENOMEM (resp->status 500). */
int sw_taxii_handle(sw_taxii_server *s, const sw_taxii_request *r, sw_taxii_response *resp) SW_NONNULL(1, 2, 3);

/* The producer's side: adds an object into collection idx under the
 * store lock (the publishing thread and the request thread share it). */
int sw_taxii_server_add(sw_taxii_server *s, size_t idx, const char *json, size_t len, int64_t now_us,
                        char *err, size_t errlen) SW_NONNULL(1, 3);

typedef struct sw_taxii_stats {
    uint64_t requests, auth_failures, throttled, posted_objects, post_failures;
} sw_taxii_stats;
void sw_taxii_server_stats(sw_taxii_server *s, sw_taxii_stats *out) SW_NONNULL(1, 2);

#endif
