/* sipwall assess: what the files of src/assess/ share (internal).
 *
 * The run (run.c) owns the budget, the pacing and the replies collected for
 * the checks that only read (SIP-FP-01, SIP-LEAK-01, SIP-CRED-02); the SIP
 * client (sipc.c) opens connections to the one target and runs
 * transactions through the run; msg.c builds requests; digest.c computes
 * RFC 2617/7616/8760 digests; scan.c reads replies (fingerprints, product
 * versions, leaked addresses); the checks live in check_sip.c and
 * check_tls.c and are listed in catalogue.c. */
#ifndef SW_ASSESS_INT_H
#define SW_ASSESS_INT_H

#include <stdbool.h>

#include "sipwall/addr.h"
#include "sipwall/assess.h"
#include "sipwall/net.h"
#include "sipwall/sip.h"

#define SW__ASSESS_MSG_MAX 65535u   /* one SIP message, sent or received */
#define SW__ASSESS_MAX_REPLIES 256u /* replies kept for the read-only checks */
#define SW__ASSESS_MAX_EVIDENCE 256u /* evidence records per finding */
#define SW__ASSESS_RATE_CAP 500u    /* --max-rate ceiling (requests/s) */
#define SW__ASSESS_DEFAULT_RATE 10u
#define SW__ASSESS_DEFAULT_BUDGET 1000u
#define SW__ASSESS_CHECK_SECONDS 150  /* wall clock of one check */
#define SW__ASSESS_RUN_SECONDS 900    /* wall clock of the run */
#define SW__ASSESS_LIVENESS_FAILS 3   /* the run stops after this many */

int64_t sw__assess_now_ns(void);      /* CLOCK_REALTIME */
int64_t sw__assess_mono_ns(void);     /* CLOCK_MONOTONIC */
/* n random bytes as 2n lowercase hex digits into out (2n+1 bytes). */
void sw__assess_rand_hex(char *out, size_t n) SW_NONNULL(1);

/* ---- the run's internals (run.c) ---- */
typedef struct sw__assess_reply_copy {
    unsigned char *bytes;
    size_t len;
} sw__assess_reply_copy;

typedef struct sw__assess_target {
    char host[256];       /* as written in the URI (brackets removed) */
    sw_addr addr;         /* the one resolved address contacted */
    uint16_t port;        /* the SIP port of the URI (default by transport) */
    sw_transport transport;
    char addr_text[SW_ADDR_STRLEN]; /* ip:port */
    char ip_text[48];
} sw__assess_target;

const sw__assess_target *sw__assess_target_of(const sw_assess_run *r) SW_NONNULL(1);
/* Keeps a copy of a reply for the read-only checks (bounded; the oldest
 * are kept, later ones dropped once the table is full). */
void sw__assess_keep_reply(sw_assess_run *r, const void *bytes, size_t len) SW_NONNULL(1, 2);
const sw__assess_reply_copy *sw__assess_replies(const sw_assess_run *r, size_t *n) SW_NONNULL(1, 2);
/* Paces one packet at rate (requests/s, capped at SW__ASSESS_RATE_CAP) instead
 * of the run's default: SIP-RATE-01's burst.  Same budget and clock. */
int sw__assess_pace_at(sw_assess_run *r, unsigned rate) SW_NONNULL(1);
/* The bytes sent so far (stats). */
void sw__assess_count_bytes(sw_assess_run *r, size_t n) SW_NONNULL(1);
/* 1 when the target did not answer before the first check (exit 3). */
int sw__assess_unreachable(const sw_assess_run *r) SW_NONNULL(1);
/* 1 when the run must stop (budget, clock, target gone). */
int sw__assess_stopped(const sw_assess_run *r) SW_NONNULL(1);
/* Liveness bookkeeping: a failed liveness probe (counts toward the stop),
 * or a good one (resets the count). */
void sw__assess_liveness(sw_assess_run *r, int alive) SW_NONNULL(1);
/* The finding of a check already run (NULL if not run or unknown id). */
const sw_assess_finding *sw__assess_finding_of(const sw_assess_run *r, const char *id) SW_NONNULL(1, 2);
/* Users SIP-ENUM-01 found (they feed SIP-CRED-01). */
void sw__assess_add_found_user(sw_assess_run *r, const char *user) SW_NONNULL(1, 2);
size_t sw__assess_found_users(const sw_assess_run *r, const char *const **users) SW_NONNULL(1, 2);
/* The TLS context the SIP client uses for transport=tls (client
 * certificate when given; the chain is judged by TLS-04, not here). */
SSL_CTX *sw__assess_sip_tls_ctx(sw_assess_run *r, char *err, size_t errlen) SW_NONNULL(1);
const char *sw__assess_version(void);

/* ---- the SIP client (sipc.c) ---- */
typedef struct sw__assess_conn sw__assess_conn;

/* A connection to the target's SIP port over transport t (SW_TRANSPORT_UDP,
 * TCP or TLS) at port (0: the target's).  TCP/TLS connect and handshake
 * within timeout_ms.  NULL with the reason in err (errno-like text, the
 * TLS alert). */
sw__assess_conn *sw__assess_conn_open(sw_assess_run *r, sw_transport t, uint16_t port, char *err,
                                      size_t errlen) SW_NONNULL(1);
/* The same with the TLS context tls (NULL: the SIP client's). */
sw__assess_conn *sw__assess_conn_open_ctx(sw_assess_run *r, sw_transport t, uint16_t port, SSL_CTX *tls,
                                          char *err, size_t errlen) SW_NONNULL(1);
void sw__assess_conn_close(sw__assess_conn *c);
const char *sw__assess_conn_local_ip(const sw__assess_conn *c) SW_NONNULL(1);
uint16_t sw__assess_conn_local_port(const sw__assess_conn *c) SW_NONNULL(1);
sw_transport sw__assess_conn_transport(const sw__assess_conn *c) SW_NONNULL(1);

/* A reply: the message (own copy) and its index. */
typedef struct sw__assess_reply {
    char buf[SW__ASSESS_MSG_MAX + 1];
    size_t len;
    sw_sip_header hdrs[256];
    sw_sip_msg m;
    int parsed; /* 1 when m indexes buf */
    int64_t rtt_ms; /* from the (last) send of the request to this reply */
} sw__assess_reply;

typedef struct sw__assess_xact {
    const char *call_id;       /* replies must carry it */
    const char *method;        /* and this CSeq method (NULL: any) */
    unsigned min_status;       /* return at the first reply >= this (e.g. 180, or 200 = final) */
    unsigned timeout_ms;       /* 0: the run's */
    unsigned retransmit;       /* UDP: extra copies sent (0..2) when no reply */
    sw_assess_evidence *ev;    /* where the exchange is recorded (may be NULL) */
} sw__assess_xact;

/* Sends req[0..len) (paced) and waits for replies carrying x->call_id.
 * Every reply is appended to x->ev->received and kept for the read-only
 * checks.  Returns the status of the reply that ended the wait (copied to
 * *out when out is non-NULL), 0 on timeout, SW_ELIMIT when the budget or
 * the clock is spent, SW_EIO when the connection broke. */
int sw__assess_xact_run(sw_assess_run *r, sw__assess_conn *c, const char *req, size_t len,
                        const sw__assess_xact *x, sw__assess_reply *out) SW_NONNULL(1, 2, 3, 5);
/* Waits for more replies with call_id (after a provisional one) as above,
 * sending nothing. */
int sw__assess_xact_wait(sw_assess_run *r, sw__assess_conn *c, const sw__assess_xact *x,
                         sw__assess_reply *out) SW_NONNULL(1, 2, 3);
/* The status code of a status line ("SIP/2.0 " three digits, then SP or
 * the line end) at the start of buf: 100..699, else 0.  For replies the
 * parser refused (100 Via, no Call-ID, LF line ends): they were answers. */
int sw__assess_status_line(const char *buf, size_t len);
/* Sends bytes without waiting for a reply (ACK, a malformed message);
 * paced.  SW_OK, SW_ELIMIT, SW_EIO. */
int sw__assess_send(sw_assess_run *r, sw__assess_conn *c, const void *bytes, size_t len,
                    sw_assess_evidence *ev) SW_NONNULL(1, 2, 3);
/* Writes bytes at once, unpaced: only for a caller that paced them itself
 * (SIP-RATE-01 with sw__assess_pace_at).  SW_OK or SW_EIO. */
int sw__assess_write_unpaced(sw__assess_conn *c, const void *bytes, size_t len) SW_NONNULL(1, 2);
/* Liveness: OPTIONS, up to 3 tries of 2 s, each on a fresh connection.
 * 1 alive, 0 not.  Every failed try counts toward the run's stop (3 in a
 * row stop it); a good one resets the count.  Each try is recorded on f
 * (may be NULL).  _probe with count = 0 counts nothing (a recovery wait
 * where silence is expected). */
int sw__assess_alive(sw_assess_run *r, sw_assess_finding *f) SW_NONNULL(1);
int sw__assess_probe(sw_assess_run *r, sw_assess_finding *f, int count, int tries) SW_NONNULL(1);
/* The tester's own address (the local IP of the last connection). */
const char *sw__assess_local_ip(const sw_assess_run *r) SW_NONNULL(1);
void sw__assess_set_local_ip(sw_assess_run *r, const char *ip) SW_NONNULL(1, 2);
/* Fills an evidence record's addresses and transport from c. */
void sw__assess_evidence_conn(sw_assess_evidence *e, const sw__assess_conn *c) SW_NONNULL(1, 2);

/* ---- messages (msg.c) ---- */
typedef struct sw__assess_req {
    const char *method;
    const char *ruri;        /* NULL: sip:<to_user>@<target> */
    const char *to_user;     /* NULL: none (sip:target) */
    const char *from_user;   /* NULL: the To user (REGISTER) or "sipwall" */
    const char *call_id;     /* required */
    const char *from_tag;    /* required */
    const char *to_tag;      /* NULL: none */
    const char *branch;      /* NULL: a fresh one */
    uint32_t cseq;
    const char *cseq_method; /* NULL: method */
    long expires;            /* -1: no Expires header */
    int contact;             /* 1: our Contact */
    const char *extra;       /* extra header lines, each ending CRLF, or NULL */
    const char *body;        /* NULL: none */
    const char *content_type;
} sw__assess_req;

/* Builds a request from us (Via, From, Contact at the connection's local
 * address, User-Agent sipwall-assess/<version>, Max-Forwards 70) into out.
 * Returns the length, or SW_ELIMIT when it does not fit. */
long sw__assess_build(const sw_assess_run *r, const sw__assess_conn *c, const sw__assess_req *q,
                      char *out, size_t cap) SW_NONNULL(1, 2, 3, 4);
/* Fresh identifiers: "sipwall-<8 hex>" users, Call-IDs, tags, branches. */
void sw__assess_new_user(char out[17]) SW_NONNULL(1);
void sw__assess_new_callid(char out[40]) SW_NONNULL(1);
void sw__assess_new_tag(char out[20]) SW_NONNULL(1);
void sw__assess_new_branch(char out[40]) SW_NONNULL(1);

/* ---- digest authentication (digest.c) ---- */
typedef enum sw__digest_alg {
    SW__DIGEST_MD5,
    SW__DIGEST_MD5_SESS,
    SW__DIGEST_SHA256,
    SW__DIGEST_SHA256_SESS,
    SW__DIGEST_SHA512_256,
    SW__DIGEST_SHA512_256_SESS,
    SW__DIGEST_UNKNOWN,
} sw__digest_alg;

/* The algorithm token of a challenge ("" = MD5, RFC 2617 §3.2.1). */
sw__digest_alg sw__digest_alg_of(sw_str token);
const char *sw__digest_alg_name(sw__digest_alg a);

typedef struct sw__digest_in {
    sw__digest_alg alg;
    const char *user, *realm, *password, *method, *uri, *nonce;
    const char *qop;    /* NULL or "" (RFC 2069 style), or "auth" */
    const char *nc;     /* "00000001" with qop */
    const char *cnonce; /* with qop or -sess */
} sw__digest_in;

/* The request-digest (lowercase hex) of RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1
 * into out (129 bytes fit every algorithm).  SW_OK, SW_EUSAGE (unknown
 * algorithm, missing field), SW_ENOMEM. */
int sw__digest_response(const sw__digest_in *in, char *out, size_t cap) SW_NONNULL(1, 2);

/* Builds an Authorization (proxy: Proxy-Authorization) header line (ends
 * CRLF) answering challenge ch for user/password.  Returns the length,
 * SW_EUSAGE on a challenge we cannot answer, SW_ELIMIT. */
long sw__digest_header(const sw_auth *ch, int proxy, const char *user, const char *password,
                       const char *method, const char *uri, char *out, size_t cap)
    SW_NONNULL(1, 3, 4, 5, 6, 7);

/* ---- reading replies (scan.c) ---- */
/* What a reply looks like for enumeration: status, reason, the sorted set
 * of header names (lowercase, long forms), auth scheme and realm, body
 * length.  Two users are told apart when their fingerprints differ. */
typedef struct sw__assess_fp {
    unsigned status;
    char reason[64];
    char names[512];  /* sorted, comma-separated */
    char auth[128];   /* "Digest realm=..." or "" */
    size_t body_len;
} sw__assess_fp;

/* Fingerprint of a parsed reply (m must index its buffer). */
void sw__assess_fp_of(const sw_sip_msg *m, sw__assess_fp *fp) SW_NONNULL(1, 2);
/* 1 when equal (every field), else 0; *what names the first difference. */
int sw__assess_fp_equal(const sw__assess_fp *a, const sw__assess_fp *b, const char **what)
    SW_NONNULL(1, 2);
/* Text of a fingerprint for evidence. */
void sw__assess_fp_text(const sw__assess_fp *fp, char *out, size_t cap) SW_NONNULL(1, 2);

/* Product disclosure in a value (Server, User-Agent, Warning text,
 * Organization, X-*): 2 product and a version (\d+\.\d+), 1 product only,
 * 0 nothing. */
int sw__assess_product_level(sw_str value);

/* A leak found in a reply: the header, the address or name, how bad. */
typedef struct sw__assess_leak {
    char header[48];
    char what[96];
    int high;   /* P-Access-Network-Info / cell id */
} sw__assess_leak;

/* Scans one parsed reply for internal addresses and host names (RFC 1918,
 * 100.64/10, 169.254/16, fc00::/7, fe80::/10, .local .lan .internal .corp)
 * in the headers of SIP-LEAK-01, ignoring our own address (ours) and the
 * target's (target).  Up to max leaks into out; returns how many. */
size_t sw__assess_leaks(const sw_sip_msg *m, const char *ours, const char *target,
                        sw__assess_leak *out, size_t max) SW_NONNULL(1, 4);
/* 1 when the IPv4/IPv6 literal text is internal (see above). */
int sw__assess_ip_internal(sw_str ip);

/* ---- scoring (report.c) ---- */
/* One item of a control (a finding or a merged questionnaire answer). */
typedef struct sw__assess_item {
    sw_assess_result res;
    sw_assess_severity fail_sev; /* the severity it failed with */
    sw_assess_severity pass_sev; /* its check's worst severity: what a pass weighs */
    int tested_or_evidence;      /* basis tested or declared+evidence */
} sw__assess_item;

typedef struct sw__assess_score {
    int passed_weight, decided_weight, decided, applicable;
    int fails_high, fails_gap, strong, any_fail;
} sw__assess_score;

/* Adds an item (skipped ones are not applicable).  Weights: critical 10,
 * high 5, medium 3, low 1, info 0. */
void sw__assess_score_add(sw__assess_score *s, const sw__assess_item *it) SW_NONNULL(1, 2);
/* 100 x passed / decided weight; 100 when only weightless items were
 * decided and none failed; 0 when nothing was decided. */
double sw__assess_score_value(const sw__assess_score *s) SW_NONNULL(1);
/* 100 x decided / applicable (0 when none applies). */
double sw__assess_score_coverage(const sw__assess_score *s) SW_NONNULL(1);
/* "fail" (a critical/high fail), "gap" (a medium/low fail), "pass" (every
 * decided item passed, one tested or declared with evidence), "unknown". */
const char *sw__assess_score_status(const sw__assess_score *s) SW_NONNULL(1);

/* ---- the checks (check_sip.c, check_tls.c) ---- */
void sw__check_sip_fp(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_auth01(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_auth02(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_auth03(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_enum(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_cred01(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_cred02(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_cred03(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_leak(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_robust(sw_assess_run *r, sw_assess_finding *f);
void sw__check_sip_rate(sw_assess_run *r, sw_assess_finding *f);
void sw__check_tls01(sw_assess_run *r, sw_assess_finding *f);
void sw__check_tls02(sw_assess_run *r, sw_assess_finding *f);
void sw__check_tls03(sw_assess_run *r, sw_assess_finding *f);
void sw__check_tls04(sw_assess_run *r, sw_assess_finding *f);
void sw__check_tls05(sw_assess_run *r, sw_assess_finding *f);

/* SIP-ROBUST-01's malformed requests: the i-th case (i = 0, 1, ... until
 * it returns 0), pointing at the target and back at c.  Returns the length
 * written into out (may hold NUL), 0 past the end; *name gets the case's
 * name, *is_invalid 1 when the request breaks RFC 3261 (a 2xx to it is a
 * finding), 0 when it is only large or unusual (liveness matters). */
size_t sw__assess_mutation(const sw_assess_run *r, const sw__assess_conn *c, unsigned i, char *out,
                           size_t cap, const char **name, int *is_invalid) SW_NONNULL(1, 2, 4, 6, 7);

/* One request of the operator's own set (a file of --robust-dir, e.g. the
 * RFC 4475 messages) rewritten to point at the target and back at us: the
 * request URI becomes the target (separators as written), the first Via,
 * every From and Contact name us, Route headers are dropped, an INVITE
 * becomes an OPTIONS (request line and CSeq: no call); the rest,
 * malformations included, stays.  Returns the length in out, 0 for a
 * response or when it does not fit. */
size_t sw__assess_rewrite(const sw_assess_run *r, const sw__assess_conn *c, const char *in, size_t len, char *out,
                          size_t cap) SW_NONNULL(1, 2, 3, 5);

#endif
