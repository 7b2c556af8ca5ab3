/* Reading the target's replies (input from the target: bounded, no
 * allocation): the enumeration fingerprint, product and version disclosure,
 * and internal addresses or host names leaking in headers.  Fuzzed by
 * fuzz/fuzz_assess_reply.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess/assess_int.h"

/* ---- fingerprints ---- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void sw__assess_fp_of(const sw_sip_msg *m, sw__assess_fp *fp)
{
    memset(fp, 0, sizeof *fp);
    fp->status = m->status;
    size_t rl = m->reason.len < sizeof fp->reason - 1 ? m->reason.len : sizeof fp->reason - 1;
    if (rl) /* a request has no reason phrase (NULL view) */
        memcpy(fp->reason, m->reason.ptr, rl);
    fp->body_len = m->body.len;
    /* header names: long forms, lowercase, each once, sorted */
    char store[256][40];
    const char *names[256];
    size_t n = 0;
    for (uint16_t i = 0; i < m->nhdrs && n < 256; i++) {
        const sw_sip_header *h = &m->hdrs[i];
        const char *canon = h->id != SW_HDR_OTHER ? sw_hdr_name((sw_hdr_id)h->id) : NULL;
        size_t len = canon ? strlen(canon) : h->name.len;
        const char *src = canon ? canon : h->name.ptr;
        if (len > 39)
            len = 39;
        for (size_t k = 0; k < len; k++)
            store[n][k] = (char)tolower((unsigned char)src[k]);
        store[n][len] = '\0';
        int dup = 0;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(names[k], store[n]) == 0;
        if (!dup) {
            names[n] = store[n];
            n++;
        }
    }
    qsort(names, n, sizeof names[0], cmp_name);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(fp->names + off, sizeof fp->names - off, "%s%s", i ? "," : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof fp->names - off)
            break;
        off += (size_t)w;
    }
    const sw_sip_header *ah = sw_sip_first(m, SW_HDR_WWW_AUTHENTICATE);
    if (!ah)
        ah = sw_sip_first(m, SW_HDR_PROXY_AUTHENTICATE);
    if (ah) {
        sw_auth a;
        sw_sip_error e;
        if (sw_auth_parse(ah->value, &a, &e) == SW_OK)
            snprintf(fp->auth, sizeof fp->auth, "%.*s realm=%.*s", (int)(a.scheme.len > 32 ? 32 : a.scheme.len),
                     a.scheme.ptr, (int)(a.realm.len > 80 ? 80 : a.realm.len), a.realm.ptr);
        else
            snprintf(fp->auth, sizeof fp->auth, "(unparsable challenge)");
    }
}

int sw__assess_fp_equal(const sw__assess_fp *a, const sw__assess_fp *b, const char **what)
{
    const char *w = NULL;
    if (a->status != b->status)
        w = "status";
    else if (strcmp(a->reason, b->reason))
        w = "reason phrase";
    else if (strcmp(a->names, b->names))
        w = "header set";
    else if (strcmp(a->auth, b->auth))
        w = "challenge";
    else if (a->body_len != b->body_len)
        w = "body length";
    if (what)
        *what = w;
    return w == NULL;
}

void sw__assess_fp_text(const sw__assess_fp *fp, char *out, size_t cap)
{
    if (fp->status == 0) {
        snprintf(out, cap, "no answer");
        return;
    }
    snprintf(out, cap, "%u \"%s\" headers[%s] auth[%s] body %zu", fp->status, fp->reason, fp->names, fp->auth,
             fp->body_len);
}

/* ---- product disclosure ---- */

int sw__assess_product_level(sw_str v)
{
    int letters = 0, version = 0;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (isalpha(c))
            letters++;
        if (isdigit(c)) {
            size_t k = i;
            while (k < v.len && isdigit((unsigned char)v.ptr[k]))
                k++;
            if (k + 1 < v.len && v.ptr[k] == '.' && isdigit((unsigned char)v.ptr[k + 1]))
                version = 1;
            i = k;
        }
    }
    if (letters >= 2 && version)
        return 2;
    return letters >= 2 ? 1 : 0;
}

/* ---- leaks ---- */

int sw__assess_ip_internal(sw_str ip)
{
    char t[64];
    if (ip.len == 0 || ip.len >= sizeof t)
        return 0;
    memcpy(t, ip.ptr, ip.len);
    t[ip.len] = '\0';
    unsigned char b[16];
    if (inet_pton(AF_INET, t, b) == 1) {
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
               (b[0] == 100 && (b[1] & 0xc0) == 64) || (b[0] == 169 && b[1] == 254);
    }
    if (inet_pton(AF_INET6, t, b) == 1)
        return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
    return 0;
}

static int internal_name(sw_str s)
{
    static const char *const suffixes[] = {".local", ".lan", ".internal", ".corp", ".intranet", ".localdomain"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t n = strlen(suffixes[i]);
        if (s.len > n && strncasecmp(s.ptr + s.len - n, suffixes[i], n) == 0)
            return 1;
    }
    return 0;
}

static int same(sw_str s, const char *c)
{
    return c && *c && s.len == strlen(c) && strncasecmp(s.ptr, c, s.len) == 0;
}

static const sw_hdr_id leak_ids[] = {
    SW_HDR_VIA,        SW_HDR_RECORD_ROUTE,      SW_HDR_CONTACT,           SW_HDR_WARNING,
    SW_HDR_HISTORY_INFO, SW_HDR_DIVERSION,       SW_HDR_P_CHARGING_VECTOR, SW_HDR_P_CHARGING_FUNCTION_ADDRESSES,
    SW_HDR_P_VISITED_NETWORK_ID,
};

static int leak_header(const sw_sip_header *h)
{
    if (h->id == SW_HDR_OTHER)
        return sw_str_caseeq_cstr(h->name, "Call-Info");
    for (size_t i = 0; i < sizeof leak_ids / sizeof leak_ids[0]; i++)
        if (h->id == leak_ids[i])
            return 1;
    return 0;
}

static size_t add_leak(sw__assess_leak *out, size_t n, size_t max, const sw_sip_header *h, sw_str what, int high)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(out[i].what) == (what.len < sizeof out[i].what ? what.len : sizeof out[i].what - 1) &&
            strncmp(out[i].what, what.ptr, strlen(out[i].what)) == 0 && out[i].high == high)
            return n;
    if (n >= max)
        return n;
    sw__assess_leak *l = &out[n];
    memset(l, 0, sizeof *l);
    size_t hn = h->name.len < sizeof l->header - 1 ? h->name.len : sizeof l->header - 1;
    memcpy(l->header, h->name.ptr, hn);
    size_t wn = what.len < sizeof l->what - 1 ? what.len : sizeof l->what - 1;
    for (size_t i = 0; i < wn; i++)
        l->what[i] = isprint((unsigned char)what.ptr[i]) ? what.ptr[i] : '?';
    l->high = high;
    return n + 1;
}

static int tokch(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_';
}

size_t sw__assess_leaks(const sw_sip_msg *m, const char *ours, const char *target, sw__assess_leak *out, size_t max)
{
    size_t n = 0;
    for (uint16_t i = 0; i < m->nhdrs; i++) {
        const sw_sip_header *h = &m->hdrs[i];
        sw_str v = h->value;
        if (h->id == SW_HDR_P_ACCESS_NETWORK_INFO || sw_str_caseeq_cstr(h->name, "Cellular-Network-Info")) {
            n = add_leak(out, n, max, h, v.len > 90 ? sw_str_make(v.ptr, 90) : v, 1);
            continue;
        }
        if (!leak_header(h))
            continue;
        /* Our own Via (the top one of a reply) names us; the rest is theirs. */
        if (h->id == SW_HDR_VIA && &m->hdrs[m->first[SW_HDR_VIA]] == h && ours && v.len)
            continue;
        /* tokens of host-ish characters: IPv4/IPv6 literals and names */
        for (size_t k = 0; k < v.len;) {
            if (!tokch((unsigned char)v.ptr[k])) {
                k++;
                continue;
            }
            size_t s = k;
            while (k < v.len && tokch((unsigned char)v.ptr[k]))
                k++;
            sw_str tok = sw_str_make(v.ptr + s, k - s);
            /* a scheme first ("sip:host:port"), then a :port from an IPv4
             * or name token; IPv6 (several colons) is kept whole */
            if (tok.len > 4 && strncasecmp(tok.ptr, "sip:", 4) == 0)
                tok = sw_str_make(tok.ptr + 4, tok.len - 4);
            else if (tok.len > 5 && strncasecmp(tok.ptr, "sips:", 5) == 0)
                tok = sw_str_make(tok.ptr + 5, tok.len - 5);
            size_t colons = 0;
            for (size_t q = 0; q < tok.len; q++)
                colons += tok.ptr[q] == ':';
            if (colons == 1) {
                const char *c = memchr(tok.ptr, ':', tok.len);
                sw_str left = sw_str_make(tok.ptr, (size_t)(c - tok.ptr));
                sw_str right = sw_str_make(c + 1, tok.len - left.len - 1);
                /* "host:5060" keeps the host; "x:host" (another scheme) the host */
                int right_num = right.len > 0;
                for (size_t q = 0; q < right.len; q++)
                    right_num &= isdigit((unsigned char)right.ptr[q]) != 0;
                tok = right_num ? left : right;
            }
            while (tok.len && (tok.ptr[tok.len - 1] == '.' || tok.ptr[tok.len - 1] == ':'))
                tok.len--;
            if (same(tok, ours) || same(tok, target))
                continue;
            if (sw__assess_ip_internal(tok) || internal_name(tok))
                n = add_leak(out, n, max, h, tok, 0);
            else if (tok.len > 14 && memmem(tok.ptr, tok.len, "cell-id", 7))
                n = add_leak(out, n, max, h, tok, 1);
        }
    }
    return n;
}
