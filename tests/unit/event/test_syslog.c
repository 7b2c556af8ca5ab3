/* The export formatters: RFC 5424 with structured data, CEF and ECS inside
 * the MSG, the octet-counting frame.  Golden strings for known events, an
 * RFC 5424 grammar check (written from the RFC's ABNF) over random hostile
 * events, the size ceiling, the severity map and the sequence ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sipwall/event.h"

/* ---- helpers --------------------------------------------------------------- */

static const sw_syslog_opts opts_5424 = {SW_EXPORT_RFC5424, 16, "fw1", NULL, 4242, "0.1.0"};

/* A known event: a reject of an INVITE from a partner. */
static void known_event(sw_event *ev)
{
    sw_event_init(ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "scan.extensions");
    ev->ts_ns = INT64_C(1795500000123456789); /* 2026-11-24T… */
    ev->action = SW_ACTION_REJECT;
    ev->action_status = 403;
    ev->confidence = 90;
    ev->reason = SW_STR_LIT("12 extensions probed in 10 s");
    assert_int_equal(sw_addr_parse("192.0.2.7:5062", &ev->src), SW_OK);
    assert_int_equal(sw_addr_parse("198.51.100.1:5060", &ev->dst), SW_OK);
    ev->transport = SW_TRANSPORT_UDP;
    ev->peer = SW_STR_LIT("alpha");
    ev->method = SW_STR_LIT("INVITE");
    ev->call_id = SW_STR_LIT("abc@192.0.2.7");
    ev->from = SW_STR_LIT("100");
    ev->to = SW_STR_LIT("2001");
    (void)sw_event_add_num(ev, "distinct", 12);
    (void)sw_event_add_str(ev, "ua", SW_STR_LIT("friendly-scanner"));
}

/* Formats ev as stored (JSON) with id; returns the NUL-terminated message
 * in a static buffer. */
static char *fmt(const sw_syslog_opts *o, const sw_event *ev, int64_t id, int *len)
{
    static char out[SW_SYSLOG_MAX_MSG + 1];
    size_t jl = 0;
    char *js = sw_event_json(ev, &jl);
    assert_non_null(js);
    int n = sw_syslog_format(o, id, ev->ts_ns, js, jl, out, SW_SYSLOG_MAX_MSG);
    free(js);
    if (n < 0)
        fail_msg("format: %s", sw_strerror(n));
    assert_true(n <= SW_SYSLOG_MAX_MSG);
    out[n] = '\0';
    if (len)
        *len = n;
    return out;
}

/* ---- an RFC 5424 grammar check (§6, ABNF) ---------------------------------- */

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* One space-free field of 1..max PRINTUSASCII. */
static size_t field(const char *m, size_t n, size_t p, size_t max, const char **why)
{
    size_t s = p;
    while (p < n && m[p] != ' ') {
        if ((unsigned char)m[p] < 33 || (unsigned char)m[p] > 126) {
            *why = "non-PRINTUSASCII in a header field";
            return 0;
        }
        p++;
    }
    if (p == s || p - s > max) {
        *why = "header field length";
        return 0;
    }
    return p;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t l = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3
                              : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
        if (l == 0 || i + l > n)
            return 0;
        for (size_t k = 1; k < l; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += l;
    }
    return 1;
}

/* Returns NULL when m[0..n) is a well-formed RFC 5424 message (plus our
 * own rule: no control characters at all), else the reason.  *msg is set
 * to the MSG part. */
static const char *check_5424(const char *m, size_t n, const char **msg, size_t *msglen)
{
    const char *why = NULL;
    size_t p = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)m[i] < 0x20 || m[i] == 0x7f)
            return "control character";
    if (!valid_utf8((const unsigned char *)m, n))
        return "not UTF-8";
    if (n < 1 || m[0] != '<')
        return "PRI";
    size_t q = 1;
    while (q < n && q < 5 && m[q] >= '0' && m[q] <= '9')
        q++;
    if (q == 1 || q > 4 || q >= n || m[q] != '>' || atoi(m + 1) > 191 ||
        (q > 2 && m[1] == '0'))
        return "PRI value";
    p = q + 1;
    if (n < p + 2 || m[p] != '1' || m[p + 1] != ' ')
        return "VERSION";
    p += 2;
    /* TIMESTAMP: FULL-DATE "T" FULL-TIME, here always with ms and Z. */
    if (m[p] == '-') {
        p++;
    } else {
        if (n < p + 24 || !digits(m + p, 4) || m[p + 4] != '-' || !digits(m + p + 5, 2) ||
            m[p + 7] != '-' || !digits(m + p + 8, 2) || m[p + 10] != 'T' || !digits(m + p + 11, 2) ||
            m[p + 13] != ':' || !digits(m + p + 14, 2) || m[p + 16] != ':' ||
            !digits(m + p + 17, 2) || m[p + 19] != '.' || !digits(m + p + 20, 3) || m[p + 23] != 'Z')
            return "TIMESTAMP";
        p += 24;
    }
    static const size_t max[] = {255, 48, 128, 32}; /* HOSTNAME APP-NAME PROCID MSGID */
    for (int f = 0; f < 4; f++) {
        if (p >= n || m[p] != ' ')
            return "SP after a header field";
        if (!(p = field(m, n, p + 1, max[f], &why)))
            return why;
    }
    if (p >= n || m[p] != ' ')
        return "SP before STRUCTURED-DATA";
    p++;
    if (p < n && m[p] == '-') {
        p++;
    } else {
        char ids[8][33];
        int nids = 0;
        if (p >= n || m[p] != '[')
            return "SD-ELEMENT";
        while (p < n && m[p] == '[') {
            p++;
            size_t s = p;
            while (p < n && m[p] != ' ' && m[p] != ']' && m[p] != '=' && m[p] != '"')
                p++;
            if (p == s || p - s > 32)
                return "SD-ID length";
            for (int i = 0; i < nids; i++)
                if (strlen(ids[i]) == p - s && memcmp(ids[i], m + s, p - s) == 0)
                    return "SD-ID repeated";
            if (nids < 8) {
                memcpy(ids[nids], m + s, p - s);
                ids[nids++][p - s] = '\0';
            }
            while (p < n && m[p] == ' ') {
                p++;
                s = p;
                while (p < n && m[p] != '=' && m[p] != ' ' && m[p] != ']' && m[p] != '"')
                    p++;
                if (p == s || p - s > 32)
                    return "PARAM-NAME length";
                if (p + 1 >= n || m[p] != '=' || m[p + 1] != '"')
                    return "PARAM-NAME = \"";
                p += 2;
                while (p < n && m[p] != '"') {
                    if (m[p] == ']')
                        return "unescaped ] in PARAM-VALUE";
                    if (m[p] == '\\') {
                        if (p + 1 >= n)
                            return "backslash at the end";
                        p++;
                    }
                    p++;
                }
                if (p >= n)
                    return "unterminated PARAM-VALUE";
                p++;
            }
            if (p >= n || m[p] != ']')
                return "] after SD-ELEMENT";
            p++;
        }
    }
    if (p == n) {
        *msg = m + n;
        *msglen = 0;
        return NULL;
    }
    if (m[p] != ' ')
        return "SP before MSG";
    *msg = m + p + 1;
    *msglen = n - p - 1;
    /* MSG-ANY must then be ASCII for us: non-ASCII needs the BOM. */
    int ascii = 1;
    for (size_t i = 0; i < *msglen; i++)
        if ((unsigned char)(*msg)[i] >= 0x80)
            ascii = 0;
    if (!ascii && (*msglen < 3 || memcmp(*msg, "\xef\xbb\xbf", 3) != 0))
        return "non-ASCII MSG without the BOM";
    return NULL;
}

/* The decoded value of PARAM-NAME name in the message, or NULL. */
static const char *sd_param(const char *m, const char *name, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s=\"", name);
    const char *s = strstr(m, pat);
    if (!s)
        return NULL;
    s += strlen(pat);
    size_t o = 0;
    while (*s && *s != '"' && o + 1 < cap) {
        if (*s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == ']'))
            s++;
        out[o++] = *s++;
    }
    out[o] = '\0';
    return out;
}

/* ---- tests ------------------------------------------------------------------- */

static void golden_rfc5424(void **state)
{
    (void)state;
    sw_event ev;
    known_event(&ev);
    const char *want =
        "<131>1 2026-11-24T06:00:00.123Z fw1 sipwalld 4242 sip_scan [meta sequenceId=\"7\"]"
        "[sipwall@32473 id=\"7\" event_type=\"sip_scan\" category=\"behavioural\" "
        "rule=\"scan.extensions\" action=\"reject\" action_status=\"403\" mode=\"enforce\" "
        "confidence=\"90\" peer=\"alpha\" src_ip=\"192.0.2.7\" src_port=\"5062\" dst_ip=\"198.51.100.1\" "
        "dst_port=\"5060\" transport=\"udp\" method=\"INVITE\" call_id=\"abc@192.0.2.7\" "
        "from=\"100\" to=\"2001\" ev.distinct=\"12\" ev.ua=\"friendly-scanner\"] "
        "12 extensions probed in 10 s";
    assert_string_equal(fmt(&opts_5424, &ev, 7, NULL), want);
}

static void golden_cef(void **state)
{
    (void)state;
    sw_event ev;
    known_event(&ev);
    ev.reason = SW_STR_LIT("a=b | c\\d\nnext");
    ev.rule = "scan|ext";
    sw_syslog_opts o = opts_5424;
    o.format = SW_EXPORT_CEF;
    const char *want =
        "<131>1 2026-11-24T06:00:00.123Z fw1 sipwalld 4242 sip_scan [meta sequenceId=\"7\"]"
        "[sipwall@32473 id=\"7\"] CEF:0|sipwall|sipwalld|0.1.0|scan\\|ext|sip_scan|8|"
        "rt=1795500000123 externalId=7 cat=behavioural act=reject src=192.0.2.7 spt=5062 "
        "dst=198.51.100.1 dpt=5060 proto=UDP app=SIP suser=100 duser=2001 "
        "msg=a\\=b | c\\\\d\\nnext cs1Label=callId cs1=abc@192.0.2.7 flexString1Label=peer flexString1=alpha cs4Label=mode cs4=enforce "
        "cs5Label=sipMethod cs5=INVITE cs6Label=evidence "
        "cs6={\"distinct\":12,\"ua\":\"friendly-scanner\"} cn2Label=confidence cn2=90 "
        "cn3Label=actionStatus cn3=403";
    assert_string_equal(fmt(&o, &ev, 7, NULL), want);
}

static void ecs_fields(void **state)
{
    (void)state;
    sw_event ev;
    known_event(&ev);
    ev.transport = SW_TRANSPORT_TLS;
    assert_int_equal(sw_addr_parse("[2001:db8::7]:5061", &ev.src), SW_OK);
    sw_syslog_opts o = opts_5424;
    o.format = SW_EXPORT_ECS;
    int len;
    char *m = fmt(&o, &ev, 99, &len);
    const char *msg;
    size_t ml;
    const char *why = check_5424(m, (size_t)len, &msg, &ml);
    if (why)
        fail_msg("%s: %s", why, m);
    json_error_t jerr;
    json_t *doc = json_loadb(msg, ml, 0, &jerr);
    if (!doc)
        fail_msg("ECS MSG is not JSON: %s: %s", jerr.text, msg);
    const char *peer, *ts, *kind, *action, *reason, *rule, *sip, *proto, *sip_tr, *call, *ua, *id;
    json_int_t sev, sport, dport, seq, distinct;
    json_t *cat, *type;
    assert_int_equal(json_unpack_ex(doc, &jerr, JSON_STRICT,
                                    "{s:s, s:{s:s}, s:{s:s, s:o, s:o, s:s, s:s, s:s, s:I, s:s, "
                                    "s:I, s:s, s:s}, s:{s:s}, s:{s:s, s:I}, s:{s:s, s:I}, "
                                    "s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, "
                                    "s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:{s:I, s:s}}}",
                                    "@timestamp", &ts, "ecs", "version", &(const char *){0},
                                    "event", "kind", &kind, "category", &cat, "type", &type,
                                    "action", &action, "reason", &reason, "code",
                                    &(const char *){0}, "severity", &sev, "id", &id, "sequence",
                                    &seq, "module", &(const char *){0}, "dataset",
                                    &(const char *){0}, "rule", "name", &rule, "source", "ip",
                                    &(const char *){0}, "port", &sport, "destination", "ip",
                                    &(const char *){0}, "port", &dport, "network", "transport",
                                    &proto, "protocol", &sip, "observer", "hostname",
                                    &(const char *){0}, "vendor", &(const char *){0}, "product",
                                    &(const char *){0}, "type", &(const char *){0}, "sipwall",
                                    "event_type", &(const char *){0}, "category",
                                    &(const char *){0}, "mode", &(const char *){0}, "peer", &peer,
                                    "transport", &sip_tr, "method", &(const char *){0}, "call_id", &call, "from",
                                    &(const char *){0}, "to", &(const char *){0}, "confidence",
                                    &(json_int_t){0}, "action_status", &(json_int_t){0},
                                    "evidence", "distinct", &distinct, "ua", &ua),
                     0);
    assert_string_equal(ts, "2026-11-24T06:00:00.123Z");
    assert_string_equal(kind, "alert");
    assert_string_equal(json_string_value(json_array_get(type, 0)), "denied");
    assert_string_equal(json_string_value(json_array_get(cat, 1)), "intrusion_detection");
    assert_string_equal(action, "reject");
    assert_string_equal(reason, "12 extensions probed in 10 s");
    assert_string_equal(rule, "scan.extensions");
    assert_string_equal(id, "99");
    assert_int_equal(seq, 99);
    assert_int_equal(sev, 3);
    assert_int_equal(sport, 5061);
    assert_int_equal(dport, 5060);
    assert_string_equal(proto, "tcp");
    assert_string_equal(sip_tr, "tls");
    assert_string_equal(sip, "sip");
    assert_string_equal(call, "abc@192.0.2.7");
    assert_string_equal(peer, "alpha");
    assert_int_equal(distinct, 12);
    assert_string_equal(ua, "friendly-scanner");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "source"), "ip")),
                        "2001:db8::7");
    json_decref(doc);
}

/* The three characters RFC 5424 §6.3.3 escapes, control characters, NUL
 * and non-ASCII in values and in the MSG. */
/* The truth fields (event_id, incident_id, listener, mode passive) reach
 * every format. */
static void truth_fields(void **state)
{
    (void)state;
    sw_event ev;
    known_event(&ev);
    ev.passive = 1;
    ev.listener = SW_STR_LIT("ic-udp");
    snprintf(ev.event_id, sizeof ev.event_id, "%s", "0191c2a4-7b3e-7d21-8f00-0000000a1b2c");
    snprintf(ev.incident_id, sizeof ev.incident_id, "%s", "00112233aabbccdd");
    char v[64];
    const char *m = fmt(&opts_5424, &ev, 7, NULL);
    assert_non_null(sd_param(m, "mode", v, sizeof v));
    assert_string_equal(v, "passive");
    assert_non_null(sd_param(m, "listener", v, sizeof v));
    assert_string_equal(v, "ic-udp");
    assert_non_null(sd_param(m, "event_id", v, sizeof v));
    assert_string_equal(v, "0191c2a4-7b3e-7d21-8f00-0000000a1b2c");
    assert_non_null(sd_param(m, "incident_id", v, sizeof v));
    assert_string_equal(v, "00112233aabbccdd");
    sw_syslog_opts o = opts_5424;
    o.format = SW_EXPORT_CEF;
    m = fmt(&o, &ev, 7, NULL);
    assert_non_null(strstr(m, " cs4=passive"));
    assert_non_null(strstr(m, " flexString2Label=incidentId flexString2=00112233aabbccdd"));
    assert_non_null(strstr(m, " deviceExternalId=0191c2a4-7b3e-7d21-8f00-0000000a1b2c"));
    assert_non_null(strstr(m, " deviceInboundInterface=ic-udp"));
    o.format = SW_EXPORT_ECS;
    m = fmt(&o, &ev, 7, NULL);
    assert_non_null(strstr(m, "\"incident_id\":\"00112233aabbccdd\""));
    assert_non_null(strstr(m, "\"event_id\":\"0191c2a4-7b3e-7d21-8f00-0000000a1b2c\""));
    assert_non_null(strstr(m, "\"listener\":\"ic-udp\""));
    assert_non_null(strstr(m, "\"mode\":\"passive\""));
}

static void escaping(void **state)
{
    (void)state;
    sw_event ev;
    known_event(&ev);
    static const char cid[] = "a\"b\\c]d\r\ne\0f";
    ev.call_id = sw_str_make(cid, sizeof cid - 1);
    ev.reason = SW_STR_LIT("Anrufer \xc3\xbc" "ber \"]\\ line\nnext");
    int len;
    char *m = fmt(&opts_5424, &ev, 1, &len);
    const char *msg;
    size_t ml;
    const char *why = check_5424(m, (size_t)len, &msg, &ml);
    if (why)
        fail_msg("%s: %s", why, m);
    assert_non_null(strstr(m, " call_id=\"a\\\"b\\\\c\\]d\xef\xbf\xbd\xef\xbf\xbd" "e\xef\xbf\xbd" "f\""));
    char v[128];
    assert_non_null(sd_param(m, "call_id", v, sizeof v));
    assert_string_equal(v, "a\"b\\c]d\xef\xbf\xbd\xef\xbf\xbd" "e\xef\xbf\xbd" "f");
    /* UTF-8 MSG: BOM first; the newline replaced, the rest verbatim. */
    assert_int_equal(ml, strlen("\xef\xbb\xbf" "Anrufer \xc3\xbc" "ber \"]\\ line\xef\xbf\xbdnext"));
    assert_memory_equal(msg, "\xef\xbb\xbf" "Anrufer \xc3\xbc" "ber \"]\\ line\xef\xbf\xbdnext", ml);
    /* An ASCII reason goes without the BOM. */
    known_event(&ev);
    m = fmt(&opts_5424, &ev, 1, &len);
    assert_non_null(strstr(m, "] 12 extensions"));
}

/* Header fields: an unusable hostname is made PRINTUSASCII; empty = "-". */
static void header_fields(void **state)
{
    (void)state;
    sw_event ev;
    known_event(&ev);
    sw_syslog_opts o = opts_5424;
    o.hostname = "bad host\x01\xc3\xa9";
    o.procid = 0;
    o.facility = 4;
    char *m = fmt(&o, &ev, 1, NULL);
    assert_true(strncmp(m, "<35>1 2026-11-24T06:00:00.123Z bad?host??? sipwalld - sip_scan ", 63) == 0);
    o.hostname = NULL;
    m = fmt(&o, &ev, 1, NULL);
    assert_true(strncmp(m, "<35>1 2026-11-24T06:00:00.123Z - sipwalld - sip_scan ", 53) == 0);
}

static void severity_map(void **state)
{
    (void)state;
    assert_int_equal(sw_syslog_severity("drop", "cat1"), 4);
    assert_int_equal(sw_syslog_severity("reject", "cat0"), 4);
    assert_int_equal(sw_syslog_severity("reject", "cat3"), 3);
    assert_int_equal(sw_syslog_severity("drop", "behavioural"), 3);
    assert_int_equal(sw_syslog_severity("rate-limit", "behavioural"), 4);
    assert_int_equal(sw_syslog_severity("strip", "cat2"), 5);
    assert_int_equal(sw_syslog_severity("rewrite", "cat1"), 5);
    assert_int_equal(sw_syslog_severity("tag", "cat1"), 6);
    assert_int_equal(sw_syslog_severity("allow", "behavioural"), 5);
    assert_int_equal(sw_syslog_severity(NULL, NULL), 6);
    assert_int_equal(sw_syslog_severity("bogus", "bogus"), 6);
}

static void sequence_ids(void **state)
{
    (void)state;
    assert_int_equal(sw_syslog_sequence_id(1), 1);
    assert_int_equal(sw_syslog_sequence_id(3000), 3000);
    assert_int_equal(sw_syslog_sequence_id(INT64_C(2147483647)), INT64_C(2147483647));
    assert_int_equal(sw_syslog_sequence_id(INT64_C(2147483648)), 1);
    assert_int_equal(sw_syslog_sequence_id(INT64_C(4294967294)), INT64_C(2147483647));
    assert_int_equal(sw_syslog_sequence_id(INT64_C(4294967295)), 1);
    assert_int_equal(sw_syslog_sequence_id(INT64_MAX) >= 1, 1);
    assert_int_equal(sw_syslog_sequence_id(0), 1);
    sw_event ev;
    known_event(&ev);
    assert_non_null(strstr(fmt(&opts_5424, &ev, INT64_C(2147483648), NULL),
                           "[meta sequenceId=\"1\"][sipwall@32473 id=\"2147483648\""));
}

/* The largest event (every field and 16 evidence values at 256 bytes of
 * backslashes, escaped in every format) still fits SW_SYSLOG_MAX_MSG in every
 * format, cut and saying so. */
static void size_ceiling(void **state)
{
    (void)state;
    static char big[256];
    memset(big, '\\', sizeof big); /* escaped in all three formats */
    static char keys[16][40];
    sw_event ev;
    known_event(&ev);
    ev.nevidence = 0;
    sw_str b = sw_str_make(big, sizeof big);
    ev.reason = ev.call_id = ev.from = ev.to = ev.pai = ev.ruri = ev.file = ev.method = b;
    for (int i = 0; i < 16; i++) {
        snprintf(keys[i], sizeof keys[i], "a_very_long_evidence_key_number_%02d", i);
        (void)sw_event_add_str(&ev, keys[i], b);
    }
    for (int f = 0; f < 3; f++) {
        sw_syslog_opts o = opts_5424;
        o.format = (sw_export_format)f;
        int len;
        char *m = fmt(&o, &ev, 5, &len);
        const char *msg;
        size_t ml;
        const char *why = check_5424(m, (size_t)len, &msg, &ml);
        if (why)
            fail_msg("format %d: %s", f, why);
        if (!strstr(m, "cut=\"1\""))
            fail_msg("format %d: no cut=\"1\" in %s", f, m);
        if (f == SW_EXPORT_ECS) {
            json_t *doc = json_loadb(msg, ml, 0, NULL);
            assert_non_null(doc);
            assert_true(json_is_true(json_object_get(json_object_get(doc, "sipwall"), "cut")));
            json_decref(doc);
        }
    }
    /* A small event is never cut. */
    known_event(&ev);
    assert_null(strstr(fmt(&opts_5424, &ev, 5, NULL), "cut="));
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random hostile events: every format must give a well-formed message
 * whose MSG is, for ECS, JSON, and for CEF, seven unescaped '|'. */
static void grammar_random(void **state)
{
    (void)state;
    static char pool[8][300];
    static const char alphabet[] = "\"\\]=|[ \r\n\t\0\x7f\xc3\xa9\xff\xfe%az09";
    for (int iter = 0; iter < 3000; iter++) {
        sw_event ev;
        sw_event_init(&ev, (sw_event_type)(next_rand() % SW_EVT__COUNT),
                      (sw_category)(next_rand() % SW_CAT__COUNT), "r\"]\\ule");
        ev.action = (sw_action)(next_rand() % SW_ACTION__COUNT);
        ev.ts_ns = (int64_t)(next_rand() % (UINT64_C(4000000000) * 1000000000));
        sw_str *f[] = {&ev.reason, &ev.call_id, &ev.from, &ev.to, &ev.pai, &ev.ruri, &ev.method,
                       &ev.file};
        for (int k = 0; k < 8; k++) {
            size_t n = next_rand() % 300;
            for (size_t i = 0; i < n; i++)
                pool[k][i] = alphabet[next_rand() % (sizeof alphabet - 1)];
            *f[k] = sw_str_make(pool[k], n);
        }
        if (next_rand() & 1)
            assert_int_equal(sw_addr_parse("[::1]:1", &ev.src), SW_OK);
        (void)sw_event_add_str(&ev, "k=\"]", *f[next_rand() % 8]);
        sw_syslog_opts o = opts_5424;
        o.format = (sw_export_format)(iter % 3);
        int len;
        char *m = fmt(&o, &ev, (int64_t)(next_rand() >> 1) | 1, &len);
        const char *msg;
        size_t ml;
        const char *why = check_5424(m, (size_t)len, &msg, &ml);
        if (why)
            fail_msg("iteration %d format %d: %s: %s", iter, iter % 3, why, m);
        if (o.format == SW_EXPORT_ECS) {
            json_t *doc = json_loadb(msg, ml, JSON_ALLOW_NUL, NULL);
            if (!doc)
                fail_msg("iteration %d: ECS is not JSON: %s", iter, msg);
            json_decref(doc);
        } else if (o.format == SW_EXPORT_CEF) {
            int pipes = 0;
            if (ml >= 3 && memcmp(msg, "\xef\xbb\xbf", 3) == 0) {
                msg += 3;
                ml -= 3;
            }
            assert_true(ml > 6 && memcmp(msg, "CEF:0|", 6) == 0);
            for (size_t i = 0; i < ml && pipes < 7; i++) {
                if (msg[i] == '\\')
                    i++;
                else if (msg[i] == '|')
                    pipes++;
            }
            assert_int_equal(pipes, 7);
        }
    }
}

static void bad_rows(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(sw_syslog_format(&opts_5424, 1, 0, "[1,2]", 5, out, sizeof out), SW_EINVAL);
    assert_int_equal(sw_syslog_format(&opts_5424, 1, 0, "{\"a\":", 5, out, sizeof out), SW_EINVAL);
    assert_int_equal(sw_syslog_format(&opts_5424, 1, 0, "", 0, out, sizeof out), SW_EINVAL);
    /* Too small for even the shortest form. */
    assert_int_equal(sw_syslog_format(&opts_5424, 1, 0, "{}", 2, out, 20), SW_ELIMIT);
    /* An empty object still makes a valid message. */
    int n = sw_syslog_format(&opts_5424, 1, 0, "{}", 2, out, sizeof out);
    assert_true(n > 0);
    const char *msg;
    size_t ml;
    assert_null(check_5424(out, (size_t)n, &msg, &ml));
    out[n] = '\0';
    assert_string_equal(out, "<134>1 1970-01-01T00:00:00.000Z fw1 sipwalld 4242 - "
                             "[meta sequenceId=\"1\"][sipwall@32473 id=\"1\"] ");
}

static void framing(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(sw_syslog_frame("hello", 5, out, sizeof out), 7);
    assert_memory_equal(out, "5 hello", 7);
    assert_int_equal(sw_syslog_frame("hello", 5, out, 6), SW_ELIMIT);
    assert_int_equal(sw_syslog_frame("hello", 0, out, sizeof out), SW_ELIMIT);
    static char big[SW_SYSLOG_MAX_MSG], fr[SW_SYSLOG_MAX_MSG + SW_SYSLOG_FRAME_HDR];
    memset(big, 'x', sizeof big);
    assert_int_equal(sw_syslog_frame(big, sizeof big, fr, sizeof fr), (int)sizeof big + 5);
    assert_memory_equal(fr, "8192 x", 6);
}

static void format_names(void **state)
{
    (void)state;
    sw_export_format f;
    assert_int_equal(sw_export_format_lookup("cef", &f), SW_OK);
    assert_int_equal(f, SW_EXPORT_CEF);
    assert_int_equal(sw_export_format_lookup("ecs", &f), SW_OK);
    assert_int_equal(f, SW_EXPORT_ECS);
    assert_int_equal(sw_export_format_lookup("rfc5424", &f), SW_OK);
    assert_int_equal(f, SW_EXPORT_RFC5424);
    assert_int_equal(sw_export_format_lookup("json", &f), SW_ENOTFOUND);
    assert_string_equal(sw_export_format_name(SW_EXPORT_ECS), "ecs");
    assert_null(sw_export_format_name((sw_export_format)9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_rfc5424), cmocka_unit_test(golden_cef),
        cmocka_unit_test(ecs_fields),     cmocka_unit_test(escaping),
        cmocka_unit_test(header_fields),  cmocka_unit_test(severity_map),
        cmocka_unit_test(sequence_ids),   cmocka_unit_test(size_ceiling),
        cmocka_unit_test(grammar_random), cmocka_unit_test(bad_rows),
        cmocka_unit_test(framing),        cmocka_unit_test(format_names),
        cmocka_unit_test(truth_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
