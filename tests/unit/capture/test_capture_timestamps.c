/* Capture times at the edges (defect R11): a pcapng record can carry any
 * 64-bit timestamp; reading it must not overflow (UBSan halts the test on
 * a signed overflow) and the message comes out with a clamped, usable
 * time.  The test writes its own pcapng (LINKTYPE_RAW, microsecond
 * resolution) into a temporary file. */
#include "capture_test_util.h"

#include <unistd.h>

#define LINKTYPE_RAW 101

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); } /* host order: the SHB says which */

/* Appends one Enhanced Packet Block with the 64-bit timestamp ts (units of
 * the interface's resolution, microseconds by default). */
static size_t epb(uint8_t *out, uint64_t ts, const uint8_t *pkt, size_t n)
{
    size_t pad = (4 - n % 4) % 4;
    uint32_t len = (uint32_t)(32 + n + pad);
    put32(out, 6);
    put32(out + 4, len);
    put32(out + 8, 0); /* interface 0 */
    put32(out + 12, (uint32_t)(ts >> 32));
    put32(out + 16, (uint32_t)ts);
    put32(out + 20, (uint32_t)n);
    put32(out + 24, (uint32_t)n);
    memcpy(out + 28, pkt, n);
    memset(out + 28 + n, 0, pad);
    put32(out + 28 + n + pad, len);
    return len;
}

static size_t sip_packet(uint8_t *out, const char *call_id)
{
    char sip[512];
    int n = snprintf(sip, sizeof sip,
                     "OPTIONS sip:+4930100@10.0.0.1 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-%s\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:a@10.0.0.2>;tag=1\r\n"
                     "To: <sip:+4930100@10.0.0.1>\r\n"
                     "Call-ID: %s\r\n"
                     "CSeq: 1 OPTIONS\r\n"
                     "Content-Length: 0\r\n\r\n",
                     call_id, call_id);
    return ct_udp4(out, 0x0a000002, 5060, 0x0a000001, 5060, sip, (size_t)n);
}

/* Writes a pcapng holding one OPTIONS per timestamp; returns its path. */
static void write_pcapng(char *path, size_t pathlen, const uint64_t *ts, size_t nts)
{
    static uint8_t buf[1 << 16];
    size_t o = 0;
    put32(buf + o, 0x0A0D0D0A); /* Section Header Block */
    put32(buf + o + 4, 28);
    put32(buf + o + 8, 0x1A2B3C4D);
    buf[o + 12] = 1; /* version 1.0, in host order like the magic */
    buf[o + 13] = 0;
    buf[o + 14] = 0;
    buf[o + 15] = 0;
    memset(buf + o + 16, 0xff, 8); /* section length unknown */
    put32(buf + o + 24, 28);
    if (*(const uint16_t *)(const void *)"\x01\x00" != 1) { /* big-endian host: major/minor as u16 */
        buf[o + 12] = 0;
        buf[o + 13] = 1;
    }
    o += 28;
    put32(buf + o, 1); /* Interface Description Block */
    put32(buf + o + 4, 20);
    uint16_t lt = LINKTYPE_RAW, zero = 0;
    memcpy(buf + o + 8, &lt, 2);
    memcpy(buf + o + 10, &zero, 2);
    put32(buf + o + 12, 65535);
    put32(buf + o + 16, 20);
    o += 20;
    for (size_t i = 0; i < nts; i++) {
        uint8_t pkt[1024];
        char id[32];
        snprintf(id, sizeof id, "ts-%zu", i);
        size_t n = sip_packet(pkt, id);
        o += epb(buf + o, ts[i], pkt, n);
    }
    snprintf(path, pathlen, "/tmp/sw-ts-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, o), (ssize_t)o);
    close(fd);
}

static void test_huge_timestamps(void **state)
{
    (void)state;
    const uint64_t ts[] = {
        UINT64_C(0xffffffff00000000),      /* the reproducer's: 1.8e13 s */
        UINT64_C(1700000000123456),        /* an ordinary one */
        UINT64_C(0xffffffffffffffff),      /* the largest */
        UINT64_C(9223372036854775807) / 1000 + 1, /* just past int64 nanoseconds */
    };
    char path[64];
    write_pcapng(path, sizeof path, ts, sizeof ts / sizeof ts[0]);
    char ebuf[256];
    sw_capture *c = sw_capture_open_file(path, NULL, ebuf, sizeof ebuf);
    assert_non_null(c);
    ct_log log = {0};
    assert_int_equal(sw_capture_run(c, ct_collect, &log), SW_OK);
    const sw_capture_stats *st = sw_capture_get_stats(c);
    assert_int_equal(st->frames, 4);
    assert_int_equal(log.n, 4);
    assert_string_equal(log.m[0].call_id, "ts-0");
    assert_int_equal(log.m[0].ts_ns, SW_CAPTURE_TS_MAX_NS);
    assert_int_equal(log.m[1].ts_ns, INT64_C(1700000000123456000));
    assert_int_equal(log.m[2].ts_ns, SW_CAPTURE_TS_MAX_NS);
    assert_int_equal(log.m[3].ts_ns, SW_CAPTURE_TS_MAX_NS);
    assert_int_equal(st->bad_timestamps, 3);
    ct_log_free(&log);
    sw_capture_free(c);
    unlink(path);
}

static void test_ts_conversion(void **state)
{
    (void)state;
    int cl = 0;
    assert_int_equal(sw_capture_ts_ns(1, 5, &cl), 1000000005);
    assert_int_equal(cl, 0);
    assert_int_equal(sw_capture_ts_ns(-1, 0, &cl), 0);
    assert_int_equal(cl, 1);
    cl = 0;
    assert_int_equal(sw_capture_ts_ns(INT64_MAX, 999999999, &cl), SW_CAPTURE_TS_MAX_NS);
    assert_int_equal(cl, 1);
    cl = 0;
    assert_int_equal(sw_capture_ts_ns(INT64_MIN, 0, &cl), 0);
    assert_int_equal(cl, 1);
    cl = 0;
    assert_int_equal(sw_capture_ts_ns(5, INT64_MAX, &cl), INT64_C(5000000000)); /* bad fraction dropped */
    assert_int_equal(cl, 1);
    /* a clamped time still leaves room for a day's window */
    assert_true(SW_CAPTURE_TS_MAX_NS < INT64_MAX - INT64_C(86400) * 1000000000 * 365 * 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_timestamps),
        cmocka_unit_test(test_ts_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
