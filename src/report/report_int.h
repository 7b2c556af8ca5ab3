/* Internal to src/report/: string interning, text cleaning and the
 * report's aggregate state shared by the sink (report.c) and the HTML
 * writer (html.c). */
#ifndef SIPWALL_REPORT_INT_H
#define SIPWALL_REPORT_INT_H

#include <stdio.h>

#include "sipwall/report.h"

/* ---- interning: a bounded set of strings ------------------------------------ */
typedef struct sw__strtab {
    char **slot;     /* open addressing, NULL = empty */
    size_t cap;      /* power of two */
    size_t n;
    size_t max;      /* distinct strings admitted; then intern returns NULL */
} sw__strtab;

void sw__strtab_init(sw__strtab *t, size_t max);
void sw__strtab_free(sw__strtab *t);
/* The interned copy of s[0..len), or NULL (table full or out of memory). */
const char *sw__strtab_intern(sw__strtab *t, const char *s, size_t len);

/* ---- text --------------------------------------------------------------------
 * Untrusted bytes for a one-line text output: sanitised (sw_event_sanitize,
 * at most max input bytes), control characters and backslashes written as
 * \xNN, NUL-terminated.  out needs 4 * 3 * max + 4 bytes at most; the result
 * is cut (at a character boundary) to fit outcap.  Returns the length. */
size_t sw__clean_text(sw_str in, size_t max, char *out, size_t outcap);

/* A number from a message or a labels file reduced to a comparable key:
 * digits only when the value is made of digits and the visual separators
 * "+-. ()", else the value itself.  out needs len + 1 bytes. */
size_t sw__number_key(const char *s, size_t len, char *out);

/* "YYYY-MM-DDTHH:MM:SS[.frac][Z]" to ns since the epoch; SW_OK or SW_EINVAL. */
int sw__parse_iso8601(const char *s, int64_t *ns);

/* Saturating int64 arithmetic (timestamps from captures can be anything). */
static inline int64_t sw__sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
static inline int64_t sw__sat_mul(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
    return r;
}

/* ---- the HTML report's state --------------------------------------------------- */
enum { RP_REASON, RP_METHOD, RP_CALLID, RP_FROM, RP_TO, RP_PAI, RP_RURI, RP_FILE, RP__NSTR };

typedef struct rp_kstr {
    uint32_t off, len; /* sanitised bytes in the event's blob */
    uint32_t orig;     /* original length when cut, else 0 */
} rp_kstr;

typedef struct rp_evid {
    const char *key;   /* interned */
    uint8_t kind;      /* sw_evidence_kind */
    int64_t num;
    rp_kstr str;
} rp_evid;

typedef struct rp_event {
    int64_t ts, expires;
    uint64_t frame;
    sw_addr src, dst;
    const char *rule;  /* interned */
    uint16_t status, action_status;
    uint8_t type, category, action, confidence, monitor, transport, nevid;
    uint8_t passive;   /* "mode":"passive": nothing was enforced */
    rp_kstr s[RP__NSTR];
    rp_evid *evid;     /* inside blob */
    char *blob;        /* one allocation: evidence array, then the strings */
} rp_event;

typedef struct rp_rule {
    const char *name;  /* interned */
    uint8_t type, category;
    uint64_t n, monitor;
    uint64_t by_action[SW_ACTION__COUNT];
} rp_rule;

typedef struct rp_offender {
    sw_addr ip;        /* port 0; family 0 = empty slot */
    uint64_t n, enforced;
    uint32_t types;    /* bit per event type */
    int64_t first, last;
} rp_offender;

#define RP_TL_BUCKETS 4096

typedef struct rp_timeline {
    int used;
    int64_t base;      /* start of bucket 0, ns */
    int64_t width;     /* ns per bucket (1 s * 2^k) */
    size_t lo, hi;     /* buckets used */
    uint64_t allow[RP_TL_BUCKETS], other[RP_TL_BUCKETS], events[RP_TL_BUCKETS];
} rp_timeline;

struct sw_report {
    size_t max_events;
    rp_event *ev;
    size_t nev, capev;
    uint64_t events;   /* all events seen */
    uint64_t by_type[SW_EVT__COUNT + 1];     /* last: out-of-range values */
    uint64_t by_cat[SW_CAT__COUNT + 1];
    uint64_t by_action[SW_ACTION__COUNT + 1];
    uint64_t monitor;
    uint64_t passive;  /* events of a passive run (nothing enforced) */
    uint64_t type_monitor[SW_EVT__COUNT + 1];
    sw__strtab names;  /* rules and evidence keys */
    rp_rule *rules;
    size_t nrules, caprules;
    uint64_t rules_other;
    rp_offender *off;  /* open addressing by IP */
    size_t offcap, noff;
    uint64_t off_other, off_unknown;
    uint64_t messages;
    uint64_t msg_by_action[SW_ACTION__COUNT + 1];
    int64_t ev_first, ev_last;
    rp_timeline tl;
    char *scratch;     /* sanitising buffer */
    size_t scratch_cap;
};

#define RP_MAX_RULES 1024
#define RP_MAX_OFFENDERS 10000

#endif
