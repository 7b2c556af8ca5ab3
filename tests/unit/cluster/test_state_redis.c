/* The Redis state store (src/cluster/state_redis.c) against a real
 * redis-server started here on 127.178.0.1 (ACL user, no default user),
 * stopped by its PID: two backend instances in one process are two nodes.
 *   - a block set on A is a hit on B within 1 s (20 blocks: median and
 *     worst printed); an unblock on B lifts it on A;
 *   - the key expires in Redis at the block's end + 24 h; a block ends on
 *     every node;
 *   - a repeat offence set on B after A's block doubles, and A agrees;
 *   - Redis killed: both answer from their mirrors, A blocks and unblocks
 *     on; Redis back (empty: no persistence): they converge (B gets A's
 *     outage blocks, A's earlier blocks are sent again);
 *   - a full queue: writes dropped and counted, sent by the next resync;
 *     a burst of 6000 blocks reaches the other node;
 *   - a wrong password: AUTH refused, counted, logged without the
 *     password, the store keeps working locally;
 *   - TLS to redis-server with a throwaway PKI (tests/peers/mkpki.sh). */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/cluster.h"

#define HOST "127.178.0.1"
#define PORT 6391
#define TLS_PORT 6392
#define SECRET "s3cret-for-the-test"
#define MS (INT64_C(1000000))
#define SEC (INT64_C(1000000000))

static char dir[256];
static pid_t redis_pid = -1;

static int64_t wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int port_open(int port)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ss -H -lnt 'sport = :%d' | grep -q .", port);
    return system(cmd) == 0;
}

/* redis-server in the foreground as a child: plain (port) or TLS-only */
static void redis_start(int tls)
{
    int port = tls ? TLS_PORT : PORT;
    char portstr[16], logf[300], pki[300], cert[320], key[320], ca[320];
    snprintf(portstr, sizeof portstr, "%d", port);
    snprintf(logf, sizeof logf, "%s/redis%s.log", dir, tls ? "-tls" : "");
    snprintf(pki, sizeof pki, "%s/pki", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", pki);
    snprintf(key, sizeof key, "%s/server.key", pki);
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *plain[] = {"redis-server", "--bind", HOST, "--port", portstr, "--save", "", "--appendonly",
                               "no", "--dir", dir, "--daemonize", "no", "--logfile", logf, "--user", "default",
                               "off", "--user", "sipwall", "on", ">" SECRET, "~sipwall:*", "&*", "+@all",
                               "-@dangerous", NULL};
        const char *secure[] = {"redis-server", "--bind", HOST, "--port", "0", "--tls-port", portstr,
                                "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca,
                                "--tls-auth-clients", "yes", "--save", "", "--appendonly", "no", "--dir", dir,
                                "--daemonize", "no", "--logfile", logf, "--user", "default", "off", "--user",
                                "sipwall", "on", ">" SECRET, "~sipwall:*", "&*", "+@all", "-@dangerous", NULL};
        /* dies with this test, and holds none of ctest's pipes: a failed
         * assertion must not leave a redis-server that keeps ctest waiting */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp("redis-server", (char *const *)(tls ? secure : plain));
        _exit(127);
    }
    redis_pid = pid;
    for (int i = 0; i < 100 && !port_open(port); i++)
        sleep_ms(50);
    assert_true(port_open(port));
}

static void redis_kill(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
        redis_pid = -1;
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/test_state_redis.XXXXXX", SW_BUILD_DIR);
    if (!mkdtemp(dir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    redis_kill();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct logbuf {
    char text[8192];
    size_t n;
} logbuf;

/* the nodes' background threads log while the test reads */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void log_to(void *ctx, int level, const char *msg)
{
    logbuf *l = ctx;
    (void)level;
    pthread_mutex_lock(&log_mu);
    int n = snprintf(l->text + l->n, sizeof l->text - l->n, "%s\n", msg);
    if (n > 0 && l->n + (size_t)n < sizeof l->text)
        l->n += (size_t)n;
    pthread_mutex_unlock(&log_mu);
}

static int log_has(logbuf *l, const char *what)
{
    pthread_mutex_lock(&log_mu);
    int yes = strstr(l->text, what) != NULL;
    pthread_mutex_unlock(&log_mu);
    return yes;
}

static uint32_t node_queue = 1024, node_capacity = 4096;
static const char *node_prefix = "sipwall:";

static sw_state_store *node(const char *name, const char *password, SSL_CTX *tls, sw_redis **h, logbuf *l)
{
    sw_redis_config c;
    memset(&c, 0, sizeof c);
    char where[64];
    snprintf(where, sizeof where, "%s:%d", HOST, tls ? TLS_PORT : PORT);
    assert_int_equal(sw_addr_parse(where, &c.addr), SW_OK);
    c.user = "sipwall";
    c.password = password;
    c.prefix = node_prefix;
    c.node = name;
    c.tls = tls;
    c.tls_name = tls ? "localhost" : NULL;
    c.capacity = node_capacity;
    c.queue = node_queue;
    c.connect_timeout_ms = 500;
    c.log = l ? log_to : NULL;
    c.log_ctx = l;
    char err[256];
    sw_state_store *s = sw_state_redis_new(&c, h, err, sizeof err);
    if (!s)
        fail_msg("sw_state_redis_new: %s", err);
    return s;
}

static void wait_connected(sw_redis *h, uint64_t connects)
{
    sw_redis_stats st;
    for (int i = 0; i < 1000; i++) {
        sw_redis_stats_get(h, &st);
        if (st.connected && st.connects >= connects)
            return;
        sleep_ms(10);
    }
    fail_msg("no connection to Redis within 10 s (failures %llu)", (unsigned long long)st.failures);
}

static sw_state_block req(uint8_t kind, const char *id, int64_t now)
{
    sw_state_block b;
    memset(&b, 0, sizeof b);
    b.kind = kind;
    snprintf(b.id, sizeof b.id, "%s", id);
    snprintf(b.rule, sizeof b.rule, "scan.rate");
    b.type = SW_EVT_SIP_SCAN;
    b.category = SW_CAT_BEHAVIOURAL;
    b.since = now;
    return b;
}

static int64_t set(sw_state_store *s, uint8_t kind, const char *id, int64_t now, int64_t dur)
{
    sw_state_block b = req(kind, id, now), ev;
    int nev;
    return sw_state_block_set(s, &b, dur, &ev, &nev);
}

static int hit(sw_state_store *s, uint8_t kind, const char *id, int64_t now)
{
    sw_state_where at;
    memset(&at, 0, sizeof at);
    sw_state_block out;
    int ended;
    return sw_state_block_hit(s, kind, id, now, &at, &out, &ended);
}

/* ms until s has kind/id with the given offences (present = 1) or has
 * no entry (present = 0), -1 after limit_ms */
static int64_t until_seen(sw_state_store *s, uint8_t kind, const char *id, int present, int offences, int limit_ms)
{
    int64_t t0 = mono();
    while (mono() - t0 < (int64_t)limit_ms * MS) {
        sw_state_block b;
        int rc = sw_state_block_get(s, kind, id, &b);
        if (present ? rc == SW_OK && b.offences == offences : rc == SW_ENOTFOUND)
            return (mono() - t0) / 1000;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void redis_cli(const char *args, char *out, size_t len)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "redis-cli -h %s -p %d --user sipwall --pass %s --no-auth-warning %s", HOST, PORT,
             SECRET, args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    pclose(f);
}

static void test_two_nodes(void **state)
{
    (void)state;
    redis_start(0);
    sw_redis *ha, *hb;
    logbuf la = {.n = 0}, lb = {.n = 0};
    sw_state_store *a = node("node-a", SECRET, NULL, &ha, &la), *b = node("node-b", SECRET, NULL, &hb, &lb);
    wait_connected(ha, 1);
    wait_connected(hb, 1);
    assert_true(log_has(&la, "connected as node node-a"));

    /* ---- propagation: 20 blocks on A, each a hit on B within 1 s */
    int64_t lat[20];
    char id[32];
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "10.178.0.%d", i + 1);
        int64_t now = wall();
        int64_t t0 = mono();
        assert_true(set(a, SW_OFFENDER_SOURCE, id, now, 600 * SEC) > 0);
        while (!hit(b, SW_OFFENDER_SOURCE, id, wall()) && mono() - t0 < SEC) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        lat[i] = (mono() - t0) / 1000;
        if (lat[i] >= 1000000)
            fail_msg("block %s on A not a hit on B within 1 s", id);
    }
    qsort(lat, 20, sizeof lat[0], cmp64);
    printf("propagation A->B of 20 blocks: median %.2f ms, worst %.2f ms\n", (lat[9] + lat[10]) / 2000.0,
           lat[19] / 1000.0);
    sw_redis_stats st;
    sw_redis_stats_get(hb, &st);
    assert_true(st.applied >= 20);

    /* ---- an unblock on B lifts it on A */
    assert_int_equal(sw_state_block_remove(b, SW_OFFENDER_SOURCE, "10.178.0.1"), SW_OK);
    assert_true(until_seen(a, SW_OFFENDER_SOURCE, "10.178.0.1", 0, 0, 1000) >= 0);
    assert_int_equal(hit(a, SW_OFFENDER_SOURCE, "10.178.0.1", wall()), 0);
    assert_int_equal(hit(a, SW_OFFENDER_SOURCE, "10.178.0.2", wall()), 1);

    /* ---- Redis keeps the key until the end + 24 h, and forgets it then */
    char out[256];
    redis_cli("PTTL sipwall:b:0:31302e3137382e302e32", out, sizeof out);
    long long pttl = atoll(out);
    assert_true(pttl > (24 * 3600 + 590) * 1000LL && pttl <= (24 * 3600 + 600) * 1000LL);
    /* the unblock is a tombstone kept 48 h */
    redis_cli("GET sipwall:b:0:31302e3137382e302e31", out, sizeof out);
    assert_true(strncmp(out, "0 node-b ", 9) == 0);

    /* ---- a short block ends on both nodes */
    int64_t now = wall();
    int64_t end = set(a, SW_OFFENDER_CALLER, "+4930178000", now, 300 * MS);
    assert_true(until_seen(b, SW_OFFENDER_CALLER, "+4930178000", 1, 1, 1000) >= 0);
    assert_int_equal(hit(b, SW_OFFENDER_CALLER, "+4930178000", end - MS), 1);
    assert_int_equal(hit(b, SW_OFFENDER_CALLER, "+4930178000", end), 0);
    assert_int_equal(hit(a, SW_OFFENDER_CALLER, "+4930178000", end), 0);

    /* ---- the repeat offence on B doubles A's, and A agrees */
    int64_t end2 = set(b, SW_OFFENDER_CALLER, "+4930178000", end + SEC, 300 * MS);
    assert_true(end2 == end + SEC + 600 * MS);
    assert_true(until_seen(a, SW_OFFENDER_CALLER, "+4930178000", 1, 2, 1000) >= 0);
    sw_state_block ga, gb;
    assert_int_equal(sw_state_block_get(a, SW_OFFENDER_CALLER, "+4930178000", &ga), SW_OK);
    assert_int_equal(sw_state_block_get(b, SW_OFFENDER_CALLER, "+4930178000", &gb), SW_OK);
    assert_true(ga.until == gb.until && ga.since == gb.since);
    assert_int_equal(ga.offences, 2);

    /* ---- Redis down: both answer from their mirrors; A goes on alone */
    redis_kill();
    for (int i = 0; i < 200; i++) {
        sw_redis_stats_get(ha, &st);
        sw_redis_stats sb;
        sw_redis_stats_get(hb, &sb);
        /* the log line follows the stats by a moment */
        if (!st.connected && !sb.connected && log_has(&la, "screening goes on with the local state"))
            break;
        sleep_ms(10);
    }
    sw_redis_stats_get(ha, &st);
    assert_int_equal(st.connected, 0);
    assert_true(log_has(&la, "screening goes on with the local state"));
    assert_int_equal(hit(a, SW_OFFENDER_SOURCE, "10.178.0.3", wall()), 1);
    assert_int_equal(hit(b, SW_OFFENDER_SOURCE, "10.178.0.3", wall()), 1);
    int64_t t_block = mono();
    assert_true(set(a, SW_OFFENDER_SOURCE, "10.178.9.9", wall(), 600 * SEC) > 0);
    int64_t block_ns = mono() - t_block;
    assert_true(block_ns < 50 * MS); /* never waits on the network */
    assert_int_equal(sw_state_block_remove(a, SW_OFFENDER_SOURCE, "10.178.0.4"), SW_OK);
    sleep_ms(300);
    assert_int_equal(hit(b, SW_OFFENDER_SOURCE, "10.178.9.9", wall()), 0);
    assert_int_equal(hit(b, SW_OFFENDER_SOURCE, "10.178.0.4", wall()), 1);

    /* ---- Redis back, empty: they converge */
    uint64_t ca, cb;
    sw_redis_stats_get(ha, &st);
    ca = st.connects;
    sw_redis_stats_get(hb, &st);
    cb = st.connects;
    int64_t t_back = mono();
    redis_start(0);
    int64_t conv = until_seen(b, SW_OFFENDER_SOURCE, "10.178.9.9", 1, 1, 10000);
    assert_true(conv >= 0);
    assert_true(until_seen(b, SW_OFFENDER_SOURCE, "10.178.0.4", 0, 0, 10000) >= 0);
    wait_connected(ha, ca + 1);
    wait_connected(hb, cb + 1);
    printf("converged %.1f ms after redis-server was started again\n", (mono() - t_back) / 1e6);
    assert_int_equal(hit(b, SW_OFFENDER_SOURCE, "10.178.9.9", wall()), 1);
    assert_int_equal(hit(b, SW_OFFENDER_SOURCE, "10.178.0.4", wall()), 0);
    assert_int_equal(hit(a, SW_OFFENDER_SOURCE, "10.178.0.5", wall()), 1);
    assert_int_equal(hit(b, SW_OFFENDER_SOURCE, "10.178.0.5", wall()), 1);
    /* the blocks from before the outage are in Redis again */
    redis_cli("EXISTS sipwall:b:0:31302e3137382e302e35", out, sizeof out);
    assert_int_equal(atoi(out), 1);

    /* ---- a third node started now loads everything by its resync */
    sw_redis *hc;
    sw_state_store *c = node("node-c", SECRET, NULL, &hc, NULL);
    wait_connected(hc, 1);
    assert_int_equal(hit(c, SW_OFFENDER_SOURCE, "10.178.9.9", wall()), 1);
    assert_int_equal(hit(c, SW_OFFENDER_SOURCE, "10.178.0.20", wall()), 1);
    assert_int_equal(hit(c, SW_OFFENDER_SOURCE, "10.178.0.1", wall()), 0);
    sw_redis_stats_get(hc, &st);
    assert_true(st.resync_loaded >= 20);
    printf("a new node loaded %llu entries in %.2f ms\n", (unsigned long long)st.resync_loaded, st.resync_ns / 1e6);

    sw_state_free(c);
    sw_state_free(a);
    sw_state_free(b);
    /* the password never appears in a log line */
    assert_null(strstr(la.text, SECRET));
    assert_null(strstr(lb.text, SECRET));
    redis_kill();
}

static void test_wrong_password(void **state)
{
    (void)state;
    redis_start(0);
    sw_redis *h;
    logbuf l = {.n = 0};
    sw_state_store *s = node("node-x", "not-the-password", NULL, &h, &l);
    sw_redis_stats st;
    for (int i = 0; i < 300; i++) {
        sw_redis_stats_get(h, &st);
        if (st.auth_failures)
            break;
        sleep_ms(10);
    }
    assert_true(st.auth_failures >= 1);
    assert_int_equal(st.connected, 0);
    assert_true(log_has(&l, "AUTH as sipwall refused"));
    assert_false(log_has(&l, "not-the-password"));
    /* local screening goes on */
    assert_true(set(s, SW_OFFENDER_SOURCE, "10.178.7.7", wall(), 60 * SEC) > 0);
    assert_int_equal(hit(s, SW_OFFENDER_SOURCE, "10.178.7.7", wall()), 1);
    /* nothing reached Redis */
    char out[64];
    redis_cli("DBSIZE", out, sizeof out);
    assert_int_equal(atoi(out), 0);
    sw_state_free(s);
    redis_kill();
}

static void test_tls(void **state)
{
    (void)state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sh %s/../peers/mkpki.sh '%s/pki' >/dev/null 2>&1 && chmod -R a+rX '%s/pki'",
             SW_TEST_DATA, dir, dir);
    assert_int_equal(system(cmd), 0);
    redis_start(1);
    char err[256], cert[320], key[320], ca[320];
    snprintf(cert, sizeof cert, "%s/pki/client.pem", dir);
    snprintf(key, sizeof key, "%s/pki/client.key", dir);
    snprintf(ca, sizeof ca, "%s/pki/ca.pem", dir);
    SSL_CTX *ctx = sw_tls_client_ctx(cert, key, ca, SW_TLS_VERIFY_REQUIRED, err, sizeof err);
    if (!ctx)
        fail_msg("client ctx: %s", err);
    sw_redis *ha, *hb;
    logbuf la = {.n = 0};
    sw_state_store *a = node("tls-a", SECRET, ctx, &ha, &la), *b = node("tls-b", SECRET, ctx, &hb, NULL);
    wait_connected(ha, 1);
    wait_connected(hb, 1);
    assert_true(log_has(&la, "over TLS"));
    assert_true(set(a, SW_OFFENDER_SOURCE, "10.178.5.5", wall(), 60 * SEC) > 0);
    int64_t ms = until_seen(b, SW_OFFENDER_SOURCE, "10.178.5.5", 1, 1, 1000);
    assert_true(ms >= 0);
    sw_state_free(a);
    sw_state_free(b);
    /* without a client certificate Redis refuses: no connection, local state only */
    SSL_CTX *nocert = sw_tls_client_ctx(NULL, NULL, ca, SW_TLS_VERIFY_REQUIRED, err, sizeof err);
    assert_non_null(nocert);
    logbuf lc = {.n = 0};
    sw_redis *hc;
    sw_state_store *c = node("tls-c", SECRET, nocert, &hc, &lc);
    sleep_ms(1500);
    sw_redis_stats st;
    sw_redis_stats_get(hc, &st);
    assert_int_equal(st.connects, 0);
    assert_true(st.failures >= 1);
    assert_true(set(c, SW_OFFENDER_SOURCE, "10.178.5.6", wall(), 60 * SEC) > 0);
    assert_int_equal(hit(c, SW_OFFENDER_SOURCE, "10.178.5.6", wall()), 1);
    sw_state_free(c);
    sw_tls_ctx_free(nocert);
    sw_tls_ctx_free(ctx);
    redis_kill();
}

/* A full queue drops writes (counted, the worker never waits) and the
 * next resync sends them; a burst of 6000 blocks reaches the other node,
 * none dropped, its subscriber connection kept. */
static void test_queue_full_then_resync_and_burst(void **state)
{
    (void)state;
    node_queue = 16;
    sw_redis *ha, *hb, *hc;
    logbuf la = {.n = 0};
    sw_state_store *a = node("q-a", SECRET, NULL, &ha, &la); /* Redis is not there yet */
    char id[32];
    int64_t now = wall();
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "10.178.2.%d", i);
        assert_true(set(a, SW_OFFENDER_SOURCE, id, now, 600 * SEC) > 0);
    }
    sw_redis_stats st;
    sw_redis_stats_get(ha, &st);
    assert_int_equal(st.queued, 16);
    assert_int_equal(st.dropped, 84);
    redis_start(0);
    node_queue = 65536;
    node_capacity = 8192;
    sw_state_store *b = node("q-b", SECRET, NULL, &hb, NULL);
    wait_connected(ha, 1);
    wait_connected(hb, 1);
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "10.178.2.%d", i);
        if (until_seen(b, SW_OFFENDER_SOURCE, id, 1, 1, 3000) < 0)
            fail_msg("block %s dropped from A's full queue never reached B", id);
    }
    /* the burst */
    sw_state_store *c = node("q-c", SECRET, NULL, &hc, NULL);
    wait_connected(hc, 1);
    now = wall();
    for (int i = 0; i < 6000; i++) {
        snprintf(id, sizeof id, "10.179.%d.%d", i / 250, i % 250);
        assert_true(set(c, SW_OFFENDER_SOURCE, id, now, 600 * SEC) > 0);
    }
    assert_true(until_seen(b, SW_OFFENDER_SOURCE, "10.179.23.249", 1, 1, 20000) >= 0);
    for (int i = 0; i < 6000; i += 97) {
        snprintf(id, sizeof id, "10.179.%d.%d", i / 250, i % 250);
        assert_int_equal(hit(b, SW_OFFENDER_SOURCE, id, wall()), 1);
    }
    sw_redis_stats_get(hb, &st);
    assert_int_equal(st.connects, 1); /* never dropped */
    assert_int_equal(st.failures, 0);
    sw_redis_stats_get(hc, &st);
    assert_int_equal(st.dropped, 0);
    sw_state_free(c);
    sw_state_free(b);
    sw_state_free(a);
    node_queue = 1024;
    node_capacity = 4096;
    redis_kill();
}

/* Keys outside the ACL user's pattern: Redis refuses the write (NOPERM);
 * it is dropped and counted, said once, and the connection stays (a
 * write that would fail again is never retried in a loop). */
static void test_refused_write_is_dropped(void **state)
{
    (void)state;
    redis_start(0);
    node_prefix = "other:";
    sw_redis *h;
    logbuf l = {.n = 0};
    sw_state_store *s = node("n-x", SECRET, NULL, &h, &l);
    node_prefix = "sipwall:";
    wait_connected(h, 1);
    assert_true(set(s, SW_OFFENDER_SOURCE, "10.178.6.1", wall(), 60 * SEC) > 0);
    assert_true(set(s, SW_OFFENDER_SOURCE, "10.178.6.2", wall(), 60 * SEC) > 0);
    sw_redis_stats st;
    for (int i = 0; i < 300; i++) {
        sw_redis_stats_get(h, &st);
        if (st.refused >= 2)
            break;
        sleep_ms(10);
    }
    assert_int_equal(st.refused, 2);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.connected, 1);
    assert_true(log_has(&l, "NOPERM"));
    /* said once for the same reason */
    const char *first = strstr(l.text, "NOPERM");
    assert_null(strstr(first + 1, "NOPERM"));
    assert_int_equal(hit(s, SW_OFFENDER_SOURCE, "10.178.6.1", wall()), 1);
    sw_state_free(s);
    redis_kill();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_nodes),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_refused_write_is_dropped),
        cmocka_unit_test(test_queue_full_then_resync_and_burst),
        cmocka_unit_test(test_tls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
