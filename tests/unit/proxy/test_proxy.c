/* The stateless proxy core, one behaviour at a time: branches, responses,
 * Max-Forwards, received/rport, Record-Route, Route processing, header
 * policy, framing, capacity, our own answers, loops, topology hiding of a
 * single message.  The dialog walks are in test_dialog.c. */
#include "proxy_test_util.h"

#include "sipwall/policy.h"
#include "sipwall/engine.h"

/* interfaces of the proxy under test */
enum { IF_CORE = 0, IF_X = 1, IF_X_TCP = 2, IF_CORE_TCP = 3 };
static const uint8_t secret[SW_HIDE_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static sw_proxy *make_proxy(int hide)
{
    static sw_proxy_iface ifs[4];
    ifs[IF_CORE] = (sw_proxy_iface){SW_TRANSPORT_UDP, pt_addr("10.0.0.1:5060"), SW_SIDE_CORE};
    ifs[IF_X] = (sw_proxy_iface){SW_TRANSPORT_UDP, pt_addr("192.0.2.1:5060"), SW_SIDE_INTERCONNECT};
    ifs[IF_X_TCP] = (sw_proxy_iface){SW_TRANSPORT_TCP, pt_addr("192.0.2.1:5060"), SW_SIDE_INTERCONNECT};
    ifs[IF_CORE_TCP] = (sw_proxy_iface){SW_TRANSPORT_TCP, pt_addr("10.0.0.1:5070"), SW_SIDE_CORE};
    sw_proxy_config cfg = {.secret = secret, .hide_topology = (uint8_t)hide, .ifaces = ifs, .nifaces = 4};
    sw_proxy *p = sw_proxy_new(&cfg);
    assert_non_null(p);
    return p;
}

typedef struct fwd {
    pt_parsed *in, *outp;
    sw_proxy_req r;
    sw_proxy_result res;
    char out[PT_MSG_MAX];
    long len;
} fwd;

/* Routes (and when FORWARD, writes and parses) one request. */
static fwd *run(sw_proxy *p, const char *msg, size_t len, unsigned in_if, const char *src,
                unsigned out_if, const sw_verdict *v)
{
    fwd *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->in = pt_new();
    pt_parse_any(f->in, msg, len, SW_SIP_DATAGRAM, 0); /* a datagram may carry bytes past the message */
    f->r.msg = &f->in->m;
    f->r.src = pt_addr(src);
    f->r.transport = SW_TRANSPORT_UDP;
    f->r.in_iface = in_if;
    f->r.verdict = v;
    f->res = sw_proxy_route(p, &f->r);
    if (f->res == SW_PROXY_FORWARD) {
        f->len = sw_proxy_write_request(p, &f->r, out_if, f->out, sizeof f->out);
        if (f->len <= 0)
            fail_msg("write_request: %ld", f->len);
        f->outp = pt_new();
        pt_parse(f->outp, f->out, (size_t)f->len);
    }
    return f;
}

static void fwd_free(fwd *f)
{
    if (!f)
        return;
    free(f->in);
    free(f->outp);
    free(f);
}

/* Our branch in a forwarded request (its top Via). */
static void top_branch(const fwd *f, char *out, size_t cap)
{
    char via[4096];
    assert_non_null(f->outp);
    assert_true(pt_value(&f->outp->m, SW_HDR_VIA, 0, via, sizeof via));
    pt_via_param(via, "branch", out, cap);
}

#define INVITE_HEAD                                                                               \
    "Max-Forwards: 66\n"                                                                          \
    "From: <sip:+33639981234@ims.partner.example;user=phone>;tag=a7c1f0\n"                        \
    "To: <tel:+447700900123>\n"                                                                   \
    "Call-ID: c1-7f3e2a9b4c@pcscf2.partner.example\n"

static size_t invite(char *buf, size_t cap, const char *branch)
{
    return pt_msg(buf, cap, "v=0\no=- 1 1 IN IP4 203.0.113.40\ns=-\nc=IN IP4 203.0.113.40\nt=0 0\nm=audio 40010 RTP/AVP 0\n",
                  "INVITE sip:+447700900123@ims.example.net;user=phone SIP/2.0\n"
                  "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=%s\n"
                  "Via: SIP/2.0/UDP 198.51.100.30:6060;branch=z9hG4bK.pscscf.c1a\n" INVITE_HEAD
                  "CSeq: 101 INVITE\n"
                  "Contact: <sip:+33639981234@198.51.100.31:5062;transport=udp>;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\"\n"
                  "User-Agent: IBCF-Partner/7.1\n"
                  "Content-Type: application/sdp\n",
                  branch);
}

/* ---- branches --------------------------------------------------------------------------- */

static void test_branch_derivation(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX], b_inv[128], b_again[128], b_cancel[128], b_ack[128], b_other[128];
    size_t n = invite(buf, sizeof buf, "z9hG4bK.pibcf.c1a");
    fwd *inv = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(inv->res, SW_PROXY_FORWARD);
    top_branch(inv, b_inv, sizeof b_inv);
    assert_true(strncmp(b_inv, "z9hG4bK", 7) == 0); /* RFC 3261 magic cookie */

    /* a retransmission: the same bytes */
    fwd *again = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(again->len, inv->len);
    assert_memory_equal(again->out, inv->out, (size_t)inv->len);
    top_branch(again, b_again, sizeof b_again);
    assert_string_equal(b_again, b_inv);

    /* CANCEL (§9.1: same top Via, Request-URI, Route) */
    n = pt_msg(buf, sizeof buf, NULL,
               "CANCEL sip:+447700900123@ims.example.net;user=phone SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK.pibcf.c1a\n" INVITE_HEAD
               "CSeq: 101 CANCEL\n");
    fwd *cancel = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(cancel->res, SW_PROXY_FORWARD);
    top_branch(cancel, b_cancel, sizeof b_cancel);
    assert_string_equal(b_cancel, b_inv);

    /* ACK for a non-2xx (§17.1.1.3: same branch, To with the answer's tag) */
    n = pt_msg(buf, sizeof buf, NULL,
               "ACK sip:+447700900123@ims.example.net;user=phone SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK.pibcf.c1a\n"
               "Max-Forwards: 66\n"
               "From: <sip:+33639981234@ims.partner.example;user=phone>;tag=a7c1f0\n"
               "To: <tel:+447700900123>;tag=uas-486\n"
               "Call-ID: c1-7f3e2a9b4c@pcscf2.partner.example\n"
               "CSeq: 101 ACK\n");
    fwd *ack = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(ack->res, SW_PROXY_FORWARD);
    top_branch(ack, b_ack, sizeof b_ack);
    assert_string_equal(b_ack, b_inv);

    /* another transaction, another branch: the next INVITE, another interface */
    n = invite(buf, sizeof buf, "z9hG4bK.pibcf.c1b");
    fwd *other = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    top_branch(other, b_other, sizeof b_other);
    assert_string_not_equal(b_other, b_inv);
    n = invite(buf, sizeof buf, "z9hG4bK.pibcf.c1a");
    fwd *tcp = run(p, buf, n, IF_X_TCP, "198.51.100.20:5060", IF_CORE, NULL);
    top_branch(tcp, b_other, sizeof b_other);
    assert_string_not_equal(b_other, b_inv);

    /* RFC 2543 branch (no cookie): the INVITE and its CANCEL still agree */
    n = invite(buf, sizeof buf, "old2543");
    fwd *old = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    top_branch(old, b_other, sizeof b_other);
    n = pt_msg(buf, sizeof buf, NULL,
               "CANCEL sip:+447700900123@ims.example.net;user=phone SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=old2543\n" INVITE_HEAD
               "CSeq: 101 CANCEL\n");
    fwd *oldc = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    top_branch(oldc, b_cancel, sizeof b_cancel);
    assert_string_equal(b_cancel, b_other);
    assert_string_not_equal(b_other, b_inv);

    fwd_free(inv), fwd_free(again), fwd_free(cancel), fwd_free(ack), fwd_free(other);
    fwd_free(tcp), fwd_free(old), fwd_free(oldc);
    sw_proxy_free(p);
}

/* A response to what `f` forwarded: the UAS copies the Vias. */
static size_t response_to(const fwd *f, int status, const char *extra, char *buf, size_t cap)
{
    char vias[8192] = "";
    size_t vl = 0;
    for (unsigned i = 0;; i++) {
        char v[4096];
        if (!pt_value(&f->outp->m, SW_HDR_VIA, i, v, sizeof v))
            break;
        vl += (size_t)snprintf(vias + vl, sizeof vias - vl, "Via: %s\n", v);
    }
    char from[512], to[512], cid[1024], cseq[64];
    pt_value(&f->outp->m, SW_HDR_FROM, 0, from, sizeof from);
    pt_value(&f->outp->m, SW_HDR_TO, 0, to, sizeof to);
    pt_value(&f->outp->m, SW_HDR_CALL_ID, 0, cid, sizeof cid);
    pt_value(&f->outp->m, SW_HDR_CSEQ, 0, cseq, sizeof cseq);
    return pt_msg(buf, cap, NULL, "SIP/2.0 %d Whatever\n%sFrom: %s\nTo: %s;tag=uas1\nCall-ID: %s\nCSeq: %s\n%s",
                  status, vias, from, to, cid, cseq, extra ? extra : "");
}

static sw_proxy_result respond(sw_proxy *p, const char *buf, size_t n, unsigned in_if,
                               sw_proxy_resp *r, pt_parsed **outp, long *len)
{
    pt_parsed *in = pt_new();
    pt_parse(in, buf, n);
    memset(r, 0, sizeof *r);
    r->msg = &in->m;
    r->src = pt_addr("10.9.9.9:5060");
    r->transport = SW_TRANSPORT_UDP;
    r->in_iface = in_if;
    static char out[PT_MSG_MAX];
    sw_proxy_result res = sw_proxy_response(p, r, out, sizeof out, len);
    *outp = NULL;
    if (res == SW_PROXY_FORWARD) {
        assert_true(*len > 0);
        *outp = pt_new();
        pt_parse(*outp, out, (size_t)*len);
    }
    free(in);
    return res;
}

static void test_response_ours_only(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX];
    size_t n = invite(buf, sizeof buf, "z9hG4bK.pibcf.c1a");
    fwd *f = run(p, buf, n, IF_X, "198.51.100.20:4999", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);

    sw_proxy_resp r;
    pt_parsed *o;
    long len;
    n = response_to(f, 180, NULL, buf, sizeof buf);
    assert_int_equal(respond(p, buf, n, IF_CORE, &r, &o, &len), SW_PROXY_FORWARD);
    /* the next Via, as the request came: received=/rport= would say where */
    assert_int_equal(r.out_iface, IF_X);
    assert_true(sw_str_eq(r.hop.host, SW_STR_LIT("198.51.100.20")));
    assert_int_equal(r.hop.port, 5060);
    assert_int_equal(r.hop.transport, SW_TRANSPORT_UDP);
    assert_true(r.hop.has_addr);
    assert_int_equal(pt_count(&o->m, SW_HDR_VIA), 2);
    char v[512];
    pt_value(&o->m, SW_HDR_VIA, 0, v, sizeof v);
    assert_string_equal(v, "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK.pibcf.c1a");
    free(o);

    /* forged: one character of our branch changed, or cut, or not ours at all */
    char *br = strstr(buf, "z9hG4bKsw");
    assert_non_null(br);
    char saved = br[15];
    br[15] = saved == 'A' ? 'B' : 'A';
    assert_int_equal(respond(p, buf, n, IF_CORE, &r, &o, &len), SW_PROXY_DROP);
    assert_int_equal(len, 0);
    br[15] = saved;
    memcpy(br, "z9hG4bKxx", 9);
    assert_int_equal(respond(p, buf, n, IF_CORE, &r, &o, &len), SW_PROXY_DROP);
    memcpy(br, "z9hG4bKsw", 9);
    /* our branch, someone else's address */
    char *host = strstr(buf, "10.0.0.1:5060");
    assert_non_null(host);
    memcpy(host, "10.0.0.2", 8);
    assert_int_equal(respond(p, buf, n, IF_CORE, &r, &o, &len), SW_PROXY_DROP);
    memcpy(host, "10.0.0.1", 8);
    assert_int_equal(respond(p, buf, n, IF_CORE, &r, &o, &len), SW_PROXY_FORWARD);
    free(o);
    /* our Via not on top */
    size_t m = pt_msg(buf, sizeof buf, NULL,
                      "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK.x\n"
                      "From: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\nCall-ID: x\nCSeq: 1 OPTIONS\n");
    assert_int_equal(respond(p, buf, m, IF_CORE, &r, &o, &len), SW_PROXY_DROP);
    /* only our Via: nowhere to go */
    n = response_to(f, 200, NULL, buf, sizeof buf);
    char *second = strstr(buf, "Via: SIP/2.0/UDP 198.51.100.20");
    assert_non_null(second);
    char *eol = strstr(buf, "From:");
    memmove(second, eol, strlen(eol) + 1);
    pt_parsed *tmp = pt_new();
    size_t tl = strlen(buf);
    /* fix Content-Length is unaffected (no body) */
    pt_parse(tmp, buf, tl);
    free(tmp);
    assert_int_equal(respond(p, buf, tl, IF_CORE, &r, &o, &len), SW_PROXY_DROP);
    fwd_free(f);
    sw_proxy_free(p);
}

static void test_response_hop(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX];
    /* the previous hop asked for rport over TCP and sits behind a NAT */
    size_t n = pt_msg(buf, sizeof buf, NULL,
                      "OPTIONS sip:ims.example.net SIP/2.0\n"
                      "Via: SIP/2.0/TCP [2001:db8::20];branch=z9hG4bK-v6;rport\n"
                      "From: <sip:a@partner.example>;tag=f1\nTo: <sip:ims.example.net>\n"
                      "Call-ID: opt-1\nCSeq: 7 OPTIONS\n");
    fwd *f = run(p, buf, n, IF_X_TCP, "[2001:db8::99]:40123", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    char v[512];
    pt_value(&f->outp->m, SW_HDR_VIA, 1, v, sizeof v);
    assert_string_equal(v, "SIP/2.0/TCP [2001:db8::20];branch=z9hG4bK-v6;received=2001:db8::99;rport=40123");
    sw_proxy_resp r;
    pt_parsed *o;
    long len;
    n = response_to(f, 200, NULL, buf, sizeof buf);
    assert_int_equal(respond(p, buf, n, IF_CORE, &r, &o, &len), SW_PROXY_FORWARD);
    assert_int_equal(r.out_iface, IF_X_TCP);
    assert_true(sw_str_eq(r.hop.host, SW_STR_LIT("2001:db8::99")));
    assert_int_equal(r.hop.port, 40123);
    assert_int_equal(r.hop.transport, SW_TRANSPORT_TCP);
    assert_true(r.hop.has_addr);
    sw_addr want = pt_addr("[2001:db8::99]:40123");
    assert_true(sw_addr_eq(&r.hop.addr, &want));
    free(o);
    fwd_free(f);
    sw_proxy_free(p);
}

/* ---- Max-Forwards ----------------------------------------------------------------------- */

static size_t options_mf(char *buf, size_t cap, const char *mf_line, const char *method)
{
    return pt_msg(buf, cap, NULL,
                  "%s sip:bob@b.example SIP/2.0\n"
                  "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-mf\n"
                  "%s"
                  "From: <sip:a@partner.example>;tag=f1\nTo: <sip:bob@b.example>\n"
                  "Call-ID: mf-1\nCSeq: 1 %s\n",
                  method, mf_line, method);
}

static void test_max_forwards(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX], v[64];
    size_t n = options_mf(buf, sizeof buf, "Max-Forwards: 1\n", "OPTIONS");
    fwd *f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    pt_value(&f->outp->m, SW_HDR_MAX_FORWARDS, 0, v, sizeof v);
    assert_string_equal(v, "0");
    assert_int_equal(pt_count(&f->outp->m, SW_HDR_MAX_FORWARDS), 1);
    fwd_free(f);

    n = options_mf(buf, sizeof buf, "Max-Forwards: 0\n", "MESSAGE");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_REPLY);
    assert_int_equal(f->r.status, 483);
    assert_string_equal(f->r.reason, "Too Many Hops");
    fwd_free(f);
    n = options_mf(buf, sizeof buf, "Max-Forwards: 0\n", "OPTIONS");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_REPLY);
    assert_int_equal(f->r.status, 483);
    fwd_free(f);
    n = options_mf(buf, sizeof buf, "Max-Forwards: 0\n", "ACK");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_DROP); /* never an answer to an ACK */
    fwd_free(f);

    n = options_mf(buf, sizeof buf, "", "OPTIONS");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    pt_value(&f->outp->m, SW_HDR_MAX_FORWARDS, 0, v, sizeof v);
    assert_string_equal(v, "69");
    fwd_free(f);

    n = options_mf(buf, sizeof buf, "Max-Forwards: lots\n", "OPTIONS");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_REPLY);
    assert_int_equal(f->r.status, 400);
    fwd_free(f);
    sw_proxy_free(p);
}

/* ---- received / rport --------------------------------------------------------------------- */

static void check_top_via_after(sw_proxy *p, const char *via, const char *src, const char *want)
{
    char buf[PT_MSG_MAX], v[512];
    size_t n = pt_msg(buf, sizeof buf, NULL,
                      "OPTIONS sip:bob@b.example SIP/2.0\nVia: %s\nMax-Forwards: 70\n"
                      "From: <sip:a@partner.example>;tag=f1\nTo: <sip:bob@b.example>\n"
                      "Call-ID: rp-1\nCSeq: 1 OPTIONS\n",
                      via);
    fwd *f = run(p, buf, n, IF_X, src, IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    pt_value(&f->outp->m, SW_HDR_VIA, 1, v, sizeof v);
    if (strcmp(v, want) != 0)
        fail_msg("top Via '%s' from %s: got '%s', want '%s'", via, src, v, want);
    fwd_free(f);
}

static void test_received_rport(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    /* same address, no rport: as it was */
    check_top_via_after(p, "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-1", "198.51.100.20:5060",
                        "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-1");
    /* another address: received */
    check_top_via_after(p, "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-1", "203.0.113.7:5060",
                        "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-1;received=203.0.113.7");
    /* a host name: received */
    check_top_via_after(p, "SIP/2.0/UDP ibcf.partner.example;branch=z9hG4bK-1", "198.51.100.20:5060",
                        "SIP/2.0/UDP ibcf.partner.example;branch=z9hG4bK-1;received=198.51.100.20");
    /* rport asked: both, even from the same address (RFC 3581 §4) */
    check_top_via_after(p, "SIP/2.0/UDP 198.51.100.20:5060;rport;branch=z9hG4bK-1", "198.51.100.20:33333",
                        "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-1;received=198.51.100.20;rport=33333");
    /* stale values are replaced, other parameters and the rest of the line stay */
    check_top_via_after(p, "SIP/2.0/UDP 198.51.100.20:5060;received=1.2.3.4;branch=z9hG4bK-1;rport=9;x=y, SIP/2.0/UDP 198.51.100.30;branch=z9hG4bK-2",
                        "203.0.113.7:7000",
                        "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-1;x=y;received=203.0.113.7;rport=7000");
    sw_proxy_free(p);
}

/* ---- Record-Route ------------------------------------------------------------------------- */

static void test_record_route(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX], v[512];
    size_t n = invite(buf, sizeof buf, "z9hG4bK.rr1");
    /* in and out differ: two entries, the top one names the way out */
    fwd *f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(pt_count(&f->outp->m, SW_HDR_RECORD_ROUTE), 2);
    pt_value(&f->outp->m, SW_HDR_RECORD_ROUTE, 0, v, sizeof v);
    assert_string_equal(v, "<sip:10.0.0.1:5060;lr>");
    pt_value(&f->outp->m, SW_HDR_RECORD_ROUTE, 1, v, sizeof v);
    assert_string_equal(v, "<sip:192.0.2.1:5060;lr>");
    fwd_free(f);
    /* a TCP side says so */
    f = run(p, buf, n, IF_X_TCP, "198.51.100.20:5060", IF_CORE_TCP, NULL);
    pt_value(&f->outp->m, SW_HDR_RECORD_ROUTE, 0, v, sizeof v);
    assert_string_equal(v, "<sip:10.0.0.1:5070;transport=tcp;lr>");
    pt_value(&f->outp->m, SW_HDR_RECORD_ROUTE, 1, v, sizeof v);
    assert_string_equal(v, "<sip:192.0.2.1:5060;transport=tcp;lr>");
    fwd_free(f);
    /* same interface: one entry, above those already there */
    char buf2[PT_MSG_MAX];
    n = pt_msg(buf2, sizeof buf2, NULL,
               "SUBSCRIBE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-s\n"
               "Record-Route: <sip:scscf.core.example;lr>\nMax-Forwards: 70\n"
               "From: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>\nCall-ID: sub-1\n"
               "CSeq: 1 SUBSCRIBE\nEvent: presence\nContact: <sip:a@10.0.0.9>\n");
    f = run(p, buf2, n, IF_CORE, "10.0.0.9:5060", IF_CORE, NULL);
    assert_int_equal(pt_count(&f->outp->m, SW_HDR_RECORD_ROUTE), 2);
    pt_value(&f->outp->m, SW_HDR_RECORD_ROUTE, 0, v, sizeof v);
    assert_string_equal(v, "<sip:10.0.0.1:5060;lr>");
    pt_value(&f->outp->m, SW_HDR_RECORD_ROUTE, 1, v, sizeof v);
    assert_string_equal(v, "<sip:scscf.core.example;lr>");
    fwd_free(f);
    /* not dialog-creating, or in a dialog: none */
    n = pt_msg(buf2, sizeof buf2, NULL,
               "MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-m\n"
               "From: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>\nCall-ID: msg-1\nCSeq: 1 MESSAGE\n");
    f = run(p, buf2, n, IF_CORE, "10.0.0.9:5060", IF_X, NULL);
    assert_int_equal(pt_count(&f->outp->m, SW_HDR_RECORD_ROUTE), 0);
    fwd_free(f);
    n = pt_msg(buf2, sizeof buf2, NULL,
               "INVITE sip:bob@10.0.0.20 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-re\n"
               "From: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>;tag=t1\nCall-ID: re-1\nCSeq: 2 INVITE\n");
    f = run(p, buf2, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(pt_count(&f->outp->m, SW_HDR_RECORD_ROUTE), 0);
    fwd_free(f);
    sw_proxy_free(p);
}

/* ---- Route processing ---------------------------------------------------------------------- */

static void test_loose_route(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX], v[512];
    /* both of our entries (double Record-Route) go; the next one is the hop */
    size_t n = pt_msg(buf, sizeof buf, NULL,
                      "BYE sip:bob@10.0.0.20:5062 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-b\n"
                      "Route: <sip:192.0.2.1:5060;lr>, <sip:10.0.0.1;lr>\n"
                      "Route: <sip:10.0.0.5:5080;transport=tcp;lr>,<sip:scscf.core.example;lr>\n"
                      "Max-Forwards: 70\nFrom: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>;tag=t1\n"
                      "Call-ID: bye-1\nCSeq: 3 BYE\n");
    fwd *f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    assert_true(f->r.hop_from_route);
    assert_true(sw_str_eq(f->r.hop.host, SW_STR_LIT("10.0.0.5")));
    assert_int_equal(f->r.hop.port, 5080);
    assert_int_equal(f->r.hop.transport, SW_TRANSPORT_TCP);
    assert_true(f->r.hop.has_addr);
    assert_int_equal(pt_count(&f->outp->m, SW_HDR_ROUTE), 2);
    pt_value(&f->outp->m, SW_HDR_ROUTE, 0, v, sizeof v);
    assert_string_equal(v, "<sip:10.0.0.5:5080;transport=tcp;lr>");
    pt_value(&f->outp->m, SW_HDR_ROUTE, 1, v, sizeof v);
    assert_string_equal(v, "<sip:scscf.core.example;lr>");
    fwd_free(f);
    /* not ours on top: untouched; hop is that entry (a name: no address) */
    n = pt_msg(buf, sizeof buf, NULL,
               "BYE sip:bob@10.0.0.20:5062 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-b\n"
               "Route: <sips:scscf.core.example;lr>\nFrom: <sip:a@a.example>;tag=f1\n"
               "To: <sip:bob@b.example>;tag=t1\nCall-ID: bye-1\nCSeq: 3 BYE\n");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_true(sw_str_eq(f->r.hop.host, SW_STR_LIT("scscf.core.example")));
    assert_int_equal(f->r.hop.transport, SW_TRANSPORT_TLS);
    assert_false(f->r.hop.has_addr);
    assert_true(pt_contains(f->out, (size_t)f->len, "\r\nRoute: <sips:scscf.core.example;lr>\r\n"));
    fwd_free(f);
    /* no Route: the Request-URI */
    n = pt_msg(buf, sizeof buf, NULL,
               "BYE sip:bob@10.0.0.20:5062 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-b\n"
               "From: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>;tag=t1\nCall-ID: bye-1\nCSeq: 3 BYE\n");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_false(f->r.hop_from_route);
    assert_true(sw_str_eq(f->r.hop.host, SW_STR_LIT("10.0.0.20")));
    assert_int_equal(f->r.hop.port, 5062);
    assert_int_equal(f->r.hop.addr.port, 5062);
    fwd_free(f);
    sw_proxy_free(p);
}

static void test_strict_route(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX], v[512];
    /* a strict router sent us our own Record-Route URI as the Request-URI
     * and the remote target last in Route (§16.4) */
    size_t n = pt_msg(buf, sizeof buf, NULL,
                      "BYE sip:10.0.0.1:5060;lr SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-st\n"
                      "Route: <sip:scscf.core.example;lr>, <sip:bob@10.0.0.20:5062>\n"
                      "From: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>;tag=t1\nCall-ID: st-1\nCSeq: 3 BYE\n");
    fwd *f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    assert_true(sw_str_eq(f->outp->m.ruri, SW_STR_LIT("sip:bob@10.0.0.20:5062")));
    assert_int_equal(pt_count(&f->outp->m, SW_HDR_ROUTE), 1);
    pt_value(&f->outp->m, SW_HDR_ROUTE, 0, v, sizeof v);
    assert_string_equal(v, "<sip:scscf.core.example;lr>");
    assert_true(f->r.hop_from_route);
    assert_true(sw_str_eq(f->r.hop.host, SW_STR_LIT("scscf.core.example")));
    fwd_free(f);
    /* only the target in Route: it becomes the Request-URI and the hop */
    n = pt_msg(buf, sizeof buf, NULL,
               "BYE sip:10.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-st\n"
               "Route: <sip:bob@10.0.0.20:5062>\n"
               "From: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>;tag=t1\nCall-ID: st-1\nCSeq: 3 BYE\n");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_true(sw_str_eq(f->outp->m.ruri, SW_STR_LIT("sip:bob@10.0.0.20:5062")));
    assert_int_equal(pt_count(&f->outp->m, SW_HDR_ROUTE), 0);
    assert_false(f->r.hop_from_route);
    assert_true(sw_str_eq(f->r.hop.host, SW_STR_LIT("10.0.0.20")));
    fwd_free(f);
    sw_proxy_free(p);
}

static void test_addressed_to_us(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX];
    /* a keep-alive OPTIONS to our address: we answer it */
    size_t n = pt_msg(buf, sizeof buf, NULL,
                      "OPTIONS sip:192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-ka\n"
                      "From: <sip:ping@partner.example>;tag=f1\nTo: <sip:192.0.2.1>\nCall-ID: ka-1\nCSeq: 1 OPTIONS\n");
    fwd *f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_REPLY);
    assert_int_equal(f->r.status, 200);
    fwd_free(f);
    /* a trunk that addresses us with a number: forwarded, the caller picks the hop */
    n = pt_msg(buf, sizeof buf, NULL,
               "INVITE sip:+447700900123@192.0.2.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-tr\n"
               "From: <sip:+33@partner.example>;tag=f1\nTo: <sip:+447700900123@192.0.2.1>\nCall-ID: tr-1\nCSeq: 1 INVITE\n");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    assert_true(f->r.hop_is_self);
    fwd_free(f);
    /* a tel: Request-URI: no host, the caller's table decides; a URN: 416 */
    n = pt_msg(buf, sizeof buf, NULL,
               "INVITE tel:+447700900123 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-tel\n"
               "From: <sip:+33@partner.example>;tag=f1\nTo: <tel:+447700900123>\nCall-ID: tel-1\nCSeq: 1 INVITE\n");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    assert_int_equal(f->r.hop.host.len, 0);
    assert_false(f->r.hop.has_addr);
    fwd_free(f);
    n = pt_msg(buf, sizeof buf, NULL,
               "INVITE urn:service:sos SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-urn\n"
               "From: <sip:+33@partner.example>;tag=f1\nTo: <urn:service:sos>\nCall-ID: urn-1\nCSeq: 1 INVITE\n");
    f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_REPLY);
    assert_int_equal(f->r.status, 416);
    fwd_free(f);
    sw_proxy_free(p);
}

static void test_bad_requests(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX];
    static const char *const broken[] = {
        /* no Via */
        "OPTIONS sip:b@b.example SIP/2.0\nFrom: <sip:a@a>;tag=1\nTo: <sip:b@b>\nCall-ID: x\nCSeq: 1 OPTIONS\n",
        /* no Call-ID */
        "OPTIONS sip:b@b.example SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\nFrom: <sip:a@a>;tag=1\nTo: <sip:b@b>\nCSeq: 1 OPTIONS\n",
        /* From that does not parse */
        "OPTIONS sip:b@b.example SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\nFrom: <sip:a@a;tag=1\nTo: <sip:b@b>\nCall-ID: x\nCSeq: 1 OPTIONS\n",
        /* a Route value that does not parse */
        "OPTIONS sip:b@b.example SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\nRoute: <sip:192.0.2.1;lr\nFrom: <sip:a@a>;tag=1\nTo: <sip:b@b>\nCall-ID: x\nCSeq: 1 OPTIONS\n",
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        size_t n = pt_msg(buf, sizeof buf, NULL, "%s", broken[i]);
        fwd *f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
        assert_int_equal(f->res, SW_PROXY_REPLY);
        assert_int_equal(f->r.status, 400);
        /* write refuses to run after a REPLY */
        assert_int_equal(sw_proxy_write_request(p, &f->r, IF_CORE, f->out, sizeof f->out), SW_EUSAGE);
        fwd_free(f);
    }
    sw_proxy_free(p);
}

/* ---- header policy ---------------------------------------------------------------------------- */

static void test_strip_sanitize(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX], v[512];
    size_t n = pt_msg(buf, sizeof buf, NULL,
                      "MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-p\n"
                      "From: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>\nCall-ID: pol-1\nCSeq: 1 MESSAGE\n"
                      "P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0010100a1b2c3d4e5\n"
                      "P-Served-User: <sip:a@a.example>\n"
                      "User-Agent: Acme-SBC/4.2.1 (Linux 5.10; build 77) libsip/2.0 v3 18.2.0\n"
                      "Server: Phone 2\n"
                      "Warning: 399 sbc7.core.example \"Media degraded\", 392 10.0.0.9:5060 \"Noisy\"\n"
                      "Subject: keep me 1.2\n"
                      "p-access-network-info: second line of it\n");
    sw_verdict vd;
    memset(&vd, 0, sizeof vd);
    sw_hdr_mask_set(&vd.strip, SW_HDR_P_ACCESS_NETWORK_INFO);
    sw_hdr_mask_set(&vd.strip, SW_HDR_VIA); /* asking to strip what routing needs: ignored */
    vd.strip_names[0] = "P-Served-User";
    vd.nstrip_names = 1;
    sw_hdr_mask_set(&vd.sanitize, SW_HDR_USER_AGENT);
    sw_hdr_mask_set(&vd.sanitize, SW_HDR_SERVER);
    sw_hdr_mask_set(&vd.sanitize, SW_HDR_WARNING);
    fwd *f = run(p, buf, n, IF_CORE, "10.0.0.9:5060", IF_X, &vd);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    const sw_sip_msg *o = &f->outp->m;
    assert_null(sw_sip_first(o, SW_HDR_P_ACCESS_NETWORK_INFO));
    assert_null(sw_sip_find(o, "P-Served-User"));
    assert_int_equal(pt_count(o, SW_HDR_VIA), 2);
    pt_value(o, SW_HDR_USER_AGENT, 0, v, sizeof v);
    assert_string_equal(v, "Acme-SBC libsip v3");
    pt_value(o, SW_HDR_SERVER, 0, v, sizeof v);
    assert_string_equal(v, "Phone");
    const sw_sip_header *w = sw_sip_first(o, SW_HDR_WARNING);
    assert_non_null(w);
    assert_true(sw_str_eq(w->value, SW_STR_LIT("399 - \"Media degraded\",392 - \"Noisy\"")));
    pt_value(o, SW_HDR_SUBJECT, 0, v, sizeof v);
    assert_string_equal(v, "keep me 1.2");
    fwd_free(f);

    /* a value with nothing but versions goes entirely */
    n = pt_msg(buf, sizeof buf, NULL,
               "MESSAGE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-p\n"
               "From: <sip:a@a.example>;tag=f1\nTo: <sip:bob@b.example>\nCall-ID: pol-2\nCSeq: 1 MESSAGE\n"
               "User-Agent: (Linux) 1.0\n");
    f = run(p, buf, n, IF_CORE, "10.0.0.9:5060", IF_X, &vd);
    assert_null(sw_sip_first(&f->outp->m, SW_HDR_USER_AGENT));
    fwd_free(f);
    sw_proxy_free(p);
}

/* ---- framing and capacity -------------------------------------------------------------------------- */

static void test_content_length(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    /* a datagram without Content-Length: the body is the rest, and the
     * copy toward a stream says how long it is */
    static const char body[] = "v=0\r\no=- 1 1 IN IP4 203.0.113.1\r\ns=-\r\n";
    char buf[PT_MSG_MAX];
    int n = snprintf(buf, sizeof buf,
                     "MESSAGE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-cl\r\n"
                     "From: <sip:a@a.example>;tag=f1\r\nTo: <sip:bob@b.example>\r\nCall-ID: cl-1\r\n"
                     "CSeq: 1 MESSAGE\r\nContent-Type: application/sdp\r\n\r\n%s",
                     body);
    fwd *f = run(p, buf, (size_t)n, IF_X, "198.51.100.20:5060", IF_CORE_TCP, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    pt_parsed *s = pt_new();
    sw_sip_msg *m = pt_parse_framing(s, f->out, (size_t)f->len, SW_SIP_STREAM);
    assert_int_equal(m->content_length, (int64_t)strlen(body));
    assert_true(sw_str_eq(m->body, sw_str_make(body, strlen(body))));
    free(s);
    fwd_free(f);
    /* a wrong compact one is corrected (the parser already framed the body) */
    n = snprintf(buf, sizeof buf,
                 "MESSAGE sip:bob@b.example SIP/2.0\r\nv: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-cl\r\n"
                 "f: <sip:a@a.example>;tag=f1\r\nt: <sip:bob@b.example>\r\ni: cl-2\r\n"
                 "CSeq: 1 MESSAGE\r\nl: 4\r\n\r\nabcdEXTRA");
    f = run(p, buf, (size_t)n, IF_X, "198.51.100.20:5060", IF_CORE_TCP, NULL);
    s = pt_new();
    m = pt_parse_framing(s, f->out, (size_t)f->len, SW_SIP_STREAM);
    assert_int_equal(m->content_length, 4);
    assert_true(sw_str_eq(m->body, SW_STR_LIT("abcd")));
    free(s);
    fwd_free(f);
    sw_proxy_free(p);
}

/* Every cap below the needed length fails cleanly, into an exactly sized
 * heap block (ASan catches one byte too many). */
static void test_cap_too_small(void **state)
{
    (void)state;
    for (int hide = 0; hide <= 1; hide++) {
        sw_proxy *p = make_proxy(hide);
        char buf[PT_MSG_MAX];
        size_t n = invite(buf, sizeof buf, "z9hG4bK.cap");
        fwd *f = run(p, buf, n, IF_CORE, "10.0.0.9:5060", IF_X, NULL);
        assert_int_equal(f->res, SW_PROXY_FORWARD);
        size_t need = (size_t)f->len;
        for (size_t cap = 0; cap < need; cap++) {
            char *o = malloc(cap ? cap : 1);
            assert_non_null(o);
            assert_int_equal(sw_proxy_write_request(p, &f->r, IF_X, o, cap), SW_ELIMIT);
            free(o);
        }
        char *o = malloc(need);
        assert_int_equal(sw_proxy_write_request(p, &f->r, IF_X, o, need), (long)need);
        assert_memory_equal(o, f->out, need);
        free(o);

        /* the response back */
        size_t rn = response_to(f, 200, "Contact: <sip:bob@203.0.113.50>\nRecord-Route: <sip:x.partner.example;lr>\n",
                                buf, sizeof buf);
        pt_parsed *in = pt_new();
        pt_parse(in, buf, rn);
        sw_proxy_resp r;
        memset(&r, 0, sizeof r);
        r.msg = &in->m;
        r.src = pt_addr("198.51.100.20:5060");
        r.in_iface = IF_X;
        char full[PT_MSG_MAX];
        long len;
        assert_int_equal(sw_proxy_response(p, &r, full, sizeof full, &len), SW_PROXY_FORWARD);
        for (size_t cap = 0; cap < (size_t)len; cap++) {
            char *c = malloc(cap ? cap : 1);
            long l2;
            assert_int_equal(sw_proxy_response(p, &r, c, cap, &l2), SW_PROXY_DROP);
            assert_int_equal(l2, SW_ELIMIT);
            free(c);
        }
        free(in);

        /* our own answer */
        long rl = sw_proxy_reply(p, &f->in->m, &f->r.src, 503, NULL, 30, full, sizeof full);
        assert_true(rl > 0);
        for (size_t cap = 0; cap < (size_t)rl; cap++) {
            char *c = malloc(cap ? cap : 1);
            assert_int_equal(sw_proxy_reply(p, &f->in->m, &f->r.src, 503, NULL, 30, c, cap), SW_ELIMIT);
            free(c);
        }
        fwd_free(f);
        sw_proxy_free(p);
    }
}

/* ---- our own answers ------------------------------------------------------------------------------------ */

static void test_reply(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX], out[PT_MSG_MAX], out2[PT_MSG_MAX], v[512];
    size_t n = invite(buf, sizeof buf, "z9hG4bK.rep");
    pt_parsed *in = pt_new();
    sw_sip_msg *m = pt_parse(in, buf, n);
    sw_addr src = pt_addr("203.0.113.7:40000");
    long l1 = sw_proxy_reply(p, m, &src, 503, NULL, 30, out, sizeof out);
    assert_true(l1 > 0);
    pt_parsed *o = pt_new();
    sw_sip_msg *r = pt_parse(o, out, (size_t)l1);
    assert_false(r->is_request);
    assert_int_equal(r->status, 503);
    assert_true(sw_str_eq(r->reason, SW_STR_LIT("Service Unavailable")));
    pt_value(r, SW_HDR_RETRY_AFTER, 0, v, sizeof v);
    assert_string_equal(v, "30");
    assert_int_equal(r->content_length, 0);
    assert_int_equal(pt_count(r, SW_HDR_VIA), 2);
    pt_value(r, SW_HDR_VIA, 0, v, sizeof v);
    assert_string_equal(v, "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK.rep;received=203.0.113.7");
    const sw_nameaddr *to;
    assert_int_equal(sw_sip_to(r, &to, NULL), SW_OK);
    assert_int_equal(to->tag.len, 18);
    assert_memory_equal(to->tag.ptr, "sw", 2);
    pt_value(r, SW_HDR_CALL_ID, 0, v, sizeof v);
    assert_string_equal(v, "c1-7f3e2a9b4c@pcscf2.partner.example");
    pt_value(r, SW_HDR_CSEQ, 0, v, sizeof v);
    assert_string_equal(v, "101 INVITE");
    assert_null(sw_sip_first(r, SW_HDR_SERVER));
    /* a retransmission gets the same answer; without Retry-After when 0 */
    long l2 = sw_proxy_reply(p, m, &src, 503, NULL, 30, out2, sizeof out2);
    assert_int_equal(l2, l1);
    assert_memory_equal(out, out2, (size_t)l1);
    l2 = sw_proxy_reply(p, m, &src, 403, "Go Away", 0, out2, sizeof out2);
    assert_true(l2 > 0);
    assert_true(pt_contains(out2, (size_t)l2, "SIP/2.0 403 Go Away\r\n"));
    assert_false(pt_contains(out2, (size_t)l2, "Retry-After"));
    /* a reason that would break the line is not used */
    l2 = sw_proxy_reply(p, m, &src, 403, "Bad\r\nX: y", 0, out2, sizeof out2);
    assert_true(pt_contains(out2, (size_t)l2, "SIP/2.0 403 Forbidden\r\n"));

    /* the ACK for it is absorbed */
    char tag[32];
    memcpy(tag, to->tag.ptr, 18);
    tag[18] = '\0';
    size_t an = pt_msg(buf, sizeof buf, NULL,
                       "ACK sip:+447700900123@ims.example.net;user=phone SIP/2.0\n"
                       "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK.rep\n"
                       "Max-Forwards: 66\n"
                       "From: <sip:+33639981234@ims.partner.example;user=phone>;tag=a7c1f0\n"
                       "To: <tel:+447700900123>;tag=%s\n"
                       "Call-ID: c1-7f3e2a9b4c@pcscf2.partner.example\nCSeq: 101 ACK\n",
                       tag);
    fwd *f = run(p, buf, an, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_DROP);
    fwd_free(f);
    /* … but not an ACK whose tag only looks like ours */
    tag[17] = tag[17] == '0' ? '1' : '0';
    an = pt_msg(buf, sizeof buf, NULL,
                "ACK sip:+447700900123@ims.example.net;user=phone SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK.rep\n"
                "From: <sip:+33639981234@ims.partner.example;user=phone>;tag=a7c1f0\n"
                "To: <tel:+447700900123>;tag=%s\n"
                "Call-ID: c1-7f3e2a9b4c@pcscf2.partner.example\nCSeq: 101 ACK\n",
                tag);
    f = run(p, buf, an, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    /* never an answer to an ACK */
    assert_int_equal(sw_proxy_reply(p, &f->in->m, &src, 400, NULL, 0, out2, sizeof out2), SW_EINVAL);
    fwd_free(f);

    /* a To with a tag keeps it; 100 gets none */
    n = pt_msg(buf, sizeof buf, NULL,
               "BYE sip:b@b.example SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\n"
               "From: <sip:a@a>;tag=1\nTo: <sip:b@b>;tag=theirs\nCall-ID: x\nCSeq: 5 BYE\n");
    pt_parse(in, buf, n);
    l2 = sw_proxy_reply(p, &in->m, &src, 481, NULL, 0, out2, sizeof out2);
    assert_true(pt_contains(out2, (size_t)l2, "\r\nTo: <sip:b@b>;tag=theirs\r\n"));
    n = invite(buf, sizeof buf, "z9hG4bK.rep");
    pt_parse(in, buf, n);
    l2 = sw_proxy_reply(p, &in->m, &src, 100, NULL, 0, out2, sizeof out2);
    assert_true(pt_contains(out2, (size_t)l2, "\r\nTo: <tel:+447700900123>\r\n"));

    /* malformed (a From that does not parse) but answerable: raw values */
    n = pt_msg(buf, sizeof buf, NULL,
               "INVITE sip:b@b.example SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\n"
               "From: <sip:a@a;tag=1\nTo: <sip:b@b>\nCall-ID: x\nCSeq: 5 INVITE\n");
    pt_parse(in, buf, n);
    l2 = sw_proxy_reply(p, &in->m, &src, 400, NULL, 0, out2, sizeof out2);
    assert_true(l2 > 0);
    assert_true(pt_contains(out2, (size_t)l2, "\r\nFrom: <sip:a@a;tag=1\r\n"));
    pt_parse(o, out2, (size_t)l2);
    /* missing CSeq: nothing to answer with */
    n = pt_msg(buf, sizeof buf, NULL,
               "INVITE sip:b@b.example SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\n"
               "From: <sip:a@a>;tag=1\nTo: <sip:b@b>\nCall-ID: x\n");
    pt_parse(in, buf, n);
    assert_int_equal(sw_proxy_reply(p, &in->m, &src, 400, NULL, 0, out2, sizeof out2), SW_EINVAL);

    /* reason phrases */
    static const struct {
        uint16_t c;
        const char *s;
    } rp[] = {{100, "Trying"}, {183, "Session Progress"}, {302, "Moved Temporarily"},
              {404, "Not Found"}, {429, "Provide Referrer Identity"}, {433, "Anonymity Disallowed"},
              {437, "Unsupported Credential"}, {470, "Consent Needed"}, {481, "Call/Transaction Does Not Exist"},
              {482, "Loop Detected"}, {483, "Too Many Hops"}, {494, "Security Agreement Required"},
              {504, "Server Time-out"}, {603, "Decline"}, {607, "Unwanted"}, {608, "Rejected"}, {299, ""}};
    for (size_t i = 0; i < sizeof rp / sizeof rp[0]; i++)
        assert_string_equal(sw_sip_reason_phrase(rp[i].c), rp[i].s);
    free(in);
    free(o);
    sw_proxy_free(p);
}

/* ---- loops ------------------------------------------------------------------------------------------ */

static void test_loop(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(0);
    char buf[PT_MSG_MAX];
    size_t n = invite(buf, sizeof buf, "z9hG4bK.loop");
    fwd *f = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    /* it comes back unchanged through someone else: a loop */
    char back[PT_MSG_MAX];
    char *after_rl = strstr(f->out, "\r\n") + 2;
    int bn = snprintf(back, sizeof back, "INVITE sip:+447700900123@ims.example.net;user=phone SIP/2.0\r\n"
                                         "Via: SIP/2.0/UDP 10.0.0.50;branch=z9hG4bK-other\r\n%s",
                      after_rl);
    fwd *g = run(p, back, (size_t)bn, IF_CORE, "10.0.0.50:5060", IF_X, NULL);
    assert_int_equal(g->res, SW_PROXY_REPLY);
    assert_int_equal(g->r.status, 482);
    fwd_free(g);
    /* it comes back retargeted (another Request-URI): a spiral, forwarded */
    bn = snprintf(back, sizeof back, "INVITE sip:+447700900999@ims.example.net;user=phone SIP/2.0\r\n"
                                     "Via: SIP/2.0/UDP 10.0.0.50;branch=z9hG4bK-other\r\n%s",
                  after_rl);
    g = run(p, back, (size_t)bn, IF_CORE, "10.0.0.50:5060", IF_X, NULL);
    assert_int_equal(g->res, SW_PROXY_FORWARD);
    fwd_free(g);
    fwd_free(f);
    sw_proxy_free(p);
}

/* ---- hiding, one message ------------------------------------------------------------------------------ */

static void test_hide_one_request(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(1);
    char buf[PT_MSG_MAX], v[4096];
    size_t n = pt_msg(buf, sizeof buf, "v=0\no=- 1 1 IN IP4 203.0.113.40\ns=-\nc=IN IP4 203.0.113.40\nt=0 0\n",
                      "INVITE sip:+33639981234@ims.partner.example;user=phone SIP/2.0\n"
                      "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-scscf;rport\n"
                      "Via: SIP/2.0/UDP 10.0.0.30:5060;branch=z9hG4bK-pcscf\n"
                      "Via: SIP/2.0/UDP 10.0.0.31:5062;branch=z9hG4bK-ue\n"
                      "Record-Route: <sip:10.0.0.9;lr>\nRecord-Route: <sip:10.0.0.30;lr>\n"
                      "Max-Forwards: 68\nFrom: <sip:+447700900123@ims.example.net>;tag=t-ue\n"
                      "To: <sip:+33639981234@ims.partner.example;user=phone>\n"
                      "Call-ID: abc@10.0.0.31\nCSeq: 1 INVITE\n"
                      "Contact: \"UE\" <sip:+447700900123@10.0.0.31:5062>;expires=600;+sip.instance=\"<urn:gsma:imei:1>\"\n"
                      "Content-Type: application/sdp\n");
    fwd *f = run(p, buf, n, IF_CORE, "10.0.0.9:5099", IF_X, NULL);
    assert_int_equal(f->res, SW_PROXY_FORWARD);
    assert_false(pt_contains(f->out, (size_t)f->len, "10.0."));
    const sw_sip_msg *o = &f->outp->m;
    assert_int_equal(pt_count(o, SW_HDR_VIA), 1);
    pt_value(o, SW_HDR_VIA, 0, v, sizeof v);
    assert_true(strncmp(v, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsw", 43) == 0);
    assert_non_null(strstr(v, ";swh="));
    assert_int_equal(pt_count(o, SW_HDR_RECORD_ROUTE), 1);
    pt_value(o, SW_HDR_RECORD_ROUTE, 0, v, sizeof v);
    assert_true(strncmp(v, "<sip:192.0.2.1:5060;lr;swrr=", 28) == 0);
    pt_value(o, SW_HDR_CONTACT, 0, v, sizeof v);
    assert_true(strncmp(v, "\"UE\" <sip:swc-", 14) == 0);
    assert_non_null(strstr(v, "@192.0.2.1:5060>;expires=600;+sip.instance=\"<urn:gsma:imei:1>\""));
    pt_value(o, SW_HDR_CALL_ID, 0, v, sizeof v);
    assert_true(strncmp(v, "swi-", 4) == 0);
    /* deterministic: the retransmission is the same bytes */
    fwd *g = run(p, buf, n, IF_CORE, "10.0.0.9:5099", IF_X, NULL);
    assert_int_equal(g->len, f->len);
    assert_memory_equal(g->out, f->out, (size_t)f->len);
    fwd_free(g);

    /* the response brings the stack back, received/rport on the old top */
    size_t rn = response_to(f, 180, NULL, buf, sizeof buf);
    sw_proxy_resp r;
    pt_parsed *ro;
    long len;
    assert_int_equal(respond(p, buf, rn, IF_X, &r, &ro, &len), SW_PROXY_FORWARD);
    assert_int_equal(r.out_iface, IF_CORE);
    assert_true(sw_str_eq(r.hop.host, SW_STR_LIT("10.0.0.9")));
    assert_int_equal(r.hop.port, 5099);
    assert_int_equal(pt_count(&ro->m, SW_HDR_VIA), 3);
    pt_value(&ro->m, SW_HDR_VIA, 0, v, sizeof v);
    assert_string_equal(v, "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-scscf;received=10.0.0.9;rport=5099");
    pt_value(&ro->m, SW_HDR_VIA, 2, v, sizeof v);
    assert_string_equal(v, "SIP/2.0/UDP 10.0.0.31:5062;branch=z9hG4bK-ue");
    pt_value(&ro->m, SW_HDR_CALL_ID, 0, v, sizeof v);
    assert_string_equal(v, "abc@10.0.0.31");
    free(ro);

    /* a tampered stack token: dropped */
    char *swh = strstr(buf, ";swh=");
    assert_non_null(swh);
    swh[10] = swh[10] == 'A' ? 'B' : 'A';
    assert_int_equal(respond(p, buf, rn, IF_X, &r, &ro, &len), SW_PROXY_DROP);

    /* in-dialog requests naming tokens that do not open */
    n = pt_msg(buf, sizeof buf, NULL,
               "BYE sip:swc-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@192.0.2.1:5060 SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-b\n"
               "From: <sip:a@partner.example>;tag=f1\nTo: <sip:b@ims.example.net>;tag=t1\nCall-ID: x\nCSeq: 2 BYE\n");
    g = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(g->res, SW_PROXY_REPLY);
    assert_int_equal(g->r.status, 481);
    fwd_free(g);
    n = pt_msg(buf, sizeof buf, NULL,
               "BYE sip:b@ims.example.net SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bK-b\nRoute: <sip:192.0.2.1:5060;lr;swrr=notatoken>\n"
               "From: <sip:a@partner.example>;tag=f1\nTo: <sip:b@ims.example.net>;tag=t1\nCall-ID: x\nCSeq: 2 BYE\n");
    g = run(p, buf, n, IF_X, "198.51.100.20:5060", IF_CORE, NULL);
    assert_int_equal(g->res, SW_PROXY_REPLY);
    assert_int_equal(g->r.status, 481);
    fwd_free(g);
    fwd_free(f);
    sw_proxy_free(p);
}

/* What we seal we can open again: values too long for that are refused. */
static void test_hide_limits(void **state)
{
    (void)state;
    sw_proxy *p = make_proxy(1);
    char user[1100], buf[PT_MSG_MAX];
    memset(user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    size_t n = pt_msg(buf, sizeof buf, NULL,
                      "INVITE sip:b@partner.example SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-l\n"
                      "From: <sip:a@ims.example.net>;tag=f1\nTo: <sip:b@partner.example>\nCall-ID: lim-1\n"
                      "CSeq: 1 INVITE\nContact: <sip:%s@10.0.0.31>\n",
                      user);
    pt_parsed *in = pt_new();
    pt_parse(in, buf, n);
    sw_proxy_req r;
    memset(&r, 0, sizeof r);
    r.msg = &in->m;
    r.src = pt_addr("10.0.0.9:5060");
    r.in_iface = IF_CORE;
    assert_int_equal(sw_proxy_route(p, &r), SW_PROXY_FORWARD);
    char out[PT_MSG_MAX];
    assert_int_equal(sw_proxy_write_request(p, &r, IF_X, out, sizeof out), SW_ERANGE);
    /* toward the core nothing is hidden: fine */
    assert_true(sw_proxy_write_request(p, &r, IF_CORE_TCP, out, sizeof out) > 0);
    free(in);
    sw_proxy_free(p);
}

static void test_config(void **state)
{
    (void)state;
    sw_proxy_iface ifs[2] = {{SW_TRANSPORT_TLS, pt_addr("192.0.2.1"), SW_SIDE_INTERCONNECT},
                             {SW_TRANSPORT_UDP, pt_addr("[2001:db8::1]:5062"), SW_SIDE_CORE}};
    sw_proxy_config cfg = {.secret = secret, .ifaces = ifs, .nifaces = 2};
    sw_proxy *p = sw_proxy_new(&cfg);
    assert_non_null(p);
    unsigned i = 99;
    assert_true(sw_proxy_is_self(p, SW_STR_LIT("192.0.2.1"), 0, &i)); /* TLS: 5061 */
    assert_int_equal(i, 0);
    assert_true(sw_proxy_is_self(p, SW_STR_LIT("192.0.2.1"), 5061, NULL));
    assert_false(sw_proxy_is_self(p, SW_STR_LIT("192.0.2.1"), 5060, NULL));
    assert_true(sw_proxy_is_self(p, SW_STR_LIT("[2001:db8::1]"), 5062, &i));
    assert_int_equal(i, 1);
    assert_true(sw_proxy_is_self(p, SW_STR_LIT("2001:DB8:0::1"), 5062, NULL));
    assert_false(sw_proxy_is_self(p, SW_STR_LIT("2001:db8::1"), 0, NULL));
    assert_false(sw_proxy_is_self(p, SW_STR_LIT("ibcf.example.net"), 5061, NULL));
    assert_false(sw_proxy_is_self(p, SW_STR_LIT("192.0.2.01"), 5061, NULL));
    sw_proxy_free(p);
    cfg.nifaces = 0;
    assert_null(sw_proxy_new(&cfg));
    cfg.nifaces = SW_PROXY_MAX_IFACES + 1;
    assert_null(sw_proxy_new(&cfg));
    sw_proxy_iface bad = {SW_TRANSPORT_UDP, {0}, SW_SIDE_CORE};
    cfg.ifaces = &bad;
    cfg.nifaces = 1;
    assert_null(sw_proxy_new(&cfg));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branch_derivation), cmocka_unit_test(test_response_ours_only),
        cmocka_unit_test(test_response_hop),      cmocka_unit_test(test_max_forwards),
        cmocka_unit_test(test_received_rport),    cmocka_unit_test(test_record_route),
        cmocka_unit_test(test_loose_route),       cmocka_unit_test(test_strict_route),
        cmocka_unit_test(test_addressed_to_us),   cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_strip_sanitize),    cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_cap_too_small),     cmocka_unit_test(test_reply),
        cmocka_unit_test(test_loop),              cmocka_unit_test(test_hide_one_request),
        cmocka_unit_test(test_hide_limits),       cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
