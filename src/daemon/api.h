/* The admin API in sipwalld (src/daemon/api.c, docs/admin-api.md). */
#ifndef SWD_API_H
#define SWD_API_H

#include "daemon/daemon.h"

typedef struct swd_api swd_api;

/* With `admin-api` configured: the TLS context, the credential (made and
 * printed to stderr at the first start), the bound listener.  Before
 * privileges drop.  SW_OK (also when not configured) or an error in err;
 * on error swd_api_free cleans up. */
int swd_api_create(swd_daemon *d, char *err, size_t errlen);
/* Starts the API's thread.  SW_OK or SW_EIO. */
int swd_api_start(swd_daemon *d, char *err, size_t errlen);
/* The fd the control loop polls for commands handed over by the API
 * thread (-1: no API), and the call that serves them (control thread). */
int swd_api_fd(swd_daemon *d);
void swd_api_poll(swd_daemon *d);
/* Stops the thread and frees everything.  NULL-safe. */
void swd_api_free(swd_daemon *d);

#endif
