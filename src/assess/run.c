/* The assessment run (include/sipwall/assess.h): the target, the safety
 * budget (packets, rate, wall clock, liveness), the findings and their
 * evidence.  Every packet a check sends passes sw_assess_pace first. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "assess/assess_int.h"

#ifndef SW_VERSION
#define SW_VERSION "0.1.0"
#endif

#define MAX_FOUND_USERS 8

struct sw_assess_run {
    sw_assess_options o;
    sw__assess_target t;
    sw_assess_finding *findings;
    size_t nfindings;
    sw_assess_stats st;
    /* pacing */
    int64_t next_send_mono;
    unsigned budget_left;
    int64_t run_deadline_mono;
    int64_t check_deadline_mono;
    int liveness_fails;
    int stopped;
    char stop_reason[96];
    /* the replies kept for the read-only checks */
    sw__assess_reply_copy replies[SW__ASSESS_MAX_REPLIES];
    size_t nreplies;
    char *found_users[MAX_FOUND_USERS];
    size_t nfound;
    SSL_CTX *sip_tls;
    char local_ip[48];
    int unreachable;
};

const char *sw__assess_version(void) { return SW_VERSION; }

int64_t sw__assess_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sw__assess_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sw__assess_rand_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[64];
    if (n > sizeof b)
        n = sizeof b;
    size_t got = 0;
    while (got < n) {
        ssize_t k = getrandom(b + got, n - got, 0);
        if (k <= 0) {
            /* getrandom on Linux ≥ 3.17 does not fail for ≤ 256 bytes once
             * seeded; the fallback only keeps the identifiers distinct. */
            uint64_t x = (uint64_t)sw__assess_mono_ns() ^ ((uint64_t)got << 32);
            for (; got < n; got++, x = x * 6364136223846793005ull + 1442695040888963407ull)
                b[got] = (unsigned char)(x >> 33);
            break;
        }
        got += (size_t)k;
    }
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- the target ---- */

/* Parses sip:HOST[:PORT][;transport=T] (sips: means TLS) and resolves HOST
 * to one address: the only address the run contacts. */
static int parse_target(const char *uri, sw__assess_target *t, char *err, size_t errlen)
{
    sw_uri u;
    sw_sip_error e;
    if (!uri || !*uri || strlen(uri) > 512) {
        snprintf(err, errlen, "no target URI (sip:HOST[:PORT];transport=udp|tcp|tls)");
        return SW_EUSAGE;
    }
    if (sw_uri_parse(sw_str_make(uri, strlen(uri)), &u, &e) != SW_OK ||
        (u.kind != SW_URI_SIP && u.kind != SW_URI_SIPS) || u.host.len == 0 ||
        u.host.len >= sizeof t->host) {
        snprintf(err, errlen, "bad target URI \"%s\": want sip:HOST[:PORT];transport=udp|tcp|tls", uri);
        return SW_EUSAGE;
    }
    if (u.user.len) {
        snprintf(err, errlen, "the target URI names a host, not a user: \"%s\"", uri);
        return SW_EUSAGE;
    }
    t->transport = u.kind == SW_URI_SIPS ? SW_TRANSPORT_TLS : SW_TRANSPORT_UDP;
    sw_str tp;
    if (sw_param_find(u.params, "transport", &tp)) {
        if (sw_str_caseeq_cstr(tp, "udp") && u.kind == SW_URI_SIP)
            t->transport = SW_TRANSPORT_UDP;
        else if (sw_str_caseeq_cstr(tp, "tcp") && u.kind == SW_URI_SIP)
            t->transport = SW_TRANSPORT_TCP;
        else if (sw_str_caseeq_cstr(tp, "tls") || (sw_str_caseeq_cstr(tp, "tcp") && u.kind == SW_URI_SIPS))
            t->transport = SW_TRANSPORT_TLS;
        else {
            snprintf(err, errlen, "transport \"%.*s\" not supported (udp, tcp, tls)", (int)tp.len, tp.ptr);
            return SW_EUSAGE;
        }
    }
    t->port = u.has_port ? u.port : (t->transport == SW_TRANSPORT_TLS ? 5061 : 5060);
    if (t->port == 0) {
        snprintf(err, errlen, "port 0 in \"%s\"", uri);
        return SW_EUSAGE;
    }
    memcpy(t->host, u.host.ptr, u.host.len);
    t->host[u.host.len] = '\0';
    /* One lookup, once, before the plan is printed; later answers (3xx,
     * Record-Route, Via) never add destinations. */
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
    int g = getaddrinfo(t->host, NULL, &hints, &res);
    if (g != 0 || !res) {
        snprintf(err, errlen, "cannot resolve \"%s\": %s", t->host, gai_strerror(g));
        return SW_EIO;
    }
    int ok = sw_addr_from_sockaddr(res->ai_addr, &t->addr);
    freeaddrinfo(res);
    if (ok != SW_OK) {
        snprintf(err, errlen, "\"%s\" resolved to an unsupported address family", t->host);
        return SW_EIO;
    }
    t->addr.port = t->port;
    sw_addr_format(&t->addr, t->addr_text, sizeof t->addr_text);
    sw_addr_format_ip(&t->addr, t->ip_text, sizeof t->ip_text);
    return SW_OK;
}

sw_assess_run *sw_assess_run_new(const sw_assess_options *o, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!o) {
        snprintf(err, errlen, "no options");
        return NULL;
    }
    sw_assess_run *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->o = *o;
    if (parse_target(o->target_uri, &r->t, err, errlen) != SW_OK) {
        free(r);
        return NULL;
    }
    if (o->nknown_users > sizeof o->known_users / sizeof o->known_users[0]) {
        snprintf(err, errlen, "at most 8 --known-user");
        free(r);
        return NULL;
    }
    if (o->max_rate > SW__ASSESS_RATE_CAP) {
        snprintf(err, errlen, "--max-rate %u is above the ceiling of %u/s", o->max_rate, SW__ASSESS_RATE_CAP);
        free(r);
        return NULL;
    }
    if ((o->client_cert == NULL) != (o->client_key == NULL)) {
        snprintf(err, errlen, "--client-cert and --client-key go together");
        free(r);
        return NULL;
    }
    if (o->test_account && !strchr(o->test_account, ':')) {
        snprintf(err, errlen, "--test-account wants USER:PASS");
        free(r);
        return NULL;
    }
    /* The default rate is at most 10/s; only --max-rate allows more. */
    unsigned ceiling = o->max_rate > SW__ASSESS_DEFAULT_RATE ? o->max_rate : SW__ASSESS_DEFAULT_RATE;
    if (r->o.rate == 0 || r->o.rate > ceiling)
        r->o.rate = r->o.rate == 0 ? SW__ASSESS_DEFAULT_RATE : ceiling;
    if (r->o.packet_budget == 0)
        r->o.packet_budget = SW__ASSESS_DEFAULT_BUDGET;
    if (r->o.packet_budget > 10 * SW__ASSESS_DEFAULT_BUDGET)
        r->o.packet_budget = 10 * SW__ASSESS_DEFAULT_BUDGET;
    if (r->o.timeout_ms == 0)
        r->o.timeout_ms = 2000;
    if (r->o.timeout_ms > 10000)
        r->o.timeout_ms = 10000;
    r->budget_left = r->o.packet_budget;
    r->run_deadline_mono = sw__assess_mono_ns() + (int64_t)SW__ASSESS_RUN_SECONDS * 1000000000;
    r->check_deadline_mono = r->run_deadline_mono;
    r->st.rate_used = r->o.rate;
    size_t n;
    sw_assess_catalogue(&n);
    r->findings = calloc(n ? n : 1, sizeof *r->findings);
    if (!r->findings) {
        snprintf(err, errlen, "out of memory");
        free(r);
        return NULL;
    }
    return r;
}

static void evidence_free(sw_assess_evidence *e)
{
    free(e->sent);
    free(e->received);
    free(e->note);
}

void sw_assess_run_free(sw_assess_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfindings; i++) {
        for (size_t k = 0; k < r->findings[i].nevidence; k++)
            evidence_free(&r->findings[i].evidence[k]);
        free(r->findings[i].evidence);
    }
    free(r->findings);
    for (size_t i = 0; i < r->nreplies; i++)
        free(r->replies[i].bytes);
    for (size_t i = 0; i < r->nfound; i++)
        free(r->found_users[i]);
    sw_tls_ctx_free(r->sip_tls);
    free(r);
}

const sw_assess_options *sw_assess_opts(const sw_assess_run *r) { return &r->o; }

const sw__assess_target *sw__assess_target_of(const sw_assess_run *r) { return &r->t; }

static const char *profile_name(sw_assess_profile p)
{
    switch (p) {
    case SW_ASSESS_PROFILE_SBC:
        return "sbc";
    case SW_ASSESS_PROFILE_IOT:
        return "iot";
    default:
        return "sip-service";
    }
}

/* "" when selected by --only (or no --only), else the reason. */
static const char *only_reason(const sw_assess_options *o, const char *id)
{
    if (!o->only || !*o->only)
        return NULL;
    size_t n = strlen(id);
    for (const char *p = o->only; *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && strncasecmp(p, id, n) == 0)
            return NULL;
        p += k + (e ? 1 : 0);
    }
    return "not selected (--only)";
}

static const char *skip_reason(const sw_assess_run *r, const sw_assess_check *c)
{
    const char *why = only_reason(&r->o, c->id);
    if (why)
        return why;
    return c->applies ? c->applies(&r->o) : NULL;
}

void sw_assess_run_plan(sw_assess_run *r, FILE *out)
{
    size_t n;
    const sw_assess_check *cat = sw_assess_catalogue(&n);
    fprintf(out, "sipwall assess %s\n", SW_VERSION);
    fprintf(out, "target:   %s\n", r->o.target_uri);
    fprintf(out, "resolved: %s (%s) -- the only address contacted%s%s\n", r->t.addr_text,
            sw_transport_name(r->t.transport), r->o.host ? "; host checks: " : "",
            r->o.host ? r->o.host : "");
    fprintf(out, "profile:  %s\n", profile_name(r->o.profile));
    if (r->o.bind)
        fprintf(out, "source:   %s\n", r->o.bind);
    fprintf(out, "limits:   %u requests/s, %u packets, %u ms per transaction, %d s per check, %d s per run,"
                 " stop after %d liveness failures\n",
            r->o.rate, r->o.packet_budget, r->o.timeout_ms, SW__ASSESS_CHECK_SECONDS,
            SW__ASSESS_RUN_SECONDS, SW__ASSESS_LIVENESS_FAILS);
    fprintf(out, "flags:    credential tests %s, max-rate %s%u\n", r->o.credential_tests ? "ON" : "off",
            r->o.max_rate ? "" : "off ", r->o.max_rate);
    fprintf(out, "checks:\n");
    for (size_t i = 0; i < n; i++) {
        const char *why = skip_reason(r, &cat[i]);
        if (why)
            fprintf(out, "  %-14s skipped: %s\n", cat[i].id, why);
        else
            fprintf(out, "  %-14s %s\n", cat[i].id, cat[i].sends ? cat[i].sends : cat[i].title);
    }
    fflush(out);
}

/* Reachability before the first check: UDP answers an OPTIONS, TCP/TLS
 * accepts a connection (a TLS refusal of our certificate still answers). */
static int reachable(sw_assess_run *r)
{
    if (r->t.transport == SW_TRANSPORT_UDP)
        return sw__assess_alive(r, NULL);
    char err[256];
    if (sw_assess_pace(r) != SW_OK)
        return 0;
    sw__assess_conn *c = sw__assess_conn_open(r, SW_TRANSPORT_TCP, 0, err, sizeof err);
    if (!c)
        return 0;
    sw__assess_conn_close(c);
    return 1;
}

static void finding_init(sw_assess_finding *f, const sw_assess_check *c)
{
    f->id = c->id;
    f->title = c->title;
    f->result = SW_ASSESS_ERROR;
    f->severity = c->severity;
    f->controls = c->controls;
    f->en303645 = c->en303645;
    f->threats = c->threats;
    f->remediation = c->remediation;
    snprintf(f->summary, sizeof f->summary, "the check did not record an outcome");
}

/* A peer that reaches SIP only through mutual TLS is authenticated by
 * its certificate: the way interconnect partners are (GSMA FS.38; IR.34,
 * no digest between operators).  When the run presented our client
 * certificate over TLS and TLS-05 found the certificate enforced (no
 * certificate and an untrusted one are refused before any SIP), requests
 * the target accepted or answered from us were authenticated ones: the
 * authentication checks pass with that reason, and the digest-algorithm
 * check does not apply.  Without TLS-05's pass nothing changes
 * (docs/assess.md "Peers authenticated by mutual TLS"). */
static void settle_mtls(sw_assess_run *r)
{
    const sw_assess_finding *t5 = sw__assess_finding_of(r, "TLS-05");
    if (r->t.transport != SW_TRANSPORT_TLS || !r->o.client_cert || !t5 || t5->result != SW_ASSESS_PASS)
        return;
    static const char *const auth[] = {"SIP-AUTH-01", "SIP-AUTH-02", "SIP-AUTH-03"};
    for (size_t i = 0; i < sizeof auth / sizeof auth[0]; i++) {
        sw_assess_finding *f = (sw_assess_finding *)sw__assess_finding_of(r, auth[i]);
        if (!f || (f->result != SW_ASSESS_FAIL && f->result != SW_ASSESS_UNKNOWN))
            continue;
        char was[sizeof f->summary];
        snprintf(was, sizeof was, "%s", f->summary);
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO,
                      "authenticated by mutual TLS: only a peer with a trusted client certificate reaches SIP "
                      "(TLS-05); as that peer: %.380s",
                      was);
    }
    sw_assess_finding *c2 = (sw_assess_finding *)sw__assess_finding_of(r, "SIP-CRED-02");
    if (c2 && c2->result == SW_ASSESS_UNKNOWN)
        sw_assess_set(c2, SW_ASSESS_SKIPPED, SW_ASSESS_INFO,
                      "not applicable: peers authenticate by mutual TLS (TLS-05), no digest challenge is used");
}

int sw_assess_run_all(sw_assess_run *r)
{
    size_t n;
    const sw_assess_check *cat = sw_assess_catalogue(&n);
    r->st.started_ns = sw__assess_now_ns();
    r->run_deadline_mono = sw__assess_mono_ns() + (int64_t)SW__ASSESS_RUN_SECONDS * 1000000000;
    r->check_deadline_mono = r->run_deadline_mono;
    int up = reachable(r);
    if (!up) {
        r->unreachable = 1;
        r->stopped = 1;
        snprintf(r->stop_reason, sizeof r->stop_reason, "target %s unreachable", r->t.addr_text);
    }
    r->liveness_fails = 0;
    r->nfindings = 0;
    for (size_t i = 0; i < n; i++) {
        sw_assess_finding *f = &r->findings[r->nfindings++];
        finding_init(f, &cat[i]);
        const char *why = skip_reason(r, &cat[i]);
        if (why) {
            sw_assess_set(f, SW_ASSESS_SKIPPED, SW_ASSESS_INFO, "%s", why);
            continue;
        }
        if (r->stopped) {
            sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "not run: %s", r->stop_reason);
            continue;
        }
        int64_t now = sw__assess_mono_ns();
        r->check_deadline_mono = now + (int64_t)SW__ASSESS_CHECK_SECONDS * 1000000000;
        if (r->check_deadline_mono > r->run_deadline_mono)
            r->check_deadline_mono = r->run_deadline_mono;
        cat[i].run(r, f);
        if (r->stopped && f->result == SW_ASSESS_ERROR)
            sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "stopped: %s", r->stop_reason);
    }
    settle_mtls(r);
    r->st.finished_ns = sw__assess_now_ns();
    return up ? SW_OK : SW_EIO;
}

const sw_assess_finding *sw_assess_findings(const sw_assess_run *r, size_t *n)
{
    *n = r->nfindings;
    return r->findings;
}

const sw_assess_finding *sw__assess_finding_of(const sw_assess_run *r, const char *id)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].id, id) == 0)
            return &r->findings[i];
    return NULL;
}

void sw_assess_run_stats(const sw_assess_run *r, sw_assess_stats *out) { *out = r->st; }

/* ---- pacing ---- */

static void sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int sw__assess_pace_at(sw_assess_run *r, unsigned rate)
{
    if (r->stopped)
        return SW_ELIMIT;
    if (r->budget_left == 0) {
        r->stopped = 1;
        snprintf(r->stop_reason, sizeof r->stop_reason, "packet budget of %u spent", r->o.packet_budget);
        return SW_ELIMIT;
    }
    if (rate == 0)
        rate = 1;
    if (rate > SW__ASSESS_RATE_CAP)
        rate = SW__ASSESS_RATE_CAP;
    int64_t now = sw__assess_mono_ns();
    if (now >= r->run_deadline_mono) {
        r->stopped = 1;
        snprintf(r->stop_reason, sizeof r->stop_reason, "run wall clock of %d s spent", SW__ASSESS_RUN_SECONDS);
        return SW_ELIMIT;
    }
    if (now >= r->check_deadline_mono)
        return SW_ELIMIT; /* this check's time is up; the next check may run */
    if (r->next_send_mono > now) {
        sleep_ns(r->next_send_mono - now);
        now = r->next_send_mono;
    }
    r->next_send_mono = now + 1000000000 / (int64_t)rate;
    r->budget_left--;
    r->st.packets_sent++;
    return SW_OK;
}

int sw_assess_pace(sw_assess_run *r) { return sw__assess_pace_at(r, r->o.rate); }

void sw__assess_count_bytes(sw_assess_run *r, size_t n) { r->st.bytes_sent += n; }

int sw__assess_stopped(const sw_assess_run *r) { return r->stopped; }

void sw__assess_liveness(sw_assess_run *r, int alive)
{
    if (alive) {
        r->liveness_fails = 0;
        return;
    }
    if (++r->liveness_fails >= SW__ASSESS_LIVENESS_FAILS) {
        r->stopped = 1;
        snprintf(r->stop_reason, sizeof r->stop_reason, "the target stopped answering (%d liveness failures)",
                 r->liveness_fails);
    }
}

/* ---- replies and users kept for later checks ---- */

void sw__assess_keep_reply(sw_assess_run *r, const void *bytes, size_t len)
{
    if (r->nreplies >= SW__ASSESS_MAX_REPLIES || len == 0 || len > SW__ASSESS_MSG_MAX)
        return;
    unsigned char *b = malloc(len);
    if (!b)
        return;
    memcpy(b, bytes, len);
    r->replies[r->nreplies].bytes = b;
    r->replies[r->nreplies].len = len;
    r->nreplies++;
}

const sw__assess_reply_copy *sw__assess_replies(const sw_assess_run *r, size_t *n)
{
    *n = r->nreplies;
    return r->replies;
}

void sw__assess_add_found_user(sw_assess_run *r, const char *user)
{
    for (size_t i = 0; i < r->nfound; i++)
        if (strcmp(r->found_users[i], user) == 0)
            return;
    if (r->nfound < MAX_FOUND_USERS) {
        char *u = strdup(user);
        if (u)
            r->found_users[r->nfound++] = u;
    }
}

size_t sw__assess_found_users(const sw_assess_run *r, const char *const **users)
{
    *users = (const char *const *)r->found_users;
    return r->nfound;
}

SSL_CTX *sw__assess_sip_tls_ctx(sw_assess_run *r, char *err, size_t errlen)
{
    if (!r->sip_tls)
        r->sip_tls = sw_tls_client_ctx(r->o.client_cert, r->o.client_key, NULL, SW_TLS_VERIFY_NONE, err, errlen);
    return r->sip_tls;
}

/* ---- findings and evidence ---- */

sw_assess_evidence *sw_assess_evidence_add(sw_assess_finding *f, const char *kind)
{
    if (f->nevidence >= SW__ASSESS_MAX_EVIDENCE)
        return NULL;
    /* all the records at once: a record's address stays valid while later
     * ones are added (a check keeps filling an exchange it started) */
    if (!f->evidence) {
        f->evidence = calloc(SW__ASSESS_MAX_EVIDENCE, sizeof *f->evidence);
        if (!f->evidence)
            return NULL;
    }
    sw_assess_evidence *e = &f->evidence[f->nevidence++];
    memset(e, 0, sizeof *e);
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    e->ts_ns = sw__assess_now_ns();
    return e;
}

static int append(unsigned char **dst, size_t *dlen, const void *src, size_t n)
{
    if (n == 0)
        return SW_OK;
    if (*dlen > 4 * SW__ASSESS_MSG_MAX)
        return SW_ELIMIT; /* one exchange's record is bounded */
    unsigned char *b = realloc(*dst, *dlen + n + 1);
    if (!b)
        return SW_ENOMEM;
    memcpy(b + *dlen, src, n);
    *dlen += n;
    b[*dlen] = '\0';
    *dst = b;
    return SW_OK;
}

int sw_assess_evidence_bytes(sw_assess_evidence *e, const void *sent, size_t sent_len, const void *received,
                             size_t received_len)
{
    int a = sent ? append(&e->sent, &e->sent_len, sent, sent_len) : SW_OK;
    int b = received ? append(&e->received, &e->received_len, received, received_len) : SW_OK;
    return a != SW_OK ? a : b;
}

void sw_assess_set(sw_assess_finding *f, sw_assess_result res, sw_assess_severity sev, const char *fmt, ...)
{
    f->result = res;
    f->severity = sev;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->summary, sizeof f->summary, fmt, ap);
    va_end(ap);
}

void sw_assess_evidence_note(sw_assess_evidence *e, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *n = strdup(buf);
    if (n) {
        free(e->note);
        e->note = n;
    }
}

const char *sw__assess_local_ip(const sw_assess_run *r) { return r->local_ip; }

void sw__assess_set_local_ip(sw_assess_run *r, const char *ip)
{
    snprintf(r->local_ip, sizeof r->local_ip, "%s", ip);
}

int sw__assess_unreachable(const sw_assess_run *r) { return r->unreachable; }
