/* The policy compiler: resolves names, checks what needs the whole policy
 * (list references, field/set types, address conflicts, patterns) and
 * builds the immutable sw_policy with its matchers.  Diagnostics point at
 * the place in the files the problem comes from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/build.h"
#include "sipwall/table.h" /* sw_hash64: sw_peer.name_fp */


/* sw_peer.name_fp: 16 bits of a hash of the name, never 0 or 0xffff */
static uint16_t name_fp(const char *name)
{
    uint16_t fp = name ? (uint16_t)(sw_hash64(name, strlen(name), 0x5357706565726670ull) >> 48) : 1;
    return fp == 0 || fp == 0xffff ? 1 : fp;
}

typedef struct cctx {
    pl_build *b;
    sw_policy *p;
    uint32_t caplists, capconds;
    pl_loc *list_loc;     /* per list: where it was defined */
    pl_loc **entry_loc;   /* per list, per entry: where it was written */
    uint32_t capmeta;
    uint32_t slot_list[SW_F__COUNT][SW_PATTERN_MAX_SLOTS]; /* field, slot -> list index */
    uint8_t nslots[SW_F__COUNT];
    uint32_t anon; /* inline sets made so far (for their names) */
} cctx;

/* ---- national-format numbers ------------------------------------------------------
 * The policy's numbers are E.164 ('+' optional).  A number that starts with
 * 0 cannot be one (no country code starts with 0): "00…" is the
 * international access prefix and is dropped; "0…" is national format and
 * becomes +CC… when the home block says how (country-code, national-prefix
 * 0), as the engine normalises the numbers of messages; otherwise it is an
 * error at its place, since it would never equal a normalised number. */
static int national_part(cctx *cc, const char *t, size_t n, pl_loc at, const char *whole, char *out,
                         size_t cap, size_t *w)
{
    const sw_home *h = &cc->p->home;
    size_t cl = strnlen(h->country_code, sizeof h->country_code);
    const char *d = t;
    size_t dn = n;
    if (d[0] == '+' || d[0] != '0' || dn < 2) {
        cl = 0; /* as written */
    } else if (d[1] == '0') {
        d += 2; /* 00: the international access prefix */
        dn -= 2;
        cl = 0;
    } else if (h->national_prefix == '0' && cl) {
        d += 1;
        dn -= 1;
    } else {
        pl_error(cc->b, at,
                 "national-format number '%.80s' that the home block cannot normalise (it needs "
                 "country-code and national-prefix 0); write it in E.164, +CC…",
                 whole);
        return -1;
    }
    if (*w + 1 + cl + dn + 1 > cap)
        return -1;
    if (d != t)
        out[(*w)++] = '+';
    memcpy(out + *w, h->country_code, cl);
    *w += cl;
    memcpy(out + *w, d, dn);
    *w += dn;
    out[*w] = '\0';
    return 0;
}

/* text as the tries and comparisons take it (buf when rewritten), or NULL
 * after an error.  Ranges "lo-hi" are taken end by end. */
static const char *phone_text(cctx *cc, const char *text, pl_loc at, char *buf, size_t cap)
{
    if (!strchr(text, '0') || (text[0] != '0' && !strstr(text, "-0")))
        return text;
    for (const char *q = text; *q; q++)
        if (!((*q >= '0' && *q <= '9') || *q == '+' || *q == '-'))
            return text; /* not a number: compared as written */
    size_t w = 0;
    buf[0] = '\0';
    const char *dash = strchr(text, '-');
    size_t n1 = dash ? (size_t)(dash - text) : strlen(text);
    if (n1 == 0 || national_part(cc, text, n1, at, text, buf, cap, &w) != 0)
        return n1 == 0 ? text : NULL;
    if (dash) {
        if (w + 2 > cap)
            return NULL;
        buf[w++] = '-';
        buf[w] = '\0';
        if (!dash[1] || national_part(cc, dash + 1, strlen(dash + 1), at, text, buf, cap, &w) != 0)
            return dash[1] ? NULL : text;
    }
    return buf;
}

static const char *const kind_names[] = {"numbers", "addresses", "strings", "patterns"};

static const char *type_desc(sw_field_type t)
{
    switch (t) {
    case SW_FT_BOOL: return "true/false";
    case SW_FT_NUM: return "a number";
    case SW_FT_STR: return "text";
    case SW_FT_PHONE: return "a phone number";
    case SW_FT_ADDR: return "an address";
    }
    return "?";
}

static char *dup_or_oom(cctx *cc, const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        cc->b->oom = 1;
    return d;
}

/* ---- lists ------------------------------------------------------------------------- */
/* Adds a list built from items; returns its index or -1. */
static int64_t add_list(cctx *cc, const char *name, sw_list_kind kind, int anonymous,
                        const pl_items *items, pl_loc at, char **exprs_override)
{
    pl_build *b = cc->b;
    sw_policy *p = cc->p;
    if (p->nlists == cc->caplists) {
        uint32_t ncap = cc->caplists ? cc->caplists * 2 : 16;
        sw_list **v = realloc(p->lists, ncap * sizeof *v);
        pl_loc *ll = realloc(cc->list_loc, ncap * sizeof *ll);
        if (ll)
            cc->list_loc = ll;
        pl_loc **el = realloc(cc->entry_loc, ncap * sizeof *el);
        if (el)
            cc->entry_loc = el;
        if (!v || !ll || !el) {
            if (v)
                p->lists = v;
            b->oom = 1;
            return -1;
        }
        p->lists = v;
        cc->caplists = ncap;
    }
    sw_list *l = calloc(1, sizeof *l);
    if (!l) {
        b->oom = 1;
        return -1;
    }
    uint32_t idx = p->nlists;
    p->lists[p->nlists++] = l;
    cc->list_loc[idx] = at;
    cc->entry_loc[idx] = NULL;
    l->name = dup_or_oom(cc, name);
    l->kind = kind;
    l->index = idx;
    l->anonymous = (uint8_t)anonymous;
    l->line = at.line;
    l->file = at.file < p->nfiles ? p->files[at.file] : "";
    uint32_t n = items->n;
    l->entries = calloc(n ? n : 1, sizeof *l->entries);
    l->labels = calloc(n ? n : 1, sizeof *l->labels);
    cc->entry_loc[idx] = calloc(n ? n : 1, sizeof(pl_loc));
    if (!l->name || !l->entries || !l->labels || !cc->entry_loc[idx]) {
        b->oom = 1;
        return -1;
    }
    switch (kind) {
    case SW_LIST_NUMBERS: l->numbers = sw_prefix_set_new(); break;
    case SW_LIST_ADDRESSES: l->addresses = sw_cidr_table_new(); break;
    case SW_LIST_STRINGS: l->strings = sw_string_set_new(); break;
    case SW_LIST_PATTERNS: break;
    }
    if ((kind == SW_LIST_NUMBERS && !l->numbers) || (kind == SW_LIST_ADDRESSES && !l->addresses) ||
        (kind == SW_LIST_STRINGS && !l->strings)) {
        b->oom = 1;
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        const pl_item *it = &items->v[i];
        const char *text = exprs_override ? exprs_override[i] : it->text;
        l->entries[i] = dup_or_oom(cc, text);
        if (exprs_override)
            l->labels[i] = dup_or_oom(cc, it->text); /* contains: the literal as written */
        else if (it->label)
            l->labels[i] = dup_or_oom(cc, it->label);
        l->count = i + 1;
        cc->entry_loc[idx][i] = it->loc;
        if (b->oom)
            return -1;
        int rc = SW_OK;
        switch (kind) {
        case SW_LIST_NUMBERS: {
            char nb[2 * SW_E164_MAX_DIGITS + 8];
            const char *t = phone_text(cc, text, it->loc, nb, sizeof nb);
            if (!t)
                break; /* said why */
            rc = sw__number_entry_add(l->numbers, t, i);
            if (rc == SW_EINVAL)
                pl_error(b, it->loc, "bad E.164 number or range '%.80s'", text);
            break;
        }
        case SW_LIST_ADDRESSES: {
            sw_addr a;
            unsigned bits;
            rc = sw_cidr_parse(text, &a, &bits);
            if (rc == SW_OK)
                rc = sw_cidr_table_add(l->addresses, &a, bits, i);
            else
                pl_error(b, it->loc, "bad address '%.80s': %s", text,
                         rc == SW_ERANGE ? "host bits set beyond the prefix length"
                                         : "not an IPv4/IPv6 address or CIDR");
            break;
        }
        case SW_LIST_STRINGS:
            rc = sw_string_set_add(l->strings, sw_str_make(text, strlen(text)), i);
            break;
        case SW_LIST_PATTERNS: {
            char msg[200];
            if (sw__pattern_check(text, msg, sizeof msg) != SW_OK)
                pl_error(b, it->loc, "bad pattern \"%.80s\": %s", it->text, msg);
            break;
        }
        }
        if (rc == SW_ENOMEM)
            b->oom = 1;
    }
    return idx;
}

static int64_t find_list(cctx *cc, const char *name)
{
    for (uint32_t i = 0; i < cc->p->nlists; i++)
        if (!cc->p->lists[i]->anonymous && strcmp(cc->p->lists[i]->name, name) == 0)
            return i;
    return -1;
}

/* ---- conditions ------------------------------------------------------------------------ */
static int64_t new_cond(cctx *cc)
{
    sw_policy *p = cc->p;
    if (p->nconds == cc->capconds) {
        uint32_t ncap = cc->capconds ? cc->capconds * 2 : 64;
        sw_cond *v = realloc(p->conds, ncap * sizeof *v);
        if (!v) {
            cc->b->oom = 1;
            return -1;
        }
        p->conds = v;
        cc->capconds = ncap;
    }
    memset(&p->conds[p->nconds], 0, sizeof(sw_cond));
    return p->nconds++;
}

static int pattern_slot(cctx *cc, sw_field f, uint32_t list, pl_loc at, uint8_t *slot)
{
    for (unsigned s = 0; s < cc->nslots[f]; s++)
        if (cc->slot_list[f][s] == list) {
            *slot = (uint8_t)s;
            return 0;
        }
    if (cc->nslots[f] >= SW_PATTERN_MAX_SLOTS) {
        pl_error(cc->b, at, "more than %d pattern lists are used on field '%s'",
                 SW_PATTERN_MAX_SLOTS, sw_field_name(f));
        return -1;
    }
    *slot = cc->nslots[f];
    cc->slot_list[f][cc->nslots[f]++] = list;
    return 0;
}

/* Inline sets and single patterns become anonymous lists named after the rule. */
static void anon_name(cctx *cc, const pl_rule *r, char *buf, size_t len)
{
    snprintf(buf, len, "%s#%u", r->id, ++cc->anon);
}

static int check_set(cctx *cc, const pl_expr *e, sw_field f, sw_cond *c)
{
    pl_build *b = cc->b;
    sw_field_type ft = sw_field_type_of(f);
    const char *fname = f == SW_F_HEADER ? "header" : sw_field_name(f);
    switch ((sw_set_ref)e->set) {
    case SW_SET_PEER_RANGES:
    case SW_SET_DST_RANGES:
    case SW_SET_HOME_RANGES:
        if (ft != SW_FT_PHONE) {
            pl_error(b, e->val_loc,
                     "type mismatch: '%s' is %s, but number ranges need a phone-number field "
                     "(a, b, pai)",
                     fname, type_desc(ft));
            return -1;
        }
        return 0;
    case SW_SET_PEER_DOMAINS:
    case SW_SET_PEER_REALMS:
    case SW_SET_DST_DOMAINS:
    case SW_SET_HOME_DOMAINS:
        if (ft != SW_FT_STR) {
            pl_error(b, e->val_loc, "type mismatch: '%s' is %s, but domains need a text field",
                     fname, type_desc(ft));
            return -1;
        }
        return 0;
    case SW_SET_PEER_METHODS:
        if (f != SW_F_METHOD) {
            pl_error(b, e->val_loc, "type mismatch: peer.methods can only test 'method'");
            return -1;
        }
        return 0;
    case SW_SET_LIST:
        break;
    }
    (void)c;
    return 0;
}

static int list_fits(cctx *cc, const pl_expr *e, sw_field f, const sw_list *l)
{
    sw_field_type ft = sw_field_type_of(f);
    const char *fname = f == SW_F_HEADER ? "header" : sw_field_name(f);
    sw_field_type want;
    switch (l->kind) {
    case SW_LIST_NUMBERS: want = SW_FT_PHONE; break;
    case SW_LIST_ADDRESSES: want = SW_FT_ADDR; break;
    case SW_LIST_STRINGS: want = SW_FT_STR; break;
    case SW_LIST_PATTERNS:
    default:
        pl_error(cc->b, e->val_loc, "'%s' is a patterns list: use '%s matches list %s'", l->name,
                 fname, l->name);
        return -1;
    }
    if (ft != want) {
        pl_error(cc->b, e->val_loc, "type mismatch: '%s' is %s, but list '%s' holds %s", fname,
                 type_desc(ft), l->name, kind_names[l->kind]);
        return -1;
    }
    return 0;
}

static int64_t compile_expr(cctx *cc, const pl_rule *r, int32_t ei)
{
    pl_build *b = cc->b;
    if (ei < 0 || (uint32_t)ei >= b->nexprs)
        return -1;
    const pl_expr *e = &b->exprs[ei];
    int64_t ci = new_cond(cc);
    if (ci < 0)
        return -1;
    sw_field f = (sw_field)e->field;
    int64_t a, c2;
#define C (cc->p->conds[ci]) /* re-read: nested calls may move the array */
    switch ((pl_xop)e->op) {
    case PX_AND:
    case PX_OR:
        C.op = e->op == PX_AND ? SW_COND_AND : SW_COND_OR;
        a = compile_expr(cc, r, e->a);
        c2 = compile_expr(cc, r, e->b);
        if (a < 0 || c2 < 0)
            return -1;
        C.a = (uint32_t)a;
        C.b = (uint32_t)c2;
        return ci;
    case PX_NOT:
        C.op = SW_COND_NOT;
        a = compile_expr(cc, r, e->a);
        if (a < 0)
            return -1;
        C.a = (uint32_t)a;
        return ci;
    case PX_HAS:
        C.op = SW_COND_HAS;
        C.hdr = e->hdr;
        C.str = dup_or_oom(cc, e->hdr_name);
        C.hdr_name = dup_or_oom(cc, e->hdr_name);
        C.str_len = C.str ? strlen(C.str) : 0;
        return b->oom ? -1 : ci;
    default:
        break;
    }
    C.field = (uint16_t)f;
    if (f == SW_F_HEADER) {
        C.hdr = e->hdr;
        C.hdr_name = dup_or_oom(cc, e->hdr_name);
    }
    switch ((pl_xop)e->op) {
    case PX_IS:
        C.op = SW_COND_IS;
        if (f == SW_F_HEADER) {
            C.str = dup_or_oom(cc, e->hdr_name);
            C.str_len = C.str ? strlen(C.str) : 0;
        }
        break;
    case PX_CMP:
        C.op = SW_COND_CMP;
        C.cmp = e->cmp;
        C.num = e->num;
        if (e->str && sw_field_type_of(f) == SW_FT_PHONE) {
            char nb[2 * SW_E164_MAX_DIGITS + 8];
            const char *t = strlen(e->str) <= SW_E164_MAX_DIGITS + 2
                                ? phone_text(cc, e->str, e->val_loc, nb, sizeof nb)
                                : e->str;
            if (!t)
                return -1;
            C.str = dup_or_oom(cc, t);
            C.str_len = C.str ? strlen(C.str) : 0;
        } else if (e->str) {
            C.str = dup_or_oom(cc, e->str);
            C.str_len = C.str ? strlen(C.str) : 0;
        }
        break;
    case PX_IN: {
        C.op = SW_COND_IN;
        C.set = e->set;
        if (e->set != SW_SET_LIST) {
            if (check_set(cc, e, f, &C) != 0)
                return -1;
            break;
        }
        int64_t li;
        if (e->inline_set) {
            sw_field_type ft = sw_field_type_of(f);
            sw_list_kind kind = ft == SW_FT_PHONE  ? SW_LIST_NUMBERS
                                : ft == SW_FT_ADDR ? SW_LIST_ADDRESSES
                                                   : SW_LIST_STRINGS;
            char name[300];
            anon_name(cc, r, name, sizeof name);
            li = add_list(cc, name, kind, 1, &e->items, e->val_loc, NULL);
        } else {
            li = find_list(cc, e->str);
            if (li < 0) {
                pl_error(b, e->val_loc, "unknown list '%s'", e->str);
                return -1;
            }
            if (list_fits(cc, e, f, cc->p->lists[li]) != 0)
                return -1;
        }
        if (li < 0)
            return -1;
        C.list = (uint32_t)li;
        break;
    }
    case PX_MATCH_LIST: {
        int64_t li = find_list(cc, e->str);
        if (li < 0) {
            pl_error(b, e->val_loc, "unknown list '%s'", e->str);
            return -1;
        }
        if (cc->p->lists[li]->kind != SW_LIST_PATTERNS) {
            pl_error(b, e->val_loc, "'matches list' needs a patterns list; '%s' holds %s", e->str,
                     kind_names[cc->p->lists[li]->kind]);
            return -1;
        }
        uint8_t slot;
        if (pattern_slot(cc, f, (uint32_t)li, e->val_loc, &slot) != 0)
            return -1;
        C.op = SW_COND_MATCHES;
        C.slot = slot;
        C.list = (uint32_t)li;
        break;
    }
    case PX_MATCH_RE:
    case PX_CONTAINS: {
        pl_item item = {e->str, NULL, e->val_loc};
        pl_items items = {&item, 1, 1};
        char *escaped = NULL;
        if (e->op == PX_CONTAINS) {
            escaped = sw__pattern_escape_literal(e->str, strlen(e->str));
            if (!escaped) {
                b->oom = 1;
                return -1;
            }
        }
        char name[300];
        anon_name(cc, r, name, sizeof name);
        int64_t li = add_list(cc, name, SW_LIST_PATTERNS, 1, &items, e->val_loc,
                              escaped ? &escaped : NULL);
        free(escaped);
        if (li < 0)
            return -1;
        uint8_t slot;
        if (pattern_slot(cc, f, (uint32_t)li, e->val_loc, &slot) != 0)
            return -1;
        C.op = SW_COND_MATCHES;
        C.slot = slot;
        C.list = (uint32_t)li;
        break;
    }
    default:
        return -1;
    }
#undef C
    return b->oom ? -1 : ci;
}

/* ---- pattern databases -------------------------------------------------------------- */
static void build_patterns(cctx *cc)
{
    sw_policy *p = cc->p;
    for (unsigned f = 0; f < SW_F__COUNT; f++) {
        if (!cc->nslots[f])
            continue;
        size_t n = 0;
        for (unsigned s = 0; s < cc->nslots[f]; s++)
            n += p->lists[cc->slot_list[f][s]]->count;
        if (n == 0) {
            pl_warning(cc->b, cc->list_loc[cc->slot_list[f][0]],
                       "the pattern lists used on '%s' are empty: they never match",
                       sw_field_name((sw_field)f));
            continue;
        }
        sw_pattern_src *src = calloc(n, sizeof *src);
        uint32_t *from_list = calloc(n, sizeof *from_list), *from_entry = calloc(n, sizeof(uint32_t));
        if (!src || !from_list || !from_entry) {
            free(src);
            free(from_list);
            free(from_entry);
            cc->b->oom = 1;
            return;
        }
        size_t k = 0;
        for (unsigned s = 0; s < cc->nslots[f]; s++) {
            const sw_list *l = p->lists[cc->slot_list[f][s]];
            for (uint32_t i = 0; i < l->count; i++, k++) {
                src[k].expr = l->entries[i];
                src[k].slot = s;
                from_list[k] = l->index;
                from_entry[k] = i;
            }
        }
        int bad;
        char msg[200];
        int rc = sw__pattern_db_build(src, n, &p->patterns[f], &bad, msg, sizeof msg);
        if (rc == SW_ENOMEM) {
            cc->b->oom = 1;
        } else if (rc != SW_OK) {
            if (bad >= 0 && (size_t)bad < n) {
                const sw_list *l = p->lists[from_list[bad]];
                pl_error(cc->b, cc->entry_loc[l->index][from_entry[bad]], "bad pattern \"%.80s\": %s",
                         l->labels[from_entry[bad]] ? l->labels[from_entry[bad]]
                                                    : l->entries[from_entry[bad]],
                         msg);
            } else {
                pl_error(cc->b, cc->list_loc[cc->slot_list[f][0]],
                         "cannot compile the patterns used on '%s': %s",
                         sw_field_name((sw_field)f), msg);
            }
        }
        free(src);
        free(from_list);
        free(from_entry);
    }
}

/* ---- peers ---------------------------------------------------------------------------- */
static sw_string_set *string_set_of(cctx *cc, const pl_items *it)
{
    if (it->n == 0)
        return NULL;
    sw_string_set *s = sw_string_set_new();
    if (!s) {
        cc->b->oom = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < it->n; i++)
        if (sw_string_set_add(s, sw_str_make(it->v[i].text, strlen(it->v[i].text)), i) != SW_OK)
            cc->b->oom = 1;
    return s;
}

/* A partner's `register` entries without their sip:/sips: scheme (both
 * name the same AoR). */
static sw_string_set *aors_of(cctx *cc, const pl_items *it)
{
    if (it->n == 0)
        return NULL;
    sw_string_set *s = sw_string_set_new();
    if (!s) {
        cc->b->oom = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < it->n; i++) {
        const char *v = it->v[i].text;
        if (strncasecmp(v, "sips:", 5) == 0)
            v += 5;
        else if (strncasecmp(v, "sip:", 4) == 0)
            v += 4;
        if (sw_string_set_add(s, sw_str_make(v, strlen(v)), i) != SW_OK)
            cc->b->oom = 1;
    }
    return s;
}

static sw_prefix_set *ranges_of(cctx *cc, const pl_items *it, uint32_t value, int per_entry)
{
    if (it->n == 0)
        return NULL;
    sw_prefix_set *s = sw_prefix_set_new();
    if (!s) {
        cc->b->oom = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < it->n; i++) {
        char nb[2 * SW_E164_MAX_DIGITS + 8];
        const char *t = phone_text(cc, it->v[i].text, it->v[i].loc, nb, sizeof nb);
        if (!t)
            continue; /* said why */
        int rc = sw__number_entry_add(s, t, per_entry ? i : value);
        if (rc == SW_ENOMEM)
            cc->b->oom = 1;
        else if (rc != SW_OK)
            pl_error(cc->b, it->v[i].loc, "bad E.164 range '%.80s'", it->v[i].text);
    }
    return s;
}

/* Address claims with a port, gathered while the peers compile. */
typedef struct pclaim {
    sw_addr net;
    unsigned bits;
    uint16_t port;
    uint32_t peer;
    uint32_t seq;          /* order of definition (errors point at the later claim) */
    const pl_item *it;
} pclaim;

typedef struct pclaims {
    pclaim *v;
    uint32_t n, cap;
} pclaims;

static int claims_add(pclaims *c, const sw_addr *net, unsigned bits, uint16_t port, uint32_t peer,
                      const pl_item *it)
{
    if (c->n == c->cap) {
        uint32_t ncap = c->cap ? c->cap * 2 : 16;
        if (ncap > SW_POLICY_MAX_PEERS * 4u)
            return SW_ENOMEM;
        pclaim *v = realloc(c->v, (size_t)ncap * sizeof *v);
        if (!v)
            return SW_ENOMEM;
        c->v = v;
        c->cap = ncap;
    }
    c->v[c->n] = (pclaim){*net, bits, port, peer, c->n, it};
    c->n++;
    return SW_OK;
}

static int by_port_then_seq(const void *x, const void *y)
{
    const pclaim *a = x, *b = y;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int by_bits_then_seq(const void *x, const void *y)
{
    const pclaim *a = x, *b = y;
    if (a->bits != b->bits)
        return a->bits < b->bits ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Builds sw_policy.peer_ports from the claims: one CIDR table per port
 * (two peers claiming the same network and port is an error at the later
 * claim), the port hash, and the hosts table. */
static void compile_port_claims(cctx *cc, pclaims *c)
{
    pl_build *b = cc->b;
    sw_policy *p = cc->p;
    struct sw__port_claims *pc = calloc(1, sizeof *pc);
    if (!pc) {
        b->oom = 1;
        return;
    }
    p->peer_ports = pc;
    qsort(c->v, c->n, sizeof *c->v, by_port_then_seq);
    uint32_t nports = 0;
    for (uint32_t i = 0; i < c->n; i++)
        if (i == 0 || c->v[i].port != c->v[i - 1].port)
            nports++;
    uint32_t slots = 4;
    while (slots < nports * 2)
        slots *= 2;
    pc->mask = slots - 1;
    pc->key = calloc(slots, sizeof *pc->key);
    pc->table = calloc(slots, sizeof *pc->table);
    pc->tables = calloc(nports, sizeof *pc->tables);
    pc->hosts = sw_cidr_table_new();
    if (!pc->key || !pc->table || !pc->tables || !pc->hosts) {
        b->oom = 1;
        return;
    }
    for (uint32_t i = 0; i < c->n && !b->oom; i++) {
        const pclaim *cl = &c->v[i];
        if (i == 0 || cl->port != c->v[i - 1].port) {
            if (!(pc->tables[pc->ntables] = sw_cidr_table_new())) {
                b->oom = 1;
                return;
            }
            uint32_t h = ((uint32_t)cl->port * 0x9e3779b1u) >> 16;
            uint32_t s = h & pc->mask;
            while (pc->key[s])
                s = (s + 1) & pc->mask;
            pc->key[s] = cl->port;
            pc->table[s] = pc->ntables++;
        }
        uint32_t prev = 0;
        int rc = sw__cidr_table_add_unique(pc->tables[pc->ntables - 1], &cl->net, cl->bits,
                                           cl->peer, &prev);
        if (rc == 1 && prev != cl->peer)
            pl_error(b, cl->it->loc, "address %s already belongs to %s '%s'", cl->it->text,
                     b->peers[prev]->is_zone ? "zone" : "partner", b->peers[prev]->name);
        else if (rc < 0)
            b->oom = 1;
    }
    /* hosts, shortest networks first: a network's flag also carries the
     * flags of the networks around it, so the longest match answers */
    qsort(c->v, c->n, sizeof *c->v, by_bits_then_seq);
    for (uint32_t i = 0; i < c->n && !b->oom; i++) {
        const pclaim *cl = &c->v[i];
        uint32_t flag = b->peers[cl->peer]->is_zone ? 0 : 1, around = 0;
        if (sw_cidr_table_lookup(pc->hosts, &cl->net, &around))
            flag |= around;
        if (sw_cidr_table_add(pc->hosts, &cl->net, cl->bits, flag) != SW_OK)
            b->oom = 1;
    }
}

static void compile_peers(cctx *cc)
{
    pl_build *b = cc->b;
    sw_policy *p = cc->p;
    uint32_t n = b->npeers;
    int have_unknown = 0;
    for (uint32_t i = 0; i < n; i++)
        if (b->peers[i]->is_zone && strcmp(b->peers[i]->name, "unknown") == 0)
            have_unknown = 1;
    if (n + 1 > SW_POLICY_MAX_PEERS) {
        pl_error(b, b->peers[0]->loc, "too many partners and zones (at most %u)", SW_POLICY_MAX_PEERS - 1);
        return;
    }
    pclaims claims = {0};
    p->peers = calloc(n + 1, sizeof *p->peers);
    p->peer_addresses = sw_cidr_table_new();
    if (!p->peers || !p->peer_addresses) {
        b->oom = 1;
        return;
    }
    for (uint32_t i = 0; i < n && !b->oom; i++) {
        pl_peer *d = b->peers[i];
        sw_peer *pe = calloc(1, sizeof *pe);
        if (!pe) {
            b->oom = 1;
            return;
        }
        p->peers[p->npeers++] = pe;
        pe->name = dup_or_oom(cc, d->name);
        pe->name_fp = name_fp(d->name);
        pe->index = i;
        pe->is_zone = (uint8_t)d->is_zone;
        pe->role = d->is_zone ? SW_ROLE_UNKNOWN : d->role;
        const pl_role *rd = &b->roles[pe->role];
        pe->trusted = d->has_trust ? d->trusted : (rd->present && rd->has_trust) ? rd->trusted : 0;
        pe->methods = d->has_methods                      ? d->methods
                      : (rd->present && rd->has_methods) ? rd->methods
                                                          : (1u << SW_METHOD__COUNT) - 1;
        pe->admit = d->admit;
        pe->admit_monitor = d->admit_monitor || b->monitor;
        pe->ranges = ranges_of(cc, &d->ranges, i, 0);
        pe->domains = string_set_of(cc, &d->domains);
        pe->realms = string_set_of(cc, &d->realms);
        pe->tls_ids = string_set_of(cc, &d->tls_ids);
        pe->registers = aors_of(cc, &d->registers);
        pe->agreed_methods = d->has_methods ? d->methods : 0;
        if (d->registers.n && !(pe->methods & (1u << SW_METHOD_REGISTER)))
            pl_error(b, d->registers.v[0].loc,
                     "partner '%s' has 'register' but its methods do not include REGISTER", d->name);
        memcpy(pe->plmn, d->plmn, sizeof pe->plmn);
        pe->cps = d->cps;
        pe->concurrency = d->concurrency;
        pe->night_calls = d->night_calls;
        pe->agreed = d->agreed;
        pe->agreed_names = d->agreed_names; /* moved */
        pe->nagreed_names = d->nagreed_names;
        b->peers[i]->agreed_names = NULL;
        b->peers[i]->nagreed_names = 0;
        pe->naddresses = d->addresses.n;
        pe->line = d->loc.line;
        pe->file = d->loc.file < p->nfiles ? p->files[d->loc.file] : "";
        int is_unknown = d->is_zone && strcmp(d->name, "unknown") == 0;
        if (!d->is_zone && strcmp(d->name, "unknown") == 0)
            pl_error(b, d->loc, "'unknown' is the zone of unknown sources, not a partner name");
        if (!d->is_zone && d->addresses.n == 0)
            pl_error(b, d->loc, "partner '%s' has no address", d->name);
        if (is_unknown && d->addresses.n)
            pl_error(b, d->addresses.v[0].loc,
                     "the unknown zone takes every source no partner claims: it has no addresses");
        if (is_unknown && !p->unknown)
            p->unknown = pe;
        if (is_unknown)
            continue;
        for (uint32_t a = 0; a < d->addresses.n; a++) {
            sw_addr net;
            unsigned bits;
            uint16_t port;
            const pl_item *it = &d->addresses.v[a];
            if (sw__peer_addr_parse(it->text, &net, &bits, &port) != SW_OK) {
                pl_error(b, it->loc, "bad address '%.80s'", it->text);
                continue;
            }
            if (port) {
                if (claims_add(&claims, &net, bits, port, i, it) != SW_OK)
                    b->oom = 1;
                continue;
            }
            uint32_t prev = 0;
            int rc = sw__cidr_table_add_unique(p->peer_addresses, &net, bits, i, &prev);
            if (rc == 1 && prev != i)
                pl_error(b, it->loc, "address %s already belongs to %s '%s'", it->text,
                         b->peers[prev]->is_zone ? "zone" : "partner", b->peers[prev]->name);
            else if (rc < 0)
                b->oom = 1;
        }
    }
    if (claims.n && !b->oom)
        compile_port_claims(cc, &claims);
    free(claims.v);
    if (!have_unknown && !b->oom) {
        sw_peer *pe = calloc(1, sizeof *pe);
        if (!pe) {
            b->oom = 1;
            return;
        }
        p->peers[p->npeers] = pe;
        pe->index = p->npeers++;
        pe->name = dup_or_oom(cc, "unknown");
        pe->name_fp = name_fp("unknown");
        pe->is_zone = 1;
        pe->role = SW_ROLE_UNKNOWN;
        pe->admit = SW_ADMIT_SCREEN;
        pe->methods = (1u << SW_METHOD__COUNT) - 1;
        pe->file = "";
        p->unknown = pe;
    }
    for (uint32_t i = 0; i < p->npeers; i++)
        if (p->peers[i]->role == SW_ROLE_CORE) {
            p->core = p->peers[i];
            break;
        }
    /* TLS identities -> peer, so that a connection's certificate is not
     * looked up partner by partner; backwards, so the first claim wins as
     * in definition order */
    for (uint32_t i = n; i-- > 0 && !b->oom;) {
        const pl_items *ids = &b->peers[i]->tls_ids;
        if (ids->n && !p->peer_tls_ids && !(p->peer_tls_ids = sw_string_set_new())) {
            b->oom = 1;
            break;
        }
        for (uint32_t k = 0; k < ids->n; k++) {
            sw_str id = sw_str_make(ids->v[k].text, strlen(ids->v[k].text));
            if (sw_string_set_add(p->peer_tls_ids, id, i) != SW_OK)
                b->oom = 1;
        }
    }
}

/* ---- rules ---------------------------------------------------------------------------- */
static void compile_rules(cctx *cc)
{
    pl_build *b = cc->b;
    sw_policy *p = cc->p;
    uint32_t n = b->nrules;
    p->rules = calloc(n ? n : 1, sizeof *p->rules);
    if (!p->rules) {
        b->oom = 1;
        return;
    }
    /* allow rules first (allowlists always win), then the rest in file order */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < n && !b->oom; i++) {
            pl_rule *d = b->rules[i];
            int allow = d->act.action == SW_ACTION_ALLOW;
            if (allow != (pass == 0))
                continue;
            int64_t cond = compile_expr(cc, d, d->expr);
            sw_rule *r = &p->rules[p->nrules++];
            r->id = dup_or_oom(cc, d->id);
            r->category = d->category;
            r->event = d->event;
            r->monitor = d->monitor || b->monitor; /* policy-wide monitor wins */
            r->confidence = d->confidence;
            r->events_each = d->events_each;
            r->reason = d->reason ? dup_or_oom(cc, d->reason) : NULL;
            r->cond = cond < 0 ? 0 : (uint32_t)cond;
            r->act = d->act; /* moves the strip names */
            memset(&d->act, 0, sizeof d->act);
            r->line = d->loc.line;
            r->file = d->loc.file < p->nfiles ? p->files[d->loc.file] : "";
        }
    }
}

/* ---- the whole policy ------------------------------------------------------------------- */
int pl_compile(pl_build *b, sw_policy **out)
{
    *out = NULL;
    sw_policy *p = calloc(1, sizeof *p);
    cctx cc;
    memset(&cc, 0, sizeof cc);
    cc.b = b;
    cc.p = p;
    if (!p)
        return SW_ENOMEM;
    uint32_t errors_before = b->diags->errors;

    p->name = dup_or_oom(&cc, b->name ? b->name : "unnamed");
    p->monitor = b->monitor;
    p->version = dup_or_oom(&cc, b->version ? b->version : "");
    p->files = b->files; /* moved: diagnostics below still name them */
    p->nfiles = b->nfiles;

    /* the home's numbering plan first: national-format numbers below use it */
    memcpy(p->home.country_code, b->home.cc, sizeof p->home.country_code);
    p->home.national_prefix = b->home.np;

    /* named lists first, in the order they were defined */
    for (uint32_t i = 0; i < b->nlists && !b->oom; i++) {
        const pl_list *l = b->lists[i];
        add_list(&cc, l->name, l->kind, 0, &l->entries, l->loc, NULL);
    }

    p->home.ranges = ranges_of(&cc, &b->home.ranges, 0, 1);
    p->home.domains = string_set_of(&cc, &b->home.domains);
    memcpy(p->home.plmn, b->home.plmn, sizeof p->home.plmn);

    if (!b->oom)
        compile_peers(&cc);

    for (unsigned d = 0; d < SW_DET__COUNT; d++) {
        const pl_detector *pd = &b->detectors[d];
        p->detectors[d] = pd->conf;
        p->detectors[d].list = -1;
        if (b->monitor)
            p->detectors[d].monitor = 1;
        if (pd->list_name) {
            int64_t li = find_list(&cc, pd->list_name);
            if (li < 0)
                pl_error(b, pd->list_loc, "unknown list '%s'", pd->list_name);
            else
                p->detectors[d].list = (int32_t)li;
        }
    }

    if (!b->oom)
        compile_rules(&cc);
    if (!b->oom && b->diags->errors == errors_before)
        build_patterns(&cc);

    p->privacy = b->privacy.p; /* moves the name lists */
    memset(&b->privacy.p, 0, sizeof b->privacy.p);
    if (b->monitor)
        p->privacy.monitor = 1;
    p->monitor = b->monitor;
    p->limits = b->limits.l;
    p->location_feed = b->location_feed;
    b->location_feed = NULL;

    /* the files now belong to the policy */
    b->files = NULL;
    b->nfiles = 0;

    for (uint32_t i = 0; i < p->nlists; i++)
        free(cc.entry_loc[i]);
    free(cc.entry_loc);
    free(cc.list_loc);

    int rc = b->oom ? SW_ENOMEM : b->diags->errors != errors_before ? SW_EINVAL : SW_OK;
    if (rc != SW_OK) {
        sw_policy_free(p);
        return rc;
    }
    *out = p;
    return SW_OK;
}
