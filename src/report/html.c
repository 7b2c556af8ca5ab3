/* The self-contained HTML report: inline CSS and SVG, no scripts, every
 * value sanitised (sw_event_sanitize) and HTML-escaped. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_int.h"

#define HTML_IOBUF (64 * 1024)
#define HTML_TOP_OFFENDERS 25
#define HTML_TL_BARS 100
#define HTML_META_MAX 2048

typedef struct hw {
    FILE *fp;
} hw;

static void put(hw *w, const char *s)
{
    fputs(s, w->fp);
}

static void putf(hw *w, const char *fmt, ...) SW_PRINTF(2, 3);
static void putf(hw *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(w->fp, fmt, ap);
    va_end(ap);
}

/* s[0..n) is well-formed UTF-8 (sanitised): escapes markup characters and
 * shows control characters as \xNN. */
static void esc(hw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char ctl[5];
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                ctl[0] = '\\';
                ctl[1] = 'x';
                ctl[2] = hex[c >> 4];
                ctl[3] = hex[c & 15];
                ctl[4] = '\0';
                rep = ctl;
            }
        }
        if (!rep)
            continue;
        if (i > run)
            fwrite(s + run, 1, i - run, w->fp);
        fputs(rep, w->fp);
        run = i + 1;
    }
    if (n > run)
        fwrite(s + run, 1, n - run, w->fp);
}

/* Untrusted bytes: sanitised (at most max bytes), then escaped. */
static void esc_raw(hw *w, const char *s, size_t n, size_t max)
{
    if (!s || n == 0)
        return;
    char *buf = malloc(3 * max + 1);
    if (!buf)
        return;
    int cut = 0;
    size_t o = sw_event_sanitize(sw_str_make(s, n), max, buf, &cut);
    esc(w, buf, o);
    if (cut)
        put(w, "\xe2\x80\xa6");
    free(buf);
}

static void esc_c(hw *w, const char *s)
{
    if (s)
        esc_raw(w, s, strlen(s), HTML_META_MAX);
}

static void put_ts(hw *w, int64_t ts)
{
    char b[SW_EVENT_TS_LEN];
    if (ts == 0 || sw_event_format_ts(ts, b, sizeof b) < 0)
        put(w, "-");
    else
        put(w, b);
}

/* "HH:MM:SS" of ts (UTC). */
static void put_clock(hw *w, int64_t ts)
{
    char b[SW_EVENT_TS_LEN];
    if (sw_event_format_ts(ts, b, sizeof b) >= 19)
        fwrite(b + 11, 1, 8, w->fp);
    else
        put(w, "?");
}

static void put_addr(hw *w, const sw_addr *a)
{
    char b[SW_ADDR_STRLEN];
    if (a->family == 0 || sw_addr_format(a, b, sizeof b) < 0)
        put(w, "-");
    else
        esc(w, b, strlen(b));
}

static const char *kstr_ptr(const rp_event *e, rp_kstr k)
{
    return e->blob + (size_t)e->nevid * sizeof(rp_evid) + k.off;
}

static void put_kstr(hw *w, const rp_event *e, rp_kstr k)
{
    esc(w, kstr_ptr(e, k), k.len);
    if (k.orig)
        putf(w, "<span class=\"cut\" title=\"cut from %u bytes\">\xe2\x80\xa6</span>", k.orig);
}

static const char *type_name(unsigned t)
{
    const char *n = sw_event_type_name((sw_event_type)t);
    return n ? n : "unknown";
}
static const char *cat_name(unsigned c)
{
    const char *n = sw_category_name((sw_category)c);
    return n ? n : "unknown";
}
static const char *act_name(unsigned a)
{
    const char *n = sw_action_name((sw_action)a);
    return n ? n : "unknown";
}

static const char *const palette[] = {"#c62828", "#6a1b9a", "#283593", "#0277bd", "#00695c",
                                      "#558b2f", "#f9a825", "#ef6c00", "#4e342e", "#37474f",
                                      "#ad1457", "#00838f", "#9e9d24"};
#define NPALETTE (sizeof palette / sizeof palette[0])

static const char *action_colour(unsigned a)
{
    switch (a) {
    case SW_ACTION_ALLOW: return "#43a047";
    case SW_ACTION_REJECT: return "#e53935";
    case SW_ACTION_DROP: return "#8e24aa";
    case SW_ACTION_RATE_LIMIT: return "#fb8c00";
    case SW_ACTION_STRIP: return "#1e88e5";
    case SW_ACTION_REWRITE: return "#00897b";
    case SW_ACTION_TAG: return "#fdd835";
    default: return "#757575";
    }
}

/* A horizontal bar chart: one row per non-zero value. */
static void svg_hbars(hw *w, const char *title, const char *const *labels, const uint64_t *vals,
                      const char *const *colours, size_t n)
{
    uint64_t max = 0;
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        if (vals[i] > max)
            max = vals[i];
        rows += vals[i] > 0;
    }
    if (rows == 0) {
        put(w, "<p class=\"none\">none</p>\n");
        return;
    }
    const int rowh = 22, labw = 170, barw = 420;
    int h = (int)rows * rowh + 8;
    putf(w, "<svg class=\"chart\" role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\"><title>",
         labw + barw + 110, h, labw + barw + 110, h);
    esc_c(w, title);
    put(w, "</title>\n");
    int y = 4;
    for (size_t i = 0; i < n; i++) {
        if (!vals[i])
            continue;
        int bw = (int)((double)vals[i] / (double)max * barw);
        if (bw < 1)
            bw = 1;
        putf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", labw - 6, y + 15);
        esc_c(w, labels[i]);
        putf(w, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>",
             labw, y + 2, bw, rowh - 6, colours[i]);
        esc_c(w, labels[i]);
        putf(w, ": %llu</title></rect><text x=\"%d\" y=\"%d\">%llu</text>\n",
             (unsigned long long)vals[i], labw + bw + 6, y + 15, (unsigned long long)vals[i]);
        y += rowh;
    }
    put(w, "</svg>\n");
}

static const char css[] =
    "body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;"
    "color:#1b1b1b;background:#fafafa}\n"
    "header{background:#263238;color:#fff;padding:16px 24px}\n"
    "header h1{margin:0 0 8px;font-size:22px}\n"
    "header dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}\n"
    "header dt{color:#b0bec5}header dd{margin:0;word-break:break-all}\n"
    "main{padding:8px 24px 32px}section{margin:24px 0}\n"
    "h2{font-size:18px;border-bottom:2px solid #cfd8dc;padding-bottom:4px}\n"
    "table{border-collapse:collapse;background:#fff}\n"
    "th,td{border:1px solid #cfd8dc;padding:3px 6px;text-align:left;vertical-align:top}\n"
    "th{background:#eceff1}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}\n"
    ".card{background:#fff;border:1px solid #cfd8dc;border-left:6px solid #90a4ae;"
    "padding:6px 12px;min-width:90px}\n"
    ".card b{display:block;font-size:20px}\n"
    ".chart text{font-size:12px;fill:#263238}\n"
    ".events td{font-size:12px;max-width:420px;word-break:break-word}\n"
    ".events code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace}\n"
    ".mon{color:#6d4c41;font-style:italic}.cut{color:#b71c1c}\n"
    ".none{color:#78909c}.note{color:#546e7a}\n"
    ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;"
    "vertical-align:middle}\n";

/* ---- sections ------------------------------------------------------------------------ */

static void section_header(hw *w, const sw_report *r, const sw_report_meta *m)
{
    put(w, "<header><h1>sipwall screening report</h1><dl>\n<dt>capture</dt><dd>");
    esc_c(w, m->title ? m->title : "-");
    put(w, "</dd>\n<dt>policy</dt><dd>");
    esc_c(w, m->policy ? m->policy : "-");
    uint64_t msgs = m->messages ? m->messages : r->messages;
    putf(w, "</dd>\n<dt>messages</dt><dd>%llu</dd>\n<dt>events</dt><dd>%llu</dd>\n",
         (unsigned long long)msgs, (unsigned long long)r->events);
    putf(w, "<dt>elapsed</dt><dd>%.3f s</dd>\n", m->elapsed_s);
    if (r->tl.used) {
        put(w, "<dt>traffic</dt><dd>");
        put_ts(w, sw__sat_add(r->tl.base, sw__sat_mul((int64_t)r->tl.lo, r->tl.width)));
        put(w, " \xe2\x80\x93 ");
        put_ts(w, sw__sat_add(r->tl.base, sw__sat_mul((int64_t)r->tl.hi + 1, r->tl.width)));
        put(w, "</dd>\n");
    }
    put(w, "</dl></header>\n<main>\n");
}

static void section_verdicts(hw *w, const sw_report *r, const sw_report_meta *m)
{
    uint64_t v[SW_ACTION__COUNT];
    uint64_t total = 0;
    for (unsigned a = 0; a < SW_ACTION__COUNT; a++)
        total += m->verdicts[a];
    for (unsigned a = 0; a < SW_ACTION__COUNT; a++)
        v[a] = total ? m->verdicts[a] : r->msg_by_action[a];
    if (!total)
        for (unsigned a = 0; a < SW_ACTION__COUNT; a++)
            total += v[a];
    put(w, "<section id=\"verdicts\"><h2>Verdicts</h2>\n<div class=\"cards\">\n");
    for (unsigned a = 0; a < SW_ACTION__COUNT; a++) {
        putf(w, "<div class=\"card\" style=\"border-left-color:%s\"><b>%llu</b>%s", action_colour(a),
             (unsigned long long)v[a], act_name(a));
        if (total)
            putf(w, " (%.1f%%)", 100.0 * (double)v[a] / (double)total);
        put(w, "</div>\n");
    }
    put(w, "</div>\n");
    const char *labels[SW_ACTION__COUNT], *cols[SW_ACTION__COUNT];
    for (unsigned a = 0; a < SW_ACTION__COUNT; a++) {
        labels[a] = act_name(a);
        cols[a] = action_colour(a);
    }
    svg_hbars(w, "verdicts by action", labels, v, cols, SW_ACTION__COUNT);
    put(w, "</section>\n");
}

static void section_types(hw *w, const sw_report *r)
{
    put(w, "<section id=\"types\"><h2>Events by type</h2>\n");
    const char *labels[SW_EVT__COUNT + 1], *cols[SW_EVT__COUNT + 1];
    for (unsigned t = 0; t <= SW_EVT__COUNT; t++) {
        labels[t] = t < SW_EVT__COUNT ? type_name(t) : "(invalid type)";
        cols[t] = palette[t % NPALETTE];
    }
    svg_hbars(w, "events by type", labels, r->by_type, cols, SW_EVT__COUNT + 1);
    put(w, "<table><tr><th>type</th><th>events</th><th>of which monitor-only</th></tr>\n");
    for (unsigned t = 0; t <= SW_EVT__COUNT; t++) {
        if (!r->by_type[t])
            continue;
        putf(w, "<tr><td>%s</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td></tr>\n",
             labels[t], (unsigned long long)r->by_type[t], (unsigned long long)r->type_monitor[t]);
    }
    putf(w, "<tr><th>total</th><th>%llu</th><th>%llu</th></tr></table>\n",
         (unsigned long long)r->events, (unsigned long long)r->monitor);

    put(w, "<h3>By category and action</h3><table><tr><th>category</th><th>events</th></tr>\n");
    for (unsigned c = 0; c <= SW_CAT__COUNT; c++)
        if (r->by_cat[c])
            putf(w, "<tr><td>%s</td><td class=\"n\">%llu</td></tr>\n",
                 c < SW_CAT__COUNT ? cat_name(c) : "(invalid)", (unsigned long long)r->by_cat[c]);
    put(w, "</table>\n<table><tr><th>event action</th><th>events</th></tr>\n");
    for (unsigned a = 0; a <= SW_ACTION__COUNT; a++)
        if (r->by_action[a])
            putf(w, "<tr><td>%s</td><td class=\"n\">%llu</td></tr>\n",
                 a < SW_ACTION__COUNT ? act_name(a) : "(invalid)",
                 (unsigned long long)r->by_action[a]);
    put(w, "</table>\n</section>\n");
}

static int cmp_rule(const void *a, const void *b)
{
    const rp_rule *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void section_rules(hw *w, const sw_report *r)
{
    put(w, "<section id=\"rules\"><h2>Events by rule</h2>\n");
    if (!r->nrules && !r->rules_other) {
        put(w, "<p class=\"none\">no events</p></section>\n");
        return;
    }
    rp_rule *v = malloc((r->nrules ? r->nrules : 1) * sizeof *v);
    if (!v) {
        put(w, "<p>out of memory</p></section>\n");
        return;
    }
    memcpy(v, r->rules, r->nrules * sizeof *v);
    qsort(v, r->nrules, sizeof *v, cmp_rule);
    put(w, "<table><tr><th>rule</th><th>type</th><th>category</th><th>events</th>"
           "<th>monitor-only</th><th>actions</th></tr>\n");
    for (size_t i = 0; i < r->nrules; i++) {
        put(w, "<tr><td class=\"mono\">");
        esc_c(w, v[i].name);
        putf(w, "</td><td>%s</td><td>%s</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td>",
             type_name(v[i].type), cat_name(v[i].category), (unsigned long long)v[i].n,
             (unsigned long long)v[i].monitor);
        int first = 1;
        for (unsigned a = 0; a < SW_ACTION__COUNT; a++) {
            if (!v[i].by_action[a])
                continue;
            putf(w, "%s%s&nbsp;%llu", first ? "" : ", ", act_name(a),
                 (unsigned long long)v[i].by_action[a]);
            first = 0;
        }
        put(w, "</td></tr>\n");
    }
    if (r->rules_other)
        putf(w, "<tr><td colspan=\"3\">(further rules)</td><td class=\"n\">%llu</td>"
                "<td></td><td></td></tr>\n",
             (unsigned long long)r->rules_other);
    put(w, "</table>\n</section>\n");
    free(v);
}

static int cmp_off(const void *a, const void *b)
{
    const rp_offender *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return memcmp(&x->ip, &y->ip, sizeof x->ip);
}

static void section_offenders(hw *w, const sw_report *r)
{
    put(w, "<section id=\"offenders\"><h2>Top offenders</h2>\n");
    if (!r->noff) {
        put(w, "<p class=\"none\">no event with a source address</p>\n");
    } else {
        rp_offender *v = malloc(r->noff * sizeof *v);
        if (!v) {
            put(w, "<p>out of memory</p></section>\n");
            return;
        }
        size_t n = 0;
        for (size_t i = 0; i < r->offcap; i++)
            if (r->off[i].ip.family)
                v[n++] = r->off[i];
        qsort(v, n, sizeof *v, cmp_off);
        size_t show = n < HTML_TOP_OFFENDERS ? n : HTML_TOP_OFFENDERS;
        /* a passive run enforced nothing: the column is what inline would have */
        putf(w, "<table><tr><th>#</th><th>source</th><th>events</th><th>%s</th>"
                "<th>event types</th><th>first</th><th>last</th></tr>\n",
             r->passive && r->passive == r->events ? "would be enforced" : "enforced");
        for (size_t i = 0; i < show; i++) {
            char ip[SW_ADDR_STRLEN];
            if (sw_addr_format_ip(&v[i].ip, ip, sizeof ip) < 0)
                snprintf(ip, sizeof ip, "?");
            putf(w, "<tr><td class=\"n\">%zu</td><td class=\"mono\">", i + 1);
            esc(w, ip, strlen(ip));
            putf(w, "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td>",
                 (unsigned long long)v[i].n, (unsigned long long)v[i].enforced);
            int first = 1;
            for (unsigned t = 0; t < SW_EVT__COUNT && t < 32; t++) {
                if (v[i].types & (1u << t)) {
                    putf(w, "%s%s", first ? "" : ", ", type_name(t));
                    first = 0;
                }
            }
            put(w, "</td><td>");
            put_ts(w, v[i].first);
            put(w, "</td><td>");
            put_ts(w, v[i].last);
            put(w, "</td></tr>\n");
        }
        put(w, "</table>\n");
        uint64_t rest = 0;
        for (size_t i = show; i < n; i++)
            rest += v[i].n;
        putf(w, "<p class=\"note\">%zu distinct sources", n);
        if (n > show)
            putf(w, "; %zu more sources with %llu events not shown", n - show,
                 (unsigned long long)rest);
        put(w, ".</p>\n");
        free(v);
    }
    if (r->off_other)
        putf(w, "<p class=\"note\">%llu events from further sources (beyond %d distinct) "
                "counted as other.</p>\n",
             (unsigned long long)r->off_other, RP_MAX_OFFENDERS);
    if (r->off_unknown)
        putf(w, "<p class=\"note\">%llu events without a source address.</p>\n",
             (unsigned long long)r->off_unknown);
    put(w, "</section>\n");
}

static void section_timeline(hw *w, const sw_report *r)
{
    const rp_timeline *t = &r->tl;
    put(w, "<section id=\"timeline\"><h2>Timeline</h2>\n");
    if (!t->used) {
        put(w, "<p class=\"none\">no timed messages</p></section>\n");
        return;
    }
    size_t span = t->hi - t->lo + 1;
    size_t group = (span + HTML_TL_BARS - 1) / HTML_TL_BARS;
    size_t nbars = (span + group - 1) / group;
    uint64_t al[HTML_TL_BARS], ot[HTML_TL_BARS], evs[HTML_TL_BARS];
    uint64_t ymax = 0, tot_al = 0, tot_ot = 0, tot_ev = 0;
    for (size_t b = 0; b < nbars; b++) {
        al[b] = ot[b] = evs[b] = 0;
        for (size_t i = t->lo + b * group; i < t->lo + (b + 1) * group && i <= t->hi; i++) {
            al[b] += t->allow[i];
            ot[b] += t->other[i];
            evs[b] += t->events[i];
        }
        if (al[b] + ot[b] > ymax)
            ymax = al[b] + ot[b];
        tot_al += al[b];
        tot_ot += ot[b];
        tot_ev += evs[b];
    }
    if (ymax == 0)
        ymax = 1;
    const int W = 1000, H = 280, L = 60, R = 12, T = 28, B = 40;
    const int pw = W - L - R, ph = H - T - B;
    double bw = (double)pw / (double)nbars;
    int64_t t0 = sw__sat_add(t->base, sw__sat_mul((int64_t)t->lo, t->width));
    int64_t bucket_ns = sw__sat_mul((int64_t)group, t->width);
    putf(w, "<p class=\"legend\"><span style=\"background:#43a047\"></span>allowed messages"
            " (%llu)<span style=\"background:#e53935\"></span>not allowed (%llu)"
            "<span style=\"background:#ff6f00;border-radius:6px\"></span>events (%llu)"
            " &mdash; one bar = %.3g s</p>\n",
         (unsigned long long)tot_al, (unsigned long long)tot_ot, (unsigned long long)tot_ev,
         (double)bucket_ns / 1e9);
    putf(w, "<svg class=\"chart\" role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\"><title>messages and events over time</title>\n",
         W, H, W, H);
    putf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#90a4ae\"/>\n", L, T + ph,
         L + pw, T + ph);
    putf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#90a4ae\"/>\n", L, T, L,
         T + ph);
    putf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%llu</text>\n", L - 4, T + 10,
         (unsigned long long)ymax);
    putf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", L - 4, T + ph);
    putf(w, "<text x=\"4\" y=\"%d\">events</text>\n", T - 10);
    for (size_t b = 0; b < nbars; b++) {
        double x = L + (double)b * bw;
        double ha = (double)al[b] / (double)ymax * ph, ho = (double)ot[b] / (double)ymax * ph;
        int64_t bs = sw__sat_add(t0, sw__sat_mul((int64_t)b, bucket_ns));
        put(w, "<g><title>");
        put_ts(w, bs);
        putf(w, " +%.3g s: %llu allowed, %llu not allowed, %llu events</title>",
             (double)bucket_ns / 1e9, (unsigned long long)al[b], (unsigned long long)ot[b],
             (unsigned long long)evs[b]);
        putf(w, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"transparent\"/>", x,
             T, bw, ph);
        if (al[b])
            putf(w, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#43a047\"/>",
                 x + 0.5, T + ph - ha, bw > 2 ? bw - 1 : bw, ha);
        if (ot[b])
            putf(w, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#e53935\"/>",
                 x + 0.5, T + ph - ha - ho, bw > 2 ? bw - 1 : bw, ho);
        if (evs[b]) {
            int rad = 2;
            for (uint64_t e = evs[b]; e > 1 && rad < 7; e >>= 2)
                rad++;
            putf(w, "<circle cx=\"%.2f\" cy=\"%d\" r=\"%d\" fill=\"#ff6f00\"/>", x + bw / 2,
                 T - 12, rad);
        }
        put(w, "</g>\n");
    }
    /* time axis: start, middle, end */
    for (int k = 0; k <= 2; k++) {
        int64_t ts = sw__sat_add(t0, sw__sat_mul((int64_t)nbars * k / 2, bucket_ns));
        int x = L + (int)((double)k / 2.0 * pw);
        putf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\">", x, T + ph + 16,
             k == 0 ? "start" : k == 1 ? "middle" : "end");
        put_clock(w, ts);
        put(w, "</text>\n");
    }
    putf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (UTC)</text>\n", L + pw / 2,
         T + ph + 32);
    put(w, "</svg>\n</section>\n");
}

static void event_row(hw *w, size_t idx, const rp_event *e)
{
    putf(w, "<tr><td class=\"n\">%zu</td><td>", idx + 1);
    put_ts(w, e->ts);
    putf(w, "</td><td>%s</td><td class=\"mono\">", type_name(e->type));
    esc_c(w, e->rule);
    putf(w, "</td><td>%s</td><td>%s", cat_name(e->category), act_name(e->action));
    if (e->action_status)
        putf(w, " %u", e->action_status);
    if (e->passive)
        put(w, " <span class=\"mon\">(passive: would)</span>");
    else if (e->monitor)
        put(w, " <span class=\"mon\">(monitor)</span>");
    if (e->expires) {
        put(w, "<br>until ");
        put_ts(w, e->expires);
    }
    putf(w, "</td><td class=\"n\">%u</td><td class=\"mono\">", e->confidence);
    put_addr(w, &e->src);
    put(w, " \xe2\x86\x92 ");
    put_addr(w, &e->dst);
    if (e->transport)
        putf(w, " %s", sw_transport_name((sw_transport)e->transport));
    put(w, "</td><td>");
    if (e->s[RP_METHOD].len)
        put_kstr(w, e, e->s[RP_METHOD]);
    else if (e->status)
        putf(w, "%u", e->status);
    put(w, "</td><td class=\"mono\">");
    static const struct {
        int f;
        const char *name;
    } nums[] = {{RP_FROM, "from"}, {RP_TO, "to"}, {RP_PAI, "pai"}, {RP_RURI, "ruri"},
                {RP_CALLID, "call-id"}};
    int first = 1;
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        rp_kstr k = e->s[nums[i].f];
        if (!k.len)
            continue;
        putf(w, "%s%s&nbsp;", first ? "" : "<br>", nums[i].name);
        put_kstr(w, e, k);
        first = 0;
    }
    put(w, "</td><td class=\"n\">");
    if (e->frame)
        putf(w, "%llu", (unsigned long long)e->frame);
    if (e->s[RP_FILE].len) {
        put(w, "<br>");
        put_kstr(w, e, e->s[RP_FILE]);
    }
    put(w, "</td><td>");
    put_kstr(w, e, e->s[RP_REASON]);
    put(w, "</td><td>");
    for (unsigned i = 0; i < e->nevid; i++) {
        const rp_evid *v = &e->evid[i];
        put(w, i ? "<br><code>" : "<code>");
        esc_c(w, v->key);
        put(w, "</code>=");
        if (v->kind == SW_EVIDENCE_NUM)
            putf(w, "%lld", (long long)v->num);
        else
            put_kstr(w, e, v->str);
    }
    put(w, "</td></tr>\n");
}

static void section_events(hw *w, const sw_report *r)
{
    put(w, "<section id=\"events\"><h2>Every event explained</h2>\n");
    if (!r->events) {
        put(w, "<p class=\"none\">no events</p></section>\n");
        return;
    }
    put(w, "<table class=\"events\"><tr><th>#</th><th>time</th><th>type</th><th>rule</th>"
           "<th>category</th><th>action</th><th>conf.</th><th>source \xe2\x86\x92 destination</th>"
           "<th>method / status</th><th>numbers</th><th>frame</th><th>reason</th>"
           "<th>evidence</th></tr>\n");
    for (size_t i = 0; i < r->nev; i++)
        event_row(w, i, &r->ev[i]);
    put(w, "</table>\n");
    if (r->events > r->nev)
        putf(w, "<p class=\"note\">%llu more events were counted in the aggregates above but "
                "not listed (the first %zu are kept in full).</p>\n",
             (unsigned long long)(r->events - r->nev), r->nev);
    else
        putf(w, "<p class=\"note\">all %llu events listed.</p>\n", (unsigned long long)r->events);
    put(w, "</section>\n");
}

static void write_doc(hw *w, const sw_report *r, const sw_report_meta *m)
{
    put(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'; img-src data:\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>sipwall report");
    if (m->title) {
        put(w, " \xe2\x80\x94 ");
        esc_c(w, m->title);
    }
    put(w, "</title>\n<style>\n");
    put(w, css);
    put(w, "</style></head><body>\n");
    section_header(w, r, m);
    section_verdicts(w, r, m);
    section_types(w, r);
    section_rules(w, r);
    section_offenders(w, r);
    section_timeline(w, r);
    section_events(w, r);
    put(w, "</main>\n<footer class=\"note\" style=\"padding:0 24px 16px\">generated by sipwall"
           "</footer>\n</body></html>\n");
}

int sw_report_write_html(const sw_report *r, const sw_report_meta *meta, const char *path,
                         char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SW_EIO;
    }
    (void)fchmod(fd, 0640);
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        int e = errno;
        close(fd);
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        return SW_EIO;
    }
    char *iobuf = malloc(HTML_IOBUF);
    if (iobuf && setvbuf(fp, iobuf, _IOFBF, HTML_IOBUF) != 0) {
        free(iobuf);
        iobuf = NULL;
    }
    hw w = {fp};
    write_doc(&w, r, meta);
    int bad = ferror(fp);
    int e = errno;
    if (fclose(fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    free(iobuf);
    if (bad) {
        if (err && errlen)
            snprintf(err, errlen, "%s: write failed: %s", path, strerror(e));
        return SW_EIO;
    }
    return SW_OK;
}
