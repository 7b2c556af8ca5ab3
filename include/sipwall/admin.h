/* sipwall — the admin API (docs/admin-api.md): HTTPS (libevent evhttp over
 * OpenSSL) on its own thread, an Argon2id credential (libsodium), a login
 * limiter that refuses before any hashing, and the request parsers.
 *
 * The layer knows nothing of sipwalld: what a request does is behind a
 * small backend interface (sw_admin_ops) the daemon implements
 * (src/daemon/api.c).  The parsers are pure functions of untrusted bytes
 * (fuzz/fuzz_admin_request.c). */
#ifndef SIPWALL_ADMIN_H
#define SIPWALL_ADMIN_H

#include "sipwall/addr.h"
#include "sipwall/common.h"
#include "sipwall/event.h"
#include "sipwall/net.h"

/* ---- requests ---------------------------------------------------------------- */
typedef enum sw_admin_op {
    SW_ADMIN_STATUS = 1,  /* GET /v1/status */
    SW_ADMIN_RELOAD,      /* POST /v1/reload */
    SW_ADMIN_BLOCKS,      /* GET /v1/blocks[?limit=N] */
    SW_ADMIN_BLOCK_ADD,   /* POST /v1/blocks {kind,key,duration,reason} */
    SW_ADMIN_UNBLOCK,     /* DELETE /v1/blocks/{kind}/{key} */
    SW_ADMIN_EVENTS,      /* GET /v1/events?since=&until=&type=&src=&peer=&rule=&after=&limit= */
    SW_ADMIN_PARTNERS,    /* GET /v1/partners */
    SW_ADMIN_METRICS,     /* GET /metrics: Prometheus text 0.0.4 (docs/metrics.md) */
    SW_ADMIN_HEALTH,      /* GET /health: 200 or 503 with a small JSON */
    SW_ADMIN_INTEL,       /* GET /v1/intel[?limit=N]: partners' indicators held */
    SW_ADMIN_INTEL_SHOW,  /* GET /v1/intel/{id} (id in key) */
    SW_ADMIN_INTEL_REVOKE, /* POST /v1/intel/{id}/revoke (id in key) */
    SW_ADMIN_INTEL_PUSH,  /* POST /v1/intel/push: signed FSE objects (a JSON array) from a
                           * partner (client certificate bound to its org) or the operator */
    SW_ADMIN_EXCHANGE_REVOKE, /* POST /v1/exchange/{id}/revoke: withdraw one of our published
                               * indicators (id in key) */
} sw_admin_op;

#define SW_ADMIN_KIND_MAX 32
#define SW_ADMIN_KEY_MAX 64
#define SW_ADMIN_REASON_MAX 128   /* bytes of a block's reason */
#define SW_ADMIN_FIELD_MAX 128    /* bytes of an events filter value */
#define SW_ADMIN_BODY_MAX 16384   /* a request body above this is refused (413) */
#define SW_ADMIN_PUSH_BODY_MAX 61440 /* the body of POST /v1/intel/push at most (413) */
#define SW_ADMIN_ORG_MAX 17       /* a partner's org code and its NUL */
#define SW_ADMIN_EVENTS_DEFAULT 100
#define SW_ADMIN_EVENTS_MAX 10000
#define SW_ADMIN_BLOCKS_DEFAULT 1000
#define SW_ADMIN_BLOCKS_MAX 20000 /* about 7 MB of JSON */
#define SW_ADMIN_DURATION_MAX_S 86400 /* the longest block (the state store's cap) */

typedef struct sw_admin_req {
    sw_admin_op op;
    char kind[SW_ADMIN_KIND_MAX];     /* BLOCK_ADD, UNBLOCK */
    char key[SW_ADMIN_KEY_MAX];
    int64_t duration_s;               /* BLOCK_ADD: 1..SW_ADMIN_DURATION_MAX_S */
    char reason[SW_ADMIN_REASON_MAX]; /* BLOCK_ADD: printable, may be "" */
    size_t limit;                     /* BLOCKS, EVENTS: rows at most */
    /* EVENTS: the filters of `sipwall events` (strings checked, "" = any) */
    int64_t since_ns, until_ns;       /* 0 = no bound */
    int64_t after_id;
    char type[SW_ADMIN_FIELD_MAX], src[SW_ADMIN_FIELD_MAX], peer[SW_ADMIN_FIELD_MAX],
        rule[SW_ADMIN_FIELD_MAX];
    /* INTEL_PUSH: the body (a view, valid during run) and the pushing
     * partner's org ("" when the operator's token authenticated it) */
    const char *body;
    size_t body_len;
    char push_org[SW_ADMIN_ORG_MAX];
} sw_admin_req;

/* Routes method and target (the request line's path with its query, as
 * evhttp gives it) to an operation and parses the path's segments and the
 * query (percent-decoded; %00 and control characters refused) into *r,
 * relative times against now_ns.  Returns an HTTP status: 200 when *r is
 * ready (a body may still be due: sw_admin_parse_block), 404 for an
 * unknown path, 405 for a method the path does not take, 400 for a bad
 * query or segment; err gets the reason in words. */
int sw_admin_route(const char *method, const char *target, int64_t now_ns, sw_admin_req *r, char *err,
                   size_t errlen) SW_NONNULL(1, 2, 4, 5);

/* The JSON body of POST /v1/blocks into *r: {"kind": "source", "key":
 * "192.0.2.7", "duration": 600 | "10m", "reason": "..."}; kind, key and
 * duration are required, other members refused.  duration: seconds, or
 * digits with s, m, h or d; 1 s..24 h.  Returns 200, 400 (err names the
 * parse error or the member) or 413 (len above SW_ADMIN_BODY_MAX). */
int sw_admin_parse_block(const char *body, size_t len, sw_admin_req *r, char *err, size_t errlen)
    SW_NONNULL(3, 4);

/* {"error": {"status": N, "message": "..."}} (malloc'd, NULL on no memory). */
char *sw_admin_error_json(int status, const char *message) SW_NONNULL(2);

/* ---- the login limiter ----------------------------------------------------------
 * Verifying a credential costs an Argon2id hash (tens of ms) on purpose;
 * so every attempt passes this limiter first, and a refused one is
 * answered 429 without hashing.  Per source (an IPv4 address, an IPv6
 * /64) a bucket of burst attempts refilled at per_min a minute; a success
 * gives its token back (a legitimate client is never throttled).  All
 * sources together: at most global_per_s hashed attempts a second, and
 * at most max_concurrent verifications at once.  The source table holds
 * capacity entries (least recently used evicted), allocated at _new. */
typedef struct sw_admin_limiter sw_admin_limiter;

typedef struct sw_admin_limits {
    uint32_t capacity;       /* sources tracked; 0 = 4096 */
    uint32_t burst;          /* attempts a source may make at once; 0 = 5 */
    uint32_t per_min;        /* refill a minute per source; 0 = 12 */
    uint32_t global_per_s;   /* hashed attempts a second, all sources; 0 = 5 */
    uint32_t max_concurrent; /* verifications at once; 0 = 2 */
} sw_admin_limits;

sw_admin_limiter *sw_admin_limiter_new(const sw_admin_limits *l) SW_WUR;
void sw_admin_limiter_free(sw_admin_limiter *l);
/* Before a verification: SW_OK (a token and a concurrency slot are
 * taken: call sw_admin_limiter_done after), or SW_ELIMIT (refuse, 429).
 * Thread-safe. */
int sw_admin_limiter_take(sw_admin_limiter *l, const sw_addr *src, int64_t now_ns) SW_NONNULL(1, 2);
/* After it: releases the slot; ok = 1 gives the source's token back. */
void sw_admin_limiter_done(sw_admin_limiter *l, const sw_addr *src, int ok) SW_NONNULL(1, 2);
typedef struct sw_admin_limiter_stats {
    uint64_t taken, refused_source, refused_global, refused_busy, evictions;
} sw_admin_limiter_stats;
void sw_admin_limiter_stats_get(sw_admin_limiter *l, sw_admin_limiter_stats *out) SW_NONNULL(1, 2);

/* ---- the credential ----------------------------------------------------------------
 * One bearer token: 32 random bytes (256 bits) as 43 base64url characters,
 * made at the first start and shown once; only its Argon2id hash (PHC
 * string, libsodium crypto_pwhash_str, opslimit 2, 19 MiB) is kept, in a
 * file of mode 0600. */
#define SW_ADMIN_TOKEN_LEN 43
typedef struct sw_admin_cred sw_admin_cred;

/* Loads the hash at path; when the file does not exist, makes a token,
 * writes its hash there (O_EXCL, 0600) and puts the token in
 * new_token[SW_ADMIN_TOKEN_LEN + 1] (else new_token[0] = '\0').  Refuses a
 * file that is not regular, is readable by group or other, or does not
 * hold an Argon2id string.  NULL with err. */
sw_admin_cred *sw_admin_cred_open(const char *path, char *new_token, char *err, size_t errlen)
    SW_NONNULL(1, 2, 3);
void sw_admin_cred_free(sw_admin_cred *c);
/* 1 when token is the credential, else 0.  The first success costs the
 * Argon2id verification; after it a keyed BLAKE2b of the token is kept in
 * memory and later presentations compare against that (constant time).
 * Thread-safe. */
int sw_admin_cred_verify(sw_admin_cred *c, const char *token, size_t len) SW_NONNULL(1, 2);
/* 1 when verifying this token would hash (it is not the cached one). */
int sw_admin_cred_costly(sw_admin_cred *c, const char *token, size_t len) SW_NONNULL(1, 2);

/* ---- the server ------------------------------------------------------------------- */
/* What requests do, implemented by the program (all called on the
 * server's thread; each returns malloc'd JSON or an error):
 * - status/reload/blocks/block_add/unblock/partners: *status gets the HTTP
 *   status (200, 400, 404, 409, 500, 503) and the return is the body.
 * - who: the authenticated identity ("token", or "cert:CN") and from: the
 *   client's address, for the audit events of changes. */
typedef struct sw_admin_ops {
    char *(*run)(void *ctx, const sw_admin_req *r, const char *who, const sw_addr *from, int *status);
    /* a refused login (audit event): reason e.g. "no credential" */
    void (*auth_failed)(void *ctx, const sw_addr *from, const char *who, const char *reason);
    /* optional: 1 when the client certificate identity cert_id belongs to a
     * partner allowed to POST /v1/intel/push without the token (its org
     * into org[SW_ADMIN_ORG_MAX]); only asked with client certificates on */
    int (*push_peer)(void *ctx, const char *cert_id, char *org);
} sw_admin_ops;

/* Another protocol served on the same HTTPS server (sipwalld mounts TAXII
 * 2.1 here, src/daemon/publish.c).  A request whose target `claims`
 * accepts skips the admin credential (the TLS checks, mutual TLS
 * included, still apply) and goes to handle, which authenticates on its
 * own and answers; the server sends what it returns. */
typedef struct sw_admin_mount_req {
    const char *method, *target;
    const char *accept, *content_type, *authorization, *host; /* NULL when absent */
    const char *body;
    size_t body_len;
    const char *cert;              /* the client certificate's id, "" when none */
    const sw_addr *from;
} sw_admin_mount_req;

#define SW_ADMIN_MOUNT_HEADERS 4
typedef struct sw_admin_mount_resp {
    int status;
    const char *content_type;      /* static */
    const char *hname[SW_ADMIN_MOUNT_HEADERS]; /* static names, NULL = unused */
    char hval[SW_ADMIN_MOUNT_HEADERS][64];
    char *body;                    /* malloc'd, freed by the server */
    size_t len;
} sw_admin_mount_resp;

typedef struct sw_admin_mount {
    int (*claims)(void *ctx, const char *target);
    void (*handle)(void *ctx, const sw_admin_mount_req *r, sw_admin_mount_resp *out);
    void *ctx;
    size_t body_max;               /* the largest body it takes (evhttp's cut is raised to twice this) */
} sw_admin_mount;

typedef struct sw_admin_server_config {
    sw_addr listen;            /* address and port (loopback by default in the daemon) */
    SSL_CTX *tls;              /* borrowed; sw_tls_server_ctx (client-ca: REQUIRED) */
    uint8_t client_cert;       /* 1: clients must present a certificate from the CA */
    sw_admin_cred *cred;       /* borrowed */
    sw_admin_limits limits;
    unsigned max_conns;        /* connections at once; 0 = 64 */
    unsigned timeout_s;        /* read/write/idle per connection; 0 = 10; a connection
                                * lives SW_ADMIN_LIFETIME_TIMEOUTS times this at most */
    const sw_admin_ops *ops;
    void *ctx;
    const sw_admin_mount *mount; /* NULL = none; borrowed */
} sw_admin_server_config;

#define SW_ADMIN_LIFETIME_TIMEOUTS 5
typedef struct sw_admin_server sw_admin_server;

/* Binds the listener now (before privileges drop); nothing is served
 * until _start.  NULL with err. */
sw_admin_server *sw_admin_server_new(const sw_admin_server_config *c, char *err, size_t errlen)
    SW_NONNULL(1, 2);
/* Starts the server's thread (own event_base).  SW_OK or SW_EIO. */
int sw_admin_server_start(sw_admin_server *s, char *err, size_t errlen) SW_NONNULL(1, 2);
/* Stops the thread (requests in flight are cut) and frees.  NULL-safe. */
void sw_admin_server_free(sw_admin_server *s);
typedef struct sw_admin_server_stats {
    uint64_t requests, auth_failures, throttled, conns, conns_now;
    uint64_t conns_expired;    /* cut at the end of their lifetime */
    sw_admin_limiter_stats limiter;
} sw_admin_server_stats;
void sw_admin_server_stats_get(sw_admin_server *s, sw_admin_server_stats *out) SW_NONNULL(1, 2);

#endif
