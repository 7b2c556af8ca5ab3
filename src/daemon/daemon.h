/* sipwalld internals shared by its parts (see docs/sipwalld.md). */
#ifndef SWD_DAEMON_H
#define SWD_DAEMON_H

const char *swd_version(void);

#endif
