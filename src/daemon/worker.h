/* The worker's state, shared by worker.c (loop, UDP, routing), conn.c
 * (stream connections) and sensor.c (capture and HEP inputs). */
#ifndef SWD_WORKER_H
#define SWD_WORKER_H


#include <sys/socket.h>

#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "sipwall/table.h"

#define SWD_BATCH 64
#define SWD_TX_HOLD_NS 50000 /* longest a processed datagram waits for the rest of its batch */
#define SWD_MAX_DGRAM 65536
#define SWD_INBOX_BYTES (4u << 20)
#define SWD_RESP_HDRS 256
#define SWD_HOP_DOWN_NS (30 * INT64_C(1000000000))

/* epoll data: kind in the top byte, an index below */
enum {
    SWD_EP_WAKE = 1,
    SWD_EP_UDP = 2,     /* idx: listener */
    SWD_EP_LISTEN = 3,  /* idx: listener (TCP/TLS) */
    SWD_EP_CONN = 4,    /* idx: connection slot */
    SWD_EP_HEP_UDP = 5, /* idx: hep line */
    SWD_EP_HEP_LISTEN = 6,
    SWD_EP_CAPTURE = 7, /* idx: capture line */
};
#define SWD_EP(kind, idx) (((uint64_t)(kind) << 56) | (uint64_t)(idx))
#define SWD_EP_KIND(u) ((unsigned)((u) >> 56))
#define SWD_EP_IDX(u) ((uint32_t)((u) & 0xffffffffu))

/* inbox records */
enum { SWD_RING_SEND = 1, SWD_RING_ADOPT = 2, SWD_RING_RX = 3 };

/* A message handed to the worker that forwarded its request. */
typedef struct swd_rx_hdr {
    sw_addr src, dst;
    sw_transport transport;
    unsigned iface;
    int64_t ts_ns;
} swd_rx_hdr;

/* What an outgoing message is, for the counters: each is counted when it
 * is actually sent (a datagram sendmmsg took, stream bytes the socket took),
 * never when it is merely decided (see swd_count_sent). */
enum { SWD_TX_REQUEST = 0, SWD_TX_RESPONSE = 1, SWD_TX_REPLY = 2 };

typedef struct swd_send_hdr {
    sw_addr to;
    sw_transport transport;
    unsigned iface;
    unsigned kind; /* SWD_TX_* */
} swd_send_hdr;

typedef struct swd_adopt_hdr {
    int fd;
    unsigned iface;
    sw_addr peer;
    uint8_t hep; /* a HEP stream, not SIP */
} swd_adopt_hdr;

/* One message to screen, with where it came from. */
typedef struct swd_msg_in {
    sw_addr src, dst;
    sw_transport transport;
    unsigned iface;         /* listener index (inline) */
    const sw_peer *peer;    /* identified by its TLS certificate, or NULL */
    const sw_sip_error *framing_error;
    uint8_t sensor;         /* seen passively: events only */
    uint8_t whole;          /* one whole message whatever the transport (HEP payloads) */
    uint8_t handed;         /* came through the inbox: screen it here */
    int64_t capture_ts_ns;  /* sensor: the capture's own time, evidence only (0: none) */
} swd_msg_in;

typedef struct swd_conn swd_conn;

struct swd_worker {
    swd_daemon *d;
    unsigned id;
    pthread_t th;
    uint8_t started, ok;
    int epfd, wakefd;
    int64_t now;

    sw_engine *engine;
    sw_proxy *proxy;
    const swd_policy_gen *gen;
    atomic_uint_fast64_t acked;
    uint64_t gen_failed;     /* a generation this worker could not take (no memory): not retried */

    int udp[SWD_MAX_LISTENS];
    int listen_fd[SWD_MAX_LISTENS];

    /* stream connections (conn.c) */
    swd_conn **conns;        /* slots */
    uint32_t maxconns, nconns;
    uint32_t *free_slots;
    uint32_t nfree;
    uint32_t *dead_slots;    /* closed at the end of the loop turn */
    uint32_t ndead;
    uint32_t *ready_slots;   /* complete input left by the per-turn budget (swd_conn_resume) */
    uint32_t nready;
    sw_table *conn_by_peer;  /* (addr, transport) -> slot */
    struct swd_conn_ext *cx; /* conn.c's own: admission, accept backoff, log limits */

    /* sensor inputs (sensor.c) */
    void *sensor;

    swd_ring *inbox[SWD_MAX_WORKERS]; /* inbox[i]: written by worker i */
    uint64_t wake_mask;

    /* UDP batches */
    struct mmsghdr rx[SWD_BATCH];
    struct iovec rxiov[SWD_BATCH];
    struct sockaddr_storage rxaddr[SWD_BATCH];
    char *rxbuf;
    struct mmsghdr tx[SWD_BATCH];
    struct iovec txiov[SWD_BATCH];
    struct sockaddr_storage txaddr[SWD_BATCH];
    int txfd[SWD_BATCH];
    uint8_t txkind[SWD_BATCH]; /* SWD_TX_* of each datagram waiting */
    uint8_t txiface[SWD_BATCH]; /* the listener whose socket sends it */
    unsigned ntx;
    int64_t tx_since; /* when the oldest datagram waiting in tx was queued */
    char *txbuf;

    int64_t fwd_down[SWD_MAX_FORWARD];
    int64_t route_down[SWD_MAX_ROUTES][SWD_MAX_ROUTE_HOPS];

    sw_proxy_req req;
    sw_proxy_resp resp;
    sw_sip_msg rmsg;         /* responses are parsed for the proxy first */
    sw_sip_header rhdrs[SWD_RESP_HDRS];

    swd_counters c;
    swd_wmetrics m;          /* metrics this worker writes, scrapes read (daemon/metrics.h) */
    pthread_mutex_t pub_mu;
    swd_counters pub;
    sw_engine_stats pub_es;
    uint64_t pub_conns;

    /* per-partner counters (src/daemon/partners.c): indexed by the peer's
     * index in pctr_gen's policy; pub_pctr under pub_mu */
    struct swd_partner_ctr *pctr, *pctr_tmp, *pub_pctr;
    const struct swd_policy_gen *pctr_gen, *pub_pctr_gen;
};

/* ---- per-partner counters (src/daemon/partners.c) ---------------------------- */
#define SWD_PARTNER_CTR_MAX 1024 /* partners counted per policy (peers beyond are not); 3 x 72 KiB per worker */
typedef struct swd_partner_ctr {
    uint64_t messages;            /* screened, sent by this partner */
    uint64_t verdicts[SW_ACTION__COUNT];
    uint64_t blocked;             /* dropped by a block (its numbers, users) */
} swd_partner_ctr;
/* Allocates the arrays (worker creation): SW_OK or SW_ENOMEM. */
int swd_partners_init(swd_worker *w);
void swd_partners_fini(swd_worker *w);
/* The worker takes generation g after old (NULL at creation): counts move
 * by partner name. */
void swd_partners_regen(swd_worker *w, const swd_policy_gen *old, const swd_policy_gen *g);
/* One screened message (the worker's thread). */
void swd_partners_count(swd_worker *w, const sw_verdict *v);
/* Copies the counts for the control thread; call with pub_mu held. */
void swd_partners_publish(swd_worker *w);
/* Adds the sums of partner idx of generation g (the one in force) to the
 * JSON object obj (a json_t *): messages, verdicts, blocked.  Control
 * thread. */
void swd_partners_add_json(swd_daemon *d, const swd_policy_gen *g, uint32_t idx, void *obj);

int swd_ep_add(swd_worker *w, int fd, uint32_t events, unsigned kind, uint32_t idx);
int swd_ep_mod(swd_worker *w, int fd, uint32_t events, unsigned kind, uint32_t idx);

void swd_handle_message(swd_worker *w, const char *data, size_t len, const swd_msg_in *in);
char *swd_tx_slot(swd_worker *w, size_t *cap);
/* Sends what was written into the current tx slot; kind is SWD_TX_*. */
void swd_send_slot(swd_worker *w, unsigned iface, sw_transport t, const sw_addr *to, size_t len,
                   unsigned kind);
/* Counts one message of kind SWD_TX_* as sent (requests_forwarded,
 * responses_forwarded, replies) from listener iface (>= nlistens: none). */
void swd_count_sent(swd_worker *w, unsigned kind, unsigned iface);
void swd_hop_failed(swd_worker *w, const sw_addr *to);

/* conn.c */
int swd_conn_init(swd_worker *w, char *err, size_t errlen);
void swd_conn_fini(swd_worker *w);
void swd_conn_accept(swd_worker *w, unsigned iface);
void swd_conn_adopt(swd_worker *w, const swd_adopt_hdr *h);
void swd_conn_event(swd_worker *w, uint32_t slot, uint32_t events);
/* Queues a message (kind SWD_TX_*) on the connection to `to`, opening one
 * when needed; it is counted sent once the socket took all its bytes, or
 * in dropped_send when it is lost (no connection, the connection fails
 * first). */
void swd_conn_send(swd_worker *w, const sw_addr *to, sw_transport t, unsigned iface, const void *data,
                   size_t len, unsigned kind);
void swd_conn_sweep(swd_worker *w);
void swd_conn_reap(swd_worker *w);
/* Frames the input that connections left over when their per-turn message
 * budget ran out (at most one budget each); call once per loop turn, and
 * do not block in epoll_wait while w->nready > 0. */
void swd_conn_resume(swd_worker *w);
void swd_conn_accept_hep(swd_worker *w, int lfd, unsigned idx);
/* Timers finer than the sweep (a paused listener's re-arm): called every
 * loop turn; swd_conn_wait_ms: how long epoll may wait, at most dflt ms. */
void swd_conn_timers(swd_worker *w);
int swd_conn_wait_ms(const swd_worker *w, int dflt);

/* sensor.c */
int swd_sensor_create(swd_daemon *d, char *err, size_t errlen);
void swd_sensor_event(swd_worker *w, unsigned kind, uint32_t idx, uint32_t events);
void swd_sensor_tick(swd_worker *w);
void swd_sensor_flush(swd_worker *w);
void swd_sensor_fini(swd_worker *w);
struct sw_hep_stream;
struct sw_hep_stream *swd_sensor_hep_stream_new(swd_worker *w, unsigned hep_idx);
/* Feeds a HEP stream's bytes; < 0: the stream lost its framing, close it. */
int swd_sensor_hep_bytes(swd_worker *w, struct sw_hep_stream *s, const char *b, size_t n);

#endif
