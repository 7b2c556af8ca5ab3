/* Internal helpers shared by the files of the SIP parser. */
#ifndef SW_SIP_INTERNAL_H
#define SW_SIP_INTERNAL_H

#include "sipwall/sip.h"
#include "sip/chars.h"

/* ---- header names (names.c): the lookup inline for the parser --------------- */
typedef struct sw__hdr_def {
    const char *name;
    uint8_t len;
    char compact;
    uint8_t flags;
} sw__hdr_def;

#define SW__HDR_HASH_SIZE 256u
extern const sw__hdr_def sw__hdr_defs[SW_HDR__COUNT];
extern uint8_t sw__hdr_hash_table[SW__HDR_HASH_SIZE]; /* sw_hdr_id, 0 = empty */
extern uint8_t sw__hdr_compact_table[26];
extern char sw__hdr_lower_names[SW_HDR__COUNT][32]; /* canonical names in lower case */

static inline unsigned sw__hdr_hash(const char *name, size_t len)
{
    /* |0x20 folds the letters; other token characters never match a name */
    unsigned h = (unsigned)len * 7u;
    h += (unsigned)(unsigned char)(name[0] | 0x20) * 31u;
    h += (unsigned)(unsigned char)(name[len - 1] | 0x20) * 131u;
    return h & (SW__HDR_HASH_SIZE - 1);
}

/* Header names hold letters, digits and '-', and an input name holds token
 * characters only; for those, OR-ing 0x20 folds case without false matches,
 * so eight bytes compare at once. */
static inline int sw__hdr_name_eq(const char *in, const char *lc, size_t n)
{
    if (n >= 8) {
        /* whole words, then the last 8 bytes (overlapping) */
        uint64_t a, b;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&a, in + i, 8);
            memcpy(&b, lc + i, 8);
            if ((a | 0x2020202020202020ull) != b)
                return 0;
        }
        memcpy(&a, in + n - 8, 8);
        memcpy(&b, lc + n - 8, 8);
        return (a | 0x2020202020202020ull) == b;
    }
    if (n >= 4) {
        uint32_t a, b, c, d;
        memcpy(&a, in, 4);
        memcpy(&b, lc, 4);
        memcpy(&c, in + n - 4, 4);
        memcpy(&d, lc + n - 4, 4);
        return (a | 0x20202020u) == b && (c | 0x20202020u) == d;
    }
    while (n--)
        if ((*in++ | 0x20) != *lc++)
            return 0;
    return 1;
}

static inline sw_hdr_id sw__hdr_lookup(const char *name, size_t len)
{
    if (len == 0 || len > 255)
        return SW_HDR_OTHER;
    if (len == 1) {
        char c = sw__lower(name[0]);
        return (c >= 'a' && c <= 'z') ? (sw_hdr_id)sw__hdr_compact_table[c - 'a'] : SW_HDR_OTHER;
    }
    unsigned h = sw__hdr_hash(name, len);
    for (;;) {
        uint8_t id = sw__hdr_hash_table[h];
        if (!id)
            return SW_HDR_OTHER;
        if (sw__hdr_defs[id].len == len && sw__hdr_name_eq(name, sw__hdr_lower_names[id], len))
            return (sw_hdr_id)id;
        h = (h + 1) & (SW__HDR_HASH_SIZE - 1);
    }
}

/* ---- stream framing (parse.c), shared by sw_sip_frame and the resumable
 * framer (frame.c) so that both read a Content-Length line alike ---------- */

/* Content-Length = 1*DIGIT: 0 and *out, -1 invalid, -2 negative. */
int sw__parse_content_length(sw_str v, int64_t *out);
/* A header line q[0, ll) (no line end): the offset of its ':' when it is a
 * Content-Length (or "l") header, else 0.  *looked (may be NULL): bytes read. */
size_t sw__cl_colon(const char *q, size_t ll, size_t *looked);
/* The value of the Content-Length line at q whose ':' is at q[colon] and
 * whose last (folded) line ends with the '\n' at eol: as
 * sw__parse_content_length. */
int sw__cl_value(const char *q, size_t colon, const char *eol, int64_t *out);

/* A memo bit sw_sip_parse sets (never an accessor's): a header value runs
 * over a folded line, so it holds a CRLF (sw_sip_folded). */
#define SW__MEMO_FOLDED (1u << 31)

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
/* The type sw__scan_host gives the host characters [s, p). */
static inline sw_host_type sw__scanned_host_type(const char *s, const char *p)
{
    /* A hostname's top label starts with a letter (RFC 3261 toplabel);
     * digits there mean a dotted quad, which strict checking verifies. */
    const char *l = p;
    while (l > s && l[-1] != '.')
        l--;
    return (l < p && sw__is_digit(*l)) ? SW_HOST_IPV4 : SW_HOST_NAME;
}

static inline const char *sw__scan_host(const char *p, const char *end, sw_host_type *type)
{
    const char *s = p;
    while (p < end && SW__IS(*p, SW__C_HOST))
        p++;
    *type = sw__scanned_host_type(s, p);
    return p;
}

/* Checks that v is a host (hostname, IPv4 or [IPv6]); sets *type. */
int sw__check_host(sw_str host, int bracketed, sw_host_type *type);

/* sw__check_host for a host that is either bracketed or exactly what
 * sw__scan_host returned: every character of the latter is already a host
 * character, so only the dotted-quad and first-character rules are left
 * (same result as sw__check_host, fewer passes). */
static inline int sw__check_scanned_host(const char *s, const char *e, sw_host_type *type)
{
    /* all digits and dots: a dotted quad (four parts of 1-3 digits, each
     * at most 255); anything else: a hostname not starting with - or . */
    if (sw__is_digit(*s)) {
        /* the usual dotted quad, read part by part; anything else below */
        const char *p = s;
        int ok = 1;
        for (unsigned part = 0; part < 4 && ok; part++) {
            if (part && (p == e || *p++ != '.'))
                ok = 0;
            else if (p == e || !sw__is_digit(*p))
                ok = 0;
            else {
                unsigned v = (unsigned)(*p++ - '0');
                if (p < e && sw__is_digit(*p)) {
                    v = v * 10 + (unsigned)(*p++ - '0');
                    if (p < e && sw__is_digit(*p))
                        v = v * 10 + (unsigned)(*p++ - '0');
                }
                ok = v <= 255;
            }
        }
        if (ok && p == e) {
            *type = SW_HOST_IPV4;
            return SW_OK;
        }
    }
    if (sw__is_digit(*s) || *s == '.') {
        unsigned parts = 0, val = 0, digits = 0, bad = 0;
        const char *p = s;
        for (; p < e; p++) {
            if (*p == '.') {
                bad |= !digits || val > 255;
                parts++;
                val = digits = 0;
            } else if (sw__is_digit(*p)) {
                val = val * 10 + (unsigned)(*p - '0');
                bad |= ++digits > 3;
                if (val > 999)
                    val = 999; /* keeps the sum bounded; > 255 either way */
            } else {
                break;
            }
        }
        if (p == e) {
            bad |= !digits || val > 255;
            if (bad || parts + 1 != 4)
                return SW_EINVAL;
            *type = SW_HOST_IPV4;
            return SW_OK;
        }
    }
    if (*s == '-' || *s == '.')
        return SW_EINVAL;
    *type = SW_HOST_NAME;
    return SW_OK;
}

static inline int sw__check_host_after_scan(sw_str host, int bracketed, sw_host_type *type)
{
    if (bracketed || host.len == 0)
        return sw__check_host(host, bracketed, type);
    return sw__check_scanned_host(host.ptr, host.ptr + host.len, type);
}

/* The parsers behind the public ones.  strict = 1 checks every character
 * against the grammar (sw_sip_validate, the public entry points); strict = 0
 * only finds the delimiters and extracts (the lazy accessors on the hot
 * path, which sw_sip_validate backs up when a message must be judged). */
int sw__uri_parse(sw_str raw, sw_uri *u, sw_sip_error *err, int strict);
enum { SW__STRICT = 1, SW__NO_TAG = 2 }; /* flags: SW__NO_TAG skips the tag= lookup */
int sw__nameaddr_parse(sw_str v, sw_nameaddr *o, sw_sip_error *err, int flags);
int sw__via_parse(sw_str v, sw_via *o, sw_sip_error *err, int strict);

/* sw__nameaddr_parse and sw__via_parse when the bytes up to limit (>= the
 * value's end) may be read: the fast paths then read 16 bytes at a time
 * up to the value's end. */
/* One header parameter a caller wants from a strict name-addr parse: when
 * done comes back set, found/value are what sw_param_find(o->params, name)
 * would say; else the caller looks for it itself. */
typedef struct sw__pcap {
    const char *name; /* lower case */
    size_t len;
    sw_str value;
    uint8_t found, done;
} sw__pcap;

int sw__nameaddr_parse_lim(sw_str v, sw_nameaddr *o, sw_sip_error *err, int flags, const char *limit,
                           sw__pcap *cap);
int sw__via_parse_lim(sw_str v, sw_via *o, sw_sip_error *err, int strict, const char *limit);

/* sw_sdp_parse's checks without keeping what it reads (o may be NULL). */
int sw__sdp_scan(sw_str body, sw_sdp *o, sw_sip_error *err);

#endif
