/* Internals of the capture layer, shared by its files:
 *   pcap_file.c  the reader object, pcap/pcapng files, limits, errors
 *   decode.c     link layers, IPv4/IPv6, UDP, the SIP-endpoint set
 *   ipfrag.c     IPv4/IPv6 fragment reassembly
 *   tcp_reasm.c  TCP stream reassembly and SIP framing on streams
 *
 * The fragment sets and the TCP streams are values of bounded LRU tables
 * (sipwall/table.h) allocated once at sw_capture_new(), keyed by sw__key, so
 * the packet path never allocates except when a reassembly buffer has to
 * grow.  Entries that a full table evicts release their buffers through the
 * table's on_evict callback. */
#ifndef SW_CAPTURE_INT_H
#define SW_CAPTURE_INT_H

#include "sipwall/capture.h"
#include "sipwall/table.h"

/* framing_error.reason of partial stream data delivered when a direction
 * ends (code SW_EINCOMPLETE). */
#define SW__REASON_STREAM_ENDED "connection closed inside a message"
#define SW__REASON_STREAM_IDLE "connection idle inside a message"
#define SW__REASON_CAPTURE_ENDED "capture ended inside a message"

/* One transport flow direction or one fragment set: addresses are stored in
 * 16 bytes for both families (IPv4 in the first 4, rest zero) so keys
 * compare with memcmp. */
typedef struct sw__key {
    uint8_t src[16], dst[16];
    uint32_t id;        /* fragment identification; 0 for flows */
    uint16_t sport, dport;
    uint8_t family;     /* 4 or 6 */
    uint8_t proto;      /* IPPROTO_*; 0 for IPv6 fragment sets */
    uint8_t pad_[2];
} sw__key;

_Static_assert(sizeof(sw__key) == 44, "sw__key must have no hidden padding");

/* What the decoder knows about the frame being processed. */
typedef struct sw__frame {
    uint64_t no;        /* 1-based frame number */
    int64_t ts_ns;
    uint16_t vlan;
    sw_capture_cb cb;   /* may be NULL: messages are then only counted */
    void *ctx;
} sw__frame;

/* A network-layer packet after IP decoding (and reassembly). */
typedef struct sw__ip {
    uint8_t family;
    uint8_t proto;
    uint8_t reassembled;
    uint8_t src[16], dst[16];
    const uint8_t *data; /* upper-layer header and payload */
    size_t len;
} sw__ip;

/* ---- fragment reassembly (ipfrag.c) ---- */
#define SW__FRAG_MAX_RANGES 64 /* disjoint received ranges per datagram */

typedef struct sw__frag_range {
    uint32_t start, end;
} sw__frag_range;

/* The value of a fragment-table entry (zeroed when the set is created). */
typedef struct sw__frag_set {
    sw__key key;               /* copy of the table key, for the dispatch */
    int64_t first_ts;
    uint8_t *buf;              /* owned: freed when the set goes */
    uint32_t cap;
    uint32_t total;            /* payload length once the last fragment arrived, else 0 */
    uint8_t have_last;
    uint8_t next_proto;        /* IPv6: Next Header of the offset-0 fragment */
    uint8_t have_first;
    uint16_t nranges;
    sw__frag_range ranges[SW__FRAG_MAX_RANGES]; /* sorted, merged */
} sw__frag_set;

typedef struct sw__frag_table {
    /* sw__key -> sw__frag_set, max_frag_sets entries; NULL when
     * max_frag_sets is 0.  Looked up with sw_table_peek only, so the LRU
     * order is the order of creation and the oldest entry is the oldest set. */
    sw_table *sets;
} sw__frag_table;

/* ---- TCP reassembly (tcp_reasm.c) ---- */
#define SW__TCP_MAX_OOO 16     /* disjoint out-of-order ranges held per direction */

/* What a direction carries (sw__tcp_stream.kind). */
enum { SW__TCP_UNKNOWN = 0, SW__TCP_SIP = 1, SW__TCP_OTHER = 2, SW__TCP_TLS = 3 };

struct sw__tls; /* tls.c */

typedef struct sw__tcp_range {
    uint32_t seq, end;         /* absolute sequence numbers, [seq, end) */
} sw__tcp_range;

/* The value of a stream-table entry (zeroed when the direction is created). */
typedef struct sw__tcp_stream {
    sw__key key;               /* copy of the table key, for deliveries */
    int64_t last_ts;
    uint64_t last_frame;
    uint16_t vlan;
    uint8_t kind;              /* SW__TCP_UNKNOWN / _SIP / _OTHER */
    uint8_t synced;            /* buf[0] is at a message boundary */
    uint8_t at_start;          /* SYN seen and nothing consumed yet: a real boundary */
    uint8_t fin_seen;
    uint8_t boundary;          /* buf[0] may start a message (resync candidate) */
    uint8_t syn_seen;
    uint32_t isn;              /* initial sequence number when syn_seen */
    uint32_t next_seq;         /* sequence number of the byte after buf[len - 1] */
    uint32_t fin_seq;
    uint32_t scanned;          /* bytes searched for a start line while unsynced */
    uint8_t *buf;              /* owned: freed when the direction goes */
    uint32_t cap;              /* > 0 exactly while the stream is in tcp.holders */
    uint32_t len;              /* in-order bytes not consumed yet */
    uint32_t hi;               /* bytes of buf in use including out-of-order data */
    uint32_t new_off;          /* where this frame's bytes begin in buf (reassembled flag) */
    uint8_t nooo;
    sw__tcp_range ooo[SW__TCP_MAX_OOO]; /* sorted by seq, disjoint */
    sw_sip_framer fr;          /* framing of buf[0, len) resumed segment after segment;
                                  started afresh whenever synced becomes 1 */
    struct sw__tls *tls;       /* kind TLS (or given up after it): the TLS state, owned;
                                  an inner stream borrows its outer stream's */
    uint8_t inner;             /* the plaintext of a TLS direction (tls.c), not a table entry */
} sw__tcp_stream;

typedef struct sw__tcp_table {
    /* sw__key -> sw__tcp_stream, max_tcp_streams entries, least recently
     * used first out; NULL when max_tcp_streams is 0. */
    sw_table *streams;
    /* The streams that hold a buffer, keyed by their sw__tcp_stream * (no
     * value), in the same LRU order (touched together), so that the memory
     * cap can take buffers from the least recently used holders without
     * walking past streams that hold none.  Same capacity as streams, so it
     * never evicts. */
    sw_table *holders;
    uint64_t mem;              /* bytes of stream buffers allocated */
} sw__tcp_table;

/* ---- endpoints that carried SIP (decode.c) ---- */
#define SW__EP_WAYS 4
#define SW__EP_BUCKETS 128     /* 512 endpoints */

typedef struct sw__endpoint {
    uint8_t ip[16];
    uint16_t port;
    uint8_t family;            /* 0: empty */
    uint8_t pad_;
    uint64_t stamp;            /* frame number of the last SIP seen */
} sw__endpoint;

/* ---- the reader ---- */
struct sw_capture {
    sw_capture_limits lim;
    sw_capture_stats stats;
    void *pcap;                /* pcap_t *, NULL for readers fed by hand */
    int dlt;
    uint64_t seed;             /* hash seed of the endpoint set */
    char err[256];
    sw__frag_table frag;
    sw__tcp_table tcp;
    sw__endpoint eps[SW__EP_BUCKETS * SW__EP_WAYS];
    sw_capture_tls_cb tls_cb;  /* sw_capture_set_tls_cb */
    void *tls_ctx;
};

/* Counts a message and hands it to the callback; returns the callback's value. */
int sw__deliver(sw_capture *c, const sw__frame *f, const sw_capture_msg *m);

/* Endpoints that carried SIP: learn both ends of a SIP message, test one. */
void sw__ep_learn(sw_capture *c, uint8_t family, const uint8_t *ip, uint16_t port,
                  uint64_t stamp);
int sw__ep_known(const sw_capture *c, uint8_t family, const uint8_t *ip, uint16_t port);

/* Dispatches an upper-layer packet (UDP or TCP) once IP is decoded. */
int sw__transport_input(sw_capture *c, const sw__ip *ip, const sw__frame *f);

int sw__frag_init(sw_capture *c);
void sw__frag_destroy(sw_capture *c);
/* Adds one fragment.  payload/len: the fragmentable part; offset in bytes.
 * Returns the transport callback value when a datagram completed and was
 * dispatched, else 0. */
int sw__frag_input(sw_capture *c, const sw__key *k, uint32_t offset, int more, uint8_t next_proto,
                   const uint8_t *payload, size_t len, const sw__frame *f);
void sw__frag_expire(sw_capture *c, int64_t now_ns);
void sw__frag_clear(sw_capture *c);

int sw__tcp_init(sw_capture *c);
void sw__tcp_destroy(sw_capture *c);
/* ip->data/len: the TCP header and payload. */
int sw__tcp_input(sw_capture *c, const sw__ip *ip, const sw__frame *f);
int sw__tcp_expire(sw_capture *c, int64_t now_ns, const sw__frame *f);
int sw__tcp_flush(sw_capture *c, const sw__frame *f);
/* Frames SIP messages out of p[0, n) for direction s and delivers them (the
 * stream framing of tcp_reasm.c, for tls.c's plaintext).  Sets *used to the
 * bytes framed or dropped.  Returns the first non-zero callback value. */
int sw__tcp_frame(sw_capture *c, sw__tcp_stream *s, const uint8_t *p, size_t n, size_t new_off,
                  int ip_reassembled, const sw__frame *f, size_t *used);

/* ---- TLS on TCP (tls.c) ---- */
/* 1: p starts with a TLS handshake record holding a ClientHello or
 * ServerHello; 0: it does not; -1: too few bytes to tell. */
int sw__tls_looks_like(const uint8_t *p, size_t n);
/* Makes s a TLS direction (client: it sent the ClientHello).  0, or -1 when
 * the memory cannot be had. */
int sw__tls_start(sw_capture *c, sw__tcp_stream *s, int client);
/* Reads whole records of p[0, n) (the direction's in-order bytes); *used
 * the bytes taken.  Returns the callback's non-zero value, 0, or -2 when the
 * bytes are not TLS records or the memory ran out (give the direction up). */
int sw__tls_input(sw_capture *c, sw__tcp_stream *s, const uint8_t *p, size_t n, const sw__frame *f,
                  size_t *used);
/* The identities of the certificate s's sender presented, into m. */
void sw__tls_sender_ids(const sw__tcp_stream *s, sw_capture_msg *m);
/* Frees s's TLS state (nothing for an inner stream). */
void sw__tls_free(sw_capture *c, sw__tcp_stream *s);
/* The subject CN and SAN DNS/URI values of a DER certificate (at most
 * max); 0 when it does not parse. */
unsigned sw__tls_cert_ids(const uint8_t *der, size_t len, char ids[][SW_CAPTURE_TLS_ID_LEN], unsigned max);

/* Decodes an IPv6 extension-header chain starting with next header `nh` at
 * p[0..len).  Used for the packet and again for a reassembled payload. */
int sw__ip6_upper(sw_capture *c, sw__ip *ip, uint8_t nh, const uint8_t *p, size_t len,
                  const sw__frame *f, int after_frag);

#endif
