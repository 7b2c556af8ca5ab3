/* sipwall check: screen pcap/pcapng captures, write events, print a summary. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "export.h"
#include "screen.h"
#include "stats.h"
#include "sipwall/capture.h"
#include "sipwall/engine.h"
#include "sipwall/event.h"
#include "sipwall/policy.h"
#include "sipwall/report.h"

static const char check_usage[] =
    "usage: sipwall check [--policy FILE]... [--events FILE] [--report FILE.html]\n"
    "                     [--labels LABELS.tsv] [--quiet]\n"
    "                     [--export-policy FILE [--export-group GROUP] | --export-org ORG]\n"
    "                     [--export-stix FILE] [--export-misp DIR] [--export-csv FILE]\n"
    "                     [--export-fse FILE] [--export-tlp1] [--sign-key KEY [--sign-kid KID]]\n"
    "                     CAPTURE...\n"
    "\n"
    "Screens every SIP message in the pcap/pcapng CAPTURE files (UDP, IP fragments\n"
    "reassembled, TCP streams reassembled and framed by Content-Length, SIP found\n"
    "on any port) with the screening engine the inline proxy runs: peers and zones\n"
    "(cat0), policy rules (cat1-cat3), privacy profile and the behavioural\n"
    "detectors.  Every non-allow decision and every monitor-mode hit is one event;\n"
    "repeats are capped per rule and offender and summarised.  The action in an\n"
    "event is what the inline proxy does (or would do, for monitor-mode rules).\n"
    "Captures are processed in order as one stream of time; frame numbers are\n"
    "1-based per file, and events carry \"file\" when more than one CAPTURE is given.\n"
    "\n"
    "options:\n"
    "  --policy FILE   the policy (docs/policy.md); repeat to overlay files in order\n"
    "                  (e.g. --policy builtin:default --policy partners.policy).\n"
    "                  Default: the shipped FS.38 policy (etc/default.policy).\n"
    "  --events FILE   write events as JSON lines to FILE ('-' = stdout; the\n"
    "                  summary then goes to stderr).  Without it events are only\n"
    "                  counted.  Fields: ts event_type category rule action\n"
    "                  [action_status] mode reason confidence [expires] src dst\n"
    "                  transport method|status call_id from to pai ruri frame [file]\n"
    "                  evidence [truncated]; from/to/pai/ruri hold the URI's user\n"
    "                  part (the number) when it has one, else the URI.\n"
    "  --report FILE   write a self-contained HTML report: verdict counts, top\n"
    "                  offenders, timeline, every event explained\n"
    "  --labels FILE   compare the events with ground truth (LABELS.tsv, and\n"
    "                  LABELS' NAME.frames.tsv beside it when present): per-kind\n"
    "                  detection, misses and false positives\n"
    "  --quiet         no summary\n"
    "  --export-stix FILE  write what the detections would share with partners as\n"
    "                  a STIX 2.1 bundle (docs/exchange.md): scanner, guessing and\n"
    "                  flooding source addresses, IRSF destinations, Wangiri\n"
    "                  A-numbers; never a subscriber's number, never raw SIP\n"
    "  --export-misp DIR   the same as a MISP feed directory (created if needed)\n"
    "  --export-csv FILE   the same as CSV ('-' = stdout)\n"
    "  --export-fse FILE   the same as FSE v1 objects (a JSON array)\n"
    "  --export-policy FILE  the export policy (docs/exchange.md): which detections\n"
    "                  become indicators, at which TLP, confidence and TTL, HMAC\n"
    "                  keys; default: the built-in FSE defaults\n"
    "  --export-group GROUP  the trust group to export for (default: the policy's first)\n"
    "  --export-tlp1   STIX markings with the TLP 1.0 ids for legacy consumers (CLEAR\n"
    "                  as WHITE, AMBER+STRICT as RED)\n"
    "  --export-org ORG    the producer's org code under the built-in policy (default local)\n"
    "  --sign-key KEY  sign every object (Ed25519 PKCS#8 PEM or JWK; detached JWS,\n"
    "                  EdDSA) with key id --sign-kid KID (default ORG:1)\n"
    "  -h, --help      this text\n"
    "\n"
    "exit status: 0 done (whether or not events were found); 1 --labels found a\n"
    "missed attack or a false positive; 2 usage error, a policy with errors, a\n"
    "capture that cannot be opened, or events that cannot be written; 3 a capture\n"
    "was damaged or truncated (a warning names the frame; the messages read before\n"
    "the damage are screened and counted).\n";

enum { OPT_EVENTS = 256, OPT_QUIET, OPT_POLICY, OPT_REPORT, OPT_LABELS, OPT_EXPORT };

#define TOP_N 10

/* Certificates and TLS 1.3 handshakes seen in the captures, for the summary. */
#define TLS_SHOWN 16
typedef struct tls_seen {
    sw_addr src, dst;
    uint8_t from_client, encrypted;
    char id[SW_CAPTURE_TLS_ID_LEN]; /* the first identity, "" = none */
    char peer[64];                  /* what the policy makes of it */
} tls_seen;

typedef struct check_stats {
    uint64_t files_ok, files_failed, files_damaged;
    uint64_t messages, requests, responses, unknown_start;
    uint64_t by_method[SW_METHOD__COUNT];
    cli_tally other_methods;
    uint64_t by_status[700];
    uint64_t malformed, events;
    uint64_t verdicts[SW_ACTION__COUNT];
    cli_tally reasons;
    cli_tally rules; /* events by event_type/rule */
    cli_src_table sources;
    sw_capture_stats cap; /* summed over files */
    tls_seen tls[TLS_SHOWN];
    uint32_t ntls;
    uint64_t tls_more; /* seen beyond TLS_SHOWN */
} check_stats;

/* One line per capture in the summary. */
typedef struct file_rec {
    const char *path;
    uint64_t frames, messages, malformed;
    const char *state; /* NULL = read to the end */
} file_rec;

typedef struct check_run {
    cli_screener *scr;
    check_stats *st;
    sw_str file; /* set when several captures are screened */
    int sink_error;
    int64_t last_ts;
    sw_report *report;
    const sw_policy *policy;
} check_run;

/* The peer a TLS sender's certificate decides (NULL: its address decides). */
static const sw_peer *tls_peer(const sw_policy *p, const char (*ids)[SW_CAPTURE_TLS_ID_LEN], unsigned n,
                               const sw_addr *src)
{
    sw_str v[SW_CAPTURE_TLS_MAX_IDS];
    if (n > SW_CAPTURE_TLS_MAX_IDS)
        n = SW_CAPTURE_TLS_MAX_IDS;
    for (unsigned i = 0; i < n; i++)
        v[i] = sw_str_make(ids[i], strnlen(ids[i], SW_CAPTURE_TLS_ID_LEN));
    return sw_policy_peer_by_tls(p, v, n, src);
}

static void on_tls(void *ctx, const sw_capture_tls_info *in)
{
    check_run *run = ctx;
    check_stats *st = run->st;
    if (st->ntls == TLS_SHOWN) {
        st->tls_more++;
        return;
    }
    tls_seen *t = &st->tls[st->ntls++];
    memset(t, 0, sizeof *t);
    t->src = in->src;
    t->dst = in->dst;
    t->from_client = in->from_client;
    t->encrypted = in->encrypted;
    if (in->nids)
        snprintf(t->id, sizeof t->id, "%s", in->ids[0]);
    const sw_peer *pe = in->encrypted ? NULL : tls_peer(run->policy, in->ids, in->nids, &in->src);
    const char *how = pe ? "by certificate" : "by address";
    if (!pe)
        pe = sw_policy_peer_for(run->policy, &in->src);
    snprintf(t->peer, sizeof t->peer, "%s %.32s %s", pe->is_zone ? "zone" : "partner", pe->name, how);
}

static void add_capture_stats(sw_capture_stats *sum, const sw_capture_stats *s)
{
    sum->frames += s->frames;
    sum->bytes += s->bytes;
    sum->sip_messages += s->sip_messages;
    sum->non_sip += s->non_sip;
    sum->ip_fragments += s->ip_fragments;
    sum->ip_reassembled += s->ip_reassembled;
    sum->frag_evicted += s->frag_evicted;
    sum->frag_timeouts += s->frag_timeouts;
    sum->tcp_segments += s->tcp_segments;
    sum->tcp_out_of_order += s->tcp_out_of_order;
    sum->tcp_retransmits += s->tcp_retransmits;
    sum->tcp_streams += s->tcp_streams;
    sum->tcp_evicted += s->tcp_evicted;
    sum->tcp_gaps += s->tcp_gaps;
    sum->skipped += s->skipped;
    sum->damaged += s->damaged;
    sum->bad_timestamps += s->bad_timestamps;
    sum->tls_streams += s->tls_streams;
    sum->tls_certificates += s->tls_certificates;
    sum->tls_encrypted_handshakes += s->tls_encrypted_handshakes;
    sum->tls_null_cipher += s->tls_null_cipher;
    sum->tls_unreadable += s->tls_unreadable;
    sum->tls_bad += s->tls_bad;
}

static int on_message(void *ctx, const sw_capture_msg *cm)
{
    check_run *run = ctx;
    check_stats *st = run->st;
    cli_meta meta = {
        .frame = cm->frame,
        .ts_ns = cm->ts_ns,
        .src = cm->src,
        .dst = cm->dst,
        .transport = cm->transport,
        /* UDP payloads are datagrams; the capture layer already framed TCP
         * and TLS streams by Content-Length, so they are parsed as such. */
        .framing = cm->transport == SW_TRANSPORT_UDP || cm->transport == SW_TRANSPORT_UNKNOWN
                       ? SW_SIP_DATAGRAM
                       : SW_SIP_STREAM,
        .framing_error = cm->framing_error.code ? &cm->framing_error : NULL,
        .file = run->file,
    };
    if (cm->transport == SW_TRANSPORT_TLS) /* the certificate decides the partner (tls-identity) */
        meta.peer = tls_peer(run->policy, cm->tls_ids, cm->tls_ids ? cm->ntls_ids : 0, &cm->src);
    cli_verdict v;
    int r = cli_screen(run->scr, cm->data, cm->len, &meta, &v);
    if (cm->ts_ns > run->last_ts)
        run->last_ts = cm->ts_ns;
    if (run->report)
        sw_report_message(run->report, cm->ts_ns, v.action);
    st->messages++;
    st->verdicts[v.action < SW_ACTION__COUNT ? v.action : 0]++;
    cli_src_add(&st->sources, &cm->src);
    if (v.kind == CLI_MSG_REQUEST) {
        st->requests++;
        sw_method m = sw_method_lookup(v.method.ptr ? v.method.ptr : "", v.method.len);
        if (m != SW_METHOD_OTHER)
            st->by_method[m]++;
        else
            cli_tally_add(&st->other_methods, v.method, 1);
    } else if (v.kind == CLI_MSG_RESPONSE && v.status >= 100 && v.status <= 699) {
        st->responses++;
        st->by_status[v.status]++;
    } else {
        st->unknown_start++;
    }
    if (v.malformed) {
        st->malformed++;
        const char *why = v.malformed_reason ? v.malformed_reason : "unknown";
        cli_tally_add(&st->reasons, sw_str_make(why, strlen(why)), 1);
    }
    st->events += v.events;
    if (r != SW_OK) {
        run->sink_error = r;
        return 1; /* stop: events would be lost */
    }
    return 0;
}

/* Printable, bounded copy of a name from the traffic for the summary. */
static void print_name(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            fputc(c, out);
        else
            fprintf(out, "\\x%02x", c);
    }
}

static void print_summary(FILE *out, const check_stats *st, const file_rec *files, int nfiles,
                          double secs, const char *events_path, uint64_t events_written)
{
    const sw_capture_stats *c = &st->cap;
    fprintf(out, "== sipwall check: %d capture%s", nfiles, nfiles == 1 ? "" : "s");
    if (st->files_failed)
        fprintf(out, " (%" PRIu64 " could not be opened)", st->files_failed);
    if (st->files_damaged)
        fprintf(out, " (%" PRIu64 " damaged or truncated)", st->files_damaged);
    fprintf(out, "\n");
    for (int i = 0; i < nfiles; i++) {
        const file_rec *f = &files[i];
        fprintf(out, "  %s: ", f->path);
        if (f->state && strcmp(f->state, "not opened") == 0)
            fprintf(out, "not opened\n");
        else
            fprintf(out, "%" PRIu64 " frames, %" PRIu64 " SIP messages, %" PRIu64 " malformed%s%s\n",
                    f->frames, f->messages, f->malformed, f->state ? ", " : "",
                    f->state ? f->state : "");
    }
    fprintf(out, "frames        %" PRIu64 " (%" PRIu64 " bytes)\n", c->frames, c->bytes);
    fprintf(out, "SIP messages  %" PRIu64 "\n", st->messages);

    fprintf(out, "requests      %" PRIu64, st->requests);
    const char *sep = ":";
    /* Known methods in count order, then extension methods. */
    size_t order[SW_METHOD__COUNT];
    size_t n = 0;
    for (size_t m = 1; m < SW_METHOD__COUNT; m++) {
        if (!st->by_method[m])
            continue;
        size_t at = n;
        while (at > 0 && st->by_method[order[at - 1]] < st->by_method[m]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = m;
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s %s %" PRIu64, sep, sw_method_name((sw_method)order[i]),
                st->by_method[order[i]]);
        sep = ",";
    }
    const cli_tally_entry *tt[TOP_N];
    size_t k = cli_tally_top(&st->other_methods, tt, TOP_N);
    uint64_t shown = 0;
    for (size_t i = 0; i < k; i++) {
        const cli_tally_entry *e = tt[i];
        fprintf(out, "%s ", sep);
        print_name(out, e->name, e->len);
        fprintf(out, " %" PRIu64, e->count);
        shown += e->count;
        sep = ",";
    }
    uint64_t other_total = st->other_methods.other;
    for (size_t i = 0; i < st->other_methods.n; i++)
        other_total += st->other_methods.e[i].count;
    if (other_total > shown)
        fprintf(out, "%s other extension methods %" PRIu64, sep, other_total - shown);
    fprintf(out, "\n");

    fprintf(out, "responses     %" PRIu64 "\n", st->responses);
    for (int cls = 1; cls <= 6; cls++) {
        uint64_t total = 0;
        for (int code = cls * 100; code < cls * 100 + 100; code++)
            total += st->by_status[code];
        if (!total)
            continue;
        fprintf(out, "  %dxx %8" PRIu64 ":", cls, total);
        sep = "";
        for (int code = cls * 100; code < cls * 100 + 100; code++) {
            if (st->by_status[code]) {
                fprintf(out, "%s %d %" PRIu64, sep, code, st->by_status[code]);
                sep = ",";
            }
        }
        fprintf(out, "\n");
    }
    if (st->unknown_start)
        fprintf(out, "unreadable    %" PRIu64 " (no request or status line)\n", st->unknown_start);

    const cli_src_entry *top[TOP_N];
    k = cli_src_top(&st->sources, top, TOP_N);
    fprintf(out, "sources       %zu distinct%s, top %zu by messages:\n", st->sources.n,
            st->sources.other ? " (table full; more not counted)" : "", k);
    for (size_t i = 0; i < k; i++) {
        char a[SW_ADDR_STRLEN];
        if (sw_addr_format(&top[i]->addr, a, sizeof a) < 0)
            snprintf(a, sizeof a, "?");
        fprintf(out, "  %10" PRIu64 "  %s\n", top[i]->count, a);
    }

    fprintf(out, "malformed     %" PRIu64, st->malformed);
    if (st->messages)
        fprintf(out, " (%.2f%% of messages)", 100.0 * (double)st->malformed / (double)st->messages);
    fprintf(out, "\n");
    k = cli_tally_top(&st->reasons, tt, TOP_N);
    for (size_t i = 0; i < k; i++) {
        const cli_tally_entry *e = tt[i];
        fprintf(out, "  %10" PRIu64 "  ", e->count);
        print_name(out, e->name, e->len);
        fprintf(out, "\n");
    }

    fprintf(out,
            "capture       %" PRIu64 " IP fragments (%" PRIu64 " datagrams reassembled), %" PRIu64
            " TCP streams, %" PRIu64 " TCP segments out of order, %" PRIu64 " retransmitted, %" PRIu64
            " gaps\n",
            c->ip_fragments, c->ip_reassembled, c->tcp_streams, c->tcp_out_of_order,
            c->tcp_retransmits, c->tcp_gaps);
    fprintf(out,
            "              %" PRIu64 " non-SIP payloads, %" PRIu64 " damaged frames, %" PRIu64
            " skipped frames (other protocols or link types), %" PRIu64 " fragment sets and %" PRIu64
            " streams evicted\n",
            c->non_sip, c->damaged, c->skipped, c->frag_evicted, c->tcp_evicted);
    if (c->bad_timestamps)
        fprintf(out, "              %" PRIu64 " frames with a time outside 1970..2242 (clamped)\n",
                c->bad_timestamps);
    if (c->tls_streams) {
        fprintf(out,
                "tls           %" PRIu64 " TLS directions, %" PRIu64 " certificates read, %" PRIu64
                " TLS 1.3 (certificates encrypted), %" PRIu64 " NULL cipher (SIP screened), %" PRIu64
                " encrypted (SIP not readable), %" PRIu64 " given up\n",
                c->tls_streams, c->tls_certificates, c->tls_encrypted_handshakes, c->tls_null_cipher,
                c->tls_unreadable, c->tls_bad);
        for (uint32_t i = 0; i < st->ntls; i++) {
            const tls_seen *t = &st->tls[i];
            char a[SW_ADDR_STRLEN], b[SW_ADDR_STRLEN];
            if (sw_addr_format(&t->src, a, sizeof a) < 0)
                snprintf(a, sizeof a, "?");
            if (sw_addr_format(&t->dst, b, sizeof b) < 0)
                snprintf(b, sizeof b, "?");
            fprintf(out, "  %s -> %s  %s ", a, b, t->from_client ? "client" : "server");
            if (t->encrypted)
                fprintf(out, "TLS 1.3: certificate encrypted\n");
            else if (t->id[0])
                fprintf(out, "certificate %s: %s\n", t->id, t->peer);
            else
                fprintf(out, "certificate without a name: %s\n", t->peer);
        }
        if (st->tls_more)
            fprintf(out, "  (%" PRIu64 " more not shown)\n", st->tls_more);
    }
    fprintf(out, "events        %" PRIu64, st->events);
    if (events_path)
        fprintf(out, " written to %s (%" PRIu64 ")", strcmp(events_path, "-") ? events_path
                                                                           : "stdout",
                events_written);
    else
        fprintf(out, " (not written; use --events FILE)");
    fprintf(out, "\n");
    {
        const cli_tally_entry *rtop[20];
        size_t kk = cli_tally_top(&st->rules, rtop, 20);
        for (size_t i = 0; i < kk; i++) {
            fprintf(out, "  %10" PRIu64 "  ", rtop[i]->count);
            print_name(out, rtop[i]->name, rtop[i]->len);
            fprintf(out, "\n");
        }
    }
    fprintf(out, "verdicts     ");
    sep = "";
    for (int a = 0; a < SW_ACTION__COUNT; a++) {
        if (!st->verdicts[a])
            continue;
        fprintf(out, "%s %s %" PRIu64, sep, sw_action_name((sw_action)a), st->verdicts[a]);
        sep = ",";
    }
    fprintf(out, "\n");
    fprintf(out, "elapsed       %.3f s, %.0f messages/s\n", secs,
            secs > 0 ? (double)st->messages / secs : 0.0);
}

static int stats_init(check_stats *st)
{
    memset(st, 0, sizeof *st);
    if (cli_tally_init(&st->other_methods, 64) != SW_OK || cli_tally_init(&st->reasons, 256) != SW_OK ||
        cli_tally_init(&st->rules, 256) != SW_OK ||
        cli_src_init(&st->sources, 1u << 16) != SW_OK)
        return -1;
    return 0;
}

static void stats_free(check_stats *st)
{
    cli_tally_free(&st->other_methods);
    cli_tally_free(&st->reasons);
    cli_tally_free(&st->rules);
    cli_src_free(&st->sources);
}

/* Counts events by "event_type rule" for the summary. */
typedef struct count_sink {
    sw_event_sink base;
    cli_tally *t;
} count_sink;

static int count_emit(sw_event_sink *s, const sw_event *ev)
{
    count_sink *c = (count_sink *)s;
    char name[CLI_TALLY_NAME];
    const char *t = sw_event_type_name(ev->type);
    int n = snprintf(name, sizeof name, "%-15s %s", t ? t : "?", ev->rule ? ev->rule : "");
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof name)
        n = (int)sizeof name - 1;
    cli_tally_add(c->t, sw_str_make(name, (size_t)n), 1);
    return SW_OK;
}
static int count_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static int count_close(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static const sw_event_sink_ops count_ops = {
    .name = "count", .emit = count_emit, .flush = count_flush, .close = count_close};

#define MAX_POLICY_FILES 16

static sw_policy *load_policy(const char **paths, size_t n)
{
    sw_policy *p = NULL;
    static sw_policy_diags d;
    static const char *def[] = {"builtin:default"};
    if (n == 0) {
        paths = def;
        n = 1;
    }
    int r = sw_policy_load(paths, n, &p, &d);
    cli_print_policy_diags("sipwall check", &d);
    if (r != SW_OK) {
        fprintf(stderr, "sipwall check: the policy has errors (%s); nothing screened\n", sw_strerror(r));
        return NULL;
    }
    return p;
}

static int run_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"events", required_argument, NULL, OPT_EVENTS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"report", required_argument, NULL, OPT_REPORT},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"export-stix", required_argument, NULL, OPT_EXPORT},
        {"export-misp", required_argument, NULL, OPT_EXPORT},
        {"export-csv", required_argument, NULL, OPT_EXPORT},
        {"export-org", required_argument, NULL, OPT_EXPORT},
        {"export-fse", required_argument, NULL, OPT_EXPORT},
        {"export-policy", required_argument, NULL, OPT_EXPORT},
        {"export-group", required_argument, NULL, OPT_EXPORT},
        {"sign-key", required_argument, NULL, OPT_EXPORT},
        {"sign-kid", required_argument, NULL, OPT_EXPORT},
        {"export-tlp1", no_argument, NULL, OPT_EXPORT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *events_path = NULL, *report_path = NULL, *labels_path = NULL;
    const char *policy_paths[MAX_POLICY_FILES];
    size_t npolicy = 0;
    int quiet = 0;
    cli_export exp = {0};
    opterr = 0;
    optind = 1;
    int c, li = 0;
    while ((c = getopt_long(argc, argv, "hq", longopts, &li)) != -1) {
        switch (c) {
        case OPT_EXPORT: {
            int r = cli_export_option(&exp, longopts[li].name, optarg);
            if (r != 1)
                return CLI_EXIT_USAGE;
            break;
        }
        case OPT_EVENTS:
            if (events_path)
                return cli_usage("check", "--events given twice");
            events_path = optarg;
            break;
        case OPT_QUIET:
        case 'q':
            quiet = 1;
            break;
        case OPT_POLICY:
            if (npolicy >= MAX_POLICY_FILES)
                return cli_usage("check", "at most %d --policy files", MAX_POLICY_FILES);
            policy_paths[npolicy++] = optarg;
            break;
        case OPT_REPORT:
            if (report_path)
                return cli_usage("check", "--report given twice");
            report_path = optarg;
            break;
        case OPT_LABELS:
            if (labels_path)
                return cli_usage("check", "--labels given twice");
            labels_path = optarg;
            break;
        case 'h':
            fputs(check_usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_bad_option("check", argv, longopts);
        }
    }
    if (optind >= argc)
        return cli_usage("check", "no CAPTURE given");
    if (events_path && events_path[0] == '\0')
        return cli_usage("check", "--events needs a file name ('-' for stdout)");
    int nfiles = argc - optind;

    sw_policy *policy = load_policy(policy_paths, npolicy);
    if (!policy)
        return CLI_EXIT_USAGE;
    sw_location_feed *feed = NULL;
    if (policy->location_feed) {
        static sw_policy_diags fd;
        if (sw_location_feed_load(policy->location_feed, &feed, &fd) != SW_OK) {
            cli_print_policy_diags("sipwall check", &fd);
            fprintf(stderr, "sipwall check: cannot load the location feed %s\n", policy->location_feed);
            sw_policy_free(policy);
            return CLI_EXIT_USAGE;
        }
    }
    sw_labels *labels = NULL;
    if (labels_path) {
        char err[512] = "";
        if (sw_labels_load(labels_path, &labels, err, sizeof err) != SW_OK) {
            fprintf(stderr, "sipwall check: %s: %s\n", labels_path, err);
            sw_location_feed_free(feed);
            sw_policy_free(policy);
            return CLI_EXIT_USAGE;
        }
    }
    /* The sink is opened before anything is printed (it may be stdout). */
    sw_event_sink *sink = NULL;
    if (events_path) {
        char err[512];
        sink = sw_jsonl_sink_open(events_path, err, sizeof err);
        if (!sink) {
            fprintf(stderr, "sipwall check: cannot write events: %s\n", err);
            sw_labels_free(labels);
            sw_location_feed_free(feed);
            sw_policy_free(policy);
            return CLI_EXIT_USAGE;
        }
    }
    FILE *out = (events_path && strcmp(events_path, "-") == 0) ? stderr : stdout;
    static check_stats st;
    cli_screener *scr = NULL;
    int status = CLI_EXIT_OK;
    sw_report *report = report_path ? sw_report_new(20000) : NULL;
    sw_event_sink *report_sink = report ? sw_report_sink(report) : NULL;
    sw_event_sink *labels_sink = labels ? sw_labels_sink(labels) : NULL;
    count_sink counter = {.base = {.ops = &count_ops}, .t = &st.rules};
    sw_event_sink *exp_sink = cli_export_wanted(&exp) ? cli_export_start(&exp) : NULL;
    sw_event_sink *sinks[5];
    size_t nsinks = 0;
    sinks[nsinks++] = &counter.base;
    if (sink)
        sinks[nsinks++] = sink;
    if (report_sink)
        sinks[nsinks++] = report_sink;
    if (labels_sink)
        sinks[nsinks++] = labels_sink;
    if (exp_sink)
        sinks[nsinks++] = exp_sink;
    sw_event_sink *tee = sw_tee_sink_new(sinks, nsinks);
    file_rec *files = calloc((size_t)nfiles, sizeof *files);
    if (stats_init(&st) < 0 || !tee || !files || (report_path && (!report || !report_sink)) ||
        (labels && !labels_sink) || (cli_export_wanted(&exp) && !exp_sink) || !(scr = cli_screener_new(NULL, policy, tee))) {
        if (!cli_export_wanted(&exp) || exp_sink) /* else cli_export_start said why */
            fprintf(stderr, "sipwall check: out of memory\n");
        free(files);
        stats_free(&st);
        sw_event_sink_close(tee);
        sw_event_sink_close(sink);
        sw_event_sink_close(report_sink);
        sw_event_sink_close(labels_sink);
        sw_report_free(report);
        sw_labels_free(labels);
        sw_location_feed_free(feed);
        sw_policy_free(policy);
        cli_export_free(&exp);
        return CLI_EXIT_USAGE;
    }
    counter.t = &st.rules; /* stats_init zeroed st */
    if (feed)
        sw_engine_set_location_feed(cli_screener_engine(scr), feed);
    int64_t last_ts = 0;
    int64_t t0 = cli_now_ns();
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        file_rec *rec = &files[i - optind];
        char err[512] = "";
        rec->path = path;
        sw_capture *cap = sw_capture_open_file(path, NULL, err, sizeof err);
        if (!cap) {
            fprintf(stderr, "sipwall check: %s: %s\n", path, err[0] ? err : "cannot open");
            rec->state = "not opened";
            st.files_failed++;
            status = CLI_EXIT_USAGE;
            continue;
        }
        uint64_t msgs0 = st.messages, bad0 = st.malformed;
        check_run run = {.scr = scr, .st = &st, .last_ts = last_ts, .report = report, .policy = policy};
        sw_capture_set_tls_cb(cap, on_tls, &run);
        if (nfiles > 1)
            run.file = sw_str_make(path, strlen(path));
        int r = sw_capture_run(cap, on_message, &run);
        last_ts = run.last_ts;
        add_capture_stats(&st.cap, sw_capture_get_stats(cap));
        rec->frames = sw_capture_get_stats(cap)->frames;
        rec->messages = st.messages - msgs0;
        rec->malformed = st.malformed - bad0;
        if (run.sink_error) {
            fprintf(stderr, "sipwall check: writing events to %s: %s\n", events_path,
                    sw_strerror(run.sink_error));
            sw_capture_free(cap);
            rec->state = "stopped: events could not be written";
            nfiles = i - optind + 1;
            status = CLI_EXIT_USAGE;
            break;
        }
        if (r != SW_OK) {
            const char *why = sw_capture_error(cap);
            fprintf(stderr, "sipwall check: warning: %s: %s (messages before it were screened)\n",
                    path, why && why[0] ? why : sw_strerror(r));
            rec->state = "damaged or truncated";
            st.files_damaged++;
            if (status == CLI_EXIT_OK)
                status = CLI_EXIT_DAMAGED;
        } else {
            st.files_ok++;
        }
        sw_capture_free(cap);
    }
    /* what the engine still holds back (suppressed repeats, open blocks) */
    if (sw_engine_flush(cli_screener_engine(scr), last_ts) != SW_OK && status != CLI_EXIT_USAGE) {
        fprintf(stderr, "sipwall check: writing events to %s failed\n", events_path ? events_path : "a sink");
        status = CLI_EXIT_USAGE;
    }
    sw_engine_stats es;
    sw_engine_get_stats(cli_screener_engine(scr), &es);
    st.events = es.events;
    double secs = (double)(cli_now_ns() - t0) / 1e9;

    uint64_t written = sink ? sink->emitted : 0;
    if (sink && sw_event_sink_close(sink) != SW_OK) {
        fprintf(stderr, "sipwall check: writing events to %s: %s\n", events_path,
                strerror(errno ? errno : EIO));
        status = CLI_EXIT_USAGE;
    }
    if (!quiet) {
        print_summary(out, &st, files, nfiles, secs, events_path, written);
        fprintf(out, "policy        %s%s%s, %u rules, %u peers\n", policy->name ? policy->name : "(unnamed)",
                policy->version ? " version " : "", policy->version ? policy->version : "",
                policy->nrules, policy->npeers);
        fprintf(out, "engine        %" PRIu64 " retransmissions, %" PRIu64 " dropped by blocks (%u active), %" PRIu64
                " events held back and summarised, %" PRIu64 " monitor-mode hits, state %zu KiB (fixed)\n",
                es.retransmissions, es.blocked, es.active_blocks, es.events_suppressed, es.monitor_hits,
                sw_engine_memory(cli_screener_engine(scr)) / 1024);
        fflush(out);
    }
    if (report) {
        sw_report_meta meta;
        memset(&meta, 0, sizeof meta);
        char title[512];
        snprintf(title, sizeof title, "sipwall check: %s%s", argv[optind], nfiles > 1 ? " and more" : "");
        char pol[256];
        snprintf(pol, sizeof pol, "%s%s%s", policy->name ? policy->name : "(unnamed)",
                 policy->version ? " version " : "", policy->version ? policy->version : "");
        meta.title = title;
        meta.policy = pol;
        meta.messages = st.messages;
        memcpy(meta.verdicts, st.verdicts, sizeof meta.verdicts);
        meta.elapsed_s = secs;
        char err[512] = "";
        sw_event_sink_close(report_sink);
        report_sink = NULL;
        if (sw_report_write_html(report, &meta, report_path, err, sizeof err) != SW_OK) {
            fprintf(stderr, "sipwall check: %s: %s\n", report_path, err);
            status = CLI_EXIT_USAGE;
        } else if (!quiet) {
            fprintf(out, "report        written to %s\n", report_path);
        }
    }
    if (exp_sink) {
        int r = cli_export_finish(&exp, out, quiet);
        if (r != CLI_EXIT_OK)
            status = r;
        fflush(out);
    }
    if (labels) {
        sw_labels_summary ls;
        fprintf(out, "== ground truth: %s\n", labels_path);
        sw_labels_report(labels, out, &ls);
        fflush(out);
        if ((ls.missed || ls.false_positives) && status == CLI_EXIT_OK)
            status = CLI_EXIT_FINDING;
    }
    free(files);
    cli_screener_free(scr);
    sw_event_sink_close(tee);
    sw_event_sink_close(report_sink);
    sw_event_sink_close(labels_sink);
    sw_report_free(report);
    sw_labels_free(labels);
    sw_policy_free(policy);
    cli_export_free(&exp);
    stats_free(&st);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sipwall check: writing to stdout failed\n");
        status = CLI_EXIT_USAGE;
    }
    return status;
}

const cli_command cli_cmd_check = {
    .name = "check",
    .run = run_check,
    .summary = "screen pcap/pcapng captures; events as JSON lines, a summary",
    .usage = check_usage,
};
