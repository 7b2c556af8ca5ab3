/* sipwall — the parser against the project's own message sets.
 *
 * ims_expected: every message of tests/data/ims/ is parsed as a datagram,
 * validated, and read back through the typed accessors; each non-empty cell
 * of tests/data/ims/expected.tsv (written by tests/data/make_ims.py from how
 * it built the message, not by parsing) must match.  Column meanings are in
 * tests/data/ims/README.md.  Every mismatch is printed as
 * "FILE: FIELD: expected 'X', got 'Y'" and the test fails at the end.
 *
 * ims_files_listed: every .sip file in tests/data/ims/ has a row.
 * (The torture set's verdicts are checked by test_corpus.c.)
 *
 * Each message sits in its own heap block of exactly its length, so a
 * one-byte over-read shows up under AddressSanitizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipwall/sip.h"

#ifndef SW_TEST_DATA
#error "SW_TEST_DATA must name the tests/data directory"
#endif

#define MAX_COLS 64
#define MAX_ROWS 512
#define MAX_HDRS 256

/* ---- small file and table helpers ---------------------------------------- */

/* Reads a whole file into a block of exactly its size (NULL for empty files
 * is avoided by allocating at least one byte, but *len stays exact). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf != NULL && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

typedef struct table {
    char *text;                 /* the file, NUL-terminated and cut into cells */
    const char *head[MAX_COLS]; /* column names */
    int ncols;
    const char *cell[MAX_ROWS][MAX_COLS];
    int nrows;
} table;

/* Splits a TSV file (header row first, no quoting) in place. */
static int table_load(table *t, const char *path)
{
    size_t len;
    char *raw = read_file(path, &len);
    if (raw == NULL)
        return -1;
    t->text = malloc(len + 1);
    if (t->text == NULL) {
        free(raw);
        return -1;
    }
    memcpy(t->text, raw, len);
    t->text[len] = '\0';
    free(raw);
    t->ncols = 0;
    t->nrows = 0;
    int row = -1; /* -1: the header row */
    char *p = t->text;
    while (*p != '\0') {
        char *eol = strchr(p, '\n');
        if (eol != NULL)
            *eol = '\0';
        if (*p != '\0' && *p != '#') {
            if (row >= MAX_ROWS)
                return -1;
            int c = 0;
            char *cellp = p;
            for (;;) {
                char *tab = strchr(cellp, '\t');
                if (tab != NULL)
                    *tab = '\0';
                if (c >= MAX_COLS)
                    return -1;
                if (row < 0)
                    t->head[c] = cellp;
                else
                    t->cell[row][c] = cellp;
                c++;
                if (tab == NULL)
                    break;
                cellp = tab + 1;
            }
            if (row < 0) {
                t->ncols = c;
            } else {
                for (; c < t->ncols; c++)
                    t->cell[row][c] = "";
                t->nrows++;
            }
            row++;
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return 0;
}

static int table_col(const table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->head[i], name) == 0)
            return i;
    return -1;
}

/* ---- comparison with reporting --------------------------------------------- */

typedef struct ctx {
    const table *t;
    int row;
    const char *file;
    int failures;
} ctx;

/* The expected cell of `field` in the current row; "" when empty or unknown. */
static const char *want(const ctx *c, const char *field)
{
    int i = table_col(c->t, field);
    return i < 0 ? "" : c->t->cell[c->row][i];
}

static void mismatch(ctx *c, const char *field, const char *exp, const char *got, size_t gotlen)
{
    print_error("%s: %s: expected '%s', got '%.*s'\n", c->file, field, exp, (int)gotlen, got);
    c->failures++;
}

static void fail_call(ctx *c, const char *what, int rc, const sw_sip_error *err)
{
    print_error("%s: %s failed: %s (%d) at offset %zu: %s\n", c->file, what, sw_errname(rc), rc,
                err->offset, err->reason ? err->reason : "(no reason)");
    c->failures++;
}

static void check_str(ctx *c, const char *field, sw_str got)
{
    const char *exp = want(c, field);
    if (*exp == '\0')
        return;
    size_t n = strlen(exp);
    if (got.len != n || (n > 0 && (got.ptr == NULL || memcmp(got.ptr, exp, n) != 0)))
        mismatch(c, field, exp, got.ptr ? got.ptr : "", got.ptr ? got.len : 0);
}

static void check_str_ci(ctx *c, const char *field, sw_str got)
{
    const char *exp = want(c, field);
    if (*exp == '\0')
        return;
    size_t n = strlen(exp);
    if (got.len != n || (n > 0 && (got.ptr == NULL || strncasecmp(got.ptr, exp, n) != 0)))
        mismatch(c, field, exp, got.ptr ? got.ptr : "", got.ptr ? got.len : 0);
}

static void check_num(ctx *c, const char *field, int64_t got)
{
    const char *exp = want(c, field);
    if (*exp == '\0')
        return;
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, got);
    if (strcmp(exp, buf) != 0)
        mismatch(c, field, exp, buf, strlen(buf));
}

/* True when any of the named fields has an expectation in this row. */
static int wants_any(const ctx *c, const char *const *fields)
{
    for (; *fields != NULL; fields++)
        if (*want(c, *fields) != '\0')
            return 1;
    return 0;
}

/* ---- one message --------------------------------------------------------- */

static void check_uri_host_port(ctx *c, const char *host_f, const char *port_f, const sw_uri *u)
{
    check_str_ci(c, host_f, u->host);
    if (port_f != NULL && *want(c, port_f) != '\0')
        check_num(c, port_f, u->has_port ? (int64_t)u->port : -1);
}

static void check_nameaddr(ctx *c, const char *prefix, const sw_nameaddr *na)
{
    char f[64];
    snprintf(f, sizeof f, "%s_display", prefix);
    check_str(c, f, na->display);
    snprintf(f, sizeof f, "%s_user", prefix);
    check_str(c, f, na->uri.user);
    char hf[64];
    snprintf(hf, sizeof hf, "%s_host", prefix);
    snprintf(f, sizeof f, "%s_port", prefix);
    check_uri_host_port(c, hf, table_col(c->t, f) >= 0 ? f : NULL, &na->uri);
    snprintf(f, sizeof f, "%s_tag", prefix);
    check_str(c, f, na->tag);
}

static void check_message(ctx *c, sw_sip_msg *m)
{
    sw_sip_error err = {0};
    int rc;

    rc = sw_sip_validate(m, &err);
    if (rc != SW_OK)
        fail_call(c, "sw_sip_validate", rc, &err);

    /* start line */
    const char *kind = want(c, "kind");
    if (*kind != '\0') {
        const char *got = m->is_request ? "request" : "response";
        if (strcmp(kind, got) != 0)
            mismatch(c, "kind", kind, got, strlen(got));
    }
    if (m->is_request) {
        check_str(c, "method", m->method_name);
        const char *exp = want(c, "method");
        if (*exp != '\0' && strcmp(sw_method_name((sw_method)m->method), exp) != 0) {
            const char *got = sw_method_name((sw_method)m->method);
            mismatch(c, "method (enum)", exp, got, strlen(got));
        }
    } else {
        check_num(c, "status", m->status);
    }

    /* Request-URI */
    static const char *const ruri_f[] = {"ruri_scheme", "ruri_user", "ruri_host", "ruri_port",
                                         NULL};
    if (wants_any(c, ruri_f)) {
        const sw_uri *u = NULL;
        rc = sw_sip_ruri(m, &u, &err);
        if (rc != SW_OK || u == NULL) {
            fail_call(c, "sw_sip_ruri", rc, &err);
        } else {
            check_str_ci(c, "ruri_scheme", u->scheme);
            const char *s = want(c, "ruri_scheme");
            sw_uri_scheme k = strcasecmp(s, "sip") == 0    ? SW_URI_SIP
                              : strcasecmp(s, "sips") == 0 ? SW_URI_SIPS
                              : strcasecmp(s, "tel") == 0  ? SW_URI_TEL
                                                           : SW_URI_OTHER;
            if (*s != '\0' && u->kind != k) {
                char got[16];
                snprintf(got, sizeof got, "kind %d", (int)u->kind);
                mismatch(c, "ruri_scheme (kind)", s, got, strlen(got));
            }
            check_str(c, "ruri_user", u->user);
            check_uri_host_port(c, "ruri_host", "ruri_port", u);
        }
    }

    /* Via */
    if (*want(c, "via_count") != '\0') {
        int n = sw_sip_via_count(m, &err);
        if (n < 0)
            fail_call(c, "sw_sip_via_count", n, &err);
        else
            check_num(c, "via_count", n);

        const sw_via *v = NULL;
        rc = sw_sip_top_via(m, &v, &err);
        if (rc != SW_OK || v == NULL) {
            fail_call(c, "sw_sip_top_via", rc, &err);
        } else {
            check_str_ci(c, "via1_transport", v->transport);
            check_str_ci(c, "via1_host", v->host);
            if (*want(c, "via1_port") != '\0')
                check_num(c, "via1_port", v->has_port ? (int64_t)v->port : -1);
            check_str(c, "via1_branch", v->branch);
            check_str(c, "via1_received", v->received);
            /* via1_rport is asserted on every row that has a Via: empty
             * means "no rport parameter" (see ims/README.md). */
            const char *rp = want(c, "via1_rport");
            char got[32];
            if (!v->has_rport)
                snprintf(got, sizeof got, "%s", "");
            else if (v->rport < 0)
                snprintf(got, sizeof got, "%s", "-");
            else
                snprintf(got, sizeof got, "%" PRId32, v->rport);
            if (strcmp(rp, got) != 0) {
                print_error("%s: via1_rport: expected '%s', got '%s' (empty = absent)\n", c->file,
                            rp, got);
                c->failures++;
            }
        }
    }

    /* From / To */
    static const char *const from_f[] = {"from_display", "from_user", "from_host", "from_tag",
                                         NULL};
    if (wants_any(c, from_f)) {
        const sw_nameaddr *na = NULL;
        rc = sw_sip_from(m, &na, &err);
        if (rc != SW_OK || na == NULL)
            fail_call(c, "sw_sip_from", rc, &err);
        else
            check_nameaddr(c, "from", na);
    }
    static const char *const to_f[] = {"to_user", "to_host", "to_tag", NULL};
    if (wants_any(c, to_f)) {
        const sw_nameaddr *na = NULL;
        rc = sw_sip_to(m, &na, &err);
        if (rc != SW_OK || na == NULL)
            fail_call(c, "sw_sip_to", rc, &err);
        else
            check_nameaddr(c, "to", na);
    }

    /* Call-ID, CSeq */
    if (*want(c, "call_id") != '\0') {
        sw_str cid = SW_STR_NULL;
        rc = sw_sip_call_id(m, &cid);
        if (rc != SW_OK)
            fail_call(c, "sw_sip_call_id", rc, &err);
        else
            check_str(c, "call_id", cid);
    }
    if (*want(c, "cseq_num") != '\0' || *want(c, "cseq_method") != '\0') {
        const sw_cseq *cs = NULL;
        rc = sw_sip_cseq(m, &cs, &err);
        if (rc != SW_OK || cs == NULL) {
            fail_call(c, "sw_sip_cseq", rc, &err);
        } else {
            check_num(c, "cseq_num", cs->number);
            check_str(c, "cseq_method", cs->method_name);
            const char *exp = want(c, "cseq_method");
            const char *got = sw_method_name(cs->method);
            if (*exp != '\0' && strcmp(exp, got) != 0)
                mismatch(c, "cseq_method (enum)", exp, got, strlen(got));
        }
    }

    /* Contact */
    static const char *const contact_f[] = {"contact_user", "contact_host", "contact_port", NULL};
    if (wants_any(c, contact_f)) {
        const sw_nameaddr *na = NULL;
        rc = sw_sip_contact(m, &na, &err);
        if (rc != SW_OK || na == NULL)
            fail_call(c, "sw_sip_contact", rc, &err);
        else
            check_nameaddr(c, "contact", na);
    }

    /* scalars */
    if (*want(c, "max_forwards") != '\0') {
        int64_t mf = -1;
        rc = sw_sip_max_forwards(m, &mf, &err);
        if (rc != SW_OK)
            fail_call(c, "sw_sip_max_forwards", rc, &err);
        else
            check_num(c, "max_forwards", mf);
    }
    if (*want(c, "expires") != '\0') {
        int64_t ex = -1;
        rc = sw_sip_expires(m, &ex, &err);
        if (rc != SW_OK)
            fail_call(c, "sw_sip_expires", rc, &err);
        else
            check_num(c, "expires", ex);
    }
    check_num(c, "content_length", m->content_length);
    check_num(c, "body_len", (int64_t)m->body.len);

    /* Content-Type */
    if (*want(c, "content_type") != '\0') {
        const sw_sip_header *h = sw_sip_first(m, SW_HDR_CONTENT_TYPE);
        sw_media_type mt;
        if (h == NULL) {
            mismatch(c, "content_type", want(c, "content_type"), "(no header)", 11);
        } else if ((rc = sw_media_type_parse(h->value, &mt, &err)) != SW_OK) {
            fail_call(c, "sw_media_type_parse", rc, &err);
        } else {
            char got[256];
            int n = snprintf(got, sizeof got, "%.*s/%.*s", (int)mt.type.len,
                             mt.type.ptr ? mt.type.ptr : "", (int)mt.subtype.len,
                             mt.subtype.ptr ? mt.subtype.ptr : "");
            check_str_ci(c, "content_type", sw_str_make(got, n > 0 ? (size_t)n : 0));
        }
    }

    /* P-Asserted-Identity: count the values, read the first */
    if (*want(c, "pai_count") != '\0') {
        sw_sip_values it;
        sw_str v;
        int n = 0;
        sw_sip_values_init(&it, m, SW_HDR_P_ASSERTED_IDENTITY);
        while ((rc = sw_sip_values_next(&it, &v, &err)) == 1 && n < 1000) {
            sw_nameaddr na;
            int prc = sw_nameaddr_parse(v, &na, &err);
            if (prc != SW_OK)
                fail_call(c, "sw_nameaddr_parse (PAI value)", prc, &err);
            n++;
        }
        if (rc < 0)
            fail_call(c, "sw_sip_values_next (PAI)", rc, &err);
        check_num(c, "pai_count", n);
    }
    if (*want(c, "pai1_user") != '\0') {
        const sw_nameaddr *na = NULL;
        rc = sw_sip_pai(m, &na, &err);
        if (rc != SW_OK || na == NULL)
            fail_call(c, "sw_sip_pai", rc, &err);
        else
            check_str(c, "pai1_user", na->uri.user);
    }

    /* credentials or challenge */
    static const char *const auth_f[] = {"auth_username", "auth_realm", "auth_nonce",
                                         "auth_response", "auth_qop", "auth_nc", NULL};
    if (wants_any(c, auth_f)) {
        static const sw_hdr_id ids[] = {SW_HDR_AUTHORIZATION, SW_HDR_PROXY_AUTHORIZATION,
                                        SW_HDR_WWW_AUTHENTICATE, SW_HDR_PROXY_AUTHENTICATE};
        const sw_sip_header *h = NULL;
        for (size_t i = 0; i < sizeof ids / sizeof ids[0] && h == NULL; i++)
            h = sw_sip_first(m, ids[i]);
        sw_auth a;
        if (h == NULL) {
            mismatch(c, "auth_*", "an auth header", "(none)", 6);
        } else if ((rc = sw_auth_parse(h->value, &a, &err)) != SW_OK) {
            fail_call(c, "sw_auth_parse", rc, &err);
        } else {
            check_str(c, "auth_username", a.username);
            check_str(c, "auth_realm", a.realm);
            check_str(c, "auth_nonce", a.nonce);
            check_str(c, "auth_response", a.response);
            check_str(c, "auth_qop", a.qop);
            check_str(c, "auth_nc", a.nc);
        }
    }

    /* Identity */
    static const char *const id_f[] = {"identity_alg", "identity_ppt", "identity_info", NULL};
    if (wants_any(c, id_f)) {
        const sw_sip_header *h = sw_sip_first(m, SW_HDR_IDENTITY);
        sw_identity id;
        if (h == NULL) {
            mismatch(c, "identity_*", "an Identity header", "(none)", 6);
        } else if ((rc = sw_identity_parse(h->value, &id, &err)) != SW_OK) {
            fail_call(c, "sw_identity_parse", rc, &err);
        } else {
            check_str(c, "identity_alg", id.alg);
            check_str(c, "identity_ppt", id.ppt);
            check_str(c, "identity_info", id.info);
            /* the token is header.payload.signature, each part non-empty */
            if (id.header.len == 0 || id.payload.len == 0 || id.signature.len == 0 ||
                id.token.len != id.header.len + id.payload.len + id.signature.len + 2) {
                print_error("%s: identity token: parts %zu.%zu.%zu do not make the token (%zu)\n",
                            c->file, id.header.len, id.payload.len, id.signature.len,
                            id.token.len);
                c->failures++;
            }
        }
    }

    /* SDP */
    static const char *const sdp_f[] = {"sdp_o_addr", "sdp_c_addr", "sdp_m0_media", "sdp_m0_port",
                                        NULL};
    if (wants_any(c, sdp_f)) {
        sw_sdp sdp;
        rc = sw_sdp_parse(m->body, &sdp, &err);
        if (rc != SW_OK) {
            fail_call(c, "sw_sdp_parse", rc, &err);
        } else {
            check_str_ci(c, "sdp_o_addr", sdp.o_addr);
            check_str_ci(c, "sdp_c_addr", sdp.c_addr);
            if (sdp.nmedia == 0) {
                mismatch(c, "sdp_m0_media", want(c, "sdp_m0_media"), "(no m= line)", 12);
            } else {
                check_str(c, "sdp_m0_media", sdp.media[0].media);
                check_num(c, "sdp_m0_port", sdp.media[0].port_num);
            }
        }
    }
}

/* Parses one message file as a datagram.  Returns the allocated buffer (the
 * message's views point into it) or NULL after reporting the failure. */
static char *parse_file(ctx *c, const char *dir, sw_sip_msg *m, sw_sip_header *hdrs, long *ret,
                        size_t *flen, sw_sip_error *err)
{
    char path[1024];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, c->file);
    char *buf = read_file(path, &len);
    if (buf == NULL) {
        print_error("%s: cannot read %s\n", c->file, path);
        c->failures++;
        return NULL;
    }
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    memset(m, 0, sizeof *m);
    memset(err, 0, sizeof *err);
    *ret = sw_sip_parse(m, hdrs, MAX_HDRS, buf, len, SW_SIP_DATAGRAM, &lim, err);
    *flen = len;
    return buf;
}

/* ---- tests ------------------------------------------------------------------ */

static void ims_expected(void **state)
{
    (void)state;
    static table t;
    const char *dir = SW_TEST_DATA "/ims";
    assert_int_equal(table_load(&t, SW_TEST_DATA "/ims/expected.tsv"), 0);
    assert_true(t.nrows >= 25);
    int fcol = table_col(&t, "file");
    assert_true(fcol >= 0);

    int failures = 0;
    for (int r = 0; r < t.nrows; r++) {
        ctx c = {.t = &t, .row = r, .file = t.cell[r][fcol], .failures = 0};
        static sw_sip_msg m;
        static sw_sip_header hdrs[MAX_HDRS];
        sw_sip_error err;
        long n = 0;
        size_t flen = 0;
        char *buf = parse_file(&c, dir, &m, hdrs, &n, &flen, &err);
        if (buf != NULL) {
            if (n <= 0) {
                fail_call(&c, "sw_sip_parse", (int)n, &err);
            } else {
                /* no trailing bytes in this set: the message is the datagram */
                if ((size_t)n != flen) {
                    print_error("%s: sw_sip_parse returned %ld, the datagram has %zu bytes\n",
                                c.file, n, flen);
                    c.failures++;
                }
                check_message(&c, &m);
            }
            free(buf);
        }
        if (c.failures > 0)
            print_error("%s: %d mismatch(es)\n", c.file, c.failures);
        failures += c.failures;
    }
    free(t.text);
    if (failures > 0)
        print_error("ims_expected: %d mismatch(es) over %d messages\n", failures, t.nrows);
    assert_int_equal(failures, 0);
}

static void ims_files_listed(void **state)
{
    (void)state;
    static table t;
    assert_int_equal(table_load(&t, SW_TEST_DATA "/ims/expected.tsv"), 0);
    int fcol = table_col(&t, "file");
    assert_true(fcol >= 0);
    DIR *d = opendir(SW_TEST_DATA "/ims");
    assert_non_null(d);
    int missing = 0, nsip = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".sip") != 0)
            continue;
        nsip++;
        int found = 0;
        for (int r = 0; r < t.nrows && !found; r++)
            found = strcmp(t.cell[r][fcol], e->d_name) == 0;
        if (!found) {
            print_error("%s: no row in expected.tsv\n", e->d_name);
            missing++;
        }
    }
    closedir(d);
    free(t.text);
    assert_int_equal(missing, 0);
    assert_int_equal(nsip, t.nrows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ims_files_listed),
        cmocka_unit_test(ims_expected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
