/* sipwall — the screening engine: one message and a clock in, a verdict and
 * events out.
 *
 * The same engine runs inline (sipwalld applies the verdict) and passively
 * (`sipwall check`, live capture, HEP: the verdict is what inline would
 * have done).  It does no I/O: the time of each message is the clock,
 * events go to the sink given at creation.
 *
 * Per message (docs/policy.md "Evaluation"):
 *   parse -> facts -> peer (cat 0) -> blocks -> allow rules -> rules
 *   (cat 1-3, in order) -> privacy profile -> detectors -> verdict.
 * Every non-allow decision and every monitor-mode hit is an event, capped
 * per (rule, offender) and summarised, so a flood never becomes an event
 * storm.  All state is bounded by the policy's limits.
 *
 * One message gives at most one event per offender (docs/events.md "Which
 * event"): a detector's classification names the attack even when cat0
 * admission, a rule or a block decided the message (evidence "dropped_by");
 * several rules on one message are one event (the one that decided, the
 * others in evidence "also"); a retransmission gives none.  An event's
 * action is what happened to the message (inline: the reply sent, or
 * drop); a passive engine's events say "mode":"passive".  Every event gets
 * an event_id and an incident_id (offender, type and window, kept in the
 * shared state store so that every worker names an episode alike). */
#ifndef SIPWALL_ENGINE_H
#define SIPWALL_ENGINE_H

#include <stdatomic.h>

#include "sipwall/detect.h"
#include "sipwall/event.h"
#include "sipwall/facts.h"
#include "sipwall/policy.h"
#include "sipwall/sip.h"

typedef struct sw_engine sw_engine;

/* ---- the state store ------------------------------------------------------------
 * What must hold across every engine of one process (every worker of
 * sipwalld): blocks, and the counters whose caps are daemon-wide (the
 * per-rule event budget).  Per-source detector windows stay in each engine:
 * a source is steered to one worker.
 *
 * A backend is a struct of function pointers (sw_state_ops), one file per
 * backend: the in-process store (sw_state_mem_new) is the default; a remote
 * store implements the same ops over a local in-memory view that it keeps
 * up to date in the background, so that every op reads and writes memory
 * and never waits on the network (writes are sent on asynchronously).
 *
 * The hot path: sw_state_kinds gives an array of per-kind entry counts that
 * an engine reads without a lock for every message; a kind with no entry
 * (the common case) costs one load and no call.  Only when a kind has
 * entries is block_hit called (the in-process store takes its lock then).
 *
 * All ops are thread-safe.  Views handed to callbacks are valid during the
 * call only. */

typedef struct sw_state_store sw_state_store;

#define SW_STATE_ID_MAX 40   /* offender key: NUL-padded bytes */
#define SW_STATE_RULE_MAX 64 /* rule name, a copy (the policy may be swapped) */
#define SW_STATE_REASON_MAX 128 /* an operator's reason for a block */
#define SW_STATE_BLOCK_CAP_NS (INT64_C(24) * 3600 * SW_NS_S) /* the longest block */
#define SW_STATE_KIND_ALL 255 /* kinds[255]: entries of every kind (no block kind is 255) */

/* A block on one offender.  An entry outlives its block (active = 0) so
 * that a repeat offence doubles the next one (specs/detections.md §1). */
typedef struct sw_state_block {
    uint8_t kind;                 /* sw_offender_kind */
    uint8_t active;
    uint8_t offences;             /* blocks so far (max 16) */
    char id[SW_STATE_ID_MAX];
    char rule[SW_STATE_RULE_MAX];
    sw_event_type type;
    sw_category category;
    int64_t since, until;         /* the block in force: [since, until) */
    int64_t last;                 /* the last message it dropped */
    uint64_t suppressed;          /* messages dropped since the last summary */
    /* where the last dropped message was (for the summary event); file is
     * a view of the caller's capture name, meaningful in one process only */
    sw_addr src, dst;
    sw_transport transport;
    uint64_t frame;
    sw_str file;
    /* who set it and why (the admin API lists them) */
    uint8_t origin;               /* sw_block_origin */
    char reason[SW_STATE_REASON_MAX]; /* free text (admin and feed blocks); "" for rules */
    uint64_t hits;                /* messages dropped by this entry in all (never reset) */
} sw_state_block;

/* Where a block came from. */
typedef enum sw_block_origin {
    SW_BLOCK_ORIGIN_RULE = 0,     /* a policy rule or a detector */
    SW_BLOCK_ORIGIN_ADMIN = 1,    /* an operator (admin API, sipwalld ctl) */
    SW_BLOCK_ORIGIN_FEED = 2,     /* a block list feed */
} sw_block_origin;

/* "rule", "admin", "feed"; NULL for anything else. */
const char *sw_block_origin_name(unsigned origin);
/* The offender kinds' names ("source", "caller", "caller_prefix", "callee",
 * "user", "peer", "caller_range", "callee_range"); NULL for anything else. */
const char *sw_offender_kind_name(unsigned kind);
/* The kind of a name above: SW_OK with *kind, or SW_ENOTFOUND. */
int sw_offender_kind_lookup(const char *name, uint8_t *kind) SW_NONNULL(1, 2);
/* The store key of an offender given as text by an operator: a source is
 * an IP address (IPv6 keys its /64, "2001:db8::/64" and any address in it
 * are accepted), in the form the engine uses; numbers and users are taken
 * as they are (1..SW_STATE_ID_MAX-1 printable bytes, no space), ranges as
 * "+" and 1..15 digits.  id is
 * NUL-padded.  SW_OK, or SW_EINVAL for text that cannot be such a key. */
int sw_state_block_key(uint8_t kind, const char *text, char id[SW_STATE_ID_MAX]) SW_NONNULL(2, 3);

/* Where a dropped message was seen (block_hit records it). */
typedef struct sw_state_where {
    sw_addr dst;
    sw_transport transport;
    uint64_t frame;
    sw_str file;
} sw_state_where;

/* A shared windowed counter (the per-rule event budget): count taken and
 * held back in the window that started at start. */
typedef struct sw_state_window {
    int64_t start;
    uint64_t count, held;
} sw_state_window;

typedef struct sw_state_stats {
    uint32_t capacity;            /* block entries at most */
    uint32_t entries, active;     /* entries held / blocks in force */
    uint64_t evictions;           /* entries evicted to make room (soonest to expire first) */
    uint64_t blocks_set;          /* block_set calls that took effect */
    uint64_t migrated, dropped;   /* by resizes, in total (dropped: did not fit) */
    size_t memory;                /* bytes held (local view for a remote store) */
} sw_state_stats;

typedef void (*sw_state_block_fn)(void *ctx, sw_state_block *b);

typedef struct sw_state_ops {
    /* Sets (or renews) the block b->kind/b->id from b's rule, type,
     * category, src/dst/transport and since (= now): for dur_ns, doubled
     * for each earlier offence whose block ended less than 24 h ago, at
     * most SW_STATE_BLOCK_CAP_NS (sw_state_block_renew).  A new entry in a
     * full store evicts the one that expires soonest: then *evicted gets
     * it and *nevicted is 1 (its summary is the caller's to emit).
     * Returns the block's end, or 0 when nothing was set (empty id,
     * dur_ns <= 0, kind SW_STATE_KIND_ALL). */
    int64_t (*block_set)(void *self, const sw_state_block *b, int64_t dur_ns,
                         sw_state_block *evicted, int *nevicted);
    /* A message of offender kind/id at now: 1 when a block is in force
     * (counts the message as dropped, records where, copies the entry to
     * *out), else 0.  A block found ended is made inactive and, when it
     * had dropped messages, copied to *out with *ended = 1: its summary is
     * the caller's to emit (exactly one caller gets it). */
    int (*block_hit)(void *self, uint8_t kind, const char *id, int64_t now,
                     const sw_state_where *at, sw_state_block *out, int *ended);
    /* Copies the entry to *out: SW_OK or SW_ENOTFOUND.  Changes nothing. */
    int (*block_get)(void *self, uint8_t kind, const char *id, sw_state_block *out);
    /* Removes the entry (an operator's unblock): SW_OK or SW_ENOTFOUND. */
    int (*block_remove)(void *self, uint8_t kind, const char *id);
    /* Calls fn for every entry; fn may change the entry's suppressed
     * count, last and active flag only, and must not call the store. */
    void (*block_foreach)(void *self, sw_state_block_fn fn, void *ctx);
    /* Per-kind entry counts (256, indexed by kind; [SW_STATE_KIND_ALL]
     * the total), read without a lock: stable for the store's life. */
    const _Atomic uint32_t *(*kinds)(void *self);
    /* Windowed counter key at now, window win_ns: a window older than
     * win_ns (or in the future) rolls over first, and then *rolled gets the
     * one that ended (return bit 2).  With take: counts one when count <
     * limit (return bit 1), else holds one back.  *cur gets the window as
     * it is after the call. */
    int (*window_hit)(void *self, uint64_t key, int64_t now, int64_t win_ns, int take,
                      uint64_t limit, sw_state_window *cur, sw_state_window *rolled);
    /* The held-back count of key's window, zeroed (for a summary). */
    uint64_t (*window_take_held)(void *self, uint64_t key);
    /* A new ceiling on block entries: what fits is kept (the soonest to
     * expire are dropped first), *migrated / *dropped say how many.
     * SW_EINVAL for 0, SW_ENOMEM (the store is unchanged). */
    int (*resize)(void *self, uint32_t capacity, uint64_t *migrated, uint64_t *dropped);
    void (*stats)(void *self, sw_state_stats *out);
    void (*free)(void *self);
    /* Optional (NULL: SW_EUSAGE from sw_state_block_put): installs the
     * entry b as given (since, until, offences, active, rule, ...; the
     * renewal rule is not applied), replacing one of the same kind/id, for
     * a replica that copies another node's decision into its local view.
     * Eviction as block_set.  SW_OK. */
    int (*block_put)(void *self, const sw_state_block *b, sw_state_block *evicted, int *nevicted);
} sw_state_ops;

/* Wraps a backend (self, and the ops it implements; all but block_put are
 * required).
 * The store owns self from then on (ops->free on sw_state_free).  NULL on
 * a missing op or no memory (then self is freed). */
sw_state_store *sw_state_new(const sw_state_ops *ops, void *self) SW_WUR SW_NONNULL(1, 2);
void sw_state_free(sw_state_store *s);

/* The in-process store, shared by the threads of one process: at most
 * capacity block entries (1..1<<26; the policy's `limits blocks`), the
 * counters' table fixed.  NULL on a bad capacity or no memory. */
sw_state_store *sw_state_mem_new(uint32_t capacity) SW_WUR;

/* The dispatch (each one the backend's op, documented above). */
int64_t sw_state_block_set(sw_state_store *s, const sw_state_block *b, int64_t dur_ns,
                           sw_state_block *evicted, int *nevicted) SW_NONNULL(1, 2, 4, 5);
int sw_state_block_hit(sw_state_store *s, uint8_t kind, const char *id, int64_t now,
                       const sw_state_where *at, sw_state_block *out, int *ended)
    SW_NONNULL(1, 3, 5, 6, 7);
int sw_state_block_get(sw_state_store *s, uint8_t kind, const char *id, sw_state_block *out)
    SW_NONNULL(1, 3, 4);
int sw_state_block_remove(sw_state_store *s, uint8_t kind, const char *id) SW_NONNULL(1, 3);
void sw_state_block_foreach(sw_state_store *s, sw_state_block_fn fn, void *ctx) SW_NONNULL(1, 2);
const _Atomic uint32_t *sw_state_kinds(sw_state_store *s) SW_NONNULL(1);
int sw_state_window_hit(sw_state_store *s, uint64_t key, int64_t now, int64_t win_ns, int take,
                        uint64_t limit, sw_state_window *cur, sw_state_window *rolled) SW_NONNULL(1, 7, 8);
uint64_t sw_state_window_take_held(sw_state_store *s, uint64_t key) SW_NONNULL(1);
int sw_state_resize(sw_state_store *s, uint32_t capacity, uint64_t *migrated, uint64_t *dropped)
    SW_WUR SW_NONNULL(1, 3, 4);
void sw_state_stats_get(sw_state_store *s, sw_state_stats *out) SW_NONNULL(1, 2);
/* block_put above: SW_EUSAGE when the backend has none, or for an empty
 * id, kind SW_STATE_KIND_ALL or until <= since. */
int sw_state_block_put(sw_state_store *s, const sw_state_block *b, sw_state_block *evicted,
                       int *nevicted) SW_NONNULL(1, 2, 3, 4);

/* The renewal rule every backend applies in block_set (one place, so that
 * backends agree): fills *nb's since/until/offences/active from the
 * request b at b->since, the existing entry old (NULL: none) and dur_ns.
 * Returns the end. */
int64_t sw_state_block_renew(const sw_state_block *old, const sw_state_block *b, int64_t dur_ns,
                             sw_state_block *nb) SW_NONNULL(2, 4);

typedef struct sw_engine_config {
    const sw_policy *policy;      /* borrowed; must outlive the engine (or its swap) */
    sw_event_sink *sink;          /* borrowed; NULL = count only */
    const sw_sip_limits *sip_limits; /* NULL = parser defaults */
    uint8_t passive;              /* 1: capture/sensor mode (privacy findings become events) */
    uint64_t seed;                /* table hash seed; 0 = random */
    sw_state_store *state;        /* borrowed, shared with other engines; NULL = a private
                                     in-process store sized by the policy's limits */
} sw_engine_config;

/* One message as it was seen. */
typedef struct sw_engine_msg {
    const char *data;             /* the SIP message bytes */
    size_t len;
    int64_t ts_ns;                /* when it was seen: the engine's only clock */
    sw_addr src, dst;
    sw_transport transport;
    sw_sip_framing framing;       /* DATAGRAM for UDP, STREAM for TCP/TLS */
    const sw_sip_error *framing_error; /* NULL, or the stream framer's error */
    uint64_t frame;               /* capture frame (1-based), 0 = none */
    sw_str file;                  /* capture file name for events, may be empty */
    const sw_peer *peer;          /* NULL: found by source address; else the partner a
                                     TLS certificate identified (this policy's peer) */
    /* A response screened inline carries the proxy's Via on top and may
     * carry a hidden Call-ID: the branch and Call-ID its request had when
     * it was screened, so transactions and dialogs match.  Empty = from
     * the message. */
    sw_str txn_branch, txn_call_id;
    /* The parser's limits for this message (e.g. the side it came from);
     * NULL = the engine's.  Header fields beyond the engine's own
     * max_headers are refused whatever these say (its index is that big). */
    const sw_sip_limits *sip_limits;
    /* When a capture agent says it saw the message (HEP, live capture), ns
     * since the Unix epoch; 0 = none.  Evidence only: events about the
     * message carry it as "capture_ts"; the clock stays ts_ns. */
    int64_t capture_ts_ns;
    /* sipwalld: the name of the listener the message came in on, for
     * events ("listener"); a view that must live until the call returns.
     * Empty = none. */
    sw_str listener;
    /* 1: this message is only observed (a sensor or HEP copy in an inline
     * daemon): its events say "mode":"passive" as in a passive engine. */
    uint8_t observed;
} sw_engine_msg;

#define SW_VERDICT_MAX_NAMES 16

/* The decision.  Views stay valid until the next sw_engine_screen call. */
typedef struct sw_verdict {
    sw_action action;             /* most severe enforced action */
    uint16_t status;              /* REJECT: SIP status to answer with */
    uint32_t retry_after_s;       /* REJECT: Retry-After, 0 = none */
    const char *rule;             /* the rule or detector rule that decided; NULL = allowed by default */
    sw_category category;
    sw_event_type type;
    uint8_t blocked;              /* dropped because the offender is blocked */
    uint8_t admission;            /* dropped by zone admission (cat 0) */
    uint8_t retransmission;
    sw_hdr_mask strip;            /* headers to remove before forwarding */
    const char *strip_names[SW_VERDICT_MAX_NAMES]; /* … and headers without an id, by name */
    uint8_t nstrip_names;
    sw_hdr_mask sanitize;         /* headers whose version strings to cut */
    unsigned events;              /* events emitted for this message (summaries included) */
    unsigned monitor_hits;
    const sw_facts *facts;        /* what the engine read from the message */
} sw_verdict;

sw_engine *sw_engine_new(const sw_engine_config *cfg) SW_WUR SW_NONNULL(1);
void sw_engine_free(sw_engine *e);

/* Parses in's bytes into the engine's own message, with in->sip_limits
 * (or the engine's limits), and validates it, ahead of sw_engine_screen, which then does
 * neither again
 * (same data pointer and length): for a caller that must read a message
 * before screening it (sipwalld routes a response through the proxy
 * first, to learn its transaction).  Returns the message (valid until the
 * next call on e; the caller may read it through the accessors, which
 * memoise, but not change it), or NULL when it
 * does not parse: sw_engine_screen then parses and reports it as usual. */
sw_sip_msg *sw_engine_preparse(sw_engine *e, const sw_engine_msg *in) SW_NONNULL(1, 2);

/* Screens one message.  Returns SW_OK, or the sink's error (the verdict is
 * still filled). */
int sw_engine_screen(sw_engine *e, const sw_engine_msg *m, sw_verdict *v) SW_NONNULL(1, 2, 3);

/* Emits the summaries still pending (suppressed events, active blocks) as
 * of now_ns; call at the end of a capture and periodically inline. */
int sw_engine_flush(sw_engine *e, int64_t now_ns) SW_NONNULL(1);

/* Swaps in a newly compiled policy (a reload) keeping all state: blocks,
 * detector windows, event summaries, statistics.  When the new policy's
 * limits differ, the engine's tables are rebuilt at the new sizes and what
 * fits is carried over, the most recently used first; what does not fit
 * is counted (sw_engine_last_migration, sw_engine_stats.state_dropped) and
 * never silent: held-back events come out as summaries.  Detector windows
 * whose ring shape changes (a window parameter crossing a slot width)
 * cannot be carried over and are counted as dropped.  A private store is
 * resized here; a shared one is the owner's to resize (sw_state_resize).
 * The old policy may be freed once this returns.  SW_OK, or SW_ENOMEM
 * (nothing changed). */
int sw_engine_set_policy(sw_engine *e, const sw_policy *p) SW_WUR SW_NONNULL(1, 2);

/* What the last sw_engine_set_policy carried over and dropped. */
typedef struct sw_engine_migration {
    uint8_t resized;              /* the limits differed */
    uint8_t windows_reshaped;     /* detector windows could not be carried over */
    uint64_t migrated, dropped;   /* entries over all of the engine's tables */
    uint64_t detect_migrated, detect_dropped;
    uint64_t events_migrated, events_dropped;
    uint64_t rates_migrated, rates_dropped;
    uint64_t blocks_migrated, blocks_dropped; /* private store only */
} sw_engine_migration;

void sw_engine_last_migration(const sw_engine *e, sw_engine_migration *out) SW_NONNULL(1, 2);

/* The store the engine uses (its own, or the one it was given). */
sw_state_store *sw_engine_state(sw_engine *e) SW_NONNULL(1);

/* Replaces the subscriber location feed (category 3); the engine takes
 * ownership and frees the previous one.  NULL removes it. */
void sw_engine_set_location_feed(sw_engine *e, sw_location_feed *feed) SW_NONNULL(1);

typedef struct sw_engine_stats {
    uint64_t messages, malformed, retransmissions;
    uint64_t verdicts[SW_ACTION__COUNT];
    uint64_t events, events_suppressed, monitor_hits;
    uint64_t blocked, admission_drops;
    uint64_t blocks_refused;      /* blocks not set: the offender is allowlisted */
    uint64_t blocks_lifted;       /* blocks a reload's allowlists lifted (policy.allowlist events) */
    uint32_t active_blocks;       /* in force in the store (shared: daemon-wide) */
    uint64_t state_migrated, state_dropped; /* entries carried over / dropped by limit changes */
    sw_detect_stats detect;
} sw_engine_stats;

void sw_engine_get_stats(const sw_engine *e, sw_engine_stats *out) SW_NONNULL(1, 2);
/* Bytes held by the engine's state (fixed after sw_engine_new). */
size_t sw_engine_memory(const sw_engine *e) SW_NONNULL(1);
/* 1 when offender kind/key (a store key, sw_state_block_key) is on one of
 * the policy's allowlists (the lists its allow rules test: own ranges,
 * partner SBCs, numbers), so that nothing may block it; the list's name
 * is copied to why (may be NULL).  0 otherwise.  For block sources
 * outside the engine (partners' intelligence, include/sipwall/intel.h). */
int sw_engine_allowlisted(const sw_engine *e, uint8_t kind, const char *key, char *why, size_t whylen)
    SW_NONNULL(1, 3);

/* Number normalisation used for a/b/pai (exposed for tests and tools):
 * user part or tel: number -> "+<digits>" when it is an E.164 number
 * ("+…", "00…" international, or national with the home trunk prefix ->
 * home country code); visual separators (-.() and spaces) removed.
 * Returns the length written (< cap), or 0 when it is not a number (then
 * out holds the raw user part cut to cap-1).  *e164 is set when the result
 * has 7..15 digits after '+'. */
size_t sw_number_normalise(sw_str user, const sw_home *home, char *out, size_t cap,
                           uint8_t *e164) SW_NONNULL(3, 5);

#endif
