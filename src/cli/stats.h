/* Bounded counters for the `sipwall check` summary: name tallies (methods,
 * malformed reasons) and a per-source table.  Both have a fixed ceiling set
 * at init; what does not fit is counted under "other", so memory stays flat
 * under a flood from random sources. */
#ifndef SIPWALL_CLI_STATS_H
#define SIPWALL_CLI_STATS_H

#include "sipwall/addr.h"

#define CLI_TALLY_NAME 48

typedef struct cli_tally_entry {
    char name[CLI_TALLY_NAME]; /* copied (the message is gone by the summary) */
    uint8_t len;
    uint64_t count;
} cli_tally_entry;

typedef struct cli_tally {
    cli_tally_entry *e;
    size_t n, cap;
    uint64_t other; /* counts of names that found no free entry */
} cli_tally;

int cli_tally_init(cli_tally *t, size_t cap) SW_WUR SW_NONNULL(1);
void cli_tally_free(cli_tally *t);
/* Counts k under name (cut to CLI_TALLY_NAME - 1 bytes). */
void cli_tally_add(cli_tally *t, sw_str name, uint64_t k) SW_NONNULL(1);
/* Fills out[0..ret) with the entries of the largest counts, largest first
 * (ties: first seen first). */
size_t cli_tally_top(const cli_tally *t, const cli_tally_entry **out, size_t max) SW_NONNULL(1, 2);

typedef struct cli_src_entry {
    sw_addr addr; /* family 0 = free slot */
    uint64_t count;
} cli_src_entry;

typedef struct cli_src_table {
    cli_src_entry *e;
    size_t cap, n; /* cap: power of two; insertion stops at 3/4 full */
    uint64_t other;
} cli_src_table;

int cli_src_init(cli_src_table *t, size_t cap_pow2) SW_WUR SW_NONNULL(1);
void cli_src_free(cli_src_table *t);
void cli_src_add(cli_src_table *t, const sw_addr *a) SW_NONNULL(1, 2);
size_t cli_src_top(const cli_src_table *t, const cli_src_entry **out, size_t max)
    SW_NONNULL(1, 2);

#endif
