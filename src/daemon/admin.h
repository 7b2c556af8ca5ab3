/* The admin socket: a unix stream socket (mode 0600) taking one command
 * per connection ("reload", "reopen", "stats") and answering one reply. */
#ifndef SWD_ADMIN_H
#define SWD_ADMIN_H

#include "daemon/daemon.h"

int swd_admin_listen(const char *path, char *err, size_t errlen);
/* Accepts and answers one client (bounded: 1 s to send its command). */
void swd_admin_serve(swd_daemon *d, int lfd);
/* `sipwalld -c FILE ctl CMD`: prints the reply; 0 when it starts "ok" or is JSON. */
int swd_admin_client(const char *conf_path, int argc, char **argv);
/* Compiles and publishes the policy again; msg gets the one-line outcome. */
int swd_reload(swd_daemon *d, char *msg, size_t msglen);

#endif
