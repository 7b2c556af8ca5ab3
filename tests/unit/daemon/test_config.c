/* sipwalld's configuration file and secret: a full config lands in every
 * field, defaults, the example in etc/ parses, each kind of error names its
 * line with a useful message, table and size limits, mutated input never
 * crashes, and the secret is created once (0600, random, unique), loaded
 * again unchanged, and refused when exposed, short or malformed. */
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
#include "guard.h"

#define DATA SW_TEST_DATA "/daemon"

static char err[1024];

static sw_addr addr(const char *s)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(s, &a), SW_OK);
    return a;
}

static void assert_addr(const sw_addr *got, const char *want)
{
    sw_addr w = addr(want);
    char buf[SW_ADDR_STRLEN];
    assert_true(sw_addr_format(got, buf, sizeof buf) > 0);
    if (!sw_addr_eq(got, &w))
        fail_msg("address %s, want %s", buf, want);
}

/* A whole file, NUL-terminated (sw_test_read_file's buffer is not). */
static char *read_text(const char *path, size_t *len)
{
    char *raw = sw_test_read_file(path, len);
    assert_non_null(raw);
    char *t = malloc(*len + 1);
    assert_non_null(t);
    memcpy(t, raw, *len);
    t[*len] = '\0';
    free(raw);
    return t;
}

static int parse(const char *text, swd_config *c)
{
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

/* ---- valid configurations ------------------------------------------------------ */

static void test_full_roundtrip(void **state)
{
    (void)state;
    swd_config c;
    int rc = swd_config_load(DATA "/full.conf", &c, err, sizeof err);
    if (rc != SW_OK)
        fail_msg("full.conf: %s", err);
    assert_string_equal(c.path, DATA "/full.conf");
    assert_int_equal(c.mode, SWD_MODE_INLINE);
    assert_int_equal(c.workers, 4);
    assert_string_equal(c.user, "sipwall");
    assert_string_equal(c.group, "sipgroup");
    assert_string_equal(c.pid_file, "/run/sipwalld-test.pid");
    assert_int_equal(c.npolicies, 2);
    assert_string_equal(c.policies[0], "builtin:default");
    assert_string_equal(c.policies[1], DATA "/../policy/partners.policy");
    assert_string_equal(c.location_feed, "/var/lib/sipwall/locations.tsv");
    assert_string_equal(c.events, "/var/log/sip wall/events.jsonl");
    assert_string_equal(c.log, "syslog");
    assert_int_equal(c.log_level, SWD_LOG_DEBUG);
    assert_string_equal(c.admin, "/run/sipwalld-test.sock");
    assert_string_equal(c.secret_path, DATA "/state/secret"); /* relative to the file */
    assert_int_equal(c.topology_hiding, 0);

    assert_int_equal(c.nlistens, 4);
    const swd_listen *l = c.listens;
    assert_string_equal(l[0].name, "ic-udp");
    assert_int_equal(l[0].transport, SW_TRANSPORT_UDP);
    assert_addr(&l[0].addr, "0.0.0.0:5060");
    assert_int_equal(l[0].side, SW_SIDE_INTERCONNECT);
    assert_int_equal(l[0].has_advertise, 1);
    assert_addr(&l[0].advertise, "203.0.113.5:5060");
    assert_null(l[0].cert);
    assert_int_equal(l[0].line, 17);

    assert_string_equal(l[1].name, "tcp-ic-2");
    assert_int_equal(l[1].transport, SW_TRANSPORT_TCP);
    assert_addr(&l[1].addr, "[::]:5060");
    assert_int_equal(l[1].has_advertise, 0);
    assert_int_equal(l[1].line, 18);

    assert_string_equal(l[2].name, "ic-tls");
    assert_int_equal(l[2].transport, SW_TRANSPORT_TLS);
    assert_addr(&l[2].addr, "0.0.0.0:5061");
    assert_string_equal(l[2].cert, DATA "/tls/server.crt");
    assert_string_equal(l[2].key, DATA "/tls/server.key");
    assert_string_equal(l[2].ca, DATA "/tls/partners-ca.pem");
    assert_int_equal(l[2].verify, SWD_VERIFY_OPTIONAL);
    assert_int_equal(l[2].line, 19);

    assert_string_equal(l[3].name, "udp-core-4");
    assert_int_equal(l[3].side, SW_SIDE_CORE);
    assert_addr(&l[3].addr, "10.0.0.2:5060");
    assert_int_equal(l[3].has_advertise, 1);
    assert_addr(&l[3].advertise, "[2001:db8::2]:5062");

    assert_int_equal(c.nforward, 3); /* two lines append */
    assert_int_equal(c.forward[0].transport, SW_TRANSPORT_UDP);
    assert_addr(&c.forward[0].addr, "10.0.0.10:5060");
    assert_int_equal(c.forward[1].transport, SW_TRANSPORT_TCP);
    assert_addr(&c.forward[1].addr, "[2001:db8::10]:5070");
    assert_int_equal(c.forward[2].transport, SW_TRANSPORT_TLS);
    assert_addr(&c.forward[2].addr, "10.0.0.11:5061");

    assert_int_equal(c.nroutes, 2);
    assert_string_equal(c.routes[0].domain, "example.net"); /* lowercased */
    assert_int_equal(c.routes[0].nhops, 2);
    assert_int_equal(c.routes[0].hops[0].transport, SW_TRANSPORT_TLS);
    assert_addr(&c.routes[0].hops[0].addr, "198.51.100.7:5061");
    assert_addr(&c.routes[0].hops[1].addr, "198.51.100.8:5061");
    assert_int_equal(c.routes[0].line, 23);
    assert_string_equal(c.routes[1].domain, "ims.mnc001.mcc001.3gppnetwork.org");
    assert_int_equal(c.routes[1].nhops, 1);
    assert_int_equal(c.routes[1].hops[0].transport, SW_TRANSPORT_UDP);

    assert_string_equal(c.tls_client_cert, DATA "/tls/client.crt");
    assert_string_equal(c.tls_client_key, DATA "/tls/client.key");
    assert_string_equal(c.tls_client_ca, DATA "/tls/partners-ca.pem");
    assert_int_equal(c.tls_client_verify, SWD_VERIFY_REQUIRED);

    assert_int_equal(c.limits.max_connections, 1000);
    assert_int_equal(c.limits.max_connections_per_ip, 10);
    assert_int_equal(c.limits.idle_timeout_s, 120);
    assert_int_equal(c.limits.handshake_timeout_s, 5);
    assert_int_equal(c.limits.message_timeout_s, 20);
    assert_int_equal(c.limits.max_conn_buffer, 128 * 1024);
    assert_int_equal(c.limits.max_send_queue, 2 * 1024 * 1024);
    assert_int_equal(c.limits.udp_batch, 32);
    assert_int_equal(c.limits.socket_buffer, 8388608);

    assert_int_equal(c.ncaptures, 2);
    assert_string_equal(c.captures[0].iface, "eth0");
    assert_string_equal(c.captures[0].filter, "udp port 5060 or tcp port 5060");
    assert_int_equal(c.captures[0].snaplen, 9000);
    assert_int_equal(c.captures[0].buffer, 64u << 20);
    assert_int_equal(c.captures[0].line, 30);
    assert_string_equal(c.captures[1].iface, "any");
    assert_null(c.captures[1].filter);
    assert_int_equal(c.captures[1].snaplen, 65535);
    assert_int_equal(c.captures[1].buffer, 33554432);

    assert_int_equal(c.nheps, 2);
    assert_int_equal(c.heps[0].transport, SW_TRANSPORT_UDP);
    assert_addr(&c.heps[0].addr, "0.0.0.0:9060");
    assert_string_equal(c.heps[0].auth_key, "s3cret key");
    assert_int_equal(c.heps[1].transport, SW_TRANSPORT_TCP);
    assert_addr(&c.heps[1].addr, "[::1]:9061");
    assert_null(c.heps[1].auth_key);
    assert_int_equal(c.heps[1].line, 33);

    swd_config_free(&c);
    assert_null(c.path);
    assert_int_equal(c.nlistens, 0);
    swd_config_free(&c); /* twice is harmless */
}

static const char MINIMAL[] = "mode inline\n"
                              "secret /nonexistent/secret\n"
                              "policy builtin:default\n"
                              "listen udp 127.0.0.1:5060 side=interconnect\n"
                              "listen udp 127.0.0.1:5070 side=core\n"
                              "forward udp:127.0.0.1:5080\n";

static void test_defaults(void **state)
{
    (void)state;
    swd_config c;
    if (parse(MINIMAL, &c) != SW_OK)
        fail_msg("%s", err);
    swd_limits d;
    swd_limits_default(&d);
    assert_int_equal(d.max_connections, 4096);
    assert_int_equal(d.max_connections_per_ip, 64);
    assert_int_equal(d.idle_timeout_s, 300);
    assert_int_equal(d.handshake_timeout_s, 10);
    assert_int_equal(d.message_timeout_s, 30);
    assert_int_equal(d.max_conn_buffer, 262144);
    assert_int_equal(d.max_send_queue, 1048576);
    assert_int_equal(d.udp_batch, 64);
    assert_int_equal(d.socket_buffer, 4194304);
    assert_memory_equal(&c.limits, &d, sizeof d);
    assert_int_equal(c.workers, 0);
    assert_int_equal(c.log_level, SWD_LOG_INFO);
    assert_string_equal(c.log, "stderr");
    assert_int_equal(c.topology_hiding, 1);
    assert_int_equal(c.tls_client_verify, SWD_VERIFY_REQUIRED);
    assert_null(c.user);
    assert_null(c.group);
    assert_null(c.events);
    assert_null(c.admin);
    assert_null(c.pid_file);
    assert_null(c.location_feed);
    assert_string_equal(c.secret_path, "/nonexistent/secret");
    assert_string_equal(c.listens[0].name, "udp-ic-1");
    assert_string_equal(c.listens[1].name, "udp-core-2");
    assert_int_equal(c.ncaptures + c.nheps + c.nroutes, 0);
    swd_config_free(&c);

    /* The mode line may be missing (inline); CRLF, a BOM, comments, quotes. */
    const char *crlf = "\xef\xbb\xbf# comment\r\n"
                       "secret \"/a dir/s\" # trailing comment\r\n"
                       "policy builtin:default\r\n"
                       "listen udp 127.0.0.1:5060 side=interconnect name=\"x\"\r\n"
                       "\t \r\n"
                       "listen udp 127.0.0.1:5070 side=core\r\n"
                       "forward udp:127.0.0.1:5080";
    if (parse(crlf, &c) != SW_OK)
        fail_msg("%s", err);
    assert_string_equal(c.secret_path, "/a dir/s");
    assert_string_equal(c.listens[0].name, "x");
    assert_int_equal(c.listens[1].line, 6);
    swd_config_free(&c);
}

/* limits side=…: the parser limits per side, tighter defaults for the
 * interconnect, each key on its own or all on one line. */
static void test_side_limits(void **state)
{
    (void)state;
    swd_config c;
    if (parse(MINIMAL, &c) != SW_OK)
        fail_msg("%s", err);
    sw_sip_limits core;
    sw_sip_limits_default(&core);
    assert_int_equal(c.sip_limits[SW_SIDE_CORE].max_msg_size, core.max_msg_size);
    assert_int_equal(c.sip_limits[SW_SIDE_CORE].max_headers, core.max_headers);
    assert_int_equal(c.sip_limits[SW_SIDE_CORE].max_header_len, core.max_header_len);
    assert_int_equal(c.sip_limits[SW_SIDE_CORE].max_via, core.max_via);
    const sw_sip_limits *ic = &c.sip_limits[SW_SIDE_INTERCONNECT];
    assert_int_equal(ic->max_msg_size, 32768);
    assert_int_equal(ic->max_headers, 128);
    assert_int_equal(ic->max_header_len, 4096);
    assert_int_equal(ic->max_via, 32);
    swd_config_free(&c);

    char text[2048];
    snprintf(text, sizeof text, "%s%s", MINIMAL,
             "limits side=interconnect max-size=4k max-headers=40\n"
             "limits side=interconnect max-header-len=1024 max-via=8\n"
             "limits side=core max-size=65535 max-headers=512 idle-timeout=60\n");
    /* idle-timeout is not a per-side key */
    assert_int_not_equal(parse(text, &c), SW_OK);
    snprintf(text, sizeof text, "%s%s", MINIMAL,
             "limits side=interconnect max-size=4k max-headers=40\n"
             "limits side=interconnect max-header-len=1024 max-via=8\n"
             "limits side=core max-size=65535 max-headers=512\n"
             "limits idle-timeout=60\n");
    if (parse(text, &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(ic->max_msg_size, 4096);
    assert_int_equal(ic->max_headers, 40);
    assert_int_equal(ic->max_header_len, 1024);
    assert_int_equal(ic->max_via, 8);
    assert_int_equal(c.sip_limits[SW_SIDE_CORE].max_msg_size, 65535);
    assert_int_equal(c.sip_limits[SW_SIDE_CORE].max_headers, 512);
    assert_int_equal(c.sip_limits[SW_SIDE_CORE].max_via, core.max_via);
    assert_int_equal(c.limits.idle_timeout_s, 60);
    swd_config_free(&c);
}

static void test_passive(void **state)
{
    (void)state;
    swd_config c;
    if (swd_config_load(DATA "/passive.conf", &c, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.mode, SWD_MODE_PASSIVE);
    assert_int_equal(c.npolicies, 1); /* none given: the shipped default */
    assert_string_equal(c.policies[0], "builtin:default");
    assert_null(c.secret_path);
    assert_int_equal(c.ncaptures, 1);
    assert_string_equal(c.captures[0].filter, "port 5060");
    assert_int_equal(c.nheps, 1);
    assert_int_equal(c.nlistens + c.nforward, 0);
    swd_config_free(&c);
}

/* hep tls: HEP3 over TLS on a TCP listener, mutual TLS by default. */
static void test_hep_tls(void **state)
{
    (void)state;
    swd_config c;
    const char *text = "mode passive\n"
                       "hep tls 127.0.0.1:9061 cert=" DATA "/tls/server.crt key=" DATA "/tls/server.key ca=" DATA
                       "/tls/partners-ca.pem auth-key=0123456789abcdef0123\n"
                       "hep tls [::1]:9062 cert=" DATA "/tls/server.crt key=" DATA "/tls/server.key verify=none\n"
                       "hep tcp 127.0.0.1:9063\n";
    if (parse(text, &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.nheps, 3);
    assert_int_equal(c.heps[0].transport, SW_TRANSPORT_TCP);
    assert_int_equal(c.heps[0].tls, 1);
    assert_int_equal(c.heps[0].verify, SWD_VERIFY_REQUIRED);
    assert_string_equal(c.heps[0].ca, DATA "/tls/partners-ca.pem");
    assert_string_equal(c.heps[0].auth_key, "0123456789abcdef0123");
    assert_int_equal(c.heps[1].tls, 1);
    assert_int_equal(c.heps[1].verify, SWD_VERIFY_NONE);
    assert_null(c.heps[1].ca);
    assert_int_equal(c.heps[2].tls, 0);
    assert_null(c.heps[2].cert);
    swd_config_free(&c);
}

/* Replaces every occurrence of from by to (caller frees). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *q = strstr(s, from); q; q = strstr(q + fl, from))
        n++;
    char *out = malloc(strlen(s) + n * tl + 1), *o = out;
    assert_non_null(out);
    for (const char *q; (q = strstr(s, from)) != NULL; s = q + fl) {
        memcpy(o, s, (size_t)(q - s));
        o += q - s;
        memcpy(o, to, tl);
        o += tl;
    }
    strcpy(o, s);
    return out;
}

/* etc/sipwalld.conf.example with the TLS files pointed at the test ones;
 * then with its commented passive lines switched on as well. */
static void test_example(void **state)
{
    (void)state;
    size_t len;
    char *text = read_text(SW_TEST_DATA "/../../etc/sipwalld.conf.example", &len);
    char *t1 = replace_all(text, "/etc/sipwall/tls/", DATA "/tls/");
    swd_config c;
    if (swd_config_parse(t1, strlen(t1), "sipwalld.conf.example", &c, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.mode, SWD_MODE_INLINE);
    assert_true(c.nlistens >= 4);
    assert_true(c.nforward >= 1);
    assert_int_equal(c.ncaptures + c.nheps, 0);
    swd_config_free(&c);

    char *t2 = replace_all(t1, "\n#capture ", "\ncapture ");
    char *t3 = replace_all(t2, "\n#hep ", "\nhep ");
    if (swd_config_parse(t3, strlen(t3), "sipwalld.conf.example", &c, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    assert_true(c.ncaptures >= 1);
    assert_true(c.nheps >= 1);
    swd_config_free(&c);
    free(t3);
    free(t2);
    free(t1);
    free(text);
}

/* ---- errors ------------------------------------------------------------------------ */

typedef struct err_case {
    const char *text; /* appended to MINIMAL when append is set */
    int append;
    int line;         /* 0: the message has no line */
    const char *msg;  /* must occur in the message */
} err_case;

/* MINIMAL has 6 lines: an appended case's first line is 7. */
static const err_case err_cases[] = {
    {"frobnicate 1\n", 1, 7, "unknown directive 'frobnicate'"},
    {"mode sideways\n", 0, 1, "mode: 'sideways' is not inline or passive"},
    {"workers 0\n", 1, 7, "workers: 0 is out of range (1..64)"},
    {"workers 65\n", 1, 7, "out of range (1..64)"},
    {"workers 99999999999999999999999\n", 1, 7, "out of range"},
    {"workers 4x\n", 1, 7, "'4x' is not a number"},
    {"workers -1\n", 1, 7, "'-1' is not a number"},
    {"workers\n", 1, 7, "usage: workers"},
    {"mode inline\n", 1, 7, "mode already given on line 1"},
    {"listen udp 127.0.0.1:0 side=core\n", 1, 7, "port '0' must be 1..65535"},
    {"listen udp 127.0.0.1:65536 side=core\n", 1, 7, "port '65536' must be 1..65535"},
    {"listen udp 127.0.0.1 side=core\n", 1, 7, "needs a port"},
    {"listen udp 127.0.0.1:5090\n", 1, 7, "side=core or side=interconnect is required"},
    {"listen udp 127.0.0.1:5090 side=middle\n", 1, 7, "'middle' is not core or interconnect"},
    {"listen sctp 127.0.0.1:5090 side=core\n", 1, 7, "unknown transport 'sctp'"},
    {"listen udp ::1:5090 side=core\n", 1, 7, "IPv6 addresses in brackets"},
    {"listen udp [::1:5090 side=core\n", 1, 7, "closing ']'"},
    {"listen udp example.com:5090 side=core\n", 1, 7, "is not an IPv4 address"},
    {"listen udp 127.0.0.1:5090 side=core colour=blue\n", 1, 7, "unknown option 'colour'"},
    {"listen udp 127.0.0.1:5090 side=core side=core\n", 1, 7, "side= given twice"},
    {"listen udp 127.0.0.1:5090 side=core oops\n", 1, 7, "expected KEY=VALUE, got 'oops'"},
    {"listen udp 127.0.0.1:5090 side=core cert=x.pem\n", 1, 7, "cert= is only for tls listeners"},
    {"listen udp 127.0.0.1:5090 side=core advertise=0.0.0.0:5090\n", 1, 7, "must be a real address"},
    {"listen udp 127.0.0.1:5090 side=core name=bad/name\n", 1, 7, "name='bad/name' must be"},
    {"\nlisten udp 127.0.0.1:5060 side=core\n", 1, 8, "udp 127.0.0.1:5060 is already a udp listener on line 4"},
    {"listen tcp 127.0.0.1:5061 side=core\nlisten tls 127.0.0.1:5061 side=interconnect "
     "cert=tls/server.crt key=tls/server.key verify=none\n",
     1, 8, "already a tcp listener on line 7"},
    {"listen udp 127.0.0.1:5090 side=core name=udp-ic-1\n", 1, 7, "name udp-ic-1 already used on line 4"},
    {"listen tls 127.0.0.1:5061 side=interconnect verify=none\n", 1, 7, "cert= and key= are required"},
    {"listen tls 127.0.0.1:5061 side=interconnect cert=" DATA "/tls/server.crt key=" DATA
     "/tls/server.key\n",
     1, 7, "verify=required needs ca="},
    {"listen tls 127.0.0.1:5061 side=interconnect cert=/nonexistent/x.crt key=" DATA
     "/tls/server.key verify=none\n",
     1, 7, "listen cert /nonexistent/x.crt: No such file or directory"},
    {"listen tls 127.0.0.1:5061 side=interconnect cert=" DATA "/tls key=" DATA
     "/tls/server.key verify=none\n",
     1, 7, "not a regular file"},
    {"listen tls 127.0.0.1:5061 side=interconnect cert=a key=b verify=maybe\n", 1, 7,
     "verify='maybe' is not none, optional or required"},
    {"limits idle-timeout=0\n", 1, 7, "limits idle-timeout: 0 is out of range (1..86400)"},
    {"limits side=interconnect max-size=100\n", 1, 7,
     "limits side=interconnect max-size: 100 is out of range (512..65535)"},
    {"limits side=core max-headers=2k\n", 1, 7, "limits side=core max-headers: '2k' is not a number"},
    {"limits side=core max-via=0\n", 1, 7, "max-via: 0 is out of range (1..1024)"},
    {"limits side=dmz max-size=4k\n", 1, 7, "limits: side=dmz is not core or interconnect"},
    {"limits side=core\n", 1, 7, "usage: limits side=core max-size="},
    {"limits side=core max-size=4k idle-timeout=3\n", 1, 7,
     "unknown option 'idle-timeout' (known: max-size, max-headers, max-header-len, max-via)"},
    {"limits side=core max-size=4k\nlimits side=interconnect max-size=4k\nlimits side=core max-size=8k\n", 1, 9,
     "limits: side=core max-size already set on line 7"},
    {"limits idle-timeout=60 speed=fast\n", 1, 7, "unknown option 'speed' (known: max-connections,"},
    {"limits idle-timeout=60\nlimits idle-timeout=61\n", 1, 8, "idle-timeout already set on line 7"},
    {"limits max-conn-buffer=4096\n", 1, 7, "max-conn-buffer: 4096 is out of range (65536..67108864)"},
    {"limits socket-buffer=5g\n", 1, 7, "socket-buffer: 5g is out of range"},
    {"limits socket-buffer=4q\n", 1, 7, "'4q' is not a number (digits, optionally followed by k, m or g)"},
    {"limits udp-batch=4k\n", 1, 7, "udp-batch: '4k' is not a number"},
    {"limits max-connections=10 max-connections-per-ip=11\n", 1, 7,
     "max-connections-per-ip (11) is above max-connections (10)"},
    {"limits max-connections=\n", 1, 7, "max-connections= needs a value"},
    {"log-level verbose\n", 1, 7, "'verbose' is not error, warn, info or debug"},
    {"topology-hiding maybe\n", 1, 7, "'maybe' is not on or off"},
    {"user root wheel extra\n", 1, 7, "usage: user USER [GROUP]"},
    {"user -root\n", 1, 7, "'-root' is not a valid user name"},
    {"policy builtin:strict\n", 1, 7, "unknown built-in policy 'builtin:strict'"},
    {"policy builtin:default\n", 1, 7, "already given on line 3"},
    {"policy /nonexistent/p.policy\n", 1, 7, "policy /nonexistent/p.policy: No such file"},
    {"admin /" "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789\n",
     1, 7, "socket path longer than 107 bytes"},
    {"route 192.0.2.1 udp:192.0.2.1:5060\n", 1, 7, "'192.0.2.1' is not a domain name"},
    {"route bad_domain.net udp:192.0.2.1:5060\n", 1, 7, "is not a domain name"},
    {"route example.net udp:192.0.2.1\n", 1, 7, "needs a port"},
    {"route example.net\n", 1, 7, "usage: route DOMAIN"},
    {"route example.net udp:192.0.2.1:5060\nroute EXAMPLE.net udp:192.0.2.2:5060\n", 1, 8,
     "EXAMPLE.net already routed on line 7"},
    {"route example.net tls:192.0.2.1:5061\n", 1, 7, "a tls next hop needs 'tls-client ca=FILE'"},
    {"forward udp:0.0.0.0:5060\n", 1, 7, "is the unspecified address"},
    {"forward sctp:10.0.0.1:5060\n", 1, 7, "unknown transport 'sctp'"},
    {"forward 10.0.0.1\n", 1, 7, "is not TRANSPORT:ADDR:PORT"},
    {"forward udp:127.0.0.1:5080\n", 1, 7, "udp:127.0.0.1:5080 is listed twice"},
    {"forward tcp:10.9.9.9:5060\nforward udp:127.0.0.1:5070\n", 1, 8,
     "forward: next hop udp:127.0.0.1:5070 is our listener on line 5 (a loop)"},
    {"listen udp 127.0.0.1:5090 side=core advertise=192.0.2.9:5060\n"
     "route x.example udp:192.0.2.9:5060\n",
     1, 8, "route: next hop udp:192.0.2.9:5060 is our listener on line 7 (a loop)"},
    {"tls-client cert=" DATA "/tls/client.crt verify=none\n", 1, 7, "cert= and key= go together"},
    {"tls-client verify=required\n", 1, 7, "tls-client: verify=required needs ca="},
    {"capture eth0 snaplen=10\n", 1, 7, "capture snaplen: 10 is out of range (256..262144)"},
    {"capture eth0\ncapture eth0\n", 1, 8, "eth0 already captured on line 7"},
    {"capture averyveryverylongifname\n", 1, 7, "is not an interface name"},
    {"hep sctp 127.0.0.1:9060\n", 1, 7, "hep: unknown transport 'sctp' (udp, tcp or tls)"},
    {"hep tls 127.0.0.1:9060\n", 1, 7, "hep tls: needs cert= and key="},
    {"hep tls 127.0.0.1:9060 cert=a key=b\n", 1, 7, "hep tls: verify=required needs ca="},
    {"hep tls 127.0.0.1:9060 cert=a key=b verify=none insecure=yes\n", 1, 7,
     "hep tls: insecure= is for plain-text HEP"},
    {"hep tls 127.0.0.1:9060 cert=/nonexistent/x.crt key=" DATA "/tls/server.key verify=none\n", 1, 7,
     "hep cert /nonexistent/x.crt: No such file or directory"},
    {"hep tcp 127.0.0.1:9060 cert=" DATA "/tls/server.crt\n", 1, 7,
     "hep: cert=, key=, ca= and verify= are for hep tls"},
    {"hep tls 127.0.0.1:9060 cert=a key=b verify=maybe\n", 1, 7, "verify='maybe' is not none"},
    {"hep udp 127.0.0.1:5060\n", 1, 7, "the same address as the listener on line 4"},
    {"events \"/var/log/x\n", 1, 7, "unterminated \"quote\""},
    {"events a b\n", 1, 7, "usage: events PATH"},
    {"log \"\"\n", 1, 7, "log: empty path"},
    {"workers 2\x01\n", 1, 7, "control character 0x01"},
    {"pid-file /run/x.pid\npid-file /run/y.pid\n", 1, 8, "pid-file already given on line 7"},
    /* semantic checks of the whole file: the mode line, or no line without one */
    {"mode inline\nsecret /s\npolicy builtin:default\nlisten udp 127.0.0.1:5060 side=interconnect\n"
     "listen udp 127.0.0.1:5070 side=core\n",
     0, 1, "inline mode needs 'forward'"},
    {"secret /s\npolicy builtin:default\nlisten udp 127.0.0.1:5070 side=core\nforward udp:10.0.0.1:5060\n",
     0, 0, "inline mode needs a listener with side=interconnect"},
    {"mode inline\nsecret /s\npolicy builtin:default\nlisten udp 127.0.0.1:5060 side=interconnect\n"
     "forward udp:10.0.0.1:5060\n",
     0, 1, "inline mode needs a listener with side=core"},
    {"mode inline\nsecret /s\nlisten udp 127.0.0.1:5060 side=interconnect\n"
     "listen udp 127.0.0.1:5070 side=core\nforward udp:10.0.0.1:5060\n",
     0, 1, "inline mode needs at least one 'policy'"},
    {"mode inline\npolicy builtin:default\nlisten udp 127.0.0.1:5060 side=interconnect\n"
     "listen udp 127.0.0.1:5070 side=core\nforward udp:10.0.0.1:5060\n",
     0, 1, "inline mode needs 'secret FILE'"},
    {"mode passive\nevents /tmp/e\n", 0, 1, "passive mode needs a 'capture' or 'hep' source"},
    {"mode passive\ncapture eth0\n\nforward udp:10.0.0.1:5060\n", 0, 4, "forward is only for mode inline"},
    {"mode passive\nhep udp 127.0.0.1:9060\nlisten udp 127.0.0.1:5060 side=core\n", 0, 3,
     "listen is only for mode inline"},
};

static void check_error(const char *text, int want_line, const char *want_msg, size_t idx)
{
    swd_config c;
    memset(&c, 0xa5, sizeof c); /* parse must not depend on what was there */
    int rc = swd_config_parse(text, strlen(text), "t.conf", &c, err, sizeof err);
    if (rc == SW_OK) {
        swd_config_free(&c);
        fail_msg("case %zu: accepted, want \"%s\"", idx, want_msg);
    }
    assert_true(rc < 0);
    char prefix[32];
    if (want_line)
        snprintf(prefix, sizeof prefix, "t.conf:%d: ", want_line);
    else
        snprintf(prefix, sizeof prefix, "t.conf: ");
    if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, want_msg) == NULL)
        fail_msg("case %zu: got \"%s\", want \"%s…%s…\"", idx, err, prefix, want_msg);
    /* A failed parse leaves nothing behind to free. */
    assert_null(c.path);
    assert_null(c.policies);
    assert_int_equal(c.nlistens, 0);
}

static void test_errors(void **state)
{
    (void)state;
    /* "t.conf" has no directory: relative paths are relative to the working directory. */
    assert_int_equal(chdir(SW_TEST_DATA "/daemon"), 0);
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const err_case *ec = &err_cases[i];
        char text[8192];
        int n = snprintf(text, sizeof text, "%s%s", ec->append ? MINIMAL : "", ec->text);
        assert_true(n > 0 && (size_t)n < sizeof text);
        check_error(text, ec->line, ec->msg, i);
    }
}

/* Errors that need generated input: long lines, NUL bytes, too many words,
 * full tables, the file size. */
static void test_input_limits(void **state)
{
    (void)state;
    size_t cap = SWD_CONFIG_MAX_SIZE + 64;
    char *text = malloc(cap);
    assert_non_null(text);

    /* 4096 bytes on a line is fine, 4097 is not. */
    int n = snprintf(text, cap, "%s# ", MINIMAL);
    memset(text + n, 'x', SWD_CONFIG_MAX_LINE - 2);
    strcpy(text + n + SWD_CONFIG_MAX_LINE - 2, "\n");
    swd_config c;
    if (parse(text, &c) != SW_OK)
        fail_msg("%s", err);
    swd_config_free(&c);
    strcpy(text + n + SWD_CONFIG_MAX_LINE - 2, "x\n");
    check_error(text, 7, "line longer than 4096 bytes", 1000);

    /* A NUL byte (parse takes a length, so it is seen). */
    memcpy(text, "mode inline\nwor\0kers 2\n", 23);
    assert_int_not_equal(swd_config_parse(text, 23, "t.conf", &c, err, sizeof err), SW_OK);
    assert_string_equal(err, "t.conf:2: NUL byte in the file");

    /* Too many words. */
    n = snprintf(text, cap, "%sforward", MINIMAL);
    for (int i = 0; i < 45; i++)
        n += snprintf(text + n, cap - (size_t)n, " udp:10.0.0.%d:5060", i + 1);
    snprintf(text + n, cap - (size_t)n, "\n");
    check_error(text, 7, "more than 40 words on one line", 1001);

    /* Full tables: the first entry past each maximum is the error. */
    n = snprintf(text, cap, "%s", MINIMAL); /* 2 listeners, then 30 more: the maximum */
    for (int i = 0; i < SWD_MAX_LISTENS - 2; i++)
        n += snprintf(text + n, cap - (size_t)n, "listen tcp 127.0.0.1:%d side=core\n", 6000 + i);
    if (parse(text, &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.nlistens, SWD_MAX_LISTENS);
    swd_config_free(&c);
    n += snprintf(text + n, cap - (size_t)n, "listen tcp 127.0.0.2:7000 side=core\n");
    check_error(text, 6 + SWD_MAX_LISTENS - 1, "listen: more than 32 listeners", 1003);

    n = snprintf(text, cap, "%s", MINIMAL);
    for (int i = 0; i <= SWD_MAX_ROUTES; i++)
        n += snprintf(text + n, cap - (size_t)n, "route d%d.example udp:10.1.0.%d:5060\n", i, i + 1);
    check_error(text, 7 + SWD_MAX_ROUTES, "route: more than 64 routes", 1004);

    n = snprintf(text, cap, "%s", MINIMAL);
    for (int i = 0; i < SWD_MAX_FORWARD; i++)
        n += snprintf(text + n, cap - (size_t)n, "forward udp:10.2.0.%d:5060\n", i + 1);
    check_error(text, 6 + SWD_MAX_FORWARD, "forward: more than 8 next hops", 1005);

    n = snprintf(text, cap, "%sroute x.example", MINIMAL);
    for (int i = 0; i <= SWD_MAX_ROUTE_HOPS; i++)
        n += snprintf(text + n, cap - (size_t)n, " udp:10.3.0.%d:5060", i + 1);
    snprintf(text + n, cap - (size_t)n, "\n");
    check_error(text, 7, "route: more than 8 next hops", 1006);

    /* Over 1 MiB: refused before any line is read. */
    memset(text, '#', SWD_CONFIG_MAX_SIZE + 1);
    assert_int_equal(swd_config_parse(text, SWD_CONFIG_MAX_SIZE + 1, "t.conf", &c, err, sizeof err),
                     SW_ELIMIT);
    assert_string_equal(err, "t.conf: larger than 1048576 bytes");

    /* The same through a file, and a file that is not there. */
    char dir[] = "/tmp/swcfgXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/big.conf", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, SWD_CONFIG_MAX_SIZE + 1, f), SWD_CONFIG_MAX_SIZE + 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(swd_config_load(path, &c, err, sizeof err), SW_ELIMIT);
    assert_non_null(strstr(err, "larger than 1048576 bytes"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(swd_config_load(path, &c, err, sizeof err), SW_EIO);
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(swd_config_load(dir, &c, err, sizeof err), SW_EIO);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(rmdir(dir), 0);
    free(text);
}

/* Mutations of full.conf, each in a guard-page buffer: whatever the result,
 * no crash, no over-read, an error message with the file name, nothing
 * leaked (ASan).  Bounded: a fixed number of rounds from a fixed seed. */
static void test_mutations_never_crash(void **state)
{
    (void)state;
    size_t len;
    char *orig = sw_test_read_file(DATA "/full.conf", &len);
    assert_non_null(orig);
    char *buf = malloc(len + 64);
    assert_non_null(buf);
    static const char pool[] = " \t\n\"#=:[]\\\0\r0123456789abcxyz.-";
    sw_guard g = {0};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned ok = 0, bad = 0;
    for (int round = 0; round < 3000; round++) {
        size_t n = len;
        memcpy(buf, orig, len);
        int edits = 1 + (int)(x % 4);
        for (int e = 0; e < edits; e++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = (size_t)(x >> 8) % n;
            switch (x % 3) {
            case 0: buf[at] = pool[(x >> 40) % (sizeof pool - 1)]; break;
            case 1: n = at + 1; break; /* truncate */
            default: memmove(buf + at, buf + at + 1, n - at - 1), n--; break;
            }
            if (n == 0)
                n = 1;
        }
        const char *in = sw_guard_copy(&g, buf, n);
        swd_config c;
        int rc = swd_config_parse(in, n, DATA "/full.conf", &c, err, sizeof err);
        if (rc == SW_OK) {
            ok++;
            assert_true(c.nlistens <= SWD_MAX_LISTENS && c.nroutes <= SWD_MAX_ROUTES);
            swd_config_free(&c);
        } else {
            bad++;
            assert_true(rc < 0);
            assert_int_equal(strncmp(err, DATA "/full.conf", strlen(DATA "/full.conf")), 0);
        }
    }
    assert_true(ok > 0 && bad > 0); /* the mutations reach both outcomes */
    sw_guard_release(&g);
    free(buf);
    free(orig);
}

/* ---- the secret ---------------------------------------------------------------------- */

static char tmpdir[64];

static int secret_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/swsecretXXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int secret_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", tmpdir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    unlink(path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_secret_create_and_load(void **state)
{
    (void)state;
    char a[128], b[128];
    tmp_path(a, sizeof a, "a.secret");
    tmp_path(b, sizeof b, "b.secret");
    uint8_t ka[32], kb[32], again[32];

    /* Created at first start, exactly 0600 even under a strict umask. */
    mode_t old = umask(0277);
    int rc = swd_secret_load_or_create(a, ka, err, sizeof err);
    umask(old);
    if (rc != SW_OK)
        fail_msg("%s", err);
    struct stat st;
    assert_int_equal(stat(a, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 65); /* 64 hex digits and a newline */

    /* The file holds the returned 32 bytes. */
    size_t len;
    char *text = sw_test_read_file(a, &len);
    assert_non_null(text);
    assert_int_equal(len, 65);
    assert_int_equal(text[64], '\n');
    for (int i = 0; i < 32; i++) {
        unsigned v;
        char two[3] = {text[2 * i], text[2 * i + 1], 0};
        assert_int_equal(sscanf(two, "%2x", &v), 1);
        assert_int_equal(v, ka[i]);
    }
    free(text);

    /* Another installation gets another key. */
    if (swd_secret_load_or_create(b, kb, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    assert_memory_not_equal(ka, kb, 32);

    /* The second start loads the same key and leaves the file alone. */
    if (swd_secret_load_or_create(a, again, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    assert_memory_equal(ka, again, 32);
    struct stat st2;
    assert_int_equal(stat(a, &st2), 0);
    assert_int_equal(st2.st_mtim.tv_sec, st.st_mtim.tv_sec);
    assert_int_equal(st2.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
}

static void test_secret_formats(void **state)
{
    (void)state;
    char p[128];
    tmp_path(p, sizeof p, "fmt.secret");
    uint8_t raw[32], k[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(0xf0 ^ (i * 7));

    /* 32 raw bytes. */
    write_file(p, raw, 32, 0600);
    if (swd_secret_load_or_create(p, k, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    assert_memory_equal(k, raw, 32);

    /* Upper-case hex, CRLF. */
    char hex[80];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02X", raw[i]);
    memcpy(hex + 64, "\r\n", 2);
    write_file(p, hex, 66, 0400);
    memset(k, 0, sizeof k);
    if (swd_secret_load_or_create(p, k, err, sizeof err) != SW_OK)
        fail_msg("%s", err);
    assert_memory_equal(k, raw, 32);

    /* Refused: readable by others, by the group, short, not hex, all zero. */
    struct {
        const void *data;
        size_t len;
        mode_t mode;
        int rc;
        const char *msg;
    } bad[] = {
        {hex, 65, 0644, SW_EAUTH, "mode 0644 lets group or others at the key"},
        {hex, 65, 0640, SW_EAUTH, "chmod 600"},
        {hex, 65, 0602, SW_EAUTH, "mode 0602"},
        {raw, 31, 0600, SW_EINVAL, "31 bytes, shorter than the 32"},
        {"", 0, 0600, SW_EINVAL, "0 bytes"},
        {"zz00000000000000000000000000000000000000000000000000000000000000\n", 65, 0600,
         SW_EINVAL, "neither 32 raw bytes nor 64 hex digits"},
        {hex, 40, 0600, SW_EINVAL, "neither 32 raw bytes"},
        {"0000000000000000000000000000000000000000000000000000000000000000", 64, 0600, SW_EINVAL,
         "all zero bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(p, bad[i].data, bad[i].len, bad[i].mode);
        int rc = swd_secret_load_or_create(p, k, err, sizeof err);
        if (rc != bad[i].rc || strstr(err, bad[i].msg) == NULL || strstr(err, p) == NULL)
            fail_msg("case %zu: rc %d \"%s\", want %d \"%s\"", i, rc, err, bad[i].rc, bad[i].msg);
        /* Refused files are left as they were, not replaced by a fresh key. */
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal((size_t)st.st_size, bad[i].len);
    }

    /* A symlink is not followed (someone could point it at their own key). */
    char link[128];
    tmp_path(link, sizeof link, "link.secret");
    write_file(p, hex, 65, 0600);
    assert_int_equal(symlink(p, link), 0);
    assert_int_not_equal(swd_secret_load_or_create(link, k, err, sizeof err), SW_OK);
    assert_non_null(strstr(err, link));

    /* A directory, and a file in a directory that does not exist. */
    assert_int_equal(swd_secret_load_or_create(tmpdir, k, err, sizeof err), SW_EINVAL);
    assert_non_null(strstr(err, "not a regular file"));
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/secret", tmpdir);
    assert_int_equal(swd_secret_load_or_create(missing, k, err, sizeof err), SW_EIO);
    assert_non_null(strstr(err, "cannot create"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_roundtrip),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_side_limits),
        cmocka_unit_test(test_passive),
        cmocka_unit_test(test_hep_tls),
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_input_limits),
        cmocka_unit_test(test_mutations_never_crash),
        cmocka_unit_test(test_errors),
        cmocka_unit_test_setup_teardown(test_secret_create_and_load, secret_setup, secret_teardown),
        cmocka_unit_test_setup_teardown(test_secret_formats, secret_setup, secret_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
