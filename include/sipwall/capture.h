/* sipwall — capture ingestion: pcap/pcapng files (and later live capture),
 * link layers, IPv4/IPv6, UDP with IP defragmentation, TCP with stream
 * reassembly, SIP detected by its start line on any port.
 *
 * The reader calls back once per SIP message found.  Every table it keeps
 * (fragments, TCP streams, stream buffers) is bounded by sw_capture_limits
 * and evicts the oldest entry when full.
 *
 * What counts as SIP: a UDP payload or the start of a TCP direction is SIP
 * when sw_sip_looks_like() accepts its first line, whatever the ports.  A
 * UDP payload that does not look like SIP is still delivered (by_endpoint
 * set) when its source or destination address:port carried SIP earlier in
 * the capture, so that damaged datagrams reach the malformed-message check;
 * keep-alives (only CR/LF/SP/TAB/NUL) and STUN are not.  That endpoint set
 * is small and bounded (512, least recently seen replaced).
 * Link types: Ethernet (802.1Q/802.1ad tags), Linux SLL and SLL2, raw IP
 * (DLT_RAW, LINKTYPE_RAW 101, DLT_IPV4, DLT_IPV6), BSD loopback
 * (DLT_NULL, DLT_LOOP); anything else is counted in stats.skipped. */
#ifndef SIPWALL_CAPTURE_H
#define SIPWALL_CAPTURE_H

#include "sipwall/addr.h"
#include "sipwall/sip.h"

#define SW_CAPTURE_TLS_ID_LEN 128 /* one certificate identity, NUL included */
#define SW_CAPTURE_TLS_MAX_IDS 8  /* identities kept per certificate */

typedef struct sw_capture_limits {
    uint32_t max_frag_sets;      /* IP datagrams being reassembled at once */
    uint32_t max_frag_bytes;     /* one reassembled datagram */
    uint32_t frag_timeout_ms;    /* capture time after which a set is dropped */
    uint32_t max_tcp_streams;    /* directions being reassembled at once */
    uint32_t max_stream_buffer;  /* bytes buffered per direction (in order + out of order) */
    uint32_t tcp_idle_timeout_ms;
    sw_sip_limits sip;           /* message framing limits on streams */
    /* Added after the first version (keep new fields at the end): */
    uint64_t max_tcp_memory;     /* all stream buffers together; LRU streams give theirs up */
} sw_capture_limits;

/* Defaults: 512 fragment sets of at most 65535 bytes, 30 s fragment timeout;
 * 4096 TCP directions, 256 KiB per direction, 64 MiB for all stream buffers,
 * 10 min TCP idle timeout; sw_sip_limits_default() for framing. */
void sw_capture_limits_default(sw_capture_limits *lim) SW_NONNULL(1);

/* One SIP message (or one undecodable SIP-looking payload) from the capture. */
typedef struct sw_capture_msg {
    const char *data;  /* valid only during the callback */
    size_t len;
    uint64_t frame;    /* 1-based number of the frame that completed the message */
    int64_t ts_ns;     /* capture time, ns since the Unix epoch */
    sw_addr src, dst;
    sw_transport transport;
    uint16_t vlan;     /* outermost 802.1Q VLAN id, 0 if none */
    uint8_t reassembled; /* from IP fragments or several TCP segments */
    /* 1 when the payload does not look like SIP by its first line and was
     * delivered only because its UDP source or destination endpoint carried
     * SIP earlier in the capture (a damaged datagram, e.g. a NUL in the
     * method); the checker should treat it as malformed. */
    uint8_t by_endpoint;
    /* For streams whose framing failed (bad/missing Content-Length, over the
     * limits): framing_error.code != 0, data holds what was framed (at least
     * the headers); the stream direction is then resynchronised.
     * SW_EINCOMPLETE: a partial message held when the direction ended (FIN,
     * RST, idle timeout, end of capture: see the reason text). */
    sw_sip_error framing_error;
    /* Added after the first version: */
    /* SIP carried in TLS (transport SW_TRANSPORT_TLS; readable only when the
     * connection negotiated a NULL cipher, see "TLS" below): the identities
     * of the certificate the message's sender presented in the handshake,
     * subject CN first, then SAN DNS and URI values (printable ASCII, '?'
     * for anything else); ntls_ids 0 when it presented none. */
    uint8_t ntls_ids;
    const char (*tls_ids)[SW_CAPTURE_TLS_ID_LEN];
} sw_capture_msg;

/* Return non-zero to stop the run (sw_capture_run then returns that value). */
typedef int (*sw_capture_cb)(void *ctx, const sw_capture_msg *msg);

typedef struct sw_capture_stats {
    uint64_t frames, bytes;
    uint64_t sip_messages;
    uint64_t non_sip;          /* UDP/TCP payloads that were not SIP */
    uint64_t ip_fragments, ip_reassembled, frag_evicted, frag_timeouts;
    uint64_t tcp_segments, tcp_out_of_order, tcp_retransmits, tcp_streams, tcp_evicted,
        tcp_gaps;
    uint64_t skipped;          /* frames of unsupported link/network types */
    uint64_t damaged;          /* frames with inconsistent headers */
    /* Added after the first version: */
    uint64_t frag_dropped;     /* sets dropped: overlapping, too large, too many pieces */
    uint64_t udp_by_endpoint;  /* UDP payloads delivered only because of the endpoint rule */
    uint64_t keepalives;       /* UDP CRLF/NUL keep-alives and STUN on SIP endpoints, not delivered */
    uint64_t tcp_framing_errors, tcp_resyncs;
    uint64_t tcp_incomplete;   /* partial messages delivered at FIN/RST/idle/flush */
    uint64_t tcp_memory_evictions; /* streams that gave their buffer up for the memory cap */
    uint64_t bad_timestamps;   /* frames whose time lay outside 1970..SW_CAPTURE_TS_MAX_NS (clamped) */
    /* TLS on TCP (see "TLS" below): */
    uint64_t tls_streams;      /* directions that began with a TLS handshake record */
    uint64_t tls_certificates; /* certificates read from handshakes in clear (TLS 1.2 and earlier) */
    uint64_t tls_encrypted_handshakes; /* TLS 1.3 ServerHellos: the certificates are encrypted */
    uint64_t tls_null_cipher;  /* directions whose application data is readable (NULL cipher) */
    uint64_t tls_unreadable;   /* directions that carried application data it could not read */
    uint64_t tls_bad;          /* directions given up: not TLS records, a record over the buffer, no memory */
} sw_capture_stats;

/* ---- TLS ----------------------------------------------------------------
 * A TCP direction whose first bytes after the SYN are a TLS handshake
 * record is read as TLS records (at most 16384 + 2048 bytes each, as RFC
 * 5246 allows).  Its handshake messages are followed until the direction's
 * ChangeCipherSpec (or, for TLS 1.3, the ServerHello that says so): the
 * ServerHello's cipher suite and version, and the leaf of a Certificate
 * message (the server's, and the client's when the server asked for one),
 * parsed with libcrypto; its subject CN and SAN DNS/URI values are the
 * sender's identities.  Application data is readable only under a NULL
 * cipher (plaintext followed by the MAC): then the SIP it carries is framed
 * like a TCP stream and delivered with transport TLS and the sender's
 * identities.  Any other cipher keeps the SIP unreadable (counted in
 * tls_unreadable); the certificate is still reported to the TLS callback.
 * Bounded: one Certificate message is read up to 16 KiB (a longer leaf is
 * not parsed), one ServerHello up to 4 KiB, and the plaintext of a NULL
 * cipher direction is held up to max_stream_buffer. */
typedef struct sw_capture_tls_info {
    sw_addr src, dst;      /* the sender of the certificate or ServerHello, and its peer */
    uint64_t frame;
    int64_t ts_ns;
    uint8_t from_client;   /* 1: the connection's client sent it (client authentication) */
    uint8_t encrypted;     /* 1: a TLS 1.3 ServerHello: no certificate can be read */
    uint8_t nids;          /* identities of the certificate (0 with encrypted) */
    const char (*ids)[SW_CAPTURE_TLS_ID_LEN];
} sw_capture_tls_info;

typedef void (*sw_capture_tls_cb)(void *ctx, const sw_capture_tls_info *info);

typedef struct sw_capture sw_capture; /* opaque */

/* Opens a pcap or pcapng file (libpcap decides).  lim may be NULL for the
 * defaults.  On failure returns NULL and writes a message to errbuf. */
sw_capture *sw_capture_open_file(const char *path, const sw_capture_limits *lim, char *errbuf,
                                 size_t errlen) SW_NONNULL(1);

/* Reads to the end, calling cb for each SIP message.  Returns SW_OK, the
 * callback's non-zero value, or SW_EFORMAT / SW_ETRUNC for a damaged or
 * truncated file — after delivering everything read before the damage;
 * sw_capture_error() then names the frame. */
int sw_capture_run(sw_capture *c, sw_capture_cb cb, void *ctx) SW_NONNULL(1, 2);

const char *sw_capture_error(const sw_capture *c) SW_NONNULL(1);
const sw_capture_stats *sw_capture_get_stats(const sw_capture *c) SW_NONNULL(1);
void sw_capture_free(sw_capture *c);

/* The latest capture time sipwall represents: 2^33 s after 1970 (year
 * 2242), so that a time plus any window or timeout stays within int64_t. */
#define SW_CAPTURE_TS_MAX_NS (INT64_C(8589934592) * 1000000000)

/* A record's time (seconds and nanoseconds since 1970, as libpcap gives
 * them) in nanoseconds, clamped to 0..SW_CAPTURE_TS_MAX_NS: a capture file
 * or a kernel can carry any 64-bit value, and nothing downstream may
 * overflow on it.  *clamped (may be NULL) is set to 1 when the value was
 * out of range, else left alone. */
int64_t sw_capture_ts_ns(int64_t sec, int64_t nsec, int *clamped);

/* Decodes one frame by link type (DLT_* value) and feeds the reassemblers;
 * exposed for tests and fuzzing.  Calls cb like sw_capture_run (cb may be
 * NULL: messages are then only counted).  Frames are numbered by the calls
 * made on this reader (1, 2, …); ts_ns drives the fragment and idle
 * timeouts.  Never fails on input: bad frames are counted in the stats.
 * Returns 0 or the callback's non-zero value. */
int sw_capture_feed_frame(sw_capture *c, int dlt, const uint8_t *data, size_t caplen,
                          size_t origlen, int64_t ts_ns, sw_capture_cb cb, void *ctx)
    SW_NONNULL(1);
/* Calls cb for every certificate read from a TLS handshake and every TLS
 * 1.3 ServerHello (whose certificate is encrypted); NULL turns it off. */
void sw_capture_set_tls_cb(sw_capture *c, sw_capture_tls_cb cb, void *ctx) SW_NONNULL(1);

/* A reader not tied to a file (for sw_capture_feed_frame); free with sw_capture_free. */
sw_capture *sw_capture_new(const sw_capture_limits *lim);
/* Flushes streams and fragment sets still held (end of input): whole
 * messages still buffered are delivered, a partial message that looks like
 * SIP is delivered with framing_error SW_EINCOMPLETE ("capture ended inside
 * a message"), fragment sets are dropped.  sw_capture_run calls it at the
 * end of the file and before returning SW_ETRUNC / SW_EFORMAT. */
int sw_capture_flush(sw_capture *c, sw_capture_cb cb, void *ctx) SW_NONNULL(1);

#endif
