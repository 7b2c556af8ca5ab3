/* libFuzzer target: what sipwalld reads from Redis (src/cluster): the RESP
 * reader around hiredis (sw_resp_*) and the block values inside replies
 * (sw_cluster_block_decode).
 *
 * Input: byte 0 picks the ceilings (bit 0: small, 256 B buffer and 16
 * objects; else the defaults) and seeds the chunking; the rest is the byte
 * stream of one connection, fed in pseudo-random chunks as the network
 * would deliver it.  Checks beyond ASan/UBSan: every reply's strings are
 * NUL-terminated at len, arrays hold what they declared, no reply has more
 * objects than the ceiling, a broken reader stays broken and says why; a
 * block value that decodes encodes back to a line that decodes to the same
 * block. */
#include "fuzz_common.h"
#include "sipwall/cluster.h"

static size_t objects(const sw_resp *v, unsigned depth)
{
    FZ_CHECK(depth < 16);
    size_t n = 1;
    switch (v->type) {
    case SW_RESP_STRING:
    case SW_RESP_STATUS:
    case SW_RESP_ERROR:
        FZ_CHECK(v->str != NULL && v->str[v->len] == '\0');
        fz_sink += v->len ? (unsigned char)v->str[0] + (unsigned char)v->str[v->len - 1] : 0;
        break;
    case SW_RESP_ARRAY:
        FZ_CHECK(v->n == 0 || v->elem != NULL);
        for (size_t i = 0; i < v->n; i++) {
            FZ_CHECK(v->elem[i] != NULL);
            n += objects(v->elem[i], depth + 1);
        }
        break;
    case SW_RESP_INTEGER:
    case SW_RESP_NIL:
        break;
    default:
        FZ_CHECK(!"unknown reply type");
    }
    return n;
}

/* Block values: the reply's strings, and what follows "S " (a message). */
static void try_block(const char *s, size_t n)
{
    if (n > 2 && s[0] == 'S' && s[1] == ' ') {
        s += 2;
        n -= 2;
    }
    sw_state_block b, c;
    char origin[65], origin2[65], line[1100];
    int64_t wrote, wrote2;
    if (sw_cluster_block_decode(s, n, &b, origin, &wrote) != SW_OK)
        return;
    FZ_CHECK(b.id[0] != '\0' && b.until > b.since && b.kind != SW_STATE_KIND_ALL && b.offences <= 16);
    int len = sw_cluster_block_encode(&b, origin, wrote, line, sizeof line);
    FZ_CHECK(len > 0);
    FZ_CHECK(sw_cluster_block_decode(line, (size_t)len, &c, origin2, &wrote2) == SW_OK);
    FZ_CHECK(strcmp(origin, origin2) == 0 && wrote == wrote2);
    FZ_CHECK(strcmp(b.id, c.id) == 0 && strcmp(b.rule, c.rule) == 0 && strcmp(b.reason, c.reason) == 0);
    FZ_CHECK(b.since == c.since && b.until == c.until && b.kind == c.kind && b.offences == c.offences &&
             b.active == c.active && b.origin == c.origin && b.type == c.type && b.category == c.category);
}

static void blocks_in(const sw_resp *v)
{
    if (v->type == SW_RESP_STRING)
        try_block(v->str, v->len);
    for (size_t i = 0; i < v->n; i++)
        blocks_in(v->elem[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned cfg = data[0];
    char *buf = fz_input(data + 1, size - 1);
    size_t len = size - 1;
    size_t max_buffer = (cfg & 1) ? 256 : 0, max_elements = (cfg & 1) ? 16 : 0;
    size_t cap = max_elements ? max_elements : SW_RESP_MAX_ELEMENTS_DEFAULT;
    sw_resp_reader *r = sw_resp_reader_new(max_buffer, max_elements);
    FZ_CHECK(r != NULL);
    uint32_t rnd = cfg * 2654435761u + 1;
    size_t pos = 0;
    int broken = 0;
    while (pos < len && !broken) {
        rnd = rnd * 1103515245u + 12345u;
        size_t chunk = 1 + (rnd >> 16) % 64;
        if (chunk > len - pos)
            chunk = len - pos;
        int rc = sw_resp_feed(r, buf + pos, chunk);
        pos += chunk;
        if (rc != SW_OK) {
            FZ_CHECK(rc == SW_ELIMIT || rc == SW_EINVAL);
            broken = 1;
            break;
        }
        for (;;) {
            sw_resp *v = NULL;
            rc = sw_resp_next(r, &v);
            if (rc == SW_EINCOMPLETE) {
                FZ_CHECK(v == NULL);
                break;
            }
            if (rc != SW_OK) {
                FZ_CHECK(rc == SW_EINVAL && v == NULL);
                broken = 1;
                break;
            }
            FZ_CHECK(objects(v, 0) <= cap);
            blocks_in(v);
            sw_resp_free(v);
        }
    }
    if (broken) {
        sw_resp *v = NULL;
        FZ_CHECK(sw_resp_error(r)[0] != '\0');
        FZ_CHECK(sw_resp_feed(r, "+OK\r\n", 5) == SW_EINVAL);
        FZ_CHECK(sw_resp_next(r, &v) == SW_EINVAL && v == NULL);
    }
    sw_resp_reader_free(r);
    free(buf);
    return 0;
}
