/* sipwall assess: active security tests of a SIP service, SBC or IoT
 * device, the questionnaire, and the FS.38 gap report (docs/assess.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sipwall/assess.h"

static const char assess_usage[] =
    "usage: sipwall assess TARGET [options]\n"
    "       sipwall assess --questionnaire-template [--profile P]\n"
    "\n"
    "Runs the active checks of the catalogue against one target and writes the\n"
    "report.  TARGET is sip:HOST[:PORT];transport=udp|tcp|tls (sips: means TLS).\n"
    "The target, the profile, every check and the limits are printed before the\n"
    "first packet; only that host and its SIP ports (and the TLS port 5061 or the\n"
    "plaintext 5060 beside it) are contacted.\n"
    "\n"
    "options:\n"
    "  --profile P            sip-service (default), sbc, iot\n"
    "  --host ADDR            the device address for the host checks (default: the SIP host)\n"
    "  --questionnaire F      answers (YAML) merged into the report\n"
    "  --questionnaire-template  print the questionnaire to fill for --profile and exit\n"
    "  --ca F                 CA file the server chain must verify against\n"
    "  --tls-name NAME        name the server certificate must carry (default: the host)\n"
    "  --client-cert F --client-key F   our certificate for mutual TLS\n"
    "  --invite-to URI        the request URI of SIP-AUTH-01 (default sip:sipwall-<rand>@target)\n"
    "  --known-user U         a user known to exist (repeatable, at most 8)\n"
    "  --test-account U:P     an account of ours for SIP-CRED-03 (and LOG-SINK-01)\n"
    "  --credential-tests     allow password guessing (SIP-CRED-01/03, NET-DEFCRED-01)\n"
    "  --max-rate N           allow the flood check SIP-RATE-01 at N requests/s (<= 500)\n"
    "  --rate N               requests/s of every other check (default and ceiling 10)\n"
    "  --packet-budget N      packets of the whole run (default 1000)\n"
    "  --timeout MS           one transaction (default 2000)\n"
    "  --log-sink tls:ADDR:PORT  act as the syslog collector for LOG-SINK-01\n"
    "  --log-sink-cert F --log-sink-key F  the collector's certificate (what the\n"
    "                         device's exporter trusts)\n"
    "  --log-sink-ca F        CA of the device's client certificate (checked when given)\n"
    "  --require-mtls         expect mutual TLS (implied by --profile sbc)\n"
    "  --only IDS             run only these checks (comma-separated ids)\n"
    "  --bind ADDR            send from this local address (e.g. a declared partner's)\n"
    "  --robust-dir DIR       SIP-ROBUST-01 also sends DIR's *.dat/*.sip requests (e.g. the\n"
    "                         RFC 4475 set), rewritten to point at the target and back at us;\n"
    "                         a manifest.tsv with verdict \"invalid\" marks the malformed ones\n"
    "  --json F               write the JSON report (schema sipwall-assess/1)\n"
    "  --html F               write the self-contained HTML report\n"
    "  --fail-on SEV          exit 1 on a fail at or above SEV (critical, high, medium,\n"
    "                         low, info; default high)\n"
    "  --dry-run              print the plan and stop before the first packet\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: 0 no fail at or above --fail-on, 1 such a fail, 2 usage or runtime\n"
    "error, 3 the target did not answer.\n";

static int parse_profile(const char *s, sw_assess_profile *p)
{
    if (!strcmp(s, "sip-service"))
        *p = SW_ASSESS_PROFILE_SIP_SERVICE;
    else if (!strcmp(s, "sbc"))
        *p = SW_ASSESS_PROFILE_SBC;
    else if (!strcmp(s, "iot"))
        *p = SW_ASSESS_PROFILE_IOT;
    else
        return -1;
    return 0;
}

static int parse_severity(const char *s, sw_assess_severity *v)
{
    static const char *const n[] = {"info", "low", "medium", "high", "critical"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, n[i])) {
            *v = (sw_assess_severity)i;
            return 0;
        }
    return -1;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *e;
    errno = 0;
    unsigned long v = strtoul(s, &e, 10);
    if (errno || e == s || *e || v > max || s[0] == '-')
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return errno;
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    bad |= fclose(f) != 0;
    return bad ? EIO : 0;
}

static const char *res_word(sw_assess_result r)
{
    static const char *const n[] = {"pass", "FAIL", "unknown", "skipped", "error"};
    return (unsigned)r < 5 ? n[r] : "?";
}

static const char *sev_word(sw_assess_severity s)
{
    static const char *const n[] = {"info", "low", "medium", "high", "critical"};
    return (unsigned)s < 5 ? n[s] : "?";
}

enum {
    O_PROFILE = 256, O_HOST, O_Q, O_QT, O_CA, O_TLSNAME, O_CCERT, O_CKEY, O_INVITE, O_KNOWN, O_TEST, O_CRED,
    O_MAXRATE, O_RATE, O_BUDGET, O_TIMEOUT, O_LOGSINK, O_MTLS, O_ONLY, O_JSON, O_HTML, O_FAILON, O_DRY,
    O_LSCERT, O_LSKEY, O_LSCA,
    O_BIND, O_ROBUSTDIR,
};

static int assess_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"profile", required_argument, NULL, O_PROFILE},
        {"host", required_argument, NULL, O_HOST},
        {"questionnaire", required_argument, NULL, O_Q},
        {"questionnaire-template", no_argument, NULL, O_QT},
        {"ca", required_argument, NULL, O_CA},
        {"tls-name", required_argument, NULL, O_TLSNAME},
        {"client-cert", required_argument, NULL, O_CCERT},
        {"client-key", required_argument, NULL, O_CKEY},
        {"invite-to", required_argument, NULL, O_INVITE},
        {"known-user", required_argument, NULL, O_KNOWN},
        {"test-account", required_argument, NULL, O_TEST},
        {"credential-tests", no_argument, NULL, O_CRED},
        {"max-rate", required_argument, NULL, O_MAXRATE},
        {"rate", required_argument, NULL, O_RATE},
        {"packet-budget", required_argument, NULL, O_BUDGET},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"log-sink", required_argument, NULL, O_LOGSINK},
        {"log-sink-cert", required_argument, NULL, O_LSCERT},
        {"log-sink-key", required_argument, NULL, O_LSKEY},
        {"log-sink-ca", required_argument, NULL, O_LSCA},
        {"require-mtls", no_argument, NULL, O_MTLS},
        {"only", required_argument, NULL, O_ONLY},
        {"json", required_argument, NULL, O_JSON},
        {"html", required_argument, NULL, O_HTML},
        {"fail-on", required_argument, NULL, O_FAILON},
        {"dry-run", no_argument, NULL, O_DRY},
        {"bind", required_argument, NULL, O_BIND},
        {"robust-dir", required_argument, NULL, O_ROBUSTDIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sw_assess_options o = {0};
    const char *json_path = NULL, *html_path = NULL;
    sw_assess_severity fail_on = SW_ASSESS_HIGH;
    int template = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_PROFILE:
            if (parse_profile(optarg, &o.profile))
                return cli_usage("assess", "--profile wants sip-service, sbc or iot, not \"%s\"", optarg);
            break;
        case O_HOST: o.host = optarg; break;
        case O_Q: o.questionnaire = optarg; break;
        case O_QT: template = 1; break;
        case O_CA: o.ca = optarg; break;
        case O_TLSNAME: o.tls_name = optarg; break;
        case O_CCERT: o.client_cert = optarg; break;
        case O_CKEY: o.client_key = optarg; break;
        case O_INVITE: o.invite_to = optarg; break;
        case O_KNOWN:
            if (o.nknown_users >= sizeof o.known_users / sizeof o.known_users[0])
                return cli_usage("assess", "at most 8 --known-user");
            if (!*optarg || strpbrk(optarg, " \t\r\n<>@:;\"") || strlen(optarg) > 63)
                return cli_usage("assess", "--known-user wants a plain user part, not \"%s\"", optarg);
            o.known_users[o.nknown_users++] = optarg;
            break;
        case O_TEST:
            if (!strchr(optarg, ':') || optarg[0] == ':' || strpbrk(optarg, " \t\r\n<>@;\""))
                return cli_usage("assess", "--test-account wants USER:PASS");
            o.test_account = optarg;
            break;
        case O_CRED: o.credential_tests = 1; break;
        case O_MAXRATE:
            if (parse_uint(optarg, 500, &o.max_rate) || o.max_rate == 0)
                return cli_usage("assess", "--max-rate wants 1..500 requests/s");
            break;
        case O_RATE:
            if (parse_uint(optarg, 500, &o.rate) || o.rate == 0)
                return cli_usage("assess", "--rate wants 1..10 requests/s (more only with --max-rate)");
            break;
        case O_BUDGET:
            if (parse_uint(optarg, 10000, &o.packet_budget) || o.packet_budget == 0)
                return cli_usage("assess", "--packet-budget wants 1..10000");
            break;
        case O_TIMEOUT:
            if (parse_uint(optarg, 10000, &o.timeout_ms) || o.timeout_ms < 100)
                return cli_usage("assess", "--timeout wants 100..10000 ms");
            break;
        case O_LOGSINK: o.log_sink = optarg; break;
        case O_LSCERT: o.log_sink_cert = optarg; break;
        case O_LSKEY: o.log_sink_key = optarg; break;
        case O_LSCA: o.log_sink_ca = optarg; break;
        case O_MTLS: o.require_mtls = 1; break;
        case O_ONLY: o.only = optarg; break;
        case O_JSON: json_path = optarg; break;
        case O_HTML: html_path = optarg; break;
        case O_FAILON:
            if (parse_severity(optarg, &fail_on))
                return cli_usage("assess", "--fail-on wants critical, high, medium, low or info");
            break;
        case O_DRY: o.dry_run = 1; break;
        case O_BIND: o.bind = optarg; break;
        case O_ROBUSTDIR: o.robust_dir = optarg; break;
        case 'h': fputs(assess_usage, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("assess", argv, longopts);
        }
    }
    if (template) {
        if (optind != argc)
            return cli_usage("assess", "--questionnaire-template takes no target");
        sw_assess_questionnaire_template(o.profile, stdout);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if (optind + 1 != argc)
        return cli_usage("assess", "one TARGET (sip:HOST[:PORT];transport=udp|tcp|tls) expected");
    o.target_uri = argv[optind];
    if (o.rate > 10 && o.max_rate == 0)
        return cli_usage("assess", "--rate above 10/s needs --max-rate");
    char err[512] = "";
    sw_assess_questionnaire *q = NULL;
    if (o.questionnaire) {
        q = sw_assess_questionnaire_load(o.questionnaire, err, sizeof err);
        if (!q) {
            fprintf(stderr, "sipwall assess: %s\n", err);
            return CLI_EXIT_USAGE;
        }
    }
    sw_assess_run *r = sw_assess_run_new(&o, err, sizeof err);
    if (!r) {
        fprintf(stderr, "sipwall assess: %s\n", err);
        sw_assess_questionnaire_free(q);
        return CLI_EXIT_USAGE;
    }
    /* the plan, before the first packet */
    sw_assess_run_plan(r, stdout);
    if (o.dry_run) {
        printf("dry run: nothing sent\n");
        sw_assess_run_free(r);
        sw_assess_questionnaire_free(q);
        return CLI_EXIT_OK;
    }
    signal(SIGPIPE, SIG_IGN); /* a peer closing a TLS stream under a write */
    int rc = sw_assess_run_all(r);
    size_t n;
    const sw_assess_finding *f = sw_assess_findings(r, &n);
    printf("\nresults:\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-14s %-7s %-8s %s\n", f[i].id, res_word(f[i].result),
               f[i].result == SW_ASSESS_FAIL ? sev_word(f[i].severity) : "", f[i].summary);
    sw_assess_stats st;
    sw_assess_run_stats(r, &st);
    printf("sent %llu packets (%llu bytes) in %.1f s\n", (unsigned long long)st.packets_sent,
           (unsigned long long)st.bytes_sent, (double)(st.finished_ns - st.started_ns) / 1e9);
    int exit_code = 0;
    char *json = sw_assess_report_json(r, q, fail_on, &exit_code);
    int status = rc == SW_EIO ? 3 : exit_code;
    if (!json) {
        fprintf(stderr, "sipwall assess: cannot build the report (out of memory)\n");
        status = CLI_EXIT_USAGE;
    } else {
        if (json_path) {
            int e = write_file(json_path, json);
            if (e) {
                fprintf(stderr, "sipwall assess: %s: %s\n", json_path, strerror(e));
                status = CLI_EXIT_USAGE;
            }
        }
        if (html_path) {
            char herr[256] = "";
            char *html = sw_assess_report_html(json, herr, sizeof herr);
            int e = html ? write_file(html_path, html) : EINVAL;
            if (e) {
                fprintf(stderr, "sipwall assess: %s: %s\n", html_path, html ? strerror(e) : herr);
                status = CLI_EXIT_USAGE;
            }
            free(html);
        }
    }
    if (rc == SW_EIO)
        fprintf(stderr, "sipwall assess: the target did not answer\n");
    free(json);
    sw_assess_run_free(r);
    sw_assess_questionnaire_free(q);
    fflush(stdout);
    return status;
}

const cli_command cli_cmd_assess = {
    .name = "assess",
    .run = assess_run,
    .summary = "active security assessment of a SIP service, SBC or device; gap report",
    .usage = assess_usage,
};
