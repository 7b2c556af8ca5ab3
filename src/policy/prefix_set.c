/* Digit tries for E.164 prefixes and ranges.  A range is stored as its
 * minimal prefix cover, so a lookup is one walk down at most 20 nodes
 * whatever the entry was written as. */
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

#define NO_NODE 0u /* node 0 is the root, so it is never a child */

typedef struct pnode {
    uint32_t child[10];
    uint32_t value;
    uint8_t has_value;
} pnode;

struct sw_prefix_set {
    pnode *nodes;
    uint32_t nnodes, cap;
    size_t count; /* prefixes holding a value */
};

sw_prefix_set *sw_prefix_set_new(void)
{
    sw_prefix_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cap = 16;
    s->nodes = calloc(s->cap, sizeof *s->nodes);
    if (!s->nodes) {
        free(s);
        return NULL;
    }
    s->nnodes = 1; /* the root: the empty prefix, never holds a value */
    return s;
}

void sw_prefix_set_free(sw_prefix_set *s)
{
    if (!s)
        return;
    free(s->nodes);
    free(s);
}

static int is_digits(const char *d, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (d[i] < '0' || d[i] > '9')
            return 0;
    return 1;
}

static uint32_t new_node(sw_prefix_set *s)
{
    if (s->nnodes == s->cap) {
        if (s->cap > UINT32_MAX / 2)
            return NO_NODE;
        uint32_t ncap = s->cap * 2;
        pnode *n = realloc(s->nodes, (size_t)ncap * sizeof *n);
        if (!n)
            return NO_NODE;
        memset(n + s->cap, 0, (size_t)(ncap - s->cap) * sizeof *n);
        s->nodes = n;
        s->cap = ncap;
    }
    return s->nnodes++;
}

/* Adds digits (already checked) without validation. */
static int add_prefix(sw_prefix_set *s, const char *digits, size_t len, uint32_t value)
{
    uint32_t at = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned)(digits[i] - '0');
        uint32_t next = s->nodes[at].child[c];
        if (next == NO_NODE) {
            next = new_node(s);
            if (next == NO_NODE)
                return SW_ENOMEM;
            s->nodes[at].child[c] = next; /* after new_node: it may move the array */
        }
        at = next;
    }
    if (!s->nodes[at].has_value)
        s->count++;
    s->nodes[at].has_value = 1;
    s->nodes[at].value = value;
    return SW_OK;
}

int sw_prefix_set_add(sw_prefix_set *s, const char *digits, size_t len, uint32_t value)
{
    if (len == 0 || len > SW_E164_MAX_DIGITS || !is_digits(digits, len))
        return SW_EINVAL;
    return add_prefix(s, digits, len, value);
}

static int all_of(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

/* The minimal cover: at each position the digits strictly between the
 * bounds are whole subtrees; a bound whose remaining digits are all 0 (low)
 * or all 9 (high) needs no further splitting either. */
static int cover(sw_prefix_set *s, char *path, size_t pos, const char *lo, const char *hi,
                 size_t len, int lo_tight, int hi_tight, uint32_t value)
{
    int lo_free = !lo_tight || all_of(lo + pos, len - pos, '0');
    int hi_free = !hi_tight || all_of(hi + pos, len - pos, '9');
    if (pos == len || (pos > 0 && lo_free && hi_free))
        return add_prefix(s, path, pos, value);
    char first = lo_tight ? lo[pos] : '0', last = hi_tight ? hi[pos] : '9';
    for (char c = first; c <= last; c++) {
        path[pos] = c;
        int rc = cover(s, path, pos + 1, lo, hi, len, lo_tight && c == lo[pos],
                       hi_tight && c == hi[pos], value);
        if (rc != SW_OK)
            return rc;
    }
    return SW_OK;
}

int sw_prefix_set_add_range(sw_prefix_set *s, const char *lo, const char *hi, size_t len,
                            uint32_t value)
{
    if (len == 0 || len > SW_E164_MAX_DIGITS || !is_digits(lo, len) || !is_digits(hi, len) ||
        memcmp(lo, hi, len) > 0)
        return SW_EINVAL;
    char path[SW_E164_MAX_DIGITS];
    return cover(s, path, 0, lo, hi, len, 1, 1, value);
}

size_t sw_prefix_set_lookup(const sw_prefix_set *s, const char *digits, size_t len,
                            uint32_t *value)
{
    if (!s)
        return 0;
    size_t best = 0;
    uint32_t at = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned)((unsigned char)digits[i] - '0');
        if (c > 9)
            break;
        at = s->nodes[at].child[c];
        if (at == NO_NODE)
            break;
        if (s->nodes[at].has_value) {
            best = i + 1;
            if (value)
                *value = s->nodes[at].value;
        }
    }
    return best;
}

size_t sw_prefix_set_count(const sw_prefix_set *s)
{
    return s ? s->count : 0;
}

/* ---- numbers-list entries ------------------------------------------------------ */
static int take_number(const char *p, size_t n, char out[SW_E164_MAX_DIGITS + 1], size_t *len,
                       const char **why)
{
    if (n > 0 && p[0] == '+') {
        p++;
        n--;
    }
    if (n == 0) {
        *why = "no digits";
        return 0;
    }
    if (n > SW_E164_MAX_DIGITS) {
        *why = "more than 20 digits";
        return 0;
    }
    if (!is_digits(p, n)) {
        *why = "not a number (digits with an optional leading '+')";
        return 0;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    *len = n;
    return 1;
}

int sw__number_entry_parse(const char *text, char lo[SW_E164_MAX_DIGITS + 1],
                           char hi[SW_E164_MAX_DIGITS + 1], size_t *len, const char **why)
{
    size_t n = strlen(text);
    const char *dash = memchr(text, '-', n);
    if (!dash) {
        if (!take_number(text, n, lo, len, why))
            return 0;
        memcpy(hi, lo, *len + 1);
        return 1;
    }
    size_t llen, hlen;
    if (!take_number(text, (size_t)(dash - text), lo, &llen, why) ||
        !take_number(dash + 1, n - (size_t)(dash - text) - 1, hi, &hlen, why))
        return 0;
    if (llen != hlen) {
        *why = "range ends differ in length";
        return 0;
    }
    if (memcmp(lo, hi, llen) > 0) {
        *why = "range start is above its end";
        return 0;
    }
    *len = llen;
    return 2;
}

int sw__number_entry_add(sw_prefix_set *s, const char *text, uint32_t value)
{
    char lo[SW_E164_MAX_DIGITS + 1], hi[SW_E164_MAX_DIGITS + 1];
    size_t len;
    const char *why;
    int kind = sw__number_entry_parse(text, lo, hi, &len, &why);
    if (kind == 0)
        return SW_EINVAL;
    if (kind == 1)
        return sw_prefix_set_add(s, lo, len, value);
    return sw_prefix_set_add_range(s, lo, hi, len, value);
}

int sw_prefix_set_overlaps(const sw_prefix_set *s, const char *digits, size_t len)
{
    if (!s || len == 0 || len > 20 || !is_digits(digits, len))
        return 0;
    uint32_t at = 0;
    for (size_t i = 0; i < len; i++) {
        at = s->nodes[at].child[(unsigned)(digits[i] - '0')];
        if (at == NO_NODE)
            return 0;
        if (s->nodes[at].has_value)
            return 1; /* an entry is a prefix of digits */
    }
    return 1; /* nodes exist only on the way to an entry: one starts with digits */
}
