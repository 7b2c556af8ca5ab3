/* sipwall assess: what the host and device checks share (internal).
 *
 * host_io.c: TCP/UDP probes of the one host, paced through the run and
 * recorded as evidence; ssh.c: the SSH banner and KEXINIT parser (outside
 * input: pure, bounded, fuzzed by fuzz/fuzz_ssh_kexinit.c); the checks
 * are in check_host.c and check_logsink.c. */
#ifndef SW_ASSESS_HOST_INT_H
#define SW_ASSESS_HOST_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "sipwall/addr.h"
#include "sipwall/assess.h"
#include "sipwall/common.h"

/* ---- SSH (RFC 4253) ---- */
#define SW__SSH_MAX_LINE 255u    /* RFC 4253 4.2: the identification line */
#define SW__SSH_MAX_PRELINES 16u /* other lines a server may send first */
#define SW__SSH_MAX_PACKET 35000u

enum {
    SW__SSH_KEX,
    SW__SSH_HOSTKEY,
    SW__SSH_ENC_CS,
    SW__SSH_ENC_SC,
    SW__SSH_MAC_CS,
    SW__SSH_MAC_SC,
    SW__SSH_COMP_CS,
    SW__SSH_COMP_SC,
    SW__SSH_LANG_CS,
    SW__SSH_LANG_SC,
    SW__SSH_NLISTS
};

typedef struct sw__ssh_kexinit {
    sw_str lists[SW__SSH_NLISTS]; /* views into the packet */
    int first_kex_follows;
} sw__ssh_kexinit;

/* Finds the identification line "SSH-..." in p[0..n) (other lines may come
 * first, at most SW__SSH_MAX_PRELINES).  Returns the bytes up to and
 * including its LF, with *line the view without CR LF; SW_EINCOMPLETE,
 * SW_EINVAL (a NUL, not SSH-2.0/1.99), SW_ELIMIT (a line over 255 bytes,
 * too many lines). */
long sw__ssh_banner(const char *p, size_t n, sw_str *line) SW_NONNULL(1, 3);
/* Parses one unencrypted binary packet carrying SSH_MSG_KEXINIT at p.
 * Returns the bytes the packet takes, SW_EINCOMPLETE (more needed),
 * SW_EINVAL (not a well-formed KEXINIT), SW_ELIMIT (packet_length over
 * SW__SSH_MAX_PACKET). */
long sw__ssh_kexinit_parse(const uint8_t *p, size_t n, sw__ssh_kexinit *out) SW_NONNULL(1, 3);
/* The next name of a comma-separated name-list from *pos: 1 and *name, or
 * 0 at the end.  Empty names are skipped. */
int sw__ssh_name_next(sw_str list, size_t *pos, sw_str *name) SW_NONNULL(2, 3);
/* The weak algorithms a KEXINIT offers (spec §3.3 NET-SSH-01: group1 and
 * SHA-1 key exchange, CBC/3DES/RC4 ciphers, SHA-1/MD5 MACs, DSA host
 * keys), space-separated "list:name" into out (cut at cap).  Returns how
 * many. */
unsigned sw__ssh_weak(const sw__ssh_kexinit *k, char *out, size_t cap) SW_NONNULL(1, 2);

/* ---- host I/O (host_io.c) ---- */
/* The host the host checks contact: --host, else the SIP target's address;
 * port set to port.  SW_OK or SW_EUSAGE (a --host that is not an IP). */
int sw__host_addr(sw_assess_run *r, uint16_t port, sw_addr *out) SW_NONNULL(1, 3);
/* A TCP connection to the host's port (paced: one packet).  Returns the
 * fd (blocking I/O is then bounded by sw__host_read's timeouts), or
 * SW_ENOTFOUND (refused: closed), SW_EAGAIN (no answer within timeout_ms:
 * filtered), SW_ELIMIT (budget/clock), SW_EIO. */
int sw__host_tcp(sw_assess_run *r, uint16_t port, unsigned timeout_ms) SW_NONNULL(1);
/* A connected UDP socket to the host's port (no packet sent yet). */
int sw__host_udp(sw_assess_run *r, uint16_t port) SW_NONNULL(1);
/* Sends all of buf (paced: one packet per call), counts the bytes.
 * SW_OK, SW_ELIMIT, SW_EIO (ECONNREFUSED on UDP: SW_ENOTFOUND). */
int sw__host_send(sw_assess_run *r, int fd, const void *buf, size_t n) SW_NONNULL(1, 3);
/* Reads into buf until cap bytes, the peer closes, timeout_ms passes, or
 * (when stop is non-NULL) stop(buf, len) says enough.  Returns the bytes
 * read (≥ 0), or SW_ENOTFOUND (ICMP port unreachable on UDP, a TCP reset
 * before any byte). */
typedef int (*sw__host_stop_fn)(const unsigned char *buf, size_t len);
ssize_t sw__host_read(int fd, unsigned char *buf, size_t cap, unsigned timeout_ms, sw__host_stop_fn stop)
    SW_NONNULL(2);
/* An evidence record of kind on f with transport and fd's local and remote
 * addresses (fd < 0: remote from the host and port). */
sw_assess_evidence *sw__host_evidence(sw_assess_run *r, sw_assess_finding *f, const char *kind,
                                      const char *transport, int fd, uint16_t port) SW_NONNULL(1, 2, 3, 4);

/* The open ports NET-PORT-01 recorded (evidence of kind "port" whose note
 * starts "open"): tcp when udp == 0.  Returns how many (at most max). */
size_t sw__host_open_ports(sw_assess_run *r, int udp, uint16_t *out, size_t max) SW_NONNULL(1, 3);

/* ---- syslog as a collector receives it (syslog_in.c) ---- */
#define SW__SYSLOG_MAX_MSG 8192u /* RFC 5425 4.3.1: what receivers SHOULD take */

/* One syslog frame at p[0..n): octet counting (RFC 5425, RFC 6587 3.4.1:
 * MSG-LEN SP MSG) when p starts with a digit, else non-transparent
 * framing (one message per LF, RFC 6587 3.4.2; a trailing CR is dropped).
 * Returns the bytes consumed (> 0) with *msg the message view, or
 * SW_EINCOMPLETE, SW_EINVAL (a leading zero, no SP after the length),
 * SW_ELIMIT (a message over max, max ≤ SW__SYSLOG_MAX_MSG). */
long sw__syslog_frame_next(const char *p, size_t n, size_t max, sw_str *msg) SW_NONNULL(1, 4);
/* The TIMESTAMP of an RFC 5424 message ("<PRI>1 TIMESTAMP ...") as Unix
 * seconds (UTC, the offset applied).  SW_OK, or SW_EINVAL: not RFC 5424,
 * the NILVALUE, or a malformed date. */
int sw__syslog_5424_time(sw_str msg, int64_t *unix_s) SW_NONNULL(2);
/* 1 when the address text ip occurs in msg as a whole token (not inside a
 * longer number or name: "127.0.0.1" is not in "127.0.0.10"). */
int sw__syslog_names(sw_str msg, const char *ip) SW_NONNULL(2);

/* ---- the checks (check_host.c, check_logsink.c), listed in catalogue.c ---- */
void sw__check_log_sink(sw_assess_run *r, sw_assess_finding *f);
void sw__check_net_port(sw_assess_run *r, sw_assess_finding *f);
void sw__check_net_banner(sw_assess_run *r, sw_assess_finding *f);
void sw__check_net_telnet(sw_assess_run *r, sw_assess_finding *f);
void sw__check_net_http(sw_assess_run *r, sw_assess_finding *f);
void sw__check_net_mqtt(sw_assess_run *r, sw_assess_finding *f);
void sw__check_net_ssh(sw_assess_run *r, sw_assess_finding *f);
void sw__check_net_defcred(sw_assess_run *r, sw_assess_finding *f);
void sw__check_net_debug(sw_assess_run *r, sw_assess_finding *f);

#endif
