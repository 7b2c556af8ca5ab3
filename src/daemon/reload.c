/* Policy reloads off the control thread (daemon/reload.h).
 *
 * A reload compiles the policy on its own thread, so that the control loop
 * goes on answering `ctl stats` and signals while a large policy compiles
 * (R9).  The control loop then publishes the new generation, waits without
 * blocking for every worker to take it, frees the old one and answers the
 * admin clients that asked.  States: idle -> compiling -> acking -> idle.
 * Requests that arrive while a reload runs are remembered and served by
 * one more compile when the current one is done (the file may have changed
 * since it was read). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/reload.h"
#include "daemon/startcheck.h"

#define RELOAD_ACK_NS (5 * INT64_C(1000000000))
#define RELOAD_MAX_WAITERS 8

typedef enum { R_IDLE, R_COMPILING, R_ACKING } rstate;

struct swd_reloader {
    swd_daemon *d;
    int efd;              /* the compile thread's "done" */
    rstate state;
    pthread_t th;
    uint64_t next_gen;
    uint64_t gen;         /* being compiled or published */
    int64_t t0, ack_deadline;
    swd_policy_gen *result, *old;
    uint64_t old_gen;     /* the generation the one published replaced, and its hash */
    uint8_t old_sha[32];
    char err[2048];
    char smsg[200];       /* what the shared state store said about the reload */
    int again;            /* a request arrived during this reload */
    int cur[RELOAD_MAX_WAITERS], ncur;   /* admin clients waiting for this reload */
    int next[RELOAD_MAX_WAITERS], nnext; /* … for the one after it */
};

swd_reloader *swd_reloader_new(swd_daemon *d, uint64_t first_gen)
{
    swd_reloader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->d = d;
    r->next_gen = first_gen;
    r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->efd < 0) {
        free(r);
        return NULL;
    }
    return r;
}

int swd_reloader_fd(const swd_reloader *r) { return r->efd; }

int swd_reloader_busy(const swd_reloader *r) { return r->state != R_IDLE; }

static void *compile_main(void *arg)
{
    swd_reloader *r = arg;
    swd_daemon *d = r->d;
    r->result = swd_policy_gen_load_d(d, 0, r->gen, r->err, sizeof r->err);
    /* New table sizes mean new engines next to the old ones: refuse limits
     * the memory cannot hold now rather than have the workers fail to
     * build them.  (The running generation is not freed while a compile
     * runs: only this reloader frees generations.) */
    const swd_policy_gen *cur = atomic_load(&d->policy);
    if (r->result &&
        memcmp(&cur->policy->limits, &r->result->policy->limits, sizeof cur->policy->limits) != 0 &&
        swd_check_engine_memory(r->result->policy, d->nworkers, NULL, r->err, sizeof r->err) != SW_OK) {
        swd_policy_gen_free(r->result);
        r->result = NULL;
    }
    uint64_t one = 1;
    ssize_t w = write(r->efd, &one, sizeof one);
    (void)w; /* an eventfd write of 1 cannot fail short of overflow */
    return NULL;
}

static void answer(int *fds, int *n, const char *msg)
{
    for (int i = 0; i < *n; i++) {
        size_t len = strlen(msg);
        ssize_t w1 = write(fds[i], msg, len);
        ssize_t w2 = write(fds[i], "\n", 1);
        (void)w1;
        (void)w2;
        close(fds[i]);
    }
    *n = 0;
}

static int start(swd_reloader *r)
{
    memcpy(r->cur, r->next, sizeof r->next);
    r->ncur = r->nnext;
    r->nnext = 0;
    r->again = 0;
    r->gen = ++r->next_gen;
    r->result = NULL;
    r->err[0] = '\0';
    r->smsg[0] = '\0';
    r->t0 = swd_now_ns();
    r->state = R_COMPILING;
    int e = pthread_create(&r->th, NULL, compile_main, r);
    if (e != 0) {
        r->state = R_IDLE;
        char msg[160];
        snprintf(msg, sizeof msg, "error: cannot start the compile: %s; the running policy stays",
                 strerror(e));
        swd_err("reload", "%s", msg + 7);
        answer(r->cur, &r->ncur, msg);
        return SW_EIO;
    }
    return SW_OK;
}

int swd_reloader_request(swd_reloader *r, int reply_fd)
{
    if (reply_fd >= 0) {
        if (r->nnext == RELOAD_MAX_WAITERS)
            return SW_ELIMIT;
        r->next[r->nnext++] = reply_fd;
    }
    if (r->state != R_IDLE) {
        r->again = 1;
        swd_info("reload", "a reload is running; another one follows it");
        return SW_OK;
    }
    (void)start(r);
    return SW_OK;
}

static void finish_acking(swd_reloader *r, int all_took_it)
{
    swd_daemon *d = r->d;
    if (all_took_it)
        swd_policy_gen_free(r->old);
    else
        swd_warn("reload", "a worker has not taken the new policy within 5 s; keeping the old one allocated");
    r->old = NULL;
    d->reloads++;
    const swd_policy_gen *g = atomic_load(&d->policy);
    double ms = (double)(swd_now_ns() - r->t0) / 1e6;
    swd_info("reload", "policy generation %llu in force (%s, %u rules) after %.1f ms",
             (unsigned long long)g->gen, g->policy->name ? g->policy->name : "unnamed", g->policy->nrules,
             ms);
    /* the change itself, whoever asked for it (SIGHUP, ctl, the admin API) */
    char oh[65], nh[65], detail[300];
    swd_sha256_hex(r->old_sha, oh);
    swd_sha256_hex(g->policy->sha256, nh);
    snprintf(detail, sizeof detail, "policy generation %llu (sha256 %s) replaced generation %llu (sha256 %s)%s",
             (unsigned long long)g->gen, nh, (unsigned long long)r->old_gen, oh,
             memcmp(r->old_sha, g->policy->sha256, 32) == 0 ? "; the policy text is unchanged" : "");
    swd_audit(d, SW_EVT_ADMIN_CHANGE, "config.reload", "sipwalld", NULL, "policy", detail);
    char msg[400];
    snprintf(msg, sizeof msg, "ok generation %llu rules %u in %.1f ms%s%s", (unsigned long long)g->gen,
             g->policy->nrules, ms, r->smsg[0] ? "; " : "", r->smsg);
    answer(r->cur, &r->ncur, msg);
    r->state = R_IDLE;
}

void swd_reloader_poll(swd_reloader *r)
{
    swd_daemon *d = r->d;
    if (r->state == R_COMPILING) {
        uint64_t v;
        if (read(r->efd, &v, sizeof v) != (ssize_t)sizeof v)
            return; /* still compiling */
        pthread_join(r->th, NULL);
        if (!r->result) {
            swd_err("reload", "reload failed, the running policy stays: %s", r->err);
            char msg[2200];
            snprintf(msg, sizeof msg, "error: %s; the running policy stays", r->err);
            answer(r->cur, &r->ncur, msg);
            r->state = R_IDLE;
        } else if (swd_state_reload(d, r->result->policy, r->smsg, sizeof r->smsg) != SW_OK) {
            /* the shared store could not take the new policy's ceiling */
            swd_err("reload", "reload failed, the running policy stays: %s", r->smsg);
            char msg[300];
            snprintf(msg, sizeof msg, "error: %s; the running policy stays", r->smsg);
            answer(r->cur, &r->ncur, msg);
            swd_policy_gen_free(r->result);
            r->result = NULL;
            r->state = R_IDLE;
        } else {
            r->old = atomic_exchange(&d->policy, r->result);
            r->old_gen = r->old->gen;
            memcpy(r->old_sha, r->old->policy->sha256, sizeof r->old_sha);
            swd_intel_policy(d, r->result->policy); /* while the old one is still allocated */
            r->result = NULL;
            swd_workers_wake(d);
            r->ack_deadline = swd_now_ns() + RELOAD_ACK_NS;
            r->state = R_ACKING;
        }
    }
    if (r->state == R_ACKING) {
        if (swd_workers_policy_acked(d) >= r->gen)
            finish_acking(r, 1);
        else if (swd_now_ns() >= r->ack_deadline)
            finish_acking(r, 0);
    }
    if (r->state == R_IDLE && r->again)
        (void)start(r);
}

int swd_reloader_poll_ms(const swd_reloader *r, int idle_ms)
{
    return r->state == R_ACKING ? 2 : idle_ms;
}

int swd_reloader_free(swd_reloader *r)
{
    if (!r)
        return 0;
    answer(r->next, &r->nnext, "error: sipwalld is stopping");
    if (r->state == R_COMPILING) {
        /* The compile cannot be interrupted; the process ends without it
         * (the caller must not free what the thread reads: see reload.h). */
        answer(r->cur, &r->ncur, "error: sipwalld is stopping; the reload was abandoned");
        swd_warn("reload", "stopping while generation %llu compiles: the reload is abandoned",
                 (unsigned long long)r->gen);
        pthread_detach(r->th);
        return 1;
    }
    if (r->state == R_ACKING) /* the workers are gone: nobody holds the old generation */
        finish_acking(r, 1);
    close(r->efd);
    free(r);
    return 0;
}
