/* The inter-worker inbox: records come out whole and in order, a full ring
 * refuses instead of overwriting, wrap-around keeps records intact, and a
 * producer thread against a consumer thread loses nothing it was told was
 * accepted. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/daemon.h"

static void test_order_and_content(void **state)
{
    (void)state;
    swd_ring *r = swd_ring_new(4096);
    assert_non_null(r);
    assert_int_equal(swd_ring_used(r), 0);
    size_t used = 0;
    for (uint32_t i = 0; i < 10; i++) {
        char data[64];
        snprintf(data, sizeof data, "message %u", i);
        assert_int_equal(swd_ring_put(r, i + 1, &i, sizeof i, data, strlen(data)), SW_OK);
        /* the metrics' depth: grows by each whole record (16-byte header, 8-aligned) */
        size_t now = swd_ring_used(r);
        assert_true(now >= used + 16 + sizeof i + strlen(data) && now <= used + 16 + sizeof i + strlen(data) + 7);
        used = now;
    }
    for (uint32_t i = 0; i < 10; i++) {
        swd_ring_rec rec;
        assert_int_equal(swd_ring_peek(r, &rec), 1);
        assert_int_equal(rec.kind, i + 1);
        uint32_t h;
        assert_int_equal(rec.hlen, sizeof h);
        memcpy(&h, rec.hdr, sizeof h);
        assert_int_equal(h, i);
        char want[64];
        snprintf(want, sizeof want, "message %u", i);
        assert_int_equal(rec.dlen, strlen(want));
        assert_memory_equal(rec.data, want, rec.dlen);
        swd_ring_pop(r);
    }
    swd_ring_rec rec;
    assert_int_equal(swd_ring_peek(r, &rec), 0);
    assert_int_equal(swd_ring_used(r), 0);
    swd_ring_free(r);
}

static void test_full_and_wrap(void **state)
{
    (void)state;
    swd_ring *r = swd_ring_new(4096);
    char data[1000];
    memset(data, 'x', sizeof data);
    int accepted = 0;
    while (swd_ring_put(r, 1, NULL, 0, data, sizeof data) == SW_OK)
        accepted++;
    assert_true(accepted >= 3 && accepted <= 4);
    /* too big for the ring at all */
    static char huge[8192];
    assert_int_equal(swd_ring_put(r, 1, NULL, 0, huge, sizeof huge), SW_ELIMIT);
    /* drain and refill many times with odd sizes: every record intact */
    unsigned seq = 0, got = 0;
    swd_ring_rec rec;
    while (swd_ring_peek(r, &rec)) {
        swd_ring_pop(r);
    }
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (size_t)(round * 37 % 900);
        memset(data, (int)(seq & 0xff), n);
        if (swd_ring_put(r, seq, NULL, 0, data, n) == SW_OK)
            seq++;
        if (round % 3 == 0 && swd_ring_peek(r, &rec)) {
            assert_int_equal(rec.kind, got);
            for (size_t i = 0; i < rec.dlen; i++)
                assert_int_equal(((const unsigned char *)rec.data)[i], got & 0xff);
            swd_ring_pop(r);
            got++;
        }
    }
    while (swd_ring_peek(r, &rec)) {
        assert_int_equal(rec.kind, got);
        swd_ring_pop(r);
        got++;
    }
    assert_int_equal(got, seq);
    swd_ring_free(r);
}

typedef struct prod_arg {
    swd_ring *r;
    uint32_t n, accepted;
} prod_arg;

static void *producer(void *p)
{
    prod_arg *a = p;
    for (uint32_t i = 0; i < a->n; i++) {
        char data[200];
        size_t len = 8 + i % 190;
        memset(data, (int)(i & 0xff), len);
        while (swd_ring_put(a->r, i, &i, sizeof i, data, len) != SW_OK)
            ; /* spin until the consumer makes room: bounded by the consumer's loop */
        a->accepted++;
    }
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    swd_ring *r = swd_ring_new(8192);
    prod_arg a = {r, 200000, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer, &a), 0);
    uint32_t next = 0;
    while (next < a.n) {
        swd_ring_rec rec;
        if (!swd_ring_peek(r, &rec))
            continue;
        assert_int_equal(rec.kind, next);
        assert_int_equal(rec.dlen, 8 + next % 190);
        assert_int_equal(((const unsigned char *)rec.data)[rec.dlen - 1], next & 0xff);
        swd_ring_pop(r);
        next++;
    }
    pthread_join(th, NULL);
    assert_int_equal(a.accepted, a.n);
    swd_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_content),
        cmocka_unit_test(test_full_and_wrap),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
