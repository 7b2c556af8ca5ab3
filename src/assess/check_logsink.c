/* LOG-SINK-01 (spec §3.4): is an authentication failure exported over
 * syslog/TLS?  sipwall listens as an RFC 5425 collector on the
 * --log-sink address (the operator points the device's export there for
 * the run), provokes authentication failures against the SIP service
 * (wrong digest passwords for --test-account, else a random user), and
 * waits at most 60 s for syslog messages that name our source address
 * with a timestamp within ±5 min.
 *
 * pass: such a message arrived over TLS; fail medium: nothing arrived,
 * nothing named us, or only over plaintext (a client whose first byte is
 * not a TLS handshake is read as plain syslog and recorded).  A device
 * may report one aggregated event (a brute force) rather than one per
 * failure: the summary gives both counts.
 *
 * Bounds: at most 4 connections, 64 KiB per connection, messages of
 * 8192 octets, 60 s of waiting (10 s after the last match once one has
 * arrived and fewer than one per failure came). */
#define _GNU_SOURCE 1 /* accept4 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "assess/assess_int.h"
#include "assess/host_int.h"
#include "sipwall/net.h"

#define LS_FAILURES 3
#define LS_CONNS 4
#define LS_BUF (64u * 1024)
#define LS_WAIT_S 60
#define LS_GRACE_S 10
#define LS_SKEW_S 300

typedef struct ls_conn {
    sw_stream *s;
    int secure;       /* 1 TLS, 0 plain */
    int handshaken;
    long ev;          /* index of its evidence record in the finding (-1: none);
                       * an index, not a pointer: adding records moves them */
    char *buf;
    size_t len;
    unsigned msgs, named;
} ls_conn;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "tls:ADDR:PORT" (or "ADDR:PORT") */
static int parse_sink(const char *s, sw_addr *a)
{
    if (!strncmp(s, "tls:", 4))
        s += 4;
    return sw_addr_parse(s, a) == SW_OK && a->port ? SW_OK : SW_EUSAGE;
}

/* One wrong-password login: REGISTER, then REGISTER with a digest answer
 * to the challenge.  Returns the final status of the credentialed
 * request, 0 when there was no challenge to answer, negative on errors. */
static int provoke(sw_assess_run *r, sw_assess_finding *f, sw__assess_conn *c, sw__assess_reply *rep, char *buf,
                   size_t cap, const char *user, const char *password)
{
    char cid[40], tag[20], hdr[1024], uri[300], note[160];
    sw__assess_new_callid(cid);
    sw__assess_new_tag(tag);
    const sw__assess_target *t = sw__assess_target_of(r);
    sw_transport tr = sw__assess_conn_transport(c);
    const char *tp = tr == SW_TRANSPORT_TLS ? ";transport=tls" : tr == SW_TRANSPORT_TCP ? ";transport=tcp" : "";
    if (strchr(t->host, ':'))
        snprintf(uri, sizeof uri, "sip:[%s]:%u%s", t->host, (unsigned)t->port, tp);
    else
        snprintf(uri, sizeof uri, "sip:%s:%u%s", t->host, (unsigned)t->port, tp);
    sw__assess_req q = {.method = "REGISTER", .to_user = user, .call_id = cid, .from_tag = tag, .cseq = 1,
                        .expires = 0, .contact = 1};
    int st = 0;
    for (int step = 0; step < 2; step++) {
        long n = sw__assess_build(r, c, &q, buf, cap);
        if (n < 0)
            return (int)n;
        sw_assess_evidence *ev = sw_assess_evidence_add(f, "sip-exchange");
        sw__assess_xact x = {.call_id = cid, .method = "REGISTER", .min_status = 200, .retransmit = 1, .ev = ev};
        st = sw__assess_xact_run(r, c, buf, (size_t)n, &x, rep);
        snprintf(note, sizeof note, "%s: %d", step ? "REGISTER with a wrong password (provoked failure)"
                                                   : "REGISTER (challenge)",
                 st);
        if (ev)
            sw_assess_evidence_note(ev, "%s", note);
        if (step || (st != 401 && st != 407))
            break;
        if (!rep->parsed)
            return 0;
        const sw_sip_header *h = sw_sip_first(&rep->m, SW_HDR_WWW_AUTHENTICATE);
        int proxy = 0;
        if (!h) {
            h = sw_sip_first(&rep->m, SW_HDR_PROXY_AUTHENTICATE);
            proxy = 1;
        }
        sw_auth a;
        sw_sip_error e;
        if (!h || sw_auth_parse(h->value, &a, &e) != SW_OK)
            return 0;
        long hl = sw__digest_header(&a, proxy, user, password, "REGISTER", uri, hdr, sizeof hdr);
        if (hl < 0)
            return 0;
        q.cseq = 2;
        q.extra = hdr;
    }
    return st;
}

static void conn_close(ls_conn *c)
{
    sw_stream_close(c->s);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->ev = -1;
}

/* Reads what is there, frames it, counts the messages that name ip with a
 * fresh timestamp.  0 while the connection lives, -1 when it ended. */
static sw_assess_evidence *conn_ev(sw_assess_finding *f, const ls_conn *c)
{
    return c->ev >= 0 && (size_t)c->ev < f->nevidence ? &f->evidence[c->ev] : NULL;
}

static int conn_read(sw_assess_finding *f, ls_conn *c, const char *ip, int64_t now_s, unsigned *named_out)
{
    int ended = 0;
    for (int spins = 0; spins < 64; spins++) {
        if (c->len == LS_BUF) {
            ended = 1; /* the ceiling: stop listening to this one */
            break;
        }
        ssize_t g = sw_stream_read(c->s, c->buf + c->len, LS_BUF - c->len);
        if (g == SW_EAGAIN)
            break;
        if (g <= 0) {
            ended = 1; /* closed or broken: what came before it still counts */
            break;
        }
        size_t old = c->len;
        c->len += (size_t)g;
        sw_assess_evidence *e = conn_ev(f, c);
        if (e)
            sw_assess_evidence_bytes(e, NULL, 0, c->buf + old, (size_t)g);
    }
    size_t off = 0;
    for (;;) {
        sw_str msg;
        long k = sw__syslog_frame_next(c->buf + off, c->len - off, SW__SYSLOG_MAX_MSG, &msg);
        if (k == SW_EINCOMPLETE)
            break;
        if (k < 0)
            return -1; /* a broken framing: nothing after it can be trusted */
        off += (size_t)k;
        c->msgs++;
        int64_t ts;
        if (sw__syslog_names(msg, ip) && sw__syslog_5424_time(msg, &ts) == SW_OK && ts > now_s - LS_SKEW_S &&
            ts < now_s + LS_SKEW_S) {
            c->named++;
            (*named_out)++;
        }
    }
    /* keep the unframed rest at the front (the evidence has every byte) */
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return ended ? -1 : 0;
}

void sw__check_log_sink(sw_assess_run *r, sw_assess_finding *f)
{
    const sw_assess_options *o = sw_assess_opts(r);
    sw_addr sink;
    if (!o->log_sink || parse_sink(o->log_sink, &sink) != SW_OK) {
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "--log-sink must be tls:ADDR:PORT");
        return;
    }
    if (!o->log_sink_cert || !o->log_sink_key) {
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO,
                      "the collector needs --log-sink-cert and --log-sink-key (what the device's exporter trusts)");
        return;
    }
    char err[256] = "";
    SSL_CTX *ctx = sw_tls_server_ctx(o->log_sink_cert, o->log_sink_key, o->log_sink_ca,
                                     o->log_sink_ca ? SW_TLS_VERIFY_OPTIONAL : SW_TLS_VERIFY_NONE, err, sizeof err);
    if (!ctx) {
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "collector TLS: %s", err);
        return;
    }
    sw_sock_opts so = {.backlog = 8};
    int lfd = sw_sock_tcp_listen(&sink, &so, err, sizeof err);
    if (lfd < 0) {
        sw_tls_ctx_free(ctx);
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "collector: %s", err);
        return;
    }
    char sinktext[SW_ADDR_STRLEN];
    sw_addr_format(&sink, sinktext, sizeof sinktext);

    /* provoke the failures */
    char user[128], pass[128];
    if (o->test_account && strchr(o->test_account, ':')) {
        const char *c = strchr(o->test_account, ':');
        snprintf(user, sizeof user, "%.*s", (int)(c - o->test_account), o->test_account);
        snprintf(pass, sizeof pass, "%s", c + 1);
    } else {
        sw__assess_new_user(user);
        pass[0] = 0;
    }
    char ip[64] = "";
    int provoked = 0, answered = 0;
    sw__assess_reply *rep = malloc(sizeof *rep);
    char *buf = malloc(SW__ASSESS_MSG_MAX + 1);
    sw__assess_conn *sc = rep && buf ? sw__assess_conn_open(r, sw__assess_target_of(r)->transport, 0, err, sizeof err)
                                     : NULL;
    if (sc) {
        snprintf(ip, sizeof ip, "%s", sw__assess_conn_local_ip(sc));
        for (int i = 0; i < LS_FAILURES; i++) {
            char wrong[48];
            snprintf(wrong, sizeof wrong, "sipwall-wrong-");
            sw__assess_rand_hex(wrong + 14, 6);
            if (pass[0] && !strcmp(wrong, pass))
                continue;
            int st = provoke(r, f, sc, rep, buf, SW__ASSESS_MSG_MAX + 1, user, wrong);
            if (st == SW_ELIMIT)
                break;
            provoked++;
            answered += st == 401 || st == 407 || st == 403;
        }
        sw__assess_conn_close(sc);
    }
    free(rep);
    free(buf);
    if (!ip[0]) {
        close(lfd);
        sw_tls_ctx_free(ctx);
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "could not reach the SIP service to provoke failures: %s",
                      err);
        return;
    }

    /* collect */
    ls_conn conns[LS_CONNS];
    memset(conns, 0, sizeof conns);
    for (int i = 0; i < LS_CONNS; i++)
        conns[i].ev = -1;
    unsigned named_tls = 0, named_plain = 0, msgs = 0, nconns = 0;
    int64_t start = mono_ms(), deadline = start + LS_WAIT_S * 1000, last_match = 0;
    while (mono_ms() < deadline) {
        unsigned named = named_tls + named_plain;
        if (named >= (unsigned)provoked && named)
            break;
        if (named && mono_ms() - last_match > LS_GRACE_S * 1000)
            break;
        struct pollfd p[LS_CONNS + 1];
        int np = 0, map[LS_CONNS + 1];
        if (nconns < LS_CONNS) {
            p[np] = (struct pollfd){.fd = lfd, .events = POLLIN};
            map[np++] = -1;
        }
        for (int i = 0; i < LS_CONNS; i++)
            if (conns[i].s) {
                unsigned w = sw_stream_want(conns[i].s);
                p[np] = (struct pollfd){.fd = sw_stream_fd(conns[i].s),
                                        .events = (short)((w & SW_STREAM_WANT_WRITE) ? POLLOUT : POLLIN)};
                map[np++] = i;
            }
        int k = poll(p, (nfds_t)np, 250);
        if (k < 0 && errno != EINTR)
            break;
        for (int j = 0; k > 0 && j < np; j++) {
            if (!p[j].revents)
                continue;
            if (map[j] < 0) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    continue;
                int slot = 0;
                while (slot < LS_CONNS && conns[slot].s)
                    slot++;
                /* TLS or plain: the first byte of a TLS client is a handshake record (22) */
                unsigned char b0 = 0;
                struct pollfd pp = {.fd = fd, .events = POLLIN};
                if (poll(&pp, 1, 2000) != 1 || recv(fd, &b0, 1, MSG_PEEK) != 1) {
                    close(fd);
                    continue;
                }
                ls_conn *c = &conns[slot];
                c->secure = b0 == 0x16;
                c->s = c->secure ? sw_stream_tls_server_new(fd, ctx) : sw_stream_plain_new(fd);
                c->buf = malloc(LS_BUF);
                if (!c->s || !c->buf) {
                    conn_close(c);
                    continue;
                }
                nconns++;
                sw_assess_evidence *e = sw__host_evidence(r, f, "log-sink", c->secure ? "tls" : "tcp", fd, 0);
                c->ev = e ? (long)(e - f->evidence) : -1;
                if (e && !e->local[0]) /* the collector's side is the local one */
                    snprintf(e->local, sizeof e->local, "%s", sinktext);
                continue;
            }
            ls_conn *c = &conns[map[j]];
            if (!c->handshaken) {
                int h = sw_stream_handshake(c->s);
                if (h == SW_EAGAIN)
                    continue;
                if (h != SW_OK) {
                    if (conn_ev(f, c))
                        sw_assess_evidence_note(conn_ev(f, c), "TLS handshake failed: %s", sw_stream_error(c->s));
                    conn_close(c);
                    continue;
                }
                c->handshaken = 1;
                if (conn_ev(f, c)) {
                    char ids[SW_TLS_MAX_IDS][SW_TLS_ID_LEN];
                    unsigned n = sw_stream_peer_ids(c->s, ids, SW_TLS_MAX_IDS);
                    sw_assess_evidence_note(conn_ev(f, c), "%s%s%s", sw_stream_version(c->s),
                                            n ? ", peer certificate " : c->secure ? ", no peer certificate" : "",
                                            n ? ids[0] : "");
                }
            }
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            unsigned named_now = 0;
            unsigned before = c->msgs;
            int rc = conn_read(f, c, ip, (int64_t)now.tv_sec, &named_now);
            msgs += c->msgs - before;
            if (named_now) {
                last_match = mono_ms();
                if (c->secure)
                    named_tls += named_now;
                else
                    named_plain += named_now;
            }
            if (rc < 0)
                conn_close(c);
        }
    }
    char per[320] = "";
    for (int i = 0; i < LS_CONNS; i++) {
        sw_assess_evidence *e = conns[i].s ? conn_ev(f, &conns[i]) : NULL;
        if (e && !e->note)
            sw_assess_evidence_note(e, "%s", conns[i].secure ? "TLS" : "plaintext");
        conn_close(&conns[i]);
    }
    close(lfd);
    sw_tls_ctx_free(ctx);
    double waited = (double)(mono_ms() - start) / 1000.0;
    snprintf(per, sizeof per, "%d failures provoked for %s (%d answered 401/407/403)", provoked, user, answered);
    if (named_tls)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO,
                      "%u syslog message(s) over TLS at %s name our address %s within %.1f s; %s", named_tls,
                      sinktext, ip, waited, per);
    else if (named_plain)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM,
                      "the failures were exported only over plaintext (%u message(s) name %s); %s", named_plain, ip,
                      per);
    else if (msgs)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM,
                      "%u syslog message(s) arrived at %s in %.0f s, none names %s with a current timestamp; %s", msgs,
                      sinktext, waited, ip, per);
    else
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM, "no syslog message reached %s in %.0f s; %s", sinktext,
                      waited, per);
}
