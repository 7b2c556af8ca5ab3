/* TAXII 2.1 pull client in sipwalld (daemon.h "TAXII 2.1 pull",
 * docs/exchange-intel.md): intel-pull collections polled by one thread.
 *
 * The thread does the HTTP (libcurl: mutual TLS, Basic or bearer, a
 * timeout per request, a ceiling on every reply) and the parsing of the
 * envelope (sw_taxii_envelope_parse), never anything else: each page is handed
 * to the control thread (an eventfd wakes the control loop), which runs it
 * through the very path of `ctl intel take` — signatures verified with the
 * partners' keys, failures quarantined, the rest applied — and the plain
 * indicators at the partner's trust.  The thread waits for that, then
 * saves the cursor: a page is never marked read before it was taken, and a
 * restart resumes where the last page ended (next, else added_after = the
 * last X-TAXII-Date-Added-Last).  The server is never trusted: a bad reply
 * is counted and logged, and the collection is tried again at its next
 * turn. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/https_client.h"
#include "sipwall/admin.h"
#include "sipwall/exchange_fmt.h"
#include "sipwall/intel.h"
#include "sipwall/taxii_client.h"

#define PULL_PAGES_PER_POLL 10000   /* pages one poll follows at most */
#define PULL_JOURNAL_MAX (64u << 20) /* bytes; past it: cleared, the collection taken again */
#define PULL_MEDIA "application/taxii+json;version=2.1"
#define APIBAN_FIRST_ID "100"       /* APIBAN's first ID: the whole list */
#define APIBAN_PAGES_PER_POLL 400   /* pages one poll follows at most (APIBAN pages hold 250) */
#define APIBAN_PAGE_CAP 1024        /* addresses kept of one page */

typedef struct pull_one {
    const swd_pull_cfg *c;
    swd_https_peer peer;            /* credentials and TLS material (read as root) */
    char *apikey;                   /* intel-apiban: the key, in the request path; wiped at close */
    char added_after[SW_TAXII_TS_LEN]; /* "" = from the beginning */
    char next[SW_TAXII_NEXT_MAX];      /* "" = not inside a paging run */
    int64_t due;                    /* next poll, ns */
    char journal[4200];             /* cursor + ".journal": the pages taken, replayed at start */
    uint64_t journal_bytes;
    /* statistics (under the lock: the control thread reads them) */
    uint64_t polls, pages, objects, fse, plain, quarantined, accepted, enforced, unmapped, malformed, errors;
    char last_error[256];
    int64_t last_ok;
} pull_one;

typedef struct swd_pull swd_pull;
struct swd_pull {
    swd_daemon *d;
    pull_one p[SWD_MAX_PULLS];
    unsigned n;
    pthread_t thread;
    int started;
    int efd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* the hand-over slot: one job at a time (submit serialises the
     * submitters: this thread and the admin API's) */
    pthread_mutex_t submit;
    struct job *job;
    int stop;
    uint64_t pushes, push_refused; /* batches partners pushed (the admin API's thread) */
};

/* A job for the control thread: a pulled page, or a pushed batch. */
enum { JOB_PENDING = 1, JOB_TAKEN, JOB_DONE, JOB_CANCELLED };
typedef struct job {
    int state;                      /* under x->mu */
    /* a page */
    sw_taxii_envelope *page;
    pull_one *from;
    /* a pushed batch */
    const char *body;
    size_t len;
    const char *org, *who;
    char *reply;                    /* malloc'd JSON, or NULL with msg */
    char msg[300];
    /* what the control thread did (take_page) */
    size_t accepted, quarantined, plain, enforced;
} job;

/* ---- files ------------------------------------------------------------------------- */

static char *read_small(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    char why[300];
    char *b = swd_read_small(path, max, len, why, sizeof why);
    if (!b)
        snprintf(err, errlen, "intel-pull: %.250s", why);
    return b;
}

static void cursor_load(pull_one *p)
{
    char err[300];
    size_t n;
    char *t = read_small(p->c->cursor, 8192, &n, err, sizeof err);
    if (!t)
        return; /* no cursor yet: from the beginning */
    int ok = 1;
    char url[1100] = "", coll[80] = "";
    for (char *save = NULL, *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "url ", 4) == 0)
            snprintf(url, sizeof url, "%s", l + 4);
        else if (strncmp(l, "collection ", 11) == 0)
            snprintf(coll, sizeof coll, "%s", l + 11);
        else if (strncmp(l, "added_after ", 12) == 0) {
            int64_t us;
            if (sw_taxii_parse_ts(l + 12, strlen(l + 12), &us) != SW_OK ||
                sw_taxii_format_ts(us, p->added_after) != SW_OK)
                ok = 0;
        } else if (strncmp(l, "next ", 5) == 0 && strlen(l + 5) < sizeof p->next)
            snprintf(p->next, sizeof p->next, "%s", l + 5);
    }
    free(t);
    if (!ok || strcmp(url, p->c->url) != 0 || strcmp(coll, p->c->collection) != 0) {
        swd_warn("pull", "%s: the cursor is for another collection or damaged: starting from the beginning",
                 p->c->cursor);
        p->added_after[0] = p->next[0] = '\0';
        return;
    }
    swd_info("pull", "collection %s of %s: resuming %s%s%s", p->c->collection, p->c->org,
             p->next[0] ? "inside a paging run" : "after ", p->next[0] ? "" : p->added_after[0] ? p->added_after : "(the beginning)",
             "");
}

/* Written to a temporary file, synced, renamed over the cursor. */
static int cursor_save(pull_one *p)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", p->c->cursor);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return SW_EIO;
    char buf[3000];
    int n = snprintf(buf, sizeof buf, "sipwall-taxii-cursor 1\nurl %s\ncollection %s\nadded_after %s\nnext %s\n",
                     p->c->url, p->c->collection, p->added_after, p->next);
    int rc = n > 0 && (size_t)n < sizeof buf && write(fd, buf, (size_t)n) == n && fsync(fd) == 0 ? SW_OK : SW_EIO;
    close(fd);
    if (rc == SW_OK && rename(tmp, p->c->cursor) != 0)
        rc = SW_EIO;
    if (rc != SW_OK) {
        unlink(tmp);
        swd_warn("pull", "%s: cannot save the cursor: %s", p->c->cursor, strerror(errno));
    }
    return rc;
}

/* ---- HTTP -------------------------------------------------------------------------- */

typedef struct reply {
    char *buf;
    size_t len, cap, max;
    int over;
    char date_last[SW_TAXII_TS_LEN];
    char ctype[128];
} reply;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    reply *r = ud;
    size_t n = size * nmemb;
    if (r->len + n > r->max) {
        r->over = 1;
        return 0; /* aborts the transfer */
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 65536;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *nb = realloc(r->buf, cap);
        if (!nb)
            return 0;
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, ptr, n);
    r->len += n;
    r->buf[r->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    reply *r = ud;
    size_t n = size * nmemb;
    static const char dl[] = "x-taxii-date-added-last:", ct[] = "content-type:";
    char line[256];
    if (n >= sizeof line)
        return n;
    memcpy(line, ptr, n);
    line[n] = '\0';
    while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (strncasecmp(line, dl, sizeof dl - 1) == 0) {
        const char *v = line + sizeof dl - 1;
        while (*v == ' ')
            v++;
        int64_t us;
        if (sw_taxii_parse_ts(v, strlen(v), &us) != SW_OK || sw_taxii_format_ts(us, r->date_last) != SW_OK)
            r->date_last[0] = '\0';
    } else if (strncasecmp(line, ct, sizeof ct - 1) == 0) {
        const char *v = line + sizeof ct - 1;
        while (*v == ' ')
            v++;
        snprintf(r->ctype, sizeof r->ctype, "%.*s", (int)sizeof r->ctype - 1, v);
    }
    return size * nmemb;
}

/* The media type of a reply: application/taxii+json (version 2.1 when
 * given), or a plain application/json (some servers). */
static int ctype_ok(const char *ct)
{
    if (strncasecmp(ct, "application/taxii+json", 22) == 0)
        return !strstr(ct, "version=") || strstr(ct, "version=2.1") != NULL;
    return strncasecmp(ct, "application/json", 16) == 0;
}

/* One GET; SW_OK with r filled and *status, or an error with the reason. */
static int http_get(pull_one *p, const char *url, reply *r, long *status, char *err, size_t errlen)
{
    const swd_pull_cfg *c = p->c;
    struct curl_slist *hdrs = curl_slist_append(NULL, c->apiban ? "Accept: application/json" : "Accept: " PULL_MEDIA);
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = swd_https_handle(&p->peer, url, &hdrs, errbuf);
    if (!h) {
        curl_slist_free_all(hdrs);
        snprintf(err, errlen, "libcurl: no handle");
        return SW_ENOMEM;
    }
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_page);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    if (r->over || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "the reply is larger than max-page (%u bytes)", c->max_page);
        return SW_ELIMIT;
    }
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        return SW_EIO;
    }
    return SW_OK;
}

static int journal_append(swd_pull *x, pull_one *p, char *body, size_t len);

/* ---- the poll ----------------------------------------------------------------------- */

static void fail_note(swd_pull *x, pull_one *p, const char *what)
{
    pthread_mutex_lock(&x->mu);
    p->errors++;
    snprintf(p->last_error, sizeof p->last_error, "%s", what);
    pthread_mutex_unlock(&x->mu);
    swd_warn("pull", "collection %s of %s: %s", p->c->collection, p->c->org, what);
}

/* Hands a job to the control thread (an eventfd wakes the control loop)
 * and waits until it is done.  When the daemon stops first, a job the
 * control thread has not taken is withdrawn (0); one it has taken is
 * waited for. */
static int run_job(swd_pull *x, job *j)
{
    pthread_mutex_lock(&x->submit);
    pthread_mutex_lock(&x->mu);
    j->state = JOB_PENDING;
    x->job = j;
    uint64_t one = 1;
    if (write(x->efd, &one, sizeof one) < 0) {
        /* an eventfd counter does not fill up with one writer at a time */
    }
    while (j->state != JOB_DONE) {
        if ((x->stop || atomic_load(&x->d->stop)) && j->state == JOB_PENDING) {
            j->state = JOB_CANCELLED;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&x->cv, &x->mu, &ts);
    }
    x->job = NULL;
    int done = j->state == JOB_DONE;
    pthread_mutex_unlock(&x->mu);
    pthread_mutex_unlock(&x->submit);
    return done;
}

static int hand_over(swd_pull *x, pull_one *p, sw_taxii_envelope *pg, job *j)
{
    memset(j, 0, sizeof *j);
    j->page = pg;
    j->from = p;
    return run_job(x, j);
}

/* intel-apiban: GET URL KEY/banned/ID, following the IDs it answers until
 * "none" (caught up; APIBAN says so with HTTP 400 and "no new bans").  Each
 * page's addresses become unsigned sip_scan indicators of producer apiban
 * (sw_apiban_parse_fse), applied on the control thread at the trust the
 * trust file gives apiban.  The ID to ask next stays in memory (p->next):
 * a restart takes the list again from the first ID. */
static void poll_apiban(swd_pull *x, pull_one *p)
{
    const swd_pull_cfg *c = p->c;
    sw_fse *objs = malloc(APIBAN_PAGE_CAP * sizeof *objs);
    sw_intel_ind *ind = malloc(APIBAN_PAGE_CAP * sizeof *ind);
    if (!objs || !ind) {
        fail_note(x, p, "out of memory for an APIBAN page");
        free(objs);
        free(ind);
        return;
    }
    for (unsigned page = 0; page < APIBAN_PAGES_PER_POLL && !atomic_load(&x->d->stop); page++) {
        char url[4096];
        snprintf(url, sizeof url, "%s%s/banned/%s", c->url, p->apikey, p->next[0] ? p->next : APIBAN_FIRST_ID);
        reply r = {.max = c->max_page};
        long status = 0;
        char err[CURL_ERROR_SIZE + 128];
        int rc = http_get(p, url, &r, &status, err, sizeof err);
        explicit_bzero(url, sizeof url);
        if (rc != SW_OK) {
            fail_note(x, p, err);
            free(r.buf);
            break;
        }
        size_t skipped = 0;
        char id[SW_TAXII_NEXT_MAX] = "";
        const char *why = NULL;
        /* caught up: APIBAN answers 400 {"ipaddress":["no new bans"],"ID":"none"};
         * any other 400 (a wrong key) or status is an error */
        int caught_up = status == 400 && r.buf && strstr(r.buf, "\"no new bans\"") != NULL;
        int n = status == 200 || caught_up
                    ? sw_apiban_parse_fse(r.buf ? r.buf : "", r.len, swd_now_ns() / 1000000, c->confidence, objs,
                                          APIBAN_PAGE_CAP, &skipped, id, sizeof id, &why)
                    : SW_EINVAL;
        free(r.buf);
        if (status != 200 && !caught_up) {
            snprintf(err, sizeof err, "HTTP %ld from the server%s", status, status == 400 || status == 403 ? " (a wrong key?)" : "");
            fail_note(x, p, err);
            break;
        }
        if (n < 0) {
            snprintf(err, sizeof err, "not an APIBAN list: %s", why ? why : "?");
            fail_note(x, p, err);
            break;
        }
        size_t m = 0;
        for (int i = 0; i < n; i++)
            if (sw_intel_from_fse(&objs[i], &ind[m]) == SW_OK)
                m++;
        job jb;
        memset(&jb, 0, sizeof jb);
        if (m) {
            sw_taxii_envelope pg;
            memset(&pg, 0, sizeof pg);
            pg.plain = ind;
            pg.nplain = pg.objects = m;
            if (!hand_over(x, p, &pg, &jb))
                break; /* stopping */
        }
        pthread_mutex_lock(&x->mu);
        p->pages++;
        p->objects += (uint64_t)n;
        p->plain += m;
        p->malformed += (caught_up ? 0 : skipped) + ((size_t)n - m);
        p->accepted += jb.plain;
        p->enforced += jb.enforced;
        p->last_ok = swd_now_ns();
        int more = n > 0 && id[0] && strcmp(id, "none") != 0 && strcmp(id, p->next) != 0;
        if (more)
            snprintf(p->next, sizeof p->next, "%s", id);
        pthread_mutex_unlock(&x->mu);
        if (!more)
            break;
    }
    free(objs);
    free(ind);
}

static void poll_one(swd_pull *x, pull_one *p)
{
    const swd_pull_cfg *c = p->c;
    pthread_mutex_lock(&x->mu);
    p->polls++;
    pthread_mutex_unlock(&x->mu);
    if (c->apiban) {
        poll_apiban(x, p);
        return;
    }
    for (unsigned page = 0; page < PULL_PAGES_PER_POLL && !atomic_load(&x->d->stop); page++) {
        char url[4096], q[2 * SW_TAXII_NEXT_MAX + 200];
        int qn = snprintf(q, sizeof q, "?limit=%u", c->limit);
        CURL *e = curl_easy_init();
        if (!e) {
            fail_note(x, p, "libcurl: no handle");
            return;
        }
        if (p->next[0]) {
            char *esc = curl_easy_escape(e, p->next, 0);
            qn += snprintf(q + qn, sizeof q - (size_t)qn, "&next=%s", esc ? esc : "");
            curl_free(esc);
        }
        if (p->added_after[0]) {
            char *esc = curl_easy_escape(e, p->added_after, 0);
            snprintf(q + qn, sizeof q - (size_t)qn, "&added_after=%s", esc ? esc : "");
            curl_free(esc);
        }
        curl_easy_cleanup(e);
        snprintf(url, sizeof url, "%scollections/%s/objects/%s", c->url, c->collection, q);
        reply r = {.max = c->max_page};
        long status = 0;
        char err[CURL_ERROR_SIZE + 128];
        int rc = http_get(p, url, &r, &status, err, sizeof err);
        if (rc != SW_OK) {
            fail_note(x, p, err);
            free(r.buf);
            return;
        }
        if (status != 200) {
            snprintf(err, sizeof err, "HTTP %ld from the server", status);
            fail_note(x, p, err);
            free(r.buf);
            if (p->next[0] && (status == 400 || status == 404)) {
                /* the server forgot the paging run: resume by date */
                p->next[0] = '\0';
                (void)cursor_save(p);
            }
            return;
        }
        if (!ctype_ok(r.ctype)) {
            snprintf(err, sizeof err, "the reply is not application/taxii+json;version=2.1 (%.60s)", r.ctype);
            fail_note(x, p, err);
            free(r.buf);
            return;
        }
        sw_taxii_envelope pg;
        char perr[200];
        rc = sw_taxii_envelope_parse(r.buf ? r.buf : "", r.len, c->org, swd_now_ns(), &pg, perr, sizeof perr);
        if (rc != SW_OK) {
            snprintf(err, sizeof err, "a bad envelope: %s", perr);
            fail_note(x, p, err);
            sw_taxii_envelope_clear(&pg);
            free(r.buf);
            return;
        }
        job jb;
        if (!hand_over(x, p, &pg, &jb)) {
            sw_taxii_envelope_clear(&pg);
            free(r.buf);
            return; /* stopping: this page is not marked read */
        }
        if (pg.objects && journal_append(x, p, r.buf, r.len)) {
            free(r.buf);
            sw_taxii_envelope_clear(&pg);
            (void)cursor_save(p);
            return;
        }
        free(r.buf);
        pthread_mutex_lock(&x->mu);
        p->pages++;
        p->objects += pg.objects;
        p->fse += pg.nfse;
        p->plain += pg.nplain;
        p->unmapped += pg.unmapped;
        p->malformed += pg.malformed;
        p->accepted += jb.accepted + jb.plain;
        p->quarantined += jb.quarantined;
        p->enforced += jb.enforced;
        p->last_ok = swd_now_ns();
        pthread_mutex_unlock(&x->mu);
        int more = pg.more && pg.next[0];
        if (more) {
            snprintf(p->next, sizeof p->next, "%s", pg.next);
        } else {
            p->next[0] = '\0';
            if (r.date_last[0])
                snprintf(p->added_after, sizeof p->added_after, "%s", r.date_last);
        }
        int more_by_date = pg.more && !pg.next[0] && r.date_last[0];
        sw_taxii_envelope_clear(&pg);
        (void)cursor_save(p);
        if (!more && !more_by_date)
            return;
    }
}

static void *pull_main(void *arg)
{
    swd_pull *x = arg;
    while (!atomic_load(&x->d->stop)) {
        int64_t now = swd_now_ns(), wake = now + 1000000000;
        for (unsigned i = 0; i < x->n && !atomic_load(&x->d->stop); i++) {
            pull_one *p = &x->p[i];
            if (now >= p->due) {
                poll_one(x, p);
                now = swd_now_ns();
                p->due = now + (int64_t)p->c->every_s * 1000000000;
            }
            if (p->due < wake)
                wake = p->due;
        }
        /* sleep until the next due poll, looking at the stop flag each 200 ms */
        pthread_mutex_lock(&x->mu);
        while (!x->stop && !atomic_load(&x->d->stop) && swd_now_ns() < wake) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&x->cv, &x->mu, &ts);
        }
        pthread_mutex_unlock(&x->mu);
    }
    return NULL;
}

typedef struct take_counts {
    size_t accepted, quarantined, plain, enforced;
} take_counts;

/* Verifies and applies one page (control thread): the signed objects by the
 * path of `ctl intel take`, the plain ones at the partner's trust. */
static void take_page(swd_daemon *d, const pull_one *p, const sw_taxii_envelope *pg, take_counts *k)
{
    char who[128], msg[300];
    if (p->c->apiban)
        snprintf(who, sizeof who, "apiban");
    else
        snprintf(who, sizeof who, "taxii:%s/%s", p->c->org, p->c->collection);
    size_t accepted = 0, quarantined = 0, plain = 0, enforced = 0;
    if (pg->nfse) {
        char *r = swd_intel_take(d, pg->fse, pg->fse_len, who, msg, sizeof msg);
        if (r) {
            json_t *o = json_loads(r, 0, NULL);
            accepted = (size_t)json_integer_value(json_object_get(o, "accepted"));
            quarantined = (size_t)json_integer_value(json_object_get(o, "quarantined"));
            json_t *res = json_object_get(o, "results"), *e;
            size_t i;
            json_array_foreach(res, i, e)
            {
                const char *st = json_string_value(json_object_get(e, "state"));
                enforced += st && strcmp(st, "enforced") == 0;
            }
            json_decref(o);
            free(r);
        } else {
            swd_warn("pull", "%s: %s", who, msg);
        }
    }
    if (pg->nplain) {
        size_t e = 0;
        int n = swd_intel_take_plain(d, pg->plain, pg->nplain, who, &e);
        plain = n > 0 ? (size_t)n : 0;
        enforced += e;
    }
    swd_info("pull", "%s: page of %zu objects: %zu signed accepted, %zu quarantined, %zu plain applied, %zu "
                     "unmapped, %zu malformed, %zu other",
             who, pg->objects, accepted, quarantined, plain, pg->unmapped, pg->malformed, pg->ignored);
    k->accepted = accepted;
    k->quarantined = quarantined;
    k->plain = plain;
    k->enforced = enforced;
}

/* ---- the journal -------------------------------------------------------------------------
 * The intel consumer lives in memory; the cursor says what was read.  So
 * that a restart neither loses what was enforced nor takes everything
 * again from the server, every page taken is appended to a journal (one
 * line: "E " and the envelope, its line breaks — JSON whitespace only —
 * made blanks), replayed at start through the same verification.  Stale
 * versions change nothing on replay.  Past PULL_JOURNAL_MAX bytes the
 * journal and the cursor are cleared: the collection is taken again once. */

/* 1 when the journal was full and cleared (with the cursor), else 0. */
static int journal_append(swd_pull *x, pull_one *p, char *body, size_t len)
{
    (void)x;
    if (p->journal_bytes + len + 3 > PULL_JOURNAL_MAX) {
        swd_info("pull", "%s: the journal reached %u bytes: cleared, the collection is taken again",
                 p->journal, PULL_JOURNAL_MAX);
        if (truncate(p->journal, 0) != 0 && errno != ENOENT)
            swd_warn("pull", "%s: %s", p->journal, strerror(errno));
        p->journal_bytes = 0;
        p->added_after[0] = p->next[0] = '\0';
        return 1;
    }
    for (size_t i = 0; i < len; i++)
        if (body[i] == '\n' || body[i] == '\r')
            body[i] = ' ';
    int fd = open(p->journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int ok = fd >= 0 && write(fd, "E ", 2) == 2 && write(fd, body, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
             fdatasync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok)
        swd_warn("pull", "%s: cannot append: %s", p->journal, strerror(errno));
    else
        p->journal_bytes += len + 3;
    return 0;
}

/* At start, on the main thread (which becomes the control thread). */
static void journal_replay(swd_daemon *d, pull_one *p)
{
    FILE *f = fopen(p->journal, "re");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0, pages = 0, bad = 0;
    ssize_t n;
    take_counts sum = {0}, k;
    while ((n = getline(&line, &cap, f)) > 0) {
        p->journal_bytes += (uint64_t)n;
        if (n < 3 || line[0] != 'E' || line[1] != ' ') {
            bad++;
            continue;
        }
        sw_taxii_envelope pg;
        char err[200];
        if (sw_taxii_envelope_parse(line + 2, (size_t)n - 2, p->c->org, swd_now_ns(), &pg, err, sizeof err) != SW_OK) {
            bad++;
            sw_taxii_envelope_clear(&pg);
            continue;
        }
        take_page(d, p, &pg, &k);
        sum.accepted += k.accepted;
        sum.plain += k.plain;
        sum.quarantined += k.quarantined;
        pages++;
        sw_taxii_envelope_clear(&pg);
    }
    free(line);
    fclose(f);
    swd_info("pull", "collection %s of %s: %zu pages replayed from %s (%zu signed, %zu plain applied, %zu "
                     "quarantined, %zu damaged lines)",
             p->c->collection, p->c->org, pages, p->journal, sum.accepted, sum.plain, sum.quarantined, bad);
}

/* ---- the control thread's side ---------------------------------------------------------- */

int swd_pull_fd(swd_daemon *d) { return d->pull ? d->pull->efd : -1; }

void swd_pull_poll(swd_daemon *d)
{
    swd_pull *x = d->pull;
    if (!x)
        return;
    uint64_t v;
    if (read(x->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&x->mu);
    job *j = x->job;
    if (!j || j->state != JOB_PENDING) {
        pthread_mutex_unlock(&x->mu);
        return;
    }
    j->state = JOB_TAKEN; /* the submitter waits for it now */
    pthread_mutex_unlock(&x->mu);
    if (j->page) {
        take_counts k;
        take_page(d, j->from, j->page, &k);
        j->accepted = k.accepted;
        j->quarantined = k.quarantined;
        j->plain = k.plain;
        j->enforced = k.enforced;
    } else {
        j->reply = swd_intel_take_org(d, j->body, j->len, j->org, j->who, j->msg, sizeof j->msg);
    }
    pthread_mutex_lock(&x->mu);
    j->state = JOB_DONE;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

char *swd_intel_push_take(swd_daemon *d, const char *body, size_t len, const char *org, const char *who, int *status)
{
    swd_pull *x = d->pull;
    if (!x) {
        *status = 404;
        return sw_admin_error_json(404, "this node takes no pushed intelligence (no intel line)");
    }
    job j;
    memset(&j, 0, sizeof j);
    j.body = body;
    j.len = len;
    j.org = org;
    j.who = who;
    if (!run_job(x, &j)) {
        *status = 503;
        return sw_admin_error_json(503, "sipwalld is stopping");
    }
    pthread_mutex_lock(&x->mu);
    x->pushes++;
    x->push_refused += j.reply == NULL;
    pthread_mutex_unlock(&x->mu);
    if (!j.reply) {
        *status = 400;
        return sw_admin_error_json(400, strncmp(j.msg, "error: ", 7) == 0 ? j.msg + 7 : j.msg);
    }
    *status = 200;
    return j.reply;
}

char *swd_pull_json(swd_daemon *d)
{
    swd_pull *x = d->pull;
    json_t *o = json_object(), *arr = json_array();
    if (x)
        pthread_mutex_lock(&x->mu);
    for (unsigned i = 0; x && i < x->n; i++) {
        pull_one *p = &x->p[i];
        json_t *e = json_object();
        json_object_set_new(e, "url", json_string(p->c->url));
        json_object_set_new(e, "collection", json_string(p->c->collection));
        json_object_set_new(e, "org", json_string(p->c->org));
        json_object_set_new(e, "kind", json_string(p->c->apiban ? "apiban" : "taxii"));
        json_object_set_new(e, "polls", json_integer((json_int_t)p->polls));
        json_object_set_new(e, "pages", json_integer((json_int_t)p->pages));
        json_object_set_new(e, "objects", json_integer((json_int_t)p->objects));
        json_object_set_new(e, "signed", json_integer((json_int_t)p->fse));
        json_object_set_new(e, "plain", json_integer((json_int_t)p->plain));
        json_object_set_new(e, "accepted", json_integer((json_int_t)p->accepted));
        json_object_set_new(e, "quarantined", json_integer((json_int_t)p->quarantined));
        json_object_set_new(e, "enforced", json_integer((json_int_t)p->enforced));
        json_object_set_new(e, "unmapped", json_integer((json_int_t)p->unmapped));
        json_object_set_new(e, "malformed", json_integer((json_int_t)p->malformed));
        json_object_set_new(e, "errors", json_integer((json_int_t)p->errors));
        json_object_set_new(e, "last_error", json_string(p->last_error));
        json_object_set_new(e, "added_after", json_string(p->added_after));
        if (p->c->apiban)
            json_object_set_new(e, "next_id", json_string(p->next)); /* the APIBAN ID asked next */
        else
            json_object_set_new(e, "in_paging_run", json_boolean(p->next[0] != '\0'));
        json_array_append_new(arr, e);
    }
    if (x)
        pthread_mutex_unlock(&x->mu);
    json_object_set_new(o, "pulls", arr);
    if (x) {
        pthread_mutex_lock(&x->mu);
        json_object_set_new(o, "pushed_batches", json_integer((json_int_t)x->pushes));
        json_object_set_new(o, "pushed_refused", json_integer((json_int_t)x->push_refused));
        pthread_mutex_unlock(&x->mu);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* ---- life -------------------------------------------------------------------------------- */

int swd_pull_open(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *c = d->cfg;
    if (!c->intel.line)
        return SW_OK; /* nothing to pull, nothing pushed can be taken */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "intel-pull: libcurl did not initialise");
        return SW_EIO;
    }
    swd_pull *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "intel-pull: out of memory");
        return SW_ENOMEM;
    }
    d->pull = x;
    x->d = d;
    x->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&x->mu, NULL);
    pthread_mutex_init(&x->submit, NULL);
    pthread_cond_init(&x->cv, NULL);
    if (x->efd < 0) {
        snprintf(err, errlen, "intel-pull: eventfd: %s", strerror(errno));
        return SW_EIO;
    }
    for (unsigned i = 0; i < c->npulls; i++) {
        pull_one *p = &x->p[x->n++];
        p->c = &c->pulls[i];
        swd_https_peer_cfg pc = {.user = p->c->user, .password_file = p->c->password_file,
                                 .token_file = p->c->token_file, .ca = p->c->ca, .cert = p->c->cert,
                                 .key = p->c->key, .timeout_s = p->c->timeout_s, .allow_http = p->c->allow_http};
        int rc = swd_https_peer_load(&p->peer, p->c->apiban ? "intel-apiban" : "intel-pull", &pc, err, errlen);
        if (rc != SW_OK)
            return rc;
        if (p->c->apiban) {
            if (!(p->apikey = swd_https_read_secret("intel-apiban", p->c->key_file, err, errlen)))
                return SW_EINVAL;
            size_t kl = strlen(p->apikey);
            if (kl > 256 ||
                strspn(p->apikey, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != kl) {
                snprintf(err, errlen, "intel-apiban: %.200s: the key is 1..256 of [A-Za-z0-9._-]", p->c->key_file);
                return SW_EINVAL;
            }
            continue; /* no cursor, no journal: taken again at every start */
        }
        snprintf(p->journal, sizeof p->journal, "%s.journal", p->c->cursor);
        cursor_load(p);
        journal_replay(d, p);
    }
    if (x->n)
        swd_info("pull", "%u feeds to pull (TAXII collections, APIBAN)", x->n);
    return SW_OK;
}

int swd_pull_start(swd_daemon *d, char *err, size_t errlen)
{
    swd_pull *x = d->pull;
    if (!x || !x->n)
        return SW_OK;
    if (pthread_create(&x->thread, NULL, pull_main, x) != 0) {
        snprintf(err, errlen, "intel-pull: cannot start its thread");
        return SW_EIO;
    }
    x->started = 1;
    return SW_OK;
}

void swd_pull_close(swd_daemon *d)
{
    swd_pull *x = d->pull;
    if (!x)
        return;
    pthread_mutex_lock(&x->mu);
    x->stop = 1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (x->started)
        pthread_join(x->thread, NULL);
    for (unsigned i = 0; i < x->n; i++) {
        pull_one *p = &x->p[i];
        swd_https_peer_free(&p->peer);
        if (p->apikey) {
            explicit_bzero(p->apikey, strlen(p->apikey));
            free(p->apikey);
        }
    }
    if (x->efd >= 0)
        close(x->efd);
    pthread_cond_destroy(&x->cv);
    pthread_mutex_destroy(&x->mu);
    pthread_mutex_destroy(&x->submit);
    free(x);
    d->pull = NULL;
    curl_global_cleanup();
}
