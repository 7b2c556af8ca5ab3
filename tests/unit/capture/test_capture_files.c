/* The capture reader on the crafted captures in tests/data/pcap/ (made by
 * tests/captures/make_test_pcaps.py, whose docstrings list what each one
 * holds).  Every test asserts exactly which messages come out, in which
 * order, from which frame, with which addresses and flags. */
#include "capture_test_util.h"

#define BASE_NS 1700000000000000000LL
#define MS 1000000LL

typedef struct expect {
    const char *call_id;
    uint64_t frame;
    uint8_t reassembled;
} expect;

static void check_msgs(const ct_log *log, const expect *e, size_t n)
{
    if (log->n != n) {
        for (size_t i = 0; i < log->n; i++)
            print_message("got %zu: %s frame %lu\n", i, log->m[i].call_id,
                          (unsigned long)log->m[i].frame);
    }
    assert_int_equal(log->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(log->m[i].call_id, e[i].call_id);
        assert_int_equal(log->m[i].frame, e[i].frame);
        assert_int_equal(log->m[i].reassembled, e[i].reassembled);
    }
}

/* The message's Content-Length matches the body it carries: reassembly
 * put every byte where it belongs and nothing more. */
static void check_body(const ct_msg *m)
{
    const char *hdr_end = strstr(m->data, "\r\n\r\n");
    assert_non_null(hdr_end);
    const char *cl = strstr(m->data, "\r\nContent-Length: ");
    assert_non_null(cl);
    long want = strtol(cl + 18, NULL, 10);
    assert_int_equal((long)(m->len - (size_t)(hdr_end + 4 - m->data)), want);
}

static void test_udp_frag_ipv4(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file("udp_frag_ipv4.pcap", &log, &st, NULL, 0), SW_OK);
    const expect e[] = {{"frag4-plain", 1, 0}, {"frag4-inorder", 4, 1}, {"frag4-ooo", 8, 1},
                        {"frag4-after", 11, 0}};
    check_msgs(&log, e, 4);
    for (size_t i = 0; i < log.n; i++) {
        assert_string_equal(log.m[i].src, "10.0.0.1:5060");
        assert_string_equal(log.m[i].dst, "10.0.0.2:5060");
        assert_int_equal(log.m[i].transport, SW_TRANSPORT_UDP);
        assert_int_equal(log.m[i].vlan, 0);
        check_body(&log.m[i]);
    }
    assert_true(log.m[1].len > 2500);
    assert_memory_equal(log.m[1].data, "INVITE sip:bob@example.net SIP/2.0\r\n", 36);
    /* Microsecond pcap: frame i is i * 10 ms after the base. */
    assert_int_equal(log.m[0].ts_ns, BASE_NS);
    assert_int_equal(log.m[1].ts_ns, BASE_NS + 30 * MS);
    assert_int_equal(st.frames, 11);
    assert_int_equal(st.sip_messages, 4);
    assert_int_equal(st.ip_fragments, 9);
    assert_int_equal(st.ip_reassembled, 2);
    assert_int_equal(st.frag_dropped, 1); /* the overlapping pair */
    assert_int_equal(st.damaged, 0);
    ct_log_free(&log);
}

static void test_udp_frag_ipv6(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file("udp_frag_ipv6.pcap", &log, &st, NULL, 0), SW_OK);
    const expect e[] = {{"frag6-a", 2, 1}, {"frag6-b", 4, 1}, {"frag6-atomic", 5, 0}};
    check_msgs(&log, e, 3);
    for (size_t i = 0; i < log.n; i++) {
        assert_string_equal(log.m[i].src, "[2001:db8::1]:5060");
        assert_string_equal(log.m[i].dst, "[2001:db8::2]:5060");
        check_body(&log.m[i]);
    }
    assert_int_equal(st.ip_fragments, 4);
    assert_int_equal(st.ip_reassembled, 2);
    assert_int_equal(st.frag_dropped, 0);
    ct_log_free(&log);
}

static void test_tcp_stream(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file("tcp_sip.pcap", &log, &st, NULL, 0), SW_OK);
    const expect e[] = {{"tcp-1", 4, 0},  {"tcp-2", 4, 0},  {"tcp-3", 8, 1}, {"tcp-4", 8, 0},
                        {"tcp-5", 11, 1}, {"tcp-1", 12, 0}, {"tcp-6", 13, 0}};
    check_msgs(&log, e, 7);
    for (size_t i = 0; i < log.n; i++) {
        assert_int_equal(log.m[i].transport, SW_TRANSPORT_TCP);
        assert_int_equal(log.m[i].ferr, 0);
        check_body(&log.m[i]);
        int reply = i == 5;
        assert_string_equal(log.m[i].src, reply ? "10.1.0.2:5060" : "10.1.0.1:40000");
        assert_string_equal(log.m[i].dst, reply ? "10.1.0.1:40000" : "10.1.0.2:5060");
    }
    /* Keep-alive CRLFs are not part of the next message. */
    assert_memory_equal(log.m[2].data, "INVITE ", 7);
    assert_memory_equal(log.m[4].data, "MESSAGE ", 8);
    assert_memory_equal(log.m[5].data, "SIP/2.0 200 OK\r\n", 16);
    assert_memory_equal(log.m[6].data, "OPTIONS ", 8);
    assert_int_equal(st.tcp_segments, 16);
    assert_int_equal(st.tcp_streams, 2);
    assert_int_equal(st.tcp_retransmits, 2);  /* frame 9 whole, frame 13 in part */
    assert_int_equal(st.tcp_out_of_order, 1); /* frame 10 */
    assert_int_equal(st.tcp_gaps, 0);
    assert_int_equal(st.tcp_incomplete, 0);
    assert_int_equal(st.sip_messages, 7);
    ct_log_free(&log);
}

static void test_tcp_framing(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file("tcp_framing.pcap", &log, &st, NULL, 0), SW_OK);
    const expect e[] = {{"bad-cl", 2, 0}, {"good-after-bad", 3, 0}, {"mid-1", 4, 0},
                        {"mid-2", 5, 0},  {"short-body", 8, 0}};
    check_msgs(&log, e, 5);
    /* Bad Content-Length: the header section is delivered, flagged. */
    assert_int_equal(log.m[0].ferr, SW_EINVAL);
    assert_non_null(log.m[0].freason);
    assert_string_equal(log.m[0].data + log.m[0].len - 4, "\r\n\r\n");
    assert_non_null(strstr(log.m[0].data, "Content-Length: abc"));
    assert_int_equal(log.m[1].ferr, 0);
    /* Mid-connection start: the body tail before mid-1 is skipped. */
    assert_memory_equal(log.m[2].data, "OPTIONS ", 8);
    assert_int_equal(log.m[2].ferr, 0);
    assert_int_equal(log.m[3].ferr, 0);
    /* Content-Length 500 with 100 bytes, then FIN. */
    assert_int_equal(log.m[4].ferr, SW_EINCOMPLETE);
    assert_string_equal(log.m[4].freason, "connection closed inside a message");
    assert_memory_equal(log.m[4].data, "MESSAGE ", 8);
    assert_string_equal(log.m[4].src, "10.1.0.1:40003");
    assert_int_equal(st.tcp_framing_errors, 1);
    assert_int_equal(st.tcp_incomplete, 1);
    assert_int_equal(st.non_sip, 1); /* the HTTP request */
    ct_log_free(&log);
}

static void test_tcp_ipv6(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file("tcp_ipv6.pcap", &log, &st, NULL, 0), SW_OK);
    const expect e[] = {{"v6-tcp-1", 2, 0}, {"v6-tcp-2", 2, 0}, {"v6-tcp-3", 4, 1}};
    check_msgs(&log, e, 3);
    for (size_t i = 0; i < log.n; i++) {
        assert_string_equal(log.m[i].src, "[2001:db8::1]:40000");
        assert_string_equal(log.m[i].dst, "[2001:db8::2]:5060");
        assert_int_equal(log.m[i].transport, SW_TRANSPORT_TCP);
        check_body(&log.m[i]);
    }
    assert_int_equal(st.tcp_streams, 1);
    ct_log_free(&log);
}

static void test_vlan(void **state)
{
    (void)state;
    ct_log log = {0};
    assert_int_equal(ct_read_file("vlan.pcap", &log, NULL, NULL, 0), SW_OK);
    const expect e[] = {{"vlan-100", 1, 0}, {"qinq-200", 2, 0}, {"stacked-10", 3, 0}};
    check_msgs(&log, e, 3);
    assert_int_equal(log.m[0].vlan, 100);
    assert_int_equal(log.m[1].vlan, 200); /* the outer 802.1ad tag */
    assert_int_equal(log.m[2].vlan, 10);
    assert_string_equal(log.m[1].src, "10.0.0.1:5060");
    ct_log_free(&log);
}

static void test_ipv6_udp(void **state)
{
    (void)state;
    ct_log log = {0};
    assert_int_equal(ct_read_file("ipv6_udp.pcap", &log, NULL, NULL, 0), SW_OK);
    const expect e[] = {{"v6-plain", 1, 0}, {"v6-ext", 2, 0}, {"v6-plain", 3, 0}};
    check_msgs(&log, e, 3);
    assert_string_equal(log.m[1].src, "[2001:db8::1]:5060");
    assert_string_equal(log.m[2].src, "[2001:db8::2]:5060");
    assert_string_equal(log.m[2].dst, "[2001:db8::1]:5060");
    assert_memory_equal(log.m[2].data, "SIP/2.0 200 OK", 14);
    ct_log_free(&log);
}

static void check_two(const char *file, const char *id1, const char *src1, const char *id2,
                      const char *src2)
{
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file(file, &log, &st, NULL, 0), SW_OK);
    size_t n = id2 ? 2 : 1;
    assert_int_equal(log.n, n);
    assert_string_equal(log.m[0].call_id, id1);
    assert_string_equal(log.m[0].src, src1);
    assert_int_equal(log.m[0].frame, 1);
    if (id2) {
        assert_string_equal(log.m[1].call_id, id2);
        assert_string_equal(log.m[1].src, src2);
        assert_int_equal(log.m[1].frame, 2);
    }
    assert_int_equal(st.skipped, 0);
    assert_int_equal(st.damaged, 0);
    ct_log_free(&log);
}

static void test_link_types(void **state)
{
    (void)state;
    check_two("sll.pcap", "sll-v4", "10.0.0.1:5060", "sll-v6", "[2001:db8::1]:5060");
    check_two("sll2.pcap", "sll2-v4", "10.0.0.1:5060", "sll2-v6", "[2001:db8::1]:5060");
    check_two("raw_ip.pcap", "raw-v4", "10.0.0.1:5060", "raw-v6", "[2001:db8::1]:5060");
    check_two("ipv4_linktype.pcap", "ipv4-lt", "10.0.0.1:5060", NULL, NULL);
    check_two("null_loopback.pcap", "null-v4", "127.0.0.1:5060", "null-v6", "[::1]:5060");
    check_two("loop.pcap", "loop-v4", "127.0.0.1:5060", NULL, NULL);
}

static void test_pcapng(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file("sip.pcapng", &log, &st, NULL, 0), SW_OK);
    const expect e[] = {{"ng-1", 1, 0}, {"ng-1", 3, 0}};
    check_msgs(&log, e, 2);
    assert_int_equal(log.m[0].ts_ns, 1700000000123456789LL);
    assert_int_equal(log.m[1].ts_ns, 1700000000123456789LL + 20 * MS);
    assert_string_equal(log.m[1].src, "10.0.0.2:5060");
    assert_int_equal(st.frames, 3);
    assert_int_equal(st.non_sip, 1); /* the DNS query */
    ct_log_free(&log);
}

static void test_nanosecond(void **state)
{
    (void)state;
    ct_log log = {0};
    assert_int_equal(ct_read_file("nanosecond.pcap", &log, NULL, NULL, 0), SW_OK);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.m[0].call_id, "ns-1");
    assert_int_equal(log.m[0].ts_ns, 1700000000123456789LL);
    ct_log_free(&log);
}

static void test_truncated_data(void **state)
{
    (void)state;
    ct_log log = {0};
    char err[256];
    assert_int_equal(ct_read_file("truncated.pcap", &log, NULL, err, sizeof err), SW_ETRUNC);
    assert_string_equal(err, "frame 4: truncated record (file ends inside the packet data)");
    const expect e[] = {{"trunc-1", 1, 0}, {"trunc-2", 2, 0}, {"trunc-3", 3, 0}};
    check_msgs(&log, e, 3);
    ct_log_free(&log);
}

static void test_truncated_header(void **state)
{
    (void)state;
    ct_log log = {0};
    char err[256];
    assert_int_equal(ct_read_file("truncated_header.pcap", &log, NULL, err, sizeof err),
                     SW_ETRUNC);
    assert_string_equal(err, "frame 3: truncated record (file ends inside the record header)");
    const expect e[] = {{"hdr-1", 1, 0}, {"hdr-2", 2, 0}};
    check_msgs(&log, e, 2);
    ct_log_free(&log);
}

static void test_corrupt_record(void **state)
{
    (void)state;
    ct_log log = {0};
    char err[256];
    assert_int_equal(ct_read_file("corrupt_record.pcap", &log, NULL, err, sizeof err), SW_EFORMAT);
    assert_memory_equal(err, "frame 3: damaged record (", 25);
    const expect e[] = {{"bad-1", 1, 0}, {"bad-2", 2, 0}};
    check_msgs(&log, e, 2);
    ct_log_free(&log);
}

static void test_nonstandard_ports(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file("nonstd_port.pcap", &log, &st, NULL, 0), SW_OK);
    const expect e[] = {{"port-15060", 1, 0}, {"port-damaged", 2, 0}, {"port-garbage", 6, 0},
                        {"port-8088-tcp", 9, 0}};
    check_msgs(&log, e, 4);
    assert_string_equal(log.m[0].dst, "10.2.0.2:15060");
    /* Damaged start line: delivered because 10.2.0.2:15060 carried SIP. */
    assert_memory_equal(log.m[1].data, "INV\0TE ", 7);
    assert_int_equal(log.m[1].by_endpoint, 1);
    assert_int_equal(log.m[0].by_endpoint, 0);
    assert_int_equal(log.m[2].by_endpoint, 0); /* its start line looks like SIP */
    assert_string_equal(log.m[1].src, "10.2.0.3:44444");
    assert_string_equal(log.m[3].dst, "10.2.0.2:8088");
    assert_int_equal(log.m[3].transport, SW_TRANSPORT_TCP);
    assert_int_equal(st.udp_by_endpoint, 1);
    assert_int_equal(st.keepalives, 1);
    assert_int_equal(st.non_sip, 2); /* DNS, and junk between two 5060 ports */
    ct_log_free(&log);
}

static void test_damaged_frames(void **state)
{
    (void)state;
    ct_log log = {0};
    sw_capture_stats st;
    assert_int_equal(ct_read_file("damaged_frames.pcap", &log, &st, NULL, 0), SW_OK);
    const expect e[] = {{"ok-after-damage", 5, 0}};
    check_msgs(&log, e, 1);
    assert_int_equal(st.frames, 5);
    assert_int_equal(st.damaged, 4);
    ct_log_free(&log);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256] = "";
    char path[512];
    snprintf(path, sizeof path, "%s/pcap/does-not-exist.pcap", SW_TEST_DATA);
    assert_null(sw_capture_open_file(path, NULL, err, sizeof err));
    assert_non_null(strstr(err, "does-not-exist.pcap"));

    snprintf(path, sizeof path, "%s/../captures/make_test_pcaps.py", SW_TEST_DATA);
    assert_null(sw_capture_open_file(path, NULL, err, sizeof err));
    assert_non_null(strstr(err, "not a pcap or pcapng file"));
}

static void test_callback_stops_run(void **state)
{
    (void)state;
    ct_log log = {0};
    log.stop_after = 3;
    assert_int_equal(ct_read_file("tcp_sip.pcap", &log, NULL, NULL, 0), 1);
    assert_int_equal(log.n, 3);
    assert_string_equal(log.m[2].call_id, "tcp-3");
    ct_log_free(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_frag_ipv4),   cmocka_unit_test(test_udp_frag_ipv6),
        cmocka_unit_test(test_tcp_stream),      cmocka_unit_test(test_tcp_framing),
        cmocka_unit_test(test_tcp_ipv6),
        cmocka_unit_test(test_vlan),            cmocka_unit_test(test_ipv6_udp),
        cmocka_unit_test(test_link_types),      cmocka_unit_test(test_pcapng),
        cmocka_unit_test(test_nanosecond),      cmocka_unit_test(test_truncated_data),
        cmocka_unit_test(test_truncated_header), cmocka_unit_test(test_corrupt_record),
        cmocka_unit_test(test_nonstandard_ports), cmocka_unit_test(test_damaged_frames),
        cmocka_unit_test(test_open_errors),     cmocka_unit_test(test_callback_stops_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
