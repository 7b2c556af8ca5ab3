/* sipwall — exchange formats: what one operator's indicators look like to
 * the tools its partners already run.
 *
 *   STIX 2.1 bundle   identity, TLP 2.0 marking-definitions, our
 *                     extension-definition (telco-fse), one indicator per
 *                     indicator (STIX pattern), one sighting per indicator
 *   MISP feed dir     manifest.json, <event-uuid>.json, hashes.csv
 *   CSV               one line per indicator (RFC 4180)
 *   APIBAN (input)    {"ipaddress":[...],"ID":...} into indicators
 *
 * The renderers work on sw_xo_ind, a flat view of an FSE v1 object
 * (docs/exchange.md) whose strings are the FSE wire names ("sip_scan",
 * "ipv4", "AMBER", ...), so an FSE object from the exchange model maps
 * onto it field by field.  They copy nothing and keep nothing: the views
 * only need to live for the call.  Output is deterministic: the same
 * indicators give byte-identical files (ids are UUIDv5 of FSE ids; no
 * clock is read). */
#ifndef SIPWALL_EXCHANGE_FMT_H
#define SIPWALL_EXCHANGE_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sipwall/common.h"
#include "sipwall/event.h"
#include "sipwall/exchange.h"

#define SW_XO_UUID_LEN 37 /* UUID text and its NUL */
#define SW_XO_VALUE_MAX 256 /* bytes of an indicator value (FSE limit) */

/* The producer: one STIX identity, one MISP Orgc. */
typedef struct sw_xo_producer {
    const char *org;  /* short org code, e.g. TADIG "ZZ01" (required, printable ASCII) */
    const char *name; /* display name; NULL = "sipwall <org>" */
    uint8_t tlp1;     /* STIX: mark with the TLP 1.0 ids built into STIX 2.1 (CLEAR
                       * as WHITE; AMBER+STRICT, which TLP 1.0 cannot say, as RED)
                       * for consumers that do not know TLP 2.0 */
} sw_xo_producer;

/* One indicator (an FSE v1 object without its signature envelope). */
typedef struct sw_xo_ind {
    char id[SW_XO_UUID_LEN];    /* FSE id (UUID text); the STIX indicator id is "indicator--" + id */
    const char *event_type;     /* FSE event_type, e.g. "sip_scan" (required) */
    const char *fraud_class;    /* optional (NULL) */
    const char *fs_category;    /* optional (NULL) */
    const char *kind;           /* ipv4 ipv6 cidr e164 e164_prefix e164_hmac imsi_hmac
                                 * imei_hmac sip_uri user_agent trunk (required) */
    const char *value;          /* required, <= SW_XO_VALUE_MAX bytes, UTF-8 */
    const char *hmac_key_id;    /* for *_hmac kinds (required there), else NULL */
    const char *severity;       /* low medium high critical */
    const char *action;         /* monitor alert rate_limit block divert */
    const char *tlp;            /* CLEAR GREEN AMBER AMBER+STRICT RED */
    const char *sig;            /* detached JWS "hdr..sig"; NULL = unsigned */
    int64_t first_seen_ns, last_seen_ns, modified_ns, valid_until_ns;
    uint32_t count;             /* 1 .. 999999999 */
    uint8_t confidence;         /* 0 .. 100 */
    uint8_t revoked;
} sw_xo_ind;

/* Checks one indicator against the rules above (kinds, enums, ranges,
 * value syntax for ipv4/ipv6/cidr/e164/e164_prefix/hex HMACs, no control
 * bytes).  SW_OK or SW_EINVAL with a reason in why (may be NULL). */
int sw_xo_ind_check(const sw_xo_ind *x, const char **why) SW_NONNULL(1);

/* UUIDv5 (RFC 9562 §5.5): SHA-1 of the 16-byte namespace and name, as
 * lower-case text in out.  SW_OK or SW_ENOMEM (OpenSSL failed). */
int sw_xo_uuid5(const uint8_t ns[16], const void *name, size_t len, char out[SW_XO_UUID_LEN])
    SW_NONNULL(1, 4);
/* Parses UUID text (36 chars, any case) into 16 bytes.  SW_OK or SW_EINVAL. */
int sw_xo_uuid_parse(const char *text, uint8_t out[16]) SW_NONNULL(1, 2);

/* The producer's identity id "identity--<UUIDv5(sipwall ns, "identity|"+org)>". */
void sw_xo_identity_id(const sw_xo_producer *p, char out[64]) SW_NONNULL(1, 2);

/* ---- STIX 2.1 --------------------------------------------------------------- */
/* The STIX pattern of an indicator into buf (NUL-terminated):
 *   ipv4/ipv6       [ipv4-addr:value = '203.0.113.7']
 *   cidr            [ipv4-addr:value ISSUBSET '198.51.100.0/24'] (ipv6-addr for v6)
 *   e164            [phone-number:value = '+88213012345']
 *   e164_prefix     [phone-number:value LIKE '+882130%']
 *   *_hmac          [x-sipwall-hashed-id:value = '<hex>' AND x-sipwall-hashed-id:key_id = '<kid>'
 *                    AND x-sipwall-hashed-id:id_type = 'e164|imsi|imei']
 *   sip_uri         [url:value = 'sip:...']
 *   user_agent      [user-agent:value = 'friendly-scanner']
 *   trunk           [x-sipwall-trunk:value = '...']
 * Quotes and backslashes in values are escaped (\' \\).  Returns the
 * length, SW_ELIMIT when buf is too small, SW_EINVAL for an unknown kind. */
int sw_stix_pattern(const sw_xo_ind *x, char *buf, size_t len) SW_NONNULL(1, 2);

/* The id of the TLP 2.0 marking-definition for an FSE tlp name, or NULL. */
const char *sw_stix_tlp_id(const char *tlp);

/* A STIX 2.1 bundle of the n indicators as JSON (malloc'd, NUL-terminated;
 * free()), its length in *len.  Objects, in this order: the identity, the
 * TLP 2.0 marking-definitions used, the telco-fse extension-definition,
 * then per indicator its indicator and (when count > 0 and not revoked)
 * a sighting.  Indicators are checked with sw_xo_ind_check first: NULL
 * with *why set when one fails (its index in *bad when bad != NULL), or
 * when memory runs out (*why = "out of memory"). */
char *sw_stix_bundle(const sw_xo_producer *p, const sw_xo_ind *v, size_t n, size_t *len,
                     const char **why, size_t *bad) SW_WUR SW_NONNULL(1, 4, 5);

/* ---- MISP feed ---------------------------------------------------------------
 * One MISP event per (UTC day of last_seen, event_type), attributes typed
 * and categorised by kind (valid per MISP describeTypes):
 *   ipv4/ipv6/cidr -> ip-src / Network activity      e164 -> phone-number / Financial fraud
 *   e164_prefix    -> prtn / Financial fraud           user_agent -> user-agent / Network activity
 *   sip_uri        -> uri / Network activity           *_hmac, trunk -> text / Other (to_ids false)
 * Revoked indicators are left out (a MISP feed has no withdrawal; the
 * event's timestamp changes so consumers re-fetch).  Writes
 * <dir>/<uuid>.json, manifest.json, hashes.csv (dir must exist; files are
 * replaced through a temporary name).  SW_OK, or SW_EINVAL (an indicator
 * fails sw_xo_ind_check) / SW_EIO / SW_ENOMEM with a reason in errbuf. */
int sw_misp_feed_write(const char *dir, const sw_xo_producer *p, const sw_xo_ind *v, size_t n,
                       char *errbuf, size_t errlen) SW_WUR SW_NONNULL(1, 2, 5);

/* ---- CSV ---------------------------------------------------------------------
 * Header then one line per indicator:
 *   id,modified,event_type,kind,value,confidence,severity,action,tlp,valid_until,revoked,count
 * Every text field is quoted (RFC 4180, "" for "); a free-text value
 * (user_agent, sip_uri, trunk) that starts with = + - @ TAB or CR gets a
 * leading ' so spreadsheets do not run it as a formula.  SW_OK or SW_EIO. */
int sw_xo_csv_write(FILE *fp, const sw_xo_ind *v, size_t n) SW_WUR SW_NONNULL(1);

/* ---- from events (sipwall check --export-*) -----------------------------------
 * A bounded set of FSE objects made from detector events by the export
 * policy (sw_fse_from_event, sipwall/exchange.h), merged by id: an
 * indicator seen again widens first_seen/last_seen, adds its count, keeps
 * the highest confidence and the newest modified.  Without a policy, a
 * built-in one for producer org and trust group "local" shares the FSE
 * defaults: the source address of sip_scan (TTL 7 d), sip_bruteforce
 * (24 h) and sip_flood (1 h, rate_limit), the called range of irsf_call
 * (7 digits, 30 d) and the caller of wangiri_cli (72 h), at TLP AMBER.
 * Nothing else leaves: victims' numbers and raw SIP never do. */
typedef struct sw_xo_set sw_xo_set;

/* A set holding at most max indicators (further new ones are counted in
 * sw_xo_set_dropped, never stored) for trust group group of policy (NULL:
 * the policy's first group).  policy NULL: the built-in policy of org.
 * policy must outlive the set.  NULL when memory runs out or the group
 * does not exist. */
sw_xo_set *sw_xo_set_new(const char *org, const sw_export_policy *policy, const char *group, size_t max)
    SW_WUR;
void sw_xo_set_free(sw_xo_set *s);
/* Adds what ev shares, if anything.  Returns 1 when ev was shareable, 0
 * when not, SW_ELIMIT when the set is full (counted), another SW_E*. */
int sw_xo_set_add_event(sw_xo_set *s, const sw_event *ev) SW_NONNULL(1, 2);
/* Adds (merges) one object; its signature is dropped (sign at the end). */
int sw_xo_set_add_fse(sw_xo_set *s, const sw_fse *o) SW_NONNULL(1, 2);
/* Signs every object (sw_fse_sign: detached JWS, "b64":false as
 * exchange.md 2.3 has it).  SW_OK or the first error. */
int sw_xo_set_sign(sw_xo_set *s, const sw_jws_key *k, sw_jws_alg alg) SW_WUR SW_NONNULL(1, 2);
/* The objects sorted by id, and as indicator views (valid until the next
 * add, sign or free). */
const sw_fse *sw_xo_set_fse(sw_xo_set *s, size_t *n) SW_NONNULL(1, 2);
const sw_xo_ind *sw_xo_set_items(sw_xo_set *s, size_t *n) SW_NONNULL(1, 2);
uint64_t sw_xo_set_dropped(const sw_xo_set *s) SW_NONNULL(1);
/* An event sink that feeds the set (for a tee); closing it leaves the set. */
sw_event_sink *sw_xo_set_sink(sw_xo_set *s) SW_WUR SW_NONNULL(1);

/* The indicator view of an FSE object (views into o). */
void sw_xo_from_fse(const sw_fse *o, sw_xo_ind *x) SW_NONNULL(1, 2);

/* ---- APIBAN (consumer input) --------------------------------------------------
 * An APIBAN reply {"ipaddress":["198.51.100.7", ...], "ID":"1700000000"}
 * (ID a string or a number; "none" = nothing more).  Only JSON of at most
 * SW_APIBAN_MAX_BYTES is read, duplicate keys refused; entries that are
 * not IPv4/IPv6 address strings are counted in *skipped and ignored; at
 * most cap addresses are kept (the rest counted in *skipped too).  Each
 * becomes a sip_scan indicator of producer SW_APIBAN_ORG: kind ipv4/ipv6
 * (canonical text, copied into vals[i]), confidence `confidence`, action
 * block, severity medium, TLP CLEAR, valid 7 days (APIBAN's listing
 * period) from now_ns, id sw_fse_make_id(SW_APIBAN_ORG, kind, value,
 * "sip_scan").  Returns the number of indicators, or SW_EINVAL (not an
 * APIBAN reply: reason in why) / SW_ELIMIT (too large).  cursor gets the
 * ID (only [A-Za-z0-9._-] kept, cut to cursor_len - 1; "" when absent). */
#define SW_APIBAN_MAX_BYTES (1u << 20)
#define SW_APIBAN_ORG "apiban"
int sw_apiban_parse(const char *buf, size_t len, int64_t now_ns, uint8_t confidence, sw_xo_ind *out,
                    char (*vals)[64], size_t cap, size_t *skipped, char *cursor, size_t cursor_len,
                    const char **why) SW_WUR SW_NONNULL(5, 6, 8, 9);
/* The same as FSE v1 objects (unsigned; producer SW_APIBAN_ORG, node
 * UUIDv5 of the producer's namespace), what the consumer merges like any
 * partner's, with the trust the configuration gives APIBAN.  cap is at
 * most 65536.  Returns the count or a negative SW_E* (SW_ENOMEM too). */
int sw_apiban_parse_fse(const char *buf, size_t len, int64_t now_ms, uint8_t confidence, sw_fse *out,
                        size_t cap, size_t *skipped, char *cursor, size_t cursor_len, const char **why)
    SW_WUR SW_NONNULL(5, 7, 8);

#endif
