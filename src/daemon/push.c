/* Signed webhook push in sipwalld (daemon.h "webhook push",
 * docs/exchange-intel.md): every object published here goes to each
 * intel-push receiver as soon as it is queued.
 *
 * One thread serves every receiver: POST {url} with a JSON array of signed
 * FSE objects (at most PUSH_BATCH objects, PUSH_BODY_MAX bytes; each object
 * carries its own detached JWS, which is what the receiver checks against
 * our key), over HTTPS with our client certificate (or a bearer token).
 * A 2xx takes the batch off the queue; 400/413/415/422 refuse it for good
 * (counted: sending it again cannot help); anything else (no answer,
 * 401/403, 429, 5xx) is tried again after 1, 2, 4, ... 60 s.  The queue of
 * each receiver is a ring allocated at start (queue N objects); when it is
 * full a new object is dropped and counted, never an older one (which may
 * be a revocation still to deliver).  The receiver is idempotent on id and
 * modified, so a batch sent twice after a lost answer changes nothing. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/https_client.h"
#include "sipwall/exchange.h"
#include "sipwall/taxii_client.h"

#define PUSH_BATCH 32
#define PUSH_BODY_MAX 57344         /* below the receiver's 60 KiB */
#define PUSH_BACKOFF_MAX_S 60
#define PUSH_FILE_MAX (64u << 20)

typedef struct push_one {
    const swd_push_cfg *c;
    swd_https_peer peer;            /* credentials and TLS material (read as root) */
    /* the ring: count objects from head (under the lock) */
    char **ring;
    size_t *lens;
    size_t head, count;
    int64_t next_try;
    unsigned backoff_s;
    uint64_t queued, delivered, dropped, refused, attempts, failures;
    uint64_t taxii_failures;        /* objects a TAXII server's status says it refused */
    int64_t last_ok;
    char last_error[256];
} push_one;

struct swd_push {
    swd_daemon *d;
    push_one t[SWD_MAX_PUSHES];
    unsigned n;
    pthread_t thread;
    int started, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};


/* ---- the queue ---------------------------------------------------------------------------- */

int swd_push_enqueue(swd_daemon *d, const char *obj, size_t len)
{
    swd_push *x = d->push;
    if (!x)
        return 0;
    int queued = 0;
    pthread_mutex_lock(&x->mu);
    for (unsigned i = 0; i < x->n; i++) {
        push_one *t = &x->t[i];
        if (t->count == t->c->queue) {
            t->dropped++;
            continue;
        }
        char *copy = malloc(len + 1);
        if (!copy) {
            t->dropped++;
            continue;
        }
        memcpy(copy, obj, len);
        copy[len] = '\0';
        size_t at = (t->head + t->count) % t->c->queue;
        t->ring[at] = copy;
        t->lens[at] = len;
        t->count++;
        t->queued++;
        queued++;
    }
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    return queued;
}

/* ---- HTTP ----------------------------------------------------------------------------------- */

typedef struct answer {
    char buf[65536];
    size_t len;
} answer;

static size_t keep(char *ptr, size_t size, size_t nmemb, void *ud)
{
    answer *a = ud;
    size_t n = size * nmemb;
    if (a->len + n >= sizeof a->buf)
        return 0; /* a reply is small; a flood is cut */
    memcpy(a->buf + a->len, ptr, n);
    a->len += n;
    a->buf[a->len] = '\0';
    return n;
}

/* POSTs body; the HTTP status, or 0 with the reason in err; the reply in a. */
static long post(push_one *t, const char *body, size_t len, answer *a, char *err, size_t errlen)
{
    const swd_push_cfg *c = t->c;
    struct curl_slist *hdrs =
        curl_slist_append(NULL, c->taxii ? "Content-Type: application/taxii+json;version=2.1" : "Content-Type: application/json");
    if (c->taxii) {
        struct curl_slist *n = curl_slist_append(hdrs, "Accept: application/taxii+json;version=2.1");
        hdrs = n ? n : hdrs;
    }
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = swd_https_handle(&t->peer, c->url, &hdrs, errbuf);
    if (!h) {
        curl_slist_free_all(hdrs);
        snprintf(err, errlen, "libcurl: no handle");
        return 0;
    }
    a->len = 0;
    a->buf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    if (cc != CURLE_OK && status == 0) {
        snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        return 0;
    }
    return status;
}

/* ---- the thread ------------------------------------------------------------------------------ */

/* The JSON array of FSE objects made a TAXII envelope of the STIX
 * indicators that carry them; frees arr.  NULL with err. */
static char *taxii_envelope(char *arr, size_t len, size_t *outlen, char *err, size_t errlen)
{
    json_t *a = json_loadb(arr, len, 0, NULL), *o;
    free(arr);
    json_t *objs = json_array();
    size_t i;
    json_array_foreach(a, i, o)
    {
        char *s = json_dumps(o, JSON_COMPACT), *w;
        size_t sl, wl;
        if (s && (w = sw_taxii_wrap_fse(s, strlen(s), &wl, err, errlen))) {
            (void)sl;
            json_array_append_new(objs, json_loadb(w, wl, 0, NULL));
            free(w);
        }
        free(s);
    }
    json_decref(a);
    json_t *env = json_pack("{s:o}", "objects", objs);
    char *out = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *outlen = strlen(out);
    return out;
}

static void send_some(swd_push *x, push_one *t)
{
    /* a batch from the head: the thread is the only one to take off it */
    char *body = malloc(PUSH_BODY_MAX + 2);
    if (!body)
        return;
    size_t len = 0, k = 0;
    body[len++] = '[';
    pthread_mutex_lock(&x->mu);
    size_t qc = t->c->queue;
    while (k < t->count && k < PUSH_BATCH) {
        size_t at = (t->head + k) % qc;
        size_t need = t->lens[at] + 1;
        if (len + need + 1 > PUSH_BODY_MAX && k > 0)
            break;
        if (len + need + 1 > PUSH_BODY_MAX) {
            /* one object larger than a body: it can never be sent */
            free(t->ring[at]);
            t->ring[at] = NULL;
            t->head = (t->head + 1) % qc;
            t->count--;
            t->refused++;
            continue;
        }
        if (k)
            body[len++] = ',';
        memcpy(body + len, t->ring[at], t->lens[at]);
        len += t->lens[at];
        k++;
    }
    pthread_mutex_unlock(&x->mu);
    if (k == 0) {
        free(body);
        return;
    }
    body[len++] = ']';
    body[len] = '\0';
    char err[CURL_ERROR_SIZE + 64] = "";
    if (t->c->taxii && !(body = taxii_envelope(body, len, &len, err, sizeof err))) {
        swd_warn("push", "%s: %s", t->c->url, err);
        return;
    }
    answer *ans = malloc(sizeof *ans);
    long st = ans ? post(t, body, len, ans, err, sizeof err) : 0;
    free(body);
    sw_taxii_status ts = {.failure = 0};
    int bad_status = 0;
    if (t->c->taxii && st >= 200 && st < 300) {
        char why[200];
        if (sw_taxii_status_parse(ans->buf, ans->len, &ts, why, sizeof why) != SW_OK) {
            bad_status = 1;
            swd_warn("push", "%s: the TAXII status is not valid: %s", t->c->url, why);
        }
    }
    free(ans);
    int64_t now = swd_now_ns();
    int take = st >= 200 && st < 300, refuse = st == 400 || st == 413 || st == 415 || st == 422;
    pthread_mutex_lock(&x->mu);
    t->attempts++;
    if (take || refuse) {
        for (size_t i = 0; i < k; i++) {
            size_t at = (t->head + i) % qc;
            free(t->ring[at]);
            t->ring[at] = NULL;
        }
        t->head = (t->head + k) % qc;
        t->count -= k;
        if (take) {
            t->delivered += k;
            t->last_ok = now;
            t->taxii_failures += (uint64_t)ts.failure + (uint64_t)bad_status;
        } else {
            t->refused += k;
        }
        t->backoff_s = 0;
        t->next_try = 0;
    }
    if (!take) {
        if (st)
            snprintf(t->last_error, sizeof t->last_error, "HTTP %ld from the receiver", st);
        else
            snprintf(t->last_error, sizeof t->last_error, "%.250s", err);
        if (!refuse) {
            t->failures++;
            t->backoff_s = t->backoff_s ? t->backoff_s * 2 : 1;
            if (t->backoff_s > PUSH_BACKOFF_MAX_S)
                t->backoff_s = PUSH_BACKOFF_MAX_S;
            t->next_try = now + (int64_t)t->backoff_s * 1000000000;
        }
    }
    unsigned b = t->backoff_s;
    pthread_mutex_unlock(&x->mu);
    if (!take)
        swd_warn("push", "%s: %zu objects %s (%s)%s", t->c->url, k, refuse ? "refused for good" : "not delivered",
                 t->last_error, refuse ? "" : b ? "; trying again later" : "");
}

static void *push_main(void *arg)
{
    swd_push *x = arg;
    pthread_mutex_lock(&x->mu);
    while (!x->stop && !atomic_load(&x->d->stop)) {
        int64_t now = swd_now_ns(), wake = now + 1000000000;
        int busy = 0;
        for (unsigned i = 0; i < x->n; i++) {
            push_one *t = &x->t[i];
            if (!t->count)
                continue;
            if (t->next_try <= now) {
                pthread_mutex_unlock(&x->mu);
                send_some(x, t);
                pthread_mutex_lock(&x->mu);
                busy = 1;
            } else if (t->next_try < wake) {
                wake = t->next_try;
            }
        }
        if (busy)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t left = wake - swd_now_ns();
        if (left > 200000000)
            left = 200000000; /* the stop flag is looked at every 200 ms */
        if (left < 0)
            left = 0;
        ts.tv_nsec += left;
        while (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&x->cv, &x->mu, &ts);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* ---- publishing ------------------------------------------------------------------------------- */

char *swd_push_publish_file(swd_daemon *d, const char *path, char *msg, size_t msglen)
{
    if (!d->push) {
        snprintf(msg, msglen, "error: no intel-push receiver is configured");
        return msg;
    }
    size_t len;
    char err[300];
    char *text = swd_read_small(path, PUSH_FILE_MAX, &len, err, sizeof err);
    if (!text) {
        snprintf(msg, msglen, "error: %s", err);
        return msg;
    }
    json_error_t je;
    json_t *arr = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!json_is_array(arr)) {
        json_decref(arr);
        snprintf(msg, msglen, "error: %.200s: not a JSON array of signed FSE objects", path);
        return msg;
    }
    size_t i, queued = 0, bad = 0;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        char *s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
        sw_fse f;
        /* our own objects: they must decode and be signed (the partner checks the signature) */
        if (!s || sw_fse_decode(s, strlen(s), &f, err, sizeof err) != SW_OK || !f.sig[0]) {
            bad++;
            free(s);
            continue;
        }
        queued += swd_push_enqueue(d, s, strlen(s)) > 0;
        free(s);
    }
    json_decref(arr);
    snprintf(msg, msglen, "%s%zu objects queued for %u receivers, %zu not signed FSE objects left out",
             bad && !queued ? "error: " : "ok ", queued, d->push->n, bad);
    return msg;
}

char *swd_push_json(swd_daemon *d)
{
    swd_push *x = d->push;
    json_t *o = json_object(), *arr = json_array();
    if (x)
        pthread_mutex_lock(&x->mu);
    for (unsigned i = 0; x && i < x->n; i++) {
        push_one *t = &x->t[i];
        json_t *e = json_object();
        json_object_set_new(e, "url", json_string(t->c->url));
        json_object_set_new(e, "waiting", json_integer((json_int_t)t->count));
        json_object_set_new(e, "capacity", json_integer((json_int_t)t->c->queue));
        json_object_set_new(e, "queued", json_integer((json_int_t)t->queued));
        json_object_set_new(e, "delivered", json_integer((json_int_t)t->delivered));
        json_object_set_new(e, "dropped", json_integer((json_int_t)t->dropped));
        json_object_set_new(e, "refused", json_integer((json_int_t)t->refused));
        json_object_set_new(e, "attempts", json_integer((json_int_t)t->attempts));
        json_object_set_new(e, "failures", json_integer((json_int_t)t->failures));
        json_object_set_new(e, "backoff_s", json_integer(t->backoff_s));
        if (t->c->taxii)
            json_object_set_new(e, "taxii_failures", json_integer((json_int_t)t->taxii_failures));
        json_object_set_new(e, "last_error", json_string(t->last_error));
        json_array_append_new(arr, e);
    }
    if (x)
        pthread_mutex_unlock(&x->mu);
    json_object_set_new(o, "pushes", arr);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* ---- life --------------------------------------------------------------------------------------- */

int swd_push_open(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *c = d->cfg;
    if (!c->npushes)
        return SW_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "intel-push: libcurl did not initialise");
        return SW_EIO;
    }
    swd_push *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "intel-push: out of memory");
        return SW_ENOMEM;
    }
    d->push = x;
    x->d = d;
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    for (unsigned i = 0; i < c->npushes; i++) {
        push_one *t = &x->t[x->n++];
        t->c = &c->pushes[i];
        t->ring = calloc(t->c->queue, sizeof *t->ring);
        t->lens = calloc(t->c->queue, sizeof *t->lens);
        if (!t->ring || !t->lens) {
            snprintf(err, errlen, "intel-push: out of memory for a queue of %u", t->c->queue);
            return SW_ENOMEM;
        }
        swd_https_peer_cfg pc = {.user = t->c->user, .password_file = t->c->password_file,
                                 .token_file = t->c->token_file, .ca = t->c->ca, .cert = t->c->cert,
                                 .key = t->c->key, .timeout_s = t->c->timeout_s, .allow_http = t->c->allow_http};
        int rc = swd_https_peer_load(&t->peer, "intel-push", &pc, err, errlen);
        if (rc != SW_OK)
            return rc;
    }
    swd_info("push", "%u push receivers", x->n);
    return SW_OK;
}

int swd_push_start(swd_daemon *d, char *err, size_t errlen)
{
    swd_push *x = d->push;
    if (!x)
        return SW_OK;
    if (pthread_create(&x->thread, NULL, push_main, x) != 0) {
        snprintf(err, errlen, "intel-push: cannot start its thread");
        return SW_EIO;
    }
    x->started = 1;
    return SW_OK;
}

void swd_push_close(swd_daemon *d)
{
    swd_push *x = d->push;
    if (!x)
        return;
    pthread_mutex_lock(&x->mu);
    x->stop = 1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (x->started)
        pthread_join(x->thread, NULL);
    for (unsigned i = 0; i < x->n; i++) {
        push_one *t = &x->t[i];
        if (t->ring)
            for (size_t k = 0; k < t->count; k++)
                free(t->ring[(t->head + k) % t->c->queue]);
        if (t->count)
            swd_warn("push", "%s: %zu objects not delivered at stop", t->c->url, t->count);
        free(t->ring);
        free(t->lens);
        swd_https_peer_free(&t->peer);
    }
    pthread_cond_destroy(&x->cv);
    pthread_mutex_destroy(&x->mu);
    free(x);
    d->push = NULL;
    curl_global_cleanup();
}
