/* The HTML report (spec §5): one self-contained page rendered from the
 * report JSON text.  Inline CSS and SVG, no script, no external URL (an
 * evidence URL of the questionnaire is printed as text, never linked).
 * Everything taken from the report is escaped; evidence bytes that are not
 * printable are shown as \xNN.  Passwords are masked: every string a
 * finding lists in "secrets", the value of an Authorization/Proxy-
 * Authorization header, a digest response, and "password=…"-style text.
 *
 * The reader is defensive: a member missing or of the wrong type reads as
 * empty, so a report of an older or partial run still renders; only text
 * that is not a JSON object is refused. */
#define _GNU_SOURCE 1 /* memmem */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sipwall/assess.h"

#define H_MAX_SECRETS 16
#define H_EVIDENCE_SHOW (64u * 1024) /* bytes of one sent/received shown */

typedef struct h_ctx {
    FILE *o;
    const char *secrets[H_MAX_SECRETS];
    size_t nsecrets;
} h_ctx;

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double jnum(const json_t *o, const char *key, double dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static json_t *jarr(const json_t *o, const char *key)
{
    json_t *a = json_object_get(o, key);
    return json_is_array(a) ? a : NULL;
}

/* Escaped text; bytes below 0x20 (but \n and \t) and 0x7f as \xNN. */
static void esc_n(FILE *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        case '\'': fputs("&#39;", o); break;
        case '\r':
            if (i + 1 < n && s[i + 1] == '\n')
                break; /* CRLF shows as one line break */
            fputs("\\r", o);
            break;
        default:
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                fprintf(o, "\\x%02x", c);
            else
                fputc(c, o);
        }
    }
}

static void esc(FILE *o, const char *s)
{
    esc_n(o, s, strlen(s));
}

/* Masks secrets in a copy of s[0..n): returns a malloc'd buffer (the
 * same length or shorter) or NULL on ENOMEM. */
static char *mask(const h_ctx *h, const char *s, size_t n, size_t *outn)
{
    char *b = malloc(n + 1);
    if (!b)
        return NULL;
    memcpy(b, s, n);
    b[n] = 0;
    /* listed secrets: every occurrence */
    for (size_t k = 0; k < h->nsecrets; k++) {
        size_t sl = strlen(h->secrets[k]);
        if (!sl)
            continue;
        for (char *p = b; (p = memmem(p, (size_t)(b + n - p), h->secrets[k], sl)); p += sl)
            memset(p, '*', sl);
    }
    /* header values and key=value forms, case-insensitive */
    static const char *const keys[] = {"authorization:", "response=", "password=", "password:", "passwd=",
                                       "pass="};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t kl = strlen(keys[k]);
        for (size_t i = 0; i + kl <= n; i++) {
            if (strncasecmp(b + i, keys[k], kl))
                continue;
            size_t j = i + kl;
            if (k == 0) { /* Authorization / Proxy-Authorization: keep the scheme, mask credentials */
                while (j < n && b[j] == ' ')
                    j++;
                while (j < n && isalpha((unsigned char)b[j]))
                    j++;
                if (j < n && b[j] == ' ' && j >= 6 && !strncasecmp(b + j - 5, "basic", 5)) {
                    for (j++; j < n && b[j] != '\r' && b[j] != '\n'; j++)
                        b[j] = '*';
                }
                i = j;
                continue;
            }
            while (j < n && b[j] == ' ')
                j++;
            int q = j < n && b[j] == '"';
            if (q)
                j++;
            for (; j < n && b[j] != '\r' && b[j] != '\n' && (q ? b[j] != '"' : (b[j] != ',' && b[j] != ' ' &&
                                                                                 b[j] != ';' && b[j] != '&'));
                 j++)
                b[j] = '*';
            i = j;
        }
    }
    *outn = n;
    return b;
}

static void esc_masked(const h_ctx *h, const char *s, size_t n)
{
    size_t mn;
    char *m = mask(h, s, n, &mn);
    if (!m) {
        fputs("(out of memory)", h->o);
        return;
    }
    esc_n(h->o, m, mn);
    free(m);
}

static int sev_rank(const char *s)
{
    static const char *const names[] = {"info", "low", "medium", "high", "critical"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i]))
            return i;
    return 0;
}

static const char *result_class(const char *r)
{
    if (!strcmp(r, "pass"))
        return "pass";
    if (!strcmp(r, "fail"))
        return "fail";
    if (!strcmp(r, "gap"))
        return "gap";
    if (!strcmp(r, "skipped"))
        return "skip";
    return "unk";
}

static int in_list(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *x = json_string_value(v);
        if (x && !strcmp(x, s))
            return 1;
    }
    return 0;
}

static void badges(FILE *o, const json_t *a, const char *cls)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *x = json_string_value(v);
        if (!x)
            continue;
        fprintf(o, "<span class=\"badge %s\">", cls);
        esc(o, x);
        fputs("</span>", o);
    }
}

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d232a;background:#f4f6f8}"
    "main{max-width:1100px;margin:0 auto;padding:16px 24px}"
    "header{background:#17324d;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:22px}"
    "header .meta{opacity:.85;font-size:13px}"
    "section{background:#fff;border:1px solid #dde3e8;border-radius:6px;margin:16px 0;padding:12px 18px}"
    "h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{border-bottom:1px solid #e6eaee;padding:4px 6px;text-align:left;vertical-align:top}"
    "th{background:#f0f3f6}"
    ".pass{color:#17692e;font-weight:600}.fail{color:#b3131b;font-weight:600}"
    ".gap{color:#b35c00;font-weight:600}.unk{color:#5b6570}.skip{color:#8a939c}"
    ".badge{display:inline-block;border-radius:3px;padding:0 5px;margin:0 3px 2px 0;font-size:11px;"
    "background:#e8edf2;color:#2a3540}"
    ".badge.en{background:#e3f0ff}.badge.thr{background:#f3e8ff}.badge.ctl{background:#e9f6ec}"
    ".sev-critical{background:#7a0010;color:#fff}.sev-high{background:#c4161c;color:#fff}"
    ".sev-medium{background:#e07b00;color:#fff}.sev-low{background:#e6c300;color:#222}"
    ".sev-info{background:#b8c2cc;color:#222}"
    ".finding{border-left:4px solid #c8d0d8;padding:6px 10px;margin:8px 0;background:#fbfcfd}"
    ".finding.r-fail{border-color:#c4161c}.finding.r-pass{border-color:#2e9e4f}"
    ".contra{background:#ffe3e3 !important;outline:2px solid #c4161c}"
    ".contra-tag{color:#fff;background:#c4161c;border-radius:3px;padding:0 5px;font-size:11px}"
    "pre{white-space:pre-wrap;word-break:break-all;background:#f3f5f7;border:1px solid #e1e6ea;padding:6px;"
    "font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;max-height:360px;overflow:auto}"
    "details{margin:4px 0}summary{cursor:pointer;color:#17324d}"
    ".score{font-size:40px;font-weight:700}.counts span{margin-right:14px}"
    ".grid{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}";

static void h_header(FILE *o, const json_t *rep)
{
    const json_t *tool = json_object_get(rep, "tool"), *run = json_object_get(rep, "run"),
                 *target = json_object_get(rep, "target"), *lim = json_object_get(run, "limits");
    fputs("<header><h1>sipwall assess: ", o);
    esc(o, jstr(target, "uri"));
    fputs("</h1><div class=\"meta\">profile <b>", o);
    esc(o, jstr(run, "profile"));
    fputs("</b> · host ", o);
    esc(o, jstr(target, "host"));
    fputs(" · started ", o);
    esc(o, jstr(run, "started"));
    fputs(" · ", o);
    esc(o, jstr(tool, "name"));
    fputc(' ', o);
    esc(o, jstr(tool, "version"));
    fputs(" · run ", o);
    esc(o, jstr(run, "id"));
    double mr = jnum(lim, "max_rate", 0);
    fprintf(o, "<br>limits: rate %.0f/s · flood check %s", jnum(lim, "rate", 10), mr > 0 ? "at " : "off");
    if (mr > 0)
        fprintf(o, "%.0f/s", mr);
    fprintf(o, " · packets sent %.0f of %.0f · credential tests %s · duration %.1f s</div></header>\n",
            jnum(lim, "packets_sent", 0), jnum(lim, "packet_budget", 1000),
            json_is_true(json_object_get(lim, "credential_tests")) ? "on" : "off", jnum(lim, "duration_s", 0));
}

static void h_summary(FILE *o, const json_t *rep)
{
    const json_t *sum = json_object_get(rep, "summary"), *counts = json_object_get(sum, "counts");
    json_t *controls = jarr(rep, "controls"), *findings = jarr(rep, "findings");
    fputs("<section id=\"summary\"><h2>Summary</h2><div class=\"grid\"><div><div class=\"score\">", o);
    fprintf(o, "%.0f", jnum(sum, "score", 0));
    fprintf(o, "<span style=\"font-size:16px\">/100</span></div><div>exit code %.0f</div></div>",
            jnum(sum, "exit_code", 0));
    /* one bar per control: score (colour by status) over coverage */
    size_t nc = json_array_size(controls);
    unsigned hgt = 26 * (unsigned)(nc ? nc : 1) + 24;
    fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"520\" height=\"%u\" role=\"img\" "
               "aria-label=\"score and coverage per control\">", hgt);
    fputs("<text x=\"0\" y=\"12\" font-size=\"11\" fill=\"#5b6570\">score (bar) · coverage (thin bar)</text>", o);
    size_t i;
    json_t *c;
    json_array_foreach(controls, i, c)
    {
        double sc = jnum(c, "score", 0), cov = jnum(c, "coverage", 0);
        if (sc < 0)
            sc = 0;
        if (sc > 100)
            sc = 100;
        if (cov < 0)
            cov = 0;
        if (cov > 100)
            cov = 100;
        const char *st = jstr(c, "status");
        const char *col = !strcmp(st, "pass")  ? "#2e9e4f"
                          : !strcmp(st, "fail") ? "#c4161c"
                          : !strcmp(st, "gap")  ? "#e07b00"
                                                : "#8a939c";
        unsigned y = 20 + 26 * (unsigned)i;
        fprintf(o, "<text x=\"0\" y=\"%u\" font-size=\"12\">", y + 13);
        esc(o, jstr(c, "id"));
        fprintf(o, "</text><rect x=\"34\" y=\"%u\" width=\"300\" height=\"14\" fill=\"#edf0f3\"/>"
                   "<rect x=\"34\" y=\"%u\" width=\"%.0f\" height=\"14\" fill=\"%s\"/>"
                   "<rect x=\"34\" y=\"%u\" width=\"%.0f\" height=\"4\" fill=\"#3b6ea5\"/>"
                   "<text x=\"342\" y=\"%u\" font-size=\"12\">%.0f · cov %.0f%% · ",
                y, y, 3 * sc, col, y + 16, 3 * cov, y + 13, sc, cov);
        esc(o, st);
        fputs("</text>", o);
    }
    fputs("</svg></div>", o);
    fputs("<h3>Counts</h3><div class=\"counts\">", o);
    static const char *const cn[] = {"critical", "high", "medium", "low", "info", "pass", "unknown", "skipped"};
    for (size_t k = 0; k < sizeof cn / sizeof cn[0]; k++) {
        fprintf(o, "<span>");
        if (k < 5)
            fprintf(o, "<span class=\"badge sev-%s\">%s</span>", cn[k], cn[k]);
        else
            fprintf(o, "%s", cn[k]);
        fprintf(o, " %.0f</span>", jnum(counts, cn[k], 0));
    }
    fputs("</div><h3>Top gaps</h3><ol id=\"top-gaps\">", o);
    /* failed findings, worst severity first, report order within one */
    static const char *const names[] = {"info", "low", "medium", "high", "critical"};
    int shown = 0;
    for (int sv = 4; sv >= 0 && shown < 5; sv--) {
        json_t *f;
        json_array_foreach(findings, i, f)
        {
            if (shown == 5)
                break;
            if (strcmp(jstr(f, "result"), "fail") || sev_rank(jstr(f, "severity")) != sv)
                continue;
            fprintf(o, "<li><span class=\"badge sev-%s\">%s</span> <b>", names[sv], names[sv]);
            esc(o, jstr(f, "id"));
            fputs("</b> ", o);
            esc(o, jstr(f, "title"));
            fputs(": <span class=\"gap-summary\">", o);
            h_ctx mh = {.o = o};
            size_t k;
            json_t *v;
            json_array_foreach(jarr(f, "secrets"), k, v)
            {
                if (mh.nsecrets < H_MAX_SECRETS && json_is_string(v))
                    mh.secrets[mh.nsecrets++] = json_string_value(v);
            }
            esc_masked(&mh, jstr(f, "summary"), strlen(jstr(f, "summary")));
            fputs("</span></li>", o);
            shown++;
        }
    }
    if (!shown)
        fputs("<li>none: no check failed</li>", o);
    fputs("</ol></section>\n", o);
}

/* basis counts of a control: tested / declared+evidence / declared / none */
static void h_controls(FILE *o, const json_t *rep)
{
    json_t *controls = jarr(rep, "controls"), *findings = jarr(rep, "findings");
    const json_t *qa = jarr(json_object_get(rep, "questionnaire"), "answers");
    fputs("<section id=\"controls\"><h2>Controls</h2><table><tr><th>control</th><th>title</th><th>status</th>"
          "<th>score</th><th>coverage</th><th>basis mix</th><th>findings · claims</th></tr>",
          o);
    size_t i;
    json_t *c;
    json_array_foreach(controls, i, c)
    {
        const char *cid = jstr(c, "id");
        unsigned tested = 0, declev = 0, decl = 0, none = 0;
        size_t j;
        json_t *f;
        json_array_foreach(findings, j, f)
        {
            if (!in_list(json_object_get(f, "controls"), cid))
                continue;
            const char *r = jstr(f, "result");
            if (!strcmp(r, "pass") || !strcmp(r, "fail"))
                tested++;
        }
        json_array_foreach(qa, j, f)
        {
            if (strcmp(jstr(f, "control"), cid))
                continue;
            const char *b = jstr(f, "basis");
            if (!strcmp(b, "declared+evidence"))
                declev++;
            else if (!strcmp(b, "declared"))
                decl++;
            else if (!strcmp(b, "tested"))
                tested++;
            else
                none++;
        }
        const char *st = jstr(c, "status");
        fputs("<tr><td>", o);
        esc(o, cid);
        fputs("</td><td>", o);
        esc(o, jstr(c, "title"));
        fprintf(o, "</td><td class=\"%s\">", result_class(st));
        esc(o, st);
        fprintf(o, "</td><td>%.0f</td><td>%.0f%%</td><td>tested %u · declared+evidence %u · declared %u · none %u"
                   "</td><td>",
                jnum(c, "score", 0), jnum(c, "coverage", 0), tested, declev, decl, none);
        json_t *v;
        json_array_foreach(jarr(c, "findings"), j, v)
        {
            if (json_is_string(v)) {
                esc(o, json_string_value(v));
                fputc(' ', o);
            }
        }
        fputs("· ", o);
        json_array_foreach(jarr(c, "claims"), j, v)
        {
            if (json_is_string(v)) {
                esc(o, json_string_value(v));
                fputc(' ', o);
            }
        }
        fputs("</td></tr>", o);
    }
    fputs("</table></section>\n", o);
}

static void h_bytes(h_ctx *h, const char *label, const json_t *v)
{
    if (!json_is_string(v) || !json_string_length(v))
        return;
    size_t n = json_string_length(v);
    fprintf(h->o, "<div>%s (%zu bytes)</div><pre>", label, n);
    esc_masked(h, json_string_value(v), n < H_EVIDENCE_SHOW ? n : H_EVIDENCE_SHOW);
    if (n > H_EVIDENCE_SHOW)
        fprintf(h->o, "\n… %zu more bytes in the JSON report", n - H_EVIDENCE_SHOW);
    fputs("</pre>", h->o);
}

static void h_finding(h_ctx *h, const json_t *f)
{
    FILE *o = h->o;
    h->nsecrets = 0;
    size_t i;
    json_t *v;
    json_array_foreach(jarr(f, "secrets"), i, v)
    {
        if (h->nsecrets < H_MAX_SECRETS && json_is_string(v))
            h->secrets[h->nsecrets++] = json_string_value(v);
    }
    const char *r = jstr(f, "result"), *sev = jstr(f, "severity");
    int contra = json_is_true(json_object_get(f, "contradiction"));
    fprintf(o, "<div class=\"finding r-%s%s\" id=\"f-", result_class(r), contra ? " contra" : "");
    esc(o, jstr(f, "id"));
    fputs("\"><b>", o);
    esc(o, jstr(f, "id"));
    fputs("</b> ", o);
    esc(o, jstr(f, "title"));
    fprintf(o, " · <span class=\"%s\">", result_class(r));
    esc(o, r);
    fputs("</span>", o);
    if (!strcmp(r, "fail")) {
        static const char *const names[] = {"info", "low", "medium", "high", "critical"};
        fprintf(o, " <span class=\"badge sev-%s\">%s</span>", names[sev_rank(sev)], names[sev_rank(sev)]);
    }
    if (contra)
        fputs(" <span class=\"contra-tag\">contradicts the questionnaire</span>", o);
    fputs(" <span class=\"badge\">basis ", o);
    esc(o, jstr(f, "basis"));
    fputs("</span><div>", o);
    badges(o, json_object_get(f, "controls"), "ctl");
    badges(o, json_object_get(f, "en303645"), "en");
    badges(o, json_object_get(f, "sip_threats"), "thr");
    badges(o, json_object_get(f, "gsma"), "");
    fputs("</div><div class=\"fsum\">", o);
    const json_t *sj = json_object_get(f, "summary");
    if (json_is_string(sj))
        esc_masked(h, json_string_value(sj), json_string_length(sj));
    fputs("</div>", o);
    if (strcmp(r, "pass") && *jstr(f, "remediation")) {
        fputs("<div><i>Remediation:</i> ", o);
        esc(o, jstr(f, "remediation"));
        fputs("</div>", o);
    }
    json_t *ev = jarr(f, "evidence");
    if (json_array_size(ev)) {
        fprintf(o, "<details><summary>evidence (%zu)</summary>", json_array_size(ev));
        json_t *e;
        json_array_foreach(ev, i, e)
        {
            fputs("<div><b>", o);
            esc(o, jstr(e, "kind"));
            fputs("</b> ", o);
            esc(o, jstr(e, "transport"));
            fputc(' ', o);
            esc(o, jstr(e, "local"));
            fputs(" → ", o);
            esc(o, jstr(e, "remote"));
            fputs(" · ", o);
            esc(o, jstr(e, "ts"));
            if (*jstr(e, "sha256")) {
                fputs(" · sha256 ", o);
                esc(o, jstr(e, "sha256"));
            }
            fputs("</div>", o);
            if (*jstr(e, "note")) {
                fputs("<div><i>", o);
                esc_masked(h, jstr(e, "note"), strlen(jstr(e, "note")));
                fputs("</i></div>", o);
            }
            h_bytes(h, "sent", json_object_get(e, "sent"));
            h_bytes(h, "received", json_object_get(e, "received"));
        }
        fputs("</details>", o);
    }
    fputs("</div>\n", o);
}

static void h_findings(h_ctx *h, const json_t *rep)
{
    FILE *o = h->o;
    json_t *controls = jarr(rep, "controls"), *findings = jarr(rep, "findings");
    fputs("<section id=\"findings\"><h2>Findings by control</h2>", o);
    /* each finding once, under its first control; those without one last */
    size_t i, j;
    json_t *c, *f;
    json_array_foreach(controls, i, c)
    {
        const char *cid = jstr(c, "id");
        fputs("<h3>", o);
        esc(o, cid);
        fputs(" ", o);
        esc(o, jstr(c, "title"));
        fputs("</h3>", o);
        int any = 0;
        json_array_foreach(findings, j, f)
        {
            const char *first = json_string_value(json_array_get(json_object_get(f, "controls"), 0));
            if (first && !strcmp(first, cid)) {
                h_finding(h, f);
                any = 1;
            }
        }
        if (!any)
            fputs("<div class=\"skip\">no check of this control ran; see the questionnaire</div>", o);
    }
    int other = 0;
    json_array_foreach(findings, j, f)
    {
        const char *first = json_string_value(json_array_get(json_object_get(f, "controls"), 0));
        int known = 0;
        json_array_foreach(controls, i, c) if (first && !strcmp(first, jstr(c, "id"))) known = 1;
        if (known)
            continue;
        if (!other)
            fputs("<h3>Other</h3>", o);
        other = 1;
        h_finding(h, f);
    }
    fputs("</section>\n", o);
}

static void h_questionnaire(FILE *o, const json_t *rep)
{
    const json_t *q = json_object_get(rep, "questionnaire");
    fputs("<section id=\"questionnaire\"><h2>Questionnaire</h2>", o);
    if (!*jstr(q, "file")) {
        fputs("<p class=\"skip\">No questionnaire was given: what cannot be probed stays unknown.</p></section>\n", o);
        return;
    }
    fputs("<p>", o);
    esc(o, jstr(q, "file"));
    fputs(" · sha256 ", o);
    esc(o, jstr(q, "sha256"));
    fputs("</p><table><tr><th>item</th><th>control</th><th>EN 303 645</th><th>claim</th><th>detail</th>"
          "<th>evidence</th><th>merged</th><th>basis</th><th>decided by</th></tr>",
          o);
    size_t i;
    json_t *a;
    json_array_foreach(jarr(q, "answers"), i, a)
    {
        int contra = json_is_true(json_object_get(a, "contradiction"));
        fprintf(o, "<tr%s><td>", contra ? " class=\"contra\"" : "");
        esc(o, jstr(a, "id"));
        if (contra)
            fputs(" <span class=\"contra-tag\">contradiction</span>", o);
        fputs("</td><td>", o);
        esc(o, jstr(a, "control"));
        fputs("</td><td>", o);
        badges(o, json_object_get(a, "en"), "en");
        fputs("</td><td>", o);
        esc(o, jstr(a, "claim"));
        fputs("</td><td>", o);
        esc(o, jstr(a, "detail"));
        fputs("</td><td>", o);
        badges(o, json_object_get(a, "evidence"), "");
        const char *mr = jstr(a, "merged_result");
        fprintf(o, "</td><td class=\"%s\">", result_class(mr));
        esc(o, mr);
        fputs("</td><td>", o);
        esc(o, jstr(a, "basis"));
        fputs("</td><td>", o);
        esc(o, jstr(a, "decided_by"));
        fputs("</td></tr>", o);
    }
    fputs("</table><h3>Evidence files</h3><table><tr><th>id</th><th>kind</th><th>path / url</th><th>sha256</th></tr>", o);
    json_array_foreach(jarr(q, "evidence"), i, a)
    {
        fputs("<tr><td>", o);
        esc(o, jstr(a, "id"));
        fputs("</td><td>", o);
        esc(o, jstr(a, "kind"));
        fputs("</td><td>", o);
        esc(o, *jstr(a, "path") ? jstr(a, "path") : jstr(a, "url"));
        fputs("</td><td>", o);
        esc(o, jstr(a, "sha256"));
        fputs("</td></tr>", o);
    }
    fputs("</table></section>\n", o);
}

/* provision -> findings and answers -> status (fail beats pass beats unknown) */
static void h_matrix(FILE *o, const json_t *rep)
{
    json_t *findings = jarr(rep, "findings");
    json_t *answers = jarr(json_object_get(rep, "questionnaire"), "answers");
    const char *prov[128];
    size_t np = 0;
    size_t i, j;
    json_t *f, *v;
    json_t *lists[2] = {findings, answers};
    const char *keys[2] = {"en303645", "en"};
    for (int l = 0; l < 2; l++)
        json_array_foreach(lists[l], i, f) json_array_foreach(json_object_get(f, keys[l]), j, v)
        {
            const char *p = json_string_value(v);
            if (!p || np == 128)
                continue;
            size_t k;
            for (k = 0; k < np && strcmp(prov[k], p); k++)
                ;
            if (k == np)
                prov[np++] = p;
        }
    /* sort the provisions by their numbers (5.1-2 < 5.1-10 < 5.10-1) */
    for (size_t a = 1; a < np; a++)
        for (size_t b = a; b > 0; b--) {
            unsigned x1 = 0, y1 = 0, z1 = 0, x2 = 0, y2 = 0, z2 = 0;
            sscanf(prov[b - 1], "%u.%u-%u", &x1, &y1, &z1);
            sscanf(prov[b], "%u.%u-%u", &x2, &y2, &z2);
            if (x1 < x2 || (x1 == x2 && (y1 < y2 || (y1 == y2 && z1 <= z2))))
                break;
            const char *t = prov[b];
            prov[b] = prov[b - 1];
            prov[b - 1] = t;
        }
    fputs("<section id=\"en303645\"><h2>EN 303 645 provisions</h2><table><tr><th>provision</th><th>findings and "
          "answers</th><th>status</th></tr>",
          o);
    for (size_t k = 0; k < np; k++) {
        int fail = 0, pass = 0;
        fputs("<tr><td>", o);
        esc(o, prov[k]);
        fputs("</td><td>", o);
        for (int l = 0; l < 2; l++)
            json_array_foreach(lists[l], i, f)
            {
                if (!in_list(json_object_get(f, keys[l]), prov[k]))
                    continue;
                const char *r = jstr(f, l ? "merged_result" : "result");
                fail |= !strcmp(r, "fail");
                pass |= !strcmp(r, "pass");
                fprintf(o, "<span class=\"%s\">", result_class(r));
                esc(o, jstr(f, "id"));
                fputs("</span> ", o);
            }
        const char *st = fail ? "fail" : pass ? "pass" : "unknown";
        fprintf(o, "</td><td class=\"%s\">%s</td></tr>", result_class(st), st);
    }
    fputs("</table></section>\n", o);
}

static void h_method(FILE *o, const json_t *rep)
{
    const json_t *run = json_object_get(rep, "run"), *lim = json_object_get(run, "limits");
    const json_t *opts = json_object_get(run, "options"), *target = json_object_get(rep, "target");
    fputs("<section id=\"method\"><h2>Method and safety record</h2><table>", o);
    fputs("<tr><th>target</th><td>", o);
    esc(o, jstr(target, "uri"));
    fputs(" (contacted: ", o);
    size_t i;
    json_t *v;
    json_array_foreach(jarr(target, "resolved"), i, v) if (json_is_string(v))
    {
        esc(o, json_string_value(v));
        fputc(' ', o);
    }
    fputs(")</td></tr><tr><th>TLS name</th><td>", o);
    esc(o, jstr(target, "tls_name"));
    fprintf(o, "</td></tr><tr><th>started / finished</th><td>");
    esc(o, jstr(run, "started"));
    fputs(" / ", o);
    esc(o, jstr(run, "finished"));
    fprintf(o, "</td></tr><tr><th>packets sent</th><td>%.0f of a budget of %.0f (%.0f bytes)</td></tr>"
               "<tr><th>rate</th><td>%.0f/s; flood check %.0f/s (0: off)</td></tr>"
               "<tr><th>duration</th><td>%.1f s</td></tr><tr><th>credential tests</th><td>%s</td></tr>",
            jnum(lim, "packets_sent", 0), jnum(lim, "packet_budget", 1000), jnum(lim, "bytes_sent", 0),
            jnum(lim, "rate", 10), jnum(lim, "max_rate", 0), jnum(lim, "duration_s", 0),
            json_is_true(json_object_get(lim, "credential_tests")) ? "enabled (--credential-tests)" : "off");
    if (json_is_object(opts)) {
        const char *k;
        json_object_foreach((json_t *)opts, k, v)
        {
            fputs("<tr><th>option ", o);
            esc(o, k);
            fputs("</th><td>", o);
            char *txt = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            if (txt && !strcmp(k, "test_account")) { /* USER:PASS */
                char *colon = strchr(txt, ':');
                for (char *x = colon ? colon + 1 : txt; *x && *x != '"'; x++)
                    *x = '*';
            }
            if (txt) {
                h_ctx mh = {.o = o};
                esc_masked(&mh, txt, strlen(txt));
                free(txt);
            }
            fputs("</td></tr>", o);
        }
    }
    fputs("</table><h3>Checks</h3><table><tr><th>check</th><th>result</th><th>exchanges recorded</th>"
          "<th>summary</th></tr>",
          o);
    json_t *f;
    json_array_foreach(jarr(rep, "findings"), i, f)
    {
        const char *r = jstr(f, "result");
        fputs("<tr><td>", o);
        esc(o, jstr(f, "id"));
        fprintf(o, "</td><td class=\"%s\">", result_class(r));
        esc(o, r);
        fprintf(o, "</td><td>%zu</td><td>", json_array_size(jarr(f, "evidence")));
        if (!strcmp(r, "skipped"))
            esc(o, jstr(f, "summary"));
        fputs("</td></tr>", o);
    }
    fputs("</table></section>\n", o);
}

char *sw_assess_report_html(const char *report_json, char *err, size_t errlen)
{
    json_error_t je;
    json_t *rep = json_loads(report_json, JSON_ALLOW_NUL, &je);
    if (!rep || !json_is_object(rep)) {
        if (err && errlen)
            snprintf(err, errlen, "report JSON, line %d: %s", rep ? 1 : je.line, rep ? "not an object" : je.text);
        json_decref(rep);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    if (!o) {
        json_decref(rep);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h_ctx h = {.o = o};
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "img-src data:\"><title>sipwall assess: ",
          o);
    esc(o, jstr(json_object_get(rep, "target"), "uri"));
    fprintf(o, "</title><style>%s</style></head><body>\n", css);
    h_header(o, rep);
    fputs("<main>\n", o);
    h_summary(o, rep);
    h_controls(o, rep);
    h_findings(&h, rep);
    h_questionnaire(o, rep);
    h_matrix(o, rep);
    h_method(o, rep);
    fputs("</main></body></html>\n", o);
    int bad = ferror(o);
    fclose(o);
    json_decref(rep);
    if (bad) {
        free(buf);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return buf;
}
