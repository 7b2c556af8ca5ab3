/* The SIP checks of the catalogue (docs/assess.md, spec §3.1).  Each sends
 * only through the run (paced, budgeted, recorded) to the one target, and
 * records one finding.  No call is ever completed: CANCEL on 18x, ACK and
 * BYE at once on 2xx, no SDP; own bindings are removed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assess/assess_int.h"

/* What every check needs: a connection over the target's transport and a
 * reply buffer.  0 with the finding set to unknown when that fails. */
typedef struct sctx {
    sw_assess_run *r;
    sw_assess_finding *f;
    sw__assess_conn *c;
    sw__assess_reply *rep;
    char buf[SW__ASSESS_MSG_MAX + 1];
} sctx;

static sctx *sctx_open(sw_assess_run *r, sw_assess_finding *f)
{
    sctx *x = calloc(1, sizeof *x);
    sw__assess_reply *rep = malloc(sizeof *rep);
    if (!x || !rep) {
        free(x);
        free(rep);
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "out of memory");
        return NULL;
    }
    x->r = r;
    x->f = f;
    x->rep = rep;
    char err[256];
    x->c = sw__assess_conn_open(r, sw__assess_target_of(r)->transport, 0, err, sizeof err);
    if (!x->c) {
        sw_assess_evidence *e = sw_assess_evidence_add(f, "sip-exchange");
        if (e) {
            snprintf(e->remote, sizeof e->remote, "%s", sw__assess_target_of(r)->addr_text);
            snprintf(e->transport, sizeof e->transport, "%s",
                     sw_transport_name(sw__assess_target_of(r)->transport));
            sw_assess_evidence_note(e, "%s", err);
        }
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "could not reach the SIP service: %s", err);
        free(rep);
        free(x);
        return NULL;
    }
    return x;
}

static void sctx_close(sctx *x)
{
    if (!x)
        return;
    sw__assess_conn_close(x->c);
    free(x->rep);
    free(x);
}

/* Reconnects after a broken stream (TCP/TLS): 0 when that fails. */
static int sctx_reconnect(sctx *x)
{
    sw__assess_conn_close(x->c);
    x->c = sw__assess_conn_open(x->r, sw__assess_target_of(x->r)->transport, 0, NULL, 0);
    return x->c != NULL;
}

/* One transaction: builds q, sends it, waits for a reply >= min_status.
 * Returns the status (0 timeout, negative on budget/transport failure). */
static int xact(sctx *x, const sw__assess_req *q, unsigned min_status, const char *note)
{
    long n = sw__assess_build(x->r, x->c, q, x->buf, sizeof x->buf);
    if (n < 0)
        return (int)n;
    sw_assess_evidence *ev = sw_assess_evidence_add(x->f, "sip-exchange");
    sw__assess_xact t = {.call_id = q->call_id,
                         .method = q->cseq_method ? q->cseq_method : q->method,
                         .min_status = min_status,
                         .retransmit = 1,
                         .ev = ev};
    int st = sw__assess_xact_run(x->r, x->c, x->buf, (size_t)n, &t, x->rep);
    if (ev)
        sw_assess_evidence_note(ev, "%s: %s%d", note ? note : q->method, st > 0 ? "status " : "",
                                st > 0 ? st : st == 0 ? 0 : st);
    if (ev && st == 0)
        sw_assess_evidence_note(ev, "%s: no answer", note ? note : q->method);
    if (st == SW_EIO && sw__assess_conn_transport(x->c) != SW_TRANSPORT_UDP)
        (void)sctx_reconnect(x);
    return st;
}

/* The first challenge of the reply (WWW- or Proxy-Authenticate). */
static int challenge_of(sw__assess_reply *rep, sw_auth *a, int *proxy)
{
    if (!rep->parsed)
        return 0;
    const sw_sip_header *h = sw_sip_first(&rep->m, SW_HDR_WWW_AUTHENTICATE);
    *proxy = 0;
    if (!h) {
        h = sw_sip_first(&rep->m, SW_HDR_PROXY_AUTHENTICATE);
        *proxy = 1;
    }
    sw_sip_error e;
    return h && sw_auth_parse(h->value, a, &e) == SW_OK;
}

/* The To tag of a reply into out ("" when none). */
static void to_tag(sw__assess_reply *rep, char *out, size_t cap)
{
    out[0] = '\0';
    const sw_nameaddr *to;
    sw_sip_error e;
    if (rep->parsed && sw_sip_to(&rep->m, &to, &e) == SW_OK && to->tag.len && to->tag.len < cap) {
        memcpy(out, to->tag.ptr, to->tag.len);
        out[to->tag.len] = '\0';
        for (char *p = out; *p; p++)
            if (*p == '\r' || *p == '\n' || *p == ' ' || *p == '>')
                *p = '_';
    }
}

static int is_challenge(int st) { return st == 401 || st == 407; }

/* Appends ", item" (or "item" first) to a list in buf while it fits. */
static void list_add(char *buf, size_t cap, const char *item)
{
    size_t fl = strlen(buf), il = strlen(item);
    if (fl + il + 3 > cap)
        return;
    if (fl) {
        memcpy(buf + fl, ", ", 2);
        fl += 2;
    }
    memcpy(buf + fl, item, il + 1);
}

/* ---- SIP-FP-01 ---- */

void sw__check_sip_fp(sw_assess_run *r, sw_assess_finding *f)
{
    sctx *x = sctx_open(r, f);
    if (x) {
        char cid[40], tag[20];
        sw__assess_new_callid(cid);
        sw__assess_new_tag(tag);
        sw__assess_req q = {.method = "OPTIONS", .call_id = cid, .from_tag = tag, .cseq = 1, .expires = -1};
        (void)xact(x, &q, 200, "OPTIONS");
        sctx_close(x);
    }
    /* every reply collected so far (and this one) */
    size_t n;
    const sw__assess_reply_copy *rc = sw__assess_replies(r, &n);
    sw__assess_reply *rep = malloc(sizeof *rep);
    if (!rep) {
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "out of memory");
        return;
    }
    int level = 0, seen = 0;
    char worst[300] = "", list[1024] = "";
    size_t loff = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(rep->buf, rc[i].bytes, rc[i].len);
        rep->len = rc[i].len;
        sw_sip_limits lim;
        sw_sip_limits_default(&lim);
        sw_sip_error e;
        if (sw_sip_parse(&rep->m, rep->hdrs, 256, rep->buf, rep->len, SW_SIP_DATAGRAM, &lim, &e) <= 0)
            continue;
        seen++;
        for (uint16_t k = 0; k < rep->m.nhdrs; k++) {
            const sw_sip_header *h = &rep->m.hdrs[k];
            int interesting = h->id == SW_HDR_SERVER || h->id == SW_HDR_USER_AGENT || h->id == SW_HDR_WARNING ||
                              h->id == SW_HDR_ORGANIZATION ||
                              (h->name.len > 2 && (h->name.ptr[0] == 'X' || h->name.ptr[0] == 'x') &&
                               h->name.ptr[1] == '-');
            if (!interesting)
                continue;
            sw_str v = h->value;
            if (h->id == SW_HDR_WARNING) {
                /* warn-code SP warn-agent SP "text": the agent is a
                 * host:port (SIP-LEAK-01's business); the text may name the product */
                const char *q1 = memchr(v.ptr, '"', v.len);
                v = q1 ? sw_str_make(q1, v.len - (size_t)(q1 - v.ptr)) : SW_STR_NULL;
            }
            int lv = sw__assess_product_level(v);
            if (lv == 0)
                continue;
            char line[300];
            snprintf(line, sizeof line, "%.*s: %.*s", (int)(h->name.len > 40 ? 40 : h->name.len), h->name.ptr,
                     (int)(h->value.len > 200 ? 200 : h->value.len), h->value.ptr);
            if (!strstr(list, line) && loff + strlen(line) + 3 < sizeof list)
                loff += (size_t)snprintf(list + loff, sizeof list - loff, "%s%s", loff ? "; " : "", line);
            if (lv > level) {
                level = lv;
                snprintf(worst, sizeof worst, "%s", line);
            }
        }
    }
    free(rep);
    sw_assess_evidence *e = sw_assess_evidence_add(f, "sip-exchange");
    if (e)
        sw_assess_evidence_note(e, "%d replies read; product headers: %s", seen, loff ? list : "none");
    if (seen == 0)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "no reply from the target to read");
    else if (level == 2)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_LOW, "the target names its product and version: %s", worst);
    else if (level == 1)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "a product is named without a version: %s", worst);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "no product or version in %d replies", seen);
}

/* ---- SIP-AUTH-01 ---- */

/* Ends an INVITE that got 2xx: ACK then BYE, to the target only (the
 * Contact of the answer is used as the request URI, never as a
 * destination). */
static void end_call(sctx *x, const char *ruri, const char *cid, const char *ftag, const char *ttag, const char *user)
{
    char ab[40];
    sw__assess_new_branch(ab);
    sw__assess_req ack = {.method = "ACK", .ruri = ruri, .to_user = user, .call_id = cid, .from_tag = ftag,
                          .to_tag = ttag, .branch = ab, .cseq = 1, .expires = -1, .contact = 1};
    long n = sw__assess_build(x->r, x->c, &ack, x->buf, sizeof x->buf);
    sw_assess_evidence *ev = sw_assess_evidence_add(x->f, "sip-exchange");
    if (ev) {
        sw__assess_evidence_conn(ev, x->c);
        sw_assess_evidence_note(ev, "ACK of the 2xx (the call is ended at once)");
    }
    if (n > 0)
        (void)sw__assess_send(x->r, x->c, x->buf, (size_t)n, ev);
    sw__assess_req bye = {.method = "BYE", .ruri = ruri, .to_user = user, .call_id = cid, .from_tag = ftag,
                          .to_tag = ttag, .cseq = 2, .expires = -1};
    (void)xact(x, &bye, 200, "BYE");
}

/* The request URI for in-dialog requests: the Contact of a 2xx when it
 * parses as a sip/sips URI without dangerous characters, else fallback. */
static void dialog_ruri(sw__assess_reply *rep, char *out, size_t cap, const char *fallback)
{
    snprintf(out, cap, "%s", fallback);
    const sw_nameaddr *ct;
    sw_sip_error e;
    if (!rep->parsed || sw_sip_contact(&rep->m, &ct, &e) != SW_OK)
        return;
    sw_str u = ct->uri.raw;
    if ((ct->uri.kind != SW_URI_SIP && ct->uri.kind != SW_URI_SIPS) || u.len == 0 || u.len >= cap)
        return;
    for (size_t i = 0; i < u.len; i++)
        if ((unsigned char)u.ptr[i] <= ' ' || u.ptr[i] == '>' || u.ptr[i] == '<')
            return;
    memcpy(out, u.ptr, u.len);
    out[u.len] = '\0';
}

void sw__check_sip_auth01(sw_assess_run *r, sw_assess_finding *f)
{
    sctx *x = sctx_open(r, f);
    if (!x)
        return;
    const sw_assess_options *o = sw_assess_opts(r);
    char user[17], cid[40], tag[20], branch[40], ttag[128], ruri[512];
    sw__assess_new_user(user);
    sw__assess_new_callid(cid);
    sw__assess_new_tag(tag);
    sw__assess_new_branch(branch);
    const char *to_user = user;
    const char *fixed_ruri = NULL;
    if (o->invite_to) {
        fixed_ruri = o->invite_to;
        to_user = NULL;
    }
    sw__assess_req inv = {.method = "INVITE", .ruri = fixed_ruri, .to_user = to_user, .call_id = cid,
                          .from_tag = tag, .branch = branch, .cseq = 1, .expires = -1, .contact = 1};
    long n = sw__assess_build(r, x->c, &inv, x->buf, sizeof x->buf);
    if (n < 0) {
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "the INVITE does not fit");
        sctx_close(x);
        return;
    }
    /* the R-URI as sent: for CANCEL and the ACK of a non-2xx */
    const char *sp = memchr(x->buf, ' ', (size_t)n);
    const char *sp2 = sp ? memchr(sp + 1, ' ', (size_t)n - (size_t)(sp + 1 - x->buf)) : NULL;
    snprintf(ruri, sizeof ruri, "%.*s", sp && sp2 ? (int)(sp2 - sp - 1) : 0, sp ? sp + 1 : "");
    sw_assess_evidence *ev = sw_assess_evidence_add(f, "sip-exchange");
    sw__assess_xact t = {.call_id = cid, .method = "INVITE", .min_status = 180, .retransmit = 1, .ev = ev};
    int st = sw__assess_xact_run(r, x->c, x->buf, (size_t)n, &t, x->rep);
    int first = st;
    int rang = st >= 180 && st < 200;
    if (rang) {
        /* CANCEL at once (same branch, RFC 3261 §9.1), then the INVITE's final */
        sw__assess_req can = {.method = "CANCEL", .ruri = ruri, .to_user = fixed_ruri ? NULL : user,
                              .call_id = cid, .from_tag = tag, .branch = branch, .cseq = 1, .expires = -1};
        (void)xact(x, &can, 200, "CANCEL after 18x");
        sw__assess_xact w = {.call_id = cid, .method = "INVITE", .min_status = 200, .ev = ev};
        st = sw__assess_xact_wait(r, x->c, &w, x->rep);
    }
    to_tag(x->rep, ttag, sizeof ttag);
    if (st >= 200 && st < 300) {
        char druri[512];
        dialog_ruri(x->rep, druri, sizeof druri, ruri);
        end_call(x, druri, cid, tag, ttag[0] ? ttag : NULL, fixed_ruri ? NULL : user);
    } else if (st >= 300) {
        /* ACK of a non-2xx final: same branch, the To tag of the answer */
        sw__assess_req ack = {.method = "ACK", .ruri = ruri, .to_user = fixed_ruri ? NULL : user, .call_id = cid,
                              .from_tag = tag, .to_tag = ttag[0] ? ttag : NULL, .branch = branch, .cseq = 1,
                              .expires = -1};
        long an = sw__assess_build(r, x->c, &ack, x->buf, sizeof x->buf);
        if (an > 0)
            (void)sw__assess_send(r, x->c, x->buf, (size_t)an, ev);
    }
    if (ev)
        sw_assess_evidence_note(ev, "INVITE without SDP to %s: first answer %d, final %d", ruri, first, st);
    if (rang || (st >= 200 && st < 300))
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_CRITICAL,
                      "an unauthenticated INVITE to %s was routed: %d %s without a challenge (open relay, toll "
                      "fraud); the call was %s",
                      ruri, rang ? first : st, rang ? "ringing" : "answered",
                      rang && !(st >= 200 && st < 300) ? "cancelled" : "ended with ACK and BYE");
    else if (is_challenge(st) || st == 403)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "the INVITE was refused with %d before routing", st);
    else if (st > 0)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO,
                      "the INVITE got %d without a challenge: not challenged, relaying not provable", st);
    else if (st == 0)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "no final answer to the INVITE in time");
    else
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "the INVITE could not be sent: %s", sw_strerror(st));
    sctx_close(x);
}

/* ---- SIP-AUTH-02 ---- */

void sw__check_sip_auth02(sw_assess_run *r, sw_assess_finding *f)
{
    sctx *x = sctx_open(r, f);
    if (!x)
        return;
    char user[17], cid[40], tag[20];
    sw__assess_new_user(user);
    sw__assess_new_callid(cid);
    sw__assess_new_tag(tag);
    sw__assess_req q = {.method = "REGISTER", .to_user = user, .call_id = cid, .from_tag = tag, .cseq = 1,
                        .expires = 60, .contact = 1};
    int st = xact(x, &q, 200, "REGISTER of a random user");
    if (st >= 200 && st < 300) {
        /* remove our own binding at once (never Contact: *) */
        q.cseq = 2;
        q.expires = 0;
        int u = xact(x, &q, 200, "REGISTER Expires 0: our binding removed");
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_HIGH,
                      "REGISTER for the random user %s was accepted (%d) without a challenge; binding removed (%d)",
                      user, st, u);
    } else if (is_challenge(st) || st == 403 || st == 404) {
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "REGISTER for a random user was refused with %d", st);
    } else if (st > 0) {
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "REGISTER for a random user got %d", st);
    } else {
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "no answer to REGISTER");
    }
    sctx_close(x);
}

/* ---- SIP-AUTH-03 ---- */

void sw__check_sip_auth03(sw_assess_run *r, sw_assess_finding *f)
{
    static const struct {
        const char *method, *extra, *body, *ctype;
    } m[] = {
        {"MESSAGE", NULL, "sipwall assess: unauthenticated MESSAGE test", "text/plain"},
        {"SUBSCRIBE", "Event: presence\r\nExpires: 0\r\n", NULL, NULL},
        {"REFER", NULL, NULL, NULL},
        {"PUBLISH", "Event: presence\r\nExpires: 0\r\n", NULL, NULL},
        {"NOTIFY", "Event: presence\r\nSubscription-State: terminated;reason=noresource\r\n", NULL, NULL},
        {"INFO", NULL, NULL, NULL},
        {"UPDATE", NULL, NULL, NULL},
    };
    sctx *x = sctx_open(r, f);
    if (!x)
        return;
    const sw__assess_target *t = sw__assess_target_of(r);
    int fails = 0, unknown = 0, passes = 0;
    char failed[256] = "", results[512] = "";
    size_t roff = 0;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        char user[17], cid[40], tag[20], extra[512];
        sw__assess_new_user(user);
        sw__assess_new_callid(cid);
        sw__assess_new_tag(tag);
        if (!strcmp(m[i].method, "REFER")) {
            /* the transfer target is another random user at the target itself */
            char other[17];
            sw__assess_new_user(other);
            snprintf(extra, sizeof extra, "Refer-To: <sip:%s@%s>\r\n", other,
                     strchr(t->ip_text, ':') ? t->host : t->ip_text);
        } else {
            snprintf(extra, sizeof extra, "%s", m[i].extra ? m[i].extra : "");
        }
        sw__assess_req q = {.method = m[i].method, .to_user = user, .call_id = cid, .from_tag = tag, .cseq = 1,
                            .expires = -1, .contact = 1, .extra = extra, .body = m[i].body,
                            .content_type = m[i].ctype};
        int st = xact(x, &q, 200, m[i].method);
        if (st == SW_ELIMIT)
            break;
        roff += (size_t)snprintf(results + roff, sizeof results - roff, "%s%s %d", roff ? ", " : "", m[i].method,
                                 st > 0 ? st : 0);
        if (roff >= sizeof results)
            roff = sizeof results - 1;
        if (st >= 200 && st < 300) {
            fails++;
            list_add(failed, sizeof failed, m[i].method);
        } else if (st == 401 || st == 407 || st == 403 || st == 405 || st == 481 || st == 489 || st == 501) {
            passes++;
        } else {
            unknown++;
        }
    }
    /* the Allow list of any reply read (information) */
    char allow[256] = "";
    size_t n;
    const sw__assess_reply_copy *rc = sw__assess_replies(r, &n);
    for (size_t i = 0; i < n && !allow[0]; i++) {
        const char *a = memmem(rc[i].bytes, rc[i].len, "\r\nAllow:", 8);
        if (a) {
            a += 8;
            const char *e = memmem(a, rc[i].len - (size_t)(a - (const char *)rc[i].bytes), "\r\n", 2);
            if (e)
                snprintf(allow, sizeof allow, "%.*s", (int)(e - a > 200 ? 200 : e - a), a);
        }
    }
    if (fails)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM,
                      "out-of-dialog %s accepted (2xx) without a challenge; answers: %s", failed, results);
    else if (passes && !unknown)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "every method refused or challenged: %s%s%s", results,
                      allow[0] ? "; Allow:" : "", allow);
    else
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "not every method was refused or challenged: %s",
                      results);
    sctx_close(x);
}

/* ---- SIP-ENUM-01 ---- */

static const char *const default_users[] = {"100",  "101",   "200",   "1000", "1001", "1002", "2000",
                                             "admin", "test", "user", "guest", "sip",  "operator", "support",
                                             "101", "9999", "500", "3000", "voicemail", "info"};

/* One probe of one user: the fingerprint of the answer and its RTT. */
typedef struct enum_probe {
    sw__assess_fp fp;
    int64_t rtt_ms;
    int answered;
} enum_probe;

/* The oracles asked per user: REGISTER (registrar) and OPTIONS to the
 * user's URI (the UAS/proxy's user lookup). */
enum { ENUM_REGISTER, ENUM_OPTIONS, ENUM_METHODS };
static const char *const enum_method[ENUM_METHODS] = {"REGISTER", "OPTIONS"};

typedef struct enum_row {
    char user[64];
    enum_probe p[ENUM_METHODS];
} enum_row;

static int enum_probe_one(sctx *x, const char *user, int method, enum_probe *pr)
{
    char cid[40], tag[20], note[128];
    sw__assess_new_callid(cid);
    sw__assess_new_tag(tag);
    int reg = method == ENUM_REGISTER;
    /* REGISTER: From = To = the user; OPTIONS: R-URI and To the user, From us */
    sw__assess_req q = {.method = enum_method[method], .to_user = user, .call_id = cid, .from_tag = tag,
                        .cseq = 1, .expires = reg ? 60 : -1, .contact = 1};
    snprintf(note, sizeof note, "%s%s", reg ? "" : "OPTIONS ", user);
    int st = xact(x, &q, 200, note);
    pr->rtt_ms = st > 0 ? x->rep->rtt_ms : -1;
    memset(&pr->fp, 0, sizeof pr->fp);
    pr->answered = st > 0 && x->rep->parsed;
    if (pr->answered)
        sw__assess_fp_of(&x->rep->m, &pr->fp);
    if (reg && st >= 200 && st < 300) {
        /* a binding was made: remove it at once */
        q.cseq = 2;
        q.expires = 0;
        (void)xact(x, &q, 200, "REGISTER Expires 0: our binding removed");
    }
    return st;
}

/* Both oracles for one user; the first send error (SW_ELIMIT ends the run)
 * or the OPTIONS status. */
static int enum_one(sctx *x, const char *user, enum_row *row)
{
    snprintf(row->user, sizeof row->user, "%s", user);
    memset(row->p, 0, sizeof row->p);
    for (int m = 0; m < ENUM_METHODS; m++) {
        int st = enum_probe_one(x, user, m, &row->p[m]);
        if (st == SW_ELIMIT)
            return st;
    }
    return row->p[ENUM_OPTIONS].answered ? (int)row->p[ENUM_OPTIONS].fp.status : 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* What one oracle (REGISTER or OPTIONS) tells over the baseline and the
 * candidates. */
typedef struct enum_verdict {
    int judged;         /* both baselines answered alike */
    int unanswered_base;
    const char *base_diff; /* the baselines' first difference */
    int differ, unanswered, same;
    char found[256];
    int64_t med_found, med_same, med_base;
} enum_verdict;

static void enum_judge(sw_assess_run *r, sw_assess_finding *f, const enum_row base[2], const enum_row *rows,
                       size_t nrows, int m, enum_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->unanswered_base = !base[0].p[m].answered || !base[1].p[m].answered;
    v->judged = !v->unanswered_base && sw__assess_fp_equal(&base[0].p[m].fp, &base[1].p[m].fp, &v->base_diff);
    const char *pre = m == ENUM_REGISTER ? "" : "OPTIONS ";
    int64_t rf[20], rs[20];
    size_t nf = 0, ns = 0;
    for (size_t i = 0; i < 2; i++) {
        sw_assess_evidence *e = sw_assess_evidence_add(f, "sip-exchange");
        char t[800];
        sw__assess_fp_text(&base[i].p[m].fp, t, sizeof t);
        if (e)
            sw_assess_evidence_note(e, "%sbaseline %s: %s, %lld ms", pre, base[i].user, t,
                                    (long long)base[i].p[m].rtt_ms);
    }
    for (size_t i = 0; i < nrows; i++) {
        const enum_probe *pr = &rows[i].p[m];
        sw_assess_evidence *e = sw_assess_evidence_add(f, "sip-exchange");
        char t[800];
        sw__assess_fp_text(&pr->fp, t, sizeof t);
        const char *d = NULL;
        int eq = pr->answered && sw__assess_fp_equal(&pr->fp, &base[0].p[m].fp, &d);
        if (!pr->answered) {
            v->unanswered++;
        } else if (!eq) {
            if (v->judged) {
                v->differ++;
                rf[nf++] = pr->rtt_ms;
                sw__assess_add_found_user(r, rows[i].user);
                list_add(v->found, sizeof v->found, rows[i].user);
            }
        } else {
            v->same++;
            rs[ns++] = pr->rtt_ms;
        }
        if (e)
            sw_assess_evidence_note(e, "%suser %s: %s, %lld ms%s%s", pre, rows[i].user, t, (long long)pr->rtt_ms,
                                    d ? "; differs from the baseline in: " : "", d ? d : "");
    }
    qsort(rf, nf, sizeof rf[0], cmp_i64);
    qsort(rs, ns, sizeof rs[0], cmp_i64);
    v->med_base = (base[0].p[m].rtt_ms + base[1].p[m].rtt_ms) / 2;
    v->med_found = nf ? rf[nf / 2] : -1;
    v->med_same = ns ? rs[ns / 2] : -1;
}

/* One clause of the summary for one oracle. */
static void enum_clause(const enum_verdict *v, const enum_row *b0, int m, size_t nrows, char *out, size_t cap)
{
    const char *name = enum_method[m];
    if (v->unanswered_base)
        snprintf(out, cap, "%s: the baseline users got no answer", name);
    else if (!v->judged)
        snprintf(out, cap, "%s: the two random baseline users were answered differently (%s), not judged", name,
                 v->base_diff ? v->base_diff : "?");
    else if (v->differ)
        snprintf(out, cap,
                 "%s answers tell existing users from random ones: %s differ from the baseline (%u %s); median "
                 "RTT: baseline %lld ms, differing %lld ms, equal %lld ms",
                 name, v->found, b0->p[m].fp.status, b0->p[m].fp.reason, (long long)v->med_base,
                 (long long)v->med_found, (long long)v->med_same);
    else if (nrows && (size_t)v->unanswered == nrows)
        snprintf(out, cap, "%s: no candidate user got an answer", name);
    else
        snprintf(out, cap, "%s: %d users answered like the random baseline (%u)%s; median RTT baseline %lld ms",
                 name, v->same, b0->p[m].fp.status, v->unanswered ? " (some unanswered)" : "",
                 (long long)v->med_base);
}

void sw__check_sip_enum(sw_assess_run *r, sw_assess_finding *f)
{
    sctx *x = sctx_open(r, f);
    if (!x)
        return;
    const sw_assess_options *o = sw_assess_opts(r);
    enum_row base[2], rows[20];
    size_t nrows = 0;
    char u1[17], u2[17];
    sw__assess_new_user(u1);
    sw__assess_new_user(u2);
    int stop = enum_one(x, u1, &base[0]) == SW_ELIMIT;
    if (!stop)
        stop = enum_one(x, u2, &base[1]) == SW_ELIMIT;
    else
        memset(&base[1], 0, sizeof base[1]);
    /* a candidate is asked when either oracle has a usable baseline */
    int usable = 0;
    for (int m = 0; m < ENUM_METHODS; m++) {
        const char *what = NULL;
        usable |= base[0].p[m].answered && base[1].p[m].answered &&
                  sw__assess_fp_equal(&base[0].p[m].fp, &base[1].p[m].fp, &what);
    }
    const char *const *cands = o->nknown_users ? o->known_users : default_users;
    size_t ncand = o->nknown_users ? o->nknown_users : sizeof default_users / sizeof default_users[0];
    if (usable && !stop) {
        for (size_t i = 0; i < ncand && nrows < 20; i++) {
            int dup = 0;
            for (size_t k = 0; k < nrows && !dup; k++)
                dup = !strcmp(rows[k].user, cands[i]);
            if (dup)
                continue;
            int st = enum_one(x, cands[i], &rows[nrows]);
            nrows++;
            if (st == SW_ELIMIT)
                break;
        }
    }
    /* one evidence row per user and oracle */
    enum_verdict v[ENUM_METHODS];
    char clause[ENUM_METHODS][600];
    int judged = 0, differ = 0, all_unanswered = 1;
    for (int m = 0; m < ENUM_METHODS; m++) {
        enum_judge(r, f, base, rows, nrows, m, &v[m]);
        enum_clause(&v[m], &base[0], m, nrows, clause[m], sizeof clause[m]);
        judged += v[m].judged;
        differ += v[m].differ > 0;
        if (v[m].judged && (!nrows || (size_t)v[m].unanswered < nrows))
            all_unanswered = 0;
    }
    if (differ)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM, "%s; %s", v[0].differ ? clause[0] : clause[1],
                      v[0].differ ? clause[1] : clause[0]);
    else if (!judged)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "no oracle can be judged: %s; %s", clause[0], clause[1]);
    else if (all_unanswered)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "no candidate user got an answer: %s; %s", clause[0],
                      clause[1]);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "%s %s users answered like the random baseline: %s; %s",
                      judged == ENUM_METHODS ? "both oracles:" : "one oracle judged:",
                      o->nknown_users ? "known" : "candidate", clause[0], clause[1]);
    sctx_close(x);
}

/* ---- SIP-CRED-01 ---- */

/* One digest login: REGISTER, answer the challenge with password.  Returns
 * the final status of the answered REGISTER (0 no answer, -1 no usable
 * challenge).  *chal_status gets the status of the first REGISTER. */
static int login(sctx *x, const char *user, const char *password, long expires, int *first_status)
{
    char cid[40], tag[20], hdr[1024], uri[300];
    sw__assess_new_callid(cid);
    sw__assess_new_tag(tag);
    const sw__assess_target *t = sw__assess_target_of(x->r);
    sw_transport tr = sw__assess_conn_transport(x->c);
    if (strchr(t->host, ':'))
        snprintf(uri, sizeof uri, "sip:[%s]:%u%s", t->host, (unsigned)t->port,
                 tr == SW_TRANSPORT_TLS ? ";transport=tls" : tr == SW_TRANSPORT_TCP ? ";transport=tcp" : "");
    else
        snprintf(uri, sizeof uri, "sip:%s:%u%s", t->host, (unsigned)t->port,
                 tr == SW_TRANSPORT_TLS ? ";transport=tls" : tr == SW_TRANSPORT_TCP ? ";transport=tcp" : "");
    sw__assess_req q = {.method = "REGISTER", .to_user = user, .call_id = cid, .from_tag = tag, .cseq = 1,
                        .expires = expires, .contact = 1};
    int st = xact(x, &q, 200, "REGISTER (challenge)");
    if (first_status)
        *first_status = st;
    if (!is_challenge(st))
        return st >= 200 && st < 300 ? st : (st > 0 ? -1 : st);
    sw_auth a;
    int proxy;
    if (!challenge_of(x->rep, &a, &proxy))
        return -1;
    long hl = sw__digest_header(&a, proxy, user, password, "REGISTER", uri, hdr, sizeof hdr);
    if (hl < 0)
        return -1;
    q.cseq = 2;
    q.extra = hdr;
    char note[160];
    snprintf(note, sizeof note, "REGISTER %s with password \"%s\"", user, password);
    return xact(x, &q, 200, note);
}

static const char *const default_passwords[] = {NULL /* = user */, "1234", "12345", "123456", "0000",
                                                "1111", "password", "admin", "secret", "sip", NULL /* = realm */,
                                                "pass", "test", "123", "4321", "changeme", "default", "voip",
                                                "qwerty", "12345678"};

void sw__check_sip_cred01(sw_assess_run *r, sw_assess_finding *f)
{
    const sw_assess_options *o = sw_assess_opts(r);
    const char *users[5];
    size_t nu = 0;
    for (size_t i = 0; i < o->nknown_users && nu < 5; i++)
        users[nu++] = o->known_users[i];
    const char *const *fu;
    size_t nf = sw__assess_found_users(r, &fu);
    for (size_t i = 0; i < nf && nu < 5; i++) {
        int dup = 0;
        for (size_t k = 0; k < nu && !dup; k++)
            dup = !strcmp(users[k], fu[i]);
        if (!dup)
            users[nu++] = fu[i];
    }
    if (nu == 0) {
        sw_assess_set(f, SW_ASSESS_SKIPPED, SW_ASSESS_INFO,
                      "no user to try: name one with --known-user, or SIP-ENUM-01 found none");
        return;
    }
    sctx *x = sctx_open(r, f);
    if (!x)
        return;
    char found[512] = "";
    int nfound = 0, tried = 0, stop = 0, nochal = 0;
    for (size_t u = 0; u < nu && !stop; u++) {
        char realm[128] = "";
        for (size_t p = 0; p < sizeof default_passwords / sizeof default_passwords[0]; p++) {
            const char *pw = default_passwords[p];
            if (!pw && p == 0)
                pw = users[u];
            else if (!pw)
                pw = realm[0] ? realm : NULL;
            if (!pw)
                continue;
            /* at most one try per second */
            if (sw__assess_pace_at(r, 1) != SW_OK) {
                stop = 1;
                break;
            }
            int first = 0;
            int st = login(x, users[u], pw, 60, &first);
            tried++;
            if (!realm[0] && x->rep->parsed) {
                /* remember the realm for the "= realm" guess */
                sw_auth a;
                int proxy;
                if (challenge_of(x->rep, &a, &proxy) && a.realm.len < sizeof realm) {
                    memcpy(realm, a.realm.ptr, a.realm.len);
                    realm[a.realm.len] = '\0';
                }
            }
            if (st == SW_ELIMIT) {
                stop = 1;
                break;
            }
            if (st == -1 && p == 0) {
                nochal++;
                break; /* not challenged: nothing to guess */
            }
            if (st >= 200 && st < 300) {
                nfound++;
                size_t fl = strlen(found);
                snprintf(found + fl, sizeof found - fl, "%s%s/%s", fl ? ", " : "", users[u], pw);
                sw_assess_secret(f, pw);
                /* remove our binding */
                (void)login(x, users[u], pw, 0, NULL);
                break; /* first success for this user */
            }
        }
    }
    if (nfound)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_CRITICAL,
                      "default or weak digest passwords accepted (user/password): %s; bindings removed", found);
    else if (stop)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "stopped after %d tries (budget or clock)", tried);
    else if (nochal == (int)nu)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "the users were not challenged: nothing to guess");
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "%d guesses for %zu users, none accepted", tried, nu);
    sctx_close(x);
}

/* ---- SIP-CRED-02 ---- */

void sw__check_sip_cred02(sw_assess_run *r, sw_assess_finding *f)
{
    size_t n;
    const sw__assess_reply_copy *rc = sw__assess_replies(r, &n);
    sw__assess_reply *rep = malloc(sizeof *rep);
    if (!rep) {
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "out of memory");
        return;
    }
    int seen = 0, md5 = 0, sha256 = 0, sha512 = 0, qop = 0, noqop = 0, other = 0;
    char sample[300] = "";
    for (size_t i = 0; i < n; i++) {
        memcpy(rep->buf, rc[i].bytes, rc[i].len);
        rep->len = rc[i].len;
        sw_sip_limits lim;
        sw_sip_limits_default(&lim);
        sw_sip_error e;
        if (sw_sip_parse(&rep->m, rep->hdrs, 256, rep->buf, rep->len, SW_SIP_DATAGRAM, &lim, &e) <= 0)
            continue;
        for (int pass = 0; pass < 2; pass++) {
            for (const sw_sip_header *h = sw_sip_first(&rep->m, pass ? SW_HDR_PROXY_AUTHENTICATE
                                                                      : SW_HDR_WWW_AUTHENTICATE);
                 h; h = sw_sip_next(&rep->m, h)) {
                sw_auth a;
                if (sw_auth_parse(h->value, &a, &e) != SW_OK || !sw_str_caseeq_cstr(a.scheme, "Digest"))
                    continue;
                seen++;
                if (!sample[0])
                    snprintf(sample, sizeof sample, "%.*s", (int)(h->value.len > 250 ? 250 : h->value.len),
                             h->value.ptr);
                switch (sw__digest_alg_of(a.algorithm)) {
                case SW__DIGEST_MD5:
                case SW__DIGEST_MD5_SESS:
                    md5++;
                    break;
                case SW__DIGEST_SHA256:
                case SW__DIGEST_SHA256_SESS:
                    sha256++;
                    break;
                case SW__DIGEST_SHA512_256:
                case SW__DIGEST_SHA512_256_SESS:
                    sha512++;
                    break;
                default:
                    other++;
                }
                if (a.qop.len)
                    qop++;
                else
                    noqop++;
            }
        }
    }
    free(rep);
    sw_assess_evidence *e = sw_assess_evidence_add(f, "sip-exchange");
    if (e)
        sw_assess_evidence_note(e, "%d digest challenges read: MD5 %d, SHA-256 %d, SHA-512-256 %d, other %d; "
                                   "with qop %d, without %d; e.g. %s",
                                seen, md5, sha256, sha512, other, qop, noqop, sample[0] ? sample : "-");
    if (!seen)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "no digest challenge was received");
    else if (!sha256 && !sha512 && noqop)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_LOW, "digest challenges offer MD5 only and no qop");
    else if (sha256 || sha512)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "SHA-256 digest offered (RFC 8760)%s",
                      md5 ? " beside MD5" : "");
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "MD5 digest with qop=auth offered; no SHA-256 (RFC 8760)");
}

/* ---- SIP-CRED-03 ---- */

void sw__check_sip_cred03(sw_assess_run *r, sw_assess_finding *f)
{
    const sw_assess_options *o = sw_assess_opts(r);
    char user[128] = "", pass[128] = "";
    if (o->test_account) {
        const char *c = strchr(o->test_account, ':');
        snprintf(user, sizeof user, "%.*s", (int)(c - o->test_account), o->test_account);
        snprintf(pass, sizeof pass, "%s", c + 1);
        sw_assess_secret(f, pass);
    } else {
        const char *const *fu;
        if (o->nknown_users)
            snprintf(user, sizeof user, "%s", o->known_users[0]);
        else if (sw__assess_found_users(r, &fu))
            snprintf(user, sizeof user, "%s", fu[0]);
        else
            sw__assess_new_user(user);
    }
    sctx *x = sctx_open(r, f);
    if (!x)
        return;
    int st[10], chal[10];
    int64_t rtt[10];
    int n = 0;
    for (; n < 10; n++) {
        if (sw__assess_pace_at(r, 2) != SW_OK)
            break;
        char wrong[40];
        memcpy(wrong, "sipwall-wrong-", 14);
        sw__assess_rand_hex(wrong + 14, 6);
        int64_t t0 = sw__assess_mono_ns();
        st[n] = login(x, user, wrong, 60, &chal[n]);
        rtt[n] = (sw__assess_mono_ns() - t0) / 1000000;
        if (st[n] == SW_ELIMIT)
            break;
    }
    int throttled = 0, identical = n == 10, nochal = 0, accepted = 0;
    for (int i = 0; i < n; i++) {
        if (st[i] == 403 || st[i] == 503 || st[i] == 429 || st[i] == 0 || chal[i] == 403 || chal[i] == 503 ||
            chal[i] == 0)
            throttled = 1;
        if (st[i] != st[0] || chal[i] != chal[0])
            identical = 0;
        if (!is_challenge(chal[i]))
            nochal++;
        if (st[i] >= 200 && st[i] < 300)
            accepted++;
    }
    if (n >= 3 && rtt[n - 1] > 3 * rtt[0] + 500)
        throttled = 1; /* growing delay */
    char seq[256] = "";
    size_t off = 0;
    for (int i = 0; i < n && off < sizeof seq - 16; i++)
        off += (size_t)snprintf(seq + off, sizeof seq - off, "%s%d/%d(%lldms)", i ? " " : "", chal[i], st[i],
                                (long long)rtt[i]);
    sw_assess_evidence *e = sw_assess_evidence_add(f, "sip-exchange");
    if (e)
        sw_assess_evidence_note(e, "10 wrong passwords for %s at 2/s: challenge/answer per try: %s", user, seq);
    char lockout[160] = "";
    if (o->test_account && !accepted) {
        /* the real password after a cool-down: a lockout DoS is information */
        struct timespec ts = {.tv_sec = 5, .tv_nsec = 0};
        nanosleep(&ts, NULL);
        int ok = login(x, user, pass, 60, NULL);
        if (ok >= 200 && ok < 300) {
            (void)login(x, user, pass, 0, NULL);
            snprintf(lockout, sizeof lockout, "; the test account still logs in after 5 s (no lockout DoS)");
        } else {
            snprintf(lockout, sizeof lockout, "; the test account's own login got %d after 5 s", ok);
        }
    }
    if (accepted)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM, "a wrong password was accepted for %s", user);
    else if (n < 10 && !throttled)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "only %d tries could be sent", n);
    else if (throttled)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "failed logins for %s are throttled: %s%s", user, seq,
                      lockout);
    else if (nochal == n)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO,
                      "%s is not challenged (%d): name a real account with --test-account", user, chal[0]);
    else if (identical)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM,
                      "10 wrong passwords for %s at 2/s got 10 identical challenges (%d): no throttling%s", user,
                      st[0], lockout);
    else
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "mixed answers: %s", seq);
    sctx_close(x);
}

/* ---- SIP-LEAK-01 ---- */

void sw__check_sip_leak(sw_assess_run *r, sw_assess_finding *f)
{
    size_t n;
    const sw__assess_reply_copy *rc = sw__assess_replies(r, &n);
    sw__assess_reply *rep = malloc(sizeof *rep);
    if (!rep) {
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "out of memory");
        return;
    }
    const sw__assess_target *t = sw__assess_target_of(r);
    sw__assess_leak all[32];
    size_t nall = 0;
    int seen = 0, high = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(rep->buf, rc[i].bytes, rc[i].len);
        rep->len = rc[i].len;
        sw_sip_limits lim;
        sw_sip_limits_default(&lim);
        sw_sip_error e;
        if (sw_sip_parse(&rep->m, rep->hdrs, 256, rep->buf, rep->len, SW_SIP_DATAGRAM, &lim, &e) <= 0)
            continue;
        seen++;
        sw__assess_leak l[8];
        size_t k = sw__assess_leaks(&rep->m, sw__assess_local_ip(r), t->ip_text, l, 8);
        for (size_t j = 0; j < k; j++) {
            int dup = 0;
            for (size_t q = 0; q < nall && !dup; q++)
                dup = !strcmp(all[q].header, l[j].header) && !strcmp(all[q].what, l[j].what);
            if (dup || nall >= 32)
                continue;
            all[nall] = l[j];
            high |= l[j].high;
            sw_assess_evidence *ev = sw_assess_evidence_add(f, "sip-exchange");
            if (ev) {
                (void)sw_assess_evidence_bytes(ev, NULL, 0, rc[i].bytes, rc[i].len);
                snprintf(ev->remote, sizeof ev->remote, "%s", t->addr_text);
                sw_assess_evidence_note(ev, "%s: %s%s", l[j].header, l[j].what,
                                        l[j].high ? " (access network / cell identity)" : "");
            }
            nall++;
        }
    }
    free(rep);
    char list[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < nall && off < sizeof list - 8; i++) {
        int w = snprintf(list + off, sizeof list - off, "%s%s %s", i ? "; " : "", all[i].header, all[i].what);
        if (w < 0)
            break;
        off += (size_t)w;
        if (off >= sizeof list)
            off = sizeof list - 1;
    }
    if (!seen)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "no reply from the target to read");
    else if (nall)
        sw_assess_set(f, SW_ASSESS_FAIL, high ? SW_ASSESS_HIGH : SW_ASSESS_MEDIUM,
                      "replies leak internal topology%s: %s", high ? " and the access network / cell" : "", list);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "no internal address, host name or access network in %d replies",
                      seen);
}

/* ---- SIP-ROBUST-01 ---- */

/* The operator's own set (--robust-dir): up to 64 regular files named
 * *.dat or *.sip, in name order; a manifest.tsv (file TAB section TAB
 * verdict ...) marks the "invalid" ones.  Names are malloc'd. */
#define ROBUST_MAX_FILES 64
typedef struct robust_files {
    char *name[ROBUST_MAX_FILES];
    int invalid[ROBUST_MAX_FILES];
    size_t n;
} robust_files;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void robust_files_load(const char *dir, robust_files *rf)
{
    memset(rf, 0, sizeof *rf);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && rf->n < ROBUST_MAX_FILES) {
        size_t l = strlen(de->d_name);
        if (l < 5 || (strcmp(de->d_name + l - 4, ".dat") && strcmp(de->d_name + l - 4, ".sip")))
            continue;
        char *nm = strdup(de->d_name);
        if (nm)
            rf->name[rf->n++] = nm;
    }
    closedir(d);
    qsort(rf->name, rf->n, sizeof rf->name[0], cmp_str);
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.tsv", dir);
    FILE *m = fopen(path, "r");
    if (!m)
        return;
    char line[2048];
    for (int lines = 0; lines < 1000 && fgets(line, sizeof line, m); lines++) {
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        *t1 = '\0';
        int inval = strncmp(t2 + 1, "invalid", 7) == 0;
        for (size_t i = 0; i < rf->n; i++)
            if (!strcmp(rf->name[i], line))
                rf->invalid[i] = inval;
    }
    fclose(m);
}

/* Reads dir/name (at most cap bytes; larger files are skipped: 0). */
static size_t robust_file_read(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    size_t n = fread(buf, 1, cap, fp);
    int more = fgetc(fp) != EOF;
    fclose(fp);
    return more ? 0 : n;
}

void sw__check_sip_robust(sw_assess_run *r, sw_assess_finding *f)
{
    sw_transport tr = sw__assess_target_of(r)->transport;
    const sw_assess_options *o = sw_assess_opts(r);
    sctx *x = sctx_open(r, f);
    if (!x)
        return;
    robust_files rf = {0};
    if (o->robust_dir)
        robust_files_load(o->robust_dir, &rf);
    char *file = rf.n ? malloc(SW__ASSESS_MSG_MAX) : NULL;
    int sent = 0, ok2xx = 0, lost = 0, silent = 0, answered = 0, lenient = 0, from_files = 0;
    char last_batch[400] = "", bad[256] = "";
    size_t boff = 0;
    unsigned ngen = 0;
    for (unsigned i = 0;; i++) {
        const char *name = NULL;
        int inval = 0;
        size_t len = 0;
        if (i == ngen) {
            len = sw__assess_mutation(r, x->c, i, x->buf, sizeof x->buf, &name, &inval);
            if (len)
                ngen++;
        }
        if (!len) {
            /* past the generated cases: the operator's files, rewritten */
            size_t k = i - ngen;
            if (k >= rf.n || !file)
                break;
            name = rf.name[k];
            inval = rf.invalid[k];
            size_t fl = robust_file_read(o->robust_dir, name, file, SW__ASSESS_MSG_MAX);
            len = fl ? sw__assess_rewrite(r, x->c, file, fl, x->buf, sizeof x->buf) : 0;
            if (!len)
                continue; /* a response, unreadable or too large: not sent */
            from_files++;
        }
        boff += (size_t)snprintf(last_batch + boff, sizeof last_batch - boff, "%s%s", boff ? ", " : "", name);
        if (boff >= sizeof last_batch)
            boff = sizeof last_batch - 1;
        sw_assess_evidence *ev = sw_assess_evidence_add(f, "sip-exchange");
        if (ev)
            sw__assess_evidence_conn(ev, x->c);
        int s = sw__assess_send(r, x->c, x->buf, len, ev);
        if (s == SW_ELIMIT)
            break;
        sent++;
        /* what comes back within 300 ms: a 400 or silence is right */
        sw__assess_xact w = {.call_id = NULL, .min_status = 200, .timeout_ms = 300, .ev = ev};
        x->rep->len = 0;
        x->rep->parsed = 0;
        int st = s == SW_OK ? sw__assess_xact_wait(r, x->c, &w, x->rep) : SW_EIO;
        /* a reply our parser refuses or cannot match (100 Via, no Call-ID,
         * ...) is still an answer: its status line counts, a 2xx to an
         * invalid request too */
        int unparsed = 0;
        if (st <= 0 && x->rep->len) {
            int raw = sw__assess_status_line(x->rep->buf, x->rep->len);
            if (raw >= 200) {
                st = raw;
                unparsed = 1;
            }
        }
        if (st >= 200 && st < 300 && inval) {
            ok2xx++;
            list_add(bad, sizeof bad, name);
        } else if (st >= 200 && st < 300) {
            lenient++; /* a 2xx to a valid but unusual request */
        } else if (st > 0) {
            answered++;
        }
        if (st <= 0)
            silent++;
        if (ev)
            sw_assess_evidence_note(ev, "%s (%s): %zu bytes, %s%d%s", name, inval ? "invalid" : "valid but unusual",
                                    len, st > 0 ? "answer " : "silence ", st > 0 ? st : 0,
                                    unparsed ? " (from the status line: the reply did not parse or match)" : "");
        if (tr != SW_TRANSPORT_UDP && !sctx_reconnect(x)) {
            /* a fresh connection per malformed message on TCP/TLS; none: check liveness */
            if (!sw__assess_alive(r, f) || !sctx_reconnect(x)) {
                lost = 1;
                break;
            }
        }
        if (sent % 5 == 0) {
            if (!sw__assess_alive(r, f)) {
                lost = 1;
                break;
            }
            boff = 0;
            last_batch[0] = '\0';
        }
    }
    free(file);
    for (size_t k = 0; k < rf.n; k++)
        free(rf.name[k]);
    if (!lost && sent % 5 && !sw__assess_alive(r, f))
        lost = 1;
    if (lost)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_HIGH,
                      "the target stopped answering OPTIONS after malformed requests; last batch: %s", last_batch);
    else if (sent == 0)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "no malformed request could be sent");
    else if (ok2xx)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_LOW,
                      "2xx to invalid requests (%s); alive throughout (%d sent, %d from --robust-dir)", bad, sent,
                      from_files);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO,
                      "%d malformed requests (%d from --robust-dir): %d answered with an error, %d with 2xx (all "
                      "valid but unusual), %d silence; alive after every 5",
                      sent, from_files, answered, lenient, silent);
    sctx_close(x);
}

/* ---- SIP-RATE-01 ---- */

void sw__check_sip_rate(sw_assess_run *r, sw_assess_finding *f)
{
    const sw_assess_options *o = sw_assess_opts(r);
    unsigned rate = o->max_rate > SW__ASSESS_RATE_CAP ? SW__ASSESS_RATE_CAP : o->max_rate;
    unsigned total = 200;
    sctx *x = sctx_open(r, f);
    if (!x)
        return;
    char cid[40], tag[20];
    sw__assess_new_callid(cid);
    sw__assess_new_tag(tag);
    /* a 503 is the limit at work (the remediation asks for it), not an answer */
    unsigned sent = 0, answered = 0, limited = 0, per_s_sent[60] = {0}, per_s_ans[60] = {0};
    int64_t t0 = sw__assess_mono_ns();
    sw_assess_evidence *ev = sw_assess_evidence_add(f, "sip-exchange");
    if (ev)
        sw__assess_evidence_conn(ev, x->c);
    int broken = 0;
    for (unsigned i = 0; i < total; i++) {
        if (sw__assess_pace_at(r, rate) != SW_OK)
            break;
        sw__assess_req q = {.method = "OPTIONS", .call_id = cid, .from_tag = tag, .cseq = i + 1, .expires = -1};
        long n = sw__assess_build(r, x->c, &q, x->buf, sizeof x->buf);
        if (n < 0)
            break;
        if (i == 0 && ev)
            (void)sw_assess_evidence_bytes(ev, x->buf, (size_t)n, NULL, 0);
        sw__assess_count_bytes(r, (size_t)n);
        /* sent without a second pacing (done above at the burst rate) */
        if (sw__assess_write_unpaced(x->c, x->buf, (size_t)n) != SW_OK &&
            sw__assess_conn_transport(x->c) != SW_TRANSPORT_UDP) {
            broken = 1;
            break;
        }
        sent++;
        unsigned sec = (unsigned)((sw__assess_mono_ns() - t0) / 1000000000);
        per_s_sent[sec < 60 ? sec : 59]++;
        /* drain what has come back, without waiting */
        sw__assess_xact d = {.call_id = cid, .min_status = 200, .timeout_ms = 1};
        for (int k = 0; k < 64; k++) {
            int st = sw__assess_xact_wait(r, x->c, &d, x->rep);
            if (st <= 0)
                break;
            if (st == 503) {
                limited++;
                continue;
            }
            answered++;
            unsigned s2 = (unsigned)((sw__assess_mono_ns() - t0) / 1000000000);
            per_s_ans[s2 < 60 ? s2 : 59]++;
        }
    }
    /* stragglers for 2 s */
    sw__assess_xact d = {.call_id = cid, .min_status = 200, .timeout_ms = 2000};
    while (!broken && answered + limited < sent) {
        int st = sw__assess_xact_wait(r, x->c, &d, x->rep);
        if (st <= 0)
            break;
        if (st == 503)
            limited++;
        else
            answered++;
    }
    double secs = (double)(sw__assess_mono_ns() - t0) / 1e9;
    char per[400] = "";
    size_t off = 0;
    for (unsigned s = 0; s < 60 && s <= (unsigned)secs && off < sizeof per - 20; s++)
        off += (size_t)snprintf(per + off, sizeof per - off, "%s%u/%u", s ? " " : "", per_s_sent[s], per_s_ans[s]);
    sctx_close(x);
    /* recovery: OPTIONS every 5 s for up to 60 s, not counted as liveness failures */
    int64_t r0 = sw__assess_mono_ns();
    int back = 0;
    double rec = -1;
    while ((sw__assess_mono_ns() - r0) < 60LL * 1000000000) {
        if (sw__assess_probe(r, f, 0, 1)) {
            back = 1;
            rec = (double)(sw__assess_mono_ns() - r0) / 1e9;
            break;
        }
        if (sw__assess_stopped(r))
            break;
        struct timespec ts = {.tv_sec = 5, .tv_nsec = 0};
        nanosleep(&ts, NULL);
    }
    if (ev)
        sw_assess_evidence_note(ev, "%u OPTIONS at %u/s in %.1f s, %u answered, %u refused with 503; "
                                    "sent/answered per second: %s; recovery %.1f s",
                                sent, rate, secs, answered, limited, per, rec);
    if (sent == 0)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "the burst could not be sent");
    else if (!back)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_HIGH,
                      "after %u OPTIONS at %u/s the target did not answer again within 60 s", sent, rate);
    else if (answered * 10 >= sent * 9)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM,
                      "%u of %u OPTIONS at %u/s from one source were answered: no rate limit", answered, sent, rate);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO,
                      "%u of %u OPTIONS at %u/s answered (limited%s%u refused with 503); answering again after %.1f s",
                      answered, sent, rate, limited ? ": " : ", ", limited, rec);
}
