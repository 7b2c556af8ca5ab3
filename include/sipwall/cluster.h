/* sipwall — cluster state: the state store shared by several sipwalld
 * nodes through Redis (docs/cluster.md).
 *
 * Two parts:
 *   - a RESP codec (sw_resp_*): commands formatted and replies parsed by
 *     hiredis 0.14's reader, used as a codec only (no hiredis networking:
 *     the bytes travel over our own streams, include/sipwall/net.h, so TLS
 *     is OpenSSL's).  Replies are outside input: the reader bounds the bytes
 *     it buffers, the elements of an array and the objects of one reply.
 *   - the Redis backend of the state store (sw_state_redis_new): a local
 *     in-process mirror answers every op at once; a background thread sends
 *     this node's blocks and unblocks to Redis, publishes them to the other
 *     nodes, applies theirs to the mirror, and resynchronises the mirror
 *     from Redis after a start or an outage. */
#ifndef SIPWALL_CLUSTER_H
#define SIPWALL_CLUSTER_H

#include "sipwall/engine.h"
#include "sipwall/net.h"

/* ---- RESP ---------------------------------------------------------------------- */

typedef enum sw_resp_type {
    SW_RESP_STRING = 1, /* bulk string */
    SW_RESP_ARRAY = 2,
    SW_RESP_INTEGER = 3,
    SW_RESP_NIL = 4,
    SW_RESP_STATUS = 5, /* +OK */
    SW_RESP_ERROR = 6,  /* -ERR ... */
} sw_resp_type;

/* One reply.  str is NUL-terminated (len excludes it); elem has n entries
 * (an entry may be NULL only for an empty array). */
typedef struct sw_resp {
    sw_resp_type type;
    long long integer;
    char *str;
    size_t len;
    struct sw_resp **elem;
    size_t n;
} sw_resp;

typedef struct sw_resp_reader sw_resp_reader;

#define SW_RESP_MAX_BUFFER_DEFAULT (1u << 20)  /* bytes buffered, unparsed */
#define SW_RESP_MAX_ELEMENTS_DEFAULT 65536u    /* per array, and objects per reply */

/* A reader with ceilings: at most max_buffer bytes held unparsed (a bulk
 * string longer than that can never complete), at most max_elements in an
 * array and objects in one reply (0: the defaults above).  NULL on ENOMEM. */
sw_resp_reader *sw_resp_reader_new(size_t max_buffer, size_t max_elements) SW_WUR;
void sw_resp_reader_free(sw_resp_reader *r);
/* Adds n bytes of the stream.  SW_OK; SW_ELIMIT when more than max_buffer
 * would be held (the reader is then broken: sw_resp_error says why);
 * SW_EINVAL when it is already broken. */
int sw_resp_feed(sw_resp_reader *r, const void *buf, size_t n) SW_NONNULL(1);
/* The next complete reply: SW_OK with *out (the caller's, sw_resp_free),
 * SW_EINCOMPLETE (feed more), SW_EINVAL (a protocol error or a ceiling:
 * the reader is broken for good, drop the connection). */
int sw_resp_next(sw_resp_reader *r, sw_resp **out) SW_NONNULL(1, 2);
/* Why the reader broke ("" when it has not). */
const char *sw_resp_error(const sw_resp_reader *r) SW_NONNULL(1);
void sw_resp_free(sw_resp *v);

/* A command as RESP (an array of bulk strings): *out is malloc'ed, *len
 * its length.  SW_OK, SW_ENOMEM, SW_EUSAGE (argc < 1). */
int sw_resp_command(char **out, size_t *len, int argc, const char **argv, const size_t *argvlen)
    SW_WUR SW_NONNULL(1, 2, 4, 5);

/* ---- the Redis state store -------------------------------------------------------- */

typedef void (*sw_cluster_log_fn)(void *ctx, int level, const char *msg); /* level: 3 err, 4 warn, 6 info */

typedef struct sw_redis_config {
    sw_addr addr;                 /* Redis (IP literal and port) */
    const char *user;             /* ACL user; NULL = AUTH with the password only (or none) */
    const char *password;         /* copied and wiped on free; NULL = no AUTH */
    const char *prefix;           /* keys and channel, e.g. "sipwall:" (1..64 bytes) */
    const char *node;             /* this node's name, unique in the cluster (1..64 bytes) */
    SSL_CTX *tls;                 /* borrowed, must outlive the store; NULL = plain TCP */
    const char *tls_name;         /* the name Redis' certificate must carry; NULL = the chain only */
    uint32_t capacity;            /* the mirror's block entries (1..1<<26) */
    uint32_t queue;               /* writes waiting for Redis, at most (0 = 16384; about 380 bytes each) */
    int connect_timeout_ms;       /* per connection attempt and per reply (0 = 2000) */
    sw_cluster_log_fn log;        /* NULL = silent; called from the background thread */
    void *log_ctx;
} sw_redis_config;

typedef struct sw_redis sw_redis;

typedef struct sw_redis_stats {
    uint8_t connected;            /* both connections up and resynchronised */
    uint64_t connects;            /* successful (re)connections */
    uint64_t failures;            /* failed attempts and lost connections */
    uint64_t auth_failures;       /* AUTH refused (wrong user or password) */
    uint64_t sent;                /* writes done in Redis */
    uint64_t queued;              /* writes waiting now */
    uint64_t dropped;             /* writes dropped: the queue was full */
    uint64_t refused;             /* writes Redis answered with an error (ACL, read-only): dropped */
    uint64_t applied;             /* other nodes' changes applied to the mirror (pub/sub) */
    uint64_t resyncs;             /* resynchronisations from Redis */
    uint64_t resync_loaded;       /* entries loaded by the last one */
    int64_t resync_ns;            /* how long the last one took */
    int64_t lag_last_ns, lag_max_ns; /* another node's write -> applied here (their clock) */
} sw_redis_stats;

/* The Redis backend: returns a store (sw_state_free ends it: the thread
 * stops, pending writes are abandoned) and, in *handle, the backend for
 * sw_redis_stats (valid as long as the store).  The thread starts at once
 * and connects in the background: the store works before Redis answers.
 * NULL with the reason in err on a bad config or no memory. */
sw_state_store *sw_state_redis_new(const sw_redis_config *c, sw_redis **handle, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2);
void sw_redis_stats_get(sw_redis *r, sw_redis_stats *out) SW_NONNULL(1, 2);

/* The wire format of one block (a key's value and a published message's
 * body), exposed for the tests and the fuzz target: encode writes at most
 * len bytes (SW_ELIMIT when they do not fit), returns the length; decode
 * parses n bytes into *b and *origin (the node that wrote it, 64 bytes):
 * SW_OK or SW_EINVAL. */
int sw_cluster_block_encode(const sw_state_block *b, const char *node, int64_t wrote_ns, char *buf, size_t len)
    SW_NONNULL(1, 2, 4);
int sw_cluster_block_decode(const char *buf, size_t n, sw_state_block *b, char origin[65], int64_t *wrote_ns)
    SW_NONNULL(1, 3, 4, 5);

#endif
