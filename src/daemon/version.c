/* The daemon's version string, one place for logs and --version. */
#include "daemon/daemon.h"

const char *swd_version(void)
{
    return SW_VERSION;
}
