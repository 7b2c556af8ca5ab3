/* The TLS checks of the catalogue (docs/assess.md, spec §3.2): versions,
 * suites, the certificate chain and mutual TLS, one handshake per probe
 * (src/net/tls_probe.c), each paced and recorded with its outcome, the
 * alert and, for the chain, the certificates as PEM. */
#include <stdlib.h>
#include <string.h>

#include "assess/assess_int.h"

/* The TLS port: the target's when it is TLS, else 5061 on the same host. */
static uint16_t tls_port(const sw_assess_run *r)
{
    const sw__assess_target *t = sw__assess_target_of(r);
    return t->transport == SW_TRANSPORT_TLS ? t->port : 5061;
}

typedef struct probe_out {
    int made;        /* the context could be made (else: untestable here) */
    int tcp;         /* the TCP connection was accepted */
    int hello;       /* the server answered our hello */
    int done;        /* the handshake finished on our side */
    int sip_status;  /* OPTIONS answer after the handshake (when asked), 0 none, <0 failure */
    char version[16], cipher[64];
    int alert_rx;
    char alert[64];
    char err[256];
} probe_out;

/* One handshake with options o on the TLS port; with `options` an OPTIONS
 * is sent once the handshake is done.  Recorded as a "tls" evidence on f
 * (the chain as PEM in received when `chain`). */
static void probe(sw_assess_run *r, sw_assess_finding *f, const sw_tls_probe_opts *o, const char *label,
                  int options, int chain, probe_out *out)
{
    memset(out, 0, sizeof *out);
    out->alert_rx = -1;
    const sw__assess_target *t = sw__assess_target_of(r);
    sw_assess_evidence *ev = sw_assess_evidence_add(f, "tls");
    if (ev) {
        snprintf(ev->transport, sizeof ev->transport, "tls");
        sw_addr a = t->addr;
        a.port = tls_port(r);
        sw_addr_format(&a, ev->remote, sizeof ev->remote);
    }
    sw_tls_probe *p = sw_tls_probe_new(o, out->err, sizeof out->err);
    if (!p) {
        if (ev)
            sw_assess_evidence_note(ev, "%s: not testable with this OpenSSL (%s)", label, out->err);
        return;
    }
    out->made = 1;
    if (sw_assess_pace(r) != SW_OK) {
        snprintf(out->err, sizeof out->err, "budget or clock spent");
        sw_tls_probe_free(p);
        return;
    }
    sw__assess_conn *c = sw__assess_conn_open_ctx(r, SW_TRANSPORT_TLS, tls_port(r), sw_tls_probe_ctx(p), out->err,
                                                  sizeof out->err);
    out->tcp = c != NULL || strncmp(out->err, "connect", 7) != 0;
    /* a hello this OpenSSL could not even build tested nothing */
    if (!c && (strstr(out->err, "no protocols available") || strstr(out->err, "no ciphers available")))
        out->made = 0;
    if (c && options) {
        sw__assess_reply *rep = malloc(sizeof *rep);
        char cid[40], tag[20], buf[2048];
        sw__assess_new_callid(cid);
        sw__assess_new_tag(tag);
        sw__assess_req q = {.method = "OPTIONS", .call_id = cid, .from_tag = tag, .cseq = 1, .expires = -1};
        long n = rep ? sw__assess_build(r, c, &q, buf, sizeof buf) : -1;
        if (n > 0) {
            sw__assess_xact x = {.call_id = cid, .min_status = 100, .ev = ev};
            out->sip_status = sw__assess_xact_run(r, c, buf, (size_t)n, &x, rep);
        }
        free(rep);
    }
    if (c && ev)
        sw__assess_evidence_conn(ev, c);
    sw__assess_conn_close(c);
    const sw_tls_probe_info *in = sw_tls_probe_get(p);
    out->hello = in->server_hello;
    out->done = in->handshake_done;
    out->alert_rx = in->alert_rx;
    snprintf(out->version, sizeof out->version, "%s", in->version);
    snprintf(out->cipher, sizeof out->cipher, "%s", in->cipher);
    snprintf(out->alert, sizeof out->alert, "%s", in->alert_rx >= 0 ? in->alert_text : "");
    if (!out->made) {
        if (ev)
            sw_assess_evidence_note(ev, "%s: not testable with this OpenSSL (%s)", label, out->err);
        sw_tls_probe_free(p);
        return;
    }
    if (ev) {
        if (chain && in->chain_pem)
            (void)sw_assess_evidence_bytes(ev, NULL, 0, in->chain_pem, strlen(in->chain_pem));
        sw_assess_evidence_note(ev, "%s: %s%s%s%s%s%s%s%s%s", label,
                                !out->tcp ? "TCP refused or silent"
                                : out->done ? "handshake done"
                                : out->hello ? "server hello, then failed"
                                            : "refused",
                                out->version[0] && out->hello ? ", " : "", out->hello ? out->version : "",
                                out->cipher[0] && out->hello ? " " : "", out->hello ? out->cipher : "",
                                out->alert[0] ? ", alert received: " : "", out->alert,
                                out->err[0] ? "; " : "", out->err);
    }
    sw_tls_probe_free(p);
}

static void base_opts(const sw_assess_run *r, sw_tls_probe_opts *o)
{
    const sw_assess_options *ao = sw_assess_opts(r);
    memset(o, 0, sizeof *o);
    o->ca = ao->ca;
    o->cert = ao->client_cert;
    o->key = ao->client_key;
    o->name = ao->tls_name ? ao->tls_name : sw__assess_target_of(r)->host;
}

/* 1 when a TCP connection to the TLS port is accepted (no TLS spoken). */
static int tls_port_open(sw_assess_run *r, sw_assess_finding *f)
{
    char err[256];
    if (sw_assess_pace(r) != SW_OK)
        return 0;
    sw__assess_conn *c = sw__assess_conn_open(r, SW_TRANSPORT_TCP, tls_port(r), err, sizeof err);
    if (!c) {
        sw_assess_evidence *ev = sw_assess_evidence_add(f, "port");
        if (ev) {
            snprintf(ev->transport, sizeof ev->transport, "tcp");
            sw_addr a = sw__assess_target_of(r)->addr;
            a.port = tls_port(r);
            sw_addr_format(&a, ev->remote, sizeof ev->remote);
            sw_assess_evidence_note(ev, "TLS port %u: %s", (unsigned)tls_port(r), err);
        }
        return 0;
    }
    sw__assess_conn_close(c);
    return 1;
}

/* ---- TLS-01 ---- */

/* OPTIONS over plaintext transport t at port: the status, 0 no answer, <0 no connection. */
static int plain_options(sw_assess_run *r, sw_assess_finding *f, sw_transport t, uint16_t port)
{
    char err[256];
    sw__assess_conn *c = sw__assess_conn_open(r, t, port, err, sizeof err);
    if (!c) {
        sw_assess_evidence *ev = sw_assess_evidence_add(f, "sip-exchange");
        if (ev) {
            snprintf(ev->transport, sizeof ev->transport, "%s", sw_transport_name(t));
            sw_addr a = sw__assess_target_of(r)->addr;
            a.port = port;
            sw_addr_format(&a, ev->remote, sizeof ev->remote);
            sw_assess_evidence_note(ev, "plaintext SIP over %s: %s", sw_transport_name(t), err);
        }
        return -1;
    }
    sw__assess_reply *rep = malloc(sizeof *rep);
    int st = -1;
    char cid[40], tag[20], buf[2048];
    sw__assess_new_callid(cid);
    sw__assess_new_tag(tag);
    sw__assess_req q = {.method = "OPTIONS", .call_id = cid, .from_tag = tag, .cseq = 1, .expires = -1};
    long n = rep ? sw__assess_build(r, c, &q, buf, sizeof buf) : -1;
    if (n > 0) {
        sw_assess_evidence *ev = sw_assess_evidence_add(f, "sip-exchange");
        sw__assess_xact x = {.call_id = cid, .min_status = 100, .retransmit = 1, .ev = ev};
        st = sw__assess_xact_run(r, c, buf, (size_t)n, &x, rep);
        if (ev)
            sw_assess_evidence_note(ev, "plaintext SIP over %s: %s %d", sw_transport_name(t),
                                    st > 0 ? "answered" : "no answer", st > 0 ? st : 0);
    }
    free(rep);
    sw__assess_conn_close(c);
    return st;
}

void sw__check_tls01(sw_assess_run *r, sw_assess_finding *f)
{
    const sw__assess_target *t = sw__assess_target_of(r);
    const sw_assess_options *ao = sw_assess_opts(r);
    sw_tls_probe_opts o;
    base_opts(r, &o);
    probe_out p;
    probe(r, f, &o, "TLS handshake", 0, 0, &p);
    int tls = p.hello;
    uint16_t pport = t->transport == SW_TRANSPORT_TLS ? 5060 : t->port;
    int udp = plain_options(r, f, SW_TRANSPORT_UDP, pport);
    int tcp = plain_options(r, f, SW_TRANSPORT_TCP, pport);
    int plain = udp > 0 || tcp > 0;
    if (!tls && plain)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_HIGH,
                      "no TLS on port %u while plaintext SIP answers on %u (%s%s%s)", (unsigned)tls_port(r),
                      (unsigned)pport, udp > 0 ? "UDP" : "", udp > 0 && tcp > 0 ? ", " : "", tcp > 0 ? "TCP" : "");
    else if (!tls)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "neither TLS on %u nor plaintext SIP on %u answered",
                      (unsigned)tls_port(r), (unsigned)pport);
    else if (plain && ao->profile == SW_ASSESS_PROFILE_SBC)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM,
                      "TLS on %u, but plaintext SIP also answers on %u (profile sbc expects TLS only)",
                      (unsigned)tls_port(r), (unsigned)pport);
    else if (plain)
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "TLS on %u (%s); plaintext SIP also answers on %u",
                      (unsigned)tls_port(r), p.version, (unsigned)pport);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "TLS on %u (%s); no plaintext SIP on %u",
                      (unsigned)tls_port(r), p.version, (unsigned)pport);
}

/* ---- TLS-02 ---- */

void sw__check_tls02(sw_assess_run *r, sw_assess_finding *f)
{
    static const struct {
        int v;
        const char *name;
    } vs[] = {{SW_TLS_V_SSL3, "SSLv3"}, {SW_TLS_V_1_0, "TLSv1"}, {SW_TLS_V_1_1, "TLSv1.1"},
              {SW_TLS_V_1_2, "TLSv1.2"}, {SW_TLS_V_1_3, "TLSv1.3"}};
    if (!tls_port_open(r, f)) {
        sw_assess_set(f, SW_ASSESS_SKIPPED, SW_ASSESS_INFO, "no TLS service on port %u", (unsigned)tls_port(r));
        return;
    }
    int acc[5] = {0}, untestable[5] = {0};
    char old[64] = "", list[256] = "";
    size_t off = 0;
    for (size_t i = 0; i < 5; i++) {
        sw_tls_probe_opts o;
        base_opts(r, &o);
        o.version = vs[i].v;
        o.name = NULL;
        probe_out p;
        char label[32];
        snprintf(label, sizeof label, "pinned to %s", vs[i].name);
        probe(r, f, &o, label, 0, 0, &p);
        untestable[i] = !p.made;
        acc[i] = p.hello && !strcmp(p.version, vs[i].name);
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s %s", off ? ", " : "", vs[i].name,
                                untestable[i] ? "untestable here" : acc[i] ? "accepted" : "refused");
        if (acc[i] && i < 3) {
            size_t l = strlen(old);
            snprintf(old + l, sizeof old - l, "%s%s", l ? ", " : "", vs[i].name);
        }
    }
    if (old[0])
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_HIGH, "obsolete protocol versions accepted: %s (%s)", old, list);
    else if (!acc[3] && !acc[4])
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM, "neither TLS 1.2 nor TLS 1.3 accepted (%s)", list);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "%s", list);
}

/* ---- TLS-03 ---- */

void sw__check_tls03(sw_assess_run *r, sw_assess_finding *f)
{
    /* severity of accepting each suite: 4 high, 3 medium, 1 low, 0 fine */
    static const struct {
        const char *name;
        int sev;
    } suites[] = {
        {"NULL-SHA256", 4},           {"NULL-SHA", 4},
        {"ECDHE-RSA-NULL-SHA", 4},    {"ADH-AES128-SHA", 4},
        {"AECDH-AES128-SHA", 4},      {"ADH-AES256-GCM-SHA384", 4},
        {"RC4-SHA", 4},               {"RC4-MD5", 4},
        {"ECDHE-RSA-RC4-SHA", 4},     {"DES-CBC-SHA", 4},
        {"DES-CBC3-SHA", 3},          {"ECDHE-RSA-DES-CBC3-SHA", 3},
        {"AES128-SHA", 3},            {"AES256-SHA", 3},
        {"AES128-GCM-SHA256", 3},     {"AES256-GCM-SHA384", 3},
        {"ECDHE-RSA-AES128-SHA", 1},  {"ECDHE-ECDSA-AES128-SHA", 1},
        {"ECDHE-ECDSA-AES256-SHA", 1}, {"DHE-RSA-AES128-SHA", 1},
        {"ECDHE-ECDSA-AES128-GCM-SHA256", 0}, {"ECDHE-RSA-AES128-GCM-SHA256", 0},
        {"ECDHE-ECDSA-CHACHA20-POLY1305", 0}, {"ECDHE-RSA-CHACHA20-POLY1305", 0},
    };
    if (!tls_port_open(r, f)) {
        sw_assess_set(f, SW_ASSESS_SKIPPED, SW_ASSESS_INFO, "no TLS service on port %u", (unsigned)tls_port(r));
        return;
    }
    int worst = 0, accepted = 0, untestable = 0, good = 0;
    char bad[400] = "";
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        sw_tls_probe_opts o;
        base_opts(r, &o);
        o.cipher12 = suites[i].name;
        o.name = NULL;
        probe_out p;
        char label[80];
        snprintf(label, sizeof label, "TLS 1.2 %s", suites[i].name);
        probe(r, f, &o, label, 0, 0, &p);
        if (!p.made) {
            untestable++;
            continue;
        }
        if (p.err[0] && !strcmp(p.err, "budget or clock spent"))
            break;
        if (p.hello && !strcmp(p.cipher, suites[i].name)) {
            accepted++;
            if (suites[i].sev == 0) {
                good++;
                continue;
            }
            if (suites[i].sev > worst)
                worst = suites[i].sev;
            size_t l = strlen(bad);
            snprintf(bad + l, sizeof bad - l, "%s%s", l ? ", " : "", suites[i].name);
        }
    }
    if (worst >= 4)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_HIGH, "NULL/anonymous/RC4/DES suites accepted: %s", bad);
    else if (worst == 3)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_MEDIUM, "3DES or non-PFS RSA key exchange accepted: %s", bad);
    else if (worst == 1)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_LOW, "CBC-SHA1 suites accepted: %s", bad);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO,
                      "%d TLS 1.2 suites accepted, all ECDHE+AEAD%s (%d not testable with this OpenSSL)", good,
                      good ? "" : " (or TLS 1.2 refused)", untestable);
}

/* ---- TLS-04 ---- */

void sw__check_tls04(sw_assess_run *r, sw_assess_finding *f)
{
    const sw_assess_options *ao = sw_assess_opts(r);
    sw_tls_probe_opts o;
    base_opts(r, &o);
    sw_tls_probe *p = sw_tls_probe_new(&o, NULL, 0);
    if (!p) {
        sw_assess_set(f, SW_ASSESS_ERROR, SW_ASSESS_INFO, "cannot make the TLS context (--ca, --client-cert?)");
        return;
    }
    char err[256] = "";
    sw__assess_conn *c = NULL;
    if (sw_assess_pace(r) == SW_OK)
        c = sw__assess_conn_open_ctx(r, SW_TRANSPORT_TLS, tls_port(r), sw_tls_probe_ctx(p), err, sizeof err);
    sw_assess_evidence *ev = sw_assess_evidence_add(f, "tls");
    if (ev) {
        snprintf(ev->transport, sizeof ev->transport, "tls");
        if (c)
            sw__assess_evidence_conn(ev, c);
    }
    sw__assess_conn_close(c);
    const sw_tls_probe_info *in = sw_tls_probe_get(p);
    if (!in->ncerts) {
        if (ev)
            sw_assess_evidence_note(ev, "no certificate received: %s", err[0] ? err : "-");
        sw_assess_set(f, in->server_hello ? SW_ASSESS_UNKNOWN : SW_ASSESS_SKIPPED, SW_ASSESS_INFO,
                      "no server certificate to judge (%s)", err[0] ? err : "no TLS service");
        sw_tls_probe_free(p);
        return;
    }
    if (ev) {
        (void)sw_assess_evidence_bytes(ev, NULL, 0, in->chain_pem, strlen(in->chain_pem));
        sw_assess_evidence_note(ev,
                                "leaf %s issued by %s; SHA-256 %s; %s %d bits; signature %s; %d days left; "
                                "chain against %s: %s; name %s: %s; %u certificates",
                                in->leaf_subject, in->leaf_issuer, in->leaf_sha256, in->key_type, in->key_bits,
                                in->sig_alg, in->days_left, ao->ca ? ao->ca : "the system store",
                                in->verify_error ? in->verify_text : "ok", o.name ? o.name : "-",
                                in->name_checked ? (in->name_ok ? "matches" : "MISMATCH") : "not checked",
                                in->ncerts);
    }
    int sev = -1;
    char why[512] = "";
    size_t off = 0;
#define ADD(s, ...)                                                                             \
    do {                                                                                        \
        if ((s) > sev)                                                                          \
            sev = (s);                                                                          \
        off += (size_t)snprintf(why + off, sizeof why - off, "%s", off ? "; " : "");            \
        if (off < sizeof why)                                                                   \
            off += (size_t)snprintf(why + off, sizeof why - off, __VA_ARGS__);                  \
        if (off >= sizeof why)                                                                  \
            off = sizeof why - 1;                                                               \
    } while (0)
    int unknown_chain = 0;
    if (in->verify_error && ao->ca)
        ADD(SW_ASSESS_HIGH, "the chain does not verify against %s: %s (depth %d)", ao->ca, in->verify_text,
            in->verify_depth);
    else if (in->verify_error)
        unknown_chain = 1;
    if (in->name_checked && !in->name_ok)
        ADD(SW_ASSESS_HIGH, "the certificate does not name %s", o.name);
    if (in->expired)
        ADD(SW_ASSESS_HIGH, "expired");
    else if (in->not_yet_valid)
        ADD(SW_ASSESS_HIGH, "not yet valid");
    else if (in->days_left < 30)
        ADD(SW_ASSESS_LOW, "expires in %d days", in->days_left);
    if ((!strcmp(in->key_type, "RSA") && in->key_bits < 2048) || (!strcmp(in->key_type, "EC") && in->key_bits < 256) ||
        !strcmp(in->key_type, "DSA"))
        ADD(SW_ASSESS_MEDIUM, "weak key: %s %d bits", in->key_type, in->key_bits);
    if (in->sig_sha1)
        ADD(SW_ASSESS_MEDIUM, "SHA-1/MD5 signature (%s)", in->sig_alg);
#undef ADD
    if (sev >= 0)
        sw_assess_set(f, SW_ASSESS_FAIL, (sw_assess_severity)sev, "%s", why);
    else if (unknown_chain)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO,
                      "the chain does not verify against the system store (%s): give the partner CA with --ca",
                      in->verify_text);
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO, "chain verified against %s, name %s %s, %s %d bits, %d days left",
                      ao->ca ? ao->ca : "the system store", o.name ? o.name : "-",
                      in->name_checked ? "matches" : "not checked", in->key_type, in->key_bits, in->days_left);
    sw_tls_probe_free(p);
}

/* ---- TLS-05 ---- */

void sw__check_tls05(sw_assess_run *r, sw_assess_finding *f)
{
    if (!tls_port_open(r, f)) {
        sw_assess_set(f, SW_ASSESS_SKIPPED, SW_ASSESS_INFO, "no TLS service on port %u", (unsigned)tls_port(r));
        return;
    }
    sw_tls_probe_opts o;
    base_opts(r, &o);
    o.cert = o.key = NULL;
    o.name = NULL;
    probe_out a, b;
    probe(r, f, &o, "no client certificate", 1, 0, &a);
    o.self_signed = 1;
    probe(r, f, &o, "fresh self-signed client certificate", 1, 0, &b);
    int a_sip = a.sip_status > 0, b_sip = b.sip_status > 0;
    if (a_sip || b_sip)
        sw_assess_set(f, SW_ASSESS_FAIL, SW_ASSESS_HIGH, "SIP answered over TLS %s%s%s: mutual TLS not enforced",
                      a_sip ? "without a client certificate" : "", a_sip && b_sip ? " and " : "",
                      b_sip ? "with a self-signed certificate" : "");
    else if (!a.tcp || !b.tcp)
        sw_assess_set(f, SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, "the TLS port stopped accepting connections");
    else
        sw_assess_set(f, SW_ASSESS_PASS, SW_ASSESS_INFO,
                      "both refused before any SIP answer (no certificate: %s; self-signed: %s)",
                      a.alert[0] ? a.alert : (a.err[0] ? a.err : "closed"),
                      b.alert[0] ? b.alert : (b.err[0] ? b.err : "closed"));
}
