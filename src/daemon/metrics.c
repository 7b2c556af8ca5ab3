/* sipwalld's metrics, health and the plain-HTTP metrics listener
 * (daemon/metrics.h, docs/metrics.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/metrics.h"
#include "sipwall/bundle.h"
#include "daemon/worker.h"
#include "sipwall/detect.h"
#include "sipwall/metrics.h"

/* ---- worker side ------------------------------------------------------------------- */

/* Screening latency bounds, ns: 1 µs .. 1 s (the _bucket le values in s). */
static const int64_t lat_bounds_ns[SWD_LAT_BOUNDS] = {
    1000,   2500,    5000,    10000,   25000,    50000,    100000,
    250000, 500000, 1000000, 2500000, 10000000, 100000000, 1000000000};

static void add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

void swd_wmetrics_latency(swd_wmetrics *m, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    unsigned b = 0;
    while (b < SWD_LAT_BOUNDS && ns > lat_bounds_ns[b])
        b++;
    swd_wmetrics_bump(&m->lat[b]);
    add(&m->lat_sum_ns, (uint64_t)ns);
}

static uint64_t hash_names(const char *rule, const char *partner, unsigned action, unsigned category)
{
    uint64_t h = 1469598103934665603ull ^ (action * 31u + category);
    for (const char *s = rule; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *s = partner; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot for these names: found, or taken now (names written, then
 * `used` published with release so that a scrape never reads half a
 * name), or the _other slot when the table is full. */
static swd_verdict_slot *verdict_slot(swd_wmetrics *m, const char *rule, const char *partner,
                                      unsigned action, unsigned category)
{
    const unsigned n = SWD_VERDICT_SLOTS - 1; /* the last one is _other */
    uint64_t h = hash_names(rule, partner, action, category);
    for (unsigned probe = 0; probe < n; probe++) {
        swd_verdict_slot *s = &m->slots[(h + probe) % n];
        if (!atomic_load_explicit(&s->used, memory_order_relaxed)) {
            if (m->nslots >= n * 3 / 4)
                break; /* keep probes short: the rest goes to _other */
            s->action = (uint8_t)action;
            s->category = (uint8_t)category;
            snprintf(s->rule, sizeof s->rule, "%s", rule);
            snprintf(s->partner, sizeof s->partner, "%s", partner);
            atomic_store_explicit(&s->used, 1, memory_order_release);
            m->nslots++;
            return s;
        }
        if (s->action == action && s->category == category && strncmp(s->rule, rule, sizeof s->rule - 1) == 0 &&
            strncmp(s->partner, partner, sizeof s->partner - 1) == 0)
            return s;
    }
    swd_verdict_slot *o = &m->slots[n];
    if (!atomic_load_explicit(&o->used, memory_order_relaxed)) {
        o->action = (uint8_t)SW_ACTION__COUNT; /* any action */
        o->category = (uint8_t)SW_CAT__COUNT;
        snprintf(o->rule, sizeof o->rule, "_other");
        snprintf(o->partner, sizeof o->partner, "_other");
        atomic_store_explicit(&o->used, 1, memory_order_release);
    }
    return o;
}

void swd_wmetrics_verdict(swd_wmetrics *m, uint64_t gen, const sw_verdict *v)
{
    const sw_peer *peer = v->facts ? v->facts->peer : NULL;
    unsigned cat = v->rule ? (unsigned)v->category : (unsigned)SW_CAT__COUNT;
    if (m->c_slot && m->c_gen == gen && m->c_rule == v->rule && m->c_peer == peer &&
        m->c_action == v->action && m->c_category == cat) {
        swd_wmetrics_bump(&m->c_slot->n);
        return;
    }
    /* the names are copied: the policy they come from may be gone at the
     * next scrape, the counts stay */
    swd_verdict_slot *s = verdict_slot(m, v->rule ? v->rule : "default",
                                       peer && peer->name ? peer->name : "none", (unsigned)v->action,
                                       cat);
    swd_wmetrics_bump(&s->n);
    m->c_slot = s;
    m->c_gen = gen;
    m->c_rule = v->rule;
    m->c_peer = peer;
    m->c_action = (uint8_t)v->action;
    m->c_category = (uint8_t)cat;
}

/* cur - last, or cur when the source went back (it was reset): a total
 * built from these never goes backwards. */
static uint64_t delta(uint64_t cur, uint64_t last) { return cur >= last ? cur - last : cur; }

void swd_wmetrics_publish(swd_wmetrics *m, const sw_engine_stats *es)
{
    const sw_engine_stats *l = &m->last;
    add(&m->messages, delta(es->messages, l->messages));
    add(&m->malformed, delta(es->malformed, l->malformed));
    add(&m->retransmissions, delta(es->retransmissions, l->retransmissions));
    add(&m->events, delta(es->events, l->events));
    add(&m->events_suppressed, delta(es->events_suppressed, l->events_suppressed));
    add(&m->blocked, delta(es->blocked, l->blocked));
    add(&m->admission_drops, delta(es->admission_drops, l->admission_drops));
    add(&m->detector_hits, delta(es->detect.hits, l->detect.hits));
    add(&m->detector_trips, delta(es->detect.trips, l->detect.trips));
    add(&m->detector_evictions, delta(es->detect.evictions, l->detect.evictions));
    m->last = *es;
}

/* ---- the text -------------------------------------------------------------------- */

static uint64_t ld(const atomic_uint_fast64_t *c) { return atomic_load_explicit(c, memory_order_relaxed); }

/* A family with one unlabelled sample. */
static void one_u64(sw_metrics *m, const char *name, sw_metric_type t, const char *help, uint64_t v)
{
    if (sw_metrics_family(m, name, t, help) == SW_OK)
        (void)sw_metrics_u64(m, NULL, 0, v);
}

/* signed bundles (docs/bundles.md): refusals by reason, the version in force */
static void put_bundles(sw_metrics *m, swd_daemon *d)
{
    if (!d->cfg->bundle)
        return;
    one_u64(m, "sipwall_bundle_version", SW_METRIC_GAUGE, "Version of the signed bundle in force",
            atomic_load(&d->bundle_version));
    if (sw_metrics_family(m, "sipwall_bundle_refusals_total", SW_METRIC_COUNTER,
                          "Bundles refused (integrity failures), by reason") != SW_OK)
        return;
    for (unsigned s = 1; s < SW_BUNDLE__COUNT && s < 16; s++) {
        sw_metric_label l[] = {{"reason", sw_bundle_status_name((sw_bundle_status)s)}};
        (void)sw_metrics_u64(m, l, 1, atomic_load(&d->bundle_refused[s]));
    }
}

static const char *offender_kind_name(unsigned k)
{
    static const char *const n[] = {"source", "caller", "caller_prefix", "callee", "user", "peer"};
    return k < sizeof n / sizeof n[0] ? n[k] : NULL;
}

typedef struct block_count {
    int64_t now;
    uint64_t active[256];
} block_count;

static void count_block(void *ctx, sw_state_block *b)
{
    block_count *bc = ctx;
    if (b->active && b->until > bc->now)
        bc->active[b->kind]++;
}

/* A verdict series summed over the workers. */
typedef struct vrow {
    const swd_verdict_slot *s;
    uint64_t n;
} vrow;

static int vrow_cmp(const void *a, const void *b)
{
    const swd_verdict_slot *x = ((const vrow *)a)->s, *y = ((const vrow *)b)->s;
    int c = strcmp(x->rule, y->rule);
    if (!c)
        c = strcmp(x->partner, y->partner);
    if (!c)
        c = (int)x->action - (int)y->action;
    if (!c)
        c = (int)x->category - (int)y->category;
    return c;
}

static void put_verdicts(sw_metrics *m, swd_daemon *d)
{
    if (sw_metrics_family(m, "sipwall_verdicts_total", SW_METRIC_COUNTER,
                          "Screened messages by verdict action, deciding rule (default: none "
                          "matched), its category and the sending partner or zone") != SW_OK)
        return;
    vrow *rows = calloc((size_t)d->nworkers * SWD_VERDICT_SLOTS, sizeof *rows);
    if (!rows)
        return;
    size_t nr = 0;
    for (unsigned i = 0; i < d->nworkers; i++) {
        swd_wmetrics *wm = &d->workers[i]->m;
        for (unsigned k = 0; k < SWD_VERDICT_SLOTS; k++) {
            const swd_verdict_slot *s = &wm->slots[k];
            if (!atomic_load_explicit(&s->used, memory_order_acquire))
                continue;
            rows[nr].s = s;
            rows[nr].n = ld(&s->n);
            nr++;
        }
    }
    qsort(rows, nr, sizeof *rows, vrow_cmp);
    for (size_t i = 0; i < nr;) {
        uint64_t sum = rows[i].n;
        size_t j = i + 1;
        while (j < nr && vrow_cmp(&rows[i], &rows[j]) == 0)
            sum += rows[j++].n;
        const swd_verdict_slot *s = rows[i].s;
        const char *act = s->action < SW_ACTION__COUNT ? sw_action_name((sw_action)s->action) : "_other";
        const char *cat = s->category < SW_CAT__COUNT ? sw_category_name((sw_category)s->category)
                          : s->action < SW_ACTION__COUNT ? "none" : "_other";
        sw_metric_label l[] = {{"action", act}, {"rule", s->rule}, {"category", cat},
                               {"partner", s->partner}};
        (void)sw_metrics_u64(m, l, 4, sum);
        i = j;
    }
    free(rows);
}

/* sipwall's own security events (docs/security.md "Security logging"):
 * every type sipwall raises about itself, zero included, and the TLS
 * handshake failures of each TLS listener. */
static void put_security(sw_metrics *m, swd_daemon *d)
{
    static const sw_event_type own[] = {SW_EVT_EVENT_LOSS,        SW_EVT_ADMIN_AUTH_FAILURE,
                                        SW_EVT_ADMIN_CHANGE,      SW_EVT_INTEGRITY_FAILURE,
                                        SW_EVT_INTEGRITY_WARNING, SW_EVT_TLS_FAILURE,
                                        SW_EVT_PRIVILEGE};
    if (sw_metrics_family(m, "sipwall_security_events_total", SW_METRIC_COUNTER,
                          "sipwall's own security events raised, by type (event_loss counts "
                          "summaries written by the pipeline, not here)") == SW_OK)
        for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
            if (own[i] == SW_EVT_EVENT_LOSS)
                continue; /* the pipeline's own summaries: sipwall_events_total */
            sw_metric_label l[] = {{"type", sw_event_type_name(own[i])}};
            (void)sw_metrics_u64(m, l, 1, atomic_load(&d->security_events[own[i]]));
        }
    if (sw_metrics_family(m, "sipwall_tls_handshake_failures_total", SW_METRIC_COUNTER,
                          "TLS handshakes that failed, by listener (outgoing: to next hops)") != SW_OK)
        return;
    char name[80], a[SW_ADDR_STRLEN];
    for (unsigned i = 0; i < d->cfg->nlistens && i < SWD_MAX_LISTENS; i++) {
        if (d->cfg->listens[i].transport != SW_TRANSPORT_TLS)
            continue;
        sw_metric_label l[] = {{"listener", d->cfg->listens[i].name}};
        (void)sw_metrics_u64(m, l, 1, atomic_load(&d->tls_failures[i]));
    }
    for (unsigned i = 0; i < d->cfg->nheps && i < SWD_MAX_HEPS; i++) {
        if (!d->cfg->heps[i].tls)
            continue;
        if (sw_addr_format(&d->cfg->heps[i].addr, a, sizeof a) < 0)
            a[0] = '\0';
        snprintf(name, sizeof name, "hep-%s", a);
        sw_metric_label l[] = {{"listener", name}};
        (void)sw_metrics_u64(m, l, 1, atomic_load(&d->tls_failures[SWD_MAX_LISTENS + i]));
    }
    sw_metric_label l[] = {{"listener", "outgoing"}};
    (void)sw_metrics_u64(m, l, 1, atomic_load(&d->tls_failures[SWD_TLS_SLOT_CLIENT]));
}

static void put_listeners(sw_metrics *m, swd_daemon *d)
{
    if (sw_metrics_family(m, "sipwall_messages_total", SW_METRIC_COUNTER,
                          "SIP messages by listener and direction: in = received on it, out = sent "
                          "from it (counted when the socket took them)") != SW_OK)
        return;
    for (unsigned i = 0; i < d->cfg->nlistens; i++) {
        uint64_t rx = 0, tx = 0;
        for (unsigned k = 0; k < d->nworkers; k++) {
            rx += ld(&d->workers[k]->m.rx[i]);
            tx += ld(&d->workers[k]->m.tx[i]);
        }
        const swd_listen *ls = &d->cfg->listens[i];
        const char *side = ls->side == SW_SIDE_CORE ? "core" : "interconnect";
        sw_metric_label l[] = {{"listener", ls->name}, {"transport", sw_transport_name(ls->transport)},
                               {"side", side}, {"direction", "in"}};
        (void)sw_metrics_u64(m, l, 4, rx);
        l[3].value = "out";
        (void)sw_metrics_u64(m, l, 4, tx);
    }
}

static void put_workers(sw_metrics *m, swd_daemon *d, int64_t now)
{
    char id[16];
    if (sw_metrics_family(m, "sipwall_worker_cpu_seconds_total", SW_METRIC_COUNTER,
                          "CPU time used by each worker thread (user + system)") == SW_OK) {
        for (unsigned i = 0; i < d->nworkers; i++) {
            clockid_t cid;
            struct timespec ts;
            if (!d->workers[i]->started || pthread_getcpuclockid(d->workers[i]->th, &cid) != 0 ||
                clock_gettime(cid, &ts) != 0)
                continue;
            snprintf(id, sizeof id, "%u", i);
            sw_metric_label l = {"worker", id};
            (void)sw_metrics_double(m, &l, 1, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
        }
    }
    if (sw_metrics_family(m, "sipwall_worker_heartbeat_age_seconds", SW_METRIC_GAUGE,
                          "Time since each worker last turned its event loop (health: stuck "
                          "above 5 s)") == SW_OK) {
        for (unsigned i = 0; i < d->nworkers; i++) {
            int64_t hb = atomic_load_explicit(&d->workers[i]->m.heartbeat_ns, memory_order_relaxed);
            snprintf(id, sizeof id, "%u", i);
            sw_metric_label l = {"worker", id};
            (void)sw_metrics_double(m, &l, 1, hb ? (double)(now - hb) / 1e9 : -1.0);
        }
    }
    if (sw_metrics_family(m, "sipwall_inbox_bytes", SW_METRIC_GAUGE,
                          "Bytes waiting in each worker's inboxes (messages and sends handed over "
                          "by the other workers; full: sipwall_drops_total{reason=\"inbox\"})") ==
        SW_OK) {
        for (unsigned i = 0; i < d->nworkers; i++) {
            uint64_t used = 0;
            for (unsigned k = 0; k < d->nworkers; k++)
                if (d->workers[i]->inbox[k])
                    used += swd_ring_used(d->workers[i]->inbox[k]);
            snprintf(id, sizeof id, "%u", i);
            sw_metric_label l = {"worker", id};
            (void)sw_metrics_u64(m, &l, 1, used);
        }
    }
    if (sw_metrics_family(m, "sipwall_screening_duration_seconds", SW_METRIC_HISTOGRAM,
                          "Time sw_engine_screen took per message, all workers") == SW_OK) {
        uint64_t counts[SWD_LAT_BOUNDS + 1] = {0};
        uint64_t sum = 0;
        for (unsigned i = 0; i < d->nworkers; i++) {
            /* the sum first: a count read after it is never behind it by
             * more than the screenings in between (the +Inf bucket is the
             * count by construction) */
            sum += ld(&d->workers[i]->m.lat_sum_ns);
            for (unsigned b = 0; b <= SWD_LAT_BOUNDS; b++)
                counts[b] += ld(&d->workers[i]->m.lat[b]);
        }
        double bounds[SWD_LAT_BOUNDS];
        for (unsigned b = 0; b < SWD_LAT_BOUNDS; b++)
            bounds[b] = (double)lat_bounds_ns[b] / 1e9;
        (void)sw_metrics_histogram(m, NULL, 0, bounds, SWD_LAT_BOUNDS, counts, (double)sum / 1e9);
    }
}

static void put_engine(sw_metrics *m, swd_daemon *d)
{
    uint64_t t[10] = {0};
    for (unsigned i = 0; i < d->nworkers; i++) {
        swd_wmetrics *wm = &d->workers[i]->m;
        t[0] += ld(&wm->messages);
        t[1] += ld(&wm->malformed);
        t[2] += ld(&wm->retransmissions);
        t[3] += ld(&wm->events);
        t[4] += ld(&wm->events_suppressed);
        t[5] += ld(&wm->blocked);
        t[6] += ld(&wm->admission_drops);
        t[7] += ld(&wm->detector_hits);
        t[8] += ld(&wm->detector_trips);
        t[9] += ld(&wm->detector_evictions);
    }
    one_u64(m, "sipwall_screened_messages_total", SW_METRIC_COUNTER,
            "Messages screened by the engines (sensor input included)", t[0]);
    one_u64(m, "sipwall_malformed_messages_total", SW_METRIC_COUNTER,
            "Screened messages that did not parse or validate", t[1]);
    one_u64(m, "sipwall_retransmissions_total", SW_METRIC_COUNTER,
            "Screened messages recognised as retransmissions", t[2]);
    one_u64(m, "sipwall_engine_events_total", SW_METRIC_COUNTER,
            "Security events the engines emitted (summaries included)", t[3]);
    one_u64(m, "sipwall_engine_events_suppressed_total", SW_METRIC_COUNTER,
            "Events held back by a rule's event budget (reported in summaries)", t[4]);
    one_u64(m, "sipwall_blocked_messages_total", SW_METRIC_COUNTER,
            "Messages dropped because their offender was blocked", t[5]);
    one_u64(m, "sipwall_admission_drops_total", SW_METRIC_COUNTER,
            "Messages dropped by zone admission (category 0)", t[6]);
    one_u64(m, "sipwall_detector_hits_total", SW_METRIC_COUNTER,
            "Messages a behavioural detector found over its threshold", t[7]);
    one_u64(m, "sipwall_detector_trips_total", SW_METRIC_COUNTER,
            "Times a behavioural detector crossed its threshold (one event each)", t[8]);
    one_u64(m, "sipwall_detector_evictions_total", SW_METRIC_COUNTER,
            "Detector table entries evicted because the table was full", t[9]);
}

static void put_counters(sw_metrics *m, swd_daemon *d)
{
    swd_counters c;
    sw_engine_stats es;
    uint64_t conns;
    swd_workers_stats(d, &c, &es, &conns);
    if (sw_metrics_family(m, "sipwall_drops_total", SW_METRIC_COUNTER,
                          "Messages not forwarded, by reason") == SW_OK) {
        const struct {
            const char *r;
            uint64_t v;
        } dr[] = {{"policy", c.dropped_policy},   {"proxy", c.dropped_proxy},
                  {"no_route", c.dropped_no_route}, {"send", c.dropped_send},
                  {"inbox", c.dropped_inbox}};
        for (size_t i = 0; i < sizeof dr / sizeof dr[0]; i++) {
            sw_metric_label l = {"reason", dr[i].r};
            (void)sw_metrics_u64(m, &l, 1, dr[i].v);
        }
    }
    if (sw_metrics_family(m, "sipwall_forwarded_total", SW_METRIC_COUNTER,
                          "Messages sent on, by kind (request, response, reply: our own answer)") ==
        SW_OK) {
        sw_metric_label l = {"kind", "request"};
        (void)sw_metrics_u64(m, &l, 1, c.requests_forwarded);
        l.value = "response";
        (void)sw_metrics_u64(m, &l, 1, c.responses_forwarded);
        l.value = "reply";
        (void)sw_metrics_u64(m, &l, 1, c.replies);
    }
    if (sw_metrics_family(m, "sipwall_bytes_total", SW_METRIC_COUNTER,
                          "SIP bytes received and sent") == SW_OK) {
        sw_metric_label l = {"direction", "in"};
        (void)sw_metrics_u64(m, &l, 1, c.rx_bytes);
        l.value = "out";
        (void)sw_metrics_u64(m, &l, 1, c.tx_bytes);
    }
    one_u64(m, "sipwall_handed_over_total", SW_METRIC_COUNTER,
            "Messages handed to another worker through its inbox", c.handed_over);
    if (sw_metrics_family(m, "sipwall_tls_handshakes_total", SW_METRIC_COUNTER,
                          "TLS handshakes on SIP connections, by result") == SW_OK) {
        sw_metric_label l = {"result", "ok"};
        (void)sw_metrics_u64(m, &l, 1, c.tls_handshakes);
        l.value = "failed";
        (void)sw_metrics_u64(m, &l, 1, c.tls_handshake_failed);
    }
    one_u64(m, "sipwall_connections_open", SW_METRIC_GAUGE, "Open SIP stream connections", conns);
    one_u64(m, "sipwall_connections_accepted_total", SW_METRIC_COUNTER,
            "SIP stream connections accepted", c.conn_accepted);
    if (sw_metrics_family(m, "sipwall_connections_refused_total", SW_METRIC_COUNTER,
                          "SIP stream connections refused at accept, by reason") == SW_OK) {
        const struct {
            const char *r;
            uint64_t v;
        } cr[] = {{"limit", c.conn_refused},     {"fd", c.conn_refused_fd},
                  {"slots", c.conn_refused_slots}, {"ip", c.conn_refused_ip},
                  {"net", c.conn_refused_net},   {"reserve", c.conn_refused_reserve}};
        for (size_t i = 0; i < sizeof cr / sizeof cr[0]; i++) {
            sw_metric_label l = {"reason", cr[i].r};
            (void)sw_metrics_u64(m, &l, 1, cr[i].v);
        }
    }
    if (sw_metrics_family(m, "sipwall_connections_closed_total", SW_METRIC_COUNTER,
                          "SIP stream connections closed by sipwalld, by reason") == SW_OK) {
        const struct {
            const char *r;
            uint64_t v;
        } cc[] = {{"idle", c.conn_closed_idle},   {"slow", c.conn_closed_slow},
                  {"error", c.conn_closed_error}, {"limit", c.conn_closed_limit},
                  {"framing", c.conn_closed_framing}, {"stranger_idle", c.conn_closed_stranger_idle}};
        for (size_t i = 0; i < sizeof cc / sizeof cc[0]; i++) {
            sw_metric_label l = {"reason", cc[i].r};
            (void)sw_metrics_u64(m, &l, 1, cc[i].v);
        }
    }
    one_u64(m, "sipwall_sensor_messages_total", SW_METRIC_COUNTER,
            "SIP messages taken from captures and HEP", c.sensor_messages);
}

static void put_blocks(sw_metrics *m, swd_daemon *d, int64_t now)
{
    if (!d->state)
        return;
    block_count *bc = calloc(1, sizeof *bc);
    if (!bc)
        return;
    bc->now = now;
    /* The walk takes the store's lock over every entry: only when there is
     * an entry to count (the per-kind counts are read without a lock). */
    if (atomic_load_explicit(&sw_state_kinds(d->state)[SW_STATE_KIND_ALL], memory_order_relaxed))
        sw_state_block_foreach(d->state, count_block, bc);
    if (sw_metrics_family(m, "sipwall_blocks_active", SW_METRIC_GAUGE,
                          "Blocks in force, by offender kind") == SW_OK)
        for (unsigned k = 0; offender_kind_name(k); k++) {
            sw_metric_label l = {"kind", offender_kind_name(k)};
            (void)sw_metrics_u64(m, &l, 1, bc->active[k]);
        }
    free(bc);
    sw_state_stats ss;
    sw_state_stats_get(d->state, &ss);
    one_u64(m, "sipwall_block_entries", SW_METRIC_GAUGE,
            "Entries in the block store (in force, or kept to double a repeat offence)", ss.entries);
    one_u64(m, "sipwall_block_capacity", SW_METRIC_GAUGE, "Ceiling of the block store (limits blocks)",
            ss.capacity);
    one_u64(m, "sipwall_block_evictions_total", SW_METRIC_COUNTER,
            "Block entries evicted to make room", ss.evictions);
    one_u64(m, "sipwall_blocks_set_total", SW_METRIC_COUNTER, "Blocks set or renewed", ss.blocks_set);
}

static void put_events(sw_metrics *m, swd_daemon *d)
{
    sw_event_pipeline_stats st;
    memset(&st, 0, sizeof st);
    if (d->events)
        swd_events_pipeline_stats(d, &st);
    one_u64(m, "sipwall_event_queue_depth", SW_METRIC_GAUGE,
            "Events waiting in the workers' queues for the writer", st.queued);
    one_u64(m, "sipwall_event_queue_max_depth", SW_METRIC_GAUGE,
            "Most events one worker's queue ever held", st.max_depth);
    one_u64(m, "sipwall_events_enqueued_total", SW_METRIC_COUNTER,
            "Events accepted into the queues", st.enqueued);
    one_u64(m, "sipwall_events_dropped_total", SW_METRIC_COUNTER,
            "Events lost: a full queue (reported as event_loss events)", st.dropped);
    one_u64(m, "sipwall_events_written_total", SW_METRIC_COUNTER,
            "Event records written to the store and file", st.written);
    one_u64(m, "sipwall_event_write_errors_total", SW_METRIC_COUNTER,
            "Failed writes to the event store (retried)", st.write_errors);
    one_u64(m, "sipwall_event_store_lag_events", SW_METRIC_GAUGE,
            "Events accepted but not yet written (enqueued - written - dropped at write)",
            st.enqueued > st.written + st.abandoned ? st.enqueued - st.written - st.abandoned : 0);
}

static void put_exporters(sw_metrics *m, swd_daemon *d)
{
    sw_exporter_stats st[SWD_MAX_EXPORTS];
    unsigned n = d->nexporters < SWD_MAX_EXPORTS ? d->nexporters : SWD_MAX_EXPORTS;
    for (unsigned i = 0; i < n; i++)
        sw_exporter_get_stats(d->exporters[i], &st[i]);
    if (sw_metrics_family(m, "sipwall_exporter_up", SW_METRIC_GAUGE,
                          "1 when the exporter has a session with its collector") == SW_OK)
        for (unsigned i = 0; i < n; i++) {
            sw_metric_label l = {"exporter", sw_exporter_name(d->exporters[i])};
            (void)sw_metrics_u64(m, &l, 1, st[i].connected);
        }
    if (sw_metrics_family(m, "sipwall_exporter_lag_events", SW_METRIC_GAUGE,
                          "Events in the event store the collector has not acknowledged (last id "
                          "- cursor)") == SW_OK)
        for (unsigned i = 0; i < n; i++) {
            sw_metric_label l = {"exporter", sw_exporter_name(d->exporters[i])};
            (void)sw_metrics_u64(m, &l, 1, st[i].behind > 0 ? (uint64_t)st[i].behind : 0);
        }
    if (sw_metrics_family(m, "sipwall_exporter_cursor", SW_METRIC_GAUGE,
                          "The last event id the exporter knows written") == SW_OK)
        for (unsigned i = 0; i < n; i++) {
            sw_metric_label l = {"exporter", sw_exporter_name(d->exporters[i])};
            (void)sw_metrics_u64(m, &l, 1, st[i].cursor > 0 ? (uint64_t)st[i].cursor : 0);
        }
    if (sw_metrics_family(m, "sipwall_event_store_last_id", SW_METRIC_GAUGE,
                          "The newest event id in the store, as the exporter last saw it") == SW_OK)
        for (unsigned i = 0; i < n; i++) {
            sw_metric_label l = {"exporter", sw_exporter_name(d->exporters[i])};
            (void)sw_metrics_u64(m, &l, 1, st[i].last_id > 0 ? (uint64_t)st[i].last_id : 0);
        }
    if (sw_metrics_family(m, "sipwall_exporter_sent_total", SW_METRIC_COUNTER,
                          "Syslog messages written (resends included)") == SW_OK)
        for (unsigned i = 0; i < n; i++) {
            sw_metric_label l = {"exporter", sw_exporter_name(d->exporters[i])};
            (void)sw_metrics_u64(m, &l, 1, st[i].sent);
        }
    if (sw_metrics_family(m, "sipwall_exporter_failures_total", SW_METRIC_COUNTER,
                          "Exporter failures by kind (connect, handshake, write)") == SW_OK)
        for (unsigned i = 0; i < n; i++) {
            sw_metric_label l[2] = {{"exporter", sw_exporter_name(d->exporters[i])}, {"kind", "connect"}};
            (void)sw_metrics_u64(m, l, 2, st[i].connect_failures);
            l[1].value = "handshake";
            (void)sw_metrics_u64(m, l, 2, st[i].handshake_failures);
            l[1].value = "write";
            (void)sw_metrics_u64(m, l, 2, st[i].write_failures);
        }
}

char *swd_metrics_text(swd_daemon *d, size_t *len)
{
    *len = 0;
    sw_metrics *m = sw_metrics_new(0);
    if (!m)
        return NULL;
    int64_t now = swd_now_ns();
    if (sw_metrics_family(m, "sipwall_build_info", SW_METRIC_GAUGE,
                          "Always 1; the version in a label") == SW_OK) {
        sw_metric_label l[] = {{"version", swd_version()}, {"mode", swd_mode_name(d->cfg->mode)}};
        (void)sw_metrics_u64(m, l, 2, 1);
    }
    one_u64(m, "sipwall_start_time_seconds", SW_METRIC_GAUGE, "When sipwalld started (Unix time)",
            (uint64_t)(d->started_ns / 1000000000));
    one_u64(m, "sipwall_workers", SW_METRIC_GAUGE, "Worker threads", d->nworkers);
    swd_policy_gen *g = atomic_load(&d->policy);
    one_u64(m, "sipwall_policy_generation", SW_METRIC_GAUGE,
            "The policy generation published (1 at start, +1 per reload)", g ? g->gen : 0);
    one_u64(m, "sipwall_policy_reloads_total", SW_METRIC_COUNTER, "Policy reloads done",
            __atomic_load_n(&d->reloads, __ATOMIC_RELAXED));
    put_bundles(m, d);
    put_security(m, d);
    put_listeners(m, d);
    put_verdicts(m, d);
    put_engine(m, d);
    put_counters(m, d);
    put_blocks(m, d, now);
    put_events(m, d);
    put_exporters(m, d);
    put_workers(m, d, now);
    char *out = sw_metrics_finish(m, len);
    if (!out)
        swd_err("metrics", "cannot render the metrics: %s", sw_strerror(sw_metrics_error(m)));
    sw_metrics_free(m);
    return out;
}

/* ---- health -------------------------------------------------------------------- */

int swd_health(swd_daemon *d, char **json)
{
    int64_t now = swd_now_ns();
    swd_policy_gen *g = atomic_load(&d->policy);
    json_t *o = json_object();
    json_t *stale = json_array();
    int ok = g != NULL && d->nworkers > 0;
    for (unsigned i = 0; i < d->nworkers; i++) {
        swd_worker *w = d->workers[i];
        int64_t hb = w ? atomic_load_explicit(&w->m.heartbeat_ns, memory_order_relaxed) : 0;
        if (!w || !w->started || hb == 0 || now - hb > SWD_HEALTH_STALE_NS) {
            ok = 0;
            json_array_append_new(stale, json_integer(i));
        }
    }
    uint64_t acked = d->nworkers ? swd_workers_policy_acked(d) : 0;
    if (acked == 0)
        ok = 0; /* no worker has a policy in force */
    *json = NULL;
    if (o && stale) {
        json_object_set_new(o, "status", json_string(ok ? "ok" : "unhealthy"));
        json_object_set_new(o, "workers", json_integer(d->nworkers));
        json_object_set_new(o, "stuck_workers", stale);
        stale = NULL;
        json_object_set_new(o, "policy_generation", json_integer(g ? (json_int_t)g->gen : 0));
        json_object_set_new(o, "policy_generation_in_force", json_integer((json_int_t)acked));
        *json = json_dumps(o, JSON_COMPACT);
    }
    json_decref(stale);
    json_decref(o);
    return ok;
}

/* ---- the HTTP listener ------------------------------------------------------------- */

#define HTTP_MAX_HEADERS 8192
#define HTTP_TIMEOUT_S 5
/* Connections held at once.  At the ceiling the listener stops accepting
 * (further clients wait in the kernel's backlog) until one closes; with
 * the 5 s timeout an idle client holds a slot 5 s at most. */
#define HTTP_MAX_CONNS 16

struct swd_metrics_http {
    swd_daemon *d;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *tick;
    pthread_t th;
    atomic_int stop;
    int started;
    struct bufferevent *conns[HTTP_MAX_CONNS]; /* the HTTP thread's */
    unsigned conns_now;
    int paused;
};

/* libevent 2.1's evhttp has no connection limit and no hook when it frees
 * a connection.  Every connection's bufferevent is made here and we keep a
 * reference to it: when evhttp frees it, bufferevent_free clears its
 * callbacks (a live evhttp connection always has its error callback), and
 * the next tick (200 ms) drops our reference, which closes the socket and
 * frees the slot.  The read high-water mark keeps what such a connection
 * can buffer small (a request is 8 KiB of headers and no body). */
static void conns_reap(swd_metrics_http *h)
{
    unsigned j = 0;
    for (unsigned i = 0; i < h->conns_now; i++) {
        struct bufferevent *bev = h->conns[i];
        bufferevent_data_cb r, w;
        bufferevent_event_cb e;
        void *arg;
        bufferevent_getcb(bev, &r, &w, &e, &arg);
        if (!r && !w && !e) {
            bufferevent_disable(bev, EV_READ | EV_WRITE);
            bufferevent_decref(bev);
        } else {
            h->conns[j++] = bev;
        }
    }
    h->conns_now = j;
    if (h->paused && h->conns_now < HTTP_MAX_CONNS && h->bound) {
        evconnlistener_enable(evhttp_bound_socket_get_listener(h->bound));
        h->paused = 0;
    }
}

static struct bufferevent *new_conn(struct event_base *base, void *arg)
{
    swd_metrics_http *h = arg;
    if (h->conns_now >= HTTP_MAX_CONNS)
        conns_reap(h); /* only when the listener was not paused in time */
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev || h->conns_now >= HTTP_MAX_CONNS)
        return bev; /* no memory (evhttp refuses the connection), or uncounted */
    bufferevent_setwatermark(bev, EV_READ, 0, HTTP_MAX_HEADERS * 2);
    bufferevent_incref(bev);
    h->conns[h->conns_now++] = bev;
    if (h->conns_now >= HTTP_MAX_CONNS && h->bound && !h->paused) {
        evconnlistener_disable(evhttp_bound_socket_get_listener(h->bound));
        h->paused = 1;
    }
    return bev;
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                       const char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "Connection", "close");
    struct evbuffer *b = evbuffer_new();
    if (b && body)
        evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    swd_metrics_http *h = arg;
    const char *uri = evhttp_request_get_uri(req);
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
        reply_text(req, 405, "Method Not Allowed", "text/plain", "GET only\n", 9);
        return;
    }
    /* the path alone; a query string is ignored (Prometheus sends none) */
    size_t plen = uri ? strcspn(uri, "?") : 0;
    if (plen == 8 && memcmp(uri, "/metrics", 8) == 0) {
        size_t len;
        char *t = swd_metrics_text(h->d, &len);
        if (!t) {
            reply_text(req, 500, "Internal Server Error", "text/plain", "out of memory\n", 14);
            return;
        }
        reply_text(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", t, len);
        free(t);
        return;
    }
    if (plen == 7 && memcmp(uri, "/health", 7) == 0) {
        char *j = NULL;
        int ok = swd_health(h->d, &j);
        const char *body = j ? j : "{}";
        if (ok)
            reply_text(req, 200, "OK", "application/json", body, strlen(body));
        else
            reply_text(req, 503, "Service Unavailable", "application/json", body, strlen(body));
        free(j);
        return;
    }
    reply_text(req, 404, "Not Found", "text/plain", "GET /metrics or /health\n", 24);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    swd_metrics_http *h = arg;
    conns_reap(h);
    if (atomic_load(&h->stop))
        event_base_loopbreak(h->base);
}

static void *http_main(void *arg)
{
    swd_metrics_http *h = arg;
    event_base_dispatch(h->base);
    return NULL;
}

void swd_metrics_http_stop(swd_metrics_http *h)
{
    if (!h)
        return;
    if (h->started) {
        atomic_store(&h->stop, 1);
        pthread_join(h->th, NULL);
    }
    if (h->tick)
        event_free(h->tick);
    if (h->http)
        evhttp_free(h->http); /* frees its connections: ours are then unused */
    for (unsigned i = 0; i < h->conns_now; i++)
        bufferevent_decref(h->conns[i]);
    if (h->base)
        event_base_free(h->base);
    free(h);
}

swd_metrics_http *swd_metrics_http_start(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *cfg = d->cfg;
    swd_metrics_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "metrics: out of memory");
        return NULL;
    }
    h->d = d;
    char host[SW_ADDR_STRLEN];
    if (!inet_ntop(cfg->metrics_addr.family == 6 ? AF_INET6 : AF_INET, cfg->metrics_addr.ip, host,
                   sizeof host)) {
        snprintf(err, errlen, "metrics listen: bad address");
        swd_metrics_http_stop(h);
        return NULL;
    }
    if (!(h->base = event_base_new()) || !(h->http = evhttp_new(h->base))) {
        snprintf(err, errlen, "metrics: cannot create the HTTP server (memory)");
        swd_metrics_http_stop(h);
        return NULL;
    }
    /* Requests: GET only, headers 8 KiB, no body, 5 s to send one; every
     * answer closes the connection (a scrape every few seconds needs no
     * keep-alive, and no idle connection is held). */
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET); /* others: 405 from evhttp */
    evhttp_set_max_headers_size(h->http, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(h->http, 0);
    evhttp_set_timeout(h->http, HTTP_TIMEOUT_S);
    evhttp_set_gencb(h->http, on_request, h);
    evhttp_set_bevcb(h->http, new_conn, h);
    if (!(h->bound = evhttp_bind_socket_with_handle(h->http, host, cfg->metrics_addr.port))) {
        snprintf(err, errlen, "metrics listen %s:%u: cannot bind: %s", host,
                 (unsigned)cfg->metrics_addr.port, strerror(errno));
        swd_metrics_http_stop(h);
        return NULL;
    }
    struct timeval tv = {0, 200000};
    if (!(h->tick = event_new(h->base, -1, EV_PERSIST, on_tick, h)) || event_add(h->tick, &tv) != 0) {
        snprintf(err, errlen, "metrics: cannot create its timer");
        swd_metrics_http_stop(h);
        return NULL;
    }
    if (pthread_create(&h->th, NULL, http_main, h) != 0) {
        snprintf(err, errlen, "metrics: cannot start its thread");
        swd_metrics_http_stop(h);
        return NULL;
    }
    h->started = 1;
    swd_info("metrics", "metrics listening on http://%s%s%s:%u/metrics (and /health)",
             cfg->metrics_addr.family == 6 ? "[" : "", host, cfg->metrics_addr.family == 6 ? "]" : "",
             (unsigned)cfg->metrics_addr.port);
    return h;
}
