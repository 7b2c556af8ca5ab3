/* The error table and case-insensitive string views. */
#include <stdarg.h>
#include <stdio.h>

#include "sipwall/common.h"

const char *sw_strerror(int err)
{
    switch (err) {
#define SW__ERR_MSG(name, val, msg) case (val): return (msg);
        SW_ERROR_LIST(SW__ERR_MSG)
#undef SW__ERR_MSG
    }
    return "unknown error";
}

const char *sw_errname(int err)
{
    switch (err) {
#define SW__ERR_NAME(name, val, msg) case (val): return "SW_" #name;
        SW_ERROR_LIST(SW__ERR_NAME)
#undef SW__ERR_NAME
    }
    return "SW_E?";
}


void sw_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
