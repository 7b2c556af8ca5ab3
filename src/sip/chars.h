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

static inline int sw__is_wsp(char c) { return c == ' ' || c == '\t'; }
static inline int sw__is_digit(char c) { return c >= '0' && c <= '9'; }
static inline int sw__is_alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static inline int sw__is_hex(char c)
{
    return sw__is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
static inline char sw__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c; }

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
