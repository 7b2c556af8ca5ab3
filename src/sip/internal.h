/* Internal helpers shared by the files of the SIP parser. */
#ifndef SW_SIP_INTERNAL_H
#define SW_SIP_INTERNAL_H

#include "sipwall/sip.h"
#include "sip/chars.h"

static inline int sw__fail(sw_sip_error *err, int code, size_t offset, const char *reason)
{
    if (err) {
        err->code = code;
        err->offset = offset;
        err->reason = reason;
    }
    return code;
}

/* Offset of p relative to the start of a view's enclosing buffer is not known
 * to the value parsers; they report offsets relative to their input and the
 * message-level code rebases them with this. */
static inline void sw__rebase(sw_sip_error *err, const char *base, const char *value_start)
{
    if (err)
        err->offset += (size_t)(value_start - base);
}

/* A NULL view (an absent value) becomes an empty one, so parsers never do
 * pointer arithmetic on NULL. */
static inline sw_str sw__nonnull(sw_str v)
{
    return v.ptr ? v : sw_str_make("", 0);
}

/* Splits off the next comma-separated element of a list value (quotes and
 * <> honoured).  Returns 1 with *elem set (LWS trimmed), 0 when s is empty. */
int sw__list_next(sw_str *s, sw_str *elem);

/* Scans a quoted-string starting at p (*p == '"'); returns the position
 * after the closing quote, or NULL if unterminated or holding a bare CR/LF. */
const char *sw__scan_quoted(const char *p, const char *end);

/* Header parameters: *( SEMI generic-param ) with LWS around ';' and '='.
 * Validates the syntax; returns SW_OK or SW_EINVAL (offset relative to s). */
int sw__check_generic_params(sw_str s, sw_sip_error *err);

/* Scans hostname characters from p; *type is SW_HOST_IPV4 when they are
 * only digits and dots (not yet range-checked), else SW_HOST_NAME. */
static inline const char *sw__scan_host(const char *p, const char *end, sw_host_type *type)
{
    const char *s = p;
    while (p < end && SW__IS(*p, SW__C_HOST))
        p++;
    /* A hostname's top label starts with a letter (RFC 3261 toplabel);
     * digits there mean a dotted quad, which strict checking verifies. */
    const char *l = p;
    while (l > s && l[-1] != '.')
        l--;
    *type = (l < p && sw__is_digit(*l)) ? SW_HOST_IPV4 : SW_HOST_NAME;
    return p;
}

/* Checks that v is a host (hostname, IPv4 or [IPv6]); sets *type. */
int sw__check_host(sw_str host, int bracketed, sw_host_type *type);

/* The parsers behind the public ones.  strict = 1 checks every character
 * against the grammar (sw_sip_validate, the public entry points); strict = 0
 * only finds the delimiters and extracts (the lazy accessors on the hot
 * path, which sw_sip_validate backs up when a message must be judged). */
int sw__uri_parse(sw_str raw, sw_uri *u, sw_sip_error *err, int strict);
enum { SW__STRICT = 1, SW__NO_TAG = 2 }; /* flags: SW__NO_TAG skips the tag= lookup */
int sw__nameaddr_parse(sw_str v, sw_nameaddr *o, sw_sip_error *err, int flags);
int sw__via_parse(sw_str v, sw_via *o, sw_sip_error *err, int strict);

#endif
