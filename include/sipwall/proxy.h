/* sipwall — the stateless proxy core (RFC 3261 §16, §18; RFC 3581; RFC 5658):
 * message rewriting only, no I/O.  sipwalld does the sockets and asks this
 * layer what to send and where.
 *
 * Two sides: the operator's core (trusted) and the interconnect (partners,
 * untrusted).  Requests and responses cross between them.  Toward the
 * interconnect, topology hiding replaces what names the core (the Via
 * stack, Record-Route entries on the core's side of ours, Contact,
 * Call-ID) by tokens sealed with an AEAD key (sw_hide); messages coming
 * back carry the tokens, which are opened and the originals restored.  The
 * tokens are deterministic (synthetic IV), so retransmissions, CANCEL, ACK
 * and every request of a dialog see the same values, and nothing is kept
 * per call.
 *
 * Branches are derived statelessly (§16.11): an HMAC over the incoming top
 * Via's branch and sent-by, so a retransmission, the CANCEL and the ACK
 * for a non-2xx answer get the INVITE's branch.  The branch also names the
 * interface the request came in on, and its MAC lets a response's top Via
 * be checked as really ours (a forged response is dropped). */
#ifndef SIPWALL_PROXY_H
#define SIPWALL_PROXY_H

#include "sipwall/addr.h"
#include "sipwall/engine.h"
#include "sipwall/sip.h"

/* ---- sealed tokens ------------------------------------------------------
 * AES-256-GCM with a synthetic IV: iv = HMAC-SHA256(k_iv, purpose || pt)
 * cut to 12 bytes; token = base64url(iv || ct || tag), no padding, so it
 * is a SIP token and URI-user safe.  The purpose byte is authenticated, so
 * a Via token cannot be replayed as a Call-ID. */
typedef struct sw_hide sw_hide;

enum {
    SW_HIDE_VIA = 1,    /* the Via stack under ours */
    SW_HIDE_RR = 2,     /* Record-Route / Route entries on the core side of ours */
    SW_HIDE_CONTACT = 3, /* a Contact URI */
    SW_HIDE_CALL_ID = 4, /* a Call-ID */
};

#define SW_HIDE_KEY_LEN 32

/* Subkeys for encryption and the IV are derived from key (HKDF-SHA256). */
sw_hide *sw_hide_new(const uint8_t key[SW_HIDE_KEY_LEN]) SW_WUR SW_NONNULL(1);
void sw_hide_free(sw_hide *h);
/* Token length for n plaintext bytes (without NUL). */
size_t sw_hide_token_len(size_t n);
/* Seals pt into out (cap bytes, NUL-terminated).  Returns the token length,
 * or SW_ELIMIT when it does not fit. */
long sw_hide_seal(sw_hide *h, uint8_t purpose, const void *pt, size_t n, char *out, size_t cap)
    SW_WUR SW_NONNULL(1, 5);
/* Opens a token.  Returns the plaintext length, SW_EAUTH when it was not
 * sealed by this key for this purpose (or was altered), SW_EINVAL for bad
 * base64url, SW_ELIMIT when out is too small. */
long sw_hide_open(sw_hide *h, uint8_t purpose, const char *tok, size_t n, void *out, size_t cap)
    SW_WUR SW_NONNULL(1, 5);

/* ---- the proxy ------------------------------------------------------------ */
typedef enum sw_side {
    SW_SIDE_CORE = 0,         /* the operator's own network (trusted) */
    SW_SIDE_INTERCONNECT = 1, /* partners (untrusted) */
} sw_side;

/* One of our listening interfaces, as written into Via, Record-Route and
 * hidden Contacts.  addr is the advertised address (the bound one unless
 * the config says otherwise). */
typedef struct sw_proxy_iface {
    sw_transport transport;
    sw_addr addr;
    sw_side side;
} sw_proxy_iface;

#define SW_PROXY_MAX_IFACES 32

typedef struct sw_proxy_config {
    const uint8_t *secret;       /* SW_HIDE_KEY_LEN bytes: branch MACs and sealed tokens */
    uint8_t hide_topology;       /* hide toward the interconnect (Via, RR, Contact, Call-ID) */
    const sw_proxy_iface *ifaces; /* copied */
    unsigned nifaces;            /* ≤ SW_PROXY_MAX_IFACES */
} sw_proxy_config;

typedef struct sw_proxy sw_proxy;

sw_proxy *sw_proxy_new(const sw_proxy_config *cfg) SW_WUR SW_NONNULL(1);
void sw_proxy_free(sw_proxy *p);

/* 1 when host:port (port 0 = the transport's default) names one of our
 * interfaces; returns its index in *iface when iface is not NULL. */
int sw_proxy_is_self(const sw_proxy *p, sw_str host, uint16_t port, unsigned *iface) SW_NONNULL(1);

/* Where a message goes next, for the caller to resolve: host is an IP
 * literal (then addr is set) or a name the caller maps with its routes. */
typedef struct sw_proxy_hop {
    sw_str host;            /* view into the message or the proxy's scratch */
    uint16_t port;          /* 0: default for the transport */
    sw_transport transport; /* from ;transport=, the Via, or UNKNOWN (caller decides) */
    uint8_t has_addr;
    sw_addr addr;           /* when host is an IP literal (port filled with the default) */
} sw_proxy_hop;

/* The outcome of one call. */
typedef enum sw_proxy_result {
    SW_PROXY_FORWARD = 0, /* send out[0..len) to the hop */
    SW_PROXY_REPLY = 1,   /* answer the request with status (see sw_proxy_reply) */
    SW_PROXY_DROP = 2,    /* nothing to send (e.g. a response that is not ours, ACK to our reply) */
} sw_proxy_result;

/* A request on its way through; lives on the caller's stack, holds views
 * into the message and scratch for restored values. */
typedef struct sw_proxy_req {
    /* in */
    sw_sip_msg *msg;            /* parsed; the engine's or the caller's */
    sw_addr src;                /* where it came from (for received / rport) */
    sw_transport transport;     /* how it came */
    unsigned in_iface;          /* index of the interface it arrived on */
    const sw_verdict *verdict;  /* strip / sanitize masks, or NULL */
    /* out of sw_proxy_route */
    sw_proxy_hop hop;           /* top Route after ours are popped, else the R-URI */
    uint8_t hop_from_route;
    uint16_t status;            /* REPLY: 483 Too Many Hops, 400, 482, 416 … */
    const char *reason;         /* REPLY: reason phrase */
    /* private to the proxy */
    uint32_t priv_flags;
    uint16_t routes_popped;
    int64_t max_forwards;
    char scratch[4096];
    size_t scratch_used;
} sw_proxy_req;

/* Phase 1: loose-route pre-processing (§16.4: pop our own Route entries
 * and restore what their tokens hid; strict-router fix-up), R-URI
 * restore when it is one of our hidden Contacts, Max-Forwards check,
 * loop check, then the next hop.  Returns FORWARD, REPLY (status set) or
 * DROP (an ACK for a response we generated ourselves). */
sw_proxy_result sw_proxy_route(sw_proxy *p, sw_proxy_req *r) SW_NONNULL(1, 2);

/* Phase 2: writes the request to forward through out_iface: our Via on top
 * (received/rport added to the previous top Via when needed, the stack
 * hidden into ours when out_iface is on the interconnect side and the
 * request came from the core), Max-Forwards decremented (70 when absent),
 * Record-Route added for dialog-creating requests (two entries when the
 * in and out interfaces differ, RFC 5658), headers stripped and
 * sanitized per the verdict, Contact and Call-ID hidden or restored,
 * Content-Length written when the out transport is a stream.  Returns the
 * length, or SW_ELIMIT when cap is too small. */
long sw_proxy_write_request(sw_proxy *p, sw_proxy_req *r, unsigned out_iface, char *out,
                            size_t cap) SW_WUR SW_NONNULL(1, 2, 4);

/* A response: its top Via must be ours (host is one of our interfaces and
 * the branch MAC holds), else DROP.  Pops it, restores the hidden Via
 * stack, hides/restores Record-Route, Contact and Call-ID by direction,
 * and writes the result.  *hop is the next Via's received/rport (or
 * sent-by), *out_iface the interface the request came in on (from the
 * branch). */
typedef struct sw_proxy_resp {
    sw_sip_msg *msg;
    sw_addr src;
    sw_transport transport;
    unsigned in_iface;         /* where the response arrived */
    const sw_verdict *verdict; /* or NULL */
    /* out */
    sw_proxy_hop hop;
    unsigned out_iface;
    /* private */
    char scratch[4096];
    size_t scratch_used;
} sw_proxy_resp;

sw_proxy_result sw_proxy_response(sw_proxy *p, sw_proxy_resp *r, char *out, size_t cap, long *len)
    SW_NONNULL(1, 2, 3, 5);

/* Builds our own answer to a request (§8.2.6, §16.2 stateless): status
 * line, the request's Via headers (received/rport added to the top one),
 * From, To (with a deterministic tag when it had none, so a
 * retransmission gets the same answer and its ACK is recognised), Call-ID,
 * CSeq, Retry-After when retry_after_s > 0, Server omitted,
 * Content-Length: 0.  reason NULL: the standard phrase.  Returns the
 * length, SW_ELIMIT, or SW_EINVAL when the request lacks what an answer
 * needs (then drop it).  Never answers an ACK (returns SW_EINVAL). */
long sw_proxy_reply(sw_proxy *p, sw_sip_msg *req, const sw_addr *src, uint16_t status,
                    const char *reason, uint32_t retry_after_s, char *out, size_t cap)
    SW_WUR SW_NONNULL(1, 2, 3, 7);

/* The standard reason phrase for a status ("Forbidden"), "" if unknown. */
const char *sw_sip_reason_phrase(uint16_t status);

#endif
