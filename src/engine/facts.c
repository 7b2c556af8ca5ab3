/* Facts: parse the message once and read what rules and detectors need.
 *
 * The hot path reads only the headers every message needs (Via branch,
 * From/To/PAI users and tags, CSeq, Call-ID, R-URI user); everything else
 * a rule may ask for is computed on first use in eval.c. */
#include <string.h>

#include "engine/engine_int.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Copies the raw user part (cut to cap-1) when it is not a number. */
static size_t raw_copy(const char *u, size_t len, char *out, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t k = 0; k < n; k++)
        out[k] = u[k];
    out[n] = '\0';
    return n;
}

/* sw_number_normalise; *written gets the length of what out holds (the
 * number, or the raw user part). */
static size_t normalise(sw_str user, const sw_home *home, char *out, size_t cap, uint8_t *e164,
                        size_t *written)
{
    char digits[SW_NUMBER_MAX];
    size_t nd = 0, i = 0, len = user.len;
    const char *u = user.ptr;
    int plus = 0, bad = 0;
    *e164 = 0;
    *written = 0;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (len && u[0] == '+') {
        plus = 1;
        i = 1;
    }
    const char *d = digits;
    /* the usual number: digits only up to its end (no separators): the
     * digits are read in place */
    size_t k = i;
    while (k < len && is_digit(u[k]))
        k++;
    if (k == len || u[k] == ';' || u[k] == ':') {
        len = k;
        nd = k - i;
        if (nd >= sizeof digits) { /* as the loop below: at most 31 digits */
            *written = raw_copy(u, len, out, cap);
            return 0;
        }
        if (nd)
            d = u + i; /* (u may be NULL when there is no user part) */
        i = len; /* nothing left for the loop */
    }
    /* one pass: digits, visual separators (RFC 3966), and the end of the
     * number at user parameters (";npdi", ";rn=") or a sip URI's password */
    for (; i < len; i++) {
        char c = u[i];
        if (is_digit(c)) {
            if (nd + 1 >= sizeof digits) {
                bad = 1;
                break;
            }
            digits[nd++] = c;
        } else if (c == ';' || c == ':') {
            len = i;
            break;
        } else if (c != '-' && c != '.' && c != '(' && c != ')' && c != ' ') {
            bad = 1;
            break;
        }
    }
    if (bad) {
        for (; i < len; i++)
            if (u[i] == ';' || u[i] == ':') {
                len = i;
                break;
            }
    }
    if (bad || nd == 0) {
        *written = raw_copy(u, len, out, cap);
        return 0;
    }
    size_t n = nd, cl = 0;
    const char *cc = "";
    if (!plus) {
        if (n > 2 && d[0] == '0' && d[1] == '0') {
            d += 2; /* international prefix 00 */
            n -= 2;
        } else if (home && home->national_prefix && d[0] == (char)home->national_prefix &&
                   home->country_code[0] && n > 1) {
            cc = home->country_code;
            cl = strnlen(home->country_code, sizeof home->country_code);
            d += 1;
            n -= 1;
        } else {
            /* a short extension or an unqualified string of digits: not E.164 */
            *written = raw_copy(u, len, out, cap);
            return 0;
        }
    }
    if (1 + cl + n >= cap) {
        *written = raw_copy(u, len, out, cap);
        return 0;
    }
    out[0] = '+';
    for (size_t j = 0; j < cl; j++)
        out[1 + j] = cc[j];
    for (size_t j = 0; j < n; j++)
        out[1 + cl + j] = d[j];
    out[1 + cl + n] = '\0';
    size_t total = cl + n;
    *e164 = total >= 7 && total <= 15 && out[1] != '0';
    *written = 1 + total;
    return 1 + total;
}

size_t sw_number_normalise(sw_str user, const sw_home *home, char *out, size_t cap, uint8_t *e164)
{
    size_t written;
    return normalise(user, home, out, cap, e164, &written);
}

static sw_str uri_user(const sw_uri *u)
{
    return u->user;
}

static void set_number(sw_engine *e, sw_str user, char *out, uint8_t *len, uint8_t *e164)
{
    size_t n;
    if (normalise(user, &e->pol->home, out, SW_NUMBER_MAX, e164, &n) == 0)
        n = strnlen(out, n); /* a raw user part may hold a NUL */
    *len = (uint8_t)n;
}

static int in_home(const sw_engine *e, const char *num, size_t len)
{
    if (!e->pol->home.ranges || len < 2 || num[0] != '+')
        return 0;
    return sw_prefix_set_lookup(e->pol->home.ranges, num + 1, len - 1, NULL) > 0;
}

/* sw_policy_peer_for through the engine's memo of recent addresses: an
 * answer is remembered for the address, and for its port too only where a
 * claim with a port covers the address (trunks told apart by port). */
static const sw_peer *peer_for(sw_engine *e, const sw_addr *a)
{
    if (a->family != 4 && a->family != 6)
        return sw_policy_peer_for(e->pol, a);
    uint64_t lo, hi;
    memcpy(&lo, a->ip, 8);
    memcpy(&hi, a->ip + 8, 8);
    uint64_t h = (lo ^ (hi * UINT64_C(0x9e3779b97f4a7c15)) ^ a->family) * UINT64_C(0xff51afd7ed558ccd);
    struct sw__peer_memo *pm = &e->peer_memo[(h >> 58) & (SW__PEER_MEMO - 1)];
    if (pm->peer && pm->family == a->family && memcmp(pm->ip, a->ip, 16) == 0 &&
        (!pm->port_matters || pm->port == a->port))
        return pm->peer;
    int port_matters;
    pm->peer = sw_policy_peer_lookup(e->pol, a, &port_matters);
    pm->port_matters = (uint8_t)port_matters;
    pm->port = a->port;
    pm->family = a->family;
    memcpy(pm->ip, a->ip, 16);
    return pm->peer;
}

void sw__peer_memo_clear(sw_engine *e)
{
    memset(e->peer_memo, 0, sizeof e->peer_memo);
}

void sw__facts_build(sw_engine *e, const sw_engine_msg *in)
{
    sw_facts *f = &e->facts;
    sw_sip_msg *m = &e->msg;
    sw_sip_error err;
    memset(f, 0, sizeof *f);
    /* lazily computed values: only the "computed" bits are reset; each
     * lazy reader sets all of its outputs when it runs */
    e->lz.have = 0;
    memset(e->lz.pattern_mask, 0, sizeof e->lz.pattern_mask);
    f->ts_ns = in->ts_ns;
    f->src = in->src;
    f->dst = in->dst;
    f->transport = in->transport;
    f->size = in->len;
    f->expires = -1;
    f->peer = in->peer ? in->peer : peer_for(e, &in->src);
    f->dst_peer = peer_for(e, &in->dst);
    if (f->peer->role == SW_ROLE_CORE)
        f->direction = SW_DIR_EGRESS;
    else if (f->dst_peer->role == SW_ROLE_CORE || !e->pol->core)
        f->direction = SW_DIR_INGRESS;
    else
        f->direction = f->dst_peer->is_zone ? SW_DIR_INGRESS : SW_DIR_TRANSIT;

    static const char empty[1] = "";
    const char *data = in->data ? in->data : empty;
    size_t len = in->data ? in->len : 0;
    int parsed = 0;
    const sw_sip_limits *lim = in->sip_limits ? in->sip_limits : &e->lim;
    if (in->framing_error && in->framing_error->code != 0) {
        f->malformed = 1;
        f->error = *in->framing_error;
        e->mf_stage = 0;
        e->mf_code = in->framing_error->code;
        sw_sip_error ignored;
        parsed = sw_sip_parse(m, e->hdrs, e->cap, data, len, SW_SIP_DATAGRAM, lim, &ignored) > 0;
    } else {
        /* sw_engine_preparse left the same parse in m (same bytes, framing
         * and limits) and its validation: do neither twice */
        int pre = e->pre_data && e->pre_data == in->data && e->pre_len == len;
        long r = pre ? 1 : sw_sip_parse(m, e->hdrs, e->cap, data, len, in->framing, lim, &err);
        if (r <= 0) {
            f->malformed = 1;
            f->error = err;
            e->mf_stage = 1;
            e->mf_code = r < 0 ? (int)r : SW_EINVAL;
        } else {
            parsed = 1;
            int vr = pre ? e->pre_vr : sw_sip_validate(m, &err);
            if (pre)
                err = e->pre_err;
            if (vr != SW_OK) {
                f->malformed = 1;
                f->error = err;
                e->mf_stage = 2;
                e->mf_code = vr;
            }
        }
    }
    if (f->malformed) {
        sw__ident_build(e, in, parsed);
        const sw__ident *id = &e->ident;
        f->is_request = id->kind == 1;
        f->method_name = id->method;
        f->method = id->method.len ? sw_method_lookup(id->method.ptr, id->method.len) : SW_METHOD_OTHER;
        f->status = id->status;
        f->call_id = id->call_id;
        f->ruri_user = id->ruri;
        f->from_user = id->from;
        f->to_user = id->to;
        f->pai_user = id->pai;
        f->msg = parsed ? m : NULL;
        /* numbers still help attribute the event */
        set_number(e, f->pai_user.len ? f->pai_user : f->from_user, f->a, &f->a_len, &f->a_e164);
        set_number(e, f->ruri_user, f->b, &f->b_len, &f->b_e164);
        return;
    }
    f->msg = m;
    f->is_request = m->is_request;
    f->status = m->status;
    const sw_cseq *cs;
    if (sw_sip_cseq(m, &cs, &err) == SW_OK) {
        f->cseq = cs->number;
        f->method = cs->method;
        if (!m->is_request)
            f->method_name = cs->method_name;
    }
    if (m->is_request) {
        f->method = (sw_method)m->method;
        f->method_name = m->method_name;
    }
    (void)sw_sip_call_id(m, &f->call_id);
    const sw_via *via;
    if (sw_sip_top_via(m, &via, &err) == SW_OK)
        f->branch = via->branch;
    /* a proxy's response: the transaction as the request was seen */
    if (in->txn_branch.len)
        f->branch = in->txn_branch;
    if (in->txn_call_id.len)
        f->call_id = in->txn_call_id;
    const sw_nameaddr *na;
    if (sw_sip_from(m, &na, &err) == SW_OK) {
        f->from_user = uri_user(&na->uri);
        f->from_host = na->uri.host;
        f->from_tag = na->tag;
    }
    if (sw_sip_to(m, &na, &err) == SW_OK) {
        f->to_user = uri_user(&na->uri);
        f->to_host = na->uri.host;
        f->to_tag = na->tag;
    }
    if (sw_sip_pai(m, &na, &err) == SW_OK)
        f->pai_user = uri_user(&na->uri);
    if (m->is_request) {
        const sw_uri *u;
        if (sw_sip_ruri(m, &u, &err) == SW_OK) {
            f->ruri_user = u->user;
            f->ruri_host = u->host;
        }
    }
    const sw_sip_header *h = sw_sip_first(m, SW_HDR_USER_AGENT);
    if (h)
        f->user_agent = h->value;
    h = sw_sip_first(m, SW_HDR_AUTHORIZATION);
    if (!h)
        h = sw_sip_first(m, SW_HDR_PROXY_AUTHORIZATION);
    if (h) {
        sw_auth a;
        f->has_credentials = 1;
        if (sw_auth_parse(h->value, &a, &err) == SW_OK) {
            f->auth_user = a.username;
            f->auth_realm = a.realm;
        }
    }
    if (!m->is_request && (m->status == 401 || m->status == 407)) {
        h = sw_sip_first(m, m->status == 401 ? SW_HDR_WWW_AUTHENTICATE : SW_HDR_PROXY_AUTHENTICATE);
        sw_auth a;
        if (h && sw_auth_parse(h->value, &a, &err) == SW_OK && sw_str_caseeq_cstr(a.stale, "true"))
            f->challenge_stale = 1;
    }
    if (m->first[SW_HDR_CONTACT] != SW_HDR_NONE &&
        (f->method == SW_METHOD_REGISTER || f->method == SW_METHOD_INVITE)) {
        if (sw_sip_contact(m, &na, &err) == SW_OK) {
            f->contact_star = na->wildcard;
            f->contact_user = na->uri.user;
            sw_str ev;
            uint64_t x;
            if (sw_param_find(na->params, "expires", &ev) && sw_parse_uint(ev, 0xffffffffu, &x) == SW_OK)
                f->expires = (int64_t)x;
        }
    }
    int64_t ex;
    if (m->first[SW_HDR_EXPIRES] != SW_HDR_NONE && sw_sip_expires(m, &ex, &err) == SW_OK)
        f->expires = ex;

    set_number(e, f->pai_user.len ? f->pai_user : f->from_user, f->a, &f->a_len, &f->a_e164);
    set_number(e, f->ruri_user.len ? f->ruri_user : f->to_user, f->b, &f->b_len, &f->b_e164);
    f->a_subscriber = f->a_e164 && in_home(e, f->a, f->a_len);
    f->b_subscriber = f->b_e164 && in_home(e, f->b, f->b_len);
}
