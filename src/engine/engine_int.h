/* Engine internals shared by the files of src/engine. */
#ifndef SIPWALL_ENGINE_INT_H
#define SIPWALL_ENGINE_INT_H

#include <string.h>

#include "sipwall/detect.h"
#include "sipwall/engine.h"
#include "sipwall/table.h"

/* Rule names kept in state outlive the policy they came from. */
#define SW__RULE_MAX 64

/* a op b for a numeric comparison of the policy (SW_CMP_*): the evaluator
 * and the rule index must agree on it */
static inline int sw__cmp_num(int64_t a, int64_t b, unsigned op)
{
    switch (op) {
    case SW_CMP_EQ: return a == b;
    case SW_CMP_NE: return a != b;
    case SW_CMP_LT: return a < b;
    case SW_CMP_LE: return a <= b;
    case SW_CMP_GT: return a > b;
    case SW_CMP_GE: return a >= b;
    }
    return 0;
}

static inline void sw__rule_copy(char dst[SW__RULE_MAX], const char *rule)
{
    size_t n = rule ? strnlen(rule, SW__RULE_MAX - 1) : 0;
    memcpy(dst, rule ? rule : "", n);
    dst[n] = '\0';
}

/* Identity of a message that may not parse (for malformed events). */
typedef struct sw__ident {
    uint8_t kind;                  /* 0 unknown, 1 request, 2 response */
    uint8_t via_ok;                /* a reply could be routed */
    sw_str method;
    uint16_t status;
    sw_str ruri;
    sw_str call_id, from, to, pai; /* numbers (URI user) where readable */
    sw_str via;                    /* salvage: the first Via header value */
} sw__ident;

/* Lazily computed per-message values that rules may ask for. */
typedef struct sw__lazy {
    uint32_t have;                 /* bit per SW__LZ_* */
    uint64_t pattern_mask[SW_F__COUNT / 64 + 1]; /* fields whose pattern db was scanned */
    uint64_t pattern_hits[SW_F__COUNT];
    int64_t via_count, folds, longest_header, pai_count;
    sw_str contact_host, attest, via_host;
    char claimed_plmn[8];
    char attest_c[2];
    uint8_t loc_known, loc_state;  /* loc_state: 0 unknown, 1 home, 2 abroad */
    sw_location loc;
    int64_t travel_kmh;
} sw__lazy;

enum {
    SW__LZ_COUNTS = 1u << 0,
    SW__LZ_CONTACT = 1u << 1,
    SW__LZ_PVNI = 1u << 2,
    SW__LZ_ATTEST = 1u << 3,
    SW__LZ_LOCATION = 1u << 4,
    SW__LZ_VIA = 1u << 5,
    SW__LZ_PAI_COUNT = 1u << 6,
    SW__LZ_VIA_COUNT = 1u << 7,
};

/* Where a held-back hit was seen: summaries point at the last one. */
typedef struct sw__where {
    sw_addr src, dst;
    sw_transport transport;
    uint64_t frame;
    sw_str file;                   /* caller-owned capture name, lives for the run */
} sw__where;

/* Event limiter / summariser entry (keyed by rule and offender). */
typedef struct sw__evkey {
    uint64_t rule_hash;
    uint8_t kind;                  /* sw_offender_kind, or 0xff: per-zone key */
    uint8_t pad[7];
    char id[40];                   /* offender identity bytes (address or number) */
} sw__evkey;

typedef struct sw__evstate {
    int64_t window_start;
    int64_t first_suppressed, last_suppressed;
    uint32_t count;                /* events emitted in this window */
    uint32_t suppressed;           /* hits not emitted since the last summary */
    char rule[SW__RULE_MAX];       /* a copy: the policy may be swapped (reload) */
    sw_event_type type;
    sw_category category;
    sw_action action;
    uint8_t monitor;
    sw__where at;
    char offender[48];
} sw__evstate;

typedef struct sw__ratekey {
    uint64_t rule_hash;
    uint8_t ip[16];
} sw__ratekey;

typedef struct sw__bucket {
    int64_t last_ns;
    int64_t tokens_milli;          /* tokens x 1000 */
} sw__bucket;

/* The rule index (index.c): message classes, and per condition node the
 * classes where it may / must be true. */
#define SW__NCLASS (2 * 3 * SW_METHOD__COUNT) /* malformed x request/response/neither x method */

typedef struct sw__cmask {
    uint64_t w[2];
} sw__cmask;

typedef struct sw__rindex {
    sw__cmask *may, *must;         /* per node of the policy's conds */
    uint32_t *list;                /* per class, the rules that may match, in order */
    uint32_t start[SW__NCLASS + 1];/* class c: list[start[c] .. start[c+1]) */
    uint32_t nallow;               /* rules[0 .. nallow) are the allow rules */
    uint16_t *ingress_ids, *egress_ids; /* sw_hdr_lookup of the privacy profile's strip names */
} sw__rindex;

int sw__rindex_build(const sw_policy *p, sw__rindex *x);
void sw__rindex_free(sw__rindex *x);
unsigned sw__msg_class(const sw_facts *f);

static inline int sw__cmask_has(const sw__cmask *m, unsigned cls)
{
    return (int)((m->w[cls >> 6] >> (cls & 63)) & 1u);
}

#define SW__PEER_MEMO 64 /* a power of two */
#define SW__FIRED_MAX 8  /* rules of one message named in its event (more: counted in "also") */

/* allow.c: the allowlists of a policy (lists its allow rules test with
 * `in`), by the block kind they cover. */
typedef struct sw__allow_ref {
    uint32_t list;                 /* index in sw_policy.lists */
    uint32_t rule;                 /* the allow rule that tests it (sw_policy.rules) */
    uint8_t kind;                  /* sw_offender_kind: SOURCE, CALLER, CALLEE or USER */
} sw__allow_ref;

typedef struct sw__allow {
    sw__allow_ref *v;
    uint32_t n;
    sw_string_set *v6hosts;        /* /64 key of IPv6 entries longer than /64 -> index in v */
} sw__allow;

struct sw_engine {
    const sw_policy *pol;
    sw_event_sink *sink;
    sw_sip_limits lim;
    uint8_t passive;

    sw_sip_header *hdrs;
    uint16_t cap;
    sw_sip_msg msg;
    /* sw_engine_preparse: msg already holds the parse of these bytes */
    const char *pre_data;
    size_t pre_len;
    int pre_vr;            /* and what sw_sip_validate said of it */
    sw_sip_error pre_err;
    sw_facts facts;
    sw__lazy lz;
    sw__ident ident;               /* malformed messages */
    int64_t now;                   /* ts of the message being screened */
    uint64_t cur_frame;            /* its capture frame (summaries point at the last one) */
    sw_str cur_file;
    int mf_stage, mf_code;         /* malformed: 0 framing, 1 parse, 2 validate; SW_E* */

    /* peer lookups by address, remembered (a pure function of the policy:
     * cleared when it changes); floods and calls repeat their addresses */
    struct sw__peer_memo {
        uint8_t family;
        uint8_t port_matters;      /* the answer is for `port` only */
        uint16_t port;
        uint8_t ip[16];
        const sw_peer *peer;
    } peer_memo[SW__PEER_MEMO];
    char srcid[40];                /* the source as an offender key, once srcid_ok */
    uint8_t srcid_ok;
    sw__rindex rx;                 /* of e->pol */
    sw__allow allow;               /* of e->pol */
    unsigned cls;                  /* class of the message being screened */

    sw_detectors *det;
    sw_pattern_scratch *scratch;
    sw_location_feed *feed;
    sw_table *events;              /* sw__evkey -> sw__evstate */
    sw_state_store *state;         /* blocks and the shared counters (state.c) */
    uint8_t own_state;             /* created here (sw_engine_config.state was NULL) */
    const _Atomic uint32_t *block_kinds; /* the store's entries per kind: checks skip a kind with none */
    sw_table *rates;               /* sw__ratekey -> sw__bucket */
    void *global;                  /* per-rule global event budget (limiter.c) */
    uint32_t wg_prefix_digits;     /* for caller-prefix blocks */

    sw_event ev;
    sw_event_ids ids;              /* event_id generator (sw__event_emit) */
    sw_detect_result dr;           /* the detectors' findings on this message */
    int64_t det_expires[SW_DETECT_MAX_HITS]; /* blocks its hits set */
    /* the rules that fired on this message: one event for all (engine.c) */
    struct sw__fired {
        const sw_rule *r;          /* NULL: cat0 admission */
        sw_action act;
        uint16_t status;
        int64_t expires;
    } fired[SW__FIRED_MAX];
    uint8_t nfired;
    uint8_t msg_passive;           /* this message's events say "mode":"passive" */
    int64_t inc_win;               /* the incident window of the event being emitted; 0 = event window */
    int64_t inc_fixed;             /* != 0: the incident's start, not from the store (block summaries) */
    sw_str listener;               /* the message's listener (events) */
    char also[256];                /* evidence "also": the other rules that fired */
    char reason[512];
    char block_rule[SW__RULE_MAX]; /* the verdict's rule when a block dropped the message */
    char summary_reason[256];
    sw_engine_stats st;
    sw_engine_migration mig;       /* of the last sw_engine_set_policy */
    int sink_err;                  /* first sink error of this message */
    unsigned msg_events;
};

/* allow.c */
/* Indexes p's allowlists.  SW_OK or SW_ENOMEM (*ax empty). */
int sw__allow_build(const sw_policy *p, sw__allow *ax);
void sw__allow_free(sw__allow *ax);
/* The allowlist (of e->pol) that covers the block key kind/id (a source
 * key as sw__key_source makes it, a number, a prefix, a username), or NULL. */
const sw__allow_ref *sw__allowlisted(const sw_engine *e, uint8_t kind, const char *id);
/* Removes every block in force in the store that e's allowlists cover,
 * with one event each (rule policy.allowlist); returns how many. */
uint32_t sw__allow_lift(sw_engine *e);

/* facts.c */
void sw__facts_build(sw_engine *e, const sw_engine_msg *in);
void sw__peer_memo_clear(sw_engine *e); /* when the policy changes */
/* eval.c */
int sw__cond_eval(sw_engine *e, uint32_t node);
/* The same without the rule index's shortcuts (for its tests). */
int sw__cond_eval_unindexed(sw_engine *e, uint32_t node);
/* salvage.c: identity of a message that failed parsing or validation */
void sw__ident_build(sw_engine *e, const sw_engine_msg *in, int parsed);
/* limiter.c */
void sw__key_source(const sw_addr *a, char id[40]);
int sw__event_allowed(sw_engine *e, const char *rule, uint8_t kind, const char *id,
                      const sw_event *proto);
void sw__event_emit(sw_engine *e, sw_event *ev);
int sw__block_check(sw_engine *e, uint8_t kind, const char *id, sw_verdict *v);
int64_t sw__block_set(sw_engine *e, uint8_t kind, const char *id, int64_t dur_ns,
                      const char *rule, sw_event_type type, sw_category cat, const sw_addr *src);
void sw__events_evicted(void *ctx, const void *key, void *value);
void sw__block_summary(sw_engine *e, const sw_state_block *b);
size_t sw__global_size(void);
int sw__rate_allow(sw_engine *e, const sw_rule *r);
void sw__summaries_flush(sw_engine *e, int64_t now);
uint64_t sw__rule_hash(const char *rule);

#endif
