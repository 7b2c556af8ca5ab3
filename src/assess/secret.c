/* Passwords a finding carries, for masking in the HTML report. */
#include <string.h>

#include "sipwall/assess.h"

void sw_assess_secret(sw_assess_finding *f, const char *secret)
{
    if (!secret[0] || f->nsecrets >= sizeof f->secrets / sizeof f->secrets[0])
        return;
    for (unsigned i = 0; i < f->nsecrets; i++)
        if (!strncmp(f->secrets[i], secret, sizeof f->secrets[0] - 1))
            return;
    size_t n = strlen(secret);
    if (n >= sizeof f->secrets[0])
        n = sizeof f->secrets[0] - 1;
    memcpy(f->secrets[f->nsecrets], secret, n);
    f->secrets[f->nsecrets][n] = 0;
    f->nsecrets++;
}
