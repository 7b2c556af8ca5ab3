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
 * storm.  All state is bounded by the policy's limits. */
#ifndef SIPWALL_ENGINE_H
#define SIPWALL_ENGINE_H

#include "sipwall/detect.h"
#include "sipwall/event.h"
#include "sipwall/facts.h"
#include "sipwall/policy.h"
#include "sipwall/sip.h"

typedef struct sw_engine sw_engine;

typedef struct sw_engine_config {
    const sw_policy *policy;      /* borrowed; must outlive the engine (or its swap) */
    sw_event_sink *sink;          /* borrowed; NULL = count only */
    const sw_sip_limits *sip_limits; /* NULL = parser defaults */
    uint8_t passive;              /* 1: capture/sensor mode (privacy findings become events) */
    uint64_t seed;                /* table hash seed; 0 = random */
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
    /* When a capture agent says it saw the message (HEP, live capture), ns
     * since the Unix epoch; 0 = none.  Evidence only: events about the
     * message carry it as "capture_ts"; the clock stays ts_ns. */
    int64_t capture_ts_ns;
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

/* Parses in's bytes into the engine's own message, with the engine's
 * limits, and validates it, ahead of sw_engine_screen, which then does
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
 * detector windows, event summaries.  The old policy may be freed once
 * this returns.  SW_ELIMIT when the new policy's limits (table sizes,
 * window shapes) differ: then build a new engine; SW_ENOMEM. */
int sw_engine_set_policy(sw_engine *e, const sw_policy *p) SW_WUR SW_NONNULL(1, 2);

/* Replaces the subscriber location feed (category 3); the engine takes
 * ownership and frees the previous one.  NULL removes it. */
void sw_engine_set_location_feed(sw_engine *e, sw_location_feed *feed) SW_NONNULL(1);

typedef struct sw_engine_stats {
    uint64_t messages, malformed, retransmissions;
    uint64_t verdicts[SW_ACTION__COUNT];
    uint64_t events, events_suppressed, monitor_hits;
    uint64_t blocked, admission_drops;
    uint32_t active_blocks;
    sw_detect_stats detect;
} sw_engine_stats;

void sw_engine_get_stats(const sw_engine *e, sw_engine_stats *out) SW_NONNULL(1, 2);
/* Bytes held by the engine's state (fixed after sw_engine_new). */
size_t sw_engine_memory(const sw_engine *e) SW_NONNULL(1);

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
