/* Policy reloads compiled off the control thread (src/daemon/reload.c).
 * Only the control thread calls these. */
#ifndef SWD_RELOAD_H
#define SWD_RELOAD_H

#include "daemon/daemon.h"

typedef struct swd_reloader swd_reloader;

/* A reloader for d; generations it publishes start after first_gen.  NULL
 * when out of memory or file descriptors. */
swd_reloader *swd_reloader_new(swd_daemon *d, uint64_t first_gen) SW_WUR;

/* Asks for a reload: starts compiling now, or once the running reload is
 * done.  reply_fd (-1: none, e.g. SIGHUP) is an admin client that gets the
 * one-line outcome ("ok generation …" / "error: …") and is then closed;
 * the reloader owns it from here on.  SW_OK, or SW_ELIMIT when too many
 * clients wait already (reply_fd stays the caller's). */
int swd_reloader_request(swd_reloader *r, int reply_fd);

/* Readable when a compile is done; poll it with the control loop's fds. */
int swd_reloader_fd(const swd_reloader *r);

/* Advances the reload without blocking: publishes a finished compile,
 * frees the old generation once every worker took the new one (5 s at
 * most), answers the waiting clients.  Call on every loop turn. */
void swd_reloader_poll(swd_reloader *r);

/* The poll timeout the control loop should use (short while workers are
 * taking a new generation, else idle_ms). */
int swd_reloader_poll_ms(const swd_reloader *r, int idle_ms);

/* 1 while a reload is compiling or being published. */
int swd_reloader_busy(const swd_reloader *r);

/* Frees the reloader after the workers stopped; waiting clients are told
 * the daemon stops.  Returns 1 when a compile was still running: it cannot
 * be interrupted, so it is abandoned (its thread detached, the reloader
 * left allocated) and the caller must end the process with _exit() without
 * freeing the config the compile reads.  Else 0. */
int swd_reloader_free(swd_reloader *r);

#endif
