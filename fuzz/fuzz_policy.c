/* fuzz_policy — libFuzzer target for the policy language.
 *
 * The input is one policy text, in an exactly sized heap block, loaded with
 * sw_policy_load_text (lexer, parser, checker, compiler, Hyperscan).  The
 * contracts checked beyond ASan and UBSan: a load either succeeds with a
 * policy or fails with no policy and at least one error; diagnostics stay
 * within their fixed buffers and format; a compiled policy is consistent
 * (condition children and lists in range, the unknown zone present, pattern
 * slots below 64) and its pattern databases scan the input itself.
 * Includes and list files resolve against a directory that does not exist,
 * so the run does not depend on the files around it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/policy.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_policy(const sw_policy *p, const char *text, size_t len)
{
    FZ_CHECK(p->unknown != NULL && p->unknown->is_zone);
    FZ_CHECK(p->npeers >= 1);
    for (uint32_t i = 0; i < p->npeers; i++)
        FZ_CHECK(p->peers[i]->index == i);
    for (uint32_t i = 0; i < p->nlists; i++)
        FZ_CHECK(p->lists[i]->index == i);
    for (uint32_t i = 0; i < p->nconds; i++) {
        const sw_cond *c = &p->conds[i];
        FZ_CHECK(c->op <= SW_COND_HAS);
        if (c->op == SW_COND_AND || c->op == SW_COND_OR)
            FZ_CHECK(c->a < p->nconds && c->b < p->nconds);
        if (c->op == SW_COND_NOT)
            FZ_CHECK(c->a < p->nconds);
        if ((c->op == SW_COND_IN && c->set == SW_SET_LIST) || c->op == SW_COND_MATCHES)
            FZ_CHECK(c->list < p->nlists);
        if (c->op == SW_COND_MATCHES) {
            FZ_CHECK(c->slot < 64);
            FZ_CHECK(c->field < SW_F__COUNT);
        }
    }
    for (uint32_t i = 0; i < p->nrules; i++)
        FZ_CHECK(p->rules[i].cond < p->nconds);
    /* peer lookups (address claims, with ports or not) land on a peer of
     * the policy, and the memo hint agrees with the answer */
    static const char *const srcs[] = {"192.0.2.10:5060", "192.0.2.10:5070", "10.0.0.1:1",
                                       "[2001:db8::1]:5061", "[::]:65535", "0.0.0.0:0"};
    for (size_t k = 0; k < sizeof srcs / sizeof srcs[0]; k++) {
        sw_addr a;
        FZ_CHECK(sw_addr_parse(srcs[k], &a) == SW_OK);
        int pm = -1;
        const sw_peer *pe = sw_policy_peer_lookup(p, &a, &pm);
        FZ_CHECK(pe != NULL && pe->index < p->npeers && p->peers[pe->index] == pe);
        FZ_CHECK(pm == 0 || pm == 1);
        FZ_CHECK(pe == sw_policy_peer_for(p, &a));
        if (!pm) { /* the answer holds for every port of the address */
            a.port = (uint16_t)(a.port ^ 0x1234);
            FZ_CHECK(sw_policy_peer_for(p, &a) == pe);
        }
        (void)sw_policy_partner_host(p, &a);
    }
    sw_pattern_scratch *s = sw_policy_scratch_new(p);
    FZ_CHECK(s != NULL);
    for (int f = 0; f < SW_F__COUNT; f++)
        if (p->patterns[f])
            (void)sw_pattern_db_scan(p->patterns[f], s, sw_str_make(text, len));
    sw_pattern_scratch_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    if (size)
        memcpy(buf, data, size);
    static sw_policy_diags diags;
    sw_policy *p = NULL;
    int rc = sw_policy_load_text("fuzz.policy", buf, size, "/nonexistent-fuzz-dir", &p, &diags);
    if (rc == SW_OK) {
        FZ_CHECK(p != NULL);
        FZ_CHECK(diags.errors == 0);
        check_policy(p, buf, size);
        sw_policy_free(p);
    } else {
        FZ_CHECK(p == NULL);
        FZ_CHECK(rc == SW_EINVAL || rc == SW_EIO || rc == SW_ENOMEM);
        FZ_CHECK(diags.errors >= 1);
        FZ_CHECK(diags.n <= SW_POLICY_MAX_DIAGS && diags.n >= 1);
        for (uint32_t i = 0; i < diags.n; i++) {
            char line[1024];
            FZ_CHECK(memchr(diags.d[i].msg, '\0', sizeof diags.d[i].msg) != NULL);
            FZ_CHECK(sw_policy_diag_format(&diags.d[i], line, sizeof line) > 0);
        }
    }
    free(buf);
    return 0;
}
