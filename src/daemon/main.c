/* sipwalld — placeholder entry point while the daemon is being written. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "sipwalld: not built yet\n");
    return 2;
}
