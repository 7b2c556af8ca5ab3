/* Internal helpers shared by the files of the SIP parser. */
#ifndef SW_SIP_INTERNAL_H
#define SW_SIP_INTERNAL_H

#include "sipwall/sip.h"

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

/* Splits off the next comma-separated element of a list value (quotes and
 * <> honoured).  Returns 1 with *elem set (LWS trimmed), 0 when s is empty. */
int sw__list_next(sw_str *s, sw_str *elem);

/* Scans a quoted-string starting at p (*p == '"'); returns the position
 * after the closing quote, or NULL if unterminated or holding a bare CR/LF. */
const char *sw__scan_quoted(const char *p, const char *end);

/* Header parameters: *( SEMI generic-param ) with LWS around ';' and '='.
 * Validates the syntax; returns SW_OK or SW_EINVAL (offset relative to s). */
int sw__check_generic_params(sw_str s, sw_sip_error *err);

/* Checks that v is a host (hostname, IPv4 or [IPv6]); sets *type. */
int sw__check_host(sw_str host, int bracketed, sw_host_type *type);

#endif
