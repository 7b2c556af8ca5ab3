/* bench_screen — full screening throughput: parse + policy + privacy +
 * every detector, per core, on the messages of real captures; and the
 * engine's memory under a flood from random sources.
 *
 * usage: bench_screen [-t SECONDS] [-r ROUNDS] [-n PASSES] [-f FLOOD] [--policy FILE]... CAPTURE...
 *
 * The captures are read once (sw_capture: UDP, TCP reassembly, fragments)
 * and their SIP messages kept in memory with their metadata; then the whole
 * set is screened again and again by one engine (one thread = one core)
 * until SECONDS (2) have passed, best of ROUNDS (3).  Each pass shifts the
 * timestamps past the previous one, so windows, dialogs and blocks behave as
 * in a longer capture.  Events go to a sink that only counts them (event
 * output is I/O, measured elsewhere).
 *
 * -n PASSES screens the set exactly PASSES times per round instead of for
 * SECONDS: a fixed amount of work, for instruction counts under
 * `valgrind --tool=callgrind --toggle-collect=sw_engine_screen` (bench/README.md).
 *
 * Then FLOOD (1000000) INVITEs from random IPv4 sources with random callers
 * and callees are screened by a fresh engine; its state size and the
 * process's resident memory are printed before and after.
 *
 * Figures are printed, never asserted. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipwall/capture.h"
#include "sipwall/engine.h"
#include "sipwall/policy.h"

typedef struct bmsg {
    char *data;
    size_t len;
    sw_engine_msg m;
} bmsg;

static bmsg *msgs;
static size_t nmsgs, capmsgs;
static int64_t t_first, t_last;

static int collect(void *ctx, const sw_capture_msg *cm)
{
    (void)ctx;
    if (nmsgs == capmsgs) {
        capmsgs = capmsgs ? capmsgs * 2 : 4096;
        msgs = realloc(msgs, capmsgs * sizeof *msgs);
        if (!msgs)
            return 1;
    }
    bmsg *b = &msgs[nmsgs++];
    b->data = malloc(cm->len ? cm->len : 1);
    if (!b->data)
        return 1;
    memcpy(b->data, cm->data, cm->len);
    b->len = cm->len;
    memset(&b->m, 0, sizeof b->m);
    b->m.data = b->data;
    b->m.len = cm->len;
    b->m.ts_ns = cm->ts_ns;
    b->m.src = cm->src;
    b->m.dst = cm->dst;
    b->m.transport = cm->transport;
    b->m.framing = cm->transport == SW_TRANSPORT_UDP || cm->transport == SW_TRANSPORT_UNKNOWN
                       ? SW_SIP_DATAGRAM
                       : SW_SIP_STREAM;
    b->m.frame = cm->frame;
    if (!t_first || cm->ts_ns < t_first)
        t_first = cm->ts_ns;
    if (cm->ts_ns > t_last)
        t_last = cm->ts_ns;
    return 0;
}

typedef struct count_sink {
    sw_event_sink base;
} count_sink;
static int c_emit(sw_event_sink *s, const sw_event *ev)
{
    (void)s;
    (void)ev;
    return SW_OK;
}
static int c_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static const sw_event_sink_ops c_ops = {
    .name = "count", .emit = c_emit, .flush = c_flush, .close = c_flush};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    int rounds = 3;
    long flood = 1000000;
    long passes = 0; /* 0: run for `seconds` */
    const char *policies[16];
    size_t npol = 0;
    static const struct option lo[] = {{"policy", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "t:r:n:f:", lo, NULL)) != -1) {
        switch (c) {
        case 't': seconds = atof(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 'n': passes = atol(optarg); break;
        case 'f': flood = atol(optarg); break;
        case 'P':
            if (npol < 16)
                policies[npol++] = optarg;
            break;
        default:
            fprintf(stderr, "usage: bench_screen [-t S] [-r N] [-n PASSES] [-f FLOOD] [--policy FILE]... CAPTURE...\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "bench_screen: no CAPTURE\n");
        return 2;
    }
    if (npol == 0)
        policies[npol++] = "builtin:default";
    sw_policy *pol = NULL;
    static sw_policy_diags d;
    if (sw_policy_load(policies, npol, &pol, &d) != SW_OK) {
        for (uint32_t i = 0; i < d.n; i++) {
            char line[600];
            if (sw_policy_diag_format(&d.d[i], line, sizeof line) > 0)
                fprintf(stderr, "%s\n", line);
        }
        return 1;
    }
    for (int i = optind; i < argc; i++) {
        char err[256];
        sw_capture *cap = sw_capture_open_file(argv[i], NULL, err, sizeof err);
        if (!cap) {
            fprintf(stderr, "bench_screen: %s: %s\n", argv[i], err);
            return 1;
        }
        (void)sw_capture_run(cap, collect, NULL);
        sw_capture_free(cap);
    }
    size_t bytes = 0;
    for (size_t i = 0; i < nmsgs; i++)
        bytes += msgs[i].len;
    printf("messages: %zu from %d capture(s), %.1f KiB, policy %s\n", nmsgs, argc - optind,
           (double)bytes / 1024, pol->name ? pol->name : "?");

    count_sink cs = {{&c_ops, 0, 0}};
    sw_engine_config cfg = {.policy = pol, .sink = &cs.base, .passive = 1, .seed = 1};
    double best = 0;
    uint64_t events = 0;
    int64_t span = t_last - t_first + 1000000000;
    for (int r = 0; r < rounds; r++) {
        sw_engine *e = sw_engine_new(&cfg);
        if (!e)
            return 1;
        uint64_t done = 0;
        int64_t shift = 0;
        double t0 = now_s(), t1;
        do {
            for (size_t i = 0; i < nmsgs; i++) {
                sw_engine_msg m = msgs[i].m;
                m.ts_ns += shift;
                sw_verdict v;
                (void)sw_engine_screen(e, &m, &v);
            }
            done += nmsgs;
            shift += span;
            t1 = now_s();
        } while (passes > 0 ? nmsgs && (long)(done / nmsgs) < passes : t1 - t0 < seconds);
        double rate = (double)done / (t1 - t0);
        if (rate > best)
            best = rate;
        sw_engine_stats st;
        sw_engine_get_stats(e, &st);
        events = st.events;
        sw_engine_free(e);
    }
    printf("screen:   %.0f messages/s per core (best of %d x %.1f s), %.2f us/message, %llu events in the last round\n",
           best, rounds, seconds, 1e6 / best, (unsigned long long)events);

    /* memory under a random-source flood */
    sw_engine *e = sw_engine_new(&cfg);
    if (!e)
        return 1;
    size_t mem0 = sw_engine_memory(e);
    long rss0 = rss_kib();
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char buf[512];
    int64_t ts = t_first;
    double t0 = now_s();
    long rss_mid = 0;
    for (long i = 0; i < flood; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int n = snprintf(buf, sizeof buf,
                         "INVITE sip:+4477009%05u@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK%llx\r\n"
                         "From: <sip:+33%09u@h>;tag=1\r\nTo: <sip:+4477009%05u@h>\r\nCall-ID: %llx\r\n"
                         "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                         (unsigned)(x % 100000), (unsigned long long)x, (unsigned)((x >> 17) % 1000000000u),
                         (unsigned)(x % 100000), (unsigned long long)x);
        sw_engine_msg m = {.data = buf, .len = (size_t)n, .ts_ns = ts, .transport = SW_TRANSPORT_UDP};
        m.src.family = 4;
        memcpy(m.src.ip, &x, 4);
        m.src.port = 5060;
        m.dst.family = 4;
        m.dst.ip[0] = 10;
        m.dst.ip[3] = 1;
        m.dst.port = 5060;
        ts += 20000; /* 50k messages/s of capture time */
        sw_verdict v;
        (void)sw_engine_screen(e, &m, &v);
        if (i == flood / 2)
            rss_mid = rss_kib();
    }
    double t1 = now_s();
    sw_engine_stats st;
    sw_engine_get_stats(e, &st);
    printf("flood:    %ld INVITEs from random sources in %.2f s (%.0f/s); engine state %zu KiB before, %zu KiB after;"
           " RSS %ld KiB before, %ld KiB half-way, %ld KiB after; %llu events, %llu held back, %llu evictions\n",
           flood, t1 - t0, (double)flood / (t1 - t0), mem0 / 1024, sw_engine_memory(e) / 1024, rss0, rss_mid,
           rss_kib(), (unsigned long long)st.events, (unsigned long long)st.events_suppressed,
           (unsigned long long)st.detect.evictions);
    sw_engine_free(e);
    sw_policy_free(pol);
    for (size_t i = 0; i < nmsgs; i++)
        free(msgs[i].data);
    free(msgs);
    return 0;
}
