/* Policy loading (files, overlay, the built-in default), freeing, lookups
 * and the name tables of policy.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/build.h"

/* ---- names ------------------------------------------------------------------------ */
static const char *const field_names[SW_F__COUNT] = {
#define SW__FNAME(id, name, type) name,
    SW_FIELD_LIST(SW__FNAME)
#undef SW__FNAME
};

static const uint8_t field_types[SW_F__COUNT] = {
#define SW__FTYPE(id, name, type) SW_FT_##type,
    SW_FIELD_LIST(SW__FTYPE)
#undef SW__FTYPE
};

static const char *const role_names[SW_ROLE__COUNT] = {
#define SW__RNAME(id, name) name,
    SW_PEER_ROLE_LIST(SW__RNAME)
#undef SW__RNAME
};

const char *sw_field_name(sw_field f)
{
    return (unsigned)f < SW_F__COUNT ? field_names[f] : NULL;
}

sw_field_type sw_field_type_of(sw_field f)
{
    return (unsigned)f < SW_F__COUNT ? (sw_field_type)field_types[f] : SW_FT_STR;
}

const char *sw_peer_role_name(sw_peer_role r)
{
    return (unsigned)r < SW_ROLE__COUNT ? role_names[r] : NULL;
}

/* ---- defaults ------------------------------------------------------------------------ */
void sw__policy_detector_defaults(sw_detector_conf *c, sw_detector_id d)
{
    (void)d; /* every detector has the same base settings; params cover all */
    memset(c, 0, sizeof *c);
    c->enabled = 1;
    c->monitor = 0;
    c->exempt_peers = 1;
    c->confidence = 80;
    c->action = SW_ACTION_DROP;
    c->list = -1;
    unsigned n;
    const sw_detector_param_spec *spec = sw_detector_params(&n);
    for (unsigned i = 0; i < n && i < SW_DP__COUNT; i++)
        c->params[spec[i].param] = spec[i].def;
}

void sw__policy_limits_defaults(sw_engine_limits *l)
{
    l->sources = 65536;
    l->numbers = 65536;
    l->dialogs = 131072;
    l->blocks = 65536;
    l->event_keys = 65536;
    l->events_per_key = 10;
    l->event_window_ns = 60 * SW_NS_S;
}

/* ---- the built-in default ------------------------------------------------------------- */
extern const char sw_default_policy_text[];
extern const size_t sw_default_policy_text_len;

const char *sw_policy_default_text(size_t *len)
{
    if (len)
        *len = sw_default_policy_text_len;
    return sw_default_policy_text;
}

#define BUILTIN_DEFAULT "builtin:default"

/* ---- loading ----------------------------------------------------------------------------- */
static int finish(pl_build *b, sw_policy **out)
{
    int rc;
    pl_lint(b);
    if (b->oom)
        rc = SW_ENOMEM;
    else if (b->diags->errors)
        rc = b->io_error ? SW_EIO : SW_EINVAL;
    else
        rc = pl_compile(b, out);
    if (rc == SW_OK && b->oom)
        rc = SW_ENOMEM;
    if (rc == SW_OK) {
        crypto_hash_sha256_final(&b->sha, (*out)->sha256);
        pl_lint_compiled(*out, b->diags);
    }
    if (rc != SW_OK && *out) {
        sw_policy_free(*out);
        *out = NULL;
    }
    pl_build_free(b);
    return rc;
}

void pl_parse_file(pl_build *b, const char *path)
{
    if (strcmp(path, BUILTIN_DEFAULT) == 0) {
        size_t len;
        const char *text = sw_policy_default_text(&len);
        pl_hash_text(b, text, len);
        uint32_t idx = pl_add_file(b, path);
        pl_parse_text(b, idx, text, len, NULL);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    errno = 0;
    int rc = pl_read(b, path, 0, &text, &len);
    if (rc != SW_OK) {
        sw__diag_add(b->diags, 0, path, 0, 0, "cannot read: %s",
                     rc == SW_ELIMIT   ? "larger than 16 MiB"
                     : rc == SW_ENOMEM ? "out of memory"
                                       : strerror(errno ? errno : EIO));
        b->io_error = 1;
        return;
    }
    char *dir = sw__dirname(path);
    char *real = b->src ? NULL : realpath(path, NULL);
    if (!real)
        real = strdup(path);
    uint32_t idx = pl_add_file(b, path);
    if (!dir || !real) {
        b->oom = 1;
    } else {
        b->stack[b->depth++] = real;
        real = NULL;
        pl_parse_text(b, idx, text, len, dir);
        b->depth--;
        free((char *)b->stack[b->depth]);
        b->stack[b->depth] = NULL;
    }
    free(real);
    free(dir);
    free(text);
}

int sw_policy_load(const char *const *paths, size_t n, sw_policy **out, sw_policy_diags *diags)
{
    memset(diags, 0, sizeof *diags);
    *out = NULL;
    pl_build b;
    pl_build_init(&b, diags);
    if (n == 0) {
        sw__diag_add(diags, 0, "", 0, 0, "no policy files given");
        pl_build_free(&b);
        return SW_EINVAL;
    }
    for (size_t i = 0; i < n && !b.oom; i++)
        pl_parse_file(&b, paths[i]);
    return finish(&b, out);
}

void pl_hash_text(pl_build *b, const char *text, size_t len)
{
    unsigned char n[8];
    for (int i = 0; i < 8; i++)
        n[i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    crypto_hash_sha256_update(&b->sha, n, sizeof n);
    crypto_hash_sha256_update(&b->sha, (const unsigned char *)text, len);
}

int pl_read(pl_build *b, const char *path, int regular_only, char **text, size_t *len)
{
    int rc;
    if (!b->src) {
        rc = sw__read_file_capped(path, SW_POLICY_MAX_FILE, regular_only, text, len);
    } else {
        *text = NULL;
        *len = 0;
        rc = b->src->read(b->src->ctx, path, SW_POLICY_MAX_FILE, text, len);
        if (rc == SW_ENOTFOUND) {
            errno = ENOENT;
            rc = SW_EIO;
        }
    }
    if (rc == SW_OK)
        pl_hash_text(b, *text, *len);
    return rc;
}

int sw_policy_load_source(const sw_policy_source *src, const char *const *names, size_t n,
                          sw_policy **out, sw_policy_diags *diags)
{
    memset(diags, 0, sizeof *diags);
    *out = NULL;
    pl_build b;
    pl_build_init(&b, diags);
    b.src = src;
    if (n == 0) {
        sw__diag_add(diags, 0, "", 0, 0, "no policy files given");
        pl_build_free(&b);
        return SW_EINVAL;
    }
    for (size_t i = 0; i < n && !b.oom; i++)
        pl_parse_file(&b, names[i]);
    return finish(&b, out);
}

int sw_policy_load_text(const char *name, const char *text, size_t len, const char *base_dir,
                        sw_policy **out, sw_policy_diags *diags)
{
    memset(diags, 0, sizeof *diags);
    *out = NULL;
    pl_build b;
    pl_build_init(&b, diags);
    uint32_t idx = pl_add_file(&b, name);
    pl_hash_text(&b, text, len);
    if (!b.oom)
        pl_parse_text(&b, idx, text, len, base_dir);
    return finish(&b, out);
}

/* ---- freeing ------------------------------------------------------------------------------- */
static void peer_free(sw_peer *pe)
{
    if (!pe)
        return;
    pl_names_free(&pe->agreed_names, &pe->nagreed_names);
    free(pe->name);
    sw_prefix_set_free(pe->ranges);
    sw_string_set_free(pe->domains);
    sw_string_set_free(pe->realms);
    sw_string_set_free(pe->tls_ids);
    sw_string_set_free(pe->registers);
    free(pe);
}

static void list_free(sw_list *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->count; i++) {
        if (l->entries)
            free(l->entries[i]);
        if (l->labels)
            free(l->labels[i]);
    }
    free(l->entries);
    free(l->labels);
    free(l->name);
    sw_prefix_set_free(l->numbers);
    sw_cidr_table_free(l->addresses);
    sw_string_set_free(l->strings);
    free(l);
}

void sw_policy_free(sw_policy *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->version);
    sw_prefix_set_free(p->home.ranges);
    sw_string_set_free(p->home.domains);
    for (uint32_t i = 0; i < p->npeers; i++)
        peer_free(p->peers[i]);
    free(p->peers);
    sw_cidr_table_free(p->peer_addresses);
    sw__port_claims_free(p->peer_ports);
    sw_string_set_free(p->peer_tls_ids);
    for (uint32_t i = 0; i < p->nlists; i++)
        list_free(p->lists[i]);
    free(p->lists);
    for (uint32_t i = 0; i < p->nconds; i++) {
        free(p->conds[i].str);
        free(p->conds[i].hdr_name);
    }
    free(p->conds);
    for (uint32_t i = 0; i < p->nrules; i++) {
        free(p->rules[i].id);
        free(p->rules[i].reason);
        pl_rule_action_clear(&p->rules[i].act);
    }
    free(p->rules);
    for (unsigned f = 0; f < SW_F__COUNT; f++)
        sw__pattern_db_free(p->patterns[f]);
    free(p->location_feed);
    pl_privacy_clear(&p->privacy);
    for (uint32_t i = 0; i < p->nfiles; i++)
        free(p->files[i]);
    free(p->files);
    free(p);
}

void sw__port_claims_free(struct sw__port_claims *pc)
{
    if (!pc)
        return;
    for (uint32_t i = 0; i < pc->ntables; i++)
        sw_cidr_table_free(pc->tables[i]);
    free(pc->tables);
    free(pc->key);
    free(pc->table);
    sw_cidr_table_free(pc->hosts);
    free(pc);
}

/* ---- lookups ---------------------------------------------------------------------------------- */
sw_pattern_scratch *sw_policy_scratch_new(const sw_policy *p)
{
    sw_pattern_scratch *s = sw__pattern_scratch_new();
    if (!s)
        return NULL;
    for (unsigned f = 0; f < SW_F__COUNT; f++)
        if (sw__pattern_scratch_grow(s, p->patterns[f]) != SW_OK) {
            sw_pattern_scratch_free(s);
            return NULL;
        }
    return s;
}

static const sw_cidr_table *port_table(const struct sw__port_claims *pc, uint16_t port)
{
    if (port == 0)
        return NULL;
    uint32_t h = ((uint32_t)port * 0x9e3779b1u) >> 16;
    for (uint32_t i = h & pc->mask;; i = (i + 1) & pc->mask) {
        if (pc->key[i] == port)
            return pc->tables[pc->table[i]];
        if (pc->key[i] == 0)
            return NULL;
    }
}

const sw_peer *sw_policy_peer_lookup(const sw_policy *p, const sw_addr *src, int *port_matters)
{
    uint32_t v;
    unsigned bits = 0;
    int found = sw__cidr_table_lookup_bits(p->peer_addresses, src, &v, &bits);
    *port_matters = 0;
    const struct sw__port_claims *pc = p->peer_ports;
    if (pc && sw_cidr_table_lookup(pc->hosts, src, NULL)) {
        *port_matters = 1;
        const sw_cidr_table *t = port_table(pc, src->port);
        uint32_t pv;
        unsigned pbits;
        if (t && sw__cidr_table_lookup_bits(t, src, &pv, &pbits) && (!found || pbits >= bits)) {
            v = pv;
            found = 1;
        }
    }
    if (found && v < p->npeers)
        return p->peers[v];
    return p->unknown;
}

const sw_peer *sw_policy_peer_for(const sw_policy *p, const sw_addr *src)
{
    int port_matters;
    return sw_policy_peer_lookup(p, src, &port_matters);
}

int sw_policy_partner_host(const sw_policy *p, const sw_addr *src)
{
    uint32_t v;
    if (sw_cidr_table_lookup(p->peer_addresses, src, &v) && v < p->npeers && !p->peers[v]->is_zone)
        return 1;
    return p->peer_ports && sw_cidr_table_lookup(p->peer_ports->hosts, src, &v) && v;
}

const sw_peer *sw_policy_peer_by_tls_id(const sw_policy *p, sw_str id)
{
    uint32_t v;
    if (p->peer_tls_ids && sw_string_set_lookup(p->peer_tls_ids, id, &v) && v < p->npeers)
        return p->peers[v];
    return NULL;
}

const sw_peer *sw_policy_peer_by_tls(const sw_policy *p, const sw_str *ids, unsigned n, const sw_addr *src)
{
    for (unsigned i = 0; i < n; i++) {
        const sw_peer *pe = sw_policy_peer_by_tls_id(p, ids[i]);
        if (pe)
            return pe;
    }
    const sw_peer *by_addr = sw_policy_peer_for(p, src);
    return by_addr->tls_ids ? p->unknown : NULL;
}

const sw_peer *sw_policy_peer_by_name(const sw_policy *p, const char *name)
{
    for (uint32_t i = 0; i < p->npeers; i++)
        if (strcmp(p->peers[i]->name, name) == 0)
            return p->peers[i];
    return NULL;
}

const sw_list *sw_policy_list_by_name(const sw_policy *p, const char *name)
{
    for (uint32_t i = 0; i < p->nlists; i++)
        if (!p->lists[i]->anonymous && strcmp(p->lists[i]->name, name) == 0)
            return p->lists[i];
    return NULL;
}
