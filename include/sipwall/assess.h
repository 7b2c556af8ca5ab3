/* sipwall assess: active security tests of a SIP service, SBC or IoT
 * device, the questionnaire, and the FS.38 / EN 303 645 gap report.
 *
 * The model: a run (sw_assess_run) holds the target, the options, the
 * safety budget (packets, rate, wall clock) and the findings.  A check is
 * one small unit (sw_assess_check) with one contract: it sends only
 * through the run (so the budget and the evidence record hold), and it
 * records exactly one finding, whose result is pass, fail, unknown,
 * skipped or error.  The catalogue is a table of checks; the report is
 * built from the findings and the questionnaire (docs/assess.md).
 *
 * Layer: exchange/assess/admin (uses sip, net).  Not thread-safe: one run
 * is driven by one thread. */
#ifndef SIPWALL_ASSESS_H
#define SIPWALL_ASSESS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "sipwall/common.h"

typedef enum sw_assess_result {
    SW_ASSESS_PASS,
    SW_ASSESS_FAIL,
    SW_ASSESS_UNKNOWN, /* ran, could not decide */
    SW_ASSESS_SKIPPED, /* not selected, flag missing, not applicable to the profile */
    SW_ASSESS_ERROR,
} sw_assess_result;

typedef enum sw_assess_severity {
    SW_ASSESS_INFO,
    SW_ASSESS_LOW,
    SW_ASSESS_MEDIUM,
    SW_ASSESS_HIGH,
    SW_ASSESS_CRITICAL,
} sw_assess_severity;

typedef enum sw_assess_profile {
    SW_ASSESS_PROFILE_SIP_SERVICE,
    SW_ASSESS_PROFILE_SBC,
    SW_ASSESS_PROFILE_IOT,
} sw_assess_profile;

/* Controls C1..C7 as a bit set: SW_ASSESS_C(1) | SW_ASSESS_C(5). */
#define SW_ASSESS_C(n) (1u << ((n) - 1))

/* One piece of evidence: an exchange (what was sent and what came back) or
 * an observation.  Strings are owned by the finding (copied in). */
typedef struct sw_assess_evidence {
    char kind[16];       /* sip-exchange | tls | port | banner | log-sink | file */
    char transport[8];   /* udp | tcp | tls | dtls | "" */
    char local[64];      /* address:port, [v6]:port, or "" */
    char remote[64];
    int64_t ts_ns;       /* wall clock (CLOCK_REALTIME) of the first byte sent */
    unsigned char *sent;  /* exact bytes, may hold NUL; NULL/0 when none */
    size_t sent_len;
    unsigned char *received;
    size_t received_len;
    char *note;          /* free text (a verification error, "no answer in 2 s"), may be NULL */
} sw_assess_evidence;

typedef struct sw_assess_finding {
    const char *id;          /* the check's id, e.g. "SIP-AUTH-01" (static) */
    const char *title;       /* static */
    sw_assess_result result;
    sw_assess_severity severity; /* of this outcome (a fail may be lower than the check's maximum) */
    unsigned controls;       /* SW_ASSESS_C bits */
    const char *en303645;    /* static, comma-separated provisions: "5.5-4,5.6-1" */
    const char *threats;     /* static, comma-separated SIP threats: "D5" */
    const char *remediation; /* static */
    char summary[512];       /* one sentence: what was seen */
    int contradiction;       /* set by the questionnaire merge */
    sw_assess_evidence *evidence;
    size_t nevidence;
    /* Passwords found or used (shown in the JSON as "secrets", masked
     * wherever they appear in the HTML); set with sw_assess_secret. */
    char secrets[4][64];
    unsigned nsecrets;
} sw_assess_finding;

typedef struct sw_assess_options {
    const char *target_uri;  /* sip:HOST[:PORT];transport=udp|tcp|tls */
    const char *host;        /* --host ADDR for the host checks, NULL = the SIP host */
    sw_assess_profile profile;
    const char *ca, *tls_name, *client_cert, *client_key;
    const char *invite_to;   /* URI; NULL = sipwall-<rand>@target */
    const char *known_users[8];
    size_t nknown_users;
    const char *test_account;  /* "USER:PASS" or NULL */
    const char *log_sink;      /* "tls:ADDR:PORT" or NULL */
    /* LOG-SINK-01's collector: its certificate and key (the ones the
     * device's exporter is told to trust), and optionally the CA that
     * signs the device's client certificate (checked when given). */
    const char *log_sink_cert, *log_sink_key, *log_sink_ca;
    const char *questionnaire; /* YAML file or NULL */
    const char *only;          /* comma-separated check ids to run, NULL = all that apply */
    int credential_tests;
    int require_mtls;
    unsigned max_rate;         /* requests/s for SIP-RATE-01; 0 = the check is skipped */
    unsigned rate;             /* default request rate, <= 10 unless max_rate */
    unsigned packet_budget;    /* default 1000 */
    unsigned timeout_ms;       /* one transaction, default 2000 */
    int dry_run;
    const char *bind;          /* source IP address of every connection, NULL = the kernel's choice */
    const char *robust_dir;    /* SIP-ROBUST-01 also sends these files (*.dat, *.sip), rewritten; NULL = none */
} sw_assess_options;

typedef struct sw_assess_run sw_assess_run;

/* A check: run() records its finding with sw_assess_finding_begin/_end and
 * sends only through the run's transport helpers.  applies() says whether
 * the check is in scope for the options (NULL = always); a check out of
 * scope is recorded as skipped with the reason it returns. */
typedef struct sw_assess_check {
    const char *id, *title;
    sw_assess_severity severity; /* the worst outcome */
    unsigned controls;
    const char *en303645, *threats, *remediation;
    const char *sends;           /* one line for the dry-run plan */
    const char *(*applies)(const sw_assess_options *o); /* NULL = applies, else the skip reason */
    void (*run)(sw_assess_run *r, sw_assess_finding *f);
} sw_assess_check;

/* The catalogue: every check, in report order. */
const sw_assess_check *sw_assess_catalogue(size_t *n);

/* ---- The run (src/assess/run.c) ---- */

/* A run on o (copied; strings must outlive the run).  NULL with a reason in
 * err on a bad target URI or option (the CLI exits 2). */
sw_assess_run *sw_assess_run_new(const sw_assess_options *o, char *err, size_t errlen) SW_WUR;
void sw_assess_run_free(sw_assess_run *r);
const sw_assess_options *sw_assess_opts(const sw_assess_run *r) SW_NONNULL(1);
/* Prints the plan (resolved target, profile, each check with what it sends
 * or why it is skipped, packet budget and rate) before the first packet. */
void sw_assess_run_plan(sw_assess_run *r, FILE *out) SW_NONNULL(1, 2);
/* Runs every check in catalogue order; 0, or SW_EIO when the target was
 * unreachable from the start (exit 3). */
int sw_assess_run_all(sw_assess_run *r) SW_NONNULL(1);
const sw_assess_finding *sw_assess_findings(const sw_assess_run *r, size_t *n) SW_NONNULL(1, 2);
typedef struct sw_assess_stats {
    int64_t started_ns, finished_ns; /* CLOCK_REALTIME */
    uint64_t packets_sent, bytes_sent;
    unsigned rate_used;              /* requests/s */
} sw_assess_stats;
void sw_assess_run_stats(const sw_assess_run *r, sw_assess_stats *out) SW_NONNULL(1, 2);

/* Safety: every packet a check sends is paced here first (waits for the
 * rate, takes one from the packet budget).  SW_ELIMIT when the budget or the
 * run's wall clock is spent: the check then records unknown and stops. */
int sw_assess_pace(sw_assess_run *r) SW_NONNULL(1);

/* Evidence on a finding: a new zeroed record of kind (appended, owned by
 * the finding; its address stays valid while more are added); NULL on
 * ENOMEM or past 256 records per finding.  _bytes copies sent/received. */
sw_assess_evidence *sw_assess_evidence_add(sw_assess_finding *f, const char *kind) SW_NONNULL(1, 2);
int sw_assess_evidence_bytes(sw_assess_evidence *e, const void *sent, size_t sent_len,
                             const void *received, size_t received_len) SW_NONNULL(1);
/* Sets (replaces) an evidence record's note, printf-style. */
void sw_assess_evidence_note(sw_assess_evidence *e, const char *fmt, ...) SW_PRINTF(2, 3) SW_NONNULL(1, 2);
/* Records a password the finding's summary or evidence carries (a found
 * or a tried one), so the HTML masks it (src/assess/secret.c).  At most 4;
 * longer than 63 bytes is cut; an empty one is ignored. */
void sw_assess_secret(sw_assess_finding *f, const char *secret) SW_NONNULL(1, 2);
/* Sets the outcome: result, severity and the summary (printf-style). */
void sw_assess_set(sw_assess_finding *f, sw_assess_result res, sw_assess_severity sev,
                   const char *fmt, ...) SW_PRINTF(4, 5) SW_NONNULL(1, 4);

/* ---- The questionnaire (src/assess/questionnaire.c) ---- */

typedef struct sw_assess_questionnaire sw_assess_questionnaire;
/* Prints the YAML template for a profile. */
void sw_assess_questionnaire_template(sw_assess_profile p, FILE *out) SW_NONNULL(2);
/* Loads and checks a questionnaire (libyaml); evidence files are read and
 * hashed relative to the questionnaire's directory.  NULL with
 * "FILE:LINE: reason" in err. */
sw_assess_questionnaire *sw_assess_questionnaire_load(const char *path, char *err, size_t errlen) SW_WUR;
void sw_assess_questionnaire_free(sw_assess_questionnaire *q);
/* The same from text in memory (at most SW_ASSESS_Q_MAX_BYTES): name is
 * the file name used in errors and the report, dir the directory evidence
 * paths are relative to.  Evidence paths must be relative and without
 * "..".  Used by _load and by the fuzz target. */
#define SW_ASSESS_Q_MAX_BYTES (1u << 20)
sw_assess_questionnaire *sw_assess_questionnaire_parse(const char *text, size_t len, const char *name,
                                                       const char *dir, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 3, 4);

/* Basis of a control item (spec §1). */
typedef enum sw_assess_basis {
    SW_ASSESS_BASIS_NONE,
    SW_ASSESS_BASIS_DECLARED,
    SW_ASSESS_BASIS_DECLARED_EVIDENCE,
    SW_ASSESS_BASIS_TESTED,
} sw_assess_basis;
/* "none", "declared", "declared+evidence", "tested". */
const char *sw_assess_basis_name(sw_assess_basis b);
/* "pass", "fail", ... and "critical", "high", ... (static). */
const char *sw_assess_result_name(sw_assess_result r);
const char *sw_assess_severity_name(sw_assess_severity s);

/* One declared service: the contract NET-PORT-01 checks. */
typedef struct sw_assess_service {
    uint16_t port;
    char proto[4];      /* "tcp" | "udp" */
    char service[32];
} sw_assess_service;
/* The declared services of q (q may be NULL: 0). */
size_t sw_assess_questionnaire_services(const sw_assess_questionnaire *q, const sw_assess_service **out);
/* The number of answers of q (NULL: 0). */
size_t sw_assess_questionnaire_nanswers(const sw_assess_questionnaire *q);

/* One answer merged with the findings (spec §4). */
typedef struct sw_assess_merged {
    const char *id;              /* the answer's id (owned by q) */
    unsigned control;            /* one SW_ASSESS_C bit; 0 when none */
    sw_assess_result result;     /* merged_result */
    sw_assess_severity severity; /* the weight of the item (of the failing test when tested) */
    sw_assess_basis basis;
    int contradiction;           /* a test contradicts the claim */
    const char *decided_by;      /* the check id that decided; NULL: the claim */
} sw_assess_merged;
/* The merge rules of spec §4: for each answer of q (in file order) the
 * findings of its checked_by checks decide when one of them passed or
 * failed (a test beats a claim; a failed test against a claim of yes or
 * partial sets contradiction on the answer and on the failing findings);
 * otherwise the claim decides (yes + evidence: pass, declared+evidence;
 * yes: unknown, declared; no: fail; partial: fail one severity lower; n/a
 * with a detail: skipped, n/a without: unknown; no claim: unknown, none).
 * Writes at most max entries to out; returns how many answers q has. */
size_t sw_assess_questionnaire_merge(const sw_assess_questionnaire *q, sw_assess_finding *f, size_t nf,
                                     sw_assess_merged *out, size_t max);
/* The report's "questionnaire" member as JSON text (free()): {file,
 * sha256, subject, declared_services, evidence[], answers[{id, control,
 * en, claim, detail, evidence, checked_by, merged_result, basis, severity,
 * contradiction, decided_by}]}; m/n as returned by the merge (n answers).
 * q NULL gives the empty member (file null, empty lists).  NULL on ENOMEM. */
char *sw_assess_questionnaire_json(const sw_assess_questionnaire *q, const sw_assess_merged *m, size_t n);

/* ---- The report (src/assess/report.c, report_html.c) ---- */

/* The report (schema sipwall-assess/1, docs/assess-report.schema.json) of a
 * finished run merged with q (may be NULL), as a NUL-terminated JSON text
 * (free()).  *exit_code gets the exit code for fail_on (0: no fail at or
 * above fail_on, 1: such a fail).  The merge may mark findings
 * contradicted (the run's findings are updated). */
char *sw_assess_report_json(sw_assess_run *r, const sw_assess_questionnaire *q,
                            sw_assess_severity fail_on, int *exit_code) SW_NONNULL(1, 4);
/* The self-contained HTML page of a report JSON text (as above). NULL on a
 * report it cannot read. */
char *sw_assess_report_html(const char *report_json, char *err, size_t errlen) SW_NONNULL(1);

#endif
