/* The SSH identification line and KEXINIT parser of NET-SSH-01: a real
 * OpenSSH KEXINIT packet, every truncation of it is incomplete (never an
 * over-read: each prefix is copied to an exact-size block), lists that
 * overrun the packet or carry control bytes are refused, the packet
 * length ceiling, and the weak-algorithm rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assess/host_int.h"

static size_t put_list(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (uint8_t)(n >> 24), p[1] = (uint8_t)(n >> 16), p[2] = (uint8_t)(n >> 8), p[3] = (uint8_t)n;
    memcpy(p + 4, s, n);
    return 4 + n;
}

/* A KEXINIT packet with the lists given (kex, hostkey, enc, mac). */
static size_t kexinit(uint8_t *out, const char *kex, const char *hk, const char *enc, const char *mac)
{
    uint8_t pl[4096];
    size_t n = 0;
    pl[n++] = 20;
    memset(pl + n, 0xab, 16);
    n += 16;
    const char *lists[10] = {kex, hk, enc, enc, mac, mac, "none", "none", "", ""};
    for (int i = 0; i < 10; i++)
        n += put_list(pl + n, lists[i]);
    pl[n++] = 0;
    memset(pl + n, 0, 4);
    n += 4;
    size_t pad = 8 - ((n + 5) % 8);
    if (pad < 4)
        pad += 8;
    uint32_t plen = (uint32_t)(n + pad + 1);
    out[0] = (uint8_t)(plen >> 24), out[1] = (uint8_t)(plen >> 16), out[2] = (uint8_t)(plen >> 8), out[3] = (uint8_t)plen;
    out[4] = (uint8_t)pad;
    memcpy(out + 5, pl, n);
    memset(out + 5 + n, 0, pad);
    return 4 + plen;
}

static void test_banner(void **state)
{
    (void)state;
    sw_str line;
    const char *b = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\nrest";
    assert_int_equal(sw__ssh_banner(b, strlen(b), &line), 40);
    assert_int_equal(line.len, 38);
    assert_memory_equal(line.ptr, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", 38);
    const char *pre = "hello\r\nSSH-1.99-x\n";
    assert_int_equal(sw__ssh_banner(pre, strlen(pre), &line), (long)strlen(pre));
    assert_int_equal(sw__ssh_banner("SSH-2.0-abc", 11, &line), SW_EINCOMPLETE);
    assert_int_equal(sw__ssh_banner("SSH-1.5-old\r\n", 13, &line), SW_EINVAL);
    assert_int_equal(sw__ssh_banner("SSH-2.0-a\0b\r\n", 13, &line), SW_EINVAL);
    assert_int_equal(sw__ssh_banner("SSH-2.0-a\rb\r\n", 13, &line), SW_EINVAL);
    char big[400];
    memset(big, 'x', sizeof big);
    assert_int_equal(sw__ssh_banner(big, sizeof big, &line), SW_ELIMIT);
    char many[17 * 3 + 20];
    size_t k = 0;
    for (int i = 0; i < 17; i++)
        many[k++] = 'a', many[k++] = '\r', many[k++] = '\n';
    memcpy(many + k, "SSH-2.0-x\r\n", 11);
    assert_int_equal(sw__ssh_banner(many, k + 11, &line), SW_ELIMIT);
}

static void test_kexinit(void **state)
{
    (void)state;
    uint8_t pkt[4096];
    size_t n = kexinit(pkt, "curve25519-sha256,diffie-hellman-group1-sha1", "ssh-ed25519,ssh-dss",
                       "aes128-ctr,aes128-cbc,3des-cbc", "hmac-sha2-256,hmac-sha1,hmac-md5");
    sw__ssh_kexinit k;
    assert_int_equal(sw__ssh_kexinit_parse(pkt, n, &k), (long)n);
    assert_int_equal(k.lists[SW__SSH_KEX].len, strlen("curve25519-sha256,diffie-hellman-group1-sha1"));
    size_t pos = 0;
    sw_str a;
    assert_true(sw__ssh_name_next(k.lists[SW__SSH_KEX], &pos, &a));
    assert_memory_equal(a.ptr, "curve25519-sha256", a.len);
    assert_true(sw__ssh_name_next(k.lists[SW__SSH_KEX], &pos, &a));
    assert_false(sw__ssh_name_next(k.lists[SW__SSH_KEX], &pos, &a));
    char weak[256];
    assert_int_equal(sw__ssh_weak(&k, weak, sizeof weak), 6);
    assert_string_equal(weak, "kex:diffie-hellman-group1-sha1 key:ssh-dss enc:aes128-cbc enc:3des-cbc "
                              "mac:hmac-sha1 mac:hmac-md5");
    char tiny[8];
    assert_int_equal(sw__ssh_weak(&k, tiny, sizeof tiny), 6);
    assert_true(strlen(tiny) < sizeof tiny);
    /* a hardened server: nothing weak */
    n = kexinit(pkt, "sntrup761x25519-sha512@openssh.com,curve25519-sha256", "ssh-ed25519,rsa-sha2-512",
                "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com", "hmac-sha2-256-etm@openssh.com");
    assert_int_equal(sw__ssh_kexinit_parse(pkt, n, &k), (long)n);
    assert_int_equal(sw__ssh_weak(&k, weak, sizeof weak), 0);
    /* every prefix is incomplete, read from an exact-size block */
    for (size_t i = 0; i < n; i++) {
        uint8_t *c = malloc(i ? i : 1);
        memcpy(c, pkt, i);
        assert_int_equal(sw__ssh_kexinit_parse(c, i, &k), SW_EINCOMPLETE);
        free(c);
    }
    /* a list longer than the packet */
    uint8_t bad[4096];
    memcpy(bad, pkt, n);
    bad[5 + 17 + 3] = 0xff;
    assert_int_equal(sw__ssh_kexinit_parse(bad, n, &k), SW_EINVAL);
    /* a control byte in a name */
    memcpy(bad, pkt, n);
    bad[5 + 17 + 4] = '\n';
    assert_int_equal(sw__ssh_kexinit_parse(bad, n, &k), SW_EINVAL);
    /* not KEXINIT */
    memcpy(bad, pkt, n);
    bad[5] = 21;
    assert_int_equal(sw__ssh_kexinit_parse(bad, n, &k), SW_EINVAL);
    /* padding below 4, larger than the packet */
    memcpy(bad, pkt, n);
    bad[4] = 3;
    assert_int_equal(sw__ssh_kexinit_parse(bad, n, &k), SW_EINVAL);
    bad[4] = 255;
    bad[0] = bad[1] = bad[2] = 0, bad[3] = 100;
    assert_int_equal(sw__ssh_kexinit_parse(bad, n, &k), SW_EINVAL);
    /* the ceiling */
    uint8_t huge[5] = {0, 0x01, 0x00, 0x00, 4};
    assert_int_equal(sw__ssh_kexinit_parse(huge, 5, &k), SW_ELIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_banner),
        cmocka_unit_test(test_kexinit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
