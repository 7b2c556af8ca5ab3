/* Pattern databases (Hyperscan, block mode).  Every pattern of every list
 * used on one message field goes into one database; a pattern's id is its
 * list's slot, so one scan answers for all lists at once.  SINGLEMATCH
 * reports each id at most once, and the scan stops as soon as every slot
 * has matched. */
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

struct sw_pattern_db {
    hs_database_t *db;
    uint64_t all;     /* every slot present in the database */
    size_t npatterns;
};

struct sw_pattern_scratch {
    hs_scratch_t *s;
};

#define PATTERN_FLAGS (HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY)

int sw__pattern_db_build(const sw_pattern_src *pats, size_t n, sw_pattern_db **out, int *bad,
                         char *msg, size_t msglen)
{
    *out = NULL;
    *bad = -1;
    if (msglen)
        msg[0] = '\0';
    if (n == 0 || n > UINT32_MAX) {
        snprintf(msg, msglen, "no patterns");
        return SW_EINVAL;
    }
    const char **exprs = calloc(n, sizeof *exprs);
    unsigned *flags = calloc(n, sizeof *flags);
    unsigned *ids = calloc(n, sizeof *ids);
    sw_pattern_db *db = calloc(1, sizeof *db);
    if (!exprs || !flags || !ids || !db) {
        free(exprs);
        free(flags);
        free(ids);
        free(db);
        return SW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        exprs[i] = pats[i].expr;
        flags[i] = PATTERN_FLAGS;
        ids[i] = pats[i].slot & 63u;
        db->all |= (uint64_t)1 << (pats[i].slot & 63u);
    }
    hs_compile_error_t *err = NULL;
    hs_error_t rc = hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL,
                                     &db->db, &err);
    free(exprs);
    free(flags);
    free(ids);
    if (rc != HS_SUCCESS) {
        if (err) {
            *bad = err->expression;
            snprintf(msg, msglen, "%s", err->message ? err->message : "compile error");
            hs_free_compile_error(err);
        } else {
            snprintf(msg, msglen, "Hyperscan error %d", (int)rc);
        }
        free(db);
        return rc == HS_NOMEM ? SW_ENOMEM : SW_EINVAL;
    }
    db->npatterns = n;
    *out = db;
    return SW_OK;
}

void sw__pattern_db_free(sw_pattern_db *db)
{
    if (!db)
        return;
    hs_free_database(db->db);
    free(db);
}

size_t sw__pattern_db_patterns(const sw_pattern_db *db)
{
    return db ? db->npatterns : 0;
}

int sw__pattern_check(const char *expr, char *msg, size_t msglen)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    if (msglen)
        msg[0] = '\0';
    if (hs_expression_info(expr, PATTERN_FLAGS, &info, &err) != HS_SUCCESS) {
        snprintf(msg, msglen, "%s", err && err->message ? err->message : "invalid pattern");
        hs_free_compile_error(err);
        return SW_EINVAL;
    }
    free(info); /* allocated with the default (malloc) allocator */
    return SW_OK;
}

sw_pattern_scratch *sw__pattern_scratch_new(void)
{
    return calloc(1, sizeof(sw_pattern_scratch));
}

int sw__pattern_scratch_grow(sw_pattern_scratch *s, const sw_pattern_db *db)
{
    if (!db)
        return SW_OK;
    hs_error_t rc = hs_alloc_scratch(db->db, &s->s);
    if (rc == HS_SUCCESS)
        return SW_OK;
    return rc == HS_NOMEM ? SW_ENOMEM : SW_EINVAL;
}

void sw_pattern_scratch_free(sw_pattern_scratch *s)
{
    if (!s)
        return;
    if (s->s)
        hs_free_scratch(s->s);
    free(s);
}

typedef struct scan_ctx {
    uint64_t mask, all;
} scan_ctx;

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    scan_ctx *c = ctx;
    c->mask |= (uint64_t)1 << (id & 63u);
    return c->mask == c->all; /* nonzero stops the scan: nothing left to learn */
}

uint64_t sw_pattern_db_scan(const sw_pattern_db *db, sw_pattern_scratch *s, sw_str text)
{
    if (!db->db || !s->s)
        return 0;
    if (text.len > UINT32_MAX)
        text.len = UINT32_MAX;
    scan_ctx c = {0, db->all};
    static const char empty[1] = "";
    /* Hyperscan wants a pointer even for empty text */
    hs_scan(db->db, text.ptr ? text.ptr : empty, (unsigned)text.len, 0, s->s, on_match, &c);
    return c.mask;
}

char *sw__pattern_escape_literal(const char *lit, size_t len)
{
    if (len > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)lit[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}
