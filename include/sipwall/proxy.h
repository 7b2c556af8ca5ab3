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
 * Branches are derived statelessly (§16.11): "z9hG4bKsw" and one AES-256
 * block (secret-derived key) holding the interface the request came in on,
 * a flag, a keyed hash of the incoming top Via's branch and sent-by (of
 * Call-ID, tags, CSeq number, Request-URI and top Via for RFC 2543
 * branches), a keyed loop hash (§16.6 item 8: Request-URI, Call-ID, From
 * tag, CSeq number, Route) and six zero bytes.  A retransmission, the
 * CANCEL and the ACK for a non-2xx answer get the INVITE's branch; a
 * response's top Via is ours only if its block decrypts to the zeros (a
 * forged branch passes with probability 2^-48) and it tells where the
 * response goes; a Via of ours deeper in a request with the same loop
 * hash is a loop (482). */
#ifndef SIPWALL_PROXY_H
#define SIPWALL_PROXY_H

#include "sipwall/addr.h"
#include "sipwall/policy.h" /* sw_hdr_mask */
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
#define SW_HIDE_MAX_PLAINTEXT 65536 /* longest value sealed or opened */

/* One sw_hide holds one EVP_CIPHER_CTX and one HMAC context: it is NOT
 * thread-safe.  Use one per worker thread (sw_proxy owns one, so the same
 * goes for sw_proxy). */

/* Subkeys for encryption and the IV are derived from key (HKDF-SHA256). */
sw_hide *sw_hide_new(const uint8_t key[SW_HIDE_KEY_LEN]) SW_WUR SW_NONNULL(1);
void sw_hide_free(sw_hide *h);
/* Token length for n plaintext bytes (without NUL). */
size_t sw_hide_token_len(size_t n);
/* Seals pt into out (cap bytes, NUL-terminated).  Returns the token length,
 * or SW_ELIMIT when it does not fit (or n > SW_HIDE_MAX_PLAINTEXT). */
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
    uint8_t worker;              /* 0..63: written into our branches (see sw_proxy_branch_worker) */
} sw_proxy_config;

/* A proxy: the interfaces, the keys, and ~200 KiB of scratch for token
 * plaintexts.  Not thread-safe (it owns an sw_hide): one per worker, all
 * created from the same config and secret, so that any worker can handle
 * the response or the in-dialog request of a message another one sent. */
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
    const struct sw_verdict *verdict; /* the engine's: strip / sanitize masks, or NULL */
    /* out of sw_proxy_route */
    sw_proxy_hop hop;           /* top Route after ours are popped, else the R-URI */
    uint8_t hop_from_route;
    uint8_t hop_is_self;        /* the hop is one of our interfaces (e.g. a trunk that
                                   puts our address in the Request-URI): pick the next
                                   hop from your own routes, never send to hop */
    uint16_t status;            /* REPLY: 483 Too Many Hops, 400, 482, 416 … */
    const char *reason;         /* REPLY: reason phrase */
    /* private to the proxy (the views point into msg or into scratch below,
     * so the struct must not be copied between route and write) */
    uint32_t priv_flags;
    uint16_t routes_popped;     /* original Route values removed from the top */
    uint16_t routes_total;      /* original Route values */
    int64_t max_forwards;
    uint32_t loop_hash;
    sw_str ruri;                /* the Request-URI to write */
    sw_str route_prefix;        /* restored Route values, ahead of the original ones */
    char scratch[4096];
    size_t scratch_used;
} sw_proxy_req;

/* Phase 1: loose-route pre-processing (§16.4: pop our own Route entries
 * and restore what their tokens hid; strict-router fix-up), R-URI
 * restore when it is one of our hidden Contacts, Max-Forwards check,
 * loop check, then the next hop.  Returns FORWARD, REPLY (status set) or
 * DROP (an ACK for a response we generated ourselves, or any ACK that
 * would otherwise be answered).
 * REPLY statuses: 400 (no usable Via, From, To, Call-ID, CSeq, Request-URI,
 * Route or Max-Forwards), 416 (a Request-URI that is not sip/sips/tel and no
 * Route), 481 (an in-dialog token of ours that does not open: forged, or
 * sealed under another secret), 404 (the same out of dialog), 482, 483,
 * and 200 for an OPTIONS addressed to us (no user part, no Route).
 * A tel: Request-URI without Route gives an empty hop.host: route it by
 * your own table. */
sw_proxy_result sw_proxy_route(sw_proxy *p, sw_proxy_req *r) SW_NONNULL(1, 2);

/* Phase 2 (only after FORWARD; may be called again, e.g. with a larger
 * buffer): writes the request to forward through out_iface: our Via on top
 * (received/rport added to the previous top Via when needed, the stack
 * hidden into ours when out_iface is on the interconnect side and the
 * request came from the core), Max-Forwards decremented (70 when absent),
 * Record-Route added for dialog-creating requests (two entries when the
 * in and out interfaces differ, RFC 5658), headers stripped and
 * sanitized per the verdict, Contact and Call-ID hidden or restored,
 * Content-Length always written.  Returns the length, SW_ELIMIT when cap
 * is too small, SW_ERANGE when a value to hide is too long to be sealed
 * (Record-Route set > 2048 bytes, Contact URI > 1024, Call-ID > 4096:
 * answer 500 or drop), SW_EUSAGE when route() did not say FORWARD. */
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
    const struct sw_verdict *verdict; /* or NULL */
    /* out */
    sw_proxy_hop hop;
    unsigned out_iface;
    /* the branch and Call-ID the request had when it reached us (what the
     * response carries once forwarded): for screening the response against
     * its transaction; views into the message, scratch or out */
    sw_str req_branch, req_call_id;
    /* private */
    char scratch[4096];
    size_t scratch_used;
} sw_proxy_resp;

/* FORWARD: *len bytes of out go to r->hop through r->out_iface.  DROP with
 * *len == SW_ELIMIT: cap was too small; *len == SW_ERANGE: a value to
 * hide was too long (see sw_proxy_write_request); any other DROP (not
 * ours, forged, nowhere to go) has *len == 0.  r->hop.host points into
 * r->scratch. */
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

/* The worker named in the first branch of ours found in a raw message
 * (a cheap scan, no parsing), or -1.  sipwalld hands a response to the
 * worker that forwarded its request, so one engine sees both halves of a
 * transaction.  Not authenticated: sw_proxy_response still checks the
 * branch. */
int sw_proxy_branch_worker(const char *data, size_t len) SW_NONNULL(1);
/* What sw_proxy_branch_worker looks for: the marker ("branch=" and our
 * branch prefix), then one of 64 characters naming the worker (index =
 * position in sw_proxy_worker_chars()).  For a steering program in the
 * kernel (sw_sock_steer_by_marker). */
const char *sw_proxy_branch_marker(void);
const char *sw_proxy_worker_chars(void);

/* The standard reason phrase for a status ("Forbidden"), "" if unknown. */
const char *sw_sip_reason_phrase(uint16_t status);

#endif
