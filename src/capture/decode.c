/* Frame decoding: link layers, IPv4/IPv6 with extension headers, UDP, and
 * the rule that decides which UDP payloads are SIP.
 *
 * Every length is checked against the bytes actually captured before it is
 * used; a frame that claims more than it holds is counted as damaged and
 * skipped, never fatal. */
#include <pcap/pcap.h>

#include "capture/capture_int.h"

/* Link types that libpcap may hand us under a number other than its DLT_
 * macro (the LINKTYPE_ values of the file format) or that some platforms
 * lack. */
#define SW__LINKTYPE_RAW 101
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define SW__MAX_VLAN_TAGS 4
#define SW__MAX_IP6_EXT 16

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- hashing ---------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* ---- SIP endpoints ------------------------------------------------------
 * The endpoint rule.  A UDP payload is delivered as SIP when
 *   (a) sw_sip_looks_like() accepts its first line, or
 *   (b) its source or destination (address, port) has carried a message
 *       accepted by (a) — over UDP or TCP — earlier in the capture,
 * except keep-alives (payloads of only CR, LF, SP, TAB, NUL) and STUN
 * (RFC 5389 header with the magic cookie), which SIP endpoints legitimately
 * receive and which are not SIP messages.  Rule (b) exists so that the
 * malformed-message check sees damaged datagrams whose start line is broken
 * too (a NUL in the method, a mangled version): a receiver on that port
 * would parse them as SIP.  The set is small and bounded: 128 buckets of 4
 * ways, the way seen least recently is replaced, so a flood of new sources
 * cannot push out a server that keeps receiving SIP. */

static inline uint32_t ep_bucket(const sw_capture *c, uint8_t family, const uint8_t *ip,
                                 uint16_t port)
{
    uint64_t a, b;
    memcpy(&a, ip, 8);
    memcpy(&b, ip + 8, 8);
    uint64_t h = mix64(c->seed ^ a ^ ((uint64_t)port << 8 | family));
    h = mix64(h ^ b);
    return (uint32_t)h & (SW__EP_BUCKETS - 1);
}

void sw__ep_learn(sw_capture *c, uint8_t family, const uint8_t *ip, uint16_t port,
                  uint64_t stamp)
{
    sw__endpoint *set = &c->eps[ep_bucket(c, family, ip, port) * SW__EP_WAYS];
    sw__endpoint *victim = &set[0];
    for (int i = 0; i < SW__EP_WAYS; i++) {
        sw__endpoint *e = &set[i];
        if (e->family == family && e->port == port && memcmp(e->ip, ip, 16) == 0) {
            e->stamp = stamp;
            return;
        }
        if (e->family == 0 || (victim->family != 0 && e->stamp < victim->stamp))
            victim = e;
    }
    memcpy(victim->ip, ip, 16);
    victim->port = port;
    victim->family = family;
    victim->stamp = stamp;
}

int sw__ep_known(const sw_capture *c, uint8_t family, const uint8_t *ip, uint16_t port)
{
    const sw__endpoint *set = &c->eps[ep_bucket(c, family, ip, port) * SW__EP_WAYS];
    for (int i = 0; i < SW__EP_WAYS; i++)
        if (set[i].family == family && set[i].port == port && memcmp(set[i].ip, ip, 16) == 0)
            return 1;
    return 0;
}

/* ---- delivery ------------------------------------------------------------ */

int sw__deliver(sw_capture *c, const sw__frame *f, const sw_capture_msg *m)
{
    c->stats.sip_messages++;
    return f->cb ? f->cb(f->ctx, m) : 0;
}

static void fill_addrs(sw_capture_msg *m, const sw__ip *ip, uint16_t sport, uint16_t dport)
{
    m->src.family = m->dst.family = ip->family;
    memcpy(m->src.ip, ip->src, 16);
    memcpy(m->dst.ip, ip->dst, 16);
    m->src.port = sport;
    m->dst.port = dport;
}

/* A keep-alive on a SIP port (RFC 5626 §4.4.1 CRLF, or padding). */
static int is_keepalive(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\n' && p[i] != ' ' && p[i] != '\t' && p[i] != 0)
            return 0;
    return 1;
}

/* RFC 5389 §6: two zero bits, a length that is a multiple of 4 and matches,
 * and the magic cookie. */
static int is_stun(const uint8_t *p, size_t n)
{
    return n >= 20 && (p[0] & 0xc0) == 0 && rd32(p + 4) == 0x2112A442u &&
           (size_t)rd16(p + 2) + 20 == n && (rd16(p + 2) & 3) == 0;
}

static int udp_input(sw_capture *c, const sw__ip *ip, const sw__frame *f)
{
    if (ip->len < 8) {
        c->stats.damaged++;
        return 0;
    }
    const uint8_t *h = ip->data;
    uint16_t sport = rd16(h), dport = rd16(h + 2);
    size_t ulen = rd16(h + 4);
    if (ulen == 0 && ip->family == 6)
        ulen = ip->len; /* RFC 2675 jumbogram: the IP length rules */
    if (ulen < 8 || ulen > ip->len) {
        c->stats.damaged++;
        return 0;
    }
    const uint8_t *pl = h + 8;
    size_t n = ulen - 8;
    if (n == 0) {
        c->stats.non_sip++;
        return 0;
    }

    int sip = sw_sip_looks_like((const char *)pl, n);
    if (!sip) {
        int known = sw__ep_known(c, ip->family, ip->dst, dport) ||
                    sw__ep_known(c, ip->family, ip->src, sport);
        if (!known) {
            c->stats.non_sip++;
            return 0;
        }
        if (is_keepalive(pl, n) || is_stun(pl, n)) {
            c->stats.keepalives++;
            return 0;
        }
        c->stats.udp_by_endpoint++;
    } else {
        sw__ep_learn(c, ip->family, ip->src, sport, f->no);
        sw__ep_learn(c, ip->family, ip->dst, dport, f->no);
    }

    sw_capture_msg m;
    memset(&m, 0, sizeof m);
    m.data = (const char *)pl;
    m.len = n;
    m.frame = f->no;
    m.ts_ns = f->ts_ns;
    fill_addrs(&m, ip, sport, dport);
    m.transport = SW_TRANSPORT_UDP;
    m.vlan = f->vlan;
    m.reassembled = ip->reassembled;
    m.by_endpoint = (uint8_t)!sip;
    return sw__deliver(c, f, &m);
}

int sw__transport_input(sw_capture *c, const sw__ip *ip, const sw__frame *f)
{
    switch (ip->proto) {
    case 17: return udp_input(c, ip, f);
    case 6: return sw__tcp_input(c, ip, f);
    default: c->stats.skipped++; return 0;
    }
}

/* ---- IPv4 ---------------------------------------------------------------- */

static int ip4_input(sw_capture *c, const uint8_t *p, size_t len, const sw__frame *f)
{
    if (len < 20 || (p[0] >> 4) != 4) {
        c->stats.damaged++;
        return 0;
    }
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = rd16(p + 2);
    uint16_t frag = rd16(p + 6);
    int more = (frag & 0x2000) != 0;
    uint32_t offset = (uint32_t)(frag & 0x1fff) * 8;
    /* Captures of TSO/GSO traffic can show a total length of 0; the
     * captured bytes are then all we have. */
    if (total == 0 && !more && offset == 0)
        total = len;
    if (ihl < 20 || total < ihl || total > len) {
        c->stats.damaged++;
        return 0;
    }

    sw__ip ip;
    memset(&ip, 0, sizeof ip);
    ip.family = 4;
    ip.proto = p[9];
    memcpy(ip.src, p + 12, 4);
    memcpy(ip.dst, p + 16, 4);
    ip.data = p + ihl; /* total, not len: Ethernet pads short frames */
    ip.len = total - ihl;

    if (more || offset) {
        sw__key k;
        memset(&k, 0, sizeof k);
        memcpy(k.src, ip.src, 16);
        memcpy(k.dst, ip.dst, 16);
        k.id = rd16(p + 4);
        k.family = 4;
        k.proto = ip.proto;
        return sw__frag_input(c, &k, offset, more, ip.proto, ip.data, ip.len, f);
    }
    return sw__transport_input(c, &ip, f);
}

/* ---- IPv6 ---------------------------------------------------------------- */

int sw__ip6_upper(sw_capture *c, sw__ip *ip, uint8_t nh, const uint8_t *p, size_t len,
                  const sw__frame *f, int after_frag)
{
    for (int i = 0; i < SW__MAX_IP6_EXT; i++) {
        size_t hl;
        switch (nh) {
        case 0:  /* hop-by-hop options */
        case 43: /* routing */
        case 60: /* destination options */
            if (len < 8) {
                c->stats.damaged++;
                return 0;
            }
            hl = ((size_t)p[1] + 1) * 8;
            break;
        case 51: /* AH (RFC 4302: length in 4-octet units minus 2) */
            if (len < 8) {
                c->stats.damaged++;
                return 0;
            }
            hl = ((size_t)p[1] + 2) * 4;
            break;
        case 44: { /* fragment */
            if (len < 8 || after_frag) {
                /* A fragment header inside a reassembled payload is nonsense. */
                c->stats.damaged++;
                return 0;
            }
            uint16_t fo = rd16(p + 2);
            uint32_t offset = (uint32_t)(fo & 0xfff8);
            int more = fo & 1;
            if (offset == 0 && !more) {
                /* Atomic fragment (RFC 6946): process it as it is. */
                hl = 8;
                break;
            }
            sw__key k;
            memset(&k, 0, sizeof k);
            memcpy(k.src, ip->src, 16);
            memcpy(k.dst, ip->dst, 16);
            k.id = rd32(p + 4);
            k.family = 6;
            return sw__frag_input(c, &k, offset, more, p[0], p + 8, len - 8, f);
        }
        case 6:
        case 17:
            ip->proto = nh;
            ip->data = p;
            ip->len = len;
            return sw__transport_input(c, ip, f);
        default: /* ICMPv6, ESP, No Next Header, anything else */
            c->stats.skipped++;
            return 0;
        }
        if (hl > len) {
            c->stats.damaged++;
            return 0;
        }
        nh = p[0];
        p += hl;
        len -= hl;
    }
    c->stats.damaged++; /* an absurd chain of extension headers */
    return 0;
}

static int ip6_input(sw_capture *c, const uint8_t *p, size_t len, const sw__frame *f)
{
    if (len < 40 || (p[0] >> 4) != 6) {
        c->stats.damaged++;
        return 0;
    }
    size_t plen = rd16(p + 4);
    if (plen == 0)
        plen = len - 40; /* jumbogram or offloaded capture */
    if (plen > len - 40) {
        c->stats.damaged++;
        return 0;
    }
    sw__ip ip;
    memset(&ip, 0, sizeof ip);
    ip.family = 6;
    memcpy(ip.src, p + 8, 16);
    memcpy(ip.dst, p + 24, 16);
    return sw__ip6_upper(c, &ip, p[6], p + 40, plen, f, 0);
}

static int ip_by_version(sw_capture *c, const uint8_t *p, size_t len, const sw__frame *f)
{
    if (len < 1) {
        c->stats.damaged++;
        return 0;
    }
    switch (p[0] >> 4) {
    case 4: return ip4_input(c, p, len, f);
    case 6: return ip6_input(c, p, len, f);
    default: c->stats.skipped++; return 0;
    }
}

/* ---- link layers ----------------------------------------------------------- */

/* Dispatches on an Ethernet type after skipping 802.1Q / 802.1ad tags;
 * records the outermost VLAN id. */
static int ethertype_input(sw_capture *c, uint16_t type, const uint8_t *p, size_t len,
                           sw__frame *f)
{
    for (int tags = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100; tags++) {
        if (tags == SW__MAX_VLAN_TAGS || len < 4) {
            c->stats.damaged++;
            return 0;
        }
        if (tags == 0)
            f->vlan = rd16(p) & 0x0fff;
        type = rd16(p + 2);
        p += 4;
        len -= 4;
    }
    switch (type) {
    case 0x0800: return ip4_input(c, p, len, f);
    case 0x86dd: return ip6_input(c, p, len, f);
    default: c->stats.skipped++; return 0; /* ARP, LLDP, 802.3 lengths, … */
    }
}

/* BSD loopback: the address family in the capturing host's byte order for
 * DLT_NULL, in network order for DLT_LOOP.  AF_INET6 differs between BSDs
 * (24, 28, 30) and Linux (10); rather than trust any of them we accept the
 * known values in either byte order and otherwise look at the IP version. */
static int null_input(sw_capture *c, const uint8_t *p, size_t len, const sw__frame *f)
{
    if (len < 4) {
        c->stats.damaged++;
        return 0;
    }
    uint32_t be = rd32(p);
    uint32_t le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    uint32_t af = be <= 0xffff ? be : le;
    p += 4;
    len -= 4;
    switch (af) {
    case 2: return ip4_input(c, p, len, f);
    case 10: case 24: case 28: case 30: return ip6_input(c, p, len, f);
    default: c->stats.skipped++; return 0;
    }
}

int sw_capture_feed_frame(sw_capture *c, int dlt, const uint8_t *data, size_t caplen,
                          size_t origlen, int64_t ts_ns, sw_capture_cb cb, void *ctx)
{
    (void)origlen; /* every length check uses what was captured */
    c->stats.frames++;
    c->stats.bytes += caplen;
    sw__frame f = {.no = c->stats.frames, .ts_ns = ts_ns, .vlan = 0, .cb = cb, .ctx = ctx};

    /* Time-based expiry runs on capture time, before the new frame can
     * revive or complete anything. */
    sw__frag_expire(c, ts_ns);
    int rc = sw__tcp_expire(c, ts_ns, &f);
    if (rc)
        return rc;
    if (!data && caplen) {
        c->stats.damaged++;
        return 0;
    }

    switch (dlt) {
    case DLT_EN10MB:
        if (caplen < 14) {
            c->stats.damaged++;
            return 0;
        }
        return ethertype_input(c, rd16(data + 12), data + 14, caplen - 14, &f);
    case DLT_LINUX_SLL:
        if (caplen < 16) {
            c->stats.damaged++;
            return 0;
        }
        return ethertype_input(c, rd16(data + 14), data + 16, caplen - 16, &f);
    case DLT_LINUX_SLL2:
        if (caplen < 20) {
            c->stats.damaged++;
            return 0;
        }
        return ethertype_input(c, rd16(data), data + 20, caplen - 20, &f);
    case DLT_RAW:
    case SW__LINKTYPE_RAW:
        return ip_by_version(c, data, caplen, &f);
    case DLT_IPV4:
        return ip4_input(c, data, caplen, &f);
    case DLT_IPV6:
        return ip6_input(c, data, caplen, &f);
    case DLT_NULL:
    case DLT_LOOP:
        return null_input(c, data, caplen, &f);
    default:
        c->stats.skipped++;
        return 0;
    }
}
