/* CIDR table: one binary trie per address family.  Peer and address lists
 * hold hundreds to a few thousand networks, so a plain bit-per-level trie
 * (at most 32 / 128 steps per lookup, no allocation on lookup) is enough
 * and easy to get right. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

#define NO_NODE 0u

typedef struct cnode {
    uint32_t child[2];
    uint32_t value;
    uint8_t has_value;
} cnode;

typedef struct ctrie {
    cnode *nodes;
    uint32_t nnodes, cap;
} ctrie;

struct sw_cidr_table {
    ctrie v4, v6;
};

static int trie_init(ctrie *t)
{
    t->cap = 16;
    t->nodes = calloc(t->cap, sizeof *t->nodes);
    t->nnodes = 1; /* root */
    return t->nodes ? SW_OK : SW_ENOMEM;
}

sw_cidr_table *sw_cidr_table_new(void)
{
    sw_cidr_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (trie_init(&t->v4) != SW_OK || trie_init(&t->v6) != SW_OK) {
        sw_cidr_table_free(t);
        return NULL;
    }
    return t;
}

void sw_cidr_table_free(sw_cidr_table *t)
{
    if (!t)
        return;
    free(t->v4.nodes);
    free(t->v6.nodes);
    free(t);
}

static inline unsigned bit_at(const uint8_t *ip, unsigned i)
{
    return (ip[i >> 3] >> (7 - (i & 7))) & 1u;
}

static int cidr_add(sw_cidr_table *t, const sw_addr *net, unsigned bits, uint32_t value,
                    uint32_t *prev);

int sw_cidr_table_add(sw_cidr_table *t, const sw_addr *net, unsigned bits, uint32_t value)
{
    return cidr_add(t, net, bits, value, NULL);
}

int sw__cidr_table_add_unique(sw_cidr_table *t, const sw_addr *net, unsigned bits,
                              uint32_t value, uint32_t *prev)
{
    return cidr_add(t, net, bits, value, prev);
}

static int cidr_add(sw_cidr_table *t, const sw_addr *net, unsigned bits, uint32_t value,
                    uint32_t *prev)
{
    ctrie *tr;
    if (net->family == 4 && bits <= 32)
        tr = &t->v4;
    else if (net->family == 6 && bits <= 128)
        tr = &t->v6;
    else
        return SW_EINVAL;
    uint32_t at = 0;
    for (unsigned i = 0; i < bits; i++) {
        unsigned b = bit_at(net->ip, i);
        uint32_t next = tr->nodes[at].child[b];
        if (next == NO_NODE) {
            if (tr->nnodes == tr->cap) {
                if (tr->cap > UINT32_MAX / 2)
                    return SW_ENOMEM;
                uint32_t ncap = tr->cap * 2;
                cnode *n = realloc(tr->nodes, (size_t)ncap * sizeof *n);
                if (!n)
                    return SW_ENOMEM;
                memset(n + tr->cap, 0, (size_t)(ncap - tr->cap) * sizeof *n);
                tr->nodes = n;
                tr->cap = ncap;
            }
            next = tr->nnodes++;
            tr->nodes[at].child[b] = next;
        }
        at = next;
    }
    if (prev && tr->nodes[at].has_value) {
        *prev = tr->nodes[at].value;
        return 1;
    }
    tr->nodes[at].has_value = 1;
    tr->nodes[at].value = value;
    return SW_OK;
}

int sw_cidr_table_lookup(const sw_cidr_table *t, const sw_addr *addr, uint32_t *value)
{
    if (!t)
        return 0;
    const ctrie *tr;
    unsigned max;
    if (addr->family == 4) {
        tr = &t->v4;
        max = 32;
    } else if (addr->family == 6) {
        tr = &t->v6;
        max = 128;
    } else {
        return 0;
    }
    int found = 0;
    uint32_t at = 0;
    if (tr->nodes[0].has_value) { /* a /0 */
        found = 1;
        if (value)
            *value = tr->nodes[0].value;
    }
    for (unsigned i = 0; i < max; i++) {
        at = tr->nodes[at].child[bit_at(addr->ip, i)];
        if (at == NO_NODE)
            break;
        if (tr->nodes[at].has_value) {
            found = 1;
            if (value)
                *value = tr->nodes[at].value;
        }
    }
    return found;
}

int sw_cidr_parse(const char *text, sw_addr *net, unsigned *bits)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
    memset(net, 0, sizeof *net);
    if (hlen == 0 || hlen >= sizeof host)
        return SW_EINVAL;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    unsigned max;
    if (inet_pton(AF_INET, host, net->ip) == 1) {
        net->family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, host, net->ip) == 1) {
        net->family = 6;
        max = 128;
    } else {
        memset(net, 0, sizeof *net);
        return SW_EINVAL;
    }
    unsigned b = max;
    if (slash) {
        const char *p = slash + 1;
        if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
            return SW_EINVAL;
        b = 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return SW_EINVAL;
            b = b * 10 + (unsigned)(*p - '0');
            if (b > max)
                return SW_EINVAL;
        }
    }
    /* Host bits set beyond the prefix are almost always a typo ("10.1.2.3/8"). */
    for (unsigned i = b; i < max; i++)
        if (bit_at(net->ip, i))
            return SW_ERANGE;
    *bits = b;
    return SW_OK;
}
