/* sipwall check: screen pcap/pcapng captures, write events, print a summary. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "screen.h"
#include "stats.h"
#include "sipwall/capture.h"
#include "sipwall/event.h"

static const char check_usage[] =
    "usage: sipwall check [--events FILE] [--quiet] CAPTURE...\n"
    "\n"
    "Screens every SIP message in the pcap/pcapng CAPTURE files (UDP, IP fragments\n"
    "reassembled, TCP streams reassembled and framed by Content-Length, SIP found\n"
    "on any port) with the same per-message screening the inline proxy applies.\n"
    "Today that is the malformed-message check: every message that fails framing,\n"
    "parsing or RFC 3261 validation gives one sip_malformed event (category cat1,\n"
    "rule sip.malformed).  Its action is what the inline proxy does: \"reject\" with\n"
    "action_status 400 (505 for an unsupported SIP version) for a request whose\n"
    "top Via is readable (specs/detections.md D4), else \"drop\"\n"
    "(responses, requests nobody can be answered for, bytes without a start line).\n"
    "Captures are processed in order; frame numbers are 1-based per file,\n"
    "and events carry \"file\" when more than one CAPTURE is given.\n"
    "\n"
    "options:\n"
    "  --events FILE   write events as JSON lines to FILE ('-' = stdout; the\n"
    "                  summary then goes to stderr).  Without it events are only\n"
    "                  counted.  Fields: ts event_type category rule action\n"
    "                  [action_status] reason confidence src dst transport\n"
    "                  method|status call_id from to pai ruri frame [file] evidence\n"
    "                  [truncated]; from/to/pai/ruri hold the URI's user part (the\n"
    "                  number) when it has one, else the URI.\n"
    "  --quiet         no summary\n"
    "  -h, --help      this text\n"
    "\n"
    "--policy, --report and --labels arrive with the screening engine; they are\n"
    "refused until then.\n"
    "\n"
    "exit status: 0 done (whether or not events were found); 2 usage error, a\n"
    "capture that cannot be opened, or events that cannot be written; 3 a capture\n"
    "was damaged or truncated (a warning names the frame; the messages read before\n"
    "the damage are screened and counted).\n";

enum { OPT_EVENTS = 256, OPT_QUIET, OPT_POLICY, OPT_REPORT, OPT_LABELS };

#define TOP_N 10

typedef struct check_stats {
    uint64_t files_ok, files_failed, files_damaged;
    uint64_t messages, requests, responses, unknown_start;
    uint64_t by_method[SW_METHOD__COUNT];
    cli_tally other_methods;
    uint64_t by_status[700];
    uint64_t malformed, events;
    cli_tally reasons;
    cli_src_table sources;
    sw_capture_stats cap; /* summed over files */
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
} check_run;

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
    cli_verdict v;
    int r = cli_screen(run->scr, cm->data, cm->len, &meta, &v);

    st->messages++;
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
    fprintf(out, "events        %" PRIu64, st->events);
    if (events_path)
        fprintf(out, " written to %s (%" PRIu64 ")", strcmp(events_path, "-") ? events_path
                                                                           : "stdout",
                events_written);
    else
        fprintf(out, " (not written; use --events FILE)");
    fprintf(out, "\n");
    fprintf(out, "elapsed       %.3f s, %.0f messages/s\n", secs,
            secs > 0 ? (double)st->messages / secs : 0.0);
}

static int stats_init(check_stats *st)
{
    memset(st, 0, sizeof *st);
    if (cli_tally_init(&st->other_methods, 64) != SW_OK || cli_tally_init(&st->reasons, 256) != SW_OK ||
        cli_src_init(&st->sources, 1u << 16) != SW_OK)
        return -1;
    return 0;
}

static void stats_free(check_stats *st)
{
    cli_tally_free(&st->other_methods);
    cli_tally_free(&st->reasons);
    cli_src_free(&st->sources);
}

static int run_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"events", required_argument, NULL, OPT_EVENTS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"report", required_argument, NULL, OPT_REPORT},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *events_path = NULL;
    int quiet = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        switch (c) {
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
        case OPT_REPORT:
        case OPT_LABELS:
            return cli_usage("check",
                             "option %s is not available yet: it comes with the screening "
                             "engine (policy, detectors, report)",
                             c == OPT_POLICY ? "--policy" : c == OPT_REPORT ? "--report" : "--labels");
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

    /* The sink is opened before anything is printed (it may be stdout). */
    sw_event_sink *sink = NULL;
    if (events_path) {
        char err[512];
        sink = sw_jsonl_sink_open(events_path, err, sizeof err);
        if (!sink) {
            fprintf(stderr, "sipwall check: cannot write events: %s\n", err);
            return CLI_EXIT_USAGE;
        }
    }
    FILE *out = (events_path && strcmp(events_path, "-") == 0) ? stderr : stdout;

    static check_stats st;
    cli_screener *scr = NULL;
    int status = CLI_EXIT_OK;
    if (stats_init(&st) < 0 || !(scr = cli_screener_new(NULL, sink))) {
        fprintf(stderr, "sipwall check: out of memory\n");
        stats_free(&st);
        sw_event_sink_close(sink);
        return CLI_EXIT_USAGE;
    }

    file_rec *files = calloc((size_t)nfiles, sizeof *files);
    if (!files) {
        fprintf(stderr, "sipwall check: out of memory\n");
        cli_screener_free(scr);
        stats_free(&st);
        sw_event_sink_close(sink);
        return CLI_EXIT_USAGE;
    }

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
        check_run run = {.scr = scr, .st = &st};
        if (nfiles > 1)
            run.file = sw_str_make(path, strlen(path));
        int r = sw_capture_run(cap, on_message, &run);
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
    double secs = (double)(cli_now_ns() - t0) / 1e9;

    uint64_t written = sink ? sink->emitted : 0;
    if (sink && sw_event_sink_close(sink) != SW_OK) {
        fprintf(stderr, "sipwall check: writing events to %s: %s\n", events_path,
                strerror(errno ? errno : EIO));
        status = CLI_EXIT_USAGE;
    }
    if (!quiet) {
        print_summary(out, &st, files, nfiles, secs, events_path, written);
        fflush(out);
    }
    free(files);
    cli_screener_free(scr);
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
