/* Test helpers for the detectors: hand-built facts, default detector
 * configuration, hit lookup. */
#ifndef SW_DETECT_TEST_UTIL_H
#define SW_DETECT_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sipwall/detect.h"

#define TU static __attribute__((unused))

#define S(x) ((int64_t)(x) * SW_NS_S)
#define MS(x) ((int64_t)(x) * 1000000)
#define T0 S(1764000000) /* 2025-11-24, a realistic epoch */

TU sw_peer zone = {.name = "unknown", .is_zone = 1, .name_fp = 0x2001};
TU sw_peer core = {.name = "core", .role = SW_ROLE_CORE, .name_fp = 0x2002};
TU sw_peer carrier = {.name = "carrier-a", .role = SW_ROLE_INTERCONNECT, .name_fp = 0x2003, .cps = 10,
                          .concurrency = 5};
TU sw_peer transit = {.name = "transit-b", .role = SW_ROLE_TRANSIT, .name_fp = 0x2004};

/* One message: the facts and the bytes their views point into.  Build in
 * place (the views point into the struct); do not copy. */
typedef struct tmsg {
    sw_facts f;
    char callid[64], branch[64], ruri_user[64], to_user[64], auth_user[64], to_tag[16];
} tmsg;

TU void tset(sw_str *s, char *buf, size_t cap, const char *v)
{
    size_t n = strlen(v);
    assert_true(n < cap);
    memcpy(buf, v, n + 1);
    *s = sw_str_make(buf, n);
}

TU sw_addr ip4(uint32_t ip, uint16_t port)
{
    sw_addr a = {.family = 4, .port = port};
    a.ip[0] = (uint8_t)(ip >> 24);
    a.ip[1] = (uint8_t)(ip >> 16);
    a.ip[2] = (uint8_t)(ip >> 8);
    a.ip[3] = (uint8_t)ip;
    return a;
}

#define ATTACKER ip4(0xC6336401u, 5060) /* 198.51.100.1 */
#define SBC ip4(0x0A000001u, 5060)      /* 10.0.0.1, our border */
#define CARRIER ip4(0xCB007105u, 5060)  /* 203.0.113.5 */

/* A request from src (peer) to dst (the core), ingress. */
TU void t_req(tmsg *t, int64_t ts, sw_method m, sw_addr src, const sw_peer *peer,
                  const char *callid, uint32_t cseq, const char *branch)
{
    memset(t, 0, sizeof *t);
    sw_facts *f = &t->f;
    f->ts_ns = ts;
    f->src = src;
    f->dst = SBC;
    f->transport = SW_TRANSPORT_UDP;
    f->is_request = 1;
    f->method = m;
    const char *name = sw_method_name(m);
    f->method_name = sw_str_make(name, strlen(name));
    f->cseq = cseq;
    tset(&f->call_id, t->callid, sizeof t->callid, callid);
    tset(&f->branch, t->branch, sizeof t->branch, branch);
    f->expires = -1;
    f->peer = peer;
    f->dst_peer = &core;
    f->direction = peer == &core ? SW_DIR_EGRESS : SW_DIR_INGRESS;
}

TU void t_user(tmsg *t, const char *user)
{
    tset(&t->f.ruri_user, t->ruri_user, sizeof t->ruri_user, user);
    tset(&t->f.to_user, t->to_user, sizeof t->to_user, user);
}

TU void t_a(tmsg *t, const char *a)
{
    size_t n = strlen(a);
    memcpy(t->f.a, a, n);
    t->f.a_len = (uint8_t)n;
    t->f.a_e164 = a[0] == '+';
    t->f.a_subscriber = strncmp(a, "+44", 3) == 0;
}

TU void t_b(tmsg *t, const char *b)
{
    size_t n = strlen(b);
    memcpy(t->f.b, b, n);
    t->f.b_len = (uint8_t)n;
    t->f.b_e164 = b[0] == '+';
    t->f.b_subscriber = strncmp(b, "+44", 3) == 0; /* home: the UK */
    t_user(t, b);
}

TU void t_creds(tmsg *t, const char *user)
{
    t->f.has_credentials = 1;
    tset(&t->f.auth_user, t->auth_user, sizeof t->auth_user, user);
}

TU void t_totag(tmsg *t, const char *tag)
{
    tset(&t->f.to_tag, t->to_tag, sizeof t->to_tag, tag);
}

/* The response to req: reversed addresses and peers, same transaction ids. */
TU void t_resp(tmsg *t, const tmsg *req, int64_t ts, uint16_t status)
{
    memset(t, 0, sizeof *t);
    sw_facts *f = &t->f;
    f->ts_ns = ts;
    f->src = req->f.dst;
    f->dst = req->f.src;
    f->transport = req->f.transport;
    f->status = status;
    f->method = req->f.method;
    f->method_name = req->f.method_name;
    f->cseq = req->f.cseq;
    tset(&f->call_id, t->callid, sizeof t->callid, req->callid);
    tset(&f->branch, t->branch, sizeof t->branch, req->branch);
    if (req->f.to_user.len)
        tset(&f->to_user, t->to_user, sizeof t->to_user, req->to_user);
    if (status > 100)
        t_totag(t, "tt");
    f->expires = -1;
    f->peer = req->f.dst_peer;
    f->dst_peer = req->f.peer;
    f->direction = req->f.direction == SW_DIR_INGRESS ? SW_DIR_EGRESS : SW_DIR_INGRESS;
}

TU void default_conf(sw_detector_conf conf[SW_DET__COUNT])
{
    unsigned n;
    const sw_detector_param_spec *ps = sw_detector_params(&n);
    for (unsigned det = 0; det < SW_DET__COUNT; det++) {
        memset(&conf[det], 0, sizeof conf[det]);
        conf[det].enabled = 1;
        conf[det].action = SW_ACTION_DROP;
        conf[det].confidence = 80;
        conf[det].exempt_peers = 1;
        conf[det].list = -1;
        for (unsigned i = 0; i < n; i++)
            conf[det].params[ps[i].param] = ps[i].def;
    }
}

TU sw_detectors *mk_det(const sw_detector_conf *conf, uint32_t entries,
                            const sw_prefix_set *hot)
{
    sw_detect_config cfg = {.conf = conf,
                            .limits = {.sources = entries, .numbers = entries, .dialogs = entries},
                            .irsf_hot = hot,
                            .seed = 42};
    sw_detectors *d = sw_detectors_new(&cfg);
    assert_non_null(d);
    return d;
}

TU sw_detectors *mk_default(void)
{
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    return mk_det(conf, 4096, NULL);
}

TU sw_detect_result obs(sw_detectors *d, tmsg *t)
{
    sw_detect_result r;
    memset(&r, 0xa5, sizeof r); /* the detectors must set what matters */
    sw_detectors_observe(d, &t->f, &r);
    assert_true(r.nhits <= SW_DETECT_MAX_HITS);
    return r;
}

TU const sw_detect_hit *find_hit(const sw_detect_result *r, const char *rule)
{
    for (unsigned i = 0; i < r->nhits; i++)
        if (strcmp(r->hits[i].rule, rule) == 0)
            return &r->hits[i];
    return NULL;
}

/* Running tally of one rule over many messages. */
typedef struct tally {
    const char *rule;
    unsigned trips, hits;
    sw_detect_hit first_trip;
    int64_t first_trip_ts;
    unsigned first_trip_msg, msgs;
} tally;

TU void tally_add(tally *t, const sw_detect_result *r, int64_t ts)
{
    t->msgs++;
    for (unsigned i = 0; i < r->nhits; i++) {
        if (strcmp(r->hits[i].rule, t->rule) != 0)
            continue;
        t->hits++;
        if (r->hits[i].trip) {
            if (!t->trips) {
                t->first_trip = r->hits[i];
                t->first_trip_ts = ts;
                t->first_trip_msg = t->msgs;
            }
            t->trips++;
        }
    }
}

TU int64_t evidence(const sw_detect_hit *h, const char *key)
{
    for (unsigned i = 0; i < h->nevidence; i++)
        if (strcmp(h->evidence[i].key, key) == 0)
            return h->evidence[i].num;
    fail_msg("no evidence %s in %s", key, h->rule);
    return -1;
}

TU int64_t hits_total(sw_detectors *d)
{
    sw_detect_stats st;
    sw_detectors_stats(d, &st);
    return (int64_t)st.hits;
}

#endif
