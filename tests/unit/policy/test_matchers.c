/* The policy matchers: digit tries (prefixes and range covers checked
 * exhaustively against the ranges they came from), CIDR tables (IPv4 and
 * IPv6, nested networks, host routes), the case-insensitive string set and
 * the Hyperscan pattern databases (several lists per field, caseless,
 * literals with regex metacharacters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy_int.h"
#include "sipwall/policy.h"

/* ---- prefix sets -------------------------------------------------------------- */
static size_t lookup(const sw_prefix_set *s, const char *digits, uint32_t *v)
{
    return sw_prefix_set_lookup(s, digits, strlen(digits), v);
}

static void test_prefix_longest_match(void **state)
{
    (void)state;
    sw_prefix_set *s = sw_prefix_set_new();
    assert_non_null(s);
    assert_int_equal(sw_prefix_set_add(s, "44", 2, 1), SW_OK);
    assert_int_equal(sw_prefix_set_add(s, "447", 3, 2), SW_OK);
    assert_int_equal(sw_prefix_set_add(s, "4477009", 7, 3), SW_OK);
    uint32_t v = 0;
    assert_int_equal(lookup(s, "4471234", &v), 3);
    assert_int_equal(v, 2);
    assert_int_equal(lookup(s, "4481234", &v), 2);
    assert_int_equal(v, 1);
    assert_int_equal(lookup(s, "447700912", &v), 7);
    assert_int_equal(v, 3);
    assert_int_equal(lookup(s, "4", &v), 0);
    assert_int_equal(lookup(s, "33", NULL), 0);
    assert_int_equal(lookup(s, "", NULL), 0);
    /* a non-digit ends the walk */
    assert_int_equal(lookup(s, "44x7", &v), 2);
    /* adding the same prefix again replaces its value, not the count */
    assert_int_equal(sw_prefix_set_count(s), 3);
    assert_int_equal(sw_prefix_set_add(s, "447", 3, 9), SW_OK);
    assert_int_equal(sw_prefix_set_count(s), 3);
    assert_int_equal(lookup(s, "4479", &v), 3);
    assert_int_equal(v, 9);
    /* bad input */
    assert_int_equal(sw_prefix_set_add(s, "", 0, 1), SW_EINVAL);
    assert_int_equal(sw_prefix_set_add(s, "12a", 3, 1), SW_EINVAL);
    assert_int_equal(sw_prefix_set_add(s, "123456789012345678901", 21, 1), SW_EINVAL);
    assert_int_equal(sw_prefix_set_add(s, "+44", 3, 1), SW_EINVAL);
    sw_prefix_set_free(s);
}

static void test_prefix_range_boundaries(void **state)
{
    (void)state;
    sw_prefix_set *s = sw_prefix_set_new();
    assert_non_null(s);
    assert_int_equal(sw_prefix_set_add_range(s, "447700900000", "447700900999", 12, 7), SW_OK);
    /* the whole block of 1000 is one prefix */
    assert_int_equal(sw_prefix_set_count(s), 1);
    uint32_t v = 0;
    assert_int_equal(lookup(s, "447700900000", &v), 9);
    assert_int_equal(v, 7);
    assert_true(lookup(s, "447700900999", NULL) > 0);
    assert_int_equal(lookup(s, "447700899999", NULL), 0);
    assert_int_equal(lookup(s, "447700901000", NULL), 0);

    /* 12345..12367: 12345-12349, 1235, 12360-12367 */
    sw_prefix_set *t = sw_prefix_set_new();
    assert_non_null(t);
    assert_int_equal(sw_prefix_set_add_range(t, "12345", "12367", 5, 1), SW_OK);
    assert_int_equal(sw_prefix_set_count(t), 5 + 1 + 8);
    assert_int_equal(lookup(t, "12344", NULL), 0);
    assert_int_equal(lookup(t, "12345", NULL), 5);
    assert_int_equal(lookup(t, "12350", NULL), 4);
    assert_int_equal(lookup(t, "12367", NULL), 5);
    assert_int_equal(lookup(t, "12368", NULL), 0);
    /* a single number */
    assert_int_equal(sw_prefix_set_add_range(t, "999", "999", 3, 2), SW_OK);
    assert_int_equal(lookup(t, "9990", NULL), 3);
    assert_int_equal(lookup(t, "998", NULL), 0);
    /* bad ranges */
    assert_int_equal(sw_prefix_set_add_range(t, "200", "100", 3, 1), SW_EINVAL);
    assert_int_equal(sw_prefix_set_add_range(t, "1a0", "190", 3, 1), SW_EINVAL);
    assert_int_equal(sw_prefix_set_add_range(t, "", "", 0, 1), SW_EINVAL);
    sw_prefix_set_free(t);
    sw_prefix_set_free(s);
}

static void test_prefix_long_ranges(void **state)
{
    (void)state;
    sw_prefix_set *s = sw_prefix_set_new();
    assert_non_null(s);
    /* 18 digits: 1000…0 .. 8999…9 is the digits 1 to 8 */
    assert_int_equal(sw_prefix_set_add_range(s, "100000000000000000", "899999999999999999",
                                             18, 1),
                     SW_OK);
    assert_int_equal(sw_prefix_set_count(s), 8);
    assert_int_equal(lookup(s, "099999999999999999", NULL), 0);
    assert_int_equal(lookup(s, "900000000000000000", NULL), 0);
    assert_int_equal(lookup(s, "512345678901234567", NULL), 1);
    /* everything of one length: ten one-digit prefixes (the empty prefix is never stored) */
    sw_prefix_set *all = sw_prefix_set_new();
    assert_non_null(all);
    assert_int_equal(sw_prefix_set_add_range(all, "0000", "9999", 4, 1), SW_OK);
    assert_int_equal(sw_prefix_set_count(all), 10);
    sw_prefix_set_free(all);
    /* 20 digits, awkward ends: the cover stays small (at most 9 per digit and side) */
    sw_prefix_set *w = sw_prefix_set_new();
    assert_non_null(w);
    assert_int_equal(sw_prefix_set_add_range(w, "12345678901234567891", "98765432109876543210",
                                             20, 3),
                     SW_OK);
    assert_true(sw_prefix_set_count(w) <= 2 * 9 * 20);
    assert_int_equal(lookup(w, "12345678901234567890", NULL), 0);
    assert_int_equal(lookup(w, "12345678901234567891", NULL), 20);
    assert_int_equal(lookup(w, "98765432109876543210", NULL), 20);
    assert_int_equal(lookup(w, "98765432109876543211", NULL), 0);
    assert_true(lookup(w, "50000000000000000000", NULL) > 0);
    sw_prefix_set_free(w);
    sw_prefix_set_free(s);
}

/* Every range of 4-digit numbers from a fixed pseudo-random sequence,
 * compared with the arithmetic truth for all 10000 numbers. */
static void test_prefix_range_exhaustive(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int round = 0; round < 60; round++) {
        seed = seed * 1103515245u + 12345u;
        unsigned a = (seed >> 8) % 10000;
        seed = seed * 1103515245u + 12345u;
        unsigned b = (seed >> 8) % 10000;
        if (round == 0) {
            a = 0;
            b = 9999;
        } else if (round == 1) {
            a = 1000;
            b = 1999;
        } else if (round == 2) {
            a = 999;
            b = 1000;
        }
        unsigned lo = a < b ? a : b, hi = a < b ? b : a;
        char los[8], his[8];
        snprintf(los, sizeof los, "%04u", lo);
        snprintf(his, sizeof his, "%04u", hi);
        sw_prefix_set *s = sw_prefix_set_new();
        assert_non_null(s);
        assert_int_equal(sw_prefix_set_add_range(s, los, his, 4, 1), SW_OK);
        for (unsigned n = 0; n < 10000; n++) {
            char num[8];
            snprintf(num, sizeof num, "%04u", n);
            int in = lookup(s, num, NULL) > 0;
            if (in != (n >= lo && n <= hi))
                fail_msg("range %s-%s: %s is %s", los, his, num, in ? "in" : "out");
        }
        sw_prefix_set_free(s);
    }
}

static void test_number_entries(void **state)
{
    (void)state;
    char lo[21], hi[21];
    size_t len;
    const char *why = NULL;
    assert_int_equal(sw__number_entry_parse("+4477009", lo, hi, &len, &why), 1);
    assert_string_equal(lo, "4477009");
    assert_int_equal(sw__number_entry_parse("+447700900000-+447700900999", lo, hi, &len, &why), 2);
    assert_string_equal(hi, "447700900999");
    assert_int_equal(len, 12);
    assert_int_equal(sw__number_entry_parse("53-53", lo, hi, &len, &why), 2);
    assert_int_equal(sw__number_entry_parse("+4477-+44770", lo, hi, &len, &why), 0);
    assert_non_null(strstr(why, "length"));
    assert_int_equal(sw__number_entry_parse("+4479-+4470", lo, hi, &len, &why), 0);
    assert_non_null(strstr(why, "above"));
    assert_int_equal(sw__number_entry_parse("+", lo, hi, &len, &why), 0);
    assert_int_equal(sw__number_entry_parse("+44 77", lo, hi, &len, &why), 0);
    assert_int_equal(sw__number_entry_parse("-", lo, hi, &len, &why), 0);
    assert_int_equal(sw__number_entry_parse("+123456789012345678901", lo, hi, &len, &why), 0);
}

/* ---- CIDR tables -------------------------------------------------------------- */
static void add_cidr(sw_cidr_table *t, const char *text, uint32_t v)
{
    sw_addr net;
    unsigned bits;
    assert_int_equal(sw_cidr_parse(text, &net, &bits), SW_OK);
    assert_int_equal(sw_cidr_table_add(t, &net, bits, v), SW_OK);
}

static int find(const sw_cidr_table *t, const char *ip, uint32_t *v)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(ip, &a), SW_OK);
    *v = 0xdead;
    return sw_cidr_table_lookup(t, &a, v);
}

static void test_cidr_v4_nested(void **state)
{
    (void)state;
    sw_cidr_table *t = sw_cidr_table_new();
    assert_non_null(t);
    add_cidr(t, "10.0.0.0/8", 1);
    add_cidr(t, "10.1.0.0/16", 2);
    add_cidr(t, "10.1.2.3", 3); /* host route */
    add_cidr(t, "192.0.2.128/25", 4);
    uint32_t v;
    assert_true(find(t, "10.200.0.1", &v));
    assert_int_equal(v, 1);
    assert_true(find(t, "10.1.9.9", &v));
    assert_int_equal(v, 2);
    assert_true(find(t, "10.1.2.3", &v));
    assert_int_equal(v, 3);
    assert_true(find(t, "10.1.2.4", &v));
    assert_int_equal(v, 2);
    assert_false(find(t, "11.0.0.1", &v));
    assert_false(find(t, "192.0.2.127", &v));
    assert_true(find(t, "192.0.2.128", &v));
    assert_int_equal(v, 4);
    assert_true(find(t, "192.0.2.255", &v));
    /* no IPv6 address falls into an IPv4 network */
    assert_false(find(t, "::a01:203", &v));
    /* the same network again replaces its value */
    add_cidr(t, "10.1.0.0/16", 5);
    assert_true(find(t, "10.1.9.9", &v));
    assert_int_equal(v, 5);
    /* a default route catches the rest of its family only */
    add_cidr(t, "0.0.0.0/0", 6);
    assert_true(find(t, "11.0.0.1", &v));
    assert_int_equal(v, 6);
    assert_false(find(t, "2001:db8::1", &v));
    sw_addr unset;
    memset(&unset, 0, sizeof unset);
    assert_false(sw_cidr_table_lookup(t, &unset, &v));
    sw_cidr_table_free(t);
}

static void test_cidr_v6(void **state)
{
    (void)state;
    sw_cidr_table *t = sw_cidr_table_new();
    assert_non_null(t);
    add_cidr(t, "2001:db8::/32", 1);
    add_cidr(t, "2001:db8:21::/48", 2);
    add_cidr(t, "2001:db8:21::7/128", 3);
    add_cidr(t, "fe80::/10", 4);
    uint32_t v;
    assert_true(find(t, "2001:db8:21::5", &v));
    assert_int_equal(v, 2);
    assert_true(find(t, "2001:db8:21::7", &v));
    assert_int_equal(v, 3);
    assert_true(find(t, "2001:db8:22::1", &v));
    assert_int_equal(v, 1);
    assert_false(find(t, "2001:db9::1", &v));
    assert_true(find(t, "febf:ffff::1", &v));
    assert_int_equal(v, 4);
    assert_false(find(t, "fec0::1", &v));
    assert_false(find(t, "32.1.13.184", &v)); /* 2001:0db8 as IPv4 bytes */
    sw_cidr_table_free(t);
}

/* Longest-prefix match by brute force over what was added (a later add of
 * the same network replaces the value), against the table, for networks
 * of every length (the lookup trie expands them over 4-bit levels) and
 * probes inside, at the edges of and next to them; /0 included. */
typedef struct net_entry {
    sw_addr net;
    unsigned bits;
    uint32_t value;
} net_entry;

static int net_covers(const net_entry *n, const sw_addr *a)
{
    if (n->net.family != a->family)
        return 0;
    for (unsigned i = 0; i < n->bits; i++) {
        unsigned b = 7 - (i & 7);
        if (((n->net.ip[i >> 3] >> b) & 1u) != ((a->ip[i >> 3] >> b) & 1u))
            return 0;
    }
    return 1;
}

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void test_cidr_random_longest_match(void **state)
{
    (void)state;
    enum { NETS = 300, PROBES = 4000 };
    for (int round = 0; round < 6; round++) {
        sw_cidr_table *t = sw_cidr_table_new();
        assert_non_null(t);
        static net_entry nets[NETS];
        unsigned n = 0;
        uint8_t family = round % 2 ? 6 : 4;
        unsigned max = family == 4 ? 32 : 128;
        /* a few base addresses, so networks nest and collide */
        uint8_t bases[4][16];
        for (int b = 0; b < 4; b++)
            for (int k = 0; k < 16; k++)
                bases[b][k] = (uint8_t)rnd();
        for (unsigned i = 0; i < NETS; i++) {
            net_entry *e = &nets[n];
            memset(e, 0, sizeof *e);
            e->net.family = family;
            memcpy(e->net.ip, bases[rnd() % 4], 16);
            if (rnd() % 3 == 0)
                e->net.ip[rnd() % (max / 8)] ^= (uint8_t)rnd();
            e->bits = (unsigned)(rnd() % (max + 1));
            if (round >= 4 && i == 0)
                e->bits = 0; /* a default route */
            for (unsigned b = e->bits; b < max; b++)
                e->net.ip[b >> 3] &= (uint8_t)~(1u << (7 - (b & 7)));
            if (family == 4)
                memset(e->net.ip + 4, 0, 12);
            e->value = (uint32_t)rnd();
            assert_int_equal(sw_cidr_table_add(t, &e->net, e->bits, e->value), SW_OK);
            n++;
        }
        for (unsigned p = 0; p < PROBES; p++) {
            sw_addr a;
            memset(&a, 0, sizeof a);
            a.family = family;
            const net_entry *src = &nets[rnd() % n];
            memcpy(a.ip, src->net.ip, 16);
            unsigned flip = (unsigned)(rnd() % max); /* inside or just outside some network */
            if (rnd() % 2)
                a.ip[flip >> 3] ^= (uint8_t)(1u << (7 - (flip & 7)));
            if (family == 4)
                memset(a.ip + 4, 0, 12);
            int want = 0;
            unsigned best = 0;
            uint32_t wv = 0;
            for (unsigned i = 0; i < n; i++) {
                if (net_covers(&nets[i], &a) && (!want || nets[i].bits >= best)) {
                    want = 1;
                    best = nets[i].bits;
                    wv = nets[i].value; /* the last add of the longest network */
                }
            }
            uint32_t v = 0;
            int got = sw_cidr_table_lookup(t, &a, &v);
            assert_int_equal(got, want);
            if (want)
                assert_int_equal(v, wv);
        }
        sw_cidr_table_free(t);
    }
}

static void test_cidr_parse(void **state)
{
    (void)state;
    sw_addr a;
    unsigned bits = 99;
    assert_int_equal(sw_cidr_parse("1.2.3.4", &a, &bits), SW_OK);
    assert_int_equal(bits, 32);
    assert_int_equal(a.family, 4);
    assert_int_equal(sw_cidr_parse("2001:db8::/32", &a, &bits), SW_OK);
    assert_int_equal(bits, 32);
    assert_int_equal(a.family, 6);
    assert_int_equal(sw_cidr_parse("::/0", &a, &bits), SW_OK);
    assert_int_equal(bits, 0);
    assert_int_equal(sw_cidr_parse("::1", &a, &bits), SW_OK);
    assert_int_equal(bits, 128);
    assert_int_not_equal(sw_cidr_parse("10.0.0.0/33", &a, &bits), SW_OK);
    assert_int_not_equal(sw_cidr_parse("2001:db8::/129", &a, &bits), SW_OK);
    assert_int_not_equal(sw_cidr_parse("300.1.1.1", &a, &bits), SW_OK);
    assert_int_not_equal(sw_cidr_parse("10.0.0.0/", &a, &bits), SW_OK);
    assert_int_not_equal(sw_cidr_parse("10.0.0.0/08", &a, &bits), SW_OK);
    assert_int_not_equal(sw_cidr_parse("10.0.0.0/8x", &a, &bits), SW_OK);
    assert_int_not_equal(sw_cidr_parse("/8", &a, &bits), SW_OK);
    assert_int_not_equal(sw_cidr_parse("", &a, &bits), SW_OK);
    assert_int_not_equal(sw_cidr_parse("example.com", &a, &bits), SW_OK);
    assert_int_equal(sw_cidr_parse("10.0.0.1/8", &a, &bits), SW_ERANGE); /* host bits */
    assert_int_equal(sw_cidr_parse("2001:db8::1/32", &a, &bits), SW_ERANGE);
}

/* ---- string sets ----------------------------------------------------------------- */
static void test_string_set(void **state)
{
    (void)state;
    sw_string_set *s = sw_string_set_new();
    assert_non_null(s);
    assert_int_equal(sw_string_set_add(s, SW_STR_LIT("ims.mnc001.mcc001.3gppnetwork.org"), 1),
                     SW_OK);
    assert_int_equal(sw_string_set_add(s, SW_STR_LIT("INVITE"), 2), SW_OK);
    assert_int_equal(sw_string_set_add(s, SW_STR_LIT(""), 3), SW_OK);
    uint32_t v = 0;
    assert_true(sw_string_set_lookup(s, SW_STR_LIT("IMS.MNC001.mcc001.3GPPNETWORK.ORG"), &v));
    assert_int_equal(v, 1);
    assert_true(sw_string_set_lookup(s, SW_STR_LIT("invite"), &v));
    assert_int_equal(v, 2);
    assert_true(sw_string_set_lookup(s, SW_STR_LIT(""), &v));
    assert_int_equal(v, 3);
    assert_true(sw_string_set_lookup(s, SW_STR_NULL, &v));
    assert_false(sw_string_set_lookup(s, SW_STR_LIT("invit"), NULL));
    assert_false(sw_string_set_lookup(s, SW_STR_LIT("INVITE "), NULL));
    /* '@' and '`' differ from letters only in bit 0x20: not the same */
    assert_int_equal(sw_string_set_add(s, SW_STR_LIT("a@b"), 4), SW_OK);
    assert_false(sw_string_set_lookup(s, SW_STR_LIT("a`b"), NULL));
    assert_int_equal(sw_string_set_count(s), 4);
    assert_int_equal(sw_string_set_add(s, SW_STR_LIT("Invite"), 9), SW_OK);
    assert_int_equal(sw_string_set_count(s), 4);
    assert_true(sw_string_set_lookup(s, SW_STR_LIT("INVITE"), &v));
    assert_int_equal(v, 9);
    /* growth keeps everything */
    char buf[32];
    for (uint32_t i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "Host-%u.Example", i);
        assert_int_equal(sw_string_set_add(s, sw_str_make(buf, (size_t)n), 100 + i), SW_OK);
    }
    assert_int_equal(sw_string_set_count(s), 5004);
    for (uint32_t i = 0; i < 5000; i += 7) {
        int n = snprintf(buf, sizeof buf, "host-%u.example", i);
        assert_true(sw_string_set_lookup(s, sw_str_make(buf, (size_t)n), &v));
        assert_int_equal(v, 100 + i);
    }
    assert_false(sw_string_set_lookup(NULL, SW_STR_LIT("x"), NULL));
    sw_string_set_free(s);
}

/* ---- pattern databases ------------------------------------------------------------ */
static void test_pattern_db(void **state)
{
    (void)state;
    char *lit = sw__pattern_escape_literal("a.b*c(", 6);
    assert_non_null(lit);
    sw_pattern_src pats[] = {
        {"friendly-scanner", 0}, {"sipvicious", 0}, /* list in slot 0 */
        {"^sipcli/", 1},                              /* slot 1 */
        {lit, 5},                                     /* a `contains` literal */
        {"pbx\\d+$", 63},                             /* the highest slot */
    };
    sw_pattern_db *db = NULL;
    int bad = 0;
    char msg[128];
    assert_int_equal(sw__pattern_db_build(pats, 5, &db, &bad, msg, sizeof msg), SW_OK);
    assert_non_null(db);
    assert_int_equal(sw__pattern_db_patterns(db), 5);
    sw_pattern_scratch *s = sw__pattern_scratch_new();
    assert_non_null(s);
    assert_int_equal(sw__pattern_scratch_grow(s, db), SW_OK);

    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("Friendly-Scanner 1.0")), 1u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("SIPVICIOUS")), 1u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("sipcli/1.8")), 2u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("x sipcli/1.8")), 0u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("SIPcli/ friendly-scanner")), 3u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("xx A.B*C( yy")), 1u << 5);
    /* the literal's metacharacters are literal */
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("aXbbc(")), 0u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("a.bbbc(")), 0u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("MyPBX42")), (uint64_t)1 << 63);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("MyPBX42 ")), 0u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("")), 0u);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_NULL), 0u);
    /* bytes that are not text */
    static const char bin[] = {'s', 'i', 'p', 'v', 'i', 'c', 'i', 'o', 'u', 's', 0, (char)0xff};
    assert_int_equal(sw_pattern_db_scan(db, s, sw_str_make(bin, sizeof bin)), 1u);
    sw_pattern_scratch_free(s);
    sw__pattern_db_free(db);
    free(lit);

    /* a bad pattern is named by its index, with Hyperscan's message */
    sw_pattern_src badpats[] = {{"good", 0}, {"bad(", 1}};
    db = NULL;
    assert_int_equal(sw__pattern_db_build(badpats, 2, &db, &bad, msg, sizeof msg), SW_EINVAL);
    assert_null(db);
    assert_int_equal(bad, 1);
    assert_true(strlen(msg) > 0);
    assert_int_equal(sw__pattern_check("bad(", msg, sizeof msg), SW_EINVAL);
    assert_true(strlen(msg) > 0);
    assert_int_equal(sw__pattern_check("^ok[a-z]+$", msg, sizeof msg), SW_OK);
}

static void test_escape_literal(void **state)
{
    (void)state;
    char *e = sw__pattern_escape_literal("aZ9.\\\"", 6);
    assert_non_null(e);
    assert_string_equal(e, "aZ9\\x2e\\x5c\\x22");
    free(e);
    e = sw__pattern_escape_literal("", 0);
    assert_non_null(e);
    assert_string_equal(e, "");
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_longest_match),
        cmocka_unit_test(test_prefix_range_boundaries),
        cmocka_unit_test(test_prefix_long_ranges),
        cmocka_unit_test(test_prefix_range_exhaustive),
        cmocka_unit_test(test_number_entries),
        cmocka_unit_test(test_cidr_v4_nested),
        cmocka_unit_test(test_cidr_v6),
        cmocka_unit_test(test_cidr_random_longest_match),
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_string_set),
        cmocka_unit_test(test_pattern_db),
        cmocka_unit_test(test_escape_literal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
