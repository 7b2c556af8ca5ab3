/* Small helpers of the exchange unit tests. */
#ifndef SW_TEST_EXCHANGE_HELPERS_H
#define SW_TEST_EXCHANGE_HELPERS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file (NULL when absent); *len without the NUL added. */
static inline char *xread(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = '\0';
        *len = (size_t)n;
    }
    return b;
}

/* Drops trailing newlines. */
static inline void chomp(char *s, size_t *len)
{
    while (*len && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
        s[--*len] = '\0';
}
#endif
