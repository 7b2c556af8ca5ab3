/* The state store of sipwalld: one in-process store shared by every
 * worker's engine (blocks, the daemon-wide event budget), resized on a
 * reload that changes the policy's `limits blocks`. */
#include <stdio.h>

#include "daemon/daemon.h"

uint32_t swd_state_capacity(const sw_policy *p)
{
    return p->limits.blocks ? p->limits.blocks : 65536;
}

/* Called by the reload before the new policy is published: the workers go
 * on with the store while it is resized (under its lock).  msg gets a
 * summary ("" when nothing changed). */
int swd_state_reload(swd_daemon *d, const sw_policy *p, char *msg, size_t msglen)
{
    msg[0] = '\0';
    if (!d->state)
        return SW_OK;
    sw_state_stats st;
    sw_state_stats_get(d->state, &st);
    uint32_t cap = swd_state_capacity(p);
    if (cap == st.capacity)
        return SW_OK;
    uint64_t moved, dropped;
    int r = sw_state_resize(d->state, cap, &moved, &dropped);
    if (r != SW_OK) {
        snprintf(msg, msglen, "no memory to resize the block store to %u entries", cap);
        return r;
    }
    snprintf(msg, msglen, "blocks table %u -> %u entries: %llu migrated, %llu dropped", st.capacity, cap,
             (unsigned long long)moved, (unsigned long long)dropped);
    if (dropped)
        swd_warn("reload", "limits: blocks table %u -> %u entries: %llu migrated, %llu dropped (did not fit; "
                 "the soonest to expire went first)", st.capacity, cap, (unsigned long long)moved,
                 (unsigned long long)dropped);
    else
        swd_info("reload", "limits: blocks table %u -> %u entries: %llu migrated, 0 dropped", st.capacity,
                 cap, (unsigned long long)moved);
    return SW_OK;
}
