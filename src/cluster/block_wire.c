/* The wire format of one block in Redis and on the channel
 * (include/sipwall/cluster.h): one line of space-separated fields,
 *   1 NODE WROTE KIND OFFENCES ACTIVE SINCE UNTIL TYPE CATEGORY TRANSPORT SRC DST IDHEX RULEHEX
 *     ORIGIN REASONHEX
 * numbers in decimal, addresses as sw_addr_format ("-" when unset), the
 * offender key, the rule name and the reason in hex (they are bytes; "-"
 * when empty).  Another node's
 * value is outside input: decode checks every field and its range. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/cluster.h"

#define WIRE_MAX 1024 /* the longest valid line is about 720 bytes */

static const char hexd[] = "0123456789abcdef";

static size_t hex_of(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[(unsigned char)s[i] >> 4];
        out[2 * i + 1] = hexd[(unsigned char)s[i] & 15];
    }
    out[2 * n] = '\0';
    return 2 * n;
}

int sw_cluster_block_encode(const sw_state_block *b, const char *node, int64_t wrote_ns, char *buf, size_t len)
{
    char id[2 * SW_STATE_ID_MAX + 1], rule[2 * SW_STATE_RULE_MAX + 1], reason[2 * SW_STATE_REASON_MAX + 1];
    char src[SW_ADDR_STRLEN] = "-", dst[SW_ADDR_STRLEN] = "-";
    hex_of(b->id, strnlen(b->id, SW_STATE_ID_MAX - 1), id);
    hex_of(b->rule, strnlen(b->rule, SW_STATE_RULE_MAX - 1), rule);
    hex_of(b->reason, strnlen(b->reason, SW_STATE_REASON_MAX - 1), reason);
    if (b->src.family && sw_addr_format(&b->src, src, sizeof src) < 0)
        strcpy(src, "-");
    if (b->dst.family && sw_addr_format(&b->dst, dst, sizeof dst) < 0)
        strcpy(dst, "-");
    int n = snprintf(buf, len, "1 %s %lld %u %u %u %lld %lld %d %d %d %s %s %s %s %u %s", node, (long long)wrote_ns,
                     b->kind, b->offences, b->active ? 1u : 0u, (long long)b->since, (long long)b->until,
                     (int)b->type, (int)b->category, (int)b->transport, src, dst, id[0] ? id : "-",
                     rule[0] ? rule : "-", (unsigned)b->origin, reason[0] ? reason : "-");
    if (n < 0 || (size_t)n >= len)
        return SW_ELIMIT;
    return n;
}

static int num(const char *s, long long lo, long long hi, long long *out)
{
    if (!*s || !(*s == '-' || (*s >= '0' && *s <= '9')))
        return SW_EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return SW_EINVAL;
    *out = v;
    return SW_OK;
}

static int unhex(const char *s, char *out, size_t max)
{
    if (strcmp(s, "-") == 0) {
        out[0] = '\0';
        return SW_OK;
    }
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n / 2 >= max)
        return SW_EINVAL;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = s[2 * i + j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return SW_EINVAL;
            v = v * 16 + d;
        }
        if (v == 0) /* keys and names are C strings: a NUL inside would alias another */
            return SW_EINVAL;
        out[i] = (char)v;
    }
    out[n / 2] = '\0';
    return SW_OK;
}

static int addr_field(const char *s, sw_addr *a)
{
    memset(a, 0, sizeof *a);
    if (strcmp(s, "-") == 0)
        return SW_OK;
    return sw_addr_parse(s, a) == SW_OK ? SW_OK : SW_EINVAL;
}

int sw_cluster_block_decode(const char *buf, size_t n, sw_state_block *b, char origin[65], int64_t *wrote_ns)
{
    char line[WIRE_MAX];
    if (n == 0 || n >= sizeof line || memchr(buf, '\0', n))
        return SW_EINVAL;
    memcpy(line, buf, n);
    line[n] = '\0';
    char *f[18], *save = NULL;
    unsigned k = 0;
    for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (k == 18)
            return SW_EINVAL;
        f[k++] = t;
    }
    if (k != 17 || strcmp(f[0], "1") != 0)
        return SW_EINVAL;
    size_t nl = strlen(f[1]);
    if (nl == 0 || nl > 64)
        return SW_EINVAL;
    memset(b, 0, sizeof *b);
    long long v[9];
    static const long long lo[9] = {0, 0, 0, 0, INT64_MIN, INT64_MIN, 0, 0, 0};
    static const long long hi[9] = {INT64_MAX, SW_STATE_KIND_ALL - 1, 16, 1, INT64_MAX, INT64_MAX,
                                    SW_EVT__COUNT - 1, SW_CAT__COUNT - 1, SW_TRANSPORT_SCTP};
    for (unsigned i = 0; i < 9; i++)
        if (num(f[2 + i], lo[i], hi[i], &v[i]) != SW_OK)
            return SW_EINVAL;
    if (v[5] <= v[4])
        return SW_EINVAL;
    if (addr_field(f[11], &b->src) != SW_OK || addr_field(f[12], &b->dst) != SW_OK ||
        unhex(f[13], b->id, SW_STATE_ID_MAX) != SW_OK || unhex(f[14], b->rule, SW_STATE_RULE_MAX) != SW_OK ||
        unhex(f[16], b->reason, SW_STATE_REASON_MAX) != SW_OK || !b->id[0])
        return SW_EINVAL;
    long long origin_v;
    if (num(f[15], 0, SW_BLOCK_ORIGIN_FEED, &origin_v) != SW_OK)
        return SW_EINVAL;
    b->origin = (uint8_t)origin_v;
    memcpy(origin, f[1], nl + 1);
    *wrote_ns = v[0];
    b->kind = (uint8_t)v[1];
    b->offences = (uint8_t)v[2];
    b->active = (uint8_t)v[3];
    b->since = v[4];
    b->until = v[5];
    b->type = (sw_event_type)v[6];
    b->category = (sw_category)v[7];
    b->transport = (sw_transport)v[8];
    return SW_OK;
}
