/* Internal interfaces of the policy layer (src/policy/): pattern database
 * building, number-entry parsing and the diagnostics helper shared by the
 * parser, the compiler and the location feed. */
#ifndef SW_POLICY_INT_H
#define SW_POLICY_INT_H

#include <stdarg.h>

#include "sipwall/policy.h"

#define SW_POLICY_MAX_FILE (16u << 20) /* bytes of one policy or list file */
#define SW_POLICY_MAX_LINE 8192u       /* bytes of one line */
#define SW_POLICY_MAX_INCLUDE 8        /* include depth */
#define SW_PATTERN_MAX_SLOTS 64        /* pattern lists per field */
#define SW_E164_MAX_DIGITS 20
#define SW_POLICY_MAX_PEERS (1u << 20) /* partners and zones of one policy */

/* ---- diagnostics ---------------------------------------------------------- */
void sw__diag_add(sw_policy_diags *d, int warning, const char *file, uint32_t line, uint32_t col,
                  const char *fmt, ...) SW_PRINTF(6, 7);
void sw__diag_vadd(sw_policy_diags *d, int warning, const char *file, uint32_t line,
                   uint32_t col, const char *fmt, va_list ap) SW_PRINTF(6, 0);

/* ---- pattern databases ------------------------------------------------------ */
/* One pattern to compile: a PCRE-style expression and the slot it reports. */
typedef struct sw_pattern_src {
    const char *expr;   /* NUL-terminated */
    unsigned slot;      /* 0..63 */
} sw_pattern_src;

/* Compiles pats[0..n) into one block-mode database (caseless, single
 * match).  On a compile error returns SW_EINVAL, the index of the bad
 * pattern in *bad (or -1 when it is not about one pattern) and Hyperscan's
 * message in msg. */
int sw__pattern_db_build(const sw_pattern_src *pats, size_t n, sw_pattern_db **out, int *bad,
                         char *msg, size_t msglen) SW_WUR;
void sw__pattern_db_free(sw_pattern_db *db);
/* Checks one expression without building a database (syntax, support). */
int sw__pattern_check(const char *expr, char *msg, size_t msglen) SW_WUR;
/* An empty scratch; grow it for each database it will scan with. */
sw_pattern_scratch *sw__pattern_scratch_new(void);
int sw__pattern_scratch_grow(sw_pattern_scratch *s, const sw_pattern_db *db) SW_WUR;
/* The literal as an expression: every byte that is not a letter or digit
 * becomes \xHH, so regex metacharacters lose their meaning.  malloc'd. */
char *sw__pattern_escape_literal(const char *lit, size_t len);
size_t sw__pattern_db_patterns(const sw_pattern_db *db);

/* ---- CIDR ------------------------------------------------------------------------ */
/* Adds the network unless exactly that network is already in the table:
 * then returns 1 with its value in *prev (nothing changed); else 0 or an error. */
int sw__cidr_table_add_unique(sw_cidr_table *t, const sw_addr *net, unsigned bits,
                              uint32_t value, uint32_t *prev) SW_WUR;

/* sw_cidr_table_lookup that also says how long the matching network is
 * (bits may be NULL). */
int sw__cidr_table_lookup_bits(const sw_cidr_table *t, const sw_addr *addr, uint32_t *value,
                               unsigned *bits);
/* A peer's `address` value: an address or CIDR as sw_cidr_parse takes it,
 * optionally with a port: "192.0.2.10:5060", "192.0.2.0/28:5060",
 * "[2001:db8::1]:5061", "[2001:db8::/48]:5061" ("[2001:db8::1]" alone is
 * fine too; an IPv6 address without brackets has no port).  *port = 0 when
 * none.  SW_OK, SW_ERANGE (host bits beyond the prefix), SW_EINVAL. */
int sw__peer_addr_parse(const char *text, sw_addr *net, unsigned *bits, uint16_t *port) SW_WUR;

/* A policy's address:port claims (sw_policy.peer_ports): per claimed port
 * a CIDR table of the networks claimed with that port (-> peer index),
 * found by an open-addressing hash on the port; and `hosts`, every network
 * claimed with some port -> 1 when a partner (not a zone) claims it or a
 * network around it with some port, else 0. */
struct sw__port_claims {
    uint32_t mask;           /* hash slots - 1 (a power of two minus one) */
    uint16_t *key;           /* per slot: the port, 0 = empty */
    uint32_t *table;         /* per slot: index into tables */
    sw_cidr_table **tables;
    uint32_t ntables;
    sw_cidr_table *hosts;
};

void sw__port_claims_free(struct sw__port_claims *pc);

/* ---- numbers ------------------------------------------------------------------ */
/* Parses a numbers-list entry: "+4477009" (prefix) or "+447700900000-+447700900999"
 * (range; '+' optional on both ends).  Fills the digits (no '+') and
 * returns 1 for a prefix, 2 for a range, or 0 with a reason. */
int sw__number_entry_parse(const char *text, char lo[SW_E164_MAX_DIGITS + 1],
                           char hi[SW_E164_MAX_DIGITS + 1], size_t *len, const char **why);
/* Adds a parsed entry to a prefix set. */
int sw__number_entry_add(sw_prefix_set *s, const char *text, uint32_t value) SW_WUR;

/* ---- names ------------------------------------------------------------------------ */
/* Case-sensitive map from a definition's name to its index, so that a
 * policy with n definitions costs O(n) lookups, not a scan each.  Names
 * are not copied: each must stay valid while it is in the index (put the
 * replacement's name before freeing the old one).  compares (may be NULL)
 * counts the string comparisons made, for tests. */
typedef struct sw__name_index sw__name_index;
sw__name_index *sw__name_index_new(uint64_t *compares);
void sw__name_index_free(sw__name_index *x);
/* 1 and *value when name is in the index, else 0 (x may be NULL: empty). */
int sw__name_index_get(const sw__name_index *x, const char *name, uint32_t *value);
/* Sets name -> value (adds it, or replaces the value and the name pointer
 * of an equal name).  SW_OK or SW_ENOMEM. */
int sw__name_index_put(sw__name_index *x, const char *name, uint32_t value) SW_WUR;

/* ---- durations and small helpers -------------------------------------------- */
/* "250ms" "10s" "5m" "1h" "3d" -> ns.  0 on success, -1 when malformed. */
int sw__parse_duration(const char *text, int64_t *ns);
/* Non-negative decimal integer up to max.  0 on success, -1 when malformed. */
int sw__parse_uint(const char *text, uint64_t max, uint64_t *out);
/* "MCC-MNC": 3 digits, '-', 2 or 3 digits. */
int sw__plmn_valid(const char *text);

/* File reading with a size cap: SW_OK, SW_EIO (errno kept), SW_ELIMIT, SW_ENOMEM.
 * regular_only: refuse anything but a regular file (EINVAL: no devices or
 * FIFOs behind an include or a list file, which could block or never end). */
int sw__read_file_capped(const char *path, size_t cap, int regular_only, char **out,
                         size_t *len) SW_WUR;
/* dir of `path` joined with `rel` (rel unchanged when absolute or dir is
 * empty).  malloc'd. */
char *sw__path_join_dir(const char *base_dir, const char *rel);
char *sw__dirname(const char *path);

#endif
