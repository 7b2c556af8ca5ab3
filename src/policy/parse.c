/* The policy language: lexer and parser (docs/policy.md).
 *
 * The lexer works on one file's bytes and hands out one token at a time
 * (one token of lookahead is all the grammar needs); a line longer than
 * SW_POLICY_MAX_LINE is an error and skipped, so a token always fits its
 * fixed buffer.  The parser records definitions in the pl_build; anything
 * that needs the whole policy (list references, field/set types, pattern
 * compilation, address conflicts) is checked later by the compiler.
 *
 * Errors never stop the parse: the statement in error is skipped up to its
 * end (newline or ';' outside braces, or the '}' closing its block) and
 * parsing goes on, so one run reports as many problems as possible. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/build.h"

/* ---- diagnostics --------------------------------------------------------------- */
static const char *file_name(const pl_build *b, uint32_t file)
{
    return file < b->nfiles ? b->files[file] : "?";
}

void pl_error(pl_build *b, pl_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sw__diag_vadd(b->diags, 0, file_name(b, loc.file), loc.line, loc.col, fmt, ap);
    va_end(ap);
}

void pl_warning(pl_build *b, pl_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sw__diag_vadd(b->diags, 1, file_name(b, loc.file), loc.line, loc.col, fmt, ap);
    va_end(ap);
}

/* ---- builder memory ---------------------------------------------------------- */
static void *grow_array(pl_build *b, void *arr, uint32_t *cap, uint32_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    uint32_t ncap = *cap ? *cap * 2 : 8;
    if (ncap <= *cap || (size_t)ncap > SIZE_MAX / elem) {
        b->oom = 1;
        return NULL;
    }
    void *p = realloc(arr, (size_t)ncap * elem);
    if (!p) {
        b->oom = 1;
        return NULL;
    }
    *cap = ncap;
    return p;
}

static char *dupstr(pl_build *b, const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        b->oom = 1;
    return d;
}

static int items_add(pl_build *b, pl_items *it, const char *text, const char *label, pl_loc loc)
{
    pl_item *v = grow_array(b, it->v, &it->cap, it->n, sizeof *v);
    if (!v)
        return -1;
    it->v = v;
    pl_item *x = &v[it->n];
    x->text = dupstr(b, text);
    x->label = label ? dupstr(b, label) : NULL;
    x->loc = loc;
    if (!x->text || (label && !x->label)) {
        free(x->text);
        free(x->label);
        return -1;
    }
    it->n++;
    return 0;
}

void pl_items_free(pl_items *it)
{
    for (uint32_t i = 0; i < it->n; i++) {
        free(it->v[i].text);
        free(it->v[i].label);
    }
    free(it->v);
    memset(it, 0, sizeof *it);
}

void pl_rule_action_clear(sw_rule_action *a)
{
    for (uint32_t i = 0; i < a->nstrip_names; i++)
        free(a->strip_names[i]);
    free(a->strip_names);
    memset(a, 0, sizeof *a);
}

static void home_free(pl_home *h)
{
    pl_items_free(&h->ranges);
    pl_items_free(&h->domains);
    memset(h, 0, sizeof *h);
}

void pl_names_free(char ***names, uint32_t *n)
{
    for (uint32_t i = 0; i < *n; i++)
        free((*names)[i]);
    free(*names);
    *names = NULL;
    *n = 0;
}

void pl_privacy_clear(sw_privacy *p)
{
    pl_names_free(&p->egress_strip_names, &p->negress_strip_names);
    pl_names_free(&p->ingress_strip_names, &p->ningress_strip_names);
    pl_names_free(&p->sanitize_names, &p->nsanitize_names);
    memset(p, 0, sizeof *p);
}

static void peer_free(pl_peer *p)
{
    if (!p)
        return;
    pl_names_free(&p->agreed_names, &p->nagreed_names);
    free(p->name);
    pl_items_free(&p->addresses);
    pl_items_free(&p->tls_ids);
    pl_items_free(&p->ranges);
    pl_items_free(&p->domains);
    pl_items_free(&p->registers);
    pl_items_free(&p->realms);
    free(p);
}

static void list_free(pl_list *l)
{
    if (!l)
        return;
    free(l->name);
    pl_items_free(&l->entries);
    free(l);
}

static void rule_free(pl_rule *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->reason);
    pl_rule_action_clear(&r->act);
    free(r);
}

void pl_build_init(pl_build *b, sw_policy_diags *diags)
{
    memset(b, 0, sizeof *b);
    b->diags = diags;
    crypto_hash_sha256_init(&b->sha);
    for (unsigned d = 0; d < SW_DET__COUNT; d++)
        sw__policy_detector_defaults(&b->detectors[d].conf, (sw_detector_id)d);
    sw__policy_limits_defaults(&b->limits.l);
}

void pl_build_free(pl_build *b)
{
    for (uint32_t i = 0; i < b->nfiles; i++)
        free(b->files[i]);
    free(b->files);
    free(b->name);
    free(b->version);
    free(b->location_feed);
    home_free(&b->home);
    for (uint32_t i = 0; i < b->npeers; i++)
        peer_free(b->peers[i]);
    free(b->peers);
    for (uint32_t i = 0; i < b->nlists; i++)
        list_free(b->lists[i]);
    free(b->lists);
    sw__name_index_free(b->peer_names);
    sw__name_index_free(b->list_names);
    for (unsigned d = 0; d < SW_DET__COUNT; d++)
        free(b->detectors[d].list_name);
    for (uint32_t i = 0; i < b->nrules; i++)
        rule_free(b->rules[i]);
    free(b->rules);
    for (uint32_t i = 0; i < b->nexprs; i++) {
        free(b->exprs[i].hdr_name);
        free(b->exprs[i].str);
        pl_items_free(&b->exprs[i].items);
    }
    free(b->exprs);
    pl_privacy_clear(&b->privacy.p);
    for (unsigned i = 0; i < b->depth; i++)
        free((char *)b->stack[i]);
    memset(b, 0, sizeof *b);
}

uint32_t pl_add_file(pl_build *b, const char *name)
{
    char **f = grow_array(b, b->files, &b->capfiles, b->nfiles, sizeof *f);
    char *d = dupstr(b, name);
    if (!f || !d) {
        free(d);
        return b->nfiles ? b->nfiles - 1 : 0; /* out of memory: diagnostics name another file */
    }
    b->files = f;
    b->files[b->nfiles] = d;
    return b->nfiles++;
}

/* ---- lexer ------------------------------------------------------------------------ */
enum {
    T_EOF,
    T_NL,
    T_WORD,
    T_STRING,
    T_LBRACE,
    T_RBRACE,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_SEMI,
    T_OP,
    T_ERROR, /* already reported by the lexer */
};

typedef struct tok {
    int t;
    int cmp;       /* T_OP: sw_cmp */
    uint32_t line, col;
    size_t len;
    char *text;    /* NUL-terminated, SW_POLICY_MAX_LINE + 1 bytes of buffer */
} tok;

typedef struct parser {
    pl_build *b;
    uint32_t file;
    const char *dir;
    const char *p, *end, *line_start;
    uint32_t line;
    int at_line_start;
    tok cur, la;
    int have_la;
    int paren; /* open parentheses of a condition: newlines are spaces there */
    unsigned nest;       /* recursion depth of the condition parser */
    uint32_t expr_first; /* first node of the condition being parsed */
} parser;

#define MAX_NEST 64          /* parentheses and 'not's in one condition */
#define MAX_COND_NODES 1024  /* nodes of one condition (bounds the compiler's recursion) */

static int is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("+-._:/*@%[]", c) != NULL);
}

static pl_loc tok_loc(const parser *ps, const tok *t)
{
    return (pl_loc){ps->file, t->line, t->col};
}

static void lex_error(parser *ps, tok *t, const char *fmt, ...) SW_PRINTF(3, 4);
static void lex_error(parser *ps, tok *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sw__diag_vadd(ps->b->diags, 0, file_name(ps->b, ps->file), t->line, t->col, fmt, ap);
    va_end(ap);
    t->t = T_ERROR;
    t->len = 0;
    t->text[0] = '\0';
}

static void lex(parser *ps, tok *t)
{
    t->len = 0;
    t->text[0] = '\0';
    for (;;) {
        if (ps->at_line_start) {
            ps->at_line_start = 0;
            ps->line_start = ps->p;
            const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
            size_t n = (size_t)((nl ? nl : ps->end) - ps->p);
            if (n > SW_POLICY_MAX_LINE) {
                sw__diag_add(ps->b->diags, 0, file_name(ps->b, ps->file), ps->line, 1,
                             "line longer than %u bytes", SW_POLICY_MAX_LINE);
                ps->p = nl ? nl : ps->end;
            }
        }
        if (ps->p >= ps->end) {
            t->t = T_EOF;
            t->line = ps->line;
            t->col = (uint32_t)(ps->p - ps->line_start) + 1;
            return;
        }
        unsigned char c = (unsigned char)*ps->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            ps->p++;
            continue;
        }
        if (c == '#') {
            const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
            ps->p = nl ? nl : ps->end;
            continue;
        }
        break;
    }
    t->line = ps->line;
    t->col = (uint32_t)(ps->p - ps->line_start) + 1;
    unsigned char c = (unsigned char)*ps->p;
    switch (c) {
    case '\n':
        ps->p++;
        ps->line++;
        ps->at_line_start = 1;
        t->t = T_NL;
        return;
    case '{': t->t = T_LBRACE; break;
    case '}': t->t = T_RBRACE; break;
    case '(': t->t = T_LPAREN; break;
    case ')': t->t = T_RPAREN; break;
    case ',': t->t = T_COMMA; break;
    case ';': t->t = T_SEMI; break;
    default: t->t = -1; break;
    }
    if (t->t != -1) {
        t->text[0] = (char)c;
        t->text[1] = '\0';
        t->len = 1;
        ps->p++;
        return;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
        int eq = ps->p + 1 < ps->end && ps->p[1] == '=';
        t->t = T_OP;
        t->len = eq ? 2 : 1;
        memcpy(t->text, ps->p, t->len);
        t->text[t->len] = '\0';
        ps->p += t->len;
        if (c == '=' && eq)
            t->cmp = SW_CMP_EQ;
        else if (c == '!' && eq)
            t->cmp = SW_CMP_NE;
        else if (c == '<')
            t->cmp = eq ? SW_CMP_LE : SW_CMP_LT;
        else if (c == '>')
            t->cmp = eq ? SW_CMP_GE : SW_CMP_GT;
        else
            lex_error(ps, t, "unexpected '%c' (comparisons are == != < <= > >=)", c);
        return;
    }
    if (c == '"') {
        const char *s = ps->p + 1;
        size_t o = 0;
        for (;;) {
            if (s >= ps->end || *s == '\n') {
                ps->p = s; /* the newline ends the statement */
                lex_error(ps, t, "unterminated string");
                return;
            }
            if (*s == '"')
                break;
            if (*s == '\0') {
                ps->p = s + 1;
                lex_error(ps, t, "NUL byte in a string");
                return;
            }
            /* \" and \\ are the only escapes; any other backslash stays, so
             * regular expressions can be written as usual */
            if (*s == '\\' && s + 1 < ps->end && (s[1] == '"' || s[1] == '\\'))
                s++;
            t->text[o++] = *s++;
        }
        t->text[o] = '\0';
        t->len = o;
        t->t = T_STRING;
        ps->p = s + 1;
        return;
    }
    if (is_word_char(c)) {
        size_t o = 0;
        while (ps->p < ps->end && is_word_char((unsigned char)*ps->p))
            t->text[o++] = *ps->p++;
        t->text[o] = '\0';
        t->len = o;
        t->t = T_WORD;
        return;
    }
    ps->p++;
    if (c >= 0x20 && c < 0x7f)
        lex_error(ps, t, "unexpected character '%c'", c);
    else
        lex_error(ps, t, "unexpected byte 0x%02x", c);
}

static tok *peek(parser *ps)
{
    if (!ps->have_la) {
        lex(ps, &ps->la);
        ps->have_la = 1;
    }
    while (ps->paren > 0 && ps->la.t == T_NL)
        lex(ps, &ps->la);
    return &ps->la;
}

static tok *next(parser *ps)
{
    peek(ps);
    tok tmp = ps->cur;
    ps->cur = ps->la;
    ps->la = tmp;
    ps->have_la = 0;
    return &ps->cur;
}

static int is_kw(const tok *t, const char *kw)
{
    return t->t == T_WORD && strcmp(t->text, kw) == 0;
}

static void describe(const tok *t, char *buf, size_t len)
{
    switch (t->t) {
    case T_EOF: snprintf(buf, len, "end of file"); break;
    case T_NL: snprintf(buf, len, "end of line"); break;
    case T_STRING: snprintf(buf, len, "\"%.60s\"", t->text); break;
    default: snprintf(buf, len, "'%.60s'", t->text); break;
    }
}

/* Reports at token t (unless the lexer already did) and returns -1. */
static int err_at(parser *ps, const tok *t, const char *fmt, ...) SW_PRINTF(3, 4);
static int err_at(parser *ps, const tok *t, const char *fmt, ...)
{
    if (t->t == T_ERROR)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    sw__diag_vadd(ps->b->diags, 0, file_name(ps->b, ps->file), t->line, t->col, fmt, ap);
    va_end(ap);
    return -1;
}

static int err_unexpected(parser *ps, const tok *t, const char *wanted)
{
    char d[80];
    describe(t, d, sizeof d);
    return err_at(ps, t, "expected %s, found %s", wanted, d);
}

static int at_stmt_end(parser *ps)
{
    int t = peek(ps)->t;
    return t == T_NL || t == T_SEMI || t == T_RBRACE || t == T_EOF;
}

/* Skips the rest of a statement in error: up to a newline or ';' outside
 * braces, or the '}' that closes the enclosing block (left for the block). */
static void skip_stmt(parser *ps)
{
    int depth = 0;
    ps->paren = 0;
    for (;;) {
        tok *t = peek(ps);
        if (t->t == T_EOF)
            return;
        if (depth == 0 && (t->t == T_NL || t->t == T_SEMI))
            return;
        if (t->t == T_RBRACE) {
            if (depth == 0)
                return;
            depth--;
        } else if (t->t == T_LBRACE) {
            depth++;
        }
        next(ps);
    }
}

/* The statement must end here; otherwise an error and the rest skipped. */
static int end_stmt(parser *ps, const char *what)
{
    if (at_stmt_end(ps))
        return 0;
    char d[80];
    describe(peek(ps), d, sizeof d);
    err_at(ps, peek(ps), "unexpected %s after %s", d, what);
    skip_stmt(ps);
    return -1;
}

static int fail(parser *ps)
{
    skip_stmt(ps);
    return -1;
}

/* ---- values -------------------------------------------------------------------- */
/* One word or string; the text stays in ps->cur. */
static tok *take_value(parser *ps, const char *what)
{
    tok *t = peek(ps);
    if (t->t != T_WORD && t->t != T_STRING) {
        err_unexpected(ps, t, what);
        return NULL;
    }
    return next(ps);
}

static tok *take_word(parser *ps, const char *what)
{
    tok *t = peek(ps);
    if (t->t != T_WORD) {
        err_unexpected(ps, t, what);
        return NULL;
    }
    return next(ps);
}

/* `{ v, v … }`: values separated by spaces, commas and newlines. */
static int take_brace_items(parser *ps, pl_items *out)
{
    tok *open = next(ps); /* '{' */
    pl_loc at = tok_loc(ps, open);
    for (;;) {
        tok *t = peek(ps);
        if (t->t == T_NL || t->t == T_COMMA) {
            next(ps);
            continue;
        }
        if (t->t == T_RBRACE) {
            next(ps);
            return 0;
        }
        if (t->t == T_WORD || t->t == T_STRING) {
            next(ps);
            if (items_add(ps->b, out, ps->cur.text, NULL, tok_loc(ps, &ps->cur)) != 0)
                return -1;
            continue;
        }
        if (t->t == T_EOF) {
            pl_error(ps->b, at, "unterminated '{': the set is never closed");
            return -1;
        }
        return err_unexpected(ps, t, "a value or '}'");
    }
}

/* Values up to the end of the statement, separated by spaces and/or commas;
 * a line that ends with a comma continues on the next; a `{ … }` set is the
 * same list.  Returns how many were read, or -1 (reported, skipped). */
static int take_values(parser *ps, pl_items *out, const char *what)
{
    uint32_t before = out->n;
    if (peek(ps)->t == T_LBRACE) {
        if (take_brace_items(ps, out) != 0)
            return fail(ps);
    } else {
        for (;;) {
            tok *t = peek(ps);
            if (t->t == T_WORD || t->t == T_STRING) {
                next(ps);
                if (items_add(ps->b, out, ps->cur.text, NULL, tok_loc(ps, &ps->cur)) != 0)
                    return fail(ps);
                continue;
            }
            if (t->t == T_COMMA) {
                next(ps);
                while (peek(ps)->t == T_NL)
                    next(ps);
                continue;
            }
            break;
        }
    }
    if (out->n == before) {
        err_unexpected(ps, peek(ps), what);
        return fail(ps);
    }
    if (end_stmt(ps, what) != 0)
        return -1;
    return (int)(out->n - before);
}

static int take_uint(parser *ps, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
    tok *t = take_value(ps, what);
    if (!t)
        return fail(ps);
    if (sw__parse_uint(t->text, UINT64_MAX, out) != 0) {
        err_at(ps, t, "'%s' is not a number (%s)", t->text, what);
        return fail(ps);
    }
    if (*out < min || *out > max) {
        err_at(ps, t, "%s %s is outside %llu..%llu", what, t->text, (unsigned long long)min,
               (unsigned long long)max);
        return fail(ps);
    }
    return end_stmt(ps, what);
}

static int take_duration(parser *ps, const char *what, int64_t *ns)
{
    tok *t = take_value(ps, what);
    if (!t)
        return fail(ps);
    if (sw__parse_duration(t->text, ns) != 0) {
        err_at(ps, t, "bad duration '%s' for %s (a number with ms, s, m, h or d)", t->text, what);
        return fail(ps);
    }
    return end_stmt(ps, what);
}

/* `word` must be one of the choices; returns its index. */
static int take_choice(parser *ps, const char *what, const char *const *choices, int *out)
{
    tok *t = take_word(ps, what);
    if (!t)
        return fail(ps);
    char all[160] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(t->text, choices[i]) == 0) {
            *out = i;
            return end_stmt(ps, what);
        }
        size_t n = strlen(all);
        snprintf(all + n, sizeof all - n, "%s%s", i ? " | " : "", choices[i]);
    }
    err_at(ps, t, "bad %s '%s' (%s)", what, t->text, all);
    return fail(ps);
}

static const char *const yes_no[] = {"no", "yes", NULL};
static const char *const modes[] = {"enforce", "monitor", NULL};
static const char *const trusts[] = {"untrusted", "trusted", NULL};

static int take_bool(parser *ps, const char *what, uint8_t *out)
{
    int v;
    if (take_choice(ps, what, yes_no, &v) != 0)
        return -1;
    *out = (uint8_t)v;
    return 0;
}

/* Header names into a mask; names unknown to the parser are an error unless
 * `names` collects them. */
static int take_headers(parser *ps, const char *what, sw_hdr_mask *mask, char ***names,
                        uint32_t *nnames)
{
    pl_items it = {0};
    if (take_values(ps, &it, what) < 0) {
        pl_items_free(&it);
        return -1;
    }
    int rc = 0;
    for (uint32_t i = 0; i < it.n; i++) {
        const char *h = it.v[i].text;
        sw_hdr_id id = h[0] ? sw_hdr_lookup(h, strlen(h)) : SW_HDR_OTHER;
        if (id != SW_HDR_OTHER) {
            sw_hdr_mask_set(mask, id);
            continue;
        }
        if (!names) {
            pl_error(ps->b, it.v[i].loc, "unknown header '%s' in %s (only known headers here)",
                     h, what);
            rc = -1;
            continue;
        }
        char **n = realloc(*names, (*nnames + 1) * sizeof *n);
        char *d = strdup(h);
        if (!n || !d) {
            free(d);
            if (n)
                *names = n;
            ps->b->oom = 1;
            rc = -1;
            break;
        }
        *names = n;
        (*names)[(*nnames)++] = d;
    }
    pl_items_free(&it);
    return rc;
}

/* ---- entry checks (inline sets and list files) -------------------------------- */
static const char *const list_kinds[] = {"numbers", "addresses", "strings", "patterns", NULL};

/* NULL when text is a valid entry of the kind, else why not. */
static const char *entry_problem(sw_list_kind kind, const char *text)
{
    switch (kind) {
    case SW_LIST_NUMBERS: {
        char lo[SW_E164_MAX_DIGITS + 1], hi[SW_E164_MAX_DIGITS + 1];
        size_t len;
        const char *why = NULL;
        return sw__number_entry_parse(text, lo, hi, &len, &why) ? NULL : why;
    }
    case SW_LIST_ADDRESSES: {
        sw_addr a;
        unsigned bits;
        int rc = sw_cidr_parse(text, &a, &bits);
        if (rc == SW_ERANGE)
            return "host bits set beyond the prefix length";
        return rc == SW_OK ? NULL : "not an IPv4/IPv6 address or CIDR";
    }
    case SW_LIST_STRINGS:
    case SW_LIST_PATTERNS:
        return text[0] ? NULL : "empty entry";
    }
    return "bad list kind";
}

static int check_numbers(parser *ps, const pl_items *it, uint32_t from, const char *what)
{
    int rc = 0;
    for (uint32_t i = from; i < it->n; i++) {
        const char *why = entry_problem(SW_LIST_NUMBERS, it->v[i].text);
        if (why) {
            pl_error(ps->b, it->v[i].loc, "bad E.164 %s '%s': %s", what, it->v[i].text, why);
            rc = -1;
        }
    }
    return rc;
}

/* Why a `register` value is not an AoR (user@domain, optionally sip: or
 * sips:) or a domain, or NULL when it is one. */
static const char *aor_problem(const char *v)
{
    if (strncasecmp(v, "sips:", 5) == 0)
        v += 5;
    else if (strncasecmp(v, "sip:", 4) == 0)
        v += 4;
    const char *at = strchr(v, '@');
    const char *host = at ? at + 1 : v;
    if (at) {
        if (at == v)
            return "empty user part before '@'";
        for (const char *c = v; c < at; c++)
            if ((unsigned char)*c <= ' ' || strchr(";?:<>\"", *c))
                return "the user part holds a parameter, header or port";
    }
    if (!*host)
        return "empty domain";
    if (strchr(host, '@'))
        return "more than one '@'";
    for (const char *c = host; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-')
            return "the domain is a host name (letters, digits, '.', '-'), without port or parameters";
    if (host[0] == '.' || host[0] == '-' || host[strlen(host) - 1] == '.')
        return "the domain starts or ends with '.' or '-'";
    return NULL;
}

/* A partner's `register` values: what it may register (RFC 6140 style:
 * an enterprise PBX registers its own AoR). */
static int check_aors(parser *ps, const pl_items *it, uint32_t from)
{
    int rc = 0;
    for (uint32_t i = from; i < it->n; i++) {
        const char *why = aor_problem(it->v[i].text);
        if (why) {
            pl_error(ps->b, it->v[i].loc,
                     "bad register entry '%s': %s (an AoR user@domain, or a domain)", it->v[i].text,
                     why);
            rc = -1;
        }
    }
    return rc;
}

/* A partner's or zone's `address` values: addresses and CIDRs, each
 * optionally with a port ("192.0.2.10:5060", "[2001:db8::1]:5061"). */
static int check_addresses(parser *ps, const pl_items *it, uint32_t from)
{
    int rc = 0;
    for (uint32_t i = from; i < it->n; i++) {
        sw_addr a;
        unsigned bits;
        uint16_t port;
        int prc = sw__peer_addr_parse(it->v[i].text, &a, &bits, &port);
        const char *why = prc == SW_OK       ? NULL
                          : prc == SW_ERANGE ? "host bits set beyond the prefix length"
                                             : "not an IPv4/IPv6 address or CIDR, with an optional "
                                               ":PORT (1-65535; IPv6 in brackets: [2001:db8::1]:5061)";
        if (why) {
            pl_error(ps->b, it->v[i].loc, "bad address '%s': %s", it->v[i].text, why);
            rc = -1;
        }
    }
    return rc;
}

static int take_methods(parser *ps, uint32_t *mask)
{
    pl_items it = {0};
    if (take_values(ps, &it, "method names") < 0) {
        pl_items_free(&it);
        return -1;
    }
    int rc = 0;
    *mask = 0;
    for (uint32_t i = 0; i < it.n; i++) {
        const char *m = it.v[i].text;
        sw_method id = strcmp(m, "OTHER") == 0 ? SW_METHOD_OTHER : sw_method_lookup(m, strlen(m));
        if (id == SW_METHOD_OTHER && strcmp(m, "OTHER") != 0) {
            pl_error(ps->b, it.v[i].loc,
                     "unknown method '%s' (methods are upper case; OTHER means extension "
                     "methods)",
                     m);
            rc = -1;
            continue;
        }
        *mask |= 1u << id;
    }
    pl_items_free(&it);
    return rc;
}

static int take_plmn(parser *ps, char out[8])
{
    tok *t = take_value(ps, "MCC-MNC");
    if (!t)
        return fail(ps);
    if (!sw__plmn_valid(t->text)) {
        err_at(ps, t, "bad PLMN '%s' (MCC-MNC: 3 digits, '-', 2 or 3 digits)", t->text);
        return fail(ps);
    }
    snprintf(out, 8, "%s", t->text);
    return end_stmt(ps, "plmn");
}

/* ---- blocks ------------------------------------------------------------------------- */
typedef struct kw {
    char s[64];
    pl_loc loc;
} kw;

typedef void (*stmt_fn)(parser *ps, const kw *k, void *ctx);

static void unknown_setting(parser *ps, const kw *k, const char *block, const char *known)
{
    pl_error(ps->b, k->loc, "unknown setting '%s' in %s (%s)", k->s, block, known);
    skip_stmt(ps);
}

/* `{ stmt; stmt … }`: calls fn for each statement (fn consumes it up to its end). */
static int parse_block(parser *ps, const char *what, stmt_fn fn, void *ctx)
{
    tok *t = peek(ps);
    if (t->t != T_LBRACE) {
        char d[80];
        describe(t, d, sizeof d);
        err_at(ps, t, "expected '{' after %s, found %s", what, d);
        skip_stmt(ps);
        return -1;
    }
    next(ps);
    pl_loc open = tok_loc(ps, &ps->cur);
    for (;;) {
        t = peek(ps);
        if (t->t == T_NL || t->t == T_SEMI) {
            next(ps);
            continue;
        }
        if (t->t == T_RBRACE) {
            next(ps);
            return 0;
        }
        if (t->t == T_EOF) {
            pl_error(ps->b, open, "unterminated block: the '{' of %s is never closed", what);
            return -1;
        }
        if (t->t == T_WORD) {
            next(ps);
            kw k;
            snprintf(k.s, sizeof k.s, "%s", ps->cur.text);
            k.loc = tok_loc(ps, &ps->cur);
            fn(ps, &k, ctx);
            continue;
        }
        char d[80];
        describe(t, d, sizeof d);
        err_at(ps, t, "unexpected %s in %s", d, what);
        if (t->t == T_LBRACE || t->t == T_ERROR || t->t == T_COMMA || t->t == T_OP ||
            t->t == T_STRING || t->t == T_LPAREN || t->t == T_RPAREN)
            next(ps);
        skip_stmt(ps);
    }
}

/* ---- home -------------------------------------------------------------------------- */
static void home_stmt(parser *ps, const kw *k, void *ctx)
{
    pl_home *h = ctx;
    if (strcmp(k->s, "plmn") == 0) {
        take_plmn(ps, h->plmn);
    } else if (strcmp(k->s, "country-code") == 0) {
        tok *t = take_value(ps, "a country code");
        if (!t) {
            fail(ps);
            return;
        }
        size_t n = strlen(t->text);
        uint64_t v;
        if (n < 1 || n > 3 || t->text[0] == '0' || sw__parse_uint(t->text, 999, &v) != 0) {
            err_at(ps, t, "bad country code '%s' (1 to 3 digits, e.g. 44)", t->text);
            fail(ps);
            return;
        }
        snprintf(h->cc, sizeof h->cc, "%s", t->text);
        end_stmt(ps, "country-code");
    } else if (strcmp(k->s, "national-prefix") == 0) {
        tok *t = take_value(ps, "a trunk prefix digit");
        if (!t) {
            fail(ps);
            return;
        }
        if (strlen(t->text) != 1 || t->text[0] < '0' || t->text[0] > '9') {
            err_at(ps, t, "bad national prefix '%s' (one digit, e.g. 0)", t->text);
            fail(ps);
            return;
        }
        h->np = (uint8_t)t->text[0];
        end_stmt(ps, "national-prefix");
    } else if (strcmp(k->s, "ranges") == 0) {
        uint32_t from = h->ranges.n;
        if (take_values(ps, &h->ranges, "number ranges") > 0)
            check_numbers(ps, &h->ranges, from, "range");
    } else if (strcmp(k->s, "domains") == 0) {
        take_values(ps, &h->domains, "domains");
    } else {
        unknown_setting(ps, k, "home", "plmn, country-code, national-prefix, ranges, domains");
    }
}

static void parse_home(parser *ps, pl_loc at)
{
    pl_build *b = ps->b;
    pl_home h;
    memset(&h, 0, sizeof h);
    h.present = 1;
    h.loc = at;
    parse_block(ps, "home", home_stmt, &h);
    if (b->home.present && b->home.loc.file == ps->file) {
        pl_error(b, at, "home is defined twice in this file (first at line %u)", b->home.loc.line);
        home_free(&h);
        return;
    }
    home_free(&b->home);
    b->home = h;
}

/* ---- roles -------------------------------------------------------------------------- */
static int role_lookup(const char *name, sw_peer_role *out)
{
    for (int r = 1; r < SW_ROLE__COUNT; r++)
        if (strcmp(name, sw_peer_role_name((sw_peer_role)r)) == 0) {
            *out = (sw_peer_role)r;
            return 0;
        }
    return -1;
}

static const char role_names[] = "roaming | interconnect | transit | enterprise | core";

static void role_stmt(parser *ps, const kw *k, void *ctx)
{
    pl_role *r = ctx;
    if (strcmp(k->s, "methods") == 0) {
        if (take_methods(ps, &r->methods) == 0)
            r->has_methods = 1;
    } else if (strcmp(k->s, "trust") == 0) {
        int v;
        if (take_choice(ps, "trust", trusts, &v) == 0) {
            r->has_trust = 1;
            r->trusted = (uint8_t)v;
        }
    } else {
        unknown_setting(ps, k, "role", "methods, trust");
    }
}

static void parse_role(parser *ps, pl_loc at)
{
    tok *t = take_word(ps, "a role name");
    if (!t) {
        fail(ps);
        return;
    }
    sw_peer_role role;
    if (role_lookup(t->text, &role) != 0) {
        err_at(ps, t, "unknown role '%s' (%s)", t->text, role_names);
        fail(ps);
        return;
    }
    pl_role r;
    memset(&r, 0, sizeof r);
    r.present = 1;
    r.loc = at;
    parse_block(ps, "role", role_stmt, &r);
    pl_role *old = &ps->b->roles[role];
    if (old->present && old->loc.file == ps->file) {
        pl_error(ps->b, at, "role %s is defined twice in this file (first at line %u)",
                 sw_peer_role_name(role), old->loc.line);
        return;
    }
    *old = r;
}

/* ---- partners and zones ------------------------------------------------------------ */
static void peer_stmt(parser *ps, const kw *k, void *ctx)
{
    pl_peer *p = ctx;
    const char *s = k->s;
    if (strcmp(s, "trust") == 0) {
        int v;
        if (take_choice(ps, "trust", trusts, &v) == 0) {
            p->has_trust = 1;
            p->trusted = (uint8_t)v;
        }
    } else if (strcmp(s, "address") == 0 || strcmp(s, "addresses") == 0) {
        uint32_t from = p->addresses.n;
        if (take_values(ps, &p->addresses, "addresses") > 0)
            check_addresses(ps, &p->addresses, from);
    } else if (p->is_zone) {
        if (strcmp(s, "admit") == 0) {
            static const char *const admits[] = {"screen", "drop", NULL};
            int v;
            if (take_choice(ps, "admit", admits, &v) == 0)
                p->admit = (sw_admit)v;
        } else if (strcmp(s, "mode") == 0) {
            int v;
            if (take_choice(ps, "mode", modes, &v) == 0)
                p->admit_monitor = (uint8_t)v;
        } else {
            unknown_setting(ps, k, "zone", "admit, mode, trust, address");
        }
    } else if (strcmp(s, "role") == 0) {
        tok *t = take_word(ps, "a role");
        if (!t) {
            fail(ps);
            return;
        }
        if (role_lookup(t->text, &p->role) != 0) {
            err_at(ps, t, "unknown role '%s' (%s)", t->text, role_names);
            fail(ps);
            return;
        }
        end_stmt(ps, "role");
    } else if (strcmp(s, "tls-identity") == 0) {
        take_values(ps, &p->tls_ids, "TLS identities");
    } else if (strcmp(s, "ranges") == 0) {
        uint32_t from = p->ranges.n;
        if (take_values(ps, &p->ranges, "number ranges") > 0)
            check_numbers(ps, &p->ranges, from, "range");
    } else if (strcmp(s, "domains") == 0) {
        take_values(ps, &p->domains, "domains");
    } else if (strcmp(s, "realms") == 0) {
        take_values(ps, &p->realms, "realms");
    } else if (strcmp(s, "plmn") == 0) {
        take_plmn(ps, p->plmn);
    } else if (strcmp(s, "cps") == 0 || strcmp(s, "concurrency") == 0) {
        uint64_t v;
        if (take_uint(ps, s, 0, UINT32_MAX, &v) == 0)
            *(s[0] == 'c' && s[1] == 'p' ? &p->cps : &p->concurrency) = (uint32_t)v;
    } else if (strcmp(s, "methods") == 0) {
        if (take_methods(ps, &p->methods) == 0)
            p->has_methods = 1;
    } else if (strcmp(s, "agreed") == 0) {
        take_headers(ps, "agreed", &p->agreed, &p->agreed_names, &p->nagreed_names);
    } else if (strcmp(s, "night-calls") == 0) {
        take_bool(ps, "night-calls", &p->night_calls);
    } else if (strcmp(s, "register") == 0) {
        uint32_t from = p->registers.n;
        if (take_values(ps, &p->registers, "AoRs (user@domain) or domains") > 0)
            check_aors(ps, &p->registers, from);
    } else {
        unknown_setting(ps, k, "partner",
                        "role, trust, address, tls-identity, ranges, domains, realms, plmn, "
                        "cps, concurrency, methods, agreed, register, night-calls");
    }
}

static void parse_peer(parser *ps, pl_loc at, int is_zone)
{
    pl_build *b = ps->b;
    tok *t = take_value(ps, is_zone ? "a zone name" : "a partner name");
    if (!t) {
        fail(ps);
        return;
    }
    pl_peer *p = calloc(1, sizeof *p);
    if (!p) {
        b->oom = 1;
        fail(ps);
        return;
    }
    p->name = dupstr(b, t->text);
    p->is_zone = is_zone;
    p->loc = at;
    p->role = is_zone ? SW_ROLE_UNKNOWN : SW_ROLE_INTERCONNECT;
    if (!p->name || !p->name[0]) {
        if (p->name)
            err_at(ps, t, "empty name");
        peer_free(p);
        fail(ps);
        return;
    }
    parse_block(ps, is_zone ? "zone" : "partner", peer_stmt, p);
    if (!b->peer_names && !(b->peer_names = sw__name_index_new(&b->name_compares))) {
        b->oom = 1;
        peer_free(p);
        return;
    }
    uint32_t i;
    if (sw__name_index_get(b->peer_names, p->name, &i) && i < b->npeers) {
        pl_peer *o = b->peers[i];
        if (o->loc.file == ps->file) {
            pl_error(b, at, "%s '%s' is defined twice in this file (first at line %u)",
                     o->is_zone ? "zone" : "partner", p->name, o->loc.line);
            peer_free(p);
            return;
        }
        /* a later file redefines it; it keeps its place (the index takes
         * the new name before the old one is freed) */
        if (sw__name_index_put(b->peer_names, p->name, i) != SW_OK) {
            b->oom = 1;
            peer_free(p);
            return;
        }
        peer_free(o);
        b->peers[i] = p;
        return;
    }
    pl_peer **v = grow_array(b, b->peers, &b->cappeers, b->npeers, sizeof *v);
    if (!v || sw__name_index_put(b->peer_names, p->name, b->npeers) != SW_OK) {
        if (v)
            b->peers = v;
        b->oom = 1;
        peer_free(p);
        return;
    }
    b->peers = v;
    b->peers[b->npeers++] = p;
}

/* ---- lists -------------------------------------------------------------------------- */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* TSV: entry <TAB> label; '#' comment lines; a first line whose entry is not
 * valid is a header. */
static void read_list_file(parser *ps, pl_list *l, const char *rel, pl_loc at)
{
    pl_build *b = ps->b;
    char *path = sw__path_join_dir(ps->dir, rel);
    if (!path) {
        b->oom = 1;
        return;
    }
    char *text = NULL;
    size_t len = 0;
    errno = 0;
    int rc = pl_read(b, path, 1, &text, &len);
    if (rc != SW_OK) {
        pl_error(b, at, "cannot read list file '%s': %s", path,
                 rc == SW_ELIMIT   ? "larger than 16 MiB"
                 : rc == SW_ENOMEM ? "out of memory"
                                   : strerror(errno ? errno : EIO));
        b->io_error = 1;
        free(path);
        return;
    }
    uint32_t fidx = pl_add_file(b, path);
    free(path);
    uint32_t line = 0;
    int first = 1;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        line++;
        pl_loc loc = {fidx, line, 1};
        size_t n = (size_t)(eol - p);
        if (n > SW_POLICY_MAX_LINE) {
            pl_error(b, loc, "line longer than %u bytes", SW_POLICY_MAX_LINE);
            p = eol + (nl ? 1 : 0);
            first = 0;
            continue;
        }
        if (memchr(p, '\0', n)) {
            pl_error(b, loc, "NUL byte in list file");
            p = eol + (nl ? 1 : 0);
            first = 0;
            continue;
        }
        *eol = '\0';
        char *s = trim(p);
        p = eol + (nl ? 1 : 0);
        if (*s == '\0' || *s == '#')
            continue;
        char *tab = strchr(s, '\t');
        char *label = NULL;
        if (tab) {
            *tab = '\0';
            label = tab + 1;
            char *tab2 = strchr(label, '\t');
            if (tab2)
                *tab2 = '\0';
            label = trim(label);
            if (!*label)
                label = NULL;
        }
        s = trim(s);
        const char *why = entry_problem(l->kind, s);
        if (why) {
            if (!first)
                pl_error(b, loc, "bad entry '%.80s' in %s list '%s': %s", s,
                         list_kinds[l->kind], l->name, why);
            first = 0; /* a bad first line is a header */
            continue;
        }
        first = 0;
        if (items_add(b, &l->entries, s, label, loc) != 0)
            break;
    }
    free(text);
}

static void parse_list(parser *ps, pl_loc at)
{
    pl_build *b = ps->b;
    tok *t = take_word(ps, "a list name");
    if (!t) {
        fail(ps);
        return;
    }
    pl_list *l = calloc(1, sizeof *l);
    if (!l) {
        b->oom = 1;
        fail(ps);
        return;
    }
    l->name = dupstr(b, t->text);
    l->loc = at;
    if (!l->name) {
        list_free(l);
        fail(ps);
        return;
    }
    int kind;
    t = take_word(ps, "a list kind (numbers, addresses, strings, patterns)");
    int bad = !t;
    if (t) {
        for (kind = 0; list_kinds[kind]; kind++)
            if (strcmp(t->text, list_kinds[kind]) == 0)
                break;
        if (!list_kinds[kind]) {
            err_at(ps, t, "unknown list kind '%s' (numbers, addresses, strings, patterns)",
                   t->text);
            bad = 1;
        } else {
            l->kind = (sw_list_kind)kind;
        }
    }
    if (!bad) {
        tok *s = peek(ps);
        if (s->t == T_LBRACE) {
            bad = take_brace_items(ps, &l->entries) != 0;
            if (!bad) {
                for (uint32_t i = 0; i < l->entries.n; i++) {
                    const char *why = entry_problem(l->kind, l->entries.v[i].text);
                    if (why)
                        pl_error(b, l->entries.v[i].loc, "bad entry '%.80s' in %s list '%s': %s",
                                 l->entries.v[i].text, list_kinds[l->kind], l->name, why);
                }
                bad = end_stmt(ps, "the list") != 0;
            }
        } else if (is_kw(s, "file")) {
            next(ps);
            tok *f = take_value(ps, "a file name");
            if (!f) {
                bad = 1;
            } else {
                pl_loc floc = tok_loc(ps, f);
                char *rel = dupstr(b, f->text);
                if (rel && end_stmt(ps, "the list file") == 0)
                    read_list_file(ps, l, rel, floc);
                free(rel);
            }
        } else {
            err_unexpected(ps, s, "'{' or file \"NAME\"");
            bad = 1;
        }
    }
    if (bad)
        skip_stmt(ps);
    if (!b->list_names && !(b->list_names = sw__name_index_new(&b->name_compares))) {
        b->oom = 1;
        list_free(l);
        return;
    }
    uint32_t i;
    if (sw__name_index_get(b->list_names, l->name, &i) && i < b->nlists) {
        pl_list *o = b->lists[i];
        if (o->loc.file == ps->file) {
            pl_error(b, at, "list '%s' is defined twice in this file (first at line %u)",
                     l->name, o->loc.line);
            list_free(l);
            return;
        }
        if (sw__name_index_put(b->list_names, l->name, i) != SW_OK) {
            b->oom = 1;
            list_free(l);
            return;
        }
        list_free(o);
        b->lists[i] = l;
        return;
    }
    pl_list **v = grow_array(b, b->lists, &b->caplists, b->nlists, sizeof *v);
    if (!v || sw__name_index_put(b->list_names, l->name, b->nlists) != SW_OK) {
        if (v)
            b->lists = v;
        b->oom = 1;
        list_free(l);
        return;
    }
    b->lists = v;
    b->lists[b->nlists++] = l;
}

/* ---- actions -------------------------------------------------------------------------- */
/* allow | tag | drop | reject CODE [retry-after N] | rate-limit N/s [burst M] | strip HDR… */
static int parse_action(parser *ps, sw_rule_action *a, int detector)
{
    tok *t = take_word(ps, "an action");
    if (!t)
        return fail(ps);
    int64_t block_ns = a->block_ns; /* set by its own statement */
    pl_rule_action_clear(a);
    a->block_ns = block_ns;
    const char *w = t->text;
    if (strcmp(w, "allow") == 0 && !detector) {
        a->action = SW_ACTION_ALLOW;
    } else if (strcmp(w, "tag") == 0) {
        a->action = SW_ACTION_TAG;
    } else if (strcmp(w, "drop") == 0) {
        a->action = SW_ACTION_DROP;
    } else if (strcmp(w, "reject") == 0) {
        a->action = SW_ACTION_REJECT;
        tok *c = take_value(ps, "a SIP status code (400-699)");
        uint64_t code;
        if (!c)
            return fail(ps);
        if (sw__parse_uint(c->text, 999, &code) != 0 || code < 400 || code > 699) {
            err_at(ps, c, "status code '%s' is outside 400-699", c->text);
            return fail(ps);
        }
        a->status = (uint16_t)code;
        if (is_kw(peek(ps), "retry-after")) {
            next(ps);
            tok *r = take_value(ps, "seconds");
            uint64_t secs;
            int64_t ns;
            if (!r)
                return fail(ps);
            if (sw__parse_uint(r->text, 86400 * 7, &secs) == 0) {
                a->retry_after_s = (uint32_t)secs;
            } else if (sw__parse_duration(r->text, &ns) == 0 && ns <= 86400 * 7 * SW_NS_S) {
                a->retry_after_s = (uint32_t)(ns / SW_NS_S);
            } else {
                err_at(ps, r, "bad retry-after '%s' (seconds)", r->text);
                return fail(ps);
            }
        }
    } else if (strcmp(w, "rate-limit") == 0 && !detector) {
        a->action = SW_ACTION_RATE_LIMIT;
        tok *r = take_value(ps, "a rate N/s");
        if (!r)
            return fail(ps);
        char buf[32];
        snprintf(buf, sizeof buf, "%s", r->text);
        size_t n = strlen(buf);
        if (n > 2 && strcmp(buf + n - 2, "/s") == 0)
            buf[n - 2] = '\0';
        uint64_t rate;
        if (sw__parse_uint(buf, UINT32_MAX, &rate) != 0 || rate == 0) {
            err_at(ps, r, "bad rate '%s' (messages per second, e.g. 20/s)", r->text);
            return fail(ps);
        }
        a->rate = (uint32_t)rate;
        a->burst = (uint32_t)rate;
        if (is_kw(peek(ps), "burst")) {
            next(ps);
            tok *bt = take_value(ps, "a burst size");
            uint64_t burst;
            if (!bt)
                return fail(ps);
            if (sw__parse_uint(bt->text, UINT32_MAX, &burst) != 0 || burst == 0) {
                err_at(ps, bt, "bad burst '%s' (a positive number)", bt->text);
                return fail(ps);
            }
            a->burst = (uint32_t)burst;
        }
    } else if (strcmp(w, "strip") == 0 && !detector) {
        a->action = SW_ACTION_STRIP;
        return take_headers(ps, "strip", &a->strip, &a->strip_names, &a->nstrip_names);
    } else {
        err_at(ps, t, "unknown action '%s' (%s)", w,
               detector ? "tag, drop, reject CODE"
                        : "allow, tag, drop, reject CODE, rate-limit N/s, strip HEADER...");
        return fail(ps);
    }
    return end_stmt(ps, "the action");
}

/* ---- privacy, limits ------------------------------------------------------------------- */
static void privacy_stmt(parser *ps, const kw *k, void *ctx)
{
    sw_privacy *p = ctx;
    if (strcmp(k->s, "egress-strip") == 0) {
        take_headers(ps, "egress-strip", &p->egress_strip, &p->egress_strip_names,
                     &p->negress_strip_names);
    } else if (strcmp(k->s, "ingress-strip") == 0) {
        take_headers(ps, "ingress-strip", &p->ingress_strip, &p->ingress_strip_names,
                     &p->ningress_strip_names);
    } else if (strcmp(k->s, "sanitize") == 0) {
        take_headers(ps, "sanitize", &p->sanitize, &p->sanitize_names, &p->nsanitize_names);
    } else if (strcmp(k->s, "ingress-action") == 0) {
        static const char *const acts[] = {"strip", "reject", NULL};
        int v;
        if (take_choice(ps, "ingress-action", acts, &v) == 0)
            p->ingress_reject = (uint8_t)v;
    } else if (strcmp(k->s, "mode") == 0) {
        int v;
        if (take_choice(ps, "mode", modes, &v) == 0)
            p->monitor = (uint8_t)v;
    } else {
        unknown_setting(ps, k, "privacy", "egress-strip, ingress-strip, sanitize, "
                                          "ingress-action, mode");
    }
}

static void limits_stmt(parser *ps, const kw *k, void *ctx)
{
    sw_engine_limits *l = ctx;
    static const struct {
        const char *name;
        size_t off;
    } counts[] = {
        {"sources", offsetof(sw_engine_limits, sources)},
        {"numbers", offsetof(sw_engine_limits, numbers)},
        {"dialogs", offsetof(sw_engine_limits, dialogs)},
        {"blocks", offsetof(sw_engine_limits, blocks)},
        {"event-keys", offsetof(sw_engine_limits, event_keys)},
        {"events-per-key", offsetof(sw_engine_limits, events_per_key)},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        if (strcmp(k->s, counts[i].name) != 0)
            continue;
        uint64_t v;
        if (take_uint(ps, counts[i].name, 1, 1u << 26, &v) == 0) {
            uint32_t v32 = (uint32_t)v;
            memcpy((char *)l + counts[i].off, &v32, sizeof v32);
        }
        return;
    }
    if (strcmp(k->s, "event-window") == 0) {
        int64_t ns;
        if (take_duration(ps, "event-window", &ns) == 0) {
            if (ns <= 0) {
                pl_error(ps->b, k->loc, "event-window must be longer than 0");
                return;
            }
            l->event_window_ns = ns;
        }
        return;
    }
    unknown_setting(ps, k, "limits", "sources, numbers, dialogs, blocks, event-keys, "
                                     "events-per-key, event-window");
}

static void parse_privacy(parser *ps, pl_loc at)
{
    pl_privacy p;
    memset(&p, 0, sizeof p);
    p.present = 1;
    p.loc = at;
    parse_block(ps, "privacy", privacy_stmt, &p.p);
    if (ps->b->privacy.present && ps->b->privacy.loc.file == ps->file) {
        pl_error(ps->b, at, "privacy is defined twice in this file (first at line %u)",
                 ps->b->privacy.loc.line);
        pl_privacy_clear(&p.p);
        return;
    }
    pl_privacy_clear(&ps->b->privacy.p);
    ps->b->privacy = p;
}

static void parse_limits(parser *ps, pl_loc at)
{
    pl_limits l;
    memset(&l, 0, sizeof l);
    l.present = 1;
    l.loc = at;
    sw__policy_limits_defaults(&l.l);
    parse_block(ps, "limits", limits_stmt, &l.l);
    if (ps->b->limits.present && ps->b->limits.loc.file == ps->file) {
        pl_error(ps->b, at, "limits is defined twice in this file (first at line %u)",
                 ps->b->limits.loc.line);
        return;
    }
    ps->b->limits = l;
}

/* ---- detectors ---------------------------------------------------------------------- */
typedef struct det_ctx {
    sw_detector_id id;
    pl_detector d;
} det_ctx;

static void detector_stmt(parser *ps, const kw *k, void *ctx)
{
    det_ctx *dc = ctx;
    sw_detector_conf *c = &dc->d.conf;
    const sw_detector_param_spec *spec = sw_detector_param_lookup(dc->id, k->s);
    if (spec) {
        tok *t = take_value(ps, k->s);
        if (!t) {
            fail(ps);
            return;
        }
        int64_t v = 0;
        uint64_t u;
        const char *text = t->text;
        switch ((sw_param_kind)spec->kind) {
        case SW_PK_DURATION:
            if (sw__parse_duration(text, &v) != 0) {
                err_at(ps, t, "bad duration '%s' for %s (a number with ms, s, m, h or d)", text,
                       k->s);
                fail(ps);
                return;
            }
            break;
        case SW_PK_PERCENT: {
            char buf[32];
            snprintf(buf, sizeof buf, "%s", text);
            size_t n = strlen(buf);
            /* ratios are at most 100%; factors (peer-cps-factor) may exceed it */
            uint64_t max = strstr(spec->name, "factor") ? 10000 : 100;
            int ok = n >= 2 && buf[n - 1] == '%';
            if (ok) {
                buf[n - 1] = '\0';
                ok = sw__parse_uint(buf, max, &u) == 0;
            }
            if (!ok) {
                err_at(ps, t, "bad percentage '%s' for %s (0%% to %llu%%, e.g. 70%%)", text, k->s,
                       (unsigned long long)max);
                fail(ps);
                return;
            }
            v = (int64_t)u;
            break;
        }
        case SW_PK_DIGITS:
            if (sw__parse_uint(text, 15, &u) != 0 || u == 0) {
                err_at(ps, t, "bad digit count '%s' for %s (1 to 15)", text, k->s);
                fail(ps);
                return;
            }
            v = (int64_t)u;
            break;
        case SW_PK_HOURS: {
            /* "22-06": two hours 0-23 */
            unsigned from, to;
            int used = 0;
            if (sscanf(text, "%2u-%2u%n", &from, &to, &used) != 2 || text[used] != '\0' ||
                strspn(text, "0123456789-") != strlen(text) || from > 23 || to > 23) {
                err_at(ps, t, "bad hours '%s' for %s (FROM-TO, hours 0 to 23, e.g. 22-06)", text,
                       k->s);
                fail(ps);
                return;
            }
            v = (int64_t)from * 100 + to;
            break;
        }
        case SW_PK_DAYS: {
            /* "sat-sun", "fri-mon", "sun-sun", "none" */
            int from = -1, to = -1;
            if (strlen(text) == 7 && text[3] == '-')
                for (int i = 0; i < 7; i++) {
                    if (strncmp(text, sw_weekday_names[i], 3) == 0)
                        from = i;
                    if (strcmp(text + 4, sw_weekday_names[i]) == 0)
                        to = i;
                }
            if (strcmp(text, "none") == 0)
                v = 0;
            else if (from >= 0 && to >= 0)
                v = 100 + from * 10 + to;
            else {
                err_at(ps, t, "bad days '%s' for %s (FROM-TO of mon..sun, e.g. sat-sun, or none)",
                       text, k->s);
                fail(ps);
                return;
            }
            break;
        }
        case SW_PK_OFFSET: {
            /* "+01:00", "-05:30", "+02", "0" */
            unsigned hh = 0, mm = 0;
            int used = 0, ok = 0;
            if (strcmp(text, "0") == 0)
                ok = 1;
            else if ((text[0] == '+' || text[0] == '-') && isdigit((unsigned char)text[1]) &&
                     strspn(text + 1, "0123456789:") == strlen(text + 1)) {
                if (sscanf(text + 1, "%2u:%2u%n", &hh, &mm, &used) == 2 && text[1 + used] == '\0')
                    ok = 1;
                else if (sscanf(text + 1, "%2u%n", &hh, &used) == 1 && text[1 + used] == '\0')
                    ok = 1, mm = 0;
                ok = ok && mm < 60 && hh * 60 + mm <= 14 * 60;
            }
            if (!ok) {
                err_at(ps, t, "bad UTC offset '%s' for %s (+HH:MM or -HH:MM, at most 14 h)", text,
                       k->s);
                fail(ps);
                return;
            }
            v = (int64_t)(hh * 60 + mm) * (text[0] == '-' ? -1 : 1);
            break;
        }
        case SW_PK_COUNT:
        default:
            if (sw__parse_uint(text, INT32_MAX, &u) != 0) {
                err_at(ps, t, "bad count '%s' for %s (a whole number)", text, k->s);
                fail(ps);
                return;
            }
            v = (int64_t)u;
            break;
        }
        if (end_stmt(ps, k->s) == 0)
            c->params[spec->param] = v;
        return;
    }
    if (strcmp(k->s, "action") == 0) {
        sw_rule_action a;
        memset(&a, 0, sizeof a);
        if (parse_action(ps, &a, 1) == 0) {
            c->action = a.action;
            c->status = a.status;
            c->retry_after_s = a.retry_after_s;
        }
        pl_rule_action_clear(&a);
    } else if (strcmp(k->s, "mode") == 0) {
        int v;
        if (take_choice(ps, "mode", modes, &v) == 0)
            c->monitor = (uint8_t)v;
    } else if (strcmp(k->s, "confidence") == 0) {
        uint64_t v;
        if (take_uint(ps, "confidence", 0, 100, &v) == 0)
            c->confidence = (uint8_t)v;
    } else if (strcmp(k->s, "exempt-peers") == 0) {
        take_bool(ps, "exempt-peers", &c->exempt_peers);
    } else if (strcmp(k->s, "enabled") == 0) {
        take_bool(ps, "enabled", &c->enabled);
    } else if (strcmp(k->s, "off") == 0 || strcmp(k->s, "on") == 0) {
        if (end_stmt(ps, k->s) == 0)
            c->enabled = k->s[1] == 'n';
    } else if (strcmp(k->s, "list") == 0) {
        tok *t = take_word(ps, "a list name");
        if (!t) {
            fail(ps);
            return;
        }
        free(dc->d.list_name);
        dc->d.list_name = dupstr(ps->b, t->text);
        dc->d.list_loc = tok_loc(ps, t);
        end_stmt(ps, "list");
    } else {
        char known[512] = "action, mode, confidence, exempt-peers, list, off, enabled";
        unsigned n;
        const sw_detector_param_spec *all = sw_detector_params(&n);
        for (unsigned i = 0; i < n; i++) {
            if (all[i].detector != dc->id)
                continue;
            size_t l = strlen(known);
            snprintf(known + l, sizeof known - l, ", %s", all[i].name);
        }
        unknown_setting(ps, k, "detector", known);
    }
}

static void parse_detector(parser *ps, pl_loc at)
{
    tok *t = take_word(ps, "a detector name");
    if (!t) {
        fail(ps);
        return;
    }
    det_ctx dc;
    memset(&dc, 0, sizeof dc);
    if (sw_detector_lookup(t->text, &dc.id) != 0) {
        char names[256] = "";
        for (unsigned d = 0; d < SW_DET__COUNT; d++) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", d ? ", " : "",
                     sw_detector_name((sw_detector_id)d));
        }
        err_at(ps, t, "unknown detector '%s' (%s)", t->text, names);
        fail(ps);
        return;
    }
    dc.d.present = 1;
    dc.d.loc = at;
    sw__policy_detector_defaults(&dc.d.conf, dc.id);
    dc.d.conf.line = at.line;
    parse_block(ps, "detector", detector_stmt, &dc);
    pl_detector *old = &ps->b->detectors[dc.id];
    if (old->present && old->loc.file == ps->file) {
        pl_error(ps->b, at, "detector %s is defined twice in this file (first at line %u)",
                 sw_detector_name(dc.id), old->loc.line);
        free(dc.d.list_name);
        return;
    }
    free(old->list_name);
    *old = dc.d;
}

/* ---- conditions ---------------------------------------------------------------------- */
static const char *const field_names[SW_F__COUNT] = {
#define SW__FNAME(id, name, type) name,
    SW_FIELD_LIST(SW__FNAME)
#undef SW__FNAME
};

static int32_t expr_new(parser *ps, pl_xop op, const tok *at)
{
    pl_build *b = ps->b;
    if (b->nexprs - ps->expr_first >= MAX_COND_NODES) {
        err_at(ps, at, "condition too complex (more than %d terms)", MAX_COND_NODES);
        return -1;
    }
    pl_expr *v = grow_array(b, b->exprs, &b->capexprs, b->nexprs, sizeof *v);
    if (!v)
        return -1;
    b->exprs = v;
    pl_expr *e = &v[b->nexprs];
    memset(e, 0, sizeof *e);
    e->op = (uint8_t)op;
    e->a = e->b = -1;
    e->loc = tok_loc(ps, at);
    e->val_loc = e->loc;
    return (int32_t)b->nexprs++;
}

static int32_t p_or(parser *ps);

static const struct {
    const char *name;
    sw_set_ref ref;
} set_refs[] = {
    {"peer.ranges", SW_SET_PEER_RANGES},   {"peer.domains", SW_SET_PEER_DOMAINS},
    {"peer.realms", SW_SET_PEER_REALMS},   {"peer.methods", SW_SET_PEER_METHODS},
    {"dst.ranges", SW_SET_DST_RANGES},     {"dst.domains", SW_SET_DST_DOMAINS},
    {"home.ranges", SW_SET_HOME_RANGES},   {"home.domains", SW_SET_HOME_DOMAINS},
};

/* The set after `in` into node e. */
static int parse_set(parser *ps, int32_t e)
{
    pl_build *b = ps->b;
    tok *t = peek(ps);
    b->exprs[e].set = SW_SET_LIST;
    b->exprs[e].val_loc = tok_loc(ps, t);
    if (t->t == T_LBRACE) {
        b->exprs[e].inline_set = 1;
        pl_items items = {0};
        int rc = take_brace_items(ps, &items);
        b->exprs[e].items = items; /* freed with the node even on errors */
        return rc;
    }
    if (is_kw(t, "list")) {
        next(ps);
        t = take_word(ps, "a list name");
        if (!t)
            return -1;
        b->exprs[e].str = dupstr(b, t->text);
        b->exprs[e].val_loc = tok_loc(ps, t);
        return b->exprs[e].str ? 0 : -1;
    }
    if (t->t != T_WORD)
        return err_unexpected(ps, t, "a set: { … }, list NAME, or peer.ranges and the like");
    next(ps);
    for (size_t i = 0; i < sizeof set_refs / sizeof set_refs[0]; i++)
        if (strcmp(ps->cur.text, set_refs[i].name) == 0) {
            b->exprs[e].set = (uint8_t)set_refs[i].ref;
            return 0;
        }
    b->exprs[e].str = dupstr(b, ps->cur.text);
    return b->exprs[e].str ? 0 : -1;
}

static int text_field(parser *ps, const tok *at, sw_field f, const char *op)
{
    sw_field_type ft = sw_field_type_of(f);
    if (ft == SW_FT_STR || ft == SW_FT_PHONE)
        return 0;
    return err_at(ps, at, "'%s' needs a text field; '%s' is %s", op, field_names[f],
                  ft == SW_FT_NUM ? "a number" : ft == SW_FT_BOOL ? "true/false" : "an address");
}

static int parse_match(parser *ps, int32_t e, const tok *optok)
{
    pl_build *b = ps->b;
    if (text_field(ps, optok, (sw_field)b->exprs[e].field, "matches") != 0)
        return -1;
    tok *t = peek(ps);
    if (is_kw(t, "list")) {
        next(ps);
        t = take_word(ps, "a patterns list name");
        if (!t)
            return -1;
        b->exprs[e].op = PX_MATCH_LIST;
    } else if (t->t == T_STRING) {
        next(ps);
        b->exprs[e].op = PX_MATCH_RE;
    } else {
        return err_unexpected(ps, t, "\"regex\" or list NAME");
    }
    b->exprs[e].str = dupstr(b, ps->cur.text);
    b->exprs[e].val_loc = tok_loc(ps, &ps->cur);
    return b->exprs[e].str ? 0 : -1;
}

static int parse_cmp_value(parser *ps, int32_t e, const tok *optok)
{
    pl_build *b = ps->b;
    sw_field f = (sw_field)b->exprs[e].field;
    sw_field_type ft = sw_field_type_of(f);
    int cmp = b->exprs[e].cmp;
    if (ft == SW_FT_ADDR)
        return err_at(ps, optok, "'%s' is an address: test it with 'in' and a set of CIDRs",
                      field_names[f]);
    if (ft != SW_FT_NUM && cmp != SW_CMP_EQ && cmp != SW_CMP_NE)
        return err_at(ps, optok, "'%s' needs a number field; '%s' is %s", optok->text,
                      field_names[f], ft == SW_FT_BOOL ? "true/false" : "text");
    tok *t = take_value(ps, "a value to compare with");
    if (!t)
        return -1;
    b->exprs[e].val_loc = tok_loc(ps, t);
    if (ft == SW_FT_NUM) {
        const char *s = t->text;
        int neg = s[0] == '-';
        uint64_t u;
        if (t->t != T_WORD || sw__parse_uint(s + neg, INT64_MAX, &u) != 0)
            return err_at(ps, t, "'%s' is not a number ('%s' is a number field)", s,
                          field_names[f]);
        b->exprs[e].num = neg ? -(int64_t)u : (int64_t)u;
        return 0;
    }
    if (ft == SW_FT_BOOL) {
        if (t->t == T_WORD && strcmp(t->text, "true") == 0)
            b->exprs[e].num = 1;
        else if (t->t == T_WORD && strcmp(t->text, "false") == 0)
            b->exprs[e].num = 0;
        else
            return err_at(ps, t, "'%s' is true or false, not '%s'", field_names[f], t->text);
        return 0;
    }
    b->exprs[e].str = dupstr(b, t->text);
    return b->exprs[e].str ? 0 : -1;
}

static int32_t wrap_not(parser *ps, int32_t inner, const tok *at)
{
    int32_t n = expr_new(ps, PX_NOT, at);
    if (n < 0)
        return -1;
    ps->b->exprs[n].a = inner;
    return n;
}

static int32_t p_primary(parser *ps)
{
    pl_build *b = ps->b;
    tok *t = peek(ps);
    if (t->t == T_LPAREN) {
        next(ps);
        if (++ps->nest > MAX_NEST) {
            err_at(ps, &ps->cur, "condition nested too deeply (more than %d levels)", MAX_NEST);
            return -1;
        }
        ps->paren++;
        int32_t e = p_or(ps);
        ps->nest--;
        if (e < 0)
            return -1;
        t = peek(ps);
        if (t->t != T_RPAREN) {
            err_unexpected(ps, t, "')'");
            return -1;
        }
        ps->paren--;
        next(ps);
        return e;
    }
    if (is_kw(t, "has")) {
        tok at = *next(ps);
        tok *h = take_value(ps, "a header name");
        if (!h)
            return -1;
        int32_t e = expr_new(ps, PX_HAS, &at);
        if (e < 0)
            return -1;
        b->exprs[e].hdr = (uint16_t)(h->text[0] ? sw_hdr_lookup(h->text, h->len) : SW_HDR_OTHER);
        b->exprs[e].hdr_name = dupstr(b, h->text);
        if (!h->text[0])
            return err_at(ps, h, "empty header name");
        return b->exprs[e].hdr_name ? e : -1;
    }
    if (t->t != T_WORD) {
        err_unexpected(ps, t, "a condition");
        return -1;
    }
    next(ps);
    tok ftok = ps->cur; /* text stays valid: only the position is used below */
    const char *name = ps->cur.text;
    sw_field f = SW_F__COUNT;
    char hname[128] = "";
    if (strncmp(name, "header.", 7) == 0) {
        if (name[7] == '\0' || strlen(name + 7) >= sizeof hname) {
            err_at(ps, &ftok, "bad header field '%.60s' (header.NAME)", name);
            return -1;
        }
        f = SW_F_HEADER;
        snprintf(hname, sizeof hname, "%s", name + 7);
    } else {
        for (int i = 0; i < SW_F__COUNT; i++)
            if (i != SW_F_HEADER && strcmp(name, field_names[i]) == 0)
                f = (sw_field)i;
        if (f == SW_F__COUNT) {
            if (strcmp(name, "header") == 0)
                err_at(ps, &ftok, "'header' needs a name: header.NAME");
            else
                err_at(ps, &ftok, "unknown field '%.60s'", name);
            return -1;
        }
    }
    int32_t e = expr_new(ps, PX_IS, &ftok);
    if (e < 0)
        return -1;
    b->exprs[e].field = (uint16_t)f;
    if (f == SW_F_HEADER) {
        b->exprs[e].hdr = (uint16_t)sw_hdr_lookup(hname, strlen(hname));
        b->exprs[e].hdr_name = dupstr(b, hname);
        if (!b->exprs[e].hdr_name)
            return -1;
    }
    t = peek(ps);
    if (t->t == T_OP) {
        tok op = *next(ps);
        b->exprs[e].op = PX_CMP;
        b->exprs[e].cmp = (uint8_t)op.cmp;
        return parse_cmp_value(ps, e, &op) == 0 ? e : -1;
    }
    int negate = 0;
    tok optok = *t;
    if (is_kw(t, "not")) {
        next(ps);
        t = peek(ps);
        if (!is_kw(t, "in") && !is_kw(t, "matches")) {
            err_unexpected(ps, t, "'in' or 'matches' after 'not'");
            return -1;
        }
        negate = 1;
    }
    if (is_kw(t, "in")) {
        next(ps);
        sw_field_type ft = sw_field_type_of(f);
        if (ft == SW_FT_NUM || ft == SW_FT_BOOL) {
            err_at(ps, &optok, "'in' needs a number, address or text field; '%s' is %s",
                   field_names[f], ft == SW_FT_NUM ? "a count" : "true/false");
            return -1;
        }
        b->exprs[e].op = PX_IN;
        if (parse_set(ps, e) != 0)
            return -1;
    } else if (is_kw(t, "matches")) {
        next(ps);
        if (parse_match(ps, e, &optok) != 0)
            return -1;
    } else if (is_kw(t, "contains")) {
        next(ps);
        if (text_field(ps, &optok, f, "contains") != 0)
            return -1;
        tok *v = take_value(ps, "a \"literal\"");
        if (!v)
            return -1;
        b->exprs[e].op = PX_CONTAINS;
        b->exprs[e].str = dupstr(b, v->text);
        b->exprs[e].val_loc = tok_loc(ps, v);
        if (!b->exprs[e].str)
            return -1;
    }
    return negate ? wrap_not(ps, e, &optok) : e;
}

static int32_t p_not(parser *ps)
{
    tok *t = peek(ps);
    if (is_kw(t, "not")) {
        tok at = *next(ps);
        if (++ps->nest > MAX_NEST) {
            err_at(ps, &at, "condition nested too deeply (more than %d levels)", MAX_NEST);
            return -1;
        }
        int32_t inner = p_not(ps);
        ps->nest--;
        if (inner < 0)
            return -1;
        return wrap_not(ps, inner, &at);
    }
    return p_primary(ps);
}

static int32_t p_binary(parser *ps, const char *word, pl_xop op, int32_t (*sub)(parser *))
{
    int32_t l = sub(ps);
    if (l < 0)
        return -1;
    while (is_kw(peek(ps), word)) {
        tok at = *next(ps);
        while (peek(ps)->t == T_NL) /* a line ending with and/or continues */
            next(ps);
        int32_t r = sub(ps);
        if (r < 0)
            return -1;
        int32_t n = expr_new(ps, op, &at);
        if (n < 0)
            return -1;
        ps->b->exprs[n].a = l;
        ps->b->exprs[n].b = r;
        l = n;
    }
    return l;
}

static int32_t p_and(parser *ps)
{
    return p_binary(ps, "and", PX_AND, p_not);
}

static int32_t p_or(parser *ps)
{
    return p_binary(ps, "or", PX_OR, p_and);
}

/* ---- rules ------------------------------------------------------------------------------- */
static void rule_stmt(parser *ps, const kw *k, void *ctx)
{
    pl_rule *r = ctx;
    const char *s = k->s;
    if (strcmp(s, "category") == 0) {
        tok *t = take_word(ps, "a category");
        if (!t) {
            fail(ps);
            return;
        }
        for (int c = 0; c < SW_CAT__COUNT; c++)
            if (c != SW_CAT_SYSTEM && strcmp(t->text, sw_category_name((sw_category)c)) == 0) {
                r->category = (sw_category)c;
                r->has_category = 1;
                r->set_category = 1;
                end_stmt(ps, "category");
                return;
            }
        err_at(ps, t, "unknown category '%s' (cat0, cat1, cat2, cat3, behavioural)", t->text);
        fail(ps);
    } else if (strcmp(s, "event") == 0) {
        tok *t = take_word(ps, "an event type");
        if (!t) {
            fail(ps);
            return;
        }
        if (sw_event_type_lookup(t->text, &r->event) != SW_OK) {
            err_at(ps, t, "unknown event type '%s'", t->text);
            fail(ps);
            return;
        }
        if (r->event == SW_EVT_EVENT_LOSS || r->event == SW_EVT_ADMIN_AUTH_FAILURE ||
            r->event == SW_EVT_ADMIN_CHANGE || r->event == SW_EVT_INTEGRITY_FAILURE ||
            r->event == SW_EVT_INTEGRITY_WARNING || r->event == SW_EVT_TLS_FAILURE ||
            r->event == SW_EVT_PRIVILEGE) { /* sipwall's own: no rule may claim them */
            err_at(ps, t, "event type '%s' is reserved for sipwall's own events", t->text);
            fail(ps);
            return;
        }
        r->set_event = 1;
        end_stmt(ps, "event");
    } else if (strcmp(s, "when") == 0) {
        if (r->expr >= 0) {
            pl_error(ps->b, k->loc, "rule has two 'when' conditions");
            fail(ps);
            return;
        }
        ps->paren = 0;
        ps->nest = 0;
        ps->expr_first = ps->b->nexprs;
        int32_t e = p_or(ps);
        if (e < 0) {
            fail(ps);
            return;
        }
        if (end_stmt(ps, "the condition") == 0)
            r->expr = e;
    } else if (strcmp(s, "action") == 0) {
        if (parse_action(ps, &r->act, 0) == 0)
            r->has_action = 1;
    } else if (strcmp(s, "block") == 0) {
        int64_t ns;
        if (take_duration(ps, "block", &ns) == 0) {
            r->act.block_ns = ns;
            r->set_block = 1;
        }
    } else if (strcmp(s, "mode") == 0) {
        int v;
        if (take_choice(ps, "mode", modes, &v) == 0) {
            r->monitor = (uint8_t)v;
            r->set_mode = 1;
        }
    } else if (strcmp(s, "confidence") == 0) {
        uint64_t v;
        if (take_uint(ps, "confidence", 0, 100, &v) == 0) {
            r->confidence = (uint8_t)v;
            r->set_confidence = 1;
        }
    } else if (strcmp(s, "events") == 0) {
        static const char *const ev[] = {"summary", "each", NULL};
        int v;
        if (take_choice(ps, "events", ev, &v) == 0) {
            r->events_each = (uint8_t)v;
            r->set_events = 1;
        }
    } else if (strcmp(s, "reason") == 0) {
        tok *t = take_value(ps, "a reason");
        if (!t) {
            fail(ps);
            return;
        }
        free(r->reason);
        r->reason = dupstr(ps->b, t->text);
        r->set_reason = 1;
        end_stmt(ps, "reason");
    } else {
        unknown_setting(ps, k, "rule",
                        "category, event, when, action, block, mode, confidence, events, reason");
    }
}

/* An overlay of an earlier rule: the settings r's block wrote replace
 * o's, the others stay (docs/policy.md "Several files: overlay").  o keeps
 * its place, id and line; r's owned values move to o. */
static void rule_overlay(pl_rule *o, pl_rule *r)
{
    if (r->set_category)
        o->category = r->category;
    if (r->set_event)
        o->event = r->event;
    if (r->set_mode)
        o->monitor = r->monitor;
    if (r->set_confidence)
        o->confidence = r->confidence;
    if (r->set_events)
        o->events_each = r->events_each;
    if (r->set_reason) {
        free(o->reason);
        o->reason = r->reason;
        r->reason = NULL;
    }
    if (r->expr >= 0) {
        o->expr = r->expr;
        o->loc = r->loc; /* the rule is where its condition is written */
    }
    int64_t block_ns = r->set_block ? r->act.block_ns : o->act.block_ns;
    if (r->has_action) {
        pl_rule_action_clear(&o->act);
        o->act = r->act; /* moves the strip names */
        memset(&r->act, 0, sizeof r->act);
    }
    o->act.block_ns = block_ns;
}

static void parse_rule(parser *ps, pl_loc at)
{
    pl_build *b = ps->b;
    tok *t = take_word(ps, "a rule id");
    if (!t) {
        fail(ps);
        return;
    }
    pl_rule *r = calloc(1, sizeof *r);
    if (!r) {
        b->oom = 1;
        fail(ps);
        return;
    }
    r->id = dupstr(b, t->text);
    r->loc = at;
    r->expr = -1;
    r->event = SW_EVT_POLICY_VIOLATION;
    r->confidence = 100;
    r->events_each = 1;
    if (!r->id) {
        rule_free(r);
        fail(ps);
        return;
    }
    int ok = parse_block(ps, "rule", rule_stmt, r) == 0;
    pl_rule *o = NULL;
    for (uint32_t i = 0; i < b->nrules && !o; i++)
        if (strcmp(b->rules[i]->id, r->id) == 0)
            o = b->rules[i];
    if (o) {
        /* an overlay: what this block sets replaces the earlier rule's
         * setting, the rest stays; a complete second definition in one
         * file is still a mistake */
        if (o->loc.file == ps->file && r->expr >= 0 && r->has_action) {
            pl_error(b, at, "rule '%s' is defined twice in this file (first at line %u)", r->id,
                     o->loc.line);
        } else if (ok) {
            rule_overlay(o, r);
        }
        rule_free(r);
        return;
    }
    if (ok && !r->has_category) {
        /* "cat1.method-not-allowed" names its category */
        const char *dot = strchr(r->id, '.');
        size_t n = dot ? (size_t)(dot - r->id) : 0;
        for (int c = 0; c < SW_CAT__COUNT && n; c++) {
            if (c == SW_CAT_SYSTEM)
                continue; /* reserved for sipwall's own events */
            const char *cn = sw_category_name((sw_category)c);
            if (strlen(cn) == n && memcmp(cn, r->id, n) == 0) {
                r->category = (sw_category)c;
                r->has_category = 1;
            }
        }
    }
    if (ok && r->expr < 0 && !r->has_action) {
        pl_error(b, at,
                 "rule '%s' changes a rule that is not defined earlier (a new rule needs 'when' "
                 "and 'action')",
                 r->id);
    } else {
        if (ok && !r->has_category)
            pl_error(b, at, "rule '%s' has no category", r->id);
        if (ok && r->expr < 0)
            pl_error(b, at, "rule '%s' has no 'when' condition", r->id);
        if (ok && !r->has_action)
            pl_error(b, at, "rule '%s' has no action", r->id);
    }
    pl_rule **v = grow_array(b, b->rules, &b->caprules, b->nrules, sizeof *v);
    if (!v) {
        rule_free(r);
        return;
    }
    b->rules = v;
    b->rules[b->nrules++] = r;
}

/* ---- top level ---------------------------------------------------------------------------- */
static void parse_include(parser *ps, const char *rel, pl_loc at)
{
    pl_build *b = ps->b;
    if (b->depth > SW_POLICY_MAX_INCLUDE) {
        pl_error(b, at, "includes nested deeper than %d", SW_POLICY_MAX_INCLUDE);
        return;
    }
    char *path = sw__path_join_dir(ps->dir, rel);
    if (!path) {
        b->oom = 1;
        return;
    }
    char *real = b->src ? strdup(path) : realpath(path, NULL);
    for (unsigned i = 0; real && i < b->depth; i++)
        if (strcmp(b->stack[i], real) == 0) {
            pl_error(b, at, "include cycle: '%s' is already being read", path);
            free(real);
            free(path);
            return;
        }
    char *text = NULL;
    size_t len = 0;
    errno = 0;
    int rc = pl_read(b, path, 1, &text, &len);
    if (rc != SW_OK) {
        pl_error(b, at, "cannot read included file '%s': %s", path,
                 rc == SW_ELIMIT   ? "larger than 16 MiB"
                 : rc == SW_ENOMEM ? "out of memory"
                                   : strerror(errno ? errno : EIO));
        b->io_error = 1;
        free(real);
        free(path);
        return;
    }
    char *dir = sw__dirname(path);
    uint32_t idx = pl_add_file(b, path);
    if (dir) {
        b->stack[b->depth++] = real ? real : dupstr(b, path);
        pl_parse_text(b, idx, text, len, dir);
        b->depth--;
        free((char *)b->stack[b->depth]);
        b->stack[b->depth] = NULL;
    } else {
        free(real);
        b->oom = 1;
    }
    free(dir);
    free(text);
    free(path);
}

static void set_string(pl_build *b, char **dst, const char *v)
{
    char *d = dupstr(b, v);
    if (d) {
        free(*dst);
        *dst = d;
    }
}

static void parse_top(parser *ps, const kw *k)
{
    pl_build *b = ps->b;
    const char *s = k->s;
    if (strcmp(s, "policy") == 0) {
        tok *t = take_value(ps, "a policy name");
        if (!t) {
            fail(ps);
            return;
        }
        set_string(b, &b->name, t->text);
        if (is_kw(peek(ps), "version")) {
            next(ps);
            t = take_value(ps, "a version");
            if (!t) {
                fail(ps);
                return;
            }
            set_string(b, &b->version, t->text);
        }
        end_stmt(ps, "policy");
    } else if (strcmp(s, "include") == 0 || strcmp(s, "location-feed") == 0) {
        tok *t = take_value(ps, "a file name");
        if (!t) {
            fail(ps);
            return;
        }
        pl_loc at = tok_loc(ps, t);
        char *rel = dupstr(b, t->text);
        if (!rel || end_stmt(ps, s) != 0) {
            free(rel);
            return;
        }
        if (!rel[0]) {
            pl_error(b, at, "empty file name");
        } else if (s[0] == 'i') {
            parse_include(ps, rel, at);
        } else {
            char *path = sw__path_join_dir(ps->dir, rel);
            if (path) {
                free(b->location_feed);
                b->location_feed = path;
            } else {
                b->oom = 1;
            }
        }
        free(rel);
    } else if (strcmp(s, "home") == 0) {
        parse_home(ps, k->loc);
    } else if (strcmp(s, "role") == 0) {
        parse_role(ps, k->loc);
    } else if (strcmp(s, "partner") == 0) {
        parse_peer(ps, k->loc, 0);
    } else if (strcmp(s, "zone") == 0) {
        parse_peer(ps, k->loc, 1);
    } else if (strcmp(s, "list") == 0) {
        parse_list(ps, k->loc);
    } else if (strcmp(s, "privacy") == 0) {
        parse_privacy(ps, k->loc);
    } else if (strcmp(s, "limits") == 0) {
        parse_limits(ps, k->loc);
    } else if (strcmp(s, "detector") == 0) {
        parse_detector(ps, k->loc);
    } else if (strcmp(s, "rule") == 0) {
        parse_rule(ps, k->loc);
    } else if (strcmp(s, "mode") == 0) {
        int v;
        if (take_choice(ps, "mode", modes, &v) == 0) {
            b->mode_present = 1;
            b->monitor = (uint8_t)v;
            b->mode_loc = k->loc;
        }
    } else {
        pl_error(b, k->loc,
                 "unknown statement '%s' (policy, mode, include, location-feed, home, role, "
                 "partner, zone, list, privacy, limits, detector, rule)",
                 s);
        skip_stmt(ps);
    }
}

void pl_parse_text(pl_build *b, uint32_t file, const char *text, size_t len, const char *dir)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.b = b;
    ps.file = file;
    ps.dir = dir;
    ps.p = ps.line_start = text;
    ps.end = text + len;
    ps.line = 1;
    ps.at_line_start = 1;
    ps.cur.text = malloc(SW_POLICY_MAX_LINE + 1);
    ps.la.text = malloc(SW_POLICY_MAX_LINE + 1);
    if (!ps.cur.text || !ps.la.text) {
        free(ps.cur.text);
        free(ps.la.text);
        b->oom = 1;
        return;
    }
    ps.cur.text[0] = ps.la.text[0] = '\0';
    if (len > SW_POLICY_MAX_FILE) {
        sw__diag_add(b->diags, 0, file_name(b, file), 0, 0, "larger than 16 MiB");
        ps.end = text; /* nothing to read */
    }
    while (!b->oom) {
        tok *t = peek(&ps);
        if (t->t == T_EOF)
            break;
        if (t->t == T_NL || t->t == T_SEMI) {
            next(&ps);
            continue;
        }
        if (t->t == T_WORD) {
            next(&ps);
            kw k;
            snprintf(k.s, sizeof k.s, "%s", ps.cur.text);
            k.loc = tok_loc(&ps, &ps.cur);
            parse_top(&ps, &k);
            continue;
        }
        char d[80];
        describe(t, d, sizeof d);
        err_at(&ps, t, "unexpected %s (a statement starts with a keyword)", d);
        next(&ps);
        skip_stmt(&ps);
    }
    free(ps.cur.text);
    free(ps.la.text);
}
