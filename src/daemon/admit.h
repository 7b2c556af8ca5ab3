/* Connection admission shared by all workers: how many stream connections
 * a stranger (a source the policy does not know as a partner) holds per
 * "IP" (an IPv4 /32, an IPv6 /64 by default) and per network (/24, /48),
 * how many a partner holds per address of its own, and how many strangers
 * hold in all, so that they never take the slots reserved for partners.  Counts are daemon-wide (a /64's addresses are
 * steered to different workers); one mutex, taken on accept and close only. */
#ifndef SWD_ADMIT_H
#define SWD_ADMIT_H

#include "daemon/config.h"
#include "sipwall/addr.h"

typedef struct swd_admit swd_admit;

typedef enum swd_admit_verdict {
    SWD_ADMIT_OK = 0,
    SWD_ADMIT_IP = 1,      /* a stranger's prefix, or a partner's own address, holds max-connections-per-ip */
    SWD_ADMIT_NET = 2,     /* a stranger's network holds max-connections-per-net */
    SWD_ADMIT_RESERVE = 3, /* strangers hold every slot but the partners' reserve */
} swd_admit_verdict;

/* An admission table for at most slots connections (all workers), with the
 * limits' caps and prefix lengths (copied).  NULL on ENOMEM.  It holds one
 * reference; _ref adds one, _unref drops one and frees the table with the
 * last (then returns 1).  References are taken and dropped by one thread
 * (the workers' creator). */
swd_admit *swd_admit_new(const swd_limits *l, uint32_t slots) SW_NONNULL(1);
swd_admit *swd_admit_ref(swd_admit *a) SW_NONNULL(1);
int swd_admit_unref(swd_admit *a);
/* Takes a place for a connection from peer (partner: 1 when the policy
 * knows the source).  SWD_ADMIT_OK: counted, give it back with
 * swd_admit_release (same peer and partner flag as it has then); anything
 * else: refused, nothing counted. */
swd_admit_verdict swd_admit_take(swd_admit *a, const sw_addr *peer, int partner) SW_NONNULL(1, 2);
void swd_admit_release(swd_admit *a, const sw_addr *peer, int partner) SW_NONNULL(1, 2);
/* A stranger's connection turned out to be a partner's (its TLS identity):
 * it moves from the stranger counts to the partner's. */
void swd_admit_promote(swd_admit *a, const sw_addr *peer) SW_NONNULL(1, 2);
/* Connections held by strangers now. */
uint32_t swd_admit_strangers(swd_admit *a) SW_NONNULL(1);

#endif
