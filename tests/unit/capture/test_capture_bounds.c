/* Bounded behaviour: floods of fragment sets, TCP streams, partial messages
 * and SIP sources fed through sw_capture_feed_frame.  The tables must stay
 * within their limits (the internals are inspected through the private
 * header), evictions must be counted, and the reader must still work after
 * the flood. */
#include "capture_test_util.h"

#include <pcap/pcap.h>

#include "capture/capture_int.h"

#define SRV 0x0a000002u
#define FLOOD 100000u
#define SEC 1000000000LL

static uint8_t frame[80000];

static const char OPTS[] = "OPTIONS sip:bob@example.net SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bK-1\r\n"
                           "From: <sip:a@b>;tag=1\r\nTo: <sip:bob@example.net>\r\n"
                           "Call-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

static void add_frag_cap(void *ctx, const void *key, void *value)
{
    (void)key;
    *(uint64_t *)ctx += ((const sw__frag_set *)value)->cap;
}

static uint64_t frag_buffer_bytes(const sw_capture *c)
{
    uint64_t sum = 0;
    sw_table_foreach(c->frag.sets, add_frag_cap, &sum);
    return sum;
}

static void take_first(void *ctx, const void *key, void *value)
{
    (void)key;
    if (!*(void **)ctx)
        *(void **)ctx = value;
}

/* The most recently used TCP direction, or NULL. */
static sw__tcp_stream *newest_stream(const sw_capture *c)
{
    void *s = NULL;
    sw_table_foreach(c->tcp.streams, take_first, &s);
    return s;
}

static void test_fragment_flood(void **state)
{
    (void)state;
    sw_capture_limits lim;
    sw_capture_limits_default(&lim);
    lim.max_frag_sets = 256;
    sw_capture *c = sw_capture_new(&lim);
    ct_log log = {0};
    uint8_t payload[512];
    memset(payload, 'z', sizeof payload);
    for (uint32_t i = 0; i < FLOOD; i++) {
        /* Half start at 0, half far out so their buffers must grow. */
        uint16_t ff = (uint16_t)(0x2000 | (i & 1 ? 64000 / 8 : 0));
        size_t fl = ct_ip4(frame, 0x0b000000u + i, SRV, 17, (uint16_t)i, ff, payload, sizeof payload);
        assert_int_equal(
            sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC + i, ct_collect, &log), 0);
        assert_true(sw_table_count(c->frag.sets) <= lim.max_frag_sets);
    }
    const sw_capture_stats *st = sw_capture_get_stats(c);
    assert_int_equal(log.n, 0);
    assert_int_equal(st->ip_fragments, FLOOD);
    assert_int_equal(st->frag_evicted, FLOOD - lim.max_frag_sets);
    assert_int_equal(sw_table_count(c->frag.sets), lim.max_frag_sets);
    assert_true(frag_buffer_bytes(c) <= (uint64_t)lim.max_frag_sets * lim.max_frag_bytes);

    /* Still works: a datagram in two fragments. */
    char msg[512];
    int n = snprintf(msg, sizeof msg, OPTS, "after-frag-flood");
    uint8_t d[600];
    d[0] = 0x13, d[1] = 0xc4, d[2] = 0x13, d[3] = 0xc4;
    d[4] = (uint8_t)((8 + n) >> 8), d[5] = (uint8_t)(8 + n), d[6] = d[7] = 0;
    memcpy(d + 8, msg, (size_t)n);
    size_t fl = ct_ip4(frame, 0x0a000001u, SRV, 17, 7, 0x2000, d, 96);
    assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, 2 * SEC, ct_collect, &log), 0);
    fl = ct_ip4(frame, 0x0a000001u, SRV, 17, 7, 96 / 8, d + 96, (size_t)(8 + n - 96));
    assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, 2 * SEC, ct_collect, &log), 0);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.m[0].call_id, "after-frag-flood");
    assert_int_equal(log.m[0].reassembled, 1);
    /* Flushing gives every set up. */
    assert_int_equal(sw_capture_flush(c, ct_collect, &log), 0);
    assert_int_equal(sw_table_count(c->frag.sets), 0);
    sw_capture_free(c);
    ct_log_free(&log);
}

static void test_stream_flood(void **state)
{
    (void)state;
    sw_capture_limits lim;
    sw_capture_limits_default(&lim);
    lim.max_tcp_streams = 512;
    lim.max_tcp_memory = 4 * 1024 * 1024; /* 512 streams of 4 KiB fit */
    sw_capture *c = sw_capture_new(&lim);
    ct_log log = {0};
    char partial[128];
    int pn = snprintf(partial, sizeof partial, "INVITE sip:x@y SIP/2.0\r\nCall-ID: flood\r\n");
    for (uint32_t i = 0; i < FLOOD; i++) {
        uint32_t src = 0x0c000000u + i;
        size_t fl = ct_tcp4(frame, src, (uint16_t)(1024 + i % 60000), SRV, 5060, i, CT_SYN, NULL, 0);
        assert_int_equal(
            sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC + i, ct_collect, &log), 0);
        fl = ct_tcp4(frame, src, (uint16_t)(1024 + i % 60000), SRV, 5060, i + 1, CT_ACK, partial,
                     (size_t)pn);
        assert_int_equal(
            sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC + i, ct_collect, &log), 0);
        assert_true(sw_table_count(c->tcp.streams) <= lim.max_tcp_streams);
        assert_true(c->tcp.mem <= lim.max_tcp_memory);
    }
    const sw_capture_stats *st = sw_capture_get_stats(c);
    assert_int_equal(st->tcp_streams, FLOOD);
    assert_int_equal(st->tcp_evicted, FLOOD - lim.max_tcp_streams);
    assert_int_equal(sw_table_count(c->tcp.streams), lim.max_tcp_streams);
    assert_int_equal(log.n, 0); /* evicted partial messages are not delivered */

    /* Pure ACKs of unknown connections create no state at all. */
    uint64_t before = st->tcp_streams;
    for (uint32_t i = 0; i < FLOOD; i++) {
        size_t fl = ct_tcp4(frame, 0x0d000000u + i, 2000, SRV, 5060, i, CT_ACK, NULL, 0);
        assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, 2 * SEC, ct_collect, &log),
                         0);
    }
    assert_int_equal(st->tcp_streams, before);

    /* The survivors end at the flush, each with its partial message. */
    assert_int_equal(sw_capture_flush(c, ct_collect, &log), 0);
    assert_int_equal(log.total, lim.max_tcp_streams);
    assert_int_equal(log.m[0].ferr, SW_EINCOMPLETE);
    assert_string_equal(log.m[0].freason, "capture ended inside a message");
    assert_int_equal(sw_table_count(c->tcp.streams), 0);
    assert_int_equal(c->tcp.mem, 0);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* Many directions each holding a large partial message: the sum of all
 * stream buffers stays under max_tcp_memory. */
static void test_stream_memory_cap(void **state)
{
    (void)state;
    sw_capture_limits lim;
    sw_capture_limits_default(&lim);
    lim.max_tcp_memory = 256 * 1024;
    lim.max_stream_buffer = 64 * 1024;
    sw_capture *c = sw_capture_new(&lim);
    ct_log log = {0};
    static char big[30000];
    int hn = snprintf(big, sizeof big,
                      "MESSAGE sip:x@y SIP/2.0\r\nCall-ID: big\r\nContent-Length: 60000\r\n\r\n");
    memset(big + hn, 'b', sizeof big - (size_t)hn);
    for (uint32_t i = 0; i < 200; i++) {
        uint32_t src = 0x0e000000u + i;
        size_t fl = ct_tcp4(frame, src, 3000, SRV, 5060, 0, CT_SYN, NULL, 0);
        assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC, ct_collect, &log), 0);
        for (uint32_t off = 0; off < sizeof big; off += 1400) {
            size_t n = sizeof big - off < 1400 ? sizeof big - off : 1400;
            fl = ct_tcp4(frame, src, 3000, SRV, 5060, 1 + off, CT_ACK, big + off, n);
            assert_int_equal(
                sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC, ct_collect, &log), 0);
            assert_true(c->tcp.mem <= lim.max_tcp_memory);
        }
    }
    assert_true(sw_capture_get_stats(c)->tcp_memory_evictions > 0);
    assert_int_equal(log.n, 0);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* A direction captured mid-connection that never shows a start line is
 * given up as not SIP; it never buffers more than a line. */
static void test_unsynced_junk(void **state)
{
    (void)state;
    sw_capture *c = sw_capture_new(NULL);
    ct_log log = {0};
    char junk[1000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (i % 50 == 49) ? '\n' : (char)('a' + i % 26);
    for (uint32_t i = 0; i < 200; i++) {
        size_t fl = ct_tcp4(frame, 0x0f000001u, 4000, 0x0f000002u, 7000, 1 + i * 1000u, CT_ACK,
                            junk, sizeof junk);
        assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC, ct_collect, &log), 0);
        const sw__tcp_stream *s = newest_stream(c);
        assert_non_null(s);
        assert_true(s->len < 4096 + 1000);
    }
    assert_int_equal(log.n, 0);
    assert_true(sw_capture_get_stats(c)->non_sip > 0);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* 100000 SIP sources cannot push a busy server out of the endpoint set: a
 * damaged datagram to it is still delivered. */
static void test_endpoint_set_flood(void **state)
{
    (void)state;
    sw_capture *c = sw_capture_new(NULL);
    ct_log log = {0};
    char msg[512];
    int n = snprintf(msg, sizeof msg, OPTS, "ep");
    for (uint32_t i = 0; i < FLOOD; i++) {
        size_t fl = ct_udp4(frame, 0x10000000u + i, 5060, SRV, 5060, msg, (size_t)n);
        assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC, NULL, NULL), 0);
    }
    assert_int_equal(sw_capture_get_stats(c)->sip_messages, FLOOD);
    char dmg[512];
    memcpy(dmg, msg, (size_t)n);
    dmg[3] = '\0'; /* "OPT\0ONS": the start line no longer looks like SIP */
    size_t fl = ct_udp4(frame, 0x20000001u, 6000, SRV, 5060, dmg, (size_t)n);
    assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC, ct_collect, &log), 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(sw_capture_get_stats(c)->udp_by_endpoint, 1);
    /* And the same bytes between two endpoints never seen with SIP are not. */
    fl = ct_udp4(frame, 0x20000001u, 6000, 0x20000002u, 6001, dmg, (size_t)n);
    assert_int_equal(sw_capture_feed_frame(c, DLT_RAW, frame, fl, fl, SEC, ct_collect, &log), 0);
    assert_int_equal(log.n, 1);
    sw_capture_free(c);
    ct_log_free(&log);
}

/* Garbage of every length and shape on every supported link type: nothing
 * crashes (ASan/UBSan watch), everything is counted. */
static void test_garbage_frames(void **state)
{
    (void)state;
    sw_capture *c = sw_capture_new(NULL);
    static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, 276, DLT_RAW, 101, 228, 229, DLT_NULL,
                               DLT_LOOP, 9999};
    uint32_t x = 12345;
    uint8_t buf[256];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 256);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        /* Make a good share of them look like IPv4/IPv6 to go deeper. */
        if (len > 0 && round % 3 == 0)
            buf[0] = (uint8_t)((round & 4 ? 0x60 : 0x45));
        uint8_t *heap = malloc(len ? len : 1);
        memcpy(heap, buf, len); /* exact-size allocation: ASan sees over-reads */
        int dlt = dlts[round % (int)(sizeof dlts / sizeof dlts[0])];
        assert_int_equal(sw_capture_feed_frame(c, dlt, heap, len, len, round, NULL, NULL), 0);
        free(heap);
    }
    assert_int_equal(sw_capture_get_stats(c)->frames, 20000);
    assert_int_equal(sw_capture_flush(c, NULL, NULL), 0);
    sw_capture_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragment_flood),    cmocka_unit_test(test_stream_flood),
        cmocka_unit_test(test_stream_memory_cap), cmocka_unit_test(test_unsynced_junk),
        cmocka_unit_test(test_endpoint_set_flood), cmocka_unit_test(test_garbage_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
