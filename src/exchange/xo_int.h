/* Internal helpers shared by the exchange format writers. */
#ifndef SW_EXCHANGE_XO_INT_H
#define SW_EXCHANGE_XO_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall/exchange_fmt.h"

extern const uint8_t sw__xo_root_ns[16];

/* 1 when s[0..n) is well-formed UTF-8 without control characters. */
int sw__xo_valid_utf8_text(const char *s, size_t n);

/* RFC 3339 UTC with milliseconds into buf (SW_EVENT_TS_LEN bytes);
 * "1970-01-01T00:00:00.000Z" when the time cannot be formatted. */
void sw__xo_ts(int64_t ns, char buf[SW_EVENT_TS_LEN]);

#endif
