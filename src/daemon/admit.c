/* Connection admission shared by all workers (admit.h). */
#include "daemon/admit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/table.h"

typedef struct prefix_key {
    uint8_t family, len;
    uint8_t partner; /* a partner's own address, counted apart from strangers' prefixes */
    uint8_t pad;
    uint8_t ip[16];
} prefix_key;

struct swd_admit {
    pthread_mutex_t mu;
    sw_table *counts; /* prefix_key (source and network) -> connections */
    uint32_t per_ip, per_net, stranger_max;
    uint8_t ip4, ip6, net4, net6;
    uint32_t strangers;
    unsigned refs;
};

swd_admit *swd_admit_new(const swd_limits *l, uint32_t slots)
{
    swd_admit *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    /* each connection counts under at most two keys: never evicts */
    sw_table_config tc = {.key_size = sizeof(prefix_key), .value_size = sizeof(uint32_t),
                          .capacity = 2 * slots + 16};
    if (!(a->counts = sw_table_new(&tc))) {
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    a->per_ip = l->max_connections_per_ip;
    a->per_net = l->max_connections_per_net;
    a->stranger_max = l->max_connections > l->reserve_connections
                          ? l->max_connections - l->reserve_connections : 0;
    a->ip4 = (uint8_t)l->ip_prefix4;
    a->ip6 = (uint8_t)l->ip_prefix6;
    a->net4 = (uint8_t)l->net_prefix4;
    a->net6 = (uint8_t)l->net_prefix6;
    a->refs = 1;
    return a;
}

swd_admit *swd_admit_ref(swd_admit *a)
{
    a->refs++;
    return a;
}

int swd_admit_unref(swd_admit *a)
{
    if (!a || --a->refs > 0)
        return 0;
    sw_table_free(a->counts);
    pthread_mutex_destroy(&a->mu);
    free(a);
    return 1;
}

static prefix_key pkey(const sw_addr *peer, unsigned len)
{
    prefix_key k;
    memset(&k, 0, sizeof k);
    k.family = peer->family;
    k.len = (uint8_t)len;
    unsigned bytes = len / 8, bits = len % 8;
    memcpy(k.ip, peer->ip, bytes);
    if (bits)
        k.ip[bytes] = (uint8_t)(peer->ip[bytes] & (0xffu << (8 - bits)));
    return k;
}

/* A partner counts under its own full address only (strangers sharing its
 * /64 cannot lock it out); a stranger under its prefix and its network. */
static void keys(const swd_admit *a, const sw_addr *peer, int partner, prefix_key *ip, prefix_key *net)
{
    int v6 = peer->family == 6;
    if (partner) {
        *ip = pkey(peer, v6 ? 128 : 32);
        ip->partner = 1;
        *net = *ip;
        return;
    }
    *ip = pkey(peer, v6 ? a->ip6 : a->ip4);
    *net = pkey(peer, v6 ? a->net6 : a->net4);
}

static uint32_t count(swd_admit *a, const prefix_key *k)
{
    uint32_t *c = sw_table_peek(a->counts, k);
    return c ? *c : 0;
}

static void add(swd_admit *a, const prefix_key *k, int delta)
{
    int created;
    uint32_t *c = delta > 0 ? sw_table_upsert(a->counts, k, &created) : sw_table_get(a->counts, k);
    if (!c)
        return;
    if (delta > 0)
        *c = created ? 1 : *c + 1;
    else if (*c <= 1)
        sw_table_remove(a->counts, k);
    else
        --*c;
}

swd_admit_verdict swd_admit_take(swd_admit *a, const sw_addr *peer, int partner)
{
    prefix_key ip, net;
    keys(a, peer, partner, &ip, &net);
    int same = memcmp(&ip, &net, sizeof ip) == 0; /* equal prefix lengths */
    swd_admit_verdict v = SWD_ADMIT_OK;
    pthread_mutex_lock(&a->mu);
    if (count(a, &ip) >= a->per_ip)
        v = SWD_ADMIT_IP;
    else if (!partner && count(a, &net) >= a->per_net)
        v = SWD_ADMIT_NET;
    else if (!partner && a->strangers >= a->stranger_max)
        v = SWD_ADMIT_RESERVE;
    if (v == SWD_ADMIT_OK) {
        add(a, &ip, 1);
        if (!same)
            add(a, &net, 1);
        if (!partner)
            a->strangers++;
    }
    pthread_mutex_unlock(&a->mu);
    return v;
}

void swd_admit_release(swd_admit *a, const sw_addr *peer, int partner)
{
    prefix_key ip, net;
    keys(a, peer, partner, &ip, &net);
    int same = memcmp(&ip, &net, sizeof ip) == 0;
    pthread_mutex_lock(&a->mu);
    add(a, &ip, -1);
    if (!same)
        add(a, &net, -1);
    if (!partner && a->strangers)
        a->strangers--;
    pthread_mutex_unlock(&a->mu);
}

void swd_admit_promote(swd_admit *a, const sw_addr *peer)
{
    prefix_key ip, net, own;
    keys(a, peer, 0, &ip, &net);
    keys(a, peer, 1, &own, &own);
    int same = memcmp(&ip, &net, sizeof ip) == 0;
    pthread_mutex_lock(&a->mu);
    add(a, &ip, -1);
    if (!same)
        add(a, &net, -1);
    add(a, &own, 1);
    if (a->strangers)
        a->strangers--;
    pthread_mutex_unlock(&a->mu);
}

uint32_t swd_admit_strangers(swd_admit *a)
{
    pthread_mutex_lock(&a->mu);
    uint32_t n = a->strangers;
    pthread_mutex_unlock(&a->mu);
    return n;
}
