/* Requests of the assessment: always from us (our Via, From and Contact at
 * the connection's own address, so every answer comes back to the tester),
 * to the one target, with User-Agent sipwall-assess/<version>. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "assess/assess_int.h"

void sw__assess_new_user(char out[17])
{
    memcpy(out, "sipwall-", 8);
    sw__assess_rand_hex(out + 8, 4);
}

void sw__assess_new_callid(char out[40])
{
    sw__assess_rand_hex(out, 12);
    memcpy(out + 24, "@sipwall", 9);
}

void sw__assess_new_tag(char out[20])
{
    sw__assess_rand_hex(out, 8);
}

void sw__assess_new_branch(char out[40])
{
    memcpy(out, "z9hG4bK-swa-", 12);
    sw__assess_rand_hex(out + 12, 10);
}

typedef struct outbuf {
    char *p;
    size_t cap, len;
    int over;
} outbuf;

static void put(outbuf *b, const char *fmt, ...) SW_PRINTF(2, 3);
static void put(outbuf *b, const char *fmt, ...)
{
    if (b->over)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->over = 1;
        return;
    }
    b->len += (size_t)n;
}

/* host[:port] of an address for URIs and Via: IPv6 in brackets. */
static void hostport(char *out, size_t cap, const char *ip, uint16_t port)
{
    if (strchr(ip, ':'))
        snprintf(out, cap, "[%s]:%u", ip, (unsigned)port);
    else
        snprintf(out, cap, "%s:%u", ip, (unsigned)port);
}

long sw__assess_build(const sw_assess_run *r, const sw__assess_conn *c, const sw__assess_req *q, char *out,
                      size_t cap)
{
    const sw__assess_target *t = sw__assess_target_of(r);
    char us[80], branch[40];
    hostport(us, sizeof us, sw__assess_conn_local_ip(c), sw__assess_conn_local_port(c));
    /* the target as the operator named it when it is a name (the
     * certificate and virtual hosting go by it), else its address */
    const char *thost = t->host;
    char tname[300];
    if (strchr(thost, ':'))
        snprintf(tname, sizeof tname, "[%s]:%u", thost, (unsigned)t->port);
    else
        snprintf(tname, sizeof tname, "%s:%u", thost, (unsigned)t->port);
    sw_transport tr = sw__assess_conn_transport(c);
    const char *vt = tr == SW_TRANSPORT_TLS ? "TLS" : tr == SW_TRANSPORT_TCP ? "TCP" : "UDP";
    const char *scheme = "sip";
    const char *tparam = tr == SW_TRANSPORT_TLS ? ";transport=tls" : tr == SW_TRANSPORT_TCP ? ";transport=tcp" : "";
    if (!q->branch)
        sw__assess_new_branch(branch);
    const char *from_user = q->from_user ? q->from_user : q->to_user && !strcmp(q->method, "REGISTER") ? q->to_user
                                                                                                     : "sipwall";
    outbuf b = {out, cap, 0, 0};
    if (q->ruri)
        put(&b, "%s %s SIP/2.0\r\n", q->method, q->ruri);
    else if (!strcmp(q->method, "REGISTER"))
        put(&b, "REGISTER %s:%s%s SIP/2.0\r\n", scheme, tname, tparam);
    else if (q->to_user)
        put(&b, "%s %s:%s@%s%s SIP/2.0\r\n", q->method, scheme, q->to_user, tname, tparam);
    else
        put(&b, "%s %s:%s%s SIP/2.0\r\n", q->method, scheme, tname, tparam);
    put(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", vt, us, q->branch ? q->branch : branch);
    put(&b, "Max-Forwards: 70\r\n");
    put(&b, "From: <%s:%s@%s>;tag=%s\r\n", scheme, from_user, thost, q->from_tag);
    if (q->to_user)
        put(&b, "To: <%s:%s@%s>%s%s\r\n", scheme, q->to_user, thost, q->to_tag ? ";tag=" : "",
            q->to_tag ? q->to_tag : "");
    else
        put(&b, "To: <%s:%s>%s%s\r\n", scheme, thost, q->to_tag ? ";tag=" : "", q->to_tag ? q->to_tag : "");
    put(&b, "Call-ID: %s\r\n", q->call_id);
    put(&b, "CSeq: %u %s\r\n", (unsigned)q->cseq, q->cseq_method ? q->cseq_method : q->method);
    if (q->contact)
        put(&b, "Contact: <%s:%s@%s%s>\r\n", scheme, from_user, us, tparam);
    if (q->expires >= 0)
        put(&b, "Expires: %ld\r\n", q->expires);
    put(&b, "User-Agent: sipwall-assess/%s\r\n", sw__assess_version());
    if (q->extra)
        put(&b, "%s", q->extra);
    size_t blen = q->body ? strlen(q->body) : 0;
    if (blen)
        put(&b, "Content-Type: %s\r\n", q->content_type ? q->content_type : "text/plain");
    put(&b, "Content-Length: %zu\r\n\r\n", blen);
    if (blen)
        put(&b, "%s", q->body);
    if (b.over)
        return SW_ELIMIT;
    return (long)b.len;
}
