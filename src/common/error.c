/* The error table and case-insensitive string views. */
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

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

int sw_str_caseeq(sw_str a, sw_str b)
{
    if (a.len != b.len)
        return 0;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.ptr[i]) != lower((unsigned char)b.ptr[i]))
            return 0;
    return 1;
}

int sw_str_caseeq_cstr(sw_str a, const char *lit)
{
    return sw_str_caseeq(a, sw_str_make(lit, strlen(lit)));
}
