/* sipwall — the facts of one message, computed once by the engine and read
 * by the rule evaluator and the behavioural detectors.
 *
 * Strings are views into the message (valid while it is being screened)
 * except the normalised numbers, which live in the struct.  Nothing here
 * does I/O or keeps state: the engine fills it, the detectors read it. */
#ifndef SIPWALL_FACTS_H
#define SIPWALL_FACTS_H

#include "sipwall/addr.h"
#include "sipwall/policy.h"
#include "sipwall/sip.h"

#define SW_NUMBER_MAX 32 /* normalised number buffer (E.164 is 15 digits + '+') */

/* Traffic direction relative to our core (from the peers' roles). */
typedef enum sw_direction {
    SW_DIR_INGRESS = 0, /* from a partner or unknown source toward the core */
    SW_DIR_EGRESS = 1,  /* from the core toward a partner */
    SW_DIR_TRANSIT = 2, /* neither end is core (e.g. a mirror of partner<->partner) */
} sw_direction;

typedef struct sw_facts {
    int64_t ts_ns;
    sw_addr src, dst;
    sw_transport transport;
    size_t size;

    /* parse outcome */
    sw_sip_msg *msg;        /* NULL when the start line/headers could not be indexed */
    uint8_t malformed;      /* parse or validation failed */
    sw_sip_error error;     /* why (when malformed) */

    /* the message */
    uint8_t is_request;
    sw_method method;       /* request method, or the CSeq method of a response */
    sw_str method_name;
    uint16_t status;        /* response code, 0 for requests */
    uint32_t cseq;
    sw_str call_id;
    sw_str branch;          /* top Via branch */
    sw_str from_tag, to_tag;
    sw_str ruri_user, from_user, to_user, pai_user, contact_user;
    sw_str ruri_host, to_host, from_host;
    sw_str user_agent;
    uint8_t has_credentials; /* Authorization / Proxy-Authorization */
    sw_str auth_user;        /* digest username */
    sw_str auth_realm;       /* digest realm of those credentials */
    uint8_t challenge_stale; /* a 401/407 with stale=true */
    uint8_t contact_star;
    int64_t expires;         /* -1 when none */

    /* numbers: "+<digits>" when the value is (or normalises to) an E.164
     * number, else the raw user part (cut to fit); len 0 when none */
    char a[SW_NUMBER_MAX];
    uint8_t a_len, a_e164;
    char b[SW_NUMBER_MAX];
    uint8_t b_len, b_e164;
    uint8_t a_subscriber, b_subscriber; /* in home ranges */

    /* who */
    const sw_peer *peer;     /* sending peer or zone (never NULL) */
    const sw_peer *dst_peer; /* receiving peer or zone (never NULL) */
    sw_direction direction;
} sw_facts;

static inline sw_str sw_facts_a(const sw_facts *f) { return sw_str_make(f->a, f->a_len); }
static inline sw_str sw_facts_b(const sw_facts *f) { return sw_str_make(f->b, f->b_len); }

#endif
