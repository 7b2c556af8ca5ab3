/* sipwall — passive sensor inputs: HEP v3 (EEP) from SIP servers and capture
 * agents (Kamailio siptrace/sipcapture, OpenSIPS proto_hep, heplify,
 * captagent), and live capture through libpcap.
 *
 * Both deliver what they find as sw_capture_msg records through a
 * sw_capture_cb, so the daemon screens them with one callback.  Neither
 * owns sockets or threads: the daemon polls sw_live_fd() and its own HEP
 * sockets, and hands ready bytes in.  All work per call is bounded: live
 * capture by max_frames, HEP by the bytes given; every buffer is bounded.
 *
 * HEP v3 on the wire (all integers in network byte order):
 *   "HEP3"  total length (16 bit, header included)  chunk...
 *   chunk:  vendor id (16)  type id (16)  length (16, the 6-byte chunk
 *           header included)  value
 * Generic chunks (vendor 0) understood here: 1 IP family (8: 2 IPv4,
 * 10 IPv6), 2 IP protocol (8: 17 UDP, 6 TCP, 132 SCTP), 3/4 IPv4 source/
 * destination, 5/6 IPv6 source/destination, 7/8 source/destination port
 * (16), 9 timestamp seconds (32), 10 timestamp microseconds (32), 11
 * protocol type (8, 1 = SIP), 12 capture agent id (32; 16 accepted),
 * 13 keep-alive timer (16), 14 authentication key, 15 payload,
 * 16 compressed payload (not supported: a named error), 17 correlation id,
 * 18 VLAN id (16).  Chunks of other vendors and generic chunks with higher
 * type ids are skipped. */
#ifndef SIPWALL_SENSOR_H
#define SIPWALL_SENSOR_H

#include "sipwall/capture.h"

/* ---- HEP v3 decoding and encoding ----------------------------------------- */

#define SW_HEP_HEADER_LEN 6u      /* "HEP3" + total length; also a chunk header's size */
#define SW_HEP_MAX_PACKET 65535u  /* the 16-bit total length */

enum sw_hep_chunk_type {
    SW_HEP_CHUNK_IP_FAMILY = 1,
    SW_HEP_CHUNK_IP_PROTO = 2,
    SW_HEP_CHUNK_SRC_IP4 = 3,
    SW_HEP_CHUNK_DST_IP4 = 4,
    SW_HEP_CHUNK_SRC_IP6 = 5,
    SW_HEP_CHUNK_DST_IP6 = 6,
    SW_HEP_CHUNK_SRC_PORT = 7,
    SW_HEP_CHUNK_DST_PORT = 8,
    SW_HEP_CHUNK_TS_SEC = 9,
    SW_HEP_CHUNK_TS_USEC = 10,
    SW_HEP_CHUNK_PROTO_TYPE = 11,
    SW_HEP_CHUNK_CAPTURE_ID = 12,
    SW_HEP_CHUNK_KEEPALIVE = 13,
    SW_HEP_CHUNK_AUTH_KEY = 14,
    SW_HEP_CHUNK_PAYLOAD = 15,
    SW_HEP_CHUNK_COMPRESSED = 16,
    SW_HEP_CHUNK_CORRELATION_ID = 17,
    SW_HEP_CHUNK_VLAN = 18,
};

#define SW_HEP_PROTO_SIP 1 /* protocol type (chunk 11) of SIP */

/* One decoded HEP packet.  The views point into the decoded buffer. */
typedef struct sw_hep_msg {
    sw_addr src, dst;       /* address and port of the captured packet */
    sw_transport transport; /* from chunk 2: UDP, TCP, SCTP; UNKNOWN for other protocols */
    uint8_t ip_proto;       /* chunk 2 as sent */
    uint8_t proto_type;     /* chunk 11 (SW_HEP_PROTO_SIP); 0 when absent */
    uint16_t vlan;          /* chunk 18; 0 when absent */
    uint16_t keepalive_s;   /* chunk 13; 0 when absent */
    uint32_t capture_id;    /* chunk 12; 0 when absent */
    int64_t ts_ns;          /* chunks 9 + 10, ns since the epoch; 0 when chunk 9 is absent */
    uint32_t present;       /* bit n set: generic chunk type n (1..18) was present */
    sw_str payload;         /* chunk 15, as captured (may be empty) */
    sw_str auth_key;        /* chunk 14, trailing NULs removed; empty when absent */
    sw_str correlation_id;  /* chunk 17, trailing NULs removed; empty when absent */
} sw_hep_msg;

#define SW_HEP_HAS(m, type) ((((m)->present) >> (type)) & 1u)

/* The length a HEP packet at buf declares (its first 6 bytes), checked:
 * returns 6..65535, SW_EINCOMPLETE when fewer than 6 bytes are given, or
 * SW_EFORMAT (not "HEP3"; HEP v1/v2 named as such) / SW_EINVAL (length below
 * the header) with *err set.  err may be NULL. */
long sw_hep_packet_length(const uint8_t *buf, size_t len, sw_sip_error *err);

/* Decodes the HEP packet at the start of buf[0..len).  Allocation-free; never
 * reads past len or past the packet's own length.
 * Returns the bytes the packet occupies (its declared length; bytes after it
 * are not looked at), SW_EINCOMPLETE when len is shorter than the header or
 * the declared length (a stream has not delivered it all yet), or a negative
 * SW_E* with *err naming the problem and the offset of the chunk at fault:
 *   SW_EFORMAT  bad magic / HEP v1-v2 / compressed payload (chunk 16)
 *   SW_EINVAL   length below the header, chunk length below 6
 *   SW_ETRUNC   a chunk header or value running past the packet's end
 *   SW_ERANGE   wrong size of a fixed-size chunk, unknown IP family,
 *               microseconds ≥ 1e6
 *   SW_ECONFLICT a generic chunk repeated, IPv4 and IPv6 addresses mixed,
 *               family chunk contradicting the addresses
 *   SW_EMISSING IP family, IP protocol, source/destination address or
 *               port, or payload absent.
 * err may be NULL.  On error *out is unspecified. */
long sw_hep_decode(const uint8_t *buf, size_t len, sw_hep_msg *out, sw_sip_error *err)
    SW_NONNULL(3);

/* Encodes m as one HEP v3 packet: chunks 1, 2, 3+4 or 5+6, 7, 8, 9+10 (when
 * ts_ns > 0), 11 (when proto_type != 0), 12, 13 (when keepalive_s != 0), 14
 * (when auth_key is not empty), 15, 17 (when correlation_id is not empty),
 * 18 (when vlan != 0).  The IP protocol is ip_proto, or when 0 derived from
 * transport (UDP 17, TCP/TLS 6, SCTP 132).  `present` is ignored.
 * Returns the packet length, SW_ELIMIT when it exceeds cap or 65535 bytes,
 * SW_EUSAGE when the addresses are not both IPv4 or both IPv6, the IP
 * protocol is unknown, or the timestamp is past 2106 (32-bit seconds). */
long sw_hep_encode(const sw_hep_msg *m, uint8_t *out, size_t cap) SW_NONNULL(1);

/* ---- HEP input: datagrams and streams -> sw_capture_msg ------------------- */

typedef struct sw_hep_input_config {
    /* Required authentication key (chunk 14); NULL or "" = none.  Packets
     * without it or with another key are counted in auth_failed and
     * dropped.  Copied at creation. */
    const char *auth_key;
    /* Bytes a stream buffers at most for one packet (6..65535; 0 = 65535).
     * A stream that declares a longer packet is broken, not buffered. */
    uint32_t max_packet;
} sw_hep_input_config;

typedef struct sw_hep_stats {
    uint64_t datagrams;       /* sw_hep_datagram calls */
    uint64_t stream_bytes;    /* bytes given to sw_hep_stream_feed */
    uint64_t packets;         /* HEP packets decoded */
    uint64_t sip;             /* delivered to the callback */
    uint64_t non_sip;         /* other protocol types, non-SIP or empty payloads: dropped */
    uint64_t bad;             /* undecodable packets (and partial packets at stream close) */
    uint64_t auth_failed;     /* missing or wrong authentication key: dropped */
    uint64_t streams_broken;  /* streams that lost framing (bad magic/length) */
} sw_hep_stats;

typedef struct sw_hep_input sw_hep_input;
typedef struct sw_hep_stream sw_hep_stream;

/* NULL on a bad config (max_packet outside 6..65535) or out of memory.
 * cfg may be NULL for the defaults. */
sw_hep_input *sw_hep_input_new(const sw_hep_input_config *cfg);
/* Free the streams first. */
void sw_hep_input_free(sw_hep_input *in);

/* What a delivered message looks like (passed to cb as sw_capture_msg):
 *   data/len   the HEP payload as is.  A payload captured on TCP may hold
 *              part of a SIP message or several: it is delivered once,
 *              transport TCP, and the daemon/engine decide (stream framing).
 *   ts_ns      the packet's timestamp, or now_ns when it has none
 *   src, dst, transport, vlan   from the chunks
 *   frame      the input's running count of decoded packets (1-based)
 *   reassembled, by_endpoint, framing_error   0
 * A packet is SIP when its protocol type is 1, or when it has no protocol
 * type chunk and the payload starts like SIP (sw_sip_looks_like). */

/* One UDP datagram holding one HEP packet (or several back to back).
 * Returns SW_OK; the first bad packet's negative SW_E* (counted, the rest of
 * the datagram is dropped; sw_hep_input_error() has the reason); or the
 * callback's non-zero value, which stops the datagram. */
int sw_hep_datagram(sw_hep_input *in, const uint8_t *buf, size_t len, int64_t now_ns,
                    sw_capture_cb cb, void *ctx) SW_NONNULL(1);

/* One TCP connection's byte stream.  Keeps at most max_packet bytes (one
 * partial packet); complete packets in the bytes given are decoded in place.
 * The input must outlive its streams. */
sw_hep_stream *sw_hep_stream_new(sw_hep_input *in) SW_NONNULL(1);
/* Counts a partial packet still buffered as bad, then frees. */
void sw_hep_stream_free(sw_hep_stream *s);

/* Feeds n bytes read from the connection.  Every complete packet is decoded
 * and delivered; a packet whose chunks are bad is counted and skipped (the
 * stream stays in step, its length was good).  Returns SW_OK, the callback's
 * first non-zero value (decoding goes on: the bytes are off the socket
 * already), or — when the stream lost its framing (bad magic, a length
 * below 6 or above max_packet) — SW_EFORMAT / SW_EINVAL / SW_ELIMIT (or
 * SW_ENOMEM), from then on for every call: close the connection.  sw_hep_stream_error()
 * names the cause. */
int sw_hep_stream_feed(sw_hep_stream *s, const uint8_t *bytes, size_t n, int64_t now_ns,
                       sw_capture_cb cb, void *ctx) SW_NONNULL(1);
/* Bytes buffered (a partial packet). */
size_t sw_hep_stream_pending(const sw_hep_stream *s) SW_NONNULL(1);
/* code 0 while the stream is in step. */
const sw_sip_error *sw_hep_stream_error(const sw_hep_stream *s) SW_NONNULL(1);

const sw_hep_stats *sw_hep_input_get_stats(const sw_hep_input *in) SW_NONNULL(1);
/* The last bad packet's error (code 0 when none yet), for rate-limited logs. */
const sw_sip_error *sw_hep_input_error(const sw_hep_input *in) SW_NONNULL(1);
/* During a callback from this input: the whole decoded packet (capture id,
 * correlation id, …); NULL otherwise. */
const sw_hep_msg *sw_hep_input_current(const sw_hep_input *in) SW_NONNULL(1);

/* ---- live capture ----------------------------------------------------------- */

typedef struct sw_live_config {
    const char *iface;   /* "eth0", "lo", "any" */
    const char *filter;  /* BPF expression; NULL or "" = every frame */
    int snaplen;         /* 0 = 262144 */
    int buffer_bytes;    /* kernel ring size; 0 = libpcap's default */
    int timeout_ms;      /* buffer timeout when not immediate; 0 = 100 */
    uint8_t promisc;
    uint8_t immediate;   /* deliver each frame at once (no batching in the ring) */
    const sw_capture_limits *limits; /* NULL = sw_capture_limits_default() */
} sw_live_config;

typedef struct sw_live_stats {
    uint64_t frames;       /* frames handed to the decoder */
    uint64_t received;     /* pcap_stats ps_recv, widened past 32-bit wraps */
    uint64_t kernel_drops; /* ps_drop: no room in the ring */
    uint64_t if_drops;     /* ps_ifdrop: dropped by the interface, where known */
    sw_capture_stats capture;
} sw_live_stats;

typedef struct sw_live sw_live;

/* Opens and activates iface in non-blocking mode with the filter compiled.
 * Returns SW_OK with *out set, or (with a message in errbuf, *out NULL):
 *   SW_EUSAGE    no interface name, negative sizes
 *   SW_ENOTFOUND no such interface
 *   SW_EAUTH     permission denied (needs root or CAP_NET_RAW)
 *   SW_EINVAL    the filter does not compile
 *   SW_EIO       any other libpcap failure (interface down, setfilter, …)
 *   SW_ENOMEM */
int sw_live_open(const sw_live_config *cfg, sw_live **out, char *errbuf, size_t errlen)
    SW_WUR SW_NONNULL(1, 2);

/* A descriptor for epoll (readable when frames may be ready), or -1. */
int sw_live_fd(const sw_live *l) SW_NONNULL(1);
/* The longest the caller may wait on sw_live_fd before calling
 * sw_live_dispatch anyway (libpcap's required select timeout), or -1. */
int sw_live_poll_timeout_ms(const sw_live *l) SW_NONNULL(1);
int sw_live_datalink(const sw_live *l) SW_NONNULL(1);

/* Processes at most max_frames (≥ 1) frames that are ready now, feeding
 * each through sw_capture_feed_frame; cb as in capture.h (a non-zero
 * return ends this call after the current frame).  Returns the number of
 * frames processed (0: none ready), or SW_EIO with sw_live_error() set. */
long sw_live_dispatch(sw_live *l, int max_frames, sw_capture_cb cb, void *ctx) SW_NONNULL(1);

/* Fills *out; the kernel counters are read now (SW_EIO when pcap_stats
 * fails; the other fields are still filled). */
int sw_live_get_stats(sw_live *l, sw_live_stats *out) SW_NONNULL(1, 2);

/* Delivers what the reassemblers still hold (shutdown). */
int sw_live_flush(sw_live *l, sw_capture_cb cb, void *ctx) SW_NONNULL(1);

const char *sw_live_error(const sw_live *l) SW_NONNULL(1);
void sw_live_close(sw_live *l);

#endif
