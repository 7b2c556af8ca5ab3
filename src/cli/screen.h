/* The per-message screening hook of `sipwall check`: hands each captured
 * message with its metadata to the engine (include/sipwall/engine.h) and
 * reads back the verdict plus the facts the summary prints. */
#ifndef SIPWALL_CLI_SCREEN_H
#define SIPWALL_CLI_SCREEN_H

#include "sipwall/addr.h"
#include "sipwall/engine.h"
#include "sipwall/event.h"
#include "sipwall/policy.h"
#include "sipwall/sip.h"

/* Where and how a message was seen. */
typedef struct cli_meta {
    uint64_t frame;   /* 1-based frame in its capture file; 0 = not from a capture */
    int64_t ts_ns;
    sw_addr src, dst;
    sw_transport transport;
    sw_sip_framing framing;             /* DATAGRAM for UDP, STREAM for TCP/TLS */
    const sw_sip_error *framing_error;  /* NULL, or the stream framer's error */
    sw_str file;                        /* capture file when several are screened */
    const sw_peer *peer;                /* NULL: by source address; else the partner (or
                                           zone) a TLS certificate decided */
} cli_meta;

/* What the screener decided and learnt.  Views point into the message or
 * into the screener and stay valid until the next cli_screen call. */
typedef struct cli_verdict {
    sw_action action;      /* allow, or what the inline proxy would do */
    uint16_t reject_status; /* with SW_ACTION_REJECT */
    const char *rule;      /* rule that decided; NULL for the default allow */
    sw_event_type type;
    uint8_t blocked;

    /* facts for the summary */
    uint8_t kind;          /* CLI_MSG_REQUEST / _RESPONSE / _UNKNOWN (no readable start line) */
    sw_str method;         /* request method as written */
    uint16_t status;       /* response code (100..699), 0 if unreadable */
    uint8_t malformed;
    const char *malformed_reason; /* static parser text, without the offset */
    unsigned events;       /* events emitted for this message */
} cli_verdict;

enum { CLI_MSG_UNKNOWN = 0, CLI_MSG_REQUEST = 1, CLI_MSG_RESPONSE = 2 };

typedef struct cli_screener cli_screener;

/* A screener applying policy (borrowed) and writing events to sink
 * (borrowed; may be NULL to only count).  lim: SIP parser ceilings (NULL =
 * defaults).  NULL when out of memory. */
cli_screener *cli_screener_new(const sw_sip_limits *lim, const sw_policy *policy,
                               sw_event_sink *sink);
void cli_screener_free(cli_screener *s);
sw_engine *cli_screener_engine(cli_screener *s);

/* Screens one message (data[0..len)) and emits its events.  Returns SW_OK,
 * or the sink's error (events could not be written). */
int cli_screen(cli_screener *s, const char *data, size_t len, const cli_meta *meta,
               cli_verdict *v) SW_NONNULL(1, 4, 5);

#endif
