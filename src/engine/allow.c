/* Allowlists and blocks: an allowlisted source or number is never blocked.
 *
 * An allowlist is a list that an allow rule tests with `in` (not under
 * `not`): `src in list allow-sources` covers source blocks, `a` / `pai in
 * list allow-numbers` covers caller and caller-prefix blocks, `b in list`
 * callee blocks, `auth.user in list` username blocks.  The engine keeps
 * an index of them per policy (sw__allow_build): sw__block_set asks it
 * before setting a block, and sw_engine_set_policy (a reload) lifts every
 * block in force that the new policy's allowlists cover, with one event
 * per lifted block (rule policy.allowlist, docs/policy.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

static int kind_of_field(unsigned field, sw_list_kind lk, uint8_t *kind)
{
    if (field == SW_F_SRC && lk == SW_LIST_ADDRESSES)
        *kind = SW_OFFENDER_SOURCE;
    else if ((field == SW_F_A || field == SW_F_PAI) && lk == SW_LIST_NUMBERS)
        *kind = SW_OFFENDER_CALLER;
    else if (field == SW_F_B && lk == SW_LIST_NUMBERS)
        *kind = SW_OFFENDER_CALLEE;
    else if (field == SW_F_AUTH_USER && lk == SW_LIST_STRINGS)
        *kind = SW_OFFENDER_USER;
    else
        return 0;
    return 1;
}

static int ref_add(sw__allow *ax, uint32_t *cap, uint32_t list, uint32_t rule, uint8_t kind)
{
    for (uint32_t i = 0; i < ax->n; i++)
        if (ax->v[i].list == list && ax->v[i].kind == kind)
            return SW_OK; /* the same list through two rules: the first names it */
    if (ax->n == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 4;
        sw__allow_ref *v = realloc(ax->v, (size_t)ncap * sizeof *v);
        if (!v)
            return SW_ENOMEM;
        ax->v = v;
        *cap = ncap;
    }
    ax->v[ax->n++] = (sw__allow_ref){.list = list, .rule = rule, .kind = kind};
    return SW_OK;
}

/* IPv6 entries longer than /64 of an address allowlist: a source block
 * covers a whole /64, so such an entry inside it is covered too; they are
 * kept by their /64 key (sw__key_source's form) -> ref index. */
static int add_v6_hosts(sw__allow *ax, const sw_list *l, uint32_t ref)
{
    for (uint32_t i = 0; i < l->count; i++) {
        const char *t = l->entries[i];
        const char *slash = strchr(t, '/');
        char ip[SW_ADDR_STRLEN];
        size_t n = slash ? (size_t)(slash - t) : strlen(t);
        if (n >= sizeof ip || !memchr(t, ':', n))
            continue;
        if (slash && atoi(slash + 1) < 64)
            continue; /* the CIDR lookup of the /64 finds it */
        memcpy(ip, t, n);
        ip[n] = '\0';
        sw_addr a;
        if (sw_addr_parse(ip, &a) != SW_OK || a.family != 6)
            continue;
        char key[40];
        sw__key_source(&a, key);
        if (!ax->v6hosts && !(ax->v6hosts = sw_string_set_new()))
            return SW_ENOMEM;
        if (sw_string_set_add(ax->v6hosts, sw_str_make(key, strnlen(key, sizeof key)), ref) != SW_OK)
            return SW_ENOMEM;
    }
    return SW_OK;
}

int sw__allow_build(const sw_policy *p, sw__allow *ax)
{
    memset(ax, 0, sizeof *ax);
    uint32_t cap = 0;
    uint32_t *stack = NULL;
    int rc = SW_OK;
    for (uint32_t r = 0; r < p->nrules && rc == SW_OK; r++) {
        const sw_rule *ru = &p->rules[r];
        if (ru->act.action != SW_ACTION_ALLOW || ru->cond >= p->nconds)
            continue;
        if (!stack && !(stack = malloc((size_t)p->nconds * sizeof *stack))) {
            rc = SW_ENOMEM;
            break;
        }
        /* the nodes reachable through and / or (not through not); a tree,
         * so each node is pushed once and the stack holds at most nconds */
        uint32_t top = 0;
        stack[top++] = ru->cond;
        while (top && rc == SW_OK) {
            const sw_cond *c = &p->conds[stack[--top]];
            if (c->op == SW_COND_AND || c->op == SW_COND_OR) {
                if (c->a < p->nconds && top < p->nconds)
                    stack[top++] = c->a;
                if (c->b < p->nconds && top < p->nconds)
                    stack[top++] = c->b;
            } else if (c->op == SW_COND_IN && c->set == SW_SET_LIST && c->list < p->nlists) {
                const sw_list *l = p->lists[c->list];
                uint8_t kind;
                if (!kind_of_field(c->field, l->kind, &kind))
                    continue;
                rc = ref_add(ax, &cap, c->list, r, kind);
                if (rc == SW_OK && kind == SW_OFFENDER_SOURCE)
                    rc = add_v6_hosts(ax, l, ax->n - 1);
            }
        }
    }
    free(stack);
    if (rc != SW_OK)
        sw__allow_free(ax);
    return rc;
}

void sw__allow_free(sw__allow *ax)
{
    free(ax->v);
    sw_string_set_free(ax->v6hosts);
    memset(ax, 0, sizeof *ax);
}

/* The digits of a number key ("+4477009..." or all digits). */
static int key_digits(const char *id, const char **d, size_t *len)
{
    const char *p = id[0] == '+' ? id + 1 : id;
    size_t n = strnlen(p, SW_STATE_ID_MAX);
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    *d = p;
    *len = n;
    return 1;
}

/* A source key "192.0.2.7" or "2001:db8:1:2::/64" as an address. */
static int key_addr(const char *id, sw_addr *a)
{
    char ip[SW_STATE_ID_MAX];
    size_t n = strnlen(id, SW_STATE_ID_MAX - 1);
    memcpy(ip, id, n);
    ip[n] = '\0';
    char *slash = strchr(ip, '/');
    if (slash)
        *slash = '\0';
    return sw_addr_parse(ip, a) == SW_OK;
}

const sw__allow_ref *sw__allowlisted(const sw_engine *e, uint8_t kind, const char *id)
{
    const sw__allow *ax = &e->allow;
    const sw_policy *p = e->pol;
    if (!ax->n || !id[0])
        return NULL;
    uint8_t want = kind == SW_OFFENDER_CALLER_PREFIX || kind == SW_OFFENDER_CALLER_RANGE ? SW_OFFENDER_CALLER
                   : kind == SW_OFFENDER_CALLEE_RANGE                                   ? SW_OFFENDER_CALLEE
                                                                                       : kind;
    sw_addr a;
    int have_addr = kind == SW_OFFENDER_SOURCE && key_addr(id, &a);
    const char *d = NULL;
    size_t dl = 0;
    int have_digits = (want == SW_OFFENDER_CALLER || want == SW_OFFENDER_CALLEE) && key_digits(id, &d, &dl);
    for (uint32_t i = 0; i < ax->n; i++) {
        const sw__allow_ref *r = &ax->v[i];
        if (r->kind != want)
            continue;
        const sw_list *l = p->lists[r->list];
        switch (kind) {
        case SW_OFFENDER_SOURCE:
            if (have_addr && l->addresses && sw_cidr_table_lookup(l->addresses, &a, NULL) == 1)
                return r;
            break;
        case SW_OFFENDER_CALLER:
        case SW_OFFENDER_CALLEE:
            if (have_digits && l->numbers && sw_prefix_set_lookup(l->numbers, d, dl, NULL) > 0)
                return r;
            break;
        case SW_OFFENDER_CALLER_PREFIX:
        case SW_OFFENDER_CALLER_RANGE:
        case SW_OFFENDER_CALLEE_RANGE:
            /* a range that overlaps an allowlisted one is never blocked */
            if (have_digits && sw_prefix_set_overlaps(l->numbers, d, dl))
                return r;
            break;
        case SW_OFFENDER_USER:
            if (l->strings &&
                sw_string_set_lookup(l->strings, sw_str_make(id, strnlen(id, SW_STATE_ID_MAX)), NULL) == 1)
                return r;
            break;
        default:
            break;
        }
    }
    uint32_t ref;
    if (kind == SW_OFFENDER_SOURCE && have_addr && a.family == 6 && ax->v6hosts &&
        sw_string_set_lookup(ax->v6hosts, sw_str_make(id, strnlen(id, SW_STATE_ID_MAX)), &ref) == 1 &&
        ref < ax->n)
        return &ax->v[ref];
    return NULL;
}

int sw_engine_allowlisted(const sw_engine *e, uint8_t kind, const char *key, char *why, size_t whylen)
{
    char id[SW_STATE_ID_MAX];
    memset(id, 0, sizeof id);
    memcpy(id, key, strnlen(key, SW_STATE_ID_MAX - 1));
    const sw__allow_ref *r = sw__allowlisted(e, kind, id);
    if (!r)
        return 0;
    if (why && whylen)
        snprintf(why, whylen, "%s", e->pol->lists[r->list]->name);
    return 1;
}

/* ---- lifting blocks after a reload ------------------------------------------------- */
typedef struct lift_ctx {
    const sw_engine *e;
    sw_state_block *v;
    uint32_t *ref;
    uint32_t n, cap;
    int oom;
} lift_ctx;

static void lift_collect(void *ctx, sw_state_block *b)
{
    lift_ctx *c = ctx;
    if (!b->active || c->oom)
        return;
    const sw__allow_ref *r = sw__allowlisted(c->e, b->kind, b->id);
    if (!r)
        return;
    if (c->n == c->cap) {
        uint32_t ncap = c->cap ? c->cap * 2 : 16;
        sw_state_block *v = realloc(c->v, (size_t)ncap * sizeof *v);
        uint32_t *rf = v ? realloc(c->ref, (size_t)ncap * sizeof *rf) : NULL;
        if (v)
            c->v = v;
        if (!v || !rf) {
            c->oom = 1;
            return;
        }
        c->ref = rf;
        c->cap = ncap;
    }
    c->v[c->n] = *b;
    c->ref[c->n++] = (uint32_t)(r - c->e->allow.v);
}

static const char *kind_word(uint8_t kind)
{
    switch (kind) {
    case SW_OFFENDER_SOURCE: return "source";
    case SW_OFFENDER_CALLER: return "calling number";
    case SW_OFFENDER_CALLER_PREFIX: return "calling-number prefix";
    case SW_OFFENDER_CALLEE: return "called number";
    case SW_OFFENDER_USER: return "username";
    case SW_OFFENDER_CALLER_RANGE: return "calling-number range";
    case SW_OFFENDER_CALLEE_RANGE: return "called-number range";
    default: return "offender";
    }
}

static void lift_event(sw_engine *e, const sw_state_block *b, const sw__allow_ref *r, int64_t now)
{
    const sw_policy *p = e->pol;
    const sw_list *l = p->lists[r->list];
    const sw_rule *ru = &p->rules[r->rule];
    sw_event *ev = &e->ev;
    sw_event_init(ev, b->type, b->category, "policy.allowlist");
    ev->ts_ns = now;
    ev->action = SW_ACTION_ALLOW;
    ev->confidence = 100;
    ev->src = b->src;
    ev->dst = b->dst;
    ev->transport = b->transport;
    size_t idn = strnlen(b->id, sizeof b->id);
    size_t rn = strnlen(b->rule, sizeof b->rule);
    int k = snprintf(e->reason, sizeof e->reason,
                     "block lifted: %s %.*s (blocked by %.*s) is on allowlist %s (rule %s); an "
                     "allowlisted source or number is never blocked",
                     kind_word(b->kind), (int)idn, b->id, (int)rn, b->rule, l->name, ru->id);
    size_t n = k < 0 ? 0 : (size_t)k < sizeof e->reason ? (size_t)k : sizeof e->reason - 1;
    ev->reason = sw_str_make(e->reason, n);
    (void)sw_event_add_str(ev, "offender", sw_str_make(b->id, idn));
    (void)sw_event_add_str(ev, "allowlist", sw_str_make(l->name, strlen(l->name)));
    (void)sw_event_add_str(ev, "allow_rule", sw_str_make(ru->id, strlen(ru->id)));
    (void)sw_event_add_str(ev, "lifted_rule", sw_str_make(b->rule, rn));
    (void)sw_event_add_num(ev, "suppressed", (int64_t)b->suppressed);
    (void)sw_event_add_num(ev, "until_ms", b->until / 1000000);
    sw__event_emit(e, ev);
}

uint32_t sw__allow_lift(sw_engine *e)
{
    if (!e->allow.n || !atomic_load_explicit(&e->block_kinds[SW_STATE_KIND_ALL], memory_order_relaxed))
        return 0;
    /* collected first: the store's walk holds its lock, removal takes it */
    lift_ctx c = {.e = e};
    sw_state_block_foreach(e->state, lift_collect, &c);
    uint32_t lifted = 0;
    for (uint32_t i = 0; i < c.n; i++) {
        const sw_state_block *b = &c.v[i];
        /* another engine sharing the store may have lifted it already:
         * only the one whose removal succeeds reports it */
        if (sw_state_block_remove(e->state, b->kind, b->id) != SW_OK)
            continue;
        lifted++;
        int64_t now = e->now > b->since ? e->now : b->last > b->since ? b->last : b->since;
        lift_event(e, b, &e->allow.v[c.ref[i]], now);
    }
    free(c.v);
    free(c.ref);
    e->st.blocks_lifted += lifted;
    return lifted;
}
