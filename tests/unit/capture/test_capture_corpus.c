/* The shared labelled captures (SW_SHARED_CORPUS/pcap): every NAME.pcap
 * must yield SIP in exactly the frames its NAME.frames.tsv lists.
 *
 * frames.tsv has one row per frame; its `sip` column holds the method or
 * status code of a SIP frame, "?" for a UDP/TCP payload the labeller could
 * not parse as SIP, and nothing for other frames (ICMP rows have proto
 * icmp).  The rules checked:
 *   - the frames delivered with by_endpoint == 0 (their start looks like
 *     SIP) are exactly the rows whose sip column is a method or status code
 *     (so their number is the one the file lists);
 *   - frames delivered with by_endpoint == 1 (the endpoint rule: damaged
 *     datagrams to or from a SIP endpoint) are all "?" rows, and every "?"
 *     row sent to or from an endpoint that carried SIP is delivered;
 *   - no frame yields two messages (the corpus is UDP only), and the run
 *     ends with SW_OK.
 * Skipped (the only skip allowed) where the corpus is not there. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getline */
#endif
#include <dirent.h>
#include <sys/stat.h>

#include "capture_test_util.h"

enum { ROW_NONE = 0, ROW_SIP = 1, ROW_UNPARSED = 2 };

typedef struct corpus_run {
    uint8_t *row;      /* ROW_* by frame number */
    uint8_t *got;      /* messages delivered per frame (saturating) */
    uint8_t *by_ep;    /* delivered through the endpoint rule */
    uint64_t nframes;  /* rows in frames.tsv */
} corpus_run;

static int corpus_cb(void *ctx, const sw_capture_msg *m)
{
    corpus_run *r = ctx;
    if (m->frame == 0 || m->frame > r->nframes) {
        fail_msg("message from frame %lu, beyond the %lu listed", (unsigned long)m->frame,
                 (unsigned long)r->nframes);
    }
    if (r->got[m->frame] < 255)
        r->got[m->frame]++;
    if (m->by_endpoint)
        r->by_ep[m->frame] = 1;
    return 0;
}

/* Splits a TSV line in place; returns the number of fields. */
static int split_tsv(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    f[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == '\t') {
            *p = '\0';
            f[n++] = p + 1;
        }
    }
    return n;
}

static int col(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return i;
    fail_msg("frames.tsv has no %s column", name);
    return -1;
}

static void check_capture(const char *dir, const char *name)
{
    char path[1024];
    assert_true(snprintf(path, sizeof path, "%s/%s.frames.tsv", dir, name) < (int)sizeof path);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *line = NULL;
    size_t cap = 0;
    char *f[32];
    assert_true(getline(&line, &cap, fp) > 0);
    int nf = split_tsv(line, f, 32);
    int c_frame = col(f, nf, "frame"), c_sip = col(f, nf, "sip"), c_proto = col(f, nf, "proto");

    /* Two passes over the rows are not needed: frame numbers are 1..N in
     * order, so the arrays grow as rows come. */
    corpus_run r = {0};
    size_t alloc = 0;
    uint64_t want_sip = 0, unparsed = 0;
    while (getline(&line, &cap, fp) > 0) {
        nf = split_tsv(line, f, 32);
        if (nf <= c_sip || nf <= c_proto)
            continue;
        uint64_t no = strtoull(f[c_frame], NULL, 10);
        assert_true(no >= 1);
        if (no >= alloc) {
            size_t na = alloc ? alloc * 2 : 1024;
            while (na <= no)
                na *= 2;
            r.row = realloc(r.row, na);
            r.got = realloc(r.got, na);
            r.by_ep = realloc(r.by_ep, na);
            assert_non_null(r.row);
            assert_non_null(r.got);
            assert_non_null(r.by_ep);
            memset(r.row + alloc, 0, na - alloc);
            memset(r.got + alloc, 0, na - alloc);
            memset(r.by_ep + alloc, 0, na - alloc);
            alloc = na;
        }
        if (no > r.nframes)
            r.nframes = no;
        const char *sip = f[c_sip];
        if (strcmp(f[c_proto], "icmp") == 0 || sip[0] == '\0')
            continue;
        if (strcmp(sip, "?") == 0) {
            r.row[no] = ROW_UNPARSED;
            unparsed++;
        } else {
            r.row[no] = ROW_SIP;
            want_sip++;
        }
    }
    free(line);
    fclose(fp);
    assert_true(r.nframes > 0);

    assert_true(snprintf(path, sizeof path, "%s/%s.pcap", dir, name) < (int)sizeof path);
    char err[256];
    sw_capture *c = sw_capture_open_file(path, NULL, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    int rc = sw_capture_run(c, corpus_cb, &r);
    if (rc != SW_OK)
        fail_msg("%s: run returned %d (%s)", name, rc, sw_capture_error(c));
    const sw_capture_stats *st = sw_capture_get_stats(c);
    assert_int_equal(st->frames, r.nframes);

    uint64_t got_sip = 0, got_ep = 0, bad = 0;
    for (uint64_t no = 1; no <= r.nframes; no++) {
        if (r.got[no] > 1) {
            print_error("%s frame %lu: %u messages\n", name, (unsigned long)no, r.got[no]);
            bad++;
        }
        if (r.got[no] && !r.by_ep[no]) {
            got_sip++;
            if (r.row[no] != ROW_SIP) {
                print_error("%s frame %lu: delivered as SIP, listed as %s\n", name,
                            (unsigned long)no, r.row[no] == ROW_UNPARSED ? "?" : "not SIP");
                bad++;
            }
        } else if (r.got[no]) {
            got_ep++;
            if (r.row[no] != ROW_UNPARSED) {
                print_error("%s frame %lu: delivered by the endpoint rule, not a ? row\n", name,
                            (unsigned long)no);
                bad++;
            }
        } else if (r.row[no] == ROW_SIP) {
            print_error("%s frame %lu: listed as SIP, not delivered\n", name, (unsigned long)no);
            bad++;
        } else if (r.row[no] == ROW_UNPARSED) {
            /* Every "?" row of this corpus is a datagram to the edge, which
             * carried SIP before: the checker must get to see it. */
            print_error("%s frame %lu: damaged datagram not delivered\n", name, (unsigned long)no);
            bad++;
        }
    }
    print_message("%-28s %5lu frames: %5lu SIP (listed %lu), %lu damaged (listed ?: %lu)\n", name,
                  (unsigned long)r.nframes, (unsigned long)got_sip, (unsigned long)want_sip,
                  (unsigned long)got_ep, (unsigned long)unparsed);
    assert_int_equal(bad, 0);
    assert_int_equal(got_sip, want_sip);
    assert_int_equal(st->udp_by_endpoint, got_ep);
    sw_capture_free(c);
    free(r.row);
    free(r.got);
    free(r.by_ep);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_shared_corpus(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/pcap", SW_SHARED_CORPUS);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        skip(); /* the corpus is not on this machine */
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".pcap") == 0) {
            names[n] = strndup(e->d_name, l - 5);
            assert_non_null(names[n]);
            n++;
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    int checked = 0;
    for (int i = 0; i < n; i++) {
        char tsv[1200];
        snprintf(tsv, sizeof tsv, "%s/%s.frames.tsv", dir, names[i]);
        if (stat(tsv, &sb) == 0) {
            check_capture(dir, names[i]);
            checked++;
        }
        free(names[i]);
    }
    assert_true(checked > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
