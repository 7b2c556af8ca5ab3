/* sipwall — the SIP message parser (RFC 3261 §25, zero-copy, no allocation).
 *
 * Pass one (sw_sip_parse) indexes the start line and every header line into a
 * caller-owned array of views; nothing is copied and nothing is allocated.
 * Typed values (Via, name-addr, CSeq, URIs, digest, SDP …) are parsed on first
 * use by the accessors below and memoised in the message.  sw_sip_validate
 * runs every typed parser and the RFC 3261 rules a proxy must enforce; that is
 * what `sipwall parse` and the malformed-message check use.
 *
 * Every error carries a code (SW_E*), the byte offset in the input where it
 * was found, and a static reason string. */
#ifndef SIPWALL_SIP_H
#define SIPWALL_SIP_H

#include "sipwall/common.h"

/* ---- header names ------------------------------------------------------
 * X(ENUM, "Canonical-Name", compact form or 0, flags)
 * SW_HF_SINGLE: at most one value allowed (RFC 3261 §7.3.1 and §20).
 * SW_HF_LIST:   comma-separated list header (values may be split over lines). */
#define SW_HF_SINGLE 0x1u
#define SW_HF_LIST 0x2u

#define SW_HEADER_LIST(X)                                                   \
    X(VIA, "Via", 'v', SW_HF_LIST)                                         \
    X(FROM, "From", 'f', SW_HF_SINGLE)                                     \
    X(TO, "To", 't', SW_HF_SINGLE)                                         \
    X(CALL_ID, "Call-ID", 'i', SW_HF_SINGLE)                               \
    X(CSEQ, "CSeq", 0, SW_HF_SINGLE)                                       \
    X(CONTACT, "Contact", 'm', SW_HF_LIST)                                 \
    X(CONTENT_LENGTH, "Content-Length", 'l', SW_HF_SINGLE)                 \
    X(CONTENT_TYPE, "Content-Type", 'c', SW_HF_SINGLE)                     \
    X(CONTENT_ENCODING, "Content-Encoding", 'e', SW_HF_LIST)               \
    X(MAX_FORWARDS, "Max-Forwards", 0, SW_HF_SINGLE)                       \
    X(ROUTE, "Route", 0, SW_HF_LIST)                                       \
    X(RECORD_ROUTE, "Record-Route", 0, SW_HF_LIST)                         \
    X(PATH, "Path", 0, SW_HF_LIST)                                         \
    X(SERVICE_ROUTE, "Service-Route", 0, SW_HF_LIST)                       \
    X(EXPIRES, "Expires", 0, SW_HF_SINGLE)                                 \
    X(MIN_EXPIRES, "Min-Expires", 0, SW_HF_SINGLE)                         \
    X(AUTHORIZATION, "Authorization", 0, 0)                                \
    X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0, 0)                    \
    X(WWW_AUTHENTICATE, "WWW-Authenticate", 0, 0)                          \
    X(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0, 0)                      \
    X(IDENTITY, "Identity", 'y', 0)                                        \
    X(P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0, SW_HF_LIST)           \
    X(P_PREFERRED_IDENTITY, "P-Preferred-Identity", 0, SW_HF_LIST)         \
    X(PRIVACY, "Privacy", 0, 0)                                            \
    X(REMOTE_PARTY_ID, "Remote-Party-ID", 0, SW_HF_LIST)                   \
    X(DIVERSION, "Diversion", 0, SW_HF_LIST)                               \
    X(HISTORY_INFO, "History-Info", 0, SW_HF_LIST)                         \
    X(USER_AGENT, "User-Agent", 0, 0)                                      \
    X(SERVER, "Server", 0, 0)                                              \
    X(SUBJECT, "Subject", 's', 0)                                          \
    X(SUPPORTED, "Supported", 'k', SW_HF_LIST)                             \
    X(REQUIRE, "Require", 0, SW_HF_LIST)                                   \
    X(PROXY_REQUIRE, "Proxy-Require", 0, SW_HF_LIST)                       \
    X(UNSUPPORTED, "Unsupported", 0, SW_HF_LIST)                           \
    X(ALLOW, "Allow", 0, SW_HF_LIST)                                       \
    X(ACCEPT, "Accept", 0, SW_HF_LIST)                                     \
    X(ACCEPT_CONTACT, "Accept-Contact", 'a', SW_HF_LIST)                   \
    X(EVENT, "Event", 'o', SW_HF_SINGLE)                                   \
    X(ALLOW_EVENTS, "Allow-Events", 'u', SW_HF_LIST)                       \
    X(SUBSCRIPTION_STATE, "Subscription-State", 0, SW_HF_SINGLE)          \
    X(REFER_TO, "Refer-To", 'r', SW_HF_SINGLE)                             \
    X(REFERRED_BY, "Referred-By", 'b', SW_HF_SINGLE)                       \
    X(REPLACES, "Replaces", 0, SW_HF_SINGLE)                               \
    X(SESSION_EXPIRES, "Session-Expires", 'x', SW_HF_SINGLE)               \
    X(MIN_SE, "Min-SE", 0, SW_HF_SINGLE)                                   \
    X(RSEQ, "RSeq", 0, SW_HF_SINGLE)                                       \
    X(RACK, "RAck", 0, SW_HF_SINGLE)                                       \
    X(DATE, "Date", 0, SW_HF_SINGLE)                                       \
    X(RETRY_AFTER, "Retry-After", 0, SW_HF_SINGLE)                         \
    X(WARNING, "Warning", 0, SW_HF_LIST)                                   \
    X(REASON, "Reason", 0, SW_HF_LIST)                                     \
    X(TIMESTAMP, "Timestamp", 0, SW_HF_SINGLE)                             \
    X(ORGANIZATION, "Organization", 0, 0)                                  \
    X(PRIORITY, "Priority", 0, SW_HF_SINGLE)                               \
    X(P_ACCESS_NETWORK_INFO, "P-Access-Network-Info", 0, 0)                \
    X(P_VISITED_NETWORK_ID, "P-Visited-Network-ID", 0, SW_HF_LIST)         \
    X(P_CHARGING_VECTOR, "P-Charging-Vector", 0, 0)                        \
    X(P_CHARGING_FUNCTION_ADDRESSES, "P-Charging-Function-Addresses", 0, 0)\
    X(P_CALLED_PARTY_ID, "P-Called-Party-ID", 0, 0)                        \
    X(P_ASSOCIATED_URI, "P-Associated-URI", 0, SW_HF_LIST)                 \
    X(P_EARLY_MEDIA, "P-Early-Media", 0, SW_HF_LIST)                       \
    X(CELLULAR_NETWORK_INFO, "Cellular-Network-Info", 0, 0)                \
    X(FEATURE_CAPS, "Feature-Caps", 0, SW_HF_LIST)                         \
    X(REQUEST_DISPOSITION, "Request-Disposition", 'd', SW_HF_LIST)         \
    X(REJECT_CONTACT, "Reject-Contact", 'j', SW_HF_LIST)                   \
    X(SECURITY_CLIENT, "Security-Client", 0, SW_HF_LIST)                   \
    X(SECURITY_SERVER, "Security-Server", 0, SW_HF_LIST)                   \
    X(SECURITY_VERIFY, "Security-Verify", 0, SW_HF_LIST)                   \
    X(CONTENT_DISPOSITION, "Content-Disposition", 0, SW_HF_SINGLE)        \
    X(MIME_VERSION, "MIME-Version", 0, SW_HF_SINGLE)                       \
    X(X_REAL_IP, "X-Real-IP", 0, 0)

typedef enum sw_hdr_id {
    SW_HDR_OTHER = 0, /* any header not in the table */
#define SW__HDR_ENUM(id, name, compact, flags) SW_HDR_##id,
    SW_HEADER_LIST(SW__HDR_ENUM)
#undef SW__HDR_ENUM
    SW_HDR__COUNT
} sw_hdr_id;

/* Looks a header name up (case-insensitive, compact forms included). */
sw_hdr_id sw_hdr_lookup(const char *name, size_t len);
const char *sw_hdr_name(sw_hdr_id id);   /* canonical long name; "" for OTHER */
unsigned sw_hdr_flags(sw_hdr_id id);

/* ---- methods ------------------------------------------------------------ */
#define SW_METHOD_LIST(X)                                                   \
    X(INVITE) X(ACK) X(BYE) X(CANCEL) X(REGISTER) X(OPTIONS) X(PRACK)      \
    X(UPDATE) X(INFO) X(SUBSCRIBE) X(NOTIFY) X(REFER) X(MESSAGE) X(PUBLISH)

typedef enum sw_method {
    SW_METHOD_OTHER = 0, /* an extension method: see msg->method_name */
#define SW__METHOD_ENUM(m) SW_METHOD_##m,
    SW_METHOD_LIST(SW__METHOD_ENUM)
#undef SW__METHOD_ENUM
    SW_METHOD__COUNT
} sw_method;

/* Methods are case-sensitive in SIP (RFC 3261 §7.1). */
sw_method sw_method_lookup(const char *name, size_t len);
const char *sw_method_name(sw_method m); /* "OTHER" for SW_METHOD_OTHER */

/* ---- limits and errors -------------------------------------------------- */
typedef struct sw_sip_limits {
    size_t max_msg_size;   /* whole message incl. body */
    size_t max_header_len; /* one header field incl. its folded lines */
    uint16_t max_headers;  /* header fields (also bounded by the array) */
    uint16_t max_via;      /* Via values over all Via header fields */
} sw_sip_limits;

/* Defaults for an interconnect: 65535-byte messages, 4096-byte header
 * fields (and start line), 256 header fields, 64 Via values (RFC 4475's
 * longreq carries 34). */
void sw_sip_limits_default(sw_sip_limits *lim) SW_NONNULL(1);

typedef struct sw_sip_error {
    int code;           /* SW_E* */
    size_t offset;      /* byte offset in the parsed buffer */
    const char *reason; /* static text, e.g. "negative Content-Length" */
} sw_sip_error;

/* ---- URIs --------------------------------------------------------------- */
typedef enum sw_uri_scheme {
    SW_URI_OTHER = 0, /* absoluteURI kept opaque in `opaque` */
    SW_URI_SIP,
    SW_URI_SIPS,
    SW_URI_TEL,
} sw_uri_scheme;

typedef enum sw_host_type { SW_HOST_NONE = 0, SW_HOST_NAME, SW_HOST_IPV4, SW_HOST_IPV6 } sw_host_type;

typedef struct sw_uri {
    sw_str raw;      /* the whole URI */
    sw_str scheme;   /* as written */
    sw_uri_scheme kind;
    sw_str user;     /* sip/sips userinfo user (still %-escaped); tel: the number */
    sw_str password; /* still %-escaped */
    sw_str host;     /* IPv6 references without the brackets */
    sw_host_type host_type;
    uint16_t port;   /* 0 when absent */
    uint8_t has_port;
    sw_str params;   /* ";"-separated parameters after the hostport, without the first ';' */
    sw_str headers;  /* after '?', without it */
    sw_str opaque;   /* for SW_URI_OTHER: everything after "scheme:" */
} sw_uri;

/* Parses one URI (no surrounding LWS or angle brackets). */
int sw_uri_parse(sw_str raw, sw_uri *out, sw_sip_error *err) SW_WUR SW_NONNULL(2);

/* %-decodes `in` into `out` (capacity cap). Returns the decoded length, or
 * SW_EINVAL for a broken escape, SW_ELIMIT when it does not fit. */
long sw_uri_unescape(sw_str in, char *out, size_t cap) SW_WUR;

/* Parameters: ";a=b;c" lists as found in URIs and after header values. */
typedef struct sw_param {
    sw_str name;
    sw_str value; /* empty when the parameter has no '=value'; quotes kept */
    uint8_t has_value;
} sw_param;

/* Takes the next parameter from *cursor (leading ';' and LWS skipped).
 * Returns 1 and fills *p, 0 at the end, SW_EINVAL on syntax errors. */
int sw_param_next(sw_str *cursor, sw_param *p) SW_WUR SW_NONNULL(1, 2);
/* Case-insensitive lookup. Returns 1 when found (value may be empty), else 0. */
int sw_param_find(sw_str params, const char *name, sw_str *value) SW_NONNULL(2);

/* ---- typed header values ------------------------------------------------- */
typedef struct sw_nameaddr {
    sw_str display;      /* without quotes; quoted-pair escapes left as written */
    uint8_t display_quoted;
    uint8_t angle;       /* 1: name-addr "<uri>", 0: addr-spec */
    uint8_t wildcard;    /* Contact: * */
    sw_uri uri;
    sw_str params;       /* header parameters, without the first ';' */
    sw_str tag;          /* tag= value (From/To) */
} sw_nameaddr;

/* Parses one name-addr / addr-spec value with its header parameters.
 * `v` must be exactly one value (see sw_sip_values_next for lists). */
int sw_nameaddr_parse(sw_str v, sw_nameaddr *out, sw_sip_error *err) SW_WUR SW_NONNULL(2);

typedef struct sw_via {
    sw_str protocol;  /* "SIP/2.0" (name/version as written) */
    sw_str transport; /* "UDP", "TCP", "TLS", "SCTP", or any token */
    sw_str host;      /* IPv6 references without brackets */
    sw_host_type host_type;
    uint16_t port;
    uint8_t has_port;
    uint8_t has_rport;   /* rport present */
    int32_t rport;       /* its value, -1 when empty */
    sw_str params;       /* without the first ';' */
    sw_str branch, received, maddr, ttl;
} sw_via;

int sw_via_parse(sw_str v, sw_via *out, sw_sip_error *err) SW_WUR SW_NONNULL(2);

typedef struct sw_cseq {
    uint32_t number;
    sw_str method_name;
    sw_method method;
} sw_cseq;

int sw_cseq_parse(sw_str v, sw_cseq *out, sw_sip_error *err) SW_WUR SW_NONNULL(2);

/* Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate.
 * Digest parameters are picked out; other schemes keep only `scheme` and `params`. */
typedef struct sw_auth {
    sw_str scheme; /* "Digest" or any token */
    sw_str params; /* the raw auth-param list */
    sw_str username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc, stale,
        domain; /* values with surrounding quotes removed, escapes kept */
} sw_auth;

int sw_auth_parse(sw_str v, sw_auth *out, sw_sip_error *err) SW_WUR SW_NONNULL(2);

/* Identity (RFC 8224): the PASSporT and its parameters. */
typedef struct sw_identity {
    sw_str token;  /* compact JWS: header.payload.signature (LWS removed only at the ends) */
    sw_str header, payload, signature; /* the three base64url parts */
    sw_str info;   /* info= URI without the angle brackets */
    sw_str alg, ppt;
    sw_str params;
} sw_identity;

int sw_identity_parse(sw_str v, sw_identity *out, sw_sip_error *err) SW_WUR SW_NONNULL(2);

/* Content-Type: type/subtype with parameters. */
typedef struct sw_media_type {
    sw_str type, subtype, params;
} sw_media_type;

int sw_media_type_parse(sw_str v, sw_media_type *out, sw_sip_error *err) SW_WUR SW_NONNULL(2);

/* Parses a non-negative decimal that must fit in `max`. */
int sw_parse_uint(sw_str v, uint64_t max, uint64_t *out) SW_WUR SW_NONNULL(3);

/* ---- SDP (light reader: o=, c=, m=) ------------------------------------ */
#define SW_SDP_MAX_MEDIA 8

typedef struct sw_sdp_media {
    sw_str media, port, proto, fmts; /* fmts: the rest of the m= line */
    uint32_t port_num;
    sw_str c_addrtype, c_addr;       /* media-level c= if any */
} sw_sdp_media;

typedef struct sw_sdp {
    sw_str o_username, o_sess_id, o_sess_version, o_nettype, o_addrtype, o_addr;
    sw_str c_nettype, c_addrtype, c_addr; /* session-level c= */
    sw_sdp_media media[SW_SDP_MAX_MEDIA];
    uint8_t nmedia;
    uint8_t media_truncated; /* more m= lines than SW_SDP_MAX_MEDIA */
} sw_sdp;

int sw_sdp_parse(sw_str body, sw_sdp *out, sw_sip_error *err) SW_WUR SW_NONNULL(2);

/* ---- the message --------------------------------------------------------- */
#define SW_HDR_NONE 0xffffu

typedef struct sw_sip_header {
    sw_str name;     /* as written */
    sw_str value;    /* LWS trimmed at both ends; inner folds (CRLF + WSP) kept */
    uint32_t offset; /* of the header line in the message */
    uint16_t id;     /* sw_hdr_id */
    uint16_t next;   /* index of the next header with the same id, or SW_HDR_NONE */
} sw_sip_header;

typedef enum sw_sip_framing {
    SW_SIP_DATAGRAM = 0, /* UDP: no Content-Length means the body runs to the end */
    SW_SIP_STREAM = 1,   /* TCP/TLS: Content-Length is required */
} sw_sip_framing;

/* Memo bits for the lazily parsed fields. */
enum {
    SW_MEMO_VIA = 1u << 0,
    SW_MEMO_FROM = 1u << 1,
    SW_MEMO_TO = 1u << 2,
    SW_MEMO_CSEQ = 1u << 3,
    SW_MEMO_CONTACT = 1u << 4,
    SW_MEMO_MAXFWD = 1u << 5,
    SW_MEMO_RURI = 1u << 6,
    SW_MEMO_PAI = 1u << 7,
    SW_MEMO_EXPIRES = 1u << 8,
    SW_MEMO_ROUTE = 1u << 9,
};

typedef struct sw_sip_msg {
    const char *buf;      /* first byte of the start line */
    size_t len;           /* start line + headers + body (trailing octets excluded) */
    size_t header_len;    /* start line + headers + the empty line */
    uint8_t is_request;
    uint8_t method;       /* sw_method of a request */
    uint16_t status;      /* status code of a response */
    sw_str method_name;   /* request method as written */
    sw_str ruri;          /* request-URI as written */
    sw_str version;       /* "SIP/2.0" */
    sw_str reason;        /* response reason phrase (may be empty) */
    sw_str body;
    int64_t content_length; /* -1 when absent */

    sw_sip_header *hdrs;  /* caller-owned */
    uint16_t nhdrs, cap;
    uint16_t first[SW_HDR__COUNT]; /* first header of each id, SW_HDR_NONE if absent */
    uint16_t last_[SW_HDR__COUNT]; /* internal: to link `next` */
    uint16_t max_via;     /* the limit in force, for sw_sip_validate */

    /* memoised typed values; read them through the accessors */
    uint32_t memo, memo_err;
    sw_via top_via;
    sw_nameaddr from, to, contact, pai;
    sw_cseq cseq;
    sw_uri ruri_parsed;
    int64_t max_forwards;
    int64_t expires;
    sw_nameaddr route;
} sw_sip_msg;

/* Indexes one message in buf[0..len).
 * hdrs/cap: caller-owned storage for the header index (cap ≤ 65534).
 * DATAGRAM: the message is the whole buffer; bytes past Content-Length are
 * ignored (RFC 3261 §18.3), fewer bytes than Content-Length is an error.
 * STREAM: SW_EINCOMPLETE until headers and Content-Length body bytes are all there.
 * Returns the bytes the message occupies (>0), or a negative SW_E* with *err set. */
long sw_sip_parse(sw_sip_msg *m, sw_sip_header *hdrs, uint16_t cap, const char *buf, size_t len,
                  sw_sip_framing framing, const sw_sip_limits *lim, sw_sip_error *err)
    SW_WUR SW_NONNULL(1, 2);

/* Stream framing without indexing: finds the next message in a TCP/TLS byte
 * stream.  Leading CRLFs (RFC 5626 keep-alives) are counted in *skip.  Returns
 * the length of the message that follows them, SW_EINCOMPLETE, or an error
 * (no or bad Content-Length, over the limits) with *err set. */
long sw_sip_frame(const char *buf, size_t len, const sw_sip_limits *lim, size_t *skip,
                  sw_sip_error *err) SW_WUR SW_NONNULL(4);

/* ---- the resumable stream framer ---------------------------------------
 * sw_sip_frame's answer for a growing buffer, without re-reading what an
 * earlier call already read: the scan state (keep-alive CR/LFs counted,
 * where the search for the end of the header section stopped, header
 * fields counted, Content-Length once seen) lives in a caller-owned
 * sw_sip_framer.  Pure: no allocation, no I/O, no pointer into the buffer
 * is kept (offsets only), so the buffer may move between calls.  Read the
 * fields, never write them; `examined` counts the bytes looked at since
 * sw_sip_framer_init (a message costs O(its length) whatever the reads). */
typedef struct sw_sip_framer {
    uint64_t examined; /* bytes examined since init (never reset) */
    /* internal scan state, offsets from the first byte after the keep-alives */
    size_t skip;       /* leading CR/LF bytes counted */
    size_t line;       /* start of the line being scanned */
    size_t searched;   /* bytes already searched for a line end */
    size_t cl_eol;     /* a Content-Length line waiting for its folds: its last '\n' */
    size_t cl_colon;   /* ... and its ':' (from the line start) */
    size_t hdr_end;    /* length of the header section once found */
    int64_t cl;        /* Content-Length, -1 until seen */
    uint32_t nhdrs;    /* header fields seen */
    uint8_t phase;     /* keep-alives, header section, body, done, failed */
    uint8_t first_line;
    uint8_t cl_pending;
    long result;       /* done or failed: what every later call answers */
    sw_sip_error error;
} sw_sip_framer;

/* Starts framing at the first byte of a buffer. */
void sw_sip_framer_init(sw_sip_framer *f) SW_NONNULL(1);

/* Frames the next message of buf[0, len): the same stream as in the
 * previous call (same first byte, bytes read before unchanged), possibly
 * longer.  Returns exactly what sw_sip_frame(buf, len, lim, skip, err)
 * returns — the message length after *skip keep-alive bytes,
 * SW_EINCOMPLETE, or an error with the same code, offset and reason — and
 * examines each byte O(1) times over any sequence of calls.  After a
 * message or an error, later calls return the same until
 * sw_sip_framer_consume.  `lim` must not change within a message (NULL:
 * the defaults). */
long sw_sip_framer_next(sw_sip_framer *f, const char *buf, size_t len, const sw_sip_limits *lim,
                        size_t *skip, sw_sip_error *err) SW_WUR SW_NONNULL(1, 5);

/* The caller removed n bytes from the front of its buffer: the keep-alives
 * of an incomplete message (n ≤ *skip, the scan state is kept), or the
 * keep-alives and the message just returned (the framer starts on the next
 * message).  Any other n starts afresh at the new first byte. */
void sw_sip_framer_consume(sw_sip_framer *f, size_t n) SW_NONNULL(1);

/* Cheap test of whether bytes start like a SIP message (request line
 * "TOKEN SP x SP SIP/" or status line "SIP/x.y ddd" with exactly three
 * digits), for finding SIP on any port.  Looks at the first line only, up to
 * 4096 bytes: give it the whole request line, since a long Request-URI can
 * push "SIP/" far in. */
int sw_sip_looks_like(const char *buf, size_t len);

/* Full check of a parsed message: every known header's typed parser, the
 * mandatory headers, single-value headers, CSeq method, scalar ranges, the
 * request-URI rules.  Returns SW_OK or the first problem with *err set. */
int sw_sip_validate(sw_sip_msg *m, sw_sip_error *err) SW_WUR SW_NONNULL(1);

/* Header access. */
static inline const sw_sip_header *sw_sip_first(const sw_sip_msg *m, sw_hdr_id id)
{
    uint16_t i = m->first[id];
    return i == SW_HDR_NONE ? NULL : &m->hdrs[i];
}
static inline const sw_sip_header *sw_sip_next(const sw_sip_msg *m, const sw_sip_header *h)
{
    return h->next == SW_HDR_NONE ? NULL : &m->hdrs[h->next];
}
/* Finds any header by name (case-insensitive, compact forms too). */
const sw_sip_header *sw_sip_find(const sw_sip_msg *m, const char *name) SW_NONNULL(1, 2);

/* Iterates the comma-separated values of every header of one id (in order),
 * honouring quotes and angle brackets.  Init, then call _next until it
 * returns 0; SW_EINVAL for an empty element (e.g. "a,,b"). */
typedef struct sw_sip_values {
    const sw_sip_msg *m;
    uint16_t hdr;
    sw_str rest;
    uint8_t list; /* split on commas */
} sw_sip_values;

void sw_sip_values_init(sw_sip_values *it, const sw_sip_msg *m, sw_hdr_id id) SW_NONNULL(1, 2);
int sw_sip_values_next(sw_sip_values *it, sw_str *value, sw_sip_error *err) SW_WUR SW_NONNULL(1, 2);

/* Lazy typed accessors: parse on first use, memoise.  Return SW_OK,
 * SW_EMISSING when the header is absent, or the parse error. */
int sw_sip_top_via(sw_sip_msg *m, const sw_via **out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_from(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_to(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_contact(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_pai(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_route(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_cseq(sw_sip_msg *m, const sw_cseq **out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_ruri(sw_sip_msg *m, const sw_uri **out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_call_id(const sw_sip_msg *m, sw_str *out) SW_NONNULL(1, 2);
int sw_sip_max_forwards(sw_sip_msg *m, int64_t *out, sw_sip_error *err) SW_NONNULL(1, 2);
int sw_sip_expires(sw_sip_msg *m, int64_t *out, sw_sip_error *err) SW_NONNULL(1, 2);

/* 1 when some header value continues over a folded line (so it holds a
 * CRLF), 0 when every value lies on its header's line. */
int sw_sip_folded(const sw_sip_msg *m) SW_NONNULL(1);

/* Number of Via values over all Via headers, or a negative error. */
int sw_sip_via_count(const sw_sip_msg *m, sw_sip_error *err) SW_NONNULL(1);

#endif
