/* Character classes of the RFC 3261 §25 grammar, one table lookup each. */
#ifndef SW_SIP_CHARS_H
#define SW_SIP_CHARS_H

#include <stdint.h>

enum {
    SW__C_TOKEN = 1u << 0,  /* token: alphanum - . ! % * _ + ` ' ~ */
    SW__C_WORD = 1u << 1,   /* word: token ( ) < > : \ " / [ ] ? { } */
    SW__C_UNRES = 1u << 2,  /* unreserved: alphanum mark */
    SW__C_USER = 1u << 3,   /* user: unreserved user-unreserved (escaped handled apart) */
    SW__C_PASS = 1u << 4,   /* password: unreserved & = + $ , */
    SW__C_PARAM = 1u << 5,  /* paramchar: param-unreserved unreserved */
    SW__C_HNV = 1u << 6,    /* hnv-unreserved unreserved */
    SW__C_HOST = 1u << 7,   /* hostname characters (alphanum - . and, leniently, _) */
};

extern const uint8_t sw__sip_chars[256];

#define SW__IS(c, cls) (sw__sip_chars[(unsigned char)(c)] & (cls))

/* More classes, for the fast paths of the strict parsers. */
enum {
    SW__C2_GENV = 1u << 0, /* an unquoted gen-value (token / host): token : [ ] */
    SW__C2_TEL = 1u << 1,  /* tel: number characters: HEXDIG * # - . ( ) */
};

extern const uint8_t sw__sip_chars2[256];

#define SW__IS2(c, cls) (sw__sip_chars2[(unsigned char)(c)] & (cls))

static inline int sw__is_wsp(char c) { return c == ' ' || c == '\t'; }
static inline int sw__is_digit(char c) { return c >= '0' && c <= '9'; }
static inline int sw__is_alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static inline int sw__is_hex(char c)
{
    return sw__is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
static inline char sw__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c; }

#ifdef __SSE2__
#include <emmintrin.h>

/* Bytes of x in [lo, hi] (unsigned), as 0xff lanes. */
static inline __m128i sw__in_range16(__m128i x, unsigned char lo, unsigned char hi)
{
    __m128i a = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8((char)lo)), x);
    __m128i b = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8((char)hi)), x);
    return _mm_and_si128(a, b);
}
#endif

/* The first character of [p, end) outside class cls of table tab: four
 * table lookups per test while four bytes can be read (up to limit, which
 * is >= end: the bytes past end are not counted). */
static inline const char *sw__span_tab_lim(const char *p, const char *end, const char *limit,
                                           const uint8_t *tab, unsigned cls)
{
    /* while p + 4 <= limit, and p < end */
    const char *stop = limit - end >= 3 ? end : limit - p >= 3 ? limit - 3 : p;
    while (p < stop && (tab[(unsigned char)p[0]] & tab[(unsigned char)p[1]] & tab[(unsigned char)p[2]] &
                        tab[(unsigned char)p[3]] & cls))
        p += 4;
    if (p >= end)
        return end;
    while (p < end && (tab[(unsigned char)*p] & cls))
        p++;
    return p;
}

/* The first character of [p, end) that is not a hostname character
 * (SW__C_HOST: alphanumeric - . _), reading 16 bytes at a time while they
 * lie before limit (>= end; the bytes past end are not looked at). */
static inline const char *sw__span_host_lim(const char *p, const char *end, const char *limit)
{
#ifdef __SSE2__
    while (p < end && limit - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i ok = _mm_or_si128(sw__in_range16(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z'),
                                  sw__in_range16(x, '0', '9'));
        ok = _mm_or_si128(ok, _mm_or_si128(sw__in_range16(x, '-', '.'), _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))));
        unsigned bad = ~(unsigned)_mm_movemask_epi8(ok) & 0xffffu;
        if (bad) {
            const char *q = p + __builtin_ctz(bad);
            return q < end ? q : end;
        }
        p += 16;
    }
    if (p >= end)
        return end;
#endif
    return sw__span_tab_lim(p, end, limit, sw__sip_chars, SW__C_HOST);
}

/* The first of [p, end) that is one of a, b, c, d, or end: 16 bytes at a
 * time inside [p, end) (parameter values such as a branch are ~30 bytes). */
static inline const char *sw__find_any4(const char *p, const char *end, char a, char b, char c, char d)
{
#ifdef __SSE2__
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(a)), _mm_cmpeq_epi8(x, _mm_set1_epi8(b)));
        m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(c)), _mm_cmpeq_epi8(x, _mm_set1_epi8(d))));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end && *p != a && *p != b && *p != c && *p != d)
        p++;
    return p;
}

/* LWS = [*WSP CRLF] 1*WSP: skips spaces, tabs and folds (CRLF followed by WSP). */
static inline const char *sw__skip_lws(const char *p, const char *end)
{
    if (p < end && (unsigned char)*p > ' ')
        return p; /* the usual case: nothing to skip */
    for (;;) {
        while (p < end && sw__is_wsp(*p))
            p++;
        if (end - p >= 3 && p[0] == '\r' && p[1] == '\n' && sw__is_wsp(p[2]))
            p += 3;
        else
            return p;
    }
}

/* Trims LWS off the end. */
static inline const char *sw__rskip_lws(const char *begin, const char *end)
{
    for (;;) {
        while (end > begin && sw__is_wsp(end[-1]))
            end--;
        if (end - begin >= 2 && end[-1] == '\n' && end[-2] == '\r')
            end -= 2;
        else
            return end;
    }
}

#endif
