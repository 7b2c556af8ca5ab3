/* fuzz_config — libFuzzer target for sipwalld's configuration parser.
 *
 * The input is one config text in an exactly sized heap block, parsed with
 * swd_config_parse (tokenizer, directives, semantic checks).  Contracts
 * beyond ASan and UBSan: a parse either succeeds with a consistent config
 * (counts within the fixed tables, every required field set, every value in
 * its documented range, the mode's invariants) or fails with a known code,
 * a "NAME:…" message and a zeroed config; a tiny error buffer is never
 * overrun.  The name sits in a directory that does not exist, so relative
 * paths never reach real files.
 *
 * The daemon's sources are not in sipwall_lib (the fuzz and replay targets
 * link only that), so the parser is compiled into this target directly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.c"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#define FZ_NAME "/nonexistent-fuzz-dir/fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s)
{
    FZ_CHECK(s != NULL);
    FZ_CHECK(strlen(s) < CFG_PATH_MAX);
}

static void check_port(const sw_addr *a)
{
    FZ_CHECK(a->family == 4 || a->family == 6);
    FZ_CHECK(a->port >= 1);
}

static void check_hop(const swd_hop *h)
{
    FZ_CHECK(h->transport == SW_TRANSPORT_UDP || h->transport == SW_TRANSPORT_TCP ||
             h->transport == SW_TRANSPORT_TLS);
    check_port(&h->addr);
}

static void check_config(const swd_config *c)
{
    FZ_CHECK(c->path != NULL && strcmp(c->path, FZ_NAME) == 0);
    FZ_CHECK(c->mode == SWD_MODE_INLINE || c->mode == SWD_MODE_PASSIVE);
    FZ_CHECK(c->workers <= SWD_MAX_WORKERS);
    FZ_CHECK(c->log_level >= SWD_LOG_ERROR && c->log_level <= SWD_LOG_DEBUG);
    FZ_CHECK(c->topology_hiding <= 1);
    check_str(c->log);
    FZ_CHECK(c->group == NULL || c->user != NULL);
    FZ_CHECK(c->npolicies >= 1 && c->npolicies <= SWD_MAX_POLICIES);
    for (unsigned i = 0; i < c->npolicies; i++)
        check_str(c->policies[i]);
    FZ_CHECK(c->nlistens <= SWD_MAX_LISTENS && c->nforward <= SWD_MAX_FORWARD &&
             c->nroutes <= SWD_MAX_ROUTES && c->ncaptures <= SWD_MAX_CAPTURES &&
             c->nheps <= SWD_MAX_HEPS);
    if (c->mode == SWD_MODE_INLINE) {
        FZ_CHECK(c->nlistens >= 2 && c->nforward >= 1 && c->secret_path != NULL);
    } else {
        FZ_CHECK(c->ncaptures + c->nheps >= 1);
        FZ_CHECK(c->nlistens == 0 && c->nforward == 0 && c->nroutes == 0);
    }
    for (unsigned i = 0; i < c->nlistens; i++) {
        const swd_listen *l = &c->listens[i];
        FZ_CHECK(memchr(l->name, '\0', sizeof l->name) != NULL && l->name[0] != '\0');
        check_port(&l->addr);
        if (l->has_advertise)
            check_port(&l->advertise);
        FZ_CHECK(l->side == SW_SIDE_CORE || l->side == SW_SIDE_INTERCONNECT);
        FZ_CHECK(l->line >= 1);
        if (l->transport == SW_TRANSPORT_TLS) {
            check_str(l->cert);
            check_str(l->key);
            FZ_CHECK(l->verify == SWD_VERIFY_NONE || l->ca != NULL);
        } else {
            FZ_CHECK(l->transport == SW_TRANSPORT_UDP || l->transport == SW_TRANSPORT_TCP);
            FZ_CHECK(l->cert == NULL && l->key == NULL && l->ca == NULL);
        }
        for (unsigned j = 0; j < i; j++)
            FZ_CHECK(strcmp(c->listens[j].name, l->name) != 0);
    }
    for (unsigned i = 0; i < c->nforward; i++)
        check_hop(&c->forward[i]);
    for (unsigned i = 0; i < c->nroutes; i++) {
        const swd_route *r = &c->routes[i];
        FZ_CHECK(r->domain != NULL && domain_name(r->domain));
        FZ_CHECK(r->nhops >= 1 && r->nhops <= SWD_MAX_ROUTE_HOPS);
        for (unsigned j = 0; j < r->nhops; j++)
            check_hop(&r->hops[j]);
    }
    FZ_CHECK((c->tls_client_cert == NULL) == (c->tls_client_key == NULL));
    for (int k = 0; k < L__COUNT; k++) {
        uint32_t v = *limit_slot((swd_limits *)&c->limits, k);
        FZ_CHECK(v >= limit_defs[k].min && v <= limit_defs[k].max);
    }
    FZ_CHECK(c->limits.max_connections_per_ip <= c->limits.max_connections);
    for (unsigned i = 0; i < c->ncaptures; i++) {
        check_str(c->captures[i].iface);
        FZ_CHECK(c->captures[i].snaplen >= 256 && c->captures[i].snaplen <= 262144);
        FZ_CHECK(c->captures[i].buffer >= (1u << 20));
    }
    for (unsigned i = 0; i < c->nheps; i++) {
        FZ_CHECK(c->heps[i].transport == SW_TRANSPORT_UDP || c->heps[i].transport == SW_TRANSPORT_TCP);
        check_port(&c->heps[i].addr);
        FZ_CHECK(c->heps[i].auth_key == NULL || strlen(c->heps[i].auth_key) <= 128);
    }
    /* events-db: retention and queue within their documented ranges */
    if (c->events_db)
        check_str(c->events_db);
    FZ_CHECK(c->events_db_max_age_s >= 0 && c->events_db_max_age_s <= SWD_EVENTS_MAX_AGE_S);
    FZ_CHECK(c->events_db_max_bytes == 0 || c->events_db_max_bytes >= SWD_EVENTS_MIN_BYTES);
    FZ_CHECK(c->events_queue == 0 ||
             (c->events_queue >= SWD_EVENTS_MIN_QUEUE && c->events_queue <= SWD_EVENTS_MAX_QUEUE));
    FZ_CHECK(c->events_db != NULL || (c->events_db_max_age_s == 0 && c->events_db_max_bytes == 0 &&
                                      c->events_queue == 0));
    /* metrics listen: a port, and loopback unless allowed explicitly */
    if (c->has_metrics) {
        check_port(&c->metrics_addr);
        static const uint8_t v6_loopback[16] = {[15] = 1};
        int loopback = c->metrics_addr.family == 4 ? c->metrics_addr.ip[0] == 127
                                                   : memcmp(c->metrics_addr.ip, v6_loopback, 16) == 0;
        FZ_CHECK(loopback || c->metrics_allow_remote);
    } else {
        FZ_CHECK(!c->metrics_allow_remote);
    }
}

static void check_zeroed(const swd_config *c)
{
    static const swd_config zero;
    FZ_CHECK(memcmp(c, &zero, sizeof zero) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    if (size)
        memcpy(buf, data, size);

    static swd_config c;
    char err[512];
    int rc = swd_config_parse(buf, size, FZ_NAME, &c, err, sizeof err);
    FZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    if (rc == SW_OK) {
        check_config(&c);
        swd_config_free(&c);
        check_zeroed(&c);
    } else {
        FZ_CHECK(rc == SW_EINVAL || rc == SW_ELIMIT || rc == SW_ENOMEM);
        FZ_CHECK(strncmp(err, FZ_NAME ":", sizeof FZ_NAME) == 0);
        FZ_CHECK(strlen(err) > sizeof FZ_NAME);
        check_zeroed(&c);
    }

    /* Again with an error buffer of 8 bytes: same result, no overrun. */
    char small[8 + 8];
    memset(small, 'Z', sizeof small);
    int rc2 = swd_config_parse(buf, size, FZ_NAME, &c, small, 8);
    FZ_CHECK(rc2 == rc);
    FZ_CHECK(memchr(small, '\0', 8) != NULL);
    for (size_t i = 8; i < sizeof small; i++)
        FZ_CHECK(small[i] == 'Z');
    swd_config_free(&c);

    free(buf);
    return 0;
}
