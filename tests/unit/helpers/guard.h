/* Test helpers: guard-page buffers and file loading. */
#ifndef SW_TEST_GUARD_H
#define SW_TEST_GUARD_H

#include <stddef.h>

/* A buffer whose last byte sits right before an unmapped page, so a one-byte
 * over-read faults.  The returned pointer stays valid until the next call
 * with the same slot or sw_test_guard_release(). */
typedef struct sw_guard {
    void *map;
    size_t map_len;
} sw_guard;

const char *sw_guard_copy(sw_guard *g, const void *data, size_t len);
void sw_guard_release(sw_guard *g);

/* Reads a whole file into a malloc'd buffer; NULL on error. */
char *sw_test_read_file(const char *path, size_t *len);

/* 1 when the directory exists. */
int sw_test_dir_exists(const char *path);

#endif
