/* sipwall — bounded hash table with LRU eviction.
 *
 * Every table an attacker can fill (per-source counters, dialogs,
 * transactions, blocks, reassembly state) is one of these: a fixed number
 * of fixed-size entries allocated once, keyed by a fixed-size byte key,
 * kept in least-recently-used order.  Inserting into a full table evicts
 * the least recently used entry (the caller is told, so it can release
 * what the entry owns or emit a summary).  Memory never grows after
 * sw_table_new; lookups and inserts are O(1).
 *
 * Keys are compared bytewise (memcmp over key_size bytes): callers zero
 * the padding of key structs.  The hash is keyed with a per-table random
 * seed so that an attacker cannot aim for one bucket.
 *
 * Values are caller-defined structs of value_size bytes, zeroed on insert,
 * at stable addresses until the entry is removed or evicted. */
#ifndef SIPWALL_TABLE_H
#define SIPWALL_TABLE_H

#include "sipwall/common.h"

typedef struct sw_table sw_table;

/* Called for an entry that is evicted to make room (not for sw_table_remove
 * or sw_table_free).  key/value are valid only during the call. */
typedef void (*sw_table_evict_fn)(void *ctx, const void *key, void *value);

typedef struct sw_table_config {
    size_t key_size;   /* bytes, 1..64 */
    size_t value_size; /* bytes, may be 0 */
    uint32_t capacity; /* maximum entries, 1..(1u << 26) */
    uint64_t seed;     /* hash seed; 0 = pick one at random */
    sw_table_evict_fn on_evict; /* may be NULL */
    void *evict_ctx;
} sw_table_config;

/* Allocates everything the table will ever use.  NULL on bad config or
 * out of memory. */
sw_table *sw_table_new(const sw_table_config *cfg) SW_WUR SW_NONNULL(1);
void sw_table_free(sw_table *t);

/* Finds key; returns its value (and marks the entry most recently used),
 * or NULL. */
void *sw_table_get(sw_table *t, const void *key) SW_NONNULL(1, 2);
/* Same without touching the LRU order. */
void *sw_table_peek(const sw_table *t, const void *key) SW_NONNULL(1, 2);

/* Finds key or inserts it (zeroed value, evicting the least recently used
 * entry when full).  *created (may be NULL) says which.  Never fails once
 * the table exists. */
void *sw_table_upsert(sw_table *t, const void *key, int *created) SW_NONNULL(1, 2);

/* Removes key; SW_OK or SW_ENOTFOUND. */
int sw_table_remove(sw_table *t, const void *key) SW_NONNULL(1, 2);

/* Removes the entry whose value pointer is `value` (from get/upsert). */
void sw_table_remove_value(sw_table *t, void *value) SW_NONNULL(1, 2);

/* The least recently used entry (NULL when empty); key_out (may be NULL)
 * receives its key pointer.  For age-based expiry: look at the oldest,
 * remove it when expired, repeat. */
void *sw_table_oldest(sw_table *t, const void **key_out) SW_NONNULL(1);

/* Calls fn for every entry, most recently used first.  fn must not insert
 * or remove. */
typedef void (*sw_table_visit_fn)(void *ctx, const void *key, void *value);
void sw_table_foreach(sw_table *t, sw_table_visit_fn fn, void *ctx) SW_NONNULL(1, 2);
/* The same, least recently used first: inserting what it visits into
 * another table rebuilds the same LRU order there (a resize that keeps the
 * most recent entries when the new table is smaller).  fn must not insert
 * into or remove from t. */
void sw_table_foreach_oldest(sw_table *t, sw_table_visit_fn fn, void *ctx) SW_NONNULL(1, 2);

uint32_t sw_table_count(const sw_table *t) SW_NONNULL(1);
uint32_t sw_table_capacity(const sw_table *t) SW_NONNULL(1);
/* The value_size and key_size it was made with. */
size_t sw_table_value_size(const sw_table *t) SW_NONNULL(1);
size_t sw_table_key_size(const sw_table *t) SW_NONNULL(1);
uint64_t sw_table_evictions(const sw_table *t) SW_NONNULL(1);
/* Bytes allocated by the table (constant after sw_table_new). */
size_t sw_table_memory(const sw_table *t) SW_NONNULL(1);

/* The keyed hash the table uses, for callers that shard or pre-hash. */
uint64_t sw_hash64(const void *data, size_t len, uint64_t seed);

#endif
