/* The rule index: which rules a message can possibly match, decided once
 * per policy from what its conditions say about the message's class.
 *
 * A message's class is (malformed or not) x (request, response, neither)
 * x the method its `method` field names (compared as the evaluator does:
 * ASCII case-insensitively; SW_METHOD_OTHER for any other text).  Some
 * condition leaves are a function of the class alone (`request`,
 * `response`, `malformed`, `method == X`, `method in {…}`, `status` of a
 * message that is not a response, which is always 0), and some are
 * constant (a list with no entries).  For every condition node the index
 * keeps two sets of classes: where the node may be true and where it must
 * be true (leaves it cannot decide: everything / nothing).  and/or/not
 * combine them soundly, so a rule whose root may not be true for a class
 * is false for every message of that class: skipping it changes nothing
 * (evaluation has no effect besides its result; lazy values are only
 * memoised).  The evaluator uses the same sets to answer a node decided
 * by the class without computing it. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

#define CLS_KINDS 3u /* request, response, neither */

static inline unsigned cls_make(unsigned malformed, unsigned kind, unsigned method)
{
    return (malformed * CLS_KINDS + kind) * SW_METHOD__COUNT + method;
}

_Static_assert(2 * CLS_KINDS * SW_METHOD__COUNT <= 128, "classes fit in two words");
_Static_assert(SW__NCLASS == 2 * CLS_KINDS * SW_METHOD__COUNT, "SW__NCLASS matches");

/* The method `name` equals under sw_str_caseeq, or SW_METHOD_OTHER. */
static sw_method method_ci(sw_str name)
{
    for (int m = 1; m < SW_METHOD__COUNT; m++) {
        const char *n = sw_method_name((sw_method)m);
        if (sw_str_caseeq(name, sw_str_make(n, strlen(n))))
            return (sw_method)m;
    }
    return SW_METHOD_OTHER;
}

unsigned sw__msg_class(const sw_facts *f)
{
    unsigned kind = f->is_request ? 0 : (f->status || f->msg) ? 1 : 2;
    /* f->method is the case-sensitive lookup of f->method_name (or OTHER):
     * a known method is already its case-insensitive class */
    unsigned m = f->method != SW_METHOD_OTHER && (unsigned)f->method < SW_METHOD__COUNT
                     ? (unsigned)f->method
                     : (unsigned)method_ci(f->method_name);
    return cls_make(f->malformed ? 1 : 0, kind, m);
}

/* ---- what a leaf is for one class: 0 false, 1 true, -1 not decided --------- */

/* A list the evaluator can never find anything in. */
static int list_empty(const sw_list *l)
{
    switch (l->kind) {
    case SW_LIST_NUMBERS: return sw_prefix_set_count(l->numbers) == 0;
    case SW_LIST_ADDRESSES: return l->count == 0 || !l->addresses;
    case SW_LIST_STRINGS: return sw_string_set_count(l->strings) == 0;
    default: return 1; /* patterns are not tested with `in` */
    }
}

static int leaf_for_class(const sw_policy *p, const sw_cond *c, unsigned malformed, unsigned kind,
                          unsigned method)
{
    int64_t num;
    switch ((sw_cond_op)c->op) {
    case SW_COND_TRUE: return 1;
    case SW_COND_HAS: return -1;
    case SW_COND_MATCHES:
        return c->field < SW_F__COUNT && p->patterns[c->field] ? -1 : 0;
    case SW_COND_IN:
        if (c->set == SW_SET_LIST) {
            if (c->list >= p->nlists || list_empty(p->lists[c->list]))
                return 0;
            const sw_list *l = p->lists[c->list];
            if (c->field == SW_F_METHOD && l->kind == SW_LIST_STRINGS && method != SW_METHOD_OTHER) {
                const char *n = sw_method_name((sw_method)method);
                return sw_string_set_lookup(l->strings, sw_str_make(n, strlen(n)), NULL) == 1;
            }
        }
        return -1;
    case SW_COND_IS:
    case SW_COND_CMP:
        break;
    default:
        return -1;
    }
    switch ((sw_field)c->field) {
    case SW_F_REQUEST: num = kind == 0; break;
    case SW_F_RESPONSE: num = kind == 1; break;
    case SW_F_MALFORMED: num = malformed; break;
    case SW_F_STATUS:
        if (kind == 1)
            return -1;
        num = 0; /* requests, and messages that are neither, carry no status */
        break;
    case SW_F_METHOD: {
        if (method == SW_METHOD_OTHER) {
            /* the text matches no method name: `method == INVITE` is false */
            if (c->op == SW_COND_CMP && c->str && method_ci(sw_str_make(c->str, c->str_len)) != SW_METHOD_OTHER)
                return c->cmp == SW_CMP_EQ ? 0 : c->cmp == SW_CMP_NE ? 1 : 0;
            return -1;
        }
        if (c->op == SW_COND_IS)
            return 1; /* a method name is never empty */
        const char *n = sw_method_name((sw_method)method);
        int eq = sw_str_caseeq(sw_str_make(n, strlen(n)),
                               sw_str_make(c->str ? c->str : "", c->str ? c->str_len : 0));
        return c->cmp == SW_CMP_EQ ? eq : c->cmp == SW_CMP_NE ? !eq : 0;
    }
    default:
        return -1;
    }
    /* BOOL and NUM fields, as sw__cond_eval reads them */
    sw_field_type t = sw_field_type_of((sw_field)c->field);
    if (c->op == SW_COND_IS)
        return t == SW_FT_BOOL ? num != 0 : num > 0;
    return sw__cmp_num(num, c->num, c->cmp);
}

/* ---- masks of the condition tree ----------------------------------------------- */

typedef struct builder {
    const sw_policy *p;
    sw__cmask *may, *must;
    uint8_t *state; /* 0 new, 1 in progress, 2 done */
} builder;

static inline void mask_set(sw__cmask *m, unsigned cls)
{
    m->w[cls >> 6] |= (uint64_t)1 << (cls & 63);
}

static const sw__cmask all_classes = {{~(uint64_t)0, ~(uint64_t)0}};
static const sw__cmask no_class = {{0, 0}};

/* Fills may/must of node (children first).  Out-of-range nodes evaluate
 * to false; a cycle (never compiled, but cheap to survive) decides nothing. */
static void node_masks(builder *b, uint32_t node, unsigned depth, sw__cmask *may, sw__cmask *must)
{
    const sw_policy *p = b->p;
    if (node >= p->nconds) {
        *may = *must = no_class;
        return;
    }
    if (b->state[node] == 2) {
        *may = b->may[node];
        *must = b->must[node];
        return;
    }
    if (b->state[node] == 1 || depth > 4096) {
        *may = all_classes;
        *must = no_class;
        return;
    }
    b->state[node] = 1;
    const sw_cond *c = &p->conds[node];
    sw__cmask ma, ua, mb, ub;
    switch ((sw_cond_op)c->op) {
    case SW_COND_AND:
        node_masks(b, c->a, depth + 1, &ma, &ua);
        node_masks(b, c->b, depth + 1, &mb, &ub);
        for (int w = 0; w < 2; w++) {
            may->w[w] = ma.w[w] & mb.w[w];
            must->w[w] = ua.w[w] & ub.w[w];
        }
        break;
    case SW_COND_OR:
        node_masks(b, c->a, depth + 1, &ma, &ua);
        node_masks(b, c->b, depth + 1, &mb, &ub);
        for (int w = 0; w < 2; w++) {
            may->w[w] = ma.w[w] | mb.w[w];
            must->w[w] = ua.w[w] | ub.w[w];
        }
        break;
    case SW_COND_NOT:
        node_masks(b, c->a, depth + 1, &ma, &ua);
        for (int w = 0; w < 2; w++) {
            may->w[w] = ~ua.w[w];
            must->w[w] = ~ma.w[w];
        }
        break;
    default:
        *may = *must = no_class;
        for (unsigned mal = 0; mal < 2; mal++)
            for (unsigned kind = 0; kind < CLS_KINDS; kind++)
                for (unsigned m = 0; m < SW_METHOD__COUNT; m++) {
                    int r = leaf_for_class(p, c, mal, kind, m);
                    unsigned cls = cls_make(mal, kind, m);
                    if (r != 0)
                        mask_set(may, cls);
                    if (r == 1)
                        mask_set(must, cls);
                }
        break;
    }
    /* classes past SW__NCLASS never occur; keep the words tidy */
    may->w[1] &= ((uint64_t)1 << (SW__NCLASS - 64)) - 1;
    must->w[1] &= ((uint64_t)1 << (SW__NCLASS - 64)) - 1;
    b->may[node] = *may;
    b->must[node] = *must;
    b->state[node] = 2;
}

/* Header ids of names (SW_HDR_OTHER for those without one, or NULL names). */
static uint16_t *name_ids(char *const *names, uint32_t n)
{
    uint16_t *ids = calloc(n ? n : 1, sizeof *ids);
    if (!ids)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        ids[i] = (uint16_t)(names[i] ? sw_hdr_lookup(names[i], strlen(names[i])) : SW_HDR_OTHER);
    return ids;
}

void sw__rindex_free(sw__rindex *x)
{
    if (!x)
        return;
    free(x->may);
    free(x->must);
    free(x->list);
    free(x->ingress_ids);
    free(x->egress_ids);
    memset(x, 0, sizeof *x);
}

int sw__rindex_build(const sw_policy *p, sw__rindex *x)
{
    memset(x, 0, sizeof *x);
    size_t nc = p->nconds ? p->nconds : 1;
    x->may = calloc(nc, sizeof *x->may);
    x->must = calloc(nc, sizeof *x->must);
    uint8_t *state = calloc(nc, 1);
    sw__cmask *root = calloc(p->nrules ? p->nrules : 1, sizeof *root);
    if (!x->may || !x->must || !state || !root)
        goto oom;
    builder b = {p, x->may, x->must, state};
    /* last first: a node's children come after it, so recursion stays shallow */
    for (uint32_t i = p->nconds; i-- > 0;) {
        sw__cmask ma, mu;
        node_masks(&b, i, 0, &ma, &mu);
    }
    size_t total = 0;
    for (uint32_t r = 0; r < p->nrules; r++) {
        sw__cmask mu;
        node_masks(&b, p->rules[r].cond, 0, &root[r], &mu);
        for (int w = 0; w < 2; w++)
            total += (size_t)__builtin_popcountll(root[r].w[w]);
    }
    x->list = malloc((total ? total : 1) * sizeof *x->list);
    if (!x->list)
        goto oom;
    /* per class, in rule order: the rules that may match it */
    size_t n = 0;
    for (unsigned cls = 0; cls < SW__NCLASS; cls++) {
        x->start[cls] = (uint32_t)n;
        for (uint32_t r = 0; r < p->nrules; r++)
            if ((root[r].w[cls >> 6] >> (cls & 63)) & 1u)
                x->list[n++] = r;
    }
    x->start[SW__NCLASS] = (uint32_t)n;
    while (x->nallow < p->nrules && p->rules[x->nallow].act.action == SW_ACTION_ALLOW)
        x->nallow++;
    x->ingress_ids = name_ids(p->privacy.ingress_strip_names, p->privacy.ningress_strip_names);
    x->egress_ids = name_ids(p->privacy.egress_strip_names, p->privacy.negress_strip_names);
    if (!x->ingress_ids || !x->egress_ids)
        goto oom;
    free(state);
    free(root);
    return SW_OK;
oom:
    free(state);
    free(root);
    sw__rindex_free(x);
    return SW_ENOMEM;
}
