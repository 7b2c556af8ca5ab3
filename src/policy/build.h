/* The policy builder: what the parser records from the text (definitions
 * by name, with their places in the files) before the compiler turns it
 * into an sw_policy.  Redefinitions from later files replace earlier ones
 * here, so the compiler sees one definition of everything. */
#ifndef SW_POLICY_BUILD_H
#define SW_POLICY_BUILD_H

#include <sodium.h>

#include "policy/policy_int.h"

typedef struct pl_loc {
    uint32_t file; /* index into pl_build.files */
    uint32_t line, col;
} pl_loc;

/* A value as written, with an optional label (list files) and its place. */
typedef struct pl_item {
    char *text;
    char *label;
    pl_loc loc;
} pl_item;

typedef struct pl_items {
    pl_item *v;
    uint32_t n, cap;
} pl_items;

typedef struct pl_home {
    int present;
    pl_loc loc;
    pl_items ranges, domains;
    char plmn[8];
    char cc[4];
    uint8_t np;
} pl_home;

typedef struct pl_role {
    int present;
    pl_loc loc;
    int has_methods, has_trust;
    uint32_t methods;
    uint8_t trusted;
} pl_role;

typedef struct pl_peer {
    char *name;
    int is_zone;
    pl_loc loc;
    int has_trust, has_methods;
    sw_peer_role role;
    uint8_t trusted;
    pl_items addresses, tls_ids, ranges, domains, realms;
    pl_items registers; /* `register`: AoRs (user@domain) or domains it may register */
    char plmn[8];
    uint32_t cps, concurrency, methods;
    uint8_t night_calls; /* `night-calls yes` */
    sw_hdr_mask agreed;
    char **agreed_names;
    uint32_t nagreed_names;
    sw_admit admit;
    uint8_t admit_monitor;
} pl_peer;

typedef struct pl_list {
    char *name;
    sw_list_kind kind;
    pl_loc loc;
    pl_items entries;
} pl_list;

typedef struct pl_detector {
    int present;
    pl_loc loc;
    sw_detector_conf conf;
    char *list_name; /* resolved by the compiler */
    pl_loc list_loc;
} pl_detector;

/* Expression nodes (the `when` of a rule), resolved by the compiler. */
typedef enum pl_xop {
    PX_AND,
    PX_OR,
    PX_NOT,
    PX_IS,
    PX_CMP,
    PX_IN,
    PX_MATCH_RE,   /* matches "regex" */
    PX_MATCH_LIST, /* matches list NAME */
    PX_CONTAINS,   /* contains "literal" */
    PX_HAS,
} pl_xop;

typedef struct pl_expr {
    uint8_t op;    /* pl_xop */
    uint8_t cmp;   /* sw_cmp */
    uint8_t set;   /* sw_set_ref for PX_IN */
    uint8_t inline_set;
    uint16_t field;
    uint16_t hdr;
    char *hdr_name; /* header.NAME / has NAME */
    int32_t a, b;
    int64_t num;
    char *str;      /* CMP value, list name, regex or literal */
    pl_items items; /* inline { … } set */
    pl_loc loc, val_loc;
} pl_expr;

typedef struct pl_rule {
    char *id;
    pl_loc loc;
    int has_category, has_action;
    /* settings the block wrote itself (an overlay of an earlier rule
     * changes only these): category, event, mode, confidence, events,
     * reason, block */
    uint8_t set_category, set_event, set_mode, set_confidence, set_events, set_reason, set_block;
    sw_category category;
    sw_event_type event;
    uint8_t monitor, confidence, events_each;
    char *reason;
    int32_t expr; /* -1: no `when` */
    sw_rule_action act;
} pl_rule;

typedef struct pl_privacy {
    int present;
    pl_loc loc;
    sw_privacy p;
} pl_privacy;

typedef struct pl_limits {
    int present;
    pl_loc loc;
    sw_engine_limits l;
} pl_limits;

typedef struct pl_build {
    sw_policy_diags *diags;
    crypto_hash_sha256_state sha; /* over every text read (sw_policy.sha256) */
    int oom;
    int io_error;

    char **files; /* every file read, as named in diagnostics */
    uint32_t nfiles, capfiles;

    char *name, *version, *location_feed;
    pl_home home;
    pl_role roles[SW_ROLE__COUNT];
    pl_peer **peers;
    uint32_t npeers, cappeers;
    pl_list **lists;
    uint32_t nlists, caplists;
    pl_detector detectors[SW_DET__COUNT];
    pl_rule **rules;
    uint32_t nrules, caprules;
    pl_expr *exprs;
    uint32_t nexprs, capexprs;
    pl_privacy privacy;
    pl_limits limits;
    /* the top-level `mode` statement: monitor makes every rule, detector,
     * zone admission, privacy profile and block monitor-only */
    int mode_present;
    uint8_t monitor;
    pl_loc mode_loc;

    /* String comparisons made to find earlier definitions by name: linear
     * in the number of definitions (tests hold the parser to it). */
    uint64_t name_compares;
    sw__name_index *peer_names, *list_names; /* -> index in peers / lists */

    /* the include stack: files being read (for cycles) */
    const char *stack[SW_POLICY_MAX_INCLUDE + 2];
    unsigned depth;

    /* NULL: files come from the disk; else every read goes through it */
    const sw_policy_source *src;
} pl_build;

/* Reads a file of the policy from b->src or the disk (regular_only for
 * the disk): SW_OK and *text, else an SW_E* code with errno set for the
 * message. */
/* Adds a text read for the policy to b->sha (its length first). */
void pl_hash_text(pl_build *b, const char *text, size_t len);
int pl_read(pl_build *b, const char *path, int regular_only, char **text, size_t *len);

/* parse.c */
void pl_build_init(pl_build *b, sw_policy_diags *diags);
void pl_build_free(pl_build *b);
uint32_t pl_add_file(pl_build *b, const char *name);
/* Parses one file's text as the next file of the policy.  dir: the
 * directory relative paths resolve against (NULL: working directory). */
void pl_parse_text(pl_build *b, uint32_t file, const char *text, size_t len, const char *dir);
void pl_error(pl_build *b, pl_loc loc, const char *fmt, ...) SW_PRINTF(3, 4);
void pl_warning(pl_build *b, pl_loc loc, const char *fmt, ...) SW_PRINTF(3, 4);
void pl_items_free(pl_items *it);
void pl_rule_action_clear(sw_rule_action *a);
void pl_names_free(char ***names, uint32_t *n);
void pl_privacy_clear(sw_privacy *p); /* frees the name lists */

/* policy.c */
/* Reads one policy file (or "builtin:default") as the next file of the
 * policy: problems go to b->diags (b->io_error for a file that cannot be
 * read). */
void pl_parse_file(pl_build *b, const char *path);

/* lint.c */
/* Whole-policy checks after every file is read: conditions naming a
 * partner, zone, role or trust value that does not exist are errors at the
 * value. */
void pl_lint(pl_build *b);
/* Checks of the compiled policy, as warnings: a policy without rules. */
void pl_lint_compiled(const sw_policy *p, sw_policy_diags *d);

/* compile.c */
int pl_compile(pl_build *b, sw_policy **out);

/* policy.c */
void sw__policy_detector_defaults(sw_detector_conf *c, sw_detector_id d);
void sw__policy_limits_defaults(sw_engine_limits *l);

#endif
