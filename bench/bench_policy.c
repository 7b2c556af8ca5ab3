/* bench_policy — compile time of policies with many partners (defect R9).
 *
 *   bench_policy [N...]     (default: 10000 20000 50000 100000 200000)
 *
 * For each N, writes in memory a policy of N partners (one address and one
 * number range each, like bench/../reproducers' 09-big-policy.sh), then
 * times sw_policy_load_text on CLOCK_MONOTONIC (best of 3) and prints the
 * time, the time per partner and its ratio to the smallest N's: a linear
 * compiler keeps the ratio near 1, a quadratic one grows it with N.
 * Nothing is asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipwall/policy.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *make_policy(unsigned long n, size_t *len)
{
    size_t cap = n * 112 + 256;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    size_t o = (size_t)snprintf(t, cap, "policy \"big\" version \"1\"\n"
                                        "home { country-code 44; ranges +4477009 }\n");
    for (unsigned long i = 0; i < n; i++)
        o += (size_t)snprintf(t + o, cap - o,
                              "partner p%06lu { role interconnect; address 10.%lu.%lu.%lu/32; "
                              "ranges +49%08lu }\n",
                              i, i >> 16 & 255, i >> 8 & 255, i & 255, i);
    *len = o;
    return t;
}

int main(int argc, char **argv)
{
    unsigned long dflt[] = {10000, 20000, 50000, 100000, 200000};
    unsigned long ns[32];
    size_t k = 0;
    for (int i = 1; i < argc && k < 32; i++)
        ns[k++] = strtoul(argv[i], NULL, 10);
    if (k == 0) {
        memcpy(ns, dflt, sizeof dflt);
        k = sizeof dflt / sizeof dflt[0];
    }
    printf("%10s %10s %10s %12s %8s\n", "partners", "bytes", "best s", "us/partner", "ratio");
    double base = 0;
    for (size_t j = 0; j < k; j++) {
        size_t len = 0;
        char *text = make_policy(ns[j], &len);
        if (!text) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        double best = 1e30;
        for (int r = 0; r < 3; r++) {
            sw_policy *p = NULL;
            sw_policy_diags d;
            double t0 = now_s();
            int rc = sw_policy_load_text("big.policy", text, len, NULL, &p, &d);
            double t = now_s() - t0;
            if (rc != SW_OK) {
                char line[600];
                if (d.n && sw_policy_diag_format(&d.d[0], line, sizeof line) > 0)
                    fprintf(stderr, "%s\n", line);
                fprintf(stderr, "bench_policy: %lu partners do not compile: %s\n", ns[j], sw_strerror(rc));
                free(text);
                return 1;
            }
            sw_policy_free(p);
            if (t < best)
                best = t;
        }
        double per = best / (double)ns[j] * 1e6;
        if (base == 0)
            base = per;
        printf("%10lu %10zu %10.3f %12.2f %8.2f\n", ns[j], len, best, per, per / base);
        fflush(stdout);
        free(text);
    }
    return 0;
}
