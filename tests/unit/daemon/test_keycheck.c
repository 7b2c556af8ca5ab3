/* Configured secrets (src/daemon/keycheck.c): known defaults, short and
 * low-variety keys and demo keys off loopback are judged weak, and the
 * reason never repeats the key; key files with group/other bits or a
 * stranger as owner are refused, 0600 and pkcs11: URIs pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/startcheck.h"

static swd_key_verdict judge(const char *k, int loopback, char *why, size_t len)
{
    return swd_weak_key(k, strlen(k), loopback, why, len);
}

static void test_weak_keys(void **state)
{
    (void)state;
    char why[256];
    static const char *const defaults[] = {"CHANGE-ME", "change-me", "secret", "Password", "s3cret",
                                           "key", "admin", "REPLACE_ME"};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        assert_int_equal(judge(defaults[i], 1, why, sizeof why), SWD_KEY_DEFAULT);
    assert_int_equal(judge("Zq8.k3yA", 1, why, sizeof why), SWD_KEY_WEAK);
    assert_non_null(strstr(why, "shorter than 16"));
    assert_null(strstr(why, "Zq8"));
    assert_int_equal(judge("123456789012345", 1, why, sizeof why), SWD_KEY_WEAK); /* 15 bytes */
    assert_int_equal(judge("abababababababababab", 1, why, sizeof why), SWD_KEY_WEAK);
    assert_non_null(strstr(why, "different characters"));
    assert_int_equal(judge("loopback-demo-key", 0, why, sizeof why), SWD_KEY_WEAK);
    assert_non_null(strstr(why, "loopback"));
    assert_int_equal(judge("Some-EXAMPLE-key-1", 0, why, sizeof why), SWD_KEY_WEAK);
    assert_int_equal(judge("loopback-demo-key", 1, why, sizeof why), SWD_KEY_OK);
    assert_int_equal(judge("9f86d081884c7d659a2feaa0c55ad015", 0, why, sizeof why), SWD_KEY_OK);
    assert_int_equal(judge("1234567890123456", 0, why, sizeof why), SWD_KEY_OK); /* 16, 10 distinct */
    /* the length given is the key: a longer buffer is not read past it */
    assert_int_equal(swd_weak_key("secretXYZ-more-bytes", 6, 0, why, sizeof why), SWD_KEY_DEFAULT);
}

static void test_key_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw-keycheck.XXXXXX", path[64], why[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/k.pem", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("-----BEGIN PRIVATE KEY-----\n", f);
    fclose(f);
    static const struct { mode_t mode; int ok; } cases[] = {
        {0600, 1}, {0400, 1}, {0640, 0}, {0644, 0}, {0604, 0}, {0660, 0}, {0700, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(chmod(path, cases[i].mode), 0);
        int rc = swd_key_file_check(path, -1, why, sizeof why);
        if (cases[i].ok)
            assert_int_equal(rc, SW_OK);
        else {
            assert_int_not_equal(rc, SW_OK);
            assert_non_null(strstr(why, path));
            assert_non_null(strstr(why, "chmod 600"));
        }
    }
    assert_int_equal(chmod(path, 0600), 0);
    if (geteuid() == 0) { /* a stranger's file: refused unless it is the service user */
        assert_int_equal(chown(path, 4242, 4242), 0);
        assert_int_not_equal(swd_key_file_check(path, -1, why, sizeof why), SW_OK);
        assert_non_null(strstr(why, "owned by uid 4242"));
        assert_int_equal(swd_key_file_check(path, 4242, why, sizeof why), SW_OK);
    }
    assert_int_not_equal(swd_key_file_check(dir, -1, why, sizeof why), SW_OK); /* not a file */
    assert_int_equal(swd_key_file_check("pkcs11:token=t;object=k", -1, why, sizeof why), SW_OK);
    /* a PIN in the config is refused and not repeated */
    assert_int_not_equal(swd_key_file_check("pkcs11:token=t;pin-value=428193;object=k", -1, why, sizeof why),
                         SW_OK);
    assert_null(strstr(why, "428193"));
    assert_non_null(strstr(why, "pin-value=***;object=k"));
    /* the PIN file is held to the key files' rule */
    char uri[128];
    snprintf(uri, sizeof uri, "pkcs11:token=t;object=k?pin-source=file:%s", path);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_not_equal(swd_key_file_check(uri, -1, why, sizeof why), SW_OK);
    assert_int_equal(chmod(path, 0600), 0);
    if (geteuid() == 0)
        assert_int_equal(chown(path, 0, 0), 0);
    assert_int_equal(swd_key_file_check(uri, -1, why, sizeof why), SW_OK);
    unlink(path);
    rmdir(dir);
}

/* The key of a `hep tls` listener is held to the same rule as every key:
 * the start check names the directive and the line. */
static void test_hep_tls_key(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw-keycheck-hep.XXXXXX", cert[64], key[64], text[256], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(cert, sizeof cert, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    const char *const files[] = {cert, key};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "w");
        assert_non_null(f);
        fputs("-----BEGIN X-----\n", f);
        fclose(f);
    }
    snprintf(text, sizeof text, "mode passive\nhep tls 127.0.0.1:9061 cert=%s key=%s verify=none\n", cert, key);
    swd_config c;
    if (swd_config_parse(text, strlen(text), "t.conf", &c, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(chmod(key, 0644), 0);
    assert_int_not_equal(swd_check_secrets(&c, err, sizeof err), SW_OK);
    assert_non_null(strstr(err, "t.conf:2: hep key"));
    assert_non_null(strstr(err, key));
    assert_int_equal(chmod(key, 0600), 0);
    if (swd_check_secrets(&c, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    swd_config_free(&c);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weak_keys),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_hep_tls_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
