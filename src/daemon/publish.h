/* sipwalld: its own indicators published, and the TAXII 2.1 server on the
 * admin API (src/daemon/publish.c, docs/exchange-taxii.md). */
#ifndef SWD_PUBLISH_H
#define SWD_PUBLISH_H

#include "daemon/daemon.h"
#include "sipwall/admin.h"

/* Opens the TAXII store and server (taxii lines) and the publisher's
 * policy, key and event store handle (publish line), as root, before the
 * admin API is made.  SW_OK also when nothing is configured. */
int swd_publish_open(swd_daemon *d, char *err, size_t errlen);
/* What the admin API mounts under /taxii2/ (NULL: no TAXII server). */
const sw_admin_mount *swd_publish_mount(swd_daemon *d);
/* Starts the publishing thread (after the privilege drop). */
int swd_publish_start(swd_daemon *d, char *err, size_t errlen);
/* Stops the thread and frees (after the admin API is gone). */
void swd_publish_close(swd_daemon *d);
/* Publishes a revoked version of our indicator id (`ctl exchange revoke
 * ID`, POST /v1/exchange/ID/revoke); msg gets "ok ..." or "error: ...".
 * A new revoked version is an audit event (rule admin.exchange-revoke).
 * SW_OK, SW_ENOTFOUND, SW_EINVAL, SW_EIO. */
int swd_publish_revoke(swd_daemon *d, const char *id, const char *who, const sw_addr *from, char *msg,
                       size_t msglen);
/* An operator lifted the block of key (an address or a number): every
 * indicator of ours on that value is revoked. */
void swd_publish_unblocked(swd_daemon *d, const char *key, const char *who);
/* {"published":..,"revoked":..,"taxii_requests":..} or NULL (none). */
char *swd_publish_stats_json(swd_daemon *d);

#endif
