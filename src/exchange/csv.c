/* CSV export of indicators (RFC 4180), for SIEMs and spreadsheets. */
#include <inttypes.h>
#include <string.h>

#include "exchange/xo_int.h"
#include "sipwall/exchange_fmt.h"

/* One quoted field; free-text values that a spreadsheet would take for a
 * formula get a leading apostrophe (OWASP "CSV injection"). */
static void field(FILE *fp, const char *s, int free_text)
{
    fputc('"', fp);
    if (free_text && s[0] && strchr("=+-@\t\r", s[0]))
        fputc('\'', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int sw_xo_csv_write(FILE *fp, const sw_xo_ind *v, size_t n)
{
    fputs("id,modified,event_type,kind,value,confidence,severity,action,tlp,valid_until,revoked,count\r\n", fp);
    for (size_t i = 0; i < n; i++) {
        const sw_xo_ind *x = &v[i];
        char mod[SW_EVENT_TS_LEN], until[SW_EVENT_TS_LEN];
        const char *k = x->kind ? x->kind : "";
        int free_text = !strcmp(k, "user_agent") || !strcmp(k, "sip_uri") || !strcmp(k, "trunk");
        sw__xo_ts(x->modified_ns, mod);
        sw__xo_ts(x->valid_until_ns, until);
        fprintf(fp, "%s,%s,", x->id, mod);
        field(fp, x->event_type ? x->event_type : "", 0);
        fputc(',', fp);
        field(fp, k, 0);
        fputc(',', fp);
        field(fp, x->value ? x->value : "", free_text);
        fprintf(fp, ",%u,", x->confidence);
        field(fp, x->severity ? x->severity : "", 0);
        fputc(',', fp);
        field(fp, x->action ? x->action : "", 0);
        fputc(',', fp);
        field(fp, x->tlp ? x->tlp : "", 0);
        fprintf(fp, ",%s,%s,%" PRIu32 "\r\n", until, x->revoked ? "true" : "false", x->count);
    }
    return ferror(fp) || fflush(fp) != 0 ? SW_EIO : SW_OK;
}
