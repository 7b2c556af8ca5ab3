/* sipwall — the policy: peers and zones (category 0), rules (categories 1-3),
 * detector settings, privacy profiles, lists, and the matchers they compile
 * into.
 *
 * A policy is read from one or more text files (language: docs/policy.md),
 * checked with line-numbered diagnostics, and compiled once into an
 * immutable sw_policy: a CIDR table for addresses, digit tries for number
 * ranges and number lists, hashed string sets, and Hyperscan databases for
 * patterns.  The engine (include/sipwall/engine.h) evaluates it per message;
 * nothing in a compiled policy changes afterwards, so a running engine can
 * swap policies atomically.
 *
 * Files given together are one policy in that order: a later file may
 * redefine a partner, zone, list, detector, rule (same id) or the home
 * block of an earlier one (that is how an operator's partner file overlays
 * the shipped default).  Within one file a duplicate is an error. */
#ifndef SIPWALL_POLICY_H
#define SIPWALL_POLICY_H

#include "sipwall/addr.h"
#include "sipwall/common.h"
#include "sipwall/vocab.h"
#include "sipwall/sip.h"

/* ---- matchers --------------------------------------------------------------
 * Digit tries: E.164 prefixes and ranges ("+4477009", "+447700900000-+447700900999";
 * a range is stored as its minimal prefix cover).  Keys are the digits after
 * '+'.  Every entry carries a 32-bit value (list entry index, peer index …). */
typedef struct sw_prefix_set sw_prefix_set;

sw_prefix_set *sw_prefix_set_new(void) SW_WUR;
void sw_prefix_set_free(sw_prefix_set *s);
/* digits: '0'..'9' only, 1..20 of them.  SW_OK, SW_EINVAL, SW_ENOMEM. */
int sw_prefix_set_add(sw_prefix_set *s, const char *digits, size_t len, uint32_t value)
    SW_WUR SW_NONNULL(1, 2);
/* lo/hi: same length, lo <= hi, digits only.  Adds the prefix cover of [lo, hi]. */
int sw_prefix_set_add_range(sw_prefix_set *s, const char *lo, const char *hi, size_t len,
                            uint32_t value) SW_WUR SW_NONNULL(1, 2, 3);
/* Longest prefix of digits[0..len) in the set: returns its length (0 = none)
 * and its value in *value (may be NULL). */
size_t sw_prefix_set_lookup(const sw_prefix_set *s, const char *digits, size_t len,
                            uint32_t *value) SW_NONNULL(2);
size_t sw_prefix_set_count(const sw_prefix_set *s);
/* 1 when some number that starts with digits[0..len) is in the set: an
 * entry is a prefix of digits, or an entry starts with digits (a prefix
 * block on digits would cover it).  0 otherwise, also for s NULL or
 * non-digits. */
int sw_prefix_set_overlaps(const sw_prefix_set *s, const char *digits, size_t len);

/* CIDR table: longest-prefix match over IPv4 and IPv6 networks. */
typedef struct sw_cidr_table sw_cidr_table;

sw_cidr_table *sw_cidr_table_new(void) SW_WUR;
void sw_cidr_table_free(sw_cidr_table *t);
/* net: family 4 or 6 in an sw_addr (port ignored), bits 0..32 / 0..128.
 * Adding the same network twice replaces the value. */
int sw_cidr_table_add(sw_cidr_table *t, const sw_addr *net, unsigned bits, uint32_t value)
    SW_WUR SW_NONNULL(1, 2);
/* Parses "10.0.0.0/8", "2001:db8::/32", or a bare address (host route). */
int sw_cidr_parse(const char *text, sw_addr *net, unsigned *bits) SW_WUR SW_NONNULL(1, 2, 3);
/* 1 and *value when addr is inside a network of the table, else 0. */
int sw_cidr_table_lookup(const sw_cidr_table *t, const sw_addr *addr, uint32_t *value)
    SW_NONNULL(2);

/* Hashed set of strings, ASCII case-insensitive (domains, user agents,
 * method names, tokens). */
typedef struct sw_string_set sw_string_set;

sw_string_set *sw_string_set_new(void) SW_WUR;
void sw_string_set_free(sw_string_set *s);
int sw_string_set_add(sw_string_set *s, sw_str v, uint32_t value) SW_WUR SW_NONNULL(1);
int sw_string_set_lookup(const sw_string_set *s, sw_str v, uint32_t *value);
size_t sw_string_set_count(const sw_string_set *s);

/* Pattern database: all the patterns used on one message field, from any
 * number of pattern lists (at most 64 lists per field), compiled into one
 * Hyperscan block-mode database.  A scan answers "which lists have a
 * pattern that matches this text" as a bit mask (bit = list slot).
 * Patterns are PCRE-style regular expressions (Hyperscan's subset),
 * case-insensitive; `contains "x"` compiles to an escaped literal. */
typedef struct sw_pattern_db sw_pattern_db;
typedef struct sw_pattern_scratch sw_pattern_scratch;

/* Scratch space for scanning: one per thread, big enough for every
 * database of one policy (see sw_policy_scratch_new). */
void sw_pattern_scratch_free(sw_pattern_scratch *s);
/* Returns the mask of list slots matched (0 = none).  text may be empty. */
uint64_t sw_pattern_db_scan(const sw_pattern_db *db, sw_pattern_scratch *s, sw_str text)
    SW_NONNULL(1, 2);

/* ---- message fields a rule can test ------------------------------------------
 * X(ENUM, "name", type).  Types:
 *   BOOL  true/false
 *   NUM   integer (-1 when the message has none, e.g. max-forwards absent)
 *   STR   text from the message (compared ASCII case-insensitively)
 *   PHONE normalised number "+<digits>" when it is one (see engine.h), else
 *         the raw user part; `in` tests it against number lists and ranges
 *   ADDR  an IP address; `in` tests it against address lists (CIDR)
 * The engine (src/engine/) computes them; docs/policy.md explains each. */
#define SW_FIELD_LIST(X)                                                     \
    X(REQUEST, "request", BOOL)                                             \
    X(RESPONSE, "response", BOOL)                                           \
    X(METHOD, "method", STR)         /* request method, or the CSeq method of a response */ \
    X(STATUS, "status", NUM)         /* response code; 0 for requests */   \
    X(MALFORMED, "malformed", BOOL)  /* failed parsing or validation */     \
    X(MALFORMED_REASON, "malformed.reason", STR)                            \
    X(SIZE, "size", NUM)             /* bytes of the message */             \
    X(HEADERS, "headers", NUM)       /* header fields */                    \
    X(VIA_COUNT, "via.count", NUM)                                          \
    X(FOLDS, "folds", NUM)           /* folded continuation lines */        \
    X(LONGEST_HEADER, "longest-header", NUM)                                \
    X(MAX_FORWARDS, "max-forwards", NUM)                                    \
    X(EXPIRES, "expires", NUM)       /* Expires header, else Contact ;expires, else -1 */ \
    X(IN_DIALOG, "in-dialog", BOOL)  /* To carries a tag */                 \
    X(CREDENTIALS, "credentials", BOOL) /* Authorization or Proxy-Authorization present */ \
    X(AUTH_USER, "auth.user", STR)   /* digest username */                  \
    X(CONTACT_STAR, "contact.star", BOOL)                                   \
    X(TRANSPORT, "transport", STR)   /* udp tcp tls sctp */                 \
    X(DIRECTION, "direction", STR)   /* ingress (toward the core), egress (from the core), transit */ \
    X(RURI, "ruri", STR)                                                    \
    X(RURI_USER, "ruri.user", STR)                                          \
    X(RURI_HOST, "ruri.host", STR)                                          \
    X(RURI_SCHEME, "ruri.scheme", STR)                                      \
    X(RURI_LENGTH, "ruri.length", NUM)                                      \
    X(FROM_USER, "from.user", STR)                                          \
    X(FROM_HOST, "from.host", STR)                                          \
    X(FROM_DISPLAY, "from.display", STR)                                    \
    X(TO_USER, "to.user", STR)                                              \
    X(TO_HOST, "to.host", STR)                                              \
    X(CONTACT_USER, "contact.user", STR)                                    \
    X(CONTACT_HOST, "contact.host", STR)                                    \
    X(PAI_USER, "pai.user", STR)                                            \
    X(PAI_COUNT, "pai.count", NUM)   /* P-Asserted-Identity values */       \
    X(PAI, "pai", PHONE)             /* first PAI as a number */            \
    X(A, "a", PHONE)                 /* calling number: PAI, else From */   \
    X(B, "b", PHONE)                 /* called number: Request-URI user */  \
    X(A_E164, "a.e164", BOOL)        /* a is a plausible E.164 number */    \
    X(B_E164, "b.e164", BOOL)                                               \
    X(A_SUBSCRIBER, "a.subscriber", BOOL) /* a in home ranges */            \
    X(B_SUBSCRIBER, "b.subscriber", BOOL)                                   \
    X(A_LOCATION, "a.location", STR) /* subscriber feed: home | abroad | unknown */ \
    X(A_VPLMN, "a.vplmn", STR)       /* subscriber feed: serving PLMN "MCC-MNC" */ \
    X(CLAIMED_PLMN, "claimed.plmn", STR) /* P-Visited-Network-ID / PANI / peer plmn */ \
    X(TRAVEL_KMH, "travel-kmh", NUM) /* implied speed from feed location to claimed location; -1 unknown */ \
    X(PLMN_MISMATCH, "plmn-mismatch", BOOL) /* a.vplmn and claimed.plmn both known and different */ \
    X(USER_AGENT, "user-agent", STR)                                        \
    X(SERVER, "server", STR)                                                \
    X(CALL_ID, "call-id", STR)                                              \
    X(VIA_BRANCH, "via.branch", STR)                                        \
    X(VIA_HOST, "via.host", STR)                                            \
    X(PVNI, "pvni", STR)             /* P-Visited-Network-ID */             \
    X(IDENTITY, "identity", BOOL)    /* Identity header (RFC 8224) present */ \
    X(ATTEST, "attest", STR)         /* PASSporT attest claim: A, B, C or empty */ \
    X(SRC, "src", ADDR)                                                     \
    X(DST, "dst", ADDR)                                                     \
    X(PEER, "peer", STR)             /* sending peer or zone name */        \
    X(PEER_ROLE, "peer.role", STR)                                          \
    X(PEER_TRUST, "peer.trust", STR) /* trusted | untrusted */              \
    X(PEER_KNOWN, "peer.known", BOOL) /* a configured partner, not a zone */\
    X(PEER_PLMN, "peer.plmn", STR)                                          \
    X(PEER_HAS_RANGES, "peer.has-ranges", BOOL) /* the peer declares number ranges */ \
    X(PEER_MAY_REGISTER, "peer.may-register", BOOL) /* REGISTER's AoR (To) or its domain in the partner's `register` */ \
    X(IRSF_PATTERN, "irsf.pattern", BOOL) /* the IRSF detector's pattern holds for this call (docs/detectors.md D5) */ \
    X(DST_PEER, "dst.peer", STR)     /* receiving peer or zone name */      \
    X(DST_ROLE, "dst.role", STR)                                            \
    X(DST_TRUST, "dst.trust", STR)                                          \
    X(HEADER, "header", STR)         /* header.NAME: first value of any header */

typedef enum sw_field_type { SW_FT_BOOL, SW_FT_NUM, SW_FT_STR, SW_FT_PHONE, SW_FT_ADDR } sw_field_type;

typedef enum sw_field {
#define SW__FIELD_ENUM(id, name, type) SW_F_##id,
    SW_FIELD_LIST(SW__FIELD_ENUM)
#undef SW__FIELD_ENUM
    SW_F__COUNT
} sw_field;

const char *sw_field_name(sw_field f);
sw_field_type sw_field_type_of(sw_field f);

/* ---- peers and zones (category 0) ------------------------------------------ */
#define SW_PEER_ROLE_LIST(X)                                                  \
    X(UNKNOWN, "unknown")                                                    \
    X(ROAMING, "roaming")            /* roaming partner (visited P-CSCF, LBO) */ \
    X(INTERCONNECT, "interconnect")  /* direct operator interconnect */      \
    X(TRANSIT, "transit")            /* transit / IPX carrier */             \
    X(ENTERPRISE, "enterprise")      /* enterprise SIP trunk */              \
    X(CORE, "core")                  /* our own side: IBCF, SBC, S-CSCF */

typedef enum sw_peer_role {
#define SW__ROLE_ENUM(id, name) SW_ROLE_##id,
    SW_PEER_ROLE_LIST(SW__ROLE_ENUM)
#undef SW__ROLE_ENUM
    SW_ROLE__COUNT
} sw_peer_role;

const char *sw_peer_role_name(sw_peer_role r);

/* Header sets as bit masks over sw_hdr_id (fits: SW_HDR__COUNT <= 128). */
typedef struct sw_hdr_mask {
    uint64_t bits[2];
} sw_hdr_mask;

static inline int sw_hdr_mask_has(const sw_hdr_mask *m, unsigned id)
{
    return id < 128 && (m->bits[id >> 6] >> (id & 63)) & 1u;
}
static inline void sw_hdr_mask_set(sw_hdr_mask *m, unsigned id)
{
    if (id < 128)
        m->bits[id >> 6] |= (uint64_t)1 << (id & 63);
}

typedef enum sw_admit { SW_ADMIT_SCREEN = 0, SW_ADMIT_DROP = 1 } sw_admit;

typedef struct sw_peer {
    char *name;
    uint32_t index;       /* position in sw_policy.peers (changes when a reload reorders them) */
    uint16_t name_fp;     /* a fingerprint of the name, never 0 or 0xffff: the same peer across
                           * reloads (detectors count carriers by it) */
    uint8_t is_zone;      /* 1: a zone (e.g. "unknown"), not a configured partner */
    uint8_t trusted;      /* trust domain member (RFC 3325) */
    sw_peer_role role;
    sw_admit admit;       /* zones: screen its traffic, or drop it all (cat 0) */
    uint8_t admit_monitor;/* zones: the admission drop is monitor-only */

    sw_prefix_set *ranges;   /* allocated E.164 ranges it may assert; NULL = none given */
    sw_string_set *domains;  /* SIP domains; NULL = none */
    sw_string_set *realms;   /* digest / Diameter realms */
    sw_string_set *tls_ids;  /* certificate subject CN / SAN values (used by sipwalld) */
    char plmn[8];            /* "MCC-MNC" of its network, "" = none */
    uint32_t cps;            /* contracted INVITEs per second; 0 = none */
    uint32_t concurrency;    /* contracted concurrent calls; 0 = none */
    uint8_t night_calls;     /* `night-calls yes`: its long calls to high-risk ranges at quiet hours are agreed */
    uint32_t methods;        /* allowed methods: bit (1u << sw_method); SW_METHOD_OTHER = extension methods */
    uint32_t agreed_methods; /* the methods its own block lists (by agreement), 0 = from its role */
    sw_string_set *registers;/* `register`: AoRs "user@domain" and domains it may register; NULL = none */
    sw_hdr_mask agreed;      /* privacy headers exchanged by agreement (not stripped) */
    uint32_t line;           /* where it was defined */
    const char *file;
    uint32_t naddresses;     /* networks given with `address` (for summaries) */
    char **agreed_names;     /* agreed headers that have no sw_hdr_id, by name */
    uint32_t nagreed_names;
} sw_peer;

/* The home network: our own number ranges and domains. */
typedef struct sw_home {
    sw_prefix_set *ranges;
    sw_string_set *domains;
    char plmn[8];
    char country_code[4];  /* E.164 country code of the national plan, e.g. "44" */
    uint8_t national_prefix; /* trunk prefix digit for national numbers ('0'); 0 = none */
} sw_home;

/* ---- lists ------------------------------------------------------------------ */
typedef enum sw_list_kind {
    SW_LIST_NUMBERS,   /* E.164 prefixes / ranges -> sw_prefix_set */
    SW_LIST_ADDRESSES, /* CIDRs -> sw_cidr_table */
    SW_LIST_STRINGS,   /* exact strings -> sw_string_set */
    SW_LIST_PATTERNS,  /* regular expressions -> pattern databases */
} sw_list_kind;

typedef struct sw_list {
    char *name;
    sw_list_kind kind;
    uint32_t index;
    uint32_t count;      /* entries */
    char **labels;       /* per entry: the second column of a list file, or NULL (for events) */
    char **entries;      /* entries as written */
    sw_prefix_set *numbers;
    sw_cidr_table *addresses;
    sw_string_set *strings;
    uint8_t anonymous;   /* an inline { … } set of a rule */
    uint32_t line;
    const char *file;
} sw_list;

/* ---- rule conditions ------------------------------------------------------------
 * A condition is a tree of nodes in sw_policy.conds (children by index). */
typedef enum sw_cond_op {
    SW_COND_TRUE,     /* always */
    SW_COND_AND,      /* a and b */
    SW_COND_OR,       /* a or b */
    SW_COND_NOT,      /* not a */
    SW_COND_IS,       /* BOOL field is true; for other types: field is present/non-empty */
    SW_COND_CMP,      /* field cmp value (num or str) */
    SW_COND_IN,       /* field in set */
    SW_COND_MATCHES,  /* field matches a pattern of list slot `slot` of the field's pattern db */
    SW_COND_HAS,      /* header `hdr` (or `name`) present */
} sw_cond_op;

typedef enum sw_cmp { SW_CMP_EQ, SW_CMP_NE, SW_CMP_LT, SW_CMP_LE, SW_CMP_GT, SW_CMP_GE } sw_cmp;

/* What `in` tests against. */
typedef enum sw_set_ref {
    SW_SET_LIST,          /* sw_policy.lists[list] (named or inline) */
    SW_SET_PEER_RANGES,   /* peer.ranges: the sending peer's number ranges */
    SW_SET_PEER_DOMAINS,
    SW_SET_PEER_REALMS,
    SW_SET_PEER_METHODS,  /* field must be METHOD */
    SW_SET_DST_RANGES,    /* dst.ranges: the receiving peer's */
    SW_SET_DST_DOMAINS,
    SW_SET_HOME_RANGES,   /* home.ranges */
    SW_SET_HOME_DOMAINS,
} sw_set_ref;

typedef struct sw_cond {
    uint8_t op;           /* sw_cond_op */
    uint8_t cmp;          /* sw_cmp for CMP */
    uint8_t set;          /* sw_set_ref for IN */
    uint8_t slot;         /* MATCHES: bit in the field's pattern db mask */
    uint16_t field;       /* sw_field */
    uint16_t hdr;         /* HAS / field HEADER: sw_hdr_id, or SW_HDR_OTHER with `name` */
    uint32_t a, b;        /* AND/OR: children; NOT: a */
    uint32_t list;        /* IN with SW_SET_LIST: index into lists */
    int64_t num;          /* CMP on NUM/BOOL fields */
    char *str;            /* CMP on STR/PHONE fields (NUL-terminated); HAS/HEADER: header name */
    size_t str_len;
    char *hdr_name;       /* HAS and field HEADER: the header name as written (always set
                           * for those; `str` holds the value of a header.NAME comparison) */
} sw_cond;

/* ---- rules ------------------------------------------------------------------ */
typedef struct sw_rule_action {
    sw_action action;        /* ALLOW, TAG, DROP, REJECT, RATE_LIMIT, STRIP */
    uint16_t status;         /* REJECT: SIP status (400..699) */
    uint32_t retry_after_s;  /* REJECT 503 (or any): Retry-After; 0 = none */
    uint32_t rate;           /* RATE_LIMIT: messages per second per source … */
    uint32_t burst;          /* … with this burst */
    int64_t block_ns;        /* also block the source for this long; 0 = no */
    sw_hdr_mask strip;       /* STRIP: headers to remove */
    char **strip_names;      /* STRIP: unknown headers by name */
    uint32_t nstrip_names;
} sw_rule_action;

typedef struct sw_rule {
    char *id;                /* "cat1.method-not-allowed" */
    sw_category category;
    sw_event_type event;     /* event_type of its events */
    uint8_t monitor;         /* mode monitor: log what it would do, change nothing */
    uint8_t confidence;      /* 0..100 */
    uint8_t events_each;     /* 1: one event per hit (still capped per source) */
    char *reason;            /* human explanation (may be NULL: generated) */
    uint32_t cond;           /* root node in sw_policy.conds */
    sw_rule_action act;
    uint32_t line;
    const char *file;
} sw_rule;

/* ---- detectors -----------------------------------------------------------------
 * Names, parameters and defaults of the behavioural detectors come from
 * include/sipwall/detect.h (the detector layer owns them); the policy only
 * records what a `detector NAME { … }` block sets. */
#include "sipwall/detect_params.h"

typedef struct sw_detector_conf {
    uint8_t enabled;       /* default 1 */
    uint8_t monitor;       /* mode monitor */
    uint8_t exempt_peers;  /* configured partners are exempt (spec FP notes) */
    uint8_t confidence;    /* base confidence of its events */
    sw_action action;      /* what a trip does to the offending traffic */
    uint16_t status;       /* REJECT status */
    uint32_t retry_after_s;
    int64_t params[SW_DP__COUNT]; /* every parameter, defaults filled in; durations in ns, ratios in percent */
    int32_t list;          /* index of the list the detector uses (e.g. irsf hot ranges), -1 none */
    uint32_t line;
} sw_detector_conf;

/* ---- privacy and topology profile ------------------------------------------------ */
typedef struct sw_privacy {
    sw_hdr_mask egress_strip;   /* removed toward untrusted peers (unless agreed) */
    sw_hdr_mask ingress_strip;  /* trust-domain headers removed when they come from untrusted peers */
    sw_hdr_mask sanitize;       /* version strings cut from these (User-Agent, Server, Warning) */
    uint8_t ingress_reject;     /* strict: reject instead of strip */
    uint8_t monitor;
    /* headers of the three lists above that have no sw_hdr_id (e.g.
     * P-Served-User, Resource-Priority), by name as written */
    char **egress_strip_names;
    uint32_t negress_strip_names;
    char **ingress_strip_names;
    uint32_t ningress_strip_names;
    char **sanitize_names;
    uint32_t nsanitize_names;
} sw_privacy;

/* ---- limits of the state an attacker can fill --------------------------------------- */
typedef struct sw_engine_limits {
    uint32_t sources;      /* per-source state entries (each detector) */
    uint32_t numbers;      /* per-number state entries (callers, callees, prefixes) */
    uint32_t dialogs;      /* tracked dialogs / transactions */
    uint32_t blocks;       /* active blocks */
    uint32_t event_keys;   /* (rule, source) pairs for event rate limiting */
    uint32_t events_per_key; /* events per (rule, source) per event_window before summarising */
    int64_t event_window_ns;
} sw_engine_limits;

/* ---- the compiled policy --------------------------------------------------------- */
typedef struct sw_policy {
    char *name;            /* policy "…" */
    char *version;
    /* SHA-256 over the text of every file the policy was read from (the
     * built-in default, includes and lists), in reading order, each
     * preceded by its length (8 bytes, big-endian): any change in what was
     * read changes it.  sipwalld names generations by it. */
    uint8_t sha256[32];
    uint8_t monitor;       /* top-level `mode monitor`: every rule, detector, zone
                            * admission and the privacy profile below are compiled
                            * monitor-only, and blocks in force are not enforced */
    sw_home home;

    sw_peer **peers;       /* partners and zones */
    uint32_t npeers;
    sw_cidr_table *peer_addresses; /* source address -> peer index (claims without a port) */
    struct sw__port_claims *peer_ports; /* address:port claims (policy-internal); NULL = none */
    sw_string_set *peer_tls_ids;   /* TLS identity -> index of the first peer claiming it; may be NULL */
    const sw_peer *unknown;  /* the zone for unknown sources (always present) */
    const sw_peer *core;     /* NULL, or the first peer with role core */

    sw_list **lists;
    uint32_t nlists;

    sw_cond *conds;
    uint32_t nconds;
    sw_rule *rules;        /* in evaluation order: allow rules first, then file order */
    uint32_t nrules;

    sw_pattern_db *patterns[SW_F__COUNT]; /* per field, NULL when no pattern uses it */

    sw_detector_conf detectors[SW_DET__COUNT];
    sw_privacy privacy;
    sw_engine_limits limits;

    char *location_feed;   /* subscriber location file (resolved path), NULL = none */
    char **files;          /* every file read (for messages and reloads) */
    uint32_t nfiles;
} sw_policy;

/* ---- loading ----------------------------------------------------------------------- */
#define SW_POLICY_MAX_DIAGS 32

typedef struct sw_policy_diag {
    char file[256];
    uint32_t line, col;   /* 1-based; 0 when not about one place */
    uint8_t warning;      /* 1: a warning (does not fail the load) */
    char msg[256];
} sw_policy_diag;

typedef struct sw_policy_diags {
    sw_policy_diag d[SW_POLICY_MAX_DIAGS];
    uint32_t n;           /* kept in d[] */
    uint32_t errors, warnings; /* totals, also beyond SW_POLICY_MAX_DIAGS */
} sw_policy_diags;

/* Reads, checks and compiles paths[0..n) as one policy (later files
 * overlay earlier ones).  A path of "builtin:default" is the shipped
 * default policy (etc/default.policy, compiled into the program).
 * Returns SW_OK and *out, or SW_EINVAL (errors in diags), SW_EIO (a file
 * could not be read; in diags), SW_ENOMEM. */
int sw_policy_load(const char *const *paths, size_t n, sw_policy **out, sw_policy_diags *diags)
    SW_WUR SW_NONNULL(1, 3, 4);
/* The same from text in memory (name is used in diagnostics; include paths
 * are relative to base_dir, which may be NULL for the working directory). */
int sw_policy_load_text(const char *name, const char *text, size_t len, const char *base_dir,
                        sw_policy **out, sw_policy_diags *diags) SW_WUR SW_NONNULL(1, 2, 5, 6);
void sw_policy_free(sw_policy *p);

/* Where the files of a policy come from when not from the file system:
 * e.g. a verified bundle in memory (include/sipwall/bundle.h; sipwalld's
 * src/daemon/bundle.c).  read is given the path as the policy names it,
 * joined to the directory of the file that names it (top-level names as
 * given), and answers SW_OK with *text (malloc'd, NUL-terminated, the
 * caller frees it) and *len, SW_ENOTFOUND when there is no such file,
 * SW_ELIMIT when it is larger than cap, or SW_ENOMEM.  Nothing is read
 * from the disk: includes, list files and the `location-feed` name all
 * resolve through the source. */
typedef struct sw_policy_source {
    void *ctx;
    int (*read)(void *ctx, const char *path, size_t cap, char **text, size_t *len);
} sw_policy_source;

/* sw_policy_load with every file read through src: names[0..n) are the
 * top-level files, overlaid in order. */
int sw_policy_load_source(const sw_policy_source *src, const char *const *names, size_t n,
                          sw_policy **out, sw_policy_diags *diags) SW_WUR SW_NONNULL(1, 2, 4, 5);

/* Reads and checks paths[0..n) as sw_policy_load does and writes the merged
 * policy (after overlays) in the policy language: one text that compiles to
 * the same policy, and that dumps to the same text again.  List files and
 * the location feed are named by absolute path.  Returns SW_OK and *text
 * (malloc'd, NUL-terminated; its length in *len, which may be NULL), or what
 * sw_policy_load would return (diagnostics in diags; *text NULL). */
int sw_policy_dump(const char *const *paths, size_t n, char **text, size_t *len,
                   sw_policy_diags *diags) SW_WUR SW_NONNULL(1, 3, 5);

/* The text of the shipped default policy. */
const char *sw_policy_default_text(size_t *len);

/* Formats one diagnostic "file:line:col: error: msg". */
int sw_policy_diag_format(const sw_policy_diag *d, char *buf, size_t len) SW_NONNULL(1, 2);

/* Scratch for the policy's pattern databases (one per thread). */
sw_pattern_scratch *sw_policy_scratch_new(const sw_policy *p) SW_WUR SW_NONNULL(1);

/* Peer lookup by source address and port: the partner or zone with the
 * most specific claim on it, or the unknown zone.  Claims are ordered by
 * prefix length (longest first); at equal length a claim with the source's
 * port (`address 192.0.2.10:5060`) beats one without.  A claim with a
 * port matches that port only. */
const sw_peer *sw_policy_peer_for(const sw_policy *p, const sw_addr *src) SW_NONNULL(1, 2);
/* The same, and *port_matters: 1 when a claim with a port covers src's
 * address (other ports of that address may belong to other peers), 0 when
 * the answer holds for every port of the address (callers may remember it
 * by address alone). */
const sw_peer *sw_policy_peer_lookup(const sw_policy *p, const sw_addr *src, int *port_matters)
    SW_NONNULL(1, 2, 3);
/* 1 when a partner (not a zone) claims src's address, with any port or
 * none (connection admission: a partner's trunk may connect from any
 * port), else 0. */
int sw_policy_partner_host(const sw_policy *p, const sw_addr *src) SW_NONNULL(1, 2);
/* The partner whose `tls` identities name this certificate identity, or NULL. */
const sw_peer *sw_policy_peer_by_tls_id(const sw_policy *p, sw_str id) SW_NONNULL(1);
/* The sending peer of a TLS connection from src whose certificate names
 * ids[0..n) (as sipwalld decides it for a live connection): the partner
 * whose tls-identity names the first of them that any partner claims;
 * when none does and the partner src's address belongs to declares
 * tls-identity values, the unknown zone (its certificate does not match);
 * else NULL: decide by the address. */
const sw_peer *sw_policy_peer_by_tls(const sw_policy *p, const sw_str *ids, unsigned n, const sw_addr *src)
    SW_NONNULL(1, 4);
const sw_peer *sw_policy_peer_by_name(const sw_policy *p, const char *name) SW_NONNULL(1, 2);
const sw_list *sw_policy_list_by_name(const sw_policy *p, const char *name) SW_NONNULL(1, 2);

/* ---- subscriber location feed (category 3) --------------------------------------------
 * What an HSS, HLR or a Diameter/SS7 firewall knows about our subscribers:
 * MSISDN or IMPU -> serving PLMN and when it was last updated.  File format
 * (TSV, '#' comments): NUMBER <TAB> MCC-MNC <TAB> RFC3339-time.  The home
 * PLMN means "attached at home".  Reloaded at run time by swapping in a new
 * sw_location_feed. */
typedef struct sw_location_feed sw_location_feed;

typedef struct sw_location {
    char plmn[8];     /* "MCC-MNC" */
    int64_t since_ns; /* last location update */
} sw_location;

int sw_location_feed_load(const char *path, sw_location_feed **out, sw_policy_diags *diags)
    SW_WUR SW_NONNULL(1, 2, 3);
/* The same from text in memory (name is used in diagnostics). */
int sw_location_feed_load_text(const char *name, const char *text, size_t len,
                               sw_location_feed **out, sw_policy_diags *diags)
    SW_WUR SW_NONNULL(1, 4, 5);
void sw_location_feed_free(sw_location_feed *f);
/* number: normalised "+<digits>" or an IMPU as written.  1 when known. */
int sw_location_lookup(const sw_location_feed *f, sw_str number, sw_location *out) SW_NONNULL(3);
size_t sw_location_feed_count(const sw_location_feed *f);

/* Great-circle distance in km between the countries of two PLMNs (by MCC;
 * country centroids), or -1 when either MCC is unknown. */
int32_t sw_plmn_distance_km(const char *plmn_a, const char *plmn_b);

#endif
