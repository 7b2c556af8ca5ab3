/* Rule conditions: the value of each field for the message being screened,
 * and the evaluation of a condition tree.
 *
 * Cheap fields come straight from the facts; the rest (counts over all
 * headers, Identity's attest claim, subscriber location, pattern scans)
 * are computed on first use and memoised in e->lz for this message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

typedef struct fval {
    uint8_t type;   /* sw_field_type */
    int64_t num;
    sw_str str;
    const sw_addr *addr;
} fval;

static sw_str cstr(const char *s)
{
    return s ? sw_str_make(s, strlen(s)) : SW_STR_NULL;
}

/* ---- lazily computed values ------------------------------------------------ */

static int64_t lazy_via_count(sw_engine *e)
{
    sw__lazy *lz = &e->lz;
    if (!(lz->have & SW__LZ_VIA_COUNT)) {
        lz->have |= SW__LZ_VIA_COUNT;
        lz->via_count = 0;
        sw_sip_error err;
        int vc = e->facts.msg ? sw_sip_via_count(e->facts.msg, &err) : 0;
        lz->via_count = vc < 0 ? 0 : vc;
    }
    return lz->via_count;
}

/* folds and longest-header: one walk over the headers */
static void lazy_counts(sw_engine *e)
{
    sw__lazy *lz = &e->lz;
    if (lz->have & SW__LZ_COUNTS)
        return;
    lz->have |= SW__LZ_COUNTS;
    const sw_sip_msg *m = e->facts.msg;
    lz->folds = lz->longest_header = 0;
    if (!m)
        return;
    const int folded = sw_sip_folded(m); /* else no value holds a line break */
    for (uint16_t i = 0; i < m->nhdrs; i++) {
        const sw_sip_header *h = &m->hdrs[i];
        size_t l = h->name.len + h->value.len;
        if ((int64_t)l > lz->longest_header)
            lz->longest_header = (int64_t)l;
        if (!folded)
            continue;
        const char *p = h->value.ptr, *end = h->value.ptr + h->value.len;
        while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lz->folds++;
            p++;
        }
    }
}

static int64_t lazy_pai_count(sw_engine *e)
{
    sw__lazy *lz = &e->lz;
    if (!(lz->have & SW__LZ_PAI_COUNT)) {
        lz->have |= SW__LZ_PAI_COUNT;
        lz->pai_count = 0;
        if (e->facts.msg) {
            sw_sip_values it;
            sw_str v;
            sw_sip_error err;
            sw_sip_values_init(&it, e->facts.msg, SW_HDR_P_ASSERTED_IDENTITY);
            while (sw_sip_values_next(&it, &v, &err) == 1 && lz->pai_count < 1000)
                lz->pai_count++;
        }
    }
    return lz->pai_count;
}

static sw_str lazy_contact_host(sw_engine *e)
{
    sw__lazy *lz = &e->lz;
    if (!(lz->have & SW__LZ_CONTACT)) {
        lz->have |= SW__LZ_CONTACT;
        lz->contact_host = SW_STR_NULL;
        const sw_nameaddr *na;
        sw_sip_error err;
        if (e->facts.msg && sw_sip_contact(e->facts.msg, &na, &err) == SW_OK)
            lz->contact_host = na->uri.host;
    }
    return lz->contact_host;
}

static sw_str lazy_via_host(sw_engine *e)
{
    sw__lazy *lz = &e->lz;
    if (!(lz->have & SW__LZ_VIA)) {
        lz->have |= SW__LZ_VIA;
        lz->via_host = SW_STR_NULL;
        const sw_via *v;
        sw_sip_error err;
        if (e->facts.msg && sw_sip_top_via(e->facts.msg, &v, &err) == SW_OK)
            lz->via_host = v->host;
    }
    return lz->via_host;
}

static sw_str header_value(const sw_engine *e, sw_hdr_id id, const char *name)
{
    const sw_sip_msg *m = e->facts.msg;
    if (!m)
        return SW_STR_NULL;
    const sw_sip_header *h = id != SW_HDR_OTHER ? sw_sip_first(m, id) : (name ? sw_sip_find(m, name) : NULL);
    return h ? h->value : SW_STR_NULL;
}

/* base64url (RFC 4648 §5) without padding, into out; returns bytes or -1. */
static long b64url_decode(sw_str in, char *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-' || c == '+')
            v = 62;
        else if (c == '_' || c == '/')
            v = 63;
        else if (c == '=')
            break;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    return (long)n;
}

/* The PASSporT "attest" claim (RFC 8588) of the Identity header. */
static sw_str lazy_attest(sw_engine *e)
{
    sw__lazy *lz = &e->lz;
    char payload[2048];
    if (lz->have & SW__LZ_ATTEST)
        return lz->attest;
    lz->have |= SW__LZ_ATTEST;
    lz->attest = SW_STR_NULL;
    sw_str v = header_value(e, SW_HDR_IDENTITY, NULL);
    sw_identity id;
    sw_sip_error err;
    if (!v.len || sw_identity_parse(v, &id, &err) != SW_OK)
        return lz->attest;
    long n = b64url_decode(id.payload, payload, sizeof payload);
    if (n <= 0)
        return lz->attest;
    /* a tiny scan for "attest" : "X" — the payload is JSON from the sender */
    for (long i = 0; i + 8 < n; i++) {
        if (memcmp(payload + i, "\"attest\"", 8) != 0)
            continue;
        long j = i + 8;
        while (j < n && (payload[j] == ' ' || payload[j] == ':'))
            j++;
        if (j + 2 < n && payload[j] == '"' && payload[j + 2] == '"') {
            lz->attest_c[0] = payload[j + 1];
            lz->attest = sw_str_make(lz->attest_c, 1);
        }
        break;
    }
    return lz->attest;
}

/* "MCC-MNC" from an IMS domain (…mncXXX.mccYYY.3gppnetwork.org) or from
 * digits (PANI cell ids start with MCC+MNC); MNC written without padding
 * beyond two digits so "001-05" == mnc005. */
static int plmn_from_domain(sw_str s, char out[8])
{
    for (size_t i = 0; i + 10 <= s.len; i++) {
        if (sw_str_caseeq_cstr(sw_str_make(s.ptr + i, 3), "mnc")) {
            size_t j = i + 3, k = 0;
            unsigned mnc = 0, mcc = 0;
            while (j < s.len && k < 3 && s.ptr[j] >= '0' && s.ptr[j] <= '9') {
                mnc = mnc * 10 + (unsigned)(s.ptr[j++] - '0');
                k++;
            }
            if (k < 2 || j + 7 > s.len || s.ptr[j] != '.' ||
                !sw_str_caseeq_cstr(sw_str_make(s.ptr + j + 1, 3), "mcc"))
                continue;
            j += 4;
            for (k = 0; k < 3; k++) {
                char c = s.ptr[j + k];
                if (c < '0' || c > '9')
                    return 0;
                mcc = mcc * 10 + (unsigned)(c - '0');
            }
            snprintf(out, 8, "%03u-%02u", mcc % 1000, mnc % 1000);
            return 1;
        }
    }
    return 0;
}

static int plmn_norm(const char *in, char out[8])
{
    unsigned mcc, mnc;
    if (!in || sscanf(in, "%u-%u", &mcc, &mnc) != 2)
        return 0;
    snprintf(out, 8, "%03u-%02u", mcc % 1000, mnc % 1000);
    return 1;
}

static void lazy_location(sw_engine *e)
{
    sw__lazy *lz = &e->lz;
    const sw_facts *f = &e->facts;
    if (lz->have & SW__LZ_LOCATION)
        return;
    lz->have |= SW__LZ_LOCATION;
    lz->travel_kmh = -1;
    lz->loc_known = 0;
    lz->claimed_plmn[0] = '\0';
    /* the claimed location: where the message says the subscriber is */
    sw_str pvni = header_value(e, SW_HDR_P_VISITED_NETWORK_ID, NULL);
    if (!plmn_from_domain(pvni, lz->claimed_plmn)) {
        sw_str pani = header_value(e, SW_HDR_P_ACCESS_NETWORK_INFO, NULL);
        const char *p = pani.len ? memchr(pani.ptr, '=', pani.len) : NULL;
        int ok = 0;
        if (p) {
            p++;
            size_t rest = (size_t)(pani.ptr + pani.len - p);
            if (rest && *p == '"') {
                p++;
                rest--;
            }
            if (rest >= 5) {
                unsigned mcc = 0, mnc = 0, k;
                for (k = 0; k < 5 && p[k] >= '0' && p[k] <= '9'; k++)
                    ;
                if (k == 5) {
                    mcc = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
                    mnc = (unsigned)((p[3] - '0') * 10 + (p[4] - '0'));
                    snprintf(lz->claimed_plmn, sizeof lz->claimed_plmn, "%03u-%02u", mcc, mnc);
                    ok = 1;
                }
            }
        }
        if (!ok && !plmn_norm(f->peer->plmn[0] ? f->peer->plmn : NULL, lz->claimed_plmn))
            lz->claimed_plmn[0] = '\0';
    }
    lz->loc_state = 0;
    if (!e->feed || !f->a_len)
        return;
    sw_str num = f->a_e164 ? sw_facts_a(f) : f->from_user;
    if (sw_location_lookup(e->feed, num, &lz->loc) != 1)
        return;
    lz->loc_known = 1;
    char feed_plmn[8], home_plmn[8];
    if (!plmn_norm(lz->loc.plmn, feed_plmn))
        return;
    snprintf(lz->loc.plmn, sizeof lz->loc.plmn, "%s", feed_plmn);
    lz->loc_state = plmn_norm(e->pol->home.plmn, home_plmn) && strcmp(home_plmn, feed_plmn) == 0 ? 1 : 2;
    if (lz->claimed_plmn[0]) {
        int32_t km = sw_plmn_distance_km(feed_plmn, lz->claimed_plmn);
        if (km >= 0) {
            int64_t dt = e->now - lz->loc.since_ns;
            if (dt < SW_NS_S)
                dt = SW_NS_S; /* a claim older than the update: at least one second apart */
            lz->travel_kmh = (int64_t)((double)km * 3600.0 * 1e9 / (double)dt);
        }
    }
}

static int lazy_plmn_mismatch(sw_engine *e)
{
    lazy_location(e);
    return e->lz.loc_known && e->lz.claimed_plmn[0] && e->lz.loc.plmn[0] &&
           strcmp(e->lz.loc.plmn, e->lz.claimed_plmn) != 0;
}

static const char *role_name(const sw_peer *p)
{
    return sw_peer_role_name(p->role);
}

static const char *const dir_names[] = {"ingress", "egress", "transit"};

/* sw_field_type_of, as a table here (it runs for every field read). */
static const uint8_t field_types[SW_F__COUNT] = {
#define SW__FT(id, name, type) [SW_F_##id] = SW_FT_##type,
    SW_FIELD_LIST(SW__FT)
#undef SW__FT
};

/* peer.may-register: the sending partner's `register` names the AoR of
 * this REGISTER (its To URI, user@host) or the AoR's domain. */
static int may_register(const sw_facts *f)
{
    const sw_string_set *set = f->peer->registers;
    if (!set || !f->to_host.len)
        return 0;
    if (sw_string_set_lookup(set, f->to_host, NULL))
        return 1;
    char aor[512];
    if (!f->to_user.len || f->to_user.len + 1 + f->to_host.len > sizeof aor)
        return 0;
    memcpy(aor, f->to_user.ptr, f->to_user.len);
    aor[f->to_user.len] = '@';
    memcpy(aor + f->to_user.len + 1, f->to_host.ptr, f->to_host.len);
    return sw_string_set_lookup(set, sw_str_make(aor, f->to_user.len + 1 + f->to_host.len), NULL);
}

/* irsf.pattern: the IRSF detector (run before the rules) found a pattern
 * on this message: number walking, spread over a high-risk range, volume
 * or concurrency, a test call followed by the real one. */
static int irsf_pattern(const sw_engine *e)
{
    for (unsigned i = 0; i < e->dr.nhits && i < SW_DETECT_MAX_HITS; i++)
        if (e->dr.hits[i].detector == SW_DET_IRSF)
            return 1;
    return 0;
}

static void field_value(sw_engine *e, const sw_cond *c, fval *v)
{
    const sw_facts *f = &e->facts;
    const sw_sip_msg *m = f->msg;
    memset(v, 0, sizeof *v);
    v->type = c->field < SW_F__COUNT ? field_types[c->field] : (uint8_t)SW_FT_STR;
    switch ((sw_field)c->field) {
    case SW_F_REQUEST: v->num = f->is_request; break;
    case SW_F_RESPONSE: v->num = !f->is_request && (f->status || f->msg); break;
    case SW_F_METHOD: v->str = f->method_name; break;
    case SW_F_STATUS: v->num = f->status; break;
    case SW_F_MALFORMED: v->num = f->malformed; break;
    case SW_F_MALFORMED_REASON: v->str = cstr(f->malformed ? f->error.reason : NULL); break;
    case SW_F_SIZE: v->num = (int64_t)f->size; break;
    case SW_F_HEADERS: v->num = m ? m->nhdrs : 0; break;
    case SW_F_VIA_COUNT: v->num = lazy_via_count(e); break;
    case SW_F_FOLDS: lazy_counts(e); v->num = e->lz.folds; break;
    case SW_F_LONGEST_HEADER: lazy_counts(e); v->num = e->lz.longest_header; break;
    case SW_F_MAX_FORWARDS: {
        int64_t mf = -1;
        sw_sip_error err;
        if (m && m->first[SW_HDR_MAX_FORWARDS] != SW_HDR_NONE &&
            sw_sip_max_forwards(e->facts.msg, &mf, &err) != SW_OK)
            mf = -1;
        v->num = mf;
        break;
    }
    case SW_F_EXPIRES: v->num = f->expires; break;
    case SW_F_IN_DIALOG: v->num = f->to_tag.len > 0; break;
    case SW_F_CREDENTIALS: v->num = f->has_credentials; break;
    case SW_F_AUTH_USER: v->str = f->auth_user; break;
    case SW_F_CONTACT_STAR: v->num = f->contact_star; break;
    case SW_F_TRANSPORT: v->str = cstr(sw_transport_name(f->transport)); break;
    case SW_F_DIRECTION: v->str = cstr(dir_names[f->direction % 3]); break;
    case SW_F_RURI: v->str = m && m->is_request ? m->ruri : SW_STR_NULL; break;
    case SW_F_RURI_USER: v->str = f->ruri_user; break;
    case SW_F_RURI_HOST: v->str = f->ruri_host; break;
    case SW_F_RURI_SCHEME: {
        const sw_uri *u;
        sw_sip_error err;
        if (m && m->is_request && sw_sip_ruri(e->facts.msg, &u, &err) == SW_OK)
            v->str = u->scheme;
        break;
    }
    case SW_F_RURI_LENGTH: v->num = m && m->is_request ? (int64_t)m->ruri.len : 0; break;
    case SW_F_FROM_USER: v->str = f->from_user; break;
    case SW_F_FROM_HOST: v->str = f->from_host; break;
    case SW_F_FROM_DISPLAY: {
        const sw_nameaddr *na;
        sw_sip_error err;
        if (m && sw_sip_from(e->facts.msg, &na, &err) == SW_OK)
            v->str = na->display;
        break;
    }
    case SW_F_TO_USER: v->str = f->to_user; break;
    case SW_F_TO_HOST: v->str = f->to_host; break;
    case SW_F_CONTACT_USER: v->str = f->contact_user; break;
    case SW_F_CONTACT_HOST: v->str = lazy_contact_host(e); break;
    case SW_F_PAI_USER: v->str = f->pai_user; break;
    case SW_F_PAI_COUNT: v->num = lazy_pai_count(e); break;
    case SW_F_PAI:
        if (f->pai_user.len)
            v->str = sw_facts_a(f);
        break;
    case SW_F_A: v->str = sw_facts_a(f); break;
    case SW_F_B: v->str = sw_facts_b(f); break;
    case SW_F_A_E164: v->num = f->a_e164; break;
    case SW_F_B_E164: v->num = f->b_e164; break;
    case SW_F_A_SUBSCRIBER: v->num = f->a_subscriber; break;
    case SW_F_B_SUBSCRIBER: v->num = f->b_subscriber; break;
    case SW_F_A_LOCATION:
        lazy_location(e);
        v->str = cstr(e->lz.loc_state == 1 ? "home" : e->lz.loc_state == 2 ? "abroad" : "unknown");
        break;
    case SW_F_A_VPLMN:
        lazy_location(e);
        v->str = e->lz.loc_known ? cstr(e->lz.loc.plmn) : SW_STR_NULL;
        break;
    case SW_F_CLAIMED_PLMN: lazy_location(e); v->str = cstr(e->lz.claimed_plmn); break;
    case SW_F_TRAVEL_KMH: lazy_location(e); v->num = e->lz.travel_kmh; break;
    case SW_F_PLMN_MISMATCH: v->num = lazy_plmn_mismatch(e); break;
    case SW_F_USER_AGENT: v->str = f->user_agent; break;
    case SW_F_SERVER: v->str = header_value(e, SW_HDR_SERVER, NULL); break;
    case SW_F_CALL_ID: v->str = f->call_id; break;
    case SW_F_VIA_BRANCH: v->str = f->branch; break;
    case SW_F_VIA_HOST: v->str = lazy_via_host(e); break;
    case SW_F_PVNI:
        /* the network id, quoted-string or token (RFC 7315 §4.3), without its parameters */
        v->str = header_value(e, SW_HDR_P_VISITED_NETWORK_ID, NULL);
        if (v->str.len >= 2 && v->str.ptr[0] == '"') {
            const char *q = memchr(v->str.ptr + 1, '"', v->str.len - 1);
            if (q)
                v->str = sw_str_make(v->str.ptr + 1, (size_t)(q - v->str.ptr - 1));
        } else {
            const char *semi = memchr(v->str.ptr ? v->str.ptr : "", ';', v->str.len);
            if (semi)
                v->str.len = (size_t)(semi - v->str.ptr);
        }
        break;
    case SW_F_IDENTITY: v->num = m && m->first[SW_HDR_IDENTITY] != SW_HDR_NONE; break;
    case SW_F_ATTEST: v->str = lazy_attest(e); break;
    case SW_F_SRC: v->addr = &f->src; break;
    case SW_F_DST: v->addr = &f->dst; break;
    case SW_F_PEER: v->str = cstr(f->peer->name); break;
    case SW_F_PEER_ROLE: v->str = cstr(role_name(f->peer)); break;
    case SW_F_PEER_TRUST: v->str = cstr(f->peer->trusted ? "trusted" : "untrusted"); break;
    case SW_F_PEER_KNOWN: v->num = !f->peer->is_zone; break;
    case SW_F_PEER_PLMN: v->str = cstr(f->peer->plmn); break;
    case SW_F_PEER_MAY_REGISTER: v->num = may_register(f); break;
    case SW_F_IRSF_PATTERN: v->num = irsf_pattern(e); break;
    case SW_F_PEER_HAS_RANGES: v->num = f->peer->ranges && sw_prefix_set_count(f->peer->ranges) > 0; break;
    case SW_F_DST_PEER: v->str = cstr(f->dst_peer->name); break;
    case SW_F_DST_ROLE: v->str = cstr(role_name(f->dst_peer)); break;
    case SW_F_DST_TRUST: v->str = cstr(f->dst_peer->trusted ? "trusted" : "untrusted"); break;
    case SW_F_HEADER: v->str = header_value(e, (sw_hdr_id)c->hdr, c->hdr_name); break;
    default: break;
    }
}

/* Digits of a number value for the tries: after '+', or the whole string
 * when it is all digits. */
static int number_digits(sw_str s, sw_str *out)
{
    if (s.len && s.ptr[0] == '+') {
        s.ptr++;
        s.len--;
    }
    if (!s.len)
        return 0;
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return 0;
    *out = s;
    return 1;
}

static int in_numbers(const sw_prefix_set *set, sw_str s)
{
    sw_str d;
    return set && number_digits(s, &d) && sw_prefix_set_lookup(set, d.ptr, d.len, NULL) > 0;
}

static int in_strings(const sw_string_set *set, sw_str s)
{
    return set && s.len && sw_string_set_lookup(set, s, NULL) == 1;
}

static int eval_in(sw_engine *e, const sw_cond *c, const fval *v)
{
    const sw_facts *f = &e->facts;
    switch ((sw_set_ref)c->set) {
    case SW_SET_LIST: {
        if (c->list >= e->pol->nlists)
            return 0;
        const sw_list *l = e->pol->lists[c->list];
        switch (l->kind) {
        case SW_LIST_NUMBERS: return in_numbers(l->numbers, v->str);
        case SW_LIST_ADDRESSES:
            return v->addr && l->addresses && sw_cidr_table_lookup(l->addresses, v->addr, NULL) == 1;
        case SW_LIST_STRINGS: return in_strings(l->strings, v->str);
        default: return 0;
        }
    }
    case SW_SET_PEER_RANGES: return in_numbers(f->peer->ranges, v->str);
    case SW_SET_PEER_DOMAINS: return in_strings(f->peer->domains, v->str);
    case SW_SET_PEER_REALMS: return in_strings(f->peer->realms, v->str);
    case SW_SET_PEER_METHODS: {
        unsigned bit = f->method < SW_METHOD__COUNT ? (unsigned)f->method : 0u;
        return (f->peer->methods >> bit) & 1u;
    }
    case SW_SET_DST_RANGES: return in_numbers(f->dst_peer->ranges, v->str);
    case SW_SET_DST_DOMAINS: return in_strings(f->dst_peer->domains, v->str);
    case SW_SET_HOME_RANGES: return in_numbers(e->pol->home.ranges, v->str);
    case SW_SET_HOME_DOMAINS: return in_strings(e->pol->home.domains, v->str);
    }
    return 0;
}

static int eval_matches(sw_engine *e, const sw_cond *c, const fval *v)
{
    unsigned fld = c->field;
    const sw_pattern_db *db = fld < SW_F__COUNT ? e->pol->patterns[fld] : NULL;
    if (!db || !e->scratch)
        return 0;
    if (!((e->lz.pattern_mask[fld / 64] >> (fld % 64)) & 1u)) {
        e->lz.pattern_mask[fld / 64] |= (uint64_t)1 << (fld % 64);
        e->lz.pattern_hits[fld] = sw_pattern_db_scan(db, e->scratch, v->str);
    }
    return (e->lz.pattern_hits[fld] >> c->slot) & 1u;
}

static int cond_eval(sw_engine *e, uint32_t node, const int indexed)
{
    const sw_policy *p = e->pol;
    /* depth is bounded by the compiled tree; iterate on the right child of
     * AND/OR chains to keep the recursion shallow */
    for (;;) {
        if (node >= p->nconds)
            return 0;
        /* decided by the message's class (index.c) */
        if (indexed) {
            if (!sw__cmask_has(&e->rx.may[node], e->cls))
                return 0;
            if (sw__cmask_has(&e->rx.must[node], e->cls))
                return 1;
        }
        const sw_cond *c = &p->conds[node];
        fval v;
        switch ((sw_cond_op)c->op) {
        case SW_COND_TRUE: return 1;
        case SW_COND_AND:
            if (!cond_eval(e, c->a, indexed))
                return 0;
            node = c->b;
            continue;
        case SW_COND_OR:
            if (cond_eval(e, c->a, indexed))
                return 1;
            node = c->b;
            continue;
        case SW_COND_NOT: return !cond_eval(e, c->a, indexed);
        case SW_COND_IS:
            field_value(e, c, &v);
            if (v.type == SW_FT_BOOL || v.type == SW_FT_NUM)
                return v.type == SW_FT_BOOL ? v.num != 0 : v.num > 0;
            if (v.type == SW_FT_ADDR)
                return v.addr && v.addr->family != 0;
            return v.str.len > 0;
        case SW_COND_CMP:
            field_value(e, c, &v);
            if (v.type == SW_FT_BOOL || v.type == SW_FT_NUM)
                return sw__cmp_num(v.num, c->num, c->cmp);
            {
                int eq = sw_str_caseeq(v.str, sw_str_make(c->str ? c->str : "", c->str ? c->str_len : 0));
                return c->cmp == SW_CMP_EQ ? eq : c->cmp == SW_CMP_NE ? !eq : 0;
            }
        case SW_COND_IN: field_value(e, c, &v); return eval_in(e, c, &v);
        case SW_COND_MATCHES: field_value(e, c, &v); return eval_matches(e, c, &v);
        case SW_COND_HAS: {
            const sw_sip_msg *m = e->facts.msg;
            if (!m)
                return 0;
            if (c->hdr != SW_HDR_OTHER && c->hdr < SW_HDR__COUNT)
                return m->first[c->hdr] != SW_HDR_NONE;
            return c->hdr_name && sw_sip_find(m, c->hdr_name) != NULL;
        }
        }
        return 0;
    }
}

int sw__cond_eval(sw_engine *e, uint32_t node)
{
    return cond_eval(e, node, 1);
}

int sw__cond_eval_unindexed(sw_engine *e, uint32_t node)
{
    return cond_eval(e, node, 0);
}
