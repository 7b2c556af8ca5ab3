/* Transport address formatting and parsing. */
#include "sipwall/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

const char *sw_transport_name(sw_transport t)
{
    switch (t) {
    case SW_TRANSPORT_UDP: return "udp";
    case SW_TRANSPORT_TCP: return "tcp";
    case SW_TRANSPORT_TLS: return "tls";
    case SW_TRANSPORT_SCTP: return "sctp";
    default: return "unknown";
    }
}

/* Dotted quad by hand: the engine and the detectors key and report by
 * source address for every message of a flood, where stdio would cost more
 * than the rest of the lookup. */
static int format_ip4(const uint8_t *ip, char *buf, size_t len)
{
    char tmp[16];
    char *p = tmp;
    for (unsigned i = 0; i < 4; i++) {
        unsigned v = ip[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        if (i < 3)
            *p++ = '.';
    }
    size_t n = (size_t)(p - tmp);
    if (n >= len)
        return SW_ELIMIT;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return (int)n;
}

int sw_addr_format_ip(const sw_addr *a, char *buf, size_t len)
{
    char tmp[INET6_ADDRSTRLEN];
    if (a->family == 4) {
        return format_ip4(a->ip, buf, len);
    } else if (a->family == 6) {
        if (!inet_ntop(AF_INET6, a->ip, tmp, sizeof tmp))
            return SW_EINVAL;
    } else {
        snprintf(tmp, sizeof tmp, "-");
    }
    int n = snprintf(buf, len, "%s", tmp);
    return (n < 0 || (size_t)n >= len) ? SW_ELIMIT : n;
}

int sw_addr_format(const sw_addr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    int r = sw_addr_format_ip(a, ip, sizeof ip);
    if (r < 0)
        return r;
    int n = a->family == 6 ? snprintf(buf, len, "[%s]:%u", ip, a->port)
                           : snprintf(buf, len, "%s:%u", ip, a->port);
    return (n < 0 || (size_t)n >= len) ? SW_ELIMIT : n;
}

int sw_addr_parse(const char *s, sw_addr *out)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *port = NULL;
    memset(out, 0, sizeof *out);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (size_t)(close - s - 1) >= sizeof host)
            return SW_EINVAL;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        if (close[1] == ':')
            port = close + 2;
        else if (close[1] != '\0')
            return SW_EINVAL;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 address */
        size_t n = colon ? (size_t)(colon - s) : strlen(s);
        if (n >= sizeof host)
            return SW_EINVAL;
        memcpy(host, s, n);
        host[n] = '\0';
        if (colon)
            port = colon + 1;
    }
    if (inet_pton(AF_INET, host, out->ip) == 1)
        out->family = 4;
    else if (inet_pton(AF_INET6, host, out->ip) == 1)
        out->family = 6;
    else
        return SW_EINVAL;
    if (port) {
        char *end;
        unsigned long p = strtoul(port, &end, 10);
        if (*port == '\0' || *end != '\0' || p > 65535)
            return SW_EINVAL;
        out->port = (uint16_t)p;
    }
    return SW_OK;
}

int sw_addr_eq(const sw_addr *a, const sw_addr *b)
{
    if (a->family != b->family || a->port != b->port)
        return 0;
    return memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}
