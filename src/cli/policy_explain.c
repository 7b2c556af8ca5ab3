/* sipwall policy explain: what the policy does with one message from one
 * source, and why.
 *
 * Everything comes from the engine itself (public API only), screening the
 * message in fresh engines:
 *   - the verdict: the policy as loaded;
 *   - the rules that match: a second copy of the policy in which every rule
 *     that is not an allow rule is monitor-only (so none stops the others)
 *     and the detectors are off; each monitor hit is one of its events;
 *   - the detectors that keep state for the message: one copy per enabled
 *     detector with only that detector on, against a copy with none on (the
 *     engine's own tracking): more table entries, or a hit, means it counted
 *     the message.
 * The copies are loaded from the same files and changed before any engine
 * sees them; their limits are cut to a few entries (one message needs no
 * more). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sipwall/engine.h"
#include "sipwall/event.h"
#include "sipwall/policy.h"

#define MAX_EVENTS 64

typedef struct ex_event {
    const char *rule; /* the policy's or the detector layer's static id */
    sw_event_type type;
    sw_category category;
    sw_action action;
    uint16_t status;
    uint8_t monitor;
    char reason[384];
    char also[256];   /* evidence "also": the other rules that matched the message */
} ex_event;

/* A sink that keeps the events of one message. */
typedef struct ex_sink {
    sw_event_sink base;
    ex_event ev[MAX_EVENTS];
    unsigned n;
} ex_sink;

static int ex_emit(sw_event_sink *s, const sw_event *ev)
{
    ex_sink *x = (ex_sink *)s;
    if (x->n >= MAX_EVENTS)
        return SW_OK;
    ex_event *e = &x->ev[x->n++];
    e->rule = ev->rule;
    e->type = ev->type;
    e->category = ev->category;
    e->action = ev->action;
    e->status = ev->action_status;
    e->monitor = ev->monitor;
    char clean[3 * 120];
    int cut = 0;
    size_t n = sw_event_sanitize(ev->reason, 120, clean, &cut);
    snprintf(e->reason, sizeof e->reason, "%.*s%s", (int)n, clean, cut ? "…" : "");
    e->also[0] = '\0';
    for (unsigned i = 0; i < ev->nevidence && i < SW_EVENT_MAX_EVIDENCE; i++)
        if (ev->evidence[i].kind == SW_EVIDENCE_STR && strcmp(ev->evidence[i].key, "also") == 0)
            snprintf(e->also, sizeof e->also, "%.*s", (int)ev->evidence[i].str.len,
                     ev->evidence[i].str.ptr);
    return SW_OK;
}

static int ex_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}

static int ex_close(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}

static const sw_event_sink_ops ex_ops = {.name = "explain", .emit = ex_emit, .flush = ex_flush,
                                         .close = ex_close};

static const char explain_usage[] =
    "usage: sipwall policy explain [--policy FILE]... --src IP[:PORT] [--dst IP[:PORT]]\n"
    "                              [--transport udp|tcp|tls] [--passive] FILE.sip\n"
    "\n"
    "Screens the SIP message in FILE.sip (the bytes as on the wire) as if it came\n"
    "from --src (to --dst) and says: which partner or zone sent it (and to which\n"
    "it goes), the direction and the numbers as the rules see them; every rule\n"
    "whose condition matches, in evaluation order (an allow rule that matches\n"
    "ends the evaluation); the zone admission; the detectors that keep state for\n"
    "it; the verdict, the rule that decided it and why; and the events it raises.\n"
    "The policy is builtin:default unless --policy is given (several overlay in\n"
    "order).  --passive screens as the passive sensor does (default: inline).\n"
    "\n"
    "exit status: 0 explained, 1 the policy has errors, 2 usage error or a file\n"
    "that cannot be read.\n";

static int load(const char *const *paths, size_t n, sw_policy **p, int report)
{
    static sw_policy_diags diags;
    int rc = sw_policy_load(paths, n, p, &diags);
    if (report)
        cli_print_policy_diags(NULL, &diags);
    if (rc != SW_OK && report)
        fprintf(stderr, "sipwall policy: %u error%s\n", diags.errors, diags.errors == 1 ? "" : "s");
    return rc;
}

/* Few entries: one message is screened. */
static void small_limits(sw_policy *p)
{
    p->limits.sources = p->limits.numbers = p->limits.dialogs = 256;
    p->limits.blocks = p->limits.event_keys = 256;
}

/* Screens the message once in a fresh engine on p. */
static int screen_once(const sw_policy *p, const sw_engine_msg *m, int passive, ex_sink *sink,
                       sw_verdict *v, sw_engine_stats *st, sw_engine **keep)
{
    memset(sink, 0, sizeof *sink);
    sink->base.ops = &ex_ops;
    sw_engine_config cfg = {.policy = p, .sink = &sink->base, .passive = (uint8_t)passive};
    sw_engine *e = sw_engine_new(&cfg);
    if (!e)
        return SW_ENOMEM;
    (void)sw_engine_screen(e, m, v);
    if (st)
        sw_engine_get_stats(e, st);
    if (keep)
        *keep = e; /* the verdict's facts live in the engine */
    else
        sw_engine_free(e);
    return SW_OK;
}

static void print_peer(const char *label, const sw_addr *a, const sw_peer *pe)
{
    char at[SW_ADDR_STRLEN] = "-";
    if (a->family)
        (void)sw_addr_format(a, at, sizeof at);
    printf("%-10s %s: ", label, at);
    if (pe->is_zone)
        printf("zone %s (not a configured partner; admission %s%s, %s)\n", pe->name,
               pe->admit == SW_ADMIT_DROP ? "drop" : "screen",
               pe->admit == SW_ADMIT_DROP && pe->admit_monitor ? " in monitor mode" : "",
               pe->trusted ? "trusted" : "untrusted");
    else
        printf("partner %s (role %s, %s)\n", pe->name, sw_peer_role_name(pe->role),
               pe->trusted ? "trusted" : "untrusted");
}

static const char *const dir_names[] = {"ingress (toward the core)", "egress (from the core)",
                                        "transit (neither end is the core)"};

static void print_facts(const sw_facts *f, const sw_policy *p)
{
    if (f->malformed)
        printf("message    malformed: offset %zu: %s\n", f->error.offset,
               f->error.reason ? f->error.reason : sw_errname(f->error.code));
    else if (f->is_request)
        printf("message    %.*s request, %zu bytes\n", (int)f->method_name.len,
               f->method_name.ptr ? f->method_name.ptr : "", f->size);
    else
        printf("message    %u response (%.*s), %zu bytes\n", f->status, (int)f->method_name.len,
               f->method_name.ptr ? f->method_name.ptr : "", f->size);
    print_peer("from", &f->src, f->peer);
    print_peer("to", &f->dst, f->dst_peer);
    printf("direction  %s%s\n", dir_names[f->direction < 3 ? f->direction : 0],
           p->core ? "" : " — the policy has no core partner, so every message is ingress");
    if (f->a_len || f->b_len)
        printf("numbers    a %.*s%s%s, b %.*s%s%s\n", f->a_len ? (int)f->a_len : 1,
               f->a_len ? f->a : "-", f->a_e164 ? " (E.164)" : "",
               f->a_subscriber ? " (our subscriber)" : "", f->b_len ? (int)f->b_len : 1,
               f->b_len ? f->b : "-", f->b_e164 ? " (E.164)" : "",
               f->b_subscriber ? " (our subscriber)" : "");
}

static const sw_rule *rule_by_id(const sw_policy *p, const char *id)
{
    for (uint32_t i = 0; id && i < p->nrules; i++)
        if (strcmp(p->rules[i].id, id) == 0)
            return &p->rules[i];
    return NULL;
}

static void print_action(sw_action a, uint16_t status)
{
    if (a == SW_ACTION_REJECT && status)
        printf("reject %u", status);
    else
        printf("%s", sw_action_name(a));
}

/* The rules that match, in evaluation order. */
static int explain_rules(const char *const *paths, size_t n, const sw_engine_msg *m, int passive)
{
    sw_policy *p = NULL;
    if (load(paths, n, &p, 0) != SW_OK)
        return SW_EINVAL;
    for (uint32_t i = 0; i < p->nrules; i++)
        if (p->rules[i].act.action != SW_ACTION_ALLOW)
            p->rules[i].monitor = 1;
    for (int d = 0; d < SW_DET__COUNT; d++)
        p->detectors[d].enabled = 0;
    small_limits(p);
    static ex_sink sink;
    sw_verdict v;
    int rc = screen_once(p, m, passive, &sink, &v, NULL, NULL);
    if (rc != SW_OK) {
        sw_policy_free(p);
        return rc;
    }
    printf("rules      that match, in evaluation order:\n");
    unsigned shown = 0;
    const sw_rule *allow = v.rule ? rule_by_id(p, v.rule) : NULL;
    if (allow && allow->act.action == SW_ACTION_ALLOW) {
        printf("  %-32s %-12s allow: an allow rule wins, no other rule is evaluated\n", allow->id,
               sw_category_name(allow->category));
        shown++;
    }
    /* The rules of the message's event (its rule, and the others in
     * "also": one event per message), in the policy's order.  In this copy
     * every rule that is not an allow rule is monitor-only, so a rule named
     * by an event matched. */
    for (uint32_t k = 0; k < p->nrules; k++) {
        const sw_rule *r = &p->rules[k];
        const char *why = NULL;
        for (unsigned i = 0; i < sink.n && !why; i++) {
            const ex_event *e = &sink.ev[i];
            if (e->rule && strcmp(e->rule, r->id) == 0) {
                why = e->reason;
                break;
            }
            size_t idl = strlen(r->id);
            for (const char *a = e->also; (a = strstr(a, r->id)) != NULL; a += idl)
                if ((a == e->also || a[-1] == ' ') && (a[idl] == ' ' || a[idl] == '\0')) {
                    why = r->reason ? r->reason : "matches";
                    break;
                }
        }
        if (!why)
            continue;
        printf("  %-32s %-12s ", r->id, sw_category_name(r->category));
        print_action(r->act.action, r->act.status);
        printf(": %s\n", why);
        shown++;
    }
    if (!shown)
        printf("  (none)\n");
    sw_policy_free(p);
    return SW_OK;
}

/* The detectors that keep state for the message. */
static int explain_detectors(const char *const *paths, size_t n, const sw_policy *orig,
                             const sw_engine_msg *m, int passive)
{
    sw_policy *base = NULL;
    if (load(paths, n, &base, 0) != SW_OK)
        return SW_EINVAL;
    for (int d = 0; d < SW_DET__COUNT; d++)
        base->detectors[d].enabled = 0;
    small_limits(base);
    static ex_sink sink;
    sw_verdict v;
    sw_engine_stats st0, st;
    int rc = screen_once(base, m, passive, &sink, &v, &st0, NULL);
    sw_policy_free(base);
    if (rc != SW_OK)
        return rc;
    printf("detectors ");
    unsigned counting = 0;
    for (int d = 0; d < SW_DET__COUNT && rc == SW_OK; d++) {
        if (!orig->detectors[d].enabled)
            continue;
        sw_policy *p = NULL;
        if (load(paths, n, &p, 0) != SW_OK)
            return SW_EINVAL;
        for (int o = 0; o < SW_DET__COUNT; o++)
            p->detectors[o].enabled = o == d;
        small_limits(p);
        rc = screen_once(p, m, passive, &sink, &v, &st, NULL);
        sw_policy_free(p);
        if (rc == SW_OK && (st.detect.entries > st0.detect.entries || st.detect.hits)) {
            printf(" %s%s", sw_detector_name((sw_detector_id)d),
                   orig->detectors[d].monitor ? " (monitor)" : "");
            counting++;
        }
    }
    printf("%s\n", counting ? "  (keep state for it: it counts toward their thresholds)"
                            : " none keeps state for it");
    unsigned off = 0;
    for (int d = 0; d < SW_DET__COUNT; d++)
        if (!orig->detectors[d].enabled)
            printf("%s %s", off++ ? "," : "           off:", sw_detector_name((sw_detector_id)d));
    if (off)
        printf("\n");
    return rc;
}

int cli_policy_explain(int argc, char **argv)
{
    static const struct option longopts[] = {{"policy", required_argument, NULL, 'p'},
                                             {"src", required_argument, NULL, 's'},
                                             {"dst", required_argument, NULL, 'd'},
                                             {"transport", required_argument, NULL, 't'},
                                             {"passive", no_argument, NULL, 'P'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    if (!paths)
        return CLI_EXIT_USAGE;
    size_t np = 0;
    const char *src = NULL, *dst = NULL;
    sw_transport tp = SW_TRANSPORT_UDP;
    int passive = 0, c, rc = CLI_EXIT_USAGE;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+hp:s:d:t:P", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(explain_usage, stdout); free(paths); return CLI_EXIT_OK;
        case 'p': paths[np++] = optarg; break;
        case 's': src = optarg; break;
        case 'd': dst = optarg; break;
        case 'P': passive = 1; break;
        case 't':
            if (strcmp(optarg, "udp") == 0)
                tp = SW_TRANSPORT_UDP;
            else if (strcmp(optarg, "tcp") == 0)
                tp = SW_TRANSPORT_TCP;
            else if (strcmp(optarg, "tls") == 0)
                tp = SW_TRANSPORT_TLS;
            else {
                free(paths);
                return cli_usage("policy", "explain: --transport is udp, tcp or tls, not '%s'",
                                 optarg);
            }
            break;
        default: free(paths); return cli_bad_option("policy", argv, longopts);
        }
    }
    sw_engine_msg m;
    memset(&m, 0, sizeof m);
    if (!src || sw_addr_parse(src, &m.src) != SW_OK) {
        free(paths);
        return cli_usage("policy", "explain needs --src IP[:PORT]%s%s%s", src ? " ('" : "",
                         src ? src : "", src ? "' is not one)" : "");
    }
    if (dst && sw_addr_parse(dst, &m.dst) != SW_OK) {
        free(paths);
        return cli_usage("policy", "explain: --dst '%s' is not IP[:PORT]", dst);
    }
    if (optind + 1 != argc) {
        free(paths);
        return cli_usage("policy", "explain needs exactly one FILE.sip");
    }
    if (np == 0)
        paths[np++] = "builtin:default";
    char *data = NULL;
    size_t len = 0;
    int err = cli_read_file(argv[optind], &data, &len);
    if (err) {
        fprintf(stderr, "sipwall policy: %s: %s\n", argv[optind], strerror(err));
        free(paths);
        return CLI_EXIT_USAGE;
    }
    sw_policy *p = NULL;
    int lr = load(paths, np, &p, 1);
    if (lr != SW_OK) {
        free(data);
        free(paths);
        return lr == SW_EIO ? CLI_EXIT_USAGE : CLI_EXIT_FINDING;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    m.data = data;
    m.len = len;
    m.ts_ns = (int64_t)ts.tv_sec * SW_NS_S + ts.tv_nsec;
    m.transport = tp;
    m.framing = tp == SW_TRANSPORT_UDP ? SW_SIP_DATAGRAM : SW_SIP_STREAM;

    static ex_sink sink;
    sw_verdict v;
    sw_engine *e = NULL;
    printf("policy     \"%s\"%s%s%s, %u rules\n", p->name, p->version[0] ? " version \"" : "",
           p->version, p->version[0] ? "\"" : "", p->nrules);
    if (screen_once(p, &m, passive, &sink, &v, NULL, &e) != SW_OK) {
        fprintf(stderr, "sipwall policy: out of memory\n");
        goto out;
    }
    print_facts(v.facts, p);
    sw_engine_free(e);
    if (explain_rules(paths, np, &m, passive) != SW_OK ||
        explain_detectors(paths, np, p, &m, passive) != SW_OK) {
        fprintf(stderr, "sipwall policy: cannot screen the copies of the policy\n");
        goto out;
    }
    printf("verdict    ");
    print_action(v.action, v.status);
    const sw_rule *vr = v.rule ? rule_by_id(p, v.rule) : NULL;
    if (vr && vr->act.action == SW_ACTION_ALLOW) {
        printf(" by %s (allow rule, %s)%s%s\n", vr->id, sw_category_name(vr->category),
               vr->reason ? ": " : "", vr->reason ? vr->reason : "");
    } else if (v.rule) {
        const ex_event *why = NULL;
        for (unsigned i = 0; i < sink.n && !why; i++)
            if (sink.ev[i].rule && strcmp(sink.ev[i].rule, v.rule) == 0)
                why = &sink.ev[i];
        printf(" by %s (%s, %s)%s%s%s\n", v.rule, sw_category_name(v.category),
               sw_event_type_name(v.type), v.admission ? ", zone admission" : "",
               why ? ": " : "", why ? why->reason : "");
    } else {
        printf(": no rule or detector objected%s\n",
               v.monitor_hits ? " (monitor-only rules matched: see the events)" : "");
    }
    printf("events     %u\n", sink.n);
    for (unsigned i = 0; i < sink.n; i++) {
        const ex_event *ev = &sink.ev[i];
        printf("  %-16s %-28s %s ", sw_event_type_name(ev->type), ev->rule ? ev->rule : "-",
               ev->monitor ? "monitor" : "enforce");
        print_action(ev->action, ev->status);
        printf(": %s\n", ev->reason);
    }
    rc = CLI_EXIT_OK;
out:
    sw_policy_free(p);
    free(data);
    free(paths);
    return rc;
}
