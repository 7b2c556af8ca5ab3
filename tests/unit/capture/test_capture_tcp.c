/* TCP reassembly and fragment edge cases, driven frame by frame through
 * sw_capture_feed_frame with raw IPv4 frames. */
#include "capture_test_util.h"

#include <pcap/pcap.h>

#include "capture/capture_int.h"

#define CLI 0x0a000001u /* 10.0.0.1 */
#define SRV 0x0a000002u /* 10.0.0.2 */
#define SEC 1000000000LL

static uint8_t frame[80000];

static void take_first(void *ctx, const void *key, void *value)
{
    (void)key;
    if (!*(void **)ctx)
        *(void **)ctx = value;
}

/* The most recently used TCP direction (the table lists it first). */
static const sw__tcp_stream *newest_stream(const sw_capture *c)
{
    void *s = NULL;
    sw_table_foreach(c->tcp.streams, take_first, &s);
    assert_non_null(s);
    return s;
}

static char *options_msg(const char *call_id)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 512,
             "OPTIONS sip:bob@example.net SIP/2.0\r\n"
             "Via: SIP/2.0/TCP 10.0.0.1:40000;branch=z9hG4bK-%s\r\n"
             "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.net>\r\n"
             "Call-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
             call_id, call_id);
    return b;
}

typedef struct conn {
    sw_capture *c;
    ct_log *log;
    uint16_t sport;
    uint32_t seq;
    int64_t ts;
} conn;

static int seg(conn *k, uint32_t seq, uint8_t flags, const void *data, size_t n)
{
    size_t fl = ct_tcp4(frame, CLI, k->sport, SRV, 5060, seq, flags, data, n);
    k->ts += 1000000;
    return sw_capture_feed_frame(k->c, DLT_RAW, frame, fl, fl, k->ts, ct_collect, k->log);
}

/* Sends the next n bytes in order. */
static int send_next(conn *k, const void *data, size_t n)
{
    int rc = seg(k, k->seq, CT_ACK | CT_PSH, data, n);
    k->seq += (uint32_t)n;
    return rc;
}

static void open_conn(conn *k, sw_capture *c, ct_log *log, uint16_t sport, uint32_t isn)
{
    k->c = c;
    k->log = log;
    k->sport = sport;
    k->ts = 10 * SEC;
    k->seq = isn;
    assert_int_equal(seg(k, isn, CT_SYN, NULL, 0), 0);
    k->seq = isn + 1;
}

/* Every split of a stream of three messages into two segments gives the
 * same three messages, once each. */
static void test_every_split(void **state)
{
    (void)state;
    char stream[2048];
    int n = snprintf(stream, sizeof stream, "%s\r\n\r\n%s%s", options_msg("s-1"),
                     options_msg("s-2"), options_msg("s-3"));
    for (int cut = 1; cut < n; cut += 7) {
        ct_log log = {0};
        sw_capture *c = sw_capture_new(NULL);
        conn k;
        open_conn(&k, c, &log, 40000, 1000);
        assert_int_equal(send_next(&k, stream, (size_t)cut), 0);
        assert_int_equal(send_next(&k, stream + cut, (size_t)(n - cut)), 0);
        assert_int_equal(log.n, 3);
        assert_string_equal(log.m[0].call_id, "s-1");
        assert_string_equal(log.m[1].call_id, "s-2");
        assert_string_equal(log.m[2].call_id, "s-3");
        for (int i = 0; i < 3; i++)
            assert_int_equal(log.m[i].len, strlen(options_msg("x-x")));
        sw_capture_free(c);
        ct_log_free(&log);
    }
}

/* Segments delivered in reverse order, with duplicates: the messages come
 * out once, in stream order, when the first segment arrives. */
static void test_reverse_order_and_duplicates(void **state)
{
    (void)state;
    char stream[2048];
    int n = snprintf(stream, sizeof stream, "%s%s", options_msg("r-1"), options_msg("r-2"));
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40001, 0xffffff00u); /* the stream crosses 2^32 */
    const int chunk = 40;
    int nseg = (n + chunk - 1) / chunk;
    for (int i = nseg - 1; i >= 1; i--) {
        int len = i == nseg - 1 ? n - i * chunk : chunk;
        assert_int_equal(seg(&k, k.seq + (uint32_t)(i * chunk), CT_ACK, stream + i * chunk,
                             (size_t)len),
                         0);
        if (i % 3 == 0) /* a duplicate of an out-of-order segment */
            assert_int_equal(seg(&k, k.seq + (uint32_t)(i * chunk), CT_ACK, stream + i * chunk,
                                 (size_t)len),
                             0);
    }
    /* More than SW__TCP_MAX_OOO ranges would have been refused; these all
     * merge into one because they touch. */
    assert_int_equal(log.n, 0);
    assert_int_equal(seg(&k, k.seq, CT_ACK, stream, chunk), 0);
    assert_int_equal(log.n, 2);
    assert_string_equal(log.m[0].call_id, "r-1");
    assert_string_equal(log.m[1].call_id, "r-2");
    assert_int_equal(log.m[0].reassembled, 1);
    assert_int_equal(log.m[1].reassembled, 1);
    /* A full retransmission afterwards delivers nothing. */
    assert_int_equal(seg(&k, k.seq, CT_ACK, stream, (size_t)n), 0);
    assert_int_equal(log.n, 2);
    const sw_capture_stats *st = sw_capture_get_stats(c);
    assert_true(st->tcp_retransmits >= 1);
    assert_true(st->tcp_out_of_order >= (uint64_t)(nseg - 1));
    sw_capture_free(c);
    ct_log_free(&log);
}

/* Interleaved holes beyond SW__TCP_MAX_OOO: some segments are refused, the
 * rest is delivered when retransmitted; nothing overflows. */
static void test_many_holes(void **state)
{
    (void)state;
    char stream[4096];
    int n = 0;
    for (int i = 0; i < 8; i++) {
        char id[16];
        snprintf(id, sizeof id, "h-%d", i);
        n += snprintf(stream + n, sizeof stream - (size_t)n, "%s", options_msg(id));
    }
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40002, 5);
    const int chunk = 16;
    for (int i = 2; i * chunk < n; i += 2) /* every other segment, first one missing */
        seg(&k, k.seq + (uint32_t)(i * chunk), CT_ACK, stream + i * chunk,
            (size_t)(n - i * chunk < chunk ? n - i * chunk : chunk));
    assert_int_equal(log.n, 0);
    /* The holes filled the out-of-order list to its bound, no further. */
    assert_int_equal(newest_stream(c)->nooo, SW__TCP_MAX_OOO);
    /* Now the whole stream in order, as a sender's retransmission would. */
    for (int i = 0; i * chunk < n; i++)
        seg(&k, k.seq + (uint32_t)(i * chunk), CT_ACK, stream + i * chunk,
            (size_t)(n - i * chunk < chunk ? n - i * chunk : chunk));
    assert_int_equal(log.n, 8);
    for (int i = 0; i < 8; i++) {
        char id[16];
        snprintf(id, sizeof id, "h-%d", i);
        assert_string_equal(log.m[i].call_id, id);
    }
    sw_capture_free(c);
    ct_log_free(&log);
}

/* Only keep-alives: nothing delivered, nothing kept. */
static void test_keepalives_only(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40003, 77);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(send_next(&k, "\r\n\r\n", 4), 0);
    const char *m = options_msg("after-ka");
    assert_int_equal(send_next(&k, m, strlen(m)), 0);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.m[0].call_id, "after-ka");
    assert_int_equal(log.m[0].ferr, 0);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* A header section that never ends: delivered with a framing error when it
 * passes the message limit, the buffer never grows past its ceiling, and
 * the stream recovers at the next start line. */
static void test_endless_headers(void **state)
{
    (void)state;
    sw_capture_limits lim;
    sw_capture_limits_default(&lim);
    lim.max_stream_buffer = 16384;
    lim.sip.max_msg_size = 8192;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(&lim);
    conn k;
    open_conn(&k, c, &log, 40004, 1);
    char line[1000];
    assert_int_equal(send_next(&k, "INVITE sip:x@y SIP/2.0\r\n", 24), 0);
    memset(line, 'a', sizeof line);
    memcpy(line, "X-Junk: ", 8);
    line[sizeof line - 2] = '\r';
    line[sizeof line - 1] = '\n';
    for (int i = 0; i < 1000; i++) /* 1 MB of header lines */
        assert_int_equal(send_next(&k, line, sizeof line), 0);
    assert_true(log.n >= 1);
    assert_int_equal(log.m[0].ferr, SW_ELIMIT);
    assert_true(log.m[0].len <= 8192);
    assert_memory_equal(log.m[0].data, "INVITE ", 7);
    for (size_t i = 0; i < log.n; i++)
        assert_int_not_equal(log.m[i].ferr, 0);
    size_t before = log.n;
    const char *m = options_msg("recovered");
    assert_int_equal(send_next(&k, m, strlen(m)), 0);
    assert_int_equal(log.n, before + 1);
    assert_string_equal(log.m[before].call_id, "recovered");
    assert_int_equal(log.m[before].ferr, 0);
    assert_true(sw_capture_get_stats(c)->tcp_framing_errors >= 1);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* A 60 KB header arriving in 16-byte segments: framing resumes where the
 * last segment's search stopped, so the stream's framer examines each byte
 * a bounded number of times (re-framing from byte 0 at every segment, as
 * before, examined ~N^2/32 bytes). */
static void test_trickled_header_linear(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40011, 77);
    static char msg[62 * 1024];
    size_t n = (size_t)snprintf(msg, sizeof msg, "INVITE sip:b@example.net SIP/2.0\r\nX-Big: ");
    while (n < 60 * 1024)
        msg[n++] = 'a';
    n += (size_t)snprintf(msg + n, sizeof msg - n,
                          "\r\nCall-ID: trickle\r\nContent-Length: 0\r\n\r\n");
    for (size_t off = 0; off < n; off += 16)
        assert_int_equal(send_next(&k, msg + off, n - off < 16 ? n - off : 16), 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.m[0].len, n);
    assert_int_equal(log.m[0].ferr, 0);
    assert_string_equal(log.m[0].call_id, "trickle");
    const sw__tcp_stream *st = newest_stream(c);
    print_message("%zu bytes in 16-byte segments: %llu examined\n", n,
                  (unsigned long long)st->fr.examined);
    assert_true(st->fr.examined <= 4 * (uint64_t)n);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* Missing Content-Length on a stream: the headers come out flagged, the
 * next message is found again. */
static void test_missing_content_length(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40005, 1);
    char s[2048];
    int n = snprintf(s, sizeof s,
                     "BYE sip:x@y SIP/2.0\r\nCall-ID: no-cl\r\nCSeq: 2 BYE\r\n\r\n%s",
                     options_msg("next"));
    assert_int_equal(send_next(&k, s, (size_t)n), 0);
    assert_int_equal(log.n, 2);
    assert_string_equal(log.m[0].call_id, "no-cl");
    assert_int_equal(log.m[0].ferr, SW_EINVAL);
    assert_string_equal(log.m[1].call_id, "next");
    assert_int_equal(log.m[1].ferr, 0);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* A gap larger than the buffer: the lost bytes are given up, counted, and
 * the stream continues at a start line. */
static void test_gap(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40006, 1);
    const char *m1 = options_msg("before-gap");
    assert_int_equal(send_next(&k, m1, 60), 0); /* a partial message */
    char s[1024];
    int n = snprintf(s, sizeof s, "tail of a lost message\r\n%s", options_msg("after-gap"));
    assert_int_equal(seg(&k, k.seq + 10000000, CT_ACK, s, (size_t)n), 0);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.m[0].call_id, "after-gap");
    assert_int_equal(sw_capture_get_stats(c)->tcp_gaps, 1);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* RST and idle timeout end a direction holding a partial message. */
static void test_rst_and_idle(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn a, b;
    open_conn(&a, c, &log, 40007, 1);
    open_conn(&b, c, &log, 40008, 1);
    const char *m = options_msg("partial");
    assert_int_equal(send_next(&a, m, 80), 0);
    assert_int_equal(send_next(&b, m, 90), 0);
    assert_int_equal(seg(&a, a.seq, CT_RST, NULL, 0), 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.m[0].ferr, SW_EINCOMPLETE);
    assert_int_equal(log.m[0].len, 80);
    assert_string_equal(log.m[0].src, "10.0.0.1:40007");
    /* Ten minutes and a bit later any frame expires b. */
    b.ts += 601 * SEC;
    size_t fl = ct_udp4(frame, CLI, 1, SRV, 2, "x", 1);
    assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, b.ts, ct_collect, &log), 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.m[1].ferr, SW_EINCOMPLETE);
    assert_string_equal(log.m[1].freason, "connection idle inside a message");
    assert_int_equal(log.m[1].len, 90);
    assert_int_equal(sw_capture_get_stats(c)->tcp_incomplete, 2);
    /* Nothing left for the flush. */
    assert_int_equal(sw_capture_flush(c, ct_collect, &log), 0);
    assert_int_equal(log.n, 2);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* The callback stops in the middle of a segment with three messages; the
 * rest is kept and a flush delivers it, complete and in order. */
static void test_stop_keeps_rest(void **state)
{
    (void)state;
    ct_log log = {0};
    log.stop_after = 1;
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40009, 1);
    char s[2048];
    int n = snprintf(s, sizeof s, "%s%s%s", options_msg("st-1"), options_msg("st-2"),
                     options_msg("st-3"));
    assert_int_equal(send_next(&k, s, (size_t)n), 1);
    assert_int_equal(log.n, 1);
    log.stop_after = 0;
    assert_int_equal(sw_capture_flush(c, ct_collect, &log), 0);
    assert_int_equal(log.n, 3);
    assert_string_equal(log.m[1].call_id, "st-2");
    assert_string_equal(log.m[2].call_id, "st-3");
    assert_int_equal(log.m[2].ferr, 0);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* A retransmitted SYN keeps the stream; a new ISN starts a new one. */
static void test_syn_reuse(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40010, 500);
    const char *m = options_msg("syn-1");
    assert_int_equal(send_next(&k, m, 50), 0);
    assert_int_equal(seg(&k, 500, CT_SYN, NULL, 0), 0); /* retransmitted SYN */
    assert_int_equal(send_next(&k, m + 50, strlen(m) - 50), 0);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.m[0].call_id, "syn-1");
    open_conn(&k, c, &log, 40010, 90000); /* same ports, new connection */
    assert_int_equal(send_next(&k, options_msg("syn-2"), strlen(m)), 0);
    assert_int_equal(log.n, 2);
    assert_string_equal(log.m[1].call_id, "syn-2");
    sw_capture_free(c);
    ct_log_free(&log);
}

/* A non-SIP connection is recognised at its first line and costs nothing
 * afterwards. */
static void test_not_sip_stream(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    conn k;
    open_conn(&k, c, &log, 40011, 1);
    assert_int_equal(send_next(&k, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(send_next(&k, "INVITE sip:x@y SIP/2.0\r\n", 24), 0);
    /* Out of order data of a non-SIP direction is not kept either. */
    assert_int_equal(seg(&k, k.seq + 1000, CT_ACK, "INVITE sip:x@y SIP/2.0\r\n", 24), 0);
    assert_int_equal(log.n, 0);
    assert_int_equal(sw_capture_get_stats(c)->non_sip, 102);
    assert_int_equal(newest_stream(c)->nooo, 0);
    assert_int_equal(c->tcp.mem, 0);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* ---- fragments ---- */

static int frag(sw_capture *c, ct_log *log, uint16_t id, uint32_t off, int more, const void *p,
                size_t n, int64_t ts)
{
    uint16_t ff = (uint16_t)((more ? 0x2000 : 0) | (off / 8));
    size_t fl = ct_ip4(frame, CLI, SRV, 17, id, ff, p, n);
    return sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, ts, ct_collect, log);
}

static size_t udp_datagram(uint8_t *d, const char *msg)
{
    size_t n = strlen(msg);
    size_t ul = 8 + n;
    d[0] = 0x13, d[1] = 0xc4, d[2] = 0x13, d[3] = 0xc4;
    d[4] = (uint8_t)(ul >> 8), d[5] = (uint8_t)ul, d[6] = d[7] = 0;
    memcpy(d + 8, msg, n);
    return ul;
}

static void test_fragment_edge_cases(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture *c = sw_capture_new(NULL);
    uint8_t d[1024];
    size_t n = udp_datagram(d, options_msg("frag-t"));
    /* Timeout: the first half, then the second half 31 s later. */
    assert_int_equal(frag(c, &log, 1, 0, 1, d, 200, 1 * SEC), 0);
    assert_int_equal(frag(c, &log, 1, 200, 0, d + 200, n - 200, 32 * SEC), 0);
    assert_int_equal(log.n, 0);
    assert_int_equal(sw_capture_get_stats(c)->frag_timeouts, 1);
    /* Overlap that is not a duplicate: dropped. */
    assert_int_equal(frag(c, &log, 2, 0, 1, d, 200, 40 * SEC), 0);
    assert_int_equal(frag(c, &log, 2, 192, 0, d + 192, n - 192, 40 * SEC), 0);
    assert_int_equal(log.n, 0);
    assert_int_equal(sw_capture_get_stats(c)->frag_dropped, 1);
    /* Beyond 65535 bytes: dropped without growing anything. */
    assert_int_equal(frag(c, &log, 3, 65528, 0, d, 100, 41 * SEC), 0);
    assert_int_equal(sw_capture_get_stats(c)->frag_dropped, 2);
    /* Odd-sized middle fragment: damaged. */
    assert_int_equal(frag(c, &log, 4, 0, 1, d, 101, 42 * SEC), 0);
    assert_int_equal(sw_capture_get_stats(c)->damaged, 1);
    /* Duplicates inside what arrived: ignored; then complete. */
    assert_int_equal(frag(c, &log, 5, 0, 1, d, 200, 43 * SEC), 0);
    assert_int_equal(frag(c, &log, 5, 64, 1, d + 64, 64, 43 * SEC), 0);
    assert_int_equal(frag(c, &log, 5, 200, 0, d + 200, n - 200, 43 * SEC), 0);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.m[0].call_id, "frag-t");
    assert_int_equal(log.m[0].reassembled, 1);
    assert_int_equal(log.m[0].len, strlen(options_msg("frag-t")));
    sw_capture_free(c);
    ct_log_free(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_reverse_order_and_duplicates),
        cmocka_unit_test(test_many_holes),
        cmocka_unit_test(test_keepalives_only),
        cmocka_unit_test(test_endless_headers),
        cmocka_unit_test(test_trickled_header_linear),
        cmocka_unit_test(test_missing_content_length),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_rst_and_idle),
        cmocka_unit_test(test_stop_keeps_rest),
        cmocka_unit_test(test_syn_reuse),
        cmocka_unit_test(test_not_sip_stream),
        cmocka_unit_test(test_fragment_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
