/* The per-message screening hook: the engine does the work; this file only
 * maps capture metadata in and the verdict and summary facts out. */
#include "screen.h"

#include <stdlib.h>
#include <string.h>

struct cli_screener {
    sw_engine *engine;
};

cli_screener *cli_screener_new(const sw_sip_limits *lim, const sw_policy *policy,
                               sw_event_sink *sink)
{
    cli_screener *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    sw_engine_config cfg = {.policy = policy, .sink = sink, .sip_limits = lim, .passive = 1};
    s->engine = sw_engine_new(&cfg);
    if (!s->engine) {
        free(s);
        return NULL;
    }
    return s;
}

void cli_screener_free(cli_screener *s)
{
    if (!s)
        return;
    sw_engine_free(s->engine);
    free(s);
}

sw_engine *cli_screener_engine(cli_screener *s)
{
    return s->engine;
}

int cli_screen(cli_screener *s, const char *data, size_t len, const cli_meta *meta,
               cli_verdict *v)
{
    sw_engine_msg in = {
        .data = data,
        .len = data ? len : 0,
        .ts_ns = meta->ts_ns,
        .src = meta->src,
        .dst = meta->dst,
        .transport = meta->transport,
        .framing = meta->framing,
        .framing_error = meta->framing_error,
        .frame = meta->frame,
        .file = meta->file,
        .peer = meta->peer,
    };
    sw_verdict ev;
    int r = sw_engine_screen(s->engine, &in, &ev);
    const sw_facts *f = ev.facts;
    memset(v, 0, sizeof *v);
    v->action = ev.action;
    v->reject_status = ev.status;
    v->rule = ev.rule;
    v->type = ev.type;
    v->blocked = ev.blocked;
    v->events = ev.events;
    if (f->is_request) {
        v->kind = CLI_MSG_REQUEST;
        v->method = f->method_name;
    } else if (f->status) {
        v->kind = CLI_MSG_RESPONSE;
        v->status = f->status;
    }
    if (f->malformed) {
        v->malformed = 1;
        v->malformed_reason = f->error.reason ? f->error.reason : sw_strerror(f->error.code);
    }
    return r;
}
