/* The admin socket: a unix stream socket (mode 0600) taking one command
 * per connection ("reload", "reopen", "stats", "blocks [LIMIT]",
 * "block KIND KEY SECONDS [REASON]", "unblock KIND KEY", "partners") and
 * answering one reply. */
#ifndef SWD_ADMIN_H
#define SWD_ADMIN_H

#include "daemon/daemon.h"

int swd_admin_listen(const char *path, char *err, size_t errlen);
/* Accepts and answers one client (bounded: 1 s to send its command). */
void swd_admin_serve(swd_daemon *d, int lfd);
/* The same for a command of the admin API (src/daemon/api.c): fd is one
 * end of a socketpair carrying "WHO\nFROM\nCOMMAND\n"; the reply goes back
 * on it and fd is closed.  Control thread only. */
void swd_admin_serve_api(swd_daemon *d, int fd);

#define SWD_BLOCKS_LIST_DEFAULT 1000
#define SWD_BLOCKS_LIST_MAX 100000

/* `sipwalld -c FILE ctl CMD`: prints the reply; 0 when it starts "ok" or is JSON. */
int swd_admin_client(const char *conf_path, int argc, char **argv);

#endif
