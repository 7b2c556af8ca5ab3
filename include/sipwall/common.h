/* sipwall — common types: string views, the error enum, compiler helpers.
 *
 * Every public function that can fail returns an sw_err (0 or a negative
 * SW_E* value) or a non-negative count; names and messages of the errors
 * come from one X-macro list so they cannot drift apart. */
#ifndef SIPWALL_COMMON_H
#define SIPWALL_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define SW_WUR __attribute__((warn_unused_result))
#define SW_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define SW_LIKELY(x) __builtin_expect(!!(x), 1)
#define SW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SW_WUR
#define SW_NONNULL(...)
#define SW_LIKELY(x) (x)
#define SW_UNLIKELY(x) (x)
#define SW_PRINTF(f, a)
#endif

/* A view into someone else's bytes: never owns, never NUL-terminated.
 * Print with "%.*s", (int)s.len, s.ptr. */
typedef struct sw_str {
    const char *ptr;
    size_t len;
} sw_str;

#define SW_STR_NULL ((sw_str){NULL, 0})
#define SW_STR_LIT(s) ((sw_str){(s), sizeof(s) - 1})

static inline sw_str sw_str_make(const char *p, size_t n) { return (sw_str){p, n}; }
static inline int sw_str_empty(sw_str s) { return s.len == 0; }
static inline int sw_str_eq(sw_str a, sw_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
/* ASCII case-insensitive equality (SIP tokens, header names, schemes). */
static inline int sw_str_caseeq(sw_str a, sw_str b)
{
    if (a.len != b.len)
        return 0;
    for (size_t i = 0; i < a.len; i++) {
        unsigned char x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[i];
        if (x != y) {
            if ((x | 0x20) != (y | 0x20) || (unsigned char)((x | 0x20) - 'a') > 'z' - 'a')
                return 0;
        }
    }
    return 1;
}
static inline int sw_str_caseeq_cstr(sw_str a, const char *lit)
{
    return sw_str_caseeq(a, sw_str_make(lit, strlen(lit)));
}
/* The value of one hex digit (either case), or -1 when c is not one. */
static inline int sw_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The one error list: X(NAME, value, message). */
#define SW_ERROR_LIST(X)                                                    \
    X(OK, 0, "success")                                                    \
    X(EINCOMPLETE, -1, "incomplete input, more bytes needed")              \
    X(EINVAL, -2, "invalid syntax")                                        \
    X(ELIMIT, -3, "configured limit exceeded")                             \
    X(ENOMEM, -4, "out of memory")                                         \
    X(EIO, -5, "input/output error")                                       \
    X(ENOTSIP, -6, "not a SIP message")                                    \
    X(EVERSION, -7, "unsupported SIP version")                             \
    X(EMISSING, -8, "required header missing")                             \
    X(ECONFLICT, -9, "conflicting header values")                          \
    X(ERANGE, -10, "value out of range")                                   \
    X(EFORMAT, -11, "damaged or unsupported file format")                  \
    X(ETRUNC, -12, "truncated input")                                      \
    X(ENOTFOUND, -13, "not found")                                         \
    X(EUSAGE, -14, "invalid argument")                                     \
    X(EAUTH, -15, "authentication failed")                                 \
    X(EAGAIN, -16, "would block, try again when ready")

typedef enum sw_err {
#define SW__ERR_ENUM(name, val, msg) SW_##name = (val),
    SW_ERROR_LIST(SW__ERR_ENUM)
#undef SW__ERR_ENUM
} sw_err;

/* Static strings; unknown codes give "unknown error". */
const char *sw_strerror(int err);
const char *sw_errname(int err);

/* printf into an error buffer: nothing when err is NULL or errlen 0, else
 * NUL-terminated and truncated to errlen.  The one helper every parser and
 * loader that reports "why" in a caller's buffer uses. */
void sw_errf(char *err, size_t errlen, const char *fmt, ...) SW_PRINTF(3, 4);

#endif
