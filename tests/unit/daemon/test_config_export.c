/* sipwalld's `export syslog` directive (docs/export.md): every option
 * lands in its field, defaults, several exporters, and each kind of error
 * names its line with a useful message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "sipwall/event.h"

static char err[1024];
static char dir[64];
static char base[4096]; /* the minimal passive config, then the export lines */

static int parse(const char *extra, swd_config *c)
{
    char text[8192];
    snprintf(text, sizeof text, "%s%s\n", base, extra);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_cfg_export_XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *files[] = {"ca.pem", "c.pem", "c.key"};
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs("x\n", f);
        fclose(f);
    }
    snprintf(base, sizeof base, "mode passive\nhep udp 127.0.0.1:9060\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *files[] = {"ca.pem", "c.pem", "c.key"};
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

/* "ca=DIR/ca.pem cert=DIR/c.pem key=DIR/c.key" */
static const char *certs(void)
{
    static char s[512];
    snprintf(s, sizeof s, "ca=%s/ca.pem cert=%s/c.pem key=%s/c.key", dir, dir, dir);
    return s;
}

static void test_full(void **state)
{
    (void)state;
    char line[2048];
    snprintf(line, sizeof line,
             "export syslog siem-1 tls collector.example.net:6514 %s server-name=siem.example.net "
             "store=/var/lib/sipwall/events.db format=cef facility=4 window=128 batch=32 hostname=fw-1.example\n"
             "export syslog dt dtls [2001:db8::5]:6514 %s store=/x.db format=ecs dtls-rekey=30 dtls-rate=800\n"
             "export syslog plain tls 192.0.2.9:6514 %s store=/x.db",
             certs(), certs(), certs());
    swd_config c;
    if (parse(line, &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.nexports, 3);
    const swd_export *x = &c.exports[0];
    assert_string_equal(x->name, "siem-1");
    assert_int_equal(x->transport, SW_EXPORT_TLS);
    assert_string_equal(x->host, "collector.example.net");
    assert_int_equal(x->port, 6514);
    assert_string_equal(x->server_name, "siem.example.net");
    assert_string_equal(x->store, "/var/lib/sipwall/events.db");
    assert_int_equal(x->format, SW_EXPORT_CEF);
    assert_int_equal(x->facility, 4);
    assert_int_equal(x->window, 128);
    assert_int_equal(x->batch, 32);
    assert_int_equal(x->line, 3);
    assert_string_equal(x->hostname, "fw-1.example");
    x = &c.exports[1];
    assert_int_equal(x->transport, SW_EXPORT_DTLS);
    assert_string_equal(x->host, "2001:db8::5");
    assert_int_equal(x->format, SW_EXPORT_ECS);
    assert_int_equal(x->dtls_rekey_s, 30);
    assert_int_equal(x->dtls_rate, 800);
    assert_null(x->server_name); /* the exporter checks the host then */
    /* defaults */
    x = &c.exports[2];
    assert_string_equal(x->host, "192.0.2.9");
    assert_int_equal(x->format, SW_EXPORT_RFC5424);
    assert_int_equal(x->facility, 16);
    assert_int_equal(x->window, 1024);
    assert_int_equal(x->batch, 256);
    assert_int_equal(x->dtls_rekey_s, 10);
    assert_int_equal(x->dtls_rate, 5000);
    assert_null(x->hostname);
    swd_config_free(&c);
    assert_int_equal(c.nexports, 0);
}

/* Without store= an exporter reads the daemon's events-db. */
static void test_store_default(void **state)
{
    (void)state;
    char line[2048];
    snprintf(line, sizeof line,
             "events-db /var/lib/sipwall/events.db\n"
             "export syslog a tls h.example:6514 %s\n"
             "export syslog b tls h.example:6514 %s store=/other.db",
             certs(), certs());
    swd_config c;
    if (parse(line, &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.nexports, 2);
    assert_string_equal(c.exports[0].store, "/var/lib/sipwall/events.db");
    assert_string_equal(c.exports[1].store, "/other.db");
    swd_config_free(&c);
}

static void expect_error(const char *line, const char *want)
{
    swd_config c;
    if (parse(line, &c) == SW_OK) {
        swd_config_free(&c);
        fail_msg("accepted: %s", line);
    }
    if (!strstr(err, "t.conf:3:") || !strstr(err, want))
        fail_msg("for '%s': got '%s', want t.conf:3: … %s", line, err, want);
}

static void test_errors(void **state)
{
    (void)state;
    char l[2048];
    expect_error("export syslog", "usage: export syslog NAME");
    expect_error("export kafka x tls h:1", "usage: export syslog NAME");
    snprintf(l, sizeof l, "export syslog a udp h.example:1 %s store=/x", certs());
    expect_error(l, "transport 'udp' is not tls or dtls");
    snprintf(l, sizeof l, "export syslog a tls h.example %s store=/x", certs());
    expect_error(l, "is not HOST:PORT");
    snprintf(l, sizeof l, "export syslog a tls h.example:0 %s store=/x", certs());
    expect_error(l, "export port");
    snprintf(l, sizeof l, "export syslog a tls bad_host!:6514 %s store=/x", certs());
    expect_error(l, "neither an IP address nor a host name");
    snprintf(l, sizeof l, "export syslog a/b tls h.example:6514 %s store=/x", certs());
    expect_error(l, "name 'a/b'");
    expect_error("export syslog a tls h.example:6514 store=/x", "ca=, cert= and key= are required");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s", certs());
    expect_error(l, "export a: no store to read: add an events-db line or store=FILE");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s store=/x format=leef", certs());
    expect_error(l, "format 'leef' is not rfc5424, cef or ecs");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s store=/x facility=24", certs());
    expect_error(l, "facility");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s store=/x window=0", certs());
    expect_error(l, "window");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s store=/x dtls-rekey=5", certs());
    expect_error(l, "dtls-rekey= is for dtls only");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s store=/x dtls-rate=5", certs());
    expect_error(l, "dtls-rate= is for dtls only");
    snprintf(l, sizeof l, "export syslog a dtls h.example:6514 %s store=/x dtls-rate=0", certs());
    expect_error(l, "dtls-rate");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s store=/x \"hostname=a b\"", certs());
    expect_error(l, "hostname= must be 1..255 printable ASCII");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s store=/x colour=red", certs());
    expect_error(l, "unknown option 'colour'");
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 ca=%s/none.pem cert=%s/c.pem key=%s/c.key store=/x",
             dir, dir, dir);
    expect_error(l, "export ca");
    /* a second exporter of the same name: the error is on its line (4) */
    snprintf(l, sizeof l, "export syslog a tls h.example:6514 %s store=/x\n"
                          "export syslog a tls h.example:6515 %s store=/x", certs(), certs());
    swd_config c;
    assert_int_not_equal(parse(l, &c), SW_OK);
    assert_non_null(strstr(err, "t.conf:4: export: name a already used on line 3"));
    /* the table's ceiling */
    char many[8192] = "";
    for (int i = 0; i <= SWD_MAX_EXPORTS; i++) {
        char one[600];
        snprintf(one, sizeof one, "%sexport syslog e%d tls h.example:6514 %s store=/x", i ? "\n" : "",
                 i, certs());
        strcat(many, one);
    }
    assert_int_not_equal(parse(many, &c), SW_OK);
    assert_non_null(strstr(err, "more than 8 exporters"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_store_default),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
