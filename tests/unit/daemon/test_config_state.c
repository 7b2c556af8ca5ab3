/* sipwalld's `state redis` directive (docs/cluster.md): every option lands
 * in its field, the defaults, and each error names its line: a password
 * file readable by others, a user without a password, TLS files without
 * ca=, a bad address, a second `state` line. */
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

static char err[1024];
static char dir[64];

static int parse(const char *extra, swd_config *c)
{
    char text[8192];
    snprintf(text, sizeof text, "mode passive\nhep udp 127.0.0.1:9060\n%s\n", extra);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static void put(const char *name, const char *text, mode_t mode)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(p, mode);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_cfg_state_XXXXXX");
    assert_non_null(mkdtemp(dir));
    put("pass", "secret\n", 0600);
    put("open.pass", "secret\n", 0644);
    put("ca.pem", "x\n", 0644);
    put("c.pem", "x\n", 0644);
    put("c.key", "x\n", 0600);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *files[] = {"pass", "open.pass", "ca.pem", "c.pem", "c.key"};
    for (int i = 0; i < 5; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static void test_full_and_defaults(void **state)
{
    (void)state;
    char line[1024];
    snprintf(line, sizeof line,
             "state redis 127.0.0.1:6380 user=sipwall password-file=%s/pass prefix=fw: node=edge-1 "
             "ca=%s/ca.pem cert=%s/c.pem key=%s/c.key server-name=redis.example queue=1024",
             dir, dir, dir, dir);
    swd_config c;
    if (parse(line, &c) != SW_OK)
        fail_msg("%s", err);
    const swd_state_redis *r = &c.state_redis;
    assert_int_equal(r->line, 3);
    assert_int_equal(r->addr.port, 6380);
    assert_string_equal(r->user, "sipwall");
    assert_non_null(strstr(r->password_file, "/pass"));
    assert_string_equal(r->prefix, "fw:");
    assert_string_equal(r->node, "edge-1");
    assert_non_null(strstr(r->ca, "ca.pem"));
    assert_non_null(strstr(r->cert, "c.pem"));
    assert_non_null(strstr(r->key, "c.key"));
    assert_string_equal(r->server_name, "redis.example");
    assert_int_equal(r->queue, 1024);
    swd_config_free(&c);

    if (parse("state redis [::1]:6379", &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.state_redis.addr.family, 6);
    assert_string_equal(c.state_redis.prefix, "sipwall:");
    assert_null(c.state_redis.node);
    assert_null(c.state_redis.user);
    assert_null(c.state_redis.ca);
    assert_int_equal(c.state_redis.queue, 0);
    swd_config_free(&c);

    if (parse("", &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.state_redis.line, 0);
    swd_config_free(&c);
}

static void expect_error(const char *line, const char *want)
{
    swd_config c;
    if (parse(line, &c) == SW_OK) {
        swd_config_free(&c);
        fail_msg("accepted: %s", line);
    }
    if (!strstr(err, want))
        fail_msg("'%s': error '%s' lacks '%s'", line, err, want);
    if (!strstr(err, "t.conf:3:"))
        fail_msg("'%s': error '%s' does not name line 3", line, err);
}

static void test_errors(void **state)
{
    (void)state;
    char line[1024];
    snprintf(line, sizeof line, "state redis 127.0.0.1:6379 user=sipwall password-file=%s/open.pass", dir);
    expect_error(line, "readable by others (mode 644; chmod 600)");
    expect_error("state redis 127.0.0.1:6379 user=sipwall", "user= needs password-file=");
    snprintf(line, sizeof line, "state redis 127.0.0.1:6379 password-file=%s/missing", dir);
    expect_error(line, "No such file");
    snprintf(line, sizeof line, "state redis 127.0.0.1:6379 cert=%s/c.pem key=%s/c.key", dir, dir);
    expect_error(line, "need ca=");
    snprintf(line, sizeof line, "state redis 127.0.0.1:6379 ca=%s/ca.pem cert=%s/c.pem", dir, dir);
    expect_error(line, "cert= and key= go together");
    expect_error("state redis redis.example:6379", "state redis");
    expect_error("state redis 127.0.0.1", "state redis");
    expect_error("state memcached 127.0.0.1:1", "usage: state redis");
    expect_error("state redis 127.0.0.1:6379 queue=2", "queue");
    expect_error("state redis 127.0.0.1:6379 color=red", "unknown option");
    expect_error("state redis 127.0.0.1:6379 node=\"a b\"", "node=");
    /* plain text off loopback needs insecure=yes (or ca= for TLS) */
    expect_error("state redis 192.0.2.20:6379", "192.0.2.20:6379 is plain text on a non-loopback address");
    expect_error("state redis 192.0.2.20:6379 insecure=maybe", "insecure='maybe' is not yes or no");
    snprintf(line, sizeof line, "state redis 192.0.2.20:6380 ca=%s/ca.pem insecure=yes", dir);
    expect_error(line, "insecure= is for plain-text Redis");
    swd_config c;
    if (parse("state redis 192.0.2.20:6379 insecure=yes", &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.state_redis.insecure, 1);
    swd_config_free(&c);
    snprintf(line, sizeof line, "state redis 192.0.2.20:6380 ca=%s/ca.pem", dir);
    if (parse(line, &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.state_redis.insecure, 0);
    swd_config_free(&c);
    if (parse("state redis 127.0.0.1:6379", &c) != SW_OK) /* loopback: plain is fine */
        fail_msg("%s", err);
    swd_config_free(&c);
    assert_int_not_equal(parse("state redis 127.0.0.1:6379\nstate redis 127.0.0.1:6380", &c), SW_OK);
    assert_non_null(strstr(err, "t.conf:4: state already given on line 3"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_and_defaults),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
