/* The catalogue: every check of `sipwall assess` in report order, with its
 * contract (what it sends, severity, controls, EN 303 645 provisions, SIP
 * threats, remediation).  docs/assess.md describes each. */
#include "assess/assess_int.h"
#include "assess/host_int.h"

#define C SW_ASSESS_C

static const char *need_credential_tests(const sw_assess_options *o)
{
    return o->credential_tests ? NULL : "credential guessing needs --credential-tests";
}

static const char *need_max_rate(const sw_assess_options *o)
{
    return o->max_rate ? NULL : "the flood check needs --max-rate";
}

static const char *need_mtls(const sw_assess_options *o)
{
    return o->profile == SW_ASSESS_PROFILE_SBC || o->require_mtls ? NULL
                                                                  : "mutual TLS is expected only with --profile sbc or --require-mtls";
}

static const char *need_host(const sw_assess_options *o)
{
    return o->profile == SW_ASSESS_PROFILE_IOT || (o->host && o->host[0]) ? NULL
                                                                            : "host checks need --host or --profile iot";
}

static const char *need_log_sink(const sw_assess_options *o)
{
    return o->log_sink ? NULL : "the logging export check needs --log-sink tls:ADDR:PORT";
}

static const char *need_host_credential_tests(const sw_assess_options *o)
{
    const char *why = need_host(o);
    return why ? why : need_credential_tests(o);
}

static const sw_assess_check catalogue[] = {
    {"SIP-FP-01", "SIP fingerprint (product and version disclosed)", SW_ASSESS_LOW, C(5), "5.6-2", "D1",
     "Drop or neutralise Server and User-Agent (Kamailio: server_signature=no, sip_warning=0).",
     "1 OPTIONS; reads every reply collected", NULL, sw__check_sip_fp},
    {"SIP-AUTH-01", "Unauthenticated INVITE (open relay, toll fraud)", SW_ASSESS_CRITICAL, C(1) | C(5), "5.5-4",
     "D5", "Authenticate every dialog-creating request before routing; bar high-risk destinations.",
     "1 INVITE without SDP; CANCEL on 18x, ACK+BYE at once on 2xx", NULL, sw__check_sip_auth01},
    {"SIP-AUTH-02", "Unauthenticated REGISTER", SW_ASSESS_HIGH, C(1) | C(5), "5.5-4", "D10",
     "Challenge every REGISTER.", "1 REGISTER for a random user (Expires 60; removed at once if accepted)", NULL,
     sw__check_sip_auth02},
    {"SIP-AUTH-03", "Other methods out of dialog without authentication", SW_ASSESS_MEDIUM, C(5), "5.6-1,5.5-4",
     "D1", "Reject or challenge methods outside the interface profile.",
     "MESSAGE, SUBSCRIBE, REFER, PUBLISH, NOTIFY, INFO, UPDATE to random users", NULL, sw__check_sip_auth03},
    {"SIP-ENUM-01", "User enumeration (REGISTER and OPTIONS oracles)", SW_ASSESS_MEDIUM, C(5), "5.6-2", "D1",
     "Challenge before the user lookup; answer unknown users exactly like known ones, to REGISTER and OPTIONS.",
     "REGISTER and OPTIONS to the user URI for 2 random users and up to 20 candidates (--known-user or built-in)",
     NULL, sw__check_sip_enum},
    {"SIP-CRED-01", "Default or weak SIP passwords", SW_ASSESS_CRITICAL, C(1), "5.1-1,5.1-2", "D2",
     "Unique random per-device secrets; no default passwords.",
     "digest REGISTER for <= 5 users x <= 20 passwords, <= 1 try/s, stop at the first success", need_credential_tests,
     sw__check_sip_cred01},
    {"SIP-CRED-02", "Digest algorithms offered", SW_ASSESS_LOW, C(1) | C(4), "5.1-3", "D2",
     "Offer SHA-256 digest (RFC 8760) and qop=auth.", "nothing (reads the challenges received)", NULL,
     sw__check_sip_cred02},
    {"SIP-CRED-03", "Throttling of failed logins", SW_ASSESS_MEDIUM, C(1), "5.1-5", "D2",
     "Per-source and per-user limits on failed authentication.",
     "10 wrong passwords at <= 2/s for --test-account (or a known user)", need_credential_tests,
     sw__check_sip_cred03},
    {"SIP-LEAK-01", "Topology and access-network leaks", SW_ASSESS_MEDIUM, C(5), "5.6-2,5.8-1", "D9,D11",
     "Topology hiding; strip P-headers and internal addresses at the trust boundary.",
     "nothing (scans every reply received)", NULL, sw__check_sip_leak},
    {"SIP-ROBUST-01", "Robustness against malformed requests", SW_ASSESS_HIGH, C(5), "5.13-1", "D4",
     "Parser hardening and sanity checks; answer 400 or drop.",
     "26 malformed requests pointing back at us; liveness OPTIONS after every 5", NULL, sw__check_sip_robust},
    {"SIP-RATE-01", "Rate limiting of one source", SW_ASSESS_MEDIUM, C(5), "5.9-1,5.1-5", "D3",
     "Per-source rate limits (pike-style), 503 with Retry-After.",
     "200 OPTIONS at min(--max-rate, 500)/s; recovery probes for 60 s", need_max_rate, sw__check_sip_rate},
    {"TLS-01", "SIP over TLS offered (no plaintext only)", SW_ASSESS_HIGH, C(4), "5.5-1", "D9",
     "SIP over TLS only; close plaintext 5060.",
     "TCP+TLS handshake to the TLS port (target or 5061); OPTIONS to plaintext 5060 (UDP, TCP)", NULL,
     sw__check_tls01},
    {"TLS-02", "TLS protocol versions", SW_ASSESS_HIGH, C(4), "5.5-1", "",
     "Accept TLS 1.2 and 1.3 only.", "5 handshakes pinned to SSLv3, TLS 1.0, 1.1, 1.2, 1.3", NULL,
     sw__check_tls02},
    {"TLS-03", "TLS 1.2 cipher suites", SW_ASSESS_HIGH, C(4), "5.5-1", "",
     "ECDHE with AEAD suites only.", "one TLS 1.2 handshake per suite of a fixed list (<= 24)", NULL,
     sw__check_tls03},
    {"TLS-04", "Server certificate chain", SW_ASSESS_HIGH, C(4), "5.5-1", "",
     "Chain to the partner CA, names in subjectAltName, renewal before 30 days, RSA >= 2048 / EC >= 256, no SHA-1.",
     "1 handshake; the chain verified against --ca and --tls-name", NULL, sw__check_tls04},
    {"TLS-05", "Mutual TLS enforced", SW_ASSESS_HIGH, C(4) | C(1), "5.5-4", "",
     "require_certificate with pinned partner CAs.",
     "handshakes with no client certificate and with a fresh self-signed one, then OPTIONS", need_mtls,
     sw__check_tls05},
    /* host and device (spec §3.3, src/assess/check_host.c) */
    {"NET-PORT-01", "Listening ports against the declared services", SW_ASSESS_CRITICAL, SW_ASSESS_C(5),
     "5.6-1,5.6-5,5.6-4", "", "disable or firewall undeclared services; remove telnet, ADB and debug daemons from release builds",
     "TCP connect to 24 ports, UDP probes (SIP OPTIONS, SNMP get, CoAP GET, DTLS hello, SSDP)", need_host,
     sw__check_net_port},
    {"NET-BANNER-01", "Service banners disclose versions", SW_ASSESS_LOW, SW_ASSESS_C(5), "5.6-2", "",
     "remove product and version from banners (ServerTokens, DebianBanner no, server.tag)",
     "reads the first bytes of each open TCP service; HEAD / on silent HTTP ports", need_host, sw__check_net_banner},
    {"NET-TELNET-01", "Telnet (cleartext login)", SW_ASSESS_CRITICAL, SW_ASSESS_C(4) | SW_ASSESS_C(5),
     "5.5-1,5.6-1", "", "remove telnetd; SSH with keys or nothing", "telnet connect, every option refused, reads 2 s",
     need_host, sw__check_net_telnet},
    {"NET-HTTP-01", "Login over plaintext HTTP", SW_ASSESS_HIGH, SW_ASSESS_C(4), "5.5-7", "",
     "HTTPS or nothing for administration; redirect http:// to https://",
     "GET / and 9 admin paths over http:// on open HTTP ports", need_host, sw__check_net_http},
    {"NET-MQTT-01", "Anonymous MQTT", SW_ASSESS_CRITICAL, SW_ASSESS_C(1) | SW_ASSESS_C(5), "5.5-4", "",
     "MQTT over TLS with client certificates (require_certificate, allow_anonymous false)",
     "MQTT CONNECT without credentials (1883 plain, 8883 TLS without a client certificate), DISCONNECT on success",
     need_host, sw__check_net_mqtt},
    {"NET-SSH-01", "SSH algorithms", SW_ASSESS_MEDIUM, SW_ASSESS_C(4), "5.5-1", "",
     "curve25519/ECDH key exchange, AEAD or CTR ciphers with SHA-2 MACs; DebianBanner no",
     "SSH identification line, then reads the server KEXINIT (no key exchange)", need_host, sw__check_net_ssh},
    {"NET-DEFCRED-01", "Default device credentials", SW_ASSESS_CRITICAL, SW_ASSESS_C(1), "5.1-1", "",
     "unique per-device credentials; no default accounts",
     "<= 10 user/password pairs on telnet and HTTP Basic, SNMP public/private; stops at the first success",
     need_host_credential_tests, sw__check_net_defcred},
    {"NET-DEBUG-01", "Debug interfaces", SW_ASSESS_CRITICAL, SW_ASSESS_C(5), "5.6-4", "",
     "remove ADB, OpenOCD and gdbserver from release builds",
     "ADB CNXN on 5555, OpenOCD on 4444/6666, $qSupported on 3333/1234", need_host, sw__check_net_debug},
    /* logging export (spec §3.4, src/assess/check_logsink.c) */
    {"LOG-SINK-01", "Authentication failures exported over syslog/TLS", SW_ASSESS_MEDIUM, C(7), "5.7-2,5.10-1", "D2",
     "Export authentication and integrity failures over syslog/TLS (RFC 5425) or DTLS (RFC 6012).",
     "listens as an RFC 5425 collector on --log-sink; 3 REGISTERs with a wrong password; waits <= 60 s",
     need_log_sink, sw__check_log_sink},
};

const sw_assess_check *sw_assess_catalogue(size_t *n)
{
    *n = sizeof catalogue / sizeof catalogue[0];
    return catalogue;
}
