/* The host and device checks (spec §3.3): listening ports against the
 * declared services, banners, telnet, plaintext HTTP admin, anonymous
 * MQTT, SSH algorithms, default credentials (only with
 * --credential-tests) and debug ports.  Each talks only to the one host
 * (--host, else the SIP target's address), only through the run's pacing
 * (host_io.c), and records what it sent and what came back.
 *
 * NET-PORT-01 runs first; the later checks read the open ports from its
 * evidence (sw__host_open_ports), so a port is probed by a protocol check
 * only when it was found open.  With --only and without NET-PORT-01 they
 * probe their own well-known ports. */
#define _GNU_SOURCE 1 /* memmem, strcasecmp */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "assess/assess_int.h"
#include "assess/host_int.h"
#include "sipwall/net.h"

#define H_CONNECT_MS 1500u
#define H_READ_MS 2000u
#define H_BANNER 256u /* bytes of a banner kept as evidence (spec §3.3) */

/* ---- helpers -------------------------------------------------------- */

static int have_port(const uint16_t *p, size_t n, uint16_t port)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == port)
            return 1;
    return 0;
}

/* Open TCP ports among want[]: from NET-PORT-01's evidence when it ran,
 * else all of want[] (each check then finds out by connecting). */
static size_t candidates(sw_assess_run *r, const uint16_t *want, size_t nwant, uint16_t *out)
{
    const sw_assess_finding *pf = sw__assess_finding_of(r, "NET-PORT-01");
    size_t n = 0;
    if (!pf || pf->result == SW_ASSESS_SKIPPED || pf->result == SW_ASSESS_ERROR) {
        memcpy(out, want, nwant * sizeof *want);
        return nwant;
    }
    uint16_t open[64];
    size_t no = sw__host_open_ports(r, 0, open, 64);
    for (size_t i = 0; i < nwant; i++)
        if (have_port(open, no, want[i]))
            out[n++] = want[i];
    return n;
}

static int stop_at_lf(const unsigned char *b, size_t n)
{
    return memchr(b, '\n', n) != NULL;
}

static int stop_at_headers(const unsigned char *b, size_t n)
{
    return n >= 4 && memmem(b, n, "\r\n\r\n", 4) != NULL;
}

/* Case-insensitive search in a byte range. */
static const unsigned char *find_ci(const unsigned char *b, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp((const char *)b + i, needle, k))
            return b + i;
    return NULL;
}

/* ---- NET-PORT-01 ---------------------------------------------------- */

static const uint16_t tcp_ports[] = {21,   22,   23,   80,   443,  554,  1234, 1883, 2000, 2001, 2002, 2003,
                                     2323, 3333, 4444, 5060, 5061, 5555, 6666, 7547, 8080, 8443, 8883, 9000};

/* Severity of an undeclared open port (spec §3.3). */
static sw_assess_severity port_severity(uint16_t p, int udp, const char **what)
{
    if (!udp) {
        switch (p) {
        case 23: case 2323: *what = "telnet"; return SW_ASSESS_CRITICAL;
        case 5555: *what = "ADB"; return SW_ASSESS_CRITICAL;
        case 4444: case 6666: *what = "OpenOCD"; return SW_ASSESS_CRITICAL;
        case 3333: case 1234: *what = "gdbserver"; return SW_ASSESS_CRITICAL;
        case 2000: case 2001: case 2002: case 2003: *what = "ser2net"; return SW_ASSESS_CRITICAL;
        case 80: case 8080: *what = "plaintext HTTP"; return SW_ASSESS_HIGH;
        case 1883: *what = "MQTT"; return SW_ASSESS_HIGH;
        case 21: *what = "FTP"; return SW_ASSESS_HIGH;
        case 7547: *what = "TR-069"; return SW_ASSESS_HIGH;
        case 22: *what = "SSH"; return SW_ASSESS_MEDIUM;
        case 5060: *what = "SIP"; return SW_ASSESS_MEDIUM;
        case 5061: *what = "SIP over TLS"; return SW_ASSESS_MEDIUM;
        case 8883: *what = "MQTT over TLS"; return SW_ASSESS_MEDIUM;
        case 443: case 8443: *what = "HTTPS"; return SW_ASSESS_MEDIUM;
        case 554: *what = "RTSP"; return SW_ASSESS_MEDIUM;
        default: *what = "service"; return SW_ASSESS_MEDIUM;
        }
    }
    switch (p) {
    case 161: *what = "SNMP"; return SW_ASSESS_HIGH;
    case 5683: *what = "CoAP"; return SW_ASSESS_HIGH;
    case 5060: *what = "SIP"; return SW_ASSESS_MEDIUM;
    case 5684: *what = "CoAP over DTLS"; return SW_ASSESS_MEDIUM;
    case 1900: *what = "SSDP"; return SW_ASSESS_MEDIUM;
    default: *what = "service"; return SW_ASSESS_MEDIUM;
    }
}

static int declared(const sw_assess_service *sv, size_t n, uint16_t port, int udp)
{
    for (size_t i = 0; i < n; i++)
        if (sv[i].port == port && !strcmp(sv[i].proto, udp ? "udp" : "tcp"))
            return 1;
    return 0;
}

/* The UDP probes: payloads that draw an answer from a listening service. */
static size_t udp_probe(sw_assess_run *r, int fd, uint16_t port, unsigned char *out, size_t cap)
{
    char hex[17], tag[9], local[SW_ADDR_STRLEN] = "0.0.0.0:0", host[64] = "";
    sw__assess_rand_hex(hex, 8);
    sw__assess_rand_hex(tag, 4);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    sw_addr a;
    if (!getsockname(fd, (struct sockaddr *)&ss, &sl) && sw_addr_from_sockaddr((struct sockaddr *)&ss, &a) == SW_OK)
        sw_addr_format(&a, local, sizeof local);
    if (sw__host_addr(r, port, &a) == SW_OK)
        sw_addr_format(&a, host, sizeof host);
    int n = 0;
    switch (port) {
    case 5060:
        n = snprintf((char *)out, cap,
                     "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-swa%s;rport\r\n"
                     "Max-Forwards: 70\r\nFrom: <sip:sipwall@%s>;tag=%s\r\nTo: <sip:%s>\r\n"
                     "Call-ID: %s@sipwall-assess\r\nCSeq: 1 OPTIONS\r\nUser-Agent: sipwall-assess/%s\r\n"
                     "Content-Length: 0\r\n\r\n",
                     host, local, hex, local, tag, host, hex, sw__assess_version());
        break;
    case 161: { /* SNMPv2c GetRequest sysDescr.0, community "public" */
        static const unsigned char snmp[] = {0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, 'p',  'u',  'b',  'l',
                                             'i',  'c',  0xa0, 0x1c, 0x02, 0x04, 0x5a, 0x17, 0x00, 0x01, 0x02,
                                             0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08,
                                             0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00};
        memcpy(out, snmp, sizeof snmp);
        return sizeof snmp;
    }
    case 5683: { /* CoAP CON GET /.well-known/core */
        static const unsigned char coap[] = {0x40, 0x01, 0x5a, 0x17, 0xbb, '.', 'w', 'e', 'l', 'l', '-', 'k',
                                             'n',  'o',  'w',  'n',  0x04, 'c', 'o', 'r', 'e'};
        memcpy(out, coap, sizeof coap);
        return sizeof coap;
    }
    case 5684: { /* DTLS 1.2 ClientHello (ECDHE-ECDSA/RSA-AES128-GCM, P-256) */
        static const unsigned char hs[] = {
            0xfe, 0xfd,                                                 /* client_version */
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
            29, 30, 31, 32,                                             /* random */
            0x00,                                                       /* session id */
            0x00,                                                       /* cookie */
            0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x2f,                         /* cipher suites */
            0x01, 0x00,                                                 /* compression: null */
            0x00, 0x16,                                                 /* extensions */
            0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17,             /* supported_groups P-256 */
            0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                         /* ec_point_formats */
            0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03};            /* signature_algorithms */
        size_t hl = sizeof hs, k = 0;
        if (cap < 13 + 12 + hl)
            return 0;
        static const unsigned char rec[] = {0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(out, rec, sizeof rec);
        k = sizeof rec;
        out[k++] = (unsigned char)((hl + 12) >> 8);
        out[k++] = (unsigned char)(hl + 12);
        out[k++] = 1; /* client_hello */
        out[k++] = 0;
        out[k++] = (unsigned char)(hl >> 8);
        out[k++] = (unsigned char)hl;
        out[k++] = 0; /* message_seq */
        out[k++] = 0;
        out[k++] = 0; /* fragment_offset */
        out[k++] = 0;
        out[k++] = 0;
        out[k++] = 0; /* fragment_length */
        out[k++] = (unsigned char)(hl >> 8);
        out[k++] = (unsigned char)hl;
        memcpy(out + k, hs, hl);
        return k + hl;
    }
    case 1900:
        n = snprintf((char *)out, cap,
                     "M-SEARCH * HTTP/1.1\r\nHOST: %s\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n", host);
        break;
    default:
        return 0;
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static const uint16_t udp_ports[] = {5060, 161, 5683, 5684, 1900};

void sw__check_net_port(sw_assess_run *r, sw_assess_finding *f)
{
    const sw_assess_options *o = sw_assess_opts(r);
    sw_assess_questionnaire *q = NULL;
    const sw_assess_service *sv = NULL;
    size_t nsv = 0;
    if (o->questionnaire) {
        char err[256];
        q = sw_assess_questionnaire_load(o->questionnaire, err, sizeof err);
        if (!q) {
            sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "questionnaire: %s", err);
            return;
        }
        nsv = sw_assess_questionnaire_services(q, &sv);
    }
    char failed[400] = "", unjudged[200] = "", filtered[200] = "", opened[300] = "";
    sw_assess_severity worst = SW_ASSESS_INFO;
    int nfail = 0, nunj = 0, nfilt = 0, nopen = 0, stopped = 0;
    for (size_t i = 0; i < sizeof tcp_ports / sizeof tcp_ports[0] + sizeof udp_ports / sizeof udp_ports[0]; i++) {
        int udp = i >= sizeof tcp_ports / sizeof tcp_ports[0];
        uint16_t port = udp ? udp_ports[i - sizeof tcp_ports / sizeof tcp_ports[0]] : tcp_ports[i];
        const char *state;
        unsigned char sent[512], got[H_BANNER];
        size_t sentn = 0;
        ssize_t gotn = 0;
        int fd;
        if (!udp) {
            fd = sw__host_tcp(r, port, H_CONNECT_MS);
            if (fd == SW_ELIMIT) {
                stopped = 1;
                break;
            }
            state = fd >= 0 ? "open" : fd == SW_ENOTFOUND ? "closed" : fd == SW_EAGAIN ? "filtered" : "error";
        } else {
            fd = sw__host_udp(r, port);
            state = "error";
            if (fd >= 0) {
                sentn = udp_probe(r, fd, port, sent, sizeof sent);
                int s = sw__host_send(r, fd, sent, sentn);
                if (s == SW_ELIMIT) {
                    close(fd);
                    stopped = 1;
                    break;
                }
                gotn = s == SW_ENOTFOUND ? SW_ENOTFOUND : sw__host_read(fd, got, sizeof got, 1000, NULL);
                state = gotn > 0 ? "open" : gotn == SW_ENOTFOUND ? "closed" : "open|filtered";
            }
        }
        sw_assess_evidence *e = sw__host_evidence(r, f, "port", udp ? "udp" : "tcp", fd, port);
        if (e) {
            sw_assess_evidence_bytes(e, sentn ? sent : NULL, sentn, gotn > 0 ? got : NULL, gotn > 0 ? (size_t)gotn : 0);
            sw_assess_evidence_note(e, "%s", state);
        }
        if (fd >= 0)
            close(fd);
        const char *what;
        sw_assess_severity sev = port_severity(port, udp, &what);
        char item[48];
        snprintf(item, sizeof item, "%s%u/%s (%s)", "", port, udp ? "udp" : "tcp", what);
        if (!strcmp(state, "open")) {
            nopen++;
            snprintf(opened + strlen(opened), sizeof opened - strlen(opened), "%s%u/%s", nopen > 1 ? " " : "", port,
                     udp ? "udp" : "tcp");
            if (declared(sv, nsv, port, udp))
                continue;
            if (!q && sev < SW_ASSESS_HIGH) { /* no contract: only the risky ones are judged */
                nunj++;
                snprintf(unjudged + strlen(unjudged), sizeof unjudged - strlen(unjudged), "%s%s", nunj > 1 ? ", " : "",
                         item);
                continue;
            }
            nfail++;
            if (sev > worst)
                worst = sev;
            snprintf(failed + strlen(failed), sizeof failed - strlen(failed), "%s%s", nfail > 1 ? ", " : "", item);
        } else if (!strcmp(state, "open|filtered") && !declared(sv, nsv, port, udp)) {
            nfilt++;
            snprintf(filtered + strlen(filtered), sizeof filtered - strlen(filtered), "%s%u/udp", nfilt > 1 ? ", " : "",
                     port);
        }
    }
    sw_assess_questionnaire_free(q);
    if (nfail)
        sw_assess_set(f, SW_ASSESS_FAIL, worst, "open and not declared: %s", failed);
    else if (stopped)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "stopped by the packet budget or the clock");
    else if (nunj)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO,
                      "open: %s; no declared_services (--questionnaire) to judge %s against", opened, unjudged);
    else if (nfilt)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "open: %s; no answer and no refusal on %s",
                      nopen ? opened : "none", filtered);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "open: %s; all declared", nopen ? opened : "none");
}

/* ---- NET-BANNER-01 -------------------------------------------------- */

/* A product version in text: a word with a letter, then one of "/ _-v"
 * and d+.d+ ("lighttpd/1.4.69", "OpenSSH_9.2p1", "version 2.0.11").
 * Copies it to out; 1 when found. */
static int version_in(const char *t, size_t n, char *out, size_t cap)
{
    for (size_t i = 1; i + 2 < n; i++) {
        unsigned char sep = (unsigned char)t[i - 1];
        if (!isdigit((unsigned char)t[i]) || isdigit(sep) || !sep || !strchr("/ _-vV", sep))
            continue;
        size_t j = i;
        while (j < n && isdigit((unsigned char)t[j]))
            j++;
        if (j + 1 >= n || t[j] != '.' || !isdigit((unsigned char)t[j + 1]))
            continue;
        size_t s = i - 1;
        while (s > 0 && (isalnum((unsigned char)t[s - 1]) || t[s - 1] == '-' || t[s - 1] == '_' || t[s - 1] == '.'))
            s--;
        while (s < i - 1 && !isalnum((unsigned char)t[s]))
            s++;
        int letter = 0;
        for (size_t k = s; k < i - 1; k++)
            letter |= isalpha((unsigned char)t[k]) != 0;
        if (!letter)
            continue;
        while (j < n && (isalnum((unsigned char)t[j]) || t[j] == '.' || t[j] == '-' || t[j] == '+'))
            j++;
        snprintf(out, cap, "%.*s", (int)(j - s), t + s);
        return 1;
    }
    return 0;
}

/* The text of a banner a version is looked for in: SSH after the protocol
 * ("SSH-2.0-"), HTTP the Server and X-Powered-By values, else all. */
static int banner_version(const unsigned char *b, size_t n, char *out, size_t cap)
{
    const char *t = (const char *)b;
    if (n > 8 && !memcmp(t, "SSH-", 4)) {
        const char *d = memchr(t + 4, '-', n - 4);
        if (!d)
            return 0;
        return version_in(d, n - (size_t)(d - t), out, cap);
    }
    if (n > 5 && !memcmp(t, "HTTP/", 5)) {
        static const char *const hs[] = {"\nServer:", "\nX-Powered-By:"};
        for (int k = 0; k < 2; k++) {
            const unsigned char *h = find_ci(b, n, hs[k]);
            if (!h)
                continue;
            const unsigned char *e = memchr(h + 1, '\n', n - (size_t)(h + 1 - b));
            size_t len = e ? (size_t)(e - h) : n - (size_t)(h - b);
            if (version_in((const char *)h, len, out, cap))
                return 1;
        }
        return 0;
    }
    return version_in(t, n, out, cap);
}

static int tls_port(uint16_t p)
{
    return p == 443 || p == 5061 || p == 8443 || p == 8883 || p == 5684;
}

static int http_port(uint16_t p)
{
    return p == 80 || p == 8080 || p == 9000 || p == 7547;
}

void sw__check_net_banner(sw_assess_run *r, sw_assess_finding *f)
{
    uint16_t ports[64];
    size_t np = candidates(r, tcp_ports, sizeof tcp_ports / sizeof tcp_ports[0], ports);
    char found[400] = "";
    int nfound = 0, nread = 0;
    for (size_t i = 0; i < np; i++) {
        uint16_t p = ports[i];
        if (tls_port(p) || p == 5060) /* TLS-0x and SIP-FP-01 read those */
            continue;
        int fd = sw__host_tcp(r, p, H_CONNECT_MS);
        if (fd == SW_ELIMIT)
            break;
        if (fd < 0)
            continue;
        unsigned char buf[H_BANNER];
        ssize_t n = sw__host_read(fd, buf, sizeof buf, 1500, stop_at_lf);
        char head[128] = "";
        size_t headn = 0;
        if (n <= 0 && http_port(p)) {
            headn = (size_t)snprintf(head, sizeof head, "HEAD / HTTP/1.0\r\nUser-Agent: sipwall-assess/%s\r\n\r\n",
                                     sw__assess_version());
            if (sw__host_send(r, fd, head, headn) == SW_OK)
                n = sw__host_read(fd, buf, sizeof buf, H_READ_MS, stop_at_headers);
        }
        sw_assess_evidence *e = sw__host_evidence(r, f, "banner", "tcp", fd, p);
        close(fd);
        if (n < 0)
            n = 0;
        nread += n > 0;
        char ver[96];
        int has = n > 0 && banner_version(buf, (size_t)n, ver, sizeof ver);
        if (e) {
            sw_assess_evidence_bytes(e, headn ? head : NULL, headn, n ? buf : NULL, (size_t)n);
            sw_assess_evidence_note(e, "%s", has ? ver : n ? "no version" : "silent");
        }
        if (has) {
            nfound++;
            snprintf(found + strlen(found), sizeof found - strlen(found), "%s%u/tcp %s", nfound > 1 ? ", " : "", p, ver);
        }
    }
    if (nfound)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_LOW, "version strings disclosed: %s", found);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "%d banner(s) read, no version string", nread);
}

/* ---- telnet (NET-TELNET-01, NET-DEFCRED-01) -------------------------- */

enum { T_IAC = 255, T_DONT = 254, T_DO = 253, T_WONT = 252, T_WILL = 251, T_SB = 250, T_SE = 240 };

/* Strips telnet commands from in[0..n) into text, and writes our refusal
 * of every option (WONT to DO, DONT to WILL) into reply.  Bounded by the
 * buffers. */
static void telnet_filter(const unsigned char *in, size_t n, char *text, size_t *tn, size_t tcap,
                          unsigned char *reply, size_t *rn, size_t rcap)
{
    size_t i = 0;
    while (i < n) {
        if (in[i] != T_IAC) {
            if (*tn + 1 < tcap && in[i])
                text[(*tn)++] = (char)in[i];
            i++;
            continue;
        }
        if (i + 1 >= n)
            break;
        unsigned char c = in[i + 1];
        if ((c == T_DO || c == T_WILL || c == T_DONT || c == T_WONT) && i + 2 < n) {
            if ((c == T_DO || c == T_WILL) && *rn + 3 <= rcap) {
                reply[(*rn)++] = T_IAC;
                reply[(*rn)++] = c == T_DO ? T_WONT : T_DONT;
                reply[(*rn)++] = in[i + 2];
            }
            i += 3;
        } else if (c == T_SB) { /* skip to IAC SE */
            size_t j = i + 2;
            while (j + 1 < n && !(in[j] == T_IAC && in[j + 1] == T_SE))
                j++;
            i = j + 2;
        } else {
            i += 2;
        }
    }
    text[*tn < tcap ? *tn : tcap - 1] = 0;
}

/* Reads for up to ms, refusing options, until the text (lower-cased
 * search) contains want (NULL: until quiet or closed).  Appends all bytes
 * to raw (evidence) and the text to text.  Returns 1 when want was seen. */
static int telnet_until(sw_assess_run *r, int fd, const char *want, unsigned ms, unsigned char *raw, size_t *rawn,
                        size_t rawcap, char *text, size_t *tn, size_t tcap, unsigned char *sent, size_t *sentn,
                        size_t sentcap)
{
    for (unsigned waited = 0; waited < ms; waited += 250) {
        unsigned char buf[512];
        ssize_t n = sw__host_read(fd, buf, sizeof buf, 250, NULL);
        if (n <= 0) {
            if (!want && waited >= 500)
                return 0;
            continue;
        }
        size_t keep = (size_t)n < rawcap - *rawn ? (size_t)n : rawcap - *rawn;
        memcpy(raw + *rawn, buf, keep);
        *rawn += keep;
        unsigned char reply[96];
        size_t rn = 0;
        telnet_filter(buf, (size_t)n, text, tn, tcap, reply, &rn, sizeof reply);
        if (rn) {
            if (sw__host_send(r, fd, reply, rn) != SW_OK)
                return 0;
            size_t k = rn < sentcap - *sentn ? rn : sentcap - *sentn;
            memcpy(sent + *sentn, reply, k);
            *sentn += k;
        }
        if (want && find_ci((const unsigned char *)text, *tn, want))
            return 1;
    }
    return 0;
}

static const uint16_t telnet_ports[] = {23, 2323};

void sw__check_net_telnet(sw_assess_run *r, sw_assess_finding *f)
{
    uint16_t ports[4];
    size_t np = candidates(r, telnet_ports, 2, ports);
    char open[64] = "", first[160] = "";
    int nopen = 0;
    for (size_t i = 0; i < np; i++) {
        int fd = sw__host_tcp(r, ports[i], H_CONNECT_MS);
        if (fd < 0)
            continue;
        unsigned char raw[1024], sent[256];
        char text[512];
        size_t rawn = 0, tn = 0, sentn = 0;
        telnet_until(r, fd, NULL, 2000, raw, &rawn, sizeof raw, text, &tn, sizeof text, sent, &sentn, sizeof sent);
        sw_assess_evidence *e = sw__host_evidence(r, f, "banner", "tcp", fd, ports[i]);
        close(fd);
        if (e) {
            sw_assess_evidence_bytes(e, sentn ? sent : NULL, sentn, rawn ? raw : NULL, rawn);
            sw_assess_evidence_note(e, "telnet accepted a connection; every option refused");
        }
        nopen++;
        snprintf(open + strlen(open), sizeof open - strlen(open), "%s%u", nopen > 1 ? ", " : "", ports[i]);
        if (!first[0]) {
            size_t k = 0;
            for (size_t j = 0; j < tn && k + 1 < sizeof first; j++)
                if (text[j] != '\r' && text[j] != '\n')
                    first[k++] = text[j];
            first[k] = 0;
        }
    }
    if (nopen)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_CRITICAL, "telnet (cleartext login) on tcp %s; it says \"%s\"",
                      open, first);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "no telnet on tcp 23 or 2323");
}

/* ---- HTTP (NET-HTTP-01) ---------------------------------------------- */

static const uint16_t http_ports[] = {80, 8080, 9000, 7547};
static const char *const admin_paths[] = {"/",      "/admin/",          "/admin",  "/login",     "/login.html",
                                          "/cgi-bin/luci", "/manager/html", "/setup.cgi", "/config", "/webadmin"};

/* One GET over a new connection: the status, the response head and body
 * start into buf.  auth: an Authorization header value or NULL. */
static int http_get(sw_assess_run *r, sw_assess_finding *f, uint16_t port, const char *path, const char *auth,
                    unsigned char *buf, size_t cap, ssize_t *len, const char *note)
{
    int fd = sw__host_tcp(r, port, H_CONNECT_MS);
    if (fd < 0)
        return fd;
    char host[64] = "", req[512];
    sw_addr a;
    if (sw__host_addr(r, port, &a) == SW_OK)
        sw_addr_format(&a, host, sizeof host);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sipwall-assess/%s\r\n%s%s%sAccept: */*\r\n"
                     "Connection: close\r\n\r\n",
                     path, host, sw__assess_version(), auth ? "Authorization: " : "", auth ? auth : "",
                     auth ? "\r\n" : "");
    int s = sw__host_send(r, fd, req, (size_t)n);
    *len = s == SW_OK ? sw__host_read(fd, buf, cap, H_READ_MS, NULL) : 0;
    if (*len < 0)
        *len = 0;
    sw_assess_evidence *e = sw__host_evidence(r, f, "banner", "tcp", fd, port);
    close(fd);
    int status = 0;
    if (*len > 12 && !memcmp(buf, "HTTP/1.", 7))
        status = atoi((const char *)buf + 9);
    if (e) {
        sw_assess_evidence_bytes(e, req, (size_t)n, *len ? buf : NULL, (size_t)*len);
        sw_assess_evidence_note(e, "GET %s -> %d%s%s", path, status, note ? "; " : "", note ? note : "");
    }
    return s == SW_ELIMIT ? SW_ELIMIT : status;
}

/* The scheme of a WWW-Authenticate challenge in a response head. */
static const char *http_challenge(const unsigned char *b, size_t n)
{
    const unsigned char *h = find_ci(b, n, "\nWWW-Authenticate:");
    if (!h)
        return NULL;
    h += 18;
    while ((size_t)(h - b) < n && *h == ' ')
        h++;
    size_t left = n - (size_t)(h - b);
    if (left >= 5 && !strncasecmp((const char *)h, "Basic", 5))
        return "Basic";
    if (left >= 6 && !strncasecmp((const char *)h, "Digest", 6))
        return "Digest";
    return "other";
}

void sw__check_net_http(sw_assess_run *r, sw_assess_finding *f)
{
    uint16_t ports[4];
    size_t np = candidates(r, http_ports, 4, ports);
    char found[400] = "";
    int nfound = 0, nopen = 0;
    for (size_t i = 0; i < np; i++) {
        int any = 0;
        for (size_t k = 0; k < sizeof admin_paths / sizeof admin_paths[0]; k++) {
            unsigned char buf[16384];
            ssize_t len;
            int st = http_get(r, f, ports[i], admin_paths[k], NULL, buf, sizeof buf, &len, NULL);
            if (st == SW_ELIMIT || (st < 0 && k == 0))
                break;
            if (st < 0)
                continue;
            any = 1;
            const char *ch = st == 401 ? http_challenge(buf, (size_t)len) : NULL;
            int form = st == 200 && (find_ci(buf, (size_t)len, "type=\"password\"") ||
                                     find_ci(buf, (size_t)len, "type='password'") ||
                                     find_ci(buf, (size_t)len, "type=password"));
            if (ch || form) {
                nfound++;
                char hp[SW_ADDR_STRLEN] = "?";
                sw_addr ha;
                if (sw__host_addr(r, ports[i], &ha) == SW_OK)
                    sw_addr_format(&ha, hp, sizeof hp);
                snprintf(found + strlen(found), sizeof found - strlen(found), "%shttp://%s%s (%s)",
                         nfound > 1 ? ", " : "", hp, admin_paths[k], ch ? ch : "login form");
                if (ch && f->nevidence)
                    sw_assess_evidence_note(&f->evidence[f->nevidence - 1], "challenge %s %u %s", ch, ports[i],
                                            admin_paths[k]);
                break; /* one login per port is the finding */
            }
        }
        nopen += any;
    }
    if (nfound)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_HIGH, "login over plaintext HTTP: %s", found);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "%s", nopen ? "plaintext HTTP without a login" : "no plaintext HTTP");
}

/* ---- MQTT (NET-MQTT-01) ---------------------------------------------- */

/* CONNECT v3.1.1, clean session, no credentials, keepalive 10 s. */
static size_t mqtt_connect(unsigned char *out)
{
    char id[24];
    snprintf(id, sizeof id, "sipwall-");
    sw__assess_rand_hex(id + 8, 4);
    size_t idl = strlen(id), k = 0;
    out[k++] = 0x10;
    out[k++] = (unsigned char)(10 + 2 + idl);
    static const unsigned char vh[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 10};
    memcpy(out + k, vh, sizeof vh);
    k += sizeof vh;
    out[k++] = 0;
    out[k++] = (unsigned char)idl;
    memcpy(out + k, id, idl);
    return k + idl;
}

static int stop_connack(const unsigned char *b, size_t n)
{
    (void)b;
    return n >= 4;
}

/* A CONNACK's return code, -1 when none. */
static int connack_rc(const unsigned char *b, size_t n)
{
    return n >= 4 && b[0] == 0x20 && b[1] == 2 ? b[3] : -1;
}

static int mqtt_plain(sw_assess_run *r, sw_assess_finding *f, uint16_t port, char *what, size_t cap)
{
    int fd = sw__host_tcp(r, port, H_CONNECT_MS);
    if (fd < 0)
        return fd == SW_ELIMIT ? SW_ELIMIT : -100; /* not listening */
    unsigned char c[64], b[64];
    size_t cn = mqtt_connect(c);
    ssize_t n = 0;
    if (sw__host_send(r, fd, c, cn) == SW_OK)
        n = sw__host_read(fd, b, sizeof b, H_READ_MS, stop_connack);
    int rc = connack_rc(b, n > 0 ? (size_t)n : 0);
    static const unsigned char disc[] = {0xe0, 0x00};
    if (rc == 0)
        sw__host_send(r, fd, disc, sizeof disc);
    sw_assess_evidence *e = sw__host_evidence(r, f, "banner", "tcp", fd, port);
    close(fd);
    if (e) {
        sw_assess_evidence_bytes(e, c, cn, n > 0 ? b : NULL, n > 0 ? (size_t)n : 0);
        if (rc == 0)
            sw_assess_evidence_bytes(e, disc, sizeof disc, NULL, 0);
        sw_assess_evidence_note(e, "CONNECT without credentials -> %s %d", rc >= 0 ? "CONNACK" : "no CONNACK", rc);
    }
    snprintf(what, cap, "%u/tcp: %s%d", port, rc >= 0 ? "CONNACK " : "closed ", rc);
    return rc;
}

static int mqtt_tls(sw_assess_run *r, sw_assess_finding *f, uint16_t port, char *what, size_t cap)
{
    int fd = sw__host_tcp(r, port, H_CONNECT_MS);
    if (fd < 0)
        return fd == SW_ELIMIT ? SW_ELIMIT : -100;
    char err[256] = "";
    SSL_CTX *ctx = sw_tls_client_ctx(NULL, NULL, NULL, SW_TLS_VERIFY_NONE, err, sizeof err);
    sw_stream *s = ctx ? sw_stream_tls_client_new(fd, ctx, NULL) : NULL;
    if (!s) {
        if (!ctx)
            close(fd);
        sw_tls_ctx_free(ctx);
        snprintf(what, cap, "%u/tcp: no TLS client (%s)", port, err);
        return SW_EIO;
    }
    unsigned char c[64], b[64];
    size_t cn = mqtt_connect(c);
    ssize_t n = 0;
    int rc = -1, hs = SW_EAGAIN;
    const char *how = "";
    for (int spins = 0; spins < 40 && hs == SW_EAGAIN; spins++) { /* ≤ 4 s */
        hs = sw_stream_handshake(s);
        if (hs == SW_EAGAIN) {
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (hs == SW_OK && sw_assess_pace(r) == SW_OK) {
        ssize_t w = sw_stream_write(s, c, cn);
        for (int spins = 0; w > 0 && spins < 30 && n < 4; spins++) {
            ssize_t g = sw_stream_read(s, b + n, sizeof b - (size_t)n);
            if (g > 0)
                n += g;
            else if (g == SW_EAGAIN) {
                struct timespec ts = {0, 100 * 1000000};
                nanosleep(&ts, NULL);
            } else {
                how = g == SW_EAUTH ? "refused without a client certificate" : "closed";
                break;
            }
        }
        if (w <= 0)
            how = w == SW_EAUTH ? "refused without a client certificate" : "write failed";
        rc = connack_rc(b, n > 0 ? (size_t)n : 0);
    } else {
        how = hs == SW_EAUTH || hs == SW_EIO ? "handshake refused without a client certificate" : "handshake timed out";
    }
    snprintf(err, sizeof err, "%s", sw_stream_error(s));
    sw_assess_evidence *e = sw__host_evidence(r, f, "tls", "tls", sw_stream_fd(s), port);
    if (rc == 0 && sw_assess_pace(r) == SW_OK) {
        static const unsigned char disc[] = {0xe0, 0x00};
        (void)sw_stream_write(s, disc, sizeof disc);
    }
    sw_stream_close(s);
    sw_tls_ctx_free(ctx);
    if (e) {
        sw_assess_evidence_bytes(e, hs == SW_OK ? c : NULL, hs == SW_OK ? cn : 0, n > 0 ? b : NULL,
                                 n > 0 ? (size_t)n : 0);
        sw_assess_evidence_note(e, "TLS without a client certificate: %s%s%s", rc >= 0 ? "CONNACK" : how,
                                err[0] ? "; " : "", err);
    }
    if (rc >= 0)
        snprintf(what, cap, "%u/tls: CONNACK %d", port, rc);
    else
        snprintf(what, cap, "%u/tls: %s", port, how);
    return rc;
}

void sw__check_net_mqtt(sw_assess_run *r, sw_assess_finding *f)
{
    static const uint16_t want[] = {1883, 8883};
    uint16_t ports[2];
    size_t np = candidates(r, want, 2, ports);
    char what[2][160] = {"", ""}, bad[200] = "";
    int listeners = 0, anon = 0;
    for (size_t i = 0; i < np; i++) {
        int rc = ports[i] == 8883 ? mqtt_tls(r, f, 8883, what[i], sizeof what[i])
                                  : mqtt_plain(r, f, ports[i], what[i], sizeof what[i]);
        if (rc == -100)
            continue;
        if (rc == SW_ELIMIT) {
            sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "stopped by the packet budget or the clock");
            return;
        }
        listeners++;
        if (rc == 0) {
            anon++;
            snprintf(bad + strlen(bad), sizeof bad - strlen(bad), "%s%s", anon > 1 ? ", " : "", what[i]);
        }
    }
    if (anon)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_CRITICAL, "anonymous MQTT accepted (CONNACK 0): %s", bad);
    else if (listeners)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "anonymous MQTT refused: %s%s%s", what[0],
                      what[1][0] ? "; " : "", what[1]);
    else
        sw_assess_set(f, SW_ASSESS_SKIPPED, SW_ASSESS_INFO, "no MQTT listener on 1883 or 8883");
}

/* ---- SSH (NET-SSH-01) ------------------------------------------------ */

void sw__check_net_ssh(sw_assess_run *r, sw_assess_finding *f)
{
    static const uint16_t want[] = {22};
    uint16_t ports[1];
    if (!candidates(r, want, 1, ports)) {
        sw_assess_set(f, SW_ASSESS_SKIPPED, SW_ASSESS_INFO, "no SSH listener on 22");
        return;
    }
    int fd = sw__host_tcp(r, 22, H_CONNECT_MS);
    if (fd < 0) {
        sw_assess_set(f, fd == SW_ELIMIT ? SW_ASSESS_UNKNOWN : SW_ASSESS_SKIPPED, SW_ASSESS_INFO, "%s",
                      fd == SW_ELIMIT ? "stopped by the packet budget or the clock" : "no SSH listener on 22");
        return;
    }
    size_t cap = SW__SSH_MAX_PACKET + 2048, len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "out of memory");
        return;
    }
    long bl = SW_EINCOMPLETE;
    sw_str line = SW_STR_NULL;
    for (int k = 0; k < 12 && bl == SW_EINCOMPLETE && len < cap; k++) {
        ssize_t n = sw__host_read(fd, buf + len, cap - len, 250, NULL);
        if (n > 0)
            len += (size_t)n;
        bl = sw__ssh_banner((const char *)buf, len, &line);
    }
    char ours[64];
    int on = snprintf(ours, sizeof ours, "SSH-2.0-sipwall_assess\r\n");
    sw__ssh_kexinit kx;
    long kl = SW_EINCOMPLETE;
    if (bl > 0 && sw__host_send(r, fd, ours, (size_t)on) == SW_OK) {
        for (int k = 0; k < 12; k++) {
            kl = sw__ssh_kexinit_parse(buf + bl, len - (size_t)bl, &kx);
            if (kl != SW_EINCOMPLETE || len == cap)
                break;
            ssize_t n = sw__host_read(fd, buf + len, cap - len, 250, NULL);
            if (n > 0)
                len += (size_t)n;
        }
    }
    sw_assess_evidence *e = sw__host_evidence(r, f, "banner", "tcp", fd, 22);
    close(fd);
    if (e)
        sw_assess_evidence_bytes(e, bl > 0 ? ours : NULL, bl > 0 ? (size_t)on : 0, buf, len < 4096 ? len : 4096);
    if (bl <= 0) {
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "port 22 sent no SSH identification (%s)",
                      bl == SW_EINCOMPLETE ? "none within 3 s" : sw_strerror((int)bl));
        free(buf);
        return;
    }
    if (kl <= 0) {
        if (e)
            sw_assess_evidence_note(e, "banner %.*s; no KEXINIT: %s", (int)line.len, line.ptr, sw_strerror((int)kl));
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "%.*s; its KEXINIT could not be read (%s)",
                      (int)line.len, line.ptr, sw_strerror((int)kl));
        free(buf);
        return;
    }
    char weak[400];
    unsigned nweak = sw__ssh_weak(&kx, weak, sizeof weak);
    if (e)
        sw_assess_evidence_note(e, "kex=%.*s; hostkey=%.*s; enc=%.*s; mac=%.*s", (int)kx.lists[0].len,
                                kx.lists[0].ptr, (int)kx.lists[1].len, kx.lists[1].ptr, (int)kx.lists[3].len,
                                kx.lists[3].ptr, (int)kx.lists[5].len, kx.lists[5].ptr);
    char ver[96];
    int hasver = banner_version((const unsigned char *)line.ptr, line.len, ver, sizeof ver);
    if (nweak)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM, "%.*s offers %u weak algorithm(s): %s", (int)line.len,
                      line.ptr, nweak, weak);
    else if (hasver)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_LOW, "algorithms strong; the banner discloses %s", ver);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "algorithms strong, no version in the banner");
    free(buf);
}

/* ---- NET-DEFCRED-01 -------------------------------------------------- */

static const char *const cred_pairs[][2] = {{"admin", "admin"},   {"root", "root"},       {"admin", "1234"},
                                            {"admin", "password"}, {"user", "user"},      {"support", "support"},
                                            {"root", ""},          {"admin", ""},         {"root", "admin"},
                                            {"admin", "12345"}};
#define NPAIRS (sizeof cred_pairs / sizeof cred_pairs[0])

static int telnet_login(sw_assess_run *r, sw_assess_finding *f, uint16_t port, const char *user, const char *pass)
{
    int fd = sw__host_tcp(r, port, H_CONNECT_MS);
    if (fd < 0)
        return fd == SW_ELIMIT ? SW_ELIMIT : -1;
    unsigned char raw[2048], sent[512];
    char text[1024];
    size_t rawn = 0, tn = 0, sentn = 0;
    int ok = 0;
    char line[96];
    if (telnet_until(r, fd, "login:", 3000, raw, &rawn, sizeof raw, text, &tn, sizeof text, sent, &sentn,
                     sizeof sent)) {
        int n = snprintf(line, sizeof line, "%s\r\n", user);
        if (sw__host_send(r, fd, line, (size_t)n) == SW_OK) {
            memcpy(sent + sentn, line, (size_t)n < sizeof sent - sentn ? (size_t)n : sizeof sent - sentn);
            sentn += (size_t)n < sizeof sent - sentn ? (size_t)n : sizeof sent - sentn;
            size_t mark = tn;
            if (telnet_until(r, fd, "assword", 3000, raw, &rawn, sizeof raw, text, &tn, sizeof text, sent, &sentn,
                             sizeof sent)) {
                n = snprintf(line, sizeof line, "%s\r\n", pass);
                if (sw__host_send(r, fd, line, (size_t)n) == SW_OK) {
                    memcpy(sent + sentn, line, (size_t)n < sizeof sent - sentn ? (size_t)n : sizeof sent - sentn);
                    sentn += (size_t)n < sizeof sent - sentn ? (size_t)n : sizeof sent - sentn;
                    mark = tn;
                    telnet_until(r, fd, NULL, 2000, raw, &rawn, sizeof raw, text, &tn, sizeof text, sent, &sentn,
                                 sizeof sent);
                    const unsigned char *after = (const unsigned char *)text + mark;
                    size_t an = tn - mark;
                    int printable = 0;
                    for (size_t i = 0; i < an; i++)
                        printable += isgraph(after[i]) != 0;
                    ok = printable > 0 && !find_ci(after, an, "incorrect") && !find_ci(after, an, "fail") &&
                         !find_ci(after, an, "denied") && !find_ci(after, an, "invalid") &&
                         !find_ci(after, an, "login:") && !find_ci(after, an, "wrong");
                }
            }
            (void)mark;
        }
    }
    sw_assess_evidence *e = sw__host_evidence(r, f, "banner", "tcp", fd, port);
    close(fd);
    if (e) {
        sw_assess_evidence_bytes(e, sentn ? sent : NULL, sentn, rawn ? raw : NULL, rawn);
        sw_assess_evidence_note(e, "telnet login %s / %s: %s", user, pass, ok ? "accepted" : "not accepted");
    }
    return ok;
}

void sw__check_net_defcred(sw_assess_run *r, sw_assess_finding *f)
{
    uint16_t tp[2];
    size_t ntp = candidates(r, telnet_ports, 2, tp);
    int tried = 0;
    for (size_t i = 0; i < ntp; i++)
        for (size_t k = 0; k < NPAIRS; k++) {
            int ok = telnet_login(r, f, tp[i], cred_pairs[k][0], cred_pairs[k][1]);
            if (ok == SW_ELIMIT)
                goto stopped;
            if (ok < 0)
                break; /* not listening */
            tried++;
            if (ok == 1) {
                sw_assess_secret(f, cred_pairs[k][1]);
                sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_CRITICAL, "telnet on tcp %u accepts %s / %s", tp[i],
                              cred_pairs[k][0], cred_pairs[k][1]);
                return;
            }
        }
    /* HTTP: the Basic challenges NET-HTTP-01 found */
    const sw_assess_finding *hf = sw__assess_finding_of(r, "NET-HTTP-01");
    for (size_t i = 0; hf && i < hf->nevidence; i++) {
        const sw_assess_evidence *he = &hf->evidence[i];
        unsigned port;
        char path[128];
        if (!he->note || sscanf(he->note, "challenge Basic %u %127s", &port, path) != 2 || port == 0 || port > 65535)
            continue;
        for (size_t k = 0; k < NPAIRS; k++) {
            char up[64], auth[128] = "Basic ";
            int n = snprintf(up, sizeof up, "%s:%s", cred_pairs[k][0], cred_pairs[k][1]);
            EVP_EncodeBlock((unsigned char *)auth + 6, (const unsigned char *)up, n);
            unsigned char buf[4096];
            ssize_t len;
            char note[96];
            snprintf(note, sizeof note, "Basic %s / %s", cred_pairs[k][0], cred_pairs[k][1]);
            int st = http_get(r, f, (uint16_t)port, path, auth, buf, sizeof buf, &len, note);
            if (st == SW_ELIMIT)
                goto stopped;
            if (st < 0)
                break;
            tried++;
            if (st >= 200 && st < 300) {
                sw_assess_secret(f, cred_pairs[k][1]);
                sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_CRITICAL, "HTTP Basic on tcp %u %s accepts %s / %s", port,
                              path, cred_pairs[k][0], cred_pairs[k][1]);
                return;
            }
        }
    }
    /* SNMP communities, when 161/udp answered NET-PORT-01 */
    uint16_t up[8];
    size_t nup = sw__host_open_ports(r, 1, up, 8);
    for (size_t i = 0; i < nup; i++) {
        if (up[i] != 161)
            continue;
        static const char *const comm[] = {"public", "private"};
        for (size_t k = 0; k < 2; k++) {
            int fd = sw__host_udp(r, 161);
            if (fd < 0)
                break;
            unsigned char pkt[64];
            size_t cl = strlen(comm[k]), n = 0;
            pkt[n++] = 0x30;
            pkt[n++] = (unsigned char)(35 + cl);
            pkt[n++] = 0x02, pkt[n++] = 0x01, pkt[n++] = 0x01;
            pkt[n++] = 0x04, pkt[n++] = (unsigned char)cl;
            memcpy(pkt + n, comm[k], cl);
            n += cl;
            static const unsigned char pdu[] = {0xa0, 0x1c, 0x02, 0x04, 0x5a, 0x17, 0x00, 0x02, 0x02, 0x01,
                                                0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08,
                                                0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00};
            memcpy(pkt + n, pdu, sizeof pdu);
            n += sizeof pdu;
            unsigned char got[512];
            ssize_t g = sw__host_send(r, fd, pkt, n) == SW_OK ? sw__host_read(fd, got, sizeof got, 1000, NULL) : 0;
            sw_assess_evidence *e = sw__host_evidence(r, f, "banner", "udp", fd, 161);
            close(fd);
            if (e) {
                sw_assess_evidence_bytes(e, pkt, n, g > 0 ? got : NULL, g > 0 ? (size_t)g : 0);
                sw_assess_evidence_note(e, "SNMPv2c community %s: %s", comm[k], g > 0 ? "answered" : "no answer");
            }
            tried++;
            if (g > 0 && got[0] == 0x30) {
                sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_CRITICAL, "SNMP answers community \"%s\"", comm[k]);
                return;
            }
        }
    }
    if (tried)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "%d default credential attempt(s), none accepted", tried);
    else
        sw_assess_set(f, SW_ASSESS_SKIPPED, SW_ASSESS_INFO, "no telnet, HTTP Basic login or SNMP to try");
    return;
stopped:
    sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "stopped by the packet budget or the clock");
}

/* ---- NET-DEBUG-01 ---------------------------------------------------- */

void sw__check_net_debug(sw_assess_run *r, sw_assess_finding *f)
{
    static const uint16_t want[] = {5555, 4444, 6666, 3333, 1234};
    uint16_t ports[5];
    size_t np = candidates(r, want, 5, ports);
    char found[300] = "";
    int nfound = 0, probed = 0;
    for (size_t i = 0; i < np; i++) {
        uint16_t p = ports[i];
        int fd = sw__host_tcp(r, p, H_CONNECT_MS);
        if (fd == SW_ELIMIT)
            break;
        if (fd < 0)
            continue;
        unsigned char req[64], got[512];
        size_t rn = 0;
        const char *proto;
        if (p == 5555) { /* ADB CNXN, version 0x01000000, maxdata 4096, "host::\0" */
            static const char payload[] = "host::";
            uint32_t w[6] = {0x4e584e43u, 0x01000000u, 4096u, (uint32_t)sizeof payload, 0, 0x4e584e43u ^ 0xffffffffu};
            for (size_t k = 0; k < sizeof payload; k++)
                w[4] += (unsigned char)payload[k];
            for (int k = 0; k < 6; k++)
                for (int b = 0; b < 4; b++)
                    req[rn++] = (unsigned char)(w[k] >> (8 * b));
            memcpy(req + rn, payload, sizeof payload);
            rn += sizeof payload;
            proto = "ADB";
        } else if (p == 4444) {
            proto = "OpenOCD telnet"; /* the banner says it */
        } else if (p == 6666) {
            memcpy(req, "version\x1a", 8);
            rn = 8;
            proto = "OpenOCD Tcl";
        } else {
            memcpy(req, "$qSupported#37", 14);
            rn = 14;
            proto = "gdbserver";
        }
        ssize_t n = 0;
        if (rn && sw__host_send(r, fd, req, rn) != SW_OK) {
            close(fd);
            continue;
        }
        n = sw__host_read(fd, got, sizeof got, H_READ_MS, NULL);
        if (n < 0)
            n = 0;
        probed++;
        int hit = 0;
        if (p == 5555)
            hit = n >= 24 && (!memcmp(got, "CNXN", 4) || !memcmp(got, "AUTH", 4));
        else if (p == 4444 || p == 6666)
            hit = find_ci(got, (size_t)n, "Open On-Chip Debugger") != NULL;
        else
            hit = n >= 1 && (got[0] == '+' || got[0] == '$') && (n < 2 || find_ci(got, (size_t)n, "$") != NULL);
        sw_assess_evidence *e = sw__host_evidence(r, f, "banner", "tcp", fd, p);
        close(fd);
        if (e) {
            sw_assess_evidence_bytes(e, rn ? req : NULL, rn, n ? got : NULL, (size_t)n);
            sw_assess_evidence_note(e, "%s probe: %s", proto, hit ? "protocol answer" : "no protocol answer");
        }
        if (hit) {
            nfound++;
            snprintf(found + strlen(found), sizeof found - strlen(found), "%s%s on tcp %u", nfound > 1 ? ", " : "",
                     proto, p);
        }
    }
    if (nfound)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_CRITICAL, "debug interface answers: %s", found);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "%s",
                      probed ? "no debug protocol answered" : "no debug port (5555, 4444, 6666, 3333, 1234) open");
}
