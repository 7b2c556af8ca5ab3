/* Topology hiding over whole dialogs, through two operators' sipwalld
 * proxies back to back:
 *
 *   alice ── kA ── PA(core 10.1.0.1 | 192.0.2.1 interconnect)
 *                     ══ interconnect ══
 *          PB(interconnect 198.51.100.1 | core 10.2.0.1) ── kB ── bob
 *
 * kA and kB are record-routing core proxies (sw_proxy instances with one
 * core interface).  PA hides operator A's core toward the interconnect, PB
 * operator B's, so every call crosses one proxy core->interconnect and the
 * other interconnect->core: both directions of hiding at once.  The user
 * agents are simulated here from what they receive (RFC 3261 §12: the UAS
 * copies Via/Record-Route/Call-ID, the UAC builds its route set from the
 * 2xx's Record-Route reversed, the remote target is the Contact).
 *
 * Checked on every message: nothing on the interconnect carries a core
 * address (10.1.x, 10.2.x) or a core Call-ID; each UA sees its own values
 * (Call-ID, its Contact as Request-URI, its Via in responses); CANCEL and
 * the ACK for a non-2xx reach the far UA with the INVITE's branch. */
#include "proxy_test_util.h"

#define MAX_NODES 6
#define INBOX 8

typedef struct node {
    const char *name;
    int is_ua;
    sw_proxy *px;
    sw_proxy_iface ifs[2];
    unsigned nifs;
    sw_addr ua_addr;
    const char *route_names[2]; /* the "daemon" routes of a proxy: a.example / b.example */
    const char *route_addrs[2];
    char *inbox[INBOX];
    size_t inlen[INBOX];
    unsigned nin;
} node;

typedef struct net {
    node nodes[MAX_NODES];
    unsigned n;
    unsigned interconnect_msgs, drops;
} net;

static net g_net;

static int is_core(const sw_addr *a)
{
    return a->family == 4 && a->ip[0] == 10;
}

static node *node_at(net *n, const sw_addr *a, unsigned *iface)
{
    for (unsigned i = 0; i < n->n; i++) {
        node *d = &n->nodes[i];
        if (d->is_ua && sw_addr_eq(&d->ua_addr, a))
            return d;
        for (unsigned k = 0; k < d->nifs; k++)
            if (sw_addr_eq(&d->ifs[k].addr, a)) {
                *iface = k;
                return d;
            }
    }
    return NULL;
}

static void check_interconnect(const char *data, size_t len)
{
    static const char *const leaks[] = {"10.1.", "10.2.", "callA-", "callB-", "alice@10", "bob@10"};
    for (size_t i = 0; i < sizeof leaks / sizeof leaks[0]; i++)
        if (pt_contains(data, len, leaks[i]))
            fail_msg("core value '%s' on the interconnect:\n%.*s", leaks[i], (int)len, data);
}

static void deliver(net *n, const char *data, size_t len, sw_addr from, sw_addr to, int depth)
{
    assert_true(depth < 16);
    if (getenv("PT_TRACE")) { /* PT_TRACE=1: every message on the wire, to stderr */
        char fa[64], ta[64];
        sw_addr_format(&from, fa, sizeof fa);
        sw_addr_format(&to, ta, sizeof ta);
        fprintf(stderr, "---- %s -> %s\n%.*s\n", fa, ta, (int)len, data);
    }
    if (!is_core(&from) || !is_core(&to)) {
        n->interconnect_msgs++;
        check_interconnect(data, len);
    }
    unsigned iface = 0;
    node *d = node_at(n, &to, &iface);
    if (!d) {
        char a[64];
        sw_addr_format(&to, a, sizeof a);
        fail_msg("nobody at %s", a);
    }
    if (d->is_ua) {
        assert_true(d->nin < INBOX);
        d->inbox[d->nin] = malloc(len + 1);
        memcpy(d->inbox[d->nin], data, len);
        d->inbox[d->nin][len] = '\0';
        d->inlen[d->nin++] = len;
        return;
    }
    pt_parsed *pm = pt_new();
    pt_parse(pm, data, len);
    char *out = malloc(PT_MSG_MAX);
    assert_non_null(out);
    if (pm->m.is_request) {
        sw_proxy_req *r = calloc(1, sizeof *r);
        r->msg = &pm->m;
        r->src = from;
        r->transport = SW_TRANSPORT_UDP;
        r->in_iface = iface;
        sw_proxy_result res = sw_proxy_route(d->px, r);
        if (res == SW_PROXY_FORWARD) {
            sw_addr next;
            if (r->hop.has_addr) {
                next = r->hop.addr;
            } else {
                int found = 0;
                for (int k = 0; k < 2; k++)
                    if (sw_str_eq(r->hop.host, sw_str_make(d->route_names[k], strlen(d->route_names[k])))) {
                        next = pt_addr(d->route_addrs[k]);
                        found = 1;
                    }
                if (!found)
                    fail_msg("%s: no route to '%.*s'", d->name, (int)r->hop.host.len, r->hop.host.ptr);
            }
            /* the interface on the next hop's side */
            unsigned oi = 0;
            for (unsigned k = 0; k < d->nifs; k++)
                if ((d->ifs[k].side == SW_SIDE_CORE) == is_core(&next))
                    oi = k;
            long l = sw_proxy_write_request(d->px, r, oi, out, PT_MSG_MAX);
            assert_true(l > 0);
            deliver(n, out, (size_t)l, d->ifs[oi].addr, next, depth + 1);
        } else if (res == SW_PROXY_REPLY) {
            fail_msg("%s answered %u to:\n%.*s", d->name, r->status, (int)len, data);
        } else {
            n->drops++;
        }
        free(r);
    } else {
        sw_proxy_resp r;
        memset(&r, 0, sizeof r);
        r.msg = &pm->m;
        r.src = from;
        r.transport = SW_TRANSPORT_UDP;
        r.in_iface = iface;
        long l = 0;
        if (sw_proxy_response(d->px, &r, out, PT_MSG_MAX, &l) != SW_PROXY_FORWARD)
            fail_msg("%s dropped the response:\n%.*s", d->name, (int)len, data);
        assert_true(r.hop.has_addr);
        deliver(n, out, (size_t)l, d->ifs[r.out_iface].addr, r.hop.addr, depth + 1);
    }
    free(out);
    free(pm);
}

/* ---- user agents ------------------------------------------------------------------------ */

typedef struct ua {
    node *nd;
    const char *aor;       /* sip:alice@a.example */
    const char *contact;   /* sip:alice@10.1.0.10:5060 */
    const char *host;      /* 10.1.0.10:5060 */
    const char *outbound;  /* <sip:10.1.0.2:5060;lr> */
    sw_addr outbound_addr;
    unsigned seq;
} ua;

typedef struct dialog {
    char call_id[1024];
    char local_tag[64], remote_tag[64];
    char local_uri[256], remote_uri[256];
    char target[1024];
    char route[8][1024];
    unsigned nroute;
    uint32_t cseq;
} dialog;

static const char sdp[] = "v=0\no=- 1 1 IN IP4 203.0.113.10\ns=-\nc=IN IP4 203.0.113.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n";

/* The message a UA received last (its inbox must hold exactly one). */
static pt_parsed *take(ua *u)
{
    assert_int_equal(u->nd->nin, 1);
    pt_parsed *p = pt_new();
    pt_parse(p, u->nd->inbox[0], u->nd->inlen[0]);
    free(u->nd->inbox[0]);
    u->nd->nin = 0;
    return p;
}

static void uri_of(const char *nameaddr, char *out, size_t cap)
{
    sw_nameaddr na;
    assert_int_equal(sw_nameaddr_parse(sw_str_make(nameaddr, strlen(nameaddr)), &na, NULL), SW_OK);
    assert_true(na.uri.raw.len < cap);
    memcpy(out, na.uri.raw.ptr, na.uri.raw.len);
    out[na.uri.raw.len] = '\0';
}

static void tag_of(const sw_sip_msg *m, sw_hdr_id id, char *out, size_t cap)
{
    char v[512];
    assert_true(pt_value(m, id, 0, v, sizeof v));
    sw_nameaddr na;
    assert_int_equal(sw_nameaddr_parse(sw_str_make(v, strlen(v)), &na, NULL), SW_OK);
    assert_true(na.tag.len < cap);
    memcpy(out, na.tag.ptr, na.tag.len);
    out[na.tag.len] = '\0';
}

/* Where a request goes first: the first Route, else the target. */
static sw_addr first_hop(const dialog *d)
{
    char uri[1024];
    if (d->nroute)
        uri_of(d->route[0], uri, sizeof uri);
    else
        snprintf(uri, sizeof uri, "%s", d->target);
    sw_uri u;
    assert_int_equal(sw_uri_parse(sw_str_make(uri, strlen(uri)), &u, NULL), SW_OK);
    char a[80];
    snprintf(a, sizeof a, "%.*s:%u", (int)u.host.len, u.host.ptr, u.has_port ? u.port : 5060);
    return pt_addr(a);
}

/* An initial INVITE to `to` through the outbound proxy; fills the UAC side. */
static void send_invite(ua *u, dialog *d, const char *to, const char *call_id, char *branch, size_t bcap)
{
    memset(d, 0, sizeof *d);
    snprintf(d->call_id, sizeof d->call_id, "%s", call_id);
    snprintf(d->local_tag, sizeof d->local_tag, "t%u-%s", ++u->seq, u->nd->name);
    snprintf(d->local_uri, sizeof d->local_uri, "%s", u->aor);
    snprintf(d->remote_uri, sizeof d->remote_uri, "%s", to);
    d->cseq = 1;
    snprintf(branch, bcap, "z9hG4bK-%s-%u", u->nd->name, ++u->seq);
    char buf[PT_MSG_MAX];
    size_t n = pt_msg(buf, sizeof buf, sdp,
                      "INVITE %s SIP/2.0\nVia: SIP/2.0/UDP %s;branch=%s;rport\nRoute: %s\nMax-Forwards: 70\n"
                      "From: <%s>;tag=%s\nTo: <%s>\nCall-ID: %s\nCSeq: 1 INVITE\n"
                      "Contact: <%s>;+sip.instance=\"<urn:uuid:0000-%s>\"\nContent-Type: application/sdp\n",
                      to, u->host, branch, u->outbound, u->aor, d->local_tag, to, call_id, u->contact,
                      u->nd->name);
    deliver(&g_net, buf, n, u->nd->ua_addr, u->outbound_addr, 0);
}

/* CANCEL or the ACK for a non-2xx: the INVITE's branch, Route and Request-URI. */
static void send_hop_by_hop(ua *u, const dialog *d, const char *method, const char *branch,
                            const char *to_tag)
{
    char buf[PT_MSG_MAX], totag[128] = "";
    if (to_tag)
        snprintf(totag, sizeof totag, ";tag=%s", to_tag);
    size_t n = pt_msg(buf, sizeof buf, NULL,
                      "%s %s SIP/2.0\nVia: SIP/2.0/UDP %s;branch=%s;rport\nRoute: %s\nMax-Forwards: 70\n"
                      "From: <%s>;tag=%s\nTo: <%s>%s\nCall-ID: %s\nCSeq: 1 %s\n",
                      method, d->remote_uri, u->host, branch, u->outbound, d->local_uri, d->local_tag,
                      d->remote_uri, totag, d->call_id, method);
    deliver(&g_net, buf, n, u->nd->ua_addr, u->outbound_addr, 0);
}

/* A request inside the dialog (§12.2.1.1). */
static void send_in_dialog(ua *u, dialog *d, const char *method)
{
    char routes[8192] = "", buf[PT_MSG_MAX], branch[64];
    size_t rl = 0;
    for (unsigned i = 0; i < d->nroute; i++)
        rl += (size_t)snprintf(routes + rl, sizeof routes - rl, "Route: %s\n", d->route[i]);
    uint32_t cseq = strcmp(method, "ACK") == 0 ? d->cseq : ++d->cseq;
    snprintf(branch, sizeof branch, "z9hG4bK-%s-%u", u->nd->name, ++u->seq);
    int with_sdp = strcmp(method, "INVITE") == 0;
    char contact[256] = "";
    if (with_sdp)
        snprintf(contact, sizeof contact, "Contact: <%s>\nContent-Type: application/sdp\n", u->contact);
    size_t n = pt_msg(buf, sizeof buf, with_sdp ? sdp : NULL,
                      "%s %s SIP/2.0\nVia: SIP/2.0/UDP %s;branch=%s;rport\n%sMax-Forwards: 70\n"
                      "From: <%s>;tag=%s\nTo: <%s>;tag=%s\nCall-ID: %s\nCSeq: %u %s\n%s",
                      method, d->target, u->host, branch, routes, d->local_uri, d->local_tag,
                      d->remote_uri, d->remote_tag, d->call_id, cseq, method, contact);
    deliver(&g_net, buf, n, u->nd->ua_addr, first_hop(d), 0);
}

/* The UAS's answer to req (§8.2.6): Vias, From, To (+ our tag), Call-ID,
 * CSeq, Record-Route for a dialog-creating answer, Contact.  An INVITE
 * answered 1xx/2xx sets up the UAS side of the dialog. */
static void respond(ua *u, const sw_sip_msg *req, int status, dialog *d)
{
    char vias[8192] = "", rr[8192] = "", v[4096], buf[PT_MSG_MAX];
    size_t vl = 0, rl = 0;
    for (unsigned i = 0; pt_value(req, SW_HDR_VIA, i, v, sizeof v); i++)
        vl += (size_t)snprintf(vias + vl, sizeof vias - vl, "Via: %s\n", v);
    const sw_cseq *cs;
    sw_sip_msg *mreq = (sw_sip_msg *)req;
    assert_int_equal(sw_sip_cseq(mreq, &cs, NULL), SW_OK);
    int invite = cs->method == SW_METHOD_INVITE;
    int initial = invite && d && d->local_tag[0] == '\0';
    if (invite && status > 100 && status < 300)
        for (unsigned i = 0; pt_value(req, SW_HDR_RECORD_ROUTE, i, v, sizeof v); i++)
            rl += (size_t)snprintf(rr + rl, sizeof rr - rl, "Record-Route: %s\n", v);
    char from[512], to[512], cid[1024], cseq[64];
    pt_value(req, SW_HDR_FROM, 0, from, sizeof from);
    pt_value(req, SW_HDR_TO, 0, to, sizeof to);
    pt_value(req, SW_HDR_CALL_ID, 0, cid, sizeof cid);
    pt_value(req, SW_HDR_CSEQ, 0, cseq, sizeof cseq);
    if (initial) {
        /* the UAS side of the dialog */
        snprintf(d->call_id, sizeof d->call_id, "%s", cid);
        snprintf(d->local_tag, sizeof d->local_tag, "t%u-%s", ++u->seq, u->nd->name);
        tag_of(req, SW_HDR_FROM, d->remote_tag, sizeof d->remote_tag);
        uri_of(from, d->remote_uri, sizeof d->remote_uri);
        uri_of(to, d->local_uri, sizeof d->local_uri);
        char c[1024];
        assert_true(pt_value(req, SW_HDR_CONTACT, 0, c, sizeof c));
        uri_of(c, d->target, sizeof d->target);
        d->nroute = 0;
        for (unsigned i = 0; pt_value(req, SW_HDR_RECORD_ROUTE, i, d->route[d->nroute], sizeof d->route[0]); i++)
            d->nroute++;
    }
    char totag[128] = "";
    if (!strstr(to, "tag=") && status > 100)
        snprintf(totag, sizeof totag, ";tag=%s", d ? d->local_tag : "x1");
    char contact[256] = "";
    if (invite && status < 300 && status > 100)
        snprintf(contact, sizeof contact, "Contact: <%s>\n", u->contact);
    size_t n = pt_msg(buf, sizeof buf, invite && status == 200 ? sdp : NULL,
                      "SIP/2.0 %d Reason\n%s%sFrom: %s\nTo: %s%s\nCall-ID: %s\nCSeq: %s\n%s%s", status,
                      vias, rr, from, to, totag, cid, cseq, contact,
                      invite && status == 200 ? "Content-Type: application/sdp\n" : "");
    /* to the top Via's sent-by */
    char top[4096];
    pt_value(req, SW_HDR_VIA, 0, top, sizeof top);
    sw_via via;
    assert_int_equal(sw_via_parse(sw_str_make(top, strlen(top)), &via, NULL), SW_OK);
    char a[80];
    snprintf(a, sizeof a, "%.*s:%u", (int)via.host.len, via.host.ptr, via.has_port ? via.port : 5060);
    deliver(&g_net, buf, n, u->nd->ua_addr, pt_addr(a), 0);
}

/* The UAC side from a 2xx to its INVITE (§12.1.2). */
static void uac_dialog(dialog *d, const sw_sip_msg *ok)
{
    tag_of(ok, SW_HDR_TO, d->remote_tag, sizeof d->remote_tag);
    char c[1024];
    assert_true(pt_value(ok, SW_HDR_CONTACT, 0, c, sizeof c));
    uri_of(c, d->target, sizeof d->target);
    unsigned n = pt_count(ok, SW_HDR_RECORD_ROUTE);
    assert_true(n <= 8);
    d->nroute = n;
    for (unsigned i = 0; i < n; i++)
        pt_value(ok, SW_HDR_RECORD_ROUTE, n - 1 - i, d->route[i], sizeof d->route[0]);
}

static void check_value(const sw_sip_msg *m, sw_hdr_id id, const char *want)
{
    char v[4096];
    assert_true(pt_value(m, id, 0, v, sizeof v));
    if (strcmp(v, want) != 0)
        fail_msg("%s: got '%s', want '%s'", sw_hdr_name(id), v, want);
}

static void check_request(const sw_sip_msg *m, const char *method, const char *ruri, const char *call_id)
{
    assert_true(m->is_request);
    assert_true(sw_str_eq(m->method_name, sw_str_make(method, strlen(method))));
    if (!sw_str_eq(m->ruri, sw_str_make(ruri, strlen(ruri))))
        fail_msg("%s Request-URI '%.*s', want '%s'", method, (int)m->ruri.len, m->ruri.ptr, ruri);
    check_value(m, SW_HDR_CALL_ID, call_id);
}

/* A response at the UAC: its own top Via and Call-ID. */
static void check_response(const sw_sip_msg *m, int status, const char *call_id, const char *via_branch)
{
    assert_false(m->is_request);
    assert_int_equal(m->status, status);
    check_value(m, SW_HDR_CALL_ID, call_id);
    assert_int_equal(pt_count(m, SW_HDR_VIA), 1);
    char v[512], b[128];
    pt_value(m, SW_HDR_VIA, 0, v, sizeof v);
    pt_via_param(v, "branch", b, sizeof b);
    assert_string_equal(b, via_branch);
}

static void top_branch_of(const sw_sip_msg *m, char *out, size_t cap)
{
    char v[4096];
    assert_true(pt_value(m, SW_HDR_VIA, 0, v, sizeof v));
    pt_via_param(v, "branch", out, cap);
}

/* ---- the network ---------------------------------------------------------------------------- */

static const uint8_t key_a[SW_HIDE_KEY_LEN] = "operator A secret for sipwalld!!";
static const uint8_t key_b[SW_HIDE_KEY_LEN] = "operator B secret, not the same";
static const uint8_t key_k[SW_HIDE_KEY_LEN] = "core proxies key................";

static ua alice, bob;

static node *add_proxy(net *n, const char *name, const uint8_t *key, int hide, const char *if0,
                       sw_side s0, const char *if1, sw_side s1, const char *ra, const char *rb)
{
    node *d = &n->nodes[n->n++];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->ifs[0] = (sw_proxy_iface){SW_TRANSPORT_UDP, pt_addr(if0), s0};
    d->nifs = 1;
    if (if1) {
        d->ifs[1] = (sw_proxy_iface){SW_TRANSPORT_UDP, pt_addr(if1), s1};
        d->nifs = 2;
    }
    d->route_names[0] = "a.example";
    d->route_addrs[0] = ra;
    d->route_names[1] = "b.example";
    d->route_addrs[1] = rb;
    sw_proxy_config cfg = {.secret = key, .hide_topology = (uint8_t)hide, .ifaces = d->ifs, .nifaces = d->nifs};
    d->px = sw_proxy_new(&cfg);
    assert_non_null(d->px);
    return d;
}

static node *add_ua(net *n, const char *name, const char *addr)
{
    node *d = &n->nodes[n->n++];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->is_ua = 1;
    d->ua_addr = pt_addr(addr);
    return d;
}

static int setup(void **state)
{
    (void)state;
    net *n = &g_net;
    memset(n, 0, sizeof *n);
    node *na = add_ua(n, "alice", "10.1.0.10:5060");
    add_proxy(n, "kA", key_k, 0, "10.1.0.2:5060", SW_SIDE_CORE, NULL, 0, "10.1.0.10:5060", "10.1.0.1:5060");
    add_proxy(n, "PA", key_a, 1, "10.1.0.1:5060", SW_SIDE_CORE, "192.0.2.1:5060", SW_SIDE_INTERCONNECT,
              "10.1.0.2:5060", "198.51.100.1:5060");
    add_proxy(n, "PB", key_b, 1, "198.51.100.1:5060", SW_SIDE_INTERCONNECT, "10.2.0.1:5060", SW_SIDE_CORE,
              "192.0.2.1:5060", "10.2.0.2:5060");
    add_proxy(n, "kB", key_k, 0, "10.2.0.2:5060", SW_SIDE_CORE, NULL, 0, "10.2.0.1:5060", "10.2.0.20:5060");
    node *nb = add_ua(n, "bob", "10.2.0.20:5060");
    alice = (ua){na, "sip:alice@a.example", "sip:alice@10.1.0.10:5060", "10.1.0.10:5060",
                 "<sip:10.1.0.2:5060;lr>", pt_addr("10.1.0.2:5060"), 0};
    bob = (ua){nb, "sip:bob@b.example", "sip:bob@10.2.0.20:5060", "10.2.0.20:5060",
               "<sip:10.2.0.2:5060;lr>", pt_addr("10.2.0.2:5060"), 0};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (unsigned i = 0; i < g_net.n; i++) {
        sw_proxy_free(g_net.nodes[i].px);
        for (unsigned k = 0; k < g_net.nodes[i].nin; k++)
            free(g_net.nodes[i].inbox[k]);
    }
    return 0;
}

/* ---- the walks ------------------------------------------------------------------------------ */

/* caller calls callee: INVITE, 180, 200, ACK; returns both dialogs */
static void establish(ua *caller, dialog *dc, ua *callee, dialog *de, const char *call_id)
{
    char br[64];
    send_invite(caller, dc, callee->aor, call_id, br, sizeof br);
    pt_parsed *inv = take(callee);
    /* the callee's core gets the caller operator's hidden Call-ID */
    char v[1024];
    assert_true(pt_value(&inv->m, SW_HDR_CALL_ID, 0, v, sizeof v));
    assert_true(strncmp(v, "swi-", 4) == 0);
    check_request(&inv->m, "INVITE", callee->aor, v);
    memset(de, 0, sizeof *de);
    respond(callee, &inv->m, 180, de);
    pt_parsed *ring = take(caller);
    check_response(&ring->m, 180, call_id, br);
    respond(callee, &inv->m, 200, de);
    pt_parsed *ok = take(caller);
    check_response(&ok->m, 200, call_id, br);
    uac_dialog(dc, &ok->m);
    /* the caller's core sees its whole route set: its own proxies by their
     * core addresses first */
    assert_true(dc->nroute == 4);
    send_in_dialog(caller, dc, "ACK");
    pt_parsed *ack = take(callee);
    check_request(&ack->m, "ACK", callee->contact, de->call_id);
    free(inv), free(ring), free(ok), free(ack);
}

/* one in-dialog transaction from `from` to `to`: the request arrives with
 * the peer's own Contact as Request-URI and its own Call-ID, the answer
 * comes back with the sender's */
static void transaction(ua *from, dialog *df, ua *to, dialog *dt, const char *method)
{
    send_in_dialog(from, df, method);
    pt_parsed *req = take(to);
    check_request(&req->m, method, to->contact, dt->call_id);
    char ft[64];
    tag_of(&req->m, SW_HDR_FROM, ft, sizeof ft);
    assert_string_equal(ft, dt->remote_tag);
    tag_of(&req->m, SW_HDR_TO, ft, sizeof ft);
    assert_string_equal(ft, dt->local_tag);
    respond(to, &req->m, 200, dt);
    pt_parsed *ok = take(from);
    assert_int_equal(ok->m.status, 200);
    check_value(&ok->m, SW_HDR_CALL_ID, df->call_id);
    assert_int_equal(pt_count(&ok->m, SW_HDR_VIA), 1);
    if (strcmp(method, "INVITE") == 0) {
        send_in_dialog(from, df, "ACK");
        pt_parsed *ack = take(to);
        check_request(&ack->m, "ACK", to->contact, dt->call_id);
        free(ack);
    }
    free(req);
    free(ok);
}

static void test_alice_calls_bob(void **state)
{
    (void)state;
    dialog da, db;
    const char *cid = "callA-1@10.1.0.10";
    establish(&alice, &da, &bob, &db, cid);
    /* bob (operator B's core) got operator A's hidden Call-ID and Contact */
    assert_true(strncmp(db.call_id, "swi-", 4) == 0);
    assert_true(strncmp(db.target, "sip:swc-", 8) == 0);
    assert_non_null(strstr(db.target, "@192.0.2.1:5060"));
    /* alice got B's hidden Contact; her route set: kA, PA's core entry,
     * PA's interconnect entry (token opened), PB's entry with B's token */
    assert_true(strncmp(da.target, "sip:swc-", 8) == 0);
    assert_non_null(strstr(da.target, "@198.51.100.1:5060"));
    assert_string_equal(da.route[0], "<sip:10.1.0.2:5060;lr>");
    assert_string_equal(da.route[1], "<sip:10.1.0.1:5060;lr>");
    assert_string_equal(da.route[2], "<sip:192.0.2.1:5060;lr>");
    assert_true(strncmp(da.route[3], "<sip:198.51.100.1:5060;lr;swrr=", 31) == 0);
    /* bob's route set: kB, PB's core entry (;swx: a partner's dialog), PB's
     * interconnect entry, PA's entry with A's token */
    assert_string_equal(db.route[0], "<sip:10.2.0.2:5060;lr>");
    assert_string_equal(db.route[1], "<sip:10.2.0.1:5060;lr;swx>");
    assert_string_equal(db.route[2], "<sip:198.51.100.1:5060;lr>");
    assert_true(strncmp(db.route[3], "<sip:192.0.2.1:5060;lr;swrr=", 28) == 0);

    transaction(&bob, &db, &alice, &da, "INVITE");   /* re-INVITE from the callee */
    transaction(&alice, &da, &bob, &db, "INVITE");   /* re-INVITE from the caller */
    transaction(&alice, &da, &bob, &db, "INFO");
    transaction(&bob, &db, &alice, &da, "BYE");      /* the callee hangs up */
    assert_true(g_net.interconnect_msgs > 10);
}

static void test_bob_calls_alice(void **state)
{
    (void)state;
    dialog da, db;
    establish(&bob, &db, &alice, &da, "callB-7@10.2.0.20");
    assert_true(strncmp(da.call_id, "swi-", 4) == 0);
    assert_string_equal(db.route[0], "<sip:10.2.0.2:5060;lr>");
    assert_string_equal(db.route[1], "<sip:10.2.0.1:5060;lr>");
    transaction(&alice, &da, &bob, &db, "INVITE");   /* re-INVITE from the callee */
    transaction(&bob, &db, &alice, &da, "UPDATE");
    transaction(&bob, &db, &alice, &da, "BYE");      /* the caller hangs up */
}

static void test_cancel(void **state)
{
    (void)state;
    dialog da, db;
    memset(&db, 0, sizeof db);
    char br[64], inv_branch[128], b2[128];
    const char *cid = "callA-2@10.1.0.10";
    send_invite(&alice, &da, bob.aor, cid, br, sizeof br);
    pt_parsed *inv = take(&bob);
    top_branch_of(&inv->m, inv_branch, sizeof inv_branch);
    respond(&bob, &inv->m, 180, &db);
    pt_parsed *ring = take(&alice);
    check_response(&ring->m, 180, cid, br);

    send_hop_by_hop(&alice, &da, "CANCEL", br, NULL);
    pt_parsed *cancel = take(&bob);
    check_request(&cancel->m, "CANCEL", bob.aor, db.call_id);
    top_branch_of(&cancel->m, b2, sizeof b2);
    assert_string_equal(b2, inv_branch); /* matches the INVITE at every hop */
    respond(&bob, &cancel->m, 200, NULL);
    pt_parsed *c200 = take(&alice);
    check_response(&c200->m, 200, cid, br);
    respond(&bob, &inv->m, 487, &db);
    pt_parsed *term = take(&alice);
    check_response(&term->m, 487, cid, br);
    char tt[64];
    tag_of(&term->m, SW_HDR_TO, tt, sizeof tt);
    send_hop_by_hop(&alice, &da, "ACK", br, tt);
    pt_parsed *ack = take(&bob);
    check_request(&ack->m, "ACK", bob.aor, db.call_id);
    top_branch_of(&ack->m, b2, sizeof b2);
    assert_string_equal(b2, inv_branch);
    free(inv), free(ring), free(cancel), free(c200), free(term), free(ack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alice_calls_bob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bob_calls_alice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
