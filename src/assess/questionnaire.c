/* The questionnaire (spec §4): what cannot be probed, as claims with
 * evidence, merged with the findings of the checks that can.
 *
 * The template is generated from one item table (the template printer,
 * the default checked_by of an answer and its severity all come from it).
 * The loader uses libyaml's document API; every error names the file and
 * the line of the offending node.  Bounds: the text (1 MiB), the number
 * of answers, evidence items, services and list entries, and every string
 * are capped; the walk descends a fixed depth, so aliases cannot make it
 * loop or grow.  Evidence files are read (≤ 64 MiB each) and hashed with
 * SHA-256 relative to the questionnaire's directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "sipwall/assess.h"

#define Q_MAX_ANSWERS 128
#define Q_MAX_EVIDENCE 64
#define Q_MAX_SERVICES 64
#define Q_MAX_LIST 8
#define Q_MAX_EVIDENCE_FILE (64u << 20)

#define PROF(p) (1u << (p))
#define ALLP (PROF(SW_ASSESS_PROFILE_SIP_SERVICE) | PROF(SW_ASSESS_PROFILE_SBC) | PROF(SW_ASSESS_PROFILE_IOT))
#define SIPP (PROF(SW_ASSESS_PROFILE_SIP_SERVICE) | PROF(SW_ASSESS_PROFILE_SBC))

/* One template item: a question a person answers, with the checks whose
 * results beat the claim. */
typedef struct q_item {
    const char *id;
    unsigned control;   /* 1..7 */
    const char *en;     /* comma-separated */
    const char *question;
    const char *checked_by; /* comma-separated check ids, "" = none */
    sw_assess_severity sev;
    unsigned profiles;
} q_item;

static const q_item q_items[] = {
    {"Q-C1-01", 1, "5.1-1,5.1-2", "Are all passwords and secrets unique per device, with no default or shared ones?",
     "SIP-CRED-01,NET-DEFCRED-01", SW_ASSESS_CRITICAL, ALLP},
    {"Q-C1-02", 1, "5.1-5", "Is brute force on every authentication interface made impracticable (per-source and per-user limits)?",
     "SIP-CRED-03", SW_ASSESS_MEDIUM, ALLP},
    {"Q-C1-03", 1, "5.1-4", "Is there a simple mechanism to change the authentication values?", "", SW_ASSESS_MEDIUM,
     ALLP},
    {"Q-C1-04", 1, "5.1-3", "Do authentication mechanisms use best-practice cryptography (e.g. digest SHA-256, qop)?",
     "SIP-CRED-02", SW_ASSESS_LOW, ALLP},
    {"Q-C2-01", 2, "5.7-1", "Is the software verified by a secure boot chain (signature checked from an immutable root)?",
     "", SW_ASSESS_HIGH, ALLP},
    {"Q-C2-02", 2, "5.7-2", "Is an integrity failure acted on (refused boot, alert, log)?", "", SW_ASSESS_MEDIUM, ALLP},
    {"Q-C3-01", 3, "5.3-9,5.3-10", "Are updates signed and verified before installation, a tampered image refused?", "",
     SW_ASSESS_HIGH, ALLP},
    {"Q-C3-02", 3, "5.3-7", "Does the update mechanism use best-practice cryptography and a protected trust anchor?", "",
     SW_ASSESS_MEDIUM, ALLP},
    {"Q-C3-03", 3, "5.3-2", "Are older (rolled-back) images refused?", "", SW_ASSESS_MEDIUM, ALLP},
    {"Q-C3-04", 3, "5.3-2,5.5-1", "Are updates delivered over an authenticated, encrypted transport?", "",
     SW_ASSESS_MEDIUM, ALLP},
    {"Q-C3-05", 3, "5.3-13", "Is the support period (security updates until) published?", "", SW_ASSESS_LOW, ALLP},
    {"Q-VDP-01", 3, "5.2-1", "Is a vulnerability disclosure policy published?", "", SW_ASSESS_LOW, ALLP},
    {"Q-C4-01", 4, "5.5-1", "Does every network interface use TLS/DTLS (no plaintext protocol)?",
     "TLS-01,TLS-02,TLS-03,NET-TELNET-01", SW_ASSESS_HIGH, ALLP},
    {"Q-C4-02", 4, "5.5-8", "Are certificates managed (renewal before expiry, revocation, private CA kept safe)?",
     "TLS-04", SW_ASSESS_MEDIUM, ALLP},
    {"Q-C4-03", 4, "5.5-4", "Is mutual TLS required where peers connect (interconnect, broker, management)?",
     "TLS-05,NET-MQTT-01", SW_ASSESS_HIGH, ALLP},
    {"Q-C5-01", 5, "5.6-4", "Are physical and network debug interfaces (JTAG, SWD, UART, USB, ADB, gdbserver) disabled?",
     "NET-DEBUG-01", SW_ASSESS_HIGH, ALLP},
    {"Q-C5-02", 5, "5.6-1,5.6-2", "Is the list of listening services complete (declared_services) and nothing else enabled?",
     "NET-PORT-01", SW_ASSESS_HIGH, ALLP},
    {"Q-C5-03", 5, "5.6-7", "Do services run with least privilege?", "", SW_ASSESS_MEDIUM, ALLP},
    {"Q-C5-04", 5, "5.13-1", "Is all input from outside validated (SIP parser hardened)?", "SIP-ROBUST-01",
     SW_ASSESS_HIGH, ALLP},
    {"Q-C6-01", 6, "5.4-1", "Are keys and secrets kept in tamper-resistant storage (SE, TEE, eSIM / IoT SAFE)?", "",
     SW_ASSESS_HIGH, ALLP},
    {"Q-C6-02", 6, "5.4-4", "Are authentication keys unique per device?", "", SW_ASSESS_HIGH, ALLP},
    {"Q-C6-03", 6, "5.4-3", "Is the software free of hard-coded critical security parameters?", "", SW_ASSESS_HIGH,
     ALLP},
    {"Q-C7-01", 7, "5.7-2,5.10-1", "Are failed logins and integrity failures logged and exported over syslog/TLS?",
     "LOG-SINK-01", SW_ASSESS_MEDIUM, ALLP},
    {"Q-C7-02", 7, "5.10-1", "Are log retention and a trusted time source defined?", "", SW_ASSESS_LOW, ALLP},
    {"Q-NET-01", 4, "5.5-7", "Is there no plaintext management interface (telnet, HTTP admin)?",
     "NET-PORT-01,NET-TELNET-01,NET-HTTP-01", SW_ASSESS_HIGH, ALLP},
    {"Q-NET-02", 5, "5.5-4", "Is every dialog-creating SIP request authenticated before routing, high-risk destinations barred?",
     "SIP-AUTH-01,SIP-AUTH-02,SIP-AUTH-03", SW_ASSESS_CRITICAL, SIPP},
    {"Q-NET-03", 5, "5.6-2,5.8-1", "Is the topology hidden at the trust boundary (internal addresses, P-headers, versions)?",
     "SIP-LEAK-01,SIP-FP-01", SW_ASSESS_MEDIUM, SIPP},
    {"Q-NET-04", 5, "5.9-1", "Are SIP requests rate limited per source?", "SIP-RATE-01", SW_ASSESS_MEDIUM, SIPP},
    {"Q-NET-05", 4, "5.5-1,5.5-4", "Is SIP offered over TLS only, with mutual TLS to partners?", "TLS-01,TLS-05",
     SW_ASSESS_HIGH, PROF(SW_ASSESS_PROFILE_SBC)},
};

#define Q_NITEMS (sizeof q_items / sizeof q_items[0])

typedef struct q_evidence {
    char id[16];
    char kind[8];       /* file | url */
    char path[256];
    char url[256];
    char sha256[65];    /* file: computed (and checked against a given one) */
    int line;
} q_evidence;

typedef struct q_answer {
    char id[32];
    unsigned control;   /* 1..7, 0 = none */
    char en[Q_MAX_LIST][16];
    size_t nen;
    char claim[8];      /* yes | no | partial | n/a | "" */
    char detail[512];
    char evidence[Q_MAX_LIST][16];
    size_t nevidence;
    char checked_by[Q_MAX_LIST][24];
    size_t nchecked_by;
    sw_assess_severity sev;
    int line;
} q_answer;

struct sw_assess_questionnaire {
    char file[512];
    char sha256[65];
    char subject[5][128]; /* name vendor model firmware profile */
    sw_assess_service services[Q_MAX_SERVICES];
    size_t nservices;
    q_evidence evidence[Q_MAX_EVIDENCE];
    size_t nevidence;
    q_answer answers[Q_MAX_ANSWERS];
    size_t nanswers;
};

static const char *const subject_keys[5] = {"name", "vendor", "model", "firmware", "profile"};

const char *sw_assess_basis_name(sw_assess_basis b)
{
    switch (b) {
    case SW_ASSESS_BASIS_DECLARED: return "declared";
    case SW_ASSESS_BASIS_DECLARED_EVIDENCE: return "declared+evidence";
    case SW_ASSESS_BASIS_TESTED: return "tested";
    default: return "none";
    }
}

const char *sw_assess_result_name(sw_assess_result r)
{
    switch (r) {
    case SW_ASSESS_PASS: return "pass";
    case SW_ASSESS_FAIL: return "fail";
    case SW_ASSESS_UNKNOWN: return "unknown";
    case SW_ASSESS_SKIPPED: return "skipped";
    default: return "error";
    }
}

const char *sw_assess_severity_name(sw_assess_severity s)
{
    switch (s) {
    case SW_ASSESS_CRITICAL: return "critical";
    case SW_ASSESS_HIGH: return "high";
    case SW_ASSESS_MEDIUM: return "medium";
    case SW_ASSESS_LOW: return "low";
    default: return "info";
    }
}

static const char *profile_name(sw_assess_profile p)
{
    switch (p) {
    case SW_ASSESS_PROFILE_SBC: return "sbc";
    case SW_ASSESS_PROFILE_IOT: return "iot";
    default: return "sip-service";
    }
}

/* ---- The template ---------------------------------------------------- */

static void print_list(FILE *out, const char *csv, int quote)
{
    fputc('[', out);
    const char *p = csv;
    int first = 1;
    while (*p) {
        size_t n = strcspn(p, ",");
        fprintf(out, "%s%s%.*s%s", first ? "" : ", ", quote ? "\"" : "", (int)n, p, quote ? "\"" : "");
        first = 0;
        p += n;
        if (*p == ',')
            p++;
    }
    fputc(']', out);
}

void sw_assess_questionnaire_template(sw_assess_profile p, FILE *out)
{
    fprintf(out,
            "# sipwall assess questionnaire (profile %s): what cannot be probed.\n"
            "# Fill in each claim (yes | no | partial | n/a; n/a needs a detail, EN 303 645\n"
            "# clause 4), a detail, and evidence ids.  Evidence files are hashed into the\n"
            "# report, paths relative to this file; a missing file is an error.\n"
            "# A test beats a claim: checked_by names the checks that decide the item\n"
            "# when they run (a failed test against a claim of yes is a contradiction).\n"
            "sipwall_questionnaire: 1\n"
            "subject: {name: \"\", vendor: \"\", model: \"\", firmware: \"\", profile: %s}\n"
            "declared_services:   # the contract NET-PORT-01 checks against: every port that may listen\n"
            "  # - {port: 5061, proto: tcp, service: sips, purpose: \"SIP trunk\"}\n"
            "evidence:            # referenced by id from the answers\n"
            "  # - {id: E1, kind: file, path: \"evidence/secure-boot-log.txt\"}\n"
            "  # - {id: E2, kind: url, url: \"https://example.com/security/disclosure\"}\n"
            "answers:\n",
            profile_name(p), profile_name(p));
    for (size_t i = 0; i < Q_NITEMS; i++) {
        const q_item *it = &q_items[i];
        if (!(it->profiles & PROF(p)))
            continue;
        fprintf(out, "  - id: %s\n    control: C%u\n    en: ", it->id, it->control);
        print_list(out, it->en, 1);
        fprintf(out, "\n    question: \"%s\"\n    checked_by: ", it->question);
        print_list(out, it->checked_by, 0);
        fprintf(out, "\n    claim:        # yes | no | partial | n/a\n    detail: \"\"\n    evidence: []\n");
    }
}

/* ---- Loading ----------------------------------------------------------- */

typedef struct q_ctx {
    yaml_document_t *doc;
    const char *name, *dir;
    char *err;
    size_t errlen;
} q_ctx;

SW_PRINTF(3, 4)
static int q_fail(q_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    if (!c->err || !c->errlen)
        return -1;
    int k = snprintf(c->err, c->errlen, "%s:%lu: ", c->name, n ? (unsigned long)n->start_mark.line + 1 : 0ul);
    if (k >= 0 && (size_t)k < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A scalar's text copied into dst (cap bytes); an error when not a
 * scalar or too long.  A null scalar ("", "~", "null") gives "". */
static int q_str(q_ctx *c, const yaml_node_t *n, const char *what, char *dst, size_t cap)
{
    if (n->type != YAML_SCALAR_NODE)
        return q_fail(c, n, "%s: a text value is needed", what);
    size_t len = n->data.scalar.length;
    const char *v = (const char *)n->data.scalar.value;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        ((len == 1 && v[0] == '~') || (len == 4 && !memcmp(v, "null", 4))))
        len = 0;
    if (len >= cap)
        return q_fail(c, n, "%s: longer than %zu characters", what, cap - 1);
    if (memchr(v, 0, len))
        return q_fail(c, n, "%s: contains a NUL character", what);
    memcpy(dst, v, len);
    dst[len] = 0;
    return 0;
}

/* A list of scalars (a single scalar counts as a list of one). */
static int q_list(q_ctx *c, const yaml_node_t *n, const char *what, char *dst, size_t each, size_t max,
                  size_t *count)
{
    *count = 0;
    if (n->type == YAML_SCALAR_NODE) {
        if (q_str(c, n, what, dst, each))
            return -1;
        *count = dst[0] ? 1 : 0;
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return q_fail(c, n, "%s: a list is needed", what);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        const yaml_node_t *v = yaml_document_get_node(c->doc, *it);
        if (!v)
            return q_fail(c, n, "%s: broken list", what);
        if (*count == max)
            return q_fail(c, v, "%s: more than %zu entries", what, max);
        if (q_str(c, v, what, dst + *count * each, each))
            return -1;
        (*count)++;
    }
    return 0;
}

static int key_is(const yaml_node_t *k, const char *name)
{
    return k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(name) &&
           !memcmp(k->data.scalar.value, name, k->data.scalar.length);
}

static int q_key(q_ctx *c, const yaml_node_t *k)
{
    if (k->type != YAML_SCALAR_NODE)
        return q_fail(c, k, "a key must be a plain name");
    return 0;
}

static int valid_check_id(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

static const q_item *find_item(const char *id)
{
    for (size_t i = 0; i < Q_NITEMS; i++)
        if (!strcmp(q_items[i].id, id))
            return &q_items[i];
    return NULL;
}

static int parse_control(q_ctx *c, const yaml_node_t *v, unsigned *out)
{
    char buf[8];
    if (q_str(c, v, "control", buf, sizeof buf))
        return -1;
    if (!buf[0]) {
        *out = 0;
        return 0;
    }
    if (strlen(buf) != 2 || buf[0] != 'C' || buf[1] < '1' || buf[1] > '7')
        return q_fail(c, v, "control: C1 to C7 expected, not \"%s\"", buf);
    *out = (unsigned)(buf[1] - '0');
    return 0;
}

static int parse_answer(q_ctx *c, sw_assess_questionnaire *q, const yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return q_fail(c, n, "answers: each entry must be a mapping");
    if (q->nanswers == Q_MAX_ANSWERS)
        return q_fail(c, n, "answers: more than %d entries", Q_MAX_ANSWERS);
    q_answer *a = &q->answers[q->nanswers];
    memset(a, 0, sizeof *a);
    a->line = (int)n->start_mark.line + 1;
    int have_cb = 0, have_control = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!k || !v || q_key(c, k))
            return k && v ? -1 : q_fail(c, n, "broken mapping");
        if (key_is(k, "id")) {
            if (q_str(c, v, "id", a->id, sizeof a->id))
                return -1;
        } else if (key_is(k, "control")) {
            if (parse_control(c, v, &a->control))
                return -1;
            have_control = 1;
        } else if (key_is(k, "en")) {
            if (q_list(c, v, "en", a->en[0], sizeof a->en[0], Q_MAX_LIST, &a->nen))
                return -1;
        } else if (key_is(k, "claim")) {
            if (q_str(c, v, "claim", a->claim, sizeof a->claim))
                return -1;
            if (a->claim[0] && strcmp(a->claim, "yes") && strcmp(a->claim, "no") &&
                strcmp(a->claim, "partial") && strcmp(a->claim, "n/a"))
                return q_fail(c, v, "claim: yes, no, partial or n/a expected, not \"%s\"", a->claim);
        } else if (key_is(k, "detail")) {
            if (q_str(c, v, "detail", a->detail, sizeof a->detail))
                return -1;
        } else if (key_is(k, "evidence")) {
            if (q_list(c, v, "evidence", a->evidence[0], sizeof a->evidence[0], Q_MAX_LIST, &a->nevidence))
                return -1;
        } else if (key_is(k, "checked_by")) {
            if (q_list(c, v, "checked_by", a->checked_by[0], sizeof a->checked_by[0], Q_MAX_LIST,
                       &a->nchecked_by))
                return -1;
            for (size_t i = 0; i < a->nchecked_by; i++)
                if (!valid_check_id(a->checked_by[i]))
                    return q_fail(c, v, "checked_by: \"%s\" is not a check id", a->checked_by[i]);
            have_cb = 1;
        } else if (key_is(k, "question")) {
            /* the template's text; kept only in the file */
        } else {
            return q_fail(c, k, "answers: unknown key \"%.*s\"", (int)k->data.scalar.length,
                          (const char *)k->data.scalar.value);
        }
    }
    if (!a->id[0])
        return q_fail(c, n, "answers: an entry without id");
    for (size_t i = 0; i < q->nanswers; i++)
        if (!strcmp(q->answers[i].id, a->id))
            return q_fail(c, n, "answers: id %s given twice (first on line %d)", a->id, q->answers[i].line);
    const q_item *it = find_item(a->id);
    a->sev = it ? it->sev : SW_ASSESS_MEDIUM;
    if (!have_control && it)
        a->control = it->control;
    if (!have_cb && it) {
        const char *s = it->checked_by;
        while (*s && a->nchecked_by < Q_MAX_LIST) {
            size_t len = strcspn(s, ",");
            snprintf(a->checked_by[a->nchecked_by++], sizeof a->checked_by[0], "%.*s", (int)len, s);
            s += len;
            if (*s == ',')
                s++;
        }
    }
    if (!a->nen && it) {
        const char *s = it->en;
        while (*s && a->nen < Q_MAX_LIST) {
            size_t len = strcspn(s, ",");
            snprintf(a->en[a->nen++], sizeof a->en[0], "%.*s", (int)len, s);
            s += len;
            if (*s == ',')
                s++;
        }
    }
    q->nanswers++;
    return 0;
}

static int hex_sha256(const unsigned char md[32], char out[65])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[64] = 0;
    return 0;
}

/* SHA-256 of the file dir/path (path checked relative, no ".."). */
static int hash_file(q_ctx *c, const yaml_node_t *n, const char *path, char out[65])
{
    if (path[0] == '/')
        return q_fail(c, n, "evidence: path \"%s\" must be relative to the questionnaire", path);
    for (const char *s = path; *s;) {
        size_t len = strcspn(s, "/");
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return q_fail(c, n, "evidence: path \"%s\" leaves the questionnaire's directory", path);
        s += len;
        if (*s == '/')
            s++;
    }
    char full[1024];
    int k = snprintf(full, sizeof full, "%s/%s", c->dir, path);
    if (k < 0 || (size_t)k >= sizeof full)
        return q_fail(c, n, "evidence: path \"%s\" too long", path);
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return q_fail(c, n, "evidence: file \"%s\" cannot be read: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)Q_MAX_EVIDENCE_FILE) {
        close(fd);
        return q_fail(c, n, "evidence: \"%s\" is not a regular file of at most %u MiB", path,
                      Q_MAX_EVIDENCE_FILE >> 20);
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        close(fd);
        return q_fail(c, n, "evidence: out of memory");
    }
    unsigned char buf[16384];
    ssize_t got;
    size_t total = 0;
    while ((got = read(fd, buf, sizeof buf)) > 0 && total <= Q_MAX_EVIDENCE_FILE) {
        EVP_DigestUpdate(md, buf, (size_t)got);
        total += (size_t)got;
    }
    close(fd);
    unsigned char dig[32];
    unsigned dl = 0;
    int ok = got == 0 && EVP_DigestFinal_ex(md, dig, &dl) && dl == 32;
    EVP_MD_CTX_free(md);
    if (!ok)
        return q_fail(c, n, "evidence: reading \"%s\" failed", path);
    return hex_sha256(dig, out);
}

static int parse_evidence(q_ctx *c, sw_assess_questionnaire *q, const yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return q_fail(c, n, "evidence: each entry must be a mapping");
    if (q->nevidence == Q_MAX_EVIDENCE)
        return q_fail(c, n, "evidence: more than %d entries", Q_MAX_EVIDENCE);
    q_evidence *e = &q->evidence[q->nevidence];
    memset(e, 0, sizeof *e);
    e->line = (int)n->start_mark.line + 1;
    char given[80] = "";
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!k || !v || q_key(c, k))
            return k && v ? -1 : q_fail(c, n, "broken mapping");
        int r;
        if (key_is(k, "id"))
            r = q_str(c, v, "id", e->id, sizeof e->id);
        else if (key_is(k, "kind"))
            r = q_str(c, v, "kind", e->kind, sizeof e->kind);
        else if (key_is(k, "path"))
            r = q_str(c, v, "path", e->path, sizeof e->path);
        else if (key_is(k, "url"))
            r = q_str(c, v, "url", e->url, sizeof e->url);
        else if (key_is(k, "sha256"))
            r = q_str(c, v, "sha256", given, sizeof given);
        else if (key_is(k, "description"))
            r = 0;
        else
            r = q_fail(c, k, "evidence: unknown key \"%.*s\"", (int)k->data.scalar.length,
                       (const char *)k->data.scalar.value);
        if (r)
            return -1;
    }
    if (!e->id[0])
        return q_fail(c, n, "evidence: an entry without id");
    for (size_t i = 0; i < q->nevidence; i++)
        if (!strcmp(q->evidence[i].id, e->id))
            return q_fail(c, n, "evidence: id %s given twice (first on line %d)", e->id, q->evidence[i].line);
    if (!strcmp(e->kind, "url")) {
        if (strncmp(e->url, "https://", 8) && strncmp(e->url, "http://", 7))
            return q_fail(c, n, "evidence %s: kind url needs an http(s) url", e->id);
    } else if (!strcmp(e->kind, "file")) {
        if (!e->path[0])
            return q_fail(c, n, "evidence %s: kind file needs a path", e->id);
        if (hash_file(c, n, e->path, e->sha256))
            return -1;
        if (given[0] && strcasecmp(given, e->sha256))
            return q_fail(c, n, "evidence %s: sha256 of \"%s\" is %s, not the %s given", e->id, e->path,
                          e->sha256, given);
    } else {
        return q_fail(c, n, "evidence %s: kind file or url expected", e->id);
    }
    q->nevidence++;
    return 0;
}

static int parse_service(q_ctx *c, sw_assess_questionnaire *q, const yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return q_fail(c, n, "declared_services: each entry must be a mapping");
    if (q->nservices == Q_MAX_SERVICES)
        return q_fail(c, n, "declared_services: more than %d entries", Q_MAX_SERVICES);
    sw_assess_service *s = &q->services[q->nservices];
    memset(s, 0, sizeof *s);
    char port[16] = "", proto[8] = "";
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!k || !v || q_key(c, k))
            return k && v ? -1 : q_fail(c, n, "broken mapping");
        int r;
        char purpose[256];
        if (key_is(k, "port"))
            r = q_str(c, v, "port", port, sizeof port);
        else if (key_is(k, "proto"))
            r = q_str(c, v, "proto", proto, sizeof proto);
        else if (key_is(k, "service"))
            r = q_str(c, v, "service", s->service, sizeof s->service);
        else if (key_is(k, "purpose"))
            r = q_str(c, v, "purpose", purpose, sizeof purpose);
        else
            r = q_fail(c, k, "declared_services: unknown key \"%.*s\"", (int)k->data.scalar.length,
                       (const char *)k->data.scalar.value);
        if (r)
            return -1;
    }
    char *end;
    errno = 0;
    unsigned long pv = strtoul(port, &end, 10);
    if (!port[0] || *end || errno || pv < 1 || pv > 65535 || port[0] == '-' || port[0] == '+')
        return q_fail(c, n, "declared_services: port 1..65535 expected, not \"%s\"", port);
    if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
        return q_fail(c, n, "declared_services: proto tcp or udp expected, not \"%s\"", proto);
    s->port = (uint16_t)pv;
    memcpy(s->proto, proto, 4);
    q->nservices++;
    return 0;
}

typedef int (*q_entry_fn)(q_ctx *c, sw_assess_questionnaire *q, const yaml_node_t *n);

static int parse_seq(q_ctx *c, sw_assess_questionnaire *q, const yaml_node_t *v, const char *what, q_entry_fn fn)
{
    if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
        return 0; /* "key:" with nothing: an empty list */
    if (v->type != YAML_SEQUENCE_NODE)
        return q_fail(c, v, "%s: a list is needed", what);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        const yaml_node_t *e = yaml_document_get_node(c->doc, *it);
        if (!e)
            return q_fail(c, v, "%s: broken list", what);
        if (fn(c, q, e))
            return -1;
    }
    return 0;
}

static int parse_subject(q_ctx *c, sw_assess_questionnaire *q, const yaml_node_t *v)
{
    if (v->type != YAML_MAPPING_NODE)
        return q_fail(c, v, "subject: a mapping is needed");
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *x = yaml_document_get_node(c->doc, p->value);
        if (!k || !x || q_key(c, k))
            return k && x ? -1 : q_fail(c, v, "broken mapping");
        size_t i;
        for (i = 0; i < 5; i++)
            if (key_is(k, subject_keys[i]))
                break;
        if (i == 5)
            return q_fail(c, k, "subject: unknown key \"%.*s\"", (int)k->data.scalar.length,
                          (const char *)k->data.scalar.value);
        if (q_str(c, x, subject_keys[i], q->subject[i], sizeof q->subject[i]))
            return -1;
    }
    const char *pr = q->subject[4];
    if (pr[0] && strcmp(pr, "iot") && strcmp(pr, "sbc") && strcmp(pr, "sip-service"))
        return q_fail(c, v, "subject: profile iot, sbc or sip-service expected, not \"%s\"", pr);
    return 0;
}

static int parse_root(q_ctx *c, sw_assess_questionnaire *q)
{
    const yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root)
        return q_fail(c, NULL, "empty document");
    if (root->type != YAML_MAPPING_NODE)
        return q_fail(c, root, "the questionnaire must be a mapping");
    int version = 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!k || !v || q_key(c, k))
            return k && v ? -1 : q_fail(c, root, "broken mapping");
        int r = 0;
        if (key_is(k, "sipwall_questionnaire")) {
            char ver[8];
            if (q_str(c, v, "sipwall_questionnaire", ver, sizeof ver))
                return -1;
            if (strcmp(ver, "1"))
                return q_fail(c, v, "sipwall_questionnaire: version 1 expected, not \"%s\"", ver);
            version = 1;
        } else if (key_is(k, "subject")) {
            r = parse_subject(c, q, v);
        } else if (key_is(k, "declared_services")) {
            r = parse_seq(c, q, v, "declared_services", parse_service);
        } else if (key_is(k, "evidence")) {
            r = parse_seq(c, q, v, "evidence", parse_evidence);
        } else if (key_is(k, "answers")) {
            r = parse_seq(c, q, v, "answers", parse_answer);
        } else {
            return q_fail(c, k, "unknown key \"%.*s\"", (int)k->data.scalar.length,
                          (const char *)k->data.scalar.value);
        }
        if (r)
            return -1;
    }
    if (!version)
        return q_fail(c, root, "\"sipwall_questionnaire: 1\" missing");
    /* Evidence references resolve (the evidence list may come after the answers). */
    for (size_t i = 0; i < q->nanswers; i++) {
        q_answer *a = &q->answers[i];
        for (size_t j = 0; j < a->nevidence; j++) {
            size_t e;
            for (e = 0; e < q->nevidence; e++)
                if (!strcmp(q->evidence[e].id, a->evidence[j]))
                    break;
            if (e == q->nevidence) {
                snprintf(c->err, c->errlen, "%s:%d: answer %s: evidence %s is not in the evidence list", c->name,
                         a->line, a->id, a->evidence[j]);
                return -1;
            }
        }
    }
    return 0;
}

sw_assess_questionnaire *sw_assess_questionnaire_parse(const char *text, size_t len, const char *name,
                                                       const char *dir, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    if (len > SW_ASSESS_Q_MAX_BYTES) {
        snprintf(err, errlen, "%s:0: larger than %u bytes", name, SW_ASSESS_Q_MAX_BYTES);
        return NULL;
    }
    sw_assess_questionnaire *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "%s:0: out of memory", name);
        return NULL;
    }
    snprintf(q->file, sizeof q->file, "%s", name);
    unsigned char dig[32];
    unsigned dl = 0;
    if (!EVP_Digest(text, len, dig, &dl, EVP_sha256(), NULL) || dl != 32) {
        snprintf(err, errlen, "%s:0: hashing failed", name);
        free(q);
        return NULL;
    }
    hex_sha256(dig, q->sha256);

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s:0: out of memory", name);
        free(q);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu: %s%s%s", name, (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "YAML syntax error", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        free(q);
        return NULL;
    }
    q_ctx c = {.doc = &doc, .name = name, .dir = dir, .err = err, .errlen = errlen};
    int r = parse_root(&c, q);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (r) {
        free(q);
        return NULL;
    }
    return q;
}

sw_assess_questionnaire *sw_assess_questionnaire_load(const char *path, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s:0: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)SW_ASSESS_Q_MAX_BYTES) {
        snprintf(err, errlen, "%s:0: not a regular file of at most %u bytes", path, SW_ASSESS_Q_MAX_BYTES);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "%s:0: out of memory", path);
        return NULL;
    }
    ssize_t got;
    while (len < cap && (got = read(fd, buf + len, cap - len)) > 0)
        len += (size_t)got;
    close(fd);
    if (len > (size_t)st.st_size) {
        free(buf);
        snprintf(err, errlen, "%s:0: the file changed while being read", path);
        return NULL;
    }
    char dir[1024];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    sw_assess_questionnaire *q = sw_assess_questionnaire_parse(buf, len, path, dir, err, errlen);
    free(buf);
    return q;
}

void sw_assess_questionnaire_free(sw_assess_questionnaire *q)
{
    free(q);
}

size_t sw_assess_questionnaire_services(const sw_assess_questionnaire *q, const sw_assess_service **out)
{
    if (!q) {
        if (out)
            *out = NULL;
        return 0;
    }
    if (out)
        *out = q->services;
    return q->nservices;
}

size_t sw_assess_questionnaire_nanswers(const sw_assess_questionnaire *q)
{
    return q ? q->nanswers : 0;
}

/* ---- Merge -------------------------------------------------------------- */

size_t sw_assess_questionnaire_merge(const sw_assess_questionnaire *q, sw_assess_finding *f, size_t nf,
                                     sw_assess_merged *out, size_t max)
{
    if (!q)
        return 0;
    for (size_t i = 0; i < q->nanswers && i < max; i++) {
        const q_answer *a = &q->answers[i];
        sw_assess_merged *m = &out[i];
        memset(m, 0, sizeof *m);
        m->id = a->id;
        m->control = a->control ? SW_ASSESS_C(a->control) : 0;
        m->severity = a->sev;
        int failed = 0, passed = 0;
        sw_assess_severity worst = SW_ASSESS_INFO;
        const char *fail_id = NULL, *pass_id = NULL;
        for (size_t j = 0; j < a->nchecked_by; j++)
            for (size_t k = 0; k < nf; k++) {
                if (!f[k].id || strcmp(f[k].id, a->checked_by[j]))
                    continue;
                if (f[k].result == SW_ASSESS_FAIL) {
                    if (!failed || f[k].severity > worst) {
                        worst = f[k].severity;
                        fail_id = f[k].id;
                    }
                    failed = 1;
                } else if (f[k].result == SW_ASSESS_PASS && !pass_id) {
                    passed = 1;
                    pass_id = f[k].id;
                }
            }
        int claims_ok = !strcmp(a->claim, "yes") || !strcmp(a->claim, "partial");
        if (failed) {
            m->result = SW_ASSESS_FAIL;
            m->severity = worst;
            m->basis = SW_ASSESS_BASIS_TESTED;
            m->decided_by = fail_id;
            if (claims_ok) {
                m->contradiction = 1;
                for (size_t j = 0; j < a->nchecked_by; j++)
                    for (size_t k = 0; k < nf; k++)
                        if (f[k].id && !strcmp(f[k].id, a->checked_by[j]) && f[k].result == SW_ASSESS_FAIL)
                            f[k].contradiction = 1;
            }
        } else if (passed) {
            m->result = SW_ASSESS_PASS;
            m->basis = SW_ASSESS_BASIS_TESTED;
            m->decided_by = pass_id;
        } else if (!strcmp(a->claim, "yes")) {
            m->result = a->nevidence ? SW_ASSESS_PASS : SW_ASSESS_UNKNOWN;
            m->basis = a->nevidence ? SW_ASSESS_BASIS_DECLARED_EVIDENCE : SW_ASSESS_BASIS_DECLARED;
        } else if (!strcmp(a->claim, "no")) {
            m->result = SW_ASSESS_FAIL;
            m->basis = a->nevidence ? SW_ASSESS_BASIS_DECLARED_EVIDENCE : SW_ASSESS_BASIS_DECLARED;
        } else if (!strcmp(a->claim, "partial")) {
            m->result = SW_ASSESS_FAIL;
            m->severity = a->sev > SW_ASSESS_INFO ? a->sev - 1 : SW_ASSESS_INFO;
            m->basis = a->nevidence ? SW_ASSESS_BASIS_DECLARED_EVIDENCE : SW_ASSESS_BASIS_DECLARED;
        } else if (!strcmp(a->claim, "n/a")) {
            m->result = a->detail[0] ? SW_ASSESS_SKIPPED : SW_ASSESS_UNKNOWN;
            m->basis = SW_ASSESS_BASIS_DECLARED;
        } else {
            m->result = SW_ASSESS_UNKNOWN;
            m->basis = SW_ASSESS_BASIS_NONE;
        }
    }
    return q->nanswers;
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *str_list(const char *base, size_t each, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(base + i * each));
    return a;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

char *sw_assess_questionnaire_json(const sw_assess_questionnaire *q, const sw_assess_merged *m, size_t n)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_t *subject = json_object(), *services = json_array(), *evidence = json_array(), *answers = json_array();
    json_object_set_new(o, "file", q ? json_string(q->file) : json_null());
    json_object_set_new(o, "sha256", q ? json_string(q->sha256) : json_null());
    json_object_set_new(o, "subject", subject);
    json_object_set_new(o, "declared_services", services);
    json_object_set_new(o, "evidence", evidence);
    json_object_set_new(o, "answers", answers);
    if (!subject || !services || !evidence || !answers) {
        json_decref(o);
        return NULL;
    }
    for (size_t i = 0; i < 5; i++)
        json_object_set_new(subject, subject_keys[i], q ? str_or_null(q->subject[i]) : json_null());
    for (size_t i = 0; q && i < q->nservices; i++)
        json_array_append_new(services, json_pack("{s:i, s:s, s:s}", "port", (int)q->services[i].port, "proto",
                                                  q->services[i].proto, "service", q->services[i].service));
    for (size_t i = 0; q && i < q->nevidence; i++) {
        const q_evidence *e = &q->evidence[i];
        json_array_append_new(evidence, json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", e->id, "kind", e->kind,
                                                  "path", str_or_null(e->path), "url", str_or_null(e->url),
                                                  "sha256", str_or_null(e->sha256)));
    }
    for (size_t i = 0; q && i < q->nanswers; i++) {
        const q_answer *a = &q->answers[i];
        const sw_assess_merged *mm = i < n && m ? &m[i] : NULL;
        char ctl[12] = "";
        if (a->control)
            snprintf(ctl, sizeof ctl, "C%u", a->control);
        json_t *x = json_pack(
            "{s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:s, s:s, s:s, s:b, s:o}", "id", a->id, "control", str_or_null(ctl),
            "en", str_list(a->en[0], sizeof a->en[0], a->nen), "claim", str_or_null(a->claim), "detail", a->detail,
            "evidence", str_list(a->evidence[0], sizeof a->evidence[0], a->nevidence), "checked_by",
            str_list(a->checked_by[0], sizeof a->checked_by[0], a->nchecked_by), "merged_result",
            sw_assess_result_name(mm ? mm->result : SW_ASSESS_UNKNOWN), "basis",
            sw_assess_basis_name(mm ? mm->basis : SW_ASSESS_BASIS_NONE), "severity",
            sw_assess_severity_name(mm ? mm->severity : a->sev), "contradiction", mm ? mm->contradiction : 0,
            "decided_by", str_or_null(mm ? mm->decided_by : NULL));
        if (!x || json_array_append_new(answers, x)) {
            json_decref(o);
            return NULL;
        }
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
