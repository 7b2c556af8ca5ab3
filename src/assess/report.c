/* The JSON report (schema sipwall-assess/1, docs/assess-report.schema.json):
 * the run, the target, the seven controls scored from the findings and
 * the merged questionnaire answers, every finding with its evidence, the
 * questionnaire and the summary.  Every member is always present.
 *
 * Scoring (docs/assess.md): weights critical 10, high 5, medium 3, low 1,
 * info 0.  An item passing weighs its check's worst severity, an item
 * failing the severity it failed with.  Control score = 100 x passed weight
 * / decided weight (100 when nothing decided weighs anything and nothing
 * failed); coverage = decided / applicable items (not skipped); status fail
 * on a critical or high fail, gap on a medium or low fail, pass when every
 * decided item passed and one was tested or declared with evidence, else
 * unknown. */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assess/assess_int.h"

static const char *const control_titles[7] = {
    "Credentials: no default, weak or shared; brute force impracticable",
    "Secure boot and software integrity",
    "Signed, authenticated updates; invalid and older images refused",
    "Secure communication: TLS/DTLS everywhere",
    "Minimal attack surface and robust input handling",
    "Keys, secrets and identities in tamper-resistant storage",
    "Security logging and secure export",
};

static int weight(sw_assess_severity s)
{
    switch (s) {
    case SW_ASSESS_CRITICAL:
        return 10;
    case SW_ASSESS_HIGH:
        return 5;
    case SW_ASSESS_MEDIUM:
        return 3;
    case SW_ASSESS_LOW:
        return 1;
    default:
        return 0;
    }
}

static const char *res_name(sw_assess_result r)
{
    switch (r) {
    case SW_ASSESS_PASS:
        return "pass";
    case SW_ASSESS_FAIL:
        return "fail";
    case SW_ASSESS_UNKNOWN:
        return "unknown";
    case SW_ASSESS_SKIPPED:
        return "skipped";
    default:
        return "error";
    }
}

static const char *sev_name(sw_assess_severity s)
{
    static const char *const n[] = {"info", "low", "medium", "high", "critical"};
    return (unsigned)s < 5 ? n[s] : "info";
}

static const char *profile_name(sw_assess_profile p)
{
    return p == SW_ASSESS_PROFILE_SBC ? "sbc" : p == SW_ASSESS_PROFILE_IOT ? "iot" : "sip-service";
}

/* RFC 3339 UTC with milliseconds. */
static void rfc3339(int64_t ns, char *out, size_t cap)
{
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03dZ", b, (int)((ns % 1000000000) / 1000000));
}

/* Evidence bytes as JSON text: kept as they are when they are UTF-8
 * without NUL; else every byte outside printable ASCII, CR, LF, TAB
 * becomes the four characters \xNN and a backslash becomes \\ (the
 * evidence's "encoding" says which). */
static int utf8_clean(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = b[i];
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
        if (k == 0 || i + k >= n)
            return 0;
        for (size_t j = 1; j <= k; j++)
            if ((b[i + j] & 0xc0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

static json_t *bytes_json(const unsigned char *b, size_t n, int *escaped)
{
    if (!b)
        return json_null();
    if (utf8_clean(b, n)) {
        json_t *j = json_stringn((const char *)b, n);
        if (j)
            return j; /* else (overlong forms, surrogates) escaped below */
    }
    *escaped = 1;
    char *t = malloc(4 * n + 1);
    if (!t)
        return json_null();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (c == '\\') {
            t[k++] = '\\';
            t[k++] = '\\';
        } else if ((c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n' || c == '\t') {
            t[k++] = (char)c;
        } else {
            k += (size_t)snprintf(t + k, 5, "\\x%02x", c);
        }
    }
    json_t *j = json_stringn(t, k);
    free(t);
    return j;
}

static void sha256_hex(const sw_assess_evidence *e, char out[65])
{
    unsigned char md[32];
    unsigned ml = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
        (!e->sent_len || EVP_DigestUpdate(c, e->sent, e->sent_len) == 1) &&
        (!e->received_len || EVP_DigestUpdate(c, e->received, e->received_len) == 1) &&
        EVP_DigestFinal_ex(c, md, &ml) == 1 && ml == 32) {
        for (unsigned i = 0; i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    } else {
        memset(out, '0', 64);
        out[64] = '\0';
    }
    EVP_MD_CTX_free(c);
}

/* "a,b" -> ["a","b"] (empty items dropped). */
static json_t *csv_array(const char *s)
{
    json_t *a = json_array();
    if (!s)
        return a;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n && *s == ' ') {
            s++;
            n--;
        }
        if (n)
            json_array_append_new(a, json_stringn(s, n));
        s += n + (e ? 1 : 0);
        if (!e)
            break;
    }
    return a;
}

static json_t *controls_array(unsigned bits)
{
    json_t *a = json_array();
    for (int c = 1; c <= 7; c++)
        if (bits & SW_ASSESS_C(c)) {
            char id[4];
            snprintf(id, sizeof id, "C%d", c);
            json_array_append_new(a, json_string(id));
        }
    return a;
}

static sw_assess_severity worst_of(const char *id, sw_assess_severity dflt)
{
    size_t n;
    const sw_assess_check *cat = sw_assess_catalogue(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cat[i].id, id))
            return cat[i].severity;
    return dflt;
}

static json_t *evidence_json(const sw_assess_evidence *e)
{
    json_t *o = json_object();
    char ts[40], sha[65];
    rfc3339(e->ts_ns, ts, sizeof ts);
    sha256_hex(e, sha);
    int escaped = 0;
    json_object_set_new(o, "kind", json_string(e->kind[0] ? e->kind : "sip-exchange"));
    json_object_set_new(o, "transport", json_string(e->transport));
    json_object_set_new(o, "local", json_string(e->local));
    json_object_set_new(o, "remote", json_string(e->remote));
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "sent", bytes_json(e->sent, e->sent_len, &escaped));
    json_object_set_new(o, "received", bytes_json(e->received, e->received_len, &escaped));
    json_object_set_new(o, "sent_bytes", json_integer((json_int_t)e->sent_len));
    json_object_set_new(o, "received_bytes", json_integer((json_int_t)e->received_len));
    json_object_set_new(o, "encoding", json_string(escaped ? "escaped" : "text"));
    json_object_set_new(o, "sha256", json_string(sha));
    json_object_set_new(o, "note", e->note ? json_string(e->note) : json_null());
    return o;
}

void sw__assess_score_add(sw__assess_score *s, const sw__assess_item *it)
{
    if (it->res == SW_ASSESS_SKIPPED)
        return;
    s->applicable++;
    if (it->res == SW_ASSESS_PASS) {
        s->decided++;
        s->passed_weight += weight(it->pass_sev);
        s->decided_weight += weight(it->pass_sev);
        s->strong |= it->tested_or_evidence;
    } else if (it->res == SW_ASSESS_FAIL) {
        s->decided++;
        s->decided_weight += weight(it->fail_sev);
        if (weight(it->fail_sev) > 0) {
            s->any_fail = 1;
            if (it->fail_sev >= SW_ASSESS_HIGH)
                s->fails_high = 1;
            else
                s->fails_gap = 1;
        }
    }
}

double sw__assess_score_value(const sw__assess_score *s)
{
    if (s->decided_weight > 0)
        return 100.0 * s->passed_weight / s->decided_weight;
    return s->decided && !s->any_fail ? 100.0 : 0.0;
}

double sw__assess_score_coverage(const sw__assess_score *s)
{
    return s->applicable ? 100.0 * s->decided / s->applicable : 0.0;
}

const char *sw__assess_score_status(const sw__assess_score *s)
{
    return s->fails_high ? "fail" : s->fails_gap ? "gap" : s->decided && s->strong ? "pass" : "unknown";
}

char *sw_assess_report_json(sw_assess_run *r, const sw_assess_questionnaire *q, sw_assess_severity fail_on,
                            int *exit_code)
{
    const sw_assess_options *o = sw_assess_opts(r);
    const sw__assess_target *t = sw__assess_target_of(r);
    size_t nf;
    const sw_assess_finding *cf = sw_assess_findings(r, &nf);
    sw_assess_finding *f = (sw_assess_finding *)cf; /* the merge marks contradictions */
    /* the questionnaire merge (assess-b's rules) first: it may mark findings */
    size_t nq = q ? sw_assess_questionnaire_nanswers(q) : 0;
    sw_assess_merged *m = nq ? calloc(nq, sizeof *m) : NULL;
    if (nq && !m)
        return NULL;
    if (nq)
        nq = sw_assess_questionnaire_merge(q, f, nf, m, nq);
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string("sipwall-assess/1"));
    json_t *tool = json_object();
    json_object_set_new(tool, "name", json_string("sipwall"));
    json_object_set_new(tool, "version", json_string(sw__assess_version()));
    json_object_set_new(root, "tool", tool);

    sw_assess_stats st;
    sw_assess_run_stats(r, &st);
    if (!st.started_ns)
        st.started_ns = st.finished_ns = sw__assess_now_ns();
    char id[33], started[40], finished[40];
    sw__assess_rand_hex(id, 16);
    rfc3339(st.started_ns, started, sizeof started);
    rfc3339(st.finished_ns ? st.finished_ns : st.started_ns, finished, sizeof finished);
    json_t *run = json_object();
    json_object_set_new(run, "id", json_string(id));
    json_object_set_new(run, "started", json_string(started));
    json_object_set_new(run, "finished", json_string(finished));
    json_object_set_new(run, "profile", json_string(profile_name(o->profile)));
    json_t *opts = json_object();
    json_object_set_new(opts, "credential_tests", json_boolean(o->credential_tests));
    json_object_set_new(opts, "require_mtls", json_boolean(o->require_mtls));
    json_object_set_new(opts, "max_rate", json_integer(o->max_rate));
    json_object_set_new(opts, "invite_to", o->invite_to ? json_string(o->invite_to) : json_null());
    json_object_set_new(opts, "ca", o->ca ? json_string(o->ca) : json_null());
    json_object_set_new(opts, "client_cert", o->client_cert ? json_string(o->client_cert) : json_null());
    json_object_set_new(opts, "log_sink", o->log_sink ? json_string(o->log_sink) : json_null());
    json_object_set_new(opts, "host", o->host ? json_string(o->host) : json_null());
    json_object_set_new(opts, "only", o->only ? json_string(o->only) : json_null());
    json_object_set_new(opts, "fail_on", json_string(sev_name(fail_on)));
    if (o->test_account) {
        /* the user only: the password stays out of the options */
        const char *c = strchr(o->test_account, ':');
        json_object_set_new(opts, "test_account",
                            json_stringn(o->test_account, c ? (size_t)(c - o->test_account) : strlen(o->test_account)));
    } else {
        json_object_set_new(opts, "test_account", json_null());
    }
    json_t *ku = json_array();
    for (size_t i = 0; i < o->nknown_users; i++)
        json_array_append_new(ku, json_string(o->known_users[i]));
    json_object_set_new(opts, "known_users", ku);
    json_object_set_new(run, "options", opts);
    json_t *lim = json_object();
    json_object_set_new(lim, "max_rate", json_integer(o->max_rate));
    json_object_set_new(lim, "rate", json_integer(o->rate));
    json_object_set_new(lim, "packet_budget", json_integer(o->packet_budget));
    json_object_set_new(lim, "packets_sent", json_integer((json_int_t)st.packets_sent));
    json_object_set_new(lim, "bytes_sent", json_integer((json_int_t)st.bytes_sent));
    json_object_set_new(lim, "credential_tests", json_boolean(o->credential_tests));
    double dur = st.finished_ns > st.started_ns ? (double)(st.finished_ns - st.started_ns) / 1e9 : 0.0;
    json_object_set_new(lim, "duration_s", json_real((double)(long long)(dur * 1000) / 1000.0));
    json_object_set_new(run, "limits", lim);
    json_object_set_new(root, "run", run);

    json_t *target = json_object();
    json_object_set_new(target, "uri", json_string(o->target_uri));
    json_object_set_new(target, "host", json_string(t->host));
    json_object_set_new(target, "tls_name", o->tls_name ? json_string(o->tls_name) : json_null());
    json_t *resolved = json_array();
    json_array_append_new(resolved, json_string(t->addr_text));
    json_object_set_new(target, "resolved", resolved);
    json_object_set_new(target, "transport", json_string(sw_transport_name(t->transport)));
    json_object_set_new(root, "target", target);

    /* controls */
    json_t *controls = json_array();
    sw__assess_score all = {0};
    for (int c = 1; c <= 7; c++) {
        sw__assess_score s = {0};
        json_t *fids = json_array(), *cids = json_array();
        for (size_t i = 0; i < nf; i++) {
            if (!(f[i].controls & SW_ASSESS_C(c)))
                continue;
            json_array_append_new(fids, json_string(f[i].id));
            sw__assess_item it = {f[i].result, f[i].severity, worst_of(f[i].id, f[i].severity), 1};
            sw__assess_score_add(&s, &it);
        }
        for (size_t i = 0; i < nq; i++) {
            if (m[i].control != SW_ASSESS_C(c))
                continue;
            json_array_append_new(cids, json_string(m[i].id));
            sw__assess_item it = {m[i].result, m[i].severity, m[i].severity,
                       m[i].basis == SW_ASSESS_BASIS_TESTED || m[i].basis == SW_ASSESS_BASIS_DECLARED_EVIDENCE};
            sw__assess_score_add(&s, &it);
        }
        const char *status = sw__assess_score_status(&s);
        char cid[4];
        snprintf(cid, sizeof cid, "C%d", c);
        json_t *co = json_object();
        json_object_set_new(co, "id", json_string(cid));
        json_object_set_new(co, "title", json_string(control_titles[c - 1]));
        json_object_set_new(co, "status", json_string(status));
        json_object_set_new(co, "score", json_real((double)(long long)(sw__assess_score_value(&s) * 10) / 10.0));
        json_object_set_new(co, "coverage",
                            json_real((double)(long long)(sw__assess_score_coverage(&s) * 10) / 10.0));
        json_object_set_new(co, "findings", fids);
        json_object_set_new(co, "claims", cids);
        json_array_append_new(controls, co);
    }
    json_object_set_new(root, "controls", controls);

    /* findings and the summary counts */
    json_t *findings = json_array();
    int counts[5] = {0}, npass = 0, nunknown = 0, nskipped = 0, nerror = 0, exit1 = 0;
    for (size_t i = 0; i < nf; i++) {
        json_t *fo = json_object();
        json_object_set_new(fo, "id", json_string(f[i].id));
        json_object_set_new(fo, "title", json_string(f[i].title));
        json_object_set_new(fo, "result", json_string(res_name(f[i].result)));
        json_object_set_new(fo, "severity", json_string(sev_name(f[i].severity)));
        json_object_set_new(fo, "basis",
                            json_string(f[i].result == SW_ASSESS_SKIPPED || f[i].result == SW_ASSESS_ERROR ? "none"
                                                                                                         : "tested"));
        json_object_set_new(fo, "controls", controls_array(f[i].controls));
        json_object_set_new(fo, "en303645", csv_array(f[i].en303645));
        json_object_set_new(fo, "sip_threats", csv_array(f[i].threats));
        json_object_set_new(fo, "gsma", json_array());
        json_object_set_new(fo, "summary", json_string(f[i].summary));
        json_object_set_new(fo, "remediation", json_string(f[i].remediation ? f[i].remediation : ""));
        json_object_set_new(fo, "contradiction", json_boolean(f[i].contradiction));
        json_t *ev = json_array();
        for (size_t k = 0; k < f[i].nevidence; k++)
            json_array_append_new(ev, evidence_json(&f[i].evidence[k]));
        json_object_set_new(fo, "evidence", ev);
        json_t *sec = json_array();
        for (unsigned k = 0; k < f[i].nsecrets && k < 4; k++)
            json_array_append_new(sec, json_string(f[i].secrets[k]));
        json_object_set_new(fo, "secrets", sec);
        json_array_append_new(findings, fo);
        sw__assess_item it = {f[i].result, f[i].severity, worst_of(f[i].id, f[i].severity), 1};
        sw__assess_score_add(&all, &it);
        switch (f[i].result) {
        case SW_ASSESS_FAIL:
            counts[f[i].severity < 5 ? f[i].severity : 0]++;
            if (f[i].severity >= fail_on)
                exit1 = 1;
            break;
        case SW_ASSESS_PASS:
            npass++;
            break;
        case SW_ASSESS_SKIPPED:
            nskipped++;
            break;
        case SW_ASSESS_ERROR:
            nerror++;
            break;
        default:
            nunknown++;
        }
    }
    json_object_set_new(root, "findings", findings);

    /* the questionnaire member (assess-b's writer) */
    char *qtext = sw_assess_questionnaire_json(q, m, nq);
    json_t *qj = qtext ? json_loads(qtext, 0, NULL) : NULL;
    free(qtext);
    if (!qj) {
        qj = json_object();
        json_object_set_new(qj, "file", json_null());
        json_object_set_new(qj, "sha256", json_null());
        json_object_set_new(qj, "answers", json_array());
    }
    json_object_set_new(root, "questionnaire", qj);
    for (size_t i = 0; i < nq; i++) {
        sw__assess_item it = {m[i].result, m[i].severity, m[i].severity, 0};
        sw__assess_score_add(&all, &it);
        if (m[i].result == SW_ASSESS_FAIL && m[i].severity >= fail_on)
            exit1 = 1;
    }
    free(m);

    json_t *sum = json_object();
    json_t *cn = json_object();
    json_object_set_new(cn, "critical", json_integer(counts[SW_ASSESS_CRITICAL]));
    json_object_set_new(cn, "high", json_integer(counts[SW_ASSESS_HIGH]));
    json_object_set_new(cn, "medium", json_integer(counts[SW_ASSESS_MEDIUM]));
    json_object_set_new(cn, "low", json_integer(counts[SW_ASSESS_LOW]));
    json_object_set_new(cn, "info", json_integer(counts[SW_ASSESS_INFO]));
    json_object_set_new(cn, "pass", json_integer(npass));
    json_object_set_new(cn, "unknown", json_integer(nunknown));
    json_object_set_new(cn, "skipped", json_integer(nskipped));
    json_object_set_new(cn, "error", json_integer(nerror));
    json_object_set_new(sum, "counts", cn);
    json_object_set_new(sum, "score", json_real((double)(long long)(sw__assess_score_value(&all) * 10) / 10.0));
    *exit_code = sw__assess_unreachable(r) ? 3 : exit1;
    json_object_set_new(sum, "exit_code", json_integer(*exit_code));
    json_object_set_new(root, "summary", sum);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}
