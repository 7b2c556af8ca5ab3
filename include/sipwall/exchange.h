/* sipwall — fraud & security event exchange (FSE v1, docs/exchange.md).
 *
 * One FSE object is one shareable indicator: a scanner's address, an IRSF
 * number range, a Wangiri A-number, a keyed hash of a victim's number.
 * This layer has
 *   - the model (sw_fse) and its strict JSON codec (docs/fse-v1.schema.json);
 *   - RFC 8785 JSON canonicalisation (JCS), what is signed;
 *   - detached JWS (RFC 7515 App. F, RFC 7797 b64:false) with Ed25519
 *     (OpenSSL 3 EVP), per-partner JWKS, key generation;
 *   - the export policy (which events become indicators, for which trust
 *     group, at which TLP, confidence and TTL; HMAC keys with rotation) and
 *     sw_fse_from_event;
 *   - batch verification with a bounded quarantine for objects that fail.
 *
 * Everything decoded here comes from partners: sizes are bounded, errors
 * are named (err buffers), and nothing aborts. */
#ifndef SIPWALL_EXCHANGE_H
#define SIPWALL_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>
#include "sipwall/common.h"
#include "sipwall/event.h"

/* ---- limits --------------------------------------------------------------- */
#define SW_FSE_UUID_LEN 37     /* a UUID in text, and its NUL */
#define SW_FSE_TS_LEN 25       /* "2026-12-07T06:38:32.123Z" and its NUL */
#define SW_FSE_VALUE_MAX 256   /* indicator value bytes, and its NUL */
#define SW_FSE_NAME_MAX 64     /* org, kid, key_id, event_type, ... and its NUL */
#define SW_FSE_SIG_MAX 512     /* detached compact JWS and its NUL */
#define SW_FSE_JSON_MAX 16384  /* bytes of one encoded object a decoder accepts */
#define SW_FSE_COUNT_MAX 999999999

/* ---- vocabularies ----------------------------------------------------------
 * X(ENUM, "wire name") */
#define SW_FSE_KIND_LIST(X)                                                 \
    X(IPV4, "ipv4")                                                        \
    X(IPV6, "ipv6")                                                        \
    X(CIDR, "cidr")               /* "198.51.100.0/24", "2001:db8::/32" */ \
    X(E164, "e164")               /* "+88213012345" */                     \
    X(E164_PREFIX, "e164_prefix") /* a number range: "+8821301" */         \
    X(E164_HMAC, "e164_hmac")     /* hex HMAC-SHA256, key_id set */        \
    X(IMSI_HMAC, "imsi_hmac")                                              \
    X(IMEI_HMAC, "imei_hmac")                                              \
    X(SIP_URI, "sip_uri")                                                  \
    X(USER_AGENT, "user_agent")   /* a scanner's User-Agent */             \
    X(TRUNK, "trunk")

typedef enum sw_fse_kind {
#define SW__FSE_KIND_ENUM(id, name) SW_FSE_KIND_##id,
    SW_FSE_KIND_LIST(SW__FSE_KIND_ENUM)
#undef SW__FSE_KIND_ENUM
    SW_FSE_KIND__COUNT
} sw_fse_kind;

#define SW_FSE_SEVERITY_LIST(X)                                             \
    X(LOW, "low") X(MEDIUM, "medium") X(HIGH, "high") X(CRITICAL, "critical")
typedef enum sw_fse_severity {
#define SW__FSE_SEV_ENUM(id, name) SW_FSE_SEV_##id,
    SW_FSE_SEVERITY_LIST(SW__FSE_SEV_ENUM)
#undef SW__FSE_SEV_ENUM
    SW_FSE_SEV__COUNT
} sw_fse_severity;

#define SW_FSE_ACTION_LIST(X)                                               \
    X(MONITOR, "monitor") X(ALERT, "alert") X(RATE_LIMIT, "rate_limit")     \
    X(BLOCK, "block") X(DIVERT, "divert")
typedef enum sw_fse_action {
#define SW__FSE_ACT_ENUM(id, name) SW_FSE_ACT_##id,
    SW_FSE_ACTION_LIST(SW__FSE_ACT_ENUM)
#undef SW__FSE_ACT_ENUM
    SW_FSE_ACT__COUNT
} sw_fse_action;

/* Traffic Light Protocol 2.0, in increasing order of restriction. */
#define SW_FSE_TLP_LIST(X)                                                  \
    X(CLEAR, "CLEAR") X(GREEN, "GREEN") X(AMBER, "AMBER")                   \
    X(AMBER_STRICT, "AMBER+STRICT") X(RED, "RED")
typedef enum sw_fse_tlp {
#define SW__FSE_TLP_ENUM(id, name) SW_FSE_TLP_##id,
    SW_FSE_TLP_LIST(SW__FSE_TLP_ENUM)
#undef SW__FSE_TLP_ENUM
    SW_FSE_TLP__COUNT
} sw_fse_tlp;

/* Wire names (NULL when out of range) and exact reverse lookups
 * (SW_ENOTFOUND when unknown). */
const char *sw_fse_kind_name(sw_fse_kind k);
const char *sw_fse_severity_name(sw_fse_severity s);
const char *sw_fse_action_name(sw_fse_action a);
const char *sw_fse_tlp_name(sw_fse_tlp t);
int sw_fse_kind_lookup(const char *name, sw_fse_kind *out) SW_WUR SW_NONNULL(1, 2);
int sw_fse_severity_lookup(const char *name, sw_fse_severity *out) SW_WUR SW_NONNULL(1, 2);
int sw_fse_action_lookup(const char *name, sw_fse_action *out) SW_WUR SW_NONNULL(1, 2);
int sw_fse_tlp_lookup(const char *name, sw_fse_tlp *out) SW_WUR SW_NONNULL(1, 2);
/* 1 when name is one of the FSE v1 event types (exchange.md 2.1). */
int sw_fse_event_type_valid(const char *name) SW_NONNULL(1);

/* ---- the object ------------------------------------------------------------
 * All strings NUL-terminated, "" = absent for the optional ones.  Times are
 * ms since the Unix epoch (the wire form is RFC 3339 UTC with exactly three
 * fraction digits and "Z"). */
typedef struct sw_fse {
    char id[SW_FSE_UUID_LEN];          /* UUIDv5 (sw_fse_make_id) */
    int64_t modified_ms;               /* the version: consumers keep the highest */
    char org[SW_FSE_NAME_MAX];         /* producer.org */
    char node[SW_FSE_UUID_LEN];        /* producer.node, a UUID */
    char kid[SW_FSE_NAME_MAX];         /* producer.kid: the signing key's id */
    char event_type[SW_FSE_NAME_MAX];  /* FSE event type (sw_fse_event_type_valid) */
    char fraud_class[SW_FSE_NAME_MAX]; /* optional */
    char fs_category[SW_FSE_NAME_MAX]; /* optional: cat1 cat2 cat3 behavioural */
    sw_fse_kind kind;                  /* indicator.kind */
    char value[SW_FSE_VALUE_MAX];      /* indicator.value */
    char key_id[SW_FSE_NAME_MAX];      /* indicator.key_id: set iff kind is *_hmac */
    int64_t first_seen_ms, last_seen_ms;
    int64_t count;                     /* 1..SW_FSE_COUNT_MAX */
    int confidence;                    /* 0..100 */
    sw_fse_severity severity;
    sw_fse_action action;
    int64_t valid_until_ms;            /* TTL end */
    int revoked;                       /* 1: withdrawn ("revoked":true on the wire) */
    sw_fse_tlp tlp;
    /* context (optional, typed; never free text, never raw SIP) */
    char ctx_sip_method[SW_FSE_NAME_MAX];
    char ctx_transport[SW_FSE_NAME_MAX];
    char ctx_dst_cc[SW_FSE_NAME_MAX];
    int64_t ctx_distinct_callees;      /* 0 = absent */
    char sig[SW_FSE_SIG_MAX];          /* detached JWS over the JCS of the object
                                        * without "sig"; "" = unsigned */
} sw_fse;

/* The fixed namespace of sipwall producer namespaces (a random UUIDv4,
 * distinct from STIX's SCO namespace). */
#define SW_FSE_NAMESPACE "7c1f3a52-5d2e-4b8a-9f61-3e0d2c4b8a17"

/* UUIDv5 (RFC 9562 §5.5) of name under the namespace ns (UUID text): out
 * gets the lowercase text.  SW_OK, or SW_EINVAL when ns is not a UUID. */
int sw_uuid5(const char *ns, const void *name, size_t len, char out[SW_FSE_UUID_LEN])
    SW_NONNULL(1, 4);
/* The producer's namespace: UUIDv5(SW_FSE_NAMESPACE, "fse/1|" org). */
int sw_fse_producer_ns(const char *org, char out[SW_FSE_UUID_LEN]) SW_NONNULL(1, 2);
/* The deterministic object id: UUIDv5(producer_ns(org), kind "|" value "|"
 * event_type): the same indicator from the same producer always has the
 * same id (dedup); a new observation is a new version (modified). */
int sw_fse_make_id(const char *org, sw_fse_kind kind, const char *value, const char *event_type,
                   char out[SW_FSE_UUID_LEN]) SW_NONNULL(1, 3, 4, 5);

/* RFC 3339 ms UTC <-> ms since the epoch.  format: SW_OK or SW_ERANGE
 * (years outside 1970..9999).  parse: exactly "YYYY-MM-DDTHH:MM:SS.mmmZ",
 * a valid date; SW_OK or SW_EINVAL. */
int sw_fse_format_ts(int64_t ms, char out[SW_FSE_TS_LEN]) SW_NONNULL(2);
int sw_fse_parse_ts(const char *s, size_t len, int64_t *ms) SW_WUR SW_NONNULL(1, 3);

/* Checks the object's own rules (ranges, required fields, key_id iff an
 * HMAC kind, first_seen <= last_seen, value shape for its kind).  SW_OK or
 * SW_EINVAL with the reason in err. */
int sw_fse_validate(const sw_fse *o, char *err, size_t errlen) SW_NONNULL(1);

/* The object as JSON text (compact, members in JCS order, so this is also
 * its canonical form).  with_sig 0 leaves "sig" out: the bytes that are
 * signed.  Returns malloc'd NUL-terminated text (free() it), length in
 * *len; NULL when out of memory or the object does not validate. */
char *sw_fse_encode(const sw_fse *o, int with_sig, size_t *len) SW_WUR SW_NONNULL(1, 3);

/* Decodes one object from partner input: at most SW_FSE_JSON_MAX bytes,
 * UTF-8 JSON, duplicate member names refused, unknown members refused,
 * every field checked (sw_fse_validate).  SW_OK; SW_ELIMIT (too large);
 * SW_EINVAL with the reason ("line 1 col 7: ...", "indicator.kind:
 * unknown 'foo'") in err. */
int sw_fse_decode(const char *buf, size_t len, sw_fse *out, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 3);

/* Makes o a withdrawal of itself: revoked, a new version (modified = now_ms,
 * or one ms after the current version when the clock is behind it), the
 * signature cleared (sign again).  SW_OK or SW_ERANGE. */
int sw_fse_revoke(sw_fse *o, int64_t now_ms) SW_NONNULL(1);

/* ---- JCS (RFC 8785) ---------------------------------------------------------
 * Canonicalises JSON text: members sorted by UTF-16 code units, strings
 * escaped only where JSON requires, numbers as ECMAScript writes them.
 * Input at most 1 MiB; duplicate names, lone surrogates, NaN/Infinity
 * refused.  Returns malloc'd text (free() it) with its length in *outlen,
 * or NULL with the reason in err. */
char *sw_jcs(const char *json, size_t len, size_t *outlen, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 3);
/* One number as ECMAScript's Number.prototype.toString writes it (RFC 8785
 * §3.2.2.3).  buf needs 32 bytes.  Returns the length, or SW_EINVAL for
 * NaN and infinities. */
int sw_jcs_number(double v, char buf[32]) SW_NONNULL(2);

/* ---- keys and detached JWS -------------------------------------------------- */
typedef enum sw_jws_alg {
    SW_JWS_EDDSA = 0,   /* "EdDSA" (RFC 8037): what every peer verifies */
    SW_JWS_ED25519 = 1, /* "Ed25519" (RFC 9864): only to peers known to support it */
} sw_jws_alg;

/* An Ed25519 key pair or public key, with its key id. */
typedef struct sw_jws_key sw_jws_key;
/* Generates a new Ed25519 key pair. */
sw_jws_key *sw_jws_key_generate(const char *kid) SW_WUR SW_NONNULL(1);
/* Loads a private key (PKCS#8 PEM, as keygen writes it, or a JWK with "d")
 * from path.  NULL with the reason in err. */
sw_jws_key *sw_jws_key_load(const char *path, const char *kid, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2);
void sw_jws_key_free(sw_jws_key *k);
const char *sw_jws_key_kid(const sw_jws_key *k) SW_NONNULL(1);
/* Writes the private key to path as PKCS#8 PEM with mode 0600 (created,
 * never following a symlink, refused when it exists).  SW_OK or SW_EIO
 * with the reason in err. */
int sw_jws_key_write_private(const sw_jws_key *k, const char *path, char *err, size_t errlen)
    SW_NONNULL(1, 2);
/* The public key as a JWKS document {"keys":[{"kty":"OKP","crv":"Ed25519",
 * "x":...,"kid":...,"alg":"EdDSA","use":"sig"}]}.  malloc'd text or NULL. */
char *sw_jws_key_public_jwks(const sw_jws_key *k) SW_WUR SW_NONNULL(1);

/* A set of public keys: one partner's JWKS.  At most SW_JWKS_MAX_KEYS keys
 * (two are enough for a rotation with overlap). */
#define SW_JWKS_MAX_KEYS 16
typedef struct sw_jwks sw_jwks;
/* Parses a JWKS document (partner input: OKP/Ed25519 keys only, each with
 * a unique "kid"; other key types are refused by name, not skipped).  NULL
 * with the reason in err. */
sw_jwks *sw_jwks_parse(const char *text, size_t len, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1);
sw_jwks *sw_jwks_load(const char *path, char *err, size_t errlen) SW_WUR SW_NONNULL(1);
void sw_jwks_free(sw_jwks *s);
size_t sw_jwks_count(const sw_jwks *s) SW_NONNULL(1);

/* Signs payload (the JCS bytes) and writes the detached compact form
 * BASE64URL(header) ".." BASE64URL(signature) into out (SW_FSE_SIG_MAX).
 * Header: {"alg":A,"kid":K[,"b64":false,"crit":["b64"]],"typ":"fse+jws"}.
 * SW_OK, SW_ELIMIT (kid too long), SW_EIO (crypto failure). */
int sw_jws_sign_detached(const sw_jws_key *k, sw_jws_alg alg, int b64, const void *payload,
                         size_t len, char out[SW_FSE_SIG_MAX]) SW_WUR SW_NONNULL(1, 4, 6);

/* The parsed protected header (partner input). */
typedef struct sw_jws_header {
    sw_jws_alg alg;
    char kid[SW_FSE_NAME_MAX];
    int b64;                    /* 1 unless "b64":false */
    char typ[SW_FSE_NAME_MAX];  /* "" when absent */
} sw_jws_header;
/* Parses a base64url protected header: a JSON object of at most 1 KiB,
 * duplicate members refused, alg "EdDSA" or "Ed25519" (every other alg,
 * "none" included, refused), kid required, "b64" only with "crit":["b64"],
 * any other crit name refused.  SW_OK or SW_EINVAL with the reason. */
int sw_jws_header_parse(const char *b64hdr, size_t len, sw_jws_header *out, char *err,
                        size_t errlen) SW_WUR SW_NONNULL(1, 3);
/* Verifies a detached compact JWS over payload with the key of keys whose
 * kid the header names.  The signing input uses the received header bytes
 * (never a re-serialisation).  SW_OK; SW_EINVAL (malformed JWS or header);
 * SW_ENOTFOUND (no key with that kid); SW_EAUTH (bad signature). */
int sw_jws_verify_detached(const char *jws, size_t jws_len, const void *payload, size_t len,
                           const sw_jwks *keys, sw_jws_header *hdr_out, char *err,
                           size_t errlen) SW_WUR SW_NONNULL(1, 3, 5);

/* Signs an object: sets o->kid to the key's kid, then o->sig over
 * sw_fse_encode(o, 0).  SW_OK or a negative SW_E*. */
int sw_fse_sign(sw_fse *o, const sw_jws_key *k, sw_jws_alg alg, int b64) SW_WUR SW_NONNULL(1, 2);

/* ---- trust store and quarantine ---------------------------------------------
 * The keyring maps each partner (producer.org) to its JWKS; verification
 * accepts an object only under a key of the org it claims. */
typedef struct sw_fse_keyring sw_fse_keyring;
#define SW_KEYRING_MAX_PARTNERS 256
sw_fse_keyring *sw_fse_keyring_new(void) SW_WUR;
void sw_fse_keyring_free(sw_fse_keyring *kr);
/* Adds (or replaces: key rotation) the JWKS of org; takes ownership of
 * keys in every case.  SW_OK, SW_ELIMIT (too many partners), SW_EUSAGE. */
int sw_fse_keyring_set(sw_fse_keyring *kr, const char *org, sw_jwks *keys) SW_NONNULL(1, 2, 3);

/* Verifies one received object (its JSON text): decodes it, checks that
 * "sig" is present, that the header's kid equals producer.kid, and the
 * signature over the JCS of the received object without "sig" with org's
 * keys.  SW_OK with *out filled; SW_EINVAL (malformed), SW_ENOTFOUND
 * (unknown org or kid), SW_EAUTH (bad or missing signature). */
int sw_fse_verify(const sw_fse_keyring *kr, const char *buf, size_t len, sw_fse *out,
                  char *err, size_t errlen) SW_WUR SW_NONNULL(1, 2, 4);

/* The quarantine: a bounded FIFO of objects that failed verification
 * (oldest dropped when full, and counted). */
#define SW_QUARANTINE_RAW_MAX 4096 /* bytes kept of each object's text */
typedef struct sw_quarantine sw_quarantine;
typedef struct sw_quarantine_entry {
    int64_t at_ms;             /* when it was quarantined */
    int error;                 /* SW_EINVAL, SW_ENOTFOUND or SW_EAUTH */
    char reason[128];
    char org[SW_FSE_NAME_MAX]; /* claimed producer ("" when unreadable) */
    char id[SW_FSE_UUID_LEN];  /* claimed id ("" when unreadable) */
    char *raw;                 /* the object's text, cut to SW_QUARANTINE_RAW_MAX */
    size_t raw_len;
    size_t raw_orig_len;
} sw_quarantine_entry;
typedef struct sw_quarantine_stats {
    uint64_t total;    /* objects ever quarantined */
    uint64_t dropped;  /* entries pushed out when full */
    uint64_t held;     /* entries held now */
} sw_quarantine_stats;
/* capacity: entries kept, 1..1000000. */
sw_quarantine *sw_quarantine_new(size_t capacity) SW_WUR;
void sw_quarantine_free(sw_quarantine *q);
sw_quarantine_stats sw_quarantine_stats_get(const sw_quarantine *q) SW_NONNULL(1);
/* Entry i, 0 = oldest held; NULL past the end.  Valid until the next add. */
const sw_quarantine_entry *sw_quarantine_get(const sw_quarantine *q, size_t i) SW_NONNULL(1);

/* Verifies a batch: a JSON array of FSE objects (at most SW_BATCH_MAX
 * objects, 64 MiB).  Each element is cut out of the array and decoded on
 * its own.  Every object that verifies goes to accept (which returns 0 to
 * go on); every one that does not (malformed, unknown producer or kid, bad
 * or missing signature) goes to the quarantine with its bytes as received
 * — the rest of the batch is processed either way.  Returns the number
 * accepted (>= 0), or SW_EINVAL when the input is not an array (nothing
 * processed; reason in err).  *quarantined (may be NULL) receives the count
 * of this batch. */
#define SW_BATCH_MAX 100000
int sw_fse_verify_batch(const sw_fse_keyring *kr, const char *buf, size_t len,
                        sw_quarantine *q, int64_t now_ms,
                        int (*accept)(void *arg, const sw_fse *o), void *arg,
                        size_t *quarantined, char *err, size_t errlen) SW_NONNULL(1, 2, 4);

/* ---- export policy -------------------------------------------------------------
 * A small config file (docs/exchange.md "Export policy"):
 *   producer ORG NODE-UUID
 *   hmac-key GROUP KEY-ID hex:HEX|file:PATH [from RFC3339] [until RFC3339]
 *   export EVENT-TYPE to GROUP [tlp T] [confidence N] [min-confidence N]
 *          [ttl DURATION] [action A] [severity S] [indicator WHAT] [prefix N]
 * WHAT: src, user_agent, calling, calling_hmac, called, called_hmac,
 * called_prefix.  A number in clear only where exchange.md allows it: the
 * caller of wangiri_cli, the called range (called_prefix) of irsf_call. */
typedef struct sw_export_policy sw_export_policy;
/* Parses policy text; NULL with "line N: reason" in err. */
sw_export_policy *sw_export_policy_parse(const char *text, size_t len, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1);
sw_export_policy *sw_export_policy_load(const char *path, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1);
void sw_export_policy_free(sw_export_policy *p);
/* The producer org of the policy ("producer ORG NODE"). */
const char *sw_export_policy_org(const sw_export_policy *p) SW_NONNULL(1);
/* Trust groups named by export rules, in file order: name i or NULL. */
const char *sw_export_policy_group(const sw_export_policy *p, size_t i) SW_NONNULL(1);

/* HMAC-SHA256 of a canonical identifier (digits of an E.164 number without
 * "+", an IMSI, an IMEI) under the group's current key at now_ms (the
 * valid key with the latest "from"); hex into out (65 bytes), its key id
 * into key_id.  SW_OK, SW_ENOTFOUND (no valid key). */
int sw_export_hmac(const sw_export_policy *p, const char *group, int64_t now_ms,
                   const char *canonical, char out[65], char key_id[SW_FSE_NAME_MAX])
    SW_WUR SW_NONNULL(1, 2, 4, 5, 6);
/* The same with every key of the group valid at now_ms (during an overlap,
 * two): a consumer matches its own numbers against all of them.  Calls cb
 * per key; returns the number of keys. */
int sw_export_hmac_all(const sw_export_policy *p, const char *group, int64_t now_ms,
                       const char *canonical,
                       void (*cb)(void *arg, const char *key_id, const char hex[65]), void *arg)
    SW_NONNULL(1, 2, 4, 5);

/* Turns ev into at most one FSE object for group under the policy.
 * Returns 1 (out filled, unsigned: sw_fse_sign next), 0 (nothing to
 * share: no rule, below min-confidence, no usable indicator, or the
 * anti-echo rule: an event with evidence origin="feed" — enforcement
 * caused by a partner's indicator — is never re-shared), or a negative
 * SW_E*. */
#define SW_EXPORT_ORIGIN_KEY "origin"  /* evidence key ... */
#define SW_EXPORT_ORIGIN_FEED "feed"   /* ... and value that marks an echo */
int sw_fse_from_event(const sw_export_policy *p, const char *group, const sw_event *ev,
                      sw_fse *out) SW_WUR SW_NONNULL(1, 2, 3, 4);

#endif
