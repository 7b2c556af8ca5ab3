/* sipwalld internals shared by its parts (docs/sipwalld.md).
 *
 * Threads: the main thread loads the config, binds every socket, drops
 * privileges, then runs the control loop (signals, admin socket, reload,
 * event-file flushing).  One worker per core runs an epoll loop over its
 * own sockets (SO_REUSEPORT, steered by source address), its own engine
 * and proxy: nothing on the per-message path is shared or locked.
 *
 * Stream connections belong to the worker sw_sock_owner(peer) names; a
 * worker that must send over a connection it does not own hands the bytes
 * over through that worker's inbox (a single-producer ring per pair).
 *
 * Reload (src/daemon/reload.c): a thread of its own compiles the new
 * policy while the workers go on with the old one and the main thread
 * goes on answering the admin socket and signals; the main thread then
 * publishes it (an atomic pointer with a generation) and frees the old one
 * when every worker has taken the new one. */
#ifndef SWD_DAEMON_H
#define SWD_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>

#include "daemon/config.h"
#include "sipwall/engine.h"
#include "sipwall/event.h"
#include "sipwall/intel.h"
#include "sipwall/net.h"
#include "sipwall/policy.h"
#include "sipwall/proxy.h"

const char *swd_version(void);

/* ---- logs (structured: "ts level comp msg key=value…") -------------------- */
int swd_log_open(const char *where, int level, char *err, size_t errlen);
void swd_log_close(void);
/* Reopens the log file by its name (after logrotate moved it): the same
 * descriptor then points at the new file.  SW_OK at once for stderr and
 * syslog, and when the name still is the open file; SW_EIO with err when
 * the file cannot be opened (the old one stays in use). */
int swd_log_reopen(char *err, size_t errlen);
void swd_log(int level, const char *comp, const char *fmt, ...) SW_PRINTF(3, 4);
#define swd_err(comp, ...) swd_log(SWD_LOG_ERROR, comp, __VA_ARGS__)
#define swd_warn(comp, ...) swd_log(SWD_LOG_WARN, comp, __VA_ARGS__)
#define swd_info(comp, ...) swd_log(SWD_LOG_INFO, comp, __VA_ARGS__)
#define swd_debug(comp, ...) swd_log(SWD_LOG_DEBUG, comp, __VA_ARGS__)

/* ---- the policy generation ----------------------------------------------- */
typedef struct swd_policy_gen {
    sw_policy *policy;
    uint64_t gen;
    sw_location_feed *feeds[SWD_MAX_WORKERS]; /* one per worker (the engine owns it once taken) */
} swd_policy_gen;

/* Loads the config's policies (and location feed, once per worker).
 * Diagnostics go to the log; returns NULL when the policy does not load. */
swd_policy_gen *swd_policy_gen_load(const swd_config *cfg, unsigned nworkers, uint64_t gen,
                                    char *err, size_t errlen);
void swd_policy_gen_free(swd_policy_gen *g);

/* ---- signed bundles (src/daemon/bundle.c, docs/bundles.md) ------------------ */
/* What a bundle load found: status is SW_BUNDLE_OK or why the bundle was
 * refused (an integrity failure); a policy that does not compile from a
 * verified bundle leaves status OK and the gen NULL. */
typedef struct swd_bundle_info {
    int status;                 /* sw_bundle_status */
    int retiring;               /* verified with a key marked retiring */
    char keyid[20];
    uint64_t version;
    struct sw_bundle *bundle;   /* the verified bundle (to record it); freed by _info_free */
} swd_bundle_info;

/* Loads a policy generation from the signed bundle at path, checked
 * against cfg's trust keys and the mark of the last accepted bundle (read
 * only: nothing is recorded).  NULL with err (and info->status) when
 * refused or when the policy does not load. */
swd_policy_gen *swd_bundle_gen_load(const swd_config *cfg, const char *path, unsigned nworkers,
                                    uint64_t gen, swd_bundle_info *info, char *err, size_t errlen);
void swd_bundle_info_free(swd_bundle_info *info);

struct swd_daemon;
/* The daemon's load: swd_policy_gen_load for a config without a bundle;
 * with one, the bundle is verified, a refusal is counted (metrics) and
 * told as an integrity_failure event, a retiring key as an
 * integrity_warning event, and an accepted bundle is recorded (its mark and
 * a copy, next to the secret).  At start (at_start), a refused bundle
 * falls back to the recorded last good copy when there is one.  Events
 * before the event store opens wait for swd_bundle_flush_events. */
swd_policy_gen *swd_policy_gen_load_d(struct swd_daemon *d, int at_start, uint64_t gen, char *err,
                                      size_t errlen);
void swd_bundle_flush_events(struct swd_daemon *d);

typedef struct swd_bundle_note {
    int type;                   /* sw_event_type; 0 slot empty when detail[0] == 0 */
    char rule[48];
    char detail[400];
} swd_bundle_note;
#define SWD_BUNDLE_NOTES 4

/* ---- the inter-worker inbox ------------------------------------------------ */
typedef struct swd_ring swd_ring;
swd_ring *swd_ring_new(size_t bytes);
void swd_ring_free(swd_ring *r);
/* Producer side: 0, or SW_ELIMIT when full (the message is dropped, like
 * a full socket buffer would). */
int swd_ring_put(swd_ring *r, uint32_t kind, const void *hdr, size_t hlen, const void *data,
                 size_t dlen);
/* Consumer side: the next record, or 0 when empty.  Valid until _pop. */
typedef struct swd_ring_rec {
    uint32_t kind;
    const void *hdr;
    size_t hlen;
    const void *data;
    size_t dlen;
} swd_ring_rec;
int swd_ring_peek(swd_ring *r, swd_ring_rec *out);
void swd_ring_pop(swd_ring *r);
/* Bytes waiting (any thread; a snapshot, for the metrics). */
size_t swd_ring_used(const swd_ring *r);

/* ---- counters -------------------------------------------------------------- */
#define SWD_COUNTER_LIST(X)                                                              \
    X(rx_udp) X(rx_stream) X(rx_bytes) X(tx_udp) X(tx_stream) X(tx_bytes)               \
    X(requests_forwarded) X(responses_forwarded) X(replies)                             \
    X(dropped_policy) X(dropped_proxy) X(dropped_no_route) X(dropped_send)              \
    X(dropped_inbox) X(handed_over) X(conn_accepted) X(conn_refused) X(conn_closed_idle)               \
    X(conn_closed_slow) X(conn_closed_error) X(conn_closed_limit) X(conn_closed_framing) X(tls_handshake_failed)\
    X(conn_outgoing) X(hop_failovers) X(icmp_errors) X(sensor_messages) X(hep_packets)  \
    X(hep_bad) X(hep_auth_failed)                                                       \
    X(accept_backoff) X(conn_refused_fd) X(conn_refused_slots) X(conn_refused_ip)       \
    X(conn_refused_net) X(conn_refused_reserve) X(conn_closed_stranger_idle)            \
    X(tls_log_suppressed) X(tls_handshakes)

typedef struct swd_counters {
#define SWD__CTR(n) uint64_t n;
    SWD_COUNTER_LIST(SWD__CTR)
#undef SWD__CTR
} swd_counters;

/* ---- the daemon -------------------------------------------------------------- */
typedef struct swd_worker swd_worker;

/* TLS failure slots: a `listen tls` line's index, SWD_MAX_LISTENS + a
 * `hep tls` line's index, or SWD_TLS_SLOT_CLIENT for outgoing
 * connections (next hops). */
#define SWD_TLS_SLOT_CLIENT (SWD_MAX_LISTENS + SWD_MAX_HEPS)
#define SWD_TLS_SLOTS (SWD_TLS_SLOT_CLIENT + 1)
/* At most one tls_failure event per slot in this interval; the failures in
 * between are counted in the next one. */
#define SWD_TLS_EVENT_NS (INT64_C(10) * 1000000000)

typedef struct swd_daemon {
    swd_config *cfg;
    unsigned nworkers;
    uint8_t secret[SWD_SECRET_LEN];
    sw_proxy_iface ifaces[SWD_MAX_LISTENS]; /* config listens, advertised addresses */
    SSL_CTX *tls_server[SWD_MAX_LISTENS];
    SSL_CTX *tls_client;
    SSL_CTX *hep_tls[SWD_MAX_HEPS]; /* `hep tls` listeners' server contexts */
    struct swd_events *events;  /* the event pipeline (sink.c); NULL = count only */
    _Atomic(swd_policy_gen *) policy;
    atomic_int stop;
    swd_worker *workers[SWD_MAX_WORKERS];
    struct swd_admit *admit;    /* connection admission shared by the workers (conn.c) */
    int64_t started_ns;
    uint64_t reloads;           /* main thread only */
    /* Blocks and the daemon-wide counters, shared by every worker's engine
     * (created with the first policy, sized by its `limits blocks`). */
    sw_state_store *state;
    struct sw_redis *redis;     /* the Redis backend of state, NULL = in-process (state.c) */
    SSL_CTX *redis_tls;         /* its TLS client context, NULL = plain */
    struct swd_reloader *reloader; /* policy reloads off the control thread (reload.h) */
    sw_exporter *exporters[SWD_MAX_EXPORTS]; /* export syslog lines (daemon/export.c) */
    unsigned nexporters;
    struct swd_api *api;        /* the HTTPS admin API (daemon/api.c); NULL = none */
    struct swd_intel *intel;    /* partners' intelligence (daemon/intel.c); NULL = none */
    struct swd_publish *publish; /* TAXII server and publisher (daemon/publish.c); NULL = none */
    struct swd_pull *pull;      /* TAXII collections pulled (daemon/pull.c); NULL = none */
    struct swd_push *push;      /* webhook push to partners (daemon/push.c); NULL = none */
    /* signed bundles (daemon/bundle.c): refusals by sw_bundle_status, the
     * version in force, events waiting for the event store */
    _Atomic uint64_t bundle_refused[16];
    _Atomic uint64_t bundle_version;
    swd_bundle_note bundle_notes[SWD_BUNDLE_NOTES];
    /* sipwall's own security events (swd_audit, swd_tls_failure) by type,
     * and TLS handshake failures by listener slot (SWD_TLS_SLOT_*) */
    _Atomic uint64_t security_events[SW_EVT__COUNT];
    _Atomic uint64_t tls_failures[SWD_TLS_SLOTS];
} swd_daemon;

/* The shared store's ceiling for a policy; on reload the store is resized
 * to it before the workers take the policy (state.c: logs what moved). */
uint32_t swd_state_capacity(const sw_policy *p);
int swd_state_reload(swd_daemon *d, const sw_policy *p, char *msg, size_t msglen);
/* Creates d->state: the in-process store, or the Redis backend when the
 * config has `state redis` (reads the password file and the TLS files
 * now, before privileges drop; the connection is made in the background).
 * SW_OK, or an error with the reason in err. */
int swd_state_open(swd_daemon *d, uint32_t capacity, char *err, size_t errlen);
/* Frees d->state and what swd_state_open made. */
void swd_state_close(swd_daemon *d);

/* Creates the workers and binds every socket (before privileges drop). */
int swd_workers_create(swd_daemon *d, char *err, size_t errlen);
int swd_workers_start(swd_daemon *d, char *err, size_t errlen);
/* Wakes every worker (stop or a new policy). */
void swd_workers_wake(swd_daemon *d);
void swd_workers_join(swd_daemon *d);
void swd_workers_free(swd_daemon *d);
/* The generation every worker has taken (the minimum). */
uint64_t swd_workers_policy_acked(swd_daemon *d);
/* Sums the workers' published counters and engine statistics. */
void swd_workers_stats(swd_daemon *d, swd_counters *c, sw_engine_stats *es, uint64_t *conns);

/* ---- blocks for operators (src/daemon/blocks.c) ------------------------------
 * The functions behind `sipwalld ctl blocks|block|unblock` and the admin
 * API (which hands its commands to the control thread); control thread
 * only (swd_block_add reads the policy in force).  Each change is an
 * audit event naming who and from where. */
/* {"blocks":[{kind,key,origin,rule,reason,created,expires,hits,offences}],
 * "total":N,"truncated":bool}: the blocks in force, at most limit of them
 * (malloc'd; NULL on no memory). */
char *swd_blocks_json(swd_daemon *d, size_t limit);
/* Blocks kind/key for dur_s seconds (1..86400) with a reason (origin
 * admin; an existing entry of that key is replaced, not doubled).  SW_OK
 * with "ok …" in msg, or SW_EINVAL / SW_ENOTFOUND / SW_ECONFLICT (a
 * partner's source address: source blocks never apply to partners) with
 * "error: …". */
int swd_block_add(swd_daemon *d, const char *kind, const char *key, int64_t dur_s, const char *reason,
                  const char *who, const sw_addr *from, char *msg, size_t msglen);
/* Lifts the block on kind/key (removes its entry).  SW_OK, SW_ENOTFOUND
 * (no such block), SW_EINVAL (bad kind or key); msg as above. */
int swd_unblock(swd_daemon *d, const char *kind, const char *key, const char *who,
                const sw_addr *from, char *msg, size_t msglen);

/* {"partners":[{name,role,trusted,addresses,cps,concurrency,messages,
 * verdicts{},blocked,workers_counted,counted}],"policy_generation":N}: the
 * configured partners of the policy in force with their live counters
 * (daemon/partners.c)
 * (malloc'd; NULL on no memory).  Control thread only (it frees old
 * policy generations). */
char *swd_partners_json(swd_daemon *d);

/* JSON for the admin socket's "stats" (malloc'd). */
char *swd_stats_json(swd_daemon *d);

int64_t swd_now_ns(void);

/* ---- events (src/daemon/sink.c) -------------------------------------------- */
typedef struct swd_events swd_events;
/* What opening the files sipwalld writes (events, events-db, a log file)
 * would refuse, without opening anything (for --check-config): a symbolic
 * link at the path, a directory that does not exist or is not writable.
 * SW_OK or SW_EINVAL with err. */
int swd_events_check(const swd_config *cfg, char *err, size_t errlen);
/* Opens what the config names (events-db: the SQLite store; events: the
 * JSON-lines file, appended) and the event pipeline with one producer per
 * worker and its writer thread.  A path that is a symbolic link is refused
 * (defect R5).  Nothing configured: d->events stays NULL and events are
 * only counted.  Call before the workers are created. */
int swd_events_open(swd_daemon *d, char *err, size_t errlen);
/* The sink worker i gives its engine (its producer); NULL = none. */
sw_event_sink *swd_events_sink(swd_daemon *d, unsigned worker);
/* Reopens the JSON-lines file and the log file by name (after logrotate
 * moved them).  msg gets the one-line outcome; SW_OK or SW_EIO. */
int swd_events_reopen(swd_daemon *d, char *msg, size_t msglen);
/* Called about once a second by the control loop: logs (warn) how many
 * events were dropped or failed to be written since the last call. */
void swd_events_tick(swd_daemon *d);
/* The pipeline's counters now (zeroes when there is no pipeline); any
 * thread (the metrics, daemon/metrics.c). */
void swd_events_pipeline_stats(swd_daemon *d, sw_event_pipeline_stats *out);
/* Adds the pipeline's counters to the "stats" JSON object (a json_t *). */
void swd_events_stats(swd_daemon *d, void *out);
/* An audit event, category system: type SW_EVT_ADMIN_CHANGE for a change
 * an operator made (rule e.g. "admin.unblock"), SW_EVT_ADMIN_AUTH_FAILURE
 * for a refused login.  who: the credential or certificate identity; from:
 * the client's address (NULL or family 0: the local socket); what: the
 * operation ("unblock"); detail: the outcome in words.  Logged, and written
 * through the pipeline's last producer (under a lock: any thread).  */
void swd_audit(swd_daemon *d, sw_event_type type, const char *rule, const char *who,
               const sw_addr *from, const char *what, const char *detail);
/* 64 lowercase hex digits and a NUL for a SHA-256 (sink.c). */
void swd_sha256_hex(const uint8_t sha[32], char out[65]);

/* A TLS handshake that failed on slot (SWD_TLS_SLOT_*) with peer and why:
 * counted at once (metrics), and a tls_failure event (category system,
 * rule sipwall.tls.handshake_failed, evidence `failures`) at most once per
 * SWD_TLS_EVENT_NS per slot, carrying every failure since the previous one
 * and the last peer and reason; the rest follow from swd_events_tick and
 * swd_events_close.  Any thread. */
void swd_tls_failure(swd_daemon *d, unsigned slot, const sw_addr *peer, const char *why);
/* Drains every queue into the outputs, stops the writer, closes all.
 * After the workers have stopped.  NULL-safe. */
void swd_events_close(swd_daemon *d);

/* ---- partners' intelligence (daemon/intel.c, docs/exchange-intel.md) -------- */
/* All on the control thread. */
typedef struct swd_intel swd_intel;
typedef struct swd_publish swd_publish;
/* With an intel line: the consumer over d->state, trust, keys, allowlists
 * of the policy in force.  After swd_state_open.  SW_OK or an error. */
int swd_intel_open(swd_daemon *d, char *err, size_t errlen);
void swd_intel_close(swd_daemon *d);
/* A reload's new policy, while the old one is still allocated. */
void swd_intel_policy(swd_daemon *d, const sw_policy *p);
/* Expiry and renewal, every `intel tick` seconds (called every second). */
void swd_intel_tick(swd_daemon *d);
/* A batch (a JSON array of FSE objects): each verified with the partners'
 * keys and applied, or quarantined.  The reply JSON (malloc'd), or NULL
 * with "error: ..." in msg. */
char *swd_intel_take(swd_daemon *d, const char *buf, size_t len, const char *who, char *msg, size_t msglen);
char *swd_intel_take_file(swd_daemon *d, const char *path, const char *who, char *msg, size_t msglen);
/* The same for a batch a partner pushed (org non-NULL): objects of any
 * other producer are refused even when they verify (never relayed). */
char *swd_intel_take_org(swd_daemon *d, const char *buf, size_t len, const char *org, const char *who, char *msg,
                         size_t msglen);
/* Plain (unsigned) STIX indicators of a pulled collection, mapped to its
 * partner (sw_taxii_page_parse): applied at that partner's trust.  Returns
 * how many were applied; *enforced (may be NULL) how many block now. */
int swd_intel_take_plain(swd_daemon *d, const sw_intel_ind *v, size_t n, const char *who, size_t *enforced);

/* ---- TAXII 2.1 pull (daemon/pull.c, docs/exchange-intel.md) ----------------
 * One thread polls every intel-pull collection (libcurl), follows next, and
 * hands each page to the control thread, which verifies and applies it;
 * the cursor is saved once the page is taken. */
/* Reads credentials and TLS files (as root), loads cursors.  SW_OK or an
 * error in err; nothing without intel-pull lines. */
int swd_pull_open(swd_daemon *d, char *err, size_t errlen);
/* Starts the thread (after the privileges drop). */
int swd_pull_start(swd_daemon *d, char *err, size_t errlen);
/* The control loop's wake-up fd (-1 without pulls), and its service. */
int swd_pull_fd(swd_daemon *d);
void swd_pull_poll(swd_daemon *d);
/* Stops the thread and frees everything.  NULL-safe. */
void swd_pull_close(swd_daemon *d);
/* A batch a partner pushed (POST /v1/intel/push, the admin API's thread):
 * handed to the control thread like a page, verified, applied; objects of
 * another producer than org (non-NULL) refused.  Returns the reply JSON
 * with *status 200, or an error body (400, 404, 503). */
char *swd_intel_push_take(swd_daemon *d, const char *body, size_t len, const char *org, const char *who,
                          int *status);
/* {"pulls":[{url, collection, org, polls, pages, objects, ...}]} (malloc'd). */
char *swd_pull_json(swd_daemon *d);

/* ---- webhook push (daemon/push.c, docs/exchange-intel.md) ------------------
 * intel-push receivers: each signed object queued is POSTed to each of
 * them by one thread, with retries and exponential backoff. */
typedef struct swd_push swd_push;
/* Reads tokens and TLS files (as root), allocates the queues.  SW_OK or an
 * error; nothing without intel-push lines. */
int swd_push_open(swd_daemon *d, char *err, size_t errlen);
int swd_push_start(swd_daemon *d, char *err, size_t errlen);
void swd_push_close(swd_daemon *d);
/* Queues one signed FSE object (JSON text) for every receiver; any thread.
 * Returns the receivers it was queued for (a full queue drops and counts). */
int swd_push_enqueue(swd_daemon *d, const char *obj, size_t len);

/* The whole of a regular file of at most max bytes, NUL-terminated (its
 * length in *len when len is not NULL); NULL with the reason in err for a
 * missing, special or larger file or no memory (daemon/files.c). */
char *swd_read_small(const char *path, size_t max, size_t *len, char *err, size_t errlen);
/* ctl intel publish FILE: a JSON array of signed FSE objects queued.
 * Returns msg ("ok ..." or "error: ..."). */
char *swd_push_publish_file(swd_daemon *d, const char *path, char *msg, size_t msglen);
/* {"pushes":[{url, waiting, capacity, queued, delivered, dropped, ...}]}. */
char *swd_push_json(swd_daemon *d);
/* The held indicators ({"indicators":[...],"total":N,...}); one by id
 * (NULL with msg when unknown); an operator's revocation (audited). */
char *swd_intel_list_json(swd_daemon *d, size_t limit);
char *swd_intel_show_json(swd_daemon *d, const char *id, char *msg, size_t msglen);
int swd_intel_revoke(swd_daemon *d, const char *id, const char *who, const sw_addr *from, char *msg,
                     size_t msglen);

/* ---- exporters to the SIEM (daemon/export.c, docs/export.md) --------------- */
/* Makes one exporter per `export` line (certificates loaded now, before
 * privileges drop); nothing connects yet.  SW_OK or an error in err. */
int swd_exports_create(swd_daemon *d, char *err, size_t errlen);
/* Starts their threads (after the drop: the store is opened as the
 * daemon's user).  SW_OK or SW_EIO. */
int swd_exports_start(swd_daemon *d, char *err, size_t errlen);
/* Stops them (cursor persisted) and frees them. */
void swd_exports_free(swd_daemon *d);
/* Their counters as a JSON object {"NAME": {...}} (malloc'd text), or NULL. */
char *swd_exports_stats_json(swd_daemon *d);

#endif
