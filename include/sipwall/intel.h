/* sipwall — consuming partners' fraud & security intelligence (issue 14
 * part C; the exchange layer, beside include/sipwall/exchange.h).
 *
 * A partner publishes FSE v1 indicators (specs: docs/exchange-intel.md):
 * a (kind, value) such as a scanner's IPv4 address or a Wangiri A-number,
 * with a confidence, the producer's advice (action), a validity end and a
 * version (modified).  sw_intel keeps every producer's latest version of
 * every indicator, merges them per (kind, value) with the trust the
 * operator gives each partner, and turns what scores high enough into a
 * block in the shared state store (origin feed, rule
 * "intel.<producer>.<indicator id>", reason naming producer, indicator,
 * version and score), so the block's events name where it came from.
 *
 *   score(kind, value) = max over producers of confidence * trust / 100
 *   score >= block_score and some contributing producer advises block
 *       -> enforced (a block until the earliest of valid_until and the
 *          store's cap; sw_intel_tick re-arms it while still valid)
 *   score >= alert_score -> alert (held and listed, not enforced)
 *   otherwise            -> logged (held and listed)
 *
 * Allowlists always win: a value the allow callback covers (own ranges,
 * partner SBCs: the policy's allowlists) or an emergency number is never
 * enforced.  A revocation (revoked: true, a newer version) or the end of
 * valid_until withdraws that producer's contribution at once; an older or
 * equal version replayed changes nothing.  A producer without a trust
 * entry contributes nothing (untrusted until configured).
 *
 * Every table is bounded at sw_intel_new (max_indicators); a full table
 * refuses new indicators (counted) rather than evicting held ones.
 * Not thread-safe: one owner (the daemon's exchange thread) calls it. */
#ifndef SIPWALL_INTEL_H
#define SIPWALL_INTEL_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall/common.h"
#include "sipwall/engine.h"
#include "sipwall/exchange.h"

#define SW_INTEL_PRODUCER_MAX 17 /* org code: 1..16 of [A-Za-z0-9_-] */
#define SW_INTEL_ID_LEN 37       /* canonical lower-case UUID text + NUL */
#define SW_INTEL_VALUE_MAX 64
#define SW_INTEL_KID_MAX 64
#define SW_INTEL_JSON_MAX 65536  /* one FSE object at most */
#define SW_INTEL_DEFAULT_CAP 16384
#define SW_INTEL_TRUST_MAX_PARTNERS 256
#define SW_INTEL_TRUST_FILE_MAX (256 * 1024) /* bytes of a trust file */

/* One decoded FSE v1 indicator (what sw_intel needs of it). */
typedef struct sw_intel_ind {
    char id[SW_INTEL_ID_LEN];
    char producer[SW_INTEL_PRODUCER_MAX];
    char kid[SW_INTEL_KID_MAX];
    char kind[16];                 /* ipv4, ipv6, e164, ... (exchange.md 2.1) */
    char value[SW_INTEL_VALUE_MAX];
    char action[12];               /* monitor, alert, rate_limit, block, divert */
    sw_event_type type;            /* event_type; SW_EVT__COUNT when not one of ours */
    int64_t modified;              /* ns since the epoch: the version */
    int64_t valid_until;           /* ns */
    unsigned confidence;           /* 0..100 */
    int revoked;
} sw_intel_ind;

/* Decodes one FSE v1 JSON object (at most SW_INTEL_JSON_MAX bytes; I-JSON:
 * duplicate members refused).  Checks spec "fse/1", a UUID id, producer.org,
 * RFC 3339 modified/valid_until, the kind and a value that fits, confidence
 * 0..100; unknown members are ignored.  The signature (sig) is NOT
 * checked here: for an analyst's look at a feed (sipwall intel); objects
 * from partners go through sw_fse_verify and sw_intel_from_fse.  SW_OK, or SW_EINVAL/SW_ELIMIT with
 * a message in err. */
int sw_intel_decode(const char *json, size_t len, sw_intel_ind *out, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 3, 4);

/* The indicator of an object sw_fse_verify accepted (signed by a known
 * partner key): the path for objects from partners.  SW_OK, or SW_ELIMIT
 * when the value is longer than SW_INTEL_VALUE_MAX - 1 bytes (no offender
 * key is that long), SW_EINVAL for an org or id sw_intel_apply refuses. */
int sw_intel_from_fse(const sw_fse *o, sw_intel_ind *out) SW_WUR SW_NONNULL(1, 2);

/* 1 when (offender kind, store key) must never be enforced; why gets the
 * allowlist's name. */
typedef int (*sw_intel_allow_fn)(void *ctx, uint8_t kind, const char *key, char *why, size_t whylen);

struct sw_intel_entry;
/* Told when a (kind, value) becomes enforced or stops being enforced: by
 * is the entry whose producer and id the block names (the last one, when
 * lifted); key is the store key.  Must not call back into the consumer. */
typedef void (*sw_intel_change_fn)(void *ctx, const struct sw_intel_entry *by, uint8_t kind, const char *key,
                                   int enforced);

typedef struct sw_intel_config {
    uint32_t max_indicators;       /* (producer, id) entries held; 0 = SW_INTEL_DEFAULT_CAP */
    sw_state_store *state;         /* borrowed; NULL = nothing is enforced */
    sw_intel_allow_fn allowlisted; /* NULL = no allowlists beyond the emergency numbers */
    void *allow_ctx;
    unsigned block_score;          /* 0 = 70 */
    unsigned alert_score;          /* 0 = 30 */
    sw_intel_change_fn on_change;  /* NULL = not told */
    void *change_ctx;
} sw_intel_config;

typedef struct sw_intel sw_intel;

/* NULL on bad config (alert_score > block_score, scores > 100) or out of
 * memory.  Everything it will use is allocated here. */
sw_intel *sw_intel_new(const sw_intel_config *cfg) SW_WUR SW_NONNULL(1);
/* Frees the tables; blocks it set stay in the store until they end. */
void sw_intel_free(sw_intel *in);

/* Trust in producer (0..100).  SW_OK, SW_EINVAL (bad org or trust),
 * SW_ELIMIT (SW_INTEL_TRUST_MAX_PARTNERS).  Does not re-score held
 * indicators (sw_intel_tick does). */
int sw_intel_trust_set(sw_intel *in, const char *producer, unsigned trust) SW_NONNULL(1, 2);
/* The trust in producer; -1 when not configured. */
int sw_intel_trust_get(const sw_intel *in, const char *producer) SW_NONNULL(1, 2);
/* Loads trust lines ("partner ORG trust N", '#' comments, blank lines)
 * from text; name labels errors "NAME:LINE: why".  All or nothing:
 * SW_OK, or SW_EINVAL/SW_ELIMIT with the first error in err. */
int sw_intel_trust_load(sw_intel *in, const char *name, const char *text, size_t len, char *err,
                        size_t errlen) SW_NONNULL(1, 2, 3);

/* What became of an indicator (or of its (kind, value)). */
typedef enum sw_intel_state {
    SW_INTEL_LOGGED = 0,           /* held, below alert_score */
    SW_INTEL_ALERT,                /* held, alert_score <= score < block_score (or not advised to block) */
    SW_INTEL_ENFORCED,             /* a block in the store */
    SW_INTEL_ALLOWLISTED,          /* would be enforced but an allowlist wins */
    SW_INTEL_UNSUPPORTED,          /* a kind the engine cannot block on (held, listed) */
    SW_INTEL_WITHDRAWN,            /* revoked or expired: contributes nothing */
    SW_INTEL_STALE,                /* apply only: an older or equal version; nothing changed */
    SW_INTEL_UNTRUSTED,            /* apply only: producer without trust; not held */
    SW_INTEL_REFUSED,              /* apply only: the table is full; not held */
} sw_intel_state;
/* "logged", "alert", "enforced", ...; NULL for anything else. */
const char *sw_intel_state_name(unsigned st);

/* Takes ind at now: stores it as producer's version (unless stale),
 * re-scores its (kind, value) and sets or lifts the block.  *st says what
 * became of it.  SW_OK (also for stale/untrusted/refused), SW_EINVAL for an
 * indicator sw_intel_decode would not give. */
int sw_intel_apply(sw_intel *in, const sw_intel_ind *ind, int64_t now, sw_intel_state *st)
    SW_NONNULL(1, 2, 4);
/* Operator revocation of indicator id (every producer's copy) at now:
 * withdrawn, its enforcement lifted.  SW_OK or SW_ENOTFOUND. */
int sw_intel_revoke(sw_intel *in, const char *id, int64_t now) SW_NONNULL(1, 2);
/* Withdraws what expired by now, re-scores every (kind, value) (trust
 * changes) and re-arms blocks the store's cap ended while still valid.
 * Returns how many indicators it withdrew. */
uint32_t sw_intel_tick(sw_intel *in, int64_t now) SW_NONNULL(1);

/* A held indicator as listed (sw_intel_foreach, sw_intel_get). */
typedef struct sw_intel_entry {
    sw_intel_ind ind;
    unsigned trust;                /* at the last scoring */
    unsigned score;                /* this producer's contribution: confidence * trust / 100 */
    sw_intel_state state;          /* of this entry's (kind, value) */
    int64_t received;              /* when this version arrived */
    int64_t withdrawn;             /* when revoked/expired; 0 = live */
} sw_intel_entry;

typedef void (*sw_intel_fn)(void *ctx, const sw_intel_entry *e);
/* Calls fn for every held entry (must not call back into in). */
void sw_intel_foreach(sw_intel *in, sw_intel_fn fn, void *ctx) SW_NONNULL(1, 2);
/* The entry of indicator id (the highest-scoring producer's when several
 * hold it): SW_OK or SW_ENOTFOUND. */
int sw_intel_get(sw_intel *in, const char *id, sw_intel_entry *out) SW_NONNULL(1, 2, 3);
/* The entry as a jansson object, the one rendering of `sipwall intel
 * list|show`, `ctl intel` and GET /v1/intel: id, producer, kid, modified,
 * event_type, kind, value, action, confidence, trust, score, state,
 * valid_until, revoked, received, and withdrawn when set.  The caller
 * json_decref()s it; NULL when out of memory. */
struct json_t;
struct json_t *sw_intel_entry_json(const sw_intel_entry *e) SW_NONNULL(1);

typedef struct sw_intel_stats {
    uint32_t held, capacity, enforced;
    uint64_t applied, stale, untrusted, refused, allowlisted, withdrawn, rearmed;
} sw_intel_stats;
void sw_intel_stats_get(const sw_intel *in, sw_intel_stats *out) SW_NONNULL(1, 2);

#endif
