/* CIDR table: per address family, a binary trie (one bit per level) that
 * records exactly which networks were added, and a 4-bit-stride trie with
 * prefix expansion that answers lookups in 8 (IPv4) or 32 (IPv6) steps
 * instead of 32 / 128: every message looks its source and destination up.
 * Both are updated on every add; lookups allocate nothing. */
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

/* One level of the lookup trie: 16 slots, one per value of the next 4
 * address bits.  A network whose length ends inside this level's 4 bits
 * (rel = 1..4 of them) is stored in every slot it covers; a slot keeps
 * the longest such network (len = its rel, 0 = none). */
typedef struct mnode {
    uint32_t child[16];
    uint32_t value[16];
    uint8_t len[16];
} mnode;

typedef struct ctrie {
    cnode *nodes;
    uint32_t nnodes, cap;
    mnode *m;                      /* lookup trie; m[0] is the root */
    uint32_t nm, mcap;
    uint8_t has_root;              /* a /0 was added */
    uint32_t root_value;
} ctrie;

struct sw_cidr_table {
    ctrie v4, v6;
};

static int trie_init(ctrie *t)
{
    t->cap = 16;
    t->nodes = calloc(t->cap, sizeof *t->nodes);
    t->nnodes = 1; /* root */
    t->mcap = 4;
    t->m = calloc(t->mcap, sizeof *t->m);
    t->nm = 1;
    return t->nodes && t->m ? SW_OK : SW_ENOMEM;
}

static inline unsigned nibble_at(const uint8_t *ip, unsigned level)
{
    return (ip[level >> 1] >> ((level & 1) ? 0 : 4)) & 0xfu;
}

/* Makes room for one more lookup node (before any is linked in). */
static int mtrie_reserve(ctrie *t)
{
    if (t->nm < t->mcap)
        return SW_OK;
    if (t->mcap > UINT32_MAX / 2)
        return SW_ENOMEM;
    uint32_t ncap = t->mcap * 2;
    mnode *n = realloc(t->m, (size_t)ncap * sizeof *n);
    if (!n)
        return SW_ENOMEM;
    memset(n + t->mcap, 0, (size_t)(ncap - t->mcap) * sizeof *n);
    t->m = n;
    t->mcap = ncap;
    return SW_OK;
}

/* Adds net/bits = value to the lookup trie (a later add of the same
 * network replaces the value, a longer network keeps its slots). */
static int mtrie_add(ctrie *t, const uint8_t *ip, unsigned bits, uint32_t value)
{
    if (bits == 0) {
        t->has_root = 1;
        t->root_value = value;
        return SW_OK;
    }
    unsigned last = (bits - 1) / 4; /* the level the network ends in */
    uint32_t at = 0;
    for (unsigned lv = 0; lv < last; lv++) {
        unsigned s = nibble_at(ip, lv);
        uint32_t next = t->m[at].child[s];
        if (!next) {
            if (mtrie_reserve(t) != SW_OK)
                return SW_ENOMEM;
            next = t->nm++;
            t->m[at].child[s] = next;
        }
        at = next;
    }
    unsigned rel = bits - last * 4; /* 1..4 bits of this level */
    unsigned span = 1u << (4 - rel);
    unsigned first = nibble_at(ip, last) & ~(span - 1);
    mnode *n = &t->m[at];
    for (unsigned s = first; s < first + span; s++) {
        if (n->len[s] <= rel) {
            n->len[s] = (uint8_t)rel;
            n->value[s] = value;
        }
    }
    return SW_OK;
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
    free(t->v4.m);
    free(t->v6.m);
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
    if (mtrie_add(tr, net->ip, bits, value) != SW_OK)
        return SW_ENOMEM;
    tr->nodes[at].has_value = 1;
    tr->nodes[at].value = value;
    return SW_OK;
}

int sw_cidr_table_lookup(const sw_cidr_table *t, const sw_addr *addr, uint32_t *value)
{
    return sw__cidr_table_lookup_bits(t, addr, value, NULL);
}

int sw__cidr_table_lookup_bits(const sw_cidr_table *t, const sw_addr *addr, uint32_t *value,
                               unsigned *bits)
{
    if (!t)
        return 0;
    const ctrie *tr;
    unsigned levels;
    if (addr->family == 4) {
        tr = &t->v4;
        levels = 8;
    } else if (addr->family == 6) {
        tr = &t->v6;
        levels = 32;
    } else {
        return 0;
    }
    /* the longest network seen on the way down wins */
    int found = tr->has_root;
    uint32_t v = tr->root_value;
    unsigned len = 0;
    const mnode *n = &tr->m[0];
    for (unsigned lv = 0; lv < levels; lv++) {
        unsigned s = nibble_at(addr->ip, lv);
        if (n->len[s]) {
            found = 1;
            v = n->value[s];
            len = lv * 4 + n->len[s];
        }
        uint32_t next = n->child[s];
        if (!next)
            break;
        n = &tr->m[next];
    }
    if (found && value)
        *value = v;
    if (found && bits)
        *bits = len;
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

/* "PORT" after an address: 1..65535, decimal, no sign or leading zero. */
static int port_parse(const char *p, uint16_t *port)
{
    if (*p < '1' || *p > '9')
        return SW_EINVAL;
    unsigned v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return SW_EINVAL;
        v = v * 10 + (unsigned)(*p - '0');
        if (v > 65535)
            return SW_EINVAL;
    }
    *port = (uint16_t)v;
    return SW_OK;
}

int sw__peer_addr_parse(const char *text, sw_addr *net, unsigned *bits, uint16_t *port)
{
    char buf[INET6_ADDRSTRLEN + 8];
    size_t n = strlen(text);
    *port = 0;
    if (n == 0 || n > 128)
        return SW_EINVAL;
    if (text[0] == '[') {
        /* "[IPv6]", "[IPv6/len]", either with ":PORT" */
        const char *close = strchr(text, ']');
        if (!close || (size_t)(close - text - 1) >= sizeof buf || close == text + 1)
            return SW_EINVAL;
        memcpy(buf, text + 1, (size_t)(close - text - 1));
        buf[close - text - 1] = '\0';
        if (strchr(buf, '.') && !strchr(buf, ':'))
            return SW_EINVAL; /* brackets are for IPv6 */
        if (close[1] == ':') {
            if (port_parse(close + 2, port) != SW_OK)
                return SW_EINVAL;
        } else if (close[1] != '\0') {
            return SW_EINVAL;
        }
        int rc = sw_cidr_parse(buf, net, bits);
        if (rc == SW_OK && net->family != 6)
            return SW_EINVAL;
        return rc;
    }
    const char *colon = strchr(text, ':');
    if (colon && !strchr(colon + 1, ':')) {
        /* one colon: IPv4 (or an IPv4 CIDR) and a port */
        size_t hl = (size_t)(colon - text);
        if (hl >= sizeof buf)
            return SW_EINVAL;
        memcpy(buf, text, hl);
        buf[hl] = '\0';
        if (port_parse(colon + 1, port) != SW_OK)
            return SW_EINVAL;
        int rc = sw_cidr_parse(buf, net, bits);
        if (rc == SW_OK && net->family != 4)
            return SW_EINVAL;
        return rc;
    }
    return sw_cidr_parse(text, net, bits); /* IPv4 or IPv6 (no port without brackets) */
}
