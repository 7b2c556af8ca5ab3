/* The proxy's address helpers (src/proxy/util.c): the hand-written dotted
 * quad parser against inet_pton, and recognising our own interfaces by the
 * text of an IPv4 literal against parsing it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "proxy/proxy_int.h"
#include "sipwall/proxy.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;
static unsigned next_rand(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* px_parse_ip accepts exactly what inet_pton(AF_INET) accepts, with the
 * same bytes, over random strings of digits and dots (and a few others). */
static void test_dotted_quad_as_inet_pton(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789...12525x ";
    unsigned accepted = 0;
    for (int n = 0; n < 300000; n++) {
        char s[24];
        unsigned len = 1 + next_rand(17);
        for (unsigned i = 0; i < len; i++)
            s[i] = alphabet[next_rand(sizeof alphabet - 1)];
        s[len] = '\0';
        sw_addr a;
        uint8_t ref[4];
        int mine = px_parse_ip(sw_str_make(s, len), &a) == SW_OK;
        int theirs = inet_pton(AF_INET, s, ref) == 1;
        if (mine != theirs)
            fail_msg("\"%s\": px_parse_ip %d, inet_pton %d", s, mine, theirs);
        if (mine) {
            assert_int_equal(a.family, 4);
            assert_memory_equal(a.ip, ref, 4);
            accepted++;
        }
    }
    assert_true(accepted > 100); /* the generator does reach valid addresses */
    const char *fixed_ok[] = {"0.0.0.0", "255.255.255.255", "10.0.0.1", "192.0.2.100"};
    const char *fixed_bad[] = {"256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.4.", ".1.2.3",
                               "1.2.3.1000", "1.2.3.00", "", "a.b.c.d"};
    for (size_t i = 0; i < sizeof fixed_ok / sizeof *fixed_ok; i++) {
        sw_addr a;
        assert_int_equal(px_parse_ip(sw_str_make(fixed_ok[i], strlen(fixed_ok[i])), &a), SW_OK);
    }
    for (size_t i = 0; i < sizeof fixed_bad / sizeof *fixed_bad; i++) {
        sw_addr a;
        assert_int_not_equal(px_parse_ip(sw_str_make(fixed_bad[i], strlen(fixed_bad[i])), &a), SW_OK);
    }
    sw_addr a6;
    assert_int_equal(px_parse_ip(sw_str_make("[2001:db8::1]", 13), &a6), SW_OK);
    assert_int_equal(a6.family, 6);
}

static sw_proxy *proxy_with(const char *const *addrs, const sw_transport *tr, unsigned n)
{
    static uint8_t secret[SW_HIDE_KEY_LEN];
    sw_proxy_iface ifs[8];
    memset(ifs, 0, sizeof ifs);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(sw_addr_parse(addrs[i], &ifs[i].addr), SW_OK);
        ifs[i].transport = tr[i];
        ifs[i].side = i ? SW_SIDE_CORE : SW_SIDE_INTERCONNECT;
    }
    sw_proxy_config cfg = {.secret = secret, .ifaces = ifs, .nifaces = n};
    sw_proxy *p = sw_proxy_new(&cfg);
    assert_non_null(p);
    return p;
}

/* The text comparison of px_self answers as parsing and comparing does. */
static void test_self_by_text(void **state)
{
    (void)state;
    const char *addrs[] = {"192.0.2.1:5060", "10.0.0.2:5060", "10.0.0.2:5061", "[2001:db8::5]:5060"};
    const sw_transport tr[] = {SW_TRANSPORT_UDP, SW_TRANSPORT_UDP, SW_TRANSPORT_TLS, SW_TRANSPORT_UDP};
    sw_proxy *p = proxy_with(addrs, tr, 4);
    struct {
        const char *host;
        uint16_t port;
        int want;
    } cases[] = {
        {"192.0.2.1", 5060, 1}, {"192.0.2.1", 0, 1},     {"192.0.2.1", 5070, 0}, {"192.0.2.10", 5060, 0},
        {"192.0.2.01", 5060, 0}, {"192.000.2.1", 5060, 0}, {"10.0.0.2", 5061, 1}, {"10.0.0.2", 5060, 1},
        {"[2001:db8::5]", 5060, 1}, {"[2001:0db8:0::5]", 5060, 1}, {"[2001:db8::6]", 5060, 0},
        {"[192.0.2.1]", 5060, 1}, /* brackets go the parse path, as before */
        {"example.net", 5060, 0}, {"1", 5060, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned iface = 99;
        int got = sw_proxy_is_self(p, sw_str_make(cases[i].host, strlen(cases[i].host)), cases[i].port, &iface);
        if (got != cases[i].want)
            fail_msg("%s:%u: is_self %d, want %d", cases[i].host, cases[i].port, got, cases[i].want);
    }
    /* the transport picks among interfaces on the same address */
    assert_int_equal(px_self(p, sw_str_make("10.0.0.2", 8), 5061, SW_TRANSPORT_TLS), 2);
    assert_int_equal(px_self(p, sw_str_make("10.0.0.2", 8), 5060, SW_TRANSPORT_UDP), 1);
    sw_proxy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotted_quad_as_inet_pton),
        cmocka_unit_test(test_self_by_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
