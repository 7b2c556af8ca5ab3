/* sipwall — what a TAXII 2.1 pull client reads from a partner's server
 * (docs/exchange-intel.md, "Pulling from a TAXII 2.1 server").
 *
 * A page of GET {root}/collections/{id}/objects/ is an envelope
 * {"more":…, "next":…, "objects":[…]} (TAXII 2.1 §3.7).  Everything in it
 * comes from the server and is untrusted: sizes and counts are bounded,
 * every field is checked, and nothing in the envelope vouches for an
 * indicator.  Two kinds of indicator come out of a page:
 *   - a sipwall indicator carries its signed FSE v1 object whole in the
 *     telco-fse extension ("fse": {…}); those objects are collected into a
 *     JSON array for sw_fse_verify_batch (a bad signature is quarantined
 *     there; the STIX wrapper is never believed);
 *   - a plain STIX indicator (another vendor's server) whose pattern is one
 *     sipwall enforces — [ipv4-addr:value = 'A'], [ipv6-addr:value = 'A'],
 *     [phone-number:value = '+DIGITS'] — becomes an sw_intel_ind of the
 *     collection's partner (the org the operator configured for it), at that
 *     partner's trust.
 * Anything else is counted and left. */
#ifndef SIPWALL_TAXII_CLIENT_H
#define SIPWALL_TAXII_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall/common.h"
#include "sipwall/intel.h"
#include "sipwall/taxii.h" /* timestamps: sw_taxii_parse_ts, sw_taxii_format_ts */

#define SW_TAXII_NEXT_MAX 1024         /* bytes of a "next" token (and its NUL) */
#define SW_TAXII_PAGE_MAX (16u << 20)  /* bytes of one envelope */
#define SW_TAXII_PAGE_OBJECTS 10000    /* objects of one envelope */
/* Defaults for plain STIX indicators that leave them out. */
#define SW_TAXII_PLAIN_CONFIDENCE 50
#define SW_TAXII_PLAIN_TTL_IP_S (7 * 86400)   /* exchange.md 2.5: scanner IP 7 d */
#define SW_TAXII_PLAIN_TTL_E164_S (72 * 3600) /* Wangiri A-number 72 h */

/* One parsed page. */
typedef struct sw_taxii_envelope {
    int more;                       /* "more": true */
    char next[SW_TAXII_NEXT_MAX];   /* "" = none */
    char *fse;                      /* JSON array text of the embedded FSE objects (malloc'd) */
    size_t fse_len;
    size_t nfse;                    /* objects in it */
    sw_intel_ind *plain;            /* mapped plain indicators (malloc'd) */
    size_t nplain;
    size_t objects;                 /* objects in the envelope */
    size_t unmapped;                /* indicators with a pattern sipwall does not enforce */
    size_t malformed;               /* indicators lacking what STIX requires, or bad values */
    size_t ignored;                 /* other object types (identity, sighting, markings, ...) */
} sw_taxii_envelope;

/* Parses one envelope (at most SW_TAXII_PAGE_MAX bytes, duplicate member
 * names refused, at most SW_TAXII_PAGE_OBJECTS objects).  org is the
 * collection's partner (1..16 of [A-Za-z0-9_-]): the producer of its plain
 * indicators.  now_ns dates the default valid_until of plain indicators
 * that have none (from their modified).  SW_OK with *out filled (release
 * with sw_taxii_envelope_clear, also after an error); SW_ELIMIT (too large, too
 * many objects); SW_EINVAL (not an envelope) with the reason in err. */
int sw_taxii_envelope_parse(const char *buf, size_t len, const char *org, int64_t now_ns, sw_taxii_envelope *out,
                        char *err, size_t errlen) SW_WUR SW_NONNULL(1, 3, 5);
void sw_taxii_envelope_clear(sw_taxii_envelope *p);

/* Maps one STIX indicator pattern of the forms above to an intel kind
 * ("ipv4", "ipv6", "e164") and value (canonical text: the address as
 * sw_addr_format writes it, the number as given).  SW_OK; SW_ENOTFOUND
 * for a pattern sipwall does not enforce; SW_EINVAL for a bad value. */
int sw_taxii_pattern_map(const char *pattern, char kind[16], char value[SW_INTEL_VALUE_MAX]) SW_WUR
    SW_NONNULL(1, 2, 3);


/* The counts of a TAXII status resource (§4.3.1), the reply to a POST. */
typedef struct sw_taxii_status {
    char id[64];
    char status[16];                /* "complete" or "pending" */
    int64_t total, success, failure, pending;
} sw_taxii_status;
/* Parses a status resource (at most 1 MiB): id, status, and the four
 * counts are required, counts non-negative and success + failure +
 * pending = total.  SW_OK or SW_EINVAL with the reason. */
int sw_taxii_status_parse(const char *buf, size_t len, sw_taxii_status *out, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 3);

/* The STIX 2.1 indicator that carries one signed FSE object whole (what a
 * sipwall producer POSTs to a TAXII collection, and what
 * sw_taxii_envelope_parse hands back to verification): id "indicator--" + the
 * FSE id, the pattern of its kind (sw_stix_pattern), created/valid_from =
 * first_seen, modified, valid_until, confidence, indicator_types, a
 * "sipwall:EVENT_TYPE" label, revoked, and the telco-fse extension with
 * event_type, indicator_kind, action, severity, sig and "fse" (the object
 * as given).  fse is one FSE object (sw_fse_decode must accept it).
 * Returns malloc'd compact JSON (length in *outlen), or NULL with the
 * reason in err. */
char *sw_taxii_wrap_fse(const char *fse, size_t len, size_t *outlen, char *err, size_t errlen) SW_WUR
    SW_NONNULL(1, 3);

#endif
