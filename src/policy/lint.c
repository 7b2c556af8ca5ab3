/* Checks of a whole policy after every file is read (pl_lint): what is
 * well-formed but cannot be what the author meant.
 *
 * Errors: a condition comparing `peer` / `dst.peer` with a name that no
 * partner or zone has, `peer.role` / `dst.role` with a name that is not a
 * role, `peer.trust` / `dst.trust` with something other than trusted or
 * untrusted (with `==`, `!=` and inline `in { … }` sets; STR fields compare
 * case-insensitively, and so does this).  Only the conditions of the rules
 * in force are checked: a rule replaced by a later file is not.
 * Warning (pl_lint_compiled, once the policy compiled): a policy without
 * any rule (builtin:default left out of the files, most likely). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/build.h"

typedef struct lint {
    pl_build *b;
    const char **names; /* partner and zone names, sorted case-insensitively */
    size_t nnames;
} lint;

static int cmp_name(const void *a, const void *b)
{
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_peer_name(const lint *l, const char *s)
{
    if (strcasecmp(s, "unknown") == 0) /* the zone exists even when not written */
        return 1;
    return l->names && bsearch(&s, l->names, l->nnames, sizeof *l->names, cmp_name) != NULL;
}

static int is_role_name(const char *s)
{
    for (int r = 0; r < SW_ROLE__COUNT; r++) /* "unknown" is the role of zones */
        if (strcasecmp(s, sw_peer_role_name((sw_peer_role)r)) == 0)
            return 1;
    return 0;
}

static int is_trust_name(const char *s)
{
    return strcasecmp(s, "trusted") == 0 || strcasecmp(s, "untrusted") == 0;
}

/* One value compared with a peer, role or trust field. */
static void check_value(lint *l, sw_field f, const char *v, pl_loc at)
{
    switch (f) {
    case SW_F_PEER:
    case SW_F_DST_PEER:
        if (!is_peer_name(l, v))
            pl_error(l->b, at, "unknown partner or zone '%.80s' in a comparison with '%s'", v,
                     sw_field_name(f));
        break;
    case SW_F_PEER_ROLE:
    case SW_F_DST_ROLE:
        if (!is_role_name(v))
            pl_error(l->b, at,
                     "unknown role '%.80s' in a comparison with '%s' (roaming, interconnect, "
                     "transit, enterprise, core; unknown for zones)",
                     v, sw_field_name(f));
        break;
    case SW_F_PEER_TRUST:
    case SW_F_DST_TRUST:
        if (!is_trust_name(v))
            pl_error(l->b, at, "unknown trust '%.80s' in a comparison with '%s' (trusted or untrusted)",
                     v, sw_field_name(f));
        break;
    default: break;
    }
}

/* Walks a condition tree; depth is bounded by the parser (MAX_NEST,
 * MAX_COND_NODES), and the walk stops at indexes that are out of range. */
static void check_expr(lint *l, int32_t ei, unsigned depth)
{
    const pl_build *b = l->b;
    if (ei < 0 || (uint32_t)ei >= b->nexprs || depth > 2048)
        return;
    const pl_expr *e = &b->exprs[ei];
    switch ((pl_xop)e->op) {
    case PX_AND:
    case PX_OR:
        check_expr(l, e->a, depth + 1);
        check_expr(l, e->b, depth + 1);
        break;
    case PX_NOT: check_expr(l, e->a, depth + 1); break;
    case PX_CMP:
        if (e->str)
            check_value(l, (sw_field)e->field, e->str, e->val_loc);
        break;
    case PX_IN:
        if (e->inline_set)
            for (uint32_t i = 0; i < e->items.n; i++)
                check_value(l, (sw_field)e->field, e->items.v[i].text, e->items.v[i].loc);
        break;
    default: break;
    }
}

void pl_lint(pl_build *b)
{
    if (b->oom)
        return;
    lint l = {.b = b};
    if (b->npeers) {
        l.names = malloc(b->npeers * sizeof *l.names);
        if (!l.names) {
            b->oom = 1;
            return;
        }
        for (uint32_t i = 0; i < b->npeers; i++)
            l.names[l.nnames++] = b->peers[i]->name;
        qsort(l.names, l.nnames, sizeof *l.names, cmp_name);
    }
    for (uint32_t i = 0; i < b->nrules; i++)
        check_expr(&l, b->rules[i]->expr, 0);
    free(l.names);
}

void pl_lint_compiled(const sw_policy *p, sw_policy_diags *d)
{
    if (p->nrules == 0)
        sw__diag_add(d, 1, p->nfiles ? p->files[0] : "", 0, 0,
                     "the policy has no rules: only admission and the detectors screen (is "
                     "builtin:default missing before this file?)");
}
