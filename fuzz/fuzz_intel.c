/* fuzz_intel — libFuzzer target for partners' intelligence
 * (src/exchange/intel.c): FSE v1 objects from other operators and the
 * trust files operators write.
 *
 * Byte 0 picks the entry point, the rest is the input:
 *   0  objects separated by newlines: each decoded (sw_intel_decode) and,
 *      when accepted, applied to one sw_intel with a small ceiling and an
 *      in-process state store, with a tick after each; then every held
 *      entry is listed, one revoked and the clock moved past all validity
 *   1  a trust file (sw_intel_trust_load)
 * Contracts beyond ASan/UBSan: a rejected object carries a message and
 * leaves the output zeroed; an accepted one has NUL-terminated fields, a
 * confidence within 0..100; the table never holds more than its ceiling;
 * enforced counts never exceed held ones; after the final tick nothing is
 * held and no block set by intelligence is left in the store. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/intel.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#define FZ_CAP 6
static const int64_t FZ_NOW = 1796623200LL * 1000000000LL; /* 2026-12-07T06:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_left(void *ctx, sw_state_block *b)
{
    if (b->active && b->origin == SW_BLOCK_ORIGIN_FEED && strncmp(b->rule, "intel.", 6) == 0)
        (*(unsigned *)ctx)++;
}

static void list_one(void *ctx, const sw_intel_entry *e)
{
    FZ_CHECK(memchr(e->ind.value, '\0', sizeof e->ind.value));
    FZ_CHECK(e->score <= 100);
    FZ_CHECK(sw_intel_state_name(e->state) != NULL);
    snprintf(ctx, SW_INTEL_ID_LEN, "%s", e->ind.id);
}

static void fz_objects(const char *p, size_t n)
{
    sw_state_store *st = sw_state_mem_new(64);
    FZ_CHECK(st);
    sw_intel_config cfg = {.max_indicators = FZ_CAP, .state = st};
    sw_intel *in = sw_intel_new(&cfg);
    FZ_CHECK(in);
    FZ_CHECK(sw_intel_trust_set(in, "ZZ01", 90) == SW_OK);
    FZ_CHECK(sw_intel_trust_set(in, "ZZ02", 40) == SW_OK);
    int64_t now = FZ_NOW;
    int64_t horizon = FZ_NOW;
    size_t pos = 0;
    while (pos < n) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - (p + pos)) : n - pos;
        sw_intel_ind ind;
        char err[160];
        err[0] = '\0';
        int rc = sw_intel_decode(p + pos, len, &ind, err, sizeof err);
        if (rc == SW_OK) {
            FZ_CHECK(memchr(ind.value, '\0', sizeof ind.value) && memchr(ind.id, '\0', sizeof ind.id));
            FZ_CHECK(ind.confidence <= 100);
            sw_intel_state s;
            FZ_CHECK(sw_intel_apply(in, &ind, now, &s) == SW_OK);
            FZ_CHECK(sw_intel_state_name(s) != NULL);
            if (ind.valid_until > horizon)
                horizon = ind.valid_until;
        } else {
            FZ_CHECK(err[0] != '\0');
            static const sw_intel_ind zero;
            FZ_CHECK(memcmp(&ind, &zero, sizeof ind) == 0);
        }
        sw_intel_stats ss;
        sw_intel_stats_get(in, &ss);
        FZ_CHECK(ss.held <= FZ_CAP && ss.enforced <= ss.held);
        now += 1000000000LL;
        (void)sw_intel_tick(in, now);
        pos += len + (nl ? 1 : 0);
    }
    char id[SW_INTEL_ID_LEN] = "";
    sw_intel_foreach(in, list_one, id);
    if (id[0]) {
        sw_intel_entry e;
        FZ_CHECK(sw_intel_get(in, id, &e) == SW_OK);
        FZ_CHECK(sw_intel_revoke(in, id, now) == SW_OK);
    }
    /* past every validity: everything withdrawn, dropped, lifted */
    if (horizon < INT64_MAX - 1)
        (void)sw_intel_tick(in, horizon + 1 > now ? horizon + 1 : now);
    else
        (void)sw_intel_tick(in, INT64_MAX);
    sw_intel_stats ss;
    sw_intel_stats_get(in, &ss);
    FZ_CHECK(ss.held == 0 && ss.enforced == 0);
    unsigned left = 0;
    sw_state_block_foreach(st, count_left, &left);
    FZ_CHECK(left == 0);
    sw_intel_free(in);
    sw_state_free(st);
}

static void fz_trust(const char *p, size_t n)
{
    sw_state_store *st = NULL;
    sw_intel_config cfg = {.max_indicators = 4, .state = st};
    sw_intel *in = sw_intel_new(&cfg);
    FZ_CHECK(in);
    char err[200];
    err[0] = '\0';
    if (sw_intel_trust_load(in, "fuzz.trust", p, n, err, sizeof err) != SW_OK)
        FZ_CHECK(strncmp(err, "fuzz.trust:", 11) == 0);
    sw_intel_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    char *p = malloc(size);
    if (!p)
        return 0;
    memcpy(p, data + 1, size - 1);
    switch (data[0] % 2) {
    case 0: fz_objects(p, size - 1); break;
    default: fz_trust(p, size - 1); break;
    }
    free(p);
    return 0;
}
