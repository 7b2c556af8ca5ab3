/* The rule index (src/engine/index.c) changes no decision: for every
 * message of the test corpora and crafted oddities (lower-case and
 * extension methods, responses, malformed messages), under the shipped
 * default policy, the test policies and a policy of conditions written to
 * stress the class logic (negations, method sets with unknown names,
 * status of requests, empty lists), every condition node evaluates the
 * same with the index's shortcuts as without them, and a rule the index
 * leaves out of the message's class never matches. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/engine_int.h"
#include "sipwall/engine.h"
#include "sipwall/policy.h"

#ifndef SW_TEST_DATA
#define SW_TEST_DATA "tests/data"
#endif

static const char stress_policy[] =
    "policy \"index stress\" version \"1\"\n"
    "limits { sources 256; numbers 256; dialogs 256; blocks 64; event-keys 64; events-per-key 5; event-window 1m }\n"
    "list methods-odd strings { invite, Register, FOO }\n"
    "list nothing numbers { }\n"
    "list no-nets addresses { }\n"
    "rule cat1.t-not-invite { when not method == INVITE and request; action tag }\n"
    "rule cat1.t-method-set { when method in list methods-odd; action tag }\n"
    "rule cat1.t-method-inline { when method in { BYE, cancel, X-Ext }; action tag }\n"
    "rule cat1.t-status-req { when status >= 400 and not response; action tag }\n"
    "rule cat1.t-status-zero { when status == 0; action tag }\n"
    "rule cat1.t-neither { when not (request or response); action tag }\n"
    "rule cat1.t-malformed-or { when malformed or method != BYE; action tag }\n"
    "rule cat1.t-foo { when method == FOO or method == \"invite\"; action tag }\n"
    "rule cat1.t-empty { when a in list nothing or src in list no-nets; action tag }\n"
    "rule cat1.t-not-empty { when not a in list nothing and method == OPTIONS; action tag }\n"
    "rule cat1.t-resp-method { when response and method == INVITE and status < 200; action tag }\n"
    "rule cat1.t-req-false { when request == false and malformed == true; action tag }\n"
    "rule cat1.t-has { when has Via and not method; action tag }\n";

typedef struct msgbuf {
    char *data;
    size_t len;
} msgbuf;

static msgbuf *msgs;
static size_t nmsgs, capmsgs;

static void add_msg(const char *data, size_t len)
{
    if (nmsgs == capmsgs) {
        capmsgs = capmsgs ? capmsgs * 2 : 256;
        msgs = realloc(msgs, capmsgs * sizeof *msgs);
        assert_non_null(msgs);
    }
    msgs[nmsgs].data = malloc(len ? len : 1);
    assert_non_null(msgs[nmsgs].data);
    memcpy(msgs[nmsgs].data, data, len);
    msgs[nmsgs].len = len;
    nmsgs++;
}

static void add_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        static char buf[70000];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (n)
            add_msg(buf, n);
    }
    closedir(d);
}

static const char *crafted[] = {
    "invite sip:+447700900123@h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:+33123456789@h>;tag=1\r\n"
    "To: <sip:+447700900123@h>\r\nCall-ID: c1\r\nCSeq: 1 invite\r\nContent-Length: 0\r\n\r\n",
    "FOO sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2\r\nFrom: <sip:a@h>;tag=1\r\n"
    "To: <sip:b@h>\r\nCall-ID: c2\r\nCSeq: 1 FOO\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 486 Busy\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK3\r\nFrom: <sip:a@h>;tag=1\r\n"
    "To: <sip:b@h>;tag=2\r\nCall-ID: c3\r\nCSeq: 7 Invite\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK4\r\nFrom: <sip:a@h>;tag=1\r\n"
    "To: <sip:b@h>;tag=2\r\nCall-ID: c4\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK5\r\nFrom: <sip:a@h>;tag=1\r\n"
    "To: <sip:b@h>;tag=2\r\nCall-ID: c5\r\nCSeq: 2 cancel\r\nContent-Length: 0\r\n\r\n",
    "OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK6\r\nFrom: <sip:a@h>;tag=1\r\n"
    "To: <sip:b@h>\r\nCall-ID: c6\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n", /* malformed: CSeq method */
    "BYE sip:a@h SIP/2.0\r\nFrom: <sip:a@h>;tag=1\r\n\r\n",                  /* malformed: no Via */
    "SIP/2.0 404 Not Found\r\nVia: x\r\n\r\n",                               /* malformed response */
    "\x01\x02 garbage",                                                     /* neither */
    "REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK7\r\nFrom: <sip:a@h>;tag=1\r\n"
    "To: <sip:a@h>\r\nCall-ID: c7\r\nCSeq: 1 REGISTER\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n",
    "",
};

static size_t check_policy(const char *const *paths, size_t npaths)
{
    sw_policy *pol = NULL;
    static sw_policy_diags diags;
    memset(&diags, 0, sizeof diags);
    int r = sw_policy_load(paths, npaths, &pol, &diags);
    if (r != SW_OK) {
        for (uint32_t i = 0; i < diags.n; i++) {
            char line[600];
            if (sw_policy_diag_format(&diags.d[i], line, sizeof line) > 0)
                fprintf(stderr, "%s\n", line);
        }
    }
    assert_int_equal(r, SW_OK);
    sw_engine_config cfg = {.policy = pol, .passive = 1, .seed = 3};
    sw_engine *e = sw_engine_new(&cfg);
    assert_non_null(e);
    size_t checked = 0;
    for (size_t i = 0; i < nmsgs; i++) {
        for (int dir = 0; dir < 2; dir++) {
            sw_engine_msg m;
            memset(&m, 0, sizeof m);
            m.data = msgs[i].data;
            m.len = msgs[i].len;
            m.ts_ns = (int64_t)(1700000000 + i) * SW_NS_S;
            m.src.family = m.dst.family = 4;
            /* both ways between a documentation address and 10.0.0.1 */
            uint8_t a[4] = {192, 0, 2, (uint8_t)(1 + i % 50)}, b[4] = {10, 0, 0, 1};
            memcpy(m.src.ip, dir ? b : a, 4);
            memcpy(m.dst.ip, dir ? a : b, 4);
            m.src.port = m.dst.port = 5060;
            m.transport = SW_TRANSPORT_UDP;
            sw_verdict v;
            (void)sw_engine_screen(e, &m, &v);
            /* the facts and lazy values of this message are still in e */
            unsigned cls = sw__msg_class(&e->facts);
            assert_int_equal(cls, e->cls);
            for (uint32_t n = 0; n < pol->nconds; n++) {
                int plain = sw__cond_eval_unindexed(e, n);
                assert_int_equal(sw__cond_eval(e, n), plain);
                if (!sw__cmask_has(&e->rx.may[n], cls))
                    assert_false(plain);
                if (sw__cmask_has(&e->rx.must[n], cls))
                    assert_true(plain);
                checked++;
            }
            /* the class's rule list holds every rule that matches */
            const uint32_t *rl = e->rx.list + e->rx.start[cls], *rend = e->rx.list + e->rx.start[cls + 1];
            for (uint32_t k = 0; k < pol->nrules; k++) {
                int listed = 0;
                for (const uint32_t *q = rl; q < rend; q++)
                    listed |= *q == k;
                if (!listed)
                    assert_false(sw__cond_eval_unindexed(e, pol->rules[k].cond));
            }
        }
    }
    sw_engine_free(e);
    sw_policy_free(pol);
    return checked;
}

static void test_index_exact(void **state)
{
    (void)state;
    add_dir(SW_TEST_DATA "/ims");
    add_dir(SW_TEST_DATA "/torture");
    for (size_t i = 0; i < sizeof crafted / sizeof crafted[0]; i++)
        add_msg(crafted[i], strlen(crafted[i]));
    assert_true(nmsgs > 20);

    char tmpl[] = "/tmp/sw_index_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, stress_policy, sizeof stress_policy - 1), (ssize_t)(sizeof stress_policy - 1));
    close(fd);

    const char *def[] = {"builtin:default"};
    const char *tests[] = {"builtin:default", SW_TEST_DATA "/policy/main.policy",
                           SW_TEST_DATA "/policy/overlay.policy"};
    const char *stress[] = {tmpl};
    size_t checked = check_policy(def, 1);
    checked += check_policy(tests, 3);
    checked += check_policy(stress, 1);
    unlink(tmpl);
    assert_true(checked > 1000);
    for (size_t i = 0; i < nmsgs; i++)
        free(msgs[i].data);
    free(msgs);
}

/* The stress policy's class-decided rules do land where they should: a
 * lower-case "invite" request is in class INVITE (method == is
 * case-insensitive), and an extension method is in no method's class. */
static void test_index_classes(void **state)
{
    (void)state;
    sw_facts f;
    memset(&f, 0, sizeof f);
    f.is_request = 1;
    f.method = SW_METHOD_OTHER;
    f.method_name = SW_STR_LIT("invite");
    unsigned lower = sw__msg_class(&f);
    f.method = SW_METHOD_INVITE;
    f.method_name = SW_STR_LIT("INVITE");
    assert_int_equal(sw__msg_class(&f), lower);
    f.method = SW_METHOD_OTHER;
    f.method_name = SW_STR_LIT("INVITEX");
    assert_int_not_equal(sw__msg_class(&f), lower);
    f.malformed = 1;
    f.method_name = SW_STR_LIT("invite");
    assert_int_not_equal(sw__msg_class(&f), lower);
    f.malformed = 0;
    f.is_request = 0;
    f.status = 200;
    assert_int_not_equal(sw__msg_class(&f), lower);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_classes),
        cmocka_unit_test(test_index_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
