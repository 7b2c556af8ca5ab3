/* sipwall — transport addresses (IPv4/IPv6 + port), shared by capture,
 * events and the network layer. */
#ifndef SIPWALL_ADDR_H
#define SIPWALL_ADDR_H

#include "sipwall/common.h"

typedef enum sw_transport {
    SW_TRANSPORT_UNKNOWN = 0,
    SW_TRANSPORT_UDP,
    SW_TRANSPORT_TCP,
    SW_TRANSPORT_TLS,
    SW_TRANSPORT_SCTP,
} sw_transport;

const char *sw_transport_name(sw_transport t); /* "udp", "tcp", … */

typedef struct sw_addr {
    uint8_t family; /* 4 or 6; 0 = unset */
    uint8_t pad_;
    uint16_t port;  /* host byte order */
    uint8_t ip[16]; /* IPv4 in the first 4 bytes */
} sw_addr;

#define SW_ADDR_STRLEN 64 /* "[ffff:…:ffff]:65535" fits */

/* Formats "1.2.3.4:5060" or "[2001:db8::1]:5060" into buf (NUL-terminated).
 * Returns the length written, or SW_ELIMIT when it does not fit. */
int sw_addr_format(const sw_addr *a, char *buf, size_t len) SW_NONNULL(1, 2);
/* Address without the port. */
int sw_addr_format_ip(const sw_addr *a, char *buf, size_t len) SW_NONNULL(1, 2);
/* Parses "IP:PORT", "[IPv6]:PORT" or a bare IP (port 0). */
int sw_addr_parse(const char *s, sw_addr *out) SW_WUR SW_NONNULL(1, 2);
int sw_addr_eq(const sw_addr *a, const sw_addr *b) SW_NONNULL(1, 2);

#endif
