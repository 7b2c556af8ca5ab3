/* Responses through the stateless proxy (RFC 3261 §16.11, §18.2.2): the
 * top Via must be ours, it goes, the next one says where the response
 * goes; topology hiding by direction. */
#include "proxy/proxy_int.h"

#define PX_MAX_RR 64 /* Record-Route entries looked at when hiding */

/* The next hop from a Via value (§18.2.2, RFC 3581 §4): received (else the
 * sent-by host) and rport (else the sent-by port), the transport from the
 * sent-protocol.  Only what the hop needs is read: sent-protocol, sent-by,
 * and the received/rport parameters.  The host is copied into r->scratch. */
static int hop_from_via(sw_proxy_resp *r, sw_str v)
{
    const char *p = v.ptr, *end = v.ptr + v.len;
    /* "SIP / 2.0 / UDP": the transport is the token after the second '/' */
    int slashes = 0;
    while (p < end && slashes < 2)
        slashes += *p++ == '/';
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *ts = p;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
        p++;
    if (slashes < 2 || p == ts)
        return SW_EINVAL;
    sw_str transport = sw_str_make(ts, (size_t)(p - ts));
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    const char *hs = p, *he;
    if (p < end && *p == '[') {
        he = memchr(p, ']', (size_t)(end - p));
        if (!he)
            return SW_EINVAL;
        hs = p + 1;
        p = he + 1;
    } else {
        while (p < end && *p != ':' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        he = p;
    }
    sw_str host = sw_str_make(hs, (size_t)(he - hs));
    uint32_t port = 0;
    if (p < end && *p == ':') {
        const char *d = ++p;
        while (p < end && *p >= '0' && *p <= '9' && port <= 65535)
            port = port * 10 + (uint32_t)(*p++ - '0');
        if (p == d || port > 65535)
            return SW_EINVAL;
    }
    const char *semi = memchr(p, ';', (size_t)(end - p));
    sw_str cur = semi ? sw_str_make(semi, (size_t)(end - semi)) : SW_STR_NULL, received = SW_STR_NULL;
    int32_t rport = 0;
    sw_param prm;
    while (sw_param_next(&cur, &prm) > 0) {
        if (prm.has_value && sw_str_caseeq(prm.name, SW_STR_LIT("received"))) {
            received = prm.value;
        } else if (prm.has_value && sw_str_caseeq(prm.name, SW_STR_LIT("rport"))) {
            uint64_t n;
            if (sw_parse_uint(prm.value, 65535, &n) == 0)
                rport = (int32_t)n;
        }
    }
    if (received.len)
        host = received;
    if (host.len >= 2 && host.ptr[0] == '[' && host.ptr[host.len - 1] == ']')
        host = sw_str_make(host.ptr + 1, host.len - 2);
    if (host.len == 0 || host.len > sizeof r->scratch)
        return SW_EINVAL;
    for (size_t i = 0; i < host.len; i++) {
        char c = host.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_' || c == ':'))
            return SW_EINVAL;
    }
    memcpy(r->scratch, host.ptr, host.len);
    r->scratch_used = host.len;
    sw_proxy_hop *hop = &r->hop;
    memset(hop, 0, sizeof *hop);
    hop->host = sw_str_make(r->scratch, host.len);
    hop->port = rport > 0 ? (uint16_t)rport : (uint16_t)port;
    hop->transport = px_transport_from(transport);
    if (px_parse_ip(hop->host, &hop->addr) == 0) {
        hop->has_addr = 1;
        hop->addr.port = hop->port ? hop->port : px_default_port(hop->transport);
    }
    return SW_OK;
}

/* ;swh= among our Via's parameters (we write it after branch and rport). */
static int find_swh(sw_str params, sw_str *tok)
{
    const char *at = px_find(params, ";swh=", 5);
    if (!at)
        return 0;
    const char *s = at + 5, *end = params.ptr + params.len, *e = s;
    while (e < end && *e != ';' && *e != ' ' && *e != '\t' && *e != '\r')
        e++;
    *tok = sw_str_make(s, (size_t)(e - s));
    return e > s;
}

/* 1 when the URI names interface f (address and port). */
static int uri_names(const sw_uri *u, const px_iface *f)
{
    sw_addr a;
    if ((u->kind != SW_URI_SIP && u->kind != SW_URI_SIPS) || px_parse_ip(u->host, &a) < 0)
        return 0;
    uint16_t port = u->has_port ? u->port : px_default_port(f->cfg.transport);
    return port == f->port && a.family == f->cfg.addr.family &&
           memcmp(a.ip, f->cfg.addr.ip, a.family == 4 ? 4 : 16) == 0;
}

/* Toward the partner: the entries above ours (the core's, and our own entry
 * on the core side) go into a token on our entry, last first, which is
 * the order the partner's Route carries them after ours.  No entry of
 * ours: the list is all the core's, or stale; it goes. */
static void rr_hide(sw_proxy *p, px_out *o, const sw_sip_msg *m, const px_iface *fout)
{
    sw_str vals[PX_MAX_RR];
    unsigned n = 0;
    sw_sip_values it;
    sw_sip_values_init(&it, m, SW_HDR_RECORD_ROUTE);
    sw_str v;
    int rc;
    while ((rc = sw_sip_values_next(&it, &v, NULL)) > 0) {
        if (n == PX_MAX_RR)
            return;
        vals[n++] = v;
    }
    if (rc < 0)
        return;
    unsigned k = n;
    for (unsigned i = 0; i < n; i++) {
        sw_nameaddr na;
        if (sw_nameaddr_parse(vals[i], &na, NULL) == 0 && uri_names(&na.uri, fout)) {
            k = i;
            break;
        }
    }
    if (k == n)
        return;
    PX_LIT(o, "Record-Route: ");
    if (k == 0) {
        px_str(o, vals[0]);
    } else {
        px_out pt = {p->pt, PX_PT_CAP, 0, 0};
        for (unsigned i = k; i-- > 0;) {
            px_str(&pt, vals[i]);
            if (i)
                PX_LIT(&pt, ",");
        }
        if (pt.err) {
            o->err = pt.err;
            return;
        }
        px_out_rr_open(o, fout);
        PX_LIT(o, ";swrr=");
        px_seal(p, o, SW_HIDE_RR, pt.p, pt.len);
        PX_LIT(o, ">");
    }
    for (unsigned j = k + 1; j < n; j++) {
        PX_LIT(o, ", ");
        px_str(o, vals[j]);
    }
    PX_LIT(o, "\r\n");
}

/* Toward the core: our entry with a token becomes the plain entry followed
 * by what the token hid (in Record-Route order), so the core's route set
 * is whole.  A token that does not open is a forgery: SW_EAUTH. */
static void rr_expand(sw_proxy *p, px_out *o, const sw_sip_msg *m)
{
    PX_LIT(o, "Record-Route: ");
    size_t first = o->len;
    int expanded = 0;
    sw_sip_values it;
    sw_sip_values_init(&it, m, SW_HDR_RECORD_ROUTE);
    sw_str v, tok;
    while (!o->err && sw_sip_values_next(&it, &v, NULL) > 0) {
        if (o->len > first)
            PX_LIT(o, ", ");
        sw_nameaddr na;
        if (expanded || !px_find(v, "swrr=", 5) ||
            sw_nameaddr_parse(v, &na, NULL) < 0 || !px_uri_self(p, &na.uri, NULL) ||
            sw_param_find(na.uri.params, "swrr", &tok) != 1) {
            px_str(o, v);
            continue;
        }
        expanded = 1;
        PX_LIT(o, "<");
        px_out_uri_without(o, &na.uri, "swrr");
        PX_LIT(o, ">");
        if (na.params.len) {
            PX_LIT(o, ";");
            px_str(o, na.params);
        }
        PX_LIT(o, ", ");
        if (o->err)
            return;
        long n = sw_hide_open(p->hide, SW_HIDE_RR, tok.ptr, tok.len, o->p + o->len,
                              o->cap - o->len);
        if (n < 0) {
            o->err = n == SW_ELIMIT ? SW_ELIMIT : SW_EAUTH;
            return;
        }
        o->len = n ? o->len + (size_t)n : o->len - 2; /* an empty token: no ", " */
    }
    PX_LIT(o, "\r\n");
}

static int rr_has_token(const sw_sip_msg *m)
{
    for (const sw_sip_header *h = sw_sip_first(m, SW_HDR_RECORD_ROUTE); h; h = sw_sip_next(m, h))
        if (px_find(h->value, "swrr=", 5))
            return 1;
    return 0;
}

sw_proxy_result sw_proxy_response(sw_proxy *p, sw_proxy_resp *r, char *out, size_t cap, long *len)
{
    sw_sip_msg *m = r->msg;
    *len = 0;
    memset(&r->hop, 0, sizeof r->hop);
    r->out_iface = 0;
    r->scratch_used = 0;
    if (m->is_request || m->nhdrs == 0)
        return SW_PROXY_DROP;

    /* The top Via must be ours: our address and a branch that opens. */
    const sw_via *tv;
    if (sw_sip_top_via(m, &tv, NULL) < 0)
        return SW_PROXY_DROP;
    int via_if = px_self(p, tv->host, tv->has_port ? tv->port : 0, px_transport_from(tv->transport));
    unsigned oif;
    uint8_t bflags;
    uint32_t loop;
    if (via_if < 0 || px_branch_open(p, tv->branch, &oif, &bflags, &loop) < 0)
        return SW_PROXY_DROP;

    const sw_sip_header *vh = sw_sip_first(m, SW_HDR_VIA);
    sw_str vrest = vh->value, ours, next_v, cur;
    if (!px_list_next(&vrest, &ours))
        return SW_PROXY_DROP;

    /* The stack we hid on the way out, back in place. */
    sw_str hidden = SW_STR_NULL, swh;
    if (find_swh(tv->params, &swh)) {
        long n = sw_hide_open(p->hide, SW_HIDE_VIA, swh.ptr, swh.len, p->vpt, PX_PT_CAP);
        if (n <= 0)
            return SW_PROXY_DROP;
        hidden = sw_str_make(p->vpt, (size_t)n);
    }
    cur = hidden;
    if (!px_list_next(&cur, &next_v)) {
        cur = vrest;
        if (!px_list_next(&cur, &next_v)) {
            const sw_sip_header *h2 = sw_sip_next(m, vh);
            cur = h2 ? h2->value : SW_STR_NULL;
            if (!px_list_next(&cur, &next_v))
                return SW_PROXY_DROP; /* nobody to send it to */
        }
    }
    if (hop_from_via(r, next_v) < 0)
        return SW_PROXY_DROP;
    r->out_iface = oif;
    sw_via nv;
    r->req_branch = sw_via_parse(next_v, &nv, NULL) == SW_OK ? nv.branch : SW_STR_NULL;
    r->req_call_id = SW_STR_NULL;

    const px_iface *fvia = &p->ifs[via_if], *fout = &p->ifs[oif];
    const int hide = p->hide_topology && fvia->cfg.side == SW_SIDE_CORE &&
                     fout->cfg.side == SW_SIDE_INTERCONNECT;
    const int restore = fvia->cfg.side == SW_SIDE_INTERCONNECT && fout->cfg.side == SW_SIDE_CORE;
    const int expand = restore && rr_has_token(m);

    px_out o = {out, cap, 0, 0};
    px_put(&o, m->buf, m->hdrs[0].offset); /* the status line */
    px_span span = {0, 0};
    for (unsigned i = 0; i < m->nhdrs && !o.err; i++) {
        const sw_sip_header *h = &m->hdrs[i];
        const int first = m->first[h->id] == i;
        switch (h->id) {
        case SW_HDR_VIA:
            if (h != vh) {
                px_keep(&o, &span, m, i);
                break;
            }
            px_flush(&o, &span, m);
            if (hidden.len) {
                PX_LIT(&o, "Via: ");
                px_str(&o, hidden);
                PX_LIT(&o, "\r\n");
            }
            if (vrest.len) {
                PX_LIT(&o, "Via: ");
                px_str(&o, vrest);
                PX_LIT(&o, "\r\n");
            }
            break;
        case SW_HDR_RECORD_ROUTE:
            if (hide || expand) {
                if (first) {
                    px_flush(&o, &span, m);
                    if (hide)
                        rr_hide(p, &o, m, fout);
                    else
                        rr_expand(p, &o, m);
                }
            } else {
                px_keep(&o, &span, m, i);
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
        case SW_HDR_CALL_ID: {
            sw_str cid = h->value;
            if ((bflags & PX_BR_CALLID_RESTORED) && fout->cfg.side == SW_SIDE_INTERCONNECT) {
                /* the partner sent it hidden: it gets it back hidden */
                px_flush(&o, &span, m);
                if (first) {
                    PX_LIT(&o, "Call-ID: ");
                    size_t vs = o.len;
                    PX_LIT(&o, "swi-");
                    px_seal(p, &o, SW_HIDE_CALL_ID, cid.ptr, cid.len);
                    if (!o.err)
                        r->req_call_id = sw_str_make(o.p + vs, o.len - vs);
                    PX_LIT(&o, "\r\n");
                }
                break;
            }
            if (restore && first && cid.len > 4 && memcmp(cid.ptr, "swi-", 4) == 0) {
                px_flush(&o, &span, m);
                size_t mark = o.len;
                PX_LIT(&o, "Call-ID: ");
                if (o.err)
                    break;
                long n = sw_hide_open(p->hide, SW_HIDE_CALL_ID, cid.ptr + 4, cid.len - 4,
                                      o.p + o.len, o.cap - o.len);
                if (n == SW_ELIMIT) {
                    o.err = SW_ELIMIT;
                } else if (n > 0) {
                    r->req_call_id = sw_str_make(o.p + o.len, (size_t)n);
                    o.len += (size_t)n;
                    PX_LIT(&o, "\r\n");
                } else { /* not one of ours: as it came */
                    o.len = mark;
                    px_keep(&o, &span, m, i);
                }
                break;
            }
            px_keep(&o, &span, m, i);
            break;
        }
        case SW_HDR_CONTENT_LENGTH:
            px_out_content_length(&o, &span, m, first);
            break;
        default:
            px_out_other(&o, &span, m, i, r->verdict);
            break;
        }
    }
    px_out_end(&o, &span, m);
    if (o.err) {
        *len = o.err == SW_ELIMIT || o.err == SW_ERANGE ? o.err : 0;
        return SW_PROXY_DROP;
    }
    *len = (long)o.len;
    return SW_PROXY_FORWARD;
}
