/* Requests through the stateless proxy: route pre-processing (RFC 3261
 * §16.4), checks (§16.3), and the forwarded message (§16.6, §18.2.1,
 * RFC 3581, RFC 5658), with topology hiding toward the interconnect.
 *
 * How hiding stays stateless (docs/sipwalld.md "Topology hiding"):
 *  - Via: the stack under ours travels sealed in our Via (;swh=) and the
 *    response brings it back.
 *  - Record-Route: toward the partner we show one entry, ours, whose
 *    ;swrr= token holds the entries on the core side in the order the
 *    partner's Route will need them after ours; when the partner routes
 *    through it we put them back.  Toward the core the token is opened and
 *    the core sees every entry.
 *  - Contact: sip:swc-TOKEN@<our interconnect address>; the partner's
 *    in-dialog requests target it and we restore the Request-URI.
 *  - Call-ID: swi-TOKEN toward the partner, restored toward the core.  A
 *    dialog the partner started keeps the partner's Call-ID: our
 *    Record-Route entry toward the core carries ;swx, so the core's
 *    in-dialog requests tell us not to hide it; a response re-hides a
 *    Call-ID we restored on its request (a flag in our branch). */
#include <stdlib.h>

#include "proxy/proxy_int.h"

enum {
    PF_ROUTED = 1u << 0,          /* route() said FORWARD: write may run */
    PF_DROP_LAST_ROUTE = 1u << 1, /* strict-router fix-up took the last Route */
    PF_PARTNER_DIALOG = 1u << 2,  /* a popped entry of ours carried ;swx */
    PF_ROUTES_CHANGED = 1u << 3,  /* popped, restored or fixed up: Route is rewritten */
    PF_ADD_RR = 1u << 4,          /* a dialog-creating request: we record-route */
};

#define MAX_LIST_STEPS 4096u /* bound on any walk over list values */

static sw_proxy_result answer(sw_proxy_req *r, uint16_t status)
{
    if (r->msg->method == SW_METHOD_ACK)
        return SW_PROXY_DROP; /* an ACK is never answered */
    r->status = status;
    r->reason = sw_sip_reason_phrase(status);
    return SW_PROXY_REPLY;
}

static int starts_with(sw_str s, const char *lit, size_t n)
{
    return s.len > n && memcmp(s.ptr, lit, n) == 0;
}

static void hop_from_uri(const sw_uri *u, sw_proxy_hop *hop)
{
    memset(hop, 0, sizeof *hop);
    if (u->kind != SW_URI_SIP && u->kind != SW_URI_SIPS)
        return; /* tel: and the like: the caller routes by its own table */
    hop->host = u->host;
    hop->port = u->has_port ? u->port : 0;
    sw_str tv;
    if (sw_param_find(u->params, "transport", &tv) == 1)
        hop->transport = px_transport_from(tv);
    if (u->kind == SW_URI_SIPS &&
        (hop->transport == SW_TRANSPORT_UNKNOWN || hop->transport == SW_TRANSPORT_TCP))
        hop->transport = SW_TRANSPORT_TLS;
    if (px_parse_ip(u->host, &hop->addr) == 0) {
        hop->has_addr = 1;
        hop->addr.port = hop->port ? hop->port : px_default_port(hop->transport);
    }
}

/* Opens an RR token into r->scratch: its entries become the route prefix,
 * ahead of what was left of the prefix. */
static int open_rr_token(sw_proxy *p, sw_proxy_req *r, sw_str tok)
{
    char *dst = r->scratch + r->scratch_used;
    size_t cap = sizeof r->scratch - r->scratch_used;
    long n = sw_hide_open(p->hide, SW_HIDE_RR, tok.ptr, tok.len, dst, cap);
    if (n < 0)
        return (int)n;
    sw_str rest = r->route_prefix;
    if (rest.len) {
        if ((size_t)n + 1 + rest.len > cap)
            return SW_ELIMIT;
        dst[n++] = ',';
        memcpy(dst + n, rest.ptr, rest.len); /* rest lies before dst in scratch */
        n += (long)rest.len;
    }
    r->route_prefix = sw_str_make(dst, (size_t)n);
    r->scratch_used += (size_t)n;
    return SW_OK;
}

/* A seeded multiply-xorshift over 8-byte words: the loop hash only has to
 * spread well, it never leaves the AES-encrypted branch block. */
static uint64_t mix(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    h = (h ^ n) * 0x9e3779b97f4a7c15ULL;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    if (n)
        memcpy(&w, p, n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    return h ^ (h >> 29);
}

/* Loop hash (§16.6 item 8): what decides where a request goes, as received,
 * and nothing that differs between an INVITE, its CANCEL and the ACK for a
 * non-2xx answer: Request-URI, Call-ID, From tag, CSeq number, Route. */
static uint32_t loop_hash(const sw_proxy *p, const sw_sip_msg *m, sw_str cid, sw_str ftag,
                          uint32_t cseq)
{
    uint64_t h;
    memcpy(&h, p->hash_key, sizeof h);
    h = mix(h, m->ruri.ptr, m->ruri.len);
    h = mix(h, cid.ptr, cid.len);
    h = mix(h, ftag.ptr, ftag.len);
    h = mix(h, &cseq, sizeof cseq);
    for (const sw_sip_header *r = sw_sip_first(m, SW_HDR_ROUTE); r; r = sw_sip_next(m, r))
        h = mix(h, r->value.ptr, r->value.len);
    return (uint32_t)(h ^ (h >> 32));
}

/* 1 when a Via of ours in the stack carries this loop hash: the request
 * was here before with nothing that routes it changed. */
static int looped(sw_proxy *p, const sw_sip_msg *m, uint32_t lh)
{
    for (const sw_sip_header *h = sw_sip_first(m, SW_HDR_VIA); h; h = sw_sip_next(m, h)) {
        if (!px_find(h->value, PX_BRANCH_PREFIX, PX_BRANCH_PREFIX_LEN))
            continue;
        sw_str rest = h->value, v;
        for (unsigned k = 0; k < MAX_LIST_STEPS && px_list_next(&rest, &v); k++) {
            sw_via via;
            unsigned fi;
            uint8_t fl;
            uint32_t lp;
            if (sw_via_parse(v, &via, NULL) < 0 ||
                px_branch_open(p, via.branch, &fi, &fl, &lp) < 0 ||
                px_self(p, via.host, via.has_port ? via.port : 0, SW_TRANSPORT_UNKNOWN) < 0)
                continue;
            if (lp == lh)
                return 1;
        }
    }
    return 0;
}

static int dialog_creating(sw_method m)
{
    return m == SW_METHOD_INVITE || m == SW_METHOD_SUBSCRIBE || m == SW_METHOD_REFER ||
           m == SW_METHOD_NOTIFY;
}

sw_proxy_result sw_proxy_route(sw_proxy *p, sw_proxy_req *r)
{
    sw_sip_msg *m = r->msg;
    r->priv_flags = 0;
    r->routes_popped = r->routes_total = 0;
    r->route_prefix = sw_str_make(r->scratch, 0);
    r->scratch_used = 0;
    r->status = 0;
    r->reason = NULL;
    r->hop_from_route = r->hop_is_self = 0;
    memset(&r->hop, 0, sizeof r->hop);
    if (!m->is_request)
        return SW_PROXY_DROP;
    if (r->in_iface >= p->nifaces)
        return SW_PROXY_DROP;

    /* What every forwarded request needs (and the branch is made of). */
    const sw_via *tv;
    const sw_nameaddr *from, *to;
    const sw_cseq *cseq;
    const sw_uri *ru;
    sw_str cid;
    sw_sip_error err;
    if (sw_sip_top_via(m, &tv, &err) < 0 || sw_sip_from(m, &from, &err) < 0 ||
        sw_sip_to(m, &to, &err) < 0 || sw_sip_cseq(m, &cseq, &err) < 0 ||
        sw_sip_call_id(m, &cid) < 0 || cid.len == 0 || sw_sip_ruri(m, &ru, &err) < 0)
        return answer(r, 400);
    const int in_dialog = to->tag.len > 0;

    /* An ACK for one of our own negative answers ends here (§16.11). */
    if (m->method == SW_METHOD_ACK && to->tag.len == PX_TAG_LEN &&
        memcmp(to->tag.ptr, PX_TAG_PREFIX, 2) == 0) {
        char tag[PX_TAG_LEN];
        if (px_reply_tag(p, m, tag) == 0 && memcmp(tag, to->tag.ptr, PX_TAG_LEN) == 0)
            return SW_PROXY_DROP;
    }

    /* Max-Forwards (§16.3 item 3). */
    int64_t mf = 70;
    int rc = sw_sip_max_forwards(m, &mf, &err);
    if (rc == SW_EMISSING)
        mf = 70;
    else if (rc < 0)
        return answer(r, 400);
    if (mf == 0)
        return answer(r, 483);
    r->max_forwards = mf;

    /* The original Route values: how many, and the last one. */
    sw_sip_values it;
    sw_str v, last = SW_STR_NULL;
    unsigned total = 0;
    sw_sip_values_init(&it, m, SW_HDR_ROUTE);
    while ((rc = sw_sip_values_next(&it, &v, &err)) > 0) {
        if (++total > 0xfffe)
            return answer(r, 400);
        last = v;
    }
    if (rc < 0)
        return answer(r, 400);
    r->routes_total = (uint16_t)total;

    r->ruri = m->ruri;
    sw_uri target = *ru;
    int opened = 0; /* one RR token per request: a token cannot unfold another */
    sw_str tok;

    /* Strict-router fix-up (§16.4): the previous hop put one of our
     * Record-Route URIs (which have no user part) in the Request-URI and
     * the real target at the end of Route. */
    if (total > 0 && target.user.len == 0 && px_uri_self(p, &target, NULL)) {
        sw_nameaddr na;
        if (sw_nameaddr_parse(last, &na, &err) < 0)
            return answer(r, 400);
        if (sw_param_find(target.params, "swx", NULL))
            r->priv_flags |= PF_PARTNER_DIALOG;
        if (sw_param_find(target.params, "swrr", &tok) == 1) {
            opened = 1;
            if (open_rr_token(p, r, tok) < 0)
                return answer(r, in_dialog ? 481 : 404);
        }
        r->ruri = na.uri.raw;
        target = na.uri;
        r->priv_flags |= PF_DROP_LAST_ROUTE | PF_ROUTES_CHANGED;
    }
    const unsigned limit = total - ((r->priv_flags & PF_DROP_LAST_ROUTE) ? 1u : 0u);

    /* Loose routing (§16.4): pop our own entries from the top; one that
     * carries a token gives back the entries it hid. */
    sw_sip_values_init(&it, m, SW_HDR_ROUTE);
    int peeked = 0;
    sw_str orig = SW_STR_NULL;
    for (unsigned step = 0; step < MAX_LIST_STEPS; step++) {
        sw_str rest = r->route_prefix, top;
        int from_prefix = px_list_next(&rest, &top);
        if (!from_prefix) {
            if (r->routes_popped >= limit)
                break;
            if (!peeked) {
                if (sw_sip_values_next(&it, &orig, &err) <= 0)
                    return answer(r, 400);
                peeked = 1;
            }
            top = orig;
        }
        sw_nameaddr na;
        if (sw_nameaddr_parse(top, &na, &err) < 0)
            return answer(r, 400);
        if (!px_uri_self(p, &na.uri, NULL))
            break;
        if (from_prefix) {
            r->route_prefix = rest;
        } else {
            r->routes_popped++;
            peeked = 0;
        }
        r->priv_flags |= PF_ROUTES_CHANGED;
        if (sw_param_find(na.uri.params, "swx", NULL))
            r->priv_flags |= PF_PARTNER_DIALOG;
        if (!opened && sw_param_find(na.uri.params, "swrr", &tok) == 1) {
            opened = 1;
            if (open_rr_token(p, r, tok) < 0)
                return answer(r, in_dialog ? 481 : 404);
        }
    }
    sw_str rest = r->route_prefix, top = SW_STR_NULL;
    int routes_left = px_list_next(&rest, &top);
    if (!routes_left && r->routes_popped < limit) {
        if (!peeked && sw_sip_values_next(&it, &orig, &err) <= 0)
            return answer(r, 400);
        top = orig;
        routes_left = 1;
    }

    /* A Request-URI that is one of our hidden Contacts: the original. */
    if (target.user.len > 4 && memcmp(target.user.ptr, "swc-", 4) == 0 &&
        px_uri_self(p, &target, NULL)) {
        char *dst = r->scratch + r->scratch_used;
        size_t cap = sizeof r->scratch - r->scratch_used;
        long n = sw_hide_open(p->hide, SW_HIDE_CONTACT, target.user.ptr + 4, target.user.len - 4,
                              dst, cap);
        if (n < 0)
            return answer(r, in_dialog ? 481 : 404);
        sw_uri restored;
        if (sw_uri_parse(sw_str_make(dst, (size_t)n), &restored, &err) < 0)
            return answer(r, 400);
        r->scratch_used += (size_t)n;
        r->ruri = restored.raw;
        target = restored;
    }
    if (target.kind == SW_URI_OTHER && !routes_left)
        return answer(r, 416);

    /* Addressed to us and nowhere further. */
    if (!routes_left && px_uri_self(p, &target, NULL)) {
        if (target.user.len == 0 && m->method == SW_METHOD_OPTIONS)
            return answer(r, 200); /* a keep-alive ping */
        r->hop_is_self = 1;
    }

    /* Loop detection (§16.3 item 4). */
    r->loop_hash = loop_hash(p, m, cid, from->tag, cseq->number);
    if (looped(p, m, r->loop_hash))
        return answer(r, 482);

    /* The next hop. */
    if (routes_left) {
        sw_nameaddr na;
        if (sw_nameaddr_parse(top, &na, &err) < 0)
            return answer(r, 400);
        hop_from_uri(&na.uri, &r->hop);
        r->hop_from_route = 1;
    } else {
        hop_from_uri(&target, &r->hop);
    }
    if (dialog_creating((sw_method)m->method) && !in_dialog)
        r->priv_flags |= PF_ADD_RR;
    r->priv_flags |= PF_ROUTED;
    return SW_PROXY_FORWARD;
}

/* ---- writing -------------------------------------------------------------------------- */

/* The transaction part of our branch (§16.11): from the incoming branch
 * when it has the magic cookie, else from what identifies an RFC 2543
 * transaction.  Either way a retransmission, the CANCEL and the ACK for a
 * non-2xx answer get the same value.  Like the loop hash it is keyed and
 * stays inside the encrypted block, so a fast mix is enough. */
static uint32_t txn_hash(const sw_proxy *p, unsigned iface, sw_sip_msg *m, const sw_via *tv,
                         sw_str cid)
{
    uint64_t h;
    memcpy(&h, p->hash_key + 8, sizeof h);
    uint8_t ifb = (uint8_t)iface;
    uint16_t port = tv->has_port ? tv->port : 0;
    if (tv->branch.len > 7 && memcmp(tv->branch.ptr, "z9hG4bK", 7) == 0) {
        h = mix(h, &ifb, 1);
        h = mix(h, tv->branch.ptr, tv->branch.len);
        h = mix(h, tv->host.ptr, tv->host.len);
        h = mix(h, &port, sizeof port);
    } else {
        const sw_nameaddr *from, *to;
        const sw_cseq *cseq;
        sw_sip_values it;
        sw_str top = SW_STR_NULL;
        sw_sip_values_init(&it, m, SW_HDR_VIA);
        if (sw_sip_values_next(&it, &top, NULL) <= 0)
            top = SW_STR_NULL;
        h = mix(h ^ 0x2543, &ifb, 1); /* RFC 2543 */
        h = mix(h, cid.ptr, cid.len);
        if (sw_sip_from(m, &from, NULL) == 0)
            h = mix(h, from->tag.ptr, from->tag.len);
        if (sw_sip_to(m, &to, NULL) == 0)
            h = mix(h, to->tag.ptr, to->tag.len);
        if (sw_sip_cseq(m, &cseq, NULL) == 0)
            h = mix(h, &cseq->number, sizeof cseq->number);
        h = mix(h, m->ruri.ptr, m->ruri.len);
        h = mix(h, top.ptr, top.len);
    }
    return (uint32_t)(h ^ (h >> 32));
}

static int branch_make(sw_proxy *p, unsigned iface, uint8_t flags, uint32_t loop, uint32_t txn,
                       char out[PX_BRANCH_LEN])
{
    uint8_t blk[16] = {(uint8_t)iface, flags, (uint8_t)loop, (uint8_t)(loop >> 8),
                       (uint8_t)(loop >> 16), (uint8_t)(loop >> 24), (uint8_t)txn,
                       (uint8_t)(txn >> 8), (uint8_t)(txn >> 16), (uint8_t)(txn >> 24)};
    uint8_t enc[32];
    int l = 0;
    if (EVP_CipherUpdate(p->br_enc, enc, &l, blk, 16) != 1 || l != 16)
        return SW_EINVAL;
    memcpy(out, PX_BRANCH_PREFIX, PX_BRANCH_PREFIX_LEN);
    out[PX_BRANCH_PREFIX_LEN] = px_worker_char(p->worker);
    sw__b64url_encode(enc, 16, out + PX_BRANCH_PREFIX_LEN + 1);
    return SW_OK;
}

/* "Via: <top value with received/rport><the rest of that header>" */
static void write_first_via(px_out *o, const sw_sip_header *h, const sw_via *tv,
                            const sw_addr *src, int with_name, int stream)
{
    sw_str rest = h->value, v;
    if (!px_list_next(&rest, &v)) {
        v = h->value;
        rest = SW_STR_NULL;
    }
    if (with_name)
        PX_LIT(o, "Via: ");
    px_out_top_via(o, v, tv, src, stream);
    if (rest.len) {
        PX_LIT(o, ", ");
        px_str(o, rest);
    }
    if (with_name)
        PX_LIT(o, "\r\n");
}

static void write_routes(px_out *o, const sw_proxy_req *r)
{
    const sw_sip_msg *m = r->msg;
    size_t start = o->len;
    PX_LIT(o, "Route: ");
    size_t first = o->len;
    px_str(o, r->route_prefix);
    unsigned limit = r->routes_total - ((r->priv_flags & PF_DROP_LAST_ROUTE) ? 1u : 0u);
    sw_sip_values it;
    sw_sip_values_init(&it, m, SW_HDR_ROUTE);
    sw_str v;
    for (unsigned i = 0; i < limit && sw_sip_values_next(&it, &v, NULL) > 0; i++) {
        if (i < r->routes_popped)
            continue;
        if (o->len > first)
            PX_LIT(o, ", ");
        px_str(o, v);
    }
    if (o->err)
        return;
    if (o->len == first)
        o->len = start; /* nothing left to route through */
    else
        PX_LIT(o, "\r\n");
}

/* Our Record-Route (RFC 5658: top names the way out, second the way in).
 * Hiding: one entry toward the partner, whose token holds our entry on the
 * core side and every entry the core added, in the order the partner's
 * Route will carry them after ours. */
static void write_our_rr(sw_proxy *p, px_out *o, const sw_sip_msg *m, const px_iface *fin,
                         const px_iface *fout, int hide, int swx)
{
    if (hide) {
        px_out pt = {p->pt, PX_PT_CAP, 0, 0};
        px_out_rr_open(&pt, fin);
        PX_LIT(&pt, ">");
        sw_sip_values it;
        sw_sip_values_init(&it, m, SW_HDR_RECORD_ROUTE);
        sw_str v;
        for (unsigned k = 0; k < MAX_LIST_STEPS && sw_sip_values_next(&it, &v, NULL) > 0; k++) {
            PX_LIT(&pt, ",");
            px_str(&pt, v);
        }
        if (pt.err) {
            o->err = pt.err;
            return;
        }
        PX_LIT(o, "Record-Route: ");
        px_out_rr_open(o, fout);
        PX_LIT(o, ";swrr=");
        px_seal(p, o, SW_HIDE_RR, pt.p, pt.len);
        PX_LIT(o, ">\r\n");
        return;
    }
    PX_LIT(o, "Record-Route: ");
    px_out_rr_open(o, fout);
    if (swx)
        PX_LIT(o, ";swx");
    PX_LIT(o, ">\r\n");
    if (fin != fout) {
        PX_LIT(o, "Record-Route: ");
        px_out_rr_open(o, fin);
        PX_LIT(o, ">\r\n");
    }
}

long sw_proxy_write_request(sw_proxy *p, sw_proxy_req *r, unsigned out_iface, char *out,
                            size_t cap)
{
    if (!(r->priv_flags & PF_ROUTED) || out_iface >= p->nifaces || r->in_iface >= p->nifaces)
        return SW_EUSAGE;
    sw_sip_msg *m = r->msg;
    const px_iface *fin = &p->ifs[r->in_iface], *fout = &p->ifs[out_iface];
    const int hide = p->hide_topology && fin->cfg.side == SW_SIDE_CORE &&
                     fout->cfg.side == SW_SIDE_INTERCONNECT;
    const int restore = fin->cfg.side == SW_SIDE_INTERCONNECT && fout->cfg.side == SW_SIDE_CORE;
    const sw_via *tv;
    sw_str cid;
    if (sw_sip_top_via(m, &tv, NULL) < 0 || sw_sip_call_id(m, &cid) < 0)
        return SW_EUSAGE;

    /* Call-ID: hidden toward the partner unless the partner made the
     * dialog; ours restored toward the core. */
    enum { CID_KEEP, CID_HIDE, CID_RESTORE } cid_mode = CID_KEEP;
    sw_str cid_restored = SW_STR_NULL;
    uint8_t bflags = 0;
    if (hide && !(r->priv_flags & PF_PARTNER_DIALOG)) {
        cid_mode = CID_HIDE;
    } else if (restore && starts_with(cid, "swi-", 4)) {
        long n = sw_hide_open(p->hide, SW_HIDE_CALL_ID, cid.ptr + 4, cid.len - 4, p->cid,
                              PX_CID_CAP);
        if (n > 0) {
            cid_restored = sw_str_make(p->cid, (size_t)n);
            cid_mode = CID_RESTORE;
            bflags |= PX_BR_CALLID_RESTORED;
        }
    }

    char branch[PX_BRANCH_LEN];
    if (branch_make(p, r->in_iface, bflags, r->loop_hash, txn_hash(p, r->in_iface, m, tv, cid),
                    branch) < 0)
        return SW_EINVAL;

    px_out o = {out, cap, 0, 0};
    px_str(&o, m->method_name);
    PX_LIT(&o, " ");
    px_str(&o, r->ruri);
    PX_LIT(&o, " SIP/2.0\r\nVia: ");
    px_put(&o, fout->via, fout->via_len);
    px_put(&o, fout->hostport, fout->hostport_len);
    PX_LIT(&o, ";branch=");
    px_put(&o, branch, PX_BRANCH_LEN);
    PX_LIT(&o, ";rport");
    if (hide) {
        /* the whole stack, received/rport added, sealed into ours */
        px_out pt = {p->pt, PX_PT_CAP, 0, 0};
        const sw_sip_header *h = sw_sip_first(m, SW_HDR_VIA);
        write_first_via(&pt, h, tv, &r->src, 0, r->transport != SW_TRANSPORT_UDP);
        for (h = sw_sip_next(m, h); h; h = sw_sip_next(m, h)) {
            PX_LIT(&pt, ",");
            px_str(&pt, h->value);
        }
        if (pt.err)
            return pt.err;
        PX_LIT(&o, ";swh=");
        px_seal(p, &o, SW_HIDE_VIA, pt.p, pt.len);
    }
    PX_LIT(&o, "\r\n");

    const int add_rr = (r->priv_flags & PF_ADD_RR) != 0;
    const int swx = p->hide_topology && restore;
    /* Without Record-Route in the request, ours goes after the Via block
     * (header rows of one name stay together). */
    int rr_pending = add_rr && m->first[SW_HDR_RECORD_ROUTE] == SW_HDR_NONE;
    unsigned last_via = 0;
    for (const sw_sip_header *h = sw_sip_first(m, SW_HDR_VIA); h; h = sw_sip_next(m, h))
        last_via = (unsigned)(h - m->hdrs);

    px_span span = {0, 0};
    for (unsigned i = 0; i < m->nhdrs && !o.err; i++) {
        const sw_sip_header *h = &m->hdrs[i];
        const int first = m->first[h->id] == i;
        if (rr_pending && i > last_via) {
            px_flush(&o, &span, m);
            write_our_rr(p, &o, m, fin, fout, hide, swx);
            rr_pending = 0;
        }
        switch (h->id) {
        case SW_HDR_VIA:
            if (hide)
                break; /* sealed into ours */
            if (first) {
                px_flush(&o, &span, m);
                write_first_via(&o, h, tv, &r->src, 1, r->transport != SW_TRANSPORT_UDP);
            } else {
                px_keep(&o, &span, m, i);
            }
            break;
        case SW_HDR_ROUTE:
            if (!(r->priv_flags & PF_ROUTES_CHANGED)) {
                px_keep(&o, &span, m, i);
            } else if (first) {
                px_flush(&o, &span, m);
                write_routes(&o, r);
            }
            break;
        case SW_HDR_RECORD_ROUTE:
            if (first && add_rr) {
                px_flush(&o, &span, m);
                write_our_rr(p, &o, m, fin, fout, hide, swx);
            }
            /* hiding: an initial request's entries are in our token; an
             * in-dialog request's cannot change the route set (§12.2)
             * and would only show the core */
            if (!hide)
                px_keep(&o, &span, m, i);
            break;
        case SW_HDR_MAX_FORWARDS:
            if (first) {
                px_flush(&o, &span, m);
                PX_LIT(&o, "Max-Forwards: ");
                px_uint(&o, (uint64_t)(r->max_forwards - 1));
                PX_LIT(&o, "\r\n");
            }
            break;
        case SW_HDR_CONTACT:
            if (!hide) {
                px_keep(&o, &span, m, i);
            } else if (first) {
                px_flush(&o, &span, m);
                px_out_hidden_contacts(p, &o, m, fout);
            }
            break;
        case SW_HDR_CALL_ID:
            if (cid_mode == CID_KEEP) {
                px_keep(&o, &span, m, i);
            } else if (first) {
                px_flush(&o, &span, m);
                if (cid_mode == CID_HIDE) {
                    PX_LIT(&o, "Call-ID: swi-");
                    px_seal(p, &o, SW_HIDE_CALL_ID, cid.ptr, cid.len);
                } else {
                    PX_LIT(&o, "Call-ID: ");
                    px_str(&o, cid_restored);
                }
                PX_LIT(&o, "\r\n");
            }
            break;
        case SW_HDR_CONTENT_LENGTH:
            px_out_content_length(&o, &span, m, first);
            break;
        default:
            px_out_other(&o, &span, m, i, r->verdict);
            break;
        }
    }
    px_flush(&o, &span, m);
    if (rr_pending)
        write_our_rr(p, &o, m, fin, fout, hide, swx);
    if (m->first[SW_HDR_MAX_FORWARDS] == SW_HDR_NONE) {
        PX_LIT(&o, "Max-Forwards: ");
        px_uint(&o, (uint64_t)(r->max_forwards - 1));
        PX_LIT(&o, "\r\n");
    }
    px_out_end(&o, &span, m);
    if (o.err)
        return o.err;
    return (long)o.len;
}
